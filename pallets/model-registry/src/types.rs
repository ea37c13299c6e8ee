//! The registry's domain types: base models, models and their lifecycle,
//! adapter versions, votes and the governance bounds on fee splits.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use openledger_primitives::{BaseModelId, DatanetId, FeeSplit, Hash, Pricing};
use polkadot_sdk::sp_runtime::Perbill;
use scale_info::TypeInfo;

pub use openledger_primitives::datanets::VersionNumber;

/// A foundation model that specialised models fine-tune. Registered by
/// governance, which vouches for its weights and license.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct BaseModel<Name, Architecture, Uri, License, BlockNumber> {
	/// Human-readable name, e.g. `SmolLM2-135M-Instruct`.
	pub name: Name,
	/// Architecture the workers must implement, e.g. `llama`.
	pub architecture: Architecture,
	/// BLAKE2b-256 of the weights file.
	pub weights_hash: Hash,
	/// Where the weights can be fetched.
	pub uri: Uri,
	/// SPDX license identifier of the weights, e.g. `Apache-2.0`.
	pub license: License,
	/// Block in which it was registered.
	pub registered_at: BlockNumber,
}

/// A datanet version a model is trained on.
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
	Debug,
)]
pub struct DatanetVersionRef {
	/// The datanet.
	pub datanet: DatanetId,
	/// One of its published versions.
	pub version: VersionNumber,
}

/// Where a model stands.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModelStatus<BlockNumber> {
	/// Stakers vote on the proposal until `ends_at`, when it is decided.
	Voting {
		/// The block whose initialisation decides the vote.
		ends_at: BlockNumber,
	},
	/// Approved: the owner or trainer may publish its first adapter.
	Approved,
	/// Serving: has at least one adapter version; workers may serve it.
	Deployed,
	/// Retired by its owner or governance: kept for lineage, not served.
	Retired,
}

/// A specialised model: a base model fine-tuned on datanet versions.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Model<AccountId, Balance, BlockNumber, DatanetVersions> {
	/// Who proposed it: receives the developer share of fees, may retire it.
	pub owner: AccountId,
	/// May publish adapters besides the owner (e.g. a ModelFactory job).
	pub trainer: Option<AccountId>,
	/// The base model it fine-tunes.
	pub base: BaseModelId,
	/// The datanet versions it is trained on, sorted and distinct.
	pub datanet_versions: DatanetVersions,
	/// BLAKE2b-256 of the training configuration (LoRA rank, steps, ...).
	pub training_config_hash: Hash,
	/// What an inference costs.
	pub pricing: Pricing<Balance>,
	/// How inference fees are divided.
	pub split: FeeSplit,
	/// Where it stands.
	pub status: ModelStatus<BlockNumber>,
	/// The proposal bond held from the owner: partly slashed if the proposal
	/// is rejected with too little support, returned on retirement.
	pub bond: Balance,
	/// Storage deposit for this record and its tally, held from the owner
	/// for as long as the record exists.
	pub deposit: Balance,
	/// Block in which it was proposed.
	pub proposed_at: BlockNumber,
	/// Adapter versions published, numbered 1 to this.
	pub adapter_versions: u32,
}

/// One published LoRA adapter of a model. Never changed or removed: past
/// inferences name the version they ran.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct AdapterVersion<AccountId, Balance, BlockNumber, Uri> {
	/// BLAKE2b-256 of the adapter's weights file.
	pub adapter_hash: Hash,
	/// Where the adapter can be fetched.
	pub uri: Uri,
	/// Root of the attribution index built while training: commits to the
	/// per-contribution data the worker attributes against.
	pub attribution_index_root: Hash,
	/// BLAKE2b-256 of the training report (loss curve, evaluation).
	pub training_report_hash: Hash,
	/// Who published it: the owner or the trainer.
	pub publisher: AccountId,
	/// Block in which it was published.
	pub published_at: BlockNumber,
	/// Storage deposit held from the publisher. The record is permanent, so
	/// the deposit is never returned.
	pub deposit: Balance,
}

/// A voter's side.
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
pub enum Vote {
	/// For approval.
	Aye,
	/// Against approval.
	Nay,
}

/// A vote as cast: its side and the voting weight it carried when cast.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct VoteRecord<Balance> {
	/// The side.
	pub vote: Vote,
	/// The voter's bonded OPEN when the vote was cast.
	pub weight: Balance,
	/// Storage deposit held from the voter until the vote is removed.
	pub deposit: Balance,
}

/// The running count of a proposal's votes.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Tally<Balance> {
	/// Weight for approval.
	pub ayes: Balance,
	/// Weight against approval.
	pub nays: Balance,
	/// Accounts with a vote counted.
	pub voters: u32,
}

/// What a client sees of a proposal's vote: the tally and what deciding it
/// now would need.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct TallyView<Balance, BlockNumber> {
	/// The votes so far.
	pub tally: Tally<Balance>,
	/// The block whose initialisation decides the vote.
	pub ends_at: BlockNumber,
	/// Turnout (ayes + nays) needed for a decision, at today's total bond.
	pub quorum: Balance,
	/// Whether the proposal would pass if decided now.
	pub passing: bool,
}

/// The least and most each share of a model's fee split may be. Set by
/// governance; proposals must fall within.
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
pub struct SplitBounds {
	/// Lower bound of each share.
	pub min: FeeSplit,
	/// Upper bound of each share.
	pub max: FeeSplit,
}

impl SplitBounds {
	/// Bounds are usable when each minimum is at most its maximum and some
	/// complete split (shares summing to 100 %) lies within them.
	pub fn is_satisfiable(&self) -> bool {
		let pairs = self.min.shares().into_iter().zip(self.max.shares());
		let mut min_sum = 0u64;
		let mut max_sum = 0u64;
		for (low, high) in pairs {
			if low > high {
				return false;
			}
			min_sum = min_sum.saturating_add(u64::from(low.deconstruct()));
			max_sum = max_sum.saturating_add(u64::from(high.deconstruct()));
		}
		let whole = u64::from(Perbill::one().deconstruct());
		min_sum <= whole && whole <= max_sum
	}

	/// Whether `split` is complete and each of its shares within bounds.
	pub fn admits(&self, split: &FeeSplit) -> bool {
		split.is_complete()
			&& split
				.shares()
				.into_iter()
				.zip(self.min.shares().into_iter().zip(self.max.shares()))
				.all(|(share, (low, high))| low <= share && share <= high)
	}
}

/// A model's history for clients: the model, its base, every adapter
/// version, and the datanet versions it was trained on (whose contributions
/// the datanets pallet lists).
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Lineage<Model, Base, Adapter> {
	/// The model.
	pub model: Model,
	/// Its base model.
	pub base: Option<Base>,
	/// Its adapter versions, oldest first, numbered from 1.
	pub adapters: alloc::vec::Vec<Adapter>,
}
