//! Per-sequence key/value caches.
//!
//! On the CPU the cache is plain memory that the attention kernel appends to
//! and reads without going through tensor ops; on other devices it is a pair
//! of device tensors per layer.

use candle_core::{Device, Tensor};

use super::ModelConfig;

/// The keys and values one sequence has seen so far, for every layer.
#[derive(Debug)]
pub enum KvCache {
	Host(HostKv),
	Device(DeviceKv),
}

impl KvCache {
	/// An empty cache for `config` on `device`, with room reserved for
	/// `capacity` tokens where the storage allows it.
	pub fn new(config: &ModelConfig, device: &Device, capacity: usize) -> Self {
		let row = config.kv_dim();
		if device.is_cpu() {
			let layer = || {
				(
					Vec::with_capacity(capacity * row),
					Vec::with_capacity(capacity * row),
				)
			};
			KvCache::Host(HostKv {
				layers: (0..config.num_hidden_layers).map(|_| layer()).collect(),
				len: 0,
				row,
			})
		} else {
			KvCache::Device(DeviceKv {
				layers: vec![None; config.num_hidden_layers],
				len: 0,
			})
		}
	}

	/// Tokens cached so far.
	pub fn len(&self) -> usize {
		match self {
			KvCache::Host(c) => c.len,
			KvCache::Device(c) => c.len,
		}
	}

	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	/// Bytes the cached keys and values occupy.
	pub fn size_in_bytes(&self) -> usize {
		match self {
			KvCache::Host(c) => c.layers.iter().map(|(k, v)| (k.len() + v.len()) * 4).sum(),
			KvCache::Device(c) => c
				.layers
				.iter()
				.flatten()
				.map(|(k, v)| (k.elem_count() + v.elem_count()) * k.dtype().size_in_bytes())
				.sum(),
		}
	}

	/// Records that a forward pass appended `tokens` positions in every layer.
	pub(crate) fn advance(&mut self, tokens: usize) {
		match self {
			KvCache::Host(c) => c.len += tokens,
			KvCache::Device(c) => c.len += tokens,
		}
	}
}

/// CPU cache: per layer, keys and values as `[tokens, kv_heads, head_dim]`.
#[derive(Debug)]
pub struct HostKv {
	pub(crate) layers: Vec<(Vec<f32>, Vec<f32>)>,
	pub(crate) len: usize,
	/// Floats per token per layer: `kv_heads · head_dim`.
	pub(crate) row: usize,
}

/// Device cache: per layer, keys and values as `[kv_heads, tokens, head_dim]`.
#[derive(Debug)]
pub struct DeviceKv {
	pub(crate) layers: Vec<Option<(Tensor, Tensor)>>,
	pub(crate) len: usize,
}
