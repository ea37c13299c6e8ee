//! The JSON shapes of the OpenAI API (and vLLM's adapter endpoints) that
//! the worker speaks. Unknown request fields are ignored, as OpenAI's own
//! clients send many optional ones.

use serde::{Deserialize, Serialize};

/// `POST /v1/chat/completions`.
#[derive(Debug, Deserialize)]
pub struct ChatCompletionRequest {
	pub model: String,
	pub messages: Vec<ChatMessageIn>,
	#[serde(flatten)]
	pub options: GenerationOptions,
}

/// `POST /v1/completions`.
#[derive(Debug, Deserialize)]
pub struct CompletionRequest {
	pub model: String,
	pub prompt: Prompt,
	#[serde(flatten)]
	pub options: GenerationOptions,
}

/// The options both endpoints share.
#[derive(Debug, Default, Deserialize)]
pub struct GenerationOptions {
	#[serde(default)]
	pub stream: bool,
	pub stream_options: Option<StreamOptions>,
	pub max_tokens: Option<u64>,
	pub max_completion_tokens: Option<u64>,
	pub temperature: Option<f64>,
	pub top_p: Option<f64>,
	pub seed: Option<u64>,
	pub stop: Option<Stop>,
	pub n: Option<u64>,
	pub logprobs: Option<serde_json::Value>,
	pub echo: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct StreamOptions {
	#[serde(default)]
	pub include_usage: bool,
}

/// `stop`: one string or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stop {
	One(String),
	Many(Vec<String>),
}

impl Stop {
	pub fn into_vec(self) -> Vec<String> {
		match self {
			Stop::One(s) => vec![s],
			Stop::Many(v) => v,
		}
	}
}

/// `prompt`: a string, a one-element list of strings, or token ids.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
	Text(String),
	Texts(Vec<String>),
	Tokens(Vec<u32>),
}

#[derive(Debug, Deserialize)]
pub struct ChatMessageIn {
	pub role: String,
	#[serde(default)]
	pub content: Option<MessageContent>,
}

/// Message content: a string or a list of typed parts.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
	Text(String),
	Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
pub struct ContentPart {
	#[serde(rename = "type")]
	pub kind: String,
	#[serde(default)]
	pub text: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Usage {
	pub prompt_tokens: usize,
	pub completion_tokens: usize,
	pub total_tokens: usize,
}

impl Usage {
	pub fn new(prompt_tokens: usize, completion_tokens: usize) -> Self {
		Self {
			prompt_tokens,
			completion_tokens,
			total_tokens: prompt_tokens + completion_tokens,
		}
	}
}

#[derive(Debug, Serialize)]
pub struct ChatCompletion {
	pub id: String,
	pub object: &'static str,
	pub created: u64,
	pub model: String,
	pub choices: Vec<ChatChoice>,
	pub usage: Usage,
}

#[derive(Debug, Serialize)]
pub struct ChatChoice {
	pub index: u32,
	pub message: AssistantMessage,
	pub logprobs: Option<()>,
	pub finish_reason: &'static str,
}

#[derive(Debug, Serialize)]
pub struct AssistantMessage {
	pub role: &'static str,
	pub content: String,
}

#[derive(Debug, Serialize)]
pub struct ChatCompletionChunk {
	pub id: String,
	pub object: &'static str,
	pub created: u64,
	pub model: String,
	pub choices: Vec<ChatChunkChoice>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub usage: Option<Usage>,
}

#[derive(Debug, Serialize)]
pub struct ChatChunkChoice {
	pub index: u32,
	pub delta: Delta,
	pub logprobs: Option<()>,
	pub finish_reason: Option<&'static str>,
}

#[derive(Debug, Default, Serialize)]
pub struct Delta {
	#[serde(skip_serializing_if = "Option::is_none")]
	pub role: Option<&'static str>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub content: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TextCompletion {
	pub id: String,
	pub object: &'static str,
	pub created: u64,
	pub model: String,
	pub choices: Vec<TextChoice>,
	#[serde(skip_serializing_if = "Option::is_none")]
	pub usage: Option<Usage>,
}

#[derive(Debug, Serialize)]
pub struct TextChoice {
	pub text: String,
	pub index: u32,
	pub logprobs: Option<()>,
	pub finish_reason: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ModelList {
	pub object: &'static str,
	pub data: Vec<ModelCard>,
}

#[derive(Debug, Serialize)]
pub struct ModelCard {
	pub id: String,
	pub object: &'static str,
	pub created: u64,
	pub owned_by: &'static str,
	pub root: String,
	pub parent: Option<String>,
	pub max_model_len: usize,
}

/// vLLM's `POST /v1/load_lora_adapter`.
#[derive(Debug, Deserialize)]
pub struct LoadLoraRequest {
	pub lora_name: String,
	pub lora_path: String,
	/// Replace an adapter already loaded under this name.
	#[serde(default)]
	pub load_inplace: bool,
}

/// vLLM's `POST /v1/unload_lora_adapter`.
#[derive(Debug, Deserialize)]
pub struct UnloadLoraRequest {
	pub lora_name: String,
}
