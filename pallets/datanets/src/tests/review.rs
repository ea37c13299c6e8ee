//! Reviewing: accepting and rejecting contributions.

use super::*;

#[test]
fn accepting_returns_the_bond_and_counts_for_the_contributor() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		let deposit = contribution(bobs).deposit;
		let info = Datanets::review(RuntimeOrigin::signed(ALICE), bobs, Review::Accept).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::review_accept())
		);

		assert_eq!(held(HoldReason::ContributionBond, BOB), 0);
		// The record stays, so its deposit stays held.
		assert_eq!(held(HoldReason::ContributionDeposit, BOB), deposit);
		assert_eq!(free(BOB), START_BALANCE - deposit);
		assert_eq!(
			contribution(bobs).status,
			ContributionStatus::Accepted { first_version: 1 }
		);
		assert_eq!(ContributorStatsOf::<Test>::get(BOB).accepted, 1);
		assert_eq!(
			AcceptedContent::<Test>::get(id, bobs),
			Some(AcceptedEntry {
				content_hash: hash(1),
				size_bytes: size(1)
			})
		);
		let datanet = record(id);
		assert_eq!(
			(datanet.pending, datanet.accepted, datanet.unpublished),
			(0, 1, 1)
		);
		assert_eq!(
			last_event(),
			Event::ContributionAccepted {
				contribution: bobs,
				datanet: id,
				reviewer: ALICE
			}
		);
		assert_eq!(Datanets::penalties(BOB), 0);
	});
}

#[test]
fn rejecting_slashes_part_of_the_bond_to_the_owner_and_records_a_penalty() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let charlies = contribute(CHARLIE, id, 1);
		let alice_before = free(ALICE);
		let info = Datanets::review(
			RuntimeOrigin::signed(ALICE),
			charlies,
			Review::Reject {
				reason: RejectReason::OffTopic,
			},
		)
		.unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::review_reject() + RecordRejections::weight())
		);

		// 20 % of the bond goes to the owner; the rest and the deposit return.
		let slashed = BOND / 5;
		assert_eq!(free(CHARLIE), START_BALANCE - slashed);
		assert_eq!(free(ALICE), alice_before + slashed);
		assert_eq!(held(HoldReason::ContributionBond, CHARLIE), 0);
		assert_eq!(held(HoldReason::ContributionDeposit, CHARLIE), 0);
		assert!(!Contributions::<Test>::contains_key(charlies));
		assert!(!ContentIndex::<Test>::contains_key(id, hash(1)));
		assert_eq!(record(id).pending, 0);

		assert_eq!(Penalties::<Test>::get(CHARLIE), 1);
		assert_eq!(Datanets::penalties(CHARLIE), 1);
		assert_eq!(Rejections::get(), vec![(CHARLIE, id, charlies)]);
		assert_eq!(
			last_event(),
			Event::ContributionRejected {
				contribution: charlies,
				datanet: id,
				reviewer: ALICE,
				reason: RejectReason::OffTopic,
				slashed,
			}
		);

		// Penalties add up.
		reject(ALICE, contribute(CHARLIE, id, 1));
		assert_eq!(Datanets::penalties(CHARLIE), 2);
		assert_eq!(Rejections::get().len(), 2);
	});
}

#[test]
fn a_curator_may_reject_and_the_slash_still_goes_to_the_owner() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB));
		let (alice_before, bob_before) = (free(ALICE), free(BOB));
		reject(BOB, contribute(CHARLIE, id, 1));
		assert_eq!(free(ALICE), alice_before + BOND / 5);
		assert_eq!(free(BOB), bob_before);
	});
}

#[test]
fn review_refuses_anyone_but_the_owner_and_curators() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		// Not even the contributor.
		for who in [BOB, CHARLIE] {
			assert_noop!(
				Datanets::review(RuntimeOrigin::signed(who), bobs, Review::Accept),
				Error::<Test>::NotReviewer
			);
		}
		assert_noop!(
			Datanets::review(
				RuntimeOrigin::signed(CHARLIE),
				bobs,
				Review::Reject {
					reason: RejectReason::Harmful
				}
			),
			Error::<Test>::NotReviewer
		);
	});
}

#[test]
fn review_refuses_an_unknown_contribution() {
	ExtBuilder::default().build_and_execute(|| {
		create(ALICE, Visibility::Public);
		assert_noop!(
			Datanets::review(
				RuntimeOrigin::signed(ALICE),
				ContributionId(0),
				Review::Accept
			),
			Error::<Test>::UnknownContribution
		);
	});
}

#[test]
fn review_refuses_a_contribution_already_reviewed() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		accept(ALICE, bobs);
		assert_noop!(
			Datanets::review(RuntimeOrigin::signed(ALICE), bobs, Review::Accept),
			Error::<Test>::NotPending
		);
		assert_noop!(
			Datanets::review(
				RuntimeOrigin::signed(ALICE),
				bobs,
				Review::Reject {
					reason: RejectReason::Duplicate
				}
			),
			Error::<Test>::NotPending
		);
	});
}

#[test]
fn review_is_bounded_by_the_costlier_verdict() {
	ExtBuilder::default().build_and_execute(|| {
		let bound = Datanets::review_weight_bound();
		assert!(bound.all_gte(<() as WeightInfo>::review_accept()));
		assert!(bound.all_gte(<() as WeightInfo>::review_reject() + RecordRejections::weight()));
	});
}
