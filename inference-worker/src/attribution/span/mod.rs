//! # Span attribution
//!
//! Which contributions an output quotes: the longest stretches of the output
//! found verbatim in the tokenized datanet version, weighted by how long and
//! how rare they are (Infini-gram / OLMoTrace style, DESIGN §9). Works for
//! any model, exact and deterministic.
//!
//! ## Overview
//!
//! [`SpanIndex::build`] joins the examples' tokens into one corpus, each
//! document followed by [`SEPARATOR`] (a token no tokenizer produces, which
//! never matches, so no span crosses a document boundary), and sorts its
//! suffixes (see `suffix_array::build` for the `O(n log² n)` bound). The
//! index records which contribution each document came from, and its
//! [`SpanIndex::root`] commits to the documents and parameters.
//!
//! To attribute an output ([`SpanIndex::maximal_spans`]):
//! 1. for every output position, the longest prefix of the rest of the
//!    output that occurs in the corpus, found by narrowing the suffix array
//!    one token at a time (two binary searches per token), which also gives
//!    its number of occurrences;
//! 2. keep the *maximal* spans, those not inside a span found at an earlier
//!    position, of at least `min_span` tokens;
//! 3. weigh each span `len · 2^32 / occurrences` (fixed point with
//!    [`RARITY_FRAC_BITS`] fractional bits): long spans count more, and a
//!    span found in many places (shared boilerplate, common phrases) counts
//!    less, in proportion;
//! 4. split the weight evenly, rounding down, over the distinct
//!    contributions whose documents contain an occurrence.
//!
//! The raw scores are per-contribution sums of those shares
//! ([`SpanIndex::raw_scores`]); [`SpanIndex::attribute`] turns them into a
//! receipt's [`Attribution`]. Everything after tokenization is integer
//! arithmetic over a suffix array that is unique for its corpus, so any two
//! machines get the same bits.
//!
//! ## Persistence
//!
//! [`SpanIndex::write`] stores the index next to an adapter as
//! [`SPAN_INDEX_FILE_NAME`] (format in `file`); [`SpanIndex::read`] checks
//! the stored suffix array in linear time and the stored root against the
//! documents, so a worker and a verifier that read the same file hold the
//! same index.

mod file;
mod suffix_array;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;

use openledger_primitives::{ContributionId, Hash, Method};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use thiserror::Error;

use crate::attribution::proof::{verify, Attribution, MethodParams, ProofContext, Verification};
use crate::factory::Example;

pub use file::SPAN_INDEX_FILE_NAME;

/// Ends every document in the corpus. Reserved: no example may contain it,
/// and an output token equal to it matches nothing.
pub const SEPARATOR: u32 = u32::MAX;

/// Shortest span credited by default: shorter matches are mostly common
/// words and sub-word pieces that say little about where an output came
/// from.
pub const DEFAULT_MIN_SPAN: u32 = 4;

/// Fractional bits of the span weights (`len · 2^32 / occurrences`).
pub const RARITY_FRAC_BITS: u8 = 32;

/// The method parameters a span receipt commits to. Span attribution has no
/// projection and no damping; `min_span` is committed by the index root.
pub const SPAN_METHOD_PARAMS: MethodParams = MethodParams {
	projection_seed: 0,
	lambda_fp: 0,
	fixed_point_frac_bits: RARITY_FRAC_BITS,
};

/// Prefix of the root's preimage, so the root means nothing else.
const ROOT_DOMAIN: &[u8] = b"openledger/span-index/v1";

/// Why a span index could not be built, written or read.
#[derive(Debug, Error)]
pub enum SpanError {
	/// The example holds the token reserved as the document separator.
	#[error(
		"contribution {contribution:?} holds token {SEPARATOR}, reserved as the document separator"
	)]
	ReservedToken { contribution: ContributionId },
	/// The suffix array indexes positions with `u32`.
	#[error("the corpus has {0} tokens and separators, more than a span index holds ({max})", max = u32::MAX - 1)]
	CorpusTooLarge(usize),
	/// Spans of zero tokens would credit everything.
	#[error("min_span must be at least 1")]
	ZeroMinSpan,
	/// The file could not be read or written.
	#[error("span index {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
	/// The file is not a valid span index.
	#[error("span index {path}: {reason}")]
	Corrupt { path: PathBuf, reason: String },
}

/// How a span index attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanParams {
	/// Shortest span, in tokens, that earns credit.
	pub min_span: u32,
}

impl Default for SpanParams {
	fn default() -> Self {
		Self {
			min_span: DEFAULT_MIN_SPAN,
		}
	}
}

/// One maximal span of an output found in the corpus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanMatch {
	/// Position of its first token in the output.
	pub start: usize,
	/// Its length in tokens.
	pub len: usize,
	/// How often it occurs in the corpus.
	pub occurrences: u64,
	/// The distinct contributions containing an occurrence, in id order.
	pub contributions: Vec<ContributionId>,
	/// `len · 2^32 / occurrences`, rounded down.
	pub weight: u128,
}

/// A suffix array over a tokenized datanet version, with the contribution of
/// every document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanIndex {
	params: SpanParams,
	/// The contribution of each document.
	contributions: Vec<ContributionId>,
	/// Where each document starts in `corpus`, increasing.
	document_starts: Vec<u32>,
	/// The documents' tokens, each document followed by [`SEPARATOR`].
	corpus: Vec<u32>,
	suffix_array: Vec<u32>,
	root: Hash,
}

/// Where the longest prefix of a query occurs: its length and the range of
/// the suffix array whose suffixes start with it.
struct LongestMatch {
	len: usize,
	suffixes: Range<usize>,
}

/// Documents joined for indexing, each followed by [`SEPARATOR`].
struct Corpus {
	contributions: Vec<ContributionId>,
	document_starts: Vec<u32>,
	tokens: Vec<u32>,
}

impl Corpus {
	fn join<'a>(
		documents: impl Iterator<Item = (ContributionId, &'a [u32])>,
	) -> Result<Self, SpanError> {
		let mut corpus = Self {
			contributions: Vec::new(),
			document_starts: Vec::new(),
			tokens: Vec::new(),
		};
		for (contribution, tokens) in documents {
			if tokens.contains(&SEPARATOR) {
				return Err(SpanError::ReservedToken { contribution });
			}
			let start = u32::try_from(corpus.tokens.len())
				.map_err(|_| SpanError::CorpusTooLarge(corpus.tokens.len()))?;
			corpus.tokens.extend_from_slice(tokens);
			corpus.tokens.push(SEPARATOR);
			corpus.document_starts.push(start);
			corpus.contributions.push(contribution);
		}
		// Positions and suffix array entries are u32.
		if corpus.tokens.len() >= u32::MAX as usize {
			return Err(SpanError::CorpusTooLarge(corpus.tokens.len()));
		}
		Ok(corpus)
	}
}

impl SpanIndex {
	/// The index of `examples` with the default [`SpanParams`].
	pub fn build(examples: &[Example]) -> Result<Self, SpanError> {
		Self::build_with(examples, SpanParams::default())
	}

	/// The index of `examples`, one document each, attributing with `params`.
	pub fn build_with(examples: &[Example], params: SpanParams) -> Result<Self, SpanError> {
		let corpus = Corpus::join(
			examples
				.iter()
				.map(|example| (example.contribution, example.tokens.as_slice())),
		)?;
		let suffix_array = suffix_array::build(&corpus.tokens);
		Self::from_parts(params, corpus, suffix_array)
	}

	/// The index over `corpus` whose suffix array is `suffix_array`, which
	/// the caller has built or checked.
	fn from_parts(
		params: SpanParams,
		corpus: Corpus,
		suffix_array: Vec<u32>,
	) -> Result<Self, SpanError> {
		if params.min_span == 0 {
			return Err(SpanError::ZeroMinSpan);
		}
		let mut index = Self {
			params,
			contributions: corpus.contributions,
			document_starts: corpus.document_starts,
			corpus: corpus.tokens,
			suffix_array,
			root: Hash::zero(),
		};
		index.root = Hash::from(blake2_256(&index.root_preimage()));
		Ok(index)
	}

	/// The commitment to this index that goes into a receipt's proof:
	/// BLAKE2b-256 of `"openledger/span-index/v1"`, then `min_span` (u32
	/// LE), the number of documents (u64 LE) and per document its
	/// contribution id (u64 LE), its number of tokens (u64 LE) and the tokens
	/// (u32 LE each). The suffix array follows from these and is not hashed.
	pub fn root(&self) -> Hash {
		self.root
	}

	/// The parameters this index attributes with.
	pub fn params(&self) -> SpanParams {
		self.params
	}

	/// How many documents (examples) the index holds.
	pub fn document_count(&self) -> usize {
		self.contributions.len()
	}

	/// How many tokens the documents hold, separators not counted.
	pub fn token_count(&self) -> usize {
		self.corpus.len() - self.contributions.len()
	}

	/// The documents in order: contribution and tokens.
	fn documents(&self) -> impl Iterator<Item = (ContributionId, &[u32])> + '_ {
		let ends = self
			.document_starts
			.iter()
			.skip(1)
			.map(|start| *start as usize)
			.chain(std::iter::once(self.corpus.len()));
		self.contributions
			.iter()
			.zip(self.document_starts.iter().zip(ends))
			.map(|(contribution, (start, end))| {
				// Each document ends one before the next start, at its separator.
				(*contribution, &self.corpus[*start as usize..end - 1])
			})
	}

	fn root_preimage(&self) -> Vec<u8> {
		let mut preimage = ROOT_DOMAIN.to_vec();
		file::encode_documents(self.params, self.documents(), &mut preimage);
		preimage
	}

	/// The maximal spans of `output` of at least `min_span` tokens found in
	/// the corpus, by increasing start.
	pub fn maximal_spans(&self, output: &[u32]) -> Vec<SpanMatch> {
		let mut spans = Vec::new();
		let mut covered_to = 0usize;
		for start in 0..output.len() {
			let found = self.longest_match(&output[start..]);
			let end = start + found.len;
			// Every span found at an earlier position ends at or before
			// `covered_to`; one ending there too lies inside it.
			if end <= covered_to {
				continue;
			}
			covered_to = end;
			if found.len >= self.params.min_span as usize {
				spans.push(self.span_match(start, found));
			}
		}
		spans
	}

	/// The raw score of every contribution credited for `output`: the sum of
	/// its shares of the maximal spans' weights (see the module docs).
	pub fn raw_scores(&self, output: &[u32]) -> BTreeMap<ContributionId, u128> {
		let mut scores = BTreeMap::new();
		for span in self.maximal_spans(output) {
			let share = span.weight / span.contributions.len().max(1) as u128;
			if share == 0 {
				continue;
			}
			for contribution in span.contributions {
				let score = scores.entry(contribution).or_insert(0u128);
				*score = score.saturating_add(share);
			}
		}
		scores
	}

	/// What a span receipt computed with this index, for an inference served
	/// by the adapter whose weights hash to `adapter_hash`, is bound to.
	pub fn proof_context(&self, adapter_hash: Hash) -> ProofContext {
		ProofContext {
			adapter_hash,
			attribution_index_root: self.root,
			method: Method::Span,
			params: SPAN_METHOD_PARAMS,
		}
	}

	/// The receipt attribution of `output` (the generated tokens), keeping
	/// at most `max_scores` contributions (the runtime's `MaxScores`).
	pub fn attribute(&self, output: &[u32], adapter_hash: Hash, max_scores: usize) -> Attribution {
		Attribution::from_raw_scores(
			&self.proof_context(adapter_hash),
			&self.raw_scores(output),
			max_scores,
		)
	}

	/// Recomputes the span attribution of `output` with this index and
	/// compares it with `claimed` (see [`verify`]).
	pub fn verify(
		&self,
		claimed: &Attribution,
		output: &[u32],
		output_hash: &Hash,
		adapter_hash: Hash,
		max_scores: usize,
	) -> Verification {
		let Ok(verification) = verify(
			claimed,
			output_hash,
			&self.proof_context(adapter_hash),
			max_scores,
			|_| Ok::<_, std::convert::Infallible>(self.raw_scores(output)),
		);
		verification
	}

	/// The longest prefix of `query` that occurs in the corpus. The suffix
	/// array range narrows one token at a time: suffixes sharing the first
	/// `depth` tokens are sorted by their token at `depth`.
	fn longest_match(&self, query: &[u32]) -> LongestMatch {
		let mut found = LongestMatch {
			len: 0,
			suffixes: 0..self.suffix_array.len(),
		};
		for (depth, token) in query.iter().enumerate() {
			if *token == SEPARATOR {
				break;
			}
			let narrowed = self.narrow(found.suffixes.clone(), depth, *token);
			if narrowed.is_empty() {
				break;
			}
			found = LongestMatch {
				len: depth + 1,
				suffixes: narrowed,
			};
		}
		found
	}

	/// The part of `suffixes` (all sharing their first `depth` tokens) whose
	/// token at `depth` is `token`.
	fn narrow(&self, suffixes: Range<usize>, depth: usize, token: u32) -> Range<usize> {
		let candidates = &self.suffix_array[suffixes.clone()];
		let below = candidates.partition_point(|start| self.token_at(*start, depth) < token);
		let through = candidates.partition_point(|start| self.token_at(*start, depth) <= token);
		suffixes.start + below..suffixes.start + through
	}

	/// The token `depth` after `start`. A suffix in a narrowed range has no
	/// separator in its first `depth` tokens and the corpus ends in one, so
	/// this stays inside the corpus; past it reads as a separator.
	fn token_at(&self, start: u32, depth: usize) -> u32 {
		self.corpus
			.get(start as usize + depth)
			.copied()
			.unwrap_or(SEPARATOR)
	}

	fn span_match(&self, start: usize, found: LongestMatch) -> SpanMatch {
		let occurrences = found.suffixes.len().max(1);
		let contributions: BTreeSet<ContributionId> = self.suffix_array[found.suffixes]
			.iter()
			.filter_map(|position| self.contribution_at(*position))
			.collect();
		SpanMatch {
			start,
			len: found.len,
			occurrences: occurrences as u64,
			contributions: contributions.into_iter().collect(),
			weight: ((found.len as u128) << RARITY_FRAC_BITS) / occurrences as u128,
		}
	}

	/// The contribution of the document holding corpus position `position`.
	fn contribution_at(&self, position: u32) -> Option<ContributionId> {
		let document = self
			.document_starts
			.partition_point(|start| *start <= position)
			.checked_sub(1)?;
		self.contributions.get(document).copied()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn example(contribution: u64, tokens: &[u32]) -> Example {
		Example {
			contribution: ContributionId(contribution),
			tokens: tokens.to_vec(),
		}
	}

	fn index(examples: &[Example], min_span: u32) -> SpanIndex {
		SpanIndex::build_with(examples, SpanParams { min_span }).unwrap()
	}

	/// Every occurrence of every substring of `output` up to the longest
	/// match, found by brute force: the longest match at `start`.
	fn naive_longest(examples: &[Example], output: &[u32], start: usize) -> (usize, u64) {
		let mut best = (0, 0);
		for len in 1..=output.len() - start {
			let needle = &output[start..start + len];
			let count: usize = examples
				.iter()
				.map(|example| example.tokens.windows(len).filter(|w| *w == needle).count())
				.sum();
			if count == 0 {
				break;
			}
			best = (len, count as u64);
		}
		best
	}

	#[test]
	fn longest_matches_agree_with_brute_force() {
		use rand::{Rng, SeedableRng};
		let mut rng = rand::rngs::StdRng::seed_from_u64(5);
		for _ in 0..50 {
			let examples: Vec<Example> = (0..rng.random_range(1..6))
				.map(|id| {
					let len = rng.random_range(0..40);
					let tokens: Vec<u32> = (0..len).map(|_| rng.random_range(0..4)).collect();
					example(id, &tokens)
				})
				.collect();
			let built = index(&examples, 1);
			let output: Vec<u32> = (0..30).map(|_| rng.random_range(0..5)).collect();
			for start in 0..output.len() {
				let found = built.longest_match(&output[start..]);
				let occurrences = if found.len == 0 {
					0
				} else {
					found.suffixes.len() as u64
				};
				assert_eq!(
					(found.len, occurrences),
					naive_longest(&examples, &output, start)
				);
			}
		}
	}

	#[test]
	fn only_maximal_spans_are_kept() {
		let examples = [example(1, &[1, 2, 3, 4, 5]), example(2, &[3, 4, 5, 6, 7])];
		let spans = index(&examples, 2).maximal_spans(&[1, 2, 3, 4, 5, 6, 7]);
		let found: Vec<(usize, usize)> = spans.iter().map(|span| (span.start, span.len)).collect();
		assert_eq!(found, vec![(0, 5), (2, 5)]);
		assert_eq!(spans[0].contributions, vec![ContributionId(1)]);
		assert_eq!(spans[1].contributions, vec![ContributionId(2)]);
	}

	#[test]
	fn documents_round_trip_through_the_corpus() {
		let examples = [example(4, &[1, 2]), example(9, &[]), example(4, &[7])];
		let built = index(&examples, 1);
		let documents: Vec<(ContributionId, Vec<u32>)> = built
			.documents()
			.map(|(contribution, tokens)| (contribution, tokens.to_vec()))
			.collect();
		let expected: Vec<(ContributionId, Vec<u32>)> = examples
			.iter()
			.map(|example| (example.contribution, example.tokens.clone()))
			.collect();
		assert_eq!(documents, expected);
		assert_eq!(built.token_count(), 3);
		assert_eq!(built.document_count(), 3);
	}

	#[test]
	fn the_separator_is_reserved() {
		let error = SpanIndex::build(&[example(3, &[1, SEPARATOR])]).unwrap_err();
		assert!(
			matches!(error, SpanError::ReservedToken { contribution } if contribution == ContributionId(3))
		);
		let built = index(&[example(1, &[5, 6])], 1);
		assert!(built.maximal_spans(&[SEPARATOR, SEPARATOR]).is_empty());
	}

	#[test]
	fn weight_is_length_over_occurrences_split_over_distinct_contributions() {
		let quote = [7, 8, 9, 10, 11];
		let examples = [
			example(1, &[1, 7, 8, 9, 10, 11, 2]),
			example(1, &[7, 8, 9, 10, 11]),
			example(2, &[3, 7, 8, 9, 10, 11]),
			example(3, &[7, 8, 9]),
		];
		let built = index(&examples, 4);
		let spans = built.maximal_spans(&quote);
		assert_eq!(spans.len(), 1);
		assert_eq!(spans[0].occurrences, 3);
		assert_eq!(
			spans[0].contributions,
			vec![ContributionId(1), ContributionId(2)]
		);
		let weight = (5u128 << RARITY_FRAC_BITS) / 3;
		assert_eq!(spans[0].weight, weight);
		let raw = built.raw_scores(&quote);
		let expected: BTreeMap<ContributionId, u128> = [(1, weight / 2), (2, weight / 2)]
			.into_iter()
			.map(|(id, score)| (ContributionId(id), score))
			.collect();
		assert_eq!(raw, expected);
	}

	#[test]
	fn an_empty_datanet_credits_nothing() {
		let built = index(&[], 1);
		assert_eq!(built.document_count(), 0);
		assert!(built.raw_scores(&[1, 2, 3]).is_empty());
		assert!(built
			.attribute(&[1, 2, 3], Hash::zero(), 32)
			.scores
			.is_empty());
	}

	#[test]
	fn zero_min_span_is_refused() {
		assert!(matches!(
			SpanIndex::build_with(&[], SpanParams { min_span: 0 }),
			Err(SpanError::ZeroMinSpan)
		));
	}
}
