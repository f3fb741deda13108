//! Liquidation projections: the oracle price of one perp market at which an account's
//! maintenance health reaches zero (its liquidation price for that position), computed with the
//! margin program's own perp term (`carry_margin::health::perp_term`) over the account's other
//! terms held fixed, and the insurance fund's balance.
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
