//! The candle op that multiplies f32 activations by a weight matrix held in
//! one of the CPU's packed formats ([`super::int8::Int8Matrix`],
//! [`super::int4::Int4Matrix`]): `x·Wᵀ`, `x` `[.., cols]` → `[.., rows]`.
//! Its backward pass, `dy·W`, is the format's own (so gradients flow through
//! a frozen packed base): the 4-bit format multiplies its packed blocks
//! into the gradient directly, the 8-bit one by its dequantized matrix.

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::simd::{simd_level, SimdLevel};

/// Weights per block in both packed formats (blocks run along a row).
pub(crate) const BLOCK: usize = 32;

/// Gradient rows whose sums one pass down the weight rows keeps in
/// registers, in [`input_gradient`]: two 16-lane registers each, 24 of
/// AVX-512's 32.
pub(crate) const GRADIENT_TILE: usize = 12;

/// A weight matrix in a packed format with its own `x·Wᵀ` kernel.
pub(crate) trait PackedMatrix: std::fmt::Debug + Send + Sync + 'static {
	/// The op's name in candle's graph and in error messages.
	const OP_NAME: &'static str;
	fn rows(&self) -> usize;
	fn cols(&self) -> usize;
	/// `x·Wᵀ` for `m` rows of `cols` activations.
	fn matmul_t(&self, x: &[f32], m: usize) -> Vec<f32>;
	/// Block `index` of the row-major `[rows, cols / BLOCK]` blocks in f32,
	/// with the same arithmetic as [`Self::decode_block_avx512`].
	fn decode_block(&self, index: usize, out: &mut [f32; BLOCK]);
	/// Block `index` in two 16-lane registers (elements 0–15, 16–31).
	///
	/// # Safety
	/// The CPU must support AVX-512F and F16C; `index` must be a block of
	/// the matrix.
	#[cfg(target_arch = "x86_64")]
	unsafe fn decode_block_avx512(&self, index: usize) -> [std::arch::x86_64::__m512; 2];
}

/// `dy·W` for `dy` `[m, rows]` (row-major), as `[m, cols]`: the gradient
/// that reaches `x` through `x·Wᵀ`. Tasks take one block of 32 columns each
/// and run down every weight row, decoding each weight block once per
/// [`GRADIENT_TILE`] gradient rows, never the whole matrix; each output sums
/// its terms in row order, whatever the number of threads.
pub(crate) fn input_gradient<M: PackedMatrix>(weight: &M, dy: &[f32], m: usize) -> Vec<f32> {
	let (n, k) = (weight.rows(), weight.cols());
	// Per tile of GRADIENT_TILE gradient rows, their transpose: a pass down
	// the weight rows reads it in order.
	let tiles = m.div_ceil(GRADIENT_TILE);
	let mut transposed = vec![0f32; tiles * n * GRADIENT_TILE];
	for (t, dy_row) in dy.chunks_exact(n).take(m).enumerate() {
		let (tile, lane) = (t / GRADIENT_TILE, t % GRADIENT_TILE);
		for (r, g) in dy_row.iter().enumerate() {
			if let Some(slot) = transposed.get_mut((tile * n + r) * GRADIENT_TILE + lane) {
				*slot = *g;
			}
		}
	}
	let column_blocks: Vec<Vec<f32>> = (0..k / BLOCK)
		.into_par_iter()
		.map(|block| {
			let mut sums = vec![0f32; m * BLOCK];
			for (out, tile) in sums
				.chunks_mut(GRADIENT_TILE * BLOCK)
				.zip(transposed.chunks_exact(n * GRADIENT_TILE))
			{
				gradient_tile(weight, tile, block, out);
			}
			sums
		})
		.collect();
	let mut dx = vec![0f32; m * k];
	for (block, sums) in column_blocks.iter().enumerate() {
		for (dx_row, sum) in dx.chunks_exact_mut(k).zip(sums.chunks_exact(BLOCK)) {
			dx_row[block * BLOCK..(block + 1) * BLOCK].copy_from_slice(sum);
		}
	}
	dx
}

/// Columns `[BLOCK·block ..][..BLOCK]` of `dy·W` for up to
/// [`GRADIENT_TILE`] gradient rows, `[out.len() / BLOCK, BLOCK]`, from their
/// transpose `tile` (`[rows, GRADIENT_TILE]`, unused columns zero), summing
/// over the weight rows in increasing order, in the widest instruction set
/// the CPU has. Every level decodes and multiply-adds (fused) the same terms
/// in the same order, so all give the same bits.
fn gradient_tile<M: PackedMatrix>(weight: &M, tile: &[f32], block: usize, out: &mut [f32]) {
	let rows = out.len() / BLOCK;
	assert!(
		block < weight.cols() / BLOCK
			&& (1..=GRADIENT_TILE).contains(&rows)
			&& tile.len() >= weight.rows() * GRADIENT_TILE
	);
	#[cfg(target_arch = "x86_64")]
	match simd_level() {
		SimdLevel::Avx512 => {
			macro_rules! dispatch {
				($($t:literal),*) => {
					match rows {
						// SAFETY (every arm): the CPU has AVX-512F and F16C;
						// the slices hold what the kernel reads (asserted).
						$($t => unsafe { x86::gradient_avx512::<M, $t>(weight, tile.as_ptr(), block, out.as_mut_ptr()) },)*
						_ => {},
					}
				};
			}
			dispatch!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
			return;
		},
		// SAFETY: the CPU has AVX2, FMA and F16C.
		SimdLevel::Avx2 => return unsafe { x86::gradient_fma(weight, tile, block, out) },
		SimdLevel::Baseline => {},
	}
	gradient_rows(weight, tile, block, out);
}

/// [`gradient_tile`] in plain Rust (`mul_add` is a fused multiply-add).
#[inline(always)]
pub(crate) fn gradient_rows<M: PackedMatrix>(
	weight: &M,
	tile: &[f32],
	block: usize,
	out: &mut [f32],
) {
	let blocks = weight.cols() / BLOCK;
	let mut decoded = [0f32; BLOCK];
	for (row, gradients) in tile
		.chunks_exact(GRADIENT_TILE)
		.take(weight.rows())
		.enumerate()
	{
		weight.decode_block(row * blocks + block, &mut decoded);
		for (sum, g) in out.chunks_exact_mut(BLOCK).zip(gradients) {
			for (s, w) in sum.iter_mut().zip(&decoded) {
				*s = g.mul_add(*w, *s);
			}
		}
	}
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use std::arch::x86_64::*;

	use super::{PackedMatrix, BLOCK, GRADIENT_TILE};

	/// [`super::gradient_rows`] with hardware fused multiply-adds.
	///
	/// # Safety
	/// The CPU must support AVX2, FMA and F16C.
	#[target_feature(enable = "avx2,fma,f16c")]
	pub(super) unsafe fn gradient_fma<M: PackedMatrix>(
		weight: &M,
		tile: &[f32],
		block: usize,
		out: &mut [f32],
	) {
		super::gradient_rows(weight, tile, block, out);
	}

	/// `out[t][..BLOCK] = Σ_row tile[row][t] · W[row][block]` for `T`
	/// gradient rows, every weight block decoded once per pass.
	///
	/// # Safety
	/// The CPU must support AVX-512F and F16C; `tile` must point to
	/// `rows · GRADIENT_TILE` floats, `out` to `T · BLOCK`, and `block` be a
	/// column block of the matrix.
	#[target_feature(enable = "avx512f,avx2,fma,f16c")]
	pub(super) unsafe fn gradient_avx512<M: PackedMatrix, const T: usize>(
		weight: &M,
		tile: *const f32,
		block: usize,
		out: *mut f32,
	) {
		let blocks = weight.cols() / BLOCK;
		let mut acc = [[_mm512_setzero_ps(); 2]; T];
		for row in 0..weight.rows() {
			let [low, high] = weight.decode_block_avx512(row * blocks + block);
			let gradients = tile.add(row * GRADIENT_TILE);
			for (t, acc_t) in acc.iter_mut().enumerate() {
				let g = _mm512_set1_ps(*gradients.add(t));
				acc_t[0] = _mm512_fmadd_ps(g, low, acc_t[0]);
				acc_t[1] = _mm512_fmadd_ps(g, high, acc_t[1]);
			}
		}
		for (t, acc_t) in acc.iter().enumerate() {
			_mm512_storeu_ps(out.add(t * BLOCK), acc_t[0]);
			_mm512_storeu_ps(out.add(t * BLOCK + 16), acc_t[1]);
		}
	}
}

#[derive(Clone, Debug)]
pub(crate) struct PackedMatMul<M>(pub Arc<M>);

impl<M: PackedMatrix> CustomOp1 for PackedMatMul<M> {
	fn name(&self) -> &'static str {
		M::OP_NAME
	}

	fn cpu_fwd(
		&self,
		storage: &CpuStorage,
		layout: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		let name = M::OP_NAME;
		let CpuStorage::F32(data) = storage else {
			candle_core::bail!("{name} needs f32 activations");
		};
		let Some((start, end)) = layout.contiguous_offsets() else {
			candle_core::bail!("{name} needs contiguous activations");
		};
		let dims = layout.shape().dims();
		let Some((&k, batch)) = dims.split_last() else {
			candle_core::bail!("{name} needs at least one dimension");
		};
		if k != self.0.cols() {
			candle_core::bail!(
				"{name}: input has {k} columns, weight has {}",
				self.0.cols()
			);
		}
		let m: usize = batch.iter().product();
		let out = self.0.matmul_t(&data[start..end], m);
		let mut out_dims = batch.to_vec();
		out_dims.push(self.0.rows());
		Ok((CpuStorage::F32(out), Shape::from(out_dims)))
	}

	fn bwd(
		&self,
		_arg: &Tensor,
		_res: &Tensor,
		grad_res: &Tensor,
	) -> candle_core::Result<Option<Tensor>> {
		let dims = grad_res.dims();
		let Some((&rows, batch)) = dims.split_last() else {
			candle_core::bail!("{}: a gradient without dimensions", M::OP_NAME);
		};
		if rows != self.0.rows() {
			candle_core::bail!(
				"{}: gradient of {rows} columns for {} weight rows",
				M::OP_NAME,
				self.0.rows()
			);
		}
		let m: usize = batch.iter().product();
		let dy = grad_res.flatten_all()?.to_vec1::<f32>()?;
		let dx = input_gradient(self.0.as_ref(), &dy, m);
		let mut dx_dims = batch.to_vec();
		dx_dims.push(self.0.cols());
		Ok(Some(Tensor::from_vec(dx, dx_dims, grad_res.device())?))
	}
}

#[cfg(test)]
mod tests {
	use candle_core::{Device, Var};

	use super::*;
	use crate::engine::int4::Int4Matrix;
	use crate::engine::int8::Int8Matrix;
	use crate::engine::max_diff;

	/// Autograd through `x·Wᵀ` gives `x` the gradient `dy·W`, `W` as the
	/// format dequantizes it, for single rows, tiles cut short and batched
	/// shapes.
	fn check_backward<M: PackedMatrix + Clone>(weight: M, dense: &Tensor) {
		let (n, k) = dense.dims2().unwrap();
		for batch in [vec![1usize], vec![7], vec![2, 5], vec![48]] {
			let x = Tensor::randn(0f32, 1.0, [batch.clone(), vec![k]].concat(), &Device::Cpu);
			let x = Var::from_tensor(&x.unwrap()).unwrap();
			let dy = Tensor::randn(0f32, 1.0, [batch.clone(), vec![n]].concat(), &Device::Cpu);
			let dy = dy.unwrap();
			let y = x
				.as_tensor()
				.apply_op1(PackedMatMul(Arc::new(weight.clone())))
				.unwrap();
			let grads = (y * &dy).unwrap().sum_all().unwrap().backward().unwrap();
			let got = grads.get(x.as_tensor()).unwrap();
			let diff = max_diff(got, &dy.broadcast_matmul(dense).unwrap());
			assert!(diff < 1e-3, "{} batch {batch:?}: {diff}", M::OP_NAME);
		}
	}

	/// `input_gradient` is `dy·W` with `W` dequantized, for every tile size
	/// and past it, and the instruction set this CPU picks gives the same
	/// bits as the portable loop.
	fn check_input_gradient<M: PackedMatrix>(weight: &M, dense: &Tensor) {
		let (n, k) = dense.dims2().unwrap();
		for m in [1usize, 2, 5, 12, 13, 25, 48] {
			let dy = Tensor::randn(0f32, 1.0, (m, n), &Device::Cpu).unwrap();
			let values = dy.flatten_all().unwrap().to_vec1::<f32>().unwrap();
			let dx = input_gradient(weight, &values, m);
			let got = Tensor::from_vec(dx.clone(), (m, k), &Device::Cpu).unwrap();
			let diff = max_diff(&got, &dy.matmul(dense).unwrap());
			assert!(diff < 1e-3, "{} [{n}, {k}], m = {m}: {diff}", M::OP_NAME);
			for block in 0..k / BLOCK {
				for first in (0..m).step_by(GRADIENT_TILE) {
					let rows = GRADIENT_TILE.min(m - first);
					let mut tile = vec![0f32; n * GRADIENT_TILE];
					for t in 0..rows {
						for r in 0..n {
							tile[r * GRADIENT_TILE + t] = values[(first + t) * n + r];
						}
					}
					let mut portable = vec![0f32; rows * BLOCK];
					gradient_rows(weight, &tile, block, &mut portable);
					for (t, expected) in portable.chunks_exact(BLOCK).enumerate() {
						let row = &dx[(first + t) * k..][..k];
						assert_eq!(
							&row[block * BLOCK..][..BLOCK],
							expected,
							"m = {m}, row {}",
							first + t
						);
					}
				}
			}
		}
	}

	#[test]
	fn input_gradient_is_exact_on_every_instruction_set() {
		for (n, k) in [(71usize, 96usize), (300, 256)] {
			let w = Tensor::randn(0f32, 0.1, (n, k), &Device::Cpu).unwrap();
			let int4 = Int4Matrix::quantize(&w).unwrap();
			check_input_gradient(&int4, &int4.dequantize(&Device::Cpu).unwrap());
			let int8 = Int8Matrix::quantize(&w).unwrap();
			check_input_gradient(&int8, &int8.dequantize(&Device::Cpu).unwrap());
		}
	}

	#[test]
	fn backward_multiplies_by_the_dequantized_weight() {
		let w = Tensor::randn(0f32, 0.1, (70, 96), &Device::Cpu).unwrap();
		let int4 = Int4Matrix::quantize(&w).unwrap();
		check_backward(int4.clone(), &int4.dequantize(&Device::Cpu).unwrap());
		let int8 = Int8Matrix::quantize(&w).unwrap();
		check_backward(int8.clone(), &int8.dequantize(&Device::Cpu).unwrap());
	}
}
