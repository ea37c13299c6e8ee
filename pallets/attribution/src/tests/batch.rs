//! The scale path: prepaid credit, signed vouchers, batches settled with
//! per-contributor aggregates, channels and their deposits.

use super::*;
use openledger_primitives::attribution::wrap_for_wallet;

/// Users 1 and 2 pay 700 and 500 for 3 inferences, with influence 5 : 3 : 2
/// on LIVE[0], LIVE[2] and LIVE[3].
fn standard_batch() -> BatchOf<Test> {
	batch_of(
		3,
		vec![charge(1, 700, 1_000), charge(2, 500, 500)],
		&[(LIVE[0], 5), (LIVE[2], 3), (LIVE[3], 2)],
	)
}

/// 1,200 with 300 of platform fees: 900 net; developer 180, worker 144,
/// validators 36 (no author: to the protocol), contributors 450 (225, 135,
/// 90), protocol 90.
fn standard_batch_shares() -> FeeShares<Balance> {
	FeeShares {
		platform: 300,
		developer: 180,
		worker: 144,
		validators: 0,
		contributors: 450,
		protocol: 126,
	}
}

fn settle(batch: BatchOf<Test>) -> DispatchResult {
	Attribution::settle_batch(signed(&WORKER), MODEL, batch)
}

#[test]
fn credit_is_prepaid_and_taken_back_after_a_delay() {
	ExtBuilder::build_and_execute(|| {
		let who = alice();
		assert_noop!(
			Attribution::deposit_credit(signed(&who), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Attribution::deposit_credit(signed(&who), START_BALANCE + 1),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Attribution::unlock_credit(signed(&who), 1),
			Error::<Test>::InsufficientCredit
		);
		assert_noop!(
			Attribution::withdraw_credit(signed(&who)),
			Error::<Test>::NothingUnlocking
		);
		deposit(1, 3_000);
		deposit(1, 2_000);
		assert_eq!(Attribution::credit(who.clone()).balance, 5_000);
		assert_eq!(free(&who), START_BALANCE - 5_000);
		assert_eq!(free(&CREDIT_POT), 1 + 5_000);
		assert_noop!(
			Attribution::unlock_credit(signed(&who), 5_001),
			Error::<Test>::InsufficientCredit
		);
		assert_noop!(
			Attribution::withdraw_credit(signed(&who)),
			Error::<Test>::NothingUnlocking
		);
		attribution_events();
		assert_ok!(Attribution::unlock_credit(signed(&who), 4_000));
		let unlock_at = 1 + CREDIT_UNLOCK_DELAY;
		assert_eq!(
			attribution_events(),
			vec![Event::CreditUnlocking {
				who: who.clone(),
				amount: 4_000,
				unlock_at,
			}]
		);
		run_to_block(unlock_at - 1);
		assert_noop!(
			Attribution::withdraw_credit(signed(&who)),
			Error::<Test>::CreditStillLocked
		);
		run_to_block(unlock_at);
		assert_ok!(Attribution::withdraw_credit(signed(&who)));
		assert_eq!(free(&CREDIT_POT), 1 + 1_000);
		assert_eq!(free(&who), START_BALANCE - 1_000);
		assert_eq!(
			Attribution::credit(who.clone()),
			CreditAccount {
				balance: 1_000,
				unlocking: None,
			}
		);
		assert_ok!(Attribution::unlock_credit(signed(&who), 1_000));
		run_to_block(unlock_at + CREDIT_UNLOCK_DELAY);
		assert_ok!(Attribution::withdraw_credit(signed(&who)));
		assert_eq!(Credits::<Test>::get(&who), None);
		assert_eq!(free(&who), START_BALANCE);
		assert_eq!(free(&CREDIT_POT), 1);
	});
}

#[test]
fn a_batch_charges_each_user_once_and_pays_each_contributor_once() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 1_000);
		deposit(2, 1_000);
		let pool = free(&PROTOCOL_POOL);
		let worker_free = free(&WORKER);
		attribution_events();
		assert_ok!(settle(standard_batch()));
		assert_eq!(
			attribution_events(),
			vec![Event::BatchSettled {
				batch: BatchId(0),
				model: MODEL,
				worker: WORKER,
				receipts_root: Hash::repeat_byte(0x4b),
				inferences: 3,
				users: 2,
				fee: 1_200,
				shares: standard_batch_shares(),
			}]
		);
		assert_eq!(standard_batch_shares().total(), Some(1_200));
		assert_eq!(Attribution::credit(user(1)).balance, 300);
		assert_eq!(Attribution::credit(user(2)).balance, 500);
		assert_eq!(free(&user(1)), START_BALANCE - 1_000);
		assert_eq!(free(&CREDIT_POT), 1 + 2_000 - 1_200);
		assert_eq!(credited(&OWNER), 180);
		assert_eq!(credited(&WORKER), 144);
		assert_eq!(credited(&CONTRIBUTORS[0]), 225);
		assert_eq!(credited(&CONTRIBUTORS[1]), 135);
		assert_eq!(credited(&CONTRIBUTORS[2]), 90);
		assert_eq!(free(&PROTOCOL_POOL), pool + 426);
		// The fees only passed through the worker; it holds a deposit for
		// each of the two channels it opened.
		assert_eq!(free(&WORKER), worker_free - 2 * CHANNEL_DEPOSIT);
		assert_eq!(held(&WORKER), 2 * CHANNEL_DEPOSIT);
		assert_eq!(Attribution::channel_spent(user(1), WORKER, MODEL, 50), 700);
		assert_eq!(Attribution::channel_spent(user(2), WORKER, MODEL, 50), 500);
		assert_eq!(noted(&WORKER), (0, 3));
		assert_eq!(noted(&CONTRIBUTORS[0]), (225, 0));
		assert_eq!(noted(&CONTRIBUTORS[1]), (135, 0));
		assert_eq!(noted(&CONTRIBUTORS[2]), (90, 0));
		assert_eq!(
			Attribution::batch(BatchId(0)),
			Some(BatchRecord {
				model: MODEL,
				worker: WORKER,
				receipts_root: Hash::repeat_byte(0x4b),
				inferences: 3,
				users: 2,
				fee: 1_200,
				settled_at: 1,
			})
		);
	});
}

#[test]
fn a_channel_is_charged_at_most_its_latest_cap() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 5_000);
		assert_ok!(settle(batch_of(1, vec![charge(1, 700, 1_000)], &[])));
		assert_ok!(settle(batch_of(1, vec![charge(1, 300, 1_000)], &[])));
		assert_noop!(
			settle(batch_of(1, vec![charge(1, 100, 1_000)], &[])),
			Error::<Test>::VoucherCapExceeded
		);
		// A newer voucher of the same channel raises the cap.
		assert_ok!(settle(batch_of(1, vec![charge(1, 100, 1_500)], &[])));
		assert_eq!(
			Attribution::channel_spent(user(1), WORKER, MODEL, 50),
			1_100
		);
		// Only the first batch opened a channel.
		assert_eq!(held(&WORKER), CHANNEL_DEPOSIT);
		assert_eq!(Attribution::credit(user(1)).balance, 3_900);
	});
}

#[test]
fn wallet_wrapped_signatures_are_accepted_and_forgeries_are_not() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 5_000);
		let genesis = frame_system::Pallet::<Test>::block_hash(0);
		let voucher = voucher(1, 1_000, 50);
		let wrapped = wrap_for_wallet(&voucher.signing_payload(genesis.as_ref()));
		let wallet_signed = UserCharge {
			signature: MultiSignature::from(user_pair(1).sign(&wrapped)),
			form: PayloadForm::Wallet,
			voucher: voucher.clone(),
			fee: 200,
		};
		// Each signature is checked once, in the form the charge names.
		let wallet_signed_said_raw = UserCharge {
			form: PayloadForm::Raw,
			..wallet_signed.clone()
		};
		assert_noop!(
			settle(batch_of(1, vec![wallet_signed_said_raw], &[])),
			Error::<Test>::BadVoucherSignature
		);
		let raw_signed_said_wallet = UserCharge {
			form: PayloadForm::Wallet,
			..charge(1, 200, 1_000)
		};
		assert_noop!(
			settle(batch_of(1, vec![raw_signed_said_wallet], &[])),
			Error::<Test>::BadVoucherSignature
		);
		assert_ok!(settle(batch_of(1, vec![wallet_signed], &[])));

		let by_someone_else = UserCharge {
			signature: sign(2, &voucher),
			form: PayloadForm::Raw,
			voucher: voucher.clone(),
			fee: 200,
		};
		assert_noop!(
			settle(batch_of(1, vec![by_someone_else], &[])),
			Error::<Test>::BadVoucherSignature
		);
		let raised = UserCharge {
			signature: sign(1, &voucher),
			form: PayloadForm::Raw,
			voucher: Voucher {
				cumulative_fee_cap: 10_000,
				..voucher.clone()
			},
			fee: 5_000,
		};
		assert_noop!(
			settle(batch_of(1, vec![raised], &[])),
			Error::<Test>::BadVoucherSignature
		);
		let other_chain = UserCharge {
			signature: MultiSignature::from(
				user_pair(1).sign(&voucher.signing_payload(Hash::repeat_byte(7).as_bytes())),
			),
			form: PayloadForm::Raw,
			voucher,
			fee: 200,
		};
		assert_noop!(
			settle(batch_of(1, vec![other_chain], &[])),
			Error::<Test>::BadVoucherSignature
		);
	});
}

#[test]
fn vouchers_bind_worker_model_and_time() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 5_000);
		let signed_charge = |voucher: VoucherOf<Test>, fee| UserCharge {
			signature: sign(1, &voucher),
			form: PayloadForm::Raw,
			voucher,
			fee,
		};
		let refused = [
			(
				Voucher {
					worker: CHALLENGER,
					..voucher(1, 1_000, 50)
				},
				200,
				Error::<Test>::VoucherWorkerMismatch,
			),
			(
				Voucher {
					model: ModelId(9),
					..voucher(1, 1_000, 50)
				},
				200,
				Error::<Test>::VoucherModelMismatch,
			),
			(voucher(1, 1_000, 1), 200, Error::<Test>::VoucherExpired),
			(
				voucher(1, 1_000, 2 + MAX_VOUCHER_LIFETIME),
				200,
				Error::<Test>::VoucherLifetimeTooLong,
			),
			(voucher(1, 1_000, 50), 0, Error::<Test>::ZeroAmount),
			(
				voucher(1, 1_000, 50),
				1_001,
				Error::<Test>::VoucherCapExceeded,
			),
		];
		for (voucher, fee, error) in refused {
			assert_noop!(
				settle(batch_of(1, vec![signed_charge(voucher, fee)], &[])),
				error
			);
		}
		assert_ok!(settle(batch_of(
			1,
			vec![signed_charge(
				voucher(1, 1_000, 1 + MAX_VOUCHER_LIFETIME),
				200
			)],
			&[]
		)));
	});
}

#[test]
fn malformed_batches_are_refused() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 5_000);
		deposit(2, 100);
		let one = || vec![charge(1, 700, 1_000)];
		assert_noop!(settle(batch_of(1, vec![], &[])), Error::<Test>::EmptyBatch);
		assert_noop!(
			settle(batch_of(
				1,
				vec![charge(1, 300, 1_000), charge(2, 100, 1_000)],
				&[]
			)),
			Error::<Test>::TooFewInferences
		);
		let twice = Batch {
			per_user: BoundedVec::try_from(vec![charge(1, 100, 1_000), charge(1, 100, 1_000)])
				.unwrap(),
			..batch_of(2, one(), &[])
		};
		assert_noop!(settle(twice), Error::<Test>::UsersNotSorted);
		assert_noop!(
			settle(batch_of(8, one(), &[])),
			Error::<Test>::FeesBelowPlatformFee
		);
		assert_noop!(
			settle(batch_of(
				2,
				vec![charge(1, 300, 1_000), charge(2, 200, 1_000)],
				&[]
			)),
			Error::<Test>::InsufficientCredit
		);
		assert_noop!(
			settle(batch_of(1, vec![charge(3, 200, 1_000)], &[])),
			Error::<Test>::InsufficientCredit
		);
		assert_noop!(
			settle(batch_of(1, one(), &[(LIVE[0], 0)])),
			Error::<Test>::InvalidScore
		);
		assert_noop!(
			settle(batch_of(1, one(), &[(LIVE[2], 1), (LIVE[0], 1)])),
			Error::<Test>::ScoresNotSorted
		);
		assert_noop!(
			settle(batch_of(1, one(), &[(LIVE[0], 1), (RETRACTED, 1)])),
			Error::<Test>::ContributionNotLive
		);
		assert_noop!(
			Attribution::settle_batch(signed(&OUTSIDER), MODEL, batch_of(1, one(), &[])),
			Error::<Test>::WorkerNotServing
		);
		assert_noop!(
			Attribution::settle_batch(signed(&WORKER), ModelId(9), batch_of(1, one(), &[])),
			Error::<Test>::ModelNotDeployed
		);
		assert_ok!(Staking::unbond(
			signed(&WORKER),
			openledger_primitives::Role::Worker,
			WORKER_BOND
		));
		assert_noop!(
			settle(batch_of(1, one(), &[])),
			Error::<Test>::NotBondedWorker
		);
	});
}

#[test]
fn unlocking_credit_may_still_be_charged() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 1_000);
		assert_ok!(Attribution::unlock_credit(signed(&user(1)), 1_000));
		assert_ok!(settle(batch_of(1, vec![charge(1, 700, 1_000)], &[])));
		run_to_block(1 + CREDIT_UNLOCK_DELAY);
		attribution_events();
		assert_ok!(Attribution::withdraw_credit(signed(&user(1))));
		assert_eq!(
			attribution_events(),
			vec![Event::CreditWithdrawn {
				who: user(1),
				amount: 300,
			}]
		);
		assert_eq!(free(&user(1)), START_BALANCE - 700);
	});
}

#[test]
fn workers_close_expired_channels_and_take_their_deposits_back() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 1_000);
		deposit(2, 1_000);
		assert_ok!(settle(standard_batch()));
		let keys = |list: Vec<(AccountId, ModelId, u64)>| -> ChannelKeysOf<Test> {
			BoundedVec::try_from(list).unwrap()
		};
		assert_noop!(
			Attribution::close_channels(signed(&WORKER), keys(vec![(user(1), MODEL, 50)])),
			Error::<Test>::ChannelNotExpired
		);
		run_to_block(50);
		assert_noop!(
			Attribution::close_channels(signed(&CHALLENGER), keys(vec![(user(1), MODEL, 50)])),
			Error::<Test>::UnknownChannel
		);
		assert_noop!(
			Attribution::close_channels(
				signed(&WORKER),
				keys(vec![(user(1), MODEL, 50), (user(1), MODEL, 50)])
			),
			Error::<Test>::UnknownChannel
		);
		// An expired channel can no longer be charged.
		assert_noop!(
			settle(batch_of(1, vec![charge(1, 100, 1_000)], &[])),
			Error::<Test>::VoucherExpired
		);
		attribution_events();
		assert_ok!(Attribution::close_channels(
			signed(&WORKER),
			keys(vec![(user(1), MODEL, 50), (user(2), MODEL, 50)])
		));
		assert_eq!(
			attribution_events(),
			vec![Event::ChannelsClosed {
				worker: WORKER,
				count: 2,
				released: 2 * CHANNEL_DEPOSIT,
			}]
		);
		assert_eq!(held(&WORKER), 0);
		assert_eq!(Attribution::channel_spent(user(1), WORKER, MODEL, 50), 0);
	});
}

#[test]
fn only_the_latest_batch_records_are_kept() {
	ExtBuilder::build_and_execute(|| {
		deposit(1, 5_000);
		for _ in 0..=BATCH_ROOT_RETENTION {
			assert_ok!(settle(batch_of(1, vec![charge(1, 200, 5_000)], &[])));
		}
		assert_eq!(Attribution::batch(BatchId(0)), None);
		for kept in 1..=BATCH_ROOT_RETENTION {
			assert!(Attribution::batch(BatchId(u64::from(kept))).is_some());
		}
		assert_eq!(NextBatchId::<Test>::get(), BatchId(3));
	});
}
