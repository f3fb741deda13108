//! `edit_perp_market` (admin): replace a perp market's parameters.

use anchor_lang::prelude::*;

use crate::error::CarryError;
use crate::events::PerpMarketEvent;
use crate::state::*;

/// Accounts of `edit_perp_market`.
#[derive(Accounts)]
pub struct EditPerpMarket<'info> {
    /// Exchange admin.
    pub admin: Signer<'info>,
    /// Exchange.
    #[account(has_one = admin @ CarryError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Perp market of this exchange.
    #[account(mut, has_one = exchange @ CarryError::PerpMarketMismatch)]
    pub perp_market: AccountLoader<'info, PerpMarket>,
}

/// Replace all parameters (validated as at creation). What `params` does not hold stays:
/// the book, the market index, the oracle (key, format, feed), base decimals, lot and tick
/// size, funding and settlement state, open interest and the PnL pool. The expiry cannot
/// change (`ExpiryImmutable`: a perpetual never becomes dated, nor the reverse). The
/// reduce-only switch is `params.mode`. Lowering the open-interest limit below the current
/// open interest is allowed: then only orders that reduce it pass.
pub fn handle_edit_perp_market(
    ctx: Context<EditPerpMarket>,
    params: PerpMarketParams,
) -> Result<()> {
    params.validate()?;
    let mut market = ctx.accounts.perp_market.load_mut()?;
    require!(
        params.expiry_ts == market.params.expiry_ts,
        CarryError::ExpiryImmutable
    );
    market.params = params;
    emit!(PerpMarketEvent {
        perp_market: ctx.accounts.perp_market.key(),
        market_index: market.market_index,
        book: market.book,
        oracle: market.oracle,
        created: false,
        params,
        stable_price_bits: market.stable_price.get().to_bits(),
    });
    msg!(
        "perp market {} edited, mode {}",
        market.market_index,
        params.mode
    );
    Ok(())
}
