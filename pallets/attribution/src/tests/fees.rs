//! The fee arithmetic on its own: prices per thousand tokens, the split, pro
//! rata shares, and that the parts always sum to the fee.

use crate::{inference_fee, pro_rata, FeeShares};
use openledger_primitives::{FeeSplit, Pricing};
use polkadot_sdk::sp_runtime::{ArithmeticError, Perbill};

fn split(developer: u32, infrastructure: u32, contributors: u32, protocol: u32) -> FeeSplit {
	FeeSplit {
		developer: Perbill::from_percent(developer),
		infrastructure: Perbill::from_percent(infrastructure),
		contributors: Perbill::from_percent(contributors),
		protocol: Perbill::from_percent(protocol),
	}
}

#[test]
fn fees_follow_the_prices_per_thousand_tokens_rounded_down() {
	let pricing = Pricing {
		per_1k_input: 1_000u128,
		per_1k_output: 3_000,
	};
	assert_eq!(inference_fee(&pricing, 500, 200, 100), Ok(1_200));
	assert_eq!(inference_fee(&pricing, 0, 0, 100), Ok(100));
	// 1 * 1000 / 1000 = 1; 333 * 3000 / 1000 = 999.
	assert_eq!(inference_fee(&pricing, 1, 333, 0), Ok(1_000));
	// Below a unit per token, each product rounds down on its own.
	let cheap = Pricing {
		per_1k_input: 999u128,
		per_1k_output: 1,
	};
	assert_eq!(inference_fee(&cheap, 1, 999, 7), Ok(7));
	// 999 * 1001 / 1000 = 999.999, rounded to 999.
	assert_eq!(inference_fee(&cheap, 1_001, 1_000, 0), Ok(999 + 1));
	let dear = Pricing {
		per_1k_input: u128::MAX,
		per_1k_output: 0,
	};
	assert_eq!(inference_fee(&dear, 1_000, 0, 0), Ok(u128::MAX));
	assert_eq!(
		inference_fee(&dear, 1_001, 0, 0),
		Err(ArithmeticError::Overflow)
	);
	assert_eq!(
		inference_fee(&dear, 1_000, 0, 1),
		Err(ArithmeticError::Overflow)
	);
}

#[test]
fn pro_rata_rounds_down_and_never_exceeds_the_pot() {
	assert_eq!(
		pro_rata(550u128, &[300_000, 600_000, 100_000]),
		Ok(vec![165, 330, 55])
	);
	assert_eq!(pro_rata(550u128, &[1, 2]), Ok(vec![183, 366]));
	assert_eq!(pro_rata(10u128, &[1, 1, 1]), Ok(vec![3, 3, 3]));
	assert_eq!(pro_rata(10u128, &[]), Ok(vec![]));
	assert_eq!(pro_rata(0u128, &[5, 5]), Ok(vec![0, 0]));
	// A huge pot and huge weights stay exact.
	assert_eq!(
		pro_rata(u128::MAX, &[u128::from(u64::MAX), u128::from(u64::MAX)]),
		Ok(vec![u128::MAX / 2, u128::MAX / 2])
	);
	assert_eq!(
		pro_rata(10u128, &[u128::MAX, 1]),
		Err(ArithmeticError::Overflow)
	);
}

/// Deterministic cases, dust included, for the sum of the parts.
#[test]
fn the_parts_sum_to_the_fee_exactly() {
	let cases: Vec<(u128, u128, FeeSplit, Perbill, bool, Vec<u128>)> = vec![
		(
			1_200,
			100,
			FeeSplit::standard(),
			Perbill::from_percent(80),
			true,
			vec![3, 6, 1],
		),
		(
			1_200,
			100,
			FeeSplit::standard(),
			Perbill::from_percent(80),
			false,
			vec![1, 2],
		),
		(
			1,
			0,
			FeeSplit::standard(),
			Perbill::from_percent(80),
			true,
			vec![1],
		),
		(
			100,
			100,
			FeeSplit::standard(),
			Perbill::from_percent(80),
			true,
			vec![1],
		),
		(
			999_999_999_999,
			7,
			split(33, 33, 33, 1),
			Perbill::from_percent(33),
			true,
			vec![7, 11, 13],
		),
		(
			1_000_003,
			3,
			split(0, 10, 90, 0),
			Perbill::one(),
			false,
			vec![],
		),
		(
			u128::MAX,
			1,
			split(25, 25, 25, 25),
			Perbill::from_percent(50),
			true,
			vec![u128::from(u64::MAX), 1],
		),
		(
			17,
			0,
			split(0, 0, 100, 0),
			Perbill::zero(),
			true,
			vec![1, 1, 1, 1, 1, 1],
		),
	];
	for (fee, platform, split, worker_share, author, weights) in cases {
		let mut shares = FeeShares::split(fee, platform, &split, worker_share, author).unwrap();
		let pot = shares.contributors;
		let paid = shares.pay_contributors(&weights).unwrap();
		assert_eq!(shares.total(), Some(fee), "fee {fee}");
		assert_eq!(paid.iter().sum::<u128>(), shares.contributors);
		assert!(shares.contributors <= pot);
		if weights.is_empty() {
			assert_eq!(shares.contributors, 0);
		}
		if !author {
			assert_eq!(shares.validators, 0);
		}
		assert_eq!(shares.platform, platform);
	}
}

#[test]
fn the_standard_split_of_one_thousand_two_hundred() {
	let mut shares = FeeShares::split(
		1_200u128,
		100,
		&FeeSplit::standard(),
		Perbill::from_percent(80),
		true,
	)
	.unwrap();
	assert_eq!(
		shares,
		FeeShares {
			platform: 100,
			developer: 220,
			worker: 176,
			validators: 44,
			contributors: 550,
			protocol: 110,
		}
	);
	assert_eq!(shares.pay_contributors(&[1, 2]), Ok(vec![183, 366]));
	assert_eq!(shares.contributors, 549);
	assert_eq!(shares.protocol, 111);
	assert_eq!(shares.to_protocol(), Some(211));
}

#[test]
fn a_platform_fee_above_the_fee_is_refused() {
	assert_eq!(
		FeeShares::split(99u128, 100, &FeeSplit::standard(), Perbill::one(), true),
		Err(ArithmeticError::Underflow)
	);
}
