//! Requests: holding the maximum fee, what the worker is told, refusals, and
//! the full refund of requests nobody served.

use super::*;
use openledger_primitives::Role;

#[test]
fn a_request_holds_the_maximum_fee_and_tells_the_worker_everything() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		assert_eq!(id, InferenceId(0));
		assert_eq!(held(&alice()), MAX_FEE);
		assert_eq!(free(&alice()), START_BALANCE - MAX_FEE);
		assert_eq!(
			attribution_events(),
			vec![Event::InferenceRequested {
				id,
				user: alice(),
				worker: WORKER,
				model: MODEL,
				adapter_version: 1,
				adapter_hash: ADAPTER_HASH,
				prompt_commitment: PROMPT,
				max_fee: MAX_FEE,
				serve_by: 1 + SERVE_TIMEOUT,
			}]
		);
		let record = Attribution::inference(id).unwrap();
		assert_eq!(record.terms.pricing, PRICING);
		assert_eq!(record.terms.owner, OWNER);
		assert_eq!(
			record.status,
			Status::Requested {
				serve_by: 1 + SERVE_TIMEOUT
			}
		);
		assert_eq!(NextInferenceId::<Test>::get(), InferenceId(1));
		assert_eq!(
			Attribution::fee_quote(MODEL, TOKENS_IN, TOKENS_OUT),
			Some(FEE)
		);
	});
}

#[test]
fn only_deployed_models_served_by_bonded_workers_take_requests() {
	ExtBuilder::build_and_execute(|| {
		let ask = |model, worker: &AccountId, max_fee| {
			Attribution::request_inference(signed(&alice()), model, worker.clone(), PROMPT, max_fee)
		};
		assert_noop!(
			ask(ModelId(7), &WORKER, MAX_FEE),
			Error::<Test>::ModelNotDeployed
		);
		assert_noop!(
			ask(MODEL, &OUTSIDER, MAX_FEE),
			Error::<Test>::WorkerNotServing
		);
		assert_noop!(
			ask(MODEL, &WORKER, PLATFORM_FEE - 1),
			Error::<Test>::MaxFeeBelowPlatformFee
		);
		assert_noop!(
			ask(MODEL, &WORKER, START_BALANCE + 1),
			Error::<Test>::InsufficientBalance
		);
		// A worker that unbonded still serves, but takes no more requests.
		assert_ok!(Staking::unbond(signed(&WORKER), Role::Worker, WORKER_BOND));
		assert_noop!(ask(MODEL, &WORKER, MAX_FEE), Error::<Test>::WorkerNotBonded);
		// A retired model takes none either.
		assert_ok!(Registry::retire(signed(&OWNER), MODEL));
		assert_noop!(
			ask(MODEL, &CHALLENGER, MAX_FEE),
			Error::<Test>::ModelNotDeployed
		);
	});
}

#[test]
fn requests_timing_out_in_one_block_are_bounded() {
	ExtBuilder::build_and_execute(|| {
		for _ in 0..MAX_REQUESTS_PER_BLOCK {
			request(&alice());
		}
		assert_noop!(
			Attribution::request_inference(signed(&bob()), MODEL, WORKER, PROMPT, MAX_FEE),
			Error::<Test>::TooManyRequests
		);
		run_to_block(2);
		request(&bob());
	});
}

#[test]
fn a_request_not_served_in_time_is_refunded_in_full() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		run_to_block(SERVE_TIMEOUT);
		assert_eq!(held(&alice()), MAX_FEE);
		attribution_events();
		run_to_block(1 + SERVE_TIMEOUT);
		assert_eq!(held(&alice()), 0);
		assert_eq!(free(&alice()), START_BALANCE);
		assert_eq!(Attribution::inference(id), None);
		assert_eq!(
			attribution_events(),
			vec![Event::RequestExpired {
				id,
				user: alice(),
				refunded: MAX_FEE,
			}]
		);
		assert_noop!(
			try_submit(id, &standard_scores()),
			Error::<Test>::UnknownInference
		);
	});
}

#[test]
fn a_served_request_is_not_refunded() {
	ExtBuilder::build_and_execute(|| {
		let id = receipted(&alice());
		assert!(ExpiringAt::<Test>::get(1 + SERVE_TIMEOUT).is_empty());
		run_to_block(2 + SERVE_TIMEOUT);
		assert_eq!(held(&alice()), FEE);
		assert!(Attribution::inference(id).is_some());
	});
}

#[test]
fn genesis_may_shorten_the_windows() {
	ExtBuilder::build_and_execute(|| {
		assert_eq!(
			WindowBlocks::<Test>::get(),
			Windows {
				serve_timeout: SERVE_TIMEOUT,
				challenge_window: CHALLENGE_WINDOW,
				verify_window: VERIFY_WINDOW,
			}
		);
		GenesisConfig::<Test> {
			serve_timeout: Some(2),
			challenge_window: Some(3),
			verify_window: None,
		}
		.build();
		let id = request(&alice());
		assert_eq!(
			Attribution::inference(id).unwrap().status,
			Status::Requested { serve_by: 1 + 2 }
		);
		assert_ok!(try_submit(id, &standard_scores()));
		assert_eq!(
			Attribution::inference(id).unwrap().status,
			Status::Receipted { settle_at: 1 + 3 }
		);
		assert_ok!(Attribution::challenge(
			signed(&CHALLENGER),
			id,
			Hash::repeat_byte(0xee)
		));
		assert_eq!(
			Attribution::challenge_of(id).unwrap().deadline,
			1 + VERIFY_WINDOW
		);
	});
}

#[test]
#[should_panic(
	expected = "the genesis challenge window must be between 1 block and the Config value"
)]
fn genesis_cannot_lengthen_a_window() {
	ExtBuilder::build().execute_with(|| {
		GenesisConfig::<Test> {
			serve_timeout: None,
			challenge_window: Some(CHALLENGE_WINDOW + 1),
			verify_window: None,
		}
		.build();
	});
}
