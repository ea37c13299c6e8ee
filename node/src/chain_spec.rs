//! Built-in chain specifications, generated from the runtime's genesis presets.

use openledger_primitives::token;
use openledger_runtime::WASM_BINARY;
use polkadot_sdk::{sc_service::ChainType, sp_genesis_builder};

pub type ChainSpec = polkadot_sdk::sc_service::GenericChainSpec;

/// What wallets show for the native token and addresses.
fn properties() -> polkadot_sdk::sc_service::Properties {
	let mut properties = polkadot_sdk::sc_service::Properties::new();
	properties.insert("tokenSymbol".into(), token::SYMBOL.into());
	properties.insert("tokenDecimals".into(), token::DECIMALS.into());
	properties.insert("ss58Format".into(), token::SS58_PREFIX.into());
	properties
}

fn from_preset(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
) -> Result<ChainSpec, String> {
	let wasm = WASM_BINARY
		.ok_or_else(|| "the runtime Wasm was not built (SKIP_WASM_BUILD set?)".to_string())?;
	Ok(ChainSpec::builder(wasm, None)
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

/// One validator, Alice: `--dev`.
pub fn development() -> Result<ChainSpec, String> {
	from_preset(
		"OpenLedger Development",
		"openledger_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// Alice, Bob and Charlie validate: `--chain local`.
pub fn local_testnet() -> Result<ChainSpec, String> {
	from_preset(
		"OpenLedger Local Testnet",
		"openledger_local",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
	)
}
