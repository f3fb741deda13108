//! `update_stable_price` (permissionless crank): steps a perp market's stored stable price
//! toward its oracle, as `update_funding` does for perpetuals.
//!
//! Dated futures have no funding crank, so without this their stable price moved only when a
//! health check stored it (a risk-adding order). While a guarded market's oracle is beyond
//! `oracle_stable_guard_bps` from the stable price, liquidation and auto-deleveraging wait for
//! the stable price to follow (`OracleStableDivergence`): this crank is what lets it follow on
//! a dated market whose traders have stopped adding risk. One step covers at most
//! `stable_max_step_secs` of the time since the last (`carry_math::oracle`), so running it
//! often moves the price no faster than the limits allow.

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::events::PerpStablePriceEvent;
use crate::oracle::{perp_advanced_stable_price, perp_oracle_price};
use crate::state::*;

/// Accounts of `update_stable_price`.
#[derive(Accounts)]
pub struct UpdateStablePrice<'info> {
    /// Exchange (settlement decimals).
    pub exchange: AccountLoader<'info, Exchange>,
    /// Perp market of this exchange (perpetual or dated).
    #[account(
        mut,
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = oracle @ CarryError::OracleMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's oracle (age and confidence checked).
    /// CHECK: the market's stored oracle key (`has_one`); read by `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
}

/// One step of the stored stable price (see the module docs).
pub fn handle_update_stable_price(ctx: Context<UpdateStablePrice>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let mut market = ctx.accounts.perp_market.load_mut()?;
    let oracle = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
    let before = market.stable_price.get();
    let secs = now.saturating_sub(market.stable_price_ts).max(0) as u64;
    let stable = perp_advanced_stable_price(&market, oracle, now)?;
    market.stable_price.set(stable);
    market.stable_price_ts = now;
    emit!(PerpStablePriceEvent {
        perp_market: ctx.accounts.perp_market.key(),
        oracle_price_bits: oracle.to_bits(),
        stable_before_bits: before.to_bits(),
        stable_bits: stable.to_bits(),
        secs,
    });
    Ok(())
}
