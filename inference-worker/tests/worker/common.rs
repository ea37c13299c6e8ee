use std::path::{Path, PathBuf};

use candle_core::quantized::GgmlDType;
use candle_core::{Device, Tensor};
use openledger_inference_worker::adapters::{AdapterLimits, BaseModelInfo};
use openledger_inference_worker::engine::tokenizer::TextTokenizer;
use openledger_inference_worker::engine::{
	Architecture, BatchRow, Llama, LoadOptions, LoraWeights, ModelConfig,
};
use openledger_inference_worker::fixtures;
use tempfile::TempDir;

pub const BASE_ID: &str = "tiny-test-model";
pub const SEED: u64 = 42;

/// A tiny model written to a temporary directory, and loaded.
pub struct Tiny {
	pub dir: TempDir,
	pub model: Llama,
	pub tokenizer: TextTokenizer,
}

impl Tiny {
	pub fn config(&self) -> &ModelConfig {
		self.model.config()
	}

	pub fn base_info(&self) -> BaseModelInfo {
		BaseModelInfo {
			id: BASE_ID.into(),
			aliases: vec![],
			config: self.config().clone(),
			device: Device::Cpu,
		}
	}
}

pub fn tiny(architecture: Architecture) -> Tiny {
	let dir = tempfile::tempdir().unwrap();
	let model_dir = dir.path().join("model");
	fixtures::write_safetensors_model(&model_dir, &fixtures::tiny_config(architecture), SEED)
		.unwrap();
	let model = Llama::load(&model_dir, &LoadOptions::default()).unwrap();
	let tokenizer = TextTokenizer::for_model(&model_dir, None, model.config()).unwrap();
	Tiny {
		dir,
		model,
		tokenizer,
	}
}

pub fn tiny_gguf(dir: &Path, architecture: Architecture, dtype: GgmlDType) -> PathBuf {
	let path = dir.join(format!("tiny-{dtype:?}.gguf"));
	fixtures::write_gguf_model(&path, &fixtures::tiny_config(architecture), SEED, dtype).unwrap();
	path
}

pub fn limits() -> AdapterLimits {
	// f32 keeps adapters exactly as written, for exact comparisons.
	AdapterLimits {
		max_rank: 32,
		cache_bytes: 64 << 20,
		storage: openledger_inference_worker::engine::LoraStorage::F32,
	}
}

pub fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
	(a - b)
		.unwrap()
		.abs()
		.unwrap()
		.flatten_all()
		.unwrap()
		.max(0)
		.unwrap()
		.to_scalar::<f32>()
		.unwrap()
}

/// Logits after feeding `tokens` to a fresh sequence, `[vocab]`.
pub fn prefill_logits(model: &Llama, lora: Option<&LoraWeights>, tokens: &[u32]) -> Tensor {
	let mut cache = model.new_cache(tokens.len());
	let mut rows = [BatchRow {
		tokens,
		cache: &mut cache,
		lora,
	}];
	model.forward(&mut rows).unwrap().squeeze(0).unwrap()
}

/// Greedy generation of `n` tokens for one sequence, alone.
pub fn greedy_alone(
	model: &Llama,
	lora: Option<&LoraWeights>,
	prompt: &[u32],
	n: usize,
) -> Vec<u32> {
	fixtures::greedy_alone(model, lora, prompt, n).unwrap().0
}
