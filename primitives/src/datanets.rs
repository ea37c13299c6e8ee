//! What other pallets may ask of the datanets pallet.
//!
//! The model registry checks that a proposal's datanet versions exist; the
//! attribution pallet checks that a scored contribution is live and learns
//! whom to pay. Both depend on [`DatanetsInspect`], implemented by
//! `pallets/datanets`.

use crate::{ContributionId, DatanetId};

/// A datanet version's number: versions are numbered 1, 2, 3, ...; 0 means
/// "no version yet".
pub type VersionNumber = u32;

/// Read-only questions about datanets, versions and contributions.
pub trait DatanetsInspect<AccountId> {
	/// Whether `datanet` has published version `version`.
	fn version_exists(datanet: DatanetId, version: VersionNumber) -> bool;

	/// The contributor of `contribution` if it is accepted and not
	/// retracted; `None` for unknown, pending or retracted contributions,
	/// which may not earn attribution.
	fn live_contributor(contribution: ContributionId) -> Option<AccountId>;
}
