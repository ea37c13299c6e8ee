//! `openledger-node benchmark pallet`: measures extrinsic weights of the
//! runtime's pallets and writes their `weights.rs`.

use crate::cli::Cli;
use openledger_runtime::opaque::Block;
use polkadot_sdk::{
	frame_benchmarking_cli::BenchmarkCmd, sc_cli::SubstrateCli, sp_runtime::traits::HashingFor, *,
};

pub fn run(cli: &Cli, cmd: &BenchmarkCmd) -> sc_cli::Result<()> {
	let BenchmarkCmd::Pallet(cmd) = cmd else {
		return Err("only `benchmark pallet` is supported by this node".into());
	};
	let runner = cli.create_runner(cmd)?;
	runner.sync_run(|config| {
		cmd.run_with_spec::<HashingFor<Block>, sp_io::SubstrateHostFunctions>(Some(
			config.chain_spec,
		))
	})
}
