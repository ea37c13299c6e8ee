//! One adapter's attribution indexes, as ModelFactory writes them beside the
//! adapter, and the root the chain records for them.
//!
//! An adapter has a gradient index ([`AttributionIndex`], built from the
//! training checkpoints and the examples trained on) and a span index
//! ([`SpanIndex`], over every example of the datanet version). The chain's
//! `publish_adapter` records one attribution index root per adapter version,
//! and every receipt's proof must carry it. That root commits to both:
//!
//! `attribution_index_root = blake2_256("openledger/attribution-indexes/v1" ‖ gradient_root ‖ span_root)`
//!
//! so a receipt of either method is checked against the same root, and a
//! verifier that loads the two index files recomputes it. The method's own
//! parameters (projection seed, damping `lambda_fp`, fixed-point fractional
//! bits; no seed or damping for spans) are in the proof beside it.
//! [`INDEXES_FILE_NAME`] beside the index files records the roots and the
//! parameters receipts are computed with; the training report repeats it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use openledger_primitives::attribution::Method;
use openledger_primitives::{ContributionId, Hash};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde::{Deserialize, Serialize};

use super::gradient::{
	build_index, AttributionIndex, GradientError, ProjectionParams, TrainingCheckpoint,
	INDEX_FILE_NAME,
};
use super::proof::{MethodParams, ProofContext};
use super::span::{SpanError, SpanIndex, SPAN_INDEX_FILE_NAME, SPAN_METHOD_PARAMS};
use crate::engine::{Llama, LoraWeights};
use crate::factory::{hex_hash, Checkpoint, Example};

/// Domain separator of [`combined_root`], so the root means nothing else.
pub const INDEXES_CONTEXT: &[u8] = b"openledger/attribution-indexes/v1";

/// The file beside an adapter naming its indexes' roots and parameters.
pub const INDEXES_FILE_NAME: &str = "attribution_indexes.json";

/// The attribution index root the chain records for an adapter with these
/// two indexes.
pub fn combined_root(gradient_root: &Hash, span_root: &Hash) -> Hash {
	let mut preimage = Vec::with_capacity(INDEXES_CONTEXT.len() + 64);
	preimage.extend_from_slice(INDEXES_CONTEXT);
	preimage.extend_from_slice(gradient_root.as_bytes());
	preimage.extend_from_slice(span_root.as_bytes());
	Hash::from(blake2_256(&preimage))
}

/// Why an adapter's indexes could not be built, written, read or used.
#[derive(Debug, thiserror::Error)]
pub enum IndexesError {
	#[error(transparent)]
	Gradient(#[from] GradientError),
	#[error(transparent)]
	Span(#[from] SpanError),
	/// The summary file is missing, unreadable or not the JSON written here.
	#[error("{path}: {reason}")]
	Summary { path: PathBuf, reason: String },
	/// The index files beside the summary are not the ones it describes.
	#[error("{path} names root {claimed}, but the index files give {found}")]
	RootMismatch {
		path: PathBuf,
		claimed: String,
		found: String,
	},
}

/// What [`INDEXES_FILE_NAME`] holds (and the training report's
/// `attribution`): every root in `0x` hex, and the parameters receipts are
/// computed with.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct IndexesSummary {
	/// The adapter's on-chain `attribution_index_root`, [`combined_root`] of
	/// the two roots below: what `publish_adapter` takes and every receipt's
	/// proof carries, whichever the method.
	pub attribution_index_root: String,
	pub gradient: GradientIndexSummary,
	pub span: SpanIndexSummary,
}

/// The gradient index: its file, root and the parameters a gradient
/// receipt's proof commits to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GradientIndexSummary {
	pub file: String,
	pub root: String,
	pub projection_seed: u64,
	pub projection_dim: u32,
	pub fixed_point_frac_bits: u8,
	/// DataInf damping λ, fixed point with `fixed_point_frac_bits`
	/// fractional bits (0: plain TracIn).
	pub lambda_fp: u32,
}

/// The span index: its file, root, shortest credited span and the
/// fixed-point format of its scores.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SpanIndexSummary {
	pub file: String,
	pub root: String,
	pub min_span_tokens: u32,
	pub fixed_point_frac_bits: u8,
}

/// An adapter's two indexes and the damping its gradient scores use.
pub struct AdapterIndexes {
	pub gradient: AttributionIndex,
	pub span: SpanIndex,
	pub lambda_fp: u32,
}

impl AdapterIndexes {
	/// Builds both indexes of a freshly trained adapter: the gradient index
	/// from the training `checkpoints` and the examples trained on, the span
	/// index over every example of the datanet version (`corpus`).
	pub fn build(
		model: &Llama,
		checkpoints: &[Checkpoint],
		trained_on: &[Example],
		corpus: &[Example],
		projection: ProjectionParams,
		lambda_fp: u32,
	) -> Result<Self, IndexesError> {
		let checkpoints: Vec<TrainingCheckpoint<'_>> = checkpoints
			.iter()
			.map(|checkpoint| TrainingCheckpoint {
				lr: checkpoint.lr,
				lora: &checkpoint.lora,
			})
			.collect();
		Ok(Self {
			gradient: build_index(model, &checkpoints, trained_on, projection)?,
			span: SpanIndex::build(corpus)?,
			lambda_fp,
		})
	}

	/// The root the chain records for the adapter.
	pub fn root(&self) -> Hash {
		combined_root(&self.gradient.root(), &self.span.root())
	}

	pub fn summary(&self) -> IndexesSummary {
		let projection = self.gradient.params();
		IndexesSummary {
			attribution_index_root: hex(&self.root()),
			gradient: GradientIndexSummary {
				file: INDEX_FILE_NAME.into(),
				root: hex(&self.gradient.root()),
				projection_seed: projection.seed,
				projection_dim: projection.dim,
				fixed_point_frac_bits: projection.frac_bits,
				lambda_fp: self.lambda_fp,
			},
			span: SpanIndexSummary {
				file: SPAN_INDEX_FILE_NAME.into(),
				root: hex(&self.span.root()),
				min_span_tokens: self.span.params().min_span,
				fixed_point_frac_bits: SPAN_METHOD_PARAMS.fixed_point_frac_bits,
			},
		}
	}

	/// Writes both index files and [`INDEXES_FILE_NAME`] into `adapter_dir`.
	pub fn write(&self, adapter_dir: &Path) -> Result<IndexesSummary, IndexesError> {
		self.gradient.save(adapter_dir)?;
		self.span.write(adapter_dir)?;
		let summary = self.summary();
		let path = adapter_dir.join(INDEXES_FILE_NAME);
		let json = serde_json::to_string_pretty(&summary).map_err(|e| IndexesError::Summary {
			path: path.clone(),
			reason: e.to_string(),
		})?;
		std::fs::write(&path, json).map_err(|e| IndexesError::Summary {
			path,
			reason: e.to_string(),
		})?;
		Ok(summary)
	}

	/// Reads the indexes ModelFactory wrote into `adapter_dir`, checking
	/// that the files give the roots [`INDEXES_FILE_NAME`] names.
	pub fn read(adapter_dir: &Path) -> Result<Self, IndexesError> {
		let path = adapter_dir.join(INDEXES_FILE_NAME);
		let summary_error = |reason: String| IndexesError::Summary {
			path: path.clone(),
			reason,
		};
		let text = std::fs::read_to_string(&path).map_err(|e| summary_error(e.to_string()))?;
		let summary: IndexesSummary =
			serde_json::from_str(&text).map_err(|e| summary_error(e.to_string()))?;
		let indexes = Self {
			gradient: AttributionIndex::load(adapter_dir)?,
			span: SpanIndex::read(adapter_dir)?,
			lambda_fp: summary.gradient.lambda_fp,
		};
		let found = indexes.summary();
		if found != summary {
			return Err(IndexesError::RootMismatch {
				path,
				claimed: summary.attribution_index_root,
				found: found.attribution_index_root,
			});
		}
		Ok(indexes)
	}

	/// The proof context of `method`'s receipts for the adapter whose
	/// weights file hashes to `adapter_hash`: always this adapter's
	/// [`Self::root`], with the method's own parameters.
	pub fn proof_context(&self, method: Method, adapter_hash: Hash) -> ProofContext {
		let params = match method {
			Method::Span => SPAN_METHOD_PARAMS,
			Method::Gradient => {
				let projection = self.gradient.params();
				MethodParams {
					projection_seed: projection.seed,
					lambda_fp: self.lambda_fp,
					fixed_point_frac_bits: projection.frac_bits,
				}
			},
		};
		ProofContext {
			adapter_hash,
			attribution_index_root: self.root(),
			method,
			params,
		}
	}

	/// Raw per-contribution influence of `output` (generated after `prompt`
	/// by `model` with `adapter`) by `method`.
	pub fn raw_scores(
		&self,
		method: Method,
		model: &Llama,
		adapter: &LoraWeights,
		prompt: &[u32],
		output: &[u32],
	) -> Result<BTreeMap<ContributionId, u128>, IndexesError> {
		Ok(match method {
			Method::Span => self.span.raw_scores(output),
			Method::Gradient => {
				self.gradient
					.score(model, adapter, prompt, output, self.lambda_fp)?
			},
		})
	}
}

fn hex(hash: &Hash) -> String {
	hex_hash(hash.as_fixed_bytes())
}
