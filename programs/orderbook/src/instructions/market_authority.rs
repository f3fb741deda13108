//! Accounts of every instruction only the market's authority may send.

use crate::error::OrderbookError;
use crate::state::Market;
use anchor_lang::prelude::*;

/// The market and its authority's signature.
#[derive(Accounts)]
pub struct MarketAuthority<'info> {
    /// The market's authority (for perp markets, the margin program's PDA signing by CPI).
    pub authority: Signer<'info>,
    /// The market (owned by this program, with a market discriminator).
    #[account(mut, has_one = authority @ OrderbookError::WrongAuthority)]
    pub market: AccountLoader<'info, Market>,
}
