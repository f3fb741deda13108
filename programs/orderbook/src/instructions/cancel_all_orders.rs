use crate::error::{book_err, OrderbookError};
use crate::instructions::MarketAuthorityOwner;
use crate::state::*;
use anchor_lang::prelude::*;

pub fn handle(
    ctx: Context<MarketAuthorityOwner>,
    owner: Pubkey,
    side: Option<OrderSide>,
    limit: u8,
) -> Result<CancelAllSummary> {
    require!(
        limit > 0 && limit <= MAX_CANCEL_ALL_PER_CALL,
        OrderbookError::InvalidLimit
    );
    ctx.accounts.with_book(&owner, |_, book, list, listener| {
        let out = book
            .cancel_all(
                &owner.to_bytes(),
                list,
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
