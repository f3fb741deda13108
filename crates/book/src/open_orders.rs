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

/// Every bit of [`OpenOrders::used`] that names an entry.
pub(crate) const ALL_ENTRIES: u32 = if MAX_OPEN_ORDERS == 32 {
    u32::MAX
} else {
    (1u32 << MAX_OPEN_ORDERS) - 1
};

/// The side (0 bid, 1 ask) an entry's order rests on.
#[inline(always)]
pub(crate) fn entry_side(e: &OpenOrderEntry) -> usize {
    (e.order_id_lo & BID_TAG == 0) as usize
}

impl OpenOrders {
    /// An empty list.
    pub const fn new() -> OpenOrders {
        OpenOrders {
            used: 0,
            _padding: 0,
            entries: [OpenOrderEntry {
                order_id_lo: 0,
                slot: 0,
                _padding: 0,
            }; MAX_OPEN_ORDERS],
        }
    }

    /// Records the order just rested at `slot` in entry `i`.
    #[inline(always)]
    pub(crate) fn record(&mut self, i: usize, id: OrderId, slot: u32) {
        if let Some(e) = self.entries.get_mut(i) {
            e.order_id_lo = id.lo;
            e.slot = slot;
            self.used |= 1 << i;
        }
    }

    /// Forgets entry `i` (its order left the book).
    #[inline(always)]
    pub(crate) fn clear(&mut self, i: usize) {
        self.used &= !(1u32 << i);
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
        (0..MAX_OPEN_ORDERS)
            .filter(move |i| list.used & (1 << i) != 0)
            .filter_map(move |i| self.entry_order(&list.entries[i], owner))
    }

    /// The entry of `owner`'s resting order with client id `client_order_id` (not 0).
    pub(crate) fn client_entry(
        &self,
        owner: &[u8; 32],
        list: &OpenOrders,
        client_order_id: u64,
    ) -> Option<usize> {
        let mut used = list.used;
        while used != 0 {
            let i = used.trailing_zeros() as usize;
            used &= used - 1;
            if let Some(o) = self.entry_order(&list.entries[i], owner) {
                if o.client_order_id == client_order_id {
                    return Some(i);
                }
            }
        }
        None
    }

    /// The entry a new resting order of `owner` takes: a free bit, else the first stale
    /// entry. Checks (when `client_order_id` is not 0) that no resting order of the owner has
    /// that client id. Read-only: the place writes the entry when it commits.
    #[inline(always)]
    pub(crate) fn entry_for_rest(
        &self,
        owner: &[u8; 32],
        list: &OpenOrders,
        client_order_id: u64,
    ) -> Result<usize, BookError> {
        let free = !list.used & ALL_ENTRIES;
        if client_order_id == 0 && free != 0 {
            return Ok(free.trailing_zeros() as usize);
        }
        let mut stale = None;
        let mut used = list.used;
        while used != 0 {
            let i = used.trailing_zeros() as usize;
            used &= used - 1;
            match self.entry_order(&list.entries[i], owner) {
                Some(o) if client_order_id != 0 && o.client_order_id == client_order_id => {
                    return Err(BookError::DuplicateClientOrderId);
                }
                Some(_) => {}
                None => {
                    stale.get_or_insert(i);
                }
            }
        }
        if free != 0 {
            Ok(free.trailing_zeros() as usize)
        } else {
            stale.ok_or(BookError::TooManyOpenOrders)
        }
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
