//! A Llama-family decoder (Llama, SmolLM2, Qwen2) with LoRA in every
//! targeted projection.
//!
//! ```text
//! h₀ = Embed(tokens)
//! for each layer ℓ:
//!     a  = RMSNorm(hₗ)
//!     q, k, v = a·W_qᵀ, a·W_kᵀ, a·W_vᵀ          (+ bias for Qwen2, + LoRA)
//!     q, k = RoPE(q), RoPE(k)
//!     hₗ' = hₗ + Attention(q, k, v)·W_oᵀ        (grouped-query, causal, + LoRA)
//!     m  = RMSNorm(hₗ')
//!     hₗ₊₁ = hₗ' + (SiLU(m·W_gateᵀ) ⊙ m·W_upᵀ)·W_downᵀ   (+ LoRA)
//! logits = RMSNorm(h_L)·W_outᵀ                 (W_out = Embed when tied)
//! ```
//!
//! Every projection adds `scale·x·Aᵀ·Bᵀ` for the rows whose sequence uses
//! an adapter with that target (see [`super::lora`]). A batch is ragged: each
//! [`BatchRow`] brings its own tokens (a prompt chunk or one decode token),
//! KV cache and adapter, and the projections run once over all rows.

use std::path::Path;

use candle_core::{DType, Device, Tensor};

use super::attention::{host_attention, tensor_attention, Heads, Rows};
use super::kv_cache::{DeviceKv, HostKv, KvCache};
use super::lora::{self, LoraTarget, LoraWeights, RowSegment, TargetColumns};
use super::ops::{rms_norm, rope, Execution, RotaryTables};
use super::weights::{Embedding, Linear, LoadOptions, Role, WeightSource};
use super::{EngineError, ModelConfig, Result};

/// One sequence's share of a batched forward pass.
pub struct BatchRow<'a> {
	/// The tokens to feed: a prompt (or a chunk of it) or the last sampled token.
	pub tokens: &'a [u32],
	/// The sequence's cache; the tokens are appended to it.
	pub cache: &'a mut KvCache,
	/// The adapter the sequence uses, if any.
	pub lora: Option<&'a LoraWeights>,
}

/// The decoder with its base weights.
#[derive(Clone, Debug)]
pub struct Llama {
	config: ModelConfig,
	embed: Embedding,
	layers: Vec<DecoderLayer>,
	norm: Tensor,
	lm_head: Linear,
	rotary: RotaryTables,
	device: Device,
}

#[derive(Clone, Debug)]
struct DecoderLayer {
	attn_norm: Tensor,
	qkv: Projections,
	o: Projections,
	mlp_norm: Tensor,
	gate_up: Projections,
	down: Projections,
}

/// Projections that read the same input, possibly fused into one matmul,
/// with the columns of each LoRA target in the output.
#[derive(Clone, Debug)]
struct Projections {
	linears: Vec<(Linear, Vec<TargetColumns>)>,
}

/// How a forward pass reaches the keys and values of earlier tokens.
enum Context<'a> {
	/// Serving on the CPU: plain-memory caches and the attention kernel.
	Host(Vec<(Rows, &'a mut HostKv)>),
	/// Serving on another device: caches of device tensors.
	Device(Vec<Rows>, Vec<&'a mut DeviceKv>),
	/// Training: every sequence is whole in the batch; nothing is cached.
	Uncached(Vec<Rows>),
}

impl Llama {
	/// Loads a `.gguf` file, or a directory (or `.safetensors` file) with
	/// `config.json`.
	pub fn load(path: &Path, options: &LoadOptions) -> Result<Self> {
		let (mut source, config) = WeightSource::open(path, options)?;
		tracing::info!(weights = %source.describe(), layers = config.num_hidden_layers, "loading base model");
		Self::from_source(&mut source, config, &options.device)
	}

	pub(crate) fn from_source(
		source: &mut WeightSource,
		config: ModelConfig,
		device: &Device,
	) -> Result<Self> {
		let mut layers = Vec::with_capacity(config.num_hidden_layers);
		for layer in 0..config.num_hidden_layers {
			layers.push(DecoderLayer {
				attn_norm: source.layer_vector(layer, Role::AttnNorm)?,
				qkv: Projections::load(source, &config, layer, &[Role::Q, Role::K, Role::V])?,
				o: Projections::load(source, &config, layer, &[Role::O])?,
				mlp_norm: source.layer_vector(layer, Role::MlpNorm)?,
				gate_up: Projections::load(source, &config, layer, &[Role::Gate, Role::Up])?,
				down: Projections::load(source, &config, layer, &[Role::Down])?,
			});
		}
		let embed = source.embedding()?;
		let lm_head = source.lm_head(&config, &embed)?;
		let norm = source.vector("model.norm.weight", "output_norm.weight")?;
		let rotary = RotaryTables::new(
			config.head_dim,
			config.rope_theta,
			config.max_position_embeddings,
			device,
		)?;
		Ok(Self {
			config,
			embed,
			layers,
			norm,
			lm_head,
			rotary,
			device: device.clone(),
		})
	}

	pub fn config(&self) -> &ModelConfig {
		&self.config
	}

	pub fn device(&self) -> &Device {
		&self.device
	}

	/// An empty cache for one sequence, with room for `capacity` tokens.
	pub fn new_cache(&self, capacity: usize) -> KvCache {
		KvCache::new(&self.config, &self.device, capacity)
	}

	/// Bytes held by the base weights.
	pub fn size_in_bytes(&self) -> usize {
		let layers: usize = self
			.layers
			.iter()
			.map(|l| {
				[&l.qkv, &l.o, &l.gate_up, &l.down]
					.iter()
					.flat_map(|p| p.linears.iter().map(|(lin, _)| lin.size_in_bytes()))
					.sum::<usize>()
			})
			.sum();
		layers
			+ self.embed.size_in_bytes()
			+ if self.config.tie_word_embeddings {
				0
			} else {
				self.lm_head.size_in_bytes()
			}
	}

	/// One step of serving: feeds every row's tokens, appends them to the
	/// row's cache and returns the logits after each row's last token,
	/// `[rows, vocab]`. Rows using the same adapter should be adjacent: each
	/// run of them is one LoRA segment.
	///
	/// The pass runs on one of rayon's worker threads: each of its kernels
	/// (hundreds per pass) is too short for a caller outside the pool to be
	/// put to sleep and woken around it. On SmolLM2 this took one stream
	/// from 77–80 to 93–101 tok/s here, and 16 batched streams (with the
	/// AMX tile kernel) from 430–436 to 478 tok/s.
	pub fn forward(&self, batch: &mut [BatchRow<'_>]) -> Result<Tensor> {
		if rayon::current_thread_index().is_none() {
			return rayon::scope(|_| self.forward_on_this_thread(batch));
		}
		self.forward_on_this_thread(batch)
	}

	fn forward_on_this_thread(&self, batch: &mut [BatchRow<'_>]) -> Result<Tensor> {
		let mut ids = Vec::new();
		let mut positions = Vec::new();
		let mut rows = Vec::with_capacity(batch.len());
		for row in batch.iter() {
			if row.tokens.is_empty() {
				return Err(EngineError::Batch("a batch row has no tokens".into()));
			}
			let past = row.cache.len();
			if past + row.tokens.len() > self.rotary.max_positions() {
				return Err(EngineError::Batch(format!(
					"{} tokens exceed the context of {}",
					past + row.tokens.len(),
					self.rotary.max_positions()
				)));
			}
			rows.push((ids.len(), row.tokens.len()));
			ids.extend_from_slice(row.tokens);
			positions.extend((past..past + row.tokens.len()).map(|p| p as u32));
		}
		let segments = segments_of(batch.iter().map(|r| r.lora), &rows);
		let lengths: Vec<usize> = rows.iter().map(|r| r.1).collect();

		let context = if self.device.is_cpu() {
			let mut host = Vec::with_capacity(batch.len());
			for (row, span) in batch.iter_mut().zip(&rows) {
				match row.cache {
					KvCache::Host(c) => host.push((*span, c)),
					KvCache::Device(_) => {
						return Err(EngineError::Batch("device cache on the CPU".into()))
					},
				}
			}
			Context::Host(host)
		} else {
			let mut device = Vec::with_capacity(batch.len());
			for row in batch.iter_mut() {
				match row.cache {
					KvCache::Device(c) => device.push(c),
					KvCache::Host(_) => {
						return Err(EngineError::Batch("host cache on a device".into()))
					},
				}
			}
			Context::Device(rows.clone(), device)
		};
		let hidden =
			self.hidden_states(&ids, &positions, &segments, context, Execution::Inference)?;
		for (row, len) in batch.iter_mut().zip(lengths) {
			row.cache.advance(len);
		}

		let last: Vec<u32> = rows
			.iter()
			.map(|(start, len)| (start + len - 1) as u32)
			.collect();
		let last = Tensor::from_vec(last, rows.len(), &self.device)?;
		self.lm_head
			.forward(&hidden.index_select(&last, 0)?, Execution::Inference)
	}

	/// Training forward pass: `tokens` `[batch, seq]` → logits
	/// `[batch, seq, vocab]`, every sequence using `lora`. With
	/// [`Execution::Differentiable`] the result can be back-propagated to
	/// every LoRA parameter.
	pub fn forward_train(
		&self,
		tokens: &Tensor,
		lora: Option<&LoraWeights>,
		mode: Execution,
	) -> Result<Tensor> {
		let seq = tokens.dim(1)?;
		self.forward_train_at(tokens, lora, mode, 0..seq)
	}

	/// [`Self::forward_train`] with the logits of the positions in `kept`
	/// only, `[batch, kept.len(), vocab]`: the output projection, a fifth of
	/// a small model's weights, skips the positions whose predictions no
	/// loss reads.
	pub fn forward_train_at(
		&self,
		tokens: &Tensor,
		lora: Option<&LoraWeights>,
		mode: Execution,
		kept: std::ops::Range<usize>,
	) -> Result<Tensor> {
		let (batch, seq) = tokens.dims2()?;
		if kept.is_empty() || kept.end > seq {
			return Err(EngineError::Batch(format!(
				"logits of positions {kept:?} of a {seq}-token sequence"
			)));
		}
		let ids = tokens.flatten_all()?.to_vec1::<u32>()?;
		let positions: Vec<u32> = (0..batch).flat_map(|_| 0..seq as u32).collect();
		let rows: Vec<Rows> = (0..batch).map(|b| (b * seq, seq)).collect();
		let segments = [RowSegment {
			rows: (0, batch * seq),
			lora,
		}];
		let hidden =
			self.hidden_states(&ids, &positions, &segments, Context::Uncached(rows), mode)?;
		let hidden = if kept.len() == seq {
			hidden
		} else {
			hidden
				.reshape((batch, seq, self.config.hidden_size))?
				.narrow(1, kept.start, kept.len())?
				.reshape((batch * kept.len(), self.config.hidden_size))?
		};
		let logits = self.lm_head.forward(&hidden, mode)?;
		Ok(logits.reshape((batch, kept.len(), self.config.vocab_size))?)
	}

	/// The final hidden states `[rows, hidden]` (after the last norm).
	fn hidden_states(
		&self,
		ids: &[u32],
		positions: &[u32],
		segments: &[RowSegment<'_>],
		mut context: Context<'_>,
		mode: Execution,
	) -> Result<Tensor> {
		let ids = Tensor::new(ids, &self.device)?;
		let positions = Tensor::new(positions, &self.device)?;
		let (cos, sin) = self.rotary.at(&positions)?;
		let mut h = self.embed.forward(&ids)?;
		for (index, layer) in self.layers.iter().enumerate() {
			let attended =
				self.attention(layer, index, &h, &cos, &sin, segments, &mut context, mode)?;
			h = (h + attended)?;
			let mlp = self.mlp(layer, index, &h, segments, mode)?;
			h = (h + mlp)?;
		}
		rms_norm(&h, &self.norm, self.config.rms_norm_eps, mode)
	}

	#[allow(clippy::too_many_arguments)]
	fn attention(
		&self,
		layer: &DecoderLayer,
		index: usize,
		h: &Tensor,
		cos: &Tensor,
		sin: &Tensor,
		segments: &[RowSegment<'_>],
		context: &mut Context<'_>,
		mode: Execution,
	) -> Result<Tensor> {
		let c = &self.config;
		let rows = h.dim(0)?;
		let a = rms_norm(h, &layer.attn_norm, c.rms_norm_eps, mode)?;
		let [q, k, v] = take3(layer.qkv.forward(&a, index, segments, mode)?)?;
		let q = rope(
			&q.reshape((1, rows, c.num_attention_heads, c.head_dim))?,
			cos,
			sin,
			mode,
		)?
		.reshape((rows, c.q_dim()))?;
		let k = rope(
			&k.reshape((1, rows, c.num_key_value_heads, c.head_dim))?,
			cos,
			sin,
			mode,
		)?
		.reshape((rows, c.kv_dim()))?;
		let heads = Heads {
			heads: c.num_attention_heads,
			kv_heads: c.num_key_value_heads,
			head_dim: c.head_dim,
		};
		let attended = match context {
			Context::Host(sequences) => host_attention(&q, &k, &v, index, heads, sequences)?,
			Context::Device(rows, caches) => {
				tensor_attention((&q, &k, &v), index, heads, rows, Some(caches), mode)?
			},
			Context::Uncached(rows) => {
				tensor_attention((&q, &k, &v), index, heads, rows, None, mode)?
			},
		};
		take1(layer.o.forward(&attended, index, segments, mode)?)
	}

	fn mlp(
		&self,
		layer: &DecoderLayer,
		index: usize,
		h: &Tensor,
		segments: &[RowSegment<'_>],
		mode: Execution,
	) -> Result<Tensor> {
		let m = rms_norm(h, &layer.mlp_norm, self.config.rms_norm_eps, mode)?;
		let [gate, up] = take2(layer.gate_up.forward(&m, index, segments, mode)?)?;
		let activated = (gate.silu()? * up)?;
		take1(layer.down.forward(&activated, index, segments, mode)?)
	}

	/// A copy of the model with `lora` merged into the base weights
	/// (`W + scale·B·A`, re-encoded in `W`'s format).
	pub fn merge_lora(&self, lora: &LoraWeights) -> Result<Self> {
		let mut merged = self.clone();
		for (index, layer) in merged.layers.iter_mut().enumerate() {
			for projections in [
				&mut layer.qkv,
				&mut layer.o,
				&mut layer.gate_up,
				&mut layer.down,
			] {
				projections.merge(index, lora, &self.device)?;
			}
		}
		Ok(merged)
	}
}

impl Projections {
	fn load(
		source: &mut WeightSource,
		config: &ModelConfig,
		layer: usize,
		roles: &[Role],
	) -> Result<Self> {
		let linears = source.layer_linears(config, layer, roles)?;
		let mut targets = roles.iter().filter_map(|r| target_of(*r));
		let mut out = Vec::with_capacity(linears.len());
		for linear in linears {
			let mut columns = Vec::new();
			let mut start = 0;
			while start < linear.out_dim() {
				let target = targets
					.next()
					.ok_or_else(|| EngineError::Config("projection rows without a role".into()))?;
				let width = target_width(config, target);
				columns.push(TargetColumns {
					target,
					cols: start..start + width,
				});
				start += width;
			}
			if start != linear.out_dim() {
				return Err(EngineError::Config(format!(
					"layer {layer}: projection widths do not add up"
				)));
			}
			out.push((linear, columns));
		}
		Ok(Self { linears: out })
	}

	/// Outputs per target, in order, each `[rows, width]`.
	fn forward(
		&self,
		x: &Tensor,
		layer: usize,
		segments: &[RowSegment<'_>],
		mode: Execution,
	) -> Result<Vec<Tensor>> {
		let mut parts = Vec::with_capacity(3);
		for (linear, columns) in &self.linears {
			let y = linear.forward(x, mode)?;
			if mode == Execution::Inference && lora::kernel_applies(&y) {
				lora::add_in_place(&y, &x.contiguous()?, layer, columns, segments)?;
				for c in columns {
					parts.push(narrow_columns(&y, c)?);
				}
			} else {
				for c in columns {
					let part = narrow_columns(&y, c)?;
					parts.push(lora::add_with_tensors(&part, x, layer, c.target, segments)?);
				}
			}
		}
		Ok(parts)
	}

	fn merge(&mut self, layer: usize, lora: &LoraWeights, device: &Device) -> Result<()> {
		for (linear, columns) in &mut self.linears {
			if columns.iter().all(|c| lora.get(layer, c.target).is_none()) {
				continue;
			}
			let deltas = columns
				.iter()
				.map(|c| match lora.get(layer, c.target) {
					Some(pair) => pair.delta_weight(),
					None => Ok(Tensor::zeros(
						(c.cols.len(), linear.in_dim()),
						DType::F32,
						device,
					)?),
				})
				.collect::<Result<Vec<_>>>()?;
			*linear = linear.with_added(&Tensor::cat(&deltas, 0)?)?;
		}
		Ok(())
	}
}

fn target_of(role: Role) -> Option<LoraTarget> {
	match role {
		Role::Q => Some(LoraTarget::Q),
		Role::K => Some(LoraTarget::K),
		Role::V => Some(LoraTarget::V),
		Role::O => Some(LoraTarget::O),
		Role::Gate => Some(LoraTarget::Gate),
		Role::Up => Some(LoraTarget::Up),
		Role::Down => Some(LoraTarget::Down),
		Role::AttnNorm | Role::MlpNorm => None,
	}
}

/// Output width of a target's projection.
pub(crate) fn target_width(config: &ModelConfig, target: LoraTarget) -> usize {
	match target {
		LoraTarget::Q => config.q_dim(),
		LoraTarget::K | LoraTarget::V => config.kv_dim(),
		LoraTarget::O | LoraTarget::Down => config.hidden_size,
		LoraTarget::Gate | LoraTarget::Up => config.intermediate_size,
	}
}

/// Input width of a target's projection.
pub(crate) fn target_in_width(config: &ModelConfig, target: LoraTarget) -> usize {
	match target {
		LoraTarget::Q | LoraTarget::K | LoraTarget::V | LoraTarget::Gate | LoraTarget::Up => {
			config.hidden_size
		},
		LoraTarget::O => config.q_dim(),
		LoraTarget::Down => config.intermediate_size,
	}
}

fn narrow_columns(y: &Tensor, c: &TargetColumns) -> Result<Tensor> {
	if c.cols.start == 0 && c.cols.end == y.dim(1)? {
		return Ok(y.clone());
	}
	Ok(y.narrow(1, c.cols.start, c.cols.len())?)
}

/// Runs of adjacent rows with the same adapter (compared by identity).
fn segments_of<'a>(
	loras: impl Iterator<Item = Option<&'a LoraWeights>>,
	rows: &[Rows],
) -> Vec<RowSegment<'a>> {
	let mut segments: Vec<RowSegment<'a>> = Vec::new();
	for (lora, &(start, len)) in loras.zip(rows) {
		match segments.last_mut() {
			Some(last) if same_adapter(last.lora, lora) => last.rows.1 += len,
			_ => segments.push(RowSegment {
				rows: (start, len),
				lora,
			}),
		}
	}
	segments
}

fn same_adapter(a: Option<&LoraWeights>, b: Option<&LoraWeights>) -> bool {
	match (a, b) {
		(None, None) => true,
		(Some(a), Some(b)) => std::ptr::eq(a, b),
		_ => false,
	}
}

fn take1(parts: Vec<Tensor>) -> Result<Tensor> {
	let [one] = take_n::<1>(parts)?;
	Ok(one)
}
fn take2(parts: Vec<Tensor>) -> Result<[Tensor; 2]> {
	take_n(parts)
}
fn take3(parts: Vec<Tensor>) -> Result<[Tensor; 3]> {
	take_n(parts)
}
fn take_n<const N: usize>(parts: Vec<Tensor>) -> Result<[Tensor; N]> {
	let found = parts.len();
	parts
		.try_into()
		.map_err(|_| EngineError::Config(format!("expected {N} projection outputs, got {found}")))
}
