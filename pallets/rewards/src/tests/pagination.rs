//! Payouts are paginated: however many accounts earned in an epoch, no block
//! pays more than `MaxPayoutsPerBlock` of them or weighs more than
//! `MAX_HOOK_SHARE` of a block.

use super::*;
use crate::impls::MAX_HOOK_SHARE;
use polkadot_sdk::{frame_support::traits::Get, frame_system};

const EARNERS: u64 = 10_000;
/// Accounts of the earners: clear of the mock's named accounts.
const FIRST_EARNER: u64 = 100_000;

#[test]
fn ten_thousand_earners_are_paid_across_blocks_within_the_block_weight() {
	ExtBuilder::default().build_and_execute(|| {
		for who in FIRST_EARNER..FIRST_EARNER + EARNERS {
			attribute(who, 1);
		}
		let pool = free(COMMUNITY);
		let max_block = <<Test as frame_system::Config>::BlockWeights as Get<
			frame_system::limits::BlockWeights,
		>>::get()
		.max_block;
		let limit = MAX_HOOK_SHARE * max_block;
		assert!(Rewards::max_hook_weight().all_lte(limit));

		let mut weights = run_to_epoch(1);
		let mut blocks_paying = 0;
		while ActivePayout::<Test>::get().is_some() || NextEpochToPay::<Test>::get() == 0 {
			blocks_paying += 1;
			// The epoch that ends meanwhile waits for the first to be paid.
			if System::block_number() == 2 * EPOCH {
				assert_eq!(Rewards::epoch_info().unpaid_epochs, 2);
				assert!(ClosedEpochs::<Test>::contains_key(1));
			}
			let unpaid = Earnings::<Test>::iter_prefix(0).count() as u64;
			assert_eq!(
				ActivePayout::<Test>::get().map(|run| u64::from(run.remaining)),
				Some(unpaid)
			);
			weights.extend(run_to_block(System::block_number() + 1));
		}

		// 500 a block: twenty blocks, the first being the epoch's end.
		assert_eq!(blocks_paying + 1, EARNERS / u64::from(MAX_PAYOUTS));
		for weight in &weights {
			assert!(weight.all_lte(limit), "{weight:?} is over {limit:?}");
		}
		let share = 50_000 / Balance::from(EARNERS);
		for who in FIRST_EARNER..FIRST_EARNER + EARNERS {
			assert_eq!(claimable(who), share);
		}
		assert_eq!(TotalEmitted::<Test>::get(), share * Balance::from(EARNERS));
		assert_eq!(free(COMMUNITY), pool - share * Balance::from(EARNERS));
		assert_eq!(Earnings::<Test>::iter_prefix(0).count(), 0);

		// The waiting epoch (no earners) is paid next.
		run_to_block(System::block_number() + 1);
		assert_eq!(NextEpochToPay::<Test>::get(), 2);
	});
}

#[test]
fn the_hook_reports_the_weight_of_what_it_paid() {
	ExtBuilder::default().build_and_execute(|| {
		for who in FIRST_EARNER..FIRST_EARNER + 3 {
			attribute(who, 1);
		}
		let idle = run_to_block(EPOCH - 1);
		let closing = run_to_epoch(1);
		let base = <() as WeightInfo>::on_initialize_base();
		assert!(idle.iter().all(|weight| weight.all_gte(base)));
		let expected = base
			.saturating_add(<() as WeightInfo>::close_epoch())
			.saturating_add(<() as WeightInfo>::start_payout())
			.saturating_add(<() as WeightInfo>::pay_earners(3))
			.saturating_add(<() as WeightInfo>::finish_payout());
		assert_eq!(closing.len(), 1);
		assert!(closing.iter().all(|weight| weight.all_gte(expected)));
		assert!(closing
			.iter()
			.all(|weight| weight.all_lte(Rewards::max_hook_weight())));
	});
}
