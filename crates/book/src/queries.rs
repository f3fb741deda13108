//! Read-only queries: best price, the tradable orders in priority order, every order.

use crate::book::Book;
use crate::cursor::{fixed_price, is_expired, pegged_price, SideCursor};
use crate::error::BookError;
use crate::layout::Order;
use crate::order::{MatchContext, OrderId, OrderSide};
use crate::tree::TreeIter;

/// A resting order with its decoded id and current effective price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderView {
    pub id: OrderId,
    pub order: Order,
    /// Ticks; for pegged orders at the given oracle price (`None` without one, or when the
    /// order is beyond its peg limit).
    pub price: Option<u64>,
}

impl<'a> Book<'a> {
    /// Best price on `side` among orders that can trade now, in ticks. A query for callers
    /// off-chain and for tests: it walks past expired and out-of-peg orders without a bound
    /// (placing never calls it; matching counts such orders against its budget instead).
    pub fn best_price(
        &self,
        side: OrderSide,
        ctx: &MatchContext,
    ) -> Result<Option<u64>, BookError> {
        let mut best = None;
        self.visit_tradable(side, ctx, |v| {
            best = v.price;
            false
        })?;
        Ok(best)
    }

    /// Calls `f` for every resting order of `side` that can trade at `ctx`, best first
    /// (expired and out-of-peg orders are skipped). Stops early when `f` returns false.
    /// Unbounded: off-chain views only; on-chain callers use [`Book::visit_tradable_bounded`].
    pub fn visit_tradable(
        &self,
        side: OrderSide,
        ctx: &MatchContext,
        f: impl FnMut(&OrderView) -> bool,
    ) -> Result<(), BookError> {
        self.visit_tradable_bounded(side, ctx, u32::MAX, f)
            .map(|_| ())
    }

    /// [`Book::visit_tradable`] that looks at no more than `max_visits` orders in all, skipped
    /// (expired, out-of-peg) ones included, so its cost is bounded whatever the book holds.
    /// Returns false when it stopped at that bound rather than at the side's end or at `f`.
    pub fn visit_tradable_bounded(
        &self,
        side: OrderSide,
        ctx: &MatchContext,
        max_visits: u32,
        mut f: impl FnMut(&OrderView) -> bool,
    ) -> Result<bool, BookError> {
        let mut c = SideCursor::new(self, side, ctx.oracle_price);
        let mut visits = 0u32;
        while let Some(m) = c.next(self)? {
            if visits == max_visits {
                return Ok(false);
            }
            visits += 1;
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
        Ok(true)
    }

    /// Calls `f` for every resting order of `side`: the fixed tree best first, then the pegged
    /// tree best offset first. Includes expired and out-of-peg orders (a pegged order's price
    /// is `None` without an oracle or when it is beyond its peg limit).
    pub fn visit_all(
        &self,
        side: OrderSide,
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
}
