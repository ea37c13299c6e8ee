//! # OpenLedger Staking
//!
//! OPEN bonds for validators, workers and agents: unbonding, slashing, and
//! the validator set of each session.
//!
//! ## Overview
//!
//! An account bonds OPEN in a [`Role`]: `Validator`, `Worker` or `Agent`.
//! Bonded OPEN stays in the account, on hold under [`HoldReason::Bonded`];
//! each role keeps its own [`RoleLedger`] of an active bond and a bounded
//! queue of unbonding chunks, so that a worker fault never touches the same
//! account's validator bond. Every role has a minimum active bond.
//!
//! - **Unbonding.** `unbond` moves OPEN from the active bond into a chunk
//!   that matures [`Config::UnbondingPeriod`] blocks later; until then it
//!   stays held and slashable. `withdraw_unbonded` releases matured chunks.
//!   A partial unbond may not leave the active bond below the minimum: one
//!   leaves a role by unbonding everything.
//! - **Validators.** Validator bonds are kept in a candidate list sorted by
//!   bond and bounded by [`Config::MaxValidatorCandidates`]. When the list is
//!   full, a larger bond pushes out the smallest candidate. At each session
//!   rotation this pallet, as `pallet-session`'s `SessionManager`, elects the
//!   top [`Config::MaxValidators`] candidates whose session keys are
//!   registered; those become the Aura and GRANDPA authorities one session
//!   later. If fewer than [`Config::MinValidators`] qualify, the current set
//!   is kept, so the chain is never left without authorities.
//! - **Slashing.** Other pallets slash through [`BondedStake::slash`]: a
//!   fraction of the stake in one role, from the active bond first and then
//!   from the unbonding chunks, oldest first. The OPEN goes to a named
//!   beneficiary (e.g. the winner of a challenge) or to
//!   [`Config::ProtocolPool`]; it is never minted or lost, and only burned
//!   when neither can receive it. Governance slashes agents with
//!   `slash_agent`.
//! - **Voting weight.** An account's active bonds across all roles are its
//!   governance voting weight ([`BondedStake::voting_weight`]).
//!
//! Invariants, checked by `try_state`: for every account, the OPEN held
//! under [`HoldReason::Bonded`] equals the sum over its roles of active plus
//! unbonding; [`TotalActive`] is the sum of active bonds per role; the
//! candidate list is sorted, duplicate-free and mirrors the ledgers.
//!
//! ## Dispatchable functions
//!
//! ### `bond(role, amount)`
//!
//! Bonds `amount` more OPEN in `role` (first bond or top-up).
//!
//! #### Dispatch Origin
//! Signed by the bonding account.
//!
//! #### Errors
//! [`Error::ZeroAmount`], [`Error::BondBelowMinimum`], [`Error::InsufficientFunds`],
//! [`Error::CandidateListFull`], [`Error::Overflow`].
//!
//! #### Events
//! [`Event::Bonded`]; for validators also [`Event::CandidateAdded`], and
//! [`Event::CandidateRemoved`] for a candidate pushed out of a full list.
//!
//! ### `unbond(role, amount)`
//!
//! Starts unbonding `amount` of the active bond in `role`.
//!
//! #### Dispatch Origin
//! Signed by the bonded account.
//!
//! #### Errors
//! [`Error::ZeroAmount`], [`Error::NotBonded`], [`Error::InsufficientBond`],
//! [`Error::RemainderBelowMinimum`], [`Error::TooManyUnlockingChunks`].
//!
//! #### Events
//! [`Event::Unbonded`]; [`Event::CandidateRemoved`] when a validator unbonds fully.
//!
//! ### `withdraw_unbonded()`
//!
//! Releases every matured chunk, in all roles, back to the free balance.
//!
//! #### Dispatch Origin
//! Signed by the bonded account.
//!
//! #### Errors
//! [`Error::NothingToWithdraw`].
//!
//! #### Events
//! [`Event::Withdrawn`].
//!
//! ### `slash_agent(who, fraction, reason)`
//!
//! Slashes `fraction` of `who`'s agent stake to the protocol pool.
//!
//! #### Dispatch Origin
//! [`Config::GovernanceOrigin`].
//!
//! #### Errors
//! [`Error::NothingToSlash`].
//!
//! #### Events
//! [`Event::Slashed`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use openledger_primitives::staking::{BondedStake, Role, SlashReason};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod impls;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::openledger-staking";

/// The most items one page of a listing view function returns.
pub const MAX_PAGE_LEN: u32 = 256;

// FRAME's pallet macros expand to `expect` on invariants the runtime
// guarantees (every pallet has a name and index); the allowance is for that
// generated code. This module holds only declarations and calls that
// delegate: the logic lives in `impls.rs`, where the workspace lints apply in
// full.
#[allow(clippy::expect_used)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use polkadot_sdk::{
		frame_support::{
			pallet_prelude::*,
			traits::{fungible, ValidatorRegistration},
		},
		frame_system::{self, pallet_prelude::*},
		sp_runtime::Perbill,
	};

	/// The balance type of [`Config::Currency`].
	pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
		<T as frame_system::Config>::AccountId,
	>>::Balance;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The OPEN token. Bonds are holds on it; slashes move held OPEN out.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId>
			+ fungible::Balanced<Self::AccountId>;

		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;

		/// Smallest active validator bond.
		#[pallet::constant]
		type MinValidatorBond: Get<BalanceOf<Self>>;

		/// Smallest active worker bond.
		#[pallet::constant]
		type MinWorkerBond: Get<BalanceOf<Self>>;

		/// Smallest active agent bond.
		#[pallet::constant]
		type MinAgentBond: Get<BalanceOf<Self>>;

		/// Blocks between `unbond` and the block from which the OPEN can be
		/// withdrawn. Must be longer than two sessions, so that a validator
		/// cannot leave with its bond while it still validates.
		#[pallet::constant]
		type UnbondingPeriod: Get<BlockNumberFor<Self>>;

		/// Most unbonding chunks per account and role.
		#[pallet::constant]
		type MaxUnlockingChunks: Get<u32>;

		/// Most validators in a session.
		#[pallet::constant]
		type MaxValidators: Get<u32>;

		/// Fewest validators a new set may have; with fewer qualified
		/// candidates the current set stays.
		#[pallet::constant]
		type MinValidators: Get<u32>;

		/// Most accounts in the validator candidate list.
		#[pallet::constant]
		type MaxValidatorCandidates: Get<u32>;

		/// Tells whether an account has session keys registered
		/// (`pallet-session` in a runtime).
		type ValidatorRegistration: ValidatorRegistration<Self::AccountId>;

		/// Receives slashed OPEN that has no named beneficiary.
		type ProtocolPool: Get<Self::AccountId>;

		/// May slash agents with `slash_agent`.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds OPEN.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Bonded in some role, active or unbonding. One reason for all
		/// roles: the per-role split lives in [`Bonds`].
		#[codec(index = 0)]
		Bonded,
	}

	/// Stake per role and account. Keyed by role first so the accounts of
	/// one role can be listed; `Blake2_128Concat` on the account because
	/// anyone can create entries, `Twox64Concat` on the role because it has
	/// three values no one can grind.
	#[pallet::storage]
	pub type Bonds<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		Role,
		Blake2_128Concat,
		T::AccountId,
		RoleLedger<T>,
		OptionQuery,
	>;

	/// Sum of the active bonds per role.
	#[pallet::storage]
	pub type TotalActive<T: Config> = StorageMap<_, Twox64Concat, Role, BalanceOf<T>, ValueQuery>;

	/// Validator candidates, highest bond first.
	#[pallet::storage]
	pub type Candidates<T: Config> = StorageValue<_, CandidateList<T>, ValueQuery>;

	/// The validators of the current session, as elected by this pallet.
	/// Empty while the genesis set of `pallet-session` is still in force.
	#[pallet::storage]
	pub type CurrentValidators<T: Config> = StorageValue<_, ValidatorList<T>, ValueQuery>;

	/// The set elected for the next session, if a new one was elected.
	#[pallet::storage]
	pub type PlannedValidators<T: Config> = StorageValue<_, PlannedSet<T>, OptionQuery>;

	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Validator bonds at genesis: `(account, amount)`. With their
		/// session keys in `pallet-session`'s genesis, they are elected for
		/// the first sessions.
		pub validators: Vec<(T::AccountId, BalanceOf<T>)>,
		/// Worker bonds at genesis.
		pub workers: Vec<(T::AccountId, BalanceOf<T>)>,
		/// Agent bonds at genesis.
		pub agents: Vec<(T::AccountId, BalanceOf<T>)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		// A genesis that cannot be built must abort the chain spec build.
		#[allow(clippy::panic)]
		fn build(&self) {
			let roles = [
				(Role::Validator, &self.validators),
				(Role::Worker, &self.workers),
				(Role::Agent, &self.agents),
			];
			for (role, bonds) in roles {
				for (who, amount) in bonds.iter() {
					if let Err(e) = Pallet::<T>::do_bond(who, role, *amount) {
						panic!("genesis {role:?} bond of {who:?} failed: {e:?}");
					}
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` bonded `amount` more in `role`; its active bond is now `active`.
		Bonded {
			who: T::AccountId,
			role: Role,
			amount: BalanceOf<T>,
			active: BalanceOf<T>,
		},
		/// `who` started unbonding `amount` in `role`, withdrawable from `unlock_at`.
		Unbonded {
			who: T::AccountId,
			role: Role,
			amount: BalanceOf<T>,
			unlock_at: BlockNumberFor<T>,
		},
		/// Matured chunks worth `amount` were released to `who`.
		Withdrawn {
			who: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// `amount` of `who`'s stake in `role` was slashed and paid to
		/// `recipient`; `None` means no one could receive it and it was burned.
		Slashed {
			who: T::AccountId,
			role: Role,
			amount: BalanceOf<T>,
			recipient: Option<T::AccountId>,
			reason: SlashReason,
		},
		/// `who` entered the validator candidate list with `bond`.
		CandidateAdded {
			who: T::AccountId,
			bond: BalanceOf<T>,
		},
		/// `who` left the validator candidate list: unbonded, slashed below
		/// the minimum, or pushed out by a larger bond.
		CandidateRemoved { who: T::AccountId },
		/// `validators` were elected for session `session`.
		ValidatorsElected {
			session: SessionIndex,
			validators: ValidatorList<T>,
		},
		/// Only `qualified` candidates had bonds and session keys, fewer than
		/// `MinValidators`: session `session` keeps the current set.
		ValidatorSetKept {
			session: SessionIndex,
			qualified: u32,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The amount is zero; bonding or unbonding nothing is a mistake.
		ZeroAmount,
		/// The active bond after this bond would still be below the role's minimum.
		BondBelowMinimum,
		/// The free balance cannot cover the bond while keeping the account alive.
		InsufficientFunds,
		/// The candidate list is full and this validator bond is not above the smallest
		/// candidate's.
		CandidateListFull,
		/// The bond would overflow the balance type.
		Overflow,
		/// The account has no active bond in this role.
		NotBonded,
		/// The amount exceeds the active bond in this role.
		InsufficientBond,
		/// The active bond left would be below the role's minimum; unbond everything to leave
		/// the role.
		RemainderBelowMinimum,
		/// The unbonding queue of this role is full; withdraw matured chunks or wait.
		TooManyUnlockingChunks,
		/// No unbonding chunk has matured yet.
		NothingToWithdraw,
		/// The account has no stake in this role, or the fraction of it rounds to zero.
		NothingToSlash,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			for role in Role::ALL {
				assert!(
					!Self::min_bond(role).is_zero(),
					"the minimum {role:?} bond must be positive"
				);
			}
			assert!(
				T::MinValidators::get() >= 1,
				"MinValidators must be at least 1"
			);
			assert!(
				T::MaxValidators::get() >= T::MinValidators::get(),
				"MaxValidators must be at least MinValidators"
			);
			assert!(
				T::MaxValidatorCandidates::get() >= T::MaxValidators::get(),
				"the candidate list must be able to hold MaxValidators"
			);
			assert!(
				T::MaxUnlockingChunks::get() >= 1,
				"MaxUnlockingChunks must be at least 1"
			);
			assert!(
				!T::UnbondingPeriod::get().is_zero(),
				"UnbondingPeriod must be positive"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Bond `amount` more OPEN in `role`. See the [module docs](crate).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::bond())]
		pub fn bond(
			origin: OriginFor<T>,
			role: Role,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond(&who, role, amount)
		}

		/// Start unbonding `amount` of the active bond in `role`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(
			origin: OriginFor<T>,
			role: Role,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unbond(&who, role, amount)
		}

		/// Release every matured unbonding chunk of the caller, in all roles.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_unbonded(&who)
		}

		/// Slash `fraction` of `who`'s agent stake to the protocol pool.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::slash_agent())]
		pub fn slash_agent(
			origin: OriginFor<T>,
			who: T::AccountId,
			fraction: Perbill,
			reason: SlashReason,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			let slashed = Self::do_slash(&who, Role::Agent, fraction, None, reason);
			ensure!(!slashed.is_zero(), Error::<T>::NothingToSlash);
			Ok(())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// The active bond of `who` in `role`.
		pub fn bond_of(who: T::AccountId, role: Role) -> BalanceOf<T> {
			Self::active_bond(&who, role)
		}

		/// The unbonding chunks of `who` in every role, oldest first per role.
		pub fn unlocking_of(who: T::AccountId) -> Vec<(Role, UnlockChunk<T>)> {
			Role::ALL
				.into_iter()
				.filter_map(|role| Bonds::<T>::get(role, &who).map(|ledger| (role, ledger)))
				.flat_map(|(role, ledger)| {
					ledger.unlocking.into_iter().map(move |chunk| (role, chunk))
				})
				.collect()
		}

		/// Sum of all active bonds in all roles.
		pub fn total_bonded() -> BalanceOf<T> {
			Self::total_active()
		}

		/// Governance voting weight of `who`: its active bonds across roles.
		pub fn voting_weight_of(who: T::AccountId) -> BalanceOf<T> {
			Self::active_across_roles(&who)
		}

		/// Workers whose bond meets the minimum, with their bonds, in storage
		/// order: up to `limit` (at most [`MAX_PAGE_LEN`]) after `start_after`.
		pub fn active_workers(
			start_after: Option<T::AccountId>,
			limit: u32,
		) -> Vec<(T::AccountId, BalanceOf<T>)> {
			Self::list_active(Role::Worker, start_after, limit)
		}

		/// Validator candidates with their bonds, highest first.
		pub fn validator_candidates() -> Vec<(T::AccountId, BalanceOf<T>)> {
			Candidates::<T>::get()
				.into_iter()
				.map(|c| (c.who, c.bond))
				.collect()
		}

		/// Validators of the current session elected by this pallet; empty
		/// while `pallet-session`'s genesis set is in force.
		pub fn current_validators() -> Vec<T::AccountId> {
			CurrentValidators::<T>::get().into_inner()
		}

		/// Validators of the next session: the newly elected set, or the
		/// current one when no new set was elected.
		pub fn next_validators() -> Vec<T::AccountId> {
			PlannedValidators::<T>::get()
				.map(|planned| planned.validators)
				.unwrap_or_else(CurrentValidators::<T>::get)
				.into_inner()
		}
	}
}
