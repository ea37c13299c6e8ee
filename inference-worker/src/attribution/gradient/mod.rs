//! # Gradient attribution
//!
//! Which training examples pushed the adapter towards an output, measured
//! TracIn-CP style on LoRA gradients that are randomly projected to a few
//! hundred numbers and stored in fixed point (DESIGN §9).
//!
//! ## Overview
//!
//! At training time ([`build_index`]), for every checkpoint `c` (the LoRA
//! weights after an epoch, with the learning rate `η_c` of that epoch) and
//! every example `i`, the gradient `g_{c,i}` of the example's mean
//! next-token loss with respect to every LoRA parameter is projected by a
//! fixed random matrix `P` (`D × N`, a sparse sign matrix with a few
//! `±1/√s` entries per column, generated on the fly from a seed, see
//! [`projection`]) and quantized to `q_{c,i}`, integers with
//! `frac_bits` fractional bits. The [`AttributionIndex`] keeps, per example,
//! its contribution, a hash of its tokens and `(η_c, q_{c,i})` per
//! checkpoint; it is written next to the adapter
//! ([`INDEX_FILE_NAME`]) and its [`AttributionIndex::root`] goes on chain.
//!
//! At inference ([`AttributionIndex::score`]), the gradient of the output
//! tokens' loss given the prompt, at the final adapter, is projected and
//! quantized the same way to `q_t`. Each example scores
//! `Σ_c η_c · ⟨q_t, q_{c,i}⟩` (or, with damping `λ > 0`, DataInf's per-example
//! inverse `Σ_c η_c · ⟨q_t, q_{c,i}⟩ / (λ + ‖q_{c,i}‖²)`), in integers only; only
//! positive scores count, summed per contribution.
//!
//! ## Determinism
//!
//! Scores must be bit-identical wherever an honest verifier recomputes them.
//! After quantization everything is integer arithmetic. Before it, the float
//! gradient does not depend on the number of threads on the CPU because:
//! - candle's matmul calls `gemm` with `Parallelism::Rayon(n)`, `n` read from
//!   `RAYON_NUM_THREADS` (not from the rayon pool it runs in); gemm splits
//!   the work over tiles of the *output* and every task sums its full depth
//!   `k` in the same `kc`-blocked order (`kernel_params` does not look at the
//!   thread count), so more threads only change who computes a tile;
//! - candle's sums (`sum_keepdim`, the softmax denominators) run on the
//!   calling thread, and its parallel element-wise maps split by element;
//! - the engine's int8 and quantized matmuls split by output columns too;
//! - autograd visits the graph in an order fixed by its structure;
//! - the projection runs on the calling thread in a fixed order.
//!
//! The tests check this by computing an index and scores in rayon pools of
//! one and two threads. Different CPU instruction sets (AVX-512 vs AVX2, FMA
//! or not) may round differently; verifiers recompute on the same kind of
//! backend as the worker.

mod gradients;
mod index;
pub mod projection;
mod scoring;

use thiserror::Error;

use crate::engine::{EngineError, LoraWeights};

pub use gradients::LoraGradients;
pub use index::{
	build_index, AttributionIndex, CheckpointGradient, IndexEntry, LoraBlock, INDEX_FILE_NAME,
	LR_FRAC_BITS,
};
pub use projection::ProjectionParams;

/// The LoRA weights after one epoch of training and the learning rate that
/// epoch used: the `θ_c` and `η_c` of TracIn-CP.
#[derive(Clone, Copy, Debug)]
pub struct TrainingCheckpoint<'a> {
	pub lr: f64,
	pub lora: &'a LoraWeights,
}

/// Why gradient attribution failed.
#[derive(Debug, Error)]
pub enum GradientError {
	/// The model's forward or backward pass failed.
	#[error(transparent)]
	Engine(#[from] EngineError),
	/// A tensor operation on the gradients failed.
	#[error(transparent)]
	Tensor(#[from] candle_core::Error),
	/// A sequence needs at least one token to predict and one to predict it from.
	#[error("{0}: nothing to predict")]
	NothingToPredict(&'static str),
	/// The adapter has no LoRA parameters, so there is no gradient to project.
	#[error("the adapter has no LoRA parameters")]
	NoParameters,
	/// A gradient had an infinite or NaN entry (the loss diverged).
	#[error("the gradient is not finite")]
	NonFiniteGradient,
	/// A learning rate that is negative, not finite, or too large for fixed point.
	#[error("learning rate {0} cannot be used")]
	InvalidLearningRate(f64),
	/// Projection parameters that cannot be used (zero dimension, too many fractional bits).
	#[error("invalid projection parameters: {0}")]
	InvalidParams(String),
	/// Training checkpoints or the scored adapter do not have the layout the index was built with.
	#[error("LoRA layout mismatch: {0}")]
	LayoutMismatch(String),
	/// The index file could not be read or written.
	#[error("attribution index {path}: {source}")]
	Io {
		path: std::path::PathBuf,
		source: std::io::Error,
	},
	/// The index file is not a gradient attribution index of a known version.
	#[error("attribution index {path}: {reason}")]
	Corrupt {
		path: std::path::PathBuf,
		reason: String,
	},
}

pub type Result<T> = std::result::Result<T, GradientError>;
