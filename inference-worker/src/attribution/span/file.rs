//! The span index on disk, next to the adapter it attributes for.
//!
//! One file, [`SPAN_INDEX_FILE_NAME`], integers little-endian:
//!
//! | bytes | field |
//! | --- | --- |
//! | 8 | magic `olspan\0\x01` (format version 1) |
//! | 4 | `min_span` (u32) |
//! | 8 | number of documents `d` (u64) |
//! | per document | contribution id (u64), token count `t` (u64), `t` tokens (u32 each) |
//! | 8 | suffix array length `n` (u64): tokens plus one separator per document |
//! | 4 `n` | the suffix array (u32 each) |
//! | 32 | the index root |
//!
//! The bytes from `min_span` through the last document are exactly what the
//! root hashes after its domain prefix. The suffix array is stored so that
//! loading costs a linear check instead of a sort; [`SpanIndex::read`]
//! rejects a file whose suffix array does not sort its corpus or whose root
//! does not match its documents.

use std::fs;
use std::path::{Path, PathBuf};

use openledger_primitives::{ContributionId, Hash};

use super::{suffix_array, Corpus, SpanError, SpanIndex, SpanParams};

/// The span index's file name inside an adapter directory.
pub const SPAN_INDEX_FILE_NAME: &str = "span_index.bin";

const MAGIC: &[u8; 8] = b"olspan\0\x01";

/// Appends `min_span` and the documents in the layout of the module docs.
pub(super) fn encode_documents<'a>(
	params: SpanParams,
	documents: impl Iterator<Item = (ContributionId, &'a [u32])>,
	out: &mut Vec<u8>,
) {
	out.extend_from_slice(&params.min_span.to_le_bytes());
	let documents: Vec<(ContributionId, &[u32])> = documents.collect();
	out.extend_from_slice(&(documents.len() as u64).to_le_bytes());
	for (contribution, tokens) in documents {
		out.extend_from_slice(&contribution.0.to_le_bytes());
		out.extend_from_slice(&(tokens.len() as u64).to_le_bytes());
		tokens
			.iter()
			.for_each(|token| out.extend_from_slice(&token.to_le_bytes()));
	}
}

impl SpanIndex {
	/// Writes the index into `adapter_dir` as [`SPAN_INDEX_FILE_NAME`],
	/// through a temporary file so a reader never sees half of it. Returns
	/// the file's path.
	pub fn write(&self, adapter_dir: &Path) -> Result<PathBuf, SpanError> {
		let path = adapter_dir.join(SPAN_INDEX_FILE_NAME);
		let partial = adapter_dir.join(format!("{SPAN_INDEX_FILE_NAME}.partial"));
		let io_error = |source| SpanError::Io {
			path: path.clone(),
			source,
		};
		fs::write(&partial, self.encode()).map_err(io_error)?;
		fs::rename(&partial, &path).map_err(io_error)?;
		Ok(path)
	}

	/// Reads the index that [`SpanIndex::write`] left in `adapter_dir`.
	pub fn read(adapter_dir: &Path) -> Result<Self, SpanError> {
		let path = adapter_dir.join(SPAN_INDEX_FILE_NAME);
		let bytes = fs::read(&path).map_err(|source| SpanError::Io {
			path: path.clone(),
			source,
		})?;
		decode(&bytes).map_err(|reason| SpanError::Corrupt { path, reason })
	}

	fn encode(&self) -> Vec<u8> {
		let mut out = MAGIC.to_vec();
		encode_documents(self.params, self.documents(), &mut out);
		out.extend_from_slice(&(self.suffix_array.len() as u64).to_le_bytes());
		self.suffix_array
			.iter()
			.for_each(|position| out.extend_from_slice(&position.to_le_bytes()));
		out.extend_from_slice(self.root.as_bytes());
		out
	}
}

/// The index stored in `bytes`, or why they are not one.
fn decode(bytes: &[u8]) -> Result<SpanIndex, String> {
	let mut reader = Reader { bytes };
	if reader.take(MAGIC.len())? != MAGIC {
		return Err("not a span index (wrong magic or version)".into());
	}
	let params = SpanParams {
		min_span: reader.u32()?,
	};
	let document_count = reader.u64()?;
	let mut documents = Vec::new();
	for _ in 0..document_count {
		let contribution = ContributionId(reader.u64()?);
		let tokens = reader.u32s()?;
		documents.push((contribution, tokens));
	}
	let suffixes = reader.u32s()?;
	let stored_root = Hash::from_slice(reader.take(32)?);
	if !reader.bytes.is_empty() {
		return Err(format!("{} bytes after the root", reader.bytes.len()));
	}
	let corpus = Corpus::join(
		documents
			.iter()
			.map(|(contribution, tokens)| (*contribution, tokens.as_slice())),
	)
	.map_err(|error| error.to_string())?;
	if !suffix_array::is_suffix_array_of(&suffixes, &corpus.tokens) {
		return Err("the suffix array does not sort the corpus".into());
	}
	let index =
		SpanIndex::from_parts(params, corpus, suffixes).map_err(|error| error.to_string())?;
	if index.root() != stored_root {
		return Err(format!(
			"stored root {stored_root:?} is not the root of the documents, {:?}",
			index.root()
		));
	}
	Ok(index)
}

/// Reads little-endian fields off the front of a byte slice.
struct Reader<'a> {
	bytes: &'a [u8],
}

impl<'a> Reader<'a> {
	fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
		if self.bytes.len() < len {
			return Err(format!(
				"truncated: {len} bytes wanted, {} left",
				self.bytes.len()
			));
		}
		let (head, rest) = self.bytes.split_at(len);
		self.bytes = rest;
		Ok(head)
	}

	fn u32(&mut self) -> Result<u32, String> {
		let mut word = [0u8; 4];
		word.copy_from_slice(self.take(4)?);
		Ok(u32::from_le_bytes(word))
	}

	fn u64(&mut self) -> Result<u64, String> {
		let mut word = [0u8; 8];
		word.copy_from_slice(self.take(8)?);
		Ok(u64::from_le_bytes(word))
	}

	/// A u64 count and that many u32s. The count is checked against the
	/// bytes left before anything is allocated.
	fn u32s(&mut self) -> Result<Vec<u32>, String> {
		let count = self.u64()?;
		let len = usize::try_from(count)
			.ok()
			.and_then(|count| count.checked_mul(4))
			.ok_or_else(|| format!("impossible count {count}"))?;
		Ok(self
			.take(len)?
			.chunks_exact(4)
			.map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
			.collect())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::factory::Example;

	fn examples() -> Vec<Example> {
		vec![
			Example {
				contribution: ContributionId(2),
				tokens: vec![10, 11, 12, 13, 14],
			},
			Example {
				contribution: ContributionId(5),
				tokens: vec![12, 13, 14, 15],
			},
		]
	}

	#[test]
	fn round_trips() {
		let dir = tempfile::tempdir().unwrap();
		let index = SpanIndex::build(&examples()).unwrap();
		let path = index.write(dir.path()).unwrap();
		assert_eq!(path, dir.path().join(SPAN_INDEX_FILE_NAME));
		assert_eq!(SpanIndex::read(dir.path()).unwrap(), index);
	}

	#[test]
	fn corrupt_files_are_refused() {
		let index = SpanIndex::build(&examples()).unwrap();
		let bytes = index.encode();
		assert!(decode(&bytes).is_ok());
		assert!(decode(&bytes[..bytes.len() - 1]).is_err());
		let mut extra = bytes.clone();
		extra.push(0);
		assert!(decode(&extra).is_err());
		// A token changed: the root no longer matches.
		let mut token = bytes.clone();
		token[8 + 4 + 8 + 8 + 8] ^= 1;
		assert!(decode(&token).unwrap_err().contains("root"));
		// Two suffix array entries swapped.
		let suffix_start = bytes.len() - 32 - 4 * index.suffix_array.len();
		let mut swapped = bytes.clone();
		swapped[suffix_start..suffix_start + 8].rotate_left(4);
		assert!(decode(&swapped).unwrap_err().contains("suffix array"));
		let mut magic = bytes;
		magic[7] = 2;
		assert!(decode(&magic).unwrap_err().contains("magic"));
	}
}
