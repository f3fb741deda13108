//! Liquidation projections: the oracle price of one perp market at which an account's
//! maintenance health reaches zero (its liquidation price for that position), computed with the
//! margin program's own perp term (`carry_margin::health::perp_term`) over the account's other
//! terms held fixed; and the insurance fund's balance ([`insurance_balance`]).
//!
//! The projection assumes the market's stable price has followed the oracle (both at the price
//! tried): a fast move is counted on chain at the worse of the two, so a liquidation can come
//! somewhat later than projected after a jump, never earlier.

use carry_margin::health::perp_term;
use carry_margin::state::{MarginAccount, PerpMarket};
use carry_math::health::{HealthTerms, HealthType};
use carry_math::{Round, I80F48};

/// Maintenance health of `account` if market `market`'s oracle (and stable) price were
/// `price` (quote native per lot), everything else as in `terms`.
fn maint_at(
    others_maint: I80F48,
    account: &MarginAccount,
    market: &PerpMarket,
    price: I80F48,
) -> Result<I80F48, String> {
    let slot = account
        .find_perp(market.market_index)
        .ok_or("no position in this market")?;
    let t = perp_term(market, &account.perps[slot], price, price).map_err(|e| format!("{e:?}"))?;
    others_maint
        .checked_add(t.maint)
        .ok_or_else(|| "overflow".to_string())
}

/// Liquidation price of `account`'s position in `market`, quote native per lot: for a long the
/// highest price at or below which maintenance health is negative, for a short the lowest at
/// or above which it is (to the fixed-point grid, by bisection: at most 128 evaluations of the
/// program's perp term). `terms` are the account's health terms now (`crate::health::
/// health_terms`), `price` the market's oracle price per lot now. `Ok(None)` for a flat
/// position, or when no price in `(0, price]` (long) or `[price, 2^20 x price]` (short)
/// reaches it.
pub fn liquidation_price(
    terms: &HealthTerms,
    account: &MarginAccount,
    market: &PerpMarket,
    price: I80F48,
) -> Result<Option<I80F48>, String> {
    let slot = account
        .find_perp(market.market_index)
        .ok_or("no position in this market")?;
    let base = account.perps[slot].base_lots;
    if base == 0 || !price.is_positive() {
        return Ok(None);
    }
    let maint = terms
        .health(HealthType::Maint)
        .map_err(|e| format!("{e:?}"))?;
    let term = terms
        .perps()
        .iter()
        .find(|t| t.market_index == market.market_index)
        .ok_or("no health term for this market")?;
    let others = maint
        .checked_sub(term.maint)
        .ok_or_else(|| "overflow".to_string())?;
    let bad = |p: I80F48| -> Result<bool, String> {
        Ok(maint_at(others, account, market, p)?.is_negative())
    };
    // (good, bad) bracket in price bits: a long is hurt as the price falls, a short as it rises
    let (mut good, mut worse) = if base > 0 {
        if bad(price)? {
            return Ok(Some(price));
        }
        let floor = I80F48::DELTA;
        if !bad(floor)? {
            return Ok(None);
        }
        (price.to_bits(), floor.to_bits())
    } else {
        if bad(price)? {
            return Ok(Some(price));
        }
        let mut hi = price;
        let mut found = false;
        for _ in 0..20 {
            hi = match hi.checked_mul_int(2) {
                Some(h) => h,
                None => break,
            };
            if bad(hi)? {
                found = true;
                break;
            }
        }
        if !found {
            return Ok(None);
        }
        (price.to_bits(), hi.to_bits())
    };
    while (good - worse).abs() > 1 {
        let mid = good + (worse - good) / 2;
        if bad(I80F48::from_bits(mid))? {
            worse = mid;
        } else {
            good = mid;
        }
    }
    Ok(Some(I80F48::from_bits(worse)))
}

/// The liquidation price in quote native per whole base unit (`per_lot x 10^base_decimals /
/// base_lot_size`, rounded down), what a trader reads next to the oracle's price.
pub fn per_whole_base(market: &PerpMarket, per_lot: I80F48) -> Option<I80F48> {
    let whole = 10i64.checked_pow(market.base_decimals as u32)?;
    per_lot
        .checked_mul_int(whole)?
        .div_round(I80F48::from_u64(market.base_lot_size), Round::Floor)
}

/// The insurance fund's balance: the settlement-token amount of the exchange's insurance vault
/// (`margin::insurance_vault_pda`), native units. Its history is the events that move it:
/// `InsuranceDepositEvent`, `ReserveSweepEvent`, `PerpFeeSweepEvent` in and `BankruptcyEvent`
/// out (`client::decode_event`).
pub async fn insurance_balance(
    chain: &dyn crate::client::Chain,
    exchange: &anchor_lang::prelude::Pubkey,
) -> Result<u64, crate::client::ClientError> {
    let key = crate::margin::insurance_vault_pda(exchange);
    let acc = chain.account(&key).await?.ok_or_else(|| {
        crate::client::ClientError::Account(format!("insurance vault {key} not found"))
    })?;
    // SPL Token account: mint (32), owner (32), amount (u64 LE) at offset 64
    let amount = acc
        .data
        .get(64..72)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| {
            crate::client::ClientError::Account(format!("{key} is not a token account"))
        })?;
    Ok(amount)
}

/// The deficit beyond the insurance fund of an account with health terms `terms`: `-equity -
/// fund` when positive (quote native), what `auto_deleverage` absorbs; `None` when the
/// account's equity (`HealthTerms::equity`) is not negative or the fund covers it.
pub fn deficit_beyond_fund(terms: &HealthTerms, fund: u64) -> Result<Option<I80F48>, String> {
    let equity = terms.equity().map_err(|e| format!("{e:?}"))?;
    let deficit = equity
        .checked_neg()
        .and_then(|d| d.checked_sub(I80F48::from_u64(fund)))
        .ok_or("overflow")?;
    Ok(deficit.is_positive().then_some(deficit))
}

/// One auto-deleveraging candidate, as the program ranks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdlCandidate {
    /// Margin account.
    pub key: anchor_lang::prelude::Pubkey,
    /// Rank (`carry_math::liquidation::adl_score`): PnL ratio times its account's leverage.
    pub score: I80F48,
    /// Unrealized PnL at the oracle, quote native.
    pub pnl: I80F48,
    /// Base position, lots.
    pub base_lots: i64,
}

#[allow(clippy::too_many_arguments)]
/// Auto-deleveraging candidates against a bankrupt position of `bankrupt_base_lots` in
/// `market`: every account of `accounts` but `bankrupt` holding the opposite side with
/// unrealized profit and positive equity, ranked as `auto_deleverage` checks them (the
/// program's health terms, `adl_score`), highest first. Accounts whose health cannot be
/// computed are skipped.
pub fn adl_candidates(
    accounts: &[(anchor_lang::prelude::Pubkey, MarginAccount)],
    bankrupt: &anchor_lang::prelude::Pubkey,
    bankrupt_base_lots: i64,
    market: &crate::health::PerpSnapshot,
    quote_decimals: u8,
    banks: &[crate::health::BankSnapshot],
    perps: &[crate::health::PerpSnapshot],
    now: i64,
) -> Vec<AdlCandidate> {
    let Ok(oracle) = crate::health::perp_oracle_price(market, now, quote_decimals) else {
        return vec![];
    };
    let index = market.market.market_index;
    let mut out: Vec<AdlCandidate> = accounts
        .iter()
        .filter(|(k, _)| k != bankrupt)
        .filter_map(|(k, a)| {
            let slot = a.find_perp(index)?;
            let base = a.perps[slot].base_lots;
            if base == 0 || (base > 0) == (bankrupt_base_lots > 0) {
                return None;
            }
            let terms = crate::health::health_terms(a, quote_decimals, banks, perps, now).ok()?;
            let pnl = terms.perps().iter().find(|t| t.market_index == index)?.pnl;
            let equity = terms.equity().ok()?;
            if !pnl.is_positive() || !equity.is_positive() {
                return None;
            }
            let notional = oracle.checked_mul_int(base)?;
            let entry = notional.checked_sub(pnl)?;
            let score =
                carry_math::liquidation::adl_score(pnl, entry, notional.checked_abs()?, equity)
                    .ok()?;
            Some(AdlCandidate {
                key: *k,
                score,
                pnl,
                base_lots: base,
            })
        })
        .collect();
    out.sort_by_key(|c| std::cmp::Reverse(c.score));
    out
}
