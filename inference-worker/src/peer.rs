//! HTTP GETs to other workers' APIs: receipt records for verifiers, blobs
//! for ModelFactory.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long a peer may take to answer one request, body included.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a peer gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
	#[error("{url} is not a URL: {reason}")]
	BadUrl { url: String, reason: String },
	#[error("{url} did not answer within {PEER_TIMEOUT:?}")]
	Timeout { url: String },
	#[error("{url} answered {status}")]
	Status { url: String, status: u16 },
	#[error("{url}: {reason}")]
	Transport { url: String, reason: String },
}

/// A plain-HTTP client for peers' APIs (`http://host:port/...`).
#[derive(Clone)]
pub struct PeerClient {
	http: Client<HttpConnector, Full<Bytes>>,
}

impl Default for PeerClient {
	fn default() -> Self {
		Self {
			http: Client::builder(TokioExecutor::new()).build_http(),
		}
	}
}

impl PeerClient {
	/// The body of a successful `GET url`.
	pub async fn get(&self, url: &str) -> Result<Bytes, PeerError> {
		let request = hyper::Request::get(url)
			.body(Full::new(Bytes::new()))
			.map_err(|e| PeerError::BadUrl {
				url: url.to_string(),
				reason: e.to_string(),
			})?;
		let transport = |reason: String| PeerError::Transport {
			url: url.to_string(),
			reason,
		};
		let exchange = async {
			let response = self
				.http
				.request(request)
				.await
				.map_err(|e| transport(e.to_string()))?;
			let status = response.status();
			if !status.is_success() {
				return Err(PeerError::Status {
					url: url.to_string(),
					status: status.as_u16(),
				});
			}
			let body = response
				.into_body()
				.collect()
				.await
				.map_err(|e| transport(e.to_string()))?;
			Ok(body.to_bytes())
		};
		tokio::time::timeout(PEER_TIMEOUT, exchange)
			.await
			.map_err(|_| PeerError::Timeout {
				url: url.to_string(),
			})?
	}
}
