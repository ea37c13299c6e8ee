//! # Receipt attribution and its proof
//!
//! The scores and [`ProofCommitment`] a worker puts in a receipt, computed
//! exactly as `openledger_primitives::attribution` lays them out, and the
//! check a verifier or challenger runs on someone else's receipt.
//!
//! ## Overview
//!
//! Both attribution methods end in raw, non-negative integer scores per
//! contribution (`BTreeMap<ContributionId, u128>`). [`scores_to_ppm`] turns
//! them into the receipt's parts per million; an [`Attribution`] binds those
//! scores to what they were computed against (a [`ProofContext`]: adapter
//! hash, attribution index root, method and its [`MethodParams`]) and yields
//! the [`ProofCommitment`] and the result hash that the chain compares.
//!
//! [`verify`] is the re-execution path: given the context the verifier
//! trusts and a closure that recomputes the raw scores of a method, it
//! rebuilds the attribution and lists every field in which a claimed one
//! differs ([`Mismatch`]). Because both methods are integer-exact after their
//! inputs are fixed, an honest recomputation reproduces the same bytes.

mod ppm;
mod verify;

use std::collections::BTreeMap;

use openledger_primitives::{
	attribution::{result_hash, scores_root},
	ContributionId, Hash, Method, ProofCommitment,
};

pub use ppm::scores_to_ppm;
pub use verify::{verify, Mismatch, Verification};

/// A method's parameters, as the proof commitment records them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MethodParams {
	/// Seed of the random projection (Gradient); 0 when unused.
	pub projection_seed: u64,
	/// Damping `λ` in fixed point with `fixed_point_frac_bits` fractional
	/// bits; 0 when unused.
	pub lambda_fp: u32,
	/// Fractional bits of the fixed-point format the raw scores are in.
	pub fixed_point_frac_bits: u8,
}

/// What an attribution is computed against: everything in the
/// [`ProofCommitment`] except the scores root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofContext {
	/// BLAKE2b-256 of the adapter weights file that served the inference.
	pub adapter_hash: Hash,
	/// Root of the attribution index of that adapter.
	pub attribution_index_root: Hash,
	/// Which method measured influence.
	pub method: Method,
	/// That method's parameters.
	pub params: MethodParams,
}

impl ProofContext {
	/// The proof commitment of `scores` computed in this context.
	pub fn commitment(&self, scores: &[(ContributionId, u32)]) -> ProofCommitment {
		ProofCommitment {
			adapter_hash: self.adapter_hash,
			attribution_index_root: self.attribution_index_root,
			method: self.method,
			projection_seed: self.params.projection_seed,
			lambda_fp: self.params.lambda_fp,
			fixed_point_frac_bits: self.params.fixed_point_frac_bits,
			scores_root: scores_root(scores),
		}
	}
}

/// A receipt's attribution: the method, the scores in parts per million and
/// the proof commitment, as `submit_receipt` takes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
	/// How influence was measured; equal to `proof.method`.
	pub method: Method,
	/// `(contribution, ppm)` by strictly increasing contribution, each at
	/// least 1, summing to at most `SCORE_PPM_WHOLE`.
	pub scores: Vec<(ContributionId, u32)>,
	/// What the scores are bound to.
	pub proof: ProofCommitment,
}

impl Attribution {
	/// The attribution of receipt-ready `scores` (see [`scores_to_ppm`])
	/// computed in `context`.
	pub fn new(context: &ProofContext, scores: Vec<(ContributionId, u32)>) -> Self {
		Self {
			method: context.method,
			proof: context.commitment(&scores),
			scores,
		}
	}

	/// The attribution of raw per-contribution scores computed in `context`,
	/// keeping at most `max_scores` of them (the runtime's `MaxScores`).
	pub fn from_raw_scores(
		context: &ProofContext,
		raw: &BTreeMap<ContributionId, u128>,
		max_scores: usize,
	) -> Self {
		Self::new(context, scores_to_ppm(raw, max_scores))
	}

	/// The context this attribution claims to be computed in.
	pub fn context(&self) -> ProofContext {
		ProofContext {
			adapter_hash: self.proof.adapter_hash,
			attribution_index_root: self.proof.attribution_index_root,
			method: self.proof.method,
			params: MethodParams {
				projection_seed: self.proof.projection_seed,
				lambda_fp: self.proof.lambda_fp,
				fixed_point_frac_bits: self.proof.fixed_point_frac_bits,
			},
		}
	}

	/// The result hash of the inference whose output hashes to
	/// `output_hash`, as the receipt records it and challengers claim it.
	pub fn result_hash(&self, output_hash: &Hash) -> Hash {
		result_hash(output_hash, self.method, &self.scores, &self.proof)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hex(bytes: &[u8]) -> String {
		bytes.iter().map(|byte| format!("{byte:02x}")).collect()
	}

	/// The context of the fixed vectors in `primitives/src/attribution.rs`.
	fn primitives_vector_context() -> ProofContext {
		ProofContext {
			adapter_hash: Hash::repeat_byte(0xaa),
			attribution_index_root: Hash::repeat_byte(0xbb),
			method: Method::Span,
			params: MethodParams {
				projection_seed: 42,
				lambda_fp: 0x0001_0000,
				fixed_point_frac_bits: 16,
			},
		}
	}

	#[test]
	fn matches_the_primitives_fixed_vectors() {
		let attribution = Attribution::new(
			&primitives_vector_context(),
			vec![(ContributionId(1), 600_000), (ContributionId(7), 400_000)],
		);
		assert_eq!(
			hex(attribution.proof.scores_root.as_bytes()),
			"9241c01a8e2add8645442a65ba908f7309e01bb1194875d417cb18deed26aa89"
		);
		assert_eq!(
			hex(attribution.result_hash(&Hash::repeat_byte(0x11)).as_bytes()),
			"c8506008843b3288e537951e99f55e4e134032714ec775d3a228968e5244a23d"
		);
	}

	#[test]
	fn empty_scores_match_the_primitives_fixed_vector() {
		let context = ProofContext {
			method: Method::Gradient,
			params: MethodParams {
				projection_seed: 7,
				lambda_fp: 0x4000,
				fixed_point_frac_bits: 16,
			},
			..primitives_vector_context()
		};
		let attribution = Attribution::from_raw_scores(&context, &BTreeMap::new(), 32);
		assert!(attribution.scores.is_empty());
		assert_eq!(attribution.proof.scores_root, Hash::zero());
		assert_eq!(
			hex(attribution.result_hash(&Hash::repeat_byte(0x22)).as_bytes()),
			"8806c09011c3d64d0c5b10dbde580d332616272e7f872e7a93c7c450e07f2690"
		);
	}

	#[test]
	fn commitment_and_result_hash_are_the_primitives_functions() {
		let raw: BTreeMap<ContributionId, u128> = [(3, 5u128), (1, 2), (8, 0), (2, 9)]
			.into_iter()
			.map(|(id, score)| (ContributionId(id), score))
			.collect();
		let context = primitives_vector_context();
		let attribution = Attribution::from_raw_scores(&context, &raw, 32);
		assert_eq!(
			attribution.proof.scores_root,
			scores_root(&attribution.scores)
		);
		assert_eq!(attribution.proof.method, attribution.method);
		let output = Hash::repeat_byte(0x33);
		assert_eq!(
			attribution.result_hash(&output),
			result_hash(
				&output,
				Method::Span,
				&attribution.scores,
				&attribution.proof
			)
		);
		assert_eq!(attribution.context(), context);
	}
}
