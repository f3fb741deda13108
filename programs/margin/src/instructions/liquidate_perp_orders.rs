//! `liquidate_perp_orders` (permissionless): the first step of a liquidation. An account whose
//! maintenance health is below zero has up to `limit` of its resting orders on one perp market
//! cancelled through the book (bounded per call, as `cancel_all_perp_orders`; call again while
//! orders remain). Runs while the exchange is paused and in reduce-only markets.
//!
//! Remaining accounts: the liquidatee's health pairs (see `health.rs`).

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::health::compute_health;
use crate::instructions::cancel_perp_order::{cancel_orders, Target};
use crate::state::*;

/// Accounts of `liquidate_perp_orders`.
#[derive(Accounts)]
pub struct LiquidatePerpOrders<'info> {
    /// Exchange (may be paused).
    pub exchange: AccountLoader<'info, Exchange>,
    /// Account below maintenance health.
    #[account(mut, has_one = exchange @ CarryError::ExchangeMismatch)]
    pub liquidatee: AccountLoader<'info, MarginAccount>,
    /// Perp market of this exchange.
    #[account(
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = book @ CarryError::PerpMarketMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's book account.
    /// CHECK: the market's stored book key (`has_one`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
}

/// Cancel up to `limit` (1..=255) of the liquidatee's orders on this market (both sides);
/// `NotLiquidatable` unless its maintenance health is below zero.
pub fn handle_liquidate_perp_orders(ctx: Context<LiquidatePerpOrders>, limit: u8) -> Result<()> {
    require!(limit > 0, CarryError::InvalidOrderParams);
    let now = Clock::get()?.unix_timestamp;
    let exchange_key = ctx.accounts.exchange.key();
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let health = {
        let acc = ctx.accounts.liquidatee.load()?;
        compute_health(
            &acc,
            &exchange_key,
            quote_decimals,
            ctx.remaining_accounts,
            now,
            false,
        )?
    };
    require!(health.maint.is_negative(), CarryError::NotLiquidatable);
    msg!(
        "liquidate_perp_orders: maint health {} (limit {})",
        health.maint,
        limit
    );
    cancel_orders(
        &ctx.accounts.liquidatee,
        &ctx.accounts.perp_market,
        &ctx.accounts.book,
        Target::All {
            side: None,
            limit: limit as u32,
        },
    )
}
