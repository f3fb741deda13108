use crate::error::book_err;
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;
use carry_book::OrderId;

pub fn handle(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    order_id: u128,
) -> Result<CancelSummary> {
    ctx.accounts.with_book(|market, book, listener| {
        let c = book
            .cancel(&owner.to_bytes(), OrderId::from_u128(order_id), listener)
            .map_err(book_err)?;
        Ok(CancelSummary {
            order_id,
            client_order_id: c.client_order_id,
            quantity: c.quantity.saturating_mul(market.base_lot_size),
        })
    })
}
