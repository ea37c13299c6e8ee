//! Terms of a deployed model, shared by the model registry (which records
//! them) and the attribution pallet (which charges and splits fees by them).

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding, traits::AtLeast32BitUnsigned,
	ArithmeticError, Perbill, Rounding,
};
use scale_info::TypeInfo;

use crate::{Hash, ModelId};

/// What a model charges, in the smallest OPEN unit per 1,000 tokens.
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
	Debug,
	Default,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct Pricing<Balance> {
	/// Price of 1,000 prompt tokens.
	pub per_1k_input: Balance,
	/// Price of 1,000 generated tokens.
	pub per_1k_output: Balance,
}

/// How an inference fee (net of the platform fee) is divided.
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
	Debug,
)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
pub struct FeeSplit {
	/// To the model's owner (its developer).
	pub developer: Perbill,
	/// To infrastructure: the serving worker and the validators.
	pub infrastructure: Perbill,
	/// To the contributors whose data influenced the output, pro rata.
	pub contributors: Perbill,
	/// To the protocol pool.
	pub protocol: Perbill,
}

impl FeeSplit {
	/// The split DESIGN §6 names as the default: developer 20 %,
	/// infrastructure 20 %, contributors 50 %, protocol 10 %.
	pub fn standard() -> Self {
		Self {
			developer: Perbill::from_percent(20),
			infrastructure: Perbill::from_percent(20),
			contributors: Perbill::from_percent(50),
			protocol: Perbill::from_percent(10),
		}
	}

	/// The four shares in the order developer, infrastructure,
	/// contributors, protocol.
	pub fn shares(&self) -> [Perbill; 4] {
		[
			self.developer,
			self.infrastructure,
			self.contributors,
			self.protocol,
		]
	}

	/// Whether the shares add up to exactly 100 %.
	pub fn is_complete(&self) -> bool {
		self.shares()
			.iter()
			.try_fold(0u32, |sum, share| sum.checked_add(share.deconstruct()))
			== Some(Perbill::one().deconstruct())
	}
}

/// Everything the attribution pallet needs to accept and price an inference
/// on a deployed model.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct DeployedModel<AccountId, Balance> {
	/// The model's owner: the developer share goes here.
	pub owner: AccountId,
	/// Prices per 1,000 tokens.
	pub pricing: Pricing<Balance>,
	/// Fee split.
	pub split: FeeSplit,
	/// Number of the adapter version now served, from 1.
	pub adapter_version: u32,
	/// BLAKE2b-256 of the adapter's weights file.
	pub adapter_hash: Hash,
	/// Root of the attribution index built while training the adapter.
	pub attribution_index_root: Hash,
}

/// Read-only questions about models, asked by the attribution pallet.
pub trait ModelRegistryInspect<AccountId, Balance> {
	/// The terms of `model` if it is deployed (approved, with an adapter,
	/// not retired).
	fn deployed(model: ModelId) -> Option<DeployedModel<AccountId, Balance>>;

	/// Whether `worker` has announced that it serves `model`.
	fn is_serving(model: ModelId, worker: &AccountId) -> bool;

	/// The workers that serve `model`: the pool from which verifiers of its
	/// receipts are drawn. At most the registry's bound on workers per model.
	fn serving_workers(model: ModelId) -> Vec<AccountId>;
}

/// The fee of an inference: `tokens_in * per_1k_input / 1000 + tokens_out *
/// per_1k_output / 1000 + platform` (DESIGN §6), each product rounded down.
pub fn inference_fee<Balance: AtLeast32BitUnsigned + Copy>(
	terms: &Pricing<Balance>,
	tokens_in: u32,
	tokens_out: u32,
	platform: Balance,
) -> Result<Balance, ArithmeticError> {
	let per_thousand = |price: Balance, tokens: u32| -> Result<Balance, ArithmeticError> {
		let price: u128 = price.try_into().map_err(|_| ArithmeticError::Overflow)?;
		multiply_by_rational_with_rounding(price, u128::from(tokens), 1_000, Rounding::Down)
			.and_then(|amount| Balance::try_from(amount).ok())
			.ok_or(ArithmeticError::Overflow)
	};
	per_thousand(terms.per_1k_input, tokens_in)?
		.checked_add(&per_thousand(terms.per_1k_output, tokens_out)?)
		.and_then(|fee| fee.checked_add(&platform))
		.ok_or(ArithmeticError::Overflow)
}
