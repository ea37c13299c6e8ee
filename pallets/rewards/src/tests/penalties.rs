//! Penalty scores: they reduce new rewards above the threshold and decay
//! each epoch.

use super::*;

#[test]
fn a_penalised_account_keeps_the_multiplier_of_fee_credits() {
	ExtBuilder::default().build_and_execute(|| {
		raise(ALICE, THRESHOLD + 1);
		let protocol = free(PROTOCOL);
		let pot = free(POT);
		let payer = free(PAYER);

		pay(&[(ALICE, 1_000), (BOB, 1_000)]);

		// ALICE keeps 40 %; the rest goes from the payer to the protocol pool.
		assert_eq!(claimable(ALICE), 400);
		assert_eq!(claimable(BOB), 1_000);
		assert_eq!(free(PROTOCOL), protocol + 600);
		assert_eq!(free(POT), pot + 1_400);
		assert_eq!(free(PAYER), payer - 2_000);
		let events = events();
		assert!(events.contains(&Event::Credited {
			who: ALICE,
			amount: 400,
			withheld: 600
		}));
		assert_eq!(
			events.last(),
			Some(&Event::RewardsPaid {
				payer: PAYER,
				credited: 1_400,
				withheld: 600
			})
		);
	});
}

#[test]
fn at_the_threshold_rewards_are_not_reduced() {
	ExtBuilder::default().build_and_execute(|| {
		raise(ALICE, THRESHOLD);
		pay(&[(ALICE, 1_000)]);
		assert_eq!(claimable(ALICE), 1_000);
		assert!(!Rewards::account_summary(ALICE).penalised);
	});
}

#[test]
fn scores_decay_by_half_each_epoch() {
	ExtBuilder::default().build_and_execute(|| {
		raise(ALICE, 40);
		assert_eq!(Rewards::penalty_score(&ALICE), 40);

		run_to_epoch(1);
		assert_eq!(Rewards::penalty_score(&ALICE), 20);
		run_to_epoch(2);
		assert_eq!(Rewards::penalty_score(&ALICE), 10);
		pay(&[(ALICE, 100)]);
		assert_eq!(claimable(ALICE), 100);

		raise(ALICE, 4);
		assert_eq!(
			events().last(),
			Some(&Event::PenaltyRaised {
				who: ALICE,
				points: 4,
				score: 14
			})
		);
		assert_eq!(
			PenaltyScores::<Test>::get(ALICE),
			Some(PenaltyRecord {
				score: 14,
				epoch: 2
			})
		);
		run_to_epoch(5);
		assert_eq!(Rewards::penalty_score(&ALICE), 1);
	});
}

#[test]
fn penalised_earners_keep_the_multiplier_of_emissions_and_the_rest_stays_in_the_pool() {
	ExtBuilder::default().build_and_execute(|| {
		let pool = free(COMMUNITY);
		// Still 15 when epoch 0 is paid in epoch 1: above the threshold.
		raise(ALICE, 30);
		attribute(ALICE, 1);
		attribute(BOB, 1);

		run_to_epoch(1);

		assert_eq!(claimable(ALICE), 10_000);
		assert_eq!(claimable(BOB), 25_000);
		assert!(events().contains(&Event::EpochRewardCredited {
			epoch: 0,
			who: ALICE,
			amount: 10_000,
			withheld: 15_000
		}));
		assert_eq!(
			payout_finished(0),
			Some(Event::PayoutFinished {
				epoch: 0,
				paid: 35_000,
				withheld: 15_000,
				returned: 15_000
			})
		);
		assert_eq!(TotalEmitted::<Test>::get(), 35_000);
		assert_eq!(free(COMMUNITY), pool - 35_000);
	});
}

#[test]
fn a_decayed_score_is_removed_when_the_account_is_paid() {
	ExtBuilder::default().build_and_execute(|| {
		raise(ALICE, 1);
		attribute(ALICE, 1);
		assert!(PenaltyScores::<Test>::contains_key(ALICE));

		run_to_epoch(1);

		assert!(!PenaltyScores::<Test>::contains_key(ALICE));
		assert_eq!(claimable(ALICE), 50_000);
	});
}

#[test]
fn raising_by_nothing_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		raise(ALICE, 0);
		assert!(!PenaltyScores::<Test>::contains_key(ALICE));
		assert!(events().is_empty());
	});
}

#[test]
fn scores_saturate() {
	ExtBuilder::default().build_and_execute(|| {
		raise(ALICE, u32::MAX);
		raise(ALICE, 5);
		assert_eq!(Rewards::penalty_score(&ALICE), u32::MAX);
	});
}

#[test]
fn decay_is_applied_however_many_epochs_passed() {
	let record = PenaltyRecord {
		score: 1_000,
		epoch: 3,
	};
	let half = PenaltyDecay::get();
	assert_eq!(record.score_at(3, half), 1_000);
	assert_eq!(record.score_at(4, half), 500);
	assert_eq!(record.score_at(6, half), 125);
	assert_eq!(record.score_at(u32::MAX, half), 0);
	// A score from a later epoch than asked for is taken as it is.
	assert_eq!(record.score_at(1, half), 1_000);
}
