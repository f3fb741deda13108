//! Slippage guards and quote-amount orders.

mod common;

use carry_book::*;
use common::*;

fn ctx() -> MatchContext {
    MatchContext {
        now: 1,
        oracle_price: None,
        slot: 0,
    }
}

/// Owner 1's three asks, recorded in `lists.of(1)`.
fn asks(book: &mut Book, lists: &mut Lists) {
    for (price, qty) in [(100, 5), (101, 5), (103, 10)] {
        book.place(
            &order(1, OrderSide::Ask, OrderType::Limit, price, qty),
            &ctx(),
            lists.of(1),
            &mut NoopListener,
        )
        .unwrap();
    }
    assert_eq!(book.open_orders(&owner(1), lists.of(1)).count(), 3);
}

#[test]
fn slippage_guards_refuse_with_nothing_changed() {
    let mut buf = Buffer::new(16, 8);
    let mut lists = Lists::new();
    asks(&mut buf.book(), &mut lists);
    let before = buf.0.clone();
    let mut o = order(2, OrderSide::Bid, OrderType::ImmediateOrCancel, 101, 20);
    o.min_base_fill = 11;
    assert_eq!(
        buf.book().place(&o, &ctx(), lists.of(2), &mut NoopListener),
        Err(BookError::SlippageExceeded)
    );
    o.min_base_fill = 0;
    o.min_quote_fill = 5 * 100 + 5 * 101 + 1;
    assert_eq!(
        buf.book().place(&o, &ctx(), lists.of(2), &mut NoopListener),
        Err(BookError::SlippageExceeded)
    );
    assert!(before == buf.0, "a refused place changed the book");
    assert_eq!(*lists.of(2), OpenOrders::new());
    o.min_base_fill = 10;
    o.min_quote_fill = 5 * 100 + 5 * 101;
    let out = buf
        .book()
        .place(&o, &ctx(), lists.of(2), &mut NoopListener)
        .unwrap();
    assert_eq!((out.base_filled, out.quote_filled), (10, 1005));
    // The two filled asks left the book: owner 1's list now shows only the third.
    let book = buf.book();
    let left: Vec<u64> = book
        .open_orders(&owner(1), lists.of(1))
        .map(|o| o.quantity)
        .collect();
    assert_eq!(left, [10]);
}

#[test]
fn quote_budget_spends_at_most_the_budget() {
    let mut buf = Buffer::new(16, 8);
    let mut book = buf.book();
    let mut lists = Lists::new();
    asks(&mut book, &mut lists);
    // 5 at 100 (500) + 5 at 101 (505) + 2 at 103 (206) = 1,211 <= 1,300 < 1,211 + 103.
    let mut o = order(2, OrderSide::Bid, OrderType::Market, 1_000, u64::MAX / 2);
    o.quote_budget = 1_300;
    let mut rec = Recorder::default();
    let out = book.place(&o, &ctx(), lists.of(2), &mut rec).unwrap();
    assert_eq!(
        (out.base_filled, out.quote_filled, out.fills),
        (12, 1_211, 3)
    );
    assert_eq!(rec.fills[2].quantity, 2);
    assert_eq!(out.cancelled_quantity, u64::MAX / 2 - 12);
    // The base quantity still caps it.
    let mut o = order(3, OrderSide::Bid, OrderType::ImmediateOrCancel, 103, 3);
    o.quote_budget = 10_000;
    let out = book
        .place(&o, &ctx(), lists.of(3), &mut NoopListener)
        .unwrap();
    assert_eq!((out.base_filled, out.quote_filled), (3, 309));
    // A budget below one lot at the best price fills nothing.
    o.quote_budget = 102;
    let out = book
        .place(&o, &ctx(), lists.of(3), &mut NoopListener)
        .unwrap();
    assert_eq!(out.base_filled, 0);
    // A fill-or-kill must fill its whole quantity within the budget.
    let mut fok = order(4, OrderSide::Bid, OrderType::FillOrKill, 103, 3);
    fok.quote_budget = 3 * 103 - 1;
    assert_eq!(
        book.place(&fok, &ctx(), lists.of(4), &mut NoopListener),
        Err(BookError::FillOrKillNotFilled)
    );
    fok.quote_budget = 3 * 103;
    assert_eq!(
        book.place(&fok, &ctx(), lists.of(4), &mut NoopListener)
            .unwrap()
            .base_filled,
        3
    );
    // Only immediate-or-cancel, fill-or-kill and market orders take a budget.
    for kind in [
        OrderType::Limit,
        OrderType::PostOnly,
        OrderType::OraclePegged,
    ] {
        o.kind = kind;
        assert_eq!(
            book.place(&o, &ctx(), lists.of(3), &mut NoopListener),
            Err(BookError::InvalidQuoteBudget)
        );
    }
}

#[test]
fn a_better_order_evicts_the_worst_of_a_full_side() {
    let mut buf = Buffer::new(4, 8);
    let mut book = buf.book();
    let mut lists = Lists::new();
    for (owner_n, price) in [(1, 110), (2, 120), (3, 130), (4, 130)] {
        book.place(
            &order(owner_n, OrderSide::Ask, OrderType::Limit, price, 1),
            &ctx(),
            lists.of(owner_n),
            &mut NoopListener,
        )
        .unwrap();
    }
    // Not better than the worst (130): refused, nothing changed.
    let before = buf.0.clone();
    let worse = order(5, OrderSide::Ask, OrderType::Limit, 130, 1);
    assert_eq!(
        buf.book()
            .place(&worse, &ctx(), lists.of(5), &mut NoopListener),
        Err(BookError::SideFull)
    );
    assert!(before == buf.0);
    assert_eq!(*lists.of(5), OpenOrders::new());
    // Better: the newest order at the worst price goes, with an event naming it.
    let mut rec = Recorder::default();
    let out = buf
        .book()
        .place(
            &order(5, OrderSide::Ask, OrderType::Limit, 125, 1),
            &ctx(),
            lists.of(5),
            &mut rec,
        )
        .unwrap();
    assert_eq!(rec.outs.len(), 1);
    let (gone, reason) = rec.outs[0];
    assert_eq!((gone.owner, reason), (owner(4), OutReason::Evicted));
    assert_eq!(
        out.evicted,
        Some(OrderId {
            hi: gone.key_hi,
            lo: gone.key_lo
        })
    );
    assert_eq!(out.posted_quantity, 1);
    let book = buf.book();
    assert_eq!(book.order_count(OrderSide::Ask), 4);
    // The evicted order's entry in its owner's list is stale (the book does not come back
    // to the list); the new order is in owner 5's.
    assert_eq!(book.open_orders(&owner(4), lists.of(4)).count(), 0);
    assert_eq!(lists.of(4).len, 1, "the stale entry stays until reused");
    assert_eq!(listed_ids_of(&book, &owner(5), lists.of(5)), [out.order_id]);
}
