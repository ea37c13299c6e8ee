//! The shape of a Llama-family decoder, read from a Hugging Face
//! `config.json` or from GGUF metadata.

use std::collections::HashMap;

use candle_core::quantized::gguf_file;
use serde::{Deserialize, Serialize};

use super::{EngineError, Result};

/// The decoder families this engine runs. They share one forward pass and
/// differ only in details the config carries (biases, tying, rope base).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
	/// Llama 2/3, SmolLM, Mistral without sliding windows.
	Llama,
	/// Qwen2 / Qwen2.5: Llama with biases on q, k and v.
	Qwen2,
}

impl Architecture {
	fn from_name(name: &str) -> Result<Self> {
		match name.to_ascii_lowercase().as_str() {
			"llama" | "mistral" | "smollm" | "smollm2" => Ok(Self::Llama),
			"qwen2" => Ok(Self::Qwen2),
			other => Err(EngineError::Unsupported(format!("architecture `{other}`"))),
		}
	}
}

/// Hyper-parameters of the decoder.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
	pub architecture: Architecture,
	pub vocab_size: usize,
	pub hidden_size: usize,
	pub intermediate_size: usize,
	pub num_hidden_layers: usize,
	pub num_attention_heads: usize,
	pub num_key_value_heads: usize,
	pub head_dim: usize,
	pub rms_norm_eps: f64,
	pub rope_theta: f64,
	pub max_position_embeddings: usize,
	pub tie_word_embeddings: bool,
	/// Whether q, k and v carry a bias (Qwen2).
	pub attention_bias: bool,
	pub bos_token_id: Option<u32>,
	pub eos_token_ids: Vec<u32>,
}

impl ModelConfig {
	/// Width of the query projection's output.
	pub fn q_dim(&self) -> usize {
		self.num_attention_heads * self.head_dim
	}

	/// Width of the key and value projections' outputs.
	pub fn kv_dim(&self) -> usize {
		self.num_key_value_heads * self.head_dim
	}

	/// Checks the relations between sizes that the forward pass relies on.
	pub fn validate(&self) -> Result<()> {
		let bad = |m: String| Err(EngineError::Config(m));
		if self.num_hidden_layers == 0 || self.hidden_size == 0 || self.vocab_size == 0 {
			return bad("layers, hidden size and vocabulary must be non-zero".into());
		}
		if self.num_attention_heads == 0 || self.num_key_value_heads == 0 {
			return bad("head counts must be non-zero".into());
		}
		if !self
			.num_attention_heads
			.is_multiple_of(self.num_key_value_heads)
		{
			return bad(format!(
				"{} attention heads cannot share {} key/value heads",
				self.num_attention_heads, self.num_key_value_heads
			));
		}
		if !self.head_dim.is_multiple_of(2) {
			return bad(format!(
				"head dimension {} must be even for rotary embeddings",
				self.head_dim
			));
		}
		Ok(())
	}

	/// Reads a Hugging Face `config.json`.
	pub fn from_hf_json(json: &str) -> Result<Self> {
		let hf: HfConfig = serde_json::from_str(json)
			.map_err(|e| EngineError::Config(format!("config.json: {e}")))?;
		hf.into_config()
	}

	/// Reads the `<arch>.*` keys of a GGUF file.
	pub fn from_gguf(content: &gguf_file::Content) -> Result<Self> {
		let meta = GgufMeta(&content.metadata);
		let arch_name = meta.string("general.architecture")?;
		let architecture = Architecture::from_name(&arch_name)?;
		let key = |k: &str| format!("{arch_name}.{k}");
		let hidden_size = meta.usize(&key("embedding_length"))?;
		let num_attention_heads = meta.usize(&key("attention.head_count"))?;
		let num_key_value_heads = meta
			.usize(&key("attention.head_count_kv"))
			.unwrap_or(num_attention_heads);
		let head_dim = meta
			.usize(&key("attention.key_length"))
			.unwrap_or(hidden_size / num_attention_heads.max(1));
		let vocab_size = match meta.usize(&key("vocab_size")) {
			Ok(v) => v,
			Err(_) => meta.array_len("tokenizer.ggml.tokens")?,
		};
		let config = Self {
			architecture,
			vocab_size,
			hidden_size,
			intermediate_size: meta.usize(&key("feed_forward_length"))?,
			num_hidden_layers: meta.usize(&key("block_count"))?,
			num_attention_heads,
			num_key_value_heads,
			head_dim,
			rms_norm_eps: meta
				.f64(&key("attention.layer_norm_rms_epsilon"))
				.unwrap_or(1e-5),
			rope_theta: meta.f64(&key("rope.freq_base")).unwrap_or(10_000.0),
			max_position_embeddings: meta.usize(&key("context_length")).unwrap_or(4096),
			tie_word_embeddings: !content.tensor_infos.contains_key("output.weight"),
			attention_bias: content.tensor_infos.contains_key("blk.0.attn_q.bias"),
			bos_token_id: meta
				.usize("tokenizer.ggml.bos_token_id")
				.ok()
				.map(|v| v as u32),
			eos_token_ids: meta
				.usize("tokenizer.ggml.eos_token_id")
				.ok()
				.map(|v| vec![v as u32])
				.unwrap_or_default(),
		};
		config.validate()?;
		Ok(config)
	}
}

/// The fields of a Hugging Face `config.json` the engine reads.
#[derive(Deserialize)]
struct HfConfig {
	model_type: Option<String>,
	#[serde(default)]
	architectures: Vec<String>,
	vocab_size: usize,
	hidden_size: usize,
	intermediate_size: usize,
	num_hidden_layers: usize,
	num_attention_heads: usize,
	num_key_value_heads: Option<usize>,
	head_dim: Option<usize>,
	#[serde(default = "default_rms_eps")]
	rms_norm_eps: f64,
	#[serde(default = "default_rope_theta")]
	rope_theta: f64,
	#[serde(default = "default_max_positions")]
	max_position_embeddings: usize,
	#[serde(default)]
	tie_word_embeddings: bool,
	attention_bias: Option<bool>,
	rope_scaling: Option<serde_json::Value>,
	bos_token_id: Option<u32>,
	eos_token_id: Option<OneOrMany>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
	One(u32),
	Many(Vec<u32>),
}

fn default_rms_eps() -> f64 {
	1e-6
}
fn default_rope_theta() -> f64 {
	10_000.0
}
fn default_max_positions() -> usize {
	4096
}

impl HfConfig {
	fn into_config(self) -> Result<ModelConfig> {
		let name = match (&self.model_type, self.architectures.first()) {
			(Some(t), _) => t.clone(),
			(None, Some(a)) => a.trim_end_matches("ForCausalLM").to_string(),
			(None, None) => "llama".to_string(),
		};
		let architecture = Architecture::from_name(&name)?;
		if let Some(scaling) = self.rope_scaling.as_ref().filter(|v| !v.is_null()) {
			let kind = scaling.get("rope_type").or_else(|| scaling.get("type"));
			if kind.and_then(|k| k.as_str()) != Some("default") {
				return Err(EngineError::Unsupported(format!("rope_scaling {scaling}")));
			}
		}
		let head_dim = self
			.head_dim
			.unwrap_or(self.hidden_size / self.num_attention_heads.max(1));
		let config = ModelConfig {
			architecture,
			vocab_size: self.vocab_size,
			hidden_size: self.hidden_size,
			intermediate_size: self.intermediate_size,
			num_hidden_layers: self.num_hidden_layers,
			num_attention_heads: self.num_attention_heads,
			num_key_value_heads: self.num_key_value_heads.unwrap_or(self.num_attention_heads),
			head_dim,
			rms_norm_eps: self.rms_norm_eps,
			rope_theta: self.rope_theta,
			max_position_embeddings: self.max_position_embeddings,
			tie_word_embeddings: self.tie_word_embeddings,
			attention_bias: self
				.attention_bias
				.unwrap_or(architecture == Architecture::Qwen2),
			bos_token_id: self.bos_token_id,
			eos_token_ids: match self.eos_token_id {
				Some(OneOrMany::One(id)) => vec![id],
				Some(OneOrMany::Many(ids)) => ids,
				None => Vec::new(),
			},
		};
		config.validate()?;
		Ok(config)
	}
}

/// Typed reads of GGUF metadata with errors that name the key.
pub(crate) struct GgufMeta<'a>(pub &'a HashMap<String, gguf_file::Value>);

impl GgufMeta<'_> {
	fn get(&self, key: &str) -> Result<&gguf_file::Value> {
		self.0
			.get(key)
			.ok_or_else(|| EngineError::Config(format!("GGUF metadata lacks `{key}`")))
	}

	pub(crate) fn usize(&self, key: &str) -> Result<usize> {
		use gguf_file::Value as V;
		let v = self.get(key)?;
		let n = match v {
			V::U8(n) => u64::from(*n),
			V::U16(n) => u64::from(*n),
			V::U32(n) => u64::from(*n),
			V::U64(n) => *n,
			V::I8(n) => u64::try_from(*n).unwrap_or(0),
			V::I16(n) => u64::try_from(*n).unwrap_or(0),
			V::I32(n) => u64::try_from(*n).unwrap_or(0),
			V::I64(n) => u64::try_from(*n).unwrap_or(0),
			other => {
				return Err(EngineError::Config(format!(
					"`{key}` is {other:?}, not an integer"
				)))
			},
		};
		usize::try_from(n).map_err(|_| EngineError::Config(format!("`{key}` = {n} is too large")))
	}

	pub(crate) fn f64(&self, key: &str) -> Result<f64> {
		use gguf_file::Value as V;
		match self.get(key)? {
			V::F32(x) => Ok(f64::from(*x)),
			V::F64(x) => Ok(*x),
			other => Err(EngineError::Config(format!(
				"`{key}` is {other:?}, not a float"
			))),
		}
	}

	pub(crate) fn string(&self, key: &str) -> Result<String> {
		match self.get(key)? {
			gguf_file::Value::String(s) => Ok(s.clone()),
			other => Err(EngineError::Config(format!(
				"`{key}` is {other:?}, not a string"
			))),
		}
	}

	pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>> {
		match self.get(key)? {
			gguf_file::Value::Array(items) => items
				.iter()
				.map(|v| match v {
					gguf_file::Value::String(s) => Ok(s.clone()),
					other => Err(EngineError::Config(format!("`{key}` holds {other:?}"))),
				})
				.collect(),
			other => Err(EngineError::Config(format!(
				"`{key}` is {other:?}, not an array"
			))),
		}
	}

	pub(crate) fn integers(&self, key: &str) -> Result<Vec<i64>> {
		use gguf_file::Value as V;
		match self.get(key)? {
			V::Array(items) => items
				.iter()
				.map(|v| match v {
					V::I32(n) => Ok(i64::from(*n)),
					V::U32(n) => Ok(i64::from(*n)),
					V::I8(n) => Ok(i64::from(*n)),
					V::U8(n) => Ok(i64::from(*n)),
					V::I64(n) => Ok(*n),
					other => Err(EngineError::Config(format!("`{key}` holds {other:?}"))),
				})
				.collect(),
			other => Err(EngineError::Config(format!(
				"`{key}` is {other:?}, not an array"
			))),
		}
	}

	fn array_len(&self, key: &str) -> Result<usize> {
		match self.get(key)? {
			gguf_file::Value::Array(items) => Ok(items.len()),
			other => Err(EngineError::Config(format!(
				"`{key}` is {other:?}, not an array"
			))),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reads_smollm2_style_config() {
		let json = r#"{"architectures":["LlamaForCausalLM"],"model_type":"llama","vocab_size":49152,
			"hidden_size":576,"intermediate_size":1536,"num_hidden_layers":30,"num_attention_heads":9,
			"num_key_value_heads":3,"rms_norm_eps":1e-5,"rope_theta":100000,"tie_word_embeddings":true,
			"max_position_embeddings":8192,"bos_token_id":1,"eos_token_id":2,"rope_scaling":null}"#;
		let config = ModelConfig::from_hf_json(json).unwrap();
		assert_eq!(config.architecture, Architecture::Llama);
		assert_eq!(config.head_dim, 64);
		assert_eq!(config.kv_dim(), 192);
		assert!(config.tie_word_embeddings);
		assert!(!config.attention_bias);
		assert_eq!(config.eos_token_ids, vec![2]);
	}

	#[test]
	fn qwen2_has_qkv_bias_and_rejects_bad_heads() {
		let json = r#"{"model_type":"qwen2","vocab_size":10,"hidden_size":8,"intermediate_size":16,
			"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1}"#;
		assert!(ModelConfig::from_hf_json(json).unwrap().attention_bias);
		let bad = json.replace("\"num_key_value_heads\":1", "\"num_key_value_heads\":3");
		assert!(matches!(
			ModelConfig::from_hf_json(&bad),
			Err(EngineError::Config(_))
		));
	}
}
