//! Instruction arguments and return values, with their engine conversions.

use anchor_lang::prelude::*;
use carry_book as book;

/// Side of an order.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderSide {
    Bid,
    Ask,
}

impl From<OrderSide> for book::OrderSide {
    fn from(s: OrderSide) -> book::OrderSide {
        match s {
            OrderSide::Bid => book::OrderSide::Bid,
            OrderSide::Ask => book::OrderSide::Ask,
        }
    }
}

/// How an order meets the book (the engine's `carry_book::OrderType`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    /// Takes what crosses `price`, rests the rest.
    Limit,
    /// Rests at `price`; refused with `PostOnlyWouldCross` if it would take.
    PostOnly,
    /// Rests; moved to one tick behind the best opposite price if `price` would cross.
    PostOnlySlide,
    /// Takes what crosses `price`; the rest is cancelled.
    ImmediateOrCancel,
    /// Fills entirely at `price` or better, or is refused.
    FillOrKill,
    /// Takes down to the worst price `price`; the rest is cancelled.
    Market,
    /// Priced at `oracle_price + peg_offset`; `price` is the peg limit (0 = none).
    OraclePegged,
}

impl From<OrderType> for book::OrderType {
    fn from(t: OrderType) -> book::OrderType {
        match t {
            OrderType::Limit => book::OrderType::Limit,
            OrderType::PostOnly => book::OrderType::PostOnly,
            OrderType::PostOnlySlide => book::OrderType::PostOnlySlide,
            OrderType::ImmediateOrCancel => book::OrderType::ImmediateOrCancel,
            OrderType::FillOrKill => book::OrderType::FillOrKill,
            OrderType::Market => book::OrderType::Market,
            OrderType::OraclePegged => book::OrderType::OraclePegged,
        }
    }
}

/// Self-trade prevention mode.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTradeMode {
    /// Both orders are reduced by the overlap; nothing trades.
    DecrementTake,
    /// The resting order is cancelled; matching continues.
    CancelResting,
    /// The whole instruction fails with `SelfTrade`.
    Abort,
}

impl From<SelfTradeMode> for book::SelfTradeMode {
    fn from(m: SelfTradeMode) -> book::SelfTradeMode {
        match m {
            SelfTradeMode::DecrementTake => book::SelfTradeMode::DecrementTake,
            SelfTradeMode::CancelResting => book::SelfTradeMode::CancelResting,
            SelfTradeMode::Abort => book::SelfTradeMode::Abort,
        }
    }
}

/// Market creation parameters.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CreateMarketParams {
    /// The key that alone may trade on the market.
    pub authority: Pubkey,
    /// Quote native units per base lot per tick (>= 1).
    pub tick_size: u64,
    /// Base native units per lot (>= 1).
    pub base_lot_size: u64,
    /// Orders per side, 1..=`MAX_ORDER_CAPACITY`.
    pub order_capacity: u32,
    /// Fill event queue slots, 1..=`MAX_EVENT_CAPACITY`.
    pub event_capacity: u32,
    /// Most makers one order may fill, 1..=64 (`carry_book::MAX_FILLS_PER_PLACE`); 0 = the
    /// default, 32. A 64-fill order with its 64 removals and events stays near 130,000 CU
    /// (README, "Bounded compute").
    pub max_fills: u8,
}

/// An order to place for a trader.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlaceOrderArgs {
    /// The trader (the margin account, for perp markets).
    pub owner: Pubkey,
    pub side: OrderSide,
    pub order_type: OrderType,
    /// Quote native units per base lot, a multiple of `tick_size`: the limit price; the
    /// worst price for `Market`; the peg limit for `OraclePegged` (0 = none).
    pub price: u64,
    /// `OraclePegged` only: quote native units per base lot added to the oracle price, a
    /// multiple of `tick_size`.
    pub peg_offset: i64,
    /// Base native units, a positive multiple of `base_lot_size`.
    pub quantity: u64,
    /// Caller's id, unique among the owner's resting orders; 0 = none.
    pub client_order_id: u64,
    /// Unix seconds from which the order no longer trades (expired once
    /// `expires_at <= now`); 0 = never.
    pub expires_at: i64,
    /// Or expiry by slot: expired once `expires_at_slot <= slot`; 0 = never. At most one of
    /// the two expiries may be set (`InvalidExpiry`).
    pub expires_at_slot: u64,
    /// Most makers to fill, 1..=the market's `max_fills`: bounds the instruction's compute.
    pub max_fills: u8,
    pub self_trade: SelfTradeMode,
    /// Oracle price in quote native units per base lot (rounded down to a tick): required to
    /// place a pegged order, and lets resting pegged orders trade.
    pub oracle_price: Option<u64>,
    /// Slippage guard: refused with `SlippageExceeded` (nothing changed) unless at least this
    /// many base native units fill (rounded up to a lot). 0 = none.
    pub min_base_fill: u64,
    /// Slippage guard: refused unless the fills' quote reaches this many quote native units
    /// (rounded up to a tick-lot). 0 = none.
    pub min_quote_fill: u64,
    /// Quote-amount order (`ImmediateOrCancel`, `FillOrKill` or `Market` only): spend or
    /// receive at most this many quote native units (rounded down to a tick-lot); `quantity`
    /// still caps the base (a fill-or-kill must fill all of it within the budget). 0 = none.
    pub quote_budget: u64,
}

/// What a place did, in native units (returned as the instruction's return data).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PlaceOrderSummary {
    pub order_id: u128,
    /// Quote native units per base lot of the resting remainder (0 if none rested).
    pub posted_price: u64,
    /// Base native units resting.
    pub posted_quantity: u64,
    /// Base native units bought or sold.
    pub base_filled: u64,
    /// Quote native units paid or received (fees not included).
    pub quote_filled: u64,
    /// Makers filled.
    pub fills: u32,
    /// Base native units neither filled nor resting.
    pub cancelled_quantity: u64,
    /// Makers removed on the way (expired, beyond their peg limit, self-trade cancelled).
    pub makers_removed: u32,
    /// The order's side was full and it evicted that side's worst order: its id (0 = none).
    pub evicted_order_id: u128,
    /// Owner of the evicted order (default when none).
    pub evicted_owner: Pubkey,
}

/// A cancelled order, in native units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CancelSummary {
    pub order_id: u128,
    pub client_order_id: u64,
    /// Base native units that were resting.
    pub quantity: u64,
}

/// What one `cancel_all_orders` call did.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CancelAllSummary {
    /// Orders cancelled by this call.
    pub cancelled: u32,
    /// No order the call was asked to cancel is left; `false`: call again.
    pub complete: bool,
}

/// A reduced order, in native units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ReduceSummary {
    pub order_id: u128,
    pub client_order_id: u64,
    /// Base native units taken off.
    pub reduced: u64,
    /// Base native units still resting (0: the order was cancelled).
    pub remaining: u64,
}
