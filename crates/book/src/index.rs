//! The book's hash index (open addressing, linear probing, backward-shift deletion) and the
//! per-owner order lists it anchors.
//!
//! Two kinds of entry share one table: `(owner, client_order_id)` -> order, for cancel by
//! client id, and `(owner, HEAD)` -> the first order of the owner's doubly linked list of
//! resting orders (through `Order::owner_prev/owner_next`), for cancel-all. An entry is
//! `handle + 1`, with [`HEAD_FLAG`] for head entries; 0 is empty. A handle is
//! `side << 30 | slot`. The table has at least 8 entries per order slot of each side (at most
//! 4 in use), so probes stay short and it never fills.

use crate::book::Book;
use crate::error::BookError;
use crate::layout::{Order, NIL};

const HEAD_FLAG: u32 = 1 << 31;

/// Handle of `slot` on `side` (0 bid, 1 ask), as stored in owner links and the index.
#[inline(always)]
pub(crate) fn handle(side: usize, slot: u32) -> u32 {
    ((side as u32) << 30) | slot
}

#[inline(always)]
pub(crate) fn split_handle(h: u32) -> (usize, u32) {
    ((h >> 30) as usize & 1, h & ((1 << 30) - 1))
}

/// `a == b` for 32-byte keys, as four word compares. `[u8; 32] ==` becomes a `memcmp` call on
/// SBF (a syscall of at least 10 CU plus its setup); keys here sit 8-byte aligned in orders and
/// instructions, so the words load whole.
#[inline(always)]
pub(crate) fn same_key(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let word = |k: &[u8; 32], i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&k[i * 8..i * 8 + 8]);
        u64::from_ne_bytes(w)
    };
    (word(a, 0) ^ word(b, 0))
        | (word(a, 1) ^ word(b, 1))
        | (word(a, 2) ^ word(b, 2))
        | (word(a, 3) ^ word(b, 3))
        == 0
}

#[inline(always)]
fn hash(owner: &[u8; 32], client_order_id: u64, mask: usize) -> usize {
    let mut w = [0u8; 8];
    w.copy_from_slice(&owner[..8]);
    let a = u64::from_le_bytes(w);
    w.copy_from_slice(&owner[24..]);
    let b = u64::from_le_bytes(w);
    let h = (a ^ b.rotate_left(29) ^ client_order_id.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (h >> 32) as usize & mask
}

impl Book<'_> {
    #[inline(always)]
    pub(crate) fn order_at(&self, h: u32) -> Result<&Order, BookError> {
        let (side, slot) = split_handle(h);
        self.orders[side]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)
    }

    #[inline(always)]
    pub(crate) fn order_at_mut(&mut self, h: u32) -> Result<&mut Order, BookError> {
        let (side, slot) = split_handle(h);
        self.orders[side]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)
    }

    /// Finds the entry for `(owner, client_order_id)`, or the owner's head entry when
    /// `client_order_id` is 0. Returns its table position and order handle.
    #[inline(always)]
    pub(crate) fn index_find(
        &self,
        owner: &[u8; 32],
        client_order_id: u64,
    ) -> Result<Option<(usize, u32)>, BookError> {
        let mask = self.index.len() - 1;
        let want_head = client_order_id == 0;
        let mut pos = hash(owner, client_order_id, mask);
        for _ in 0..self.index.len() {
            let e = self.index[pos];
            if e == 0 {
                return Ok(None);
            }
            if (e & HEAD_FLAG != 0) == want_head {
                let h = (e & !HEAD_FLAG) - 1;
                let o = self.order_at(h)?;
                if same_key(&o.owner, owner) && (want_head || o.client_order_id == client_order_id)
                {
                    return Ok(Some((pos, h)));
                }
            }
            pos = (pos + 1) & mask;
        }
        Ok(None)
    }

    fn index_insert(
        &mut self,
        owner: &[u8; 32],
        client_order_id: u64,
        h: u32,
    ) -> Result<(), BookError> {
        let mask = self.index.len() - 1;
        let mut pos = hash(owner, client_order_id, mask);
        let entry = (h + 1) | if client_order_id == 0 { HEAD_FLAG } else { 0 };
        for _ in 0..self.index.len() {
            if self.index[pos] == 0 {
                self.index[pos] = entry;
                return Ok(());
            }
            pos = (pos + 1) & mask;
        }
        Err(BookError::Corrupt)
    }

    fn index_remove_at(&mut self, pos: usize) -> Result<(), BookError> {
        let mask = self.index.len() - 1;
        let mut hole = pos;
        self.index[hole] = 0;
        let mut j = pos;
        for _ in 0..self.index.len() {
            j = (j + 1) & mask;
            let e = self.index[j];
            if e == 0 {
                return Ok(());
            }
            let o = self.order_at((e & !HEAD_FLAG) - 1)?;
            let cid = if e & HEAD_FLAG != 0 {
                0
            } else {
                o.client_order_id
            };
            let ideal = hash(&o.owner, cid, mask);
            // Move the entry back into the hole unless its ideal slot lies after the hole.
            if (j.wrapping_sub(ideal) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.index[hole] = e;
                self.index[j] = 0;
                hole = j;
            }
        }
        Err(BookError::Corrupt)
    }

    /// Links a freshly written order into its owner's list and its client id into the index.
    pub(crate) fn link_owner(&mut self, h: u32) -> Result<(), BookError> {
        let o = *self.order_at(h)?;
        match self.index_find(&o.owner, 0)? {
            Some((pos, head)) => {
                self.order_at_mut(head)?.owner_prev = h;
                let me = self.order_at_mut(h)?;
                me.owner_prev = NIL;
                me.owner_next = head;
                self.index[pos] = (h + 1) | HEAD_FLAG;
            }
            None => {
                let me = self.order_at_mut(h)?;
                me.owner_prev = NIL;
                me.owner_next = NIL;
                self.index_insert(&o.owner, 0, h)?;
            }
        }
        if o.client_order_id != 0 {
            self.index_insert(&o.owner, o.client_order_id, h)?;
        }
        Ok(())
    }

    /// Undoes [`Book::link_owner`].
    pub(crate) fn unlink_owner(&mut self, h: u32) -> Result<(), BookError> {
        let o = *self.order_at(h)?;
        if o.owner_prev != NIL {
            self.order_at_mut(o.owner_prev)?.owner_next = o.owner_next;
        } else {
            let (pos, head) = self.index_find(&o.owner, 0)?.ok_or(BookError::Corrupt)?;
            if head != h {
                return Err(BookError::Corrupt);
            }
            if o.owner_next != NIL {
                self.index[pos] = (o.owner_next + 1) | HEAD_FLAG;
            } else {
                self.index_remove_at(pos)?;
            }
        }
        if o.owner_next != NIL {
            self.order_at_mut(o.owner_next)?.owner_prev = o.owner_prev;
        }
        if o.client_order_id != 0 {
            if let Some((pos, found)) = self.index_find(&o.owner, o.client_order_id)? {
                if found == h {
                    self.index_remove_at(pos)?;
                }
            }
        }
        Ok(())
    }

    /// Handle of the first order in the owner's list, or [`NIL`].
    pub(crate) fn owner_head(&self, owner: &[u8; 32]) -> Result<u32, BookError> {
        Ok(self.index_find(owner, 0)?.map_or(NIL, |(_, h)| h))
    }
}
