//! Serving on-chain inference requests.
//!
//! A user calls `request_inference(model, worker, prompt_commitment,
//! max_fee)` and sends the prompt to the worker with the request id
//! ([`ChainWorker::serve`], `POST /v1/inferences/{id}` over HTTP). The
//! worker checks the request on chain (assigned to it, awaiting a receipt,
//! the prompt hashing to the commitment, the adapter it holds being the one
//! the request's terms name), journals the prompt, generates greedily with
//! the adapter, attributes the output, keeps the receipt file for verifiers
//! and submits the receipt. The output is capped so that its fee stays
//! within the request's `max_fee`.
//!
//! [`ChainWorker::resume`] finishes what a restart interrupted: each
//! journalled request without a submitted receipt is served again if the
//! chain still awaits it (greedy generation and attribution are
//! deterministic, so the receipt is the same), recorded as submitted if its
//! receipt is already on chain, and dropped otherwise.
//! [`ChainWorker::watch`] follows finalized blocks for the requests assigned
//! to the worker, and resumes after the node comes back.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openledger_primitives::attribution::{prompt_commitment, Method};
use openledger_primitives::{inference_fee, ContributionId, Hash, Pricing};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::journal::{Entry, Journal, JournalError, Progress};
use super::prepaid::Prepaid;
use super::verifier::Verifier;
use super::{
	Chain, ChainError, ChallengeOpened, InferenceRequested, InferenceStatus, OnChainInference,
	ReceiptSubmitted,
};
use crate::attribution::receipt::{generate_greedily, AttributedAdapter, InferenceReceipt};
use crate::engine::tokenizer::TextTokenizer;
use crate::engine::Llama;
use crate::hex::hex_hash;

/// Why a request was not served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
	#[error("inference {0} is not on chain")]
	UnknownInference(u64),
	#[error("inference {0} is assigned to another worker")]
	NotAssigned(u64),
	#[error("inference {id} is not awaiting a receipt ({status})")]
	NotAwaiting { id: u64, status: String },
	#[error("inference {0} already has this worker's receipt")]
	AlreadyServed(u64),
	#[error("the prompt does not hash to inference {0}'s prompt commitment")]
	PromptMismatch(u64),
	#[error("this worker does not serve model {0}")]
	ModelNotServed(u32),
	#[error("model {model} deploys adapter {expected}, this worker holds {held}")]
	AdapterMismatch {
		model: u32,
		expected: String,
		held: String,
	},
	#[error("inference {id}'s max_fee of {max_fee} does not cover its {tokens} prompt tokens")]
	MaxFeeTooLow {
		id: u64,
		max_fee: u128,
		tokens: usize,
	},
	#[error("the prompt of inference {0} is empty")]
	EmptyPrompt(u64),
	#[error("the prompt is empty")]
	EmptyVoucheredPrompt,
	#[error("the voucher lets {voucher} charge, not this worker ({this})")]
	VoucherForAnotherWorker { voucher: String, this: String },
	#[error("the voucher is for model {voucher}, the prompt for model {requested}")]
	VoucherForAnotherModel { voucher: u32, requested: u32 },
	#[error("the voucher's signature is not {user}'s over its {form:?} payload for this chain")]
	BadVoucherSignature {
		user: String,
		form: super::vouchers::Form,
	},
	#[error(
		"the voucher expires at block {expires_at}; this worker takes vouchers valid until at \
		 least block {earliest}, so that it can settle them"
	)]
	VoucherExpiresTooSoon { expires_at: u32, earliest: u32 },
	#[error(
		"the voucher expires at block {expires_at}, past the chain's longest voucher lifetime \
		 (block {latest})"
	)]
	VoucherLifetimeTooLong { expires_at: u32, latest: u32 },
	#[error(
		"the voucher's channel has {room} plancks of its cap left; the prompt alone costs more"
	)]
	VoucherCapReached { room: u128 },
	#[error(
		"{user} has {available} plancks of prepaid credit this worker has not charged yet; the \
		 prompt alone costs more"
	)]
	InsufficientCredit { user: String, available: u128 },
	#[error(transparent)]
	Chain(#[from] ChainError),
	#[error(transparent)]
	Journal(#[from] JournalError),
	#[error("generating or attributing inference {id} failed: {reason}")]
	Engine { id: u64, reason: String },
}

/// A served request: what was generated and what the chain charged.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Served {
	pub id: u64,
	pub model: u32,
	pub output: String,
	pub tokens_in: u32,
	pub tokens_out: u32,
	/// Plancks, as a decimal string (JSON numbers lose precision above
	/// 2^53).
	pub fee: String,
	/// What went back to the user of the maximum fee, likewise.
	pub released: String,
	/// `0x` hex.
	pub result_hash: String,
	pub scores: Vec<Score>,
	/// The block at which the receipt settles unless challenged.
	pub settle_at: u32,
}

/// One contribution's share of the attribution, in parts per million.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Score {
	pub contribution: u64,
	pub ppm: u32,
}

/// What the worker keeps of each served request for verifiers: the prompt,
/// the output and the full receipt with its tokens.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRecord {
	pub id: u64,
	pub model: u32,
	pub prompt: String,
	pub output: String,
	pub receipt: InferenceReceipt,
}

/// How the worker serves.
#[derive(Clone, Copy, Debug)]
pub struct ServiceConfig {
	pub method: Method,
	/// The most tokens generated when a request names no smaller number.
	pub max_tokens: usize,
	/// Blocks a voucher-paid inference waits, at most, before the worker
	/// settles a batch with it (sooner when a voucher is about to expire).
	pub batch_every: u32,
}

/// A worker serving on-chain requests for some models, each with its
/// adapter.
pub struct ChainWorker {
	pub(super) chain: Arc<Chain>,
	base: Arc<Llama>,
	pub(super) tokenizer: Arc<TextTokenizer>,
	pub(super) adapters: BTreeMap<u32, Arc<AttributedAdapter>>,
	pub(super) config: ServiceConfig,
	pub(super) platform_fee: u128,
	journal: Mutex<Journal>,
	receipts_dir: PathBuf,
	/// One request at a time, end to end: the engine is used by one
	/// generation, and no request can be served twice concurrently.
	pub(super) busy: Mutex<()>,
	/// Inferences paid by vouchers, until settled in batches.
	pub(super) prepaid: Prepaid,
	/// Requests seen in finalized blocks and not yet served, by id.
	requested: std::sync::Mutex<BTreeMap<u64, InferenceRequested>>,
	/// In verifier mode: re-executes others' receipts and answers
	/// challenges.
	verifier: Option<Arc<Verifier>>,
}

impl ChainWorker {
	/// A worker serving `adapters` (by model id) on `base`, keeping its
	/// journal and receipts under `state_dir`.
	pub async fn new(
		chain: Arc<Chain>,
		base: Arc<Llama>,
		tokenizer: Arc<TextTokenizer>,
		adapters: BTreeMap<u32, Arc<AttributedAdapter>>,
		config: ServiceConfig,
		state_dir: PathBuf,
	) -> Result<Self, ServeError> {
		let receipts_dir = state_dir.join("receipts");
		std::fs::create_dir_all(&receipts_dir).map_err(|source| JournalError::Io {
			path: receipts_dir.clone(),
			source,
		})?;
		let journal = Journal::open(&state_dir.join("journal.jsonl"))?;
		let platform_fee = chain.platform_fee().await?;
		let prepaid = Prepaid::open(&chain, &state_dir).await?;
		Ok(Self {
			chain,
			base,
			tokenizer,
			adapters,
			config,
			platform_fee,
			journal: Mutex::new(journal),
			receipts_dir,
			busy: Mutex::new(()),
			prepaid,
			requested: std::sync::Mutex::new(BTreeMap::new()),
			verifier: None,
		})
	}

	/// Also verifies: each receipt another worker submits for a model held
	/// here is re-executed by `verifier`, and challenges it is drawn for
	/// are answered.
	pub fn with_verifier(mut self, verifier: Arc<Verifier>) -> Self {
		self.verifier = Some(verifier);
		self
	}

	pub fn chain(&self) -> &Chain {
		&self.chain
	}

	/// The models served, by id.
	pub fn models(&self) -> impl Iterator<Item = u32> + '_ {
		self.adapters.keys().copied()
	}

	/// Checks that each model's deployed adapter is the one held, then
	/// bonds `bond` as a worker (if less is bonded) and serves each model
	/// (if not already).
	pub async fn register(&self, bond: u128) -> Result<(), ServeError> {
		for (model, adapter) in &self.adapters {
			let deployed = self
				.chain
				.current_adapter(*model)
				.await?
				.ok_or(ServeError::ModelNotServed(*model))?;
			check_adapter(
				*model,
				adapter,
				deployed.adapter_hash,
				deployed.attribution_index_root,
			)?;
		}
		self.chain.ensure_worker_bond(bond).await?;
		for model in self.adapters.keys() {
			self.chain.ensure_serving(*model).await?;
		}
		Ok(())
	}

	/// Requests seen on chain for this worker and not served yet.
	pub fn requested(&self) -> Vec<InferenceRequested> {
		self.requested
			.lock()
			.map(|requested| requested.values().cloned().collect())
			.unwrap_or_default()
	}

	/// The receipt record of a request this worker served, or one its
	/// verifier fetched to re-execute.
	pub fn receipt_record(&self, id: u64) -> Option<ReceiptRecord> {
		let own = std::fs::read_to_string(self.receipt_path(id))
			.ok()
			.and_then(|text| serde_json::from_str(&text).ok());
		own.or_else(|| self.verifier.as_ref()?.record(id))
	}

	fn receipt_path(&self, id: u64) -> PathBuf {
		self.receipts_dir.join(format!("{id}.json"))
	}

	/// Serves request `id` with `prompt`, generating at most `max_tokens`
	/// (or the configured most).
	pub async fn serve(
		&self,
		id: u64,
		prompt: &str,
		max_tokens: Option<usize>,
	) -> Result<Served, ServeError> {
		let _busy = self.busy.lock().await;
		let max_tokens = max_tokens
			.unwrap_or(self.config.max_tokens)
			.min(self.config.max_tokens);
		if let Some(Progress::Submitted { .. }) = self.journal.lock().await.progress(id) {
			return Err(ServeError::AlreadyServed(id));
		}
		let inference = self.awaiting(id).await?;
		if Hash::from(inference.prompt_commitment) != prompt_commitment(prompt) {
			return Err(ServeError::PromptMismatch(id));
		}
		self.journal.lock().await.record(Entry::Accepted {
			id,
			prompt: prompt.to_string(),
			max_tokens,
		})?;
		self.generate_and_submit(id, &inference, prompt, max_tokens)
			.await
	}

	/// Finishes the requests a restart interrupted; returns those served.
	pub async fn resume(&self) -> Result<Vec<Served>, ServeError> {
		let _busy = self.busy.lock().await;
		let pending = self.journal.lock().await.pending();
		let mut served = Vec::new();
		for (id, prompt, max_tokens) in pending {
			match self.awaiting(id).await {
				Ok(inference) => {
					tracing::info!(id, "resuming an accepted request");
					served.push(
						self.generate_and_submit(id, &inference, &prompt, max_tokens)
							.await?,
					);
				},
				Err(ServeError::NotAwaiting { .. }) | Err(ServeError::AlreadyServed(_)) => {
					let entry = match self.chain.receipt(id).await? {
						Some(receipt) => Entry::Submitted {
							id,
							result_hash: hex_hash(&receipt.result_hash),
						},
						None => Entry::Dropped {
							id,
							reason: "the chain no longer awaits its receipt".into(),
						},
					};
					tracing::info!(id, ?entry, "an accepted request was settled elsewhere");
					self.journal.lock().await.record(entry)?;
				},
				Err(ServeError::UnknownInference(_)) => {
					self.journal.lock().await.record(Entry::Dropped {
						id,
						reason: "no longer on chain (expired or settled)".into(),
					})?;
				},
				Err(other) => return Err(other),
			}
		}
		Ok(served)
	}

	/// Follows finalized blocks for requests assigned to this worker until
	/// the process ends; reconnects and resumes when the node goes away.
	pub async fn watch(self: Arc<Self>) {
		loop {
			if let Err(error) = self.follow().await {
				tracing::warn!(%error, "lost the node; reconnecting");
			}
			tokio::time::sleep(Duration::from_secs(2)).await;
			self.chain.drop_client().await;
			match self.resume().await {
				Ok(served) if !served.is_empty() => {
					tracing::info!(count = served.len(), "resumed requests after reconnecting")
				},
				Ok(_) => {},
				Err(error) => tracing::warn!(%error, "resuming after reconnecting failed"),
			}
		}
	}

	async fn follow(self: &Arc<Self>) -> Result<(), ChainError> {
		let read = |reason: String| ChainError::Read {
			what: "finalized blocks".into(),
			reason,
		};
		let client = self.chain.client().await?;
		let mut blocks = client
			.stream_blocks()
			.await
			.map_err(|e| read(e.to_string()))?;
		while let Some(block) = blocks.next().await {
			let block = block.map_err(|e| read(e.to_string()))?;
			// Requests whose serving time has passed were refunded.
			if let Ok(mut requested) = self.requested.lock() {
				requested.retain(|_, request| u64::from(request.serve_by) > block.number());
			}
			let events = block
				.at()
				.await
				.map_err(|e| read(e.to_string()))?
				.events()
				.fetch()
				.await
				.map_err(|e| read(e.to_string()))?;
			if let Some(verifier) = &self.verifier {
				for event in events.find::<ReceiptSubmitted>() {
					let id = event.map_err(|e| read(e.to_string()))?.id;
					let verifier = verifier.clone();
					tokio::spawn(async move {
						if let Err(error) = verifier.check_receipt(id).await {
							tracing::warn!(id, %error, "could not re-execute a receipt");
						}
					});
				}
				for event in events.find::<ChallengeOpened>() {
					let challenge = event.map_err(|e| read(e.to_string()))?;
					let verifier = verifier.clone();
					tokio::spawn(async move {
						if let Err(error) = verifier.answer_challenge(&challenge).await {
							tracing::warn!(id = challenge.id, %error, "could not answer a challenge");
						}
					});
				}
			}
			let now = u32::try_from(block.number()).unwrap_or(u32::MAX);
			tokio::spawn(super::prepaid::settle_in_background(self.clone(), now));
			for event in events.find::<InferenceRequested>() {
				let event = event.map_err(|e| read(e.to_string()))?;
				if event.worker != *self.chain.account() {
					continue;
				}
				tracing::info!(
					id = event.id,
					model = event.model,
					serve_by = event.serve_by,
					"inference requested; waiting for its prompt"
				);
				if let Ok(mut requested) = self.requested.lock() {
					requested.insert(event.id, event);
				}
			}
		}
		Err(read("the block subscription ended".into()))
	}

	/// The request `id` if it awaits this worker's receipt.
	async fn awaiting(&self, id: u64) -> Result<OnChainInference, ServeError> {
		let inference = self
			.chain
			.inference(id)
			.await?
			.ok_or(ServeError::UnknownInference(id))?;
		if inference.worker != *self.chain.account() {
			return Err(ServeError::NotAssigned(id));
		}
		match inference.status {
			InferenceStatus::Requested { .. } => Ok(inference),
			InferenceStatus::Receipted { .. } if self.receipt_path(id).exists() => {
				Err(ServeError::AlreadyServed(id))
			},
			status => Err(ServeError::NotAwaiting {
				id,
				status: format!("{status:?}"),
			}),
		}
	}

	async fn generate_and_submit(
		&self,
		id: u64,
		inference: &OnChainInference,
		prompt: &str,
		max_tokens: usize,
	) -> Result<Served, ServeError> {
		let model = inference.model;
		let adapter = self
			.adapters
			.get(&model)
			.cloned()
			.ok_or(ServeError::ModelNotServed(model))?;
		check_adapter(
			model,
			&adapter,
			inference.terms.adapter_hash,
			inference.terms.attribution_index_root,
		)?;
		let engine = |reason: String| ServeError::Engine { id, reason };
		let prompt_tokens = self
			.tokenizer
			.encode(prompt, true)
			.map_err(|e| engine(e.to_string()))?;
		if prompt_tokens.is_empty() {
			return Err(ServeError::EmptyPrompt(id));
		}
		let pricing = Pricing {
			per_1k_input: inference.terms.pricing.per_1k_input,
			per_1k_output: inference.terms.pricing.per_1k_output,
		};
		let cap = self.context_cap(prompt_tokens.len(), max_tokens);
		let cap = affordable_tokens(
			&pricing,
			self.platform_fee,
			inference.held,
			prompt_tokens.len(),
			cap,
		)
		.ok_or(ServeError::MaxFeeTooLow {
			id,
			max_fee: inference.held,
			tokens: prompt_tokens.len(),
		})?;

		let (receipt, output) = self
			.generate(adapter, prompt_tokens, cap)
			.await
			.map_err(engine)?;

		let record = ReceiptRecord {
			id,
			model,
			prompt: prompt.to_string(),
			output: output.clone(),
			receipt: receipt.clone(),
		};
		let path = self.receipt_path(id);
		let json = serde_json::to_vec_pretty(&record).map_err(|e| engine(e.to_string()))?;
		std::fs::write(&path, json).map_err(|source| JournalError::Io { path, source })?;

		let accepted = self.chain.submit_receipt(id, &receipt).await?;
		let result_hash = hex_hash(&accepted.result_hash);
		self.journal.lock().await.record(Entry::Submitted {
			id,
			result_hash: result_hash.clone(),
		})?;
		if let Ok(mut requested) = self.requested.lock() {
			requested.remove(&id);
		}
		tracing::info!(id, model, fee = accepted.fee, %result_hash, "receipt submitted");
		Ok(Served {
			id,
			model,
			output,
			tokens_in: super::len_u32(receipt.prompt_tokens.len()),
			tokens_out: super::len_u32(receipt.output_tokens.len()),
			fee: accepted.fee.to_string(),
			released: accepted.released.to_string(),
			result_hash,
			scores: receipt
				.scores
				.iter()
				.map(|(ContributionId(contribution), ppm)| Score {
					contribution: *contribution,
					ppm: *ppm,
				})
				.collect(),
			settle_at: accepted.settle_at,
		})
	}
}

impl ChainWorker {
	/// Generates at most `cap` tokens greedily after `prompt_tokens` with
	/// `adapter` and attributes them: the receipt and the output's text.
	/// The caller holds `busy`.
	pub(super) async fn generate(
		&self,
		adapter: Arc<AttributedAdapter>,
		prompt_tokens: Vec<u32>,
		cap: usize,
	) -> Result<(InferenceReceipt, String), String> {
		let (base, tokenizer, method) = (
			self.base.clone(),
			self.tokenizer.clone(),
			self.config.method,
		);
		let work = tokio::task::spawn_blocking(move || {
			let output = generate_greedily(&base, &adapter.lora, &tokenizer, &prompt_tokens, cap)
				.map_err(|e| e.to_string())?;
			let receipt = adapter
				.attribute(&base, method, &prompt_tokens, &output)
				.map_err(|e| e.to_string())?;
			let text = tokenizer.decode(&output).map_err(|e| e.to_string())?;
			Ok::<_, String>((receipt, text))
		});
		work.await.map_err(|e| e.to_string())?
	}

	/// The most output tokens after `prompt_tokens` the model's context
	/// leaves room for, up to `max_tokens`.
	pub(super) fn context_cap(&self, prompt_tokens: usize, max_tokens: usize) -> usize {
		let context = self.base.config().max_position_embeddings;
		max_tokens.min(context.saturating_sub(prompt_tokens))
	}
}

/// That `adapter` is the one whose hash and index root the chain names for
/// `model` (deployed, or in a request's terms).
pub(crate) fn check_adapter(
	model: u32,
	adapter: &AttributedAdapter,
	adapter_hash: [u8; 32],
	index_root: [u8; 32],
) -> Result<(), ServeError> {
	let held_root = adapter.indexes.root();
	if adapter.adapter_hash.0 == adapter_hash && held_root.0 == index_root {
		return Ok(());
	}
	Err(ServeError::AdapterMismatch {
		model,
		expected: format!(
			"{} (index {})",
			hex_hash(&adapter_hash),
			hex_hash(&index_root)
		),
		held: format!(
			"{} (index {})",
			hex_hash(&adapter.adapter_hash.0),
			hex_hash(&held_root.0)
		),
	})
}

/// The most output tokens, up to `cap`, whose fee with `prompt_tokens`
/// stays within `max_fee`; `None` when even the prompt alone costs more.
pub fn affordable_tokens(
	pricing: &Pricing<u128>,
	platform_fee: u128,
	max_fee: u128,
	prompt_tokens: usize,
	cap: usize,
) -> Option<usize> {
	let tokens_in = super::len_u32(prompt_tokens);
	let fits = |out: usize| {
		inference_fee(pricing, tokens_in, super::len_u32(out), platform_fee)
			.is_ok_and(|fee| fee <= max_fee)
	};
	if !fits(0) {
		return None;
	}
	// The fee grows with the output: the largest fitting count by bisection.
	let (mut low, mut high) = (0, cap);
	while low < high {
		let middle = low + (high - low).div_ceil(2);
		if fits(middle) {
			low = middle;
		} else {
			high = middle - 1;
		}
	}
	Some(low)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_output_is_capped_by_the_maximum_fee() {
		// 1 per prompt token, 2 per output token, platform fee 10.
		let pricing = Pricing {
			per_1k_input: 1_000,
			per_1k_output: 2_000,
		};
		assert_eq!(
			affordable_tokens(&pricing, 10, 10 + 5 + 2 * 7, 5, 64),
			Some(7)
		);
		assert_eq!(
			affordable_tokens(&pricing, 10, 10 + 5 + 2 * 7 + 1, 5, 64),
			Some(7)
		);
		assert_eq!(affordable_tokens(&pricing, 10, 1_000_000, 5, 64), Some(64));
		assert_eq!(affordable_tokens(&pricing, 10, 10 + 5, 5, 64), Some(0));
		assert_eq!(affordable_tokens(&pricing, 10, 10 + 4, 5, 64), None);
	}
}
