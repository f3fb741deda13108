//! `sweep_reserve`: permissionless; moves the whole native units of the settlement bank's
//! collected reserve into the insurance fund vault, limited by the vault's free cash (what no
//! deposit or non-lendable balance claims: borrowers must have paid the interest in tokens).
//! Reserves of other tokens stay in their bank (`collected_reserve`) until a later issue
//! converts them.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use carry_math::I80F48;

use crate::error::{CarryError, OptionExt};
use crate::events::ReserveSweepEvent;
use crate::state::*;

/// Accounts of `sweep_reserve`.
#[derive(Accounts)]
pub struct SweepReserve<'info> {
    /// Exchange.
    #[account(has_one = insurance_vault @ CarryError::InsuranceVaultMismatch)]
    pub exchange: AccountLoader<'info, Exchange>,
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

/// Sweep; a no-op when nothing whole is collected.
pub fn handle_sweep_reserve(ctx: Context<SweepReserve>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let vault_amount = ctx.accounts.vault.amount;
    let amount = {
        let mut bank = ctx.accounts.bank.load_mut()?;
        bank.accrue(now)?;
        let amount = bank.sweepable_reserve().min(bank.free_cash(vault_amount)?);
        let left = bank
            .collected_reserve
            .get()
            .checked_sub(I80F48::from_u64(amount))
            .ovf()?;
        bank.collected_reserve.set(left);
        bank.reserve_swept = bank.reserve_swept.checked_add(amount).ovf()?;
        amount
    };
    if amount == 0 {
        return Ok(());
    }
    emit!(ReserveSweepEvent {
        bank: ctx.accounts.bank.key(),
        amount
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
