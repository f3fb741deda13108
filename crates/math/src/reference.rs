//! The former `i128` implementations of the fixed-point and oracle arithmetic, kept verbatim
//! (test-only) as the reference that the word-based implementations must match bit for bit.
//! They use 128-bit multiply and divide, which the upstream SBF backend cannot link.
//!
//! Run the full bit-identity suite (1,000,000 cases per test by default; more or fewer with
//! `CARRY_MATH_CASES`, another seed with `CARRY_MATH_SEED`):
//!
//!     cargo test -p carry-math --release -- --nocapture bit_identical

use crate::fixed::{Round, I80F48};
use crate::oracle::{OracleLimits, RawPrice};
use crate::MathError;

const FRAC: u32 = 48;
const FRAC_MASK: u128 = (1u128 << FRAC) - 1;

/// Full 128x128 -> 256 bit unsigned product as (hi, lo).
pub fn mul_u128_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    if a <= M && b <= M {
        return (0, a * b);
    }
    let (a1, a0) = (a >> 64, a & M);
    let (b1, b0) = (b >> 64, b & M);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let (mid, c1) = p01.overflowing_add(p10);
    let (mid, c2) = mid.overflowing_add(p00 >> 64);
    let carry = (c1 as u128 + c2 as u128) << 64;
    let lo = (mid << 64) | (p00 & M);
    let hi = p11 + (mid >> 64) + carry;
    (hi, lo)
}

/// (hi:lo) / d for hi < d, returning (quotient, remainder). Bounded: 128 iterations.
pub fn div_u256_by_u128(hi: u128, lo: u128, d: u128) -> Option<(u128, u128)> {
    if d == 0 || hi >= d {
        return None;
    }
    if hi == 0 {
        return Some((lo / d, lo % d));
    }
    let mut r = hi;
    let mut q = 0u128;
    let mut i = 128;
    while i > 0 {
        i -= 1;
        let carry = r >> 127;
        r = (r << 1) | ((lo >> i) & 1);
        q <<= 1;
        if carry != 0 || r >= d {
            r = r.wrapping_sub(d);
            q |= 1;
        }
    }
    Some((q, r))
}

fn signed_rounded(mag: u128, inexact: bool, negative: bool, round: Round) -> Option<i128> {
    let bump = inexact
        && match round {
            Round::Floor => negative,
            Round::Ceil => !negative,
        };
    let mag = if bump { mag.checked_add(1)? } else { mag };
    if negative {
        if mag > (i128::MAX as u128) + 1 {
            None
        } else {
            Some((mag as i128).wrapping_neg())
        }
    } else if mag > i128::MAX as u128 {
        None
    } else {
        Some(mag as i128)
    }
}

/// Former `I80F48::from_ppm`.
pub fn from_ppm(ppm: u64) -> I80F48 {
    I80F48::from_bits(((ppm as i128) << FRAC) / 1_000_000)
}

/// Former `I80F48::mul_round`.
pub fn mul_round(x: I80F48, rhs: I80F48, round: Round) -> Option<I80F48> {
    let (x, y) = (x.to_bits(), rhs.to_bits());
    let negative = (x < 0) != (y < 0);
    let (hi, lo) = mul_u128_wide(x.unsigned_abs(), y.unsigned_abs());
    if hi >> FRAC != 0 {
        return None;
    }
    let mag = (hi << (128 - FRAC)) | (lo >> FRAC);
    let inexact = lo & FRAC_MASK != 0;
    signed_rounded(mag, inexact, negative, round).map(I80F48::from_bits)
}

/// Former `I80F48::div_round`.
pub fn div_round(x: I80F48, rhs: I80F48, round: Round) -> Option<I80F48> {
    let (x, y) = (x.to_bits(), rhs.to_bits());
    if y == 0 {
        return None;
    }
    let negative = (x < 0) != (y < 0);
    let a = x.unsigned_abs();
    let hi = a >> (128 - FRAC);
    let lo = a << FRAC;
    let (q, r) = div_u256_by_u128(hi, lo, y.unsigned_abs())?;
    signed_rounded(q, r != 0, negative, round).map(I80F48::from_bits)
}

/// Former `I80F48::checked_mul_int`.
pub fn checked_mul_int(x: I80F48, rhs: i64) -> Option<I80F48> {
    x.to_bits().checked_mul(rhs as i128).map(I80F48::from_bits)
}

/// Former `I80F48` Debug fraction digits.
pub fn frac_digits(x: I80F48) -> u128 {
    ((x.to_bits().unsigned_abs() & FRAC_MASK) * 1_000_000_000_000) >> FRAC
}

/// Former `oracle::validate`.
pub fn validate(raw: &RawPrice, now: i64, limits: &OracleLimits) -> Result<(), MathError> {
    if raw.price <= 0 {
        return Err(MathError::OracleNonPositive);
    }
    let age = now.saturating_sub(raw.publish_time).max(0) as u64;
    if age > limits.max_age_secs {
        return Err(MathError::OracleStale);
    }
    let lhs = (raw.conf as u128) * 1_000_000;
    let rhs = (limits.max_conf_ppm as u128) * (raw.price as u128);
    if lhs > rhs {
        return Err(MathError::OracleConfidence);
    }
    Ok(())
}

/// Former `oracle::to_native_price`.
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
    let ovf = MathError::Overflow;
    if e >= 0 {
        if e > 18 {
            return Err(MathError::OracleExponent);
        }
        checked_mul_int(p, 10i64.pow(e as u32)).ok_or(ovf)
    } else {
        if e < -23 {
            return Err(MathError::OracleExponent);
        }
        let den = I80F48::checked_from_i128(10i128.pow((-e) as u32)).ok_or(ovf)?;
        div_round(p, den, Round::Floor).ok_or(ovf)
    }
}

/// Former `oracle::max_move_limit`.
pub fn max_move_limit(
    stable: I80F48,
    elapsed_secs: u64,
    max_move_ppm_per_hour: u64,
) -> Result<I80F48, MathError> {
    let num = (max_move_ppm_per_hour as u128).saturating_mul(elapsed_secs as u128);
    let den = 3600u128 * 1_000_000;
    let frac = if num >= den {
        I80F48::ONE
    } else {
        let n = I80F48::checked_from_i128(num as i128).ok_or(MathError::Overflow)?;
        let d = I80F48::checked_from_i128(den as i128).ok_or(MathError::Overflow)?;
        div_round(n, d, Round::Floor).ok_or(MathError::Overflow)?
    };
    mul_round(stable, frac, Round::Floor).ok_or(MathError::Overflow)
}

mod bit_identical {
    use super::*;
    use crate::oracle;
    use crate::wide::tests::cases;

    fn fx(bits: i128) -> I80F48 {
        I80F48::from_bits(bits)
    }

    /// mul_round and div_round, both roundings, over random and extreme operands of every
    /// size and sign (about half the products overflow: `None` must match too).
    #[test]
    fn bit_identical_mul_div() {
        let (n, mut rng) = cases("bit_identical_mul_div");
        let (mut some_mul, mut some_div) = (0u64, 0u64);
        for _ in 0..n {
            let (a, b) = (fx(rng.i128()), fx(rng.i128()));
            for round in [Round::Floor, Round::Ceil] {
                let m = a.mul_round(b, round);
                assert_eq!(m, mul_round(a, b, round), "{a:?} * {b:?} {round:?}");
                let d = a.div_round(b, round);
                assert_eq!(d, div_round(a, b, round), "{a:?} / {b:?} {round:?}");
                some_mul += m.is_some() as u64;
                some_div += d.is_some() as u64;
            }
        }
        std::println!(
            "  products in range: {some_mul}, quotients in range: {some_div} (of {})",
            2 * n
        );
        assert!(some_mul > n / 2 && some_div > n / 2);
    }

    /// checked_mul_int (all of i64, i128::MIN included), from_ppm, Debug's fraction digits.
    #[test]
    fn bit_identical_mul_int_ppm() {
        let (n, mut rng) = cases("bit_identical_mul_int_ppm");
        for _ in 0..n {
            let a = fx(rng.i128());
            let k = rng.i64();
            assert_eq!(a.checked_mul_int(k), checked_mul_int(a, k), "{a:?} * {k}");
            let p = rng.u64();
            assert_eq!(I80F48::from_ppm(p), from_ppm(p), "ppm {p}");
            let shown = std::format!("{a:?}");
            let digits = std::format!("{:012}", frac_digits(a));
            assert!(shown.ends_with(&digits), "{shown} vs {digits}");
        }
        for (a, k) in [
            (i128::MIN, 1),
            (i128::MIN, -1),
            (i128::MAX, -1),
            (i128::MIN / 2, 2),
            (i128::MIN / 2, -2),
            (i128::MAX / 2 + 1, 2),
            (-1, i64::MIN),
            (1 << 63, i64::MIN),
            (-(1 << 63), i64::MIN),
        ] {
            assert_eq!(
                fx(a).checked_mul_int(k),
                checked_mul_int(fx(a), k),
                "{a} * {k}"
            );
        }
    }

    /// Oracle validation, conversion and the stable price's move limit.
    #[test]
    fn bit_identical_oracle() {
        let (n, mut rng) = cases("bit_identical_oracle");
        let mut converted = 0u64;
        for i in 0..n {
            // Half the cases in the range real feeds use (positive price, expo -12..=0, at
            // most 12 decimals), half anywhere.
            let real = i % 2 == 0;
            let raw = RawPrice {
                price: if real {
                    (rng.u64() >> 1) as i64
                } else {
                    rng.i64()
                },
                conf: rng.u64(),
                expo: if real {
                    -(rng.below(13) as i32)
                } else {
                    rng.below(50) as i32 - 25
                },
                publish_time: rng.i64(),
            };
            let lim = OracleLimits {
                max_age_secs: rng.u64(),
                max_conf_ppm: rng.u64(),
            };
            let now = rng.i64();
            assert_eq!(oracle::validate(&raw, now, &lim), validate(&raw, now, &lim));
            let span = if real { 13 } else { 40 };
            let (td, qd) = (rng.below(span) as u8, rng.below(span) as u8);
            let got = oracle::to_native_price(&raw, td, qd);
            assert_eq!(got, to_native_price(&raw, td, qd), "{raw:?} {td} {qd}");
            converted += got.is_ok() as u64;
            let s = fx(rng.i128());
            let (dt, ppm) = (rng.u64(), rng.u64());
            assert_eq!(
                oracle::max_move_limit(s, dt, ppm),
                max_move_limit(s, dt, ppm),
                "{s:?} {dt} {ppm}"
            );
        }
        std::println!("  prices converted: {converted} of {n}");
        assert!(converted > n / 4);
    }

    /// The word-based 192/128 division against the former bit-by-bit one, on random
    /// dividends of every size.
    #[test]
    fn bit_identical_wide_division() {
        let (n, mut rng) = cases("bit_identical_wide_division");
        for _ in 0..n {
            let hi = rng.u128() >> 64;
            let lo = rng.u128();
            let d = rng.u128();
            let (n1, n0) = crate::wide::split(lo);
            let got = crate::wide::div_192_by_128(hi as u64, n1, n0, d);
            let want = div_u256_by_u128(hi, lo, d).map(|(q, r)| (q, r != 0));
            assert_eq!(got, want, "({hi}:{lo}) / {d}");
        }
    }
}

mod bit_identical_perp {
    use crate::fixed::{Round, I80F48};
    use crate::health::HealthType;
    use crate::perp::{perp_health, PerpHealthInputs, Position};
    use crate::wide::tests::cases;

    /// `perp_health` looks the leverage tier up once for both requirements; its init and maint
    /// are still exactly `pnl_for_health - margin_required(notional, t)` (the former
    /// definition), errors included, over random positions, orders, prices and pools.
    #[test]
    fn bit_identical_perp_health() {
        let (n, mut rng) = cases("bit_identical_perp_health");
        let tiers = crate::tiers::tests::example();
        let mut ok = 0u64;
        for _ in 0..n {
            let inputs = PerpHealthInputs {
                position: Position {
                    base_lots: rng.i64() >> rng.below(40),
                    quote_native: I80F48::from_bits(rng.i128() >> rng.below(40)),
                    funding_snapshot: I80F48::from_bits(rng.i128() >> 40),
                },
                bids_base_lots: (rng.u64() >> (1 + rng.below(50))) as i64,
                asks_base_lots: (rng.u64() >> (1 + rng.below(50))) as i64,
                funding_index: I80F48::from_bits(rng.i128() >> 40),
                price: I80F48::from_bits((rng.u128() >> (1 + rng.below(60))) as i128),
                tiers: &tiers,
                pnl_pool_native: rng.u64() >> rng.below(64),
                unpaid_pnl_haircut_ppm: rng.below(1_000_001) as u32,
            };
            let got = perp_health(&inputs);
            let want = former_perp_health(&inputs);
            assert_eq!(got, want, "{inputs:?}");
            ok += got.is_ok() as u64;
        }
        std::println!("  computed: {ok} of {n}");
        assert!(ok > n / 4);
    }

    /// The former `perp_health` (before the tier was looked up once).
    fn former_perp_health(
        i: &PerpHealthInputs<'_>,
    ) -> Result<crate::perp::PerpHealth, crate::MathError> {
        let h = perp_health(i)?;
        let ovf = crate::MathError::Overflow;
        let init = h
            .pnl_for_health
            .checked_sub(i.tiers.margin_required(h.notional, HealthType::Init)?)
            .ok_or(ovf)?;
        let maint = h
            .pnl_for_health
            .checked_sub(i.tiers.margin_required(h.notional, HealthType::Maint)?)
            .ok_or(ovf)?;
        let _ = Round::Floor;
        Ok(crate::perp::PerpHealth {
            init,
            maint,
            tier_index: i.tiers.tier_index(h.notional),
            ..h
        })
    }
}
