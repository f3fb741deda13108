//! Dated futures at expiry: `sample_settlement_price` (permissionless crank) records oracle
//! samples over the settlement window (`carry_math::dated::PriceAverager`: inside
//! `[expiry_ts, expiry_ts + settlement_window_secs]`, at most one every
//! `settlement_min_interval_secs`); after the window, `close_expired_position` (permissionless,
//! per account) closes a position at the samples' average (`Position::close_at`: its PnL at the
//! average becomes realized, base 0), and `settle_pnl` then moves that PnL into the
//! settlement-bank balance as for any position. Orders are refused from expiry on
//! (`place_perp_order`: `PerpMarketExpired`); every queued maker fill must be applied first
//! (`PerpEventsPending`), so no fill lands on a closed position. The close of the last open
//! position closes the market (`PerpMarket::is_closed`, `PerpExpiryCloseEvent::market_closed`):
//! from then on only PnL settlement touches it.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::{PerpExpiryCloseEvent, PerpSettlementSampleEvent};
use crate::oracle::perp_oracle_price;
use crate::state::*;

/// Accounts of `sample_settlement_price`.
#[derive(Accounts)]
pub struct SampleSettlementPrice<'info> {
    /// Exchange (settlement decimals).
    pub exchange: AccountLoader<'info, Exchange>,
    /// A dated perp market of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = oracle @ CarryError::OracleMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's oracle (age and confidence checked).
    /// CHECK: the market's stored oracle key (`has_one`); read by `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
}

/// Record one sample when the window and the interval allow (else nothing changes, Ok).
/// `NotDatedMarket` for a perpetual.
pub fn handle_sample_settlement_price(ctx: Context<SampleSettlementPrice>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let key = ctx.accounts.perp_market.key();
    let mut market = ctx.accounts.perp_market.load_mut()?;
    let window = market
        .params
        .settlement_window()
        .ok_or(error!(CarryError::NotDatedMarket))?;
    let price = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
    let mut avg = market.settlement_averager();
    let recorded = avg.record(price, now, &window).named()?;
    if recorded {
        market.settlement_price_sum.set(avg.sum);
        market.settlement_sample_count = avg.count;
        market.settlement_last_sample_ts = avg.last_sample_ts;
    }
    emit!(PerpSettlementSampleEvent {
        perp_market: key,
        price_bits: price.to_bits(),
        recorded,
        sample_count: avg.count,
    });
    Ok(())
}

/// Accounts of `close_expired_position`.
#[derive(Accounts)]
pub struct CloseExpiredPosition<'info> {
    /// A dated perp market.
    #[account(mut, has_one = book @ CarryError::PerpMarketMismatch)]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's book (read: its event queue must be empty).
    /// CHECK: the market's stored book key (`has_one`).
    pub book: UncheckedAccount<'info>,
    /// Margin account of the market's exchange (any; no signer needed).
    #[account(
        mut,
        constraint = account.load()?.exchange == perp_market.load()?.exchange @ CarryError::ExchangeMismatch
    )]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// Close the account's position at the settlement average. Refused: a perpetual
/// (`NotDatedMarket`), before the window's end (`SettlementWindowOpen`), without samples
/// (`NoSettlementSamples`), with fills still queued (`PerpEventsPending`), without a position
/// (`NoPerpPosition`).
pub fn handle_close_expired_position(ctx: Context<CloseExpiredPosition>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let account_key = ctx.accounts.account.key();
    let market_key = ctx.accounts.perp_market.key();
    let mut market = ctx.accounts.perp_market.load_mut()?;
    let window = market
        .params
        .settlement_window()
        .ok_or(error!(CarryError::NotDatedMarket))?;
    require!(now > window.end_ts, CarryError::SettlementWindowOpen);
    let price = market.settlement_averager().average().named()?;
    {
        let data = ctx.accounts.book.try_borrow_data()?;
        let head = core::mem::size_of::<carry_book::BookHeader>();
        require!(
            data.len() >= PerpBook::BOOK_OFFSET + head && &data[..8] == PerpBook::DISCRIMINATOR,
            CarryError::PerpBookInvalid
        );
        let h: &carry_book::BookHeader =
            bytemuck::try_from_bytes(&data[PerpBook::BOOK_OFFSET..PerpBook::BOOK_OFFSET + head])
                .map_err(|_| error!(CarryError::PerpBookInvalid))?;
        require!(h.event_count == 0, CarryError::PerpEventsPending);
    }
    let mut acc = ctx.accounts.account.load_mut()?;
    let slot_idx = acc
        .find_perp(market.market_index)
        .ok_or(error!(CarryError::NoPerpPosition))?;
    let slot = &mut acc.perps[slot_idx];
    // funding and socialized loss owed on the size held, before it closes
    crate::perp::settle_funding(&market, slot, account_key, market_key)?;
    let mut pos = slot.position();
    let closed = pos.close_at(price).named()?;
    market.open_interest_lots = market
        .open_interest_lots
        .checked_sub(closed.max(0) as u64)
        .ovf()?;
    market.settlement_closed_lots = market.settlement_closed_lots.checked_add(closed).ovf()?;
    slot.base_lots = 0;
    slot.quote_native.set(pos.quote_native);
    emit!(PerpExpiryCloseEvent {
        account: account_key,
        perp_market: market_key,
        base_lots_closed: closed,
        price_bits: price.to_bits(),
        quote_native_after_bits: pos.quote_native.to_bits(),
        market_closed: market.is_closed(),
    });
    Ok(())
}
