//! # ModelFactory
//!
//! Fine-tunes a LoRA adapter on a datanet version's payloads (each verified
//! against its content hash), evaluates held-out loss and perplexity before
//! and after, and writes a PEFT adapter the engine loads plus a training
//! report (DESIGN §9).

use openledger_primitives::ContributionId;

/// One training example: a tokenized piece of one contribution's payload.
///
/// The factory trains on these, and both attribution methods credit what
/// they find back to `contribution`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
	/// The datanet contribution the tokens came from.
	pub contribution: ContributionId,
	/// The tokens, as the base model's tokenizer produced them.
	pub tokens: Vec<u32>,
}
