//! The contributor path from polkadot.js against a real `--dev` node:
//! `scripts/polkadotjs/contribute.mjs` (`@polkadot/api` from npm) has Alice
//! open a datanet and Bob sign a contribution to it. What the script printed
//! (the `Contributed` event, the record's status, Bob's rewards) must match
//! the chain as read back over subxt and through the node's
//! `openledger_contributor` RPC.
//!
//! A user's voucher signed by `scripts/polkadotjs/voucher.mjs`, raw and
//! wallet-wrapped, must verify the way the chain checks it when a worker
//! settles.

mod common;

use std::path::PathBuf;

use common::{fetch, hex, TestNode};
use openledger_inference_worker::chain::vouchers::SignedVoucher;
use polkadot_sdk::sp_io::hashing::blake2_256;
use serde_json::Value as Json;
use subxt::{ext::scale_decode::DecodeAsType, rpcs::rpc_params, utils::AccountId32};
use subxt_signer::sr25519::dev;

const PAYLOAD: &str = "Quillton, the Zorbian capital, was founded in 1242 on the river Vess.";

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Contribution {
	datanet: u32,
	contributor: AccountId32,
	content_hash: [u8; 32],
	size_bytes: u64,
	bond: u128,
}

fn script_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/polkadotjs")
}

/// Runs the script against `node` and returns the JSON object it printed
/// last.
async fn contribute_with_polkadot_js(node: &TestNode) -> Json {
	let dir = script_dir();
	assert!(
		dir.join("node_modules/@polkadot/api").is_dir(),
		"@polkadot/api is not installed in {}: run scripts/setup.sh",
		dir.display()
	);
	let output = tokio::process::Command::new("node")
		.arg(dir.join("contribute.mjs"))
		.args([
			"--url",
			&node.ws_url,
			"--contributor",
			"//Bob",
			"--text",
			PAYLOAD,
		])
		.output()
		.await
		.expect("node runs");
	let stdout = String::from_utf8_lossy(&output.stdout);
	assert!(
		output.status.success(),
		"contribute.mjs failed ({}):\n{stdout}\n{}\nnode log:\n{}",
		output.status,
		String::from_utf8_lossy(&output.stderr),
		node.log_tail()
	);
	let last = stdout
		.lines()
		.last()
		.expect("the script prints its results");
	serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"))
}

#[tokio::test]
async fn a_contribution_signed_with_polkadot_js_lands_on_chain() {
	let node = TestNode::start().await.expect("dev node starts");
	let printed = contribute_with_polkadot_js(&node).await;

	let contribution = printed["contribution"]
		.as_u64()
		.expect("the script prints the contribution id");
	let datanet = printed["datanet"].as_u64().expect("and the datanet id");
	let at = node.client.at_current_block().await.expect("current block");
	let stored: Contribution = fetch(&at, "Datanets", "Contributions", (contribution,))
		.await
		.expect("the contribution is on record");

	let bob = AccountId32::from(dev::bob().public_key());
	assert_eq!(stored.contributor, bob);
	assert_eq!(u64::from(stored.datanet), datanet);
	assert_eq!(stored.content_hash, blake2_256(PAYLOAD.as_bytes()));
	assert_eq!(stored.size_bytes, PAYLOAD.len() as u64);
	assert_eq!(printed["contentHash"], hex(&stored.content_hash));
	assert_eq!(printed["eventContentHash"], hex(&stored.content_hash));
	assert_eq!(printed["eventContributor"], printed["contributor"]);
	assert_eq!(printed["bond"], stored.bond.to_string());
	assert_eq!(printed["status"], "Pending");

	let claimable: u128 = fetch(&at, "Rewards", "Claimable", (bob,))
		.await
		.unwrap_or_default();
	assert_eq!(printed["rewards"]["claimable"], claimable.to_string());

	// The node's custom RPC tells the same story as typed JSON.
	let bob_ss58 = printed["contributor"].as_str().expect("an SS58 address");
	let summary: Json = node
		.rpc_client
		.request("openledger_contributor", rpc_params![bob_ss58])
		.await
		.expect("openledger_contributor answers");
	assert_eq!(summary["account"], bob_ss58);
	let listed = summary["contributions"]
		.as_array()
		.expect("a list of contributions");
	let ours = listed
		.iter()
		.find(|c| c["id"] == contribution)
		.unwrap_or_else(|| panic!("contribution {contribution} is listed: {summary}"));
	assert_eq!(ours["datanet"], datanet);
	assert_eq!(ours["contentHash"], hex(&stored.content_hash));
	assert_eq!(ours["status"], "Pending");
	assert_eq!(summary["rejections"], 0);
	assert_eq!(summary["rewards"]["claimable"], claimable.to_string());
	println!(
		"polkadot.js: Bob contributed #{contribution} to datanet {datanet}, bond {}, claimable {}",
		stored.bond, claimable
	);
}

/// Runs `voucher.mjs` against `node` with `args`; the voucher it printed.
async fn voucher_from_polkadot_js(node: &TestNode, args: &[&str]) -> SignedVoucher {
	let output = tokio::process::Command::new("node")
		.arg(script_dir().join("voucher.mjs"))
		.args(["--url", &node.ws_url])
		.args(args)
		.output()
		.await
		.expect("node runs");
	let stdout = String::from_utf8_lossy(&output.stdout);
	assert!(
		output.status.success(),
		"voucher.mjs failed ({}):\n{stdout}\n{}",
		output.status,
		String::from_utf8_lossy(&output.stderr)
	);
	let last = stdout
		.lines()
		.last()
		.expect("the script prints the voucher");
	serde_json::from_str(last).unwrap_or_else(|e| panic!("not a voucher ({e}): {last}"))
}

#[tokio::test]
async fn a_voucher_signed_with_polkadot_js_verifies_as_the_chain_checks_it() {
	let node = TestNode::start().await.expect("dev node starts");
	let genesis = node.client.genesis_hash().0;
	let ferdie = dev::ferdie().public_key().to_account_id().to_string();
	for form in ["raw", "wallet"] {
		let voucher = voucher_from_polkadot_js(
			&node,
			&[
				"--user",
				"//Alice",
				"--worker",
				&ferdie,
				"--model",
				"3",
				"--expires-at",
				"900",
				"--cap",
				"1000000000000000000",
				"--form",
				form,
			],
		)
		.await;
		assert_eq!(voucher.user, dev::alice().public_key().to_account_id());
		assert_eq!(voucher.worker.to_string(), ferdie);
		assert_eq!(
			(
				voucher.model,
				voucher.expires_at,
				voucher.cumulative_fee_cap
			),
			(3, 900, 10u128.pow(18))
		);
		assert!(
			voucher.verify(&genesis),
			"the {form} signature covers the payload the chain builds"
		);
		let raised = SignedVoucher {
			cumulative_fee_cap: voucher.cumulative_fee_cap + 1,
			..voucher
		};
		assert!(!raised.verify(&genesis));
	}
}
