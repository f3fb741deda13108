//! The owner's side of the book: its [`OpenOrders`] list, read against the book.
//!
//! Why a list the owner keeps, and not an index in the book: a resting place then writes one
//! entry instead of descending an owner index (the critbit owner tree this replaced cost
//! about 270 instructions a resting place), and what scans the list (cancel-all, a client-id
//! lookup, the duplicate client-id check) visits at most [`MAX_OPEN_ORDERS`] entries, all the
//! owner's own, whatever other owners put in the book. No hash: on-chain ids and owners are
//! public and could be chosen to collide.

use crate::arith::same_key;
use crate::book::Book;
use crate::error::BookError;
use crate::layout::{OpenOrderEntry, OpenOrders, Order, MAX_OPEN_ORDERS};
use crate::order::{OrderId, BID_TAG};

/// The side (0 bid, 1 ask) an entry's order rests on.
#[inline(always)]
pub(crate) fn entry_side(e: &OpenOrderEntry) -> usize {
    (e.order_id_lo & BID_TAG == 0) as usize
}

impl OpenOrders {
    /// An empty list.
    pub const fn new() -> OpenOrders {
        OpenOrders {
            len: 0,
            _padding: 0,
            entries: [OpenOrderEntry {
                order_id_lo: 0,
                slot: 0,
                client_order_id_lo: 0,
            }; MAX_OPEN_ORDERS],
        }
    }

    /// The entries written.
    #[inline(always)]
    pub(crate) fn written(&self) -> &[OpenOrderEntry] {
        let n = (self.len as usize).min(MAX_OPEN_ORDERS);
        &self.entries[..n]
    }

    /// Records the order just rested at `slot` in entry `i` (`len`: a new entry; below it,
    /// a stale one).
    #[inline(always)]
    pub(crate) fn record(&mut self, i: usize, id: OrderId, slot: u32, client_order_id: u64) {
        if let Some(e) = self.entries.get_mut(i) {
            e.order_id_lo = id.lo;
            e.slot = slot;
            e.client_order_id_lo = client_order_id as u32;
            if i as u32 >= self.len {
                self.len = i as u32 + 1;
            }
        }
    }

    /// Forgets entry `i` (its order left the book): the last entry takes its place.
    #[inline(always)]
    pub(crate) fn clear(&mut self, i: usize) {
        let Some(last) = (self.len as usize).min(MAX_OPEN_ORDERS).checked_sub(1) else {
            return;
        };
        if i <= last {
            self.entries[i] = self.entries[last];
            self.len = last as u32;
        }
    }
}

impl<'a> Book<'a> {
    /// The order entry `e` points at, while it still rests there and belongs to `owner`.
    #[inline(always)]
    pub(crate) fn entry_order(&self, e: &OpenOrderEntry, owner: &[u8; 32]) -> Option<&Order> {
        let o = self.orders[entry_side(e)].get(e.slot as usize)?;
        (o.key_lo == e.order_id_lo && o.quantity != 0 && same_key(&o.owner, owner)).then_some(o)
    }

    /// `owner`'s resting orders that `list` records, in entry order (stale entries skipped).
    pub fn open_orders<'s>(
        &'s self,
        owner: &'s [u8; 32],
        list: &'s OpenOrders,
    ) -> impl Iterator<Item = &'s Order> + 's {
        list.written()
            .iter()
            .filter_map(move |e| self.entry_order(e, owner))
    }

    /// The entry of `owner`'s resting order with client id `client_order_id` (not 0).
    pub(crate) fn client_entry(
        &self,
        owner: &[u8; 32],
        list: &OpenOrders,
        client_order_id: u64,
    ) -> Option<usize> {
        // The client id's low bits first: only a match reads its order.
        let lo = client_order_id as u32;
        for (i, e) in list.written().iter().enumerate() {
            if e.client_order_id_lo != lo {
                continue;
            }
            if let Some(o) = self.entry_order(e, owner) {
                if o.client_order_id == client_order_id {
                    return Some(i);
                }
            }
        }
        None
    }

    /// The entry a new resting order of `owner` takes: the next unwritten one, else the
    /// first stale one. Checks (when `client_order_id` is not 0) that no resting order of the owner has
    /// that client id. Read-only: the place writes the entry when it commits.
    #[inline(always)]
    pub(crate) fn entry_for_rest(
        &self,
        owner: &[u8; 32],
        list: &OpenOrders,
        client_order_id: u64,
    ) -> Result<usize, BookError> {
        if client_order_id != 0 && self.client_entry(owner, list, client_order_id).is_some() {
            return Err(BookError::DuplicateClientOrderId);
        }
        let len = list.written().len();
        if len < MAX_OPEN_ORDERS {
            return Ok(len);
        }
        // Every entry written: the first whose order has left the book.
        list.entries
            .iter()
            .position(|e| self.entry_order(e, owner).is_none())
            .ok_or(BookError::TooManyOpenOrders)
    }

    /// Looks up `owner`'s resting order by its client order id (`None` for 0).
    pub fn find_by_client_id(
        &self,
        owner: &[u8; 32],
        list: &OpenOrders,
        client_order_id: u64,
    ) -> Option<&Order> {
        if client_order_id == 0 {
            return None;
        }
        let i = self.client_entry(owner, list, client_order_id)?;
        self.entry_order(&list.entries[i], owner)
    }
}
