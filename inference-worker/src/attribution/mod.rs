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
//! [`receipt::AdapterIndexes`] holds both indexes of an adapter, writes and
//! reads them beside it, and attributes one inference by either method
//! against the root the chain records for the adapter.

pub mod gradient;
pub mod proof;
pub mod receipt;
pub mod span;
