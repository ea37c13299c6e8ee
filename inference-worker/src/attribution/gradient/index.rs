//! The attribution index: per training example, its contribution and its
//! quantized projected gradient at every checkpoint; stored next to the
//! adapter and committed to on chain by its merkle root.
//!
//! # File format
//!
//! [`INDEX_FILE_NAME`] holds the 8 bytes `OLGRADIX`, a format version byte
//! (2: projections by the sparse sign matrix of [`super::projection`]; version
//! 1 used a dense one and is refused), then the SCALE encoding of [`AttributionIndex`]:
//!
//! | field | SCALE type |
//! | --- | --- |
//! | `params` | `seed` u64, `dim` u32, `frac_bits` u8 |
//! | `layout` | `Vec<LoraBlock>`: `layer` u32, `module` String, `rank` u32, `in_dim` u32, `out_dim` u32 |
//! | `entries` | `Vec<IndexEntry>` |
//!
//! An [`IndexEntry`] is `contribution` (u64), `tokens_hash` (32 bytes:
//! `blake2_256` of the SCALE-encoded `Vec<u32>` of the example's tokens) and
//! `checkpoints`, a `Vec` of `(lr_fp` u64, `projected` `Vec<i32>)`, where
//! `lr_fp` is the checkpoint's learning rate in units of 2^-32
//! ([`LR_FRAC_BITS`]) and `projected` has `dim` values with `frac_bits`
//! fractional bits.
//!
//! # Root
//!
//! [`AttributionIndex::root`] is `openledger_primitives::merkle::merkle_root`
//! over one leaf per example, in index order, the leaf being `blake2_256` of
//! the entry's SCALE encoding. Learning rates and projections are inside the
//! leaves; the seed and `frac_bits` are in the receipt's proof commitment.

use std::path::{Path, PathBuf};

use codec::{Decode, Encode};
use indicatif::{ProgressBar, ProgressStyle};
use openledger_primitives::{merkle, ContributionId, Hash};
use polkadot_sdk::sp_crypto_hashing::blake2_256;

use super::{GradientError, LoraGradients, ProjectionParams, Result, TrainingCheckpoint};
use crate::engine::{Llama, LoraWeights};
use crate::factory::Example;

/// The index's file name inside the adapter's directory.
pub const INDEX_FILE_NAME: &str = "attribution_index.scale";

/// Fractional bits of the learning rates stored in the index.
pub const LR_FRAC_BITS: u32 = 32;

const MAGIC: &[u8; 8] = b"OLGRADIX";
const FORMAT_VERSION: u8 = 2;

/// One example's projected gradient at one checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct CheckpointGradient {
	/// The checkpoint's learning rate, in units of 2^-32.
	pub lr_fp: u64,
	/// The quantized projection, `dim` values with `frac_bits` fractional bits.
	pub projected: Vec<i32>,
}

/// What the index knows about one training example.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct IndexEntry {
	pub contribution: ContributionId,
	/// `blake2_256` of the SCALE-encoded tokens: which example this is,
	/// without storing it.
	pub tokens_hash: [u8; 32],
	/// One per checkpoint, in training order.
	pub checkpoints: Vec<CheckpointGradient>,
}

impl IndexEntry {
	/// The entry's leaf in the index root.
	pub fn leaf(&self) -> merkle::Hash32 {
		blake2_256(&self.encode())
	}
}

/// One LoRA pair's place in the flattened gradient: scoring refuses an
/// adapter whose pairs differ from those the index was built with.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct LoraBlock {
	pub layer: u32,
	/// PEFT's module name (`q_proj`, ...).
	pub module: String,
	pub rank: u32,
	pub in_dim: u32,
	pub out_dim: u32,
}

/// The layout of `lora`'s parameters, in the order gradients are flattened.
pub(super) fn lora_layout(lora: &LoraWeights) -> Vec<LoraBlock> {
	lora.pairs()
		.map(|(layer, target, pair)| LoraBlock {
			layer: layer as u32,
			module: target.module_name().to_string(),
			rank: pair.rank() as u32,
			in_dim: pair.in_dim() as u32,
			out_dim: pair.out_dim() as u32,
		})
		.collect()
}

/// The gradient attribution index of one adapter (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct AttributionIndex {
	params: ProjectionParams,
	layout: Vec<LoraBlock>,
	entries: Vec<IndexEntry>,
}

/// Projects every example's gradient at every checkpoint into an index.
///
/// `checkpoints` are the adapter after each epoch with that epoch's learning
/// rate, in training order; they must all have the same LoRA layout.
pub fn build_index(
	model: &Llama,
	checkpoints: &[TrainingCheckpoint<'_>],
	examples: &[Example],
	params: ProjectionParams,
) -> Result<AttributionIndex> {
	params.validate()?;
	let Some(first) = checkpoints.first() else {
		return Err(GradientError::InvalidParams(
			"no training checkpoints".into(),
		));
	};
	let layout = lora_layout(first.lora);
	let mut entries: Vec<IndexEntry> = examples
		.iter()
		.map(|example| IndexEntry {
			contribution: example.contribution,
			tokens_hash: blake2_256(&example.tokens.encode()),
			checkpoints: Vec::with_capacity(checkpoints.len()),
		})
		.collect();
	let progress = progress_bar((checkpoints.len() * examples.len()) as u64);
	for checkpoint in checkpoints {
		if lora_layout(checkpoint.lora) != layout {
			return Err(GradientError::LayoutMismatch(
				"training checkpoints have different LoRA layouts".into(),
			));
		}
		let lr_fp = lr_fixed_point(checkpoint.lr)?;
		let gradients = LoraGradients::new(model, checkpoint.lora)?;
		for (example, entry) in examples.iter().zip(&mut entries) {
			let gradient = gradients.of_example(&example.tokens)?;
			entry.checkpoints.push(CheckpointGradient {
				lr_fp,
				projected: params.project_quantized(&gradient),
			});
			progress.inc(1);
		}
	}
	progress.finish_and_clear();
	Ok(AttributionIndex {
		params,
		layout,
		entries,
	})
}

fn progress_bar(total: u64) -> ProgressBar {
	let bar = ProgressBar::new(total);
	if let Ok(style) =
		ProgressStyle::with_template("attribution index {bar:30} {pos}/{len} gradients ({eta})")
	{
		bar.set_style(style);
	}
	bar
}

/// `lr` in units of 2^-32, rounded.
fn lr_fixed_point(lr: f64) -> Result<u64> {
	let scaled = (lr * f64::from(1u32 << 16) * f64::from(1u32 << 16)).round();
	if !(0.0..u64::MAX as f64).contains(&scaled) {
		return Err(GradientError::InvalidLearningRate(lr));
	}
	Ok(scaled as u64)
}

impl AttributionIndex {
	pub fn params(&self) -> ProjectionParams {
		self.params
	}

	pub fn entries(&self) -> &[IndexEntry] {
		&self.entries
	}

	/// The LoRA pairs, in the order the gradients were flattened.
	pub fn layout(&self) -> &[LoraBlock] {
		&self.layout
	}

	/// The merkle root over the entries' leaves: the adapter's attribution
	/// index root on chain.
	pub fn root(&self) -> Hash {
		let leaves: Vec<merkle::Hash32> = self.entries.iter().map(IndexEntry::leaf).collect();
		Hash::from(merkle::merkle_root(&leaves))
	}

	/// The file's bytes: magic, version, SCALE encoding.
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut bytes = Vec::with_capacity(MAGIC.len() + 1 + self.encoded_size());
		bytes.extend_from_slice(MAGIC);
		bytes.push(FORMAT_VERSION);
		self.encode_to(&mut bytes);
		bytes
	}

	/// Parses and checks [`Self::to_bytes`]' output; `path` names it in errors.
	pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
		let corrupt = |reason: String| GradientError::Corrupt {
			path: path.to_path_buf(),
			reason,
		};
		let body = bytes
			.strip_prefix(MAGIC.as_slice())
			.ok_or_else(|| corrupt("not a gradient attribution index".into()))?;
		let (version, mut body) = body
			.split_first()
			.ok_or_else(|| corrupt("no format version".into()))?;
		if *version != FORMAT_VERSION {
			return Err(corrupt(format!(
				"format version {version}, expected {FORMAT_VERSION}"
			)));
		}
		let index = Self::decode(&mut body).map_err(|e| corrupt(e.to_string()))?;
		if !body.is_empty() {
			return Err(corrupt(format!("{} bytes after the index", body.len())));
		}
		index.check_shapes().map_err(corrupt)?;
		Ok(index)
	}

	fn check_shapes(&self) -> std::result::Result<(), String> {
		self.params.validate().map_err(|e| e.to_string())?;
		let checkpoints = self.entries.first().map_or(0, |e| e.checkpoints.len());
		for (i, entry) in self.entries.iter().enumerate() {
			if entry.checkpoints.len() != checkpoints {
				return Err(format!(
					"entry {i} has {} checkpoints, entry 0 has {checkpoints}",
					entry.checkpoints.len()
				));
			}
			if entry
				.checkpoints
				.iter()
				.any(|c| c.projected.len() != self.params.dim as usize)
			{
				return Err(format!("entry {i} has a projection of the wrong dimension"));
			}
		}
		Ok(())
	}

	/// Writes the index into `adapter_dir` as [`INDEX_FILE_NAME`].
	pub fn save(&self, adapter_dir: &Path) -> Result<PathBuf> {
		let path = adapter_dir.join(INDEX_FILE_NAME);
		let partial = adapter_dir.join(format!("{INDEX_FILE_NAME}.partial"));
		let io = |source| GradientError::Io {
			path: path.clone(),
			source,
		};
		std::fs::write(&partial, self.to_bytes()).map_err(io)?;
		std::fs::rename(&partial, &path).map_err(io)?;
		Ok(path)
	}

	/// Reads the index that [`Self::save`] wrote into `adapter_dir`.
	pub fn load(adapter_dir: &Path) -> Result<Self> {
		let path = adapter_dir.join(INDEX_FILE_NAME);
		let bytes = std::fs::read(&path).map_err(|source| GradientError::Io {
			path: path.clone(),
			source,
		})?;
		Self::from_bytes(&bytes, &path)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn learning_rates_become_fixed_point() {
		assert_eq!(lr_fixed_point(1.0).unwrap(), 1 << 32);
		assert_eq!(lr_fixed_point(2e-4).unwrap(), 858_993);
		assert!(lr_fixed_point(-1e-3).is_err());
		assert!(lr_fixed_point(f64::NAN).is_err());
		assert!(lr_fixed_point(1e10).is_err());
	}
}
