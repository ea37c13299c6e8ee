//! `unbond` and `withdraw_unbonded`: the unbonding queue and its timing.

use crate::{mock::*, Candidates, Error, Event, Role, TotalActive, UnlockChunk};
use polkadot_sdk::frame_support::{assert_noop, assert_ok};

fn chunks(who: AccountId, role: Role) -> Vec<(Balance, u64)> {
	ledger(who, role)
		.map(|l| {
			l.unlocking
				.into_iter()
				.map(|c| (c.value, c.unlock_at))
				.collect()
		})
		.unwrap_or_default()
}

#[test]
fn unbond_moves_stake_into_a_chunk_that_stays_held() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		staking_events();

		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 40));

		let unlock_at = 1 + UNBONDING_PERIOD;
		assert_eq!(ledger(4, Role::Worker).unwrap().active, 60);
		assert_eq!(chunks(4, Role::Worker), vec![(40, unlock_at)]);
		assert_eq!(held(4), 100);
		assert_eq!(TotalActive::<Test>::get(Role::Worker), 60);
		assert_eq!(
			staking_events(),
			vec![Event::Unbonded {
				who: 4,
				role: Role::Worker,
				amount: 40,
				unlock_at
			}]
		);
	});
}

#[test]
fn withdraw_waits_for_maturity_then_releases() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 40));
		let unlock_at = 1 + UNBONDING_PERIOD;

		// One block before maturity: nothing to withdraw.
		run_to_block(unlock_at - 1);
		assert_noop!(
			Staking::withdraw_unbonded(RuntimeOrigin::signed(4)),
			Error::<Test>::NothingToWithdraw
		);

		// At maturity: released.
		run_to_block(unlock_at);
		staking_events();
		assert_ok!(Staking::withdraw_unbonded(RuntimeOrigin::signed(4)));
		assert_eq!(held(4), 60);
		assert_eq!(free(4), INITIAL_BALANCE - 60);
		assert!(chunks(4, Role::Worker).is_empty());
		assert_eq!(
			staking_events(),
			vec![Event::Withdrawn { who: 4, amount: 40 }]
		);

		// Nothing more until the next unbond matures.
		assert_noop!(
			Staking::withdraw_unbonded(RuntimeOrigin::signed(4)),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn withdraw_after_maturity_releases_only_matured_chunks() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 200));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 30));
		run_to_block(4);
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 50));

		// Well past the first chunk's maturity, one block before the second's.
		run_to_block(4 + UNBONDING_PERIOD - 1);
		assert_ok!(Staking::withdraw_unbonded(RuntimeOrigin::signed(4)));
		assert_eq!(held(4), 170);
		assert_eq!(chunks(4, Role::Worker), vec![(50, 4 + UNBONDING_PERIOD)]);

		run_to_block(100);
		assert_ok!(Staking::withdraw_unbonded(RuntimeOrigin::signed(4)));
		assert_eq!(held(4), 120);
		assert!(chunks(4, Role::Worker).is_empty());
	});
}

#[test]
fn withdraw_covers_every_role_and_removes_emptied_ledgers() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 60));
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Agent, 30));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 60));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Agent, 30));

		run_to_block(1 + UNBONDING_PERIOD);
		staking_events();
		assert_ok!(Staking::withdraw_unbonded(RuntimeOrigin::signed(4)));

		assert_eq!(held(4), 0);
		assert_eq!(free(4), INITIAL_BALANCE);
		assert!(ledger(4, Role::Worker).is_none());
		assert!(ledger(4, Role::Agent).is_none());
		assert_eq!(
			staking_events(),
			vec![Event::Withdrawn { who: 4, amount: 90 }]
		);
	});
}

#[test]
fn unbonds_in_one_block_share_a_chunk() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 200));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 10));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 20));

		assert_eq!(
			ledger(4, Role::Worker).unwrap().unlocking.into_inner(),
			vec![UnlockChunk {
				value: 30,
				unlock_at: 1 + UNBONDING_PERIOD
			}]
		);
	});
}

#[test]
fn unbond_of_zero_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_noop!(
			Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 0),
			Error::<Test>::ZeroAmount
		);
	});
}

#[test]
fn unbond_without_a_bond_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 10),
			Error::<Test>::NotBonded
		);
		// Only unbonding stake left: nothing active to unbond.
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_noop!(
			Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 10),
			Error::<Test>::NotBonded
		);
	});
}

#[test]
fn unbond_of_more_than_the_bond_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_noop!(
			Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 101),
			Error::<Test>::InsufficientBond
		);
	});
}

#[test]
fn unbond_may_not_leave_less_than_the_minimum() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_noop!(
			Staking::unbond(
				RuntimeOrigin::signed(4),
				Role::Worker,
				100 - MIN_WORKER_BOND + 1
			),
			Error::<Test>::RemainderBelowMinimum
		);
		// Down to exactly the minimum, or out entirely, is fine.
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(4),
			Role::Worker,
			100 - MIN_WORKER_BOND
		));
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(4),
			Role::Worker,
			MIN_WORKER_BOND
		));
		assert_eq!(ledger(4, Role::Worker).unwrap().active, 0);
	});
}

#[test]
fn the_unbonding_queue_is_bounded() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 500));
		for block in 1..=u64::from(MAX_UNLOCKING_CHUNKS) {
			run_to_block(block);
			assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 10));
		}
		run_to_block(u64::from(MAX_UNLOCKING_CHUNKS) + 1);
		assert_noop!(
			Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 10),
			Error::<Test>::TooManyUnlockingChunks
		);

		// Withdrawing the first matured chunk makes room again.
		run_to_block(1 + UNBONDING_PERIOD);
		assert_ok!(Staking::withdraw_unbonded(RuntimeOrigin::signed(4)));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 10));
	});
}

#[test]
fn withdraw_with_nothing_unbonding_fails() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Staking::withdraw_unbonded(RuntimeOrigin::signed(4)),
			Error::<Test>::NothingToWithdraw
		);
	});
}

#[test]
fn validator_unbonds_move_or_remove_the_candidate() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(1),
			Role::Validator,
			250
		));
		let order: Vec<_> = Candidates::<Test>::get()
			.into_iter()
			.map(|c| (c.who, c.bond))
			.collect();
		assert_eq!(order, vec![(2, 900), (3, 800), (1, 750)]);

		staking_events();
		assert_ok!(Staking::unbond(
			RuntimeOrigin::signed(2),
			Role::Validator,
			900
		));
		let order: Vec<_> = Candidates::<Test>::get()
			.into_iter()
			.map(|c| c.who)
			.collect();
		assert_eq!(order, vec![3, 1]);
		assert!(staking_events().contains(&Event::CandidateRemoved { who: 2 }));
	});
}
