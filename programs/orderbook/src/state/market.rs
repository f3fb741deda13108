//! The market account: a fixed header, then the engine's book bytes.

use crate::error::{book_err, OrderbookError};
use anchor_lang::prelude::*;
use carry_book::Book;

/// Default orders per side of a market.
pub const DEFAULT_ORDER_CAPACITY: u32 = 4096;
/// Default fill event queue slots.
pub const DEFAULT_EVENT_CAPACITY: u32 = 512;
/// Most orders per side a market may hold.
pub const MAX_ORDER_CAPACITY: u32 = 8192;
/// Most queued fill events a market may hold.
pub const MAX_EVENT_CAPACITY: u32 = 4096;
/// Largest `limit` a `cancel_all_orders` call takes. An owner rests at most
/// `carry_book::MAX_OPEN_ORDERS` (32) orders a market, all listed in its open-orders account,
/// so one call with a limit of 32 or more cancels them all: each costs about 560 CU in the
/// engine (measured on SBF, `bench/sbf`) and about 450 CU for its `OrderRemoved` event, so a
/// call stays near 40,000 CU, inside the 200,000 default with room for a calling program's
/// CPI.
pub const MAX_CANCEL_ALL_PER_CALL: u8 = 100;
/// The fill cap of a market created with `max_fills` 0.
pub const DEFAULT_MAX_FILLS: u8 = 32;

/// A market's header. Layout of the account: 8-byte discriminator, this struct, then
/// `carry_book::Book::size_of(order_capacity, event_capacity)` bytes of book.
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Market {
    /// The only key that may place, cancel and consume events (the margin program's PDA for
    /// perp markets).
    pub authority: Pubkey,
    /// Who created the market and paid its rent.
    pub creator: Pubkey,
    /// Quote native units per base lot per tick: a price of `n` ticks means `n * tick_size`
    /// quote native units per base lot. At least 1.
    pub tick_size: u64,
    /// Base native units per lot. At least 1.
    pub base_lot_size: u64,
    /// Orders per side, fixed at creation.
    pub order_capacity: u32,
    /// Fill event queue slots, fixed at creation.
    pub event_capacity: u32,
    /// Most makers one order may fill on this market, 1..=`carry_book::MAX_FILLS_PER_PLACE`
    /// (64): orders asking for more are refused with `InvalidFillLimit`.
    pub max_fills: u32,
    /// Room for later fields; zero.
    pub reserved: [u8; 60],
}
const _: () = assert!(core::mem::size_of::<Market>() == 152);
const _: () = assert!(core::mem::align_of::<Market>() <= 8);

impl Market {
    /// Byte offset of the book inside the account (8-aligned).
    pub const BOOK_OFFSET: usize = 8 + core::mem::size_of::<Market>();

    /// Account size of a market with these capacities.
    pub const fn space(order_capacity: u32, event_capacity: u32) -> usize {
        Self::BOOK_OFFSET + Book::size_of(order_capacity, event_capacity)
    }

    /// Price in ticks from quote native units per base lot; `InvalidTick` unless an exact,
    /// positive multiple.
    pub fn to_ticks(&self, price: u64) -> Result<u64> {
        require!(
            price > 0 && price % self.tick_size == 0,
            OrderbookError::InvalidTick
        );
        Ok(price / self.tick_size)
    }

    /// Quantity in lots from base native units; `InvalidLot` unless an exact, positive
    /// multiple.
    pub fn to_lots(&self, quantity: u64) -> Result<u64> {
        require!(
            quantity > 0 && quantity % self.base_lot_size == 0,
            OrderbookError::InvalidLot
        );
        Ok(quantity / self.base_lot_size)
    }
}

/// Splits a market account's data into its header and its book.
pub fn split_market(data: &mut [u8]) -> Result<(&Market, Book<'_>)> {
    require!(
        data.len() >= Market::BOOK_OFFSET,
        OrderbookError::InvalidAccountSize
    );
    let (head, book) = data.split_at_mut(Market::BOOK_OFFSET);
    let market: &Market = bytemuck::try_from_bytes(&head[8..])
        .map_err(|_| error!(OrderbookError::InvalidAccountSize))?;
    let book = Book::load(book).map_err(book_err)?;
    Ok((market, book))
}
