//! Span attribution end to end: an index over a small datanet, receipts of
//! outputs that quote it, the index on disk, and verification of receipts.

use std::collections::BTreeMap;

use openledger_inference_worker::attribution::proof::{scores_to_ppm, Attribution, Mismatch};
use openledger_inference_worker::attribution::span::{SpanIndex, SpanParams, SPAN_METHOD_PARAMS};
use openledger_inference_worker::factory::Example;
use openledger_primitives::attribution::{result_hash, scores_root, SCORE_PPM_WHOLE};
use openledger_primitives::{ContributionId, Hash, Method};
use rand::{Rng, SeedableRng};

const MAX_SCORES: usize = 32;

fn adapter_hash() -> Hash {
	Hash::repeat_byte(0xad)
}

fn random_tokens(rng: &mut impl Rng, len: usize) -> Vec<u32> {
	(0..len).map(|_| rng.random_range(0..5_000)).collect()
}

/// A datanet of `contributors` documents, each a shared filler sentence, a
/// sentence of its own, and the filler again.
struct Datanet {
	examples: Vec<Example>,
	filler: Vec<u32>,
	own: Vec<Vec<u32>>,
}

fn datanet(contributors: u64, seed: u64) -> Datanet {
	let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
	let filler = random_tokens(&mut rng, 12);
	let own: Vec<Vec<u32>> = (0..contributors)
		.map(|_| random_tokens(&mut rng, 10))
		.collect();
	let examples = own
		.iter()
		.enumerate()
		.map(|(contributor, sentence)| Example {
			contribution: ContributionId(100 + contributor as u64),
			tokens: [filler.as_slice(), sentence, &filler].concat(),
		})
		.collect();
	Datanet {
		examples,
		filler,
		own,
	}
}

fn share_of(scores: &[(ContributionId, u32)], contribution: u64) -> u32 {
	scores
		.iter()
		.find(|(id, _)| id.0 == contribution)
		.map_or(0, |(_, ppm)| *ppm)
}

#[test]
fn quoting_a_rare_sentence_credits_its_contributor() {
	let datanet = datanet(5, 1);
	let index = SpanIndex::build(&datanet.examples).unwrap();
	let output = [
		&[4_999_999u32, 4_999_998][..],
		&datanet.own[2],
		&[4_999_997],
	]
	.concat();
	let attribution = index.attribute(&output, adapter_hash(), MAX_SCORES);
	assert_eq!(
		attribution.scores,
		vec![(ContributionId(102), SCORE_PPM_WHOLE)]
	);
	assert_eq!(attribution.method, Method::Span);
	let spans = index.maximal_spans(&output);
	assert_eq!(spans.len(), 1);
	assert_eq!(
		(spans[0].start, spans[0].len, spans[0].occurrences),
		(2, 10, 1)
	);
}

#[test]
fn filler_shared_by_every_document_weighs_little() {
	let datanet = datanet(8, 2);
	let index = SpanIndex::build(&datanet.examples).unwrap();
	// The filler, then contributor 3's sentence in other surroundings.
	let output = [
		datanet.filler.as_slice(),
		&[4_999_999],
		&datanet.own[3],
		&[4_999_998],
	]
	.concat();
	let raw = index.raw_scores(&output);
	assert_eq!(raw.len(), 8, "the filler credits every contributor");
	let scores = scores_to_ppm(&raw, MAX_SCORES);
	let owner = share_of(&scores, 103);
	assert!(owner > 900_000, "owner got {owner} ppm: {scores:?}");
	for other in (100..108).filter(|id| *id != 103) {
		let share = share_of(&scores, other);
		assert!(share < 20_000, "contributor {other} got {share} ppm");
	}
	// The filler alone splits evenly.
	let filler_only = index.attribute(&datanet.filler, adapter_hash(), MAX_SCORES);
	assert_eq!(filler_only.scores.len(), 8);
	assert!(filler_only.scores.iter().all(|(_, ppm)| *ppm == 125_000));
}

#[test]
fn spans_do_not_cross_document_boundaries() {
	let examples = [
		Example {
			contribution: ContributionId(1),
			tokens: vec![1, 2, 3, 4],
		},
		Example {
			contribution: ContributionId(2),
			tokens: vec![5, 6, 7, 8],
		},
	];
	let index = SpanIndex::build_with(&examples, SpanParams { min_span: 1 }).unwrap();
	let spans = index.maximal_spans(&[1, 2, 3, 4, 5, 6, 7, 8]);
	let found: Vec<(usize, usize)> = spans.iter().map(|span| (span.start, span.len)).collect();
	assert_eq!(found, vec![(0, 4), (4, 4)]);
	let strict = SpanIndex::build_with(&examples, SpanParams { min_span: 3 }).unwrap();
	assert!(strict.maximal_spans(&[3, 4, 5, 6]).is_empty());
	let raw = strict.raw_scores(&[1, 2, 3, 4, 5, 6, 7, 8]);
	assert_eq!(raw.get(&ContributionId(1)), raw.get(&ContributionId(2)));
}

#[test]
fn results_are_bit_identical_across_runs_and_thread_counts() {
	let datanet = datanet(20, 3);
	let mut rng = rand::rngs::StdRng::seed_from_u64(4);
	let output: Vec<u32> = (0..6)
		.flat_map(|round| {
			let quoted = &datanet.own[round * 3];
			[random_tokens(&mut rng, 3), quoted[round..].to_vec()].concat()
		})
		.collect();
	let run = |threads: usize| {
		let pool = rayon::ThreadPoolBuilder::new()
			.num_threads(threads)
			.build()
			.unwrap();
		pool.install(|| {
			let index = SpanIndex::build(&datanet.examples).unwrap();
			let attribution = index.attribute(&output, adapter_hash(), MAX_SCORES);
			(index, attribution)
		})
	};
	let (one_thread, first) = run(1);
	let (two_threads, second) = run(2);
	assert_eq!(one_thread, two_threads);
	assert_eq!(one_thread.root(), two_threads.root());
	assert_eq!(first, second);
	assert_eq!(
		first.result_hash(&Hash::repeat_byte(7)),
		second.result_hash(&Hash::repeat_byte(7))
	);
	assert!(first.scores.len() >= 6, "{:?}", first.scores);
}

#[test]
fn the_root_commits_to_documents_contributions_and_parameters() {
	let datanet = datanet(4, 5);
	let root = SpanIndex::build(&datanet.examples).unwrap().root();
	let mut moved = datanet.examples.clone();
	moved[1].contribution = ContributionId(999);
	assert_ne!(SpanIndex::build(&moved).unwrap().root(), root);
	let mut edited = datanet.examples.clone();
	edited[3].tokens[0] += 1;
	assert_ne!(SpanIndex::build(&edited).unwrap().root(), root);
	let mut split = datanet.examples.clone();
	let tail = split[0].tokens.split_off(5);
	split.insert(
		1,
		Example {
			contribution: split[0].contribution,
			tokens: tail,
		},
	);
	assert_ne!(SpanIndex::build(&split).unwrap().root(), root);
	let longer = SpanIndex::build_with(&datanet.examples, SpanParams { min_span: 5 }).unwrap();
	assert_ne!(longer.root(), root);
}

#[test]
fn an_index_on_disk_gives_the_verifier_the_same_receipt() {
	let datanet = datanet(6, 6);
	let worker_index = SpanIndex::build(&datanet.examples).unwrap();
	let adapter_dir = tempfile::tempdir().unwrap();
	worker_index.write(adapter_dir.path()).unwrap();
	let verifier_index = SpanIndex::read(adapter_dir.path()).unwrap();
	assert_eq!(verifier_index.root(), worker_index.root());

	let output = [&datanet.own[1][2..], &datanet.own[4][..]].concat();
	let output_hash = Hash::repeat_byte(0x0f);
	let receipt = worker_index.attribute(&output, adapter_hash(), MAX_SCORES);
	assert_eq!(receipt.proof.attribution_index_root, worker_index.root());
	assert_eq!(receipt.proof.scores_root, scores_root(&receipt.scores));
	assert_eq!(
		receipt.proof.fixed_point_frac_bits,
		SPAN_METHOD_PARAMS.fixed_point_frac_bits
	);
	assert_eq!(
		receipt.result_hash(&output_hash),
		result_hash(&output_hash, Method::Span, &receipt.scores, &receipt.proof)
	);
	let verdict = |claimed: &Attribution| {
		verifier_index.verify(claimed, &output, &output_hash, adapter_hash(), MAX_SCORES)
	};
	let honest = verdict(&receipt);
	assert!(honest.matches(), "{:?}", honest.mismatches);
	assert_eq!(
		honest.expected_result_hash,
		receipt.result_hash(&output_hash)
	);

	let mut inflated = receipt.clone();
	inflated.scores[0].1 -= 1;
	inflated.proof.scores_root = scores_root(&inflated.scores);
	let caught = verdict(&inflated);
	assert!(!caught.matches());
	assert_eq!(
		caught.mismatches,
		vec![Mismatch::Scores, Mismatch::ScoresRoot]
	);
	assert_ne!(caught.claimed_result_hash, caught.expected_result_hash);

	let mut gradient = receipt.clone();
	gradient.method = Method::Gradient;
	gradient.proof.method = Method::Gradient;
	assert_eq!(verdict(&gradient).mismatches, vec![Mismatch::Method]);

	let mut other_index = receipt.clone();
	other_index.proof.attribution_index_root = Hash::repeat_byte(1);
	assert_eq!(
		verdict(&other_index).mismatches,
		vec![Mismatch::AttributionIndexRoot]
	);
}

#[test]
fn a_verifier_with_another_datanet_disagrees() {
	let datanet = datanet(6, 7);
	let worker_index = SpanIndex::build(&datanet.examples).unwrap();
	let mut tampered = datanet.examples.clone();
	tampered.swap(0, 1);
	let verifier_index = SpanIndex::build(&tampered).unwrap();
	let output = datanet.own[0].clone();
	let receipt = worker_index.attribute(&output, adapter_hash(), MAX_SCORES);
	let verification = verifier_index.verify(
		&receipt,
		&output,
		&Hash::repeat_byte(2),
		adapter_hash(),
		MAX_SCORES,
	);
	assert_eq!(
		verification.mismatches,
		vec![Mismatch::AttributionIndexRoot]
	);
}

#[test]
fn receipt_scores_obey_the_chain_rules_for_many_contributors() {
	let datanet = datanet(60, 8);
	let index = SpanIndex::build(&datanet.examples).unwrap();
	let output: Vec<u32> = datanet
		.own
		.iter()
		.flat_map(|own| own[..6].to_vec())
		.collect();
	let raw: BTreeMap<ContributionId, u128> = index.raw_scores(&output);
	assert_eq!(raw.len(), 60);
	let attribution = index.attribute(&output, adapter_hash(), MAX_SCORES);
	assert_eq!(attribution.scores.len(), MAX_SCORES);
	assert!(attribution
		.scores
		.windows(2)
		.all(|pair| pair[0].0 < pair[1].0));
	let total: u32 = attribution.scores.iter().map(|(_, ppm)| ppm).sum();
	assert!(total <= SCORE_PPM_WHOLE && total > SCORE_PPM_WHOLE - MAX_SCORES as u32);
}
