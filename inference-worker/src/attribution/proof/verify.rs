//! Checking a claimed attribution by recomputing it.

use std::collections::BTreeMap;

use openledger_primitives::{attribution::scores_root, ContributionId, Hash};

use super::{Attribution, ProofContext};

/// A field in which a claimed attribution differs from the recomputed one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mismatch {
	/// The receipt's method is not the one the verifier recomputed.
	Method,
	/// The proof commitment's method differs from the receipt's own method.
	ProofMethod,
	/// The proof names another adapter than the one the verifier holds.
	AdapterHash,
	/// The proof names another attribution index than the verifier's.
	AttributionIndexRoot,
	/// Another projection seed.
	ProjectionSeed,
	/// Another damping term.
	LambdaFp,
	/// Another fixed-point format.
	FixedPointFracBits,
	/// Different contributions or parts per million.
	Scores,
	/// The proof's scores root is not the root of the recomputed scores.
	ScoresRoot,
}

/// The outcome of [`verify`]: the honest attribution and how a claimed one
/// departs from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
	/// The attribution the verifier recomputed.
	pub expected: Attribution,
	/// Its result hash: what a challenger claims on chain.
	pub expected_result_hash: Hash,
	/// The claimed attribution's result hash.
	pub claimed_result_hash: Hash,
	/// Every field that differs, in [`Mismatch`] order; empty when the claim
	/// is honest.
	pub mismatches: Vec<Mismatch>,
}

impl Verification {
	/// Whether the claim recomputes exactly.
	pub fn matches(&self) -> bool {
		self.mismatches.is_empty() && self.expected_result_hash == self.claimed_result_hash
	}
}

/// Recomputes the attribution of the inference whose output hashes to
/// `output_hash` and compares it with `claimed`.
///
/// `expected` is the context the verifier trusts: the adapter and index it
/// holds for the model, the method and that method's parameters. `recompute`
/// produces the raw per-contribution scores of `expected.method` in that
/// context (the span index or the gradient index, run on the same prompt and
/// output); its error is returned as is. At most `max_scores` scores are
/// kept, as the worker must have done. The output itself is the caller's to
/// check: the tokens `recompute` attributes must be the ones that hash to
/// `output_hash`.
pub fn verify<E>(
	claimed: &Attribution,
	output_hash: &Hash,
	expected: &ProofContext,
	max_scores: usize,
	recompute: impl FnOnce(&ProofContext) -> Result<BTreeMap<ContributionId, u128>, E>,
) -> Result<Verification, E> {
	let raw = recompute(expected)?;
	let honest = Attribution::from_raw_scores(expected, &raw, max_scores);
	Ok(Verification {
		mismatches: mismatches(claimed, &honest),
		expected_result_hash: honest.result_hash(output_hash),
		claimed_result_hash: claimed.result_hash(output_hash),
		expected: honest,
	})
}

/// The fields in which `claimed` departs from `honest`.
fn mismatches(claimed: &Attribution, honest: &Attribution) -> Vec<Mismatch> {
	let (claim, truth) = (&claimed.proof, &honest.proof);
	[
		(claimed.method != honest.method, Mismatch::Method),
		(claim.method != claimed.method, Mismatch::ProofMethod),
		(
			claim.adapter_hash != truth.adapter_hash,
			Mismatch::AdapterHash,
		),
		(
			claim.attribution_index_root != truth.attribution_index_root,
			Mismatch::AttributionIndexRoot,
		),
		(
			claim.projection_seed != truth.projection_seed,
			Mismatch::ProjectionSeed,
		),
		(claim.lambda_fp != truth.lambda_fp, Mismatch::LambdaFp),
		(
			claim.fixed_point_frac_bits != truth.fixed_point_frac_bits,
			Mismatch::FixedPointFracBits,
		),
		(claimed.scores != honest.scores, Mismatch::Scores),
		(
			claim.scores_root != scores_root(&honest.scores),
			Mismatch::ScoresRoot,
		),
	]
	.into_iter()
	.filter_map(|(differs, field)| differs.then_some(field))
	.collect()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::attribution::proof::MethodParams;
	use openledger_primitives::Method;

	fn context() -> ProofContext {
		ProofContext {
			adapter_hash: Hash::repeat_byte(1),
			attribution_index_root: Hash::repeat_byte(2),
			method: Method::Span,
			params: MethodParams {
				projection_seed: 0,
				lambda_fp: 0,
				fixed_point_frac_bits: 32,
			},
		}
	}

	fn raw() -> BTreeMap<ContributionId, u128> {
		[(1, 30u128), (4, 70)]
			.into_iter()
			.map(|(id, score)| (ContributionId(id), score))
			.collect()
	}

	fn check(claimed: &Attribution) -> Verification {
		verify(claimed, &Hash::repeat_byte(9), &context(), 32, |_| {
			Ok::<_, std::convert::Infallible>(raw())
		})
		.unwrap()
	}

	#[test]
	fn an_honest_claim_matches() {
		let honest = Attribution::from_raw_scores(&context(), &raw(), 32);
		let verification = check(&honest);
		assert!(verification.matches(), "{:?}", verification.mismatches);
		assert_eq!(verification.expected, honest);
	}

	#[test]
	fn a_changed_score_with_a_consistent_root_is_caught() {
		let mut claimed = Attribution::from_raw_scores(&context(), &raw(), 32);
		claimed.scores[0].1 += 1;
		claimed.proof.scores_root = scores_root(&claimed.scores);
		let verification = check(&claimed);
		assert!(!verification.matches());
		assert_eq!(
			verification.mismatches,
			vec![Mismatch::Scores, Mismatch::ScoresRoot]
		);
		assert_ne!(
			verification.expected_result_hash,
			verification.claimed_result_hash
		);
	}

	#[test]
	fn each_proof_field_is_named() {
		let honest = Attribution::from_raw_scores(&context(), &raw(), 32);
		let mut seed = honest.clone();
		seed.proof.projection_seed = 5;
		assert_eq!(check(&seed).mismatches, vec![Mismatch::ProjectionSeed]);
		let mut root = honest.clone();
		root.proof.attribution_index_root = Hash::repeat_byte(3);
		assert_eq!(
			check(&root).mismatches,
			vec![Mismatch::AttributionIndexRoot]
		);
		let mut method = honest.clone();
		method.method = Method::Gradient;
		assert_eq!(
			check(&method).mismatches,
			vec![Mismatch::Method, Mismatch::ProofMethod]
		);
	}
}
