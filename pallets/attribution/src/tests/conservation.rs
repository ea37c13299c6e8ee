//! Conservation of OPEN: every account's free and held balance plus what the
//! reward ledger owes it sums to the same before and after every flow. The
//! reward pot backs the ledger one for one (checked after every test), so
//! nothing is created, lost or counted twice.

use super::*;

/// Runs `flow` and checks that it conserved OPEN.
fn conserved(name: &str, flow: impl FnOnce()) {
	let before = value_outside_pot();
	flow();
	assert_eq!(value_outside_pot(), before, "{name} did not conserve OPEN");
}

#[test]
fn every_flow_conserves_open() {
	ExtBuilder::build_and_execute(|| {
		BlockAuthor::set(Some(AUTHOR));
		let start = value_outside_pot();

		conserved("a refunded request", || {
			request(&alice());
			run_to_block(1 + SERVE_TIMEOUT);
		});
		conserved("a settled receipt", || {
			receipted(&alice());
			run_to_block(System::block_number() + CHALLENGE_WINDOW);
		});
		conserved("a receipt with dust", || {
			let id = request(&bob());
			assert_ok!(try_submit(id, &[(LIVE[0], 1), (LIVE[1], 1), (LIVE[2], 1)]));
			run_to_block(System::block_number() + CHALLENGE_WINDOW);
		});
		conserved("a voided receipt", || {
			let id = receipted(&alice());
			assert_ok!(Attribution::challenge(
				signed(&CHALLENGER),
				id,
				Hash::repeat_byte(1)
			));
			for verifier in Challenges::<Test>::get(id)
				.unwrap()
				.verifiers
				.into_iter()
				.take(2)
			{
				assert_ok!(Attribution::submit_verdict(
					signed(&verifier.verifier),
					id,
					Hash::repeat_byte(1)
				));
			}
			assert_eq!(Attribution::inference(id), None);
		});
		conserved("an upheld receipt", || {
			let id = receipted(&bob());
			assert_ok!(Attribution::challenge(
				signed(&CHALLENGER),
				id,
				Hash::repeat_byte(1)
			));
			for verifier in Challenges::<Test>::get(id)
				.unwrap()
				.verifiers
				.into_iter()
				.take(2)
			{
				assert_ok!(Attribution::submit_verdict(
					signed(&verifier.verifier),
					id,
					honest_result(&standard_scores())
				));
			}
			assert_eq!(Attribution::inference(id), None);
		});
		conserved("a challenge governance resolved", || {
			let id = receipted(&alice());
			assert_ok!(Attribution::challenge(
				signed(&CHALLENGER),
				id,
				Hash::repeat_byte(1)
			));
			run_to_block(System::block_number() + VERIFY_WINDOW + 1);
			assert_ok!(Attribution::resolve_challenge(
				RuntimeOrigin::root(),
				id,
				Outcome::Voided
			));
		});
		conserved("a settlement that failed, then was retried", || {
			let id = receipted(&bob());
			RefusePayments::set(true);
			run_to_block(System::block_number() + CHALLENGE_WINDOW);
			RefusePayments::set(false);
			assert_ok!(Attribution::settle(signed(&OUTSIDER), id));
		});
		conserved("credit, a batch, a withdrawal and closed channels", || {
			let expires_at = System::block_number() + 20;
			deposit(1, 2_000);
			deposit(2, 2_000);
			let charges = [(1, 777), (2, 555)]
				.into_iter()
				.map(|(n, fee)| {
					let voucher = voucher(n, 1_000, expires_at);
					UserCharge {
						signature: sign(n, &voucher),
						form: PayloadForm::Raw,
						voucher,
						fee,
					}
				})
				.collect();
			assert_ok!(Attribution::settle_batch(
				signed(&WORKER),
				MODEL,
				batch_of(5, charges, &[(LIVE[0], 7), (LIVE[1], 3), (LIVE[3], 1)])
			));
			assert_ok!(Attribution::unlock_credit(signed(&user(1)), 1_223));
			run_to_block(expires_at.max(System::block_number() + CREDIT_UNLOCK_DELAY));
			assert_ok!(Attribution::withdraw_credit(signed(&user(1))));
			assert_ok!(Attribution::close_channels(
				signed(&WORKER),
				BoundedVec::try_from(vec![
					(user(1), MODEL, expires_at),
					(user(2), MODEL, expires_at)
				])
				.unwrap()
			));
		});

		assert_eq!(value_outside_pot(), start);
		// Something happened in each flow: the ledger owes, the pool grew.
		assert!(credited(&OWNER) > 0 && credited(&AUTHOR) > 0);
	});
}
