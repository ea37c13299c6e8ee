//! The kernels alone, on SmolLM2-135M's shapes: the LoRA kernel over a
//! 64-row decode step (every row on its own adapter, and all on one, for
//! each way of storing adapters), then the packed matmuls, microseconds per
//! call and multiply-adds per nanosecond, for 1 to 64 activation rows.
//! `OPENLEDGER_AMX=0` runs the matmuls without the tile kernel;
//! `OPENLEDGER_BENCH_SHAPE=gate_up` one shape only, `=lora` the LoRA step.
//!
//! `cargo bench -p openledger-inference-worker --bench kernels`

use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use openledger_inference_worker::engine::int4::Int4Matrix;
use openledger_inference_worker::engine::int8::Int8Matrix;
use openledger_inference_worker::engine::lora::{
	add_in_place, LoraPair, LoraStorage, LoraTarget, LoraWeights, RowSegment, TargetColumns,
};

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
	if only.as_deref().is_none_or(|o| o == "lora") {
		lora_steps(&device);
	}
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

/// The LoRA kernel over a 64-row decode step of SmolLM2-135M (30 layers,
/// rank 8 on all seven projections): every row on its own adapter, and
/// every row on one adapter; bf16 as built (one array per tensor), bf16 in
/// one buffer, 8-bit rows in one buffer.
fn lora_steps(device: &Device) {
	const LAYERS: usize = 30;
	const ROWS: usize = 64;
	const RANK: usize = 8;
	let width = |t: LoraTarget| match t {
		LoraTarget::K | LoraTarget::V => 192,
		LoraTarget::Gate | LoraTarget::Up => 1536,
		_ => 576,
	};
	let in_width = |t: LoraTarget| if t == LoraTarget::Down { 1536 } else { 576 };
	let adapters: Vec<LoraWeights> = (0..ROWS)
		.map(|_| {
			let mut weights = LoraWeights::new(LAYERS);
			for layer in 0..LAYERS {
				for t in LoraTarget::ALL {
					let a = Tensor::randn(0f32, 0.05, (RANK, in_width(t)), device)
						.and_then(|a| a.to_dtype(DType::BF16))
						.expect("A");
					let b = Tensor::randn(0f32, 0.05, (width(t), RANK), device)
						.and_then(|b| b.to_dtype(DType::BF16))
						.expect("B");
					let pair = LoraPair::from_peft(a, b, 2.0).expect("pair");
					weights.insert(layer, t, pair).expect("insert");
				}
			}
			weights
		})
		.collect();
	// The engine's four projections of a layer, as fused column ranges.
	let calls: Vec<Vec<TargetColumns>> = [
		vec![LoraTarget::Q, LoraTarget::K, LoraTarget::V],
		vec![LoraTarget::O],
		vec![LoraTarget::Gate, LoraTarget::Up],
		vec![LoraTarget::Down],
	]
	.into_iter()
	.map(|targets| {
		let mut start = 0;
		targets
			.into_iter()
			.map(|target| {
				let cols = start..start + width(target);
				start = cols.end;
				TargetColumns { target, cols }
			})
			.collect()
	})
	.collect();
	let tensors: Vec<(Tensor, Tensor)> = calls
		.iter()
		.map(|columns| {
			let in_dim = in_width(columns[0].target);
			let out_dim = columns.last().expect("a target").cols.end;
			let x = Tensor::randn(0f32, 1.0, (ROWS, in_dim), device).expect("x");
			let y = Tensor::zeros((ROWS, out_dim), DType::F32, device).expect("y");
			(x, y)
		})
		.collect();
	let stored = |storage| -> Vec<LoraWeights> {
		adapters
			.iter()
			.map(|w| w.stored_as(storage, device).expect("one buffer"))
			.collect()
	};
	let (bf16, int8) = (stored(LoraStorage::Bf16), stored(LoraStorage::Int8));
	let step = |segments: &[RowSegment]| {
		for layer in 0..LAYERS {
			for (columns, (x, y)) in calls.iter().zip(&tensors) {
				add_in_place(y, x, layer, columns, segments).expect("lora kernel");
			}
		}
	};
	for round in 0..3 {
		for (layout, adapters) in [
			("bf16, one array per tensor", &adapters),
			("bf16, one buffer", &bf16),
			("int8, one buffer", &int8),
		] {
			let bytes: usize = adapters.iter().map(LoraWeights::size_in_bytes).sum();
			let distinct: Vec<RowSegment> = adapters
				.iter()
				.enumerate()
				.map(|(row, lora)| RowSegment {
					rows: (row, 1),
					lora: Some(lora),
				})
				.collect();
			let shared = [RowSegment {
				rows: (0, ROWS),
				lora: Some(&adapters[0]),
			}];
			let t_distinct = time(20, || step(&distinct));
			let t_shared = time(20, || step(&shared));
			println!(
				"lora step, {ROWS} rows, {layout:27} (round {round}): distinct adapters {:6.2} ms ({:5.1} GB/s of adapter weights) | one adapter {:6.2} ms",
				t_distinct * 1e3,
				bytes as f64 / t_distinct / 1e9,
				t_shared * 1e3,
			);
		}
	}
}
