//! An owner's open-orders account on one market: the engine's index of the owner's resting
//! orders (`carry_book::OpenOrders`), kept outside the book so that resting an order never
//! descends an owner index in the market account.

use anchor_lang::prelude::*;

/// PDA seed: `[OPEN_ORDERS_SEED, market, owner]`.
pub const OPEN_ORDERS_SEED: &[u8] = b"open_orders";

/// `u64` words of `carry_book::OpenOrders`.
pub const OPEN_ORDERS_WORDS: usize = core::mem::size_of::<carry_book::OpenOrders>() / 8;
const _: () = assert!(core::mem::size_of::<carry_book::OpenOrders>() == 8 * OPEN_ORDERS_WORDS);

/// One owner's resting orders on one market (at most `carry_book::MAX_OPEN_ORDERS`).
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct OpenOrdersAccount {
    /// The market.
    pub market: Pubkey,
    /// The owner whose orders these are (the `owner` the authority places for).
    pub owner: Pubkey,
    /// PDA bump.
    pub bump: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 7],
    /// The bytes of `carry_book::OpenOrders` (a `u32` count of entries written, padding, then
    /// 32 entries of the order id's low word, the order's slot and its client id's low 32 bits): read them with
    /// [`OpenOrdersAccount::orders`].
    pub orders: [u64; OPEN_ORDERS_WORDS],
}
const _: () = assert!(core::mem::size_of::<OpenOrdersAccount>() == 72 + 8 * OPEN_ORDERS_WORDS);

impl OpenOrdersAccount {
    /// Account size, discriminator included.
    pub const SPACE: usize = 8 + core::mem::size_of::<OpenOrdersAccount>();

    /// The engine's view of the order list.
    pub fn orders(&self) -> &carry_book::OpenOrders {
        bytemuck::cast_ref(&self.orders)
    }
    /// Mutable [`OpenOrdersAccount::orders`].
    pub fn orders_mut(&mut self) -> &mut carry_book::OpenOrders {
        bytemuck::cast_mut(&mut self.orders)
    }
}
