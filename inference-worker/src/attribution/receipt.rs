//! The attribution of one inference, as a worker puts it in a receipt and a
//! verifier or challenger recomputes it.
//!
//! [`AttributedAdapter`] is a trained adapter directory loaded for
//! attribution: its LoRA weights, the hash of its weights file and its two
//! indexes ([`AdapterIndexes`]). [`AttributedAdapter::attribute`] turns the
//! prompt and output tokens of one inference into an [`InferenceReceipt`]:
//! the method, at most [`MAX_SCORES`] scores in parts per million, the proof
//! commitment, the output hash and the result hash that `submit_receipt`
//! and `challenge` compare. [`AttributedAdapter::verify`] recomputes a
//! claimed receipt and names every field that differs.
//!
//! ## The output hash
//!
//! `output_hash = blake2_256(SCALE(output_tokens))`: the SCALE encoding of
//! the output's token ids as a `Vec<u32>` (compact length, then each id as
//! 4 bytes little-endian). The tokens, not the text, are hashed because
//! they are what both methods attribute, and one text has many
//! tokenizations: hashing the tokens pins the exact input an honest
//! recomputation must use. A receipt file carries the prompt and output
//! tokens so that anyone holding the base model and the adapter directory
//! can recompute it.
//!
//! ## What is deterministic
//!
//! The adapter is loaded in f32, exactly as written, whatever dtype serving
//! keeps it in: gradient scores depend on the weights they differentiate.
//! The base model must be loaded the same way (same weight format and kind
//! of backend) by worker and verifier; span scores depend on the tokens
//! only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use codec::Encode;
use openledger_primitives::attribution::Method;
use openledger_primitives::{ContributionId, Hash, ProofCommitment};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde::{Deserialize, Serialize};

use super::indexes::{AdapterIndexes, IndexesError};
use super::proof::{verify, Attribution, Mismatch};
use crate::adapters::{
	load_peft_adapter, AdapterError, AdapterLimits, BaseModelInfo, ADAPTER_WEIGHTS_FILE,
};
use crate::engine::sampling::argmax;
use crate::engine::tokenizer::TextTokenizer;
use crate::engine::{BatchRow, Llama, LoraWeights};

/// The most scores a receipt may carry: the runtime's `MaxScores`.
pub const MAX_SCORES: usize = 32;

/// The output hash of an inference that produced `output_tokens` (see the
/// module docs).
pub fn output_hash(output_tokens: &[u32]) -> Hash {
	Hash::from(blake2_256(&output_tokens.encode()))
}

/// Why an inference could not be attributed or a receipt checked.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
	#[error(transparent)]
	Indexes(#[from] IndexesError),
	#[error(transparent)]
	Adapter(#[from] AdapterError),
	#[error("cannot read {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
}

/// One inference's receipt: what `submit_receipt` takes beside the token
/// counts, the result hash it implies, and the tokens it was computed from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InferenceReceipt {
	pub method: Method,
	/// `(contribution, ppm)` by increasing contribution, at most
	/// [`MAX_SCORES`].
	pub scores: Vec<(ContributionId, u32)>,
	pub proof: ProofCommitment,
	/// [`output_hash`] of `output_tokens`.
	pub output_hash: Hash,
	/// `blake2_256(SCALE(output_hash, method, scores, proof))`: what honest
	/// re-execution reproduces.
	pub result_hash: Hash,
	pub prompt_tokens: Vec<u32>,
	pub output_tokens: Vec<u32>,
}

impl InferenceReceipt {
	/// The receipt of `attribution`, computed for `output_tokens` generated
	/// after `prompt_tokens`.
	pub fn new(attribution: Attribution, prompt_tokens: &[u32], output_tokens: &[u32]) -> Self {
		let output_hash = output_hash(output_tokens);
		Self {
			result_hash: attribution.result_hash(&output_hash),
			method: attribution.method,
			scores: attribution.scores,
			proof: attribution.proof,
			output_hash,
			prompt_tokens: prompt_tokens.to_vec(),
			output_tokens: output_tokens.to_vec(),
		}
	}

	/// The result hash the chain computes from the receipt's output hash,
	/// method, scores and proof (which `result_hash` should equal).
	pub fn implied_result_hash(&self) -> Hash {
		self.attribution().result_hash(&self.output_hash)
	}

	/// The receipt's attribution: method, scores and proof.
	pub fn attribution(&self) -> Attribution {
		Attribution {
			method: self.method,
			scores: self.scores.clone(),
			proof: self.proof,
		}
	}
}

/// A receipt field in which a claimed receipt differs from the recomputed
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReceiptField {
	/// The output tokens do not hash to the claimed output hash.
	OutputHash,
	/// A field of the attribution or its proof commitment.
	Attribution(Mismatch),
	/// The claimed result hash, or the one the chain computes from the
	/// claimed fields, is not the honest one.
	ResultHash,
}

impl ReceiptField {
	/// The field's name in the receipt JSON (`proof.` for the commitment's).
	pub fn name(self) -> &'static str {
		match self {
			Self::OutputHash => "output_hash",
			Self::ResultHash => "result_hash",
			Self::Attribution(mismatch) => match mismatch {
				Mismatch::Method => "method",
				Mismatch::ProofMethod => "proof.method",
				Mismatch::AdapterHash => "proof.adapter_hash",
				Mismatch::AttributionIndexRoot => "proof.attribution_index_root",
				Mismatch::ProjectionSeed => "proof.projection_seed",
				Mismatch::LambdaFp => "proof.lambda_fp",
				Mismatch::FixedPointFracBits => "proof.fixed_point_frac_bits",
				Mismatch::Scores => "scores",
				Mismatch::ScoresRoot => "proof.scores_root",
			},
		}
	}
}

/// The outcome of [`AttributedAdapter::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptCheck {
	/// The receipt an honest worker produces for the claimed tokens.
	pub expected: InferenceReceipt,
	/// Every field in which the claim differs, in [`ReceiptField`] order;
	/// empty when it matches.
	pub differing: Vec<ReceiptField>,
}

impl ReceiptCheck {
	pub fn matches(&self) -> bool {
		self.differing.is_empty()
	}
}

/// A trained adapter loaded for attribution: its weights in f32, the
/// BLAKE2b-256 of its weights file (the proof's `adapter_hash`) and its
/// indexes.
pub struct AttributedAdapter {
	pub lora: LoraWeights,
	pub adapter_hash: Hash,
	pub indexes: AdapterIndexes,
}

impl AttributedAdapter {
	/// Loads the adapter ModelFactory wrote into `adapter_dir` for `base`,
	/// with its indexes.
	pub fn load(adapter_dir: &Path, base: &BaseModelInfo) -> Result<Self, ReceiptError> {
		let weights_path = adapter_dir.join(ADAPTER_WEIGHTS_FILE);
		let weights = std::fs::read(&weights_path).map_err(|source| ReceiptError::Io {
			path: weights_path,
			source,
		})?;
		// Serving's rank and memory budgets do not apply to the one adapter
		// attributed; f32 keeps its weights exactly as written.
		let limits = AdapterLimits {
			max_rank: usize::MAX,
			cache_bytes: usize::MAX,
			storage: crate::engine::LoraStorage::F32,
		};
		let loaded = load_peft_adapter("attribution", adapter_dir, base, &limits)?;
		Ok(Self {
			lora: loaded.weights,
			adapter_hash: Hash::from(blake2_256(&weights)),
			indexes: AdapterIndexes::read(adapter_dir)?,
		})
	}

	/// The receipt of an inference that answered `prompt_tokens` with
	/// `output_tokens`, attributed by `method` with `model` (the base the
	/// adapter was trained on).
	pub fn attribute(
		&self,
		model: &Llama,
		method: Method,
		prompt_tokens: &[u32],
		output_tokens: &[u32],
	) -> Result<InferenceReceipt, ReceiptError> {
		let raw = self.raw_scores(model, method, prompt_tokens, output_tokens)?;
		let context = self.indexes.proof_context(method, self.adapter_hash);
		Ok(InferenceReceipt::new(
			Attribution::from_raw_scores(&context, &raw, MAX_SCORES),
			prompt_tokens,
			output_tokens,
		))
	}

	/// Recomputes `claimed` from its own tokens and method with this
	/// adapter and its indexes, and names every field that differs.
	pub fn verify(
		&self,
		model: &Llama,
		claimed: &InferenceReceipt,
	) -> Result<ReceiptCheck, ReceiptError> {
		let (prompt, output) = (&claimed.prompt_tokens, &claimed.output_tokens);
		let context = self
			.indexes
			.proof_context(claimed.method, self.adapter_hash);
		let honest_output_hash = output_hash(output);
		let verification = verify(
			&claimed.attribution(),
			&honest_output_hash,
			&context,
			MAX_SCORES,
			|_| self.raw_scores(model, claimed.method, prompt, output),
		)?;
		let expected = InferenceReceipt::new(verification.expected, prompt, output);
		let mut differing = Vec::new();
		if claimed.output_hash != honest_output_hash {
			differing.push(ReceiptField::OutputHash);
		}
		differing.extend(
			verification
				.mismatches
				.into_iter()
				.map(ReceiptField::Attribution),
		);
		if claimed.result_hash != expected.result_hash
			|| claimed.implied_result_hash() != expected.result_hash
		{
			differing.push(ReceiptField::ResultHash);
		}
		Ok(ReceiptCheck {
			expected,
			differing,
		})
	}

	/// An empty output (the model stopped at once) was influenced by
	/// nothing: it gets no scores rather than a gradient of no tokens.
	fn raw_scores(
		&self,
		model: &Llama,
		method: Method,
		prompt_tokens: &[u32],
		output_tokens: &[u32],
	) -> Result<BTreeMap<ContributionId, u128>, ReceiptError> {
		if output_tokens.is_empty() {
			return Ok(BTreeMap::new());
		}
		Ok(self
			.indexes
			.raw_scores(method, model, &self.lora, prompt_tokens, output_tokens)?)
	}
}

/// Greedy decoding with the adapter, up to `max_tokens` or an end-of-sequence
/// token (not included): the output that a receipt attributes, reproducible
/// by anyone with the same base model and adapter.
pub fn generate_greedily(
	model: &Llama,
	lora: &LoraWeights,
	tokenizer: &TextTokenizer,
	prompt: &[u32],
	max_tokens: usize,
) -> crate::engine::Result<Vec<u32>> {
	let mut cache = model.new_cache(prompt.len() + max_tokens);
	let mut feed = prompt.to_vec();
	let mut output = Vec::with_capacity(max_tokens);
	while output.len() < max_tokens {
		let mut rows = [BatchRow {
			tokens: &feed,
			cache: &mut cache,
			lora: Some(lora),
		}];
		let logits = model.forward(&mut rows)?.squeeze(0)?.to_vec1::<f32>()?;
		let next = argmax(&logits);
		if tokenizer.is_eos(next) {
			break;
		}
		output.push(next);
		feed = vec![next];
	}
	Ok(output)
}
