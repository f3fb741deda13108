//! Leverage tiers: margin ratios chosen by position size.
//!
//! A perp market holds up to [`MAX_LEVERAGE_TIERS`] tiers, ordered by size. Tier `i` applies to
//! a position notional `n` (quote native, `|base_lots| * price_per_lot`) when
//! `max_notional[i-1] < n <= max_notional[i]` (tier 0 from `n = 0`). A notional above the last
//! tier's `max_notional` uses the last tier: the market's open-interest limit, not the table,
//! bounds position size.
//!
//! The whole notional is margined at the chosen tier's ratio (not slice by slice):
//! `required = ceil_fp(notional * ratio_ppm / 1e6)` (rounded up to the fixed-point grid, against
//! the account). Validation (ratios non-decreasing by tier) makes `required` non-decreasing in
//! the notional, though it jumps at a tier boundary.
//!
//! Ratios are parts per million of the notional: `init_margin_ppm = 10_000` is 1% initial
//! margin, i.e. 100x leverage.

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};
use crate::health::HealthType;

/// Capacity of a market's tier table.
pub const MAX_LEVERAGE_TIERS: usize = 4;

/// 1.0 in parts per million.
pub const PPM: u32 = 1_000_000;

/// One leverage tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LeverageTier {
    /// Largest position notional (quote native) this tier applies to.
    pub max_notional_native: u64,
    /// Initial margin ratio, parts per million of the notional (10_000 = 1% = 100x).
    pub init_margin_ppm: u32,
    /// Maintenance margin ratio, parts per million of the notional (< `init_margin_ppm`).
    pub maint_margin_ppm: u32,
}

impl LeverageTier {
    /// Ratio (ppm) for a health type.
    pub fn margin_ppm(&self, t: HealthType) -> u32 {
        match t {
            HealthType::Init => self.init_margin_ppm,
            HealthType::Maint => self.maint_margin_ppm,
        }
    }
}

/// `notional * ppm / 1e6` rounded up (against the account), for a notional `>= 0` (else
/// `InvalidAmount`): the requirement at one tier's ratio.
pub(crate) fn margin_at(notional: I80F48, ppm: u32) -> Result<I80F48, MathError> {
    if notional.is_negative() {
        return Err(MathError::InvalidAmount);
    }
    notional
        .checked_mul_int(ppm as i64)
        .ovf()?
        .div_round(I80F48::from_u64(PPM as u64), Round::Ceil)
        .ovf()
}

/// A validated, fixed-capacity tier table (1 to [`MAX_LEVERAGE_TIERS`] tiers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeverageTiers {
    tiers: [LeverageTier; MAX_LEVERAGE_TIERS],
    len: usize,
}

impl LeverageTiers {
    /// Build from tiers in increasing size order. Refused with `InvalidParams` unless:
    /// 1 to [`MAX_LEVERAGE_TIERS`] tiers; `max_notional_native` strictly increasing;
    /// `0 < maint_margin_ppm < init_margin_ppm <= 1_000_000` in each tier; init and maint ratios
    /// each non-decreasing from one tier to the next.
    // Inlined so the table is built in the caller's frame: returned through a pointer, the
    // 80-byte result was copied two bytes at a time on SBF.
    #[inline(always)]
    pub fn new(tiers: &[LeverageTier]) -> Result<Self, MathError> {
        if tiers.is_empty() || tiers.len() > MAX_LEVERAGE_TIERS {
            return Err(MathError::InvalidParams);
        }
        let mut prev: Option<&LeverageTier> = None;
        for t in tiers {
            if t.maint_margin_ppm == 0
                || t.maint_margin_ppm >= t.init_margin_ppm
                || t.init_margin_ppm > PPM
            {
                return Err(MathError::InvalidParams);
            }
            if let Some(p) = prev {
                if t.max_notional_native <= p.max_notional_native
                    || t.init_margin_ppm < p.init_margin_ppm
                    || t.maint_margin_ppm < p.maint_margin_ppm
                {
                    return Err(MathError::InvalidParams);
                }
            }
            prev = Some(t);
        }
        let mut out = Self {
            tiers: [LeverageTier::default(); MAX_LEVERAGE_TIERS],
            len: tiers.len(),
        };
        out.tiers[..tiers.len()].copy_from_slice(tiers);
        Ok(out)
    }

    /// The tiers, in increasing size order.
    pub fn tiers(&self) -> &[LeverageTier] {
        &self.tiers[..self.len]
    }

    /// Index of the tier for a position notional (quote native, >= 0; a negative value is
    /// treated as 0): the first tier whose `max_notional_native >= notional`, else the last.
    pub fn tier_index(&self, notional: I80F48) -> usize {
        let last = self.len.saturating_sub(1);
        self.tiers()
            .iter()
            .position(|t| notional <= I80F48::from_u64(t.max_notional_native))
            .unwrap_or(last)
    }

    /// The tier for a position notional (see [`Self::tier_index`]).
    pub fn tier(&self, notional: I80F48) -> &LeverageTier {
        // tier_index < len <= MAX_LEVERAGE_TIERS
        &self.tiers[self.tier_index(notional).min(MAX_LEVERAGE_TIERS - 1)]
    }

    /// Margin required for a position notional (quote native, `>= 0`):
    /// `notional * ratio_ppm / 1e6` of the tier, rounded up (against the account).
    pub fn margin_required(&self, notional: I80F48, t: HealthType) -> Result<I80F48, MathError> {
        margin_at(notional, self.tier(notional).margin_ppm(t))
    }

    /// Largest initial leverage the table allows (`1e6 / init_margin_ppm` of the first tier,
    /// rounded down), for display.
    pub fn max_leverage(&self) -> u32 {
        PPM / self.tiers[0].init_margin_ppm.max(1)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tier(max: u64, init: u32, maint: u32) -> LeverageTier {
        LeverageTier {
            max_notional_native: max,
            init_margin_ppm: init,
            maint_margin_ppm: maint,
        }
    }

    /// 100x up to 1M USDC (6 decimals), 50x to 10M, 20x to 50M, 10x beyond.
    pub(crate) fn example() -> LeverageTiers {
        LeverageTiers::new(&[
            tier(1_000_000_000_000, 10_000, 5_000),
            tier(10_000_000_000_000, 20_000, 10_000),
            tier(50_000_000_000_000, 50_000, 25_000),
            tier(u64::MAX, 100_000, 50_000),
        ])
        .unwrap()
    }

    #[test]
    fn selection_and_requirement() {
        let t = example();
        assert_eq!(t.max_leverage(), 100);
        let n = |v: u64| I80F48::from_u64(v);
        assert_eq!(t.tier_index(n(0)), 0);
        assert_eq!(t.tier_index(n(1_000_000_000_000)), 0);
        assert_eq!(t.tier_index(n(1_000_000_000_001)), 1);
        assert_eq!(t.tier_index(n(u64::MAX)), 3);
        // 1000 USDC at 1% init = 10 USDC, 0.5% maint = 5 USDC
        assert_eq!(
            t.margin_required(n(1_000_000_000), HealthType::Init),
            Ok(n(10_000_000))
        );
        assert_eq!(
            t.margin_required(n(1_000_000_000), HealthType::Maint),
            Ok(n(5_000_000))
        );
        // rounding up: 1 native at 1% is 0.01 -> rounded up on the 2^-48 grid
        let r = t.margin_required(n(1), HealthType::Init).unwrap();
        assert!(r > I80F48::ZERO && r.checked_mul_int(100).unwrap() >= I80F48::ONE);
        assert_eq!(
            t.margin_required(I80F48::from_i64(-1), HealthType::Init),
            Err(MathError::InvalidAmount)
        );
        // beyond the last tier's cap, the last tier
        let small = LeverageTiers::new(&[tier(100, 10_000, 5_000)]).unwrap();
        assert_eq!(small.tier_index(n(1_000)), 0);
    }

    #[test]
    fn validation() {
        let ok = tier(100, 10_000, 5_000);
        assert!(LeverageTiers::new(&[]).is_err());
        assert!(LeverageTiers::new(&[ok; 5]).is_err());
        // thresholds must increase
        assert!(LeverageTiers::new(&[ok, ok]).is_err());
        // maint < init
        assert!(LeverageTiers::new(&[tier(100, 5_000, 5_000)]).is_err());
        assert!(LeverageTiers::new(&[tier(100, 5_000, 0)]).is_err());
        // init <= 100%
        assert!(LeverageTiers::new(&[tier(100, 1_000_001, 5_000)]).is_err());
        // ratios non-decreasing
        assert!(LeverageTiers::new(&[ok, tier(200, 9_000, 5_000)]).is_err());
        assert!(LeverageTiers::new(&[ok, tier(200, 20_000, 4_000)]).is_err());
        assert!(LeverageTiers::new(&[ok, tier(200, 10_000, 5_000)]).is_ok());
        assert_eq!(example().tiers().len(), 4);
    }

    fn arb_tiers() -> impl Strategy<Value = LeverageTiers> {
        proptest::collection::vec((1u64..1_000_000_000, 1u32..100_000, 1u32..100_000), 1..=4)
            .prop_map(|steps| {
                let mut max = 0u64;
                let mut init = 0u32;
                let mut maint = 0u32;
                let mut out = [LeverageTier::default(); MAX_LEVERAGE_TIERS];
                for (i, (dn, di, dm)) in steps.iter().enumerate() {
                    max += dn;
                    maint += dm;
                    init = (init + di).max(maint + 1);
                    out[i] = tier(max, init, maint);
                }
                LeverageTiers::new(&out[..steps.len()]).unwrap()
            })
    }

    proptest! {
        #[test]
        fn monotonic(t in arb_tiers(), a in 0u64..5_000_000_000, b in 0u64..5_000_000_000) {
            let (lo, hi) = (a.min(b), a.max(b));
            let (lo, hi) = (I80F48::from_u64(lo), I80F48::from_u64(hi));
            prop_assert!(t.tier_index(lo) <= t.tier_index(hi));
            for ht in [HealthType::Init, HealthType::Maint] {
                prop_assert!(t.margin_required(lo, ht).unwrap() <= t.margin_required(hi, ht).unwrap());
            }
            prop_assert!(t.margin_required(hi, HealthType::Maint).unwrap() <= t.margin_required(hi, HealthType::Init).unwrap());
            // never below the exact requirement
            let exact = (hi.to_bits() * t.tier(hi).init_margin_ppm as i128) / 1_000_000;
            prop_assert!(t.margin_required(hi, HealthType::Init).unwrap().to_bits() >= exact);
        }
    }
}
