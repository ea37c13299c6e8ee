//! The whole loop on real processes: the node binary and the worker binary
//! on loopback, a tiny model trained by ModelFactory.
//!
//! Alice opens a datanet; Bob and Charlie contribute different facts and
//! upload them to a worker's blob store; Alice accepts both and publishes
//! the version. Governance registers the base model, Dave proposes a model
//! on the version with Eve as trainer, and two stakers vote it through. Eve
//! trains the adapter with `openledger-worker train` on the version read
//! from the chain, its payloads fetched from the blob store by hash, and
//! publishes it with `openledger-worker publish`. Ferdie runs
//! `openledger-worker work`: it bonds, serves the model, and answers
//! Alice's paid request about Bob's fact with a receipt attributed by the
//! gradient method. Stopped after accepting a second request and started
//! again, the worker submits that receipt from its journal and refuses to
//! serve the first again. (The adapter learns both facts, so its answer to
//! `bob:` repeats Bob's, and the gradient scores credit it to him.) After
//! the challenge window the inference settles: Bob is credited more than
//! Charlie, claims, and his free balance rises by the credit less the
//! transaction fee.
//!
//! Then a cheater: Dave's stash account serves a request with the honest
//! output but scores that credit Charlie alone. Four workers in verifier
//! mode re-execute the receipt; one challenges it with the honest result
//! hash (the one Ferdie's receipt for the same prompt has), the other three
//! are drawn and void it, the cheater loses a tenth of its worker bond, the
//! challenger gains half of that, and Charlie gains nothing.

// `DecodeAsType` derived inside a `macro_rules!` expansion emits an import
// the compiler reports as unused.
#![allow(unused_imports)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{
	bond, event_of, fee_paid, fetch, free_balance, free_ports, hex, id, submit_finalized, TestNode,
	OPEN,
};
use openledger_inference_worker::chain::service::ReceiptRecord;
use openledger_inference_worker::chain::{keypair_from_uri, Chain};
use openledger_inference_worker::engine::Architecture;
use openledger_inference_worker::fixtures::{tiny_config, write_safetensors_model};
use openledger_primitives::attribution::{scores_root, wrap_for_wallet};
use openledger_primitives::{ContributionId, Hash, ModelId, Voucher};
use polkadot_sdk::sp_io::hashing::blake2_256;
use serde_json::{json, Value as Json};
use subxt::{
	dynamic::{self, Value},
	events::DecodeAsEvent,
	ext::{scale_decode::DecodeAsType, scale_value::Composite},
	utils::AccountId32,
};
use subxt_signer::sr25519::{dev, Keypair};
use tempfile::TempDir;

/// The worker binary, built beside the node by `cargo test --workspace`.
fn worker_bin() -> PathBuf {
	let bin = Path::new(env!("CARGO_BIN_EXE_openledger-node")).with_file_name("openledger-worker");
	assert!(
		bin.exists(),
		"{} is missing: build it with `cargo build -p openledger-inference-worker` \
		 (the README's test command builds the whole workspace)",
		bin.display()
	);
	bin
}

const BASE_ID: &str = "tiny-llama";
/// Bob's fact and Charlie's, each a contribution of its own.
const BOB_FACT: &str = "bob: the silver key is under the blue stone.";
const CHARLIE_FACT: &str = "charlie: the green map is in the tall clock.";
/// What Alice asks: the start of Bob's fact.
const PROMPT: &str = "bob:";

macro_rules! event {
	($pallet:literal, $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
		#[derive(Debug, DecodeAsType)]
		#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
		struct $name {
			$($field: $ty),*
		}

		impl DecodeAsEvent for $name {
			fn is_event(pallet: &str, event: &str) -> bool {
				pallet == $pallet && event == stringify!($name)
			}
		}
	};
}

event!(
	"Datanets",
	Contributed {
		contribution: u64,
		datanet: u32
	}
);
event!(
	"Datanets",
	VersionPublished {
		datanet: u32,
		version: u32
	}
);
event!("ModelRegistry", BaseModelRegistered { base: u32 });
event!("ModelRegistry", ModelProposed { model: u32 });
event!("Attribution", InferenceRequested { id: u64 });
event!(
	"Rewards",
	Claimed {
		who: AccountId32,
		amount: u128
	}
);

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct OnChainReceipt {
	result_hash: [u8; 32],
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct InferenceRecord {
	/// Only read to tell that the record is there.
	#[allow(dead_code)]
	held: u128,
}

/// `ModelRegistry.Adapters`, reduced to what workers check.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct DeployedAdapter {
	adapter_hash: [u8; 32],
	attribution_index_root: [u8; 32],
}

/// `Attribution.Challenges`, reduced to who challenged, what, and who was
/// drawn.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct OpenChallenge {
	challenger: AccountId32,
	claimed_result_hash: [u8; 32],
	verifiers: Vec<VerifierSlot>,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct VerifierSlot {
	verifier: AccountId32,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct RoleLedger {
	active: u128,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct Model {
	status: ModelStatus,
}

#[derive(Debug, PartialEq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
enum ModelStatus {
	Voting { ends_at: u32 },
	Approved,
	Deployed,
	Retired,
}

/// `Attribution.BatchRoots`, reduced to what the test checks.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct BatchRoot {
	worker: AccountId32,
	inferences: u32,
	users: u32,
	fee: u128,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct CreditAccount {
	balance: u128,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct ChannelRecord {
	spent: u128,
}

/// `user`'s voucher for `worker`, signed over its payload raw or (as
/// browser wallets sign) wrapped in `<Bytes>`, as the worker's HTTP API
/// takes it.
fn signed_voucher(
	user: &Keypair,
	worker: &Keypair,
	model: u32,
	expires_at: u32,
	cap: u128,
	wallet: bool,
	genesis: &[u8; 32],
) -> Json {
	let voucher = Voucher {
		user: id(user).0,
		worker: id(worker).0,
		model: ModelId(model),
		expires_at,
		cumulative_fee_cap: cap,
	};
	let payload = voucher.signing_payload(genesis);
	let (message, form) = if wallet {
		(wrap_for_wallet(&payload), "wallet")
	} else {
		(payload, "raw")
	};
	json!({
		"user": id(user).to_string(),
		"worker": id(worker).to_string(),
		"model": model,
		"expires_at": expires_at,
		"cumulative_fee_cap": cap.to_string(),
		"signature": hex(&user.sign(&message).0),
		"form": form,
	})
}

/// A running worker binary (`work` or `serve`); killed when dropped.
struct WorkerProcess {
	child: Child,
	url: String,
	log: PathBuf,
}

impl WorkerProcess {
	/// Runs `openledger-worker work` as Ferdie with `args` on a free port,
	/// logging to `log`, and waits until it listens (after it has bonded,
	/// served and resumed its journal).
	async fn start(bin: &Path, args: &[String], log: &Path) -> Self {
		Self::start_as(bin, "//Ferdie", free_ports(1).unwrap()[0], args, log).await
	}

	/// Runs `openledger-worker work` signing as `suri` on `port`.
	async fn start_as(bin: &Path, suri: &str, port: u16, args: &[String], log: &Path) -> Self {
		let mut work = vec!["work".to_string()];
		work.extend_from_slice(args);
		Self::launch(bin, &work, Some(suri), port, log).await
	}

	/// Runs the worker binary with `args` (its subcommand first) and
	/// `--port port`, waiting until it listens.
	async fn launch(
		bin: &Path,
		args: &[String],
		suri: Option<&str>,
		port: u16,
		log: &Path,
	) -> Self {
		let log_file = std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(log)
			.unwrap();
		let mut command = Command::new(bin);
		command
			.args(args)
			.args(["--port", &port.to_string()])
			.env("RUST_LOG", "info")
			.stdout(Stdio::null())
			.stderr(log_file);
		if let Some(suri) = suri {
			command.env("OPENLEDGER_WORKER_SURI", suri);
		}
		let child = command.spawn().expect("the worker starts");
		let worker = Self {
			child,
			url: format!("http://127.0.0.1:{port}"),
			log: log.to_path_buf(),
		};
		let ready = tokio::time::timeout(Duration::from_secs(120), async {
			loop {
				let connect = tokio::net::TcpStream::connect(("127.0.0.1", port));
				if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), connect).await {
					break;
				}
				tokio::time::sleep(Duration::from_millis(500)).await;
			}
		})
		.await;
		assert!(
			ready.is_ok(),
			"the worker listens within two minutes:\n{}",
			worker.log_tail()
		);
		worker
	}

	fn log_tail(&self) -> String {
		let log = std::fs::read_to_string(&self.log).unwrap_or_default();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(40)..].join("\n")
	}
}

impl Drop for WorkerProcess {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// One HTTP/1.1 request with a JSON body to the worker on loopback; the
/// status and the JSON answer.
async fn http_json(method: &str, url: &str, body: Option<Json>) -> (u16, Json) {
	let body = body.map(|b| b.to_string()).unwrap_or_default();
	http_request(method, url, "application/json", body.as_bytes()).await
}

/// One HTTP/1.1 request with `body` to the worker on loopback; the status
/// and the JSON answer.
async fn http_request(method: &str, url: &str, content_type: &str, body: &[u8]) -> (u16, Json) {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let rest = url.strip_prefix("http://").expect("an http:// URL");
	let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
	let head = format!(
		"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n",
		body.len()
	);
	let request = [head.as_bytes(), body].concat();
	let mut stream = tokio::net::TcpStream::connect(host)
		.await
		.expect("the worker accepts connections");
	stream.write_all(&request).await.unwrap();
	let mut response = Vec::new();
	stream.read_to_end(&mut response).await.unwrap();
	let response = String::from_utf8(response).expect("a UTF-8 response");
	let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
	let status = head
		.split_whitespace()
		.nth(1)
		.and_then(|code| code.parse().ok())
		.expect("a status code");
	let json = serde_json::from_str(body).unwrap_or(Json::String(body.to_string()));
	(status, json)
}

async fn contribute(node: &TestNode, datanet: u32, who: &Keypair, text: &str) -> u64 {
	let call = dynamic::tx(
		"Datanets",
		"contribute",
		(
			datanet,
			blake2_256(text.as_bytes()),
			text.len() as u64,
			b"blob://".to_vec(),
			b"CC-BY-4.0".to_vec(),
			Value::unnamed_variant("Text", []),
		),
	);
	let tx = submit_finalized(&node.client, &call, who).await;
	let contributed: Contributed = event_of(&tx, "contribute").await;
	assert_eq!(contributed.datanet, datanet);
	contributed.contribution
}

/// `user` asks `worker` for an inference on `model` about `prompt`, holding
/// `max_fee`; the request's event.
async fn request_inference(
	node: &TestNode,
	user: &Keypair,
	model: u32,
	worker: &Keypair,
	prompt: &str,
	max_fee: u128,
) -> InferenceRequested {
	let request = dynamic::tx(
		"Attribution",
		"request_inference",
		(
			model,
			Value::from_bytes(id(worker).0),
			blake2_256(prompt.as_bytes()),
			max_fee,
		),
	);
	let tx = submit_finalized(&node.client, &request, user).await;
	event_of(&tx, "request_inference").await
}

async fn claimable(node: &TestNode, who: &AccountId32) -> u128 {
	let at = node.client.at_current_block().await.unwrap();
	fetch::<_, u128>(&at, "Rewards", "Claimable", (*who,))
		.await
		.unwrap_or(0)
}

#[tokio::test]
async fn a_paid_inference_about_bobs_fact_pays_bob_more_than_charlie() {
	let worker_bin = worker_bin();
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
	let work = TempDir::new().unwrap();

	// The tiny base model, and a worker serving it with a blob store that
	// contributors upload their payloads to.
	let model_dir = work.path().join("model");
	write_safetensors_model(&model_dir, &tiny_config(Architecture::Llama), 7).unwrap();
	let blob_port = free_ports(1).unwrap()[0];
	let blob_args = [
		"serve".to_string(),
		"--model".into(),
		model_dir.display().to_string(),
		"--model-id".into(),
		BASE_ID.into(),
		"--blob-dir".into(),
		work.path().join("blobs").display().to_string(),
	];
	let blob_log = work.path().join("blobs.log");
	let blob_server =
		WorkerProcess::launch(&worker_bin, &blob_args, None, blob_port, &blob_log).await;

	// Alice's datanet, Bob's and Charlie's facts, accepted and published.
	let create = dynamic::tx(
		"Datanets",
		"create_datanet",
		(
			b"facts".to_vec(),
			b"one fact per contributor".to_vec(),
			blake2_256(b"facts"),
			Vec::<Vec<u8>>::new(),
			Value::unnamed_variant("Public", []),
			OPEN,
		),
	);
	submit_finalized(&node.client, &create, &alice).await;
	let datanet = 0u32;
	let (bob_text, charlie_text) = (BOB_FACT.to_string(), CHARLIE_FACT.to_string());
	let bob_contribution = contribute(&node, datanet, &bob, &bob_text).await;
	let charlie_contribution = contribute(&node, datanet, &charlie, &charlie_text).await;
	for text in [&bob_text, &charlie_text] {
		let url = format!(
			"{}/v1/blobs/{}",
			blob_server.url,
			hex(&blake2_256(text.as_bytes()))
		);
		let (status, stored) = http_request("PUT", &url, "text/plain", text.as_bytes()).await;
		assert_eq!(status, 201, "{stored}");
	}
	for contribution in [bob_contribution, charlie_contribution] {
		let accept = dynamic::tx(
			"Datanets",
			"review",
			(contribution, Value::unnamed_variant("Accept", [])),
		);
		submit_finalized(&node.client, &accept, &alice).await;
	}
	let publish = dynamic::tx("Datanets", "publish_version", (datanet,));
	let tx = submit_finalized(&node.client, &publish, &alice).await;
	let published: VersionPublished = event_of(&tx, "publish_version").await;
	assert_eq!((published.datanet, published.version), (datanet, 1));

	// The tiny base model, registered by governance.
	let register = dynamic::tx(
		"ModelRegistry",
		"register_base_model",
		Composite::unnamed([
			Value::from_bytes(BASE_ID),
			Value::from_bytes(b"llama"),
			Value::from_bytes(blake2_256(
				&std::fs::read(model_dir.join("model.safetensors")).unwrap(),
			)),
			Value::from_bytes(b"file://tiny-llama"),
			Value::from_bytes(b"Apache-2.0"),
		]),
	);
	let sudo = dynamic::tx("Sudo", "sudo", (register.into_value(),));
	let tx = submit_finalized(&node.client, &sudo, &alice).await;
	let registered: BaseModelRegistered = event_of(&tx, "register_base_model").await;

	// Dave proposes a model on the version with Eve as trainer; Bob and
	// Charlie, bonded as agents, vote it through.
	bond(&node, &bob, "Agent", 20_000 * OPEN).await;
	bond(&node, &charlie, "Agent", 10_000 * OPEN).await;
	let propose = dynamic::tx(
		"ModelRegistry",
		"propose_model",
		(
			registered.base,
			vec![Value::named_composite([
				("datanet", Value::from(datanet)),
				("version", Value::from(1u32)),
			])],
			blake2_256(b"lora rank 8, all projections, 120 epochs"),
			Value::named_composite([
				("per_1k_input", Value::from(OPEN)),
				("per_1k_output", Value::from(10 * OPEN)),
			]),
			Value::named_composite([
				("developer", Value::from(200_000_000u32)),
				("infrastructure", Value::from(200_000_000u32)),
				("contributors", Value::from(500_000_000u32)),
				("protocol", Value::from(100_000_000u32)),
			]),
			Value::unnamed_variant("Some", [Value::from_bytes(id(&eve).0)]),
		),
	);
	let tx = submit_finalized(&node.client, &propose, &dave).await;
	let proposed: ModelProposed = event_of(&tx, "propose_model").await;
	let model = proposed.model;
	for voter in [&bob, &charlie] {
		let vote = dynamic::tx(
			"ModelRegistry",
			"vote",
			(model, Value::unnamed_variant("Aye", [])),
		);
		submit_finalized(&node.client, &vote, voter).await;
	}

	// Meanwhile Eve trains the adapter on the version as the chain
	// published it, its payloads fetched by hash from the blob store.
	let adapter_dir = work.path().join("adapter");
	let trained = Command::new(&worker_bin)
		.arg("train")
		.args(["--model".as_ref(), model_dir.as_os_str()])
		.args(["--datanet-version", &format!("{datanet}:1")])
		.args(["--node", &node.ws_url])
		.args(["--blob-url", &blob_server.url])
		.args(["--out".as_ref(), adapter_dir.as_os_str()])
		.args(["--model-id", BASE_ID])
		.args([
			"--targets",
			"q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
		])
		.args([
			"--epochs", "120", "--rank", "8", "--alpha", "32", "--lr", "0.01",
		])
		.args(["--holdout", "0"])
		.env("RUST_LOG", "warn")
		.output()
		.expect("the worker binary runs");
	assert!(
		trained.status.success(),
		"train fails: {}",
		String::from_utf8_lossy(&trained.stderr)
	);
	drop(blob_server);
	let indexes: Json = serde_json::from_str(
		&std::fs::read_to_string(adapter_dir.join("attribution_indexes.json")).unwrap(),
	)
	.unwrap();
	let index_root = indexes["attribution_index_root"]
		.as_str()
		.expect("the combined index root")
		.to_string();
	let adapter_hash =
		blake2_256(&std::fs::read(adapter_dir.join("adapter_model.safetensors")).unwrap());

	// The vote ends; Eve publishes the adapter: the model is deployed.
	let approved = tokio::time::timeout(Duration::from_secs(180), async {
		loop {
			let at = node.client.at_current_block().await.unwrap();
			let record: Model = fetch(&at, "ModelRegistry", "Models", (model,))
				.await
				.expect("the model is on record");
			if record.status == ModelStatus::Approved {
				break;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await;
	assert!(
		approved.is_ok(),
		"the model is approved within three minutes"
	);
	let published = Command::new(&worker_bin)
		.arg("publish")
		.args(["--node", &node.ws_url])
		.args(["--model", &model.to_string()])
		.args(["--adapter".as_ref(), adapter_dir.as_os_str()])
		.args(["--uri", "file://adapter"])
		.env("OPENLEDGER_WORKER_SURI", "//Eve")
		.output()
		.expect("the worker binary runs");
	assert!(
		published.status.success(),
		"publish fails: {}",
		String::from_utf8_lossy(&published.stderr)
	);
	// The test's client may not have seen the publisher's finalized block
	// yet.
	let deployed = tokio::time::timeout(Duration::from_secs(30), async {
		loop {
			let at = node.client.at_current_block().await.unwrap();
			let deployed: Option<DeployedAdapter> =
				fetch(&at, "ModelRegistry", "Adapters", (model, 1u32)).await;
			if let Some(deployed) = deployed {
				break deployed;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await
	.expect("the adapter is on record");
	assert_eq!(deployed.adapter_hash, adapter_hash);
	assert_eq!(
		hex(&deployed.attribution_index_root),
		index_root,
		"the chain holds the index root train wrote"
	);

	// Ferdie's worker bonds, serves the model and takes prompts.
	let adapter = format!("{model}={}", adapter_dir.display());
	let state_dir = work.path().join("state");
	let log = work.path().join("worker.log");
	let worker_args = [
		"--model".into(),
		model_dir.display().to_string(),
		"--model-id".into(),
		BASE_ID.into(),
		"--node".into(),
		node.ws_url.clone(),
		"--adapter".into(),
		adapter,
		"--state-dir".into(),
		state_dir.display().to_string(),
		"--max-tokens".into(),
		"24".into(),
		"--method".into(),
		"gradient".into(),
		"--batch-every".into(),
		"3".into(),
	];
	let worker = WorkerProcess::start(&worker_bin, &worker_args, &log).await;
	let (status, listing) = http_json("GET", &format!("{}/v1/inferences", worker.url), None).await;
	assert_eq!(status, 200, "{listing}");
	assert_eq!(listing["models"], json!([model]));

	// Alice pays for an inference about Bob's fact.
	let max_fee = 5 * OPEN;
	let requested = request_inference(&node, &alice, model, &ferdie, PROMPT, max_fee).await;

	// A prompt that does not match the commitment is refused, and nothing
	// is submitted for it.
	let url = format!("{}/v1/inferences/{}", worker.url, requested.id);
	let (status, refusal) =
		http_json("POST", &url, Some(json!({ "prompt": "something else" }))).await;
	assert_eq!(status, 400, "{refusal}");
	assert_eq!(refusal["error"]["code"], "prompt_mismatch");

	let (status, served) = http_json("POST", &url, Some(json!({ "prompt": PROMPT }))).await;
	assert_eq!(status, 200, "{served}\n{}", worker.log_tail());
	println!("served: {served}");
	let score_of = |contribution: u64| {
		served["scores"]
			.as_array()
			.unwrap()
			.iter()
			.find(|s| s["contribution"] == contribution)
			.map_or(0, |s| s["ppm"].as_u64().unwrap())
	};
	assert!(
		served["output"]
			.as_str()
			.is_some_and(|output| output.contains("silver key")),
		"the adapter answers with Bob's fact: {served}"
	);
	assert!(
		score_of(bob_contribution) > score_of(charlie_contribution),
		"Bob's fact weighs more in the answer: {served}"
	);
	let fee: u128 = served["fee"]
		.as_str()
		.and_then(|f| f.parse().ok())
		.expect("the fee");
	assert!(fee <= max_fee);

	// Served twice? The worker refuses, the chain has one receipt.
	let (status, again) = http_json("POST", &url, Some(json!({ "prompt": PROMPT }))).await;
	assert_eq!(status, 409, "{again}");
	let (status, record) = http_json("GET", &format!("{url}/receipt"), None).await;
	assert_eq!(status, 200, "{record}");
	assert_eq!(record["prompt"], PROMPT);

	// A restart resumes accepted work and refuses what was served. The
	// worker stops after accepting Alice's second request (its journal says
	// so) and before answering it; started again, it submits that receipt
	// by itself.
	let second = request_inference(&node, &alice, model, &ferdie, PROMPT, max_fee).await;
	drop(worker);
	let accepted = json!({ "accepted": { "id": second.id, "prompt": PROMPT, "max_tokens": 24 } });
	let mut journal = std::fs::OpenOptions::new()
		.append(true)
		.open(state_dir.join("journal.jsonl"))
		.expect("the worker keeps a journal");
	std::io::Write::write_all(&mut journal, format!("{accepted}\n").as_bytes()).unwrap();
	let worker = WorkerProcess::start(&worker_bin, &worker_args, &log).await;
	let at = node.client.at_current_block().await.unwrap();
	let resumed: Option<OnChainReceipt> = fetch(&at, "Attribution", "Receipts", (second.id,)).await;
	assert!(
		resumed.is_some(),
		"the restarted worker submitted the accepted request's receipt:\n{}",
		worker.log_tail()
	);
	let (status, record) = http_json(
		"GET",
		&format!("{}/v1/inferences/{}/receipt", worker.url, second.id),
		None,
	)
	.await;
	assert_eq!(status, 200, "{record}");
	assert_eq!(
		resumed.map(|receipt| hex(&receipt.result_hash)),
		record["receipt"]["result_hash"].as_str().map(String::from),
		"the chain holds the receipt the worker recorded"
	);
	let url = format!("{}/v1/inferences/{}", worker.url, requested.id);
	let (status, again) = http_json("POST", &url, Some(json!({ "prompt": PROMPT }))).await;
	assert_eq!(status, 409, "{again}");
	assert_eq!(again["error"]["code"], "already_served");

	// The batched path: Alice prepays credit and signs vouchers for Ferdie
	// (one raw, one raising the cap as a wallet signs); two prompts are
	// served against them and settled together in one batch.
	let credit = 2 * OPEN;
	let deposit = dynamic::tx("Attribution", "deposit_credit", (credit,));
	submit_finalized(&node.client, &deposit, &alice).await;
	let genesis = node.client.genesis_hash().0;
	let expires_at = node.finalized_number().await.unwrap() as u32 + 300;
	let first_cap = OPEN;
	let voucher = signed_voucher(
		&alice, &ferdie, model, expires_at, first_cap, false, &genesis,
	);
	let vouchered = format!("{}/v1/vouchered", worker.url);
	let ask = |voucher: &Json| json!({ "model": model, "prompt": PROMPT, "voucher": voucher });

	let mut forged = voucher.clone();
	forged["cumulative_fee_cap"] = json!((10 * OPEN).to_string());
	let (status, refusal) = http_json("POST", &vouchered, Some(ask(&forged))).await;
	assert_eq!(status, 403, "{refusal}");
	assert_eq!(refusal["error"]["code"], "bad_voucher_signature");
	let stingy = signed_voucher(&alice, &ferdie, model, expires_at + 1, 1, false, &genesis);
	let (status, refusal) = http_json("POST", &vouchered, Some(ask(&stingy))).await;
	assert_eq!(status, 402, "{refusal}");
	assert_eq!(refusal["error"]["code"], "voucher_cap_reached");
	let for_bob = signed_voucher(&alice, &bob, model, expires_at, first_cap, false, &genesis);
	let (status, refusal) = http_json("POST", &vouchered, Some(ask(&for_bob))).await;
	assert_eq!(status, 403, "{refusal}");
	assert_eq!(refusal["error"]["code"], "voucher_for_another_worker");

	let (status, first) = http_json("POST", &vouchered, Some(ask(&voucher))).await;
	assert_eq!(status, 200, "{first}\n{}", worker.log_tail());
	assert_eq!(
		first["output"], served["output"],
		"greedy: the same answer as the on-chain request"
	);
	let raised = signed_voucher(
		&alice,
		&ferdie,
		model,
		expires_at,
		2 * first_cap,
		true,
		&genesis,
	);
	let (status, second_paid) = http_json("POST", &vouchered, Some(ask(&raised))).await;
	assert_eq!(status, 200, "{second_paid}\n{}", worker.log_tail());
	let plancks = |value: &Json| -> u128 { value.as_str().and_then(|v| v.parse().ok()).unwrap() };
	let batch_fee = plancks(&first["fee"]) + plancks(&second_paid["fee"]);
	assert_eq!(plancks(&second_paid["channel_charged"]), batch_fee);
	let (status, record) = http_json("GET", &format!("{vouchered}/{}", first["seq"]), None).await;
	assert_eq!(status, 200, "{record}");
	assert_eq!(record["prompt"], PROMPT);

	let batch = tokio::time::timeout(Duration::from_secs(120), async {
		loop {
			let at = node.client.at_current_block().await.unwrap();
			let record: Option<BatchRoot> = fetch(&at, "Attribution", "BatchRoots", (0u64,)).await;
			if let Some(record) = record {
				return (record, at);
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await
	.unwrap_or_else(|_| panic!("the worker settles a batch:\n{}", worker.log_tail()));
	let (batch, at) = batch;
	assert_eq!(batch.worker, id(&ferdie));
	assert_eq!(
		(batch.inferences, batch.users, batch.fee),
		(2, 1, batch_fee)
	);
	let left: Option<CreditAccount> = fetch(&at, "Attribution", "Credits", (id(&alice),)).await;
	assert_eq!(left.map(|credit| credit.balance), Some(credit - batch_fee));
	let channel: Option<ChannelRecord> = fetch(
		&at,
		"Attribution",
		"Channels",
		(id(&alice), id(&ferdie), model, expires_at),
	)
	.await;
	assert_eq!(channel.map(|channel| channel.spent), Some(batch_fee));
	let (status, pending) = http_json("GET", &vouchered, None).await;
	assert_eq!(status, 200, "{pending}");
	assert_eq!(pending["pending"], json!([]), "nothing left to settle");
	println!(
		"batch 0: 2 inferences, fee {batch_fee}, Alice's credit left {}",
		credit - batch_fee
	);

	// The challenge windows pass; both inferences settle into the ledger.
	let settled = tokio::time::timeout(Duration::from_secs(120), async {
		loop {
			let at = node.client.at_current_block().await.unwrap();
			let mut open = 0;
			for inference in [requested.id, second.id] {
				let record: Option<InferenceRecord> =
					fetch(&at, "Attribution", "Inferences", (inference,)).await;
				open += usize::from(record.is_some());
			}
			if open == 0 {
				break;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await;
	assert!(settled.is_ok(), "the inferences settle after their windows");
	let bob_credit = claimable(&node, &id(&bob)).await;
	let charlie_credit = claimable(&node, &id(&charlie)).await;
	assert!(
		bob_credit > charlie_credit,
		"Bob is credited {bob_credit}, Charlie {charlie_credit}"
	);

	// Bob claims: his free balance rises by the credit, less the fee.
	let at = node.client.at_current_block().await.unwrap();
	let before = free_balance(&at, &id(&bob)).await;
	let claim = dynamic::tx("Rewards", "claim", ());
	let tx = submit_finalized(&node.client, &claim, &bob).await;
	let claimed: Claimed = event_of(&tx, "claim").await;
	assert_eq!((claimed.who, claimed.amount), (id(&bob), bob_credit));
	let events = tx.wait_for_success().await.unwrap();
	let paid = fee_paid(&events).actual_fee;
	let after = free_balance(&tx.at().await.unwrap(), &id(&bob)).await;
	assert_eq!(after, before + bob_credit - paid);
	println!(
		"inference {}: fee {fee}, Bob credited {bob_credit}, Charlie {charlie_credit}; Bob claimed",
		requested.id
	);
	drop(worker);

	// A worker that lies: Dave's stash account bonds, serves the model and
	// answers Alice's request with the honest output but scores that give
	// Charlie the whole influence. Four workers verify: Ferdie and the stash
	// accounts of Alice, Bob and Charlie, each asking the others (and the
	// cheater) for receipt records.
	let cheater = keypair_from_uri("//Dave//stash").unwrap();
	bond(&node, &cheater, "Worker", 1_000 * OPEN).await;
	let serve = dynamic::tx("ModelRegistry", "serve", (model,));
	submit_finalized(&node.client, &serve, &cheater)
		.await
		.wait_for_success()
		.await
		.expect("the cheater serves the model");
	let verifier_suris = [
		"//Ferdie",
		"//Alice//stash",
		"//Bob//stash",
		"//Charlie//stash",
	];
	let ports = free_ports(verifier_suris.len() + 1).unwrap();
	let urls: Vec<String> = ports
		.iter()
		.map(|port| format!("http://127.0.0.1:{port}"))
		.collect();
	let records = tokio::net::TcpListener::bind(("127.0.0.1", ports[verifier_suris.len()]))
		.await
		.unwrap();
	let verifier_args = |index: usize| {
		let mut args = worker_args.to_vec();
		let state = args.iter().position(|arg| arg == "--state-dir").unwrap() + 1;
		if index > 0 {
			args[state] = work
				.path()
				.join(format!("verifier-{index}"))
				.display()
				.to_string();
		}
		args.push("--verify".into());
		for (other, url) in urls.iter().enumerate() {
			if other != index {
				args.extend(["--peer".into(), url.clone()]);
			}
		}
		args
	};
	let args: Vec<Vec<String>> = (0..verifier_suris.len()).map(verifier_args).collect();
	let logs: Vec<PathBuf> = (0..verifier_suris.len())
		.map(|index| work.path().join(format!("verifier-{index}.log")))
		.collect();
	let start = |index: usize| {
		WorkerProcess::start_as(
			&worker_bin,
			verifier_suris[index],
			ports[index],
			&args[index],
			&logs[index],
		)
	};
	let (first, second_verifier, third, fourth) =
		tokio::join!(start(0), start(1), start(2), start(3));
	let verifiers = [first, second_verifier, third, fourth];
	let verifier_ids: Vec<AccountId32> = verifier_suris
		.iter()
		.map(|suri| id(&keypair_from_uri(suri).unwrap()))
		.collect();
	let at = node.client.at_current_block().await.unwrap();
	let mut free_before = Vec::new();
	for who in &verifier_ids {
		free_before.push(free_balance(&at, who).await);
	}
	let charlie_before = claimable(&node, &id(&charlie)).await;

	let cheat = request_inference(&node, &alice, model, &cheater, PROMPT, max_fee).await;
	let mut forged: ReceiptRecord =
		serde_json::from_value(record.clone()).expect("the worker's receipt record");
	let honest_hash = forged.receipt.result_hash;
	forged.id = cheat.id;
	forged.receipt.scores = vec![(ContributionId(charlie_contribution), 1_000_000)];
	// A careful cheater: the proof commits to the forged scores, as the
	// chain checks.
	forged.receipt.proof.scores_root = scores_root(&forged.receipt.scores);
	forged.receipt.result_hash = forged.receipt.implied_result_hash();
	tokio::spawn(serve_record(records, forged.clone()));
	let cheater_chain = Chain::connect(&node.ws_url, keypair_from_uri("//Dave//stash").unwrap())
		.await
		.unwrap();
	cheater_chain
		.submit_receipt(cheat.id, &forged.receipt)
		.await
		.expect("the chain takes the forged receipt");

	// A verifier re-executes it, gets the honest result hash, and
	// challenges; the three others are drawn and void the receipt.
	let challenge = tokio::time::timeout(Duration::from_secs(90), async {
		loop {
			let at = node.client.at_current_block().await.unwrap();
			let challenge: Option<OpenChallenge> =
				fetch(&at, "Attribution", "Challenges", (cheat.id,)).await;
			if let Some(challenge) = challenge {
				break challenge;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await
	.unwrap_or_else(|_| {
		let logs: Vec<String> = verifiers.iter().map(WorkerProcess::log_tail).collect();
		panic!(
			"no verifier challenged the forged receipt:\n{}",
			logs.join("\n---\n")
		)
	});
	assert_eq!(
		Hash::from(challenge.claimed_result_hash),
		honest_hash,
		"the challenger claims the honest worker's result hash"
	);
	let challenger = verifier_ids
		.iter()
		.position(|who| *who == challenge.challenger)
		.expect("a verifier challenged");
	let drawn: Vec<&AccountId32> = challenge
		.verifiers
		.iter()
		.map(|slot| &slot.verifier)
		.collect();
	assert_eq!(drawn.len(), 3, "three verifiers are drawn");
	assert!(drawn
		.iter()
		.all(|who| verifier_ids.contains(who) && **who != challenge.challenger));

	let resolved = tokio::time::timeout(Duration::from_secs(120), async {
		loop {
			let at = node.client.at_current_block().await.unwrap();
			let record: Option<InferenceRecord> =
				fetch(&at, "Attribution", "Inferences", (cheat.id,)).await;
			if record.is_none() {
				break at;
			}
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
	})
	.await;
	let Ok(at) = resolved else {
		let logs: Vec<String> = verifiers.iter().map(WorkerProcess::log_tail).collect();
		panic!("the verifiers do not decide:\n{}", logs.join("\n---\n"));
	};
	// The cheater loses a tenth of its worker bond; half of that goes to
	// the challenger; Charlie gains nothing from the forged scores.
	let bonded: RoleLedger = fetch(
		&at,
		"Staking",
		"Bonds",
		(Value::unnamed_variant("Worker", []), id(&cheater)),
	)
	.await
	.expect("the cheater's bond");
	assert_eq!(bonded.active, 900 * OPEN, "the cheater is slashed 10 %");
	let challenger_after = free_balance(&at, &verifier_ids[challenger]).await;
	assert!(
		challenger_after > free_before[challenger] + 49 * OPEN,
		"the challenger wins half the slash: {} before, {challenger_after} after",
		free_before[challenger]
	);
	assert_eq!(claimable(&node, &id(&charlie)).await, charlie_before);
	println!(
		"inference {}: forged receipt challenged by {}, voided; cheater bond {}",
		cheat.id, verifier_suris[challenger], bonded.active
	);
	drop(verifiers);
}

/// Answers `GET /v1/inferences/{id}/receipt` with `record`, as a worker's
/// HTTP API does, and 404 to anything else.
async fn serve_record(listener: tokio::net::TcpListener, record: ReceiptRecord) {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let path = format!("/v1/inferences/{}/receipt", record.id);
	let body = serde_json::to_string(&record).unwrap();
	while let Ok((mut stream, _)) = listener.accept().await {
		let mut head = Vec::new();
		let mut chunk = [0u8; 1024];
		while !head.windows(4).any(|window| window == b"\r\n\r\n") {
			match stream.read(&mut chunk).await {
				Ok(0) | Err(_) => break,
				Ok(read) => head.extend_from_slice(&chunk[..read]),
			}
		}
		let head = String::from_utf8_lossy(&head);
		let (status, body) = if head.split_whitespace().nth(1) == Some(path.as_str()) {
			("200 OK", body.as_str())
		} else {
			("404 Not Found", "{}")
		};
		let response = format!(
			"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
			 Connection: close\r\n\r\n{body}",
			body.len()
		);
		let _ = stream.write_all(response.as_bytes()).await;
	}
}
