//! Taking orders off by their owner: cancel by id or client id, reduce in place, cancel-all.
//! By id: one descent of the order's price tree. By client id and cancel-all: a scan of the
//! owner's [`OpenOrders`] list (at most [`crate::MAX_OPEN_ORDERS`] entries).

use crate::arith::same_key;
use crate::book::Book;
use crate::error::BookError;
use crate::layout::OpenOrders;
use crate::listener::BookListener;
use crate::open_orders::entry_side;
use crate::order::{
    CancelAllOutcome, CancelledOrder, OrderId, OrderSide, OutReason, ReduceOutcome,
};
use crate::tree;

impl<'a> Book<'a> {
    /// Cancels the order in `slot` of side `s`; `at`: where a descent for its key found it,
    /// when the caller has that.
    fn cancel_slot<L: BookListener>(
        &mut self,
        s: usize,
        slot: u32,
        at: Option<&tree::Spot>,
        listener: &mut L,
    ) -> Result<CancelledOrder, BookError> {
        let o = *self.orders[s]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?;
        listener.on_out(&o, OutReason::Cancelled);
        match at {
            Some(at) => self.remove_at(s, o.is_pegged(), at)?,
            None => self.remove(s, slot, None)?,
        }
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
        // One descent: it finds the order and the path its removal unlinks.
        let at = tree::locate(root, self.inners[s], self.orders[s], (id.hi, id.lo))?
            .ok_or(BookError::OrderNotFound)?;
        let o = self.orders[s]
            .get(at.slot as usize)
            .ok_or(BookError::Corrupt)?;
        if !same_key(&o.owner, owner) {
            return Err(BookError::OrderNotFound);
        }
        self.cancel_slot(s, at.slot, Some(&at), listener)
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

    /// [`Book::reduce`] by the owner's client order id (not 0), looked up in the owner's
    /// list (whose entry is cleared when the reduce cancels the order).
    pub fn reduce_by_client_id<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        list: &mut OpenOrders,
        client_order_id: u64,
        by: u64,
        listener: &mut L,
    ) -> Result<ReduceOutcome, BookError> {
        if client_order_id == 0 {
            return Err(BookError::OrderNotFound);
        }
        let i = self
            .client_entry(owner, list, client_order_id)
            .ok_or(BookError::OrderNotFound)?;
        let e = list.entries[i];
        let out = self.reduce_slot(owner, entry_side(&e), e.slot, by, listener)?;
        if out.remaining == 0 {
            list.clear(i);
        }
        Ok(out)
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
            self.cancel_slot(s, slot, None, listener)?;
        } else {
            listener.on_reduce(o, by);
            o.quantity = out.remaining;
        }
        Ok(out)
    }

    /// Cancels `owner`'s resting order with this client order id (not 0), looked up in the
    /// owner's list (whose entry is cleared).
    pub fn cancel_by_client_id<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        list: &mut OpenOrders,
        client_order_id: u64,
        listener: &mut L,
    ) -> Result<CancelledOrder, BookError> {
        if client_order_id == 0 {
            return Err(BookError::OrderNotFound);
        }
        let i = self
            .client_entry(owner, list, client_order_id)
            .ok_or(BookError::OrderNotFound)?;
        let e = list.entries[i];
        let out = self.cancel_slot(entry_side(&e), e.slot, None, listener)?;
        list.clear(i);
        Ok(out)
    }

    /// Cancels up to `limit` of `owner`'s resting orders that `list` records (on one side,
    /// or both when `side` is `None`), last entry first, and clears their entries and the stale
    /// ones it meets. Call again until `complete`. At most [`crate::MAX_OPEN_ORDERS`] entries
    /// are read, whatever the book holds.
    pub fn cancel_all<L: BookListener>(
        &mut self,
        owner: &[u8; 32],
        list: &mut OpenOrders,
        side: Option<OrderSide>,
        limit: u32,
        listener: &mut L,
    ) -> Result<CancelAllOutcome, BookError> {
        let mut out = CancelAllOutcome {
            cancelled: 0,
            complete: true,
        };
        // Last entry first: clearing one moves the last entry into its place, which the walk
        // has already passed.
        for i in (0..list.written().len()).rev() {
            let e = list.entries[i];
            if self.entry_order(&e, owner).is_none() {
                list.clear(i); // stale: the order left the book
                continue;
            }
            let s = entry_side(&e);
            if side.is_some_and(|side| side as usize != s) {
                continue;
            }
            if out.cancelled == limit {
                out.complete = false;
                break;
            }
            self.cancel_slot(s, e.slot, None, listener)?;
            list.clear(i);
            out.cancelled += 1;
        }
        Ok(out)
    }
}
