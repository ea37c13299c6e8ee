//! Causal grouped-query attention over a ragged batch: each sequence's rows
//! attend to that sequence's own past (its KV cache) and to its earlier rows.
//!
//! Two implementations with the same result:
//! - [`host_attention`], a CPU kernel that appends to plain-memory caches
//!   and computes every (row, head) in parallel with no per-sequence tensor
//!   ops — what serving many short decode rows needs;
//! - [`tensor_attention`], candle tensor ops, used on other devices and for
//!   training (differentiable when `mode` is [`Execution::Differentiable`]).

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::kv_cache::{DeviceKv, HostKv};
use super::ops::{softmax_last_dim, Execution};
use super::{simd, EngineError, Result};

/// Head layout of the attention.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Heads {
	pub heads: usize,
	pub kv_heads: usize,
	pub head_dim: usize,
}

impl Heads {
	fn group(&self) -> usize {
		self.heads / self.kv_heads
	}
	fn scale(&self) -> f32 {
		1.0 / (self.head_dim as f32).sqrt()
	}
}

/// Rows `[start, start + len)` of the batch belong to one sequence.
pub(crate) type Rows = (usize, usize);

/// Below this many multiply-adds the kernel runs on the calling thread.
const PARALLEL_MIN_WORK: usize = 1 << 16;

/// Attention for `layer` with CPU caches. `q` is `[rows, heads·head_dim]`,
/// `k` and `v` are `[rows, kv_heads·head_dim]` (after rotary embedding).
/// Appends each sequence's new keys and values to its cache.
pub(crate) fn host_attention(
	q: &Tensor,
	k: &Tensor,
	v: &Tensor,
	layer: usize,
	heads: Heads,
	sequences: &mut [(Rows, &mut HostKv)],
) -> Result<Tensor> {
	let Heads {
		heads: n_heads,
		head_dim,
		..
	} = heads;
	let q_data = q.flatten_all()?.to_vec1::<f32>()?;
	let k_data = k.flatten_all()?.to_vec1::<f32>()?;
	let v_data = v.flatten_all()?.to_vec1::<f32>()?;
	let rows = q.dim(0)?;
	let q_row = n_heads * head_dim;

	// Append the new keys and values, and note each row's sequence and position.
	let mut row_owner = vec![(0usize, 0usize); rows];
	let mut work = 0usize;
	for (seq, ((start, len), cache)) in sequences.iter_mut().enumerate() {
		let kv_row = cache.row;
		let (keys, values) = cache
			.layers
			.get_mut(layer)
			.ok_or_else(|| EngineError::Batch(format!("cache has no layer {layer}")))?;
		let span = *start * kv_row..(*start + *len) * kv_row;
		keys.extend_from_slice(&k_data[span.clone()]);
		values.extend_from_slice(&v_data[span]);
		for j in 0..*len {
			let position = cache.len + j;
			row_owner[*start + j] = (seq, position);
			work += (position + 1) * head_dim * 2 * n_heads;
		}
	}
	let caches: Vec<(&[f32], &[f32], usize)> = sequences
		.iter()
		.map(|(_, c)| {
			(
				c.layers[layer].0.as_slice(),
				c.layers[layer].1.as_slice(),
				c.row,
			)
		})
		.collect();

	// One task per (row, key/value head): the query heads sharing that
	// key/value head are scored together, so each cached key and value is
	// read once per group rather than once per query head.
	let group = heads.group();
	let mut out = vec![0f32; rows * q_row];
	let one_group = |index: usize, out: &mut [f32], scores: &mut Vec<f32>| {
		let (row, kv_head) = (index / heads.kv_heads, index % heads.kv_heads);
		let (seq, position) = row_owner[row];
		let (keys, values, kv_row) = caches[seq];
		let queries = &q_data[row * q_row + kv_head * group * head_dim..][..group * head_dim];
		let span = GroupSpan {
			kv_row,
			offset: kv_head * head_dim,
			len: position + 1,
			head_dim,
		};
		simd::attend_group(queries, keys, values, span, heads.scale(), out, scores);
	};
	if work < PARALLEL_MIN_WORK {
		let mut scores = Vec::new();
		for (index, o) in out.chunks_exact_mut(group * head_dim).enumerate() {
			one_group(index, o, &mut scores);
		}
	} else {
		out.par_chunks_exact_mut(group * head_dim)
			.enumerate()
			.for_each_init(Vec::new, |scores, (index, o)| one_group(index, o, scores));
	}
	Ok(Tensor::from_vec(out, (rows, q_row), q.device())?)
}

/// Where one key/value head's history lies in a sequence's cache.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GroupSpan {
	/// Floats per cached token.
	pub kv_row: usize,
	/// Offset of the head within a token's row.
	pub offset: usize,
	/// Tokens to attend to.
	pub len: usize,
	pub head_dim: usize,
}

/// Attention for `layer` with tensor ops. With `caches`, each sequence's
/// keys and values are appended to its device cache; without, every
/// sequence is complete in the batch (training).
pub(crate) fn tensor_attention(
	(q, k, v): (&Tensor, &Tensor, &Tensor),
	layer: usize,
	heads: Heads,
	sequences: &[Rows],
	mut caches: Option<&mut [&mut DeviceKv]>,
	mode: Execution,
) -> Result<Tensor> {
	let Heads {
		heads: n_heads,
		kv_heads,
		head_dim,
	} = heads;
	let mut outputs = Vec::with_capacity(sequences.len());
	for (i, &(start, len)) in sequences.iter().enumerate() {
		let split = |t: &Tensor, h: usize| -> Result<Tensor> {
			Ok(t.narrow(0, start, len)?
				.reshape((len, h, head_dim))?
				.transpose(0, 1)?
				.contiguous()?)
		};
		let (q_i, k_i, v_i) = (split(q, n_heads)?, split(k, kv_heads)?, split(v, kv_heads)?);
		let (keys, values, past) = match caches.as_deref_mut() {
			Some(caches) => {
				let cache = caches
					.get_mut(i)
					.ok_or_else(|| EngineError::Batch("fewer caches than sequences".into()))?;
				let past = cache.len;
				let slot = cache
					.layers
					.get_mut(layer)
					.ok_or_else(|| EngineError::Batch(format!("cache has no layer {layer}")))?;
				let (keys, values) = match slot.take() {
					Some((pk, pv)) => {
						(Tensor::cat(&[&pk, &k_i], 1)?, Tensor::cat(&[&pv, &v_i], 1)?)
					},
					None => (k_i, v_i),
				};
				*slot = Some((keys.clone(), values.clone()));
				(keys, values, past)
			},
			None => (k_i, v_i, 0),
		};
		outputs.push(attend(&q_i, &keys, &values, past, heads, mode)?);
	}
	Ok(Tensor::cat(&outputs, 0)?)
}

/// `softmax(q·kᵀ/√d + causal mask)·v` for one sequence: `q` `[heads, t, d]`,
/// `k`, `v` `[kv_heads, past + t, d]`; returns `[t, heads·d]`.
fn attend(
	q: &Tensor,
	k: &Tensor,
	v: &Tensor,
	past: usize,
	heads: Heads,
	mode: Execution,
) -> Result<Tensor> {
	let (_, t, d) = q.dims3()?;
	let total = k.dim(1)?;
	let group = heads.group();
	// Query heads that share a key/value head are stacked as extra rows.
	let q = q.reshape((heads.kv_heads, group * t, d))?;
	let mut scores = (q.matmul(&k.t()?)? * f64::from(heads.scale()))?;
	if t > 1 {
		let mask = causal_mask(t, past, total, q.device())?;
		scores = scores
			.reshape((heads.kv_heads, group, t, total))?
			.broadcast_add(&mask)?
			.reshape((heads.kv_heads, group * t, total))?;
	}
	let probs = softmax_last_dim(&scores, mode)?;
	let out = probs
		.matmul(v)?
		.reshape((heads.heads, t, d))?
		.transpose(0, 1)?;
	Ok(out.reshape((t, heads.heads * d))?)
}

/// `[t, total]`: 0 where row `j` (at position `past + j`) may look, −∞ after.
fn causal_mask(t: usize, past: usize, total: usize, device: &Device) -> Result<Tensor> {
	let mask: Vec<f32> = (0..t)
		.flat_map(|j| {
			(0..total).map(move |key| {
				if key > past + j {
					f32::NEG_INFINITY
				} else {
					0.0
				}
			})
		})
		.collect();
	Ok(Tensor::from_vec(mask, (t, total), device)?)
}
