//! The worker's chain client: subxt 0.50 over the node's JSON-RPC, with
//! `PolkadotConfig` and the dynamic API (calls and storage by name, decoded
//! into the few fields the worker reads).
//!
//! [`Chain`] signs as one account: it bonds it as a worker, serves models
//! with it, reads the inferences assigned to it and submits their receipts.
//! Transactions go one at a time and each waits for finality, so nonces
//! never clash and a returned `Ok` means the chain has it for good. When the
//! node goes away, the next call reconnects.
//!
//! [`journal`] keeps what the worker accepted and submitted across restarts;
//! [`service`] serves on-chain requests with it; [`verifier`] re-executes
//! other workers' receipts, challenges wrong ones and answers the
//! challenges it is drawn for; [`factory`] reads datanet versions for
//! ModelFactory and publishes what it trained; [`vouchers`] keeps what the
//! worker charged against users' signed vouchers until it settles them in
//! batches.

pub mod factory;
pub mod journal;
pub mod prepaid;
pub mod service;
pub mod verifier;
pub mod vouchers;

use std::time::Duration;

use openledger_primitives::attribution::Method;
use openledger_primitives::{Hash, ProofCommitment};
use subxt::dynamic::{self, Value};
use subxt::events::DecodeAsEvent;
use subxt::ext::scale_decode::DecodeAsType;
use subxt::ext::scale_value::Composite;
use subxt::transactions::Payload;
use subxt::utils::AccountId32;
use subxt::{OnlineClient, PolkadotConfig};
use subxt_signer::sr25519::Keypair;
use subxt_signer::SecretUri;
use tokio::sync::Mutex;

use crate::attribution::receipt::InferenceReceipt;

/// How long one transaction may take from submission to finality.
const TX_TIMEOUT: Duration = Duration::from_secs(120);

/// Why a chain call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
	#[error("cannot reach the node at {url}: {reason}")]
	Connect { url: String, reason: String },
	#[error("the node failed a read of {what}: {reason}")]
	Read { what: String, reason: String },
	/// The transaction could not be submitted or followed to finality.
	#[error("{call} could not be submitted: {reason}")]
	Submit { call: String, reason: String },
	/// The runtime refused the call; the reason names the pallet error.
	#[error("{call} failed: {reason}")]
	Dispatch { call: String, reason: String },
	#[error("{call} was not finalized within {0:?}", TX_TIMEOUT)]
	Timeout { call: String },
	#[error("invalid signer URI: {0}")]
	Signer(String),
}

/// Parses a secret URI (`//Ferdie`, a mnemonic with derivations, a 0x seed)
/// into an sr25519 key pair.
pub fn keypair_from_uri(uri: &str) -> Result<Keypair, ChainError> {
	let uri: SecretUri = uri
		.parse()
		.map_err(|e| ChainError::Signer(format!("{e}")))?;
	Keypair::from_uri(&uri).map_err(|e| ChainError::Signer(format!("{e}")))
}

/// An inference as the chain keeps it, reduced to what the worker checks.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct OnChainInference {
	pub worker: AccountId32,
	pub model: u32,
	pub terms: Terms,
	pub prompt_commitment: [u8; 32],
	pub held: u128,
	pub status: InferenceStatus,
}

/// The model's terms at the time of the request.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct Terms {
	pub pricing: Pricing,
	pub adapter_hash: [u8; 32],
	pub attribution_index_root: [u8; 32],
}

/// Prices per 1,000 tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct Pricing {
	pub per_1k_input: u128,
	pub per_1k_output: u128,
}

/// Where an inference stands (`pallet_attribution::Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub enum InferenceStatus {
	Requested { serve_by: u32 },
	Receipted { settle_at: u32 },
	Challenged,
	Unsettled,
}

/// A receipt as the chain keeps it, reduced to what re-execution needs.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct OnChainReceipt {
	pub tokens_out: u32,
	pub method: OnChainMethod,
	pub result_hash: [u8; 32],
}

/// `openledger_primitives::attribution::Method` as the chain encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub enum OnChainMethod {
	Gradient,
	Span,
}

impl From<OnChainMethod> for Method {
	fn from(method: OnChainMethod) -> Self {
		match method {
			OnChainMethod::Gradient => Method::Gradient,
			OnChainMethod::Span => Method::Span,
		}
	}
}

/// The model registry's terms of a deployed adapter version.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct AdapterRecord {
	pub adapter_hash: [u8; 32],
	pub attribution_index_root: [u8; 32],
}

/// `Datanets.Versions`, reduced to what ModelFactory trains on.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct VersionRecord {
	/// Contribution ids, ascending.
	pub contributions: Vec<u64>,
	pub merkle_root: [u8; 32],
}

#[derive(Clone, Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct ContributionRecord {
	content_hash: [u8; 32],
	status: ContributionStatus,
}

/// `pallet_datanets::ContributionStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
enum ContributionStatus {
	Pending,
	Accepted { first_version: u32 },
	Retracted,
}

#[derive(Clone, Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct ModelRecord {
	pricing: Pricing,
	adapter_versions: u32,
}

/// `Attribution.Credits`: a user's prepaid credit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct CreditRecord {
	/// What workers may still charge.
	pub balance: u128,
	/// Asked back: how much, withdrawable from which block.
	pub unlocking: Option<(u128, u32)>,
}

impl CreditRecord {
	/// What a worker should take on new charges against: the balance less
	/// what the user asked back.
	pub fn spendable(&self) -> u128 {
		let asked_back = self.unlocking.map_or(0, |(amount, _)| amount);
		self.balance.saturating_sub(asked_back)
	}
}

#[derive(Clone, Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct ChannelRecord {
	spent: u128,
}

/// `Attribution.BatchRoots`, reduced to what identifies a batch.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct BatchRecord {
	pub worker: AccountId32,
	pub receipts_root: [u8; 32],
}

/// `Attribution.BatchSettled`.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct BatchSettled {
	pub batch: u64,
	pub model: u32,
	pub worker: AccountId32,
	pub receipts_root: [u8; 32],
	pub inferences: u32,
	pub users: u32,
	pub fee: u128,
}

impl DecodeAsEvent for BatchSettled {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Attribution" && event == "BatchSettled"
	}
}

#[derive(Clone, Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct RoleLedger {
	active: u128,
}

/// `Attribution.InferenceRequested`.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct InferenceRequested {
	pub id: u64,
	pub worker: AccountId32,
	pub model: u32,
	pub prompt_commitment: [u8; 32],
	pub max_fee: u128,
	pub serve_by: u32,
}

impl DecodeAsEvent for InferenceRequested {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Attribution" && event == "InferenceRequested"
	}
}

/// `Attribution.ReceiptSubmitted`: what the chain charged.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct ReceiptSubmitted {
	pub id: u64,
	pub fee: u128,
	pub released: u128,
	pub result_hash: [u8; 32],
	pub settle_at: u32,
}

impl DecodeAsEvent for ReceiptSubmitted {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Attribution" && event == "ReceiptSubmitted"
	}
}

/// `Attribution.ChallengeOpened`: who disputes a receipt and who verifies.
#[derive(Clone, Debug, PartialEq, Eq, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct ChallengeOpened {
	pub id: u64,
	pub challenger: AccountId32,
	pub verifiers: Vec<AccountId32>,
	pub deadline: u32,
}

impl DecodeAsEvent for ChallengeOpened {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Attribution" && event == "ChallengeOpened"
	}
}

type Client = OnlineClient<PolkadotConfig>;

/// A connection to a node, signing as one account.
pub struct Chain {
	url: String,
	signer: Keypair,
	account: AccountId32,
	/// `None` after a failure, so that the next call reconnects.
	client: Mutex<Option<Client>>,
	/// Held while a transaction is in flight: one at a time.
	submitting: Mutex<()>,
}

impl Chain {
	/// Connects to the node at `url` (`ws://` or `wss://`).
	pub async fn connect(url: &str, signer: Keypair) -> Result<Self, ChainError> {
		let account = signer.public_key().to_account_id();
		let chain = Self {
			url: url.to_string(),
			signer,
			account,
			client: Mutex::new(None),
			submitting: Mutex::new(()),
		};
		chain.client().await?;
		Ok(chain)
	}

	/// A connection for reads only: it holds a fresh random key of an
	/// account without funds, so nothing it might sign could land.
	pub async fn read_only(url: &str) -> Result<Self, ChainError> {
		let signer = Keypair::from_secret_key(rand::random::<[u8; 32]>())
			.map_err(|e| ChainError::Signer(e.to_string()))?;
		Self::connect(url, signer).await
	}

	/// The account the worker signs as.
	pub fn account(&self) -> &AccountId32 {
		&self.account
	}

	/// The live client, reconnecting first if the last call failed.
	pub async fn client(&self) -> Result<Client, ChainError> {
		let mut slot = self.client.lock().await;
		if let Some(client) = slot.as_ref() {
			return Ok(client.clone());
		}
		// This chain has only ever had modern metadata; the Polkadot relay
		// chain's historic type registry does not apply to it.
		let config = PolkadotConfig::builder().use_historic_types(false).build();
		let client = Client::from_insecure_url_with_config(config, &self.url)
			.await
			.map_err(|e| ChainError::Connect {
				url: self.url.clone(),
				reason: e.to_string(),
			})?;
		*slot = Some(client.clone());
		Ok(client)
	}

	/// Forgets the connection after a failure that may be the node's going.
	async fn drop_client(&self) {
		*self.client.lock().await = None;
	}

	/// Reads `pallet.entry` at `key` in the latest finalized state.
	async fn fetch<K, V>(&self, pallet: &str, entry: &str, key: K) -> Result<Option<V>, ChainError>
	where
		K: subxt::ext::frame_decode::storage::IntoEncodableValues
			+ subxt::ext::frame_decode::storage::IntoDecodableValues,
		V: DecodeAsType,
	{
		let what = format!("{pallet}.{entry}");
		let read =
			async {
				let at = self.client().await?.at_current_block().await.map_err(|e| {
					ChainError::Read {
						what: what.clone(),
						reason: e.to_string(),
					}
				})?;
				let value = at
					.storage()
					.try_fetch(dynamic::storage::<K, V>(pallet, entry), key)
					.await
					.map_err(|e| ChainError::Read {
						what: what.clone(),
						reason: e.to_string(),
					})?;
				value
					.map(|value| value.decode())
					.transpose()
					.map_err(|e| ChainError::Read {
						what: what.clone(),
						reason: format!("does not decode: {e}"),
					})
			};
		let result = read.await;
		if matches!(
			result,
			Err(ChainError::Read { .. } | ChainError::Connect { .. })
		) {
			self.drop_client().await;
		}
		result
	}

	/// `Attribution.Inferences(id)`.
	pub async fn inference(&self, id: u64) -> Result<Option<OnChainInference>, ChainError> {
		self.fetch("Attribution", "Inferences", (id,)).await
	}

	/// `Attribution.Receipts(id)`.
	pub async fn receipt(&self, id: u64) -> Result<Option<OnChainReceipt>, ChainError> {
		self.fetch("Attribution", "Receipts", (id,)).await
	}

	/// The adapter version `model` serves now, if it is deployed.
	pub async fn current_adapter(&self, model: u32) -> Result<Option<AdapterRecord>, ChainError> {
		let Some(record) = self
			.fetch::<_, ModelRecord>("ModelRegistry", "Models", (model,))
			.await?
		else {
			return Ok(None);
		};
		if record.adapter_versions == 0 {
			return Ok(None);
		}
		self.fetch(
			"ModelRegistry",
			"Adapters",
			(model, record.adapter_versions),
		)
		.await
	}

	/// `Datanets.Versions(datanet, version)`.
	pub async fn datanet_version(
		&self,
		datanet: u32,
		version: u32,
	) -> Result<Option<VersionRecord>, ChainError> {
		self.fetch("Datanets", "Versions", (datanet, version)).await
	}

	/// The content hash of contribution `id`.
	pub async fn content_hash(&self, id: u64) -> Result<Option<[u8; 32]>, ChainError> {
		let record: Option<ContributionRecord> =
			self.fetch("Datanets", "Contributions", (id,)).await?;
		Ok(record.map(|record| record.content_hash))
	}

	/// `Attribution.PlatformFee`.
	pub async fn platform_fee(&self) -> Result<u128, ChainError> {
		self.constant("Attribution", "PlatformFee").await
	}

	/// The runtime constant `pallet.name`.
	pub async fn constant<V: DecodeAsType>(
		&self,
		pallet: &str,
		name: &str,
	) -> Result<V, ChainError> {
		let at = self
			.client()
			.await?
			.at_current_block()
			.await
			.map_err(|e| ChainError::Read {
				what: "the finalized block".into(),
				reason: e.to_string(),
			})?;
		at.constants()
			.entry(dynamic::constant::<V>(pallet, name))
			.map_err(|e| ChainError::Read {
				what: format!("{pallet}.{name}"),
				reason: e.to_string(),
			})
	}

	/// The chain's genesis hash, which vouchers are signed for.
	pub async fn genesis_hash(&self) -> Result<[u8; 32], ChainError> {
		Ok(self.client().await?.genesis_hash().0)
	}

	/// The number of the latest finalized block.
	pub async fn finalized_number(&self) -> Result<u32, ChainError> {
		let at = self
			.client()
			.await?
			.at_current_block()
			.await
			.map_err(|e| ChainError::Read {
				what: "the finalized block".into(),
				reason: e.to_string(),
			})?;
		Ok(u32::try_from(at.block_number()).unwrap_or(u32::MAX))
	}

	/// The model's prices, if it is registered.
	pub async fn model_pricing(&self, model: u32) -> Result<Option<Pricing>, ChainError> {
		let record: Option<ModelRecord> = self.fetch("ModelRegistry", "Models", (model,)).await?;
		Ok(record.map(|record| record.pricing))
	}

	/// Whether contribution `id` is accepted and not retracted: the ones a
	/// batch may pay.
	pub async fn contribution_live(&self, id: u64) -> Result<bool, ChainError> {
		let record: Option<ContributionRecord> =
			self.fetch("Datanets", "Contributions", (id,)).await?;
		Ok(record
			.is_some_and(|record| matches!(record.status, ContributionStatus::Accepted { .. })))
	}

	/// `Attribution.Credits(user)` (zero when there is none).
	pub async fn credit(&self, user: &AccountId32) -> Result<CreditRecord, ChainError> {
		let credit = self.fetch("Attribution", "Credits", (*user,)).await?;
		Ok(credit.unwrap_or_default())
	}

	/// What this worker's channel with `user` for `model` expiring at
	/// `expires_at` has been charged on chain.
	pub async fn channel_spent(
		&self,
		user: &AccountId32,
		model: u32,
		expires_at: u32,
	) -> Result<u128, ChainError> {
		let channel: Option<ChannelRecord> = self
			.fetch(
				"Attribution",
				"Channels",
				(*user, self.account, model, expires_at),
			)
			.await?;
		Ok(channel.map_or(0, |channel| channel.spent))
	}

	/// `Attribution.NextBatchId`.
	pub async fn next_batch_id(&self) -> Result<u64, ChainError> {
		let next: Option<u64> = self.fetch("Attribution", "NextBatchId", ()).await?;
		Ok(next.unwrap_or(0))
	}

	/// `Attribution.BatchRoots(id)`.
	pub async fn batch_record(&self, id: u64) -> Result<Option<BatchRecord>, ChainError> {
		self.fetch("Attribution", "BatchRoots", (id,)).await
	}

	/// Bonds `amount` as a worker unless the account already has at least
	/// that much bonded in the role.
	pub async fn ensure_worker_bond(&self, amount: u128) -> Result<(), ChainError> {
		let bonded = self
			.fetch::<_, RoleLedger>(
				"Staking",
				"Bonds",
				(Value::unnamed_variant("Worker", []), self.account),
			)
			.await?
			.map_or(0, |ledger| ledger.active);
		if bonded >= amount {
			return Ok(());
		}
		let call = dynamic::tx(
			"Staking",
			"bond",
			(Value::unnamed_variant("Worker", []), amount - bonded),
		);
		self.submit("Staking.bond", &call).await.map(drop)
	}

	/// Starts serving `model` unless the account already does.
	pub async fn ensure_serving(&self, model: u32) -> Result<(), ChainError> {
		let serving = self
			.fetch::<_, u128>("ModelRegistry", "Servers", (model, self.account))
			.await?;
		if serving.is_some() {
			return Ok(());
		}
		let call = dynamic::tx("ModelRegistry", "serve", (model,));
		self.submit("ModelRegistry.serve", &call).await.map(drop)
	}

	/// Submits the receipt of inference `id`; returns what the chain charged.
	pub async fn submit_receipt(
		&self,
		id: u64,
		receipt: &InferenceReceipt,
	) -> Result<ReceiptSubmitted, ChainError> {
		let scores: Vec<Value> = receipt
			.scores
			.iter()
			.map(|(contribution, ppm)| {
				Value::unnamed_composite([contribution.0.into(), (*ppm).into()])
			})
			.collect();
		let call = dynamic::tx(
			"Attribution",
			"submit_receipt",
			Composite::unnamed([
				id.into(),
				len_u32(receipt.prompt_tokens.len()).into(),
				len_u32(receipt.output_tokens.len()).into(),
				hash_value(&receipt.output_hash),
				method_value(receipt.method),
				Value::unnamed_composite(scores),
				proof_value(&receipt.proof),
			]),
		);
		let events = self.submit("Attribution.submit_receipt", &call).await?;
		events
			.find_first::<ReceiptSubmitted>()
			.and_then(Result::ok)
			.ok_or_else(|| ChainError::Dispatch {
				call: "Attribution.submit_receipt".into(),
				reason: "no ReceiptSubmitted event".into(),
			})
	}

	/// Settles `plan` with `Attribution.settle_batch`.
	pub async fn settle_batch(&self, plan: &vouchers::Plan) -> Result<BatchSettled, ChainError> {
		let per_user: Vec<Value> = plan
			.per_user
			.iter()
			.map(|part| {
				let voucher = &part.voucher;
				let form = match voucher.form {
					vouchers::Form::Raw => "Raw",
					vouchers::Form::Wallet => "Wallet",
				};
				Value::named_composite([
					(
						"voucher",
						Value::named_composite([
							("user", Value::from_bytes(voucher.user.0)),
							("worker", Value::from_bytes(voucher.worker.0)),
							("model", voucher.model.into()),
							("expires_at", voucher.expires_at.into()),
							("cumulative_fee_cap", voucher.cumulative_fee_cap.into()),
						]),
					),
					(
						"signature",
						Value::unnamed_variant("Sr25519", [Value::from_bytes(voucher.signature)]),
					),
					("form", Value::unnamed_variant(form, [])),
					("fee", part.fee.into()),
				])
			})
			.collect();
		let contributors: Vec<Value> = plan
			.contributors
			.iter()
			.map(|(contribution, score)| {
				Value::unnamed_composite([(*contribution).into(), (*score).into()])
			})
			.collect();
		let call = dynamic::tx(
			"Attribution",
			"settle_batch",
			Composite::unnamed([
				plan.model.into(),
				Value::named_composite([
					("receipts_root", Value::from_bytes(plan.receipts_root)),
					("inferences", plan.inferences().into()),
					("per_user", Value::unnamed_composite(per_user)),
					("contributors", Value::unnamed_composite(contributors)),
				]),
			]),
		);
		let events = self.submit("Attribution.settle_batch", &call).await?;
		events
			.find_first::<BatchSettled>()
			.and_then(Result::ok)
			.ok_or_else(|| ChainError::Dispatch {
				call: "Attribution.settle_batch".into(),
				reason: "no BatchSettled event".into(),
			})
	}

	/// Publishes a trained adapter as `model`'s next version: the caller
	/// must be the model's proposer or trainer, and the model approved or
	/// deployed.
	pub async fn publish_adapter(
		&self,
		model: u32,
		publication: &factory::Publication,
		uri: &str,
	) -> Result<(), ChainError> {
		let call = dynamic::tx(
			"ModelRegistry",
			"publish_adapter",
			Composite::unnamed([
				model.into(),
				hash_value(&publication.adapter_hash),
				Value::from_bytes(uri.as_bytes()),
				hash_value(&publication.attribution_index_root),
				hash_value(&publication.training_report_hash),
			]),
		);
		self.submit("ModelRegistry.publish_adapter", &call)
			.await
			.map(drop)
	}

	/// Disputes inference `id`'s receipt with the result hash this worker
	/// computed, holding the challenge bond.
	pub async fn challenge(&self, id: u64, result_hash: &Hash) -> Result<(), ChainError> {
		let call = dynamic::tx(
			"Attribution",
			"challenge",
			Composite::unnamed([id.into(), hash_value(result_hash)]),
		);
		self.submit("Attribution.challenge", &call).await.map(drop)
	}

	/// Answers the challenge of inference `id` as a drawn verifier with the
	/// result hash this worker computed.
	pub async fn submit_verdict(&self, id: u64, result_hash: &Hash) -> Result<(), ChainError> {
		let call = dynamic::tx(
			"Attribution",
			"submit_verdict",
			Composite::unnamed([id.into(), hash_value(result_hash)]),
		);
		self.submit("Attribution.submit_verdict", &call)
			.await
			.map(drop)
	}

	/// Signs and submits `call`, waiting for it to be finalized and to
	/// succeed.
	async fn submit<Call: Payload>(
		&self,
		name: &str,
		call: &Call,
	) -> Result<subxt::extrinsics::ExtrinsicEvents<PolkadotConfig>, ChainError> {
		let _one_at_a_time = self.submitting.lock().await;
		let submit = |reason: String| ChainError::Submit {
			call: name.to_string(),
			reason,
		};
		let attempt = async {
			let client = self.client().await?;
			let progress = client
				.tx()
				.await
				.map_err(|e| submit(e.to_string()))?
				.sign_and_submit_then_watch_default(call, &self.signer)
				.await
				.map_err(|e| submit(e.to_string()))?;
			let in_block = progress
				.wait_for_finalized()
				.await
				.map_err(|e| submit(e.to_string()))?;
			in_block
				.wait_for_success()
				.await
				.map_err(|e| ChainError::Dispatch {
					call: name.to_string(),
					reason: e.to_string(),
				})
		};
		match tokio::time::timeout(TX_TIMEOUT, attempt).await {
			Ok(Ok(events)) => Ok(events),
			Ok(Err(error)) => {
				if !matches!(error, ChainError::Dispatch { .. }) {
					self.drop_client().await;
				}
				Err(error)
			},
			Err(_) => {
				self.drop_client().await;
				Err(ChainError::Timeout {
					call: name.to_string(),
				})
			},
		}
	}
}

fn len_u32(len: usize) -> u32 {
	u32::try_from(len).unwrap_or(u32::MAX)
}

fn hash_value(hash: &Hash) -> Value {
	Value::from_bytes(hash.as_bytes())
}

fn method_value(method: Method) -> Value {
	let name = match method {
		Method::Gradient => "Gradient",
		Method::Span => "Span",
	};
	Value::unnamed_variant(name, [])
}

fn proof_value(proof: &ProofCommitment) -> Value {
	Value::named_composite([
		("adapter_hash", hash_value(&proof.adapter_hash)),
		(
			"attribution_index_root",
			hash_value(&proof.attribution_index_root),
		),
		("method", method_value(proof.method)),
		("projection_seed", proof.projection_seed.into()),
		("lambda_fp", proof.lambda_fp.into()),
		("fixed_point_frac_bits", proof.fixed_point_frac_bits.into()),
		("scores_root", hash_value(&proof.scores_root)),
	])
}
