//! Suffix arrays over token sequences: construction by prefix doubling and
//! the linear-time check of one read from disk.

use std::cmp::Ordering;

use rayon::slice::ParallelSliceMut;

/// The suffix array of `text`: the start positions of its suffixes in
/// lexicographic order of the suffixes (symbols compared as integers, a
/// suffix that ends before another sorts first).
///
/// Prefix doubling (Manber–Myers): after the round with step `k` every
/// suffix has the rank of its first `2k` symbols, so `⌈log₂ L⌉ + 1` rounds
/// suffice, `L` the longest repeated substring, each a sort of `n` keys:
/// `O(n log n · log L)` time, `O(n log² n)` at worst, and `12n` bytes of
/// working memory. `benches/attribution_eval.rs` indexes a million tokens
/// with 20-token shared headers in about 0.3 s on two cores. The sort runs
/// in parallel, yet the result is unique, so it does not depend on the
/// thread count.
///
/// `text.len()` must be below `u32::MAX` (the caller checks).
pub(super) fn build(text: &[u32]) -> Vec<u32> {
	let mut suffixes: Vec<u32> = (0..text.len() as u32).collect();
	let mut rank = dense_symbol_ranks(text);
	let mut step = 1usize;
	loop {
		let key = |position: u32| pair_key(&rank, position as usize, step);
		suffixes.par_sort_unstable_by_key(|position| key(*position));
		let next = ranks_in_order(&suffixes, key, text.len());
		let all_distinct = suffixes
			.last()
			.is_none_or(|last| next[*last as usize] as usize == text.len());
		rank = next;
		if all_distinct {
			return suffixes;
		}
		step = step.saturating_mul(2);
	}
}

/// Each symbol's rank among the distinct symbols of `text`, from 1 (0 is
/// kept for "past the end").
fn dense_symbol_ranks(text: &[u32]) -> Vec<u32> {
	let mut symbols = text.to_vec();
	symbols.par_sort_unstable();
	symbols.dedup();
	text.iter()
		.map(|symbol| symbols.partition_point(|other| other < symbol) as u32 + 1)
		.collect()
}

/// The sort key of a suffix in the round with step `step`: its rank and the
/// rank of the suffix `step` further on (0 past the end).
fn pair_key(rank: &[u32], position: usize, step: usize) -> u64 {
	let ahead = position
		.checked_add(step)
		.and_then(|ahead| rank.get(ahead))
		.copied()
		.unwrap_or(0);
	(u64::from(rank[position]) << 32) | u64::from(ahead)
}

/// New ranks from 1 after sorting: equal keys share a rank.
fn ranks_in_order(suffixes: &[u32], key: impl Fn(u32) -> u64, len: usize) -> Vec<u32> {
	let mut rank = vec![0u32; len];
	let mut current = 0u32;
	let mut previous_key = None;
	for position in suffixes {
		let this_key = key(*position);
		if previous_key != Some(this_key) {
			current += 1;
			previous_key = Some(this_key);
		}
		rank[*position as usize] = current;
	}
	rank
}

/// Whether `suffixes` is the suffix array of `text`, in `O(n)`: it must be a
/// permutation of the positions, and each adjacent pair must be ordered by
/// first symbol and then by the order of the suffixes one further on
/// (Burkhardt and Kärkkäinen's check), which by induction orders them all.
pub(super) fn is_suffix_array_of(suffixes: &[u32], text: &[u32]) -> bool {
	let Some(rank) = inverse_permutation(suffixes, text.len()) else {
		return false;
	};
	let rank_after = |position: usize| rank.get(position + 1).copied();
	suffixes.windows(2).all(|pair| {
		let (a, b) = (pair[0] as usize, pair[1] as usize);
		match text[a].cmp(&text[b]) {
			Ordering::Less => true,
			Ordering::Greater => false,
			Ordering::Equal => rank_after(a) < rank_after(b),
		}
	})
}

/// The position of each suffix in `suffixes`, or `None` if `suffixes` is not
/// a permutation of `0..len`.
fn inverse_permutation(suffixes: &[u32], len: usize) -> Option<Vec<u32>> {
	if suffixes.len() != len {
		return None;
	}
	let mut rank = vec![u32::MAX; len];
	for (order, position) in suffixes.iter().enumerate() {
		let slot = rank.get_mut(*position as usize)?;
		if *slot != u32::MAX {
			return None;
		}
		*slot = order as u32;
	}
	Some(rank)
}

#[cfg(test)]
mod tests {
	use super::*;
	use rand::{Rng, SeedableRng};

	fn naive(text: &[u32]) -> Vec<u32> {
		let mut suffixes: Vec<u32> = (0..text.len() as u32).collect();
		suffixes.sort_by(|a, b| text[*a as usize..].cmp(&text[*b as usize..]));
		suffixes
	}

	#[test]
	fn matches_a_naive_sort_on_random_texts() {
		let mut rng = rand::rngs::StdRng::seed_from_u64(3);
		for round in 0..300 {
			let len = rng.random_range(0..200);
			let alphabet = if round % 3 == 0 {
				2
			} else {
				rng.random_range(1..50)
			};
			let mut text: Vec<u32> = (0..len).map(|_| rng.random_range(0..alphabet)).collect();
			if round % 5 == 0 {
				text.iter_mut()
					.for_each(|symbol| *symbol = symbol.wrapping_add(u32::MAX - 60));
			}
			let built = build(&text);
			assert_eq!(built, naive(&text), "{text:?}");
			assert!(is_suffix_array_of(&built, &text));
		}
	}

	#[test]
	fn handles_long_repeats() {
		let text: Vec<u32> = std::iter::repeat_n([7, 7, 7, 3], 300).flatten().collect();
		assert_eq!(build(&text), naive(&text));
		let same = vec![5u32; 1000];
		assert_eq!(build(&same), naive(&same));
	}

	#[test]
	fn the_check_rejects_what_is_not_the_suffix_array() {
		let text = vec![3, 1, 2, 1, 2, 3, u32::MAX];
		let good = build(&text);
		assert!(is_suffix_array_of(&good, &text));
		for i in 0..good.len() - 1 {
			let mut swapped = good.clone();
			swapped.swap(i, i + 1);
			assert!(!is_suffix_array_of(&swapped, &text));
		}
		let mut repeated = good.clone();
		repeated[0] = repeated[1];
		assert!(!is_suffix_array_of(&repeated, &text));
		let mut out_of_range = good.clone();
		out_of_range[0] = 99;
		assert!(!is_suffix_array_of(&out_of_range, &text));
		assert!(!is_suffix_array_of(&good[1..], &text));
	}
}
