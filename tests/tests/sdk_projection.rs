//! The SDK's order-size projection (`carry_sdk::health::max_order_lots`) against the chain's
//! own refusal: on several accounts (USDC only; a long position with the reducing side; SOL
//! collateral), an order of the projected size is accepted and one lot more is refused with
//! `HealthBelowZero`, nothing changed.

use carry_margin::error::CarryError;
use carry_margin::PlacePerpOrderArgs;
use carry_sdk::client::BanksChain;
use carry_sdk::health::{self, OrderFill, ProjectedOrder};
use carry_sdk::margin as sdk;
use carry_tests::margin::*;

/// $150 per whole base (expo -8): 15_000 ticks per lot.
const SOL: i64 = 150 * E8;
/// 1,000 USDC in native units.
const K_USDC: u64 = 1_000_000_000;

/// The projection for `u` on market 0, from the chain's accounts now.
async fn projected(env: &mut MarginEnv, u: &User, side: u8, price_ticks: u64) -> u64 {
    let chain = BanksChain::new(env.t.context.banks_client.clone());
    let mut banks = vec![];
    for i in 0..env.banks.len() {
        banks.push((env.banks[i].bank, env.bank(i).await));
    }
    let market = (env.perps[0].market, env.perp_market(0).await);
    let bs = health::snapshot_banks(&chain, &banks).await.unwrap();
    let ps = health::snapshot_perp_markets(&chain, &[market])
        .await
        .unwrap();
    let acc = env.margin(&u.account).await;
    let now = env.now().await;
    let order = ProjectedOrder {
        market: market.0,
        side,
        lots: 0,
        price_ticks,
        fill: OrderFill::Resting,
    };
    health::max_order_lots(&acc, USDC_DECIMALS, (&bs, &ps), &order, now).unwrap()
}

/// The projected size passes, one lot more is refused by health (and changes nothing).
async fn boundary(env: &mut MarginEnv, u: &User, side: u8, price_ticks: u64) -> u64 {
    let max = projected(env, u, side, price_ticks).await;
    assert!(max > 0, "some size fits");
    let before = env.snapshot(&[u.account, env.perps[0].book]).await;
    let r = env
        .place_perp(u, 0, post_only(side, price_ticks, max + 1))
        .await;
    carry_tests::assert_error(r, code(CarryError::HealthBelowZero));
    assert_eq!(env.snapshot(&[u.account, env.perps[0].book]).await, before);
    env.place_perp(u, 0, post_only(side, price_ticks, max))
        .await
        .expect("the projected size is accepted");
    max
}

#[tokio::test]
async fn max_order_size_is_the_chains_refusal_boundary() {
    let mut env = MarginEnv::new().await;
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let sol_bank = env.add_bank(9, SOL, default_params()).await;

    // 1. USDC only: a bid below the oracle
    let a = env.user(K_USDC).await;
    env.deposit(&a, 0, K_USDC).await.unwrap();
    let n = boundary(&mut env, &a, 0, 14_000).await;
    // 1,000 USDC at 1% initial margin of $1.40 a lot (0.01 SOL), less the orders' worse side
    assert!(n > 40_000 && n < 72_000, "{n}");

    // 2. a long position: its asks reduce first (no health check), beyond that they add a
    //    short; and its bids add to the long
    let m = env.user(10 * K_USDC).await;
    env.deposit(&m, 0, 10 * K_USDC).await.unwrap();
    let b = env.user(K_USDC / 2).await;
    env.deposit(&b, 0, K_USDC / 2).await.unwrap();
    env.place_perp(&m, 0, sdk::limit_order_args(1, 15_000, 100))
        .await
        .unwrap();
    let ioc = PlacePerpOrderArgs {
        order_kind: 3,
        ..sdk::limit_order_args(0, 15_000, 100)
    };
    env.place_perp(&b, 0, ioc).await.unwrap();
    env.consume(0, &[m.account], 10).await.unwrap();
    assert_eq!(env.perp_slot(&b.account, 0).await.base_lots, 100);
    boundary(&mut env, &b, 1, 15_500).await;
    boundary(&mut env, &b, 0, 14_500).await;

    // 3. SOL collateral only (80% initial weight): an ask above the oracle
    let c = env.user(0).await;
    let sol = env.banks[sol_bank].mint;
    env.t.mint_to(&sol, &c.wallet(&sol), 10_000_000_000).await;
    env.deposit(&c, sol_bank, 10_000_000_000).await.unwrap();
    let n = boundary(&mut env, &c, 1, 16_000).await;
    // 10 SOL x $150 x 0.8 = $1,200 at 1% of $1.50-1.60 a lot
    assert!(n > 40_000 && n < 80_000, "{n}");
}
