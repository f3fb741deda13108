//! Liquidation (issue 19): perp and token liquidation "just enough", the order cancel step,
//! bankruptcy through the insurance fund, auto-deleveraging and socialized loss, with every
//! refusal named and nothing changed.
//!
//! Market: the SDK's example perp (lots of 0.01 base, ticks of 100 quote native per lot, 100x
//! first tier: 1% initial, 0.5% maintenance; liquidation fee half the maintenance ratio, a fifth
//! of it to the insurance fund), oracle at $150: 15_000 ticks = 1.5 USDC per lot.

use carry_margin::error::CarryError;
use carry_margin::events::{
    AutoDeleverageEvent, BankruptcyEvent, InsuranceDepositEvent, PerpLiquidationEvent,
    PerpSocializedLossEvent, PerpSocializedLossPaidEvent, PerpStablePriceEvent,
    TokenLiquidationEvent,
};
use carry_math::health::HealthType;
use carry_math::liquidation::target_health_scaled;
use carry_math::I80F48;
use carry_sdk::margin as sdk;
use carry_tests::events;
use carry_tests::margin::*;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

const SOL: i64 = 150 * E8;
const USDC: u64 = 1_000_000;
/// The exchange's default buffer.
const BUFFER: u32 = carry_margin::state::DEFAULT_LIQUIDATION_BUFFER_PPM;

/// Events of type `T` that `keep` selects (tests of this binary run in parallel and share the
/// recorded list: select by keys unique to the test).
fn evs<T: anchor_lang::AnchorDeserialize + anchor_lang::Discriminator>(
    keep: impl Fn(&T) -> bool,
) -> Vec<T> {
    events::events::<T>()
        .into_iter()
        .filter(|e| keep(e))
        .collect()
}

async fn target(env: &mut MarginEnv, account: &Pubkey) -> I80F48 {
    let (init, maint) = env.health_with_perps(account).await.unwrap();
    target_health_scaled(init, maint, BUFFER).unwrap()
}

/// Perp scene: maker `m` (10,000 USDC) sold 1,000 lots at $150 to `a` (20 USDC, close to its
/// initial limit); liquidator `l` holds 1,000 USDC. The oracle is then at `price`.
struct PerpScene {
    env: MarginEnv,
    m: User,
    a: User,
    l: User,
}

/// The settlement token at full value (weights 1), as a real listing sets it.
fn usdc_params() -> carry_margin::BankParams {
    carry_margin::BankParams {
        init_asset_weight_ppm: 1_000_000,
        maint_asset_weight_ppm: 1_000_000,
        init_liab_weight_ppm: 1_000_000,
        maint_liab_weight_ppm: 1_000_000,
        ..default_params()
    }
}

async fn perp_scene(price: i64) -> PerpScene {
    let mut env = MarginEnv::new().await;
    let admin = env.admin.pubkey();
    let i = env.edit_bank_ix(&admin, 0, usdc_params());
    env.send(&[i], &[]).await.unwrap();
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let m = trader(&mut env, 10_000 * USDC).await;
    let a = trader(&mut env, 20 * USDC).await;
    let l = trader(&mut env, 1_000 * USDC).await;
    env.place_perp(&m, 0, limit(1, 15_000, 1_000))
        .await
        .unwrap();
    env.place_perp(&a, 0, ioc(0, 15_000, 1_000)).await.unwrap();
    env.consume(0, &[m.account], 10).await.unwrap();
    env.set_perp_price(0, price).await;
    PerpScene { env, m, a, l }
}

fn all_keys(s: &PerpScene) -> Vec<Pubkey> {
    vec![s.m.account, s.a.account, s.l.account]
}

async fn base_sum_zero(env: &mut MarginEnv, keys: &[Pubkey]) {
    let mut sum = 0i64;
    let mut longs = 0u64;
    for k in keys {
        let acc = env.margin(k).await;
        if let Some(s) = acc.find_perp(0) {
            sum += acc.perps[s].base_lots;
            longs += acc.perps[s].base_lots.max(0) as u64;
        }
    }
    assert_eq!(sum, 0, "base positions sum to zero");
    assert_eq!(env.perp_market(0).await.open_interest_lots, longs);
}

#[tokio::test]
async fn perp_liquidation_takes_just_enough_and_refusals_change_nothing() {
    let mut s = perp_scene(SOL).await;
    let (a, l) = (s.a.account, s.l.account);
    // Healthy: refused, nothing changes.
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    let lkp = s.l.kp.insecure_clone();
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::NotLiquidatable)
        .await;
    let i = s.env.liquidate_orders_ix(&a, 0, 10);
    s.env
        .refused(&[i], &[], &[], CarryError::NotLiquidatable)
        .await;

    // A rests an ask, then the price falls 1%: maintenance health < 0.
    s.env
        .place_perp(&s.a, 0, limit(1, 16_000, 10))
        .await
        .unwrap();
    s.env.set_perp_price(0, SOL / 100 * 99).await;
    let (_, maint) = s.env.health_with_perps(&a).await.unwrap();
    assert!(maint.is_negative(), "maint {maint}");

    // Negative cases, each named with nothing changed.
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::LiquidateeHasOpenOrders)
        .await;
    let i = s.env.liquidate_perp_ix(&s.l, &l, 0, u64::MAX);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::SelfLiquidation)
        .await;
    let mkp = s.m.kp.insecure_clone();
    let mut i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    i.accounts[0].pubkey = mkp.pubkey(); // signer is not the liquidator's owner
    s.env
        .refused(&[i], &[&mkp], &[], CarryError::NotOwnerOrDelegate)
        .await;
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, 0);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::ZeroAmount)
        .await;
    let mut i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    i.accounts[5].pubkey = s.env.banks[0].oracle; // not the market's oracle
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::OracleMismatch)
        .await;

    // Cancel the ask through the liquidation step.
    let i = s.env.liquidate_orders_ix(&a, 0, 10);
    s.env.send(&[i], &[]).await.unwrap();
    assert_eq!(s.env.perp_slot(&a, 0).await.asks_base_lots, 0);

    // Stale oracle: refused.
    s.env.t.warp_seconds(120).await;
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::OracleStale)
        .await;
    s.env.refresh_oracles().await;

    // A liquidator without margin for the position it takes: refused.
    let poor = trader(&mut s.env, USDC / 100).await;
    let pkp = poor.kp.insecure_clone();
    let i = s.env.liquidate_perp_ix(&poor, &a, 0, u64::MAX);
    s.env
        .refused(&[i], &[&pkp], &[], CarryError::LiquidatorUnhealthy)
        .await;

    // Liquidation keeps working while the exchange is paused and the market reduce-only.
    let admin = s.env.admin.insecure_clone();
    let i = s.env.set_paused_ix(&admin.pubkey(), true);
    s.env.send(&[i], &[]).await.unwrap();
    let mut params = sdk::example_perp_market_params();
    params.mode = 1;
    let i = s.env.edit_perp_market_ix(&admin.pubkey(), 0, params);
    s.env.send(&[i], &[]).await.unwrap();

    events::install();
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    s.env.send(&[i], &[&lkp]).await.unwrap();
    let ev = evs::<PerpLiquidationEvent>(|e| e.liquidatee == a);
    let ev = ev.last().expect("liquidation event");
    let q = ev.base_lots;
    assert!(q > 0 && q < 1_000, "partial: {q} lots");
    assert_eq!(ev.max_base_lots, u64::MAX, "request clamped, not refused");
    assert!(I80F48::from_bits(ev.target_after_bits) >= I80F48::ZERO);
    // After: target health >= 0 on chain, positions moved by q, zero-sum, conservation.
    let t_after = target(&mut s.env, &a).await;
    assert!(!t_after.is_negative(), "target after {t_after}");
    assert_eq!(s.env.perp_slot(&a, 0).await.base_lots, 1_000 - q as i64);
    assert_eq!(s.env.perp_slot(&l, 0).await.base_lots, q as i64);
    let mut keys = all_keys(&s);
    keys.push(poor.account);
    base_sum_zero(&mut s.env, &keys).await;
    s.env.check_conservation(0, &keys).await;
    let market = s.env.perp_market(0).await;
    assert!(market.fees_accrued_native >= ev.insurance_fee_native);
    assert!(ev.insurance_fee_native > 0);
    let (liqor_init, _) = s.env.health_with_perps(&l).await.unwrap();
    assert!(!liqor_init.is_negative());
    // No longer liquidatable.
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::NotLiquidatable)
        .await;

    // Just enough: in the same scene, one lot less does not reach the target.
    let mut s2 = perp_scene(SOL).await;
    s2.env.set_perp_price(0, SOL / 100 * 99).await;
    let l2kp = s2.l.kp.insecure_clone();
    let i = s2.env.liquidate_perp_ix(&s2.l, &s2.a.account, 0, q - 1);
    s2.env.send(&[i], &[&l2kp]).await.unwrap();
    let a2 = s2.a.account;
    assert_eq!(
        s2.env.perp_slot(&a2, 0).await.base_lots,
        1_000 - (q as i64 - 1)
    );
    let t2 = target(&mut s2.env, &a2).await;
    assert!(t2.is_negative(), "one lot less leaves target {t2} >= 0");
    eprintln!(
        "perp liquidation: {q} of 1000 lots at oracle $148.50, liquidator discount {} ppm, \
         insurance fee {} native",
        ev.liquidator_fee_ppm, ev.insurance_fee_native
    );
}

#[tokio::test]
async fn token_liquidation_takes_just_enough_collateral() {
    async fn scene() -> (MarginEnv, User, User, User) {
        let mut env = MarginEnv::new().await;
        env.add_bank(9, SOL, default_params()).await;
        let lender = env.user(10_000 * USDC).await;
        env.deposit(&lender, 0, 10_000 * USDC).await.unwrap();
        let a = env.user(1_000_000_000).await;
        env.deposit(&a, 1, 1_000_000_000).await.unwrap(); // 1 SOL
        env.withdraw(&a, 0, 99 * USDC, true).await.unwrap(); // init 120 - 118.8 >= 0
        let l = env.user(1_000 * USDC).await;
        env.deposit(&l, 0, 1_000 * USDC).await.unwrap();
        env.set_price(1, 120 * E8).await; // maint 108 - 108.9 < 0
        (env, a, l, lender)
    }
    let (mut env, a, l, lender) = scene().await;
    let lkp = l.kp.insecure_clone();
    let (_, maint) = env.health(&a.account).await.unwrap();
    assert!(maint.is_negative());
    // refusals
    let i = env.liquidate_token_ix(&l, &a.account, 0, 0, u64::MAX);
    env.refused(&[i], &[&lkp], &[], CarryError::SameBank).await;
    let i = env.liquidate_token_ix(&l, &a.account, 1, 0, u64::MAX);
    env.refused(&[i], &[&lkp], &[], CarryError::NoLiabilityToLiquidate)
        .await;
    let i = env.liquidate_token_ix(&l, &l.account, 0, 1, u64::MAX);
    env.refused(&[i], &[&lkp], &[], CarryError::SelfLiquidation)
        .await;
    let i = env.liquidate_token_ix(&l, &a.account, 0, 1, 0);
    env.refused(&[i], &[&lkp], &[], CarryError::ZeroAmount)
        .await;
    let mut i = env.liquidate_token_ix(&l, &a.account, 0, 1, u64::MAX);
    i.accounts[5].pubkey = env.banks[1].oracle; // the asset's oracle as the liability's
    env.refused(&[i], &[&lkp], &[], CarryError::OracleMismatch)
        .await;
    events::install();
    let i = env.liquidate_token_ix(&l, &a.account, 0, 1, u64::MAX);
    env.send(&[i], &[&lkp]).await.unwrap();
    let ev = evs::<TokenLiquidationEvent>(|e| e.liquidatee == a.account);
    let ev = ev.last().unwrap();
    let x = ev.liab_native;
    assert!(x > 0 && x < 99 * USDC, "partial repay {x}");
    // 5% bonus: the asset paid is worth 1.05 x the repaid debt at $120
    let worth = ev.asset_native as u128 * 120 / 1_000; // SOL native (9 dp) -> USDC native
    assert!(worth <= x as u128 * 105 / 100 && worth + 2 >= x as u128 * 105 / 100);
    let (init, maint) = env.health(&a.account).await.unwrap();
    assert!(!target_health_scaled(init, maint, BUFFER)
        .unwrap()
        .is_negative());
    let keys = [a.account, l.account, lender.account];
    env.check_conservation(0, &keys).await;
    env.check_conservation(1, &keys).await;
    // one unit less is not enough (same scene again)
    let (mut env2, a2, l2, _) = scene().await;
    let l2kp = l2.kp.insecure_clone();
    let i = env2.liquidate_token_ix(&l2, &a2.account, 0, 1, x - 1);
    env2.send(&[i], &[&l2kp]).await.unwrap();
    let (init, maint) = env2.health(&a2.account).await.unwrap();
    assert!(target_health_scaled(init, maint, BUFFER)
        .unwrap()
        .is_negative());
    // stale oracle: refused
    env.t.warp_seconds(120).await;
    let i = env.liquidate_token_ix(&l, &a.account, 0, 1, u64::MAX);
    env.refused(&[i], &[&lkp], &[], CarryError::OracleStale)
        .await;
    eprintln!(
        "token liquidation: repaid {x} USDC native of 100 USDC for {} SOL native",
        ev.asset_native
    );
}

/// A bankrupt account: `a` long 1,000 lots with 20 USDC, the oracle crashes 30%, `l` takes the
/// whole position, `a`'s loss is settled into a USDC borrow. Returns the deficit.
async fn bankrupt_scene() -> (PerpScene, u64) {
    let mut s = perp_scene(SOL).await;
    s.env.set_perp_price(0, SOL / 10 * 7).await;
    let lkp = s.l.kp.insecure_clone();
    let a = s.a.account;
    let i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    s.env.send(&[i], &[&lkp]).await.unwrap();
    let acc = s.env.margin(&a).await;
    assert!(acc.find_perp(0).is_none(), "position gone and settled");
    let bal = s.env.balance(&a, 0).await;
    assert!(bal.is_negative(), "a owes {bal}");
    let deficit = bal
        .checked_neg()
        .unwrap()
        .to_u64(carry_math::Round::Ceil)
        .unwrap();
    (s, deficit)
}

#[tokio::test]
async fn bankruptcy_is_covered_by_the_insurance_fund() {
    let (mut s, deficit) = bankrupt_scene().await;
    let a = s.a.account;
    // not bankrupt: refused
    let i = s.env.resolve_ix(&s.m.account, 0, None);
    s.env.refused(&[i], &[], &[], CarryError::NotBankrupt).await;
    // the fund pays it all
    let payer = s.env.user(1_000 * USDC).await;
    let pkp = payer.kp.insecure_clone();
    events::install();
    let i = s.env.deposit_insurance_ix(&payer, 1_000 * USDC);
    s.env.send(&[i], &[&pkp]).await.unwrap();
    let dep = evs::<InsuranceDepositEvent>(|e| e.depositor == pkp.pubkey());
    assert_eq!(dep.last().unwrap().balance_after, 1_000 * USDC);
    let i = s.env.resolve_ix(&a, 0, None);
    s.env.send(&[i], &[]).await.unwrap();
    let ev = evs::<BankruptcyEvent>(|e| e.account == a);
    let ev = ev.last().unwrap();
    assert_eq!(ev.deficit_native, deficit);
    assert_eq!(
        (
            ev.insurance_native,
            ev.market_socialized_native,
            ev.socialized_native
        ),
        (deficit, 0, 0)
    );
    assert_eq!(ev.insurance_after_native, 1_000 * USDC - deficit);
    let ins = s.env.insurance_vault;
    assert_eq!(s.env.tokens(&ins).await, 1_000 * USDC - deficit);
    // the SDK reads the same balance
    let chain = carry_sdk::client::BanksChain::new(s.env.t.context.banks_client.clone());
    let sdk_balance = carry_sdk::liquidation::insurance_balance(&chain, &s.env.exchange)
        .await
        .unwrap();
    assert_eq!(sdk_balance, 1_000 * USDC - deficit);
    assert!(!s.env.balance(&a, 0).await.is_negative());
    let keys = all_keys(&s);
    s.env.check_conservation(0, &keys).await;
    base_sum_zero(&mut s.env, &keys).await;
}

/// ADL scene: the perp scene plus `b` (300 USDC) short 500 lots from $150 to `c` (2,000 USDC),
/// then a 30% crash: `a` (long 1,000 on 20 USDC) is underwater by about 430 USDC; `b` (short,
/// 5% of its entry per dollar and leveraged about 1.3x) outranks the maker `m` (short 1,000 on
/// 10,000 USDC, leverage 0.1x); `c` is long (same side as `a`).
struct AdlScene {
    s: PerpScene,
    b: User,
    c: User,
}

async fn adl_scene() -> AdlScene {
    let mut s = perp_scene(SOL).await;
    let b = trader(&mut s.env, 300 * USDC).await;
    let c = trader(&mut s.env, 2_000 * USDC).await;
    s.env
        .place_perp(&b, 0, limit(1, 15_000, 500))
        .await
        .unwrap();
    s.env.place_perp(&c, 0, ioc(0, 15_000, 500)).await.unwrap();
    s.env.consume(0, &[b.account], 10).await.unwrap();
    s.env.set_perp_price(0, SOL / 10 * 7).await;
    AdlScene { s, b, c }
}

#[tokio::test]
async fn auto_deleverage_closes_the_bankrupt_position_at_the_bankruptcy_price() {
    let AdlScene { mut s, b, c } = adl_scene().await;
    let (a, m) = (s.a.account, s.m.account);
    let (b, c) = (b.account, c.account);
    let keys = vec![m, a, s.l.account, b, c];
    let terms = s.env.terms(&a).await;
    assert!(terms.health(HealthType::Maint).unwrap().is_negative());
    let equity = terms.equity().unwrap();
    let deficit = carry_sdk::liquidation::deficit_beyond_fund(&terms, 0)
        .unwrap()
        .expect("underwater, fund empty");
    assert_eq!(deficit, equity.checked_neg().unwrap());
    // the SDK ranks b above the maker, and leaves c (same side) out
    let ranked = s.env.adl_ranked(&a, 0, &keys).await;
    let order: Vec<Pubkey> = ranked.iter().map(|r| r.key).collect();
    assert_eq!(order, vec![b, m], "{ranked:?}");
    assert!(ranked[0].score > ranked[1].score);

    // refusals, each leaving every account as it was
    let watched = keys.clone();
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[m, b]);
    s.env
        .refused(&[i], &[], &watched, CarryError::AdlRankOrder)
        .await;
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[b, c]);
    s.env
        .refused(&[i], &[], &watched, CarryError::AdlCandidateInvalid)
        .await;
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[a]);
    s.env
        .refused(&[i], &[], &watched, CarryError::AdlCandidateInvalid)
        .await;
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[]);
    s.env
        .refused(&[i], &[], &watched, CarryError::NothingToDeleverage)
        .await;
    let i = s.env.adl_ix(&a, 0, 0, &[b, m]);
    s.env
        .refused(&[i], &[], &watched, CarryError::ZeroAmount)
        .await;
    let i = s.env.adl_ix(&m, 0, u64::MAX, &[b]);
    s.env
        .refused(&[i], &[], &watched, CarryError::NotLiquidatable)
        .await;
    let mut i = s.env.adl_ix(&a, 0, u64::MAX, &[b, m]);
    i.accounts[5].pubkey = s.env.banks[0].vault;
    s.env
        .refused(&[i], &[], &watched, CarryError::InsuranceVaultMismatch)
        .await;
    let mut i = s.env.adl_ix(&a, 0, u64::MAX, &[b, m]);
    i.accounts[3].pubkey = s.env.banks[0].oracle;
    s.env
        .refused(&[i], &[], &watched, CarryError::OracleMismatch)
        .await;
    // health pairs missing the market: the program cannot value the account
    let mut i = s.env.adl_ix(&a, 0, u64::MAX, &[b, m]);
    let n = s.env.banks.len() * 2;
    i.accounts.drain(6 + n..6 + n + 2);
    i.data[16] -= 2; // health_accounts
    s.env
        .refused(&[i], &[], &watched, CarryError::HealthAccountsMismatch)
        .await;
    // stale oracle
    s.env.t.warp_seconds(3_600).await;
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[b, m]);
    s.env
        .refused(&[i], &[], &watched, CarryError::OracleStale)
        .await;
    s.env.refresh_oracles().await;
    s.env.set_perp_price(0, SOL / 10 * 7).await;

    // b first, then the maker, both at the bankruptcy price
    let oracle = I80F48::from_i64(SOL / 10 * 7 / 10_000);
    let before: Vec<_> = {
        let mut v = vec![];
        for k in [b, m] {
            v.push(s.env.perp_slot(&k, 0).await.position());
        }
        v
    };
    events::install();
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[b, m]);
    s.env.send(&[i], &[]).await.unwrap();
    let evs_a = evs::<AutoDeleverageEvent>(|e| e.bankrupt == a);
    assert_eq!(evs_a.len(), 2);
    assert_eq!((evs_a[0].account, evs_a[1].account), (b, m));
    assert_eq!(evs_a[0].base_lots + evs_a[1].base_lots, 1_000);
    assert_eq!(evs_a[0].base_lots, 500, "b closes all it holds");
    let price = I80F48::from_bits(evs_a[0].price_bits);
    let deficit_now = I80F48::from_bits(evs_a[0].deficit_bits);
    // the program's oracle per lot (the Pyth price converted), within a unit of the test's
    let oracle_ev = I80F48::from_bits(evs_a[0].oracle_price_bits);
    assert!(
        oracle_ev
            .checked_sub(oracle)
            .unwrap()
            .checked_abs()
            .unwrap()
            < I80F48::ONE
    );
    let oracle = oracle_ev;
    assert_eq!(
        price,
        carry_math::liquidation::bankruptcy_price(oracle, 1_000, deficit_now).unwrap()
    );
    assert!(price > oracle, "a long is closed above the oracle");
    // each gave up exactly lots * (price - oracle) against the oracle, less than its profit
    let mut absorbed = I80F48::ZERO;
    for (k, (e, pos)) in [b, m].iter().zip(evs_a.iter().zip(before.iter())) {
        let after = s.env.perp_slot(k, 0).await.position();
        let lost = pos
            .unrealized_pnl(oracle)
            .unwrap()
            .checked_sub(after.unrealized_pnl(oracle).unwrap())
            .unwrap();
        let expect = price
            .checked_sub(oracle)
            .unwrap()
            .checked_mul_int(e.base_lots as i64)
            .unwrap();
        assert_eq!(lost, expect);
        assert_eq!(I80F48::from_bits(e.absorbed_bits), expect);
        assert!(lost < pos.unrealized_pnl(oracle).unwrap());
        absorbed = absorbed.checked_add(lost).unwrap();
    }
    assert!(absorbed >= deficit_now, "the deficit is absorbed");
    assert!(
        absorbed.checked_sub(deficit_now).unwrap() < I80F48::ONE,
        "to within the rounding of the price"
    );
    // a is flat with its PnL settled: equity back at zero, nothing owed beyond a unit
    let acc = s.env.margin(&a).await;
    assert!(acc.find_perp(0).is_none());
    let bal = s.env.balance(&a, 0).await;
    assert!(
        bal > I80F48::from_i64(-1) && bal < I80F48::ONE,
        "a's balance {bal}"
    );
    base_sum_zero(&mut s.env, &keys).await;
    s.env.check_conservation(0, &keys).await;
    // nothing left to deleverage
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[m]);
    s.env
        .refused(&[i], &[], &[], CarryError::NotLiquidatable)
        .await;
}

#[tokio::test]
async fn auto_deleverage_waits_for_the_insurance_fund_and_stops_at_the_profit() {
    // below maintenance but not underwater (20 USDC on a 1% loss of 1,500): liquidate instead
    let mut s = perp_scene(SOL / 100 * 99).await;
    let a = s.a.account;
    assert!(s.env.health_with_perps(&a).await.unwrap().1.is_negative());
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[s.m.account]);
    s.env
        .refused(&[i], &[], &[], CarryError::EquityNotNegative)
        .await;

    // a fund that covers the deficit: liquidate instead
    let AdlScene { mut s, b, .. } = adl_scene().await;
    let a = s.a.account;
    let payer = s.env.user(1_000 * USDC).await;
    let pkp = payer.kp.insecure_clone();
    let i = s.env.deposit_insurance_ix(&payer, 1_000 * USDC);
    s.env.send(&[i], &[&pkp]).await.unwrap();
    let i = s.env.adl_ix(&a, 0, u64::MAX, &[b.account, s.m.account]);
    s.env
        .refused(&[i], &[], &[], CarryError::InsuranceCoversDeficit)
        .await;

    // a fund of 100 USDC: ADL absorbs the deficit beyond it, and only b, a few lots at a
    // time, when b alone is passed with a small limit
    let AdlScene { mut s, b, c } = adl_scene().await;
    let a = s.a.account;
    let payer = s.env.user(100 * USDC).await;
    let pkp = payer.kp.insecure_clone();
    let i = s.env.deposit_insurance_ix(&payer, 100 * USDC);
    s.env.send(&[i], &[&pkp]).await.unwrap();
    let equity = s.env.terms(&a).await.equity().unwrap();
    events::install();
    let i = s.env.adl_ix(&a, 0, 200, &[b.account]);
    s.env.send(&[i], &[]).await.unwrap();
    let e = evs::<AutoDeleverageEvent>(|e| e.bankrupt == a);
    let e = e.last().unwrap();
    assert_eq!(e.base_lots, 200, "limited by max_base_lots");
    assert_eq!(
        I80F48::from_bits(e.deficit_bits),
        equity
            .checked_neg()
            .unwrap()
            .checked_sub(I80F48::from_u64(100 * USDC))
            .unwrap(),
        "the deficit beyond the fund"
    );
    assert_eq!(s.env.perp_slot(&a, 0).await.base_lots, 800);
    let keys = vec![s.m.account, a, s.l.account, b.account, c.account];
    base_sum_zero(&mut s.env, &keys).await;
}

#[tokio::test]
async fn bankruptcy_falls_to_the_market_positions_then_the_depositors() {
    // Fund 100 USDC; the rest is paid from the PnL pool and owed by the market's positions
    // (the maker short 1,000 and the liquidator long 1,000) by size.
    let (mut s, deficit) = bankrupt_scene().await;
    let (a, m, l) = (s.a.account, s.m.account, s.l.account);
    let payer = s.env.user(100 * USDC).await;
    let pkp = payer.kp.insecure_clone();
    let i = s.env.deposit_insurance_ix(&payer, 100 * USDC);
    s.env.send(&[i], &[&pkp]).await.unwrap();
    let pool = s.env.perp_market(0).await.pnl_pool_native;
    assert!(pool >= deficit - 100 * USDC, "pool {pool}");
    let (m_h, l_h) = (s.env.terms(&m).await, s.env.terms(&l).await);
    events::install();
    let i = s.env.resolve_ix(&a, 0, Some(0));
    s.env.send(&[i], &[]).await.unwrap();
    let ev = evs::<BankruptcyEvent>(|e| e.account == a);
    let ev = ev.last().unwrap();
    assert_eq!(ev.insurance_native, 100 * USDC);
    assert_eq!(ev.market_socialized_native, deficit - 100 * USDC);
    assert_eq!(ev.socialized_native, 0);
    assert_eq!(
        ev.insurance_native + ev.market_socialized_native + ev.socialized_native,
        ev.deficit_native
    );
    let sl = evs::<PerpSocializedLossEvent>(|e| e.bankrupt == a);
    let sl = sl.last().unwrap();
    eprintln!(
        "bankruptcy: deficit {} = fund {} + market positions {} + depositors {}",
        ev.deficit_native, ev.insurance_native, ev.market_socialized_native, ev.socialized_native
    );
    assert_eq!(sl.open_interest_lots, 1_000);
    let market = s.env.perp_market(0).await;
    assert_eq!(market.pnl_pool_native, pool - ev.market_socialized_native);
    assert_eq!(
        market.socialized_loss_index.get().to_bits(),
        ev.loss_index_after_bits
    );
    // health counts each position's share at once: 1,000 lots x the per-lot rise, rounded up
    let share = I80F48::from_bits(sl.loss_per_lot_bits)
        .checked_mul_int(1_000)
        .unwrap()
        .ceil_int();
    assert!(share * 2 >= ev.market_socialized_native as i128);
    assert!(share * 2 <= ev.market_socialized_native as i128 + 2);
    for (k, h) in [(m, m_h), (l, l_h)] {
        let now = s.env.terms(&k).await;
        let drop = h
            .equity()
            .unwrap()
            .checked_sub(now.equity().unwrap())
            .unwrap();
        assert_eq!(drop, I80F48::from_i64(share as i64), "{k}");
    }
    // settling moves it into the cost basis, once
    events::install();
    s.env.settle_pnl(&m, 0).await.unwrap();
    let paid = evs::<PerpSocializedLossPaidEvent>(|e| e.account == m);
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].amount_native as i128, share);
    assert_eq!(
        s.env.perp_slot(&m, 0).await.loss_snapshot.get(),
        market.socialized_loss_index.get()
    );
    let keys = all_keys(&s);
    s.env.check_conservation(0, &keys).await;
    base_sum_zero(&mut s.env, &keys).await;

    // A market that cannot pay (no open positions, an empty pool): the bank's depositors take
    // it all.
    let (mut s, deficit) = bankrupt_scene().await;
    let a = s.a.account;
    let p1 = s
        .env
        .add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let di_before = s.env.bank(0).await.deposit_index.get();
    events::install();
    let i = s.env.resolve_ix(&a, 0, Some(p1));
    s.env.send(&[i], &[]).await.unwrap();
    let ev = evs::<BankruptcyEvent>(|e| e.account == a);
    let ev = ev.last().unwrap();
    assert_eq!(
        (
            ev.insurance_native,
            ev.market_socialized_native,
            ev.socialized_native
        ),
        (0, 0, deficit)
    );
    assert_eq!(ev.perp_market, s.env.perps[p1].market);
    assert!(s.env.bank(0).await.deposit_index.get() < di_before);
    assert_eq!(s.env.balance(&a, 0).await, I80F48::ZERO);
    let keys = all_keys(&s);
    s.env.check_conservation(0, &keys).await;

    // No market passed: the depositors (a token borrow's only recourse).
    let (mut s, deficit) = bankrupt_scene().await;
    let a = s.a.account;
    let m = s.m.account;
    let di_before = s.env.bank(0).await.deposit_index.get();
    let m_before = s.env.balance(&m, 0).await;
    events::install();
    let i = s.env.resolve_ix(&a, 0, None);
    s.env.send(&[i], &[]).await.unwrap();
    let ev = evs::<BankruptcyEvent>(|e| e.account == a);
    let ev = ev.last().unwrap();
    assert_eq!(
        (
            ev.insurance_native,
            ev.market_socialized_native,
            ev.socialized_native
        ),
        (0, 0, deficit)
    );
    assert!(s.env.bank(0).await.deposit_index.get() < di_before);
    assert!(
        s.env.balance(&m, 0).await < m_before,
        "depositors share the loss"
    );
    let keys = all_keys(&s);
    s.env.check_conservation(0, &keys).await;
}

/// Two accounts of one owner cannot close against each other at an absurd price: the winner
/// would realize a profit the loser's collateral does not cover, paid by the insurance fund,
/// the market and the depositors. Every order is bound to the market's band around the oracle
/// (1% here), reducing or not: a reducing limit bid at twice the oracle is refused, an IOC at
/// twice the oracle is clamped to the band's edge and does not reach the accomplice's ask.
#[tokio::test]
async fn self_trade_beyond_the_band_is_refused_or_clamped() {
    let mut s = perp_scene(SOL).await;
    let (a, m) = (s.a.account, s.m.account);
    let mkp = s.m.kp.insecure_clone();
    // a (long 1,000 on 20 USDC) offers its position at twice the oracle: an ask above the
    // oracle, so it rests
    s.env
        .place_perp(&s.a, 0, limit(1, 30_000, 1_000))
        .await
        .unwrap();
    // m (short) tries to buy it back there: a limit bid beyond the band is refused ...
    let i = s
        .env
        .place_perp_ix(&mkp.pubkey(), &m, 0, limit(0, 30_000, 1_000));
    s.env
        .refused(&[i], &[&mkp], &[a, m], CarryError::OrderPriceOutOfBand)
        .await;
    // ... and an IOC is clamped to 15_150 ticks: nothing crosses, nothing is realized
    let before = s.env.perp_slot(&m, 0).await;
    s.env
        .place_perp(&s.m, 0, ioc(0, 30_000, 1_000))
        .await
        .unwrap();
    let after = s.env.perp_slot(&m, 0).await;
    assert_eq!(after.base_lots, before.base_lots);
    assert_eq!(after.quote_native.get(), before.quote_native.get());
    assert_eq!(s.env.perp_slot(&a, 0).await.asks_base_lots, 1_000);
    // a band wider than the first tier's initial margin is refused at listing
    let admin = s.env.admin.pubkey();
    let mut params = sdk::example_perp_market_params();
    params.order_band_bps = 101;
    let i = s.env.edit_perp_market_ix(&admin, 0, params);
    s.env
        .refused(&[i], &[], &[], CarryError::InvalidParameter)
        .await;
    // so is an oracle/stable guard wider than it
    let mut params = sdk::example_perp_market_params();
    params.oracle_stable_guard_bps = 101;
    let i = s.env.edit_perp_market_ix(&admin, 0, params);
    s.env
        .refused(&[i], &[], &[], CarryError::InvalidParameter)
        .await;
}

/// Greedy extraction: withdraw (borrowing) as much of bank `idx` as `u` can, halving the
/// request after each refusal; returns the native amount taken out.
async fn drain(env: &mut MarginEnv, u: &User, idx: usize, start: u64) -> u64 {
    let mut total = 0u64;
    let mut amount = start;
    while amount > 0 {
        let i = {
            let b = &env.banks[idx];
            let mut i = env.withdraw_ix(
                &u.kp.pubkey(),
                &u.account,
                idx,
                &u.wallet(&b.mint),
                amount,
                true,
            );
            // health pairs of the perp market too
            i.accounts.extend(sdk::perp_health_accounts(
                &env.all_perp_health_pairs(),
                false,
            ));
            i
        };
        match env.send(&[i], &[&u.kp]).await {
            Ok(()) => total += amount,
            Err(_) => amount /= 2,
        }
    }
    total
}

/// Exploit replay modelled on the October 2022 Mango incident: an attacker holds both sides of
/// a thin market through two accounts, pumps its oracle 10x in one slot, settles the paper
/// profit and tries to borrow every bank dry against it. The stable price (profits are paid and
/// counted at the worse of oracle and stable price), the PnL pool and the health rules bound
/// what it takes out to its own deposit plus the stable price's move: asserted below.
#[tokio::test]
async fn mango_style_oracle_pump_cannot_drain_the_banks() {
    let mut env = MarginEnv::new().await;
    let admin = env.admin.pubkey();
    let i = env.edit_bank_ix(&admin, 0, usdc_params());
    env.send(&[i], &[]).await.unwrap();
    let sol = env.add_bank(9, SOL, default_params()).await;
    let btc = env.add_bank(8, 60_000 * E8, default_params()).await;
    env.add_perp_market(E8, sdk::example_perp_market_params()) // $1 per base: 100 ticks
        .await;
    // Lenders: 100,000 USDC, 1,000 SOL, 10 BTC.
    let lender = env.user(0).await;
    for (idx, amount) in [
        (0, 100_000 * USDC),
        (sol, 1_000_000_000_000),
        (btc, 1_000_000_000),
    ] {
        let mint = env.banks[idx].mint;
        env.t.mint_to(&mint, &lender.wallet(&mint), amount).await;
        env.deposit(&lender, idx, amount).await.unwrap();
    }
    // Attacker: two accounts with 1,000 USDC each, both sides of 500,000 lots ($5,000).
    let x = trader(&mut env, 1_000 * USDC).await;
    let y = trader(&mut env, 1_000 * USDC).await;
    env.place_perp(&y, 0, limit(1, 100, 500_000)).await.unwrap();
    env.place_perp(&x, 0, ioc(0, 100, 500_000)).await.unwrap();
    env.consume(0, &[y.account], 10).await.unwrap();
    let deposited = 2_000 * USDC;

    // The pump: 10x in one slot.
    env.set_perp_price(0, 10 * E8).await;
    // Y's loss moves into a USDC borrow (the pool grows by it); X's profit is paid at the
    // stable price, which moved at most 10%/h x 60 s.
    env.settle_pnl(&y.account, 0).await.unwrap();
    env.settle_pnl(&x.account, 0).await.unwrap();
    let pool = env.perp_market(0).await.pnl_pool_native;
    assert!(pool > 40_000 * USDC, "the loss went into the pool: {pool}");
    let x_usdc = env.balance(&x.account, 0).await;
    let paid = x_usdc
        .checked_sub(I80F48::from_u64(1_000 * USDC))
        .unwrap()
        .to_u64(carry_math::Round::Floor)
        .unwrap_or(0);
    assert!(paid <= 9 * USDC, "paper profit paid: {paid} native");

    // Borrow everything possible, from both accounts, in every bank.
    let mut taken = [0u64; 3];
    for u in [&x, &y] {
        taken[0] += drain(&mut env, u, 0, 100_000 * USDC).await;
        taken[1] += drain(&mut env, u, sol, 1_000_000_000_000).await;
        taken[2] += drain(&mut env, u, btc, 1_000_000_000).await;
    }
    // Value at the pre-pump prices, USDC native.
    let value = taken[0] as u128 + taken[1] as u128 * 150 / 1_000 + taken[2] as u128 * 600;
    let extracted_beyond_deposit = value as i128 - deposited as i128;
    eprintln!(
        "oracle pump replay: pool {pool}, profit paid {paid}, taken USDC {} SOL {} BTC {} \
         (worth {value} USDC native) for {deposited} deposited: beyond the deposit {}",
        taken[0], taken[1], taken[2], extracted_beyond_deposit
    );
    // Bound: the stable price's move over the notional ($5,000 x 0.17% = $8.33); the attacker
    // cannot take more than it put in plus that.
    assert!(
        extracted_beyond_deposit <= 9 * USDC as i128,
        "attacker extracted {extracted_beyond_deposit} beyond its deposit"
    );
    let keys = [lender.account, x.account, y.account];
    for idx in 0..3 {
        env.check_conservation(idx, &keys).await;
    }
}

/// A market at `price` (1e-8 USD) with 10% initial / 5% maintenance margins on every tier and
/// the oracle/stable guard at `guard_bps` (0: off), the settlement token at full value.
async fn guarded_env(price: i64, guard_bps: u16) -> MarginEnv {
    guarded_env_expiring(price, guard_bps, None).await
}

/// [`guarded_env`], the market a dated future expiring `expiry_in_secs` from now when given.
async fn guarded_env_expiring(
    price: i64,
    guard_bps: u16,
    expiry_in_secs: Option<i64>,
) -> MarginEnv {
    let mut env = MarginEnv::new().await;
    let admin = env.admin.pubkey();
    let i = env.edit_bank_ix(&admin, 0, usdc_params());
    env.send(&[i], &[]).await.unwrap();
    let mut params = sdk::example_perp_market_params();
    for t in params.tiers.iter_mut() {
        t.init_margin_ppm = 100_000;
        t.maint_margin_ppm = 50_000;
    }
    params.oracle_stable_guard_bps = guard_bps;
    if let Some(secs) = expiry_in_secs {
        params.expiry_ts = env.now().await + secs;
        params.settlement_window_secs = 600;
        params.settlement_min_interval_secs = 10;
    }
    env.add_perp_market(price, params).await;
    env
}

/// After the same 10x pump, the attacker does not settle paper profit but tries to **realize**
/// it at the pumped oracle: (a) X takes over Y's short by `liquidate_perp` at the pumped oracle
/// (Y being far below maintenance), or (b) Y buys its short back from X on the book at the
/// pumped price (a reducing order inside the oracle-centred band). Without a guard this pays
/// X's realized profit out of the PnL pool that Y's loss filled through a borrow Y cannot back:
/// measured **44,097 USDC beyond the 2,000 deposit** (the first loop, `guard_bps = 0`). A thin
/// market is listed with the oracle/stable guard (5% here, margins of 10%): the liquidation is
/// refused (`OracleStableDivergence`), the buy-back is outside the stable-bound band
/// (`OrderPriceOutOfBand`), and what the attacker takes out stays within its deposit plus the
/// stable price's move.
#[tokio::test]
async fn oracle_pump_realized_by_self_liquidation_or_self_trade_is_bounded_by_the_guard() {
    for guard_bps in [0u16, 500] {
        for via_book in [false, true] {
            let mut env = guarded_env(E8, guard_bps).await;
            let lender = env.user(0).await;
            let mint = env.banks[0].mint;
            env.t
                .mint_to(&mint, &lender.wallet(&mint), 100_000 * USDC)
                .await;
            env.deposit(&lender, 0, 100_000 * USDC).await.unwrap();
            let x = trader(&mut env, 1_000 * USDC).await;
            let y = trader(&mut env, 1_000 * USDC).await;
            env.place_perp(&y, 0, limit(1, 100, 500_000)).await.unwrap();
            env.place_perp(&x, 0, ioc(0, 100, 500_000)).await.unwrap();
            env.consume(0, &[y.account], 10).await.unwrap();
            env.set_perp_price(0, 10 * E8).await;
            let guarded = guard_bps > 0;
            if via_book {
                let i = env.place_perp_ix(&y.kp.pubkey(), &y.account, 0, limit(0, 1_000, 500_000));
                let r = env.send(&[i], &[&y.kp]).await;
                if guarded {
                    assert_eq!(
                        r.unwrap_err().custom_code(),
                        Some(CarryError::OrderPriceOutOfBand.into())
                    );
                } else {
                    r.unwrap();
                }
                env.place_perp(&x, 0, ioc(1, 1_000, 500_000)).await.unwrap();
                env.consume(0, &[y.account], 10).await.unwrap();
            } else {
                let i = env.liquidate_perp_ix(&x, &y.account, 0, u64::MAX);
                if guarded {
                    env.refused(&[i], &[&x.kp], &[], CarryError::OracleStableDivergence)
                        .await;
                } else {
                    env.send(&[i], &[&x.kp]).await.unwrap();
                }
            }
            if env.margin(&y.account).await.find_perp(0).is_some() {
                env.settle_pnl(&y.account, 0).await.unwrap();
            }
            env.settle_pnl(&x.account, 0).await.unwrap();
            let taken = drain(&mut env, &x, 0, 100_000 * USDC).await
                + drain(&mut env, &y, 0, 100_000 * USDC).await;
            let beyond = taken as i128 - 2_000 * USDC as i128;
            eprintln!(
                "pumped oracle realized (guard {guard_bps} bps, via book: {via_book}): taken \
                 {taken}, beyond the deposit {beyond}"
            );
            if guarded {
                assert!(
                    beyond <= 9 * USDC as i128,
                    "extracted {beyond} beyond the deposit"
                );
            } else {
                assert!(
                    beyond > 40_000 * USDC as i128,
                    "the hole the guard closes: {beyond}"
                );
            }
            env.check_conservation(0, &[lender.account, x.account, y.account])
                .await;
        }
    }
}

/// The guard-release scenario on a guarded market 0: a maker `m`, a 9x long `a` and a
/// liquidator `l`, then a real 8% drop in one slot that leaves `a` below maintenance; the
/// liquidation is refused while the oracle is beyond the guard.
async fn guarded_drop(env: &mut MarginEnv) -> (User, User, User) {
    let m = trader(env, 10_000 * USDC).await;
    let a = trader(env, 150 * USDC).await;
    let l = trader(env, 1_000 * USDC).await;
    env.place_perp(&m, 0, limit(1, 15_000, 900)).await.unwrap();
    env.place_perp(&a, 0, ioc(0, 15_000, 900)).await.unwrap();
    env.consume(0, &[m.account], 10).await.unwrap();
    env.set_perp_price(0, SOL / 100 * 92).await;
    assert!(env
        .health_with_perps(&a.account)
        .await
        .unwrap()
        .1
        .is_negative());
    let i = env.liquidate_perp_ix(&l, &a.account, 0, u64::MAX);
    env.refused(&[i], &[&l.kp], &[], CarryError::OracleStableDivergence)
        .await;
    (m, a, l)
}

/// Runs `crank` every 60 s, as the keeper does, with the oracle held at the drop, until `l` can
/// liquidate `a`; returns how many cranks ran (at most 60).
async fn crank_until_liquidated(
    env: &mut MarginEnv,
    crank: &Instruction,
    l: &User,
    a: &User,
) -> u32 {
    let mut cranks = 0;
    loop {
        env.t.warp_seconds(60).await;
        env.refresh_oracles().await;
        env.set_perp_price(0, SOL / 100 * 92).await;
        env.send(std::slice::from_ref(crank), &[]).await.unwrap();
        cranks += 1;
        let i = env.liquidate_perp_ix(l, &a.account, 0, u64::MAX);
        if env.send(&[i], &[&l.kp]).await.is_ok() {
            return cranks;
        }
        assert!(cranks < 60, "the guard never released");
    }
}

/// The guard is a circuit breaker that releases: on a guarded market (5%, margins 10%) a real
/// 8% drop in one slot leaves a 9x long below maintenance, but liquidation waits
/// (`OracleStableDivergence`) until the funding crank, run every 60 s as the keeper does, has
/// moved the stable price to within the guard; then it goes through.
#[tokio::test]
async fn the_oracle_stable_guard_releases_as_the_stable_price_follows() {
    let mut env = guarded_env(SOL, 500).await;
    let (m, a, l) = guarded_drop(&mut env).await;
    let p = env.perps[0].clone();
    let crank = sdk::update_funding(env.exchange, p.market, p.book, p.oracle);
    let cranks = crank_until_liquidated(&mut env, &crank, &l, &a).await;
    let stable = env.perp_market(0).await.stable_price.get();
    let oracle = I80F48::from_i64(SOL / 100 * 92 / 10_000);
    assert!(
        stable.checked_sub(oracle).unwrap()
            <= oracle
                .checked_mul_int(5)
                .unwrap()
                .div_round(I80F48::from_i64(95), carry_math::Round::Ceil)
                .unwrap(),
        "within the guard"
    );
    eprintln!("guard released after {cranks} funding cranks, 60 s apart");
    assert!(
        cranks > 1,
        "the first crank alone does not release an 8% gap"
    );
    let keys = [m.account, a.account, l.account];
    base_sum_zero(&mut env, &keys).await;
    env.check_conservation(0, &keys).await;
}

/// A dated future has no funding crank (`update_funding` is refused there): the keeper's
/// `update_stable_price` steps its stored stable price instead, so after the same 8% drop past
/// a 5% guard the liquidation goes through once the stable price has followed. The crank
/// refuses another market's oracle, a perp market of another exchange and a stale oracle with
/// nothing changed, and never moves the stable price faster than the market's limits (one step
/// of at most `stable_max_step_secs` however long since the last).
#[tokio::test]
async fn a_dated_markets_guard_releases_through_the_stable_price_crank() {
    let mut env = guarded_env_expiring(SOL, 500, Some(30 * 86_400)).await;
    events::install();
    let p = env.perps[0].clone();
    // refusals first, nothing changed
    let i = sdk::update_funding(env.exchange, p.market, p.book, p.oracle);
    env.refused(&[i], &[], &[], CarryError::DatedMarketNoFunding)
        .await;
    let i = sdk::update_stable_price(env.exchange, p.market, env.banks[0].oracle);
    env.refused(&[i], &[], &[], CarryError::OracleMismatch)
        .await;
    let admin = env.admin.pubkey();
    let other = carry_sdk::margin::exchange_pda(&admin, 1);
    let i = carry_sdk::margin::create_exchange(admin, env.banks[0].mint, 1);
    env.send(&[i], &[]).await.unwrap();
    let i = sdk::update_stable_price(other, p.market, p.oracle);
    env.refused(&[i], &[], &[], CarryError::PerpMarketMismatch)
        .await;
    let now = env.now().await;
    env.write_oracle(&p.oracle, p.price, 0, now - 3_600);
    let i = sdk::update_stable_price(env.exchange, p.market, p.oracle);
    env.refused(&[i], &[], &[], CarryError::OracleStale).await;
    env.set_perp_price(0, SOL).await;

    let (m, a, l) = guarded_drop(&mut env).await;
    // a day idle: one crank is still one bounded step, not a jump to the oracle
    env.t.warp_seconds(86_400).await;
    env.refresh_oracles().await;
    env.set_perp_price(0, SOL / 100 * 92).await;
    let before = env.perp_market(0).await.stable_price.get();
    let i = sdk::update_stable_price(env.exchange, p.market, p.oracle);
    env.send(&[i], &[]).await.unwrap();
    let after = env.perp_market(0).await.stable_price.get();
    let oracle = I80F48::from_i64(SOL / 100 * 92 / 10_000);
    assert!(
        after < before && after > oracle,
        "one step toward the oracle: {before} {after}"
    );
    let e = evs::<PerpStablePriceEvent>(|e| e.perp_market == p.market);
    let e = e.last().unwrap();
    assert_eq!(
        (e.stable_before_bits, e.stable_bits),
        (before.to_bits(), after.to_bits())
    );
    assert!(e.oracle_price_bits > 0 && e.stable_bits > e.oracle_price_bits);
    assert!(e.secs >= 86_400);
    // that step alone does not release the guard
    let i = env.liquidate_perp_ix(&l, &a.account, 0, u64::MAX);
    env.refused(&[i], &[&l.kp], &[], CarryError::OracleStableDivergence)
        .await;
    let crank = sdk::update_stable_price(env.exchange, p.market, p.oracle);
    let cranks = 1 + crank_until_liquidated(&mut env, &crank, &l, &a).await;
    eprintln!("dated market: guard released after {cranks} stable-price cranks");
    assert!(cranks > 1, "one step does not close an 8% gap");
    let keys = [m.account, a.account, l.account];
    base_sum_zero(&mut env, &keys).await;
    env.check_conservation(0, &keys).await;
}

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What the scenario's keeper saw.
#[derive(Default, Debug)]
struct Tally {
    liquidations: u32,
    partial: u32,
    bankruptcies: u32,
    deficit: u64,
    insurance: u64,
    market: u64,
    socialized: u64,
    adl_steps: u32,
    adl_lots: u64,
    /// Sum of what auto-deleveraged positions absorbed, I80F48 bits.
    adl_absorbed_bits: i128,
}

/// Auto-deleverage `k`'s position in market 0 when it is below maintenance and its deficit
/// exceeds the insurance fund, against the SDK's ranked candidates (at most 4): checks that
/// the candidates are hit in rank order and the top one first when its profit pays a lot.
/// Returns whether anything was deleveraged.
async fn adl_step(env: &mut MarginEnv, k: &Pubkey, keys: &[Pubkey], tally: &mut Tally) -> bool {
    let acc = env.margin(k).await;
    let Some(s) = acc.find_perp(0) else {
        return false;
    };
    let p = acc.perps[s];
    if p.base_lots == 0 || p.bids_base_lots != 0 || p.asks_base_lots != 0 {
        return false;
    }
    let terms = env.terms(k).await;
    let fund = env.tokens(&env.insurance_vault.clone()).await;
    if !terms.health(HealthType::Maint).unwrap().is_negative()
        || carry_sdk::liquidation::deficit_beyond_fund(&terms, fund)
            .unwrap()
            .is_none()
    {
        return false;
    }
    let ranked = env.adl_ranked(k, 0, keys).await;
    if ranked.is_empty() {
        return false;
    }
    let cands: Vec<Pubkey> = ranked.iter().take(4).map(|c| c.key).collect();
    events::install();
    let n0 = evs::<AutoDeleverageEvent>(|e| e.bankrupt == *k).len();
    let i = env.adl_ix(k, 0, u64::MAX, &cands);
    match env.send(&[i], &[]).await {
        Ok(()) => {}
        Err(e) if e.custom_code() == Some(CarryError::NothingToDeleverage.into()) => return false,
        Err(e) => panic!("auto-deleverage: {e:?}"),
    }
    let all = evs::<AutoDeleverageEvent>(|e| e.bankrupt == *k);
    let new = &all[n0..];
    assert!(!new.is_empty());
    let mut at = 0;
    for e in new {
        let pos = cands[at..]
            .iter()
            .position(|c| *c == e.account)
            .expect("in rank order");
        at += pos + 1;
        assert!(
            I80F48::from_bits(e.deficit_bits).is_positive(),
            "only beyond the fund"
        );
        tally.adl_lots += e.base_lots;
        tally.adl_absorbed_bits += e.absorbed_bits;
    }
    let premium = I80F48::from_bits(e_premium(&new[0]));
    if ranked[0].pnl >= premium {
        assert_eq!(new[0].account, cands[0], "ADL hits the top-ranked first");
    }
    tally.adl_steps += 1;
    true
}

/// A bankruptcy's loss accounted to the unit, in order: the market's positions only once the
/// fund is empty, the depositors only once the market's pool is.
async fn check_resolution(env: &mut MarginEnv, ev: &BankruptcyEvent) {
    assert_eq!(
        ev.insurance_native + ev.market_socialized_native + ev.socialized_native,
        ev.deficit_native,
        "loss accounted to the unit"
    );
    if ev.market_socialized_native > 0 || ev.socialized_native > 0 {
        assert_eq!(
            ev.insurance_after_native, 0,
            "socialized before the fund is empty"
        );
    }
    if ev.socialized_native > 0 && ev.perp_market != Pubkey::default() {
        let m = env.perp_market(0).await;
        assert!(
            m.pnl_pool_native == 0 || m.open_interest_lots == 0,
            "depositors before the market's positions"
        );
    }
}

/// Whether `k` still holds a position in market 0.
async fn still_open(env: &mut MarginEnv, k: &Pubkey) -> bool {
    let acc = env.margin(k).await;
    acc.find_perp(0)
        .is_some_and(|s| acc.perps[s].base_lots != 0)
}

/// What auto-deleveraged positions absorbed, USDC (for the printed summary).
fn absorbed_usdc(t: &Tally) -> f64 {
    I80F48::from_bits(t.adl_absorbed_bits)
        .to_u64(carry_math::Round::Floor)
        .unwrap_or(0) as f64
        / USDC as f64
}

/// `|price - oracle|` of an ADL event, I80F48 bits.
fn e_premium(e: &AutoDeleverageEvent) -> i128 {
    (e.price_bits - e.oracle_price_bits).abs()
}

/// One keeper pass over every account: liquidate what is below maintenance (just enough, a
/// step at a time), resolve what is bankrupt with ranked auto-deleveraging candidates.
async fn keeper_pass(env: &mut MarginEnv, liqor: &User, keys: &[Pubkey], tally: &mut Tally) {
    let lkp = liqor.kp.insecure_clone();
    for k in keys {
        if *k == liqor.account {
            continue;
        }
        let acc = env.margin(k).await;
        if let Some(s) = acc.find_perp(0) {
            if acc.perps[s].base_lots != 0 {
                adl_step(env, k, keys, tally).await;
                let (_, maint) = env.health_with_perps(k).await.unwrap();
                if maint.is_negative() && still_open(env, k).await {
                    events::install();
                    let i = env.liquidate_perp_ix(liqor, k, 0, u64::MAX);
                    env.send(&[i], &[&lkp]).await.expect("liquidation");
                    let ev = evs::<PerpLiquidationEvent>(|e| e.liquidatee == *k);
                    let ev = ev.last().unwrap();
                    tally.liquidations += 1;
                    let whole = ev.base_lots == ev.base_lots_before.unsigned_abs();
                    if !whole {
                        tally.partial += 1;
                        assert!(I80F48::from_bits(ev.target_after_bits) >= I80F48::ZERO);
                    }
                }
            }
        }
        let acc = env.margin(k).await;
        let bankrupt = acc.perps.iter().all(|p| p.in_use == 0)
            && env.balance(k, 0).await.is_negative()
            && acc.tokens.iter().filter(|t| t.in_use != 0).count() == 1;
        if bankrupt {
            events::install();
            let i = env.resolve_ix(k, 0, Some(0));
            env.send(&[i], &[]).await.expect("resolve bankruptcy");
            let ev = evs::<BankruptcyEvent>(|e| e.account == *k);
            let ev = ev.last().unwrap();
            check_resolution(env, ev).await;
            tally.bankruptcies += 1;
            tally.deficit += ev.deficit_native;
            tally.insurance += ev.insurance_native;
            tally.market += ev.market_socialized_native;
            tally.socialized += ev.socialized_native;
        }
    }
}

/// 50 traders at 2x-60x and six at about 9.6x on one market against a deep maker, a liquidator stepping through
/// three scripted oracle paths (a 30% crash in three slots, a squeeze up, a slow bleed), the
/// invariants checked after every step.
#[tokio::test]
async fn fifty_accounts_through_crash_squeeze_and_bleed() {
    let mut env = MarginEnv::new().await;
    let admin = env.admin.pubkey();
    let i = env.edit_bank_ix(&admin, 0, usdc_params());
    env.send(&[i], &[]).await.unwrap();
    let mut params = sdk::example_perp_market_params();
    params.unpaid_pnl_haircut_ppm = 500_000;
    env.add_perp_market(SOL, params).await;
    let maker = trader(&mut env, 5_000_000 * USDC).await;
    let liqor = trader(&mut env, 5_000_000 * USDC).await;
    let fund = env.user(30 * USDC).await;
    let fkp = fund.kp.insecure_clone();
    let i = env.deposit_insurance_ix(&fund, 30 * USDC);
    env.send(&[i], &[&fkp]).await.unwrap();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut keys = vec![maker.account, liqor.account];
    let mut traders = vec![];
    // maker quotes both sides deep around $150
    env.place_perp(&maker, 0, limit(1, 15_001, 400_000))
        .await
        .unwrap();
    env.place_perp(&maker, 0, limit(0, 14_999, 400_000))
        .await
        .unwrap();
    for n in 0..50 {
        let usdc = (20 + rng.below(180)) * USDC;
        let u = trader(&mut env, usdc).await;
        // 2x to 60x: lots = usdc * lev / 1.5 USDC
        let lev = 2 + rng.below(59);
        let lots = usdc * lev / (3 * USDC / 2);
        let args = if n % 2 == 0 {
            ioc(0, 15_001, lots)
        } else {
            ioc(1, 14_999, lots)
        };
        env.place_perp(&u, 0, args).await.unwrap();
        env.consume(0, &[maker.account], 255).await.unwrap();
        keys.push(u.account);
        traders.push(u);
    }
    // six longs at 9.55x-9.7x: the first 10% step leaves them below maintenance with equity
    // between a half and all of the maintenance margin, so they are liquidated in part, just
    // enough
    for lots in [637, 640, 643, 646, 640, 643] {
        let u = trader(&mut env, 100 * USDC).await;
        env.place_perp(&u, 0, ioc(0, 15_001, lots)).await.unwrap();
        env.consume(0, &[maker.account], 255).await.unwrap();
        keys.push(u.account);
        traders.push(u);
    }
    // the maker takes its quotes down
    let i = sdk::cancel_all_perp_orders(
        maker.kp.pubkey(),
        maker.account,
        env.perps[0].market,
        env.perps[0].book,
        2,
        10,
    );
    let mkp = maker.kp.insecure_clone();
    env.send(&[i], &[&mkp]).await.unwrap();

    let mut tally = Tally::default();
    let mut price = SOL;
    // a 30% crash in three slots (-10% each), a squeeze up (+2% x 20), a slow bleed
    // (-0.25% x 30)
    let path: Vec<i64> = [(-1_000i64, 3), (200, 20), (-25, 30)]
        .iter()
        .flat_map(|&(bps, n)| std::iter::repeat_n(bps, n))
        .collect();
    let mut steps = 0;
    for bps in path {
        price += price * bps / 10_000;
        env.t.warp_seconds(1).await;
        env.refresh_oracles().await;
        env.set_perp_price(0, price).await;
        keeper_pass(&mut env, &liqor, &keys, &mut tally).await;
        steps += 1;
        // invariants after every step
        base_sum_zero(&mut env, &keys).await;
        let mut all = keys.clone();
        all.push(fund.account);
        env.check_conservation(0, &all).await;
        assert_eq!(
            tally.insurance + tally.market + tally.socialized,
            tally.deficit,
            "loss accounted"
        );
    }
    eprintln!(
        "50-account scenario: {steps} price steps, {tally:?}, ADL absorbed {:.2} USDC, insurance \
         left {}",
        absorbed_usdc(&tally),
        env.tokens(&env.insurance_vault.clone()).await
    );
    assert!(
        tally.liquidations + tally.adl_steps >= 10,
        "accounts underwater beyond the fund are deleveraged, the others liquidated: {tally:?}"
    );
    assert!(
        tally.partial > 0,
        "some liquidations were partial: {tally:?}"
    );
    assert!(
        tally.bankruptcies > 0,
        "the crash bankrupts someone: {tally:?}"
    );
    assert!(tally.insurance > 0 && tally.adl_steps > 0, "{tally:?}");
    assert!(
        tally.market + tally.socialized < tally.deficit,
        "the fund pays first: {tally:?}"
    );
}

/// Liquidate or resolve account `k` if it needs it (the randomized simulation's keeper):
/// perp positions first (just enough), then borrows against collateral, then bankruptcy in
/// every bank it owes. Returns the instructions sent.
async fn keep_account(
    env: &mut MarginEnv,
    liqor: &User,
    k: &Pubkey,
    keys: &[Pubkey],
    tally: &mut Tally,
) -> u64 {
    let mut sent = 0;
    if k == &liqor.account {
        return 0;
    }
    let lkp = liqor.kp.insecure_clone();
    let (_, maint) = env.health_with_perps(k).await.unwrap();
    if maint.is_negative() {
        let acc = env.margin(k).await;
        if let Some(s) = acc.find_perp(0) {
            let p = acc.perps[s];
            if p.bids_base_lots != 0 || p.asks_base_lots != 0 {
                let i = env.liquidate_orders_ix(k, 0, 50);
                env.send(&[i], &[]).await.expect("cancel orders");
                sent += 1;
            }
            if p.base_lots != 0 && adl_step(env, k, keys, tally).await {
                sent += 1;
            }
            let (_, maint) = env.health_with_perps(k).await.unwrap();
            if maint.is_negative() && still_open(env, k).await {
                let i = env.liquidate_perp_ix(liqor, k, 0, u64::MAX);
                env.send(&[i], &[&lkp]).await.expect("liquidate perp");
                tally.liquidations += 1;
                sent += 1;
            }
        }
        let (_, maint) = env.health_with_perps(k).await.unwrap();
        if maint.is_negative() {
            // a borrow in one bank against a deposit in the other
            let (b0, b1) = (env.balance(k, 0).await, env.balance(k, 1).await);
            let pair = if b0.is_negative() && b1.is_positive() {
                Some((0, 1))
            } else if b1.is_negative() && b0.is_positive() {
                Some((1, 0))
            } else {
                None
            };
            if let Some((liab, asset)) = pair {
                let i = env.liquidate_token_ix(liqor, k, liab, asset, u64::MAX);
                match env.send(&[i], &[&lkp]).await {
                    Ok(()) => {
                        tally.liquidations += 1;
                        sent += 1;
                    }
                    // collateral dust worth less than one unit of the debt
                    Err(e) if e.custom_code() == Some(CarryError::NoAssetToLiquidate.into()) => {}
                    Err(e) => panic!("liquidate token: {e:?}"),
                }
            }
        }
    }
    let acc = env.margin(k).await;
    let no_assets = acc.perps.iter().all(|p| p.in_use == 0)
        && acc.tokens.iter().all(|t| {
            t.in_use == 0 || (t.non_lendable == 0 && !t.indexed_position.get().is_positive())
        });
    if no_assets {
        for idx in 0..2 {
            if !env.balance(k, idx).await.is_negative() {
                continue;
            }
            events::install();
            let market = (idx == 0).then_some(0);
            let i = env.resolve_ix(k, idx, market);
            env.send(&[i], &[]).await.expect("resolve");
            sent += 1;
            let ev = evs::<BankruptcyEvent>(|e| e.account == *k);
            let ev = ev.last().unwrap();
            check_resolution(env, ev).await;
            tally.bankruptcies += 1;
            tally.deficit += ev.deficit_native;
            tally.insurance += ev.insurance_native;
            tally.market += ev.market_socialized_native;
            tally.socialized += ev.socialized_native;
        }
    }
    sent
}

/// Randomized simulation: 50 traders, a maker, a lender and a liquidator; trading, price moves
/// (with jumps), funding, PnL settlement, interest, borrowing against SOL, liquidation and
/// bankruptcy, the invariants checked after every step (token conservation of both banks to
/// the unit, base positions summing to zero, open interest, the loss accounted to the unit).
/// Every 2,000 steps wiped-out traders get a fresh deposit. `cargo test` runs 600 steps; the full
/// run is
/// `CARRY_SIM_STEPS=110000 cargo test -p carry-tests --release --test liquidation randomized -- --nocapture`
/// (`CARRY_SIM_SEED` picks the seed).
#[tokio::test]
async fn randomized_liquidation_simulation_keeps_the_invariants() {
    let steps: u64 = std::env::var("CARRY_SIM_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let seed: u64 = std::env::var("CARRY_SIM_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut env = MarginEnv::new().await;
    events::install();
    let admin = env.admin.pubkey();
    let i = env.edit_bank_ix(&admin, 0, usdc_params());
    env.send(&[i], &[]).await.unwrap();
    env.add_bank(9, SOL, default_params()).await;
    let mut params = sdk::example_perp_market_params();
    params.funding_impact_notional = 3_000_000;
    env.add_perp_market(SOL, params).await;
    let lender = env.user(0).await;
    for (idx, amount) in [(0, 1_000_000 * USDC), (1, 10_000_000_000_000u64)] {
        let mint = env.banks[idx].mint;
        env.t.mint_to(&mint, &lender.wallet(&mint), amount).await;
        env.deposit(&lender, idx, amount).await.unwrap();
    }
    let maker = trader(&mut env, 2_000_000 * USDC).await;
    let liqor = trader(&mut env, 2_000_000 * USDC).await;
    let fund = env.user(200 * USDC).await;
    let fkp = fund.kp.insecure_clone();
    let i = env.deposit_insurance_ix(&fund, 200 * USDC);
    env.send(&[i], &[&fkp]).await.unwrap();
    let mut rng = Rng(seed | 1);
    let mut users = vec![];
    for _ in 0..50 {
        let fund = (50 + rng.below(450)) * USDC; // also that many SOL native (< 0.5 SOL)
        let u = trader(&mut env, fund).await;
        users.push(u);
    }
    let mut keys: Vec<Pubkey> = users.iter().map(|u| u.account).collect();
    keys.extend([maker.account, liqor.account, lender.account]);
    let mkp = maker.kp.insecure_clone();
    let mut price = SOL;
    let quote = |env: &MarginEnv, price: i64| {
        let ticks = (price / 1_000_000) as u64; // $ x 1e8 -> ticks of 100 native per lot
        let p = &env.perps[0];
        vec![
            sdk::cancel_all_perp_orders(mkp.pubkey(), maker.account, p.market, p.book, 2, 10),
            env.place_perp_ix(
                &mkp.pubkey(),
                &maker.account,
                0,
                limit(1, ticks + 1, 300_000),
            ),
            env.place_perp_ix(
                &mkp.pubkey(),
                &maker.account,
                0,
                limit(0, ticks - 1, 300_000),
            ),
        ]
    };
    let q = quote(&env, price);
    env.send(&q, &[&mkp]).await.unwrap();
    let mut tally = Tally::default();
    let (mut sent, mut refused, mut refunded) = (0u64, 0u64, 0u64);
    for step in 0..steps {
        let u = rng.below(50) as usize;
        let ticks = (price / 1_000_000) as u64; // $ x 1e8 -> ticks of 100 native per lot
        match rng.below(20) {
            0..=7 => {
                // trade against the maker, up to ~40x of a 275 USDC average deposit
                let lots = 1 + rng.below(4_000);
                let args = if rng.below(2) == 0 {
                    ioc(0, ticks + 1, lots)
                } else {
                    ioc(1, ticks - 1, lots)
                };
                let i = env.place_perp_ix(&users[u].kp.pubkey(), &users[u].account, 0, args);
                match env.send(&[i], &[&users[u].kp]).await {
                    Ok(()) => sent += 1,
                    Err(_) => refused += 1,
                }
                env.consume(0, &[maker.account], 255).await.unwrap();
                sent += 1;
            }
            8..=10 => {
                // price move: mostly small, sometimes a jump
                let bps = if rng.below(15) == 0 {
                    rng.below(3_001) as i64 - 1_500
                } else {
                    rng.below(301) as i64 - 150
                };
                price = (price + price * bps / 10_000).max(10 * E8);
                env.set_perp_price(0, price).await;
                env.set_price(1, price).await;
                let q = quote(&env, price);
                if let Err(e) = env.send(&q, &[&mkp]).await {
                    let h = env.health_with_perps(&maker.account).await;
                    let acc = env.margin(&maker.account).await;
                    panic!(
                        "maker quote refused {e:?} at price {price}: health {h:?} perps {:?}",
                        acc.perps[0]
                    );
                }
                sent += 3;
            }
            11 => {
                env.warp(30 + rng.below(600) as i64).await;
                env.set_perp_price(0, price).await;
                env.set_price(1, price).await;
                let p = env.perps[0].clone();
                let i = sdk::update_funding(env.exchange, p.market, p.book, p.oracle);
                env.send(&[i], &[]).await.unwrap();
                let i = env.accrue_ix(1);
                env.send(&[i], &[]).await.unwrap();
                sent += 2;
            }
            12 | 13 => {
                if env.margin(&keys[u]).await.find_perp(0).is_some() {
                    env.settle_pnl(&keys[u], 0).await.unwrap();
                    sent += 1;
                }
            }
            14 => {
                // deposit some SOL, or borrow USDC against it
                let w = users[u].wallet(&env.banks[1].mint);
                let have = env.t.token_balance(&w).await;
                if rng.below(2) == 0 && have > 0 {
                    let amt = 1 + rng.below(have);
                    match env.deposit(&users[u], 1, amt).await {
                        Ok(()) => sent += 1,
                        Err(_) => refused += 1,
                    }
                } else {
                    let amt = 1 + rng.below(50 * USDC);
                    match env.withdraw(&users[u], 0, amt, true).await {
                        Ok(()) => sent += 1,
                        Err(_) => refused += 1,
                    }
                }
            }
            _ => {
                let k = keys[u];
                sent += keep_account(&mut env, &liqor, &k, &keys, &mut tally).await;
            }
        }
        // after a jump, or every 25 steps, the keeper looks at everyone
        if step % 25 == 24 {
            for k in keys.clone() {
                sent += keep_account(&mut env, &liqor, &k, &keys, &mut tally).await;
            }
        }
        // every 2,000 steps, traders wiped out (no position, under 5 USDC) get a fresh deposit,
        // so a long run keeps trading
        if step % 2_000 == 1_999 {
            let mint = env.banks[0].mint;
            for u in &users {
                let flat = env.margin(&u.account).await.find_perp(0).is_none();
                if flat && env.balance(&u.account, 0).await < I80F48::from_u64(5 * USDC) {
                    env.t.mint_to(&mint, &u.wallet(&mint), 200 * USDC).await;
                    env.deposit(u, 0, 200 * USDC).await.unwrap();
                    refunded += 1;
                    sent += 1;
                }
            }
        }
        base_sum_zero(&mut env, &keys).await;
        let mut all = keys.clone();
        all.push(fund.account);
        env.check_conservation(0, &all).await;
        env.check_conservation(1, &all).await;
        assert_eq!(
            tally.insurance + tally.market + tally.socialized,
            tally.deficit
        );
        if step % 5_000 == 4_999 {
            eprintln!(
                "randomized liquidation simulation: step {} of {steps}, {sent} instructions \
                 applied, {refused} refused, {refunded} deposits topping up wiped-out traders, \
                 {tally:?}, 0 violations so far",
                step + 1
            );
        }
    }
    eprintln!(
        "randomized liquidation simulation: seed {seed:#x}, {steps} steps, {sent} instructions \
         applied, {refused} refused, {refunded} top-up deposits, {tally:?}, ADL absorbed {:.2} \
         USDC, 0 invariant violations",
        absorbed_usdc(&tally)
    );
    assert!(tally.liquidations > 0, "{tally:?}");
}

/// The SDK's liquidation price (`carry_sdk::liquidation::liquidation_price`, the program's perp
/// term over the account's other terms) agrees with the chain: one oracle step (1e-4 quote
/// native per lot) above it the account is healthy, one step below it is liquidatable; for a
/// long and for a short.
#[tokio::test]
async fn sdk_liquidation_price_matches_the_chain() {
    use carry_sdk::health::{health_terms, BankSnapshot, PerpSnapshot};
    let mut s = perp_scene(SOL).await;
    let (a, m) = (s.a.account, s.m.account);
    for (who, long) in [(a, true), (m, false)] {
        let now = s.env.now().await;
        let acc = s.env.margin(&who).await;
        let b = s.env.banks[0].clone();
        let banks = vec![BankSnapshot {
            key: b.bank,
            account: s.env.t.account(&b.bank).await.unwrap(),
            bank: s.env.bank(0).await,
            oracle: s.env.t.account(&b.oracle).await.unwrap(),
        }];
        let p = s.env.perps[0].clone();
        let perps = vec![PerpSnapshot {
            key: p.market,
            account: s.env.t.account(&p.market).await.unwrap(),
            market: s.env.perp_market(0).await,
            oracle: s.env.t.account(&p.oracle).await.unwrap(),
        }];
        let terms = health_terms(&acc, USDC_DECIMALS, &banks, &perps, now).unwrap();
        let oracle_now = I80F48::from_i64(s.env.perps[0].price / 10_000);
        let liq =
            carry_sdk::liquidation::liquidation_price(&terms, &acc, &perps[0].market, oracle_now)
                .unwrap()
                .expect("a liquidation price");
        // oracle mantissa (1e-8 USD per whole base) = per-lot price x 10_000
        let mantissa = liq.checked_mul_int(10_000).unwrap().floor_int() as i64;
        let (safe, unsafe_) = if long {
            (mantissa + 2, mantissa - 1)
        } else {
            (mantissa - 1, mantissa + 2)
        };
        for (mant, liquidatable) in [(safe, false), (unsafe_, true)] {
            s.env.set_perp_price(0, mant).await;
            let per_lot =
                I80F48::from_ratio(mant as i128, 10_000, carry_math::Round::Floor).unwrap();
            s.env
                .patch_perp_market(0, |mk| mk.stable_price.set(per_lot))
                .await;
            let (_, maint) = s.env.health_with_perps(&who).await.unwrap();
            assert_eq!(
                maint.is_negative(),
                liquidatable,
                "long {long}: at {mant} (liq {liq}) maint {maint}"
            );
        }
        let whole = carry_sdk::liquidation::per_whole_base(&perps[0].market, liq).unwrap();
        eprintln!("liquidation price (long {long}): {whole} quote native per SOL");
        s.env.set_perp_price(0, SOL).await;
        s.env
            .patch_perp_market(0, |mk| mk.stable_price.set(I80F48::from_i64(1_500_000)))
            .await;
    }
}

/// Wrong accounts in every liquidation instruction: named errors, nothing changed.
#[tokio::test]
async fn liquidation_wrong_accounts_are_refused() {
    let mut s = perp_scene(SOL).await;
    s.env.set_perp_price(0, SOL / 100 * 99).await;
    let a = s.a.account;
    let lkp = s.l.kp.insecure_clone();
    // an account of another exchange as the liquidatee
    let admin = s.env.admin.insecure_clone();
    let usdc = s.env.banks[0].mint;
    let i = sdk::create_exchange(admin.pubkey(), usdc, 1);
    s.env.send(&[i], &[]).await.unwrap();
    let other_ex = exchange_pda(&admin.pubkey(), 1);
    let stranger = s.env.t.funded_keypair(1_000_000_000).await;
    let i = sdk::create_margin_account(stranger.pubkey(), other_ex, 0);
    s.env.send(&[i], &[&stranger]).await.unwrap();
    let foreign = sdk::margin_account_pda(&other_ex, &stranger.pubkey(), 0);
    let i = s.env.liquidate_perp_ix(&s.l, &foreign, 0, u64::MAX);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::ExchangeMismatch)
        .await;
    // a bank that is not the settlement bank
    let sol = s.env.add_bank(9, SOL, default_params()).await;
    let mut i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    i.accounts[6].pubkey = s.env.banks[sol].bank;
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::NotSettlementBank)
        .await;
    // the liquidatee has no position in the market passed
    let p1 = s
        .env
        .add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let i = s.env.liquidate_perp_ix(&s.l, &a, p1, u64::MAX);
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::NothingToLiquidate)
        .await;
    // the order step with another market's book
    let mut i = s.env.liquidate_orders_ix(&a, 0, 10);
    i.accounts[3].pubkey = s.env.perps[p1].book;
    s.env
        .refused(&[i], &[], &[], CarryError::PerpMarketMismatch)
        .await;
    // health pairs missing the liquidatee's market
    let mut i = s.env.liquidate_perp_ix(&s.l, &a, 0, u64::MAX);
    i.accounts.truncate(7 + 2 * s.env.banks.len());
    s.env
        .refused(&[i], &[&lkp], &[], CarryError::HealthAccountsMismatch)
        .await;
    // resolve: wrong vault, wrong insurance vault
    let mut i = s.env.resolve_ix(&a, 0, None);
    i.accounts[3].pubkey = s.env.banks[sol].vault;
    s.env
        .refused(&[i], &[], &[], CarryError::VaultMismatch)
        .await;
    let mut i = s.env.resolve_ix(&a, 0, None);
    i.accounts[5].pubkey = s.env.banks[0].vault;
    s.env
        .refused(&[i], &[], &[], CarryError::InsuranceVaultMismatch)
        .await;
    // deposit_insurance: zero, and a wallet of another mint
    let payer = s.env.user(10 * USDC).await;
    let pkp = payer.kp.insecure_clone();
    let i = s.env.deposit_insurance_ix(&payer, 0);
    s.env
        .refused(&[i], &[&pkp], &[], CarryError::ZeroAmount)
        .await;
    let mut i = s.env.deposit_insurance_ix(&payer, 1);
    i.accounts[4].pubkey = payer.wallet(&s.env.banks[sol].mint);
    s.env
        .refused(&[i], &[&pkp], &[], CarryError::MintMismatch)
        .await;
    // the buffer: admin only, at most 100%
    let i = sdk::set_liquidation_buffer(admin.pubkey(), s.env.exchange, 1_000_001);
    s.env
        .refused(&[i], &[], &[], CarryError::InvalidLiquidationParams)
        .await;
    let i = sdk::set_liquidation_buffer(pkp.pubkey(), s.env.exchange, 0);
    s.env
        .refused(&[i], &[&pkp], &[], CarryError::NotAdmin)
        .await;
    let i = sdk::set_liquidation_buffer(admin.pubkey(), s.env.exchange, 0);
    s.env.send(&[i], &[]).await.unwrap();
    assert_eq!(s.env.exchange_state().await.liquidation_buffer_ppm, 0);
    // market parameters: a fee of 100% of the maintenance ratio is refused
    let mut params = sdk::example_perp_market_params();
    params.liquidation_fee_of_maint_ppm = 1_000_000;
    let i = s.env.edit_perp_market_ix(&admin.pubkey(), 0, params);
    s.env
        .refused(&[i], &[], &[], CarryError::InvalidLiquidationParams)
        .await;
}

/// Over randomized accounts (deposits 20-500 USDC, longs and shorts of 100-3,000 lots), the
/// SDK's health equals the chain's to the bit, and its liquidation price agrees with the
/// chain one oracle step (1e-4 quote native per lot) either side.
#[tokio::test]
async fn sdk_health_and_liquidation_price_equal_the_chain_over_random_accounts() {
    use carry_sdk::health::{health, health_terms, BankSnapshot, PerpSnapshot};
    let mut env = MarginEnv::new().await;
    let admin = env.admin.pubkey();
    let i = env.edit_bank_ix(&admin, 0, usdc_params());
    env.send(&[i], &[]).await.unwrap();
    env.add_perp_market(SOL, sdk::example_perp_market_params())
        .await;
    let maker = trader(&mut env, 1_000_000 * USDC).await;
    env.place_perp(&maker, 0, limit(1, 15_001, 40_000))
        .await
        .unwrap();
    env.place_perp(&maker, 0, limit(0, 14_999, 40_000))
        .await
        .unwrap();
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut checked = 0;
    for n in 0..12 {
        let u = trader(&mut env, (20 + rng.below(480)) * USDC).await;
        let lots = 100 + rng.below(2_900);
        let args = if n % 2 == 0 {
            ioc(0, 15_001, lots)
        } else {
            ioc(1, 14_999, lots)
        };
        if env.place_perp(&u, 0, args).await.is_err() {
            continue; // refused by health: too large for its deposit
        }
        env.consume(0, &[maker.account], 255).await.unwrap();
        let now = env.now().await;
        let acc = env.margin(&u.account).await;
        let b = env.banks[0].clone();
        let banks = vec![BankSnapshot {
            key: b.bank,
            account: env.t.account(&b.bank).await.unwrap(),
            bank: env.bank(0).await,
            oracle: env.t.account(&b.oracle).await.unwrap(),
        }];
        let p = env.perps[0].clone();
        let perps = vec![PerpSnapshot {
            key: p.market,
            account: env.t.account(&p.market).await.unwrap(),
            market: env.perp_market(0).await,
            oracle: env.t.account(&p.oracle).await.unwrap(),
        }];
        let sdk_h = health(&acc, USDC_DECIMALS, &banks, &perps, now).unwrap();
        let (init, maint) = env.health_with_perps(&u.account).await.unwrap();
        assert_eq!((sdk_h.init, sdk_h.maint), (init, maint), "account {n}");
        let terms = health_terms(&acc, USDC_DECIMALS, &banks, &perps, now).unwrap();
        let oracle_now = I80F48::from_i64(env.perps[0].price / 10_000);
        let Some(liq) =
            carry_sdk::liquidation::liquidation_price(&terms, &acc, &perps[0].market, oracle_now)
                .unwrap()
        else {
            continue;
        };
        let mantissa = liq.checked_mul_int(10_000).unwrap().floor_int() as i64;
        let long = n % 2 == 0;
        let (safe, unsafe_) = if long {
            (mantissa + 2, mantissa - 1)
        } else {
            (mantissa - 1, mantissa + 2)
        };
        for (mant, liquidatable) in [(safe, false), (unsafe_, true)] {
            env.set_perp_price(0, mant).await;
            let per_lot =
                I80F48::from_ratio(mant as i128, 10_000, carry_math::Round::Floor).unwrap();
            env.patch_perp_market(0, |mk| mk.stable_price.set(per_lot))
                .await;
            let (_, maint) = env.health_with_perps(&u.account).await.unwrap();
            assert_eq!(maint.is_negative(), liquidatable, "account {n} at {mant}");
        }
        env.set_perp_price(0, SOL).await;
        env.patch_perp_market(0, |mk| mk.stable_price.set(I80F48::from_i64(1_500_000)))
            .await;
        checked += 1;
    }
    eprintln!("SDK health and liquidation price checked on {checked} random accounts");
    assert!(checked >= 6, "{checked}");
}
