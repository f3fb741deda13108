use crate::error::{book_err, OrderbookError};
use crate::state::*;
use anchor_lang::prelude::*;
use carry_book::Book;

/// A market account the creator allocated beforehand (too large to create by CPI).
#[derive(Accounts)]
pub struct CreateMarket<'info> {
    /// Pays nothing here (the account already exists) but is recorded as the creator.
    pub creator: Signer<'info>,
    /// Created by the system program with `Market::space(order_capacity, event_capacity)`
    /// bytes, owned by this program, zeroed, rent exempt; signs, so an allocated account
    /// cannot be taken over by whoever initialises it first.
    #[account(zero, constraint = market.to_account_info().is_signer @ OrderbookError::MarketNotSigner)]
    pub market: AccountLoader<'info, Market>,
}

pub fn handle(ctx: Context<CreateMarket>, p: CreateMarketParams) -> Result<()> {
    require!(
        p.tick_size > 0 && p.base_lot_size > 0,
        OrderbookError::InvalidMarketParams
    );
    require!(
        (1..=MAX_ORDER_CAPACITY).contains(&p.order_capacity)
            && (1..=MAX_EVENT_CAPACITY).contains(&p.event_capacity),
        OrderbookError::InvalidCapacity
    );
    let max_fills = match p.max_fills {
        0 => DEFAULT_MAX_FILLS,
        n => n,
    };
    require!(
        max_fills as u32 <= carry_book::MAX_FILLS_PER_PLACE,
        OrderbookError::InvalidFillLimit
    );
    let info = ctx.accounts.market.to_account_info();
    require!(
        info.data_len() == Market::space(p.order_capacity, p.event_capacity),
        OrderbookError::InvalidAccountSize
    );
    {
        let mut m = ctx.accounts.market.load_init()?;
        *m = Market {
            authority: p.authority,
            creator: ctx.accounts.creator.key(),
            tick_size: p.tick_size,
            base_lot_size: p.base_lot_size,
            order_capacity: p.order_capacity,
            event_capacity: p.event_capacity,
            max_fills: max_fills as u32,
            reserved: [0; 60],
        };
    }
    let mut data = info.try_borrow_mut_data()?;
    Book::init(
        &mut data[Market::BOOK_OFFSET..],
        p.order_capacity,
        p.event_capacity,
    )
    .map_err(book_err)?;
    msg!(
        "market created: {} orders/side, {} events, tick {} lot {}",
        p.order_capacity,
        p.event_capacity,
        p.tick_size,
        p.base_lot_size
    );
    Ok(())
}
