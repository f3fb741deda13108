//! The book over a byte buffer: its parts, load and init, lookups, and taking an order off.
//! Everything else (the side cursor, queries, place, cancels, the event ring) builds on it.

use crate::error::BookError;
use crate::layout::{
    BookHeader, FillEvent, InnerNode, Layout, Order, SideHeader, Spine, BOOK_MAGIC, NIL,
};
use crate::order::{OrderId, OrderSide};
use crate::tree::{self, InnerAlloc, TreeIter};
use crate::MAX_ORDER_CAPACITY;

/// A mutable view of a book stored in a byte buffer.
pub struct Book<'a> {
    pub(crate) header: &'a mut BookHeader,
    /// Each side's fixed-price tree's left spine.
    pub(crate) spines: [&'a mut Spine; 2],
    pub(crate) orders: [&'a mut [Order]; 2],
    pub(crate) inners: [&'a mut [InnerNode]; 2],
    pub(crate) events: &'a mut [FillEvent],
}

/// The root of a side's fixed or pegged tree, and the side's inner-node allocator.
#[inline(always)]
pub(crate) fn tree_of(sh: &mut SideHeader, pegged: bool) -> (&mut u32, InnerAlloc<'_>) {
    let root = if pegged {
        &mut sh.pegged_root
    } else {
        &mut sh.fixed_root
    };
    (
        root,
        InnerAlloc {
            bump: &mut sh.inner_bump,
            free: &mut sh.inner_free,
        },
    )
}

impl<'a> Book<'a> {
    /// Bytes a book with these capacities needs.
    pub const fn size_of(order_capacity: u32, event_capacity: u32) -> usize {
        Layout::new(order_capacity, event_capacity).size
    }

    pub(crate) fn split(
        bytes: &'a mut [u8],
        order_capacity: u32,
        event_capacity: u32,
    ) -> Result<Book<'a>, BookError> {
        let l = Layout::new(order_capacity, event_capacity);
        if bytes.len() < l.size {
            return Err(BookError::InvalidLayout);
        }
        let bytes = &mut bytes[..l.size];
        let (head, rest) = bytes.split_at_mut(l.spines);
        let (bid_spine, rest) = rest.split_at_mut(core::mem::size_of::<Spine>());
        let (ask_spine, rest) =
            rest.split_at_mut(l.orders[0] - l.spines - core::mem::size_of::<Spine>());
        let (bid_orders, rest) = rest.split_at_mut(l.inners[0] - l.orders[0]);
        let (bid_inners, rest) = rest.split_at_mut(l.orders[1] - l.inners[0]);
        let (ask_orders, rest) = rest.split_at_mut(l.inners[1] - l.orders[1]);
        let (ask_inners, events) = rest.split_at_mut(l.events - l.inners[1]);
        let inner_bytes = l.order_capacity * core::mem::size_of::<InnerNode>();
        let cast_err = |_| BookError::InvalidLayout;
        Ok(Book {
            header: bytemuck::try_from_bytes_mut(head).map_err(cast_err)?,
            spines: [
                bytemuck::try_from_bytes_mut(bid_spine).map_err(cast_err)?,
                bytemuck::try_from_bytes_mut(ask_spine).map_err(cast_err)?,
            ],
            orders: [
                bytemuck::try_cast_slice_mut(bid_orders).map_err(cast_err)?,
                bytemuck::try_cast_slice_mut(ask_orders).map_err(cast_err)?,
            ],
            inners: [
                bytemuck::try_cast_slice_mut(&mut bid_inners[..inner_bytes]).map_err(cast_err)?,
                bytemuck::try_cast_slice_mut(&mut ask_inners[..inner_bytes]).map_err(cast_err)?,
            ],
            events: bytemuck::try_cast_slice_mut(events).map_err(cast_err)?,
        })
    }

    /// Writes an empty book into `bytes` (at least [`Book::size_of`] long, 8-byte aligned).
    pub fn init(
        bytes: &'a mut [u8],
        order_capacity: u32,
        event_capacity: u32,
    ) -> Result<Book<'a>, BookError> {
        if order_capacity == 0 || order_capacity > MAX_ORDER_CAPACITY || event_capacity == 0 {
            return Err(BookError::InvalidCapacity);
        }
        let mut book = Self::split(bytes, order_capacity, event_capacity)?;
        for sp in book.spines.iter_mut() {
            sp.len = 0;
        }
        let side = SideHeader {
            fixed_root: NIL,
            pegged_root: NIL,
            order_count: 0,
            order_bump: 0,
            order_free: NIL,
            inner_bump: 0,
            inner_free: NIL,
            _reserved: 0,
        };
        *book.header = BookHeader {
            magic: BOOK_MAGIC,
            order_seq: 0,
            event_seq: 0,
            order_capacity,
            event_capacity,
            event_head: 0,
            event_count: 0,
            _padding: [0; 2],
            sides: [side; 2],
        };
        Ok(book)
    }

    /// Reads a book written by [`Book::init`].
    pub fn load(bytes: &'a mut [u8]) -> Result<Book<'a>, BookError> {
        let head_len = core::mem::size_of::<BookHeader>();
        if bytes.len() < head_len {
            return Err(BookError::InvalidLayout);
        }
        let h: &BookHeader =
            bytemuck::try_from_bytes(&bytes[..head_len]).map_err(|_| BookError::InvalidLayout)?;
        if h.magic != BOOK_MAGIC {
            return Err(BookError::NotInitialized);
        }
        let (oc, ec) = (h.order_capacity, h.event_capacity);
        Self::split(bytes, oc, ec)
    }

    /// The header (capacities, counters, roots).
    pub fn header(&self) -> &BookHeader {
        self.header
    }

    /// Resting orders on `side`.
    pub fn order_count(&self, side: OrderSide) -> u32 {
        self.header.sides[side as usize].order_count
    }

    /// Whether each side's stored spine is its fixed tree's left spine (a check for tests:
    /// it walks both spines).
    #[doc(hidden)]
    pub fn spines_consistent(&self) -> bool {
        (0..2).all(|s| {
            self.spines[s].is_left_spine_of(self.header.sides[s].fixed_root, self.inners[s])
        })
    }

    /// Looks up a resting order by id.
    pub fn find(&self, id: OrderId) -> Result<Option<&Order>, BookError> {
        let s = id.side() as usize;
        let sh = &self.header.sides[s];
        let root = if id.is_pegged() {
            sh.pegged_root
        } else {
            sh.fixed_root
        };
        Ok(
            match tree::find(root, self.inners[s], self.orders[s], (id.hi, id.lo))? {
                Some(slot) => self.orders[s].get(slot as usize),
                None => None,
            },
        )
    }

    /// Takes the order in `slot` of side `s` off the book and frees its slot. Makers leave in
    /// priority order, each the first of its tree: a fixed-price one through the side's spine,
    /// a pegged one through `walk`, the walk that found it (else `None`); either way with no
    /// descent. Any other order is removed by descent.
    pub(crate) fn remove(
        &mut self,
        s: usize,
        slot: u32,
        walk: Option<&mut TreeIter>,
    ) -> Result<(), BookError> {
        let pegged = self.orders[s]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?
            .is_pegged();
        let (root, mut alloc) = tree_of(&mut self.header.sides[s], pegged);
        if pegged {
            let first = match walk {
                Some(w) => w.remove_first(root, &mut alloc, self.inners[s], slot)?,
                None => false,
            };
            if !first {
                tree::remove(root, &mut alloc, self.inners[s], self.orders[s], slot, None)?;
            }
        } else {
            // A fixed-price maker matching takes off is its tree's first: the spine has it.
            let spine = &mut *self.spines[s];
            if !spine.remove_first(root, &mut alloc, self.inners[s], slot)? {
                tree::remove(
                    root,
                    &mut alloc,
                    self.inners[s],
                    self.orders[s],
                    slot,
                    Some(spine),
                )?;
            }
        }
        self.free_slot(s, slot)
    }

    /// [`Book::remove`] of an order a descent for its key already located (a cancel by order
    /// id: one descent finds the order and the path its removal unlinks).
    pub(crate) fn remove_at(
        &mut self,
        s: usize,
        pegged: bool,
        at: &tree::Spot,
    ) -> Result<(), BookError> {
        let (root, mut alloc) = tree_of(&mut self.header.sides[s], pegged);
        let spine = (!pegged).then_some(&mut *self.spines[s]);
        tree::unlink(root, &mut alloc, self.inners[s], at, spine)?;
        self.free_slot(s, at.slot)
    }

    /// Returns a removed order's slot to its side's free list.
    #[inline(always)]
    fn free_slot(&mut self, s: usize, slot: u32) -> Result<(), BookError> {
        let o = self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)?;
        let sh = &mut self.header.sides[s];
        o.quantity = 0;
        o.next_free = sh.order_free;
        sh.order_free = slot;
        sh.order_count -= 1;
        Ok(())
    }
}
