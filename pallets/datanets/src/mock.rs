//! A test runtime: `frame_system`, `pallet_balances` and this pallet, with
//! small bounds so tests can reach them.

use crate::{self as pallet_datanets, *};
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::Hooks, weights::Weight},
	frame_system, pallet_balances,
	sp_runtime::{BuildStorage, Perbill},
};

pub type AccountId = u64;
pub type Balance = u64;

type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Datanets: pallet_datanets,
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

pub const DEPOSIT_BASE: Balance = 10;
pub const DEPOSIT_PER_BYTE: Balance = 1;
pub const MIN_BOND: Balance = 10;

parameter_types! {
	pub const DepositBase: Balance = DEPOSIT_BASE;
	pub const DepositPerByte: Balance = DEPOSIT_PER_BYTE;
	pub const MinContributionBond: Balance = MIN_BOND;
	pub const RejectSlash: Perbill = Perbill::from_percent(20);
	pub const MaxNameLen: u32 = 32;
	pub const MaxSummaryLen: u32 = 64;
	pub const MaxTags: u32 = 3;
	pub const MaxTagLen: u32 = 12;
	pub const MaxUriLen: u32 = 64;
	pub const MaxLicenseLen: u32 = 16;
	pub const MaxCurators: u32 = 3;
	pub const MaxAllowlist: u32 = 3;
	pub const MaxContributionsPerDatanet: u32 = 5;
	pub const MaxContributionsPerAccount: u32 = 6;
	pub const MaxVersions: u32 = 4;
	/// Every rejection the hook was told of: (contributor, datanet, contribution).
	pub static Rejections: Vec<(AccountId, DatanetId, ContributionId)> = Vec::new();
}

/// Records rejections, standing in for the rewards pallet.
pub struct RecordRejections;

impl OnContributionRejected<AccountId> for RecordRejections {
	fn on_contribution_rejected(who: &AccountId, datanet: DatanetId, contribution: ContributionId) {
		Rejections::mutate(|rejections| rejections.push((*who, datanet, contribution)));
	}

	fn weight() -> Weight {
		Weight::from_parts(1_000, 0)
	}
}

impl pallet_datanets::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type MinContributionBond = MinContributionBond;
	type RejectSlash = RejectSlash;
	type MaxNameLen = MaxNameLen;
	type MaxSummaryLen = MaxSummaryLen;
	type MaxTags = MaxTags;
	type MaxTagLen = MaxTagLen;
	type MaxUriLen = MaxUriLen;
	type MaxLicenseLen = MaxLicenseLen;
	type MaxCurators = MaxCurators;
	type MaxAllowlist = MaxAllowlist;
	type MaxContributionsPerDatanet = MaxContributionsPerDatanet;
	type MaxContributionsPerAccount = MaxContributionsPerAccount;
	type MaxVersions = MaxVersions;
	type OnRejection = RecordRejections;
	type WeightInfo = ();
}

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
pub const EVE: AccountId = 5;
/// Has too little to pay any deposit.
pub const POOR: AccountId = 9;

pub const START_BALANCE: Balance = 10_000;
pub const POOR_BALANCE: Balance = 15;

pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			balances: [ALICE, BOB, CHARLIE, DAVE, EVE]
				.into_iter()
				.map(|who| (who, START_BALANCE))
				.chain([(POOR, POOR_BALANCE)])
				.collect(),
		}
	}
}

impl ExtBuilder {
	pub fn build(self) -> polkadot_sdk::sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap();
		pallet_balances::GenesisConfig::<Test> {
			balances: self.balances,
			..Default::default()
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext: polkadot_sdk::sp_io::TestExternalities = storage.into();
		ext.execute_with(|| {
			System::set_block_number(1);
			Rejections::set(Vec::new());
		});
		ext
	}

	/// Runs `test`, then checks the pallet's invariants and that no OPEN was
	/// minted or burned: this pallet only moves funds between accounts.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			<Datanets as Hooks<u64>>::integrity_test();
			let issuance = Balances::total_issuance();
			test();
			Datanets::do_try_state().expect("invariants hold after the test");
			assert_eq!(
				Balances::total_issuance(),
				issuance,
				"datanets minted or burned OPEN"
			);
		});
	}
}
