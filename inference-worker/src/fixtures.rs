//! Tiny models and adapters with random weights, written to disk in the
//! same formats as real ones (HF safetensors + `config.json` +
//! `tokenizer.json`, GGUF with its tokenizer, PEFT adapters), so that tests
//! and benchmarks exercise the real loading paths without downloads.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::adapters::{save_peft_adapter, AdapterError, PeftMetadata};
use crate::engine::chat::CHATML;
use crate::engine::llama::{target_in_width, target_width};
use crate::engine::sampling::argmax;
use crate::engine::tokenizer::{byte_level_bpe, TextTokenizer};
use crate::engine::weights::gguf_row_order;
use crate::engine::{
	io_error, Architecture, BatchRow, EngineError, Llama, LoraPair, LoraTarget, LoraWeights,
	ModelConfig, Result,
};

/// Special tokens of the fixture vocabulary, at ids 0, 1, 2.
pub const SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

/// Merges of the fixture BPE (GPT-2 byte-level symbols; `Ġ` is a space).
const MERGES: [(&str, &str); 12] = [
	("t", "h"),
	("th", "e"),
	("Ġ", "t"),
	("Ġ", "a"),
	("i", "n"),
	("e", "r"),
	("a", "n"),
	("o", "n"),
	("r", "e"),
	("Ġ", "s"),
	("Ġ", "the"),
	("e", "s"),
];

/// The fixture vocabulary: special tokens, the 256 byte symbols, merges.
pub fn tiny_vocab() -> (Vec<String>, Vec<(String, String)>, Vec<i64>) {
	let mut tokens: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
	let mut types = vec![3i64; SPECIAL_TOKENS.len()];
	for b in 0..=255u8 {
		tokens.push(byte_symbol(b).to_string());
		types.push(1);
	}
	for (a, b) in MERGES {
		tokens.push(format!("{a}{b}"));
		types.push(1);
	}
	let merges = MERGES
		.iter()
		.map(|(a, b)| (a.to_string(), b.to_string()))
		.collect();
	(tokens, merges, types)
}

/// GPT-2's reversible map from bytes to printable characters.
fn byte_symbol(b: u8) -> char {
	let printable = |x: u8| {
		(b'!'..=b'~').contains(&x) || (0xA1..=0xAC).contains(&x) || (0xAE..=0xFF).contains(&x)
	};
	if printable(b) {
		return char::from(b);
	}
	let offset = (0..b).filter(|&x| !printable(x)).count() as u32;
	char::from_u32(256 + offset).unwrap_or('?')
}

/// A small Llama (tied embeddings) or Qwen2 (q/k/v biases, separate output).
pub fn tiny_config(architecture: Architecture) -> ModelConfig {
	let vocab = tiny_vocab().0.len();
	ModelConfig {
		architecture,
		vocab_size: vocab,
		hidden_size: 64,
		intermediate_size: 128,
		num_hidden_layers: 2,
		num_attention_heads: 4,
		num_key_value_heads: 2,
		head_dim: 16,
		rms_norm_eps: 1e-5,
		rope_theta: 10_000.0,
		max_position_embeddings: 512,
		tie_word_embeddings: architecture == Architecture::Llama,
		attention_bias: architecture == Architecture::Qwen2,
		bos_token_id: None,
		eos_token_ids: vec![2],
	}
}

/// Random base weights under Hugging Face names.
pub fn random_weights(config: &ModelConfig, seed: u64) -> Result<HashMap<String, Tensor>> {
	let mut rng = StdRng::seed_from_u64(seed);
	let mut tensors = HashMap::new();
	let mut put =
		|name: String, shape: &[usize], scale: f32, offset: f32, rng: &mut StdRng| -> Result<()> {
			let n: usize = shape.iter().product();
			let values: Vec<f32> = (0..n)
				.map(|_| offset + scale * (rng.random::<f32>() * 2.0 - 1.0))
				.collect();
			tensors.insert(name, Tensor::from_vec(values, shape, &Device::Cpu)?);
			Ok(())
		};
	let h = config.hidden_size;
	put(
		"model.embed_tokens.weight".into(),
		&[config.vocab_size, h],
		0.5,
		0.0,
		&mut rng,
	)?;
	for layer in 0..config.num_hidden_layers {
		let p = format!("model.layers.{layer}");
		put(
			format!("{p}.input_layernorm.weight"),
			&[h],
			0.1,
			1.0,
			&mut rng,
		)?;
		put(
			format!("{p}.post_attention_layernorm.weight"),
			&[h],
			0.1,
			1.0,
			&mut rng,
		)?;
		for target in LoraTarget::ALL {
			let (out, inp) = (
				target_width(config, target),
				target_in_width(config, target),
			);
			let scale = 1.0 / (inp as f32).sqrt();
			put(
				format!("{}.weight", target.module_path(layer)),
				&[out, inp],
				scale,
				0.0,
				&mut rng,
			)?;
			if config.attention_bias
				&& matches!(target, LoraTarget::Q | LoraTarget::K | LoraTarget::V)
			{
				put(
					format!("{}.bias", target.module_path(layer)),
					&[out],
					0.1,
					0.0,
					&mut rng,
				)?;
			}
		}
	}
	put("model.norm.weight".into(), &[h], 0.1, 1.0, &mut rng)?;
	if !config.tie_word_embeddings {
		put(
			"lm_head.weight".into(),
			&[config.vocab_size, h],
			1.0 / (h as f32).sqrt(),
			0.0,
			&mut rng,
		)?;
	}
	Ok(tensors)
}

fn fixture_tokenizer() -> Result<TextTokenizer> {
	let (tokens, merges, types) = tiny_vocab();
	let inner = byte_level_bpe(&tokens, merges, &types, "gpt2")?;
	Ok(TextTokenizer::from_parts(
		inner,
		vec![2],
		None,
		Some("<|im_end|>".into()),
		Some(CHATML.into()),
	))
}

/// Writes `config.json`, `model.safetensors`, `tokenizer.json` and
/// `tokenizer_config.json` into `dir`.
pub fn write_safetensors_model(dir: &Path, config: &ModelConfig, seed: u64) -> Result<()> {
	std::fs::create_dir_all(dir).map_err(io_error(dir))?;
	let weights = random_weights(config, seed)?;
	candle_core::safetensors::save(&weights, dir.join("model.safetensors"))?;
	let hf_config = serde_json::json!({
		"architectures": [match config.architecture { Architecture::Llama => "LlamaForCausalLM", Architecture::Qwen2 => "Qwen2ForCausalLM" }],
		"model_type": match config.architecture { Architecture::Llama => "llama", Architecture::Qwen2 => "qwen2" },
		"vocab_size": config.vocab_size,
		"hidden_size": config.hidden_size,
		"intermediate_size": config.intermediate_size,
		"num_hidden_layers": config.num_hidden_layers,
		"num_attention_heads": config.num_attention_heads,
		"num_key_value_heads": config.num_key_value_heads,
		"head_dim": config.head_dim,
		"rms_norm_eps": config.rms_norm_eps,
		"rope_theta": config.rope_theta,
		"max_position_embeddings": config.max_position_embeddings,
		"tie_word_embeddings": config.tie_word_embeddings,
		"attention_bias": config.attention_bias,
		"eos_token_id": config.eos_token_ids,
	});
	write_json(&dir.join("config.json"), &hf_config)?;
	fixture_tokenizer()?.save_json(&dir.join("tokenizer.json"))?;
	let tokenizer_config = serde_json::json!({
		"chat_template": CHATML,
		"eos_token": "<|im_end|>",
		"bos_token": null,
	});
	write_json(&dir.join("tokenizer_config.json"), &tokenizer_config)
}

/// Writes the same random weights as [`write_safetensors_model`] (same
/// `seed`) as a GGUF file the way llama.cpp lays it out: GGUF names,
/// reversed dims, Llama's q/k rows permuted for its rotary kernel, the
/// tokenizer in metadata. Matrices are encoded as `dtype`.
pub fn write_gguf_model(
	path: &Path,
	config: &ModelConfig,
	seed: u64,
	dtype: GgmlDType,
) -> Result<()> {
	let weights = random_weights(config, seed)?;
	let arch = match config.architecture {
		Architecture::Llama => "llama",
		Architecture::Qwen2 => "qwen2",
	};
	let mut named: Vec<(String, QTensor)> = Vec::new();
	let mut add = |name: String, t: &Tensor, matrix: bool| -> Result<()> {
		let encoding = if matrix { dtype } else { GgmlDType::F32 };
		named.push((name, QTensor::quantize(t, encoding)?));
		Ok(())
	};
	let get = |name: &str| {
		weights
			.get(name)
			.ok_or_else(|| EngineError::MissingWeight(name.into()))
	};
	add(
		"token_embd.weight".into(),
		get("model.embed_tokens.weight")?,
		true,
	)?;
	add(
		"output_norm.weight".into(),
		get("model.norm.weight")?,
		false,
	)?;
	if !config.tie_word_embeddings {
		add("output.weight".into(), get("lm_head.weight")?, true)?;
	}
	for layer in 0..config.num_hidden_layers {
		let hf = |s: &str| format!("model.layers.{layer}.{s}");
		let gg = |s: &str| format!("blk.{layer}.{s}");
		add(
			gg("attn_norm.weight"),
			get(&hf("input_layernorm.weight"))?,
			false,
		)?;
		add(
			gg("ffn_norm.weight"),
			get(&hf("post_attention_layernorm.weight"))?,
			false,
		)?;
		for (target, name) in [
			(LoraTarget::Q, "attn_q"),
			(LoraTarget::K, "attn_k"),
			(LoraTarget::V, "attn_v"),
			(LoraTarget::O, "attn_output"),
			(LoraTarget::Gate, "ffn_gate"),
			(LoraTarget::Up, "ffn_up"),
			(LoraTarget::Down, "ffn_down"),
		] {
			let heads = match (config.architecture, target) {
				(Architecture::Llama, LoraTarget::Q) => Some(config.num_attention_heads),
				(Architecture::Llama, LoraTarget::K) => Some(config.num_key_value_heads),
				_ => None,
			};
			let w = get(&format!("{}.weight", target.module_path(layer)))?;
			let w = match heads {
				Some(h) => permute_rows(w, h)?,
				None => w.clone(),
			};
			add(gg(&format!("{name}.weight")), &w, true)?;
			if let Ok(b) = get(&format!("{}.bias", target.module_path(layer))) {
				add(gg(&format!("{name}.bias")), b, false)?;
			}
		}
	}

	let (tokens, merges, types) = tiny_vocab();
	let s = |v: &str| gguf_file::Value::String(v.to_string());
	let u = |v: usize| gguf_file::Value::U32(v as u32);
	let f = |v: f64| gguf_file::Value::F32(v as f32);
	let metadata: Vec<(String, gguf_file::Value)> = vec![
		("general.architecture".into(), s(arch)),
		("general.name".into(), s("tiny-test-model")),
		(format!("{arch}.block_count"), u(config.num_hidden_layers)),
		(
			format!("{arch}.context_length"),
			u(config.max_position_embeddings),
		),
		(format!("{arch}.embedding_length"), u(config.hidden_size)),
		(
			format!("{arch}.feed_forward_length"),
			u(config.intermediate_size),
		),
		(
			format!("{arch}.attention.head_count"),
			u(config.num_attention_heads),
		),
		(
			format!("{arch}.attention.head_count_kv"),
			u(config.num_key_value_heads),
		),
		(format!("{arch}.attention.key_length"), u(config.head_dim)),
		(format!("{arch}.rope.freq_base"), f(config.rope_theta)),
		(
			format!("{arch}.attention.layer_norm_rms_epsilon"),
			f(config.rms_norm_eps),
		),
		("tokenizer.ggml.model".into(), s("gpt2")),
		("tokenizer.ggml.pre".into(), s("gpt2")),
		(
			"tokenizer.ggml.tokens".into(),
			gguf_file::Value::Array(tokens.iter().map(|t| s(t)).collect()),
		),
		(
			"tokenizer.ggml.merges".into(),
			gguf_file::Value::Array(merges.iter().map(|(a, b)| s(&format!("{a} {b}"))).collect()),
		),
		(
			"tokenizer.ggml.token_type".into(),
			gguf_file::Value::Array(
				types
					.iter()
					.map(|&t| gguf_file::Value::I32(t as i32))
					.collect(),
			),
		),
		("tokenizer.ggml.eos_token_id".into(), u(2)),
		("tokenizer.chat_template".into(), s(CHATML)),
	];
	let metadata_refs: Vec<(&str, &gguf_file::Value)> =
		metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
	let tensor_refs: Vec<(&str, &QTensor)> = named.iter().map(|(k, v)| (k.as_str(), v)).collect();
	let mut file = std::fs::File::create(path).map_err(io_error(path))?;
	gguf_file::write(&mut file, &metadata_refs, &tensor_refs)?;
	Ok(())
}

fn permute_rows(w: &Tensor, heads: usize) -> Result<Tensor> {
	let order: Vec<u32> = gguf_row_order(w.dim(0)?, heads)?
		.into_iter()
		.map(|i| i as u32)
		.collect();
	let index = Tensor::from_vec(order, w.dim(0)?, w.device())?;
	Ok(w.index_select(&index, 0)?)
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
	let text =
		serde_json::to_string_pretty(value).map_err(|e| EngineError::Config(e.to_string()))?;
	std::fs::write(path, text).map_err(io_error(path))
}

/// What a random adapter looks like.
#[derive(Clone, Debug)]
pub struct AdapterSpec {
	pub rank: usize,
	pub alpha: f64,
	pub targets: Vec<LoraTarget>,
	pub use_rslora: bool,
	/// Leaves `B` at zero, as PEFT initialises it (the adapter is a no-op).
	pub zero_b: bool,
	pub base_model: String,
	pub seed: u64,
}

impl AdapterSpec {
	pub fn new(rank: usize, seed: u64, base_model: &str) -> Self {
		Self {
			rank,
			alpha: 2.0 * rank as f64,
			targets: LoraTarget::ALL.to_vec(),
			use_rslora: false,
			zero_b: false,
			base_model: base_model.to_string(),
			seed,
		}
	}
}

/// Random LoRA weights for `config` (on the CPU). Magnitudes are chosen so
/// that the adapter visibly changes the output.
pub fn random_lora(config: &ModelConfig, spec: &AdapterSpec) -> Result<LoraWeights> {
	let mut rng = StdRng::seed_from_u64(spec.seed);
	let mut weights = LoraWeights::new(config.num_hidden_layers);
	let scale = if spec.use_rslora {
		spec.alpha / (spec.rank as f64).sqrt()
	} else {
		spec.alpha / spec.rank as f64
	};
	for layer in 0..config.num_hidden_layers {
		for &target in &spec.targets {
			let (out, inp) = (
				target_width(config, target),
				target_in_width(config, target),
			);
			let mut random = |n: usize, amplitude: f32| -> Vec<f32> {
				(0..n)
					.map(|_| amplitude * (rng.random::<f32>() * 2.0 - 1.0))
					.collect()
			};
			let a = Tensor::from_vec(
				random(spec.rank * inp, 1.0 / (inp as f32).sqrt()),
				(spec.rank, inp),
				&Device::Cpu,
			)?;
			let b_values = if spec.zero_b {
				vec![0f32; out * spec.rank]
			} else {
				random(out * spec.rank, 0.5 / spec.rank as f32)
			};
			let b = Tensor::from_vec(b_values, (out, spec.rank), &Device::Cpu)?;
			weights.insert(layer, target, LoraPair::from_peft(a, b, scale)?)?;
		}
	}
	Ok(weights)
}

/// Writes a random PEFT adapter into `dir`.
pub fn write_peft_adapter(
	dir: &Path,
	config: &ModelConfig,
	spec: &AdapterSpec,
) -> std::result::Result<(), AdapterError> {
	let weights = random_lora(config, spec)?;
	let meta = PeftMetadata {
		rank: spec.rank,
		alpha: spec.alpha,
		use_rslora: spec.use_rslora,
		base_model_name_or_path: spec.base_model.clone(),
	};
	save_peft_adapter(dir, &weights, &meta)
}

/// Greedy generation of `n` tokens for one sequence, alone, with the
/// logits of the first.
pub fn greedy_alone(
	model: &Llama,
	lora: Option<&LoraWeights>,
	prompt: &[u32],
	n: usize,
) -> Result<(Vec<u32>, Vec<f32>)> {
	let mut cache = model.new_cache(prompt.len() + n);
	let mut feed = prompt.to_vec();
	let (mut tokens, mut first) = (Vec::new(), Vec::new());
	for _ in 0..n {
		let mut rows = [BatchRow {
			tokens: &feed,
			cache: &mut cache,
			lora,
		}];
		let logits = model.forward(&mut rows)?.squeeze(0)?.to_vec1::<f32>()?;
		let next = argmax(&logits);
		if first.is_empty() {
			first = logits;
		}
		tokens.push(next);
		feed = vec![next];
	}
	Ok((tokens, first))
}
