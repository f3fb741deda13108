//! Integer helpers that compile to real SBF with the upstream BPF backend: no 128-bit
//! multiply, which `u64::checked_mul` lowers to.

/// `a * b`, or `None` on overflow, from 32-bit halves.
#[inline(always)]
pub fn mul_checked(a: u64, b: u64) -> Option<u64> {
    let (a_hi, a_lo, b_hi, b_lo) = (a >> 32, a & 0xffff_ffff, b >> 32, b & 0xffff_ffff);
    if a_hi != 0 && b_hi != 0 {
        return None;
    }
    // One of the two cross terms is zero, and each is below 2^64.
    let cross = a_hi * b_lo + a_lo * b_hi;
    if cross >> 32 != 0 {
        return None;
    }
    (a_lo * b_lo).checked_add(cross << 32)
}

/// `base + offset` for a signed offset, or `None` when the result leaves `1..=u64::MAX`.
#[inline(always)]
pub fn add_signed(base: u64, offset: i64) -> Option<u64> {
    let r = if offset >= 0 {
        base.checked_add(offset as u64)
    } else {
        base.checked_sub(offset.unsigned_abs())
    };
    r.filter(|p| *p > 0)
}

#[inline(always)]
fn word(k: &[u8; 32], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&k[i * 8..i * 8 + 8]);
    u64::from_ne_bytes(w)
}

/// `a == b` for 32-byte keys (owners), as four word compares. `[u8; 32] ==` becomes a `memcmp`
/// call on SBF (a syscall of at least 10 CU plus its setup); keys here sit 8-byte aligned in
/// orders and instructions, so the words load whole.
#[inline(always)]
pub(crate) fn same_key(a: &[u8; 32], b: &[u8; 32]) -> bool {
    (word(a, 0) ^ word(b, 0))
        | (word(a, 1) ^ word(b, 1))
        | (word(a, 2) ^ word(b, 2))
        | (word(a, 3) ^ word(b, 3))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn mul_matches_checked_mul(a: u64, b: u64) {
            prop_assert_eq!(mul_checked(a, b), a.checked_mul(b));
        }
        #[test]
        fn mul_matches_small(a in 0u64..1 << 40, b in 0u64..1 << 30) {
            prop_assert_eq!(mul_checked(a, b), a.checked_mul(b));
        }
    }

    #[test]
    fn add_signed_bounds() {
        assert_eq!(add_signed(10, -3), Some(7));
        assert_eq!(add_signed(10, -10), None);
        assert_eq!(add_signed(u64::MAX, 1), None);
        assert_eq!(add_signed(1, i64::MIN), None);
    }

    #[test]
    fn same_key_is_byte_equality() {
        let a: [u8; 32] = core::array::from_fn(|i| (i * 37 + 11) as u8);
        assert!(same_key(&a, &a));
        for i in 0..32 {
            for bit in [0, 3, 7] {
                let mut b = a;
                b[i] ^= 1 << bit;
                assert!(!same_key(&a, &b), "byte {i} bit {bit}");
                assert!(!same_key(&b, &a), "byte {i} bit {bit}");
            }
        }
        assert!(same_key(&[0; 32], &[0; 32]));
        assert!(!same_key(&[0; 32], &[0xFF; 32]));
    }
}
