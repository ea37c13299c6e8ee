//! The decoder: file formats, caching, LoRA against merged weights.

use candle_core::quantized::GgmlDType;
use candle_core::Tensor;
use openledger_inference_worker::engine::chat::{ChatMessage, ChatTemplate};
use openledger_inference_worker::engine::tokenizer::TextTokenizer;
use openledger_inference_worker::engine::{
	Architecture, BatchRow, Execution, Llama, LoadOptions, LoraTarget, WeightFormat,
};
use openledger_inference_worker::fixtures::{self, AdapterSpec};

use crate::common::*;

const PROMPT: &[u32] = &[5, 80, 120, 33, 7, 260, 99, 150];

#[test]
fn gguf_and_safetensors_load_the_same_model() {
	for arch in [Architecture::Llama, Architecture::Qwen2] {
		let t = tiny(arch);
		let reference = prefill_logits(&t.model, None, PROMPT);

		// F32 GGUF: identical weights, with llama.cpp's q/k row order undone.
		let gguf = tiny_gguf(t.dir.path(), arch, GgmlDType::F32);
		let from_gguf = Llama::load(&gguf, &LoadOptions::with_format(WeightFormat::Dense)).unwrap();
		// GGUF stores eps as f32; everything else must be read back exactly.
		let mut read = from_gguf.config().clone();
		assert!((read.rms_norm_eps - t.config().rms_norm_eps).abs() < 1e-9);
		read.rms_norm_eps = t.config().rms_norm_eps;
		assert_eq!(&read, t.config());
		let diff = max_diff(&reference, &prefill_logits(&from_gguf, None, PROMPT));
		assert!(diff < 1e-4, "{arch:?}: f32 GGUF differs by {diff}");

		// Quantized GGUF: close to the dense weights.
		for dtype in [GgmlDType::Q8_0, GgmlDType::Q4_1] {
			let path = tiny_gguf(t.dir.path(), arch, dtype);
			for format in [
				WeightFormat::Int8,
				WeightFormat::Dense,
				WeightFormat::Quantized,
				WeightFormat::AsStored,
			] {
				let options = LoadOptions::with_format(format);
				let model = Llama::load(&path, &options).unwrap();
				let logits = prefill_logits(&model, None, PROMPT);
				let diff = max_diff(&reference, &logits);
				let spread = reference
					.abs()
					.unwrap()
					.max(0)
					.unwrap()
					.to_scalar::<f32>()
					.unwrap();
				let tolerance = if dtype == GgmlDType::Q8_0 { 0.05 } else { 0.3 } * spread.max(1.0);
				assert!(
					diff < tolerance,
					"{arch:?} {dtype:?} ({format:?}): differs by {diff}"
				);
			}
		}
	}
}

#[test]
fn gguf_tokenizer_matches_tokenizer_json() {
	let t = tiny(Architecture::Llama);
	let gguf = tiny_gguf(t.dir.path(), Architecture::Llama, GgmlDType::F32);
	let from_gguf = TextTokenizer::for_model(&gguf, None, t.config()).unwrap();
	let text = "<|im_start|>user\nthe answer is 42, then rest<|im_end|>\n";
	let ids = t.tokenizer.encode(text, false).unwrap();
	assert_eq!(ids, from_gguf.encode(text, false).unwrap());
	// Special tokens are single ids; merges apply.
	assert_eq!(ids[0], 1);
	assert!(ids.contains(&2));
	assert!(ids.len() < text.len());
	assert_eq!(
		t.tokenizer.decode(&ids).unwrap(),
		"user\nthe answer is 42, then rest\n"
	);
	assert!(t.tokenizer.is_eos(2));
	let template = ChatTemplate::for_tokenizer(&from_gguf).unwrap();
	let prompt = template
		.render(&[ChatMessage::new("user", "hi")], true)
		.unwrap();
	assert_eq!(
		prompt,
		"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
	);
}

#[test]
fn cached_decoding_matches_a_full_forward_pass() {
	let t = tiny(Architecture::Qwen2);
	let lora = fixtures::random_lora(t.config(), &AdapterSpec::new(4, 1, BASE_ID)).unwrap();
	for lora in [None, Some(&lora)] {
		let full = prefill_logits(&t.model, lora, PROMPT);
		// Prompt in two chunks, then the rest one token at a time.
		let mut cache = t.model.new_cache(PROMPT.len());
		let mut last = None;
		for chunk in [
			&PROMPT[..3],
			&PROMPT[3..5],
			&PROMPT[5..6],
			&PROMPT[6..7],
			&PROMPT[7..],
		] {
			let mut rows = [BatchRow {
				tokens: chunk,
				cache: &mut cache,
				lora,
			}];
			last = Some(t.model.forward(&mut rows).unwrap().squeeze(0).unwrap());
		}
		assert_eq!(cache.len(), PROMPT.len());
		assert!(max_diff(&full, &last.unwrap()) < 1e-4);

		// The training forward pass gives the same logits at every position,
		// with fused kernels and with the differentiable ops.
		let tokens = Tensor::new(PROMPT, t.model.device())
			.unwrap()
			.unsqueeze(0)
			.unwrap();
		let fused = t
			.model
			.forward_train(&tokens, lora, Execution::Inference)
			.unwrap();
		let plain = t
			.model
			.forward_train(&tokens, lora, Execution::Differentiable)
			.unwrap();
		assert!(max_diff(&fused, &plain) < 1e-4);
		let at_end = fused.squeeze(0).unwrap().get(PROMPT.len() - 1).unwrap();
		assert!(max_diff(&at_end, &full) < 1e-4);
	}
}

#[test]
fn lora_output_equals_merged_weights_output() {
	for arch in [Architecture::Llama, Architecture::Qwen2] {
		let t = tiny(arch);
		for (rank, rslora) in [(4, false), (16, true)] {
			let spec = AdapterSpec {
				use_rslora: rslora,
				..AdapterSpec::new(rank, 3, BASE_ID)
			};
			let lora = fixtures::random_lora(t.config(), &spec).unwrap();
			let with_lora = prefill_logits(&t.model, Some(&lora), PROMPT);
			let merged = t.model.merge_lora(&lora).unwrap();
			let from_merged = prefill_logits(&merged, None, PROMPT);
			let base = prefill_logits(&t.model, None, PROMPT);
			let diff = max_diff(&with_lora, &from_merged);
			assert!(
				diff < 1e-4,
				"{arch:?} rank {rank}: LoRA and merged differ by {diff}"
			);
			assert!(
				max_diff(&with_lora, &base) > 1e-2,
				"the adapter must change the output"
			);
		}
	}
}

#[test]
fn lora_on_some_targets_only() {
	let t = tiny(Architecture::Llama);
	let spec = AdapterSpec {
		targets: vec![LoraTarget::V, LoraTarget::Down],
		..AdapterSpec::new(8, 5, BASE_ID)
	};
	let lora = fixtures::random_lora(t.config(), &spec).unwrap();
	let merged = t.model.merge_lora(&lora).unwrap();
	let diff = max_diff(
		&prefill_logits(&t.model, Some(&lora), PROMPT),
		&prefill_logits(&merged, None, PROMPT),
	);
	assert!(diff < 1e-4);
}

#[test]
fn adapter_with_zero_b_equals_base() {
	let t = tiny(Architecture::Qwen2);
	let spec = AdapterSpec {
		zero_b: true,
		..AdapterSpec::new(8, 9, BASE_ID)
	};
	let lora = fixtures::random_lora(t.config(), &spec).unwrap();
	let diff = max_diff(
		&prefill_logits(&t.model, Some(&lora), PROMPT),
		&prefill_logits(&t.model, None, PROMPT),
	);
	assert!(diff < 1e-6, "zero-B adapter changed the output by {diff}");
}

#[test]
fn quantized_base_with_lora_equals_merged_quantized_base() {
	let t = tiny(Architecture::Llama);
	let gguf = tiny_gguf(t.dir.path(), Architecture::Llama, GgmlDType::Q8_0);
	let model = Llama::load(&gguf, &LoadOptions::with_format(WeightFormat::Quantized)).unwrap();
	let lora = fixtures::random_lora(model.config(), &AdapterSpec::new(8, 11, BASE_ID)).unwrap();
	let with_lora = prefill_logits(&model, Some(&lora), PROMPT);
	let merged = prefill_logits(&model.merge_lora(&lora).unwrap(), None, PROMPT);
	// Merging re-quantizes W + ΔW, so only quantization error separates them.
	assert!(max_diff(&with_lora, &merged) < 0.1);
}
