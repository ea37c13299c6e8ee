//! # Model Registry
//!
//! Base models, stake-weighted approval of specialised models, their LoRA
//! adapter versions, and the workers that serve them.
//!
//! ## Overview
//!
//! - **Base models** are registered by [`Config::GovernanceOrigin`]: the
//!   foundation weights (hash, uri, license) that specialised models
//!   fine-tune.
//! - **Proposals.** Anyone may propose a model: a base model, the published
//!   datanet versions it will be trained on, a training configuration hash,
//!   prices per 1,000 input and output tokens, and a fee split inside the
//!   governance [`SplitBounds`]. The proposer's bond ([`Config::ProposalBond`])
//!   and a storage deposit are held.
//! - **Voting.** For [`VotingPeriodBlocks`] blocks (genesis or governance
//!   sets it, at most [`Config::MaxVotingPeriod`]), accounts vote Aye or
//!   Nay with their bonded OPEN in the staking pallet as weight, taken when
//!   the vote is cast. A vote may be changed (it is re-weighed) or removed
//!   while the period runs. Bonded OPEN that is unbonded after voting stays
//!   held for the staking pallet's unbonding period, which the runtime keeps
//!   longer than the voting period, so the same OPEN cannot vote twice. The
//!   outcome is applied when the period ends, in `on_initialize`, for at
//!   most [`Config::MaxProposalsPerBlock`] proposals per block: approved with
//!   turnout of at least [`Config::Quorum`] of all bonded OPEN and more than
//!   [`Config::ApprovalThreshold`] of the turnout in favour; otherwise
//!   rejected, the record removed and its deposit returned, and the bond too
//!   unless support was below [`Config::MinSupport`], in which case
//!   [`Config::RejectionSlash`] of it goes to the protocol pool.
//! - **Adapters.** The owner or the named trainer publishes adapter
//!   versions of an approved model (adapter hash, uri, attribution index
//!   root, training report hash); the first makes it `Deployed`. Versions
//!   are permanent, so a model's lineage (adapter versions → datanet
//!   versions → contributions) stays queryable.
//! - **Serving.** Accounts with an active worker bond announce that they
//!   serve a deployed model, holding [`Config::ServeDeposit`] until they
//!   stop.
//! - **Retirement** by the owner or governance ends serving and returns the
//!   proposal bond; the record stays for lineage.
//!
//! ## Dispatchable functions
//!
//! ### `register_base_model(name, architecture, weights_hash, uri, license)`
//! #### Dispatch Origin
//! [`Config::GovernanceOrigin`].
//! #### Errors
//! [`Error::EmptyName`], [`Error::IdsExhausted`].
//! #### Events
//! [`Event::BaseModelRegistered`].
//!
//! ### `propose_model(base, datanet_versions, training_config_hash, pricing, split, trainer)`
//! #### Dispatch Origin
//! Signed: the proposer, who becomes the owner.
//! #### Errors
//! [`Error::UnknownBaseModel`], [`Error::NoDatanetVersions`],
//! [`Error::DuplicateDatanetVersion`], [`Error::UnknownDatanetVersion`],
//! [`Error::SplitOutOfBounds`], [`Error::IdsExhausted`],
//! [`Error::TooManyProposalsEnding`], [`Error::InsufficientBalance`].
//! #### Events
//! [`Event::ModelProposed`].
//!
//! ### `vote(model, vote)` and `remove_vote(model)`
//! #### Dispatch Origin
//! Signed: the voter.
//! #### Errors
//! [`Error::UnknownModel`], [`Error::VotingClosed`], [`Error::NoVotingWeight`],
//! [`Error::InsufficientBalance`]; `remove_vote`: [`Error::NoVote`].
//! #### Events
//! [`Event::Voted`], [`Event::VoteRemoved`]. When a period ends:
//! [`Event::ModelApproved`] or [`Event::ModelRejected`].
//!
//! ### `publish_adapter(model, adapter_hash, uri, attribution_index_root, training_report_hash)`
//! #### Dispatch Origin
//! Signed: the owner or the trainer.
//! #### Errors
//! [`Error::UnknownModel`], [`Error::NotPublisher`], [`Error::NotApproved`],
//! [`Error::TooManyAdapterVersions`], [`Error::InsufficientBalance`].
//! #### Events
//! [`Event::AdapterPublished`].
//!
//! ### `serve(model)` and `unserve(model)`
//! #### Dispatch Origin
//! Signed: the worker.
//! #### Errors
//! [`Error::UnknownModel`], [`Error::NotDeployed`], [`Error::NotWorker`],
//! [`Error::AlreadyServing`], [`Error::TooManyWorkers`],
//! [`Error::TooManyModelsServed`], [`Error::InsufficientBalance`];
//! `unserve`: [`Error::NotServing`].
//! #### Events
//! [`Event::ServingStarted`], [`Event::ServingStopped`].
//!
//! ### `retire(model)`
//! #### Dispatch Origin
//! Signed by the owner, or [`Config::GovernanceOrigin`].
//! #### Errors
//! [`Error::UnknownModel`], [`Error::NotOwner`], [`Error::StillVoting`],
//! [`Error::AlreadyRetired`].
//! #### Events
//! [`Event::ModelRetired`].
//!
//! ### `set_split_bounds(bounds)`
//! #### Dispatch Origin
//! [`Config::GovernanceOrigin`].
//! #### Errors
//! [`Error::InvalidSplitBounds`].
//! #### Events
//! [`Event::SplitBoundsSet`].
//!
//! ### `set_voting_period(blocks)`
//! #### Dispatch Origin
//! [`Config::GovernanceOrigin`].
//! #### Errors
//! [`Error::InvalidVotingPeriod`].
//! #### Events
//! [`Event::VotingPeriodSet`].

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
mod types;
pub mod weights;

use openledger_primitives::{BaseModelId, FeeSplit, Hash, ModelId, Pricing};
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::fungible},
	frame_system::pallet_prelude::BlockNumberFor,
};

/// The balance type of [`Config::Currency`].
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
>>::Balance;
/// A base model's name.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
/// A base model's architecture tag.
pub type ArchitectureOf<T> = BoundedVec<u8, <T as Config>::MaxArchitectureLen>;
/// Where weights or an adapter can be fetched.
pub type UriOf<T> = BoundedVec<u8, <T as Config>::MaxUriLen>;
/// An SPDX license identifier.
pub type LicenseOf<T> = BoundedVec<u8, <T as Config>::MaxLicenseLen>;
/// The datanet versions of one model.
pub type DatanetVersionsOf<T> = BoundedVec<DatanetVersionRef, <T as Config>::MaxDatanetVersions>;
/// A base model record.
pub type BaseModelOf<T> =
	BaseModel<NameOf<T>, ArchitectureOf<T>, UriOf<T>, LicenseOf<T>, BlockNumberFor<T>>;
/// A model record.
pub type ModelOf<T> = Model<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	DatanetVersionsOf<T>,
>;
/// An adapter version record.
pub type AdapterVersionOf<T> = AdapterVersion<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	UriOf<T>,
>;
/// A model with its base and adapters.
pub type LineageOf<T> = Lineage<ModelOf<T>, BaseModelOf<T>, AdapterVersionOf<T>>;

/// Sets up what the benchmarks need from the pallets this one reads.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Gives `who` voting weight (a bond in the staking pallet).
	fn bond_voter(who: &AccountId);
	/// Gives `who` an active worker bond.
	fn bond_worker(who: &AccountId);
	/// Makes `count` datanet versions exist and returns them.
	fn datanet_versions(count: u32) -> alloc::vec::Vec<DatanetVersionRef>;
}

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
	use openledger_primitives::{BondedStake, DatanetsInspect};
	use polkadot_sdk::{
		frame_support::traits::fungible::MutateHold, frame_system::pallet_prelude::*,
		sp_runtime::Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The OPEN token: bonds and deposits are holds on it.
		type Currency: fungible::Mutate<Self::AccountId>
			+ MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;

		/// Registers base models, sets split bounds, may retire any model.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Bonded OPEN: voting weight and worker bonds.
		type Stake: BondedStake<Self::AccountId, BalanceOf<Self>>;

		/// Which datanet versions exist.
		type Datanets: DatanetsInspect<Self::AccountId>;

		/// Receives the slashed part of rejected proposals' bonds.
		type ProtocolPool: Get<Self::AccountId>;

		/// Held from a proposer for as long as the model lives, against spam
		/// proposals.
		#[pallet::constant]
		type ProposalBond: Get<BalanceOf<Self>>;

		/// Base of each storage deposit.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Storage deposit per byte of a record.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Held from a voter until the vote is removed: pays for the vote's
		/// storage.
		#[pallet::constant]
		type VoteDeposit: Get<BalanceOf<Self>>;

		/// Held from a worker while it serves a model.
		#[pallet::constant]
		type ServeDeposit: Get<BalanceOf<Self>>;

		/// Blocks a proposal is open for votes until genesis or governance
		/// sets another period.
		#[pallet::constant]
		type VotingPeriod: Get<BlockNumberFor<Self>>;

		/// Longest voting period governance may set. Must be shorter than the
		/// staking pallet's unbonding period, so that OPEN unbonded after
		/// voting is still held when the vote ends.
		#[pallet::constant]
		type MaxVotingPeriod: Get<BlockNumberFor<Self>>;

		/// Share of all bonded OPEN that must vote for a decision to pass.
		#[pallet::constant]
		type Quorum: Get<Perbill>;

		/// A proposal passes when more than this share of its turnout is Aye.
		#[pallet::constant]
		type ApprovalThreshold: Get<Perbill>;

		/// A rejected proposal with an Aye share below this loses
		/// [`Config::RejectionSlash`] of its bond.
		#[pallet::constant]
		type MinSupport: Get<Perbill>;

		/// Share of the bond slashed from a poorly supported proposal.
		#[pallet::constant]
		type RejectionSlash: Get<Perbill>;

		/// Longest base model name.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest architecture tag.
		#[pallet::constant]
		type MaxArchitectureLen: Get<u32>;

		/// Longest uri.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Longest license identifier.
		#[pallet::constant]
		type MaxLicenseLen: Get<u32>;

		/// Most datanet versions one model may train on.
		#[pallet::constant]
		type MaxDatanetVersions: Get<u32>;

		/// Most adapter versions of one model.
		#[pallet::constant]
		type MaxAdapterVersions: Get<u32>;

		/// Most proposals whose vote ends in the same block: bounds the work
		/// of one `on_initialize`.
		#[pallet::constant]
		type MaxProposalsPerBlock: Get<u32>;

		/// Most workers serving one model.
		#[pallet::constant]
		type MaxWorkersPerModel: Get<u32>;

		/// Most models one worker serves.
		#[pallet::constant]
		type MaxModelsPerWorker: Get<u32>;

		/// Split bounds before governance first sets them.
		type DefaultSplitBounds: Get<SplitBounds>;

		/// Sets up the other pallets for this pallet's benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds OPEN.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A proposal bond.
		#[codec(index = 0)]
		ProposalBond,
		/// A storage deposit: a model, an adapter version, a vote or a
		/// serving entry.
		#[codec(index = 1)]
		StorageDeposit,
	}

	#[pallet::type_value]
	pub fn DefaultSplitBoundsValue<T: Config>() -> SplitBounds {
		T::DefaultSplitBounds::get()
	}

	#[pallet::type_value]
	pub fn DefaultVotingPeriod<T: Config>() -> BlockNumberFor<T> {
		T::VotingPeriod::get()
	}

	/// Blocks a new proposal is open for votes.
	#[pallet::storage]
	pub type VotingPeriodBlocks<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, DefaultVotingPeriod<T>>;

	#[pallet::genesis_config]
	#[derive(polkadot_sdk::frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The voting period, if not [`Config::VotingPeriod`]: development
		/// chains vote in minutes rather than days.
		pub voting_period: Option<BlockNumberFor<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Some(period) = self.voting_period {
				assert!(
					Pallet::<T>::valid_voting_period(period),
					"the genesis voting period must be between 1 and MaxVotingPeriod blocks"
				);
				VotingPeriodBlocks::<T>::put(period);
			}
		}
	}

	/// The id the next base model gets.
	#[pallet::storage]
	pub type NextBaseModelId<T> = StorageValue<_, BaseModelId, ValueQuery>;

	/// The id the next model gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery>;

	/// Base models by id.
	///
	/// `Twox64Concat`: ids come from a counter. No deposit: only governance
	/// registers base models.
	#[pallet::storage]
	pub type BaseModels<T: Config> = StorageMap<_, Twox64Concat, BaseModelId, BaseModelOf<T>>;

	/// Models by id, from proposal on. Rejected proposals are removed;
	/// retired models stay.
	///
	/// `Twox64Concat`: counter-assigned key. Deposit: the record's bytes and
	/// its tally, from the owner.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Twox64Concat, ModelId, ModelOf<T>>;

	/// The running tally of each model under vote.
	///
	/// `Twox64Concat`: counter-assigned key. Paid by the model's deposit.
	#[pallet::storage]
	pub type Tallies<T: Config> = StorageMap<_, Twox64Concat, ModelId, Tally<BalanceOf<T>>>;

	/// Votes by model and voter. Kept after the vote ends until the voter
	/// removes it and takes its deposit back.
	///
	/// `Twox64Concat` for the counter-assigned model, `Blake2_128Concat` for
	/// the voter, whom anyone can choose. Deposit: [`Config::VoteDeposit`]
	/// from the voter.
	#[pallet::storage]
	pub type Votes<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		ModelId,
		Blake2_128Concat,
		T::AccountId,
		VoteRecord<BalanceOf<T>>,
	>;

	/// Proposals whose vote is decided at the start of each block.
	///
	/// `Twox64Concat`: block numbers cannot be chosen beyond the voting
	/// period. Paid by the models' deposits.
	#[pallet::storage]
	pub type ProposalsEndingAt<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<ModelId, T::MaxProposalsPerBlock>,
		ValueQuery,
	>;

	/// Adapter versions of each model, numbered from 1.
	///
	/// `Twox64Concat` on both counter-assigned keys. Deposit: the record's
	/// bytes, from the publisher, held for good.
	#[pallet::storage]
	pub type Adapters<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Twox64Concat, u32, AdapterVersionOf<T>>;

	/// Workers serving each model, with the deposit each holds.
	///
	/// `Twox64Concat` for the model, `Blake2_128Concat` for the worker.
	/// Deposit: [`Config::ServeDeposit`] from the worker.
	#[pallet::storage]
	pub type Servers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, ModelId, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// How many workers serve each model.
	///
	/// `Twox64Concat`: counter-assigned key. Paid by the serving deposits.
	#[pallet::storage]
	pub type ServerCount<T: Config> = StorageMap<_, Twox64Concat, ModelId, u32, ValueQuery>;

	/// The models each worker serves.
	///
	/// `Blake2_128Concat`: accounts are user-chosen. Paid by the serving
	/// deposits.
	#[pallet::storage]
	pub type ServedBy<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<ModelId, T::MaxModelsPerWorker>,
		ValueQuery,
	>;

	/// The bounds every new proposal's fee split must fall within.
	#[pallet::storage]
	pub type SplitLimits<T: Config> =
		StorageValue<_, SplitBounds, ValueQuery, DefaultSplitBoundsValue<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance registered a base model.
		BaseModelRegistered {
			base: BaseModelId,
			weights_hash: Hash,
		},
		/// A model was proposed; its vote ends at `ends_at`.
		ModelProposed {
			model: ModelId,
			owner: T::AccountId,
			base: BaseModelId,
			ends_at: BlockNumberFor<T>,
			bond: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A vote was cast or changed.
		Voted {
			model: ModelId,
			voter: T::AccountId,
			vote: Vote,
			weight: BalanceOf<T>,
		},
		/// A vote was removed and its deposit returned.
		VoteRemoved { model: ModelId, voter: T::AccountId },
		/// The vote passed: the model awaits its first adapter.
		ModelApproved {
			model: ModelId,
			ayes: BalanceOf<T>,
			nays: BalanceOf<T>,
		},
		/// The vote failed: the record is gone, the deposit returned, and
		/// `slashed` of the bond went to the protocol pool.
		ModelRejected {
			model: ModelId,
			ayes: BalanceOf<T>,
			nays: BalanceOf<T>,
			slashed: BalanceOf<T>,
		},
		/// An adapter version was published; the model is deployed.
		AdapterPublished {
			model: ModelId,
			version: u32,
			adapter_hash: Hash,
			attribution_index_root: Hash,
			publisher: T::AccountId,
			deposit: BalanceOf<T>,
		},
		/// A worker started serving a model.
		ServingStarted {
			model: ModelId,
			worker: T::AccountId,
		},
		/// A worker stopped serving a model.
		ServingStopped {
			model: ModelId,
			worker: T::AccountId,
		},
		/// A model was retired; its bond went back to the owner.
		ModelRetired {
			model: ModelId,
			bond_released: BalanceOf<T>,
		},
		/// Governance set new split bounds.
		SplitBoundsSet { bounds: SplitBounds },
		/// Governance set the voting period of new proposals.
		VotingPeriodSet { blocks: BlockNumberFor<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The base model's name is empty.
		EmptyName,
		/// All ids of this kind are used up.
		IdsExhausted,
		/// No base model has this id.
		UnknownBaseModel,
		/// A model must be trained on at least one datanet version.
		NoDatanetVersions,
		/// The same datanet version is listed twice.
		DuplicateDatanetVersion,
		/// A listed datanet version was never published.
		UnknownDatanetVersion,
		/// The fee split does not sum to 100 % or a share is outside the
		/// governance bounds.
		SplitOutOfBounds,
		/// [`Config::MaxProposalsPerBlock`] proposals already end in the block
		/// this one would: try again next block.
		TooManyProposalsEnding,
		/// The account cannot cover the bond or deposit being held.
		InsufficientBalance,
		/// No model has this id (never proposed, or rejected).
		UnknownModel,
		/// The model is not under vote.
		VotingClosed,
		/// The account has no bonded OPEN to vote with.
		NoVotingWeight,
		/// The account has no vote on this model.
		NoVote,
		/// Only the owner or the trainer may publish adapters.
		NotPublisher,
		/// Adapters can only be published for approved or deployed models.
		NotApproved,
		/// The model has [`Config::MaxAdapterVersions`] versions.
		TooManyAdapterVersions,
		/// The model is not deployed: it cannot be served.
		NotDeployed,
		/// Serving needs an active worker bond in the staking pallet.
		NotWorker,
		/// The worker already serves the model.
		AlreadyServing,
		/// The worker does not serve the model.
		NotServing,
		/// The model has [`Config::MaxWorkersPerModel`] workers.
		TooManyWorkers,
		/// The worker serves [`Config::MaxModelsPerWorker`] models.
		TooManyModelsServed,
		/// Only the owner or governance may retire a model.
		NotOwner,
		/// A model under vote cannot be retired; it is decided first.
		StillVoting,
		/// The model is already retired.
		AlreadyRetired,
		/// A minimum exceeds its maximum, or no complete split fits.
		InvalidSplitBounds,
		/// A voting period must be at least one block and at most
		/// [`Config::MaxVotingPeriod`].
		InvalidVotingPeriod,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::decide_proposals_ending_at(now)
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
		/// Register a base model that specialised models may fine-tune.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_base_model())]
		pub fn register_base_model(
			origin: OriginFor<T>,
			name: NameOf<T>,
			architecture: ArchitectureOf<T>,
			weights_hash: Hash,
			uri: UriOf<T>,
			license: LicenseOf<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_register_base_model(name, architecture, weights_hash, uri, license)
		}

		/// Propose a specialised model for stakers to approve. Holds the
		/// proposal bond and a storage deposit.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::propose_model(datanet_versions.len() as u32))]
		pub fn propose_model(
			origin: OriginFor<T>,
			base: BaseModelId,
			datanet_versions: DatanetVersionsOf<T>,
			training_config_hash: Hash,
			pricing: Pricing<BalanceOf<T>>,
			split: FeeSplit,
			trainer: Option<T::AccountId>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_propose_model(
				owner,
				base,
				datanet_versions,
				training_config_hash,
				pricing,
				split,
				trainer,
			)
		}

		/// Vote on a proposal with the caller's bonded OPEN, or change the
		/// vote (re-weighed with today's bond).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::vote())]
		pub fn vote(origin: OriginFor<T>, model: ModelId, vote: Vote) -> DispatchResult {
			let voter = ensure_signed(origin)?;
			Self::do_vote(voter, model, vote)
		}

		/// Remove the caller's vote: from the tally while the vote runs, and
		/// in any case return its deposit.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove_vote())]
		pub fn remove_vote(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let voter = ensure_signed(origin)?;
			Self::do_remove_vote(voter, model)
		}

		/// Publish an adapter version of an approved or deployed model.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::publish_adapter())]
		pub fn publish_adapter(
			origin: OriginFor<T>,
			model: ModelId,
			adapter_hash: Hash,
			uri: UriOf<T>,
			attribution_index_root: Hash,
			training_report_hash: Hash,
		) -> DispatchResult {
			let publisher = ensure_signed(origin)?;
			Self::do_publish_adapter(
				publisher,
				model,
				adapter_hash,
				uri,
				attribution_index_root,
				training_report_hash,
			)
		}

		/// Announce that the caller, a bonded worker, serves a deployed model.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::serve())]
		pub fn serve(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::do_serve(worker, model)
		}

		/// Stop serving a model and take the serving deposit back.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::unserve())]
		pub fn unserve(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let worker = ensure_signed(origin)?;
			Self::do_unserve(worker, model)
		}

		/// Retire a model: no more serving or adapters; the bond goes back
		/// to the owner.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::retire())]
		pub fn retire(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let by_owner = match T::GovernanceOrigin::try_origin(origin) {
				Ok(_) => None,
				Err(origin) => Some(ensure_signed(origin)?),
			};
			Self::do_retire(by_owner, model)
		}

		/// Set the bounds of new proposals' fee splits.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_split_bounds())]
		pub fn set_split_bounds(origin: OriginFor<T>, bounds: SplitBounds) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(bounds.is_satisfiable(), Error::<T>::InvalidSplitBounds);
			SplitLimits::<T>::put(bounds);
			Self::deposit_event(Event::SplitBoundsSet { bounds });
			Ok(())
		}

		/// Set the voting period of proposals made from now on.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_voting_period())]
		pub fn set_voting_period(
			origin: OriginFor<T>,
			blocks: BlockNumberFor<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			ensure!(
				Self::valid_voting_period(blocks),
				Error::<T>::InvalidVotingPeriod
			);
			VotingPeriodBlocks::<T>::put(blocks);
			Self::deposit_event(Event::VotingPeriodSet { blocks });
			Ok(())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// A base model.
		pub fn base_model(base: BaseModelId) -> Option<BaseModelOf<T>> {
			BaseModels::<T>::get(base)
		}

		/// A model.
		pub fn model(model: ModelId) -> Option<ModelOf<T>> {
			Models::<T>::get(model)
		}

		/// A model with its base model and every adapter version.
		pub fn lineage(model: ModelId) -> Option<LineageOf<T>> {
			Self::lineage_of(model)
		}

		/// The workers serving a model.
		pub fn serving_workers(model: ModelId) -> Vec<T::AccountId> {
			<Pallet<T> as openledger_primitives::ModelRegistryInspect<_, _>>::serving_workers(model)
		}

		/// The models a worker serves.
		pub fn models_served_by(worker: T::AccountId) -> Vec<ModelId> {
			ServedBy::<T>::get(worker).into_inner()
		}

		/// The tally of a model under vote and what deciding it now needs.
		pub fn proposal_tally(
			model: ModelId,
		) -> Option<TallyView<BalanceOf<T>, BlockNumberFor<T>>> {
			Self::tally_view(model)
		}

		/// The bounds new proposals' fee splits must fall within.
		pub fn split_bounds() -> SplitBounds {
			SplitLimits::<T>::get()
		}

		/// Blocks a proposal made now is open for votes.
		pub fn voting_period() -> BlockNumberFor<T> {
			VotingPeriodBlocks::<T>::get()
		}
	}
}
