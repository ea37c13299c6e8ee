//! Chat prompts: the model's own Jinja chat template (from GGUF metadata or
//! `tokenizer_config.json`), rendered the way `transformers`'
//! `apply_chat_template` does, with ChatML as the fallback.

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, Value};

use super::tokenizer::TextTokenizer;
use super::{EngineError, Result};

/// ChatML, the format of SmolLM2 and Qwen2 (`<|im_start|>role\n…<|im_end|>\n`).
pub const CHATML: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

const TEMPLATE_NAME: &str = "chat";

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatMessage {
	pub role: String,
	pub content: String,
}

impl ChatMessage {
	pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
		Self {
			role: role.into(),
			content: content.into(),
		}
	}
}

/// A compiled chat template.
#[derive(Debug)]
pub struct ChatTemplate {
	env: Environment<'static>,
	bos_token: String,
	eos_token: String,
}

impl ChatTemplate {
	/// Compiles `source` (Jinja, with `transformers`' whitespace rules).
	pub fn new(source: &str, bos_token: Option<&str>, eos_token: Option<&str>) -> Result<Self> {
		let mut env = Environment::new();
		let syntax = SyntaxConfig::builder()
			.trim_blocks(true)
			.lstrip_blocks(true)
			.build()
			.map_err(|e| EngineError::ChatTemplate(e.to_string()))?;
		env.set_syntax(syntax);
		env.add_function(
			"raise_exception",
			|message: String| -> std::result::Result<String, minijinja::Error> {
				Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
			},
		);
		env.add_template_owned(TEMPLATE_NAME, source.to_string())
			.map_err(|e| EngineError::ChatTemplate(e.to_string()))?;
		Ok(Self {
			env,
			bos_token: bos_token.unwrap_or_default().to_string(),
			eos_token: eos_token.unwrap_or_default().to_string(),
		})
	}

	/// The tokenizer's template, or ChatML when it ships none.
	pub fn for_tokenizer(tokenizer: &TextTokenizer) -> Result<Self> {
		Self::new(
			tokenizer.chat_template().unwrap_or(CHATML),
			tokenizer.bos_token(),
			tokenizer.eos_token(),
		)
	}

	/// The prompt text for `messages`; with `add_generation_prompt` it ends
	/// where the assistant's answer begins.
	pub fn render(&self, messages: &[ChatMessage], add_generation_prompt: bool) -> Result<String> {
		let messages: Vec<Value> = messages
			.iter()
			.map(|m| {
				let mut map = BTreeMap::new();
				map.insert("role".to_string(), Value::from(m.role.as_str()));
				map.insert("content".to_string(), Value::from(m.content.as_str()));
				Value::from(map)
			})
			.collect();
		let mut context = BTreeMap::new();
		context.insert("messages".to_string(), Value::from(messages));
		context.insert(
			"add_generation_prompt".to_string(),
			Value::from(add_generation_prompt),
		);
		context.insert(
			"bos_token".to_string(),
			Value::from(self.bos_token.as_str()),
		);
		context.insert(
			"eos_token".to_string(),
			Value::from(self.eos_token.as_str()),
		);
		let template = self
			.env
			.get_template(TEMPLATE_NAME)
			.map_err(|e| EngineError::ChatTemplate(e.to_string()))?;
		template
			.render(Value::from(context))
			.map_err(|e| EngineError::ChatTemplate(e.to_string()))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

	#[test]
	fn renders_smollm2_template_with_default_system_prompt() {
		let template = ChatTemplate::new(SMOLLM2, None, None).unwrap();
		let prompt = template
			.render(&[ChatMessage::new("user", "Hi")], true)
			.unwrap();
		assert_eq!(
			prompt,
			"<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
		);
	}

	#[test]
	fn chatml_fallback_keeps_given_system_prompt() {
		let template = ChatTemplate::new(CHATML, None, None).unwrap();
		let prompt = template
			.render(
				&[
					ChatMessage::new("system", "Be brief."),
					ChatMessage::new("user", "Hi"),
				],
				false,
			)
			.unwrap();
		assert_eq!(
			prompt,
			"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
		);
	}

	#[test]
	fn template_errors_are_reported() {
		let template =
			ChatTemplate::new("{{ raise_exception('roles must alternate') }}", None, None).unwrap();
		let err = template.render(&[], true).unwrap_err();
		assert!(err.to_string().contains("roles must alternate"));
	}
}
