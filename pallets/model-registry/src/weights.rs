//! Weights for `pallet_model_registry`.
//!
//! PROVISIONAL: written by hand in the shape the benchmark CLI generates,
//! before `benchmarking.rs` was run; the storage access counts follow each
//! call's worst case, the compute and proof-size parts are estimates.
//! `scripts/benchmarks/run.sh pallet_model_registry` replaces this file
//! with measured weights.

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

/// Weight functions needed for `pallet_model_registry`.
pub trait WeightInfo {
	fn register_base_model() -> Weight;
	fn propose_model(d: u32, ) -> Weight;
	fn vote() -> Weight;
	fn remove_vote() -> Weight;
	fn publish_adapter() -> Weight;
	fn serve() -> Weight;
	fn unserve() -> Weight;
	fn retire() -> Weight;
	fn set_split_bounds() -> Weight;
	fn set_voting_period() -> Weight;
	fn on_initialize_decide(n: u32, ) -> Weight;
}

/// Weights for `pallet_model_registry` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_base_model() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn propose_model(d: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(Weight::from_parts(20_000_000, 3_000).saturating_mul(d.into()))
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(d.into())))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(d.into())))
	}
	fn vote() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn remove_vote() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn publish_adapter() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(4_u64))
	}
	fn serve() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn unserve() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	fn retire() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().reads(3_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn set_split_bounds() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn set_voting_period() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn on_initialize_decide(n: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(Weight::from_parts(20_000_000, 3_000).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(n.into())))
	}
}

// For tests and backwards compatibility.
impl WeightInfo for () {
	fn register_base_model() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn propose_model(d: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(Weight::from_parts(20_000_000, 3_000).saturating_mul(d.into()))
			.saturating_add(ParityDbWeight::get().reads(6_u64))
			.saturating_add(ParityDbWeight::get().writes(6_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(d.into())))
			.saturating_add(ParityDbWeight::get().writes((3_u64).saturating_mul(d.into())))
	}
	fn vote() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn remove_vote() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn publish_adapter() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(4_u64))
			.saturating_add(ParityDbWeight::get().writes(4_u64))
	}
	fn serve() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(6_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn unserve() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(5_u64))
			.saturating_add(ParityDbWeight::get().writes(5_u64))
	}
	fn retire() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().reads(3_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn set_split_bounds() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn set_voting_period() -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn on_initialize_decide(n: u32, ) -> Weight {
		Weight::from_parts(50_000_000, 6_000)
			.saturating_add(Weight::from_parts(20_000_000, 3_000).saturating_mul(n.into()))
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
			.saturating_add(ParityDbWeight::get().reads((3_u64).saturating_mul(n.into())))
			.saturating_add(ParityDbWeight::get().writes((3_u64).saturating_mul(n.into())))
	}
}
