//! # ModelFactory
//!
//! Fine-tunes a LoRA adapter on a datanet version's payloads (each verified
//! against its content hash), evaluates held-out loss and perplexity before
//! and after, and writes a PEFT adapter the engine loads plus a training
//! report (DESIGN §9).
