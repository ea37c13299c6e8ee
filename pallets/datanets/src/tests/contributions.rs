//! Contributing and withdrawing.

use super::*;
use codec::Encode;

#[test]
fn contribute_records_it_and_holds_bond_and_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let first = contribute(BOB, id, 1);
		assert_eq!(first, ContributionId(0));
		assert_eq!(NextContributionId::<Test>::get(), ContributionId(1));

		let stored = contribution(first);
		assert_eq!(stored.datanet, id);
		assert_eq!(stored.contributor, BOB);
		assert_eq!(stored.content_hash, hash(1));
		assert_eq!(stored.size_bytes, size(1));
		assert_eq!(stored.uri.as_slice(), b"ipfs://payload");
		assert_eq!(stored.license.as_slice(), b"CC-BY-4.0");
		assert_eq!(stored.kind, ContributionKind::Text);
		assert_eq!(stored.bond, BOND);
		assert_eq!(stored.status, ContributionStatus::Pending);
		assert_eq!(stored.submitted_at, 1);
		// The base, plus the record's bytes with room for the accepted status
		// (4 more than pending) and 96 bytes of index entries.
		assert_eq!(
			stored.deposit,
			DEPOSIT_BASE + DEPOSIT_PER_BYTE * (stored.encoded_size() as u64 + 4 + 96)
		);

		assert_eq!(held(HoldReason::ContributionBond, BOB), BOND);
		assert_eq!(held(HoldReason::ContributionDeposit, BOB), stored.deposit);
		assert_eq!(free(BOB), START_BALANCE - BOND - stored.deposit);
		assert_eq!(ContentIndex::<Test>::get(id, hash(1)), Some(first));
		assert!(ContributionsOf::<Test>::contains_key(BOB, first));
		assert_eq!(ContributorStatsOf::<Test>::get(BOB).contributions, 1);
		assert_eq!(record(id).pending, 1);
		assert_eq!(
			last_event(),
			Event::Contributed {
				contribution: first,
				datanet: id,
				contributor: BOB,
				content_hash: hash(1),
				bond: BOND,
				deposit: stored.deposit,
			}
		);

		// Ids are global: the next one, in another datanet, follows on.
		let other = create(CHARLIE, Visibility::Public);
		assert_eq!(contribute(BOB, other, 1), ContributionId(1));
	});
}

#[test]
fn the_same_payload_may_go_to_different_datanets() {
	ExtBuilder::default().build_and_execute(|| {
		let medicine = create(ALICE, Visibility::Public);
		let law = create(ALICE, Visibility::Public);
		contribute(BOB, medicine, 1);
		contribute(CHARLIE, law, 1);
		assert_eq!(record(medicine).pending, 1);
		assert_eq!(record(law).pending, 1);
	});
}

#[test]
fn contribute_refuses_a_duplicate_hash() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		contribute(BOB, id, 1);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(CHARLIE),
				id,
				hash(1),
				42,
				bounded(b"https://elsewhere"),
				bounded(b"MIT"),
				ContributionKind::Code,
			),
			Error::<Test>::DuplicateContent
		);
	});
}

#[test]
fn contribute_refuses_an_empty_payload() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				id,
				hash(1),
				0,
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::EmptyContribution
		);
	});
}

#[test]
fn contribute_refuses_accounts_off_the_allowlist() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				id,
				hash(1),
				size(1),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::NotAllowlisted
		);
	});
}

#[test]
fn contribute_refuses_a_full_datanet() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		// Pending and accepted both count; the bound is 5.
		accept(ALICE, contribute(BOB, id, 1));
		accept(ALICE, contribute(BOB, id, 2));
		for n in 3..=5 {
			contribute(CHARLIE, id, n);
		}
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(DAVE),
				id,
				hash(6),
				size(6),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::DatanetFull
		);
		// A rejection makes room.
		reject(ALICE, ContributionId(4));
		contribute(DAVE, id, 6);
	});
}

#[test]
fn contribute_refuses_past_the_per_account_bound() {
	ExtBuilder::default().build_and_execute(|| {
		let a = create(ALICE, Visibility::Public);
		let b = create(ALICE, Visibility::Public);
		for n in 1..=5 {
			contribute(BOB, a, n);
		}
		contribute(BOB, b, 6);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				b,
				hash(7),
				size(7),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::TooManyContributions
		);
	});
}

#[test]
fn contribute_refuses_a_contributor_who_cannot_pay() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(POOR),
				id,
				hash(1),
				size(1),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::InsufficientBalance
		);
		// Enough for the bond but not for the deposit on top.
		drain(BOB, BOND + 20);
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				id,
				hash(1),
				size(1),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn contribute_refuses_when_ids_run_out() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		NextContributionId::<Test>::put(ContributionId(u64::MAX));
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				id,
				hash(1),
				size(1),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::IdsExhausted
		);
	});
}

#[test]
fn withdrawing_a_pending_contribution_returns_everything() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let pending = contribute(BOB, id, 1);
		let info = Datanets::withdraw(RuntimeOrigin::signed(BOB), pending).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::withdraw_pending())
		);

		assert_eq!(free(BOB), START_BALANCE);
		assert_eq!(held(HoldReason::ContributionBond, BOB), 0);
		assert_eq!(held(HoldReason::ContributionDeposit, BOB), 0);
		assert!(!Contributions::<Test>::contains_key(pending));
		assert!(!ContentIndex::<Test>::contains_key(id, hash(1)));
		assert!(!ContributionsOf::<Test>::contains_key(BOB, pending));
		assert!(!ContributorStatsOf::<Test>::contains_key(BOB));
		assert_eq!(record(id).pending, 0);
		assert_eq!(
			last_event(),
			Event::ContributionWithdrawn {
				contribution: pending,
				datanet: id
			}
		);
		// The payload may be offered again.
		contribute(BOB, id, 1);
	});
}

#[test]
fn withdrawing_an_unpublished_accepted_contribution_removes_it() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let accepted = contribute(BOB, id, 1);
		accept(ALICE, accepted);
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(BOB), accepted));

		assert_eq!(free(BOB), START_BALANCE);
		assert!(!Contributions::<Test>::contains_key(accepted));
		assert!(!AcceptedContent::<Test>::contains_key(id, accepted));
		let datanet = record(id);
		assert_eq!((datanet.accepted, datanet.unpublished), (0, 0));
		// The acceptance stays on Bob's record.
		assert_eq!(ContributorStatsOf::<Test>::get(BOB).accepted, 1);
		assert_eq!(ContributorStatsOf::<Test>::get(BOB).contributions, 0);
		assert_eq!(
			last_event(),
			Event::ContributionWithdrawn {
				contribution: accepted,
				datanet: id
			}
		);
		// Nothing left to publish.
		assert_noop!(
			Datanets::publish_version(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NothingToPublish
		);
	});
}

#[test]
fn withdrawing_a_published_contribution_retracts_it() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		let charlies = contribute(CHARLIE, id, 2);
		accept(ALICE, bobs);
		accept(ALICE, charlies);
		publish(ALICE, id);

		let info = Datanets::withdraw(RuntimeOrigin::signed(BOB), bobs).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::withdraw_accepted())
		);
		assert_eq!(contribution(bobs).status, ContributionStatus::Retracted);
		assert_eq!(
			last_event(),
			Event::ContributionRetracted {
				contribution: bobs,
				datanet: id
			}
		);
		// Version 1 still names it; its record and deposit stay.
		assert_eq!(
			Versions::<Test>::get(id, 1)
				.unwrap()
				.contributions
				.into_inner(),
			vec![bobs, charlies]
		);
		assert_eq!(
			held(HoldReason::ContributionDeposit, BOB),
			contribution(bobs).deposit
		);
		// The hash stays taken.
		assert_noop!(
			Datanets::contribute(
				RuntimeOrigin::signed(BOB),
				id,
				hash(1),
				size(1),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Text,
			),
			Error::<Test>::DuplicateContent
		);
		// Version 2 leaves it out.
		publish(ALICE, id);
		assert_eq!(
			Versions::<Test>::get(id, 2)
				.unwrap()
				.contributions
				.into_inner(),
			vec![charlies]
		);
		assert_noop!(
			Datanets::withdraw(RuntimeOrigin::signed(BOB), bobs),
			Error::<Test>::AlreadyRetracted
		);
	});
}

#[test]
fn a_published_contribution_can_be_retracted_after_the_datanet_closes() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		accept(ALICE, bobs);
		publish(ALICE, id);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id));
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(BOB), bobs));
		assert_eq!(contribution(bobs).status, ContributionStatus::Retracted);
	});
}

#[test]
fn withdraw_refuses_an_unknown_contribution() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Datanets::withdraw(RuntimeOrigin::signed(BOB), ContributionId(3)),
			Error::<Test>::UnknownContribution
		);
	});
}

#[test]
fn withdraw_refuses_anyone_but_the_contributor() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		assert_noop!(
			Datanets::withdraw(RuntimeOrigin::signed(ALICE), bobs),
			Error::<Test>::NotContributor
		);
	});
}

#[test]
fn contributions_of_lists_an_accounts_record_in_id_order() {
	ExtBuilder::default().build_and_execute(|| {
		let a = create(ALICE, Visibility::Public);
		let b = create(ALICE, Visibility::Public);
		let first = contribute(BOB, a, 1);
		contribute(CHARLIE, a, 2);
		let second = contribute(BOB, b, 3);
		let third = contribute(BOB, a, 4);
		accept(ALICE, second);
		reject(ALICE, third);

		let listed = Datanets::contributions_of(BOB);
		let ids: Vec<_> = listed.iter().map(|(id, _)| *id).collect();
		assert_eq!(ids, vec![first, second]);
		assert_eq!(listed[1].1.datanet, b);
		assert!(Datanets::contributions_of(EVE).is_empty());
	});
}
