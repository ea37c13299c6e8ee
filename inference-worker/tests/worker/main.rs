//! Integration tests of the inference worker, on tiny random models written
//! to temporary directories (no downloads, no GPU).

mod adapters;
mod attribute_cli;
mod attribution_gradient;
mod attribution_span;
mod batching;
mod blobs;
mod common;
mod engine;
mod factory;
mod gradients;
mod http;
