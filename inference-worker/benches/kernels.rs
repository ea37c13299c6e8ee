//! The packed matmul kernels alone, on SmolLM2-135M's shapes: microseconds
//! per call and multiply-adds per nanosecond, for 1 to 64 activation rows.
//! `OPENLEDGER_AMX=0` runs the same without the tile kernel;
//! `OPENLEDGER_BENCH_SHAPE=gate_up` one shape only.
//!
//! `cargo bench -p openledger-inference-worker --bench kernels`

use std::time::Instant;

use candle_core::{Device, Tensor};
use openledger_inference_worker::engine::int4::Int4Matrix;
use openledger_inference_worker::engine::int8::Int8Matrix;

/// SmolLM2-135M: q/k/v, o, gate/up, down (4-bit), output projection (8-bit).
const SHAPES: [(&str, usize, usize); 5] = [
	("qkv", 960, 576),
	("o", 576, 576),
	("gate_up", 3072, 576),
	("down", 576, 1536),
	("lm_head", 49152, 576),
];

/// Seconds per call, called on a rayon worker as the engine's forward
/// pass calls the kernels.
fn time(calls: usize, f: impl Fn() + Sync) -> f64 {
	rayon::scope(|_| {
		f();
		let started = Instant::now();
		for _ in 0..calls {
			f();
		}
		started.elapsed().as_secs_f64() / calls as f64
	})
}

fn main() {
	openledger_inference_worker::engine::prefer_engine_threads();
	let device = Device::Cpu;
	println!(
		"# packed matmul kernels (OPENLEDGER_AMX={})",
		std::env::var("OPENLEDGER_AMX").unwrap_or_else(|_| "default".into())
	);
	let only = std::env::var("OPENLEDGER_BENCH_SHAPE").ok();
	for (name, n, k) in SHAPES {
		if only.as_deref().is_some_and(|o| o != name) {
			continue;
		}
		let w = Tensor::randn(0f32, 0.05, (n, k), &device).expect("weights");
		let int4 = Int4Matrix::quantize(&w).expect("int4");
		let int8 = Int8Matrix::quantize(&w).expect("int8");
		for m in [1usize, 2, 3, 4, 8, 16, 64] {
			let x: Vec<f32> = (0..m * k)
				.map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
				.collect();
			let calls = (2_000_000_000 / (n * k * m.max(4))).max(3);
			let t4 = time(calls, || {
				std::hint::black_box(int4.matmul_t(&x, m));
			});
			let t8 = time(calls, || {
				std::hint::black_box(int8.matmul_t(&x, m));
			});
			let macs = (n * k * m) as f64;
			println!(
				"{name:8} [{n:5}, {k:4}] m = {m:2}: int4 {:8.1} us ({:5.1} MAC/ns) | int8 {:8.1} us ({:5.1} MAC/ns)",
				t4 * 1e6,
				macs / t4 / 1e9,
				t8 * 1e6,
				macs / t8 / 1e9
			);
		}
	}
}
