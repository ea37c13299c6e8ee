//! The OpenAI-compatible HTTP API. Translation only: requests become
//! [`GenerationRequest`]s for the [`Scheduler`], adapter calls go to the
//! [`AdapterRegistry`], and results become OpenAI-shaped JSON or SSE.

mod blobs;
mod error;
mod inferences;
mod openai;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::stream::{self, Stream, StreamExt};
use serde::de::DeserializeOwned;

pub use blobs::blob_routes;
pub use error::ApiError;
pub use inferences::inference_routes;
use openai::*;

use crate::adapters::{AdapterRegistry, LoadedAdapter};
use crate::engine::chat::{ChatMessage, ChatTemplate};
use crate::engine::sampling::SamplingParams;
use crate::engine::tokenizer::TextTokenizer;
use crate::serving::{
	FinishReason, GenerationEvent, GenerationRequest, GenerationStream, Scheduler,
};

/// Everything the handlers share.
pub struct AppState {
	pub model_id: String,
	pub scheduler: Scheduler,
	pub registry: Arc<AdapterRegistry>,
	pub tokenizer: Arc<TextTokenizer>,
	pub chat_template: ChatTemplate,
	/// `max_tokens` when a request gives none.
	pub default_max_tokens: usize,
	/// Whether `/v1/load_lora_adapter` and `/v1/unload_lora_adapter` work.
	pub runtime_lora_updates: bool,
	pub created: u64,
}

/// The routes of the API.
pub fn router(state: Arc<AppState>) -> Router {
	Router::new()
		.route("/v1/chat/completions", post(chat_completions))
		.route("/v1/completions", post(completions))
		.route("/v1/models", get(list_models))
		.route("/v1/load_lora_adapter", post(load_lora_adapter))
		.route("/v1/unload_lora_adapter", post(unload_lora_adapter))
		.route("/health", get(health))
		.route("/metrics", get(metrics))
		.with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
	listener: tokio::net::TcpListener,
	state: Arc<AppState>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
	serve_router(listener, router(state), shutdown).await
}

/// Serves `routes` (the API, with or without [`blob_routes`]) on `listener`
/// until `shutdown` completes.
pub async fn serve_router(
	listener: tokio::net::TcpListener,
	routes: Router,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
	axum::serve(listener, routes)
		.with_graceful_shutdown(shutdown)
		.await
}

pub fn unix_now() -> u64 {
	SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.map_or(0, |d| d.as_secs())
}

fn request_id(prefix: &str) -> String {
	static NEXT: AtomicU64 = AtomicU64::new(0);
	let n = NEXT.fetch_add(1, Ordering::Relaxed);
	format!("{prefix}-{:x}{n:06x}", unix_now())
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
	serde_json::from_slice(body)
		.map_err(|e| ApiError::bad_request(format!("invalid request body: {e}"), None))
}

/// What the handlers resolved from a request before generating.
struct Prepared {
	request: GenerationRequest,
	reply: Reply,
}

/// How to answer: the model name to echo and whether to stream.
struct Reply {
	model: String,
	stream: bool,
	include_usage: bool,
}

async fn chat_completions(
	State(state): State<Arc<AppState>>,
	body: Bytes,
) -> Result<Response, ApiError> {
	let request: ChatCompletionRequest = parse(&body)?;
	let messages = chat_messages(request.messages)?;
	let prompt_text = state.chat_template.render(&messages, true)?;
	let prompt = state.tokenizer.encode(&prompt_text, false)?;
	let Prepared { request, reply } =
		prepare(&state, request.model, prompt, request.options).await?;
	let stream = state.scheduler.submit(request)?;
	let id = request_id("chatcmpl");
	if reply.stream {
		return Ok(sse(chat_chunks(id, reply, stream)));
	}
	let done = stream.collect().await.map_err(ApiError::internal)?;
	Ok(Json(ChatCompletion {
		id,
		object: "chat.completion",
		created: unix_now(),
		model: reply.model,
		choices: vec![ChatChoice {
			index: 0,
			message: AssistantMessage {
				role: "assistant",
				content: done.text,
			},
			logprobs: None,
			finish_reason: done.reason.as_str(),
		}],
		usage: Usage::new(done.prompt_tokens, done.completion_tokens),
	})
	.into_response())
}

async fn completions(
	State(state): State<Arc<AppState>>,
	body: Bytes,
) -> Result<Response, ApiError> {
	let request: CompletionRequest = parse(&body)?;
	if request.options.echo == Some(true) {
		return Err(ApiError::bad_request("echo is not supported", Some("echo")));
	}
	let prompt = match request.prompt {
		Prompt::Text(text) => state.tokenizer.encode(&text, true)?,
		Prompt::Texts(texts) if texts.len() == 1 => state.tokenizer.encode(&texts[0], true)?,
		Prompt::Texts(_) => {
			return Err(ApiError::bad_request(
				"exactly one prompt per request is supported",
				Some("prompt"),
			))
		},
		Prompt::Tokens(ids) => {
			let vocab = state.tokenizer.vocab_size() as u32;
			if let Some(bad) = ids.iter().find(|&&id| id >= vocab) {
				return Err(ApiError::bad_request(
					format!("token id {bad} is outside the vocabulary"),
					Some("prompt"),
				));
			}
			ids
		},
	};
	let Prepared { request, reply } =
		prepare(&state, request.model, prompt, request.options).await?;
	let stream = state.scheduler.submit(request)?;
	let id = request_id("cmpl");
	if reply.stream {
		return Ok(sse(text_chunks(id, reply, stream)));
	}
	let done = stream.collect().await.map_err(ApiError::internal)?;
	Ok(Json(TextCompletion {
		id,
		object: "text_completion",
		created: unix_now(),
		model: reply.model,
		choices: vec![TextChoice {
			text: done.text,
			index: 0,
			logprobs: None,
			finish_reason: Some(done.reason.as_str()),
		}],
		usage: Some(Usage::new(done.prompt_tokens, done.completion_tokens)),
	})
	.into_response())
}

fn chat_messages(messages: Vec<ChatMessageIn>) -> Result<Vec<ChatMessage>, ApiError> {
	if messages.is_empty() {
		return Err(ApiError::bad_request(
			"messages must not be empty",
			Some("messages"),
		));
	}
	messages
		.into_iter()
		.map(|m| {
			let role = match m.role.as_str() {
				"system" | "developer" => "system",
				"user" => "user",
				"assistant" => "assistant",
				"tool" => "tool",
				other => {
					return Err(ApiError::bad_request(
						format!("unknown message role `{other}`"),
						Some("messages"),
					))
				},
			};
			let content = match m.content {
				None => String::new(),
				Some(MessageContent::Text(text)) => text,
				Some(MessageContent::Parts(parts)) => {
					let mut text = String::new();
					for part in parts {
						match (part.kind.as_str(), part.text) {
							("text", Some(t)) => text.push_str(&t),
							(kind, _) => {
								return Err(ApiError::bad_request(
									format!("content parts of type `{kind}` are not supported"),
									Some("messages"),
								))
							},
						}
					}
					text
				},
			};
			Ok(ChatMessage::new(role, content))
		})
		.collect()
}

/// Validates the options, resolves the model and builds the request.
async fn prepare(
	state: &Arc<AppState>,
	model: String,
	prompt: Vec<u32>,
	options: GenerationOptions,
) -> Result<Prepared, ApiError> {
	let temperature = options.temperature.unwrap_or(1.0);
	if !(0.0..=2.0).contains(&temperature) {
		return Err(ApiError::bad_request(
			"temperature must be between 0 and 2",
			Some("temperature"),
		));
	}
	let top_p = options.top_p.unwrap_or(1.0);
	if !(top_p > 0.0 && top_p <= 1.0) {
		return Err(ApiError::bad_request(
			"top_p must be in (0, 1]",
			Some("top_p"),
		));
	}
	if options.n.is_some_and(|n| n != 1) {
		return Err(ApiError::bad_request("only n = 1 is supported", Some("n")));
	}
	let wants_logprobs = match &options.logprobs {
		Some(serde_json::Value::Bool(b)) => *b,
		Some(serde_json::Value::Number(n)) => n.as_u64() != Some(0),
		_ => false,
	};
	if wants_logprobs {
		return Err(ApiError::bad_request(
			"logprobs are not supported",
			Some("logprobs"),
		));
	}
	let stop = options.stop.map(Stop::into_vec).unwrap_or_default();
	if stop.len() > 4 {
		return Err(ApiError::bad_request(
			"at most 4 stop sequences are allowed",
			Some("stop"),
		));
	}
	let room = state
		.scheduler
		.context_length()
		.saturating_sub(prompt.len());
	let max_tokens = match options.max_completion_tokens.or(options.max_tokens) {
		Some(0) => {
			return Err(ApiError::bad_request(
				"max_tokens must be at least 1",
				Some("max_tokens"),
			))
		},
		Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
		None => state.default_max_tokens.min(room.max(1)),
	};
	let adapter = resolve_model(state, &model).await?;
	Ok(Prepared {
		request: GenerationRequest {
			prompt,
			adapter,
			sampling: SamplingParams {
				temperature,
				top_p,
				seed: options.seed,
			},
			max_tokens,
			stop,
		},
		reply: Reply {
			model,
			stream: options.stream,
			include_usage: options.stream_options.is_some_and(|o| o.include_usage),
		},
	})
}

/// `None` for the base model, the adapter otherwise (loaded if needed).
async fn resolve_model(
	state: &Arc<AppState>,
	model: &str,
) -> Result<Option<Arc<LoadedAdapter>>, ApiError> {
	if model == state.model_id {
		return Ok(None);
	}
	if !state.registry.is_registered(model) {
		if state.registry.base().accepts(model) {
			return Ok(None);
		}
		return Err(ApiError::model_not_found(model));
	}
	let registry = state.registry.clone();
	let name = model.to_string();
	let adapter = tokio::task::spawn_blocking(move || registry.acquire(&name))
		.await
		.map_err(|e| ApiError::internal(format!("adapter loading panicked: {e}")))??;
	Ok(Some(adapter))
}

fn sse(events: impl Stream<Item = String> + Send + 'static) -> Response {
	let events = events.map(|data| Ok::<_, Infallible>(Event::default().data(data)));
	Sse::new(events)
		.keep_alive(KeepAlive::default())
		.into_response()
}

/// What a streamed generation turns into, independent of the endpoint.
enum Piece {
	Text(String),
	End(FinishReason, usize, usize),
	Error(String),
}

/// The stream's events as pieces, ending after the last one.
fn pieces(stream: GenerationStream) -> impl Stream<Item = Piece> + Send {
	stream::unfold(Some(stream), |state| async move {
		let mut stream = state?;
		match stream.next().await {
			Some(GenerationEvent::Text(t)) => Some((Piece::Text(t), Some(stream))),
			Some(GenerationEvent::Finished {
				reason,
				prompt_tokens,
				completion_tokens,
			}) => Some((Piece::End(reason, prompt_tokens, completion_tokens), None)),
			Some(GenerationEvent::Failed(e)) => Some((Piece::Error(e), None)),
			None => Some((
				Piece::Error("the generation stopped unexpectedly".into()),
				None,
			)),
		}
	})
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
	serde_json::to_string(value)
		.unwrap_or_else(|e| ApiError::internal(e.to_string()).body().to_string())
}

fn chat_chunks(
	id: String,
	reply: Reply,
	stream: GenerationStream,
) -> impl Stream<Item = String> + Send {
	let Reply {
		model,
		include_usage,
		..
	} = reply;
	let created = unix_now();
	let chunk = move |delta: Delta, finish: Option<&'static str>, usage: Option<Usage>| {
		let choices = if usage.is_some() && finish.is_none() {
			Vec::new()
		} else {
			vec![ChatChunkChoice {
				index: 0,
				delta,
				logprobs: None,
				finish_reason: finish,
			}]
		};
		to_json(&ChatCompletionChunk {
			id: id.clone(),
			object: "chat.completion.chunk",
			created,
			model: model.clone(),
			choices,
			usage,
		})
	};
	let first = chunk(
		Delta {
			role: Some("assistant"),
			content: Some(String::new()),
		},
		None,
		None,
	);
	let body = pieces(stream).flat_map(move |piece| {
		let out: Vec<String> = match piece {
			Piece::Text(t) => vec![chunk(
				Delta {
					role: None,
					content: Some(t),
				},
				None,
				None,
			)],
			Piece::End(reason, prompt, completion) => {
				let mut v = vec![chunk(Delta::default(), Some(reason.as_str()), None)];
				if include_usage {
					v.push(chunk(
						Delta::default(),
						None,
						Some(Usage::new(prompt, completion)),
					));
				}
				v.push("[DONE]".to_string());
				v
			},
			Piece::Error(e) => vec![
				ApiError::internal(e).body().to_string(),
				"[DONE]".to_string(),
			],
		};
		stream::iter(out)
	});
	stream::once(async move { first }).chain(body)
}

fn text_chunks(
	id: String,
	reply: Reply,
	stream: GenerationStream,
) -> impl Stream<Item = String> + Send {
	let Reply {
		model,
		include_usage,
		..
	} = reply;
	let created = unix_now();
	let chunk = move |text: String, finish: Option<&'static str>, usage: Option<Usage>| {
		let choices = if usage.is_some() {
			Vec::new()
		} else {
			vec![TextChoice {
				text,
				index: 0,
				logprobs: None,
				finish_reason: finish,
			}]
		};
		to_json(&TextCompletion {
			id: id.clone(),
			object: "text_completion",
			created,
			model: model.clone(),
			choices,
			usage,
		})
	};
	pieces(stream).flat_map(move |piece| {
		let out: Vec<String> = match piece {
			Piece::Text(t) => vec![chunk(t, None, None)],
			Piece::End(reason, prompt, completion) => {
				let mut v = vec![chunk(String::new(), Some(reason.as_str()), None)];
				if include_usage {
					v.push(chunk(
						String::new(),
						None,
						Some(Usage::new(prompt, completion)),
					));
				}
				v.push("[DONE]".to_string());
				v
			},
			Piece::Error(e) => vec![
				ApiError::internal(e).body().to_string(),
				"[DONE]".to_string(),
			],
		};
		stream::iter(out)
	})
}

async fn list_models(State(state): State<Arc<AppState>>) -> Json<ModelList> {
	let context = state.scheduler.context_length();
	let base = ModelCard {
		id: state.model_id.clone(),
		object: "model",
		created: state.created,
		owned_by: "openledger",
		root: state.model_id.clone(),
		parent: None,
		max_model_len: context,
	};
	let adapters = state.registry.list().into_iter().map(|a| ModelCard {
		id: a.name,
		object: "model",
		created: state.created,
		owned_by: "openledger",
		root: a.path.display().to_string(),
		parent: Some(state.model_id.clone()),
		max_model_len: context,
	});
	Json(ModelList {
		object: "list",
		data: std::iter::once(base).chain(adapters).collect(),
	})
}

fn runtime_updates_allowed(state: &AppState) -> Result<(), ApiError> {
	if state.runtime_lora_updates {
		return Ok(());
	}
	Err(ApiError {
		status: StatusCode::FORBIDDEN,
		message: "runtime adapter loading is disabled on this worker".into(),
		kind: "permission_error",
		param: None,
		code: None,
	})
}

async fn load_lora_adapter(
	State(state): State<Arc<AppState>>,
	body: Bytes,
) -> Result<Response, ApiError> {
	runtime_updates_allowed(&state)?;
	let request: LoadLoraRequest = parse(&body)?;
	let registry = state.registry.clone();
	let name = request.lora_name.clone();
	tokio::task::spawn_blocking(move || {
		registry.load(
			&request.lora_name,
			std::path::Path::new(&request.lora_path),
			request.load_inplace,
		)
	})
	.await
	.map_err(|e| ApiError::internal(format!("adapter loading panicked: {e}")))??;
	Ok((
		StatusCode::OK,
		format!("Success: LoRA adapter '{name}' added successfully."),
	)
		.into_response())
}

async fn unload_lora_adapter(
	State(state): State<Arc<AppState>>,
	body: Bytes,
) -> Result<Response, ApiError> {
	runtime_updates_allowed(&state)?;
	let request: UnloadLoraRequest = parse(&body)?;
	state.registry.unload(&request.lora_name)?;
	Ok((
		StatusCode::OK,
		format!(
			"Success: LoRA adapter '{}' removed successfully.",
			request.lora_name
		),
	)
		.into_response())
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
	Json(serde_json::json!({ "status": "ok", "model": state.model_id }))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
	let s = state.scheduler.metrics().snapshot();
	let r = state.registry.stats();
	let mut out = String::new();
	let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, f64)]| {
		out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
		for (labels, value) in samples {
			out.push_str(&format!("{name}{labels} {value}\n"));
		}
	};
	metric(
		"openledger_requests_total",
		"counter",
		"Generation requests by outcome.",
		&[
			("{outcome=\"accepted\"}", s.requests_accepted as f64),
			("{outcome=\"rejected\"}", s.requests_rejected as f64),
			("{outcome=\"finished\"}", s.requests_finished as f64),
			("{outcome=\"cancelled\"}", s.requests_cancelled as f64),
			("{outcome=\"failed\"}", s.requests_failed as f64),
		],
	);
	metric(
		"openledger_prompt_tokens_total",
		"counter",
		"Prompt tokens accepted.",
		&[("", s.prompt_tokens as f64)],
	);
	metric(
		"openledger_generation_tokens_total",
		"counter",
		"Tokens generated.",
		&[("", s.generated_tokens as f64)],
	);
	metric(
		"openledger_batch_steps_total",
		"counter",
		"Batched forward passes.",
		&[("", s.steps as f64)],
	);
	metric(
		"openledger_batch_rows_total",
		"counter",
		"Sequences fed, summed over forward passes.",
		&[("", s.step_rows as f64)],
	);
	metric(
		"openledger_batch_step_seconds_total",
		"counter",
		"Time spent in forward passes.",
		&[("", s.step_seconds)],
	);
	metric(
		"openledger_requests_running",
		"gauge",
		"Sequences in the running batch.",
		&[("", s.running as f64)],
	);
	metric(
		"openledger_requests_in_flight",
		"gauge",
		"Accepted requests not yet finished.",
		&[("", state.scheduler.in_flight() as f64)],
	);
	metric(
		"openledger_adapters_registered",
		"gauge",
		"Adapters known to the worker.",
		&[("", r.registered as f64)],
	);
	metric(
		"openledger_adapters_resident",
		"gauge",
		"Adapters whose weights are in memory.",
		&[("", r.resident as f64)],
	);
	metric(
		"openledger_adapter_cache_bytes",
		"gauge",
		"Bytes of resident adapter weights.",
		&[("", r.resident_bytes as f64)],
	);
	metric(
		"openledger_adapter_cache_budget_bytes",
		"gauge",
		"Byte budget of the adapter cache.",
		&[("", r.budget_bytes as f64)],
	);
	metric(
		"openledger_adapter_loads_total",
		"counter",
		"Adapters read from disk.",
		&[("", r.loads as f64)],
	);
	metric(
		"openledger_adapter_cache_hits_total",
		"counter",
		"Requests whose adapter was resident.",
		&[("", r.hits as f64)],
	);
	metric(
		"openledger_adapter_evictions_total",
		"counter",
		"Adapters dropped to stay within budget.",
		&[("", r.evictions as f64)],
	);
	metric(
		"openledger_adapter_load_seconds_total",
		"counter",
		"Time spent reading adapters.",
		&[("", r.load_seconds_total)],
	);
	([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
