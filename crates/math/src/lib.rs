//! Carry's pure math, shared by the margin program and the SDK so that both compute the same
//! numbers: fixed point ([`fixed`]), the interest curve and accrual ([`interest`]), share
//! conversions ([`bank_math`]), oracle validation and the stable price ([`oracle`]), and
//! health as a sum of terms ([`health`]). `no_std`, no Solana types, no floats.
#![no_std]
#![deny(missing_docs)]

pub mod bank_math;
pub mod error;
pub mod fixed;
pub mod health;
pub mod interest;
pub mod oracle;

pub use error::MathError;
pub use fixed::{I80F48Bytes, Round, I80F48};
