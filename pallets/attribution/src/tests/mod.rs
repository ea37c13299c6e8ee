//! Tests of the attribution pallet, one file per topic. Every test that
//! touches storage runs inside `ExtBuilder::build_and_execute`, which checks
//! the pallet's invariants (`do_try_state`), that no OPEN was minted or
//! burned, and that the stand-in reward ledger is backed by its pot.

use crate::{mock::*, *};
use openledger_primitives::attribution::{result_hash, scores_root, PayloadForm};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::Inspect},
	frame_system,
	sp_core::Pair,
	sp_runtime::{DispatchError, MultiSignature},
};

mod batch;
mod challenges;
mod conservation;
mod fees;
mod receipts;
mod requests;
mod settlement;
mod throughput;
mod try_state;

pub const PROMPT: Hash = Hash::repeat_byte(0x50);
pub const OUTPUT: Hash = Hash::repeat_byte(0x0f);
pub const TOKENS_IN: u32 = 500;
pub const TOKENS_OUT: u32 = 200;
/// The fee of [`TOKENS_IN`] and [`TOKENS_OUT`] at [`PRICING`]:
/// 500 + 600 + the platform fee of 100.
pub const FEE: Balance = 1_200;
pub const MAX_FEE: Balance = 2_000;

pub fn signed(who: &AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who.clone())
}

/// User number 1.
pub fn alice() -> AccountId {
	user(1)
}

/// User number 2.
pub fn bob() -> AccountId {
	user(2)
}

/// `user` asks WORKER for an inference on MODEL with [`MAX_FEE`].
pub fn request(user: &AccountId) -> InferenceId {
	let id = NextInferenceId::<Test>::get();
	assert_ok!(Attribution::request_inference(
		signed(user),
		MODEL,
		WORKER,
		PROMPT,
		MAX_FEE
	));
	id
}

pub fn bounded_scores(list: &[(ContributionId, u32)]) -> ScoresOf<Test> {
	BoundedVec::try_from(list.to_vec()).unwrap()
}

/// Scores of LIVE[0], LIVE[2] and LIVE[3]: 30 %, 60 % and 10 %.
pub fn standard_scores() -> Vec<(ContributionId, u32)> {
	vec![(LIVE[0], 300_000), (LIVE[2], 600_000), (LIVE[3], 100_000)]
}

/// A Span proof over `scores` against MODEL's adapter.
pub fn proof_for(scores: &[(ContributionId, u32)]) -> ProofCommitment {
	ProofCommitment {
		adapter_hash: ADAPTER_HASH,
		attribution_index_root: INDEX_ROOT,
		method: Method::Span,
		projection_seed: 0,
		lambda_fp: 0,
		fixed_point_frac_bits: 16,
		scores_root: scores_root(scores),
	}
}

/// The result hash of an honest receipt with `scores`.
pub fn honest_result(scores: &[(ContributionId, u32)]) -> Hash {
	result_hash(&OUTPUT, Method::Span, scores, &proof_for(scores))
}

/// WORKER's receipt for `id` with `scores`, as a call result.
pub fn try_submit(id: InferenceId, scores: &[(ContributionId, u32)]) -> DispatchResult {
	Attribution::submit_receipt(
		signed(&WORKER),
		id,
		TOKENS_IN,
		TOKENS_OUT,
		OUTPUT,
		Method::Span,
		bounded_scores(scores),
		proof_for(scores),
	)
}

/// `user`'s inference with WORKER's receipt with the standard scores.
pub fn receipted(user: &AccountId) -> InferenceId {
	let id = request(user);
	assert_ok!(try_submit(id, &standard_scores()));
	id
}

/// All OPEN outside the reward pot: every account's free and held balance,
/// plus what the ledger owes each account. Conserved by every flow.
pub fn value_outside_pot() -> Balance {
	let balances: Balance = frame_system::Account::<Test>::iter_keys()
		.filter(|who| *who != POT)
		.map(|who| Balances::total_balance(&who))
		.sum();
	balances.saturating_add(pallet_rewards::TotalClaimable::<Test>::get())
}

/// A voucher of user `n` for WORKER on MODEL.
pub fn voucher(n: u8, cap: Balance, expires_at: u64) -> VoucherOf<Test> {
	Voucher {
		user: user(n),
		worker: WORKER,
		model: MODEL,
		expires_at,
		cumulative_fee_cap: cap,
	}
}

/// `voucher` signed by user `n`, as the chain expects.
pub fn sign(n: u8, voucher: &VoucherOf<Test>) -> MultiSignature {
	let genesis = frame_system::Pallet::<Test>::block_hash(0);
	MultiSignature::from(user_pair(n).sign(&voucher.signing_payload(genesis.as_ref())))
}

/// User `n`'s charge of `fee` under a voucher with `cap`, valid 50 blocks.
pub fn charge(n: u8, fee: Balance, cap: Balance) -> UserChargeOf<Test> {
	let voucher = voucher(n, cap, 50);
	UserCharge {
		signature: sign(n, &voucher),
		form: PayloadForm::Raw,
		voucher,
		fee,
	}
}

pub fn batch_of(
	inferences: u32,
	charges: Vec<UserChargeOf<Test>>,
	contributors: &[(ContributionId, u64)],
) -> BatchOf<Test> {
	let mut charges = charges;
	charges.sort_by(|a, b| a.voucher.user.cmp(&b.voucher.user));
	Batch {
		receipts_root: Hash::repeat_byte(0x4b),
		inferences,
		per_user: BoundedVec::try_from(charges).unwrap(),
		contributors: BoundedVec::try_from(contributors.to_vec()).unwrap(),
	}
}

/// User `n` prepays `amount`.
pub fn deposit(n: u8, amount: Balance) {
	assert_ok!(Attribution::deposit_credit(signed(&user(n)), amount));
}
