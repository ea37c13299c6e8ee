//! On-chain inference requests over HTTP (see [`crate::chain::service`]):
//!
//! - `POST /v1/inferences/{id}` with `{"prompt": "...", "max_tokens": n}`:
//!   serves request `id`, answers with the output, the fee charged, the
//!   scores and the result hash once the receipt is finalized;
//! - `GET /v1/inferences/{id}/receipt`: the receipt record of a served
//!   request (prompt, output, tokens), for verifiers and challengers;
//! - `GET /v1/inferences`: the worker's account, the models it serves and
//!   the requests seen on chain that await their prompt;
//! - `POST /v1/vouchered` with `{"model": m, "prompt": "...", "max_tokens":
//!   n, "voucher": {...}}`: serves a prompt paid by a signed voucher against
//!   the user's prepaid credit (see [`crate::chain::prepaid`]), settled
//!   later in a batch;
//! - `GET /v1/vouchered`: the charges not settled yet;
//!   `GET /v1/vouchered/{seq}`: the record of one (prompt, output, tokens).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{parse, ApiError};
use crate::chain::prepaid::{VoucherSummary, VoucheredRequest, VoucheredServed};
use crate::chain::service::{ChainWorker, ReceiptRecord, ServeError, Served};
use crate::hex::hex_hash;

/// The routes, serving requests through `worker`.
pub fn inference_routes(worker: Arc<ChainWorker>) -> Router {
	Router::new()
		.route("/v1/inferences", get(list_requests))
		.route("/v1/inferences/{id}", post(serve_request))
		.route("/v1/inferences/{id}/receipt", get(get_receipt))
		.route("/v1/vouchered", post(serve_vouchered).get(list_vouchered))
		.route("/v1/vouchered/{seq}", get(get_vouchered))
		.with_state(worker)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeBody {
	prompt: String,
	#[serde(default)]
	max_tokens: Option<usize>,
}

impl From<ServeError> for ApiError {
	fn from(error: ServeError) -> Self {
		let (status, param, code) = match &error {
			ServeError::UnknownInference(_) => {
				(StatusCode::NOT_FOUND, Some("id"), "unknown_inference")
			},
			ServeError::NotAssigned(_) => (StatusCode::FORBIDDEN, Some("id"), "not_assigned"),
			ServeError::NotAwaiting { .. } => {
				(StatusCode::CONFLICT, Some("id"), "not_awaiting_receipt")
			},
			ServeError::AlreadyServed(_) => (StatusCode::CONFLICT, Some("id"), "already_served"),
			ServeError::PromptMismatch(_) => {
				(StatusCode::BAD_REQUEST, Some("prompt"), "prompt_mismatch")
			},
			ServeError::EmptyPrompt(_) | ServeError::EmptyVoucheredPrompt => {
				(StatusCode::BAD_REQUEST, Some("prompt"), "empty_prompt")
			},
			ServeError::VoucherForAnotherWorker { .. } => (
				StatusCode::FORBIDDEN,
				Some("voucher.worker"),
				"voucher_for_another_worker",
			),
			ServeError::VoucherForAnotherModel { .. } => (
				StatusCode::BAD_REQUEST,
				Some("voucher.model"),
				"voucher_for_another_model",
			),
			ServeError::BadVoucherSignature { .. } => (
				StatusCode::FORBIDDEN,
				Some("voucher.signature"),
				"bad_voucher_signature",
			),
			ServeError::VoucherExpiresTooSoon { .. } => (
				StatusCode::BAD_REQUEST,
				Some("voucher.expires_at"),
				"voucher_expires_too_soon",
			),
			ServeError::VoucherLifetimeTooLong { .. } => (
				StatusCode::BAD_REQUEST,
				Some("voucher.expires_at"),
				"voucher_lifetime_too_long",
			),
			ServeError::VoucherCapReached { .. } => (
				StatusCode::PAYMENT_REQUIRED,
				Some("voucher.cumulative_fee_cap"),
				"voucher_cap_reached",
			),
			ServeError::InsufficientCredit { .. } => {
				(StatusCode::PAYMENT_REQUIRED, None, "insufficient_credit")
			},
			ServeError::ModelNotServed(_) => (StatusCode::NOT_FOUND, None, "model_not_served"),
			ServeError::AdapterMismatch { .. } => (StatusCode::CONFLICT, None, "adapter_mismatch"),
			ServeError::MaxFeeTooLow { .. } => {
				(StatusCode::PAYMENT_REQUIRED, None, "max_fee_too_low")
			},
			ServeError::Chain(_) => (StatusCode::BAD_GATEWAY, None, "chain_error"),
			ServeError::Journal(_) | ServeError::Engine { .. } => {
				return ApiError::internal(error.to_string())
			},
		};
		ApiError {
			status,
			..ApiError::bad_request(error.to_string(), param)
		}
		.with_code(code)
	}
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
	id.parse()
		.map_err(|_| ApiError::bad_request(format!("`{id}` is not an inference id"), Some("id")))
}

async fn serve_request(
	State(worker): State<Arc<ChainWorker>>,
	Path(id): Path<String>,
	body: Bytes,
) -> Result<Json<Served>, ApiError> {
	let id = parse_id(&id)?;
	let body: ServeBody = parse(&body)?;
	if body.max_tokens == Some(0) {
		return Err(ApiError::bad_request(
			"max_tokens must be at least 1",
			Some("max_tokens"),
		));
	}
	Ok(Json(worker.serve(id, &body.prompt, body.max_tokens).await?))
}

async fn serve_vouchered(
	State(worker): State<Arc<ChainWorker>>,
	body: Bytes,
) -> Result<Json<VoucheredServed>, ApiError> {
	let request: VoucheredRequest = parse(&body)?;
	if request.max_tokens == Some(0) {
		return Err(ApiError::bad_request(
			"max_tokens must be at least 1",
			Some("max_tokens"),
		));
	}
	Ok(Json(worker.serve_vouchered(request).await?))
}

async fn list_vouchered(State(worker): State<Arc<ChainWorker>>) -> Json<VoucherSummary> {
	Json(worker.voucher_summary().await)
}

async fn get_vouchered(
	State(worker): State<Arc<ChainWorker>>,
	Path(seq): Path<String>,
) -> Result<Json<ReceiptRecord>, ApiError> {
	let seq: u64 = seq.parse().map_err(|_| {
		ApiError::bad_request(format!("`{seq}` is not a charge number"), Some("seq"))
	})?;
	worker
		.vouchered_record(seq)
		.map(Json)
		.ok_or_else(|| ApiError {
			status: StatusCode::NOT_FOUND,
			..ApiError::bad_request(
				format!("this worker served no voucher-paid inference {seq}"),
				Some("seq"),
			)
		})
}

async fn get_receipt(
	State(worker): State<Arc<ChainWorker>>,
	Path(id): Path<String>,
) -> Result<Json<ReceiptRecord>, ApiError> {
	let id = parse_id(&id)?;
	worker.receipt_record(id).map(Json).ok_or_else(|| ApiError {
		status: StatusCode::NOT_FOUND,
		..ApiError::bad_request(
			format!("this worker has no receipt for inference {id}"),
			Some("id"),
		)
	})
}

async fn list_requests(State(worker): State<Arc<ChainWorker>>) -> Json<Value> {
	let requested: Vec<Value> = worker
		.requested()
		.into_iter()
		.map(|request| {
			json!({
				"id": request.id,
				"model": request.model,
				"maxFee": request.max_fee.to_string(),
				"serveBy": request.serve_by,
				"promptCommitment": hex_hash(&request.prompt_commitment),
			})
		})
		.collect();
	Json(json!({
		"worker": worker.chain().account().to_string(),
		"models": worker.models().collect::<Vec<_>>(),
		"requested": requested,
	}))
}
