//! Property tests over random order streams. After every step:
//! - the book is not crossed (best tradable bid < best tradable ask);
//! - price-time priority: the makers a taker touched are, in order, a prefix of the opposite
//!   side sorted independently by (price, sequence);
//! - every order's quantity is accounted for: placed = filled + resting + cancelled +
//!   evicted + reduced (cancelled counts cancels, unrested remainders, expiry, peg-limit and
//!   self-trade removals and decrements);
//! - the event queue holds exactly the maker fills not yet consumed;
//! - each side's order count equals the orders found by walking its trees;
//! - each owner's `OpenOrders` list records exactly its resting orders (the live orders
//!   `Book::open_orders` yields through it are, as a set of ids and without repeats, the
//!   owner's orders in the book), never more than `MAX_OPEN_ORDERS`, and none of another
//!   owner's; client ids resolve through it.
//!
//! Each owner's places, client-id calls and cancel-alls go through its own list. A place that
//! would rest while its owner already rests `MAX_OPEN_ORDERS` orders is refused
//! (`TooManyOpenOrders`) like every refusal: nothing changed, book or list.

mod common;

use carry_book::*;
use common::*;
use proptest::prelude::*;
use std::collections::HashMap;

#[derive(Clone, Debug)]
enum Op {
    Place {
        owner: u8,
        side: bool,
        kind: u8,
        price: u64,
        offset: i64,
        quantity: u64,
        cid: u64,
        ttl: u64,
        max_fills: u32,
        stp: u8,
    },
    Cancel {
        pick: usize,
    },
    CancelClient {
        owner: u8,
        cid: u64,
    },
    CancelAll {
        owner: u8,
        side: u8,
        limit: u32,
    },
    /// Reduce a resting order in place (by id, or by client id when `by_cid`).
    Reduce {
        pick: usize,
        by: u64,
        by_cid: bool,
    },
    Advance {
        seconds: u64,
    },
    /// The oracle moves to this price.
    Oracle {
        price: u64,
    },
    Pop {
        n: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..5, any::<bool>(), 0u8..7, 94u64..107, -6i64..7, 1u64..30, 0u64..6, 0u64..20,
              1u32..12, 0u8..3)
            .prop_map(|(owner, side, kind, price, offset, quantity, cid, ttl, max_fills, stp)| {
                Op::Place { owner, side, kind, price, offset, quantity, cid, ttl, max_fills, stp }
            }),
        2 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        1 => (0u8..3, 1u64..6).prop_map(|(owner, cid)| Op::CancelClient { owner, cid }),
        1 => (0u8..3, 0u8..3, 1u32..6).prop_map(|(owner, side, limit)| Op::CancelAll { owner, side, limit }),
        1 => (any::<usize>(), 1u64..20, any::<bool>())
            .prop_map(|(pick, by, by_cid)| Op::Reduce { pick, by, by_cid }),
        1 => (1u64..8).prop_map(|seconds| Op::Advance { seconds }),
        2 => (88u64..113).prop_map(|price| Op::Oracle { price }),
        2 => (0u32..40).prop_map(|n| Op::Pop { n }),
    ]
}

/// Streams for few owners that rest many orders: `op()` mixed with places that rest without
/// crossing (bids at 94..=99, asks at 101..=106), so owners reach their lists' bound while
/// fills, cancels by id and expiries leave stale entries behind.
fn crowded_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => op(),
        10 => (any::<bool>(), 0u8..3, 0u64..6, 1u64..30, 0u64..64, 0u64..20)
            .prop_map(|(side, kind, p, quantity, cid, ttl)| Op::Place {
                owner: (p % 2) as u8 ^ side as u8,
                side,
                kind,
                price: if side { 94 + p } else { 101 + p },
                offset: 0,
                quantity,
                cid: if cid < 24 { 0 } else { cid },
                ttl,
                max_fills: 4,
                stp: 1,
            }),
    ]
}

#[derive(Default, Clone, Copy, Debug)]
struct Ledger {
    placed: u64,
    filled: u64,
    /// Cancelled by its owner or not rested (IOC remainder, a bound stopped matching), taken
    /// off by matching (expired, beyond its peg limit, self-trade removal or decrement).
    cancelled: u64,
    /// Evicted from a full side by a better order.
    evicted: u64,
    /// Reduced in place by its owner.
    reduced: u64,
}

fn id_of(o: &Order) -> OrderId {
    OrderId {
        hi: o.key_hi,
        lo: o.key_lo,
    }
}

fn seq_of(id: OrderId) -> u64 {
    id.seq()
}

/// Price of a resting order at `oracle`, computed here independently of the engine: fixed
/// orders their price; pegged orders oracle + offset, clamped one tick behind the opposite
/// side's best fixed-price order (expired or not). Expired and out-of-peg orders included.
fn price_now(book: &Book, side: OrderSide, id: OrderId, oracle: u64) -> u64 {
    let p = id.price_or_offset();
    if !id.is_pegged() {
        return p as u64;
    }
    let mut opp_fixed = Vec::new();
    book.visit_all(side.opposite(), Some(oracle), |o| {
        if !o.id.is_pegged() {
            opp_fixed.push(o.id.price_or_offset() as u64);
        }
    })
    .unwrap();
    let nominal = (oracle as i128 + p) as u64;
    match side {
        OrderSide::Bid => match opp_fixed.iter().min() {
            Some(a) => nominal.min(a - 1),
            None => nominal,
        },
        OrderSide::Ask => match opp_fixed.iter().max() {
            Some(b) => nominal.max(b + 1),
            None => nominal,
        },
    }
}

/// The opposite side's resting orders in the order matching must meet them, computed
/// independently of the engine's trees (expired and out-of-peg ones included: matching meets
/// them in turn and removes them). The rule: fixed-price orders by price then time; pegged
/// orders by offset then time (clamped ones share a price but keep that order); between the
/// two, the better price, then the older.
fn priority_list(book: &Book, side: OrderSide, ctx: &MatchContext) -> Vec<OrderId> {
    let oracle = ctx.oracle_price.unwrap();
    let (mut fixed, mut pegged) = (Vec::new(), Vec::new());
    book.visit_all(side, ctx.oracle_price, |o| {
        let e = (price_now(book, side, o.id, oracle), o.id);
        if o.id.is_pegged() {
            pegged.push(e);
        } else {
            fixed.push(e);
        }
    })
    .unwrap();
    let better = |a: u64, b: u64| match side {
        OrderSide::Bid => a > b,
        OrderSide::Ask => a < b,
    };
    let rank = |v: &mut Vec<(u64, OrderId)>, key: fn(&OrderId) -> i128| {
        v.sort_by(|a, b| {
            let (ka, kb) = (key(&a.1), key(&b.1));
            let by = match side {
                OrderSide::Bid => kb.cmp(&ka),
                OrderSide::Ask => ka.cmp(&kb),
            };
            by.then(seq_of(a.1).cmp(&seq_of(b.1)))
        })
    };
    rank(&mut fixed, |id| id.price_or_offset());
    rank(&mut pegged, |id| id.price_or_offset());
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < fixed.len() || j < pegged.len() {
        let take_fixed = match (fixed.get(i), pegged.get(j)) {
            (Some(f), Some(p)) => better(f.0, p.0) || (f.0 == p.0 && seq_of(f.1) < seq_of(p.1)),
            (Some(_), None) => true,
            _ => false,
        };
        if take_fixed {
            out.push(fixed[i].1);
            i += 1;
        } else {
            out.push(pegged[j].1);
            j += 1;
        }
    }
    out
}

#[derive(Default, Debug)]
struct Stats {
    placed: u32,
    refused: u32,
    /// Refused with `TooManyOpenOrders`.
    too_many: u32,
    /// Rested while every entry of the owner's list was in use (so into a stale entry).
    reused_stale: u32,
    fills: u32,
    outs: u32,
}

/// Best price of `side` among orders that can trade at `oracle` and `now` (not expired,
/// within their peg limit), computed independently of the engine's cursor.
fn best_tradable(book: &Book, side: OrderSide, oracle: u64, now: u64) -> Option<u64> {
    let mut best: Option<u64> = None;
    book.visit_all(side, Some(oracle), |o| {
        let e = o.order.expires_at;
        let expired = if e >= 1 << 63 {
            e - (1 << 63) <= 2 * now // the slot runs at twice the clock in these streams
        } else {
            e != 0 && e <= now
        };
        if expired {
            return;
        }
        let p = price_now(book, side, o.id, oracle);
        let l = o.order.peg_limit;
        let in_peg = p > 0
            && (l == 0
                || match side {
                    OrderSide::Bid => p <= l,
                    OrderSide::Ask => p >= l,
                });
        if !in_peg {
            return;
        }
        best = Some(match (best, side) {
            (None, _) => p,
            (Some(b), OrderSide::Bid) => b.max(p),
            (Some(b), OrderSide::Ask) => b.min(p),
        });
    })
    .unwrap();
    best
}

/// Runs `ops` on a fresh book; owner numbers are taken modulo `owners` (fewer owners rest
/// more orders each, up to their lists' bound).
fn run(
    ops: Vec<Op>,
    capacity: u32,
    events: u32,
    mut oracle: u64,
    owners: u8,
) -> Result<Stats, TestCaseError> {
    let mut stats = Stats::default();
    let mut buf = Buffer::new(capacity, events);
    // One list per owner, as each owner's account keeps it.
    let mut lists = Lists::new();
    let mut ledgers: HashMap<OrderId, Ledger> = HashMap::new();
    let mut resting_ids: Vec<OrderId> = Vec::new();
    let mut queued_fills: u64 = 0;
    let mut now = 1_000u64;
    for op in ops {
        let ctx = MatchContext {
            now,
            oracle_price: Some(oracle),
            slot: 2 * now,
        };
        let mut rec = Recorder::default();
        let mut book = buf.book();
        match op {
            Op::Place {
                owner: on,
                side,
                kind,
                price,
                offset,
                quantity,
                cid,
                ttl,
                max_fills,
                stp,
            } => {
                let on = on % owners;
                let side = if side { OrderSide::Bid } else { OrderSide::Ask };
                let kind = OrderType::from_u8(kind).unwrap();
                let mut o = order(on, side, kind, price, quantity);
                o.client_order_id = cid;
                // Unix-time expiry, or by slot (the slot is twice the clock here).
                match ttl {
                    11..=15 => o.expires_at = now + ttl - 10,
                    16.. => o.expires_at_slot = 2 * now + 2 * (ttl - 10),
                    _ => {}
                }
                o.max_fills = max_fills;
                o.self_trade = SelfTradeMode::from_u8(stp).unwrap();
                // (Fill-or-kill budgets are covered in features.rs: here they would refuse
                // most fill-or-kill orders and starve the stream of fills.)
                if matches!(kind, OrderType::ImmediateOrCancel | OrderType::Market) {
                    // Quote-amount orders and slippage guards, now and then.
                    if cid % 2 == 1 {
                        o.quote_budget = price * quantity / 2;
                    }
                    if ttl % 3 == 0 {
                        o.min_base_fill = quantity / 2;
                    }
                }
                if kind == OrderType::OraclePegged {
                    o.peg_offset = offset;
                    o.price = if price > 103 { 0 } else { price };
                }
                let expected_order = priority_list(&book, side.opposite(), &ctx);
                let resting_before = resting_ids_of(&book, &o.owner).len();
                let before = buf.0.clone();
                let list_before = *lists.of(on);
                let mut book = buf.book();
                match book.place(&o, &ctx, lists.of(on), &mut rec) {
                    Ok(out) => {
                        stats.placed += 1;
                        if out.posted_quantity > 0 {
                            // It rested: the owner had room in its list.
                            prop_assert!(resting_before < MAX_OPEN_ORDERS);
                            if list_before.len == MAX_OPEN_ORDERS as u32 {
                                stats.reused_stale += 1;
                            }
                        } else {
                            // Nothing rested: the list is as it was.
                            prop_assert_eq!(*lists.of(on), list_before);
                        }
                        prop_assert!(rec.touched.len() <= expected_order.len());
                        prop_assert_eq!(&rec.touched[..], &expected_order[..rec.touched.len()]);
                        prop_assert_eq!(out.fills as usize, rec.fills.len());
                        prop_assert!(out.fills <= max_fills);
                        // fills, and an out event per other owner's order the place took off
                        // (expired, beyond its peg limit, evicted)
                        let outs = rec
                            .outs
                            .iter()
                            .filter(|(m, r)| {
                                matches!(
                                    r,
                                    OutReason::Expired | OutReason::PegLimit | OutReason::Evicted
                                ) && m.owner != o.owner
                            })
                            .count();
                        queued_fills += out.fills as u64 + outs as u64;
                        let l = ledgers.entry(out.order_id).or_default();
                        l.placed += quantity;
                        l.filled += out.base_filled;
                        l.cancelled += out.cancelled_quantity;
                        prop_assert_eq!(
                            out.base_filled,
                            rec.fills.iter().map(|f| f.quantity).sum::<u64>()
                        );
                        prop_assert_eq!(
                            out.quote_filled,
                            rec.fills.iter().map(|f| f.quantity * f.price).sum::<u64>()
                        );
                        if out.posted_quantity > 0 {
                            resting_ids.push(out.order_id);
                        }
                    }
                    Err(e) => {
                        stats.refused += 1;
                        prop_assert!(rec.fills.is_empty() && rec.outs.is_empty());
                        prop_assert!(rec.posts.is_empty());
                        prop_assert!(before == buf.0, "error {:?} changed the book", e);
                        prop_assert_eq!(
                            *lists.of(on),
                            list_before,
                            "error {:?} changed the list",
                            e
                        );
                        if e == BookError::TooManyOpenOrders {
                            stats.too_many += 1;
                            // Only when the owner already rests a full list's worth, and the
                            // order is one that may rest ...
                            prop_assert_eq!(resting_before, MAX_OPEN_ORDERS);
                            prop_assert!(kind.may_rest());
                            // ... and would rest: the same place on the same book with room
                            // in its list (an empty one) rests a remainder.
                            let mut other = Buffer(before.clone());
                            let replay = other.book().place(
                                &o,
                                &ctx,
                                &mut OpenOrders::new(),
                                &mut NoopListener,
                            );
                            match replay {
                                Ok(out) if out.posted_quantity > 0 => {}
                                Ok(out) => {
                                    // The one exception: the list is checked before the place
                                    // decides, after matching, not to rest a pegged remainder
                                    // that an opposite pegged order's offset crosses; such an
                                    // order is refused as too many instead of being cancelled.
                                    let mut opposite_offsets = Vec::new();
                                    other
                                        .book()
                                        .visit_all(side.opposite(), None, |v| {
                                            if v.id.is_pegged() {
                                                opposite_offsets.push(v.id.price_or_offset());
                                            }
                                        })
                                        .unwrap();
                                    let ours = o.peg_offset as i128;
                                    let crossed = opposite_offsets.iter().any(|t| match side {
                                        OrderSide::Bid => *t <= ours,
                                        OrderSide::Ask => *t >= ours,
                                    });
                                    prop_assert!(
                                        kind == OrderType::OraclePegged
                                            && crossed
                                            && out.evicted.is_none(),
                                        "refused as too many, but would not rest: {:?}",
                                        out
                                    );
                                }
                                Err(r) => prop_assert!(
                                    false,
                                    "refused as too many, but with room: {:?}",
                                    r
                                ),
                            }
                        }
                    }
                }
            }
            Op::Cancel { pick } => {
                if !resting_ids.is_empty() {
                    let id = resting_ids[pick % resting_ids.len()];
                    let owner = book.find(id).unwrap().map(|o| o.owner);
                    match owner {
                        Some(ow) => {
                            let c = book.cancel(&ow, id, &mut rec).unwrap();
                            prop_assert_eq!(c.order_id, id);
                        }
                        None => {
                            prop_assert_eq!(
                                book.cancel(&owner_of_any(), id, &mut rec),
                                Err(BookError::OrderNotFound)
                            );
                        }
                    }
                }
            }
            Op::CancelClient { owner: on, cid } => {
                let on = on % owners;
                let found = book
                    .find_by_client_id(&owner(on), lists.get(on), cid)
                    .copied();
                // The owner's resting order with that client id, found by walking the book.
                let mut expected = None;
                for s in [OrderSide::Bid, OrderSide::Ask] {
                    book.visit_all(s, None, |v| {
                        if v.order.owner == owner(on) && v.order.client_order_id == cid {
                            expected = Some(v.id);
                        }
                    })
                    .unwrap();
                }
                prop_assert_eq!(found.as_ref().map(id_of), expected);
                let r = book.cancel_by_client_id(&owner(on), lists.of(on), cid, &mut rec);
                match found {
                    Some(o) => {
                        let c = r.unwrap();
                        prop_assert_eq!((c.order_id, c.quantity), (id_of(&o), o.quantity));
                        prop_assert!(book
                            .find_by_client_id(&owner(on), lists.get(on), cid)
                            .is_none());
                    }
                    None => prop_assert_eq!(r, Err(BookError::OrderNotFound)),
                }
            }
            Op::CancelAll {
                owner: on,
                side,
                limit,
            } => {
                let on = on % owners;
                let side = OrderSide::from_u8(side);
                let out = book
                    .cancel_all(&owner(on), lists.of(on), side, limit, &mut rec)
                    .unwrap();
                let n = out.cancelled;
                if out.complete {
                    let mut left = 0;
                    for s in [OrderSide::Bid, OrderSide::Ask] {
                        if side.is_none_or(|x| x == s) {
                            book.visit_all(s, None, |o| {
                                left += (o.order.owner == owner(on)) as u32
                            })
                            .unwrap();
                        }
                    }
                    prop_assert_eq!(left, 0);
                }
                prop_assert!(n <= limit);
                prop_assert_eq!(n as usize, rec.outs.len());
                for (o, _) in &rec.outs {
                    prop_assert_eq!(o.owner, owner(on));
                }
            }
            Op::Reduce { pick, by, by_cid } => {
                if !resting_ids.is_empty() {
                    let id = resting_ids[pick % resting_ids.len()];
                    if let Some(o) = book.find(id).unwrap().copied() {
                        let before = priority_list(&book, id.side(), &ctx);
                        let r = if by_cid && o.client_order_id != 0 {
                            // (`owner(n)`'s first byte is `n`.)
                            let list = lists.of(o.owner[0]);
                            book.reduce_by_client_id(
                                &o.owner,
                                list,
                                o.client_order_id,
                                by,
                                &mut rec,
                            )
                        } else {
                            book.reduce(&o.owner, id, by, &mut rec)
                        }
                        .unwrap();
                        prop_assert_eq!(r.order_id, id);
                        prop_assert_eq!(r.reduced + r.remaining, o.quantity);
                        if r.remaining > 0 {
                            // Time priority kept: the side's order is unchanged.
                            prop_assert_eq!(priority_list(&book, id.side(), &ctx), before);
                        }
                        prop_assert_eq!(
                            book.reduce(&owner(9), id, 1, &mut NoopListener),
                            Err(BookError::OrderNotFound)
                        );
                    }
                }
            }
            Op::Advance { seconds } => now += seconds,
            Op::Oracle { price } => oracle = price,
            Op::Pop { n } => {
                let n = n.min(book.event_count());
                book.pop_events(n).unwrap();
                queued_fills -= n as u64;
            }
        }
        stats.fills += rec.fills.len() as u32;
        stats.outs += rec.outs.len() as u32;
        // Maker-side accounting from what the engine reported.
        for f in &rec.fills {
            ledgers
                .get_mut(&OrderId {
                    hi: f.maker_order_id_hi,
                    lo: f.maker_order_id_lo,
                })
                .unwrap()
                .filled += f.quantity;
        }
        for (o, reason) in &rec.outs {
            let l = ledgers.get_mut(&id_of(o)).unwrap();
            if *reason == OutReason::Evicted {
                l.evicted += o.quantity;
            } else {
                l.cancelled += o.quantity;
            }
        }
        for (o, q) in &rec.decrements {
            ledgers.get_mut(&id_of(o)).unwrap().cancelled += q;
        }
        for (o, q) in &rec.reductions {
            ledgers.get_mut(&id_of(o)).unwrap().reduced += q;
        }

        let book = buf.book();
        // Each side's stored left spine is its fixed tree's.
        prop_assert!(book.spines_consistent(), "a spine differs from its tree");
        // Not crossed (invariant 4): at the oracle now and at any other oracle price, the best
        // tradable bid is below the best tradable ask. The engine's query agrees.
        for at in [oracle, 85, 93, 100, 107, 115] {
            if let (Some(b), Some(a)) = (
                best_tradable(&book, OrderSide::Bid, at, now),
                best_tradable(&book, OrderSide::Ask, at, now),
            ) {
                prop_assert!(b < a, "crossed at oracle {}: bid {} ask {}", at, b, a);
            }
        }
        let at = MatchContext {
            now,
            oracle_price: Some(oracle),
            slot: 2 * now,
        };
        for side in [OrderSide::Bid, OrderSide::Ask] {
            prop_assert_eq!(
                book.best_price(side, &at).unwrap(),
                best_tradable(&book, side, oracle, now)
            );
        }
        // Quantities accounted for.
        for (id, l) in &ledgers {
            let resting = book.find(*id).unwrap().map_or(0, |o| o.quantity);
            prop_assert_eq!(
                l.placed,
                l.filled + resting + l.cancelled + l.evicted + l.reduced,
                "order {:?}",
                id
            );
        }
        // Queue matches maker fills and out events.
        prop_assert_eq!(book.event_count() as u64, queued_fills);
        // Counts match the trees; client ids resolve to their orders.
        for side in [OrderSide::Bid, OrderSide::Ask] {
            let mut n = 0;
            let mut seen = Vec::new();
            book.visit_all(side, Some(oracle), |o| {
                n += 1;
                seen.push(o.order);
            })
            .unwrap();
            prop_assert_eq!(n, book.order_count(side));
            for o in seen {
                prop_assert!(o.quantity > 0);
                if o.client_order_id != 0 {
                    let f =
                        book.find_by_client_id(&o.owner, lists.get(o.owner[0]), o.client_order_id);
                    prop_assert_eq!(f.map(|f| (f.key_hi, f.key_lo)), Some((o.key_hi, o.key_lo)));
                }
            }
        }
        // Each owner's list records exactly its resting orders, at most MAX_OPEN_ORDERS,
        // and none of another owner's.
        for n in 0..owners {
            let listed = listed_ids_of(&book, &owner(n), lists.get(n));
            prop_assert_eq!(&listed, &resting_ids_of(&book, &owner(n)), "owner {}", n);
            prop_assert!(listed.len() <= MAX_OPEN_ORDERS);
            let other = owner((n + 1) % owners.max(2));
            prop_assert_eq!(book.open_orders(&other, lists.get(n)).count(), 0);
        }
        resting_ids.retain(|id| book.find(*id).unwrap().is_some());
    }
    Ok(stats)
}

fn owner_of_any() -> [u8; 32] {
    owner(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_streams_keep_invariants(ops in prop::collection::vec(op(), 1..120), oracle in 95u64..106) {
        run(ops, 64, 24, oracle, 5)?;
    }

    #[test]
    fn tiny_books_hit_full_sides_and_queues(ops in prop::collection::vec(op(), 1..80)) {
        run(ops, 4, 3, 100, 5)?;
    }

    /// Two owners over long streams: they rest up to their lists' bound and are refused
    /// there.
    #[test]
    fn few_owners_reach_their_lists_bound(ops in prop::collection::vec(crowded_op(), 150..300), oracle in 95u64..106) {
        run(ops, 128, 64, oracle, 2)?;
    }
}

/// The generator must reach the interesting paths, or the properties above prove little.
#[test]
fn streams_exercise_fills_refusals_and_removals() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut total = Stats::default();
    for _ in 0..50 {
        let ops = prop::collection::vec(op(), 100)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let s = run(ops, 16, 8, 100, 5).unwrap();
        total.placed += s.placed;
        total.refused += s.refused;
        total.fills += s.fills;
        total.outs += s.outs;
    }
    println!("{total:?}");
    assert!(
        total.placed > 1000 && total.refused > 100 && total.fills > 300 && total.outs > 100,
        "{total:?}"
    );
    // Two owners over longer streams reach their lists' bound and are refused there.
    let mut crowded = Stats::default();
    for _ in 0..20 {
        let ops = prop::collection::vec(crowded_op(), 300)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let s = run(ops, 128, 64, 100, 2).unwrap();
        crowded.placed += s.placed;
        crowded.refused += s.refused;
        crowded.too_many += s.too_many;
        crowded.reused_stale += s.reused_stale;
        crowded.fills += s.fills;
        crowded.outs += s.outs;
    }
    println!("{crowded:?}");
    assert!(
        crowded.too_many > 100 && crowded.reused_stale > 100 && crowded.fills > 100,
        "{crowded:?}"
    );
}
