//! A test runtime: `frame_system`, `pallet_balances` (u128 balances, so that
//! the supply cap can be reached) and this pallet, with short epochs and a
//! short schedule so that tests can run through them.

use crate::{self as pallet_rewards, *};
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{
			fungible::Inspect, ConstU128, ConstU32, ConstU64, FindAuthor, Hooks, OnFinalize,
			OnInitialize,
		},
		weights::Weight,
	},
	frame_system, pallet_balances,
	sp_runtime::{BuildStorage, ConsensusEngineId, Digest, DigestItem, Perbill},
};

pub type AccountId = u64;
pub type Balance = u128;

type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Rewards: pallet_rewards,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

pub const ED: Balance = 5;

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<ED>;
}

pub const POT: AccountId = 1_000_000_001;
pub const COMMUNITY: AccountId = 1_000_000_002;
pub const PROTOCOL: AccountId = 1_000_000_003;

/// Blocks per epoch: epoch `n` is blocks `[10n, 10n + 10)`.
pub const EPOCH: u64 = 10;
/// The schedule releases `EMISSION_TOTAL` over 100 blocks (ten epochs).
pub const DURATION: u64 = 100;
pub const EMISSION_TOTAL: Balance = 1_000_000;
/// What each epoch may emit while the schedule runs.
pub const PER_EPOCH: Balance = EMISSION_TOTAL * EPOCH as Balance / DURATION as Balance;
pub const THRESHOLD: u32 = 10;
pub const MAX_PAYOUTS: u32 = 500;
pub const MAX_CREDITS: u32 = 8;

parameter_types! {
	pub const PotAccount: AccountId = POT;
	pub const CommunityPool: AccountId = COMMUNITY;
	pub const ProtocolPool: AccountId = PROTOCOL;
	pub const ContributorShare: Perbill = Perbill::from_percent(50);
	pub const WorkerShare: Perbill = Perbill::from_percent(30);
	pub const ValidatorShare: Perbill = Perbill::from_percent(20);
	/// Penalised accounts keep 40 % of new rewards.
	pub const PenaltyMultiplier: Perbill = Perbill::from_percent(40);
	/// Half of a penalty score survives each epoch.
	pub const PenaltyDecay: Perbill = Perbill::from_percent(50);
	/// The author the next blocks name in their digest.
	pub static BlockAuthor: Option<AccountId> = None;
}

/// The consensus engine id of the mock's author digest.
pub const MOCK_ENGINE: ConsensusEngineId = *b"mock";

/// Reads the author from a `mock` pre-runtime digest, as Aura's
/// `FindAuthor` reads its slot from an `aura` one.
pub struct AuthorFromDigest;

impl FindAuthor<AccountId> for AuthorFromDigest {
	fn find_author<'a, I>(digests: I) -> Option<AccountId>
	where
		I: 'a + IntoIterator<Item = (ConsensusEngineId, &'a [u8])>,
	{
		digests
			.into_iter()
			.find(|(engine, _)| *engine == MOCK_ENGINE)
			.and_then(|(_, mut data)| AccountId::decode(&mut data).ok())
	}
}

impl pallet_rewards::Config for Test {
	type Currency = Balances;
	type PotAccount = PotAccount;
	type CommunityPool = CommunityPool;
	type ProtocolPool = ProtocolPool;
	type EmissionTotal = ConstU128<EMISSION_TOTAL>;
	type EmissionStart = ConstU64<0>;
	type EmissionDuration = ConstU64<DURATION>;
	type EpochLength = ConstU64<EPOCH>;
	type ContributorShare = ContributorShare;
	type WorkerShare = WorkerShare;
	type ValidatorShare = ValidatorShare;
	type PenaltyThreshold = ConstU32<THRESHOLD>;
	type PenaltyMultiplier = PenaltyMultiplier;
	type PenaltyDecay = PenaltyDecay;
	type MaxPayoutsPerBlock = ConstU32<MAX_PAYOUTS>;
	type MaxCreditsPerCall = ConstU32<MAX_CREDITS>;
	type FindAuthor = AuthorFromDigest;
	type WeightInfo = ();
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
/// Pays fees in tests.
pub const PAYER: AccountId = 10;
/// Has never held OPEN.
pub const NOBODY: AccountId = 99;

pub const START_BALANCE: Balance = 1_000_000;
pub const PAYER_BALANCE: Balance = 10_000_000;

pub struct ExtBuilder {
	community: Balance,
	protocol: Balance,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		// The pool holds the whole emission, the pot's existential deposit
		// and its own.
		Self {
			community: EMISSION_TOTAL + 2 * ED,
			protocol: ED,
		}
	}
}

impl ExtBuilder {
	/// Gives the community pool `amount` at genesis instead.
	pub fn community(mut self, amount: Balance) -> Self {
		self.community = amount;
		self
	}

	/// Leaves the protocol pool without an account.
	pub fn no_protocol_pool(mut self) -> Self {
		self.protocol = 0;
		self
	}

	pub fn build(self) -> polkadot_sdk::sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap();
		let mut balances: Vec<(AccountId, Balance)> = [ALICE, BOB, CHARLIE, DAVE]
			.into_iter()
			.map(|who| (who, START_BALANCE))
			.chain([(PAYER, PAYER_BALANCE), (COMMUNITY, self.community)])
			.collect();
		if self.protocol > 0 {
			balances.push((PROTOCOL, self.protocol));
		}
		pallet_balances::GenesisConfig::<Test> {
			balances,
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		pallet_rewards::GenesisConfig::<Test>::default()
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
		ext.execute_with(|| {
			BlockAuthor::set(None);
			run_to_block(1);
		});
		ext
	}

	/// Runs `test`, then checks the pallet's invariants and that no OPEN was
	/// minted or burned: this pallet only moves it between accounts.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			<Rewards as Hooks<u64>>::integrity_test();
			let issuance = Balances::total_issuance();
			test();
			Rewards::do_try_state().expect("invariants hold after the test");
			assert_eq!(
				Balances::total_issuance(),
				issuance,
				"rewards minted or burned OPEN"
			);
		});
	}
}

/// Runs blocks up to and including `n`, as the executive would: each block
/// starts with a digest naming [`BlockAuthor`], then runs every pallet's
/// `on_initialize`. Returns the weight each block's hooks reported.
pub fn run_to_block(n: u64) -> Vec<Weight> {
	let mut weights = Vec::new();
	while System::block_number() < n {
		let now = System::block_number();
		if now > 0 {
			AllPalletsWithSystem::on_finalize(now);
		}
		let next = now.saturating_add(1);
		let logs = BlockAuthor::get()
			.map(|author| DigestItem::PreRuntime(MOCK_ENGINE, author.encode()))
			.into_iter()
			.collect();
		System::initialize(&next, &Default::default(), &Digest { logs });
		weights.push(AllPalletsWithSystem::on_initialize(next));
	}
	weights
}

/// Runs to the first block of epoch `epoch`, in which the previous epoch
/// closes and its payout starts.
pub fn run_to_epoch(epoch: u64) -> Vec<Weight> {
	run_to_block(epoch.saturating_mul(EPOCH))
}

pub fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

/// This pallet's events since the last `System::reset_events`.
pub fn events() -> Vec<Event<Test>> {
	System::read_events_for_pallet::<Event<Test>>()
}

pub use polkadot_sdk::frame_support::{assert_noop, assert_ok};
