//! The adapters a worker knows, and which of them are resident.
//!
//! Adapters are registered by name and path; their weights are loaded just
//! in time when a request names them and kept in an LRU cache bounded by a
//! byte budget. A request holds its adapter by `Arc`, so an adapter evicted
//! (or unloaded) mid-request stays valid until that request ends.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::peft::{load_peft_adapter, LoadedAdapter, ADAPTER_CONFIG_FILE};
use super::{AdapterError, AdapterLimits, BaseModelInfo};

/// A registered adapter, as listed to clients.
#[derive(Clone, Debug)]
pub struct AdapterInfo {
	pub name: String,
	pub path: PathBuf,
	/// Whether its weights are in memory now.
	pub resident: bool,
}

/// Counters for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegistryStats {
	pub registered: usize,
	pub resident: usize,
	pub resident_bytes: usize,
	pub budget_bytes: usize,
	pub hits: u64,
	pub loads: u64,
	pub evictions: u64,
	pub load_seconds_total: f64,
}

#[derive(Default)]
struct State {
	known: BTreeMap<String, PathBuf>,
	resident: HashMap<String, Resident>,
	resident_bytes: usize,
	clock: u64,
}

struct Resident {
	adapter: Arc<LoadedAdapter>,
	last_used: u64,
}

/// Registered adapters and the LRU cache of their weights.
pub struct AdapterRegistry {
	base: BaseModelInfo,
	limits: AdapterLimits,
	state: Mutex<State>,
	hits: AtomicU64,
	loads: AtomicU64,
	evictions: AtomicU64,
	load_micros: AtomicU64,
}

impl AdapterRegistry {
	pub fn new(base: BaseModelInfo, limits: AdapterLimits) -> Self {
		Self {
			base,
			limits,
			state: Mutex::default(),
			hits: AtomicU64::new(0),
			loads: AtomicU64::new(0),
			evictions: AtomicU64::new(0),
			load_micros: AtomicU64::new(0),
		}
	}

	pub fn base(&self) -> &BaseModelInfo {
		&self.base
	}

	pub fn limits(&self) -> AdapterLimits {
		self.limits
	}

	fn state(&self) -> MutexGuard<'_, State> {
		// A panic while holding the lock leaves plain maps behind, which
		// are still consistent enough to keep serving.
		self.state
			.lock()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Loads the adapter at `path` now, validating it, and registers it
	/// as `name`. With `replace`, an adapter of the same name is swapped
	/// out (hot reload); otherwise that is an error.
	pub fn load(
		&self,
		name: &str,
		path: &Path,
		replace: bool,
	) -> Result<Arc<LoadedAdapter>, AdapterError> {
		self.check_name(name)?;
		if !replace && self.state().known.contains_key(name) {
			return Err(AdapterError::AlreadyLoaded(name.to_string()));
		}
		let adapter = Arc::new(self.read(name, path)?);
		let mut state = self.state();
		if !replace && state.known.contains_key(name) {
			return Err(AdapterError::AlreadyLoaded(name.to_string()));
		}
		state.known.insert(name.to_string(), path.to_path_buf());
		self.make_resident(&mut state, adapter.clone());
		Ok(adapter)
	}

	/// Registers `name` without reading it; it is loaded when first used.
	pub fn register_lazy(&self, name: &str, path: &Path) -> Result<(), AdapterError> {
		self.check_name(name)?;
		let mut state = self.state();
		if state.known.contains_key(name) {
			return Err(AdapterError::AlreadyLoaded(name.to_string()));
		}
		state.known.insert(name.to_string(), path.to_path_buf());
		Ok(())
	}

	/// Registers, lazily, every subdirectory of `dir` that holds an
	/// `adapter_config.json`, under the subdirectory's name.
	pub fn discover(&self, dir: &Path) -> Result<usize, AdapterError> {
		let entries = std::fs::read_dir(dir).map_err(|source| AdapterError::Io {
			path: dir.into(),
			source,
		})?;
		let mut found = 0;
		for entry in entries.flatten() {
			let path = entry.path();
			if !path.join(ADAPTER_CONFIG_FILE).is_file() {
				continue;
			}
			if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
				self.register_lazy(name, &path)?;
				found += 1;
			}
		}
		Ok(found)
	}

	/// Forgets `name` and drops its weights (requests using it finish).
	pub fn unload(&self, name: &str) -> Result<(), AdapterError> {
		let mut state = self.state();
		if state.known.remove(name).is_none() {
			return Err(AdapterError::NotFound(name.to_string()));
		}
		if let Some(resident) = state.resident.remove(name) {
			state.resident_bytes -= resident.adapter.bytes;
		}
		Ok(())
	}

	/// The adapter's weights, loading them if they are not resident.
	pub fn acquire(&self, name: &str) -> Result<Arc<LoadedAdapter>, AdapterError> {
		let path = {
			let mut state = self.state();
			state.clock += 1;
			let now = state.clock;
			if let Some(resident) = state.resident.get_mut(name) {
				resident.last_used = now;
				self.hits.fetch_add(1, Ordering::Relaxed);
				return Ok(resident.adapter.clone());
			}
			state
				.known
				.get(name)
				.cloned()
				.ok_or_else(|| AdapterError::NotFound(name.to_string()))?
		};
		// Read outside the lock: other adapters stay available meanwhile.
		let adapter = Arc::new(self.read(name, &path)?);
		let mut state = self.state();
		if let Some(resident) = state.resident.get(name) {
			return Ok(resident.adapter.clone());
		}
		if state.known.get(name) == Some(&path) {
			self.make_resident(&mut state, adapter.clone());
		}
		Ok(adapter)
	}

	pub fn is_registered(&self, name: &str) -> bool {
		self.state().known.contains_key(name)
	}

	pub fn list(&self) -> Vec<AdapterInfo> {
		let state = self.state();
		state
			.known
			.iter()
			.map(|(name, path)| AdapterInfo {
				name: name.clone(),
				path: path.clone(),
				resident: state.resident.contains_key(name),
			})
			.collect()
	}

	pub fn stats(&self) -> RegistryStats {
		let state = self.state();
		RegistryStats {
			registered: state.known.len(),
			resident: state.resident.len(),
			resident_bytes: state.resident_bytes,
			budget_bytes: self.limits.cache_bytes,
			hits: self.hits.load(Ordering::Relaxed),
			loads: self.loads.load(Ordering::Relaxed),
			evictions: self.evictions.load(Ordering::Relaxed),
			load_seconds_total: self.load_micros.load(Ordering::Relaxed) as f64 / 1e6,
		}
	}

	fn check_name(&self, name: &str) -> Result<(), AdapterError> {
		let invalid = |reason| {
			Err(AdapterError::InvalidName {
				name: name.to_string(),
				reason,
			})
		};
		if name.is_empty() || name.len() > 256 {
			return invalid("it must have 1 to 256 characters");
		}
		if name.chars().any(char::is_control) {
			return invalid("it must not contain control characters");
		}
		if name == self.base.id {
			return invalid("it is the base model's id");
		}
		Ok(())
	}

	fn read(&self, name: &str, path: &Path) -> Result<LoadedAdapter, AdapterError> {
		let adapter = load_peft_adapter(name, path, &self.base, &self.limits)?;
		if adapter.bytes > self.limits.cache_bytes {
			return Err(AdapterError::TooLarge {
				needed: adapter.bytes,
				budget: self.limits.cache_bytes,
			});
		}
		self.loads.fetch_add(1, Ordering::Relaxed);
		self.load_micros
			.fetch_add(adapter.load_time.as_micros() as u64, Ordering::Relaxed);
		tracing::info!(
			adapter = name,
			rank = adapter.max_rank,
			bytes = adapter.bytes,
			ms = adapter.load_time.as_millis() as u64,
			"adapter loaded"
		);
		Ok(adapter)
	}

	/// Inserts `adapter` as most recently used and evicts the least recently
	/// used others until the budget holds.
	fn make_resident(&self, state: &mut State, adapter: Arc<LoadedAdapter>) {
		state.clock += 1;
		let now = state.clock;
		if let Some(old) = state.resident.remove(&adapter.name) {
			state.resident_bytes -= old.adapter.bytes;
		}
		state.resident_bytes += adapter.bytes;
		let name = adapter.name.clone();
		state.resident.insert(
			name.clone(),
			Resident {
				adapter,
				last_used: now,
			},
		);
		while state.resident_bytes > self.limits.cache_bytes {
			let victim = state
				.resident
				.iter()
				.filter(|(n, _)| **n != name)
				.min_by_key(|(_, r)| r.last_used)
				.map(|(n, _)| n.clone());
			let Some(victim) = victim else { break };
			if let Some(evicted) = state.resident.remove(&victim) {
				state.resident_bytes -= evicted.adapter.bytes;
				self.evictions.fetch_add(1, Ordering::Relaxed);
				tracing::debug!(adapter = %victim, "adapter evicted");
			}
		}
	}
}
