//! LoRA fine-tuning of the engine's own decoder.
//!
//! - LoRA is initialised as PEFT does: `A` Kaiming-uniform (bound
//!   `1/√in`) drawn from the seed, `B` zero, so the untrained adapter is a
//!   no-op and training starts from the base model.
//! - The loss is next-token cross entropy averaged over the predicted
//!   tokens of a batch. Sequences of unequal length are right-padded and
//!   the padded positions masked out; attention is causal, so padding after
//!   a sequence cannot change its logits.
//! - AdamW (candle's) updates `A` and `Bᵀ` of every targeted projection at
//!   a constant learning rate; the base weights stay frozen.
//! - At the end of every epoch a [`Checkpoint`] keeps a detached copy of
//!   the LoRA weights and the learning rate, which is what gradient
//!   attribution replays (TracIn sums over checkpoints, weighted by the
//!   step size).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::dataset::Split;
use super::{Example, FactoryError, Result};
use crate::engine::llama::{target_in_width, target_width};
use crate::engine::{Execution, Llama, LoraPair, LoraTarget, LoraWeights, ModelConfig};

/// Hyperparameters of one fine-tuning run.
#[derive(Clone, Debug, Serialize)]
pub struct TrainConfig {
	/// AdamW's learning rate, constant over the run.
	pub lr: f64,
	/// Examples per optimizer step.
	pub batch_size: usize,
	/// Passes over the training set.
	pub epochs: u32,
	/// LoRA rank `r`.
	pub rank: usize,
	/// LoRA `alpha`; the update is scaled by `alpha/r` (or `alpha/√r`).
	pub alpha: f64,
	/// rsLoRA's scale `alpha/√r`.
	pub use_rslora: bool,
	/// The projections that get an adapter, in every layer.
	#[serde(serialize_with = "module_names")]
	pub target_modules: Vec<LoraTarget>,
	/// Seeds the LoRA initialisation, the held-out split and the shuffling.
	pub seed: u64,
	/// Longest example in tokens; longer payloads are cut into pieces.
	pub max_seq_len: usize,
	/// Share of examples held out for evaluation; 0 evaluates on the
	/// training set.
	pub holdout_fraction: f64,
	/// AdamW's decoupled weight decay.
	pub weight_decay: f64,
}

impl Default for TrainConfig {
	/// PEFT's and the Hugging Face Trainer's usual starting point for a
	/// Llama: rank 8, alpha 16 on the attention query and value projections,
	/// learning rate 2e-4, no weight decay.
	fn default() -> Self {
		Self {
			lr: 2e-4,
			batch_size: 8,
			epochs: 3,
			rank: 8,
			alpha: 16.0,
			use_rslora: false,
			target_modules: vec![LoraTarget::Q, LoraTarget::V],
			seed: 42,
			max_seq_len: 512,
			holdout_fraction: 0.1,
			weight_decay: 0.0,
		}
	}
}

fn module_names<S: serde::Serializer>(
	targets: &[LoraTarget],
	serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
	serializer.collect_seq(targets.iter().map(|t| t.module_name()))
}

impl TrainConfig {
	/// The factor LoRA's update is multiplied by, as PEFT computes it.
	pub fn scale(&self) -> f64 {
		if self.use_rslora {
			self.alpha / (self.rank as f64).sqrt()
		} else {
			self.alpha / self.rank as f64
		}
	}

	/// Refuses settings no run can use.
	pub fn validate(&self) -> Result<()> {
		let fail = |what: String| Err(FactoryError::Config(what));
		if !(self.lr.is_finite() && self.lr > 0.0) {
			return fail(format!("lr is {}; it must be positive", self.lr));
		}
		if self.batch_size == 0 || self.epochs == 0 || self.rank == 0 {
			return fail("batch_size, epochs and rank must be positive".into());
		}
		if !self.alpha.is_finite() || self.alpha == 0.0 {
			return fail(format!("alpha is {}; it must be non-zero", self.alpha));
		}
		if self.target_modules.is_empty() {
			return fail("no target modules".into());
		}
		if self.max_seq_len < 2 {
			return fail("max_seq_len must be at least 2".into());
		}
		if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
			return fail(format!("weight_decay is {}", self.weight_decay));
		}
		Ok(())
	}
}

/// The LoRA weights at the end of an epoch.
#[derive(Clone, Debug)]
pub struct Checkpoint {
	/// 1-based.
	pub epoch: u32,
	/// The learning rate of the steps that led here.
	pub lr: f64,
	/// Detached copies: later steps do not change them.
	pub lora: LoraWeights,
}

/// LoRA weights whose `A` and `Bᵀ` are trainable variables.
pub struct TrainableLora {
	weights: LoraWeights,
	parameters: Vec<(String, Var)>,
}

impl TrainableLora {
	/// PEFT's initialisation for every target of every layer: `A` uniform
	/// in `±1/√in` (Kaiming-uniform with `a = √5`) from `config.seed`, `B`
	/// zero.
	pub fn init(model: &ModelConfig, config: &TrainConfig, device: &Device) -> Result<Self> {
		let mut rng = StdRng::seed_from_u64(config.seed);
		let mut weights = LoraWeights::new(model.num_hidden_layers);
		let scale = config.scale();
		for layer in 0..model.num_hidden_layers {
			for &target in &config.target_modules {
				let (in_dim, out_dim) =
					(target_in_width(model, target), target_width(model, target));
				let bound = 1.0 / (in_dim as f32).sqrt();
				let a: Vec<f32> = (0..config.rank * in_dim)
					.map(|_| bound * (2.0 * rng.random::<f32>() - 1.0))
					.collect();
				let a = Tensor::from_vec(a, (config.rank, in_dim), device)?;
				let b_t = Tensor::zeros((config.rank, out_dim), DType::F32, device)?;
				weights.insert(layer, target, LoraPair::new(a, b_t, scale)?)?;
			}
		}
		Self::from_weights(&weights)
	}

	/// Trainable copies of `weights` (e.g. a [`Checkpoint`]'s, to take
	/// per-example gradients at that point of training).
	pub fn from_weights(weights: &LoraWeights) -> Result<Self> {
		let mut trainable = LoraWeights::new(weights.num_layers());
		let mut parameters = Vec::new();
		for (layer, target, pair) in weights.pairs() {
			let a = Var::from_tensor(&pair.a()?.to_dtype(DType::F32)?.copy()?)?;
			let b_t = Var::from_tensor(&pair.b_t()?.to_dtype(DType::F32)?.copy()?)?;
			let pair = LoraPair::new(a.as_tensor().clone(), b_t.as_tensor().clone(), pair.scale())?;
			trainable.insert(layer, target, pair)?;
			let path = target.module_path(layer);
			parameters.push((format!("{path}.lora_A"), a));
			parameters.push((format!("{path}.lora_B"), b_t));
		}
		Ok(Self {
			weights: trainable,
			parameters,
		})
	}

	/// The weights to run the model with; they follow every update.
	pub fn weights(&self) -> &LoraWeights {
		&self.weights
	}

	/// Every parameter with its name, `<module path>.lora_A` (`[r, in]`)
	/// and `<module path>.lora_B` (held transposed, `[r, out]`), layer by
	/// layer in target order.
	pub fn parameters(&self) -> &[(String, Var)] {
		&self.parameters
	}

	/// A copy that later updates leave alone, detached from autograd.
	pub fn snapshot(&self) -> Result<LoraWeights> {
		let mut copy = LoraWeights::new(self.weights.num_layers());
		for (layer, target, pair) in self.weights.pairs() {
			let frozen = LoraPair::new(
				pair.a()?.copy()?.detach(),
				pair.b_t()?.copy()?.detach(),
				pair.scale(),
			)?;
			copy.insert(layer, target, frozen)?;
		}
		Ok(copy)
	}

	fn vars(&self) -> Vec<Var> {
		self.parameters.iter().map(|(_, v)| v.clone()).collect()
	}
}

/// A batch right-padded to its longest row.
struct PaddedBatch {
	/// `[rows, len]`.
	tokens: Tensor,
	/// The token each position predicts, `[rows, len - 1]`.
	targets: Tensor,
	/// 1 where the target is a real token, 0 where it is padding.
	mask: Tensor,
	/// Predicted tokens per row.
	counts: Vec<usize>,
}

/// Any id works: padded positions are masked out of the loss and, being
/// after every real token, never attended to.
const PAD_ID: u32 = 0;

fn pad(rows: &[&[u32]], device: &Device) -> Result<PaddedBatch> {
	let len = rows.iter().map(|r| r.len()).max().unwrap_or(0);
	if len < 2 || rows.iter().any(|r| r.len() < 2) {
		return Err(FactoryError::NoExamples(
			"every row of a batch needs at least 2 tokens".into(),
		));
	}
	let mut tokens = Vec::with_capacity(rows.len() * len);
	let mut targets = Vec::with_capacity(rows.len() * (len - 1));
	let mut mask = Vec::with_capacity(rows.len() * (len - 1));
	for row in rows {
		tokens.extend_from_slice(row);
		tokens.extend(std::iter::repeat_n(PAD_ID, len - row.len()));
		targets.extend_from_slice(&row[1..]);
		targets.extend(std::iter::repeat_n(PAD_ID, len - row.len()));
		mask.extend(std::iter::repeat_n(1f32, row.len() - 1));
		mask.extend(std::iter::repeat_n(0f32, len - row.len()));
	}
	Ok(PaddedBatch {
		tokens: Tensor::from_vec(tokens, (rows.len(), len), device)?,
		targets: Tensor::from_vec(targets, (rows.len(), len - 1), device)?,
		mask: Tensor::from_vec(mask, (rows.len(), len - 1), device)?,
		counts: rows.iter().map(|r| r.len() - 1).collect(),
	})
}

/// Summed next-token negative log-likelihood per row, `[rows]`, and the
/// number of predicted tokens per row.
fn row_nll(
	model: &Llama,
	lora: Option<&LoraWeights>,
	rows: &[&[u32]],
	mode: Execution,
) -> Result<(Tensor, Vec<usize>)> {
	let batch = pad(rows, model.device())?;
	let logits = model
		.forward_train(&batch.tokens, lora, mode)?
		.to_dtype(DType::F32)?;
	let (n, len, vocab) = logits.dims3()?;
	let predicting = logits
		.narrow(1, 0, len - 1)?
		.reshape((n * (len - 1), vocab))?;
	let log_probs = candle_nn::ops::log_softmax(&predicting, D::Minus1)?;
	let picked = log_probs
		.gather(&batch.targets.reshape((n * (len - 1), 1))?, 1)?
		.reshape((n, len - 1))?;
	let sums = (picked * batch.mask)?.sum(1)?.neg()?;
	Ok((sums, batch.counts))
}

/// Each row's mean next-token cross entropy, `[rows]`; rows may differ in
/// length (at least 2 tokens each).
pub fn sequence_losses(
	model: &Llama,
	lora: Option<&LoraWeights>,
	rows: &[&[u32]],
	mode: Execution,
) -> Result<Tensor> {
	let (sums, counts) = row_nll(model, lora, rows, mode)?;
	let counts: Vec<f32> = counts.iter().map(|&c| c as f32).collect();
	let counts = Tensor::from_vec(counts, rows.len(), sums.device())?;
	Ok((sums / counts)?)
}

/// The training loss: next-token cross entropy averaged over every
/// predicted token of the batch, a scalar. With
/// [`Execution::Differentiable`] and trainable LoRA weights it
/// back-propagates to every LoRA parameter.
pub fn batch_loss(
	model: &Llama,
	lora: Option<&LoraWeights>,
	rows: &[&[u32]],
	mode: Execution,
) -> Result<Tensor> {
	let (sums, counts) = row_nll(model, lora, rows, mode)?;
	let tokens: usize = counts.iter().sum();
	Ok((sums.sum_all()? / tokens as f64)?)
}

/// Mean loss of a model over a set of examples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Evaluation {
	pub examples: usize,
	/// Predicted tokens the mean is over.
	pub tokens: usize,
	/// Mean next-token cross entropy, in nats.
	pub mean_loss: f64,
	/// `exp(mean_loss)`.
	pub perplexity: f64,
}

/// Evaluates `examples` in batches of `batch_size`, without gradients.
pub fn evaluate(
	model: &Llama,
	lora: Option<&LoraWeights>,
	examples: &[Example],
	batch_size: usize,
) -> Result<Evaluation> {
	let mut total = 0f64;
	let mut tokens = 0usize;
	for chunk in examples.chunks(batch_size.max(1)) {
		let rows: Vec<&[u32]> = chunk.iter().map(|e| e.tokens.as_slice()).collect();
		let (sums, counts) = row_nll(model, lora, &rows, Execution::Inference)?;
		total += sums.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
		tokens += counts.iter().sum::<usize>();
	}
	if tokens == 0 {
		return Err(FactoryError::NoExamples("no tokens to evaluate".into()));
	}
	let mean_loss = total / tokens as f64;
	Ok(Evaluation {
		examples: examples.len(),
		tokens,
		mean_loss,
		perplexity: mean_loss.exp(),
	})
}

/// Losses on both sets at one point of training.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Evaluations {
	pub train: Evaluation,
	/// The training set's evaluation again when nothing was held out.
	pub held_out: Evaluation,
}

/// Whether a progress bar is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
	/// On standard error, when it is a terminal.
	Terminal,
	Hidden,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct TrainOutcome {
	/// The trained weights, detached.
	pub lora: LoraWeights,
	/// One per epoch, in order; the last holds the same weights as `lora`.
	pub checkpoints: Vec<Checkpoint>,
	/// The examples trained on, in dataset order.
	pub train_examples: Vec<Example>,
	/// The examples held out; empty when the fraction was 0.
	pub held_out_examples: Vec<Example>,
	/// True when nothing was held out and "held-out" numbers are the
	/// training set's.
	pub held_out_is_training_set: bool,
	pub before: Evaluations,
	pub after: Evaluations,
	/// Mean loss of each epoch's steps, as they were taken.
	pub epoch_train_loss: Vec<f64>,
	/// Optimizer steps taken.
	pub steps: usize,
	pub wall_time: Duration,
}

/// Fine-tunes LoRA weights on `split.train`, evaluating both sets before
/// and after.
pub fn train(
	model: &Llama,
	split: Split,
	config: &TrainConfig,
	progress: Progress,
) -> Result<TrainOutcome> {
	config.validate()?;
	if split.train.is_empty() {
		return Err(FactoryError::NoExamples("the training set is empty".into()));
	}
	let started = Instant::now();
	let held_out_is_training_set = split.held_out.is_empty();
	let evaluate_both = |lora: Option<&LoraWeights>| -> Result<Evaluations> {
		let train = evaluate(model, lora, &split.train, config.batch_size)?;
		let held_out = if held_out_is_training_set {
			train
		} else {
			evaluate(model, lora, &split.held_out, config.batch_size)?
		};
		Ok(Evaluations { train, held_out })
	};
	let before = evaluate_both(None)?;
	tracing::info!(
		train_loss = before.train.mean_loss,
		held_out_loss = before.held_out.mean_loss,
		held_out_perplexity = before.held_out.perplexity,
		"base model evaluated"
	);

	let lora = TrainableLora::init(model.config(), config, model.device())?;
	let mut optimizer = AdamW::new(
		lora.vars(),
		ParamsAdamW {
			lr: config.lr,
			weight_decay: config.weight_decay,
			..ParamsAdamW::default()
		},
	)?;
	let steps_per_epoch = split.train.len().div_ceil(config.batch_size);
	let bar = progress_bar(progress, steps_per_epoch * config.epochs as usize);
	// A stream of its own, so that the split and the initialisation do not
	// shift when the shuffling changes.
	let mut shuffle = StdRng::seed_from_u64(config.seed ^ SHUFFLE_STREAM);
	let mut order: Vec<usize> = (0..split.train.len()).collect();
	let mut checkpoints = Vec::with_capacity(config.epochs as usize);
	let mut epoch_train_loss = Vec::with_capacity(config.epochs as usize);
	let mut steps = 0;
	for epoch in 1..=config.epochs {
		order.shuffle(&mut shuffle);
		let (mut nll, mut tokens) = (0f64, 0usize);
		for indices in order.chunks(config.batch_size) {
			let rows: Vec<&[u32]> = indices
				.iter()
				.map(|&i| split.train[i].tokens.as_slice())
				.collect();
			let loss = batch_loss(
				model,
				Some(lora.weights()),
				&rows,
				Execution::Differentiable,
			)?;
			let value = loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
			steps += 1;
			if !value.is_finite() {
				return Err(FactoryError::Diverged {
					step: steps,
					loss: value,
				});
			}
			optimizer.backward_step(&loss)?;
			let batch_tokens: usize = rows.iter().map(|r| r.len() - 1).sum();
			nll += value * batch_tokens as f64;
			tokens += batch_tokens;
			bar.set_message(format!("epoch {epoch} loss {value:.4}"));
			bar.inc(1);
		}
		let mean = nll / tokens as f64;
		tracing::info!(epoch, train_loss = mean, steps, "epoch done");
		epoch_train_loss.push(mean);
		checkpoints.push(Checkpoint {
			epoch,
			lr: optimizer.learning_rate(),
			lora: lora.snapshot()?,
		});
	}
	bar.finish_and_clear();

	let trained = lora.snapshot()?;
	let after = evaluate_both(Some(&trained))?;
	tracing::info!(
		train_loss = after.train.mean_loss,
		held_out_loss = after.held_out.mean_loss,
		held_out_perplexity = after.held_out.perplexity,
		"adapter evaluated"
	);
	Ok(TrainOutcome {
		lora: trained,
		checkpoints,
		train_examples: split.train,
		held_out_examples: split.held_out,
		held_out_is_training_set,
		before,
		after,
		epoch_train_loss,
		steps,
		wall_time: started.elapsed(),
	})
}

/// Mixed into the seed of the shuffling stream.
const SHUFFLE_STREAM: u64 = 0x5348_5546_464c_4521;

fn progress_bar(progress: Progress, steps: usize) -> ProgressBar {
	if progress == Progress::Hidden || !std::io::stderr().is_terminal() {
		return ProgressBar::hidden();
	}
	let bar = ProgressBar::new(steps as u64);
	if let Ok(style) =
		ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} steps {msg}")
	{
		bar.set_style(style.progress_chars("=> "));
	}
	bar
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn defaults_are_valid_and_scale_as_peft() {
		let config = TrainConfig::default();
		config.validate().unwrap();
		assert_eq!(config.scale(), 2.0);
		let rs = TrainConfig {
			use_rslora: true,
			rank: 16,
			alpha: 8.0,
			..TrainConfig::default()
		};
		assert_eq!(rs.scale(), 2.0);
		assert!(TrainConfig {
			lr: 0.0,
			..TrainConfig::default()
		}
		.validate()
		.is_err());
	}

	#[test]
	fn padding_masks_only_the_positions_after_a_row() {
		let batch = pad(&[&[5, 6, 7, 8], &[9, 10]], &Device::Cpu).unwrap();
		assert_eq!(
			batch.tokens.to_vec2::<u32>().unwrap(),
			vec![vec![5, 6, 7, 8], vec![9, 10, 0, 0]]
		);
		assert_eq!(
			batch.targets.to_vec2::<u32>().unwrap(),
			vec![vec![6, 7, 8], vec![10, 0, 0]]
		);
		assert_eq!(
			batch.mask.to_vec2::<f32>().unwrap(),
			vec![vec![1.0, 1.0, 1.0], vec![1.0, 0.0, 0.0]]
		);
		assert_eq!(batch.counts, vec![3, 1]);
	}
}
