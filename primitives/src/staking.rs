//! Staking roles and the interface other pallets use to read and slash bonds.
//!
//! `pallets/staking` implements [`BondedStake`]; the model registry (voting
//! weight, worker bonds), attribution (bad receipts, lost challenges) and
//! governance depend only on this trait, never on the staking pallet itself.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{Perbill, Weight};
use scale_info::TypeInfo;

use crate::InferenceId;

/// What a bond is for. Each role has its own minimum bond and its own
/// ledger, so a worker's stake can be slashed without touching the same
/// account's validator stake.
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
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub enum Role {
	/// Produces and finalises blocks once elected into the session's set.
	Validator,
	/// Serves inferences and submits attribution receipts.
	Worker,
	/// An autonomous agent acting on chain; governance may slash it.
	Agent,
}

impl Role {
	/// Every role, in ledger order.
	pub const ALL: [Role; 3] = [Role::Validator, Role::Worker, Role::Agent];
}

/// Why stake was slashed; recorded in the `Slashed` event.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub enum SlashReason {
	/// The worker's receipt for this inference was proven wrong.
	BadReceipt(InferenceId),
	/// The account lost the challenge of this inference's receipt.
	LostChallenge(InferenceId),
	/// Governance found the agent misbehaving; the hash names the evidence.
	AgentMisbehaviour(crate::Hash),
	/// A validator offence; the hash names the evidence.
	ValidatorOffence(crate::Hash),
}

/// Read and slash OPEN bonds. "Bonded" always means the active bond: stake
/// that is unbonding still backs slashes but no longer counts for roles or
/// voting.
pub trait BondedStake<AccountId, Balance> {
	/// The active bond of `who` in `role`.
	fn bonded(who: &AccountId, role: Role) -> Balance;

	/// The active bonds of all accounts in all roles: the base of governance
	/// quorums.
	fn total_bonded() -> Balance;

	/// Governance voting weight of `who`: its active bonds across all roles.
	fn voting_weight(who: &AccountId) -> Balance;

	/// Whether `who`'s active bond in `role` meets that role's minimum.
	fn is_active(who: &AccountId, role: Role) -> bool;

	/// Slashes `fraction` of `who`'s stake in `role` (active bond plus
	/// unbonding chunks), the active bond first. The slashed OPEN goes to
	/// `beneficiary` when given (e.g. the reporter of a fault), else to the
	/// protocol pool. Returns what was slashed; zero if `who` has no stake
	/// in `role`.
	fn slash(
		who: &AccountId,
		role: Role,
		fraction: Perbill,
		beneficiary: Option<AccountId>,
		reason: SlashReason,
	) -> Balance;

	/// Upper bound on the weight of one [`Self::slash`], for callers to
	/// include in their own extrinsic weights.
	fn slash_weight() -> Weight;
}
