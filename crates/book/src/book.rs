//! The book over a byte buffer: load, place (plan, then commit), cancel, consume events.

use crate::arith::{add_signed, mul_checked};
use crate::error::BookError;
use crate::layout::{
    BookHeader, FillEvent, InnerNode, Layout, Order, OwnerNode, SideHeader, BOOK_MAGIC, NIL,
    SLOT_EXPIRY,
};
use crate::order::{
    bias_offset, unbias_offset, CancelAllOutcome, CancelledOrder, MatchContext, NewOrder, OrderId,
    OrderKind, OutReason, PlaceOutcome, ReduceOutcome, SelfTradeBehavior, Side, SEQ_MASK,
};
use crate::owners::{self, handle, same_key, split_handle, OwnerIter, OwnerTree};
use crate::tree::{self, InnerAlloc, TreeIter};
use crate::{
    MAX_CANCEL_ALL_VISITS, MAX_FILLS_PER_PLACE, MAX_ORDER_CAPACITY, MAX_REMOVALS_PER_PLACE,
};
use core::mem::MaybeUninit;

/// Receives what happens to orders, so a program can emit events for indexers. Every method
/// has an empty default.
pub trait BookListener {
    /// A maker fill, after it was appended to the queue.
    fn on_fill(&mut self, _event: &FillEvent) {}
    /// A resting order left the book without being filled (the order as it was).
    fn on_out(&mut self, _order: &Order, _reason: OutReason) {}
    /// An order came to rest on the book.
    fn on_post(&mut self, _order: &Order) {}
    /// Self-trade prevention (`DecrementTake`) took `quantity` off a resting order (shown as
    /// it was before); at zero the order leaves the book with no further call.
    fn on_decrement(&mut self, _order: &Order, _quantity: u64) {}
    /// Its owner reduced a resting order in place by `quantity` (shown as it was before; it
    /// keeps its time priority). A reduction to zero is reported as `on_out(.., Cancelled)`.
    fn on_reduce(&mut self, _order: &Order, _quantity: u64) {}
}

/// A listener that ignores everything.
pub struct NoopListener;
impl BookListener for NoopListener {}

/// A resting order with its decoded id and current effective price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub id: OrderId,
    pub order: Order,
    /// Ticks; for pegged orders at the given oracle price (`None` without one, or when the
    /// order is beyond its peg limit).
    pub price: Option<u64>,
}

/// A mutable view of a book stored in a byte buffer.
pub struct Book<'a> {
    pub(crate) header: &'a mut BookHeader,
    pub(crate) orders: [&'a mut [Order]; 2],
    pub(crate) inners: [&'a mut [InnerNode]; 2],
    pub(crate) owner_nodes: &'a mut [OwnerNode],
    pub(crate) events: &'a mut [FillEvent],
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Action {
    Fill,
    Expire,
    PegOut,
    SelfCancel,
    SelfDecrement,
}

/// One planned change to a maker: its slot in the low bits, the [`Action`] above
/// [`STEP_ACTION_SHIFT`]. Quantities and prices are not stored: applying the steps in order
/// recomputes them exactly as planning did (the makers do not change in between), which keeps
/// `place`'s frame inside SBF's 4 KiB.
type Step = u32;
const STEP_ACTION_SHIFT: u32 = 28;
const _: () = assert!(crate::MAX_ORDER_CAPACITY <= 1 << STEP_ACTION_SHIFT);

#[inline(always)]
fn step_action(step: Step) -> Action {
    match step >> STEP_ACTION_SHIFT {
        0 => Action::Fill,
        1 => Action::Expire,
        2 => Action::PegOut,
        3 => Action::SelfCancel,
        _ => Action::SelfDecrement,
    }
}

const MAX_STEPS: usize = (MAX_FILLS_PER_PLACE + MAX_REMOVALS_PER_PLACE) as usize;

/// What a place will do, decided before anything is written.
///
/// `steps` is left uninitialized (zeroing it cost about 1 CU per entry per place on SBF);
/// only `steps[..len]` is read, and each is written before `len` grows past it.
struct Plan {
    steps: [MaybeUninit<Step>; MAX_STEPS],
    len: usize,
    fills: u32,
    removals: u32,
}

/// The taker as the commit of a place applies its steps.
struct Taker<'o> {
    order: &'o NewOrder,
    now: u64,
    /// Base lots not yet filled or decremented.
    remaining: u64,
    /// Quote lots the budget still allows (quote-amount orders; unused when the budget is 0).
    quote_left: u64,
    /// Pricing of the makers' pegged orders (the taker's side, which holds the clamp, does
    /// not change while the steps apply).
    peg: PegContext,
}

/// Where and what a place rests.
struct Resting {
    id: OrderId,
    quantity: u64,
    now: u64,
    /// The owner-tree leaf nearest the order's key, when the place found it already.
    near: Option<u64>,
}

/// A maker the cursor yields: its slot, its price now, and whether it is within its peg
/// limit (fixed-price orders always are).
#[derive(Clone, Copy)]
struct Maker {
    slot: u32,
    price: u64,
    in_peg: bool,
}

/// Walks one side's fixed and pegged trees together, best price first, then oldest.
///
/// Every resting order is yielded in turn, including expired ones and pegged ones beyond
/// their peg limit, so that callers count them against their budget: nothing is skipped
/// inside the cursor, and no loop here is longer than one tree descent.
struct SideCursor {
    fixed: TreeIter,
    pegged: TreeIter,
    next_fixed: Option<Maker>,
    next_pegged: Option<Maker>,
    side: Side,
    peg: PegContext,
}

/// What pricing a side's pegged orders needs: the oracle price and the clamp, one tick
/// behind the opposite side's first fixed-price order (so a pegged order never crosses a
/// fixed-price one, whatever the oracle does).
#[derive(Clone, Copy)]
pub(crate) struct PegContext {
    oracle: Option<u64>,
    /// Bids: the highest price a pegged bid may have; asks: the lowest.
    clamp: Option<u64>,
}

#[inline(always)]
fn fixed_price(side: Side, key_hi: u64) -> u64 {
    match side {
        Side::Bid => !key_hi,
        Side::Ask => key_hi,
    }
}

/// Price of a pegged order on `side` now: oracle + offset, clamped behind the opposite
/// side's first fixed-price order. Returns the price (0 or `u64::MAX` when it leaves the
/// range, which never crosses a valid limit the wrong way) and whether the order is within
/// its peg limit and can trade. `None` without an oracle.
#[inline(always)]
fn pegged_price(side: Side, o: &Order, peg: &PegContext) -> Option<(u64, bool)> {
    let offset = unbias_offset(fixed_price(side, o.key_hi));
    let oracle = peg.oracle?;
    let nominal = add_signed(oracle, offset);
    let (p, mut ok) = match (nominal, side) {
        (Some(p), Side::Bid) => match peg.clamp {
            Some(c) if p > c => (c, c > 0),
            _ => (p, true),
        },
        (Some(p), Side::Ask) => match peg.clamp {
            Some(c) if p < c => (c, true),
            _ => (p, true),
        },
        // Out of range: worse than any valid price, never tradable.
        (None, _) if offset < 0 => (0, false),
        (None, _) => (u64::MAX, false),
    };
    if o.peg_limit != 0 {
        let beyond = match side {
            Side::Bid => p > o.peg_limit,
            Side::Ask => p < o.peg_limit,
        };
        ok &= !beyond;
    }
    Some((p, ok))
}

/// The root of a side's fixed or pegged tree, and the side's inner-node allocator.
#[inline(always)]
fn tree_of(sh: &mut SideHeader, pegged: bool) -> (&mut u32, InnerAlloc<'_>) {
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

/// Whether a taker on `taker_side` with limit `limit` trades with a maker at `maker_price`.
#[inline(always)]
fn crosses(taker_side: Side, limit: u64, maker_price: u64) -> bool {
    match taker_side {
        Side::Bid => maker_price <= limit,
        Side::Ask => maker_price >= limit,
    }
}

#[inline(always)]
fn is_expired(o: &Order, ctx: &MatchContext) -> bool {
    let e = o.expires_at;
    e != 0
        && if e & SLOT_EXPIRY == 0 {
            e <= ctx.now
        } else {
            e & !SLOT_EXPIRY <= ctx.slot
        }
}

impl SideCursor {
    // Not inlined, so the two tree stacks are written once, in the caller's frame, without
    // temporaries that would push `place` over SBF's 4 KiB stack frame limit.
    #[inline(never)]
    fn new(book: &Book, side: Side, oracle: Option<u64>) -> Result<SideCursor, BookError> {
        let sh = &book.header.sides[side as usize];
        let pegged_root = if oracle.is_some() {
            sh.pegged_root
        } else {
            NIL
        };
        let mut c = SideCursor {
            fixed: TreeIter::new(sh.fixed_root),
            pegged: TreeIter::new(pegged_root),
            next_fixed: None,
            next_pegged: None,
            side,
            peg: PegContext {
                oracle,
                clamp: None,
            },
        };
        if pegged_root != NIL {
            c.peg = book.peg_context(side, oracle)?;
        }
        c.advance_fixed(book)?;
        c.advance_pegged(book)?;
        Ok(c)
    }

    fn advance_fixed(&mut self, book: &Book) -> Result<(), BookError> {
        let s = self.side as usize;
        self.next_fixed = match self.fixed.next(book.inners[s])? {
            Some(slot) => {
                let o = book.orders[s]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?;
                Some(Maker {
                    slot,
                    price: fixed_price(self.side, o.key_hi),
                    in_peg: true,
                })
            }
            None => None,
        };
        Ok(())
    }

    fn advance_pegged(&mut self, book: &Book) -> Result<(), BookError> {
        let s = self.side as usize;
        self.next_pegged = match self.pegged.next(book.inners[s])? {
            Some(slot) => {
                let o = book.orders[s]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?;
                let (price, in_peg) =
                    pegged_price(self.side, o, &self.peg).ok_or(BookError::MissingOraclePrice)?;
                Some(Maker {
                    slot,
                    price,
                    in_peg,
                })
            }
            None => None,
        };
        Ok(())
    }

    /// The next maker in priority order.
    fn next(&mut self, book: &Book) -> Result<Option<Maker>, BookError> {
        let take_fixed = match (self.next_fixed, self.next_pegged) {
            (None, None) => return Ok(None),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(f), Some(p)) => {
                if f.price != p.price {
                    better(self.side, f.price, p.price)
                } else {
                    let s = self.side as usize;
                    let seq = |slot: u32| -> Result<u64, BookError> {
                        Ok(book.orders[s]
                            .get(slot as usize)
                            .ok_or(BookError::Corrupt)?
                            .key_lo
                            & SEQ_MASK)
                    };
                    seq(f.slot)? < seq(p.slot)?
                }
            }
        };
        Ok(if take_fixed {
            let r = self.next_fixed;
            self.advance_fixed(book)?;
            r
        } else {
            let r = self.next_pegged;
            self.advance_pegged(book)?;
            r
        })
    }
}

/// Whether price `a` is strictly better than `b` for resting orders on `side`.
#[inline(always)]
fn better(side: Side, a: u64, b: u64) -> bool {
    match side {
        Side::Bid => a > b,
        Side::Ask => a < b,
    }
}

impl<'a> Book<'a> {
    /// Bytes a book with these capacities needs.
    pub const fn size_of(order_capacity: u32, event_capacity: u32) -> usize {
        Layout::new(order_capacity, event_capacity).size
    }

    fn split(
        bytes: &'a mut [u8],
        order_capacity: u32,
        event_capacity: u32,
    ) -> Result<Book<'a>, BookError> {
        let l = Layout::new(order_capacity, event_capacity);
        if bytes.len() < l.size {
            return Err(BookError::InvalidLayout);
        }
        let bytes = &mut bytes[..l.size];
        let (head, rest) = bytes.split_at_mut(l.orders[0]);
        let (bid_orders, rest) = rest.split_at_mut(l.inners[0] - l.orders[0]);
        let (bid_inners, rest) = rest.split_at_mut(l.orders[1] - l.inners[0]);
        let (ask_orders, rest) = rest.split_at_mut(l.inners[1] - l.orders[1]);
        let (ask_inners, rest) = rest.split_at_mut(l.owner_inners - l.inners[1]);
        let (owner_inners, events) = rest.split_at_mut(l.events - l.owner_inners);
        let inner_bytes = l.order_capacity * core::mem::size_of::<InnerNode>();
        let cast_err = |_| BookError::InvalidLayout;
        Ok(Book {
            header: bytemuck::try_from_bytes_mut(head).map_err(cast_err)?,
            orders: [
                bytemuck::try_cast_slice_mut(bid_orders).map_err(cast_err)?,
                bytemuck::try_cast_slice_mut(ask_orders).map_err(cast_err)?,
            ],
            inners: [
                bytemuck::try_cast_slice_mut(&mut bid_inners[..inner_bytes]).map_err(cast_err)?,
                bytemuck::try_cast_slice_mut(&mut ask_inners[..inner_bytes]).map_err(cast_err)?,
            ],
            owner_nodes: bytemuck::try_cast_slice_mut(owner_inners).map_err(cast_err)?,
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
        let book = Self::split(bytes, order_capacity, event_capacity)?;
        let side = SideHeader {
            fixed_root: NIL,
            pegged_root: NIL,
            order_count: 0,
            order_bump: 0,
            order_free: NIL,
            inner_bump: 0,
            inner_free: NIL,
            _padding: 0,
        };
        *book.header = BookHeader {
            magic: BOOK_MAGIC,
            order_seq: 0,
            event_seq: 0,
            order_capacity,
            event_capacity,
            event_head: 0,
            event_count: 0,
            owner_root: NIL,
            owner_inner_bump: 0,
            owner_inner_free: NIL,
            _padding: 0,
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
    pub fn order_count(&self, side: Side) -> u32 {
        self.header.sides[side as usize].order_count
    }

    /// The pricing context of `side`'s pegged orders at `oracle`.
    #[inline(never)]
    pub(crate) fn peg_context(
        &self,
        side: Side,
        oracle: Option<u64>,
    ) -> Result<PegContext, BookError> {
        let opp = side.opposite();
        let o = opp as usize;
        let clamp = match tree::first(self.header.sides[o].fixed_root, self.inners[o])? {
            Some(slot) => {
                let key_hi = self.orders[o]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?
                    .key_hi;
                let p = fixed_price(opp, key_hi);
                Some(match side {
                    Side::Bid => p.saturating_sub(1),
                    Side::Ask => p.saturating_add(1),
                })
            }
            None => None,
        };
        Ok(PegContext { oracle, clamp })
    }

    /// Best price on `side` among orders that can trade now, in ticks. A query for callers
    /// off-chain and for tests: it walks past expired and out-of-peg orders without a bound
    /// (placing never calls it; matching counts such orders against its budget instead).
    pub fn best_price(&self, side: Side, ctx: &MatchContext) -> Result<Option<u64>, BookError> {
        let mut best = None;
        self.visit_tradable(side, ctx, |v| {
            best = v.price;
            false
        })?;
        Ok(best)
    }

    /// Calls `f` for every resting order of `side` that can trade at `ctx`, best first
    /// (expired and out-of-peg orders are skipped). Stops early when `f` returns false.
    pub fn visit_tradable(
        &self,
        side: Side,
        ctx: &MatchContext,
        mut f: impl FnMut(&OrderView) -> bool,
    ) -> Result<(), BookError> {
        let mut c = SideCursor::new(self, side, ctx.oracle_price)?;
        while let Some(m) = c.next(self)? {
            let o = self.orders[side as usize]
                .get(m.slot as usize)
                .ok_or(BookError::Corrupt)?;
            if is_expired(o, ctx) || !m.in_peg {
                continue;
            }
            let v = OrderView {
                id: OrderId {
                    hi: o.key_hi,
                    lo: o.key_lo,
                },
                order: *o,
                price: Some(m.price),
            };
            if !f(&v) {
                break;
            }
        }
        Ok(())
    }

    /// Calls `f` for every resting order of `side`: the fixed tree best first, then the pegged
    /// tree best offset first. Includes expired and out-of-peg orders (a pegged order's price
    /// is `None` without an oracle or when it is beyond its peg limit).
    pub fn visit_all(
        &self,
        side: Side,
        oracle_price: Option<u64>,
        mut f: impl FnMut(&OrderView),
    ) -> Result<(), BookError> {
        let s = side as usize;
        let peg = self.peg_context(side, oracle_price)?;
        for (root, pegged) in [
            (self.header.sides[s].fixed_root, false),
            (self.header.sides[s].pegged_root, true),
        ] {
            let mut it = TreeIter::new(root);
            while let Some(slot) = it.next(self.inners[s])? {
                let o = self.orders[s]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?;
                let price = if pegged {
                    pegged_price(side, o, &peg).and_then(|(p, ok)| ok.then_some(p))
                } else {
                    Some(fixed_price(side, o.key_hi))
                };
                f(&OrderView {
                    id: OrderId {
                        hi: o.key_hi,
                        lo: o.key_lo,
                    },
                    order: *o,
                    price,
                });
            }
        }
        Ok(())
    }

    #[inline(always)]
    pub(crate) fn order_at(&self, h: u32) -> Result<&Order, BookError> {
        let (side, slot) = split_handle(h);
        self.orders[side]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)
    }

    /// The owner tree, borrowed from the book's parts.
    #[inline(always)]
    fn owner_tree(&mut self) -> OwnerTree<'_> {
        let h = &mut *self.header;
        let [bids, asks] = &mut self.orders;
        OwnerTree {
            root: &mut h.owner_root,
            bump: &mut h.owner_inner_bump,
            free: &mut h.owner_inner_free,
            nodes: &mut *self.owner_nodes,
            orders: [&mut **bids, &mut **asks],
        }
    }

    /// Handle of `owner`'s resting order with client id `client_order_id` (not 0).
    #[inline(always)]
    fn find_client_handle(
        &self,
        owner: &[u8; 32],
        client_order_id: u64,
    ) -> Result<Option<u32>, BookError> {
        owners::find(
            self.header.owner_root,
            self.owner_nodes,
            &[&*self.orders[0], &*self.orders[1]],
            owner,
            client_order_id,
        )
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

    /// Looks up a resting order by its owner's client order id.
    pub fn find_by_client_id(
        &self,
        owner: &[u8; 32],
        client_order_id: u64,
    ) -> Result<Option<&Order>, BookError> {
        if client_order_id == 0 {
            return Ok(None);
        }
        Ok(match self.find_client_handle(owner, client_order_id)? {
            Some(h) => Some(self.order_at(h)?),
            None => None,
        })
    }

    /// Places an order: matches what crosses it, then rests, cancels or refuses the rest as
    /// its kind says. Either returns the outcome with every change made, or an error with the
    /// book unchanged.
    ///
    /// Compute is bounded whatever the book holds: the walk over the opposite side meets at
    /// most `max_fills` makers it fills and [`MAX_REMOVALS_PER_PLACE`] it removes (expired,
    /// beyond their peg limit, or cancelled by self-trade prevention); when either budget
    /// stops it while the book still crosses, the remainder is cancelled, never rested.
    pub fn place<L: BookListener>(
        &mut self,
        o: &NewOrder,
        ctx: &MatchContext,
        listener: &mut L,
    ) -> Result<PlaceOutcome, BookError> {
        if o.quantity == 0 {
            return Err(BookError::ZeroQuantity);
        }
        if o.max_fills == 0 || o.max_fills > MAX_FILLS_PER_PLACE {
            return Err(BookError::InvalidFillLimit);
        }
        if (o.expires_at | o.expires_at_slot) & SLOT_EXPIRY != 0
            || (o.expires_at != 0 && o.expires_at_slot != 0)
        {
            return Err(BookError::InvalidExpiry);
        }
        if (o.expires_at != 0 && o.expires_at <= ctx.now)
            || (o.expires_at_slot != 0 && o.expires_at_slot <= ctx.slot)
        {
            return Err(BookError::AlreadyExpired);
        }
        if o.quote_budget != 0
            && !matches!(o.kind, OrderKind::ImmediateOrCancel | OrderKind::Market)
        {
            return Err(BookError::InvalidQuoteBudget);
        }
        let pegged = o.kind == OrderKind::OraclePegged;
        let mut limit = if pegged {
            let oracle = ctx.oracle_price.ok_or(BookError::MissingOraclePrice)?;
            let p = add_signed(oracle, o.peg_offset).ok_or(BookError::InvalidPrice)?;
            match (o.price, o.side) {
                (0, _) => p,
                (cap, Side::Bid) => p.min(cap),
                (cap, Side::Ask) => p.max(cap),
            }
        } else {
            if o.price == 0 {
                return Err(BookError::InvalidPrice);
            }
            o.price
        };
        let opposite = o.side.opposite();
        let post_only = matches!(o.kind, OrderKind::PostOnly | OrderKind::PostOnlySlide);
        let may_rest = o.kind.may_rest();

        let mut out = PlaceOutcome::default();
        let mut plan = Plan {
            // SAFETY: an array of `MaybeUninit` needs no initialization. (Written this way,
            // not as `[MaybeUninit::uninit(); N]`, which LLVM turned into a memset.)
            steps: unsafe { MaybeUninit::uninit().assume_init() },
            len: 0,
            fills: 0,
            removals: 0,
        };
        let mut remaining = o.quantity;
        let mut stopped_early = false;
        let free_events = self.header.event_capacity - self.header.event_count;
        let mut cursor = SideCursor::new(self, opposite, ctx.oracle_price)?;
        while remaining > 0 {
            let Some(m) = cursor.next(self)? else {
                break;
            };
            if !crosses(o.side, limit, m.price) {
                break;
            }
            let maker = self.orders[opposite as usize]
                .get(m.slot as usize)
                .ok_or(BookError::Corrupt)?;
            let action = if is_expired(maker, ctx) {
                Action::Expire
            } else if !m.in_peg {
                Action::PegOut
            } else if post_only {
                // The best maker that can trade crosses: refuse, or slide behind it.
                if o.kind == OrderKind::PostOnly {
                    return Err(BookError::PostOnlyWouldCross);
                }
                limit = match o.side {
                    Side::Bid => m.price.checked_sub(1).filter(|p| *p > 0),
                    Side::Ask => m.price.checked_add(1),
                }
                .ok_or(BookError::InvalidPrice)?;
                break;
            } else if same_key(&maker.owner, &o.owner) {
                match o.self_trade {
                    SelfTradeBehavior::Abort => return Err(BookError::SelfTrade),
                    SelfTradeBehavior::CancelResting => Action::SelfCancel,
                    SelfTradeBehavior::DecrementTake => Action::SelfDecrement,
                }
            } else {
                Action::Fill
            };
            let mut quantity = remaining.min(maker.quantity);
            if action == Action::Fill {
                if o.quote_budget != 0 {
                    // What the budget left buys at this price; nothing: the order is done.
                    // (`quote_filled` never exceeds the budget.)
                    let afford = (o.quote_budget - out.quote_filled) / m.price;
                    if afford == 0 {
                        break;
                    }
                    quantity = quantity.min(afford);
                }
                if plan.fills == o.max_fills || plan.fills == free_events {
                    if free_events == 0 {
                        return Err(BookError::EventQueueFull);
                    }
                    stopped_early = true;
                    break;
                }
                let quote = mul_checked(quantity, m.price).ok_or(BookError::Overflow)?;
                out.quote_filled = out
                    .quote_filled
                    .checked_add(quote)
                    .ok_or(BookError::Overflow)?;
                // `quantity <= remaining`, and fills <= MAX_FILLS_PER_PLACE: these cannot
                // overflow, and wrapping ops spare SBF an overflow check and panic path each.
                out.base_filled = out.base_filled.wrapping_add(quantity);
                remaining = remaining.wrapping_sub(quantity);
                plan.fills = plan.fills.wrapping_add(1);
            } else {
                if plan.removals == MAX_REMOVALS_PER_PLACE {
                    stopped_early = true;
                    break;
                }
                plan.removals += 1;
                if action == Action::SelfDecrement {
                    remaining -= quantity;
                    out.cancelled_quantity += quantity;
                }
            }
            *plan.steps.get_mut(plan.len).ok_or(BookError::Corrupt)? =
                MaybeUninit::new(m.slot | (action as u32) << STEP_ACTION_SHIFT);
            plan.len = plan.len.wrapping_add(1); // at most MAX_STEPS
        }
        if o.kind == OrderKind::FillOrKill && remaining > 0 {
            return Err(BookError::FillOrKillNotFilled);
        }
        if out.base_filled < o.min_base_fill || out.quote_filled < o.min_quote_fill {
            return Err(BookError::SlippageExceeded);
        }
        // The client id must be new among the owner's resting orders (checked on the book as
        // it was; the descent's leaf is where the order's key goes if nothing else changes).
        let mut near = None;
        if may_rest && o.client_order_id != 0 {
            let k = owners::lookup_key(&o.owner, o.client_order_id);
            near = owners::descend(self.header.owner_root, self.owner_nodes, &k)?;
            if let Some(leaf) = near {
                let orders = [&*self.orders[0], &*self.orders[1]];
                if owners::is_client_order(&orders, leaf, &o.owner, o.client_order_id)? {
                    return Err(BookError::DuplicateClientOrderId);
                }
            }
        }
        if plan.len > 0 {
            near = None; // makers leave the owner tree first
        }
        let mut rest = may_rest && remaining > 0 && !stopped_early;
        let mut evict = None;
        if rest && self.header.sides[o.side as usize].order_count >= self.header.order_capacity {
            // A full side: the order evicts the side's worst order if it is strictly better.
            evict = Some(self.evictable(o.side, limit, ctx.oracle_price)?);
            near = None;
        }

        // Commit: nothing below can fail on a book this engine wrote.
        let seq = self.header.order_seq;
        self.header.order_seq = seq.checked_add(1).ok_or(BookError::Overflow)?;
        let key_price = if pegged {
            bias_offset(o.peg_offset)
        } else {
            limit
        };
        out.order_id = OrderId::new(o.side, pegged, key_price, seq);
        out.fills = plan.fills;
        out.makers_removed = plan.removals;
        let mut taker = Taker {
            order: o,
            now: ctx.now,
            remaining: o.quantity,
            quote_left: o.quote_budget,
            peg: cursor.peg,
        };
        for step in plan.steps.get(..plan.len).ok_or(BookError::Corrupt)? {
            // SAFETY: the planning loop wrote every step below `plan.len`.
            let step = unsafe { step.assume_init() };
            self.apply(opposite, step, &mut taker, listener)?;
        }
        if rest && pegged && self.pegged_offsets_cross(o.side, o.peg_offset)? {
            // Resting would let some oracle price cross it with an opposite pegged order.
            rest = false;
        }
        if rest {
            if let Some(slot) = evict {
                let s = o.side as usize;
                let worst = *self.orders[s]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?;
                listener.on_out(&worst, OutReason::Evicted);
                self.remove(s, slot, false)?;
                out.evicted = Some(OrderId {
                    hi: worst.key_hi,
                    lo: worst.key_lo,
                });
            }
            let at = Resting {
                id: out.order_id,
                quantity: remaining,
                now: ctx.now,
                near,
            };
            self.rest(o, &at, listener)?;
            out.posted_quantity = remaining;
            out.posted_price = limit;
        } else {
            out.cancelled_quantity += remaining;
        }
        Ok(out)
    }

    /// The slot of `side`'s worst order (the worse of its fixed and pegged trees' last
    /// orders; pegged ones at their price now, or worst of all without an oracle), if an order
    /// resting at `price` is strictly better than it; `SideFull` otherwise.
    fn evictable(&self, side: Side, price: u64, oracle: Option<u64>) -> Result<u32, BookError> {
        let s = side as usize;
        let sh = &self.header.sides[s];
        let order = |slot: u32| self.orders[s].get(slot as usize).ok_or(BookError::Corrupt);
        let fixed = match tree::last(sh.fixed_root, self.inners[s])? {
            Some(slot) => Some((slot, fixed_price(side, order(slot)?.key_hi))),
            None => None,
        };
        let pegged = match tree::last(sh.pegged_root, self.inners[s])? {
            Some(slot) => {
                let peg = self.peg_context(side, oracle)?;
                match pegged_price(side, order(slot)?, &peg) {
                    Some((p, true)) => Some((slot, p)),
                    // Untradable now: worse than any price.
                    _ => Some((slot, if side == Side::Bid { 0 } else { u64::MAX })),
                }
            }
            None => None,
        };
        let worst = match (fixed, pegged) {
            (Some(f), Some(p)) => {
                if better(side, f.1, p.1) {
                    p
                } else if better(side, p.1, f.1)
                    || order(f.0)?.key_lo & SEQ_MASK > order(p.0)?.key_lo & SEQ_MASK
                {
                    f
                } else {
                    p
                }
            }
            (Some(w), None) | (None, Some(w)) => w,
            (None, None) => return Err(BookError::SideFull),
        };
        if better(side, price, worst.1) {
            Ok(worst.0)
        } else {
            Err(BookError::SideFull)
        }
    }

    /// Whether a pegged order on `side` with `offset` would cross the opposite side's best
    /// pegged offset (pegged orders on both sides move together, so such a pair would cross
    /// at some oracle price once their clamps or peg limits allow).
    fn pegged_offsets_cross(&self, side: Side, offset: i64) -> Result<bool, BookError> {
        let opp = side.opposite();
        let o = opp as usize;
        let Some(slot) = tree::first(self.header.sides[o].pegged_root, self.inners[o])? else {
            return Ok(false);
        };
        let key_hi = self.orders[o]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?
            .key_hi;
        let theirs = unbias_offset(fixed_price(opp, key_hi));
        Ok(match side {
            Side::Bid => theirs <= offset,
            Side::Ask => theirs >= offset,
        })
    }

    #[inline(always)]
    fn apply<L: BookListener>(
        &mut self,
        maker_side: Side,
        step: Step,
        taker: &mut Taker,
        listener: &mut L,
    ) -> Result<(), BookError> {
        let s = maker_side as usize;
        let slot = step & ((1 << STEP_ACTION_SHIFT) - 1);
        let action = step_action(step);
        let maker = self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)?;
        let out_reason = match action {
            Action::Fill => {
                // As planned: the maker's quantity or the taker's remainder, at the maker's
                // price now.
                let mut quantity = taker.remaining.min(maker.quantity);
                let price = if maker.key_lo & crate::order::PEGGED_TAG != 0 {
                    pegged_price(maker_side, maker, &taker.peg)
                        .ok_or(BookError::Corrupt)?
                        .0
                } else {
                    fixed_price(maker_side, maker.key_hi)
                };
                if taker.order.quote_budget != 0 {
                    quantity = quantity.min(taker.quote_left / price);
                    // Planned within the budget: no overflow (and no 128-bit multiply on SBF).
                    taker.quote_left -= quantity.wrapping_mul(price);
                }
                taker.remaining -= quantity;
                maker.quantity = maker.quantity.wrapping_sub(quantity);
                let maker_out = maker.quantity == 0;
                let t = taker.order;
                let event = FillEvent {
                    maker: maker.owner,
                    taker: t.owner,
                    maker_order_id_hi: maker.key_hi,
                    maker_order_id_lo: maker.key_lo,
                    maker_client_order_id: maker.client_order_id,
                    taker_client_order_id: t.client_order_id,
                    price,
                    quantity,
                    timestamp: taker.now,
                    seq: self.header.event_seq,
                    taker_side: t.side as u8,
                    maker_out: maker_out as u8,
                    _padding: [0; 6],
                };
                self.push_event(&event)?;
                listener.on_fill(&event);
                if maker_out {
                    return self.remove(s, slot, true);
                }
                return Ok(());
            }
            Action::Expire => OutReason::Expired,
            Action::PegOut => OutReason::PegLimit,
            Action::SelfCancel => OutReason::SelfTrade,
            Action::SelfDecrement => {
                let quantity = taker.remaining.min(maker.quantity);
                taker.remaining -= quantity;
                listener.on_decrement(maker, quantity);
                maker.quantity -= quantity;
                if maker.quantity > 0 {
                    return Ok(());
                }
                return self.remove(s, slot, true);
            }
        };
        listener.on_out(maker, out_reason);
        self.remove(s, slot, true)
    }

    fn rest<L: BookListener>(
        &mut self,
        o: &NewOrder,
        at: &Resting,
        listener: &mut L,
    ) -> Result<(), BookError> {
        let (id, quantity, now) = (at.id, at.quantity, at.now);
        let s = o.side as usize;
        let capacity = self.header.order_capacity;
        let sh = &mut self.header.sides[s];
        let slot = if sh.order_free != NIL {
            let slot = sh.order_free;
            sh.order_free = self.orders[s]
                .get(slot as usize)
                .ok_or(BookError::Corrupt)?
                .next_free;
            slot
        } else if sh.order_bump < capacity {
            sh.order_bump += 1;
            sh.order_bump - 1
        } else {
            return Err(BookError::SideFull);
        };
        sh.order_count += 1;
        let order = Order {
            owner: o.owner,
            key_hi: id.hi,
            key_lo: id.lo,
            quantity,
            client_order_id: o.client_order_id,
            expires_at: if o.expires_at_slot != 0 {
                o.expires_at_slot | SLOT_EXPIRY
            } else {
                o.expires_at
            },
            peg_limit: if id.is_pegged() { o.price } else { 0 },
            placed_at: now,
            owner_parent: NIL,
            next_free: NIL,
        };
        *self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)? = order;
        let (root, mut alloc) = tree_of(&mut self.header.sides[s], id.is_pegged());
        tree::insert(root, &mut alloc, self.inners[s], self.orders[s], slot)?;
        self.owner_tree().insert(handle(s, slot), at.near)?;
        listener.on_post(&order);
        Ok(())
    }

    /// Takes the order in `slot` of side `s` off the book and frees its slot. `in_order`: the
    /// order is probably the best of its tree (matching removes makers in priority order), so
    /// try the cheaper left-spine removal first.
    fn remove(&mut self, s: usize, slot: u32, in_order: bool) -> Result<(), BookError> {
        self.owner_tree().remove(handle(s, slot))?;
        let pegged = self.orders[s]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?
            .key_lo
            & crate::order::PEGGED_TAG
            != 0;
        let (root, mut alloc) = tree_of(&mut self.header.sides[s], pegged);
        if !(in_order && tree::remove_first(root, &mut alloc, self.inners[s], slot)?) {
            tree::remove(root, &mut alloc, self.inners[s], self.orders[s], slot)?;
        }
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

    fn push_event(&mut self, event: &FillEvent) -> Result<(), BookError> {
        let h = &mut *self.header;
        if h.event_count >= h.event_capacity {
            return Err(BookError::EventQueueFull);
        }
        let mut pos = h.event_head + h.event_count;
        if pos >= h.event_capacity {
            pos -= h.event_capacity;
        }
        *self
            .events
            .get_mut(pos as usize)
            .ok_or(BookError::Corrupt)? = *event;
        // Below the capacity checked above; a 64-bit sequence does not wrap in practice.
        h.event_count = h.event_count.wrapping_add(1);
        h.event_seq = h.event_seq.wrapping_add(1);
        Ok(())
    }

    fn cancel_slot<L: BookListener>(
        &mut self,
        s: usize,
        slot: u32,
        listener: &mut L,
    ) -> Result<CancelledOrder, BookError> {
        let o = *self.orders[s]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?;
        listener.on_out(&o, OutReason::Cancelled);
        self.remove(s, slot, false)?;
        Ok(CancelledOrder {
            order_id: OrderId {
                hi: o.key_hi,
                lo: o.key_lo,
            },
            client_order_id: o.client_order_id,
            quantity: o.quantity,
        })
    }

    /// Cancels `owner`'s resting order `id`. `OrderNotFound` if no such order is the owner's.
    pub fn cancel<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        id: OrderId,
        listener: &mut L,
    ) -> Result<CancelledOrder, BookError> {
        let s = id.side() as usize;
        let sh = &self.header.sides[s];
        let root = if id.is_pegged() {
            sh.pegged_root
        } else {
            sh.fixed_root
        };
        let slot = tree::find(root, self.inners[s], self.orders[s], (id.hi, id.lo))?
            .ok_or(BookError::OrderNotFound)?;
        let o = self.orders[s]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?;
        if !same_key(&o.owner, owner) {
            return Err(BookError::OrderNotFound);
        }
        self.cancel_slot(s, slot, listener)
    }

    /// Takes `by` base lots off `owner`'s resting order `id` in place: it keeps its price and
    /// time priority. When `by` is at least what rests, the order is cancelled.
    /// `OrderNotFound` if no such order is the owner's; `ZeroQuantity` if `by` is 0.
    pub fn reduce<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        id: OrderId,
        by: u64,
        listener: &mut L,
    ) -> Result<ReduceOutcome, BookError> {
        let s = id.side() as usize;
        let sh = &self.header.sides[s];
        let root = if id.is_pegged() {
            sh.pegged_root
        } else {
            sh.fixed_root
        };
        let slot = tree::find(root, self.inners[s], self.orders[s], (id.hi, id.lo))?
            .ok_or(BookError::OrderNotFound)?;
        self.reduce_slot(owner, s, slot, by, listener)
    }

    /// [`Book::reduce`] by the owner's client order id (not 0).
    pub fn reduce_by_client_id<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        client_order_id: u64,
        by: u64,
        listener: &mut L,
    ) -> Result<ReduceOutcome, BookError> {
        if client_order_id == 0 {
            return Err(BookError::OrderNotFound);
        }
        let h = self
            .find_client_handle(owner, client_order_id)?
            .ok_or(BookError::OrderNotFound)?;
        let (s, slot) = split_handle(h);
        self.reduce_slot(owner, s, slot, by, listener)
    }

    fn reduce_slot<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        s: usize,
        slot: u32,
        by: u64,
        listener: &mut L,
    ) -> Result<ReduceOutcome, BookError> {
        let o = self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)?;
        if !same_key(&o.owner, owner) {
            return Err(BookError::OrderNotFound);
        }
        if by == 0 {
            return Err(BookError::ZeroQuantity);
        }
        let out = ReduceOutcome {
            order_id: OrderId {
                hi: o.key_hi,
                lo: o.key_lo,
            },
            client_order_id: o.client_order_id,
            reduced: by.min(o.quantity),
            remaining: o.quantity.saturating_sub(by),
        };
        if out.remaining == 0 {
            self.cancel_slot(s, slot, listener)?;
        } else {
            listener.on_reduce(o, by);
            o.quantity = out.remaining;
        }
        Ok(out)
    }

    /// Cancels `owner`'s resting order with this client order id (not 0).
    pub fn cancel_by_client_id<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        client_order_id: u64,
        listener: &mut L,
    ) -> Result<CancelledOrder, BookError> {
        if client_order_id == 0 {
            return Err(BookError::OrderNotFound);
        }
        let h = self
            .find_client_handle(owner, client_order_id)?
            .ok_or(BookError::OrderNotFound)?;
        let (s, slot) = split_handle(h);
        self.cancel_slot(s, slot, listener)
    }

    /// Cancels up to `limit` of `owner`'s resting orders (on one side, or both when `side` is
    /// `None`), in the owner tree's order (client order id, then age), visiting at most
    /// [`MAX_CANCEL_ALL_VISITS`] of the owner's orders. Call again until `complete`.
    ///
    /// The walk visits only the owner's own orders: each cancelled one, plus, with a side
    /// given, the owner's orders on the other side it passes over (bounded by the visits).
    pub fn cancel_all<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        side: Option<Side>,
        limit: u32,
        listener: &mut L,
    ) -> Result<CancelAllOutcome, BookError> {
        let sub = owners::owner_subtree(
            self.header.owner_root,
            self.owner_nodes,
            &[&*self.orders[0], &*self.orders[1]],
            owner,
        )?;
        let mut out = CancelAllOutcome {
            cancelled: 0,
            complete: true,
        };
        let Some(sub) = sub else {
            return Ok(out);
        };
        let mut it = OwnerIter::new(sub);
        let mut visits = 0;
        loop {
            if out.cancelled == limit || visits == MAX_CANCEL_ALL_VISITS {
                out.complete = false;
                break;
            }
            let Some(h) = it.next(self.owner_nodes)? else {
                break;
            };
            visits += 1;
            let (s, slot) = split_handle(h);
            if side.is_none_or(|side| side as usize == s) {
                self.cancel_slot(s, slot, listener)?;
                out.cancelled += 1;
            }
        }
        Ok(out)
    }

    /// Unconsumed fill events.
    pub fn event_count(&self) -> u32 {
        self.header.event_count
    }

    /// The `i`-th unconsumed fill event, oldest first.
    pub fn event(&self, i: u32) -> Option<&FillEvent> {
        let h = &*self.header;
        if i >= h.event_count {
            return None;
        }
        let mut pos = h.event_head + i;
        if pos >= h.event_capacity {
            pos -= h.event_capacity;
        }
        self.events.get(pos as usize)
    }

    /// Drops the `n` oldest events (after the caller applied them).
    pub fn pop_events(&mut self, n: u32) -> Result<(), BookError> {
        let h = &mut *self.header;
        if n > h.event_count {
            return Err(BookError::NotEnoughEvents);
        }
        let mut head = h.event_head + n;
        if head >= h.event_capacity {
            head -= h.event_capacity;
        }
        h.event_head = head;
        h.event_count -= n;
        Ok(())
    }
}
