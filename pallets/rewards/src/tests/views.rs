//! The read API: view functions for clients.

use super::*;

#[test]
fn account_summary_shows_claims_penalty_and_points() {
	ExtBuilder::default().build_and_execute(|| {
		pay(&[(ALICE, 300)]);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(ALICE)));
		pay(&[(ALICE, 40)]);
		raise(ALICE, THRESHOLD + 1);
		attribute(ALICE, 7);
		infer(ALICE, 2);

		assert_eq!(
			Rewards::account_summary(ALICE),
			AccountSummary {
				claimable: 40,
				claimed: 300,
				penalty_score: THRESHOLD + 1,
				penalised: true,
				epoch_points: Points {
					credit: 7,
					inferences: 2,
					blocks: 0
				},
			}
		);
		assert_eq!(
			Rewards::account_summary(NOBODY),
			AccountSummary {
				claimable: 0,
				claimed: 0,
				penalty_score: 0,
				penalised: false,
				epoch_points: Points::default(),
			}
		);
	});
}

#[test]
fn epoch_info_shows_the_epoch_and_the_payout_behind_it() {
	ExtBuilder::default().build_and_execute(|| {
		attribute(ALICE, 2);
		attribute(BOB, 1);
		let info = Rewards::epoch_info();
		assert_eq!(info.index, 0);
		assert_eq!(info.start, 0);
		assert_eq!(info.next_start, EPOCH);
		assert_eq!(
			info.totals,
			EpochTotals {
				credit: 3,
				inferences: 0,
				blocks: 0,
				earners: 2
			}
		);
		assert_eq!(info.unpaid_epochs, 0);
		assert_eq!(info.payout, None);

		run_to_epoch(1);
		let info = Rewards::epoch_info();
		assert_eq!(info.index, 1);
		assert_eq!(info.start, EPOCH);
		assert_eq!(info.next_start, 2 * EPOCH);
		assert_eq!(info.totals, EpochTotals::default());
		assert_eq!(info.emitted, 49_999);
		assert_eq!(info.unpaid_epochs, 0);
	});
}

#[test]
fn schedule_info_shows_what_may_be_and_was_emitted() {
	ExtBuilder::default().build_and_execute(|| {
		attribute(ALICE, 1);
		run_to_block(EPOCH + 5);
		assert_eq!(
			Rewards::schedule_info(),
			ScheduleInfo {
				total: EMISSION_TOTAL,
				start: 0,
				end: DURATION,
				allowed: 150_000,
				emitted: 50_000,
				in_escrow: 0,
			}
		);
	});
}
