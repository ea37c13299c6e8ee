//! `x·Wᵀ` for packed weights on the matrix tiles of Intel AMX (Sapphire
//! Rapids and later), for batches of rows: decoding a batch of 16 streams,
//! or a prompt.
//!
//! One `tdpbf16ps` multiplies a 16×32 tile of bf16 weights by a 32×16
//! tile of bf16 activations into 16×16 f32 sums, 8,192 multiply-adds that
//! the AVX-512 kernels spend 512 instructions on. Nothing is rounded to
//! get there:
//! - a weight block's levels (`q` of `d·q + m`, 0–15, or Q8_0's −128–127)
//!   are exact in bf16, and `d` and `m` are applied to each block's sums
//!   in f32 afterwards;
//! - each activation is split into three bf16 parts whose sum is the f32
//!   value exactly (8 + 8 + 8 significant bits), and the tile multiplies
//!   all three: every product is exact in f32.
//!
//! What remains is f32 summation, in the order the tile unit adds, as the
//! other kernels' results differ from each other by their summation order
//! (and the tile unit reads subnormal inputs as zero: a part below 2^-126,
//! which only activations under about 2^-103 have, is dropped).
//!
//! Layout: weight rows are tile rows (16 weight rows × one block of 32);
//! activations are pre-arranged once per call as `tdpbf16ps` reads its
//! second operand: for each group of 16 activation rows and each block,
//! 16 rows of pairs (elements `2p`, `2p + 1`) across the 16 activation
//! rows. Tile registers: `tmm0` and `tmm5` two tiles of weights,
//! `tmm1`–`tmm3` the three activation parts, `tmm4` and `tmm6` the block's
//! sums.

use std::arch::asm;
use std::arch::x86_64::*;
use std::ops::Range;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::packed::{PackedMatrix, BLOCK};

/// Rows (weight rows, activation rows) of one tile.
pub(crate) const TILE: usize = 16;
/// Fewest activation rows worth a tile pass: a pass costs about the same
/// from 1 to 16 rows, the vector kernels grow with the rows, and at 8 rows
/// each wins on some of SmolLM2's shapes (`cargo bench --bench kernels`).
pub(crate) const MIN_ROWS: usize = 9;
/// Activation parts: bf16 significands of 8 bits, three make f32's 24.
const PARTS: usize = 3;
/// u32 pairs in a tile: 16 rows of 16 pairs.
const PAIRS: usize = TILE * BLOCK / 2;

/// Whether this CPU and kernel run AMX-BF16 tiles for this process, asked
/// once. `OPENLEDGER_AMX=0` turns the tiles off (to compare kernels).
pub(crate) fn available() -> bool {
	static AVAILABLE: OnceLock<bool> = OnceLock::new();
	*AVAILABLE.get_or_init(|| {
		if std::env::var("OPENLEDGER_AMX").is_ok_and(|v| v == "0") {
			return false;
		}
		// CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE.
		let leaf7 = __cpuid_count(7, 0);
		let tiles = leaf7.edx & (1 << 22) != 0 && leaf7.edx & (1 << 24) != 0;
		let vectors = is_x86_feature_detected!("avx512f")
			&& is_x86_feature_detected!("avx512bw")
			&& is_x86_feature_detected!("avx512bf16")
			&& is_x86_feature_detected!("fma")
			&& is_x86_feature_detected!("f16c");
		tiles && vectors && request_tile_state()
	})
}

/// Linux keeps the tiles' 8 KiB of register state off until a process
/// asks for it (`ARCH_REQ_XCOMP_PERM` for `XFEATURE_XTILEDATA`); the grant
/// covers every thread of the process.
fn request_tile_state() -> bool {
	const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
	const XFEATURE_XTILEDATA: libc::c_long = 18;
	// SAFETY: arch_prctl with these arguments only changes this process's
	// permissions; it reads and writes no memory of ours.
	unsafe {
		libc::syscall(
			libc::SYS_arch_prctl,
			ARCH_REQ_XCOMP_PERM,
			XFEATURE_XTILEDATA,
		) == 0
	}
}

/// A packed weight format the tile kernel reads.
pub(crate) trait TileWeights: PackedMatrix {
	/// Whether blocks have a minimum (`d·q + m`) besides the scale.
	const MINS: bool;
	/// Writes block `block` of weight rows `first..first + 16` as bf16
	/// levels (exact), row `j` at `dst + j·stride` (in u16s).
	///
	/// # Safety
	/// The CPU must support AVX-512F/BW and F16C; the rows must exist and
	/// `dst` must hold 16 rows of 32 at that stride.
	unsafe fn unpack_block(&self, first: usize, block: usize, dst: *mut u16, stride: usize);
	/// Per weight row `first + j` and block `b`, its scale at
	/// `scales[(j·blocks + b)·S]` and, with [`Self::MINS`], its minimum
	/// after it; `S` is 2 with minimums, else 1.
	///
	/// # Safety
	/// As [`Self::unpack_block`]; `scales` holds 16 rows of them.
	unsafe fn block_scales(&self, first: usize, scales: &mut [f32]);
}

/// A zeroed buffer of `T`s on whole cache lines: a tile row that straddled
/// two lines would cost the tile load two.
struct Lines<T> {
	lines: Vec<Line>,
	_values: std::marker::PhantomData<T>,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl<T: Copy> Lines<T> {
	/// `len` zeros; `T` must be a plain number (all-zero bytes are zero).
	fn zeroed(len: usize) -> Self {
		let bytes = len * std::mem::size_of::<T>();
		Self {
			lines: vec![Line([0; 64]); bytes.div_ceil(64)],
			_values: std::marker::PhantomData,
		}
	}

	fn as_ptr(&self) -> *const T {
		self.lines.as_ptr().cast()
	}

	fn as_mut_ptr(&mut self) -> *mut T {
		self.lines.as_mut_ptr().cast()
	}
}

/// Activations arranged for the tiles: per group of 16 rows (the last
/// padded with zeros) and block, the three bf16 parts in pair layout, and
/// each row's sum over the block (for the minimums).
struct TileActivations {
	groups: usize,
	blocks: usize,
	/// `[group][block][part][pair p][row r]`: elements `2p`, `2p + 1`.
	parts: Lines<u32>,
	/// `[group][block][row]`.
	sums: Vec<f32>,
}

impl TileActivations {
	/// # Safety
	/// The CPU must support AVX-512F/BW/BF16; `x` holds `m` rows of `k`,
	/// `k` a multiple of 32.
	#[target_feature(enable = "avx512f,avx512bw,avx512bf16,fma")]
	unsafe fn new(x: &[f32], m: usize, k: usize) -> Self {
		let groups = m.div_ceil(TILE);
		let blocks = k / BLOCK;
		let mut parts = Lines::<u32>::zeroed(groups * blocks * PARTS * PAIRS);
		let mut sums = vec![0f32; groups * blocks * TILE];
		for g in 0..groups {
			let rows = TILE.min(m - g * TILE);
			for b in 0..blocks {
				let mut split = [[_mm512_setzero_si512(); TILE]; PARTS];
				let mut block_sums = [0f32; TILE];
				for r in 0..rows {
					let at = x.as_ptr().add((g * TILE + r) * k + b * BLOCK);
					let (x0, x1) = (_mm512_loadu_ps(at), _mm512_loadu_ps(at.add(BLOCK / 2)));
					block_sums[r] = _mm512_reduce_add_ps(_mm512_add_ps(x0, x1));
					let (mut rest0, mut rest1) = (x0, x1);
					for part in split.iter_mut() {
						let (low, high) = (_mm512_cvtneps_pbh(rest0), _mm512_cvtneps_pbh(rest1));
						part[r] = _mm512_inserti64x4::<1>(
							_mm512_castsi256_si512(std::mem::transmute::<__m256bh, __m256i>(low)),
							std::mem::transmute::<__m256bh, __m256i>(high),
						);
						rest0 = _mm512_sub_ps(rest0, _mm512_cvtpbh_ps(low));
						rest1 = _mm512_sub_ps(rest1, _mm512_cvtpbh_ps(high));
					}
				}
				let base = (g * blocks + b) * PARTS * PAIRS;
				for (p, part) in split.iter_mut().enumerate() {
					transpose16(part);
					for (pair, row) in part.iter().enumerate() {
						_mm512_storeu_si512(
							parts
								.as_mut_ptr()
								.add(base + p * PAIRS + pair * TILE)
								.cast(),
							*row,
						);
					}
				}
				sums[(g * blocks + b) * TILE..][..TILE].copy_from_slice(&block_sums);
			}
		}
		Self {
			groups,
			blocks,
			parts,
			sums,
		}
	}
}

/// `v[i]` lane `j` ↔ `v[j]` lane `i`, for 16 vectors of 16 u32s.
#[inline(always)]
unsafe fn transpose16(v: &mut [__m512i; TILE]) {
	// Within 128-bit lanes: 2×2 blocks of u32, then of u64.
	let mut t = [_mm512_setzero_si512(); TILE];
	for i in 0..8 {
		t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
		t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
	}
	// u[4i + c], 128-bit lane L: element 4L + c of vectors 4i..4i+3.
	let mut u = [_mm512_setzero_si512(); TILE];
	for i in 0..4 {
		u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
		u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
		u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
		u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
	}
	// Then the 128-bit lanes: v[4L + c] = lane L of u[c], u[4 + c], u[8 + c], u[12 + c].
	for c in 0..4 {
		let even_a = _mm512_shuffle_i32x4::<0x88>(u[c], u[4 + c]);
		let odd_a = _mm512_shuffle_i32x4::<0xDD>(u[c], u[4 + c]);
		let even_b = _mm512_shuffle_i32x4::<0x88>(u[8 + c], u[12 + c]);
		let odd_b = _mm512_shuffle_i32x4::<0xDD>(u[8 + c], u[12 + c]);
		v[c] = _mm512_shuffle_i32x4::<0x88>(even_a, even_b);
		v[8 + c] = _mm512_shuffle_i32x4::<0xDD>(even_a, even_b);
		v[4 + c] = _mm512_shuffle_i32x4::<0x88>(odd_a, odd_b);
		v[12 + c] = _mm512_shuffle_i32x4::<0xDD>(odd_a, odd_b);
	}
}

/// The tile shapes: `tmm0`–`tmm6` all 16 rows of 64 bytes.
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

impl TileConfig {
	fn new() -> Self {
		let mut bytes = [0u8; 64];
		bytes[0] = 1; // palette 1
		for tile in 0..7 {
			bytes[16 + 2 * tile..18 + 2 * tile].copy_from_slice(&64u16.to_le_bytes());
			bytes[48 + tile] = TILE as u8;
		}
		Self(bytes)
	}
}

/// Weight tiles one pass multiplies together: they share each block's
/// activation tiles, and the tile unit works on one while the other waits.
const PASS: usize = 2;

/// `x·Wᵀ` for `x` `[m, cols]`, as `[m, rows]`. The caller checks
/// [`available`] and that `rows` is a multiple of 16 and `cols` of 32.
pub(crate) fn matmul_t<W: TileWeights>(w: &W, x: &[f32], m: usize) -> Vec<f32> {
	let (n, k) = (w.rows(), w.cols());
	assert!(available() && n.is_multiple_of(TILE) && k.is_multiple_of(BLOCK) && x.len() >= m * k);
	// SAFETY: `available` checked the instructions; shapes asserted above.
	let acts = unsafe { TileActivations::new(x, m, k) };
	let mut out = vec![0f32; m * n];
	let tiles = n / TILE;
	let threads = rayon::current_num_threads().max(1);
	let per_task = tiles.div_ceil(4 * threads).next_multiple_of(PASS);
	let target = OutPtr(out.as_mut_ptr());
	(0..tiles.div_ceil(per_task))
		.into_par_iter()
		.for_each(|task| {
			let range = task * per_task..tiles.min((task + 1) * per_task);
			// SAFETY: as above; tasks write disjoint columns of `out`.
			unsafe { weight_tiles(w, &acts, range, m, &target) };
		});
	out
}

/// The output buffer shared by the tasks of one matmul.
struct OutPtr(*mut f32);
// SAFETY: tasks write disjoint columns (see `weight_tiles`).
unsafe impl Sync for OutPtr {}

/// A task's buffers: unpacked weight levels, scales, and the sums the
/// tiles store.
struct Scratch {
	/// With one activation group, two slots (blocks `b` and `b + 1`) of
	/// `[PASS][16][32]`; with more, `[PASS][16][cols]`, the whole tiles.
	levels: Lines<u16>,
	/// `[PASS][16][blocks][S]`, see [`TileWeights::block_scales`].
	scales: Vec<f32>,
	sums: Sums,
}

/// Two slots (blocks `b − 1` and `b`) of `PASS` tiles' 16×16 sums, as
/// `tilestored` writes them.
#[repr(C, align(64))]
struct Sums([[f32; PASS * TILE * TILE]; 2]);

/// Columns `16·tiles` of the output, for every activation row.
///
/// # Safety
/// [`available`] holds; `out` holds `m` rows of `w.rows()` floats that no
/// one else writes in these columns meanwhile.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16,fma,f16c")]
unsafe fn weight_tiles<W: TileWeights>(
	w: &W,
	acts: &TileActivations,
	tiles: Range<usize>,
	m: usize,
	out: &OutPtr,
) {
	let k = w.cols();
	let per_scale = if W::MINS { 2 } else { 1 };
	let config = TileConfig::new();
	asm!("ldtilecfg [{}]", in(reg) config.0.as_ptr(), options(nostack));
	let whole = acts.groups > 1;
	let mut scratch = Scratch {
		levels: Lines::zeroed(PASS * TILE * if whole { k } else { 2 * BLOCK }),
		scales: vec![0f32; PASS * TILE * (k / BLOCK) * per_scale],
		sums: Sums([[0f32; PASS * TILE * TILE]; 2]),
	};
	for first in tiles.clone().step_by(PASS) {
		if first + PASS <= tiles.end {
			tile_pass::<W, PASS>(w, acts, first * TILE, m, out, &mut scratch);
		} else {
			tile_pass::<W, 1>(w, acts, first * TILE, m, out, &mut scratch);
		}
	}
	asm!("tilerelease", options(nostack, nomem));
}

/// Weight rows `first..first + 16·T` against every activation group.
///
/// With one group, each block is unpacked one step before its product;
/// with more, the whole tiles once, and every group reads them. Each
/// block's sums are scaled one step after the tiles stored them, so that
/// neither side waits for the other's stores.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16,fma,f16c")]
#[inline]
unsafe fn tile_pass<W: TileWeights, const T: usize>(
	w: &W,
	acts: &TileActivations,
	first: usize,
	m: usize,
	out: &OutPtr,
	scratch: &mut Scratch,
) {
	let (n, k) = (w.rows(), w.cols());
	let blocks = k / BLOCK;
	let per_scale = if W::MINS { 2 } else { 1 };
	let whole = acts.groups > 1;
	// Elements between tiles, rows and slots of `levels`.
	let (tile_len, row_len) = if whole {
		(TILE * k, k)
	} else {
		(TILE * BLOCK, BLOCK)
	};
	let slot_len = PASS * TILE * BLOCK;
	let levels = scratch.levels.as_mut_ptr();
	let scales_len = TILE * blocks * per_scale;
	for t in 0..T {
		w.block_scales(
			first + t * TILE,
			&mut scratch.scales[t * scales_len..(t + 1) * scales_len],
		);
		if whole {
			for b in 0..blocks {
				w.unpack_block(first + t * TILE, b, levels.add(t * tile_len + b * BLOCK), k);
			}
		} else {
			w.unpack_block(first + t * TILE, 0, levels.add(t * tile_len), BLOCK);
		}
	}
	for g in 0..acts.groups {
		let mut acc = [[_mm512_setzero_ps(); TILE]; T];
		for b in 0..blocks {
			let weights = if whole {
				levels.add(b * BLOCK)
			} else {
				levels.add((b % 2) * slot_len)
			};
			let parts = acts
				.parts
				.as_ptr()
				.add((g * acts.blocks + b) * PARTS * PAIRS);
			block_product::<T>(
				weights,
				tile_len,
				2 * row_len,
				parts,
				&mut scratch.sums.0[b % 2],
			);
			if b > 0 {
				scale_blocks::<W, T>(&mut acc, acts, scratch, g, b - 1);
			}
			if !whole && b + 1 < blocks {
				for t in 0..T {
					let slot = levels.add(((b + 1) % 2) * slot_len + t * tile_len);
					w.unpack_block(first + t * TILE, b + 1, slot, BLOCK);
				}
			}
		}
		scale_blocks::<W, T>(&mut acc, acts, scratch, g, blocks - 1);
		// acc[t][j] holds weight row j of tile t for the group's 16 rows;
		// out wants rows of activations.
		for (t, acc_t) in acc.iter().enumerate() {
			let mut rows: [__m512i; TILE] = std::mem::transmute(*acc_t);
			transpose16(&mut rows);
			for (r, row) in rows.iter().enumerate().take(TILE.min(m - g * TILE)) {
				_mm512_storeu_si512(
					out.0.add((g * TILE + r) * n + first + t * TILE).cast(),
					*row,
				);
			}
		}
	}
}

/// [`scale_block`] for the `T` tiles of a pass, block `b` of group `g`.
#[inline(always)]
unsafe fn scale_blocks<W: TileWeights, const T: usize>(
	acc: &mut [[__m512; TILE]; T],
	acts: &TileActivations,
	scratch: &Scratch,
	g: usize,
	b: usize,
) {
	let per_scale = if W::MINS { 2 } else { 1 };
	let blocks = acts.blocks;
	let scales_len = TILE * blocks * per_scale;
	let sums = scratch.sums.0[b % 2].as_ptr();
	let row_sums = acts.sums.as_ptr().add((g * blocks + b) * TILE);
	for (t, acc_t) in acc.iter_mut().enumerate() {
		let at = scratch.scales.as_ptr().add(t * scales_len + b * per_scale);
		scale_block::<W>(
			acc_t,
			sums.add(t * TILE * TILE),
			at,
			blocks * per_scale,
			row_sums,
		);
	}
}

/// `acc[j] += d_j·sums[j] (+ m_j·row_sums)` for the 16 weight rows of a
/// tile, their scale (and minimum) at `scales + j·row_stride`; written out
/// row by row so that the accumulators can stay in registers.
#[inline(always)]
unsafe fn scale_block<W: TileWeights>(
	acc: &mut [__m512; TILE],
	sums: *const f32,
	scales: *const f32,
	row_stride: usize,
	row_sums: *const f32,
) {
	let x_sums = _mm512_loadu_ps(row_sums);
	macro_rules! rows {
		($($j:literal)*) => {$(
			let at = scales.add($j * row_stride);
			acc[$j] = _mm512_fmadd_ps(_mm512_load_ps(sums.add($j * TILE)), _mm512_set1_ps(*at), acc[$j]);
			if W::MINS {
				acc[$j] = _mm512_fmadd_ps(x_sums, _mm512_set1_ps(*at.add(1)), acc[$j]);
			}
		)*};
	}
	rows!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
}

/// `sums[t][j][r] = Σ weights[t][j][e]·x[r][e]` over one block's 32
/// elements for `T` (1 or 2) weight tiles, `tile_len` u16s apart, rows
/// `stride` bytes apart; the three activation parts multiplied in one after
/// the other, each loaded once for both tiles.
///
/// # Safety
/// The tile configuration of [`TileConfig`] is loaded; the pointers hold
/// what they are said to.
#[inline(always)]
unsafe fn block_product<const T: usize>(
	weights: *const u16,
	tile_len: usize,
	stride: usize,
	parts: *const u32,
	sums: &mut [f32; PASS * TILE * TILE],
) {
	let row_bytes = 64usize;
	if T == 1 {
		asm!(
			"tilezero tmm4",
			"tileloadd tmm0, [{w} + {ws} * 1]",
			"tileloadd tmm1, [{p0} + {ps} * 1]",
			"tdpbf16ps tmm4, tmm0, tmm1",
			"tileloadd tmm2, [{p1} + {ps} * 1]",
			"tdpbf16ps tmm4, tmm0, tmm2",
			"tileloadd tmm3, [{p2} + {ps} * 1]",
			"tdpbf16ps tmm4, tmm0, tmm3",
			"tilestored [{s} + {ps} * 1], tmm4",
			w = in(reg) weights,
			ws = in(reg) stride,
			p0 = in(reg) parts,
			p1 = in(reg) parts.add(PAIRS),
			p2 = in(reg) parts.add(2 * PAIRS),
			ps = in(reg) row_bytes,
			s = in(reg) sums.as_mut_ptr(),
			options(nostack),
		);
	} else {
		asm!(
			"tilezero tmm4",
			"tilezero tmm6",
			"tileloadd tmm0, [{w0} + {ws} * 1]",
			"tileloadd tmm5, [{w1} + {ws} * 1]",
			"tileloadd tmm1, [{p0} + {ps} * 1]",
			"tdpbf16ps tmm4, tmm0, tmm1",
			"tdpbf16ps tmm6, tmm5, tmm1",
			"tileloadd tmm2, [{p1} + {ps} * 1]",
			"tdpbf16ps tmm4, tmm0, tmm2",
			"tdpbf16ps tmm6, tmm5, tmm2",
			"tileloadd tmm3, [{p2} + {ps} * 1]",
			"tdpbf16ps tmm4, tmm0, tmm3",
			"tdpbf16ps tmm6, tmm5, tmm3",
			"tilestored [{s0} + {ps} * 1], tmm4",
			"tilestored [{s1} + {ps} * 1], tmm6",
			w0 = in(reg) weights,
			w1 = in(reg) weights.add(tile_len),
			ws = in(reg) stride,
			p0 = in(reg) parts,
			p1 = in(reg) parts.add(PAIRS),
			p2 = in(reg) parts.add(2 * PAIRS),
			ps = in(reg) row_bytes,
			s0 = in(reg) sums.as_mut_ptr(),
			s1 = in(reg) sums.as_mut_ptr().add(TILE * TILE),
			options(nostack),
		);
	}
}

#[cfg(test)]
mod tests {
	use candle_core::{Device, Tensor};

	use super::*;
	use crate::engine::int4::Int4Matrix;
	use crate::engine::int8::Int8Matrix;
	use crate::engine::max_diff;

	/// Both formats, against f32 products with the dequantized weights:
	/// one group (decode batches), several with a short last one (prompts),
	/// row counts below a tile, and activations from 1e-3 to 1e3 (the
	/// three-part split keeps f32's precision at every scale).
	#[test]
	fn tiles_match_dequantized_products() {
		if !available() {
			eprintln!("skipped: this CPU or kernel has no AMX-BF16");
			return;
		}
		let device = Device::Cpu;
		for (n, k) in [(48usize, 96usize), (32, 1536)] {
			let w = Tensor::randn(0f32, 0.1, (n, k), &device).unwrap();
			let int4 = Int4Matrix::quantize(&w).unwrap();
			let int8 = Int8Matrix::quantize(&w).unwrap();
			for m in [1usize, 4, 16, 17, 40] {
				let x = Tensor::randn(0f32, 1.0, (m, k), &device).unwrap();
				let scale = Tensor::rand(-3f32, 3.0, (m, k), &device)
					.unwrap()
					.exp()
					.unwrap()
					.powf(std::f64::consts::LN_10)
					.unwrap();
				let x = (x * scale).unwrap();
				let flat = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
				for (name, dense, got) in [
					(
						"int4",
						int4.dequantize(&device).unwrap(),
						matmul_t(&int4, &flat, m),
					),
					(
						"int8",
						int8.dequantize(&device).unwrap(),
						matmul_t(&int8, &flat, m),
					),
				] {
					let expected = x.matmul(&dense.t().unwrap()).unwrap();
					let got = Tensor::from_vec(got, (m, n), &device).unwrap();
					let magnitude = x
						.abs()
						.unwrap()
						.matmul(&dense.abs().unwrap().t().unwrap())
						.unwrap()
						.flatten_all()
						.unwrap()
						.max(0)
						.unwrap()
						.to_scalar::<f32>()
						.unwrap();
					let diff = max_diff(&got, &expected);
					assert!(
						diff <= magnitude * 1e-5,
						"{name} [{n}, {k}], m = {m}: {diff} against sums up to {magnitude}"
					);
				}
			}
		}
	}

	/// A single bf16 part would be off by about 1e-3 relative: the
	/// comparison above would catch a kernel that dropped the other two.
	#[test]
	fn parts_sum_to_the_activation_exactly() {
		if !available() {
			eprintln!("skipped: this CPU or kernel has no AMX-BF16");
			return;
		}
		let x: Vec<f32> = (0..16 * 64)
			.map(|i| ((i as f32) * 0.7316).sin() * 10f32.powi(i % 7 - 3))
			.collect();
		// SAFETY: `available` checked the instructions.
		let acts = unsafe { TileActivations::new(&x, 16, 64) };
		for (i, value) in x.iter().enumerate() {
			let (r, col) = (i / 64, i % 64);
			let (b, e) = (col / BLOCK, col % BLOCK);
			let at = b * PARTS * PAIRS + (e / 2) * TILE + r;
			let sum: f32 = (0..PARTS)
				.map(|p| {
					// SAFETY: within the 16 rows × 64 columns written.
					let pair = unsafe { *acts.parts.as_ptr().add(at + p * PAIRS) };
					let bits = if e % 2 == 0 {
						pair & 0xFFFF
					} else {
						pair >> 16
					};
					f32::from_bits(bits << 16)
				})
				.fold(0.0, |a, v| a + v);
			assert_eq!(sum, *value, "row {r}, column {col}");
		}
	}

	#[target_feature(enable = "avx512f")]
	unsafe fn transposed(values: [[u32; TILE]; TILE]) -> [[u32; TILE]; TILE] {
		let mut v: [__m512i; TILE] = std::mem::transmute(values);
		transpose16(&mut v);
		std::mem::transmute(v)
	}

	#[test]
	fn transpose_swaps_rows_and_lanes() {
		if !is_x86_feature_detected!("avx512f") {
			eprintln!("skipped: no AVX-512");
			return;
		}
		let mut values = [[0u32; TILE]; TILE];
		for (i, row) in values.iter_mut().enumerate() {
			for (j, v) in row.iter_mut().enumerate() {
				*v = (i * 100 + j) as u32;
			}
		}
		// SAFETY: AVX-512F checked above.
		let got = unsafe { transposed(values) };
		for (i, row) in got.iter().enumerate() {
			for (j, v) in row.iter().enumerate() {
				assert_eq!(*v, (j * 100 + i) as u32, "[{i}][{j}]");
			}
		}
	}
}
