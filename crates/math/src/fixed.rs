//! Signed 80.48 fixed point (`I80F48`) over `i128`, with directed rounding.
//!
//! Every operation is checked and returns `None` on overflow or division by zero; nothing
//! panics. Products and quotients are computed exactly on 64-bit words ([`crate::wide`]), never
//! with a 128-bit multiply or divide, so the crate links on the upstream SBF backend; they are
//! bit-identical to the former `i128` implementation (tests against it in `reference.rs`). Multiplication and division take an explicit [`Round`] mode so that callers can
//! round in the protocol's favour (deposits and payouts down, borrows and fees up).
//! The default `checked_mul` / `checked_div` round toward negative infinity (floor).

use crate::wide::{
    div_frac, div_rem_u128, join, mul_128x128, mul_128x64, mul_32x64, mul_64x64, mul_u64_wide,
    split,
};
use core::fmt;

/// Rounding direction for multiplication, division and conversion to integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// Toward negative infinity.
    Floor,
    /// Toward positive infinity.
    Ceil,
}

/// Signed fixed point number with 48 fractional bits: `value = bits / 2^48`.
/// Range about +-6.0e23, resolution 2^-48 (about 3.55e-15).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct I80F48(i128);

const FRAC: u32 = 48;
const FRAC_MASK: u128 = (1u128 << FRAC) - 1;

/// `(a * b) >> 48` for magnitudes `a`, `b` and whether bits were dropped; `None` when the
/// product reaches 2^176 (the result would exceed 128 bits).
#[inline(always)]
fn mul_mag(a: u128, b: u128) -> Option<(u128, bool)> {
    let frac = FRAC_MASK as u64;
    if (a | b) >> 64 == 0 {
        // Both below 2^64 (values below 65,536): one 64 x 64 product, result below 2^80;
        // native multiplies only when one is below 2^32 (a growth factor, a small rate).
        let (a, b) = (a as u64, b as u64);
        let (h, l) = if a >> 32 == 0 {
            mul_32x64(a, b)
        } else if b >> 32 == 0 {
            mul_32x64(b, a)
        } else {
            mul_64x64(a, b)
        };
        return Some((
            join(h >> FRAC, (h << (64 - FRAC)) | (l >> FRAC)),
            l & frac != 0,
        ));
    }
    let (a, b) = if b >> 64 == 0 { (a, b) } else { (b, a) };
    if b >> 64 == 0 {
        // One operand below 2^64 (a price, a weight, an index): two 64 x 64 products, shifted
        // by 48 on 64-bit words. The product's bits 176.. must be zero.
        let (a1, a0) = split(a);
        let (h0, l0) = mul_64x64(a0, b as u64);
        // the high word is usually small (values below 2^48): two native products suffice
        let (h1, l1) = if a1 >> 32 == 0 {
            mul_32x64(a1, b as u64)
        } else {
            mul_64x64(a1, b as u64)
        };
        let (w1, carry) = h0.overflowing_add(l1);
        let w2 = h1.wrapping_add(carry as u64);
        if w2 >> FRAC != 0 {
            return None;
        }
        let m1 = (w2 << (64 - FRAC)) | (w1 >> FRAC);
        let m0 = (w1 << (64 - FRAC)) | (l0 >> FRAC);
        return Some((join(m1, m0), l0 & frac != 0));
    }
    let (hi, lo) = mul_128x128(a, b);
    if hi >> FRAC != 0 {
        return None;
    }
    Some(((hi << (128 - FRAC)) | (lo >> FRAC), lo & FRAC_MASK != 0))
}

/// `(a << 48) / d` for magnitudes `a`, `d != 0` and whether a remainder was left; `None` when
/// the quotient does not fit 128 bits.
#[inline(always)]
fn div_mag(a: u128, d: u128) -> Option<(u128, bool)> {
    if d & FRAC_MASK == 0 {
        // An integer divisor (a count, seconds, 10^k, parts per million...):
        // (a << 48) / (k << 48) = a / k exactly, with the same remainder test.
        let (q, r) = div_rem_u128(a, d >> FRAC);
        return Some((q, r != 0));
    }
    div_frac(a, d)
}

/// Whether a truncated magnitude moves up by one: inexact and rounding away from zero.
#[inline(always)]
fn bump(inexact: bool, negative: bool, round: Round) -> bool {
    inexact
        && match round {
            Round::Floor => negative,
            Round::Ceil => !negative,
        }
}

/// Apply sign and rounding to a truncated magnitude with a nonzero-remainder flag.
#[inline(always)]
fn signed_rounded(mag: u128, inexact: bool, negative: bool, round: Round) -> Option<i128> {
    let mag = if bump(inexact, negative, round) {
        mag.checked_add(1)?
    } else {
        mag
    };
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

impl I80F48 {
    /// Number of fractional bits.
    pub const FRAC_BITS: u32 = FRAC;
    /// 0.
    pub const ZERO: Self = Self(0);
    /// 1.
    pub const ONE: Self = Self(1 << FRAC);
    /// Largest value.
    pub const MAX: Self = Self(i128::MAX);
    /// Smallest value.
    pub const MIN: Self = Self(i128::MIN);
    /// Smallest positive value, 2^-48.
    pub const DELTA: Self = Self(1);

    /// From raw bits (`value = bits / 2^48`).
    pub const fn from_bits(bits: i128) -> Self {
        Self(bits)
    }
    /// Raw bits.
    pub const fn to_bits(self) -> i128 {
        self.0
    }
    /// From an `i64`; always exact.
    pub const fn from_i64(v: i64) -> Self {
        Self((v as i128) << FRAC)
    }
    /// From a `u64`; always exact.
    pub const fn from_u64(v: u64) -> Self {
        Self((v as i128) << FRAC)
    }
    /// From an `i128` integer; `None` when out of range.
    pub fn checked_from_i128(v: i128) -> Option<Self> {
        if !((i128::MIN >> FRAC)..=(i128::MAX >> FRAC)).contains(&v) {
            None
        } else {
            Some(Self(v << FRAC))
        }
    }
    /// `num / den` rounded as asked; `None` on zero denominator or overflow.
    pub fn from_ratio(num: i128, den: i128, round: Round) -> Option<Self> {
        Self::checked_from_i128(num)?.div_round(Self::checked_from_i128(den)?, round)
    }
    /// Parts per million to fixed point, rounded down (`ppm / 1_000_000`).
    pub fn from_ppm(ppm: u64) -> Self {
        if ppm < 1 << 22 {
            // ppm * 2^48 / 10^6 = ppm * 2^42 / 15_625 exactly, and ppm << 42 fits u64: one
            // native division (every weight and rate parameter is below 2^22 ppm).
            return Self(((ppm << 42) / 15_625) as i128);
        }
        // ppm < 2^64, so ppm << 48 < 2^112 and the quotient fits i128.
        Self(div_rem_u128((ppm as u128) << FRAC, 1_000_000).0 as i128)
    }

    /// True when < 0.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }
    /// True when > 0.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }
    /// True when == 0.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Checked addition.
    pub fn checked_add(self, rhs: Self) -> Option<Self> {
        self.0.checked_add(rhs.0).map(Self)
    }
    /// Checked subtraction.
    pub fn checked_sub(self, rhs: Self) -> Option<Self> {
        self.0.checked_sub(rhs.0).map(Self)
    }
    /// Checked negation.
    pub fn checked_neg(self) -> Option<Self> {
        self.0.checked_neg().map(Self)
    }
    /// Checked absolute value.
    pub fn checked_abs(self) -> Option<Self> {
        self.0.checked_abs().map(Self)
    }
    /// Smaller of two.
    pub fn min(self, rhs: Self) -> Self {
        if self <= rhs {
            self
        } else {
            rhs
        }
    }
    /// Larger of two.
    pub fn max(self, rhs: Self) -> Self {
        if self >= rhs {
            self
        } else {
            rhs
        }
    }

    /// Product rounded as asked.
    // Inlined: a call with two i128 operands, the rounding mode and the hidden return pointer
    // would pass six registers, one more than SBF allows (the wide product below passes five).
    #[inline(always)]
    pub fn mul_round(self, rhs: Self, round: Round) -> Option<Self> {
        if (self.0 | rhs.0) >= 0 {
            // Both non-negative (prices, weights, indices, deposits): no sign to take off and
            // put back.
            let (mag, inexact) = mul_mag(self.0 as u128, rhs.0 as u128)?;
            return signed_rounded(mag, inexact, false, round).map(Self);
        }
        let negative = (self.0 < 0) != (rhs.0 < 0);
        let (mag, inexact) = mul_mag(self.0.unsigned_abs(), rhs.0.unsigned_abs())?;
        signed_rounded(mag, inexact, negative, round).map(Self)
    }
    /// Quotient rounded as asked; `None` when dividing by zero or on overflow.
    // Inlined for the same reason as `mul_round`.
    #[inline(always)]
    pub fn div_round(self, rhs: Self, round: Round) -> Option<Self> {
        if rhs.0 == 0 {
            return None;
        }
        if (self.0 | rhs.0) >= 0 {
            let (q, inexact) = div_mag(self.0 as u128, rhs.0 as u128)?;
            return signed_rounded(q, inexact, false, round).map(Self);
        }
        let negative = (self.0 < 0) != (rhs.0 < 0);
        let (q, inexact) = div_mag(self.0.unsigned_abs(), rhs.0.unsigned_abs())?;
        signed_rounded(q, inexact, negative, round).map(Self)
    }
    /// Product rounded down (toward negative infinity).
    pub fn checked_mul(self, rhs: Self) -> Option<Self> {
        self.mul_round(rhs, Round::Floor)
    }
    /// Quotient rounded down (toward negative infinity).
    pub fn checked_div(self, rhs: Self) -> Option<Self> {
        self.div_round(rhs, Round::Floor)
    }
    /// Product with an integer, exact or `None`.
    pub fn checked_mul_int(self, rhs: i64) -> Option<Self> {
        // Same result as `i128::checked_mul`: the exact product if it fits, else `None`.
        if self.0 >= 0 && rhs >= 0 {
            let (top, mag) = mul_128x64(self.0 as u128, rhs as u64);
            return if top == 0 && mag >> 127 == 0 {
                Some(Self(mag as i128))
            } else {
                None
            };
        }
        let negative = (self.0 < 0) != (rhs < 0);
        let (top, mag) = mul_128x64(self.0.unsigned_abs(), rhs.unsigned_abs());
        if top != 0 {
            return None;
        }
        signed_rounded(mag, false, negative, Round::Floor).map(Self)
    }

    /// Largest integer <= self, as `i128`.
    pub const fn floor_int(self) -> i128 {
        self.0 >> FRAC
    }
    /// Smallest integer >= self, as `i128`.
    pub const fn ceil_int(self) -> i128 {
        let f = self.0 >> FRAC;
        if self.0 & (FRAC_MASK as i128) != 0 {
            f + 1
        } else {
            f
        }
    }
    /// Round to an integer in the given direction.
    pub const fn round_int(self, round: Round) -> i128 {
        match round {
            Round::Floor => self.floor_int(),
            Round::Ceil => self.ceil_int(),
        }
    }
    /// Round to `u64`, `None` when negative or too large.
    pub fn to_u64(self, round: Round) -> Option<u64> {
        u64::try_from(self.round_int(round)).ok()
    }
    /// Round to `i64`, `None` when out of range.
    pub fn to_i64(self, round: Round) -> Option<i64> {
        i64::try_from(self.round_int(round)).ok()
    }
    /// Fractional part, in [0, 1).
    pub const fn frac(self) -> Self {
        Self(self.0 & (FRAC_MASK as i128))
    }
}

impl fmt::Debug for I80F48 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // integer part and 12 decimals of the fraction, without floats
        let neg = self.0 < 0;
        let mag = self.0.unsigned_abs();
        let int = mag >> FRAC;
        // < 2^48 * 10^12 < 2^88: one 64 x 64 product
        let frac = mul_u64_wide((mag & FRAC_MASK) as u64, 1_000_000_000_000) >> FRAC;
        write!(f, "{}{}.{:012}", if neg { "-" } else { "" }, int, frac)
    }
}
impl fmt::Display for I80F48 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Storage form of [`I80F48`] for zero-copy accounts: two little-endian `u64` words
/// (low word first), alignment 8 on every target (unlike `i128`, which is 16 on x86-64
/// and 8 on SBF).
#[repr(C)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug, bytemuck::Pod, bytemuck::Zeroable)]
pub struct I80F48Bytes(pub [u64; 2]);

const _: () = assert!(core::mem::size_of::<I80F48Bytes>() == 16);
const _: () = assert!(core::mem::align_of::<I80F48Bytes>() == 8);

impl From<I80F48> for I80F48Bytes {
    fn from(v: I80F48) -> Self {
        let b = v.0 as u128;
        Self([b as u64, (b >> 64) as u64])
    }
}
impl From<I80F48Bytes> for I80F48 {
    fn from(v: I80F48Bytes) -> Self {
        I80F48(((v.0[0] as u128) | ((v.0[1] as u128) << 64)) as i128)
    }
}
impl I80F48 {
    /// Storage words (low, high), as in [`I80F48Bytes`].
    pub fn to_words(self) -> [u64; 2] {
        I80F48Bytes::from(self).0
    }
    /// From storage words (low, high).
    pub fn from_words(w: [u64; 2]) -> Self {
        I80F48Bytes(w).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(v: i64) -> I80F48 {
        I80F48::from_i64(v)
    }

    #[test]
    fn basics() {
        assert_eq!(f(3).checked_mul(f(4)), Some(f(12)));
        assert_eq!(f(12).checked_div(f(4)), Some(f(3)));
        assert_eq!(f(-7).checked_div(f(2)).unwrap().floor_int(), -4);
        assert_eq!(f(-7).div_round(f(2), Round::Ceil).unwrap().ceil_int(), -3);
        let third = f(1).checked_div(f(3)).unwrap();
        let third_up = f(1).div_round(f(3), Round::Ceil).unwrap();
        assert_eq!(third_up.to_bits() - third.to_bits(), 1);
        assert_eq!(f(1).checked_div(I80F48::ZERO), None);
        assert_eq!(I80F48::MAX.checked_mul(f(2)), None);
        assert_eq!(I80F48::MIN.checked_neg(), None);
        assert_eq!(I80F48::from_ppm(250_000), f(1).checked_div(f(4)).unwrap());
        assert_eq!(
            I80F48::from_bits(-1).to_words(),
            [u64::MAX, u64::MAX],
            "two's complement words"
        );
        let x = I80F48::from_bits(-123456789012345678901234567);
        assert_eq!(I80F48::from_words(x.to_words()), x);
        assert_eq!(f(5).to_u64(Round::Floor), Some(5));
        assert_eq!(f(-1).to_u64(Round::Floor), None);
        assert_eq!(I80F48::from_bits(1).ceil_int(), 1);
        assert_eq!(I80F48::from_bits(-1).floor_int(), -1);
        assert_eq!(I80F48::from_bits(-1).ceil_int(), 0);
    }

    #[test]
    fn wide_values() {
        // 1e18 * 1e5 = 1e23 fits (max ~6e23); needs the 256-bit path.
        let a = I80F48::from_u64(1_000_000_000_000_000_000);
        let b = f(100_000);
        let p = a.checked_mul(b).unwrap();
        assert_eq!(p.floor_int(), 100_000_000_000_000_000_000_000);
        assert_eq!(p.checked_div(b).unwrap(), a);
        assert_eq!(p.checked_div(a).unwrap(), b);
        assert_eq!(a.checked_mul(a), None);
    }

    proptest! {
        #[test]
        fn mul_matches_reference(a in -(1i128 << 60)..(1i128 << 60), b in -(1i128 << 40)..(1i128 << 40), k in 0u32..27) {
            // x_bits = a << k (up to 2^87: the 256-bit path), y_bits = b;
            // exact product bits = (a * b << k) / 2^48, which fits i128 here.
            let x = I80F48::from_bits(a << k);
            let y = I80F48::from_bits(b);
            let exact = (a * b) << k;
            let floor = exact >> 48;
            let ceil = -((-exact) >> 48);
            prop_assert_eq!(x.mul_round(y, Round::Floor).unwrap().to_bits(), floor);
            prop_assert_eq!(x.mul_round(y, Round::Ceil).unwrap().to_bits(), ceil);
            prop_assert_eq!(y.mul_round(x, Round::Floor).unwrap().to_bits(), floor);
            prop_assert_eq!(y.mul_round(x, Round::Ceil).unwrap().to_bits(), ceil);
        }

        #[test]
        fn div_matches_reference(n in -(1i128 << 70)..(1i128 << 70), d in 1i64..i64::MAX, neg in any::<bool>()) {
            // (n_bits << 48) / (d << 48) = n_bits / d exactly as integer division of bits.
            let d = if neg { -d } else { d };
            let x = I80F48::from_bits(n);
            let y = I80F48::from_i64(d);
            let q = n.div_euclid(d as i128);
            let (floor, ceil) = if d > 0 {
                (q, if n.rem_euclid(d as i128) == 0 { q } else { q + 1 })
            } else {
                // n / negative d: floor = -ceil(n / |d|)
                let ad = -(d as i128);
                let qf = n.div_euclid(ad);
                let qc = if n.rem_euclid(ad) == 0 { qf } else { qf + 1 };
                (-qc, -qf)
            };
            prop_assert_eq!(x.div_round(y, Round::Floor).unwrap().to_bits(), floor);
            prop_assert_eq!(x.div_round(y, Round::Ceil).unwrap().to_bits(), ceil);
        }

        #[test]
        fn div_then_mul_brackets(n in 0u64..u64::MAX, d in 1u64..u64::MAX) {
            // floor(n/d)*d <= n <= ceil(n/d)*d in fixed point
            let n = I80F48::from_u64(n);
            let d = I80F48::from_u64(d);
            let qf = n.div_round(d, Round::Floor).unwrap();
            let qc = n.div_round(d, Round::Ceil).unwrap();
            prop_assert!(qf.mul_round(d, Round::Floor).unwrap() <= n);
            prop_assert!(qc.mul_round(d, Round::Ceil).unwrap() >= n);
            prop_assert!(qc.to_bits() - qf.to_bits() <= 1);
        }

        #[test]
        fn words_roundtrip(bits in any::<i128>()) {
            let x = I80F48::from_bits(bits);
            prop_assert_eq!(I80F48::from_words(x.to_words()), x);
        }

        #[test]
        fn small_mul_exact(a in -1_000_000i64..1_000_000, b in -1_000_000i64..1_000_000) {
            prop_assert_eq!(f(a).checked_mul(f(b)), Some(f(a * b)));
            if b != 0 && a % b == 0 {
                prop_assert_eq!(f(a).checked_div(f(b)), Some(f(a / b)));
            }
        }
    }
}
