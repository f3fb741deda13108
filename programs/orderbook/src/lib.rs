//! Carry order book: a standalone central limit order book whose matching engine is the
//! `no_std` crate `carry-book`. A market's `authority` (for perp markets, the margin program's
//! PDA) alone places, cancels and consumes fill events for traders; the book holds no tokens.
//!
//! Units at this interface: prices are quote native units per base lot and must be multiples
//! of the market's `tick_size`; quantities are base native units and must be multiples of its
//! `base_lot_size`. Inside, the engine works in ticks and lots.
//!
//! This file lists the instructions; each lives in `instructions/<name>.rs` with its accounts.

// Anchor's macros expand to cfgs and conversions these lints do not know about, and 0.31.1's
// generated IDL code calls `AccountInfo::realloc`, deprecated in solana-program 2.3.
#![allow(unexpected_cfgs)]
#![allow(clippy::result_large_err)]
#![allow(deprecated)]
// `u64::is_multiple_of` is newer than the Rust of Solana's platform-tools that builds this for SBF.
#![allow(clippy::manual_is_multiple_of)]

use anchor_lang::prelude::*;

pub mod error;
pub mod events;
pub mod instructions;
pub mod state;

pub use instructions::*;
pub use state::*;

declare_id!("CtR77MV4DLmwNfxKtGrXjBuMasypNphUx2T5dGD4s7V9");

#[program]
pub mod carry_orderbook {
    use super::*;

    /// Initializes a market in an account the caller created with [`Market::space`] bytes,
    /// owned by this program. Anyone may create a market; `authority` is the only key that
    /// may trade on it afterwards.
    pub fn create_market(ctx: Context<CreateMarket>, params: CreateMarketParams) -> Result<()> {
        instructions::create_market::handle(ctx, params)
    }

    /// Anyone (the payer pays the rent): creates `owner`'s open-orders account on `market`,
    /// PDA `[OPEN_ORDERS_SEED, market, owner]`, which lists the owner's resting orders (at
    /// most `carry_book::MAX_OPEN_ORDERS`). Placing for an owner needs it.
    pub fn create_open_orders(ctx: Context<CreateOpenOrders>, owner: Pubkey) -> Result<()> {
        instructions::create_open_orders::handle_create_open_orders(ctx, owner)
    }

    /// Authority only: closes an owner's open-orders account that lists no resting order
    /// (`OpenOrdersNotEmpty` otherwise), sending its lamports to `destination`.
    pub fn close_open_orders(ctx: Context<CloseOpenOrders>) -> Result<()> {
        instructions::close_open_orders::handle_close_open_orders(ctx)
    }

    /// Authority only: places an order for `args.owner`, whose open-orders account records
    /// a resting remainder (`TooManyOpenOrders` when it is full of resting orders). Returns the taker's fill summary
    /// (also as return data) so the caller can settle it atomically; maker fills go to the
    /// market's event queue.
    pub fn place_order(
        ctx: Context<MarketAuthorityOwner>,
        args: PlaceOrderArgs,
    ) -> Result<PlaceOrderSummary> {
        instructions::place_order::handle(ctx, args)
    }

    /// Authority only: cancels `owner`'s order by its order id.
    pub fn cancel_order(
        ctx: Context<MarketAuthority>,
        owner: Pubkey,
        order_id: u128,
    ) -> Result<CancelSummary> {
        instructions::cancel_order::handle(ctx, owner, order_id)
    }

    /// Authority only: takes `quantity` (base native units, a multiple of the lot) off
    /// `owner`'s resting order `order_id` in place, keeping its time priority; at or above
    /// what rests, the order is cancelled.
    pub fn reduce_order(
        ctx: Context<MarketAuthority>,
        owner: Pubkey,
        order_id: u128,
        quantity: u64,
    ) -> Result<ReduceSummary> {
        instructions::reduce_order::handle_id(ctx, owner, order_id, quantity)
    }

    /// Authority only: `reduce_order` by the owner's client order id.
    pub fn reduce_order_by_client_id(
        ctx: Context<MarketAuthorityOwner>,
        owner: Pubkey,
        client_order_id: u64,
        quantity: u64,
    ) -> Result<ReduceSummary> {
        instructions::reduce_order::handle_client_id(ctx, owner, client_order_id, quantity)
    }

    /// Authority only: cancels `owner`'s order by its client order id.
    pub fn cancel_order_by_client_id(
        ctx: Context<MarketAuthorityOwner>,
        owner: Pubkey,
        client_order_id: u64,
    ) -> Result<CancelSummary> {
        instructions::cancel_order_by_client_id::handle(ctx, owner, client_order_id)
    }

    /// Authority only: cancels up to `limit` (1..=`MAX_CANCEL_ALL_PER_CALL`) of `owner`'s
    /// orders on `side` (or both sides). Returns how many were cancelled and whether any are
    /// left; call again until `complete`.
    pub fn cancel_all_orders(
        ctx: Context<MarketAuthorityOwner>,
        owner: Pubkey,
        side: Option<OrderSide>,
        limit: u8,
    ) -> Result<CancelAllSummary> {
        instructions::cancel_all_orders::handle(ctx, owner, side, limit)
    }

    /// Authority only: pops the `count` oldest fill events after the authority applied them.
    pub fn consume_events(ctx: Context<MarketAuthority>, count: u32) -> Result<()> {
        instructions::consume_events::handle(ctx, count)
    }
}
