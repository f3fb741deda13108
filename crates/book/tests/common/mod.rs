//! Shared helpers for the engine's tests: an aligned buffer and a recording listener.
#![allow(dead_code)]

use carry_book::*;

/// An 8-byte aligned buffer sized for a book.
pub struct Buffer(pub Vec<u64>);

impl Buffer {
    pub fn new(order_capacity: u32, event_capacity: u32) -> Buffer {
        let n = Book::size_of(order_capacity, event_capacity).div_ceil(8);
        let mut b = Buffer(vec![0u64; n]);
        Book::init(b.bytes(), order_capacity, event_capacity).unwrap();
        b
    }
    pub fn bytes(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.0)
    }
    pub fn book(&mut self) -> Book<'_> {
        Book::load(self.bytes()).unwrap()
    }
}

pub fn owner(n: u8) -> [u8; 32] {
    let mut o = [0u8; 32];
    o[0] = n;
    o[31] = n.wrapping_mul(7);
    o
}

/// One [`OpenOrders`] list per owner number: `owner(n)`'s list is `lists.of(n)`. Each owner's
/// places, client-id calls and cancel-alls go through its own list, as an owner's account
/// would keep it.
pub struct Lists(pub Vec<OpenOrders>);

impl Lists {
    pub fn new() -> Lists {
        Lists(vec![OpenOrders::new(); 256])
    }
    pub fn of(&mut self, owner_n: u8) -> &mut OpenOrders {
        &mut self.0[owner_n as usize]
    }
    pub fn get(&self, owner_n: u8) -> &OpenOrders {
        &self.0[owner_n as usize]
    }
}

impl Default for Lists {
    fn default() -> Lists {
        Lists::new()
    }
}

/// Ids of `owner`'s resting orders as the book holds them, sorted.
pub fn resting_ids_of(book: &Book, owner: &[u8; 32]) -> Vec<OrderId> {
    let mut ids = Vec::new();
    for side in [OrderSide::Bid, OrderSide::Ask] {
        book.visit_all(side, None, |o| {
            if o.order.owner == *owner {
                ids.push(o.id);
            }
        })
        .unwrap();
    }
    ids.sort();
    ids
}

/// Ids of `owner`'s live resting orders as `list` records them, sorted (duplicates kept, so
/// an order recorded twice would show).
pub fn listed_ids_of(book: &Book, owner: &[u8; 32], list: &OpenOrders) -> Vec<OrderId> {
    let mut ids: Vec<OrderId> = book
        .open_orders(owner, list)
        .map(|o| OrderId {
            hi: o.key_hi,
            lo: o.key_lo,
        })
        .collect();
    ids.sort();
    ids
}

pub fn order(owner_n: u8, side: OrderSide, kind: OrderType, price: u64, quantity: u64) -> NewOrder {
    NewOrder::new(owner(owner_n), side, kind, price, quantity)
}

/// Everything the engine reported, in call order.
#[derive(Default, Debug)]
pub struct Recorder {
    pub fills: Vec<FillEvent>,
    pub outs: Vec<(Order, OutReason)>,
    pub posts: Vec<Order>,
    pub decrements: Vec<(Order, u64)>,
    /// Reductions in place by the owner (order as it was, lots taken off).
    pub reductions: Vec<(Order, u64)>,
    /// Maker order ids in the order matching touched them.
    pub touched: Vec<OrderId>,
}

impl BookListener for Recorder {
    fn on_fill(&mut self, e: &FillEvent) {
        self.fills.push(*e);
        self.touched.push(OrderId {
            hi: e.maker_order_id_hi,
            lo: e.maker_order_id_lo,
        });
    }
    fn on_out(&mut self, o: &Order, r: OutReason) {
        self.outs.push((*o, r));
        if r != OutReason::Cancelled && r != OutReason::Evicted {
            self.touched.push(OrderId {
                hi: o.key_hi,
                lo: o.key_lo,
            });
        }
    }
    fn on_post(&mut self, o: &Order) {
        self.posts.push(*o);
    }
    fn on_reduce(&mut self, o: &Order, q: u64) {
        self.reductions.push((*o, q));
    }
    fn on_decrement(&mut self, o: &Order, q: u64) {
        self.decrements.push((*o, q));
        self.touched.push(OrderId {
            hi: o.key_hi,
            lo: o.key_lo,
        });
    }
}
