use crate::error::{book_err, OrderbookError};
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;

pub fn handle(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    side: Option<OrderSide>,
    limit: u8,
) -> Result<CancelAllSummary> {
    require!(
        limit > 0 && limit <= MAX_CANCEL_ALL_PER_CALL,
        OrderbookError::InvalidLimit
    );
    ctx.accounts.with_book(|_, book, listener| {
        let out = book
            .cancel_all(
                &owner.to_bytes(),
                side.map(Into::into),
                limit as u32,
                listener,
            )
            .map_err(book_err)?;
        msg!("cancelled {} orders", out.cancelled);
        Ok(CancelAllSummary {
            cancelled: out.cancelled,
            complete: out.complete,
        })
    })
}
