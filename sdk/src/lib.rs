//! Carry's Rust SDK: instruction builders, account decoders and views, built on the programs'
//! own account types and the shared `no_std` cores (`carry-book`, `carry-math`), so what the
//! SDK computes is what the chain computes.
//!
//! Today: the order book ([`orderbook`]) and the margin program's PDAs, instruction builders
//! and account decoders ([`margin`]), perp markets included (their book accounts read with
//! [`orderbook::MarketView`], laid out as order book markets). Health simulation, the keeper and the CLI follow with
//! their issues.

pub mod margin;
pub mod orderbook;

pub use carry_book;
pub use carry_margin;
pub use carry_math;
pub use carry_orderbook;
