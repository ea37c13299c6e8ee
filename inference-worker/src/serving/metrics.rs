//! Counters the scheduler keeps for `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Monotonic counters and gauges, updated without locks.
#[derive(Debug, Default)]
pub struct Metrics {
	requests_accepted: AtomicU64,
	requests_rejected: AtomicU64,
	requests_finished: AtomicU64,
	requests_cancelled: AtomicU64,
	requests_failed: AtomicU64,
	prompt_tokens: AtomicU64,
	generated_tokens: AtomicU64,
	steps: AtomicU64,
	step_rows: AtomicU64,
	step_micros: AtomicU64,
	running: AtomicU64,
}

/// A consistent-enough copy of [`Metrics`] for rendering.
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsSnapshot {
	pub requests_accepted: u64,
	pub requests_rejected: u64,
	pub requests_finished: u64,
	pub requests_cancelled: u64,
	pub requests_failed: u64,
	pub prompt_tokens: u64,
	pub generated_tokens: u64,
	pub steps: u64,
	pub step_rows: u64,
	pub step_seconds: f64,
	pub running: u64,
}

impl Metrics {
	pub fn snapshot(&self) -> MetricsSnapshot {
		let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
		MetricsSnapshot {
			requests_accepted: get(&self.requests_accepted),
			requests_rejected: get(&self.requests_rejected),
			requests_finished: get(&self.requests_finished),
			requests_cancelled: get(&self.requests_cancelled),
			requests_failed: get(&self.requests_failed),
			prompt_tokens: get(&self.prompt_tokens),
			generated_tokens: get(&self.generated_tokens),
			steps: get(&self.steps),
			step_rows: get(&self.step_rows),
			step_seconds: get(&self.step_micros) as f64 / 1e6,
			running: get(&self.running),
		}
	}

	pub(crate) fn accepted(&self, prompt_tokens: usize) {
		self.requests_accepted.fetch_add(1, Ordering::Relaxed);
		self.prompt_tokens
			.fetch_add(prompt_tokens as u64, Ordering::Relaxed);
	}
	pub(crate) fn rejected(&self) {
		self.requests_rejected.fetch_add(1, Ordering::Relaxed);
	}
	pub(crate) fn finished(&self) {
		self.requests_finished.fetch_add(1, Ordering::Relaxed);
	}
	pub(crate) fn cancelled(&self) {
		self.requests_cancelled.fetch_add(1, Ordering::Relaxed);
	}
	pub(crate) fn failed(&self) {
		self.requests_failed.fetch_add(1, Ordering::Relaxed);
	}
	pub(crate) fn generated(&self, tokens: u64) {
		self.generated_tokens.fetch_add(tokens, Ordering::Relaxed);
	}
	pub(crate) fn step(&self, rows: usize, micros: u64) {
		self.steps.fetch_add(1, Ordering::Relaxed);
		self.step_rows.fetch_add(rows as u64, Ordering::Relaxed);
		self.step_micros.fetch_add(micros, Ordering::Relaxed);
	}
	pub(crate) fn set_running(&self, running: usize) {
		self.running.store(running as u64, Ordering::Relaxed);
	}
}
