//! The read API: view functions and the [`BondedStake`] trait.

use crate::{mock::*, BondedStake, Role, UnlockChunk};
use polkadot_sdk::{frame_support::assert_ok, sp_runtime::Perbill};

const GENESIS_VALIDATOR_BONDS: Balance = 1_000 + 900 + 800;

#[test]
fn bonds_and_unbonding_chunks_per_role() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Agent, 40));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 30));
		run_to_block(3);
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Agent, 40));

		assert_eq!(Staking::bond_of(4, Role::Worker), 70);
		assert_eq!(Staking::bond_of(4, Role::Agent), 0);
		assert_eq!(Staking::bond_of(4, Role::Validator), 0);
		assert_eq!(
			Staking::unlocking_of(4),
			vec![
				(
					Role::Worker,
					UnlockChunk {
						value: 30,
						unlock_at: 1 + UNBONDING_PERIOD
					}
				),
				(
					Role::Agent,
					UnlockChunk {
						value: 40,
						unlock_at: 3 + UNBONDING_PERIOD
					}
				),
			]
		);
		assert!(Staking::unlocking_of(5).is_empty());
	});
}

#[test]
fn voting_weight_is_the_active_bond_across_roles() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(RuntimeOrigin::signed(1), Role::Worker, 60));
		assert_ok!(Staking::bond(RuntimeOrigin::signed(1), Role::Agent, 40));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(1), Role::Agent, 40));

		// Unbonding stake does not vote.
		assert_eq!(Staking::voting_weight_of(1), 1_000 + 60);
		assert_eq!(Staking::voting_weight(&1), 1_000 + 60);
		assert_eq!(Staking::voting_weight_of(9), 0);
	});
}

#[test]
fn total_bonded_follows_bonds_unbonds_and_slashes() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Staking::total_bonded(), GENESIS_VALIDATOR_BONDS);
		assert_eq!(
			<Staking as BondedStake<_, _>>::total_bonded(),
			GENESIS_VALIDATOR_BONDS
		);

		assert_ok!(Staking::bond(RuntimeOrigin::signed(4), Role::Worker, 100));
		assert_ok!(Staking::unbond(RuntimeOrigin::signed(4), Role::Worker, 20));
		Staking::slash(
			&4,
			Role::Worker,
			Perbill::from_percent(50),
			None,
			crate::SlashReason::BadReceipt(openledger_primitives::InferenceId(1)),
		);

		// 50 % of 100 stake is 50, all of it from the 80 active.
		assert_eq!(Staking::total_bonded(), GENESIS_VALIDATOR_BONDS + 30);
	});
}

#[test]
fn active_workers_are_listed_page_by_page() {
	ExtBuilder::default()
		.workers(vec![(4, 50), (5, 60), (6, 70), (7, 80)])
		.build_and_execute(|| {
			// 5 falls below the minimum and is no longer listed.
			Staking::slash(
				&5,
				Role::Worker,
				Perbill::from_percent(50),
				None,
				crate::SlashReason::BadReceipt(openledger_primitives::InferenceId(1)),
			);

			let all = Staking::active_workers(None, 100);
			let mut sorted = all.clone();
			sorted.sort();
			assert_eq!(sorted, vec![(4, 50), (6, 70), (7, 80)]);

			let first = Staking::active_workers(None, 2);
			assert_eq!(first.len(), 2);
			let rest = Staking::active_workers(first.last().map(|(who, _)| *who), 2);
			assert_eq!([first, rest].concat(), all);
		});
}

#[test]
fn candidates_are_listed_by_bond() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Staking::bond(
			RuntimeOrigin::signed(4),
			Role::Validator,
			950
		));
		assert_eq!(
			Staking::validator_candidates(),
			vec![(1, 1_000), (4, 950), (2, 900), (3, 800)]
		);
	});
}
