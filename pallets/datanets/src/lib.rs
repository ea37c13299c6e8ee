//! # Datanets
//!
//! Curated, domain-specific data networks: contributions are bonded,
//! reviewed, and frozen into versioned, merkle-committed releases that models
//! are trained on.
//!
//! ## Overview
//!
//! A datanet (medicine, law, finance, code, ...) collects *contributions*:
//! metadata about payloads that live off chain, content-addressed by the
//! BLAKE2b-256 hash of their bytes. Only hashes and metadata go on chain.
//!
//! - An owner creates a datanet, naming who may contribute
//!   ([`Visibility::Public`] or [`Visibility::Permissioned`] with an
//!   allowlist) and the bond each contribution must hold while it waits for
//!   review. The owner appoints curators who review alongside them.
//! - A contributor offers a payload by its hash, size, URI, license and kind,
//!   holding the datanet's contribution bond. A hash appears at most once in
//!   a datanet.
//! - The owner or a curator reviews each pending contribution. Accepting
//!   returns the bond and counts towards the contributor's record. Rejecting
//!   transfers [`Config::RejectSlash`] of the bond to the owner, returns the
//!   rest, and raises the contributor's penalty count (here, in
//!   [`Penalties`], and through [`Config::OnRejection`] in the rewards
//!   pallet).
//! - The owner publishes versions: version `n` freezes the accepted,
//!   non-retracted contributions in ascending id order, with the
//!   [merkle root](openledger_primitives::merkle) of their content hashes and
//!   their total size. Versions never change; models refer to
//!   `(datanet, version)`.
//! - A contributor may withdraw a pending contribution (bond returned), or
//!   retract an accepted one from future versions.
//!
//! ### Deposits
//!
//! Every byte this pallet stores is paid for by a deposit of
//! [`Config::DepositBase`] + [`Config::DepositPerByte`] × bytes, held with
//! [`HoldReason`]s on the account that caused it:
//!
//! - the owner pays for the datanet record and for each curator and allowlist
//!   entry ([`HoldReason::DatanetDeposit`]); all returned on
//!   [`Pallet::close_datanet`] or when the entry is removed;
//! - the owner pays for each published version, for good: versions are
//!   permanent because models refer to them;
//! - a contributor pays for each contribution record
//!   ([`HoldReason::ContributionDeposit`]), returned when the record is
//!   removed (withdrawn, rejected, or withdrawn before any version included
//!   it). A record that a published version refers to stays, and so does its
//!   deposit.
//!
//! The contribution bond is held separately ([`HoldReason::ContributionBond`])
//! and only while the contribution is pending.
//!
//! ### Read access
//!
//! View functions: [`Pallet::datanet`], [`Pallet::versions`],
//! [`Pallet::version_contributions`], [`Pallet::contributions_of`],
//! [`Pallet::penalties`].
//!
//! ## Dispatchables
//!
//! - [`Pallet::create_datanet`], [`Pallet::close_datanet`]
//! - [`Pallet::add_curator`], [`Pallet::remove_curator`]
//! - [`Pallet::allow_contributor`], [`Pallet::disallow_contributor`]
//! - [`Pallet::contribute`], [`Pallet::review`], [`Pallet::withdraw`]
//! - [`Pallet::publish_version`]
//!
//! Each documents its origin, errors and events.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

mod impls;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use openledger_primitives::{ContributionId, DatanetId};
use polkadot_sdk::{
	frame_support::{traits::fungible, BoundedVec},
	frame_system::pallet_prelude::BlockNumberFor,
};

/// Amounts of the currency deposits and bonds are held in.
pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
>>::Balance;
/// A datanet's display name.
pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
/// A datanet's summary.
pub type SummaryOf<T> = BoundedVec<u8, <T as Config>::MaxSummaryLen>;
/// One topic tag.
pub type TagOf<T> = BoundedVec<u8, <T as Config>::MaxTagLen>;
/// A datanet's topic tags.
pub type TagsOf<T> = BoundedVec<TagOf<T>, <T as Config>::MaxTags>;
/// Where a contribution's payload can be fetched.
pub type UriOf<T> = BoundedVec<u8, <T as Config>::MaxUriLen>;
/// A contribution's SPDX license identifier.
pub type LicenseOf<T> = BoundedVec<u8, <T as Config>::MaxLicenseLen>;
/// A datanet as stored.
pub type DatanetOf<T> = Datanet<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	NameOf<T>,
	SummaryOf<T>,
	TagsOf<T>,
>;
/// A curator entry as stored.
pub type CuratorOf<T> = Curator<<T as polkadot_sdk::frame_system::Config>::AccountId, BalanceOf<T>>;
/// A datanet's curators.
pub type CuratorsOf<T> = BoundedVec<CuratorOf<T>, <T as Config>::MaxCurators>;
/// A contribution as stored.
pub type ContributionOf<T> = Contribution<
	<T as polkadot_sdk::frame_system::Config>::AccountId,
	BalanceOf<T>,
	BlockNumberFor<T>,
	UriOf<T>,
	LicenseOf<T>,
>;
/// A published version as stored.
pub type DatanetVersionOf<T> = DatanetVersion<
	BalanceOf<T>,
	BlockNumberFor<T>,
	VersionIds<<T as Config>::MaxContributionsPerDatanet>,
>;

// FRAME's pallet macros expand to `expect` on invariants the runtime
// guarantees (every pallet has a name and index); the allowance is for that
// generated code. This module holds only declarations and calls that
// delegate: the logic lives in `impls.rs`, where the workspace lints apply in
// full.
#[allow(clippy::expect_used)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use polkadot_sdk::{
		frame_support::pallet_prelude::*, frame_system::pallet_prelude::*, sp_runtime::Perbill,
	};

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency deposits and bonds are held in (OPEN).
		type Currency: fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;

		/// Deposit for each stored item, whatever its size.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Deposit for each byte stored.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// The least contribution bond a datanet may ask for: a rejection must
		/// cost something, or reviewers can be flooded for free.
		#[pallet::constant]
		type MinContributionBond: Get<BalanceOf<Self>>;

		/// Share of a rejected contribution's bond that goes to the datanet's
		/// owner; the rest returns to the contributor.
		#[pallet::constant]
		type RejectSlash: Get<Perbill>;

		/// Longest datanet name, in bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;

		/// Longest datanet summary, in bytes.
		#[pallet::constant]
		type MaxSummaryLen: Get<u32>;

		/// Most tags on a datanet.
		#[pallet::constant]
		type MaxTags: Get<u32>;

		/// Longest tag, in bytes.
		#[pallet::constant]
		type MaxTagLen: Get<u32>;

		/// Longest contribution URI, in bytes.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Longest contribution license identifier, in bytes.
		#[pallet::constant]
		type MaxLicenseLen: Get<u32>;

		/// Most curators on a datanet.
		#[pallet::constant]
		type MaxCurators: Get<u32>;

		/// Most accounts on a permissioned datanet's allowlist.
		#[pallet::constant]
		type MaxAllowlist: Get<u32>;

		/// Most contributions a datanet holds at once, pending or accepted
		/// (retracted ones do not count): also the largest version.
		#[pallet::constant]
		type MaxContributionsPerDatanet: Get<u32>;

		/// Most contributions an account has on record.
		#[pallet::constant]
		type MaxContributionsPerAccount: Get<u32>;

		/// Most versions a datanet may publish.
		#[pallet::constant]
		type MaxVersions: Get<u32>;

		/// Told of every rejection (the rewards pallet's penalty score).
		type OnRejection: OnContributionRejected<Self::AccountId>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// Storage deposits of a datanet owner: the datanet record, its curator
		/// and allowlist entries, and its published versions.
		#[codec(index = 0)]
		DatanetDeposit,
		/// The bond of a pending contribution.
		#[codec(index = 1)]
		ContributionBond,
		/// Storage deposit of a contribution record.
		#[codec(index = 2)]
		ContributionDeposit,
	}

	/// The id the next datanet gets.
	#[pallet::storage]
	pub type NextDatanetId<T> = StorageValue<_, DatanetId, ValueQuery>;

	/// The id the next contribution gets (ids are unique across datanets).
	#[pallet::storage]
	pub type NextContributionId<T> = StorageValue<_, ContributionId, ValueQuery>;

	/// Datanets by id.
	///
	/// `Twox64Concat`: ids come from a counter, so no one can choose keys that
	/// unbalance the trie. Deposit: the record's bytes, from the owner.
	#[pallet::storage]
	pub type Datanets<T: Config> = StorageMap<_, Twox64Concat, DatanetId, DatanetOf<T>>;

	/// The curators of each datanet.
	///
	/// `Twox64Concat`: counter-assigned key. Deposit: per entry, from the
	/// owner, stored with the entry.
	#[pallet::storage]
	pub type Curators<T: Config> =
		StorageMap<_, Twox64Concat, DatanetId, CuratorsOf<T>, ValueQuery>;

	/// The allowlist of each permissioned datanet, with the deposit the owner
	/// holds for each entry.
	///
	/// `Twox64Concat` for the counter-assigned datanet id; `Blake2_128Concat`
	/// for the account, which the owner chooses.
	#[pallet::storage]
	pub type Allowlist<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// Contributions by id.
	///
	/// `Twox64Concat`: counter-assigned key. Deposit: the record's bytes plus
	/// its index entries, from the contributor.
	#[pallet::storage]
	pub type Contributions<T: Config> =
		StorageMap<_, Twox64Concat, ContributionId, ContributionOf<T>>;

	/// The contribution holding each content hash in each datanet: keeps
	/// hashes unique within a datanet.
	///
	/// `Blake2_128Concat` for the hash: contributors choose it freely (the
	/// chain cannot check it against the payload). Paid by the contribution's
	/// deposit.
	#[pallet::storage]
	pub type ContentIndex<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Blake2_128Concat, ContentHash, ContributionId>;

	/// The accepted, non-retracted contributions of each datanet: the next
	/// version's content, with what the version needs of each.
	///
	/// `Twox64Concat` on both counter-assigned keys. Paid by the
	/// contribution's deposit.
	#[pallet::storage]
	pub type AcceptedContent<T: Config> =
		StorageDoubleMap<_, Twox64Concat, DatanetId, Twox64Concat, ContributionId, AcceptedEntry>;

	/// The contributions on record of each account (its index for clients).
	///
	/// `Blake2_128Concat` for the account, `Twox64Concat` for the
	/// counter-assigned id. Paid by the contribution's deposit.
	#[pallet::storage]
	pub type ContributionsOf<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, ContributionId, ()>;

	/// Each contributor's record: contributions on record, accepted ever.
	///
	/// `Blake2_128Concat`: accounts are user-chosen. Created with the first
	/// contribution, whose deposit covers it.
	#[pallet::storage]
	pub type ContributorStatsOf<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ContributorStats, ValueQuery>;

	/// How many of each account's contributions were rejected, ever.
	///
	/// `Blake2_128Concat`: accounts are user-chosen. Not covered by a deposit:
	/// an entry only appears after a rejection, which cost the account part of
	/// a bond.
	#[pallet::storage]
	pub type Penalties<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// Published versions of each datanet, by number from 1.
	///
	/// `Twox64Concat` on both counter-assigned keys. Deposit: the version's
	/// bytes, from the owner, held for good.
	#[pallet::storage]
	pub type Versions<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		DatanetId,
		Twox64Concat,
		VersionNumber,
		DatanetVersionOf<T>,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A datanet was created.
		DatanetCreated {
			datanet: DatanetId,
			owner: T::AccountId,
			visibility: Visibility,
			contribution_bond: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A datanet was closed; its published versions stay.
		DatanetClosed {
			datanet: DatanetId,
			deposit_released: BalanceOf<T>,
		},
		/// A curator was appointed.
		CuratorAdded {
			datanet: DatanetId,
			curator: T::AccountId,
			deposit: BalanceOf<T>,
		},
		/// A curator was removed.
		CuratorRemoved {
			datanet: DatanetId,
			curator: T::AccountId,
		},
		/// An account was put on a permissioned datanet's allowlist.
		ContributorAllowed {
			datanet: DatanetId,
			contributor: T::AccountId,
			deposit: BalanceOf<T>,
		},
		/// An account was taken off a permissioned datanet's allowlist.
		ContributorDisallowed {
			datanet: DatanetId,
			contributor: T::AccountId,
		},
		/// A contribution was submitted and waits for review.
		Contributed {
			contribution: ContributionId,
			datanet: DatanetId,
			contributor: T::AccountId,
			content_hash: ContentHash,
			bond: BalanceOf<T>,
			deposit: BalanceOf<T>,
		},
		/// A contribution was accepted; its bond was returned.
		ContributionAccepted {
			contribution: ContributionId,
			datanet: DatanetId,
			reviewer: T::AccountId,
		},
		/// A contribution was rejected: `slashed` went to the owner, the rest
		/// of the bond and the deposit went back, and the record is gone.
		ContributionRejected {
			contribution: ContributionId,
			datanet: DatanetId,
			reviewer: T::AccountId,
			reason: RejectReason,
			slashed: BalanceOf<T>,
		},
		/// A contribution no version includes was withdrawn: bond (if pending)
		/// and deposit went back, and the record is gone.
		ContributionWithdrawn {
			contribution: ContributionId,
			datanet: DatanetId,
		},
		/// A published contribution was retracted: later versions leave it out.
		ContributionRetracted {
			contribution: ContributionId,
			datanet: DatanetId,
		},
		/// A version was published.
		VersionPublished {
			datanet: DatanetId,
			version: VersionNumber,
			merkle_root: ContentHash,
			contributions: u32,
			total_bytes: u64,
			deposit: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No datanet has this id (it never existed, or closed before
		/// publishing anything).
		UnknownDatanet,
		/// The datanet is closed: it takes no contributions, curators,
		/// allowlist changes or versions.
		DatanetClosed,
		/// Only the datanet's owner may do this.
		NotOwner,
		/// Only the datanet's owner or one of its curators may review.
		NotReviewer,
		/// The datanet's name is empty.
		EmptyName,
		/// The contribution bond is below [`Config::MinContributionBond`].
		BondTooLow,
		/// The account could not cover the deposit or bond being held.
		InsufficientBalance,
		/// All datanet or contribution ids are used up.
		IdsExhausted,
		/// The account is already a curator of the datanet.
		AlreadyCurator,
		/// The account is not a curator of the datanet.
		NotCurator,
		/// The owner reviews anyway; it cannot also be a curator.
		OwnerCannotBeCurator,
		/// The datanet has [`Config::MaxCurators`] curators.
		TooManyCurators,
		/// The datanet is public: it has no allowlist.
		NotPermissioned,
		/// The account is already on the allowlist.
		AlreadyAllowed,
		/// The account is not on the allowlist.
		NotAllowed,
		/// The allowlist has [`Config::MaxAllowlist`] entries.
		AllowlistFull,
		/// The datanet is permissioned and the account is not on its allowlist.
		NotAllowlisted,
		/// A contribution must have a payload: `size_bytes` is zero.
		EmptyContribution,
		/// This content hash is already in the datanet.
		DuplicateContent,
		/// The datanet holds [`Config::MaxContributionsPerDatanet`] pending and
		/// accepted contributions.
		DatanetFull,
		/// The account has [`Config::MaxContributionsPerAccount`] contributions
		/// on record.
		TooManyContributions,
		/// No contribution has this id (never existed, was rejected or
		/// withdrawn).
		UnknownContribution,
		/// Only pending contributions can be reviewed.
		NotPending,
		/// Only the contributor may withdraw a contribution.
		NotContributor,
		/// The contribution is already retracted.
		AlreadyRetracted,
		/// Contributions are waiting for review: review them before closing.
		PendingContributions,
		/// Accepted contributions are in no version yet: publish them before
		/// closing, or their contributors could never be credited.
		UnpublishedContributions,
		/// No accepted, non-retracted contributions: a version would be empty.
		NothingToPublish,
		/// The accepted contributions are exactly the latest version's.
		VersionUnchanged,
		/// The datanet has published [`Config::MaxVersions`] versions.
		TooManyVersions,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			Self::check_constants();
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Create a datanet owned by the caller.
		///
		/// Holds a deposit for the record's bytes from the owner, returned by
		/// [`Pallet::close_datanet`]. `description_hash` is the BLAKE2b-256 of
		/// the full description kept off chain. `contribution_bond` is what
		/// each contribution holds from its contributor until reviewed.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the owner.
		///
		/// ## Errors
		///
		/// - [`Error::EmptyName`]: `name` is empty.
		/// - [`Error::BondTooLow`]: below [`Config::MinContributionBond`].
		/// - [`Error::IdsExhausted`]: no datanet ids left.
		/// - [`Error::InsufficientBalance`]: the owner cannot cover the deposit.
		///
		/// ## Events
		///
		/// [`Event::DatanetCreated`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_datanet())]
		pub fn create_datanet(
			origin: OriginFor<T>,
			name: NameOf<T>,
			summary: SummaryOf<T>,
			description_hash: ContentHash,
			tags: TagsOf<T>,
			visibility: Visibility,
			contribution_bond: BalanceOf<T>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_create_datanet(
				owner,
				name,
				summary,
				description_hash,
				tags,
				visibility,
				contribution_bond,
			)
		}

		/// Close a datanet: it takes nothing more, its curators and allowlist
		/// are removed, and every deposit held for them and for the record is
		/// returned. Published versions stay readable, and so does the record
		/// as their header; a datanet that never published is removed.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`], [`Error::NotOwner`].
		/// - [`Error::PendingContributions`]: review or wait for withdrawals first.
		/// - [`Error::UnpublishedContributions`]: publish accepted contributions first.
		///
		/// ## Events
		///
		/// [`Event::DatanetClosed`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::close_datanet(T::MaxAllowlist::get()))]
		pub fn close_datanet(
			origin: OriginFor<T>,
			datanet: DatanetId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let allowlisted = Self::do_close_datanet(who, datanet)?;
			Ok(Some(T::WeightInfo::close_datanet(allowlisted)).into())
		}

		/// Appoint a curator, who may review contributions. Holds a deposit for
		/// the entry from the owner, returned when the curator is removed or
		/// the datanet closes.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`], [`Error::NotOwner`].
		/// - [`Error::OwnerCannotBeCurator`], [`Error::AlreadyCurator`],
		///   [`Error::TooManyCurators`].
		/// - [`Error::InsufficientBalance`]: the owner cannot cover the deposit.
		///
		/// ## Events
		///
		/// [`Event::CuratorAdded`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::add_curator())]
		pub fn add_curator(
			origin: OriginFor<T>,
			datanet: DatanetId,
			curator: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_add_curator(who, datanet, curator)
		}

		/// Remove a curator and return the entry's deposit to the owner.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`], [`Error::NotOwner`].
		/// - [`Error::NotCurator`].
		///
		/// ## Events
		///
		/// [`Event::CuratorRemoved`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::remove_curator())]
		pub fn remove_curator(
			origin: OriginFor<T>,
			datanet: DatanetId,
			curator: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_curator(who, datanet, curator)
		}

		/// Let an account contribute to a permissioned datanet. Holds a deposit
		/// for the entry from the owner, returned when the account is taken off
		/// or the datanet closes.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`], [`Error::NotOwner`].
		/// - [`Error::NotPermissioned`], [`Error::AlreadyAllowed`], [`Error::AllowlistFull`].
		/// - [`Error::InsufficientBalance`]: the owner cannot cover the deposit.
		///
		/// ## Events
		///
		/// [`Event::ContributorAllowed`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::allow_contributor())]
		pub fn allow_contributor(
			origin: OriginFor<T>,
			datanet: DatanetId,
			contributor: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_allow_contributor(who, datanet, contributor)
		}

		/// Take an account off a permissioned datanet's allowlist and return the
		/// entry's deposit. Its contributions already made stay.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`], [`Error::NotOwner`].
		/// - [`Error::NotAllowed`].
		///
		/// ## Events
		///
		/// [`Event::ContributorDisallowed`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::disallow_contributor())]
		pub fn disallow_contributor(
			origin: OriginFor<T>,
			datanet: DatanetId,
			contributor: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_disallow_contributor(who, datanet, contributor)
		}

		/// Offer a payload to a datanet by its BLAKE2b-256 `content_hash`, its
		/// size, where to fetch it, its SPDX license and its kind.
		///
		/// Holds the datanet's contribution bond (until review) and a deposit
		/// for the record (until the record is removed) from the contributor.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the contributor; on a permissioned datanet, the owner or an
		/// allowlisted account.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`].
		/// - [`Error::NotAllowlisted`], [`Error::EmptyContribution`],
		///   [`Error::DuplicateContent`], [`Error::DatanetFull`],
		///   [`Error::TooManyContributions`], [`Error::IdsExhausted`].
		/// - [`Error::InsufficientBalance`]: cannot cover bond and deposit.
		///
		/// ## Events
		///
		/// [`Event::Contributed`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::contribute())]
		pub fn contribute(
			origin: OriginFor<T>,
			datanet: DatanetId,
			content_hash: ContentHash,
			size_bytes: u64,
			uri: UriOf<T>,
			license: LicenseOf<T>,
			kind: ContributionKind,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_contribute(who, datanet, content_hash, size_bytes, uri, license, kind)
		}

		/// Accept or reject a pending contribution.
		///
		/// Accepting returns the bond and counts towards the contributor's
		/// record; the contribution joins the next version. Rejecting transfers
		/// [`Config::RejectSlash`] of the bond to the owner, returns the rest of
		/// the bond and the deposit, removes the record, and raises the
		/// contributor's penalty count.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner or one of its curators.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownContribution`], [`Error::NotPending`],
		///   [`Error::NotReviewer`].
		///
		/// ## Events
		///
		/// [`Event::ContributionAccepted`] or [`Event::ContributionRejected`].
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::review_weight_bound())]
		pub fn review(
			origin: OriginFor<T>,
			contribution: ContributionId,
			review: Review,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let weight = match review {
				Review::Accept => {
					Self::do_accept(who, contribution)?;
					T::WeightInfo::review_accept()
				},
				Review::Reject { reason } => {
					Self::do_reject(who, contribution, reason)?;
					T::WeightInfo::review_reject().saturating_add(T::OnRejection::weight())
				},
			};
			Ok(Some(weight).into())
		}

		/// Take back a contribution.
		///
		/// A pending one, or an accepted one that no version includes yet, is
		/// removed: bond (if still held) and deposit are returned. One that a
		/// published version includes is marked retracted: it stays in those
		/// versions, is left out of later ones, and its record and deposit stay.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the contributor.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownContribution`], [`Error::NotContributor`],
		///   [`Error::AlreadyRetracted`].
		///
		/// ## Events
		///
		/// [`Event::ContributionWithdrawn`] or [`Event::ContributionRetracted`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_pending().max(T::WeightInfo::withdraw_accepted()))]
		pub fn withdraw(
			origin: OriginFor<T>,
			contribution: ContributionId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let was_pending = Self::do_withdraw(who, contribution)?;
			let weight = if was_pending {
				T::WeightInfo::withdraw_pending()
			} else {
				T::WeightInfo::withdraw_accepted()
			};
			Ok(Some(weight).into())
		}

		/// Publish the next version: the accepted, non-retracted contributions
		/// in ascending id order, the merkle root of their content hashes, and
		/// their total size. Holds a deposit for the version's bytes from the
		/// owner, for good.
		///
		/// ## Dispatch Origin
		///
		/// Signed: the datanet's owner.
		///
		/// ## Errors
		///
		/// - [`Error::UnknownDatanet`], [`Error::DatanetClosed`], [`Error::NotOwner`].
		/// - [`Error::NothingToPublish`], [`Error::VersionUnchanged`],
		///   [`Error::TooManyVersions`].
		/// - [`Error::InsufficientBalance`]: the owner cannot cover the deposit.
		///
		/// ## Events
		///
		/// [`Event::VersionPublished`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::publish_version(T::MaxContributionsPerDatanet::get()))]
		pub fn publish_version(
			origin: OriginFor<T>,
			datanet: DatanetId,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let included = Self::do_publish_version(who, datanet)?;
			Ok(Some(T::WeightInfo::publish_version(included)).into())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// A datanet, open or closed.
		pub fn datanet(datanet: DatanetId) -> Option<DatanetOf<T>> {
			Datanets::<T>::get(datanet)
		}

		/// A datanet's published versions, oldest first.
		pub fn versions(datanet: DatanetId) -> Vec<DatanetVersionOf<T>> {
			Self::versions_of(datanet)
		}

		/// One version's contributions, in the version's order, each with its
		/// contributor; `None` if there is no such version.
		pub fn version_contributions(
			datanet: DatanetId,
			version: VersionNumber,
		) -> Option<Vec<(ContributionId, ContributionOf<T>)>> {
			Self::contributions_in_version(datanet, version)
		}

		/// An account's contributions on record, in ascending id order.
		pub fn contributions_of(who: T::AccountId) -> Vec<(ContributionId, ContributionOf<T>)> {
			Self::contributions_by(&who)
		}

		/// How many of an account's contributions were rejected.
		pub fn penalties(who: T::AccountId) -> u32 {
			Penalties::<T>::get(who)
		}
	}
}
