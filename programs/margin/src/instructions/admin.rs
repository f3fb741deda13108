//! Admin-only exchange settings: `set_paused`, `set_admin`.

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::state::*;

/// Accounts of the admin-only exchange settings.
#[derive(Accounts)]
pub struct ExchangeAdmin<'info> {
    /// Current admin.
    pub admin: Signer<'info>,
    /// Exchange.
    #[account(mut, has_one = admin @ CarryError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
}

/// Turn the pause switch on (`true`) or off.
pub fn handle_set_paused(ctx: Context<ExchangeAdmin>, paused: bool) -> Result<()> {
    ctx.accounts.exchange.load_mut()?.paused = paused as u8;
    msg!("exchange paused: {}", paused);
    Ok(())
}

/// Hand the admin role to `new_admin`.
pub fn handle_set_admin(ctx: Context<ExchangeAdmin>, new_admin: Pubkey) -> Result<()> {
    ctx.accounts.exchange.load_mut()?.admin = new_admin;
    Ok(())
}
