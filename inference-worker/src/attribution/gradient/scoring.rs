//! Scores of an output against the index, in integer arithmetic only.
//!
//! With `q_t` the output's quantized projected gradient and, per checkpoint
//! `c`, `η_c` (`lr_fp`) and `q_c` the example's, an example scores
//!
//! - `Σ_c η_c · ⟨q_t, q_c⟩` when `lambda_fp` is 0 (TracIn-CP), in units of
//!   2^-(32 + 2·frac_bits);
//! - `Σ_c η_c · ⌊(⟨q_t, q_c⟩ · 2^frac_bits) / (λ·2^frac_bits + ‖q_c‖²)⌉₀`
//!   otherwise, `λ = lambda_fp` (itself with `frac_bits` fractional bits, in
//!   squared-gradient units) and the division truncating toward zero, in
//!   units of 2^-(32 + frac_bits). This is DataInf's approximation of the
//!   damped inverse Hessian applied to the example's own gradient,
//!   `(g gᵀ + λI)⁻¹ g = g / (λ + ‖g‖²)`: examples with large gradients
//!   (high loss, often mislabelled) no longer dominate by size alone.
//!
//! Dot products are exact in `i128`; the products with `η_c` and the sums
//! saturate (far beyond what real gradients reach). Negative example scores
//! (examples that pushed away from the output) count as zero; the rest are
//! summed per contribution.

use std::collections::BTreeMap;

use openledger_primitives::ContributionId;

use super::index::lora_layout;
use super::{AttributionIndex, CheckpointGradient, GradientError, LoraGradients, Result};
use crate::engine::{Llama, LoraWeights};

impl AttributionIndex {
	/// Per-contribution positive influence of the training examples on
	/// `output` generated after `prompt` by `model` with `adapter` (the final
	/// adapter the index was built for).
	pub fn score(
		&self,
		model: &Llama,
		adapter: &LoraWeights,
		prompt: &[u32],
		output: &[u32],
		lambda_fp: u32,
	) -> Result<BTreeMap<ContributionId, u128>> {
		let query = self.query(model, adapter, prompt, output)?;
		self.score_query(&query, lambda_fp)
	}

	/// The quantized projected gradient of `output`'s loss given `prompt`.
	pub fn query(
		&self,
		model: &Llama,
		adapter: &LoraWeights,
		prompt: &[u32],
		output: &[u32],
	) -> Result<Vec<i32>> {
		if lora_layout(adapter) != self.layout() {
			return Err(GradientError::LayoutMismatch(
				"the adapter's LoRA pairs differ from the index's".into(),
			));
		}
		let gradient = LoraGradients::new(model, adapter)?.of_continuation(prompt, output)?;
		Ok(self.params().project_quantized(&gradient))
	}

	/// [`Self::score`] for a query already computed.
	pub fn score_query(
		&self,
		query: &[i32],
		lambda_fp: u32,
	) -> Result<BTreeMap<ContributionId, u128>> {
		let mut scores = BTreeMap::new();
		for (entry, score) in self
			.entries()
			.iter()
			.zip(self.example_scores(query, lambda_fp)?)
		{
			let Ok(positive) = u128::try_from(score) else {
				continue;
			};
			if positive > 0 {
				let total: &mut u128 = scores.entry(entry.contribution).or_default();
				*total = total.saturating_add(positive);
			}
		}
		Ok(scores)
	}

	/// Every example's signed score, in index order.
	pub fn example_scores(&self, query: &[i32], lambda_fp: u32) -> Result<Vec<i128>> {
		let params = self.params();
		if query.len() != params.dim as usize {
			return Err(GradientError::InvalidParams(format!(
				"query of dimension {}, index of {}",
				query.len(),
				params.dim
			)));
		}
		Ok(self
			.entries()
			.iter()
			.map(|entry| {
				entry.checkpoints.iter().fold(0i128, |total, checkpoint| {
					let term = checkpoint_term(query, checkpoint, params.frac_bits, lambda_fp);
					total.saturating_add(i128::from(checkpoint.lr_fp).saturating_mul(term))
				})
			})
			.collect())
	}
}

/// `⟨q_t, q_c⟩`, or its damped form when `lambda_fp > 0` (see the module docs).
fn checkpoint_term(
	query: &[i32],
	checkpoint: &CheckpointGradient,
	frac_bits: u8,
	lambda_fp: u32,
) -> i128 {
	let similarity = dot(query, &checkpoint.projected);
	if lambda_fp == 0 {
		return similarity;
	}
	let one = 1i128 << frac_bits;
	let damping = i128::from(lambda_fp) * one + dot(&checkpoint.projected, &checkpoint.projected);
	similarity.saturating_mul(one) / damping
}

/// Exact: each product fits `i64`, and `i128` holds 2^64 of them.
fn dot(a: &[i32], b: &[i32]) -> i128 {
	a.iter()
		.zip(b)
		.map(|(x, y)| i128::from(i64::from(*x) * i64::from(*y)))
		.sum()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn dot_products_are_exact_at_the_extremes() {
		let big = vec![i32::MIN; 4];
		assert_eq!(dot(&big, &big), 4 * (1i128 << 62));
	}

	#[test]
	fn damping_divides_by_the_examples_own_norm() {
		let checkpoint = CheckpointGradient {
			lr_fp: 1,
			projected: vec![3 << 8, 4 << 8],
		};
		let query = [1 << 8, 0];
		// frac_bits 8: g = (3, 4), q = (1, 0), ⟨q, g⟩ = 3, ‖g‖² = 25.
		assert_eq!(checkpoint_term(&query, &checkpoint, 8, 0), 3 << 16);
		// λ = 0 + ε: 3/25 = 0.12 → 30/256.
		assert_eq!(checkpoint_term(&query, &checkpoint, 8, 1), 30);
		// λ = 25: 3/50 → 15/256.
		assert_eq!(checkpoint_term(&query, &checkpoint, 8, 25 << 8), 15);
	}
}
