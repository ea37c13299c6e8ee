//! # OpenLedger inference worker
//!
//! Serves one base model and many LoRA adapters over an OpenAI-compatible
//! HTTP API (OpenLoRA, DESIGN §9).
//!
//! The layers, each knowing only the ones below it:
//! - [`engine`]: the model math — a Llama-family decoder with LoRA in every
//!   targeted projection, tokenizer, chat template, sampling. Knows nothing
//!   of HTTP, adapters on disk or the chain.
//! - [`adapters`]: PEFT adapters on disk, their validation against the base,
//!   and the registry that keeps them resident under a byte budget.
//! - [`serving`]: the scheduler that batches decode steps of many requests,
//!   for many adapters, into single forward passes.
//! - [`http`]: translation between OpenAI-shaped JSON and [`serving`].
//! - [`factory`]: ModelFactory, LoRA fine-tuning on datanet payloads.
//! - [`attribution`]: which contributions influenced an output (gradient and
//!   span methods) and the proof commitment a receipt carries.
//! - [`blobs`]: datanet payloads stored by content hash, checked on the way
//!   in and out.
//! - [`hex`]: hashes as the chain's JSON writes them.
//! - [`peer`]: HTTP GETs to other workers (receipt records, blobs).
//! - [`chain`]: the chain client (subxt) and the service that serves
//!   on-chain inference requests, submits their receipts and resumes after
//!   a restart; verifier mode, which re-executes others' receipts and
//!   challenges wrong ones; ModelFactory's chain side, which reads a datanet
//!   version from the chain and publishes adapters.
//! - [`fixtures`]: tiny random models and adapters written to disk, for tests
//!   and benchmarks that must not depend on downloaded weights.

pub mod adapters;
pub mod attribution;
pub mod blobs;
pub mod chain;
pub mod engine;
pub mod factory;
pub mod fixtures;
pub mod hex;
pub mod http;
pub mod peer;
pub mod serving;
