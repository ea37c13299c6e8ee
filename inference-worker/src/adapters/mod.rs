//! LoRA adapters on disk (PEFT format), their validation against the base
//! model, and the registry that keeps them resident under a byte budget.

mod peft;
mod registry;

use std::path::PathBuf;

use crate::engine::{EngineError, LoraStorage, ModelConfig};

pub use peft::{
	load_peft_adapter, save_peft_adapter, LoadedAdapter, PeftConfig, PeftMetadata,
	ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE,
};
pub use registry::{AdapterInfo, AdapterRegistry, RegistryStats};

/// What adapters are checked against: the served base model.
#[derive(Clone, Debug)]
pub struct BaseModelInfo {
	/// The id clients use for the base model.
	pub id: String,
	/// Other names adapters may give as `base_model_name_or_path`.
	pub aliases: Vec<String>,
	pub config: ModelConfig,
	pub device: candle_core::Device,
}

impl BaseModelInfo {
	/// Whether `name` (a hub id, a path or a file name) denotes this base.
	/// Compares the last path component, ignoring case and any extension
	/// such as `.gguf` or a quantization suffix like `.Q4_1`.
	pub fn accepts(&self, name: &str) -> bool {
		let wanted = normalize_model_name(name);
		std::iter::once(&self.id)
			.chain(&self.aliases)
			.any(|n| normalize_model_name(n) == wanted)
	}
}

fn normalize_model_name(name: &str) -> String {
	let last = name
		.trim_end_matches('/')
		.rsplit(['/', '\\'])
		.next()
		.unwrap_or(name);
	let lower = last.to_ascii_lowercase();
	let stem = lower.strip_suffix(".gguf").unwrap_or(&lower);
	// `SmolLM2-135M-Instruct.Q4_1` names the same model as `SmolLM2-135M-Instruct`.
	match stem.rsplit_once('.') {
		Some((base, quant))
			if quant.starts_with('q') || quant.starts_with('f') || quant.starts_with("bf") =>
		{
			base.to_string()
		},
		_ => stem.to_string(),
	}
}

/// Limits the worker puts on adapters.
#[derive(Clone, Copy, Debug)]
pub struct AdapterLimits {
	/// Largest LoRA rank accepted.
	pub max_rank: usize,
	/// Bytes of adapter weights kept resident; least recently used
	/// adapters are dropped beyond it and reloaded when next asked for.
	pub cache_bytes: usize,
	/// How resident adapter weights are stored (see [`LoraStorage`]): 8-bit
	/// rows by default, a quarter of f32's memory and of the bytes a batch
	/// over many adapters reads per step; bf16 half; f32 keeps adapters
	/// stored in f32 exact. On a GPU, 8-bit rows are kept in bf16.
	pub storage: LoraStorage,
}

impl Default for AdapterLimits {
	fn default() -> Self {
		Self {
			max_rank: 64,
			cache_bytes: 512 << 20,
			storage: LoraStorage::default(),
		}
	}
}

/// Why an adapter cannot be loaded or used. Each names the problem.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
	#[error("adapter `{0}` is not loaded")]
	NotFound(String),
	#[error("an adapter named `{0}` is already loaded")]
	AlreadyLoaded(String),
	#[error("adapter name `{name}` is invalid: {reason}")]
	InvalidName { name: String, reason: &'static str },
	#[error("cannot read {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
	#[error("adapter_config.json is invalid: {0}")]
	InvalidConfig(String),
	#[error("unsupported adapter: {0}")]
	Unsupported(String),
	#[error("adapter was trained for base model `{found}` but this worker serves `{expected}`")]
	WrongBase { expected: String, found: String },
	#[error("`{tensor}` has shape {found:?} but the base model needs {expected:?}")]
	ShapeMismatch {
		tensor: String,
		expected: Vec<usize>,
		found: Vec<usize>,
	},
	#[error("rank {rank} of `{module}` exceeds this worker's limit of {limit}")]
	RankTooLarge {
		module: String,
		rank: usize,
		limit: usize,
	},
	#[error("adapter_model.safetensors is corrupt or truncated: {0}")]
	CorruptWeights(String),
	#[error("`{0}` is missing from adapter_model.safetensors")]
	MissingTensor(String),
	#[error("`{0}` is not a LoRA weight of a module of the base model")]
	UnexpectedTensor(String),
	#[error("adapter needs {needed} bytes but the adapter cache holds at most {budget}")]
	TooLarge { needed: usize, budget: usize },
	#[error(transparent)]
	Engine(#[from] EngineError),
}

impl From<candle_core::Error> for AdapterError {
	fn from(e: candle_core::Error) -> Self {
		AdapterError::Engine(EngineError::Tensor(e))
	}
}
