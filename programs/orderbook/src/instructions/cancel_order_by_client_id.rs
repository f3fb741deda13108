use crate::error::book_err;
use crate::events::EmitListener;
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;

pub fn handle(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    client_order_id: u64,
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
        .cancel_by_client_id(&owner.to_bytes(), client_order_id, &mut listener)
        .map_err(book_err)?;
    Ok(CancelSummary {
        order_id: c.order_id.to_u128(),
        client_order_id,
        quantity: c.quantity.saturating_mul(market.base_lot_size),
    })
}
