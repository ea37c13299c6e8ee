//! Challenges: the draw of verifiers, verdicts, both outcomes with their
//! slashes, and governance when the verifiers cannot decide.

use super::*;
use openledger_primitives::{Role, SlashReason};

const WRONG: Hash = Hash::repeat_byte(0xee);

fn challenged(user: &AccountId) -> InferenceId {
	let id = receipted(user);
	assert_ok!(Attribution::challenge(signed(&CHALLENGER), id, WRONG));
	id
}

fn verifiers_of(id: InferenceId) -> Vec<AccountId> {
	Challenges::<Test>::get(id)
		.unwrap()
		.verifiers
		.iter()
		.map(|slot| slot.verifier.clone())
		.collect()
}

fn worker_stake(who: &AccountId) -> Balance {
	<Staking as openledger_primitives::BondedStake<_, _>>::bonded(who, Role::Worker)
}

fn staking_events() -> Vec<pallet_openledger_staking::Event<Test>> {
	System::read_events_for_pallet::<pallet_openledger_staking::Event<Test>>()
}

#[test]
fn a_challenge_holds_the_bond_and_draws_verifiers_among_the_other_servers() {
	ExtBuilder::build_and_execute(|| {
		let id = receipted(&alice());
		let settle_at = 1 + CHALLENGE_WINDOW;
		attribution_events();
		assert_ok!(Attribution::challenge(signed(&CHALLENGER), id, WRONG));
		assert_eq!(held(&CHALLENGER), CHALLENGE_BOND);
		let verifiers = verifiers_of(id);
		assert_eq!(verifiers.len(), VERIFIER_COUNT as usize);
		let mut distinct = verifiers.clone();
		distinct.sort();
		distinct.dedup();
		assert_eq!(distinct.len(), verifiers.len());
		assert!(verifiers.iter().all(|v| VERIFIERS.contains(v)));
		assert_eq!(
			attribution_events(),
			vec![Event::ChallengeOpened {
				id,
				challenger: CHALLENGER,
				claimed_result_hash: WRONG,
				bond: CHALLENGE_BOND,
				verifiers: verifiers.clone(),
				deadline: 1 + VERIFY_WINDOW,
			}]
		);
		assert_eq!(
			Attribution::inference(id).unwrap().status,
			Status::Challenged
		);
		assert!(SettleAt::<Test>::get(settle_at).is_empty());
		// Its window's end does not settle a challenged receipt.
		run_to_block(settle_at);
		assert!(Attribution::inference(id).is_some());
		assert_eq!(held(&alice()), FEE);
	});
}

#[test]
fn the_draw_follows_the_randomness_and_skips_unbonded_workers() {
	ExtBuilder::build_and_execute(|| {
		// With VERIFIERS[0] unbonded, exactly the other three remain.
		assert_ok!(Staking::unbond(
			signed(&VERIFIERS[0]),
			Role::Worker,
			WORKER_BOND
		));
		let id = challenged(&alice());
		let mut drawn = verifiers_of(id);
		drawn.sort();
		assert_eq!(drawn, VERIFIERS[1..].to_vec());

		// With all four, the seed decides; the same seed draws the same.
		assert_ok!(Staking::bond(
			signed(&VERIFIERS[0]),
			Role::Worker,
			WORKER_BOND
		));
		let draws: Vec<Vec<AccountId>> = (0..32u8)
			.map(|seed| {
				RandomSeed::set(Hash::repeat_byte(seed));
				Attribution::draw_verifiers(InferenceId(1), MODEL, &WORKER, &CHALLENGER)
					.into_iter()
					.map(|slot| slot.verifier)
					.collect()
			})
			.collect();
		RandomSeed::set(Hash::repeat_byte(3));
		assert_eq!(
			Attribution::draw_verifiers(InferenceId(1), MODEL, &WORKER, &CHALLENGER)
				.into_iter()
				.map(|slot| slot.verifier)
				.collect::<Vec<_>>(),
			draws[3]
		);
		assert!(
			draws.iter().any(|draw| draw != &draws[0]),
			"the seed changes the draw"
		);
		assert!(
			VERIFIERS
				.iter()
				.all(|v| draws.iter().any(|draw| !draw.contains(v))),
			"every verifier is left out by some draw"
		);
	});
}

#[test]
fn challenges_are_refused_outside_the_rules() {
	ExtBuilder::build_and_execute(|| {
		let challenge = |who: &AccountId, id, claim| Attribution::challenge(signed(who), id, claim);
		assert_noop!(
			challenge(&CHALLENGER, InferenceId(5), WRONG),
			Error::<Test>::UnknownInference
		);
		let pending = request(&alice());
		assert_noop!(
			challenge(&CHALLENGER, pending, WRONG),
			Error::<Test>::NotChallengeable
		);
		let id = receipted(&alice());
		assert_noop!(challenge(&WORKER, id, WRONG), Error::<Test>::OwnReceipt);
		assert_noop!(
			challenge(&OUTSIDER, id, WRONG),
			Error::<Test>::NotBondedWorker
		);
		assert_noop!(
			challenge(&CHALLENGER, id, honest_result(&standard_scores())),
			Error::<Test>::ClaimMatchesReceipt
		);
		// A bonded worker that cannot pay the challenge bond.
		let poor = OUTSIDER;
		assert_ok!(Balances::transfer_allow_death(
			signed(&poor),
			AUTHOR,
			START_BALANCE - (WORKER_BOND + CHALLENGE_BOND - 1)
		));
		assert_ok!(Staking::bond(signed(&poor), Role::Worker, WORKER_BOND));
		assert_noop!(
			challenge(&poor, id, WRONG),
			Error::<Test>::InsufficientBalance
		);
		assert_ok!(challenge(&CHALLENGER, id, WRONG));
		assert_noop!(
			challenge(&VERIFIERS[0], id, WRONG),
			Error::<Test>::NotChallengeable
		);
	});
}

#[test]
fn a_majority_against_the_receipt_voids_it_and_slashes_the_worker() {
	ExtBuilder::build_and_execute(|| {
		let pool = free(&PROTOCOL_POOL);
		let challenger_free = free(&CHALLENGER);
		let id = challenged(&alice());
		let verifiers = verifiers_of(id);
		attribution_events();
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[0]),
			id,
			WRONG
		));
		assert!(Challenges::<Test>::contains_key(id));
		// A verdict that is neither side's still counts against the receipt.
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[1]),
			id,
			Hash::repeat_byte(0x12)
		));
		let slashed = WORKER_BOND / 10;
		let to_winner = slashed / 2;
		assert!(
			staking_events().contains(&pallet_openledger_staking::Event::Slashed {
				who: WORKER,
				role: Role::Worker,
				amount: slashed,
				recipient: Some(PROTOCOL_POOL),
				reason: SlashReason::BadReceipt(id),
			})
		);
		assert_eq!(
			attribution_events(),
			vec![
				Event::VerdictSubmitted {
					id,
					verifier: verifiers[0].clone(),
					result_hash: WRONG,
					upholds: false,
				},
				Event::VerdictSubmitted {
					id,
					verifier: verifiers[1].clone(),
					result_hash: Hash::repeat_byte(0x12),
					upholds: false,
				},
				Event::ChallengeResolved {
					id,
					outcome: Outcome::Voided,
					by_governance: false,
					loser: WORKER,
					slashed,
					to_winner,
				},
				Event::ReceiptVoided {
					id,
					user: alice(),
					refunded: FEE,
				},
			]
		);
		assert_eq!(worker_stake(&WORKER), WORKER_BOND - slashed);
		assert_eq!(free(&PROTOCOL_POOL), pool + slashed - to_winner);
		assert_eq!(free(&CHALLENGER), challenger_free + to_winner);
		assert_eq!(held(&CHALLENGER), 0);
		assert_eq!(free(&alice()), START_BALANCE);
		assert_eq!(held(&alice()), 0);
		assert_eq!(penalty(&WORKER), LOSS_PENALTY);
		assert_eq!(penalty(&CHALLENGER), 0);
		assert_eq!(Attribution::inference(id), None);
		assert_eq!(Attribution::receipt(id), None);
		assert_eq!(pallet_rewards::TotalClaimable::<Test>::get(), 0);
		// The last verifier is too late to matter.
		assert_noop!(
			Attribution::submit_verdict(signed(&verifiers[2]), id, WRONG),
			Error::<Test>::NoChallenge
		);
	});
}

#[test]
fn a_majority_for_the_receipt_slashes_the_challenger_and_settles_it() {
	ExtBuilder::build_and_execute(|| {
		let pool = free(&PROTOCOL_POOL);
		let worker_free = free(&WORKER);
		let challenger_free = free(&CHALLENGER);
		let id = challenged(&alice());
		let verifiers = verifiers_of(id);
		let honest = honest_result(&standard_scores());
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[0]),
			id,
			honest
		));
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[1]),
			id,
			WRONG
		));
		assert!(Challenges::<Test>::contains_key(id));
		attribution_events();
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[2]),
			id,
			honest
		));
		let slashed = CHALLENGE_BOND / 2;
		let to_winner = slashed / 2;
		let events = attribution_events();
		assert_eq!(
			events[1],
			Event::ChallengeResolved {
				id,
				outcome: Outcome::Upheld,
				by_governance: false,
				loser: CHALLENGER,
				slashed,
				to_winner,
			}
		);
		assert!(matches!(
			events[2],
			Event::InferenceSettled { fee: FEE, .. }
		));
		assert_eq!(free(&CHALLENGER), challenger_free - slashed);
		assert_eq!(held(&CHALLENGER), 0);
		assert_eq!(free(&WORKER), worker_free + to_winner);
		// The slash's rest, the platform fee, the protocol share, and the
		// unclaimed validators' part.
		assert_eq!(
			free(&PROTOCOL_POOL),
			pool + (slashed - to_winner) + 100 + 110 + 44
		);
		assert_eq!(penalty(&CHALLENGER), LOSS_PENALTY);
		assert_eq!(penalty(&WORKER), 0);
		assert_eq!(worker_stake(&WORKER), WORKER_BOND);
		assert_eq!(credited(&WORKER), 176);
		assert_eq!(free(&alice()), START_BALANCE - FEE);
		assert_eq!(Attribution::inference(id), None);
	});
}

#[test]
fn verdicts_come_once_from_drawn_verifiers_in_time() {
	ExtBuilder::build_and_execute(|| {
		let id = receipted(&alice());
		assert_noop!(
			Attribution::submit_verdict(signed(&VERIFIERS[0]), id, WRONG),
			Error::<Test>::NoChallenge
		);
		assert_ok!(Attribution::challenge(signed(&CHALLENGER), id, WRONG));
		let verifiers = verifiers_of(id);
		let outsider = VERIFIERS.iter().find(|v| !verifiers.contains(v)).unwrap();
		assert_noop!(
			Attribution::submit_verdict(signed(outsider), id, WRONG),
			Error::<Test>::NotVerifier
		);
		assert_noop!(
			Attribution::submit_verdict(signed(&CHALLENGER), id, WRONG),
			Error::<Test>::NotVerifier
		);
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[0]),
			id,
			WRONG
		));
		assert_noop!(
			Attribution::submit_verdict(signed(&verifiers[0]), id, WRONG),
			Error::<Test>::AlreadyAnswered
		);
		run_to_block(2 + VERIFY_WINDOW);
		assert_noop!(
			Attribution::submit_verdict(signed(&verifiers[1]), id, WRONG),
			Error::<Test>::VerifyWindowClosed
		);
	});
}

#[test]
fn governance_resolves_when_too_few_verifiers_can_be_drawn() {
	ExtBuilder::build_and_execute(|| {
		for verifier in &VERIFIERS[..2] {
			assert_ok!(Registry::unserve(signed(verifier), MODEL));
		}
		let id = challenged(&alice());
		assert!(verifiers_of(id).is_empty());
		assert_noop!(
			Attribution::resolve_challenge(signed(&OWNER), id, Outcome::Voided),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Attribution::resolve_challenge(RuntimeOrigin::root(), InferenceId(9), Outcome::Voided),
			Error::<Test>::NoChallenge
		);
		attribution_events();
		assert_ok!(Attribution::resolve_challenge(
			RuntimeOrigin::root(),
			id,
			Outcome::Voided
		));
		assert!(matches!(
			attribution_events()[0],
			Event::ChallengeResolved {
				outcome: Outcome::Voided,
				by_governance: true,
				..
			}
		));
		assert_eq!(free(&alice()), START_BALANCE);
		assert_eq!(worker_stake(&WORKER), WORKER_BOND - WORKER_BOND / 10);

		// And the other way round.
		let upheld = challenged(&bob());
		assert_ok!(Attribution::resolve_challenge(
			RuntimeOrigin::root(),
			upheld,
			Outcome::Upheld
		));
		assert_eq!(free(&bob()), START_BALANCE - FEE);
		assert_eq!(Attribution::inference(upheld), None);
		assert_eq!(penalty(&WORKER), LOSS_PENALTY);
		assert_eq!(penalty(&CHALLENGER), LOSS_PENALTY);
	});
}

#[test]
fn governance_waits_for_the_verifiers_then_decides_without_a_majority() {
	ExtBuilder::build_and_execute(|| {
		let id = challenged(&alice());
		let verifiers = verifiers_of(id);
		assert_ok!(Attribution::submit_verdict(
			signed(&verifiers[0]),
			id,
			WRONG
		));
		assert_noop!(
			Attribution::resolve_challenge(RuntimeOrigin::root(), id, Outcome::Upheld),
			Error::<Test>::VerificationOngoing
		);
		run_to_block(1 + VERIFY_WINDOW);
		assert_noop!(
			Attribution::resolve_challenge(RuntimeOrigin::root(), id, Outcome::Upheld),
			Error::<Test>::VerificationOngoing
		);
		run_to_block(2 + VERIFY_WINDOW);
		assert_ok!(Attribution::resolve_challenge(
			RuntimeOrigin::root(),
			id,
			Outcome::Upheld
		));
		assert_eq!(credited(&OWNER), 220);
		assert_eq!(held(&CHALLENGER), 0);
	});
}
