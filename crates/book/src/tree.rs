//! Critbit trees over one side's slabs: a tree orders its leaves (order slots) by the 128-bit
//! key `(Order::key_hi, Order::key_lo)`, smallest (best) first. Insert, remove and find walk one
//! root-to-leaf path: O(key bits) worst case, O(log n) for spread keys.

use crate::error::BookError;
use crate::layout::{InnerNode, Order, Spine, LEAF, MAX_TREE_DEPTH, NIL};
use core::mem::MaybeUninit;

/// Deepest possible path: one inner node per key bit.
const MAX_DEPTH: usize = MAX_TREE_DEPTH;

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
    #[cfg(not(any(target_arch = "bpf", target_arch = "sbf", target_os = "solana")))]
    {
        // Branch-free on the host: a descent's word changes where price ties meet sequence
        // numbers, a branch it would mispredict.
        let w = if b < 64 { k.0 } else { k.1 };
        (w << (b & 63) >> 63) as usize
    }
    #[cfg(any(target_arch = "bpf", target_arch = "sbf", target_os = "solana"))]
    if b < 64 {
        (k.0 << b >> 63) as usize
    } else {
        (k.1.wrapping_shl(b) >> 63) as usize
    }
}

/// The child of `n` on side `dir` (0 or 1), as a descent steps to it. On the host both
/// children are loaded with the node and one is selected, so the next load need not wait for
/// the key test (a descent is a chain of dependent loads: about a third shorter a level); on
/// SBF, where loads cost compute units and do not overlap, the one child is loaded.
#[inline(always)]
fn child(n: &InnerNode, dir: usize) -> u64 {
    #[cfg(not(any(target_arch = "bpf", target_arch = "sbf", target_os = "solana")))]
    {
        // Both handles loaded without waiting for `dir` (a volatile read: the compiler would
        // otherwise fold the selection back into a load indexed by `dir`).
        // SAFETY: a read of a field through a valid reference.
        let [left, right] = unsafe { core::ptr::read_volatile(&n.children) };
        (if dir == 0 { left } else { right }) as u64
    }
    #[cfg(any(target_arch = "bpf", target_arch = "sbf", target_os = "solana"))]
    {
        n.children[dir & 1] as u64
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

/// Inserts the order in `slot` (its key already written) into the tree at `root`, keeping
/// the tree's left `spine` when it has one (the fixed-price trees).
pub(crate) fn insert(
    root: &mut u32,
    alloc: &mut InnerAlloc,
    inners: &mut [InnerNode],
    orders: &[Order],
    slot: u32,
    spine: Option<&mut Spine>,
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
        h = child(n, bit(k, n.crit_bit));
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
    let leaf_left = bit(k, crit) == 0;
    let children = if leaf_left {
        [LEAF | slot, child]
    } else {
        [child, LEAF | slot]
    };
    *inners.get_mut(new as usize).ok_or(BookError::Corrupt)? = InnerNode {
        crit_bit: crit,
        children,
    };
    // Whether the new node sits on the left spine: at the root, or as the left child of the
    // spine's node one level up.
    let on_spine = if len == 0 {
        *root = new;
        true
    } else {
        // SAFETY: as above.
        let parent = unsafe { path.get(len - 1).ok_or(BookError::Corrupt)?.assume_init() };
        let n = inners.get_mut(parent as usize).ok_or(BookError::Corrupt)?;
        let dir = bit(k, n.crit_bit);
        n.children[dir] = new;
        dir == 0
            && spine
                .as_ref()
                .is_some_and(|sp| sp.holds(len - 1, parent as u64))
    };
    if on_spine {
        if let Some(sp) = spine {
            sp.insert_at(len, new, leaf_left)?;
        }
    }
    Ok(())
}

impl Spine {
    /// Whether this is the left spine of the tree at `root`: its nodes, root first, each the
    /// left child of the one before, down to the first leaf (a check for tests).
    pub(crate) fn is_left_spine_of(&self, root: u32, inners: &[InnerNode]) -> bool {
        let mut d = 0usize;
        if root != NIL {
            let mut h = root as u64;
            while let Some(n) = inners.get(h as usize) {
                if !self.holds(d, h) {
                    return false;
                }
                d += 1;
                h = n.children[0] as u64;
            }
        }
        d == self.len as usize
    }

    /// Whether the spine's node at depth `d` is `h`.
    #[inline(always)]
    fn holds(&self, d: usize, h: u64) -> bool {
        d < self.len as usize && self.nodes.get(d).is_some_and(|n| *n as u64 == h)
    }

    /// The first (best) leaf of the tree at `root` whose spine this is.
    #[inline(always)]
    pub(crate) fn first(&self, root: u32, inners: &[InnerNode]) -> Result<Option<u32>, BookError> {
        if root == NIL {
            return Ok(None);
        }
        let h = match (self.len as usize).checked_sub(1) {
            None => root as u64,
            Some(top) => {
                let p = *self.nodes.get(top).ok_or(BookError::Corrupt)?;
                inner(inners, p as u64)?.children[0] as u64
            }
        };
        if h & LEAF64 == 0 || h == NIL64 {
            return Err(BookError::Corrupt);
        }
        Ok(Some((h & !LEAF64) as u32))
    }

    /// Appends the inner nodes from `h` down its left children (`h` took the place below the
    /// spine's last node).
    #[inline(always)]
    fn extend_left(&mut self, mut h: u64, inners: &[InnerNode]) -> Result<(), BookError> {
        let mut len = self.len as usize;
        while let Some(n) = inners.get(h as usize) {
            *self.nodes.get_mut(len).ok_or(BookError::Corrupt)? = h as u32;
            len += 1;
            h = n.children[0] as u64;
        }
        self.len = len as u32;
        Ok(())
    }

    /// The insert put node `new` on the spine at depth `d`; its left child is the new leaf
    /// (`leaf_left`: the spine ends at `new`) or the spine's old node at `d` (which moves
    /// down one).
    #[inline(always)]
    fn insert_at(&mut self, d: usize, new: u32, leaf_left: bool) -> Result<(), BookError> {
        let len = self.len as usize;
        if leaf_left {
            *self.nodes.get_mut(d).ok_or(BookError::Corrupt)? = new;
            self.len = d as u32 + 1;
        } else {
            if len >= MAX_DEPTH || d > len {
                return Err(BookError::Corrupt);
            }
            self.nodes.copy_within(d..len, d + 1);
            self.nodes[d] = new;
            self.len = len as u32 + 1;
        }
        Ok(())
    }

    /// A removal released node `p`, at depth `d`, whose child `dir` was the removed leaf and
    /// whose other child `sibling` took its place.
    #[inline(always)]
    fn removed(
        &mut self,
        d: usize,
        p: u64,
        dir: usize,
        sibling: u32,
        inners: &[InnerNode],
    ) -> Result<(), BookError> {
        if !self.holds(d, p) {
            return Ok(());
        }
        if dir == 0 {
            // The first leaf left: the spine goes on down the sibling's left side.
            self.len = d as u32;
            self.extend_left(sibling as u64, inners)
        } else {
            // The node's left child moves up into its place.
            let len = self.len as usize;
            self.nodes.copy_within(d + 1..len, d);
            self.len = len as u32 - 1;
            Ok(())
        }
    }

    /// Takes the tree's first leaf, `slot`, off the tree at `root` through the spine (no
    /// descent). `false`, with nothing changed, when `slot` is not the first leaf.
    #[inline(always)]
    pub(crate) fn remove_first(
        &mut self,
        root: &mut u32,
        alloc: &mut InnerAlloc,
        inners: &mut [InnerNode],
        slot: u32,
    ) -> Result<bool, BookError> {
        let target = LEAF | slot;
        let Some(top) = (self.len as usize).checked_sub(1) else {
            if *root != target {
                return Ok(false);
            }
            *root = NIL;
            return Ok(true);
        };
        let p = *self.nodes.get(top).ok_or(BookError::Corrupt)?;
        let n = inner(inners, p as u64)?;
        if n.children[0] != target {
            return Ok(false);
        }
        let sibling = n.children[1];
        match top.checked_sub(1) {
            Some(g) => {
                let g = *self.nodes.get(g).ok_or(BookError::Corrupt)?;
                inners
                    .get_mut(g as usize)
                    .ok_or(BookError::Corrupt)?
                    .children[0] = sibling;
            }
            None => *root = sibling,
        }
        alloc.release(inners, p)?;
        self.len = top as u32;
        self.extend_left(sibling as u64, inners)?;
        Ok(true)
    }
}

/// Where a descent for a key found its leaf: the leaf's parent and grandparent ([`NIL`] above
/// the root) and the side each one's path took, so that [`unlink`] takes it off with no
/// second descent.
#[derive(Clone, Copy)]
pub(crate) struct Spot {
    pub(crate) slot: u32,
    /// The parent's depth (the root's is 0).
    depth: usize,
    parent: u64,
    dir: usize,
    grand: u64,
    grand_dir: usize,
}

/// The leaf whose key is exactly `k` in the tree at `root`, with its parent and grandparent.
#[inline(always)]
pub(crate) fn locate(
    root: u32,
    inners: &[InnerNode],
    orders: &[Order],
    k: (u64, u64),
) -> Result<Option<Spot>, BookError> {
    if root == NIL {
        return Ok(None);
    }
    let (mut grand, mut grand_dir) = (NIL64, 0);
    let (mut parent, mut dir) = (NIL64, 0);
    let mut h = root as u64;
    let mut levels = 0usize;
    while let Some(n) = inners.get(h as usize) {
        grand = parent;
        grand_dir = dir;
        parent = h;
        dir = bit(k, n.crit_bit);
        h = child(n, dir);
        levels += 1;
    }
    if h & LEAF64 == 0 {
        return Err(BookError::Corrupt);
    }
    let slot = (h & !LEAF64) as u32;
    Ok((key(orders, slot)? == k).then_some(Spot {
        slot,
        depth: levels.wrapping_sub(1),
        parent,
        dir,
        grand,
        grand_dir,
    }))
}

/// Takes the leaf a [`locate`] found off the tree at `root` (nothing changed since), keeping
/// the tree's left `spine` when it has one.
#[inline(always)]
pub(crate) fn unlink(
    root: &mut u32,
    alloc: &mut InnerAlloc,
    inners: &mut [InnerNode],
    at: &Spot,
    spine: Option<&mut Spine>,
) -> Result<(), BookError> {
    if at.parent == NIL64 {
        // the leaf is the root
        *root = NIL;
        return Ok(());
    }
    let sibling = inner(inners, at.parent)?.children[1 - at.dir];
    if at.grand == NIL64 {
        *root = sibling;
    } else {
        inners
            .get_mut(at.grand as usize)
            .ok_or(BookError::Corrupt)?
            .children[at.grand_dir] = sibling;
    }
    alloc.release(inners, at.parent as u32)?;
    match spine {
        Some(sp) => sp.removed(at.depth, at.parent, at.dir, sibling, inners),
        None => Ok(()),
    }
}

/// Removes the leaf `slot` from the tree at `root` (keeping its `spine`, if any). Inlined:
/// SBF passes at most 5 arguments in registers.
#[inline(always)]
pub(crate) fn remove(
    root: &mut u32,
    alloc: &mut InnerAlloc,
    inners: &mut [InnerNode],
    orders: &[Order],
    slot: u32,
    spine: Option<&mut Spine>,
) -> Result<(), BookError> {
    match locate(*root, inners, orders, key(orders, slot)?)? {
        Some(at) if at.slot == slot => unlink(root, alloc, inners, &at, spine),
        _ => Err(BookError::Corrupt),
    }
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
        h = child(n, bit(k, n.crit_bit));
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

/// In-order (best first) walk of one tree without allocating, that can also take the leaf it
/// stands on off the tree: matching walks makers in this order and removes them in it.
///
/// The stack holds the inner nodes whose right subtree is still to visit: the path from the
/// root to the last leaf yielded, less the nodes where it turned right. While the walk has
/// not stepped past a leaf it did not remove, no such turn was taken, so the stack is all of
/// the leaf's ancestors, the leaf is the tree's first and the left child of the top entry, and
/// [`TreeIter::remove_first`] takes it off without walking the spine again (the first maker a
/// taker meets, and each next one as matching removes them in order).
///
/// The stack is left uninitialized: filling 128 entries cost about 130 CU per iterator on SBF,
/// paid by every place. Only `stack[..len]` is ever read, and every entry below `len` was
/// written.
pub(crate) struct TreeIter {
    stack: [MaybeUninit<u32>; MAX_DEPTH],
    /// Entries on the stack.
    len: usize,
    /// The subtree to descend before anything else: the root before the first read, the
    /// subtree that took a removed leaf's place; [`NIL`]: none (pop the stack).
    pending: u32,
    /// The stack is every ancestor of the walk's leaf (the walk never stepped past a leaf it
    /// did not remove).
    whole: bool,
}

impl TreeIter {
    pub(crate) fn new(root: u32) -> TreeIter {
        TreeIter {
            // SAFETY: an array of `MaybeUninit` needs no initialization. (Written this way,
            // not as `[MaybeUninit::uninit(); N]`, which LLVM turned into a 512-byte memset.)
            stack: unsafe { MaybeUninit::uninit().assume_init() },
            len: 0,
            pending: root,
            whole: true,
        }
    }

    /// A walk over the tree whose left `spine` this is, standing on its first leaf (the
    /// cursor read that leaf from the spine): its next leaf is the tree's second.
    #[inline(always)]
    pub(crate) fn after_first(&mut self, spine: &Spine) -> Result<(), BookError> {
        let len = spine.len as usize;
        let nodes = spine.nodes.get(..len).ok_or(BookError::Corrupt)?;
        for (e, n) in self.stack.iter_mut().zip(nodes) {
            *e = MaybeUninit::new(*n);
        }
        self.len = len;
        self.pending = NIL;
        self.whole = true;
        Ok(())
    }

    /// The stack entry `i` (`i < len`).
    #[inline(always)]
    fn entry(&self, i: usize) -> Result<u64, BookError> {
        let e = self.stack.get(i).ok_or(BookError::Corrupt)?;
        // SAFETY: every entry below `len` was written before `len` grew past it.
        Ok(unsafe { e.assume_init() } as u64)
    }

    /// The next order slot, best first.
    #[inline]
    pub(crate) fn next(&mut self, inners: &[InnerNode]) -> Result<Option<u32>, BookError> {
        // In a register while descending, stored once.
        let mut len = self.len;
        let mut h = self.pending as u64;
        if h == NIL64 {
            // The right subtree of the deepest node whose left one is done.
            if len == 0 {
                return Ok(None);
            }
            len -= 1;
            h = inner(inners, self.entry(len)?)?.children[1] as u64;
            // Past a leaf that stays: the turn right is not on the stack.
            self.whole = false;
        } else {
            self.pending = NIL;
        }
        while let Some(n) = inners.get(h as usize) {
            *self.stack.get_mut(len).ok_or(BookError::Corrupt)? = MaybeUninit::new(h as u32);
            len += 1;
            h = n.children[0] as u64;
        }
        self.len = len;
        if h & LEAF64 == 0 {
            return Err(BookError::Corrupt);
        }
        Ok(Some((h & !LEAF64) as u32))
    }

    /// Starts the walk again at `root`.
    #[inline(always)]
    fn restart(&mut self, root: u32) {
        self.len = 0;
        self.pending = root;
        self.whole = true;
    }

    /// Whether the walk stands on leaf `target` (the last leaf yielded, not removed) with all
    /// of its ancestors on the stack.
    #[inline(always)]
    fn stands_on(&self, target: u64, root: u32, inners: &[InnerNode]) -> Result<bool, BookError> {
        if self.pending != NIL || !self.whole {
            return Ok(false);
        }
        Ok(match self.len {
            0 => root as u64 == target,
            len => inner(inners, self.entry(len - 1)?)?.children[0] as u64 == target,
        })
    }

    /// Removes the leaf `slot`, the tree's first (best) one, from the tree at `root`, which
    /// this walk is over and nothing else has changed since. Where the walk stands on it (it
    /// yielded it last, with every ancestor on the stack), that costs no descent; else the
    /// walk finds it from where it is, or failing that from the root. After it the walk goes
    /// on with the next leaf, and the tree is as [`remove`] leaves it. Returns `false`, with
    /// the tree unchanged, when `slot` is not the first leaf (a maker before it stays): the
    /// caller removes it by descent, and the walk starts again at the root when next used.
    ///
    /// Always inlined on SBF (a call would pass 6 arguments, beyond its 5 registers, and the
    /// inlined walk costs every fill fewer compute units); on the host the compiler's own
    /// choice runs fewer instructions.
    #[cfg_attr(
        any(target_arch = "bpf", target_arch = "sbf", target_os = "solana"),
        inline(always)
    )]
    pub(crate) fn remove_first(
        &mut self,
        root: &mut u32,
        alloc: &mut InnerAlloc,
        inners: &mut [InnerNode],
        slot: u32,
    ) -> Result<bool, BookError> {
        let target = (LEAF | slot) as u64;
        if !self.stands_on(target, *root, inners)? {
            // A pending subtree is only set while the stack is whole: descend it.
            let mut found = self.pending != NIL && self.next(inners)? == Some(slot);
            if !found {
                self.restart(*root);
                found = self.next(inners)? == Some(slot);
            }
            if !found {
                // Not where any walk from the root stands: start again when next used.
                self.len = 0;
                self.pending = NIL;
                self.whole = false;
                return Ok(false);
            }
        }
        // The leaf is the left child of the top entry (the root when the stack is empty).
        let Some(top) = self.len.checked_sub(1) else {
            *root = NIL;
            return Ok(true);
        };
        let parent = self.entry(top)?;
        let sibling = inner(inners, parent)?.children[1];
        match top.checked_sub(1) {
            Some(g) => {
                let grand = self.entry(g)?;
                inners
                    .get_mut(grand as usize)
                    .ok_or(BookError::Corrupt)?
                    .children[0] = sibling
            }
            None => *root = sibling,
        }
        alloc.release(inners, parent as u32)?;
        self.len = top;
        self.pending = sibling;
        Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Order, Spine};
    use bytemuck::Zeroable;

    struct Tree {
        root: u32,
        bump: u32,
        free: u32,
        inners: Vec<InnerNode>,
    }

    /// Matching's removals through the walk leave the tree exactly as removals by descent:
    /// random trees (few prices, so levels with several orders), a walk that read 1 to 6
    /// leaves before the removals start (so it stands on the first, or elsewhere and must find
    /// it again), then the leaves taken off best first, some skipped (a maker partly filled
    /// stays; the next one is then not the first), comparing both trees after each.
    #[test]
    fn walk_removals_match_descent_removals() {
        const CAP: usize = 96;
        let mut rng = crate::TestRng(0x2545_F491_4F6C_DD1D);
        for case in 0..2_000 {
            let n = 1 + rng.next() as usize % CAP;
            let mut orders = vec![Order::zeroed(); CAP];
            let mut a = Tree {
                root: NIL,
                bump: 0,
                free: NIL,
                inners: vec![InnerNode::zeroed(); CAP],
            };
            let mut spine = Spine::zeroed();
            for (seq, slot) in (0..n as u32).enumerate() {
                let o = &mut orders[slot as usize];
                o.key_hi = rng.next() % 7;
                o.key_lo = seq as u64;
                let mut root = a.root;
                let mut alloc = InnerAlloc {
                    bump: &mut a.bump,
                    free: &mut a.free,
                };
                insert(
                    &mut root,
                    &mut alloc,
                    &mut a.inners,
                    &orders,
                    slot,
                    Some(&mut spine),
                )
                .unwrap();
                a.root = root;
                assert!(spine.is_left_spine_of(a.root, &a.inners), "case {case}");
            }
            let mut b = Tree {
                root: a.root,
                bump: a.bump,
                free: a.free,
                inners: a.inners.clone(),
            };
            // A third copy takes the same removals through its spine (descent with the spine
            // kept when the leaf is not the first).
            let mut c = Tree {
                root: a.root,
                bump: a.bump,
                free: a.free,
                inners: a.inners.clone(),
            };
            let mut walk = TreeIter::new(a.root);
            let mut order = Vec::new();
            let mut reader = TreeIter::new(a.root);
            while let Some(slot) = reader.next(&a.inners).unwrap() {
                order.push(slot);
            }
            assert_eq!(order.len(), n);
            for _ in 0..(1 + rng.next() % 6) {
                walk.next(&a.inners).unwrap();
            }
            let mut left = Vec::new();
            for (i, &slot) in order.iter().enumerate() {
                if rng.next().is_multiple_of(5) {
                    left.push(slot);
                    continue;
                }
                let mut root = a.root;
                let inners = &mut a.inners;
                let mut alloc = InnerAlloc {
                    bump: &mut a.bump,
                    free: &mut a.free,
                };
                if !walk
                    .remove_first(&mut root, &mut alloc, inners, slot)
                    .unwrap()
                {
                    remove(&mut root, &mut alloc, inners, &orders, slot, None).unwrap();
                }
                a.root = root;
                let mut root = b.root;
                let mut alloc = InnerAlloc {
                    bump: &mut b.bump,
                    free: &mut b.free,
                };
                remove(&mut root, &mut alloc, &mut b.inners, &orders, slot, None).unwrap();
                b.root = root;
                let mut root = c.root;
                let mut alloc = InnerAlloc {
                    bump: &mut c.bump,
                    free: &mut c.free,
                };
                if !spine
                    .remove_first(&mut root, &mut alloc, &mut c.inners, slot)
                    .unwrap()
                {
                    remove(
                        &mut root,
                        &mut alloc,
                        &mut c.inners,
                        &orders,
                        slot,
                        Some(&mut spine),
                    )
                    .unwrap();
                }
                c.root = root;
                assert_eq!(
                    (c.root, c.free, &c.inners),
                    (b.root, b.free, &b.inners),
                    "case {case}, spine removal {i}"
                );
                assert!(spine.is_left_spine_of(c.root, &c.inners), "case {case}");
                assert_eq!(
                    (a.root, a.free, &a.inners),
                    (b.root, b.free, &b.inners),
                    "case {case}, removal {i}"
                );
                // the walk goes on with the next leaf
                if left.is_empty() && i + 1 < n && rng.next().is_multiple_of(4) {
                    assert_eq!(walk.next(&a.inners).unwrap(), Some(order[i + 1]));
                }
            }
            let mut rest = Vec::new();
            let mut reader = TreeIter::new(a.root);
            while let Some(slot) = reader.next(&a.inners).unwrap() {
                rest.push(slot);
            }
            assert_eq!(rest, left, "case {case}: the leaves skipped stay, in order");
        }
    }
}
