//! `create_margin_account`: a zero-copy account PDA per (owner, account number).

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::state::*;

/// Accounts of `create_margin_account`.
#[derive(Accounts)]
#[instruction(account_num: u32)]
pub struct CreateMarginAccount<'info> {
    /// Owner; pays rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Account PDA `[b"account", exchange, owner, account_num LE]`.
    #[account(
        init,
        payer = owner,
        space = 8 + MARGIN_ACCOUNT_SIZE,
        seeds = [ACCOUNT_SEED, exchange.key().as_ref(), owner.key().as_ref(), &account_num.to_le_bytes()],
        bump
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Create an empty account (no delegate, all slots free).
pub fn handle_create_margin_account(
    ctx: Context<CreateMarginAccount>,
    account_num: u32,
) -> Result<()> {
    let mut a = ctx.accounts.account.load_init()?;
    a.exchange = ctx.accounts.exchange.key();
    a.owner = ctx.accounts.owner.key();
    a.account_num = account_num;
    a.bump = ctx.bumps.account;
    Ok(())
}
