//! What the worker accepted and submitted, kept across restarts.
//!
//! An append-only file of JSON lines, one [`Entry`] each, written and
//! synced before the step it records is taken further: a prompt is
//! journalled before generation starts, and a receipt as submitted once the
//! chain has finalized it. After a restart [`Journal::open`] replays the
//! file; the requests accepted but not submitted are the pending work, and
//! the chain itself says whether a receipt landed before the crash (then it
//! is not submitted again).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One line of the journal.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
	/// The user's prompt for request `id` matched its commitment.
	Accepted {
		id: u64,
		prompt: String,
		max_tokens: usize,
	},
	/// The receipt of `id` is on chain with this result hash.
	Submitted { id: u64, result_hash: String },
	/// `id` will not be served: it expired or went to another state.
	Dropped { id: u64, reason: String },
}

/// Where one request stands in the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
	/// Accepted; no receipt on record yet.
	Pending {
		prompt: String,
		max_tokens: usize,
	},
	Submitted {
		result_hash: String,
	},
	Dropped {
		reason: String,
	},
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
	#[error("journal {path}: {source}")]
	Io {
		path: PathBuf,
		source: std::io::Error,
	},
	#[error("journal {path}, line {line}: {reason}")]
	Corrupt {
		path: PathBuf,
		line: usize,
		reason: String,
	},
}

/// An append-only file of JSON lines, each synced to disk before
/// [`LineLog::append`] returns. The worker's journal and its voucher ledger
/// are kept in one each.
pub(crate) struct LineLog {
	path: PathBuf,
	file: File,
}

impl LineLog {
	/// Opens (or creates) the file at `path` and reads its entries back. A
	/// torn last line (a crash mid-write) is cut off; any other bad line is
	/// an error.
	pub(crate) fn open<E: DeserializeOwned>(path: &Path) -> Result<(Self, Vec<E>), JournalError> {
		let io = |source| JournalError::Io {
			path: path.to_path_buf(),
			source,
		};
		let text = if path.exists() {
			std::fs::read_to_string(path).map_err(io)?
		} else {
			String::new()
		};
		let mut entries = Vec::new();
		// Bytes up to the end of the last whole entry.
		let mut good = 0;
		let lines: Vec<&str> = text.split_inclusive('\n').collect();
		for (number, line) in lines.iter().enumerate() {
			let whole = line.ends_with('\n');
			let last = number + 1 == lines.len();
			match serde_json::from_str::<E>(line.trim()) {
				_ if line.trim().is_empty() => {},
				Ok(entry) if whole => entries.push(entry),
				Err(e) if !last => {
					return Err(JournalError::Corrupt {
						path: path.to_path_buf(),
						line: number + 1,
						reason: e.to_string(),
					})
				},
				// A torn last line: the worker stopped while writing it.
				_ => break,
			}
			good += line.len();
		}
		let file = OpenOptions::new()
			.create(true)
			.append(true)
			.open(path)
			.map_err(io)?;
		// Cut a torn last line, so that the next entry starts a line of its own.
		file.set_len(good as u64).map_err(io)?;
		let log = Self {
			path: path.to_path_buf(),
			file,
		};
		Ok((log, entries))
	}

	/// Appends `entry` and syncs it to disk before returning.
	pub(crate) fn append<E: Serialize>(&mut self, entry: &E) -> Result<(), JournalError> {
		let io = |source| JournalError::Io {
			path: self.path.clone(),
			source,
		};
		let mut line = serde_json::to_string(entry).map_err(|e| JournalError::Corrupt {
			path: self.path.clone(),
			line: 0,
			reason: e.to_string(),
		})?;
		line.push('\n');
		self.file.write_all(line.as_bytes()).map_err(io)?;
		self.file.sync_data().map_err(io)
	}
}

/// The journal file and its replayed state.
pub struct Journal {
	log: LineLog,
	state: BTreeMap<u64, Progress>,
}

impl Journal {
	/// Opens (or creates) the journal at `path` and replays it. A torn last
	/// line (a crash mid-write) is ignored; any other bad line is an error.
	pub fn open(path: &Path) -> Result<Self, JournalError> {
		let (log, entries) = LineLog::open(path)?;
		let mut state = BTreeMap::new();
		for entry in entries {
			apply(&mut state, entry);
		}
		Ok(Self { log, state })
	}

	/// Appends `entry` and syncs it to disk before returning.
	pub fn record(&mut self, entry: Entry) -> Result<(), JournalError> {
		self.log.append(&entry)?;
		apply(&mut self.state, entry);
		Ok(())
	}

	pub fn progress(&self, id: u64) -> Option<&Progress> {
		self.state.get(&id)
	}

	/// Requests accepted and not yet submitted or dropped, by id.
	pub fn pending(&self) -> Vec<(u64, String, usize)> {
		self.state
			.iter()
			.filter_map(|(id, progress)| match progress {
				Progress::Pending { prompt, max_tokens } => {
					Some((*id, prompt.clone(), *max_tokens))
				},
				_ => None,
			})
			.collect()
	}
}

fn apply(state: &mut BTreeMap<u64, Progress>, entry: Entry) {
	match entry {
		Entry::Accepted {
			id,
			prompt,
			max_tokens,
		} => {
			state.insert(id, Progress::Pending { prompt, max_tokens });
		},
		Entry::Submitted { id, result_hash } => {
			state.insert(id, Progress::Submitted { result_hash });
		},
		Entry::Dropped { id, reason } => {
			state.insert(id, Progress::Dropped { reason });
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_reopened_journal_knows_what_is_pending_and_ignores_a_torn_line() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("journal.jsonl");
		let mut journal = Journal::open(&path).unwrap();
		for id in [1, 2, 3] {
			journal
				.record(Entry::Accepted {
					id,
					prompt: format!("prompt {id}"),
					max_tokens: 8,
				})
				.unwrap();
		}
		journal
			.record(Entry::Submitted {
				id: 1,
				result_hash: "0x01".into(),
			})
			.unwrap();
		journal
			.record(Entry::Dropped {
				id: 3,
				reason: "expired".into(),
			})
			.unwrap();
		drop(journal);
		// A crash in the middle of the next line.
		let mut file = OpenOptions::new().append(true).open(&path).unwrap();
		file.write_all(b"{\"submitted\":{\"id\":2,\"res").unwrap();
		drop(file);

		let mut journal = Journal::open(&path).unwrap();
		assert_eq!(journal.pending(), vec![(2, "prompt 2".to_string(), 8)]);
		assert_eq!(
			journal.progress(1),
			Some(&Progress::Submitted {
				result_hash: "0x01".into()
			})
		);
		assert_eq!(
			journal.progress(3),
			Some(&Progress::Dropped {
				reason: "expired".into()
			})
		);
		// The torn line was cut: the next entry reads back.
		journal
			.record(Entry::Submitted {
				id: 2,
				result_hash: "0x02".into(),
			})
			.unwrap();
		drop(journal);
		assert!(Journal::open(&path).unwrap().pending().is_empty());
	}

	#[test]
	fn a_bad_line_before_the_last_is_an_error() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("journal.jsonl");
		std::fs::write(
			&path,
			"not json\n{\"dropped\":{\"id\":1,\"reason\":\"x\"}}\n",
		)
		.unwrap();
		let error = Journal::open(&path).err().unwrap();
		assert!(
			matches!(error, JournalError::Corrupt { line: 1, .. }),
			"{error}"
		);
	}
}
