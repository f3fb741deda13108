//! Kinked utilization interest curve and index accrual.
//!
//! Rates are annual fractions (0.05 = 5% a year). A year is [`SECONDS_PER_YEAR`] seconds.
//! Accrual is **simple interest per accrual**: over `dt` seconds the borrow index grows by the
//! factor `1 + borrow_rate * dt / YEAR`, with the rate fixed at the utilization seen at the start
//! of the interval. Many short accruals therefore compound; one accrual over a warped interval
//! is exactly the closed form `index * (1 + r * dt / YEAR)` that the tests compare against.
//!
//! Money flow of one accrual (all in native units of the token, fixed point):
//! `borrow_interest = indexed_borrows * (new_borrow_index - borrow_index)`,
//! depositors receive at most `borrow_interest * (1 - reserve_factor)` through the deposit
//! index (rounded down), and the reserve is the exact remainder, so
//! `deposit_interest + reserve == borrow_interest` and `reserve >= 0`.
//! The effective deposit rate is `borrow_rate * utilization * (1 - reserve_factor)`, and never
//! more: the deposit index grows by at most `deposit_index * growth * (1 - reserve_factor)`
//! (`growth = borrow_rate * dt / YEAR`), so when borrows exceed deposits (only accrual can make
//! them: borrowing is bounded by deposits) the excess interest goes to the reserve. Invariant:
//! `deposit_rate <= borrow_rate * min(utilization, 1) * (1 - reserve_factor)`.

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};

/// Seconds in the 365-day year used for annual rates.
pub const SECONDS_PER_YEAR: u64 = 31_536_000;

/// Highest borrow-rate cap a curve may have: 1000% a year. Bounds how fast indices can grow
/// (even compounded every second at full utilization, the borrow index needs over five years
/// at this rate to leave I80F48's range, while the debt it measures grows as fast).
pub const MAX_RATE_CAP: I80F48 = I80F48::from_i64(10);

/// Kinked borrow-rate curve. All values are annual rates or fractions as fixed point.
///
/// `rate(u) = base + slope1 * u / optimal` for `u <= optimal`,
/// `rate(u) = base + slope1 + slope2 * (u - optimal) / (1 - optimal)` above, capped at
/// `max_rate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterestCurve {
    /// Rate at zero utilization.
    pub base_rate: I80F48,
    /// Utilization at the kink, in (0, 1].
    pub optimal_util: I80F48,
    /// Rate added from zero utilization to the kink.
    pub slope1: I80F48,
    /// Rate added from the kink to full utilization.
    pub slope2: I80F48,
    /// Cap on the borrow rate.
    pub max_rate: I80F48,
}

impl InterestCurve {
    /// Build from parts-per-million parameters (1_000_000 = 1.0 = 100% a year).
    pub fn from_ppm(base: u32, optimal: u32, slope1: u32, slope2: u32, max: u32) -> Self {
        Self {
            base_rate: I80F48::from_ppm(base as u64),
            optimal_util: I80F48::from_ppm(optimal as u64),
            slope1: I80F48::from_ppm(slope1 as u64),
            slope2: I80F48::from_ppm(slope2 as u64),
            max_rate: I80F48::from_ppm(max as u64),
        }
    }

    /// True when the parameters describe a usable curve.
    pub fn is_valid(&self) -> bool {
        self.optimal_util.is_positive()
            && self.optimal_util <= I80F48::ONE
            && !self.base_rate.is_negative()
            && !self.slope1.is_negative()
            && !self.slope2.is_negative()
            && !self.max_rate.is_negative()
            && self.max_rate <= MAX_RATE_CAP
    }

    /// Annual borrow rate at utilization `util` (clamped to [0, 1]).
    pub fn borrow_rate(&self, util: I80F48) -> Result<I80F48, MathError> {
        let u = util.max(I80F48::ZERO).min(I80F48::ONE);
        let rate = if u <= self.optimal_util {
            let part = self
                .slope1
                .checked_mul(u)
                .ovf()?
                .checked_div(self.optimal_util)
                .ok_or(MathError::DivisionByZero)?;
            self.base_rate.checked_add(part).ovf()?
        } else {
            let above = u.checked_sub(self.optimal_util).ovf()?;
            let span = I80F48::ONE.checked_sub(self.optimal_util).ovf()?;
            let part = self
                .slope2
                .checked_mul(above)
                .ovf()?
                .checked_div(span)
                .ok_or(MathError::DivisionByZero)?;
            self.base_rate
                .checked_add(self.slope1)
                .ovf()?
                .checked_add(part)
                .ovf()?
        };
        Ok(rate.min(self.max_rate))
    }
}

/// Utilization = borrows / deposits in native units, in [0, 1]; 0 with no borrows, 1 with
/// borrows but no deposits.
pub fn utilization(deposits_native: I80F48, borrows_native: I80F48) -> Result<I80F48, MathError> {
    if !borrows_native.is_positive() {
        return Ok(I80F48::ZERO);
    }
    if !deposits_native.is_positive() {
        return Ok(I80F48::ONE);
    }
    Ok(borrows_native
        .checked_div(deposits_native)
        .ovf()?
        .min(I80F48::ONE))
}

/// Result of one accrual.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrual {
    /// New deposit index (>= old).
    pub deposit_index: I80F48,
    /// New borrow index (>= old).
    pub borrow_index: I80F48,
    /// Interest added to all borrows, native units.
    pub borrow_interest: I80F48,
    /// Interest credited to all lendable deposits, native units (<= borrow_interest).
    pub deposit_interest: I80F48,
    /// `borrow_interest - deposit_interest`, native units, >= 0: goes to the reserve.
    pub reserve: I80F48,
    /// Annual borrow rate used.
    pub borrow_rate: I80F48,
    /// Utilization used.
    pub utilization: I80F48,
}

/// Accrue `dt_seconds` of interest (see the module doc for the exact formulas).
///
/// `indexed_deposits` / `indexed_borrows` are the sums of lendable deposit and borrow shares;
/// `reserve_factor` is a fraction in [0, 1].
// Inlined: five i128 arguments are more registers than an SBF call may pass (five).
#[inline(always)]
pub fn accrue(
    curve: &InterestCurve,
    reserve_factor: I80F48,
    deposit_index: I80F48,
    borrow_index: I80F48,
    indexed_deposits: I80F48,
    indexed_borrows: I80F48,
    dt_seconds: u64,
) -> Result<Accrual, MathError> {
    let deposits_native = indexed_deposits
        .mul_round(deposit_index, Round::Floor)
        .ovf()?;
    let borrows_native = indexed_borrows.mul_round(borrow_index, Round::Ceil).ovf()?;
    let util = utilization(deposits_native, borrows_native)?;
    let rate = curve.borrow_rate(util)?;
    let mut out = Accrual {
        deposit_index,
        borrow_index,
        borrow_interest: I80F48::ZERO,
        deposit_interest: I80F48::ZERO,
        reserve: I80F48::ZERO,
        borrow_rate: rate,
        utilization: util,
    };
    if dt_seconds == 0 || !indexed_borrows.is_positive() || rate.is_zero() {
        return Ok(out);
    }
    // growth = rate * dt / YEAR, rounded up: borrowers pay.
    let growth = rate
        .checked_mul_int(i64::try_from(dt_seconds).map_err(|_| MathError::Overflow)?)
        .ovf()?
        .div_round(I80F48::from_u64(SECONDS_PER_YEAR), Round::Ceil)
        .ovf()?;
    let bi_delta = borrow_index.mul_round(growth, Round::Ceil).ovf()?;
    out.borrow_index = borrow_index.checked_add(bi_delta).ovf()?;
    out.borrow_interest = indexed_borrows.mul_round(bi_delta, Round::Floor).ovf()?;

    let rf = reserve_factor.max(I80F48::ZERO).min(I80F48::ONE);
    let keep = I80F48::ONE.checked_sub(rf).ovf()?;
    if indexed_deposits.is_positive() {
        let target = out.borrow_interest.mul_round(keep, Round::Floor).ovf()?;
        let di_delta = target.div_round(indexed_deposits, Round::Floor).ovf()?;
        // Deposit rate cap: a deposit share never earns more than `growth * (1 - rf)` of its
        // value, i.e. deposit rate <= borrow rate * min(utilization, 1) * (1 - rf). Interest
        // borrowers pay beyond that (borrows above deposits, which only accrual itself can
        // cause) goes to the reserve. However few deposit shares remain, the deposit index
        // therefore grows no faster than the borrow index (the bank-freeze finding).
        let di_cap = deposit_index
            .mul_round(growth, Round::Floor)
            .ovf()?
            .mul_round(keep, Round::Floor)
            .ovf()?;
        let di_delta = di_delta.min(di_cap);
        out.deposit_index = deposit_index.checked_add(di_delta).ovf()?;
        // The real product is <= target, so rounding up to the grid stays <= target.
        out.deposit_interest = indexed_deposits.mul_round(di_delta, Round::Ceil).ovf()?;
    }
    out.reserve = out
        .borrow_interest
        .checked_sub(out.deposit_interest)
        .ovf()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn curve() -> InterestCurve {
        // 1% base, kink at 80% with +9%, then +90% to 100%, cap 150%
        InterestCurve::from_ppm(10_000, 800_000, 90_000, 900_000, 1_500_000)
    }

    fn ppm(x: u64) -> I80F48 {
        I80F48::from_ppm(x)
    }

    #[test]
    fn kinked_curve() {
        let c = curve();
        assert_eq!(c.borrow_rate(I80F48::ZERO).unwrap(), ppm(10_000));
        let at_kink = c.borrow_rate(ppm(800_000)).unwrap();
        assert!((at_kink.to_bits() - ppm(100_000).to_bits()).abs() < 1 << 8);
        let full = c.borrow_rate(I80F48::ONE).unwrap();
        assert!((full.to_bits() - ppm(1_000_000).to_bits()).abs() < 1 << 8);
        let capped = InterestCurve {
            max_rate: ppm(500_000),
            ..c
        };
        assert_eq!(capped.borrow_rate(I80F48::ONE).unwrap(), ppm(500_000));
        assert!(c.borrow_rate(ppm(400_000)).unwrap() < at_kink);
        assert!(c.borrow_rate(ppm(900_000)).unwrap() > at_kink);
    }

    #[test]
    fn no_borrows_no_interest() {
        let a = accrue(
            &curve(),
            ppm(100_000),
            I80F48::ONE,
            I80F48::ONE,
            I80F48::from_u64(1_000_000),
            I80F48::ZERO,
            SECONDS_PER_YEAR,
        )
        .unwrap();
        assert_eq!(a.deposit_index, I80F48::ONE);
        assert_eq!(a.borrow_index, I80F48::ONE);
        assert_eq!(a.reserve, I80F48::ZERO);
    }

    #[test]
    fn one_year_closed_form() {
        // 1000 deposited, 500 borrowed: util 0.5, rate = 0.01 + 0.09 * 0.5/0.8 = 0.06625
        let a = accrue(
            &curve(),
            ppm(100_000),
            I80F48::ONE,
            I80F48::ONE,
            I80F48::from_u64(1000),
            I80F48::from_u64(500),
            SECONDS_PER_YEAR,
        )
        .unwrap();
        // borrow interest 500 * 0.06625 = 33.125, deposits get 90% = 29.8125, reserve 3.3125
        let close = |x: I80F48, num: i128, den: i128| {
            let want = I80F48::from_ratio(num, den, Round::Floor).unwrap();
            (x.to_bits() - want.to_bits()).abs() < 1 << 12
        };
        assert!(close(a.borrow_interest, 33125, 1000), "{:?}", a);
        assert!(close(a.deposit_interest, 298125, 10000), "{:?}", a);
        assert!(close(a.reserve, 33125, 10000), "{:?}", a);
    }

    /// The bank-freeze finding at the index level: a handful of deposit shares under borrows
    /// far larger (only reachable through accrual now, but assumed here), accrued every hour
    /// for a year at the cap rate. The deposit index grows no faster than the borrow index,
    /// the excess goes to the reserve, nothing overflows.
    #[test]
    fn tiny_deposit_shares_cannot_blow_up_the_index() {
        let c = InterestCurve::from_ppm(2_000_000, 800_000, 0, 0, 2_000_000);
        let (mut di, mut bi) = (I80F48::ONE, I80F48::ONE);
        let d_sh = I80F48::from_ratio(1, 1000, Round::Floor).unwrap();
        let b_sh = I80F48::from_u64(1_000_000_000_000);
        for _ in 0..(365 * 24) {
            let a = accrue(&c, ppm(100_000), di, bi, d_sh, b_sh, 3600).unwrap();
            prop_assert_le(a.deposit_index, a.borrow_index);
            assert!(a.deposit_interest.checked_add(a.reserve).unwrap() == a.borrow_interest);
            di = a.deposit_index;
            bi = a.borrow_index;
        }
        // 200%/year compounded hourly: about e^2 = 7.39
        assert!(bi < I80F48::from_i64(8) && bi > I80F48::from_i64(7), "{bi}");
        assert!(di < bi, "{di} {bi}");
    }

    fn prop_assert_le(a: I80F48, b: I80F48) {
        assert!(a <= b, "{a} > {b}");
    }

    #[test]
    fn rate_cap_is_validated() {
        let mut c = curve();
        c.max_rate = MAX_RATE_CAP;
        assert!(c.is_valid());
        c.max_rate = MAX_RATE_CAP.checked_add(I80F48::DELTA).unwrap();
        assert!(!c.is_valid());
    }

    proptest! {
        /// Deposit rate <= borrow rate * min(utilization, 1) * (1 - reserve factor), for any
        /// share counts (borrows above deposits included) and any elapsed time.
        #[test]
        fn deposit_rate_bounded(
            d_raw in 1u64..1_000_000_000_000,
            b_raw in 0u64..1_000_000_000_000,
            dt in 1u64..SECONDS_PER_YEAR,
            rf in 0u64..=1_000_000,
        ) {
            let d_sh = I80F48::from_ratio(d_raw as i128, 1000, Round::Floor).unwrap();
            let b_sh = I80F48::from_u64(b_raw);
            let a = accrue(&curve(), ppm(rf), I80F48::ONE, I80F48::ONE, d_sh, b_sh, dt).unwrap();
            // deposit index growth <= rate * dt / YEAR * (1 - rf) (+ rounding of the growth)
            let growth = a.deposit_index.checked_sub(I80F48::ONE).unwrap();
            let bound = a.borrow_rate.checked_mul_int(dt as i64).unwrap()
                .div_round(I80F48::from_u64(SECONDS_PER_YEAR), Round::Ceil).unwrap()
                .checked_mul(I80F48::ONE.checked_sub(ppm(rf)).unwrap()).unwrap();
            prop_assert!(growth.to_bits() <= bound.to_bits() + 2);
            prop_assert!(a.deposit_index <= a.borrow_index);
            prop_assert_eq!(a.deposit_interest.checked_add(a.reserve).unwrap(), a.borrow_interest);
            prop_assert!(!a.reserve.is_negative());
        }

        #[test]
        fn accrual_conserves(
            dep in 1u64..1_000_000_000_000,
            bor_frac in 0u64..1_000_000,
            dt in 0u64..(3 * SECONDS_PER_YEAR),
            rf in 0u64..=1_000_000,
            di_extra in 0u64..1_000_000,
            bi_extra in 0u64..1_000_000,
        ) {
            let di = I80F48::ONE.checked_add(I80F48::from_ppm(di_extra)).unwrap();
            let bi = I80F48::ONE.checked_add(I80F48::from_ppm(bi_extra * 3)).unwrap();
            let bor = (dep as u128 * bor_frac as u128 / 1_000_000) as u64;
            let d_sh = I80F48::from_u64(dep).checked_div(di).unwrap();
            let b_sh = I80F48::from_u64(bor).checked_div(bi).unwrap();
            let a = accrue(&curve(), I80F48::from_ppm(rf), di, bi, d_sh, b_sh, dt).unwrap();
            prop_assert!(a.deposit_index >= di);
            prop_assert!(a.borrow_index >= bi);
            prop_assert!(!a.reserve.is_negative());
            prop_assert_eq!(a.deposit_interest.checked_add(a.reserve).unwrap(), a.borrow_interest);
            // depositors' index growth never pays more than (1 - rf) of the borrow interest
            let paid = d_sh.checked_mul(a.deposit_index.checked_sub(di).unwrap()).unwrap();
            let cap = a.borrow_interest.checked_mul(I80F48::ONE.checked_sub(I80F48::from_ppm(rf)).unwrap()).unwrap();
            prop_assert!(paid <= cap);
            // and the borrowers' side really is what the index says
            let owed_before = b_sh.checked_mul(bi).unwrap();
            let owed_after = b_sh.checked_mul(a.borrow_index).unwrap();
            let diff = owed_after.checked_sub(owed_before).unwrap().checked_sub(a.borrow_interest).unwrap();
            prop_assert!(diff.to_bits().abs() <= 2);
        }
    }
}
