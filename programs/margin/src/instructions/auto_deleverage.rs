//! `auto_deleverage` (permissionless): close a bankrupt account's perp position against the
//! most profitable opposite positions of the market, at the bankruptcy price, for the part of
//! its deficit the insurance fund cannot cover.
//!
//! - The account must be below maintenance health (`NotLiquidatable`), its **equity**
//!   (`carry_math::health::HealthTerms::equity`: every weight at 1, each perp position at its
//!   PnL at the oracle) negative (`EquityNotNegative`), and its deficit larger than the insurance
//!   vault's balance (`InsuranceCoversDeficit`: then a liquidation and `resolve_bankruptcy`
//!   with the fund resolve it). Its position in the market must be open with nothing resting
//!   (`NothingToLiquidate`, `LiquidateeHasOpenOrders`).
//! - `deficit = -equity - insurance fund`. The **bankruptcy price**
//!   (`carry_math::liquidation::bankruptcy_price`) is the price at which closing the whole
//!   position absorbs that deficit: `oracle + deficit / base` (a long sells above the oracle, a
//!   short buys below it). After the whole position closes there, the account's equity is
//!   minus the fund's balance, which `resolve_bankruptcy` then pays.
//! - **Candidates** (remaining accounts after the health pairs, writable margin accounts)
//!   hold the opposite side of the market with unrealized profit at the oracle and an account
//!   equity above zero (`AdlCandidateInvalid`), in non-increasing rank (`AdlRankOrder`):
//!   `carry_math::liquidation::adl_score`, the position's PnL ratio times its account's
//!   leverage, each computed by the program from the health pairs. The program cannot see every
//!   account, so the keeper ranks them (the SDK's `adl_candidates` does) and the program
//!   checks the ones passed.
//! - Each candidate in turn closes `min(what is left, its size, its profit / premium per lot)`
//!   lots against the bankrupt position at the bankruptcy price (no fee): it gives up at most its
//!   unrealized profit. Both positions move by exactly `lots * price`, the market stays
//!   zero-sum, open interest follows both. One `AutoDeleverageEvent` per candidate with the lots,
//!   the price and what it absorbed (`lots * |price - oracle|`).
//! - At most `max_base_lots` in all; at least one lot (`NothingToDeleverage`). Then the
//!   bankrupt account's PnL in the market is settled into its settlement-bank balance as
//!   `settle_pnl` does. What a partial pass leaves is liquidated as usual and resolved by
//!   `resolve_bankruptcy` (fund, then the market's positions, then the bank's depositors).
//!
//! Refused while the oracle is further from the stable price than the market's guard
//! (`OracleStableDivergence`). Runs while the exchange is paused and in reduce-only markets. Remaining accounts: the health
//! pairs of the bankrupt account and of every candidate (the union; `health_accounts` of
//! them, at most 10 bank and 10 perp pairs, see `health.rs`), then the candidates.

use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;
use carry_math::health::HealthType;
use carry_math::liquidation::{adl_max_lots, adl_score, bankruptcy_price, liquidator_side};
use carry_math::perp::Fill;
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::AutoDeleverageEvent;
use crate::health::health_terms;
use crate::instructions::settle_pnl::settle_position;
use crate::oracle::{check_oracle_stable_guard, perp_advanced_stable_price, perp_oracle_price};
use crate::perp::{open_interest_after_transfer, opposite, settle_funding};
use crate::state::*;

/// Most candidates one instruction takes.
pub const MAX_ADL_CANDIDATES: usize = 8;

/// Accounts of `auto_deleverage`.
#[derive(Accounts)]
pub struct AutoDeleverage<'info> {
    /// Exchange (may be paused).
    #[account(has_one = insurance_vault @ CarryError::InsuranceVaultMismatch)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// The bankrupt account.
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
    /// The exchange's settlement bank (the bankrupt account's PnL is settled into it).
    #[account(
        mut,
        has_one = exchange @ CarryError::BankMismatch,
        constraint = settlement_bank.load()?.mint == exchange.load()?.settlement_mint @ CarryError::NotSettlementBank
    )]
    pub settlement_bank: AccountLoader<'info, Bank>,
    /// The exchange's insurance vault (read: the deficit beyond its balance is deleveraged).
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
}

/// A candidate as ranked before any position moves.
#[derive(Clone, Copy)]
struct Ranked {
    score: I80F48,
    pnl: I80F48,
}

/// Close up to `max_base_lots` of the bankrupt account's position against the candidates.
pub fn handle_auto_deleverage<'info>(
    ctx: Context<'_, '_, 'info, 'info, AutoDeleverage<'info>>,
    max_base_lots: u64,
    health_accounts: u8,
) -> Result<()> {
    require!(max_base_lots > 0, CarryError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let exchange_key = ctx.accounts.exchange.key();
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let n_pairs = health_accounts as usize;
    require!(
        n_pairs <= ctx.remaining_accounts.len(),
        CarryError::HealthAccountsMismatch
    );
    let (pairs, candidates) = ctx.remaining_accounts.split_at(n_pairs);
    require!(
        candidates.len() <= MAX_ADL_CANDIDATES,
        CarryError::AdlCandidateInvalid
    );
    let account_key = ctx.accounts.account.key();
    let market_key = ctx.accounts.perp_market.key();
    let bank_key = ctx.accounts.settlement_bank.key();
    let market_index = ctx.accounts.perp_market.load()?.market_index;

    // The deficit beyond the fund, from the program's own health terms.
    let deficit = {
        let acc = ctx.accounts.account.load()?;
        let terms = health_terms(&acc, &exchange_key, quote_decimals, pairs, now, false)?;
        require!(
            terms.health(HealthType::Maint).named()?.is_negative(),
            CarryError::NotLiquidatable
        );
        let equity = terms.equity().named()?;
        require!(equity.is_negative(), CarryError::EquityNotNegative);
        let fund = I80F48::from_u64(ctx.accounts.insurance_vault.amount);
        let deficit = equity.checked_neg().ovf()?.checked_sub(fund).ovf()?;
        require!(deficit.is_positive(), CarryError::InsuranceCoversDeficit);
        deficit
    };

    // Rank the candidates (read only: the market is borrowed mutably only after this).
    let oracle = {
        let market = ctx.accounts.perp_market.load()?;
        let oracle = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
        let stable = perp_advanced_stable_price(&market, oracle, now)?;
        check_oracle_stable_guard(&market, oracle, stable)?;
        oracle
    };
    let mut ranked = [Ranked {
        score: I80F48::ZERO,
        pnl: I80F48::ZERO,
    }; MAX_ADL_CANDIDATES];
    for (i, cand_ai) in candidates.iter().enumerate() {
        require!(
            *cand_ai.key != account_key && cand_ai.is_writable,
            CarryError::AdlCandidateInvalid
        );
        let loader = AccountLoader::<MarginAccount>::try_from(cand_ai)
            .map_err(|_| error!(CarryError::AdlCandidateInvalid))?;
        let cand = loader.load()?;
        require_keys_eq!(cand.exchange, exchange_key, CarryError::AdlCandidateInvalid);
        let terms = health_terms(&cand, &exchange_key, quote_decimals, pairs, now, false)?;
        let term = terms
            .perps()
            .iter()
            .find(|t| t.market_index == market_index)
            .ok_or(error!(CarryError::AdlCandidateInvalid))?;
        let slot = &cand.perps[cand.find_perp(market_index).ovf()?];
        let notional = oracle.checked_mul_int(slot.base_lots).ovf()?;
        let entry = notional.checked_sub(term.pnl).ovf()?;
        let equity = terms.equity().named()?;
        require!(
            term.pnl.is_positive() && equity.is_positive(),
            CarryError::AdlCandidateInvalid
        );
        let score = adl_score(term.pnl, entry, notional.checked_abs().ovf()?, equity).named()?;
        if i > 0 {
            require!(score <= ranked[i - 1].score, CarryError::AdlRankOrder);
        }
        ranked[i] = Ranked {
            score,
            pnl: term.pnl,
        };
    }

    let mut market = ctx.accounts.perp_market.load_mut()?;
    let mut acc = ctx.accounts.account.load_mut()?;
    let slot_idx = acc
        .find_perp(market_index)
        .ok_or(error!(CarryError::NothingToLiquidate))?;
    let base_before = acc.perps[slot_idx].base_lots;
    require!(base_before != 0, CarryError::NothingToLiquidate);
    require!(
        acc.perps[slot_idx].bids_base_lots == 0 && acc.perps[slot_idx].asks_base_lots == 0,
        CarryError::LiquidateeHasOpenOrders
    );
    settle_funding(&market, &mut acc.perps[slot_idx], account_key, market_key)?;
    let price = bankruptcy_price(oracle, base_before, deficit).named()?;
    let premium = price.checked_sub(oracle).ovf()?.checked_abs().ovf()?;
    // the candidate takes the position over as a liquidator would; the bankrupt side closes
    let cand_side = liquidator_side(base_before);
    let bankrupt_side = opposite(cand_side);
    let mut left = base_before.unsigned_abs().min(max_base_lots);
    let mut total = 0u64;
    for (cand_ai, r) in candidates.iter().zip(ranked.iter()) {
        if left == 0 {
            break;
        }
        let loader = AccountLoader::<MarginAccount>::try_from(cand_ai)
            .map_err(|_| error!(CarryError::AdlCandidateInvalid))?;
        let mut cand = loader.load_mut()?;
        let c_idx = cand.find_perp(market_index).ovf()?;
        let c_before = cand.perps[c_idx].base_lots;
        require!(
            c_before != 0 && (c_before > 0) != (base_before > 0),
            CarryError::AdlCandidateInvalid
        );
        settle_funding(&market, &mut cand.perps[c_idx], *cand_ai.key, market_key)?;
        let pnl = cand.perps[c_idx]
            .position()
            .unrealized_pnl(oracle)
            .named()?;
        if !pnl.is_positive() {
            continue;
        }
        let lots = left
            .min(c_before.unsigned_abs())
            .min(adl_max_lots(pnl, premium).named()?);
        if lots == 0 {
            continue;
        }
        let lots_i = i64::try_from(lots).map_err(|_| error!(CarryError::MathOverflow))?;
        let mut b_pos = acc.perps[slot_idx].position();
        let b_prev = b_pos.base_lots;
        b_pos
            .apply_fill(&Fill {
                side: bankrupt_side,
                base_lots: lots_i,
                price,
                fee_ppm: 0,
            })
            .named()?;
        let mut c_pos = cand.perps[c_idx].position();
        c_pos
            .apply_fill(&Fill {
                side: cand_side,
                base_lots: lots_i,
                price,
                fee_ppm: 0,
            })
            .named()?;
        market.open_interest_lots = open_interest_after_transfer(
            market.open_interest_lots,
            [(b_prev, b_pos.base_lots), (c_before, c_pos.base_lots)],
        )?;
        acc.perps[slot_idx].base_lots = b_pos.base_lots;
        acc.perps[slot_idx].quote_native.set(b_pos.quote_native);
        cand.perps[c_idx].base_lots = c_pos.base_lots;
        cand.perps[c_idx].quote_native.set(c_pos.quote_native);
        left -= lots;
        total += lots;
        emit!(AutoDeleverageEvent {
            bankrupt: account_key,
            account: *cand_ai.key,
            perp_market: market_key,
            base_lots: lots,
            price_bits: price.to_bits(),
            oracle_price_bits: oracle.to_bits(),
            absorbed_bits: premium.checked_mul_int(lots_i).ovf()?.to_bits(),
            deficit_bits: deficit.to_bits(),
            pnl_before_bits: r.pnl.to_bits(),
            score_bits: r.score.to_bits(),
        });
    }
    require!(total > 0, CarryError::NothingToDeleverage);

    // The bankrupt account's PnL into its settlement balance (as `settle_pnl`).
    let mut bank = ctx.accounts.settlement_bank.load_mut()?;
    settle_position(
        &mut bank,
        &mut market,
        &mut acc,
        slot_idx,
        oracle,
        now,
        [account_key, market_key, bank_key],
    )?;
    msg!(
        "auto-deleverage market {}: {} of {} lots at {} (oracle {}), deficit beyond fund {}",
        market_index,
        total,
        base_before.unsigned_abs(),
        price,
        oracle,
        deficit
    );
    Ok(())
}
