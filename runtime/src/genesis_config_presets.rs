//! Genesis presets: `development` (one validator, Alice) and `local_testnet`
//! (Alice, Bob and Charlie). Both mint exactly [`TOTAL_SUPPLY_CAP`] across
//! the allocation pools of DESIGN §3; the dev accounts are funded out of the
//! ecosystem pool, so the sum stays at the cap.

use crate::{
	configs::{pools, VESTING_CLIFF, VESTING_DURATION},
	AccountId, AttributionConfig, Balance, BalancesConfig, BlockNumber, ModelRegistryConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, StakingConfig, SudoConfig, VestingConfig,
	OPEN, TOTAL_SUPPLY_CAP,
};
use alloc::{vec, vec::Vec};
use polkadot_sdk::{
	frame_support::build_struct_json_patch,
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
	sp_runtime::Perbill,
};
use serde_json::Value;

/// Share of the supply per pool, in parts per billion; they sum to 100 %.
/// DESIGN §3 rounds the community share to 51.7 %, which would leave 0.01 %
/// of the cap unminted; the published OpenLedger allocation is 51.71 %.
pub const COMMUNITY_SHARE: Perbill = Perbill::from_parts(517_100_000);
pub const ECOSYSTEM_SHARE: Perbill = Perbill::from_percent(10);
pub const INVESTORS_SHARE: Perbill = Perbill::from_parts(182_900_000);
pub const TEAM_SHARE: Perbill = Perbill::from_percent(15);
pub const LIQUIDITY_SHARE: Perbill = Perbill::from_percent(5);

/// The protocol pool's balance at genesis: the existential deposit, taken
/// from the ecosystem pool.
pub const PROTOCOL_POOL_SEED: Balance = crate::configs::EXISTENTIAL_DEPOSIT;

/// The credit pot's balance at genesis: the existential deposit, taken from
/// the ecosystem pool, so that credit can always leave it in full.
pub const CREDIT_POT_SEED: Balance = crate::configs::EXISTENTIAL_DEPOSIT;

/// What each dev account starts with, carved out of the ecosystem pool.
pub const DEV_ACCOUNT_BALANCE: Balance = 1_000_000 * OPEN;

/// The balances genesis mints: every pool, and the dev accounts funded from
/// the ecosystem share. The amounts always add up to exactly the cap.
pub fn allocation(dev_accounts: &[AccountId]) -> Vec<(AccountId, Balance)> {
	let share = |part: Perbill| part.mul_floor(TOTAL_SUPPLY_CAP);
	let dev_total = DEV_ACCOUNT_BALANCE.saturating_mul(dev_accounts.len() as Balance);
	let others = [
		COMMUNITY_SHARE,
		INVESTORS_SHARE,
		TEAM_SHARE,
		LIQUIDITY_SHARE,
	]
	.into_iter()
	.fold(0, |sum: Balance, part| sum.saturating_add(share(part)));
	// The ecosystem pool takes whatever the others leave, so rounding can
	// never mint above or below the cap. It also seeds the protocol pool with
	// the existential deposit (fee shares and dust smaller than that must be
	// able to land there from the first block), and the credit pot (the
	// attribution pallet keeps it alive when credit leaves it).
	let ecosystem = TOTAL_SUPPLY_CAP
		.saturating_sub(others)
		.saturating_sub(dev_total)
		.saturating_sub(PROTOCOL_POOL_SEED)
		.saturating_sub(CREDIT_POT_SEED);

	let mut minted = vec![
		(pools::account(pools::COMMUNITY), share(COMMUNITY_SHARE)),
		(pools::account(pools::ECOSYSTEM), ecosystem),
		(pools::account(pools::INVESTORS), share(INVESTORS_SHARE)),
		(pools::account(pools::TEAM), share(TEAM_SHARE)),
		(pools::account(pools::LIQUIDITY), share(LIQUIDITY_SHARE)),
		(pools::account(pools::PROTOCOL), PROTOCOL_POOL_SEED),
		(pools::account(pools::CREDIT_POT), CREDIT_POT_SEED),
	];
	minted.extend(
		dev_accounts
			.iter()
			.cloned()
			.map(|who| (who, DEV_ACCOUNT_BALANCE)),
	);
	minted
}

/// Vesting of the team and investor pools: locked for [`VESTING_CLIFF`],
/// then released linearly over [`VESTING_DURATION`].
fn vesting_schedules() -> Vec<(AccountId, u32, u32, Balance)> {
	[pools::TEAM, pools::INVESTORS]
		.into_iter()
		.map(|pool| (pools::account(pool), VESTING_CLIFF, VESTING_DURATION, 0))
		.collect()
}

/// A genesis validator: its account, and the session keys it signs with.
pub struct Authority {
	pub account: AccountId,
	pub keys: SessionKeys,
}

/// What each genesis validator bonds: ten times the minimum.
pub const GENESIS_VALIDATOR_BOND: Balance = 100_000 * OPEN;

/// Blocks a model proposal is open for votes on development chains: a
/// minute, so that a developer sees a vote through while watching.
pub const DEV_VOTING_PERIOD: BlockNumber = 30;

/// The attribution windows of development chains, in blocks: a request is
/// served within a minute, a receipt can be challenged for 30 seconds and
/// settles after that, verifiers answer within a minute.
pub const DEV_SERVE_TIMEOUT: BlockNumber = 30;
pub const DEV_CHALLENGE_WINDOW: BlockNumber = 15;
pub const DEV_VERIFY_WINDOW: BlockNumber = 30;

fn genesis(authorities: Vec<Authority>, dev_accounts: Vec<AccountId>, root: AccountId) -> Value {
	// Aura and GRANDPA take their first authorities from the session keys
	// below; their own genesis lists must stay empty.
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: allocation(&dev_accounts)
		},
		session: SessionConfig {
			keys: authorities
				.iter()
				.map(|a| (a.account.clone(), a.account.clone(), a.keys.clone()))
				.collect::<Vec<_>>(),
		},
		staking: StakingConfig {
			validators: authorities
				.iter()
				.map(|a| (a.account.clone(), GENESIS_VALIDATOR_BOND))
				.collect::<Vec<_>>(),
		},
		vesting: VestingConfig {
			vesting: vesting_schedules()
		},
		sudo: SudoConfig { key: Some(root) },
		model_registry: ModelRegistryConfig {
			voting_period: Some(DEV_VOTING_PERIOD)
		},
		attribution: AttributionConfig {
			serve_timeout: Some(DEV_SERVE_TIMEOUT),
			challenge_window: Some(DEV_CHALLENGE_WINDOW),
			verify_window: Some(DEV_VERIFY_WINDOW),
		},
	})
}

/// A well-known dev validator: sr25519 account and Aura key, ed25519
/// GRANDPA key, all from the same dev seed (`//Alice`, ...).
fn authority(account: Sr25519Keyring, grandpa: Ed25519Keyring) -> Authority {
	Authority {
		account: account.to_account_id(),
		keys: SessionKeys {
			aura: account.public().into(),
			grandpa: grandpa.public().into(),
		},
	}
}

fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.collect()
}

/// One validator, Alice, who is also root.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Alice, Bob and Charlie validate; Alice is root.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of a named preset, for `GenesisBuilder::get_preset`.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch)
		.ok()
		.map(|json| json.into_bytes())
}

pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
