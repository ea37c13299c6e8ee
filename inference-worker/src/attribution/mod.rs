//! # Attribution
//!
//! Which datanet contributions influenced an output, as the per-contribution
//! scores and proof commitment a receipt carries (DESIGN §6, §9):
//! - [`gradient`]: projected LoRA gradients scored against the index built at
//!   training time;
//! - [`span`]: output spans found verbatim in the tokenized datanet version;
//! - [`proof`]: scores in parts per million, the proof commitment and the
//!   result hash as `openledger_primitives::attribution` lays them out, and
//!   the check that a receipt recomputes.

pub mod gradient;
pub mod proof;
pub mod span;
