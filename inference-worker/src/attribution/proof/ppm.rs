//! Raw attribution scores to the parts per million a receipt carries.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use openledger_primitives::{attribution::SCORE_PPM_WHOLE, ContributionId};

/// The receipt scores of `raw`: the `max_scores` largest positive raw scores
/// (ties go to the lower contribution id), each scaled to parts per million
/// of their sum, rounded down, entries that round to 0 dropped, sorted by
/// strictly increasing contribution id.
///
/// This is what `pallets/attribution` accepts at `submit_receipt` (each
/// score in `1..=SCORE_PPM_WHOLE`, ids strictly increasing, sum at most the
/// whole) as long as `max_scores` is at most the runtime's `MaxScores`.
/// The scaling is exact for any raw values: sums and products are carried
/// in 256 bits, so no raw score is too large and none is rounded before the
/// final floor.
pub fn scores_to_ppm(
	raw: &BTreeMap<ContributionId, u128>,
	max_scores: usize,
) -> Vec<(ContributionId, u32)> {
	let kept = largest_positive(raw, max_scores);
	let total = kept
		.iter()
		.fold(U256::ZERO, |sum, (_, score)| sum.plus(U256::from(*score)));
	let mut scores: Vec<(ContributionId, u32)> = kept
		.iter()
		.filter_map(|(contribution, score)| {
			let ppm = ppm_of(*score, &total);
			(ppm > 0).then_some((*contribution, ppm))
		})
		.collect();
	scores.sort_unstable_by_key(|(contribution, _)| *contribution);
	scores
}

/// The `max_scores` largest positive entries of `raw`, larger first, ties
/// broken towards the lower contribution id.
fn largest_positive(
	raw: &BTreeMap<ContributionId, u128>,
	max_scores: usize,
) -> Vec<(ContributionId, u128)> {
	let mut positive: Vec<(ContributionId, u128)> = raw
		.iter()
		.filter(|(_, score)| **score > 0)
		.map(|(contribution, score)| (*contribution, *score))
		.collect();
	positive.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
	positive.truncate(max_scores);
	positive
}

/// Bits enough for any quotient `floor(score · whole / total)` with
/// `score ≤ total`: it is at most the whole, 1,000,000 < 2^20.
const QUOTIENT_BITS: u32 = 20;
const _: () = assert!(SCORE_PPM_WHOLE < 1 << QUOTIENT_BITS);

/// `floor(score · SCORE_PPM_WHOLE / total)` for `0 < score ≤ total`, by
/// binary long division over the 20 possible quotient bits.
fn ppm_of(score: u128, total: &U256) -> u32 {
	let mut remainder = U256::from(score).times(u64::from(SCORE_PPM_WHOLE));
	let mut quotient = 0u32;
	for bit in (0..QUOTIENT_BITS).rev() {
		let step = total.shifted_left(bit);
		if step <= remainder {
			remainder = remainder.minus(&step);
			quotient |= 1 << bit;
		}
	}
	quotient
}

/// An unsigned 256-bit integer, little-endian 64-bit limbs: wide enough for
/// a sum of up to 2^64 raw `u128` scores shifted left by 20 bits, and for a
/// raw score times the whole. Only the operations the scaling needs; callers
/// keep every result below 2^256.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct U256([u64; 4]);

impl U256 {
	const ZERO: Self = Self([0; 4]);

	fn plus(self, other: Self) -> Self {
		let mut limbs = [0u64; 4];
		let mut carry = 0u128;
		for (limb, (a, b)) in limbs.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
			let sum = u128::from(*a) + u128::from(*b) + carry;
			*limb = sum as u64;
			carry = sum >> 64;
		}
		Self(limbs)
	}

	fn minus(self, other: &Self) -> Self {
		let mut limbs = [0u64; 4];
		let mut borrow = false;
		for (limb, (a, b)) in limbs.iter_mut().zip(self.0.iter().zip(other.0.iter())) {
			let (difference, borrow_a) = a.overflowing_sub(*b);
			let (difference, borrow_b) = difference.overflowing_sub(u64::from(borrow));
			*limb = difference;
			borrow = borrow_a || borrow_b;
		}
		Self(limbs)
	}

	fn times(self, factor: u64) -> Self {
		let mut limbs = [0u64; 4];
		let mut carry = 0u128;
		for (limb, a) in limbs.iter_mut().zip(self.0.iter()) {
			let product = u128::from(*a) * u128::from(factor) + carry;
			*limb = product as u64;
			carry = product >> 64;
		}
		Self(limbs)
	}

	/// `self << bits` for `bits < 64`.
	fn shifted_left(&self, bits: u32) -> Self {
		if bits == 0 {
			return *self;
		}
		let mut limbs = [0u64; 4];
		let mut carried = 0u64;
		for (limb, a) in limbs.iter_mut().zip(self.0.iter()) {
			*limb = (a << bits) | carried;
			carried = a >> (64 - bits);
		}
		Self(limbs)
	}
}

impl From<u128> for U256 {
	fn from(value: u128) -> Self {
		Self([value as u64, (value >> 64) as u64, 0, 0])
	}
}

impl Ord for U256 {
	fn cmp(&self, other: &Self) -> Ordering {
		self.0.iter().rev().cmp(other.0.iter().rev())
	}
}

impl PartialOrd for U256 {
	fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
		Some(self.cmp(other))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn raw(entries: &[(u64, u128)]) -> BTreeMap<ContributionId, u128> {
		entries
			.iter()
			.map(|(id, score)| (ContributionId(*id), *score))
			.collect()
	}

	fn ids(scores: &[(ContributionId, u32)]) -> Vec<u64> {
		scores.iter().map(|(id, _)| id.0).collect()
	}

	fn assert_valid_receipt_scores(scores: &[(ContributionId, u32)], max_scores: usize) {
		assert!(scores.len() <= max_scores);
		assert!(scores.windows(2).all(|pair| pair[0].0 < pair[1].0));
		assert!(scores
			.iter()
			.all(|(_, ppm)| (1..=SCORE_PPM_WHOLE).contains(ppm)));
		let sum: u64 = scores.iter().map(|(_, ppm)| u64::from(*ppm)).sum();
		assert!(sum <= u64::from(SCORE_PPM_WHOLE));
	}

	#[test]
	fn no_positive_scores_give_no_entries() {
		assert!(scores_to_ppm(&raw(&[]), 32).is_empty());
		assert!(scores_to_ppm(&raw(&[(1, 0), (2, 0)]), 32).is_empty());
		assert!(scores_to_ppm(&raw(&[(1, 5)]), 0).is_empty());
	}

	#[test]
	fn one_score_is_the_whole() {
		assert_eq!(
			scores_to_ppm(&raw(&[(9, 1), (3, 0)]), 32),
			vec![(ContributionId(9), SCORE_PPM_WHOLE)]
		);
	}

	#[test]
	fn shares_are_floored_parts_per_million() {
		let scores = scores_to_ppm(&raw(&[(1, 1), (2, 1), (3, 1)]), 32);
		assert_eq!(
			scores,
			vec![
				(ContributionId(1), 333_333),
				(ContributionId(2), 333_333),
				(ContributionId(3), 333_333)
			]
		);
		let scores = scores_to_ppm(&raw(&[(4, 3), (7, 1)]), 32);
		assert_eq!(
			scores,
			vec![(ContributionId(4), 750_000), (ContributionId(7), 250_000)]
		);
	}

	#[test]
	fn only_the_largest_are_kept_and_ties_go_to_the_lower_id() {
		let scores = scores_to_ppm(&raw(&[(1, 10), (2, 50), (3, 10), (4, 30), (5, 10)]), 3);
		assert_eq!(ids(&scores), vec![1, 2, 4]);
		// Shares are of the kept scores' sum (10 + 50 + 30).
		assert_eq!(scores[0].1, 111_111);
		assert_eq!(scores[1].1, 555_555);
		assert_eq!(scores[2].1, 333_333);
	}

	#[test]
	fn shares_that_round_to_zero_are_dropped() {
		let scores = scores_to_ppm(&raw(&[(1, 10_000_000), (2, 1)]), 32);
		assert_eq!(scores, vec![(ContributionId(1), 999_999)]);
	}

	#[test]
	fn huge_scores_do_not_overflow() {
		let max = u128::MAX;
		let scores = scores_to_ppm(&raw(&[(1, max), (2, max), (3, max / 2), (4, 1)]), 32);
		// Checked with Python's integers: the total is 2.5 · 2^128 - 2, so the
		// shares fall just under 40 % and 20 %; the score 1 rounds to 0.
		assert_eq!(
			scores,
			vec![
				(ContributionId(1), 399_999),
				(ContributionId(2), 399_999),
				(ContributionId(3), 199_999)
			]
		);
		let many: Vec<(u64, u128)> = (0..40).map(|id| (id, max - u128::from(id))).collect();
		let scores = scores_to_ppm(&raw(&many), 32);
		assert_eq!(ids(&scores), (0..32).collect::<Vec<_>>());
		assert_valid_receipt_scores(&scores, 32);
		assert!(scores
			.iter()
			.all(|(_, ppm)| *ppm == 31_250 || *ppm == 31_249));
	}

	#[test]
	fn random_scores_always_make_valid_receipts() {
		use rand::{Rng, SeedableRng};
		let mut rng = rand::rngs::StdRng::seed_from_u64(7);
		for _ in 0..500 {
			let count = rng.random_range(0..80);
			let bits = rng.random_range(1..=128u32);
			let entries: Vec<(u64, u128)> = (0..count)
				.map(|_| {
					let score = rng.random::<u128>() >> (128 - bits);
					(rng.random_range(0..200), score)
				})
				.collect();
			let max_scores = rng.random_range(0..40);
			let scores = scores_to_ppm(&raw(&entries), max_scores);
			assert_valid_receipt_scores(&scores, max_scores);
			assert_eq!(scores, scores_to_ppm(&raw(&entries), max_scores));
		}
	}

	#[test]
	fn wide_division_matches_u128_where_it_fits() {
		use rand::{Rng, SeedableRng};
		let mut rng = rand::rngs::StdRng::seed_from_u64(11);
		for _ in 0..2_000 {
			let total = rng.random_range(1..=u128::from(u64::MAX));
			let score = rng.random_range(1..=total);
			let expected = score * u128::from(SCORE_PPM_WHOLE) / total;
			assert_eq!(u128::from(ppm_of(score, &U256::from(total))), expected);
		}
	}
}
