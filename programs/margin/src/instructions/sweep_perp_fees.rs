//! `sweep_perp_fees` (permissionless): moves a perp market's accrued fees out of its PnL pool
//! into the exchange's insurance vault, as tokens from the settlement bank's vault.
//!
//! Fees sit in the PnL pool (they are in the positions' cost bases and arrive with settled
//! losses, see `perp.rs`), and the pool's tokens sit in the settlement vault (no token moves on
//! settlement). The sweep takes `min(fees_accrued, pnl_pool, free cash)` where free cash is what
//! the vault holds beyond the pool's lendable cash and opted-out balances, so no depositor's
//! claim is touched; both the pool and the fee count fall by it, so conservation
//! (`vault = deposits - borrows + non_lendable + reserve + dust + pools`) holds to the unit.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::error::{CarryError, OptionExt};
use crate::events::PerpFeeSweepEvent;
use crate::state::*;

/// Accounts of `sweep_perp_fees`.
#[derive(Accounts)]
pub struct SweepPerpFees<'info> {
    /// Exchange.
    #[account(has_one = insurance_vault @ CarryError::InsuranceVaultMismatch)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Perp market of this exchange.
    #[account(mut, has_one = exchange @ CarryError::PerpMarketMismatch)]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// Settlement-token bank of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::BankMismatch,
        has_one = vault @ CarryError::VaultMismatch,
        has_one = mint @ CarryError::MintMismatch,
        constraint = bank.load()?.mint == exchange.load()?.settlement_mint @ CarryError::NotSettlementBank
    )]
    pub bank: AccountLoader<'info, Bank>,
    /// The bank's vault.
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Settlement mint.
    pub mint: Box<Account<'info, Mint>>,
    /// The exchange's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Sweep; a no-op when nothing can move.
pub fn handle_sweep_perp_fees(ctx: Context<SweepPerpFees>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let vault_amount = ctx.accounts.vault.amount;
    let amount = {
        let mut bank = ctx.accounts.bank.load_mut()?;
        bank.accrue(now)?;
        let mut market = ctx.accounts.perp_market.load_mut()?;
        let amount = market
            .fees_accrued_native
            .min(market.pnl_pool_native)
            .min(bank.free_cash(vault_amount)?);
        market.fees_accrued_native = market.fees_accrued_native.checked_sub(amount).ovf()?;
        market.pnl_pool_native = market.pnl_pool_native.checked_sub(amount).ovf()?;
        amount
    };
    if amount == 0 {
        return Ok(());
    }
    emit!(PerpFeeSweepEvent {
        perp_market: ctx.accounts.perp_market.key(),
        amount,
    });
    crate::vault::transfer_out(
        ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.exchange,
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.mint,
        ctx.accounts.insurance_vault.to_account_info(),
        amount,
    )
}
