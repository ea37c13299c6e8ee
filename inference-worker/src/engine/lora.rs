//! Low-rank adaptation: `y = x·Wᵀ + scale · x·Aᵀ·Bᵀ` in every targeted
//! projection, for a batch whose rows use different adapters.
//!
//! A batch is a list of [`RowSegment`]s, contiguous runs of rows that use
//! the same adapter (or none). The base matmul runs once for all rows; the
//! low-rank path runs per segment (Punica's BGMV / S-LoRA's gathered
//! matmuls) and is added into the base output:
//! - for serving on the CPU, one kernel per projection walks all segments
//!   and accumulates into the base output in place;
//! - otherwise (GPU, or training) each segment's delta is computed with
//!   ordinary tensor ops, which autograd can differentiate.

use std::ops::Range;

use candle_core::{CpuStorage, DType, InplaceOp2, Layout, Storage, Tensor};
use rayon::prelude::*;

use super::{simd, EngineError, Result};

/// The projections of a decoder layer that LoRA can adapt, named as PEFT's
/// `target_modules` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoraTarget {
	Q,
	K,
	V,
	O,
	Gate,
	Up,
	Down,
}

impl LoraTarget {
	/// Every target, in the order the forward pass meets them.
	pub const ALL: [LoraTarget; 7] = [
		LoraTarget::Q,
		LoraTarget::K,
		LoraTarget::V,
		LoraTarget::O,
		LoraTarget::Gate,
		LoraTarget::Up,
		LoraTarget::Down,
	];

	/// PEFT's name for the projection (`q_proj`, ..., `down_proj`).
	pub fn module_name(self) -> &'static str {
		match self {
			Self::Q => "q_proj",
			Self::K => "k_proj",
			Self::V => "v_proj",
			Self::O => "o_proj",
			Self::Gate => "gate_proj",
			Self::Up => "up_proj",
			Self::Down => "down_proj",
		}
	}

	/// The inverse of [`Self::module_name`].
	pub fn from_module_name(name: &str) -> Option<Self> {
		Self::ALL.into_iter().find(|t| t.module_name() == name)
	}

	/// The module's path in a Hugging Face Llama/Qwen2 model.
	pub fn module_path(self, layer: usize) -> String {
		let block = match self {
			Self::Q | Self::K | Self::V | Self::O => "self_attn",
			Self::Gate | Self::Up | Self::Down => "mlp",
		};
		format!("model.layers.{layer}.{block}.{}", self.module_name())
	}

	fn index(self) -> usize {
		self as usize
	}
}

/// How a resident adapter's weights are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoraStorage {
	/// As trained, exactly.
	F32,
	/// Rounded to bf16: half the bytes of f32.
	Bf16,
	/// Each row of `A` and `Bᵀ` as 8-bit integers with one f32 scale (its
	/// largest magnitude over 127): a quarter of the bytes of f32, half of
	/// bf16, for the CPU kernel. A batch over many adapters is bound by
	/// reading their weights, so this is the default.
	#[default]
	Int8,
}

impl LoraStorage {
	/// The name the worker's flag and metrics use.
	pub fn name(self) -> &'static str {
		match self {
			Self::F32 => "f32",
			Self::Bf16 => "bf16",
			Self::Int8 => "int8",
		}
	}

	/// The inverse of [`Self::name`].
	pub fn from_name(name: &str) -> Option<Self> {
		[Self::F32, Self::Bf16, Self::Int8]
			.into_iter()
			.find(|s| s.name() == name)
	}
}

/// One low-rank update `ΔW = scale · B·A` of one projection, kept as
/// `A` `[rank, in]` and `Bᵀ` `[rank, out]` so that both the tensor path
/// (`x·Aᵀ·Bᵀ`) and the CPU kernel (`y += tₖ·Bᵀₖ`) read rows.
#[derive(Clone, Debug)]
pub struct LoraPair {
	weights: PairWeights,
	scale: f64,
}

#[derive(Clone, Debug)]
enum PairWeights {
	/// Float tensors (f32 or bf16), possibly trainable variables.
	Tensors { a: Tensor, b_t: Tensor },
	/// [`LoraStorage::Int8`], for the CPU kernel.
	Int8 { a: Int8Rows, b_t: Int8Rows },
}

/// Rows of 8-bit weights, each with one scale: `wᵢⱼ = scaleᵢ · qᵢⱼ`. The
/// values and scales may be ranges of buffers shared with other pairs.
#[derive(Clone, Debug)]
struct Int8Rows {
	values: std::sync::Arc<[i8]>,
	scales: std::sync::Arc<[f32]>,
	/// Where the rows start in `values` and in `scales`.
	start: usize,
	scale_start: usize,
	rows: usize,
	cols: usize,
}

impl Int8Rows {
	fn values(&self) -> &[i8] {
		&self.values[self.start..self.start + self.rows * self.cols]
	}

	fn scales(&self) -> &[f32] {
		&self.scales[self.scale_start..self.scale_start + self.rows]
	}

	/// The weights the integers stand for, `[rows, cols]` in f32.
	fn dequantize(&self) -> Result<Tensor> {
		let values = dequantize_rows(self.values(), self.scales());
		Ok(Tensor::from_vec(
			values,
			(self.rows, self.cols),
			&candle_core::Device::Cpu,
		)?)
	}
}

/// `scaleᵢ · qᵢⱼ` for rows of 8-bit values, one scale per row.
fn dequantize_rows(values: &[i8], scales: &[f32]) -> Vec<f32> {
	let cols = values.len() / scales.len().max(1);
	values
		.chunks_exact(cols.max(1))
		.zip(scales)
		.flat_map(|(row, s)| row.iter().map(move |q| f32::from(*q) * s))
		.collect()
}

/// Appends `w` `[rows, cols]` to `values` and `scales` as 8-bit rows, and
/// says where they went.
fn quantize_rows(
	w: &Tensor,
	values: &mut Vec<i8>,
	scales: &mut Vec<f32>,
) -> Result<(usize, usize)> {
	let (start, scale_start) = (values.len(), scales.len());
	for row in w.to_dtype(DType::F32)?.to_vec2::<f32>()? {
		let largest = row.iter().fold(0f32, |m, v| m.max(v.abs()));
		if !largest.is_finite() {
			return Err(EngineError::Batch("LoRA weights are not finite".into()));
		}
		let scale = largest / 127.0;
		let inverse = if scale > 0.0 { 1.0 / scale } else { 0.0 };
		// |v·inverse| <= 127 up to rounding; the clamp keeps it so. Adding
		// and taking away 1.5·2²³ rounds to the nearest integer (ties to
		// even) in f32 arithmetic alone, without a call to `roundf`.
		const ROUND: f32 = 12_582_912.0;
		values.extend(row.iter().map(|v| {
			let level = (v * inverse).clamp(-127.0, 127.0);
			((level + ROUND) - ROUND) as i8
		}));
		scales.push(scale);
	}
	Ok((start, scale_start))
}

impl LoraPair {
	/// From PEFT's `lora_A` `[rank, in]` and `lora_B` `[out, rank]`.
	pub fn from_peft(a: Tensor, b: Tensor, scale: f64) -> Result<Self> {
		let b_t = b.t()?.contiguous()?;
		Self::new(a, b_t, scale)
	}

	/// From `A` `[rank, in]` and `Bᵀ` `[rank, out]`. The tensors may be
	/// trainable variables: the tensor path differentiates through them.
	pub fn new(a: Tensor, b_t: Tensor, scale: f64) -> Result<Self> {
		let (rank_a, _) = a.dims2()?;
		let (rank_b, _) = b_t.dims2()?;
		if rank_a != rank_b {
			return Err(EngineError::Batch(format!(
				"LoRA A has rank {rank_a} but B has {rank_b}"
			)));
		}
		Ok(Self {
			weights: PairWeights::Tensors { a, b_t },
			scale,
		})
	}

	pub fn rank(&self) -> usize {
		self.dims().0
	}
	pub fn in_dim(&self) -> usize {
		self.dims().1
	}
	pub fn out_dim(&self) -> usize {
		self.dims().2
	}
	pub fn scale(&self) -> f64 {
		self.scale
	}

	/// (rank, in, out).
	fn dims(&self) -> (usize, usize, usize) {
		match &self.weights {
			PairWeights::Tensors { a, b_t } => (a.dims()[0], a.dims()[1], b_t.dims()[1]),
			PairWeights::Int8 { a, b_t } => (a.rows, a.cols, b_t.cols),
		}
	}

	/// How the weights are stored.
	pub fn storage(&self) -> LoraStorage {
		match &self.weights {
			PairWeights::Tensors { a, .. } if a.dtype() == DType::BF16 => LoraStorage::Bf16,
			PairWeights::Tensors { .. } => LoraStorage::F32,
			PairWeights::Int8 { .. } => LoraStorage::Int8,
		}
	}

	/// `A`, `[rank, in]`: the stored tensor (a trainable variable stays
	/// one), or the values 8-bit rows stand for, in f32.
	pub fn a(&self) -> Result<Tensor> {
		match &self.weights {
			PairWeights::Tensors { a, .. } => Ok(a.clone()),
			PairWeights::Int8 { a, .. } => a.dequantize(),
		}
	}

	/// `Bᵀ`, `[rank, out]`, as [`Self::a`].
	pub fn b_t(&self) -> Result<Tensor> {
		match &self.weights {
			PairWeights::Tensors { b_t, .. } => Ok(b_t.clone()),
			PairWeights::Int8 { b_t, .. } => b_t.dequantize(),
		}
	}

	/// `scale · x·Aᵀ·Bᵀ` for `x` `[rows, in]`, with differentiable ops.
	pub fn delta(&self, x: &Tensor) -> Result<Tensor> {
		let (a, b_t) = (self.a()?, self.b_t()?);
		let (a, b_t) = (
			a.to_device(x.device())?.to_dtype(x.dtype())?,
			b_t.to_device(x.device())?.to_dtype(x.dtype())?,
		);
		Ok((x.matmul(&a.t()?)?.matmul(&b_t)? * self.scale)?)
	}

	/// The dense update `scale · B·A`, `[out, in]`, for merging.
	pub fn delta_weight(&self) -> Result<Tensor> {
		let (a, b_t) = (
			self.a()?.to_dtype(DType::F32)?,
			self.b_t()?.to_dtype(DType::F32)?,
		);
		Ok((b_t.t()?.matmul(&a)? * self.scale)?)
	}

	pub fn size_in_bytes(&self) -> usize {
		match &self.weights {
			PairWeights::Tensors { a, b_t } => {
				(a.elem_count() + b_t.elem_count()) * a.dtype().size_in_bytes()
			},
			PairWeights::Int8 { a, b_t } => {
				(a.rows * a.cols + b_t.rows * b_t.cols)
					+ (a.rows + b_t.rows) * std::mem::size_of::<f32>()
			},
		}
	}
}

/// The LoRA updates of one adapter, per layer and target.
#[derive(Clone, Debug, Default)]
pub struct LoraWeights {
	layers: Vec<[Option<LoraPair>; 7]>,
}

impl LoraWeights {
	pub fn new(num_layers: usize) -> Self {
		Self {
			layers: vec![Default::default(); num_layers],
		}
	}

	pub fn insert(&mut self, layer: usize, target: LoraTarget, pair: LoraPair) -> Result<()> {
		let slots = self.layers.get_mut(layer).ok_or_else(|| {
			EngineError::Batch(format!("LoRA for layer {layer} of a smaller model"))
		})?;
		slots[target.index()] = Some(pair);
		Ok(())
	}

	pub fn get(&self, layer: usize, target: LoraTarget) -> Option<&LoraPair> {
		self.layers
			.get(layer)
			.and_then(|slots| slots[target.index()].as_ref())
	}

	pub fn num_layers(&self) -> usize {
		self.layers.len()
	}

	/// Every pair with its layer and target.
	pub fn pairs(&self) -> impl Iterator<Item = (usize, LoraTarget, &LoraPair)> {
		self.layers.iter().enumerate().flat_map(|(layer, slots)| {
			LoraTarget::ALL
				.into_iter()
				.filter_map(move |t| slots[t.index()].as_ref().map(|p| (layer, t, p)))
		})
	}

	pub fn size_in_bytes(&self) -> usize {
		self.pairs().map(|(_, _, p)| p.size_in_bytes()).sum()
	}

	/// The same weights kept as `storage`, in one buffer in the order a
	/// forward pass reads them (layer by layer, each target's `A` then
	/// `Bᵀ`), every pair a view into it. A batch over many adapters then
	/// reads each row's weights for a projection as one run of memory
	/// rather than several scattered allocations.
	/// Float storage is placed on `device`; 8-bit rows are the CPU
	/// kernel's, so on another device they are kept in bf16.
	pub fn stored_as(&self, storage: LoraStorage, device: &candle_core::Device) -> Result<Self> {
		let mut packed = Self::new(self.num_layers());
		if storage == LoraStorage::Int8 && device.is_cpu() {
			let (mut values, mut scales) = (Vec::new(), Vec::new());
			let mut places = Vec::new();
			for (_, _, pair) in self.pairs() {
				let a = quantize_rows(&pair.a()?, &mut values, &mut scales)?;
				let b_t = quantize_rows(&pair.b_t()?, &mut values, &mut scales)?;
				places.push((a, b_t));
			}
			let (values, scales): (std::sync::Arc<[i8]>, std::sync::Arc<[f32]>) =
				(values.into(), scales.into());
			for ((layer, target, pair), (a, b_t)) in self.pairs().zip(places) {
				let (rank, in_dim, out_dim) = pair.dims();
				let rows = |(start, scale_start): (usize, usize), cols| Int8Rows {
					values: values.clone(),
					scales: scales.clone(),
					start,
					scale_start,
					rows: rank,
					cols,
				};
				let weights = PairWeights::Int8 {
					a: rows(a, in_dim),
					b_t: rows(b_t, out_dim),
				};
				packed.insert(
					layer,
					target,
					LoraPair {
						weights,
						scale: pair.scale,
					},
				)?;
			}
			return Ok(packed);
		}
		let dtype = match storage {
			LoraStorage::F32 => DType::F32,
			_ => DType::BF16,
		};
		let mut parts = Vec::new();
		for (_, _, pair) in self.pairs() {
			parts.push(pair.a()?.to_dtype(dtype)?.flatten_all()?);
			parts.push(pair.b_t()?.to_dtype(dtype)?.flatten_all()?);
		}
		if parts.is_empty() {
			return Ok(packed);
		}
		let buffer = Tensor::cat(&parts, 0)?.to_device(device)?;
		let mut offset = 0;
		let mut view = |rows: usize, cols: usize| -> Result<Tensor> {
			let part = buffer
				.narrow(0, offset, rows * cols)?
				.reshape((rows, cols))?;
			offset += rows * cols;
			Ok(part)
		};
		for (layer, target, pair) in self.pairs() {
			let (rank, in_dim, out_dim) = pair.dims();
			let a = view(rank, in_dim)?;
			let b_t = view(rank, out_dim)?;
			packed.insert(layer, target, LoraPair::new(a, b_t, pair.scale)?)?;
		}
		Ok(packed)
	}
}

/// A contiguous run of batch rows that use the same adapter (or none).
#[derive(Clone, Copy, Debug)]
pub struct RowSegment<'a> {
	pub rows: (usize, usize),
	pub lora: Option<&'a LoraWeights>,
}

impl RowSegment<'_> {
	fn range(&self) -> Range<usize> {
		self.rows.0..self.rows.0 + self.rows.1
	}
}

/// Where one target's output lies inside a (possibly fused) projection output.
#[derive(Clone, Debug)]
pub struct TargetColumns {
	pub target: LoraTarget,
	pub cols: Range<usize>,
}

/// Adds the LoRA deltas of `targets` into `y` in place, for `x` `[rows, in]`
/// and `y` `[rows, out]`. CPU and f32 only; no gradient is recorded.
pub fn add_in_place(
	y: &Tensor,
	x: &Tensor,
	layer: usize,
	targets: &[TargetColumns],
	segments: &[RowSegment<'_>],
) -> Result<()> {
	let mut pieces = Vec::new();
	for segment in segments {
		let Some(lora) = segment.lora else { continue };
		for t in targets {
			if let Some(pair) = lora.get(layer, t.target) {
				pieces.push(Piece {
					rows: segment.range(),
					cols: t.cols.clone(),
					pair,
				});
			}
		}
	}
	if pieces.is_empty() {
		return Ok(());
	}
	Ok(y.inplace_op2(x, &LoraKernel { pieces })?)
}

/// `y + scale·x·Aᵀ·Bᵀ` per segment, with ordinary (differentiable) tensor ops.
pub(crate) fn add_with_tensors(
	y: &Tensor,
	x: &Tensor,
	layer: usize,
	target: LoraTarget,
	segments: &[RowSegment<'_>],
) -> Result<Tensor> {
	let pairs: Vec<Option<&LoraPair>> = segments
		.iter()
		.map(|s| s.lora.and_then(|l| l.get(layer, target)))
		.collect();
	if pairs.iter().all(Option::is_none) {
		return Ok(y.clone());
	}
	if let ([segment], [Some(pair)]) = (segments, pairs.as_slice()) {
		return Ok((y + pair.delta(&x.narrow(0, segment.rows.0, segment.rows.1)?)?)?);
	}
	let out_dim = y.dim(1)?;
	let deltas = segments
		.iter()
		.zip(&pairs)
		.map(|(segment, pair)| match pair {
			Some(pair) => pair.delta(&x.narrow(0, segment.rows.0, segment.rows.1)?),
			None => Ok(Tensor::zeros(
				(segment.rows.1, out_dim),
				y.dtype(),
				y.device(),
			)?),
		})
		.collect::<Result<Vec<_>>>()?;
	Ok((y + Tensor::cat(&deltas, 0)?)?)
}

/// One (rows, target) cell of the batched LoRA update.
struct Piece<'a> {
	rows: Range<usize>,
	cols: Range<usize>,
	pair: &'a LoraPair,
}

/// The CPU kernel: for each row `x` of a piece, `t = A·x` (rank dot
/// products) then `y[cols] += scale·Σₖ tₖ·Bᵀₖ` (rank axpys).
struct LoraKernel<'a> {
	pieces: Vec<Piece<'a>>,
}

/// Below this many multiply-adds the kernel runs on the calling thread.
const PARALLEL_MIN_WORK: usize = 1 << 17;

impl InplaceOp2 for LoraKernel<'_> {
	fn name(&self) -> &'static str {
		"lora-bgmv"
	}

	fn cpu_fwd(
		&self,
		y: &mut CpuStorage,
		ly: &Layout,
		x: &CpuStorage,
		lx: &Layout,
	) -> candle_core::Result<()> {
		let (CpuStorage::F32(y), CpuStorage::F32(x)) = (y, x) else {
			candle_core::bail!("lora kernel needs f32 activations");
		};
		let (Some((y0, y1)), Some((x0, x1))) = (ly.contiguous_offsets(), lx.contiguous_offsets())
		else {
			candle_core::bail!("lora kernel needs contiguous activations");
		};
		let (rows, out_dim) = ly.shape().dims2()?;
		let (x_rows, in_dim) = lx.shape().dims2()?;
		if rows != x_rows {
			candle_core::bail!("lora kernel: {rows} output rows for {x_rows} input rows");
		}
		let y = &mut y[y0..y1];
		let x = &x[x0..x1];

		// Borrow every float pair's weights once; the guards outlive the
		// loop. 8-bit pairs are plain memory.
		let guards: Vec<_> = self
			.pieces
			.iter()
			.map(|p| match &p.pair.weights {
				PairWeights::Tensors { a, b_t } => {
					Some((a.storage_and_layout(), b_t.storage_and_layout()))
				},
				PairWeights::Int8 { .. } => None,
			})
			.collect();
		let mut jobs = Vec::with_capacity(self.pieces.len());
		let mut work = 0usize;
		for (piece, guard) in self.pieces.iter().zip(&guards) {
			let (a, b_t) = match (&piece.pair.weights, guard) {
				(PairWeights::Int8 { a, b_t }, _) => (
					WeightRows::Int8 {
						values: a.values(),
						scales: a.scales(),
					},
					WeightRows::Int8 {
						values: b_t.values(),
						scales: b_t.scales(),
					},
				),
				(PairWeights::Tensors { .. }, Some(((a, la), (b, lb)))) => {
					(weight_rows(a, la)?, weight_rows(b, lb)?)
				},
				(PairWeights::Tensors { .. }, None) => {
					candle_core::bail!("lora kernel: adapter weights not borrowed")
				},
			};
			let rank = piece.pair.rank();
			if a.len() != rank * in_dim || b_t.len() != rank * piece.cols.len() {
				candle_core::bail!("lora kernel: adapter shapes do not fit the projection");
			}
			if piece.rows.end > rows || piece.cols.end > out_dim {
				candle_core::bail!("lora kernel: piece outside the output");
			}
			work += piece.rows.len() * rank * (in_dim + piece.cols.len());
			jobs.push(Job {
				piece,
				a,
				b_t,
				rank,
				scale: piece.pair.scale as f32,
			});
		}

		// Pieces come segment by segment and segments are disjoint runs of
		// rows: ordered by first row, a row's jobs are one contiguous run.
		jobs.sort_by_key(|job| job.piece.rows.start);
		let jobs_of = |row: usize| {
			let first = jobs.partition_point(|job| job.piece.rows.end <= row);
			let end = jobs.partition_point(|job| job.piece.rows.start <= row);
			&jobs[first..end.max(first)]
		};

		// Each output row is written by exactly one task: split by rows.
		let row_jobs = |row: usize, y_row: &mut [f32], scratch: &mut RowScratch| {
			let x_row = &x[row * in_dim..(row + 1) * in_dim];
			// A batch over many adapters is bound by reading their weights:
			// the next row's are asked of the caches while this one computes.
			scratch.ahead.clear();
			let mine = jobs_of(row);
			let next = if row + 1 < rows {
				jobs_of(row + 1)
			} else {
				&[]
			};
			// Rows of one segment read the same weights: nothing to fetch.
			if !std::ptr::eq(next, mine) {
				for job in next {
					job.a.spans(|span| scratch.ahead.push(span));
					job.b_t.spans(|span| scratch.ahead.push(span));
				}
			}
			for job in mine {
				job.apply(x_row, &mut y_row[job.piece.cols.clone()], scratch);
			}
		};
		if work < PARALLEL_MIN_WORK {
			let mut scratch = Default::default();
			for (row, y_row) in y.chunks_exact_mut(out_dim).enumerate() {
				row_jobs(row, y_row, &mut scratch);
			}
		} else {
			y.par_chunks_exact_mut(out_dim)
				.enumerate()
				.for_each_init(Default::default, |scratch, (row, y_row)| {
					row_jobs(row, y_row, scratch)
				});
		}
		Ok(())
	}
}

struct Job<'a> {
	piece: &'a Piece<'a>,
	a: WeightRows<'a>,
	b_t: WeightRows<'a>,
	rank: usize,
	scale: f32,
}

impl Job<'_> {
	fn apply(&self, x_row: &[f32], y_cols: &mut [f32], scratch: &mut RowScratch) {
		match (self.a, self.b_t) {
			(WeightRows::F32(a), WeightRows::F32(b_t)) => {
				low_rank_row(&self.weights(a, b_t, None), x_row, y_cols, scratch)
			},
			(WeightRows::Bf16(a), WeightRows::Bf16(b_t)) => {
				low_rank_row(&self.weights(a, b_t, None), x_row, y_cols, scratch)
			},
			(
				WeightRows::Int8 {
					values: a,
					scales: a_scales,
				},
				WeightRows::Int8 {
					values: b_t,
					scales: b_scales,
				},
			) => {
				let w = self.weights(a, b_t, Some((a_scales, b_scales)));
				low_rank_row(&w, x_row, y_cols, scratch)
			},
			// Mixed storage never comes out of one adapter; compute it
			// anyway, slowly, rather than fail a request.
			(a, b_t) => {
				let (a, b_t) = (a.to_f32(), b_t.to_f32());
				low_rank_row(&self.weights(&a, &b_t, None), x_row, y_cols, scratch)
			},
		}
	}

	fn weights<'w, E>(
		&self,
		a: &'w [E],
		b_t: &'w [E],
		row_scales: Option<(&'w [f32], &'w [f32])>,
	) -> LowRank<'w, E> {
		LowRank {
			a,
			b_t,
			row_scales,
			rank: self.rank,
			scale: self.scale,
		}
	}
}

/// One pair's weights as the row kernels read them.
struct LowRank<'a, E> {
	/// `rank` rows of the input width.
	a: &'a [E],
	/// `rank` rows of the output width.
	b_t: &'a [E],
	/// For 8-bit rows, each row's scale, of `A` and of `Bᵀ`.
	row_scales: Option<(&'a [f32], &'a [f32])>,
	rank: usize,
	scale: f32,
}

impl<E> LowRank<'_, E> {
	/// What rank `k`'s sum `Aₖ·x` of stored values is multiplied by before
	/// `Bᵀₖ`'s stored values add it into the output.
	#[inline(always)]
	fn factor(&self, k: usize) -> f32 {
		match self.row_scales {
			Some((a, b)) => self.scale * a[k] * b[k],
			None => self.scale,
		}
	}
}

/// Adapter weights as the kernel reads them: f32, bf16, or 8-bit rows
/// with a scale each (fewer bytes, which is what a batch over many
/// adapters is bound by).
#[derive(Clone, Copy)]
enum WeightRows<'a> {
	F32(&'a [f32]),
	Bf16(&'a [half::bf16]),
	Int8 { values: &'a [i8], scales: &'a [f32] },
}

impl WeightRows<'_> {
	/// Where the weights lie, as (start, bytes) spans.
	fn spans(&self, mut each: impl FnMut((*const u8, usize))) {
		match self {
			WeightRows::F32(w) => each((w.as_ptr().cast(), std::mem::size_of_val(*w))),
			WeightRows::Bf16(w) => each((w.as_ptr().cast(), std::mem::size_of_val(*w))),
			WeightRows::Int8 { values, scales } => {
				each((values.as_ptr().cast(), values.len()));
				each((scales.as_ptr().cast(), std::mem::size_of_val(*scales)));
			},
		}
	}

	fn len(&self) -> usize {
		match self {
			WeightRows::F32(w) => w.len(),
			WeightRows::Bf16(w) => w.len(),
			WeightRows::Int8 { values, .. } => values.len(),
		}
	}

	fn to_f32(self) -> Vec<f32> {
		match self {
			WeightRows::F32(w) => w.to_vec(),
			WeightRows::Bf16(w) => w.iter().map(|v| v.to_f32()).collect(),
			WeightRows::Int8 { values, scales } => dequantize_rows(values, scales),
		}
	}
}

fn weight_rows<'a>(storage: &'a Storage, layout: &Layout) -> candle_core::Result<WeightRows<'a>> {
	let Some((start, end)) = layout.contiguous_offsets() else {
		candle_core::bail!("lora kernel needs contiguous adapter weights");
	};
	match storage {
		Storage::Cpu(CpuStorage::F32(data)) => Ok(WeightRows::F32(&data[start..end])),
		Storage::Cpu(CpuStorage::BF16(data)) => Ok(WeightRows::Bf16(&data[start..end])),
		_ => candle_core::bail!("lora kernel needs f32 or bf16 adapter weights on the CPU"),
	}
}

/// A task's buffers for [`low_rank_row`]: the rank sums, and the next
/// row's weights to prefetch.
#[derive(Default)]
struct RowScratch {
	t: Vec<f32>,
	ahead: Ahead,
}

/// Memory to ask the caches for, a few lines at a time, while other work
/// runs: a batch over many adapters reads each row's adapter weights once,
/// as a handful of short arrays that the hardware prefetcher, which stops
/// at every 4 KiB page, follows poorly.
#[derive(Default)]
struct Ahead {
	spans: Vec<(*const u8, usize)>,
	span: usize,
	offset: usize,
}

impl Ahead {
	fn clear(&mut self) {
		self.spans.clear();
		self.span = 0;
		self.offset = 0;
	}

	fn push(&mut self, span: (*const u8, usize)) {
		self.spans.push(span);
	}

	/// Asks for the next `lines` cache lines, if any are left.
	#[inline(always)]
	fn step(&mut self, lines: usize) {
		for _ in 0..lines {
			let Some(&(start, len)) = self.spans.get(self.span) else {
				return;
			};
			#[cfg(target_arch = "x86_64")]
			// SAFETY: SSE is part of x86-64; a prefetch changes no memory
			// and cannot fault, whatever the address.
			unsafe {
				use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T1};
				_mm_prefetch::<_MM_HINT_T1>(start.wrapping_add(self.offset).cast());
			}
			#[cfg(not(target_arch = "x86_64"))]
			let _ = start;
			self.offset += 64;
			if self.offset >= len {
				self.span += 1;
				self.offset = 0;
			}
		}
	}

	/// Asks for every line left.
	fn rest(&mut self) {
		while self.span < self.spans.len() {
			self.step(64);
		}
	}
}

#[cfg(target_arch = "x86_64")]
use avx512::Wide as LowRankElement;
#[cfg(not(target_arch = "x86_64"))]
use simd::Element as LowRankElement;

/// `y += scale · Σₖ (Aₖ·x) Bᵀₖ` for one row, with the best vector
/// instructions available.
fn low_rank_row<E: LowRankElement>(
	w: &LowRank<'_, E>,
	x: &[f32],
	y: &mut [f32],
	scratch: &mut RowScratch,
) {
	#[cfg(target_arch = "x86_64")]
	{
		if simd::simd_level() == simd::SimdLevel::Avx512 {
			// SAFETY: the CPU was checked to support AVX-512F.
			return unsafe { avx512::low_rank_row(w, x, y, scratch) };
		}
		scratch.ahead.rest();
		if simd::has_avx2_fma() {
			// SAFETY: the CPU was checked to support AVX2 and FMA.
			return unsafe { low_rank_row_avx2(w, x, y, &mut scratch.t) };
		}
	}
	#[cfg(not(target_arch = "x86_64"))]
	scratch.ahead.rest();
	low_rank_row_portable(w, x, y, &mut scratch.t)
}

/// The AVX-512 row kernel: `A·x` four ranks at a time (each activation
/// load serves four adapter rows), then one pass over `y` adding every
/// rank's column of `Bᵀ`. A batch over many adapters reads each adapter's
/// weights once per step, so this reads them once, in order, and no more.
#[cfg(target_arch = "x86_64")]
mod avx512 {
	use std::arch::x86_64::*;

	use super::{Ahead, LowRank, RowScratch};
	use crate::engine::simd::Element;

	/// Sixteen stored weights widened to f32.
	pub(super) trait Wide: Element {
		/// # Safety
		/// AVX-512F; `p` points to 16 values.
		unsafe fn load16(p: *const Self) -> __m512;
	}

	impl Wide for f32 {
		#[inline(always)]
		unsafe fn load16(p: *const Self) -> __m512 {
			_mm512_loadu_ps(p)
		}
	}

	impl Wide for half::bf16 {
		#[inline(always)]
		unsafe fn load16(p: *const Self) -> __m512 {
			// bf16 is the top half of an f32.
			let wide = _mm512_cvtepu16_epi32(_mm256_loadu_si256(p.cast()));
			_mm512_castsi512_ps(_mm512_slli_epi32::<16>(wide))
		}
	}

	impl Wide for i8 {
		#[inline(always)]
		unsafe fn load16(p: *const Self) -> __m512 {
			_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(p.cast())))
		}
	}

	/// `t[k0..k0 + R] = A[k0..k0 + R]·x`.
	#[inline(always)]
	unsafe fn dots<E: Wide, const R: usize>(
		a: &[E],
		k0: usize,
		x: &[f32],
		t: &mut [f32],
		ahead: &mut Ahead,
	) {
		let in_dim = x.len();
		let mut acc = [_mm512_setzero_ps(); R];
		let mut i = 0;
		while i + 16 <= in_dim {
			ahead.step(R);
			let xv = _mm512_loadu_ps(x.as_ptr().add(i));
			for (r, acc_r) in acc.iter_mut().enumerate() {
				let w = E::load16(a.as_ptr().add((k0 + r) * in_dim + i));
				*acc_r = _mm512_fmadd_ps(w, xv, *acc_r);
			}
			i += 16;
		}
		for (r, acc_r) in acc.iter().enumerate() {
			let row = &a[(k0 + r) * in_dim..(k0 + r + 1) * in_dim];
			let mut sum = _mm512_reduce_add_ps(*acc_r);
			for (w, xi) in row[i..].iter().zip(&x[i..]) {
				sum += w.widen() * xi;
			}
			t[k0 + r] = sum;
		}
	}

	/// `y[c..c + 16·Q] += Σₖ t[k]·Bᵀ[k][c..c + 16·Q]`.
	#[inline(always)]
	unsafe fn columns<E: Wide, const Q: usize>(
		b_t: &[E],
		t: &[f32],
		c: usize,
		y: &mut [f32],
		ahead: &mut Ahead,
	) {
		let out_dim = y.len();
		ahead.step(Q * t.len());
		let mut yv = [_mm512_setzero_ps(); Q];
		for (q, yq) in yv.iter_mut().enumerate() {
			*yq = _mm512_loadu_ps(y.as_ptr().add(c + 16 * q));
		}
		for (k, t_k) in t.iter().enumerate() {
			let tk = _mm512_set1_ps(*t_k);
			for (q, yq) in yv.iter_mut().enumerate() {
				let w = E::load16(b_t.as_ptr().add(k * out_dim + c + 16 * q));
				*yq = _mm512_fmadd_ps(w, tk, *yq);
			}
		}
		for (q, yq) in yv.iter().enumerate() {
			_mm512_storeu_ps(y.as_mut_ptr().add(c + 16 * q), *yq);
		}
	}

	/// # Safety
	/// AVX-512F; `w.a` holds `w.rank` rows of `x.len()`, `w.b_t` of
	/// `y.len()`.
	#[target_feature(enable = "avx512f")]
	pub(super) unsafe fn low_rank_row<E: Wide>(
		w: &LowRank<'_, E>,
		x: &[f32],
		y: &mut [f32],
		scratch: &mut RowScratch,
	) {
		let RowScratch { t, ahead } = scratch;
		let (a, b_t, rank) = (w.a, w.b_t, w.rank);
		let out_dim = y.len();
		assert!(a.len() >= rank * x.len() && b_t.len() >= rank * out_dim);
		if let Some((a_scales, b_scales)) = w.row_scales {
			assert!(a_scales.len() >= rank && b_scales.len() >= rank);
		}
		t.clear();
		t.resize(rank, 0.0);
		// Eight ranks at a time keep eight independent sums in flight.
		let mut k = 0;
		while k + 8 <= rank {
			dots::<E, 8>(a, k, x, t, ahead);
			k += 8;
		}
		while k + 4 <= rank {
			dots::<E, 4>(a, k, x, t, ahead);
			k += 4;
		}
		while k < rank {
			dots::<E, 1>(a, k, x, t, ahead);
			k += 1;
		}
		for (k, t_k) in t.iter_mut().enumerate() {
			*t_k *= w.factor(k);
		}
		// Four column chunks at a time: each chunk's sum over the ranks is a
		// chain of dependent multiply-adds, four chains keep the units busy.
		let mut c = 0;
		while c + 64 <= out_dim {
			columns::<E, 4>(b_t, t, c, y, ahead);
			c += 64;
		}
		while c + 16 <= out_dim {
			columns::<E, 1>(b_t, t, c, y, ahead);
			c += 16;
		}
		for (j, y_j) in y.iter_mut().enumerate().skip(c) {
			for (k, t_k) in t.iter().enumerate() {
				*y_j += t_k * b_t[k * out_dim + j].widen();
			}
		}
	}
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn low_rank_row_avx2<E: simd::Element>(
	w: &LowRank<'_, E>,
	x: &[f32],
	y: &mut [f32],
	t: &mut Vec<f32>,
) {
	low_rank_row_portable(w, x, y, t)
}

#[inline(always)]
fn low_rank_row_portable<E: simd::Element>(
	w: &LowRank<'_, E>,
	x: &[f32],
	y: &mut [f32],
	t: &mut Vec<f32>,
) {
	let (in_dim, out_dim) = (x.len(), y.len());
	t.clear();
	// A plain loop: an iterator adapter here can end up in a function of
	// its own, compiled without the caller's vector instructions.
	for a_k in w.a.chunks_exact(in_dim).take(w.rank) {
		t.push(simd::dot_elements(a_k, x));
	}
	for (k, (b_k, &t_k)) in w.b_t.chunks_exact(out_dim).zip(t.iter()).enumerate() {
		simd::axpy_elements(w.factor(k) * t_k, b_k, y);
	}
}

/// Whether the in-place CPU kernel can serve these activations.
pub(crate) fn kernel_applies(x: &Tensor) -> bool {
	x.device().is_cpu() && x.dtype() == DType::F32
}

#[cfg(test)]
mod tests {
	use candle_core::Device;
	use half::bf16;

	use super::*;

	/// Every shape the row kernels split differently: ranks of 8, 4 and 1
	/// at a time, inputs with a tail past 16, outputs past 64, 16 and none,
	/// in all three storages, against plain sums (f64 for f32 weights; the
	/// plain kernel on the values bf16 and 8-bit rows stand for).
	#[test]
	fn row_kernel_matches_plain_sums() {
		let value = |i: usize| ((i as f32) * 0.618).sin();
		for rank in [1usize, 3, 4, 8, 13] {
			for (in_dim, out_dim) in [(16usize, 16usize), (37, 83), (576, 192), (64, 1536)] {
				let a: Vec<f32> = (0..rank * in_dim).map(value).collect();
				let b_t: Vec<f32> = (0..rank * out_dim).map(|i| value(i + 7)).collect();
				let x: Vec<f32> = (0..in_dim).map(|i| value(i + 11) * 3.0).collect();
				let y0: Vec<f32> = (0..out_dim).map(|i| value(i + 13)).collect();
				let scale = 0.5f32;
				let expected: Vec<f64> = (0..out_dim)
					.map(|j| {
						let delta: f64 = (0..rank)
							.map(|k| {
								let t: f64 = (0..in_dim)
									.map(|i| f64::from(a[k * in_dim + i]) * f64::from(x[i]))
									.sum();
								t * f64::from(b_t[k * out_dim + j])
							})
							.sum();
						f64::from(y0[j]) + f64::from(scale) * delta
					})
					.collect();
				let check = |y: &[f32], what: &str, tolerance: f64| {
					for (j, (got, want)) in y.iter().zip(&expected).enumerate() {
						assert!(
							(f64::from(*got) - want).abs() <= tolerance * (1.0 + want.abs()),
							"{what}, rank {rank}, [{in_dim} -> {out_dim}], column {j}: {got} vs {want}"
						);
					}
				};
				let plain = |a, b_t| LowRank {
					a,
					b_t,
					row_scales: None,
					rank,
					scale,
				};
				let mut scratch = RowScratch::default();
				let mut y = y0.clone();
				low_rank_row(&plain(&a, &b_t), &x, &mut y, &mut scratch);
				check(&y, "f32", 1e-4);
				// Stored weights the kernel widens exactly (bf16; 8-bit rows
				// and their scales): the reference is the plain kernel on
				// the values they stand for.
				let against_plain = |y: &[f32], a_wide: &[f32], b_wide: &[f32], what: &str| {
					let mut y_wide = y0.clone();
					let mut t = Vec::new();
					let w = LowRank {
						a: a_wide,
						b_t: b_wide,
						row_scales: None,
						rank,
						scale,
					};
					low_rank_row_portable(&w, &x, &mut y_wide, &mut t);
					for (j, (got, want)) in y.iter().zip(&y_wide).enumerate() {
						assert!(
							(got - want).abs() <= 1e-4 * (1.0 + want.abs()),
							"{what}, rank {rank}, [{in_dim} -> {out_dim}], column {j}: {got} vs {want}"
						);
					}
				};
				let a16: Vec<bf16> = a.iter().map(|v| bf16::from_f32(*v)).collect();
				let b16: Vec<bf16> = b_t.iter().map(|v| bf16::from_f32(*v)).collect();
				let mut y = y0.clone();
				let w = LowRank {
					a: &a16[..],
					b_t: &b16[..],
					row_scales: None,
					rank,
					scale,
				};
				low_rank_row(&w, &x, &mut y, &mut scratch);
				let widen = |w: &[bf16]| w.iter().map(|v| v.to_f32()).collect::<Vec<f32>>();
				against_plain(&y, &widen(&a16), &widen(&b16), "bf16");

				let (mut values, mut scales) = (Vec::new(), Vec::new());
				let to_tensor = |w: &[f32], cols| Tensor::from_slice(w, (rank, cols), &Device::Cpu);
				quantize_rows(&to_tensor(&a, in_dim).unwrap(), &mut values, &mut scales).unwrap();
				quantize_rows(&to_tensor(&b_t, out_dim).unwrap(), &mut values, &mut scales)
					.unwrap();
				let (a8, b8) = values.split_at(rank * in_dim);
				let (a_scales, b_scales) = scales.split_at(rank);
				let mut y = y0.clone();
				let w = LowRank {
					a: a8,
					b_t: b8,
					row_scales: Some((a_scales, b_scales)),
					rank,
					scale,
				};
				low_rank_row(&w, &x, &mut y, &mut scratch);
				let standing_for = |q: &[i8], s: &[f32], cols: usize| {
					WeightRows::Int8 {
						values: q,
						scales: s,
					}
					.to_f32()
					.into_iter()
					.enumerate()
					.map(|(i, v)| {
						assert_eq!(v, f32::from(q[i]) * s[i / cols]);
						v
					})
					.collect::<Vec<f32>>()
				};
				let (a_wide, b_wide) = (
					standing_for(a8, a_scales, in_dim),
					standing_for(b8, b_scales, out_dim),
				);
				against_plain(&y, &a_wide, &b_wide, "int8");
				// And the rows stand for the weights within half a step.
				for (wide, (exact, (s, cols))) in [
					(&a_wide, (&a, (a_scales, in_dim))),
					(&b_wide, (&b_t, (b_scales, out_dim))),
				] {
					for (i, (q, v)) in wide.iter().zip(exact.iter()).enumerate() {
						let step = s[i / cols];
						assert!(
							(q - v).abs() <= 0.5 * step * (1.0 + 1e-6),
							"{q} vs {v}, step {step}"
						);
					}
				}
			}
		}
	}
}
