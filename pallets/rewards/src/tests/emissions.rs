//! Epoch emissions: the split by class and pro rata, remainders that stay in
//! the community pool, and the schedule's cap.

use super::*;
use polkadot_sdk::frame_support::traits::{fungible::Mutate, tokens::Preservation};

#[test]
fn an_epochs_emission_is_split_by_class_and_pro_rata() {
	ExtBuilder::default().build_and_execute(|| {
		attribute(ALICE, 3);
		attribute(BOB, 1);
		infer(CHARLIE, 2);
		infer(ALICE, 1);
		author(Some(DAVE));
		run_to_block(EPOCH - 1);
		author(None);
		let pool = free(COMMUNITY);
		let pot = free(POT);

		run_to_epoch(1);

		// Contributors 50 000 by credit 3:1, workers 30 000 by inferences
		// 1:2, validators 20 000 for DAVE's 8 blocks.
		assert_eq!(claimable(ALICE), 37_500 + 10_000);
		assert_eq!(claimable(BOB), 12_500);
		assert_eq!(claimable(CHARLIE), 20_000);
		assert_eq!(claimable(DAVE), 20_000);
		assert_eq!(TotalEmitted::<Test>::get(), PER_EPOCH);
		assert_eq!(free(COMMUNITY), pool - PER_EPOCH);
		assert_eq!(free(POT), pot + PER_EPOCH);
		assert_eq!(Earnings::<Test>::iter_prefix(0).count(), 0);

		let events = events();
		assert!(events.contains(&Event::EpochClosed {
			epoch: 0,
			end: EPOCH,
			earners: 4
		}));
		assert!(events.contains(&Event::PayoutStarted {
			epoch: 0,
			classes: ClassAmounts {
				contributors: 50_000,
				workers: 30_000,
				validators: 20_000
			},
			earners: 4
		}));
		assert!(events.contains(&Event::EpochRewardCredited {
			epoch: 0,
			who: DAVE,
			amount: 20_000,
			withheld: 0
		}));
		assert_eq!(
			payout_finished(0),
			Some(Event::PayoutFinished {
				epoch: 0,
				paid: PER_EPOCH,
				withheld: 0,
				returned: 0
			})
		);
		assert!(ActivePayout::<Test>::get().is_none());
		assert_eq!(NextEpochToPay::<Test>::get(), 1);
	});
}

#[test]
fn rounding_and_empty_classes_stay_in_the_pool_and_are_emitted_later() {
	ExtBuilder::default().build_and_execute(|| {
		let pool = free(COMMUNITY);
		attribute(ALICE, 1);
		attribute(BOB, 1);
		attribute(CHARLIE, 1);

		run_to_epoch(1);

		// 50 000 split three ways; nobody served or authored anything.
		for who in [ALICE, BOB, CHARLIE] {
			assert_eq!(claimable(who), 16_666);
		}
		assert_eq!(
			payout_finished(0),
			Some(Event::PayoutFinished {
				epoch: 0,
				paid: 49_998,
				withheld: 0,
				returned: 2
			})
		);
		assert_eq!(TotalEmitted::<Test>::get(), 49_998);
		assert_eq!(free(COMMUNITY), pool - 49_998);

		attribute(ALICE, 1);
		infer(BOB, 1);
		author(Some(CHARLIE));
		run_to_block(EPOCH + 1);
		author(None);

		run_to_epoch(2);

		// What epoch 0 left is emitted with epoch 1: 200 000 allowed by block
		// 20, less 49 998 emitted.
		let due: Balance = 200_000 - 49_998;
		assert_eq!(due, 150_002);
		assert_eq!(claimable(ALICE), 16_666 + 75_001);
		assert_eq!(claimable(BOB), 16_666 + 45_000);
		assert_eq!(claimable(CHARLIE), 16_666 + 30_000);
		assert_eq!(TotalEmitted::<Test>::get(), 49_998 + 150_001);
		assert_eq!(free(COMMUNITY), pool - 49_998 - 150_001);
	});
}

#[test]
fn an_epoch_without_earners_emits_nothing_and_its_share_rolls_over() {
	ExtBuilder::default().build_and_execute(|| {
		run_to_epoch(1);
		assert!(events().contains(&Event::PayoutStarted {
			epoch: 0,
			classes: ClassAmounts::default(),
			earners: 0
		}));
		assert_eq!(TotalEmitted::<Test>::get(), 0);

		attribute(ALICE, 1);
		run_to_epoch(2);

		// Half of two epochs' worth: the contributors' share of 200 000.
		assert_eq!(claimable(ALICE), 100_000);
	});
}

#[test]
fn the_pool_never_emits_more_than_the_schedule_allows() {
	ExtBuilder::default().build_and_execute(|| {
		let pool = free(COMMUNITY);
		attribute(ALICE, 1);
		infer(BOB, 1);
		author(Some(CHARLIE));
		for block in 2..=13 * EPOCH {
			run_to_block(block);
			if block % EPOCH == 0 {
				attribute(ALICE, 1);
				infer(BOB, 1);
			}
			assert_ok!(Rewards::do_try_state());
			assert!(TotalEmitted::<Test>::get() <= Rewards::allowed_by(block));
			assert_eq!(pool - free(COMMUNITY), TotalEmitted::<Test>::get());
		}

		// Everything was emitted by block 100, and nothing more after.
		assert_eq!(TotalEmitted::<Test>::get(), EMISSION_TOTAL);
		assert_eq!(claimable(ALICE), EMISSION_TOTAL / 2);
		assert_eq!(claimable(BOB), EMISSION_TOTAL * 3 / 10);
		assert_eq!(claimable(CHARLIE), EMISSION_TOTAL / 5);
		assert_eq!(free(COMMUNITY), ED);
	});
}

#[test]
fn the_schedule_is_linear_and_capped() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Rewards::allowed_by(0), 0);
		assert_eq!(Rewards::allowed_by(1), EMISSION_TOTAL / DURATION as Balance);
		assert_eq!(Rewards::allowed_by(DURATION / 2), EMISSION_TOTAL / 2);
		assert_eq!(Rewards::allowed_by(DURATION), EMISSION_TOTAL);
		assert_eq!(Rewards::allowed_by(DURATION * 5), EMISSION_TOTAL);
	});
}

#[test]
fn an_underfunded_pool_pays_what_it_can_and_stays_alive() {
	ExtBuilder::default()
		.community(30_000 + 2 * ED)
		.build_and_execute(|| {
			attribute(ALICE, 1);
			infer(BOB, 1);
			author(Some(CHARLIE));

			run_to_epoch(1);

			assert_eq!(claimable(ALICE), 15_000);
			assert_eq!(claimable(BOB), 9_000);
			assert_eq!(claimable(CHARLIE), 6_000);
			assert_eq!(free(COMMUNITY), ED);

			attribute(ALICE, 1);
			run_to_epoch(2);

			// Nothing left to emit; the pool keeps its existential deposit.
			assert_eq!(claimable(ALICE), 15_000);
			assert_eq!(TotalEmitted::<Test>::get(), 30_000);
			assert_eq!(free(COMMUNITY), ED);
			assert!(events().contains(&Event::PayoutStarted {
				epoch: 1,
				classes: ClassAmounts::default(),
				earners: 2
			}));

			// Topped up, the pool catches up with the schedule as far as it can.
			assert_ok!(<Balances as Mutate<AccountId>>::transfer(
				&PAYER,
				&COMMUNITY,
				50_000,
				Preservation::Preserve
			));
			attribute(ALICE, 1);
			infer(BOB, 1);
			run_to_epoch(3);
			assert_eq!(TotalEmitted::<Test>::get(), 30_000 + 50_000);
			assert_eq!(free(COMMUNITY), ED);
		});
}

#[test]
fn authored_blocks_count_for_the_epoch_they_are_in() {
	ExtBuilder::default().build_and_execute(|| {
		author(Some(DAVE));
		run_to_block(EPOCH);

		// Blocks 2 to 9 were in epoch 0; block 10 opened epoch 1.
		assert!(events().contains(&Event::PayoutStarted {
			epoch: 0,
			classes: ClassAmounts {
				contributors: 0,
				workers: 0,
				validators: 20_000
			},
			earners: 1
		}));
		assert_eq!(claimable(DAVE), 20_000);
		assert_eq!(Earnings::<Test>::get(1, DAVE).map(|p| p.blocks), Some(1));
		assert_eq!(CurrentEpoch::<Test>::get().totals.blocks, 1);
	});
}

#[test]
fn notes_of_nothing_create_no_earnings() {
	ExtBuilder::default().build_and_execute(|| {
		attribute(ALICE, 0);
		infer(BOB, 0);
		assert_eq!(Earnings::<Test>::iter().count(), 0);
		assert_eq!(CurrentEpoch::<Test>::get().totals, EpochTotals::default());
	});
}
