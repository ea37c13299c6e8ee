//! What a worker commits to when it reports an inference, and what a user
//! signs to pay for inferences in batches.
//!
//! The attribution pallet checks these on chain; the inference worker (and
//! the verifiers who re-execute a challenged inference) computes them off
//! chain. Both must agree byte for byte, so the encodings are fixed here.
//!
//! # Scores
//!
//! A receipt's scores are `(ContributionId, u32)` pairs: the contribution and
//! its positive influence on the output in parts per million
//! ([`SCORE_PPM_WHOLE`] is the whole), sorted by strictly increasing
//! contribution id, each at least 1, summing to at most [`SCORE_PPM_WHOLE`].
//!
//! # Scores root
//!
//! [`scores_root`] is the merkle root (see [`crate::merkle`]) over one leaf
//! per score, in the order given. A leaf is
//! `blake2_256(SCALE(contribution, score))`: the contribution id as 8 bytes
//! little-endian followed by the score as 4 bytes little-endian, 12 bytes in
//! all. No scores give the empty root, 32 zero bytes.
//!
//! # Result hash
//!
//! [`result_hash`] is what honest re-execution of an inference reproduces;
//! receipts, challengers and verifiers compare it. It is
//! `blake2_256(SCALE(output_hash, method, scores, proof))`, that is of:
//!
//! | bytes | field |
//! | --- | --- |
//! | 32 | `output_hash` |
//! | 1 | `method`: `0x00` Gradient, `0x01` Span |
//! | compact | number of scores (SCALE compact integer: `n << 2` for n < 64) |
//! | 12 each | each score: contribution id u64 LE, score u32 LE |
//! | 110 | the [`ProofCommitment`], its fields in declaration order |
//!
//! The proof commitment's 110 bytes are: `adapter_hash` (32),
//! `attribution_index_root` (32), `method` (1), `projection_seed` (u64 LE),
//! `lambda_fp` (u32 LE), `fixed_point_frac_bits` (1), `scores_root` (32).
//!
//! # Vouchers
//!
//! A [`Voucher`] is a user's signed, cumulative authorisation for one worker
//! to charge its prepaid credit for inferences on one model. The signed
//! message ([`Voucher::signing_payload`]) is the 21 ASCII bytes
//! `openledger/voucher/v1`, then the chain's genesis hash (32 bytes), then
//! the SCALE-encoded voucher (user, worker, model id u32 LE, `expires_at`
//! block u32 LE, `cumulative_fee_cap` u128 LE). Wallets that sign raw bytes
//! the polkadot.js way wrap them as `<Bytes>` ++ payload ++ `</Bytes>`
//! ([`wrap_for_wallet`]); the chain accepts either form, and the charge that
//! carries the signature says which ([`PayloadForm`]), so each voucher costs
//! one signature check.

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use scale_info::TypeInfo;

use crate::{merkle, ContributionId, Hash, ModelId};

/// The whole, in the parts per million that scores are counted in.
pub const SCORE_PPM_WHOLE: u32 = 1_000_000;

/// How the worker measured influence (DESIGN §9).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub enum Method {
	/// Randomly projected LoRA gradients scored against the training index.
	#[codec(index = 0)]
	Gradient,
	/// Maximal spans of the output found in the datanet corpus.
	#[codec(index = 1)]
	Span,
}

/// What a receipt's attribution is bound to: the adapter and index it was
/// computed against, the method and its parameters, and the scores. With
/// these fixed, recomputation is deterministic.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct ProofCommitment {
	/// BLAKE2b-256 of the adapter's weights file that served the inference.
	pub adapter_hash: Hash,
	/// Root of the attribution index built while training that adapter.
	pub attribution_index_root: Hash,
	/// The attribution method; must equal the receipt's.
	pub method: Method,
	/// Seed of the random projection (Gradient); 0 when unused.
	pub projection_seed: u64,
	/// The damping term lambda, as a fixed-point number with
	/// `fixed_point_frac_bits` fractional bits.
	pub lambda_fp: u32,
	/// Fractional bits of the fixed-point format the scores were computed in.
	pub fixed_point_frac_bits: u8,
	/// [`scores_root`] of the receipt's scores.
	pub scores_root: Hash,
}

/// The `prompt_commitment` of `request_inference`: BLAKE2b-256 of the
/// prompt's UTF-8 bytes, exactly as the user sends them to the worker
/// (`blake2AsHex(prompt)` in polkadot.js).
pub fn prompt_commitment(prompt: &str) -> Hash {
	Hash::from(blake2_256(prompt.as_bytes()))
}

/// The leaf that `(contribution, score)` contributes to [`scores_root`].
pub fn score_leaf(contribution: ContributionId, score: u32) -> merkle::Hash32 {
	blake2_256(&(contribution, score).encode())
}

/// The merkle root over the leaves of `scores`, in the order given.
pub fn scores_root(scores: &[(ContributionId, u32)]) -> Hash {
	let leaves: Vec<merkle::Hash32> = scores
		.iter()
		.map(|(contribution, score)| score_leaf(*contribution, *score))
		.collect();
	Hash::from(merkle::merkle_root(&leaves))
}

/// The hash that honest re-execution of an inference reproduces (see the
/// module docs for its preimage).
pub fn result_hash(
	output_hash: &Hash,
	method: Method,
	scores: &[(ContributionId, u32)],
	proof: &ProofCommitment,
) -> Hash {
	Hash::from(blake2_256(&(output_hash, method, scores, proof).encode()))
}

/// A batch of inferences settled in one extrinsic, numbered from 0.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Default,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct BatchId(pub u64);

impl BatchId {
	/// The id after this one, or `None` once the id space is used up.
	pub fn next(self) -> Option<Self> {
		self.0.checked_add(1).map(Self)
	}
}

/// Prefix of every voucher's signed message: keeps a voucher signature from
/// being valid as anything else.
pub const VOUCHER_CONTEXT: &[u8; 21] = b"openledger/voucher/v1";

/// A user's authorisation for `worker` to charge, for inferences on `model`,
/// up to `cumulative_fee_cap` in all from the user's prepaid credit.
///
/// Vouchers with the same user, worker, model and `expires_at` form one
/// channel: each new voucher raises the cap, and the chain charges a channel
/// at most its latest cap in total. The voucher is void from block
/// `expires_at` on; a wallet starts a new channel by choosing a new expiry.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct Voucher<AccountId, Balance, BlockNumber> {
	/// Who pays, and signs.
	pub user: AccountId,
	/// Who may charge.
	pub worker: AccountId,
	/// For inferences on this model.
	pub model: ModelId,
	/// First block at which the voucher is no longer valid.
	pub expires_at: BlockNumber,
	/// The most the channel may be charged in total.
	pub cumulative_fee_cap: Balance,
}

impl<AccountId: Encode, Balance: Encode, BlockNumber: Encode>
	Voucher<AccountId, Balance, BlockNumber>
{
	/// The message the user signs: [`VOUCHER_CONTEXT`], the chain's genesis
	/// hash (32 bytes), the SCALE-encoded voucher.
	pub fn signing_payload(&self, genesis_hash: &[u8]) -> Vec<u8> {
		let mut payload = Vec::with_capacity(
			VOUCHER_CONTEXT
				.len()
				.saturating_add(genesis_hash.len())
				.saturating_add(self.encoded_size()),
		);
		payload.extend_from_slice(VOUCHER_CONTEXT);
		payload.extend_from_slice(genesis_hash);
		self.encode_to(&mut payload);
		payload
	}
}

/// The bytes a user actually signed for a voucher: its payload as it is, or
/// wrapped the way browser wallets sign raw bytes.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub enum PayloadForm {
	/// [`Voucher::signing_payload`] itself (keystores, subxt-signer).
	#[codec(index = 0)]
	Raw,
	/// [`wrap_for_wallet`] of the payload (polkadot.js `signRaw`).
	#[codec(index = 1)]
	Wallet,
}

impl PayloadForm {
	/// The message a signature in this form covers.
	pub fn message(self, payload: Vec<u8>) -> Vec<u8> {
		match self {
			Self::Raw => payload,
			Self::Wallet => wrap_for_wallet(&payload),
		}
	}
}

/// `payload` as browser wallets sign raw bytes: `<Bytes>payload</Bytes>`.
pub fn wrap_for_wallet(payload: &[u8]) -> Vec<u8> {
	const OPEN: &[u8] = b"<Bytes>";
	const CLOSE: &[u8] = b"</Bytes>";
	let mut wrapped = Vec::with_capacity(
		payload
			.len()
			.saturating_add(OPEN.len())
			.saturating_add(CLOSE.len()),
	);
	wrapped.extend_from_slice(OPEN);
	wrapped.extend_from_slice(payload);
	wrapped.extend_from_slice(CLOSE);
	wrapped
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hex(bytes: &[u8]) -> String {
		bytes.iter().map(|byte| format!("{byte:02x}")).collect()
	}

	fn example_scores() -> Vec<(ContributionId, u32)> {
		vec![(ContributionId(1), 600_000), (ContributionId(7), 400_000)]
	}

	fn example_proof(scores: &[(ContributionId, u32)]) -> ProofCommitment {
		ProofCommitment {
			adapter_hash: Hash::repeat_byte(0xaa),
			attribution_index_root: Hash::repeat_byte(0xbb),
			method: Method::Span,
			projection_seed: 42,
			lambda_fp: 0x0001_0000,
			fixed_point_frac_bits: 16,
			scores_root: scores_root(scores),
		}
	}

	/// Fixed vectors, computed once with an independent BLAKE2b-256 (Python's
	/// `hashlib.blake2b(digest_size=32)`) from the layout in the module docs.
	/// The worker checks its encoder against the same values.
	#[test]
	fn fixed_test_vectors() {
		let scores = example_scores();
		assert_eq!(
			hex(&score_leaf(ContributionId(1), 600_000)),
			"0bc553fc45333ab1c0ec68fb16f0ca5e0f357f150e9b1e7b1c79d744ba23190f"
		);
		assert_eq!(
			hex(scores_root(&scores).as_bytes()),
			"9241c01a8e2add8645442a65ba908f7309e01bb1194875d417cb18deed26aa89"
		);
		let proof = example_proof(&scores);
		assert_eq!(proof.encoded_size(), 110);
		assert_eq!(
			hex(result_hash(&Hash::repeat_byte(0x11), Method::Span, &scores, &proof).as_bytes()),
			"c8506008843b3288e537951e99f55e4e134032714ec775d3a228968e5244a23d"
		);
		let empty = ProofCommitment {
			adapter_hash: Hash::repeat_byte(0xaa),
			attribution_index_root: Hash::repeat_byte(0xbb),
			method: Method::Gradient,
			projection_seed: 7,
			lambda_fp: 0x4000,
			fixed_point_frac_bits: 16,
			scores_root: scores_root(&[]),
		};
		assert_eq!(empty.scores_root, Hash::zero());
		assert_eq!(
			hex(result_hash(&Hash::repeat_byte(0x22), Method::Gradient, &[], &empty).as_bytes()),
			"8806c09011c3d64d0c5b10dbde580d332616272e7f872e7a93c7c450e07f2690"
		);
	}

	#[test]
	fn voucher_payload_layout() {
		let voucher = Voucher {
			user: [0x02u8; 32],
			worker: [0x03u8; 32],
			model: ModelId(5),
			expires_at: 1_000u32,
			cumulative_fee_cap: 1_000_000_000_000_000_000u128,
		};
		let payload = voucher.signing_payload(Hash::repeat_byte(0x01).as_bytes());
		assert_eq!(payload.len(), 141);
		assert_eq!(
			hex(&payload),
			concat!(
				"6f70656e6c65646765722f766f75636865722f7631",
				"0101010101010101010101010101010101010101010101010101010101010101",
				"0202020202020202020202020202020202020202020202020202020202020202",
				"0303030303030303030303030303030303030303030303030303030303030303",
				"05000000",
				"e8030000",
				"000064a7b3b6e00d0000000000000000",
			)
		);
		let wrapped = wrap_for_wallet(&payload);
		assert!(wrapped.starts_with(b"<Bytes>") && wrapped.ends_with(b"</Bytes>"));
		assert_eq!(wrapped.len(), payload.len() + 15);
	}

	#[test]
	fn every_field_changes_the_result_hash() {
		let scores = example_scores();
		let proof = example_proof(&scores);
		let output = Hash::repeat_byte(0x11);
		let base = result_hash(&output, Method::Span, &scores, &proof);
		assert_ne!(
			base,
			result_hash(&Hash::repeat_byte(0x12), Method::Span, &scores, &proof)
		);
		assert_ne!(
			base,
			result_hash(&output, Method::Gradient, &scores, &proof)
		);
		let mut other_scores = scores.clone();
		other_scores[1].1 = 399_999;
		assert_ne!(
			base,
			result_hash(&output, Method::Span, &other_scores, &proof)
		);
		let variants = [
			ProofCommitment {
				projection_seed: 43,
				..proof
			},
			ProofCommitment {
				lambda_fp: 1,
				..proof
			},
			ProofCommitment {
				fixed_point_frac_bits: 15,
				..proof
			},
			ProofCommitment {
				adapter_hash: Hash::repeat_byte(0xab),
				..proof
			},
			ProofCommitment {
				attribution_index_root: Hash::repeat_byte(0xbc),
				..proof
			},
			ProofCommitment {
				scores_root: Hash::zero(),
				..proof
			},
		];
		for variant in variants {
			assert_ne!(base, result_hash(&output, Method::Span, &scores, &variant));
		}
	}

	#[test]
	fn scores_root_depends_on_order_and_values() {
		let scores = example_scores();
		let mut reversed = scores.clone();
		reversed.reverse();
		assert_ne!(scores_root(&scores), scores_root(&reversed));
		assert_ne!(
			scores_root(&scores),
			scores_root(&[(ContributionId(1), 600_000), (ContributionId(7), 400_001)])
		);
	}
}
