//! `PUT /v1/blobs/{hash}` and `GET /v1/blobs/{hash}`: the worker's
//! content-addressed store of datanet payloads (see [`crate::blobs`]).
//! Contributors upload the payload behind their contribution's content
//! hash; ModelFactory reads a datanet version's payloads from the same
//! store.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::{Json, Router};
use serde_json::json;

use super::ApiError;
use crate::blobs::{blob_name, parse_blob_hash, BlobError, BlobStore};

/// The blob routes, serving `store`.
pub fn blob_routes(store: Arc<BlobStore>) -> Router {
	// Leave room above the store's limit so that an oversized upload gets
	// the store's own 413 message rather than axum's.
	let body_limit = store.max_blob_bytes().saturating_add(1);
	Router::new()
		.route("/v1/blobs/{hash}", put(put_blob).get(get_blob))
		.layer(DefaultBodyLimit::max(body_limit))
		.with_state(store)
}

impl From<BlobError> for ApiError {
	fn from(error: BlobError) -> Self {
		let status = match &error {
			BlobError::BadHash(_) | BlobError::HashMismatch { .. } => StatusCode::BAD_REQUEST,
			BlobError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
			BlobError::NotFound(_) => StatusCode::NOT_FOUND,
			BlobError::Corrupt { .. } | BlobError::Io { .. } => {
				return ApiError::internal(error.to_string())
			},
		};
		ApiError {
			status,
			..ApiError::bad_request(error.to_string(), Some("hash"))
		}
	}
}

async fn put_blob(
	State(store): State<Arc<BlobStore>>,
	Path(hash): Path<String>,
	body: Bytes,
) -> Result<Response, ApiError> {
	let hash = parse_blob_hash(&hash)?;
	let size = body.len();
	let created = tokio::task::spawn_blocking(move || store.put(&hash, &body))
		.await
		.map_err(|e| ApiError::internal(e.to_string()))??;
	let status = if created {
		StatusCode::CREATED
	} else {
		StatusCode::OK
	};
	let answer =
		json!({ "hash": format!("0x{}", blob_name(&hash)), "size": size, "created": created });
	Ok((status, Json(answer)).into_response())
}

async fn get_blob(
	State(store): State<Arc<BlobStore>>,
	Path(hash): Path<String>,
) -> Result<Response, ApiError> {
	let hash = parse_blob_hash(&hash)?;
	let bytes = tokio::task::spawn_blocking(move || store.get(&hash))
		.await
		.map_err(|e| ApiError::internal(e.to_string()))??;
	Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}
