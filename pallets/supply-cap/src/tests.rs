use crate as pallet_supply_cap;
use polkadot_sdk::{
	frame_support::{derive_impl, traits::fungible::Mutate},
	frame_system, pallet_balances,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		SupplyCap: pallet_supply_cap,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
}

polkadot_sdk::frame_support::parameter_types! {
	pub const Cap: u64 = 1_000;
}

impl pallet_supply_cap::Config for Test {
	type Currency = Balances;
	type Cap = Cap;
}

fn new_test_ext(balances: Vec<(u64, u64)>) -> polkadot_sdk::sp_io::TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default()
		.build_storage()
		.unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances,
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	storage.into()
}

#[test]
fn issuance_at_the_cap_is_allowed() {
	new_test_ext(vec![(1, 600), (2, 400)]).execute_with(|| {
		assert_eq!(SupplyCap::ensure_within_cap(), Ok(()));
		assert_eq!(SupplyCap::headroom(), 0);
	});
}

#[test]
fn minting_past_the_cap_is_caught() {
	new_test_ext(vec![(1, 600), (2, 400)]).execute_with(|| {
		Balances::mint_into(&3, 1).unwrap();
		assert_eq!(
			SupplyCap::ensure_within_cap(),
			Err(crate::Error::<Test>::IssuanceAboveCap.into())
		);
	});
}

#[test]
fn headroom_is_what_remains_below_the_cap() {
	new_test_ext(vec![(1, 250)]).execute_with(|| {
		assert_eq!(SupplyCap::headroom(), 750);
	});
}
