//! Creating and closing datanets, and the deposits that go with them.

use super::*;
use codec::Encode;

#[test]
fn create_datanet_stores_it_and_holds_its_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		assert_eq!(id, DatanetId(0));
		assert_eq!(NextDatanetId::<Test>::get(), DatanetId(1));

		let datanet = record(id);
		assert_eq!(datanet.owner, ALICE);
		assert_eq!(datanet.name.as_slice(), b"medicine");
		assert_eq!(datanet.summary.as_slice(), b"clinical notes");
		assert_eq!(datanet.description_hash, [9u8; 32]);
		assert_eq!(datanet.tags, tags(&[b"health"]));
		assert_eq!(datanet.visibility, Visibility::Public);
		assert_eq!(datanet.contribution_bond, BOND);
		assert_eq!(datanet.status, DatanetStatus::Open);
		assert_eq!(datanet.created_at, 1);
		assert_eq!(datanet.latest_version, 0);

		// Base plus one unit per byte of the record: 118 bytes here.
		assert_eq!(datanet.encoded_size(), 118);
		assert_eq!(datanet.deposit, DEPOSIT_BASE + DEPOSIT_PER_BYTE * 118);
		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), datanet.deposit);
		assert_eq!(free(ALICE), START_BALANCE - datanet.deposit);
		assert_eq!(
			last_event(),
			Event::DatanetCreated {
				datanet: id,
				owner: ALICE,
				visibility: Visibility::Public,
				contribution_bond: BOND,
				deposit: datanet.deposit,
			}
		);
	});
}

#[test]
fn longer_metadata_costs_a_larger_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let short = create(ALICE, Visibility::Public);
		assert_ok!(Datanets::create_datanet(
			RuntimeOrigin::signed(BOB),
			bounded(b"medicine, longer"),
			bounded(b"clinical notes"),
			[9u8; 32],
			tags(&[b"health", b"clinic"]),
			Visibility::Public,
			BOND,
		));
		let long = record(DatanetId(1));
		// 8 more name bytes, 7 more for the second tag.
		assert_eq!(long.deposit, record(short).deposit + 15 * DEPOSIT_PER_BYTE);
		assert_eq!(held(HoldReason::DatanetDeposit, BOB), long.deposit);
	});
}

#[test]
fn create_datanet_refuses_an_empty_name() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Datanets::create_datanet(
				RuntimeOrigin::signed(ALICE),
				bounded(b""),
				bounded(b"summary"),
				[0u8; 32],
				tags(&[]),
				Visibility::Public,
				BOND,
			),
			Error::<Test>::EmptyName
		);
	});
}

#[test]
fn create_datanet_refuses_a_bond_below_the_minimum() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Datanets::create_datanet(
				RuntimeOrigin::signed(ALICE),
				bounded(b"medicine"),
				bounded(b"summary"),
				[0u8; 32],
				tags(&[]),
				Visibility::Public,
				MIN_BOND - 1,
			),
			Error::<Test>::BondTooLow
		);
	});
}

#[test]
fn create_datanet_refuses_an_owner_who_cannot_pay_the_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Datanets::create_datanet(
				RuntimeOrigin::signed(POOR),
				bounded(b"medicine"),
				bounded(b"summary"),
				[0u8; 32],
				tags(&[]),
				Visibility::Public,
				BOND,
			),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn create_datanet_refuses_when_ids_run_out() {
	ExtBuilder::default().build_and_execute(|| {
		NextDatanetId::<Test>::put(DatanetId(u32::MAX));
		assert_noop!(
			Datanets::create_datanet(
				RuntimeOrigin::signed(ALICE),
				bounded(b"medicine"),
				bounded(b"summary"),
				[0u8; 32],
				tags(&[]),
				Visibility::Public,
				BOND,
			),
			Error::<Test>::IdsExhausted
		);
	});
}

#[test]
fn closing_returns_every_deposit_and_removes_a_datanet_without_versions() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB));
		assert_ok!(Datanets::allow_contributor(
			RuntimeOrigin::signed(ALICE),
			id,
			CHARLIE
		));
		let held_before = held(HoldReason::DatanetDeposit, ALICE);
		assert_eq!(
			held_before,
			record(id).deposit + 2 * Datanets::entry_deposit()
		);

		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id));

		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), 0);
		assert_eq!(free(ALICE), START_BALANCE);
		assert_eq!(Datanets::datanet(id), None);
		assert!(Curators::<Test>::get(id).is_empty());
		assert!(!Allowlist::<Test>::contains_key(id, CHARLIE));
		assert_eq!(
			last_event(),
			Event::DatanetClosed {
				datanet: id,
				deposit_released: held_before
			}
		);
	});
}

#[test]
fn closing_keeps_published_versions_and_their_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		let bobs = contribute(BOB, id, 1);
		accept(ALICE, bobs);
		publish(ALICE, id);
		let version_deposit = Versions::<Test>::get(id, 1).unwrap().deposit;
		let record_deposit = record(id).deposit;

		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id));

		let closed = record(id);
		assert_eq!(closed.status, DatanetStatus::Closed);
		assert_eq!(closed.deposit, 0);
		assert_eq!(held(HoldReason::DatanetDeposit, ALICE), version_deposit);
		assert_eq!(
			last_event(),
			Event::DatanetClosed {
				datanet: id,
				deposit_released: record_deposit
			}
		);
		// The version and its contribution stay readable.
		assert_eq!(Datanets::versions(id).len(), 1);
		let listed = Datanets::version_contributions(id, 1).unwrap();
		assert_eq!(listed.len(), 1);
		assert_eq!(listed[0].0, bobs);
		assert_eq!(listed[0].1.contributor, BOB);
		// Bob's record stays, so its deposit stays held.
		assert_eq!(
			held(HoldReason::ContributionDeposit, BOB),
			contribution(bobs).deposit
		);
	});
}

#[test]
fn a_closed_datanet_takes_nothing_more() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		accept(ALICE, contribute(ALICE, id, 1));
		publish(ALICE, id);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id));

		let closed = || Error::<Test>::DatanetClosed;
		let alice = || RuntimeOrigin::signed(ALICE);
		assert_noop!(Datanets::close_datanet(alice(), id), closed());
		assert_noop!(Datanets::add_curator(alice(), id, BOB), closed());
		assert_noop!(Datanets::remove_curator(alice(), id, BOB), closed());
		assert_noop!(Datanets::allow_contributor(alice(), id, BOB), closed());
		assert_noop!(Datanets::disallow_contributor(alice(), id, BOB), closed());
		assert_noop!(Datanets::publish_version(alice(), id), closed());
		assert_noop!(
			Datanets::contribute(
				alice(),
				id,
				hash(2),
				size(2),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Code,
			),
			closed()
		);
	});
}

#[test]
fn calls_on_an_unknown_datanet_fail() {
	ExtBuilder::default().build_and_execute(|| {
		let unknown = || Error::<Test>::UnknownDatanet;
		let id = DatanetId(7);
		let alice = || RuntimeOrigin::signed(ALICE);
		assert_noop!(Datanets::close_datanet(alice(), id), unknown());
		assert_noop!(Datanets::add_curator(alice(), id, BOB), unknown());
		assert_noop!(Datanets::remove_curator(alice(), id, BOB), unknown());
		assert_noop!(Datanets::allow_contributor(alice(), id, BOB), unknown());
		assert_noop!(Datanets::disallow_contributor(alice(), id, BOB), unknown());
		assert_noop!(Datanets::publish_version(alice(), id), unknown());
		assert_noop!(
			Datanets::contribute(
				alice(),
				id,
				hash(1),
				size(1),
				bounded(b"ipfs://x"),
				bounded(b"MIT"),
				ContributionKind::Code,
			),
			unknown()
		);
	});
}

#[test]
fn only_the_owner_manages_a_datanet() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		assert_ok!(Datanets::add_curator(RuntimeOrigin::signed(ALICE), id, BOB));
		accept(ALICE, contribute(ALICE, id, 1));

		let not_owner = || Error::<Test>::NotOwner;
		// Not even a curator.
		let bob = || RuntimeOrigin::signed(BOB);
		assert_noop!(Datanets::close_datanet(bob(), id), not_owner());
		assert_noop!(Datanets::add_curator(bob(), id, CHARLIE), not_owner());
		assert_noop!(Datanets::remove_curator(bob(), id, BOB), not_owner());
		assert_noop!(Datanets::allow_contributor(bob(), id, CHARLIE), not_owner());
		assert_noop!(
			Datanets::disallow_contributor(bob(), id, CHARLIE),
			not_owner()
		);
		assert_noop!(Datanets::publish_version(bob(), id), not_owner());
	});
}

#[test]
fn closing_waits_for_pending_reviews() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		contribute(BOB, id, 1);
		assert_noop!(
			Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::PendingContributions
		);
	});
}

#[test]
fn closing_waits_for_accepted_contributions_to_be_published() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Public);
		accept(ALICE, contribute(BOB, id, 1));
		assert_noop!(
			Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id),
			Error::<Test>::UnpublishedContributions
		);
		publish(ALICE, id);
		assert_ok!(Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id));
	});
}

#[test]
fn close_is_charged_for_the_allowlist_it_actually_removed() {
	ExtBuilder::default().build_and_execute(|| {
		let id = create(ALICE, Visibility::Permissioned);
		assert_ok!(Datanets::allow_contributor(
			RuntimeOrigin::signed(ALICE),
			id,
			BOB
		));
		let info = Datanets::close_datanet(RuntimeOrigin::signed(ALICE), id).unwrap();
		assert_eq!(
			info.actual_weight,
			Some(<() as WeightInfo>::close_datanet(1))
		);
	});
}

#[test]
fn integrity_test_accepts_the_mock_configuration() {
	ExtBuilder::default().build_and_execute(|| {
		Datanets::check_constants();
	});
}
