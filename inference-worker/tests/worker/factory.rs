//! ModelFactory: verified datanet versions, LoRA fine-tuning, the written
//! adapter and its report.

use std::path::{Path, PathBuf};

use candle_core::Var;
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use openledger_inference_worker::adapters::{load_peft_adapter, ADAPTER_WEIGHTS_FILE};
use openledger_inference_worker::attribution::gradient::AttributionIndex;
use openledger_inference_worker::attribution::indexes::{
	combined_root, AdapterIndexes, IndexesError, INDEXES_FILE_NAME,
};
use openledger_inference_worker::attribution::span::SpanIndex;
use openledger_inference_worker::engine::{Architecture, Execution, LoraTarget};
use openledger_inference_worker::factory::{
	batch_loss, hex_hash, sequence_losses, split_examples, train, write_training_output,
	DatanetVersion, FactoryError, Progress, TrainConfig, TrainOutcome, TrainableLora,
	TRAINING_REPORT_FILE,
};
use openledger_inference_worker::fixtures::{random_lora, AdapterSpec};
use openledger_primitives::merkle::merkle_root;
use openledger_primitives::ContributionId;
use polkadot_sdk::sp_crypto_hashing::blake2_256;

use crate::common::*;

/// Writes each payload as `payloads/<id>.txt` and a manifest listing them
/// (in the order given) with their true content hashes.
fn write_datanet(dir: &Path, payloads: &[(u64, String)]) -> PathBuf {
	std::fs::create_dir_all(dir.join("payloads")).unwrap();
	let mut entries = Vec::new();
	for (id, text) in payloads {
		let path = format!("payloads/{id}.txt");
		std::fs::write(dir.join(&path), text).unwrap();
		entries.push(serde_json::json!({
			"contribution": id,
			"content_hash": hex_hash(&blake2_256(text.as_bytes())),
			"path": path,
		}));
	}
	let manifest = dir.join("manifest.json");
	let json = serde_json::json!({ "datanet": 3, "version": 2, "contributions": entries });
	std::fs::write(&manifest, json.to_string()).unwrap();
	manifest
}

/// A small repetitive corpus: every payload repeats one sentence pattern,
/// so the held-out payloads share what the training ones teach. Payloads
/// differ in length (and so in content: a datanet holds each once).
fn repetitive_corpus(n: u64) -> Vec<(u64, String)> {
	let animals = ["cat", "dog", "hen", "fox"];
	(0..n)
		.map(|i| {
			let animal = animals[i as usize % animals.len()];
			let text = format!("the {animal} sat on the mat. ").repeat(2 + i as usize / 4);
			(100 + i, text)
		})
		.collect()
}

fn quick_config() -> TrainConfig {
	TrainConfig {
		lr: 1e-2,
		batch_size: 4,
		epochs: 3,
		rank: 4,
		alpha: 8.0,
		target_modules: LoraTarget::ALL.to_vec(),
		seed: 7,
		holdout_fraction: 0.25,
		..TrainConfig::default()
	}
}

fn train_on(t: &Tiny, version: &DatanetVersion, config: &TrainConfig) -> TrainOutcome {
	let examples = version.examples(&t.tokenizer, config.max_seq_len).unwrap();
	let split = split_examples(examples, config.holdout_fraction, config.seed).unwrap();
	train(&t.model, split, config, Progress::Hidden).unwrap()
}

#[test]
fn a_payload_that_does_not_match_its_hash_is_refused_naming_the_contribution() {
	let dir = tempfile::tempdir().unwrap();
	let manifest = write_datanet(dir.path(), &repetitive_corpus(3));
	let tampered = "the cat sat on the hat. ";
	std::fs::write(dir.path().join("payloads/101.txt"), tampered).unwrap();

	let err = DatanetVersion::load(&manifest, None).unwrap_err();
	let FactoryError::HashMismatch {
		contribution,
		expected,
		found,
		..
	} = &err
	else {
		panic!("expected a hash mismatch, got {err}");
	};
	assert_eq!(*contribution, ContributionId(101));
	let recorded = hex_hash(&blake2_256(repetitive_corpus(3)[1].1.as_bytes()));
	assert_eq!(expected, &recorded);
	assert_eq!(found, &hex_hash(&blake2_256(tampered.as_bytes())));
	let message = err.to_string();
	for part in ["contribution 101", recorded.as_str(), found.as_str()] {
		assert!(message.contains(part), "`{message}` does not name {part}");
	}
}

#[test]
fn a_version_rebuilds_the_chains_merkle_root_from_blobs_in_id_order() {
	let dir = tempfile::tempdir().unwrap();
	let blobs = dir.path().join("blobs");
	std::fs::create_dir_all(&blobs).unwrap();
	// Listed out of id order: `publish_version` orders by id.
	let payloads = [(9u64, "ninth"), (2, "second"), (5, "fifth")];
	let mut entries = Vec::new();
	for (id, text) in payloads {
		let hash = blake2_256(text.as_bytes());
		std::fs::write(blobs.join(&hex_hash(&hash)[2..]), text).unwrap();
		entries.push(serde_json::json!({ "contribution": id, "content_hash": hex_hash(&hash) }));
	}
	let in_id_order: Vec<[u8; 32]> = ["second", "fifth", "ninth"]
		.iter()
		.map(|t| blake2_256(t.as_bytes()))
		.collect();
	let root = merkle_root(&in_id_order);
	let manifest = dir.path().join("manifest.json");
	let write = |claimed_root: [u8; 32]| {
		let json = serde_json::json!({
			"datanet": 1, "version": 4, "blob_dir": "blobs",
			"merkle_root": hex_hash(&claimed_root), "contributions": entries,
		});
		std::fs::write(&manifest, json.to_string()).unwrap();
	};

	write(root);
	let version = DatanetVersion::load(&manifest, None).unwrap();
	assert_eq!(version.merkle_root, root);
	let ids: Vec<u64> = version.payloads.iter().map(|p| p.contribution.0).collect();
	assert_eq!(ids, vec![2, 5, 9]);
	assert_eq!(version.payloads[0].text, "second");
	assert_eq!(version.total_bytes(), 16);

	write([7u8; 32]);
	let err = DatanetVersion::load(&manifest, None).unwrap_err();
	assert!(
		matches!(err, FactoryError::MerkleRootMismatch { .. }),
		"{err}"
	);
}

#[test]
fn payloads_become_examples_of_at_most_max_seq_len_tokens() {
	let t = tiny(Architecture::Llama);
	let dir = tempfile::tempdir().unwrap();
	let corpus = repetitive_corpus(2);
	let version = DatanetVersion::load(&write_datanet(dir.path(), &corpus), None).unwrap();
	let whole = t.tokenizer.encode(&corpus[0].1, true).unwrap();
	let examples = version.examples(&t.tokenizer, 5).unwrap();
	let first: Vec<u32> = examples
		.iter()
		.take_while(|e| e.contribution == ContributionId(100))
		.flat_map(|e| e.tokens.clone())
		.collect();
	assert!(examples.iter().all(|e| (2..=5).contains(&e.tokens.len())));
	// Only a last chunk of one token may be left out.
	assert!(whole.len() - first.len() <= 1);
	assert_eq!(first, whole[..first.len()]);
}

#[test]
fn every_lora_parameter_gets_a_gradient_through_the_factory_loss() {
	let t = tiny(Architecture::Qwen2);
	let config = quick_config();
	let lora = TrainableLora::init(t.config(), &config, t.model.device()).unwrap();
	assert_eq!(
		lora.parameters().len(),
		2 * LoraTarget::ALL.len() * t.config().num_hidden_layers
	);
	let rows: [&[u32]; 2] = [&[3, 50, 77, 120, 9, 260], &[31, 200, 14]];
	let grad_norms = |lora: &TrainableLora| -> Vec<(String, f32)> {
		let loss = batch_loss(
			&t.model,
			Some(lora.weights()),
			&rows,
			Execution::Differentiable,
		)
		.unwrap();
		let grads = loss.backward().unwrap();
		lora.parameters()
			.iter()
			.map(|(name, var)| {
				let grad = grads.get(var.as_tensor()).unwrap();
				let norm = grad.sqr().unwrap().sum_all().unwrap();
				(name.clone(), norm.to_scalar::<f32>().unwrap())
			})
			.collect()
	};

	// With B at zero (PEFT's init) only B can move at the first step.
	for (name, norm) in grad_norms(&lora) {
		if name.ends_with("lora_A") {
			assert_eq!(norm, 0.0, "{name}");
		} else {
			assert!(norm > 0.0 && norm.is_finite(), "{name}: {norm}");
		}
	}
	let vars: Vec<Var> = lora.parameters().iter().map(|(_, v)| v.clone()).collect();
	let mut optimizer = AdamW::new(
		vars,
		ParamsAdamW {
			lr: 1e-2,
			..ParamsAdamW::default()
		},
	)
	.unwrap();
	let loss = batch_loss(
		&t.model,
		Some(lora.weights()),
		&rows,
		Execution::Differentiable,
	)
	.unwrap();
	optimizer.backward_step(&loss).unwrap();
	for (name, norm) in grad_norms(&lora) {
		assert!(
			norm > 0.0 && norm.is_finite(),
			"{name} has gradient norm {norm} after one step"
		);
	}
}

#[test]
fn padding_does_not_change_the_loss_of_the_unpadded_rows() {
	let t = tiny(Architecture::Llama);
	let spec = AdapterSpec::new(4, 5, BASE_ID);
	let lora = TrainableLora::from_weights(&random_lora(t.config(), &spec).unwrap()).unwrap();
	let long: &[u32] = &[3, 50, 77, 120, 9, 260, 31, 200, 14, 15];
	let short: &[u32] = &[16, 17, 40];
	for mode in [Execution::Differentiable, Execution::Inference] {
		let together = sequence_losses(&t.model, Some(lora.weights()), &[short, long], mode)
			.unwrap()
			.to_vec1::<f32>()
			.unwrap();
		for (row, alone) in [short, long].iter().zip(&together) {
			let by_itself = sequence_losses(&t.model, Some(lora.weights()), &[row], mode)
				.unwrap()
				.to_vec1::<f32>()
				.unwrap()[0];
			assert!(
				(by_itself - alone).abs() < 1e-5,
				"{mode:?}: {by_itself} alone, {alone} padded"
			);
		}
		// The batch loss weighs every predicted token alike.
		let batch = batch_loss(&t.model, Some(lora.weights()), &[short, long], mode)
			.unwrap()
			.to_scalar::<f32>()
			.unwrap();
		let weighted = (together[0] * 2.0 + together[1] * 9.0) / 11.0;
		assert!((batch - weighted).abs() < 1e-5, "{batch} vs {weighted}");
	}
}

#[test]
fn training_lowers_held_out_loss_and_checkpoints_every_epoch() {
	let t = tiny(Architecture::Llama);
	let dir = tempfile::tempdir().unwrap();
	let version =
		DatanetVersion::load(&write_datanet(dir.path(), &repetitive_corpus(8)), None).unwrap();
	let config = quick_config();
	let outcome = train_on(&t, &version, &config);

	assert_eq!(outcome.held_out_examples.len(), 2);
	assert_eq!(outcome.train_examples.len(), 6);
	assert!(!outcome.held_out_is_training_set);
	let (before, after) = (outcome.before.held_out, outcome.after.held_out);
	assert!(
		after.mean_loss < 0.8 * before.mean_loss,
		"held-out loss went from {} to {}",
		before.mean_loss,
		after.mean_loss
	);
	assert!(after.perplexity < before.perplexity);
	assert!((after.perplexity - after.mean_loss.exp()).abs() < 1e-9);
	assert!(outcome.after.train.mean_loss < outcome.before.train.mean_loss);
	assert_eq!(outcome.epoch_train_loss.len(), 3);
	assert!(outcome.epoch_train_loss[2] < outcome.epoch_train_loss[0]);
	assert_eq!(outcome.steps, 3 * 2);

	let epochs: Vec<u32> = outcome.checkpoints.iter().map(|c| c.epoch).collect();
	assert_eq!(epochs, vec![1, 2, 3]);
	assert!(outcome.checkpoints.iter().all(|c| c.lr == config.lr));
	let prompt = t.tokenizer.encode("the cat", true).unwrap();
	let logits_with = |lora| prefill_logits(&t.model, Some(lora), &prompt);
	let last = &outcome.checkpoints[2].lora;
	assert_eq!(
		max_diff(&logits_with(last), &logits_with(&outcome.lora)),
		0.0
	);
	assert!(
		max_diff(
			&logits_with(&outcome.checkpoints[0].lora),
			&logits_with(last)
		) > 1e-3,
		"the first epoch's checkpoint must not follow later updates"
	);
}

#[test]
fn the_written_adapter_loads_changes_the_output_and_matches_its_report() {
	let t = tiny(Architecture::Qwen2);
	let dir = tempfile::tempdir().unwrap();
	let version =
		DatanetVersion::load(&write_datanet(dir.path(), &repetitive_corpus(4)), None).unwrap();
	let config = TrainConfig {
		holdout_fraction: 0.0,
		epochs: 1,
		target_modules: vec![LoraTarget::Q, LoraTarget::V, LoraTarget::Down],
		..quick_config()
	};
	let outcome = train_on(&t, &version, &config);
	let out = dir.path().join("adapter");
	let report = write_training_output(&out, &outcome, &version, &config, BASE_ID, None).unwrap();

	let loaded = load_peft_adapter("trained", &out, &t.base_info(), &limits()).unwrap();
	assert_eq!(loaded.max_rank, 4);
	assert_eq!(
		loaded.targets,
		vec![LoraTarget::Q, LoraTarget::V, LoraTarget::Down]
	);
	let prompt = t.tokenizer.encode("the dog sat", true).unwrap();
	let base = prefill_logits(&t.model, None, &prompt);
	let served = prefill_logits(&t.model, Some(&loaded.weights), &prompt);
	let trained = prefill_logits(&t.model, Some(&outcome.lora), &prompt);
	assert!(
		max_diff(&base, &served) > 1e-3,
		"the adapter changes nothing"
	);
	assert!(max_diff(&served, &trained) < 1e-5);

	let weights = std::fs::read(out.join(ADAPTER_WEIGHTS_FILE)).unwrap();
	assert_eq!(report.adapter_hash, hex_hash(&blake2_256(&weights)));
	let json: serde_json::Value =
		serde_json::from_slice(&std::fs::read(out.join(TRAINING_REPORT_FILE)).unwrap()).unwrap();
	assert_eq!(json["adapter_hash"], report.adapter_hash);
	assert_eq!(json["dataset_merkle_root"], hex_hash(&version.merkle_root));
	assert_eq!(
		(json["datanet"].clone(), json["version"].clone()),
		(3.into(), 2.into())
	);
	assert_eq!(
		json["hyperparameters"]["target_modules"],
		serde_json::json!(["q_proj", "v_proj", "down_proj"])
	);
	// Nothing held out: the report says so and evaluates the training set.
	assert_eq!(json["held_out_is_training_set"], true);
	assert_eq!(json["held_out_examples"], 0);
	assert_eq!(json["after"]["held_out"], json["after"]["train"]);
	assert!(
		json["after"]["train"]["mean_loss"].as_f64().unwrap()
			< json["before"]["train"]["mean_loss"].as_f64().unwrap()
	);
}

#[test]
fn the_same_seed_gives_bit_identical_adapter_bytes() {
	let t = tiny(Architecture::Llama);
	let dir = tempfile::tempdir().unwrap();
	let version =
		DatanetVersion::load(&write_datanet(dir.path(), &repetitive_corpus(6)), None).unwrap();
	let adapter_bytes = |seed: u64, name: &str| -> Vec<u8> {
		let config = TrainConfig {
			seed,
			epochs: 2,
			..quick_config()
		};
		let outcome = train_on(&t, &version, &config);
		let out = dir.path().join(name);
		write_training_output(&out, &outcome, &version, &config, BASE_ID, None).unwrap();
		std::fs::read(out.join(ADAPTER_WEIGHTS_FILE)).unwrap()
	};
	let first = adapter_bytes(11, "a");
	assert_eq!(first, adapter_bytes(11, "b"));
	assert_ne!(first, adapter_bytes(12, "c"));
}

#[test]
fn the_train_command_writes_a_loadable_adapter_and_prints_the_summary() {
	let t = tiny(Architecture::Llama);
	let dir = tempfile::tempdir().unwrap();
	let manifest = write_datanet(dir.path(), &repetitive_corpus(4));
	let out = dir.path().join("adapter");
	let model_dir = t.dir.path().join("model");
	let run = |targets: &str| {
		std::process::Command::new(env!("CARGO_BIN_EXE_openledger-worker"))
			.arg("train")
			.args(["--model".as_ref(), model_dir.as_os_str()])
			.args(["--manifest".as_ref(), manifest.as_os_str()])
			.args(["--out".as_ref(), out.as_os_str()])
			.args(["--model-id", BASE_ID, "--targets", targets])
			.args([
				"--epochs",
				"1",
				"--rank",
				"2",
				"--lr",
				"0.01",
				"--holdout",
				"0",
			])
			.env("RUST_LOG", "warn")
			.output()
			.unwrap()
	};

	let refused = run("q_proj,w_proj");
	assert!(!refused.status.success());
	let stderr = String::from_utf8_lossy(&refused.stderr);
	assert!(stderr.contains("w_proj"), "{stderr}");

	let output = run("q_proj,v_proj");
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "{stderr}");
	let stdout = String::from_utf8(output.stdout).unwrap();
	let version = DatanetVersion::load(&manifest, None).unwrap();
	assert!(stdout.contains(&hex_hash(&version.merkle_root)), "{stdout}");
	assert!(
		stdout.contains("training set (nothing held out)"),
		"{stdout}"
	);
	let weights = std::fs::read(out.join(ADAPTER_WEIGHTS_FILE)).unwrap();
	assert!(
		stdout.contains(&hex_hash(&blake2_256(&weights))),
		"{stdout}"
	);
	let loaded = load_peft_adapter("cli", &out, &t.base_info(), &limits()).unwrap();
	assert_eq!(loaded.targets, vec![LoraTarget::Q, LoraTarget::V]);
	assert_eq!(loaded.max_rank, 2);

	// Both attribution indexes sit beside the adapter; the report names
	// the roots the index files give, and the root to publish commits to
	// both.
	let report: serde_json::Value =
		serde_json::from_slice(&std::fs::read(out.join(TRAINING_REPORT_FILE)).unwrap()).unwrap();
	let attribution = &report["attribution"];
	let gradient_root = AttributionIndex::load(&out).unwrap().root();
	let span_root = SpanIndex::read(&out).unwrap().root();
	let hex = |hash: openledger_primitives::Hash| hex_hash(hash.as_fixed_bytes());
	assert_eq!(attribution["gradient"]["root"], hex(gradient_root));
	assert_eq!(attribution["span"]["root"], hex(span_root));
	let root = hex(combined_root(&gradient_root, &span_root));
	assert_eq!(attribution["attribution_index_root"], root.as_str());
	assert!(
		stdout.contains(&format!("attribution index root {root}")),
		"{stdout}"
	);
	// The defaults: a 256-wide projection seeded by the training seed,
	// 16 fractional bits, DataInf damping 0.25; spans of 4 tokens or more.
	assert_eq!(
		attribution["gradient"],
		serde_json::json!({
			"file": "attribution_index.scale", "root": hex(gradient_root),
			"projection_seed": 42, "projection_dim": 256,
			"fixed_point_frac_bits": 16, "lambda_fp": 16384,
		})
	);
	assert_eq!(attribution["span"]["min_span_tokens"], 4);
	let indexes = AdapterIndexes::read(&out).unwrap();
	assert_eq!(hex(indexes.root()), root);
	assert_eq!(
		serde_json::to_value(indexes.summary()).unwrap(),
		*attribution
	);

	// A summary that names another root is caught on reading.
	let summary_path = out.join(INDEXES_FILE_NAME);
	let summary = std::fs::read_to_string(&summary_path).unwrap();
	let forged = summary.replace(&root[2..6], "ffff");
	assert_ne!(forged, summary);
	std::fs::write(&summary_path, forged).unwrap();
	assert!(matches!(
		AdapterIndexes::read(&out),
		Err(IndexesError::RootMismatch { .. })
	));
}
