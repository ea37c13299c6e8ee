//! ModelFactory's chain side.
//!
//! [`fetch_datanet_version`] reads a published datanet version from the
//! chain (its contribution ids and merkle root, each contribution's content
//! hash) and gets every payload by its hash from blob sources: a local
//! [`BlobStore`] directory or other workers' `GET /v1/blobs/{hash}`. Each
//! payload is checked against its content hash and the whole set against
//! the version's merkle root, so a wrong or lying source cannot change what
//! is trained on. [`Publication`] is what `publish_adapter` records of a
//! trained adapter directory.

use std::path::{Path, PathBuf};

use openledger_primitives::{ContributionId, DatanetId, Hash};
use polkadot_sdk::sp_crypto_hashing::blake2_256;

use super::{Chain, ChainError};
use crate::adapters::ADAPTER_WEIGHTS_FILE;
use crate::attribution::indexes::{AdapterIndexes, IndexesError};
use crate::blobs::{blob_name, BlobStore};
use crate::factory::{DatanetVersion, FactoryError, Payload, TRAINING_REPORT_FILE};
use crate::hex::hex_hash;
use crate::peer::PeerClient;

/// Where payloads are fetched from, by content hash.
#[derive(Clone, Debug)]
pub enum BlobSource {
	/// A blob directory on this machine.
	Store(BlobStore),
	/// A worker's HTTP API (`http://host:port`) serving `/v1/blobs/{hash}`.
	Peer(String),
}

impl BlobSource {
	fn describe(&self, hash: &[u8; 32]) -> String {
		match self {
			Self::Store(store) => store.dir().join(blob_name(hash)).display().to_string(),
			Self::Peer(url) => blob_url(url, hash),
		}
	}
}

fn blob_url(peer: &str, hash: &[u8; 32]) -> String {
	format!("{}/v1/blobs/{}", peer.trim_end_matches('/'), hex_hash(hash))
}

/// Why a datanet version could not be assembled from the chain.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
	#[error("datanet {datanet} has no published version {version} on chain")]
	NoVersion { datanet: u32, version: u32 },
	#[error("contribution {0}, listed in the version, is not on chain")]
	NoContribution(u64),
	#[error("no blob source gave the payload of contribution {contribution} ({hash}): {tried}")]
	Missing {
		contribution: u64,
		hash: String,
		tried: String,
	},
	#[error(transparent)]
	Chain(#[from] ChainError),
	#[error(transparent)]
	Factory(#[from] FactoryError),
}

/// Version `version` of `datanet` as the chain published it, with every
/// payload fetched from the first of `sources` that has it right.
pub async fn fetch_datanet_version(
	chain: &Chain,
	datanet: u32,
	version: u32,
	sources: &[BlobSource],
) -> Result<DatanetVersion, FetchError> {
	let record = chain
		.datanet_version(datanet, version)
		.await?
		.ok_or(FetchError::NoVersion { datanet, version })?;
	let peers = PeerClient::default();
	let mut payloads = Vec::with_capacity(record.contributions.len());
	for contribution in record.contributions {
		let hash = chain
			.content_hash(contribution)
			.await?
			.ok_or(FetchError::NoContribution(contribution))?;
		payloads.push(fetch_payload(&peers, ContributionId(contribution), hash, sources).await?);
	}
	Ok(DatanetVersion::from_payloads(
		DatanetId(datanet),
		version,
		payloads,
		Some(record.merkle_root),
	)?)
}

/// The payload behind `hash` from the first source whose bytes hash to it.
async fn fetch_payload(
	peers: &PeerClient,
	contribution: ContributionId,
	hash: [u8; 32],
	sources: &[BlobSource],
) -> Result<Payload, FetchError> {
	let mut tried = Vec::new();
	for source in sources {
		let from = source.describe(&hash);
		let bytes = match source {
			BlobSource::Store(store) => store.get(&hash).map_err(|e| e.to_string()),
			BlobSource::Peer(url) => peers
				.get(&blob_url(url, &hash))
				.await
				.map(|body| body.to_vec())
				.map_err(|e| e.to_string()),
		};
		match bytes.map(|bytes| Payload::verified(contribution, hash, bytes, &from)) {
			Ok(Ok(payload)) => return Ok(payload),
			Ok(Err(refused)) => tried.push(refused.to_string()),
			Err(reason) => tried.push(reason),
		}
	}
	let tried = if tried.is_empty() {
		"no blob source was given".to_string()
	} else {
		tried.join("; ")
	};
	Err(FetchError::Missing {
		contribution: contribution.0,
		hash: hex_hash(&hash),
		tried,
	})
}

/// Why an adapter directory cannot be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
	#[error("cannot read {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
	#[error(transparent)]
	Indexes(#[from] IndexesError),
}

/// What `publish_adapter` records of an adapter directory `train` wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Publication {
	/// BLAKE2b-256 of the adapter's weights file: what workers check.
	pub adapter_hash: Hash,
	/// The combined root of its attribution indexes.
	pub attribution_index_root: Hash,
	/// BLAKE2b-256 of its training report.
	pub training_report_hash: Hash,
}

impl Publication {
	/// Reads the hashes of the adapter in `adapter_dir`.
	pub fn of_adapter(adapter_dir: &Path) -> Result<Self, PublishError> {
		let hash_of = |name: &str| {
			let path = adapter_dir.join(name);
			std::fs::read(&path)
				.map(|bytes| Hash::from(blake2_256(&bytes)))
				.map_err(|source| PublishError::Io { path, source })
		};
		Ok(Self {
			adapter_hash: hash_of(ADAPTER_WEIGHTS_FILE)?,
			attribution_index_root: AdapterIndexes::read(adapter_dir)?.root(),
			training_report_hash: hash_of(TRAINING_REPORT_FILE)?,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const TEXT: &str = "the silver key is under the blue stone.";

	fn store(dir: &Path) -> BlobStore {
		BlobStore::open(dir, 1 << 20).unwrap()
	}

	#[tokio::test]
	async fn a_payload_comes_from_the_first_source_that_has_it() {
		let (empty, full) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
		let hash = blake2_256(TEXT.as_bytes());
		store(full.path()).put(&hash, TEXT.as_bytes()).unwrap();
		let sources = [
			// Nothing listens on port 9 of loopback: the peer is skipped.
			BlobSource::Peer("http://127.0.0.1:9".into()),
			BlobSource::Store(store(empty.path())),
			BlobSource::Store(store(full.path())),
		];
		let payload = fetch_payload(&PeerClient::default(), ContributionId(4), hash, &sources)
			.await
			.unwrap();
		assert_eq!(payload.text, TEXT);
		assert_eq!(payload.contribution, ContributionId(4));
	}

	#[tokio::test]
	async fn a_payload_no_source_has_names_every_source_tried() {
		let empty = tempfile::tempdir().unwrap();
		let hash = blake2_256(TEXT.as_bytes());
		let sources = [
			BlobSource::Peer("http://127.0.0.1:9".into()),
			BlobSource::Store(store(empty.path())),
		];
		let error = fetch_payload(&PeerClient::default(), ContributionId(4), hash, &sources)
			.await
			.unwrap_err();
		let FetchError::Missing {
			contribution,
			tried,
			..
		} = &error
		else {
			panic!("expected a missing payload, got {error}");
		};
		assert_eq!(*contribution, 4);
		assert!(tried.contains("127.0.0.1:9"), "{tried}");
		assert!(tried.contains("no blob"), "{tried}");
		let none = fetch_payload(&PeerClient::default(), ContributionId(4), hash, &[])
			.await
			.unwrap_err();
		assert!(
			none.to_string().contains("no blob source was given"),
			"{none}"
		);
	}
}
