//! The random projection of a flattened LoRA gradient to `dim` numbers, and
//! their fixed-point form.
//!
//! The projection matrix `P` (`dim × N`) has entries `±1/√dim`. Nothing of it
//! is stored: the sign of `P[r][j]` is bit `j mod 64` of
//! [`sign_word`]`(seed, r, j / 64)` (a set bit means minus), so a worker, a
//! verifier or a test anywhere regenerates the same matrix from the seed.
//!
//! Row `r` of the projection is summed in a fixed order: eight running f64
//! sums, sum `l` taking the terms `j ≡ l (mod 8)` in increasing `j`, then
//! added as `((0 + s₀) + s₁) + … + s₇` and divided by `√dim`. Rows are
//! independent, so computing them on any number of threads gives the same
//! bits.
//!
//! A projected value `p` becomes the integer `round(p · 2^frac_bits)`
//! (halves away from zero), saturated to the `i32` range.

use codec::{Decode, Encode};
use rayon::prelude::*;

use super::{GradientError, Result};

/// Most fractional bits of the fixed-point format: leaves at least one
/// integer bit and keeps scores (see [`super::AttributionIndex::score`])
/// far from the `i128` range.
pub const MAX_FRAC_BITS: u8 = 30;

/// Most output dimensions of a projection.
pub const MAX_DIM: u32 = 1 << 16;

/// Inputs covered by one [`sign_word`].
const SIGNS_PER_WORD: usize = 64;

/// Independent running sums per row (lets the compiler vectorize the row).
const LANES: usize = 8;

/// What fixes a projection and its fixed-point format. The seed and
/// `frac_bits` go into the receipt's proof commitment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct ProjectionParams {
	/// Seed of the random signs.
	pub seed: u64,
	/// Output dimension `D`.
	pub dim: u32,
	/// Fractional bits of the quantized projections.
	pub frac_bits: u8,
}

impl ProjectionParams {
	/// Checks `dim` and `frac_bits` are within what the index supports.
	pub fn validate(&self) -> Result<()> {
		if self.dim == 0 || self.dim > MAX_DIM {
			return Err(GradientError::InvalidParams(format!(
				"dimension {} outside 1..={MAX_DIM}",
				self.dim
			)));
		}
		if self.frac_bits > MAX_FRAC_BITS {
			return Err(GradientError::InvalidParams(format!(
				"{} fractional bits, at most {MAX_FRAC_BITS}",
				self.frac_bits
			)));
		}
		Ok(())
	}

	/// `P·gradient`, `dim` values.
	pub fn project(&self, gradient: &[f32]) -> Vec<f64> {
		let scale = f64::from(self.dim).sqrt();
		// Widened once rather than once per row.
		let gradient: Vec<f64> = gradient.iter().map(|&g| f64::from(g)).collect();
		(0..self.dim)
			.into_par_iter()
			.map(|row| project_row(self.seed, row, &gradient) / scale)
			.collect()
	}

	/// `round(p · 2^frac_bits)` for each value, saturated to `i32`.
	pub fn quantize(&self, projected: &[f64]) -> Vec<i32> {
		let one = f64::from(1u32 << self.frac_bits);
		// `as` saturates at the i32 bounds; the inputs are finite.
		projected.iter().map(|p| (p * one).round() as i32).collect()
	}

	/// The quantized projection of `gradient`.
	pub fn project_quantized(&self, gradient: &[f32]) -> Vec<i32> {
		self.quantize(&self.project(gradient))
	}
}

/// The SplitMix64 finalizer: a bijection of `u64` whose output bits all
/// depend on every input bit.
fn mix(mut z: u64) -> u64 {
	z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
	z ^ (z >> 31)
}

/// SplitMix64's increment, the golden ratio in 64 bits.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The signs of `P[row][64·block .. 64·block + 64]`, bit `b` for input
/// `64·block + b` (set = minus):
/// `mix(mix(seed + γ·(row + 1)) + γ·(block + 1))` with wrapping arithmetic,
/// `γ` = `0x9E3779B97F4A7C15` and `mix` SplitMix64's finalizer.
pub fn sign_word(seed: u64, row: u32, block: u64) -> u64 {
	let row_key = mix(seed.wrapping_add(GOLDEN_GAMMA.wrapping_mul(u64::from(row) + 1)));
	mix(row_key.wrapping_add(GOLDEN_GAMMA.wrapping_mul(block.wrapping_add(1))))
}

/// `Σⱼ ±gradient[j]` with row `row`'s signs, unscaled, in the documented order.
fn project_row(seed: u64, row: u32, gradient: &[f64]) -> f64 {
	let mut lanes = [0f64; LANES];
	for (block, inputs) in gradient.chunks(SIGNS_PER_WORD).enumerate() {
		let signs = sign_word(seed, row, block as u64);
		let (groups, rest) = inputs.as_chunks::<LANES>();
		for (group, values) in groups.iter().enumerate() {
			add_signed_group(&mut lanes, values, signs >> (group * LANES));
		}
		let shift = groups.len() * LANES;
		for ((acc, &value), lane) in lanes.iter_mut().zip(rest).zip(0..) {
			*acc += signed(value, signs >> shift >> lane);
		}
	}
	lanes.iter().fold(0.0, |sum, lane| sum + lane)
}

/// `lanes[l] += ±values[l]` for one full group of [`LANES`] inputs, the
/// sign of lane `l` in bit `l` of `signs`. A fixed-width loop the compiler
/// turns into vector instructions; each lane still adds in input order.
#[inline(always)]
fn add_signed_group(lanes: &mut [f64; LANES], values: &[f64; LANES], signs: u64) {
	for ((acc, &value), lane) in lanes.iter_mut().zip(values).zip(0..) {
		*acc += signed(value, signs >> lane);
	}
}

/// `value`, negated when bit 0 of `sign` is set (flipping the sign bit,
/// exactly as negation does).
#[inline(always)]
fn signed(value: f64, sign: u64) -> f64 {
	f64::from_bits(value.to_bits() ^ ((sign & 1) << 63))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn params(dim: u32) -> ProjectionParams {
		ProjectionParams {
			seed: 7,
			dim,
			frac_bits: 16,
		}
	}

	#[test]
	fn signs_are_balanced_and_depend_on_every_key() {
		let ones: u32 = (0..1000).map(|b| sign_word(1, 0, b).count_ones()).sum();
		let fraction = f64::from(ones) / 64_000.0;
		assert!((fraction - 0.5).abs() < 0.01, "{fraction}");
		assert_ne!(sign_word(1, 0, 0), sign_word(2, 0, 0));
		assert_ne!(sign_word(1, 0, 0), sign_word(1, 1, 0));
		assert_ne!(sign_word(1, 0, 0), sign_word(1, 0, 1));
	}

	#[test]
	fn projection_matches_the_matrix_it_describes() {
		let gradient: Vec<f32> = (0..150).map(|j| (j as f32 * 0.37).sin()).collect();
		let p = params(5);
		for (row, value) in p.project(&gradient).into_iter().enumerate() {
			let expected: f64 = gradient
				.iter()
				.enumerate()
				.map(|(j, &g)| {
					let minus = (sign_word(p.seed, row as u32, (j / 64) as u64) >> (j % 64)) & 1;
					if minus == 1 {
						-f64::from(g)
					} else {
						f64::from(g)
					}
				})
				.sum::<f64>()
				/ 5f64.sqrt();
			assert!((value - expected).abs() < 1e-12, "row {row}");
		}
	}

	#[test]
	fn projection_roughly_preserves_inner_products() {
		let n = 4000;
		let a: Vec<f32> = (0..n)
			.map(|j| ((j * 7919) % 101) as f32 / 50.0 - 1.0)
			.collect();
		let b: Vec<f32> = a
			.iter()
			.enumerate()
			.map(|(j, &x)| x + ((j % 13) as f32 / 13.0))
			.collect();
		let exact: f64 = a
			.iter()
			.zip(&b)
			.map(|(x, y)| f64::from(*x) * f64::from(*y))
			.sum();
		let p = params(512);
		let (pa, pb) = (p.project(&a), p.project(&b));
		let projected: f64 = pa.iter().zip(&pb).map(|(x, y)| x * y).sum();
		assert!(
			(projected - exact).abs() < 0.15 * exact.abs(),
			"{projected} vs {exact}"
		);
	}

	#[test]
	fn quantization_rounds_and_saturates() {
		let p = params(1);
		assert_eq!(
			p.quantize(&[0.5 / 65536.0, -1.5 / 65536.0, 1.0, 1e12, -1e12]),
			vec![1, -2, 65536, i32::MAX, i32::MIN]
		);
	}

	#[test]
	fn invalid_parameters_are_refused() {
		assert!(params(0).validate().is_err());
		assert!(params(MAX_DIM + 1).validate().is_err());
		let too_fine = ProjectionParams {
			frac_bits: MAX_FRAC_BITS + 1,
			..params(4)
		};
		assert!(too_fine.validate().is_err());
		assert!(params(256).validate().is_ok());
	}
}
