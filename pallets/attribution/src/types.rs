//! The attribution pallet's domain types: inferences and their receipts,
//! challenges, prepaid credit and voucher channels, batches, and the fee
//! arithmetic that every settlement uses.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use openledger_primitives::{
	attribution::{Method, PayloadForm, ProofCommitment, Voucher},
	ContributionId, DeployedModel, FeeSplit, Hash, ModelId,
};
use polkadot_sdk::sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AtLeast32BitUnsigned, Zero},
	ArithmeticError, Perbill, Rounding,
};
use scale_info::TypeInfo;

/// Where an inference stands.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status<BlockNumber> {
	/// Waiting for the worker's receipt. Refunded in full at the start of
	/// block `serve_by` if none came.
	Requested {
		/// The block whose initialisation refunds the request.
		serve_by: BlockNumber,
	},
	/// The receipt is in and may be challenged until `settle_at`, whose
	/// initialisation settles it.
	Receipted {
		/// The block whose initialisation settles the receipt.
		settle_at: BlockNumber,
	},
	/// A challenge is open; see [`crate::Challenges`].
	Challenged,
	/// Due for settlement, but the last attempt failed (see
	/// [`crate::Event::SettlementFailed`]); anyone may retry with `settle`.
	Unsettled,
}

/// A paid inference request. Created by `request_inference`, removed when
/// it settles, is refunded or is voided.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Inference<AccountId, Balance, BlockNumber> {
	/// Who pays.
	pub user: AccountId,
	/// The worker assigned to serve it.
	pub worker: AccountId,
	/// The model asked for.
	pub model: ModelId,
	/// The model's terms when the request was made: the price charged, the
	/// split applied and the adapter the proof must name.
	pub terms: DeployedModel<AccountId, Balance>,
	/// BLAKE2b-256 of the prompt, which the user sends the worker off chain
	/// ([`openledger_primitives::attribution::prompt_commitment`]).
	pub prompt_commitment: Hash,
	/// OPEN held from the user under [`crate::HoldReason::InferenceFee`]: the
	/// maximum fee until the receipt, then the fee.
	pub held: Balance,
	/// Block of the request.
	pub requested_at: BlockNumber,
	/// Where it stands.
	pub status: Status<BlockNumber>,
}

/// One contribution's influence on an inference, with the account paid for
/// it (its contributor when the receipt was accepted).
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ScoreEntry<AccountId> {
	/// The contribution.
	pub contribution: ContributionId,
	/// Its contributor.
	pub contributor: AccountId,
	/// Its influence, in parts per million.
	pub score: u32,
}

/// What the worker reported for an inference.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Receipt<Balance, BlockNumber, Scores> {
	/// Prompt tokens.
	pub tokens_in: u32,
	/// Generated tokens.
	pub tokens_out: u32,
	/// BLAKE2b-256 of the output.
	pub output_hash: Hash,
	/// How influence was measured.
	pub method: Method,
	/// Influence per contribution, by ascending contribution id.
	pub scores: Scores,
	/// What the attribution is bound to.
	pub proof: ProofCommitment,
	/// [`openledger_primitives::attribution::result_hash`] of the above: what
	/// re-execution must reproduce.
	pub result_hash: Hash,
	/// The fee, by the model's pricing.
	pub fee: Balance,
	/// The platform fee included in `fee`.
	pub platform_fee: Balance,
	/// Block of the receipt.
	pub submitted_at: BlockNumber,
}

/// A drawn verifier and the result hash it computed, once it answered.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct VerifierSlot<AccountId> {
	/// The verifier.
	pub verifier: AccountId,
	/// The result hash its re-execution produced.
	pub verdict: Option<Hash>,
}

/// An open challenge of a receipt.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Challenge<AccountId, Balance, BlockNumber, Verifiers> {
	/// The bonded worker who challenged.
	pub challenger: AccountId,
	/// The result hash the challenger says re-execution gives.
	pub claimed_result_hash: Hash,
	/// The challenge bond held from the challenger under
	/// [`crate::HoldReason::ChallengeBond`].
	pub bond: Balance,
	/// Block of the challenge.
	pub opened_at: BlockNumber,
	/// Last block in which the drawn verifiers may answer.
	pub deadline: BlockNumber,
	/// The drawn verifiers; empty when too few workers could be drawn, in
	/// which case only governance resolves the challenge.
	pub verifiers: Verifiers,
}

/// How a challenge ended.
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
pub enum Outcome {
	/// Re-execution reproduced the receipt: it stands and settles; the
	/// challenger loses part of its bond.
	Upheld,
	/// Re-execution did not reproduce the receipt: it is voided, the user
	/// refunded and the worker slashed.
	Voided,
}

/// The attribution windows in blocks. The chain keeps them in
/// [`crate::WindowBlocks`]: [`crate::Config`]'s values unless genesis sets
/// shorter ones (development chains settle in seconds, not half an hour).
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Windows<BlockNumber> {
	/// Blocks a worker has to submit a receipt before the request is
	/// refunded.
	pub serve_timeout: BlockNumber,
	/// Blocks a receipt may be challenged before it settles.
	pub challenge_window: BlockNumber,
	/// Blocks the verifiers have to answer, from the challenge on.
	pub verify_window: BlockNumber,
}

/// A user's prepaid credit for batched inferences, kept in
/// [`crate::Config::CreditPot`].
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug, Default)]
pub struct CreditAccount<Balance, BlockNumber> {
	/// What workers may still charge.
	pub balance: Balance,
	/// Credit the user asked back, withdrawable from the block given.
	/// Workers may charge it until it is withdrawn.
	pub unlocking: Option<(Balance, BlockNumber)>,
}

/// One voucher channel: a user, worker, model and expiry.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Channel<Balance> {
	/// What the channel has been charged in total.
	pub spent: Balance,
	/// Storage deposit held from the worker until it closes the channel.
	pub deposit: Balance,
}

/// A user's part of a batch: the latest voucher of its channel, its
/// signature, and what this batch charges.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct UserCharge<AccountId, Balance, BlockNumber, Signature> {
	/// The user's authorisation.
	pub voucher: Voucher<AccountId, Balance, BlockNumber>,
	/// The user's signature of [`Voucher::signing_payload`] in `form`.
	pub signature: Signature,
	/// Whether the signature covers the payload raw or wallet-wrapped.
	pub form: PayloadForm,
	/// The fees of this batch's inferences for this user.
	pub fee: Balance,
}

/// Inferences a worker settles in one extrinsic.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct Batch<Charges, Contributors> {
	/// Merkle root of the batch's receipts, for audit.
	pub receipts_root: Hash,
	/// How many inferences the batch settles.
	pub inferences: u32,
	/// One charge per user, by ascending account.
	pub per_user: Charges,
	/// Influence aggregated over the batch per contribution, by ascending
	/// contribution id: `(contribution, summed score)`.
	pub contributors: Contributors,
}

/// What a settled batch left on chain.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct BatchRecord<AccountId, Balance, BlockNumber> {
	/// The model served.
	pub model: ModelId,
	/// The worker that served and settled it.
	pub worker: AccountId,
	/// Merkle root of its receipts.
	pub receipts_root: Hash,
	/// How many inferences it settled.
	pub inferences: u32,
	/// How many users paid.
	pub users: u32,
	/// The fees charged in total.
	pub fee: Balance,
	/// Block of settlement.
	pub settled_at: BlockNumber,
}

/// Where a fee went. The parts sum to the fee exactly.
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
pub struct FeeShares<Balance> {
	/// The platform fee(s), to the protocol pool.
	pub platform: Balance,
	/// To the model's owner.
	pub developer: Balance,
	/// The serving worker's part of the infrastructure share.
	pub worker: Balance,
	/// The validators' part of the infrastructure share, to the block author.
	pub validators: Balance,
	/// To contributors, pro rata to their scores.
	pub contributors: Balance,
	/// The protocol share, rounding dust, and any share without a recipient
	/// (no author known, no contribution scored), to the protocol pool.
	pub protocol: Balance,
}

impl<Balance: AtLeast32BitUnsigned + Copy> FeeShares<Balance> {
	/// Splits `fee`, of which `platform` is the platform fee, by `split`
	/// (DESIGN §6). The infrastructure share goes `worker_share` to the
	/// worker and the rest to the validators when `has_author`, else to the
	/// protocol. `contributors` is the contributors' pot before it is divided
	/// pro rata (see [`FeeShares::pay_contributors`]). Fails when `platform`
	/// exceeds `fee`.
	pub fn split(
		fee: Balance,
		platform: Balance,
		split: &FeeSplit,
		worker_share: Perbill,
		has_author: bool,
	) -> Result<Self, ArithmeticError> {
		let net = fee
			.checked_sub(&platform)
			.ok_or(ArithmeticError::Underflow)?;
		let developer = split.developer.mul_floor(net);
		let infrastructure = split.infrastructure.mul_floor(net);
		let contributors = split.contributors.mul_floor(net);
		let worker = worker_share.mul_floor(infrastructure);
		let (validators, no_author) = if has_author {
			(infrastructure.saturating_sub(worker), Zero::zero())
		} else {
			(Zero::zero(), infrastructure.saturating_sub(worker))
		};
		// The protocol takes what the floors left over, so nothing is lost:
		// its own share, rounding dust and an unclaimed validators' part.
		let protocol = net
			.checked_sub(&developer)
			.and_then(|rest| rest.checked_sub(&infrastructure))
			.and_then(|rest| rest.checked_sub(&contributors))
			.ok_or(ArithmeticError::Underflow)?
			.saturating_add(no_author);
		Ok(Self {
			platform,
			developer,
			worker,
			validators,
			contributors,
			protocol,
		})
	}

	/// Divides the contributors' pot pro rata to `weights`, rounding each
	/// amount down, and moves what is left (rounding dust, or the whole pot
	/// if there are no weights) to the protocol. Returns the amounts in the
	/// order of `weights`.
	pub fn pay_contributors(
		&mut self,
		weights: &[u128],
	) -> Result<alloc::vec::Vec<Balance>, ArithmeticError> {
		let pot = self.contributors;
		let amounts = pro_rata(pot, weights)?;
		let paid = amounts
			.iter()
			.try_fold(Balance::zero(), |sum, amount| sum.checked_add(amount))
			.ok_or(ArithmeticError::Overflow)?;
		let dust = pot.checked_sub(&paid).ok_or(ArithmeticError::Underflow)?;
		self.contributors = paid;
		self.protocol = self
			.protocol
			.checked_add(&dust)
			.ok_or(ArithmeticError::Overflow)?;
		Ok(amounts)
	}

	/// The sum of the parts: the fee.
	pub fn total(&self) -> Option<Balance> {
		[
			self.developer,
			self.worker,
			self.validators,
			self.contributors,
			self.protocol,
		]
		.iter()
		.try_fold(self.platform, |sum, part| sum.checked_add(part))
	}

	/// What goes to the protocol pool: the platform fee, the protocol share
	/// and dust.
	pub fn to_protocol(&self) -> Option<Balance> {
		self.platform.checked_add(&self.protocol)
	}
}

/// `pot * weight / sum(weights)` for each weight, rounded down: exact
/// integer arithmetic at 256 bits, so the amounts never sum above `pot`.
pub fn pro_rata<Balance: AtLeast32BitUnsigned + Copy>(
	pot: Balance,
	weights: &[u128],
) -> Result<alloc::vec::Vec<Balance>, ArithmeticError> {
	let total = weights
		.iter()
		.try_fold(0u128, |sum, weight| sum.checked_add(*weight))
		.ok_or(ArithmeticError::Overflow)?;
	if total == 0 {
		return Ok(weights.iter().map(|_| Balance::zero()).collect());
	}
	let pot: u128 = pot.try_into().map_err(|_| ArithmeticError::Overflow)?;
	weights
		.iter()
		.map(|weight| {
			multiply_by_rational_with_rounding(pot, *weight, total, Rounding::Down)
				.and_then(|amount| Balance::try_from(amount).ok())
				.ok_or(ArithmeticError::Overflow)
		})
		.collect()
}

pub use openledger_primitives::inference_fee;
