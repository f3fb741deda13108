//! Oracle validation, price conversion and the stable price. Pure: the program reads the
//! Pyth account and hands the raw numbers here.

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};
use crate::wide::mul_u64_wide;

/// `10^k` for `k` in `0..=23` (the exponents [`to_native_price`] accepts), as a table: a
/// 128-bit power would need a 128-bit multiply.
const POW10: [u128; 24] = {
    let mut t = [1u128; 24];
    let mut k = 1;
    while k < 24 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// A raw oracle reading as Pyth publishes it: `price * 10^expo` units of quote (USD) per whole
/// token, `conf` in the same units as `price`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawPrice {
    /// Mantissa.
    pub price: i64,
    /// Confidence interval (one standard deviation), same scale as `price`.
    pub conf: u64,
    /// Decimal exponent.
    pub expo: i32,
    /// Unix time (seconds) the price was published.
    pub publish_time: i64,
}

/// Per-bank oracle limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleLimits {
    /// Oldest acceptable price, seconds (`now - publish_time <= max_age`).
    pub max_age_secs: u64,
    /// Widest acceptable confidence as parts per million of the price
    /// (`conf * 1e6 <= max_conf_ppm * price`).
    pub max_conf_ppm: u64,
}

/// Check sign, age and confidence. A publish time in the future counts as age 0.
pub fn validate(raw: &RawPrice, now: i64, limits: &OracleLimits) -> Result<(), MathError> {
    if raw.price <= 0 {
        return Err(MathError::OracleNonPositive);
    }
    let age = now.saturating_sub(raw.publish_time).max(0) as u64;
    if age > limits.max_age_secs {
        return Err(MathError::OracleStale);
    }
    // price > 0 here; both products are exact in 128 bits
    let lhs = mul_u64_wide(raw.conf, 1_000_000);
    let rhs = mul_u64_wide(limits.max_conf_ppm, raw.price as u64);
    if lhs > rhs {
        return Err(MathError::OracleConfidence);
    }
    Ok(())
}

/// Price in quote-native units per token-native unit:
/// `price * 10^(expo + quote_decimals - token_decimals)`, rounded down.
pub fn to_native_price(
    raw: &RawPrice,
    token_decimals: u8,
    quote_decimals: u8,
) -> Result<I80F48, MathError> {
    if raw.price <= 0 {
        return Err(MathError::OracleNonPositive);
    }
    let e = raw.expo as i64 + quote_decimals as i64 - token_decimals as i64;
    let p = I80F48::from_i64(raw.price);
    if e >= 0 {
        if e > 18 {
            return Err(MathError::OracleExponent);
        }
        // 10^18 < 2^63
        p.checked_mul_int(POW10[e as usize] as i64).ovf()
    } else {
        if e < -23 {
            return Err(MathError::OracleExponent);
        }
        let den = I80F48::checked_from_i128(POW10[(-e) as usize] as i128).ovf()?;
        p.div_round(den, Round::Floor).ovf()
    }
}

/// Validate then convert (see [`validate`] and [`to_native_price`]).
// Inlined: six registers as a call on SBF (which allows five).
#[inline(always)]
pub fn checked_native_price(
    raw: &RawPrice,
    now: i64,
    limits: &OracleLimits,
    token_decimals: u8,
    quote_decimals: u8,
) -> Result<I80F48, MathError> {
    validate(raw, now, limits)?;
    to_native_price(raw, token_decimals, quote_decimals)
}

/// Seconds per hour, the unit of the stable price's speed limit.
pub const SECONDS_PER_HOUR: u64 = 3600;

/// The stable price: a follower of the oracle that may move at most
/// `max_move_ppm_per_hour` of its own value per hour (pro rata per second, at most 100% in
/// one step), counting at most `max_step_secs` of the time since the last update.
///
/// The step cap is what makes idle time harmless: without it a bank nobody touched for ten
/// hours would let one touch at a manipulated moment move the stable price ten hours' worth
/// (all the way to a spike). With it, one observation moves the stable price by at most
/// `max_move * max_step_secs / 3600`, however long the bank was idle; following a real move
/// takes as many updates as the speed limit needs (keepers touch banks often; a bank touched
/// rarely lags, which only makes its valuation more conservative).
///
/// Returns the new stable price. A stable price that is not positive (uninitialised) jumps to
/// the oracle.
// Inlined: seven registers as a call on SBF (which allows five).
#[inline(always)]
pub fn update_stable_price(
    stable: I80F48,
    oracle: I80F48,
    elapsed_secs: u64,
    limits: &StableLimits,
) -> Result<I80F48, MathError> {
    if !stable.is_positive() {
        return Ok(oracle);
    }
    let counted = elapsed_secs.min(limits.max_step_secs);
    let limit = max_move_limit(stable, counted, limits.max_move_ppm_per_hour)?;
    let lo = stable.checked_sub(limit).ovf()?;
    let hi = stable.checked_add(limit).ovf()?;
    Ok(oracle.max(lo).min(hi))
}

/// Speed limits of a stable price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StableLimits {
    /// Largest move per hour, parts per million of the stable price.
    pub max_move_ppm_per_hour: u64,
    /// Most seconds one update counts, whatever time passed since the previous one.
    pub max_step_secs: u64,
}

/// Largest move of the stable price allowed after `elapsed_secs`:
/// `stable * min(1, ppm_per_hour * elapsed / (3600 * 1e6))`, rounded down.
pub fn max_move_limit(
    stable: I80F48,
    elapsed_secs: u64,
    max_move_ppm_per_hour: u64,
) -> Result<I80F48, MathError> {
    // a 64 x 64 product never exceeds u128 (the former `saturating_mul` never saturated)
    let num = mul_u64_wide(max_move_ppm_per_hour, elapsed_secs);
    let den = SECONDS_PER_HOUR as u128 * 1_000_000;
    let frac = if num >= den {
        I80F48::ONE
    } else {
        I80F48::from_ratio(num as i128, den as i128, Round::Floor).ovf()?
    };
    stable.mul_round(frac, Round::Floor).ovf()
}

/// Price used for assets: the lower of oracle and stable.
pub fn asset_price(oracle: I80F48, stable: I80F48) -> I80F48 {
    oracle.min(stable)
}
/// Price used for liabilities: the higher of oracle and stable.
pub fn liab_price(oracle: I80F48, stable: I80F48) -> I80F48 {
    oracle.max(stable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIM: OracleLimits = OracleLimits {
        max_age_secs: 60,
        max_conf_ppm: 10_000,
    };

    fn raw(price: i64, conf: u64, expo: i32, t: i64) -> RawPrice {
        RawPrice {
            price,
            conf,
            expo,
            publish_time: t,
        }
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&raw(100, 1, 0, 1000), 1060, &LIM), Ok(()));
        assert_eq!(
            validate(&raw(100, 1, 0, 1000), 1061, &LIM),
            Err(MathError::OracleStale)
        );
        assert_eq!(validate(&raw(100, 1, 0, 2000), 1000, &LIM), Ok(()));
        assert_eq!(
            validate(&raw(100, 2, 0, 1000), 1000, &LIM),
            Err(MathError::OracleConfidence)
        );
        assert_eq!(
            validate(&raw(0, 0, 0, 1000), 1000, &LIM),
            Err(MathError::OracleNonPositive)
        );
        assert_eq!(
            validate(&raw(-5, 0, 0, 1000), 1000, &LIM),
            Err(MathError::OracleNonPositive)
        );
    }

    #[test]
    fn conversion() {
        // SOL at $150.12345678 (expo -8), 9 decimals, USDC 6 decimals:
        // 150.12345678 * 1e6 / 1e9 = 0.15012345678 USDC-native per lamport
        let p = to_native_price(&raw(15_012_345_678, 0, -8, 0), 9, 6).unwrap();
        let want = I80F48::from_ratio(15_012_345_678, 100_000_000_000, Round::Floor).unwrap();
        assert_eq!(p, want);
        // USDC at $1.00 (expo -8), 6 decimals: 1 per native unit
        assert_eq!(
            to_native_price(&raw(100_000_000, 0, -8, 0), 6, 6).unwrap(),
            I80F48::ONE
        );
        // BTC $60000 expo 0, 8 decimals, quote 6: 60000 * 1e-2 = 600
        assert_eq!(
            to_native_price(&raw(60_000, 0, 0, 0), 8, 6).unwrap(),
            I80F48::from_i64(600)
        );
        assert_eq!(
            to_native_price(&raw(1, 0, 30, 0), 0, 6),
            Err(MathError::OracleExponent)
        );
    }

    #[test]
    fn stable_follows_slowly() {
        let s = I80F48::from_i64(100);
        // 1% per hour: after 1 hour, at most 1
        let near = |x: I80F48, y: I80F48| (x.to_bits() - y.to_bits()).abs() < 1 << 8;
        let lim = |ppm| StableLimits {
            max_move_ppm_per_hour: ppm,
            max_step_secs: 3600,
        };
        let n = update_stable_price(s, I80F48::from_i64(200), 3600, &lim(10_000)).unwrap();
        assert!(near(n, I80F48::from_i64(101)), "{n}");
        let n = update_stable_price(s, I80F48::from_i64(50), 1800, &lim(10_000)).unwrap();
        assert!(
            near(n, I80F48::from_ratio(995, 10, Round::Floor).unwrap()),
            "{n}"
        );
        // close enough: jumps to the oracle
        let n = update_stable_price(
            s,
            I80F48::from_ratio(1001, 10, Round::Floor).unwrap(),
            3600,
            &lim(10_000),
        )
        .unwrap();
        assert_eq!(n, I80F48::from_ratio(1001, 10, Round::Floor).unwrap());
        assert_eq!(update_stable_price(I80F48::ZERO, s, 0, &lim(0)).unwrap(), s);
        assert_eq!(asset_price(s, n), s);
        assert_eq!(liab_price(s, n), n);
    }

    /// The idle-time finding: ten idle hours at 10%/h, then one touch while the oracle shows a
    /// 2x spike. Counting the whole idle time, the stable price would jump to the spike; with
    /// the step cap it moves by at most 10%/h * 60 s = 0.1667%.
    #[test]
    fn idle_time_does_not_let_one_touch_jump() {
        let s = I80F48::from_i64(1_000);
        let spike = I80F48::from_i64(2_000);
        let uncapped = StableLimits {
            max_move_ppm_per_hour: 100_000,
            max_step_secs: u64::MAX,
        };
        assert_eq!(
            update_stable_price(s, spike, 10 * 3600, &uncapped).unwrap(),
            spike
        );
        let capped = StableLimits {
            max_step_secs: 60,
            ..uncapped
        };
        let n = update_stable_price(s, spike, 10 * 3600, &capped).unwrap();
        let moved = n.checked_sub(s).unwrap();
        assert!(moved <= I80F48::from_ratio(1_000 * 1_000, 600_000, Round::Ceil).unwrap());
        assert!(moved.is_positive());
        // a second touch in the same second moves nothing more
        assert_eq!(update_stable_price(n, spike, 0, &capped).unwrap(), n);
    }

    proptest! {
        #[test]
        fn stable_never_moves_more_than_limit(st in 1i64..1_000_000_000, or in 1i64..1_000_000_000, dt in 0u64..100_000, ppm in 0u64..10_000_000, step in 1u64..7200) {
            let s = I80F48::from_i64(st);
            let o = I80F48::from_i64(or);
            let n = update_stable_price(s, o, dt, &StableLimits { max_move_ppm_per_hour: ppm, max_step_secs: step }).unwrap();
            let lim = max_move_limit(s, dt.min(step), ppm).unwrap();
            let moved = n.checked_sub(s).unwrap().checked_abs().unwrap();
            prop_assert!(moved <= lim);
            // and it moves toward the oracle, never past it
            if o >= s { prop_assert!(n >= s && n <= o); } else { prop_assert!(n <= s && n >= o); }
        }

        #[test]
        fn conf_check_matches_ratio(price in 1i64..i64::MAX, conf in 0u64..u64::MAX, ppm in 0u64..1_000_000) {
            let r = raw(price, conf, -8, 0);
            let ok = validate(&r, 0, &OracleLimits { max_age_secs: 0, max_conf_ppm: ppm }).is_ok();
            let exact = (conf as u128) * 1_000_000 <= (ppm as u128) * (price as u128);
            prop_assert_eq!(ok, exact);
        }
    }
}
