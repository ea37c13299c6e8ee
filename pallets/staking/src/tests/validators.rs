//! Validator election through `pallet-session`.

use crate::{mock::*, CurrentValidators, Event, PlannedValidators, Role};
use polkadot_sdk::frame_support::assert_ok;

fn session_validators() -> Vec<AccountId> {
	Session::validators()
}

#[test]
fn genesis_bonds_with_keys_are_the_first_set() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(session_validators(), vec![1, 2, 3]);
		assert_eq!(CurrentValidators::<Test>::get().into_inner(), vec![1, 2, 3]);
		assert_eq!(Staking::current_validators(), vec![1, 2, 3]);
		assert_eq!(Staking::next_validators(), vec![1, 2, 3]);
	});
}

#[test]
fn a_new_validator_rotates_in_after_bonding_and_setting_keys() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			950
		));
		set_keys(4);

		// Session 1: elected at its start for session 2, not yet active.
		run_to_session(1);
		assert_eq!(session_validators(), vec![1, 2, 3]);
		assert_eq!(Staking::next_validators(), vec![1, 4, 2]);
		assert!(staking_events().contains(&Event::ValidatorsElected {
			session: 2,
			validators: vec![1, 4, 2].try_into().unwrap()
		}));

		// Session 2: 4 validates; 3, the smallest bond, dropped out of the top three.
		run_to_session(2);
		assert_eq!(session_validators(), vec![1, 4, 2]);
		assert_eq!(Staking::current_validators(), vec![1, 4, 2]);
		assert!(PlannedValidators::<Test>::get().is_some_and(|p| p.session == 3));
	});
}

#[test]
fn candidates_without_session_keys_are_skipped() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			2_000
		));

		run_to_session(2);
		assert_eq!(session_validators(), vec![1, 2, 3]);

		// Keys set during session 2 count from the election at session 3's start.
		set_keys(4);
		run_to_session(4);
		assert_eq!(session_validators(), vec![4, 1, 2]);
	});
}

#[test]
fn a_validator_that_unbonds_leaves_the_set() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(2),
			Role::Validator,
			900
		));

		run_to_session(2);
		assert_eq!(session_validators(), vec![1, 3]);
	});
}

#[test]
fn too_few_qualified_candidates_keep_the_current_set() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(2),
			Role::Validator,
			900
		));
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(3),
			Role::Validator,
			800
		));
		staking_events();

		run_to_session(2);
		// Only 1 is left, below MinValidators: 1, 2 and 3 stay authorities.
		assert_eq!(session_validators(), vec![1, 2, 3]);
		assert!(staking_events().contains(&Event::ValidatorSetKept {
			session: 2,
			qualified: 1
		}));
		assert_eq!(Staking::next_validators(), vec![1, 2, 3]);
	});
}

#[test]
fn without_genesis_bonds_the_session_keys_rule_until_enough_bond() {
	ExtBuilder::empty().build_and_execute(|| {
		assert_eq!(session_validators(), vec![1, 2, 3]);
		// This pallet elected no one yet.
		assert!(Staking::current_validators().is_empty());

		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			500
		));
		set_keys(4);
		run_to_session(2);
		assert_eq!(session_validators(), vec![1, 2, 3]);

		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(5),
			Role::Validator,
			400
		));
		set_keys(5);
		run_to_session(4);
		assert_eq!(session_validators(), vec![4, 5]);
		assert_eq!(Staking::current_validators(), vec![4, 5]);
	});
}

#[test]
fn the_set_is_capped_at_max_validators() {
	ExtBuilder::default().build_and_execute(|| {
		for (who, bond) in [(4, 700), (5, 600)] {
			assert_ok!(Staking::bond(
				RuntimeOrigin::signed(who),
				Role::Validator,
				bond
			));
			set_keys(who);
		}
		run_to_session(2);
		assert_eq!(session_validators().len() as u32, MAX_VALIDATORS);
		assert_eq!(session_validators(), vec![1, 2, 3]);
	});
}
