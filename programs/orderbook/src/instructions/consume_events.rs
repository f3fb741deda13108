use crate::error::{book_err, OrderbookError};
use crate::events::EventsConsumed;
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;

pub fn handle(ctx: Context<MarketAuthority>, count: u32) -> Result<()> {
    require!(count > 0, OrderbookError::InvalidLimit);
    let key = ctx.accounts.market.key();
    let info = ctx.accounts.market.to_account_info();
    let mut data = info.try_borrow_mut_data()?;
    let (_, mut book) = split_market(&mut data)?;
    book.pop_events(count).map_err(book_err)?;
    emit!(EventsConsumed {
        market: key,
        count,
        remaining: book.event_count(),
    });
    Ok(())
}
