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
use crate::layout::{Order, OwnerNode, LEAF, NIL};

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
    (k[(b >> 6) as usize & 7].wrapping_shl(b) >> 63) as usize
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
    pub bump: &'b mut u32,
    pub free: &'b mut u32,
    pub nodes: &'b mut [OwnerNode],
    pub orders: [&'b mut [Order]; 2],
}

#[inline(always)]
fn order_of<'o>(orders: &[&'o [Order]; 2], leaf: u64) -> Result<&'o Order, BookError> {
    let (s, slot) = split_handle((leaf & !LEAF64) as u32);
    orders[s].get(slot as usize).ok_or(BookError::Corrupt)
}

/// The leaf a descent for `k` ends at (the leaf sharing the longest prefix with `k`), or
/// `None` for an empty tree.
#[inline(always)]
pub(crate) fn descend(
    root: u32,
    nodes: &[OwnerNode],
    k: &OwnerKey,
) -> Result<Option<u64>, BookError> {
    if root == NIL {
        return Ok(None);
    }
    let mut h = root as u64;
    while let Some(n) = nodes.get(h as usize) {
        h = n.children[bit(k, n.crit_bit)] as u64;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    Ok(Some(h))
}

/// One level of a descent for `k` from `h` (a node, or a leaf or [`NIL`], where it stays).
/// (The host's interleaved resting insert uses it; SBF builds do not.)
#[cfg(any(
    test,
    not(any(target_arch = "bpf", target_arch = "sbf", target_os = "solana"))
))]
#[inline(always)]
pub(crate) fn descend_step(nodes: &[OwnerNode], k: &OwnerKey, h: &mut u64) {
    if let Some(n) = nodes.get(*h as usize) {
        *h = n.children[bit(k, n.crit_bit)] as u64;
    }
}

/// The handle of `owner`'s resting order with this client order id (not 0), if any.
#[inline(always)]
pub(crate) fn find(
    root: u32,
    nodes: &[OwnerNode],
    orders: &[&[Order]; 2],
    owner: &[u8; 32],
    client_order_id: u64,
) -> Result<Option<u32>, BookError> {
    let Some(leaf) = descend(root, nodes, &lookup_key(owner, client_order_id))? else {
        return Ok(None);
    };
    Ok(if is_client_order(orders, leaf, owner, client_order_id)? {
        Some((leaf & !LEAF64) as u32)
    } else {
        None
    })
}

/// Whether `leaf` (from [`descend`]) is `owner`'s order with this client order id.
#[inline(always)]
pub(crate) fn is_client_order(
    orders: &[&[Order]; 2],
    leaf: u64,
    owner: &[u8; 32],
    client_order_id: u64,
) -> Result<bool, BookError> {
    let o = order_of(orders, leaf)?;
    Ok(o.client_order_id == client_order_id && same_key(&o.owner, owner))
}

/// The root of the subtree holding every order of `owner` (all its leaves share the owner's
/// 256 bits), or `None` when the owner has no resting order.
pub(crate) fn owner_subtree(
    root: u32,
    nodes: &[OwnerNode],
    orders: &[&[Order]; 2],
    owner: &[u8; 32],
) -> Result<Option<u32>, BookError> {
    if root == NIL {
        return Ok(None);
    }
    let k = lookup_key(owner, 0);
    let mut h = root as u64;
    while let Some(n) = nodes.get(h as usize) {
        if n.crit_bit >= OWNER_BITS {
            break;
        }
        h = n.children[bit(&k, n.crit_bit)] as u64;
    }
    let sub = h;
    // Every leaf below `sub` has the same owner bits: check one.
    while let Some(n) = nodes.get(h as usize) {
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

/// In-order walk of an owner subtree (a stack of right subtrees still to visit). The stack
/// holds at most one entry per key bit below the owner's 256.
pub(crate) struct OwnerIter {
    stack: [u32; 129],
    len: usize,
}

impl OwnerIter {
    pub(crate) fn new(sub: u32) -> OwnerIter {
        let mut stack = [0; 129];
        stack[0] = sub;
        OwnerIter { stack, len: 1 }
    }

    /// The next order handle. Removing the leaf it returned (and only that) before the next
    /// call is safe: the removed leaf's parent was already passed, and its sibling, which
    /// moves up, is still on the stack or already visited.
    pub(crate) fn next(&mut self, nodes: &[OwnerNode]) -> Result<Option<u32>, BookError> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        let mut h = *self.stack.get(self.len).ok_or(BookError::Corrupt)? as u64;
        while let Some(n) = nodes.get(h as usize) {
            *self.stack.get_mut(self.len).ok_or(BookError::Corrupt)? = n.children[1];
            self.len += 1;
            h = n.children[0] as u64;
        }
        if h & LEAF64 == 0 {
            return Err(BookError::Corrupt);
        }
        Ok(Some((h & !LEAF64) as u32))
    }
}

impl OwnerTree<'_> {
    #[inline(always)]
    fn order_mut(&mut self, h: u32) -> Result<&mut Order, BookError> {
        let (s, slot) = split_handle(h);
        self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)
    }

    #[inline(always)]
    fn node_mut(&mut self, n: u32) -> Result<&mut OwnerNode, BookError> {
        self.nodes.get_mut(n as usize).ok_or(BookError::Corrupt)
    }

    /// Points `child` (a node, or a leaf with [`LEAF`] set) at `parent`.
    #[inline(always)]
    fn set_parent(&mut self, child: u32, parent: u32) -> Result<(), BookError> {
        if child & LEAF != 0 {
            self.order_mut(child & !LEAF)?.owner_parent = parent;
        } else {
            self.node_mut(child)?.parent = parent;
        }
        Ok(())
    }

    /// Inserts the order with handle `h` (written in its slab; its key must be new). `near`:
    /// the leaf a [`descend`] for its key returned on this same tree, if the caller has it.
    pub(crate) fn insert(&mut self, h: u32, near: Option<u64>) -> Result<(), BookError> {
        let orders = [&*self.orders[0], &*self.orders[1]];
        let k = key_of(order_of(&orders, h as u64)?);
        let near = match near {
            Some(n) => n,
            None => match descend(*self.root, self.nodes, &k)? {
                Some(n) => n,
                None => {
                    *self.root = LEAF | h;
                    self.order_mut(h)?.owner_parent = NIL;
                    return Ok(());
                }
            },
        };
        let near_order = order_of(&orders, near)?;
        let crit = crit_bit(&k, &key_of(near_order));
        if crit >= 384 {
            return Err(BookError::Corrupt);
        }
        // Up from the nearest leaf to the first ancestor that splits above `crit`: the new
        // node goes below it. Crit bits fall on the way up, so this is at most 384 steps.
        // Handles in 64-bit registers, and the slab bounds check as the loop test: it ends at
        // NIL (the root's parent), or at a handle out of range, which `node_mut` below refuses.
        let mut child = near;
        let mut parent = near_order.owner_parent as u64;
        while let Some(n) = self.nodes.get(parent as usize) {
            let up = n.parent as u64;
            if n.crit_bit < crit {
                break;
            }
            child = parent;
            parent = up;
        }
        let (child, parent) = (child as u32, parent as u32);
        let new = if *self.free != NIL {
            let f = *self.free;
            *self.free = self.nodes.get(f as usize).ok_or(BookError::Corrupt)?.parent;
            f
        } else if (*self.bump as usize) < self.nodes.len() {
            *self.bump += 1;
            *self.bump - 1
        } else {
            return Err(BookError::Corrupt);
        };
        let children = if bit(&k, crit) == 0 {
            [LEAF | h, child]
        } else {
            [child, LEAF | h]
        };
        *self.node_mut(new)? = OwnerNode {
            crit_bit: crit,
            parent,
            children,
        };
        self.set_parent(child, new)?;
        self.order_mut(h)?.owner_parent = new;
        if parent == NIL {
            *self.root = new;
        } else {
            let p = self.node_mut(parent)?;
            let dir = (p.children[1] == child) as usize;
            p.children[dir] = new;
        }
        Ok(())
    }

    /// Removes the order with handle `h`: no descent, through the parent links.
    #[inline(always)]
    pub(crate) fn remove(&mut self, h: u32) -> Result<(), BookError> {
        let leaf = LEAF | h;
        let parent = self.order_mut(h)?.owner_parent;
        if parent == NIL {
            if *self.root != leaf {
                return Err(BookError::Corrupt);
            }
            *self.root = NIL;
            return Ok(());
        }
        let p = *self.nodes.get(parent as usize).ok_or(BookError::Corrupt)?;
        let sibling = if p.children[0] == leaf {
            p.children[1]
        } else if p.children[1] == leaf {
            p.children[0]
        } else {
            return Err(BookError::Corrupt);
        };
        if p.parent == NIL {
            *self.root = sibling;
        } else {
            let g = self.node_mut(p.parent)?;
            let dir = (g.children[1] == parent) as usize;
            g.children[dir] = sibling;
        }
        self.set_parent(sibling, p.parent)?;
        // Free nodes are linked through `parent`.
        let free = *self.free;
        *self.node_mut(parent)? = OwnerNode {
            crit_bit: 0,
            parent: free,
            children: [NIL, NIL],
        };
        *self.free = parent;
        Ok(())
    }
}
