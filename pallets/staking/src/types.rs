//! The staking domain: per-role ledgers, unbonding chunks, validator
//! candidates and planned validator sets.

use crate::{BalanceOf, Config};
use codec::{Decode, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{
		BoundedVec, CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound, PartialEqNoBound,
	},
	frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::traits::{Saturating, Zero},
};
use scale_info::TypeInfo;

/// Index of a session, as `pallet-session` counts them.
pub type SessionIndex = u32;

/// Unbonded OPEN that stays on hold, and slashable, until `unlock_at`.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct UnlockChunk<T: Config> {
	/// OPEN still held in this chunk.
	pub value: BalanceOf<T>,
	/// First block at which `withdraw_unbonded` releases the chunk.
	pub unlock_at: BlockNumberFor<T>,
}

/// One account's stake in one role. Everything in it is held under
/// [`crate::HoldReason::Bonded`].
#[derive(
	Encode,
	Decode,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	DefaultNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct RoleLedger<T: Config> {
	/// The bond that counts: for the role, for voting, for validator election.
	pub active: BalanceOf<T>,
	/// Unbonding chunks, oldest first; `unlock_at` never decreases along the queue.
	pub unlocking: BoundedVec<UnlockChunk<T>, T::MaxUnlockingChunks>,
}

impl<T: Config> RoleLedger<T> {
	/// OPEN still unbonding in this role.
	pub fn unlocking_total(&self) -> BalanceOf<T> {
		self.unlocking
			.iter()
			.fold(Zero::zero(), |sum: BalanceOf<T>, chunk| {
				sum.saturating_add(chunk.value)
			})
	}

	/// Everything held for this role: active plus unbonding. Slashable stake.
	pub fn total(&self) -> BalanceOf<T> {
		self.active.saturating_add(self.unlocking_total())
	}

	/// A ledger with nothing in it is removed from storage.
	pub fn is_empty(&self) -> bool {
		self.active.is_zero() && self.unlocking.is_empty()
	}

	/// The OPEN in chunks that have matured by `now`.
	pub fn matured(&self, now: BlockNumberFor<T>) -> BalanceOf<T> {
		self.unlocking
			.iter()
			.filter(|chunk| chunk.unlock_at <= now)
			.fold(Zero::zero(), |sum: BalanceOf<T>, chunk| {
				sum.saturating_add(chunk.value)
			})
	}
}

/// A validator candidate and its active validator bond. The bond is a copy
/// of the ledger's so that the candidate list can be kept sorted without
/// reading every ledger.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Candidate<T: Config> {
	pub who: T::AccountId,
	pub bond: BalanceOf<T>,
}

/// The list of validator candidates, highest bond first; among equal bonds,
/// the earlier bonder first.
pub type CandidateList<T> = BoundedVec<Candidate<T>, <T as Config>::MaxValidatorCandidates>;

/// A validator set of at most `MaxValidators`.
pub type ValidatorList<T> =
	BoundedVec<<T as polkadot_sdk::frame_system::Config>::AccountId, <T as Config>::MaxValidators>;

/// The set `new_session` handed to `pallet-session`, which it activates when
/// `session` starts.
#[derive(
	Encode, Decode, MaxEncodedLen, TypeInfo, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct PlannedSet<T: Config> {
	pub session: SessionIndex,
	pub validators: ValidatorList<T>,
}
