//! Taking orders off by their owner: cancel by id or client id, reduce in place, cancel-all.

use crate::book::Book;
use crate::error::BookError;
use crate::listener::BookListener;
use crate::order::{
    CancelAllOutcome, CancelledOrder, OrderId, OrderSide, OutReason, ReduceOutcome,
};
use crate::owners::{self, same_key, split_handle, OwnerIter};
use crate::tree;
use crate::MAX_CANCEL_ALL_VISITS;

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
            self.cancel_slot(s, slot, None, listener)?;
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
        self.cancel_slot(s, slot, None, listener)
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
        side: Option<OrderSide>,
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
                self.cancel_slot(s, slot, None, listener)?;
                out.cancelled += 1;
            }
        }
        Ok(out)
    }
}
