//! Funding: premium of the book over the oracle, its time-weighted average, the funding rate,
//! the market's cumulative funding index, and settling a position's funding.
//!
//! Units: prices are quote native per base lot ([`I80F48`]); the premium and the rate are plain
//! fractions (0.001 = 0.1%); the index is quote native per base lot, signed, cumulative.
//!
//! **Premium** ([`premium`]): with impact bid `b` and impact ask `a` (the average prices to fill
//! the market's impact notional on each side) and oracle `o > 0`,
//! `premium = (clamp(o, b, a) - o) / o`, rounded toward negative infinity on the 2^-48 grid. That
//! is `(b - o) / o` when the bid side crosses the oracle (`b > o`), `(a - o) / o` when the ask
//! side does (`a < o`), and 0 when the oracle lies within `[b, a]` (the crossing-side rule; the
//! impact mid was not chosen because a wide, lopsided book would then pay funding although no
//! impact-size trade through the oracle is possible). An empty or one-sided book gives 0 (the
//! oracle is the fallback). [`ImpactPrice`] computes an impact price from the book's levels.
//!
//! **Average and rate** ([`PremiumAccumulator`], [`FundingParams::rate`]): each sample is
//! weighted by the seconds since the previous crank (capped at one period); at the end of a
//! funding window (`period_secs`) the time-weighted average, clamped to `+-max_rate`, becomes the
//! funding rate per period for the next window, and the accumulator restarts. A sample's weight
//! is the time since the previous crank, so keepers should crank regularly (anyone may): a lone
//! crank after a quiet spell weighs that whole spell, up to one period.
//!
//! **Index** ([`index_delta`], [`FundingState::crank`]): every crank advances the index by
//! `rate * oracle_price_per_lot * dt / period_secs` (rounded toward negative infinity), `dt`
//! being the seconds since the previous crank, capped at one period (funding for a longer gap
//! without a crank is forgone, so a single crank after an idle market cannot charge more than one
//! period). A positive premium gives a positive rate, the index rises, and longs pay shorts.
//!
//! **Settling a position** ([`funding_owed`]): `owed = base_lots * (index_now - snapshot)`,
//! exact in fixed point; the amount moved is `ceil(owed)` in whole quote native units, so a
//! payer (`owed > 0`, a long under a rising index) pays rounded up and a receiver (`owed < 0`)
//! receives `floor(|owed|)`, rounded down. Since the positions of a market sum to zero base,
//! the exact amounts sum to zero and the rounded ones to a non-negative dust (less than one
//! native unit per settlement) that stays with the protocol. The amount is added to the
//! position's cost basis (a payment raises it) and the snapshot becomes `index_now`.
//!
//! One index serves both sides (the issue text's "long and short indices" collapse to one
//! while funding is exactly zero-sum; a second index would only be needed to socialize a loss
//! through funding).

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};

/// Premium of the book's impact prices over the oracle (a fraction; see the module docs):
/// `(clamp(oracle, bid, ask) - oracle) / oracle`, rounded down; 0 when either side is `None`.
/// Refused: a non-positive oracle (`OracleNonPositive`), a non-positive or crossed
/// (`bid > ask`) impact price (`InvalidPrice`).
pub fn premium(
    impact_bid: Option<I80F48>,
    impact_ask: Option<I80F48>,
    oracle: I80F48,
) -> Result<I80F48, MathError> {
    if !oracle.is_positive() {
        return Err(MathError::OracleNonPositive);
    }
    let (bid, ask) = match (impact_bid, impact_ask) {
        (Some(b), Some(a)) => (b, a),
        _ => return Ok(I80F48::ZERO),
    };
    if !bid.is_positive() || !ask.is_positive() || bid > ask {
        return Err(MathError::InvalidPrice);
    }
    let reference = oracle.max(bid).min(ask);
    reference
        .checked_sub(oracle)
        .ovf()?
        .div_round(oracle, Round::Floor)
        .ovf()
}

/// Impact price of one side of the book: the average price of filling `impact_notional` (quote
/// native) against that side's levels, walked in priority order (bids from the highest price
/// down, asks from the lowest up). The last level is taken in part (fractional lots). The bid
/// average is rounded down and the ask average up, which widens the impact spread and so can
/// only shrink the premium. A side that cannot fill the notional has no impact price (`None`,
/// and [`premium`] is then 0). The caller bounds how many levels it walks. Lots are counted on
/// the 2^-48 grid, so the impact notional should be worth at least a lot or so (the relative
/// error of the price is about `2^-48 / lots`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImpactPrice {
    /// Whether the levels are bids (`true`) or asks.
    pub bids: bool,
    /// Impact notional still to fill, quote native.
    pub remaining_notional: I80F48,
    /// Impact notional asked for, quote native (> 0).
    pub impact_notional: I80F48,
    /// Lots taken so far (fractional on the last level).
    pub lots: I80F48,
    /// Price of the last level added (priority order check).
    pub last_price: Option<I80F48>,
}

impl ImpactPrice {
    /// Start walking one side for `impact_notional` quote native (> 0, else `InvalidAmount`).
    pub fn new(bids: bool, impact_notional: u64) -> Result<Self, MathError> {
        if impact_notional == 0 {
            return Err(MathError::InvalidAmount);
        }
        Ok(Self {
            bids,
            remaining_notional: I80F48::from_u64(impact_notional),
            impact_notional: I80F48::from_u64(impact_notional),
            lots: I80F48::ZERO,
            last_price: None,
        })
    }

    /// True once the impact notional is filled.
    pub fn is_filled(&self) -> bool {
        !self.remaining_notional.is_positive()
    }

    /// Add the next level (`price` quote native per lot > 0, `lots` >= 0); returns
    /// [`Self::is_filled`]. A level after the notional is filled is ignored. `InvalidPrice` for
    /// a non-positive price or one out of priority order, `InvalidAmount` for negative lots.
    /// On error nothing is changed.
    pub fn add_level(&mut self, price: I80F48, lots: i64) -> Result<bool, MathError> {
        if !price.is_positive() {
            return Err(MathError::InvalidPrice);
        }
        if lots < 0 {
            return Err(MathError::InvalidAmount);
        }
        if let Some(last) = self.last_price {
            let in_order = if self.bids {
                price <= last
            } else {
                price >= last
            };
            if !in_order {
                return Err(MathError::InvalidPrice);
            }
        }
        if self.is_filled() {
            self.last_price = Some(price);
            return Ok(true);
        }
        let level_notional = price.checked_mul_int(lots).ovf()?;
        let (take_lots, take_notional) = if level_notional >= self.remaining_notional {
            // part of the level: more lots for bids (lower average), fewer for asks (higher)
            let round = if self.bids { Round::Ceil } else { Round::Floor };
            (
                self.remaining_notional.div_round(price, round).ovf()?,
                self.remaining_notional,
            )
        } else {
            (I80F48::from_i64(lots), level_notional)
        };
        let lots = self.lots.checked_add(take_lots).ovf()?;
        let remaining = self.remaining_notional.checked_sub(take_notional).ovf()?;
        self.lots = lots;
        self.remaining_notional = remaining;
        self.last_price = Some(price);
        Ok(self.is_filled())
    }

    /// The impact price, quote native per lot: `impact_notional / lots`, bids rounded down and
    /// asks up; `None` until the notional is filled.
    pub fn price(&self) -> Result<Option<I80F48>, MathError> {
        if !self.is_filled() || !self.lots.is_positive() {
            return Ok(None);
        }
        let round = if self.bids { Round::Floor } else { Round::Ceil };
        self.impact_notional
            .div_round(self.lots, round)
            .ovf()
            .map(Some)
    }
}

/// Time-weighted sum of premium samples over the current funding window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PremiumAccumulator {
    /// Sum of `premium * seconds` (fraction-seconds).
    pub premium_secs: I80F48,
    /// Sum of sample weights, seconds.
    pub secs: u64,
}

impl PremiumAccumulator {
    /// Add a premium sample weighted by `secs` (a zero weight records nothing).
    /// On error nothing is changed.
    pub fn record(&mut self, premium: I80F48, secs: u64) -> Result<(), MathError> {
        let w = i64::try_from(secs).map_err(|_| MathError::Overflow)?;
        let sum = self
            .premium_secs
            .checked_add(premium.checked_mul_int(w).ovf()?)
            .ovf()?;
        let secs = self.secs.checked_add(secs).ovf()?;
        self.premium_secs = sum;
        self.secs = secs;
        Ok(())
    }

    /// Time-weighted average premium, rounded toward negative infinity; 0 when empty.
    pub fn average(&self) -> Result<I80F48, MathError> {
        if self.secs == 0 {
            return Ok(I80F48::ZERO);
        }
        self.premium_secs
            .div_round(I80F48::from_u64(self.secs), Round::Floor)
            .ovf()
    }
}

/// A market's funding parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingParams {
    /// Funding window and rate unit, seconds (> 0): the rate is per this many seconds, and the
    /// premium average restarts every window (e.g. 3600).
    pub period_secs: u64,
    /// Largest absolute funding rate per period, parts per million (<= 1_000_000).
    pub max_rate_ppm: u32,
}

impl FundingParams {
    /// `period_secs > 0` (and fits `i64`), `max_rate_ppm <= 1_000_000`; else `InvalidParams`.
    pub fn validate(&self) -> Result<(), MathError> {
        if self.period_secs == 0
            || self.period_secs > i64::MAX as u64
            || self.max_rate_ppm > crate::tiers::PPM
        {
            return Err(MathError::InvalidParams);
        }
        Ok(())
    }

    /// Funding rate per period for an average premium: clamped to `+-max_rate_ppm / 1e6`.
    pub fn rate(&self, average_premium: I80F48) -> I80F48 {
        let max = I80F48::from_ppm(self.max_rate_ppm as u64);
        // max >= 0, so -max never overflows
        let min = I80F48::from_bits(-max.to_bits());
        average_premium.max(min).min(max)
    }
}

/// Index change for `secs` seconds at `rate` per `period_secs` and an oracle price per lot:
/// `rate * oracle_price_per_lot * secs / period_secs`, rounded toward negative infinity (the
/// index is shared by all positions, so its rounding moves no money between them).
pub fn index_delta(
    rate: I80F48,
    oracle_price_per_lot: I80F48,
    secs: u64,
    period_secs: u64,
) -> Result<I80F48, MathError> {
    if period_secs == 0 {
        return Err(MathError::DivisionByZero);
    }
    let secs = i64::try_from(secs).map_err(|_| MathError::Overflow)?;
    rate.mul_round(oracle_price_per_lot, Round::Floor)
        .ovf()?
        .checked_mul_int(secs)
        .ovf()?
        .div_round(I80F48::from_u64(period_secs), Round::Floor)
        .ovf()
}

/// A market's funding state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FundingState {
    /// Cumulative funding index, quote native per base lot (signed; starts at 0).
    pub index: I80F48,
    /// Funding rate per period applied now (the clamped average of the previous window).
    pub rate: I80F48,
    /// Premium samples of the current window.
    pub premiums: PremiumAccumulator,
    /// Unix time the current window started.
    pub window_start_ts: i64,
    /// Unix time of the last crank.
    pub last_update_ts: i64,
}

/// What one funding crank did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FundingUpdate {
    /// Premium sampled by this crank.
    pub premium: I80F48,
    /// Seconds charged by this crank (since the last one, capped at one period).
    pub secs: u64,
    /// Rate per period used for those seconds.
    pub rate_applied: I80F48,
    /// Index change (quote native per base lot).
    pub index_delta: I80F48,
    /// Index after the crank.
    pub index: I80F48,
    /// `Some(new rate)` when this crank closed a window (the average became the next rate).
    pub new_rate: Option<I80F48>,
}

impl FundingState {
    /// A new market's state at `now`: index 0, rate 0, an empty window starting now.
    pub fn new(now: i64) -> Self {
        Self {
            window_start_ts: now,
            last_update_ts: now,
            ..Self::default()
        }
    }

    /// One funding crank at `now` with a premium sample (from [`premium`]) and the oracle price
    /// per lot: (1) `secs = min(now - last_update_ts, period)` (0 if the clock went back);
    /// (2) the index advances by [`index_delta`]`(rate, oracle, secs, period)` at the current
    /// rate; (3) the premium is recorded with weight `secs`; (4) when
    /// `now - window_start_ts >= period` the window's clamped average becomes the rate and a new
    /// window starts at `now`. On error nothing is changed.
    pub fn crank(
        &mut self,
        premium: I80F48,
        oracle_price_per_lot: I80F48,
        now: i64,
        params: &FundingParams,
    ) -> Result<FundingUpdate, MathError> {
        params.validate()?;
        if !oracle_price_per_lot.is_positive() {
            return Err(MathError::OracleNonPositive);
        }
        let mut s = *self;
        let elapsed = now.saturating_sub(s.last_update_ts).max(0) as u64;
        let secs = elapsed.min(params.period_secs);
        let delta = index_delta(s.rate, oracle_price_per_lot, secs, params.period_secs)?;
        s.index = s.index.checked_add(delta).ovf()?;
        s.premiums.record(premium, secs)?;
        s.last_update_ts = s.last_update_ts.max(now);
        let window = now.saturating_sub(s.window_start_ts).max(0) as u64;
        let rate_applied = s.rate;
        let mut new_rate = None;
        if window >= params.period_secs {
            s.rate = params.rate(s.premiums.average()?);
            s.premiums = PremiumAccumulator::default();
            s.window_start_ts = now;
            new_rate = Some(s.rate);
        }
        *self = s;
        Ok(FundingUpdate {
            premium,
            secs,
            rate_applied,
            index_delta: delta,
            index: s.index,
            new_rate,
        })
    }
}

/// Funding a position owes from its snapshot to `index_now`, in whole quote native units:
/// `ceil(base_lots * (index_now - snapshot))`. Positive: the position pays (rounded up);
/// negative: it receives (magnitude rounded down).
pub fn funding_owed(base_lots: i64, snapshot: I80F48, index_now: I80F48) -> Result<i64, MathError> {
    let exact = index_now
        .checked_sub(snapshot)
        .ovf()?
        .checked_mul_int(base_lots)
        .ovf()?;
    i64::try_from(exact.ceil_int()).map_err(|_| MathError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(v: i64) -> I80F48 {
        I80F48::from_i64(v)
    }

    #[test]
    fn premium_rule() {
        let o = f(100);
        // oracle inside the impact spread: 0
        assert_eq!(premium(Some(f(99)), Some(f(101)), o), Ok(I80F48::ZERO));
        // bid crosses: (102 - 100) / 100 = 2%
        assert_eq!(
            premium(Some(f(102)), Some(f(103)), o),
            I80F48::from_ratio(2, 100, Round::Floor).ok_or(MathError::Overflow)
        );
        // ask crosses: (97 - 100) / 100 = -3%
        assert_eq!(
            premium(Some(f(96)), Some(f(97)), o),
            I80F48::from_ratio(-3, 100, Round::Floor).ok_or(MathError::Overflow)
        );
        // one-sided or empty: 0
        assert_eq!(premium(Some(f(150)), None, o), Ok(I80F48::ZERO));
        assert_eq!(premium(None, Some(f(50)), o), Ok(I80F48::ZERO));
        assert_eq!(premium(None, None, o), Ok(I80F48::ZERO));
        assert_eq!(
            premium(Some(f(101)), Some(f(100)), o),
            Err(MathError::InvalidPrice)
        );
        assert_eq!(
            premium(Some(f(0)), Some(f(100)), o),
            Err(MathError::InvalidPrice)
        );
        assert_eq!(
            premium(Some(f(99)), Some(f(101)), I80F48::ZERO),
            Err(MathError::OracleNonPositive)
        );
    }

    #[test]
    fn accumulator_and_rate() {
        let mut acc = PremiumAccumulator::default();
        assert_eq!(acc.average(), Ok(I80F48::ZERO));
        acc.record(I80F48::from_ppm(1_000), 30).unwrap();
        acc.record(I80F48::ZERO, 0).unwrap();
        acc.record(I80F48::from_ppm(4_000), 10).unwrap();
        // (0.001 * 30 + 0.004 * 10) / 40 = 0.00175
        let avg = acc.average().unwrap();
        assert!((avg.to_bits() - I80F48::from_ppm(1_750).to_bits()).abs() < 4);
        let p = FundingParams {
            period_secs: 3600,
            max_rate_ppm: 1_000,
        };
        assert_eq!(p.rate(avg), I80F48::from_ppm(1_000));
        assert_eq!(
            p.rate(I80F48::from_bits(-avg.to_bits())),
            I80F48::from_bits(-I80F48::from_ppm(1_000).to_bits())
        );
        assert_eq!(p.rate(I80F48::from_ppm(10)), I80F48::from_ppm(10));
        assert!(FundingParams {
            period_secs: 0,
            max_rate_ppm: 1
        }
        .validate()
        .is_err());
    }

    #[test]
    fn crank_sequence() {
        let p = FundingParams {
            period_secs: 100,
            max_rate_ppm: 10_000,
        };
        let mut s = FundingState::new(1_000);
        let prem = I80F48::from_ppm(5_000);
        let oracle = f(200);
        // first window: rate 0, index unchanged
        let u = s.crank(prem, oracle, 1_050, &p).unwrap();
        assert_eq!(
            (u.secs, u.index_delta, u.new_rate),
            (50, I80F48::ZERO, None)
        );
        let u = s.crank(prem, oracle, 1_100, &p).unwrap();
        assert_eq!(u.new_rate, Some(I80F48::from_ppm(5_000)));
        assert_eq!(s.index, I80F48::ZERO);
        // second window: 0.5% of 200 per 100 s = 1 per 100 s; 50 s -> 0.5 (up to grid)
        let u = s.crank(I80F48::ZERO, oracle, 1_150, &p).unwrap();
        assert_eq!(u.secs, 50);
        assert!((u.index.to_bits() - I80F48::ONE.to_bits() / 2).abs() < 1 << 8);
        assert!(u.index_delta.is_positive(), "positive premium: longs pay");
        // clock going back: nothing charged
        let before = s.index;
        let u = s.crank(prem, oracle, 1_000, &p).unwrap();
        assert_eq!((u.secs, s.index), (0, before));
        // long idle: capped at one period
        let u = s.crank(prem, oracle, 1_000_000, &p).unwrap();
        assert_eq!(u.secs, 100);
        assert_eq!(
            s.crank(prem, I80F48::ZERO, 1_000_001, &p),
            Err(MathError::OracleNonPositive)
        );
    }

    #[test]
    fn owed_rounding() {
        let third = I80F48::from_ratio(1, 3, Round::Floor).unwrap();
        // long 10 lots, index +1/3: owes 3.33 -> pays 4
        assert_eq!(funding_owed(10, I80F48::ZERO, third), Ok(4));
        // short 10 lots: receives 3.33 -> 3
        assert_eq!(funding_owed(-10, I80F48::ZERO, third), Ok(-3));
        assert_eq!(funding_owed(0, I80F48::ZERO, third), Ok(0));
        assert_eq!(funding_owed(7, third, third), Ok(0));
        // falling index: longs receive
        assert_eq!(funding_owed(10, third, I80F48::ZERO), Ok(-3));
    }

    #[test]
    fn impact_prices() {
        // asks: 10 lots at 100, 10 at 110; impact notional 1_550 -> 10 lots + 5 lots = 15 lots
        let mut a = ImpactPrice::new(false, 1_550).unwrap();
        assert_eq!(a.add_level(f(100), 10), Ok(false));
        assert_eq!(a.price(), Ok(None));
        assert_eq!(a.add_level(f(110), 10), Ok(true));
        let p = a.price().unwrap().unwrap();
        // 1_550 / 15 = 103.33 rounded up
        assert_eq!(p.ceil_int(), 104);
        assert!(p.checked_mul_int(15).unwrap() >= f(1_550));
        // ignored once filled, but order still checked
        assert_eq!(a.add_level(f(120), 1), Ok(true));
        assert_eq!(a.add_level(f(119), 1), Err(MathError::InvalidPrice));
        // bids: descending
        let mut b = ImpactPrice::new(true, 1_000).unwrap();
        assert_eq!(b.add_level(f(99), 5), Ok(false));
        assert_eq!(b.add_level(f(100), 5), Err(MathError::InvalidPrice));
        assert_eq!(b.add_level(f(98), 1), Ok(false));
        // too thin: no impact price
        assert_eq!(b.price(), Ok(None));
        assert_eq!(b.add_level(f(90), 100), Ok(true));
        let p = b.price().unwrap().unwrap();
        assert!(p < f(99) && p > f(90));
        assert_eq!(ImpactPrice::new(true, 0), Err(MathError::InvalidAmount));
        assert_eq!(b.add_level(f(0), 1), Err(MathError::InvalidPrice));
    }

    proptest! {
        /// The impact price lies between the best and the last level used, and never beyond
        /// the average it rounds (bids down, asks up).
        #[test]
        fn impact_price_bounds(levels in proptest::collection::vec((1i64..100, 0i64..1_000), 1..20), notional in 100_000u64..5_000_000, bids in any::<bool>()) {
            // notional of at least one lot at the highest price (see ImpactPrice's precision note)
            let mut prices: std::vec::Vec<i64> = levels.iter().map(|l| l.0 * 1_000).collect();
            prices.sort();
            if bids { prices.reverse(); }
            let mut ip = ImpactPrice::new(bids, notional).unwrap();
            let mut used = std::vec::Vec::new();
            for (p, (_, lots)) in prices.iter().zip(levels.iter()) {
                let done = ip.add_level(f(*p), *lots).unwrap();
                used.push(*p);
                if done { break; }
            }
            match ip.price().unwrap() {
                None => {
                    let depth: i64 = prices.iter().zip(levels.iter()).map(|(p, l)| p * l.1).sum();
                    prop_assert!((depth as u64) < notional || ip.lots.is_zero());
                }
                Some(px) => {
                    let (lo, hi) = (*used.iter().min().unwrap(), *used.iter().max().unwrap());
                    // rounding can step one 2^-48 past a level
                    prop_assert!(px.to_bits() >= f(lo).to_bits() - (1 << 20) && px.to_bits() <= f(hi).to_bits() + (1 << 20));
                    let total = ip.lots.checked_mul(px).unwrap();
                    if bids { prop_assert!(total <= f(notional as i64).checked_add(I80F48::ONE).unwrap()); }
                }
            }
        }

        /// Premium sign follows the crossing side and the rate stays in the clamp.
        #[test]
        fn premium_sign_and_clamp(o in 1i64..1_000_000, b in 1i64..2_000_000, spread in 0i64..1_000_000, max in 0u32..100_000) {
            let a = b + spread;
            let pr = premium(Some(f(b)), Some(f(a)), f(o)).unwrap();
            if b > o { prop_assert!(pr.is_positive()); }
            else if a < o { prop_assert!(pr.is_negative()); }
            else { prop_assert!(pr.is_zero()); }
            let p = FundingParams { period_secs: 3600, max_rate_ppm: max };
            let r = p.rate(pr);
            prop_assert!(r.checked_abs().unwrap() <= I80F48::from_ppm(max as u64));
            prop_assert!(!r.is_positive() || pr.is_positive());
            prop_assert!(!r.is_negative() || pr.is_negative());
        }

        /// Cranks at random times: the rate stays within the clamp, the index moves in the
        /// direction of the rate applied and by at most `max_rate * oracle * secs / period`,
        /// (up to a few 2^-48 of grid rounding), and no crank charges more than one period.
        #[test]
        fn crank_bounds(samples in proptest::collection::vec((-50_000i64..50_000, 0i64..500, 1i64..1_000_000), 1..60), max in 0u32..20_000, period in 1u64..1_000) {
            let p = FundingParams { period_secs: period, max_rate_ppm: max };
            let max_rate = I80F48::from_ppm(max as u64);
            let mut s = FundingState::new(0);
            let mut now = 0i64;
            for (prem_ppm, dt, oracle) in samples {
                now += dt;
                let prem = I80F48::from_ratio(prem_ppm as i128, 1_000_000, Round::Floor).unwrap();
                let before = s.index;
                let u = s.crank(prem, f(oracle), now, &p).unwrap();
                prop_assert!(u.secs <= period);
                prop_assert!(s.rate.checked_abs().unwrap() <= max_rate);
                prop_assert_eq!(s.index.checked_sub(before).unwrap(), u.index_delta);
                if u.rate_applied.is_positive() { prop_assert!(!u.index_delta.is_negative()); }
                if u.rate_applied.is_negative() { prop_assert!(!u.index_delta.is_positive()); }
                let bound = max_rate.checked_mul(f(oracle)).unwrap().checked_mul_int(u.secs as i64).unwrap()
                    .div_round(I80F48::from_u64(period), Round::Ceil).unwrap();
                prop_assert!(u.index_delta.checked_abs().unwrap() <= bound.checked_add(I80F48::from_bits(3)).unwrap());
            }
        }

        /// Rounding never favours the trader: paid >= exact owed > paid - 1.
        #[test]
        fn owed_never_favours_trader(base in -1_000_000_000i64..1_000_000_000, s in any::<i64>(), d in -(1i128 << 60)..(1i128 << 60)) {
            let snap = I80F48::from_bits(s as i128);
            let now = I80F48::from_bits(s as i128 + d);
            let paid = funding_owed(base, snap, now).unwrap() as i128;
            let exact_bits = d * base as i128; // owed in 2^-48 units
            prop_assert!(paid << 48 >= exact_bits);
            prop_assert!((paid << 48) - exact_bits < 1 << 48);
        }

        /// Funding is zero-sum up to protocol dust: positions that sum to zero base trade among
        /// themselves and settle on every touch while the index moves; what is paid is at least
        /// what is received, by less than one native unit per settlement.
        #[test]
        fn zero_sum_with_protocol_dust(
            init in proptest::collection::vec(-1_000_000i64..1_000_000, 1..8),
            steps in proptest::collection::vec((any::<bool>(), -(1i128 << 56)..(1i128 << 56), 0usize..8, 0usize..8, 1i64..10_000), 1..40),
        ) {
            let mut base: std::vec::Vec<i64> = init.clone();
            let sum: i64 = base.iter().sum();
            base.push(-sum);
            let n = base.len();
            let mut snap = std::vec![I80F48::ZERO; n];
            let mut index = I80F48::ZERO;
            let mut paid_total: i128 = 0;
            let mut received_total: i128 = 0;
            let mut settlements: i128 = 0;
            let mut settle = |i: usize, base: &[i64], snap: &mut [I80F48], index: I80F48| {
                let owed = funding_owed(base[i], snap[i], index).unwrap() as i128;
                snap[i] = index;
                if owed > 0 { paid_total += owed } else { received_total -= owed }
                settlements += 1;
            };
            for (move_index, d, a, b, lots) in steps {
                if move_index {
                    index = I80F48::from_bits(index.to_bits() + d);
                } else {
                    let (a, b) = (a % n, b % n);
                    settle(a, &base, &mut snap, index);
                    settle(b, &base, &mut snap, index);
                    base[a] += lots;
                    base[b] -= lots;
                }
                prop_assert_eq!(base.iter().sum::<i64>(), 0);
            }
            for i in 0..n {
                settle(i, &base, &mut snap, index);
            }
            let dust = paid_total - received_total;
            prop_assert!(dust >= 0, "paid {} < received {}", paid_total, received_total);
            prop_assert!(dust <= settlements, "dust {} > settlements {}", dust, settlements);
        }
    }
}
