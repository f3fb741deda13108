//! `edit_bank` (admin): change a bank's parameters (interest is accrued first, best effort).

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::state::*;

/// Accounts of `edit_bank`.
#[derive(Accounts)]
pub struct EditBank<'info> {
    /// Exchange admin.
    pub admin: Signer<'info>,
    /// Exchange.
    #[account(has_one = admin @ CarryError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Bank of this exchange.
    #[account(mut, has_one = exchange @ CarryError::BankMismatch)]
    pub bank: AccountLoader<'info, Bank>,
}

/// Replace all parameters (the oracle key stays).
pub fn handle_edit_bank(ctx: Context<EditBank>, params: BankParams) -> Result<()> {
    require!(params.is_valid(), CarryError::InvalidParameter);
    let now = Clock::get()?.unix_timestamp;
    let mut bank = ctx.accounts.bank.load_mut()?;
    // Best effort: the admin can always change parameters, even of a bank whose accrual fails.
    bank.accrue_best_effort(now);
    bank.params = params;
    Ok(())
}
