//! The attribution pallet's logic: the calls and hooks in `lib.rs` delegate
//! here.

use crate::*;
use alloc::vec::Vec;
use codec::{Decode, Encode};
use openledger_primitives::{
	attribution::{result_hash, scores_root, SCORE_PPM_WHOLE},
	BondedStake, DatanetsInspect, ModelRegistryInspect, PenaltyScore, RewardLedger, Role,
	SlashReason,
};
use polkadot_sdk::{
	frame_support::{
		defensive,
		dispatch::DispatchResult,
		ensure,
		storage::with_storage_layer,
		traits::{
			fungible::{Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation, Restriction},
			FindAuthor, Get, Randomness,
		},
	},
	frame_system,
	sp_crypto_hashing::blake2_256,
	sp_runtime::{
		traits::{Saturating, Verify, Zero},
		DispatchError,
	},
};

/// Context of the randomness that draws verifiers.
const VERIFIER_DRAW_CONTEXT: &[u8] = b"openledger/attribution/verifiers";

/// A fee divided: where each share goes.
struct Division<T: Config> {
	/// The shares, summing to the fee.
	shares: FeeShares<BalanceOf<T>>,
	/// Account credits for the reward ledger, zeros left out.
	credits: Vec<(T::AccountId, BalanceOf<T>)>,
	/// Each contributor's amount, in the contributors' order.
	attributed: Vec<BalanceOf<T>>,
	/// What goes to the protocol pool: platform fee, protocol share, dust.
	to_protocol: BalanceOf<T>,
}

impl<T: Config> Pallet<T> {
	fn now() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number()
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
	/// as it can rather than locking the account out.
	fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		match T::Currency::release(&reason.into(), who, amount, Precision::BestEffort) {
			Ok(released) if released == amount => {},
			_ => {
				defensive!("attribution: a hold did not cover the amount released");
			},
		}
	}

	/// Moves `amount` held from `from` into `to`'s free balance. Held funds
	/// were free when held, so freezes added since do not stop the payment.
	fn transfer_held(
		reason: HoldReason,
		from: &T::AccountId,
		to: &T::AccountId,
		amount: BalanceOf<T>,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::transfer_on_hold(
			&reason.into(),
			from,
			to,
			amount,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Force,
		)
		.map(|_| ())
	}

	/// The author of the block being built, from its pre-runtime digests.
	fn block_author() -> Option<T::AccountId> {
		let digest = frame_system::Pallet::<T>::digest();
		T::FindAuthor::find_author(
			digest
				.logs()
				.iter()
				.filter_map(|item| item.as_pre_runtime()),
		)
	}

	/// What an inference on `model` costs now.
	pub fn quote(model: ModelId, tokens_in: u32, tokens_out: u32) -> Option<BalanceOf<T>> {
		let terms = T::Models::deployed(model)?;
		inference_fee(&terms.pricing, tokens_in, tokens_out, T::PlatformFee::get()).ok()
	}

	pub(crate) fn do_request_inference(
		user: T::AccountId,
		model: ModelId,
		worker: T::AccountId,
		prompt_commitment: Hash,
		max_fee: BalanceOf<T>,
	) -> DispatchResult {
		let terms = T::Models::deployed(model).ok_or(Error::<T>::ModelNotDeployed)?;
		ensure!(
			T::Models::is_serving(model, &worker),
			Error::<T>::WorkerNotServing
		);
		ensure!(
			T::Stake::is_active(&worker, Role::Worker),
			Error::<T>::WorkerNotBonded
		);
		ensure!(
			max_fee >= T::PlatformFee::get(),
			Error::<T>::MaxFeeBelowPlatformFee
		);
		let id = NextInferenceId::<T>::get();
		let next = id.next().ok_or(Error::<T>::IdsExhausted)?;
		let now = Self::now();
		let serve_by = now.saturating_add(WindowBlocks::<T>::get().serve_timeout);
		let mut expiring = ExpiringAt::<T>::get(serve_by);
		expiring
			.try_push(id)
			.map_err(|_| Error::<T>::TooManyRequests)?;
		Self::hold(HoldReason::InferenceFee, &user, max_fee)?;

		let (adapter_version, adapter_hash) = (terms.adapter_version, terms.adapter_hash);
		Inferences::<T>::insert(
			id,
			Inference {
				user: user.clone(),
				worker: worker.clone(),
				model,
				terms,
				prompt_commitment,
				held: max_fee,
				requested_at: now,
				status: Status::Requested { serve_by },
			},
		);
		ExpiringAt::<T>::insert(serve_by, expiring);
		NextInferenceId::<T>::put(next);
		Self::deposit_event(Event::InferenceRequested {
			id,
			user,
			worker,
			model,
			adapter_version,
			adapter_hash,
			prompt_commitment,
			max_fee,
			serve_by,
		});
		Ok(())
	}

	/// Checks a receipt's scores: each in 1..=whole, by strictly increasing
	/// contribution, summing to at most the whole, each contribution live.
	/// Returns them with their contributors.
	fn check_scores(scores: &ScoresOf<T>) -> Result<ScoreEntriesOf<T>, DispatchError> {
		let mut sum = 0u32;
		let mut previous: Option<ContributionId> = None;
		for (contribution, score) in scores.iter() {
			ensure!(
				*score > 0 && *score <= SCORE_PPM_WHOLE,
				Error::<T>::InvalidScore
			);
			ensure!(
				previous.is_none_or(|previous| previous < *contribution),
				Error::<T>::ScoresNotSorted
			);
			previous = Some(*contribution);
			sum = sum
				.checked_add(*score)
				.filter(|sum| *sum <= SCORE_PPM_WHOLE)
				.ok_or(Error::<T>::ScoresExceedWhole)?;
		}
		let entries = scores
			.iter()
			.map(|(contribution, score)| {
				let contributor = T::Datanets::live_contributor(*contribution)
					.ok_or(Error::<T>::ContributionNotLive)?;
				Ok(ScoreEntry {
					contribution: *contribution,
					contributor,
					score: *score,
				})
			})
			.collect::<Result<Vec<_>, DispatchError>>()?;
		// As many entries as scores, so nothing is truncated.
		Ok(BoundedVec::truncate_from(entries))
	}

	#[allow(clippy::too_many_arguments)]
	pub(crate) fn do_submit_receipt(
		worker: T::AccountId,
		id: InferenceId,
		tokens_in: u32,
		tokens_out: u32,
		output_hash: Hash,
		method: Method,
		scores: ScoresOf<T>,
		proof: ProofCommitment,
	) -> DispatchResult {
		let mut inference = Inferences::<T>::get(id).ok_or(Error::<T>::UnknownInference)?;
		ensure!(inference.worker == worker, Error::<T>::NotAssignedWorker);
		let Status::Requested { serve_by } = inference.status else {
			return Err(Error::<T>::NotAwaitingReceipt.into());
		};
		ensure!(proof.method == method, Error::<T>::MethodMismatch);
		ensure!(
			proof.adapter_hash == inference.terms.adapter_hash
				&& proof.attribution_index_root == inference.terms.attribution_index_root,
			Error::<T>::WrongAdapter
		);
		let entries = Self::check_scores(&scores)?;
		ensure!(
			proof.scores_root == scores_root(&scores),
			Error::<T>::ScoresRootMismatch
		);
		let platform_fee = T::PlatformFee::get();
		let fee = inference_fee(
			&inference.terms.pricing,
			tokens_in,
			tokens_out,
			platform_fee,
		)
		.map_err(|_| Error::<T>::FeeOverflow)?;
		ensure!(fee <= inference.held, Error::<T>::FeeAboveMaximum);
		let now = Self::now();
		let settle_at = now.saturating_add(WindowBlocks::<T>::get().challenge_window);
		let mut queue = SettleAt::<T>::get(settle_at);
		queue
			.try_push(id)
			.map_err(|_| Error::<T>::SettlementQueueFull)?;

		let released = inference.held.saturating_sub(fee);
		Self::release(HoldReason::InferenceFee, &inference.user, released);
		ExpiringAt::<T>::mutate_exists(serve_by, |ids| {
			if let Some(list) = ids {
				list.retain(|other| *other != id);
				if list.is_empty() {
					*ids = None;
				}
			}
		});
		SettleAt::<T>::insert(settle_at, queue);
		let result_hash = result_hash(&output_hash, method, &scores, &proof);
		Receipts::<T>::insert(
			id,
			Receipt {
				tokens_in,
				tokens_out,
				output_hash,
				method,
				scores: entries,
				proof,
				result_hash,
				fee,
				platform_fee,
				submitted_at: now,
			},
		);
		inference.held = fee;
		inference.status = Status::Receipted { settle_at };
		Inferences::<T>::insert(id, inference);
		Self::deposit_event(Event::ReceiptSubmitted {
			id,
			worker,
			tokens_in,
			tokens_out,
			fee,
			released,
			result_hash,
			settle_at,
		});
		Ok(())
	}

	/// Refunds the requests that time out at `now`. Returns how many.
	pub(crate) fn refund_expired(now: BlockNumberFor<T>) -> u32 {
		let expiring = ExpiringAt::<T>::take(now);
		let count = u32::try_from(expiring.len()).unwrap_or(u32::MAX);
		for id in expiring {
			let Some(inference) = Inferences::<T>::get(id) else {
				defensive!("attribution: an expiring request has no record");
				continue;
			};
			if !matches!(inference.status, Status::Requested { .. }) {
				defensive!("attribution: an expiring request is no longer awaiting a receipt");
				continue;
			}
			Self::release(HoldReason::InferenceFee, &inference.user, inference.held);
			Inferences::<T>::remove(id);
			Self::deposit_event(Event::RequestExpired {
				id,
				user: inference.user,
				refunded: inference.held,
			});
		}
		count
	}

	/// Settles the receipts whose window ends at `now`. Returns how many were
	/// attempted.
	pub(crate) fn settle_due(now: BlockNumberFor<T>) -> u32 {
		let due = SettleAt::<T>::take(now);
		let count = u32::try_from(due.len()).unwrap_or(u32::MAX);
		for id in due {
			let (Some(inference), Some(receipt)) =
				(Inferences::<T>::get(id), Receipts::<T>::get(id))
			else {
				defensive!("attribution: a receipt due to settle has no record");
				continue;
			};
			if inference.status != (Status::Receipted { settle_at: now }) {
				defensive!("attribution: a queued receipt is not due now");
				continue;
			}
			Self::settle_or_mark(id, inference, receipt);
		}
		count
	}

	/// Settles an inference; if that fails, leaves it [`Status::Unsettled`]
	/// for `settle` to retry.
	fn settle_or_mark(id: InferenceId, mut inference: InferenceOf<T>, receipt: ReceiptOf<T>) {
		if let Err(error) = Self::settle_inference(id, &inference, &receipt) {
			inference.status = Status::Unsettled;
			Inferences::<T>::insert(id, inference);
			Self::deposit_event(Event::SettlementFailed { id, error });
		}
	}

	/// `settle`: settles an inference whose earlier settlement failed.
	/// Returns its number of scores, for the weight.
	pub(crate) fn do_settle_due(id: InferenceId) -> Result<u32, DispatchError> {
		let inference = Inferences::<T>::get(id).ok_or(Error::<T>::UnknownInference)?;
		ensure!(inference.status == Status::Unsettled, Error::<T>::NotDue);
		let receipt = Receipts::<T>::get(id).ok_or_else(|| {
			defensive!("attribution: an unsettled inference has no receipt");
			Error::<T>::NotDue
		})?;
		Self::settle_inference(id, &inference, &receipt)?;
		Ok(u32::try_from(receipt.scores.len()).unwrap_or(u32::MAX))
	}

	/// Pays out an inference's fee and removes its records. All or nothing.
	fn settle_inference(
		id: InferenceId,
		inference: &InferenceOf<T>,
		receipt: &ReceiptOf<T>,
	) -> DispatchResult {
		let shares = with_storage_layer(|| -> Result<_, DispatchError> {
			let recipients: Vec<(T::AccountId, u128)> = receipt
				.scores
				.iter()
				.map(|entry| (entry.contributor.clone(), u128::from(entry.score)))
				.collect();
			let division = Self::divide(
				receipt.fee,
				receipt.platform_fee,
				&inference.terms,
				&inference.worker,
				&recipients,
			)?;
			let to_protocol = division.to_protocol;
			Self::transfer_held(
				HoldReason::InferenceFee,
				&inference.user,
				&T::ProtocolPool::get(),
				to_protocol,
			)?;
			let credited = receipt.fee.saturating_sub(to_protocol);
			if !credited.is_zero() {
				T::Currency::release(
					&HoldReason::InferenceFee.into(),
					&inference.user,
					credited,
					Precision::Exact,
				)?;
			}
			T::Rewards::pay_rewards(&inference.user, &division.credits)?;
			Self::note_earnings(&inference.worker, 1, &recipients, &division.attributed);
			Ok(division.shares)
		})?;
		Inferences::<T>::remove(id);
		Receipts::<T>::remove(id);
		Self::deposit_event(Event::InferenceSettled {
			id,
			user: inference.user.clone(),
			worker: inference.worker.clone(),
			fee: receipt.fee,
			shares,
		});
		Ok(())
	}

	/// Divides `fee` by `terms` (DESIGN §6) among the developer, `worker`,
	/// the block author, `contributors` pro rata to their weights, and the
	/// protocol pool.
	fn divide(
		fee: BalanceOf<T>,
		platform: BalanceOf<T>,
		terms: &openledger_primitives::DeployedModel<T::AccountId, BalanceOf<T>>,
		worker: &T::AccountId,
		contributors: &[(T::AccountId, u128)],
	) -> Result<Division<T>, DispatchError> {
		let author = Self::block_author();
		let mut shares = FeeShares::split(
			fee,
			platform,
			&terms.split,
			T::WorkerInfraShare::get(),
			author.is_some(),
		)?;
		let weights: Vec<u128> = contributors.iter().map(|(_, weight)| *weight).collect();
		let attributed = shares.pay_contributors(&weights)?;
		let mut credits = Vec::with_capacity(contributors.len().saturating_add(3));
		let mut credit = |who: &T::AccountId, amount: BalanceOf<T>| {
			if !amount.is_zero() {
				credits.push((who.clone(), amount));
			}
		};
		credit(&terms.owner, shares.developer);
		credit(worker, shares.worker);
		if let Some(author) = &author {
			credit(author, shares.validators);
		}
		for ((who, _), amount) in contributors.iter().zip(attributed.iter()) {
			credit(who, *amount);
		}
		let to_protocol = shares
			.to_protocol()
			.ok_or(polkadot_sdk::sp_runtime::ArithmeticError::Overflow)?;
		Ok(Division {
			shares,
			credits,
			attributed,
			to_protocol,
		})
	}

	/// Tells the rewards pallet what the worker served and what each
	/// contributor earned, for the epoch's emissions.
	fn note_earnings(
		worker: &T::AccountId,
		inferences: u32,
		contributors: &[(T::AccountId, u128)],
		attributed: &[BalanceOf<T>],
	) {
		T::Rewards::note_settled_inferences(worker, inferences);
		for ((who, _), amount) in contributors.iter().zip(attributed) {
			if !amount.is_zero() {
				T::Rewards::note_attribution(who, *amount);
			}
		}
	}

	pub(crate) fn do_challenge(
		challenger: T::AccountId,
		id: InferenceId,
		claimed_result_hash: Hash,
	) -> DispatchResult {
		let mut inference = Inferences::<T>::get(id).ok_or(Error::<T>::UnknownInference)?;
		let Status::Receipted { settle_at } = inference.status else {
			return Err(Error::<T>::NotChallengeable.into());
		};
		let now = Self::now();
		ensure!(now < settle_at, Error::<T>::NotChallengeable);
		ensure!(challenger != inference.worker, Error::<T>::OwnReceipt);
		ensure!(
			T::Stake::is_active(&challenger, Role::Worker),
			Error::<T>::NotBondedWorker
		);
		let receipt = Receipts::<T>::get(id).ok_or_else(|| {
			defensive!("attribution: a receipted inference has no receipt");
			Error::<T>::NotChallengeable
		})?;
		ensure!(
			claimed_result_hash != receipt.result_hash,
			Error::<T>::ClaimMatchesReceipt
		);
		let bond = T::ChallengeBond::get();
		Self::hold(HoldReason::ChallengeBond, &challenger, bond)?;

		let verifiers = Self::draw_verifiers(id, inference.model, &inference.worker, &challenger);
		SettleAt::<T>::mutate_exists(settle_at, |ids| {
			if let Some(list) = ids {
				list.retain(|other| *other != id);
				if list.is_empty() {
					*ids = None;
				}
			}
		});
		inference.status = Status::Challenged;
		Inferences::<T>::insert(id, inference);
		let deadline = now.saturating_add(WindowBlocks::<T>::get().verify_window);
		let drawn = verifiers.iter().map(|slot| slot.verifier.clone()).collect();
		Challenges::<T>::insert(
			id,
			Challenge {
				challenger: challenger.clone(),
				claimed_result_hash,
				bond,
				opened_at: now,
				deadline,
				verifiers,
			},
		);
		Self::deposit_event(Event::ChallengeOpened {
			id,
			challenger,
			claimed_result_hash,
			bond,
			verifiers: drawn,
			deadline,
		});
		Ok(())
	}

	/// Draws [`Config::VerifierCount`] verifiers for inference `id` among the
	/// workers that serve `model` with an active bond, other than `worker`
	/// and `challenger`: the first K of a Fisher–Yates shuffle seeded by
	/// [`Config::Randomness`]. None when there are fewer candidates than K.
	pub(crate) fn draw_verifiers(
		id: InferenceId,
		model: ModelId,
		worker: &T::AccountId,
		challenger: &T::AccountId,
	) -> VerifiersOf<T> {
		let wanted = usize::try_from(T::VerifierCount::get()).unwrap_or(usize::MAX);
		let most = usize::try_from(T::MaxVerifierCandidates::get()).unwrap_or(usize::MAX);
		let mut candidates: Vec<T::AccountId> = T::Models::serving_workers(model)
			.into_iter()
			.filter(|candidate| candidate != worker && candidate != challenger)
			.take(most)
			.filter(|candidate| T::Stake::is_active(candidate, Role::Worker))
			.collect();
		if candidates.len() < wanted {
			return BoundedVec::new();
		}
		let (seed, _) = T::Randomness::random(&(VERIFIER_DRAW_CONTEXT, id).encode());
		for position in 0..wanted {
			let remaining = candidates.len().saturating_sub(position);
			let round = u32::try_from(position).unwrap_or(u32::MAX);
			let draw = (seed.as_ref(), round).using_encoded(blake2_256);
			let draw = u64::decode(&mut draw.as_slice()).unwrap_or_default();
			let offset = u64::try_from(remaining)
				.ok()
				.and_then(|remaining| draw.checked_rem(remaining))
				.and_then(|offset| usize::try_from(offset).ok())
				.unwrap_or_default();
			// `position < wanted <= len` and `offset < remaining`, so both
			// indexes are in bounds.
			candidates.swap(position, position.saturating_add(offset));
		}
		candidates.truncate(wanted);
		BoundedVec::truncate_from(
			candidates
				.into_iter()
				.map(|verifier| VerifierSlot {
					verifier,
					verdict: None,
				})
				.collect(),
		)
	}

	pub(crate) fn do_submit_verdict(
		verifier: T::AccountId,
		id: InferenceId,
		result_hash: Hash,
	) -> DispatchResult {
		let mut challenge = Challenges::<T>::get(id).ok_or(Error::<T>::NoChallenge)?;
		ensure!(
			Self::now() <= challenge.deadline,
			Error::<T>::VerifyWindowClosed
		);
		let slot = challenge
			.verifiers
			.iter_mut()
			.find(|slot| slot.verifier == verifier)
			.ok_or(Error::<T>::NotVerifier)?;
		ensure!(slot.verdict.is_none(), Error::<T>::AlreadyAnswered);
		slot.verdict = Some(result_hash);
		let receipt = Receipts::<T>::get(id).ok_or_else(|| {
			defensive!("attribution: a challenged inference has no receipt");
			Error::<T>::NoChallenge
		})?;
		let upholds = result_hash == receipt.result_hash;
		Self::deposit_event(Event::VerdictSubmitted {
			id,
			verifier,
			result_hash,
			upholds,
		});

		let answers = challenge.verifiers.iter().filter_map(|slot| slot.verdict);
		let (for_receipt, against): (Vec<Hash>, Vec<Hash>) =
			answers.partition(|verdict| *verdict == receipt.result_hash);
		let majority = challenge
			.verifiers
			.len()
			.saturating_div(2)
			.saturating_add(1);
		if for_receipt.len() >= majority {
			Self::resolve(id, challenge, Outcome::Upheld, false)
		} else if against.len() >= majority {
			Self::resolve(id, challenge, Outcome::Voided, false)
		} else {
			Challenges::<T>::insert(id, challenge);
			Ok(())
		}
	}

	pub(crate) fn do_resolve_by_governance(id: InferenceId, outcome: Outcome) -> DispatchResult {
		let challenge = Challenges::<T>::get(id).ok_or(Error::<T>::NoChallenge)?;
		ensure!(
			challenge.verifiers.is_empty() || Self::now() > challenge.deadline,
			Error::<T>::VerificationOngoing
		);
		Self::resolve(id, challenge, outcome, true)
	}

	/// Ends a challenge with `outcome`: slashes the loser, pays the winner,
	/// and settles or voids the receipt.
	fn resolve(
		id: InferenceId,
		challenge: ChallengeOf<T>,
		outcome: Outcome,
		by_governance: bool,
	) -> DispatchResult {
		let inference = Inferences::<T>::get(id).ok_or(Error::<T>::UnknownInference)?;
		let receipt = Receipts::<T>::get(id).ok_or(Error::<T>::UnknownInference)?;
		Challenges::<T>::remove(id);
		let pool = T::ProtocolPool::get();
		let challenger = challenge.challenger;
		match outcome {
			Outcome::Upheld => {
				let slashed = T::ChallengerSlash::get().mul_floor(challenge.bond);
				let to_winner = T::WinnerShare::get().mul_floor(slashed);
				Self::transfer_held(
					HoldReason::ChallengeBond,
					&challenger,
					&inference.worker,
					to_winner,
				)?;
				Self::transfer_held(
					HoldReason::ChallengeBond,
					&challenger,
					&pool,
					slashed.saturating_sub(to_winner),
				)?;
				Self::release(
					HoldReason::ChallengeBond,
					&challenger,
					challenge.bond.saturating_sub(slashed),
				);
				T::Rewards::raise_penalty(&challenger, T::LossPenalty::get());
				Self::deposit_event(Event::ChallengeResolved {
					id,
					outcome,
					by_governance,
					loser: challenger,
					slashed,
					to_winner,
				});
				Self::settle_or_mark(id, inference, receipt);
			},
			Outcome::Voided => {
				let slashed = T::Stake::slash(
					&inference.worker,
					Role::Worker,
					T::WorkerSlash::get(),
					Some(pool.clone()),
					SlashReason::BadReceipt(id),
				);
				let to_winner = T::WinnerShare::get().mul_floor(slashed);
				let to_winner = if to_winner.is_zero() {
					to_winner
				} else {
					T::Currency::transfer(&pool, &challenger, to_winner, Preservation::Preserve)
						.unwrap_or_else(|_| {
							defensive!("attribution: the protocol pool could not pay a challenger");
							Zero::zero()
						})
				};
				Self::release(HoldReason::ChallengeBond, &challenger, challenge.bond);
				T::Rewards::raise_penalty(&inference.worker, T::LossPenalty::get());
				Self::release(HoldReason::InferenceFee, &inference.user, inference.held);
				Inferences::<T>::remove(id);
				Receipts::<T>::remove(id);
				Self::deposit_event(Event::ChallengeResolved {
					id,
					outcome,
					by_governance,
					loser: inference.worker,
					slashed,
					to_winner,
				});
				Self::deposit_event(Event::ReceiptVoided {
					id,
					user: inference.user,
					refunded: inference.held,
				});
			},
		}
		Ok(())
	}

	pub(crate) fn do_deposit_credit(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		T::Currency::transfer(&who, &T::CreditPot::get(), amount, Preservation::Preserve)
			.map_err(|_| Error::<T>::InsufficientBalance)?;
		Credits::<T>::mutate(&who, |credit| {
			let credit = credit.get_or_insert_with(Default::default);
			credit.balance = credit.balance.saturating_add(amount);
		});
		Self::deposit_event(Event::CreditDeposited { who, amount });
		Ok(())
	}

	pub(crate) fn do_unlock_credit(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut credit = Credits::<T>::get(&who).ok_or(Error::<T>::InsufficientCredit)?;
		ensure!(amount <= credit.balance, Error::<T>::InsufficientCredit);
		let unlock_at = Self::now().saturating_add(T::CreditUnlockDelay::get());
		credit.unlocking = Some((amount, unlock_at));
		Credits::<T>::insert(&who, credit);
		Self::deposit_event(Event::CreditUnlocking {
			who,
			amount,
			unlock_at,
		});
		Ok(())
	}

	pub(crate) fn do_withdraw_credit(who: T::AccountId) -> DispatchResult {
		let mut credit = Credits::<T>::get(&who).ok_or(Error::<T>::NothingUnlocking)?;
		let (amount, unlock_at) = credit.unlocking.ok_or(Error::<T>::NothingUnlocking)?;
		ensure!(Self::now() >= unlock_at, Error::<T>::CreditStillLocked);
		// Workers may have charged some of it since it was asked back.
		let amount = amount.min(credit.balance);
		T::Currency::transfer(&T::CreditPot::get(), &who, amount, Preservation::Preserve)?;
		credit.balance = credit.balance.saturating_sub(amount);
		credit.unlocking = None;
		Self::store_credit(&who, credit);
		Self::deposit_event(Event::CreditWithdrawn { who, amount });
		Ok(())
	}

	/// Stores `credit`, or removes the record once nothing is held.
	fn store_credit(who: &T::AccountId, credit: CreditOf<T>) {
		if credit.balance.is_zero() {
			Credits::<T>::remove(who);
		} else {
			Credits::<T>::insert(who, credit);
		}
	}

	/// Checks a batch's aggregated scores: positive, by strictly increasing
	/// contribution, each live. Returns contributors with their weights.
	fn check_batch_contributors(
		contributors: &BatchContributorsOf<T>,
	) -> Result<Vec<(T::AccountId, u128)>, DispatchError> {
		let mut previous: Option<ContributionId> = None;
		for (contribution, score) in contributors.iter() {
			ensure!(*score > 0, Error::<T>::InvalidScore);
			ensure!(
				previous.is_none_or(|previous| previous < *contribution),
				Error::<T>::ScoresNotSorted
			);
			previous = Some(*contribution);
		}
		contributors
			.iter()
			.map(|(contribution, score)| {
				let contributor = T::Datanets::live_contributor(*contribution)
					.ok_or(Error::<T>::ContributionNotLive)?;
				Ok((contributor, u128::from(*score)))
			})
			.collect()
	}

	pub(crate) fn do_settle_batch(
		worker: T::AccountId,
		model: ModelId,
		batch: BatchOf<T>,
	) -> DispatchResult {
		let terms = T::Models::deployed(model).ok_or(Error::<T>::ModelNotDeployed)?;
		ensure!(
			T::Models::is_serving(model, &worker),
			Error::<T>::WorkerNotServing
		);
		ensure!(
			T::Stake::is_active(&worker, Role::Worker),
			Error::<T>::NotBondedWorker
		);
		ensure!(!batch.per_user.is_empty(), Error::<T>::EmptyBatch);
		let users = u32::try_from(batch.per_user.len()).unwrap_or(u32::MAX);
		ensure!(batch.inferences >= users, Error::<T>::TooFewInferences);
		let sorted = batch
			.per_user
			.iter()
			.zip(batch.per_user.iter().skip(1))
			.all(|(a, b)| a.voucher.user < b.voucher.user);
		ensure!(sorted, Error::<T>::UsersNotSorted);
		let contributors = Self::check_batch_contributors(&batch.contributors)?;
		let id = NextBatchId::<T>::get();
		let next = id.next().ok_or(Error::<T>::IdsExhausted)?;

		let now = Self::now();
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let mut fee = BalanceOf::<T>::zero();
		let mut opened = 0u32;
		for charge in batch.per_user.iter() {
			if Self::charge_voucher(&worker, model, now, genesis.as_ref(), charge)? {
				opened = opened.saturating_add(1);
			}
			fee = fee
				.checked_add(&charge.fee)
				.ok_or(Error::<T>::FeeOverflow)?;
		}
		T::Currency::transfer(&T::CreditPot::get(), &worker, fee, Preservation::Preserve)?;
		let platform = T::PlatformFee::get()
			.checked_mul(&batch.inferences.into())
			.ok_or(Error::<T>::FeeOverflow)?;
		ensure!(platform <= fee, Error::<T>::FeesBelowPlatformFee);

		// The fees reached the worker's free balance; from there they are
		// credited and the protocol's part paid, leaving the worker's own
		// balance as it was.
		let division = Self::divide(fee, platform, &terms, &worker, &contributors)?;
		T::Rewards::pay_rewards(&worker, &division.credits)?;
		if !division.to_protocol.is_zero() {
			T::Currency::transfer(
				&worker,
				&T::ProtocolPool::get(),
				division.to_protocol,
				Preservation::Preserve,
			)?;
		}
		Self::note_earnings(
			&worker,
			batch.inferences,
			&contributors,
			&division.attributed,
		);
		let deposit = T::ChannelDeposit::get().saturating_mul(opened.into());
		Self::hold(HoldReason::ChannelDeposit, &worker, deposit)?;

		BatchRoots::<T>::insert(
			id,
			BatchRecord {
				model,
				worker: worker.clone(),
				receipts_root: batch.receipts_root,
				inferences: batch.inferences,
				users,
				fee,
				settled_at: now,
			},
		);
		if let Some(oldest) = id.0.checked_sub(u64::from(T::BatchRootRetention::get())) {
			BatchRoots::<T>::remove(BatchId(oldest));
		}
		NextBatchId::<T>::put(next);
		Self::deposit_event(Event::BatchSettled {
			batch: id,
			model,
			worker,
			receipts_root: batch.receipts_root,
			inferences: batch.inferences,
			users,
			fee,
			shares: division.shares,
		});
		Ok(())
	}

	/// Checks one user's voucher and charges its fee to the user's credit
	/// record; the caller moves the batch's total out of the credit pot.
	/// Returns whether this opened a new channel.
	fn charge_voucher(
		worker: &T::AccountId,
		model: ModelId,
		now: BlockNumberFor<T>,
		genesis: &[u8],
		charge: &UserChargeOf<T>,
	) -> Result<bool, DispatchError> {
		let voucher = &charge.voucher;
		ensure!(voucher.worker == *worker, Error::<T>::VoucherWorkerMismatch);
		ensure!(voucher.model == model, Error::<T>::VoucherModelMismatch);
		ensure!(now < voucher.expires_at, Error::<T>::VoucherExpired);
		ensure!(
			voucher.expires_at <= now.saturating_add(T::MaxVoucherLifetime::get()),
			Error::<T>::VoucherLifetimeTooLong
		);
		ensure!(!charge.fee.is_zero(), Error::<T>::ZeroAmount);
		let key = (
			voucher.user.clone(),
			worker.clone(),
			model,
			voucher.expires_at,
		);
		let channel = Channels::<T>::get(&key);
		let spent = channel
			.map(|channel| channel.spent)
			.unwrap_or_default()
			.checked_add(&charge.fee)
			.filter(|spent| *spent <= voucher.cumulative_fee_cap)
			.ok_or(Error::<T>::VoucherCapExceeded)?;
		let message = charge.form.message(voucher.signing_payload(genesis));
		ensure!(
			charge.signature.verify(message.as_slice(), &voucher.user),
			Error::<T>::BadVoucherSignature
		);
		let mut credit = Credits::<T>::get(&voucher.user).ok_or(Error::<T>::InsufficientCredit)?;
		credit.balance = credit
			.balance
			.checked_sub(&charge.fee)
			.ok_or(Error::<T>::InsufficientCredit)?;
		Self::store_credit(&voucher.user, credit);
		let deposit = channel.map_or_else(T::ChannelDeposit::get, |channel| channel.deposit);
		Channels::<T>::insert(&key, Channel { spent, deposit });
		Ok(channel.is_none())
	}

	pub(crate) fn do_close_channels(
		worker: T::AccountId,
		channels: ChannelKeysOf<T>,
	) -> DispatchResult {
		let now = Self::now();
		let mut released = BalanceOf::<T>::zero();
		for (user, model, expires_at) in channels.iter() {
			ensure!(*expires_at <= now, Error::<T>::ChannelNotExpired);
			let channel = Channels::<T>::take((user, &worker, model, expires_at))
				.ok_or(Error::<T>::UnknownChannel)?;
			released = released.saturating_add(channel.deposit);
		}
		Self::release(HoldReason::ChannelDeposit, &worker, released);
		Self::deposit_event(Event::ChannelsClosed {
			worker,
			count: u32::try_from(channels.len()).unwrap_or(u32::MAX),
			released,
		});
		Ok(())
	}

	/// Sanity of the configuration, checked by `integrity_test`.
	pub(crate) fn check_constants() {
		assert!(
			T::VerifierCount::get() > 0,
			"VerifierCount must be at least one"
		);
		assert!(
			T::MaxVerifierCandidates::get() >= T::VerifierCount::get(),
			"MaxVerifierCandidates must admit VerifierCount verifiers"
		);
		for (name, bound) in [
			("MaxScores", T::MaxScores::get()),
			("MaxRequestsPerBlock", T::MaxRequestsPerBlock::get()),
			("MaxSettlementsPerBlock", T::MaxSettlementsPerBlock::get()),
			("MaxBatch", T::MaxBatch::get()),
			("MaxBatchContributors", T::MaxBatchContributors::get()),
			("BatchRootRetention", T::BatchRootRetention::get()),
		] {
			assert!(bound > 0, "{name} must be positive");
		}
		for (name, blocks) in [
			("ServeTimeout", T::ServeTimeout::get()),
			("ChallengeWindow", T::ChallengeWindow::get()),
			("VerifyWindow", T::VerifyWindow::get()),
			("MaxVoucherLifetime", T::MaxVoucherLifetime::get()),
		] {
			assert!(!blocks.is_zero(), "{name} must be at least one block");
		}
		assert!(
			!T::ChallengeBond::get().is_zero() && !T::ChannelDeposit::get().is_zero(),
			"challenges and channels must hold something"
		);
		let hooks = T::WeightInfo::on_initialize_expire(T::MaxRequestsPerBlock::get())
			.saturating_add(T::WeightInfo::on_initialize_settle(
				T::MaxSettlementsPerBlock::get(),
			));
		let block = <T as frame_system::Config>::BlockWeights::get().max_block;
		assert!(
			hooks.all_lte(block.saturating_div(2)),
			"the refunds and settlements of one block may take more than half of it: \
			 lower MaxRequestsPerBlock or MaxSettlementsPerBlock"
		);
	}

	/// The pallet's invariants:
	/// - an inference's status matches its other records: a request has no
	///   receipt and sits in the refund queue of its block; a receipt in its
	///   window sits in the settlement queue of its block and holds its fee;
	///   a challenged one has a challenge; only those have receipts;
	/// - every queued id is a record in the state the queue says;
	/// - a challenge has no verifiers or exactly [`Config::VerifierCount`];
	/// - each account's holds equal its records: fees of its inferences,
	///   bonds of its challenges, the deposits of its channels;
	/// - the credit pot holds at least the credit records' total, no credit
	///   record is empty, and at most
	///   [`Config::BatchRootRetention`] batch records are kept, all issued.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use polkadot_sdk::frame_support::traits::fungible::{Inspect, InspectHold};
		type Totals<T> = BTreeMap<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
		fn add<T: Config>(totals: &mut Totals<T>, who: &T::AccountId, amount: BalanceOf<T>) {
			let entry = totals.entry(who.clone()).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(amount);
		}
		let next = NextInferenceId::<T>::get();
		let mut fees: Totals<T> = BTreeMap::new();
		for (id, inference) in Inferences::<T>::iter() {
			ensure!(id < next, "an inference id was never issued");
			add::<T>(&mut fees, &inference.user, inference.held);
			let receipt = Receipts::<T>::get(id);
			let challenged = Challenges::<T>::contains_key(id);
			match inference.status {
				Status::Requested { serve_by } => {
					ensure!(receipt.is_none(), "a request without receipt has one");
					ensure!(
						ExpiringAt::<T>::get(serve_by).contains(&id),
						"a request is not queued for refund at its timeout"
					);
				},
				Status::Receipted { settle_at } => {
					ensure!(
						SettleAt::<T>::get(settle_at).contains(&id),
						"a receipt is not queued for settlement at its window's end"
					);
				},
				Status::Challenged => {
					ensure!(challenged, "a challenged inference has no challenge");
				},
				Status::Unsettled => {},
			}
			if !matches!(inference.status, Status::Requested { .. }) {
				let receipt = receipt.ok_or("a receipted inference has no receipt")?;
				ensure!(
					receipt.fee == inference.held,
					"a receipt's fee is not what is held"
				);
			}
			if challenged {
				ensure!(
					inference.status == Status::Challenged,
					"a challenge of an inference not under challenge"
				);
			}
		}
		ensure!(
			Receipts::<T>::iter_keys().all(Inferences::<T>::contains_key),
			"a receipt of an unknown inference"
		);
		for (serve_by, ids) in ExpiringAt::<T>::iter() {
			for id in ids {
				let inference = Inferences::<T>::get(id).ok_or("an unknown request is queued")?;
				ensure!(
					inference.status == Status::Requested { serve_by },
					"a queued request is not awaiting its receipt until that block"
				);
			}
		}
		for (settle_at, ids) in SettleAt::<T>::iter() {
			for id in ids {
				let inference = Inferences::<T>::get(id).ok_or("an unknown receipt is queued")?;
				ensure!(
					inference.status == Status::Receipted { settle_at },
					"a queued receipt does not settle in that block"
				);
			}
		}
		let mut bonds: Totals<T> = BTreeMap::new();
		let verifier_count = usize::try_from(T::VerifierCount::get()).unwrap_or(usize::MAX);
		for (id, challenge) in Challenges::<T>::iter() {
			ensure!(
				Inferences::<T>::contains_key(id),
				"a challenge of an unknown inference"
			);
			ensure!(
				challenge.verifiers.is_empty() || challenge.verifiers.len() == verifier_count,
				"a challenge has a partial committee"
			);
			add::<T>(&mut bonds, &challenge.challenger, challenge.bond);
		}
		let mut credits = BalanceOf::<T>::zero();
		for credit in Credits::<T>::iter_values() {
			ensure!(
				!credit.balance.is_zero(),
				"an empty credit record is stored"
			);
			credits = credits.saturating_add(credit.balance);
		}
		ensure!(
			T::Currency::balance(&T::CreditPot::get()) >= credits,
			"the credit pot does not cover the credit records"
		);
		let mut deposits: Totals<T> = BTreeMap::new();
		for ((_, worker, _, _), channel) in Channels::<T>::iter() {
			add::<T>(&mut deposits, &worker, channel.deposit);
		}
		for (reason, totals) in [
			(HoldReason::InferenceFee, &fees),
			(HoldReason::ChallengeBond, &bonds),
			(HoldReason::ChannelDeposit, &deposits),
		] {
			let reason: T::RuntimeHoldReason = reason.into();
			for (who, expected) in totals {
				ensure!(
					T::Currency::balance_on_hold(&reason, who) == *expected,
					"held OPEN differs from this pallet's records"
				);
			}
		}
		let next_batch = NextBatchId::<T>::get();
		let mut batches = 0u32;
		for id in BatchRoots::<T>::iter_keys() {
			ensure!(id < next_batch, "a batch id was never issued");
			batches = batches.saturating_add(1);
		}
		ensure!(
			batches <= T::BatchRootRetention::get(),
			"more batch records than retained"
		);
		Ok(())
	}
}
