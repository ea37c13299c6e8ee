//! JSON-RPC methods beyond the standard ones every Substrate node serves.

mod openledger;

pub use openledger::{OpenLedger, OpenLedgerApiServer};

use std::sync::Arc;

use jsonrpsee::RpcModule;
use openledger_runtime::{opaque::Block, AccountId, Balance, Nonce};
use polkadot_sdk::{
	sc_transaction_pool_api::TransactionPool,
	sp_api::ProvideRuntimeApi,
	sp_block_builder::BlockBuilder,
	sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata},
	*,
};

/// What the RPC handlers need from the node.
pub struct FullDeps<C, P> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
}

/// The node's extra RPC methods: account nonces (`system_accountNextIndex`),
/// fee estimates (`payment_queryInfo`, `payment_queryFeeDetails`) and
/// OpenLedger's accounts of contributors and models as JSON
/// (`openledger_contributor`, `openledger_modelLineage`).
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
		+ pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
		+ frame_support::view_functions::runtime_api::RuntimeViewFunction<Block>
		+ BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let FullDeps { client, pool } = deps;
	let mut module = RpcModule::new(());
	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(OpenLedger::new(client).into_rpc())?;
	Ok(module)
}
