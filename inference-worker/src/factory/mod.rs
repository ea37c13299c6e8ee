//! # ModelFactory
//!
//! Fine-tunes a LoRA adapter on a datanet version's payloads (each verified
//! against its content hash), evaluates held-out loss and perplexity before
//! and after, and writes a PEFT adapter the engine loads plus a training
//! report (DESIGN §9).
//!
//! The steps, each a module:
//! - [`dataset`]: read a version manifest, verify every payload against its
//!   BLAKE2b-256 content hash, rebuild the version's merkle root, tokenize
//!   into [`Example`]s and split them into training and held-out sets;
//! - [`train`]: LoRA initialised as PEFT does, AdamW over the LoRA
//!   parameters, masked next-token cross entropy, a [`train::Checkpoint`]
//!   at the end of every epoch (what gradient attribution replays);
//! - [`report`]: the PEFT adapter directory, its attribution indexes
//!   ([`crate::attribution::indexes`]) and `training_report.json`.

pub mod dataset;
pub mod report;
pub mod train;

use std::path::PathBuf;

use openledger_primitives::ContributionId;

use crate::adapters::AdapterError;
use crate::attribution::indexes::IndexesError;
use crate::engine::EngineError;

pub use dataset::{split_examples, DatanetVersion, Payload, Split};
pub use report::{write_training_output, TrainingReport, TRAINING_REPORT_FILE};
pub use train::{
	batch_loss, evaluate, sequence_losses, train, Checkpoint, Evaluation, Evaluations, Progress,
	TrainConfig, TrainOutcome, TrainableLora,
};

/// One training example: a tokenized piece of one contribution's payload.
///
/// The factory trains on these, and both attribution methods credit what
/// they find back to `contribution`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
	/// The datanet contribution the tokens came from.
	pub contribution: ContributionId,
	/// The tokens, as the base model's tokenizer produced them.
	pub tokens: Vec<u32>,
}

/// Why a datanet version cannot be trained on, or training failed.
#[derive(Debug, thiserror::Error)]
pub enum FactoryError {
	#[error("cannot read {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
	/// The manifest is not the JSON the factory reads, or describes an
	/// impossible version (duplicate ids or content, a bad hash).
	#[error("manifest {path}: {reason}")]
	Manifest { path: PathBuf, reason: String },
	/// A payload's bytes do not hash to the content hash the chain recorded.
	#[error(
		"contribution {} does not match its content hash: expected {expected}, the payload from {from} hashes to {found}",
		.contribution.0
	)]
	HashMismatch {
		contribution: ContributionId,
		from: String,
		expected: String,
		found: String,
	},
	/// The payloads hash to a different version than the manifest or the
	/// chain names.
	#[error("the payloads' merkle root is {found} but the version names {expected}")]
	MerkleRootMismatch { expected: String, found: String },
	#[error("contribution {} is not UTF-8 text", .0.0)]
	NotText(ContributionId),
	#[error("invalid training configuration: {0}")]
	Config(String),
	/// Too few tokens to train on (every example needs two tokens: an input
	/// and the token it predicts).
	#[error("nothing to train on: {0}")]
	NoExamples(String),
	#[error("training diverged: the loss became {loss} at step {step}")]
	Diverged { step: usize, loss: f64 },
	#[error(transparent)]
	Engine(#[from] EngineError),
	#[error(transparent)]
	Adapter(#[from] AdapterError),
	/// The attribution indexes could not be written beside the adapter.
	#[error("attribution indexes: {0}")]
	Indexes(#[from] IndexesError),
}

impl From<candle_core::Error> for FactoryError {
	fn from(e: candle_core::Error) -> Self {
		FactoryError::Engine(EngineError::Tensor(e))
	}
}

pub use crate::hex::{hex_hash, parse_hex_hash};

/// The factory's result type.
pub type Result<T> = std::result::Result<T, FactoryError>;
