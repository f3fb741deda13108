//! `deposit_insurance` (anyone): pay settlement tokens into the exchange's insurance fund. The
//! fund is the insurance vault (settlement mint, owned by the exchange PDA); it also receives
//! the reserve sweep, the perp fee sweep (trading and liquidation fees) and pays bankruptcy
//! deficits (`resolve_bankruptcy`). Every movement is an event; its balance is the vault's.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount, TransferChecked};

use crate::error::CarryError;
use crate::events::InsuranceDepositEvent;
use crate::state::*;

/// Accounts of `deposit_insurance`.
#[derive(Accounts)]
pub struct DepositInsurance<'info> {
    /// Who pays (authority of `payer_token`).
    pub depositor: Signer<'info>,
    /// Exchange.
    #[account(
        has_one = insurance_vault @ CarryError::InsuranceVaultMismatch,
        constraint = exchange.load()?.settlement_mint == mint.key() @ CarryError::MintMismatch
    )]
    pub exchange: AccountLoader<'info, Exchange>,
    /// The exchange's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// Settlement mint.
    pub mint: Box<Account<'info, Mint>>,
    /// Source token account (settlement mint).
    #[account(mut, constraint = payer_token.mint == mint.key() @ CarryError::MintMismatch)]
    pub payer_token: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Move `amount` (> 0) settlement native units into the insurance fund.
pub fn handle_deposit_insurance(ctx: Context<DepositInsurance>, amount: u64) -> Result<()> {
    require!(amount > 0, CarryError::ZeroAmount);
    token::transfer_checked(
        CpiContext::new(
            ctx.accounts.token_program.to_account_info(),
            TransferChecked {
                from: ctx.accounts.payer_token.to_account_info(),
                mint: ctx.accounts.mint.to_account_info(),
                to: ctx.accounts.insurance_vault.to_account_info(),
                authority: ctx.accounts.depositor.to_account_info(),
            },
        ),
        amount,
        ctx.accounts.mint.decimals,
    )?;
    ctx.accounts.insurance_vault.reload()?;
    emit!(InsuranceDepositEvent {
        depositor: ctx.accounts.depositor.key(),
        amount,
        balance_after: ctx.accounts.insurance_vault.amount,
    });
    Ok(())
}
