//! Books an adversary can build: each instruction stays within its budget, and honest
//! orders still trade.

mod common;

use carry_book::*;
use common::*;

fn ctx(now: u64, oracle: Option<u64>) -> MatchContext {
    MatchContext {
        now,
        oracle_price: oracle,
        slot: 0,
    }
}

/// Eight (or more, up to the removal budget) expired asks at the top no longer stop a limit
/// bid: they are removed and the bid fills against the live ask behind them.
#[test]
fn expired_makers_at_the_top_do_not_stop_a_limit_order() {
    let mut buf = Buffer::new(256, 256);
    let mut book = buf.book();
    for i in 0..(MAX_REMOVALS_PER_PLACE as u64) {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100 + i % 3, 5);
        o.expires_at = 10;
        book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
    }
    book.place(
        &order(2, OrderSide::Ask, OrderType::Limit, 103, 5),
        &ctx(1, None),
        &mut NoopListener,
    )
    .unwrap();
    let mut rec = Recorder::default();
    let out = book
        .place(
            &order(3, OrderSide::Bid, OrderType::Limit, 105, 8),
            &ctx(20, None),
            &mut rec,
        )
        .unwrap();
    assert_eq!(out.makers_removed, MAX_REMOVALS_PER_PLACE);
    assert_eq!((out.base_filled, out.fills), (5, 1));
    assert_eq!(out.posted_quantity, 3);
    assert_eq!(book.order_count(OrderSide::Ask), 0);
    assert!(rec.outs.iter().all(|(_, r)| *r == OutReason::Expired));
    // each removed order of another owner is queued as an out event for its owner's account,
    // in walk order with the fill
    let kinds: Vec<u8> = (0..book.event_count())
        .map(|i| book.event(i).unwrap().kind)
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == EVENT_OUT).count(), 64);
    assert_eq!(kinds.iter().filter(|k| **k == EVENT_FILL).count(), 1);
    let e = book.event(0).unwrap();
    assert_eq!(
        (e.maker[0], e.quantity, e.maker_out, e.maker_side()),
        (1, 5, 1, OrderSide::Ask)
    );
}

/// With no room left in the event queue, a walk stops before the expired order of another
/// owner it cannot report (its owner's resting lots must be released by the authority); its
/// own expired orders need no event.
#[test]
fn a_full_queue_stops_the_walk_before_an_unreported_removal() {
    let mut buf = Buffer::new(64, 4);
    let mut book = buf.book();
    for owner in [3u8, 1, 1] {
        let mut o = order(owner, OrderSide::Ask, OrderType::Limit, 100, 5);
        o.expires_at = 10;
        book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
    }
    book.place(
        &order(2, OrderSide::Ask, OrderType::Limit, 101, 5),
        &ctx(1, None),
        &mut NoopListener,
    )
    .unwrap();
    // fill the queue to one free slot: three fills of owner 2's ask
    for _ in 0..3 {
        let mut q = order(4, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 1);
        q.expires_at = 0;
        // owner 4 sweeps: the expired asks ahead are removed first (two of owner 1: 2 outs)
        let _ = book.place(&q, &ctx(20, None), &mut NoopListener);
    }
    assert!(book.event_count() <= 4);
    // a full queue: a taker that would meet another owner's expired order is refused
    while book.event_count() < 4 {
        let q = order(5, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 1);
        if book.place(&q, &ctx(20, None), &mut NoopListener).is_err() {
            break;
        }
    }
    let asks = book.order_count(OrderSide::Ask);
    let r = book.place(
        &order(6, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 1),
        &ctx(20, None),
        &mut NoopListener,
    );
    if book.event_count() == 4 {
        assert_eq!(r.err(), Some(BookError::EventQueueFull));
        assert_eq!(book.order_count(OrderSide::Ask), asks);
    }
}

/// Past the removal budget the place stops: what it removed stays removed (the next place
/// goes on from there), and the remainder is cancelled, never rested crossing.
#[test]
fn the_removal_budget_bounds_a_walk_over_expired_orders() {
    let mut buf = Buffer::new(512, 1024);
    let mut book = buf.book();
    for _ in 0..200 {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100, 5);
        o.expires_at = 10;
        book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
    }
    for kind in [
        OrderType::PostOnly,
        OrderType::PostOnlySlide,
        OrderType::Limit,
    ] {
        let before = book.order_count(OrderSide::Ask);
        let out = book
            .place(
                &order(3, OrderSide::Bid, kind, 101, 8),
                &ctx(20, None),
                &mut NoopListener,
            )
            .unwrap();
        assert_eq!(out.makers_removed, MAX_REMOVALS_PER_PLACE);
        assert_eq!((out.posted_quantity, out.cancelled_quantity), (0, 8));
        assert_eq!(
            book.order_count(OrderSide::Ask),
            before - MAX_REMOVALS_PER_PLACE
        );
    }
    let out = book
        .place(
            &order(3, OrderSide::Bid, OrderType::PostOnly, 101, 8),
            &ctx(20, None),
            &mut NoopListener,
        )
        .unwrap();
    assert_eq!((out.makers_removed, out.posted_quantity), (8, 8));
}

/// Pegged orders beyond their peg limit are removed when met, within the same budget.
#[test]
fn out_of_peg_orders_met_are_removed() {
    let mut buf = Buffer::new(256, 64);
    let mut book = buf.book();
    for _ in 0..10 {
        // Oracle + 0, never below 100: beyond its limit once the oracle is under 100.
        let mut o = order(1, OrderSide::Ask, OrderType::OraclePegged, 100, 5);
        o.peg_offset = 0;
        book.place(&o, &ctx(1, Some(105)), &mut NoopListener)
            .unwrap();
    }
    let mut rec = Recorder::default();
    let out = book
        .place(
            &order(2, OrderSide::Bid, OrderType::Limit, 96, 5),
            &ctx(1, Some(95)),
            &mut rec,
        )
        .unwrap();
    assert_eq!((out.makers_removed, out.posted_quantity), (10, 5));
    assert!(rec.outs.iter().all(|(_, r)| *r == OutReason::PegLimit));
}

/// Client ids chosen by one owner and many owners sharing a prefix do not slow lookups
/// beyond the key length: the owner tree is a critbit tree.
#[test]
fn crafted_client_ids_and_owners_keep_lookups_working() {
    let mut buf = Buffer::new(512, 64);
    let mut book = buf.book();
    let mut n = 0;
    for owner_byte in 0..4u8 {
        for bit in 0..64u32 {
            let mut o = order(owner_byte, OrderSide::Ask, OrderType::Limit, 200 + n % 7, 1);
            o.client_order_id = 1u64 << bit;
            book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
            n += 1;
        }
    }
    for owner_byte in 0..4u8 {
        for bit in (0..64u32).rev() {
            let c = book
                .cancel_by_client_id(&owner(owner_byte), 1u64 << bit, &mut NoopListener)
                .unwrap();
            assert_eq!(c.client_order_id, 1u64 << bit);
        }
    }
    assert_eq!(book.order_count(OrderSide::Ask), 0);
}

/// Cancel-all walks the owner's own orders only, both sides or one.
#[test]
fn cancel_all_visits_the_owner_only() {
    let mut buf = Buffer::new(256, 64);
    let mut book = buf.book();
    for i in 0..40u64 {
        let side = if i % 2 == 0 {
            OrderSide::Bid
        } else {
            OrderSide::Ask
        };
        let price = if side == OrderSide::Bid { 90 } else { 110 };
        let mut o = order((i % 4) as u8, side, OrderType::Limit, price, 1);
        o.client_order_id = if i % 3 == 0 { 0 } else { i };
        book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
    }
    let mut rec = Recorder::default();
    assert_eq!(
        book.cancel_all(&owner(1), Some(OrderSide::Ask), 100, &mut rec)
            .unwrap(),
        CancelAllOutcome {
            cancelled: 10,
            complete: true
        }
    );
    assert!(rec.outs.iter().all(|(o, _)| o.owner == owner(1)));
    let call = |book: &mut Book, limit, rec: &mut Recorder| {
        let o = book.cancel_all(&owner(2), None, limit, rec).unwrap();
        (o.cancelled, o.complete)
    };
    assert_eq!(call(&mut book, 4, &mut rec), (4, false));
    assert_eq!(call(&mut book, 100, &mut rec), (6, true));
    assert_eq!(call(&mut book, 100, &mut rec), (0, true));
    assert_eq!(
        book.order_count(OrderSide::Bid) + book.order_count(OrderSide::Ask),
        20
    );
}

/// A side-filtered cancel-all over an owner with many orders on the other side stops after
/// its visit bound and says so.
#[test]
fn cancel_all_visits_are_bounded() {
    let n = MAX_CANCEL_ALL_VISITS + 100;
    let mut buf = Buffer::new(n + 10, 16);
    let mut book = buf.book();
    for i in 0..n as u64 {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100 + i % 50, 1);
        o.client_order_id = i + 1;
        book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
    }
    let mut bid = order(1, OrderSide::Bid, OrderType::Limit, 50, 1);
    bid.client_order_id = u64::MAX;
    book.place(&bid, &ctx(1, None), &mut NoopListener).unwrap();
    let o = book
        .cancel_all(&owner(1), Some(OrderSide::Bid), 10, &mut NoopListener)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (0, false));
    let o = book
        .cancel_all(&owner(1), None, 2000, &mut NoopListener)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (MAX_CANCEL_ALL_VISITS, false));
    let o = book
        .cancel_all(&owner(1), Some(OrderSide::Bid), 10, &mut NoopListener)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (1, true));
}

/// The funding crank's read of a side: with 200 expired asks at the top, the bounded visit
/// looks at no more than its bound (it reports stopping there and never reaches the live ask),
/// while the unbounded view walks past them to it.
#[test]
fn bounded_visit_counts_skipped_orders() {
    let mut buf = Buffer::new(512, 64);
    let mut book = buf.book();
    for _ in 0..200 {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100, 5);
        o.expires_at = 10;
        book.place(&o, &ctx(1, None), &mut NoopListener).unwrap();
    }
    book.place(
        &order(2, OrderSide::Ask, OrderType::Limit, 101, 5),
        &ctx(1, None),
        &mut NoopListener,
    )
    .unwrap();
    let mut seen = 0;
    let complete = book
        .visit_tradable_bounded(OrderSide::Ask, &ctx(20, None), 128, |_| {
            seen += 1;
            true
        })
        .unwrap();
    assert!(!complete, "stopped at the bound");
    assert_eq!(seen, 0, "every visited order was expired");
    let mut prices = vec![];
    book.visit_tradable(OrderSide::Ask, &ctx(20, None), |v| {
        prices.push(v.price);
        true
    })
    .unwrap();
    assert_eq!(prices, [Some(101)]);
    // a bound above the side's size completes
    let complete = book
        .visit_tradable_bounded(OrderSide::Ask, &ctx(20, None), 1_000, |_| true)
        .unwrap();
    assert!(complete);
}
