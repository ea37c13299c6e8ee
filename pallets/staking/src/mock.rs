//! A test runtime: balances, this pallet, and `pallet-session` with
//! periodic sessions and `UintAuthorityId` keys, so that validator rotation
//! runs as it does on chain.

use crate as pallet_openledger_staking;
use crate::{Event, Role};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{fungible::InspectHold, ConstU32, ConstU64},
	},
	frame_system::{self, EnsureRoot},
	pallet_balances, pallet_session,
	sp_io::TestExternalities,
	sp_runtime::{testing::UintAuthorityId, traits::ConvertInto, BuildStorage},
};

pub type AccountId = u64;
pub type Balance = u64;

type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Staking: pallet_openledger_staking,
		Session: pallet_session,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

parameter_types! {
	pub static ExistentialDeposit: Balance = 1;
	pub static KeyDeposit: Balance = 5;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type ExistentialDeposit = ExistentialDeposit;
}

/// Blocks per session: sessions rotate at every multiple of this.
pub const SESSION_PERIOD: u64 = 5;
pub const MIN_VALIDATOR_BOND: Balance = 100;
pub const MIN_WORKER_BOND: Balance = 50;
pub const MIN_AGENT_BOND: Balance = 20;
pub const UNBONDING_PERIOD: u64 = 10;
pub const MAX_UNLOCKING_CHUNKS: u32 = 3;
pub const MAX_VALIDATORS: u32 = 3;
pub const MIN_VALIDATORS: u32 = 2;
pub const MAX_CANDIDATES: u32 = 5;
/// Receives slashes that name no beneficiary.
pub const PROTOCOL_POOL: AccountId = 99;
/// Every account from 1 to 10 starts with this much.
pub const INITIAL_BALANCE: Balance = 10_000;

parameter_types! {
	pub const SessionPeriod: u64 = SESSION_PERIOD;
	pub const SessionOffset: u64 = 0;
	pub const ProtocolPool: AccountId = PROTOCOL_POOL;
}

impl pallet_session::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = ConvertInto;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type SessionManager = Staking;
	type SessionHandler = pallet_session::TestSessionHandler;
	type Keys = UintAuthorityId;
	type DisablingStrategy = pallet_session::disabling::UpToLimitDisablingStrategy;
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = KeyDeposit;
}

impl pallet_openledger_staking::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinValidatorBond = ConstU64<MIN_VALIDATOR_BOND>;
	type MinWorkerBond = ConstU64<MIN_WORKER_BOND>;
	type MinAgentBond = ConstU64<MIN_AGENT_BOND>;
	type UnbondingPeriod = ConstU64<UNBONDING_PERIOD>;
	type MaxUnlockingChunks = ConstU32<MAX_UNLOCKING_CHUNKS>;
	type MaxValidators = ConstU32<MAX_VALIDATORS>;
	type MinValidators = ConstU32<MIN_VALIDATORS>;
	type MaxValidatorCandidates = ConstU32<MAX_CANDIDATES>;
	type ValidatorRegistration = Session;
	type ProtocolPool = ProtocolPool;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type WeightInfo = ();
}

/// Builds test state: accounts 1..=10 funded, and by default validators 1, 2
/// and 3 bonded (1000, 900, 800) with session keys, forming the genesis set.
pub struct ExtBuilder {
	validators: Vec<(AccountId, Balance)>,
	workers: Vec<(AccountId, Balance)>,
	agents: Vec<(AccountId, Balance)>,
	existential_deposit: Balance,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			validators: vec![(1, 1_000), (2, 900), (3, 800)],
			workers: vec![],
			agents: vec![],
			existential_deposit: 1,
		}
	}
}

impl ExtBuilder {
	/// No genesis bonds at all: `pallet-session` falls back to its `keys`.
	pub fn empty() -> Self {
		Self {
			validators: vec![],
			..Default::default()
		}
	}

	pub fn workers(mut self, workers: Vec<(AccountId, Balance)>) -> Self {
		self.workers = workers;
		self
	}

	pub fn agents(mut self, agents: Vec<(AccountId, Balance)>) -> Self {
		self.agents = agents;
		self
	}

	pub fn existential_deposit(mut self, ed: Balance) -> Self {
		self.existential_deposit = ed;
		self
	}

	pub fn build(self) -> TestExternalities {
		ExistentialDeposit::set(self.existential_deposit);
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: (1..=10).map(|who| (who, INITIAL_BALANCE)).collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_openledger_staking::GenesisConfig::<Test> {
			validators: self.validators,
			workers: self.workers,
			agents: self.agents,
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		// Genesis session keys of 1, 2 and 3: the authorities until this
		// pallet elects others.
		pallet_session::GenesisConfig::<Test> {
			keys: (1..=3)
				.map(|who| (who, who, UintAuthorityId(who)))
				.collect(),
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();

		let mut ext = TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Runs `test`, then checks the pallet's invariants on the state it left.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Staking::do_try_state().expect("staking invariants hold after the test");
		});
	}
}

pub fn run_to_block(n: u64) {
	System::run_to_block::<AllPalletsWithSystem>(n);
}

/// Runs blocks until `pallet-session` has started session `index`.
pub fn run_to_session(index: u32) {
	run_to_block(u64::from(index) * SESSION_PERIOD);
	assert_eq!(Session::current_index(), index);
}

/// OPEN held for bonds, all roles together.
pub fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&crate::HoldReason::Bonded.into(), &who)
}

pub fn free(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

/// Registers `who`'s session key, as a validator would from its node.
pub fn set_keys(who: AccountId) {
	Session::set_keys(RuntimeOrigin::signed(who), UintAuthorityId(who), vec![]).unwrap();
}

/// This pallet's events since the last call.
pub fn staking_events() -> Vec<Event<Test>> {
	let events = System::read_events_for_pallet::<Event<Test>>();
	System::reset_events();
	events
}

pub fn ledger(who: AccountId, role: Role) -> Option<crate::RoleLedger<Test>> {
	crate::Bonds::<Test>::get(role, who)
}
