//! Carry's pure math, shared by the margin program and the SDK so that both compute the same
//! numbers: fixed point ([`fixed`]), the interest curve and accrual ([`interest`]), share
//! conversions ([`bank_math`]), oracle validation and the stable price ([`oracle`]), health as
//! a sum of terms ([`health`]), and perpetual futures: positions, fills, fees, PnL settlement
//! and a position's health contribution ([`perp`]), funding ([`funding`]), leverage tiers
//! ([`tiers`]) and the settlement price of dated futures ([`dated`]); liquidation targets, fees,
//! prices and the "just enough" search ([`liquidation`]).
//! `no_std`, no Solana types, no floats.
#![no_std]
#![deny(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod bank_math;
pub mod dated;
pub mod error;
pub mod fixed;
pub mod funding;
pub mod health;
pub mod interest;
pub mod liquidation;
pub mod oracle;
pub mod perp;
#[cfg(test)]
mod reference;
pub mod tiers;
mod wide;

pub use error::MathError;
pub use fixed::{I80F48Bytes, Round, I80F48};
