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

/// Independent running sums in [`dot`], so that the compiler vectorizes it.
const DOT_LANES: usize = 8;

/// `Σ aᵢ·bᵢ`, exact. Each product fits `i64`; the sum is taken twice, in
/// `i64` with wrap-around (exact modulo 2^64) and in `f64` (off by far less
/// than 2^63 for any dimension the index allows), and the `f64` sum tells
/// how many times the exact sum wrapped. Both run in `DOT_LANES` lanes that
/// vector instructions compute together.
fn dot(a: &[i32], b: &[i32]) -> i128 {
	let mut wrapped = [0i64; DOT_LANES];
	let mut approximate = [0f64; DOT_LANES];
	let (a_groups, a_rest) = a.as_chunks::<DOT_LANES>();
	let (b_groups, b_rest) = b.as_chunks::<DOT_LANES>();
	for (x, y) in a_groups.iter().zip(b_groups) {
		for lane in 0..DOT_LANES {
			let product = i64::from(x[lane]) * i64::from(y[lane]);
			wrapped[lane] = wrapped[lane].wrapping_add(product);
			approximate[lane] += product as f64;
		}
	}
	for ((x, y), lane) in a_rest.iter().zip(b_rest).zip(0..) {
		let product = i64::from(*x) * i64::from(*y);
		wrapped[lane] = wrapped[lane].wrapping_add(product);
		approximate[lane] += product as f64;
	}
	let wrapped = wrapped
		.iter()
		.fold(0i64, |sum, lane| sum.wrapping_add(*lane));
	let approximate: f64 = approximate.iter().sum();
	let wraps = ((approximate - wrapped as f64) / 2f64.powi(64)).round() as i128;
	i128::from(wrapped) + (wraps << 64)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn dot_products_are_exact_at_the_extremes() {
		let big = vec![i32::MIN; 4];
		assert_eq!(dot(&big, &big), 4 * (1i128 << 62));
		// Sums that wrap `i64` many times, both ways, with a small remainder.
		for n in [1, 7, 8, 9, 256, 1000] {
			let mut a = vec![i32::MAX; n];
			let b = vec![i32::MIN; n];
			a[0] = 3;
			let exact: i128 = a
				.iter()
				.zip(&b)
				.map(|(x, y)| i128::from(*x) * i128::from(*y))
				.sum();
			assert_eq!(dot(&a, &b), exact, "{n}");
			assert_eq!(
				dot(&a, &a),
				a.iter().map(|x| i128::from(*x).pow(2)).sum::<i128>()
			);
		}
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
