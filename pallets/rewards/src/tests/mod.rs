//! Tests of the rewards pallet, one file per topic. Every test runs inside
//! `ExtBuilder::build_and_execute`, which checks the pallet's invariants
//! (`do_try_state`) and that no OPEN was minted or burned once it ends.

use crate::{mock::*, *};

mod emissions;
mod ledger;
mod pagination;
mod penalties;
mod properties;
mod try_state;
mod views;

/// `PAYER` pays `credits` into the ledger.
pub fn pay(credits: &[(AccountId, Balance)]) {
	assert_ok!(Rewards::pay_rewards(&PAYER, credits));
}

pub fn claimable(who: AccountId) -> Balance {
	Claimable::<Test>::get(who)
}

/// Attribution credit for `who` in the current epoch.
pub fn attribute(who: AccountId, credit: Balance) {
	Rewards::note_attribution(&who, credit);
}

/// Settled inferences for worker `who` in the current epoch.
pub fn infer(who: AccountId, count: u32) {
	Rewards::note_settled_inferences(&who, count);
}

/// `who` authors the blocks from now on; `None` for blocks without an
/// author digest.
pub fn author(who: Option<AccountId>) {
	BlockAuthor::set(who);
}

pub fn raise(who: AccountId, points: u32) {
	Rewards::raise_penalty(&who, points);
}

/// The last event of `PayoutFinished` for `epoch`.
pub fn payout_finished(epoch: EpochIndex) -> Option<Event<Test>> {
	events()
		.into_iter()
		.rfind(|event| matches!(event, Event::PayoutFinished { epoch: e, .. } if *e == epoch))
}
