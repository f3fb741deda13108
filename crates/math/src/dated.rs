//! Dated futures: the settlement price, an average of oracle samples over a window around
//! expiry.
//!
//! A crank records oracle prices (quote native per base lot) while
//! `window.start_ts <= now <= window.end_ts`, at most one every `window.min_interval_secs`
//! seconds (>= 1, so that cranking many times at a chosen moment cannot weight it; the average
//! still relies on keepers sampling regularly, which no one can prevent). After the window
//! the settlement price is `sum / count`, rounded toward negative infinity on the 2^-48 grid.
//! The direction favours no one in particular: every position of the market settles at the same
//! price, so what longs gain from it shorts lose; each position's settlement then rounds in the
//! protocol's favour through [`crate::perp::split_pnl`]. At expiry each position is closed at
//! the average with [`crate::perp::Position::close_at`] and its PnL settled with
//! [`crate::perp::Position::settle_pnl`] (a winner settled before the losers is paid the rest
//! on a later settlement).

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};

/// The settlement window of a dated future.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettlementWindow {
    /// First second a sample is taken (unix time).
    pub start_ts: i64,
    /// Last second a sample is taken (unix time, >= `start_ts`).
    pub end_ts: i64,
    /// Least spacing between two recorded samples, seconds.
    pub min_interval_secs: u64,
}

impl SettlementWindow {
    /// `start_ts <= end_ts` and `min_interval_secs >= 1` (at most one sample a second);
    /// else `InvalidParams`.
    pub fn validate(&self) -> Result<(), MathError> {
        if self.start_ts > self.end_ts || self.min_interval_secs == 0 {
            return Err(MathError::InvalidParams);
        }
        Ok(())
    }
}

/// Sum and count of the oracle samples taken in the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PriceAverager {
    /// Sum of the recorded prices, quote native per lot.
    pub sum: I80F48,
    /// Number of recorded samples.
    pub count: u32,
    /// Unix time of the last recorded sample (meaningless while `count == 0`).
    pub last_sample_ts: i64,
}

impl PriceAverager {
    /// Record `price` at `now` if `now` is inside the window and at least `min_interval_secs`
    /// after the last recorded sample; returns whether it was recorded. A non-positive price is
    /// refused (`OracleNonPositive`). On error nothing is changed.
    pub fn record(
        &mut self,
        price: I80F48,
        now: i64,
        window: &SettlementWindow,
    ) -> Result<bool, MathError> {
        window.validate()?;
        if !price.is_positive() {
            return Err(MathError::OracleNonPositive);
        }
        if now < window.start_ts || now > window.end_ts {
            return Ok(false);
        }
        if self.count > 0 {
            let since = now.saturating_sub(self.last_sample_ts);
            if since < 0 || (since as u64) < window.min_interval_secs {
                return Ok(false);
            }
        }
        let sum = self.sum.checked_add(price).ovf()?;
        let count = self.count.checked_add(1).ovf()?;
        self.sum = sum;
        self.count = count;
        self.last_sample_ts = now;
        Ok(true)
    }

    /// `sum / count`, rounded toward negative infinity; `NoSamples` when nothing was recorded.
    pub fn average(&self) -> Result<I80F48, MathError> {
        if self.count == 0 {
            return Err(MathError::NoSamples);
        }
        self.sum
            .div_round(I80F48::from_u64(self.count as u64), Round::Floor)
            .ovf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const W: SettlementWindow = SettlementWindow {
        start_ts: 1_000,
        end_ts: 2_000,
        min_interval_secs: 10,
    };

    #[test]
    fn window_and_spacing() {
        let mut a = PriceAverager::default();
        assert_eq!(a.average(), Err(MathError::NoSamples));
        let p = |v: i64| I80F48::from_i64(v);
        assert_eq!(a.record(p(100), 999, &W), Ok(false));
        assert_eq!(a.record(p(100), 1_000, &W), Ok(true));
        assert_eq!(a.record(p(1_000), 1_005, &W), Ok(false), "too soon");
        assert_eq!(a.record(p(101), 1_010, &W), Ok(true));
        assert_eq!(a.record(p(103), 2_000, &W), Ok(true));
        assert_eq!(a.record(p(500), 2_001, &W), Ok(false));
        assert_eq!(
            a.record(I80F48::ZERO, 1_500, &W),
            Err(MathError::OracleNonPositive)
        );
        assert_eq!(a.count, 3);
        // (100 + 101 + 103) / 3 = 101.33.. rounded down
        let avg = a.average().unwrap();
        assert_eq!(avg.floor_int(), 101);
        assert!(avg.checked_mul_int(3).unwrap() <= p(304));
        let bad = SettlementWindow {
            start_ts: 2,
            end_ts: 1,
            min_interval_secs: 1,
        };
        assert_eq!(a.record(p(1), 1, &bad), Err(MathError::InvalidParams));
        let bad = SettlementWindow {
            min_interval_secs: 0,
            ..W
        };
        assert_eq!(a.record(p(1), 1_500, &bad), Err(MathError::InvalidParams));
    }

    proptest! {
        #[test]
        fn average_within_range(prices in proptest::collection::vec(1i64..1_000_000_000, 1..50)) {
            let w = SettlementWindow { start_ts: 0, end_ts: i64::MAX, min_interval_secs: 1 };
            let mut a = PriceAverager::default();
            for (t, p) in prices.iter().enumerate() {
                prop_assert!(a.record(I80F48::from_i64(*p), t as i64, &w).unwrap());
            }
            let avg = a.average().unwrap();
            let lo = *prices.iter().min().unwrap();
            let hi = *prices.iter().max().unwrap();
            prop_assert!(avg >= I80F48::from_i64(lo) && avg <= I80F48::from_i64(hi));
            prop_assert!(avg.checked_mul_int(prices.len() as i64).unwrap() <= a.sum);
        }
    }
}
