//! Weights for `pallet_rewards`.
//!
//! PROVISIONAL: these numbers are placeholders in the shape that
//! `scripts/benchmarks/weight-template.hbs` generates, written before the
//! benchmarks in `benchmarking.rs` were run. They count the storage accesses
//! of each benchmark's worst case, but their compute and proof-size parts are
//! estimates, not measurements. Regenerate this file with
//! `scripts/benchmarks/run.sh pallet_rewards` before the chain launches.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::{
	frame_support::{
		traits::Get,
		weights::{constants::ParityDbWeight, Weight},
	},
	frame_system,
};

/// Weight functions needed for `pallet_rewards`.
pub trait WeightInfo {
	fn claim() -> Weight;
	fn pay_rewards(n: u32, ) -> Weight;
	fn note_attribution() -> Weight;
	fn note_settled_inferences() -> Weight;
	fn raise_penalty() -> Weight;
	fn on_initialize_base() -> Weight;
	fn close_epoch() -> Weight;
	fn start_payout() -> Weight;
	fn pay_earners(n: u32, ) -> Weight;
	fn finish_payout() -> Weight;
}

/// Weights for `pallet_rewards` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Rewards::Claimable` (r:1 w:1)
	/// Storage: `System::Account` (r:2 w:2)
	/// Storage: `Rewards::TotalClaimable` (r:1 w:1)
	/// Storage: `Rewards::Claimed` (r:1 w:1)
	fn claim() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `6196`
		// Provisional, not measured.
		Weight::from_parts(45_000_000, 6196)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:0)
	/// Storage: `Rewards::PenaltyScores` (r:n w:0)
	/// Storage: `Rewards::TotalClaimable` (r:1 w:1)
	/// Storage: `System::Account` (r:3 w:3)
	/// Storage: `Rewards::Claimable` (r:n w:n)
	/// The range of component `n` is `[1, 1000]`.
	fn pay_rewards(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `8799 + n * (2603 ±0)`
		// Provisional, not measured.
		Weight::from_parts(60_000_000, 8799)
			.saturating_add(Weight::from_parts(12_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(4_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2603).saturating_mul(n.into()))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:1)
	/// Storage: `Rewards::Earnings` (r:1 w:1)
	fn note_attribution() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3593`
		// Provisional, not measured.
		Weight::from_parts(15_000_000, 3593)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:1)
	/// Storage: `Rewards::Earnings` (r:1 w:1)
	fn note_settled_inferences() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3593`
		// Provisional, not measured.
		Weight::from_parts(15_000_000, 3593)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:0)
	/// Storage: `Rewards::PenaltyScores` (r:1 w:1)
	fn raise_penalty() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3517`
		// Provisional, not measured.
		Weight::from_parts(15_000_000, 3517)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:1)
	/// Storage: `Rewards::Earnings` (r:1 w:1)
	/// Storage: `Rewards::ActivePayout` (r:1 w:0)
	/// Storage: `Rewards::NextEpochToPay` (r:1 w:0)
	fn on_initialize_base() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3593`
		// Provisional, not measured.
		Weight::from_parts(20_000_000, 3593)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:1)
	/// Storage: `Rewards::ClosedEpochs` (r:0 w:1)
	fn close_epoch() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `1561`
		// Provisional, not measured.
		Weight::from_parts(15_000_000, 1561)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Rewards::NextEpochToPay` (r:1 w:0)
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:0)
	/// Storage: `Rewards::ClosedEpochs` (r:1 w:1)
	/// Storage: `Rewards::TotalEmitted` (r:1 w:0)
	/// Storage: `System::Account` (r:2 w:2)
	fn start_payout() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `6196`
		// Provisional, not measured.
		Weight::from_parts(45_000_000, 6196)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Rewards::CurrentEpoch` (r:1 w:0)
	/// Storage: `Rewards::Earnings` (r:n w:n)
	/// Storage: `Rewards::PenaltyScores` (r:n w:n)
	/// Storage: `Rewards::Claimable` (r:n w:n)
	/// Storage: `Rewards::TotalClaimable` (r:1 w:1)
	/// Storage: `Rewards::TotalEmitted` (r:1 w:1)
	/// The range of component `n` is `[1, 500]`.
	fn pay_earners(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `1561 + n * (2603 ±0)`
		// Provisional, not measured.
		Weight::from_parts(10_000_000, 1561)
			.saturating_add(Weight::from_parts(25_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2603).saturating_mul(n.into()))
	}
	/// Storage: `System::Account` (r:2 w:2)
	/// Storage: `Rewards::ActivePayout` (r:0 w:1)
	/// Storage: `Rewards::NextEpochToPay` (r:0 w:1)
	fn finish_payout() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `6196`
		// Provisional, not measured.
		Weight::from_parts(35_000_000, 6196)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
}

/// The same weights with ParityDB's database weights, for tests and mocks.
impl WeightInfo for () {
	fn claim() -> Weight {
		Weight::from_parts(45_000_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn pay_rewards(n: u32, ) -> Weight {
		Weight::from_parts(60_000_000, 8799)
			.saturating_add(Weight::from_parts(12_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
			.saturating_add(ParityDbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2603).saturating_mul(n.into()))
	}
	fn note_attribution() -> Weight {
		Weight::from_parts(15_000_000, 3593)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn note_settled_inferences() -> Weight {
		Weight::from_parts(15_000_000, 3593)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn raise_penalty() -> Weight {
		Weight::from_parts(15_000_000, 3517)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn on_initialize_base() -> Weight {
		Weight::from_parts(20_000_000, 3593)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn close_epoch() -> Weight {
		Weight::from_parts(15_000_000, 1561)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn start_payout() -> Weight {
		Weight::from_parts(45_000_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(6_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn pay_earners(n: u32, ) -> Weight {
		Weight::from_parts(10_000_000, 1561)
			.saturating_add(Weight::from_parts(25_000_000, 0).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
			.saturating_add(ParityDbWeight::get().writes((3_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2603).saturating_mul(n.into()))
	}
	fn finish_payout() -> Weight {
		Weight::from_parts(35_000_000, 6196)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
}
