//! Tests of the datanets pallet, one file per topic. Every test runs inside
//! `ExtBuilder::build_and_execute`, which checks the pallet's invariants
//! (`do_try_state`) and that no OPEN was minted or burned once it ends.

use crate::{mock::*, *};
// The pallet, not the `Datanets` storage map: use `crate::Datanets` for that.
use crate::mock::Datanets;
use polkadot_sdk::{
	frame_support::traits::fungible::{Inspect, InspectHold},
	frame_system,
};

mod contributions;
mod curation;
mod lifecycle;
mod review;
mod try_state;
mod versions;

/// The contribution bond of the datanets tests create.
pub const BOND: Balance = 100;

pub fn bounded<S: polkadot_sdk::frame_support::traits::Get<u32>>(
	bytes: &[u8],
) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().unwrap()
}

pub fn tags(list: &[&[u8]]) -> TagsOf<Test> {
	list.iter()
		.map(|tag| bounded(tag))
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

/// Creates a datanet of `owner` and returns its id.
pub fn create(owner: AccountId, visibility: Visibility) -> DatanetId {
	let id = NextDatanetId::<Test>::get();
	assert_ok!(Datanets::create_datanet(
		RuntimeOrigin::signed(owner),
		bounded(b"medicine"),
		bounded(b"clinical notes"),
		[9u8; 32],
		tags(&[b"health"]),
		visibility,
		BOND,
	));
	id
}

/// The content hash of test payload `n`.
pub fn hash(n: u8) -> ContentHash {
	[n; 32]
}

/// The payload size of test payload `n`.
pub fn size(n: u8) -> u64 {
	1_000 + u64::from(n)
}

/// `who` contributes test payload `n` to `datanet`; returns the id.
pub fn contribute(who: AccountId, datanet: DatanetId, n: u8) -> ContributionId {
	let id = NextContributionId::<Test>::get();
	assert_ok!(Datanets::contribute(
		RuntimeOrigin::signed(who),
		datanet,
		hash(n),
		size(n),
		bounded(b"ipfs://payload"),
		bounded(b"CC-BY-4.0"),
		ContributionKind::Text,
	));
	id
}

pub fn accept(reviewer: AccountId, contribution: ContributionId) {
	assert_ok!(Datanets::review(
		RuntimeOrigin::signed(reviewer),
		contribution,
		Review::Accept
	));
}

pub fn reject(reviewer: AccountId, contribution: ContributionId) {
	assert_ok!(Datanets::review(
		RuntimeOrigin::signed(reviewer),
		contribution,
		Review::Reject {
			reason: RejectReason::LowQuality
		}
	));
}

pub fn publish(owner: AccountId, datanet: DatanetId) {
	assert_ok!(Datanets::publish_version(
		RuntimeOrigin::signed(owner),
		datanet
	));
}

pub fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&reason.into(), &who)
}

pub fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

pub fn record(datanet: DatanetId) -> DatanetOf<Test> {
	Datanets::datanet(datanet).expect("datanet exists")
}

pub fn contribution(id: ContributionId) -> ContributionOf<Test> {
	Contributions::<Test>::get(id).expect("contribution exists")
}

pub fn last_event() -> Event<Test> {
	frame_system::Pallet::<Test>::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Datanets(event) => Some(event),
			_ => None,
		})
		.next_back()
		.expect("an event was deposited")
}

/// Moves all but `keep` of `who`'s free balance to DAVE, leaving issuance
/// as it is, so that `who` cannot pay what comes next.
pub fn drain(who: AccountId, keep: Balance) {
	use polkadot_sdk::frame_support::traits::{fungible::Mutate, tokens::Preservation};
	let amount = free(who).saturating_sub(keep);
	assert_ok!(<Balances as Mutate<AccountId>>::transfer(
		&who,
		&DAVE,
		amount,
		Preservation::Preserve
	));
}

pub use polkadot_sdk::frame_support::{assert_noop, assert_ok};
