//! Liquidation math: the target an account is brought back to, the fees, the transfer prices,
//! the "just enough" search, and the bankruptcy price.
//!
//! **Target.** A liquidation stops as soon as the liquidatee's *target health* is `>= 0`:
//! `target = maint * (1 - b) + init * b` with the exchange's buffer `b` in `[0, 1]`
//! (`buffer_ppm / 1e6`). `b = 0` brings the account just back to maintenance health, `b = 1`
//! all the way to initial health (Mango v4's end point); in between, the account keeps a buffer
//! of `b` times the gap between its two healths, so one tick of noise does not make it
//! liquidatable again. Since `init <= maint`, `target <= maint`: an account with `target >= 0`
//! is not liquidatable. The sign is computed exactly ([`target_health_scaled`], no division).
//!
//! **Fees.** A perp position is taken over at the oracle price discounted by a fee that grows
//! with the position's leverage tier: `fee_ppm = tier.maint_margin_ppm * fee_of_maint_ppm / 1e6`
//! ([`PerpLiquidationFees`]). A fee below the maintenance ratio (`fee_of_maint_ppm < 1e6`,
//! validated by the program) means every lot taken over raises the liquidatee's maintenance
//! health (it releases `maint_ratio` of margin and pays `fee < maint_ratio`), so a liquidation
//! always converges. Of the fee, `insurance_share_ppm` goes to the insurance fund (charged to
//! the liquidatee as a fee, through the market's PnL pool like trading fees) and the rest is
//! the liquidator's discount in the transfer price ([`perp_transfer_price`]).
//!
//! **Just enough.** [`smallest_sufficient`] finds the smallest amount `q` in `1..=max` with
//! `target(q) >= 0`, given a monotone evaluation: a bracketed search that alternates
//! interpolation (exact in a few steps on the piecewise-linear health) with bisection
//! (guaranteed halving), so it evaluates `target` at most `2 * 64 + 1` times and usually 3 or 4.

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};
use crate::perp::Side;
use crate::tiers::PPM;

/// `maint * (1e6 - buffer_ppm) + init * buffer_ppm`: the target health times `1e6`, exact
/// (same sign as the target). `InvalidParams` when `buffer_ppm > 1e6`.
pub fn target_health_scaled(
    init: I80F48,
    maint: I80F48,
    buffer_ppm: u32,
) -> Result<I80F48, MathError> {
    if buffer_ppm > PPM {
        return Err(MathError::InvalidParams);
    }
    maint
        .checked_mul_int((PPM - buffer_ppm) as i64)
        .ovf()?
        .checked_add(init.checked_mul_int(buffer_ppm as i64).ovf()?)
        .ovf()
}

/// How a perp liquidation fee splits, parts per million of the notional at the oracle price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerpLiquidationFees {
    /// Discount the liquidator gets in the transfer price.
    pub liquidator_ppm: u32,
    /// Fee charged to the liquidatee for the insurance fund.
    pub insurance_ppm: u32,
}

impl PerpLiquidationFees {
    /// Fees for a position in a tier of maintenance ratio `maint_margin_ppm`: the total is
    /// `floor(maint_margin_ppm * fee_of_maint_ppm / 1e6)`, of which `insurance_share_ppm`
    /// (rounded down) goes to the insurance fund. `InvalidParams` when a share exceeds `1e6`.
    pub fn for_tier(
        maint_margin_ppm: u32,
        fee_of_maint_ppm: u32,
        insurance_share_ppm: u32,
    ) -> Result<Self, MathError> {
        if fee_of_maint_ppm > PPM || insurance_share_ppm > PPM || maint_margin_ppm > PPM {
            return Err(MathError::InvalidParams);
        }
        let total = (maint_margin_ppm as u64 * fee_of_maint_ppm as u64 / PPM as u64) as u32;
        let insurance = (total as u64 * insurance_share_ppm as u64 / PPM as u64) as u32;
        Ok(Self {
            liquidator_ppm: total - insurance,
            insurance_ppm: insurance,
        })
    }

    /// Total fee, ppm of the notional.
    pub fn total_ppm(&self) -> u32 {
        self.liquidator_ppm + self.insurance_ppm
    }
}

/// Price per lot at which a liquidator takes over a position of sign `liquidatee_base`:
/// a long liquidatee sells at `oracle * (1 - liquidator_ppm)` rounded down, a short liquidatee
/// buys at `oracle * (1 + liquidator_ppm)` rounded up (the rounding is the liquidator's; both
/// sides move by exactly `lots * price`, so the market stays zero-sum). `InvalidPrice` for a
/// non-positive oracle or result, `InvalidAmount` for a flat position.
pub fn perp_transfer_price(
    oracle: I80F48,
    liquidatee_base: i64,
    liquidator_ppm: u32,
) -> Result<I80F48, MathError> {
    if !oracle.is_positive() {
        return Err(MathError::InvalidPrice);
    }
    if liquidator_ppm >= PPM {
        return Err(MathError::InvalidParams);
    }
    let (factor, round) = match liquidatee_base.signum() {
        1 => (PPM - liquidator_ppm, Round::Floor),
        -1 => (PPM + liquidator_ppm, Round::Ceil),
        _ => return Err(MathError::InvalidAmount),
    };
    let p = oracle
        .checked_mul_int(factor as i64)
        .ovf()?
        .div_round(I80F48::from_u64(PPM as u64), round)
        .ovf()?;
    if !p.is_positive() {
        return Err(MathError::InvalidPrice);
    }
    Ok(p)
}

/// The liquidator's side when it takes over `lots` of a position of sign `liquidatee_base`
/// (the liquidatee trades the other side).
pub fn liquidator_side(liquidatee_base: i64) -> Side {
    if liquidatee_base > 0 {
        Side::Bid
    } else {
        Side::Ask
    }
}

/// Token liquidation: native units of the asset token the liquidator receives for repaying
/// `liab_native` of the liquidatee's borrow: `floor(liab * liab_price * (1 + fee) /
/// asset_price)`, prices in quote native per token native (> 0), `fee_ppm` the sum of the two
/// banks' liquidation fees. `InvalidPrice` for a non-positive price.
pub fn asset_for_liab(
    liab_native: u64,
    liab_price: I80F48,
    asset_price: I80F48,
    fee_ppm: u32,
) -> Result<u64, MathError> {
    if !liab_price.is_positive() || !asset_price.is_positive() {
        return Err(MathError::InvalidPrice);
    }
    let value = liab_price
        .checked_mul_int(i64::try_from(liab_native).map_err(|_| MathError::Overflow)?)
        .ovf()?
        .checked_mul_int(PPM as i64 + fee_ppm as i64)
        .ovf()?
        .div_round(I80F48::from_u64(PPM as u64), Round::Floor)
        .ovf()?;
    value
        .div_round(asset_price, Round::Floor)
        .ovf()?
        .to_u64(Round::Floor)
        .ovf()
}

/// Liability (native) whose asset payout is at most `asset_native`: the largest `x` with
/// `asset_for_liab(x) <= asset_native` (the payout is rounded down, so up to one asset unit's
/// worth of liability rounds to the same payout): `floor((asset + 1) * asset_price / unit)`
/// from the inverse, then corrected by a bounded walk of at most 4 steps each way.
pub fn liab_for_asset(
    asset_native: u64,
    liab_price: I80F48,
    asset_price: I80F48,
    fee_ppm: u32,
) -> Result<u64, MathError> {
    if !liab_price.is_positive() || !asset_price.is_positive() {
        return Err(MathError::InvalidPrice);
    }
    let unit = liab_price
        .checked_mul_int(PPM as i64 + fee_ppm as i64)
        .ovf()?
        .div_round(I80F48::from_u64(PPM as u64), Round::Floor)
        .ovf()?;
    let mut x = asset_price
        .checked_mul_int(i64::try_from(asset_native).map_err(|_| MathError::Overflow)?)
        .ovf()?
        .checked_add(asset_price)
        .ovf()?
        .div_round(unit, Round::Floor)
        .ovf()?
        .to_u64(Round::Floor)
        .ovf()?;
    // the inverse may be off by a unit either way after two roundings
    for _ in 0..4 {
        if x > 0 && asset_for_liab(x, liab_price, asset_price, fee_ppm)? > asset_native {
            x -= 1;
        } else {
            break;
        }
    }
    for _ in 0..4 {
        if asset_for_liab(x + 1, liab_price, asset_price, fee_ppm)? <= asset_native {
            x += 1;
        } else {
            break;
        }
    }
    Ok(x)
}

/// The smallest `q` in `1..=max` with `eval(q) >= 0`, where `eval(0) = at_zero < 0` is known
/// and `eval` is non-decreasing in `q`; `max` when even `eval(max) < 0` (take all there is).
/// `Ok(0)` when `max == 0` or `at_zero >= 0` (nothing is needed). Evaluates `eval` at most
/// `2 * 64 + 1` times: interpolation steps (exact on a linear stretch) alternate with
/// bisection steps whenever an interpolation step failed to halve the bracket.
pub fn smallest_sufficient(
    max: u64,
    at_zero: I80F48,
    mut eval: impl FnMut(u64) -> Result<I80F48, MathError>,
) -> Result<u64, MathError> {
    if max == 0 || !at_zero.is_negative() {
        return Ok(0);
    }
    let (mut lo, mut t_lo) = (0u64, at_zero);
    let mut hi = max;
    let mut t_hi = eval(hi)?;
    if t_hi.is_negative() {
        return Ok(max);
    }
    let mut bisect = false;
    while hi - lo > 1 {
        let width = hi - lo;
        let guess = if bisect {
            lo + width / 2
        } else {
            interpolate(lo, t_lo, hi, t_hi).unwrap_or(lo + width / 2)
        }
        .clamp(lo + 1, hi - 1);
        let t = eval(guess)?;
        if t.is_negative() {
            lo = guess;
            t_lo = t;
        } else {
            hi = guess;
            t_hi = t;
        }
        // the next step bisects unless this one at least halved the bracket
        bisect = !bisect && (hi - lo) * 2 > width;
    }
    Ok(hi)
}

/// Root of the line through `(lo, t_lo < 0)` and `(hi, t_hi >= 0)`, rounded up; `None` on
/// overflow.
fn interpolate(lo: u64, t_lo: I80F48, hi: u64, t_hi: I80F48) -> Option<u64> {
    let rise = t_hi.checked_sub(t_lo)?;
    let step = t_lo
        .checked_neg()?
        .checked_mul_int(i64::try_from(hi - lo).ok()?)?
        .div_round(rise, Round::Ceil)?
        .to_u64(Round::Ceil)?;
    lo.checked_add(step)
}

/// Bankruptcy price per lot of a position of `base_lots` (non-zero) whose account is
/// `deficit` (quote native, >= 0) short of zero equity at `oracle`: the price at which closing
/// the position leaves the account at zero equity, `oracle + deficit / base` for a long
/// (rounded up) and `oracle - deficit / |base|` for a short (rounded down). Auto-deleveraging
/// closes the position against profitable opposite positions at this price. `InvalidPrice`
/// when a short's bankruptcy price is not positive.
pub fn bankruptcy_price(
    oracle: I80F48,
    base_lots: i64,
    deficit: I80F48,
) -> Result<I80F48, MathError> {
    if base_lots == 0 || deficit.is_negative() {
        return Err(MathError::InvalidAmount);
    }
    let round = if base_lots > 0 {
        Round::Ceil
    } else {
        Round::Floor
    };
    let per_lot = deficit
        .div_round(I80F48::from_i64(base_lots), round)
        .ovf()?;
    let p = oracle.checked_add(per_lot).ovf()?;
    if !p.is_positive() {
        return Err(MathError::InvalidPrice);
    }
    Ok(p)
}

/// Auto-deleveraging rank of a profitable position: its PnL ratio times its account's leverage,
/// `(pnl / entry) * (notional / equity)` (BitMEX's ranking), where `entry` is the position's
/// cost basis `|quote_native|` (at least one native unit), `notional` its size at the oracle
/// and `equity` its account's equity ([`crate::health::HealthTerms::equity`]). Higher ranks
/// are deleveraged first: the most profitable positions relative to what they put in, on the
/// most leveraged accounts. Saturates at `I80F48::MAX` (a rank, not an amount).
/// `InvalidAmount` unless `pnl > 0` and `equity > 0`.
pub fn adl_score(
    pnl: I80F48,
    entry: I80F48,
    notional: I80F48,
    equity: I80F48,
) -> Result<I80F48, MathError> {
    if !pnl.is_positive() || !equity.is_positive() || notional.is_negative() {
        return Err(MathError::InvalidAmount);
    }
    let entry = entry.checked_abs().ovf()?.max(I80F48::ONE);
    let ratio = pnl.div_round(entry, Round::Floor);
    let leverage = notional.div_round(equity, Round::Floor);
    Ok(match (ratio, leverage) {
        (Some(r), Some(l)) => r.mul_round(l, Round::Floor).unwrap_or(I80F48::MAX),
        _ => I80F48::MAX,
    })
}

/// Most lots an auto-deleveraged position gives up when each costs it `premium_per_lot`
/// (quote native, `|bankruptcy price - oracle|`) against the oracle: no more than its
/// unrealized profit `pnl` (> 0), `floor(pnl / premium)`; unbounded (`u64::MAX`) when the
/// premium is zero.
pub fn adl_max_lots(pnl: I80F48, premium_per_lot: I80F48) -> Result<u64, MathError> {
    if !pnl.is_positive() || premium_per_lot.is_negative() {
        return Err(MathError::InvalidAmount);
    }
    if premium_per_lot == I80F48::ZERO {
        return Ok(u64::MAX);
    }
    let lots = pnl.div_round(premium_per_lot, Round::Floor).ovf()?;
    Ok(lots.to_u64(Round::Floor).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(v: i64) -> I80F48 {
        I80F48::from_i64(v)
    }

    #[test]
    fn adl_score_ranks_profit_ratio_times_leverage() {
        // 64 profit on 1,024 entry (1/16) at 8x: 0.5; the same at 2x: 0.125
        let hi = adl_score(f(64), f(-1_024), f(1_056), f(132)).unwrap();
        let lo = adl_score(f(64), f(-1_024), f(1_056), f(528)).unwrap();
        assert_eq!(hi, I80F48::from_ratio(1, 2, Round::Floor).unwrap());
        assert!(hi > lo);
        // more profit at the same leverage ranks higher
        assert!(adl_score(f(80), f(1_024), f(1_056), f(528)).unwrap() > lo);
        // a zero entry counts as one unit; a huge ratio saturates
        assert_eq!(adl_score(f(1), f(0), f(1), f(1)).unwrap(), f(1));
        assert_eq!(
            adl_score(I80F48::MAX, f(0), I80F48::MAX, I80F48::ONE).unwrap(),
            I80F48::MAX
        );
        assert_eq!(
            adl_score(f(0), f(1), f(1), f(1)),
            Err(MathError::InvalidAmount)
        );
        assert_eq!(
            adl_score(f(1), f(1), f(1), f(0)),
            Err(MathError::InvalidAmount)
        );
    }

    #[test]
    fn adl_gives_up_at_most_the_profit() {
        assert_eq!(adl_max_lots(f(100), f(3)), Ok(33));
        assert_eq!(adl_max_lots(f(100), f(0)), Ok(u64::MAX));
        assert_eq!(adl_max_lots(f(2), f(3)), Ok(0));
        assert_eq!(adl_max_lots(f(0), f(3)), Err(MathError::InvalidAmount));
    }

    #[test]
    fn target_mixes_maint_and_init() {
        // maint 10, init -30: b = 0 -> 10e6, b = 1 -> -30e6, b = 0.25 -> 0
        assert_eq!(target_health_scaled(f(-30), f(10), 0), Ok(f(10_000_000)));
        assert_eq!(target_health_scaled(f(-30), f(10), PPM), Ok(f(-30_000_000)));
        assert_eq!(target_health_scaled(f(-30), f(10), 250_000), Ok(f(0)));
        assert_eq!(
            target_health_scaled(f(0), f(0), PPM + 1),
            Err(MathError::InvalidParams)
        );
    }

    #[test]
    fn fees_grow_with_the_tier() {
        let small = PerpLiquidationFees::for_tier(5_000, 500_000, 200_000).unwrap();
        let big = PerpLiquidationFees::for_tier(50_000, 500_000, 200_000).unwrap();
        assert_eq!(
            small,
            PerpLiquidationFees {
                liquidator_ppm: 2_000,
                insurance_ppm: 500
            }
        );
        assert_eq!(big.total_ppm(), 25_000);
        assert!(big.liquidator_ppm > small.liquidator_ppm);
        assert_eq!(
            PerpLiquidationFees::for_tier(5_000, PPM + 1, 0),
            Err(MathError::InvalidParams)
        );
    }

    #[test]
    fn transfer_prices_favour_the_liquidator() {
        // long liquidatee sells at 1% under 1_000, short buys at 1% over
        assert_eq!(perp_transfer_price(f(1_000), 5, 10_000), Ok(f(990)));
        assert_eq!(perp_transfer_price(f(1_000), -5, 10_000), Ok(f(1_010)));
        assert_eq!(
            perp_transfer_price(f(1_000), 0, 10_000),
            Err(MathError::InvalidAmount)
        );
        assert_eq!(
            perp_transfer_price(f(0), 1, 10_000),
            Err(MathError::InvalidPrice)
        );
        // rounding: 7 * 0.999 = 6.993 exactly representable? either way floor <= exact
        let p = perp_transfer_price(f(7), 1, 1_000).unwrap();
        assert!(p.checked_mul_int(1_000).unwrap() <= f(6_993));
        assert_eq!(liquidator_side(3), Side::Bid);
        assert_eq!(liquidator_side(-3), Side::Ask);
    }

    #[test]
    fn token_amounts_round_against_the_liquidator() {
        // repay 100 USDC-native (price 1) for SOL-native at 150 with a 5% fee: 105/150 = 0.7
        assert_eq!(asset_for_liab(100, f(1), f(150), 50_000), Ok(0));
        assert_eq!(asset_for_liab(3_000, f(1), f(150), 50_000), Ok(21));
        let x = liab_for_asset(21, f(1), f(150), 50_000).unwrap();
        assert!(asset_for_liab(x, f(1), f(150), 50_000).unwrap() <= 21);
        assert!(asset_for_liab(x + 1, f(1), f(150), 50_000).unwrap() > 21);
    }

    #[test]
    fn bankruptcy_prices() {
        // long 10 lots, 50 short of zero at 1_000: closes at 1_005
        assert_eq!(bankruptcy_price(f(1_000), 10, f(50)), Ok(f(1_005)));
        assert_eq!(bankruptcy_price(f(1_000), -10, f(50)), Ok(f(995)));
        assert_eq!(
            bankruptcy_price(f(1), -10, f(50)),
            Err(MathError::InvalidPrice)
        );
    }

    #[test]
    fn search_edges() {
        let lin = |q: u64| Ok(f(q as i64 * 3 - 10));
        assert_eq!(smallest_sufficient(100, f(-10), lin), Ok(4));
        assert_eq!(smallest_sufficient(3, f(-10), lin), Ok(3)); // not enough: all
        assert_eq!(smallest_sufficient(0, f(-10), lin), Ok(0));
        assert_eq!(smallest_sufficient(100, f(0), lin), Ok(0));
        assert_eq!(smallest_sufficient(1, f(-10), |_| Ok(f(1))), Ok(1));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// On random monotone piecewise-linear functions with steps (tier jumps) and kinks
        /// (haircuts), the search returns the exact smallest sufficient amount, within its
        /// evaluation bound.
        #[test]
        fn search_is_exact(
            max in 1u64..1_000_000_000_000,
            start in 1i64..1_000_000_000,
            slopes in proptest::collection::vec(0i64..1_000_000, 1..4),
            breaks in proptest::collection::vec(0u64..1_000_000_000_000, 0..3),
            jumps in proptest::collection::vec(0i64..1_000_000_000, 0..3),
        ) {
            let mut brks = breaks.clone();
            brks.sort();
            let g = |q: u64| -> i128 {
                let mut v = -(start as i128);
                let mut prev = 0u64;
                for (i, s) in slopes.iter().enumerate() {
                    let end = brks.get(i).copied().unwrap_or(u64::MAX).max(prev);
                    let span = q.min(end).saturating_sub(prev);
                    v += span as i128 * *s as i128 / 1000;
                    if q >= end { if let Some(j) = jumps.get(i) { v += *j as i128; } }
                    prev = end;
                    if q <= end { break; }
                }
                v
            };
            let mut calls = 0u32;
            let got = smallest_sufficient(max, f(-start), |q| { calls += 1; Ok(I80F48::from_bits(g(q) << 48)) }).unwrap();
            prop_assert!(calls <= 129);
            if g(max) < 0 {
                prop_assert_eq!(got, max);
            } else {
                prop_assert!(g(got) >= 0, "got {} g {}", got, g(got));
                prop_assert!(got == 0 || g(got - 1) < 0 || got == 1, "got {} not smallest", got);
            }
        }
    }
}
