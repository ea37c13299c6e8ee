//! # Blob store
//!
//! Datanet payloads by content: a directory of files, each named by the
//! BLAKE2b-256 of its bytes (64 lowercase hex digits, no `0x`), the hash the
//! datanets pallet records for a contribution. What goes in is checked
//! against the hash it is put under, and what comes out is checked again,
//! so a corrupted disk never hands out wrong data. The factory reads the
//! same directory as a datanet version's blob directory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use openledger_primitives::merkle::Hash32;
use polkadot_sdk::sp_crypto_hashing::blake2_256;

use crate::hex::{hex_hash, parse_hex_hash};

/// Why a blob was refused or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
	#[error("`{0}` is not a BLAKE2b-256 hash (64 hex digits, `0x` optional)")]
	BadHash(String),
	#[error("the bytes hash to {found}, not to {expected}")]
	HashMismatch { expected: String, found: String },
	#[error("{size} bytes is more than the {limit} a blob may hold")]
	TooLarge { size: usize, limit: usize },
	#[error("no blob {0}")]
	NotFound(String),
	#[error("blob {hash} on disk is corrupt: its bytes hash to {found}")]
	Corrupt { hash: String, found: String },
	#[error("{path}: {source}")]
	Io { path: PathBuf, source: io::Error },
}

/// Hex of a hash as blob files are named: lowercase, no `0x`.
pub fn blob_name(hash: &Hash32) -> String {
	hex_hash(hash).split_off(2)
}

/// A hash from 64 hex digits, with or without `0x`.
pub fn parse_blob_hash(text: &str) -> Result<Hash32, BlobError> {
	parse_hex_hash(text).ok_or_else(|| BlobError::BadHash(text.to_owned()))
}

/// Content-addressed blobs in one directory.
#[derive(Debug, Clone)]
pub struct BlobStore {
	dir: PathBuf,
	max_blob_bytes: usize,
}

impl BlobStore {
	/// Opens (creating it when missing) the store in `dir`, refusing blobs
	/// larger than `max_blob_bytes`.
	pub fn open(dir: impl Into<PathBuf>, max_blob_bytes: usize) -> Result<Self, BlobError> {
		let dir = dir.into();
		fs::create_dir_all(&dir).map_err(|source| BlobError::Io {
			path: dir.clone(),
			source,
		})?;
		Ok(Self {
			dir,
			max_blob_bytes,
		})
	}

	pub fn dir(&self) -> &Path {
		&self.dir
	}

	pub fn max_blob_bytes(&self) -> usize {
		self.max_blob_bytes
	}

	fn path_of(&self, hash: &Hash32) -> PathBuf {
		self.dir.join(blob_name(hash))
	}

	/// Stores `bytes` under `hash` when they hash to it. Returns whether the
	/// blob is new (an identical blob already stored is left as it is).
	pub fn put(&self, hash: &Hash32, bytes: &[u8]) -> Result<bool, BlobError> {
		if bytes.len() > self.max_blob_bytes {
			return Err(BlobError::TooLarge {
				size: bytes.len(),
				limit: self.max_blob_bytes,
			});
		}
		let found = blake2_256(bytes);
		if found != *hash {
			return Err(BlobError::HashMismatch {
				expected: blob_name(hash),
				found: blob_name(&found),
			});
		}
		let path = self.path_of(hash);
		if path.is_file() {
			return Ok(false);
		}
		self.write_atomically(&path, bytes)?;
		Ok(true)
	}

	/// Writes to a temporary file in the same directory, then renames it,
	/// so a reader never sees half a blob.
	fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
		static NEXT: AtomicU64 = AtomicU64::new(0);
		let io = |source| BlobError::Io {
			path: path.to_owned(),
			source,
		};
		let unique = NEXT.fetch_add(1, Ordering::Relaxed);
		let partial = self
			.dir
			.join(format!(".partial-{}-{unique}", std::process::id()));
		let written = fs::File::create(&partial)
			.and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
			.and_then(|()| fs::rename(&partial, path));
		if written.is_err() {
			let _ = fs::remove_file(&partial);
		}
		written.map_err(io)
	}

	/// The blob stored under `hash`, checked against it.
	pub fn get(&self, hash: &Hash32) -> Result<Vec<u8>, BlobError> {
		let path = self.path_of(hash);
		let bytes = match fs::read(&path) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == io::ErrorKind::NotFound => {
				return Err(BlobError::NotFound(blob_name(hash)))
			},
			Err(source) => return Err(BlobError::Io { path, source }),
		};
		let found = blake2_256(&bytes);
		if found != *hash {
			return Err(BlobError::Corrupt {
				hash: blob_name(hash),
				found: blob_name(&found),
			});
		}
		Ok(bytes)
	}
}
