use crate::error::book_err;
use crate::events::EmitListener;
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;
use carry_book::OrderId;

pub fn handle(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    order_id: u128,
) -> Result<CancelSummary> {
    let key = ctx.accounts.market.key();
    let info = ctx.accounts.market.to_account_info();
    let mut data = info.try_borrow_mut_data()?;
    let (market, mut book) = split_market(&mut data)?;
    let mut listener = EmitListener {
        market: key,
        tick_size: market.tick_size,
        base_lot_size: market.base_lot_size,
    };
    let c = book
        .cancel(
            &owner.to_bytes(),
            OrderId::from_u128(order_id),
            &mut listener,
        )
        .map_err(book_err)?;
    Ok(CancelSummary {
        order_id,
        client_order_id: c.client_order_id,
        quantity: c.quantity.saturating_mul(market.base_lot_size),
    })
}
