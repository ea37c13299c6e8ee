//! PEFT adapters: loading, every kind of bad adapter, the LRU registry.

use std::path::Path;

use openledger_inference_worker::adapters::{
	load_peft_adapter, AdapterError, AdapterLimits, AdapterRegistry, ADAPTER_CONFIG_FILE,
	ADAPTER_WEIGHTS_FILE,
};
use openledger_inference_worker::engine::{Architecture, LoraStorage, LoraTarget};
use openledger_inference_worker::fixtures::{self, AdapterSpec};

use crate::common::*;

const PROMPT: &[u32] = &[20, 21, 22, 23];

fn write(t: &Tiny, name: &str, spec: &AdapterSpec) -> std::path::PathBuf {
	let dir = t.dir.path().join(name);
	fixtures::write_peft_adapter(&dir, t.config(), spec).unwrap();
	dir
}

fn edit_config(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
	let path = dir.join(ADAPTER_CONFIG_FILE);
	let mut config: serde_json::Value =
		serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
	edit(&mut config);
	std::fs::write(path, config.to_string()).unwrap();
}

fn rewrite_tensors(
	dir: &Path,
	edit: impl FnOnce(&mut std::collections::HashMap<String, candle_core::Tensor>),
) {
	let path = dir.join(ADAPTER_WEIGHTS_FILE);
	let mut tensors = candle_core::safetensors::load(&path, &candle_core::Device::Cpu).unwrap();
	edit(&mut tensors);
	candle_core::safetensors::save(&tensors, &path).unwrap();
}

#[test]
fn loaded_adapter_computes_what_was_saved() {
	let t = tiny(Architecture::Llama);
	for rslora in [false, true] {
		let spec = AdapterSpec {
			use_rslora: rslora,
			..AdapterSpec::new(8, 7, BASE_ID)
		};
		let dir = write(&t, &format!("rs-{rslora}"), &spec);
		let loaded = load_peft_adapter("a", &dir, &t.base_info(), &limits()).unwrap();
		assert_eq!(loaded.max_rank, 8);
		assert_eq!(loaded.targets, LoraTarget::ALL.to_vec());
		let expected_scale = if rslora { 16.0 / 8f64.sqrt() } else { 2.0 };
		assert_eq!(
			loaded.weights.get(0, LoraTarget::Q).unwrap().scale(),
			expected_scale
		);
		let in_memory = fixtures::random_lora(t.config(), &spec).unwrap();
		let diff = max_diff(
			&prefill_logits(&t.model, Some(&loaded.weights), PROMPT),
			&prefill_logits(&t.model, Some(&in_memory), PROMPT),
		);
		assert!(diff < 1e-6);
		assert_eq!(loaded.bytes, in_memory.size_in_bytes());
	}
}

#[test]
fn base_name_may_be_a_hub_id_or_file_name() {
	let t = tiny(Architecture::Llama);
	for name in [
		"someorg/tiny-test-model",
		"TINY-TEST-MODEL",
		"/models/tiny-test-model.Q4_1.gguf",
		"",
	] {
		let dir = write(&t, "named", &AdapterSpec::new(4, 1, name));
		assert!(
			load_peft_adapter("a", &dir, &t.base_info(), &limits()).is_ok(),
			"{name}"
		);
	}
}

#[test]
fn every_bad_adapter_is_refused_with_a_reason() {
	let t = tiny(Architecture::Llama);
	let base = t.base_info();
	let good = AdapterSpec::new(8, 1, BASE_ID);
	let load = |dir: &Path| load_peft_adapter("bad", dir, &base, &limits()).unwrap_err();

	let dir = write(
		&t,
		"wrong-base",
		&AdapterSpec::new(8, 1, "meta-llama/Llama-3.1-8B"),
	);
	let err = load(&dir);
	assert!(
		matches!(&err, AdapterError::WrongBase { found, .. } if found == "meta-llama/Llama-3.1-8B"),
		"{err}"
	);
	assert!(err.to_string().contains("Llama-3.1-8B"));

	// An adapter for a model with another hidden size.
	let mut other = fixtures::tiny_config(Architecture::Llama);
	other.hidden_size = 32;
	let dir = t.dir.path().join("wrong-hidden");
	fixtures::write_peft_adapter(&dir, &other, &good).unwrap();
	let err = load(&dir);
	assert!(
		matches!(&err, AdapterError::ShapeMismatch { expected, found, .. } if expected[1] == 64 && found[1] == 32),
		"{err}"
	);

	let dir = write(&t, "too-big", &AdapterSpec::new(64, 1, BASE_ID));
	let err = load(&dir);
	assert!(
		matches!(
			err,
			AdapterError::RankTooLarge {
				rank: 64,
				limit: 32,
				..
			}
		),
		"{err}"
	);

	let dir = write(&t, "rank-pattern", &good);
	edit_config(&dir, |c| {
		c["rank_pattern"] = serde_json::json!({ "q_proj": 4 })
	});
	let err = load(&dir);
	assert!(
		matches!(&err, AdapterError::ShapeMismatch { tensor, .. } if tensor.contains("q_proj.lora_A")),
		"{err}"
	);

	let dir = write(&t, "truncated", &good);
	let weights = dir.join(ADAPTER_WEIGHTS_FILE);
	let bytes = std::fs::read(&weights).unwrap();
	std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
	assert!(matches!(load(&dir), AdapterError::CorruptWeights(_)));

	let dir = write(&t, "garbage", &good);
	std::fs::write(
		dir.join(ADAPTER_WEIGHTS_FILE),
		b"this is not a safetensors file",
	)
	.unwrap();
	assert!(matches!(load(&dir), AdapterError::CorruptWeights(_)));

	let dir = write(&t, "bad-json", &good);
	std::fs::write(dir.join(ADAPTER_CONFIG_FILE), b"{\"r\": 8, ").unwrap();
	assert!(matches!(load(&dir), AdapterError::InvalidConfig(_)));

	let dir = write(&t, "no-alpha", &good);
	edit_config(&dir, |c| {
		c.as_object_mut().unwrap().remove("lora_alpha");
	});
	let err = load(&dir);
	assert!(
		matches!(&err, AdapterError::InvalidConfig(m) if m.contains("lora_alpha")),
		"{err}"
	);

	let err = load(&t.dir.path().join("does-not-exist"));
	assert!(
		matches!(&err, AdapterError::Io { path, .. } if path.ends_with(ADAPTER_CONFIG_FILE)),
		"{err}"
	);

	let dir = write(&t, "no-weights", &good);
	std::fs::remove_file(dir.join(ADAPTER_WEIGHTS_FILE)).unwrap();
	assert!(matches!(load(&dir), AdapterError::Io { .. }));

	let dir = write(&t, "half-pair", &good);
	rewrite_tensors(&dir, |t| {
		t.remove("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight");
	});
	let err = load(&dir);
	assert!(
		matches!(&err, AdapterError::MissingTensor(k) if k.contains("layers.1.mlp.up_proj.lora_B")),
		"{err}"
	);

	let dir = write(&t, "extra-layer", &good);
	rewrite_tensors(&dir, |t| {
		let a = t["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].clone();
		t.insert(
			"base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight".into(),
			a,
		);
	});
	assert!(matches!(load(&dir), AdapterError::UnexpectedTensor(k) if k.contains("layers.7")));

	let dir = write(&t, "nan", &good);
	rewrite_tensors(&dir, |t| {
		let key = "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight";
		let nan = (t[key].clone() * f64::NAN).unwrap();
		t.insert(key.into(), nan);
	});
	assert!(matches!(load(&dir), AdapterError::CorruptWeights(m) if m.contains("v_proj")));

	let dir = write(&t, "dora", &good);
	edit_config(&dir, |c| c["use_dora"] = serde_json::json!(true));
	assert!(matches!(load(&dir), AdapterError::Unsupported(m) if m.contains("DoRA")));

	let dir = write(&t, "lm-head", &good);
	edit_config(&dir, |c| {
		c["target_modules"] = serde_json::json!(["q_proj", "lm_head"])
	});
	assert!(matches!(load(&dir), AdapterError::Unsupported(m) if m.contains("lm_head")));
}

#[test]
fn registry_keeps_adapters_within_budget_and_reloads_them() {
	let t = tiny(Architecture::Llama);
	let spec = |seed| AdapterSpec::new(8, seed, BASE_ID);
	let one = fixtures::random_lora(t.config(), &spec(1))
		.unwrap()
		.size_in_bytes();
	// Room for two adapters, not three.
	let registry = AdapterRegistry::new(
		t.base_info(),
		AdapterLimits {
			cache_bytes: one * 2 + one / 2,
			..limits()
		},
	);
	for i in 0..3u64 {
		let dir = write(&t, &format!("lru-{i}"), &spec(i));
		registry.register_lazy(&format!("a{i}"), &dir).unwrap();
	}
	assert_eq!(
		registry.stats().resident,
		0,
		"registration alone loads nothing"
	);

	let a0 = registry.acquire("a0").unwrap();
	registry.acquire("a1").unwrap();
	registry.acquire("a0").unwrap(); // a0 is now more recent than a1
	registry.acquire("a2").unwrap(); // evicts a1
	let stats = registry.stats();
	assert_eq!(
		(stats.resident, stats.loads, stats.hits, stats.evictions),
		(2, 3, 1, 1)
	);
	assert!(stats.resident_bytes <= stats.budget_bytes);
	let resident: Vec<_> = registry
		.list()
		.into_iter()
		.filter(|a| a.resident)
		.map(|a| a.name)
		.collect();
	assert_eq!(resident, vec!["a0", "a2"]);

	// a1 comes back from disk on demand and computes as before.
	let a1 = registry.acquire("a1").unwrap();
	assert_eq!(registry.stats().loads, 4);
	let expected = fixtures::random_lora(t.config(), &spec(1)).unwrap();
	assert!(
		max_diff(
			&prefill_logits(&t.model, Some(&a1.weights), PROMPT),
			&prefill_logits(&t.model, Some(&expected), PROMPT)
		) < 1e-6
	);

	// Unloading forgets the name; requests holding the adapter keep it.
	registry.unload("a0").unwrap();
	assert!(matches!(
		registry.acquire("a0"),
		Err(AdapterError::NotFound(_))
	));
	assert!(matches!(
		registry.unload("a0"),
		Err(AdapterError::NotFound(_))
	));
	assert_eq!(a0.weights.num_layers(), 2);

	// Names are unique unless replaced in place (hot reload).
	let dir = write(&t, "replacement", &spec(9));
	assert!(matches!(
		registry.load("a2", &dir, false),
		Err(AdapterError::AlreadyLoaded(_))
	));
	let replaced = registry.load("a2", &dir, true).unwrap();
	assert_eq!(replaced.path, dir);
	assert!(matches!(
		registry.load(BASE_ID, &dir, false),
		Err(AdapterError::InvalidName { .. })
	));

	// One adapter larger than the whole budget is refused.
	let small = AdapterRegistry::new(
		t.base_info(),
		AdapterLimits {
			cache_bytes: one / 2,
			..limits()
		},
	);
	assert!(matches!(
		small.load("big", &dir, false),
		Err(AdapterError::TooLarge { .. })
	));
}

#[test]
fn discover_registers_adapter_directories() {
	let t = tiny(Architecture::Llama);
	let root = t.dir.path().join("adapters");
	for name in ["legal", "medical"] {
		fixtures::write_peft_adapter(
			&root.join(name),
			t.config(),
			&AdapterSpec::new(4, 1, BASE_ID),
		)
		.unwrap();
	}
	std::fs::create_dir_all(root.join("not-an-adapter")).unwrap();
	let registry = AdapterRegistry::new(t.base_info(), limits());
	assert_eq!(registry.discover(&root).unwrap(), 2);
	assert!(registry.is_registered("legal") && registry.is_registered("medical"));
	assert!(!registry.is_registered("not-an-adapter"));
}

#[test]
fn compact_adapter_storage_takes_less_memory_and_computes_nearly_the_same() {
	let t = tiny(Architecture::Qwen2);
	let dir = write(&t, "compact", &AdapterSpec::new(8, 3, BASE_ID));
	let f32_adapter = load_peft_adapter("a", &dir, &t.base_info(), &limits()).unwrap();
	let exact = prefill_logits(&t.model, Some(&f32_adapter.weights), PROMPT);
	let base = prefill_logits(&t.model, None, PROMPT);
	let weights_f32 = f32_adapter.bytes / 4;
	let rows: usize = f32_adapter
		.weights
		.pairs()
		.map(|(_, _, pair)| 2 * pair.rank())
		.sum();
	for (storage, bytes) in [
		(LoraStorage::Bf16, weights_f32 * 2),
		// One byte per weight and an f32 scale per row of A and of Bᵀ.
		(LoraStorage::Int8, weights_f32 + 4 * rows),
	] {
		let compact_limits = AdapterLimits {
			storage,
			..limits()
		};
		let compact = load_peft_adapter("a", &dir, &t.base_info(), &compact_limits).unwrap();
		assert_eq!(compact.bytes, bytes, "{storage:?}");
		assert!(compact
			.weights
			.pairs()
			.all(|(_, _, p)| p.storage() == storage));
		let rounded = prefill_logits(&t.model, Some(&compact.weights), PROMPT);
		let rounding = max_diff(&exact, &rounded);
		let effect = max_diff(&exact, &base);
		eprintln!("{storage:?}: logits moved by {rounding}, the adapter's effect {effect}");
		assert!(
			rounding < 0.05 * effect,
			"{storage:?} storage moved logits by {rounding} (adapter's effect {effect})"
		);
		// The batched kernel and the tensor path agree on the stored values.
		let merged = t.model.merge_lora(&compact.weights).unwrap();
		assert!(max_diff(&rounded, &prefill_logits(&merged, None, PROMPT)) < 1e-4);
	}
}
