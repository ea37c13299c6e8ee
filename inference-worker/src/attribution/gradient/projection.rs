//! The random projection of a flattened LoRA gradient to `dim` numbers, and
//! their fixed-point form.
//!
//! The projection matrix `P` (`dim × N`) is a sparse sign matrix (a sparse
//! Johnson–Lindenstrauss transform, as in CountSketch): every input `j` has
//! [`COPIES`] nonzero entries `±1/√COPIES` in its column, at rows drawn from
//! the seed, so projecting costs `COPIES` additions per input instead of
//! `dim`. Inner products are preserved in expectation, as with a dense sign
//! matrix. Nothing of `P` is stored: input `j`'s copies `2p` and `2p + 1` come
//! from the two 32-bit halves (low half first) of [`sketch_word`]`(seed, p,
//! j)`; a half `h` adds the input to row `((h >> 1) · dim) >> 31`, negated
//! when bit 0 of `h` is set. Two copies may land on the same row; both are
//! added.
//!
//! The sums are f64, taken in a fixed order: inputs in increasing `j`, each
//! input's copies in increasing order; each row is then divided by
//! `√COPIES`. A worker, a verifier or a test anywhere gets the same bits.
//!
//! A projected value `p` becomes the integer `round(p · 2^frac_bits)`
//! (halves away from zero), saturated to the `i32` range.

use codec::{Decode, Encode};

use super::{GradientError, Result};

/// Most fractional bits of the fixed-point format: leaves at least one
/// integer bit and keeps scores (see [`super::AttributionIndex::score`])
/// far from the `i128` range.
pub const MAX_FRAC_BITS: u8 = 30;

/// Most output dimensions of a projection.
pub const MAX_DIM: u32 = 1 << 16;

/// Nonzero entries in each column of the projection matrix.
pub const COPIES: usize = 8;

/// Copies drawn from one [`sketch_word`]: one per 32-bit half.
const COPIES_PER_WORD: usize = 2;

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
		let dim = u64::from(self.dim);
		let keys: [u64; COPIES / COPIES_PER_WORD] =
			std::array::from_fn(|pair| pair_key(self.seed, pair));
		let mut rows = vec![0f64; self.dim as usize];
		for (input, &value) in gradient.iter().enumerate() {
			let value = f64::from(value);
			for key in keys {
				let word = sketch_word_from_key(key, input as u64);
				for half in [word as u32, (word >> 32) as u32] {
					let row = ((u64::from(half >> 1) * dim) >> 31) as usize;
					// Bit 0 set: minus. Flipping the sign bit is exact negation.
					let signed = f64::from_bits(value.to_bits() ^ (u64::from(half & 1) << 63));
					if let Some(sum) = rows.get_mut(row) {
						*sum += signed;
					}
				}
			}
		}
		let scale = (COPIES as f64).sqrt();
		rows.iter_mut().for_each(|sum| *sum /= scale);
		rows
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

/// The word that places copies `2·pair` and `2·pair + 1` of input `input`
/// (see the module docs):
/// `mix(mix(seed + γ·(pair + 1)) + γ·(input + 1))` with wrapping arithmetic,
/// `γ` = `0x9E3779B97F4A7C15` and `mix` SplitMix64's finalizer.
pub fn sketch_word(seed: u64, pair: usize, input: u64) -> u64 {
	sketch_word_from_key(pair_key(seed, pair), input)
}

fn pair_key(seed: u64, pair: usize) -> u64 {
	mix(seed.wrapping_add(GOLDEN_GAMMA.wrapping_mul(pair as u64 + 1)))
}

fn sketch_word_from_key(key: u64, input: u64) -> u64 {
	mix(key.wrapping_add(GOLDEN_GAMMA.wrapping_mul(input.wrapping_add(1))))
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
	fn words_are_balanced_and_depend_on_every_key() {
		let ones: u32 = (0..1000).map(|j| sketch_word(1, 0, j).count_ones()).sum();
		let fraction = f64::from(ones) / 64_000.0;
		assert!((fraction - 0.5).abs() < 0.01, "{fraction}");
		assert_ne!(sketch_word(1, 0, 0), sketch_word(2, 0, 0));
		assert_ne!(sketch_word(1, 0, 0), sketch_word(1, 1, 0));
		assert_ne!(sketch_word(1, 0, 0), sketch_word(1, 0, 1));
	}

	/// `P` written out as the module docs describe it, entry by entry.
	// Entries are placed by (row, input), with the row computed per input.
	#[allow(clippy::needless_range_loop)]
	fn dense_matrix(p: &ProjectionParams, inputs: usize) -> Vec<Vec<f64>> {
		let mut matrix = vec![vec![0f64; inputs]; p.dim as usize];
		let entry = 1.0 / (COPIES as f64).sqrt();
		for j in 0..inputs {
			for copy in 0..COPIES {
				let word = sketch_word(p.seed, copy / 2, j as u64);
				let half = if copy % 2 == 0 {
					word as u32
				} else {
					(word >> 32) as u32
				};
				let row = ((u64::from(half >> 1) * u64::from(p.dim)) >> 31) as usize;
				matrix[row][j] += if half & 1 == 1 { -entry } else { entry };
			}
		}
		matrix
	}

	#[test]
	fn projection_matches_the_matrix_it_describes() {
		let gradient: Vec<f32> = (0..150).map(|j| (j as f32 * 0.37).sin()).collect();
		let p = params(5);
		let matrix = dense_matrix(&p, gradient.len());
		for (row, value) in p.project(&gradient).into_iter().enumerate() {
			let expected: f64 = matrix[row]
				.iter()
				.zip(&gradient)
				.map(|(m, &g)| m * f64::from(g))
				.sum();
			assert!((value - expected).abs() < 1e-12, "row {row}");
		}
		let nonzero_per_column = (0..gradient.len())
			.map(|j| matrix.iter().filter(|row| row[j] != 0.0).count())
			.max();
		assert!(nonzero_per_column <= Some(COPIES));
	}

	#[test]
	fn every_row_is_used() {
		let matrix = dense_matrix(&params(256), 4096);
		assert!(matrix
			.iter()
			.all(|row| row.iter().any(|entry| *entry != 0.0)));
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
