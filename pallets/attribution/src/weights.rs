//! Weights for `pallet_attribution`.
//!
//! PROVISIONAL: written by hand in the shape the benchmark CLI generates,
//! before `benchmarking.rs` was run. The storage access counts follow each
//! call's worst case (the settlement of one receipt counted with 16 scores,
//! the reward ledger's per-credit reads and writes included); the compute and
//! proof-size parts are estimates. `scripts/benchmarks/run.sh
//! pallet_attribution` replaces this file with measured weights.

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

/// Weight functions needed for `pallet_attribution`.
pub trait WeightInfo {
	fn request_inference() -> Weight;
	fn submit_receipt(s: u32, ) -> Weight;
	fn challenge(w: u32, ) -> Weight;
	fn submit_verdict_upheld(s: u32, ) -> Weight;
	fn submit_verdict_voided() -> Weight;
	fn resolve_challenge_upheld(s: u32, ) -> Weight;
	fn resolve_challenge_voided() -> Weight;
	fn settle(s: u32, ) -> Weight;
	fn on_initialize_expire(n: u32, ) -> Weight;
	fn on_initialize_settle(n: u32, ) -> Weight;
	fn deposit_credit() -> Weight;
	fn unlock_credit() -> Weight;
	fn withdraw_credit() -> Weight;
	fn settle_batch(u: u32, c: u32, ) -> Weight;
	fn close_channels(n: u32, ) -> Weight;
}

/// Weights for `pallet_attribution` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn request_inference() -> Weight {
		Weight::from_parts(45_000_000, 8_000)
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn submit_receipt(s: u32, ) -> Weight {
		Weight::from_parts(55_000_000, 9_000)
			.saturating_add(Weight::from_parts(12_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(s.into())))
	}
	fn challenge(w: u32, ) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(Weight::from_parts(6_000_000, 2_700).saturating_mul(w.into()))
			.saturating_add(T::DbWeight::get().reads(8_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(w.into())))
	}
	fn submit_verdict_upheld(s: u32, ) -> Weight {
		Weight::from_parts(220_000_000, 14_000)
			.saturating_add(Weight::from_parts(20_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(16_u64))
			.saturating_add(T::DbWeight::get().writes(14_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(s.into())))
	}
	fn submit_verdict_voided() -> Weight {
		Weight::from_parts(200_000_000, 14_000)
			.saturating_add(T::DbWeight::get().reads(14_u64))
			.saturating_add(T::DbWeight::get().writes(12_u64))
	}
	fn resolve_challenge_upheld(s: u32, ) -> Weight {
		Weight::from_parts(200_000_000, 14_000)
			.saturating_add(Weight::from_parts(20_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(15_u64))
			.saturating_add(T::DbWeight::get().writes(13_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(s.into())))
	}
	fn resolve_challenge_voided() -> Weight {
		Weight::from_parts(180_000_000, 14_000)
			.saturating_add(T::DbWeight::get().reads(13_u64))
			.saturating_add(T::DbWeight::get().writes(11_u64))
	}
	fn settle(s: u32, ) -> Weight {
		Weight::from_parts(120_000_000, 12_000)
			.saturating_add(Weight::from_parts(20_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(T::DbWeight::get().reads(12_u64))
			.saturating_add(T::DbWeight::get().writes(10_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(T::DbWeight::get().writes((2_u64).saturating_mul(s.into())))
	}
	fn on_initialize_expire(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 3_000)
			.saturating_add(Weight::from_parts(25_000_000, 2_700).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(n.into())))
	}
	fn on_initialize_settle(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 3_000)
			.saturating_add(Weight::from_parts(500_000_000, 40_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((60_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((40_u64).saturating_mul(n.into())))
	}
	fn deposit_credit() -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn unlock_credit() -> Weight {
		Weight::from_parts(25_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn withdraw_credit() -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn settle_batch(u: u32, c: u32, ) -> Weight {
		Weight::from_parts(150_000_000, 14_000)
			.saturating_add(Weight::from_parts(80_000_000, 5_300).saturating_mul(u.into()))
			.saturating_add(Weight::from_parts(12_000_000, 5_200).saturating_mul(c.into()))
			.saturating_add(T::DbWeight::get().reads(12_u64))
			.saturating_add(T::DbWeight::get().writes(9_u64))
			.saturating_add(T::DbWeight::get().reads((4_u64).saturating_mul(u.into())))
			.saturating_add(T::DbWeight::get().writes((4_u64).saturating_mul(u.into())))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(c.into())))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(c.into())))
	}
	fn close_channels(n: u32, ) -> Weight {
		Weight::from_parts(35_000_000, 4_000)
			.saturating_add(Weight::from_parts(8_000_000, 2_700).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
}

// For tests and backwards compatibility.
impl WeightInfo for () {
	fn request_inference() -> Weight {
		Weight::from_parts(45_000_000, 8_000)
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn submit_receipt(s: u32, ) -> Weight {
		Weight::from_parts(55_000_000, 9_000)
			.saturating_add(Weight::from_parts(12_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
			.saturating_add(ParityDbWeight::get().reads((1_u64).saturating_mul(s.into())))
	}
	fn challenge(w: u32, ) -> Weight {
		Weight::from_parts(60_000_000, 10_000)
			.saturating_add(Weight::from_parts(6_000_000, 2_700).saturating_mul(w.into()))
			.saturating_add(ParityDbWeight::get().reads(8_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
			.saturating_add(ParityDbWeight::get().reads((1_u64).saturating_mul(w.into())))
	}
	fn submit_verdict_upheld(s: u32, ) -> Weight {
		Weight::from_parts(220_000_000, 14_000)
			.saturating_add(Weight::from_parts(20_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(ParityDbWeight::get().reads(16_u64))
			.saturating_add(ParityDbWeight::get().writes(14_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(ParityDbWeight::get().writes((2_u64).saturating_mul(s.into())))
	}
	fn submit_verdict_voided() -> Weight {
		Weight::from_parts(200_000_000, 14_000)
			.saturating_add(ParityDbWeight::get().reads(14_u64))
			.saturating_add(ParityDbWeight::get().writes(12_u64))
	}
	fn resolve_challenge_upheld(s: u32, ) -> Weight {
		Weight::from_parts(200_000_000, 14_000)
			.saturating_add(Weight::from_parts(20_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(ParityDbWeight::get().reads(15_u64))
			.saturating_add(ParityDbWeight::get().writes(13_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(ParityDbWeight::get().writes((2_u64).saturating_mul(s.into())))
	}
	fn resolve_challenge_voided() -> Weight {
		Weight::from_parts(180_000_000, 14_000)
			.saturating_add(ParityDbWeight::get().reads(13_u64))
			.saturating_add(ParityDbWeight::get().writes(11_u64))
	}
	fn settle(s: u32, ) -> Weight {
		Weight::from_parts(120_000_000, 12_000)
			.saturating_add(Weight::from_parts(20_000_000, 2_600).saturating_mul(s.into()))
			.saturating_add(ParityDbWeight::get().reads(12_u64))
			.saturating_add(ParityDbWeight::get().writes(10_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(s.into())))
			.saturating_add(ParityDbWeight::get().writes((2_u64).saturating_mul(s.into())))
	}
	fn on_initialize_expire(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 3_000)
			.saturating_add(Weight::from_parts(25_000_000, 2_700).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((3_u64).saturating_mul(n.into())))
	}
	fn on_initialize_settle(n: u32, ) -> Weight {
		Weight::from_parts(5_000_000, 3_000)
			.saturating_add(Weight::from_parts(500_000_000, 40_000).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
			.saturating_add(ParityDbWeight::get().reads((60_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((40_u64).saturating_mul(n.into())))
	}
	fn deposit_credit() -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn unlock_credit() -> Weight {
		Weight::from_parts(25_000_000, 3_600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn withdraw_credit() -> Weight {
		Weight::from_parts(45_000_000, 4_000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn settle_batch(u: u32, c: u32, ) -> Weight {
		Weight::from_parts(150_000_000, 14_000)
			.saturating_add(Weight::from_parts(80_000_000, 5_300).saturating_mul(u.into()))
			.saturating_add(Weight::from_parts(12_000_000, 5_200).saturating_mul(c.into()))
			.saturating_add(ParityDbWeight::get().reads(12_u64))
			.saturating_add(ParityDbWeight::get().writes(9_u64))
			.saturating_add(ParityDbWeight::get().reads((4_u64).saturating_mul(u.into())))
			.saturating_add(ParityDbWeight::get().writes((4_u64).saturating_mul(u.into())))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(c.into())))
			.saturating_add(ParityDbWeight::get().writes((3_u64).saturating_mul(c.into())))
	}
	fn close_channels(n: u32, ) -> Weight {
		Weight::from_parts(35_000_000, 4_000)
			.saturating_add(Weight::from_parts(8_000_000, 2_700).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
			.saturating_add(ParityDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((1_u64).saturating_mul(n.into())))
	}
}
