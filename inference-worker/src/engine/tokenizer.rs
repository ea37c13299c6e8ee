//! Text ⇄ token ids: a Hugging Face `tokenizer.json`, or the GPT-2 style
//! byte-level BPE stored in GGUF metadata (`tokenizer.ggml.tokens` /
//! `merges`), plus the special tokens and chat template that come with it.

use std::path::Path;

use candle_core::quantized::gguf_file;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use super::weights::gguf_meta;
use super::{io_error, EngineError, ModelConfig, Result};

/// Names that end generation in the chat formats we know, whatever id the
/// config names as EOS.
const END_OF_TURN_TOKENS: [&str; 5] = [
	"<|im_end|>",
	"<|endoftext|>",
	"<|eot_id|>",
	"<|end_of_text|>",
	"</s>",
];

/// A tokenizer with the model's special tokens and chat template.
#[derive(Clone, Debug)]
pub struct TextTokenizer {
	inner: Tokenizer,
	eos_ids: Vec<u32>,
	bos_token: Option<String>,
	eos_token: Option<String>,
	chat_template: Option<String>,
}

impl TextTokenizer {
	/// The tokenizer that belongs to a model: `explicit` if given, else the
	/// GGUF's own, else `tokenizer.json` next to the weights.
	pub fn for_model(model: &Path, explicit: Option<&Path>, config: &ModelConfig) -> Result<Self> {
		if let Some(path) = explicit {
			return Self::from_json_file(path, config);
		}
		if model.extension().is_some_and(|e| e == "gguf") {
			let mut file = std::fs::File::open(model).map_err(io_error(model))?;
			let content = gguf_file::Content::read(&mut file)
				.map_err(|e| EngineError::Tokenizer(format!("{}: {e}", model.display())))?;
			return Self::from_gguf(&content);
		}
		let dir = if model.is_dir() {
			model
		} else {
			model.parent().unwrap_or(Path::new("."))
		};
		Self::from_json_file(&dir.join("tokenizer.json"), config)
	}

	/// Reads `tokenizer.json`, and `tokenizer_config.json` beside it for
	/// the chat template and special tokens when present.
	pub fn from_json_file(path: &Path, config: &ModelConfig) -> Result<Self> {
		let inner = Tokenizer::from_file(path)
			.map_err(|e| EngineError::Tokenizer(format!("{}: {e}", path.display())))?;
		let side = path.with_file_name("tokenizer_config.json");
		let side: serde_json::Value = match std::fs::read_to_string(&side) {
			Ok(json) => serde_json::from_str(&json)
				.map_err(|e| EngineError::Tokenizer(format!("{}: {e}", side.display())))?,
			Err(_) => serde_json::Value::Null,
		};
		let token_text = |key: &str| match side.get(key) {
			Some(serde_json::Value::String(s)) => Some(s.clone()),
			Some(v) => v
				.get("content")
				.and_then(|c| c.as_str())
				.map(str::to_string),
			None => None,
		};
		let chat_template = side
			.get("chat_template")
			.and_then(|t| t.as_str())
			.map(str::to_string);
		let eos_token = token_text("eos_token");
		let mut eos_ids = config.eos_token_ids.clone();
		if let Some(id) = eos_token.as_deref().and_then(|t| inner.token_to_id(t)) {
			eos_ids.push(id);
		}
		Ok(Self::from_parts(
			inner,
			eos_ids,
			token_text("bos_token"),
			eos_token,
			chat_template,
		))
	}

	/// Builds the byte-level BPE described by GGUF metadata.
	pub fn from_gguf(content: &gguf_file::Content) -> Result<Self> {
		let meta = gguf_meta(content);
		let tok_err = |e: EngineError| EngineError::Tokenizer(e.to_string());
		let model = meta.string("tokenizer.ggml.model").map_err(tok_err)?;
		if model != "gpt2" {
			return Err(EngineError::Unsupported(format!(
				"GGUF tokenizer model `{model}` (only byte-level BPE `gpt2`)"
			)));
		}
		let tokens = meta.strings("tokenizer.ggml.tokens").map_err(tok_err)?;
		let merges = meta
			.strings("tokenizer.ggml.merges")
			.map_err(tok_err)?
			.into_iter()
			.map(|m| {
				m.split_once(' ')
					.map(|(a, b)| (a.to_string(), b.to_string()))
					.ok_or_else(|| EngineError::Tokenizer(format!("merge `{m}` is not two tokens")))
			})
			.collect::<Result<Vec<_>>>()?;
		let types = meta
			.integers("tokenizer.ggml.token_type")
			.unwrap_or_default();
		let pre = meta
			.string("tokenizer.ggml.pre")
			.unwrap_or_else(|_| "gpt2".into());
		let inner = byte_level_bpe(&tokens, merges, &types, &pre)?;
		let id = |key: &str| meta.usize(key).ok().map(|v| v as u32);
		let name = |id: Option<u32>| id.and_then(|i| tokens.get(i as usize).cloned());
		let bos_id = id("tokenizer.ggml.bos_token_id");
		let eos_id = id("tokenizer.ggml.eos_token_id");
		Ok(Self::from_parts(
			inner,
			eos_id.into_iter().collect(),
			name(bos_id),
			name(eos_id),
			meta.string("tokenizer.chat_template").ok(),
		))
	}

	/// From a built tokenizer and what the model says about its tokens.
	pub fn from_parts(
		inner: Tokenizer,
		mut eos_ids: Vec<u32>,
		bos_token: Option<String>,
		eos_token: Option<String>,
		chat_template: Option<String>,
	) -> Self {
		eos_ids.extend(
			END_OF_TURN_TOKENS
				.iter()
				.filter_map(|t| inner.token_to_id(t)),
		);
		eos_ids.sort_unstable();
		eos_ids.dedup();
		Self {
			inner,
			eos_ids,
			bos_token,
			eos_token,
			chat_template,
		}
	}

	/// Token ids of `text`. `add_special` lets the tokenizer add BOS/EOS as
	/// its post-processor says (for raw completions); chat prompts already
	/// carry their special tokens as text.
	pub fn encode(&self, text: &str, add_special: bool) -> Result<Vec<u32>> {
		let encoding = self
			.inner
			.encode(text, add_special)
			.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
		Ok(encoding.get_ids().to_vec())
	}

	/// Text of `ids`, leaving special tokens out.
	pub fn decode(&self, ids: &[u32]) -> Result<String> {
		self.inner
			.decode(ids, true)
			.map_err(|e| EngineError::Tokenizer(e.to_string()))
	}

	/// Whether generating `id` ends the sequence.
	pub fn is_eos(&self, id: u32) -> bool {
		self.eos_ids.binary_search(&id).is_ok()
	}

	pub fn eos_ids(&self) -> &[u32] {
		&self.eos_ids
	}

	pub fn vocab_size(&self) -> usize {
		self.inner.get_vocab_size(true)
	}

	pub fn bos_token(&self) -> Option<&str> {
		self.bos_token.as_deref()
	}

	pub fn eos_token(&self) -> Option<&str> {
		self.eos_token.as_deref()
	}

	/// The Jinja chat template shipped with the model, if any.
	pub fn chat_template(&self) -> Option<&str> {
		self.chat_template.as_deref()
	}

	/// Writes the tokenizer as a `tokenizer.json`.
	pub fn save_json(&self, path: &Path) -> Result<()> {
		self.inner
			.save(path, false)
			.map_err(|e| EngineError::Tokenizer(format!("{}: {e}", path.display())))
	}
}

/// llama.cpp token types of added tokens.
const CONTROL: i64 = 3;
const USER_DEFINED: i64 = 4;

/// The pre-tokenizer regexes of llama.cpp's `tokenizer.ggml.pre` kinds.
const REGEX_QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const REGEX_LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// A GPT-2 style byte-level BPE from a vocabulary and merges.
///
/// `types` follows llama.cpp's token types: 3 (control) and 4 (user
/// defined) are added tokens matched whole in the input, control ones being
/// special (left out when decoding). `pre` picks the pre-tokenizer.
pub fn byte_level_bpe(
	tokens: &[String],
	merges: Vec<(String, String)>,
	types: &[i64],
	pre: &str,
) -> Result<Tokenizer> {
	let vocab: Vocab = tokens
		.iter()
		.enumerate()
		.map(|(i, t)| (t.clone(), i as u32))
		.collect();
	let bpe = BPE::builder()
		.vocab_and_merges(vocab, merges)
		.build()
		.map_err(|e| EngineError::Tokenizer(format!("BPE: {e}")))?;
	let mut tokenizer = Tokenizer::new(bpe);
	let split = |regex: &str| -> Result<PreTokenizerWrapper> {
		Ok(Split::new(
			SplitPattern::Regex(regex.into()),
			SplitDelimiterBehavior::Isolated,
			false,
		)
		.map_err(|e| EngineError::Tokenizer(format!("pre-tokenizer regex: {e}")))?
		.into())
	};
	let pre_tokenizer: PreTokenizerWrapper = match pre {
		// SmolLM: single digits, then GPT-2's byte-level split.
		"smollm" => Sequence::new(vec![
			Digits::new(true).into(),
			ByteLevel::new(false, true, true).into(),
		])
		.into(),
		"qwen2" => {
			tokenizer
				.with_normalizer(Some(NFC))
				.map_err(|e| EngineError::Tokenizer(e.to_string()))?;
			Sequence::new(vec![
				split(REGEX_QWEN2)?,
				ByteLevel::new(false, false, false).into(),
			])
			.into()
		},
		"llama-bpe" | "llama3" | "smaug-bpe" => Sequence::new(vec![
			split(REGEX_LLAMA3)?,
			ByteLevel::new(false, true, false).into(),
		])
		.into(),
		_ => ByteLevel::new(false, true, true).into(),
	};
	tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
	tokenizer.with_decoder(Some(ByteLevelDecoder::new(false, true, true)));
	let added = |kind: i64| -> Vec<AddedToken> {
		types
			.iter()
			.zip(tokens)
			.filter(|(t, _)| **t == kind)
			.map(|(_, tok)| AddedToken::from(tok.clone(), kind == CONTROL))
			.collect()
	};
	let added_err = |e: tokenizers::Error| EngineError::Tokenizer(format!("added tokens: {e}"));
	tokenizer
		.add_special_tokens(added(CONTROL))
		.map_err(added_err)?;
	tokenizer
		.add_tokens(added(USER_DEFINED))
		.map_err(added_err)?;
	Ok(tokenizer)
}

/// Turns a growing list of generated ids into text deltas, holding back
/// bytes until they form whole characters (byte-level BPE splits them).
#[derive(Clone, Debug, Default)]
pub struct IncrementalDecoder {
	ids: Vec<u32>,
	prefix_offset: usize,
	read_offset: usize,
}

impl IncrementalDecoder {
	/// Adds `id` and returns the text it completes (possibly empty).
	pub fn push(&mut self, tokenizer: &TextTokenizer, id: u32) -> Result<String> {
		self.ids.push(id);
		let prefix = tokenizer.decode(&self.ids[self.prefix_offset..self.read_offset])?;
		let full = tokenizer.decode(&self.ids[self.prefix_offset..])?;
		if full.len() <= prefix.len() || full.ends_with('\u{FFFD}') {
			return Ok(String::new());
		}
		let delta = full.get(prefix.len()..).unwrap_or_default().to_string();
		self.prefix_offset = self.read_offset;
		self.read_offset = self.ids.len();
		Ok(delta)
	}
}
