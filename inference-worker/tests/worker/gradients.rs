//! The differentiable path: candle's autograd reaches every LoRA parameter.

use candle_core::quantized::GgmlDType;
use candle_core::{Tensor, Var};
use openledger_inference_worker::engine::{
	Architecture, Execution, Llama, LoadOptions, LoraPair, LoraTarget, LoraWeights, WeightFormat,
};

use crate::common::*;

/// Trainable LoRA weights on every target of every layer, with `B` not zero
/// (PEFT's zero init would give `A` a zero gradient at step one).
fn trainable(model: &Llama) -> (LoraWeights, Vec<(String, Var)>) {
	let config = model.config().clone();
	let spec = openledger_inference_worker::fixtures::AdapterSpec::new(4, 77, BASE_ID);
	let init = openledger_inference_worker::fixtures::random_lora(&config, &spec).unwrap();
	let mut weights = LoraWeights::new(config.num_hidden_layers);
	let mut vars = Vec::new();
	for (layer, target, pair) in init.pairs() {
		let a = Var::from_tensor(&pair.a().unwrap()).unwrap();
		let b_t = Var::from_tensor(&pair.b_t().unwrap()).unwrap();
		let name = target.module_path(layer);
		weights
			.insert(
				layer,
				target,
				LoraPair::new(a.as_tensor().clone(), b_t.as_tensor().clone(), pair.scale())
					.unwrap(),
			)
			.unwrap();
		vars.push((format!("{name}.lora_A"), a));
		vars.push((format!("{name}.lora_B"), b_t));
	}
	(weights, vars)
}

fn next_token_loss(model: &Llama, lora: &LoraWeights) -> Tensor {
	let tokens: Vec<u32> = vec![3, 50, 77, 120, 9, 260, 31, 200, 14, 15, 16, 17];
	let batch = Tensor::new(tokens.as_slice(), model.device())
		.unwrap()
		.reshape((2, 6))
		.unwrap();
	let logits = model
		.forward_train(&batch, Some(lora), Execution::Differentiable)
		.unwrap();
	let vocab = model.config().vocab_size;
	let inputs = logits
		.narrow(1, 0, 5)
		.unwrap()
		.reshape((10, vocab))
		.unwrap();
	let targets = batch.narrow(1, 1, 5).unwrap().flatten_all().unwrap();
	candle_nn::loss::cross_entropy(&inputs, &targets).unwrap()
}

fn assert_every_parameter_has_a_gradient(model: &Llama) {
	let (lora, vars) = trainable(model);
	assert_eq!(
		vars.len(),
		2 * LoraTarget::ALL.len() * model.config().num_hidden_layers
	);
	let loss = next_token_loss(model, &lora);
	let grads = loss.backward().unwrap();
	for (name, var) in &vars {
		let grad = grads
			.get(var.as_tensor())
			.unwrap_or_else(|| panic!("{name} has no gradient"));
		assert_eq!(grad.dims(), var.as_tensor().dims(), "{name}");
		let norm = grad
			.sqr()
			.unwrap()
			.sum_all()
			.unwrap()
			.to_scalar::<f32>()
			.unwrap();
		assert!(
			norm > 0.0 && norm.is_finite(),
			"{name} has gradient norm {norm}"
		);
	}
}

#[test]
fn every_lora_parameter_gets_a_gradient() {
	for arch in [Architecture::Llama, Architecture::Qwen2] {
		assert_every_parameter_has_a_gradient(&tiny(arch).model);
	}
}

#[test]
fn gradients_flow_through_a_quantized_base() {
	let t = tiny(Architecture::Llama);
	let gguf = tiny_gguf(t.dir.path(), Architecture::Llama, GgmlDType::Q8_0);
	assert_every_parameter_has_a_gradient(
		&Llama::load(&gguf, &LoadOptions::with_format(WeightFormat::Quantized)).unwrap(),
	);
}

#[test]
fn a_gradient_step_lowers_the_loss() {
	let t = tiny(Architecture::Llama);
	let (lora, vars) = trainable(&t.model);
	let before = next_token_loss(&t.model, &lora);
	let grads = before.backward().unwrap();
	for (_, var) in &vars {
		let grad = grads.get(var.as_tensor()).unwrap();
		var.set(&(var.as_tensor() - (grad * 0.05).unwrap()).unwrap())
			.unwrap();
	}
	let after = next_token_loss(&t.model, &lora);
	let (before, after) = (
		before.to_scalar::<f32>().unwrap(),
		after.to_scalar::<f32>().unwrap(),
	);
	assert!(after < before, "loss went from {before} to {after}");
}
