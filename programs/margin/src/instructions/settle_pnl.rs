//! `settle_pnl` (permissionless, any account, any time): marks a perp position to the oracle
//! and moves its PnL into the account's settlement-bank balance through the bank's share math.
//!
//! A loss moves entirely (rounded up to whole units): the balance falls, below zero into a
//! borrow that pays interest from then on, and the market's PnL pool grows by it. A profit is
//! paid out of the pool (rounded down, at most what the pool holds) into the balance: a
//! deposit, or the repayment of a borrow. A profit is marked at the oracle or at the market's
//! stable price, whichever pays less: an oracle pumped in one slot (the Mango 2022 exploit)
//! pays out only as much paper profit as the stable price has followed. What the pool cannot pay stays unrealized
//! (`carry_math::perp::split_pnl`). No token moves: the settlement bank's vault holds the pool
//! (conservation: `vault = deposits - borrows + non_lendable + reserve + dust + sum of the
//! markets' PnL pools`, to the unit). An account that opted the settlement token out of lending
//! settles a loss only up to its non-lendable balance (the rest stays unrealized) and receives
//! profit into it. Funding is settled first. Settlement changes neither the position's base nor
//! its total PnL, so no health check: the deposit and borrow limits are not applied to it.
//! A flat position with no resting lots and a sub-unit basis left frees its slot (so an account
//! that traded can be closed).

use anchor_lang::prelude::*;
use carry_math::perp::split_pnl;
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::PerpSettlePnlEvent;
use crate::oracle::{perp_advanced_stable_price, perp_oracle_price};
use crate::perp::settle_funding;
use crate::state::*;

/// Accounts of `settle_pnl`.
#[derive(Accounts)]
pub struct SettlePnl<'info> {
    /// Exchange.
    pub exchange: AccountLoader<'info, Exchange>,
    /// Margin account of this exchange (any; no signer needed).
    #[account(mut, has_one = exchange @ CarryError::ExchangeMismatch)]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Perp market of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = oracle @ CarryError::OracleMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's oracle (age and confidence checked).
    /// CHECK: the market's stored oracle key (`has_one`); read by `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
    /// The exchange's settlement bank (mint = the exchange's settlement mint).
    #[account(
        mut,
        has_one = exchange @ CarryError::BankMismatch,
        constraint = bank.load()?.mint == exchange.load()?.settlement_mint @ CarryError::BankMismatch
    )]
    pub bank: AccountLoader<'info, Bank>,
}

/// Settle the account's PnL in the market (`NoPerpPosition` without a slot there).
pub fn handle_settle_pnl(ctx: Context<SettlePnl>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let account_key = ctx.accounts.account.key();
    let market_key = ctx.accounts.perp_market.key();
    let bank_key = ctx.accounts.bank.key();
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let mut bank = ctx.accounts.bank.load_mut()?;
    let mut market = ctx.accounts.perp_market.load_mut()?;
    let mut acc = ctx.accounts.account.load_mut()?;
    let slot_idx = acc
        .find_perp(market.market_index)
        .ok_or(error!(CarryError::NoPerpPosition))?;
    let price = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
    settle_position(
        &mut bank,
        &mut market,
        &mut acc,
        slot_idx,
        price,
        now,
        [account_key, market_key, bank_key],
    )
}

/// Settle funding and then the PnL of perp slot `slot_idx` of `acc` at `price` (the body of
/// `settle_pnl`, shared with `liquidate_perp`): see the module docs. `keys` are the account,
/// the market and the settlement bank, for the events. The caller checked that `bank` is the
/// exchange's settlement bank and `market` the slot's market.
pub fn settle_position(
    bank: &mut Bank,
    market: &mut PerpMarket,
    acc: &mut MarginAccount,
    slot_idx: usize,
    price: I80F48,
    now: i64,
    keys: [Pubkey; 3],
) -> Result<()> {
    let [account_key, market_key, bank_key] = keys;
    settle_funding(market, &mut acc.perps[slot_idx], account_key, market_key)?;

    let pos = acc.perps[slot_idx].position();
    let pnl = pos.unrealized_pnl(price).named()?;
    // A profit is paid at the price less favourable to the account of the oracle and the
    // stable price, so a pumped oracle cannot pay out paper profit faster than the stable
    // price follows (the Mango 2022 exploit); a loss moves at the oracle.
    let payable = if pnl.is_positive() {
        let stable = perp_advanced_stable_price(market, price, now)?;
        pnl.min(pos.unrealized_pnl(stable).named()?)
            .max(I80F48::ZERO)
    } else {
        pnl
    };
    let mut settled = split_pnl(payable, market.pnl_pool_native)
        .named()?
        .settled_native;
    let opted_out = acc
        .find_token(bank.token_index)
        .is_some_and(|s| acc.tokens[s].lending_disabled != 0);
    if opted_out && settled < 0 {
        let s = acc.find_token(bank.token_index).ovf()?;
        let nl = i64::try_from(acc.tokens[s].non_lendable).unwrap_or(i64::MAX);
        settled = settled.max(-nl);
    }
    let (accrual, dt) = bank.accrue(now)?;
    if dt > 0 {
        crate::instructions::accrue_interest::emit_accrual(bank, bank_key, &accrual, dt);
    }
    let mut borrowed = 0u64;
    if settled != 0 {
        let amount = settled.unsigned_abs();
        let t = acc.find_or_create_token(bank.token_index)?;
        let tok = &mut acc.tokens[t];
        if tok.lending_disabled != 0 {
            tok.non_lendable = if settled > 0 {
                tok.non_lendable.checked_add(amount).ovf()?
            } else {
                tok.non_lendable.checked_sub(amount).ovf()?
            };
            bank.non_lendable_deposits = if settled > 0 {
                bank.non_lendable_deposits.checked_add(amount).ovf()?
            } else {
                bank.non_lendable_deposits.checked_sub(amount).ovf()?
            };
        } else {
            let mut pool = bank.pool();
            let mut shares = tok.indexed_position.get();
            if settled > 0 {
                pool.deposit(&mut shares, amount).named()?;
            } else {
                borrowed = pool.withdraw(&mut shares, amount, true).named()?.borrowed;
            }
            tok.indexed_position.set(shares);
            bank.set_pool(&pool);
        }
        acc.release_if_empty(t);
        market.pnl_pool_native = if settled > 0 {
            market.pnl_pool_native.checked_sub(amount).ovf()?
        } else {
            market.pnl_pool_native.checked_add(amount).ovf()?
        };
        let slot = &mut acc.perps[slot_idx];
        let q = slot
            .quote_native
            .get()
            .checked_add(I80F48::from_i64(settled))
            .ovf()?;
        slot.quote_native.set(q);
    }
    let remaining = pnl.checked_sub(I80F48::from_i64(settled)).ovf()?;
    // A flat position with nothing resting and less than one unit left in its basis (a
    // sub-unit profit a settlement cannot pay: losses round up, so the basis is <= 0) frees
    // its slot; the sub-unit remainder is forfeited to the protocol (it stays in the pool).
    let freed = {
        let slot = &acc.perps[slot_idx];
        slot.base_lots == 0
            && slot.bids_base_lots == 0
            && slot.asks_base_lots == 0
            && slot.quote_native.get() > I80F48::from_i64(-1)
            && slot.quote_native.get() <= I80F48::ZERO
    };
    if freed {
        acc.perps[slot_idx] = PerpPosition::default();
        acc.perp_open_orders[slot_idx] = Default::default();
    }
    emit!(PerpSettlePnlEvent {
        account: account_key,
        perp_market: market_key,
        settled_native: settled,
        borrowed_native: borrowed,
        remaining_pnl_bits: remaining.to_bits(),
        pnl_pool_after_native: market.pnl_pool_native,
        price_bits: price.to_bits(),
        slot_freed: freed,
    });
    Ok(())
}
