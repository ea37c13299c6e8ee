//! Slashing through [`BondedStake::slash`] and governance's `slash_agent`.

use crate::{mock::*, BondedStake, Candidates, Error, Event, Role, SlashReason, TotalActive};
use openledger_primitives::InferenceId;
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok},
	sp_core::H256,
	sp_runtime::{DispatchError, Perbill},
};

const RECEIPT: SlashReason = SlashReason::BadReceipt(InferenceId(7));

fn evidence() -> SlashReason {
	SlashReason::AgentMisbehaviour(H256::repeat_byte(1))
}

#[test]
fn slash_takes_from_the_active_bond_and_pays_the_protocol_pool() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		staking_events();

		let slashed = Staking::slash(&4, Role::Worker, Perbill::from_percent(10), None, RECEIPT);

		assert_eq!(slashed, 10);
		assert_eq!(held(4), 90);
		assert_eq!(free(4), INITIAL_BALANCE - 100);
		assert_eq!(free(PROTOCOL_POOL), 10);
		assert_eq!(ledger(4, Role::Worker).unwrap().active, 90);
		assert_eq!(TotalActive::<Test>::get(Role::Worker), 90);
		assert_eq!(
			staking_events(),
			vec![Event::Slashed {
				who: 4,
				role: Role::Worker,
				amount: 10,
				recipient: Some(PROTOCOL_POOL),
				reason: RECEIPT,
			}]
		);
	});
}

#[test]
fn slash_spans_unbonding_chunks_oldest_first() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 200));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 50));
		run_to_block(2);
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 50));

		// 80 % of 200 = 160: the 100 active, the whole first chunk, 10 of the second.
		let slashed = Staking::slash(&4, Role::Worker, Perbill::from_percent(80), None, RECEIPT);

		assert_eq!(slashed, 160);
		let ledger = ledger(4, Role::Worker).unwrap();
		assert_eq!(ledger.active, 0);
		let chunks: Vec<_> = ledger
			.unlocking
			.iter()
			.map(|c| (c.value, c.unlock_at))
			.collect();
		assert_eq!(chunks, vec![(40, 2 + UNBONDING_PERIOD)]);
		assert_eq!(held(4), 40);
		assert_eq!(free(PROTOCOL_POOL), 160);
		assert_eq!(TotalActive::<Test>::get(Role::Worker), 0);

		// What is left still unbonds normally.
		run_to_block(2 + UNBONDING_PERIOD);
		assert_ok!(Staking::withdraw_unbonded(RuntimeOrigin::signed(4)));
		assert_eq!(free(4), INITIAL_BALANCE - 160);
		assert!(crate::mock::ledger(4, Role::Worker).is_none());
	});
}

#[test]
fn a_full_slash_empties_the_role() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 30));
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Agent, 40));

		assert_eq!(
			Staking::slash(&4, Role::Worker, Perbill::one(), None, RECEIPT),
			100
		);

		assert!(ledger(4, Role::Worker).is_none());
		// Other roles of the same account are untouched.
		assert_eq!(ledger(4, Role::Agent).unwrap().active, 40);
		assert_eq!(held(4), 40);
	});
}

#[test]
fn slash_pays_the_beneficiary_when_named() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		staking_events();

		let slashed = Staking::slash(
			&4,
			Role::Worker,
			Perbill::from_percent(25),
			Some(7),
			SlashReason::LostChallenge(InferenceId(1)),
		);

		assert_eq!(slashed, 25);
		assert_eq!(free(7), INITIAL_BALANCE + 25);
		assert_eq!(free(PROTOCOL_POOL), 0);
		assert_eq!(
			staking_events(),
			vec![Event::Slashed {
				who: 4,
				role: Role::Worker,
				amount: 25,
				recipient: Some(7),
				reason: SlashReason::LostChallenge(InferenceId(1)),
			}]
		);
	});
}

#[test]
fn a_beneficiary_that_cannot_receive_leaves_it_to_the_pool() {
	ExtBuilder::default()
		.existential_deposit(10)
		.build_and_execute(|| {
			assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
			// The pool exists; account 50 does not, and 5 is below the deposit that would create it.
			assert_ok!(Balances::transfer_allow_death(
				RuntimeOrigin::signed(5),
				PROTOCOL_POOL,
				10
			));

			let slashed = Staking::slash(
				&4,
				Role::Worker,
				Perbill::from_percent(5),
				Some(50),
				RECEIPT,
			);

			assert_eq!(slashed, 5);
			assert_eq!(free(50), 0);
			assert_eq!(free(PROTOCOL_POOL), 15);
		});
}

#[test]
fn slashed_open_no_one_can_receive_is_burned() {
	ExtBuilder::default()
		.existential_deposit(10)
		.build_and_execute(|| {
			assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
			let issuance = Balances::total_issuance();
			staking_events();

			let slashed = Staking::slash(
				&4,
				Role::Worker,
				Perbill::from_percent(5),
				Some(50),
				RECEIPT,
			);

			assert_eq!(slashed, 5);
			assert_eq!(Balances::total_issuance(), issuance - 5);
			assert_eq!(
				staking_events(),
				vec![Event::Slashed {
					who: 4,
					role: Role::Worker,
					amount: 5,
					recipient: None,
					reason: RECEIPT,
				}]
			);
		});
}

#[test]
fn slash_of_nothing_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(
			Staking::slash(&4, Role::Worker, Perbill::one(), None, RECEIPT),
			0
		);

		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));
		// A fraction that rounds to zero.
		assert_eq!(
			Staking::slash(&4, Role::Worker, Perbill::from_parts(1), None, RECEIPT),
			0
		);
		assert_eq!(held(4), 60);
		assert!(!staking_events()
			.iter()
			.any(|e| matches!(e, Event::Slashed { .. })));
	});
}

#[test]
fn a_slashed_worker_below_the_minimum_is_no_longer_active() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));
		assert!(Staking::is_active(&4, Role::Worker));

		Staking::slash(&4, Role::Worker, Perbill::from_percent(50), None, RECEIPT);

		assert_eq!(Staking::bonded(&4, Role::Worker), 30);
		assert!(!Staking::is_active(&4, Role::Worker));
		// A top-up back over the minimum makes it active again.
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 20));
		assert!(Staking::is_active(&4, Role::Worker));
	});
}

#[test]
fn slashing_a_validator_reorders_or_removes_the_candidate() {
	ExtBuilder::default().build_and_execute(|| {
		let reason = SlashReason::ValidatorOffence(H256::zero());
		Staking::slash(
			&1,
			Role::Validator,
			Perbill::from_percent(30),
			None,
			reason.clone(),
		);
		let order: Vec<_> = Candidates::<Test>::get()
			.into_iter()
			.map(|c| (c.who, c.bond))
			.collect();
		assert_eq!(order, vec![(2, 900), (3, 800), (1, 700)]);

		staking_events();
		Staking::slash(&3, Role::Validator, Perbill::from_percent(90), None, reason);
		let order: Vec<_> = Candidates::<Test>::get()
			.into_iter()
			.map(|c| c.who)
			.collect();
		assert_eq!(order, vec![2, 1]);
		assert!(staking_events().contains(&Event::CandidateRemoved { who: 3 }));
		assert!(!Staking::is_active(&3, Role::Validator));
	});
}

#[test]
fn governance_slashes_agents() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Agent, 100));
		staking_events();

		assert_ok!(Staking::slash_agent(
			RuntimeOrigin::root(),
			4,
			Perbill::from_percent(50),
			evidence()
		));

		assert_eq!(held(4), 50);
		assert_eq!(free(PROTOCOL_POOL), 50);
		assert_eq!(
			staking_events(),
			vec![Event::Slashed {
				who: 4,
				role: Role::Agent,
				amount: 50,
				recipient: Some(PROTOCOL_POOL),
				reason: evidence(),
			}]
		);
	});
}

#[test]
fn slash_agent_needs_the_governance_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Agent, 100));
		assert_noop!(
			Staking::slash_agent(RuntimeOrigin::signed(4), 4, Perbill::one(), evidence()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn slash_agent_of_an_account_without_agent_stake_fails() {
	ExtBuilder::default().build_and_execute(|| {
		// A worker bond is not agent stake.
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_noop!(
			Staking::slash_agent(RuntimeOrigin::root(), 4, Perbill::one(), evidence()),
			Error::<Test>::NothingToSlash
		);
	});
}
