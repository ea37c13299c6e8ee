//! `openledger-node`: a validator and full node of the OpenLedger chain.

// `sc_cli::Result` is the framework's: its large error type is not ours to box.
#![allow(clippy::result_large_err)]

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	command::run()
}
