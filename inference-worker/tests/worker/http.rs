//! The HTTP API, spun up in-process on 127.0.0.1:0 and called the way the
//! OpenAI client libraries call it.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openledger_inference_worker::adapters::AdapterRegistry;
use openledger_inference_worker::engine::chat::ChatTemplate;
use openledger_inference_worker::engine::Architecture;
use openledger_inference_worker::fixtures::{self, AdapterSpec};
use openledger_inference_worker::http::{self, AppState};
use openledger_inference_worker::serving::{Scheduler, ServingConfig};
use serde_json::{json, Value};

use crate::common::*;

struct Server {
	addr: SocketAddr,
	client: Client<HttpConnector, Full<Bytes>>,
	_stop: tokio::sync::oneshot::Sender<()>,
	tiny: Tiny,
}

struct Reply {
	status: StatusCode,
	headers: hyper::HeaderMap,
	body: Bytes,
}

impl Reply {
	fn json(&self) -> Value {
		serde_json::from_slice(&self.body)
			.unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
	}

	/// The `data:` payloads of an SSE body.
	fn events(&self) -> Vec<String> {
		String::from_utf8_lossy(&self.body)
			.lines()
			.filter_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
			.map(str::to_string)
			.collect()
	}
}

async fn start(serving: ServingConfig) -> Server {
	let tiny = tiny(Architecture::Llama);
	let registry = Arc::new(AdapterRegistry::new(tiny.base_info(), limits()));
	let adapters = tiny.dir.path().join("adapters");
	fixtures::write_peft_adapter(
		&adapters.join("legal"),
		tiny.config(),
		&AdapterSpec::new(8, 1, BASE_ID),
	)
	.unwrap();
	fixtures::write_peft_adapter(
		&adapters.join("medical"),
		tiny.config(),
		&AdapterSpec::new(16, 2, BASE_ID),
	)
	.unwrap();
	registry.discover(&adapters).unwrap();
	let tokenizer = Arc::new(tiny.tokenizer.clone());
	let state = Arc::new(AppState {
		model_id: BASE_ID.into(),
		scheduler: Scheduler::start(Arc::new(tiny.model.clone()), tokenizer.clone(), serving),
		registry,
		chat_template: ChatTemplate::for_tokenizer(&tokenizer).unwrap(),
		tokenizer,
		default_max_tokens: 16,
		runtime_lora_updates: true,
		created: http::unix_now(),
	});
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
	tokio::spawn(http::serve(listener, state, async move {
		let _ = stopped.await;
	}));
	let client = Client::builder(TokioExecutor::new()).build_http();
	Server {
		addr,
		client,
		_stop: stop,
		tiny,
	}
}

impl Server {
	async fn send(
		&self,
		method: &str,
		path: &str,
		body: Option<String>,
	) -> hyper::Response<hyper::body::Incoming> {
		let request = Request::builder()
			.method(method)
			.uri(format!("http://{}{path}", self.addr))
			.header("content-type", "application/json")
			.header("authorization", "Bearer sk-anything")
			.body(Full::new(Bytes::from(body.unwrap_or_default())))
			.unwrap();
		self.client.request(request).await.unwrap()
	}

	async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
		self.call_raw(method, path, body.map(|b| b.to_string()))
			.await
	}

	async fn call_raw(&self, method: &str, path: &str, body: Option<String>) -> Reply {
		let response = self.send(method, path, body).await;
		let status = response.status();
		let headers = response.headers().clone();
		let body = response.into_body().collect().await.unwrap().to_bytes();
		Reply {
			status,
			headers,
			body,
		}
	}

	async fn chat(&self, body: Value) -> Reply {
		self.call("POST", "/v1/chat/completions", Some(body)).await
	}
}

/// A request as the `openai` Python client sends it.
fn chat_body(model: &str, stream: bool) -> Value {
	json!({
		"model": model,
		"messages": [
			{"role": "system", "content": "You are terse."},
			{"role": "user", "content": [{"type": "text", "text": "the answer is"}]}
		],
		"max_tokens": 12,
		"temperature": 0,
		"top_p": 1,
		"n": 1,
		"seed": 3,
		"stream": stream,
		"stream_options": if stream { json!({"include_usage": true}) } else { Value::Null },
		"presence_penalty": 0,
		"frequency_penalty": 0,
		"logprobs": false,
		"user": "test"
	})
}

fn assert_openai_error(reply: &Reply, status: StatusCode, mentions: &str) {
	assert_eq!(
		reply.status,
		status,
		"{}",
		String::from_utf8_lossy(&reply.body)
	);
	let error = &reply.json()["error"];
	let message = error["message"].as_str().unwrap();
	assert!(
		message.contains(mentions),
		"`{message}` should mention `{mentions}`"
	);
	assert!(error["type"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_openai_shapes() {
	let server = start(ServingConfig::default()).await;

	let health = server.call("GET", "/health", None).await;
	assert_eq!(health.status, StatusCode::OK);

	let models = server.call("GET", "/v1/models", None).await.json();
	assert_eq!(models["object"], "list");
	let ids: Vec<&str> = models["data"]
		.as_array()
		.unwrap()
		.iter()
		.map(|m| m["id"].as_str().unwrap())
		.collect();
	assert_eq!(ids, vec![BASE_ID, "legal", "medical"]);
	assert_eq!(models["data"][0]["parent"], Value::Null);
	assert_eq!(models["data"][1]["parent"], BASE_ID);
	assert_eq!(models["data"][2]["object"], "model");

	for model in [BASE_ID, "legal", "medical"] {
		let reply = server.chat(chat_body(model, false)).await;
		assert_eq!(
			reply.status,
			StatusCode::OK,
			"{}",
			String::from_utf8_lossy(&reply.body)
		);
		let body = reply.json();
		assert_eq!(body["object"], "chat.completion");
		assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
		assert_eq!(body["model"], model);
		let choice = &body["choices"][0];
		assert_eq!(choice["index"], 0);
		assert_eq!(choice["message"]["role"], "assistant");
		let content = choice["message"]["content"].as_str().unwrap().to_string();
		assert!(["stop", "length"].contains(&choice["finish_reason"].as_str().unwrap()));
		let usage = &body["usage"];
		assert_eq!(
			usage["total_tokens"].as_u64().unwrap(),
			usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
		);

		// Streaming gives the same text, chunk by chunk, then [DONE].
		let reply = server.chat(chat_body(model, true)).await;
		assert_eq!(reply.status, StatusCode::OK);
		assert!(reply.headers["content-type"]
			.to_str()
			.unwrap()
			.starts_with("text/event-stream"));
		let events = reply.events();
		assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
		let chunks: Vec<Value> = events[..events.len() - 1]
			.iter()
			.map(|e| serde_json::from_str(e).unwrap())
			.collect();
		assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
		assert!(chunks
			.iter()
			.all(|c| c["object"] == "chat.completion.chunk" && c["model"] == model));
		let streamed: String = chunks
			.iter()
			.filter_map(|c| {
				c["choices"]
					.get(0)
					.and_then(|ch| ch["delta"]["content"].as_str())
					.map(str::to_string)
			})
			.collect();
		assert_eq!(streamed, content);
		let finish = chunks.iter().find_map(|c| {
			c["choices"]
				.get(0)
				.and_then(|ch| ch["finish_reason"].as_str())
		});
		assert_eq!(finish, choice["finish_reason"].as_str());
		let usage_chunk = chunks.last().unwrap();
		assert_eq!(usage_chunk["choices"], json!([]));
		assert_eq!(usage_chunk["usage"], *usage);
	}

	// Legacy completions, plain and streamed.
	let body = json!({"model": "legal", "prompt": "the answer", "max_tokens": 8, "temperature": 0});
	let plain = server
		.call("POST", "/v1/completions", Some(body.clone()))
		.await
		.json();
	assert_eq!(plain["object"], "text_completion");
	let text = plain["choices"][0]["text"].as_str().unwrap().to_string();
	let mut stream_body = body;
	stream_body["stream"] = json!(true);
	let events = server
		.call("POST", "/v1/completions", Some(stream_body))
		.await
		.events();
	assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
	let streamed: String = events[..events.len() - 1]
		.iter()
		.map(|e| serde_json::from_str::<Value>(e).unwrap())
		.map(|c| {
			c["choices"][0]["text"]
				.as_str()
				.unwrap_or_default()
				.to_string()
		})
		.collect();
	assert_eq!(streamed, text);

	let metrics = server.call("GET", "/metrics", None).await;
	let metrics = String::from_utf8_lossy(&metrics.body).to_string();
	assert!(metrics.contains("# TYPE openledger_requests_total counter"));
	assert!(
		metrics.contains("openledger_requests_total{outcome=\"finished\"} 8"),
		"{metrics}"
	);
	assert!(
		metrics.contains("openledger_adapters_resident 2"),
		"{metrics}"
	);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_openai_errors() {
	let server = start(ServingConfig::default()).await;
	let reply = server
		.call_raw("POST", "/v1/chat/completions", Some("{\"model\": ".into()))
		.await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "invalid request body");

	let reply = server
		.chat(json!({"messages": [{"role": "user", "content": "hi"}]}))
		.await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "model");

	let reply = server.chat(chat_body("gpt-4o", false)).await;
	assert_openai_error(&reply, StatusCode::NOT_FOUND, "gpt-4o");
	assert_eq!(reply.json()["error"]["code"], "model_not_found");

	let mut body = chat_body(BASE_ID, false);
	body["temperature"] = json!(5);
	assert_openai_error(
		&server.chat(body).await,
		StatusCode::BAD_REQUEST,
		"temperature",
	);

	let mut body = chat_body(BASE_ID, false);
	body["messages"] = json!([]);
	assert_openai_error(
		&server.chat(body).await,
		StatusCode::BAD_REQUEST,
		"messages",
	);

	let mut body = chat_body(BASE_ID, false);
	body["messages"] = json!([{"role": "wizard", "content": "hi"}]);
	assert_openai_error(&server.chat(body).await, StatusCode::BAD_REQUEST, "wizard");

	let mut body = chat_body(BASE_ID, false);
	body["n"] = json!(3);
	assert_openai_error(&server.chat(body).await, StatusCode::BAD_REQUEST, "n = 1");

	let mut body = chat_body(BASE_ID, false);
	body["max_tokens"] = json!(100_000);
	let reply = server.chat(body).await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "context length");
	assert_eq!(reply.json()["error"]["code"], "context_length_exceeded");

	let reply = server
		.call(
			"POST",
			"/v1/completions",
			Some(json!({"model": BASE_ID, "prompt": [1, 2, 99999]})),
		)
		.await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "99999");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adapters_load_and_unload_at_runtime() {
	let server = start(ServingConfig::default()).await;
	let config = server.tiny.config().clone();
	let dir = server.tiny.dir.path().join("new-adapter");
	fixtures::write_peft_adapter(
		&dir,
		&config,
		&AdapterSpec::new(4, 5, "org/tiny-test-model"),
	)
	.unwrap();
	let load = json!({"lora_name": "finance", "lora_path": dir});
	let reply = server
		.call("POST", "/v1/load_lora_adapter", Some(load.clone()))
		.await;
	assert_eq!(
		reply.status,
		StatusCode::OK,
		"{}",
		String::from_utf8_lossy(&reply.body)
	);
	let models = server.call("GET", "/v1/models", None).await.json();
	assert!(models["data"]
		.as_array()
		.unwrap()
		.iter()
		.any(|m| m["id"] == "finance" && m["parent"] == BASE_ID));
	assert_eq!(
		server.chat(chat_body("finance", false)).await.status,
		StatusCode::OK
	);

	let again = server
		.call("POST", "/v1/load_lora_adapter", Some(load))
		.await;
	assert_openai_error(&again, StatusCode::BAD_REQUEST, "already loaded");

	// Bad adapters are refused with the reason.
	let wrong = server.tiny.dir.path().join("wrong-base");
	fixtures::write_peft_adapter(&wrong, &config, &AdapterSpec::new(4, 5, "Qwen/Qwen2-7B"))
		.unwrap();
	let reply = server
		.call(
			"POST",
			"/v1/load_lora_adapter",
			Some(json!({"lora_name": "w", "lora_path": wrong})),
		)
		.await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "Qwen/Qwen2-7B");
	assert_eq!(reply.json()["error"]["code"], "wrong_base_model");

	let big = server.tiny.dir.path().join("big-rank");
	fixtures::write_peft_adapter(&big, &config, &AdapterSpec::new(64, 5, BASE_ID)).unwrap();
	let reply = server
		.call(
			"POST",
			"/v1/load_lora_adapter",
			Some(json!({"lora_name": "b", "lora_path": big})),
		)
		.await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "rank 64");

	let corrupt = server.tiny.dir.path().join("corrupt");
	fixtures::write_peft_adapter(&corrupt, &config, &AdapterSpec::new(4, 5, BASE_ID)).unwrap();
	std::fs::write(
		corrupt.join("adapter_model.safetensors"),
		b"\x10\x00\x00\x00\x00\x00\x00\x00{",
	)
	.unwrap();
	let reply = server
		.call(
			"POST",
			"/v1/load_lora_adapter",
			Some(json!({"lora_name": "c", "lora_path": corrupt})),
		)
		.await;
	assert_openai_error(&reply, StatusCode::BAD_REQUEST, "corrupt");

	let reply = server
		.call(
			"POST",
			"/v1/unload_lora_adapter",
			Some(json!({"lora_name": "finance"})),
		)
		.await;
	assert_eq!(reply.status, StatusCode::OK);
	assert_openai_error(
		&server.chat(chat_body("finance", false)).await,
		StatusCode::NOT_FOUND,
		"finance",
	);
	let reply = server
		.call(
			"POST",
			"/v1/unload_lora_adapter",
			Some(json!({"lora_name": "finance"})),
		)
		.await;
	assert_openai_error(&reply, StatusCode::NOT_FOUND, "finance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_429() {
	let server = start(ServingConfig {
		max_batch: 1,
		max_in_flight: 1,
		prefill_chunk: 64,
	})
	.await;
	let mut body = chat_body(BASE_ID, true);
	body["max_tokens"] = json!(400);
	// A streamed answer that nobody reads keeps its place in the queue.
	let held = server
		.send("POST", "/v1/chat/completions", Some(body.to_string()))
		.await;
	assert_eq!(held.status(), StatusCode::OK);

	let reply = server.chat(chat_body(BASE_ID, false)).await;
	assert_openai_error(&reply, StatusCode::TOO_MANY_REQUESTS, "capacity");
	assert_eq!(reply.json()["error"]["type"], "rate_limit_error");
	assert!(reply.headers.contains_key("retry-after"));

	// Dropping the stream cancels it and frees the place.
	drop(held);
	let mut ok = false;
	for _ in 0..100 {
		let reply = server.chat(chat_body(BASE_ID, false)).await;
		if reply.status == StatusCode::OK {
			ok = true;
			break;
		}
		tokio::time::sleep(std::time::Duration::from_millis(20)).await;
	}
	assert!(ok, "the queue never freed up");
}
