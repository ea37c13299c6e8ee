//! The pull ledger: credits through `pay_rewards`, claims, and payments that
//! fail without changing anything.

use super::*;
use polkadot_sdk::sp_runtime::DispatchError;

#[test]
fn credits_move_the_payers_opens_into_the_pot_and_the_ledger() {
	ExtBuilder::default().build_and_execute(|| {
		let pot = free(POT);
		let payer = free(PAYER);

		pay(&[(ALICE, 300), (BOB, 200), (ALICE, 50)]);

		assert_eq!(claimable(ALICE), 350);
		assert_eq!(claimable(BOB), 200);
		assert_eq!(TotalClaimable::<Test>::get(), 550);
		assert_eq!(free(POT), pot + 550);
		assert_eq!(free(PAYER), payer - 550);
		let events = events();
		assert!(events.contains(&Event::Credited {
			who: BOB,
			amount: 200,
			withheld: 0
		}));
		assert_eq!(
			events.last(),
			Some(&Event::RewardsPaid {
				payer: PAYER,
				credited: 550,
				withheld: 0
			})
		);
	});
}

#[test]
fn zero_credits_are_skipped() {
	ExtBuilder::default().build_and_execute(|| {
		pay(&[(ALICE, 0)]);
		pay(&[]);

		assert!(!Claimable::<Test>::contains_key(ALICE));
		assert!(events().is_empty());
	});
}

#[test]
fn a_claim_pays_everything_claimable_and_counts_it() {
	ExtBuilder::default().build_and_execute(|| {
		pay(&[(ALICE, 300)]);
		pay(&[(ALICE, 200)]);
		let alice = free(ALICE);

		assert_ok!(Rewards::claim(RuntimeOrigin::signed(ALICE)));

		assert_eq!(free(ALICE), alice + 500);
		assert!(!Claimable::<Test>::contains_key(ALICE));
		assert_eq!(Claimed::<Test>::get(ALICE), 500);
		assert_eq!(TotalClaimable::<Test>::get(), 0);
		assert_eq!(
			events().last(),
			Some(&Event::Claimed {
				who: ALICE,
				amount: 500
			})
		);

		pay(&[(ALICE, 70)]);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Claimed::<Test>::get(ALICE), 570);
	});
}

#[test]
fn the_pot_keeps_its_existential_deposit_after_the_last_claim() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(free(POT), ED);
		pay(&[(ALICE, 1_000)]);

		assert_ok!(Rewards::claim(RuntimeOrigin::signed(ALICE)));

		assert_eq!(free(POT), ED);
	});
}

#[test]
fn nothing_to_claim() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Rewards::claim(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToClaim
		);
		pay(&[(ALICE, 10)]);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(ALICE)));
		assert_noop!(
			Rewards::claim(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn a_new_account_claims_once_it_is_owed_the_existential_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		pay(&[(NOBODY, ED - 1)]);
		assert_noop!(
			Rewards::claim(RuntimeOrigin::signed(NOBODY)),
			Error::<Test>::BelowMinimum
		);

		pay(&[(NOBODY, 1)]);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(NOBODY)));
		assert_eq!(free(NOBODY), ED);
	});
}

#[test]
fn an_existing_account_claims_below_the_existential_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		pay(&[(ALICE, 1)]);
		assert_ok!(Rewards::claim(RuntimeOrigin::signed(ALICE)));
		assert_eq!(free(ALICE), START_BALANCE + 1);
	});
}

#[test]
fn claim_needs_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Rewards::claim(RuntimeOrigin::root()),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn too_many_credits_fail() {
	ExtBuilder::default().build_and_execute(|| {
		let credits: Vec<(AccountId, Balance)> =
			(0..=u64::from(MAX_CREDITS)).map(|who| (who, 1)).collect();
		assert_noop!(
			Rewards::pay_rewards(&PAYER, &credits),
			Error::<Test>::TooManyCredits
		);
		pay(&credits[..MAX_CREDITS as usize]);
	});
}

#[test]
fn a_payer_short_of_funds_pays_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Rewards::pay_rewards(&ALICE, &[(BOB, 1), (CHARLIE, START_BALANCE)]),
			Error::<Test>::InsufficientFunds
		);
		// Everything the payer has, leaving nothing behind.
		assert_ok!(Rewards::pay_rewards(&ALICE, &[(BOB, START_BALANCE)]));
		assert_eq!(free(ALICE), 0);
		assert_eq!(claimable(BOB), START_BALANCE);
	});
}

#[test]
fn credits_that_overflow_fail() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Rewards::pay_rewards(&PAYER, &[(ALICE, Balance::MAX), (BOB, 1)]),
			Error::<Test>::Overflow
		);
	});
}

#[test]
fn the_pot_cannot_pay_itself() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Rewards::pay_rewards(&POT, &[(ALICE, 1)]),
			Error::<Test>::PayerIsPot
		);
	});
}

#[test]
fn a_pot_without_its_deposit_cannot_take_dust() {
	// No invariant check: this state (a pot without its existential
	// deposit) is what genesis exists to prevent.
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(<Balances as polkadot_sdk::frame_support::traits::fungible::Mutate<
			AccountId,
		>>::transfer(
			&POT,
			&COMMUNITY,
			ED,
			polkadot_sdk::frame_support::traits::tokens::Preservation::Expendable
		));
		assert_eq!(free(POT), 0);

		assert_noop!(
			Rewards::pay_rewards(&PAYER, &[(ALICE, ED - 1)]),
			Error::<Test>::PotCannotReceive
		);
	});
}

#[test]
fn a_missing_protocol_pool_cannot_take_a_withheld_dust() {
	ExtBuilder::default()
		.no_protocol_pool()
		.build_and_execute(|| {
			raise(ALICE, THRESHOLD + 1);
			// 40 % kept, 60 % of 5 = 3 withheld: below the existential deposit of
			// an account that does not exist.
			assert_noop!(
				Rewards::pay_rewards(&PAYER, &[(BOB, 100), (ALICE, 5)]),
				Error::<Test>::ProtocolPoolCannotReceive
			);
			pay(&[(BOB, 100), (ALICE, 10)]);
			assert_eq!(free(PROTOCOL), 6);
		});
}

#[test]
fn a_failed_claim_changes_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		pay(&[(NOBODY, 2)]);
		let pot = free(POT);
		assert_noop!(
			Rewards::claim(RuntimeOrigin::signed(NOBODY)),
			Error::<Test>::BelowMinimum
		);
		assert_eq!(free(POT), pot);
		assert_eq!(claimable(NOBODY), 2);
	});
}

#[test]
fn a_claim_from_an_underfunded_pot_fails() {
	ExtBuilder::default().build().execute_with(|| {
		pay(&[(ALICE, 100)]);
		// Something outside this pallet took OPEN from the pot.
		assert_ok!(<Balances as polkadot_sdk::frame_support::traits::fungible::Mutate<
			AccountId,
		>>::transfer(
			&POT,
			&COMMUNITY,
			50,
			polkadot_sdk::frame_support::traits::tokens::Preservation::Preserve
		));
		assert_noop!(
			Rewards::claim(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::PotUnderfunded
		);
		assert!(Rewards::do_try_state().is_err());
	});
}

#[test]
fn a_payer_with_nothing_pays_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Rewards::pay_rewards(&NOBODY, &[(ALICE, 1)]),
			Error::<Test>::InsufficientFunds
		);
	});
}
