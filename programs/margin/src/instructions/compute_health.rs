//! `compute_health`: read-only; logs init and maint health and returns them.
//!
//! Remaining accounts: `(bank, oracle)` pairs covering every token slot in use (any order).

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::health::compute_health;
use crate::state::*;

/// Accounts of `compute_health`.
#[derive(Accounts)]
pub struct ComputeHealth<'info> {
    /// Exchange.
    pub exchange: AccountLoader<'info, Exchange>,
    /// Margin account of this exchange.
    #[account(has_one = exchange @ CarryError::ExchangeMismatch)]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// Health in quote-native units as I80F48 bits (`value = bits / 2^48`); also the
/// instruction's return data (borsh: two little-endian i128).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthInfo {
    /// Initial health bits.
    pub init_health_bits: i128,
    /// Maintenance health bits.
    pub maint_health_bits: i128,
}

/// Compute, log and return the health; writes nothing (stable prices are advanced in memory).
pub fn handle_compute_health(ctx: Context<ComputeHealth>) -> Result<HealthInfo> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let acc = ctx.accounts.account.load()?;
    let h = compute_health(
        &acc,
        &ctx.accounts.exchange.key(),
        quote_decimals,
        ctx.remaining_accounts,
        now,
        false,
    )?;
    msg!("health init {} maint {}", h.init, h.maint);
    Ok(HealthInfo {
        init_health_bits: h.init.to_bits(),
        maint_health_bits: h.maint.to_bits(),
    })
}
