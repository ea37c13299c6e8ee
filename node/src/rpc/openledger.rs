//! `openledger_*` JSON-RPC methods: the chain's accounts of contributors and
//! models as typed JSON, for developers who would rather not decode SCALE.
//!
//! Each method wraps the runtime's view functions (the
//! `RuntimeViewFunction` runtime API) at the best block or the block asked
//! for, so the answers are exactly what the runtime computes. Balances are
//! decimal strings of the smallest unit (OPEN has 18 decimals), hashes are
//! `0x`-prefixed hex, accounts SS58.

use std::sync::Arc;

use codec::{Decode, Encode};
use jsonrpsee::{
	core::RpcResult,
	proc_macros::rpc,
	types::{error::ErrorObjectOwned, ErrorCode},
};
use openledger_primitives::{ContributionId, DatanetId, ModelId};
use openledger_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Runtime};
use polkadot_sdk::{
	frame_support::view_functions::{runtime_api::RuntimeViewFunction, ViewFunction},
	sp_api::ProvideRuntimeApi,
	sp_blockchain::HeaderBackend,
	sp_runtime::traits::Block as BlockT,
};
use serde::Serialize;

type BlockHash = <Block as BlockT>::Hash;

/// The `openledger` namespace.
#[rpc(server, namespace = "openledger")]
pub trait OpenLedgerApi {
	/// `account`'s contributions (every datanet, with their status) and
	/// rewards: what it may claim, has claimed, its penalty score and what
	/// it earned so far in the current epoch (attribution credit, settled
	/// inferences, authored blocks).
	///
	/// `account` is an SS58 address of any prefix, or `0x` and 64 hex digits.
	#[method(name = "contributor")]
	fn contributor(&self, account: String, at: Option<BlockHash>) -> RpcResult<Contributor>;

	/// A model's lineage: its base model, the datanet versions it was
	/// trained on (with their merkle roots and contributions) and every
	/// adapter version published; `null` for an unknown model.
	#[method(name = "modelLineage")]
	fn model_lineage(&self, model: u32, at: Option<BlockHash>) -> RpcResult<Option<Lineage>>;
}

/// A contributor's record and rewards.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Contributor {
	pub account: String,
	pub contributions: Vec<Contribution>,
	/// Contributions of this account that reviewers rejected.
	pub rejections: u32,
	pub rewards: Rewards,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Contribution {
	pub id: u64,
	pub datanet: u32,
	pub content_hash: String,
	pub size_bytes: u64,
	pub uri: String,
	pub license: String,
	/// `Pending`, `Accepted` or `Retracted`.
	pub status: &'static str,
	/// For an accepted contribution, the first version that includes it.
	pub first_version: Option<u32>,
	pub submitted_at: BlockNumber,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Rewards {
	pub claimable: String,
	pub claimed: String,
	pub penalty_score: u32,
	/// Whether the score is high enough to reduce new rewards.
	pub penalised: bool,
	/// Attribution credit earned as a contributor in the current epoch.
	pub epoch_attribution_credit: String,
	/// Inferences served that settled in the current epoch.
	pub epoch_inferences: u64,
	/// Blocks authored in the current epoch.
	pub epoch_blocks: u32,
}

/// A model and everything it descends from.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Lineage {
	pub model: u32,
	pub owner: String,
	pub trainer: Option<String>,
	/// `Voting`, `Approved`, `Deployed` or `Retired`.
	pub status: &'static str,
	pub base_model: Option<BaseModel>,
	pub training_config_hash: String,
	pub price_per_1k_input: String,
	pub price_per_1k_output: String,
	pub datanet_versions: Vec<DatanetVersion>,
	pub adapters: Vec<Adapter>,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct BaseModel {
	pub id: u32,
	pub name: String,
	pub architecture: String,
	pub weights_hash: String,
	pub uri: String,
	pub license: String,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DatanetVersion {
	pub datanet: u32,
	pub version: u32,
	pub merkle_root: String,
	pub contributions: Vec<u64>,
	pub total_bytes: u64,
	pub published_at: BlockNumber,
}

#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Adapter {
	/// Numbered from 1, oldest first.
	pub version: u32,
	pub adapter_hash: String,
	pub uri: String,
	pub attribution_index_root: String,
	pub training_report_hash: String,
	pub publisher: String,
	pub published_at: BlockNumber,
}

/// Serves [`OpenLedgerApiServer`] from a client of the chain.
pub struct OpenLedger<C> {
	client: Arc<C>,
}

impl<C> OpenLedger<C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

fn invalid_params(message: impl ToString) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(
		ErrorCode::InvalidParams.code(),
		message.to_string(),
		None::<()>,
	)
}

/// An account from its SS58 address (any network prefix) or its 32 bytes
/// in hex.
fn parse_account(text: &str) -> RpcResult<AccountId> {
	use polkadot_sdk::sp_core::crypto::Ss58Codec;
	if let Some(digits) = text.strip_prefix("0x") {
		let bytes = polkadot_sdk::sp_core::bytes::from_hex(digits)
			.map_err(|e| invalid_params(format!("account {text}: {e}")))?;
		let raw: [u8; 32] = bytes
			.try_into()
			.map_err(|_| invalid_params(format!("account {text}: not 32 bytes")))?;
		return Ok(AccountId::from(raw));
	}
	AccountId::from_ss58check_with_version(text)
		.map(|(account, _)| account)
		.map_err(|e| invalid_params(format!("account {text}: {e}")))
}

fn internal_error(message: impl ToString) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(
		ErrorCode::InternalError.code(),
		message.to_string(),
		None::<()>,
	)
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
	format!(
		"0x{}",
		polkadot_sdk::sp_core::hexdisplay::HexDisplay::from(&bytes.as_ref())
	)
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

fn ss58(account: &AccountId) -> String {
	use polkadot_sdk::sp_core::crypto::Ss58Codec;
	account.to_ss58check_with_version(openledger_primitives::token::SS58_PREFIX.into())
}

fn balance(amount: Balance) -> String {
	amount.to_string()
}

impl<C> OpenLedger<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: RuntimeViewFunction<Block>,
{
	/// Runs view function `query` at `at` (the best block when `None`).
	fn view<V>(&self, query: V, at: Option<BlockHash>) -> RpcResult<V::ReturnType>
	where
		V: ViewFunction + Encode,
		V::ReturnType: Decode,
	{
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let answer = self
			.client
			.runtime_api()
			.execute_view_function(at, V::id(), query.encode())
			.map_err(internal_error)?
			.map_err(|e| internal_error(format!("view function failed: {e:?}")))?;
		V::ReturnType::decode(&mut answer.as_slice()).map_err(internal_error)
	}

	fn contribution(
		id: ContributionId,
		record: pallet_datanets::ContributionOf<Runtime>,
	) -> Contribution {
		let (status, first_version) = match record.status {
			pallet_datanets::ContributionStatus::Pending => ("Pending", None),
			pallet_datanets::ContributionStatus::Accepted { first_version } => {
				("Accepted", Some(first_version))
			},
			pallet_datanets::ContributionStatus::Retracted => ("Retracted", None),
		};
		Contribution {
			id: id.0,
			datanet: record.datanet.0,
			content_hash: hex(record.content_hash),
			size_bytes: record.size_bytes,
			uri: text(&record.uri),
			license: text(&record.license),
			status,
			first_version,
			submitted_at: record.submitted_at,
		}
	}

	fn datanet_version(
		&self,
		datanet: DatanetId,
		version: u32,
		at: BlockHash,
	) -> RpcResult<Option<DatanetVersion>> {
		let versions = self.view(
			pallet_datanets::VersionsViewFunction::<Runtime>::new(datanet),
			Some(at),
		)?;
		Ok(versions
			.into_iter()
			.find(|v| v.number == version)
			.map(|v| DatanetVersion {
				datanet: datanet.0,
				version,
				merkle_root: hex(v.merkle_root),
				contributions: v.contributions.iter().map(|id| id.0).collect(),
				total_bytes: v.total_bytes,
				published_at: v.published_at,
			}))
	}
}

impl<C> OpenLedgerApiServer for OpenLedger<C>
where
	C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	C::Api: RuntimeViewFunction<Block>,
{
	fn contributor(&self, account: String, at: Option<BlockHash>) -> RpcResult<Contributor> {
		let account = parse_account(&account)?;
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let contributions = self.view(
			pallet_datanets::ContributionsOfViewFunction::<Runtime>::new(account.clone()),
			Some(at),
		)?;
		let rejections = self.view(
			pallet_datanets::PenaltiesViewFunction::<Runtime>::new(account.clone()),
			Some(at),
		)?;
		let summary = self.view(
			pallet_rewards::AccountSummaryViewFunction::<Runtime>::new(account.clone()),
			Some(at),
		)?;
		Ok(Contributor {
			account: ss58(&account),
			contributions: contributions
				.into_iter()
				.map(|(id, record)| Self::contribution(id, record))
				.collect(),
			rejections,
			rewards: Rewards {
				claimable: balance(summary.claimable),
				claimed: balance(summary.claimed),
				penalty_score: summary.penalty_score,
				penalised: summary.penalised,
				epoch_attribution_credit: balance(summary.epoch_points.credit),
				epoch_inferences: summary.epoch_points.inferences,
				epoch_blocks: summary.epoch_points.blocks,
			},
		})
	}

	fn model_lineage(&self, model: u32, at: Option<BlockHash>) -> RpcResult<Option<Lineage>> {
		let at = at.unwrap_or_else(|| self.client.info().best_hash);
		let Some(lineage) = self.view(
			pallet_model_registry::LineageViewFunction::<Runtime>::new(ModelId(model)),
			Some(at),
		)?
		else {
			return Ok(None);
		};
		let record = lineage.model;
		let mut datanet_versions = Vec::new();
		for reference in record.datanet_versions.iter() {
			if let Some(version) = self.datanet_version(reference.datanet, reference.version, at)? {
				datanet_versions.push(version);
			}
		}
		let status = match record.status {
			pallet_model_registry::ModelStatus::Voting { .. } => "Voting",
			pallet_model_registry::ModelStatus::Approved => "Approved",
			pallet_model_registry::ModelStatus::Deployed => "Deployed",
			pallet_model_registry::ModelStatus::Retired => "Retired",
		};
		Ok(Some(Lineage {
			model,
			owner: ss58(&record.owner),
			trainer: record.trainer.as_ref().map(ss58),
			status,
			base_model: lineage.base.map(|base| BaseModel {
				id: record.base.0,
				name: text(&base.name),
				architecture: text(&base.architecture),
				weights_hash: hex(base.weights_hash),
				uri: text(&base.uri),
				license: text(&base.license),
			}),
			training_config_hash: hex(record.training_config_hash),
			price_per_1k_input: balance(record.pricing.per_1k_input),
			price_per_1k_output: balance(record.pricing.per_1k_output),
			datanet_versions,
			adapters: lineage
				.adapters
				.into_iter()
				.zip(1u32..)
				.map(|(adapter, version)| Adapter {
					version,
					adapter_hash: hex(adapter.adapter_hash),
					uri: text(&adapter.uri),
					attribution_index_root: hex(adapter.attribution_index_root),
					training_report_hash: hex(adapter.training_report_hash),
					publisher: ss58(&adapter.publisher),
					published_at: adapter.published_at,
				})
				.collect(),
		}))
	}
}
