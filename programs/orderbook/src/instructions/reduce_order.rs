//! `reduce_order` (by order id) and `reduce_order_by_client_id` (looked up in the owner's
//! open-orders account): one body, two accounts structs.

use crate::error::{book_err, OrderbookError};
use crate::instructions::{MarketAuthority, MarketAuthorityOwner};
use crate::state::*;
use anchor_lang::prelude::*;
use carry_book::{BookError, OrderId, ReduceOutcome};

pub fn handle_id(
    ctx: Context<MarketAuthority>,
    owner: Pubkey,
    order_id: u128,
    quantity: u64,
) -> Result<ReduceSummary> {
    ctx.accounts.with_book(|market, book, listener| {
        let by = market.to_lots(quantity)?;
        let id = OrderId::from_u128(order_id);
        summary(market, book.reduce(&owner.to_bytes(), id, by, listener))
    })
}

pub fn handle_client_id(
    ctx: Context<MarketAuthorityOwner>,
    owner: Pubkey,
    client_order_id: u64,
    quantity: u64,
) -> Result<ReduceSummary> {
    ctx.accounts
        .with_book(&owner, |market, book, list, listener| {
            let by = market.to_lots(quantity)?;
            let owner = owner.to_bytes();
            summary(
                market,
                book.reduce_by_client_id(&owner, list, client_order_id, by, listener),
            )
        })
}

/// The reduce's outcome in native units.
fn summary(
    market: &Market,
    r: core::result::Result<ReduceOutcome, BookError>,
) -> Result<ReduceSummary> {
    let r = r.map_err(book_err)?;
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
}
