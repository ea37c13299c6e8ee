//! # Attribution
//!
//! Paid inference requests, attribution receipts, challenges by
//! re-execution, and settlement of fees among a model's developer, its
//! infrastructure, the data contributors that influenced each output, and
//! the protocol.
//!
//! ## Overview
//!
//! ### One inference at a time
//!
//! 1. A user calls `request_inference` for a deployed model and a worker
//!    serving it, with a commitment to the prompt and the most it will pay.
//!    That maximum is held ([`HoldReason::InferenceFee`]). The model's terms
//!    (pricing, split, adapter) are pinned to the request.
//!    [`Event::InferenceRequested`] carries everything the worker needs.
//! 2. The worker serves the prompt off chain and calls `submit_receipt` with
//!    the token counts, the output hash, the attribution method, the scores
//!    (parts per million per contribution, ascending ids, only live
//!    contributions, summing to at most the whole) and the
//!    [`ProofCommitment`], whose layout and [`result_hash`] are fixed in
//!    [`openledger_primitives::attribution`]. The fee is
//!    `tokens_in * per_1k_input / 1000 + tokens_out * per_1k_output / 1000 +`
//!    [`Config::PlatformFee`]; the rest of the maximum is released at once.
//!    A request with no receipt by [`Config::ServeTimeout`] blocks is
//!    refunded in full at the start of that block. The prompt commitment is
//!    [`openledger_primitives::attribution::prompt_commitment`]: BLAKE2b-256
//!    of the prompt's UTF-8 bytes.
//! 3. For [`Config::ChallengeWindow`] blocks any other bonded worker may
//!    `challenge` the receipt with the result hash it computed, holding
//!    [`Config::ChallengeBond`]. [`Config::VerifierCount`] verifiers are
//!    drawn with [`Config::Randomness`] (a Fisher–Yates shuffle) among the
//!    workers that serve the model and hold an active worker bond, excluding
//!    the receipt's worker and the challenger. Each re-executes the inference
//!    and calls `submit_verdict` with the result hash it computed, within
//!    [`Config::VerifyWindow`] blocks. A verdict equal to the receipt's
//!    result hash upholds it; any other voids it. A strict majority of the
//!    drawn verifiers decides at once:
//!    - **Upheld**: the challenger loses [`Config::ChallengerSlash`] of its
//!      bond, [`Config::WinnerShare`] of that to the worker and the rest to
//!      the protocol pool, and its penalty score rises by
//!      [`Config::LossPenalty`]; the receipt settles at once.
//!    - **Voided**: the worker loses [`Config::WorkerSlash`] of its worker
//!      stake through the staking pallet, to the protocol pool, which passes
//!      [`Config::WinnerShare`] of it to the challenger; the worker's penalty
//!      score rises; the user's fee is refunded in full and the challenge
//!      bond returned.
//!
//!    When fewer than [`Config::VerifierCount`] workers can be drawn, or the
//!    window ends without a majority, only [`Config::GovernanceOrigin`]
//!    resolves the challenge (`resolve_challenge`), with the same effects.
//!    Verifiers are not paid by this pallet, nor punished for staying
//!    silent or in the minority. The staking pallet's unbonding period must
//!    exceed [`Config::ServeTimeout`] + [`Config::ChallengeWindow`] +
//!    [`Config::VerifyWindow`], so that a worker's stake is still there when
//!    its receipt is voided.
//!
//!    The three windows in force are in [`WindowBlocks`]: the `Config`
//!    values, or shorter ones set at genesis (development chains serve,
//!    challenge and settle within a minute).
//! 4. An unchallenged receipt settles at the start of the block its window
//!    ends in, at most [`Config::MaxSettlementsPerBlock`] per block: a
//!    receipt is refused ([`Error::SettlementQueueFull`]) when its block is
//!    full, and the worker submits it again a block later. Settlement
//!    divides the fee (DESIGN §6): the platform fee and the model's split of
//!    the rest, developer to the model's owner, infrastructure
//!    [`Config::WorkerInfraShare`] to the worker and the rest to the block's
//!    author (the validators' part; to the protocol pool when no author is
//!    known), contributors pro rata to their scores, protocol to the pool.
//!    Every division rounds down and the protocol pool takes the dust, so
//!    the parts sum to the fee exactly. Contributors are paid as of the
//!    receipt: a contribution retracted since still earned its share. Account shares are credited through
//!    [`Config::Rewards`] (a pull ledger the recipients claim from); the
//!    protocol's part is transferred to [`Config::ProtocolPool`]. The worker's
//!    settled inference and each contributor's attribution are noted for the
//!    epoch's emissions. A settlement that fails (e.g. the rewards pallet
//!    refuses) leaves the inference [`Status::Unsettled`], its fee still
//!    held, and anyone may retry with `settle`.
//!
//! ### Batches: the scale path
//!
//! Settling one inference costs a request, a receipt and a settlement, each
//! touching storage per contribution. Batches make settlement cost grow with
//! the distinct users and contributors of a period, not with its inferences:
//!
//! - A user prepays credit (`deposit_credit`, moved into
//!   [`Config::CreditPot`] and recorded in [`Credits`]) and signs
//!   [`Voucher`]s off chain: cumulative
//!   authorisations for one worker to charge up to a cap for one model,
//!   valid until an expiry block. Vouchers with the same user, worker, model
//!   and expiry form a channel; each new one raises its cap.
//! - The worker calls `settle_batch` with the batch's receipts root, its
//!   inference count, one `(voucher, signature, fee)` per user (ascending
//!   accounts) and the influence aggregated per contribution (ascending ids).
//!   Each voucher's signature is checked once, in the form the charge names
//!   (raw or wallet-wrapped payload); each user's credit record is charged
//!   its fee as long as the channel's total stays within the cap, and the
//!   batch total leaves the credit pot for the worker in one transfer. The batch total is
//!   split as above with [`Config::PlatformFee`] per inference and the
//!   contributors paid pro rata to their aggregated scores. The batch's root
//!   is kept in [`BatchRoots`] for the last [`Config::BatchRootRetention`]
//!   batches and always in [`Event::BatchSettled`].
//! - Credit is withdrawn in two steps (`unlock_credit`, then
//!   `withdraw_credit` [`Config::CreditUnlockDelay`] blocks later), so a
//!   worker that saw the unlock has time to settle what it served. Until it
//!   is withdrawn, unlocking credit may still be charged.
//! - Batches are not challengeable in this version: their integrity rests on
//!   the users' caps. The inference count is bounded by the fees (each
//!   inference pays the platform fee).
//!
//! ### Storage and deposits
//!
//! Inference, receipt and challenge records live from request to
//! settlement, refund or voiding; the user's held fee pays for them. Credit
//! records live while credit is held. A channel record is paid for by
//! [`Config::ChannelDeposit`] held from the worker that opened it, returned
//! when it closes the expired channel (`close_channels`). Batch records are
//! a ring of the last [`Config::BatchRootRetention`].
//!
//! ### Randomness
//!
//! Verifiers are drawn with [`Config::Randomness`] at the block of the
//! challenge. On a chain without VRF randomness the block author and the
//! challenger (by timing) can influence the draw; it is unpredictable to
//! the worker when it submits the receipt.
//!
//! ## Dispatchable functions
//!
//! ### `request_inference(model, worker, prompt_commitment, max_fee)`
//! #### Dispatch Origin
//! Signed: the user.
//! #### Errors
//! [`Error::ModelNotDeployed`], [`Error::WorkerNotServing`],
//! [`Error::WorkerNotBonded`], [`Error::MaxFeeBelowPlatformFee`],
//! [`Error::IdsExhausted`], [`Error::TooManyRequests`],
//! [`Error::InsufficientBalance`].
//! #### Events
//! [`Event::InferenceRequested`]; later [`Event::RequestExpired`] if no
//! receipt comes in time.
//!
//! ### `submit_receipt(id, tokens_in, tokens_out, output_hash, method, scores, proof)`
//! #### Dispatch Origin
//! Signed: the assigned worker.
//! #### Errors
//! [`Error::UnknownInference`], [`Error::NotAssignedWorker`],
//! [`Error::NotAwaitingReceipt`], [`Error::MethodMismatch`],
//! [`Error::WrongAdapter`], [`Error::InvalidScore`],
//! [`Error::ScoresNotSorted`], [`Error::ScoresExceedWhole`],
//! [`Error::ContributionNotLive`], [`Error::ScoresRootMismatch`],
//! [`Error::FeeOverflow`], [`Error::FeeAboveMaximum`],
//! [`Error::SettlementQueueFull`].
//! #### Events
//! [`Event::ReceiptSubmitted`]; later [`Event::InferenceSettled`] or
//! [`Event::SettlementFailed`].
//!
//! ### `challenge(id, claimed_result_hash)`
//! #### Dispatch Origin
//! Signed: a bonded worker other than the receipt's.
//! #### Errors
//! [`Error::UnknownInference`], [`Error::NotChallengeable`],
//! [`Error::NotBondedWorker`], [`Error::OwnReceipt`],
//! [`Error::ClaimMatchesReceipt`], [`Error::InsufficientBalance`].
//! #### Events
//! [`Event::ChallengeOpened`].
//!
//! ### `submit_verdict(id, result_hash)`
//! #### Dispatch Origin
//! Signed: a verifier drawn for the challenge.
//! #### Errors
//! [`Error::NoChallenge`], [`Error::NotVerifier`],
//! [`Error::AlreadyAnswered`], [`Error::VerifyWindowClosed`].
//! #### Events
//! [`Event::VerdictSubmitted`]; on a majority [`Event::ChallengeResolved`]
//! and [`Event::InferenceSettled`] or [`Event::ReceiptVoided`].
//!
//! ### `resolve_challenge(id, outcome)`
//! #### Dispatch Origin
//! [`Config::GovernanceOrigin`].
//! #### Errors
//! [`Error::NoChallenge`], [`Error::VerificationOngoing`].
//! #### Events
//! [`Event::ChallengeResolved`], then [`Event::InferenceSettled`] or
//! [`Event::ReceiptVoided`].
//!
//! ### `settle(id)`
//! #### Dispatch Origin
//! Signed: anyone.
//! #### Errors
//! [`Error::UnknownInference`], [`Error::NotDue`], and the error of the
//! settlement itself (e.g. the rewards pallet's).
//! #### Events
//! [`Event::InferenceSettled`].
//!
//! ### `deposit_credit(amount)`, `unlock_credit(amount)`, `withdraw_credit()`
//! #### Dispatch Origin
//! Signed: the user.
//! #### Errors
//! [`Error::ZeroAmount`], [`Error::InsufficientBalance`];
//! `unlock_credit`: [`Error::InsufficientCredit`]; `withdraw_credit`:
//! [`Error::NothingUnlocking`], [`Error::CreditStillLocked`].
//! #### Events
//! [`Event::CreditDeposited`], [`Event::CreditUnlocking`],
//! [`Event::CreditWithdrawn`].
//!
//! ### `settle_batch(model, batch)`
//! #### Dispatch Origin
//! Signed: a bonded worker serving the model.
//! #### Errors
//! [`Error::ModelNotDeployed`], [`Error::WorkerNotServing`],
//! [`Error::NotBondedWorker`], [`Error::EmptyBatch`],
//! [`Error::TooFewInferences`], [`Error::UsersNotSorted`],
//! [`Error::InvalidScore`], [`Error::ScoresNotSorted`],
//! [`Error::ContributionNotLive`], [`Error::VoucherWorkerMismatch`],
//! [`Error::VoucherModelMismatch`], [`Error::VoucherExpired`],
//! [`Error::VoucherLifetimeTooLong`], [`Error::ZeroAmount`],
//! [`Error::BadVoucherSignature`], [`Error::VoucherCapExceeded`],
//! [`Error::InsufficientCredit`], [`Error::FeesBelowPlatformFee`],
//! [`Error::FeeOverflow`], [`Error::IdsExhausted`],
//! [`Error::InsufficientBalance`].
//! #### Events
//! [`Event::BatchSettled`].
//!
//! ### `close_channels(channels)`
//! #### Dispatch Origin
//! Signed: the worker of the channels.
//! #### Errors
//! [`Error::UnknownChannel`], [`Error::ChannelNotExpired`].
//! #### Events
//! [`Event::ChannelsClosed`].
//!
//! [`ProofCommitment`]: openledger_primitives::ProofCommitment
//! [`result_hash`]: openledger_primitives::attribution::result_hash
//! [`Voucher`]: openledger_primitives::Voucher

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

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
pub mod types;
pub mod weights;

use openledger_primitives::{
	attribution::{Method, ProofCommitment, Voucher},
	BatchId, ContributionId, Hash, InferenceId, ModelId,
};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::fungible},
	frame_system::pallet_prelude::BlockNumberFor,
};

/// The balance type of [`Config::Currency`].
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
>>::Balance;
/// An account.
pub type AccountIdOf<T> = <T as polkadot_sdk::frame_system::Config>::AccountId;
/// An inference record.
pub type InferenceOf<T> = Inference<AccountIdOf<T>, BalanceOf<T>, BlockNumberFor<T>>;
/// The attribution windows of `T`.
pub type WindowsOf<T> = Windows<BlockNumberFor<T>>;
/// A receipt's scores as submitted: `(contribution, parts per million)`.
pub type ScoresOf<T> = BoundedVec<(ContributionId, u32), <T as Config>::MaxScores>;
/// A receipt's scores as stored, with their contributors.
pub type ScoreEntriesOf<T> = BoundedVec<ScoreEntry<AccountIdOf<T>>, <T as Config>::MaxScores>;
/// A receipt record.
pub type ReceiptOf<T> = Receipt<BalanceOf<T>, BlockNumberFor<T>, ScoreEntriesOf<T>>;
/// The verifiers of one challenge.
pub type VerifiersOf<T> = BoundedVec<VerifierSlot<AccountIdOf<T>>, <T as Config>::VerifierCount>;
/// A challenge record.
pub type ChallengeOf<T> =
	Challenge<AccountIdOf<T>, BalanceOf<T>, BlockNumberFor<T>, VerifiersOf<T>>;
/// A user's credit.
pub type CreditOf<T> = CreditAccount<BalanceOf<T>, BlockNumberFor<T>>;
/// A voucher.
pub type VoucherOf<T> = Voucher<AccountIdOf<T>, BalanceOf<T>, BlockNumberFor<T>>;
/// One user's part of a batch.
pub type UserChargeOf<T> =
	UserCharge<AccountIdOf<T>, BalanceOf<T>, BlockNumberFor<T>, <T as Config>::Signature>;
/// A batch's aggregated influence: `(contribution, summed score)`.
pub type BatchContributorsOf<T> =
	BoundedVec<(ContributionId, u64), <T as Config>::MaxBatchContributors>;
/// A batch as submitted.
pub type BatchOf<T> =
	Batch<BoundedVec<UserChargeOf<T>, <T as Config>::MaxBatch>, BatchContributorsOf<T>>;
/// A settled batch's record.
pub type BatchRecordOf<T> = BatchRecord<AccountIdOf<T>, BalanceOf<T>, BlockNumberFor<T>>;
/// Channels to close: `(user, model, expires_at)`.
pub type ChannelKeysOf<T> =
	BoundedVec<(AccountIdOf<T>, ModelId, BlockNumberFor<T>), <T as Config>::MaxBatch>;

/// Sets up what the benchmarks need from the pallets this one reads.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, Signature> {
	/// Gives `who` an active worker bond, funding it as needed.
	fn bond_worker(who: &AccountId);
	/// A deployed model owned by `owner`, with the most expensive adapter
	/// terms the runtime allows; returns its id.
	fn deployed_model(owner: &AccountId) -> ModelId;
	/// Makes `worker`, bonded already, serve `model`.
	fn serve(model: ModelId, worker: &AccountId);
	/// `count` live contributions by distinct contributors, in ascending id
	/// order.
	fn live_contributions(count: u32) -> alloc::vec::Vec<ContributionId>;
	/// A new account whose key can sign vouchers; `index` tells them apart.
	fn voucher_signer(index: u32) -> AccountId;
	/// `signer`'s signature of `message`.
	fn sign(signer: &AccountId, message: &[u8]) -> Signature;
}

// FRAME's pallet macros expand to `expect` on invariants the runtime
// guarantees (every pallet has a name and index), and to a constructor per
// call with one argument per call argument (`submit_receipt` has the eight
// DESIGN §6 names); the allowances are for that generated code. This module
// holds only declarations and calls that delegate: the logic lives in
// `impls.rs`, where the workspace lints apply in full.
#[allow(clippy::expect_used, clippy::too_many_arguments)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use openledger_primitives::{
		BondedStake, DatanetsInspect, ModelRegistryInspect, PenaltyScore, RewardLedger,
	};
	use polkadot_sdk::{
		frame_support::traits::{fungible::MutateHold, FindAuthor, Randomness},
		frame_system::pallet_prelude::*,
		sp_runtime::{
			traits::{IdentifyAccount, Verify},
			Perbill,
		},
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The OPEN token: fees, bonds, credit and deposits are holds on it.
		type Currency: fungible::Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;

		/// Deployed models: terms, serving workers.
		type Models: ModelRegistryInspect<Self::AccountId, BalanceOf<Self>>;

		/// Which contributions are live, and whose they are.
		type Datanets: DatanetsInspect<Self::AccountId>;

		/// Worker bonds: who may serve, challenge and verify; slashing.
		type Stake: BondedStake<Self::AccountId, BalanceOf<Self>>;

		/// The reward ledger credited at settlement, and penalty scores.
		type Rewards: RewardLedger<Self::AccountId, BalanceOf<Self>> + PenaltyScore<Self::AccountId>;

		/// Seeds the draw of verifiers.
		type Randomness: Randomness<Self::Hash, BlockNumberFor<Self>>;

		/// The block's author, who takes the validators' part of the
		/// infrastructure share.
		type FindAuthor: FindAuthor<Self::AccountId>;

		/// Resolves challenges the verifiers could not.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Receives the platform fee, the protocol share, dust, and slashes.
		type ProtocolPool: Get<Self::AccountId>;

		/// Keeps users' prepaid credit for batched inferences. Settling a batch
		/// then moves its total to the worker in one transfer, whatever the
		/// number of users. It must exist from genesis (hold at least the
		/// existential deposit): transfers out of it keep it alive, and
		/// `try_state` checks that it covers every [`Credits`] balance.
		type CreditPot: Get<Self::AccountId>;

		/// Signatures of vouchers: the runtime's `MultiSignature`.
		type Signature: Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>> + Parameter;

		/// Charged on every inference on top of the model's prices, to the
		/// protocol pool; also the smallest `max_fee` a request may hold.
		#[pallet::constant]
		type PlatformFee: Get<BalanceOf<Self>>;

		/// Blocks a worker has to submit a receipt before the request is
		/// refunded.
		#[pallet::constant]
		type ServeTimeout: Get<BlockNumberFor<Self>>;

		/// Blocks a receipt may be challenged before it settles.
		#[pallet::constant]
		type ChallengeWindow: Get<BlockNumberFor<Self>>;

		/// Held from a challenger until the challenge is resolved.
		#[pallet::constant]
		type ChallengeBond: Get<BalanceOf<Self>>;

		/// Verifiers drawn per challenge (K); a strict majority decides.
		#[pallet::constant]
		type VerifierCount: Get<u32>;

		/// Blocks the verifiers have to answer, from the challenge on.
		#[pallet::constant]
		type VerifyWindow: Get<BlockNumberFor<Self>>;

		/// Share of a worker's stake slashed when its receipt is voided.
		#[pallet::constant]
		type WorkerSlash: Get<Perbill>;

		/// Share of a challenge bond slashed when the receipt is upheld.
		#[pallet::constant]
		type ChallengerSlash: Get<Perbill>;

		/// Share of a slash that goes to the winner; the rest goes to the
		/// protocol pool.
		#[pallet::constant]
		type WinnerShare: Get<Perbill>;

		/// Share of the infrastructure share that goes to the serving worker;
		/// the rest goes to the block author.
		#[pallet::constant]
		type WorkerInfraShare: Get<Perbill>;

		/// Penalty points the loser of a challenge receives.
		#[pallet::constant]
		type LossPenalty: Get<u32>;

		/// Most scores in one receipt.
		#[pallet::constant]
		type MaxScores: Get<u32>;

		/// Most requests that may time out in one block: bounds the refunds
		/// of one `on_initialize`.
		#[pallet::constant]
		type MaxRequestsPerBlock: Get<u32>;

		/// Most receipts that may settle in one block: bounds the
		/// settlements of one `on_initialize`.
		#[pallet::constant]
		type MaxSettlementsPerBlock: Get<u32>;

		/// Most serving workers considered when drawing verifiers: at least
		/// the registry's bound on workers per model.
		#[pallet::constant]
		type MaxVerifierCandidates: Get<u32>;

		/// Most users in one batch; also the most channels closed at once.
		#[pallet::constant]
		type MaxBatch: Get<u32>;

		/// Most distinct contributions in one batch.
		#[pallet::constant]
		type MaxBatchContributors: Get<u32>;

		/// Furthest a voucher's expiry may lie ahead of the batch that
		/// charges it.
		#[pallet::constant]
		type MaxVoucherLifetime: Get<BlockNumberFor<Self>>;

		/// Blocks between `unlock_credit` and `withdraw_credit`.
		#[pallet::constant]
		type CreditUnlockDelay: Get<BlockNumberFor<Self>>;

		/// Held from a worker for each voucher channel it opens, until it
		/// closes the expired channel.
		#[pallet::constant]
		type ChannelDeposit: Get<BalanceOf<Self>>;

		/// How many of the latest batch records are kept in storage.
		#[pallet::constant]
		type BatchRootRetention: Get<u32>;

		/// Sets up the other pallets for this pallet's benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, Self::Signature>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds OPEN.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A request's maximum fee, then its fee until settlement.
		#[codec(index = 0)]
		InferenceFee,
		/// A challenge bond.
		#[codec(index = 1)]
		ChallengeBond,
		/// A voucher channel's storage deposit.
		#[codec(index = 3)]
		ChannelDeposit,
	}

	/// [`Config::ServeTimeout`], [`Config::ChallengeWindow`] and
	/// [`Config::VerifyWindow`], unless genesis shortened them.
	#[pallet::type_value]
	pub fn DefaultWindows<T: Config>() -> WindowsOf<T> {
		Windows {
			serve_timeout: T::ServeTimeout::get(),
			challenge_window: T::ChallengeWindow::get(),
			verify_window: T::VerifyWindow::get(),
		}
	}

	/// The serve timeout and the challenge and verify windows in force.
	#[pallet::storage]
	pub type WindowBlocks<T: Config> = StorageValue<_, WindowsOf<T>, ValueQuery, DefaultWindows<T>>;

	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Shorter windows than the [`Config`] ones, each at least one block:
		/// development chains serve, challenge and settle in seconds.
		pub serve_timeout: Option<BlockNumberFor<T>>,
		pub challenge_window: Option<BlockNumberFor<T>>,
		pub verify_window: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let defaults = DefaultWindows::<T>::get();
			let pick = |name: &str, set: Option<BlockNumberFor<T>>, most| match set {
				Some(blocks) => {
					assert!(
						!blocks.is_zero() && blocks <= most,
						"the genesis {name} must be between 1 block and the Config value"
					);
					blocks
				},
				None => most,
			};
			WindowBlocks::<T>::put(Windows {
				serve_timeout: pick("serve timeout", self.serve_timeout, defaults.serve_timeout),
				challenge_window: pick(
					"challenge window",
					self.challenge_window,
					defaults.challenge_window,
				),
				verify_window: pick("verify window", self.verify_window, defaults.verify_window),
			});
		}
	}

	/// The id the next inference gets.
	#[pallet::storage]
	pub type NextInferenceId<T> = StorageValue<_, InferenceId, ValueQuery>;

	/// Inferences from request to settlement, refund or voiding.
	///
	/// `Twox64Concat`: counter-assigned key. Paid by the fee held.
	#[pallet::storage]
	pub type Inferences<T: Config> = StorageMap<_, Twox64Concat, InferenceId, InferenceOf<T>>;

	/// Receipts of inferences that have one.
	///
	/// `Twox64Concat`: counter-assigned key. Paid by the fee held.
	#[pallet::storage]
	pub type Receipts<T: Config> = StorageMap<_, Twox64Concat, InferenceId, ReceiptOf<T>>;

	/// Open challenges.
	///
	/// `Twox64Concat`: counter-assigned key. Paid by the challenge bond.
	#[pallet::storage]
	pub type Challenges<T: Config> = StorageMap<_, Twox64Concat, InferenceId, ChallengeOf<T>>;

	/// Requests refunded at the start of each block unless served.
	///
	/// `Twox64Concat`: block numbers cannot be chosen beyond the timeout.
	/// Paid by the fees held.
	#[pallet::storage]
	pub type ExpiringAt<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<InferenceId, T::MaxRequestsPerBlock>,
		ValueQuery,
	>;

	/// Receipts settled at the start of each block unless challenged.
	///
	/// `Twox64Concat`: block numbers cannot be chosen beyond the window.
	/// Paid by the fees held.
	#[pallet::storage]
	pub type SettleAt<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<InferenceId, T::MaxSettlementsPerBlock>,
		ValueQuery,
	>;

	/// Prepaid credit per user, kept in [`Config::CreditPot`].
	///
	/// `Blake2_128Concat`: accounts are user-chosen. Paid by the credit itself:
	/// the record goes when the balance reaches zero.
	#[pallet::storage]
	pub type Credits<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, CreditOf<T>>;

	/// Voucher channels: what each (user, worker, model, expiry) has been
	/// charged.
	///
	/// `Blake2_128Concat` for the user-chosen accounts, `Twox64Concat` for the
	/// model and the expiry, which the user chooses but which only separate
	/// its own channels. Deposit: [`Config::ChannelDeposit`] from the worker.
	#[pallet::storage]
	pub type Channels<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Blake2_128Concat, T::AccountId>,
			NMapKey<Blake2_128Concat, T::AccountId>,
			NMapKey<Twox64Concat, ModelId>,
			NMapKey<Twox64Concat, BlockNumberFor<T>>,
		),
		Channel<BalanceOf<T>>,
	>;

	/// The id the next batch gets.
	#[pallet::storage]
	pub type NextBatchId<T> = StorageValue<_, BatchId, ValueQuery>;

	/// The latest [`Config::BatchRootRetention`] settled batches.
	///
	/// `Twox64Concat`: counter-assigned key. No deposit: the ring is bounded
	/// and the platform fees of the batch pay for it.
	#[pallet::storage]
	pub type BatchRoots<T: Config> = StorageMap<_, Twox64Concat, BatchId, BatchRecordOf<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A user asked `worker` to serve an inference; `max_fee` is held.
		/// The worker must answer with a receipt before block `serve_by`.
		InferenceRequested {
			id: InferenceId,
			user: T::AccountId,
			worker: T::AccountId,
			model: ModelId,
			adapter_version: u32,
			adapter_hash: Hash,
			prompt_commitment: Hash,
			max_fee: BalanceOf<T>,
			serve_by: BlockNumberFor<T>,
		},
		/// No receipt came in time: the request was refunded in full.
		RequestExpired {
			id: InferenceId,
			user: T::AccountId,
			refunded: BalanceOf<T>,
		},
		/// The worker's receipt was accepted; `released` of the maximum fee
		/// went back to the user. It settles at `settle_at` unless
		/// challenged.
		ReceiptSubmitted {
			id: InferenceId,
			worker: T::AccountId,
			tokens_in: u32,
			tokens_out: u32,
			fee: BalanceOf<T>,
			released: BalanceOf<T>,
			result_hash: Hash,
			settle_at: BlockNumberFor<T>,
		},
		/// A receipt was challenged; the verifiers must answer by `deadline`.
		/// No verifiers: only governance can resolve it.
		ChallengeOpened {
			id: InferenceId,
			challenger: T::AccountId,
			claimed_result_hash: Hash,
			bond: BalanceOf<T>,
			verifiers: alloc::vec::Vec<T::AccountId>,
			deadline: BlockNumberFor<T>,
		},
		/// A verifier answered.
		VerdictSubmitted {
			id: InferenceId,
			verifier: T::AccountId,
			result_hash: Hash,
			upholds: bool,
		},
		/// A challenge ended: `slashed` was taken from the loser, `to_winner`
		/// of it paid to the winner and the rest to the protocol pool.
		ChallengeResolved {
			id: InferenceId,
			outcome: Outcome,
			by_governance: bool,
			loser: T::AccountId,
			slashed: BalanceOf<T>,
			to_winner: BalanceOf<T>,
		},
		/// A receipt was voided: the user got its fee back.
		ReceiptVoided {
			id: InferenceId,
			user: T::AccountId,
			refunded: BalanceOf<T>,
		},
		/// An inference settled: its fee went as `shares` says.
		InferenceSettled {
			id: InferenceId,
			user: T::AccountId,
			worker: T::AccountId,
			fee: BalanceOf<T>,
			shares: FeeShares<BalanceOf<T>>,
		},
		/// An inference could not settle; anyone may retry with `settle`.
		SettlementFailed {
			id: InferenceId,
			error: DispatchError,
		},
		/// A user prepaid credit.
		CreditDeposited {
			who: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// A user asked credit back, withdrawable from `unlock_at`.
		CreditUnlocking {
			who: T::AccountId,
			amount: BalanceOf<T>,
			unlock_at: BlockNumberFor<T>,
		},
		/// A user took unlocked credit back.
		CreditWithdrawn {
			who: T::AccountId,
			amount: BalanceOf<T>,
		},
		/// A worker settled a batch of inferences.
		BatchSettled {
			batch: BatchId,
			model: ModelId,
			worker: T::AccountId,
			receipts_root: Hash,
			inferences: u32,
			users: u32,
			fee: BalanceOf<T>,
			shares: FeeShares<BalanceOf<T>>,
		},
		/// A worker closed expired channels and took their deposits back.
		ChannelsClosed {
			worker: T::AccountId,
			count: u32,
			released: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model is unknown, not deployed yet, or retired.
		ModelNotDeployed,
		/// The worker does not serve the model.
		WorkerNotServing,
		/// The worker's bond is below the worker minimum.
		WorkerNotBonded,
		/// `max_fee` is below the platform fee: no inference could be paid.
		MaxFeeBelowPlatformFee,
		/// All ids of this kind are used up.
		IdsExhausted,
		/// [`Config::MaxRequestsPerBlock`] requests already time out in the
		/// block this one would: try again next block.
		TooManyRequests,
		/// The account cannot cover what would be held.
		InsufficientBalance,
		/// No inference has this id (never requested, or already settled,
		/// refunded or voided).
		UnknownInference,
		/// Only the worker the request named may submit its receipt.
		NotAssignedWorker,
		/// The inference already has a receipt.
		NotAwaitingReceipt,
		/// The proof's method differs from the receipt's.
		MethodMismatch,
		/// The proof names another adapter or attribution index than the
		/// model's at the time of the request.
		WrongAdapter,
		/// A score is zero or above the whole (1,000,000 ppm), or an
		/// aggregated batch score is zero.
		InvalidScore,
		/// Scores must be by strictly increasing contribution id (which also
		/// rules out duplicates).
		ScoresNotSorted,
		/// The scores sum to more than the whole (1,000,000 ppm).
		ScoresExceedWhole,
		/// A scored contribution is unknown, pending or retracted.
		ContributionNotLive,
		/// The proof's scores root is not the root of the scores.
		ScoresRootMismatch,
		/// The fee does not fit the balance type.
		FeeOverflow,
		/// The fee by the model's pricing exceeds the request's `max_fee`.
		FeeAboveMaximum,
		/// [`Config::MaxSettlementsPerBlock`] receipts already settle in the
		/// block this one would: submit it again next block.
		SettlementQueueFull,
		/// The receipt is not in its challenge window.
		NotChallengeable,
		/// Challenging needs an active worker bond.
		NotBondedWorker,
		/// A worker cannot challenge its own receipt.
		OwnReceipt,
		/// The claimed result hash is the receipt's: nothing to dispute.
		ClaimMatchesReceipt,
		/// The inference is not under challenge.
		NoChallenge,
		/// The caller was not drawn to verify this challenge.
		NotVerifier,
		/// The verifier already answered.
		AlreadyAnswered,
		/// The verifiers' window is over; governance resolves it now.
		VerifyWindowClosed,
		/// The drawn verifiers may still answer.
		VerificationOngoing,
		/// The inference is not due for settlement: still in its window,
		/// challenged, or without a receipt.
		NotDue,
		/// An amount must be positive.
		ZeroAmount,
		/// The user's credit does not cover the amount.
		InsufficientCredit,
		/// No credit is unlocking.
		NothingUnlocking,
		/// The unlocking credit cannot be withdrawn yet.
		CreditStillLocked,
		/// A batch must charge at least one user.
		EmptyBatch,
		/// A batch has fewer inferences than users.
		TooFewInferences,
		/// A batch's users must be in strictly increasing order (which also
		/// rules out duplicates).
		UsersNotSorted,
		/// A voucher authorises another worker.
		VoucherWorkerMismatch,
		/// A voucher is for another model.
		VoucherModelMismatch,
		/// A voucher has expired.
		VoucherExpired,
		/// A voucher's expiry lies more than [`Config::MaxVoucherLifetime`]
		/// ahead.
		VoucherLifetimeTooLong,
		/// A voucher's signature is not its user's.
		BadVoucherSignature,
		/// Charging the fee would take the channel past its voucher's cap.
		VoucherCapExceeded,
		/// A batch's fees do not cover the platform fee of each inference.
		FeesBelowPlatformFee,
		/// No such channel.
		UnknownChannel,
		/// The channel's vouchers are still valid.
		ChannelNotExpired,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let expired = Self::refund_expired(now);
			let settled = Self::settle_due(now);
			T::WeightInfo::on_initialize_expire(expired)
				.saturating_add(T::WeightInfo::on_initialize_settle(settled))
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
		/// Ask `worker` to serve an inference on `model`, holding `max_fee`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::request_inference())]
		pub fn request_inference(
			origin: OriginFor<T>,
			model: ModelId,
			worker: T::AccountId,
			prompt_commitment: Hash,
			max_fee: BalanceOf<T>,
		) -> DispatchResult {
			let user = ensure_signed(origin)?;
			Self::do_request_inference(user, model, worker, prompt_commitment, max_fee)
		}

		/// Report a served inference: token counts, output, attribution and
		/// its proof. Charges the fee and releases the rest of the maximum.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::submit_receipt(scores.len() as u32))]
		pub fn submit_receipt(
			origin: OriginFor<T>,
			id: InferenceId,
			tokens_in: u32,
			tokens_out: u32,
			output_hash: Hash,
			method: Method,
			scores: ScoresOf<T>,
			proof: ProofCommitment,
		) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::do_submit_receipt(
				worker,
				id,
				tokens_in,
				tokens_out,
				output_hash,
				method,
				scores,
				proof,
			)
		}

		/// Dispute a receipt in its challenge window, holding the challenge
		/// bond; verifiers are drawn to re-execute it.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::challenge(T::MaxVerifierCandidates::get()))]
		pub fn challenge(
			origin: OriginFor<T>,
			id: InferenceId,
			claimed_result_hash: Hash,
		) -> DispatchResult {
			let challenger = ensure_signed(origin)?;
			Self::do_challenge(challenger, id, claimed_result_hash)
		}

		/// A drawn verifier's answer: the result hash its re-execution gave.
		#[pallet::call_index(3)]
		#[pallet::weight(
			T::WeightInfo::submit_verdict_upheld(T::MaxScores::get())
				.max(T::WeightInfo::submit_verdict_voided())
		)]
		pub fn submit_verdict(
			origin: OriginFor<T>,
			id: InferenceId,
			result_hash: Hash,
		) -> DispatchResult {
			let verifier = ensure_signed(origin)?;
			Self::do_submit_verdict(verifier, id, result_hash)
		}

		/// Governance decides a challenge the verifiers could not: too few
		/// were drawn, or no majority answered in time.
		#[pallet::call_index(4)]
		#[pallet::weight(
			T::WeightInfo::resolve_challenge_upheld(T::MaxScores::get())
				.max(T::WeightInfo::resolve_challenge_voided())
		)]
		pub fn resolve_challenge(
			origin: OriginFor<T>,
			id: InferenceId,
			outcome: Outcome,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_resolve_by_governance(id, outcome)
		}

		/// Settle a receipt that is due but did not settle in its block.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::settle(T::MaxScores::get()))]
		pub fn settle(origin: OriginFor<T>, id: InferenceId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let scores = Self::do_settle_due(id)?;
			Ok(Some(T::WeightInfo::settle(scores)).into())
		}

		/// Prepay credit for batched inferences.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::deposit_credit())]
		pub fn deposit_credit(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit_credit(who, amount)
		}

		/// Ask credit back; it can be withdrawn after
		/// [`Config::CreditUnlockDelay`] blocks. Replaces an earlier request.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::unlock_credit())]
		pub fn unlock_credit(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unlock_credit(who, amount)
		}

		/// Take back unlocked credit that no worker charged meanwhile.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_credit())]
		pub fn withdraw_credit(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_credit(who)
		}

		/// Settle a batch of inferences on `model` against the users' signed
		/// vouchers and prepaid credit.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::settle_batch(
			batch.per_user.len() as u32,
			batch.contributors.len() as u32,
		))]
		pub fn settle_batch(
			origin: OriginFor<T>,
			model: ModelId,
			batch: BatchOf<T>,
		) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::do_settle_batch(worker, model, batch)
		}

		/// Close expired channels of the caller's and take their deposits
		/// back.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::close_channels(channels.len() as u32))]
		pub fn close_channels(origin: OriginFor<T>, channels: ChannelKeysOf<T>) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::do_close_channels(worker, channels)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// An inference in flight.
		pub fn inference(id: InferenceId) -> Option<InferenceOf<T>> {
			Inferences::<T>::get(id)
		}

		/// An inference's receipt.
		pub fn receipt(id: InferenceId) -> Option<ReceiptOf<T>> {
			Receipts::<T>::get(id)
		}

		/// An open challenge.
		pub fn challenge_of(id: InferenceId) -> Option<ChallengeOf<T>> {
			Challenges::<T>::get(id)
		}

		/// What an inference on `model` with these token counts costs now;
		/// `None` if the model is not deployed.
		pub fn fee_quote(model: ModelId, tokens_in: u32, tokens_out: u32) -> Option<BalanceOf<T>> {
			Self::quote(model, tokens_in, tokens_out)
		}

		/// A user's prepaid credit.
		pub fn credit(who: T::AccountId) -> CreditOf<T> {
			Credits::<T>::get(who).unwrap_or_default()
		}

		/// What a voucher channel has been charged so far.
		pub fn channel_spent(
			user: T::AccountId,
			worker: T::AccountId,
			model: ModelId,
			expires_at: BlockNumberFor<T>,
		) -> BalanceOf<T> {
			Channels::<T>::get((user, worker, model, expires_at))
				.map(|channel| channel.spent)
				.unwrap_or_default()
		}

		/// A settled batch, if still retained.
		pub fn batch(batch: BatchId) -> Option<BatchRecordOf<T>> {
			BatchRoots::<T>::get(batch)
		}
	}
}
