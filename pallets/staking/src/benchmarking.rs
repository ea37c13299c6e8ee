//! Benchmarks of every call at its worst case: a full candidate list, full
//! unbonding queues, and slashes that run through every chunk.

use crate::*;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate},
	},
	frame_system::{self, RawOrigin},
	sp_runtime::{
		traits::{One, Saturating},
		Perbill,
	},
};

const SEED: u32 = 0;

/// A bond in `role` that outbids every current candidate and stays at
/// least the minimum after `MaxUnlockingChunks` one-unit unbonds.
fn stake_for<T: Config>(role: Role) -> BalanceOf<T> {
	let min = Pallet::<T>::min_bond(role);
	let top = Candidates::<T>::get()
		.first()
		.map(|c| c.bond)
		.unwrap_or_default();
	min.max(top)
		.saturating_add(T::MaxUnlockingChunks::get().into())
		.saturating_add(One::one())
		.saturating_mul(2u32.into())
}

/// An account that can afford `stake` in each of the three roles.
fn funded<T: Config>(who: &T::AccountId, stake: BalanceOf<T>) {
	let amount = stake
		.saturating_mul(4u32.into())
		.saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(who, amount);
}

/// Fills the candidate list with minimum-ish validator bonds.
fn fill_candidates<T: Config>() -> Result<(), BenchmarkError> {
	let len = Candidates::<T>::decode_len().unwrap_or_default();
	let free =
		T::MaxValidatorCandidates::get().saturating_sub(u32::try_from(len).unwrap_or(u32::MAX));
	for i in 0..free {
		let who: T::AccountId = account("candidate", i, SEED);
		let bond = T::MinValidatorBond::get().saturating_add(i.into());
		funded::<T>(&who, bond);
		Pallet::<T>::bond(RawOrigin::Signed(who).into(), Role::Validator, bond)?;
	}
	Ok(())
}

/// Bonds `stake` in `role` and unbonds one unit per block until the queue is
/// `chunks` long; with `all`, the last chunk takes the whole active bond.
fn bond_and_queue<T: Config>(
	who: &T::AccountId,
	role: Role,
	stake: BalanceOf<T>,
	chunks: u32,
	all: bool,
) -> Result<(), BenchmarkError> {
	Pallet::<T>::bond(RawOrigin::Signed(who.clone()).into(), role, stake)?;
	for i in 0..chunks {
		let block = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(block);
		let last = i.saturating_add(1) == chunks;
		let amount = if all && last {
			Pallet::<T>::active_bond(who, role)
		} else {
			One::one()
		};
		Pallet::<T>::unbond(RawOrigin::Signed(who.clone()).into(), role, amount)?;
	}
	Ok(())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A validator bond that enters a full candidate list at the top and
	/// pushes out the last candidate.
	#[benchmark]
	fn bond() -> Result<(), BenchmarkError> {
		fill_candidates::<T>()?;
		let caller: T::AccountId = whitelisted_caller();
		let stake = stake_for::<T>(Role::Validator);
		funded::<T>(&caller, stake);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), Role::Validator, stake);

		assert_eq!(
			Candidates::<T>::get().first().map(|c| c.who.clone()),
			Some(caller)
		);
		Ok(())
	}

	/// A validator in a full candidate list unbonds into its last free
	/// queue slot.
	#[benchmark]
	fn unbond() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let stake = stake_for::<T>(Role::Validator);
		funded::<T>(&caller, stake);
		let chunks = T::MaxUnlockingChunks::get().saturating_sub(1);
		bond_and_queue::<T>(&caller, Role::Validator, stake, chunks, false)?;
		fill_candidates::<T>()?;
		let block = frame_system::Pallet::<T>::block_number().saturating_add(One::one());
		frame_system::Pallet::<T>::set_block_number(block);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			Role::Validator,
			One::one(),
		);

		let queued = Bonds::<T>::get(Role::Validator, &caller).map(|l| l.unlocking.len());
		assert_eq!(queued, Some(T::MaxUnlockingChunks::get() as usize));
		Ok(())
	}

	/// Full, matured queues in all three roles, each emptying its ledger.
	#[benchmark]
	fn withdraw_unbonded() -> Result<(), BenchmarkError> {
		let caller: T::AccountId = whitelisted_caller();
		let chunks = T::MaxUnlockingChunks::get();
		let stake = stake_for::<T>(Role::Validator)
			.max(stake_for::<T>(Role::Worker))
			.max(stake_for::<T>(Role::Agent));
		funded::<T>(&caller, stake);
		for role in Role::ALL {
			bond_and_queue::<T>(&caller, role, stake, chunks, true)?;
		}
		let matured =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(matured);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()));

		assert!(Role::ALL
			.iter()
			.all(|role| Bonds::<T>::get(role, &caller).is_none()));
		Ok(())
	}

	/// A whole agent stake spread over a full unbonding queue.
	#[benchmark]
	fn slash_agent() -> Result<(), BenchmarkError> {
		let agent: T::AccountId = account("agent", 0, SEED);
		let stake = stake_for::<T>(Role::Agent);
		funded::<T>(&agent, stake);
		bond_and_queue::<T>(
			&agent,
			Role::Agent,
			stake,
			T::MaxUnlockingChunks::get(),
			false,
		)?;
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let reason = SlashReason::AgentMisbehaviour(Default::default());

		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			agent.clone(),
			Perbill::one(),
			reason,
		);

		assert!(Bonds::<T>::get(Role::Agent, &agent).is_none());
		Ok(())
	}

	/// [`BondedStake::slash`] of a whole validator stake: full unbonding
	/// queue, full candidate list, paid to a beneficiary that does not exist
	/// yet.
	#[benchmark]
	fn slash() -> Result<(), BenchmarkError> {
		let validator: T::AccountId = account("validator", 0, SEED);
		let stake = stake_for::<T>(Role::Validator);
		funded::<T>(&validator, stake);
		bond_and_queue::<T>(
			&validator,
			Role::Validator,
			stake,
			T::MaxUnlockingChunks::get(),
			false,
		)?;
		fill_candidates::<T>()?;
		let reporter: T::AccountId = account("reporter", 0, SEED);
		let reason = SlashReason::ValidatorOffence(Default::default());
		let slashed;

		#[block]
		{
			slashed = <Pallet<T> as BondedStake<_, _>>::slash(
				&validator,
				Role::Validator,
				Perbill::one(),
				Some(reporter.clone()),
				reason,
			);
		}

		assert_eq!(slashed, stake);
		assert_eq!(T::Currency::balance(&reporter), stake);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
