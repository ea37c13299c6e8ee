//! # Supply cap
//!
//! Keeps the OPEN supply under its cap.
//!
//! ## Overview
//!
//! OPEN is minted once, at genesis, up to a fixed cap; rewards are paid from
//! pre-minted pools, never from inflation. This pallet holds no storage and
//! has no calls: it checks the invariant `total issuance <= cap`
//!
//! - in `integrity_test`, that the configured cap is non-zero;
//! - in `try_state`, after every block under `try-runtime` and after every
//!   runtime test that wraps its body in a `try_state` check;
//! - through [`Pallet::ensure_within_cap`], which other pallets and tests
//!   call directly.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod tests;

// FRAME's pallet macros expand to `expect` calls; the logic below has none.
#[allow(clippy::expect_used)]
#[polkadot_sdk::frame_support::pallet]
pub mod pallet {
	use polkadot_sdk::{
		frame_support::{pallet_prelude::*, traits::fungible},
		frame_system::pallet_prelude::*,
		sp_runtime::Saturating,
	};

	/// The balance type of the currency whose supply is capped.
	pub type BalanceOf<T> = <<T as Config>::Currency as fungible::Inspect<
		<T as polkadot_sdk::frame_system::Config>::AccountId,
	>>::Balance;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config {
		/// The currency whose total issuance is capped.
		type Currency: fungible::Inspect<Self::AccountId>;
		/// The most that may ever be issued.
		#[pallet::constant]
		type Cap: Get<BalanceOf<Self>>;
	}

	#[pallet::error]
	pub enum Error<T> {
		/// Total issuance exceeds the cap: something minted OPEN it must not.
		IssuanceAboveCap,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(!T::Cap::get().is_zero(), "the supply cap must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(
			_n: BlockNumberFor<T>,
		) -> Result<(), polkadot_sdk::sp_runtime::TryRuntimeError> {
			Self::ensure_within_cap().map_err(Into::into)
		}
	}

	impl<T: Config> Pallet<T> {
		/// Fails with [`Error::IssuanceAboveCap`] when more than the cap exists.
		pub fn ensure_within_cap() -> DispatchResult {
			let issued = <T::Currency as fungible::Inspect<T::AccountId>>::total_issuance();
			ensure!(issued <= T::Cap::get(), Error::<T>::IssuanceAboveCap);
			Ok(())
		}

		/// What may still be issued before the cap is reached.
		pub fn headroom() -> BalanceOf<T> {
			let issued = <T::Currency as fungible::Inspect<T::AccountId>>::total_issuance();
			T::Cap::get().saturating_sub(issued)
		}
	}
}
