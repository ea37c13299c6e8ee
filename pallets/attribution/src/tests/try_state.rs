//! `try_state` catches records that disagree with each other or with the
//! OPEN held.

use super::*;
use polkadot_sdk::frame_support::traits::fungible::MutateHold;

#[test]
fn try_state_holds_in_every_state() {
	ExtBuilder::build_and_execute(|| {
		request(&alice());
		receipted(&alice());
		let id = receipted(&bob());
		assert_ok!(Attribution::challenge(
			signed(&CHALLENGER),
			id,
			Hash::repeat_byte(1)
		));
		deposit(1, 1_000);
		assert_ok!(Attribution::settle_batch(
			signed(&WORKER),
			MODEL,
			batch_of(1, vec![charge(1, 200, 1_000)], &[])
		));
		assert_ok!(Attribution::do_try_state());
	});
}

#[test]
fn try_state_catches_a_hold_that_differs_from_the_records() {
	ExtBuilder::build().execute_with(|| {
		let id = request(&alice());
		assert_ok!(Attribution::do_try_state());
		assert_ok!(Balances::hold(
			&crate::HoldReason::InferenceFee.into(),
			&alice(),
			1
		));
		assert!(Attribution::do_try_state().is_err());
		assert_ok!(Balances::release(
			&crate::HoldReason::InferenceFee.into(),
			&alice(),
			1,
			polkadot_sdk::frame_support::traits::tokens::Precision::Exact
		));
		assert_ok!(Attribution::do_try_state());
		Inferences::<Test>::mutate(id, |record| record.as_mut().unwrap().held = MAX_FEE - 1);
		assert!(Attribution::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_queues_that_disagree_with_the_records() {
	ExtBuilder::build().execute_with(|| {
		request(&alice());
		ExpiringAt::<Test>::remove(1 + SERVE_TIMEOUT);
		assert!(Attribution::do_try_state().is_err());
	});
	ExtBuilder::build().execute_with(|| {
		let id = receipted(&alice());
		SettleAt::<Test>::mutate(1 + CHALLENGE_WINDOW + 1, |ids| ids.try_push(id).unwrap());
		assert!(Attribution::do_try_state().is_err());
	});
	ExtBuilder::build().execute_with(|| {
		let id = receipted(&alice());
		Receipts::<Test>::remove(id);
		assert!(Attribution::do_try_state().is_err());
	});
	ExtBuilder::build().execute_with(|| {
		let id = receipted(&alice());
		assert_ok!(Attribution::challenge(
			signed(&CHALLENGER),
			id,
			Hash::repeat_byte(1)
		));
		Challenges::<Test>::mutate(id, |challenge| {
			challenge.as_mut().unwrap().verifiers.pop();
		});
		assert!(Attribution::do_try_state().is_err());
	});
}

#[test]
fn try_state_catches_credit_the_pot_does_not_cover_and_channel_deposits_not_held() {
	ExtBuilder::build().execute_with(|| {
		deposit(1, 1_000);
		// The pot holds its existential deposit and the 1,000.
		Credits::<Test>::mutate(user(1), |credit| credit.as_mut().unwrap().balance = 1_001);
		assert_ok!(Attribution::do_try_state());
		Credits::<Test>::mutate(user(1), |credit| credit.as_mut().unwrap().balance = 1_002);
		assert!(Attribution::do_try_state().is_err());
	});
	ExtBuilder::build().execute_with(|| {
		deposit(1, 1_000);
		assert_ok!(Attribution::settle_batch(
			signed(&WORKER),
			MODEL,
			batch_of(1, vec![charge(1, 200, 1_000)], &[])
		));
		assert_ok!(Attribution::do_try_state());
		Channels::<Test>::mutate((user(1), WORKER, MODEL, 50u64), |channel| {
			channel.as_mut().unwrap().deposit = 0
		});
		assert!(Attribution::do_try_state().is_err());
	});
}
