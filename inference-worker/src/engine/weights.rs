//! Base weights: reading them from Hugging Face safetensors or GGUF, and the
//! projections and embeddings the decoder is built from.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Module, Shape, Tensor};

use super::config::GgufMeta;
use super::int4::Int4Matrix;
use super::int8::Int8Matrix;
use super::ops::Execution;
use super::packed::PackedMatMul;
use super::{io_error, Architecture, EngineError, ModelConfig, Result};

/// How the matrices of a GGUF file are held in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightFormat {
	/// Dequantized to f32. Exact arithmetic on the file's weights (candle's
	/// quantized CPU kernels round activations to 8 bits, which visibly
	/// changes small models' outputs), and the fastest batched matmuls on
	/// the CPU, at 4 bytes per weight.
	Dense,
	/// 8-bit weights with f32 activations ([`Int8Matrix`], CPU only): a
	/// quarter of the bytes of f32 with nearly its accuracy.
	Int8,
	/// GGUF's 4-bit matrices (Q4_0, Q4_1) kept exactly as stored, with f32
	/// activations ([`Int4Matrix`], CPU only); every other matrix as
	/// [`WeightFormat::Int8`]. The fewest bytes per token without rounding
	/// anything the file does not.
	Int4,
	/// Kept quantized. On the CPU, formats candle has no SIMD kernels for
	/// (Q4_1, Q5_0, Q5_1) are re-encoded as Q8_0, which it has.
	Quantized,
	/// Kept exactly as stored in the file.
	AsStored,
}

/// How base weights are placed in memory.
#[derive(Clone, Debug)]
pub struct LoadOptions {
	pub device: Device,
	/// `None` picks [`WeightFormat::Int4`] for GGUF files on the CPU,
	/// [`WeightFormat::Quantized`] for GGUF files elsewhere, and
	/// [`WeightFormat::Dense`] for safetensors.
	pub format: Option<WeightFormat>,
}

impl Default for LoadOptions {
	fn default() -> Self {
		Self {
			device: Device::Cpu,
			format: None,
		}
	}
}

impl LoadOptions {
	pub fn with_format(format: WeightFormat) -> Self {
		Self {
			format: Some(format),
			..Self::default()
		}
	}

	fn resolve(&self, gguf: bool) -> Result<WeightFormat> {
		let format = match self.format {
			Some(format) => format,
			None if !gguf => WeightFormat::Dense,
			None if self.device.is_cpu() => WeightFormat::Int4,
			None => WeightFormat::Quantized,
		};
		if matches!(format, WeightFormat::Int8 | WeightFormat::Int4) && !self.device.is_cpu() {
			return Err(EngineError::Unsupported(format!(
				"{format:?} weights run on the CPU only"
			)));
		}
		Ok(format)
	}
}

/// A projection `y = x·Wᵀ (+ b)` with `W` `[out, in]` in one of the
/// [`WeightFormat`]s.
#[derive(Clone, Debug)]
pub struct Linear {
	weight: Weight,
	bias: Option<Tensor>,
	out_dim: usize,
	in_dim: usize,
}

#[derive(Clone, Debug)]
enum Weight {
	/// f32 (`QMatMul::Tensor`) or a GGUF encoding, through candle.
	Candle(QMatMul),
	Int8(Arc<Int8Matrix>),
	Int4(Arc<Int4Matrix>),
}

impl Linear {
	pub fn dense(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
		let (out_dim, in_dim) = weight.dims2()?;
		Ok(Self {
			weight: Weight::Candle(QMatMul::Tensor(weight)),
			bias,
			out_dim,
			in_dim,
		})
	}

	pub fn quantized(weight: QTensor, bias: Option<Tensor>) -> Result<Self> {
		let (out_dim, in_dim) = weight.shape().dims2()?;
		Ok(Self {
			weight: Weight::Candle(QMatMul::from_qtensor(weight)?),
			bias,
			out_dim,
			in_dim,
		})
	}

	pub fn int8(weight: Int8Matrix, bias: Option<Tensor>) -> Self {
		let (out_dim, in_dim) = (weight.rows(), weight.cols());
		Self {
			weight: Weight::Int8(Arc::new(weight)),
			bias,
			out_dim,
			in_dim,
		}
	}

	pub fn int4(weight: Int4Matrix, bias: Option<Tensor>) -> Self {
		let (out_dim, in_dim) = (weight.rows(), weight.cols());
		Self {
			weight: Weight::Int4(Arc::new(weight)),
			bias,
			out_dim,
			in_dim,
		}
	}

	/// The same projection with `W` held as 8-bit weights.
	pub fn to_int8(&self) -> Result<Self> {
		Ok(Self::int8(
			Int8Matrix::quantize(&self.dense_weight()?)?,
			self.bias.clone(),
		))
	}

	/// The same projection for [`WeightFormat::Int4`]: 4-bit GGUF weights
	/// taken as they are, anything else as 8-bit weights.
	pub fn to_int4(&self) -> Result<Self> {
		match &self.weight {
			Weight::Candle(QMatMul::QTensor(q)) if Int4Matrix::reads(q.dtype()) => {
				let matrix =
					Int4Matrix::from_ggml(q.dtype(), &q.data()?, self.out_dim, self.in_dim)?;
				Ok(Self::int4(matrix, self.bias.clone()))
			},
			Weight::Int4(_) => Ok(self.clone()),
			_ => self.to_int8(),
		}
	}

	pub fn out_dim(&self) -> usize {
		self.out_dim
	}
	pub fn in_dim(&self) -> usize {
		self.in_dim
	}

	/// `x` `[rows, in]` → `[rows, out]`.
	pub fn forward(&self, x: &Tensor, mode: Execution) -> Result<Tensor> {
		let y = match (&self.weight, mode) {
			(Weight::Int8(w), _) => x.contiguous()?.apply_op1(PackedMatMul(w.clone()))?,
			(Weight::Int4(w), _) => x.contiguous()?.apply_op1(PackedMatMul(w.clone()))?,
			(Weight::Candle(QMatMul::QTensor(q)), Execution::Differentiable) => {
				x.apply_op1(QMatMulWithGrad(q.clone()))?
			},
			(Weight::Candle(weight), _) => weight.forward(x)?,
		};
		match &self.bias {
			Some(b) => Ok(y.broadcast_add(b)?),
			None => Ok(y),
		}
	}

	/// The weight as a dense f32 tensor `[out, in]`.
	pub fn dense_weight(&self) -> Result<Tensor> {
		Ok(match &self.weight {
			Weight::Candle(QMatMul::QTensor(q)) => q.dequantize(&q.device())?,
			Weight::Candle(QMatMul::Tensor(w) | QMatMul::TensorF16(w)) => w.to_dtype(DType::F32)?,
			Weight::Int8(w) => w.dequantize(&Device::Cpu)?,
			Weight::Int4(w) => w.dequantize(&Device::Cpu)?,
		})
	}

	/// The same projection with `W` replaced by `W + delta`, re-encoded in
	/// `W`'s own format (what merging an adapter into the base costs).
	pub fn with_added(&self, delta: &Tensor) -> Result<Self> {
		let merged = (self.dense_weight()? + delta)?;
		match &self.weight {
			Weight::Candle(QMatMul::QTensor(q)) => {
				let requantized = QTensor::quantize_onto(&merged, q.dtype(), &q.device())?;
				Self::quantized(requantized, self.bias.clone())
			},
			Weight::Int8(_) => Ok(Self::int8(
				Int8Matrix::quantize(&merged)?,
				self.bias.clone(),
			)),
			Weight::Int4(_) => Ok(Self::int4(
				Int4Matrix::quantize(&merged)?,
				self.bias.clone(),
			)),
			Weight::Candle(_) => Self::dense(merged, self.bias.clone()),
		}
	}

	pub fn size_in_bytes(&self) -> usize {
		let weight = match &self.weight {
			Weight::Candle(QMatMul::QTensor(q)) => q.storage_size_in_bytes(),
			Weight::Candle(QMatMul::Tensor(w) | QMatMul::TensorF16(w)) => {
				w.elem_count() * w.dtype().size_in_bytes()
			},
			Weight::Int8(w) => w.size_in_bytes(),
			Weight::Int4(w) => w.size_in_bytes(),
		};
		weight + self.bias.as_ref().map_or(0, |b| b.elem_count() * 4)
	}
}

/// Quantized matmul whose backward pass multiplies by the dequantized
/// weight, so that gradients flow through a frozen quantized base (QLoRA).
#[derive(Clone, Debug)]
struct QMatMulWithGrad(Arc<QTensor>);

impl CustomOp1 for QMatMulWithGrad {
	fn name(&self) -> &'static str {
		"qmatmul-with-grad"
	}

	fn cpu_fwd(
		&self,
		storage: &CpuStorage,
		layout: &Layout,
	) -> candle_core::Result<(CpuStorage, Shape)> {
		self.0.as_ref().cpu_fwd(storage, layout)
	}

	#[cfg(feature = "cuda")]
	fn cuda_fwd(
		&self,
		storage: &candle_core::CudaStorage,
		layout: &Layout,
	) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
		self.0.as_ref().cuda_fwd(storage, layout)
	}

	fn bwd(
		&self,
		_arg: &Tensor,
		_res: &Tensor,
		grad_res: &Tensor,
	) -> candle_core::Result<Option<Tensor>> {
		let weight = self.0.dequantize(grad_res.device())?;
		Ok(Some(grad_res.broadcast_matmul(&weight)?))
	}
}

/// Token embeddings, kept in the file's encoding.
#[derive(Clone, Debug)]
pub enum Embedding {
	Quantized(Arc<QTensor>),
	Dense(Tensor),
}

impl Embedding {
	/// `ids` `[n]` → `[n, hidden]`.
	pub fn forward(&self, ids: &Tensor) -> Result<Tensor> {
		Ok(match self {
			Embedding::Quantized(q) => q.embedding(ids)?,
			Embedding::Dense(w) => w.index_select(ids, 0)?,
		})
	}

	/// The same matrix as an output projection (tied embeddings).
	pub fn as_linear(&self) -> Result<Linear> {
		match self {
			Embedding::Quantized(q) => {
				let (out_dim, in_dim) = q.shape().dims2()?;
				Ok(Linear {
					weight: Weight::Candle(QMatMul::from_arc(q.clone())?),
					bias: None,
					out_dim,
					in_dim,
				})
			},
			Embedding::Dense(w) => Linear::dense(w.clone(), None),
		}
	}

	pub fn size_in_bytes(&self) -> usize {
		match self {
			Embedding::Quantized(q) => q.storage_size_in_bytes(),
			Embedding::Dense(w) => w.elem_count() * w.dtype().size_in_bytes(),
		}
	}
}

/// The tensors of one decoder layer, by role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
	AttnNorm,
	Q,
	K,
	V,
	O,
	MlpNorm,
	Gate,
	Up,
	Down,
}

impl Role {
	fn hf(self) -> &'static str {
		match self {
			Role::AttnNorm => "input_layernorm",
			Role::Q => "self_attn.q_proj",
			Role::K => "self_attn.k_proj",
			Role::V => "self_attn.v_proj",
			Role::O => "self_attn.o_proj",
			Role::MlpNorm => "post_attention_layernorm",
			Role::Gate => "mlp.gate_proj",
			Role::Up => "mlp.up_proj",
			Role::Down => "mlp.down_proj",
		}
	}

	fn gguf(self) -> &'static str {
		match self {
			Role::AttnNorm => "attn_norm",
			Role::Q => "attn_q",
			Role::K => "attn_k",
			Role::V => "attn_v",
			Role::O => "attn_output",
			Role::MlpNorm => "ffn_norm",
			Role::Gate => "ffn_gate",
			Role::Up => "ffn_up",
			Role::Down => "ffn_down",
		}
	}
}

/// Where the base weights come from.
pub(crate) enum WeightSource {
	Safetensors {
		tensors: HashMap<String, Tensor>,
		device: Device,
		format: WeightFormat,
	},
	Gguf {
		content: gguf_file::Content,
		file: File,
		path: PathBuf,
		device: Device,
		format: WeightFormat,
	},
}

impl WeightSource {
	/// Opens `path`: a `.gguf` file, a `.safetensors` file next to its
	/// `config.json`, or a directory holding `config.json` and safetensors.
	pub(crate) fn open(path: &Path, options: &LoadOptions) -> Result<(Self, ModelConfig)> {
		if path.extension().is_some_and(|e| e == "gguf") {
			let mut file = File::open(path).map_err(io_error(path))?;
			let content = gguf_file::Content::read(&mut file)
				.map_err(|e| EngineError::Config(format!("{}: {e}", path.display())))?;
			let config = ModelConfig::from_gguf(&content)?;
			let format = options.resolve(true)?;
			let source = WeightSource::Gguf {
				content,
				file,
				path: path.into(),
				device: options.device.clone(),
				format,
			};
			return Ok((source, config));
		}
		let (dir, files) = if path.is_dir() {
			let mut files: Vec<PathBuf> = std::fs::read_dir(path)
				.map_err(io_error(path))?
				.filter_map(|e| e.ok().map(|e| e.path()))
				.filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
				.collect();
			files.sort();
			(path.to_path_buf(), files)
		} else {
			(
				path.parent().unwrap_or(Path::new(".")).to_path_buf(),
				vec![path.to_path_buf()],
			)
		};
		if files.is_empty() {
			return Err(EngineError::Config(format!(
				"no .safetensors files in {}",
				dir.display()
			)));
		}
		let config_path = dir.join("config.json");
		let json = std::fs::read_to_string(&config_path).map_err(io_error(&config_path))?;
		let config = ModelConfig::from_hf_json(&json)?;
		let mut tensors = HashMap::new();
		for file in &files {
			let loaded = candle_core::safetensors::load(file, &Device::Cpu)
				.map_err(|e| EngineError::Config(format!("{}: {e}", file.display())))?;
			tensors.extend(loaded);
		}
		Ok((
			WeightSource::Safetensors {
				tensors,
				device: options.device.clone(),
				format: options.resolve(false)?,
			},
			config,
		))
	}

	/// A description of the weights for logs.
	pub(crate) fn describe(&self) -> String {
		match self {
			WeightSource::Safetensors { tensors, .. } => {
				format!("{} safetensors tensors", tensors.len())
			},
			WeightSource::Gguf { path, format, .. } => {
				format!("GGUF {} ({format:?})", path.display())
			},
		}
	}

	fn has(&self, hf: &str, gguf: &str) -> bool {
		match self {
			WeightSource::Safetensors { tensors, .. } => tensors.contains_key(hf),
			WeightSource::Gguf { content, .. } => content.tensor_infos.contains_key(gguf),
		}
	}

	fn dense(&mut self, hf: &str, gguf: &str) -> Result<Tensor> {
		match self {
			WeightSource::Safetensors {
				tensors, device, ..
			} => {
				let t = tensors
					.get(hf)
					.ok_or_else(|| EngineError::MissingWeight(hf.into()))?;
				Ok(t.to_dtype(DType::F32)?.to_device(device)?)
			},
			WeightSource::Gguf { .. } => {
				let q = self.quantized(gguf, false)?;
				Ok(q.dequantize(&q.device())?)
			},
		}
	}

	fn quantized(&mut self, gguf: &str, requantize: bool) -> Result<QTensor> {
		let WeightSource::Gguf {
			content,
			file,
			device,
			format,
			..
		} = self
		else {
			return Err(EngineError::MissingWeight(gguf.into()));
		};
		if !content.tensor_infos.contains_key(gguf) {
			return Err(EngineError::MissingWeight(gguf.into()));
		}
		let slow = matches!(
			content.tensor_infos[gguf].ggml_dtype,
			GgmlDType::Q4_1 | GgmlDType::Q5_0 | GgmlDType::Q5_1
		);
		if requantize && slow && *format == WeightFormat::Quantized && device.is_cpu() {
			let q = content.tensor(file, gguf, &Device::Cpu)?;
			let dense = q.dequantize(&Device::Cpu)?;
			return Ok(QTensor::quantize(&dense, GgmlDType::Q8_0)?);
		}
		Ok(content.tensor(file, gguf, device)?)
	}

	/// A 1-D tensor such as a norm weight.
	pub(crate) fn vector(&mut self, hf: &str, gguf: &str) -> Result<Tensor> {
		self.dense(hf, gguf)
	}

	pub(crate) fn layer_vector(&mut self, layer: usize, role: Role) -> Result<Tensor> {
		self.vector(
			&format!("model.layers.{layer}.{}.weight", role.hf()),
			&format!("blk.{layer}.{}.weight", role.gguf()),
		)
	}

	/// The projections of `roles` in `layer`, fused into one matrix when
	/// their encodings allow, in the order given.
	pub(crate) fn layer_linears(
		&mut self,
		config: &ModelConfig,
		layer: usize,
		roles: &[Role],
	) -> Result<Vec<Linear>> {
		let mut parts = Vec::with_capacity(roles.len());
		for &role in roles {
			parts.push(self.layer_linear(config, layer, role)?);
		}
		let linears = fuse(parts)?;
		match self.format() {
			WeightFormat::Int8 => linears.iter().map(Linear::to_int8).collect(),
			WeightFormat::Int4 => linears.iter().map(Linear::to_int4).collect(),
			WeightFormat::Dense | WeightFormat::Quantized | WeightFormat::AsStored => Ok(linears),
		}
	}

	fn format(&self) -> WeightFormat {
		match self {
			WeightSource::Safetensors { format, .. } | WeightSource::Gguf { format, .. } => *format,
		}
	}

	fn layer_linear(&mut self, config: &ModelConfig, layer: usize, role: Role) -> Result<Part> {
		let hf = format!("model.layers.{layer}.{}", role.hf());
		let gguf = format!("blk.{layer}.{}", role.gguf());
		// llama.cpp stores Llama's q and k rows interleaved for its rotary
		// kernel; restore Hugging Face's order so that one rotary
		// convention and unmodified PEFT adapters serve both formats.
		let unpermute_heads = match (role, &*self) {
			(Role::Q, WeightSource::Gguf { .. }) if config.architecture == Architecture::Llama => {
				Some(config.num_attention_heads)
			},
			(Role::K, WeightSource::Gguf { .. }) if config.architecture == Architecture::Llama => {
				Some(config.num_key_value_heads)
			},
			_ => None,
		};
		let bias_name = (format!("{hf}.bias"), format!("{gguf}.bias"));
		let bias = if self.has(&bias_name.0, &bias_name.1) {
			let b = self.dense(&bias_name.0, &bias_name.1)?;
			Some(match unpermute_heads {
				Some(heads) => unpermute_rows_dense(&b.unsqueeze(1)?, heads)?.squeeze(1)?,
				None => b,
			})
		} else {
			None
		};
		match self {
			WeightSource::Safetensors { .. } => {
				let w = self.dense(&format!("{hf}.weight"), "")?;
				Ok(Part::Dense(w, bias))
			},
			WeightSource::Gguf { format, .. } => {
				let dense = matches!(*format, WeightFormat::Dense | WeightFormat::Int8);
				let q = self.quantized(&format!("{gguf}.weight"), true)?;
				let q = match unpermute_heads {
					Some(heads) => unpermute_rows_quantized(&q, heads)?,
					None => q,
				};
				if dense {
					return Ok(Part::Dense(q.dequantize(&q.device())?, bias));
				}
				Ok(Part::Quantized(q, bias))
			},
		}
	}

	pub(crate) fn embedding(&mut self) -> Result<Embedding> {
		match self {
			WeightSource::Safetensors { .. } => Ok(Embedding::Dense(
				self.dense("model.embed_tokens.weight", "")?,
			)),
			WeightSource::Gguf { .. } => {
				let q = self.quantized("token_embd.weight", true)?;
				match q.dtype() {
					GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16 => {
						Ok(Embedding::Dense(q.dequantize(&q.device())?))
					},
					_ => Ok(Embedding::Quantized(Arc::new(q))),
				}
			},
		}
	}

	/// The output projection (the embeddings again when tied).
	pub(crate) fn lm_head(
		&mut self,
		config: &ModelConfig,
		embedding: &Embedding,
	) -> Result<Linear> {
		let tied = config.tie_word_embeddings || !self.has("lm_head.weight", "output.weight");
		let head = match (&*self, tied) {
			(_, true) => embedding.as_linear()?,
			(WeightSource::Safetensors { .. }, false) => {
				Linear::dense(self.dense("lm_head.weight", "")?, None)?
			},
			(WeightSource::Gguf { .. }, false) => {
				Linear::quantized(self.quantized("output.weight", true)?, None)?
			},
		};
		match self.format() {
			WeightFormat::Int8 => head.to_int8(),
			WeightFormat::Int4 => head.to_int4(),
			WeightFormat::Dense => Linear::dense(head.dense_weight()?, None),
			WeightFormat::Quantized | WeightFormat::AsStored => Ok(head),
		}
	}
}

/// One projection before fusion.
enum Part {
	Dense(Tensor, Option<Tensor>),
	Quantized(QTensor, Option<Tensor>),
}

/// Stacks the rows of projections that read the same input so that one
/// matmul computes them all; falls back to one matmul each when their
/// encodings differ.
fn fuse(parts: Vec<Part>) -> Result<Vec<Linear>> {
	let biased = parts
		.iter()
		.filter(|p| matches!(p, Part::Dense(_, Some(_)) | Part::Quantized(_, Some(_))))
		.count();
	let all_dense = parts.iter().all(|p| matches!(p, Part::Dense(..)));
	let same_quant = match parts.first() {
		Some(Part::Quantized(first, _)) => parts
			.iter()
			.all(|p| matches!(p, Part::Quantized(q, _) if q.dtype() == first.dtype() && q.shape().dims()[1] == first.shape().dims()[1])),
		_ => false,
	};
	let fusable =
		parts.len() > 1 && (biased == 0 || biased == parts.len()) && (all_dense || same_quant);
	if !fusable {
		let linears = parts
			.into_iter()
			.map(|p| match p {
				Part::Dense(w, b) => Linear::dense(w, b),
				Part::Quantized(q, b) => Linear::quantized(q, b),
			})
			.collect::<Result<Vec<_>>>()?;
		return Ok(linears);
	}
	let bias = if biased > 0 {
		let biases: Vec<Tensor> = parts
			.iter()
			.filter_map(|p| match p {
				Part::Dense(_, b) | Part::Quantized(_, b) => b.clone(),
			})
			.collect();
		Some(Tensor::cat(&biases, 0)?)
	} else {
		None
	};
	if all_dense {
		let weights: Vec<Tensor> = parts
			.into_iter()
			.filter_map(|p| match p {
				Part::Dense(w, _) => Some(w),
				Part::Quantized(..) => None,
			})
			.collect();
		return Ok(vec![Linear::dense(Tensor::cat(&weights, 0)?, bias)?]);
	}
	let mut rows = 0;
	let mut bytes = Vec::new();
	let mut dtype = GgmlDType::F32;
	let mut in_dim = 0;
	let mut device = Device::Cpu;
	for part in &parts {
		if let Part::Quantized(q, _) = part {
			let (n, k) = q.shape().dims2()?;
			rows += n;
			in_dim = k;
			dtype = q.dtype();
			device = q.device();
			bytes.extend_from_slice(&q.data()?);
		}
	}
	let storage = QStorage::from_data(Cow::Owned(bytes), &device, dtype)?;
	Ok(vec![Linear::quantized(
		QTensor::new(storage, (rows, in_dim))?,
		bias,
	)?])
}

/// Maps llama.cpp's per-head row order `(pair, half)` back to Hugging
/// Face's `(half, pair)`: HF row `h·d + s·d/2 + j` is GGUF row `h·d + 2j + s`.
fn hf_row_order(rows: usize, heads: usize) -> Result<Vec<usize>> {
	if heads == 0 || !rows.is_multiple_of(heads) || !(rows / heads).is_multiple_of(2) {
		return Err(EngineError::Config(format!(
			"{rows} rows do not split into {heads} rotary heads"
		)));
	}
	let head_dim = rows / heads;
	let half = head_dim / 2;
	Ok((0..rows)
		.map(|hf| {
			let (h, within) = (hf / head_dim, hf % head_dim);
			let (s, j) = (within / half, within % half);
			h * head_dim + 2 * j + s
		})
		.collect())
}

fn unpermute_rows_quantized(q: &QTensor, heads: usize) -> Result<QTensor> {
	let (rows, cols) = q.shape().dims2()?;
	let order = hf_row_order(rows, heads)?;
	let data = q.data()?;
	let row_bytes = data.len() / rows;
	let mut out = Vec::with_capacity(data.len());
	for &src in &order {
		out.extend_from_slice(&data[src * row_bytes..(src + 1) * row_bytes]);
	}
	let storage = QStorage::from_data(Cow::Owned(out), &q.device(), q.dtype())?;
	Ok(QTensor::new(storage, (rows, cols))?)
}

fn unpermute_rows_dense(t: &Tensor, heads: usize) -> Result<Tensor> {
	let order = hf_row_order(t.dim(0)?, heads)?;
	let order: Vec<u32> = order.into_iter().map(|i| i as u32).collect();
	let index = Tensor::from_vec(order, t.dim(0)?, t.device())?;
	Ok(t.index_select(&index, 0)?)
}

/// The inverse of [`hf_row_order`], as llama.cpp's converter applies it;
/// used to write GGUF fixtures the way real files are laid out.
pub(crate) fn gguf_row_order(rows: usize, heads: usize) -> Result<Vec<usize>> {
	let hf = hf_row_order(rows, heads)?;
	let mut inverse = vec![0; rows];
	for (hf_row, gguf_row) in hf.into_iter().enumerate() {
		inverse[gguf_row] = hf_row;
	}
	Ok(inverse)
}

/// Reads the metadata of a GGUF model for the tokenizer and chat template.
pub(crate) fn gguf_meta(content: &gguf_file::Content) -> GgufMeta<'_> {
	GgufMeta(&content.metadata)
}
