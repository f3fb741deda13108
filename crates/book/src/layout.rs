//! The byte layout of a book. Every type is `#[repr(C)]`, `Pod`, align <= 8, with its size
//! asserted, so the same bytes read alike on the host and on SBF.
//!
//! ```text
//! BookHeader
//! [Spine; 2]                         the fixed-price trees' left spines (bids, asks)
//! [Order; cap]  [InnerNode; cap]     bids
//! [Order; cap]  [InnerNode; cap]     asks
//! [FillEvent; events]                maker fill queue (ring buffer)
//! ```
//! Each region starts at a multiple of 8 bytes.

use bytemuck::{Pod, Zeroable};

/// Flag of [`Order::expires_at`]: the expiry is a slot, not a unix time.
pub const SLOT_EXPIRY: u64 = 1 << 63;

/// A handle that points nowhere.
pub const NIL: u32 = u32::MAX;
/// Marks a tree child handle as a leaf (an order slot) rather than an inner node.
pub const LEAF: u32 = 1 << 31;
/// Value of [`BookHeader::magic`] once initialized ("CARRYBK1").
pub const BOOK_MAGIC: u64 = u64::from_le_bytes(*b"CARRYBK1");

/// Per-side bookkeeping.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct SideHeader {
    /// Root handle of the fixed-price tree, or [`NIL`].
    pub fixed_root: u32,
    /// Root handle of the oracle-pegged tree, or [`NIL`].
    pub pegged_root: u32,
    /// Resting orders on this side (both trees).
    pub order_count: u32,
    /// Order slots below this index have been used at least once.
    pub order_bump: u32,
    /// Head of the free order-slot list (linked through `Order::next_free`), or [`NIL`].
    pub order_free: u32,
    /// Inner nodes below this index have been used at least once.
    pub inner_bump: u32,
    /// Head of the free inner-node list (linked through `children[0]`), or [`NIL`].
    pub inner_free: u32,
    /// Unused (0).
    pub _reserved: u32,
}
const _: () = assert!(core::mem::size_of::<SideHeader>() == 32);

/// The fixed-size head of a book buffer.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct BookHeader {
    /// [`BOOK_MAGIC`] once initialized.
    pub magic: u64,
    /// Sequence number the next placed order gets (time priority).
    pub order_seq: u64,
    /// Sequence number of the next fill event pushed.
    pub event_seq: u64,
    /// Order slots per side.
    pub order_capacity: u32,
    /// Slots of the fill event queue.
    pub event_capacity: u32,
    /// Queue position of the oldest unconsumed event.
    pub event_head: u32,
    /// Unconsumed events in the queue.
    pub event_count: u32,
    pub _padding: [u32; 2],
    /// Bids at 0, asks at 1.
    pub sides: [SideHeader; 2],
}
const _: () = assert!(core::mem::size_of::<BookHeader>() == 112);
const _: () = assert!(core::mem::align_of::<BookHeader>() == 8);

/// Most inner nodes on a root-to-leaf path of a 128-bit critbit tree.
pub const MAX_TREE_DEPTH: usize = 128;

/// The left spine of a side's fixed-price tree: the inner nodes from the root down to the
/// first (best) leaf, each the left child of the one before. The place reads the opposite
/// side's best order, and matching takes it off, without a descent; every change to the tree
/// keeps it (an insert or a removal touches it only when it happens on the spine).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct Spine {
    /// Entries in `nodes` (0: the tree is empty or its root is a leaf).
    pub len: u32,
    pub _padding: u32,
    /// Inner-node handles, root first; the first leaf is `nodes[len - 1]`'s left child.
    pub nodes: [u32; MAX_TREE_DEPTH],
}
const _: () = assert!(core::mem::size_of::<Spine>() == 520);

/// A resting order (a critbit leaf).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct Order {
    /// The trader that owns it.
    pub owner: [u8; 32],
    /// `OrderId::hi`: the tree key's high word (price or biased offset).
    pub key_hi: u64,
    /// `OrderId::lo`: side and pegged tags, sequence number.
    pub key_lo: u64,
    /// Remaining base lots; always > 0 while resting.
    pub quantity: u64,
    /// Caller's id, 0 = none.
    pub client_order_id: u64,
    /// Unix seconds from which it no longer trades (expired once `expires_at <= now`);
    /// 0 = never. With [`SLOT_EXPIRY`] set, the rest is a slot instead (expired once it is
    /// `<= slot`).
    pub expires_at: u64,
    /// Pegged orders: the peg limit in ticks (0 = none). Fixed orders: 0.
    pub peg_limit: u64,
    /// Unix seconds when it was placed.
    pub placed_at: u64,
    /// Unused (0).
    pub _reserved: u32,
    /// Links the side's free slot list while the slot is free ([`NIL`] ends it).
    pub next_free: u32,
}
impl Order {
    /// Whether it is oracle-pegged (its key's pegged tag, as [`crate::OrderId::is_pegged`]).
    #[inline(always)]
    pub fn is_pegged(&self) -> bool {
        self.key_lo & crate::order::PEGGED_TAG != 0
    }
}
const _: () = assert!(core::mem::size_of::<Order>() == 96);
const _: () = assert!(core::mem::align_of::<Order>() == 8);

/// A critbit inner node: the index of the first bit where its two subtrees differ.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct InnerNode {
    /// Critical bit, 0 = most significant bit of the 128-bit key.
    pub crit_bit: u32,
    /// Child handles: `children[0]` holds keys with the bit clear (better orders first).
    pub children: [u32; 2],
}
const _: () = assert!(core::mem::size_of::<InnerNode>() == 12);

/// [`FillEvent::kind`] of a maker fill.
pub const EVENT_FILL: u8 = 0;
/// [`FillEvent::kind`] of another owner's order that a place took off the book without a fill
/// (met expired or beyond its peg limit while matching, or evicted from a full side): the
/// authority releases what the owner had resting (its account is not in the place).
pub const EVENT_OUT: u8 = 1;

/// One queued event for the authority to apply and pop: a maker fill ([`EVENT_FILL`]), or an
/// order of another owner removed by a place ([`EVENT_OUT`]: `maker` is its owner, `quantity`
/// the lots it still had, `price` its price in ticks (0 for a pegged order), the order id its
/// side; `taker` and `taker_side` are the place's).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq)]
pub struct FillEvent {
    /// Owner of the resting order.
    pub maker: [u8; 32],
    /// Owner of the incoming order.
    pub taker: [u8; 32],
    /// Maker's `OrderId::hi`.
    pub maker_order_id_hi: u64,
    /// Maker's `OrderId::lo`.
    pub maker_order_id_lo: u64,
    /// Maker's client order id (0 = none).
    pub maker_client_order_id: u64,
    /// Taker's client order id (0 = none).
    pub taker_client_order_id: u64,
    /// Fill price in ticks.
    pub price: u64,
    /// Base lots filled.
    pub quantity: u64,
    /// Unix seconds of the fill.
    pub timestamp: u64,
    /// Event sequence number in this market.
    pub seq: u64,
    /// OrderSide of the taker: 0 bid, 1 ask.
    pub taker_side: u8,
    /// 1 when the maker order left the book with this fill (always 1 for [`EVENT_OUT`]).
    pub maker_out: u8,
    /// [`EVENT_FILL`] or [`EVENT_OUT`].
    pub kind: u8,
    pub _padding: [u8; 5],
}

impl FillEvent {
    /// Side of the maker's (or removed) order: from its order id.
    pub fn maker_side(&self) -> crate::OrderSide {
        crate::OrderId {
            hi: self.maker_order_id_hi,
            lo: self.maker_order_id_lo,
        }
        .side()
    }
    /// Whether this is a fill (else an out event).
    pub fn is_fill(&self) -> bool {
        self.kind == EVENT_FILL
    }
}
const _: () = assert!(core::mem::size_of::<FillEvent>() == 136);
const _: () = assert!(core::mem::align_of::<FillEvent>() == 8);

/// Byte offsets of each region for given capacities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub order_capacity: usize,
    pub event_capacity: usize,
    /// The two [`Spine`]s.
    pub spines: usize,
    pub orders: [usize; 2],
    pub inners: [usize; 2],
    pub events: usize,
    /// Total bytes.
    pub size: usize,
}

#[inline(always)]
const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

impl Layout {
    /// The layout of a book with `order_capacity` orders per side and `event_capacity` queued
    /// fill events.
    pub const fn new(order_capacity: u32, event_capacity: u32) -> Layout {
        let cap = order_capacity as usize;
        let order_bytes = cap * core::mem::size_of::<Order>();
        let inner_bytes = align8(cap * core::mem::size_of::<InnerNode>());
        let spines = core::mem::size_of::<BookHeader>();
        let bid_orders = spines + 2 * core::mem::size_of::<Spine>();
        let bid_inners = bid_orders + order_bytes;
        let ask_orders = bid_inners + inner_bytes;
        let ask_inners = ask_orders + order_bytes;
        let events = ask_inners + inner_bytes;
        let size = events + event_capacity as usize * core::mem::size_of::<FillEvent>();
        Layout {
            order_capacity: cap,
            event_capacity: event_capacity as usize,
            spines,
            orders: [bid_orders, ask_orders],
            inners: [bid_inners, ask_inners],
            events,
            size,
        }
    }
}

/// Most orders one [`OpenOrders`] list holds: an owner's resting orders in one book.
pub const MAX_OPEN_ORDERS: usize = 32;

/// One entry of an [`OpenOrders`] list: where an order of the owner rests.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq, Default)]
pub struct OpenOrderEntry {
    /// The order's `OrderId::lo` (side and pegged tags, sequence number: unique in its book).
    pub order_id_lo: u64,
    /// The order's slot in its side's order slab.
    pub slot: u32,
    /// The low 32 bits of the order's client id: a client-id lookup reads only the orders
    /// whose entry matches them.
    pub client_order_id_lo: u32,
}
const _: () = assert!(core::mem::size_of::<OpenOrderEntry>() == 16);

/// An owner's index of its resting orders in one book, kept in the owner's own account (a
/// margin account's perp position, an open-orders account), not in the book: a resting place
/// writes one entry, and cancel-all and client-id lookups scan only these entries.
///
/// Bounded: an owner rests at most [`MAX_OPEN_ORDERS`] orders in a book
/// (`TooManyOpenOrders`). The book does not come back to the list when an order leaves
/// through another owner's place (filled, expired, beyond its peg limit, evicted) or a cancel
/// by order id: an entry counts only while its slot still holds its order (same
/// `order_id_lo`, quantity above 0; sequence numbers are never reused), and a place reuses a
/// stale entry once all are written. The entries in use are `entries[..len]` (a cancel
/// through the list moves the last one into the place it frees), so a scan reads only those.
///
/// The caller passes the owner's own list: another owner's orders are never touched through
/// a list, but a list passed for the wrong owner is rewritten (its entries look stale).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable, Debug, PartialEq, Eq, Default)]
pub struct OpenOrders {
    /// Entries written (`entries[..len]`; each may be stale).
    pub len: u32,
    pub _padding: u32,
    /// The entries; those at `len` and above mean nothing.
    pub entries: [OpenOrderEntry; MAX_OPEN_ORDERS],
}
const _: () = assert!(MAX_OPEN_ORDERS <= 32);
const _: () = assert!(core::mem::size_of::<OpenOrders>() == 8 + 16 * MAX_OPEN_ORDERS);
const _: () = assert!(core::mem::align_of::<OpenOrders>() == 8);
