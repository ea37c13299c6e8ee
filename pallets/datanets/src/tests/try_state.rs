//! The invariants `do_try_state` checks catch broken state.

use super::*;

/// Builds a datanet with one published and one pending contribution, breaks
/// it with `corrupt`, and expects `do_try_state` to notice.
fn detects(corrupt: impl FnOnce(DatanetId, ContributionId, ContributionId)) {
	ExtBuilder::default().build().execute_with(|| {
		let id = create(ALICE, Visibility::Public);
		let published = contribute(BOB, id, 1);
		accept(ALICE, published);
		publish(ALICE, id);
		let pending = contribute(CHARLIE, id, 2);
		assert_ok!(Datanets::do_try_state());
		corrupt(id, published, pending);
		assert!(Datanets::do_try_state().is_err());
	});
}

#[test]
fn a_datanet_id_ahead_of_the_counter_is_caught() {
	detects(|_, _, _| NextDatanetId::<Test>::put(DatanetId(0)));
}

#[test]
fn a_contribution_id_ahead_of_the_counter_is_caught() {
	detects(|_, _, _| NextContributionId::<Test>::put(ContributionId(1)));
}

#[test]
fn a_wrong_pending_count_is_caught() {
	detects(|id, _, _| crate::Datanets::<Test>::mutate(id, |d| d.as_mut().unwrap().pending = 0));
}

#[test]
fn a_tampered_version_root_is_caught() {
	detects(|id, _, _| {
		Versions::<Test>::mutate(id, 1, |v| v.as_mut().unwrap().merkle_root = [0u8; 32])
	});
}

#[test]
fn a_tampered_version_size_is_caught() {
	detects(|id, _, _| Versions::<Test>::mutate(id, 1, |v| v.as_mut().unwrap().total_bytes += 1));
}

#[test]
fn a_bond_not_matching_the_hold_is_caught() {
	detects(|_, _, pending| {
		Contributions::<Test>::mutate(pending, |c| c.as_mut().unwrap().bond += 1)
	});
}

#[test]
fn a_hold_left_behind_is_caught() {
	detects(|_, _, pending| {
		// Forget the pending contribution but keep its holds.
		let stored = Contributions::<Test>::take(pending).unwrap();
		ContentIndex::<Test>::remove(stored.datanet, stored.content_hash);
		ContributionsOf::<Test>::remove(CHARLIE, pending);
		ContributorStatsOf::<Test>::remove(CHARLIE);
		crate::Datanets::<Test>::mutate(stored.datanet, |d| d.as_mut().unwrap().pending = 0);
		// Charlie still appears through another, settled contribution.
		ContributorStatsOf::<Test>::insert(
			CHARLIE,
			ContributorStats {
				contributions: 0,
				accepted: 1,
			},
		);
	});
}

#[test]
fn a_missing_index_entry_is_caught() {
	detects(|id, published, _| {
		ContentIndex::<Test>::remove(id, contribution(published).content_hash)
	});
}
