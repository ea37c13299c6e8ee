//! Receipts: the fee by the model's pricing, the rest released, what is
//! stored, and every refusal.

use super::*;
use openledger_primitives::Pricing;

#[test]
fn a_receipt_charges_the_fee_and_releases_the_rest() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		attribution_events();
		assert_ok!(try_submit(id, &standard_scores()));
		assert_eq!(held(&alice()), FEE);
		assert_eq!(free(&alice()), START_BALANCE - FEE);
		let settle_at = 1 + CHALLENGE_WINDOW;
		assert_eq!(
			attribution_events(),
			vec![Event::ReceiptSubmitted {
				id,
				worker: WORKER,
				tokens_in: TOKENS_IN,
				tokens_out: TOKENS_OUT,
				fee: FEE,
				released: MAX_FEE - FEE,
				result_hash: honest_result(&standard_scores()),
				settle_at,
			}]
		);
		let receipt = Attribution::receipt(id).unwrap();
		assert_eq!(receipt.fee, FEE);
		assert_eq!(receipt.platform_fee, PLATFORM_FEE);
		assert_eq!(
			receipt
				.scores
				.iter()
				.map(|e| e.contributor.clone())
				.collect::<Vec<_>>(),
			vec![
				CONTRIBUTORS[0].clone(),
				CONTRIBUTORS[1].clone(),
				CONTRIBUTORS[2].clone()
			]
		);
		let record = Attribution::inference(id).unwrap();
		assert_eq!(record.held, FEE);
		assert_eq!(record.status, Status::Receipted { settle_at });
		assert_eq!(SettleAt::<Test>::get(settle_at).into_inner(), vec![id]);
	});
}

#[test]
fn only_the_assigned_worker_answers_once() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		let scores = standard_scores();
		assert_noop!(
			Attribution::submit_receipt(
				signed(&CHALLENGER),
				id,
				TOKENS_IN,
				TOKENS_OUT,
				OUTPUT,
				Method::Span,
				bounded_scores(&scores),
				proof_for(&scores),
			),
			Error::<Test>::NotAssignedWorker
		);
		assert_noop!(
			try_submit(InferenceId(9), &scores),
			Error::<Test>::UnknownInference
		);
		assert_ok!(try_submit(id, &scores));
		assert_noop!(try_submit(id, &scores), Error::<Test>::NotAwaitingReceipt);
	});
}

#[test]
fn the_proof_must_match_the_method_and_the_adapter_requested() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		let scores = standard_scores();
		let submit = |method, proof| {
			Attribution::submit_receipt(
				signed(&WORKER),
				id,
				TOKENS_IN,
				TOKENS_OUT,
				OUTPUT,
				method,
				bounded_scores(&scores),
				proof,
			)
		};
		assert_noop!(
			submit(Method::Gradient, proof_for(&scores)),
			Error::<Test>::MethodMismatch
		);
		let other_adapter = ProofCommitment {
			adapter_hash: Hash::repeat_byte(1),
			..proof_for(&scores)
		};
		assert_noop!(
			submit(Method::Span, other_adapter),
			Error::<Test>::WrongAdapter
		);
		let other_index = ProofCommitment {
			attribution_index_root: Hash::repeat_byte(1),
			..proof_for(&scores)
		};
		assert_noop!(
			submit(Method::Span, other_index),
			Error::<Test>::WrongAdapter
		);
		let other_root = ProofCommitment {
			scores_root: scores_root(&[(LIVE[0], 1)]),
			..proof_for(&scores)
		};
		assert_noop!(
			submit(Method::Span, other_root),
			Error::<Test>::ScoresRootMismatch
		);
		let gradient = ProofCommitment {
			method: Method::Gradient,
			..proof_for(&scores)
		};
		assert_ok!(submit(Method::Gradient, gradient));
	});
}

#[test]
fn bad_scores_are_refused() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		let refused = [
			(vec![(LIVE[0], 0)], Error::<Test>::InvalidScore),
			(vec![(LIVE[0], 1_000_001)], Error::<Test>::InvalidScore),
			(
				vec![(LIVE[2], 10), (LIVE[0], 10)],
				Error::<Test>::ScoresNotSorted,
			),
			(
				vec![(LIVE[0], 10), (LIVE[0], 10)],
				Error::<Test>::ScoresNotSorted,
			),
			(
				vec![(LIVE[0], 600_000), (LIVE[2], 400_001)],
				Error::<Test>::ScoresExceedWhole,
			),
			(
				vec![(LIVE[0], 10), (RETRACTED, 10)],
				Error::<Test>::ContributionNotLive,
			),
		];
		for (scores, error) in refused {
			assert_noop!(try_submit(id, &scores), error);
		}
		// A contribution retracted after the request is refused too.
		LiveContributions::mutate(|live| live.remove(&LIVE[3]));
		assert_noop!(
			try_submit(id, &standard_scores()),
			Error::<Test>::ContributionNotLive
		);
		// The whole is allowed, and so are no scores at all.
		assert_ok!(try_submit(id, &[(LIVE[0], 1_000_000)]));
		let other = request(&alice());
		assert_ok!(try_submit(other, &[]));
	});
}

#[test]
fn the_fee_may_not_exceed_the_maximum() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		// 500 + 3 * 400 + 100 = 1,800 fits; 500 + 3 * 467 + 100 = 2,001 does not.
		let submit = |tokens_out| {
			Attribution::submit_receipt(
				signed(&WORKER),
				id,
				TOKENS_IN,
				tokens_out,
				OUTPUT,
				Method::Span,
				bounded_scores(&[]),
				proof_for(&[]),
			)
		};
		assert_noop!(submit(467), Error::<Test>::FeeAboveMaximum);
		assert_ok!(submit(466));
		assert_eq!(Attribution::receipt(id).unwrap().fee, 1_998);
		assert_eq!(held(&alice()), 1_998);
	});
}

#[test]
fn a_fee_that_does_not_fit_the_balance_type_is_refused() {
	ExtBuilder::build_and_execute(|| {
		let pricey = deploy_model(
			&OWNER,
			openledger_primitives::FeeSplit::standard(),
			Pricing {
				per_1k_input: Balance::MAX,
				per_1k_output: Balance::MAX,
			},
		);
		assert_ok!(Registry::serve(signed(&WORKER), pricey));
		let id = NextInferenceId::<Test>::get();
		assert_ok!(Attribution::request_inference(
			signed(&alice()),
			pricey,
			WORKER,
			PROMPT,
			MAX_FEE
		));
		let proof = ProofCommitment {
			adapter_hash: ADAPTER_HASH,
			..proof_for(&[])
		};
		assert_noop!(
			Attribution::submit_receipt(
				signed(&WORKER),
				id,
				u32::MAX,
				u32::MAX,
				OUTPUT,
				Method::Span,
				bounded_scores(&[]),
				proof,
			),
			Error::<Test>::FeeOverflow
		);
	});
}

#[test]
fn receipts_settling_in_one_block_are_bounded() {
	ExtBuilder::build_and_execute(|| {
		let ids: Vec<_> = (0..=MAX_SETTLEMENTS_PER_BLOCK)
			.map(|_| request(&alice()))
			.collect();
		for id in ids.iter().take(MAX_SETTLEMENTS_PER_BLOCK as usize) {
			assert_ok!(try_submit(*id, &standard_scores()));
		}
		let last = *ids.last().unwrap();
		assert_noop!(
			try_submit(last, &standard_scores()),
			Error::<Test>::SettlementQueueFull
		);
		run_to_block(2);
		assert_ok!(try_submit(last, &standard_scores()));
		assert_eq!(
			Attribution::inference(last).unwrap().status,
			Status::Receipted {
				settle_at: 2 + CHALLENGE_WINDOW
			}
		);
	});
}
