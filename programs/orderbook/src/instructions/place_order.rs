use crate::error::{book_err, OrderbookError};
use crate::events::{EmitListener, OrderPlaced};
use crate::instructions::MarketAuthorityOwner;
use crate::state::*;
use anchor_lang::prelude::*;
use carry_book::{Book, MatchContext, NewOrder, OpenOrders};

pub fn handle(
    ctx: Context<MarketAuthorityOwner>,
    args: PlaceOrderArgs,
) -> Result<PlaceOrderSummary> {
    let clock = Clock::get()?;
    let key = ctx.accounts.market.key();
    ctx.accounts
        .with_book(&args.owner, |market, book, list, listener| {
            place(key, &clock, market, book, list, listener, &args)
        })
}

fn place(
    key: Pubkey,
    clock: &Clock,
    market: &Market,
    book: &mut Book,
    list: &mut OpenOrders,
    listener: &mut EmitListener,
    args: &PlaceOrderArgs,
) -> Result<PlaceOrderSummary> {
    let kind = carry_book::OrderType::from(args.order_type);
    let pegged = kind == carry_book::OrderType::OraclePegged;

    // Native units -> ticks and lots, refusing prices and sizes off the grid.
    let price = if pegged && args.price == 0 {
        0
    } else {
        market.to_ticks(args.price)?
    };
    let peg_offset = if pegged {
        let ticks = market
            .to_ticks(args.peg_offset.unsigned_abs())
            .or_else(|e| if args.peg_offset == 0 { Ok(0) } else { Err(e) })?;
        let ticks = i64::try_from(ticks).map_err(|_| error!(OrderbookError::Overflow))?;
        if args.peg_offset < 0 {
            -ticks
        } else {
            ticks
        }
    } else {
        0
    };
    let quantity = market.to_lots(args.quantity)?;
    require!(
        (args.max_fills as u32) <= market.max_fills,
        OrderbookError::InvalidFillLimit
    );
    require!(args.expires_at >= 0, OrderbookError::AlreadyExpired);
    let ctx_match = MatchContext {
        now: clock.unix_timestamp.max(0) as u64,
        oracle_price: args
            .oracle_price
            .map(|p| p / market.tick_size)
            .filter(|p| *p > 0),
        slot: clock.slot,
    };
    let order = NewOrder {
        owner: args.owner.to_bytes(),
        side: args.side.into(),
        kind,
        price,
        peg_offset,
        quantity,
        client_order_id: args.client_order_id,
        expires_at: args.expires_at as u64,
        expires_at_slot: args.expires_at_slot,
        max_fills: args.max_fills as u32,
        self_trade: args.self_trade.into(),
        // Minimums round up to the engine's units, the budget rounds down: never looser than
        // asked.
        min_base_fill: args.min_base_fill.div_ceil(market.base_lot_size),
        min_quote_fill: args.min_quote_fill.div_ceil(market.tick_size),
        quote_budget: args.quote_budget / market.tick_size,
    };
    let (tick, lot) = (market.tick_size, market.base_lot_size);
    let out = book
        .place(&order, &ctx_match, list, listener)
        .map_err(book_err)?;

    let native = |v: u64, unit: u64| v.checked_mul(unit).ok_or(error!(OrderbookError::Overflow));
    let summary = PlaceOrderSummary {
        order_id: out.order_id.to_u128(),
        posted_price: if out.posted_quantity > 0 {
            native(out.posted_price, tick)?
        } else {
            0
        },
        posted_quantity: native(out.posted_quantity, lot)?,
        base_filled: native(out.base_filled, lot)?,
        quote_filled: native(out.quote_filled, tick)?,
        fills: out.fills,
        cancelled_quantity: native(out.cancelled_quantity, lot)?,
        makers_removed: out.makers_removed,
        evicted_order_id: out.evicted.map_or(0, |id| id.to_u128()),
        evicted_owner: listener.evicted_owner.unwrap_or_default(),
    };
    emit!(OrderPlaced {
        market: key,
        owner: args.owner,
        order_id: summary.order_id,
        client_order_id: args.client_order_id,
        side: order.side as u8,
        order_type: args.order_type as u8,
        posted_price: summary.posted_price,
        posted_quantity: summary.posted_quantity,
        base_filled: summary.base_filled,
        quote_filled: summary.quote_filled,
        fills: summary.fills,
        cancelled_quantity: summary.cancelled_quantity,
        expires_at: args.expires_at,
        expires_at_slot: args.expires_at_slot,
    });
    Ok(summary)
}
