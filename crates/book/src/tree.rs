//! Critbit trees over one side's slabs: a tree orders its leaves (order slots) by the 128-bit
//! key `(Order::key_hi, Order::key_lo)`, smallest (best) first. Insert, remove and find walk one
//! root-to-leaf path: O(key bits) worst case, O(log n) for spread keys.

use crate::error::BookError;
use crate::layout::{InnerNode, Order, LEAF, NIL};
use core::mem::MaybeUninit;

/// Deepest possible path: one inner node per key bit.
const MAX_DEPTH: usize = 128;

#[inline(always)]
fn key(orders: &[Order], slot: u32) -> Result<(u64, u64), BookError> {
    let o = orders.get(slot as usize).ok_or(BookError::Corrupt)?;
    Ok((o.key_hi, o.key_lo))
}

/// [`LEAF`] as a 64-bit mask. Descents keep handles in 64-bit registers: SBF has no 32-bit
/// ALU, so testing and indexing with a `u32` costs extra extensions at every level.
const LEAF64: u64 = LEAF as u64;
const NIL64: u64 = NIL as u64;

/// Bit `b` of the key, counting from the most significant bit of `hi`.
#[inline(always)]
fn bit(k: (u64, u64), b: u32) -> usize {
    // The bit shifted to the top and down again: two shifts. (Below 64 the shift needs no
    // mask: crit bits grow along a path, so a descent's first levels test that branch only.)
    if b < 64 {
        (k.0 << b >> 63) as usize
    } else {
        (k.1.wrapping_shl(b) >> 63) as usize
    }
}

/// Index of the first differing bit, 128 when equal.
#[inline(always)]
fn crit_bit(a: (u64, u64), b: (u64, u64)) -> u32 {
    if a.0 != b.0 {
        (a.0 ^ b.0).leading_zeros()
    } else {
        64 + (a.1 ^ b.1).leading_zeros()
    }
}

#[inline(always)]
fn inner(inners: &[InnerNode], h: u64) -> Result<&InnerNode, BookError> {
    inners.get(h as usize).ok_or(BookError::Corrupt)
}

/// Slab allocator state of a side's inner nodes.
pub(crate) struct InnerAlloc<'h> {
    pub bump: &'h mut u32,
    pub free: &'h mut u32,
}

impl InnerAlloc<'_> {
    pub(crate) fn alloc(&mut self, inners: &mut [InnerNode]) -> Result<u32, BookError> {
        if *self.free != NIL {
            let h = *self.free;
            *self.free = inner(inners, h as u64)?.children[0];
            Ok(h)
        } else if (*self.bump as usize) < inners.len() {
            let h = *self.bump;
            *self.bump += 1;
            Ok(h)
        } else {
            Err(BookError::SideFull)
        }
    }
    pub(crate) fn release(&mut self, inners: &mut [InnerNode], h: u32) -> Result<(), BookError> {
        let n = inners.get_mut(h as usize).ok_or(BookError::Corrupt)?;
        n.children = [*self.free, NIL];
        *self.free = h;
        Ok(())
    }
}

/// Inserts the order in `slot` (its key already written) into the tree at `root`.
///
/// `beside` is called once per level of the descent: a caller walks another, independent tree
/// one level in it, so that on a host CPU the two chains of dependent loads overlap.
pub(crate) fn insert(
    root: &mut u32,
    alloc: &mut InnerAlloc,
    inners: &mut [InnerNode],
    orders: &[Order],
    slot: u32,
    mut beside: impl FnMut(),
) -> Result<(), BookError> {
    let k = key(orders, slot)?;
    if *root == NIL {
        *root = LEAF | slot;
        return Ok(());
    }
    // The leaf sharing the longest prefix with k is where k's own path ends. The path is
    // kept (at most one node per key bit), so the new node's place is found walking back up
    // it instead of descending again.
    // Inner handles are below the slab length and leaf handles (bit 31 set) above it, so one
    // bounds check per level is also the leaf test.
    // SAFETY: an array of `MaybeUninit` needs no initialization; only `path[..len]` is read.
    let mut path: [MaybeUninit<u32>; MAX_DEPTH] = unsafe { MaybeUninit::uninit().assume_init() };
    let mut len = 0;
    let mut h = *root as u64;
    while let Some(n) = inners.get(h as usize) {
        *path.get_mut(len).ok_or(BookError::Corrupt)? = MaybeUninit::new(h as u32);
        len += 1;
        h = n.children[bit(k, n.crit_bit)] as u64;
        beside();
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    let crit = crit_bit(k, key(orders, (h & !LEAF64) as u32)?);
    if crit >= 128 {
        return Err(BookError::Corrupt); // keys hold a unique sequence number
    }
    let new = alloc.alloc(inners)?;
    // The new inner node goes above the first node of the path that splits below `crit`.
    // Crit bits grow along the path: scan from whichever end is nearer (orders at a new best
    // price insert near the root, most others near a leaf).
    let crit_at = |i: usize| -> Result<u32, BookError> {
        // SAFETY: the descent wrote every entry below `len`; callers pass `i < len`.
        let p = unsafe { path.get(i).ok_or(BookError::Corrupt)?.assume_init() };
        Ok(inner(inners, p as u64)?.crit_bit)
    };
    let depth = len;
    if len > 0 && crit < crit_at(len / 2)? {
        len = 0;
        while crit_at(len)? < crit {
            len += 1;
        }
    } else {
        while len > 0 && crit_at(len - 1)? > crit {
            len -= 1;
        }
    }
    let child = if len < depth {
        // SAFETY: as above.
        unsafe { path.get(len).ok_or(BookError::Corrupt)?.assume_init() }
    } else {
        h as u32
    };
    let children = if bit(k, crit) == 0 {
        [LEAF | slot, child]
    } else {
        [child, LEAF | slot]
    };
    *inners.get_mut(new as usize).ok_or(BookError::Corrupt)? = InnerNode {
        crit_bit: crit,
        children,
    };
    if len == 0 {
        *root = new;
    } else {
        // SAFETY: as above.
        let parent = unsafe { path.get(len - 1).ok_or(BookError::Corrupt)?.assume_init() };
        let n = inners.get_mut(parent as usize).ok_or(BookError::Corrupt)?;
        let dir = bit(k, n.crit_bit);
        n.children[dir] = new;
    }
    Ok(())
}

/// Removes the leaf `slot` from the tree at `root`.
pub(crate) fn remove(
    root: &mut u32,
    alloc: &mut InnerAlloc,
    inners: &mut [InnerNode],
    orders: &[Order],
    slot: u32,
) -> Result<(), BookError> {
    let k = key(orders, slot)?;
    let target = LEAF | slot;
    if *root == target {
        *root = NIL;
        return Ok(());
    }
    let (mut grand, mut grand_dir) = (NIL64, 0);
    let (mut parent, mut dir) = (NIL64, 0);
    let mut h = *root as u64;
    while let Some(n) = inners.get(h as usize) {
        grand = parent;
        grand_dir = dir;
        parent = h;
        dir = bit(k, n.crit_bit);
        h = n.children[dir] as u64;
    }
    if h != target as u64 || parent == NIL64 {
        return Err(BookError::Corrupt);
    }
    let sibling = inner(inners, parent)?.children[1 - dir];
    if grand == NIL64 {
        *root = sibling;
    } else {
        inners
            .get_mut(grand as usize)
            .ok_or(BookError::Corrupt)?
            .children[grand_dir] = sibling;
    }
    alloc.release(inners, parent as u32)
}

/// Removes the leaf `slot` if it is the first (best) leaf of the tree at `root`, walking the
/// left spine only (no key bits to compute): matching consumes makers in that order. Returns
/// `false`, with the tree unchanged, when `slot` is not the first leaf. The tree ends up as
/// [`remove`] leaves it.
pub(crate) fn remove_first(
    root: &mut u32,
    alloc: &mut InnerAlloc,
    inners: &mut [InnerNode],
    slot: u32,
) -> Result<bool, BookError> {
    let target = (LEAF | slot) as u64;
    if *root as u64 == target {
        *root = NIL;
        return Ok(true);
    }
    let (mut grand, mut parent) = (NIL64, NIL64);
    let mut h = *root as u64;
    while let Some(n) = inners.get(h as usize) {
        grand = parent;
        parent = h;
        h = n.children[0] as u64;
    }
    if h != target {
        return Ok(false);
    }
    let sibling = inner(inners, parent)?.children[1];
    if grand == NIL64 {
        *root = sibling;
    } else {
        inners
            .get_mut(grand as usize)
            .ok_or(BookError::Corrupt)?
            .children[0] = sibling;
    }
    alloc.release(inners, parent as u32)?;
    Ok(true)
}

/// The slot whose key is exactly `k`, if any.
pub(crate) fn find(
    root: u32,
    inners: &[InnerNode],
    orders: &[Order],
    k: (u64, u64),
) -> Result<Option<u32>, BookError> {
    if root == NIL {
        return Ok(None);
    }
    let mut h = root as u64;
    while let Some(n) = inners.get(h as usize) {
        h = n.children[bit(k, n.crit_bit)] as u64;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    let slot = (h & !LEAF64) as u32;
    Ok(if key(orders, slot)? == k {
        Some(slot)
    } else {
        None
    })
}

/// In-order (best first) walk of one tree without allocating: a stack of the right subtrees
/// still to visit.
///
/// The stack is left uninitialized: filling 128 entries cost about 130 CU per iterator on SBF,
/// paid by every place. Only `stack[..len]` is ever read, and every entry below `len` was
/// written.
pub(crate) struct TreeIter {
    stack: [MaybeUninit<u32>; MAX_DEPTH],
    /// Entries on the stack (0: the walk is over, or the tree was empty).
    pub(crate) len: usize,
}

impl TreeIter {
    pub(crate) fn new(root: u32) -> TreeIter {
        let mut it = TreeIter {
            // SAFETY: an array of `MaybeUninit` needs no initialization. (Written this way,
            // not as `[MaybeUninit::uninit(); N]`, which LLVM turned into a 512-byte memset.)
            stack: unsafe { MaybeUninit::uninit().assume_init() },
            len: 0,
        };
        if root != NIL {
            it.stack[0] = MaybeUninit::new(root);
            it.len = 1;
        }
        it
    }

    /// The next order slot, best first.
    #[inline]
    pub(crate) fn next(&mut self, inners: &[InnerNode]) -> Result<Option<u32>, BookError> {
        if self.len == 0 {
            return Ok(None);
        }
        // In a register while descending, stored once.
        let mut len = self.len - 1;
        let top = self.stack.get(len).ok_or(BookError::Corrupt)?;
        // SAFETY: `new` and the loop below write `stack[len]` before each `len += 1`, so every
        // entry below `len` is initialized.
        let mut h = unsafe { top.assume_init() } as u64;
        while let Some(n) = inners.get(h as usize) {
            *self.stack.get_mut(len).ok_or(BookError::Corrupt)? = MaybeUninit::new(n.children[1]);
            len += 1;
            h = n.children[0] as u64;
        }
        self.len = len;
        if h & LEAF64 == 0 {
            return Err(BookError::Corrupt);
        }
        Ok(Some((h & !LEAF64) as u32))
    }
}

/// The first (best) leaf of the tree at `root`, walking its left spine.
#[inline(always)]
pub(crate) fn first(root: u32, inners: &[InnerNode]) -> Result<Option<u32>, BookError> {
    if root == NIL {
        return Ok(None);
    }
    let mut h = root as u64;
    while let Some(n) = inners.get(h as usize) {
        h = n.children[0] as u64;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    Ok(Some((h & !LEAF64) as u32))
}

/// The last (worst) leaf of the tree at `root`, walking its right spine.
pub(crate) fn last(root: u32, inners: &[InnerNode]) -> Result<Option<u32>, BookError> {
    if root == NIL {
        return Ok(None);
    }
    let mut h = root as u64;
    while let Some(n) = inners.get(h as usize) {
        h = n.children[1] as u64;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    Ok(Some((h & !LEAF64) as u32))
}
