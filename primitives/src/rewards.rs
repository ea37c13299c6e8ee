//! The interface through which other pallets pay and score accounts.
//!
//! `pallets/rewards` implements [`RewardLedger`] and [`PenaltyScore`];
//! attribution (fee settlement, lost challenges) and the datanets pallet
//! (rejected contributions, through the runtime) depend only on these traits.

use polkadot_sdk::sp_runtime::{DispatchResult, Weight};

/// A pull ledger of OPEN owed to accounts, backed one for one by the rewards
/// pot.
pub trait RewardLedger<AccountId, Balance> {
	/// Moves the sum of `credits` from `payer`'s free balance into the
	/// rewards pot and adds each amount to its account's claimable balance.
	/// All or nothing: on error nothing moved and nothing was credited.
	/// The pot's balance grows by exactly what the ledger owes more, so the
	/// ledger stays fully backed.
	fn pay_rewards(payer: &AccountId, credits: &[(AccountId, Balance)]) -> DispatchResult;

	/// Counts `credit` of attribution earned by `who` (a data contributor)
	/// in the current epoch, towards its share of the epoch's emission.
	fn note_attribution(who: &AccountId, credit: Balance);

	/// Counts `count` inferences that `worker` served and that settled in
	/// the current epoch, towards its share of the epoch's emission.
	fn note_settled_inferences(worker: &AccountId, count: u32);

	/// Upper bound on the weight of one [`Self::pay_rewards`] with
	/// `credits` entries.
	fn pay_rewards_weight(credits: u32) -> Weight;

	/// Upper bound on the weight of one `note_*` call.
	fn note_weight() -> Weight;
}

/// A misbehaviour score per account that lowers its future rewards.
pub trait PenaltyScore<AccountId> {
	/// Raises `who`'s penalty score by `points`.
	fn raise_penalty(who: &AccountId, points: u32);

	/// Upper bound on the weight of one [`Self::raise_penalty`].
	fn raise_penalty_weight() -> Weight;
}

impl<AccountId> PenaltyScore<AccountId> for () {
	fn raise_penalty(_: &AccountId, _: u32) {}

	fn raise_penalty_weight() -> Weight {
		Weight::zero()
	}
}
