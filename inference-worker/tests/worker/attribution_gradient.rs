//! Gradient attribution: the index, its root and file, determinism across
//! runs and thread counts, and that a fine-tuned adapter's output is credited
//! to the contribution it was learned from.

use std::collections::BTreeMap;

use candle_core::{Tensor, Var};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use codec::Encode;
use openledger_inference_worker::attribution::gradient::{
	build_index, AttributionIndex, GradientError, ProjectionParams, TrainingCheckpoint,
	INDEX_FILE_NAME,
};
use openledger_inference_worker::attribution::proof::{
	verify, Attribution, MethodParams, ProofContext,
};
use openledger_inference_worker::engine::{Architecture, Execution, Llama, LoraPair, LoraWeights};
use openledger_inference_worker::factory::Example;
use openledger_inference_worker::fixtures::{random_lora, AdapterSpec};
use openledger_primitives::attribution::SCORE_PPM_WHOLE;
use openledger_primitives::{merkle, ContributionId, Hash, Method};
use polkadot_sdk::sp_crypto_hashing::blake2_256;

use crate::common::*;

const PARAMS: ProjectionParams = ProjectionParams {
	seed: 0x5EED,
	dim: 256,
	frac_bits: 16,
};

/// Contribution `c`'s token pattern: five tokens no other pattern uses.
fn pattern(c: u64) -> Vec<u32> {
	(0..5).map(|i| 40 + 7 * c as u32 + i).collect()
}

/// Three examples per contribution: its pattern repeated, from different
/// starting points.
fn examples(contributions: u64) -> Vec<Example> {
	let mut examples = Vec::new();
	for c in 0..contributions {
		let p = pattern(c);
		for start in 0..3 {
			examples.push(Example {
				contribution: ContributionId(c),
				tokens: (start..start + 12).map(|i| p[i % p.len()]).collect(),
			});
		}
	}
	examples
}

fn random_checkpoints(model: &Llama, seeds: &[u64]) -> Vec<LoraWeights> {
	seeds
		.iter()
		.map(|&seed| random_lora(model.config(), &AdapterSpec::new(4, seed, BASE_ID)).unwrap())
		.collect()
}

fn checkpoints<'a>(lrs: &[f64], loras: &'a [LoraWeights]) -> Vec<TrainingCheckpoint<'a>> {
	lrs.iter()
		.zip(loras)
		.map(|(&lr, lora)| TrainingCheckpoint { lr, lora })
		.collect()
}

fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> T {
	rayon::ThreadPoolBuilder::new()
		.num_threads(threads)
		.build()
		.unwrap()
		.install(work)
}

#[test]
fn the_index_is_saved_next_to_the_adapter_and_read_back() {
	let t = tiny(Architecture::Llama);
	let loras = random_checkpoints(&t.model, &[1, 2]);
	let examples = examples(2);
	let index = build_index(
		&t.model,
		&checkpoints(&[1e-3, 5e-4], &loras),
		&examples,
		PARAMS,
	)
	.unwrap();

	assert_eq!(index.entries().len(), examples.len());
	for (entry, example) in index.entries().iter().zip(&examples) {
		assert_eq!(entry.contribution, example.contribution);
		assert_eq!(entry.tokens_hash, blake2_256(&example.tokens.encode()));
		let lrs: Vec<u64> = entry.checkpoints.iter().map(|c| c.lr_fp).collect();
		assert_eq!(lrs, vec![4_294_967, 2_147_484]);
		assert!(entry
			.checkpoints
			.iter()
			.all(|c| c.projected.len() == PARAMS.dim as usize));
		assert!(entry
			.checkpoints
			.iter()
			.all(|c| c.projected.iter().any(|&q| q != 0)));
	}
	let leaves: Vec<[u8; 32]> = index
		.entries()
		.iter()
		.map(|e| blake2_256(&e.encode()))
		.collect();
	assert_eq!(index.root().0, merkle::merkle_root(&leaves));

	let dir = tempfile::tempdir().unwrap();
	let path = index.save(dir.path()).unwrap();
	assert_eq!(path, dir.path().join(INDEX_FILE_NAME));
	let loaded = AttributionIndex::load(dir.path()).unwrap();
	assert_eq!(loaded, index);
	assert_eq!(loaded.root(), index.root());

	let mut bytes = std::fs::read(&path).unwrap();
	bytes.truncate(bytes.len() - 3);
	std::fs::write(&path, &bytes).unwrap();
	assert!(matches!(
		AttributionIndex::load(dir.path()),
		Err(GradientError::Corrupt { .. })
	));
}

#[test]
fn the_root_changes_with_any_projected_value() {
	let t = tiny(Architecture::Llama);
	let loras = random_checkpoints(&t.model, &[3]);
	let index = build_index(
		&t.model,
		&checkpoints(&[1e-3], &loras),
		&examples(2),
		PARAMS,
	)
	.unwrap();
	let mut bytes = index.to_bytes();
	// The last byte is the high byte of the last entry's last projected value.
	*bytes.last_mut().unwrap() ^= 1;
	let tampered = AttributionIndex::from_bytes(&bytes, "tampered".as_ref()).unwrap();
	assert_ne!(tampered.root(), index.root());
	assert!(AttributionIndex::from_bytes(&bytes[1..], "shifted".as_ref()).is_err());
}

#[test]
fn scores_are_bit_identical_across_runs_and_thread_counts() {
	let t = tiny(Architecture::Llama);
	let loras = random_checkpoints(&t.model, &[4, 5]);
	let examples = examples(3);
	let prompt = &pattern(1)[..3];
	let output = [pattern(1)[3], pattern(1)[4], pattern(1)[0]];
	let run = || {
		let index = build_index(
			&t.model,
			&checkpoints(&[2e-3, 1e-3], &loras),
			&examples,
			PARAMS,
		)
		.unwrap();
		let query = index.query(&t.model, &loras[1], prompt, &output).unwrap();
		(
			index.to_bytes(),
			index.root(),
			index.example_scores(&query, 0).unwrap(),
			index.score_query(&query, 0).unwrap(),
			index.score_query(&query, 1 << 12).unwrap(),
		)
	};
	let one_thread = in_pool(1, run);
	assert_eq!(in_pool(1, run), one_thread, "two runs on one thread");
	assert_eq!(in_pool(2, run), one_thread, "one thread vs two");
	assert_eq!(in_pool(2, run), one_thread, "two runs on two threads");
	assert!(
		!one_thread.3.is_empty(),
		"some example has positive influence"
	);
}

/// A model just large enough that gemm splits its matmuls across threads
/// (its threshold is 48·48·256 multiply-adds per block): the MLP's
/// `[24, 128] × [128, 512]` products are three times that.
fn threaded_model(dir: &std::path::Path) -> Llama {
	let mut config = openledger_inference_worker::fixtures::tiny_config(Architecture::Llama);
	config.hidden_size = 128;
	config.intermediate_size = 512;
	config.head_dim = 32;
	openledger_inference_worker::fixtures::write_safetensors_model(dir, &config, SEED).unwrap();
	Llama::load(
		dir,
		&openledger_inference_worker::engine::LoadOptions::default(),
	)
	.unwrap()
}

const CHILD_TEST: &str = "attribution_gradient::child_prints_an_index_root_and_scores";

#[test]
#[ignore = "run by scores_do_not_depend_on_candles_thread_count, in a child process"]
fn child_prints_an_index_root_and_scores() {
	let dir = tempfile::tempdir().unwrap();
	let model = threaded_model(dir.path());
	let loras = random_checkpoints(&model, &[8]);
	let example = Example {
		contribution: ContributionId(1),
		tokens: (0..24).map(|i| 40 + (i * 5) % 17).collect(),
	};
	let index = build_index(&model, &checkpoints(&[1e-3], &loras), &[example], PARAMS).unwrap();
	let prompt: Vec<u32> = (0..16).map(|i| 40 + (i * 3) % 17).collect();
	let query = index
		.query(&model, &loras[0], &prompt, &[41, 46, 51, 56])
		.unwrap();
	println!(
		"ATTRIBUTION root {:?} query {:?} scores {:?}",
		index.root(),
		query,
		index.example_scores(&query, 0).unwrap()
	);
}

/// candle passes `RAYON_NUM_THREADS` (not the rayon pool's size) to gemm,
/// and sizes its own pool from `CANDLE_NUM_THREADS`, both read from the
/// environment; so each thread count runs in a process of its own.
#[test]
fn scores_do_not_depend_on_candles_thread_count() {
	let run = |threads: &str| {
		let child = std::process::Command::new(std::env::current_exe().unwrap())
			.args([
				"--exact",
				CHILD_TEST,
				"--ignored",
				"--nocapture",
				"--test-threads=1",
			])
			.env("RAYON_NUM_THREADS", threads)
			.env("CANDLE_NUM_THREADS", threads)
			.output()
			.unwrap();
		assert!(child.status.success(), "{child:?}");
		let stdout = String::from_utf8(child.stdout).unwrap();
		// libtest prints the test's name on the same line, before its output.
		let start = stdout
			.find("ATTRIBUTION")
			.unwrap_or_else(|| panic!("no result in {stdout}"));
		stdout[start..].lines().next().unwrap().to_string()
	};
	let single = run("1");
	assert_eq!(run("4"), single);
	assert_eq!(run("3"), single);
}

/// Trains a LoRA adapter (PEFT init: `B` zero) on `examples` with AdamW,
/// one example per step, returning the adapter after each epoch.
fn fine_tune(model: &Llama, examples: &[Example], lr: f64, epochs: usize) -> Vec<LoraWeights> {
	let mut spec = AdapterSpec::new(4, 11, BASE_ID);
	spec.zero_b = true;
	let init = random_lora(model.config(), &spec).unwrap();
	let mut lora = LoraWeights::new(model.config().num_hidden_layers);
	let mut vars = Vec::new();
	for (layer, target, pair) in init.pairs() {
		let a = Var::from_tensor(&pair.a().unwrap()).unwrap();
		let b_t = Var::from_tensor(&pair.b_t().unwrap()).unwrap();
		let trainable =
			LoraPair::new(a.as_tensor().clone(), b_t.as_tensor().clone(), pair.scale()).unwrap();
		lora.insert(layer, target, trainable).unwrap();
		vars.extend([a, b_t]);
	}
	let params = ParamsAdamW {
		lr,
		weight_decay: 0.0,
		..Default::default()
	};
	let mut optimizer = AdamW::new(vars, params).unwrap();
	let mut snapshots = Vec::new();
	for _ in 0..epochs {
		for example in examples {
			optimizer
				.backward_step(&sequence_loss(model, &lora, &example.tokens))
				.unwrap();
		}
		snapshots.push(snapshot(&lora));
	}
	snapshots
}

fn sequence_loss(model: &Llama, lora: &LoraWeights, tokens: &[u32]) -> Tensor {
	let sequence = Tensor::new(tokens, model.device())
		.unwrap()
		.unsqueeze(0)
		.unwrap();
	let logits = model
		.forward_train(&sequence, Some(lora), Execution::Differentiable)
		.unwrap();
	let n = tokens.len() - 1;
	let inputs = logits
		.narrow(1, 0, n)
		.unwrap()
		.reshape((n, model.config().vocab_size))
		.unwrap();
	let targets = Tensor::new(&tokens[1..], model.device()).unwrap();
	candle_nn::loss::cross_entropy(&inputs, &targets).unwrap()
}

/// The adapter's current values, in storage of their own (the optimizer
/// overwrites the variables' storage in place).
fn snapshot(lora: &LoraWeights) -> LoraWeights {
	let mut copy = LoraWeights::new(lora.num_layers());
	for (layer, target, pair) in lora.pairs() {
		let frozen = LoraPair::new(
			pair.a().unwrap().copy().unwrap(),
			pair.b_t().unwrap().copy().unwrap(),
			pair.scale(),
		);
		copy.insert(layer, target, frozen.unwrap()).unwrap();
	}
	copy
}

fn top(scores: &BTreeMap<ContributionId, u128>) -> Option<ContributionId> {
	scores
		.iter()
		.max_by_key(|(_, score)| **score)
		.map(|(contribution, _)| *contribution)
}

#[test]
fn a_continued_pattern_is_credited_to_the_contribution_that_taught_it() {
	let t = tiny(Architecture::Llama);
	let contributions = 4;
	let examples = examples(contributions);
	let lr = 1e-2;
	let trained = fine_tune(&t.model, &examples, lr, 4);
	let index = build_index(
		&t.model,
		&checkpoints(&[lr; 4], &trained),
		&examples,
		PARAMS,
	)
	.unwrap();
	let adapter = trained.last().unwrap();

	for c in 0..contributions {
		let p = pattern(c);
		let prompt = [p[1], p[2], p[3], p[4]];
		// What the adapter should continue the prompt with: the pattern.
		let output = [p[0], p[1], p[2], p[3]];
		for lambda_fp in [0, 1 << 14] {
			let scores = index
				.score(&t.model, adapter, &prompt, &output, lambda_fp)
				.unwrap();
			assert_eq!(
				top(&scores),
				Some(ContributionId(c)),
				"pattern {c}, lambda_fp {lambda_fp}: {scores:?}"
			);
		}
	}
	receipt_recomputes_from_the_saved_index(&t.model, &index, adapter, &pattern(2));
}

/// The worker's receipt for a continuation of `p`, checked by a verifier
/// that loads the index from disk and recomputes on two threads.
fn receipt_recomputes_from_the_saved_index(
	model: &Llama,
	index: &AttributionIndex,
	adapter: &LoraWeights,
	p: &[u32],
) {
	let (prompt, output) = ([p[1], p[2], p[3], p[4]], [p[0], p[1], p[2], p[3]]);
	let lambda_fp = 1 << 14;
	let context = ProofContext {
		// The adapter's identity here; the worker hashes its weights file.
		adapter_hash: Hash::from(blake2_256(&adapter_values(adapter).encode())),
		attribution_index_root: index.root(),
		method: Method::Gradient,
		params: MethodParams {
			projection_seed: index.params().seed,
			lambda_fp,
			fixed_point_frac_bits: index.params().frac_bits,
		},
	};
	let raw = in_pool(1, || {
		index.score(model, adapter, &prompt, &output, lambda_fp)
	})
	.unwrap();
	let receipt = Attribution::from_raw_scores(&context, &raw, 16);
	let owner = receipt.scores.iter().max_by_key(|(_, ppm)| *ppm).unwrap();
	assert_eq!(owner.0, ContributionId(2), "{:?}", receipt.scores);
	assert!(receipt.scores.iter().map(|(_, ppm)| ppm).sum::<u32>() <= SCORE_PPM_WHOLE);

	let dir = tempfile::tempdir().unwrap();
	index.save(dir.path()).unwrap();
	let output_hash = Hash::from(blake2_256(&output.encode()));
	let verification = in_pool(2, || {
		verify(&receipt, &output_hash, &context, 16, |expected| {
			let loaded = AttributionIndex::load(dir.path())?;
			assert_eq!(loaded.root(), expected.attribution_index_root);
			loaded.score(model, adapter, &prompt, &output, expected.params.lambda_fp)
		})
	})
	.unwrap();
	assert!(verification.matches(), "{:?}", verification.mismatches);
}

fn adapter_values(adapter: &LoraWeights) -> Vec<u32> {
	adapter
		.pairs()
		.flat_map(|(_, _, pair)| [pair.a().unwrap(), pair.b_t().unwrap()])
		.flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
		.map(f32::to_bits)
		.collect()
}

#[test]
fn an_adapter_of_another_shape_is_refused() {
	let t = tiny(Architecture::Llama);
	let loras = random_checkpoints(&t.model, &[6]);
	let index = build_index(
		&t.model,
		&checkpoints(&[1e-3], &loras),
		&examples(1),
		PARAMS,
	)
	.unwrap();
	let other = random_lora(t.config(), &AdapterSpec::new(8, 6, BASE_ID)).unwrap();
	assert!(matches!(
		index.score(&t.model, &other, &[40, 41], &[42], 0),
		Err(GradientError::LayoutMismatch(_))
	));
	assert!(matches!(
		index.score(&t.model, &loras[0], &[40, 41], &[], 0),
		Err(GradientError::NothingToPredict(_))
	));
	let too_short = [Example {
		contribution: ContributionId(9),
		tokens: vec![40],
	}];
	assert!(matches!(
		build_index(&t.model, &checkpoints(&[1e-3], &loras), &too_short, PARAMS),
		Err(GradientError::NothingToPredict(_))
	));
}
