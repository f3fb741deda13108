use crate::error::{book_err, OrderbookError};
use crate::events::EventsConsumed;
use crate::instructions::MarketAuthority;
use anchor_lang::prelude::*;

pub fn handle(ctx: Context<MarketAuthority>, count: u32) -> Result<()> {
    require!(count > 0, OrderbookError::InvalidLimit);
    let market = ctx.accounts.market.key();
    ctx.accounts.with_book(|_, book, _| {
        book.pop_events(count).map_err(book_err)?;
        emit!(EventsConsumed {
            market,
            count,
            remaining: book.event_count()
        });
        Ok(())
    })
}
