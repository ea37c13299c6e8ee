//! Benchmarks of every call, each in its worst case.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::{fungible::Mutate, Get},
	frame_system::RawOrigin,
	sp_runtime::{
		traits::{Bounded, Saturating},
		Perbill,
	},
};

/// Mints enough for any number of deposits and bonds a benchmark needs.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	let amount = Perbill::from_parts(1_000).mul_floor(BalanceOf::<T>::max_value());
	T::Currency::set_balance(&who, amount);
	who
}

/// `len` bytes, all `fill`.
fn bytes<S: Get<u32>>(fill: u8) -> Result<BoundedVec<u8, S>, BenchmarkError> {
	let raw: Vec<u8> = core::iter::repeat_n(fill, S::get() as usize).collect();
	raw.try_into()
		.map_err(|_| BenchmarkError::Stop("bound too small"))
}

/// A content hash unique to `index` (within one benchmark).
fn content_hash(index: u64) -> ContentHash {
	let mut hash = [0xabu8; 32];
	for (byte, value) in hash.iter_mut().zip(index.to_le_bytes()) {
		*byte = value;
	}
	hash
}

/// A datanet of `owner` with the longest metadata there can be.
fn create_datanet_of<T: Config>(
	owner: &T::AccountId,
	visibility: Visibility,
) -> Result<DatanetId, BenchmarkError> {
	let id = NextDatanetId::<T>::get();
	let tag = bytes::<T::MaxTagLen>(b't')?;
	let tags: TagsOf<T> = core::iter::repeat_n(tag, T::MaxTags::get() as usize)
		.collect::<Vec<_>>()
		.try_into()
		.map_err(|_| BenchmarkError::Stop("too many tags"))?;
	Pallet::<T>::create_datanet(
		RawOrigin::Signed(owner.clone()).into(),
		bytes::<T::MaxNameLen>(b'n')?,
		bytes::<T::MaxSummaryLen>(b's')?,
		[1u8; 32],
		tags,
		visibility,
		T::MinContributionBond::get(),
	)?;
	Ok(id)
}

/// Fills the datanet's curator list up to `count` and returns the last curator.
fn add_curators<T: Config>(
	owner: &T::AccountId,
	datanet: DatanetId,
	count: u32,
) -> Result<Option<T::AccountId>, BenchmarkError> {
	let mut last = None;
	for index in 0..count {
		let curator: T::AccountId = account("curator", index, 0);
		Pallet::<T>::add_curator(
			RawOrigin::Signed(owner.clone()).into(),
			datanet,
			curator.clone(),
		)?;
		last = Some(curator);
	}
	Ok(last)
}

/// A funded contributor on the datanet's allowlist.
fn contributor<T: Config>(
	owner: &T::AccountId,
	datanet: DatanetId,
	index: u32,
) -> Result<T::AccountId, BenchmarkError> {
	let who = funded::<T>("contributor", index);
	if !Allowlist::<T>::contains_key(datanet, &who) {
		Pallet::<T>::allow_contributor(
			RawOrigin::Signed(owner.clone()).into(),
			datanet,
			who.clone(),
		)?;
	}
	Ok(who)
}

/// Submits contribution number `index` to `datanet` as `who`, with the
/// longest URI and license, and returns its id.
fn contribute_as<T: Config>(
	who: &T::AccountId,
	datanet: DatanetId,
	index: u32,
) -> Result<ContributionId, BenchmarkError> {
	let id = NextContributionId::<T>::get();
	Pallet::<T>::contribute(
		RawOrigin::Signed(who.clone()).into(),
		datanet,
		content_hash(index.into()),
		1_024,
		bytes::<T::MaxUriLen>(b'u')?,
		bytes::<T::MaxLicenseLen>(b'l')?,
		ContributionKind::Text,
	)?;
	Ok(id)
}

/// Seeds `count` accepted contributions into the datanet's accepted set, as
/// reviews would leave them. `publish_version` reads only that set, so the
/// seeding skips the bonds, holds and records that `contribute` and `review`
/// would write; this keeps setups of thousands of contributions quick.
fn seed_accepted<T: Config>(datanet: DatanetId, count: u32) -> Result<(), BenchmarkError> {
	let mut record = Datanets::<T>::get(datanet).ok_or(BenchmarkError::Stop("no datanet"))?;
	let mut id = NextContributionId::<T>::get();
	for _ in 0..count {
		let entry = AcceptedEntry {
			content_hash: content_hash(id.0),
			size_bytes: 1_024,
		};
		AcceptedContent::<T>::insert(datanet, id, entry);
		id = id.next().ok_or(BenchmarkError::Stop("ids exhausted"))?;
		record.accepted.saturating_inc();
		record.unpublished.saturating_inc();
	}
	NextContributionId::<T>::put(id);
	Datanets::<T>::insert(datanet, record);
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_datanet() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let id = NextDatanetId::<T>::get();
		let tag = bytes::<T::MaxTagLen>(b't')?;
		let tags: TagsOf<T> = core::iter::repeat_n(tag, T::MaxTags::get() as usize)
			.collect::<Vec<_>>()
			.try_into()
			.map_err(|_| BenchmarkError::Stop("too many tags"))?;
		let name = bytes::<T::MaxNameLen>(b'n')?;
		let summary = bytes::<T::MaxSummaryLen>(b's')?;

		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			name,
			summary,
			[1u8; 32],
			tags,
			Visibility::Permissioned,
			T::MinContributionBond::get(),
		);

		assert!(Datanets::<T>::contains_key(id));
		Ok(())
	}

	/// Worst case: every curator and `a` allowlist entries to remove.
	#[benchmark]
	fn close_datanet(a: Linear<0, { T::MaxAllowlist::get() }>) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		add_curators::<T>(&owner, datanet, T::MaxCurators::get())?;
		for index in 0..a {
			contributor::<T>(&owner, datanet, index)?;
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet);

		assert!(!Datanets::<T>::contains_key(datanet));
		assert_eq!(Allowlist::<T>::iter_prefix(datanet).count(), 0);
		Ok(())
	}

	/// Worst case: the list is one short of full, so every entry is compared.
	#[benchmark]
	fn add_curator() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		add_curators::<T>(&owner, datanet, T::MaxCurators::get().saturating_sub(1))?;
		let curator: T::AccountId = account("new-curator", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, curator.clone());

		assert!(Curators::<T>::get(datanet)
			.iter()
			.any(|c| c.account == curator));
		Ok(())
	}

	/// Worst case: a full list, removing its last entry.
	#[benchmark]
	fn remove_curator() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let curator = add_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.ok_or(BenchmarkError::Stop("no curators"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, curator.clone());

		assert!(!Curators::<T>::get(datanet)
			.iter()
			.any(|c| c.account == curator));
		Ok(())
	}

	#[benchmark]
	fn allow_contributor() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		for index in 0..T::MaxAllowlist::get().saturating_sub(1) {
			contributor::<T>(&owner, datanet, index)?;
		}
		let allowed: T::AccountId = account("allowed", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, allowed.clone());

		assert!(Allowlist::<T>::contains_key(datanet, &allowed));
		Ok(())
	}

	#[benchmark]
	fn disallow_contributor() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let allowed = contributor::<T>(&owner, datanet, 0)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet, allowed.clone());

		assert!(!Allowlist::<T>::contains_key(datanet, &allowed));
		Ok(())
	}

	/// Worst case: a permissioned datanet (allowlist read), longest URI and
	/// license, a contributor with contributions on record.
	#[benchmark]
	fn contribute() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let who = contributor::<T>(&owner, datanet, 0)?;
		let has_room =
			T::MaxContributionsPerAccount::get() > 1 && T::MaxContributionsPerDatanet::get() > 1;
		if has_room {
			contribute_as::<T>(&who, datanet, 0)?;
		}
		let id = NextContributionId::<T>::get();
		let uri = bytes::<T::MaxUriLen>(b'u')?;
		let license = bytes::<T::MaxLicenseLen>(b'l')?;

		#[extrinsic_call]
		_(
			RawOrigin::Signed(who),
			datanet,
			content_hash(1),
			1_024,
			uri,
			license,
			ContributionKind::Text,
		);

		assert!(Contributions::<T>::contains_key(id));
		Ok(())
	}

	/// Worst case: the reviewer is the last of a full curator list.
	#[benchmark]
	fn review_accept() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let curator = add_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.ok_or(BenchmarkError::Stop("no curators"))?;
		let who = contributor::<T>(&owner, datanet, 0)?;
		let id = contribute_as::<T>(&who, datanet, 0)?;

		#[extrinsic_call]
		review(RawOrigin::Signed(curator), id, Review::Accept);

		assert!(AcceptedContent::<T>::contains_key(datanet, id));
		Ok(())
	}

	/// Worst case: the reviewer is the last of a full curator list, and the
	/// slash moves funds to the owner.
	#[benchmark]
	fn review_reject() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let curator = add_curators::<T>(&owner, datanet, T::MaxCurators::get())?
			.ok_or(BenchmarkError::Stop("no curators"))?;
		let who = contributor::<T>(&owner, datanet, 0)?;
		let id = contribute_as::<T>(&who, datanet, 0)?;

		#[extrinsic_call]
		review(
			RawOrigin::Signed(curator),
			id,
			Review::Reject {
				reason: RejectReason::LowQuality,
			},
		);

		assert!(!Contributions::<T>::contains_key(id));
		assert_eq!(Penalties::<T>::get(&who), 1);
		Ok(())
	}

	#[benchmark]
	fn withdraw_pending() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let who = contributor::<T>(&owner, datanet, 0)?;
		let id = contribute_as::<T>(&who, datanet, 0)?;

		#[extrinsic_call]
		withdraw(RawOrigin::Signed(who), id);

		assert!(!Contributions::<T>::contains_key(id));
		Ok(())
	}

	/// Worst case: an accepted contribution that no version includes, which
	/// is removed outright (more writes than retracting a published one).
	#[benchmark]
	fn withdraw_accepted() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Permissioned)?;
		let who = contributor::<T>(&owner, datanet, 0)?;
		let id = contribute_as::<T>(&who, datanet, 0)?;
		Pallet::<T>::review(RawOrigin::Signed(owner).into(), id, Review::Accept)?;

		#[extrinsic_call]
		withdraw(RawOrigin::Signed(who), id);

		assert!(!Contributions::<T>::contains_key(id));
		Ok(())
	}

	/// `n` accepted contributions to commit to, compared against a previous
	/// version of `n - 1`.
	#[benchmark]
	fn publish_version(
		n: Linear<1, { T::MaxContributionsPerDatanet::get() }>,
	) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let datanet = create_datanet_of::<T>(&owner, Visibility::Public)?;
		let previous = n.saturating_sub(1);
		if previous > 0 {
			seed_accepted::<T>(datanet, previous)?;
			Pallet::<T>::publish_version(RawOrigin::Signed(owner.clone()).into(), datanet)?;
		}
		seed_accepted::<T>(datanet, 1)?;
		let number = Datanets::<T>::get(datanet)
			.map(|record| record.latest_version.saturating_add(1))
			.ok_or(BenchmarkError::Stop("no datanet"))?;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), datanet);

		let version =
			Versions::<T>::get(datanet, number).ok_or(BenchmarkError::Stop("not published"))?;
		assert_eq!(version.contributions.len(), n as usize);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
