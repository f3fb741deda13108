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
    let mut lists = Lists::new();
    for i in 0..(MAX_REMOVALS_PER_PLACE as u64) {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100 + i % 3, 5);
        o.expires_at = 10;
        // More resting orders than one owner's list holds: the test is about the book's
        // walk, not owner lookups, so each place gets a fresh list.
        book.place(&o, &ctx(1, None), &mut OpenOrders::new(), &mut NoopListener)
            .unwrap();
    }
    book.place(
        &order(2, OrderSide::Ask, OrderType::Limit, 103, 5),
        &ctx(1, None),
        lists.of(2),
        &mut NoopListener,
    )
    .unwrap();
    let mut rec = Recorder::default();
    let out = book
        .place(
            &order(3, OrderSide::Bid, OrderType::Limit, 105, 8),
            &ctx(20, None),
            lists.of(3),
            &mut rec,
        )
        .unwrap();
    assert_eq!(listed_ids_of(&book, &owner(3), lists.of(3)), [out.order_id]);
    assert_eq!(book.open_orders(&owner(2), lists.of(2)).count(), 0);
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
    let mut lists = Lists::new();
    for owner in [3u8, 1, 1] {
        let mut o = order(owner, OrderSide::Ask, OrderType::Limit, 100, 5);
        o.expires_at = 10;
        book.place(&o, &ctx(1, None), lists.of(owner), &mut NoopListener)
            .unwrap();
    }
    book.place(
        &order(2, OrderSide::Ask, OrderType::Limit, 101, 5),
        &ctx(1, None),
        lists.of(2),
        &mut NoopListener,
    )
    .unwrap();
    // fill the queue to one free slot: three fills of owner 2's ask
    for _ in 0..3 {
        let mut q = order(4, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 1);
        q.expires_at = 0;
        // owner 4 sweeps: the expired asks ahead are removed first (two of owner 1: 2 outs)
        let _ = book.place(&q, &ctx(20, None), lists.of(4), &mut NoopListener);
    }
    assert!(book.event_count() <= 4);
    // a full queue: a taker that would meet another owner's expired order is refused
    while book.event_count() < 4 {
        let q = order(5, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 1);
        if book
            .place(&q, &ctx(20, None), lists.of(5), &mut NoopListener)
            .is_err()
        {
            break;
        }
    }
    let asks = book.order_count(OrderSide::Ask);
    let r = book.place(
        &order(6, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 1),
        &ctx(20, None),
        lists.of(6),
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
    let mut lists = Lists::new();
    for _ in 0..200 {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100, 5);
        o.expires_at = 10;
        // 200 resting orders of one owner, more than a list holds: a fresh list each (the
        // test is about the walk's budget, not owner lookups).
        book.place(&o, &ctx(1, None), &mut OpenOrders::new(), &mut NoopListener)
            .unwrap();
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
                lists.of(3),
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
            lists.of(3),
            &mut NoopListener,
        )
        .unwrap();
    assert_eq!((out.makers_removed, out.posted_quantity), (8, 8));
    // Only the order that rested is in owner 3's list.
    assert_eq!(listed_ids_of(&book, &owner(3), lists.of(3)), [out.order_id]);
    assert_eq!(lists.of(3).len, 1);
}

/// Pegged orders beyond their peg limit are removed when met, within the same budget.
#[test]
fn out_of_peg_orders_met_are_removed() {
    let mut buf = Buffer::new(256, 64);
    let mut book = buf.book();
    let mut lists = Lists::new();
    for _ in 0..10 {
        // Oracle + 0, never below 100: beyond its limit once the oracle is under 100.
        let mut o = order(1, OrderSide::Ask, OrderType::OraclePegged, 100, 5);
        o.peg_offset = 0;
        book.place(&o, &ctx(1, Some(105)), lists.of(1), &mut NoopListener)
            .unwrap();
    }
    assert_eq!(book.open_orders(&owner(1), lists.of(1)).count(), 10);
    let mut rec = Recorder::default();
    let out = book
        .place(
            &order(2, OrderSide::Bid, OrderType::Limit, 96, 5),
            &ctx(1, Some(95)),
            lists.of(2),
            &mut rec,
        )
        .unwrap();
    assert_eq!((out.makers_removed, out.posted_quantity), (10, 5));
    assert!(rec.outs.iter().all(|(_, r)| *r == OutReason::PegLimit));
    // Removed by another owner's place: owner 1's entries are all stale now.
    assert_eq!(book.open_orders(&owner(1), lists.of(1)).count(), 0);
}

/// Owners that differ from each other in a single bit (in each of the four words of the key)
/// and that reuse each other's client ids: every owner's client-id lookups, through its own
/// full list, find its own orders and no other's.
#[test]
fn crafted_client_ids_and_owners_keep_lookups_working() {
    let mut buf = Buffer::new(512, 64);
    let mut book = buf.book();
    let base = [0xA5u8; 32];
    let mut owners = vec![base];
    for byte in [0usize, 7, 8, 15, 16, 23, 24, 31] {
        let mut o = base;
        o[byte] ^= 1 << (byte % 8);
        owners.push(o);
    }
    let cid = |k: usize, bit: u32| 1u64 << (2 * bit + (k % 2) as u32);
    let mut lists = vec![OpenOrders::new(); owners.len()];
    let mut n = 0;
    for (k, ow) in owners.iter().enumerate() {
        for bit in 0..MAX_OPEN_ORDERS as u32 {
            let mut o = NewOrder::new(*ow, OrderSide::Ask, OrderType::Limit, 200 + n % 7, 1);
            o.client_order_id = cid(k, bit);
            book.place(&o, &ctx(1, None), &mut lists[k], &mut NoopListener)
                .unwrap();
            n += 1;
        }
        // A client id it already rests is refused, whatever other owners use.
        let mut dup = NewOrder::new(*ow, OrderSide::Ask, OrderType::Limit, 300, 1);
        dup.client_order_id = cid(k, 5);
        assert_eq!(
            book.place(&dup, &ctx(1, None), &mut lists[k], &mut NoopListener),
            Err(BookError::DuplicateClientOrderId)
        );
    }
    for (k, ow) in owners.iter().enumerate() {
        assert_eq!(lists[k].len, MAX_OPEN_ORDERS as u32);
        assert_eq!(
            listed_ids_of(&book, ow, &lists[k]),
            resting_ids_of(&book, ow)
        );
        for bit in 0..MAX_OPEN_ORDERS as u32 {
            let f = book.find_by_client_id(ow, &lists[k], cid(k, bit)).unwrap();
            assert_eq!((f.owner, f.client_order_id), (*ow, cid(k, bit)));
            // The other parity's client ids are other owners', never found through this list.
            assert!(book
                .find_by_client_id(ow, &lists[k], cid(k + 1, bit))
                .is_none());
        }
    }
    for (k, ow) in owners.iter().enumerate() {
        for bit in (0..MAX_OPEN_ORDERS as u32).rev() {
            let id = book.find_by_client_id(ow, &lists[k], cid(k, bit)).unwrap();
            let id = OrderId {
                hi: id.key_hi,
                lo: id.key_lo,
            };
            let c = book
                .cancel_by_client_id(ow, &mut lists[k], cid(k, bit), &mut NoopListener)
                .unwrap();
            assert_eq!((c.client_order_id, c.order_id), (cid(k, bit), id));
            assert_eq!(
                book.cancel_by_client_id(ow, &mut lists[k], cid(k, bit), &mut NoopListener),
                Err(BookError::OrderNotFound)
            );
        }
        assert_eq!(
            lists[k].len, 0,
            "every cancel by client id clears its entry"
        );
        assert!(resting_ids_of(&book, ow).is_empty());
        // the owners after it still rest all theirs
        for (j, other) in owners.iter().enumerate().skip(k + 1) {
            assert_eq!(book.open_orders(other, &lists[j]).count(), MAX_OPEN_ORDERS);
        }
    }
    assert_eq!(book.order_count(OrderSide::Ask), 0);
}

/// Cancel-all cancels the owner's own orders only, both sides or one.
#[test]
fn cancel_all_visits_the_owner_only() {
    let mut buf = Buffer::new(256, 64);
    let mut book = buf.book();
    let mut lists = Lists::new();
    for i in 0..40u64 {
        let side = if i % 2 == 0 {
            OrderSide::Bid
        } else {
            OrderSide::Ask
        };
        let price = if side == OrderSide::Bid { 90 } else { 110 };
        let on = (i % 4) as u8;
        let mut o = order(on, side, OrderType::Limit, price, 1);
        o.client_order_id = if i % 3 == 0 { 0 } else { i };
        book.place(&o, &ctx(1, None), lists.of(on), &mut NoopListener)
            .unwrap();
    }
    let mut rec = Recorder::default();
    assert_eq!(
        book.cancel_all(&owner(1), lists.of(1), Some(OrderSide::Ask), 100, &mut rec)
            .unwrap(),
        CancelAllOutcome {
            cancelled: 10,
            complete: true
        }
    );
    assert!(rec.outs.iter().all(|(o, _)| o.owner == owner(1)));
    assert!(resting_ids_of(&book, &owner(1)).is_empty());
    let call = |book: &mut Book, lists: &mut Lists, limit, rec: &mut Recorder| {
        let o = book
            .cancel_all(&owner(2), lists.of(2), None, limit, rec)
            .unwrap();
        (o.cancelled, o.complete)
    };
    assert_eq!(call(&mut book, &mut lists, 4, &mut rec), (4, false));
    assert_eq!(
        listed_ids_of(&book, &owner(2), lists.of(2)),
        resting_ids_of(&book, &owner(2))
    );
    assert_eq!(resting_ids_of(&book, &owner(2)).len(), 6);
    assert_eq!(call(&mut book, &mut lists, 100, &mut rec), (6, true));
    assert_eq!(call(&mut book, &mut lists, 100, &mut rec), (0, true));
    assert_eq!(lists.of(2).len, 0);
    assert!(rec
        .outs
        .iter()
        .all(|(o, _)| o.owner != owner(0) && o.owner != owner(3)));
    assert_eq!(
        book.order_count(OrderSide::Bid) + book.order_count(OrderSide::Ask),
        20
    );
    // A side-filtered cancel-all leaves the other side's entries: owner 0's asks are still
    // found through its list after its bids are cancelled.
    let o = book
        .cancel_all(&owner(0), lists.of(0), Some(OrderSide::Bid), 100, &mut rec)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (10, true));
    assert_eq!(book.open_orders(&owner(0), lists.of(0)).count(), 0);
    let o = book
        .cancel_all(&owner(3), lists.of(3), Some(OrderSide::Bid), 100, &mut rec)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (0, true));
    assert_eq!(
        listed_ids_of(&book, &owner(3), lists.of(3)),
        resting_ids_of(&book, &owner(3))
    );
    assert_eq!(resting_ids_of(&book, &owner(3)).len(), 10);
}

/// `MAX_OPEN_ORDERS` orders resting on both sides, some with client ids.
fn fill_list(book: &mut Book, list: &mut OpenOrders, on: u8) -> Vec<OrderId> {
    (0..MAX_OPEN_ORDERS as u64)
        .map(|i| {
            let (side, price) = if i % 2 == 0 {
                (OrderSide::Bid, 90 - i % 5)
            } else {
                (OrderSide::Ask, 110 + i % 5)
            };
            let mut o = order(on, side, OrderType::Limit, price, 2);
            o.client_order_id = if i % 4 == 0 { 0 } else { 100 + i };
            let out = book
                .place(&o, &ctx(1, None), list, &mut NoopListener)
                .unwrap();
            assert_eq!(out.posted_quantity, 2);
            out.order_id
        })
        .collect()
}

/// An owner rests at most `MAX_OPEN_ORDERS` orders through its list: a further place that
/// would rest is refused with `TooManyOpenOrders` and nothing changed (not even the fills it
/// would have made), while orders that do not rest still trade. One cancel-all (limit
/// allowing) empties a full list, and the owner can rest as many again.
#[test]
fn an_owner_rests_at_most_max_open_orders_in_one_list() {
    let mut buf = Buffer::new(128, 64);
    let mut lists = Lists::new();
    let mut ids = fill_list(&mut buf.book(), lists.of(1), 1);
    ids.sort();
    let book = buf.book();
    assert_eq!(lists.of(1).len, MAX_OPEN_ORDERS as u32);
    assert_eq!(listed_ids_of(&book, &owner(1), lists.of(1)), ids);
    assert_eq!(resting_ids_of(&book, &owner(1)), ids);
    // Owner 2 rests 4 lots at 95 that owner 1's bids can take.
    buf.book()
        .place(
            &order(2, OrderSide::Ask, OrderType::Limit, 95, 4),
            &ctx(1, None),
            lists.of(2),
            &mut NoopListener,
        )
        .unwrap();

    let before = buf.0.clone();
    let list_before = *lists.of(1);
    let at = ctx(1, Some(100));
    for kind in [
        OrderType::Limit,
        OrderType::PostOnly,
        OrderType::PostOnlySlide,
        OrderType::OraclePegged,
    ] {
        for cid in [0, 999] {
            let mut o = order(1, OrderSide::Bid, kind, 85, 1);
            o.client_order_id = cid;
            if kind == OrderType::OraclePegged {
                (o.peg_offset, o.price) = (-20, 0);
            }
            let mut rec = Recorder::default();
            assert_eq!(
                buf.book().place(&o, &at, lists.of(1), &mut rec),
                Err(BookError::TooManyOpenOrders),
                "{kind:?} cid {cid}"
            );
            assert!(rec.posts.is_empty() && rec.fills.is_empty());
        }
    }
    // A limit bid that would fill owner 2's 4 lots and rest 1: refused before any fill.
    let mut rec = Recorder::default();
    assert_eq!(
        buf.book().place(
            &order(1, OrderSide::Bid, OrderType::Limit, 95, 5),
            &at,
            lists.of(1),
            &mut rec
        ),
        Err(BookError::TooManyOpenOrders)
    );
    assert!(rec.fills.is_empty());
    assert!(before == buf.0, "a refused place changed the book");
    assert_eq!(*lists.of(1), list_before);

    // Orders that do not rest trade with a full list, and leave it as it was.
    let mut book = buf.book();
    let mut ioc = order(1, OrderSide::Bid, OrderType::ImmediateOrCancel, 95, 1);
    ioc.client_order_id = 555;
    let out = book
        .place(&ioc, &at, lists.of(1), &mut NoopListener)
        .unwrap();
    assert_eq!(out.base_filled, 1);
    // a limit order filled whole (with a new client id) never rests
    let mut lim = order(1, OrderSide::Bid, OrderType::Limit, 95, 2);
    lim.client_order_id = 556;
    let out = book
        .place(&lim, &at, lists.of(1), &mut NoopListener)
        .unwrap();
    assert_eq!((out.base_filled, out.posted_quantity), (2, 0));
    // a client id the owner rests is still a duplicate
    lim.client_order_id = 101;
    assert_eq!(
        book.place(&lim, &at, lists.of(1), &mut NoopListener),
        Err(BookError::DuplicateClientOrderId)
    );
    lim.client_order_id = 0;
    lim.quantity = 1;
    let out = book
        .place(&lim, &at, lists.of(1), &mut NoopListener)
        .unwrap();
    assert_eq!((out.base_filled, out.posted_quantity), (1, 0));
    assert_eq!(*lists.of(1), list_before);
    assert_eq!(book.open_orders(&owner(2), lists.of(2)).count(), 0);

    // A full list's cancel-all, limit allowing, cancels all its orders in one call.
    let mut rec = Recorder::default();
    let o = book
        .cancel_all(
            &owner(1),
            lists.of(1),
            None,
            MAX_OPEN_ORDERS as u32,
            &mut rec,
        )
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (MAX_OPEN_ORDERS as u32, true));
    let mut cancelled: Vec<OrderId> = rec
        .outs
        .iter()
        .map(|(o, r)| {
            assert_eq!((o.owner, *r), (owner(1), OutReason::Cancelled));
            OrderId {
                hi: o.key_hi,
                lo: o.key_lo,
            }
        })
        .collect();
    cancelled.sort();
    assert_eq!(cancelled, ids);
    assert_eq!(lists.of(1).len, 0);
    assert_eq!(
        book.order_count(OrderSide::Bid) + book.order_count(OrderSide::Ask),
        0
    );
    let o = book
        .cancel_all(&owner(1), lists.of(1), None, u32::MAX, &mut rec)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (0, true));
    // A limit one below the list's orders: one call leaves one, the next completes.
    fill_list(&mut book, lists.of(1), 1);
    let o = book
        .cancel_all(&owner(1), lists.of(1), None, 31, &mut NoopListener)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (31, false));
    let o = book
        .cancel_all(&owner(1), lists.of(1), None, 31, &mut NoopListener)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (1, true));
    // And the owner rests a full list again.
    fill_list(&mut book, lists.of(1), 1);
    assert_eq!(
        book.place(
            &order(1, OrderSide::Ask, OrderType::Limit, 120, 1),
            &at,
            lists.of(1),
            &mut NoopListener
        ),
        Err(BookError::TooManyOpenOrders)
    );
}

/// Entries whose orders left the book without the owner's list (filled by another owner's
/// taker, cancelled or reduced away by order id, removed expired by another owner's walk)
/// are stale: they no longer count, and the owner's next resting places reuse them.
#[test]
fn stale_entries_are_reused() {
    let mut buf = Buffer::new(128, 64);
    let mut book = buf.book();
    let mut lists = Lists::new();
    let mut ids = Vec::new();
    // 31 asks at 100..=130 (client ids 1..=31) and one bid at 50 that expires at 10.
    for i in 0..31u64 {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 100 + i, 2);
        o.client_order_id = i + 1;
        let out = book
            .place(&o, &ctx(1, None), lists.of(1), &mut NoopListener)
            .unwrap();
        ids.push(out.order_id);
    }
    let mut bid = order(1, OrderSide::Bid, OrderType::Limit, 50, 2);
    bid.expires_at = 10;
    let expiring = book
        .place(&bid, &ctx(1, None), lists.of(1), &mut NoopListener)
        .unwrap()
        .order_id;
    assert_eq!(lists.of(1).len, MAX_OPEN_ORDERS as u32);
    let full = ctx(5, None);
    assert_eq!(
        book.place(
            &order(1, OrderSide::Ask, OrderType::Limit, 140, 1),
            &full,
            lists.of(1),
            &mut NoopListener
        ),
        Err(BookError::TooManyOpenOrders)
    );

    // Owner 2 takes 7 lots: the asks at 100, 101, 102 fill whole, the one at 103 in part.
    let out = book
        .place(
            &order(2, OrderSide::Bid, OrderType::ImmediateOrCancel, 103, 7),
            &full,
            lists.of(2),
            &mut NoopListener,
        )
        .unwrap();
    assert_eq!(out.base_filled, 7);
    // Owner 1 cancels two by order id and reduces one away by order id.
    book.cancel(&owner(1), ids[10], &mut NoopListener).unwrap();
    book.cancel(&owner(1), ids[11], &mut NoopListener).unwrap();
    let r = book
        .reduce(&owner(1), ids[12], 5, &mut NoopListener)
        .unwrap();
    assert_eq!(r.remaining, 0);
    // Owner 3's ask meets owner 1's expired bid and takes it off.
    let out = book
        .place(
            &order(3, OrderSide::Ask, OrderType::Limit, 40, 1),
            &ctx(20, None),
            lists.of(3),
            &mut NoopListener,
        )
        .unwrap();
    assert_eq!((out.makers_removed, out.posted_quantity), (1, 1));
    assert!(book.find(expiring).unwrap().is_none());

    // 7 entries are stale; every bit still set: the list does not learn of them.
    assert_eq!(lists.of(1).len, MAX_OPEN_ORDERS as u32);
    let live = listed_ids_of(&book, &owner(1), lists.of(1));
    assert_eq!(live.len(), MAX_OPEN_ORDERS - 7);
    assert_eq!(live, resting_ids_of(&book, &owner(1)));
    assert_eq!(
        book.find_by_client_id(&owner(1), lists.of(1), 4)
            .unwrap()
            .quantity,
        1,
        "the ask partly filled still counts"
    );
    assert!(book.find_by_client_id(&owner(1), lists.of(1), 1).is_none());

    // The owner rests 7 more, reusing those entries (and the client ids of the orders that
    // left), then is refused again.
    // (Client ids 1..=3: filled; 11, 12: cancelled; 13: reduced away.)
    for (i, cid) in [1u64, 2, 3, 0, 11, 12, 13].into_iter().enumerate() {
        let mut o = order(1, OrderSide::Ask, OrderType::Limit, 150 + i as u64, 1);
        o.client_order_id = cid;
        let out = book
            .place(&o, &ctx(20, None), lists.of(1), &mut NoopListener)
            .unwrap_or_else(|e| panic!("rest {i}: {e:?}"));
        assert_eq!(out.posted_quantity, 1);
        assert_eq!(lists.of(1).len, MAX_OPEN_ORDERS as u32);
        assert_eq!(
            listed_ids_of(&book, &owner(1), lists.of(1)),
            resting_ids_of(&book, &owner(1))
        );
    }
    let mut dup = order(1, OrderSide::Ask, OrderType::Limit, 160, 1);
    dup.client_order_id = 4;
    assert_eq!(
        book.place(&dup, &ctx(20, None), lists.of(1), &mut NoopListener),
        Err(BookError::DuplicateClientOrderId)
    );
    assert_eq!(
        book.place(
            &order(1, OrderSide::Ask, OrderType::Limit, 160, 1),
            &ctx(20, None),
            lists.of(1),
            &mut NoopListener
        ),
        Err(BookError::TooManyOpenOrders)
    );
    assert_eq!(
        book.open_orders(&owner(1), lists.of(1)).count(),
        MAX_OPEN_ORDERS
    );
    // The reused client id finds the new order, not the filled one.
    let f = book.find_by_client_id(&owner(1), lists.of(1), 1).unwrap();
    assert_eq!(fixed_ask_price(f), 150);
    // Cancel-all clears every entry, stale or live.
    let o = book
        .cancel_all(&owner(1), lists.of(1), None, u32::MAX, &mut NoopListener)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (MAX_OPEN_ORDERS as u32, true));
    assert_eq!(lists.of(1).len, 0);
}

fn fixed_ask_price(o: &Order) -> u64 {
    OrderId {
        hi: o.key_hi,
        lo: o.key_lo,
    }
    .price_or_offset() as u64
}

/// The engine checks each entry's order's owner: through another owner's list (passed by
/// mistake, or with entries copied in from it), an owner finds, reduces and cancels none of
/// the other's orders, by client id or by cancel-all.
#[test]
fn another_owners_list_cannot_touch_its_orders() {
    let mut buf = Buffer::new(64, 16);
    let mut lists = Lists::new();
    let mut book = buf.book();
    let mut ones = Vec::new();
    for cid in 1..=5u64 {
        let side = if cid % 2 == 0 {
            OrderSide::Bid
        } else {
            OrderSide::Ask
        };
        let price = if side == OrderSide::Bid { 90 } else { 110 };
        let mut o = order(1, side, OrderType::Limit, price, 3);
        o.client_order_id = cid;
        let out = book
            .place(&o, &ctx(1, None), lists.of(1), &mut NoopListener)
            .unwrap();
        ones.push(out.order_id);
    }
    // Owner 2 rests two orders with client ids owner 1 uses too.
    for cid in 1..=2u64 {
        let mut o = order(2, OrderSide::Ask, OrderType::Limit, 120, 1);
        o.client_order_id = cid;
        book.place(&o, &ctx(1, None), lists.of(2), &mut NoopListener)
            .unwrap();
    }
    ones.sort();
    let before = buf.0.clone();
    let list1 = *lists.of(1);

    let mut book = buf.book();
    let mut rec = Recorder::default();
    for cid in 1..=5u64 {
        assert!(book.find_by_client_id(&owner(2), &list1, cid).is_none());
        assert_eq!(
            book.cancel_by_client_id(&owner(2), lists.of(1), cid, &mut rec),
            Err(BookError::OrderNotFound)
        );
        assert_eq!(
            book.reduce_by_client_id(&owner(2), lists.of(1), cid, 1, &mut rec),
            Err(BookError::OrderNotFound)
        );
    }
    assert_eq!(book.open_orders(&owner(2), &list1).count(), 0);
    for id in &ones {
        assert_eq!(
            book.cancel(&owner(2), *id, &mut rec),
            Err(BookError::OrderNotFound)
        );
    }
    let mut copy = list1;
    let o = book
        .cancel_all(&owner(2), &mut copy, None, u32::MAX, &mut rec)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (0, true));
    assert!(rec.outs.is_empty() && rec.reductions.is_empty());
    assert!(before == buf.0, "another owner's list changed the book");
    assert_eq!(*lists.of(1), list1);

    // Owner 2's own list with owner 1's entries copied into its free entries.
    let mut forged = *lists.of(2);
    assert_eq!(forged.len, 2);
    for (k, e) in list1.entries.iter().take(5).enumerate() {
        forged.entries[2 + k] = *e;
    }
    forged.len = 7;
    let mut book = buf.book();
    assert_eq!(book.open_orders(&owner(2), &forged).count(), 2);
    assert!(book.find_by_client_id(&owner(2), &forged, 3).is_none());
    // Owner 1's client id 3 is no duplicate for owner 2.
    let mut o = order(2, OrderSide::Ask, OrderType::Limit, 125, 1);
    o.client_order_id = 3;
    book.place(&o, &ctx(1, None), &mut forged, &mut NoopListener)
        .unwrap();
    let o = book
        .cancel_all(&owner(2), &mut forged, None, u32::MAX, &mut rec)
        .unwrap();
    assert_eq!((o.cancelled, o.complete), (3, true));
    assert!(rec.outs.iter().all(|(o, _)| o.owner == owner(2)));
    assert!(resting_ids_of(&book, &owner(2)).is_empty());
    // Owner 1's orders all rest, found through its own list.
    assert_eq!(resting_ids_of(&book, &owner(1)), ones);
    assert_eq!(listed_ids_of(&book, &owner(1), lists.of(1)), ones);
    assert_eq!(
        book.find_by_client_id(&owner(1), lists.of(1), 3)
            .unwrap()
            .quantity,
        3
    );
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
        // More than one list holds; the test is about the side's visit: a fresh list each.
        book.place(&o, &ctx(1, None), &mut OpenOrders::new(), &mut NoopListener)
            .unwrap();
    }
    book.place(
        &order(2, OrderSide::Ask, OrderType::Limit, 101, 5),
        &ctx(1, None),
        &mut OpenOrders::new(),
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

/// Client ids that agree in their low 32 bits (the bits a list entry keeps to spare reading
/// orders): lookups, cancels and the duplicate check still tell them apart by the full id.
#[test]
fn client_ids_sharing_their_low_bits_stay_distinct() {
    let mut buf = Buffer::new(64, 16);
    let mut lists = Lists::new();
    let mut book = buf.book();
    let cids = [7u64, 7 + (1 << 32), 7 + (5 << 32)];
    let mut ids = Vec::new();
    for (i, cid) in cids.iter().enumerate() {
        let mut o = order(1, OrderSide::Bid, OrderType::Limit, 90 - i as u64, 2);
        o.client_order_id = *cid;
        let out = book
            .place(&o, &ctx(1, None), lists.of(1), &mut NoopListener)
            .unwrap();
        ids.push(out.order_id);
    }
    // The same full id again is a duplicate; another sharing its low bits is not.
    let mut dup = order(1, OrderSide::Bid, OrderType::Limit, 80, 1);
    dup.client_order_id = cids[1];
    let before = buf.0.clone();
    let mut book = buf.book();
    assert_eq!(
        book.place(&dup, &ctx(1, None), lists.of(1), &mut NoopListener),
        Err(BookError::DuplicateClientOrderId)
    );
    assert!(before == buf.0);
    let mut book = buf.book();
    for (cid, id) in cids.iter().zip(&ids) {
        let o = book
            .find_by_client_id(&owner(1), lists.get(1), *cid)
            .unwrap();
        assert_eq!((o.key_hi, o.key_lo), (id.hi, id.lo));
    }
    let c = book
        .cancel_by_client_id(&owner(1), lists.of(1), cids[1], &mut NoopListener)
        .unwrap();
    assert_eq!(c.order_id, ids[1]);
    assert!(book
        .find_by_client_id(&owner(1), lists.get(1), cids[1])
        .is_none());
    assert!(book
        .find_by_client_id(&owner(1), lists.get(1), cids[0])
        .is_some());
    assert!(book
        .find_by_client_id(&owner(1), lists.get(1), cids[2])
        .is_some());
    let r = book
        .reduce_by_client_id(&owner(1), lists.of(1), cids[2], 1, &mut NoopListener)
        .unwrap();
    assert_eq!((r.order_id, r.remaining), (ids[2], 1));
}
