//! The pallets `benchmark pallet` can measure, and the names it knows them by.

polkadot_sdk::frame_benchmarking::define_benchmarks!(
	[pallet_datanets, Datanets]
	[pallet_openledger_staking, Staking]
	[pallet_model_registry, ModelRegistry]
	[pallet_rewards, Rewards]
	[pallet_attribution, Attribution]
);
