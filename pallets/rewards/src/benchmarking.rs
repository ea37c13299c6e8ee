//! Benchmarks of the call, the trait functions and each part of the hook,
//! each in its worst case.

use crate::*;
use alloc::vec::Vec;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::{
		storage::StorageDoubleMap as _,
		traits::{
			fungible::{Inspect, Mutate},
			Get,
		},
	},
	frame_system::{self, RawOrigin},
	sp_runtime::traits::{Saturating, Zero},
};

const SEED: u32 = 0;

/// Enough OPEN for any benchmark: a million existential deposits.
fn plenty<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().saturating_mul(1_000_000u32.into())
}

/// A reward well above the existential deposit.
fn reward<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().saturating_mul(10u32.into())
}

/// Gives `who` at least `amount` on top of what it has.
fn fund<T: Config>(who: &T::AccountId, amount: BalanceOf<T>) {
	let balance = T::Currency::balance(who);
	T::Currency::set_balance(who, balance.saturating_add(amount));
}

/// The pot and the protocol pool exist, as genesis leaves them.
fn pools_alive<T: Config>() {
	let minimum = T::Currency::minimum_balance();
	for pool in [T::PotAccount::get(), T::ProtocolPool::get()] {
		if T::Currency::balance(&pool) < minimum {
			T::Currency::set_balance(&pool, minimum);
		}
	}
}

/// A penalty record above the threshold, so that every reward is split.
fn penalise<T: Config>(who: &T::AccountId) {
	let epoch = CurrentEpoch::<T>::get().index;
	PenaltyScores::<T>::insert(
		who,
		PenaltyRecord {
			score: T::PenaltyThreshold::get().saturating_add(1),
			epoch,
		},
	);
}

/// Epoch 0 has closed at the end of the schedule (so that it may emit) and
/// waits for its payout, with `earners` accounts that earned in every class.
/// Returns the block the epoch ended at.
fn seed_closed_epoch<T: Config>(earners: u32) -> BlockNumberFor<T> {
	let end = T::EmissionStart::get()
		.saturating_add(T::EmissionDuration::get())
		.max(T::EpochLength::get());
	let start = end.saturating_sub(T::EpochLength::get());
	let mut totals = EpochTotals::default();
	for index in 0..earners {
		let who: T::AccountId = account("earner", index, SEED);
		let points = Points {
			credit: 1u32.into(),
			inferences: 1,
			blocks: 1,
		};
		Earnings::<T>::insert(0, &who, points);
		totals.add(&points);
		totals.earners.saturating_inc();
		// A score that decays to nothing: paying removes the record.
		PenaltyScores::<T>::insert(&who, PenaltyRecord { score: 1, epoch: 0 });
	}
	ClosedEpochs::<T>::insert(0, ClosedEpoch { start, end, totals });
	CurrentEpoch::<T>::put(EpochState {
		index: 1,
		start: end,
		totals: EpochTotals::default(),
	});
	NextEpochToPay::<T>::put(0);
	frame_system::Pallet::<T>::set_block_number(end);
	pools_alive::<T>();
	fund::<T>(&T::CommunityPool::get(), plenty::<T>());
	end
}

/// A payout of epoch 0 in progress with `earners` unpaid, its emission in
/// escrow in the pot.
fn seed_payout<T: Config>(earners: u32) -> Result<PayoutRunOf<T>, BenchmarkError> {
	seed_closed_epoch::<T>(earners);
	Pallet::<T>::start_next_payout().ok_or(BenchmarkError::Stop("no payout started"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A first claim, which creates the claimer's account.
	#[benchmark]
	fn claim() -> Result<(), BenchmarkError> {
		pools_alive::<T>();
		let payer: T::AccountId = account("payer", 0, SEED);
		fund::<T>(&payer, plenty::<T>());
		let who: T::AccountId = account("claimer", 0, SEED);
		let amount = reward::<T>();
		Pallet::<T>::pay_rewards(&payer, &[(who.clone(), amount)])?;

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Claimable::<T>::get(&who).is_zero());
		assert_eq!(T::Currency::balance(&who), amount);
		Ok(())
	}

	/// `n` credits to distinct new accounts, each penalised, so that both
	/// the pot and the protocol pool are paid.
	#[benchmark]
	fn pay_rewards(n: Linear<1, { T::MaxCreditsPerCall::get() }>) -> Result<(), BenchmarkError> {
		pools_alive::<T>();
		let payer: T::AccountId = account("payer", 0, SEED);
		fund::<T>(&payer, plenty::<T>());
		let credits: Vec<(T::AccountId, BalanceOf<T>)> = (0..n)
			.map(|index| {
				let who: T::AccountId = account("payee", index, SEED);
				penalise::<T>(&who);
				(who, reward::<T>())
			})
			.collect();

		#[block]
		{
			Pallet::<T>::pay_rewards(&payer, &credits)?;
		}

		let (first, amount) = credits.first().ok_or("no credits")?;
		assert_eq!(
			Claimable::<T>::get(first),
			T::PenaltyMultiplier::get().mul_floor(*amount)
		);
		Ok(())
	}

	/// An account's first points in the epoch, which create its entry.
	#[benchmark]
	fn note_attribution() {
		let who: T::AccountId = account("contributor", 0, SEED);

		#[block]
		{
			Pallet::<T>::note_attribution(&who, 1_000u32.into());
		}

		assert!(Earnings::<T>::contains_key(
			CurrentEpoch::<T>::get().index,
			&who
		));
	}

	/// A worker's first points in the epoch, which create its entry.
	#[benchmark]
	fn note_settled_inferences() {
		let who: T::AccountId = account("worker", 0, SEED);

		#[block]
		{
			Pallet::<T>::note_settled_inferences(&who, 1_000);
		}

		let epoch = CurrentEpoch::<T>::get().index;
		assert_eq!(
			Earnings::<T>::get(epoch, &who).map(|points| points.inferences),
			Some(1_000)
		);
	}

	/// Raising a score last raised epochs ago, which decays it first.
	#[benchmark]
	fn raise_penalty() {
		let who: T::AccountId = account("offender", 0, SEED);
		PenaltyScores::<T>::insert(
			&who,
			PenaltyRecord {
				score: 1_000,
				epoch: 0,
			},
		);
		CurrentEpoch::<T>::mutate(|epoch| epoch.index = 7);
		NextEpochToPay::<T>::put(7);

		#[block]
		{
			Pallet::<T>::raise_penalty(&who, 5);
		}

		assert_eq!(
			PenaltyScores::<T>::get(&who).map(|record| record.epoch),
			Some(7)
		);
	}

	/// A block in the middle of an epoch with nothing to pay: the author's
	/// first block of the epoch is counted.
	#[benchmark]
	fn on_initialize_base() {
		let now = frame_system::Pallet::<T>::block_number();
		CurrentEpoch::<T>::put(EpochState {
			index: 0,
			start: now,
			totals: EpochTotals::default(),
		});
		let author: T::AccountId = account("validator", 0, SEED);

		#[block]
		{
			Pallet::<T>::on_block(now, Some(author.clone()));
		}

		assert_eq!(
			Earnings::<T>::get(0, &author).map(|points| points.blocks),
			Some(1)
		);
	}

	/// Ending an epoch.
	#[benchmark]
	fn close_epoch() {
		let now = T::EpochLength::get();
		frame_system::Pallet::<T>::set_block_number(now);

		#[block]
		{
			Pallet::<T>::close_epoch_if_due(now);
		}

		assert!(ClosedEpochs::<T>::contains_key(0));
		assert_eq!(CurrentEpoch::<T>::get().index, 1);
	}

	/// Starting a payout in which every class earned, which moves the
	/// emission into the pot.
	#[benchmark]
	fn start_payout() {
		seed_closed_epoch::<T>(1);
		let pot = T::Currency::balance(&T::PotAccount::get());

		#[block]
		{
			Pallet::<T>::start_next_payout();
		}

		assert!(!ClosedEpochs::<T>::contains_key(0));
		assert!(T::Currency::balance(&T::PotAccount::get()) > pot);
	}

	/// Paying a page of `n` earners, each new to the ledger and with a
	/// penalty record to prune.
	#[benchmark]
	fn pay_earners(n: Linear<1, { T::MaxPayoutsPerBlock::get() }>) -> Result<(), BenchmarkError> {
		let mut run = seed_payout::<T>(n)?;

		#[block]
		{
			Pallet::<T>::pay_earners(&mut run, n);
		}

		assert!(!Earnings::<T>::contains_prefix(0));
		assert_eq!(run.remaining, 0);
		assert!(!run.paid.is_zero());
		Ok(())
	}

	/// Ending a payout with a remainder to return to the community pool.
	#[benchmark]
	fn finish_payout() -> Result<(), BenchmarkError> {
		let mut run = seed_payout::<T>(0)?;
		// Nobody earned, so nothing was escrowed: escrow something to return.
		run.classes.contributors = reward::<T>();
		run.escrowed = run.classes.total();
		fund::<T>(&T::PotAccount::get(), run.escrowed);

		#[block]
		{
			Pallet::<T>::finish_payout(run);
		}

		assert!(ActivePayout::<T>::get().is_none());
		assert_eq!(NextEpochToPay::<T>::get(), 1);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
