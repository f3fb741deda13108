//! Admin-only exchange settings: `set_paused`, `set_liquidation_buffer`, `propose_admin`, and
//! `accept_admin` (signed by the proposed admin). Handing over the admin role takes two steps, so a mistyped key can
//! never lock the exchange: the old admin stays until the new key proves it can sign.

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

/// Accounts of `accept_admin`.
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    /// The proposed admin.
    pub new_admin: Signer<'info>,
    /// Exchange whose `pending_admin` is the signer.
    #[account(
        mut,
        constraint = exchange.load()?.pending_admin == new_admin.key() @ CarryError::NotPendingAdmin
    )]
    pub exchange: AccountLoader<'info, Exchange>,
}

/// Turn the pause switch on (`true`) or off.
pub fn handle_set_paused(ctx: Context<ExchangeAdmin>, paused: bool) -> Result<()> {
    ctx.accounts.exchange.load_mut()?.paused = paused as u8;
    msg!("exchange paused: {}", paused);
    Ok(())
}

/// Set the liquidation buffer (ppm, <= 1_000_000; else `InvalidLiquidationParams`): how far
/// past maintenance health a liquidation brings an account (see `Exchange`).
pub fn handle_set_liquidation_buffer(ctx: Context<ExchangeAdmin>, buffer_ppm: u32) -> Result<()> {
    require!(
        buffer_ppm <= carry_math::tiers::PPM,
        CarryError::InvalidLiquidationParams
    );
    ctx.accounts.exchange.load_mut()?.liquidation_buffer_ppm = buffer_ppm;
    msg!("liquidation buffer: {} ppm", buffer_ppm);
    Ok(())
}

/// Propose `new_admin` (the default key withdraws a proposal). The current admin keeps the
/// role until `new_admin` signs `accept_admin`.
pub fn handle_propose_admin(ctx: Context<ExchangeAdmin>, new_admin: Pubkey) -> Result<()> {
    ctx.accounts.exchange.load_mut()?.pending_admin = new_admin;
    msg!("admin proposed: {}", new_admin);
    Ok(())
}

/// The proposed admin takes the role; the proposal is cleared.
pub fn handle_accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
    let mut ex = ctx.accounts.exchange.load_mut()?;
    require!(
        ex.pending_admin != Pubkey::default(),
        CarryError::NotPendingAdmin
    );
    ex.admin = ex.pending_admin;
    ex.pending_admin = Pubkey::default();
    msg!("admin is now {}", ex.admin);
    Ok(())
}
