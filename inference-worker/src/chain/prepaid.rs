//! Serving inferences paid by vouchers and settling them in batches (see
//! [`super::vouchers`] for the ledger and the batch's layout).
//!
//! [`ChainWorker::serve_vouchered`] takes a prompt with a signed voucher
//! (`POST /v1/vouchered`): it checks the voucher as the chain will (this
//! worker, this model, the user's signature, an expiry it can still settle
//! before) and what is left to charge (the channel's cap less what the
//! chain and the ledger have charged on it, and the user's spendable credit
//! less what this worker charged and has not settled), caps the output so
//! its fee fits, generates and attributes it, keeps the record, and
//! records the charge before answering.
//!
//! [`ChainWorker::settle_vouchers`] runs on each finalized block: it first
//! resolves a batch whose outcome is unknown, drops charges whose voucher
//! expires before a batch could land, and once a model's oldest charge has
//! waited `batch_every` blocks (or a voucher is about to expire) submits
//! the next batch of it: charges beyond the channel's cap on chain are
//! dropped, those the user's credit does not cover yet wait, and
//! contributions no longer accepted are left out of the scores.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openledger_primitives::attribution::prompt_commitment;
use openledger_primitives::{inference_fee, ContributionId, Pricing};
use serde::{Deserialize, Serialize};
use subxt::utils::AccountId32;
use tokio::sync::Mutex;

use super::journal::JournalError;
use super::service::{
	affordable_tokens, check_adapter, ChainWorker, ReceiptRecord, Score, ServeError,
};
use super::vouchers::{
	plan_batch, BatchLimits, Charge, LedgerEntry, Settling, SignedVoucher, VoucherLedger,
};
use super::{BatchSettled, Chain, ChainError};
use crate::hex::hex_hash;

/// Blocks between the finalized block a batch is planned at and the block
/// it may land in: a voucher expiring within them is not settled.
const SETTLE_MARGIN: u32 = 5;

/// Blocks a settlement transaction stays valid (subxt's default
/// mortality): after them, one that did not land never will.
const TX_MORTALITY: u32 = 32;

/// The worker's voucher state.
pub(crate) struct Prepaid {
	ledger: Mutex<VoucherLedger>,
	records_dir: PathBuf,
	genesis: [u8; 32],
	limits: BatchLimits,
	max_lifetime: u32,
	/// One settlement at a time.
	settling: Mutex<()>,
	/// No batch is tried before this block after one failed.
	retry_at: std::sync::atomic::AtomicU32,
}

impl Prepaid {
	pub(crate) async fn open(chain: &Chain, state_dir: &Path) -> Result<Self, ServeError> {
		let records_dir = state_dir.join("vouchered");
		std::fs::create_dir_all(&records_dir).map_err(|source| JournalError::Io {
			path: records_dir.clone(),
			source,
		})?;
		let ledger = VoucherLedger::open(&state_dir.join("vouchers.jsonl"))?;
		let max_users: u32 = chain.constant("Attribution", "MaxBatch").await?;
		let max_contributors: u32 = chain
			.constant("Attribution", "MaxBatchContributors")
			.await?;
		Ok(Self {
			ledger: Mutex::new(ledger),
			records_dir,
			genesis: chain.genesis_hash().await?,
			limits: BatchLimits {
				max_users: max_users as usize,
				max_contributors: max_contributors as usize,
			},
			max_lifetime: chain.constant("Attribution", "MaxVoucherLifetime").await?,
			settling: Mutex::new(()),
			retry_at: std::sync::atomic::AtomicU32::new(0),
		})
	}

	fn record_path(&self, seq: u64) -> PathBuf {
		self.records_dir.join(format!("{seq}.json"))
	}
}

/// A prompt paid by a voucher.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields)]
pub struct VoucheredRequest {
	pub model: u32,
	pub prompt: String,
	#[serde(default)]
	pub max_tokens: Option<usize>,
	pub voucher: SignedVoucher,
}

/// A voucher-paid inference served: what was generated and charged.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct VoucheredServed {
	/// The worker's number for it; its record is at
	/// `GET /v1/vouchered/{seq}`.
	pub seq: u64,
	pub model: u32,
	pub output: String,
	pub tokens_in: u32,
	pub tokens_out: u32,
	/// Plancks, as a decimal string.
	pub fee: String,
	/// What the voucher's channel has been charged in all, this inference
	/// included (settled or not), likewise.
	pub channel_charged: String,
	/// `0x` hex: the hash a receipt of this inference would carry.
	pub result_hash: String,
	pub scores: Vec<Score>,
	/// The block by which the worker means to have settled it.
	pub settle_by: u32,
}

/// What the worker has charged against vouchers and not settled.
#[derive(Serialize, Clone, Debug)]
pub struct VoucherSummary {
	pub pending: Vec<PendingCharge>,
	/// The seqs of the batch whose outcome is not known yet.
	pub settling: Vec<u64>,
}

#[derive(Serialize, Clone, Debug)]
pub struct PendingCharge {
	pub seq: u64,
	pub user: String,
	pub model: u32,
	pub fee: String,
	pub expires_at: u32,
}

impl ChainWorker {
	/// Serves `request`, charging its voucher.
	pub async fn serve_vouchered(
		&self,
		request: VoucheredRequest,
	) -> Result<VoucheredServed, ServeError> {
		let _busy = self.busy.lock().await;
		let VoucheredRequest {
			model,
			prompt,
			max_tokens,
			voucher,
		} = request;
		let adapter = self
			.adapters
			.get(&model)
			.cloned()
			.ok_or(ServeError::ModelNotServed(model))?;
		let now = self.chain.finalized_number().await?;
		self.check_voucher(&voucher, model, now)?;
		let deployed = self
			.chain
			.current_adapter(model)
			.await?
			.ok_or(ServeError::ModelNotServed(model))?;
		check_adapter(
			model,
			&adapter,
			deployed.adapter_hash,
			deployed.attribution_index_root,
		)?;
		let pricing = self
			.chain
			.model_pricing(model)
			.await?
			.ok_or(ServeError::ModelNotServed(model))?;
		let pricing = Pricing {
			per_1k_input: pricing.per_1k_input,
			per_1k_output: pricing.per_1k_output,
		};

		// Read under the ledger's lock: a batch landing meanwhile moves its
		// charges from the ledger to the chain only once the lock is free,
		// so they are counted at least once. (Serving is one at a time, so no
		// other charge comes in before this one is recorded.)
		let ledger = self.prepaid.ledger.lock().await;
		let on_chain = self
			.chain
			.channel_spent(&voucher.user, model, voucher.expires_at)
			.await?;
		let charged = on_chain.saturating_add(ledger.owed_on(&voucher.channel()));
		let room = voucher.cumulative_fee_cap.saturating_sub(charged);
		let credit = self.chain.credit(&voucher.user).await?;
		let available = credit
			.spendable()
			.saturating_sub(ledger.owed_by(&voucher.user.0));
		let seq = ledger.next_seq();
		drop(ledger);

		let engine = |reason: String| ServeError::Engine { id: seq, reason };
		let prompt_tokens = self
			.tokenizer
			.encode(&prompt, true)
			.map_err(|e| engine(e.to_string()))?;
		if prompt_tokens.is_empty() {
			return Err(ServeError::EmptyVoucheredPrompt);
		}
		let max_tokens = max_tokens
			.unwrap_or(self.config.max_tokens)
			.min(self.config.max_tokens);
		let cap = self.context_cap(prompt_tokens.len(), max_tokens);
		let cap = affordable_tokens(
			&pricing,
			self.platform_fee,
			room.min(available),
			prompt_tokens.len(),
			cap,
		)
		.ok_or_else(|| {
			if room <= available {
				ServeError::VoucherCapReached { room }
			} else {
				ServeError::InsufficientCredit {
					user: voucher.user.to_string(),
					available,
				}
			}
		})?;
		let (receipt, output) = self
			.generate(adapter, prompt_tokens, cap)
			.await
			.map_err(engine)?;
		let (tokens_in, tokens_out) = (
			super::len_u32(receipt.prompt_tokens.len()),
			super::len_u32(receipt.output_tokens.len()),
		);
		let fee = inference_fee(&pricing, tokens_in, tokens_out, self.platform_fee)
			.map_err(|e| engine(format!("the fee does not compute: {e:?}")))?;
		let result_hash = receipt.implied_result_hash();

		let record = ReceiptRecord {
			id: seq,
			model,
			prompt: prompt.clone(),
			output: output.clone(),
			receipt: receipt.clone(),
		};
		let path = self.prepaid.record_path(seq);
		let json = serde_json::to_vec_pretty(&record).map_err(|e| engine(e.to_string()))?;
		std::fs::write(&path, json).map_err(|source| JournalError::Io { path, source })?;
		let scores: Vec<(u64, u32)> = receipt
			.scores
			.iter()
			.map(|(ContributionId(id), ppm)| (*id, *ppm))
			.collect();
		self.prepaid
			.ledger
			.lock()
			.await
			.record(LedgerEntry::Served(Charge {
				seq,
				voucher: voucher.clone(),
				fee,
				scores: scores.clone(),
				result_hash: result_hash.0,
				served_at: now,
			}))?;
		tracing::info!(
			seq,
			model,
			user = %voucher.user,
			fee,
			prompt = %hex_hash(&prompt_commitment(&prompt).0),
			"served against a voucher"
		);
		Ok(VoucheredServed {
			seq,
			model,
			output,
			tokens_in,
			tokens_out,
			fee: fee.to_string(),
			channel_charged: charged.saturating_add(fee).to_string(),
			result_hash: hex_hash(&result_hash.0),
			scores: scores
				.into_iter()
				.map(|(contribution, ppm)| Score { contribution, ppm })
				.collect(),
			settle_by: now.saturating_add(self.config.batch_every),
		})
	}

	/// The checks the chain will make of `voucher` when it settles, and
	/// that it leaves time to settle.
	fn check_voucher(
		&self,
		voucher: &SignedVoucher,
		model: u32,
		now: u32,
	) -> Result<(), ServeError> {
		let this = self.chain.account();
		if voucher.worker != *this {
			return Err(ServeError::VoucherForAnotherWorker {
				voucher: voucher.worker.to_string(),
				this: this.to_string(),
			});
		}
		if voucher.model != model {
			return Err(ServeError::VoucherForAnotherModel {
				voucher: voucher.model,
				requested: model,
			});
		}
		if !voucher.verify(&self.prepaid.genesis) {
			return Err(ServeError::BadVoucherSignature {
				user: voucher.user.to_string(),
				form: voucher.form,
			});
		}
		let earliest = now
			.saturating_add(self.config.batch_every)
			.saturating_add(3 * SETTLE_MARGIN);
		if voucher.expires_at < earliest {
			return Err(ServeError::VoucherExpiresTooSoon {
				expires_at: voucher.expires_at,
				earliest,
			});
		}
		let latest = now.saturating_add(self.prepaid.max_lifetime);
		if voucher.expires_at > latest {
			return Err(ServeError::VoucherLifetimeTooLong {
				expires_at: voucher.expires_at,
				latest,
			});
		}
		Ok(())
	}

	/// The record of voucher-paid inference `seq`.
	pub fn vouchered_record(&self, seq: u64) -> Option<ReceiptRecord> {
		let text = std::fs::read_to_string(self.prepaid.record_path(seq)).ok()?;
		serde_json::from_str(&text).ok()
	}

	/// What is charged and not settled.
	pub async fn voucher_summary(&self) -> VoucherSummary {
		let ledger = self.prepaid.ledger.lock().await;
		VoucherSummary {
			pending: ledger
				.pending()
				.map(|charge| PendingCharge {
					seq: charge.seq,
					user: charge.voucher.user.to_string(),
					model: charge.voucher.model,
					fee: charge.fee.to_string(),
					expires_at: charge.voucher.expires_at,
				})
				.collect(),
			settling: ledger
				.settling()
				.map(|settling| settling.seqs.clone())
				.unwrap_or_default(),
		}
	}

	/// Settles what is due as of finalized block `now`: at most one batch
	/// per call. Returns it when one landed.
	pub async fn settle_vouchers(&self, now: u32) -> Result<Option<BatchSettled>, ServeError> {
		use std::sync::atomic::Ordering;
		let Ok(_one_at_a_time) = self.prepaid.settling.try_lock() else {
			return Ok(None);
		};
		if !self.resolve_in_flight(now).await? {
			return Ok(None);
		}
		self.drop_expired(now).await?;
		if now < self.prepaid.retry_at.load(Ordering::Relaxed) {
			return Ok(None);
		}
		for model in self.adapters.keys().copied() {
			let Some(plan) = self.plan(model, now).await? else {
				continue;
			};
			let settling = Settling {
				model,
				seqs: plan.seqs.clone(),
				receipts_root: plan.receipts_root,
				first_id: self.chain.next_batch_id().await?,
				at: self.chain.finalized_number().await?,
			};
			let mut ledger = self.prepaid.ledger.lock().await;
			ledger.record(LedgerEntry::Settling(settling))?;
			drop(ledger);
			return match self.chain.settle_batch(&plan).await {
				Ok(settled) => {
					tracing::info!(
						batch = settled.batch,
						model,
						inferences = settled.inferences,
						users = settled.users,
						fee = settled.fee,
						"batch settled"
					);
					let mut ledger = self.prepaid.ledger.lock().await;
					ledger.record(LedgerEntry::Settled {
						batch: settled.batch,
					})?;
					Ok(Some(settled))
				},
				Err(error @ ChainError::Dispatch { .. }) => {
					// Refused: the charges are pending again, tried after a pause.
					let mut ledger = self.prepaid.ledger.lock().await;
					ledger.record(LedgerEntry::Released {
						reason: error.to_string(),
					})?;
					let pause = now.saturating_add(self.config.batch_every.max(1));
					self.prepaid.retry_at.store(pause, Ordering::Relaxed);
					Err(error.into())
				},
				// Unknown whether it landed: resolved on a later block.
				Err(error) => Err(error.into()),
			};
		}
		Ok(None)
	}

	/// Settles the record of a batch whose outcome is unknown; whether new
	/// batches may go.
	async fn resolve_in_flight(&self, now: u32) -> Result<bool, ServeError> {
		let Some(settling) = self.prepaid.ledger.lock().await.settling().cloned() else {
			return Ok(true);
		};
		let last = self.chain.next_batch_id().await?;
		for id in settling.first_id..last {
			let Some(record) = self.chain.batch_record(id).await? else {
				continue;
			};
			if record.worker == *self.chain.account()
				&& record.receipts_root == settling.receipts_root
			{
				tracing::info!(batch = id, "a batch in flight had landed");
				let mut ledger = self.prepaid.ledger.lock().await;
				ledger.record(LedgerEntry::Settled { batch: id })?;
				return Ok(true);
			}
		}
		if now > settling.at.saturating_add(TX_MORTALITY + SETTLE_MARGIN) {
			tracing::info!(seqs = ?settling.seqs, "a batch in flight did not land; its charges are pending again");
			let mut ledger = self.prepaid.ledger.lock().await;
			ledger.record(LedgerEntry::Released {
				reason: format!(
					"not in Attribution.BatchRoots by block {now}, past its transaction's mortality"
				),
			})?;
			return Ok(true);
		}
		Ok(false)
	}

	/// Drops the charges whose voucher expires before a batch could land.
	async fn drop_expired(&self, now: u32) -> Result<(), ServeError> {
		let mut ledger = self.prepaid.ledger.lock().await;
		let in_flight: BTreeSet<u64> = ledger
			.settling()
			.map(|settling| settling.seqs.iter().copied().collect())
			.unwrap_or_default();
		let expired: Vec<u64> = ledger
			.pending()
			.filter(|charge| !in_flight.contains(&charge.seq))
			.filter(|charge| charge.voucher.expires_at <= now.saturating_add(SETTLE_MARGIN))
			.map(|charge| charge.seq)
			.collect();
		if expired.is_empty() {
			return Ok(());
		}
		tracing::warn!(seqs = ?expired, "vouchers expired before their charges were settled");
		ledger.record(LedgerEntry::Dropped {
			seqs: expired,
			reason: format!("the voucher expired before block {now}'s batch could land"),
		})?;
		Ok(())
	}

	/// The next batch of `model` if one is due: the charges the chain will
	/// take (within the channel's cap, covered by the user's credit).
	async fn plan(
		&self,
		model: u32,
		now: u32,
	) -> Result<Option<super::vouchers::Plan>, ServeError> {
		let charges: Vec<Charge> = self
			.prepaid
			.ledger
			.lock()
			.await
			.pending()
			.filter(|charge| charge.voucher.model == model)
			.cloned()
			.collect();
		let Some(oldest) = charges.iter().map(|charge| charge.served_at).min() else {
			return Ok(None);
		};
		let first_expiry = charges
			.iter()
			.map(|charge| charge.voucher.expires_at)
			.min()
			.unwrap_or(u32::MAX);
		let due = now >= oldest.saturating_add(self.config.batch_every)
			|| first_expiry <= now.saturating_add(3 * SETTLE_MARGIN);
		if !due {
			return Ok(None);
		}

		let mut by_channel: BTreeMap<super::vouchers::ChannelKey, Vec<Charge>> = BTreeMap::new();
		for charge in charges {
			by_channel
				.entry(charge.voucher.channel())
				.or_default()
				.push(charge);
		}
		let mut eligible = Vec::new();
		let mut beyond_cap = Vec::new();
		let mut credit_left: BTreeMap<[u8; 32], u128> = BTreeMap::new();
		for ((user, _, expires_at), mut channel) in by_channel {
			channel.sort_by_key(|charge| charge.seq);
			let account = AccountId32(user);
			let cap = channel
				.iter()
				.map(|charge| charge.voucher.cumulative_fee_cap)
				.max()
				.unwrap_or(0);
			let mut spent = self
				.chain
				.channel_spent(&account, model, expires_at)
				.await?;
			let credit = match credit_left.entry(user) {
				std::collections::btree_map::Entry::Occupied(known) => known.into_mut(),
				std::collections::btree_map::Entry::Vacant(slot) => {
					slot.insert(self.chain.credit(&account).await?.balance)
				},
			};
			for charge in channel {
				if spent.saturating_add(charge.fee) > cap {
					beyond_cap.push(charge.seq);
				} else if charge.fee <= *credit {
					spent = spent.saturating_add(charge.fee);
					*credit -= charge.fee;
					eligible.push(charge);
				}
			}
		}
		if !beyond_cap.is_empty() {
			tracing::warn!(seqs = ?beyond_cap, "charges beyond their channel's cap on chain");
			let mut ledger = self.prepaid.ledger.lock().await;
			ledger.record(LedgerEntry::Dropped {
				seqs: beyond_cap,
				reason: "beyond the voucher's cap with what the chain has charged".into(),
			})?;
		}
		let contributions: BTreeSet<u64> = eligible
			.iter()
			.flat_map(|charge| charge.scores.iter().map(|(id, _)| *id))
			.collect();
		let mut live = BTreeSet::new();
		for id in contributions {
			if self.chain.contribution_live(id).await? {
				live.insert(id);
			}
		}
		Ok(plan_batch(&eligible, model, self.prepaid.limits, |id| {
			live.contains(&id)
		}))
	}
}

/// Keeps `Arc<ChainWorker>` callers short.
pub(crate) async fn settle_in_background(worker: Arc<ChainWorker>, now: u32) {
	if let Err(error) = worker.settle_vouchers(now).await {
		tracing::warn!(%error, "settling voucher-paid inferences failed");
	}
}
