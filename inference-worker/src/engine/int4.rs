//! Weight-only 4-bit matrices for the CPU: the layout of GGUF's Q4_1 (per
//! block of 32 weights, 16 bytes of nibbles and an f16 scale `d` and
//! minimum `m`, weight = `d·q + m`), activations kept in f32.
//!
//! Q4_1 (and Q4_0, which is Q4_1 with `m = −8d`) matrices of a GGUF file are
//! kept exactly as stored: 0.625 bytes per weight, the bytes llama.cpp reads,
//! where [`super::int8`] reads 1.06. One-stream decoding on the CPU is bound
//! by those bytes. Like the 8-bit kernel, this one never rounds activations
//! (see `int8.rs` for why): each weight block is decoded to f32 in registers
//! and multiplied into up to 8 activation rows, two weight rows at a time,
//! so a batch reuses every weight load and every activation load. Batches
//! of 9 or more rows go to the AMX tile kernel (`amx.rs`) where the CPU has
//! one.

use std::ops::Range;

use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device, Tensor};
use half::f16;
use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::amx;
use super::packed::{PackedMatrix, BLOCK};
#[cfg(target_arch = "x86_64")]
use super::simd::{simd_level, SimdLevel};
use super::{EngineError, Result};

/// Bytes of nibbles per block.
const NIBBLE_BYTES: usize = BLOCK / 2;
/// Most activation rows one kernel call handles.
const MAX_ROWS: usize = 8;
/// Most weight rows one kernel call handles.
const WEIGHT_ROWS: usize = 2;

/// Activation rows per kernel call for rows of `k` values: up to
/// [`MAX_ROWS`], as many as stay in the L1 cache together while the kernel
/// streams through them once per weight row.
fn kernel_rows(k: usize) -> usize {
	const L1_BUDGET: usize = 24 << 10;
	(L1_BUDGET / (4 * k)).clamp(1, MAX_ROWS)
}

/// Weight rows per kernel call for `rows` activation rows: two keep two
/// dot products in flight for a single stream and halve the activation
/// loads of a batch. With AVX2's 16 registers, past 4 rows the accumulators
/// of one weight row fill them; AVX-512's 32 hold two weight rows against 8.
fn weight_rows_for(rows: usize) -> usize {
	#[cfg(target_arch = "x86_64")]
	if simd_level() == SimdLevel::Avx512 {
		return WEIGHT_ROWS;
	}
	if rows > 4 {
		1
	} else {
		WEIGHT_ROWS
	}
}

/// A `[rows, cols]` matrix of 4-bit weights with per-block scale and minimum.
#[derive(Clone, Debug)]
pub struct Int4Matrix {
	rows: usize,
	cols: usize,
	/// Per block, byte `i` holds element `i` (low nibble) and `i + 16` (high).
	nibbles: Vec<u8>,
	/// Per block, `d` then `m`.
	scales: Vec<f16>,
}

impl Int4Matrix {
	/// Whether [`Int4Matrix::from_ggml`] reads this encoding.
	pub fn reads(dtype: GgmlDType) -> bool {
		matches!(dtype, GgmlDType::Q4_0 | GgmlDType::Q4_1)
	}

	/// Takes the raw bytes of a GGUF Q4_0 or Q4_1 `[rows, cols]` tensor
	/// without changing any weight.
	pub fn from_ggml(dtype: GgmlDType, bytes: &[u8], rows: usize, cols: usize) -> Result<Self> {
		let block_bytes = match dtype {
			GgmlDType::Q4_1 => 4 + NIBBLE_BYTES,
			GgmlDType::Q4_0 => 2 + NIBBLE_BYTES,
			other => {
				return Err(EngineError::Unsupported(format!(
					"4-bit weights from {other:?}"
				)))
			},
		};
		let blocks = Self::blocks_of(rows, cols)?;
		if bytes.len() != blocks * block_bytes {
			return Err(EngineError::Config(format!(
				"{dtype:?} [{rows}, {cols}] needs {} bytes, found {}",
				blocks * block_bytes,
				bytes.len()
			)));
		}
		let mut nibbles = Vec::with_capacity(blocks * NIBBLE_BYTES);
		let mut scales = Vec::with_capacity(2 * blocks);
		for block in bytes.chunks_exact(block_bytes) {
			let d = f16::from_le_bytes([block[0], block[1]]);
			let m = match dtype {
				GgmlDType::Q4_1 => f16::from_le_bytes([block[2], block[3]]),
				// Q4_0 stores q − 8; −8·d is exact in f16 unless it overflows.
				_ => f16::from_f32(-8.0 * d.to_f32()),
			};
			scales.extend([d, m]);
			nibbles.extend_from_slice(&block[block_bytes - NIBBLE_BYTES..]);
		}
		Ok(Self {
			rows,
			cols,
			nibbles,
			scales,
		})
	}

	/// Quantizes a `[rows, cols]` tensor as Q4_1 does; `cols` must be a
	/// multiple of 32.
	pub fn quantize(weight: &Tensor) -> Result<Self> {
		let (rows, cols) = weight.dims2()?;
		let blocks = Self::blocks_of(rows, cols)?;
		let values = weight
			.to_dtype(DType::F32)?
			.flatten_all()?
			.to_vec1::<f32>()?;
		let mut nibbles = Vec::with_capacity(blocks * NIBBLE_BYTES);
		let mut scales = Vec::with_capacity(2 * blocks);
		for block in values.chunks_exact(BLOCK) {
			let min = block.iter().copied().fold(f32::INFINITY, f32::min);
			let max = block.iter().copied().fold(f32::NEG_INFINITY, f32::max);
			let d = f16::from_f32((max - min) / 15.0);
			let m = f16::from_f32(min);
			let inverse = if d.to_f32() > 0.0 {
				1.0 / d.to_f32()
			} else {
				0.0
			};
			let level = |v: f32| ((v - m.to_f32()) * inverse).round().clamp(0.0, 15.0) as u8;
			let (low, high) = block.split_at(NIBBLE_BYTES);
			nibbles.extend(
				low.iter()
					.zip(high)
					.map(|(l, h)| level(*l) | (level(*h) << 4)),
			);
			scales.extend([d, m]);
		}
		Ok(Self {
			rows,
			cols,
			nibbles,
			scales,
		})
	}

	fn blocks_of(rows: usize, cols: usize) -> Result<usize> {
		if !cols.is_multiple_of(BLOCK) {
			return Err(EngineError::Unsupported(format!(
				"4-bit weights need a multiple of {BLOCK} columns, not {cols}"
			)));
		}
		Ok(rows * cols / BLOCK)
	}

	/// The matrix in f32.
	pub fn dequantize(&self, device: &Device) -> Result<Tensor> {
		let mut values = Vec::with_capacity(self.rows * self.cols);
		for (block, dm) in self
			.nibbles
			.chunks_exact(NIBBLE_BYTES)
			.zip(self.scales.chunks_exact(2))
		{
			let (d, m) = (dm[0].to_f32(), dm[1].to_f32());
			values.extend(block.iter().map(|b| f32::from(b & 0xF) * d + m));
			values.extend(block.iter().map(|b| f32::from(b >> 4) * d + m));
		}
		Ok(Tensor::from_vec(values, (self.rows, self.cols), device)?)
	}

	pub fn rows(&self) -> usize {
		self.rows
	}

	pub fn cols(&self) -> usize {
		self.cols
	}

	pub fn size_in_bytes(&self) -> usize {
		self.nibbles.len() + 2 * self.scales.len()
	}

	/// `x·Wᵀ` for `x` `[m, cols]` (row-major), as `[m, rows]`.
	pub fn matmul_t(&self, x: &[f32], m: usize) -> Vec<f32> {
		let (n, k) = (self.rows, self.cols);
		assert!(
			x.len() >= m * k,
			"int4 matmul: {} activations for {m} rows of {k}",
			x.len()
		);
		#[cfg(target_arch = "x86_64")]
		if m >= amx::MIN_ROWS && n.is_multiple_of(amx::TILE) && amx::available() {
			return amx::matmul_t(self, x, m);
		}
		let mut out = vec![0f32; m * n];
		// Threads take ranges of W's rows, i.e. of the output's columns; an
		// even count keeps weight rows paired for the kernel.
		let threads = rayon::current_num_threads().max(1);
		let per_task = (n / (4 * threads))
			.clamp(16, 256)
			.next_multiple_of(WEIGHT_ROWS);
		let tasks = n.div_ceil(per_task);
		let target = OutPtr(out.as_mut_ptr());
		let work = |task: usize| {
			let columns = task * per_task..n.min((task + 1) * per_task);
			// SAFETY: tasks write disjoint column ranges of `out`, which
			// outlives them.
			unsafe { self.columns(x, m, columns, &target) };
		};
		if threads == 1 || n * m * k < (1 << 16) {
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
	unsafe fn columns(&self, x: &[f32], m: usize, columns: Range<usize>, out: &OutPtr) {
		let (n, k) = (self.rows, self.cols);
		let tile = kernel_rows(k);
		for first in (0..m).step_by(tile) {
			let rows = tile.min(m - first);
			let x_tile = &x[first * k..(first + rows) * k];
			let step = weight_rows_for(rows);
			for j in columns.clone().step_by(step) {
				let pair = step.min(columns.end - j);
				let mut dots = [[0f32; MAX_ROWS]; WEIGHT_ROWS];
				self.dot_rows(x_tile, rows, j..j + pair, &mut dots);
				for (w, dots_w) in dots.iter().enumerate().take(pair) {
					for (r, dot) in dots_w.iter().enumerate().take(rows) {
						// SAFETY: (first + r) < m and j + w < n, within
						// `out`; the caller owns these columns.
						unsafe { *out.0.add((first + r) * n + j + w) = *dot };
					}
				}
			}
		}
	}

	/// `dots[w][r] = W[weight_rows.start + w]·x[r]` for the first `rows`
	/// rows of `x`.
	fn dot_rows(
		&self,
		x: &[f32],
		rows: usize,
		weight_rows: Range<usize>,
		dots: &mut [[f32; MAX_ROWS]; WEIGHT_ROWS],
	) {
		let k = self.cols;
		let blocks = k / BLOCK;
		let pair = weight_rows.len();
		assert!(
			rows <= MAX_ROWS
				&& (1..=WEIGHT_ROWS).contains(&pair)
				&& weight_rows.end <= self.rows
				&& x.len() >= rows * k
		);
		let nibbles = &self.nibbles[weight_rows.start * k / 2..weight_rows.end * k / 2];
		let scales = &self.scales[2 * weight_rows.start * blocks..2 * weight_rows.end * blocks];
		#[cfg(target_arch = "x86_64")]
		{
			macro_rules! dispatch {
				($kernel:ident, pairs: $($p:literal),*; singles: $($r:literal),*) => {
					// SAFETY (every arm): the CPU supports the kernel's
					// instructions (checked by `simd_level`) and the slices hold
					// what it reads (asserted above).
					match (pair, rows) {
						$((2, $p) => { unsafe { x86::$kernel::<2, $p>(x.as_ptr(), k, nibbles.as_ptr(), scales.as_ptr(), dots) }; return; },)*
						$((1, $r) => { unsafe { x86::$kernel::<1, $r>(x.as_ptr(), k, nibbles.as_ptr(), scales.as_ptr(), dots) }; return; },)*
						_ => {},
					}
				};
			}
			match simd_level() {
				SimdLevel::Avx512 => {
					dispatch!(rows_avx512, pairs: 1, 2, 3, 4, 5, 6, 7, 8; singles: 1, 2, 3, 4, 5, 6, 7, 8)
				},
				SimdLevel::Avx2 => {
					dispatch!(rows_avx2, pairs: 1, 2, 3, 4; singles: 1, 2, 3, 4, 5, 6, 7, 8)
				},
				SimdLevel::Baseline => {},
			}
		}
		dot_rows_portable(x, k, rows, nibbles, scales, dots);
	}
}

/// [`Int4Matrix::dot_rows`] without vector instructions; `nibbles` and
/// `scales` hold the weight rows' blocks in order.
fn dot_rows_portable(
	x: &[f32],
	k: usize,
	rows: usize,
	nibbles: &[u8],
	scales: &[f16],
	dots: &mut [[f32; MAX_ROWS]; WEIGHT_ROWS],
) {
	let blocks = k / BLOCK;
	let weight_rows = nibbles.len() * 2 / k;
	for (w, dots_w) in dots.iter_mut().enumerate().take(weight_rows) {
		for (r, dot) in dots_w.iter_mut().enumerate().take(rows) {
			let mut total = 0f32;
			for b in 0..blocks {
				let block = &nibbles[(w * blocks + b) * NIBBLE_BYTES..][..NIBBLE_BYTES];
				let (d, m) = (
					scales[2 * (w * blocks + b)].to_f32(),
					scales[2 * (w * blocks + b) + 1].to_f32(),
				);
				let xb = &x[r * k + b * BLOCK..][..BLOCK];
				for (i, byte) in block.iter().enumerate() {
					total += (f32::from(byte & 0xF) * d + m) * xb[i];
					total += (f32::from(byte >> 4) * d + m) * xb[i + NIBBLE_BYTES];
				}
			}
			*dot = total;
		}
	}
}

/// The output buffer shared by the tasks of one matmul.
struct OutPtr(*mut f32);
// SAFETY: tasks write disjoint elements (see `Int4Matrix::columns`).
unsafe impl Sync for OutPtr {}

#[cfg(target_arch = "x86_64")]
mod x86 {
	use std::arch::x86_64::*;

	use half::f16;

	use super::{BLOCK, MAX_ROWS, NIBBLE_BYTES, WEIGHT_ROWS};
	use crate::engine::simd::hsum256;

	/// `d` and `m` of a block, as f32 in lanes 0 and 1.
	#[inline(always)]
	unsafe fn scale_and_min(scales: *const f16) -> __m128 {
		_mm_cvtph_ps(_mm_cvtsi32_si128(scales.cast::<i32>().read_unaligned()))
	}

	/// Block `index` decoded to f32 (`d·q + m`, fused): elements 0–15 (the
	/// low nibbles) and 16–31.
	///
	/// # Safety
	/// The CPU must support AVX-512F and F16C; `nibbles` and `scales` must
	/// hold block `index`.
	#[target_feature(enable = "avx512f,avx2,fma,f16c")]
	#[inline]
	pub(super) unsafe fn decode_avx512(
		nibbles: *const u8,
		scales: *const f16,
		index: usize,
	) -> [__m512; 2] {
		let dm = scale_and_min(scales.add(2 * index));
		let d = _mm512_broadcastss_ps(dm);
		let m = _mm512_broadcastss_ps(_mm_movehdup_ps(dm));
		let bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(nibbles.add(index * NIBBLE_BYTES).cast()));
		let low = _mm512_cvtepi32_ps(_mm512_and_si512(bytes, _mm512_set1_epi32(0xF)));
		let high = _mm512_cvtepi32_ps(_mm512_srli_epi32(bytes, 4));
		[_mm512_fmadd_ps(low, d, m), _mm512_fmadd_ps(high, d, m)]
	}

	/// `J` weight rows against `R` activation rows, 16 lanes at a time: each
	/// block is decoded to f32 once (`d·q + m`) and multiplied into all rows.
	///
	/// # Safety
	/// The CPU must support AVX-512F and F16C; `x` must point to `R` rows of
	/// `k` floats, `nibbles` to `J·k/2` bytes and `scales` to `J·k/16` halves.
	#[target_feature(enable = "avx512f,avx2,fma,f16c")]
	// Accumulators are indexed [weight row][activation row] from loops
	// nested the other way round, which iterators cannot express.
	#[allow(clippy::needless_range_loop)]
	pub(super) unsafe fn rows_avx512<const J: usize, const R: usize>(
		x: *const f32,
		k: usize,
		nibbles: *const u8,
		scales: *const f16,
		dots: &mut [[f32; MAX_ROWS]; WEIGHT_ROWS],
	) {
		let blocks = k / BLOCK;
		let mut acc = [[_mm512_setzero_ps(); R]; J];
		for b in 0..blocks {
			let mut w = [[_mm512_setzero_ps(); 2]; J];
			for (j, wj) in w.iter_mut().enumerate() {
				*wj = decode_avx512(nibbles, scales, j * blocks + b);
			}
			for r in 0..R {
				let xb = x.add(r * k + b * BLOCK);
				let (x0, x1) = (_mm512_loadu_ps(xb), _mm512_loadu_ps(xb.add(16)));
				for j in 0..J {
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
	/// The CPU must support AVX2, FMA and F16C; pointers as for
	/// [`rows_avx512`].
	#[target_feature(enable = "avx2,fma,f16c")]
	// Accumulators are indexed [weight row][activation row] from loops
	// nested the other way round, which iterators cannot express.
	#[allow(clippy::needless_range_loop)]
	pub(super) unsafe fn rows_avx2<const J: usize, const R: usize>(
		x: *const f32,
		k: usize,
		nibbles: *const u8,
		scales: *const f16,
		dots: &mut [[f32; MAX_ROWS]; WEIGHT_ROWS],
	) {
		let blocks = k / BLOCK;
		let low_mask = _mm256_set1_epi32(0xF);
		let mut acc = [[_mm256_setzero_ps(); R]; J];
		for b in 0..blocks {
			// Quarters of the block: elements 0–7, 8–15 (low nibbles of
			// bytes 0–15), 16–23, 24–31 (their high nibbles).
			let mut w = [[_mm256_setzero_ps(); 4]; J];
			for (j, wj) in w.iter_mut().enumerate() {
				let block = j * blocks + b;
				let dm = scale_and_min(scales.add(2 * block));
				let d = _mm256_broadcastss_ps(dm);
				let m = _mm256_broadcastss_ps(_mm_movehdup_ps(dm));
				let base = nibbles.add(block * NIBBLE_BYTES);
				for half in 0..2 {
					let bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(base.add(8 * half).cast()));
					let low = _mm256_cvtepi32_ps(_mm256_and_si256(bytes, low_mask));
					let high = _mm256_cvtepi32_ps(_mm256_srli_epi32(bytes, 4));
					wj[half] = _mm256_fmadd_ps(low, d, m);
					wj[2 + half] = _mm256_fmadd_ps(high, d, m);
				}
			}
			for r in 0..R {
				let xb = x.add(r * k + b * BLOCK);
				for q in 0..4 {
					let xq = _mm256_loadu_ps(xb.add(8 * q));
					for j in 0..J {
						acc[j][r] = _mm256_fmadd_ps(w[j][q], xq, acc[j][r]);
					}
				}
			}
		}
		for (dots_j, acc_j) in dots.iter_mut().zip(&acc) {
			for (dot, acc_r) in dots_j.iter_mut().zip(acc_j) {
				*dot = hsum256(*acc_r);
			}
		}
	}
}

#[cfg(target_arch = "x86_64")]
impl amx::TileWeights for Int4Matrix {
	const MINS: bool = true;

	#[target_feature(enable = "avx512f,avx512bw,f16c")]
	#[inline]
	unsafe fn unpack_block(&self, first: usize, block: usize, dst: *mut u16, stride: usize) {
		use std::arch::x86_64::*;
		/// bf16 of the levels 0–15 (and of 0–15 again: `vpermw` reads 5 bits).
		const LEVELS: [u16; 32] = {
			let mut table = [0u16; 32];
			let mut q = 0;
			while q < 32 {
				table[q] = ((q % 16) as f32).to_bits().wrapping_shr(16) as u16;
				q += 1;
			}
			table
		};
		let table = _mm512_loadu_si512(LEVELS.as_ptr().cast());
		let mask = _mm_set1_epi8(0x0F);
		let blocks = self.cols / BLOCK;
		for j in 0..amx::TILE {
			let src = self
				.nibbles
				.as_ptr()
				.add(((first + j) * blocks + block) * NIBBLE_BYTES);
			// 16 rows are 16 streams, more than the hardware prefetcher
			// follows: ask for each row's bytes 8 blocks ahead.
			_mm_prefetch::<_MM_HINT_T0>(src.wrapping_add(8 * NIBBLE_BYTES).cast());
			let bytes = _mm_loadu_si128(src.cast());
			let low = _mm_and_si128(bytes, mask);
			let high = _mm_and_si128(_mm_srli_epi16::<4>(bytes), mask);
			let levels = _mm512_cvtepu8_epi16(_mm256_inserti128_si256::<1>(
				_mm256_castsi128_si256(low),
				high,
			));
			_mm512_storeu_si512(
				dst.add(j * stride).cast(),
				_mm512_permutexvar_epi16(levels, table),
			);
		}
	}

	#[target_feature(enable = "avx512f,avx512bw,f16c")]
	unsafe fn block_scales(&self, first: usize, scales: &mut [f32]) {
		use std::arch::x86_64::*;
		// Rows are contiguous: their (d, m) pairs are one run of halves.
		let blocks = self.cols / BLOCK;
		let halves = &self.scales[2 * first * blocks..2 * (first + amx::TILE) * blocks];
		let mut chunks = halves.chunks_exact(16);
		for (out, chunk) in scales.chunks_exact_mut(16).zip(&mut chunks) {
			let wide = _mm512_cvtph_ps(_mm256_loadu_si256(chunk.as_ptr().cast()));
			_mm512_storeu_ps(out.as_mut_ptr(), wide);
		}
		let done = halves.len() - chunks.remainder().len();
		for (out, half) in scales[done..].iter_mut().zip(chunks.remainder()) {
			*out = half.to_f32();
		}
	}
}

impl PackedMatrix for Int4Matrix {
	const OP_NAME: &'static str = "int4 matmul";

	fn rows(&self) -> usize {
		self.rows
	}

	fn cols(&self) -> usize {
		self.cols
	}

	fn matmul_t(&self, x: &[f32], m: usize) -> Vec<f32> {
		Int4Matrix::matmul_t(self, x, m)
	}

	fn decode_block(&self, index: usize, out: &mut [f32; BLOCK]) {
		let (d, m) = (
			self.scales[2 * index].to_f32(),
			self.scales[2 * index + 1].to_f32(),
		);
		let nibbles = &self.nibbles[index * NIBBLE_BYTES..][..NIBBLE_BYTES];
		let (low, high) = out.split_at_mut(NIBBLE_BYTES);
		for ((l, h), byte) in low.iter_mut().zip(high).zip(nibbles) {
			*l = f32::from(byte & 0xF).mul_add(d, m);
			*h = f32::from(byte >> 4).mul_add(d, m);
		}
	}

	#[cfg(target_arch = "x86_64")]
	#[target_feature(enable = "avx512f,avx2,fma,f16c")]
	#[inline]
	unsafe fn decode_block_avx512(&self, index: usize) -> [std::arch::x86_64::__m512; 2] {
		// SAFETY: the caller holds the features; `index` is a block of the matrix.
		unsafe { x86::decode_avx512(self.nibbles.as_ptr(), self.scales.as_ptr(), index) }
	}
}

#[cfg(test)]
mod tests {
	use crate::engine::max_diff;
	use std::sync::Arc;

	use candle_core::quantized::QTensor;

	use super::*;
	use crate::engine::packed::PackedMatMul;

	/// Odd weight-row counts exercise the single-row kernel; row counts
	/// past 8 the activation tiles; sizes past `1 << 16` the threads; 1536
	/// columns the tiles cut short to stay in the L1 cache.
	#[test]
	fn matches_dequantized_matmul_for_every_row_count() {
		for (n, k) in [(71usize, 96usize), (300, 256), (21, 1536)] {
			let w = Tensor::randn(0f32, 0.1, (n, k), &Device::Cpu).unwrap();
			let q = Int4Matrix::quantize(&w).unwrap();
			let dense = q.dequantize(&Device::Cpu).unwrap();
			assert!(max_diff(&dense, &w) < 0.05);
			for m in [1usize, 2, 3, 4, 5, 7, 8, 9, 16, 17] {
				let x = Tensor::randn(0f32, 1.0, (m, k), &Device::Cpu).unwrap();
				let expected = x.matmul(&dense.t().unwrap()).unwrap();
				let got = x.apply_op1(PackedMatMul(Arc::new(q.clone()))).unwrap();
				let diff = max_diff(&got, &expected);
				assert!(diff < 1e-4, "[{n}, {k}], m = {m}: {diff}");
			}
		}
	}

	#[test]
	fn portable_kernel_matches_dequantized_weights() {
		let (n, k) = (2, 64);
		let w = Tensor::randn(0f32, 0.1, (n, k), &Device::Cpu).unwrap();
		let q = Int4Matrix::quantize(&w).unwrap();
		let dense = q.dequantize(&Device::Cpu).unwrap();
		let x = Tensor::randn(0f32, 1.0, (3, k), &Device::Cpu).unwrap();
		let expected = x
			.matmul(&dense.t().unwrap())
			.unwrap()
			.to_vec2::<f32>()
			.unwrap();
		let mut dots = [[0f32; MAX_ROWS]; WEIGHT_ROWS];
		let flat = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
		dot_rows_portable(&flat, k, 3, &q.nibbles, &q.scales, &mut dots);
		for (r, row) in expected.iter().enumerate() {
			for (w, want) in row.iter().enumerate() {
				assert!((dots[w][r] - want).abs() < 1e-4, "({w}, {r})");
			}
		}
	}

	/// The file's Q4_1 and Q4_0 bytes are read without changing a weight:
	/// dequantizing gives what candle's own dequantization gives.
	#[test]
	fn reads_ggml_blocks_exactly() {
		let w = Tensor::randn(0f32, 0.1, (6, 64), &Device::Cpu).unwrap();
		for dtype in [GgmlDType::Q4_1, GgmlDType::Q4_0] {
			let q = QTensor::quantize(&w, dtype).unwrap();
			let reference = q.dequantize(&Device::Cpu).unwrap();
			let ours = Int4Matrix::from_ggml(dtype, &q.data().unwrap(), 6, 64).unwrap();
			assert_eq!(
				max_diff(&reference, &ours.dequantize(&Device::Cpu).unwrap()),
				0.0,
				"{dtype:?}"
			);
			assert_eq!(ours.size_in_bytes(), 6 * 64 * 5 / 8);
		}
		assert!(Int4Matrix::from_ggml(GgmlDType::Q4_1, &[0; 7], 6, 64).is_err());
		assert!(Int4Matrix::from_ggml(GgmlDType::Q8_0, &[], 6, 64).is_err());
	}
}
