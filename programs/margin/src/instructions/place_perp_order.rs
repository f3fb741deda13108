//! `place_perp_order` (owner or delegate): an order on a perp market's linked book, with the
//! taker's fills applied to the account's position in the same instruction.
//!
//! Remaining accounts: the health pairs of the account after the order, `(bank, oracle)` per
//! token slot and `(perp market, oracle)` per perp slot including this market's (see
//! `health.rs`); checked only for an order that can add risk.

use anchor_lang::prelude::*;
use carry_book::{MatchContext, NewOrder, OrderSide as BookSide, OrderType, SelfTradeMode};
use carry_math::perp::{max_open_interest_increase, reduce_only_max_lots};

use crate::error::{book_err, CarryError, MathResultExt};
use crate::events::PerpOrderEvent;
use crate::health::compute_health;
use crate::oracle::{perp_advanced_stable_price, perp_oracle_price};
use crate::perp::{
    apply_fill, emit_fill, find_or_create_perp, math_side, release_resting, settle_funding,
    with_book, PerpListener,
};
use crate::state::*;

/// Accounts of `place_perp_order`.
#[derive(Accounts)]
pub struct PlacePerpOrder<'info> {
    /// Owner or delegate of the account.
    pub signer: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Margin account of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::ExchangeMismatch,
        constraint = account.load()?.is_owner_or_delegate(&signer.key()) @ CarryError::NotOwnerOrDelegate
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Perp market of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = book @ CarryError::PerpMarketMismatch,
        has_one = oracle @ CarryError::OracleMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's book account.
    /// CHECK: the market's stored book key (`has_one`), an account of this program.
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// The market's oracle (age and confidence checked).
    /// CHECK: the market's stored oracle key (`has_one`); read by `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
}

/// Arguments of `place_perp_order`. Prices in ticks (`tick_size` quote native per lot), sizes
/// in base lots.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlacePerpOrderArgs {
    /// 0 bid (buy), 1 ask (sell).
    pub side: u8,
    /// `carry_book::OrderType`: 0 limit, 1 post-only, 2 post-only-slide, 3 immediate-or-cancel,
    /// 4 fill-or-kill, 5 market (`price_ticks` = worst price), 6 oracle-pegged.
    pub order_kind: u8,
    /// Limit price in ticks; the worst price of a market order; the peg limit of a pegged
    /// order (0 = none).
    pub price_ticks: u64,
    /// Oracle-pegged orders: ticks added to the oracle price (else 0).
    pub peg_offset_ticks: i64,
    /// Size, base lots (> 0).
    pub max_base_lots: u64,
    /// Caller's id, unique among the account's resting orders; 0 = none.
    pub client_order_id: u64,
    /// Unix seconds from which the order no longer trades; 0 = never.
    pub expires_at: u64,
    /// Slot from which the order no longer trades; 0 = never (at most one expiry).
    pub expires_at_slot: u64,
    /// `carry_book::SelfTradeMode`: 0 decrement-take, 1 cancel-resting, 2 abort.
    pub self_trade: u8,
    /// Refuse the order unless it only reduces the position (after the account's orders
    /// resting on the same side).
    pub reduce_only: bool,
}

/// Place an order. Refused (nothing changed) when: the exchange is paused; the market is a
/// dated future at or past expiry (`PerpMarketExpired`); the market is reduce-only and the order
/// could add to the position (`PerpMarketReduceOnly`); a reduce-only order is larger than the
/// position left after the account's orders on that side (`ReduceOnlyWouldIncrease`); the
/// order could push open interest past the limit (`OpenInterestLimitExceeded`, checked with the
/// most the order can add); a limit or pegged order, or a post-only order adding risk, would buy
/// above or sell below the market's band around the oracle (`OrderPriceOutOfBand`, pegged
/// orders by their offset; an IOC, FOK or market order is clamped to the band instead, reducing
/// or not); the book refuses it (post-only crossing, FOK unfilled, self-trade
/// abort, full side, full event queue, duplicate client id, expiry past: each named); or, for an
/// order that can add risk, initial health (open orders margined at their worse side) ends < 0
/// (`HealthBelowZero`).
///
/// Effects: the account's funding is settled, the order placed with the account's key as the
/// book owner, each taker fill applied with the taker fee (`apply_fill`), resting lots added to
/// `bids_base_lots`/`asks_base_lots`, own orders removed by matching released; maker fills go
/// to the book's fill queue for `consume_perp_events`.
pub fn handle_place_perp_order(
    ctx: Context<PlacePerpOrder>,
    args: PlacePerpOrderArgs,
) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let account_key = ctx.accounts.account.key();
    let market_key = ctx.accounts.perp_market.key();
    let exchange_key = ctx.accounts.exchange.key();
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;

    let side = BookSide::from_u8(args.side).ok_or(error!(CarryError::InvalidOrderParams))?;
    let kind = OrderType::from_u8(args.order_kind).ok_or(error!(CarryError::InvalidOrderParams))?;
    let self_trade =
        SelfTradeMode::from_u8(args.self_trade).ok_or(error!(CarryError::InvalidOrderParams))?;
    require!(
        args.max_base_lots > 0 && args.max_base_lots <= i64::MAX as u64,
        CarryError::InvalidOrderParams
    );
    require!(
        kind == OrderType::OraclePegged || args.peg_offset_ticks == 0,
        CarryError::InvalidOrderParams
    );

    let adds_risk = {
        let mut market = ctx.accounts.perp_market.load_mut()?;
        let mut acc = ctx.accounts.account.load_mut()?;
        if market.is_dated() {
            require!(now < market.params.expiry_ts, CarryError::PerpMarketExpired);
        }
        let oracle = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
        let tick = market.tick_size;
        let oracle_ticks = u64::try_from(oracle.floor_int() / tick as i128).unwrap_or(u64::MAX);

        let slot_idx = find_or_create_perp(&mut acc, market.market_index)?;
        let MarginAccount {
            perps,
            perp_open_orders,
            ..
        } = &mut *acc;
        let slot = &mut perps[slot_idx];
        let open_orders = &mut perp_open_orders[slot_idx];
        settle_funding(&market, slot, account_key, market_key)?;

        let lots = args.max_base_lots as i64;
        let room = reduce_only_max_lots(
            slot.base_lots,
            slot.bids_base_lots,
            slot.asks_base_lots,
            math_side(side),
        )
        .named()?;
        let reduces = lots <= room;
        if args.reduce_only {
            require!(reduces, CarryError::ReduceOnlyWouldIncrease);
        }
        if market.params.is_reduce_only() {
            require!(reduces, CarryError::PerpMarketReduceOnly);
        }
        // The band: no order buys above oracle x (1 + band) or sells below oracle x (1 - band)
        // (in ticks). Orders that can only take (IOC, FOK, market) have their limit clamped to
        // it; an order that can take and rest (limit, pegged) or a post-only order adding risk
        // is refused beyond it. Reducing orders are bound too: otherwise two accounts of one
        // owner could close against each other at any price, one realizing a loss beyond its
        // collateral that the insurance fund and depositors would pay to the other.
        let mut price_ticks = args.price_ticks;
        let band = market.params.order_band_bps as u64;
        let guard = market.params.oracle_stable_guard_bps as i128;
        if band > 0 || guard > 0 {
            // around the oracle in whole ticks, rounded to the nearest (a converted oracle a
            // hair below a tick must not narrow the band by one), at least one tick wide
            let tick_i = tick.max(1) as i128;
            let centre = (oracle.floor_int() + tick_i / 2) / tick_i;
            let (mut hi, mut lo) = (i128::MAX, 1);
            if band > 0 {
                let width = ((centre as u128 * band as u128 / 10_000) as i128).max(1);
                hi = centre + width;
                lo = (centre - width).max(1);
            }
            // with the market's oracle/stable guard, also within stable x (1 +- guard): a
            // pumped oracle cannot be realized by a fill
            if guard > 0 {
                let stable = perp_advanced_stable_price(&market, oracle, now)?.floor_int();
                let den = 10_000 * tick_i;
                hi = hi.min(stable * (10_000 + guard) / den);
                lo = lo.max((stable * (10_000 - guard) + den - 1) / den);
            }
            let price = if kind == OrderType::OraclePegged {
                centre + args.peg_offset_ticks as i128
            } else {
                args.price_ticks as i128
            };
            let beyond = match side {
                BookSide::Bid => price > hi,
                BookSide::Ask => price < lo,
            };
            if beyond {
                match kind {
                    OrderType::ImmediateOrCancel | OrderType::FillOrKill | OrderType::Market => {
                        price_ticks = match side {
                            BookSide::Bid => hi.max(0),
                            BookSide::Ask => lo,
                        } as u64;
                    }
                    OrderType::PostOnly | OrderType::PostOnlySlide if reduces => {}
                    _ => return err!(CarryError::OrderPriceOutOfBand),
                }
            }
        }
        let oi_add = max_open_interest_increase(slot.base_lots, math_side(side), lots).named()?;
        if oi_add > 0 {
            let limit = market.params.open_interest_limit_lots;
            require!(
                market
                    .open_interest_lots
                    .checked_add(oi_add as u64)
                    .is_some_and(|oi| oi <= limit),
                CarryError::OpenInterestLimitExceeded
            );
        }

        let order = NewOrder {
            owner: account_key.to_bytes(),
            side,
            kind,
            price: price_ticks,
            peg_offset: args.peg_offset_ticks,
            quantity: args.max_base_lots,
            client_order_id: args.client_order_id,
            expires_at: args.expires_at,
            expires_at_slot: args.expires_at_slot,
            max_fills: 0,
            self_trade,
            min_base_fill: 0,
            min_quote_fill: 0,
            quote_budget: 0,
        };
        let match_ctx = MatchContext {
            now: now.max(0) as u64,
            slot: clock.slot,
            oracle_price: (oracle_ticks > 0).then_some(oracle_ticks),
        };
        let mut listener = PerpListener::new(account_key, market_key);
        let taker_fee = market.params.taker_fee_ppm;
        let market = &mut *market;
        let out = with_book(&ctx.accounts.book, |book, max_fills| {
            let order = NewOrder { max_fills, ..order };
            let first = book.event_count();
            let out = book
                .place(&order, &match_ctx, open_orders.book(), &mut listener)
                .map_err(book_err)?;
            // The place queued the taker's fills (and other owners' out events, for the crank)
            // after the events already there.
            for i in first..book.event_count() {
                let e = *book.event(i).ok_or(error!(CarryError::PerpBookInvalid))?;
                if !e.is_fill() {
                    continue;
                }
                let applied = apply_fill(
                    market,
                    slot,
                    math_side(side),
                    e.quantity,
                    e.price,
                    taker_fee,
                )?;
                emit_fill(
                    account_key,
                    Pubkey::new_from_array(e.maker),
                    market_key,
                    false,
                    math_side(side),
                    e.price,
                    e.quantity,
                    &applied,
                    e.seq,
                );
            }
            Ok(out)
        })?;
        release_resting(slot, BookSide::Bid, listener.released[0]);
        release_resting(slot, BookSide::Ask, listener.released[1]);
        if out.posted_quantity > 0 {
            let posted = out.posted_quantity as i64;
            let field = match side {
                BookSide::Bid => &mut slot.bids_base_lots,
                BookSide::Ask => &mut slot.asks_base_lots,
            };
            *field = field
                .checked_add(posted)
                .ok_or(error!(CarryError::MathOverflow))?;
        }
        emit!(PerpOrderEvent {
            account: account_key,
            perp_market: market_key,
            signer: ctx.accounts.signer.key(),
            order_id: out.order_id.to_u128(),
            client_order_id: args.client_order_id,
            side: args.side,
            order_kind: args.order_kind,
            reduce_only: args.reduce_only,
            posted_price_ticks: if out.posted_quantity > 0 {
                out.posted_price
            } else {
                0
            },
            posted_base_lots: out.posted_quantity,
            filled_base_lots: out.base_filled,
            filled_quote_native: out
                .quote_filled
                .checked_mul(tick)
                .ok_or(error!(CarryError::MathOverflow))?,
            cancelled_base_lots: out.cancelled_quantity,
            fills: out.fills,
            makers_removed: out.makers_removed,
        });
        !reduces
    };

    if adds_risk {
        let acc = ctx.accounts.account.load()?;
        let health = compute_health(
            &acc,
            &exchange_key,
            quote_decimals,
            ctx.remaining_accounts,
            now,
            true,
        )?;
        require!(!health.init.is_negative(), CarryError::HealthBelowZero);
    }
    Ok(())
}
