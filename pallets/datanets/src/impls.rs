//! What the calls do. Each `do_*` function checks what can fail before it
//! writes (calls also run in a storage transaction, so a failure leaves
//! storage as it was either way).

use crate::*;
use alloc::vec::Vec;
use codec::{Encode, MaxEncodedLen};
use openledger_primitives::merkle::merkle_root;
use polkadot_sdk::{
	frame_support::{
		defensive,
		dispatch::DispatchResult,
		ensure,
		traits::{
			fungible::{Inspect, InspectHold, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			Get,
		},
		weights::Weight,
	},
	frame_system,
	sp_runtime::{
		traits::{Saturating, Zero},
		DispatchError,
	},
};

/// Bytes a contribution adds beyond its record: its content-hash index entry
/// (hash key and id), its account index entry (id key) and its entry in the
/// accepted set (id key, hash and size).
const CONTRIBUTION_INDEX_BYTES: usize = 32 + 8 + 8 + 8 + 32 + 8;

impl<T: Config> Pallet<T> {
	/// Deposit for storing `bytes`: `DepositBase + DepositPerByte * bytes`.
	pub fn deposit_for(bytes: usize) -> BalanceOf<T> {
		let bytes = BalanceOf::<T>::from(u32::try_from(bytes).unwrap_or(u32::MAX));
		T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}

	/// Deposit for one curator or allowlist entry: an account and a balance.
	pub fn entry_deposit() -> BalanceOf<T> {
		Self::deposit_for(CuratorOf::<T>::max_encoded_len())
	}

	/// Deposit for a contribution record and its index entries. The record is
	/// charged at its largest status, so that accepting it (which stores the
	/// first version) stays paid for.
	pub fn contribution_deposit(contribution: &ContributionOf<T>) -> BalanceOf<T> {
		let record_bytes = contribution
			.encoded_size()
			.saturating_sub(contribution.status.encoded_size())
			.saturating_add(ContributionStatus::max_encoded_len());
		Self::deposit_for(record_bytes.saturating_add(CONTRIBUTION_INDEX_BYTES))
	}

	/// The most `review` can weigh, whichever verdict.
	pub fn review_weight_bound() -> Weight {
		T::WeightInfo::review_accept()
			.max(T::WeightInfo::review_reject().saturating_add(T::OnRejection::weight()))
	}

	fn hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&reason.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Returns held funds. This pallet's holds always cover what it releases
	/// (`try_state` checks it); if one ever does not, the release goes as far
	/// as it can rather than locking the caller out.
	fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		match T::Currency::release(&reason.into(), who, amount, Precision::BestEffort) {
			Ok(released) if released == amount => {},
			_ => {
				defensive!("datanets: a hold did not cover the amount released");
			},
		}
	}

	/// Checks `can_hold` for several holds on one account at once, so that a
	/// call fails before changing anything when the account cannot pay.
	fn ensure_can_hold_total(who: &T::AccountId, total: BalanceOf<T>) -> DispatchResult {
		let reason: T::RuntimeHoldReason = HoldReason::ContributionBond.into();
		ensure!(
			total.is_zero() || T::Currency::can_hold(&reason, who, total),
			Error::<T>::InsufficientBalance
		);
		Ok(())
	}

	/// The datanet, if it exists and is open.
	fn open_datanet(datanet: DatanetId) -> Result<DatanetOf<T>, DispatchError> {
		let record = Datanets::<T>::get(datanet).ok_or(Error::<T>::UnknownDatanet)?;
		ensure!(
			record.status == DatanetStatus::Open,
			Error::<T>::DatanetClosed
		);
		Ok(record)
	}

	/// The datanet, if it exists, is open and `who` owns it.
	fn owned_open_datanet(
		who: &T::AccountId,
		datanet: DatanetId,
	) -> Result<DatanetOf<T>, DispatchError> {
		let record = Self::open_datanet(datanet)?;
		ensure!(record.owner == *who, Error::<T>::NotOwner);
		Ok(record)
	}

	pub(crate) fn do_create_datanet(
		owner: T::AccountId,
		name: NameOf<T>,
		summary: SummaryOf<T>,
		description_hash: ContentHash,
		tags: TagsOf<T>,
		visibility: Visibility,
		contribution_bond: BalanceOf<T>,
	) -> DispatchResult {
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		ensure!(
			contribution_bond >= T::MinContributionBond::get(),
			Error::<T>::BondTooLow
		);
		let id = NextDatanetId::<T>::get();
		let next_id = id.next().ok_or(Error::<T>::IdsExhausted)?;

		let mut record = Datanet {
			owner,
			name,
			summary,
			description_hash,
			tags,
			visibility,
			contribution_bond,
			deposit: Zero::zero(),
			status: DatanetStatus::Open,
			created_at: frame_system::Pallet::<T>::block_number(),
			pending: 0,
			accepted: 0,
			unpublished: 0,
			allowlisted: 0,
			latest_version: 0,
		};
		// The deposit field has a fixed size, so the record's size does not
		// depend on the deposit it holds.
		record.deposit = Self::deposit_for(record.encoded_size());
		Self::hold(HoldReason::DatanetDeposit, &record.owner, record.deposit)?;

		NextDatanetId::<T>::put(next_id);
		Self::deposit_event(Event::DatanetCreated {
			datanet: id,
			owner: record.owner.clone(),
			visibility,
			contribution_bond,
			deposit: record.deposit,
		});
		Datanets::<T>::insert(id, record);
		Ok(())
	}

	/// Returns how many allowlist entries it removed, for the weight refund.
	pub(crate) fn do_close_datanet(
		who: T::AccountId,
		datanet: DatanetId,
	) -> Result<u32, DispatchError> {
		let mut record = Self::owned_open_datanet(&who, datanet)?;
		ensure!(record.pending == 0, Error::<T>::PendingContributions);
		ensure!(
			record.unpublished == 0,
			Error::<T>::UnpublishedContributions
		);

		let mut released = record.deposit;
		for curator in Curators::<T>::take(datanet) {
			released.saturating_accrue(curator.deposit);
		}
		let mut removed = 0u32;
		for (_, deposit) in Allowlist::<T>::drain_prefix(datanet) {
			released.saturating_accrue(deposit);
			removed.saturating_inc();
		}
		Self::release(HoldReason::DatanetDeposit, &who, released);

		if record.latest_version == 0 {
			// Nothing was published, so nothing refers to the datanet: with no
			// pending or unpublished contributions, it has no contributions at all.
			Datanets::<T>::remove(datanet);
		} else {
			record.status = DatanetStatus::Closed;
			record.deposit = Zero::zero();
			record.allowlisted = 0;
			Datanets::<T>::insert(datanet, record);
		}
		Self::deposit_event(Event::DatanetClosed {
			datanet,
			deposit_released: released,
		});
		Ok(removed)
	}

	pub(crate) fn do_add_curator(
		who: T::AccountId,
		datanet: DatanetId,
		curator: T::AccountId,
	) -> DispatchResult {
		let record = Self::owned_open_datanet(&who, datanet)?;
		ensure!(curator != record.owner, Error::<T>::OwnerCannotBeCurator);
		let mut curators = Curators::<T>::get(datanet);
		ensure!(
			!curators.iter().any(|c| c.account == curator),
			Error::<T>::AlreadyCurator
		);
		let deposit = Self::entry_deposit();
		curators
			.try_push(Curator {
				account: curator.clone(),
				deposit,
			})
			.map_err(|_| Error::<T>::TooManyCurators)?;
		Self::hold(HoldReason::DatanetDeposit, &who, deposit)?;

		Curators::<T>::insert(datanet, curators);
		Self::deposit_event(Event::CuratorAdded {
			datanet,
			curator,
			deposit,
		});
		Ok(())
	}

	pub(crate) fn do_remove_curator(
		who: T::AccountId,
		datanet: DatanetId,
		curator: T::AccountId,
	) -> DispatchResult {
		Self::owned_open_datanet(&who, datanet)?;
		let mut curators = Curators::<T>::get(datanet);
		let position = curators
			.iter()
			.position(|c| c.account == curator)
			.ok_or(Error::<T>::NotCurator)?;
		let removed = curators.remove(position);
		Self::release(HoldReason::DatanetDeposit, &who, removed.deposit);

		if curators.is_empty() {
			Curators::<T>::remove(datanet);
		} else {
			Curators::<T>::insert(datanet, curators);
		}
		Self::deposit_event(Event::CuratorRemoved { datanet, curator });
		Ok(())
	}

	pub(crate) fn do_allow_contributor(
		who: T::AccountId,
		datanet: DatanetId,
		contributor: T::AccountId,
	) -> DispatchResult {
		let mut record = Self::owned_open_datanet(&who, datanet)?;
		ensure!(
			record.visibility == Visibility::Permissioned,
			Error::<T>::NotPermissioned
		);
		ensure!(
			!Allowlist::<T>::contains_key(datanet, &contributor),
			Error::<T>::AlreadyAllowed
		);
		ensure!(
			record.allowlisted < T::MaxAllowlist::get(),
			Error::<T>::AllowlistFull
		);
		let deposit = Self::entry_deposit();
		Self::hold(HoldReason::DatanetDeposit, &who, deposit)?;

		record.allowlisted.saturating_inc();
		Allowlist::<T>::insert(datanet, &contributor, deposit);
		Datanets::<T>::insert(datanet, record);
		Self::deposit_event(Event::ContributorAllowed {
			datanet,
			contributor,
			deposit,
		});
		Ok(())
	}

	pub(crate) fn do_disallow_contributor(
		who: T::AccountId,
		datanet: DatanetId,
		contributor: T::AccountId,
	) -> DispatchResult {
		let mut record = Self::owned_open_datanet(&who, datanet)?;
		let deposit = Allowlist::<T>::take(datanet, &contributor).ok_or(Error::<T>::NotAllowed)?;
		Self::release(HoldReason::DatanetDeposit, &who, deposit);

		record.allowlisted.saturating_dec();
		Datanets::<T>::insert(datanet, record);
		Self::deposit_event(Event::ContributorDisallowed {
			datanet,
			contributor,
		});
		Ok(())
	}

	pub(crate) fn do_contribute(
		who: T::AccountId,
		datanet: DatanetId,
		content_hash: ContentHash,
		size_bytes: u64,
		uri: UriOf<T>,
		license: LicenseOf<T>,
		kind: ContributionKind,
	) -> DispatchResult {
		let mut record = Self::open_datanet(datanet)?;
		if record.visibility == Visibility::Permissioned && record.owner != who {
			ensure!(
				Allowlist::<T>::contains_key(datanet, &who),
				Error::<T>::NotAllowlisted
			);
		}
		ensure!(size_bytes > 0, Error::<T>::EmptyContribution);
		ensure!(
			!ContentIndex::<T>::contains_key(datanet, content_hash),
			Error::<T>::DuplicateContent
		);
		ensure!(
			record.pending.saturating_add(record.accepted) < T::MaxContributionsPerDatanet::get(),
			Error::<T>::DatanetFull
		);
		let mut stats = ContributorStatsOf::<T>::get(&who);
		ensure!(
			stats.contributions < T::MaxContributionsPerAccount::get(),
			Error::<T>::TooManyContributions
		);
		let id = NextContributionId::<T>::get();
		let next_id = id.next().ok_or(Error::<T>::IdsExhausted)?;

		let mut contribution = Contribution {
			datanet,
			contributor: who.clone(),
			content_hash,
			size_bytes,
			uri,
			license,
			kind,
			bond: record.contribution_bond,
			deposit: Zero::zero(),
			status: ContributionStatus::Pending,
			submitted_at: frame_system::Pallet::<T>::block_number(),
		};
		contribution.deposit = Self::contribution_deposit(&contribution);
		Self::ensure_can_hold_total(&who, contribution.bond.saturating_add(contribution.deposit))?;
		Self::hold(HoldReason::ContributionBond, &who, contribution.bond)?;
		Self::hold(HoldReason::ContributionDeposit, &who, contribution.deposit)?;

		NextContributionId::<T>::put(next_id);
		record.pending.saturating_inc();
		Datanets::<T>::insert(datanet, record);
		stats.contributions.saturating_inc();
		ContributorStatsOf::<T>::insert(&who, stats);
		ContributionsOf::<T>::insert(&who, id, ());
		ContentIndex::<T>::insert(datanet, content_hash, id);
		Self::deposit_event(Event::Contributed {
			contribution: id,
			datanet,
			contributor: who,
			content_hash,
			bond: contribution.bond,
			deposit: contribution.deposit,
		});
		Contributions::<T>::insert(id, contribution);
		Ok(())
	}

	/// The pending contribution and its (open) datanet, if `who` may review it.
	fn reviewable(
		who: &T::AccountId,
		id: ContributionId,
	) -> Result<(ContributionOf<T>, DatanetOf<T>), DispatchError> {
		let contribution = Contributions::<T>::get(id).ok_or(Error::<T>::UnknownContribution)?;
		ensure!(
			contribution.status == ContributionStatus::Pending,
			Error::<T>::NotPending
		);
		// A datanet with pending contributions cannot close, so it is open.
		let record = Self::open_datanet(contribution.datanet)?;
		ensure!(
			record.owner == *who
				|| Curators::<T>::get(contribution.datanet)
					.iter()
					.any(|c| c.account == *who),
			Error::<T>::NotReviewer
		);
		Ok((contribution, record))
	}

	pub(crate) fn do_accept(who: T::AccountId, id: ContributionId) -> DispatchResult {
		let (mut contribution, mut record) = Self::reviewable(&who, id)?;
		let datanet = contribution.datanet;
		Self::release(
			HoldReason::ContributionBond,
			&contribution.contributor,
			contribution.bond,
		);

		contribution.status = ContributionStatus::Accepted {
			first_version: record.latest_version.saturating_add(1),
		};
		record.pending.saturating_dec();
		record.accepted.saturating_inc();
		record.unpublished.saturating_inc();
		Datanets::<T>::insert(datanet, record);
		ContributorStatsOf::<T>::mutate(&contribution.contributor, |stats| {
			stats.accepted.saturating_inc()
		});
		AcceptedContent::<T>::insert(
			datanet,
			id,
			AcceptedEntry {
				content_hash: contribution.content_hash,
				size_bytes: contribution.size_bytes,
			},
		);
		Contributions::<T>::insert(id, contribution);
		Self::deposit_event(Event::ContributionAccepted {
			contribution: id,
			datanet,
			reviewer: who,
		});
		Ok(())
	}

	pub(crate) fn do_reject(
		who: T::AccountId,
		id: ContributionId,
		reason: RejectReason,
	) -> DispatchResult {
		let (contribution, mut record) = Self::reviewable(&who, id)?;
		let datanet = contribution.datanet;
		let contributor = &contribution.contributor;

		let slash = T::RejectSlash::get().mul_floor(contribution.bond);
		let slashed = if slash.is_zero() {
			Zero::zero()
		} else {
			T::Currency::transfer_on_hold(
				&HoldReason::ContributionBond.into(),
				contributor,
				&record.owner,
				slash,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)?
		};
		Self::release(
			HoldReason::ContributionBond,
			contributor,
			contribution.bond.saturating_sub(slashed),
		);
		Self::release(
			HoldReason::ContributionDeposit,
			contributor,
			contribution.deposit,
		);

		record.pending.saturating_dec();
		Datanets::<T>::insert(datanet, record);
		Self::remove_record(id, &contribution);
		Penalties::<T>::mutate(contributor, |penalties| penalties.saturating_inc());
		T::OnRejection::on_contribution_rejected(contributor, datanet, id);
		Self::deposit_event(Event::ContributionRejected {
			contribution: id,
			datanet,
			reviewer: who,
			reason,
			slashed,
		});
		Ok(())
	}

	/// Removes a contribution and its index entries (not its accepted-set
	/// entry, which only accepted ones have).
	fn remove_record(id: ContributionId, contribution: &ContributionOf<T>) {
		Contributions::<T>::remove(id);
		ContentIndex::<T>::remove(contribution.datanet, contribution.content_hash);
		ContributionsOf::<T>::remove(&contribution.contributor, id);
		// A contributor with nothing on record and nothing accepted has no
		// deposit left to pay for the entry: drop it.
		ContributorStatsOf::<T>::mutate_exists(&contribution.contributor, |maybe_stats| {
			if let Some(stats) = maybe_stats {
				stats.contributions.saturating_dec();
				if *stats == ContributorStats::default() {
					*maybe_stats = None;
				}
			}
		});
	}

	/// Returns whether the contribution was pending, for the weight refund.
	pub(crate) fn do_withdraw(
		who: T::AccountId,
		id: ContributionId,
	) -> Result<bool, DispatchError> {
		let mut contribution =
			Contributions::<T>::get(id).ok_or(Error::<T>::UnknownContribution)?;
		ensure!(contribution.contributor == who, Error::<T>::NotContributor);
		let datanet = contribution.datanet;
		// Every contribution on record belongs to a datanet on record: a datanet
		// is only removed when it has no contributions.
		let Some(mut record) = Datanets::<T>::get(datanet) else {
			defensive!("datanets: a contribution outlived its datanet");
			return Err(Error::<T>::UnknownDatanet.into());
		};

		let was_pending = match contribution.status {
			ContributionStatus::Retracted => return Err(Error::<T>::AlreadyRetracted.into()),
			ContributionStatus::Pending => {
				Self::release(HoldReason::ContributionBond, &who, contribution.bond);
				Self::release(HoldReason::ContributionDeposit, &who, contribution.deposit);
				record.pending.saturating_dec();
				Self::remove_record(id, &contribution);
				Self::deposit_event(Event::ContributionWithdrawn {
					contribution: id,
					datanet,
				});
				true
			},
			ContributionStatus::Accepted { first_version }
				if first_version > record.latest_version =>
			{
				// No version includes it, so nothing refers to it: remove it.
				Self::release(HoldReason::ContributionDeposit, &who, contribution.deposit);
				record.accepted.saturating_dec();
				record.unpublished.saturating_dec();
				AcceptedContent::<T>::remove(datanet, id);
				Self::remove_record(id, &contribution);
				Self::deposit_event(Event::ContributionWithdrawn {
					contribution: id,
					datanet,
				});
				false
			},
			ContributionStatus::Accepted { .. } => {
				// Published versions refer to it: keep it, out of later versions.
				record.accepted.saturating_dec();
				AcceptedContent::<T>::remove(datanet, id);
				contribution.status = ContributionStatus::Retracted;
				Contributions::<T>::insert(id, contribution);
				Self::deposit_event(Event::ContributionRetracted {
					contribution: id,
					datanet,
				});
				false
			},
		};
		Datanets::<T>::insert(datanet, record);
		Ok(was_pending)
	}

	/// Returns how many contributions the version includes, for the weight
	/// refund.
	pub(crate) fn do_publish_version(
		who: T::AccountId,
		datanet: DatanetId,
	) -> Result<u32, DispatchError> {
		let mut record = Self::owned_open_datanet(&who, datanet)?;
		let number = record.latest_version.saturating_add(1);
		ensure!(number <= T::MaxVersions::get(), Error::<T>::TooManyVersions);

		let mut entries: Vec<(ContributionId, AcceptedEntry)> =
			AcceptedContent::<T>::iter_prefix(datanet).collect();
		ensure!(!entries.is_empty(), Error::<T>::NothingToPublish);
		entries.sort_unstable_by_key(|(id, _)| *id);
		let ids: Vec<ContributionId> = entries.iter().map(|(id, _)| *id).collect();
		if let Some(latest) = Versions::<T>::get(datanet, record.latest_version) {
			ensure!(
				latest.contributions.as_slice() != ids.as_slice(),
				Error::<T>::VersionUnchanged
			);
		}
		let leaves: Vec<ContentHash> = entries
			.iter()
			.map(|(_, entry)| entry.content_hash)
			.collect();
		let total_bytes = entries.iter().fold(0u64, |total, (_, entry)| {
			total.saturating_add(entry.size_bytes)
		});
		let included = u32::try_from(ids.len()).unwrap_or(u32::MAX);
		let contributions =
			VersionIds::<T::MaxContributionsPerDatanet>::try_from(ids).map_err(|_| {
				defensive!("datanets: more accepted contributions than a datanet may hold");
				Error::<T>::DatanetFull
			})?;

		let mut version = DatanetVersion {
			number,
			contributions,
			merkle_root: merkle_root(&leaves),
			total_bytes,
			published_at: frame_system::Pallet::<T>::block_number(),
			deposit: Zero::zero(),
		};
		version.deposit = Self::deposit_for(version.encoded_size());
		Self::hold(HoldReason::DatanetDeposit, &who, version.deposit)?;

		record.latest_version = number;
		record.unpublished = 0;
		Datanets::<T>::insert(datanet, record);
		Self::deposit_event(Event::VersionPublished {
			datanet,
			version: number,
			merkle_root: version.merkle_root,
			contributions: included,
			total_bytes,
			deposit: version.deposit,
		});
		Versions::<T>::insert(datanet, number, version);
		Ok(included)
	}

	/// A datanet's versions, oldest first.
	pub fn versions_of(datanet: DatanetId) -> Vec<DatanetVersionOf<T>> {
		let latest = Datanets::<T>::get(datanet).map_or(0, |record| record.latest_version);
		(1..=latest)
			.filter_map(|number| Versions::<T>::get(datanet, number))
			.collect()
	}

	/// One version's contributions, in the version's order.
	pub fn contributions_in_version(
		datanet: DatanetId,
		version: VersionNumber,
	) -> Option<Vec<(ContributionId, ContributionOf<T>)>> {
		let version = Versions::<T>::get(datanet, version)?;
		Some(
			version
				.contributions
				.into_iter()
				.filter_map(|id| Contributions::<T>::get(id).map(|c| (id, c)))
				.collect(),
		)
	}

	/// An account's contributions on record, in ascending id order.
	pub fn contributions_by(who: &T::AccountId) -> Vec<(ContributionId, ContributionOf<T>)> {
		let mut ids: Vec<ContributionId> = ContributionsOf::<T>::iter_key_prefix(who).collect();
		ids.sort_unstable();
		ids.into_iter()
			.filter_map(|id| Contributions::<T>::get(id).map(|c| (id, c)))
			.collect()
	}

	/// Sanity of the configuration, checked by `integrity_test`.
	pub(crate) fn check_constants() {
		assert!(T::MaxNameLen::get() > 0, "datanets need a name");
		assert!(T::MaxUriLen::get() > 0, "contributions need a URI");
		assert!(
			T::MaxCurators::get() > 0,
			"owners must be able to appoint curators"
		);
		assert!(
			T::MaxContributionsPerDatanet::get() > 0,
			"datanets must hold contributions"
		);
		assert!(
			T::MaxContributionsPerAccount::get() > 0,
			"accounts must be able to contribute"
		);
		assert!(
			T::MaxVersions::get() > 0,
			"datanets must be able to publish"
		);
		assert!(
			!T::DepositBase::get().is_zero(),
			"every stored item must cost a deposit"
		);
		assert!(
			!T::MinContributionBond::get().is_zero(),
			"a rejection must cost something, or review can be flooded for free"
		);
		assert!(
			T::Currency::minimum_balance() <= T::DepositBase::get(),
			"a deposit below the existential deposit could not be held on a fresh account"
		);
	}
}

#[cfg(any(feature = "try-runtime", test))]
impl<T: Config> Pallet<T> {
	/// Checks this pallet's invariants:
	///
	/// - ids: both counters are ahead of every id in use;
	/// - each datanet's counters match its contributions, curators and
	///   allowlist, and a closed one holds nothing but its versions;
	/// - each contribution is indexed by its datanet and contributor, its
	///   datanet exists, and accepted ones are in the accepted set;
	/// - each version is numbered within its datanet's range, lists
	///   contributions of that datanet in ascending order, and its merkle root
	///   and total bytes match them;
	/// - what this pallet holds from each account equals the sum of its
	///   records' deposits and of its pending contributions' bonds.
	pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use polkadot_sdk::frame_support::ensure;

		type Totals<T> = BTreeMap<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
		let mut owner_deposits: Totals<T> = BTreeMap::new();
		let mut bonds: Totals<T> = BTreeMap::new();
		let mut contribution_deposits: Totals<T> = BTreeMap::new();
		let add = |totals: &mut Totals<T>, who: &T::AccountId, amount: BalanceOf<T>| {
			let total = totals.entry(who.clone()).or_insert_with(Zero::zero);
			*total = total.saturating_add(amount);
		};

		let next_datanet = NextDatanetId::<T>::get();
		for (id, record) in Datanets::<T>::iter() {
			ensure!(id < next_datanet, "a datanet id is not below the counter");
			add(&mut owner_deposits, &record.owner, record.deposit);
			let curators = Curators::<T>::get(id);
			for curator in &curators {
				ensure!(curator.account != record.owner, "the owner is a curator");
				add(&mut owner_deposits, &record.owner, curator.deposit);
			}
			let mut allowlisted = 0u32;
			for (_, deposit) in Allowlist::<T>::iter_prefix(id) {
				allowlisted.saturating_inc();
				add(&mut owner_deposits, &record.owner, deposit);
			}
			ensure!(
				allowlisted == record.allowlisted,
				"allowlist count is wrong"
			);
			ensure!(
				record.visibility == Visibility::Permissioned || allowlisted == 0,
				"a public datanet has an allowlist"
			);
			let accepted = AcceptedContent::<T>::iter_prefix(id).count();
			ensure!(
				accepted == record.accepted as usize,
				"accepted count is wrong"
			);
			ensure!(
				record.unpublished <= record.accepted,
				"more unpublished than accepted"
			);
			ensure!(
				record.pending.saturating_add(record.accepted)
					<= T::MaxContributionsPerDatanet::get(),
				"datanet holds more than its bound"
			);
			ensure!(
				record.latest_version <= T::MaxVersions::get(),
				"too many versions"
			);
			if record.status == DatanetStatus::Closed {
				ensure!(
					record.pending == 0 && record.unpublished == 0,
					"closed with open work"
				);
				ensure!(
					curators.is_empty() && allowlisted == 0,
					"closed with curators or allowlist"
				);
				ensure!(record.deposit.is_zero(), "closed with its deposit held");
				ensure!(
					record.latest_version > 0,
					"closed without versions but kept"
				);
			}

			let mut numbers = 0u32;
			for (number, version) in Versions::<T>::iter_prefix(id) {
				numbers.saturating_inc();
				ensure!(
					version.number == number,
					"version stored under another number"
				);
				ensure!(
					(1..=record.latest_version).contains(&number),
					"version number out of range"
				);
				add(&mut owner_deposits, &record.owner, version.deposit);
				Self::check_version(id, &version)?;
			}
			ensure!(numbers == record.latest_version, "versions missing");
		}
		ensure!(
			Versions::<T>::iter_keys().all(|(id, _)| Datanets::<T>::contains_key(id)),
			"a version outlived its datanet"
		);

		// Contributors with nothing on hold must hold nothing.
		for who in ContributorStatsOf::<T>::iter_keys() {
			add(&mut bonds, &who, Zero::zero());
			add(&mut contribution_deposits, &who, Zero::zero());
		}
		let next_contribution = NextContributionId::<T>::get();
		let mut pending: BTreeMap<DatanetId, u32> = BTreeMap::new();
		let mut unpublished: BTreeMap<DatanetId, u32> = BTreeMap::new();
		let mut per_account: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		for (id, contribution) in Contributions::<T>::iter() {
			ensure!(
				id < next_contribution,
				"a contribution id is not below the counter"
			);
			let record = Datanets::<T>::get(contribution.datanet)
				.ok_or("a contribution's datanet is gone")?;
			ensure!(
				ContentIndex::<T>::get(contribution.datanet, contribution.content_hash) == Some(id),
				"content index is wrong"
			);
			ensure!(
				ContributionsOf::<T>::contains_key(&contribution.contributor, id),
				"account index is missing a contribution"
			);
			per_account
				.entry(contribution.contributor.clone())
				.or_default()
				.saturating_inc();
			add(
				&mut contribution_deposits,
				&contribution.contributor,
				contribution.deposit,
			);
			let accepted_entry = AcceptedContent::<T>::get(contribution.datanet, id);
			match contribution.status {
				ContributionStatus::Pending => {
					add(&mut bonds, &contribution.contributor, contribution.bond);
					pending
						.entry(contribution.datanet)
						.or_default()
						.saturating_inc();
					ensure!(
						accepted_entry.is_none(),
						"a pending contribution is accepted"
					);
				},
				ContributionStatus::Accepted { first_version } => {
					let entry =
						accepted_entry.ok_or("an accepted contribution is not in the set")?;
					ensure!(
						entry.content_hash == contribution.content_hash
							&& entry.size_bytes == contribution.size_bytes,
						"accepted entry differs from the contribution"
					);
					ensure!(
						first_version <= record.latest_version.saturating_add(1),
						"accepted for a version beyond the next"
					);
					if first_version > record.latest_version {
						unpublished
							.entry(contribution.datanet)
							.or_default()
							.saturating_inc();
					}
				},
				ContributionStatus::Retracted => {
					ensure!(
						accepted_entry.is_none(),
						"a retracted contribution is accepted"
					);
					ensure!(record.latest_version > 0, "retracted before any version");
				},
			}
		}
		for (id, record) in Datanets::<T>::iter() {
			ensure!(
				pending.get(&id).copied().unwrap_or(0) == record.pending,
				"pending count is wrong"
			);
			ensure!(
				unpublished.get(&id).copied().unwrap_or(0) == record.unpublished,
				"unpublished count is wrong"
			);
		}
		ensure!(
			ContentIndex::<T>::iter().all(|(_, _, id)| Contributions::<T>::contains_key(id)),
			"content index names a missing contribution"
		);
		ensure!(
			AcceptedContent::<T>::iter_keys().all(|(_, id)| Contributions::<T>::contains_key(id)),
			"accepted set names a missing contribution"
		);
		ensure!(
			ContributionsOf::<T>::iter_keys().all(|(_, id)| Contributions::<T>::contains_key(id)),
			"account index names a missing contribution"
		);
		for (who, stats) in ContributorStatsOf::<T>::iter() {
			ensure!(
				per_account.get(&who).copied().unwrap_or(0) == stats.contributions,
				"an account's contribution count is wrong"
			);
			ensure!(
				stats.contributions <= T::MaxContributionsPerAccount::get(),
				"an account holds more than its bound"
			);
		}
		ensure!(
			per_account
				.keys()
				.all(ContributorStatsOf::<T>::contains_key),
			"a contributor has no stats"
		);

		Self::check_holds(HoldReason::DatanetDeposit, &owner_deposits)?;
		Self::check_holds(HoldReason::ContributionBond, &bonds)?;
		Self::check_holds(HoldReason::ContributionDeposit, &contribution_deposits)?;
		Ok(())
	}

	fn check_version(
		datanet: DatanetId,
		version: &DatanetVersionOf<T>,
	) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use polkadot_sdk::frame_support::ensure;

		ensure!(!version.contributions.is_empty(), "an empty version");
		ensure!(
			version
				.contributions
				.windows(2)
				.all(|pair| pair.first() < pair.last()),
			"version ids are not strictly ascending"
		);
		let mut leaves = Vec::with_capacity(version.contributions.len());
		let mut total_bytes = 0u64;
		for id in &version.contributions {
			let contribution =
				Contributions::<T>::get(id).ok_or("a version names a missing contribution")?;
			ensure!(
				contribution.datanet == datanet,
				"a version names another datanet's data"
			);
			match contribution.status {
				ContributionStatus::Accepted { first_version } => ensure!(
					first_version <= version.number,
					"a version includes a contribution accepted after it"
				),
				ContributionStatus::Retracted => {},
				ContributionStatus::Pending => {
					return Err("a version includes a pending one".into())
				},
			}
			leaves.push(contribution.content_hash);
			total_bytes = total_bytes.saturating_add(contribution.size_bytes);
		}
		ensure!(
			version.merkle_root == merkle_root(&leaves),
			"version merkle root is wrong"
		);
		ensure!(
			version.total_bytes == total_bytes,
			"version total bytes is wrong"
		);
		Ok(())
	}

	/// What each account in `expected` has on hold for `reason` equals its
	/// expected total.
	fn check_holds(
		reason: HoldReason,
		expected: &alloc::collections::btree_map::BTreeMap<T::AccountId, BalanceOf<T>>,
	) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		let reason: T::RuntimeHoldReason = reason.into();
		for (who, amount) in expected {
			polkadot_sdk::frame_support::ensure!(
				T::Currency::balance_on_hold(&reason, who) == *amount,
				"held funds differ from the records"
			);
		}
		Ok(())
	}
}

impl<T: Config> openledger_primitives::DatanetsInspect<T::AccountId> for Pallet<T> {
	fn version_exists(datanet: DatanetId, version: VersionNumber) -> bool {
		Versions::<T>::contains_key(datanet, version)
	}

	fn live_contributor(contribution: ContributionId) -> Option<T::AccountId> {
		Contributions::<T>::get(contribution)
			.filter(|record| matches!(record.status, ContributionStatus::Accepted { .. }))
			.map(|record| record.contributor)
	}
}
