//! Per-sequence gradients of the next-token loss with respect to every LoRA
//! parameter, flattened into one vector in a fixed order.

use candle_core::{DType, Tensor, Var};

use super::{GradientError, Result};
use crate::engine::{Execution, Llama, LoraPair, LoraWeights};

/// An adapter made trainable, whose gradients can be taken for any
/// sequence.
///
/// The flattened gradient lists, for each layer in order and each target in
/// [`crate::engine::LoraTarget::ALL`] order that the adapter has, `A`
/// (`[rank, in]`) then `Bᵀ` (`[rank, out]`), each row-major: the layout
/// [`LoraPair`] holds them in. Both the index and the scorer flatten this way,
/// so their projections are comparable.
pub struct LoraGradients<'m> {
	model: &'m Llama,
	lora: LoraWeights,
	parameters: Vec<Var>,
	parameter_count: usize,
}

impl<'m> LoraGradients<'m> {
	/// Copies `lora` into f32 variables (adapters may be resident in bf16 or
	/// as 8-bit rows).
	pub fn new(model: &'m Llama, lora: &LoraWeights) -> Result<Self> {
		let mut trainable = LoraWeights::new(lora.num_layers());
		let mut parameters = Vec::new();
		for (layer, target, pair) in lora.pairs() {
			let a = Var::from_tensor(&pair.a()?.to_dtype(DType::F32)?)?;
			let b_t = Var::from_tensor(&pair.b_t()?.to_dtype(DType::F32)?)?;
			let variable =
				LoraPair::new(a.as_tensor().clone(), b_t.as_tensor().clone(), pair.scale())?;
			trainable.insert(layer, target, variable)?;
			parameters.push(a);
			parameters.push(b_t);
		}
		let parameter_count = parameters.iter().map(|p| p.elem_count()).sum();
		if parameter_count == 0 {
			return Err(GradientError::NoParameters);
		}
		Ok(Self {
			model,
			lora: trainable,
			parameters,
			parameter_count,
		})
	}

	/// How many numbers a flattened gradient has.
	pub fn parameter_count(&self) -> usize {
		self.parameter_count
	}

	/// The gradient of a training example's mean next-token loss over all
	/// its tokens.
	pub fn of_example(&self, tokens: &[u32]) -> Result<Vec<f32>> {
		if tokens.len() < 2 {
			return Err(GradientError::NothingToPredict("training example"));
		}
		self.of_targets(tokens, 1)
	}

	/// The gradient of the mean loss of `output`'s tokens, each predicted
	/// from the prompt and the output before it.
	pub fn of_continuation(&self, prompt: &[u32], output: &[u32]) -> Result<Vec<f32>> {
		if prompt.is_empty() || output.is_empty() {
			return Err(GradientError::NothingToPredict("prompt and output"));
		}
		let tokens: Vec<u32> = prompt.iter().chain(output).copied().collect();
		self.of_targets(&tokens, prompt.len())
	}

	/// The gradient of the mean cross-entropy of `tokens[first_target..]`.
	fn of_targets(&self, tokens: &[u32], first_target: usize) -> Result<Vec<f32>> {
		let device = self.model.device();
		let sequence = Tensor::new(tokens, device)?.unsqueeze(0)?;
		// Position p predicts token p + 1: only the targets' predictions.
		let logits = self.model.forward_train_at(
			&sequence,
			Some(&self.lora),
			Execution::Differentiable,
			first_target - 1..tokens.len() - 1,
		)?;
		let predicted = tokens.len() - first_target;
		let inputs = logits.reshape((predicted, self.model.config().vocab_size))?;
		let targets = Tensor::new(&tokens[first_target..], device)?;
		let loss = candle_nn::loss::cross_entropy(&inputs, &targets)?;
		let grads = loss.backward()?;
		let mut flat = Vec::with_capacity(self.parameter_count);
		for parameter in &self.parameters {
			match grads.get(parameter.as_tensor()) {
				Some(grad) => {
					flat.extend(grad.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?)
				},
				// A parameter the loss does not reach has a zero gradient.
				None => flat.resize(flat.len() + parameter.elem_count(), 0.0),
			}
		}
		if flat.iter().any(|g| !g.is_finite()) {
			return Err(GradientError::NonFiniteGradient);
		}
		Ok(flat)
	}
}
