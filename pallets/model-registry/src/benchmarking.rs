//! Benchmarks of every call at its worst case, and of deciding the votes
//! that end in one block.

use super::*;
use crate::Pallet as Registry;
use alloc::vec;
use openledger_primitives::FeeSplit;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::{fungible::Mutate, Hooks},
	frame_system::RawOrigin,
	sp_runtime::traits::Saturating,
};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	// A hundred times every bond and deposit the calls hold, the largest
	// record included: plenty, yet small enough that funding many accounts
	// cannot overflow the total issuance.
	let needs = T::ProposalBond::get()
		.saturating_add(T::VoteDeposit::get())
		.saturating_add(T::ServeDeposit::get())
		.saturating_add(Registry::<T>::deposit_for(ModelOf::<T>::max_encoded_len()))
		.saturating_add(Registry::<T>::deposit_for(
			AdapterVersionOf::<T>::max_encoded_len(),
		));
	T::Currency::set_balance(&who, needs.saturating_mul(100u32.into()));
	who
}

fn bytes<S: Get<u32>>(byte: u8) -> BoundedVec<u8, S> {
	BoundedVec::truncate_from(vec![byte; S::get() as usize])
}

fn base_model<T: Config>() -> Result<BaseModelId, BenchmarkError> {
	let base = NextBaseModelId::<T>::get();
	Registry::<T>::do_register_base_model(
		bytes(b'n'),
		bytes(b'a'),
		Hash::repeat_byte(1),
		bytes(b'u'),
		bytes(b'l'),
	)?;
	Ok(base)
}

/// A proposal by `owner` over `versions` datanet versions, still under vote.
fn proposal<T: Config>(owner: &T::AccountId, versions: u32) -> Result<ModelId, BenchmarkError> {
	let base = match NextBaseModelId::<T>::get().0 {
		0 => base_model::<T>()?,
		_ => BaseModelId(0),
	};
	let model = NextModelId::<T>::get();
	let refs = BoundedVec::truncate_from(T::BenchmarkHelper::datanet_versions(versions));
	Registry::<T>::do_propose_model(
		owner.clone(),
		base,
		refs,
		Hash::repeat_byte(2),
		Pricing {
			per_1k_input: 1u32.into(),
			per_1k_output: 2u32.into(),
		},
		SplitLimits::<T>::get().min_complete(),
		Some(owner.clone()),
	)?;
	Ok(model)
}

/// A model in `status` as if its vote had ended that way.
fn decided<T: Config>(
	owner: &T::AccountId,
	status: ModelStatus<BlockNumberFor<T>>,
) -> Result<ModelId, BenchmarkError> {
	let model = proposal::<T>(owner, 1)?;
	let Some(ModelStatus::Voting { ends_at }) = Models::<T>::get(model).map(|m| m.status) else {
		return Err(BenchmarkError::Stop("a fresh proposal is not under vote"));
	};
	ProposalsEndingAt::<T>::remove(ends_at);
	Tallies::<T>::remove(model);
	Models::<T>::mutate(model, |record| {
		if let Some(record) = record {
			record.status = status;
		}
	});
	Ok(model)
}

fn publish<T: Config>(owner: &T::AccountId, model: ModelId) -> Result<(), BenchmarkError> {
	Registry::<T>::do_publish_adapter(
		owner.clone(),
		model,
		Hash::repeat_byte(3),
		bytes(b'u'),
		Hash::repeat_byte(4),
		Hash::repeat_byte(5),
	)?;
	Ok(())
}

/// Fills `worker`'s list of served models up to one short of the bound,
/// so the call measured reads and writes the longest list.
fn nearly_full_list<T: Config>(worker: &T::AccountId) {
	let others = (0..T::MaxModelsPerWorker::get().saturating_sub(1))
		.map(|i| ModelId(u32::MAX.saturating_sub(i)));
	ServedBy::<T>::insert(
		worker,
		BoundedVec::truncate_from(others.collect::<alloc::vec::Vec<_>>()),
	);
}

impl SplitBounds {
	/// A complete split inside these bounds: the minima, with the rest of
	/// 100 % given to the contributors up to their maximum, then to the
	/// others in order.
	fn min_complete(&self) -> FeeSplit {
		use polkadot_sdk::sp_runtime::Perbill;
		let mut shares = self.min.shares();
		let max = self.max.shares();
		let mut left = Perbill::one().deconstruct().saturating_sub(
			shares
				.iter()
				.map(|s| s.deconstruct())
				.fold(0u32, |a, b| a.saturating_add(b)),
		);
		for index in [2usize, 0, 1, 3] {
			if let (Some(share), Some(cap)) = (shares.get_mut(index), max.get(index)) {
				let room = cap.deconstruct().saturating_sub(share.deconstruct());
				let add = room.min(left);
				*share = Perbill::from_parts(share.deconstruct().saturating_add(add));
				left = left.saturating_sub(add);
			}
		}
		let [developer, infrastructure, contributors, protocol] = shares;
		FeeSplit {
			developer,
			infrastructure,
			contributors,
			protocol,
		}
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_base_model() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			bytes(b'n'),
			bytes(b'a'),
			Hash::repeat_byte(1),
			bytes(b'u'),
			bytes(b'l'),
		);
		assert!(BaseModels::<T>::contains_key(BaseModelId(0)));
		Ok(())
	}

	#[benchmark]
	fn propose_model(d: Linear<1, { T::MaxDatanetVersions::get() }>) -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let base = base_model::<T>()?;
		let refs = BoundedVec::truncate_from(T::BenchmarkHelper::datanet_versions(d));
		let split = SplitLimits::<T>::get().min_complete();
		let trainer = funded::<T>("trainer", 0);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			base,
			refs,
			Hash::repeat_byte(2),
			Pricing {
				per_1k_input: 1u32.into(),
				per_1k_output: 2u32.into(),
			},
			split,
			Some(trainer),
		);
		assert!(Models::<T>::contains_key(ModelId(0)));
		Ok(())
	}

	#[benchmark]
	fn vote() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = proposal::<T>(&owner, 1)?;
		let voter = funded::<T>("voter", 0);
		T::BenchmarkHelper::bond_voter(&voter);
		#[extrinsic_call]
		_(RawOrigin::Signed(voter.clone()), model, Vote::Aye);
		assert!(Votes::<T>::contains_key(model, &voter));
		Ok(())
	}

	#[benchmark]
	fn remove_vote() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = proposal::<T>(&owner, 1)?;
		let voter = funded::<T>("voter", 0);
		T::BenchmarkHelper::bond_voter(&voter);
		Registry::<T>::do_vote(voter.clone(), model, Vote::Nay)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(voter.clone()), model);
		assert!(!Votes::<T>::contains_key(model, &voter));
		Ok(())
	}

	#[benchmark]
	fn publish_adapter() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = decided::<T>(&owner, ModelStatus::Approved)?;
		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner),
			model,
			Hash::repeat_byte(3),
			bytes(b'u'),
			Hash::repeat_byte(4),
			Hash::repeat_byte(5),
		);
		assert!(Adapters::<T>::contains_key(model, 1));
		Ok(())
	}

	#[benchmark]
	fn serve() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = decided::<T>(&owner, ModelStatus::Approved)?;
		publish::<T>(&owner, model)?;
		let worker = funded::<T>("worker", 0);
		T::BenchmarkHelper::bond_worker(&worker);
		nearly_full_list::<T>(&worker);
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), model);
		assert!(Servers::<T>::contains_key(model, &worker));
		Ok(())
	}

	#[benchmark]
	fn unserve() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = decided::<T>(&owner, ModelStatus::Approved)?;
		publish::<T>(&owner, model)?;
		let worker = funded::<T>("worker", 0);
		T::BenchmarkHelper::bond_worker(&worker);
		nearly_full_list::<T>(&worker);
		Registry::<T>::do_serve(worker.clone(), model)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), model);
		assert!(!Servers::<T>::contains_key(model, &worker));
		Ok(())
	}

	#[benchmark]
	fn retire() -> Result<(), BenchmarkError> {
		let owner = funded::<T>("owner", 0);
		let model = decided::<T>(&owner, ModelStatus::Approved)?;
		publish::<T>(&owner, model)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model);
		assert!(matches!(
			Models::<T>::get(model).map(|m| m.status),
			Some(ModelStatus::Retired)
		));
		Ok(())
	}

	#[benchmark]
	fn set_split_bounds() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let bounds = SplitLimits::<T>::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, bounds);
		Ok(())
	}

	#[benchmark]
	fn set_voting_period() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let blocks = T::MaxVotingPeriod::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, blocks);
		assert_eq!(VotingPeriodBlocks::<T>::get(), blocks);
		Ok(())
	}

	/// `n` proposals decided in one block, each rejected without a vote:
	/// the costliest outcome (a slash, two releases, a removal).
	#[benchmark]
	fn on_initialize_decide(
		n: Linear<0, { T::MaxProposalsPerBlock::get() }>,
	) -> Result<(), BenchmarkError> {
		let now = polkadot_sdk::frame_system::Pallet::<T>::block_number();
		let ends_at = now.saturating_add(VotingPeriodBlocks::<T>::get());
		for i in 0..n {
			let owner = funded::<T>("owner", i);
			proposal::<T>(&owner, 1)?;
		}
		#[block]
		{
			Registry::<T>::on_initialize(ends_at);
		}
		assert_eq!(Models::<T>::iter().count(), 0);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Registry,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
