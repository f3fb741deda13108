//! `set_delegate`: the owner names (or clears, with the default key) a delegate.

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::state::*;

/// Accounts of `set_delegate`.
#[derive(Accounts)]
pub struct SetDelegate<'info> {
    /// Owner.
    pub owner: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Account.
    #[account(
        mut,
        has_one = owner @ CarryError::NotOwner,
        has_one = exchange @ CarryError::ExchangeMismatch
    )]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// The delegate may deposit and trade, never withdraw. `Pubkey::default()` clears it.
pub fn handle_set_delegate(ctx: Context<SetDelegate>, delegate: Pubkey) -> Result<()> {
    ctx.accounts.account.load_mut()?.delegate = delegate;
    Ok(())
}
