//! Genesis and supply invariants of the runtime's presets.

use crate::{
	configs::{pools, VESTING_CLIFF, VESTING_DURATION},
	genesis_config_presets::{self, DEV_ACCOUNT_BALANCE, GENESIS_VALIDATOR_BOND},
	Balances, Grandpa, Runtime, RuntimeGenesisConfig, SupplyCap, System, OPEN, TOTAL_SUPPLY_CAP,
};
use polkadot_sdk::{
	frame_support::traits::{
		fungible::Inspect,
		tokens::{Fortitude, Preservation},
	},
	sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
	sp_io::TestExternalities,
	sp_runtime::BuildStorage,
	*,
};
use serde_json::Value;

/// Applies a preset's JSON patch over the default genesis config, as the
/// node's chain-spec builder does.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

fn preset_ext(name: &str) -> TestExternalities {
	let patch = genesis_config_presets::get_preset(&name.into()).expect("preset exists");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, serde_json::from_slice(&patch).unwrap());
	let config: RuntimeGenesisConfig = serde_json::from_value(config).unwrap();
	let mut ext = TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn free(pool: polkadot_sdk::frame_support::PalletId) -> u128 {
	Balances::free_balance(pools::account(pool))
}

#[test]
fn every_preset_mints_exactly_the_cap() {
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		preset_ext(preset).execute_with(|| {
			assert_eq!(Balances::total_issuance(), TOTAL_SUPPLY_CAP, "{preset}");
			assert_eq!(TOTAL_SUPPLY_CAP, 1_000_000_000 * OPEN);
			// Genesis validator bonds are held, so they count in `reserved`.
			let summed: u128 = frame_system::Account::<Runtime>::iter_values()
				.map(|account| account.data.free + account.data.reserved)
				.sum();
			assert_eq!(summed, TOTAL_SUPPLY_CAP, "{preset}");
			assert_eq!(SupplyCap::ensure_within_cap(), Ok(()));
			assert_eq!(SupplyCap::headroom(), 0);
		});
	}
}

#[test]
fn pools_hold_the_design_allocation() {
	preset_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		// The rewards pot starts with its existential deposit, taken from the
		// community pool it pays out for.
		let pot_seed = <<Runtime as pallet_balances::Config>::ExistentialDeposit as frame_support::traits::Get<u128>>::get();
		assert_eq!(free(pools::REWARDS_POT), pot_seed);
		assert_eq!(free(pools::COMMUNITY), 517_100_000 * OPEN - pot_seed);
		assert_eq!(free(pools::INVESTORS), 182_900_000 * OPEN);
		assert_eq!(free(pools::TEAM), 150_000_000 * OPEN);
		assert_eq!(free(pools::LIQUIDITY), 50_000_000 * OPEN);
		// The twelve well-known dev accounts and the existential deposits of
		// the protocol pool and the credit pot are funded from the ecosystem
		// pool.
		assert_eq!(
			free(pools::ECOSYSTEM),
			100_000_000 * OPEN - 12 * DEV_ACCOUNT_BALANCE - 2 * pot_seed
		);
		assert_eq!(free(pools::PROTOCOL), pot_seed);
		assert_eq!(free(pools::CREDIT_POT), pot_seed);
		let alice = polkadot_sdk::sp_keyring::Sr25519Keyring::Alice.to_account_id();
		assert_eq!(Balances::total_balance(&alice), DEV_ACCOUNT_BALANCE);
		assert_eq!(
			Balances::free_balance(&alice),
			DEV_ACCOUNT_BALANCE - GENESIS_VALIDATOR_BOND
		);
	});
}

#[test]
fn team_and_investor_pools_are_locked_until_the_cliff() {
	preset_ext(DEV_RUNTIME_PRESET).execute_with(|| {
		for pool in [pools::TEAM, pools::INVESTORS] {
			let who = pools::account(pool);
			let spendable = <Balances as Inspect<_>>::reducible_balance(
				&who,
				Preservation::Expendable,
				Fortitude::Polite,
			);
			assert_eq!(spendable, 0);
			let schedule = pallet_vesting::Vesting::<Runtime>::get(&who).unwrap()[0];
			assert_eq!(schedule.starting_block(), VESTING_CLIFF);
			assert_eq!(schedule.locked(), free(pool));
			// Fully vested after the cliff plus 36 months (up to rounding of
			// the per-block amount, which vests in the last block).
			let blocks_to_unlock = schedule.locked() / schedule.per_block();
			assert!(blocks_to_unlock >= VESTING_DURATION as u128);
			assert!(blocks_to_unlock <= VESTING_DURATION as u128 + 1);
		}
	});
}

#[test]
fn presets_name_their_validators() {
	for (preset, validators) in [(DEV_RUNTIME_PRESET, 1), (LOCAL_TESTNET_RUNTIME_PRESET, 3)] {
		preset_ext(preset).execute_with(|| {
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), validators);
			assert_eq!(Grandpa::grandpa_authorities().len(), validators);
			assert_eq!(
				pallet_session::Validators::<Runtime>::get().len(),
				validators
			);
			for validator in pallet_session::Validators::<Runtime>::get() {
				assert_eq!(
					pallet_openledger_staking::Pallet::<Runtime>::voting_weight_of(validator),
					GENESIS_VALIDATOR_BOND
				);
			}
		});
	}
}

#[test]
fn unknown_presets_are_refused() {
	assert_eq!(genesis_config_presets::get_preset(&"mainnet".into()), None);
	assert_eq!(genesis_config_presets::preset_names().len(), 2);
}

#[test]
fn votes_end_before_unbonded_open_can_leave() {
	use crate::configs::{MaxVotingPeriod, UnbondingPeriod, VotingPeriod};
	assert!(MaxVotingPeriod::get() < UnbondingPeriod::get());
	assert!(VotingPeriod::get() <= MaxVotingPeriod::get());
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		preset_ext(preset).execute_with(|| {
			assert_eq!(
				pallet_model_registry::Pallet::<Runtime>::voting_period(),
				genesis_config_presets::DEV_VOTING_PERIOD
			);
		});
	}
}

#[test]
fn development_chains_settle_in_seconds() {
	use genesis_config_presets::{DEV_CHALLENGE_WINDOW, DEV_SERVE_TIMEOUT, DEV_VERIFY_WINDOW};
	for preset in [DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET] {
		preset_ext(preset).execute_with(|| {
			assert_eq!(
				pallet_attribution::WindowBlocks::<Runtime>::get(),
				pallet_attribution::Windows {
					serve_timeout: DEV_SERVE_TIMEOUT,
					challenge_window: DEV_CHALLENGE_WINDOW,
					verify_window: DEV_VERIFY_WINDOW,
				}
			);
		});
	}
}
