//! The `train` → `attribute` → `verify` round trip through the binary: the
//! receipt JSON, its hashes as the chain computes them, and tampered receipts
//! reported field by field.

use std::path::{Path, PathBuf};
use std::process::Output;

use codec::Encode;
use openledger_inference_worker::attribution::indexes::AdapterIndexes;
use openledger_inference_worker::engine::Architecture;
use openledger_inference_worker::factory::{hex_hash, parse_hex_hash};
use openledger_primitives::attribution::{result_hash, scores_root, SCORE_PPM_WHOLE};
use openledger_primitives::{ContributionId, Hash, Method, ProofCommitment};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde_json::Value;

use crate::common::*;

/// Contribution 7 alone holds this sentence; the others are filler.
const OWNED: &str = "the violet heron guards seven quiet lanterns.";

/// A trained adapter directory beside the tiny model it was trained on.
struct Trained {
	t: Tiny,
	dir: tempfile::TempDir,
}

impl Trained {
	fn model_dir(&self) -> PathBuf {
		self.t.dir.path().join("model")
	}

	fn adapter(&self) -> PathBuf {
		self.dir.path().join("adapter")
	}

	/// Runs a subcommand that loads the base model and the adapter.
	fn run(&self, subcommand: &str, args: &[&str]) -> Output {
		std::process::Command::new(env!("CARGO_BIN_EXE_openledger-worker"))
			.arg(subcommand)
			.args(["--model".as_ref(), self.model_dir().as_os_str()])
			.args(["--adapter".as_ref(), self.adapter().as_os_str()])
			.args(["--model-id", BASE_ID])
			.args(args)
			.env("RUST_LOG", "warn")
			.output()
			.unwrap()
	}

	/// `attribute`'s receipt JSON.
	fn attribute(&self, args: &[&str]) -> Value {
		let output = self.run("attribute", args);
		assert!(output.status.success(), "{}", stderr(&output));
		serde_json::from_slice(&output.stdout).unwrap()
	}

	/// `verify` on `receipt`: its exit status and what it printed.
	fn verify(&self, receipt: &Value) -> (bool, String) {
		let path = self.dir.path().join("receipt.json");
		std::fs::write(&path, receipt.to_string()).unwrap();
		let output = self.run("verify", &["--receipt", path.to_str().unwrap()]);
		let code = output.status.code();
		assert!(matches!(code, Some(0 | 1)), "{code:?}: {}", stderr(&output));
		(code == Some(0), String::from_utf8(output.stdout).unwrap())
	}
}

fn stderr(output: &Output) -> String {
	String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a datanet version (payloads beside a manifest) and trains an
/// adapter on it with the `train` command.
fn train() -> Trained {
	let t = tiny(Architecture::Llama);
	let dir = tempfile::tempdir().unwrap();
	let payloads = [
		(
			3u64,
			"the cat sat on the mat. the dog sat on the log. ".repeat(2),
		),
		(7, format!("{OWNED} {OWNED}")),
		(12, "a hen and a fox ran to the barn at dawn. ".repeat(2)),
	];
	let manifest = write_manifest(dir.path(), &payloads);
	let output = std::process::Command::new(env!("CARGO_BIN_EXE_openledger-worker"))
		.arg("train")
		.args(["--model".as_ref(), t.dir.path().join("model").as_os_str()])
		.args(["--manifest".as_ref(), manifest.as_os_str()])
		.args(["--out".as_ref(), dir.path().join("adapter").as_os_str()])
		.args(["--model-id", BASE_ID, "--targets", "q_proj,v_proj"])
		.args(["--epochs", "2", "--rank", "2", "--lr", "0.01"])
		.args(["--holdout", "0", "--projection-dim", "64"])
		.env("RUST_LOG", "warn")
		.output()
		.unwrap();
	assert!(output.status.success(), "{}", stderr(&output));
	Trained { t, dir }
}

fn write_manifest(dir: &Path, payloads: &[(u64, String)]) -> PathBuf {
	let entries: Vec<Value> = payloads
		.iter()
		.map(|(id, text)| {
			let path = format!("{id}.txt");
			std::fs::write(dir.join(&path), text).unwrap();
			serde_json::json!({
				"contribution": id,
				"content_hash": hex_hash(&blake2_256(text.as_bytes())),
				"path": path,
			})
		})
		.collect();
	let manifest = dir.join("manifest.json");
	let json = serde_json::json!({ "datanet": 1, "version": 1, "contributions": entries });
	std::fs::write(&manifest, json.to_string()).unwrap();
	manifest
}

fn hash_field(value: &Value) -> Hash {
	let text = value.as_str().unwrap();
	assert_eq!(text.len(), 66, "{text} is not 0x and 64 hex digits");
	Hash::from(parse_hex_hash(text).unwrap())
}

fn tokens(value: &Value) -> Vec<u32> {
	serde_json::from_value(value.clone()).unwrap()
}

/// Checks a printed receipt against the primitives' definitions and the
/// adapter's files, and returns its scores.
fn check_receipt_layout(trained: &Trained, receipt: &Value, method: Method) -> Vec<(u64, u32)> {
	let scores: Vec<(u64, u32)> = serde_json::from_value(receipt["scores"].clone()).unwrap();
	assert!(scores.len() <= 32);
	assert!(scores.windows(2).all(|pair| pair[0].0 < pair[1].0));
	assert!(scores.iter().map(|(_, ppm)| ppm).sum::<u32>() <= SCORE_PPM_WHOLE);

	let proof: ProofCommitment = serde_json::from_value(receipt["proof"].clone()).unwrap();
	assert_eq!(proof.method, method);
	let weights = std::fs::read(trained.adapter().join("adapter_model.safetensors")).unwrap();
	assert_eq!(proof.adapter_hash, Hash::from(blake2_256(&weights)));
	let indexes = AdapterIndexes::read(&trained.adapter()).unwrap();
	assert_eq!(proof.attribution_index_root, indexes.root());
	assert_eq!(
		hash_field(&receipt["proof"]["scores_root"]),
		proof.scores_root
	);
	let scores_as_ids: Vec<(ContributionId, u32)> = scores
		.iter()
		.map(|(id, ppm)| (ContributionId(*id), *ppm))
		.collect();
	assert_eq!(proof.scores_root, scores_root(&scores_as_ids));

	let output_tokens = tokens(&receipt["output_tokens"]);
	let output_hash = hash_field(&receipt["output_hash"]);
	assert_eq!(output_hash, Hash::from(blake2_256(&output_tokens.encode())));
	assert_eq!(
		hash_field(&receipt["result_hash"]),
		result_hash(&output_hash, method, &scores_as_ids, &proof)
	);
	scores
}

#[test]
fn train_attribute_and_verify_round_trip_for_both_methods() {
	let trained = train();
	let prompt = "the violet heron";
	let continuation = " guards seven quiet lanterns.";

	let span = trained.attribute(&[
		"--method",
		"span",
		"--prompt",
		prompt,
		"--output",
		continuation,
	]);
	assert_eq!(span["method"], "Span");
	assert_eq!(span["output"], continuation);
	assert_eq!(
		tokens(&span["output_tokens"]),
		trained.t.tokenizer.encode(continuation, false).unwrap()
	);
	assert_eq!(
		tokens(&span["prompt_tokens"]),
		trained.t.tokenizer.encode(prompt, true).unwrap()
	);
	// Only contribution 7 holds the output's spans.
	assert_eq!(
		check_receipt_layout(&trained, &span, Method::Span),
		vec![(7, SCORE_PPM_WHOLE)]
	);
	let (matched, printed) = trained.verify(&span);
	assert!(matched, "{printed}");
	assert!(
		printed.starts_with(&format!(
			"match: result hash {}",
			span["result_hash"].as_str().unwrap()
		)),
		"{printed}"
	);

	let gradient = trained.attribute(&[
		"--method",
		"gradient",
		"--prompt",
		prompt,
		"--output",
		continuation,
	]);
	assert_eq!(gradient["method"], "Gradient");
	let scores = check_receipt_layout(&trained, &gradient, Method::Gradient);
	assert!(!scores.is_empty(), "some example pushed towards the output");
	assert_eq!(gradient["proof"]["lambda_fp"], 1 << 14);
	assert_eq!(gradient["proof"]["fixed_point_frac_bits"], 16);
	assert_eq!(gradient["proof"]["projection_seed"], 42);
	let (matched, printed) = trained.verify(&gradient);
	assert!(matched, "{printed}");

	// An empty output credits nobody, and says so verifiably.
	let empty = trained.attribute(&["--method", "gradient", "--prompt", prompt, "--output", ""]);
	assert_eq!(
		check_receipt_layout(&trained, &empty, Method::Gradient),
		vec![]
	);
	assert!(trained.verify(&empty).0);

	// Without --output the adapter answers greedily; that receipt verifies too.
	let generated = trained.attribute(&[
		"--method",
		"gradient",
		"--prompt",
		prompt,
		"--max-tokens",
		"5",
	]);
	let generated_tokens = tokens(&generated["output_tokens"]);
	assert!(!generated_tokens.is_empty() && generated_tokens.len() <= 5);
	assert_eq!(
		generated["output"],
		trained.t.tokenizer.decode(&generated_tokens).unwrap()
	);
	check_receipt_layout(&trained, &generated, Method::Gradient);
	let (matched, printed) = trained.verify(&generated);
	assert!(matched, "{printed}");
}

#[test]
fn a_tampered_receipt_is_a_mismatch_naming_the_field() {
	let trained = train();
	let honest = trained.attribute(&[
		"--method",
		"span",
		"--prompt",
		"the violet heron",
		"--output",
		" guards seven quiet lanterns. the cat sat on the mat.",
	]);
	let credited: Vec<(u64, u32)> = serde_json::from_value(honest["scores"].clone()).unwrap();
	assert_eq!(
		credited.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
		vec![3, 7],
		"both contributions whose text the output repeats are credited"
	);
	assert!(trained.verify(&honest).0);

	let tamper = |edit: &dyn Fn(&mut Value)| {
		let mut receipt = honest.clone();
		edit(&mut receipt);
		let (matched, printed) = trained.verify(&receipt);
		assert!(!matched, "{printed}");
		let first = printed.lines().next().unwrap().to_string();
		first.strip_prefix("mismatch: ").unwrap().to_string()
	};

	// More for contribution 3, less for 7: the scores and the result hash differ.
	let shifted = tamper(&|r| {
		r["scores"][0][1] = (credited[0].1 + 1000).into();
		r["scores"][1][1] = (credited[1].1 - 1000).into();
	});
	assert_eq!(shifted, "scores, result_hash");
	let zero = hex_hash(&[0u8; 32]);
	assert_eq!(
		tamper(&|r| r["proof"]["adapter_hash"] = zero.clone().into()),
		"proof.adapter_hash, result_hash"
	);
	assert_eq!(
		tamper(&|r| r["proof"]["attribution_index_root"] = zero.clone().into()),
		"proof.attribution_index_root, result_hash"
	);
	assert_eq!(
		tamper(&|r| r["proof"]["scores_root"] = zero.clone().into()),
		"proof.scores_root, result_hash"
	);
	assert_eq!(
		tamper(&|r| r["result_hash"] = zero.clone().into()),
		"result_hash"
	);
	// Other output tokens than the hashed ones.
	assert_eq!(
		tamper(&|r| r["output_hash"] = zero.clone().into()),
		"output_hash, result_hash"
	);
}
