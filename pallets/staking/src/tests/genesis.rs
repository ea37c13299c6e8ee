//! Genesis, constants and the invariant checks themselves.

use crate::{mock::*, Bonds, Role, TotalActive};
use polkadot_sdk::frame_support::traits::Hooks;

#[test]
fn genesis_bonds_are_held_per_role() {
	ExtBuilder::default()
		.workers(vec![(4, 60)])
		.agents(vec![(4, 25), (5, 30)])
		.build_and_execute(|| {
			assert_eq!(held(1), 1_000);
			assert_eq!(held(4), 85);
			assert_eq!(Staking::bond_of(4, Role::Worker), 60);
			assert_eq!(TotalActive::<Test>::get(Role::Agent), 55);
		});
}

#[test]
#[should_panic(expected = "genesis Worker bond of 4 failed")]
fn genesis_bond_below_the_minimum_aborts() {
	ExtBuilder::default()
		.workers(vec![(4, MIN_WORKER_BOND - 1)])
		.build();
}

#[test]
fn constants_are_sane() {
	<Staking as Hooks<u64>>::integrity_test();
}

#[test]
fn try_state_catches_a_ledger_that_disagrees_with_the_hold() {
	ExtBuilder::default().build().execute_with(|| {
		assert!(Staking::do_try_state().is_ok());
		Bonds::<Test>::mutate(Role::Validator, 1, |ledger| {
			if let Some(ledger) = ledger {
				ledger.active += 1;
			}
		});
		assert!(Staking::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_an_unsorted_candidate_list() {
	ExtBuilder::default().build().execute_with(|| {
		crate::Candidates::<Test>::mutate(|list| list.sort_by(|a, b| a.bond.cmp(&b.bond)));
		assert!(Staking::do_try_state().is_err());
	});
}
