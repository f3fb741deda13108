use crate::error::{book_err, OrderbookError};
use crate::events::EmitListener;
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
    let key = ctx.accounts.market.key();
    let info = ctx.accounts.market.to_account_info();
    let mut data = info.try_borrow_mut_data()?;
    let (market, mut book) = split_market(&mut data)?;
    let mut listener = EmitListener {
        market: key,
        tick_size: market.tick_size,
        base_lot_size: market.base_lot_size,
    };
    let n = book
        .cancel_all(
            &owner.to_bytes(),
            side.map(Into::into),
            limit as u32,
            &mut listener,
        )
        .map_err(book_err)?;
    msg!("cancelled {} orders", n);
    Ok(n)
}
