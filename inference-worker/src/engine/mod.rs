//! The model math: a Llama-family decoder with LoRA, its tokenizer, chat
//! template and sampling. Knows nothing of HTTP, adapter files or the chain.

#[cfg(target_arch = "x86_64")]
mod amx;
pub mod attention;
pub mod chat;
pub mod config;
pub mod int4;
pub mod int8;
pub mod kv_cache;
pub mod llama;
pub mod lora;
pub mod ops;
mod packed;
pub mod sampling;
pub mod tokenizer;
pub mod weights;

mod simd;

use std::path::PathBuf;

pub use config::{Architecture, ModelConfig};
pub use kv_cache::KvCache;
pub use llama::{BatchRow, Llama};
pub use lora::{LoraPair, LoraStorage, LoraTarget, LoraWeights};
pub use ops::Execution;
pub use weights::{LoadOptions, WeightFormat};

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// A tensor operation failed (shape, dtype or device mismatch).
	#[error(transparent)]
	Tensor(#[from] candle_core::Error),
	/// A model file could not be read.
	#[error("cannot read {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
	/// `config.json` or the GGUF metadata does not describe a usable model.
	#[error("invalid model config: {0}")]
	Config(String),
	/// The files describe a model this engine does not run.
	#[error("unsupported model: {0}")]
	Unsupported(String),
	/// A weight the architecture needs is not in the files.
	#[error("missing weight `{0}`")]
	MissingWeight(String),
	/// The tokenizer could not be built or failed on an input.
	#[error("tokenizer: {0}")]
	Tokenizer(String),
	/// The chat template could not be parsed or rendered.
	#[error("chat template: {0}")]
	ChatTemplate(String),
	/// A batch handed to the model is inconsistent (empty rows, too long).
	#[error("invalid batch: {0}")]
	Batch(String),
}

/// Keeps candle's own CPU worker pool to the calling thread unless the
/// user chose otherwise (`CANDLE_NUM_THREADS`). The engine's heavy kernels
/// (8-bit matmuls, attention, LoRA) run on rayon; candle's remaining ops
/// are small, and its pool's workers spin after each one, taking cores
/// from those kernels on small machines. Call before any tensor work.
pub fn prefer_engine_threads() {
	if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
		std::env::set_var("CANDLE_NUM_THREADS", "1");
	}
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, EngineError>;

pub(crate) fn io_error(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EngineError {
	let path = path.into();
	move |source| EngineError::Io { path, source }
}

/// The largest absolute difference between two tensors of one shape.
#[cfg(test)]
pub(crate) fn max_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
	(a - b)
		.and_then(|d| d.abs())
		.and_then(|d| d.flatten_all())
		.and_then(|d| d.max(0))
		.and_then(|d| d.to_scalar::<f32>())
		.expect("tensors of one shape and dtype f32")
}
