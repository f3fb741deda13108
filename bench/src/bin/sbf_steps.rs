//! Writes the steps files that `bench/sbf/run` feeds to the SBF harness (`bench/sbf/harness`)
//! through `../shared/tools/sbf/cu`: one file per scenario, one instruction a line
//! (`LABEL HEXDATA`). Setup steps are labelled `setup`; every other label is a measured row.
//!
//!     cargo run -p carry-bench --release --bin sbf_steps -- OUT_DIR
//!
//! Every step is also run here, on the host, against the same carry-book engine, so the
//! generator knows the order ids the program will assign, checks that each scenario does what
//! it says (a taker really fills k makers, a slide really rests), and writes the expected
//! outcome into the instruction for the program to verify on SBF.
//! Also writes `OUT_DIR/account_bytes`: the market account size to pass as `--account`.

use carry_bench::Rng;
use carry_book::{
    Book, MatchContext, NewOrder, NoopListener, OpenOrders, OrderId, OrderSide, OrderType,
    PlaceOutcome, SelfTradeMode, MAX_FILLS_PER_PLACE, MAX_OPEN_ORDERS, MAX_REMOVALS_PER_PLACE,
};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Order slots per side, as the issue asks.
const CAPACITY: u32 = 4096;
/// Fill event queue slots (programs/orderbook's default).
const EVENTS: u32 = 512;
/// Measured orders per scenario.
const SAMPLES: usize = 250;
/// Orders per setup batch instruction (kept well under the 200k CU default limit).
const BATCH: usize = 16;
/// Oracle price and the middle of the book, in ticks.
const MID: u64 = 1_000_000;
/// Resting orders sit 1..=SPREAD ticks away from MID (about two orders per level when full).
const SPREAD: u64 = 2_000;
/// Owners of the setup orders are 1..=MAKERS.
const MAKERS: u32 = 64;
/// Takers and measured orders use owners from here on (never a maker: no self-trade).
const TAKER: u32 = 1_000;

const OP_INIT: u8 = 0;
const OP_PLACE: u8 = 1;
const OP_CANCEL: u8 = 2;
const OP_CANCEL_CID: u8 = 3;
const OP_CANCEL_ALL: u8 = 4;
const OP_POP: u8 = 5;
const OP_BATCH: u8 = 6;

/// The 32-byte key the harness derives from owner number `n`.
fn owner_key(n: u32) -> [u8; 32] {
    let b = n.to_le_bytes();
    core::array::from_fn(|i| b[i & 3])
}

/// A setup order, encoded as one 16-byte batch entry.
#[derive(Clone, Copy)]
struct Entry {
    side: OrderSide,
    pegged: bool,
    owner: u8,
    quantity: u16,
    /// Fixed: price in ticks. Pegged: offset to the oracle.
    price: i64,
    cid: u32,
    expires_at: u32,
}

/// A resting setup order the generator may cancel later.
#[derive(Clone, Copy)]
struct Resting {
    owner: u32,
    id: OrderId,
    cid: u64,
}

struct Sim {
    /// Order slots per side of this scenario's book.
    capacity: u32,
    /// The host copy of the market account (u64 words: 8-byte aligned like account data).
    buf: Vec<u64>,
    out: String,
    rng: Rng,
    now: u64,
    next_cid: u64,
    /// Resting setup orders per side (bid 0, ask 1), in placing order.
    resting: [Vec<Resting>; 2],
    /// The owners' open-orders lists, host copies of the lists after the book in the account
    /// (each owner's orders go to its latest list until it holds MAX_OPEN_ORDERS resting
    /// orders, then to a new one, as an owner would open another account).
    lists: Vec<OpenOrders>,
    /// Each owner's lists, oldest first.
    owner_lists: HashMap<u32, Vec<u32>>,
}

/// The book in a host account copy.
fn book_of(buf: &mut [u64]) -> Book<'_> {
    Book::load(bytemuck::cast_slice_mut(buf)).expect("load")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Sim {
    fn new(seed: u64) -> Sim {
        Sim::with_capacity(seed, CAPACITY)
    }

    fn with_capacity(seed: u64, capacity: u32) -> Sim {
        let words = Book::size_of(capacity, EVENTS).div_ceil(8);
        let mut sim = Sim {
            capacity,
            buf: vec![0; words],
            out: String::new(),
            rng: Rng(seed),
            now: 1_000_000,
            next_cid: 1,
            resting: [Vec::new(), Vec::new()],
            lists: Vec::new(),
            owner_lists: HashMap::new(),
        };
        let mut data = vec![OP_INIT, 0, 0, 0];
        data.extend_from_slice(&capacity.to_le_bytes());
        data.extend_from_slice(&EVENTS.to_le_bytes());
        data.extend_from_slice(&[0; 4]);
        sim.emit("setup", &data);
        Book::init(sim.bytes(), capacity, EVENTS).expect("init");
        sim
    }

    fn bytes(&mut self) -> &mut [u8] {
        let len = self.buf.len() * 8;
        // SAFETY: a u64 buffer viewed as bytes (u8 has no alignment or validity requirement).
        unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().cast::<u8>(), len) }
    }

    fn book(&mut self) -> Book<'_> {
        Book::load(self.bytes()).expect("load")
    }

    /// The list `owner`'s next resting order goes to.
    fn list_for(&mut self, owner: u32) -> u32 {
        let key = owner_key(owner);
        let last = self.owner_lists.get(&owner).and_then(|l| l.last().copied());
        if let Some(i) = last {
            let live = book_of(&mut self.buf)
                .open_orders(&key, &self.lists[i as usize])
                .count();
            if live < MAX_OPEN_ORDERS {
                return i;
            }
        }
        self.lists.push(OpenOrders::new());
        let i = self.lists.len() as u32 - 1;
        self.owner_lists.entry(owner).or_default().push(i);
        i
    }

    /// The list of `owner`'s that records its resting order with client id `cid`, else its
    /// first list with a resting order, else a new list.
    fn list_holding(&mut self, owner: u32, cid: Option<u64>) -> u32 {
        let key = owner_key(owner);
        let lists = self.owner_lists.get(&owner).cloned().unwrap_or_default();
        let book = book_of(&mut self.buf);
        for i in lists {
            let list = &self.lists[i as usize];
            let hit = match cid {
                Some(c) => book.find_by_client_id(&key, list, c).is_some(),
                None => book.open_orders(&key, list).next().is_some(),
            };
            if hit {
                return i;
            }
        }
        self.list_for(owner)
    }

    /// Book and list `i` of the host copy.
    fn book_list(&mut self, i: u32) -> (Book<'_>, &mut OpenOrders) {
        (book_of(&mut self.buf), &mut self.lists[i as usize])
    }

    fn ctx(&self) -> MatchContext {
        MatchContext {
            now: self.now,
            oracle_price: Some(MID),
            slot: 0,
        }
    }

    fn emit(&mut self, label: &str, data: &[u8]) {
        let _ = writeln!(self.out, "{label} {}", hex(data));
    }

    fn cid(&mut self) -> u64 {
        self.next_cid += 1;
        self.next_cid - 1
    }

    /// A random non-crossing price for `side`: asks above MID, bids below.
    fn price(&mut self, side: OrderSide) -> u64 {
        let d = self.rng.range(1, SPREAD);
        match side {
            OrderSide::Bid => MID - d,
            OrderSide::Ask => MID + d,
        }
    }

    fn entry(&mut self, side: OrderSide, pegged: bool) -> Entry {
        let price = if pegged {
            let d = self.rng.range(1, SPREAD) as i64;
            if side == OrderSide::Bid {
                -d
            } else {
                d
            }
        } else {
            self.price(side) as i64
        };
        Entry {
            side,
            pegged,
            owner: self.rng.range(1, MAKERS as u64) as u8,
            quantity: self.rng.range(1, 1_000) as u16,
            price,
            cid: self.cid() as u32,
            expires_at: 0,
        }
    }

    /// Places setup orders in batch instructions (label `setup`).
    fn batch(&mut self, entries: &[Entry]) {
        for chunk in entries.chunks(BATCH) {
            let mut data = vec![OP_BATCH, 0, 0, 0, 0, 0, 0, 0];
            data.extend_from_slice(&self.now.to_le_bytes());
            data.extend_from_slice(&MID.to_le_bytes());
            for e in chunk {
                let list = self.list_for(e.owner as u32);
                data.push(e.side as u8 | (e.pegged as u8) << 1);
                data.push(e.owner);
                data.extend_from_slice(&e.quantity.to_le_bytes());
                data.extend_from_slice(&(e.price as i32 as u32).to_le_bytes());
                data.extend_from_slice(&e.cid.to_le_bytes());
                data.extend_from_slice(&e.expires_at.to_le_bytes());
                data.extend_from_slice(&list.to_le_bytes());
                let o = NewOrder {
                    owner: owner_key(e.owner as u32),
                    side: e.side,
                    kind: if e.pegged {
                        OrderType::OraclePegged
                    } else {
                        OrderType::PostOnly
                    },
                    price: if e.pegged { 0 } else { e.price as u64 },
                    peg_offset: if e.pegged { e.price } else { 0 },
                    quantity: e.quantity as u64,
                    client_order_id: e.cid as u64,
                    expires_at: e.expires_at as u64,
                    expires_at_slot: 0,
                    max_fills: 1,
                    self_trade: SelfTradeMode::Abort,
                    min_base_fill: 0,
                    min_quote_fill: 0,
                    quote_budget: 0,
                };
                let ctx = self.ctx();
                let (mut book, list) = self.book_list(list);
                let out = book
                    .place(&o, &ctx, list, &mut NoopListener)
                    .expect("setup place");
                assert!(out.fills == 0 && out.posted_quantity == o.quantity);
                self.resting[e.side as usize].push(Resting {
                    owner: e.owner as u32,
                    id: out.order_id,
                    cid: e.cid as u64,
                });
            }
            self.emit("setup", &data);
        }
    }

    /// Fills each side with `n` random setup orders, `pegged` of them oracle-pegged.
    fn fill(&mut self, n: usize, pegged: usize) {
        let mut entries = Vec::new();
        for i in 0..n {
            for side in [OrderSide::Bid, OrderSide::Ask] {
                let e = self.entry(side, i < pegged);
                entries.push(e);
            }
        }
        self.batch(&entries);
    }

    /// One place instruction; the outcome is checked on SBF (fills and whether it rested).
    fn place(&mut self, label: &str, owner: u32, o: &NewOrder) -> Result<PlaceOutcome, ()> {
        let ctx = self.ctx();
        let list = self.list_for(owner);
        let (mut book, l) = self.book_list(list);
        let r = book.place(o, &ctx, l, &mut NoopListener);
        let must_fail = label.starts_with('!');
        assert_eq!(r.is_err(), must_fail, "{label}: host outcome {r:?}");
        let data = place_ix(OP_PLACE, owner, list, o, &ctx, r.as_ref().ok());
        self.emit(label, &data);
        // The authority consumes the queue (fills and, since removals of other owners' orders
        // are queued too, the attacks' out events): a setup step once it is half full.
        let (count, capacity) = {
            let book = self.book();
            (book.event_count(), book.header().event_capacity)
        };
        if count * 2 > capacity {
            self.pop_all();
        }
        r.map_err(|_| ())
    }

    fn cancel(&mut self, label: &str, r: Resting) {
        self.book()
            .cancel(&owner_key(r.owner), r.id, &mut NoopListener)
            .expect("cancel");
        let mut data = vec![OP_CANCEL, 0, 0, 0];
        data.extend_from_slice(&r.owner.to_le_bytes());
        data.extend_from_slice(&r.id.hi.to_le_bytes());
        data.extend_from_slice(&r.id.lo.to_le_bytes());
        self.emit(label, &data);
    }

    fn cancel_cid(&mut self, label: &str, owner: u32, cid: u64) {
        let list = self.list_holding(owner, Some(cid));
        let (mut book, l) = self.book_list(list);
        book.cancel_by_client_id(&owner_key(owner), l, cid, &mut NoopListener)
            .expect("cancel by client id");
        let mut data = vec![OP_CANCEL_CID, 0];
        data.extend_from_slice(&(list as u16).to_le_bytes());
        data.extend_from_slice(&owner.to_le_bytes());
        data.extend_from_slice(&cid.to_le_bytes());
        self.emit(label, &data);
    }

    fn cancel_all(&mut self, label: &str, owner: u32, limit: u32) {
        self.cancel_all_side(label, owner, None, limit);
    }

    fn pop_all(&mut self) {
        let mut book = self.book();
        let n = book.event_count();
        book.pop_events(n).expect("pop");
        let mut data = vec![OP_POP, 0, 0, 0];
        data.extend_from_slice(&u32::MAX.to_le_bytes());
        self.emit("setup", &data);
    }

    /// Removes a random tracked setup order of `side` from the generator's list.
    fn take_random(&mut self, side: OrderSide) -> Resting {
        let list = &mut self.resting[side as usize];
        let i = self.rng.next_u64() as usize % list.len();
        list.swap_remove(i)
    }

    /// The top `n` tradable makers of `side`: (price, quantity, expired).
    fn top(&mut self, side: OrderSide, n: usize) -> Vec<(u64, u64, bool)> {
        let ctx = MatchContext {
            now: 0,
            ..self.ctx()
        };
        let now = self.now;
        let mut v = Vec::new();
        self.book()
            .visit_tradable(side, &ctx, |o| {
                let exp = o.order.expires_at;
                v.push((o.price.unwrap(), o.order.quantity, exp != 0 && exp <= now));
                v.len() < n
            })
            .unwrap();
        v
    }

    fn write(&self, dir: &Path, name: &str) {
        std::fs::write(dir.join(format!("{name}.steps")), &self.out).expect("write steps");
        // The book, then every list the scenario used.
        let bytes = Book::size_of(self.capacity, EVENTS)
            + self.lists.len() * std::mem::size_of::<OpenOrders>();
        std::fs::write(dir.join(format!("{name}.bytes")), format!("{bytes}\n"))
            .expect("write account size");
    }

    /// One setup order placed with its own instruction (any owner, client id and peg limit).
    fn setup_place(&mut self, owner: u32, o: &NewOrder) -> PlaceOutcome {
        let mut o = *o;
        o.owner = owner_key(owner);
        let out = self.place("setup", owner, &o).expect("setup place");
        let side = o.side as usize;
        if out.posted_quantity > 0 {
            self.resting[side].push(Resting {
                owner,
                id: out.order_id,
                cid: o.client_order_id,
            });
        }
        out
    }

    /// A cancel-all instruction with its expected count (a measured row when `label` is not
    /// `setup`).
    fn cancel_all_side(
        &mut self,
        label: &str,
        owner: u32,
        side: Option<OrderSide>,
        limit: u32,
    ) -> u32 {
        let list = self.list_holding(owner, None);
        let (mut book, l) = self.book_list(list);
        let n = book
            .cancel_all(&owner_key(owner), l, side, limit, &mut NoopListener)
            .expect("cancel all")
            .cancelled;
        let mut data = vec![OP_CANCEL_ALL, side.map_or(2, |s| s as u8)];
        data.extend_from_slice(&(list as u16).to_le_bytes());
        data.extend_from_slice(&owner.to_le_bytes());
        data.extend_from_slice(&limit.to_le_bytes());
        data.extend_from_slice(&n.to_le_bytes());
        self.emit(label, &data);
        n
    }
}

/// A place instruction (`PlaceIx` in the harness), with the expected outcome when known.
fn place_ix(
    op: u8,
    owner: u32,
    list: u32,
    o: &NewOrder,
    ctx: &MatchContext,
    expect: Option<&PlaceOutcome>,
) -> Vec<u8> {
    let mut data = vec![op, o.side as u8, o.kind as u8, o.self_trade as u8];
    data.extend_from_slice(&owner.to_le_bytes());
    for v in [
        o.price,
        o.peg_offset as u64,
        o.quantity,
        o.client_order_id,
        o.expires_at,
        ctx.now,
        ctx.oracle_price.unwrap_or(0),
    ] {
        data.extend_from_slice(&v.to_le_bytes());
    }
    data.push(o.max_fills as u8);
    match expect {
        Some(out) => data.extend_from_slice(&[out.fills as u8, (out.posted_quantity > 0) as u8]),
        None => data.extend_from_slice(&[0xff, 0xff]),
    }
    data.push(0);
    data.extend_from_slice(&list.to_le_bytes());
    assert_eq!(data.len(), 72);
    data
}

fn order(side: OrderSide, kind: OrderType, price: u64, quantity: u64, cid: u64) -> NewOrder {
    NewOrder {
        client_order_id: cid,
        ..NewOrder::new([0; 32], side, kind, price, quantity)
    }
}

fn side_of(i: usize) -> OrderSide {
    if i.is_multiple_of(2) {
        OrderSide::Bid
    } else {
        OrderSide::Ask
    }
}

/// A resting limit order into a side holding `n` orders (the other side holds `n` too);
/// cancelled again by client id (setup) so every sample sees the same count.
fn place_rest(dir: &Path, name: &str, n: usize) {
    let mut sim = Sim::new(1);
    sim.fill(n, 0);
    for i in 0..SAMPLES {
        let side = side_of(i);
        let owner = TAKER + (i % 16) as u32;
        let price = sim.price(side);
        let qty = sim.rng.range(1, 1_000);
        let cid = sim.cid();
        let mut o = order(side, OrderType::Limit, price, qty, cid);
        o.owner = owner_key(owner);
        let out = sim.place(name, owner, &o).unwrap();
        assert!(out.posted_quantity == qty && out.fills == 0);
        sim.cancel_cid("setup", owner, cid);
    }
    sim.write(dir, name);
}

/// An immediate-or-cancel taker that exactly consumes the best `k` makers of a full book;
/// the side is refilled with `k` random makers and the events popped after each (setup).
fn ioc(dir: &Path, name: &str, k: usize) {
    let mut sim = Sim::new(2);
    sim.fill(CAPACITY as usize, 0);
    for i in 0..SAMPLES {
        let side = side_of(i);
        let maker_side = side.opposite();
        let top = sim.top(maker_side, k);
        let limit = top[k - 1].0;
        let qty: u64 = top.iter().map(|t| t.1).sum();
        let owner = TAKER + (i % 16) as u32;
        let mut o = order(side, OrderType::ImmediateOrCancel, limit, qty, 0);
        o.owner = owner_key(owner);
        let out = sim.place(name, owner, &o).unwrap();
        assert!(out.fills as usize == k && out.posted_quantity == 0 && out.base_filled == qty);
        sim.pop_all();
        let refill: Vec<Entry> = (0..k).map(|_| sim.entry(maker_side, false)).collect();
        sim.batch(&refill);
    }
    sim.write(dir, name);
}

/// Post-only orders priced through the best opposite price slide one tick behind it and rest
/// (cancelled again, setup); a plain post-only at such a price must be refused.
fn post_only_slide(dir: &Path, name: &str) {
    let mut sim = Sim::new(3);
    sim.fill(CAPACITY as usize - 1, 0);
    for i in 0..SAMPLES {
        let side = side_of(i);
        let best = sim.top(side.opposite(), 1)[0].0;
        let through = sim.rng.range(0, 20);
        let price = match side {
            OrderSide::Bid => best + through,
            OrderSide::Ask => best - through,
        };
        let owner = TAKER + (i % 16) as u32;
        let cid = sim.cid();
        let mut o = order(side, OrderType::PostOnlySlide, price, 100, cid);
        o.owner = owner_key(owner);
        let out = sim.place(name, owner, &o).unwrap();
        assert!(out.posted_quantity == 100 && out.fills == 0);
        sim.cancel_cid("setup", owner, cid);
        if i.is_multiple_of(5) {
            o.kind = OrderType::PostOnly;
            o.client_order_id = sim.cid();
            let _ = sim.place("!post-only-cross", owner, &o);
        }
    }
    sim.write(dir, name);
}

/// An oracle-pegged order resting into a side of 4,095 orders of which 1,000 are pegged (the
/// opposite side alike, so matching walks both trees); cancelled again (setup).
fn pegged(dir: &Path, name: &str) {
    let mut sim = Sim::new(4);
    sim.fill(CAPACITY as usize - 1, 1_000);
    for i in 0..SAMPLES {
        let side = side_of(i);
        let d = sim.rng.range(1, SPREAD) as i64;
        let owner = TAKER + (i % 16) as u32;
        let cid = sim.cid();
        let mut o = order(side, OrderType::OraclePegged, 0, 100, cid);
        o.peg_offset = if side == OrderSide::Bid { -d } else { d };
        o.owner = owner_key(owner);
        let out = sim.place(name, owner, &o).unwrap();
        assert!(out.posted_quantity == 100 && out.fills == 0);
        sim.cancel_cid("setup", owner, cid);
    }
    sim.write(dir, name);
}

/// Cancels a random resting order of a full book (by order id, or by client order id), then
/// places a random one on that side again (setup).
fn cancel(dir: &Path, name: &str, by_cid: bool) {
    let mut sim = Sim::new(5);
    sim.fill(CAPACITY as usize, 0);
    for i in 0..SAMPLES {
        let side = side_of(i);
        let r = sim.take_random(side);
        if by_cid {
            sim.cancel_cid(name, r.owner, r.cid);
        } else {
            sim.cancel(name, r);
        }
        let e = sim.entry(side, false);
        sim.batch(&[e]);
    }
    sim.write(dir, name);
}

/// One owner's 20 resting orders (10 a side, placed as setup into a book that then holds
/// 4,096 a side) cancelled with one cancel-all.
fn cancel_all(dir: &Path, name: &str) {
    let mut sim = Sim::new(6);
    sim.fill(CAPACITY as usize - 10, 0);
    for i in 0..SAMPLES {
        let owner = 100 + (i % 100) as u8;
        let mut entries: Vec<Entry> = (0..20).map(|j| sim.entry(side_of(j), false)).collect();
        for e in &mut entries {
            e.owner = owner;
        }
        sim.batch(&entries);
        sim.cancel_all(name, owner as u32, 20);
    }
    sim.write(dir, name);
}

/// The most one place can do: a limit bid that meets 64 expired asks (removed) and fills 32
/// makers (events), in a full book, with enough quantity left to rest when the next ask does
/// not cross.
fn worst(dir: &Path, name: &str) {
    let fills = MAX_FILLS_PER_PLACE as usize;
    let removals = MAX_REMOVALS_PER_PLACE as usize;
    let mut sim = Sim::new(7);
    // 4,032 a side; the 64 expiring asks fill the ask side to 4,096 before each sample.
    sim.fill(CAPACITY as usize - removals, 0);
    for i in 0..SAMPLES {
        // 64 asks that expire one second from now, priced among the best 32.
        let top = sim.top(OrderSide::Ask, fills);
        let (best, p32) = (top[0].0, top[fills - 1].0);
        let mut expiring = Vec::new();
        for _ in 0..removals {
            let mut e = sim.entry(OrderSide::Ask, false);
            e.price = sim.rng.range(best, p32.saturating_sub(1).max(best)) as i64;
            e.expires_at = (sim.now + 1) as u32;
            expiring.push(e);
        }
        sim.batch(&expiring);
        sim.now += 1;
        let top = sim.top(OrderSide::Ask, fills + removals);
        let live: Vec<_> = top.iter().filter(|t| !t.2).take(fills).collect();
        let limit = live[fills - 1].0;
        let qty: u64 = live.iter().map(|t| t.1).sum::<u64>() + 500;
        let owner = TAKER + (i % 16) as u32;
        let cid = sim.cid();
        let mut o = order(OrderSide::Bid, OrderType::Limit, limit, qty, cid);
        o.owner = owner_key(owner);
        let out = sim.place(name, owner, &o).unwrap();
        assert_eq!(out.fills as usize, fills);
        assert_eq!(out.makers_removed as usize, removals);
        if out.posted_quantity > 0 {
            sim.cancel_cid("setup", owner, cid);
        }
        sim.pop_all();
        let refill: Vec<Entry> = (0..fills)
            .map(|_| sim.entry(OrderSide::Ask, false))
            .collect();
        sim.batch(&refill);
    }
    sim.write(dir, name);
}

/// Parts of an engine call measured alone in a full book (4,096 a side): the fixed cost of an
/// instruction, of loading the book, of decoding a place, of one tree descent to the best
/// order, of one critbit lookup by id and of one index probe by client id.
fn profile(dir: &Path, name: &str) {
    let mut sim = Sim::new(8);
    sim.fill(CAPACITY as usize, 0);
    for i in 0..SAMPLES {
        let side = side_of(i);
        if i < 50 {
            sim.emit("p0-instruction-only", &[0x20, 0, 0, 0, 0, 0, 0, 0]);
            sim.emit("p1-book-load", &[0x21, 0, 0, 0, 0, 0, 0, 0]);
            let o = order(side, OrderType::Limit, MID, 1, 1);
            let data = place_ix(0x25, TAKER, 0, &o, &sim.ctx(), None);
            sim.emit("p2-decode-place", &data);
        }
        sim.emit("p3-best-price", &[0x22, side as u8, 0, 0, 0, 0, 0, 0]);
        let list = &sim.resting[side as usize];
        let r = list[sim.rng.next_u64() as usize % list.len()];
        let mut data = vec![0x23, 0, 0, 0];
        data.extend_from_slice(&r.owner.to_le_bytes());
        data.extend_from_slice(&r.id.hi.to_le_bytes());
        data.extend_from_slice(&r.id.lo.to_le_bytes());
        sim.emit("p4-find-by-id", &data);
        let l = sim.list_holding(r.owner, Some(r.cid));
        let mut data = vec![0x24, 0];
        data.extend_from_slice(&(l as u16).to_le_bytes());
        data.extend_from_slice(&r.owner.to_le_bytes());
        data.extend_from_slice(&r.cid.to_le_bytes());
        sim.emit("p5-find-by-client-id", &data);
    }
    sim.write(dir, name);
}

/// Adversarial books (`a*` scenarios), each at 4,096 and 8,192 orders a side. Every attack
/// fills the side an honest order meets with what the attacker chose; the measured honest
/// instruction must stay under the README's bound whatever it meets. Setup (the attacker's
/// orders, refills) is not measured.
mod attacks {
    use super::*;

    /// Samples per attack (each one consumes part of the attacker's book, refilled as setup).
    const N: usize = 40;

    fn tag(cap: u32) -> String {
        format!("{}k", cap / 1024)
    }

    /// Fills both sides with random non-crossing makers up to `per_side` (batches).
    fn base(sim: &mut Sim, per_side: usize) {
        sim.fill(per_side, 0);
    }

    /// A side of pegged asks all beyond their peg limit (oracle + 1, never below MID + 10,000)
    /// at the top, one live ask behind them; a 1-fill taker bid meets them: it removes 64
    /// (`MAX_REMOVALS_PER_PLACE`) and stops, its remainder cancelled.
    pub fn out_of_peg(dir: &Path, cap: u32, kind: OrderType) {
        let name = format!(
            "a1-out-of-peg-{}-{}",
            if kind == OrderType::PostOnly {
                "post-only"
            } else {
                "1-fill-taker"
            },
            tag(cap)
        );
        let mut sim = Sim::with_capacity(11, cap);
        base(&mut sim, 1);
        let mut pegs = Vec::new();
        for _ in 0..cap as usize - 2 {
            let mut o = order(OrderSide::Ask, OrderType::OraclePegged, MID + 10_000, 10, 0);
            o.peg_offset = 1;
            pegs.push(o);
        }
        for (i, o) in pegs.iter().enumerate() {
            sim.setup_place(500 + (i % 64) as u32, o);
        }
        for i in 0..N {
            let mut o = order(OrderSide::Bid, kind, MID + 5, 1, 0);
            if kind != OrderType::PostOnly {
                o.kind = OrderType::ImmediateOrCancel;
                o.price = MID + 3_000;
            }
            o.owner = owner_key(TAKER);
            let out = sim.place(&name, TAKER, &o).unwrap();
            assert_eq!(out.makers_removed, MAX_REMOVALS_PER_PLACE, "{name}");
            assert_eq!(out.fills, 0);
            for (j, p) in pegs
                .iter()
                .take(MAX_REMOVALS_PER_PLACE as usize)
                .enumerate()
            {
                sim.setup_place(500 + ((i + j) % 64) as u32, p);
            }
        }
        sim.write(dir, &name);
    }

    /// A side full of expired asks at the top; a post-only bid (the best-price scan) or a
    /// post-only-slide bid meets them: 64 removed, the order cancelled, not rested.
    pub fn expired(dir: &Path, cap: u32, kind: OrderType) {
        let name = format!(
            "a2-expired-{}-{}",
            if kind == OrderType::PostOnly {
                "post-only"
            } else {
                "post-only-slide"
            },
            tag(cap)
        );
        let mut sim = Sim::with_capacity(12, cap);
        base(&mut sim, 1);
        let expiring = |sim: &mut Sim, n: usize| {
            let v: Vec<Entry> = (0..n)
                .map(|_| {
                    let mut e = sim.entry(OrderSide::Ask, false);
                    e.price = (MID + sim.rng.range(1, 50)) as i64;
                    e.expires_at = (sim.now + 1) as u32;
                    e
                })
                .collect();
            sim.batch(&v);
        };
        expiring(&mut sim, cap as usize - 2);
        sim.now += 1;
        for _ in 0..N {
            let o = NewOrder {
                owner: owner_key(TAKER),
                ..order(OrderSide::Bid, kind, MID + 60, 1, 0)
            };
            let out = sim.place(&name, TAKER, &o).unwrap();
            assert_eq!(out.makers_removed, MAX_REMOVALS_PER_PLACE, "{name}");
            assert_eq!(out.posted_quantity, 0);
            sim.now -= 1;
            expiring(&mut sim, MAX_REMOVALS_PER_PLACE as usize);
            sim.now += 1;
        }
        sim.write(dir, &name);
    }

    /// Owners and client ids chosen for the deepest owner-tree paths: owners `1 << k` (keys
    /// one bit apart) and client ids one bit apart, both sides full. Measured: a resting place
    /// with a client id, a cancel by client id, and 1- and 5-fill takers (each maker fill
    /// removes the maker from the owner tree).
    pub fn client_ids(dir: &Path, cap: u32) {
        let name = format!("a3-crafted-client-ids-{}", tag(cap));
        let mut sim = Sim::with_capacity(13, cap);
        let per_owner: usize = 2 * cap as usize / 32;
        let cid = |j: usize| (1u64 << (j % 56)) | ((j / 56) as u64) << 56;
        for j in 0..per_owner {
            for k in 0..32u32 {
                let side = if (j + k as usize).is_multiple_of(2) {
                    OrderSide::Bid
                } else {
                    OrderSide::Ask
                };
                if sim.book().order_count(side) + 1 >= cap {
                    continue;
                }
                let price = sim.price(side);
                let o = order(
                    side,
                    OrderType::Limit,
                    price,
                    sim.rng.range(1, 1_000),
                    cid(j),
                );
                sim.setup_place(1 << k, &o);
            }
        }
        let probe_cid = 0xdead_0000_0000_0001u64;
        for i in 0..N {
            let side = side_of(i);
            let price = sim.price(side);
            let owner = 1u32 << (i % 32);
            let o = NewOrder {
                owner: owner_key(owner),
                ..order(side, OrderType::Limit, price, 5, probe_cid)
            };
            sim.place(&format!("{name}-rest"), owner, &o).unwrap();
            sim.cancel_cid(&format!("{name}-cancel-cid"), owner, probe_cid);
            let r = sim.take_random(side);
            sim.cancel_cid(&format!("{name}-cancel-cid"), r.owner, r.cid);
            for k in [1usize, 5] {
                let maker_side = side.opposite();
                let top = sim.top(maker_side, k);
                let qty: u64 = top.iter().map(|t| t.1).sum();
                let o = NewOrder {
                    owner: owner_key(TAKER),
                    ..order(side, OrderType::ImmediateOrCancel, top[k - 1].0, qty, 0)
                };
                let out = sim.place(&format!("{name}-{k}-fill"), TAKER, &o).unwrap();
                assert_eq!(out.fills as usize, k);
                sim.pop_all();
                let list = sim.resting[maker_side as usize].clone();
                let ids: Vec<_> = list
                    .into_iter()
                    .filter(|r| sim.book().find(r.id).unwrap().is_none())
                    .collect();
                sim.resting[maker_side as usize].retain(|r| !ids.iter().any(|x| x.id == r.id));
                for r in ids {
                    let price = sim.price(maker_side);
                    let o = order(maker_side, OrderType::Limit, price, 100, r.cid);
                    sim.setup_place(r.owner, &o);
                }
            }
        }
        sim.write(dir, &name);
    }

    /// One owner's 1,000 resting orders (500 a side, in 32 open-orders lists of 32, as 32
    /// accounts would hold them): one cancel-all call of the largest limit the program allows
    /// (100) cancels a full list (32); and a side-filtered one for an owner whose lists hold
    /// only the other side (1,100 asks, cancel bids: 32 entries read, nothing to cancel).
    pub fn cancel_all(dir: &Path, cap: u32) {
        let name = format!("a4-cancel-all-{}", tag(cap));
        let mut sim = Sim::with_capacity(14, cap);
        base(&mut sim, cap as usize - 1_700);
        let mut mine: Vec<Entry> = (0..1_000).map(|j| sim.entry(side_of(j), false)).collect();
        for e in &mut mine {
            e.owner = 200;
        }
        sim.batch(&mine);
        let mut skew: Vec<Entry> = (0..1_100)
            .map(|_| sim.entry(OrderSide::Ask, false))
            .collect();
        for e in &mut skew {
            e.owner = 201;
        }
        sim.batch(&skew);
        for _ in 0..10 {
            let n = sim.cancel_all_side(&format!("{name}-list-32"), 200, None, 100);
            assert_eq!(n, MAX_OPEN_ORDERS as u32);
            let mut again: Vec<Entry> = (0..32).map(|j| sim.entry(side_of(j), false)).collect();
            for e in &mut again {
                e.owner = 200;
            }
            sim.batch(&again);
            let n = sim.cancel_all_side(&format!("{name}-skip-32"), 201, Some(OrderSide::Bid), 100);
            assert_eq!(n, 0);
        }
        sim.write(dir, &name);
    }

    /// Ask prices chosen for the deepest price tree (MID + 2^k, k = 0..30, several orders
    /// each), the side full: 1-fill taker, resting ask, cancel by id.
    pub fn deep_tree(dir: &Path, cap: u32) {
        let name = format!("a5-deep-price-tree-{}", tag(cap));
        let mut sim = Sim::with_capacity(15, cap);
        base(&mut sim, 1);
        let mut v = Vec::new();
        for j in 0..cap as usize - 2 {
            let mut e = sim.entry(OrderSide::Ask, false);
            e.price = (MID + (1u64 << (j % 31))) as i64;
            v.push(e);
        }
        sim.batch(&v);
        for i in 0..N {
            let top = sim.top(OrderSide::Ask, 1);
            let o = NewOrder {
                owner: owner_key(TAKER),
                ..order(
                    OrderSide::Bid,
                    OrderType::ImmediateOrCancel,
                    top[0].0,
                    top[0].1,
                    0,
                )
            };
            sim.place(&format!("{name}-1-fill"), TAKER, &o).unwrap();
            sim.pop_all();
            let mut e = sim.entry(OrderSide::Ask, false);
            e.price = (MID + (1u64 << (i % 31))) as i64;
            sim.batch(&[e]);
            let r = sim.take_random(OrderSide::Ask);
            if sim.book().find(r.id).unwrap().is_some() {
                sim.cancel(&format!("{name}-cancel-id"), r);
                let mut e = sim.entry(OrderSide::Ask, false);
                e.price = (MID + (1u64 << (i % 29))) as i64;
                sim.batch(&[e]);
            }
        }
        sim.write(dir, &name);
    }

    /// A side at capacity: a resting bid better than the side's worst evicts it (the worst
    /// order of the fixed tree, found along the right spine), then rests; one that is not
    /// better is refused (`SideFull`).
    pub fn full_side(dir: &Path, cap: u32) {
        let name = format!("a7-full-side-{}", tag(cap));
        let mut sim = Sim::with_capacity(17, cap);
        base(&mut sim, cap as usize);
        for i in 0..N {
            let owner = TAKER + (i % 16) as u32;
            let price = sim.price(OrderSide::Bid).max(MID - SPREAD + 100);
            let o = NewOrder {
                owner: owner_key(owner),
                ..order(OrderSide::Bid, OrderType::Limit, price, 5, sim.cid())
            };
            let out = sim.place(&format!("{name}-evict"), owner, &o).unwrap();
            assert!(out.evicted.is_some() && out.posted_quantity == 5);
            if i % 4 == 0 {
                let o = NewOrder {
                    owner: owner_key(owner),
                    ..order(OrderSide::Bid, OrderType::Limit, 1, 5, 0)
                };
                let _ = sim.place(&format!("!{name}-refused"), owner, &o);
            }
        }
        sim.write(dir, &name);
    }

    /// The taker's own orders at the top of the opposite side, full: a cancel-resting taker
    /// removes 64 of them and stops.
    pub fn self_trades(dir: &Path, cap: u32) {
        let name = format!("a6-self-trade-removals-{}", tag(cap));
        let mut sim = Sim::with_capacity(16, cap);
        base(&mut sim, cap as usize - 200);
        let own = |sim: &mut Sim, n: usize| {
            let v: Vec<Entry> = (0..n)
                .map(|_| {
                    let mut e = sim.entry(OrderSide::Ask, false);
                    e.price = MID as i64;
                    e.owner = 250;
                    e
                })
                .collect();
            sim.batch(&v);
        };
        own(&mut sim, 199);
        for _ in 0..N {
            let mut o = NewOrder {
                owner: owner_key(250),
                ..order(
                    OrderSide::Bid,
                    OrderType::ImmediateOrCancel,
                    MID + 100,
                    5,
                    0,
                )
            };
            o.self_trade = SelfTradeMode::CancelResting;
            let out = sim.place(&name, 250, &o).unwrap();
            assert_eq!(out.makers_removed, MAX_REMOVALS_PER_PLACE);
            own(&mut sim, MAX_REMOVALS_PER_PLACE as usize);
        }
        sim.write(dir, &name);
    }
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: sbf_steps OUT_DIR"));
    std::fs::create_dir_all(&dir).expect("create OUT_DIR");
    std::fs::write(
        dir.join("account_bytes"),
        format!("{}\n", Book::size_of(CAPACITY, EVENTS)),
    )
    .expect("write account_bytes");
    let full = CAPACITY as usize - 1;
    place_rest(&dir, "01-place-rest-side-0", 0);
    place_rest(&dir, "02-place-rest-side-1000", 1_000);
    place_rest(&dir, &format!("03-place-rest-side-{full}"), full);
    ioc(&dir, "04-ioc-1-fill", 1);
    ioc(&dir, "05-ioc-5-fills", 5);
    ioc(&dir, "06-ioc-20-fills", 20);
    post_only_slide(&dir, "07-post-only-slide");
    pegged(&dir, "08-pegged-rest");
    cancel(&dir, "09-cancel-by-id", false);
    cancel(&dir, "10-cancel-by-client-id", true);
    cancel_all(&dir, "11-cancel-all-20");
    worst(&dir, "12-worst-64-fills-64-expired");
    profile(&dir, "99-profile");
    for cap in [4096, 8192] {
        attacks::out_of_peg(&dir, cap, OrderType::ImmediateOrCancel);
        attacks::out_of_peg(&dir, cap, OrderType::PostOnly);
        attacks::expired(&dir, cap, OrderType::PostOnly);
        attacks::expired(&dir, cap, OrderType::PostOnlySlide);
        attacks::client_ids(&dir, cap);
        attacks::cancel_all(&dir, cap);
        attacks::deep_tree(&dir, cap);
        attacks::self_trades(&dir, cap);
        attacks::full_side(&dir, cap);
    }
}
