//! The logic behind the calls, the validator election for `pallet-session`,
//! and the [`BondedStake`] interface other pallets use.

use crate::{
	pallet::*, BondedStake, Candidate, PlannedSet, Role, SessionIndex, SlashReason, UnlockChunk,
	ValidatorList, WeightInfo, LOG_TARGET, MAX_PAGE_LEN,
};
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{
		defensive,
		pallet_prelude::*,
		traits::{
			fungible::{self, InspectHold as _, MutateHold as _},
			tokens::Precision,
			Imbalance as _, ValidatorRegistration,
		},
	},
	frame_system,
	pallet_session::SessionManager,
	sp_runtime::{
		traits::{CheckedAdd, CheckedSub, Saturating, Zero},
		Perbill,
	},
};

impl<T: Config> Pallet<T> {
	/// The minimum active bond of `role`.
	pub fn min_bond(role: Role) -> BalanceOf<T> {
		match role {
			Role::Validator => T::MinValidatorBond::get(),
			Role::Worker => T::MinWorkerBond::get(),
			Role::Agent => T::MinAgentBond::get(),
		}
	}

	/// The active bond of `who` in `role`; zero when not bonded.
	pub fn active_bond(who: &T::AccountId, role: Role) -> BalanceOf<T> {
		Bonds::<T>::get(role, who)
			.map(|ledger| ledger.active)
			.unwrap_or_default()
	}

	/// Sum of `who`'s active bonds over all roles.
	pub fn active_across_roles(who: &T::AccountId) -> BalanceOf<T> {
		Role::ALL
			.into_iter()
			.fold(Zero::zero(), |sum: BalanceOf<T>, role| {
				sum.saturating_add(Self::active_bond(who, role))
			})
	}

	/// Sum of all active bonds in all roles.
	pub fn total_active() -> BalanceOf<T> {
		Role::ALL
			.into_iter()
			.fold(Zero::zero(), |sum: BalanceOf<T>, role| {
				sum.saturating_add(TotalActive::<T>::get(role))
			})
	}

	/// Whether `who`'s active bond in `role` is at least the role's minimum.
	pub fn meets_minimum(who: &T::AccountId, role: Role) -> bool {
		let active = Self::active_bond(who, role);
		!active.is_zero() && active >= Self::min_bond(role)
	}

	fn hold_reason() -> T::RuntimeHoldReason {
		HoldReason::Bonded.into()
	}

	pub(crate) fn do_bond(who: &T::AccountId, role: Role, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut ledger = Bonds::<T>::get(role, who).unwrap_or_default();
		let active = ledger
			.active
			.checked_add(&amount)
			.ok_or(Error::<T>::Overflow)?;
		ensure!(active >= Self::min_bond(role), Error::<T>::BondBelowMinimum);
		ensure!(
			T::Currency::can_hold(&Self::hold_reason(), who, amount),
			Error::<T>::InsufficientFunds
		);
		if role == Role::Validator {
			Self::place_candidate(who, active)?;
		}

		T::Currency::hold(&Self::hold_reason(), who, amount)?;
		ledger.active = active;
		Bonds::<T>::insert(role, who, ledger);
		// Bounded by the held OPEN, hence by total issuance: cannot saturate.
		TotalActive::<T>::mutate(role, |total| *total = total.saturating_add(amount));
		Self::deposit_event(Event::Bonded {
			who: who.clone(),
			role,
			amount,
			active,
		});
		Ok(())
	}

	pub(crate) fn do_unbond(
		who: &T::AccountId,
		role: Role,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut ledger = Bonds::<T>::get(role, who).ok_or(Error::<T>::NotBonded)?;
		ensure!(!ledger.active.is_zero(), Error::<T>::NotBonded);
		let remaining = ledger
			.active
			.checked_sub(&amount)
			.ok_or(Error::<T>::InsufficientBond)?;
		ensure!(
			remaining.is_zero() || remaining >= Self::min_bond(role),
			Error::<T>::RemainderBelowMinimum
		);

		let unlock_at =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		match ledger.unlocking.last_mut() {
			// Unbonds in the same block mature together: one chunk, not two.
			Some(last) if last.unlock_at == unlock_at => {
				last.value = last.value.saturating_add(amount)
			},
			_ => ledger
				.unlocking
				.try_push(UnlockChunk {
					value: amount,
					unlock_at,
				})
				.map_err(|_| Error::<T>::TooManyUnlockingChunks)?,
		}
		ledger.active = remaining;
		Bonds::<T>::insert(role, who, ledger);
		TotalActive::<T>::mutate(role, |total| *total = total.saturating_sub(amount));

		if role == Role::Validator {
			if remaining.is_zero() {
				Self::remove_candidate(who);
			} else {
				Self::reposition_candidate(who, remaining);
			}
		}
		Self::deposit_event(Event::Unbonded {
			who: who.clone(),
			role,
			amount,
			unlock_at,
		});
		Ok(())
	}

	pub(crate) fn do_withdraw_unbonded(who: &T::AccountId) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let ledgers: Vec<_> = Role::ALL
			.into_iter()
			.filter_map(|role| Bonds::<T>::get(role, who).map(|ledger| (role, ledger)))
			.collect();
		let amount = ledgers
			.iter()
			.fold(BalanceOf::<T>::zero(), |sum, (_, ledger)| {
				sum.saturating_add(ledger.matured(now))
			});
		ensure!(!amount.is_zero(), Error::<T>::NothingToWithdraw);

		for (role, mut ledger) in ledgers {
			ledger.unlocking.retain(|chunk| chunk.unlock_at > now);
			if ledger.is_empty() {
				Bonds::<T>::remove(role, who);
			} else {
				Bonds::<T>::insert(role, who, ledger);
			}
		}
		T::Currency::release(&Self::hold_reason(), who, amount, Precision::Exact)?;
		Self::deposit_event(Event::Withdrawn {
			who: who.clone(),
			amount,
		});
		Ok(())
	}

	/// Slashes `fraction` of `who`'s stake in `role`: active bond first, then
	/// unbonding chunks oldest first. Returns the OPEN taken from the hold.
	pub(crate) fn do_slash(
		who: &T::AccountId,
		role: Role,
		fraction: Perbill,
		beneficiary: Option<T::AccountId>,
		reason: SlashReason,
	) -> BalanceOf<T> {
		let Some(mut ledger) = Bonds::<T>::get(role, who) else {
			return Zero::zero();
		};
		let target = fraction.mul_floor(ledger.total());
		if target.is_zero() {
			return Zero::zero();
		}

		let from_active = target.min(ledger.active);
		ledger.active = ledger.active.saturating_sub(from_active);
		let mut left = target.saturating_sub(from_active);
		for chunk in ledger.unlocking.iter_mut() {
			let take = left.min(chunk.value);
			chunk.value = chunk.value.saturating_sub(take);
			left = left.saturating_sub(take);
		}
		ledger.unlocking.retain(|chunk| !chunk.value.is_zero());
		let active_after = ledger.active;
		if ledger.is_empty() {
			Bonds::<T>::remove(role, who);
		} else {
			Bonds::<T>::insert(role, who, ledger);
		}
		TotalActive::<T>::mutate(role, |total| *total = total.saturating_sub(from_active));

		if role == Role::Validator {
			if active_after.is_zero() || active_after < Self::min_bond(role) {
				Self::remove_candidate(who);
			} else {
				Self::reposition_candidate(who, active_after);
			}
		}

		let (credit, missing) =
			<T::Currency as fungible::hold::Balanced<_>>::slash(&Self::hold_reason(), who, target);
		if !missing.is_zero() {
			defensive!("held OPEN is less than the ledger says");
		}
		let amount = credit.peek();
		let recipient = Self::pay_out(credit, beneficiary);
		Self::deposit_event(Event::Slashed {
			who: who.clone(),
			role,
			amount,
			recipient: recipient.clone(),
			reason,
		});
		amount
	}

	/// Pays slashed OPEN to `beneficiary`, else to the protocol pool; burns it
	/// only if neither can receive it. Returns who was paid.
	fn pay_out(
		credit: fungible::Credit<T::AccountId, T::Currency>,
		beneficiary: Option<T::AccountId>,
	) -> Option<T::AccountId> {
		let pool = T::ProtocolPool::get();
		let mut credit = credit;
		for dest in beneficiary.into_iter().chain(core::iter::once(pool)) {
			match <T::Currency as fungible::Balanced<_>>::resolve(&dest, credit) {
				Ok(()) => return Some(dest),
				Err(back) => credit = back,
			}
		}
		log::warn!(target: LOG_TARGET, "slashed OPEN could not be paid out and was burned");
		drop(credit);
		None
	}

	/// Inserts `who` with `bond` into the candidate list, or moves it to its
	/// new place. A full list takes a newcomer only above its smallest bond,
	/// whose holder is pushed out.
	fn place_candidate(who: &T::AccountId, bond: BalanceOf<T>) -> DispatchResult {
		let evicted = Candidates::<T>::try_mutate(|list| -> Result<_, DispatchError> {
			let was_candidate = list.iter().any(|c| c.who == *who);
			list.retain(|c| c.who != *who);
			let at = list.partition_point(|c| c.bond >= bond);
			let evicted = list
				.force_insert_keep_left(
					at,
					Candidate {
						who: who.clone(),
						bond,
					},
				)
				.map_err(|_| Error::<T>::CandidateListFull)?;
			Ok((was_candidate, evicted))
		})?;
		let (was_candidate, evicted) = evicted;
		if !was_candidate {
			Self::deposit_event(Event::CandidateAdded {
				who: who.clone(),
				bond,
			});
		}
		if let Some(out) = evicted {
			Self::deposit_event(Event::CandidateRemoved { who: out.who });
		}
		Ok(())
	}

	/// Moves an existing candidate to the place of its new `bond`; accounts
	/// not in the list stay out.
	fn reposition_candidate(who: &T::AccountId, bond: BalanceOf<T>) {
		Candidates::<T>::mutate(|list| {
			let before = list.len();
			list.retain(|c| c.who != *who);
			if list.len() == before {
				return;
			}
			let at = list.partition_point(|c| c.bond >= bond);
			// Just removed one, so there is room: this cannot fail.
			if list
				.try_insert(
					at,
					Candidate {
						who: who.clone(),
						bond,
					},
				)
				.is_err()
			{
				defensive!("a candidate list with a free slot refused an insert");
			}
		});
	}

	fn remove_candidate(who: &T::AccountId) {
		let removed = Candidates::<T>::mutate(|list| {
			let before = list.len();
			list.retain(|c| c.who != *who);
			list.len() != before
		});
		if removed {
			Self::deposit_event(Event::CandidateRemoved { who: who.clone() });
		}
	}

	/// The top `MaxValidators` candidates with session keys, or `None` when
	/// fewer than `MinValidators` qualify.
	fn elect(session: SessionIndex) -> Option<ValidatorList<T>> {
		let max = usize::try_from(T::MaxValidators::get()).unwrap_or(usize::MAX);
		let elected: Vec<T::AccountId> = Candidates::<T>::get()
			.into_iter()
			.filter(|c| T::ValidatorRegistration::is_registered(&c.who))
			.map(|c| c.who)
			.take(max)
			.collect();
		let qualified = u32::try_from(elected.len()).unwrap_or(u32::MAX);
		if qualified < T::MinValidators::get() {
			Self::deposit_event(Event::ValidatorSetKept { session, qualified });
			return None;
		}
		let validators = ValidatorList::<T>::truncate_from(elected);
		Self::deposit_event(Event::ValidatorsElected {
			session,
			validators: validators.clone(),
		});
		Some(validators)
	}

	/// Active accounts of `role` after `start_after`, at most `limit`.
	pub(crate) fn list_active(
		role: Role,
		start_after: Option<T::AccountId>,
		limit: u32,
	) -> Vec<(T::AccountId, BalanceOf<T>)> {
		let limit = usize::try_from(limit.min(MAX_PAGE_LEN)).unwrap_or_default();
		let min = Self::min_bond(role);
		let iter = match start_after {
			Some(after) => {
				Bonds::<T>::iter_prefix_from(role, Bonds::<T>::hashed_key_for(role, after))
			},
			None => Bonds::<T>::iter_prefix(role),
		};
		iter.filter(|(_, ledger)| !ledger.active.is_zero() && ledger.active >= min)
			.map(|(who, ledger)| (who, ledger.active))
			.take(limit)
			.collect()
	}

	/// Checks the pallet's invariants; see the module docs.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use alloc::collections::BTreeMap;

		let mut held_per_account: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut active_per_role: BTreeMap<Role, BalanceOf<T>> = BTreeMap::new();
		for (role, who, ledger) in Bonds::<T>::iter() {
			ensure!(!ledger.is_empty(), "an empty ledger is kept in storage");
			ensure!(
				ledger.unlocking.iter().all(|chunk| !chunk.value.is_zero()),
				"an unbonding chunk is empty"
			);
			ensure!(
				ledger.unlocking.windows(2).all(|pair| match pair {
					[a, b] => a.unlock_at <= b.unlock_at,
					_ => true,
				}),
				"unbonding chunks are out of order"
			);
			let held = held_per_account.entry(who).or_default();
			*held = held.saturating_add(ledger.total());
			let active = active_per_role.entry(role).or_default();
			*active = active.saturating_add(ledger.active);
		}
		for (who, expected) in held_per_account {
			ensure!(
				T::Currency::balance_on_hold(&Self::hold_reason(), &who) == expected,
				"held OPEN differs from active plus unbonding"
			);
		}
		for role in Role::ALL {
			ensure!(
				TotalActive::<T>::get(role)
					== active_per_role.get(&role).copied().unwrap_or_default(),
				"TotalActive differs from the sum of active bonds"
			);
		}

		let candidates = Candidates::<T>::get();
		ensure!(
			candidates.windows(2).all(|pair| match pair {
				[a, b] => a.bond >= b.bond,
				_ => true,
			}),
			"candidates are not sorted by bond"
		);
		let mut seen = alloc::collections::BTreeSet::new();
		for candidate in candidates.iter() {
			ensure!(
				seen.insert(candidate.who.clone()),
				"a candidate is listed twice"
			);
			ensure!(
				Self::active_bond(&candidate.who, Role::Validator) == candidate.bond,
				"a candidate's bond differs from its ledger"
			);
			ensure!(
				candidate.bond >= T::MinValidatorBond::get(),
				"a candidate's bond is below the minimum"
			);
		}
		Ok(())
	}
}

impl<T: Config> SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		match Self::elect(new_index) {
			Some(validators) => {
				PlannedValidators::<T>::put(PlannedSet {
					session: new_index,
					validators: validators.clone(),
				});
				Some(validators.into_inner())
			},
			None => {
				PlannedValidators::<T>::kill();
				None
			},
		}
	}

	fn new_session_genesis(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		// Session 0 starts at once, without a `start_session` for the plan.
		if new_index == 0 {
			let validators = Self::elect(new_index)?;
			CurrentValidators::<T>::put(validators.clone());
			return Some(validators.into_inner());
		}
		Self::new_session(new_index)
	}

	fn end_session(_end_index: SessionIndex) {}

	fn start_session(start_index: SessionIndex) {
		let Some(planned) = PlannedValidators::<T>::get() else {
			return;
		};
		if planned.session <= start_index {
			PlannedValidators::<T>::kill();
		}
		if planned.session == start_index {
			CurrentValidators::<T>::put(planned.validators);
		}
	}
}

impl<T: Config> BondedStake<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn bonded(who: &T::AccountId, role: Role) -> BalanceOf<T> {
		Self::active_bond(who, role)
	}

	fn total_bonded() -> BalanceOf<T> {
		Self::total_active()
	}

	fn voting_weight(who: &T::AccountId) -> BalanceOf<T> {
		Self::active_across_roles(who)
	}

	fn is_active(who: &T::AccountId, role: Role) -> bool {
		Self::meets_minimum(who, role)
	}

	fn slash(
		who: &T::AccountId,
		role: Role,
		fraction: Perbill,
		beneficiary: Option<T::AccountId>,
		reason: SlashReason,
	) -> BalanceOf<T> {
		Self::do_slash(who, role, fraction, beneficiary, reason)
	}

	fn slash_weight() -> Weight {
		T::WeightInfo::slash()
	}
}
