//! `update_funding` (permissionless crank): samples the premium of the book's impact prices
//! over the oracle and advances the market's funding index (`carry_math::funding`).
//!
//! Impact prices are read from the book account directly (`carry_book`'s `visit_tradable`, best
//! first): the average price of filling `funding_impact_notional` on each side, walking at most
//! [`MAX_IMPACT_ORDERS`] tradable orders and [`MAX_IMPACT_VISITS`] orders in all a side. A side that cannot fill it (empty, thin, or
//! beyond the walk) has no impact price and the premium is 0 (the oracle is the fallback).
//! Dated futures pay no funding (`DatedMarketNoFunding`).

use anchor_lang::prelude::*;
use carry_book::{MatchContext, OrderSide as BookSide};
use carry_math::funding::{premium, ImpactPrice};
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::PerpFundingUpdateEvent;
use crate::oracle::{perp_advanced_stable_price, perp_oracle_price};
use crate::perp::with_book;
use crate::state::*;

/// Most tradable orders the crank walks on each side for the impact price.
pub const MAX_IMPACT_ORDERS: u32 = 64;
/// Most orders the crank looks at on each side, untradable ones (expired, out of peg)
/// included: the bound of its compute whatever the book holds.
pub const MAX_IMPACT_VISITS: u32 = 2 * MAX_IMPACT_ORDERS;

/// Accounts of `update_funding`.
#[derive(Accounts)]
pub struct UpdateFunding<'info> {
    /// Exchange (settlement decimals).
    pub exchange: AccountLoader<'info, Exchange>,
    /// Perp market of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = book @ CarryError::PerpMarketMismatch,
        has_one = oracle @ CarryError::OracleMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's book (read, not changed; writable because the engine loads it mutably).
    /// CHECK: the market's stored book key (`has_one`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// The market's oracle (age and confidence checked).
    /// CHECK: the market's stored oracle key (`has_one`); read by `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
}

/// Impact price of one side (`None` when it cannot fill the notional within the walk).
fn impact(
    book: &carry_book::Book,
    side: BookSide,
    ctx: &MatchContext,
    tick: i64,
    notional: u64,
) -> Result<Option<I80F48>> {
    let mut ip = ImpactPrice::new(side == BookSide::Bid, notional).named()?;
    let mut err = None;
    let mut visits = 0u32;
    // every order looked at counts, expired and out-of-peg ones too (invariant 7: an attacker's
    // untradable orders at the top cannot make this walk long; they can only leave the side
    // without an impact price, premium 0, until a taker removes them)
    book.visit_tradable_bounded(side, ctx, MAX_IMPACT_VISITS, |v| {
        visits += 1;
        let step = (|| {
            let price = I80F48::from_u64(v.price.ovf()?)
                .checked_mul_int(tick)
                .ovf()?;
            let lots =
                i64::try_from(v.order.quantity).map_err(|_| error!(CarryError::MathOverflow))?;
            ip.add_level(price, lots).named()
        })();
        match step {
            Ok(filled) => !filled && visits < MAX_IMPACT_ORDERS,
            Err(e) => {
                err = Some(e);
                false
            }
        }
    })
    .map_err(crate::error::book_err)?;
    if let Some(e) = err {
        return Err(e);
    }
    ip.price().named()
}

/// One funding crank (see the module docs and `FundingState::crank`).
pub fn handle_update_funding(ctx: Context<UpdateFunding>) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let market_key = ctx.accounts.perp_market.key();
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let mut market = ctx.accounts.perp_market.load_mut()?;
    require!(!market.is_dated(), CarryError::DatedMarketNoFunding);
    let oracle = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
    // The crank also moves the stored stable price toward the oracle (one step of at most
    // `stable_max_step_secs`), so a market's stable price follows at its full rate while the
    // keeper runs: what releases the oracle/stable guard after a real move.
    let stable = perp_advanced_stable_price(&market, oracle, now)?;
    market.stable_price.set(stable);
    market.stable_price_ts = now;
    let tick = i64::try_from(market.tick_size).map_err(|_| error!(CarryError::MathOverflow))?;
    let oracle_ticks = u64::try_from(oracle.floor_int() / tick as i128).unwrap_or(u64::MAX);
    let match_ctx = MatchContext {
        now: now.max(0) as u64,
        slot: clock.slot,
        oracle_price: (oracle_ticks > 0).then_some(oracle_ticks),
    };
    let notional = market.params.funding_impact_notional;
    let (bid, ask) = with_book(&ctx.accounts.book, |book, _| {
        Ok((
            impact(book, BookSide::Bid, &match_ctx, tick, notional)?,
            impact(book, BookSide::Ask, &match_ctx, tick, notional)?,
        ))
    })?;
    let p = premium(bid, ask, oracle).named()?;
    let mut state = market.funding_state();
    let up = state
        .crank(p, oracle, now, &market.params.funding_params())
        .named()?;
    market.set_funding_state(&state);
    emit!(PerpFundingUpdateEvent {
        perp_market: market_key,
        oracle_price_bits: oracle.to_bits(),
        impact_bid_bits: bid.map_or(0, |v| v.to_bits()),
        impact_ask_bits: ask.map_or(0, |v| v.to_bits()),
        premium_bits: up.premium.to_bits(),
        secs: up.secs,
        rate_applied_bits: up.rate_applied.to_bits(),
        index_delta_bits: up.index_delta.to_bits(),
        index_bits: up.index.to_bits(),
        new_rate: up.new_rate.is_some(),
        rate_bits: state.rate.to_bits(),
    });
    Ok(())
}
