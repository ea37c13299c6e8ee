//! What the calls, the hook and the traits do. Each fallible function checks
//! what can fail before it writes, and moves funds inside a storage layer, so
//! that a failure leaves storage as it was.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{
		defensive,
		dispatch::DispatchResult,
		ensure,
		storage::{with_storage_layer, StorageDoubleMap as _},
		traits::{
			fungible::{Inspect, Mutate},
			tokens::{DepositConsequence, Fortitude, Preservation, Provenance},
			FindAuthor, Get,
		},
		weights::Weight,
	},
	frame_system,
	sp_runtime::{
		traits::{CheckedAdd, Saturating, UniqueSaturatedInto, Zero},
		Perbill,
	},
};

/// Storage reads that [`Config::FindAuthor`] makes to name the author (in
/// the runtime, Aura's authorities and the session's validators). The hook's
/// benchmark cannot trigger them: its block has no pre-runtime digest.
const FIND_AUTHOR_READS: u64 = 2;

/// The most of a block's weight that this pallet's `on_initialize` may
/// take, whatever it has to pay: checked by `integrity_test`.
pub const MAX_HOOK_SHARE: Perbill = Perbill::from_percent(25);

impl<T: Config> Pallet<T> {
	/// The most the community pool may have emitted by block `block`:
	/// `EmissionTotal × min(block − start, duration) / duration`, rounded down.
	pub fn allowed_by(block: BlockNumberFor<T>) -> BalanceOf<T> {
		let start = T::EmissionStart::get();
		let duration = T::EmissionDuration::get();
		let total = T::EmissionTotal::get();
		if block <= start {
			return Zero::zero();
		}
		if duration.is_zero() {
			return total;
		}
		let elapsed = block.saturating_sub(start).min(duration);
		pro_rata(
			total,
			elapsed.unique_saturated_into(),
			duration.unique_saturated_into(),
		)
	}

	/// What the epoch ending at `end` may emit: what the schedule allows by
	/// `end` and was not emitted yet, capped by what the community pool can
	/// pay while staying alive.
	pub fn emission_due(end: BlockNumberFor<T>) -> BalanceOf<T> {
		let due = Self::allowed_by(end).saturating_sub(TotalEmitted::<T>::get());
		let available = T::Currency::reducible_balance(
			&T::CommunityPool::get(),
			Preservation::Preserve,
			Fortitude::Polite,
		);
		due.min(available)
	}

	/// `who`'s penalty score in the current epoch, after decay.
	pub fn penalty_score(who: &T::AccountId) -> u32 {
		let epoch = CurrentEpoch::<T>::get().index;
		PenaltyScores::<T>::get(who)
			.map_or(0, |record| record.score_at(epoch, T::PenaltyDecay::get()))
	}

	/// What `who` keeps of a reward of `amount` given its penalty `score`.
	fn kept_of(amount: BalanceOf<T>, score: u32) -> BalanceOf<T> {
		if score > T::PenaltyThreshold::get() {
			T::PenaltyMultiplier::get().mul_floor(amount)
		} else {
			amount
		}
	}

	/// `who`'s penalty score in `epoch`, removing its record once it has
	/// decayed to nothing.
	fn penalty_score_pruning(who: &T::AccountId, epoch: EpochIndex) -> u32 {
		let Some(record) = PenaltyScores::<T>::get(who) else {
			return 0;
		};
		let score = record.score_at(epoch, T::PenaltyDecay::get());
		if score == 0 {
			PenaltyScores::<T>::remove(who);
		}
		score
	}

	/// Adds `points` to `who`'s earnings in the current epoch.
	pub(crate) fn note_points(who: &T::AccountId, points: PointsOf<T>) {
		CurrentEpoch::<T>::mutate(|epoch| {
			Earnings::<T>::mutate(epoch.index, who, |entry| {
				let entry = entry.get_or_insert_with(|| {
					epoch.totals.earners.saturating_inc();
					Points::default()
				});
				entry.credit.saturating_accrue(points.credit);
				entry.inferences.saturating_accrue(points.inferences);
				entry.blocks.saturating_accrue(points.blocks);
			});
			epoch.totals.add(&points);
		});
	}

	/// The author of the current block, from its pre-runtime digests.
	pub(crate) fn block_author() -> Option<T::AccountId> {
		let digest = frame_system::Pallet::<T>::digest();
		let pre_runtime = digest.logs.iter().filter_map(|item| item.as_pre_runtime());
		T::FindAuthor::find_author(pre_runtime)
	}

	/// The work of `on_initialize` at block `now`: end the epoch if it is
	/// due, count `author`'s block, and pay the next page of earners.
	/// Returns the weight used.
	pub(crate) fn on_block(now: BlockNumberFor<T>, author: Option<T::AccountId>) -> Weight {
		let mut weight = T::WeightInfo::on_initialize_base()
			.saturating_add(T::DbWeight::get().reads(FIND_AUTHOR_READS));
		if Self::close_epoch_if_due(now) {
			weight.saturating_accrue(T::WeightInfo::close_epoch());
		}
		if let Some(author) = author {
			Self::note_points(
				&author,
				Points {
					blocks: 1,
					..Default::default()
				},
			);
		}
		weight.saturating_add(Self::advance_payouts())
	}

	/// The most `on_initialize` can weigh: an epoch ends, a payout starts,
	/// a full page of earners is paid and the payout ends, in one block.
	pub fn max_hook_weight() -> Weight {
		T::WeightInfo::on_initialize_base()
			.saturating_add(T::DbWeight::get().reads(FIND_AUTHOR_READS))
			.saturating_add(T::WeightInfo::close_epoch())
			.saturating_add(T::WeightInfo::start_payout())
			.saturating_add(T::WeightInfo::pay_earners(T::MaxPayoutsPerBlock::get()))
			.saturating_add(T::WeightInfo::finish_payout())
	}

	/// Closes the current epoch at `now` if it has run its length; returns
	/// whether it did.
	pub(crate) fn close_epoch_if_due(now: BlockNumberFor<T>) -> bool {
		let epoch = CurrentEpoch::<T>::get();
		if now < epoch.start.saturating_add(T::EpochLength::get()) {
			return false;
		}
		ClosedEpochs::<T>::insert(
			epoch.index,
			ClosedEpoch {
				start: epoch.start,
				end: now,
				totals: epoch.totals,
			},
		);
		CurrentEpoch::<T>::put(EpochState {
			index: epoch.index.saturating_add(1),
			start: now,
			totals: EpochTotals::default(),
		});
		Self::deposit_event(Event::EpochClosed {
			epoch: epoch.index,
			end: now,
			earners: epoch.totals.earners,
		});
		true
	}

	/// Pays the next page of the payout in progress, starting the next
	/// closed epoch's payout if none is in progress and ending the payout
	/// once every earner is paid. Returns the weight used.
	pub(crate) fn advance_payouts() -> Weight {
		let mut weight = Weight::zero();
		let mut run = match ActivePayout::<T>::get() {
			Some(run) => run,
			None => match Self::start_next_payout() {
				Some(run) => {
					weight.saturating_accrue(T::WeightInfo::start_payout());
					run
				},
				None => return weight,
			},
		};
		let limit = T::MaxPayoutsPerBlock::get();
		let paid = Self::pay_earners(&mut run, limit);
		weight.saturating_accrue(T::WeightInfo::pay_earners(paid));
		// A short page means the epoch's earnings are all drained. A full
		// page that paid the last counted earner is checked with one read.
		let drained =
			paid < limit || (run.remaining == 0 && !Earnings::<T>::contains_prefix(run.epoch));
		if drained {
			if run.remaining != 0 {
				defensive!("rewards: an epoch had fewer earnings than it counted");
			}
			Self::finish_payout(run);
			weight.saturating_accrue(T::WeightInfo::finish_payout());
		} else {
			ActivePayout::<T>::put(run);
		}
		weight
	}

	/// Starts the payout of the next closed epoch, if one is waiting: splits
	/// its emission by class and moves it from the community pool into the
	/// pot.
	pub(crate) fn start_next_payout() -> Option<PayoutRunOf<T>> {
		let epoch = NextEpochToPay::<T>::get();
		if epoch >= CurrentEpoch::<T>::get().index {
			return None;
		}
		let Some(closed) = ClosedEpochs::<T>::take(epoch) else {
			defensive!("rewards: a closed epoch has no record");
			NextEpochToPay::<T>::put(epoch.saturating_add(1));
			return None;
		};
		let shares = [
			T::ContributorShare::get(),
			T::WorkerShare::get(),
			T::ValidatorShare::get(),
		];
		let mut classes =
			ClassAmounts::split(Self::emission_due(closed.end), shares, &closed.totals);
		let mut escrowed = classes.total();
		if !escrowed.is_zero()
			&& T::Currency::transfer(
				&T::CommunityPool::get(),
				&T::PotAccount::get(),
				escrowed,
				Preservation::Preserve,
			)
			.is_err()
		{
			// `emission_due` capped the amount by what the pool can pay.
			defensive!("rewards: the community pool could not pay an epoch's emission");
			classes = ClassAmounts::default();
			escrowed = Zero::zero();
		}
		Self::deposit_event(Event::PayoutStarted {
			epoch,
			classes,
			earners: closed.totals.earners,
		});
		Some(PayoutRun {
			epoch,
			end: closed.end,
			classes,
			totals: closed.totals,
			escrowed,
			paid: Zero::zero(),
			withheld: Zero::zero(),
			remaining: closed.totals.earners,
		})
	}

	/// Credits up to `limit` earners of `run`'s epoch with their shares,
	/// removing their earnings. Returns how many it paid.
	pub(crate) fn pay_earners(run: &mut PayoutRunOf<T>, limit: u32) -> u32 {
		let epoch_now = CurrentEpoch::<T>::get().index;
		let page = usize::try_from(limit).unwrap_or(usize::MAX);
		let mut count = 0u32;
		let mut credited = BalanceOf::<T>::zero();
		for (who, points) in Earnings::<T>::drain_prefix(run.epoch).take(page) {
			count.saturating_inc();
			run.remaining.saturating_dec();
			let share = run.share_of(&points);
			let score = Self::penalty_score_pruning(&who, epoch_now);
			if share.is_zero() {
				continue;
			}
			let kept = Self::kept_of(share, score);
			let withheld = share.saturating_sub(kept);
			run.paid.saturating_accrue(kept);
			run.withheld.saturating_accrue(withheld);
			credited.saturating_accrue(kept);
			if !kept.is_zero() {
				Claimable::<T>::mutate(&who, |claimable| claimable.saturating_accrue(kept));
			}
			Self::deposit_event(Event::EpochRewardCredited {
				epoch: run.epoch,
				who,
				amount: kept,
				withheld,
			});
		}
		if !credited.is_zero() {
			TotalClaimable::<T>::mutate(|total| total.saturating_accrue(credited));
			TotalEmitted::<T>::mutate(|total| total.saturating_accrue(credited));
		}
		count
	}

	/// Ends `run`: what was not paid goes back to the community pool, and
	/// the next closed epoch is next in line.
	pub(crate) fn finish_payout(run: PayoutRunOf<T>) {
		let mut returned = run.in_escrow();
		if !returned.is_zero()
			&& T::Currency::transfer(
				&T::PotAccount::get(),
				&T::CommunityPool::get(),
				returned,
				Preservation::Preserve,
			)
			.is_err()
		{
			// The pot holds the escrow on top of what it owes and its
			// existential deposit; if the pool cannot take it back, it stays
			// in the pot, still backing nothing but not lost.
			defensive!("rewards: the pot could not return a payout's remainder");
			returned = Zero::zero();
		}
		ActivePayout::<T>::kill();
		NextEpochToPay::<T>::put(run.epoch.saturating_add(1));
		Self::deposit_event(Event::PayoutFinished {
			epoch: run.epoch,
			paid: run.paid,
			withheld: run.withheld,
			returned,
		});
	}

	pub(crate) fn do_claim(who: T::AccountId) -> DispatchResult {
		let amount = Claimable::<T>::get(&who);
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		match T::Currency::can_deposit(&who, amount, Provenance::Extant) {
			DepositConsequence::Success => {},
			DepositConsequence::BelowMinimum => return Err(Error::<T>::BelowMinimum.into()),
			other => other.into_result()?,
		}
		let pot = T::PotAccount::get();
		ensure!(
			T::Currency::reducible_balance(&pot, Preservation::Preserve, Fortitude::Polite)
				>= amount,
			Error::<T>::PotUnderfunded
		);
		T::Currency::transfer(&pot, &who, amount, Preservation::Preserve)?;

		Claimable::<T>::remove(&who);
		TotalClaimable::<T>::mutate(|total| total.saturating_reduce(amount));
		Claimed::<T>::mutate(&who, |claimed| claimed.saturating_accrue(amount));
		Self::deposit_event(Event::Claimed { who, amount });
		Ok(())
	}

	pub(crate) fn do_pay_rewards(
		payer: &T::AccountId,
		credits: &[(T::AccountId, BalanceOf<T>)],
	) -> DispatchResult {
		ensure!(
			credits.len() <= usize::try_from(T::MaxCreditsPerCall::get()).unwrap_or(usize::MAX),
			Error::<T>::TooManyCredits
		);
		let pot = T::PotAccount::get();
		ensure!(*payer != pot, Error::<T>::PayerIsPot);
		let epoch = CurrentEpoch::<T>::get().index;
		let decay = T::PenaltyDecay::get();

		let mut splits = Vec::with_capacity(credits.len());
		let mut credited = BalanceOf::<T>::zero();
		let mut withheld = BalanceOf::<T>::zero();
		for (who, amount) in credits {
			if amount.is_zero() {
				continue;
			}
			let score = PenaltyScores::<T>::get(who).map_or(0, |r| r.score_at(epoch, decay));
			let kept = Self::kept_of(*amount, score);
			let cut = amount.saturating_sub(kept);
			credited = credited.checked_add(&kept).ok_or(Error::<T>::Overflow)?;
			withheld = withheld.checked_add(&cut).ok_or(Error::<T>::Overflow)?;
			splits.push((who, kept, cut));
		}
		let total = credited
			.checked_add(&withheld)
			.ok_or(Error::<T>::Overflow)?;
		if total.is_zero() {
			return Ok(());
		}
		TotalClaimable::<T>::get()
			.checked_add(&credited)
			.ok_or(Error::<T>::Overflow)?;
		ensure!(
			T::Currency::reducible_balance(payer, Preservation::Expendable, Fortitude::Polite)
				>= total,
			Error::<T>::InsufficientFunds
		);
		ensure!(
			credited.is_zero()
				|| T::Currency::can_deposit(&pot, credited, Provenance::Extant)
					== DepositConsequence::Success,
			Error::<T>::PotCannotReceive
		);
		let protocol = T::ProtocolPool::get();
		ensure!(
			withheld.is_zero()
				|| T::Currency::can_deposit(&protocol, withheld, Provenance::Extant)
					== DepositConsequence::Success,
			Error::<T>::ProtocolPoolCannotReceive
		);

		with_storage_layer(|| -> DispatchResult {
			if !credited.is_zero() {
				T::Currency::transfer(payer, &pot, credited, Preservation::Expendable)?;
			}
			if !withheld.is_zero() {
				T::Currency::transfer(payer, &protocol, withheld, Preservation::Expendable)?;
			}
			for (who, kept, cut) in splits {
				if !kept.is_zero() {
					Claimable::<T>::mutate(who, |claimable| claimable.saturating_accrue(kept));
				}
				Self::deposit_event(Event::Credited {
					who: who.clone(),
					amount: kept,
					withheld: cut,
				});
			}
			TotalClaimable::<T>::mutate(|total| total.saturating_accrue(credited));
			Self::deposit_event(Event::RewardsPaid {
				payer: payer.clone(),
				credited,
				withheld,
			});
			Ok(())
		})
	}

	pub(crate) fn do_raise_penalty(who: &T::AccountId, points: u32) {
		if points == 0 {
			return;
		}
		let epoch = CurrentEpoch::<T>::get().index;
		let decay = T::PenaltyDecay::get();
		let score = PenaltyScores::<T>::mutate(who, |record| {
			let current = record.map_or(0, |r| r.score_at(epoch, decay));
			let score = current.saturating_add(points);
			*record = Some(PenaltyRecord { score, epoch });
			score
		});
		Self::deposit_event(Event::PenaltyRaised {
			who: who.clone(),
			points,
			score,
		});
	}

	/// Gives the pot its existential deposit from the community pool, if it
	/// has less, so that claims never reap it.
	pub(crate) fn endow_pot() -> DispatchResult {
		let pot = T::PotAccount::get();
		let minimum = T::Currency::minimum_balance();
		let balance = T::Currency::balance(&pot);
		if balance >= minimum {
			return Ok(());
		}
		T::Currency::transfer(
			&T::CommunityPool::get(),
			&pot,
			minimum.saturating_sub(balance),
			Preservation::Preserve,
		)
		.map(|_| ())
	}

	pub(crate) fn summary_of(who: &T::AccountId) -> AccountSummary<BalanceOf<T>> {
		let penalty_score = Self::penalty_score(who);
		let epoch = CurrentEpoch::<T>::get().index;
		AccountSummary {
			claimable: Claimable::<T>::get(who),
			claimed: Claimed::<T>::get(who),
			penalty_score,
			penalised: penalty_score > T::PenaltyThreshold::get(),
			epoch_points: Earnings::<T>::get(epoch, who).unwrap_or_default(),
		}
	}

	pub(crate) fn current_epoch_info() -> EpochInfo<BalanceOf<T>, BlockNumberFor<T>> {
		let epoch = CurrentEpoch::<T>::get();
		EpochInfo {
			index: epoch.index,
			start: epoch.start,
			next_start: epoch.start.saturating_add(T::EpochLength::get()),
			totals: epoch.totals,
			emitted: TotalEmitted::<T>::get(),
			unpaid_epochs: epoch.index.saturating_sub(NextEpochToPay::<T>::get()),
			payout: ActivePayout::<T>::get(),
		}
	}

	pub(crate) fn current_schedule_info() -> ScheduleInfo<BalanceOf<T>, BlockNumberFor<T>> {
		let start = T::EmissionStart::get();
		ScheduleInfo {
			total: T::EmissionTotal::get(),
			start,
			end: start.saturating_add(T::EmissionDuration::get()),
			allowed: Self::allowed_by(frame_system::Pallet::<T>::block_number()),
			emitted: TotalEmitted::<T>::get(),
			in_escrow: ActivePayout::<T>::get().map_or_else(Zero::zero, |run| run.in_escrow()),
		}
	}

	/// Sanity of the configuration, checked by `integrity_test`.
	pub(crate) fn check_constants() {
		assert!(
			!T::EpochLength::get().is_zero(),
			"epochs must be at least a block long"
		);
		assert!(
			!T::EmissionDuration::get().is_zero(),
			"the emission schedule must last at least a block"
		);
		let shares = [
			T::ContributorShare::get(),
			T::WorkerShare::get(),
			T::ValidatorShare::get(),
		];
		let sum = shares.iter().fold(0u64, |sum, share| {
			sum.saturating_add(u64::from(share.deconstruct()))
		});
		assert_eq!(
			sum,
			u64::from(Perbill::one().deconstruct()),
			"the contributor, worker and validator shares must sum to 100 %"
		);
		assert!(
			T::MaxPayoutsPerBlock::get() > 0,
			"payouts must make progress"
		);
		assert!(
			T::MaxCreditsPerCall::get() > 0,
			"a payment must be able to credit someone"
		);
		let pot = T::PotAccount::get();
		assert!(
			pot != T::CommunityPool::get() && pot != T::ProtocolPool::get(),
			"the pot must be an account of its own"
		);
		let max_block = <T as frame_system::Config>::BlockWeights::get().max_block;
		let allowed = Weight::from_parts(
			MAX_HOOK_SHARE.mul_floor(max_block.ref_time()),
			MAX_HOOK_SHARE.mul_floor(max_block.proof_size()),
		);
		assert!(
			Self::max_hook_weight().all_lte(allowed),
			"MaxPayoutsPerBlock pays more earners than a quarter of a block can weigh"
		);
	}
}

impl<T: Config> RewardLedger<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn pay_rewards(
		payer: &T::AccountId,
		credits: &[(T::AccountId, BalanceOf<T>)],
	) -> DispatchResult {
		Self::do_pay_rewards(payer, credits)
	}

	fn note_attribution(who: &T::AccountId, credit: BalanceOf<T>) {
		if credit.is_zero() {
			return;
		}
		Self::note_points(
			who,
			Points {
				credit,
				..Default::default()
			},
		);
	}

	fn note_settled_inferences(worker: &T::AccountId, count: u32) {
		if count == 0 {
			return;
		}
		Self::note_points(
			worker,
			Points {
				inferences: u64::from(count),
				..Default::default()
			},
		);
	}

	fn pay_rewards_weight(credits: u32) -> Weight {
		T::WeightInfo::pay_rewards(credits)
	}

	fn note_weight() -> Weight {
		T::WeightInfo::note_attribution().max(T::WeightInfo::note_settled_inferences())
	}
}

impl<T: Config> PenaltyScore<T::AccountId> for Pallet<T> {
	fn raise_penalty(who: &T::AccountId, points: u32) {
		Self::do_raise_penalty(who, points)
	}

	fn raise_penalty_weight() -> Weight {
		T::WeightInfo::raise_penalty()
	}
}

#[cfg(any(feature = "try-runtime", test))]
impl<T: Config> Pallet<T> {
	/// Checks this pallet's invariants:
	///
	/// - the claimables sum to [`TotalClaimable`], none is zero, and the pot
	///   holds them plus the payout's escrow plus its existential deposit;
	/// - total issuance is at most [`TOTAL_SUPPLY_CAP`];
	/// - what was emitted plus what is in escrow is at most what the
	///   schedule allows by the current block;
	/// - the epochs between [`NextEpochToPay`] and the current one are each
	///   either being paid or waiting in [`ClosedEpochs`], and no other epoch
	///   has earnings;
	/// - each epoch's totals (and the payout's remaining count) match its
	///   earnings;
	/// - no penalty record is from a future epoch.
	pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		Self::check_ledger()?;
		Self::check_epochs()?;
		let current = CurrentEpoch::<T>::get().index;
		ensure!(
			PenaltyScores::<T>::iter_values().all(|record| record.epoch <= current),
			"a penalty record is from a future epoch"
		);
		Ok(())
	}

	fn check_ledger() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		let mut owed = BalanceOf::<T>::zero();
		for (_, claimable) in Claimable::<T>::iter() {
			ensure!(!claimable.is_zero(), "a zero claimable is stored");
			owed = owed.checked_add(&claimable).ok_or("claimables overflow")?;
		}
		ensure!(
			owed == TotalClaimable::<T>::get(),
			"TotalClaimable differs from the sum of claimables"
		);
		let escrow = ActivePayout::<T>::get().map_or_else(Zero::zero, |run| run.in_escrow());
		let backed = owed.checked_add(&escrow).ok_or("ledger overflows")?;
		let pot = T::Currency::balance(&T::PotAccount::get());
		ensure!(backed <= pot, "the pot holds less than the ledger owes");
		ensure!(
			backed.is_zero() || backed.saturating_add(T::Currency::minimum_balance()) <= pot,
			"the pot lost its existential deposit"
		);

		let issuance: u128 = T::Currency::total_issuance().unique_saturated_into();
		ensure!(
			issuance <= TOTAL_SUPPLY_CAP,
			"total issuance is above the supply cap"
		);

		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			TotalEmitted::<T>::get().saturating_add(escrow) <= Self::allowed_by(now),
			"the community pool emitted more than its schedule allows"
		);
		Ok(())
	}

	fn check_epochs() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		let current = CurrentEpoch::<T>::get();
		let next = NextEpochToPay::<T>::get();
		ensure!(next <= current.index, "the next epoch to pay has not ended");
		ensure!(
			Self::sum_earnings(current.index) == current.totals,
			"the current epoch's totals differ from its earnings"
		);

		let mut waiting_from = next;
		if let Some(run) = ActivePayout::<T>::get() {
			ensure!(
				run.epoch == next,
				"the payout is not of the next epoch to pay"
			);
			ensure!(run.epoch < current.index, "the payout is of an open epoch");
			ensure!(
				run.escrowed == run.classes.total(),
				"the escrow differs from the class amounts"
			);
			ensure!(
				run.paid.saturating_add(run.withheld) <= run.escrowed,
				"a payout allotted more than it escrowed"
			);
			let left = Earnings::<T>::iter_key_prefix(run.epoch).count();
			ensure!(
				left == usize::try_from(run.remaining).unwrap_or(usize::MAX),
				"the payout's remaining count differs from its earnings"
			);
			ensure!(
				!ClosedEpochs::<T>::contains_key(run.epoch),
				"the epoch being paid is still waiting"
			);
			waiting_from = next.saturating_add(1);
		}
		let mut waiting = 0u32;
		for (index, closed) in ClosedEpochs::<T>::iter() {
			ensure!(
				(waiting_from..current.index).contains(&index),
				"a closed epoch is out of line"
			);
			ensure!(
				Self::sum_earnings(index) == closed.totals,
				"a closed epoch's totals differ from its earnings"
			);
			ensure!(closed.start < closed.end, "a closed epoch is empty");
			waiting.saturating_inc();
		}
		ensure!(
			waiting == current.index.saturating_sub(waiting_from),
			"a closed epoch is missing"
		);
		ensure!(
			Earnings::<T>::iter_keys().all(|(index, _)| (next..=current.index).contains(&index)),
			"earnings of an epoch already paid"
		);
		Ok(())
	}

	/// The totals of `epoch`'s earnings, counted from the entries.
	fn sum_earnings(epoch: EpochIndex) -> EpochTotalsOf<T> {
		let mut totals = EpochTotals::default();
		for (_, points) in Earnings::<T>::iter_prefix(epoch) {
			totals.add(&points);
			totals.earners.saturating_inc();
		}
		totals
	}
}
