//! Weights for `pallet_openledger_staking`.
//!
//! PROVISIONAL: these numbers are placeholders in the shape that
//! `frame-benchmarking-cli` generates, written before the benchmarks in
//! `benchmarking.rs` were run. They count the storage accesses of each
//! call's worst case but their compute and proof-size parts are estimates,
//! not measurements. Regenerate this file with
//! `frame-omni-bencher v1 benchmark pallet --pallet=pallet_openledger_staking
//! --extrinsic=* --steps=50 --repeat=20 --output=pallets/staking/src/weights.rs`
//! before the chain launches.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_openledger_staking`.
pub trait WeightInfo {
	fn bond() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn slash_agent() -> Weight;
	fn slash() -> Weight;
}

/// Weights for `pallet_openledger_staking` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Staking::Bonds` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Staking::Candidates` (r:1 w:1)
	/// Storage: `Staking::TotalActive` (r:1 w:1)
	fn bond() -> Weight {
		Weight::from_parts(60_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Staking::Bonds` (r:1 w:1)
	/// Storage: `Staking::Candidates` (r:1 w:1)
	/// Storage: `Staking::TotalActive` (r:1 w:1)
	fn unbond() -> Weight {
		Weight::from_parts(45_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Staking::Bonds` (r:3 w:3)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(60_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Staking::Bonds` (r:1 w:1)
	/// Storage: `Staking::TotalActive` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:2 w:2)
	fn slash_agent() -> Weight {
		Weight::from_parts(60_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Staking::Bonds` (r:1 w:1)
	/// Storage: `Staking::TotalActive` (r:1 w:1)
	/// Storage: `Staking::Candidates` (r:1 w:1)
	/// Storage: `Balances::Holds` (r:1 w:1)
	/// Storage: `System::Account` (r:3 w:3)
	fn slash() -> Weight {
		Weight::from_parts(75_000_000, 12_000)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn bond() -> Weight {
		Weight::from_parts(60_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn unbond() -> Weight {
		Weight::from_parts(45_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads(3_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn withdraw_unbonded() -> Weight {
		Weight::from_parts(60_000_000, 12_000)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn slash_agent() -> Weight {
		Weight::from_parts(60_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn slash() -> Weight {
		Weight::from_parts(75_000_000, 12_000)
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(7_u64))
	}
}
