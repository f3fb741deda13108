//! Carry's central limit order book matching engine.
//!
//! `no_std`, no Solana types, no allocation, no panics on valid or invalid input: every fallible
//! step returns a [`BookError`]. The same code runs inside `programs/orderbook` and inside the SBF
//! compute-unit harness in `bench/sbf`.
//!
//! A book lives in one caller-provided byte buffer (an account's data): a [`BookHeader`], then
//! per side a slab of [`Order`] slots and a slab of critbit [`InnerNode`]s, the owner tree
//! (critbit over `(owner, client order id)` of both sides' orders), and a ring buffer of maker
//! [`FillEvent`]s. See [`layout`].
//!
//! Units: prices are in ticks (quote lots per base lot), quantities in base lots, timestamps in
//! unix seconds. A fill's quote amount is `price * quantity` in quote lots.
//!
//! Matching is price-time priority over two trees per side: fixed-price orders, and
//! oracle-pegged orders keyed by their offset to the oracle price. A place is planned read-only
//! first and committed only when it cannot fail, so an error leaves the book unchanged.
//!
//! Files, each depending only on those above it: `arith`, `error`, `order` (value types),
//! `layout` (the bytes); `tree` (critbit price trees) and `owners` (the owner tree); `book`
//! (the buffer's parts, load, lookups, removal); `listener`; `cursor` (a side in priority order,
//! pegged pricing); `queries`; `events` (the fill ring); `place`; `cancel`.
#![cfg_attr(not(test), no_std)]

pub mod arith;
mod book;
mod cancel;
mod cursor;
mod error;
mod events;
pub mod layout;
mod listener;
mod order;
mod owners;
mod place;
mod queries;
mod tree;

/// The unit tests' seeded xorshift.
#[cfg(test)]
pub(crate) struct TestRng(pub(crate) u64);
#[cfg(test)]
impl TestRng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

pub use book::Book;
pub use error::BookError;
pub use layout::{BookHeader, FillEvent, InnerNode, Order, SideHeader, EVENT_FILL, EVENT_OUT};
pub use listener::{BookListener, NoopListener};
pub use order::{
    CancelAllOutcome, CancelledOrder, MatchContext, NewOrder, OrderId, OrderSide, OrderType,
    OutReason, PlaceOutcome, ReduceOutcome, SelfTradeMode,
};
pub use queries::OrderView;

/// Most fills one place may produce (callers pass a lower `max_fills` to bound compute; a
/// programs/orderbook market sets its own cap up to this).
pub const MAX_FILLS_PER_PLACE: u32 = 64;
/// Most makers one place may remove on its way without filling them: expired, beyond their
/// peg limit, or cancelled or decremented by self-trade prevention.
pub const MAX_REMOVALS_PER_PLACE: u32 = 64;
/// Most of an owner's orders one cancel-all call visits (cancelled, or passed over when they
/// are on the other side).
pub const MAX_CANCEL_ALL_VISITS: u32 = 512;
/// Largest order capacity of one side (order slots are addressed with 29 bits).
pub const MAX_ORDER_CAPACITY: u32 = 1 << 20;
