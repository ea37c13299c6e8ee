//! Choosing the next token from logits: greedy, or sampled with
//! temperature and nucleus (top-p) truncation from a seeded generator.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How the next token is chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingParams {
	/// 0 picks the most likely token; higher flattens the distribution.
	pub temperature: f64,
	/// Sample only from the smallest set of tokens whose probability adds
	/// up to at least this much.
	pub top_p: f64,
	/// Makes sampling reproducible; a random seed when `None`.
	pub seed: Option<u64>,
}

impl Default for SamplingParams {
	fn default() -> Self {
		Self {
			temperature: 1.0,
			top_p: 1.0,
			seed: None,
		}
	}
}

impl SamplingParams {
	pub fn greedy() -> Self {
		Self {
			temperature: 0.0,
			top_p: 1.0,
			seed: None,
		}
	}
}

/// A sampler for one sequence.
#[derive(Debug)]
pub struct Sampler {
	params: SamplingParams,
	rng: StdRng,
	probs: Vec<f32>,
	order: Vec<u32>,
}

impl Sampler {
	pub fn new(params: SamplingParams) -> Self {
		let rng = StdRng::seed_from_u64(params.seed.unwrap_or_else(rand::random));
		Self {
			params,
			rng,
			probs: Vec::new(),
			order: Vec::new(),
		}
	}

	/// The next token for `logits` (one score per vocabulary entry).
	pub fn sample(&mut self, logits: &[f32]) -> u32 {
		if self.params.temperature <= 1e-6 || logits.len() < 2 {
			return argmax(logits);
		}
		let inv_t = (1.0 / self.params.temperature) as f32;
		let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
		self.probs.clear();
		self.probs
			.extend(logits.iter().map(|&l| ((l - max) * inv_t).exp()));
		let total: f32 = self.probs.iter().sum();
		if self.params.top_p >= 1.0 {
			let mut target = self.rng.random::<f32>() * total;
			for (i, p) in self.probs.iter().enumerate() {
				target -= p;
				if target <= 0.0 {
					return i as u32;
				}
			}
			return argmax(logits);
		}
		self.sample_nucleus(total)
	}

	/// Samples among the most likely tokens covering `top_p` of the mass,
	/// sorting only as many candidates as needed.
	fn sample_nucleus(&mut self, total: f32) -> u32 {
		let needed = self.params.top_p as f32 * total;
		let vocab = self.probs.len();
		let mut k = 64.min(vocab);
		loop {
			self.order.clear();
			self.order.extend(0..vocab as u32);
			let probs = &self.probs;
			let by_prob = |a: &u32, b: &u32| probs[*b as usize].total_cmp(&probs[*a as usize]);
			if k < vocab {
				self.order.select_nth_unstable_by(k, by_prob);
				self.order.truncate(k);
			}
			self.order.sort_unstable_by(by_prob);
			let mut mass = 0f32;
			let mut cut = self.order.len();
			for (i, &token) in self.order.iter().enumerate() {
				mass += probs[token as usize];
				if mass >= needed {
					cut = i + 1;
					break;
				}
			}
			if mass >= needed || k == vocab {
				let kept = &self.order[..cut];
				let kept_mass: f32 = kept.iter().map(|&t| probs[t as usize]).sum();
				let mut target = self.rng.random::<f32>() * kept_mass;
				for &token in kept {
					target -= probs[token as usize];
					if target <= 0.0 {
						return token;
					}
				}
				return kept.first().copied().unwrap_or(0);
			}
			k = (k * 4).min(vocab);
		}
	}
}

/// Index of the largest logit (the first one on ties).
pub fn argmax(logits: &[f32]) -> u32 {
	let mut best = 0;
	for (i, &l) in logits.iter().enumerate() {
		if l > logits[best] {
			best = i;
		}
	}
	best as u32
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn greedy_takes_the_largest_logit() {
		let mut s = Sampler::new(SamplingParams::greedy());
		assert_eq!(s.sample(&[0.1, 3.0, -1.0, 3.0]), 1);
	}

	#[test]
	fn same_seed_same_tokens_and_top_p_truncates() {
		let logits: Vec<f32> = (0..1000).map(|i| (i % 17) as f32 * 0.3).collect();
		let params = SamplingParams {
			temperature: 0.8,
			top_p: 0.9,
			seed: Some(7),
		};
		let a: Vec<u32> = {
			let mut s = Sampler::new(params.clone());
			(0..20).map(|_| s.sample(&logits)).collect()
		};
		let mut s = Sampler::new(params);
		let b: Vec<u32> = (0..20).map(|_| s.sample(&logits)).collect();
		assert_eq!(a, b);

		// With a tiny nucleus only the single best token can be drawn.
		let mut peaked = vec![0f32; 100];
		peaked[42] = 10.0;
		let mut s = Sampler::new(SamplingParams {
			temperature: 1.0,
			top_p: 0.5,
			seed: Some(1),
		});
		assert!((0..50).all(|_| s.sample(&peaked) == 42));
	}
}
