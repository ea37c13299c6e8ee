//! The domain types of datanets: the datanet itself, its curators, its
//! contributions and its published versions.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use openledger_primitives::{ContributionId, DatanetId};
use polkadot_sdk::frame_support::{weights::Weight, BoundedVec};
use scale_info::TypeInfo;

/// BLAKE2b-256 of an off-chain payload, or of a datanet's description.
pub type ContentHash = [u8; 32];

pub use openledger_primitives::datanets::VersionNumber;

/// Who may contribute to a datanet.
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
pub enum Visibility {
	/// Anyone may contribute.
	Public,
	/// Only the owner and the accounts on the owner's allowlist may contribute.
	Permissioned,
}

/// Whether a datanet still takes contributions.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DatanetStatus {
	/// Takes contributions, reviews and new versions.
	Open,
	/// Closed by its owner: frozen, kept only as the header of its published
	/// versions.
	Closed,
}

/// What a contribution's payload is, so that trainers can pick what they use.
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
pub enum ContributionKind {
	/// Natural-language text: documents, articles, transcripts.
	Text,
	/// Instruction or chat examples (prompt and response pairs).
	Instructions,
	/// Source code.
	Code,
	/// Tables, CSV, JSON records.
	Tabular,
	/// Images.
	Image,
	/// Audio.
	Audio,
	/// Video.
	Video,
	/// Anything else.
	Other,
}

/// Why a reviewer rejected a contribution; it is recorded in the rejection
/// event so the contributor (and the rewards pallet) can tell what went wrong.
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
pub enum RejectReason {
	/// The payload is of too low quality to train on.
	LowQuality,
	/// The payload does not belong to this datanet's domain.
	OffTopic,
	/// The payload repeats data the datanet already has (under another hash).
	Duplicate,
	/// The payload could not be fetched from its URI, or its BLAKE2b-256 hash
	/// does not match the content hash.
	Unavailable,
	/// The payload may not be used under the license it was offered with.
	LicenseViolation,
	/// The payload is harmful: illegal content, personal data, malware.
	Harmful,
	/// Another reason.
	Other,
}

/// A reviewer's verdict on a pending contribution.
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
pub enum Review {
	/// The contribution joins the datanet's next version.
	Accept,
	/// The contribution is turned away and part of its bond is slashed.
	Reject {
		/// Why.
		reason: RejectReason,
	},
}

/// Where a contribution stands.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ContributionStatus {
	/// Submitted and bonded, waiting for review.
	Pending,
	/// Accepted: part of every version from `first_version` on, until
	/// retracted.
	Accepted {
		/// The first version that includes (or will include) it.
		first_version: VersionNumber,
	},
	/// Accepted, published, then retracted by its contributor: left out of
	/// every later version, kept because published versions refer to it.
	Retracted,
}

/// A datanet: a curated, domain-specific set of contributions.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Datanet<AccountId, Balance, BlockNumber, Name, Summary, Tags> {
	/// Who created it; reviews, manages curators and the allowlist, and
	/// publishes versions. Receives the slashed share of rejected bonds.
	pub owner: AccountId,
	/// Short display name (UTF-8).
	pub name: Name,
	/// One-paragraph summary (UTF-8).
	pub summary: Summary,
	/// BLAKE2b-256 of the full description, kept off chain.
	pub description_hash: ContentHash,
	/// Topic tags (UTF-8 each), for discovery.
	pub tags: Tags,
	/// Who may contribute.
	pub visibility: Visibility,
	/// What each contribution holds from its contributor until reviewed.
	pub contribution_bond: Balance,
	/// Storage deposit held from the owner for this record; returned on close.
	pub deposit: Balance,
	/// Open or closed.
	pub status: DatanetStatus,
	/// Block in which it was created.
	pub created_at: BlockNumber,
	/// Contributions waiting for review.
	pub pending: u32,
	/// Accepted contributions that are not retracted: the next version's
	/// content.
	pub accepted: u32,
	/// Accepted contributions that no version includes yet.
	pub unpublished: u32,
	/// Entries on the allowlist.
	pub allowlisted: u32,
	/// The newest published version, 0 before the first.
	pub latest_version: VersionNumber,
}

/// A curator of a datanet and the deposit the owner holds for the entry.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Curator<AccountId, Balance> {
	/// The curator, who may review contributions.
	pub account: AccountId,
	/// Storage deposit held from the owner for this entry.
	pub deposit: Balance,
}

/// One contribution: metadata about a payload that lives off chain.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Contribution<AccountId, Balance, BlockNumber, Uri, License> {
	/// The datanet it was offered to.
	pub datanet: DatanetId,
	/// Who offered it; credited by attribution when it is used.
	pub contributor: AccountId,
	/// BLAKE2b-256 of the payload.
	pub content_hash: ContentHash,
	/// Size of the payload in bytes.
	pub size_bytes: u64,
	/// Where the payload can be fetched (e.g. `ipfs://...`, `https://...`).
	pub uri: Uri,
	/// SPDX license identifier of the payload (e.g. `CC-BY-4.0`).
	pub license: License,
	/// What the payload is.
	pub kind: ContributionKind,
	/// The bond held from the contributor while the contribution is pending.
	pub bond: Balance,
	/// Storage deposit held from the contributor for as long as the record
	/// exists.
	pub deposit: Balance,
	/// Pending, accepted or retracted.
	pub status: ContributionStatus,
	/// Block in which it was submitted.
	pub submitted_at: BlockNumber,
}

/// A published, immutable version of a datanet: what a model is trained on.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct DatanetVersion<Balance, BlockNumber, Ids> {
	/// The version's number, from 1.
	pub number: VersionNumber,
	/// The accepted, non-retracted contributions at publication, in
	/// ascending id order.
	pub contributions: Ids,
	/// [`openledger_primitives::merkle::merkle_root`] of the contributions'
	/// content hashes, in the order of `contributions`.
	pub merkle_root: ContentHash,
	/// Sum of the contributions' payload sizes.
	pub total_bytes: u64,
	/// Block in which it was published.
	pub published_at: BlockNumber,
	/// Storage deposit held from the datanet's owner. Versions are permanent
	/// (models refer to them), so it is never returned.
	pub deposit: Balance,
}

/// What a contributor has on record.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ContributorStats {
	/// Contributions on record (pending, accepted or retracted).
	pub contributions: u32,
	/// Contributions reviewers have accepted, ever.
	pub accepted: u32,
}

/// An accepted contribution as the next version will need it: the entries of
/// the per-datanet accepted set.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct AcceptedEntry {
	/// The contribution's content hash, a merkle leaf.
	pub content_hash: ContentHash,
	/// The payload size, summed into the version's total.
	pub size_bytes: u64,
}

/// Told when a reviewer rejects a contribution, so that another pallet (the
/// rewards pallet's penalty score) can react. This pallet already counts
/// rejections in its own `Penalties` storage.
pub trait OnContributionRejected<AccountId> {
	/// `who`'s contribution `contribution` to `datanet` was rejected.
	fn on_contribution_rejected(who: &AccountId, datanet: DatanetId, contribution: ContributionId);

	/// The most weight [`Self::on_contribution_rejected`] may use; the
	/// `review` call is charged for it.
	fn weight() -> Weight;
}

impl<AccountId> OnContributionRejected<AccountId> for () {
	fn on_contribution_rejected(_: &AccountId, _: DatanetId, _: ContributionId) {}

	fn weight() -> Weight {
		Weight::zero()
	}
}

/// The ids of a version's contributions.
pub type VersionIds<Max> = BoundedVec<ContributionId, Max>;
