//! Integration tests of the order book program through solana-program-test: every instruction,
//! and the refusals, each of which must leave the market account byte-for-byte unchanged.

use anchor_lang::error::ErrorCode as AnchorError;
use carry_book::OrderId;
use carry_orderbook::error::OrderbookError;
use carry_orderbook::{
    CreateMarketParams, Market, OrderSide, OrderType, PlaceOrderSummary, SelfTradeMode,
    MAX_CANCEL_ALL_PER_CALL,
};
use carry_sdk::orderbook as sdk;
use carry_tests::orderbook::{limit, TestMarket};
use carry_tests::{assert_error, TestContext};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

const TICK: u64 = 10; // quote native units per base lot per tick
const LOT: u64 = 1_000; // base native units per lot

async fn setup(cap: u32, events: u32) -> (TestContext, TestMarket) {
    let mut t = TestContext::new().await;
    let m = TestMarket::create(&mut t, TICK, LOT, cap, events).await;
    (t, m)
}

/// Runs `refusal`, asserts it failed with `code`, and that the market did not change.
macro_rules! refused_unchanged {
    ($t:expr, $m:expr, $code:expr, $refusal:expr) => {{
        let before = $m.snapshot(&mut $t).await;
        assert_error($refusal.await, $code);
        assert_eq!(
            before,
            $m.snapshot(&mut $t).await,
            "a refusal changed the market"
        );
    }};
}

#[tokio::test]
async fn create_market_writes_header_and_empty_book() {
    let (mut t, m) = setup(64, 16).await;
    let (market, bids, asks, events) = m
        .read(&mut t, |mk, b| {
            (
                *mk,
                b.order_count(carry_book::OrderSide::Bid),
                b.order_count(carry_book::OrderSide::Ask),
                b.event_count(),
            )
        })
        .await;
    assert_eq!(market.authority, m.authority.pubkey());
    assert_eq!(market.creator, t.payer().pubkey());
    assert_eq!((market.tick_size, market.base_lot_size), (TICK, LOT));
    assert_eq!((market.order_capacity, market.event_capacity), (64, 16));
    assert_eq!((bids, asks, events), (0, 0, 0));
    assert_eq!(t.data(&m.market).await.len(), Market::space(64, 16));
}

#[tokio::test]
async fn create_market_refusals() {
    let mut t = TestContext::new().await;
    let payer = t.payer();
    let params = |cap, ev, tick, lot| CreateMarketParams {
        authority: Pubkey::new_unique(),
        tick_size: tick,
        base_lot_size: lot,
        order_capacity: cap,
        event_capacity: ev,
        max_fills: 0,
    };
    let create =
        |market: Pubkey, p: CreateMarketParams| sdk::create_market(payer.pubkey(), market, p);
    // Size that does not match the capacities.
    let acc = t
        .create_account(Market::space(64, 16) + 8, &carry_orderbook::ID)
        .await;
    assert_error(
        t.send(&[create(acc.pubkey(), params(64, 16, TICK, LOT))], &[&acc])
            .await,
        OrderbookError::InvalidAccountSize,
    );
    // Zero tick or lot.
    let acc = t
        .create_account(Market::space(64, 16), &carry_orderbook::ID)
        .await;
    assert_error(
        t.send(&[create(acc.pubkey(), params(64, 16, 0, LOT))], &[&acc])
            .await,
        OrderbookError::InvalidMarketParams,
    );
    assert_error(
        t.send(&[create(acc.pubkey(), params(64, 16, TICK, 0))], &[&acc])
            .await,
        OrderbookError::InvalidMarketParams,
    );
    // Capacities out of range.
    assert_error(
        t.send(&[create(acc.pubkey(), params(0, 16, TICK, LOT))], &[&acc])
            .await,
        OrderbookError::InvalidCapacity,
    );
    assert_error(
        t.send(&[create(acc.pubkey(), params(64, 0, TICK, LOT))], &[&acc])
            .await,
        OrderbookError::InvalidCapacity,
    );
    assert_error(
        t.send(
            &[create(acc.pubkey(), params(9000, 16, TICK, LOT))],
            &[&acc],
        )
        .await,
        OrderbookError::InvalidCapacity,
    );
    // A fill cap above the engine's 64.
    let mut p = params(64, 16, TICK, LOT);
    p.max_fills = 65;
    assert_error(
        t.send(&[create(acc.pubkey(), p)], &[&acc]).await,
        OrderbookError::InvalidFillLimit,
    );
    assert!(
        t.data(&acc.pubkey()).await.iter().all(|b| *b == 0),
        "refusals wrote to the account"
    );
    // An account another program owns.
    let foreign = t
        .create_account(Market::space(64, 16), &Pubkey::new_unique())
        .await;
    assert_error(
        t.send(
            &[create(foreign.pubkey(), params(64, 16, TICK, LOT))],
            &[&foreign],
        )
        .await,
        AnchorError::AccountOwnedByWrongProgram,
    );
    // The market account not signing (a front-runner initialising someone's allocation).
    let mut i = create(acc.pubkey(), params(64, 16, TICK, LOT));
    i.accounts[1].is_signer = false;
    assert_error(t.send(&[i], &[]).await, OrderbookError::MarketNotSigner);
    assert!(t.data(&acc.pubkey()).await.iter().all(|b| *b == 0));
    // Works once, then refuses to initialize again.
    t.send(&[create(acc.pubkey(), params(64, 16, TICK, LOT))], &[&acc])
        .await
        .unwrap();
    let before = t.data(&acc.pubkey()).await;
    assert_error(
        t.send(&[create(acc.pubkey(), params(64, 16, TICK, LOT))], &[&acc])
            .await,
        AnchorError::ConstraintZero,
    );
    assert_eq!(before, t.data(&acc.pubkey()).await);
}

#[tokio::test]
async fn limit_orders_rest_match_and_queue_fill_events() {
    let (mut t, m) = setup(64, 16).await;
    let (maker, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    // Two asks: 5 lots at 100 ticks, 5 lots at 101 ticks.
    let a1 = m
        .place(&mut t, limit(maker, OrderSide::Ask, 100 * TICK, 5 * LOT))
        .await
        .unwrap();
    assert_eq!(
        (a1.posted_quantity, a1.posted_price, a1.fills),
        (5 * LOT, 100 * TICK, 0)
    );
    m.place(&mut t, limit(maker, OrderSide::Ask, 101 * TICK, 5 * LOT))
        .await
        .unwrap();
    // A bid for 7 lots up to 101 takes 5 @100 and 2 @101, nothing rests.
    let out = m
        .place_outcome(&mut t, limit(taker, OrderSide::Bid, 101 * TICK, 7 * LOT))
        .await
        .unwrap();
    let s: PlaceOrderSummary = out.decode();
    assert_eq!(s.base_filled, 7 * LOT);
    assert_eq!(s.quote_filled, (5 * 100 + 2 * 101) * TICK);
    assert_eq!(
        (s.fills, s.posted_quantity, s.cancelled_quantity),
        (2, 0, 0)
    );
    // (Events go to `sol_log_data`, which natively run programs do not record in the logs.)
    // The maker's fills wait in the queue, oldest first.
    let fills = m
        .read(&mut t, |_, b| {
            (0..b.event_count())
                .map(|i| *b.event(i).unwrap())
                .collect::<Vec<_>>()
        })
        .await;
    assert_eq!(fills.len(), 2);
    assert_eq!(
        (fills[0].price, fills[0].quantity, fills[0].maker_out),
        (100, 5, 1)
    );
    assert_eq!(
        (fills[1].price, fills[1].quantity, fills[1].maker_out),
        (101, 2, 0)
    );
    assert_eq!(fills[0].maker, maker.to_bytes());
    assert_eq!(fills[0].taker, taker.to_bytes());
    assert_eq!(
        OrderId {
            hi: fills[0].maker_order_id_hi,
            lo: fills[0].maker_order_id_lo
        }
        .to_u128(),
        a1.order_id
    );
    // The authority consumes them.
    m.consume_events(&mut t, 2).await.unwrap();
    assert_eq!(m.read(&mut t, |_, b| b.event_count()).await, 0);
    let best_ask = m
        .read(&mut t, |_, b| {
            b.best_price(carry_book::OrderSide::Ask, &Default::default())
                .unwrap()
        })
        .await;
    assert_eq!(best_ask, Some(101));
}

#[tokio::test]
async fn order_types_through_the_program() {
    let (mut t, m) = setup(64, 32).await;
    let (mm, trader) = (Pubkey::new_unique(), Pubkey::new_unique());
    m.place(&mut t, limit(mm, OrderSide::Ask, 100 * TICK, 10 * LOT))
        .await
        .unwrap();
    m.place(&mut t, limit(mm, OrderSide::Bid, 95 * TICK, 10 * LOT))
        .await
        .unwrap();

    // Post-only that would cross is refused; the slide variant rests one tick behind.
    let mut po = limit(trader, OrderSide::Bid, 100 * TICK, LOT);
    po.order_type = OrderType::PostOnly;
    refused_unchanged!(
        t,
        m,
        OrderbookError::PostOnlyWouldCross,
        m.place(&mut t, po)
    );
    po.order_type = OrderType::PostOnlySlide;
    let s = m.place(&mut t, po).await.unwrap();
    assert_eq!((s.posted_price, s.base_filled), (99 * TICK, 0));

    // Fill-or-kill beyond the book's depth is refused; within it, it fills.
    let mut fok = limit(trader, OrderSide::Bid, 100 * TICK, 11 * LOT);
    fok.order_type = OrderType::FillOrKill;
    refused_unchanged!(
        t,
        m,
        OrderbookError::FillOrKillNotFilled,
        m.place(&mut t, fok)
    );
    fok.quantity = 4 * LOT;
    assert_eq!(m.place(&mut t, fok).await.unwrap().base_filled, 4 * LOT);

    // IOC and market: the rest is cancelled, nothing rests.
    let mut ioc = limit(trader, OrderSide::Bid, 100 * TICK, 8 * LOT);
    ioc.order_type = OrderType::ImmediateOrCancel;
    let s = m.place(&mut t, ioc).await.unwrap();
    assert_eq!(
        (s.base_filled, s.cancelled_quantity, s.posted_quantity),
        (6 * LOT, 2 * LOT, 0)
    );
    // A market sell meets the trader's own slid bid at 99 first: abort refuses the whole
    // order, cancel-resting removes the own bid and fills against the market maker's.
    let mut mkt = limit(trader, OrderSide::Ask, 90 * TICK, 3 * LOT);
    mkt.order_type = OrderType::Market;
    refused_unchanged!(t, m, OrderbookError::SelfTrade, m.place(&mut t, mkt));
    mkt.self_trade = SelfTradeMode::CancelResting;
    let s = m.place(&mut t, mkt).await.unwrap();
    assert_eq!(
        (s.base_filled, s.quote_filled, s.makers_removed),
        (3 * LOT, 3 * 95 * TICK, 1)
    );
    // Decrement-and-cancel: both sides shrink by the overlap, nothing trades.
    m.place(&mut t, limit(mm, OrderSide::Ask, 100 * TICK, 5 * LOT))
        .await
        .unwrap();
    let mut dec = limit(mm, OrderSide::Bid, 100 * TICK, 2 * LOT);
    dec.self_trade = SelfTradeMode::DecrementTake;
    let s = m.place(&mut t, dec).await.unwrap();
    assert_eq!(
        (s.base_filled, s.cancelled_quantity, s.posted_quantity),
        (0, 2 * LOT, 0)
    );
    let best_ask_qty = m
        .read(&mut t, |_, b| {
            let mut q = 0;
            b.visit_tradable(carry_book::OrderSide::Ask, &Default::default(), |o| {
                q = o.order.quantity;
                false
            })
            .unwrap();
            q
        })
        .await;
    assert_eq!(
        best_ask_qty, 3,
        "the resting ask lost the 2 overlapping lots"
    );
}

#[tokio::test]
async fn oracle_pegged_orders_follow_the_oracle() {
    let (mut t, m) = setup(64, 32).await;
    let (mm, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    // A pegged ask 2 ticks above the oracle, never below 99 ticks.
    let mut peg = limit(mm, OrderSide::Ask, 99 * TICK, 5 * LOT);
    peg.order_type = OrderType::OraclePegged;
    peg.peg_offset = 2 * TICK as i64;
    // Without an oracle price it is refused.
    refused_unchanged!(
        t,
        m,
        OrderbookError::MissingOraclePrice,
        m.place(&mut t, peg)
    );
    peg.oracle_price = Some(100 * TICK);
    let s = m.place(&mut t, peg).await.unwrap();
    assert_eq!((s.posted_price, s.posted_quantity), (102 * TICK, 5 * LOT));
    // An offset off the tick grid is refused.
    let mut bad = peg;
    bad.peg_offset = 15;
    refused_unchanged!(t, m, OrderbookError::InvalidTick, m.place(&mut t, bad));
    // The oracle moved to 105: the ask now sits at 107, so a bid at 104 does not trade.
    let mut bid = limit(taker, OrderSide::Bid, 104 * TICK, 2 * LOT);
    bid.order_type = OrderType::ImmediateOrCancel;
    bid.oracle_price = Some(105 * TICK);
    assert_eq!(m.place(&mut t, bid).await.unwrap().base_filled, 0);
    // At oracle 95 the ask is at 97, below its peg limit of 99: the bid meets it and removes
    // it (beyond its peg limit) instead of trading, so it cannot be met again and again.
    bid.oracle_price = Some(95 * TICK);
    let s = m.place(&mut t, bid).await.unwrap();
    assert_eq!((s.base_filled, s.makers_removed), (0, 1));
    // Placed again: at oracle 101 it sits at 103 and trades at that price.
    m.place(&mut t, peg).await.unwrap();
    bid.oracle_price = Some(101 * TICK);
    let s = m.place(&mut t, bid).await.unwrap();
    assert_eq!((s.base_filled, s.quote_filled), (2 * LOT, 2 * 103 * TICK));
}

#[tokio::test]
async fn expired_orders_are_skipped_and_removed_when_met() {
    let (mut t, m) = setup(64, 32).await;
    let (mm, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    let now = t.clock().await.unix_timestamp;
    let mut a = limit(mm, OrderSide::Ask, 100 * TICK, LOT);
    a.expires_at = now; // not in the future
    refused_unchanged!(t, m, OrderbookError::AlreadyExpired, m.place(&mut t, a));
    a.expires_at = now + 60;
    let short = m.place(&mut t, a).await.unwrap();
    m.place(&mut t, limit(mm, OrderSide::Ask, 101 * TICK, LOT))
        .await
        .unwrap();
    t.warp_seconds(61).await;
    let out = m
        .place_outcome(&mut t, limit(taker, OrderSide::Bid, 101 * TICK, LOT))
        .await
        .unwrap();
    let s: PlaceOrderSummary = out.decode();
    assert_eq!(
        (s.base_filled, s.quote_filled, s.makers_removed),
        (LOT, 101 * TICK, 1)
    );
    assert!(
        m.read(&mut t, |_, b| b
            .find(OrderId::from_u128(short.order_id))
            .unwrap()
            .is_none())
            .await
    );
}

#[tokio::test]
async fn cancels_by_id_client_id_and_all() {
    let (mut t, m) = setup(64, 32).await;
    let (alice, bob) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut ids = Vec::new();
    for i in 0..6u64 {
        let mut o = limit(
            alice,
            if i % 2 == 0 {
                OrderSide::Bid
            } else {
                OrderSide::Ask
            },
            (90 + 20 * (i % 2)) * TICK + i * TICK,
            LOT,
        );
        o.client_order_id = 100 + i;
        ids.push(m.place(&mut t, o).await.unwrap().order_id);
    }
    let bob_order = m
        .place(&mut t, limit(bob, OrderSide::Bid, 80 * TICK, LOT))
        .await
        .unwrap();
    // By order id: only the owner's order, and only once.
    refused_unchanged!(
        t,
        m,
        OrderbookError::OrderNotFound,
        m.cancel(&mut t, bob, ids[0])
    );
    let c = m.cancel(&mut t, alice, ids[0]).await.unwrap();
    assert_eq!((c.client_order_id, c.quantity), (100, LOT));
    refused_unchanged!(
        t,
        m,
        OrderbookError::OrderNotFound,
        m.cancel(&mut t, alice, ids[0])
    );
    // By client id.
    refused_unchanged!(
        t,
        m,
        OrderbookError::OrderNotFound,
        m.cancel_by_client_id(&mut t, bob, 101)
    );
    let c = m.cancel_by_client_id(&mut t, alice, 101).await.unwrap();
    assert_eq!(c.order_id, ids[1]);
    // A client id in use is refused for a new resting order, and free again once cancelled.
    let mut dup = limit(alice, OrderSide::Bid, 50 * TICK, LOT);
    dup.client_order_id = 102;
    refused_unchanged!(
        t,
        m,
        OrderbookError::DuplicateClientOrderId,
        m.place(&mut t, dup)
    );
    dup.client_order_id = 101;
    m.place(&mut t, dup).await.unwrap();
    // Cancel-all, bounded: bids only first, then the rest in two calls.
    assert_eq!(
        m.cancel_all(&mut t, alice, Some(OrderSide::Bid), 10)
            .await
            .unwrap(),
        3
    );
    let one = m.cancel_all_summary(&mut t, alice, None, 1).await.unwrap();
    assert_eq!((one.cancelled, one.complete), (1, false));
    let rest = m.cancel_all_summary(&mut t, alice, None, 10).await.unwrap();
    assert_eq!((rest.cancelled, rest.complete), (1, true));
    assert_eq!(m.cancel_all(&mut t, alice, None, 10).await.unwrap(), 0);
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLimit,
        m.cancel_all(&mut t, bob, None, 0)
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLimit,
        m.cancel_all(&mut t, bob, None, MAX_CANCEL_ALL_PER_CALL + 1)
    );
    // Bob's order is untouched.
    let (bids, asks) = m
        .read(&mut t, |_, b| {
            (
                b.order_count(carry_book::OrderSide::Bid),
                b.order_count(carry_book::OrderSide::Ask),
            )
        })
        .await;
    assert_eq!((bids, asks), (1, 0));
    assert!(
        m.read(&mut t, |_, b| b
            .find(OrderId::from_u128(bob_order.order_id))
            .unwrap()
            .is_some())
            .await
    );
}

#[tokio::test]
async fn authority_and_market_refusals_change_nothing() {
    let (mut t, m) = setup(64, 16).await;
    let other = TestMarket::create(&mut t, TICK, LOT, 64, 16).await;
    let trader = Pubkey::new_unique();
    m.place(&mut t, limit(trader, OrderSide::Bid, 90 * TICK, LOT))
        .await
        .unwrap();
    let o = limit(trader, OrderSide::Ask, 100 * TICK, LOT);
    // A signer that is not the authority.
    let intruder = Keypair::new();
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongAuthority,
        m.place_as(&mut t, &intruder, o)
    );
    // Another market's authority.
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongAuthority,
        m.place_as(&mut t, &other.authority, o)
    );
    // The authority's key without its signature.
    let mut unsigned = m.place_ix(&m.authority, o);
    unsigned.accounts[0].is_signer = false;
    refused_unchanged!(
        t,
        m,
        AnchorError::AccountNotSigner,
        t.send(&[unsigned], &[])
    );
    // Not a market: an account of another program, and a program account of another type.
    let foreign = t
        .create_account(Market::space(64, 16), &Pubkey::new_unique())
        .await;
    let mut wrong = m.place_ix(&m.authority, o);
    wrong.accounts[1].pubkey = foreign.pubkey();
    refused_unchanged!(
        t,
        m,
        AnchorError::AccountOwnedByWrongProgram,
        t.send(&[wrong], &[&m.authority])
    );
    let blank = t
        .create_account(Market::space(64, 16), &carry_orderbook::ID)
        .await;
    let mut wrong = m.place_ix(&m.authority, o);
    wrong.accounts[1].pubkey = blank.pubkey();
    refused_unchanged!(
        t,
        m,
        AnchorError::AccountDiscriminatorMismatch,
        t.send(&[wrong], &[&m.authority])
    );
    // Cancels and consume by a wrong authority.
    let i = sdk::cancel_all_orders(m.market, intruder.pubkey(), trader, None, 5);
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongAuthority,
        t.send(&[i], &[&intruder])
    );
    let i = sdk::consume_events(m.market, intruder.pubkey(), 1);
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongAuthority,
        t.send(&[i], &[&intruder])
    );
}

#[tokio::test]
async fn amount_refusals_change_nothing() {
    let (mut t, m) = setup(4, 2).await;
    let (mm, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    let base = limit(mm, OrderSide::Ask, 100 * TICK, LOT);
    let with = |f: &dyn Fn(&mut carry_orderbook::PlaceOrderArgs)| {
        let mut o = base;
        f(&mut o);
        o
    };
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidTick,
        m.place(&mut t, with(&|o| o.price = 100 * TICK + 3))
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidTick,
        m.place(&mut t, with(&|o| o.price = 0))
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLot,
        m.place(&mut t, with(&|o| o.quantity = LOT + 1))
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLot,
        m.place(&mut t, with(&|o| o.quantity = 0))
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidFillLimit,
        m.place(&mut t, with(&|o| o.max_fills = 0))
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidFillLimit,
        m.place(&mut t, with(&|o| o.max_fills = 33))
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::AlreadyExpired,
        m.place(&mut t, with(&|o| o.expires_at = -5))
    );
    // A quote amount beyond u64: a huge ask filled by a huge bid.
    let huge_price = (u64::MAX / 2) / TICK * TICK;
    m.place(
        &mut t,
        with(&|o| {
            o.price = huge_price;
            o.quantity = 4 * LOT
        }),
    )
    .await
    .unwrap();
    let mut big_bid = limit(taker, OrderSide::Bid, huge_price, 4 * LOT);
    big_bid.order_type = OrderType::ImmediateOrCancel;
    refused_unchanged!(t, m, OrderbookError::Overflow, m.place(&mut t, big_bid));
    // Full side: capacity 4. An ask no better than the side's worst (the huge one) is
    // refused; a better one would evict it.
    for i in 0..3 {
        m.place(&mut t, with(&|o| o.price = (200 + i) * TICK))
            .await
            .unwrap();
    }
    refused_unchanged!(
        t,
        m,
        OrderbookError::SideFull,
        m.place(&mut t, with(&|o| o.price = huge_price))
    );
    // Full queue: capacity 2; two fills fill it, the next taker is refused until consumed.
    let mut take = limit(taker, OrderSide::Bid, 202 * TICK, 2 * LOT);
    take.order_type = OrderType::ImmediateOrCancel;
    let s = m.place(&mut t, take).await.unwrap();
    assert_eq!(s.fills, 2);
    refused_unchanged!(t, m, OrderbookError::EventQueueFull, m.place(&mut t, take));
    refused_unchanged!(
        t,
        m,
        OrderbookError::NotEnoughEvents,
        m.consume_events(&mut t, 3)
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLimit,
        m.consume_events(&mut t, 0)
    );
    m.consume_events(&mut t, 2).await.unwrap();
    assert_eq!(m.place(&mut t, take).await.unwrap().fills, 1);
}

#[tokio::test]
async fn sdk_market_view_aggregates_levels_in_native_units() {
    let (mut t, m) = setup(64, 16).await;
    let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
    m.place(&mut t, limit(a, OrderSide::Ask, 101 * TICK, 2 * LOT))
        .await
        .unwrap();
    m.place(&mut t, limit(b, OrderSide::Ask, 101 * TICK, 3 * LOT))
        .await
        .unwrap();
    m.place(&mut t, limit(a, OrderSide::Ask, 103 * TICK, LOT))
        .await
        .unwrap();
    m.place(&mut t, limit(b, OrderSide::Bid, 99 * TICK, 4 * LOT))
        .await
        .unwrap();
    let data = m.snapshot(&mut t).await;
    let now = t.clock().await.unix_timestamp;
    let v = sdk::MarketView::decode(&data, now, None).unwrap();
    let level = |price, quantity, orders| sdk::Level {
        price,
        quantity,
        orders,
    };
    assert_eq!(
        v.asks,
        vec![level(101 * TICK, 5 * LOT, 2), level(103 * TICK, LOT, 1)]
    );
    assert_eq!(v.bids, vec![level(99 * TICK, 4 * LOT, 1)]);
    assert_eq!(v.queued_events, 0);
    assert!(v.ladder(5).contains("1010"));
    assert!(sdk::MarketView::decode(&data[..100], now, None).is_err());
}

#[tokio::test]
async fn every_change_is_emitted_as_an_event() {
    use carry_orderbook::events::{EventsConsumed, OrderFilled, OrderPlaced, OrderRemoved};
    use carry_tests::events::{events, install};
    let (mut t, m) = setup(64, 16).await;
    install();
    let (maker, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    let ask = m
        .place(&mut t, limit(maker, OrderSide::Ask, 100 * TICK, 3 * LOT))
        .await
        .unwrap();
    let other = m
        .place(&mut t, limit(maker, OrderSide::Ask, 105 * TICK, LOT))
        .await
        .unwrap();
    m.place(&mut t, limit(taker, OrderSide::Bid, 100 * TICK, 2 * LOT))
        .await
        .unwrap();
    m.cancel(&mut t, maker, other.order_id).await.unwrap();
    m.consume_events(&mut t, 1).await.unwrap();

    let placed: Vec<OrderPlaced> = events()
        .into_iter()
        .filter(|e: &OrderPlaced| e.market == m.market)
        .collect();
    assert_eq!(placed.len(), 3);
    assert_eq!(
        (
            placed[0].order_id,
            placed[0].posted_quantity,
            placed[0].posted_price
        ),
        (ask.order_id, 3 * LOT, 100 * TICK)
    );
    assert_eq!(
        (
            placed[2].owner,
            placed[2].base_filled,
            placed[2].quote_filled
        ),
        (taker, 2 * LOT, 200 * TICK)
    );
    let filled: Vec<OrderFilled> = events()
        .into_iter()
        .filter(|e: &OrderFilled| e.market == m.market)
        .collect();
    assert_eq!(filled.len(), 1);
    let f = &filled[0];
    assert_eq!(
        (f.maker, f.taker, f.maker_order_id),
        (maker, taker, ask.order_id)
    );
    assert_eq!(
        (f.price, f.quantity, f.maker_out, f.taker_side),
        (100 * TICK, 2 * LOT, false, 0)
    );
    let removed: Vec<OrderRemoved> = events()
        .into_iter()
        .filter(|e: &OrderRemoved| e.market == m.market)
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        (removed[0].order_id, removed[0].quantity, removed[0].reason),
        (other.order_id, LOT, 0)
    );
    let consumed: Vec<EventsConsumed> = events()
        .into_iter()
        .filter(|e: &EventsConsumed| e.market == m.market)
        .collect();
    assert_eq!(
        (consumed.len(), consumed[0].count, consumed[0].remaining),
        (1, 1, 0)
    );
}

#[tokio::test]
async fn slippage_guards_and_quote_budgets() {
    let (mut t, m) = setup(64, 32).await;
    let (mm, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    for (price, qty) in [(100, 5), (101, 5)] {
        m.place(&mut t, limit(mm, OrderSide::Ask, price * TICK, qty * LOT))
            .await
            .unwrap();
    }
    // An IOC that would fill 10 lots, guarded at 11: refused, nothing changed.
    let mut ioc = limit(taker, OrderSide::Bid, 101 * TICK, 20 * LOT);
    ioc.order_type = OrderType::ImmediateOrCancel;
    ioc.min_base_fill = 10 * LOT + 1; // rounds up to 11 lots
    refused_unchanged!(t, m, OrderbookError::SlippageExceeded, m.place(&mut t, ioc));
    ioc.min_base_fill = 0;
    ioc.min_quote_fill = (5 * 100 + 5 * 101) * TICK + 1;
    refused_unchanged!(t, m, OrderbookError::SlippageExceeded, m.place(&mut t, ioc));
    // A budget is only for IOC and market orders.
    let mut lim = limit(taker, OrderSide::Bid, 90 * TICK, LOT);
    lim.quote_budget = 1_000 * TICK;
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidQuoteBudget,
        m.place(&mut t, lim)
    );
    // A market buy spending at most 7 lots' worth at 100 and 101: 5 at 100 + 2 at 101.
    let mut mkt = limit(taker, OrderSide::Bid, 200 * TICK, 1_000 * LOT);
    mkt.order_type = OrderType::Market;
    mkt.quote_budget = (5 * 100 + 2 * 101) * TICK + TICK - 1;
    mkt.min_base_fill = 7 * LOT;
    let s = m.place(&mut t, mkt).await.unwrap();
    assert_eq!(
        (s.base_filled, s.quote_filled, s.fills),
        (7 * LOT, (5 * 100 + 2 * 101) * TICK, 2)
    );
    assert_eq!(s.cancelled_quantity, 993 * LOT);
}

#[tokio::test]
async fn reduce_in_place_keeps_time_priority() {
    use carry_orderbook::events::{OrderFilled, OrderReduced};
    use carry_tests::events::{events, install};
    let (mut t, m) = setup(64, 32).await;
    install();
    let (alice, bob, taker) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let mut a = limit(alice, OrderSide::Ask, 100 * TICK, 5 * LOT);
    a.client_order_id = 7;
    let first = m.place(&mut t, a).await.unwrap();
    m.place(&mut t, limit(bob, OrderSide::Ask, 100 * TICK, 5 * LOT))
        .await
        .unwrap();
    // Refusals: another owner, an off-lot or zero quantity; nothing changes.
    refused_unchanged!(
        t,
        m,
        OrderbookError::OrderNotFound,
        m.reduce(&mut t, bob, first.order_id, LOT)
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLot,
        m.reduce(&mut t, alice, first.order_id, LOT / 2)
    );
    refused_unchanged!(
        t,
        m,
        OrderbookError::InvalidLot,
        m.reduce(&mut t, alice, first.order_id, 0)
    );
    let r = m
        .reduce(&mut t, alice, first.order_id, 2 * LOT)
        .await
        .unwrap();
    assert_eq!((r.reduced, r.remaining), (2 * LOT, 3 * LOT));
    let r = m.reduce_by_client_id(&mut t, alice, 7, LOT).await.unwrap();
    assert_eq!((r.order_id, r.remaining), (first.order_id, 2 * LOT));
    // Alice's order, reduced, still trades first.
    let mut ioc = limit(taker, OrderSide::Bid, 100 * TICK, 3 * LOT);
    ioc.order_type = OrderType::ImmediateOrCancel;
    m.place(&mut t, ioc).await.unwrap();
    let fills: Vec<(Pubkey, u64)> = events()
        .into_iter()
        .filter(|e: &OrderFilled| e.market == m.market)
        .map(|f| (f.maker, f.quantity))
        .collect();
    assert_eq!(fills, vec![(alice, 2 * LOT), (bob, LOT)]);
    let reduced: Vec<u64> = events()
        .into_iter()
        .filter(|e: &OrderReduced| e.market == m.market)
        .map(|e| e.quantity)
        .collect();
    assert_eq!(reduced, vec![2 * LOT, LOT]);
    // Reducing by at least what rests cancels.
    let bobs = m
        .place(&mut t, limit(bob, OrderSide::Ask, 101 * TICK, LOT))
        .await
        .unwrap();
    let r = m
        .reduce(&mut t, bob, bobs.order_id, 10 * LOT)
        .await
        .unwrap();
    assert_eq!((r.reduced, r.remaining), (LOT, 0));
    refused_unchanged!(
        t,
        m,
        OrderbookError::OrderNotFound,
        m.reduce(&mut t, bob, bobs.order_id, LOT)
    );
}

#[tokio::test]
async fn a_full_side_evicts_its_worst_order_for_a_better_one() {
    use carry_orderbook::events::OrderRemoved;
    use carry_tests::events::{events, install};
    let (mut t, m) = setup(2, 8).await;
    install();
    let (mm, other, newcomer) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    m.place(&mut t, limit(mm, OrderSide::Bid, 90 * TICK, LOT))
        .await
        .unwrap();
    let worst = m
        .place(&mut t, limit(other, OrderSide::Bid, 80 * TICK, LOT))
        .await
        .unwrap();
    refused_unchanged!(
        t,
        m,
        OrderbookError::SideFull,
        m.place(&mut t, limit(newcomer, OrderSide::Bid, 80 * TICK, LOT))
    );
    let s = m
        .place(&mut t, limit(newcomer, OrderSide::Bid, 85 * TICK, LOT))
        .await
        .unwrap();
    assert_eq!(
        (s.posted_quantity, s.evicted_order_id, s.evicted_owner),
        (LOT, worst.order_id, other)
    );
    let removed: Vec<(u128, u8)> = events()
        .into_iter()
        .filter(|e: &OrderRemoved| e.market == m.market)
        .map(|e| (e.order_id, e.reason))
        .collect();
    assert_eq!(removed, vec![(worst.order_id, 4)]);
}

#[tokio::test]
async fn orders_expire_by_slot() {
    let (mut t, m) = setup(64, 32).await;
    let (mm, taker) = (Pubkey::new_unique(), Pubkey::new_unique());
    let slot = t.clock().await.slot;
    let mut a = limit(mm, OrderSide::Ask, 100 * TICK, LOT);
    a.expires_at_slot = slot; // not in the future
    refused_unchanged!(t, m, OrderbookError::AlreadyExpired, m.place(&mut t, a));
    a.expires_at = 1 << 40;
    a.expires_at_slot = slot + 10;
    refused_unchanged!(t, m, OrderbookError::InvalidExpiry, m.place(&mut t, a));
    a.expires_at = 0;
    m.place(&mut t, a).await.unwrap();
    // Ten slots on, the ask is expired: the bid removes it instead of trading.
    let mut clock = t.clock().await;
    clock.slot = slot + 10;
    t.context.set_sysvar(&clock);
    let mut bid = limit(taker, OrderSide::Bid, 100 * TICK, LOT);
    bid.order_type = OrderType::ImmediateOrCancel;
    let s = m.place(&mut t, bid).await.unwrap();
    assert_eq!((s.base_filled, s.makers_removed), (0, 1));
}

/// An owner's open-orders account: created once per market (PDA), checked to be the owner's
/// and the market's, bounded at `MAX_OPEN_ORDERS` resting orders (the next resting place is
/// refused with nothing changed), emptied by one cancel-all.
#[tokio::test]
async fn open_orders_accounts_are_the_owners_and_bounded() {
    let (mut t, m) = setup(256, 64).await;
    let other = TestMarket::create(&mut t, TICK, LOT, 64, 16).await;
    let (trader, alice, mm) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    m.ensure_open_orders(&mut t, trader).await;
    let oo = m.open_orders(&mut t, trader).await;
    assert_eq!((oo.market, oo.owner), (m.market, trader));
    assert_eq!(*oo.orders(), carry_book::OpenOrders::new());
    let (pda, bump) = Pubkey::find_program_address(
        &[
            carry_orderbook::OPEN_ORDERS_SEED,
            m.market.as_ref(),
            trader.as_ref(),
        ],
        &carry_orderbook::ID,
    );
    assert_eq!(
        (pda, bump),
        (sdk::open_orders_address(&m.market, &trader), oo.bump)
    );
    // A second create for the same owner and market fails (the PDA exists).
    let payer = t.payer().pubkey();
    assert!(t
        .send(&[sdk::create_open_orders(payer, m.market, trader)], &[])
        .await
        .is_err());

    let bid = |owner, ticks: u64| limit(owner, OrderSide::Bid, ticks * TICK, LOT);
    // No open-orders account yet (the address holds no account of this program).
    let nobody = Pubkey::new_unique();
    refused_unchanged!(
        t,
        m,
        AnchorError::AccountOwnedByWrongProgram,
        t.send(
            &[m.place_ix(&m.authority, bid(nobody, 50))],
            &[&m.authority]
        )
    );
    // Another owner's account on this market, and the owner's account on another market.
    m.ensure_open_orders(&mut t, alice).await;
    other.ensure_open_orders(&mut t, trader).await;
    for (market, owner) in [(m.market, alice), (other.market, trader)] {
        let mut wrong = m.place_ix(&m.authority, bid(trader, 50));
        wrong.accounts[2].pubkey = sdk::open_orders_address(&market, &owner);
        refused_unchanged!(
            t,
            m,
            OrderbookError::WrongOpenOrders,
            t.send(&[wrong], &[&m.authority])
        );
    }

    // The bound: 32 resting orders, then the next resting place is refused.
    let max = carry_book::MAX_OPEN_ORDERS as u64;
    for i in 0..max {
        let s = m.place(&mut t, bid(trader, 10 + i)).await.unwrap();
        assert_eq!(s.posted_quantity, LOT);
    }
    assert_eq!(
        m.open_orders(&mut t, trader).await.orders().len,
        carry_book::MAX_OPEN_ORDERS as u32
    );
    // The SDK reads them back: each live order as it rests.
    let data = t.data(&m.market).await;
    let oo = m.open_orders(&mut t, trader).await;
    let listed = sdk::listed_orders(&data, &trader, oo.orders()).unwrap();
    assert_eq!(listed.len() as u64, max);
    assert!(listed
        .iter()
        .all(|o| o.owner == trader.to_bytes() && o.quantity == 1));
    let before = m.open_orders(&mut t, trader).await;
    refused_unchanged!(
        t,
        m,
        OrderbookError::TooManyOpenOrders,
        m.place(&mut t, bid(trader, 60))
    );
    assert_eq!(before, m.open_orders(&mut t, trader).await);
    // An order that does not rest still trades with a full list.
    m.place(&mut t, limit(mm, OrderSide::Ask, 70 * TICK, LOT))
        .await
        .unwrap();
    let ioc = carry_orderbook::PlaceOrderArgs {
        order_type: OrderType::ImmediateOrCancel,
        ..bid(trader, 70)
    };
    assert_eq!(m.place(&mut t, ioc).await.unwrap().base_filled, LOT);
    // A maker fill frees its entry: the filled order's slot no longer holds it.
    let s = m
        .place(
            &mut t,
            limit(mm, OrderSide::Ask, (10 + max - 1) * TICK, LOT),
        )
        .await
        .unwrap();
    assert_eq!(s.base_filled, LOT);
    let s = m.place(&mut t, bid(trader, 5)).await.unwrap();
    assert_eq!(s.posted_quantity, LOT);
    // One cancel-all empties the list.
    let all = m
        .cancel_all_summary(&mut t, trader, None, MAX_CANCEL_ALL_PER_CALL)
        .await
        .unwrap();
    assert_eq!((all.cancelled, all.complete), (max as u32, true));
    assert_eq!(m.open_orders(&mut t, trader).await.orders().len, 0);
    let data = t.data(&m.market).await;
    let oo = m.open_orders(&mut t, trader).await;
    assert!(sdk::listed_orders(&data, &trader, oo.orders())
        .unwrap()
        .is_empty());
    // A cancel-all with another owner's account is refused.
    let mut wrong = sdk::cancel_all_orders(m.market, m.authority.pubkey(), trader, None, 5);
    wrong.accounts[2].pubkey = sdk::open_orders_address(&m.market, &alice);
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongOpenOrders,
        t.send(&[wrong], &[&m.authority])
    );

    // Closing: refused while an order rests, by another key than the authority, or for
    // another market's account; then it returns the rent and the owner can start again.
    m.place(&mut t, bid(trader, 20)).await.unwrap();
    let dest = Pubkey::new_unique();
    let oo_key = sdk::open_orders_address(&m.market, &trader);
    let close = sdk::close_open_orders(m.market, m.authority.pubkey(), trader, dest);
    refused_unchanged!(
        t,
        m,
        OrderbookError::OpenOrdersNotEmpty,
        t.send(std::slice::from_ref(&close), &[&m.authority])
    );
    let intruder = Keypair::new();
    let i = sdk::close_open_orders(m.market, intruder.pubkey(), trader, dest);
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongAuthority,
        t.send(&[i], &[&intruder])
    );
    let mut wrong = close.clone();
    wrong.accounts[2].pubkey = sdk::open_orders_address(&other.market, &trader);
    refused_unchanged!(
        t,
        m,
        OrderbookError::WrongOpenOrders,
        t.send(&[wrong], &[&m.authority])
    );
    assert!(t.account(&oo_key).await.is_some());
    m.cancel_all(&mut t, trader, None, MAX_CANCEL_ALL_PER_CALL)
        .await
        .unwrap();
    let rent = t.account(&oo_key).await.unwrap().lamports;
    t.send(&[close], &[&m.authority]).await.unwrap();
    assert!(t.account(&oo_key).await.is_none());
    assert_eq!(t.account(&dest).await.unwrap().lamports, rent);
    let s = m.place(&mut t, bid(trader, 20)).await.unwrap();
    assert_eq!(s.posted_quantity, LOT);
}
