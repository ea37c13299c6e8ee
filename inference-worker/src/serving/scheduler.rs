//! The batching loop.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::{mpsc as tokio_mpsc, Semaphore};

use super::sequence::Sequence;
use super::{GenerationRequest, GenerationStream, Metrics, ServingConfig, SubmitError};
use crate::engine::tokenizer::TextTokenizer;
use crate::engine::{BatchRow, Llama};

struct Admission {
	request: GenerationRequest,
	events: tokio_mpsc::UnboundedSender<super::GenerationEvent>,
}

/// Handle to the batching thread. Dropping it lets the thread finish the
/// requests it has and stop.
pub struct Scheduler {
	queue: Sender<Admission>,
	permits: Arc<Semaphore>,
	config: ServingConfig,
	context: usize,
	metrics: Arc<Metrics>,
	thread: Option<JoinHandle<()>>,
}

impl Scheduler {
	/// Starts the batching thread for `model`.
	pub fn start(model: Arc<Llama>, tokenizer: Arc<TextTokenizer>, config: ServingConfig) -> Self {
		let (queue, incoming) = mpsc::channel();
		let metrics = Arc::new(Metrics::default());
		let context = model.config().max_position_embeddings;
		let worker = BatchLoop {
			model,
			tokenizer,
			config,
			incoming,
			metrics: metrics.clone(),
			running: Vec::new(),
		};
		let thread = std::thread::Builder::new()
			.name("openledger-scheduler".into())
			.spawn(move || worker.run())
			.ok();
		Self {
			queue,
			permits: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
			config,
			context,
			metrics,
			thread,
		}
	}

	/// Accepts `request` unless the server is at capacity or the request
	/// cannot fit the model's context.
	pub fn submit(&self, request: GenerationRequest) -> Result<GenerationStream, SubmitError> {
		if request.prompt.is_empty() {
			return Err(SubmitError::EmptyPrompt);
		}
		if request.max_tokens == 0 {
			return Err(SubmitError::NoTokens);
		}
		if request.prompt.len() + request.max_tokens > self.context {
			return Err(SubmitError::TooLong {
				prompt: request.prompt.len(),
				max_tokens: request.max_tokens,
				context: self.context,
			});
		}
		let Ok(permit) = self.permits.clone().try_acquire_owned() else {
			self.metrics.rejected();
			return Err(SubmitError::QueueFull(self.config.max_in_flight));
		};
		let (events, receiver) = tokio_mpsc::unbounded_channel();
		let prompt_tokens = request.prompt.len();
		self.queue
			.send(Admission { request, events })
			.map_err(|_| SubmitError::Stopped)?;
		self.metrics.accepted(prompt_tokens);
		Ok(GenerationStream {
			events: receiver,
			_permit: permit,
		})
	}

	pub fn metrics(&self) -> &Arc<Metrics> {
		&self.metrics
	}

	pub fn config(&self) -> &ServingConfig {
		&self.config
	}

	/// Requests accepted and not yet finished (running or waiting).
	pub fn in_flight(&self) -> usize {
		self.config.max_in_flight.max(1) - self.permits.available_permits()
	}

	/// The model's context length in tokens.
	pub fn context_length(&self) -> usize {
		self.context
	}
}

impl Drop for Scheduler {
	fn drop(&mut self) {
		// Closing the queue ends the loop once its sequences finish.
		let (closed, _) = mpsc::channel();
		self.queue = closed;
		if let Some(thread) = self.thread.take() {
			let _ = thread.join();
		}
	}
}

struct BatchLoop {
	model: Arc<Llama>,
	tokenizer: Arc<TextTokenizer>,
	config: ServingConfig,
	incoming: Receiver<Admission>,
	metrics: Arc<Metrics>,
	running: Vec<Sequence>,
}

impl BatchLoop {
	fn run(mut self) {
		loop {
			if self.running.is_empty() {
				// Idle: sleep until a request arrives or the handle is dropped.
				match self.incoming.recv() {
					Ok(admission) => self.admit(admission),
					Err(_) => return,
				}
			}
			self.admit_waiting();
			self.drop_cancelled();
			if !self.running.is_empty() {
				self.step();
			}
			self.metrics.set_running(self.running.len());
		}
	}

	fn admit_waiting(&mut self) {
		while self.running.len() < self.config.max_batch {
			match self.incoming.try_recv() {
				Ok(admission) => self.admit(admission),
				Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
			}
		}
	}

	fn admit(&mut self, Admission { request, events }: Admission) {
		let capacity = request.prompt.len() + request.max_tokens;
		let cache = self.model.new_cache(capacity);
		let context = self.model.config().max_position_embeddings;
		self.running.push(Sequence::new(
			request,
			cache,
			context,
			events,
			self.metrics.clone(),
		));
	}

	fn drop_cancelled(&mut self) {
		let before = self.running.len();
		self.running.retain(|s| !s.is_cancelled());
		for _ in self.running.len()..before {
			self.metrics.cancelled();
		}
	}

	/// One forward pass over every sequence that has something to feed.
	fn step(&mut self) {
		let started = Instant::now();
		// Rows of one adapter next to each other make one LoRA segment.
		self.running.sort_by_key(Sequence::adapter_key);

		// Decode rows first: each costs one token. Prompts share what is
		// left of the prefill budget, in arrival order.
		let mut budget = self.config.prefill_chunk.max(1);
		let mut feeds: Vec<usize> = vec![0; self.running.len()];
		for (feed, seq) in feeds.iter_mut().zip(&self.running) {
			if seq.pending.len() == 1 {
				*feed = 1;
			}
		}
		for (feed, seq) in feeds.iter_mut().zip(&self.running) {
			if seq.pending.len() > 1 && budget > 0 {
				*feed = seq.pending.len().min(budget);
				budget -= *feed;
			}
		}

		let mut batch = Vec::new();
		let mut members = Vec::new();
		for (index, (seq, &feed)) in self.running.iter_mut().zip(&feeds).enumerate() {
			if feed == 0 {
				continue;
			}
			members.push(index);
			let lora = seq.adapter.as_ref().map(|a| &a.weights);
			batch.push(BatchRow {
				tokens: &seq.pending[..feed],
				cache: &mut seq.cache,
				lora,
			});
		}
		let rows = batch.len();
		let logits = self
			.model
			.forward(&mut batch)
			.and_then(|l| Ok(l.to_vec2::<f32>()?));
		drop(batch);

		let logits = match logits {
			Ok(logits) => logits,
			Err(e) => {
				tracing::error!(error = %e, "forward pass failed");
				for &i in members.iter().rev() {
					let seq = self.running.remove(i);
					seq.fail(&e.to_string());
				}
				return;
			},
		};

		let mut done = Vec::new();
		let mut generated = 0u64;
		for (&index, row_logits) in members.iter().zip(&logits) {
			let seq = &mut self.running[index];
			seq.pending.drain(..feeds[index]);
			if !seq.prompt_fed() || !seq.pending.is_empty() {
				continue;
			}
			let before = seq.generated();
			let outcome = seq.advance(row_logits, &self.tokenizer);
			generated += (seq.generated() - before) as u64;
			match outcome {
				Ok(None) => {},
				Ok(Some(_)) => done.push(index),
				Err(e) => {
					seq.fail(&e.to_string());
					done.push(index);
				},
			}
		}
		for &index in done.iter().rev() {
			self.running.remove(index);
		}
		self.metrics.generated(generated);
		self.metrics
			.step(rows, started.elapsed().as_micros() as u64);
	}
}
