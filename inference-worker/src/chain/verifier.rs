//! Verifier mode: re-executing other workers' receipts.
//!
//! Receipts are deterministic (greedy decoding, fixed-point attribution with
//! fixed seeds), so a worker holding the same base model and adapter
//! reproduces an honest receipt's result hash exactly. A [`Verifier`]
//! follows the receipts submitted for the models it holds:
//!
//! - **A new receipt** by another worker ([`Verifier::check_receipt`]): it
//!   gets the request's prompt from the receipt record that worker (or any
//!   configured peer) serves at `GET /v1/inferences/{id}/receipt`, accepting
//!   only a prompt that hashes to the request's on-chain commitment. It
//!   tokenizes the prompt, generates the receipt's `tokens_out` tokens
//!   greedily with the adapter the request's terms name, attributes them by
//!   the receipt's method and compares the result hash with the chain's.
//!   When they differ it calls `challenge` with its own.
//! - **A challenge it is drawn for** ([`Verifier::answer_challenge`]): it
//!   recomputes the same way and calls `submit_verdict` with its result
//!   hash.
//!
//! Records it fetched are kept under the state directory and served beside
//! the worker's own, so that the verifiers drawn for its challenge can get
//! the prompt from the challenger when the accused worker withholds it.
//! Re-executions run one at a time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use openledger_primitives::attribution::{prompt_commitment, Method};
use openledger_primitives::Hash;
use tokio::sync::Mutex;

use super::service::{check_adapter, ReceiptRecord, ServeError};
use super::{Chain, ChainError, ChallengeOpened, InferenceStatus, OnChainInference};
use crate::attribution::receipt::{generate_greedily, AttributedAdapter};
use crate::engine::tokenizer::TextTokenizer;
use crate::engine::Llama;
use crate::hex::hex_hash;
use crate::peer::PeerClient;

/// Why a receipt could not be re-executed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
	#[error("inference {0} has no receipt on chain")]
	NoReceipt(u64),
	#[error("no peer serves a record of inference {0} whose prompt matches its commitment")]
	NoRecord(u64),
	#[error(transparent)]
	Chain(#[from] ChainError),
	#[error(transparent)]
	Adapter(#[from] ServeError),
	#[error("re-executing inference {id} failed: {reason}")]
	Engine { id: u64, reason: String },
	#[error("cannot keep the record of inference {id}: {reason}")]
	Io { id: u64, reason: String },
}

/// A receipt recomputed: the chain's result hash and the honest one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recomputed {
	pub id: u64,
	pub model: u32,
	pub method: Method,
	pub on_chain: Hash,
	pub honest: Hash,
}

impl Recomputed {
	pub fn matches(&self) -> bool {
		self.on_chain == self.honest
	}
}

/// Re-executes receipts of the models it holds adapters for.
pub struct Verifier {
	chain: Arc<Chain>,
	base: Arc<Llama>,
	tokenizer: Arc<TextTokenizer>,
	adapters: BTreeMap<u32, Arc<AttributedAdapter>>,
	/// Base URLs (`http://host:port`) of the workers asked for records.
	peers: Vec<String>,
	records_dir: PathBuf,
	http: PeerClient,
	/// One re-execution at a time.
	busy: Mutex<()>,
}

impl Verifier {
	/// A verifier of `adapters` (by model id) on `base`, asking `peers` for
	/// receipt records and keeping those it fetched under `state_dir`.
	pub fn new(
		chain: Arc<Chain>,
		base: Arc<Llama>,
		tokenizer: Arc<TextTokenizer>,
		adapters: BTreeMap<u32, Arc<AttributedAdapter>>,
		peers: Vec<String>,
		state_dir: PathBuf,
	) -> std::io::Result<Self> {
		let records_dir = state_dir.join("verified");
		std::fs::create_dir_all(&records_dir)?;
		Ok(Self {
			chain,
			base,
			tokenizer,
			adapters,
			peers: peers
				.into_iter()
				.map(|peer| peer.trim_end_matches('/').to_string())
				.collect(),
			records_dir,
			http: PeerClient::default(),
			busy: Mutex::new(()),
		})
	}

	/// A record this verifier fetched for inference `id`.
	pub fn record(&self, id: u64) -> Option<ReceiptRecord> {
		let text = std::fs::read_to_string(self.record_path(id)).ok()?;
		serde_json::from_str(&text).ok()
	}

	fn record_path(&self, id: u64) -> PathBuf {
		self.records_dir.join(format!("{id}.json"))
	}

	/// Re-executes the receipt of inference `id`: `None` when it is for a
	/// model this verifier holds no adapter for, or for an adapter other
	/// than the one it holds.
	pub async fn recompute(&self, id: u64) -> Result<Option<Recomputed>, VerifyError> {
		let Some(inference) = self.chain.inference(id).await? else {
			return Err(VerifyError::NoReceipt(id));
		};
		self.recompute_inference(id, inference).await
	}

	async fn recompute_inference(
		&self,
		id: u64,
		inference: OnChainInference,
	) -> Result<Option<Recomputed>, VerifyError> {
		let _busy = self.busy.lock().await;
		let Some(adapter) = self.adapters.get(&inference.model).cloned() else {
			return Ok(None);
		};
		if let Err(mismatch) = check_adapter(
			inference.model,
			&adapter,
			inference.terms.adapter_hash,
			inference.terms.attribution_index_root,
		) {
			tracing::info!(id, %mismatch, "not re-executing a receipt for another adapter");
			return Ok(None);
		}
		let receipt = self
			.chain
			.receipt(id)
			.await?
			.ok_or(VerifyError::NoReceipt(id))?;
		let commitment = Hash::from(inference.prompt_commitment);
		let record = self.find_record(id, &commitment).await?;

		let (base, tokenizer) = (self.base.clone(), self.tokenizer.clone());
		let method = Method::from(receipt.method);
		let tokens_out = usize::try_from(receipt.tokens_out).unwrap_or(usize::MAX);
		let work = tokio::task::spawn_blocking(move || {
			let prompt = tokenizer
				.encode(&record.prompt, true)
				.map_err(|e| e.to_string())?;
			let output = generate_greedily(&base, &adapter.lora, &tokenizer, &prompt, tokens_out)
				.map_err(|e| e.to_string())?;
			adapter
				.attribute(&base, method, &prompt, &output)
				.map_err(|e| e.to_string())
		});
		let engine = |reason: String| VerifyError::Engine { id, reason };
		let honest = work
			.await
			.map_err(|e| engine(e.to_string()))?
			.map_err(engine)?;
		Ok(Some(Recomputed {
			id,
			model: inference.model,
			method,
			on_chain: Hash::from(receipt.result_hash),
			honest: honest.result_hash,
		}))
	}

	/// Re-executes the receipt another worker submitted for inference `id`
	/// and challenges it when the result hash is not the honest one.
	/// Returns the recomputation, if the receipt was one to check.
	pub async fn check_receipt(&self, id: u64) -> Result<Option<Recomputed>, VerifyError> {
		let Some(inference) = self.chain.inference(id).await? else {
			return Err(VerifyError::NoReceipt(id));
		};
		if inference.worker == *self.chain.account() {
			return Ok(None);
		}
		let Some(recomputed) = self.recompute_inference(id, inference).await? else {
			return Ok(None);
		};
		if recomputed.matches() {
			tracing::info!(id, result_hash = %hex_hash(&recomputed.honest.0), "receipt re-executed: it holds");
			return Ok(Some(recomputed));
		}
		// Another verifier may have challenged it meanwhile.
		let still_open = matches!(
			self.chain.inference(id).await?.map(|i| i.status),
			Some(InferenceStatus::Receipted { .. })
		);
		if still_open {
			tracing::warn!(
				id,
				on_chain = %hex_hash(&recomputed.on_chain.0),
				honest = %hex_hash(&recomputed.honest.0),
				"receipt re-executed: it is wrong; challenging"
			);
			self.chain.challenge(id, &recomputed.honest).await?;
		}
		Ok(Some(recomputed))
	}

	/// Answers `challenge` with a re-execution if this worker is one of its
	/// verifiers.
	pub async fn answer_challenge(
		&self,
		challenge: &ChallengeOpened,
	) -> Result<Option<Recomputed>, VerifyError> {
		if !challenge.verifiers.contains(self.chain.account()) {
			return Ok(None);
		}
		let Some(recomputed) = self.recompute(challenge.id).await? else {
			return Ok(None);
		};
		tracing::info!(
			id = challenge.id,
			upholds = recomputed.matches(),
			"drawn as a verifier; submitting the verdict"
		);
		self.chain
			.submit_verdict(challenge.id, &recomputed.honest)
			.await?;
		Ok(Some(recomputed))
	}

	/// The record of inference `id` whose prompt hashes to `commitment`:
	/// the one kept, else the first peer's that does.
	async fn find_record(&self, id: u64, commitment: &Hash) -> Result<ReceiptRecord, VerifyError> {
		let fits = |record: &ReceiptRecord| {
			record.id == id && prompt_commitment(&record.prompt) == *commitment
		};
		if let Some(record) = self.record(id).filter(fits) {
			return Ok(record);
		}
		for peer in &self.peers {
			match self.fetch_record(peer, id).await {
				Ok(record) if fits(&record) => {
					self.keep(&record)?;
					return Ok(record);
				},
				Ok(_) => {
					tracing::warn!(id, %peer, "a peer's record does not match the prompt commitment")
				},
				Err(reason) => tracing::debug!(id, %peer, %reason, "no record from a peer"),
			}
		}
		Err(VerifyError::NoRecord(id))
	}

	async fn fetch_record(&self, peer: &str, id: u64) -> Result<ReceiptRecord, String> {
		let url = format!("{peer}/v1/inferences/{id}/receipt");
		let body = self.http.get(&url).await.map_err(|e| e.to_string())?;
		serde_json::from_slice(&body).map_err(|e| format!("{url}: not a receipt record: {e}"))
	}

	fn keep(&self, record: &ReceiptRecord) -> Result<(), VerifyError> {
		let io = |reason: String| VerifyError::Io {
			id: record.id,
			reason,
		};
		let json = serde_json::to_vec_pretty(record).map_err(|e| io(e.to_string()))?;
		std::fs::write(self.record_path(record.id), json).map_err(|e| io(e.to_string()))
	}
}
