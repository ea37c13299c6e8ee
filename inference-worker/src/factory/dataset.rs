//! A datanet version on disk: its manifest, its payloads checked against
//! their content hashes, and the examples the factory trains on.
//!
//! The manifest is JSON:
//!
//! ```json
//! {
//!   "datanet": 3,
//!   "version": 2,
//!   "merkle_root": "0x…",
//!   "blob_dir": "blobs",
//!   "contributions": [
//!     { "contribution": 17, "content_hash": "0x…", "path": "payloads/17.txt" }
//!   ]
//! }
//! ```
//!
//! A contribution's payload is read from its `path` when given, else from
//! the blob directory (the `blob_dir` of the manifest, or one given by the
//! caller), where payloads are stored under their hex content hash (with or
//! without `0x`). Relative paths are relative to the manifest. `merkle_root`
//! is optional; when given, the payloads must rebuild it.

use std::path::{Path, PathBuf};

use openledger_primitives::merkle::{merkle_root, Hash32};
use openledger_primitives::{ContributionId, DatanetId};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Deserialize;

use super::{hex_hash, parse_hex_hash, Example, FactoryError, Result};
use crate::engine::tokenizer::TextTokenizer;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
	datanet: u32,
	version: u32,
	#[serde(default)]
	merkle_root: Option<String>,
	#[serde(default)]
	blob_dir: Option<PathBuf>,
	contributions: Vec<ManifestEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestEntry {
	contribution: u64,
	content_hash: String,
	#[serde(default)]
	path: Option<PathBuf>,
}

/// One contribution's payload, verified against its content hash.
#[derive(Clone, Debug)]
pub struct Payload {
	pub contribution: ContributionId,
	/// BLAKE2b-256 of `text`'s bytes, as recorded on chain.
	pub content_hash: Hash32,
	pub text: String,
}

/// A datanet version whose every payload matched its content hash.
#[derive(Clone, Debug)]
pub struct DatanetVersion {
	pub datanet: DatanetId,
	pub version: u32,
	/// The merkle root of the content hashes in contribution-id order, as
	/// `publish_version` commits it on chain.
	pub merkle_root: Hash32,
	/// In ascending contribution id, the order the chain publishes.
	pub payloads: Vec<Payload>,
}

impl DatanetVersion {
	/// Reads the manifest at `manifest` and every payload it names,
	/// refusing any payload whose bytes do not hash to its content hash.
	/// `blobs` overrides the manifest's `blob_dir`.
	pub fn load(manifest: &Path, blobs: Option<&Path>) -> Result<Self> {
		let json = std::fs::read_to_string(manifest).map_err(|source| FactoryError::Io {
			path: manifest.to_path_buf(),
			source,
		})?;
		let bad = |reason: String| FactoryError::Manifest {
			path: manifest.to_path_buf(),
			reason,
		};
		let parsed: Manifest = serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?;
		let root_dir = manifest.parent().unwrap_or(Path::new("."));
		let blob_dir = blobs
			.map(Path::to_path_buf)
			.or_else(|| parsed.blob_dir.map(|d| root_dir.join(d)));

		let mut entries = parsed.contributions;
		// `publish_version` orders a version's contributions by id.
		entries.sort_by_key(|e| e.contribution);
		let mut payloads: Vec<Payload> = Vec::with_capacity(entries.len());
		for entry in &entries {
			let contribution = ContributionId(entry.contribution);
			let content_hash = parse_hex_hash(&entry.content_hash).ok_or_else(|| {
				bad(format!(
					"contribution {}: `{}` is not a 32-byte hex hash",
					entry.contribution, entry.content_hash
				))
			})?;
			if let Some(previous) = payloads.last() {
				if previous.contribution == contribution {
					return Err(bad(format!(
						"contribution {} is listed twice",
						entry.contribution
					)));
				}
			}
			if let Some(twin) = payloads.iter().find(|p| p.content_hash == content_hash) {
				return Err(bad(format!(
					"contributions {} and {} have the same content hash; a datanet holds each payload once",
					twin.contribution.0, entry.contribution
				)));
			}
			let path = payload_path(root_dir, blob_dir.as_deref(), entry, &content_hash)
				.ok_or_else(|| {
					bad(format!(
						"contribution {} has no path and no blob directory was given",
						entry.contribution
					))
				})?;
			payloads.push(read_payload(contribution, content_hash, &path)?);
		}

		let expected = parsed
			.merkle_root
			.map(|root| {
				parse_hex_hash(&root)
					.ok_or_else(|| bad(format!("merkle_root `{root}` is not a 32-byte hex hash")))
			})
			.transpose()?;
		Self::from_payloads(
			DatanetId(parsed.datanet),
			parsed.version,
			payloads,
			expected,
		)
	}

	/// Version `version` of `datanet` holding `payloads` (each already
	/// checked against its content hash), in contribution order; refused
	/// when `expected_root` is given and the payloads do not rebuild it.
	pub fn from_payloads(
		datanet: DatanetId,
		version: u32,
		mut payloads: Vec<Payload>,
		expected_root: Option<Hash32>,
	) -> Result<Self> {
		payloads.sort_by_key(|p| p.contribution);
		let leaves: Vec<Hash32> = payloads.iter().map(|p| p.content_hash).collect();
		let root = merkle_root(&leaves);
		if let Some(expected) = expected_root {
			if expected != root {
				return Err(FactoryError::MerkleRootMismatch {
					expected: hex_hash(&expected),
					found: hex_hash(&root),
				});
			}
		}
		tracing::info!(
			datanet = datanet.0,
			version,
			contributions = payloads.len(),
			merkle_root = %hex_hash(&root),
			"datanet version verified"
		);
		Ok(Self {
			datanet,
			version,
			merkle_root: root,
			payloads,
		})
	}

	/// Total payload bytes.
	pub fn total_bytes(&self) -> u64 {
		self.payloads.iter().map(|p| p.text.len() as u64).sum()
	}

	/// Every payload tokenized (with the special tokens the tokenizer adds
	/// to raw text, as raw completions are served) and cut into chunks of
	/// at most `max_seq_len` tokens, in contribution order. Chunks of one
	/// token predict nothing and are left out.
	pub fn examples(&self, tokenizer: &TextTokenizer, max_seq_len: usize) -> Result<Vec<Example>> {
		if max_seq_len < 2 {
			return Err(FactoryError::Config(format!(
				"max_seq_len is {max_seq_len}; an example needs at least 2 tokens"
			)));
		}
		let mut examples = Vec::new();
		for payload in &self.payloads {
			let tokens = tokenizer.encode(&payload.text, true)?;
			examples.extend(
				tokens
					.chunks(max_seq_len)
					.filter(|chunk| chunk.len() >= 2)
					.map(|chunk| Example {
						contribution: payload.contribution,
						tokens: chunk.to_vec(),
					}),
			);
		}
		Ok(examples)
	}
}

fn payload_path(
	root_dir: &Path,
	blob_dir: Option<&Path>,
	entry: &ManifestEntry,
	content_hash: &Hash32,
) -> Option<PathBuf> {
	if let Some(path) = &entry.path {
		return Some(root_dir.join(path));
	}
	let blob_dir = blob_dir?;
	let prefixed = hex_hash(content_hash);
	let bare = blob_dir.join(&prefixed[2..]);
	if bare.exists() {
		return Some(bare);
	}
	Some(blob_dir.join(prefixed))
}

fn read_payload(
	contribution: ContributionId,
	content_hash: Hash32,
	path: &Path,
) -> Result<Payload> {
	let bytes = std::fs::read(path).map_err(|source| FactoryError::Io {
		path: path.to_path_buf(),
		source,
	})?;
	Payload::verified(
		contribution,
		content_hash,
		bytes,
		&path.display().to_string(),
	)
}

impl Payload {
	/// The payload of `contribution`, got from `from` (a path or a URL,
	/// named in errors), refused unless `bytes` hash to `content_hash` and
	/// are UTF-8 text.
	pub fn verified(
		contribution: ContributionId,
		content_hash: Hash32,
		bytes: Vec<u8>,
		from: &str,
	) -> Result<Self> {
		let found = blake2_256(&bytes);
		if found != content_hash {
			return Err(FactoryError::HashMismatch {
				contribution,
				from: from.to_string(),
				expected: hex_hash(&content_hash),
				found: hex_hash(&found),
			});
		}
		let text = String::from_utf8(bytes).map_err(|_| FactoryError::NotText(contribution))?;
		Ok(Self {
			contribution,
			content_hash,
			text,
		})
	}
}

/// Examples divided into a training set and a held-out set.
#[derive(Clone, Debug)]
pub struct Split {
	pub train: Vec<Example>,
	/// Empty when the hold-out fraction is 0.
	pub held_out: Vec<Example>,
}

/// Holds out `round(n · holdout_fraction)` examples chosen by `seed`
/// (at least one when the fraction is positive, never all of them). Both
/// sets keep the examples' original order.
pub fn split_examples(examples: Vec<Example>, holdout_fraction: f64, seed: u64) -> Result<Split> {
	if !(0.0..1.0).contains(&holdout_fraction) {
		return Err(FactoryError::Config(format!(
			"holdout_fraction is {holdout_fraction}; it must be in [0, 1)"
		)));
	}
	let n = examples.len();
	if n == 0 {
		return Err(FactoryError::NoExamples(
			"the datanet version yields no example of two or more tokens".into(),
		));
	}
	if holdout_fraction > 0.0 && n < 2 {
		return Err(FactoryError::NoExamples(
			"one example cannot be split into training and held-out sets".into(),
		));
	}
	let wanted = (n as f64 * holdout_fraction).round() as usize;
	let held = if holdout_fraction > 0.0 {
		wanted.clamp(1, n - 1)
	} else {
		0
	};
	let mut order: Vec<usize> = (0..n).collect();
	order.shuffle(&mut StdRng::seed_from_u64(seed));
	let mut is_held = vec![false; n];
	for &index in &order[..held] {
		is_held[index] = true;
	}
	let (held_out, train): (Vec<_>, Vec<_>) = examples
		.into_iter()
		.zip(is_held)
		.partition(|(_, held)| *held);
	Ok(Split {
		train: train.into_iter().map(|(e, _)| e).collect(),
		held_out: held_out.into_iter().map(|(e, _)| e).collect(),
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn examples(n: u64) -> Vec<Example> {
		(0..n)
			.map(|i| Example {
				contribution: ContributionId(i),
				tokens: vec![i as u32, 1],
			})
			.collect()
	}

	#[test]
	fn split_is_deterministic_and_disjoint() {
		let a = split_examples(examples(20), 0.25, 9).unwrap();
		let b = split_examples(examples(20), 0.25, 9).unwrap();
		assert_eq!(a.held_out, b.held_out);
		assert_eq!(a.held_out.len(), 5);
		assert_eq!(a.train.len(), 15);
		let mut all: Vec<u64> = a
			.train
			.iter()
			.chain(&a.held_out)
			.map(|e| e.contribution.0)
			.collect();
		all.sort();
		assert_eq!(all, (0..20).collect::<Vec<_>>());
		let c = split_examples(examples(20), 0.25, 10).unwrap();
		assert_ne!(a.held_out, c.held_out, "another seed holds out others");
	}

	#[test]
	fn zero_fraction_holds_nothing_out_and_tiny_sets_keep_a_training_example() {
		let none = split_examples(examples(4), 0.0, 1).unwrap();
		assert_eq!((none.train.len(), none.held_out.len()), (4, 0));
		let two = split_examples(examples(2), 0.9, 1).unwrap();
		assert_eq!((two.train.len(), two.held_out.len()), (1, 1));
		assert!(split_examples(examples(1), 0.5, 1).is_err());
		assert!(split_examples(examples(4), 1.0, 1).is_err());
	}
}
