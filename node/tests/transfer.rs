//! End-to-end balance transfers against a real `--dev` node: a transfer
//! moves exactly its amount and costs its sender exactly the reported fee,
//! and an overdraft fails on chain yet still pays its fee.

mod common;

use common::{before_and_after, fee_paid, free_balance, submit_finalized, TestNode, OPEN};
use subxt::{
	dynamic,
	error::{DispatchError, TokenError, TransactionEventsError},
};
use subxt_signer::sr25519::dev;

// One node for both scenarios: starting one is the slow part, and the
// scenarios touch disjoint balances apart from Bob, whose balance each one
// reads afresh.
#[tokio::test]
async fn transfers_move_funds_and_charge_fees() {
	let node = TestNode::start()
		.await
		.expect("the dev node starts and finalizes blocks");
	transfer_keep_alive_moves_the_exact_amount(&node).await;
	overdraft_fails_and_only_costs_the_fee(&node).await;
}

async fn transfer_keep_alive_moves_the_exact_amount(node: &TestNode) {
	let (alice, bob) = (dev::alice(), dev::bob());
	let (alice_id, bob_id) = (
		alice.public_key().to_account_id(),
		bob.public_key().to_account_id(),
	);
	let amount = 10 * OPEN;

	let transfer = dynamic::tx(
		"Balances",
		"transfer_keep_alive",
		(bob.public_key().to_address::<()>(), amount),
	);
	let tx = submit_finalized(&node.client, &transfer, &alice).await;
	let events = tx
		.wait_for_success()
		.await
		.expect("transfer_keep_alive succeeds");
	let fee = fee_paid(&events);
	assert_eq!(fee.who, alice_id, "the sender pays the fee");
	assert!(fee.actual_fee > 0, "a transfer is not free");

	let (before, after) = before_and_after(&node.client, &tx).await;
	let alice_before = free_balance(&before, &alice_id).await;
	let bob_before = free_balance(&before, &bob_id).await;
	let alice_after = free_balance(&after, &alice_id).await;
	let bob_after = free_balance(&after, &bob_id).await;
	println!(
		"transfer of {amount} in #{}: fee {}, Alice {alice_before} -> {alice_after}, \
		 Bob {bob_before} -> {bob_after}",
		after.block_number(),
		fee.actual_fee,
	);

	assert_eq!(
		bob_after,
		bob_before + amount,
		"Bob receives exactly the amount"
	);
	assert_eq!(
		alice_after,
		alice_before - amount - fee.actual_fee,
		"Alice pays exactly the amount plus the fee"
	);
}

async fn overdraft_fails_and_only_costs_the_fee(node: &TestNode) {
	let (bob, charlie) = (dev::bob(), dev::charlie());
	let (bob_id, charlie_id) = (
		bob.public_key().to_account_id(),
		charlie.public_key().to_account_id(),
	);

	let now = node
		.client
		.at_current_block()
		.await
		.expect("client at the finalized block");
	let overdraft = free_balance(&now, &bob_id).await + OPEN;

	let transfer = dynamic::tx(
		"Balances",
		"transfer_allow_death",
		(charlie.public_key().to_address::<()>(), overdraft),
	);
	let tx = submit_finalized(&node.client, &transfer, &bob).await;
	let error = match tx.wait_for_success().await {
		Err(TransactionEventsError::ExtrinsicFailed(error)) => error,
		Err(other) => panic!("cannot read the overdraft's outcome: {other}"),
		Ok(_) => panic!("transferring more than Bob owns must fail"),
	};
	println!(
		"overdraft of {overdraft} rejected with {}",
		insufficient_funds_name(&error)
	);

	let events = tx
		.fetch_events()
		.await
		.expect("events of the failed transfer");
	let fee = fee_paid(&events);
	assert_eq!(fee.who, bob_id, "the sender pays the fee");
	assert!(fee.actual_fee > 0, "a failed transfer still costs a fee");

	let (before, after) = before_and_after(&node.client, &tx).await;
	assert_eq!(
		free_balance(&after, &charlie_id).await,
		free_balance(&before, &charlie_id).await,
		"the recipient of a failed transfer receives nothing"
	);
	assert_eq!(
		free_balance(&after, &bob_id).await,
		free_balance(&before, &bob_id).await - fee.actual_fee,
		"a failed transfer costs its sender the fee and nothing more"
	);
}

/// Names the "not enough funds" error and fails the test on any other.
///
/// pallet-balances rejects an overdraft through the `fungible` traits, which
/// report `DispatchError::Token(FundsUnavailable)` rather than a Balances
/// module error. Balances' own `InsufficientBalance` (or a `FundsUnavailable`
/// variant, should one appear) is accepted too, so the test checks the
/// meaning rather than which layer of the pallet reports it.
fn insufficient_funds_name(error: &DispatchError) -> String {
	match error {
		DispatchError::Token(TokenError::FundsUnavailable) => "Token::FundsUnavailable".into(),
		DispatchError::Module(module) => {
			let details = module
				.details()
				.expect("the module error names its pallet and variant");
			let (pallet, variant) = (details.pallet.name(), details.variant.name.as_str());
			assert_eq!(
				pallet, "Balances",
				"overdraft rejected by {pallet}::{variant}"
			);
			assert!(
				matches!(variant, "InsufficientBalance" | "FundsUnavailable"),
				"overdraft rejected with Balances::{variant}, not for lack of funds"
			);
			format!("{pallet}::{variant}")
		},
		other => panic!("overdraft rejected for an unrelated reason: {other:?}"),
	}
}
