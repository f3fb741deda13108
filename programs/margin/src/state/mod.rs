//! Zero-copy accounts. Layouts are `#[repr(C)]`, Pod, align <= 8 and checked by const
//! asserts; no `i128` fields (fixed point is stored as [`FixedBytes`]).

pub mod bank;
pub mod exchange;
pub mod margin_account;
pub mod perp_market;

pub use bank::*;
pub use exchange::*;
pub use margin_account::*;
pub use perp_market::*;

use anchor_lang::prelude::*;
use carry_math::I80F48;

/// Storage of an `I80F48` (signed 80.48 fixed point): the `i128` bits as two little-endian
/// `u64` words, low word first. Same layout as `carry_math::I80F48Bytes`.
#[zero_copy]
#[derive(Default, Debug, PartialEq, Eq)]
pub struct FixedBytes {
    /// `[low, high]` words of the two's-complement `i128` bits.
    pub words: [u64; 2],
}

const _: () = assert!(core::mem::size_of::<FixedBytes>() == 16);
const _: () = assert!(core::mem::align_of::<FixedBytes>() == 8);
const _: () =
    assert!(core::mem::size_of::<FixedBytes>() == core::mem::size_of::<carry_math::I80F48Bytes>());

impl FixedBytes {
    /// Decode.
    pub fn get(&self) -> I80F48 {
        I80F48::from_words(self.words)
    }
    /// Encode.
    pub fn set(&mut self, v: I80F48) {
        self.words = v.to_words();
    }
    /// Encode a value.
    pub fn from_fixed(v: I80F48) -> Self {
        Self {
            words: v.to_words(),
        }
    }
}
