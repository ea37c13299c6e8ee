//! Settlement of single inferences: the split of DESIGN §6 credited through
//! the reward ledger, dust to the protocol pool, notes for emissions, the
//! per-block bound, and retrying a settlement that failed.

use super::*;

/// The standard split of [`FEE`]: 1,100 net of the platform fee; developer
/// 220, infrastructure 220 (worker 176, validators 44), contributors 550
/// (30 % 165, 60 % 330, 10 % 55), protocol 110.
fn standard_shares(with_author: bool) -> FeeShares<Balance> {
	FeeShares {
		platform: PLATFORM_FEE,
		developer: 220,
		worker: 176,
		validators: if with_author { 44 } else { 0 },
		contributors: 550,
		protocol: if with_author { 110 } else { 154 },
	}
}

#[test]
fn an_unchallenged_receipt_settles_when_its_window_ends() {
	ExtBuilder::build_and_execute(|| {
		let pool = free(&PROTOCOL_POOL);
		let id = receipted(&alice());
		run_to_block(CHALLENGE_WINDOW);
		assert!(Attribution::inference(id).is_some());
		attribution_events();
		run_to_block(1 + CHALLENGE_WINDOW);
		assert_eq!(Attribution::inference(id), None);
		assert_eq!(Attribution::receipt(id), None);
		assert_eq!(
			attribution_events(),
			vec![Event::InferenceSettled {
				id,
				user: alice(),
				worker: WORKER,
				fee: FEE,
				shares: standard_shares(false),
			}]
		);
		assert_eq!(standard_shares(false).total(), Some(FEE));
		assert_eq!(held(&alice()), 0);
		assert_eq!(free(&alice()), START_BALANCE - FEE);
		assert_eq!(credited(&OWNER), 220);
		assert_eq!(credited(&WORKER), 176);
		assert_eq!(credited(&CONTRIBUTORS[0]), 165);
		assert_eq!(credited(&CONTRIBUTORS[1]), 330);
		assert_eq!(credited(&CONTRIBUTORS[2]), 55);
		// Platform fee, protocol share and the unclaimed validators' part.
		assert_eq!(free(&PROTOCOL_POOL), pool + 100 + 110 + 44);
		assert_eq!(noted(&WORKER), (0, 1));
		assert_eq!(noted(&CONTRIBUTORS[0]), (165, 0));
		assert_eq!(noted(&CONTRIBUTORS[1]), (330, 0));
		assert_eq!(noted(&CONTRIBUTORS[2]), (55, 0));
	});
}

#[test]
fn the_block_author_takes_the_validators_part() {
	ExtBuilder::build_and_execute(|| {
		BlockAuthor::set(Some(AUTHOR));
		let pool = free(&PROTOCOL_POOL);
		let id = receipted(&alice());
		attribution_events();
		run_to_block(1 + CHALLENGE_WINDOW);
		assert_eq!(
			attribution_events(),
			vec![Event::InferenceSettled {
				id,
				user: alice(),
				worker: WORKER,
				fee: FEE,
				shares: standard_shares(true),
			}]
		);
		assert_eq!(credited(&AUTHOR), 44);
		assert_eq!(free(&PROTOCOL_POOL), pool + 100 + 110);
	});
}

#[test]
fn rounding_dust_goes_to_the_protocol_pool() {
	ExtBuilder::build_and_execute(|| {
		let pool = free(&PROTOCOL_POOL);
		let id = request(&alice());
		// 550 split 1 : 2 is 183.33 : 366.67, paid 183 and 366.
		assert_ok!(try_submit(id, &[(LIVE[0], 1), (LIVE[2], 2)]));
		run_to_block(1 + CHALLENGE_WINDOW);
		assert_eq!(credited(&CONTRIBUTORS[0]), 183);
		assert_eq!(credited(&CONTRIBUTORS[1]), 366);
		assert_eq!(free(&PROTOCOL_POOL), pool + 100 + 110 + 44 + 1);
		assert_eq!(free(&alice()), START_BALANCE - FEE);
	});
}

#[test]
fn without_scores_the_contributors_share_goes_to_the_protocol_pool() {
	ExtBuilder::build_and_execute(|| {
		let pool = free(&PROTOCOL_POOL);
		let id = request(&alice());
		assert_ok!(try_submit(id, &[]));
		run_to_block(1 + CHALLENGE_WINDOW);
		assert_eq!(credited(&OWNER), 220);
		assert_eq!(credited(&WORKER), 176);
		assert_eq!(free(&PROTOCOL_POOL), pool + 100 + 110 + 44 + 550);
		assert_eq!(pallet_rewards::CurrentEpoch::<Test>::get().totals.credit, 0);
	});
}

#[test]
fn contributors_of_several_contributions_are_paid_for_each() {
	ExtBuilder::build_and_execute(|| {
		let id = request(&alice());
		// CONTRIBUTORS[0] made LIVE[0] and LIVE[1].
		assert_ok!(try_submit(id, &[(LIVE[0], 500_000), (LIVE[1], 500_000)]));
		run_to_block(1 + CHALLENGE_WINDOW);
		assert_eq!(credited(&CONTRIBUTORS[0]), 550);
	});
}

#[test]
fn the_receipts_of_a_block_settle_together() {
	ExtBuilder::build_and_execute(|| {
		let ids: Vec<_> = (0..MAX_SETTLEMENTS_PER_BLOCK)
			.map(|_| receipted(&alice()))
			.collect();
		run_to_block(CHALLENGE_WINDOW);
		let weight = <Attribution as Hooks<u64>>::on_initialize(1 + CHALLENGE_WINDOW);
		assert_eq!(
			weight,
			<() as WeightInfo>::on_initialize_expire(0).saturating_add(
				<() as WeightInfo>::on_initialize_settle(MAX_SETTLEMENTS_PER_BLOCK)
			)
		);
		for id in ids {
			assert_eq!(Attribution::inference(id), None);
		}
		assert_eq!(
			credited(&OWNER),
			220 * Balance::from(MAX_SETTLEMENTS_PER_BLOCK)
		);
		assert_eq!(noted(&WORKER).1, u64::from(MAX_SETTLEMENTS_PER_BLOCK));
	});
}

#[test]
fn a_failed_settlement_waits_for_anyone_to_retry_it() {
	ExtBuilder::build_and_execute(|| {
		let id = receipted(&alice());
		assert_noop!(
			Attribution::settle(signed(&OUTSIDER), id),
			Error::<Test>::NotDue
		);
		RefusePayments::set(true);
		attribution_events();
		run_to_block(1 + CHALLENGE_WINDOW);
		// Events keep the error's variant, not its message.
		assert_eq!(
			attribution_events(),
			vec![Event::SettlementFailed {
				id,
				error: DispatchError::Other(""),
			}]
		);
		assert_eq!(
			Attribution::inference(id).unwrap().status,
			Status::Unsettled
		);
		// Nothing moved: the fee is still held, nobody was credited.
		assert_eq!(held(&alice()), FEE);
		assert_eq!(pallet_rewards::TotalClaimable::<Test>::get(), 0);
		assert_noop!(
			Attribution::settle(signed(&OUTSIDER), id),
			DispatchError::Other("the reward ledger refuses")
		);
		// An unsettled receipt can no longer be challenged.
		assert_noop!(
			Attribution::challenge(signed(&CHALLENGER), id, Hash::repeat_byte(1)),
			Error::<Test>::NotChallengeable
		);
		RefusePayments::set(false);
		assert_ok!(Attribution::settle(signed(&OUTSIDER), id));
		assert_eq!(Attribution::inference(id), None);
		assert_eq!(credited(&OWNER), 220);
		assert_eq!(held(&alice()), 0);
		assert_noop!(
			Attribution::settle(signed(&OUTSIDER), id),
			Error::<Test>::UnknownInference
		);
	});
}
