//! A property test: random sequences of credits, notes, penalties, claims
//! and blocks keep every invariant, and a failed call changes nothing.

use super::*;
use polkadot_sdk::{sp_io, sp_runtime::StateVersion};
use proptest::prelude::*;

/// Accounts that earn and claim; `NOBODY` starts without an account.
const ACCOUNTS: [AccountId; 6] = [ALICE, BOB, CHARLIE, DAVE, NOBODY, PAYER];
/// Accounts that pay: `NOBODY` cannot, and the pot may not.
const PAYERS: [AccountId; 4] = [PAYER, ALICE, NOBODY, POT];

#[derive(Debug, Clone)]
enum Op {
	Pay {
		payer: usize,
		credits: Vec<(usize, Balance)>,
	},
	Attribute {
		who: usize,
		credit: Balance,
	},
	Infer {
		who: usize,
		count: u32,
	},
	Author {
		who: Option<usize>,
	},
	Penalise {
		who: usize,
		points: u32,
	},
	Claim {
		who: usize,
	},
	Advance {
		blocks: u64,
	},
}

fn op() -> impl Strategy<Value = Op> {
	let who = 0..ACCOUNTS.len();
	let credits = prop::collection::vec(
		(0..ACCOUNTS.len(), 0..3_000 as Balance),
		0..=(MAX_CREDITS as usize).saturating_add(1),
	);
	prop_oneof![
		3 => (0..PAYERS.len(), credits).prop_map(|(payer, credits)| Op::Pay { payer, credits }),
		3 => (who.clone(), 0..1_000 as Balance)
			.prop_map(|(who, credit)| Op::Attribute { who, credit }),
		2 => (who.clone(), 0..50u32).prop_map(|(who, count)| Op::Infer { who, count }),
		1 => prop::option::of(who.clone()).prop_map(|who| Op::Author { who }),
		1 => (who.clone(), 0..25u32).prop_map(|(who, points)| Op::Penalise { who, points }),
		2 => who.prop_map(|who| Op::Claim { who }),
		2 => (1..25u64).prop_map(|blocks| Op::Advance { blocks }),
	]
}

fn state_root() -> Vec<u8> {
	sp_io::storage::root(StateVersion::V1)
}

/// Applies `op`; returns what it credited through `pay_rewards`.
fn apply(op: Op) -> Result<Balance, TestCaseError> {
	let before = TotalClaimable::<Test>::get();
	match op {
		Op::Pay { payer, credits } => {
			let credits: Vec<(AccountId, Balance)> = credits
				.into_iter()
				.map(|(who, amount)| (ACCOUNTS[who], amount))
				.collect();
			let root = state_root();
			if Rewards::pay_rewards(&PAYERS[payer], &credits).is_err() {
				prop_assert_eq!(state_root(), root, "a failed payment changed storage");
			}
			return Ok(TotalClaimable::<Test>::get().saturating_sub(before));
		},
		Op::Attribute { who, credit } => attribute(ACCOUNTS[who], credit),
		Op::Infer { who, count } => infer(ACCOUNTS[who], count),
		Op::Author { who } => author(who.map(|who| ACCOUNTS[who])),
		Op::Penalise { who, points } => raise(ACCOUNTS[who], points),
		Op::Claim { who } => {
			let who = ACCOUNTS[who];
			let owed = claimable(who);
			let balance = free(who);
			let root = state_root();
			match Rewards::claim(RuntimeOrigin::signed(who)) {
				Ok(()) => prop_assert_eq!(free(who), balance.saturating_add(owed)),
				Err(_) => prop_assert_eq!(state_root(), root, "a failed claim changed storage"),
			}
		},
		Op::Advance { blocks } => {
			run_to_block(System::block_number().saturating_add(blocks));
		},
	}
	Ok(0)
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	#[test]
	fn random_credits_claims_and_epochs_keep_every_invariant(
		ops in prop::collection::vec(op(), 1..60)
	) {
		ExtBuilder::default().build().execute_with(|| -> Result<(), TestCaseError> {
			let issuance = Balances::total_issuance();
			let pool = free(COMMUNITY);
			let mut paid_in: Balance = 0;
			let mut emitted: Balance = 0;
			for op in ops {
				paid_in = paid_in.saturating_add(apply(op)?);

				let checked = Rewards::do_try_state();
				prop_assert!(checked.is_ok(), "invariant broken: {:?}", checked);
				prop_assert_eq!(Balances::total_issuance(), issuance);
				let now = System::block_number();
				prop_assert!(TotalEmitted::<Test>::get() >= emitted, "emissions went back");
				emitted = TotalEmitted::<Test>::get();
				let escrow = ActivePayout::<Test>::get().map_or(0, |run| run.in_escrow());
				let outflow = emitted.saturating_add(escrow);
				// The pool lost exactly what was emitted and what is in escrow,
				// never more than the schedule allows by now.
				prop_assert_eq!(pool.saturating_sub(free(COMMUNITY)), outflow);
				prop_assert!(outflow <= Rewards::allowed_by(now));
				// Everything credited is still claimable or was claimed.
				let claimed: Balance = Claimed::<Test>::iter_values().sum();
				prop_assert_eq!(
					claimed.saturating_add(TotalClaimable::<Test>::get()),
					paid_in.saturating_add(emitted)
				);
			}
			Ok(())
		})?;
	}
}
