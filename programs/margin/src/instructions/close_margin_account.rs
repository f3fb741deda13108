//! `close_margin_account`: return the rent to the owner; only when empty.

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::state::*;

/// Accounts of `close_margin_account`.
#[derive(Accounts)]
pub struct CloseMarginAccount<'info> {
    /// Owner; receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Account to close.
    #[account(
        mut,
        close = owner,
        has_one = owner @ CarryError::NotOwner,
        has_one = exchange @ CarryError::ExchangeMismatch
    )]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// Refused with `AccountNotEmpty` while any balance or perp slot is in use.
pub fn handle_close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
    require!(
        ctx.accounts.account.load()?.is_empty(),
        CarryError::AccountNotEmpty
    );
    Ok(())
}
