//! Continuous batching: many requests, for many adapters, decoded together.
//!
//! A [`Scheduler`] owns the model on a thread of its own. Each step it
//! admits waiting requests, feeds every running sequence (a prompt chunk or
//! its last sampled token) through ONE forward pass — base matmuls once for
//! all rows, LoRA per adapter segment — samples, and streams text back.
//! Admission is bounded: past `max_in_flight` requests, [`Scheduler::submit`]
//! refuses with [`SubmitError::QueueFull`] so that callers see back-pressure.

mod metrics;
mod scheduler;
mod sequence;

use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit};

use crate::adapters::LoadedAdapter;
use crate::engine::sampling::SamplingParams;

pub use metrics::{Metrics, MetricsSnapshot};
pub use scheduler::Scheduler;

/// Limits of the scheduler.
#[derive(Clone, Copy, Debug)]
pub struct ServingConfig {
	/// Sequences decoded together in one forward pass.
	pub max_batch: usize,
	/// Requests accepted at once (running and waiting); more get 429.
	pub max_in_flight: usize,
	/// Prompt tokens fed per step across all sequences, so that a long
	/// prompt delays the others' next tokens by a bounded amount.
	pub prefill_chunk: usize,
}

impl Default for ServingConfig {
	fn default() -> Self {
		Self {
			max_batch: 64,
			max_in_flight: 256,
			prefill_chunk: 512,
		}
	}
}

/// One generation job.
#[derive(Clone, Debug)]
pub struct GenerationRequest {
	pub prompt: Vec<u32>,
	/// The adapter to apply, or the base model when `None`.
	pub adapter: Option<Arc<LoadedAdapter>>,
	pub sampling: SamplingParams,
	pub max_tokens: usize,
	/// Generation ends before the first occurrence of any of these.
	pub stop: Vec<String>,
}

/// Why a generation ended (OpenAI's `finish_reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinishReason {
	/// End-of-sequence token or a stop string.
	Stop,
	/// `max_tokens` or the context length was reached.
	Length,
}

impl FinishReason {
	pub fn as_str(self) -> &'static str {
		match self {
			FinishReason::Stop => "stop",
			FinishReason::Length => "length",
		}
	}
}

/// What a running generation reports.
#[derive(Clone, Debug, PartialEq)]
pub enum GenerationEvent {
	/// More text.
	Text(String),
	/// The generation ended.
	Finished {
		reason: FinishReason,
		prompt_tokens: usize,
		completion_tokens: usize,
	},
	/// The engine failed on this request.
	Failed(String),
}

/// Why a request was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubmitError {
	#[error("the server is at capacity ({0} requests in flight); retry later")]
	QueueFull(usize),
	#[error("the prompt is empty")]
	EmptyPrompt,
	#[error("the prompt ({prompt} tokens) plus max_tokens ({max_tokens}) exceeds the context length of {context}")]
	TooLong {
		prompt: usize,
		max_tokens: usize,
		context: usize,
	},
	#[error("max_tokens must be at least 1")]
	NoTokens,
	#[error("the scheduler has stopped")]
	Stopped,
}

/// The events of one accepted request. Dropping it cancels the request and
/// frees its place in the queue.
#[derive(Debug)]
pub struct GenerationStream {
	events: mpsc::UnboundedReceiver<GenerationEvent>,
	_permit: OwnedSemaphorePermit,
}

impl GenerationStream {
	/// The next event; `None` once the generation has ended.
	pub async fn next(&mut self) -> Option<GenerationEvent> {
		self.events.recv().await
	}

	/// Waits for the whole generation.
	pub async fn collect(mut self) -> Result<Completion, String> {
		let mut text = String::new();
		while let Some(event) = self.next().await {
			match event {
				GenerationEvent::Text(t) => text.push_str(&t),
				GenerationEvent::Finished {
					reason,
					prompt_tokens,
					completion_tokens,
				} => {
					return Ok(Completion {
						text,
						reason,
						prompt_tokens,
						completion_tokens,
					})
				},
				GenerationEvent::Failed(e) => return Err(e),
			}
		}
		Err("the scheduler stopped before the generation finished".into())
	}
}

/// A finished generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
	pub text: String,
	pub reason: FinishReason,
	pub prompt_tokens: usize,
	pub completion_tokens: usize,
}
