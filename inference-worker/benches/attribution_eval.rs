//! Planted-facts evaluation of attribution (DESIGN §10, issue #9), in one
//! reproducible run:
//! - a generated datanet: each of `CONTRIBUTORS` contributors owns
//!   `FACTS_EACH` facts of its own (subject, relation, object; nobody else
//!   states them), every contributor also submits the same filler sentence,
//!   and `COMMON_FACTS` facts are stated correctly by three contributors and
//!   wrongly (another object: a mislabelled item) by a fourth;
//! - a LoRA adapter fine-tuned on all of it with the ModelFactory, on a tiny
//!   random Llama (no download), until it has learned the facts;
//! - for every owned fact, the adapter's greedy answer to its subject and
//!   relation, attributed by span and by gradient: recall@1 and recall@5 of
//!   the owner (goals: span ≥ 0.9, gradient ≥ 0.8);
//! - mislabel detection: every training example ranked by its gradient
//!   self-influence (TracIn's score of the example against itself); the AUC
//!   of mislabelled against correct items;
//! - time per inference: greedy generation through the serving engine's KV
//!   cache vs span and gradient attribution of its output (goal ≤ 1×);
//! - span at datanet scale: building the index over a million tokens and
//!   attributing a 256-token output against it;
//! - the same time per inference on SmolLM2-135M (`$OPENLEDGER_MODEL` or
//!   `~/.cache/openledger/models/`, see `scripts/fetch-model.sh`; skipped
//!   without it), where generation is paid per token as in real serving:
//!   greedy answers with a rank-8 q/k/v/o adapter vs gradient attribution
//!   of those answers against an index of real size.
//!
//! Run with `cargo bench -p openledger-inference-worker --bench attribution_eval`
//! (`OPENLEDGER_BENCH_ONLY=smollm2` for the SmolLM2 timing alone).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use codec::{Decode, Encode};
use openledger_inference_worker::attribution::gradient::{
	build_index, AttributionIndex, CheckpointGradient, IndexEntry, LoraGradients, ProjectionParams,
	TrainingCheckpoint,
};
use openledger_inference_worker::attribution::proof::scores_to_ppm;
use openledger_inference_worker::attribution::span::SpanIndex;
use openledger_inference_worker::engine::sampling::argmax;
use openledger_inference_worker::engine::{
	Architecture, BatchRow, Llama, LoadOptions, LoraTarget, LoraWeights,
};
use openledger_inference_worker::factory::{train, Example, Progress, Split, TrainConfig};
use openledger_inference_worker::fixtures;
use openledger_primitives::ContributionId;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const SEED: u64 = 2026;
const CONTRIBUTORS: u64 = 8;
const FACTS_EACH: usize = 4;
const COMMON_FACTS: usize = 4;
const CORRECT_COPIES: usize = 3;
const SUBJECT_LEN: usize = 3;
const OBJECT_LEN: usize = 6;
const FILLER_LEN: usize = 10;
const RELATIONS: usize = 3;
const EPOCHS: u32 = 60;
/// Epochs whose adapters the gradient index uses (TracIn-CP checkpoints).
const INDEXED_EVERY: u32 = 5;
const MAX_SCORES: usize = 32;
/// DataInf's damping, 0.25 with the projection's 16 fractional bits.
const DATAINF_LAMBDA_FP: u32 = 1 << 14;
const PROJECTION: ProjectionParams = ProjectionParams {
	seed: 0x5EED,
	dim: 256,
	frac_bits: 16,
};
/// First token id the generator uses: past the tiny vocabulary's specials.
const FIRST_TOKEN: u32 = 8;

/// One generated training item.
struct Item {
	example: Example,
	/// Subject and relation: what a query feeds the model.
	prompt_len: usize,
	kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
	Owned,
	Filler,
	Common,
	Mislabelled,
}

/// Distinct random token strings over `vocab`, so that no two facts share a
/// subject or an object.
struct Tokens {
	rng: StdRng,
	vocab: u32,
	used: std::collections::BTreeSet<Vec<u32>>,
}

impl Tokens {
	fn fresh(&mut self, len: usize) -> Vec<u32> {
		loop {
			let candidate: Vec<u32> = (0..len)
				.map(|_| self.rng.random_range(FIRST_TOKEN..self.vocab))
				.collect();
			if self.used.insert(candidate.clone()) {
				return candidate;
			}
		}
	}
}

fn fact(contribution: u64, subject: &[u32], relation: u32, object: &[u32], kind: Kind) -> Item {
	let tokens = [subject, &[relation], object].concat();
	Item {
		example: Example {
			contribution: ContributionId(contribution),
			tokens,
		},
		prompt_len: subject.len() + 1,
		kind,
	}
}

fn datanet(vocab: u32) -> Vec<Item> {
	let mut tokens = Tokens {
		rng: StdRng::seed_from_u64(SEED),
		vocab,
		used: Default::default(),
	};
	let relations: Vec<u32> = (0..RELATIONS).map(|_| tokens.fresh(1)[0]).collect();
	let filler = tokens.fresh(FILLER_LEN);
	let mut items = Vec::new();
	for contributor in 0..CONTRIBUTORS {
		for index in 0..FACTS_EACH {
			let (subject, object) = (tokens.fresh(SUBJECT_LEN), tokens.fresh(OBJECT_LEN));
			let relation = relations[index % RELATIONS];
			items.push(fact(contributor, &subject, relation, &object, Kind::Owned));
		}
		items.push(Item {
			example: Example {
				contribution: ContributionId(contributor),
				tokens: filler.clone(),
			},
			prompt_len: 0,
			kind: Kind::Filler,
		});
	}
	for index in 0..COMMON_FACTS {
		let (subject, object, wrong) = (
			tokens.fresh(SUBJECT_LEN),
			tokens.fresh(OBJECT_LEN),
			tokens.fresh(OBJECT_LEN),
		);
		let relation = relations[index % RELATIONS];
		let mut stating: Vec<u64> = (0..CONTRIBUTORS).collect();
		stating.shuffle(&mut tokens.rng);
		for contributor in &stating[..CORRECT_COPIES] {
			items.push(fact(
				*contributor,
				&subject,
				relation,
				&object,
				Kind::Common,
			));
		}
		let liar = stating[CORRECT_COPIES];
		items.push(fact(liar, &subject, relation, &wrong, Kind::Mislabelled));
	}
	items
}

fn tiny_model(dir: &std::path::Path) -> Llama {
	let config = fixtures::tiny_config(Architecture::Llama);
	fixtures::write_safetensors_model(dir, &config, SEED).expect("write tiny model");
	Llama::load(dir, &LoadOptions::default()).expect("load tiny model")
}

fn train_config() -> TrainConfig {
	TrainConfig {
		lr: 1e-2,
		batch_size: 8,
		epochs: EPOCHS,
		rank: 16,
		alpha: 32.0,
		target_modules: LoraTarget::ALL.to_vec(),
		seed: SEED,
		holdout_fraction: 0.0,
		..TrainConfig::default()
	}
}

/// The adapter's greedy continuation of `prompt`, through the serving
/// engine's forward pass and KV cache.
fn generate(model: &Llama, lora: &LoraWeights, prompt: &[u32], len: usize) -> Vec<u32> {
	let mut cache = model.new_cache(prompt.len() + len);
	let mut feed = prompt.to_vec();
	let mut output = Vec::with_capacity(len);
	for _ in 0..len {
		let mut rows = [BatchRow {
			tokens: &feed,
			cache: &mut cache,
			lora: Some(lora),
		}];
		let logits = model
			.forward(&mut rows)
			.and_then(|logits| Ok(logits.to_vec2::<f32>()?))
			.expect("forward pass");
		let next = argmax(&logits[0]);
		output.push(next);
		feed = vec![next];
	}
	output
}

/// Contributions by decreasing raw score, ties to the lower id.
fn ranking(scores: &BTreeMap<ContributionId, u128>) -> Vec<ContributionId> {
	let mut ranked: Vec<(ContributionId, u128)> = scores
		.iter()
		.filter(|(_, score)| **score > 0)
		.map(|(contribution, score)| (*contribution, *score))
		.collect();
	ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
	ranked
		.into_iter()
		.map(|(contribution, _)| contribution)
		.collect()
}

#[derive(Default)]
struct Recall {
	queries: usize,
	at_1: usize,
	at_5: usize,
	time: Duration,
}

impl Recall {
	fn record(&mut self, owner: ContributionId, scores: &BTreeMap<ContributionId, u128>) {
		let ranked = ranking(scores);
		self.queries += 1;
		self.at_1 += usize::from(ranked.first() == Some(&owner));
		self.at_5 += usize::from(ranked.iter().take(5).any(|c| *c == owner));
	}

	fn row(&self, method: &str, goal: f64, generation: Duration) {
		let n = self.queries.max(1) as f64;
		let per_query = self.time / self.queries.max(1) as u32;
		println!(
			"| {method} | {:.3} | {:.3} | {goal} | {:.3} ms | {:.2}× |",
			self.at_1 as f64 / n,
			self.at_5 as f64 / n,
			per_query.as_secs_f64() * 1e3,
			self.time.as_secs_f64() / generation.as_secs_f64(),
		);
	}
}

/// Area under the ROC curve of `scores` separating `positive` items from
/// the rest: the chance a random positive outscores a random negative,
/// ties counting half.
fn auc(scores: &[i128], positive: &[bool]) -> f64 {
	let (mut wins, mut pairs) = (0f64, 0f64);
	for (score, is_positive) in scores.iter().zip(positive) {
		if !is_positive {
			continue;
		}
		for (other, other_positive) in scores.iter().zip(positive) {
			if *other_positive {
				continue;
			}
			pairs += 1.0;
			wins += match score.cmp(other) {
				std::cmp::Ordering::Greater => 1.0,
				std::cmp::Ordering::Equal => 0.5,
				std::cmp::Ordering::Less => 0.0,
			};
		}
	}
	wins / pairs
}

/// Each example's TracIn self-influence: its own gradient at the trained
/// adapter scored against its entry in the index.
fn self_influences(
	model: &Llama,
	adapter: &LoraWeights,
	index: &AttributionIndex,
	items: &[Item],
) -> Vec<i128> {
	items
		.iter()
		.enumerate()
		.map(|(position, item)| {
			let split = item.prompt_len.max(1);
			let (prompt, output) = item.example.tokens.split_at(split);
			let query = index
				.query(model, adapter, prompt, output)
				.expect("self-influence query");
			index.example_scores(&query, 0).expect("example scores")[position]
		})
		.collect()
}

/// Span index build and attribution time on a synthetic datanet of
/// `SCALE_DOCUMENTS` documents: skewed token frequencies (a uniform draw
/// cubed over a 32k vocabulary) behind one of ten shared 20-token headers,
/// so common prefixes are long, as in real boilerplate.
fn span_at_scale() {
	const SCALE_DOCUMENTS: usize = 2_000;
	const DOCUMENT_LEN: usize = 500;
	const VOCAB: f64 = 32_000.0;
	let mut rng = StdRng::seed_from_u64(SEED);
	let mut skewed = |len: usize| -> Vec<u32> {
		(0..len)
			.map(|_| (rng.random::<f64>().powi(3) * VOCAB) as u32)
			.collect()
	};
	let headers: Vec<Vec<u32>> = (0..10).map(|_| skewed(20)).collect();
	let documents: Vec<Example> = (0..SCALE_DOCUMENTS)
		.map(|document| Example {
			contribution: ContributionId(document as u64 / 4),
			tokens: [headers[document % 10].clone(), skewed(DOCUMENT_LEN - 20)].concat(),
		})
		.collect();
	let building = Instant::now();
	let index = SpanIndex::build(&documents).expect("span index at scale");
	let build_time = building.elapsed();
	let output: Vec<u32> = (0..4)
		.flat_map(|quote| {
			let source = &documents[quote * 301].tokens;
			[skewed(16), source[100..148].to_vec()].concat()
		})
		.collect();
	let attributing = Instant::now();
	let scores = scores_to_ppm(&index.raw_scores(&output), MAX_SCORES);
	let attribution_time = attributing.elapsed();
	println!(
		"span at scale: {} tokens in {} documents indexed in {:.2} s; a {}-token output attributed in {:.3} ms to {} contributions",
		index.token_count(),
		index.document_count(),
		build_time.as_secs_f64(),
		output.len(),
		attribution_time.as_secs_f64() * 1e3,
		scores.len()
	);
}

fn smollm2_path() -> Option<std::path::PathBuf> {
	if let Ok(path) = std::env::var("OPENLEDGER_MODEL") {
		return Some(path.into());
	}
	let home = std::env::var("HOME").ok()?;
	let path = std::path::PathBuf::from(home)
		.join(".cache/openledger/models/SmolLM2-135M-Instruct.Q4_1.gguf");
	path.exists().then_some(path)
}

/// Generation vs gradient attribution on SmolLM2: `SMOLLM2_QUERIES` prompts
/// of `SMOLLM2_PROMPT` tokens answered with `SMOLLM2_OUTPUT` tokens, each
/// answer attributed against an index of `SMOLLM2_EXAMPLES` examples at
/// `SMOLLM2_CHECKPOINTS` checkpoints (the index is random data of the right
/// shape: scoring costs the same whatever the numbers are).
fn smollm2_timing() {
	const SMOLLM2_QUERIES: usize = 4;
	const SMOLLM2_PROMPT: usize = 16;
	const SMOLLM2_OUTPUT: usize = 32;
	const SMOLLM2_EXAMPLES: usize = 2_000;
	const SMOLLM2_CHECKPOINTS: usize = 3;
	let Some(path) = smollm2_path() else {
		println!("SmolLM2 timing skipped: no model (scripts/fetch-model.sh)");
		return;
	};
	let model = Llama::load(&path, &LoadOptions::default()).expect("load SmolLM2");
	let config = model.config().clone();
	let mut spec = fixtures::AdapterSpec::new(8, SEED, "SmolLM2-135M-Instruct");
	spec.targets = vec![LoraTarget::Q, LoraTarget::K, LoraTarget::V, LoraTarget::O];
	let adapter = fixtures::random_lora(&config, &spec).expect("random adapter");
	let mut rng = StdRng::seed_from_u64(SEED);
	let mut tokens = |len: usize| -> Vec<u32> {
		(0..len)
			.map(|_| rng.random_range(FIRST_TOKEN..config.vocab_size as u32))
			.collect()
	};
	let examples: Vec<Example> = (0..2)
		.map(|i| Example {
			contribution: ContributionId(i),
			tokens: tokens(SMOLLM2_PROMPT + SMOLLM2_OUTPUT),
		})
		.collect();
	let checkpoint = [TrainingCheckpoint {
		lr: 1e-3,
		lora: &adapter,
	}];
	let small = build_index(&model, &checkpoint, &examples, PROJECTION).expect("SmolLM2 index");
	let dim = small.params().dim as usize;
	let mut index_rng = StdRng::seed_from_u64(SEED + 1);
	let entries: Vec<IndexEntry> = (0..SMOLLM2_EXAMPLES)
		.map(|example| IndexEntry {
			contribution: ContributionId(example as u64 / 4),
			tokens_hash: [0; 32],
			checkpoints: (0..SMOLLM2_CHECKPOINTS)
				.map(|_| CheckpointGradient {
					lr_fp: 1 << 22,
					projected: (0..dim)
						.map(|_| index_rng.random_range(-1 << 16..1 << 16))
						.collect(),
				})
				.collect(),
		})
		.collect();
	// The index's own encoding, with the entries replaced.
	let encoded = (small.params(), small.layout().to_vec(), entries).encode();
	let index = AttributionIndex::decode(&mut encoded.as_slice()).expect("synthetic index");
	let (mut generation, mut backward, mut projecting, mut scoring) = (
		Duration::ZERO,
		Duration::ZERO,
		Duration::ZERO,
		Duration::ZERO,
	);
	for _ in 0..SMOLLM2_QUERIES {
		let prompt = tokens(SMOLLM2_PROMPT);
		let timing = Instant::now();
		let output = generate(&model, &adapter, &prompt, SMOLLM2_OUTPUT);
		generation += timing.elapsed();
		let timing = Instant::now();
		let gradient = LoraGradients::new(&model, &adapter)
			.and_then(|gradients| gradients.of_continuation(&prompt, &output))
			.expect("query gradient");
		backward += timing.elapsed();
		let timing = Instant::now();
		let query = index.params().project_quantized(&gradient);
		projecting += timing.elapsed();
		let timing = Instant::now();
		let scores = index
			.score_query(&query, DATAINF_LAMBDA_FP)
			.expect("gradient scores");
		let _receipt = scores_to_ppm(&scores, MAX_SCORES);
		scoring += timing.elapsed();
	}
	let ms = |time: Duration| time.as_secs_f64() * 1e3 / SMOLLM2_QUERIES as f64;
	let attribution = backward + projecting + scoring;
	println!(
		"SmolLM2-135M ({} LoRA numbers, rank 8 on q/k/v/o): generation {:.1} ms per answer ({SMOLLM2_OUTPUT} tokens after {SMOLLM2_PROMPT}); gradient attribution {:.1} ms = backward pass {:.1} + projection {:.1} + scoring against {SMOLLM2_EXAMPLES} examples × {SMOLLM2_CHECKPOINTS} checkpoints {:.1}; {:.2}× generation",
		index
			.layout()
			.iter()
			.map(|block| (block.rank * (block.in_dim + block.out_dim)) as usize)
			.sum::<usize>(),
		ms(generation),
		ms(attribution),
		ms(backward),
		ms(projecting),
		ms(scoring),
		attribution.as_secs_f64() / generation.as_secs_f64(),
	);
}

fn main() {
	openledger_inference_worker::engine::prefer_engine_threads();
	if std::env::var("OPENLEDGER_BENCH_ONLY").is_ok_and(|only| only == "smollm2") {
		smollm2_timing();
		return;
	}
	let started = Instant::now();
	let dir = tempfile::tempdir().expect("temporary directory");
	let model = tiny_model(dir.path());
	let items = datanet(model.config().vocab_size as u32);
	let examples: Vec<Example> = items.iter().map(|item| item.example.clone()).collect();
	println!(
		"planted-facts datanet: {} contributors, {} owned facts, {} common facts ×{} + 1 mislabelled each, shared filler; {} examples",
		CONTRIBUTORS,
		CONTRIBUTORS as usize * FACTS_EACH,
		COMMON_FACTS,
		CORRECT_COPIES,
		examples.len()
	);

	let split = Split {
		train: examples.clone(),
		held_out: Vec::new(),
	};
	let outcome = train(&model, split, &train_config(), Progress::Terminal).expect("training");
	println!(
		"trained {} epochs ({} steps) in {:.1} s: loss {:.3} → {:.3}",
		EPOCHS,
		outcome.steps,
		outcome.wall_time.as_secs_f64(),
		outcome.before.train.mean_loss,
		outcome.after.train.mean_loss
	);
	let adapter = &outcome.lora;

	let span_started = Instant::now();
	let span_index = SpanIndex::build(&examples).expect("span index");
	let span_build = span_started.elapsed();
	let gradient_started = Instant::now();
	let checkpoints: Vec<TrainingCheckpoint<'_>> = outcome
		.checkpoints
		.iter()
		.filter(|checkpoint| checkpoint.epoch % INDEXED_EVERY == 0)
		.map(|checkpoint| TrainingCheckpoint {
			lr: checkpoint.lr,
			lora: &checkpoint.lora,
		})
		.collect();
	let gradient_index =
		build_index(&model, &checkpoints, &examples, PROJECTION).expect("gradient index");
	let gradient_build = gradient_started.elapsed();
	println!(
		"indexes: span {:.1} ms, gradient {:.1} s ({} checkpoints)",
		span_build.as_secs_f64() * 1e3,
		gradient_build.as_secs_f64(),
		checkpoints.len()
	);

	let (mut span, mut tracin, mut datainf) =
		(Recall::default(), Recall::default(), Recall::default());
	let mut generation = Duration::ZERO;
	// Where the gradient query's time goes: the backward pass, the
	// projection, and (per scoring) the dot products with the index.
	let (mut backward, mut projecting, mut scoring) =
		(Duration::ZERO, Duration::ZERO, Duration::ZERO);
	let mut exact_answers = 0;
	for item in items.iter().filter(|item| item.kind == Kind::Owned) {
		let (prompt, object) = item.example.tokens.split_at(item.prompt_len);
		let generating = Instant::now();
		let output = generate(&model, adapter, prompt, OBJECT_LEN);
		generation += generating.elapsed();
		exact_answers += usize::from(output == object);

		let timing = Instant::now();
		let span_scores = span_index.raw_scores(&output);
		let _receipt = scores_to_ppm(&span_scores, MAX_SCORES);
		span.time += timing.elapsed();
		span.record(item.example.contribution, &span_scores);

		// One query gradient serves both scorings; each is charged for it.
		let timing = Instant::now();
		let query = gradient_index
			.query(&model, adapter, prompt, &output)
			.expect("gradient query");
		let query_time = timing.elapsed();
		let timing = Instant::now();
		let gradient = LoraGradients::new(&model, adapter)
			.and_then(|gradients| gradients.of_continuation(prompt, &output))
			.expect("query gradient");
		backward += timing.elapsed();
		let timing = Instant::now();
		let projected = gradient_index.params().project_quantized(&gradient);
		projecting += timing.elapsed();
		assert_eq!(projected, query, "the parts make the query");
		for (recall, lambda_fp) in [(&mut tracin, 0), (&mut datainf, DATAINF_LAMBDA_FP)] {
			let timing = Instant::now();
			let scores = gradient_index
				.score_query(&query, lambda_fp)
				.expect("gradient scores");
			let _receipt = scores_to_ppm(&scores, MAX_SCORES);
			scoring += timing.elapsed();
			recall.time += query_time + timing.elapsed();
			recall.record(item.example.contribution, &scores);
		}
	}
	let queries = span.queries;
	println!(
		"{queries} queries; the adapter answered {exact_answers} of them exactly; generation {:.3} ms per query ({OBJECT_LEN} tokens)",
		generation.as_secs_f64() * 1e3 / queries.max(1) as f64
	);
	let per_query = |time: Duration, each: usize| time.as_secs_f64() * 1e3 / each.max(1) as f64;
	println!(
		"gradient query: backward pass {:.3} ms, projection of {} numbers to {} {:.3} ms, scoring against {} examples {:.3} ms",
		per_query(backward, queries),
		gradient_index
			.layout()
			.iter()
			.map(|block| (block.rank * (block.in_dim + block.out_dim)) as usize)
			.sum::<usize>(),
		PROJECTION.dim,
		per_query(projecting, queries),
		gradient_index.entries().len(),
		per_query(scoring, 2 * queries)
	);

	let mislabelled: Vec<bool> = items
		.iter()
		.map(|item| item.kind == Kind::Mislabelled)
		.collect();
	let influences = self_influences(&model, adapter, &gradient_index, &items);
	let mislabel_auc = auc(&influences, &mislabelled);

	println!();
	println!("| method | recall@1 | recall@5 | goal @1 | attribution per query | vs generation |");
	println!("| --- | --- | --- | --- | --- | --- |");
	span.row("span", 0.9, generation);
	tracin.row("gradient (TracIn, λ = 0)", 0.8, generation);
	datainf.row("gradient (DataInf, λ = 0.25)", 0.8, generation);
	println!();
	println!(
		"mislabel detection AUC (gradient self-influence, {} mislabelled of {} examples): {mislabel_auc:.3}",
		mislabelled.iter().filter(|m| **m).count(),
		items.len()
	);
	span_at_scale();
	smollm2_timing();
	println!("total {:.1} s", started.elapsed().as_secs_f64());
}
