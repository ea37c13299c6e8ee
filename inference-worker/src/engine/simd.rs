//! Vector primitives of the CPU kernels: dot products and axpys written
//! with independent accumulators so that the compiler vectorises them.
//! They are `#[inline(always)]` so that they take the instruction set of
//! the kernel that calls them: kernels are compiled a second time with
//! AVX2+FMA and chosen at run time, since the default target only promises
//! SSE2. Plain multiply-adds (not `mul_add`) avoid a libm call on SSE2.

use super::attention::GroupSpan;

/// A stored weight the kernels widen to f32 on the fly.
pub(crate) trait Element: Copy + Send + Sync {
	fn widen(self) -> f32;
}

impl Element for f32 {
	#[inline(always)]
	fn widen(self) -> f32 {
		self
	}
}

impl Element for half::bf16 {
	#[inline(always)]
	fn widen(self) -> f32 {
		// bf16 is the top half of an f32.
		f32::from_bits(u32::from(self.to_bits()) << 16)
	}
}

impl Element for i8 {
	#[inline(always)]
	fn widen(self) -> f32 {
		f32::from(self)
	}
}

/// `Σ wᵢ·xᵢ` with stored weights `w`; inlines into multiversioned callers.
#[inline(always)]
pub(crate) fn dot_elements<E: Element>(w: &[E], x: &[f32]) -> f32 {
	const LANES: usize = 16;
	let n = w.len().min(x.len());
	let (w, x) = (&w[..n], &x[..n]);
	let mut acc = [0f32; LANES];
	let mut chunks_w = w.chunks_exact(LANES);
	let mut chunks_x = x.chunks_exact(LANES);
	for (cw, cx) in (&mut chunks_w).zip(&mut chunks_x) {
		for i in 0..LANES {
			acc[i] += cw[i].widen() * cx[i];
		}
	}
	let mut tail = 0f32;
	for (a, b) in chunks_w.remainder().iter().zip(chunks_x.remainder()) {
		tail += a.widen() * b;
	}
	acc.iter().sum::<f32>() + tail
}

/// `y += alpha·w` with stored weights `w`; inlines into multiversioned callers.
#[inline(always)]
pub(crate) fn axpy_elements<E: Element>(alpha: f32, w: &[E], y: &mut [f32]) {
	for (yi, wi) in y.iter_mut().zip(w) {
		*yi += alpha * wi.widen();
	}
}

/// Softmax attention of `group` query heads (`queries`, `group·d` values)
/// over one key/value head's cached history, into `out` (`group·d`).
#[inline(always)]
pub(crate) fn attend_group_portable(
	queries: &[f32],
	keys: &[f32],
	values: &[f32],
	span: GroupSpan,
	scale: f32,
	out: &mut [f32],
	scores: &mut Vec<f32>,
) {
	let GroupSpan {
		kv_row,
		offset,
		len,
		head_dim,
	} = span;
	let group = queries.len() / head_dim;
	scores.clear();
	scores.resize(group * len, 0.0);
	for t in 0..len {
		let key = &keys[t * kv_row + offset..][..head_dim];
		for (g, query) in queries.chunks_exact(head_dim).enumerate() {
			scores[g * len + t] = dot_elements(query, key) * scale;
		}
	}
	for row in scores.chunks_exact_mut(len) {
		let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
		let mut total = 0f32;
		for s in row.iter_mut() {
			*s = (*s - max).exp();
			total += *s;
		}
		let inverse = 1.0 / total;
		for s in row.iter_mut() {
			*s *= inverse;
		}
	}
	for t in 0..len {
		let value = &values[t * kv_row + offset..][..head_dim];
		for (g, o) in out.chunks_exact_mut(head_dim).enumerate() {
			axpy_elements(scores[g * len + t], value, o);
		}
	}
}

/// [`attend_group_portable`] with the best vector instructions available.
#[inline]
pub(crate) fn attend_group(
	queries: &[f32],
	keys: &[f32],
	values: &[f32],
	span: GroupSpan,
	scale: f32,
	out: &mut [f32],
	scores: &mut Vec<f32>,
) {
	#[cfg(target_arch = "x86_64")]
	if x86::has_avx512() {
		// SAFETY: the CPU was checked to support AVX-512F, AVX2 and FMA.
		return unsafe {
			x86::attend_group_avx512(queries, keys, values, span, scale, out, scores)
		};
	}
	#[cfg(target_arch = "x86_64")]
	if x86::has_avx2_fma() {
		// SAFETY: the CPU was checked to support AVX2 and FMA.
		return unsafe { x86::attend_group(queries, keys, values, span, scale, out, scores) };
	}
	attend_group_portable(queries, keys, values, span, scale, out, scores)
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{has_avx2_fma, hsum256, simd_level, SimdLevel};

#[cfg(target_arch = "x86_64")]
mod x86 {
	use super::GroupSpan;

	#[target_feature(enable = "avx2,fma")]
	pub(super) fn attend_group(
		queries: &[f32],
		keys: &[f32],
		values: &[f32],
		span: GroupSpan,
		scale: f32,
		out: &mut [f32],
		scores: &mut Vec<f32>,
	) {
		super::attend_group_portable(queries, keys, values, span, scale, out, scores)
	}

	/// As [`attend_group`], with 16-lane vectors.
	#[target_feature(enable = "avx512f,avx2,fma")]
	pub(super) fn attend_group_avx512(
		queries: &[f32],
		keys: &[f32],
		values: &[f32],
		span: GroupSpan,
		scale: f32,
		out: &mut [f32],
		scores: &mut Vec<f32>,
	) {
		super::attend_group_portable(queries, keys, values, span, scale, out, scores)
	}

	pub(super) fn has_avx512() -> bool {
		static DETECTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
		*DETECTED.get_or_init(|| has_avx2_fma() && std::arch::is_x86_feature_detected!("avx512f"))
	}

	/// The widest vector kernels this CPU runs: AVX-512F, or AVX2 with FMA
	/// and F16C, or neither. Detected once.
	#[derive(Clone, Copy, PartialEq, Eq, Debug)]
	pub(crate) enum SimdLevel {
		Avx512,
		Avx2,
		Baseline,
	}

	pub(crate) fn simd_level() -> SimdLevel {
		static LEVEL: std::sync::OnceLock<SimdLevel> = std::sync::OnceLock::new();
		*LEVEL.get_or_init(|| {
			let avx2 = has_avx2_fma() && std::arch::is_x86_feature_detected!("f16c");
			if avx2 && std::arch::is_x86_feature_detected!("avx512f") {
				SimdLevel::Avx512
			} else if avx2 {
				SimdLevel::Avx2
			} else {
				SimdLevel::Baseline
			}
		})
	}

	/// The sum of the eight lanes of `v`.
	///
	/// # Safety
	/// The CPU must support AVX.
	#[inline]
	#[target_feature(enable = "avx")]
	pub(crate) unsafe fn hsum256(v: std::arch::x86_64::__m256) -> f32 {
		use std::arch::x86_64::*;
		let half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
		let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
		_mm_cvtss_f32(_mm_add_ss(quarter, _mm_shuffle_ps(quarter, quarter, 1)))
	}

	pub(crate) fn has_avx2_fma() -> bool {
		static DETECTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
		*DETECTED.get_or_init(|| {
			std::arch::is_x86_feature_detected!("avx2")
				&& std::arch::is_x86_feature_detected!("fma")
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn dot_and_axpy_agree_with_naive_loops() {
		let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5 - 3.0).collect();
		let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.25).collect();
		let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
		assert!((dot_elements(&a, &b) - naive).abs() < 1e-3);
		let halves: Vec<half::bf16> = a.iter().map(|v| half::bf16::from_f32(*v)).collect();
		assert!(
			(dot_elements(&halves, &b) - naive).abs() < 1e-3,
			"these values are exact in bf16"
		);
		let mut y = b.clone();
		axpy_elements(2.0, &a, &mut y);
		for i in 0..37 {
			assert!((y[i] - (b[i] + 2.0 * a[i])).abs() < 1e-5);
		}
	}
}
