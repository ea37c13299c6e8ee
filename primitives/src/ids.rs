//! Identifiers of on-chain objects. Each is a newtype so that a datanet id
//! can never be passed where a model id is expected.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

macro_rules! id_type {
	($(#[$doc:meta])* $name:ident($inner:ty)) => {
		$(#[$doc])*
		#[derive(
			Encode,
			Decode,
			DecodeWithMemTracking,
			MaxEncodedLen,
			TypeInfo,
			Clone,
			Copy,
			PartialEq,
			Eq,
			PartialOrd,
			Ord,
			Hash,
			Default,
			Debug,
		)]
		#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
		pub struct $name(pub $inner);

		impl $name {
			/// The id after this one, or `None` once the id space is used up.
			pub fn next(self) -> Option<Self> {
				self.0.checked_add(1).map(Self)
			}
		}

		impl From<$inner> for $name {
			fn from(raw: $inner) -> Self {
				Self(raw)
			}
		}
	};
}

id_type!(
	/// A datanet: a curated, domain-specific set of contributions.
	DatanetId(u32)
);
id_type!(
	/// One contribution to a datanet, unique across all datanets.
	ContributionId(u64)
);
id_type!(
	/// A registered base model.
	BaseModelId(u32)
);
id_type!(
	/// A proposed or deployed specialised model.
	ModelId(u32)
);
id_type!(
	/// One paid inference request.
	InferenceId(u64)
);
