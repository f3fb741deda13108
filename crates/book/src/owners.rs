//! The owner tree: one critbit tree over the resting orders of both sides, keyed by
//! `(owner, client order id, tie-break)`, for cancel by client id, the duplicate client id
//! check, and cancel-all.
//!
//! A key is 384 bits: the owner's 32 bytes, the client order id, then 0 for orders with a
//! client id (unique per owner) or the order's `key_lo` (side, pegged tag, sequence: unique)
//! for orders without one. A leaf is an order handle (`side << 30 | slot`) with [`LEAF`] set.
//!
//! Why a tree and not a hash: on-chain everything is public, so the ids and owners of a hash
//! index can be chosen to collide and drive every probe through one long cluster. A critbit
//! descent visits at most one inner node per key bit that differs somewhere in the tree, so
//! no choice of owners or ids makes a lookup walk more than 384 nodes, whatever the book
//! holds; with keys spread by real addresses it is about `log2(orders)` nodes.

use crate::error::BookError;
use crate::layout::{InnerNode, Order, LEAF};
use crate::tree::InnerAlloc;

/// Key words: owner (4), client order id, tie-break; two zero words so that a bit index
/// masked to 3 word bits never leaves the array.
pub(crate) type OwnerKey = [u64; 8];
/// Bits of the key that hold the owner.
pub(crate) const OWNER_BITS: u32 = 256;

const LEAF64: u64 = LEAF as u64;

/// Handle of `slot` on `side` (0 bid, 1 ask), as stored in owner-tree leaves.
#[inline(always)]
pub(crate) fn handle(side: usize, slot: u32) -> u32 {
    ((side as u32) << 30) | slot
}

#[inline(always)]
pub(crate) fn split_handle(h: u32) -> (usize, u32) {
    ((h >> 30) as usize & 1, h & ((1 << 30) - 1))
}

#[inline(always)]
fn word(k: &[u8; 32], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&k[i * 8..i * 8 + 8]);
    u64::from_ne_bytes(w)
}

/// `a == b` for 32-byte keys, as four word compares. `[u8; 32] ==` becomes a `memcmp` call on
/// SBF (a syscall of at least 10 CU plus its setup); keys here sit 8-byte aligned in orders and
/// instructions, so the words load whole.
#[inline(always)]
pub(crate) fn same_key(a: &[u8; 32], b: &[u8; 32]) -> bool {
    (word(a, 0) ^ word(b, 0))
        | (word(a, 1) ^ word(b, 1))
        | (word(a, 2) ^ word(b, 2))
        | (word(a, 3) ^ word(b, 3))
        == 0
}

/// The key of `(owner, client_order_id)` as stored for an order with that client id (not 0),
/// or the owner's prefix with zeros when `client_order_id` is 0.
#[inline(always)]
pub(crate) fn lookup_key(owner: &[u8; 32], client_order_id: u64) -> OwnerKey {
    [
        word(owner, 0),
        word(owner, 1),
        word(owner, 2),
        word(owner, 3),
        client_order_id,
        0,
        0,
        0,
    ]
}

/// The owner-tree key of a resting order.
#[inline(always)]
pub(crate) fn key_of(o: &Order) -> OwnerKey {
    let mut k = lookup_key(&o.owner, o.client_order_id);
    if o.client_order_id == 0 {
        k[5] = o.key_lo;
    }
    k
}

/// Bit `b` of the key, counting from the most significant bit of word 0.
#[inline(always)]
fn bit(k: &OwnerKey, b: u32) -> usize {
    ((k[(b >> 6) as usize & 7] >> (!b & 63)) & 1) as usize
}

/// Index of the first differing bit, 512 when equal.
#[inline(always)]
fn crit_bit(a: &OwnerKey, b: &OwnerKey) -> u32 {
    let mut i = 0;
    while i < 8 {
        if a[i] != b[i] {
            return (i as u32) * 64 + (a[i] ^ b[i]).leading_zeros();
        }
        i += 1;
    }
    512
}

/// The owner tree over a book's order slabs.
pub(crate) struct OwnerTree<'b> {
    pub root: &'b mut u32,
    pub alloc: InnerAlloc<'b>,
    pub inners: &'b mut [InnerNode],
    pub orders: [&'b [Order]; 2],
}

#[inline(always)]
fn order_of<'o>(orders: &[&'o [Order]; 2], leaf: u64) -> Result<&'o Order, BookError> {
    let (s, slot) = split_handle((leaf & !LEAF64) as u32);
    orders[s].get(slot as usize).ok_or(BookError::Corrupt)
}

/// The leaf a descent for `k` ends at (the leaf sharing the longest prefix with `k`), or
/// `None` for an empty tree.
#[inline(always)]
fn descend(root: u32, inners: &[InnerNode], k: &OwnerKey) -> Result<Option<u64>, BookError> {
    if root == crate::layout::NIL {
        return Ok(None);
    }
    let mut h = root as u64;
    while let Some(n) = inners.get(h as usize) {
        h = n.children[bit(k, n.crit_bit)] as u64;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    Ok(Some(h))
}

/// The handle of `owner`'s resting order with this client order id (not 0), if any.
pub(crate) fn find(
    root: u32,
    inners: &[InnerNode],
    orders: &[&[Order]; 2],
    owner: &[u8; 32],
    client_order_id: u64,
) -> Result<Option<u32>, BookError> {
    let k = lookup_key(owner, client_order_id);
    let Some(leaf) = descend(root, inners, &k)? else {
        return Ok(None);
    };
    let o = order_of(orders, leaf)?;
    Ok(
        if o.client_order_id == client_order_id && same_key(&o.owner, owner) {
            Some((leaf & !LEAF64) as u32)
        } else {
            None
        },
    )
}

/// The root of the subtree holding every order of `owner` (all its leaves share the owner's
/// 256 bits), or `None` when the owner has no resting order.
pub(crate) fn owner_subtree(
    root: u32,
    inners: &[InnerNode],
    orders: &[&[Order]; 2],
    owner: &[u8; 32],
) -> Result<Option<u32>, BookError> {
    if root == crate::layout::NIL {
        return Ok(None);
    }
    let k = lookup_key(owner, 0);
    let mut h = root as u64;
    while let Some(n) = inners.get(h as usize) {
        if n.crit_bit >= OWNER_BITS {
            break;
        }
        h = n.children[bit(&k, n.crit_bit)] as u64;
    }
    let sub = h;
    // Every leaf below `sub` has the same owner bits: check one.
    while let Some(n) = inners.get(h as usize) {
        h = n.children[0] as u64;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    Ok(if same_key(&order_of(orders, h)?.owner, owner) {
        Some(sub as u32)
    } else {
        None
    })
}

impl OwnerTree<'_> {
    /// Inserts the order with handle `h` (written in its slab). Its key must be new.
    pub(crate) fn insert(&mut self, h: u32) -> Result<(), BookError> {
        let k = key_of(order_of(&self.orders, h as u64)?);
        let Some(near) = descend(*self.root, self.inners, &k)? else {
            *self.root = LEAF | h;
            return Ok(());
        };
        let crit = crit_bit(&k, &key_of(order_of(&self.orders, near)?));
        if crit >= 384 {
            return Err(BookError::Corrupt);
        }
        let new = self.alloc.alloc(self.inners)?;
        let mut parent = u64::MAX;
        let mut dir = 0;
        let mut cur = *self.root as u64;
        while let Some(n) = self.inners.get(cur as usize) {
            if n.crit_bit > crit {
                break;
            }
            parent = cur;
            dir = bit(&k, n.crit_bit);
            cur = n.children[dir] as u64;
        }
        let cur = cur as u32;
        let children = if bit(&k, crit) == 0 {
            [LEAF | h, cur]
        } else {
            [cur, LEAF | h]
        };
        *self
            .inners
            .get_mut(new as usize)
            .ok_or(BookError::Corrupt)? = InnerNode {
            crit_bit: crit,
            children,
        };
        if parent == u64::MAX {
            *self.root = new;
        } else {
            self.inners
                .get_mut(parent as usize)
                .ok_or(BookError::Corrupt)?
                .children[dir] = new;
        }
        Ok(())
    }

    /// Removes the order with handle `h`.
    pub(crate) fn remove(&mut self, h: u32) -> Result<(), BookError> {
        let k = key_of(order_of(&self.orders, h as u64)?);
        let target = (LEAF | h) as u64;
        if *self.root as u64 == target {
            *self.root = crate::layout::NIL;
            return Ok(());
        }
        let (mut grand, mut grand_dir) = (u64::MAX, 0);
        let (mut parent, mut dir) = (u64::MAX, 0);
        let mut cur = *self.root as u64;
        while let Some(n) = self.inners.get(cur as usize) {
            grand = parent;
            grand_dir = dir;
            parent = cur;
            dir = bit(&k, n.crit_bit);
            cur = n.children[dir] as u64;
        }
        if cur != target || parent == u64::MAX {
            return Err(BookError::Corrupt);
        }
        let sibling = self
            .inners
            .get(parent as usize)
            .ok_or(BookError::Corrupt)?
            .children[1 - dir];
        if grand == u64::MAX {
            *self.root = sibling;
        } else {
            self.inners
                .get_mut(grand as usize)
                .ok_or(BookError::Corrupt)?
                .children[grand_dir] = sibling;
        }
        self.alloc.release(self.inners, parent as u32)
    }
}
