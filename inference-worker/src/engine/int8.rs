//! Weight-only 8-bit matrices for the CPU: weights stored as signed bytes
//! with one f32 scale per block of 32 (the layout of GGUF's Q8_0),
//! activations kept in f32.
//!
//! candle's quantized CPU kernels round the activations to 8 bits as well,
//! which on small models with outlier activations (SmolLM2) changes greedy
//! outputs; here the only error is the weights' own quantization, while the
//! bytes read per token — what bounds CPU decoding — stay a quarter of f32.
//! The kernel converts each weight block to f32 once and multiplies it with
//! up to 8 activation rows, so batches reuse every weight load.

use candle_core::{DType, Device, Tensor};
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::amx;
use super::packed::{PackedMatrix, BLOCK};
#[cfg(target_arch = "x86_64")]
use super::simd::{simd_level, SimdLevel};
use super::{EngineError, Result};

/// A `[rows, cols]` matrix of 8-bit weights with per-block scales.
#[derive(Clone, Debug)]
pub struct Int8Matrix {
	rows: usize,
	cols: usize,
	qs: Vec<i8>,
	scales: Vec<f32>,
}

impl Int8Matrix {
	/// Quantizes a `[rows, cols]` tensor; `cols` must be a multiple of 32.
	pub fn quantize(weight: &Tensor) -> Result<Self> {
		let (rows, cols) = weight.dims2()?;
		if !cols.is_multiple_of(BLOCK) {
			return Err(EngineError::Unsupported(format!(
				"8-bit weights need a multiple of {BLOCK} columns, not {cols}"
			)));
		}
		let values = weight
			.to_dtype(DType::F32)?
			.flatten_all()?
			.to_vec1::<f32>()?;
		let mut qs = Vec::with_capacity(values.len());
		let mut scales = Vec::with_capacity(values.len() / BLOCK);
		for block in values.chunks_exact(BLOCK) {
			let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
			let scale = amax / 127.0;
			let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
			scales.push(scale);
			qs.extend(
				block
					.iter()
					.map(|v| (v * inverse).round().clamp(-127.0, 127.0) as i8),
			);
		}
		Ok(Self {
			rows,
			cols,
			qs,
			scales,
		})
	}

	/// The matrix in f32.
	pub fn dequantize(&self, device: &Device) -> Result<Tensor> {
		let values: Vec<f32> = self
			.qs
			.chunks_exact(BLOCK)
			.zip(&self.scales)
			.flat_map(|(block, scale)| block.iter().map(move |q| f32::from(*q) * scale))
			.collect();
		Ok(Tensor::from_vec(values, (self.rows, self.cols), device)?)
	}

	pub fn rows(&self) -> usize {
		self.rows
	}

	pub fn cols(&self) -> usize {
		self.cols
	}

	pub fn size_in_bytes(&self) -> usize {
		self.qs.len() + 4 * self.scales.len()
	}

	/// `x·Wᵀ` for `x` `[m, cols]` (row-major), as `[m, rows]`.
	pub fn matmul_t(&self, x: &[f32], m: usize) -> Vec<f32> {
		let (n, k) = (self.rows, self.cols);
		assert!(
			x.len() >= m * k,
			"int8 matmul: {} activations for {m} rows of {k}",
			x.len()
		);
		#[cfg(target_arch = "x86_64")]
		if m >= amx::MIN_ROWS && n.is_multiple_of(amx::TILE) && amx::available() {
			return amx::matmul_t(self, x, m);
		}
		let mut out = vec![0f32; m * n];
		// Threads take ranges of W's rows, i.e. of the output's columns.
		let per_task = (n / (4 * rayon::current_num_threads().max(1))).clamp(16, 256);
		let tasks = n.div_ceil(per_task);
		let target = OutPtr(out.as_mut_ptr());
		let work = |task: usize| {
			let columns = task * per_task..n.min((task + 1) * per_task);
			// SAFETY: tasks write disjoint column ranges of `out`, which
			// outlives them.
			unsafe { self.columns(x, m, columns, &target) };
		};
		if n * m * k < (1 << 16) {
			(0..tasks).for_each(work);
		} else {
			(0..tasks).into_par_iter().for_each(work);
		}
		out
	}

	/// Writes `out[r·rows + j] = W[j]·x[r]` for `j` in `columns`, all `r < m`.
	///
	/// # Safety
	/// `out` must point to `m · rows` floats that no one else writes in
	/// `columns` meanwhile.
	unsafe fn columns(&self, x: &[f32], m: usize, columns: std::ops::Range<usize>, out: &OutPtr) {
		let (n, k) = (self.rows, self.cols);
		let blocks = k / BLOCK;
		let tile = kernel_rows();
		for first in (0..m).step_by(tile) {
			let rows = tile.min(m - first);
			let x_tile = &x[first * k..(first + rows) * k];
			let mut j = columns.start;
			#[cfg(target_arch = "x86_64")]
			if simd_level() == SimdLevel::Avx512 {
				while j + 2 <= columns.end {
					let mut dots = [[0f32; MAX_ROWS]; 2];
					dot_row_pair(
						x_tile,
						k,
						rows,
						&self.qs[j * k..(j + 2) * k],
						&self.scales[j * blocks..(j + 2) * blocks],
						&mut dots,
					);
					for (w, dots_w) in dots.iter().enumerate() {
						for (r, dot) in dots_w.iter().enumerate().take(rows) {
							// SAFETY: (first + r) < m and j + w < n, within
							// `out`; the caller owns these columns.
							unsafe { *out.0.add((first + r) * n + j + w) = *dot };
						}
					}
					j += 2;
				}
			}
			for j in j..columns.end {
				let q_row = &self.qs[j * k..(j + 1) * k];
				let s_row = &self.scales[j * blocks..(j + 1) * blocks];
				let mut dots = [0f32; MAX_ROWS];
				dot_rows(x_tile, k, rows, q_row, s_row, &mut dots);
				for (r, dot) in dots.iter().enumerate().take(rows) {
					// SAFETY: (first + r) < m and j < n, within `out`; the
					// caller owns column j.
					unsafe { *out.0.add((first + r) * n + j) = *dot };
				}
			}
		}
	}
}

/// The output buffer shared by the tasks of one matmul.
struct OutPtr(*mut f32);
// SAFETY: tasks write disjoint elements (see `Int8Matrix::columns`).
unsafe impl Sync for OutPtr {}

/// Most activation rows one kernel call handles.
const MAX_ROWS: usize = 8;

fn kernel_rows() -> usize {
	#[cfg(target_arch = "x86_64")]
	if simd_level() == SimdLevel::Avx2 {
		return 4;
	}
	MAX_ROWS
}

/// `dots[w][r] = W_w · x[r]` for two consecutive weight rows (`q_rows`,
/// `s_rows`) and the first `rows` rows of `x`, on AVX-512: its 32
/// registers hold both rows' accumulators for 8 activation rows, so each
/// activation load feeds two multiply-adds.
#[cfg(target_arch = "x86_64")]
fn dot_row_pair(
	x: &[f32],
	k: usize,
	rows: usize,
	q_rows: &[i8],
	s_rows: &[f32],
	dots: &mut [[f32; MAX_ROWS]; 2],
) {
	assert!(
		rows <= MAX_ROWS
			&& x.len() >= rows * k
			&& q_rows.len() == 2 * k
			&& s_rows.len() * BLOCK == 2 * k
			&& simd_level() == SimdLevel::Avx512
	);
	macro_rules! dispatch {
		($($r:literal),*) => {
			match rows {
				$(
					// SAFETY: the CPU has AVX-512F and the slices hold what the
					// kernel reads (asserted above).
					$r => unsafe { x86::row_pair_avx512::<$r>(x.as_ptr(), k, q_rows.as_ptr(), s_rows, dots) },
				)*
				_ => {},
			}
		};
	}
	dispatch!(1, 2, 3, 4, 5, 6, 7, 8);
}

/// `dots[r] = W_row · x[r]` for the first `rows` rows of `x` (`k` values
/// each), with `W_row` given as blocks of bytes and scales.
fn dot_rows(
	x: &[f32],
	k: usize,
	rows: usize,
	q_row: &[i8],
	s_row: &[f32],
	dots: &mut [f32; MAX_ROWS],
) {
	assert!(
		rows <= MAX_ROWS && x.len() >= rows * k && q_row.len() == k && s_row.len() * BLOCK == k
	);
	#[cfg(target_arch = "x86_64")]
	{
		macro_rules! dispatch {
			($kernel:ident, $($r:literal),*) => {
				match rows {
					$(
						// SAFETY: the CPU supports the kernel's instructions
						// (checked by `simd_level`) and the slices hold what it
						// reads (asserted above).
						$r => { unsafe { x86::$kernel::<$r>(x.as_ptr(), k, q_row.as_ptr(), s_row, dots) }; return; },
					)*
					_ => {},
				}
			};
		}
		match simd_level() {
			SimdLevel::Avx512 => dispatch!(rows_avx512, 1, 2, 3, 4, 5, 6, 7, 8),
			SimdLevel::Avx2 => dispatch!(rows_avx2, 1, 2, 3, 4),
			SimdLevel::Baseline => {},
		}
	}
	for (r, dot) in dots.iter_mut().enumerate().take(rows) {
		let row = &x[r * k..(r + 1) * k];
		*dot = q_row
			.chunks_exact(BLOCK)
			.zip(s_row)
			.zip(row.chunks_exact(BLOCK))
			.map(|((qb, scale), xb)| {
				scale
					* qb.iter()
						.zip(xb)
						.map(|(q, v)| f32::from(*q) * v)
						.sum::<f32>()
			})
			.sum();
	}
}

#[cfg(target_arch = "x86_64")]
impl amx::TileWeights for Int8Matrix {
	const MINS: bool = false;

	#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
	#[inline]
	unsafe fn unpack_block(&self, first: usize, block: usize, dst: *mut u16, stride: usize) {
		use std::arch::x86_64::*;
		let blocks = self.cols / BLOCK;
		for j in 0..amx::TILE {
			let src = self.qs.as_ptr().add(((first + j) * blocks + block) * BLOCK);
			// As for 4 bits: 16 streams, prefetched 4 blocks ahead.
			_mm_prefetch::<_MM_HINT_T0>(src.wrapping_add(4 * BLOCK).cast());
			let low = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(src.cast())));
			let high =
				_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(src.add(16).cast())));
			// −128–127 are exact in bf16.
			let levels = _mm512_cvtne2ps_pbh(high, low);
			_mm512_storeu_si512(
				dst.add(j * stride).cast(),
				std::mem::transmute::<__m512bh, __m512i>(levels),
			);
		}
	}

	unsafe fn block_scales(&self, first: usize, scales: &mut [f32]) {
		let blocks = self.cols / BLOCK;
		scales.copy_from_slice(&self.scales[first * blocks..(first + amx::TILE) * blocks]);
	}
}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use std::arch::x86_64::*;

	use super::{BLOCK, MAX_ROWS};
	use crate::engine::simd::hsum256;

	/// Block `index` widened to f32 (`q·s`): elements 0–15 and 16–31.
	///
	/// # Safety
	/// The CPU must support AVX-512F; `qs` and `scales` must hold block
	/// `index`.
	#[target_feature(enable = "avx512f,avx2,fma")]
	#[inline]
	pub(super) unsafe fn decode_avx512(
		qs: *const i8,
		scales: *const f32,
		index: usize,
	) -> [__m512; 2] {
		let scale = _mm512_set1_ps(*scales.add(index));
		let q = qs.add(index * BLOCK);
		let widen = |bytes: *const i8| {
			_mm512_mul_ps(
				_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(bytes.cast()))),
				scale,
			)
		};
		[widen(q), widen(q.add(16))]
	}

	/// One weight row against `R` activation rows, 16 lanes at a time: each
	/// block of 32 bytes is widened to f32 once and multiplied into all rows.
	///
	/// # Safety
	/// The CPU must support AVX-512F; `x` must point to `R` rows of `k`
	/// floats and `q` to `k` bytes, with `scales` holding `k / 32` scales.
	#[target_feature(enable = "avx512f,avx2,fma")]
	pub(super) unsafe fn rows_avx512<const R: usize>(
		x: *const f32,
		k: usize,
		q: *const i8,
		scales: &[f32],
		dots: &mut [f32; MAX_ROWS],
	) {
		let mut acc = [[_mm512_setzero_ps(); 2]; R];
		for b in 0..scales.len() {
			let [w0, w1] = decode_avx512(q, scales.as_ptr(), b);
			for (r, acc_r) in acc.iter_mut().enumerate() {
				let xb = x.add(r * k + b * BLOCK);
				acc_r[0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xb), acc_r[0]);
				acc_r[1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xb.add(16)), acc_r[1]);
			}
		}
		for (dot, acc_r) in dots.iter_mut().zip(&acc) {
			*dot = _mm512_reduce_add_ps(_mm512_add_ps(acc_r[0], acc_r[1]));
		}
	}

	/// [`rows_avx512`] for two weight rows at once (`q` holds both, `scales`
	/// both rows' scales), one accumulator per weight and activation row.
	///
	/// # Safety
	/// As for [`rows_avx512`], with `q` pointing to `2·k` bytes.
	#[target_feature(enable = "avx512f,avx2,fma")]
	// Accumulators are indexed [weight row][activation row] from loops
	// nested the other way round, which iterators cannot express.
	#[allow(clippy::needless_range_loop)]
	pub(super) unsafe fn row_pair_avx512<const R: usize>(
		x: *const f32,
		k: usize,
		q: *const i8,
		scales: &[f32],
		dots: &mut [[f32; MAX_ROWS]; 2],
	) {
		let blocks = k / BLOCK;
		let mut acc = [[_mm512_setzero_ps(); R]; 2];
		for b in 0..blocks {
			let mut w = [[_mm512_setzero_ps(); 2]; 2];
			for (j, wj) in w.iter_mut().enumerate() {
				*wj = decode_avx512(q, scales.as_ptr(), j * blocks + b);
			}
			for r in 0..R {
				let xb = x.add(r * k + b * BLOCK);
				let (x0, x1) = (_mm512_loadu_ps(xb), _mm512_loadu_ps(xb.add(16)));
				for j in 0..2 {
					acc[j][r] = _mm512_fmadd_ps(w[j][0], x0, acc[j][r]);
					acc[j][r] = _mm512_fmadd_ps(w[j][1], x1, acc[j][r]);
				}
			}
		}
		for (dots_j, acc_j) in dots.iter_mut().zip(&acc) {
			for (dot, acc_r) in dots_j.iter_mut().zip(acc_j) {
				*dot = _mm512_reduce_add_ps(*acc_r);
			}
		}
	}

	/// As [`rows_avx512`], 8 lanes at a time.
	///
	/// # Safety
	/// The CPU must support AVX2 and FMA; pointers as for [`rows_avx512`].
	#[target_feature(enable = "avx2,fma")]
	pub(super) unsafe fn rows_avx2<const R: usize>(
		x: *const f32,
		k: usize,
		q: *const i8,
		scales: &[f32],
		dots: &mut [f32; MAX_ROWS],
	) {
		let mut acc = [[_mm256_setzero_ps(); 2]; R];
		for (b, &scale) in scales.iter().enumerate() {
			let scale = _mm256_set1_ps(scale);
			let qb = q.add(b * BLOCK);
			let mut w = [_mm256_setzero_ps(); 4];
			for (c, wc) in w.iter_mut().enumerate() {
				let bytes = _mm_loadl_epi64(qb.add(8 * c).cast());
				*wc = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), scale);
			}
			for (r, acc_r) in acc.iter_mut().enumerate() {
				let xb = x.add(r * k + b * BLOCK);
				for (c, wc) in w.iter().enumerate() {
					acc_r[c % 2] =
						_mm256_fmadd_ps(*wc, _mm256_loadu_ps(xb.add(8 * c)), acc_r[c % 2]);
				}
			}
		}
		for (dot, acc_r) in dots.iter_mut().zip(&acc) {
			*dot = hsum256(_mm256_add_ps(acc_r[0], acc_r[1]));
		}
	}
}

impl PackedMatrix for Int8Matrix {
	const OP_NAME: &'static str = "int8 matmul";

	fn rows(&self) -> usize {
		self.rows
	}

	fn cols(&self) -> usize {
		self.cols
	}

	fn matmul_t(&self, x: &[f32], m: usize) -> Vec<f32> {
		Int8Matrix::matmul_t(self, x, m)
	}

	fn decode_block(&self, index: usize, out: &mut [f32; BLOCK]) {
		let scale = self.scales[index];
		for (w, q) in out.iter_mut().zip(&self.qs[index * BLOCK..][..BLOCK]) {
			*w = f32::from(*q) * scale;
		}
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx512f,avx2,fma,f16c")]
	#[inline]
	unsafe fn decode_block_avx512(&self, index: usize) -> [std::arch::x86_64::__m512; 2] {
		// SAFETY: the caller holds the features; `index` is a block of the matrix.
		unsafe { x86::decode_avx512(self.qs.as_ptr(), self.scales.as_ptr(), index) }
	}
}

#[cfg(test)]
mod tests {
	use std::sync::Arc;

	use super::*;
	use crate::engine::packed::PackedMatMul;

	/// An odd weight-row count leaves one row outside the AVX-512 row pairs;
	/// row counts past 8 take several activation tiles.
	#[test]
	fn matches_dense_matmul_for_every_row_count() {
		for n in [70usize, 71] {
			let w = Tensor::randn(0f32, 0.1, (n, 96), &Device::Cpu).unwrap();
			let q = Int8Matrix::quantize(&w).unwrap();
			let dense = q.dequantize(&Device::Cpu).unwrap();
			assert!(crate::engine::max_diff(&dense, &w) < 0.01);
			for m in [1usize, 2, 3, 4, 5, 7, 8, 9, 16, 17] {
				let x = Tensor::randn(0f32, 1.0, (m, 96), &Device::Cpu).unwrap();
				let expected = x.matmul(&dense.t().unwrap()).unwrap();
				let got = x.apply_op1(PackedMatMul(Arc::new(q.clone()))).unwrap();
				let diff = crate::engine::max_diff(&got, &expected);
				assert!(diff < 1e-4, "[{n}, 96], m = {m}: {diff}");
			}
		}
	}
}
