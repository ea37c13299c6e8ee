//! One running generation: its cache, what it still has to feed, and the
//! text it has produced, held back where a stop string might begin.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{FinishReason, GenerationEvent, GenerationRequest, Metrics};
use crate::adapters::LoadedAdapter;
use crate::engine::sampling::Sampler;
use crate::engine::tokenizer::{IncrementalDecoder, TextTokenizer};
use crate::engine::{KvCache, Result};

pub(crate) struct Sequence {
	pub adapter: Option<Arc<LoadedAdapter>>,
	pub cache: KvCache,
	/// Tokens not yet fed: the rest of the prompt, or the last sampled token.
	pub pending: Vec<u32>,
	prompt_len: usize,
	generated: usize,
	max_tokens: usize,
	context: usize,
	sampler: Sampler,
	decoder: IncrementalDecoder,
	stop: Vec<String>,
	held: String,
	events: mpsc::UnboundedSender<GenerationEvent>,
	metrics: Arc<Metrics>,
}

impl Sequence {
	pub fn new(
		request: GenerationRequest,
		cache: KvCache,
		context: usize,
		events: mpsc::UnboundedSender<GenerationEvent>,
		metrics: Arc<Metrics>,
	) -> Self {
		Self {
			adapter: request.adapter,
			cache,
			prompt_len: request.prompt.len(),
			pending: request.prompt,
			generated: 0,
			max_tokens: request.max_tokens,
			context,
			sampler: Sampler::new(request.sampling),
			decoder: IncrementalDecoder::default(),
			stop: request.stop.into_iter().filter(|s| !s.is_empty()).collect(),
			held: String::new(),
			events,
			metrics,
		}
	}

	/// Whether the client has gone away.
	pub fn is_cancelled(&self) -> bool {
		self.events.is_closed()
	}

	/// Whether the whole prompt has been fed, so that the last logits are
	/// for a new token.
	pub fn prompt_fed(&self) -> bool {
		self.cache.len() >= self.prompt_len
	}

	/// Identity of the adapter, to keep rows of one adapter adjacent.
	pub fn adapter_key(&self) -> usize {
		self.adapter.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize)
	}

	/// Samples from `logits`, reports the text and decides whether the
	/// sequence has finished. Returns `Some(reason)` when it has.
	pub fn advance(
		&mut self,
		logits: &[f32],
		tokenizer: &TextTokenizer,
	) -> Result<Option<FinishReason>> {
		let token = self.sampler.sample(logits);
		if tokenizer.is_eos(token) {
			return Ok(Some(self.finish(FinishReason::Stop)));
		}
		self.generated += 1;
		let delta = self.decoder.push(tokenizer, token)?;
		self.held.push_str(&delta);
		if let Some(at) = self
			.stop
			.iter()
			.filter_map(|s| self.held.find(s.as_str()))
			.min()
		{
			self.held.truncate(at);
			return Ok(Some(self.finish(FinishReason::Stop)));
		}
		let keep = self.stop_prefix_len();
		if self.held.len() > keep {
			let text: String = self.held.drain(..self.held.len() - keep).collect();
			self.send(GenerationEvent::Text(text));
		}
		if self.generated >= self.max_tokens || self.cache.len() >= self.context {
			return Ok(Some(self.finish(FinishReason::Length)));
		}
		self.pending = vec![token];
		Ok(None)
	}

	/// Reports a failure; the sequence is then dropped.
	pub fn fail(&self, message: &str) {
		self.metrics.failed();
		self.send(GenerationEvent::Failed(message.to_string()));
	}

	pub fn generated(&self) -> usize {
		self.generated
	}

	fn finish(&mut self, reason: FinishReason) -> FinishReason {
		if !self.held.is_empty() {
			let text = std::mem::take(&mut self.held);
			self.send(GenerationEvent::Text(text));
		}
		// Counted before the client can see the end.
		self.metrics.finished();
		self.send(GenerationEvent::Finished {
			reason,
			prompt_tokens: self.prompt_len,
			completion_tokens: self.generated,
		});
		reason
	}

	/// Length of the longest suffix of the held text that begins a stop
	/// string: that much must wait for the next token.
	fn stop_prefix_len(&self) -> usize {
		let mut keep = 0;
		for stop in &self.stop {
			for (i, _) in stop.char_indices().skip(1) {
				if i > keep && self.held.ends_with(&stop[..i]) {
					keep = i;
				}
			}
		}
		keep
	}

	fn send(&self, event: GenerationEvent) {
		// A closed channel means the client left; the scheduler notices
		// and drops the sequence.
		let _ = self.events.send(event);
	}
}
