//! Integration tests of the inference worker, on tiny random models written
//! to temporary directories (no downloads, no GPU).

mod adapters;
mod batching;
mod common;
mod engine;
mod gradients;
mod http;
