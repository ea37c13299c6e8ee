//! Publishing versions and reading them back.

use super::*;
use codec::Encode;
use openledger_primitives::merkle::{merkle_proof, merkle_root, verify_proof};

#[test]
fn publishing_freezes_accepted_contributions_in_id_order() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let first = contribute(BOB, id, 1);
		let second = contribute(CHARLIE, id, 2);
		let rejected = contribute(DAVE, id, 3);
		let third = contribute(EVE, id, 4);
		let still_pending = contribute(BOB, id, 5);
		// Reviewed out of order.
		accept(ALICE, third);
		accept(ALICE, first);
		reject(ALICE, rejected);
		accept(ALICE, second);
		System::set_block_number(7);

		let info = Datanets::publish_version(RuntimeOrigin::signed(ALICE), id).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::publish_version(3))
		);

		let version = Versions::<Test>::get(id, 1).unwrap();
		assert_eq!(version.number, 1);
		assert_eq!(
			version.contributions.clone().into_inner(),
			vec![first, second, third]
		);
		let leaves = [hash(1), hash(2), hash(4)];
		assert_eq!(version.merkle_root, merkle_root(&leaves));
		assert_eq!(version.total_bytes, size(1) + size(2) + size(4));
		assert_eq!(version.published_at, 7);
		assert_eq!(
			version.deposit,
			DEPOSIT_BASE + DEPOSIT_PER_BYTE * version.encoded_size() as u64
		);
		assert_eq!(
			held(HoldReason::DatanetDeposit, ALICE),
			record(id).deposit + version.deposit
		);
		assert_eq!(
			last_event(),
			Event::VersionPublished {
				datanet: id,
				version: 1,
				merkle_root: version.merkle_root,
				contributions: 3,
				total_bytes: version.total_bytes,
				deposit: version.deposit,
			}
		);
		let datanet = record(id);
		assert_eq!(
			(datanet.latest_version, datanet.unpublished, datanet.pending),
			(1, 0, 1)
		);

		// Each included payload can be proven against the stored root.
		for (index, leaf) in leaves.iter().enumerate() {
			let proof = merkle_proof(&leaves, index).unwrap();
			assert!(verify_proof(&version.merkle_root, leaf, &proof));
		}

		// Accepting the pending one makes version 2; version 1 is unchanged.
		accept(ALICE, still_pending);
		publish(ALICE, id);
		assert_eq!(Versions::<Test>::get(id, 1).unwrap(), version);
		assert_eq!(
			Versions::<Test>::get(id, 2)
				.unwrap()
				.contributions
				.into_inner(),
			vec![first, second, third, still_pending]
		);
		assert_eq!(
			contribution(still_pending).status,
			ContributionStatus::Accepted { first_version: 2 }
		);
	});
}

#[test]
fn views_read_versions_and_their_contributors() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert!(Datanets::versions(id).is_empty());
		assert_eq!(Datanets::version_contributions(id, 1), None);

		let bobs = contribute(BOB, id, 1);
		let charlies = contribute(CHARLIE, id, 2);
		accept(ALICE, bobs);
		accept(ALICE, charlies);
		publish(ALICE, id);
		assert_ok!(Datanets::withdraw(RuntimeOrigin::signed(CHARLIE), charlies));
		publish(ALICE, id);

		let versions = Datanets::versions(id);
		assert_eq!(
			versions.iter().map(|v| v.number).collect::<Vec<_>>(),
			vec![1, 2]
		);
		assert_eq!(versions[1].contributions.clone().into_inner(), vec![bobs]);

		let first = Datanets::version_contributions(id, 1).unwrap();
		let owners: Vec<_> = first.iter().map(|(id, c)| (*id, c.contributor)).collect();
		assert_eq!(owners, vec![(bobs, BOB), (charlies, CHARLIE)]);
		assert_eq!(Datanets::datanet(id).unwrap().latest_version, 2);
		assert_eq!(Datanets::datanet(DatanetId(9)), None);
	});
}

#[test]
fn publish_refuses_an_empty_version() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		contribute(BOB, id, 1);
		assert_noop!(
			Datanets::publish_version(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::NothingToPublish
		);
	});
}

#[test]
fn publish_refuses_a_copy_of_the_latest_version() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		accept(ALICE, contribute(BOB, id, 1));
		publish(ALICE, id);
		assert_noop!(
			Datanets::publish_version(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::VersionUnchanged
		);
	});
}

#[test]
fn publish_refuses_past_the_version_bound() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		for n in 1..=4 {
			accept(ALICE, contribute(BOB, id, n));
			publish(ALICE, id);
		}
		accept(ALICE, contribute(CHARLIE, id, 5));
		assert_noop!(
			Datanets::publish_version(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::TooManyVersions
		);
	});
}

#[test]
fn publish_refuses_an_owner_who_cannot_pay_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		accept(ALICE, contribute(BOB, id, 1));
		drain(ALICE, DEPOSIT_BASE);
		assert_noop!(
			Datanets::publish_version(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::InsufficientBalance
		);
	});
}
