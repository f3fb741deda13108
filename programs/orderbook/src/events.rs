//! Events (Anchor `emit!`, logged as `Program data:`) for every place, fill, cancel, expiry
//! and self-trade reduction, so an indexer can rebuild the book. Prices are quote native
//! units per base lot, quantities base native units.

use anchor_lang::prelude::*;
use carry_book::{BookListener, FillEvent, Order, OutReason};

/// An order was placed (whether or not any of it rested).
#[event]
pub struct OrderPlaced {
    pub market: Pubkey,
    pub owner: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    /// 0 bid, 1 ask.
    pub side: u8,
    /// `OrderType` as u8.
    pub order_type: u8,
    /// Price the remainder rests at (0 if nothing rested).
    pub posted_price: u64,
    pub posted_quantity: u64,
    pub base_filled: u64,
    pub quote_filled: u64,
    pub fills: u32,
    pub cancelled_quantity: u64,
    /// Unix seconds, 0 = never.
    pub expires_at: i64,
    /// Slot, 0 = never.
    pub expires_at_slot: u64,
}

/// A maker order was filled (the same data is queued as a fill event).
#[event]
pub struct OrderFilled {
    pub market: Pubkey,
    pub maker: Pubkey,
    pub taker: Pubkey,
    pub maker_order_id: u128,
    pub maker_client_order_id: u64,
    pub taker_client_order_id: u64,
    pub price: u64,
    pub quantity: u64,
    /// 0 bid, 1 ask.
    pub taker_side: u8,
    /// The maker order left the book.
    pub maker_out: bool,
    /// Fill event sequence number in this market.
    pub seq: u64,
}

/// A resting order left the book without a fill.
#[event]
pub struct OrderRemoved {
    pub market: Pubkey,
    pub owner: Pubkey,
    pub order_id: u128,
    pub client_order_id: u64,
    /// Quantity that was still resting.
    pub quantity: u64,
    /// 0 cancelled, 1 expired, 2 self-trade prevention, 3 beyond its peg limit, 4 evicted
    /// from a full side by a better order.
    pub reason: u8,
}

/// Self-trade prevention reduced a resting order.
#[event]
pub struct OrderDecremented {
    pub market: Pubkey,
    pub owner: Pubkey,
    pub order_id: u128,
    /// Quantity taken off.
    pub quantity: u64,
}

/// Its owner reduced a resting order in place (it keeps its time priority).
#[event]
pub struct OrderReduced {
    pub market: Pubkey,
    pub owner: Pubkey,
    pub order_id: u128,
    /// Quantity taken off.
    pub quantity: u64,
}

/// The authority consumed fill events.
#[event]
pub struct EventsConsumed {
    pub market: Pubkey,
    pub count: u32,
    /// Events still queued.
    pub remaining: u32,
}

/// Emits the engine's reports as events, in native units.
pub struct EmitListener {
    pub market: Pubkey,
    /// Quote native units per base lot per tick.
    pub tick_size: u64,
    /// Base native units per lot.
    pub base_lot_size: u64,
    /// Owner of the order a place evicted from a full side, if any.
    pub evicted_owner: Option<Pubkey>,
}

fn order_id(o: &Order) -> u128 {
    ((o.key_hi as u128) << 64) | o.key_lo as u128
}

impl BookListener for EmitListener {
    fn on_fill(&mut self, e: &FillEvent) {
        emit!(OrderFilled {
            market: self.market,
            maker: Pubkey::new_from_array(e.maker),
            taker: Pubkey::new_from_array(e.taker),
            maker_order_id: ((e.maker_order_id_hi as u128) << 64) | e.maker_order_id_lo as u128,
            maker_client_order_id: e.maker_client_order_id,
            taker_client_order_id: e.taker_client_order_id,
            price: e.price.saturating_mul(self.tick_size),
            quantity: e.quantity.saturating_mul(self.base_lot_size),
            taker_side: e.taker_side,
            maker_out: e.maker_out != 0,
            seq: e.seq,
        });
    }

    fn on_out(&mut self, o: &Order, reason: OutReason) {
        if reason == OutReason::Evicted {
            self.evicted_owner = Some(Pubkey::new_from_array(o.owner));
        }
        emit!(OrderRemoved {
            market: self.market,
            owner: Pubkey::new_from_array(o.owner),
            order_id: order_id(o),
            client_order_id: o.client_order_id,
            quantity: o.quantity.saturating_mul(self.base_lot_size),
            reason: reason as u8,
        });
    }

    fn on_reduce(&mut self, o: &Order, quantity: u64) {
        emit!(OrderReduced {
            market: self.market,
            owner: Pubkey::new_from_array(o.owner),
            order_id: order_id(o),
            quantity: quantity.saturating_mul(self.base_lot_size),
        });
    }

    fn on_decrement(&mut self, o: &Order, quantity: u64) {
        emit!(OrderDecremented {
            market: self.market,
            owner: Pubkey::new_from_array(o.owner),
            order_id: order_id(o),
            quantity: quantity.saturating_mul(self.base_lot_size),
        });
    }
}
