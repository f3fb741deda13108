//! Perp trading (issue 16, part B): `place_perp_order` with the taker's fills applied in the
//! same instruction, `consume_perp_events` applying maker fills exactly once, the cancels, and
//! every refusal named with the watched accounts byte-identical.
//!
//! Market: the SDK's example perp (lots of 0.01 base, ticks of 100 quote native per lot,
//! maker -100 ppm (rebate), taker 500 ppm, 1% initial margin on the first tier) with a small
//! book, oracle at $150: 15_000 ticks = 1_500_000 quote native per lot.

use carry_margin::error::CarryError;
use carry_margin::state::PerpPosition;
use carry_margin::PlacePerpOrderArgs;
use carry_math::I80F48;
use carry_sdk::margin as sdk;
use carry_tests::margin::*;
use carry_tests::TxError;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

/// $150 per whole base (expo -8).
const SOL: i64 = 150 * E8;
/// 1,000 USDC in native units.
const K_USDC: u64 = 1_000_000_000;

fn c(e: CarryError) -> u32 {
    e.into()
}

fn q(p: &PerpPosition) -> I80F48 {
    p.quote_native.get()
}

/// Send, expect `code`, and check that `watched` and every writable account of `ixs` (but the
/// fee payer) are byte-identical afterwards.
async fn refused(
    env: &mut MarginEnv,
    ixs: &[Instruction],
    signers: &[&Keypair],
    watched: &[Pubkey],
    code: CarryError,
) {
    let mut w = watched.to_vec();
    for ix in ixs {
        w.extend(
            ix.accounts
                .iter()
                .filter(|m| m.is_writable)
                .map(|m| m.pubkey),
        );
    }
    w.retain(|k| *k != env.admin.pubkey());
    w.sort();
    w.dedup();
    let before = env.snapshot(&w).await;
    let r: Result<(), TxError> = env.send(ixs, signers).await;
    carry_tests::assert_error(r, c(code));
    let after = env.snapshot(&w).await;
    for (i, k) in w.iter().enumerate() {
        assert!(
            before[i] == after[i],
            "account {k} changed by a refused instruction"
        );
    }
}

struct Scene {
    env: MarginEnv,
    m1: User,
    m2: User,
    a: User,
    b: User,
}

/// Maker 1 rests asks of 10 lots at 15_000 and 10 at 15_100; maker 2 a bid of 10 at 14_900
/// (client id 7). Taker A buys 15 (IOC up to 15_100), taker B sells 4 (IOC down to 14_900).
async fn scene() -> Scene {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let m2 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    let b = trader(&mut env, K_USDC).await;
    env.place_perp(&m1, 0, limit(1, 15_000, 10)).await.unwrap();
    env.place_perp(&m1, 0, limit(1, 15_100, 10)).await.unwrap();
    let bid = PlacePerpOrderArgs {
        client_order_id: 7,
        ..limit(0, 14_900, 10)
    };
    env.place_perp(&m2, 0, bid).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 15_100, 15)).await.unwrap();
    env.place_perp(&b, 0, ioc(1, 14_900, 4)).await.unwrap();
    Scene { env, m1, m2, a, b }
}

#[tokio::test]
async fn makers_and_takers_to_the_unit_and_the_crank_applies_each_fill_once() {
    let Scene {
        mut env,
        m1,
        m2,
        a,
        b,
    } = scene().await;

    // Takers are applied in their own instruction.
    // A: 10 @ 1_500_000 (fee ceil(15_000_000 * 0.0005) = 7_500) and 5 @ 1_510_000 (fee 3_775).
    let pa = env.perp_slot(&a.account, 0).await;
    assert_eq!(pa.base_lots, 15);
    assert_eq!(
        q(&pa),
        I80F48::from_i64(15_000_000 + 7_550_000 + 7_500 + 3_775)
    );
    assert_eq!((pa.bids_base_lots, pa.asks_base_lots), (0, 0));
    // B: 4 @ 1_490_000, fee 2_980.
    let pb = env.perp_slot(&b.account, 0).await;
    assert_eq!(pb.base_lots, -4);
    assert_eq!(q(&pb), I80F48::from_i64(-5_960_000 + 2_980));
    // Makers not yet: their lots still rest in their positions.
    let p1 = env.perp_slot(&m1.account, 0).await;
    assert_eq!((p1.base_lots, p1.asks_base_lots), (0, 20));
    let p2 = env.perp_slot(&m2.account, 0).await;
    assert_eq!((p2.base_lots, p2.bids_base_lots), (0, 10));
    assert_eq!(env.perp_event_count(0).await, 3);
    let m = env.perp_market(0).await;
    assert_eq!(m.open_interest_lots, 15);
    assert_eq!(m.fees_accrued_native, 7_500 + 3_775 + 2_980);

    // The queue is [m1, m1, m2]. Only m2 passed: the crank stops at the first event.
    let watched = [
        m1.account,
        m2.account,
        env.perps[0].book,
        env.perps[0].market,
    ];
    let before = env.snapshot(&watched).await;
    env.consume(0, &[m2.account], 10).await.unwrap();
    assert_eq!(env.snapshot(&watched).await, before, "nothing applied");
    // Only m1: its two fills, then it stops at m2's.
    env.consume(0, &[m1.account], 10).await.unwrap();
    assert_eq!(env.perp_event_count(0).await, 1);
    let p1 = env.perp_slot(&m1.account, 0).await;
    assert_eq!(
        (p1.base_lots, p1.asks_base_lots, p1.bids_base_lots),
        (-15, 5, 0)
    );
    // rebates floor(15_000_000 * 0.0001) = 1_500 and floor(7_550_000 * 0.0001) = 755
    assert_eq!(
        q(&p1),
        I80F48::from_i64(-15_000_000 - 7_550_000 - 1_500 - 755)
    );
    // m2 now, then the crank again with everyone: nothing left to apply.
    env.consume(0, &[m2.account], 10).await.unwrap();
    let all = [m1.account, m2.account, a.account, b.account];
    let before = env.snapshot(&all).await;
    env.consume(0, &all, 10).await.unwrap();
    assert_eq!(env.snapshot(&all).await, before, "no fill applied twice");
    assert_eq!(env.perp_event_count(0).await, 0);
    let p2 = env.perp_slot(&m2.account, 0).await;
    assert_eq!((p2.base_lots, p2.bids_base_lots), (4, 6));
    assert_eq!(q(&p2), I80F48::from_i64(5_960_000 - 596));

    // Zero-sum base, open interest = longs, fees net of rebates, no token moved.
    let mut base = 0;
    for k in &all {
        base += env.perp_slot(k, 0).await.base_lots;
    }
    assert_eq!(base, 0);
    let m = env.perp_market(0).await;
    assert_eq!(m.open_interest_lots, 15 + 4);
    assert_eq!(
        m.fees_accrued_native,
        7_500 + 3_775 + 2_980 - 1_500 - 755 - 596
    );
    env.check_conservation(0, &all).await;
    // Health of everyone is computed from the positions (and stays positive here).
    for k in &all {
        let (init, _) = env.health_with_perps(k).await.unwrap();
        assert!(init.is_positive());
    }
}

#[tokio::test]
async fn cancels_release_resting_lots() {
    let Scene {
        mut env, m1, m2, ..
    } = scene().await;
    let p = env.perps[0].clone();
    env.consume(0, &[m1.account, m2.account], 10).await.unwrap();
    // m2's remaining 6-lot bid by client id; a second cancel finds nothing.
    let i = sdk::cancel_perp_order_by_client_id(m2.kp.pubkey(), m2.account, p.market, p.book, 7);
    env.send(std::slice::from_ref(&i), &[&m2.kp]).await.unwrap();
    assert_eq!(env.perp_slot(&m2.account, 0).await.bids_base_lots, 0);
    refused(&mut env, &[i], &[&m2.kp], &[], CarryError::OrderNotFound).await;

    // m1 adds two bids; cancel one by its id (from the event), the rest with cancel-all.
    carry_tests::events::install();
    env.place_perp(&m1, 0, limit(0, 14_000, 3)).await.unwrap();
    let id = carry_tests::events::events::<carry_margin::events::PerpOrderEvent>()
        .into_iter()
        .rfind(|e| e.account == m1.account)
        .unwrap()
        .order_id;
    env.place_perp(&m1, 0, limit(0, 13_900, 2)).await.unwrap();
    let s = env.perp_slot(&m1.account, 0).await;
    assert_eq!((s.bids_base_lots, s.asks_base_lots), (5, 5));
    // Another account cannot cancel it (the book checks the owner).
    let other = sdk::cancel_perp_order(m2.kp.pubkey(), m2.account, p.market, p.book, id);
    refused(
        &mut env,
        &[other],
        &[&m2.kp],
        &[m1.account],
        CarryError::OrderNotFound,
    )
    .await;
    // Nor can a stranger sign for m1.
    let stranger = Keypair::new();
    let i = sdk::cancel_perp_order(stranger.pubkey(), m1.account, p.market, p.book, id);
    refused(
        &mut env,
        &[i],
        &[&stranger],
        &[],
        CarryError::NotOwnerOrDelegate,
    )
    .await;
    let i = sdk::cancel_perp_order(m1.kp.pubkey(), m1.account, p.market, p.book, id);
    env.send(&[i], &[&m1.kp]).await.unwrap();
    let s = env.perp_slot(&m1.account, 0).await;
    assert_eq!((s.bids_base_lots, s.asks_base_lots), (2, 5));
    // Bids only, then both sides.
    let i = sdk::cancel_all_perp_orders(m1.kp.pubkey(), m1.account, p.market, p.book, 0, 10);
    env.send(&[i], &[&m1.kp]).await.unwrap();
    let s = env.perp_slot(&m1.account, 0).await;
    assert_eq!((s.bids_base_lots, s.asks_base_lots), (0, 5));
    let i = sdk::cancel_all_perp_orders(m1.kp.pubkey(), m1.account, p.market, p.book, 2, 10);
    env.send(&[i], &[&m1.kp]).await.unwrap();
    let s = env.perp_slot(&m1.account, 0).await;
    assert_eq!((s.bids_base_lots, s.asks_base_lots), (0, 0));
    assert_eq!(s.base_lots, -15, "cancels never touch the position");
}

#[tokio::test]
async fn refusals_are_named_and_change_nothing() {
    let Scene {
        mut env, m1, a, b, ..
    } = scene().await;
    let p = env.perps[0].clone();
    let watched = [a.account, b.account, p.market, p.book];

    // Health: 1 USDC carries a resting 40-lot bid (60 USDC notional, 1% = 0.6; the example bank weighs USDC below 1) but not 100 (1.5).
    let c1 = trader(&mut env, 1_000_000).await;
    let i = env.place_perp_ix(&c1.kp.pubkey(), &c1.account, 0, limit(0, 14_000, 100));
    refused(
        &mut env,
        &[i],
        &[&c1.kp],
        &watched,
        CarryError::HealthBelowZero,
    )
    .await;
    env.place_perp(&c1, 0, limit(0, 14_000, 40)).await.unwrap();
    assert_eq!(env.perp_slot(&c1.account, 0).await.bids_base_lots, 40);

    // Band (1% in the example): a resting bid above 15_150 ticks, an ask below 14_850, or a
    // pegged bid more than 150 ticks over the oracle would fill at a loss the margin does not
    // count; at the edge it rests. (An IOC is clamped to the band: `self_trade_beyond_the_band`
    // in the liquidation tests.)
    for args in [
        post_only(0, 15_151, 1),
        post_only(1, 14_849, 1),
        PlacePerpOrderArgs {
            order_kind: 6,
            peg_offset_ticks: 151,
            ..limit(0, 0, 1)
        },
    ] {
        let i = env.place_perp_ix(&c1.kp.pubkey(), &c1.account, 0, args);
        refused(
            &mut env,
            &[i],
            &[&c1.kp],
            &watched,
            CarryError::OrderPriceOutOfBand,
        )
        .await;
    }

    // Reduce-only: A is long 15, so a reduce-only bid, or an ask of 16, would increase.
    let ro = |a: PlacePerpOrderArgs| PlacePerpOrderArgs {
        reduce_only: true,
        ..a
    };
    let i = env.place_perp_ix(&a.kp.pubkey(), &a.account, 0, ro(limit(0, 14_000, 1)));
    refused(
        &mut env,
        &[i],
        &[&a.kp],
        &watched,
        CarryError::ReduceOnlyWouldIncrease,
    )
    .await;
    let i = env.place_perp_ix(&a.kp.pubkey(), &a.account, 0, ro(limit(1, 16_000, 16)));
    refused(
        &mut env,
        &[i],
        &[&a.kp],
        &watched,
        CarryError::ReduceOnlyWouldIncrease,
    )
    .await;
    // An ask of 15 rests; now a second reduce-only ask of 1 would increase.
    env.place_perp(&a, 0, ro(limit(1, 16_000, 15)))
        .await
        .unwrap();
    let i = env.place_perp_ix(&a.kp.pubkey(), &a.account, 0, ro(limit(1, 16_000, 1)));
    refused(
        &mut env,
        &[i],
        &[&a.kp],
        &watched,
        CarryError::ReduceOnlyWouldIncrease,
    )
    .await;

    // Post-only crossing; a stranger; bad arguments.
    let post = PlacePerpOrderArgs {
        order_kind: 1,
        ..limit(0, 15_100, 1)
    };
    let i = env.place_perp_ix(&b.kp.pubkey(), &b.account, 0, post);
    refused(
        &mut env,
        &[i],
        &[&b.kp],
        &watched,
        CarryError::PostOnlyWouldCross,
    )
    .await;
    let stranger = Keypair::new();
    let i = env.place_perp_ix(&stranger.pubkey(), &b.account, 0, limit(0, 14_000, 1));
    refused(
        &mut env,
        &[i],
        &[&stranger],
        &watched,
        CarryError::NotOwnerOrDelegate,
    )
    .await;
    for bad in [
        PlacePerpOrderArgs {
            side: 2,
            ..limit(0, 14_000, 1)
        },
        PlacePerpOrderArgs {
            order_kind: 7,
            ..limit(0, 14_000, 1)
        },
        limit(0, 14_000, 0),
    ] {
        let i = env.place_perp_ix(&b.kp.pubkey(), &b.account, 0, bad);
        refused(
            &mut env,
            &[i],
            &[&b.kp],
            &watched,
            CarryError::InvalidOrderParams,
        )
        .await;
    }

    // Wrong book, wrong oracle, another market's book for the cancel, wrong maker account.
    let mut i = env.place_perp_ix(&b.kp.pubkey(), &b.account, 0, limit(0, 14_000, 1));
    i.accounts[4].pubkey = Pubkey::new_unique();
    refused(
        &mut env,
        &[i],
        &[&b.kp],
        &watched,
        CarryError::PerpMarketMismatch,
    )
    .await;
    let mut i = env.place_perp_ix(&b.kp.pubkey(), &b.account, 0, limit(0, 14_000, 1));
    i.accounts[5].pubkey = env.banks[0].oracle;
    refused(
        &mut env,
        &[i],
        &[&b.kp],
        &watched,
        CarryError::OracleMismatch,
    )
    .await;
    let mut i = sdk::cancel_all_perp_orders(m1.kp.pubkey(), m1.account, p.market, p.book, 2, 5);
    i.accounts[3].pubkey = Pubkey::new_unique();
    refused(
        &mut env,
        &[i],
        &[&m1.kp],
        &watched,
        CarryError::PerpMarketMismatch,
    )
    .await;
    env.place_perp(&b, 0, ioc(0, 15_100, 1)).await.unwrap(); // m1's ask: a queued fill
    let mut i = env.consume_ix(0, &[m1.account], 10);
    i.accounts[2].is_writable = false;
    refused(
        &mut env,
        &[i],
        &[],
        &watched,
        CarryError::MakerAccountMismatch,
    )
    .await;
    env.consume(0, &[m1.account], 10).await.unwrap();

    // Open-interest limit at the current open interest: opening refused, closing passes.
    let oi = env.perp_market(0).await.open_interest_lots;
    let mut params = sdk::example_perp_market_params();
    params.open_interest_limit_lots = oi;
    let i = env.edit_perp_market_ix(&env.admin.pubkey(), 0, params);
    env.send(&[i], &[]).await.unwrap();
    let i = env.place_perp_ix(&b.kp.pubkey(), &b.account, 0, limit(1, 16_000, 1));
    refused(
        &mut env,
        &[i],
        &[&b.kp],
        &watched,
        CarryError::OpenInterestLimitExceeded,
    )
    .await;

    // Reduce-only mode: B (short 3 now) may not sell more, may buy back.
    params.mode = 1;
    params.open_interest_limit_lots = u64::MAX;
    let i = env.edit_perp_market_ix(&env.admin.pubkey(), 0, params);
    env.send(&[i], &[]).await.unwrap();
    let i = env.place_perp_ix(&b.kp.pubkey(), &b.account, 0, limit(1, 16_000, 1));
    refused(
        &mut env,
        &[i],
        &[&b.kp],
        &watched,
        CarryError::PerpMarketReduceOnly,
    )
    .await;
    env.place_perp(&b, 0, limit(0, 14_000, 3)).await.unwrap();

    // Paused exchange.
    let i = env.set_paused_ix(&env.admin.pubkey(), true);
    env.send(&[i], &[]).await.unwrap();
    let i = env.place_perp_ix(&m1.kp.pubkey(), &m1.account, 0, limit(0, 14_000, 1));
    refused(
        &mut env,
        &[i],
        &[&m1.kp],
        &watched,
        CarryError::ExchangePaused,
    )
    .await;
}

#[tokio::test]
async fn dated_market_takes_no_orders_after_expiry() {
    let mut env = MarginEnv::new().await;
    let now = env.now().await;
    let mut params = sdk::example_perp_market_params();
    params.expiry_ts = now + 100;
    params.settlement_window_secs = 60;
    params.settlement_min_interval_secs = 10;
    env.add_perp_market(SOL, params).await;
    let u = trader(&mut env, K_USDC).await;
    env.place_perp(&u, 0, limit(0, 14_000, 1)).await.unwrap();
    env.warp(200).await;
    env.set_perp_price(0, SOL).await;
    let p = env.perps[0].clone();
    let i = env.place_perp_ix(&u.kp.pubkey(), &u.account, 0, limit(0, 14_000, 1));
    refused(
        &mut env,
        &[i],
        &[&u.kp],
        &[p.market, p.book],
        CarryError::PerpMarketExpired,
    )
    .await;
}

#[tokio::test]
async fn settle_pnl_moves_losses_into_the_pool_and_pays_profits_from_it() {
    let Scene {
        mut env,
        m1,
        m2,
        a,
        b,
    } = scene().await;
    env.consume(0, &[m1.account, m2.account], 10).await.unwrap();
    let all = [m1.account, m2.account, a.account, b.account];
    let bal = |v: i64| I80F48::from_i64(v);
    carry_tests::events::install();

    // $125: 1_250_000 per lot (exact in fixed point). m1 (short 15) first: the pool is
    // empty, nothing is paid and nothing changes.
    env.set_perp_price(0, 125 * E8).await;
    // Profits are paid at the worse of oracle and stable price: let the stable price have
    // followed the oracle (hours of cranks).
    env.patch_perp_market(0, |m| m.stable_price.set(I80F48::from_i64(1_250_000)))
        .await;
    let before = env.perp_slot(&m1.account, 0).await;
    env.settle_pnl(&m1.account, 0).await.unwrap();
    assert_eq!(env.perp_slot(&m1.account, 0).await, before);
    // Losers: A (long 15, basis 22_561_275) loses 22_561_275 - 18_750_000 = 3_811_275;
    // m2 (long 4, basis 5_959_404) loses 5_959_404 - 5_000_000 = 959_404.
    env.settle_pnl(&a.account, 0).await.unwrap();
    env.settle_pnl(&m2.account, 0).await.unwrap();
    assert_eq!(
        env.perp_market(0).await.pnl_pool_native,
        3_811_275 + 959_404
    );
    assert_eq!(
        env.balance(&a.account, 0).await,
        bal(K_USDC as i64 - 3_811_275)
    );
    assert_eq!(
        env.balance(&m2.account, 0).await,
        bal(10 * K_USDC as i64 - 959_404)
    );
    // Winners: m1 gains 22_552_255 - 18_750_000 = 3_802_255, B 5_957_020 - 5_000_000 = 957_020.
    env.settle_pnl(&m1.account, 0).await.unwrap();
    env.settle_pnl(&b.account, 0).await.unwrap();
    assert_eq!(
        env.balance(&m1.account, 0).await,
        bal(10 * K_USDC as i64 + 3_802_255)
    );
    assert_eq!(
        env.balance(&b.account, 0).await,
        bal(K_USDC as i64 + 957_020)
    );
    // What is left in the pool is exactly the net fees.
    let m = env.perp_market(0).await;
    assert_eq!(m.pnl_pool_native, 11_404);
    assert_eq!(m.fees_accrued_native, 11_404);
    // Every position now has zero PnL at $125: its basis is base x price.
    for k in &all {
        let p = env.perp_slot(k, 0).await;
        assert_eq!(q(&p), I80F48::from_i64(p.base_lots * 1_250_000));
    }
    env.check_conservation(0, &all).await;
    let ev = carry_tests::events::events::<carry_margin::events::PerpSettlePnlEvent>();
    let ev: Vec<_> = ev
        .into_iter()
        .filter(|e| all.contains(&e.account))
        .collect();
    assert_eq!(
        ev.iter().map(|e| e.settled_native).collect::<Vec<_>>(),
        vec![0, -3_811_275, -959_404, 3_802_255, 957_020]
    );

    // The fees leave the pool for the insurance vault as tokens; conservation still holds.
    let ins_before = env.tokens(&env.insurance_vault.clone()).await;
    let bk = env.banks[0].clone();
    let i = sdk::sweep_perp_fees(
        env.exchange,
        env.perps[0].market,
        bk.bank,
        bk.vault,
        bk.mint,
        env.insurance_vault,
    );
    env.send(std::slice::from_ref(&i), &[]).await.unwrap();
    assert_eq!(
        env.tokens(&env.insurance_vault.clone()).await,
        ins_before + 11_404
    );
    let m = env.perp_market(0).await;
    assert_eq!((m.pnl_pool_native, m.fees_accrued_native), (0, 0));
    env.check_conservation(0, &all).await;
    // Nothing left: a second sweep moves nothing.
    env.send(&[i], &[]).await.unwrap();
    assert_eq!(
        env.tokens(&env.insurance_vault.clone()).await,
        ins_before + 11_404
    );

    // $30,000: B's loss (4 x 300_000_000 - 5_000_000 = 1_195_000_000) exceeds its deposit
    // (1_000_957_020): the rest is a borrow of 194_042_980 that pays interest from now on.
    env.set_perp_price(0, 30_000 * E8).await;
    env.settle_pnl(&b.account, 0).await.unwrap();
    assert_eq!(env.balance(&b.account, 0).await, bal(-194_042_980));
    let ev = carry_tests::events::events::<carry_margin::events::PerpSettlePnlEvent>();
    let last = ev.iter().rfind(|e| e.account == b.account).unwrap();
    assert_eq!(
        (last.settled_native, last.borrowed_native),
        (-1_195_000_000, 194_042_980)
    );
    // A day later the borrow has grown; conservation holds with the pool in the vault.
    env.warp(86_400).await;
    env.refresh_oracles().await;
    env.accrue(0).await.unwrap();
    assert!(env.balance(&b.account, 0).await < bal(-194_042_980));
    env.check_conservation(0, &all).await;

    // No position in the market: named refusal.
    let c1 = trader(&mut env, K_USDC).await;
    let p = env.perps[0].clone();
    env.set_perp_price(0, 125 * E8).await;
    let i = sdk::settle_pnl(
        env.exchange,
        c1.account,
        p.market,
        p.oracle,
        env.banks[0].bank,
    );
    refused(
        &mut env,
        &[i],
        &[],
        &[c1.account],
        CarryError::NoPerpPosition,
    )
    .await;
}

fn funding_ix(env: &MarginEnv, idx: usize) -> Instruction {
    let p = &env.perps[idx];
    sdk::update_funding(env.exchange, p.market, p.book, p.oracle)
}

#[tokio::test]
async fn funding_follows_the_premium_is_clamped_and_zero_sum() {
    use carry_math::funding::{funding_owed, premium, ImpactPrice};
    let mut env = MarginEnv::new().await;
    let mut params = sdk::example_perp_market_params();
    params.funding_impact_notional = 12_750_000; // 10 lots at the bid
    params.order_band_bps = 0; // a book skewed past the band, on purpose
    env.add_perp_market(125 * E8, params).await; // 1_250_000 per lot, exact
    env.add_perp_market(125 * E8, params).await; // stays empty
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    let b = trader(&mut env, K_USDC).await;
    // A book skewed 2% above the oracle; A buys 5, B sells 5 (m1 ends flat).
    env.place_perp(&m1, 0, limit(0, 12_750, 20)).await.unwrap();
    env.place_perp(&m1, 0, limit(1, 12_800, 20)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 12_800, 5)).await.unwrap();
    env.place_perp(&b, 0, ioc(1, 12_750, 5)).await.unwrap();
    env.consume(0, &[m1.account], 10).await.unwrap();

    // What carry_math says the crank must see: 15 lots a side left.
    let oracle = I80F48::from_i64(1_250_000);
    let mut bid = ImpactPrice::new(true, 12_750_000).unwrap();
    bid.add_level(I80F48::from_i64(1_275_000), 15).unwrap();
    let mut ask = ImpactPrice::new(false, 12_750_000).unwrap();
    ask.add_level(I80F48::from_i64(1_280_000), 15).unwrap();
    let (bid, ask) = (bid.price().unwrap(), ask.price().unwrap());
    assert_eq!(bid, Some(I80F48::from_i64(1_275_000)));
    let prem = premium(bid, ask, oracle).unwrap();
    assert!(prem > I80F48::from_ppm(19_999) && prem <= I80F48::from_ppm(20_000));

    let mut expected = env.perp_market(0).await.funding_state();
    let fp = params.funding_params();
    carry_tests::events::install();
    for warp in [0, 1_800, 1_800, 3_600] {
        if warp > 0 {
            env.warp(warp).await;
            env.set_perp_price(0, 125 * E8).await;
            env.set_perp_price(1, 125 * E8).await;
        }
        let now = env.now().await;
        env.send(&[funding_ix(&env, 0), funding_ix(&env, 1)], &[])
            .await
            .unwrap();
        expected.crank(prem, oracle, now, &fp).unwrap();
        assert_eq!(env.perp_market(0).await.funding_state(), expected);
    }
    // The window's average premium (2%) is clamped to the 0.1% max rate; positive: longs pay.
    assert_eq!(expected.rate, I80F48::from_ppm(1_000));
    let index = expected.index;
    assert!(index > I80F48::from_i64(1_249) && index <= I80F48::from_i64(1_250));
    // The empty book's premium is 0: its index and rate stay 0.
    let empty = env.perp_market(1).await;
    assert_eq!(
        (empty.funding_index.get(), empty.funding_rate.get()),
        (I80F48::ZERO, I80F48::ZERO)
    );
    let ev = carry_tests::events::events::<carry_margin::events::PerpFundingUpdateEvent>();
    let e = ev
        .iter()
        .rfind(|e| e.perp_market == env.perps[0].market)
        .unwrap();
    assert_eq!(e.premium_bits, prem.to_bits());
    assert_eq!(e.index_bits, index.to_bits());

    // Settling funding: A (long 5) pays ceil(5 x index), B (short 5) receives floor(5 x
    // index); the difference (< 1 unit) is the protocol's dust.
    env.settle_pnl(&a.account, 0).await.unwrap();
    env.settle_pnl(&b.account, 0).await.unwrap();
    let paid = carry_tests::events::events::<carry_margin::events::PerpFundingPaidEvent>();
    let of = |k: Pubkey| paid.iter().rfind(|e| e.account == k).unwrap().amount_native;
    let (pa, pb) = (of(a.account), of(b.account));
    assert_eq!(pa, funding_owed(5, I80F48::ZERO, index).unwrap());
    assert_eq!(pb, funding_owed(-5, I80F48::ZERO, index).unwrap());
    assert!(pa > 0 && pb < 0);
    assert!((0..=1).contains(&(pa + pb)));
    let all = [m1.account, a.account, b.account];
    env.check_conservation(0, &all).await;

    // Dated futures pay no funding.
    let now = env.now().await;
    let mut dated = sdk::example_perp_market_params();
    dated.expiry_ts = now + 1_000;
    dated.settlement_window_secs = 60;
    dated.settlement_min_interval_secs = 10;
    env.add_perp_market(125 * E8, dated).await;
    let i = funding_ix(&env, 2);
    refused(&mut env, &[i], &[], &[], CarryError::DatedMarketNoFunding).await;
}

#[tokio::test]
async fn removals_by_matching_release_own_lots_and_the_crank_releases_the_rest() {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let m2 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;

    // Self-trade, cancel-resting: m1's own ask is taken off by its bid and released.
    env.place_perp(&m1, 0, limit(1, 15_000, 3)).await.unwrap();
    env.place_perp(&m2, 0, limit(1, 15_050, 2)).await.unwrap();
    let own = PlacePerpOrderArgs {
        self_trade: 1,
        ..ioc(0, 15_050, 4)
    };
    carry_tests::events::install();
    env.place_perp(&m1, 0, own).await.unwrap();
    let s = env.perp_slot(&m1.account, 0).await;
    assert_eq!((s.base_lots, s.asks_base_lots, s.bids_base_lots), (2, 0, 0));
    let out = carry_tests::events::events::<carry_margin::events::PerpOrderOutEvent>();
    let e = out.iter().rfind(|e| e.account == m1.account).unwrap();
    assert_eq!((e.reason, e.base_lots, e.released), (2, 3, true));
    env.consume(0, &[m2.account], 10).await.unwrap();

    // Another account's expired ask met while matching: reported, and queued as an out event
    // for m2's account; the crank releases its lots.
    let now = env.now().await;
    let exp = PlacePerpOrderArgs {
        expires_at: (now + 10) as u64,
        ..limit(1, 15_000, 5)
    };
    env.place_perp(&m2, 0, exp).await.unwrap();
    env.place_perp(&m2, 0, limit(1, 15_150, 1)).await.unwrap();
    env.warp(20).await;
    env.set_perp_price(0, SOL).await;
    env.refresh_oracles().await;
    env.place_perp(&a, 0, ioc(0, 15_100, 5)).await.unwrap();
    assert_eq!(
        env.perp_slot(&a.account, 0).await.base_lots,
        0,
        "nothing to fill"
    );
    let out = carry_tests::events::events::<carry_margin::events::PerpOrderOutEvent>();
    let e = out.iter().rfind(|e| e.account == m2.account).unwrap();
    assert_eq!((e.reason, e.base_lots, e.released), (1, 5, false));
    assert_eq!(env.perp_slot(&m2.account, 0).await.asks_base_lots, 6);
    assert_eq!(env.perp_event_count(0).await, 1, "the out event is queued");
    let p = env.perps[0].clone();
    // One lot of its remaining ask is filled (queued too) before m2 cancels all: the count
    // keeps what the crank still has to release (5 out + 1 filled), then the crank releases it.
    env.place_perp(&a, 0, ioc(0, 15_150, 1)).await.unwrap();
    let i = sdk::cancel_all_perp_orders(m2.kp.pubkey(), m2.account, p.market, p.book, 2, 10);
    env.send(&[i], &[&m2.kp]).await.unwrap();
    assert_eq!(env.perp_slot(&m2.account, 0).await.asks_base_lots, 6);
    // Settling cannot free the slot while events are pending.
    env.settle_pnl(&m2.account, 0).await.unwrap();
    assert!(env.margin(&m2.account).await.find_perp(0).is_some());
    env.consume(0, &[m2.account], 10).await.unwrap();
    let s = env.perp_slot(&m2.account, 0).await;
    assert_eq!((s.asks_base_lots, s.base_lots), (0, -3));

    // Without a cancel: the crank alone releases an expired order met by another's place.
    let until = (env.now().await + 10) as u64;
    let exp = PlacePerpOrderArgs {
        expires_at: until,
        ..limit(1, 15_000, 4)
    };
    env.place_perp(&m2, 0, exp).await.unwrap();
    assert_eq!(env.perp_slot(&m2.account, 0).await.asks_base_lots, 4);
    env.warp(20).await;
    env.set_perp_price(0, SOL).await;
    env.place_perp(&a, 0, ioc(0, 15_100, 4)).await.unwrap();
    env.consume(0, &[m2.account], 10).await.unwrap();
    assert_eq!(env.perp_slot(&m2.account, 0).await.asks_base_lots, 0);
}

#[tokio::test]
async fn delegate_trades_and_stale_oracle_and_full_queue_are_refused() {
    let mut env = MarginEnv::new().await;
    let setup = carry_margin::PerpMarketSetup {
        event_capacity: 2,
        ..small_perp_setup()
    };
    env.add_perp_market_with(SOL, setup, sdk::example_perp_market_params(), None)
        .await;
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    let p = env.perps[0].clone();
    let watched = [m1.account, a.account, p.market, p.book];

    // The delegate places and cancels for the account.
    let d = env.t.funded_keypair(1_000_000_000).await;
    let i = env.set_delegate_ix(&m1.kp.pubkey(), &m1.account, &d.pubkey());
    env.send(&[i], &[&m1.kp]).await.unwrap();
    let args = PlacePerpOrderArgs {
        client_order_id: 9,
        ..limit(1, 15_000, 3)
    };
    let i = env.place_perp_ix(&d.pubkey(), &m1.account, 0, args);
    env.send(&[i], &[&d]).await.unwrap();
    assert_eq!(env.perp_slot(&m1.account, 0).await.asks_base_lots, 3);
    // A duplicate client id is the book's refusal.
    let i = env.place_perp_ix(&d.pubkey(), &m1.account, 0, args);
    refused(
        &mut env,
        &[i],
        &[&d],
        &watched,
        CarryError::DuplicateClientOrderId,
    )
    .await;

    // Two fills fill the 2-slot queue; a third taking order is refused until the crank.
    env.place_perp(&m1, 0, limit(1, 15_010, 3)).await.unwrap();
    env.place_perp(&m1, 0, limit(1, 15_020, 3)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 15_010, 4)).await.unwrap();
    assert_eq!(env.perp_event_count(0).await, 2);
    let i = env.place_perp_ix(&a.kp.pubkey(), &a.account, 0, ioc(0, 15_020, 1));
    refused(
        &mut env,
        &[i],
        &[&a.kp],
        &watched,
        CarryError::EventQueueFull,
    )
    .await;
    env.consume(0, &[m1.account], 10).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 15_020, 1)).await.unwrap();

    // A stale oracle (not re-published for 120 s, the limit is 60) refuses orders and
    // settlement, not cancels.
    env.t.warp_seconds(120).await;
    let i = env.place_perp_ix(&a.kp.pubkey(), &a.account, 0, limit(0, 14_000, 1));
    refused(&mut env, &[i], &[&a.kp], &watched, CarryError::OracleStale).await;
    let i = sdk::settle_pnl(
        env.exchange,
        a.account,
        p.market,
        p.oracle,
        env.banks[0].bank,
    );
    refused(&mut env, &[i], &[], &watched, CarryError::OracleStale).await;
    let i = sdk::cancel_all_perp_orders(d.pubkey(), m1.account, p.market, p.book, 2, 10);
    env.send(&[i], &[&d]).await.unwrap();
    // Nothing rests; the 1-lot fill still queued stays counted until the crank.
    let s = env.perp_slot(&m1.account, 0).await;
    assert_eq!((s.base_lots, s.asks_base_lots), (-4, 1));
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Resting lots per owner on one side of market `idx`'s book.
async fn book_resting(
    env: &mut MarginEnv,
    idx: usize,
    owner: &Pubkey,
    side: carry_book::OrderSide,
) -> i64 {
    let k = env.perps[idx].book;
    let mut data = env.t.data(&k).await;
    let book =
        carry_book::Book::load(&mut data[carry_margin::state::PerpBook::BOOK_OFFSET..]).unwrap();
    let mut sum = 0i64;
    book.visit_all(side, None, |v| {
        if v.order.owner == owner.to_bytes() {
            sum += v.order.quantity as i64;
        }
    })
    .unwrap();
    sum
}

/// 8 accounts on 2 markets, random limit / IOC / post-only orders around a moving oracle,
/// self-trade modes, cancels, settlements, funding cranks and warps. After every step (and the
/// crank): base sums to zero per market, open interest = sum of longs, every account's resting
/// counts equal its lots on the book, the settlement bank is conserved with the pools in the
/// vault, and every order that could add risk and passed left initial health >= 0.
#[tokio::test]
async fn randomized_trading_keeps_the_invariants() {
    let mut env = MarginEnv::new().await;
    let mut params = sdk::example_perp_market_params();
    params.funding_impact_notional = 3_000_000;
    env.add_perp_market(SOL, params).await;
    env.add_perp_market(SOL, params).await;
    let mut users = vec![];
    for i in 0..8 {
        users.push(trader(&mut env, if i < 2 { 10 * K_USDC } else { 20_000_000 }).await);
    }
    let keys: Vec<Pubkey> = users.iter().map(|u| u.account).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut prices = [SOL, SOL];
    let (mut placed, mut refused_health) = (0, 0);
    let steps: u32 = std::env::var("CARRY_PERP_SIM_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    for _step in 0..steps {
        let m = rng.below(2) as usize;
        let u = rng.below(8) as usize;
        match rng.below(10) {
            0..=5 => {
                let side = rng.below(2) as u8;
                let oracle_ticks = (prices[m] / 1_000_000) as u64; // $ x 1e8 -> ticks of 100 native per lot
                let off = rng.below(300);
                let price = if rng.below(2) == 0 {
                    oracle_ticks + off
                } else {
                    oracle_ticks - off
                };
                let now = env.now().await as u64;
                let kind = [0u8, 0, 1, 3, 6][rng.below(5) as usize];
                let args = PlacePerpOrderArgs {
                    order_kind: kind,
                    self_trade: rng.below(3) as u8,
                    // some orders expire within a minute (warps pass them)
                    expires_at: if rng.below(3) == 0 {
                        now + 1 + rng.below(60)
                    } else {
                        0
                    },
                    // pegged: the oracle -150..+150 ticks, limit at the drawn price
                    peg_offset_ticks: if kind == 6 {
                        rng.below(301) as i64 - 150
                    } else {
                        0
                    },
                    ..limit(side, price, 1 + rng.below(600))
                };
                let acc = env.margin(&keys[u]).await;
                let room = acc.find_perp(m as u16).map_or(0, |s| {
                    let p = acc.perps[s];
                    carry_math::perp::reduce_only_max_lots(
                        p.base_lots,
                        p.bids_base_lots,
                        p.asks_base_lots,
                        if side == 0 {
                            carry_math::perp::Side::Bid
                        } else {
                            carry_math::perp::Side::Ask
                        },
                    )
                    .unwrap()
                });
                match env.place_perp(&users[u], m, args).await {
                    Ok(()) => {
                        placed += 1;
                        if args.max_base_lots as i64 > room {
                            let (init, _) = env.health_with_perps(&keys[u]).await.unwrap();
                            assert!(!init.is_negative(), "risk added below init health");
                        }
                    }
                    Err(e) => {
                        if e.custom_code() == Some(c(CarryError::HealthBelowZero)) {
                            refused_health += 1;
                        }
                    }
                }
            }
            6 => {
                let p = env.perps[m].clone();
                let i = sdk::cancel_all_perp_orders(
                    users[u].kp.pubkey(),
                    keys[u],
                    p.market,
                    p.book,
                    2,
                    50,
                );
                env.send(&[i], &[&users[u].kp]).await.unwrap();
            }
            7 => {
                let mv = rng.below(401) as i64 - 200; // +-2%
                prices[m] += prices[m] * mv / 10_000;
                env.set_perp_price(m, prices[m]).await;
            }
            8 => {
                if env.margin(&keys[u]).await.find_perp(m as u16).is_some() {
                    env.settle_pnl(&keys[u], m).await.unwrap();
                }
            }
            _ => {
                env.warp(60).await;
                env.set_perp_price(0, prices[0]).await;
                env.set_perp_price(1, prices[1]).await;
                let i = funding_ix(&env, m);
                env.send(&[i], &[]).await.unwrap();
            }
        }
        env.consume(m, &keys, 255).await.unwrap();
        assert_eq!(env.perp_event_count(m).await, 0);
        for mi in 0..2 {
            let (mut base, mut longs) = (0i64, 0u64);
            for (i, k) in keys.iter().enumerate() {
                let acc = env.margin(k).await;
                if let Some(s) = acc.find_perp(mi as u16) {
                    let p = acc.perps[s];
                    base += p.base_lots;
                    longs += p.base_lots.max(0) as u64;
                    let bids = book_resting(&mut env, mi, k, carry_book::OrderSide::Bid).await;
                    let asks = book_resting(&mut env, mi, k, carry_book::OrderSide::Ask).await;
                    assert_eq!(
                        (p.bids_base_lots, p.asks_base_lots),
                        (bids, asks),
                        "resting counts of account {i} in market {mi}"
                    );
                }
            }
            assert_eq!(base, 0, "market {mi} base sum");
            assert_eq!(env.perp_market(mi).await.open_interest_lots, longs);
        }
        env.check_conservation(0, &keys).await;
    }
    let mut fills = 0;
    for mi in 0..2 {
        let k = env.perps[mi].book;
        let mut data = env.t.data(&k).await;
        let book = carry_book::Book::load(&mut data[carry_margin::state::PerpBook::BOOK_OFFSET..])
            .unwrap();
        fills += book.header().event_seq;
    }
    eprintln!(
        "randomized perp trading: {placed} orders placed, {refused_health} refused by health, \
         {fills} maker fills applied"
    );
    assert!(fills > 10, "fills {fills}");
    assert!(placed > 40, "placed {placed}");
    assert!(refused_health > 0, "no order was refused by health");
}

#[tokio::test]
async fn a_flat_settled_position_frees_its_slot() {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    // A buys 5 at 15_000 and sells them back at 15_000: flat, two taker fees of 3_750.
    env.place_perp(&m1, 0, limit(1, 15_000, 5)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 15_000, 5)).await.unwrap();
    env.place_perp(&m1, 0, limit(0, 15_000, 5)).await.unwrap();
    env.place_perp(&a, 0, ioc(1, 15_000, 5)).await.unwrap();
    env.consume(0, &[m1.account], 10).await.unwrap();
    let p = env.perp_slot(&a.account, 0).await;
    assert_eq!((p.base_lots, q(&p)), (0, I80F48::from_i64(7_500)));
    env.settle_pnl(&a.account, 0).await.unwrap();
    let acc = env.margin(&a.account).await;
    assert_eq!(acc.find_perp(0), None);
    assert_eq!(acc.active_perp_count(), 0);
    assert_eq!(
        env.balance(&a.account, 0).await,
        I80F48::from_i64(K_USDC as i64 - 7_500)
    );
    // m1 is flat too, with rebates 750 + 750 owed to it: the pool (7_500) pays them and its
    // slot is freed as well.
    env.settle_pnl(&m1.account, 0).await.unwrap();
    assert_eq!(env.margin(&m1.account).await.active_perp_count(), 0);
    assert_eq!(
        env.balance(&m1.account, 0).await,
        I80F48::from_i64(10 * K_USDC as i64 + 1_500)
    );
    let m = env.perp_market(0).await;
    assert_eq!((m.pnl_pool_native, m.fees_accrued_native), (6_000, 6_000));
    env.check_conservation(0, &[m1.account, a.account]).await;
}

#[tokio::test]
async fn dated_future_settles_at_the_window_average() {
    let mut env = MarginEnv::new().await;
    let now = env.now().await;
    let mut params = sdk::example_perp_market_params();
    params.expiry_ts = now + 100;
    params.settlement_window_secs = 60;
    params.settlement_min_interval_secs = 10;
    env.add_perp_market(125 * E8, params).await;
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    let p = env.perps[0].clone();
    // A buys 10 at 12_500 ticks (1_250_000 per lot): basis 12_500_000 + 6_250 fee; m1's
    // rebate 1_250. The fill stays queued for now.
    env.place_perp(&m1, 0, limit(1, 12_500, 10)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 12_500, 10)).await.unwrap();
    let sample = |env: &MarginEnv| sdk::sample_settlement_price(env.exchange, p.market, p.oracle);
    let close = |k: Pubkey| sdk::close_expired_position(p.market, p.book, k);

    // Before the window a sample records nothing; closing is refused.
    env.send(&[sample(&env)], &[]).await.unwrap();
    assert_eq!(env.perp_market(0).await.settlement_sample_count, 0);
    refused(
        &mut env,
        &[close(a.account)],
        &[],
        &[],
        CarryError::SettlementWindowOpen,
    )
    .await;
    // Samples at $125, $250 (a second one 5 s later is too soon), $375: average 2_500_000.
    for (warp, price) in [(100, 125), (20, 250), (5, 300), (20, 375)] {
        env.warp(warp).await;
        env.set_perp_price(0, price * E8).await;
        env.send(&[sample(&env)], &[]).await.unwrap();
    }
    let m = env.perp_market(0).await;
    assert_eq!(m.settlement_sample_count, 3);
    assert_eq!(m.settlement_price_sum.get(), I80F48::from_i64(7_500_000));
    // No orders once expired.
    let i = env.place_perp_ix(&a.kp.pubkey(), &a.account, 0, limit(1, 30_000, 1));
    refused(&mut env, &[i], &[&a.kp], &[], CarryError::PerpMarketExpired).await;
    env.warp(30).await; // past the window's end
    refused(
        &mut env,
        &[close(a.account)],
        &[],
        &[],
        CarryError::PerpEventsPending,
    )
    .await;
    env.consume(0, &[m1.account], 10).await.unwrap();
    carry_tests::events::install();
    env.send(&[close(a.account), close(m1.account)], &[])
        .await
        .unwrap();
    // the second close left no open interest: the market is closed
    let closes = carry_tests::events::events::<carry_margin::events::PerpExpiryCloseEvent>();
    let closes: Vec<bool> = closes
        .iter()
        .filter(|e| e.perp_market == p.market)
        .map(|e| e.market_closed)
        .collect();
    assert_eq!(closes, vec![false, true]);
    let pa = env.perp_slot(&a.account, 0).await;
    assert_eq!(
        (pa.base_lots, q(&pa)),
        (0, I80F48::from_i64(12_506_250 - 25_000_000))
    );
    let pm = env.perp_slot(&m1.account, 0).await;
    assert_eq!(
        (pm.base_lots, q(&pm)),
        (0, I80F48::from_i64(-12_501_250 + 25_000_000))
    );
    assert_eq!(env.perp_market(0).await.open_interest_lots, 0);
    // Settlement: the loser first, then the winner; the pool keeps the net fees.
    env.settle_pnl(&m1.account, 0).await.unwrap();
    env.settle_pnl(&a.account, 0).await.unwrap();
    assert_eq!(
        env.balance(&a.account, 0).await,
        I80F48::from_i64(K_USDC as i64 + 12_493_750)
    );
    assert_eq!(
        env.balance(&m1.account, 0).await,
        I80F48::from_i64(10 * K_USDC as i64 - 12_498_750)
    );
    assert_eq!(env.perp_market(0).await.pnl_pool_native, 5_000);
    env.check_conservation(0, &[m1.account, a.account]).await;
    // A perpetual has no settlement window.
    env.add_perp_market(125 * E8, sdk::example_perp_market_params())
        .await;
    let q1 = env.perps[1].clone();
    let i = sdk::sample_settlement_price(env.exchange, q1.market, q1.oracle);
    refused(&mut env, &[i], &[], &[], CarryError::NotDatedMarket).await;
}

#[tokio::test]
async fn a_fee_sweep_before_the_crank_never_blocks_the_makers_rebate() {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(125 * E8, sdk::example_perp_market_params())
        .await;
    let m1 = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    env.place_perp(&m1, 0, limit(1, 12_500, 10)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 12_500, 10)).await.unwrap();
    // A's fee (6_250) is its whole loss at the fill price: settled into the pool, then swept.
    env.settle_pnl(&a.account, 0).await.unwrap();
    let bk = env.banks[0].clone();
    let i = sdk::sweep_perp_fees(
        env.exchange,
        env.perps[0].market,
        bk.bank,
        bk.vault,
        bk.mint,
        env.insurance_vault,
    );
    env.send(&[i], &[]).await.unwrap();
    let m = env.perp_market(0).await;
    assert_eq!((m.pnl_pool_native, m.fees_accrued_native), (0, 0));
    // The maker's rebate (1_250) still applies; the fee count stays at zero.
    env.consume(0, &[m1.account], 10).await.unwrap();
    let p = env.perp_slot(&m1.account, 0).await;
    assert_eq!(q(&p), I80F48::from_i64(-12_500_000 - 1_250));
    assert_eq!(env.perp_market(0).await.fees_accrued_native, 0);
    env.check_conservation(0, &[m1.account, a.account]).await;
}

/// A margin account rests at most `carry_book::MAX_OPEN_ORDERS` orders on a market (its perp
/// slot's open-orders list): the next resting order is refused with nothing changed, an order
/// that does not rest still trades, and cancels through the list make room again.
#[tokio::test]
async fn an_account_rests_at_most_max_open_orders_a_market() {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let u = trader(&mut env, 10 * K_USDC).await;
    let mm = trader(&mut env, 10 * K_USDC).await;
    let p = env.perps[0].clone();
    let max = carry_book::MAX_OPEN_ORDERS as u64;
    for i in 0..max {
        let args = PlacePerpOrderArgs {
            client_order_id: 100 + i,
            ..limit(0, 14_000 - i, 1)
        };
        env.place_perp(&u, 0, args).await.unwrap();
    }
    let s = env.perp_slot(&u.account, 0).await;
    let listed = |acc: &carry_margin::state::MarginAccount| {
        acc.perp_open_orders[acc.find_perp(0).unwrap()].len as u64
    };
    let acc = env.margin(&u.account).await;
    assert_eq!((listed(&acc), s.bids_base_lots), (max, max as i64));
    // The next resting order: refused, account and book unchanged.
    let i = env.place_perp_ix(&u.kp.pubkey(), &u.account, 0, limit(0, 13_000, 1));
    refused(
        &mut env,
        &[i],
        &[&u.kp],
        &[u.account, p.book],
        CarryError::TooManyOpenOrders,
    )
    .await;
    // An order that does not rest still trades.
    env.place_perp(&mm, 0, limit(1, 15_000, 1)).await.unwrap();
    env.place_perp(&u, 0, ioc(0, 15_000, 1)).await.unwrap();
    assert_eq!(env.perp_slot(&u.account, 0).await.base_lots, 1);
    // A cancel by client id (found through the list) makes room for one more.
    let i = sdk::cancel_perp_order_by_client_id(u.kp.pubkey(), u.account, p.market, p.book, 105);
    env.send(&[i], &[&u.kp]).await.unwrap();
    let s = env.perp_slot(&u.account, 0).await;
    let acc = env.margin(&u.account).await;
    assert_eq!((listed(&acc), s.bids_base_lots), (max - 1, max as i64 - 1));
    env.place_perp(&u, 0, limit(0, 13_000, 1)).await.unwrap();
    // One cancel-all empties the list.
    let i = sdk::cancel_all_perp_orders(u.kp.pubkey(), u.account, p.market, p.book, 2, 255);
    env.send(&[i], &[&u.kp]).await.unwrap();
    let s = env.perp_slot(&u.account, 0).await;
    let acc = env.margin(&u.account).await;
    assert_eq!(
        (listed(&acc), s.bids_base_lots, s.asks_base_lots),
        (0, 0, 0)
    );
}
