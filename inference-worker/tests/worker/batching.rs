//! Mixed batches: many adapters and ranks in one forward pass equal the same
//! requests run one by one, in the engine and through the scheduler.

use std::sync::Arc;

use candle_core::Device;
use openledger_inference_worker::adapters::{AdapterLimits, AdapterRegistry};
use openledger_inference_worker::engine::sampling::{argmax, SamplingParams};
use openledger_inference_worker::engine::{
	Architecture, BatchRow, LoraStorage, LoraTarget, LoraWeights,
};
use openledger_inference_worker::fixtures::{self, AdapterSpec};
use openledger_inference_worker::serving::{
	FinishReason, GenerationRequest, Scheduler, ServingConfig,
};

use crate::common::*;

#[test]
fn mixed_batch_equals_requests_run_one_by_one() {
	let t = tiny(Architecture::Llama);
	// Adapters as written, and kept as the server keeps them by default.
	for storage in [LoraStorage::F32, LoraStorage::Int8] {
		let stored = |spec: &AdapterSpec| {
			fixtures::random_lora(t.config(), spec)
				.and_then(|lora| lora.stored_as(storage, &Device::Cpu))
				.unwrap()
		};
		let adapters: Vec<_> = [(4, 1), (8, 2), (16, 3)]
			.into_iter()
			.map(|(rank, seed)| stored(&AdapterSpec::new(rank, seed, BASE_ID)))
			.collect();
		let partial = stored(&AdapterSpec {
			targets: vec![LoraTarget::Q, LoraTarget::Up],
			..AdapterSpec::new(2, 4, BASE_ID)
		});
		mixed_batch_matches_alone(&t, &adapters, &partial);
	}
}

fn mixed_batch_matches_alone(t: &Tiny, adapters: &[LoraWeights], partial: &LoraWeights) {
	// Adapters repeat and interleave with the base so that segments are
	// neither sorted nor unique; prompts have different lengths.
	let plan: Vec<(Vec<u32>, Option<&_>)> = vec![
		(vec![5, 6, 7, 8, 9], Some(&adapters[0])),
		(vec![100, 200], None),
		(vec![11, 12, 13, 14, 15, 16, 17], Some(&adapters[1])),
		(vec![42], Some(&adapters[0])),
		(vec![1, 2, 3, 4], Some(&adapters[2])),
		(vec![250, 251, 252], None),
		(vec![70, 71, 72], Some(partial)),
	];
	const STEPS: usize = 6;

	let alone: Vec<Vec<u32>> = plan
		.iter()
		.map(|(p, lora)| greedy_alone(&t.model, *lora, p, STEPS))
		.collect();

	let mut caches: Vec<_> = plan
		.iter()
		.map(|(p, _)| t.model.new_cache(p.len() + STEPS))
		.collect();
	let mut feeds: Vec<Vec<u32>> = plan.iter().map(|(p, _)| p.clone()).collect();
	let mut together: Vec<Vec<u32>> = vec![Vec::new(); plan.len()];
	for _ in 0..STEPS {
		let mut rows: Vec<BatchRow<'_>> = feeds
			.iter()
			.zip(caches.iter_mut())
			.zip(&plan)
			.map(|((feed, cache), (_, lora))| BatchRow {
				tokens: feed,
				cache,
				lora: *lora,
			})
			.collect();
		let logits = t
			.model
			.forward(&mut rows)
			.unwrap()
			.to_vec2::<f32>()
			.unwrap();
		for (i, row) in logits.iter().enumerate() {
			let next = argmax(row);
			together[i].push(next);
			feeds[i] = vec![next];
		}
	}
	assert_eq!(together, alone);
}

#[test]
fn batched_logits_equal_single_logits() {
	let t = tiny(Architecture::Qwen2);
	let a = fixtures::random_lora(t.config(), &AdapterSpec::new(8, 21, BASE_ID)).unwrap();
	let b = fixtures::random_lora(t.config(), &AdapterSpec::new(3, 22, BASE_ID)).unwrap();
	let prompts: [&[u32]; 3] = [&[3, 4, 5], &[9, 8, 7, 6], &[200]];
	let loras = [Some(&a), None, Some(&b)];
	let mut caches: Vec<_> = prompts.iter().map(|p| t.model.new_cache(p.len())).collect();
	let mut rows: Vec<BatchRow<'_>> = prompts
		.iter()
		.zip(caches.iter_mut())
		.zip(loras)
		.map(|((p, cache), lora)| BatchRow {
			tokens: p,
			cache,
			lora,
		})
		.collect();
	let batched = t.model.forward(&mut rows).unwrap();
	for (i, (p, lora)) in prompts.iter().zip(loras).enumerate() {
		let single = prefill_logits(&t.model, lora, p);
		assert!(max_diff(&batched.get(i).unwrap(), &single) < 1e-4);
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_batches_concurrent_requests_like_sequential_ones() {
	let t = tiny(Architecture::Llama);
	// Adapters kept as the server keeps them by default.
	let serving = AdapterLimits {
		storage: LoraStorage::default(),
		..limits()
	};
	let registry = AdapterRegistry::new(t.base_info(), serving);
	for (i, rank) in [2usize, 8, 16].into_iter().enumerate() {
		let dir = t.dir.path().join(format!("adapter-{i}"));
		fixtures::write_peft_adapter(
			&dir,
			t.config(),
			&AdapterSpec::new(rank, 30 + i as u64, BASE_ID),
		)
		.unwrap();
		registry.load(&format!("a{i}"), &dir, false).unwrap();
	}
	let requests: Vec<GenerationRequest> = (0..8)
		.map(|i| GenerationRequest {
			prompt: (0..(3 + i % 4)).map(|j| 10 + (i * 7 + j) as u32).collect(),
			adapter: (i % 4 != 3).then(|| registry.acquire(&format!("a{}", i % 3)).unwrap()),
			sampling: SamplingParams::greedy(),
			max_tokens: 5 + i,
			stop: Vec::new(),
		})
		.collect();

	let model = Arc::new(t.model.clone());
	let tokenizer = Arc::new(t.tokenizer.clone());
	let config = ServingConfig {
		max_batch: 4,
		max_in_flight: 16,
		prefill_chunk: 7,
	};

	let sequential = Scheduler::start(model.clone(), tokenizer.clone(), config);
	let mut expected = Vec::new();
	for request in &requests {
		expected.push(
			sequential
				.submit(request.clone())
				.unwrap()
				.collect()
				.await
				.unwrap(),
		);
	}

	let concurrent = Scheduler::start(model, tokenizer, config);
	let streams: Vec<_> = requests
		.iter()
		.map(|r| concurrent.submit(r.clone()).unwrap())
		.collect();
	let mut got = Vec::new();
	for stream in streams {
		got.push(stream.collect().await.unwrap());
	}
	assert_eq!(got, expected);
	for (done, request) in got.iter().zip(&requests) {
		assert_eq!(done.prompt_tokens, request.prompt.len());
		assert!(done.completion_tokens <= request.max_tokens);
		if done.reason == FinishReason::Length {
			assert_eq!(done.completion_tokens, request.max_tokens);
		}
	}
	let metrics = concurrent.metrics().snapshot();
	assert_eq!(metrics.requests_finished, requests.len() as u64);
	assert!(
		metrics.step_rows > metrics.steps,
		"requests were never batched together"
	);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sequences_cut_the_text() {
	let t = tiny(Architecture::Llama);
	let scheduler = Scheduler::start(
		Arc::new(t.model.clone()),
		Arc::new(t.tokenizer.clone()),
		ServingConfig::default(),
	);
	let request = GenerationRequest {
		prompt: vec![10, 11, 12],
		adapter: None,
		sampling: SamplingParams::greedy(),
		max_tokens: 40,
		stop: Vec::new(),
	};
	let full = scheduler
		.submit(request.clone())
		.unwrap()
		.collect()
		.await
		.unwrap();
	let chars: Vec<char> = full.text.chars().collect();
	assert!(chars.len() > 6, "need some text to cut: {:?}", full.text);
	// Stop at a two-character string from the middle of the text.
	let stop: String = chars[4..6].iter().collect();
	let cut = scheduler
		.submit(GenerationRequest {
			stop: vec![stop.clone()],
			..request
		})
		.unwrap()
		.collect()
		.await
		.unwrap();
	assert_eq!(cut.reason, FinishReason::Stop);
	assert!(!cut.text.contains(&stop));
	assert!(full.text.starts_with(&cut.text));
	assert_eq!(cut.text, full.text[..full.text.find(&stop).unwrap()]);
}
