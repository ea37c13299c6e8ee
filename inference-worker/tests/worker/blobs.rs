//! The blob store over HTTP: payloads go in and come out by their
//! BLAKE2b-256, wrong bytes are refused with the reason, and what was
//! uploaded is a datanet version the factory can load.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openledger_inference_worker::blobs::{blob_name, BlobStore};
use openledger_inference_worker::factory::DatanetVersion;
use openledger_inference_worker::hex::hex_hash as hex;
use openledger_inference_worker::http;
use openledger_primitives::merkle::merkle_root;
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde_json::Value;

const LIMIT: usize = 1024;

struct BlobServer {
	addr: SocketAddr,
	client: Client<HttpConnector, Full<Bytes>>,
	dir: tempfile::TempDir,
	_stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> BlobServer {
	let dir = tempfile::tempdir().unwrap();
	let store = Arc::new(BlobStore::open(dir.path().join("blobs"), LIMIT).unwrap());
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let addr = listener.local_addr().unwrap();
	let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
	tokio::spawn(http::serve_router(
		listener,
		http::blob_routes(store),
		async move {
			let _ = stopped.await;
		},
	));
	BlobServer {
		addr,
		client: Client::builder(TokioExecutor::new()).build_http(),
		dir,
		_stop: stop,
	}
}

impl BlobServer {
	async fn call(&self, method: &str, hash: &str, body: &[u8]) -> (StatusCode, Bytes) {
		let request = Request::builder()
			.method(method)
			.uri(format!("http://{}/v1/blobs/{hash}", self.addr))
			.body(Full::new(Bytes::copy_from_slice(body)))
			.unwrap();
		let response = self.client.request(request).await.unwrap();
		let status = response.status();
		(
			status,
			response.into_body().collect().await.unwrap().to_bytes(),
		)
	}

	async fn put(&self, hash: &str, body: &[u8]) -> (StatusCode, Value) {
		let (status, bytes) = self.call("PUT", hash, body).await;
		(status, serde_json::from_slice(&bytes).unwrap())
	}
}

fn error_message(body: &Value) -> &str {
	body["error"]["message"].as_str().unwrap()
}

#[tokio::test]
async fn blobs_go_in_and_out_by_their_hash() {
	let server = start().await;
	let payload = b"Quillton is the capital of Zorbia.";
	let hash = blake2_256(payload);

	let (status, body) = server.put(&hex(&hash), payload).await;
	assert_eq!(status, StatusCode::CREATED, "{body}");
	assert_eq!(body["hash"], hex(&hash));
	assert_eq!(body["size"], payload.len());
	let (status, body) = server.put(&blob_name(&hash), payload).await;
	assert_eq!(
		status,
		StatusCode::OK,
		"the same blob again is no error: {body}"
	);
	assert_eq!(body["created"], false);

	let (status, bytes) = server.call("GET", &hex(&hash), b"").await;
	assert_eq!(status, StatusCode::OK);
	assert_eq!(&bytes[..], payload);
}

#[tokio::test]
async fn wrong_bytes_bad_hashes_and_unknown_blobs_are_refused() {
	let server = start().await;
	let payload = b"the real payload";
	let hash = blake2_256(payload);

	let (status, body) = server.put(&hex(&hash), b"something else").await;
	assert_eq!(status, StatusCode::BAD_REQUEST);
	let message = error_message(&body);
	assert!(message.contains(&blob_name(&hash)), "{message}");
	assert!(
		message.contains(&blob_name(&blake2_256(b"something else"))),
		"{message}"
	);

	let (status, body) = server.put("0x1234", payload).await;
	assert_eq!(status, StatusCode::BAD_REQUEST);
	assert!(error_message(&body).contains("not a BLAKE2b-256 hash"));

	let big = vec![7u8; LIMIT + 1];
	let (status, body) = server.put(&hex(&blake2_256(&big)), &big).await;
	assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
	assert!(error_message(&body).contains("1025 bytes"), "{body}");

	let (status, _) = server.call("GET", &hex(&hash), b"").await;
	assert_eq!(status, StatusCode::NOT_FOUND);
	let files = std::fs::read_dir(server.dir.path().join("blobs"))
		.unwrap()
		.count();
	assert_eq!(files, 0, "nothing refused was stored");
}

#[tokio::test]
async fn a_blob_corrupted_on_disk_is_not_served() {
	let server = start().await;
	let payload = b"kept intact";
	let hash = blake2_256(payload);
	assert_eq!(
		server.put(&hex(&hash), payload).await.0,
		StatusCode::CREATED
	);
	let file = server.dir.path().join("blobs").join(blob_name(&hash));
	std::fs::write(&file, b"kept intakt").unwrap();
	let (status, bytes) = server.call("GET", &hex(&hash), b"").await;
	assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
	assert!(String::from_utf8_lossy(&bytes).contains("corrupt"));
}

#[tokio::test]
async fn uploaded_payloads_are_a_datanet_version_the_factory_loads() {
	let server = start().await;
	let payloads = [
		(3u64, "Zorbia's capital is Quillton."),
		(8, "Vess is a river."),
	];
	let mut entries = Vec::new();
	for (contribution, text) in payloads {
		let hash = blake2_256(text.as_bytes());
		assert_eq!(
			server.put(&hex(&hash), text.as_bytes()).await.0,
			StatusCode::CREATED
		);
		entries
			.push(serde_json::json!({ "contribution": contribution, "content_hash": hex(&hash) }));
	}
	let manifest = server.dir.path().join("manifest.json");
	let json = serde_json::json!({ "datanet": 2, "version": 1, "contributions": entries });
	std::fs::write(&manifest, json.to_string()).unwrap();

	let blobs = server.dir.path().join("blobs");
	let version = DatanetVersion::load(&manifest, Some(&blobs)).unwrap();
	let hashes: Vec<[u8; 32]> = payloads
		.iter()
		.map(|(_, text)| blake2_256(text.as_bytes()))
		.collect();
	assert_eq!(version.merkle_root, merkle_root(&hashes));
	assert_eq!(version.payloads[1].text, payloads[1].1);
}
