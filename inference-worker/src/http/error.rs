//! OpenAI-style error responses: `{"error": {"message", "type", "param", "code"}}`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::adapters::AdapterError;
use crate::engine::EngineError;
use crate::serving::SubmitError;

/// An error answer with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
	pub status: StatusCode,
	pub message: String,
	pub kind: &'static str,
	pub param: Option<&'static str>,
	pub code: Option<&'static str>,
}

impl ApiError {
	pub fn bad_request(message: impl Into<String>, param: Option<&'static str>) -> Self {
		Self {
			status: StatusCode::BAD_REQUEST,
			message: message.into(),
			kind: "invalid_request_error",
			param,
			code: None,
		}
	}

	pub fn with_code(mut self, code: &'static str) -> Self {
		self.code = Some(code);
		self
	}

	pub fn model_not_found(model: &str) -> Self {
		Self {
			status: StatusCode::NOT_FOUND,
			message: format!("The model `{model}` does not exist; see /v1/models"),
			kind: "invalid_request_error",
			param: Some("model"),
			code: Some("model_not_found"),
		}
	}

	pub fn internal(message: impl Into<String>) -> Self {
		Self {
			status: StatusCode::INTERNAL_SERVER_ERROR,
			message: message.into(),
			kind: "server_error",
			param: None,
			code: None,
		}
	}

	pub fn body(&self) -> serde_json::Value {
		json!({ "error": { "message": self.message, "type": self.kind, "param": self.param, "code": self.code } })
	}
}

impl IntoResponse for ApiError {
	fn into_response(self) -> Response {
		let mut response = (self.status, Json(self.body())).into_response();
		if self.status == StatusCode::TOO_MANY_REQUESTS {
			response
				.headers_mut()
				.insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
		}
		response
	}
}

impl From<SubmitError> for ApiError {
	fn from(e: SubmitError) -> Self {
		let message = e.to_string();
		match e {
			SubmitError::QueueFull(_) => Self {
				status: StatusCode::TOO_MANY_REQUESTS,
				message,
				kind: "rate_limit_error",
				param: None,
				code: Some("rate_limit_exceeded"),
			},
			SubmitError::EmptyPrompt => Self::bad_request(message, Some("prompt")),
			SubmitError::NoTokens => Self::bad_request(message, Some("max_tokens")),
			SubmitError::TooLong { .. } => {
				Self::bad_request(message, Some("messages")).with_code("context_length_exceeded")
			},
			SubmitError::Stopped => Self {
				status: StatusCode::SERVICE_UNAVAILABLE,
				message,
				kind: "server_error",
				param: None,
				code: None,
			},
		}
	}
}

impl From<AdapterError> for ApiError {
	fn from(e: AdapterError) -> Self {
		let message = e.to_string();
		let code = match &e {
			AdapterError::NotFound(_) => {
				return Self {
					status: StatusCode::NOT_FOUND,
					message,
					kind: "invalid_request_error",
					param: Some("lora_name"),
					code: Some("adapter_not_found"),
				}
			},
			AdapterError::Engine(_) => return Self::internal(message),
			AdapterError::AlreadyLoaded(_) => "adapter_already_loaded",
			AdapterError::InvalidName { .. } => "invalid_adapter_name",
			AdapterError::Io { .. } => "adapter_unreadable",
			AdapterError::InvalidConfig(_) => "invalid_adapter_config",
			AdapterError::Unsupported(_) => "unsupported_adapter",
			AdapterError::WrongBase { .. } => "wrong_base_model",
			AdapterError::ShapeMismatch { .. } => "adapter_shape_mismatch",
			AdapterError::RankTooLarge { .. } => "adapter_rank_too_large",
			AdapterError::CorruptWeights(_) => "corrupt_adapter",
			AdapterError::MissingTensor(_) => "missing_adapter_tensor",
			AdapterError::UnexpectedTensor(_) => "unexpected_adapter_tensor",
			AdapterError::TooLarge { .. } => "adapter_too_large",
		};
		Self::bad_request(message, None).with_code(code)
	}
}

impl From<EngineError> for ApiError {
	fn from(e: EngineError) -> Self {
		match e {
			EngineError::ChatTemplate(m) => Self::bad_request(
				format!("the messages do not fit the model's chat template: {m}"),
				Some("messages"),
			),
			EngineError::Tokenizer(m) => {
				Self::bad_request(format!("cannot tokenize the input: {m}"), None)
			},
			other => Self::internal(other.to_string()),
		}
	}
}
