use crate::error::{book_err, OrderbookError};
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;

pub fn handle(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    side: Option<OrderSide>,
    limit: u8,
) -> Result<u32> {
    require!(limit > 0, OrderbookError::InvalidLimit);
    ctx.accounts.with_book(|_, book, listener| {
        let n = book
            .cancel_all(
                &owner.to_bytes(),
                side.map(Into::into),
                limit as u32,
                listener,
            )
            .map_err(book_err)?;
        msg!("cancelled {} orders", n);
        Ok(n)
    })
}
