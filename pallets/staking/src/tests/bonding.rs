//! `bond`: holds, ledgers, minimums, top-ups and the candidate list.

use crate::{mock::*, Candidates, Error, Event, Role, TotalActive};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok},
	sp_runtime::DispatchError,
};

fn candidates() -> Vec<(AccountId, Balance)> {
	Candidates::<Test>::get()
		.into_iter()
		.map(|c| (c.who, c.bond))
		.collect()
}

#[test]
fn bond_holds_the_amount_and_records_it() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));

		assert_eq!(held(4), 60);
		assert_eq!(free(4), INITIAL_BALANCE - 60);
		assert_eq!(ledger(4, Role::Worker).unwrap().active, 60);
		assert_eq!(TotalActive::<Test>::get(Role::Worker), 60);
		assert_eq!(
			staking_events(),
			vec![Event::Bonded {
				who: 4,
				role: Role::Worker,
				amount: 60,
				active: 60
			}]
		);
	});
}

#[test]
fn a_top_up_may_be_below_the_minimum_when_the_total_is_not() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 10));

		assert_eq!(ledger(4, Role::Worker).unwrap().active, 70);
		assert_eq!(held(4), 70);
		assert_eq!(
			staking_events().last(),
			Some(&Event::Bonded {
				who: 4,
				role: Role::Worker,
				amount: 10,
				active: 70
			})
		);
	});
}

#[test]
fn roles_keep_separate_ledgers_under_one_hold() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Agent, 30));
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			100
		));

		assert_eq!(held(4), 190);
		assert_eq!(ledger(4, Role::Worker).unwrap().active, 60);
		assert_eq!(ledger(4, Role::Agent).unwrap().active, 30);
		assert_eq!(ledger(4, Role::Validator).unwrap().active, 100);
	});
}

#[test]
fn bond_of_zero_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 0),
			Error::<Test>::ZeroAmount
		);
	});
}

#[test]
fn first_bond_below_the_minimum_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Staking::bond(RuntimeOrigin::signed(4), Role::Worker, MIN_WORKER_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_noop!(
			Staking::bond(RuntimeOrigin::signed(4), Role::Agent, MIN_AGENT_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_noop!(
			Staking::bond(
				RuntimeOrigin::signed(4),
				Role::Validator,
				MIN_VALIDATOR_BOND - 1
			),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Worker,
			MIN_WORKER_BOND
		));
	});
}

#[test]
fn bond_beyond_the_free_balance_fails() {
	ExtBuilder::default().build_and_execute(|| {
		// Everything but the existential deposit may be bonded.
		assert_noop!(
			Staking::bond(RuntimeOrigin::signed(4), Role::Worker, INITIAL_BALANCE),
			Error::<Test>::InsufficientFunds
		);
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Worker,
			INITIAL_BALANCE - 1
		));
	});
}

#[test]
fn bond_that_overflows_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));
		assert_noop!(
			Staking::bond(RuntimeOrigin::signed(4), Role::Worker, Balance::MAX),
			Error::<Test>::Overflow
		);
	});
}

#[test]
fn bond_needs_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Staking::bond(RuntimeOrigin::root(), Role::Worker, 60),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn validator_bonds_keep_the_candidate_list_sorted() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(candidates(), vec![(1, 1_000), (2, 900), (3, 800)]);

		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			850
		));
		assert_eq!(candidates(), vec![(1, 1_000), (2, 900), (4, 850), (3, 800)]);
		assert!(staking_events().contains(&Event::CandidateAdded { who: 4, bond: 850 }));

		// A top-up moves the candidate up; equal bonds keep the earlier one first.
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(3),
			Role::Validator,
			200
		));
		assert_eq!(
			candidates(),
			vec![(1, 1_000), (3, 1_000), (2, 900), (4, 850)]
		);
		assert!(!staking_events()
			.iter()
			.any(|e| matches!(e, Event::CandidateAdded { .. })));
	});
}

#[test]
fn a_full_candidate_list_takes_only_larger_bonds() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			300
		));
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(5),
			Role::Validator,
			200
		));
		assert_eq!(Candidates::<Test>::get().len() as u32, MAX_CANDIDATES);

		assert_noop!(
			Staking::bond(RuntimeOrigin::signed(6), Role::Validator, 200),
			Error::<Test>::CandidateListFull
		);

		staking_events();
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(6),
			Role::Validator,
			201
		));
		assert_eq!(
			candidates(),
			vec![(1, 1_000), (2, 900), (3, 800), (4, 300), (6, 201)]
		);
		assert_eq!(
			staking_events(),
			vec![
				Event::CandidateAdded { who: 6, bond: 201 },
				Event::CandidateRemoved { who: 5 },
				Event::Bonded {
					who: 6,
					role: Role::Validator,
					amount: 201,
					active: 201
				},
			]
		);
		// The pushed-out validator keeps its bond and may bond back in.
		assert_eq!(ledger(5, Role::Validator).unwrap().active, 200);
		assert_eq!(held(5), 200);
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(5),
			Role::Validator,
			100
		));
		assert_eq!(
			candidates(),
			vec![(1, 1_000), (2, 900), (3, 800), (4, 300), (5, 300)]
		);
	});
}
