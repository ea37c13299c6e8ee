//! A test runtime: balances, the real staking pallet (voting weight and
//! worker bonds), a stand-in for the datanets pallet, and this pallet.

use crate as pallet_model_registry;
use crate::{DatanetVersionRef, SplitBounds};
#[cfg(feature = "runtime-benchmarks")]
use openledger_primitives::Role;
use openledger_primitives::{ContributionId, DatanetId, DatanetsInspect, FeeSplit};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{fungible::InspectHold, ConstU32, ConstU64, Hooks, ValidatorRegistration},
	},
	frame_system::{self, EnsureRoot},
	pallet_balances,
	sp_runtime::{BuildStorage, Perbill},
};

pub type AccountId = u64;
pub type Balance = u64;

type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Staking: pallet_openledger_staking,
		Registry: pallet_model_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
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

pub const PROTOCOL_POOL: AccountId = 99;
pub const MIN_WORKER_BOND: Balance = 50;
pub const UNBONDING_PERIOD: u64 = 20;

parameter_types! {
	pub const ProtocolPool: AccountId = PROTOCOL_POOL;
}

impl pallet_openledger_staking::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinValidatorBond = ConstU64<100>;
	type MinWorkerBond = ConstU64<MIN_WORKER_BOND>;
	type MinAgentBond = ConstU64<20>;
	type UnbondingPeriod = ConstU64<UNBONDING_PERIOD>;
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
	/// The datanet versions that exist, standing in for the datanets pallet.
	pub static PublishedVersions: Vec<(DatanetId, u32)> = Vec::new();
}

/// Answers from [`PublishedVersions`].
pub struct MockDatanets;

impl DatanetsInspect<AccountId> for MockDatanets {
	fn version_exists(datanet: DatanetId, version: u32) -> bool {
		PublishedVersions::get().contains(&(datanet, version))
	}

	fn live_contributor(_: ContributionId) -> Option<AccountId> {
		None
	}
}

pub const PROPOSAL_BOND: Balance = 100;
pub const DEPOSIT_BASE: Balance = 2;
pub const VOTE_DEPOSIT: Balance = 3;
pub const SERVE_DEPOSIT: Balance = 4;
pub const VOTING_PERIOD: u64 = 10;
pub const MAX_PROPOSALS_PER_BLOCK: u32 = 2;
pub const MAX_ADAPTER_VERSIONS: u32 = 3;
pub const MAX_WORKERS_PER_MODEL: u32 = 2;
pub const MAX_MODELS_PER_WORKER: u32 = 2;

parameter_types! {
	pub const Quorum: Perbill = Perbill::from_percent(20);
	pub const ApprovalThreshold: Perbill = Perbill::from_percent(50);
	pub const MinSupport: Perbill = Perbill::from_percent(20);
	pub const RejectionSlash: Perbill = Perbill::from_percent(50);
	pub DefaultSplitBounds: SplitBounds = SplitBounds {
		min: FeeSplit {
			developer: Perbill::from_percent(5),
			infrastructure: Perbill::from_percent(10),
			contributors: Perbill::from_percent(30),
			protocol: Perbill::from_percent(5),
		},
		max: FeeSplit {
			developer: Perbill::from_percent(40),
			infrastructure: Perbill::from_percent(40),
			contributors: Perbill::from_percent(80),
			protocol: Perbill::from_percent(20),
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
	type ProposalBond = ConstU64<PROPOSAL_BOND>;
	type DepositBase = ConstU64<DEPOSIT_BASE>;
	type DepositPerByte = ConstU64<0>;
	type VoteDeposit = ConstU64<VOTE_DEPOSIT>;
	type ServeDeposit = ConstU64<SERVE_DEPOSIT>;
	type VotingPeriod = ConstU64<VOTING_PERIOD>;
	type MaxVotingPeriod = ConstU64<{ UNBONDING_PERIOD - 1 }>;
	type Quorum = Quorum;
	type ApprovalThreshold = ApprovalThreshold;
	type MinSupport = MinSupport;
	type RejectionSlash = RejectionSlash;
	type MaxNameLen = ConstU32<32>;
	type MaxArchitectureLen = ConstU32<16>;
	type MaxUriLen = ConstU32<64>;
	type MaxLicenseLen = ConstU32<16>;
	type MaxDatanetVersions = ConstU32<4>;
	type MaxAdapterVersions = ConstU32<MAX_ADAPTER_VERSIONS>;
	type MaxProposalsPerBlock = ConstU32<MAX_PROPOSALS_PER_BLOCK>;
	type MaxWorkersPerModel = ConstU32<MAX_WORKERS_PER_MODEL>;
	type MaxModelsPerWorker = ConstU32<MAX_MODELS_PER_WORKER>;
	type DefaultSplitBounds = DefaultSplitBounds;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
	type WeightInfo = ();
}

/// Bonds through the staking pallet and publishes versions in the stand-in.
#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for MockBenchmarkHelper {
	fn bond_voter(who: &AccountId) {
		bond(*who, Role::Agent, 1_000);
	}

	fn bond_worker(who: &AccountId) {
		bond(*who, Role::Worker, 1_000);
	}

	fn datanet_versions(count: u32) -> Vec<DatanetVersionRef> {
		(0..count)
			.map(|i| {
				PublishedVersions::mutate(|versions| versions.push((DatanetId(i), 1)));
				DatanetVersionRef {
					datanet: DatanetId(i),
					version: 1,
				}
			})
			.collect()
	}
}

/// Funds `who` and bonds `amount` in `role`.
#[cfg(feature = "runtime-benchmarks")]
fn bond(who: AccountId, role: Role, amount: Balance) {
	use polkadot_sdk::frame_support::traits::fungible::Mutate;
	let _ = Balances::mint_into(&who, amount.saturating_mul(10));
	pallet_openledger_staking::Pallet::<Test>::bond(RuntimeOrigin::signed(who), role, amount)
		.expect("a funded account can bond");
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
pub const EVE: AccountId = 5;
/// Bonded as a worker.
pub const WORKER: AccountId = 6;
pub const WORKER_2: AccountId = 7;
pub const WORKER_3: AccountId = 8;
/// Has too little to pay a proposal bond.
pub const POOR: AccountId = 9;

pub const START_BALANCE: Balance = 10_000;
pub const POOR_BALANCE: Balance = 50;

/// The datanet versions that exist in every test.
pub const DN0_V1: DatanetVersionRef = DatanetVersionRef {
	datanet: DatanetId(0),
	version: 1,
};
pub const DN0_V2: DatanetVersionRef = DatanetVersionRef {
	datanet: DatanetId(0),
	version: 2,
};
pub const DN1_V1: DatanetVersionRef = DatanetVersionRef {
	datanet: DatanetId(1),
	version: 1,
};

/// Test state: accounts funded; BOB, CHARLIE and DAVE bonded as agents
/// (voting weight 300, 200, 100), the workers bonded as workers.
pub struct ExtBuilder {
	agents: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			agents: vec![(BOB, 300), (CHARLIE, 200), (DAVE, 100)],
		}
	}
}

impl ExtBuilder {
	pub fn build(self) -> polkadot_sdk::sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: [
				ALICE,
				BOB,
				CHARLIE,
				DAVE,
				EVE,
				WORKER,
				WORKER_2,
				WORKER_3,
				PROTOCOL_POOL,
			]
			.into_iter()
			.map(|who| (who, START_BALANCE))
			.chain([(POOR, POOR_BALANCE)])
			.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_openledger_staking::GenesisConfig::<Test> {
			validators: vec![],
			workers: vec![(WORKER, 100), (WORKER_2, 100), (WORKER_3, 100)],
			agents: self.agents,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
		ext.execute_with(|| {
			System::set_block_number(1);
			PublishedVersions::set(vec![
				(DN0_V1.datanet, DN0_V1.version),
				(DN0_V2.datanet, DN0_V2.version),
				(DN1_V1.datanet, DN1_V1.version),
			]);
		});
		ext
	}

	/// Runs `test`, then checks this pallet's invariants and that no OPEN was
	/// minted or burned.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			<Registry as Hooks<u64>>::integrity_test();
			let issuance = Balances::total_issuance();
			test();
			Registry::do_try_state().expect("registry invariants hold after the test");
			assert_eq!(
				Balances::total_issuance(),
				issuance,
				"OPEN was minted or burned"
			);
		});
	}
}

pub fn run_to_block(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}

pub fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

/// OPEN held by this pallet from `who`, bonds and deposits together.
pub fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&crate::HoldReason::ProposalBond.into(), &who).saturating_add(
		Balances::balance_on_hold(&crate::HoldReason::StorageDeposit.into(), &who),
	)
}

/// This pallet's events since the last call.
pub fn registry_events() -> Vec<crate::Event<Test>> {
	let events = System::read_events_for_pallet::<crate::Event<Test>>();
	System::reset_events();
	events
}
