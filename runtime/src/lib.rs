//! # OpenLedger runtime
//!
//! The state transition function of the OpenLedger chain: FRAME's system
//! pallets, the OPEN token (`pallet-balances`), fees, vesting of the team and
//! investor allocations, and the OpenLedger pallets.
//!
//! Pallet configuration lives in [`configs`], runtime APIs in [`apis`], and
//! the genesis allocations in [`genesis_config_presets`].

#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Declared before `apis` so that `apis` can use the macros it defines
// (`list_benchmarks!`, `add_benchmarks!`) by their plain names.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;

#[cfg(test)]
mod tests;

use polkadot_sdk::{
	sp_runtime::{generic, impl_opaque_keys, traits::BlakeTwo256, MultiAddress},
	sp_version::{runtime_version, RuntimeVersion},
	*,
};

pub use openledger_primitives::{
	time::{DAYS, HOURS, MILLISECS_PER_BLOCK, MINUTES, MONTHS, SLOT_DURATION},
	token::{MICRO_OPEN, MILLI_OPEN, OPEN, SS58_PREFIX, TOTAL_SUPPLY_CAP},
	AccountId, Balance, BlockNumber, Hash, Nonce, Signature,
};

/// Types the node needs without knowing the runtime's call or event types.
pub mod opaque {
	use super::*;

	pub use polkadot_sdk::sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
}

impl_opaque_keys! {
	/// The keys a validator registers: Aura for authoring, GRANDPA for finality.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("openledger"),
	impl_name: alloc::borrow::Cow::Borrowed("openledger"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Utility = pallet_utility;

	#[runtime::pallet_index(7)]
	pub type Vesting = pallet_vesting;

	#[runtime::pallet_index(8)]
	pub type SupplyCap = pallet_supply_cap;

	#[runtime::pallet_index(9)]
	pub type Sudo = pallet_sudo;

	// Staking comes before Session: Session's genesis asks Staking for the
	// first validator set, so the genesis bonds must already exist.
	#[runtime::pallet_index(10)]
	pub type Staking = pallet_openledger_staking;

	#[runtime::pallet_index(11)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(20)]
	pub type Datanets = pallet_datanets;

	#[runtime::pallet_index(21)]
	pub type ModelRegistry = pallet_model_registry;

	// Declared after Balances: its genesis moves the pot's existential
	// deposit out of the funded community pool.
	#[runtime::pallet_index(22)]
	pub type Rewards = pallet_rewards;

	#[runtime::pallet_index(23)]
	pub type Attribution = pallet_attribution;
}

/// How an extrinsic names an account: wallets send the 32-byte id.
pub type Address = MultiAddress<AccountId, ()>;
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// Checks every signed transaction passes, in order. All but
/// `CheckNonZeroSender`, `CheckWeight` and `WeightReclaim` are known to
/// polkadot.js and subxt by name; those three add no bytes to the payload.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run on the next runtime upgrade, beyond the pallets' own.
type Migrations = ();

pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;
