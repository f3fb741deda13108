//! The keeper's perp cranks (`carry_sdk::keeper`) run against the in-process bank through
//! `BanksChain`: the funding crank advances the index, fill events are applied exactly once
//! with two keepers cranking at once, and RPC failures injected mid-crank (a request lost
//! before it reaches the chain, a reply lost after the transaction landed, a failed read) are
//! retried on the next run with nothing lost or applied twice. Settlement and dated-future
//! expiry are driven the same way.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use carry_math::I80F48;
use carry_sdk::client::{BanksChain, Chain, ClientError, Sent};
use carry_sdk::keeper::{self, Keeper, KeeperConfig, Tally};
use carry_sdk::margin as sdk;
use carry_tests::margin::*;
use solana_sdk::account::Account;
use solana_sdk::hash::Hash;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;
use solana_sdk::transaction::Transaction;

/// $150 per whole base (expo -8).
const SOL: i64 = 150 * E8;
/// 1,000 USDC in native units.
const K_USDC: u64 = 1_000_000_000;

/// The bank under test as a `Chain`; its banks listable (a `BanksClient` cannot list).
fn banks_chain(env: &MarginEnv) -> BanksChain {
    let c = BanksChain::new(env.t.context.banks_client.clone());
    c.track(&env.banks.iter().map(|b| b.bank).collect::<Vec<_>>());
    c
}

/// Four makers rest four 1-lot asks and three 1-lot bids each; taker A buys all 16 asks and
/// taker B sells into all 12 bids: 28 maker fills queued (the small book holds 32). Each
/// maker ends at base -1 once the crank has applied its fills.
struct Scene {
    env: MarginEnv,
    makers: Vec<User>,
    takers: Vec<User>,
}

const FILLS: u32 = 28;

async fn scene() -> Scene {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let mut makers = vec![];
    for _ in 0..4 {
        makers.push(trader(&mut env, 10 * K_USDC).await);
    }
    let a = trader(&mut env, K_USDC).await;
    let b = trader(&mut env, K_USDC).await;
    for i in 0..4u64 {
        for (k, m) in makers.iter().enumerate() {
            let k = k as u64;
            env.place_perp(m, 0, limit(1, 15_000 + 10 * i + k, 1))
                .await
                .unwrap();
            if i < 3 {
                env.place_perp(m, 0, limit(0, 14_990 - 10 * i - k, 1))
                    .await
                    .unwrap();
            }
        }
    }
    env.place_perp(&a, 0, ioc(0, 15_100, 16)).await.unwrap();
    env.place_perp(&b, 0, ioc(1, 14_900, 12)).await.unwrap();
    assert_eq!(env.perp_event_count(0).await, FILLS);
    Scene {
        env,
        makers,
        takers: vec![a, b],
    }
}

/// Every maker's position as the crank must leave it: base -1, nothing resting.
async fn assert_makers_applied_once(env: &mut MarginEnv, makers: &[User]) {
    assert_eq!(env.perp_event_count(0).await, 0, "queue drained");
    for m in makers {
        let p = env.perp_slot(&m.account, 0).await;
        assert_eq!(
            (p.base_lots, p.bids_base_lots, p.asks_base_lots),
            (-1, 0, 0),
            "maker {}",
            m.account
        );
    }
    let market = env.perp_market(0).await;
    // longs: A +16; B -12; makers -1 each: open interest is the longs' 16 lots
    assert_eq!(market.open_interest_lots, 16);
}

#[tokio::test]
async fn funding_crank_advances_the_index() {
    let mut env = MarginEnv::new().await;
    let mut params = sdk::example_perp_market_params();
    params.funding_impact_notional = 12_750_000; // 10 lots at the bid
    params.order_band_bps = 0; // a book skewed past the band, on purpose
    env.add_perp_market(125 * E8, params).await;
    let m = trader(&mut env, 10 * K_USDC).await;
    // a book skewed 2% above the oracle: longs pay
    env.place_perp(&m, 0, limit(0, 12_750, 20)).await.unwrap();
    env.place_perp(&m, 0, limit(1, 12_800, 20)).await.unwrap();
    let chain = banks_chain(&env);
    let payer = env.t.funded_keypair(1_000_000_000).await;
    let exs = [env.exchange];
    let mut t = Tally::default();
    assert!(
        keeper::funding_all(&chain, &payer, &exs, &mut t).await,
        "{t:?}"
    );
    let i0 = env.perp_market(0).await.funding_index.get();
    // the first window (an hour) sets the rate, the next half hour applies it
    for _ in 0..3 {
        env.warp(1_800).await;
        env.set_perp_price(0, 125 * E8).await;
        assert!(
            keeper::funding_all(&chain, &payer, &exs, &mut t).await,
            "{t:?}"
        );
    }
    let market = env.perp_market(0).await;
    assert_eq!((t.sent, t.failed, t.items), (4, 0, 4));
    assert!(
        market.funding_index.get() > i0,
        "index advanced: {} -> {}",
        i0,
        market.funding_index.get()
    );
    assert_eq!(
        market.funding_rate.get(),
        I80F48::from_ppm(1_000),
        "clamped"
    );

    // the whole keeper on its schedule: one forced run sends one funding crank and reports it
    let mut k = Keeper::new(KeeperConfig::default());
    env.warp(60).await;
    env.set_perp_price(0, 125 * E8).await;
    assert!(k.run_due(&chain, &payer, &exs, true).await);
    let status = k.status();
    assert!(
        status.contains("update_funding: 1 sent, 0 failed, 1 markets")
            && status.contains("consume_perp_events: 0 sent, 0 failed, 0 events")
            && status.contains("accrue_interest: 1 sent, 0 failed"),
        "{status}"
    );
    assert!(env.perp_market(0).await.funding_index.get() > market.funding_index.get());
}

#[tokio::test]
async fn fill_events_applied_exactly_once_by_two_keepers_at_once() {
    let Scene {
        mut env, makers, ..
    } = scene().await;
    let (c1, c2) = (banks_chain(&env), banks_chain(&env));
    // two keepers, two payers (their transactions never coincide)
    let k1 = env.t.funded_keypair(1_000_000_000).await;
    let k2 = env.t.funded_keypair(1_000_000_000).await;
    let exs = [env.exchange];
    let (mut t1, mut t2) = (Tally::default(), Tally::default());
    let (ok1, ok2) = tokio::join!(
        keeper::consume_all(&c1, &k1, &exs, &mut t1),
        keeper::consume_all(&c2, &k2, &exs, &mut t2)
    );
    assert!(ok1 && ok2, "{t1:?} {t2:?}");
    assert_eq!(
        t1.items + t2.items,
        FILLS as u64,
        "each event applied once: {t1:?} {t2:?}"
    );
    assert_makers_applied_once(&mut env, &makers).await;
    // a third run finds nothing to do
    let mut t3 = Tally::default();
    assert!(keeper::consume_all(&c1, &k1, &exs, &mut t3).await);
    assert_eq!((t3.sent, t3.items), (0, 0));
}

/// A chain whose sends and reads fail on chosen calls (counted from 1).
struct Flaky {
    inner: BanksChain,
    sends: AtomicUsize,
    reads: AtomicUsize,
    /// Sends refused before reaching the chain (the request was lost).
    fail_before: Vec<usize>,
    /// Sends that land, then report a failure (the reply was lost).
    fail_after: Vec<usize>,
    /// Account reads that fail.
    fail_reads: Vec<usize>,
}

impl Flaky {
    fn new(inner: BanksChain, before: &[usize], after: &[usize], reads: &[usize]) -> Flaky {
        Flaky {
            inner,
            sends: AtomicUsize::new(0),
            reads: AtomicUsize::new(0),
            fail_before: before.to_vec(),
            fail_after: after.to_vec(),
            fail_reads: reads.to_vec(),
        }
    }
}

#[async_trait]
impl Chain for Flaky {
    async fn account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_reads.contains(&n) {
            return Err(ClientError::Unreachable("injected: read failed".into()));
        }
        self.inner.account(key).await
    }
    async fn program_accounts(
        &self,
        program: &Pubkey,
        size: usize,
        memcmp: &[(usize, Vec<u8>)],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        self.inner.program_accounts(program, size, memcmp).await
    }
    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        self.inner.latest_blockhash().await
    }
    async fn send(&self, tx: Transaction) -> Result<Sent, ClientError> {
        let n = self.sends.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_before.contains(&n) {
            return Err(ClientError::Unreachable("injected: request lost".into()));
        }
        let r = self.inner.send(tx).await;
        if self.fail_after.contains(&n) {
            return Err(ClientError::Unreachable("injected: reply lost".into()));
        }
        r
    }
}

#[tokio::test]
async fn rpc_failures_mid_crank_are_retried_nothing_lost_or_doubled() {
    let Scene {
        mut env,
        makers,
        takers,
    } = scene().await;
    let payer = env.t.funded_keypair(1_000_000_000).await;
    let exs = [env.exchange];

    // consume: the first batch's request is lost, the second lands but its reply is lost
    // (24 events applied, the keeper does not know), a later book read fails; every run
    // re-reads the queue, so the next runs apply exactly the rest
    let chain = Flaky::new(banks_chain(&env), &[1], &[2], &[5]);
    let mut t = Tally::default();
    let mut runs = 0;
    while env.perp_event_count(0).await > 0 {
        runs += 1;
        assert!(runs <= 6, "crank stuck: {t:?}");
        let _ = keeper::consume_all(&chain, &payer, &exs, &mut t).await;
    }
    assert!(t.failed >= 2, "{t:?}");
    assert_makers_applied_once(&mut env, &makers).await;

    // settle: the price moves to $160 (makers short lose, A long wins); one settlement's
    // reply is lost and another's request; runs repeat until nothing is left to move
    env.set_perp_price(0, 160 * E8).await;
    let accounts: Vec<Pubkey> = makers.iter().chain(&takers).map(|u| u.account).collect();
    let banks = banks_chain(&env);
    banks.track(&accounts);
    let chain = Flaky::new(banks, &[2], &[1], &[]);
    let mut t = Tally::default();
    for _ in 0..4 {
        let _ = keeper::settle_all(&chain, &payer, &exs, 1, &mut t).await;
    }
    assert_eq!(t.failed, 2, "{t:?}");
    let market = env.perp_market(0).await;
    let snap = carry_sdk::health::snapshot_perp_markets(&chain, &[(env.perps[0].market, market)])
        .await
        .unwrap();
    let now = env.now().await;
    let price = carry_sdk::health::perp_oracle_price(&snap[0], now, 6).unwrap();
    for k in &accounts {
        let p = env.perp_slot(k, 0).await;
        let left = keeper::settleable_native(&p, &market, price, now).unwrap();
        assert_eq!(
            left, 0,
            "account {k} has {left} left to settle: {p:?} pool {}",
            market.pnl_pool_native
        );
    }
    // the makers' losses (10 x 1 lot each, from their entries) went into the pool and out to A
    for m in &makers {
        assert!(env.balance(&m.account, 0).await < I80F48::from_u64(10 * K_USDC));
    }
    assert!(env.balance(&takers[0].account, 0).await > I80F48::from_u64(K_USDC - 20_000));
    env.check_conservation(0, &accounts).await;
}

#[tokio::test]
async fn dated_future_sampled_then_positions_closed() {
    let mut env = MarginEnv::new().await;
    let now = env.now().await;
    let mut params = sdk::example_perp_market_params();
    params.expiry_ts = now + 3_600;
    params.settlement_window_secs = 600;
    params.settlement_min_interval_secs = 60;
    env.add_perp_market(SOL, params).await;
    let m = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, K_USDC).await;
    env.place_perp(&m, 0, limit(1, 15_000, 5)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 15_000, 5)).await.unwrap();
    let banks = banks_chain(&env);
    banks.track(&[m.account, a.account]);
    let payer = env.t.funded_keypair(1_000_000_000).await;
    let exs = [env.exchange];
    let mut t = Tally::default();
    // before expiry: nothing to sample or close; the event crank applies the maker's fill
    assert!(
        keeper::expiry_all(&banks, &payer, &exs, &mut t).await,
        "{t:?}"
    );
    assert_eq!(t.sent, 0);
    assert!(keeper::consume_all(&banks, &payer, &exs, &mut Tally::default()).await);
    // the funding crank steps a dated future's stable price instead (it pays no funding)
    env.warp(120).await;
    let ts = env.perp_market(0).await.stable_price_ts;
    let mut tf = Tally::default();
    assert!(
        keeper::funding_all(&banks, &payer, &exs, &mut tf).await,
        "{tf:?}"
    );
    assert_eq!((tf.sent, tf.items), (1, 1));
    assert_eq!(env.perp_market(0).await.stable_price_ts, ts + 120);
    // inside the window: one sample per run at most every 60 s
    env.warp(3_600).await;
    for _ in 0..3 {
        assert!(
            keeper::expiry_all(&banks, &payer, &exs, &mut t).await,
            "{t:?}"
        );
        env.warp(100).await;
    }
    assert_eq!(env.perp_market(0).await.settlement_sample_count, 3);
    env.warp(600).await;
    assert!(
        keeper::expiry_all(&banks, &payer, &exs, &mut t).await,
        "{t:?}"
    );
    assert_eq!(t.items, 5, "3 samples, 2 closes: {t:?}");
    for u in [&m, &a] {
        assert_eq!(env.perp_slot(&u.account, 0).await.base_lots, 0);
    }
    assert_eq!(env.perp_market(0).await.open_interest_lots, 0);
    // a second run has nothing left to do
    let mut t2 = Tally::default();
    assert!(keeper::expiry_all(&banks, &payer, &exs, &mut t2).await);
    assert_eq!(t2.sent, 0);
}

/// The liquidation crank: an account pushed below maintenance by an oracle move is brought
/// back (just enough) by one keeper tick through the keeper's own margin account; a second
/// tick finds nothing to do; after a crash the rest of the account's
/// position is auto-deleveraged against the maker's profitable short at the bankruptcy price
/// (insurance fund empty) within a few ticks. Liquidation runs while the exchange is paused.
#[tokio::test]
async fn liquidation_crank_brings_accounts_back_and_resolves_bankruptcy() {
    let mut env = MarginEnv::new().await;
    let admin = env.admin.insecure_clone();
    let usdc_params = carry_margin::BankParams {
        init_asset_weight_ppm: 1_000_000,
        maint_asset_weight_ppm: 1_000_000,
        init_liab_weight_ppm: 1_000_000,
        maint_liab_weight_ppm: 1_000_000,
        ..default_params()
    };
    let i = env.edit_bank_ix(&admin.pubkey(), 0, usdc_params);
    env.send(&[i], &[]).await.unwrap();
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let m = trader(&mut env, 10 * K_USDC).await;
    let a = trader(&mut env, 20_000_000).await;
    let keeper_user = trader(&mut env, K_USDC).await; // the keeper's margin account 0
    env.place_perp(&m, 0, limit(1, 15_000, 1_000))
        .await
        .unwrap();
    env.place_perp(&a, 0, ioc(0, 15_000, 1_000)).await.unwrap();
    env.consume(0, &[m.account], 10).await.unwrap();
    let chain = banks_chain(&env);
    chain.track(&[m.account, a.account, keeper_user.account]);
    let exs = [env.exchange];
    let payer = keeper_user.kp.insecure_clone();
    let mut t = Tally::default();

    // healthy: nothing to do
    assert!(keeper::liquidate_all(&chain, &payer, 0, &exs, &mut t).await);
    assert_eq!(t.items, 0);
    // -1%: below maintenance; one tick brings it back, while paused
    let i = env.set_paused_ix(&admin.pubkey(), true);
    env.send(&[i], &[]).await.unwrap();
    env.set_perp_price(0, SOL / 100 * 99).await;
    let (_, maint) = env.health_with_perps(&a.account).await.unwrap();
    assert!(maint.is_negative());
    assert!(
        keeper::liquidate_all(&chain, &payer, 0, &exs, &mut t).await,
        "{t:?}"
    );
    assert_eq!(t.items, 1, "{t:?}");
    let (_, maint) = env.health_with_perps(&a.account).await.unwrap();
    assert!(!maint.is_negative(), "back above maintenance: {maint}");
    let taken = env.perp_slot(&keeper_user.account, 0).await.base_lots;
    assert!(taken > 0 && taken < 1_000, "just enough: {taken}");
    assert!(keeper::liquidate_all(&chain, &payer, 0, &exs, &mut t).await);
    assert_eq!(t.items, 1, "a second tick does nothing");

    // -30%: underwater beyond the (empty) insurance fund: the keeper deleverages the rest of
    // the position against the maker's short at the bankruptcy price
    carry_tests::events::install();
    env.set_perp_price(0, SOL / 10 * 7).await;
    let mut ticks = 0;
    while ticks < 4 {
        ticks += 1;
        keeper::liquidate_all(&chain, &payer, 0, &exs, &mut t).await;
        let acc = env.margin(&a.account).await;
        if acc.find_perp(0).is_none() && !env.balance(&a.account, 0).await.is_negative() {
            break;
        }
    }
    let acc = env.margin(&a.account).await;
    assert!(
        acc.find_perp(0).is_none(),
        "position gone after {ticks} ticks"
    );
    assert!(
        !env.balance(&a.account, 0).await.is_negative(),
        "bankruptcy resolved after {ticks} ticks: {t:?}"
    );
    let adl: Vec<_> = carry_tests::events::events::<carry_margin::events::AutoDeleverageEvent>()
        .into_iter()
        .filter(|e| e.bankrupt == a.account)
        .collect();
    assert!(
        !adl.is_empty() && adl[0].account == m.account,
        "auto-deleveraged against the maker: {t:?}"
    );
    assert!(
        adl[0].price_bits > adl[0].oracle_price_bits,
        "above the oracle"
    );
    env.check_conservation(0, &[m.account, a.account, keeper_user.account])
        .await;
    eprintln!("liquidation crank: {t:?} ({ticks} ticks after the crash)");
}
