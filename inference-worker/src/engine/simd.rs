//! The two vector primitives the CPU kernels are built from. Written with
//! independent accumulators so that the compiler vectorises them; on x86-64
//! they are compiled a second time with AVX2+FMA and chosen at run time,
//! since the default target only promises SSE2. Kernels that call them in
//! a loop (attention) are multiversioned whole, so that they inline. Plain multiply-adds (not
//! `mul_add`) keep both builds bit-identical and avoid a libm call on SSE2.

use super::attention::GroupSpan;

#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
	const LANES: usize = 16;
	let n = a.len().min(b.len());
	let (a, b) = (&a[..n], &b[..n]);
	let mut acc = [0f32; LANES];
	let mut chunks_a = a.chunks_exact(LANES);
	let mut chunks_b = b.chunks_exact(LANES);
	for (ca, cb) in (&mut chunks_a).zip(&mut chunks_b) {
		for i in 0..LANES {
			acc[i] += ca[i] * cb[i];
		}
	}
	let mut tail = 0f32;
	for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
		tail += x * y;
	}
	acc.iter().sum::<f32>() + tail
}

#[inline(always)]
fn axpy_portable(alpha: f32, x: &[f32], y: &mut [f32]) {
	for (yi, xi) in y.iter_mut().zip(x) {
		*yi += alpha * xi;
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
			scores[g * len + t] = dot_portable(query, key) * scale;
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
			axpy_portable(scores[g * len + t], value, o);
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
	if x86::has_avx2_fma() {
		// SAFETY: the CPU was checked to support AVX2 and FMA.
		return unsafe { x86::attend_group(queries, keys, values, span, scale, out, scores) };
	}
	attend_group_portable(queries, keys, values, span, scale, out, scores)
}

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

	#[target_feature(enable = "avx2,fma")]
	pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
		super::dot_portable(a, b)
	}

	#[target_feature(enable = "avx2,fma")]
	pub(super) fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
		super::axpy_portable(alpha, x, y)
	}

	pub(super) fn has_avx2_fma() -> bool {
		static DETECTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
		*DETECTED.get_or_init(|| {
			std::arch::is_x86_feature_detected!("avx2")
				&& std::arch::is_x86_feature_detected!("fma")
		})
	}
}

/// `Σ aᵢ·bᵢ` over the shorter of the two slices.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
	#[cfg(target_arch = "x86_64")]
	if x86::has_avx2_fma() {
		// SAFETY: the CPU was checked to support AVX2 and FMA.
		return unsafe { x86::dot(a, b) };
	}
	dot_portable(a, b)
}

/// `y += alpha·x` over the shorter of the two slices.
#[inline]
pub(crate) fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
	#[cfg(target_arch = "x86_64")]
	if x86::has_avx2_fma() {
		// SAFETY: the CPU was checked to support AVX2 and FMA.
		return unsafe { x86::axpy(alpha, x, y) };
	}
	axpy_portable(alpha, x, y)
}

#[cfg(test)]
mod tests {
	#[test]
	fn dot_and_axpy_agree_with_naive_loops() {
		let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5 - 3.0).collect();
		let b: Vec<f32> = (0..37).map(|i| 1.0 - i as f32 * 0.25).collect();
		let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
		assert!((super::dot(&a, &b) - naive).abs() < 1e-3);
		let mut y = b.clone();
		super::axpy(2.0, &a, &mut y);
		for i in 0..37 {
			assert!((y[i] - (b[i] + 2.0 * a[i])).abs() < 1e-5);
		}
	}
}
