//! Shared harness for the node's end-to-end tests: runs a throwaway `--dev`
//! node, or a `--chain local` testnet of several validator nodes, on free
//! loopback ports and hands back clients connected to them.
//!
//! Every test binary compiles its own copy of this module and uses only part
//! of it, hence the `dead_code` and `unused_imports` allowances.
#![allow(dead_code, unused_imports)]

use std::{
	fmt,
	fs::File,
	future::Future,
	io,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::Duration,
};

use subxt::{
	client::OnlineClientAtBlockImpl,
	config::RpcConfigFor,
	dynamic,
	events::DecodeAsEvent,
	ext::scale_decode::DecodeAsType,
	extrinsics::ExtrinsicEvents,
	rpcs::{self, LegacyRpcMethods, RpcClient},
	transactions::{Payload, TransactionInBlock},
	utils::AccountId32,
	OnlineClient, OnlineClientAtBlock, PolkadotConfig,
};
use subxt_signer::sr25519::Keypair;
use tempfile::TempDir;
use tokio::time::{sleep, timeout, Instant};

pub use openledger_primitives::token::OPEN;

/// The binary under test, built by cargo for this integration test.
const NODE_BIN: &str = env!("CARGO_BIN_EXE_openledger-node");
/// Generous: a cold node on a loaded CI machine can take a while to come up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Bounds a single RPC round trip while polling, so a stuck call cannot
/// outlive the startup deadline by much.
const RPC_CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Two finalized blocks prove Aura authors and GRANDPA finalizes, so tests
/// that wait for finality cannot hang on a node that never finalizes.
const MIN_FINALIZED: u64 = 2;
const LOG_TAIL_LINES: usize = 60;
/// Upper bound for one transaction to be finalized: a few 2 s blocks plus
/// GRANDPA's lag, with plenty of slack.
pub const TX_TIMEOUT: Duration = Duration::from_secs(60);

pub type Client = OnlineClient<PolkadotConfig>;
pub type AtBlock = OnlineClientAtBlock<PolkadotConfig>;
pub type InBlock = TransactionInBlock<PolkadotConfig, OnlineClientAtBlockImpl<PolkadotConfig>>;
pub type LegacyRpc = LegacyRpcMethods<RpcConfigFor<PolkadotConfig>>;

/// A running node. Dropping it kills the node, also when a test panics.
pub struct TestNode {
	/// Subxt client connected to the node.
	pub client: Client,
	/// The legacy JSON-RPC methods, over the same connection.
	pub rpc: LegacyRpc,
	/// The raw JSON-RPC connection, for methods subxt does not wrap.
	pub rpc_client: RpcClient,
	/// `ws://127.0.0.1:<port>` of the node's RPC server.
	pub ws_url: String,
	// Last, so the clients disconnect before the node is killed.
	process: NodeProcess,
}

impl TestNode {
	/// Starts a `--dev` node and returns once its RPC answers and at least
	/// [`MIN_FINALIZED`] blocks are finalized.
	pub async fn start() -> Result<Self, StartError> {
		let dir = node_dir("dev")?;
		let ports = free_ports(2)?;
		let (rpc_port, p2p_port) = (ports[0], ports[1]);
		let chain_args = ["--dev".into(), "--port".into(), p2p_port.to_string()];
		let process = NodeProcess::spawn(dir, rpc_port, &chain_args)?;
		Self::connect(process, rpc_port).await
	}

	/// Waits until the node answers on `rpc_port` and has finalized
	/// [`MIN_FINALIZED`] blocks, then connects the clients.
	async fn connect(mut process: NodeProcess, rpc_port: u16) -> Result<Self, StartError> {
		let ws_url = format!("ws://127.0.0.1:{rpc_port}");
		let ready = wait_until_ready(&mut process, &ws_url).await;
		let rpc_client = ready.map_err(|reason| StartError::with_log(reason, &process))?;

		// The Polkadot relay chain's pre-V14 type registry is useless for a
		// chain that has always had modern metadata; skip loading it.
		let config = PolkadotConfig::builder().use_historic_types(false).build();
		let client = OnlineClient::from_rpc_client_with_config(config, rpc_client.clone())
			.await
			.map_err(|e| StartError::with_log(format!("subxt cannot connect: {e}"), &process))?;

		Ok(Self {
			client,
			rpc: LegacyRpc::new(rpc_client.clone()),
			rpc_client,
			ws_url,
			process,
		})
	}

	/// Number of the node's latest finalized block.
	pub async fn finalized_number(&self) -> Result<u64, rpcs::Error> {
		finalized_number(&self.rpc).await
	}

	/// The last lines the node logged, for failure messages.
	pub fn log_tail(&self) -> String {
		self.process.log_tail()
	}
}

/// A dev account whose well-known keys a `--chain local` node validates
/// with (`--alice`, ...). Alice, Bob and Charlie are the local chain's
/// genesis validators; Dave has funds but no stake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevValidator {
	Alice,
	Bob,
	Charlie,
	Dave,
}

impl DevValidator {
	/// The node's CLI shorthand without the dashes.
	fn name(self) -> &'static str {
		match self {
			Self::Alice => "alice",
			Self::Bob => "bob",
			Self::Charlie => "charlie",
			Self::Dave => "dave",
		}
	}
}

/// A `--chain local` network of validator nodes on loopback, the first one
/// the bootnode of the others. Dropping it kills every node.
pub struct LocalTestnet {
	nodes: Vec<(DevValidator, TestNode)>,
}

impl LocalTestnet {
	/// Starts one node per validator and returns once each answers and has
	/// finalized [`MIN_FINALIZED`] blocks. GRANDPA finalizes only with all
	/// three genesis validators voting, so Alice, Bob and Charlie must be
	/// among `validators`.
	pub async fn start(validators: &[DevValidator]) -> Result<Self, StartError> {
		let ports = free_ports(2 * validators.len())?;
		let mut bootnode: Option<String> = None;
		let mut spawned = Vec::with_capacity(validators.len());
		for (&validator, ports) in validators.iter().zip(ports.chunks_exact(2)) {
			let name = validator.name();
			let (rpc_port, p2p_port) = (ports[0], ports[1]);
			let dir = node_dir(name)?;
			let node_key = dir.path().join("node-key");
			node_key_command("generate-node-key", &node_key).map_err(|e| e.of_node(name))?;

			let address = format!("/ip4/127.0.0.1/tcp/{p2p_port}");
			let mut args = vec![
				"--chain".into(),
				"local".into(),
				format!("--{name}"),
				"--validator".into(),
				"--node-key-file".into(),
				node_key.display().to_string(),
				"--listen-addr".into(),
				address.clone(),
				"--public-addr".into(),
				address.clone(),
			];
			match &bootnode {
				Some(bootnode) => args.extend(["--bootnodes".into(), bootnode.clone()]),
				None => {
					let peer_id = node_key_command("inspect-node-key", &node_key)
						.map_err(|e| e.of_node(name))?;
					bootnode = Some(format!("{address}/p2p/{peer_id}"));
				},
			}
			let process = NodeProcess::spawn(dir, rpc_port, &args).map_err(|e| e.of_node(name))?;
			spawned.push((validator, rpc_port, process));
		}

		// All nodes run before any is waited for: none finalizes alone.
		let mut nodes = Vec::with_capacity(spawned.len());
		for (validator, rpc_port, process) in spawned {
			let node = TestNode::connect(process, rpc_port)
				.await
				.map_err(|e| e.of_node(validator.name()))?;
			nodes.push((validator, node));
		}
		Ok(Self { nodes })
	}

	/// The node validating as `validator`.
	pub fn node(&self, validator: DevValidator) -> &TestNode {
		self.nodes
			.iter()
			.find(|(v, _)| *v == validator)
			.map(|(_, node)| node)
			.unwrap_or_else(|| panic!("this testnet runs no node for {validator:?}"))
	}
}

/// Runs `openledger-node key <subcommand> --file <path>` and returns what
/// it printed: `generate-node-key` writes a fresh node key to `path` (a
/// validator on a non-dev chain will not make one up), `inspect-node-key`
/// prints the peer id of the key in `path`.
fn node_key_command(subcommand: &str, path: &Path) -> Result<String, StartError> {
	let output = Command::new(NODE_BIN)
		.args(["key", subcommand, "--file"])
		.arg(path)
		.output()
		.map_err(|e| {
			StartError::without_log(format!("cannot run {NODE_BIN} key {subcommand}: {e}"))
		})?;
	if !output.status.success() {
		return Err(StartError::without_log(format!(
			"`key {subcommand}` failed ({}): {}",
			output.status,
			String::from_utf8_lossy(&output.stderr).trim()
		)));
	}
	Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Why [`TestNode::start`] or [`LocalTestnet::start`] failed, with the end
/// of the node's log if it ran.
pub struct StartError {
	reason: String,
	log_tail: Option<String>,
}

impl StartError {
	fn without_log(reason: String) -> Self {
		Self {
			reason,
			log_tail: None,
		}
	}

	fn with_log(reason: String, process: &NodeProcess) -> Self {
		Self {
			reason,
			log_tail: Some(process.log_tail()),
		}
	}

	/// Says which node of a testnet failed.
	fn of_node(mut self, name: &str) -> Self {
		self.reason = format!("{name}'s node: {}", self.reason);
		self
	}
}

impl fmt::Display for StartError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}", self.reason)?;
		if let Some(tail) = &self.log_tail {
			write!(f, "\n--- last lines of the node log ---\n{tail}")?;
		}
		Ok(())
	}
}

// `expect` prints `Debug`; keep the log readable there instead of escaped.
impl fmt::Debug for StartError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		fmt::Display::fmt(self, f)
	}
}

impl std::error::Error for StartError {}

/// The node's process; killing and reaping it on drop is what guarantees
/// no node outlives its test.
struct NodeProcess {
	child: Child,
	log_path: PathBuf,
	// Dropped after `Drop::drop` has reaped the child, so the node never
	// writes into a deleted directory.
	_dir: TempDir,
}

impl NodeProcess {
	/// Runs the node with `chain_args` (which chain, role, networking) plus
	/// the options every test node shares.
	fn spawn(dir: TempDir, rpc_port: u16, chain_args: &[String]) -> Result<Self, StartError> {
		Self::spawn_in(dir, rpc_port, chain_args)
			.map_err(|e| StartError::without_log(format!("cannot run {NODE_BIN}: {e}")))
	}

	fn spawn_in(dir: TempDir, rpc_port: u16, chain_args: &[String]) -> io::Result<Self> {
		let log_path = dir.path().join("node.log");
		let log = File::create(&log_path)?;
		let child = Command::new(NODE_BIN)
			.args(chain_args)
			// Not `--tmp`: the node deletes its own temp dir only on a
			// graceful exit, and we SIGKILL it. Inside `dir`, the chain data
			// goes away with the `TempDir` whatever happens.
			.arg("--base-path")
			.arg(dir.path().join("chain"))
			.arg("--rpc-port")
			.arg(rpc_port.to_string())
			.args(["--rpc-cors", "all"])
			.args([
				"--no-prometheus",
				"--no-telemetry",
				"--no-mdns",
				"--disable-log-color",
			])
			.stdin(Stdio::null())
			.stdout(log.try_clone()?)
			.stderr(log)
			.spawn()?;
		Ok(Self {
			child,
			log_path,
			_dir: dir,
		})
	}

	/// Fails fast when the node died, rather than waiting out the timeout.
	fn ensure_running(&mut self) -> Result<(), String> {
		match self.child.try_wait() {
			Ok(None) => Ok(()),
			Ok(Some(status)) => Err(format!("the node exited early ({status})")),
			Err(e) => Err(format!("cannot poll the node process: {e}")),
		}
	}

	fn log_tail(&self) -> String {
		match std::fs::read(&self.log_path) {
			Ok(bytes) => {
				let text = String::from_utf8_lossy(&bytes);
				let lines: Vec<&str> = text.lines().collect();
				let start = lines.len().saturating_sub(LOG_TAIL_LINES);
				lines[start..].join("\n")
			},
			Err(e) => format!("<cannot read {}: {e}>", self.log_path.display()),
		}
	}
}

impl Drop for NodeProcess {
	fn drop(&mut self) {
		// The chain is throwaway, so no graceful shutdown; waiting makes sure
		// the process is gone, not just signalled, before the test moves on.
		let _ = self.child.kill();
		let _ = self.child.wait();
		if std::thread::panicking() {
			eprintln!(
				"--- last lines of the node log ({}) ---\n{}",
				self.log_path.display(),
				self.log_tail()
			);
		}
	}
}

/// `count` distinct free loopback ports. All listeners stay open until
/// every port is known, so the OS cannot hand out the same one twice. A node
/// may still lose a race for a port to another process; its log then shows
/// it (for RPC it falls back to a random port, which surfaces as a timeout).
pub fn free_ports(count: usize) -> Result<Vec<u16>, StartError> {
	let bind_all = || -> io::Result<Vec<u16>> {
		let listeners = (0..count)
			.map(|_| TcpListener::bind("127.0.0.1:0"))
			.collect::<io::Result<Vec<_>>>()?;
		listeners
			.iter()
			.map(|listener| Ok(listener.local_addr()?.port()))
			.collect()
	};
	bind_all().map_err(|e| StartError::without_log(format!("cannot find free local ports: {e}")))
}

/// A fresh temp dir for one node's chain data, keys and log.
fn node_dir(name: &str) -> Result<TempDir, StartError> {
	tempfile::Builder::new()
		.prefix(&format!("openledger-node-test-{name}-"))
		.tempdir()
		.map_err(|e| StartError::without_log(format!("cannot create a temp dir: {e}")))
}

/// Polls until the RPC server accepts a connection and the finalized block
/// reaches [`MIN_FINALIZED`]; returns the connected RPC client.
async fn wait_until_ready(process: &mut NodeProcess, url: &str) -> Result<RpcClient, String> {
	let deadline = Instant::now() + STARTUP_TIMEOUT;

	let rpc_client = loop {
		process.ensure_running()?;
		// Refused until the node has opened its RPC port.
		if let Ok(Ok(client)) = timeout(RPC_CALL_TIMEOUT, RpcClient::from_insecure_url(url)).await {
			break client;
		}
		if Instant::now() >= deadline {
			return Err(format!("no RPC server at {url} within {STARTUP_TIMEOUT:?}"));
		}
		sleep(POLL_INTERVAL).await;
	};

	let rpc = LegacyRpc::new(rpc_client.clone());
	loop {
		process.ensure_running()?;
		let last_seen = match timeout(RPC_CALL_TIMEOUT, finalized_number(&rpc)).await {
			Ok(Ok(number)) if number >= MIN_FINALIZED => return Ok(rpc_client),
			Ok(Ok(number)) => format!("finalized #{number}"),
			Ok(Err(e)) => format!("RPC error: {e}"),
			Err(_) => format!("no answer within {RPC_CALL_TIMEOUT:?}"),
		};
		if Instant::now() >= deadline {
			return Err(format!(
				"block #{MIN_FINALIZED} not finalized within {STARTUP_TIMEOUT:?} (last seen: {last_seen})"
			));
		}
		sleep(POLL_INTERVAL).await;
	}
}

/// Number of the latest finalized block, via `chain_getFinalizedHead` and
/// `chain_getHeader`.
pub async fn finalized_number(rpc: &LegacyRpc) -> Result<u64, rpcs::Error> {
	let hash = rpc.chain_get_finalized_head().await?;
	let header = rpc.chain_get_header(Some(hash)).await?;
	header
		.map(|header| header.number)
		.ok_or_else(|| rpcs::Error::Client("the finalized head has no header".into()))
}

/// Runs `future`, failing the test if it takes longer than [`TX_TIMEOUT`],
/// so a transaction that is never finalized cannot hang the suite.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
	timeout(TX_TIMEOUT, future)
		.await
		.unwrap_or_else(|_| panic!("{what} took longer than {TX_TIMEOUT:?}"))
}

/// Signs `call` as `signer`, submits it and waits until its block is
/// finalized. Waiting for finality also keeps nonces right: the next
/// transaction is built on the finalized state, which then includes this one.
pub async fn submit_finalized<Call: Payload>(
	client: &Client,
	call: &Call,
	signer: &Keypair,
) -> InBlock {
	within("finalizing a transaction", async {
		client
			.tx()
			.await
			.expect("transaction client at the finalized block")
			.sign_and_submit_then_watch_default(call, signer)
			.await
			.expect("the transaction pool accepts the transaction")
			.wait_for_finalized()
			.await
			.expect("the transaction is finalized")
	})
	.await
}

/// Clients at the parent of the block `tx` landed in and at that block:
/// state compared between the two shows exactly that block's effects.
pub async fn before_and_after(client: &Client, tx: &InBlock) -> (AtBlock, AtBlock) {
	let after = tx.at().await.expect("client at the inclusion block");
	let parent = after
		.block_header()
		.await
		.expect("header of the inclusion block")
		.parent_hash;
	let before = client
		.at_block(parent)
		.await
		.expect("client at the parent block");
	(before, after)
}

#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AccountInfo {
	data: AccountData,
}

/// Only the fields the tests need; decoding skips the rest by name.
#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
struct AccountData {
	free: u128,
	reserved: u128,
}

/// Free balance of `who` (`System.Account`, `data.free`) at block `at`.
pub async fn free_balance(at: &AtBlock, who: &AccountId32) -> u128 {
	let account = dynamic::storage::<(AccountId32,), AccountInfo>("System", "Account");
	let value = at
		.storage()
		.fetch(account, (*who,))
		.await
		.unwrap_or_else(|e| {
			panic!(
				"cannot read System.Account of {who} at #{}: {e}",
				at.block_number()
			)
		});
	value
		.decode()
		.expect("System.Account decodes as AccountInfo")
		.data
		.free
}

/// `TransactionPayment.TransactionFeePaid`: what a signed extrinsic was
/// charged, tip included, after any post-dispatch refund.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub struct TransactionFeePaid {
	pub who: AccountId32,
	pub actual_fee: u128,
	pub tip: u128,
}

impl DecodeAsEvent for TransactionFeePaid {
	fn is_event(pallet: &str, event: &str) -> bool {
		pallet == "TransactionPayment" && event == "TransactionFeePaid"
	}
}

/// The fee event of one extrinsic; every signed extrinsic emits exactly one,
/// whether its call succeeded or failed.
pub fn fee_paid(events: &ExtrinsicEvents<PolkadotConfig>) -> TransactionFeePaid {
	events
		.find_first::<TransactionFeePaid>()
		.expect("the extrinsic emitted TransactionPayment.TransactionFeePaid")
		.expect("TransactionFeePaid decodes")
}

/// What `who` has on hold at block `at` (pallet-balances counts holds as
/// reserved).
pub async fn on_hold(at: &AtBlock, who: &AccountId32) -> u128 {
	let account = dynamic::storage::<(AccountId32,), AccountInfo>("System", "Account");
	at.storage()
		.fetch(account, (*who,))
		.await
		.expect("System.Account is readable")
		.decode()
		.expect("System.Account decodes")
		.data
		.reserved
}

/// The first event `E` the extrinsic in `tx` emitted; panics naming `what`
/// when the extrinsic failed or emitted none.
pub async fn event_of<E: DecodeAsEvent>(tx: &InBlock, what: &str) -> E {
	let events = tx
		.wait_for_success()
		.await
		.unwrap_or_else(|e| panic!("{what} fails: {e}"));
	match events.find_first::<E>() {
		Some(Ok(event)) => event,
		Some(Err(e)) => panic!("{what}'s event does not decode: {e}"),
		None => panic!("{what} emits no such event"),
	}
}

/// The account of a dev key pair.
pub fn id(signer: &Keypair) -> AccountId32 {
	signer.public_key().to_account_id()
}

/// Bonds `amount` of `who`'s OPEN in `role` (`Worker`, `Agent`, ...).
pub async fn bond(node: &TestNode, who: &Keypair, role: &str, amount: u128) {
	let call = dynamic::tx(
		"Staking",
		"bond",
		(dynamic::Value::unnamed_variant(role, []), amount),
	);
	submit_finalized(&node.client, &call, who)
		.await
		.wait_for_success()
		.await
		.unwrap_or_else(|e| panic!("bonding as {role} fails: {e}"));
}

/// Reads storage entry `pallet.entry` at `key`, `None` when absent.
///
/// The pallets also answer these reads through view functions, but subxt
/// 0.50 (frame-decode 0.17) sends a view function's inputs without the
/// `Vec<u8>` length prefix that `RuntimeViewFunction_execute_view_function`
/// expects, and decodes its answer without unwrapping the `Result<Vec<u8>>`,
/// so those calls fail against any stable2609 runtime.
pub async fn fetch<K, V>(at: &AtBlock, pallet: &str, entry: &str, key: K) -> Option<V>
where
	K: subxt::ext::frame_decode::storage::IntoEncodableValues
		+ subxt::ext::frame_decode::storage::IntoDecodableValues,
	V: DecodeAsType,
{
	at.storage()
		.try_fetch(dynamic::storage::<K, V>(pallet, entry), key)
		.await
		.unwrap_or_else(|e| panic!("{pallet}.{entry} is readable: {e}"))
		.map(|value| value.decode().expect("the stored value decodes"))
}

/// `bytes` as `0x`-prefixed lowercase hex, as JSON-RPC and polkadot.js print
/// hashes.
pub fn hex(bytes: &[u8]) -> String {
	let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
	format!("0x{digits}")
}
