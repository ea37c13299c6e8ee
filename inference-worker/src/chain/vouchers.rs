//! The batched payment path: inferences paid by signed vouchers against the
//! users' prepaid credit, settled many at a time with
//! `Attribution.settle_batch`.
//!
//! A user deposits credit on chain (`deposit_credit`) and sends the worker a
//! prompt with a [`SignedVoucher`]: its sr25519 signature over
//! `openledger_primitives::Voucher::signing_payload` (raw or wrapped the
//! way wallets sign bytes), allowing this worker to charge up to a
//! cumulative cap for one model until an expiry block. The worker answers at
//! once and records a [`Charge`] in its [`VoucherLedger`]; every so many
//! blocks it settles what it has charged with one extrinsic ([`plan_batch`]):
//! per user the latest voucher of one channel and the sum of its fees, per
//! contribution the summed scores, and the merkle root of the batch's
//! receipts ([`receipt_leaf`]).
//!
//! The ledger is a file of JSON lines. A batch is written as
//! [`LedgerEntry::Settling`] before it is submitted; if the worker cannot
//! tell whether it landed (a crash, a lost connection), it looks for the
//! batch's root in `Attribution.BatchRoots` and submits it again only after
//! the first transaction can no longer be included, so no charge is made
//! twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use codec::Encode;
use openledger_primitives::attribution::PayloadForm;
use openledger_primitives::merkle::merkle_root;
use openledger_primitives::{ModelId, Voucher};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subxt::utils::AccountId32;
use subxt_signer::sr25519;

use super::journal::{JournalError, LineLog};
use crate::hex::serde_hex;

/// How the user signed the voucher's payload (`PayloadForm` on chain).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Form {
	/// The payload itself (keystores, subxt-signer, `keyring.sign`).
	Raw,
	/// `<Bytes>payload</Bytes>`, as browser wallets' `signRaw` signs it.
	Wallet,
}

impl From<Form> for PayloadForm {
	fn from(form: Form) -> Self {
		match form {
			Form::Raw => PayloadForm::Raw,
			Form::Wallet => PayloadForm::Wallet,
		}
	}
}

/// A user's voucher for this worker with its sr25519 signature.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SignedVoucher {
	/// Who pays and signed (SS58).
	pub user: AccountId32,
	/// Who may charge (SS58).
	pub worker: AccountId32,
	pub model: u32,
	/// First block at which the voucher is void.
	pub expires_at: u32,
	/// The most the channel may be charged in total, in plancks (a decimal
	/// string, or a JSON number).
	#[serde(with = "plancks")]
	pub cumulative_fee_cap: u128,
	/// 64 bytes, `0x` hex.
	#[serde(with = "serde_hex")]
	pub signature: [u8; 64],
	pub form: Form,
}

/// Channels are keyed by user, model and expiry (the worker is this one).
pub type ChannelKey = ([u8; 32], u32, u32);

impl SignedVoucher {
	/// The voucher as the chain encodes and signs it.
	pub fn voucher(&self) -> Voucher<[u8; 32], u128, u32> {
		Voucher {
			user: self.user.0,
			worker: self.worker.0,
			model: ModelId(self.model),
			expires_at: self.expires_at,
			cumulative_fee_cap: self.cumulative_fee_cap,
		}
	}

	/// Whether the signature is the user's over the voucher on the chain
	/// with `genesis_hash`, in the form it names: the check the chain
	/// makes when the batch settles.
	pub fn verify(&self, genesis_hash: &[u8; 32]) -> bool {
		let payload = self.voucher().signing_payload(genesis_hash);
		let message = PayloadForm::from(self.form).message(payload);
		sr25519::verify(
			&sr25519::Signature(self.signature),
			message,
			&sr25519::PublicKey(self.user.0),
		)
	}

	pub fn channel(&self) -> ChannelKey {
		(self.user.0, self.model, self.expires_at)
	}
}

/// One inference served against a voucher, not yet settled.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Charge {
	/// The worker's number for it, from 0.
	pub seq: u64,
	pub voucher: SignedVoucher,
	/// Plancks.
	pub fee: u128,
	/// `(contribution, ppm)`, ascending ids.
	pub scores: Vec<(u64, u32)>,
	#[serde(with = "serde_hex")]
	pub result_hash: [u8; 32],
	/// The finalized block when it was served.
	pub served_at: u32,
}

/// A batch submitted (or about to be) whose outcome is not recorded yet.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Settling {
	pub model: u32,
	pub seqs: Vec<u64>,
	#[serde(with = "serde_hex")]
	pub receipts_root: [u8; 32],
	/// `Attribution.NextBatchId` before submission: the batch, if it
	/// landed, has this id or a later one.
	pub first_id: u64,
	/// The finalized block before submission; the transaction cannot be
	/// included after this plus its mortality.
	pub at: u32,
}

/// One line of the voucher ledger.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LedgerEntry {
	Served(Charge),
	Settling(Settling),
	/// The batch in flight landed as `batch`.
	Settled {
		batch: u64,
	},
	/// The batch in flight did not land; its charges are pending again.
	Released {
		reason: String,
	},
	/// These charges will not be collected.
	Dropped {
		seqs: Vec<u64>,
		reason: String,
	},
}

/// The charges not yet settled, and the batch in flight, kept across
/// restarts.
pub struct VoucherLedger {
	log: LineLog,
	pending: BTreeMap<u64, Charge>,
	settling: Option<Settling>,
	next_seq: u64,
}

impl VoucherLedger {
	pub fn open(path: &Path) -> Result<Self, JournalError> {
		let (log, entries) = LineLog::open(path)?;
		let mut ledger = Self {
			log,
			pending: BTreeMap::new(),
			settling: None,
			next_seq: 0,
		};
		for entry in entries {
			ledger.apply(entry);
		}
		Ok(ledger)
	}

	/// Appends `entry` (synced to disk) and applies it.
	pub fn record(&mut self, entry: LedgerEntry) -> Result<(), JournalError> {
		self.log.append(&entry)?;
		self.apply(entry);
		Ok(())
	}

	fn apply(&mut self, entry: LedgerEntry) {
		match entry {
			LedgerEntry::Served(charge) => {
				self.next_seq = self.next_seq.max(charge.seq.saturating_add(1));
				self.pending.insert(charge.seq, charge);
			},
			LedgerEntry::Settling(settling) => self.settling = Some(settling),
			LedgerEntry::Settled { .. } => {
				if let Some(settling) = self.settling.take() {
					for seq in settling.seqs {
						self.pending.remove(&seq);
					}
				}
			},
			LedgerEntry::Released { .. } => self.settling = None,
			LedgerEntry::Dropped { seqs, .. } => {
				for seq in seqs {
					self.pending.remove(&seq);
				}
			},
		}
	}

	/// The number the next charge gets.
	pub fn next_seq(&self) -> u64 {
		self.next_seq
	}

	/// The batch in flight, if its outcome is not known yet.
	pub fn settling(&self) -> Option<&Settling> {
		self.settling.as_ref()
	}

	/// Unsettled charges, by seq (those in flight included).
	pub fn pending(&self) -> impl Iterator<Item = &Charge> {
		self.pending.values()
	}

	/// What this worker has charged `user` and not settled, on any channel.
	pub fn owed_by(&self, user: &[u8; 32]) -> u128 {
		self.pending
			.values()
			.filter(|charge| charge.voucher.user.0 == *user)
			.fold(0, |sum, charge| sum.saturating_add(charge.fee))
	}

	/// What this worker has charged on `channel` and not settled.
	pub fn owed_on(&self, channel: &ChannelKey) -> u128 {
		self.pending
			.values()
			.filter(|charge| charge.voucher.channel() == *channel)
			.fold(0, |sum, charge| sum.saturating_add(charge.fee))
	}
}

/// The leaf one inference adds to a batch's receipts root:
/// BLAKE2b-256 of the SCALE encoding of `(seq u64, user 32 bytes, fee u128,
/// result_hash 32 bytes)`. The result hash is the one a receipt of the same
/// inference would carry on chain, so a user holding the worker's record
/// can check the leaf, and with a merkle proof its place in the batch.
pub fn receipt_leaf(charge: &Charge) -> [u8; 32] {
	blake2_256(
		&(
			charge.seq,
			charge.voucher.user.0,
			charge.fee,
			charge.result_hash,
		)
			.encode(),
	)
}

/// The chain's bounds on one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
	/// `Attribution.MaxBatch`: users per batch.
	pub max_users: usize,
	/// `Attribution.MaxBatchContributors`.
	pub max_contributors: usize,
}

/// One user's part of a planned batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPart {
	/// The channel's voucher with the highest cap.
	pub voucher: SignedVoucher,
	pub fee: u128,
}

/// A batch ready to submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
	pub model: u32,
	/// The charges it settles, ascending.
	pub seqs: Vec<u64>,
	/// Ascending users.
	pub per_user: Vec<UserPart>,
	/// `(contribution, summed ppm)`, ascending ids.
	pub contributors: Vec<(u64, u64)>,
	pub receipts_root: [u8; 32],
}

impl Plan {
	pub fn inferences(&self) -> u32 {
		u32::try_from(self.seqs.len()).unwrap_or(u32::MAX)
	}
}

/// Plans the next batch for `model` from `charges`: for each user, in
/// ascending account order, the charges of its channel that expires first
/// (a user has one voucher per batch), as long as the batch stays within
/// `limits`. Scores of contributions `live` rejects are left out (the chain
/// refuses a batch naming a contribution that is no longer accepted).
/// `None` when nothing is to be settled.
pub fn plan_batch<'a>(
	charges: impl IntoIterator<Item = &'a Charge>,
	model: u32,
	limits: BatchLimits,
	live: impl Fn(u64) -> bool,
) -> Option<Plan> {
	let mut by_user: BTreeMap<[u8; 32], Vec<&Charge>> = BTreeMap::new();
	for charge in charges {
		if charge.voucher.model == model {
			by_user
				.entry(charge.voucher.user.0)
				.or_default()
				.push(charge);
		}
	}
	let mut seqs = Vec::new();
	let mut per_user = Vec::new();
	let mut contributors: BTreeMap<u64, u64> = BTreeMap::new();
	let mut leaves = Vec::new();
	for charges in by_user.values() {
		if per_user.len() == limits.max_users {
			break;
		}
		let Some(expiry) = charges.iter().map(|c| c.voucher.expires_at).min() else {
			continue;
		};
		let mut channel: Vec<&Charge> = charges
			.iter()
			.copied()
			.filter(|charge| charge.voucher.expires_at == expiry)
			.collect();
		channel.sort_by_key(|charge| charge.seq);
		let mut part: Option<UserPart> = None;
		for charge in channel {
			let new: BTreeSet<u64> = charge
				.scores
				.iter()
				.map(|(contribution, _)| *contribution)
				.filter(|contribution| {
					live(*contribution) && !contributors.contains_key(contribution)
				})
				.collect();
			if contributors.len() + new.len() > limits.max_contributors {
				continue;
			}
			for (contribution, ppm) in &charge.scores {
				if live(*contribution) {
					let sum = contributors.entry(*contribution).or_default();
					*sum = sum.saturating_add(u64::from(*ppm));
				}
			}
			let part = part.get_or_insert_with(|| UserPart {
				voucher: charge.voucher.clone(),
				fee: 0,
			});
			if charge.voucher.cumulative_fee_cap > part.voucher.cumulative_fee_cap {
				part.voucher = charge.voucher.clone();
			}
			part.fee = part.fee.saturating_add(charge.fee);
			seqs.push(charge.seq);
			leaves.push(receipt_leaf(charge));
		}
		per_user.extend(part);
	}
	if per_user.is_empty() {
		return None;
	}
	// Leaves in seq order, so the root does not depend on the grouping.
	let mut ordered: Vec<(u64, [u8; 32])> = seqs.iter().copied().zip(leaves).collect();
	ordered.sort_by_key(|(seq, _)| *seq);
	seqs.sort_unstable();
	let leaves: Vec<[u8; 32]> = ordered.into_iter().map(|(_, leaf)| leaf).collect();
	Some(Plan {
		model,
		seqs,
		per_user,
		contributors: contributors
			.into_iter()
			.filter(|(_, sum)| *sum > 0)
			.collect(),
		receipts_root: merkle_root(&leaves),
	})
}

/// Plancks as a decimal string in JSON (numbers lose precision above
/// 2^53); a number is accepted too.
mod plancks {
	use super::*;

	pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
		serializer.serialize_str(&value.to_string())
	}

	pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
		#[derive(Deserialize)]
		#[serde(untagged)]
		enum Text {
			Text(String),
			Number(u64),
		}
		match Text::deserialize(deserializer)? {
			Text::Number(number) => Ok(u128::from(number)),
			Text::Text(text) => text.parse().map_err(|_| {
				serde::de::Error::custom(format!("`{text}` is not a whole number of plancks"))
			}),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use subxt_signer::sr25519::{dev, Keypair};

	const GENESIS: [u8; 32] = [9; 32];

	fn signed(user: &Keypair, model: u32, expires_at: u32, cap: u128, form: Form) -> SignedVoucher {
		let mut voucher = SignedVoucher {
			user: user.public_key().to_account_id(),
			worker: dev::ferdie().public_key().to_account_id(),
			model,
			expires_at,
			cumulative_fee_cap: cap,
			signature: [0; 64],
			form,
		};
		let payload = voucher.voucher().signing_payload(&GENESIS);
		voucher.signature = user.sign(&PayloadForm::from(form).message(payload)).0;
		voucher
	}

	fn charge(seq: u64, voucher: &SignedVoucher, fee: u128, scores: &[(u64, u32)]) -> Charge {
		Charge {
			seq,
			voucher: voucher.clone(),
			fee,
			scores: scores.to_vec(),
			result_hash: [seq as u8; 32],
			served_at: 1,
		}
	}

	const LIMITS: BatchLimits = BatchLimits {
		max_users: 1_024,
		max_contributors: 512,
	};

	#[test]
	fn a_voucher_verifies_in_the_form_it_was_signed_and_nothing_else() {
		let alice = dev::alice();
		for form in [Form::Raw, Form::Wallet] {
			let voucher = signed(&alice, 0, 100, 1_000, form);
			assert!(voucher.verify(&GENESIS), "{form:?}");
			assert!(!voucher.verify(&[8; 32]), "another chain's genesis");
			let swapped = SignedVoucher {
				form: if form == Form::Raw {
					Form::Wallet
				} else {
					Form::Raw
				},
				..voucher.clone()
			};
			assert!(!swapped.verify(&GENESIS));
			let raised = SignedVoucher {
				cumulative_fee_cap: 1_001,
				..voucher.clone()
			};
			assert!(!raised.verify(&GENESIS), "a raised cap is not signed");
			let bob = SignedVoucher {
				user: dev::bob().public_key().to_account_id(),
				..voucher
			};
			assert!(!bob.verify(&GENESIS), "signed by Alice, not Bob");
		}
	}

	#[test]
	fn a_voucher_reads_from_json_with_ss58_accounts_and_hex() {
		let voucher = signed(&dev::alice(), 3, 100, 5_000, Form::Wallet);
		let json = serde_json::to_value(&voucher).unwrap();
		assert_eq!(json["cumulative_fee_cap"], "5000");
		assert_eq!(json["form"], "wallet");
		assert_eq!(
			json["user"],
			"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
		);
		let back: SignedVoucher = serde_json::from_value(json.clone()).unwrap();
		assert_eq!(back, voucher);
		let mut number = json;
		number["cumulative_fee_cap"] = 5_000.into();
		assert_eq!(
			serde_json::from_value::<SignedVoucher>(number).unwrap(),
			voucher
		);
	}

	#[test]
	fn a_batch_has_one_channel_per_user_in_account_order_with_the_highest_cap() {
		let (alice, bob) = (dev::alice(), dev::bob());
		let alice_low = signed(&alice, 0, 100, 1_000, Form::Raw);
		let alice_high = signed(&alice, 0, 100, 2_000, Form::Raw);
		let alice_later = signed(&alice, 0, 200, 9_000, Form::Raw);
		let bob_voucher = signed(&bob, 0, 100, 500, Form::Wallet);
		let other_model = signed(&bob, 1, 100, 500, Form::Raw);
		let charges = vec![
			charge(0, &alice_low, 300, &[(5, 600_000), (2, 400_000)]),
			charge(1, &bob_voucher, 200, &[(2, 1_000_000)]),
			charge(2, &alice_high, 400, &[(5, 1_000_000)]),
			charge(3, &alice_later, 100, &[(7, 1_000_000)]),
			charge(4, &other_model, 100, &[(9, 1_000_000)]),
		];
		let plan = plan_batch(&charges, 0, LIMITS, |_| true).unwrap();
		assert_eq!(plan.seqs, vec![0, 1, 2]);
		let mut users: Vec<[u8; 32]> = vec![alice.public_key().0, bob.public_key().0];
		users.sort();
		let planned: Vec<[u8; 32]> = plan.per_user.iter().map(|p| p.voucher.user.0).collect();
		assert_eq!(planned, users, "ascending accounts");
		let alice_part = plan
			.per_user
			.iter()
			.find(|part| part.voucher.user.0 == alice.public_key().0)
			.unwrap();
		assert_eq!(alice_part.voucher, alice_high);
		assert_eq!(alice_part.fee, 700);
		assert_eq!(plan.contributors, vec![(2, 1_400_000), (5, 1_600_000)]);
		let leaves: Vec<[u8; 32]> = [0, 1, 2]
			.iter()
			.map(|i| receipt_leaf(&charges[*i]))
			.collect();
		assert_eq!(plan.receipts_root, merkle_root(&leaves));

		// Alice's later channel and the other model's charge wait.
		let rest: Vec<Charge> = charges.into_iter().filter(|c| c.seq >= 3).collect();
		let next = plan_batch(&rest, 0, LIMITS, |_| true).unwrap();
		assert_eq!(next.seqs, vec![3]);
		assert_eq!(plan_batch(&rest[1..], 0, LIMITS, |_| true), None);
	}

	#[test]
	fn a_batch_stays_within_the_chains_bounds_and_leaves_out_dead_contributions() {
		let (alice, bob, charlie) = (dev::alice(), dev::bob(), dev::charlie());
		let vouchers: Vec<SignedVoucher> = [&alice, &bob, &charlie]
			.iter()
			.map(|user| signed(user, 0, 100, 1_000, Form::Raw))
			.collect();
		let charges: Vec<Charge> = vouchers
			.iter()
			.enumerate()
			.map(|(i, voucher)| charge(i as u64, voucher, 10, &[(i as u64, 500_000), (9, 500_000)]))
			.collect();
		let two_users = BatchLimits {
			max_users: 2,
			..LIMITS
		};
		assert_eq!(
			plan_batch(&charges, 0, two_users, |_| true)
				.unwrap()
				.per_user
				.len(),
			2
		);
		let two_contributors = BatchLimits {
			max_contributors: 2,
			..LIMITS
		};
		let plan = plan_batch(&charges, 0, two_contributors, |_| true).unwrap();
		assert_eq!(plan.per_user.len(), 1);
		assert_eq!(plan.contributors.len(), 2);
		let plan = plan_batch(&charges, 0, LIMITS, |id| id != 9).unwrap();
		assert_eq!(
			plan.contributors,
			vec![(0, 500_000), (1, 500_000), (2, 500_000)]
		);
		assert_eq!(plan.per_user.iter().map(|p| p.fee).sum::<u128>(), 30);
	}

	#[test]
	fn the_ledger_replays_pending_charges_and_the_batch_in_flight() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("vouchers.jsonl");
		let alice = dev::alice();
		let voucher = signed(&alice, 0, 100, 1_000, Form::Raw);
		let mut ledger = VoucherLedger::open(&path).unwrap();
		for seq in 0..4 {
			ledger
				.record(LedgerEntry::Served(charge(
					seq,
					&voucher,
					10,
					&[(1, 1_000_000)],
				)))
				.unwrap();
		}
		let settling = Settling {
			model: 0,
			seqs: vec![0, 1],
			receipts_root: [1; 32],
			first_id: 0,
			at: 5,
		};
		ledger
			.record(LedgerEntry::Settling(settling.clone()))
			.unwrap();
		ledger
			.record(LedgerEntry::Dropped {
				seqs: vec![3],
				reason: "expired".into(),
			})
			.unwrap();
		drop(ledger);

		let mut ledger = VoucherLedger::open(&path).unwrap();
		assert_eq!(ledger.next_seq(), 4);
		assert_eq!(ledger.settling(), Some(&settling));
		assert_eq!(
			ledger.owed_by(&alice.public_key().0),
			30,
			"0, 1 in flight and 2"
		);
		assert_eq!(ledger.owed_on(&voucher.channel()), 30);
		assert_eq!(ledger.owed_by(&dev::bob().public_key().0), 0);
		ledger.record(LedgerEntry::Settled { batch: 0 }).unwrap();
		drop(ledger);
		let ledger = VoucherLedger::open(&path).unwrap();
		assert_eq!(ledger.settling(), None);
		assert_eq!(ledger.pending().map(|c| c.seq).collect::<Vec<_>>(), vec![2]);
	}
}
