//! Carry's central limit order book matching engine.
//!
//! `no_std`, no Solana types, no allocation, no panics on valid or invalid input: every fallible
//! step returns a [`BookError`]. The same code runs inside `programs/orderbook` and inside the SBF
//! compute-unit harness in `bench/sbf`.
//!
//! A book lives in one caller-provided byte buffer (an account's data): a [`BookHeader`], each
//! side's fixed-price tree's left [`Spine`] (its best order without a descent), then per side a
//! slab of [`Order`] slots and a slab of critbit [`InnerNode`]s, then a ring buffer of maker
//! [`FillEvent`]s. See [`layout`]. Each owner's index of its resting orders is not in
//! the book: it is an [`OpenOrders`] list the owner's account keeps and the caller passes to
//! the calls that need it (a resting place, cancel and reduce by client id, cancel-all).
//!
//! Units: prices are in ticks (quote lots per base lot), quantities in base lots, timestamps in
//! unix seconds. A fill's quote amount is `price * quantity` in quote lots.
//!
//! Matching is price-time priority over two trees per side: fixed-price orders, and
//! oracle-pegged orders keyed by their offset to the oracle price. A place is planned read-only
//! first and committed only when it cannot fail, so an error leaves the book unchanged.
//!
//! Files, each depending only on those above it: `arith`, `error`, `order` (value types),
//! `layout` (the bytes); `tree` (critbit price trees and their left spines); `book` (the buffer's parts, load,
//! lookups, removal); `open_orders` (an owner's list read against the book); `listener`;
//! `cursor` (a side in priority order, pegged pricing); `queries`; `events` (the fill ring);
//! `place`; `cancel`.
#![cfg_attr(not(test), no_std)]

pub mod arith;
mod book;
mod cancel;
mod cursor;
mod error;
mod events;
pub mod layout;
mod listener;
mod open_orders;
mod order;
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
pub use layout::{
    BookHeader, FillEvent, InnerNode, OpenOrderEntry, OpenOrders, Order, SideHeader, Spine,
    EVENT_FILL, EVENT_OUT, MAX_OPEN_ORDERS,
};
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
/// Largest order capacity of one side (order slots are addressed with 29 bits).
pub const MAX_ORDER_CAPACITY: u32 = 1 << 20;
