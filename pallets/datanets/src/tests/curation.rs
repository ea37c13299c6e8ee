//! Curators and the allowlist of permissioned datanets.

use super::*;

#[test]
fn adding_a_curator_holds_an_entry_deposit_and_lets_them_review() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let before = held(HoldReason::DatanetDeposit, ALICE);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB));

		let deposit = Datanets::entry_deposit();
		// An account (8 bytes in the mock) and a balance (8 bytes), plus the base.
		assert_eq!(deposit, DEPOSIT_BASE + 16 * DEPOSIT_PER_BYTE);
		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), before + deposit);
		assert_eq!(
			Curators::<Test>::get(id).into_inner(),
			vec![Curator {
				account: BOB,
				deposit
			}]
		);
		assert_eq!(
			last_event(),
			Event::CuratorAdded {
				datanet: id,
				curator: BOB,
				deposit
			}
		);

		let pending = contribute(CHARLIE, id, 1);
		accept(BOB, pending);
		assert!(matches!(
			contribution(pending).status,
			ContributionStatus::Accepted { .. }
		));
	});
}

#[test]
fn removing_a_curator_returns_the_deposit_and_ends_their_reviews() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let before = held(HoldReason::DatanetDeposit, ALICE);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB));
		assert_ok!(Datanets::add_curator(
			RuntimeOrigin::signed(ALICE),
			id,
			CHARLIE
		));
		assert_ok!(Datanets::remove_curator(
			RuntimeOrigin::signed(ALICE),
			id,
			BOB
		));

		assert_eq!(
			held(HoldReason::DatanetDeposit, ALICE),
			before + Datanets::entry_deposit()
		);
		assert_eq!(
			last_event(),
			Event::CuratorRemoved {
				datanet: id,
				curator: BOB
			}
		);
		assert_eq!(Curators::<Test>::get(id).len(), 1);

		let pending = contribute(DAVE, id, 1);
		assert_noop!(
			Datanets::review(RuntimeOrigin::signed(BOB), pending, Review::Accept),
			Error::<Test>::NotReviewer
		);
		// The last curator's removal leaves no entry behind.
		assert_ok!(Datanets::remove_curator(
			RuntimeOrigin::signed(ALICE),
			id,
			CHARLIE
		));
		assert!(!Curators::<Test>::contains_key(id));
		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), before);
	});
}

#[test]
fn add_curator_refuses_a_current_curator() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB));
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::AlreadyCurator
		);
	});
}

#[test]
fn add_curator_refuses_the_owner() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, ALICE),
			Error::<Test>::OwnerCannotBeCurator
		);
	});
}

#[test]
fn add_curator_refuses_past_the_bound() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		for curator in [BOB, CHARLIE, DAVE] {
			assert_ok!(Datanets::add_curator(
				RuntimeOrigin::signed(ALICE),
				id,
				curator
			));
		}
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, EVE),
			Error::<Test>::TooManyCurators
		);
	});
}

#[test]
fn add_curator_refuses_an_owner_who_cannot_pay_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		drain(ALICE, Datanets::entry_deposit() - 1);
		assert_noop!(
			Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn remove_curator_refuses_a_non_curator() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_noop!(
			Datanets::remove_curator(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::NotCurator
		);
	});
}

#[test]
fn the_allowlist_decides_who_contributes_to_a_permissioned_datanet() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		let before = held(HoldReason::DatanetDeposit, ALICE);
		let deposit = Datanets::entry_deposit();

		assert_ok!(Datanets::allow_contributor(
			RuntimeOrigin::signed(ALICE),
			id,
			BOB
		));
		assert_eq!(
			last_event(),
			Event::ContributorAllowed {
				datanet: id,
				contributor: BOB,
				deposit
			}
		);
		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), before + deposit);
		assert_eq!(record(id).allowlisted, 1);
		contribute(BOB, id, 1);
		// The owner needs no entry.
		contribute(ALICE, id, 2);

		assert_ok!(Datanets::disallow_contributor(
			RuntimeOrigin::signed(ALICE),
			id,
			BOB
		));
		assert_eq!(
			last_event(),
			Event::ContributorDisallowed {
				datanet: id,
				contributor: BOB
			}
		);
		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), before);
		assert_eq!(record(id).allowlisted, 0);
		// What Bob already contributed stays; he just cannot add more.
		assert_eq!(record(id).pending, 2);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				id,
				hash(3),
				size(3),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::NotAllowlisted
		);
	});
}

#[test]
fn allow_contributor_refuses_a_public_datanet() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_noop!(
			Datanets::allow_contributor(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::NotPermissioned
		);
	});
}

#[test]
fn allow_contributor_refuses_a_listed_account() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		assert_ok!(Datanets::allow_contributor(
			RuntimeOrigin::signed(ALICE),
			id,
			BOB
		));
		assert_noop!(
			Datanets::allow_contributor(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::AlreadyAllowed
		);
	});
}

#[test]
fn allow_contributor_refuses_past_the_bound() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		for who in [BOB, CHARLIE, DAVE] {
			assert_ok!(Datanets::allow_contributor(
				RuntimeOrigin::signed(ALICE),
				id,
				who
			));
		}
		assert_noop!(
			Datanets::allow_contributor(RuntimeOrigin::signed(ALICE), id, EVE),
			Error::<Test>::AllowlistFull
		);
	});
}

#[test]
fn allow_contributor_refuses_an_owner_who_cannot_pay_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		drain(ALICE, Datanets::entry_deposit() - 1);
		assert_noop!(
			Datanets::allow_contributor(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn disallow_contributor_refuses_an_unlisted_account() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		assert_noop!(
			Datanets::disallow_contributor(RuntimeOrigin::signed(ALICE), id, BOB),
			Error::<Test>::NotAllowed
		);
	});
}
