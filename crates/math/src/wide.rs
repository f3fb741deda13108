//! Exact wide unsigned arithmetic on 64-bit words, for [`crate::fixed`] and [`crate::oracle`].
//!
//! The upstream SBF (BPF) backend has no 128-bit multiply or divide: LLVM lowers `u128 * u128`,
//! `u128 / u128`, `%`, `i128::checked_mul` and the overflow check of a 64-bit multiply to
//! compiler-rt calls (`__multi3`, `__udivti3`, ...) that it cannot link. Everything here uses
//! only 64-bit multiplies of 32-bit halves (which cannot overflow, so `wrapping_mul`), native
//! 64-bit division, and 128-bit add, subtract, shift by a constant and compare (which LLVM
//! expands inline). Every function is exact: the tests compare each one with native `u128`
//! arithmetic over a million random and extreme inputs.
//!
//! Divisions are Knuth's algorithm D (TAOCP vol. 2, 4.3.1) with 64-bit digits; a 128/64 digit
//! division is itself done in 32-bit halves (Hacker's Delight, `divlu`).

const M32: u64 = 0xffff_ffff;
const B32: u64 = 1 << 32;

/// `(high, low)` words of `x`.
#[inline(always)]
pub(crate) const fn split(x: u128) -> (u64, u64) {
    ((x >> 64) as u64, x as u64)
}

/// `high * 2^64 + low`.
#[inline(always)]
pub(crate) const fn join(hi: u64, lo: u64) -> u128 {
    ((hi as u128) << 64) | lo as u128
}

/// `(hi:lo) << s` truncated to 64 bits of the high word, for `s` in `0..64`: the high word
/// of a two-word left shift (no shift by 64, which would be out of range at `s = 0`). Shift
/// amounts here are always in `0..64`: the wrapping shifts are the plain ones, without the
/// overflow-check branch.
#[inline(always)]
const fn shl_hi(hi: u64, lo: u64, s: u32) -> u64 {
    hi.wrapping_shl(s) | (lo >> 1).wrapping_shr(63 - s)
}

/// Full product `a * b` as `(high, low)` words, from four 32 x 32 -> 64 products. (Written
/// so that LLVM does not recognize it: the textbook `mulhu` form, with the low word as the
/// native product, is folded back into a 128-bit multiply that the SBF backend cannot link.)
#[inline(always)]
pub(crate) const fn mul_64x64(a: u64, b: u64) -> (u64, u64) {
    let (a1, a0) = (a >> 32, a & M32);
    let (b1, b0) = (b >> 32, b & M32);
    let p00 = a0.wrapping_mul(b0);
    let p01 = a0.wrapping_mul(b1);
    let p10 = a1.wrapping_mul(b0);
    let p11 = a1.wrapping_mul(b1);
    // Each term < 2^32, so the column sum < 3 * 2^32.
    let mid = (p00 >> 32).wrapping_add(p01 & M32).wrapping_add(p10 & M32);
    let lo = (mid << 32) | (p00 & M32);
    // The full product < 2^128, so the high word cannot wrap.
    let hi = p11
        .wrapping_add(p01 >> 32)
        .wrapping_add(p10 >> 32)
        .wrapping_add(mid >> 32);
    (hi, lo)
}

/// Full product `a * b` for `a < 2^32` as `(high, low)` words: two native products.
#[inline(always)]
pub(crate) const fn mul_32x64(a: u64, b: u64) -> (u64, u64) {
    let x = a.wrapping_mul(b & M32);
    let y = a.wrapping_mul(b >> 32);
    // a * b = y * 2^32 + x, both products below 2^64
    let (lo, carry) = x.overflowing_add(y << 32);
    ((y >> 32).wrapping_add(carry as u64), lo)
}

/// `a * b` as a u128 (never overflows).
#[inline(always)]
pub(crate) const fn mul_u64_wide(a: u64, b: u64) -> u128 {
    let (hi, lo) = if a >> 32 == 0 {
        mul_32x64(a, b)
    } else if b >> 32 == 0 {
        mul_32x64(b, a)
    } else {
        mul_64x64(a, b)
    };
    join(hi, lo)
}

/// Full product `a * b` of a 128-bit and a 64-bit number, as `(bits 128..192, bits 0..128)`.
#[inline(always)]
pub(crate) fn mul_128x64(a: u128, b: u64) -> (u64, u128) {
    let (a1, a0) = split(a);
    if b >> 32 == 0 {
        // A factor below 2^32 (lots, parts per million, seconds): native products only.
        let (h0, l0) = mul_32x64(b, a0);
        if a1 == 0 {
            return (0, join(h0, l0));
        }
        let (h1, l1) = mul_32x64(b, a1);
        let (w1, carry) = h0.overflowing_add(l1);
        return (h1.wrapping_add(carry as u64), join(w1, l0));
    }
    let (h0, l0) = mul_64x64(a0, b);
    if a1 == 0 {
        return (0, join(h0, l0));
    }
    let (h1, l1) = mul_64x64(a1, b);
    let (w1, carry) = h0.overflowing_add(l1);
    // a * b < 2^192, so the top word cannot wrap.
    (h1.wrapping_add(carry as u64), join(w1, l0))
}

/// Full product `a * b` of two 128-bit numbers as `(high, low)` 128-bit halves.
#[inline]
pub(crate) fn mul_128x128(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = split(a);
    let (b1, b0) = split(b);
    if b1 == 0 {
        let (top, lo) = mul_128x64(a, b0);
        return (top as u128, lo);
    }
    if a1 == 0 {
        let (top, lo) = mul_128x64(b, a0);
        return (top as u128, lo);
    }
    let (h00, l00) = mul_64x64(a0, b0);
    let (h01, l01) = mul_64x64(a0, b1);
    let (h10, l10) = mul_64x64(a1, b0);
    let (h11, l11) = mul_64x64(a1, b1);
    // Column sums of 64-bit words, each < 4 * 2^64: no u128 overflow.
    let w1 = h00 as u128 + l01 as u128 + l10 as u128;
    let w2 = h01 as u128 + h10 as u128 + l11 as u128 + (w1 >> 64);
    // The product < 2^256: the top word cannot wrap.
    let w3 = h11.wrapping_add((w2 >> 64) as u64);
    (join(w3, w2 as u64), join(w1 as u64, l00))
}

/// `(u1:u0) / v` for a normalized `v` (top bit set) and `u1 < v`, so the quotient fits 64
/// bits: `(quotient, remainder)`. Two 64/32 digit steps on native division (`divlu`).
#[inline]
fn div_2by1_norm(u1: u64, u0: u64, v: u64) -> (u64, u64) {
    let (vn1, vn0) = (v >> 32, v & M32);
    let (un1, un0) = (u0 >> 32, u0 & M32);
    // vn1 >= 2^31 (v normalized): the divisions below never divide by zero.
    let mut q1 = u1 / vn1;
    let mut rhat = u1 - q1.wrapping_mul(vn1);
    while q1 >= B32 || q1.wrapping_mul(vn0) > ((rhat << 32) | un1) {
        q1 = q1.wrapping_sub(1);
        rhat = rhat.wrapping_add(vn1);
        if rhat >= B32 {
            break;
        }
    }
    // Exact modulo 2^64: the true value is the partial remainder, < v.
    let un21 = ((u1 << 32) | un1).wrapping_sub(q1.wrapping_mul(v));
    let mut q0 = un21 / vn1;
    let mut rhat = un21 - q0.wrapping_mul(vn1);
    while q0 >= B32 || q0.wrapping_mul(vn0) > ((rhat << 32) | un0) {
        q0 = q0.wrapping_sub(1);
        rhat = rhat.wrapping_add(vn1);
        if rhat >= B32 {
            break;
        }
    }
    let r = ((un21 << 32) | un0).wrapping_sub(q0.wrapping_mul(v));
    ((q1 << 32) | q0, r)
}

/// `(x2:x1:x0) / (d1:d0)` for a normalized divisor (`d1` top bit set) and `(x2:x1) < (d1:d0)`,
/// so the quotient fits 64 bits: `(quotient, remainder)`. One step of algorithm D: the
/// estimate from the top words is at most 2 too large (Knuth's theorem 4.3.1 B), corrected by
/// comparing the product with the dividend. Always inlined: as a call it would pass six
/// registers (SBF allows five).
#[inline(always)]
fn div_3by2_norm(x2: u64, x1: u64, x0: u64, d: u128) -> (u64, u128) {
    let (d1, d0) = split(d);
    let mut q = if x2 >= d1 {
        u64::MAX
    } else {
        div_2by1_norm(x2, x1, d1).0
    };
    // p = q * d as (top word, low 128 bits)
    let (h0, l0) = mul_64x64(q, d0);
    let (h1, l1) = mul_64x64(q, d1);
    let (p1, carry) = l1.overflowing_add(h0);
    let mut p_top = h1.wrapping_add(carry as u64);
    let mut p_lo = join(p1, l0);
    let x_lo = join(x1, x0);
    // At most two rounds (q is at most 2 too large).
    while p_top > x2 || (p_top == x2 && p_lo > x_lo) {
        q = q.wrapping_sub(1);
        let (lo, borrow) = p_lo.overflowing_sub(d);
        p_lo = lo;
        p_top = p_top.wrapping_sub(borrow as u64);
    }
    (q, x_lo.wrapping_sub(p_lo))
}

/// Leading zeros of each byte value (8 for 0).
const NLZ8: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut n = 8;
        let mut v = i;
        while v != 0 {
            n -= 1;
            v >>= 1;
        }
        t[i] = n;
        i += 1;
    }
    t
};

/// Leading zero bits of `x != 0`: three halving steps to the top non-zero byte, then a table.
/// SBF has no count-leading-zeros instruction, and LLVM's expansion (a popcount) costs about
/// 40 instructions.
#[inline(always)]
fn nlz(x: u64) -> u32 {
    let (mut n, mut x) = (0, x);
    if x >> 32 == 0 {
        n = 32;
        x <<= 32;
    }
    if x >> 48 == 0 {
        n += 16;
        x <<= 16;
    }
    if x >> 56 == 0 {
        n += 8;
        x <<= 8;
    }
    n + NLZ8[(x >> 56) as usize] as u32
}

/// `n / d` and `n % d` for `d != 0` (`d == 0` gives `(0, n)`; callers check first).
/// Always inlined (as `div_frac`): a call returns its pair through memory, and the callers'
/// fast paths then fold into it (about 30 CU a division; the harness binary grows from 206 to
/// 287 KB).
#[inline(always)]
pub(crate) fn div_rem_u128(n: u128, d: u128) -> (u128, u128) {
    let (n1, n0) = split(n);
    let (d1, d0) = split(d);
    if d1 == 0 {
        if d0 == 0 {
            return (0, n);
        }
        if n1 == 0 {
            return ((n0 / d0) as u128, (n0 % d0) as u128);
        }
        if d0 >> 32 == 0 {
            // A divisor below 2^32 (10^6, a year in seconds, 10^k for k <= 9): schoolbook
            // long division by 32-bit digits, each step a native 64/64 division whose
            // dividend `r * 2^32 + digit` < d0 * 2^32 fits 64 bits. No normalization.
            let (q1, r) = (n1 / d0, n1 % d0);
            let cur = (r << 32) | (n0 >> 32);
            let (q0h, r) = (cur / d0, cur % d0);
            let cur = (r << 32) | (n0 & M32);
            let (q0l, r) = (cur / d0, cur % d0);
            return (join(q1, (q0h << 32) | q0l), r as u128);
        }
        // First digit natively, then (r1:n0) / d0 with r1 < d0.
        let (q1, r1) = (n1 / d0, n1 % d0);
        let s = nlz(d0);
        let (q0, r) = div_2by1_norm(shl_hi(r1, n0, s), n0.wrapping_shl(s), d0.wrapping_shl(s));
        return (join(q1, q0), r.wrapping_shr(s) as u128);
    }
    if n < d {
        return (0, n);
    }
    // d >= 2^64: the quotient fits 64 bits. Normalize and take one 3-by-2 step.
    let s = nlz(d1);
    let dn = join(shl_hi(d1, d0, s), d0.wrapping_shl(s));
    let x2 = (n1 >> 1).wrapping_shr(63 - s);
    let (q, r) = div_3by2_norm(x2, shl_hi(n1, n0, s), n0.wrapping_shl(s), dn);
    // Undo the normalization of the remainder: r < dn, so r >> s fits.
    let (r1, r0) = split(r);
    let r = if s == 0 {
        r
    } else {
        join(
            r1.wrapping_shr(s),
            r0.wrapping_shr(s) | r1.wrapping_shl(64 - s),
        )
    };
    (q as u128, r)
}

/// `(a << 48) / d`, the fixed-point quotient's integer division, when the quotient fits 128
/// bits: `(quotient, remainder != 0)`; `None` when `d == 0` or it would not fit.
#[inline(always)]
pub(crate) fn div_frac(a: u128, d: u128) -> Option<(u128, bool)> {
    // a << 48 is 176 bits at most: three 64-bit words
    let n2 = (a >> 80) as u64;
    let n1 = (a >> 16) as u64;
    let n0 = (a << 48) as u64;
    div_192_by_128(n2, n1, n0, d)
}

/// `(n2:n1:n0) / d` (a 192-bit dividend) when the quotient fits 128 bits, as
/// `(quotient, remainder != 0)`; `None` when `d == 0` or the quotient would not fit
/// (`n2 >= d`). Always inlined (six registers as a call).
#[inline(always)]
pub(crate) fn div_192_by_128(n2: u64, n1: u64, n0: u64, d: u128) -> Option<(u128, bool)> {
    if d == 0 || (n2 as u128) >= d {
        return None;
    }
    if n2 == 0 {
        let (q, r) = div_rem_u128(join(n1, n0), d);
        return Some((q, r != 0));
    }
    let (d1, d0) = split(d);
    if d1 == 0 {
        // One-word divisor (n2 < d0): two 2-by-1 steps on the normalized words.
        let s = nlz(d0);
        let v = d0.wrapping_shl(s);
        let (q1, r) = div_2by1_norm(shl_hi(n2, n1, s), shl_hi(n1, n0, s), v);
        let (q0, r) = div_2by1_norm(r, n0.wrapping_shl(s), v);
        return Some((join(q1, q0), r != 0));
    }
    // Two-word divisor: two 3-by-2 steps (n2 < 2^64 <= d, so the first step's top words are
    // below the normalized divisor).
    let s = nlz(d1);
    let dn = join(shl_hi(d1, d0, s), d0.wrapping_shl(s));
    let u3 = (n2 >> 1).wrapping_shr(63 - s);
    let (u2, u1) = (shl_hi(n2, n1, s), shl_hi(n1, n0, s));
    // The high quotient word is zero when the top 192 bits are below the divisor (a
    // quotient below 2^64, the common case): skip that step.
    let (q1, r) = if u3 == 0 && join(u2, u1) < dn {
        (0, join(u2, u1))
    } else {
        div_3by2_norm(u3, u2, u1, dn)
    };
    let (r1, r0) = split(r);
    let (q0, r) = div_3by2_norm(r1, r0, n0.wrapping_shl(s), dn);
    Some((join(q1, q0), r != 0))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::println;

    /// SplitMix64: a small, fast, seeded generator for the exhaustive-by-volume tests.
    pub(crate) struct Rng(pub u64);
    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        pub(crate) fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        /// A u128 with a random bit length (so small, middle and huge values are all common),
        /// one time in eight an extreme (0, 1, 2^k, 2^k - 1, MAX).
        pub(crate) fn u128(&mut self) -> u128 {
            if self.below(8) == 0 {
                let k = self.below(129) as u32;
                return match self.below(4) {
                    0 => 0,
                    1 => 1,
                    2 if k < 128 => 1u128 << k,
                    _ => {
                        if k == 128 {
                            u128::MAX
                        } else {
                            (1u128 << k) - 1
                        }
                    }
                };
            }
            let bits = self.below(129) as u32;
            let v = join(self.next(), self.next());
            if bits == 0 {
                0
            } else {
                v >> (128 - bits)
            }
        }
        pub(crate) fn u64(&mut self) -> u64 {
            let (_, lo) = split(self.u128() >> (self.below(2) * 64));
            lo
        }
        /// An i128 from [`Self::u128`] with a random sign; sometimes MIN / MIN + 1.
        pub(crate) fn i128(&mut self) -> i128 {
            if self.below(64) == 0 {
                return [i128::MIN, i128::MIN + 1, i128::MAX, -1][self.below(4) as usize];
            }
            let m = (self.u128() >> 1) as i128;
            if self.below(2) == 0 {
                m
            } else {
                -m
            }
        }
        pub(crate) fn i64(&mut self) -> i64 {
            if self.below(32) == 0 {
                return [i64::MIN, i64::MIN + 1, i64::MAX, -1, 0, 1][self.below(6) as usize];
            }
            let m = (self.u64() >> 1) as i64;
            if self.below(2) == 0 {
                m
            } else {
                -m
            }
        }
    }

    /// Cases for the bit-identity tests: `CARRY_MATH_CASES` (default 1,000,000) and the seed
    /// `CARRY_MATH_SEED` (default fixed), both printed so a failure can be replayed.
    pub(crate) fn cases(name: &str) -> (u64, Rng) {
        let n = std::env::var("CARRY_MATH_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        let seed = std::env::var("CARRY_MATH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0xC0FF_EECA_2270_u64);
        println!("{name}: {n} cases, seed {seed}");
        (n, Rng(seed))
    }

    /// 256-bit reference product by schoolbook on u128 halves of 64 bits.
    fn ref_mul(a: u128, b: u128) -> (u128, u128) {
        let (a1, a0) = split(a);
        let (b1, b0) = split(b);
        let p00 = a0 as u128 * b0 as u128;
        let p01 = a0 as u128 * b1 as u128;
        let p10 = a1 as u128 * b0 as u128;
        let p11 = a1 as u128 * b1 as u128;
        let (mid, c1) = p01.overflowing_add(p10);
        let (mid, c2) = mid.overflowing_add(p00 >> 64);
        let lo = (mid << 64) | (p00 & u64::MAX as u128);
        let hi = p11 + (mid >> 64) + (((c1 as u128) + (c2 as u128)) << 64);
        (hi, lo)
    }

    #[test]
    fn products_are_exact() {
        let (n, mut rng) = cases("wide products");
        for _ in 0..n {
            let (a, b) = (rng.u64(), rng.u64());
            assert_eq!(mul_u64_wide(a, b), a as u128 * b as u128, "{a} * {b}");
            let (a, b) = (rng.u128(), rng.u128());
            assert_eq!(mul_128x128(a, b), ref_mul(a, b), "{a} * {b}");
            let c = rng.u64();
            let (top, lo) = mul_128x64(a, c);
            assert_eq!((top as u128, lo), ref_mul(a, c as u128), "{a} * {c}");
        }
        assert_eq!(mul_64x64(u64::MAX, u64::MAX), (u64::MAX - 1, 1));
        assert_eq!(
            mul_128x128(u128::MAX, u128::MAX),
            (u128::MAX - 1, 1),
            "(2^128 - 1)^2"
        );
    }

    #[test]
    fn nlz_is_leading_zeros() {
        let (n, mut rng) = cases("nlz");
        for _ in 0..n / 8 {
            let x = rng.u64() | 1 << rng.below(64);
            assert_eq!(nlz(x), x.leading_zeros(), "{x}");
        }
        for k in 0..64 {
            assert_eq!(nlz(1 << k), 63 - k);
            assert_eq!(nlz(u64::MAX >> k), k);
        }
    }

    #[test]
    fn narrow_products_are_exact() {
        let (n, mut rng) = cases("mul_32x64");
        for _ in 0..n {
            let (a, b) = (rng.u64() >> 32, rng.u64());
            assert_eq!(
                join_pair(mul_32x64(a, b)),
                a as u128 * b as u128,
                "{a} * {b}"
            );
        }
        assert_eq!(
            join_pair(mul_32x64(u32::MAX as u64, u64::MAX)),
            u32::MAX as u128 * u64::MAX as u128
        );
    }

    fn join_pair((h, l): (u64, u64)) -> u128 {
        join(h, l)
    }

    #[test]
    fn divisions_are_exact() {
        let (n, mut rng) = cases("wide divisions");
        for i in 0..n {
            let a = rng.u128();
            let mut d = rng.u128();
            if d == 0 {
                d = 1 + (i as u128 & 7);
            }
            assert_eq!(div_rem_u128(a, d), (a / d, a % d), "{a} / {d}");
            // A 192-bit dividend built as q * d + r, so the expected quotient is known.
            let q = rng.u128();
            let r = rng.u128() % d;
            let (hi, lo) = ref_mul(q, d);
            let (lo, c) = lo.overflowing_add(r);
            let hi = hi + c as u128;
            if hi >> 64 == 0 {
                let (n1, n0) = split(lo);
                let got = div_192_by_128(hi as u64, n1, n0, d);
                if hi < d {
                    assert_eq!(got, Some((q, r != 0)), "({hi}:{lo}) / {d}");
                } else {
                    assert_eq!(got, None, "({hi}:{lo}) / {d}");
                }
            }
        }
        assert_eq!(div_rem_u128(u128::MAX, u128::MAX), (1, 0));
        assert_eq!(div_rem_u128(u128::MAX, 1), (u128::MAX, 0));
        assert_eq!(div_rem_u128(u128::MAX, 1 << 127), (1, (1 << 127) - 1));
        assert_eq!(div_rem_u128(5, 0), (0, 5));
        assert_eq!(div_192_by_128(0, 0, 5, 0), None);
        assert_eq!(div_192_by_128(1, 0, 0, 1), None);
        assert_eq!(
            div_192_by_128(u64::MAX - 1, u64::MAX, u64::MAX, u64::MAX as u128),
            Some((u128::MAX, true))
        );
    }
}
