//! The side cursor: one side's fixed and pegged trees walked together in priority order, and
//! the pricing of pegged orders (oracle + offset, clamped behind the opposite fixed best).

use crate::arith::add_signed;
use crate::book::Book;
use crate::error::BookError;
use crate::layout::{Order, NIL, SLOT_EXPIRY};
use crate::order::{unbias_offset, MatchContext, OrderSide, SEQ_MASK};
use crate::tree::TreeIter;

/// A maker the cursor yields: its slot, its price now, and whether it is within its peg
/// limit (fixed-price orders always are).
#[derive(Clone, Copy)]
pub(crate) struct Maker {
    pub(crate) price: u64,
    pub(crate) slot: u32,
    pub(crate) in_peg: bool,
}

/// Walks one side's fixed and pegged trees together, best price first, then oldest.
///
/// Every resting order is yielded in turn, including expired ones and pegged ones beyond
/// their peg limit, so that callers count them against their budget: nothing is skipped
/// inside the cursor, and no loop here is longer than one tree descent. A tree is read only
/// when the cursor needs its next order (a taker that stops at its first maker never looks
/// past it).
pub(crate) struct SideCursor {
    fixed: TreeIter,
    pegged: TreeIter,
    /// Each tree's next order, once read: `[fixed, pegged]`.
    heads: [Option<Maker>; 2],
    /// Whether `heads[i]` is read (`false`: read it from its iterator first).
    ready: [bool; 2],
    /// Whether the fixed tree's first order was read (from the side's spine: no descent); the
    /// fixed walk starts from the spine when the cursor needs the next one.
    fixed_started: bool,
    /// Whether the fixed walk stands where the spine left it (set when it first moves on).
    fixed_walking: bool,
    /// Whether the pegged tree has been read at all.
    pegged_started: bool,
    /// The pegged tree's first order as the cursor's first read found it.
    pegged_first: Option<u32>,
    /// The taker's limit ([`any`] for the side until set: every pegged order priced exactly).
    /// When the pegged tree's first order, priced without the clamp, does not reach it, it is
    /// yielded at that price: the clamp only makes a pegged price worse for the taker, so the
    /// clamped price would not reach the limit either, its place among the makers up to the
    /// first that does not reach the limit is the same, and the caller stops there (reads no
    /// further pegged order). So the clamp, a spine walk of the taker's side, is read only
    /// when the first pegged order reaches the limit.
    pub(crate) limit: u64,
    pub(crate) side: OrderSide,
    pub(crate) peg: PegContext,
}

/// What pricing a side's pegged orders needs: the oracle price and the clamp, one tick
/// behind the opposite side's first fixed-price order (so a pegged order never crosses a
/// fixed-price one, whatever the oracle does).
#[derive(Clone, Copy)]
pub(crate) struct PegContext {
    oracle: Option<u64>,
    /// Bids: the highest price a pegged bid may have; asks: the lowest. `None` also while a
    /// cursor has not read it.
    clamp: Option<u64>,
}

#[inline(always)]
pub(crate) fn fixed_price(side: OrderSide, key_hi: u64) -> u64 {
    match side {
        OrderSide::Bid => !key_hi,
        OrderSide::Ask => key_hi,
    }
}

/// Price of a pegged order on `side` now: oracle + offset, clamped behind the opposite
/// side's first fixed-price order. Returns the price (0 or `u64::MAX` when it leaves the
/// range, which never crosses a valid limit the wrong way) and whether the order is within
/// its peg limit and can trade. `None` without an oracle.
#[inline(always)]
pub(crate) fn pegged_price(side: OrderSide, o: &Order, peg: &PegContext) -> Option<(u64, bool)> {
    let offset = unbias_offset(fixed_price(side, o.key_hi));
    let oracle = peg.oracle?;
    let nominal = add_signed(oracle, offset);
    let (p, mut ok) = match (nominal, side) {
        (Some(p), OrderSide::Bid) => match peg.clamp {
            Some(c) if p > c => (c, c > 0),
            _ => (p, true),
        },
        (Some(p), OrderSide::Ask) => match peg.clamp {
            Some(c) if p < c => (c, true),
            _ => (p, true),
        },
        // Out of range: worse than any valid price, never tradable.
        (None, _) if offset < 0 => (0, false),
        (None, _) => (u64::MAX, false),
    };
    if o.peg_limit != 0 {
        let beyond = match side {
            OrderSide::Bid => p > o.peg_limit,
            OrderSide::Ask => p < o.peg_limit,
        };
        ok &= !beyond;
    }
    Some((p, ok))
}

#[inline(always)]
pub(crate) fn is_expired(o: &Order, ctx: &MatchContext) -> bool {
    let e = o.expires_at;
    e != 0
        && if e & SLOT_EXPIRY == 0 {
            e <= ctx.now
        } else {
            e & !SLOT_EXPIRY <= ctx.slot
        }
}

impl SideCursor {
    /// A cursor over `side`, pegged orders priced at `oracle` (none read without one). Reads
    /// nothing yet.
    // Infallible, so the two tree stacks are written once, straight into the caller's frame
    // (no copy of the cursor out of a `Result`). Not inlined on SBF (no temporaries that
    // would push `place` over its 4 KiB stack frame limit); inlined on the host, where that
    // limit does not apply and the call cost a place about 20 instructions.
    #[cfg_attr(
        any(target_arch = "bpf", target_arch = "sbf", target_os = "solana"),
        inline(never)
    )]
    #[cfg_attr(
        not(any(target_arch = "bpf", target_arch = "sbf", target_os = "solana")),
        inline(always)
    )]
    pub(crate) fn new(book: &Book, side: OrderSide, oracle: Option<u64>) -> SideCursor {
        let sh = &book.header.sides[side as usize];
        let pegged_root = if oracle.is_some() {
            sh.pegged_root
        } else {
            NIL
        };
        SideCursor {
            fixed: TreeIter::new(sh.fixed_root),
            pegged: TreeIter::new(pegged_root),
            heads: [None, None],
            // An empty tree is read already: it has no next order.
            ready: [sh.fixed_root == NIL, pegged_root == NIL],
            fixed_started: false,
            fixed_walking: false,
            pegged_started: false,
            pegged_first: None,
            limit: any(side),
            side,
            // The clamp is read when a pegged order first reaches the limit.
            peg: PegContext {
                oracle,
                clamp: None,
            },
        }
    }

    #[inline(always)]
    fn advance_fixed(&mut self, book: &Book) -> Result<(), BookError> {
        self.advance(book, 0)
    }

    #[inline(never)]
    fn advance_pegged(&mut self, book: &Book) -> Result<(), BookError> {
        self.advance(book, 1)?;
        if !self.pegged_started {
            // Only the tree's first order is ever priced without the clamp: if it does not
            // reach the limit, the caller stops at it (or before), and reads no further.
            if let Some(m) = self.heads[1] {
                if reaches(self.side, m.price, self.limit) {
                    // It reaches the limit: read the clamp, price it again.
                    self.advance_again(book, m.slot)?;
                }
            }
            self.pegged_started = true;
            self.pegged_first = self.heads[1].map(|m| m.slot);
        }
        Ok(())
    }

    /// Reads the clamp and prices the pegged head `slot` again. (At most once a cursor: kept
    /// out of the per-order path.)
    #[cold]
    #[inline(never)]
    fn advance_again(&mut self, book: &Book, slot: u32) -> Result<(), BookError> {
        self.peg = book.peg_context(self.side, self.peg.oracle)?;
        let o = book.orders[self.side as usize]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?;
        let (price, in_peg) =
            pegged_price(self.side, o, &self.peg).ok_or(BookError::MissingOraclePrice)?;
        self.heads[1] = Some(Maker {
            price,
            slot,
            in_peg,
        });
        Ok(())
    }

    /// Reads tree `t`'s next order (0 fixed, 1 pegged) into `heads[t]`.
    #[inline(always)]
    fn advance(&mut self, book: &Book, t: usize) -> Result<(), BookError> {
        let s = self.side as usize;
        let slot = if t == 1 {
            self.pegged.next(book.inners[s])?
        } else if !self.fixed_started {
            // The tree's first order: the spine's last node's left child.
            self.fixed_started = true;
            book.spines[s].first(book.header.sides[s].fixed_root, book.inners[s])?
        } else {
            if !self.fixed_walking {
                self.fixed_walking = true;
                self.fixed.after_first(book.spines[s])?;
            }
            self.fixed.next(book.inners[s])?
        };
        self.ready[t] = true;
        self.heads[t] = match slot {
            Some(slot) => {
                let o = book.orders[s]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?;
                let (price, in_peg) = if t == 0 {
                    (fixed_price(self.side, o.key_hi), true)
                } else {
                    pegged_price(self.side, o, &self.peg).ok_or(BookError::MissingOraclePrice)?
                };
                Some(Maker {
                    price,
                    slot,
                    in_peg,
                })
            }
            None => None,
        };
        Ok(())
    }

    /// The walk over the pegged (`true`) or fixed-price tree: matching removes the makers
    /// it took through it, in the order it found them.
    #[inline(always)]
    pub(crate) fn walk(&mut self, pegged: bool) -> &mut TreeIter {
        if pegged {
            &mut self.pegged
        } else {
            &mut self.fixed
        }
    }

    /// The pegged tree's first order as the cursor found it (`Some(None)`: the tree was
    /// empty), or `None` when the cursor has not read the tree.
    #[inline(always)]
    pub(crate) fn pegged_first(&self) -> Option<Option<u32>> {
        if self.pegged_started && self.peg.oracle.is_some() {
            Some(self.pegged_first)
        } else {
            None
        }
    }

    /// The next maker in priority order.
    #[inline(always)]
    pub(crate) fn next(&mut self, book: &Book) -> Result<Option<Maker>, BookError> {
        if !self.ready[0] {
            self.advance_fixed(book)?;
        }
        if !self.ready[1] {
            self.advance_pegged(book)?;
        }
        let take_fixed = match (self.heads[0], self.heads[1]) {
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
        let t = (!take_fixed) as usize;
        self.ready[t] = false;
        Ok(self.heads[t])
    }
}

/// A taker limit every maker on `side` reaches.
#[inline(always)]
pub(crate) fn any(side: OrderSide) -> u64 {
    match side {
        OrderSide::Ask => u64::MAX,
        OrderSide::Bid => 0,
    }
}

/// Whether a maker on `side` at `price` trades with a taker whose limit is `limit`.
#[inline(always)]
pub(crate) fn reaches(side: OrderSide, price: u64, limit: u64) -> bool {
    match side {
        OrderSide::Ask => price <= limit,
        OrderSide::Bid => price >= limit,
    }
}

/// Whether price `a` is strictly better than `b` for resting orders on `side`.
#[inline(always)]
pub(crate) fn better(side: OrderSide, a: u64, b: u64) -> bool {
    match side {
        OrderSide::Bid => a > b,
        OrderSide::Ask => a < b,
    }
}

impl<'a> Book<'a> {
    /// The pricing context of `side`'s pegged orders at `oracle`.
    #[inline(never)]
    pub(crate) fn peg_context(
        &self,
        side: OrderSide,
        oracle: Option<u64>,
    ) -> Result<PegContext, BookError> {
        let opp = side.opposite();
        let o = opp as usize;
        let clamp = match self.spines[o].first(self.header.sides[o].fixed_root, self.inners[o])? {
            Some(slot) => {
                let key_hi = self.orders[o]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?
                    .key_hi;
                let p = fixed_price(opp, key_hi);
                Some(match side {
                    OrderSide::Bid => p.saturating_sub(1),
                    OrderSide::Ask => p.saturating_add(1),
                })
            }
            None => None,
        };
        Ok(PegContext { oracle, clamp })
    }
}
