//! Carry's Rust SDK: instruction builders, account decoders and views, built on the programs'
//! own account types and the shared `no_std` cores (`carry-book`, `carry-math`), so what the
//! SDK computes is what the chain computes.
//!
//! - [`margin`], [`orderbook`]: PDAs, instruction builders, account decoders and views, perp
//!   markets included (their book accounts read with [`orderbook::MarketView`], laid out as
//!   order book markets);
//! - [`client`]: the [`client::Chain`] trait over JSON-RPC and over solana-program-test's
//!   `BanksClient`, account finding, sending with a compute budget, event decoding;
//! - [`health`]: health by the program's own code over fetched accounts, max withdraw, rates
//!   and interest projections, health with an order placed and the largest order size the
//!   chain accepts at a price;
//! - [`liquidation`]: liquidation price per position, by the program's own perp term;
//! - [`keeper`]: the permissionless cranks the `carry-keeper` binary and the local chain run
//!   (interest, reserve sweep, fill events, funding, PnL settlement, dated-future expiry);
//! - [`tokens`]: token and perp market lists from a bootstrap config, amount parsing, sizes and
//!   prices to lots and ticks;
//! - [`pyth`]: oracle account bytes for development chains and tests.
//!
//! The command-line client `carry` is `src/bin/carry`, the keeper `src/bin/carry-keeper`.

pub mod client;
pub mod health;
pub mod keeper;
pub mod liquidation;
pub mod margin;
pub mod orderbook;
pub mod pyth;
pub mod tokens;

pub use carry_book;
pub use carry_margin;
pub use carry_math;
pub use carry_orderbook;
