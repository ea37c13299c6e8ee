//! The rewards domain: what accounts earn in an epoch, the epochs waiting for
//! their payout, the payout in progress, penalty scores, and what the view
//! functions return.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AtLeast32BitUnsigned, Saturating, Zero},
	Perbill, Rounding,
};
use scale_info::TypeInfo;

/// Number of an epoch: epoch `n` is the `n`-th run of `EpochLength` blocks
/// since genesis, counting from 0.
pub type EpochIndex = u32;

/// `amount * part / whole`, rounded down, never more than `amount`; zero when
/// `whole` is zero. The product is taken in 256 bits, so it cannot overflow.
pub fn pro_rata<Balance>(amount: Balance, part: u128, whole: u128) -> Balance
where
	Balance: AtLeast32BitUnsigned + Copy,
{
	if whole == 0 || part == 0 {
		return Zero::zero();
	}
	let amount_wide: u128 = amount.unique_saturated_into();
	let share =
		multiply_by_rational_with_rounding(amount_wide, part.min(whole), whole, Rounding::Down)
			.unwrap_or(0);
	Balance::unique_saturated_from(share).min(amount)
}

/// What one account earned in one epoch towards its share of the epoch's
/// emission, one count per earner class.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Points<Balance> {
	/// Attribution credit earned as a data contributor.
	pub credit: Balance,
	/// Inferences served as a worker that settled in the epoch.
	pub inferences: u64,
	/// Blocks authored as a validator.
	pub blocks: u32,
}

/// The sums of all accounts' [`Points`] in one epoch, and how many accounts
/// earned anything.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct EpochTotals<Balance> {
	/// Attribution credit of all contributors.
	pub credit: Balance,
	/// Settled inferences of all workers.
	pub inferences: u64,
	/// Blocks authored by all validators.
	pub blocks: u64,
	/// Accounts with an entry in the epoch's earnings.
	pub earners: u32,
}

impl<Balance: AtLeast32BitUnsigned + Copy> EpochTotals<Balance> {
	/// Adds one account's points (not its count: see [`Self::earners`]).
	pub fn add(&mut self, points: &Points<Balance>) {
		self.credit.saturating_accrue(points.credit);
		self.inferences.saturating_accrue(points.inferences);
		self.blocks.saturating_accrue(u64::from(points.blocks));
	}
}

/// The epoch in progress: earnings are counted towards it.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct EpochState<Balance, BlockNumber> {
	pub index: EpochIndex,
	/// First block of the epoch.
	pub start: BlockNumber,
	pub totals: EpochTotals<Balance>,
}

/// An epoch that has ended and waits for its payout to start.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct ClosedEpoch<Balance, BlockNumber> {
	/// First block of the epoch.
	pub start: BlockNumber,
	/// First block after the epoch: the emission schedule is read at it.
	pub end: BlockNumber,
	pub totals: EpochTotals<Balance>,
}

/// An epoch's emission, per earner class.
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
pub struct ClassAmounts<Balance> {
	/// Split among data contributors by attribution credit.
	pub contributors: Balance,
	/// Split among workers by settled inferences.
	pub workers: Balance,
	/// Split among validators by authored blocks.
	pub validators: Balance,
}

impl<Balance: AtLeast32BitUnsigned + Copy> ClassAmounts<Balance> {
	/// Splits `emission` by the three class shares, each rounded down; a
	/// class in which nobody earned gets nothing. What is not allotted stays
	/// in the community pool.
	pub fn split(emission: Balance, shares: [Perbill; 3], totals: &EpochTotals<Balance>) -> Self {
		let [contributors, workers, validators] = shares;
		let allot = |share: Perbill, earned: bool| {
			if earned {
				share.mul_floor(emission)
			} else {
				Zero::zero()
			}
		};
		Self {
			contributors: allot(contributors, !totals.credit.is_zero()),
			workers: allot(workers, totals.inferences != 0),
			validators: allot(validators, totals.blocks != 0),
		}
	}

	pub fn total(&self) -> Balance {
		self.contributors
			.saturating_add(self.workers)
			.saturating_add(self.validators)
	}
}

/// The payout of one closed epoch, paid a page of earners per block.
///
/// The whole allotment (`escrowed`) moved from the community pool into the
/// pot when the payout started, so paying an earner is a ledger entry that
/// cannot fail; what was not paid (rounding, penalties) goes back to the pool
/// when the payout ends. Only what was paid counts as emitted.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct PayoutRun<Balance, BlockNumber> {
	pub epoch: EpochIndex,
	/// First block after the epoch.
	pub end: BlockNumber,
	/// The epoch's emission per class.
	pub classes: ClassAmounts<Balance>,
	/// The epoch's totals: each earner gets its points' share of each class.
	pub totals: EpochTotals<Balance>,
	/// Moved from the community pool into the pot for this payout.
	pub escrowed: Balance,
	/// Credited to earners so far.
	pub paid: Balance,
	/// Withheld from penalised earners so far.
	pub withheld: Balance,
	/// Earners not paid yet.
	pub remaining: u32,
}

impl<Balance: AtLeast32BitUnsigned + Copy, BlockNumber> PayoutRun<Balance, BlockNumber> {
	/// An earner's share of the epoch's emission before penalties: its part
	/// of each class, rounded down, and never more than is left in escrow.
	pub fn share_of(&self, points: &Points<Balance>) -> Balance {
		let contributors = pro_rata(
			self.classes.contributors,
			points.credit.unique_saturated_into(),
			self.totals.credit.unique_saturated_into(),
		);
		let workers = pro_rata(
			self.classes.workers,
			u128::from(points.inferences),
			u128::from(self.totals.inferences),
		);
		let validators = pro_rata(
			self.classes.validators,
			u128::from(points.blocks),
			u128::from(self.totals.blocks),
		);
		contributors
			.saturating_add(workers)
			.saturating_add(validators)
			.min(self.unallotted())
	}

	/// Escrowed and neither paid nor withheld yet.
	pub fn unallotted(&self) -> Balance {
		self.escrowed
			.saturating_sub(self.paid)
			.saturating_sub(self.withheld)
	}

	/// Still in the pot for this payout: escrowed and not paid. The withheld
	/// part stays here until it goes back to the pool with the rounding.
	pub fn in_escrow(&self) -> Balance {
		self.escrowed.saturating_sub(self.paid)
	}
}

/// An account's penalty score as of the end of `epoch`'s last update. The
/// score decays by [`crate::Config::PenaltyDecay`] at each epoch boundary,
/// applied when the score is read or raised rather than by visiting every
/// account.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PenaltyRecord {
	pub score: u32,
	/// The epoch in which `score` was last raised.
	pub epoch: EpochIndex,
}

impl PenaltyRecord {
	/// The score in `epoch`: `score × survival^(epochs since the update)`,
	/// rounded down.
	pub fn score_at(&self, epoch: EpochIndex, survival: Perbill) -> u32 {
		let elapsed = epoch.saturating_sub(self.epoch);
		if elapsed == 0 {
			return self.score;
		}
		let exponent = usize::try_from(elapsed).unwrap_or(usize::MAX);
		survival.saturating_pow(exponent).mul_floor(self.score)
	}
}

/// What a client shows an account: [`crate::Pallet::account_summary`].
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct AccountSummary<Balance> {
	/// Ready to claim.
	pub claimable: Balance,
	/// Claimed over the account's lifetime.
	pub claimed: Balance,
	/// Penalty score in the current epoch, after decay.
	pub penalty_score: u32,
	/// Whether the score is above the threshold, so that new rewards are
	/// reduced.
	pub penalised: bool,
	/// Points earned so far in the current epoch.
	pub epoch_points: Points<Balance>,
}

/// The current epoch and the payouts behind it: [`crate::Pallet::epoch_info`].
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct EpochInfo<Balance, BlockNumber> {
	pub index: EpochIndex,
	/// First block of the current epoch.
	pub start: BlockNumber,
	/// The block at which it ends and the next begins.
	pub next_start: BlockNumber,
	/// Earned so far in the current epoch.
	pub totals: EpochTotals<Balance>,
	/// Emitted (paid to earners) since genesis.
	pub emitted: Balance,
	/// Closed epochs not fully paid yet, including the one being paid.
	pub unpaid_epochs: u32,
	/// The payout in progress.
	pub payout: Option<PayoutRun<Balance, BlockNumber>>,
}

/// The community pool's emission schedule: [`crate::Pallet::schedule_info`].
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct ScheduleInfo<Balance, BlockNumber> {
	/// To be emitted over the whole schedule.
	pub total: Balance,
	/// First block of the schedule.
	pub start: BlockNumber,
	/// Block from which everything may have been emitted.
	pub end: BlockNumber,
	/// The most that may have been emitted by now.
	pub allowed: Balance,
	/// Emitted (paid to earners) since genesis.
	pub emitted: Balance,
	/// Set aside for the payout in progress and not paid yet.
	pub in_escrow: Balance,
}
