use crate::error::{book_err, OrderbookError};
use crate::instructions::MarketAuthority;
use crate::state::*;
use anchor_lang::prelude::*;
use carry_book::OrderId;

/// Which order to reduce.
pub enum Target {
    Id(u128),
    ClientId(u64),
}

pub fn handle(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    target: Target,
    quantity: u64,
) -> Result<ReduceSummary> {
    ctx.accounts.with_book(|market, book, listener| {
        let by = market.to_lots(quantity)?;
        let owner = owner.to_bytes();
        let r = match target {
            Target::Id(id) => book.reduce(&owner, OrderId::from_u128(id), by, listener),
            Target::ClientId(cid) => book.reduce_by_client_id(&owner, cid, by, listener),
        }
        .map_err(book_err)?;
        let native = |v: u64| {
            v.checked_mul(market.base_lot_size)
                .ok_or(error!(OrderbookError::Overflow))
        };
        Ok(ReduceSummary {
            order_id: r.order_id.to_u128(),
            client_order_id: r.client_order_id,
            reduced: native(r.reduced)?,
            remaining: native(r.remaining)?,
        })
    })
}
