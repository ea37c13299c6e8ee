//! Benchmarks of every call at its worst case, and of the refunds and
//! settlements that one block's initialisation performs.

use super::*;
use crate::Pallet as Attribution;
use alloc::vec::Vec;
use openledger_primitives::{
	attribution::{result_hash, scores_root, wrap_for_wallet, PayloadForm, SCORE_PPM_WHOLE},
	BondedStake, ModelRegistryInspect, Role,
};
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::{
		fungible::{Mutate, MutateHold},
		Hooks,
	},
	frame_system::{self, RawOrigin},
	sp_runtime::{
		traits::{Bounded, Saturating, Zero},
		Perbill,
	},
};

const PROMPT: Hash = Hash::repeat_byte(0x50);
const OUTPUT: Hash = Hash::repeat_byte(0x0f);
const TOKENS: u32 = 1_000;

/// An account with plenty of OPEN: a millionth of the largest balance, so
/// that a thousand of them still fit in the total issuance.
fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	fund::<T>(&who);
	who
}

fn fund<T: Config>(who: &T::AccountId) {
	T::Currency::set_balance(
		who,
		Perbill::from_parts(1_000).mul_floor(BalanceOf::<T>::max_value()),
	);
}

fn now<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number()
}

fn set_block<T: Config>(block: BlockNumberFor<T>) {
	frame_system::Pallet::<T>::set_block_number(block);
}

/// A deployed model and a bonded worker serving it.
fn served_model<T: Config>() -> (ModelId, T::AccountId) {
	let owner = funded::<T>("owner", 0);
	let model = T::BenchmarkHelper::deployed_model(&owner);
	let worker = bonded_worker::<T>("worker", 0);
	T::BenchmarkHelper::serve(model, &worker);
	(model, worker)
}

fn bonded_worker<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who = funded::<T>(name, index);
	T::BenchmarkHelper::bond_worker(&who);
	who
}

/// The most a request holds: the fee of [`TOKENS`] in and out, and more.
fn max_fee<T: Config>(model: ModelId) -> Result<BalanceOf<T>, BenchmarkError> {
	let fee = Attribution::<T>::quote(model, TOKENS, TOKENS)
		.ok_or(BenchmarkError::Stop("the benchmark model has no price"))?;
	Ok(fee.saturating_add(1_000u32.into()))
}

/// `user`'s request to `worker`; its refund queue entry is dropped so that
/// any number of requests can be made in one block.
fn requested<T: Config>(
	model: ModelId,
	worker: &T::AccountId,
	user: &T::AccountId,
) -> Result<InferenceId, BenchmarkError> {
	let id = NextInferenceId::<T>::get();
	Attribution::<T>::do_request_inference(
		user.clone(),
		model,
		worker.clone(),
		PROMPT,
		max_fee::<T>(model)?,
	)?;
	ExpiringAt::<T>::remove(now::<T>().saturating_add(WindowBlocks::<T>::get().serve_timeout));
	Ok(id)
}

/// `count` scores over new live contributions, summing to the whole.
fn scores<T: Config>(count: u32) -> Vec<(ContributionId, u32)> {
	let each = SCORE_PPM_WHOLE
		.checked_div(count)
		.unwrap_or(SCORE_PPM_WHOLE);
	T::BenchmarkHelper::live_contributions(count)
		.into_iter()
		.map(|contribution| (contribution, each))
		.collect()
}

fn proof<T: Config>(
	model: ModelId,
	scores: &[(ContributionId, u32)],
) -> Result<ProofCommitment, BenchmarkError> {
	let terms = T::Models::deployed(model).ok_or(BenchmarkError::Stop("model not deployed"))?;
	Ok(ProofCommitment {
		adapter_hash: terms.adapter_hash,
		attribution_index_root: terms.attribution_index_root,
		method: Method::Span,
		projection_seed: 7,
		lambda_fp: 1 << 16,
		fixed_point_frac_bits: 16,
		scores_root: scores_root(scores),
	})
}

/// A new user's inference with `worker`'s receipt with `count` scores.
fn receipted<T: Config>(
	model: ModelId,
	worker: &T::AccountId,
	user_index: u32,
	count: u32,
) -> Result<(InferenceId, Hash), BenchmarkError> {
	let user = funded::<T>("user", user_index);
	let id = requested::<T>(model, worker, &user)?;
	let scores = scores::<T>(count);
	let proof = proof::<T>(model, &scores)?;
	Attribution::<T>::do_submit_receipt(
		worker.clone(),
		id,
		TOKENS,
		TOKENS,
		OUTPUT,
		Method::Span,
		BoundedVec::truncate_from(scores.clone()),
		proof,
	)?;
	Ok((id, result_hash(&OUTPUT, Method::Span, &scores, &proof)))
}

/// A receipt with `count` scores under challenge, with a full committee
/// drawn from `VerifierCount` further serving workers.
fn challenged<T: Config>(count: u32) -> Result<(InferenceId, Hash, T::AccountId), BenchmarkError> {
	let (model, worker) = served_model::<T>();
	for i in 0..T::VerifierCount::get() {
		let verifier = bonded_worker::<T>("verifier", i);
		T::BenchmarkHelper::serve(model, &verifier);
	}
	let (id, honest) = receipted::<T>(model, &worker, 0, count)?;
	let challenger = bonded_worker::<T>("challenger", 0);
	Attribution::<T>::do_challenge(challenger, id, Hash::repeat_byte(0xee))?;
	Ok((id, honest, worker))
}

/// The verifiers drawn for `id`.
fn verifiers<T: Config>(id: InferenceId) -> Result<Vec<T::AccountId>, BenchmarkError> {
	let challenge = Challenges::<T>::get(id).ok_or(BenchmarkError::Stop("no challenge"))?;
	Ok(challenge
		.verifiers
		.into_iter()
		.map(|slot| slot.verifier)
		.collect())
}

/// Answers with `verdict` from all but one verifier needed for a majority;
/// returns the verifier whose answer decides.
fn all_but_the_deciding_verdict<T: Config>(
	id: InferenceId,
	verdict: Hash,
) -> Result<T::AccountId, BenchmarkError> {
	let verifiers = verifiers::<T>(id)?;
	let majority = verifiers.len().saturating_div(2).saturating_add(1);
	for verifier in verifiers.iter().take(majority.saturating_sub(1)) {
		Attribution::<T>::do_submit_verdict(verifier.clone(), id, verdict)?;
	}
	verifiers
		.get(majority.saturating_sub(1))
		.cloned()
		.ok_or(BenchmarkError::Stop("no committee was drawn"))
}

/// Moves past the verifiers' window, so that governance may resolve.
fn past_deadline<T: Config>(id: InferenceId) -> Result<(), BenchmarkError> {
	let challenge = Challenges::<T>::get(id).ok_or(BenchmarkError::Stop("no challenge"))?;
	set_block::<T>(challenge.deadline.saturating_add(1u32.into()));
	Ok(())
}

/// Fills `block`'s settlement queue with `count` ids that are never
/// settled, as other receipts would.
fn crowd_settlements<T: Config>(block: BlockNumberFor<T>, count: u32) {
	let ids = (0..count)
		.map(|i| InferenceId(u64::MAX.saturating_sub(u64::from(i))))
		.collect();
	SettleAt::<T>::insert(block, BoundedVec::truncate_from(ids));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn request_inference() -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		let user = funded::<T>("user", 0);
		let max_fee = max_fee::<T>(model)?;
		let serve_by = now::<T>().saturating_add(WindowBlocks::<T>::get().serve_timeout);
		let others = T::MaxRequestsPerBlock::get().saturating_sub(1);
		ExpiringAt::<T>::insert(
			serve_by,
			BoundedVec::truncate_from(
				(0..others)
					.map(|i| InferenceId(u64::MAX.saturating_sub(u64::from(i))))
					.collect(),
			),
		);
		let id = NextInferenceId::<T>::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(user), model, worker, PROMPT, max_fee);
		assert!(Inferences::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn submit_receipt(s: Linear<0, { T::MaxScores::get() }>) -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		let user = funded::<T>("user", 0);
		let id = NextInferenceId::<T>::get();
		Attribution::<T>::do_request_inference(
			user,
			model,
			worker.clone(),
			PROMPT,
			max_fee::<T>(model)?,
		)?;
		let settle_at = now::<T>().saturating_add(WindowBlocks::<T>::get().challenge_window);
		crowd_settlements::<T>(
			settle_at,
			T::MaxSettlementsPerBlock::get().saturating_sub(1),
		);
		let scores = scores::<T>(s);
		let proof = proof::<T>(model, &scores)?;
		#[extrinsic_call]
		_(
			RawOrigin::Signed(worker),
			id,
			TOKENS,
			TOKENS,
			OUTPUT,
			Method::Span,
			BoundedVec::truncate_from(scores),
			proof,
		);
		assert!(Receipts::<T>::contains_key(id));
		Ok(())
	}

	/// `w` serving workers besides the receipt's: each one's bond is read.
	#[benchmark]
	fn challenge(
		w: Linear<
			{ T::VerifierCount::get() },
			{
				T::MaxVerifierCandidates::get()
					.saturating_sub(1)
					.max(T::VerifierCount::get())
			},
		>,
	) -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		for i in 0..w {
			let verifier = bonded_worker::<T>("verifier", i);
			T::BenchmarkHelper::serve(model, &verifier);
		}
		let (id, _) = receipted::<T>(model, &worker, 0, 0)?;
		let challenger = bonded_worker::<T>("challenger", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), id, Hash::repeat_byte(0xee));
		assert_eq!(
			verifiers::<T>(id)?.len(),
			usize::try_from(T::VerifierCount::get()).unwrap_or_default()
		);
		Ok(())
	}

	/// The verdict that upholds the receipt, which then settles with `s`
	/// scores.
	#[benchmark]
	fn submit_verdict_upheld(s: Linear<0, { T::MaxScores::get() }>) -> Result<(), BenchmarkError> {
		let (id, honest, _) = challenged::<T>(s)?;
		let deciding = all_but_the_deciding_verdict::<T>(id, honest)?;
		#[extrinsic_call]
		submit_verdict(RawOrigin::Signed(deciding), id, honest);
		assert!(!Inferences::<T>::contains_key(id));
		Ok(())
	}

	/// The verdict that voids the receipt: the worker is slashed.
	#[benchmark]
	fn submit_verdict_voided() -> Result<(), BenchmarkError> {
		let (id, _, worker) = challenged::<T>(T::MaxScores::get())?;
		let wrong = Hash::repeat_byte(0xee);
		let deciding = all_but_the_deciding_verdict::<T>(id, wrong)?;
		let stake = T::Stake::bonded(&worker, Role::Worker);
		#[extrinsic_call]
		submit_verdict(RawOrigin::Signed(deciding), id, wrong);
		assert!(!Inferences::<T>::contains_key(id));
		assert!(T::Stake::bonded(&worker, Role::Worker) < stake);
		Ok(())
	}

	#[benchmark]
	fn resolve_challenge_upheld(
		s: Linear<0, { T::MaxScores::get() }>,
	) -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (id, _, _) = challenged::<T>(s)?;
		past_deadline::<T>(id)?;
		#[extrinsic_call]
		resolve_challenge(origin as T::RuntimeOrigin, id, Outcome::Upheld);
		assert!(!Inferences::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn resolve_challenge_voided() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (id, _, _) = challenged::<T>(T::MaxScores::get())?;
		past_deadline::<T>(id)?;
		#[extrinsic_call]
		resolve_challenge(origin as T::RuntimeOrigin, id, Outcome::Voided);
		assert!(!Inferences::<T>::contains_key(id));
		Ok(())
	}

	/// A settlement retried by anyone, with `s` scores.
	#[benchmark]
	fn settle(s: Linear<0, { T::MaxScores::get() }>) -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		let (id, _) = receipted::<T>(model, &worker, 0, s)?;
		SettleAt::<T>::remove(now::<T>().saturating_add(WindowBlocks::<T>::get().challenge_window));
		Inferences::<T>::mutate(id, |record| {
			if let Some(record) = record {
				record.status = Status::Unsettled;
			}
		});
		let caller = funded::<T>("caller", 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);
		assert!(!Inferences::<T>::contains_key(id));
		Ok(())
	}

	/// `n` requests of distinct users refunded in one block.
	#[benchmark]
	fn on_initialize_expire(
		n: Linear<0, { T::MaxRequestsPerBlock::get() }>,
	) -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		let serve_by = now::<T>().saturating_add(WindowBlocks::<T>::get().serve_timeout);
		for i in 0..n {
			let user = funded::<T>("user", i);
			Attribution::<T>::do_request_inference(
				user,
				model,
				worker.clone(),
				PROMPT,
				max_fee::<T>(model)?,
			)?;
		}
		#[block]
		{
			Attribution::<T>::on_initialize(serve_by);
		}
		assert!(Inferences::<T>::iter().next().is_none());
		Ok(())
	}

	/// `n` receipts of distinct users settled in one block, each with the
	/// most scores.
	#[benchmark]
	fn on_initialize_settle(
		n: Linear<0, { T::MaxSettlementsPerBlock::get() }>,
	) -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		for i in 0..n {
			receipted::<T>(model, &worker, i, T::MaxScores::get())?;
		}
		let settle_at = now::<T>().saturating_add(WindowBlocks::<T>::get().challenge_window);
		set_block::<T>(settle_at);
		#[block]
		{
			Attribution::<T>::on_initialize(settle_at);
		}
		assert!(Inferences::<T>::iter().next().is_none());
		Ok(())
	}

	#[benchmark]
	fn deposit_credit() {
		let user = funded::<T>("user", 0);
		let amount: BalanceOf<T> = 1_000_000u32.into();
		#[extrinsic_call]
		_(RawOrigin::Signed(user.clone()), amount);
		assert_eq!(Credits::<T>::get(&user).map(|c| c.balance), Some(amount));
	}

	#[benchmark]
	fn unlock_credit() -> Result<(), BenchmarkError> {
		let user = funded::<T>("user", 0);
		let amount: BalanceOf<T> = 1_000_000u32.into();
		Attribution::<T>::do_deposit_credit(user.clone(), amount)?;
		#[extrinsic_call]
		_(RawOrigin::Signed(user.clone()), amount);
		assert!(Credits::<T>::get(&user).is_some_and(|c| c.unlocking.is_some()));
		Ok(())
	}

	#[benchmark]
	fn withdraw_credit() -> Result<(), BenchmarkError> {
		let user = funded::<T>("user", 0);
		let amount: BalanceOf<T> = 1_000_000u32.into();
		Attribution::<T>::do_deposit_credit(user.clone(), amount)?;
		Attribution::<T>::do_unlock_credit(user.clone(), amount)?;
		set_block::<T>(now::<T>().saturating_add(T::CreditUnlockDelay::get()));
		#[extrinsic_call]
		_(RawOrigin::Signed(user.clone()));
		assert!(Credits::<T>::get(&user).is_none());
		Ok(())
	}

	/// `u` users, each with a new channel and a wallet-wrapped signature
	/// (the longer message), and `c` contributors.
	#[benchmark]
	fn settle_batch(
		u: Linear<1, { T::MaxBatch::get() }>,
		c: Linear<0, { T::MaxBatchContributors::get() }>,
	) -> Result<(), BenchmarkError> {
		let (model, worker) = served_model::<T>();
		let fee = T::PlatformFee::get().saturating_add(1_000u32.into());
		let expires_at = now::<T>().saturating_add(T::MaxVoucherLifetime::get());
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let mut charges = Vec::new();
		for i in 0..u {
			let user = T::BenchmarkHelper::voucher_signer(i);
			fund::<T>(&user);
			Attribution::<T>::do_deposit_credit(user.clone(), fee)?;
			let voucher = Voucher {
				user: user.clone(),
				worker: worker.clone(),
				model,
				expires_at,
				cumulative_fee_cap: fee,
			};
			let wrapped = wrap_for_wallet(&voucher.signing_payload(genesis.as_ref()));
			charges.push(UserCharge {
				signature: T::BenchmarkHelper::sign(&user, &wrapped),
				form: PayloadForm::Wallet,
				voucher,
				fee,
			});
		}
		charges.sort_by(|a, b| a.voucher.user.cmp(&b.voucher.user));
		let contributors = T::BenchmarkHelper::live_contributions(c)
			.into_iter()
			.zip(1u64..)
			.collect::<Vec<_>>();
		let batch = Batch {
			receipts_root: Hash::repeat_byte(0x4b),
			inferences: u,
			per_user: BoundedVec::truncate_from(charges),
			contributors: BoundedVec::truncate_from(contributors),
		};
		let id = NextBatchId::<T>::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), model, batch);
		assert!(BatchRoots::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn close_channels(n: Linear<1, { T::MaxBatch::get() }>) -> Result<(), BenchmarkError> {
		let worker = funded::<T>("worker", 0);
		let deposit = T::ChannelDeposit::get();
		let expires_at = now::<T>();
		let mut keys = Vec::new();
		for i in 0..n {
			let user: T::AccountId = account("user", i, 0);
			Channels::<T>::insert(
				(user.clone(), worker.clone(), ModelId(0), expires_at),
				Channel {
					spent: 1u32.into(),
					deposit,
				},
			);
			T::Currency::hold(&HoldReason::ChannelDeposit.into(), &worker, deposit)?;
			keys.push((user, ModelId(0), expires_at));
		}
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), BoundedVec::truncate_from(keys));
		assert!(Channels::<T>::iter().next().is_none());
		Ok(())
	}

	impl_benchmark_test_suite!(Attribution, crate::mock::new_bench_ext(), crate::mock::Test);
}
