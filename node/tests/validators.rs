//! End-to-end validator onboarding on a local testnet of four nodes
//! (issue 4): Dave, funded but without stake, has his node generate session
//! keys, registers them and bonds as a validator. After the session changes
//! he is in the validator set, authors blocks, and GRANDPA keeps finalizing
//! with him in the authority set.

mod common;

use std::time::Duration;

use common::{submit_finalized, AtBlock, Client, DevValidator, LocalTestnet, TestNode, OPEN};
use polkadot_sdk::sp_core::Bytes;
use subxt::{
	config::substrate::DigestItem,
	dynamic::{self, Value},
	events::DecodeAsEvent,
	ext::{codec::Decode, scale_decode::DecodeAsType, scale_encode::EncodeAsType},
	rpcs::rpc_params,
	utils::AccountId32,
};
use subxt_signer::sr25519::dev;
use tokio::time::{sleep, Instant};

/// Twice the 10,000 OPEN minimum validator bond.
const DAVE_BOND: u128 = 20_000 * OPEN;
/// A bond elects Dave at the next session change and seats him at the one
/// after: at most two one-minute sessions, plus slack for a loaded machine
/// and for his first turn to author.
const JOIN_TIMEOUT: Duration = Duration::from_secs(240);
/// With four authorities Dave's turn comes every fourth 2 s slot; a minute
/// covers finality's lag and a slow machine many times over.
const FINALITY_TIMEOUT: Duration = Duration::from_secs(60);
/// Blocks that must be finalized after Dave's first finalized block.
const FINALIZED_AFTER_DAVE: u64 = 3;
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Aura's consensus engine id in pre-runtime digests.
const AURA_ENGINE_ID: [u8; 4] = *b"aura";

/// The runtime's `SessionKeys`, in SCALE order: the sr25519 Aura key, then
/// the ed25519 GRANDPA key.
#[derive(Clone, Copy, Debug, EncodeAsType)]
#[encode_as_type(crate_path = "subxt::ext::scale_encode")]
struct SessionKeys {
	aura: [u8; 32],
	grandpa: [u8; 32],
}

/// `Staking.CandidateAdded`: an account entered the validator candidates.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct CandidateAdded {
	who: AccountId32,
	bond: u128,
}

impl DecodeAsEvent for CandidateAdded {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "Staking" && event == "CandidateAdded"
	}
}

#[tokio::test]
async fn a_bonded_validator_authors_blocks_after_the_session_change() {
	let test_started = Instant::now();
	let testnet = LocalTestnet::start(&[
		DevValidator::Alice,
		DevValidator::Bob,
		DevValidator::Charlie,
		DevValidator::Dave,
	])
	.await
	.expect("the local testnet starts and finalizes blocks");
	println!(
		"phase start: four nodes up, finalizing, in {:?}",
		test_started.elapsed()
	);
	let (alice, dave_node) = (
		testnet.node(DevValidator::Alice),
		testnet.node(DevValidator::Dave),
	);
	let dave = dev::dave();
	let dave_id = dave.public_key().to_account_id();

	let genesis = at_finalized(&alice.client).await;
	let genesis_validators = session_validators(&genesis).await;
	let genesis_validator_ids = [dev::alice(), dev::bob(), dev::charlie()]
		.map(|keypair| keypair.public_key().to_account_id());
	assert_eq!(
		sorted(genesis_validators),
		sorted(genesis_validator_ids.to_vec()),
		"Alice, Bob and Charlie are the genesis validators"
	);
	let set_id_before = grandpa_set_id(&genesis).await;

	let phase = Instant::now();
	let keys = register_as_validator(dave_node, &dave_id).await;
	println!(
		"phase register: Dave's node made keys (aura 0x{}), set_keys and bond finalized in {:?}",
		hex(&keys.aura),
		phase.elapsed()
	);

	let phase = Instant::now();
	let deadline = phase + JOIN_TIMEOUT;
	let joined = wait_until_validator(alice, &dave_id, deadline).await;
	let session = session_index(&joined).await;
	println!(
		"phase join: Dave in Session.Validators at finalized #{} (session {session}) after {:?}",
		joined.block_number(),
		phase.elapsed()
	);
	assert!(
		aura_authorities(&joined).await.contains(&keys.aura),
		"Dave's Aura key is an Aura authority once he validates"
	);

	let phase = Instant::now();
	let authored =
		first_finalized_block_by(alice, keys.aura, joined.block_number(), deadline).await;
	println!(
		"phase author: Dave authored finalized #{authored} after {:?}",
		phase.elapsed()
	);

	let phase = Instant::now();
	let target = authored + FINALIZED_AFTER_DAVE;
	let finalized = wait_until_finalized(alice, target).await;
	println!(
		"phase finality: finalized #{} (>= #{target}) after {:?}",
		finalized.block_number(),
		phase.elapsed()
	);
	assert!(
		grandpa_authorities(&finalized)
			.await
			.contains(&keys.grandpa),
		"Dave's GRANDPA key is in the authority set that finalized #{}",
		finalized.block_number()
	);
	assert!(
		grandpa_set_id(&finalized).await > set_id_before,
		"the GRANDPA authority set changed when Dave joined"
	);
	println!("total: {:?}", test_started.elapsed());
}

/// Dave's side of joining: his node generates session keys with a proof
/// that he owns them, he registers them (`Session.set_keys`) and bonds as
/// a validator (`Staking.bond`). Returns the registered keys.
async fn register_as_validator(node: &TestNode, dave_id: &AccountId32) -> SessionKeys {
	let dave = dev::dave();
	let (keys, proof) = rotate_keys_with_owner(node, dave_id).await;

	let set_keys = dynamic::tx("Session", "set_keys", (keys, proof));
	submit_finalized(&node.client, &set_keys, &dave)
		.await
		.wait_for_success()
		.await
		.expect("Session.set_keys accepts keys with Dave's ownership proof");

	let validator = Value::unnamed_variant("Validator", []);
	let bond = dynamic::tx("Staking", "bond", (validator, DAVE_BOND));
	let events = submit_finalized(&node.client, &bond, &dave)
		.await
		.wait_for_success()
		.await
		.expect("Staking.bond as a validator succeeds");
	let added = events
		.find_first::<CandidateAdded>()
		.expect("the bond emitted Staking.CandidateAdded")
		.expect("CandidateAdded decodes");
	assert_eq!(&added.who, dave_id, "Dave became a validator candidate");
	assert_eq!(added.bond, DAVE_BOND, "with all he bonded");
	keys
}

/// `author_rotateKeysWithOwner`: the node generates fresh session keys into
/// its keystore and proves that `owner` (the SCALE-encoded account that will
/// register them) holds their private keys.
async fn rotate_keys_with_owner(node: &TestNode, owner: &AccountId32) -> (SessionKeys, Vec<u8>) {
	let generated: serde_json::Value = node
		.rpc_client
		.request(
			"author_rotateKeysWithOwner",
			rpc_params![Bytes(owner.0.to_vec())],
		)
		.await
		.expect("author_rotateKeysWithOwner answers");
	let field = |name: &str| -> Vec<u8> {
		serde_json::from_value::<Bytes>(generated[name].clone())
			.unwrap_or_else(|e| panic!("`{name}` in {generated} is not hex bytes: {e}"))
			.0
	};
	let keys = field("keys");
	assert_eq!(keys.len(), 64, "session keys are two 32-byte public keys");
	let (aura, grandpa) = keys.split_at(32);
	let keys = SessionKeys {
		aura: aura.try_into().expect("32 bytes"),
		grandpa: grandpa.try_into().expect("32 bytes"),
	};
	(keys, field("proof"))
}

/// Polls the finalized state on `node` until `who` is in
/// `Session.Validators`, and returns that state.
async fn wait_until_validator(node: &TestNode, who: &AccountId32, deadline: Instant) -> AtBlock {
	loop {
		let at = at_finalized(&node.client).await;
		let validators = session_validators(&at).await;
		if validators.contains(who) {
			return at;
		}
		assert!(
			Instant::now() < deadline,
			"{who} not in Session.Validators by finalized #{} (session {}): {validators:?}",
			at.block_number(),
			session_index(&at).await
		);
		sleep(POLL_INTERVAL).await;
	}
}

/// Scans the finalized blocks on `node` from `from` on and returns the
/// number of the first one whose Aura author is `author`.
async fn first_finalized_block_by(
	node: &TestNode,
	author: [u8; 32],
	from: u64,
	deadline: Instant,
) -> u64 {
	let mut next = from;
	loop {
		let finalized = node
			.finalized_number()
			.await
			.expect("the finalized block number");
		while next <= finalized {
			if aura_author(&node.client, next).await == author {
				return next;
			}
			next += 1;
		}
		assert!(
			Instant::now() < deadline,
			"no block authored by Aura key 0x{} among finalized #{from}..=#{finalized}",
			hex(&author)
		);
		sleep(POLL_INTERVAL).await;
	}
}

/// Polls `node` until block `target` is finalized, and returns the finalized
/// state then.
async fn wait_until_finalized(node: &TestNode, target: u64) -> AtBlock {
	let deadline = Instant::now() + FINALITY_TIMEOUT;
	loop {
		let at = at_finalized(&node.client).await;
		if at.block_number() >= target {
			return at;
		}
		assert!(
			Instant::now() < deadline,
			"finality stalled at #{} (waiting for #{target})",
			at.block_number()
		);
		sleep(POLL_INTERVAL).await;
	}
}

/// The Aura key that authored block `number`, as consensus derives it: the
/// slot in the block's pre-runtime digest picks round-robin among the
/// authorities in its parent's state.
async fn aura_author(client: &Client, number: u64) -> [u8; 32] {
	let at = client
		.at_block(number)
		.await
		.unwrap_or_else(|e| panic!("client at #{number}: {e}"));
	let header = at
		.block_header()
		.await
		.unwrap_or_else(|e| panic!("header of #{number}: {e}"));
	let slot = header
		.digest
		.logs
		.iter()
		.find_map(|item| match item {
			DigestItem::PreRuntime(engine, data) if *engine == AURA_ENGINE_ID => {
				Some(u64::decode(&mut data.as_slice()).expect("the Aura slot is a u64"))
			},
			_ => None,
		})
		.unwrap_or_else(|| panic!("#{number} has no Aura pre-runtime digest"));
	let parent = client
		.at_block(header.parent_hash)
		.await
		.unwrap_or_else(|e| panic!("client at the parent of #{number}: {e}"));
	let authorities = aura_authorities(&parent).await;
	let count = u64::try_from(authorities.len()).expect("the authority count fits u64");
	let index = usize::try_from(slot % count).expect("an authority index fits usize");
	*authorities
		.get(index)
		.expect("slot % count indexes the authorities")
}

async fn at_finalized(client: &Client) -> AtBlock {
	client
		.at_current_block()
		.await
		.expect("client at the finalized block")
}

/// The plain storage value `pallet.entry` at block `at`.
async fn read<V: DecodeAsType>(at: &AtBlock, pallet: &str, entry: &str) -> V {
	let address = dynamic::storage::<(), V>(pallet, entry);
	at.storage()
		.fetch(address, ())
		.await
		.unwrap_or_else(|e| {
			panic!(
				"cannot read {pallet}.{entry} at #{}: {e}",
				at.block_number()
			)
		})
		.decode()
		.unwrap_or_else(|e| panic!("{pallet}.{entry} does not decode: {e}"))
}

async fn session_validators(at: &AtBlock) -> Vec<AccountId32> {
	read(at, "Session", "Validators").await
}

async fn session_index(at: &AtBlock) -> u32 {
	read(at, "Session", "CurrentIndex").await
}

async fn aura_authorities(at: &AtBlock) -> Vec<[u8; 32]> {
	read(at, "Aura", "Authorities").await
}

/// The GRANDPA keys of the current authority set (each weighs 1).
async fn grandpa_authorities(at: &AtBlock) -> Vec<[u8; 32]> {
	let weighted: Vec<([u8; 32], u64)> = read(at, "Grandpa", "Authorities").await;
	weighted.into_iter().map(|(key, _weight)| key).collect()
}

async fn grandpa_set_id(at: &AtBlock) -> u64 {
	read(at, "Grandpa", "CurrentSetId").await
}

fn sorted(mut accounts: Vec<AccountId32>) -> Vec<AccountId32> {
	accounts.sort_by_key(|account| account.0);
	accounts
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
