//! End-to-end datanet flow against a real `--dev` node: Alice creates a
//! datanet, Bob and Charlie contribute, Alice accepts Bob's contribution and
//! rejects Charlie's, then publishes version 1. The version read back from the
//! chain commits to exactly Bob's payload, and the rejection moved the slashed
//! share of Charlie's bond to Alice.

mod common;

use common::{
	before_and_after, event_of, fee_paid, fetch, free_balance, on_hold, submit_finalized, TestNode,
	OPEN,
};
use openledger_primitives::merkle::merkle_root;
use polkadot_sdk::sp_io::hashing::blake2_256;
use subxt::{
	dynamic::{self, Value},
	events::DecodeAsEvent,
	ext::scale_decode::DecodeAsType,
	utils::AccountId32,
};
use subxt_signer::sr25519::dev;

const PALLET: &str = "Datanets";

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct DatanetCreated {
	datanet: u32,
	owner: AccountId32,
	contribution_bond: u128,
}

impl DecodeAsEvent for DatanetCreated {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == PALLET && event == "DatanetCreated"
	}
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Contributed {
	contribution: u64,
	datanet: u32,
	contributor: AccountId32,
	content_hash: [u8; 32],
	bond: u128,
}

impl DecodeAsEvent for Contributed {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == PALLET && event == "Contributed"
	}
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct ContributionAccepted {
	contribution: u64,
}

impl DecodeAsEvent for ContributionAccepted {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == PALLET && event == "ContributionAccepted"
	}
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct ContributionRejected {
	contribution: u64,
	slashed: u128,
}

impl DecodeAsEvent for ContributionRejected {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == PALLET && event == "ContributionRejected"
	}
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct VersionPublished {
	datanet: u32,
	version: u32,
	merkle_root: [u8; 32],
	contributions: u32,
}

impl DecodeAsEvent for VersionPublished {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == PALLET && event == "VersionPublished"
	}
}

/// The fields of a published version the test checks; decoding skips the
/// rest by name.
#[derive(Debug, PartialEq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Version {
	number: u32,
	contributions: Vec<u64>,
	merkle_root: [u8; 32],
	total_bytes: u64,
}

/// The fields of a contribution the test checks.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Contribution {
	contributor: AccountId32,
	content_hash: [u8; 32],
	size_bytes: u64,
}

fn contribute_call(datanet: u32, payload: &[u8], uri: &str) -> impl subxt::transactions::Payload {
	dynamic::tx(
		PALLET,
		"contribute",
		(
			datanet,
			blake2_256(payload),
			payload.len() as u64,
			uri.as_bytes().to_vec(),
			b"CC-BY-4.0".to_vec(),
			Value::unnamed_variant("Text", []),
		),
	)
}

#[tokio::test]
async fn a_datanet_version_commits_to_its_accepted_contributions() {
	let node = TestNode::start()
		.await
		.expect("the dev node starts and finalizes blocks");
	let (alice, bob, charlie) = (dev::alice(), dev::bob(), dev::charlie());
	let alice_id = alice.public_key().to_account_id();
	let bob_id = bob.public_key().to_account_id();
	let charlie_id = charlie.public_key().to_account_id();

	let now = node
		.client
		.at_current_block()
		.await
		.expect("client at the finalized block");
	let min_bond = now
		.constants()
		.entry(dynamic::constant::<u128>(PALLET, "MinContributionBond"))
		.expect("Datanets.MinContributionBond");
	// Perbill, in parts per billion.
	let reject_slash = now
		.constants()
		.entry(dynamic::constant::<u32>(PALLET, "RejectSlash"))
		.expect("Datanets.RejectSlash");
	// At least one OPEN, so the slashed share is visible in the balances.
	let bond = (2 * min_bond).max(OPEN);

	// Alice creates a public datanet.
	let create = dynamic::tx(
		PALLET,
		"create_datanet",
		(
			b"medicine".to_vec(),
			b"de-identified clinical notes".to_vec(),
			blake2_256(b"A datanet of de-identified clinical notes."),
			vec![b"health".to_vec(), b"clinical".to_vec()],
			Value::unnamed_variant("Public", []),
			bond,
		),
	);
	let tx = submit_finalized(&node.client, &create, &alice).await;
	let created: DatanetCreated = event_of(&tx, "create_datanet").await;
	assert_eq!(created.owner, alice_id);
	assert_eq!(created.contribution_bond, bond);
	let datanet = created.datanet;

	// Bob and Charlie contribute; each holds the bond.
	let bobs_payload = b"Patient presented with acute chest pain; troponin elevated.".as_slice();
	let charlies_payload = b"lorem ipsum dolor sit amet".as_slice();
	let tx = submit_finalized(
		&node.client,
		&contribute_call(datanet, bobs_payload, "ipfs://bob"),
		&bob,
	)
	.await;
	let bobs: Contributed = event_of(&tx, "Bob's contribute").await;
	assert_eq!((bobs.datanet, &bobs.contributor), (datanet, &bob_id));
	assert_eq!(bobs.content_hash, blake2_256(bobs_payload));
	assert_eq!(bobs.bond, bond);

	let tx = submit_finalized(
		&node.client,
		&contribute_call(datanet, charlies_payload, "ipfs://charlie"),
		&charlie,
	)
	.await;
	let charlies: Contributed = event_of(&tx, "Charlie's contribute").await;
	let contribute_fee = fee_paid(
		&tx.fetch_events()
			.await
			.expect("events of Charlie's contribute"),
	);
	assert_eq!(contribute_fee.who, charlie_id);
	let (before_contributing, contributed) = before_and_after(&node.client, &tx).await;
	let charlie_at_start = free_balance(&before_contributing, &charlie_id).await;
	assert!(
		on_hold(&contributed, &charlie_id).await >= bond,
		"Charlie's bond (and deposit) are on hold while his contribution is pending"
	);

	// Alice accepts Bob's: his bond comes back.
	let accept = dynamic::tx(
		PALLET,
		"review",
		(bobs.contribution, Value::unnamed_variant("Accept", [])),
	);
	let tx = submit_finalized(&node.client, &accept, &alice).await;
	let accepted: ContributionAccepted = event_of(&tx, "accepting Bob's").await;
	assert_eq!(accepted.contribution, bobs.contribution);
	let (before, after) = before_and_after(&node.client, &tx).await;
	assert_eq!(
		free_balance(&after, &bob_id).await,
		free_balance(&before, &bob_id).await + bond,
		"accepting returns Bob's bond"
	);

	// Alice rejects Charlie's: the slash share of his bond moves to her.
	let reject = dynamic::tx(
		PALLET,
		"review",
		(
			charlies.contribution,
			Value::named_variant(
				"Reject",
				[("reason", Value::unnamed_variant("LowQuality", []))],
			),
		),
	);
	let tx = submit_finalized(&node.client, &reject, &alice).await;
	let rejected: ContributionRejected = event_of(&tx, "rejecting Charlie's").await;
	assert_eq!(rejected.contribution, charlies.contribution);
	let expected_slash = bond * u128::from(reject_slash) / 1_000_000_000;
	assert_eq!(
		rejected.slashed, expected_slash,
		"RejectSlash of the bond is slashed"
	);
	assert!(
		rejected.slashed > 0,
		"a rejection costs the contributor something"
	);
	let review_fee = fee_paid(&tx.fetch_events().await.expect("events of the rejection"));
	assert_eq!(review_fee.who, alice_id);

	let (before, after) = before_and_after(&node.client, &tx).await;
	assert_eq!(
		free_balance(&after, &alice_id).await,
		free_balance(&before, &alice_id).await - review_fee.actual_fee + rejected.slashed,
		"Alice gains the slashed share, less her fee"
	);
	assert_eq!(
		free_balance(&after, &charlie_id).await,
		charlie_at_start - contribute_fee.actual_fee - rejected.slashed,
		"Charlie lost the slashed share and his fee; the rest of his bond and deposit came back"
	);
	assert_eq!(
		on_hold(&after, &charlie_id).await,
		on_hold(&before_contributing, &charlie_id).await,
		"nothing of Charlie's contribution stays on hold"
	);

	// Alice publishes version 1: Bob's contribution only.
	let publish = dynamic::tx(PALLET, "publish_version", (datanet,));
	let tx = submit_finalized(&node.client, &publish, &alice).await;
	let published: VersionPublished = event_of(&tx, "publish_version").await;
	let expected_root = merkle_root(&[blake2_256(bobs_payload)]);
	assert_eq!((published.datanet, published.version), (datanet, 1));
	assert_eq!(published.contributions, 1);
	assert_eq!(published.merkle_root, expected_root);

	// Read the version back from storage, as wallets and indexers do. (The
	// pallet's view functions answer the same questions; subxt 0.50 cannot
	// call them yet, see the comment on `fetch`.)
	let at = tx.at().await.expect("client at the publishing block");
	let stored: Version = fetch(&at, PALLET, "Versions", (datanet, 1))
		.await
		.expect("Datanets.Versions holds version 1");
	let expected = Version {
		number: 1,
		contributions: vec![bobs.contribution],
		merkle_root: expected_root,
		total_bytes: bobs_payload.len() as u64,
	};
	assert_eq!(stored, expected);

	let contribution: Contribution = fetch(&at, PALLET, "Contributions", (bobs.contribution,))
		.await
		.expect("Bob's contribution is on record");
	assert_eq!(contribution.contributor, bob_id);
	assert_eq!(contribution.content_hash, blake2_256(bobs_payload));
	assert_eq!(contribution.size_bytes, bobs_payload.len() as u64);

	let penalties: u32 = fetch(&at, PALLET, "Penalties", (charlie_id,))
		.await
		.unwrap_or_default();
	assert_eq!(penalties, 1, "Charlie's rejection is on his record");
	println!(
		"datanet {datanet} version 1: root 0x{}, Charlie slashed {} to Alice",
		expected_root
			.iter()
			.map(|b| format!("{b:02x}"))
			.collect::<String>(),
		rejected.slashed
	);
}
