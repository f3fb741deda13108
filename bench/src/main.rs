//! Host benchmark of the matching engine (wall-clock on this machine, not compute units; the
//! SBF figures come from `bench/sbf/run`). Each scenario runs against a book prepared the same
//! way and reports the median and p95 over batches.
//!
//!     cargo run --release -p carry-bench            # prints a table

use carry_bench::Rng;
use carry_book::{
    Book, MatchContext, NewOrder, NoopListener, OpenOrders, OrderSide, OrderType, SelfTradeMode,
};
use std::time::Instant;

const CAPACITY: u32 = 4096;
const EVENTS: u32 = 512;
const BATCHES: usize = 31;
const PER_BATCH: usize = 200;

fn owner(n: u64) -> [u8; 32] {
    let mut o = [0u8; 32];
    o[..8].copy_from_slice(&n.to_le_bytes());
    o[24..].copy_from_slice(&n.wrapping_mul(0x9E37_79B9).to_le_bytes());
    o
}

fn order(owner_n: u64, side: OrderSide, kind: OrderType, price: u64, quantity: u64) -> NewOrder {
    NewOrder {
        self_trade: SelfTradeMode::CancelResting,
        ..NewOrder::new(owner(owner_n), side, kind, price, quantity)
    }
}

/// A book with `n` resting asks at random prices 10_000..11_000 and `n` bids below 10_000.
fn prepared(n: u32, rng: &mut Rng) -> Vec<u64> {
    let mut buf = vec![0u64; Book::size_of(CAPACITY, EVENTS).div_ceil(8)];
    let mut book = Book::init(bytemuck::cast_slice_mut(&mut buf), CAPACITY, EVENTS).unwrap();
    let ctx = MatchContext::default();
    for i in 0..n as u64 {
        let ask = order(
            i % 97,
            OrderSide::Ask,
            OrderType::Limit,
            10_000 + rng.next_u64() % 1_000,
            1 + rng.next_u64() % 10,
        );
        book.place(&ask, &ctx, &mut OpenOrders::new(), &mut NoopListener)
            .unwrap();
        let bid = order(
            i % 89,
            OrderSide::Bid,
            OrderType::Limit,
            9_000 + rng.next_u64() % 1_000,
            1 + rng.next_u64() % 10,
        );
        book.place(&bid, &ctx, &mut OpenOrders::new(), &mut NoopListener)
            .unwrap();
    }
    buf
}

/// Runs `op` on a fresh copy of `base` PER_BATCH times per batch; returns (median, p95) in
/// nanoseconds per operation (the copy is outside the timed region).
fn measure_with<S>(
    base: &[u64],
    state: &mut S,
    reset: impl Fn(&mut S),
    mut op: impl FnMut(&mut Book, &mut S, usize),
) -> (f64, f64) {
    let mut samples = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let mut buf = base.to_vec();
        reset(state);
        let mut book = Book::load(bytemuck::cast_slice_mut(&mut buf)).unwrap();
        let start = Instant::now();
        for i in 0..PER_BATCH {
            op(&mut book, state, i);
        }
        samples.push(start.elapsed().as_nanos() as f64 / PER_BATCH as f64);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (samples[BATCHES / 2], samples[BATCHES * 95 / 100])
}

fn measure(base: &[u64], mut op: impl FnMut(&mut Book, usize)) -> (f64, f64) {
    measure_with(base, &mut (), |_| {}, |b, _, i| op(b, i))
}

fn main() {
    let mut rng = Rng(0x5EED_CA77);
    let ctx = MatchContext::default();
    println!("carry-book host benchmark: {CAPACITY} orders/side capacity, {EVENTS} events, {PER_BATCH} ops x {BATCHES} batches");
    for (orders, events) in [(4096, 512), (1024, 256), (64, 16)] {
        println!(
            "book of {orders} orders/side and {events} events: {} bytes (market account adds a 160-byte header)",
            Book::size_of(orders, events)
        );
    }
    println!("{:<46} {:>10} {:>10}", "scenario", "median ns", "p95 ns");
    let row = |name: &str, (m, p): (f64, f64)| println!("{name:<46} {m:>10.0} {p:>10.0}");

    let book_1000 = prepared(1000, &mut rng);
    let prices: Vec<u64> = (0..PER_BATCH)
        .map(|_| 10_000 + rng.next_u64() % 1_000)
        .collect();
    // Each op's owner keeps its own open-orders list (as its account would); a batch starts
    // them empty again, as it starts the book afresh.
    let mut lists = vec![OpenOrders::new(); PER_BATCH];
    let empty = |lists: &mut Vec<OpenOrders>| lists.iter_mut().for_each(|l| l.len = 0);
    row(
        "place resting ask into 1,000 orders/side",
        measure_with(&book_1000, &mut lists, empty, |b, lists, i| {
            let o = order(
                1_000 + i as u64,
                OrderSide::Ask,
                OrderType::Limit,
                prices[i],
                5,
            );
            b.place(&o, &ctx, &mut lists[i], &mut NoopListener).unwrap();
        }),
    );

    // Post-only bids below the best ask (the engine checks the opposite side, then rests).
    let bid_prices: Vec<u64> = (0..PER_BATCH)
        .map(|_| 9_000 + rng.next_u64() % 1_000)
        .collect();
    row(
        "post-only place (rests) into 1,000 orders/side",
        measure_with(&book_1000, &mut lists, empty, |b, lists, i| {
            let o = order(
                2_000 + i as u64,
                OrderSide::Bid,
                OrderType::PostOnly,
                bid_prices[i],
                5,
            );
            b.place(&o, &ctx, &mut lists[i], &mut NoopListener).unwrap();
        }),
    );

    // Cancel: ids of orders placed into the prepared book, each cancelled once per batch.
    let mut with_ids = book_1000.clone();
    let ids: Vec<_> = {
        let mut book = Book::load(bytemuck::cast_slice_mut(&mut with_ids)).unwrap();
        (0..PER_BATCH)
            .map(|i| {
                let o = order(5_000, OrderSide::Ask, OrderType::Limit, prices[i], 5);
                book.place(&o, &ctx, &mut OpenOrders::new(), &mut NoopListener)
                    .unwrap()
                    .order_id
            })
            .collect()
    };
    row(
        "cancel by order id in 1,200 orders/side",
        measure(&with_ids, |b, i| {
            b.cancel(&owner(5_000), ids[i], &mut NoopListener).unwrap();
        }),
    );

    // Takers: a deep ladder of 1-lot asks so that each taker fills exactly `fills` makers.
    // Takers that never rest: their list is not read.
    let mut taker_list = OpenOrders::new();
    for fills in [1u64, 10] {
        let mut ladder = vec![0u64; Book::size_of(CAPACITY, EVENTS).div_ceil(8)];
        {
            let mut book =
                Book::init(bytemuck::cast_slice_mut(&mut ladder), CAPACITY, EVENTS).unwrap();
            for i in 0..3_000u64 {
                let o = order(i % 50, OrderSide::Ask, OrderType::Limit, 10_000 + i, 1);
                book.place(&o, &ctx, &mut OpenOrders::new(), &mut NoopListener)
                    .unwrap();
            }
        }
        row(
            &format!("IOC taker filling {fills} maker(s), book of 3,000"),
            measure(&ladder, |b, _| {
                // Keep the queue from filling: the authority consumes as it goes.
                let n = b.event_count();
                b.pop_events(n).unwrap();
                let o = order(
                    9_999,
                    OrderSide::Bid,
                    OrderType::ImmediateOrCancel,
                    20_000,
                    fills,
                );
                let out = b
                    .place(&o, &ctx, &mut taker_list, &mut NoopListener)
                    .unwrap();
                assert_eq!(out.fills as u64, fills);
            }),
        );
    }
}
