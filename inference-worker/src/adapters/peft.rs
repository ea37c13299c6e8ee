//! Reading a PEFT LoRA adapter directory:
//! - `adapter_config.json`: `r`, `lora_alpha`, `target_modules`,
//!   `use_rslora`, `base_model_name_or_path`, `rank_pattern`, `alpha_pattern`;
//! - `adapter_model.safetensors`: `base_model.model.<module>.lora_A.weight`
//!   `[r, in]` and `….lora_B.weight` `[out, r]` per adapted module.
//!
//! Every weight is checked against the base model before the adapter is
//! accepted, so that a bad adapter fails at load time with an error naming
//! the problem rather than at inference time.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use candle_core::{DType, Tensor};
use safetensors::SafeTensors;
use serde::Deserialize;

use super::{AdapterError, AdapterLimits, BaseModelInfo};
use crate::engine::llama::{target_in_width, target_width};
use crate::engine::{LoraPair, LoraTarget, LoraWeights};

pub const ADAPTER_CONFIG_FILE: &str = "adapter_config.json";
pub const ADAPTER_WEIGHTS_FILE: &str = "adapter_model.safetensors";

/// The fields of PEFT's `adapter_config.json` that matter for serving.
#[derive(Clone, Debug, Deserialize)]
pub struct PeftConfig {
	#[serde(default)]
	pub peft_type: Option<String>,
	pub r: usize,
	pub lora_alpha: f64,
	#[serde(default)]
	pub target_modules: Option<TargetModules>,
	#[serde(default)]
	pub use_rslora: bool,
	#[serde(default)]
	pub use_dora: bool,
	#[serde(default)]
	pub fan_in_fan_out: bool,
	#[serde(default)]
	pub bias: Option<String>,
	#[serde(default)]
	pub modules_to_save: Option<Vec<String>>,
	#[serde(default)]
	pub base_model_name_or_path: Option<String>,
	/// Per-module ranks overriding `r`, keyed by module name or path suffix.
	#[serde(default)]
	pub rank_pattern: HashMap<String, usize>,
	/// Per-module alphas overriding `lora_alpha`, keyed the same way.
	#[serde(default)]
	pub alpha_pattern: HashMap<String, f64>,
}

/// PEFT accepts a list of module names or a single string.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum TargetModules {
	List(Vec<String>),
	One(String),
}

impl PeftConfig {
	/// Rank and scale of the module at `path` (`model.layers.3.mlp.up_proj`).
	fn rank_and_scale(&self, path: &str) -> (usize, f64) {
		let rank = pattern_value(&self.rank_pattern, path).unwrap_or(self.r);
		let alpha = pattern_value(&self.alpha_pattern, path).unwrap_or(self.lora_alpha);
		let scale = if self.use_rslora {
			alpha / (rank as f64).sqrt()
		} else {
			alpha / rank as f64
		};
		(rank, scale)
	}

	fn check_supported(&self) -> Result<(), AdapterError> {
		let unsupported = |what: String| Err(AdapterError::Unsupported(what));
		if let Some(kind) = &self.peft_type {
			if !kind.eq_ignore_ascii_case("lora") {
				return unsupported(format!("peft_type `{kind}` (only LORA)"));
			}
		}
		if self.use_dora {
			return unsupported("DoRA (use_dora)".into());
		}
		if self.fan_in_fan_out {
			return unsupported("fan_in_fan_out weights".into());
		}
		if self.bias.as_deref().is_some_and(|b| b != "none") {
			return unsupported("trained biases (bias != \"none\")".into());
		}
		if self.modules_to_save.as_ref().is_some_and(|m| !m.is_empty()) {
			return unsupported("fully trained modules (modules_to_save)".into());
		}
		if self.r == 0 {
			return Err(AdapterError::InvalidConfig("r must be positive".into()));
		}
		if !self.lora_alpha.is_finite() {
			return Err(AdapterError::InvalidConfig(
				"lora_alpha must be a finite number".into(),
			));
		}
		match &self.target_modules {
			Some(TargetModules::List(names)) => {
				for name in names {
					let module = name.rsplit('.').next().unwrap_or(name);
					if LoraTarget::from_module_name(module).is_none() {
						return unsupported(format!(
							"target module `{name}` (only q/k/v/o/gate/up/down_proj)"
						));
					}
				}
			},
			Some(TargetModules::One(s))
				if s != "all-linear" && LoraTarget::from_module_name(s).is_none() =>
			{
				return unsupported(format!(
					"target_modules pattern `{s}`; list the modules instead"
				));
			},
			_ => {},
		}
		Ok(())
	}
}

/// PEFT's rule: a key applies to a module whose path is the key or ends
/// with `.key`.
fn pattern_value<T: Copy>(patterns: &HashMap<String, T>, path: &str) -> Option<T> {
	patterns
		.iter()
		.filter(|(key, _)| path == key.as_str() || path.ends_with(&format!(".{key}")))
		.max_by_key(|(key, _)| key.len())
		.map(|(_, v)| *v)
}

/// An adapter validated against the base and placed on its device.
#[derive(Debug)]
pub struct LoadedAdapter {
	pub name: String,
	pub path: PathBuf,
	pub config: PeftConfig,
	pub weights: LoraWeights,
	/// Largest rank over its modules.
	pub max_rank: usize,
	pub targets: Vec<LoraTarget>,
	/// Bytes its weights occupy once loaded.
	pub bytes: usize,
	/// Time it took to read and validate (cold load).
	pub load_time: Duration,
}

/// Reads and validates the adapter in `dir`.
pub fn load_peft_adapter(
	name: &str,
	dir: &Path,
	base: &BaseModelInfo,
	limits: &AdapterLimits,
) -> Result<LoadedAdapter, AdapterError> {
	let started = Instant::now();
	let config_path = dir.join(ADAPTER_CONFIG_FILE);
	let json = std::fs::read_to_string(&config_path).map_err(|source| AdapterError::Io {
		path: config_path,
		source,
	})?;
	let config: PeftConfig =
		serde_json::from_str(&json).map_err(|e| AdapterError::InvalidConfig(e.to_string()))?;
	config.check_supported()?;
	if let Some(found) = &config.base_model_name_or_path {
		if !found.is_empty() && !base.accepts(found) {
			return Err(AdapterError::WrongBase {
				expected: base.id.clone(),
				found: found.clone(),
			});
		}
	}

	let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
	let bytes = std::fs::read(&weights_path).map_err(|source| AdapterError::Io {
		path: weights_path,
		source,
	})?;
	let file = SafeTensors::deserialize(&bytes)
		.map_err(|e| AdapterError::CorruptWeights(e.to_string()))?;

	// Pair up A and B per module.
	let mut modules: BTreeMap<(usize, LoraTarget), (Option<String>, Option<String>)> =
		BTreeMap::new();
	for key in file.names() {
		let (layer, target, is_a) = parse_key(key, base.config.num_hidden_layers)
			.ok_or_else(|| AdapterError::UnexpectedTensor(key.to_string()))?;
		let slot = modules.entry((layer, target)).or_default();
		if is_a {
			slot.0 = Some(key.to_string());
		} else {
			slot.1 = Some(key.to_string());
		}
	}
	if modules.is_empty() {
		return Err(AdapterError::InvalidConfig(
			"adapter_model.safetensors holds no LoRA weights".into(),
		));
	}

	let mut weights = LoraWeights::new(base.config.num_hidden_layers);
	let mut max_rank = 0;
	let mut targets = Vec::new();
	for ((layer, target), (a_key, b_key)) in modules {
		let path = target.module_path(layer);
		let a_key = a_key.ok_or_else(|| {
			AdapterError::MissingTensor(format!("base_model.model.{path}.lora_A.weight"))
		})?;
		let b_key = b_key.ok_or_else(|| {
			AdapterError::MissingTensor(format!("base_model.model.{path}.lora_B.weight"))
		})?;
		let (rank, scale) = config.rank_and_scale(&path);
		if rank > limits.max_rank {
			return Err(AdapterError::RankTooLarge {
				module: path,
				rank,
				limit: limits.max_rank,
			});
		}
		let in_dim = target_in_width(&base.config, target);
		let out_dim = target_width(&base.config, target);
		let a = read_tensor(&file, &a_key, &[rank, in_dim])?;
		let b = read_tensor(&file, &b_key, &[out_dim, rank])?;
		weights.insert(layer, target, LoraPair::from_peft(a, b, scale)?)?;
		max_rank = max_rank.max(rank);
		if !targets.contains(&target) {
			targets.push(target);
		}
	}
	targets.sort();
	// One buffer per adapter, in the order a forward pass reads it.
	let weights = weights.stored_as(limits.storage, &base.device)?;
	let bytes = weights.size_in_bytes();
	Ok(LoadedAdapter {
		name: name.to_string(),
		path: dir.to_path_buf(),
		config,
		weights,
		max_rank,
		targets,
		bytes,
		load_time: started.elapsed(),
	})
}

/// `base_model.model.model.layers.<i>.<block>.<proj>.lora_<A|B>.weight`
/// → (layer, target, is A).
fn parse_key(key: &str, num_layers: usize) -> Option<(usize, LoraTarget, bool)> {
	let rest = key
		.strip_prefix("base_model.model.")?
		.strip_suffix(".weight")?;
	let (module, which) = rest.rsplit_once('.')?;
	let is_a = match which {
		"lora_A" => true,
		"lora_B" => false,
		_ => return None,
	};
	let (prefix, proj) = module.rsplit_once('.')?;
	let target = LoraTarget::from_module_name(proj)?;
	let (layers_part, block) = prefix.rsplit_once('.')?;
	let layer: usize = layers_part.strip_prefix("model.layers.")?.parse().ok()?;
	let expected_block = if matches!(target, LoraTarget::Gate | LoraTarget::Up | LoraTarget::Down) {
		"mlp"
	} else {
		"self_attn"
	};
	(block == expected_block && layer < num_layers).then_some((layer, target, is_a))
}

/// The tensor `key`, checked for shape and finiteness, in f32 on the CPU.
fn read_tensor(
	file: &SafeTensors<'_>,
	key: &str,
	expected: &[usize],
) -> Result<Tensor, AdapterError> {
	let view = file
		.tensor(key)
		.map_err(|e| AdapterError::CorruptWeights(format!("`{key}`: {e}")))?;
	if view.shape() != expected {
		return Err(AdapterError::ShapeMismatch {
			tensor: key.to_string(),
			expected: expected.to_vec(),
			found: view.shape().to_vec(),
		});
	}
	let dtype = match view.dtype() {
		safetensors::Dtype::F32 => DType::F32,
		safetensors::Dtype::F16 => DType::F16,
		safetensors::Dtype::BF16 => DType::BF16,
		other => {
			return Err(AdapterError::Unsupported(format!(
				"`{key}` is stored as {other:?}"
			)))
		},
	};
	let tensor =
		Tensor::from_raw_buffer(view.data(), dtype, view.shape(), &candle_core::Device::Cpu)?
			.to_dtype(DType::F32)?;
	let finite = tensor
		.flatten_all()?
		.to_vec1::<f32>()?
		.iter()
		.all(|v| v.is_finite());
	if !finite {
		return Err(AdapterError::CorruptWeights(format!(
			"`{key}` contains NaN or infinite values"
		)));
	}
	Ok(tensor)
}

/// What [`save_peft_adapter`] writes into `adapter_config.json`.
#[derive(Clone, Debug)]
pub struct PeftMetadata {
	pub rank: usize,
	pub alpha: f64,
	pub use_rslora: bool,
	pub base_model_name_or_path: String,
}

/// Writes `weights` as a PEFT adapter directory (the inverse of
/// [`load_peft_adapter`]), e.g. after training.
pub fn save_peft_adapter(
	dir: &Path,
	weights: &LoraWeights,
	meta: &PeftMetadata,
) -> Result<(), AdapterError> {
	std::fs::create_dir_all(dir).map_err(|source| AdapterError::Io {
		path: dir.into(),
		source,
	})?;
	let mut tensors = HashMap::new();
	let mut targets = Vec::new();
	for (layer, target, pair) in weights.pairs() {
		let prefix = format!("base_model.model.{}", target.module_path(layer));
		tensors.insert(
			format!("{prefix}.lora_A.weight"),
			pair.a()?.to_dtype(DType::F32)?.contiguous()?,
		);
		tensors.insert(
			format!("{prefix}.lora_B.weight"),
			pair.b_t()?.t()?.to_dtype(DType::F32)?.contiguous()?,
		);
		if !targets.contains(&target.module_name()) {
			targets.push(target.module_name());
		}
	}
	let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
	candle_core::safetensors::save(&tensors, &weights_path)?;
	let config = serde_json::json!({
		"peft_type": "LORA",
		"task_type": "CAUSAL_LM",
		"r": meta.rank,
		"lora_alpha": meta.alpha,
		"lora_dropout": 0.0,
		"target_modules": targets,
		"use_rslora": meta.use_rslora,
		"bias": "none",
		"base_model_name_or_path": meta.base_model_name_or_path,
		"rank_pattern": {},
		"alpha_pattern": {},
	});
	let config_path = dir.join(ADAPTER_CONFIG_FILE);
	std::fs::write(
		&config_path,
		serde_json::to_string_pretty(&config).unwrap_or_default(),
	)
	.map_err(|source| AdapterError::Io {
		path: config_path,
		source,
	})?;
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn parses_peft_keys() {
		assert_eq!(
			parse_key(
				"base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight",
				4
			),
			Some((3, LoraTarget::Q, true))
		);
		assert_eq!(
			parse_key(
				"base_model.model.model.layers.0.mlp.down_proj.lora_B.weight",
				4
			),
			Some((0, LoraTarget::Down, false))
		);
		assert_eq!(
			parse_key(
				"base_model.model.model.layers.4.mlp.down_proj.lora_B.weight",
				4
			),
			None
		);
		assert_eq!(
			parse_key(
				"base_model.model.model.layers.0.mlp.q_proj.lora_B.weight",
				4
			),
			None
		);
		assert_eq!(parse_key("base_model.model.lm_head.lora_A.weight", 4), None);
	}

	#[test]
	fn patterns_override_rank_and_alpha() {
		let config: PeftConfig = serde_json::from_str(
			r#"{"r": 8, "lora_alpha": 16, "rank_pattern": {"q_proj": 4, "model.layers.1.self_attn.q_proj": 2},
			    "alpha_pattern": {"v_proj": 4}, "use_rslora": false}"#,
		)
		.unwrap();
		assert_eq!(
			config.rank_and_scale("model.layers.0.self_attn.q_proj"),
			(4, 4.0)
		);
		assert_eq!(
			config.rank_and_scale("model.layers.1.self_attn.q_proj"),
			(2, 8.0)
		);
		assert_eq!(
			config.rank_and_scale("model.layers.0.self_attn.v_proj"),
			(8, 0.5)
		);
		let rs = PeftConfig {
			use_rslora: true,
			..config
		};
		assert_eq!(
			rs.rank_and_scale("model.layers.0.mlp.up_proj"),
			(8, 16.0 / 8f64.sqrt())
		);
	}
}
