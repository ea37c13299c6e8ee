//! # Rewards
//!
//! The OPEN reward ledger: credits and claims, epoch emissions from the
//! community pool, and penalty scores.
//!
//! ## Overview
//!
//! ### A pull ledger
//!
//! Other pallets pay accounts through [`RewardLedger::pay_rewards`]: the
//! payer's OPEN moves into the rewards pot ([`Config::PotAccount`]) and each
//! account's [`Claimable`] balance grows by its credit. An account takes its
//! OPEN out with [`Pallet::claim`]. The pot backs the ledger one for one:
//! the sum of claimables ([`TotalClaimable`]) never exceeds the pot's
//! balance. The pot also keeps the existential deposit of its own, moved in
//! from the community pool at genesis and owed to no one, so that paying out
//! the last claim never reaps it.
//!
//! ### Epoch emissions
//!
//! Blocks are grouped into epochs of [`Config::EpochLength`]. During an
//! epoch this pallet counts what each account earns:
//!
//! - data contributors: attribution credit, told by
//!   [`RewardLedger::note_attribution`];
//! - workers: settled inferences, told by
//!   [`RewardLedger::note_settled_inferences`];
//! - validators: blocks authored, read from each block's digest through
//!   [`Config::FindAuthor`].
//!
//! When an epoch ends, its emission is what the community pool's schedule
//! allows by the epoch's end and has not been emitted yet, capped by what the
//! pool can pay while staying alive. The schedule is linear: by block `b` at
//! most `EmissionTotal × min(b − EmissionStart, EmissionDuration) /
//! EmissionDuration` may have been emitted ([`Pallet::allowed_by`]). The
//! emission is split between the three classes by [`Config::ContributorShare`],
//! [`Config::WorkerShare`] and [`Config::ValidatorShare`], and within a class
//! pro rata to what each account earned, in integer math rounding down.
//!
//! Payouts are paginated: each block pays at most
//! [`Config::MaxPayoutsPerBlock`] earners, however many earned in the epoch.
//! The work runs in `on_initialize` rather than `on_idle`, so that full blocks
//! cannot starve it; `integrity_test` checks that its worst case (an epoch
//! ends, a payout starts, a full page is paid and the payout ends, all in one
//! block) stays within [`MAX_HOOK_SHARE`] of a block's weight.
//!
//! A payout starts by moving the epoch's allotment from the community pool
//! into the pot (escrow), credits earners page by page, and ends by moving
//! what was not paid back to the pool. So the pool never loses anything to
//! rounding, to penalties or to a class in which nobody earned: it is not
//! counted as emitted and the schedule lets it out again with a later epoch.
//! Epochs are paid in order, one at a time; an epoch that ends while an
//! earlier one is still being paid waits, with its earnings, in
//! [`ClosedEpochs`].
//!
//! ### Penalty scores
//!
//! Rejected contributions and lost challenges raise an account's score
//! through [`PenaltyScore::raise_penalty`]. Each epoch boundary keeps
//! [`Config::PenaltyDecay`] of the score (applied when the score is next read
//! or raised, not by visiting every account). While the score is above
//! [`Config::PenaltyThreshold`], the account keeps only
//! [`Config::PenaltyMultiplier`] of new rewards: of fee credits, the rest goes
//! from the payer straight to [`Config::ProtocolPool`]; of emissions, the rest
//! stays in the community pool.
//!
//! ### Read access
//!
//! View functions: [`Pallet::account_summary`], [`Pallet::epoch_info`],
//! [`Pallet::schedule_info`].
//!
//! ### Invariants
//!
//! Checked by `try_state` (`Pallet::do_try_state`): the sum of claimables
//! equals [`TotalClaimable`], and the pot holds it plus the escrow of the
//! payout in progress plus its existential deposit; total issuance is at
//! most [`TOTAL_SUPPLY_CAP`]; what was emitted, plus what is in escrow, is at
//! most what the schedule allows by the current block; epoch totals match
//! their earnings; the payout in progress and the epochs waiting are
//! consistent.
//!
//! ## Dispatchables
//!
//! ### `claim()`
//!
//! Pays the caller's whole claimable balance from the pot to the caller.
//!
//! #### Dispatch Origin
//! Signed by the account claiming.
//!
//! #### Errors
//! [`Error::NothingToClaim`], [`Error::BelowMinimum`],
//! [`Error::PotUnderfunded`].
//!
//! #### Events
//! [`Event::Claimed`].
//!
//! ## Trait implementations
//!
//! ### [`RewardLedger::pay_rewards`]
//!
//! All or nothing. A credit to a penalised account is split: the kept part
//! goes to the pot and the ledger, the withheld part to the protocol pool.
//!
//! Errors: [`Error::TooManyCredits`], [`Error::PayerIsPot`],
//! [`Error::Overflow`], [`Error::InsufficientFunds`],
//! [`Error::PotCannotReceive`], [`Error::ProtocolPoolCannotReceive`].
//!
//! Events: [`Event::Credited`] for each credit, then [`Event::RewardsPaid`].
//!
//! ### [`RewardLedger::note_attribution`], [`RewardLedger::note_settled_inferences`]
//!
//! Count points in the current epoch; they cannot fail.
//!
//! ### [`PenaltyScore::raise_penalty`]
//!
//! Events: [`Event::PenaltyRaised`].
//!
//! ### Hooks
//!
//! `on_initialize` ends the epoch when it is due ([`Event::EpochClosed`]),
//! counts the block's author, and pays the next page of earners
//! ([`Event::PayoutStarted`], [`Event::EpochRewardCredited`],
//! [`Event::PayoutFinished`]).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use impls::MAX_HOOK_SHARE;
pub use openledger_primitives::{token::TOTAL_SUPPLY_CAP, PenaltyScore, RewardLedger};
pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod impls;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use polkadot_sdk::{frame_support::traits::fungible, frame_system::pallet_prelude::BlockNumberFor};

/// Log target of this pallet.
pub const LOG_TARGET: &str = "runtime::rewards";

/// Amounts of OPEN.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
>>::Balance;
/// Points as stored.
pub type PointsOf<T> = Points<BalanceOf<T>>;
/// Epoch totals as stored.
pub type EpochTotalsOf<T> = EpochTotals<BalanceOf<T>>;
/// The current epoch as stored.
pub type EpochStateOf<T> = EpochState<BalanceOf<T>, BlockNumberFor<T>>;
/// A closed epoch as stored.
pub type ClosedEpochOf<T> = ClosedEpoch<BalanceOf<T>, BlockNumberFor<T>>;
/// A payout as stored.
pub type PayoutRunOf<T> = PayoutRun<BalanceOf<T>, BlockNumberFor<T>>;

// FRAME's pallet macros expand to `expect` on invariants the runtime
// guarantees (every pallet has a name and index); the allowance is for that
// generated code. This module holds only declarations and calls that
// delegate: the logic lives in `impls.rs`, where the workspace lints apply in
// full.
#[allow(clippy::expect_used)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use polkadot_sdk::{
		frame_support::{pallet_prelude::*, traits::FindAuthor},
		frame_system::pallet_prelude::*,
		sp_runtime::Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency rewards are paid in (OPEN).
		type Currency: fungible::Mutate<Self::AccountId>;

		/// Holds every claimable OPEN, plus the escrow of the payout in
		/// progress, plus its own existential deposit.
		#[pallet::constant]
		type PotAccount: Get<Self::AccountId>;

		/// The community rewards pool that emissions come from.
		#[pallet::constant]
		type CommunityPool: Get<Self::AccountId>;

		/// Receives the part of a fee credit withheld from a penalised account.
		#[pallet::constant]
		type ProtocolPool: Get<Self::AccountId>;

		/// What the community pool emits over the whole schedule.
		#[pallet::constant]
		type EmissionTotal: Get<BalanceOf<Self>>;

		/// The block at which the schedule starts; nothing is emitted before.
		#[pallet::constant]
		type EmissionStart: Get<BlockNumberFor<Self>>;

		/// Blocks over which `EmissionTotal` is released, linearly.
		#[pallet::constant]
		type EmissionDuration: Get<BlockNumberFor<Self>>;

		/// Blocks per epoch.
		#[pallet::constant]
		type EpochLength: Get<BlockNumberFor<Self>>;

		/// Share of each epoch's emission for data contributors, by attribution
		/// credit. The three shares sum to 100 %.
		#[pallet::constant]
		type ContributorShare: Get<Perbill>;

		/// Share of each epoch's emission for workers, by settled inferences.
		#[pallet::constant]
		type WorkerShare: Get<Perbill>;

		/// Share of each epoch's emission for validators, by authored blocks.
		#[pallet::constant]
		type ValidatorShare: Get<Perbill>;

		/// Above this penalty score an account's new rewards are reduced.
		#[pallet::constant]
		type PenaltyThreshold: Get<u32>;

		/// Share of new rewards that an account above the threshold keeps.
		#[pallet::constant]
		type PenaltyMultiplier: Get<Perbill>;

		/// Share of a penalty score that survives each epoch boundary.
		#[pallet::constant]
		type PenaltyDecay: Get<Perbill>;

		/// Most earners paid in one block.
		#[pallet::constant]
		type MaxPayoutsPerBlock: Get<u32>;

		/// Most credits in one `pay_rewards`.
		#[pallet::constant]
		type MaxCreditsPerCall: Get<u32>;

		/// Finds the author of the current block in its digest.
		type FindAuthor: FindAuthor<Self::AccountId>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// OPEN each account may claim.
	///
	/// `Blake2_128Concat`: payers choose the accounts they credit. No deposit:
	/// an entry is created only by a credit, which the payer (or the
	/// community pool) funded in full, and is removed when claimed.
	#[pallet::storage]
	pub type Claimable<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// OPEN each account has claimed over its lifetime, for clients.
	///
	/// `Blake2_128Concat`: user-chosen keys. No deposit: an entry exists only
	/// for an account that was paid a reward, so there are at most as many
	/// entries as accounts that were ever credited.
	#[pallet::storage]
	pub type Claimed<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>, ValueQuery>;

	/// The sum of [`Claimable`]: what the pot owes.
	#[pallet::storage]
	pub type TotalClaimable<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// OPEN emitted from the community pool (paid to earners) since genesis.
	#[pallet::storage]
	pub type TotalEmitted<T: Config> = StorageValue<_, BalanceOf<T>, ValueQuery>;

	/// The epoch in progress and what it has earned so far.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, EpochStateOf<T>, ValueQuery>;

	/// What each account earned in each epoch not paid out yet.
	///
	/// `Twox64Concat` on the counter-like epoch; `Blake2_128Concat` on the
	/// account, which other pallets' callers choose. No deposit: entries come
	/// from settled (paid-for) inferences and authored blocks, and the payout
	/// of the epoch removes them all.
	#[pallet::storage]
	pub type Earnings<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		EpochIndex,
		Blake2_128Concat,
		T::AccountId,
		PointsOf<T>,
		OptionQuery,
	>;

	/// Epochs that have ended and whose payout has not started, by index.
	///
	/// `Twox64Concat`: the key is an epoch number. An entry waits only while
	/// an earlier epoch is still being paid, which takes more than an epoch
	/// only when that epoch had more than `EpochLength × MaxPayoutsPerBlock`
	/// earners; otherwise there is at most one entry, for one block.
	#[pallet::storage]
	pub type ClosedEpochs<T: Config> =
		StorageMap<_, Twox64Concat, EpochIndex, ClosedEpochOf<T>, OptionQuery>;

	/// The closed epoch to pay next, or being paid: every earlier one is paid.
	#[pallet::storage]
	pub type NextEpochToPay<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// The payout in progress.
	#[pallet::storage]
	pub type ActivePayout<T: Config> = StorageValue<_, PayoutRunOf<T>, OptionQuery>;

	/// Penalty scores.
	///
	/// `Blake2_128Concat`: user-chosen keys. No deposit: an entry exists only
	/// after a rejection or a lost challenge, which cost the account a bond;
	/// one that has decayed to zero is removed when the account is next paid.
	#[pallet::storage]
	pub type PenaltyScores<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, PenaltyRecord, OptionQuery>;

	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		/// Moves the pot's existential deposit in from the community pool.
		///
		/// A genesis without a funded community pool (a bare test genesis)
		/// leaves the pot without it. Nothing is lost that way, since every
		/// transfer out of the pot keeps it alive, but the last claims below
		/// the existential deposit then wait, and `try_state` reports it.
		fn build(&self) {
			if let Err(error) = Pallet::<T>::endow_pot() {
				log::warn!(
					target: LOG_TARGET,
					"the community pool cannot pay the rewards pot's existential deposit: {error:?}"
				);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `payer` paid fee credits: `credited` went to the ledger through
		/// the pot, `withheld` from penalised accounts to the protocol pool.
		RewardsPaid {
			payer: T::AccountId,
			credited: BalanceOf<T>,
			withheld: BalanceOf<T>,
		},
		/// `who` was credited `amount` of a fee payment; `withheld` of its
		/// credit went to the protocol pool because of its penalty score.
		Credited {
			who: T::AccountId,
			amount: BalanceOf<T>,
			withheld: BalanceOf<T>,
		},
		/// `who` claimed `amount`.
		Claimed {
			who: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// `epoch` ended at block `end` (exclusive) with `earners` accounts
		/// that earned in it.
		EpochClosed {
			epoch: EpochIndex,
			end: BlockNumberFor<T>,
			earners: u32,
		},
		/// The payout of `epoch` started: `classes` moved from the community
		/// pool into the pot, to be split among `earners`.
		PayoutStarted {
			epoch: EpochIndex,
			classes: ClassAmounts<BalanceOf<T>>,
			earners: u32,
		},
		/// `who` was credited `amount` of `epoch`'s emission; `withheld` of its
		/// share stays in the community pool because of its penalty score.
		EpochRewardCredited {
			epoch: EpochIndex,
			who: T::AccountId,
			amount: BalanceOf<T>,
			withheld: BalanceOf<T>,
		},
		/// The payout of `epoch` ended: `paid` was emitted, `returned` (the
		/// rounding and the withheld part) went back to the community pool.
		PayoutFinished {
			epoch: EpochIndex,
			paid: BalanceOf<T>,
			withheld: BalanceOf<T>,
			returned: BalanceOf<T>,
		},
		/// `who`'s penalty score rose by `points` to `score`.
		PenaltyRaised {
			who: T::AccountId,
			points: u32,
			score: u32,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account has nothing to claim.
		NothingToClaim,
		/// The account does not exist and its claimable balance is below the
		/// existential deposit: wait until more is credited.
		BelowMinimum,
		/// The pot holds less than the ledger owes. Never expected:
		/// `try_state` checks that the pot backs every claim.
		PotUnderfunded,
		/// More than [`Config::MaxCreditsPerCall`] credits in one payment.
		TooManyCredits,
		/// The pot cannot pay rewards to itself: the ledger would owe OPEN it
		/// never received.
		PayerIsPot,
		/// The credits' sum overflows the balance type.
		Overflow,
		/// The payer's free balance cannot cover the credits.
		InsufficientFunds,
		/// The pot cannot receive the payment (it does not exist and the
		/// payment is below the existential deposit).
		PotCannotReceive,
		/// The protocol pool cannot receive the withheld part (it does not
		/// exist and the part is below the existential deposit).
		ProtocolPoolCannotReceive,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::on_block(now, Self::block_author())
		}

		fn integrity_test() {
			Self::check_constants();
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
		/// Pay the caller's whole claimable balance from the pot to the
		/// caller. See the [module docs](crate).
		///
		/// ## Dispatch Origin
		///
		/// Signed: the account claiming.
		///
		/// ## Errors
		///
		/// - [`Error::NothingToClaim`]: nothing is claimable.
		/// - [`Error::BelowMinimum`]: the account does not exist and the
		///   amount is below the existential deposit.
		/// - [`Error::PotUnderfunded`]: the pot cannot pay (never expected).
		///
		/// ## Events
		///
		/// [`Event::Claimed`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_claim(who)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// What `who` may claim, has claimed, its penalty score, and its points
		/// in the current epoch.
		pub fn account_summary(who: T::AccountId) -> AccountSummary<BalanceOf<T>> {
			Self::summary_of(&who)
		}

		/// The current epoch, what it earned so far, and the payouts behind it.
		pub fn epoch_info() -> EpochInfo<BalanceOf<T>, BlockNumberFor<T>> {
			Self::current_epoch_info()
		}

		/// The emission schedule: what may have been emitted by now, and what
		/// was.
		pub fn schedule_info() -> ScheduleInfo<BalanceOf<T>, BlockNumberFor<T>> {
			Self::current_schedule_info()
		}
	}
}
