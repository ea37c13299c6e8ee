//! A test runtime: balances, the real staking pallet (worker bonds and
//! slashes), the real model registry (deployed models, serving workers), the
//! real rewards pallet (ledger, pot, notes, penalties; a switch makes it
//! refuse payments), a stand-in for the datanets pallet (live contributions),
//! and this pallet. Accounts are
//! 32-byte keys so that users can sign vouchers with sr25519.

use crate as pallet_attribution;
use openledger_primitives::{
	ContributionId, DatanetId, DatanetsInspect, FeeSplit, Hash, PenaltyScore, Pricing, RewardLedger,
};
use pallet_model_registry::{DatanetVersionRef, SplitBounds};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{
			fungible::{Inspect, InspectHold},
			ConstU128, ConstU32, ConstU64, FindAuthor, Hooks, Randomness, ValidatorRegistration,
		},
		weights::{
			constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
			Weight,
		},
		BoundedVec,
	},
	frame_system::{self, limits::BlockWeights, EnsureRoot},
	pallet_balances,
	sp_core::{sr25519, Pair},
	sp_runtime::{
		traits::{IdentifyAccount, IdentityLookup},
		AccountId32, BuildStorage, ConsensusEngineId, DispatchError, DispatchResult,
		MultiSignature, MultiSigner, Perbill,
	},
};
use std::collections::BTreeMap;

pub type AccountId = AccountId32;
pub type Balance = u128;

type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Staking: pallet_openledger_staking,
		Registry: pallet_model_registry,
		Rewards: pallet_rewards,
		Attribution: pallet_attribution,
	}
);

parameter_types! {
	/// The runtime's block limits (runtime/src/configs/mod.rs): one second
	/// of compute per two-second block, 75 % of it for normal extrinsics.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		Perbill::from_percent(75),
	);
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
	type BlockWeights = RuntimeBlockWeights;
	type DbWeight = ParityDbWeight;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
}

/// No account has session keys: this runtime elects no validators.
pub struct NoSessionKeys;

impl ValidatorRegistration<AccountId> for NoSessionKeys {
	fn is_registered(_: &AccountId) -> bool {
		false
	}
}

pub const PROTOCOL_POOL: AccountId = AccountId32::new([0x99; 32]);
/// The rewards pallet's pot.
pub const POT: AccountId = AccountId32::new([0x98; 32]);
pub const WORKER_BOND: Balance = 1_000;

/// Keeps users' prepaid credit.
pub const CREDIT_POT: AccountId = AccountId32::new([0x96; 32]);

parameter_types! {
	pub const ProtocolPool: AccountId = PROTOCOL_POOL;
	pub const CreditPot: AccountId = CREDIT_POT;
}

impl pallet_openledger_staking::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinValidatorBond = ConstU128<100>;
	type MinWorkerBond = ConstU128<50>;
	type MinAgentBond = ConstU128<20>;
	type UnbondingPeriod = ConstU64<20>;
	type MaxUnlockingChunks = ConstU32<3>;
	type MaxValidators = ConstU32<3>;
	type MinValidators = ConstU32<1>;
	type MaxValidatorCandidates = ConstU32<5>;
	type ValidatorRegistration = NoSessionKeys;
	type ProtocolPool = ProtocolPool;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type WeightInfo = ();
}

parameter_types! {
	/// Live contributions and their contributors, standing in for the
	/// datanets pallet.
	pub static LiveContributions: BTreeMap<ContributionId, AccountId> = BTreeMap::new();
}

/// Answers from [`LiveContributions`]; every datanet version exists.
pub struct MockDatanets;

impl DatanetsInspect<AccountId> for MockDatanets {
	fn version_exists(_: DatanetId, _: u32) -> bool {
		true
	}

	fn live_contributor(contribution: ContributionId) -> Option<AccountId> {
		LiveContributions::get().get(&contribution).cloned()
	}
}

pub const MAX_WORKERS_PER_MODEL: u32 = 8;

parameter_types! {
	pub DefaultSplitBounds: SplitBounds = SplitBounds {
		min: FeeSplit {
			developer: Perbill::zero(),
			infrastructure: Perbill::zero(),
			contributors: Perbill::zero(),
			protocol: Perbill::zero(),
		},
		max: FeeSplit {
			developer: Perbill::one(),
			infrastructure: Perbill::one(),
			contributors: Perbill::one(),
			protocol: Perbill::one(),
		},
	};
}

impl pallet_model_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type Stake = Staking;
	type Datanets = MockDatanets;
	type ProtocolPool = ProtocolPool;
	type ProposalBond = ConstU128<100>;
	type DepositBase = ConstU128<2>;
	type DepositPerByte = ConstU128<0>;
	type VoteDeposit = ConstU128<3>;
	type ServeDeposit = ConstU128<4>;
	type VotingPeriod = ConstU64<2>;
	type MaxVotingPeriod = ConstU64<10>;
	type Quorum = ();
	type ApprovalThreshold = ApprovalThreshold;
	type MinSupport = ();
	type RejectionSlash = ();
	type MaxNameLen = ConstU32<32>;
	type MaxArchitectureLen = ConstU32<16>;
	type MaxUriLen = ConstU32<64>;
	type MaxLicenseLen = ConstU32<16>;
	type MaxDatanetVersions = ConstU32<4>;
	type MaxAdapterVersions = ConstU32<4>;
	type MaxProposalsPerBlock = ConstU32<4>;
	type MaxWorkersPerModel = ConstU32<MAX_WORKERS_PER_MODEL>;
	type MaxModelsPerWorker = ConstU32<4>;
	type DefaultSplitBounds = DefaultSplitBounds;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryBenchmarkHelper;
	type WeightInfo = ();
}

parameter_types! {
	pub const ApprovalThreshold: Perbill = Perbill::from_percent(50);
}

/// The registry's benchmarks are not run here; this only satisfies its
/// `Config`.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_model_registry::BenchmarkHelper<AccountId> for RegistryBenchmarkHelper {
	fn bond_voter(who: &AccountId) {
		bond(who, openledger_primitives::Role::Agent);
	}

	fn bond_worker(who: &AccountId) {
		bond(who, openledger_primitives::Role::Worker);
	}

	fn datanet_versions(count: u32) -> Vec<DatanetVersionRef> {
		(0..count)
			.map(|i| DatanetVersionRef {
				datanet: DatanetId(i),
				version: 1,
			})
			.collect()
	}
}

pub const COMMUNITY_POOL: AccountId = AccountId32::new([0x97; 32]);
/// Long enough that no epoch ends, and no emission is paid, in a test.
pub const EPOCH_LENGTH: u64 = 1_000_000;
pub const PENALTY_THRESHOLD: u32 = 10;

parameter_types! {
	pub const PotAccount: AccountId = POT;
	pub const CommunityPool: AccountId = COMMUNITY_POOL;
	pub const ContributorShare: Perbill = Perbill::from_percent(50);
	pub const RewardsWorkerShare: Perbill = Perbill::from_percent(30);
	pub const ValidatorShare: Perbill = Perbill::from_percent(20);
	pub const PenaltyMultiplier: Perbill = Perbill::from_percent(40);
	pub const PenaltyDecay: Perbill = Perbill::from_percent(50);
}

impl pallet_rewards::Config for Test {
	type Currency = Balances;
	type PotAccount = PotAccount;
	type CommunityPool = CommunityPool;
	type ProtocolPool = ProtocolPool;
	type EmissionTotal = ConstU128<1_000_000>;
	type EmissionStart = ConstU64<0>;
	type EmissionDuration = ConstU64<{ 48 * EPOCH_LENGTH }>;
	type EpochLength = ConstU64<EPOCH_LENGTH>;
	type ContributorShare = ContributorShare;
	type WorkerShare = RewardsWorkerShare;
	type ValidatorShare = ValidatorShare;
	type PenaltyThreshold = ConstU32<PENALTY_THRESHOLD>;
	type PenaltyMultiplier = PenaltyMultiplier;
	type PenaltyDecay = PenaltyDecay;
	type MaxPayoutsPerBlock = ConstU32<100>;
	// Every settlement credits the developer, the worker, the author and
	// each contributor in one call.
	type MaxCreditsPerCall = ConstU32<{ MAX_SCORES + 3 }>;
	type FindAuthor = MockAuthor;
	type WeightInfo = ();
}

parameter_types! {
	/// Makes the ledger refuse payments, as a failing ledger would.
	pub static RefusePayments: bool = false;
}

/// The rewards pallet, except that it refuses payments while
/// [`RefusePayments`] is set.
pub struct SwitchedRewards;

impl RewardLedger<AccountId, Balance> for SwitchedRewards {
	fn pay_rewards(payer: &AccountId, credits: &[(AccountId, Balance)]) -> DispatchResult {
		if RefusePayments::get() {
			return Err(DispatchError::Other("the reward ledger refuses"));
		}
		<Rewards as RewardLedger<_, _>>::pay_rewards(payer, credits)
	}

	fn note_attribution(who: &AccountId, credit: Balance) {
		<Rewards as RewardLedger<_, _>>::note_attribution(who, credit)
	}

	fn note_settled_inferences(worker: &AccountId, count: u32) {
		<Rewards as RewardLedger<_, _>>::note_settled_inferences(worker, count)
	}

	fn pay_rewards_weight(credits: u32) -> Weight {
		<Rewards as RewardLedger<AccountId, Balance>>::pay_rewards_weight(credits)
	}

	fn note_weight() -> Weight {
		<Rewards as RewardLedger<AccountId, Balance>>::note_weight()
	}
}

impl PenaltyScore<AccountId> for SwitchedRewards {
	fn raise_penalty(who: &AccountId, points: u32) {
		<Rewards as PenaltyScore<_>>::raise_penalty(who, points)
	}

	fn raise_penalty_weight() -> Weight {
		<Rewards as PenaltyScore<AccountId>>::raise_penalty_weight()
	}
}

parameter_types! {
	/// The seed [`MockRandomness`] mixes with each subject.
	pub static RandomSeed: Hash = Hash::repeat_byte(0x5e);
	/// The author [`MockAuthor`] reports.
	pub static BlockAuthor: Option<AccountId> = None;
}

/// `blake2_256(seed ++ subject)`: deterministic, different per subject.
pub struct MockRandomness;

impl Randomness<Hash, u64> for MockRandomness {
	fn random(subject: &[u8]) -> (Hash, u64) {
		let mut preimage = RandomSeed::get().as_bytes().to_vec();
		preimage.extend_from_slice(subject);
		(
			Hash::from(polkadot_sdk::sp_io::hashing::blake2_256(&preimage)),
			System::block_number(),
		)
	}
}

/// Reports [`BlockAuthor`] as the block's author.
pub struct MockAuthor;

impl FindAuthor<AccountId> for MockAuthor {
	fn find_author<'a, I>(_: I) -> Option<AccountId>
	where
		I: 'a + IntoIterator<Item = (ConsensusEngineId, &'a [u8])>,
	{
		BlockAuthor::get()
	}
}

pub const PLATFORM_FEE: Balance = 100;
pub const SERVE_TIMEOUT: u64 = 5;
pub const CHALLENGE_WINDOW: u64 = 10;
pub const CHALLENGE_BOND: Balance = 400;
pub const VERIFIER_COUNT: u32 = 3;
pub const VERIFY_WINDOW: u64 = 6;
pub const LOSS_PENALTY: u32 = 7;
pub const MAX_SCORES: u32 = 8;
pub const MAX_REQUESTS_PER_BLOCK: u32 = 4;
pub const MAX_SETTLEMENTS_PER_BLOCK: u32 = 3;
pub const MAX_BATCH: u32 = 4;
pub const MAX_BATCH_CONTRIBUTORS: u32 = 6;
pub const MAX_VOUCHER_LIFETIME: u64 = 100;
pub const CREDIT_UNLOCK_DELAY: u64 = 20;
pub const CHANNEL_DEPOSIT: Balance = 5;
pub const BATCH_ROOT_RETENTION: u32 = 2;

parameter_types! {
	pub const WorkerSlash: Perbill = Perbill::from_percent(10);
	pub const ChallengerSlash: Perbill = Perbill::from_percent(50);
	pub const WinnerShare: Perbill = Perbill::from_percent(50);
	pub const WorkerInfraShare: Perbill = Perbill::from_percent(80);
}

impl pallet_attribution::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Models = Registry;
	type Datanets = MockDatanets;
	type Stake = Staking;
	type Rewards = SwitchedRewards;
	type Randomness = MockRandomness;
	type FindAuthor = MockAuthor;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type ProtocolPool = ProtocolPool;
	type CreditPot = CreditPot;
	type Signature = MultiSignature;
	type PlatformFee = ConstU128<PLATFORM_FEE>;
	type ServeTimeout = ConstU64<SERVE_TIMEOUT>;
	type ChallengeWindow = ConstU64<CHALLENGE_WINDOW>;
	type ChallengeBond = ConstU128<CHALLENGE_BOND>;
	type VerifierCount = ConstU32<VERIFIER_COUNT>;
	type VerifyWindow = ConstU64<VERIFY_WINDOW>;
	type WorkerSlash = WorkerSlash;
	type ChallengerSlash = ChallengerSlash;
	type WinnerShare = WinnerShare;
	type WorkerInfraShare = WorkerInfraShare;
	type LossPenalty = ConstU32<LOSS_PENALTY>;
	type MaxScores = ConstU32<MAX_SCORES>;
	type MaxRequestsPerBlock = ConstU32<MAX_REQUESTS_PER_BLOCK>;
	type MaxSettlementsPerBlock = ConstU32<MAX_SETTLEMENTS_PER_BLOCK>;
	type MaxVerifierCandidates = ConstU32<MAX_WORKERS_PER_MODEL>;
	type MaxBatch = ConstU32<MAX_BATCH>;
	type MaxBatchContributors = ConstU32<MAX_BATCH_CONTRIBUTORS>;
	type MaxVoucherLifetime = ConstU64<MAX_VOUCHER_LIFETIME>;
	type CreditUnlockDelay = ConstU64<CREDIT_UNLOCK_DELAY>;
	type ChannelDeposit = ConstU128<CHANNEL_DEPOSIT>;
	type BatchRootRetention = ConstU32<BATCH_ROOT_RETENTION>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
	type WeightInfo = ();
}

/// Model owner: receives the developer share.
pub const OWNER: AccountId = AccountId32::new([0x01; 32]);
/// Bonded as an agent: votes models through.
pub const VOTER: AccountId = AccountId32::new([0x02; 32]);
/// Serves the model and submits receipts.
pub const WORKER: AccountId = AccountId32::new([0x03; 32]);
/// A bonded worker that serves the model too and challenges receipts.
pub const CHALLENGER: AccountId = AccountId32::new([0x04; 32]);
/// Bonded workers serving the model: the verifier pool.
pub const VERIFIERS: [AccountId; 4] = [
	AccountId32::new([0x05; 32]),
	AccountId32::new([0x06; 32]),
	AccountId32::new([0x07; 32]),
	AccountId32::new([0x08; 32]),
];
/// Has no bond.
pub const OUTSIDER: AccountId = AccountId32::new([0x09; 32]);
/// Authors blocks in tests that set [`BlockAuthor`].
pub const AUTHOR: AccountId = AccountId32::new([0x0a; 32]);
/// Contributors of the live contributions.
pub const CONTRIBUTORS: [AccountId; 3] = [
	AccountId32::new([0x21; 32]),
	AccountId32::new([0x22; 32]),
	AccountId32::new([0x23; 32]),
];
/// Live contributions: CONTRIBUTORS[0] made 1 and 2, [1] made 3, [2] made 4.
pub const LIVE: [ContributionId; 4] = [
	ContributionId(1),
	ContributionId(2),
	ContributionId(3),
	ContributionId(4),
];
/// A contribution the stand-in datanets pallet does not know as live.
pub const RETRACTED: ContributionId = ContributionId(9);

pub const START_BALANCE: Balance = 1_000_000;
pub const ADAPTER_HASH: Hash = Hash::repeat_byte(0xad);
pub const INDEX_ROOT: Hash = Hash::repeat_byte(0x1d);
/// The model's prices: 1,000 per 1,000 prompt tokens, 3,000 per 1,000
/// generated tokens.
pub const PRICING: Pricing<Balance> = Pricing {
	per_1k_input: 1_000,
	per_1k_output: 3_000,
};

/// The key pair of user number `n`, who signs vouchers.
pub fn user_pair(n: u8) -> sr25519::Pair {
	sr25519::Pair::from_seed(&[0x40 | n; 32])
}

/// User number `n`'s account.
pub fn user(n: u8) -> AccountId {
	MultiSigner::from(user_pair(n).public()).into_account()
}

/// The users that hold OPEN in every test.
pub const USERS: u8 = 4;

/// Test state: funded accounts; WORKER, CHALLENGER and the VERIFIERS bonded
/// as workers and serving [`MODEL`], which OWNER deployed through the
/// registry; VOTER bonded as an agent; the [`LIVE`] contributions live.
pub struct ExtBuilder;

/// The model every test starts with.
pub const MODEL: openledger_primitives::ModelId = openledger_primitives::ModelId(0);

impl ExtBuilder {
	pub fn build() -> polkadot_sdk::sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap();
		let funded = [
			OWNER,
			VOTER,
			WORKER,
			CHALLENGER,
			OUTSIDER,
			AUTHOR,
			PROTOCOL_POOL,
			COMMUNITY_POOL,
		]
		.into_iter()
		.chain(VERIFIERS)
		.chain((1..=USERS).map(user));
		pallet_balances::GenesisConfig::<Test> {
			// The credit pot exists from genesis with the existential deposit.
			balances: funded
				.map(|who| (who, START_BALANCE))
				.chain([(CREDIT_POT, 1)])
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_rewards::GenesisConfig::<Test>::default()
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_openledger_staking::GenesisConfig::<Test> {
			validators: vec![],
			workers: [WORKER, CHALLENGER]
				.into_iter()
				.chain(VERIFIERS)
				.map(|who| (who, WORKER_BOND))
				.collect(),
			agents: vec![(VOTER, 500)],
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
		ext.execute_with(|| {
			System::set_block_number(1);
			LiveContributions::set(
				[
					(LIVE[0], CONTRIBUTORS[0].clone()),
					(LIVE[1], CONTRIBUTORS[0].clone()),
					(LIVE[2], CONTRIBUTORS[1].clone()),
					(LIVE[3], CONTRIBUTORS[2].clone()),
				]
				.into_iter()
				.collect(),
			);
			let model = deploy_model(&OWNER, FeeSplit::standard(), PRICING);
			assert_eq!(model, MODEL);
			for worker in [WORKER, CHALLENGER].iter().chain(VERIFIERS.iter()) {
				Registry::serve(RuntimeOrigin::signed(worker.clone()), model).unwrap();
			}
			System::reset_events();
		});
		ext
	}

	/// Runs `test`, then checks this pallet's invariants, that no OPEN was
	/// minted or burned, and that the reward ledger is consistent and the
	/// pot grew by exactly what it owes.
	pub fn build_and_execute(test: impl FnOnce()) {
		Self::build().execute_with(|| {
			<Attribution as Hooks<u64>>::integrity_test();
			let issuance = Balances::total_issuance();
			let pot = Balances::total_balance(&POT);
			test();
			Attribution::do_try_state().expect("attribution invariants hold after the test");
			assert_eq!(
				pallet_rewards::Claimable::<Test>::iter_values().sum::<Balance>(),
				pallet_rewards::TotalClaimable::<Test>::get(),
				"the claimables do not sum to the ledger's total"
			);
			assert_eq!(
				Balances::total_issuance(),
				issuance,
				"OPEN was minted or burned"
			);
			assert_eq!(
				Balances::total_balance(&POT).saturating_sub(pot),
				pallet_rewards::TotalClaimable::<Test>::get(),
				"the ledger is not backed by the pot"
			);
		});
	}
}

/// Registers a base model if there is none, and proposes, approves and
/// deploys a model of `owner` with `split` and `pricing`, through the
/// registry's calls. VOTER's bond votes it through.
pub fn deploy_model(
	owner: &AccountId,
	split: FeeSplit,
	pricing: Pricing<Balance>,
) -> openledger_primitives::ModelId {
	let base = pallet_model_registry::NextBaseModelId::<Test>::get();
	if base.0 == 0 {
		Registry::register_base_model(
			RuntimeOrigin::root(),
			BoundedVec::truncate_from(b"SmolLM2".to_vec()),
			BoundedVec::truncate_from(b"llama".to_vec()),
			Hash::repeat_byte(0xba),
			BoundedVec::new(),
			BoundedVec::new(),
		)
		.unwrap();
	}
	let model = pallet_model_registry::NextModelId::<Test>::get();
	Registry::propose_model(
		RuntimeOrigin::signed(owner.clone()),
		openledger_primitives::BaseModelId(0),
		BoundedVec::truncate_from(vec![DatanetVersionRef {
			datanet: DatanetId(0),
			version: 1,
		}]),
		Hash::repeat_byte(0xc0),
		pricing,
		split,
		None,
	)
	.unwrap();
	Registry::vote(
		RuntimeOrigin::signed(VOTER),
		model,
		pallet_model_registry::Vote::Aye,
	)
	.unwrap();
	let Some(pallet_model_registry::ModelStatus::Voting { ends_at }) =
		pallet_model_registry::Models::<Test>::get(model).map(|m| m.status)
	else {
		panic!("a fresh proposal is under vote");
	};
	<Registry as Hooks<u64>>::on_initialize(ends_at);
	Registry::publish_adapter(
		RuntimeOrigin::signed(owner.clone()),
		model,
		ADAPTER_HASH,
		BoundedVec::new(),
		INDEX_ROOT,
		Hash::repeat_byte(0xe0),
	)
	.unwrap();
	model
}

/// Funds `who` and bonds it in `role`.
#[cfg(feature = "runtime-benchmarks")]
fn bond(who: &AccountId, role: openledger_primitives::Role) {
	<Balances as polkadot_sdk::frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
		who,
		10 * WORKER_BOND,
	)
	.unwrap();
	Staking::bond(RuntimeOrigin::signed(who.clone()), role, WORKER_BOND).unwrap();
}

parameter_types! {
	/// Key pairs the benchmark helper made, by account.
	pub static BenchmarkKeys: BTreeMap<AccountId, [u8; 32]> = BTreeMap::new();
	/// The next contribution id the benchmark helper hands out.
	pub static NextBenchmarkContribution: u64 = 1_000;
}

/// Sets up the registry, staking and the stand-ins for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, MultiSignature> for MockBenchmarkHelper {
	fn bond_worker(who: &AccountId) {
		bond(who, openledger_primitives::Role::Worker);
	}

	fn deployed_model(owner: &AccountId) -> openledger_primitives::ModelId {
		<Balances as polkadot_sdk::frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
			owner,
			START_BALANCE,
		)
		.unwrap();
		deploy_model(owner, FeeSplit::standard(), PRICING)
	}

	fn serve(model: openledger_primitives::ModelId, worker: &AccountId) {
		Registry::serve(RuntimeOrigin::signed(worker.clone()), model).unwrap();
	}

	fn live_contributions(count: u32) -> Vec<ContributionId> {
		(0..count)
			.map(|i| {
				let id = NextBenchmarkContribution::get();
				NextBenchmarkContribution::set(id.saturating_add(1));
				let mut contributor = [0x30; 32];
				contributor[..4].copy_from_slice(&i.to_le_bytes());
				LiveContributions::mutate(|live| {
					live.insert(ContributionId(id), AccountId32::new(contributor))
				});
				ContributionId(id)
			})
			.collect()
	}

	fn voucher_signer(index: u32) -> AccountId {
		let mut seed = [0x77; 32];
		seed[..4].copy_from_slice(&index.to_le_bytes());
		let who: AccountId =
			MultiSigner::from(sr25519::Pair::from_seed(&seed).public()).into_account();
		BenchmarkKeys::mutate(|keys| keys.insert(who.clone(), seed));
		who
	}

	fn sign(signer: &AccountId, message: &[u8]) -> MultiSignature {
		let seed = BenchmarkKeys::get()[signer];
		MultiSignature::from(sr25519::Pair::from_seed(&seed).sign(message))
	}
}

/// A test externality for the benchmarks: the same state as the tests'.
#[cfg(feature = "runtime-benchmarks")]
pub fn new_bench_ext() -> polkadot_sdk::sp_io::TestExternalities {
	ExtBuilder::build()
}

pub fn run_to_block(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}

pub fn free(who: &AccountId) -> Balance {
	Balances::free_balance(who)
}

/// OPEN this pallet holds from `who`, for any reason.
pub fn held(who: &AccountId) -> Balance {
	[
		crate::HoldReason::InferenceFee,
		crate::HoldReason::ChallengeBond,
		crate::HoldReason::ChannelDeposit,
	]
	.into_iter()
	.map(|reason| Balances::balance_on_hold(&reason.into(), who))
	.sum()
}

/// What the reward ledger owes `who`.
pub fn credited(who: &AccountId) -> Balance {
	pallet_rewards::Claimable::<Test>::get(who)
}

/// What the rewards pallet noted for `who` this epoch: attribution credit
/// and settled inferences.
pub fn noted(who: &AccountId) -> (Balance, u64) {
	pallet_rewards::Earnings::<Test>::get(0, who)
		.map(|points| (points.credit, points.inferences))
		.unwrap_or_default()
}

/// `who`'s penalty score.
pub fn penalty(who: &AccountId) -> u32 {
	pallet_rewards::PenaltyScores::<Test>::get(who).map_or(0, |record| record.score)
}

/// This pallet's events since the last call.
pub fn attribution_events() -> Vec<crate::Event<Test>> {
	let events = System::read_events_for_pallet::<crate::Event<Test>>();
	System::reset_events();
	events
}
