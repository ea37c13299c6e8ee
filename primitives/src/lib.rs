//! # OpenLedger primitives
//!
//! Types and constants that the runtime, the node and the inference worker
//! must agree on byte for byte: account and balance types, the OPEN token's
//! units and supply cap, and block timing.

#![cfg_attr(not(feature = "std"), no_std)]

use polkadot_sdk::sp_runtime::{
	traits::{IdentifyAccount, Verify},
	MultiSignature,
};

/// Signature scheme of extrinsics: sr25519, ed25519 or ecdsa, as wallets send.
pub type Signature = MultiSignature;

/// An account: the 32-byte public key behind [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Amounts of OPEN, in its smallest unit (10^-18 OPEN).
pub type Balance = u128;

/// Block height.
pub type BlockNumber = u32;

/// Transaction counter of an account.
pub type Nonce = u32;

/// Block and extrinsic hashes (blake2-256).
pub type Hash = polkadot_sdk::sp_core::H256;

/// Everything about the OPEN token that is fixed for the life of the chain.
pub mod token {
	use super::Balance;

	/// Ticker shown by wallets.
	pub const SYMBOL: &str = "OPEN";
	/// Decimal places between one OPEN and its smallest unit.
	pub const DECIMALS: u8 = 18;
	/// One OPEN in the smallest unit.
	pub const OPEN: Balance = 1_000_000_000_000_000_000;
	/// A thousandth of an OPEN.
	pub const MILLI_OPEN: Balance = OPEN / 1_000;
	/// A millionth of an OPEN.
	pub const MICRO_OPEN: Balance = MILLI_OPEN / 1_000;
	/// Total supply, minted once at genesis; no code path may mint beyond it.
	pub const TOTAL_SUPPLY_CAP: Balance = 1_000_000_000 * OPEN;
	/// Address prefix of OpenLedger accounts (SS58), used by node, runtime and clients.
	pub const SS58_PREFIX: u16 = 6060;
}

/// Block timing: OpenLedger produces a block every two seconds.
pub mod time {
	use super::BlockNumber;

	/// Target time between blocks, which is also the Aura slot length.
	pub const MILLISECS_PER_BLOCK: u64 = 2_000;
	/// Aura slot length.
	pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

	pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
	pub const HOURS: BlockNumber = MINUTES * 60;
	pub const DAYS: BlockNumber = HOURS * 24;
	/// A month as used by vesting and emission schedules: 365/12 days.
	pub const MONTHS: BlockNumber = DAYS * 365 / 12;
}

pub mod ids;
pub mod merkle;
pub use ids::{BaseModelId, ContributionId, DatanetId, InferenceId, ModelId};
pub mod staking;
pub use staking::{BondedStake, Role, SlashReason};
pub mod datanets;
pub mod rewards;
pub use datanets::DatanetsInspect;
pub use rewards::{PenaltyScore, RewardLedger};
pub mod models;
pub use models::{inference_fee, DeployedModel, FeeSplit, ModelRegistryInspect, Pricing};
pub mod attribution;
pub use attribution::{BatchId, Method, ProofCommitment, Voucher};
