//! Carry's Rust SDK: instruction builders, account decoders and views, built on the programs'
//! own account types and the shared `no_std` cores (`carry-book`, `carry-math`), so what the
//! SDK computes is what the chain computes.
//!
//! Today: the order book ([`orderbook`]). The margin program's builders, health simulation,
//! the keeper and the CLI follow with their issues.

pub mod orderbook;

pub use carry_book;
pub use carry_orderbook;
