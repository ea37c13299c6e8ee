//! What a training run leaves on disk: the PEFT adapter directory the
//! engine loads, its attribution indexes, and `training_report.json` saying
//! how it was made, how well it does and which attribution index root to
//! publish with it.

use std::path::Path;

use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde::Serialize;

use super::dataset::DatanetVersion;
use super::train::{Evaluations, TrainConfig, TrainOutcome};
use super::{hex_hash, FactoryError, Result};
use crate::adapters::{save_peft_adapter, PeftMetadata, ADAPTER_WEIGHTS_FILE};
use crate::attribution::indexes::{AdapterIndexes, IndexesSummary};

pub const TRAINING_REPORT_FILE: &str = "training_report.json";

/// The contents of `training_report.json`.
#[derive(Clone, Debug, Serialize)]
pub struct TrainingReport {
	/// `base_model_name_or_path` of the adapter.
	pub base_model: String,
	pub datanet: u32,
	pub version: u32,
	/// The version's merkle root over its content hashes, `0x…`, as
	/// `publish_version` commits it.
	pub dataset_merkle_root: String,
	pub contributions: usize,
	pub payload_bytes: u64,
	pub hyperparameters: TrainConfig,
	/// Predicted tokens the examples hold.
	pub train_examples: usize,
	pub train_tokens: usize,
	pub held_out_examples: usize,
	pub held_out_tokens: usize,
	/// When true nothing was held out and the held-out figures are the
	/// training set's.
	pub held_out_is_training_set: bool,
	pub before: Evaluations,
	pub after: Evaluations,
	pub epoch_train_loss: Vec<f64>,
	pub steps: usize,
	pub wall_time_secs: f64,
	/// BLAKE2b-256 of the written `adapter_model.safetensors`, `0x…`.
	pub adapter_hash: String,
	/// The attribution indexes written beside the adapter: their roots,
	/// parameters, and the `attribution_index_root` to publish.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub attribution: Option<IndexesSummary>,
}

/// Writes the trained adapter into `dir` (PEFT format), its attribution
/// `indexes` when given, and `training_report.json` beside them, and returns
/// the report.
pub fn write_training_output(
	dir: &Path,
	outcome: &TrainOutcome,
	version: &DatanetVersion,
	config: &TrainConfig,
	base_model: &str,
	indexes: Option<&AdapterIndexes>,
) -> Result<TrainingReport> {
	let meta = PeftMetadata {
		rank: config.rank,
		alpha: config.alpha,
		use_rslora: config.use_rslora,
		base_model_name_or_path: base_model.to_string(),
	};
	save_peft_adapter(dir, &outcome.lora, &meta)?;
	let weights_path = dir.join(ADAPTER_WEIGHTS_FILE);
	let weights = std::fs::read(&weights_path).map_err(|source| FactoryError::Io {
		path: weights_path,
		source,
	})?;
	let attribution = indexes.map(|indexes| indexes.write(dir)).transpose()?;
	let predicted = |examples: &[super::Example]| -> usize {
		examples.iter().map(|e| e.tokens.len() - 1).sum()
	};
	let report = TrainingReport {
		base_model: base_model.to_string(),
		datanet: version.datanet.0,
		version: version.version,
		dataset_merkle_root: hex_hash(&version.merkle_root),
		contributions: version.payloads.len(),
		payload_bytes: version.total_bytes(),
		hyperparameters: config.clone(),
		train_examples: outcome.train_examples.len(),
		train_tokens: predicted(&outcome.train_examples),
		held_out_examples: outcome.held_out_examples.len(),
		held_out_tokens: predicted(&outcome.held_out_examples),
		held_out_is_training_set: outcome.held_out_is_training_set,
		before: outcome.before,
		after: outcome.after,
		epoch_train_loss: outcome.epoch_train_loss.clone(),
		steps: outcome.steps,
		wall_time_secs: outcome.wall_time.as_secs_f64(),
		adapter_hash: hex_hash(&blake2_256(&weights)),
		attribution,
	};
	let report_path = dir.join(TRAINING_REPORT_FILE);
	let json = serde_json::to_string_pretty(&report).map_err(|e| FactoryError::Io {
		path: report_path.clone(),
		source: std::io::Error::other(e),
	})?;
	std::fs::write(&report_path, json).map_err(|source| FactoryError::Io {
		path: report_path,
		source,
	})?;
	tracing::info!(dir = %dir.display(), adapter_hash = %report.adapter_hash, "adapter written");
	Ok(report)
}
