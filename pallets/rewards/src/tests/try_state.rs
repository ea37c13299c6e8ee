//! The invariants `do_try_state` checks catch broken state.

use super::*;
use polkadot_sdk::frame_support::traits::fungible::Mutate;

/// Builds a state with a claim, a paid epoch and earnings in the current
/// one, breaks it with `corrupt`, and expects `do_try_state` to notice.
fn detects(corrupt: impl FnOnce()) {
	ExtBuilder::default().build().execute_with(|| {
		pay(&[(ALICE, 100)]);
		attribute(BOB, 1);
		run_to_epoch(1);
		attribute(CHARLIE, 1);
		raise(DAVE, 3);
		assert_ok!(Rewards::do_try_state());
		corrupt();
		assert!(Rewards::do_try_state().is_err());
	});
}

#[test]
fn a_wrong_total_claimable_is_caught() {
	detects(|| TotalClaimable::<Test>::mutate(|total| *total += 1));
}

#[test]
fn a_stored_zero_claimable_is_caught() {
	detects(|| Claimable::<Test>::insert(DAVE, 0));
}

#[test]
fn claims_the_pot_cannot_back_are_caught() {
	detects(|| {
		Claimable::<Test>::insert(DAVE, 1_000);
		TotalClaimable::<Test>::mutate(|total| *total += 1_000);
	});
}

#[test]
fn a_pot_without_its_existential_deposit_is_caught() {
	detects(|| {
		Claimable::<Test>::insert(DAVE, 1);
		TotalClaimable::<Test>::mutate(|total| *total += 1);
	});
}

#[test]
fn issuance_above_the_cap_is_caught() {
	detects(|| {
		assert_ok!(<Balances as Mutate<AccountId>>::mint_into(
			&DAVE,
			TOTAL_SUPPLY_CAP
		));
	});
}

#[test]
fn emissions_beyond_the_schedule_are_caught() {
	detects(|| TotalEmitted::<Test>::put(Rewards::allowed_by(System::block_number()) + 1));
}

#[test]
fn epoch_totals_that_differ_from_the_earnings_are_caught() {
	detects(|| CurrentEpoch::<Test>::mutate(|epoch| epoch.totals.credit += 1));
}

#[test]
fn earnings_left_in_a_paid_epoch_are_caught() {
	detects(|| Earnings::<Test>::insert(0, DAVE, Points::default()));
}

#[test]
fn a_closed_epoch_gone_missing_is_caught() {
	detects(|| CurrentEpoch::<Test>::mutate(|epoch| epoch.index += 1));
}

#[test]
fn a_payout_of_an_open_epoch_is_caught() {
	detects(|| {
		ActivePayout::<Test>::put(PayoutRun {
			epoch: 1,
			end: 2 * EPOCH,
			classes: ClassAmounts::default(),
			totals: EpochTotals::default(),
			escrowed: 0,
			paid: 0,
			withheld: 0,
			remaining: 1,
		})
	});
}

#[test]
fn a_penalty_from_a_future_epoch_is_caught() {
	detects(|| PenaltyScores::<Test>::insert(DAVE, PenaltyRecord { score: 1, epoch: 9 }));
}
