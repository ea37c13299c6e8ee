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
//!
//! ## Receipts
//!
//! Both methods produce raw integer scores per contribution
//! (`BTreeMap<ContributionId, u128>`) against an index stored next to the
//! adapter and committed to by its root. [`proof::Attribution`] turns them
//! into what `submit_receipt` takes; a verifier or challenger holding the
//! same adapter and index runs [`proof::verify`] with a closure that
//! recomputes the raw scores, and compares result hashes.
//!
//! Two modules put these together for a trained adapter:
//! - [`indexes`]: both indexes of an adapter, written and read beside it,
//!   under the one attribution index root the chain records for the adapter
//!   (`blake2_256(domain ‖ gradient_root ‖ span_root)`);
//! - [`receipt`]: the per-inference entry point, [`receipt::AttributedAdapter`],
//!   which turns prompt and output tokens into an [`receipt::InferenceReceipt`]
//!   (scores, proof, output hash of the output tokens, result hash) and
//!   checks a claimed one field by field.

pub mod gradient;
pub mod indexes;
pub mod proof;
pub mod receipt;
pub mod span;
