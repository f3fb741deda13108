use crate::error::book_err;
use crate::instructions::MarketAuthorityOwner;
use crate::state::*;
use anchor_lang::prelude::*;

pub fn handle(
    ctx: Context<MarketAuthorityOwner>,
    owner: Pubkey,
    client_order_id: u64,
) -> Result<CancelSummary> {
    ctx.accounts
        .with_book(&owner, |market, book, list, listener| {
            let c = book
                .cancel_by_client_id(&owner.to_bytes(), list, client_order_id, listener)
                .map_err(book_err)?;
            Ok(CancelSummary {
                order_id: c.order_id.to_u128(),
                client_order_id,
                quantity: c.quantity.saturating_mul(market.base_lot_size),
            })
        })
}
