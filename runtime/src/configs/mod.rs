//! The `Config` of every pallet in the runtime, and the accounts of the
//! genesis allocation pools.

use crate::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Hash, Nonce, OriginCaller, PalletInfo,
	Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin,
	RuntimeTask, Session, SessionKeys, Staking, System, DAYS, HOURS, MICRO_OPEN, MILLI_OPEN,
	MINUTES, MONTHS, OPEN, SLOT_DURATION, SS58_PREFIX, TOTAL_SUPPLY_CAP, VERSION,
};
use openledger_primitives::PenaltyScore;
use polkadot_sdk::{
	frame_support::{
		derive_impl,
		dispatch::DispatchClass,
		parameter_types,
		traits::{
			fungible::{Balanced, Credit},
			ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, OnUnbalanced, VariantCountOf,
			WithdrawReasons,
		},
		weights::{
			constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
			ConstantMultiplier, Weight,
		},
		PalletId,
	},
	frame_system::{
		limits::{BlockLength, BlockWeights},
		EnsureRoot,
	},
	pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier},
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_core::Void,
	sp_runtime::{
		traits::{AccountIdConversion, ConvertInto, One, OpaqueKeys},
		Perbill,
	},
	sp_version::RuntimeVersion,
	*,
};

/// Accounts that hold the genesis allocation of DESIGN §3. Each is derived
/// from a `PalletId`, so no one holds its key: funds leave only through the
/// pallet that owns the pool, or, for the vesting pools, once vested.
pub mod pools {
	use super::*;

	/// Community rewards pool (51.71 %): emitted as rewards over 48 months.
	pub const COMMUNITY: PalletId = PalletId(*b"ol/cmnty");
	/// Ecosystem fund (10 %).
	pub const ECOSYSTEM: PalletId = PalletId(*b"ol/ecsys");
	/// Investors (18.29 %): 12-month cliff, then 36 months linear.
	pub const INVESTORS: PalletId = PalletId(*b"ol/invst");
	/// Team (15 %): 12-month cliff, then 36 months linear.
	pub const TEAM: PalletId = PalletId(*b"ol/team_");
	/// Liquidity (5 %).
	pub const LIQUIDITY: PalletId = PalletId(*b"ol/lqdty");
	/// Protocol pool: receives transaction fees, protocol fee shares and dust.
	pub const PROTOCOL: PalletId = PalletId(*b"ol/prtcl");
	/// Rewards pot: holds exactly what the rewards ledger owes (fee credits
	/// and emitted rewards not yet claimed).
	pub const REWARDS_POT: PalletId = PalletId(*b"ol/rwpot");
	/// Credit pot: keeps users' prepaid credit for batched inferences.
	pub const CREDIT_POT: PalletId = PalletId(*b"ol/credt");

	pub fn account(pool: PalletId) -> AccountId {
		pool.into_account_truncating()
	}
}

/// Blocks spend at most this share of their weight on normal extrinsics; the
/// rest is kept for operational ones and the block's own hooks.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Largest block in bytes.
const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	pub const Version: RuntimeVersion = VERSION;
	/// One second of compute per two-second block: the author has two thirds
	/// of the slot to build, and every other node must import in time too.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAX_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO.mul_floor(*max))
		.build();
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = Session;
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = Void;
	type EquivocationReportSystem = ();
}

/// Accounts below this balance are reaped: 0.001 OPEN keeps dust accounts
/// from bloating state while staying negligible for users.
pub const EXISTENTIAL_DEPOSIT: Balance = crate::MILLI_OPEN;

impl pallet_balances::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type Balance = Balance;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ConstU32<0>;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type DoneSlashHandler = ();
}

/// Sends transaction fees and tips to the protocol pool, so fees stay in the
/// supply instead of being burned.
pub struct FeesToProtocolPool;

impl OnUnbalanced<Credit<AccountId, Balances>> for FeesToProtocolPool {
	fn on_nonzero_unbalanced(fees: Credit<AccountId, Balances>) {
		// `resolve` hands the credit back only if the pool could not take it
		// (below the existential deposit); dropping it then burns it, which
		// lowers issuance and so keeps the supply cap.
		let _ = Balances::resolve(&pools::account(pools::PROTOCOL), fees);
	}
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

/// One second of block compute costs 10 OPEN: a transfer, weight and bytes
/// together, costs about 0.007 OPEN.
pub const FEE_PER_PICOSECOND: Balance = 10_000_000;
/// Each byte of an extrinsic costs a millionth of an OPEN.
pub const FEE_PER_BYTE: Balance = crate::MICRO_OPEN;

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, FeesToProtocolPool>;
	type WeightToFee = ConstantMultiplier<Balance, ConstU128<FEE_PER_PICOSECOND>>;
	type LengthToFee = ConstantMultiplier<Balance, ConstU128<FEE_PER_BYTE>>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightInfo = ();
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub const MinVestedTransfer: Balance = crate::OPEN;
	pub UnvestedFundsAllowedWithdrawReasons: WithdrawReasons =
		WithdrawReasons::except(WithdrawReasons::TRANSFER | WithdrawReasons::RESERVE);
}

impl pallet_vesting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type BlockNumberToBalance = ConvertInto;
	type MinVestedTransfer = MinVestedTransfer;
	type WeightInfo = pallet_vesting::weights::SubstrateWeight<Runtime>;
	type UnvestedFundsAllowedWithdrawReasons = UnvestedFundsAllowedWithdrawReasons;
	type BlockNumberProvider = System;
	const MAX_VESTING_SCHEDULES: u32 = 28;
}

/// Team and investor allocations: nothing unlocks for a year, then the rest
/// vests linearly over three years.
pub const VESTING_CLIFF: BlockNumber = 12 * MONTHS;
pub const VESTING_DURATION: BlockNumber = 36 * MONTHS;

parameter_types! {
	pub const SupplyCapOfOpen: Balance = TOTAL_SUPPLY_CAP;
}

impl pallet_supply_cap::Config for Runtime {
	type Currency = Balances;
	type Cap = SupplyCapOfOpen;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Blocks per session: the validator set elected by `Staking` takes
	/// over at a session boundary.
	pub const SessionPeriod: BlockNumber = SESSION_PERIOD;
	pub const SessionOffset: BlockNumber = 0;
	/// Held while session keys are registered, for the storage they take.
	pub const SessionKeyDeposit: Balance = OPEN;
	pub ProtocolPoolAccount: AccountId = pools::account(pools::PROTOCOL);
}

/// Sessions last a minute: a newly bonded validator starts authoring within
/// two minutes, and a rotation with at most 32 validators is cheap.
pub const SESSION_PERIOD: BlockNumber = 30;

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type SessionManager = Staking;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type KeyDeposit = SessionKeyDeposit;
}

parameter_types! {
	pub const MinValidatorBond: Balance = 10_000 * OPEN;
	pub const MinWorkerBond: Balance = 1_000 * OPEN;
	pub const MinAgentBond: Balance = 100 * OPEN;
	/// Bonds stay slashable for a week after unbonding, long enough to
	/// settle any challenge raised against their owner's work.
	pub const UnbondingPeriod: BlockNumber = 7 * DAYS;
}

impl pallet_openledger_staking::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinValidatorBond = MinValidatorBond;
	type MinWorkerBond = MinWorkerBond;
	type MinAgentBond = MinAgentBond;
	type UnbondingPeriod = UnbondingPeriod;
	type MaxUnlockingChunks = ConstU32<32>;
	// At most as many as Aura and GRANDPA accept as authorities.
	type MaxValidators = ConstU32<32>;
	// The dev chain runs on one validator.
	type MinValidators = ConstU32<1>;
	type MaxValidatorCandidates = ConstU32<100>;
	type ValidatorRegistration = Session;
	type ProtocolPool = ProtocolPoolAccount;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type WeightInfo = pallet_openledger_staking::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Every stored item costs 0.01 OPEN plus 0.0001 OPEN per byte, returned
	/// when the item is removed.
	pub const DatanetDepositBase: Balance = 10 * MILLI_OPEN;
	pub const DatanetDepositPerByte: Balance = MILLI_OPEN / 10;
	pub const MinContributionBond: Balance = OPEN / 10;
	pub const RejectSlash: Perbill = Perbill::from_percent(50);
}

/// A rejected contribution raises its contributor's penalty score in the
/// rewards pallet by one point.
pub struct PenaliseRejection;

impl pallet_datanets::OnContributionRejected<AccountId> for PenaliseRejection {
	fn on_contribution_rejected(
		who: &AccountId,
		_datanet: openledger_primitives::DatanetId,
		_contribution: openledger_primitives::ContributionId,
	) {
		<crate::Rewards as PenaltyScore<AccountId>>::raise_penalty(who, 1);
	}

	fn weight() -> Weight {
		<crate::Rewards as PenaltyScore<AccountId>>::raise_penalty_weight()
	}
}

impl pallet_datanets::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = DatanetDepositBase;
	type DepositPerByte = DatanetDepositPerByte;
	type MinContributionBond = MinContributionBond;
	type RejectSlash = RejectSlash;
	type MaxNameLen = ConstU32<64>;
	type MaxSummaryLen = ConstU32<512>;
	type MaxTags = ConstU32<8>;
	type MaxTagLen = ConstU32<32>;
	type MaxUriLen = ConstU32<256>;
	type MaxLicenseLen = ConstU32<64>;
	type MaxCurators = ConstU32<16>;
	type MaxAllowlist = ConstU32<1_000>;
	type MaxContributionsPerDatanet = ConstU32<10_000>;
	type MaxContributionsPerAccount = ConstU32<1_000>;
	type MaxVersions = ConstU32<256>;
	type OnRejection = PenaliseRejection;
	type WeightInfo = pallet_datanets::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// A proposal puts 100 OPEN at stake against spam; half is lost when
	/// fewer than a fifth of the votes cast support it.
	pub const ProposalBond: Balance = 100 * OPEN;
	pub const ModelDepositBase: Balance = 10 * MILLI_OPEN;
	pub const ModelDepositPerByte: Balance = MILLI_OPEN / 10;
	pub const VoteDeposit: Balance = 10 * MILLI_OPEN;
	pub const ServeDeposit: Balance = 10 * MILLI_OPEN;
	/// Three days to vote; development chains set minutes in their genesis.
	pub const VotingPeriod: BlockNumber = 3 * DAYS;
	/// Stays below the unbonding period, so that unbonded OPEN that voted
	/// cannot be withdrawn and vote again before the vote ends.
	pub const MaxVotingPeriod: BlockNumber = UnbondingPeriod::get().saturating_sub(HOURS);
	pub const Quorum: Perbill = Perbill::from_percent(10);
	pub const ApprovalThreshold: Perbill = Perbill::from_percent(50);
	pub const MinSupport: Perbill = Perbill::from_percent(20);
	pub const RejectionSlash: Perbill = Perbill::from_percent(50);
	/// Each share of a model's fee split may move around the standard split
	/// (developer 20 %, infrastructure 20 %, contributors 50 %, protocol
	/// 10 %), but contributors never get less than 30 % and the protocol
	/// never less than 5 %.
	pub DefaultSplitBounds: pallet_model_registry::SplitBounds = pallet_model_registry::SplitBounds {
		min: openledger_primitives::FeeSplit {
			developer: Perbill::from_percent(0),
			infrastructure: Perbill::from_percent(10),
			contributors: Perbill::from_percent(30),
			protocol: Perbill::from_percent(5),
		},
		max: openledger_primitives::FeeSplit {
			developer: Perbill::from_percent(40),
			infrastructure: Perbill::from_percent(40),
			contributors: Perbill::from_percent(80),
			protocol: Perbill::from_percent(20),
		},
	};
}

impl pallet_model_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type Stake = Staking;
	type Datanets = crate::Datanets;
	type ProtocolPool = ProtocolPoolAccount;
	type ProposalBond = ProposalBond;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type VoteDeposit = VoteDeposit;
	type ServeDeposit = ServeDeposit;
	type VotingPeriod = VotingPeriod;
	type MaxVotingPeriod = MaxVotingPeriod;
	type Quorum = Quorum;
	type ApprovalThreshold = ApprovalThreshold;
	type MinSupport = MinSupport;
	type RejectionSlash = RejectionSlash;
	type MaxNameLen = ConstU32<64>;
	type MaxArchitectureLen = ConstU32<32>;
	type MaxUriLen = ConstU32<256>;
	type MaxLicenseLen = ConstU32<64>;
	type MaxDatanetVersions = ConstU32<16>;
	type MaxAdapterVersions = ConstU32<256>;
	type MaxProposalsPerBlock = ConstU32<8>;
	type MaxWorkersPerModel = ConstU32<256>;
	type MaxModelsPerWorker = ConstU32<64>;
	type DefaultSplitBounds = DefaultSplitBounds;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::ModelRegistryHelper;
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	pub RewardsPotAccount: AccountId = pools::account(pools::REWARDS_POT);
	pub CreditPotAccount: AccountId = pools::account(pools::CREDIT_POT);
	pub CommunityPoolAccount: AccountId = pools::account(pools::COMMUNITY);
	/// Everything the community pool was minted with is emitted.
	pub EmissionTotal: Balance = crate::genesis_config_presets::COMMUNITY_SHARE.mul_floor(TOTAL_SUPPLY_CAP);
	pub const ContributorShare: Perbill = Perbill::from_percent(50);
	pub const WorkerShare: Perbill = Perbill::from_percent(30);
	pub const ValidatorShare: Perbill = Perbill::from_percent(20);
	/// A penalty score above three (four rejections, or two lost challenges
	/// and a rejection, not yet decayed) halves an account's rewards.
	pub const PenaltyMultiplier: Perbill = Perbill::from_percent(50);
	/// A tenth of a penalty score decays each epoch (day).
	pub const PenaltyDecay: Perbill = Perbill::from_percent(90);
}

impl pallet_rewards::Config for Runtime {
	type Currency = Balances;
	type PotAccount = RewardsPotAccount;
	type CommunityPool = CommunityPoolAccount;
	type ProtocolPool = ProtocolPoolAccount;
	type EmissionTotal = EmissionTotal;
	type EmissionStart = ConstU32<0>;
	type EmissionDuration = ConstU32<{ 48 * MONTHS }>;
	type EpochLength = ConstU32<DAYS>;
	type ContributorShare = ContributorShare;
	type WorkerShare = WorkerShare;
	type ValidatorShare = ValidatorShare;
	type PenaltyThreshold = ConstU32<3>;
	type PenaltyMultiplier = PenaltyMultiplier;
	type PenaltyDecay = PenaltyDecay;
	type MaxPayoutsPerBlock = ConstU32<500>;
	type MaxCreditsPerCall = ConstU32<1_000>;
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Runtime, Aura>;
	type WeightInfo = pallet_rewards::weights::SubstrateWeight<Runtime>;
}

/// Randomness from the parent block's hash, mixed with the subject.
///
/// Deterministic and known one block ahead: the author of the parent block
/// could have steered it, and a challenger chooses the block it challenges
/// in. It draws challenge verifiers until the chain has a VRF-based source
/// (BABE or a commit-reveal beacon); see the attribution pallet's docs.
pub struct ParentHashRandomness;

impl polkadot_sdk::frame_support::traits::Randomness<Hash, BlockNumber> for ParentHashRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumber) {
		let parent = System::parent_hash();
		let mut seed = alloc::vec::Vec::with_capacity(subject.len().saturating_add(32));
		seed.extend_from_slice(subject);
		seed.extend_from_slice(parent.as_ref());
		let now = System::block_number();
		(
			Hash::from(polkadot_sdk::sp_io::hashing::blake2_256(&seed)),
			now.saturating_sub(1),
		)
	}
}

parameter_types! {
	/// Every inference pays a tenth of a milli-OPEN to the protocol pool.
	pub const PlatformFee: Balance = 100 * MICRO_OPEN;
	pub const ChallengeBond: Balance = 10 * OPEN;
	pub const WorkerSlash: Perbill = Perbill::from_percent(10);
	pub const ChallengerSlash: Perbill = Perbill::from_percent(50);
	pub const WinnerShare: Perbill = Perbill::from_percent(50);
	/// The worker's part of the infrastructure share; the block author that
	/// settles the receipt gets the rest.
	pub const WorkerInfraShare: Perbill = Perbill::from_percent(75);
	pub const ChannelDeposit: Balance = MILLI_OPEN;
}

impl pallet_attribution::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = crate::ModelRegistry;
	type Datanets = crate::Datanets;
	type Stake = Staking;
	type Rewards = crate::Rewards;
	type Randomness = ParentHashRandomness;
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Runtime, Aura>;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type ProtocolPool = ProtocolPoolAccount;
	type CreditPot = CreditPotAccount;
	type Signature = openledger_primitives::Signature;
	type PlatformFee = PlatformFee;
	type ServeTimeout = ConstU32<{ 5 * MINUTES }>;
	type ChallengeWindow = ConstU32<{ 30 * MINUTES }>;
	type ChallengeBond = ChallengeBond;
	type VerifierCount = ConstU32<3>;
	type VerifyWindow = ConstU32<{ 30 * MINUTES }>;
	type WorkerSlash = WorkerSlash;
	type ChallengerSlash = ChallengerSlash;
	type WinnerShare = WinnerShare;
	type WorkerInfraShare = WorkerInfraShare;
	type LossPenalty = ConstU32<2>;
	type MaxScores = ConstU32<32>;
	type MaxRequestsPerBlock = ConstU32<256>;
	type MaxSettlementsPerBlock = ConstU32<64>;
	// At least the registry's most workers per model.
	type MaxVerifierCandidates = ConstU32<256>;
	type MaxBatch = ConstU32<1_024>;
	// The rewards ledger takes 1,000 credits a call: 3 fixed parts plus these.
	type MaxBatchContributors = ConstU32<512>;
	type MaxVoucherLifetime = ConstU32<{ 7 * DAYS }>;
	type CreditUnlockDelay = ConstU32<DAYS>;
	type ChannelDeposit = ChannelDeposit;
	type BatchRootRetention = ConstU32<50_000>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::AttributionHelper;
	type WeightInfo = pallet_attribution::weights::SubstrateWeight<Runtime>;
}

/// What the pallets' benchmarks need set up in the pallets they read.
#[cfg(feature = "runtime-benchmarks")]
mod benchmark_helpers {
	use super::*;
	use alloc::vec::Vec;
	use openledger_primitives::Role;
	use pallet_datanets::{ContributionKind, Review, Visibility};
	use pallet_model_registry::DatanetVersionRef;
	use polkadot_sdk::frame_support::{assert_ok, traits::fungible::Mutate, BoundedVec};

	/// Bonds through the staking pallet and publishes real datanet versions.
	pub struct ModelRegistryHelper;

	/// Deploys real models, contributions and voucher keys for the
	/// attribution pallet's benchmarks.
	pub struct AttributionHelper;

	/// Key type of the benchmark's voucher keys in the benchmark keystore.
	const VOUCHER_KEY: polkadot_sdk::sp_core::crypto::KeyTypeId =
		polkadot_sdk::sp_core::crypto::KeyTypeId(*b"vouc");

	fn funded(who: &AccountId) {
		let _ = Balances::mint_into(who, 1_000_000 * OPEN);
	}

	impl pallet_attribution::BenchmarkHelper<AccountId, openledger_primitives::Signature>
		for AttributionHelper
	{
		fn bond_worker(who: &AccountId) {
			bond(who, Role::Worker, MinWorkerBond::get());
		}

		fn deployed_model(owner: &AccountId) -> openledger_primitives::ModelId {
			use openledger_primitives::{FeeSplit, Hash, Pricing};
			use pallet_model_registry::{ModelStatus, Models, ProposalsEndingAt, Tallies};
			funded(owner);
			let base = pallet_model_registry::NextBaseModelId::<Runtime>::get();
			assert_ok!(crate::ModelRegistry::register_base_model(
				RuntimeOrigin::root(),
				BoundedVec::truncate_from(b"base".to_vec()),
				BoundedVec::truncate_from(b"llama".to_vec()),
				Hash::repeat_byte(1),
				BoundedVec::new(),
				BoundedVec::new(),
			));
			let versions = <ModelRegistryHelper as pallet_model_registry::BenchmarkHelper<
				AccountId,
			>>::datanet_versions(1);
			let model = pallet_model_registry::NextModelId::<Runtime>::get();
			assert_ok!(crate::ModelRegistry::propose_model(
				RuntimeOrigin::signed(owner.clone()),
				base,
				BoundedVec::truncate_from(versions),
				Hash::repeat_byte(2),
				Pricing {
					per_1k_input: OPEN,
					per_1k_output: OPEN
				},
				FeeSplit::standard(),
				None,
			));
			// Decide the vote as passed without waiting out the period.
			if let Some(record) = Models::<Runtime>::get(model) {
				if let ModelStatus::Voting { ends_at } = record.status {
					ProposalsEndingAt::<Runtime>::remove(ends_at);
				}
			}
			Tallies::<Runtime>::remove(model);
			Models::<Runtime>::mutate(model, |record| {
				if let Some(record) = record {
					record.status = ModelStatus::Approved;
				}
			});
			assert_ok!(crate::ModelRegistry::publish_adapter(
				RuntimeOrigin::signed(owner.clone()),
				model,
				Hash::repeat_byte(3),
				BoundedVec::new(),
				Hash::repeat_byte(4),
				Hash::repeat_byte(5),
			));
			model
		}

		fn serve(model: openledger_primitives::ModelId, worker: &AccountId) {
			assert_ok!(crate::ModelRegistry::serve(
				RuntimeOrigin::signed(worker.clone()),
				model
			));
		}

		fn live_contributions(count: u32) -> Vec<openledger_primitives::ContributionId> {
			let owner: AccountId =
				polkadot_sdk::frame_benchmarking::account("contributions-owner", 0, 0);
			funded(&owner);
			let datanet = pallet_datanets::NextDatanetId::<Runtime>::get();
			assert_ok!(crate::Datanets::create_datanet(
				RuntimeOrigin::signed(owner.clone()),
				BoundedVec::truncate_from(b"benchmark".to_vec()),
				BoundedVec::new(),
				[0u8; 32],
				BoundedVec::new(),
				Visibility::Public,
				MinContributionBond::get(),
			));
			(0..count)
				.map(|i| {
					let contributor: AccountId =
						polkadot_sdk::frame_benchmarking::account("contributor", i, 0);
					funded(&contributor);
					let id = pallet_datanets::NextContributionId::<Runtime>::get();
					let mut content = [0u8; 32];
					content[..4].copy_from_slice(&i.to_le_bytes());
					content[4..8].copy_from_slice(&datanet.0.to_le_bytes());
					assert_ok!(crate::Datanets::contribute(
						RuntimeOrigin::signed(contributor),
						datanet,
						content,
						1,
						BoundedVec::new(),
						BoundedVec::new(),
						ContributionKind::Text,
					));
					assert_ok!(crate::Datanets::review(
						RuntimeOrigin::signed(owner.clone()),
						id,
						Review::Accept
					));
					id
				})
				.collect()
		}

		fn voucher_signer(index: u32) -> AccountId {
			let seed = alloc::format!("//voucher/{index}").into_bytes();
			let public = polkadot_sdk::sp_io::crypto::sr25519_generate(VOUCHER_KEY, Some(seed));
			AccountId::from(public)
		}

		// Benchmark set-up only: `voucher_signer` put the key in the keystore,
		// so a missing key is a broken benchmark, not a chain condition.
		#[allow(clippy::panic)]
		fn sign(signer: &AccountId, message: &[u8]) -> openledger_primitives::Signature {
			let raw: [u8; 32] = signer.clone().into();
			let public = polkadot_sdk::sp_core::sr25519::Public::from_raw(raw);
			let signature =
				polkadot_sdk::sp_io::crypto::sr25519_sign(VOUCHER_KEY, &public, message)
					.unwrap_or_else(|| panic!("the benchmark keystore holds the voucher key"));
			openledger_primitives::Signature::Sr25519(signature)
		}
	}

	fn bond(who: &AccountId, role: Role, amount: Balance) {
		let _ = Balances::mint_into(who, amount.saturating_add(OPEN));
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(who.clone()),
			role,
			amount
		));
	}

	impl pallet_model_registry::BenchmarkHelper<AccountId> for ModelRegistryHelper {
		fn bond_voter(who: &AccountId) {
			bond(who, Role::Agent, MinAgentBond::get());
		}

		fn bond_worker(who: &AccountId) {
			bond(who, Role::Worker, MinWorkerBond::get());
		}

		fn datanet_versions(count: u32) -> Vec<DatanetVersionRef> {
			let owner: AccountId = polkadot_sdk::frame_benchmarking::account("datanet-owner", 0, 0);
			let _ = Balances::mint_into(&owner, 1_000 * OPEN);
			let origin = || RuntimeOrigin::signed(owner.clone());
			(0..count)
				.map(|i| {
					let datanet = pallet_datanets::NextDatanetId::<Runtime>::get();
					assert_ok!(crate::Datanets::create_datanet(
						origin(),
						BoundedVec::truncate_from(b"benchmark".to_vec()),
						BoundedVec::new(),
						[0u8; 32],
						BoundedVec::new(),
						Visibility::Public,
						MinContributionBond::get(),
					));
					let contribution = pallet_datanets::NextContributionId::<Runtime>::get();
					let mut content = [0u8; 32];
					content[..4].copy_from_slice(&i.to_le_bytes());
					assert_ok!(crate::Datanets::contribute(
						origin(),
						datanet,
						content,
						1,
						BoundedVec::new(),
						BoundedVec::new(),
						ContributionKind::Text,
					));
					assert_ok!(crate::Datanets::review(
						origin(),
						contribution,
						Review::Accept
					));
					assert_ok!(crate::Datanets::publish_version(origin(), datanet));
					DatanetVersionRef {
						datanet,
						version: 1,
					}
				})
				.collect()
		}
	}
}
