//! Tests, one file per topic. Each runs through
//! [`ExtBuilder::build_and_execute`](crate::mock::ExtBuilder::build_and_execute),
//! which checks the pallet's invariants after the test body.

mod bonding;
mod genesis;
mod slashing;
mod unbonding;
mod validators;
mod views;
