//! The registry's logic: the calls in `lib.rs` delegate here.

use crate::*;
use codec::Encode;
use openledger_primitives::{
	BondedStake, DatanetsInspect, DeployedModel, ModelRegistryInspect, Role,
};
use polkadot_sdk::{
	frame_support::{
		defensive,
		dispatch::DispatchResult,
		ensure,
		traits::{
			fungible::{InspectHold, MutateHold},
			tokens::{Fortitude, Precision, Restriction},
			Get,
		},
		weights::Weight,
	},
	frame_system,
	sp_runtime::{
		traits::{Saturating, Zero},
		DispatchError,
	},
};

/// Bytes a model's tally adds to its record: two balances and a counter.
const TALLY_BYTES: usize = 16 + 16 + 4;
/// Bytes a model's entry in the list of proposals ending in its block adds.
const ENDING_ENTRY_BYTES: usize = 4;

impl<T: Config> Pallet<T> {
	/// Deposit for storing `bytes`: `DepositBase + DepositPerByte * bytes`.
	pub fn deposit_for(bytes: usize) -> BalanceOf<T> {
		let bytes = BalanceOf::<T>::from(u32::try_from(bytes).unwrap_or(u32::MAX));
		T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}

	fn hold(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		T::Currency::hold(&reason.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Returns held funds. This pallet's holds always cover what it releases
	/// (`try_state` checks it); if one ever does not, the release goes as far
	/// as it can rather than locking the account out.
	fn release(reason: HoldReason, who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		match T::Currency::release(&reason.into(), who, amount, Precision::BestEffort) {
			Ok(released) if released == amount => {},
			_ => {
				defensive!("model-registry: a hold did not cover the amount released");
			},
		}
	}

	/// Fails before anything changes when `who` cannot hold `total` more.
	fn ensure_can_hold(who: &T::AccountId, total: BalanceOf<T>) -> DispatchResult {
		let reason: T::RuntimeHoldReason = HoldReason::StorageDeposit.into();
		ensure!(
			total.is_zero() || T::Currency::can_hold(&reason, who, total),
			Error::<T>::InsufficientBalance
		);
		Ok(())
	}

	pub(crate) fn do_register_base_model(
		name: NameOf<T>,
		architecture: ArchitectureOf<T>,
		weights_hash: Hash,
		uri: UriOf<T>,
		license: LicenseOf<T>,
	) -> DispatchResult {
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		let base = NextBaseModelId::<T>::get();
		let next = base.next().ok_or(Error::<T>::IdsExhausted)?;
		BaseModels::<T>::insert(
			base,
			BaseModel {
				name,
				architecture,
				weights_hash,
				uri,
				license,
				registered_at: frame_system::Pallet::<T>::block_number(),
			},
		);
		NextBaseModelId::<T>::put(next);
		Self::deposit_event(Event::BaseModelRegistered { base, weights_hash });
		Ok(())
	}

	pub(crate) fn do_propose_model(
		owner: T::AccountId,
		base: BaseModelId,
		mut datanet_versions: DatanetVersionsOf<T>,
		training_config_hash: Hash,
		pricing: Pricing<BalanceOf<T>>,
		split: FeeSplit,
		trainer: Option<T::AccountId>,
	) -> DispatchResult {
		ensure!(
			BaseModels::<T>::contains_key(base),
			Error::<T>::UnknownBaseModel
		);
		ensure!(!datanet_versions.is_empty(), Error::<T>::NoDatanetVersions);
		datanet_versions.sort();
		let distinct = datanet_versions
			.iter()
			.zip(datanet_versions.iter().skip(1))
			.all(|(a, b)| a != b);
		ensure!(distinct, Error::<T>::DuplicateDatanetVersion);
		ensure!(
			datanet_versions
				.iter()
				.all(|v| T::Datanets::version_exists(v.datanet, v.version)),
			Error::<T>::UnknownDatanetVersion
		);
		ensure!(
			SplitLimits::<T>::get().admits(&split),
			Error::<T>::SplitOutOfBounds
		);

		let model = NextModelId::<T>::get();
		let next = model.next().ok_or(Error::<T>::IdsExhausted)?;
		let now = frame_system::Pallet::<T>::block_number();
		let ends_at = now.saturating_add(VotingPeriodBlocks::<T>::get());
		let mut ending = ProposalsEndingAt::<T>::get(ends_at);
		ending
			.try_push(model)
			.map_err(|_| Error::<T>::TooManyProposalsEnding)?;

		let bond = T::ProposalBond::get();
		let mut record = Model {
			owner: owner.clone(),
			trainer,
			base,
			datanet_versions,
			training_config_hash,
			pricing,
			split,
			status: ModelStatus::Voting { ends_at },
			bond,
			deposit: Zero::zero(),
			proposed_at: now,
			adapter_versions: 0,
		};
		let deposit = Self::deposit_for(
			record
				.encoded_size()
				.saturating_add(TALLY_BYTES)
				.saturating_add(ENDING_ENTRY_BYTES),
		);
		record.deposit = deposit;
		Self::ensure_can_hold(&owner, bond.saturating_add(deposit))?;
		Self::hold(HoldReason::ProposalBond, &owner, bond)?;
		Self::hold(HoldReason::StorageDeposit, &owner, deposit)?;

		Models::<T>::insert(model, record);
		Tallies::<T>::insert(model, Tally::default());
		ProposalsEndingAt::<T>::insert(ends_at, ending);
		NextModelId::<T>::put(next);
		Self::deposit_event(Event::ModelProposed {
			model,
			owner,
			base,
			ends_at,
			bond,
			deposit,
		});
		Ok(())
	}

	/// The model, if it is under vote, with its tally.
	fn voting_model(model: ModelId) -> Result<Tally<BalanceOf<T>>, DispatchError> {
		let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(
			matches!(record.status, ModelStatus::Voting { .. }),
			Error::<T>::VotingClosed
		);
		Tallies::<T>::get(model).ok_or_else(|| {
			defensive!("model-registry: a model under vote has no tally");
			Error::<T>::VotingClosed.into()
		})
	}

	pub(crate) fn do_vote(voter: T::AccountId, model: ModelId, vote: Vote) -> DispatchResult {
		let mut tally = Self::voting_model(model)?;
		let weight = T::Stake::voting_weight(&voter);
		ensure!(!weight.is_zero(), Error::<T>::NoVotingWeight);

		let previous = Votes::<T>::get(model, &voter);
		let deposit = match previous {
			Some(old) => {
				Self::uncount(&mut tally, &old);
				old.deposit
			},
			None => {
				let deposit = T::VoteDeposit::get();
				Self::hold(HoldReason::StorageDeposit, &voter, deposit)?;
				deposit
			},
		};
		let record = VoteRecord {
			vote,
			weight,
			deposit,
		};
		Self::count(&mut tally, &record);
		Votes::<T>::insert(model, &voter, record);
		Tallies::<T>::insert(model, tally);
		Self::deposit_event(Event::Voted {
			model,
			voter,
			vote,
			weight,
		});
		Ok(())
	}

	pub(crate) fn do_remove_vote(voter: T::AccountId, model: ModelId) -> DispatchResult {
		let record = Votes::<T>::get(model, &voter).ok_or(Error::<T>::NoVote)?;
		if let Ok(mut tally) = Self::voting_model(model) {
			Self::uncount(&mut tally, &record);
			Tallies::<T>::insert(model, tally);
		}
		Votes::<T>::remove(model, &voter);
		Self::release(HoldReason::StorageDeposit, &voter, record.deposit);
		Self::deposit_event(Event::VoteRemoved { model, voter });
		Ok(())
	}

	fn count(tally: &mut Tally<BalanceOf<T>>, vote: &VoteRecord<BalanceOf<T>>) {
		match vote.vote {
			Vote::Aye => tally.ayes = tally.ayes.saturating_add(vote.weight),
			Vote::Nay => tally.nays = tally.nays.saturating_add(vote.weight),
		}
		tally.voters = tally.voters.saturating_add(1);
	}

	fn uncount(tally: &mut Tally<BalanceOf<T>>, vote: &VoteRecord<BalanceOf<T>>) {
		match vote.vote {
			Vote::Aye => tally.ayes = tally.ayes.saturating_sub(vote.weight),
			Vote::Nay => tally.nays = tally.nays.saturating_sub(vote.weight),
		}
		tally.voters = tally.voters.saturating_sub(1);
	}

	/// Whether proposals may be open for votes for `blocks`.
	pub(crate) fn valid_voting_period(blocks: BlockNumberFor<T>) -> bool {
		!blocks.is_zero() && blocks <= T::MaxVotingPeriod::get()
	}

	/// Turnout a decision needs at today's total bond.
	fn quorum() -> BalanceOf<T> {
		T::Quorum::get().mul_ceil(T::Stake::total_bonded())
	}

	/// Whether `tally` passes at today's total bond.
	fn passes(tally: &Tally<BalanceOf<T>>) -> bool {
		let turnout = tally.ayes.saturating_add(tally.nays);
		!turnout.is_zero()
			&& turnout >= Self::quorum()
			&& tally.ayes > T::ApprovalThreshold::get().mul_floor(turnout)
	}

	/// Decides every proposal whose vote ends at `now`. Returns the weight
	/// used.
	pub(crate) fn decide_proposals_ending_at(now: BlockNumberFor<T>) -> Weight {
		let ending = ProposalsEndingAt::<T>::take(now);
		let decided = u32::try_from(ending.len()).unwrap_or(u32::MAX);
		for model in ending {
			Self::decide(model);
		}
		T::WeightInfo::on_initialize_decide(decided)
	}

	fn decide(model: ModelId) {
		let Some(mut record) = Models::<T>::get(model) else {
			defensive!("model-registry: a proposal ending now has no record");
			return;
		};
		if !matches!(record.status, ModelStatus::Voting { .. }) {
			defensive!("model-registry: a proposal ending now is not under vote");
			return;
		}
		let tally = Tallies::<T>::take(model).unwrap_or_default();
		if Self::passes(&tally) {
			record.status = ModelStatus::Approved;
			Models::<T>::insert(model, record);
			Self::deposit_event(Event::ModelApproved {
				model,
				ayes: tally.ayes,
				nays: tally.nays,
			});
			return;
		}

		let turnout = tally.ayes.saturating_add(tally.nays);
		let supported = !turnout.is_zero() && tally.ayes >= T::MinSupport::get().mul_ceil(turnout);
		let slash = if supported {
			Zero::zero()
		} else {
			T::RejectionSlash::get().mul_floor(record.bond)
		};
		let slashed = if slash.is_zero() {
			Zero::zero()
		} else {
			T::Currency::transfer_on_hold(
				&HoldReason::ProposalBond.into(),
				&record.owner,
				&T::ProtocolPool::get(),
				slash,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			)
			.unwrap_or_else(|_| {
				defensive!("model-registry: could not slash a proposal bond");
				Zero::zero()
			})
		};
		Self::release(
			HoldReason::ProposalBond,
			&record.owner,
			record.bond.saturating_sub(slashed),
		);
		Self::release(HoldReason::StorageDeposit, &record.owner, record.deposit);
		Models::<T>::remove(model);
		Self::deposit_event(Event::ModelRejected {
			model,
			ayes: tally.ayes,
			nays: tally.nays,
			slashed,
		});
	}

	pub(crate) fn do_publish_adapter(
		publisher: T::AccountId,
		model: ModelId,
		adapter_hash: Hash,
		uri: UriOf<T>,
		attribution_index_root: Hash,
		training_report_hash: Hash,
	) -> DispatchResult {
		let mut record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(
			record.owner == publisher || record.trainer.as_ref() == Some(&publisher),
			Error::<T>::NotPublisher
		);
		ensure!(
			matches!(record.status, ModelStatus::Approved | ModelStatus::Deployed),
			Error::<T>::NotApproved
		);
		ensure!(
			record.adapter_versions < T::MaxAdapterVersions::get(),
			Error::<T>::TooManyAdapterVersions
		);
		let version = record
			.adapter_versions
			.checked_add(1)
			.ok_or(Error::<T>::TooManyAdapterVersions)?;

		let mut adapter = AdapterVersion {
			adapter_hash,
			uri,
			attribution_index_root,
			training_report_hash,
			publisher: publisher.clone(),
			published_at: frame_system::Pallet::<T>::block_number(),
			deposit: Zero::zero(),
		};
		let deposit = Self::deposit_for(adapter.encoded_size());
		adapter.deposit = deposit;
		Self::hold(HoldReason::StorageDeposit, &publisher, deposit)?;

		record.adapter_versions = version;
		record.status = ModelStatus::Deployed;
		Models::<T>::insert(model, record);
		Adapters::<T>::insert(model, version, adapter);
		Self::deposit_event(Event::AdapterPublished {
			model,
			version,
			adapter_hash,
			attribution_index_root,
			publisher,
			deposit,
		});
		Ok(())
	}

	pub(crate) fn do_serve(worker: T::AccountId, model: ModelId) -> DispatchResult {
		let record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		ensure!(
			record.status == ModelStatus::Deployed,
			Error::<T>::NotDeployed
		);
		ensure!(
			T::Stake::is_active(&worker, Role::Worker),
			Error::<T>::NotWorker
		);
		ensure!(
			!Servers::<T>::contains_key(model, &worker),
			Error::<T>::AlreadyServing
		);
		let count = ServerCount::<T>::get(model);
		ensure!(
			count < T::MaxWorkersPerModel::get(),
			Error::<T>::TooManyWorkers
		);
		let mut served = ServedBy::<T>::get(&worker);
		served
			.try_push(model)
			.map_err(|_| Error::<T>::TooManyModelsServed)?;

		let deposit = T::ServeDeposit::get();
		Self::hold(HoldReason::StorageDeposit, &worker, deposit)?;
		Servers::<T>::insert(model, &worker, deposit);
		ServerCount::<T>::insert(model, count.saturating_add(1));
		ServedBy::<T>::insert(&worker, served);
		Self::deposit_event(Event::ServingStarted { model, worker });
		Ok(())
	}

	pub(crate) fn do_unserve(worker: T::AccountId, model: ModelId) -> DispatchResult {
		let deposit = Servers::<T>::take(model, &worker).ok_or(Error::<T>::NotServing)?;
		ServerCount::<T>::mutate(model, |count| *count = count.saturating_sub(1));
		ServedBy::<T>::mutate_exists(&worker, |served| {
			if let Some(list) = served {
				list.retain(|m| *m != model);
				if list.is_empty() {
					*served = None;
				}
			}
		});
		Self::release(HoldReason::StorageDeposit, &worker, deposit);
		Self::deposit_event(Event::ServingStopped { model, worker });
		Ok(())
	}

	/// Retires `model`, asked by `by_owner` (a signed account) or by
	/// governance (`None`).
	pub(crate) fn do_retire(by_owner: Option<T::AccountId>, model: ModelId) -> DispatchResult {
		let mut record = Models::<T>::get(model).ok_or(Error::<T>::UnknownModel)?;
		if let Some(who) = &by_owner {
			ensure!(*who == record.owner, Error::<T>::NotOwner);
		}
		match record.status {
			ModelStatus::Voting { .. } => return Err(Error::<T>::StillVoting.into()),
			ModelStatus::Retired => return Err(Error::<T>::AlreadyRetired.into()),
			ModelStatus::Approved | ModelStatus::Deployed => {},
		}
		let bond_released = record.bond;
		Self::release(HoldReason::ProposalBond, &record.owner, bond_released);
		record.bond = Zero::zero();
		record.status = ModelStatus::Retired;
		Models::<T>::insert(model, record);
		Self::deposit_event(Event::ModelRetired {
			model,
			bond_released,
		});
		Ok(())
	}

	/// A model with its base model and adapter versions.
	pub fn lineage_of(model: ModelId) -> Option<LineageOf<T>> {
		let record = Models::<T>::get(model)?;
		let base = BaseModels::<T>::get(record.base);
		let adapters = (1..=record.adapter_versions)
			.filter_map(|version| Adapters::<T>::get(model, version))
			.collect();
		Some(Lineage {
			model: record,
			base,
			adapters,
		})
	}

	/// The tally of a model under vote, as clients see it.
	pub fn tally_view(model: ModelId) -> Option<TallyView<BalanceOf<T>, BlockNumberFor<T>>> {
		let record = Models::<T>::get(model)?;
		let ModelStatus::Voting { ends_at } = record.status else {
			return None;
		};
		let tally = Tallies::<T>::get(model)?;
		Some(TallyView {
			tally,
			ends_at,
			quorum: Self::quorum(),
			passing: Self::passes(&tally),
		})
	}

	/// Sanity of the configuration, checked by `integrity_test`.
	pub(crate) fn check_constants() {
		assert!(
			Self::valid_voting_period(T::VotingPeriod::get()),
			"VotingPeriod must be between 1 and MaxVotingPeriod blocks"
		);
		assert!(
			T::MaxProposalsPerBlock::get() > 0,
			"MaxProposalsPerBlock must be positive"
		);
		assert!(
			T::MaxDatanetVersions::get() > 0,
			"MaxDatanetVersions must be positive"
		);
		assert!(
			T::MaxAdapterVersions::get() > 0,
			"MaxAdapterVersions must be positive"
		);
		assert!(
			T::DefaultSplitBounds::get().is_satisfiable(),
			"DefaultSplitBounds must admit a complete split"
		);
		assert!(
			!T::ApprovalThreshold::get().is_zero(),
			"an approval threshold of zero would pass proposals nobody supports"
		);
		assert!(
			!T::VoteDeposit::get().is_zero() && !T::ServeDeposit::get().is_zero(),
			"votes and serving entries must be paid for"
		);
	}

	/// The registry's invariants:
	/// - every account's holds equal what its records say: proposal bonds of
	///   live models; deposits of models, adapter versions, votes and
	///   serving entries;
	/// - a model is under vote exactly when it has a tally and an entry in
	///   the list of its end block, and its tally is the sum of its votes;
	/// - serving indexes agree with each other, and only deployed or retired
	///   models have servers;
	/// - adapter versions are numbered 1 to the model's count, without gaps.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		type Totals<T> = BTreeMap<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
		fn add<T: Config>(totals: &mut Totals<T>, who: &T::AccountId, amount: BalanceOf<T>) {
			let entry = totals.entry(who.clone()).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(amount);
		}
		let mut bonds: Totals<T> = BTreeMap::new();
		let mut deposits: Totals<T> = BTreeMap::new();

		for (model, record) in Models::<T>::iter() {
			add::<T>(&mut bonds, &record.owner, record.bond);
			add::<T>(&mut deposits, &record.owner, record.deposit);
			let tally = Tallies::<T>::get(model);
			match record.status {
				ModelStatus::Voting { ends_at } => {
					let mut counted = Tally::default();
					for (_, vote) in Votes::<T>::iter_prefix(model) {
						Self::count(&mut counted, &vote);
					}
					ensure!(
						tally == Some(counted),
						"a tally is not the sum of its votes"
					);
					ensure!(
						ProposalsEndingAt::<T>::get(ends_at).contains(&model),
						"a model under vote is not listed at its end block"
					);
				},
				ModelStatus::Retired => {
					ensure!(tally.is_none(), "a decided model kept its tally");
					ensure!(record.bond.is_zero(), "a retired model kept its bond");
				},
				ModelStatus::Approved | ModelStatus::Deployed => {
					ensure!(tally.is_none(), "a decided model kept its tally");
				},
			}
			for version in 1..=record.adapter_versions {
				let adapter = Adapters::<T>::get(model, version)
					.ok_or("an adapter version within the count is missing")?;
				add::<T>(&mut deposits, &adapter.publisher, adapter.deposit);
			}
			ensure!(
				Adapters::<T>::iter_key_prefix(model).count()
					== usize::try_from(record.adapter_versions).unwrap_or(usize::MAX),
				"adapter versions beyond the model's count"
			);
			let servers = Servers::<T>::iter_prefix(model).count();
			ensure!(
				servers == usize::try_from(ServerCount::<T>::get(model)).unwrap_or(usize::MAX),
				"a server count is wrong"
			);
			if servers > 0 {
				ensure!(
					matches!(record.status, ModelStatus::Deployed | ModelStatus::Retired),
					"a model that was never deployed has servers"
				);
			}
		}
		for (_, voter, vote) in Votes::<T>::iter() {
			add::<T>(&mut deposits, &voter, vote.deposit);
		}
		for (model, worker, deposit) in Servers::<T>::iter() {
			ensure!(
				Models::<T>::contains_key(model),
				"a server of an unknown model"
			);
			ensure!(
				ServedBy::<T>::get(&worker).contains(&model),
				"a serving entry missing from the worker's list"
			);
			add::<T>(&mut deposits, &worker, deposit);
		}
		for (worker, models) in ServedBy::<T>::iter() {
			for model in models {
				ensure!(
					Servers::<T>::contains_key(model, &worker),
					"a worker's list names a model it does not serve"
				);
			}
		}
		for (ends_at, models) in ProposalsEndingAt::<T>::iter() {
			for model in models {
				let record = Models::<T>::get(model).ok_or("an unknown model is listed to end")?;
				ensure!(
					record.status == ModelStatus::Voting { ends_at },
					"a listed model is not under vote until that block"
				);
			}
		}

		let bond_reason: T::RuntimeHoldReason = HoldReason::ProposalBond.into();
		let deposit_reason: T::RuntimeHoldReason = HoldReason::StorageDeposit.into();
		for (who, bonded) in &bonds {
			ensure!(
				T::Currency::balance_on_hold(&bond_reason, who) == *bonded,
				"held proposal bonds differ from the models' bonds"
			);
		}
		for (who, deposited) in &deposits {
			ensure!(
				T::Currency::balance_on_hold(&deposit_reason, who) == *deposited,
				"held storage deposits differ from the records' deposits"
			);
		}
		Ok(())
	}
}

impl<T: Config> ModelRegistryInspect<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn deployed(model: ModelId) -> Option<DeployedModel<T::AccountId, BalanceOf<T>>> {
		let record = Models::<T>::get(model)?;
		if record.status != ModelStatus::Deployed {
			return None;
		}
		let adapter = Adapters::<T>::get(model, record.adapter_versions)?;
		Some(DeployedModel {
			owner: record.owner,
			pricing: record.pricing,
			split: record.split,
			adapter_version: record.adapter_versions,
			adapter_hash: adapter.adapter_hash,
			attribution_index_root: adapter.attribution_index_root,
		})
	}

	fn is_serving(model: ModelId, worker: &T::AccountId) -> bool {
		Servers::<T>::contains_key(model, worker)
	}

	fn serving_workers(model: ModelId) -> alloc::vec::Vec<T::AccountId> {
		Servers::<T>::iter_key_prefix(model).collect()
	}
}
