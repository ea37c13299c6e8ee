//! `openledger-worker serve --model <gguf|dir>`: the OpenLoRA HTTP server.
//! `openledger-worker train --model <base> --manifest <json> --out <dir>`:
//! ModelFactory, a LoRA adapter fine-tuned on a datanet version, with its
//! attribution indexes.
//! `openledger-worker attribute --model <base> --adapter <dir> --method gradient|span --prompt <text>`:
//! the receipt of one inference, as JSON.
//! `openledger-worker verify --model <base> --adapter <dir> --receipt <json>`:
//! recomputes a receipt; exit status 0 when it matches, 1 when it does not.
//! `openledger-worker work --node <ws> --adapter <model>=<dir> --state-dir <dir> [--verify --peer <url>]`:
//! serves on-chain requests and submits their receipts; with `--verify`
//! also re-executes other workers' receipts and challenges wrong ones.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use candle_core::Device;
use clap::{Args, Parser, Subcommand};
use openledger_inference_worker::adapters::{AdapterLimits, AdapterRegistry, BaseModelInfo};
use openledger_inference_worker::attribution::gradient::ProjectionParams;
use openledger_inference_worker::attribution::indexes::AdapterIndexes;
use openledger_inference_worker::attribution::receipt::{
	generate_greedily, AttributedAdapter, InferenceReceipt,
};
use openledger_inference_worker::blobs::BlobStore;
use openledger_inference_worker::chain::factory::{fetch_datanet_version, BlobSource, Publication};
use openledger_inference_worker::chain::service::{ChainWorker, ServiceConfig};
use openledger_inference_worker::chain::verifier::Verifier;
use openledger_inference_worker::chain::{keypair_from_uri, Chain};
use openledger_inference_worker::engine::chat::ChatTemplate;
use openledger_inference_worker::engine::tokenizer::TextTokenizer;
use openledger_inference_worker::engine::{
	Llama, LoadOptions, LoraStorage, LoraTarget, WeightFormat,
};
use openledger_inference_worker::factory::{self, DatanetVersion, TrainConfig, TrainingReport};
use openledger_inference_worker::hex::hex_hash;
use openledger_inference_worker::http::{self, AppState};
use openledger_inference_worker::serving::{Scheduler, ServingConfig};
use openledger_primitives::attribution::Method;
use serde::{Deserialize, Serialize};

#[derive(Parser)]
#[command(
	name = "openledger-worker",
	version,
	about = "OpenLedger inference worker (OpenLoRA)"
)]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Serve a base model and its LoRA adapters over an OpenAI-compatible API.
	Serve(ServeArgs),
	/// Fine-tune a LoRA adapter on a datanet version's verified payloads.
	Train(TrainArgs),
	/// Attribute one inference of a trained adapter and print its receipt (JSON).
	Attribute(AttributeArgs),
	/// Recompute a receipt and say whether it matches (exit status 1 if not).
	Verify(VerifyArgs),
	/// Serve on-chain inference requests: bond, serve the models, take
	/// prompts over HTTP, submit attributed receipts.
	Work(WorkArgs),
	/// Publish a trained adapter as a model's next version on chain.
	Publish(PublishArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Weights {
	Dense,
	Int4,
	Int8,
	Quantized,
	AsStored,
}

#[derive(Args)]
struct ServeArgs {
	#[command(flatten)]
	base: BaseModelArgs,
	/// Other names adapters may give as their base model.
	#[arg(long = "base-alias")]
	base_aliases: Vec<String>,
	#[arg(long, default_value = "127.0.0.1")]
	host: String,
	#[arg(long, default_value_t = 8000)]
	port: u16,
	/// Registers every adapter directory inside (loaded on first use).
	#[arg(long)]
	adapter_dir: Option<PathBuf>,
	/// Loads an adapter at start-up, as `NAME=PATH`; repeatable.
	#[arg(long = "lora", value_name = "NAME=PATH")]
	loras: Vec<String>,
	#[arg(long, default_value_t = 64)]
	max_lora_rank: usize,
	/// Memory for resident adapters, in MiB.
	#[arg(long, default_value_t = 512)]
	adapter_cache_mib: usize,
	/// Sequences decoded together in one forward pass.
	#[arg(long, default_value_t = 32)]
	max_batch: usize,
	/// Requests accepted at once; more are refused with 429.
	#[arg(long, default_value_t = 128)]
	max_in_flight: usize,
	/// Prompt tokens fed per batch step.
	#[arg(long, default_value_t = 512)]
	prefill_chunk: usize,
	/// `max_tokens` for requests that give none.
	#[arg(long, default_value_t = 512)]
	default_max_tokens: usize,
	/// How resident adapters are kept: `int8` (8-bit rows with a scale
	/// each, the default), `bf16` (twice the memory) or `f32` (four times,
	/// exact).
	#[arg(long, default_value = "int8", value_parser = parse_storage)]
	adapter_storage: LoraStorage,
	/// Refuse `/v1/load_lora_adapter` and `/v1/unload_lora_adapter`.
	#[arg(long)]
	no_runtime_lora: bool,
	/// How weight matrices are held: `int4` (GGUF Q4_0/Q4_1 kept 4-bit,
	/// other matrices 8-bit, f32 activations; CPU), `int8` (8-bit weights,
	/// f32 activations; CPU), `dense` (f32), `quantized` (candle's GGUF
	/// kernels, Q4_1/Q5_x re-encoded as Q8_0 on the CPU) or `as-stored`. By
	/// default int4 for GGUF on the CPU, quantized for GGUF on a GPU, dense
	/// for safetensors.
	#[arg(long, value_enum)]
	weights: Option<Weights>,
	/// Where `PUT`/`GET /v1/blobs/{hash}` keep datanet payloads (the
	/// factory's blob directory); without it the blob routes are off.
	#[arg(long)]
	blob_dir: Option<PathBuf>,
	/// Largest blob accepted, in MiB.
	#[arg(long, default_value_t = 64)]
	max_blob_mib: usize,
}

fn main() -> Result<()> {
	openledger_inference_worker::engine::prefer_engine_threads();
	// Logs go to stderr: `attribute` prints its receipt on stdout.
	tracing_subscriber::fmt()
		.with_writer(std::io::stderr)
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.init();
	match Cli::parse().command {
		Command::Serve(args) => serve(args),
		Command::Train(args) => train(args),
		Command::Attribute(args) => attribute(args),
		Command::Verify(args) => verify(args),
		Command::Work(args) => work(args),
		Command::Publish(args) => publish(args),
	}
}

fn parse_device(name: &str) -> Result<Device> {
	match name.split_once(':') {
		None if name == "cpu" => Ok(Device::Cpu),
		None if name == "cuda" => Ok(Device::new_cuda(0)?),
		Some(("cuda", index)) => Ok(Device::new_cuda(
			index.parse().context("cuda device index")?,
		)?),
		_ => bail!("unknown device `{name}`; use cpu or cuda:N"),
	}
}

fn parse_storage(name: &str) -> std::result::Result<LoraStorage, String> {
	LoraStorage::from_name(name)
		.ok_or_else(|| format!("unknown adapter storage `{name}`; use int8, bf16 or f32"))
}

/// `SmolLM2-135M-Instruct.Q4_1.gguf` → `SmolLM2-135M-Instruct`.
fn default_model_id(path: &Path) -> String {
	let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("model");
	let stem = name.strip_suffix(".gguf").unwrap_or(name);
	match stem.rsplit_once('.') {
		Some((base, quant)) if quant.starts_with(['Q', 'q', 'F', 'f', 'B', 'b']) => {
			base.to_string()
		},
		_ => stem.to_string(),
	}
}

fn serve(args: ServeArgs) -> Result<()> {
	let format = args.weights.map(|w| match w {
		Weights::Dense => WeightFormat::Dense,
		Weights::Int4 => WeightFormat::Int4,
		Weights::Int8 => WeightFormat::Int8,
		Weights::Quantized => WeightFormat::Quantized,
		Weights::AsStored => WeightFormat::AsStored,
	});
	let started = std::time::Instant::now();
	let (model, tokenizer) = args.base.load_as(format)?;
	let chat_template =
		ChatTemplate::for_tokenizer(&tokenizer).context("compiling the chat template")?;
	let model_id = args.base.id();
	tracing::info!(
		model = %model_id,
		bytes = model.size_in_bytes(),
		seconds = started.elapsed().as_secs_f32(),
		"base model ready"
	);

	let base = args.base.info(&model, args.base_aliases.clone());
	let limits = AdapterLimits {
		max_rank: args.max_lora_rank,
		cache_bytes: args.adapter_cache_mib << 20,
		storage: args.adapter_storage,
	};
	let registry = Arc::new(AdapterRegistry::new(base, limits));
	if let Some(dir) = &args.adapter_dir {
		let found = registry
			.discover(dir)
			.with_context(|| format!("scanning {}", dir.display()))?;
		tracing::info!(dir = %dir.display(), found, "adapters registered");
	}
	for spec in &args.loras {
		let (name, path) = spec
			.split_once('=')
			.with_context(|| format!("--lora `{spec}` is not NAME=PATH"))?;
		registry
			.load(name, Path::new(path), false)
			.with_context(|| format!("loading adapter `{name}`"))?;
	}

	let serving = ServingConfig {
		max_batch: args.max_batch,
		max_in_flight: args.max_in_flight,
		prefill_chunk: args.prefill_chunk,
	};
	let tokenizer = Arc::new(tokenizer);
	let scheduler = Scheduler::start(Arc::new(model), tokenizer.clone(), serving);
	let state = Arc::new(AppState {
		model_id,
		scheduler,
		registry,
		tokenizer,
		chat_template,
		default_max_tokens: args.default_max_tokens,
		runtime_lora_updates: !args.no_runtime_lora,
		created: http::unix_now(),
	});

	let mut routes = http::router(state);
	if let Some(dir) = &args.blob_dir {
		let store = BlobStore::open(dir, args.max_blob_mib.saturating_mul(1 << 20))
			.with_context(|| format!("opening the blob store {}", dir.display()))?;
		tracing::info!(dir = %dir.display(), "serving blobs");
		routes = routes.merge(http::blob_routes(Arc::new(store)));
	}

	let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
	runtime.block_on(async move {
		let address = format!("{}:{}", args.host, args.port);
		let listener = tokio::net::TcpListener::bind(&address)
			.await
			.with_context(|| format!("binding {address}"))?;
		tracing::info!(address = %listener.local_addr()?, "serving the OpenAI-compatible API");
		let shutdown = async {
			let _ = tokio::signal::ctrl_c().await;
			tracing::info!("shutting down");
		};
		http::serve_router(listener, routes, shutdown)
			.await
			.context("serving HTTP")
	})
}

/// The base model every command loads.
#[derive(Args)]
struct BaseModelArgs {
	/// The base model: a `.gguf` file, or a directory with `config.json` and safetensors.
	#[arg(long)]
	model: PathBuf,
	/// A `tokenizer.json`; by default the GGUF's own or the one beside the weights.
	#[arg(long)]
	tokenizer: Option<PathBuf>,
	/// The base model's id: what clients name it and adapters' `base_model_name_or_path`; by default the model file's name.
	#[arg(long)]
	model_id: Option<String>,
	/// `cpu` or `cuda:N` (needs the `cuda` feature).
	#[arg(long, default_value = "cpu")]
	device: String,
}

impl BaseModelArgs {
	fn id(&self) -> String {
		self.model_id
			.clone()
			.unwrap_or_else(|| default_model_id(&self.model))
	}

	/// The model in its default weight format for the device, and its tokenizer.
	fn load(&self) -> Result<(Llama, TextTokenizer)> {
		self.load_as(None)
	}

	/// The model with its weights held as `format` (the device's default
	/// when `None`), and its tokenizer.
	fn load_as(&self, format: Option<WeightFormat>) -> Result<(Llama, TextTokenizer)> {
		let options = LoadOptions {
			device: parse_device(&self.device)?,
			format,
		};
		let model = Llama::load(&self.model, &options)
			.with_context(|| format!("loading {}", self.model.display()))?;
		let tokenizer =
			TextTokenizer::for_model(&self.model, self.tokenizer.as_deref(), model.config())
				.context("loading the tokenizer")?;
		Ok((model, tokenizer))
	}

	/// What adapters are checked against: this model under its id.
	fn info(&self, model: &Llama, aliases: Vec<String>) -> BaseModelInfo {
		BaseModelInfo {
			id: self.id(),
			aliases,
			config: model.config().clone(),
			device: model.device().clone(),
		}
	}
}

#[derive(Args)]
struct TrainArgs {
	#[command(flatten)]
	base: BaseModelArgs,
	/// The datanet version's manifest (JSON).
	#[arg(
		long,
		required_unless_present = "datanet_version",
		conflicts_with = "datanet_version"
	)]
	manifest: Option<PathBuf>,
	/// A datanet version published on chain, as `DATANET:VERSION`: its
	/// contributions are read from the node and their payloads fetched by
	/// content hash from `--blobs` and `--blob-url`.
	#[arg(long, value_name = "DATANET:VERSION", requires = "node")]
	datanet_version: Option<String>,
	/// The node's JSON-RPC endpoint, for `--datanet-version`.
	#[arg(long)]
	node: Option<String>,
	/// Where payloads named by their hex content hash are; overrides the manifest's `blob_dir`.
	#[arg(long)]
	blobs: Option<PathBuf>,
	/// A worker's HTTP API serving `/v1/blobs/{hash}`, asked for the
	/// payloads of `--datanet-version` after `--blobs`; repeatable.
	#[arg(long = "blob-url", value_name = "URL", requires = "datanet_version")]
	blob_urls: Vec<String>,
	/// The adapter directory to write (PEFT format plus `training_report.json`).
	#[arg(long)]
	out: PathBuf,
	#[arg(long)]
	lr: Option<f64>,
	#[arg(long)]
	epochs: Option<u32>,
	#[arg(long)]
	rank: Option<usize>,
	#[arg(long)]
	alpha: Option<f64>,
	#[arg(long)]
	use_rslora: bool,
	#[arg(long)]
	batch_size: Option<usize>,
	#[arg(long)]
	seed: Option<u64>,
	#[arg(long)]
	max_seq_len: Option<usize>,
	/// Share of examples held out for evaluation (0: evaluate on the training set).
	#[arg(long)]
	holdout: Option<f64>,
	#[arg(long)]
	weight_decay: Option<f64>,
	/// Comma-separated PEFT module names, e.g. `q_proj,v_proj`.
	#[arg(long, value_delimiter = ',')]
	targets: Vec<String>,
	/// Dimension of the gradient index's random projection.
	#[arg(long, default_value_t = 256)]
	projection_dim: u32,
	/// Seed of the random projection; by default the training seed.
	#[arg(long)]
	projection_seed: Option<u64>,
	/// Fractional bits of the gradient index's fixed-point numbers.
	#[arg(long, default_value_t = 16)]
	frac_bits: u8,
	/// DataInf damping λ of gradient scores (0: plain TracIn).
	#[arg(long, default_value_t = 0.25)]
	lambda: f64,
}

impl TrainArgs {
	fn projection(&self, config: &TrainConfig) -> ProjectionParams {
		ProjectionParams {
			seed: self.projection_seed.unwrap_or(config.seed),
			dim: self.projection_dim,
			frac_bits: self.frac_bits,
		}
	}

	/// λ in the index's fixed point.
	fn lambda_fp(&self) -> Result<u32> {
		let scaled = (self.lambda * f64::from(1u32 << self.frac_bits.min(31))).round();
		if !(0.0..=f64::from(u32::MAX)).contains(&scaled) {
			bail!(
				"--lambda {} does not fit the index's fixed point",
				self.lambda
			);
		}
		Ok(scaled as u32)
	}

	fn config(&self) -> Result<TrainConfig> {
		let defaults = TrainConfig::default();
		let target_modules = if self.targets.is_empty() {
			defaults.target_modules.clone()
		} else {
			self.targets
				.iter()
				.map(|name| {
					LoraTarget::from_module_name(name.trim()).with_context(|| {
						format!("unknown target module `{name}`; use q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj")
					})
				})
				.collect::<Result<_>>()?
		};
		Ok(TrainConfig {
			lr: self.lr.unwrap_or(defaults.lr),
			batch_size: self.batch_size.unwrap_or(defaults.batch_size),
			epochs: self.epochs.unwrap_or(defaults.epochs),
			rank: self.rank.unwrap_or(defaults.rank),
			alpha: self.alpha.unwrap_or(defaults.alpha),
			use_rslora: self.use_rslora,
			target_modules,
			seed: self.seed.unwrap_or(defaults.seed),
			max_seq_len: self.max_seq_len.unwrap_or(defaults.max_seq_len),
			holdout_fraction: self.holdout.unwrap_or(defaults.holdout_fraction),
			weight_decay: self.weight_decay.unwrap_or(defaults.weight_decay),
		})
	}
}

impl TrainArgs {
	/// The datanet version to train on: the manifest's, or the chain's with
	/// payloads fetched by hash.
	fn load_version(&self) -> Result<DatanetVersion> {
		let (Some(spec), Some(node)) = (&self.datanet_version, &self.node) else {
			let manifest = self
				.manifest
				.as_deref()
				.context("give --manifest or --datanet-version")?;
			return DatanetVersion::load(manifest, self.blobs.as_deref())
				.with_context(|| format!("reading {}", manifest.display()));
		};
		let parse = |part: &str| -> Result<u32> {
			part.parse()
				.with_context(|| format!("--datanet-version takes DATANET:VERSION, got `{spec}`"))
		};
		let (datanet, version) = spec
			.split_once(':')
			.with_context(|| format!("--datanet-version takes DATANET:VERSION, got `{spec}`"))?;
		let (datanet, version) = (parse(datanet)?, parse(version)?);
		let mut sources = Vec::new();
		if let Some(dir) = &self.blobs {
			sources.push(BlobSource::Store(BlobStore::open(dir, usize::MAX)?));
		}
		sources.extend(self.blob_urls.iter().cloned().map(BlobSource::Peer));
		let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
		runtime.block_on(async {
			let chain = Chain::read_only(node).await?;
			fetch_datanet_version(&chain, datanet, version, &sources)
				.await
				.with_context(|| {
					format!("fetching datanet {datanet} version {version} from {node}")
				})
		})
	}
}

fn train(args: TrainArgs) -> Result<()> {
	let config = args.config()?;
	config.validate()?;
	let version = args.load_version()?;
	let (model, tokenizer) = args.base.load()?;
	let lambda_fp = args.lambda_fp()?;
	let examples = version.examples(&tokenizer, config.max_seq_len)?;
	let split = factory::split_examples(examples.clone(), config.holdout_fraction, config.seed)?;
	let outcome = factory::train(&model, split, &config, factory::Progress::Terminal)?;
	let indexes = AdapterIndexes::build(
		&model,
		&outcome.checkpoints,
		&outcome.train_examples,
		&examples,
		args.projection(&config),
		lambda_fp,
	)
	.context("building the attribution indexes")?;
	let base_model = args.base.id();
	let report = factory::write_training_output(
		&args.out,
		&outcome,
		&version,
		&config,
		&base_model,
		Some(&indexes),
	)
	.with_context(|| format!("writing {}", args.out.display()))?;
	print_summary(&report, &args.out);
	let root = indexes.summary();
	println!(
		"attribution index root {} (gradient {}, span {}): publish it with the adapter",
		root.attribution_index_root, root.gradient.root, root.span.root
	);
	Ok(())
}

fn print_summary(report: &TrainingReport, out: &Path) {
	let held_out = if report.held_out_is_training_set {
		"training set (nothing held out)"
	} else {
		"held out"
	};
	println!(
		"datanet {} version {} (merkle root {}): {} contributions, {} bytes",
		report.datanet,
		report.version,
		report.dataset_merkle_root,
		report.contributions,
		report.payload_bytes
	);
	println!(
		"examples: {} training ({} tokens), {} held out ({} tokens)",
		report.train_examples,
		report.train_tokens,
		report.held_out_examples,
		report.held_out_tokens
	);
	for (split, before, after) in [
		("train", report.before.train, report.after.train),
		(held_out, report.before.held_out, report.after.held_out),
	] {
		println!(
			"{split}: loss {:.4} -> {:.4}, perplexity {:.2} -> {:.2}",
			before.mean_loss, after.mean_loss, before.perplexity, after.perplexity
		);
	}
	println!(
		"{} steps in {:.1} s; epoch losses {:?}",
		report.steps, report.wall_time_secs, report.epoch_train_loss
	);
	println!(
		"adapter {} written to {}",
		report.adapter_hash,
		out.display()
	);
}

/// The base model and adapter a receipt is computed with.
#[derive(Args)]
struct AdapterArgs {
	/// The base model the adapter was trained on, loaded as `train` loads it.
	#[command(flatten)]
	base: BaseModelArgs,
	/// The adapter directory `train` wrote (adapter, indexes, report).
	#[arg(long)]
	adapter: PathBuf,
}

/// A base model, its tokenizer and an adapter loaded for attribution.
struct LoadedForAttribution {
	model: Llama,
	tokenizer: TextTokenizer,
	adapter: AttributedAdapter,
}

impl AdapterArgs {
	fn load(&self) -> Result<LoadedForAttribution> {
		let (model, tokenizer) = self.base.load()?;
		let base = self.base.info(&model, Vec::new());
		let adapter = AttributedAdapter::load(&self.adapter, &base)
			.with_context(|| format!("loading the adapter {}", self.adapter.display()))?;
		Ok(LoadedForAttribution {
			model,
			tokenizer,
			adapter,
		})
	}
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MethodArg {
	Gradient,
	Span,
}

impl From<MethodArg> for Method {
	fn from(method: MethodArg) -> Self {
		match method {
			MethodArg::Gradient => Method::Gradient,
			MethodArg::Span => Method::Span,
		}
	}
}

#[derive(Args)]
struct AttributeArgs {
	#[command(flatten)]
	adapter: AdapterArgs,
	#[arg(long, value_enum)]
	method: MethodArg,
	/// The prompt, tokenized with the tokenizer's special tokens as training examples are.
	#[arg(long)]
	prompt: String,
	/// The output to attribute; without it the adapter generates one greedily.
	#[arg(long)]
	output: Option<String>,
	/// Most tokens generated when no `--output` is given.
	#[arg(long, default_value_t = 32)]
	max_tokens: usize,
}

/// What `attribute` prints and `verify` reads: the receipt, with the prompt
/// and output as text for people (the tokens are what is checked).
#[derive(Serialize, Deserialize)]
struct ReceiptFile {
	#[serde(default)]
	prompt: String,
	#[serde(default)]
	output: String,
	#[serde(flatten)]
	receipt: InferenceReceipt,
}

fn attribute(args: AttributeArgs) -> Result<()> {
	let loaded = args.adapter.load()?;
	let prompt_tokens = loaded.tokenizer.encode(&args.prompt, true)?;
	let output_tokens = match &args.output {
		Some(text) => loaded.tokenizer.encode(text, false)?,
		None => generate_greedily(
			&loaded.model,
			&loaded.adapter.lora,
			&loaded.tokenizer,
			&prompt_tokens,
			args.max_tokens,
		)?,
	};
	let receipt = loaded
		.adapter
		.attribute(
			&loaded.model,
			args.method.into(),
			&prompt_tokens,
			&output_tokens,
		)
		.context("attributing the output")?;
	let file = ReceiptFile {
		prompt: args.prompt,
		output: loaded.tokenizer.decode(&output_tokens)?,
		receipt,
	};
	println!("{}", serde_json::to_string_pretty(&file)?);
	Ok(())
}

#[derive(Args)]
struct VerifyArgs {
	#[command(flatten)]
	adapter: AdapterArgs,
	/// A receipt as `attribute` prints it.
	#[arg(long)]
	receipt: PathBuf,
}

fn verify(args: VerifyArgs) -> Result<()> {
	let text = std::fs::read_to_string(&args.receipt)
		.with_context(|| format!("reading {}", args.receipt.display()))?;
	let claimed: ReceiptFile = serde_json::from_str(&text)
		.with_context(|| format!("{} is not a receipt", args.receipt.display()))?;
	let loaded = args.adapter.load()?;
	let check = loaded
		.adapter
		.verify(&loaded.model, &claimed.receipt)
		.context("recomputing the receipt")?;
	if check.matches() {
		println!("match: result hash {:?}", check.expected.result_hash);
		return Ok(());
	}
	let fields: Vec<&str> = check.differing.iter().map(|field| field.name()).collect();
	println!("mismatch: {}", fields.join(", "));
	println!(
		"recomputed receipt:\n{}",
		serde_json::to_string_pretty(&check.expected)?
	);
	std::process::exit(1);
}

#[derive(Args)]
struct WorkArgs {
	/// The base model the adapters were trained on, loaded as `train` loads it.
	#[command(flatten)]
	base: BaseModelArgs,
	/// The node's JSON-RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	node: String,
	/// The worker's account: a secret URI (`//Ferdie`, a mnemonic, a 0x
	/// seed). Also read from OPENLEDGER_WORKER_SURI.
	#[arg(long, env = "OPENLEDGER_WORKER_SURI", hide_env_values = true)]
	suri: String,
	/// A model to serve and the adapter directory `train` wrote for it, as
	/// `MODEL_ID=PATH`; repeatable.
	#[arg(long = "adapter", value_name = "MODEL_ID=PATH", required = true)]
	adapters: Vec<String>,
	/// OPEN (in plancks) to keep bonded as a worker; bonds the difference
	/// at start-up.
	#[arg(long, default_value_t = 1_000 * openledger_primitives::token::OPEN)]
	bond: u128,
	#[arg(long, value_enum, default_value = "span")]
	method: MethodArg,
	/// The most tokens one request generates.
	#[arg(long, default_value_t = 128)]
	max_tokens: usize,
	/// Blocks a voucher-paid inference waits, at most, before the worker
	/// settles it in a batch.
	#[arg(long, default_value_t = 10)]
	batch_every: u32,
	/// The journal of accepted and submitted requests, the voucher ledger
	/// and the receipt records, kept across restarts.
	#[arg(long)]
	state_dir: PathBuf,
	/// Verifier mode: re-execute the receipts other workers submit for
	/// these models, challenge wrong ones, and answer the challenges this
	/// worker is drawn to verify.
	#[arg(long)]
	verify: bool,
	/// A worker's HTTP API (`http://host:port`) to fetch receipt records
	/// from in verifier mode; repeatable.
	#[arg(long = "peer", value_name = "URL", requires = "verify")]
	peers: Vec<String>,
	#[arg(long, default_value = "127.0.0.1")]
	host: String,
	#[arg(long, default_value_t = 8100)]
	port: u16,
}

fn work(args: WorkArgs) -> Result<()> {
	let (model, tokenizer) = args.base.load()?;
	let base = args.base.info(&model, Vec::new());
	let mut adapters = std::collections::BTreeMap::new();
	for spec in &args.adapters {
		let Some((id, path)) = spec.split_once('=') else {
			bail!("--adapter takes MODEL_ID=PATH, got `{spec}`");
		};
		let id: u32 = id
			.parse()
			.with_context(|| format!("`{id}` in --adapter {spec} is not a model id"))?;
		let adapter = AttributedAdapter::load(Path::new(path), &base)
			.with_context(|| format!("loading the adapter {path}"))?;
		adapters.insert(id, Arc::new(adapter));
	}
	let signer = keypair_from_uri(&args.suri)?;
	std::fs::create_dir_all(&args.state_dir)
		.with_context(|| format!("creating {}", args.state_dir.display()))?;
	let config = ServiceConfig {
		method: args.method.into(),
		max_tokens: args.max_tokens,
		batch_every: args.batch_every,
	};

	let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
	runtime.block_on(async move {
		let chain = Arc::new(Chain::connect(&args.node, signer).await?);
		tracing::info!(node = %args.node, account = %chain.account(), "connected");
		let (model, tokenizer) = (Arc::new(model), Arc::new(tokenizer));
		let mut worker = ChainWorker::new(
			chain.clone(),
			model.clone(),
			tokenizer.clone(),
			adapters.clone(),
			config,
			args.state_dir.clone(),
		)
		.await?;
		if args.verify {
			let verifier = Verifier::new(
				chain,
				model,
				tokenizer,
				adapters,
				args.peers.clone(),
				args.state_dir.clone(),
			)
			.context("opening the verifier's record directory")?;
			worker = worker.with_verifier(Arc::new(verifier));
			tracing::info!(peers = ?args.peers, "verifying others' receipts");
		}
		worker.register(args.bond).await?;
		let models: Vec<u32> = worker.models().collect();
		tracing::info!(?models, "bonded and serving");
		let resumed = worker.resume().await?;
		if !resumed.is_empty() {
			tracing::info!(
				count = resumed.len(),
				"resumed requests accepted before a restart"
			);
		}
		let worker = Arc::new(worker);
		tokio::spawn(worker.clone().watch());

		let address = format!("{}:{}", args.host, args.port);
		let listener = tokio::net::TcpListener::bind(&address)
			.await
			.with_context(|| format!("binding {address}"))?;
		tracing::info!(address = %listener.local_addr()?, "taking prompts for on-chain requests");
		let shutdown = async {
			let _ = tokio::signal::ctrl_c().await;
			tracing::info!("shutting down");
		};
		http::serve_router(listener, http::inference_routes(worker), shutdown)
			.await
			.context("serving HTTP")
	})
}

#[derive(Args)]
struct PublishArgs {
	/// The node's JSON-RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	node: String,
	/// The publisher's account (the model's proposer or trainer): a secret
	/// URI. Also read from OPENLEDGER_WORKER_SURI.
	#[arg(long, env = "OPENLEDGER_WORKER_SURI", hide_env_values = true)]
	suri: String,
	/// The approved model the adapter is for.
	#[arg(long)]
	model: u32,
	/// The adapter directory `train` wrote.
	#[arg(long)]
	adapter: PathBuf,
	/// Where workers can fetch the adapter directory.
	#[arg(long)]
	uri: String,
}

fn publish(args: PublishArgs) -> Result<()> {
	let publication = Publication::of_adapter(&args.adapter)
		.with_context(|| format!("reading the adapter {}", args.adapter.display()))?;
	let signer = keypair_from_uri(&args.suri)?;
	let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
	runtime.block_on(async {
		let chain = Chain::connect(&args.node, signer).await?;
		chain
			.publish_adapter(args.model, &publication, &args.uri)
			.await
			.with_context(|| format!("publishing the adapter of model {}", args.model))
	})?;
	println!(
		"model {} deploys adapter {} (attribution index root {}, training report {})",
		args.model,
		hex_hash(&publication.adapter_hash.0),
		hex_hash(&publication.attribution_index_root.0),
		hex_hash(&publication.training_report_hash.0)
	);
	Ok(())
}
