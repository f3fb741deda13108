//! Writes the steps files that `bench/sbf/math/run` feeds to the margin-math SBF harness
//! (`bench/sbf/math`) through `../shared/tools/sbf/cu`: one file per scenario
//! (`NAME.steps`, one instruction a line, `LABEL HEXDATA`) and its account sizes
//! (`NAME.accounts`, the `--account` list in order). Setup steps (`setup`) write real account
//! bytes (margin account, banks and perp markets in their zero-copy layout, oracles as Pyth v2
//! price accounts) into the accounts; every other label is a measured row.
//!
//!     cargo run -p carry-bench --release --bin math_steps -- OUT_DIR
//!
//! Every measured step is computed here first on the same bytes with the same code
//! (`bench/sbf/math/src/glue.rs` over `carry-math`), and the result (health bits, new indices,
//! funding index, funding owed) is written into the instruction: the program checks it on SBF,
//! so a figure is only reported when SBF computed exactly what the host computes.

#[allow(dead_code)]
#[path = "../margin_fixture.rs"]
mod fixture;
#[allow(dead_code)]
#[path = "../../sbf/math/src/glue.rs"]
mod glue;
#[allow(dead_code)]
#[path = "../../sbf/math/src/layout.rs"]
mod layout;

use carry_bench::Rng;
use carry_math::I80F48;
use fixture::*;
use glue::Level;
use layout::{pyth_v2, Bank, MarginAccount, PerpLeverageTier, PerpMarket};
use std::path::Path;

const OP_HEALTH: u8 = 1;
const OP_ACCRUE: u8 = 2;
const OP_FUNDING: u8 = 3;
const OP_SETTLE: u8 = 4;
const OP_LIQUIDATE: u8 = 5;
/// The exchange's default liquidation buffer, ppm (`DEFAULT_LIQUIDATION_BUFFER_PPM`).
const LIQUIDATION_BUFFER_PPM: u32 = 250_000;

/// Bank `i` with random indices, pool, accrual age and stable price.
fn bank(rng: &mut Rng, i: usize, now: i64, max_dt: u64) -> Acct {
    let mut a = Acct::new(BANK_BYTES);
    let b: &mut Bank = a.get_mut();
    let di = scale(I80F48::ONE, rand_ppm(rng, 0, 300_000));
    let bi = scale(di, rand_ppm(rng, 0, 200_000));
    let deposits = I80F48::from_u64(rng.range(1_000_000_000, 100_000_000_000_000));
    let util = rand_ppm(rng, 0, 950_000);
    let borrows = scale(deposits, util - 1_000_000);
    b.deposit_index = w(di);
    b.borrow_index = w(bi);
    b.indexed_deposits = w(deposits.checked_div(di).unwrap());
    b.indexed_borrows = w(borrows.checked_div(bi).unwrap());
    b.collected_reserve = w(I80F48::from_u64(rng.range(0, 1_000_000_000)));
    b.last_accrual_ts = now - rng.range(1, max_dt) as i64;
    b.stable_price = w(scale(
        native_price(&ASSETS[i]),
        rand_ppm(rng, -20_000, 20_000),
    ));
    b.stable_price_ts = now - rng.range(1, 900) as i64;
    b.params = bank_params(i);
    b.token_index = i as u16;
    b.decimals = ASSETS[i].decimals;
    a
}

/// Perp market `j` on asset `PERP_ASSET[j]`.
fn market(rng: &mut Rng, j: usize, now: i64) -> Acct {
    let asset = &ASSETS[PERP_ASSET[j]];
    let mut a = Acct::new(MARKET_BYTES);
    let m: &mut PerpMarket = a.get_mut();
    let per_lot = native_price(asset)
        .checked_mul_int(asset.lot as i64)
        .unwrap();
    m.stable_price = w(scale(per_lot, rand_ppm(rng, -20_000, 20_000)));
    m.stable_price_ts = now - rng.range(1, 900) as i64;
    let idx = I80F48::from_bits(rng.range(0, 1 << 50) as i128 - (1 << 49));
    m.funding_index = w(idx);
    m.funding_rate = w(I80F48::from_bits(rng.range(0, 1 << 40) as i128 - (1 << 39)));
    m.funding_premium_secs = w(I80F48::from_bits(rng.range(0, 1 << 52) as i128 - (1 << 51)));
    m.funding_premium_weight_secs = rng.range(0, 3_000);
    m.funding_window_start_ts = now - rng.range(0, 4_000) as i64;
    m.funding_last_update_ts = now - rng.range(1, 120) as i64;
    m.pnl_pool_native = rng.range(0, 10_000_000_000);
    m.base_lot_size = asset.lot;
    m.tick_size = 1;
    let tier = |max: u64, init: u32, maint: u32| PerpLeverageTier {
        max_notional_native: max,
        init_margin_ppm: init,
        maint_margin_ppm: maint,
    };
    m.params.tiers = [
        tier(1_000_000_000_000, 10_000, 5_000),
        tier(10_000_000_000_000, 20_000, 10_000),
        tier(50_000_000_000_000, 50_000, 25_000),
        tier(u64::MAX, 100_000, 50_000),
    ];
    m.params.tier_count = 4;
    m.params.open_interest_limit_lots = u64::MAX;
    m.params.funding_impact_notional = 1_000_000_000;
    m.params.maker_fee_ppm = -100;
    m.params.taker_fee_ppm = 500;
    m.params.oracle_max_age_secs = 60;
    m.params.oracle_max_conf_ppm = 20_000;
    m.params.stable_max_move_ppm_per_hour = 100_000;
    m.params.stable_max_step_secs = 60;
    m.params.unpaid_pnl_haircut_ppm = 200_000;
    m.params.funding_period_secs = 3_600;
    m.params.funding_max_rate_ppm = 10_000;
    m.params.liquidation_fee_of_maint_ppm = 500_000;
    m.params.liquidation_insurance_share_ppm = 200_000;
    m.market_index = j as u16;
    m.base_decimals = asset.decimals;
    a
}

/// A margin account with token slots 0..nt and perp slots 0..np in use.
fn margin(rng: &mut Rng, nt: usize, np: usize, markets: &[Acct]) -> Acct {
    let mut a = Acct::new(MARGIN_BYTES);
    let acc: &mut MarginAccount = a.get_mut();
    for (i, t) in acc.tokens.iter_mut().enumerate().take(nt) {
        t.in_use = 1;
        t.token_index = i as u16;
        // USDC: a large deposit; others: deposits of up to ~$100k, one in four a borrow.
        let value_usd = if i == 0 {
            rng.range(10_000, 1_000_000)
        } else {
            rng.range(10, 100_000)
        };
        // value / price in native units (price: 10^-8 USD per whole token)
        let native = (value_usd as i128 * 100_000_000 * 10i128.pow(ASSETS[i].decimals as u32)
            / ASSETS[i].price as i128)
            .max(1) as i64;
        let borrow = i != 0 && rng.range(0, 3) == 0;
        let shares = I80F48::from_i64(if borrow { -native / 3 } else { native });
        t.indexed_position = w(shares);
    }
    for (j, m) in markets.iter().enumerate().take(np) {
        let m: &PerpMarket = m.get();
        let per_lot = glue::fx(m.stable_price);
        let p = &mut acc.perps[j];
        p.in_use = 1;
        p.market_index = j as u16;
        // notional up to about $200k at the lot price
        let max_lots = (200_000_000_000i128 / per_lot.floor_int().max(1)).max(2) as u64;
        let lots = rng.range(1, max_lots) as i64;
        p.base_lots = if rng.range(0, 1) == 0 { lots } else { -lots };
        let entry = scale(per_lot, rand_ppm(rng, -100_000, 100_000));
        p.quote_native = w(entry.checked_mul_int(p.base_lots).unwrap());
        let idx = glue::fx(m.funding_index);
        p.funding_snapshot = w(I80F48::from_bits(
            idx.to_bits() - rng.range(0, 1 << 44) as i128,
        ));
        p.bids_base_lots = if rng.range(0, 2) == 0 {
            rng.range(0, max_lots) as i64
        } else {
            0
        };
        p.asks_base_lots = if rng.range(0, 2) == 0 {
            rng.range(0, max_lots) as i64
        } else {
            0
        };
    }
    a
}

fn health_ix(nt: usize, np: usize, now: i64, expect: Option<(I80F48, I80F48)>) -> Vec<u8> {
    let mut ix = vec![OP_HEALTH, nt as u8, np as u8, QUOTE_DECIMALS, 0, 0, 0, 0];
    ix.extend_from_slice(&now.to_le_bytes());
    let (i, m) = expect.unwrap_or((I80F48::ZERO, I80F48::ZERO));
    for v in [i, m] {
        for word in v.to_words() {
            ix.extend_from_slice(&word.to_le_bytes());
        }
    }
    ix
}

/// Full health of an account with `nt` token and `np` perp positions. Accounts: margin, then
/// (bank, oracle) pairs, then (perp market, oracle) pairs.
///
/// `fresh`: every bank accrued this second (`last_accrual_ts == now`, as after a crank in the
/// same slot), so health reads the stored indices instead of accruing them in memory.
fn health_scenario(dir: &Path, rng: &mut Rng, nt: usize, np: usize, fresh: bool) {
    let name = if fresh {
        format!("health-t{nt}-p{np}-fresh")
    } else {
        format!("health-t{nt}-p{np}")
    };
    let mut s = Steps::new();
    for k in 0..SAMPLES {
        let now = 1_750_000_000 + 1_000 * k as i64;
        let banks: Vec<Acct> = (0..nt)
            .map(|i| {
                let mut b = bank(rng, i, now, 600);
                if fresh {
                    b.get_mut::<Bank>().last_accrual_ts = now;
                }
                b
            })
            .collect();
        let oracles: Vec<Acct> = (0..nt).map(|i| pyth(rng, ASSETS[i].price, now)).collect();
        let markets: Vec<Acct> = (0..np).map(|j| market(rng, j, now)).collect();
        let poracles: Vec<Acct> = (0..np)
            .map(|j| pyth(rng, ASSETS[PERP_ASSET[j]].price, now))
            .collect();
        let acc = margin(rng, nt, np, &markets);
        let bank_pairs: Vec<(&Bank, &[u8])> = banks
            .iter()
            .zip(&oracles)
            .map(|(b, o)| (b.get::<Bank>(), o.bytes()))
            .collect();
        let market_pairs: Vec<(&PerpMarket, &[u8])> = markets
            .iter()
            .zip(&poracles)
            .map(|(m, o)| (m.get::<PerpMarket>(), o.bytes()))
            .collect();
        let expect = glue::health(acc.get(), &bank_pairs, &market_pairs, now, QUOTE_DECIMALS)
            .unwrap_or_else(|e| panic!("{name} sample {k}: {e:?}"));
        s.write(0, acc.bytes(), MARGIN_BYTES);
        for i in 0..nt {
            s.write(1 + 2 * i, banks[i].bytes(), BANK_BYTES);
            s.write(2 + 2 * i, oracles[i].bytes(), pyth_v2::HEAD_SIZE);
        }
        for j in 0..np {
            let i = 1 + 2 * (nt + j);
            s.write(i, markets[j].bytes(), MARKET_BYTES);
            s.write(i + 1, poracles[j].bytes(), pyth_v2::HEAD_SIZE);
        }
        s.step(&name, &health_ix(nt, np, now, Some(expect)));
        // the profile ops on the same bytes (token 0 or 1, perp 0), in their own scenarios
        if nt == 8 && np == 8 && !fresh {
            PROFILE.with(|p| {
                let mut p = p.borrow_mut();
                let t = if nt > 1 { 1 } else { 0 };
                p.push((
                    acc.bytes().to_vec(),
                    banks[t].bytes().to_vec(),
                    oracles[t].bytes()[..pyth_v2::HEAD_SIZE].to_vec(),
                    markets[0].bytes().to_vec(),
                    poracles[0].bytes()[..pyth_v2::HEAD_SIZE].to_vec(),
                    now,
                ));
            });
        }
    }
    let accounts = std::iter::once(MARGIN_BYTES)
        .chain((0..nt).flat_map(|_| [BANK_BYTES, ORACLE_BYTES]))
        .chain((0..np).flat_map(|_| [MARKET_BYTES, ORACLE_BYTES]))
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    save(dir, &name, &s.out, &accounts);
}

/// `liquidate_perp`'s "just enough" search for an account with `nt` tokens and `np` perps
/// whose first position is made liquidatable (no resting orders, a loss that puts maintenance
/// health below zero by up to a fifth of its maintenance requirement), the lots computed here
/// by the same code and checked on SBF.
fn liquidation_scenario(dir: &Path, rng: &mut Rng, nt: usize, np: usize) {
    let name = format!("liquidation-t{nt}-p{np}");
    let mut s = Steps::new();
    let mut k = 0usize;
    let mut tries = 0;
    while k < SAMPLES {
        tries += 1;
        assert!(tries < 50 * SAMPLES, "{name}: no liquidatable samples");
        let now = 1_750_000_000 + 1_000 * tries as i64;
        let banks: Vec<Acct> = (0..nt).map(|i| bank(rng, i, now, 600)).collect();
        let oracles: Vec<Acct> = (0..nt).map(|i| pyth(rng, ASSETS[i].price, now)).collect();
        let markets: Vec<Acct> = (0..np).map(|j| market(rng, j, now)).collect();
        let poracles: Vec<Acct> = (0..np)
            .map(|j| pyth(rng, ASSETS[PERP_ASSET[j]].price, now))
            .collect();
        let mut acc = margin(rng, nt, np, &markets);
        let bank_pairs: Vec<(&Bank, &[u8])> = banks
            .iter()
            .zip(&oracles)
            .map(|(b, o)| (b.get::<Bank>(), o.bytes()))
            .collect();
        let market_pairs: Vec<(&PerpMarket, &[u8])> = markets
            .iter()
            .zip(&poracles)
            .map(|(m, o)| (m.get::<PerpMarket>(), o.bytes()))
            .collect();
        {
            let a: &mut MarginAccount = acc.get_mut();
            for p in a.perps.iter_mut() {
                p.bids_base_lots = 0;
                p.asks_base_lots = 0;
            }
        }
        let Ok((_, maint)) =
            glue::health(acc.get(), &bank_pairs, &market_pairs, now, QUOTE_DECIMALS)
        else {
            continue;
        };
        // a loss on the first position: maintenance health to -(0..20% of the notional x 1%)
        let notional = {
            let a: &MarginAccount = acc.get();
            let m: &PerpMarket = markets[0].get();
            glue::fx(m.stable_price)
                .checked_mul_int(a.perps[0].base_lots.abs())
                .unwrap()
        };
        let dip = scale(notional, rand_ppm(rng, 100, 2_000));
        {
            let a: &mut MarginAccount = acc.get_mut();
            let q = glue::fx(a.perps[0].quote_native)
                .checked_add(maint)
                .unwrap()
                .checked_add(dip)
                .unwrap();
            a.perps[0].quote_native = w(q);
        }
        let Ok(lots) = glue::perp_liquidation_lots(
            acc.get(),
            &bank_pairs,
            &market_pairs,
            0,
            now,
            QUOTE_DECIMALS,
            LIQUIDATION_BUFFER_PPM,
        ) else {
            continue;
        };
        if lots == 0 {
            continue;
        }
        s.write(0, acc.bytes(), MARGIN_BYTES);
        for i in 0..nt {
            s.write(1 + 2 * i, banks[i].bytes(), BANK_BYTES);
            s.write(2 + 2 * i, oracles[i].bytes(), pyth_v2::HEAD_SIZE);
        }
        for j in 0..np {
            let i = 1 + 2 * (nt + j);
            s.write(i, markets[j].bytes(), MARKET_BYTES);
            s.write(i + 1, poracles[j].bytes(), pyth_v2::HEAD_SIZE);
        }
        let mut ix = vec![OP_LIQUIDATE, nt as u8, np as u8, QUOTE_DECIMALS];
        ix.extend_from_slice(&LIQUIDATION_BUFFER_PPM.to_le_bytes());
        ix.extend_from_slice(&now.to_le_bytes());
        ix.extend_from_slice(&lots.to_le_bytes());
        s.step(&name, &ix);
        k += 1;
    }
    let accounts = std::iter::once(MARGIN_BYTES)
        .chain((0..nt).flat_map(|_| [BANK_BYTES, ORACLE_BYTES]))
        .chain((0..np).flat_map(|_| [MARKET_BYTES, ORACLE_BYTES]))
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    save(dir, &name, &s.out, &accounts);
}

type ProfileSample = (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>, i64);
thread_local! {
    static PROFILE: std::cell::RefCell<Vec<ProfileSample>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Parts of a health computation alone, on the 8 + 8 samples' bytes.
fn profile_scenarios(dir: &Path) {
    let samples = PROFILE.with(|p| p.borrow().clone());
    let ops: [(&str, u8, &[usize]); 9] = [
        ("99-p-entry", 0x20, &[MARGIN_BYTES]),
        ("99-p-oracle", 0x21, &[BANK_BYTES, ORACLE_BYTES]),
        ("99-p-stable", 0x22, &[BANK_BYTES, ORACLE_BYTES]),
        ("99-p-indices", 0x23, &[BANK_BYTES]),
        (
            "99-p-token-term",
            0x24,
            &[MARGIN_BYTES, BANK_BYTES, ORACLE_BYTES],
        ),
        (
            "99-p-perp-term",
            0x25,
            &[MARGIN_BYTES, MARKET_BYTES, ORACLE_BYTES],
        ),
        (
            "99-p-perp-tiers",
            0x27,
            &[MARGIN_BYTES, MARKET_BYTES, ORACLE_BYTES],
        ),
        (
            "99-p-perp-health",
            0x28,
            &[MARGIN_BYTES, MARKET_BYTES, ORACLE_BYTES],
        ),
        (
            "99-p-perp-oracle",
            0x29,
            &[MARGIN_BYTES, MARKET_BYTES, ORACLE_BYTES],
        ),
    ];
    for (name, op, sizes) in ops {
        let mut s = Steps::new();
        for (acc, bank, oracle, market, poracle, now) in &samples {
            let mut ix = health_ix(0, 0, *now, None);
            ix[0] = op;
            match op {
                0x20 => s.write(0, acc, MARGIN_BYTES),
                0x21 | 0x22 => {
                    s.write(0, bank, BANK_BYTES);
                    s.write(1, oracle, oracle.len());
                }
                0x23 => s.write(0, bank, BANK_BYTES),
                0x24 => {
                    s.write(0, acc, MARGIN_BYTES);
                    s.write(1, bank, BANK_BYTES);
                    s.write(2, oracle, oracle.len());
                }
                _ => {
                    s.write(0, acc, MARGIN_BYTES);
                    s.write(1, market, MARKET_BYTES);
                    s.write(2, poracle, poracle.len());
                }
            }
            s.step(&name[5..], &ix);
        }
        let accounts = sizes
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        save(dir, name, &s.out, &accounts);
    }
}

/// One bank's interest accrual (`accrue_interest`): indices, reserve and time stored.
fn accrue_scenario(dir: &Path, rng: &mut Rng) {
    let mut s = Steps::new();
    for k in 0..2 * SAMPLES {
        let now = 1_750_000_000 + 1_000 * k as i64;
        let mut b = bank(rng, k % 8, now, 86_400);
        s.write(0, b.bytes(), BANK_BYTES);
        glue::accrue(b.get_mut(), now).expect("accrue");
        let bank: &Bank = b.get();
        let mut ix = vec![OP_ACCRUE, 0, 0, 0, 0, 0, 0, 0];
        ix.extend_from_slice(&now.to_le_bytes());
        for word in bank.deposit_index.iter().chain(&bank.borrow_index) {
            ix.extend_from_slice(&word.to_le_bytes());
        }
        s.step("accrue", &ix);
    }
    save(dir, "accrue", &s.out, &BANK_BYTES.to_string());
}

/// Levels of one side around `center` (per lot), best first, `n` of them, enough lots in all
/// to fill the impact notional.
fn levels(rng: &mut Rng, bids: bool, center: I80F48, n: usize, notional: u64) -> Vec<Level> {
    let per_level = notional / n as u64 + 1;
    let mut off = 0;
    (0..n)
        .map(|_| {
            off += rand_ppm(rng, 100, 1_000);
            let price = scale(center, if bids { -off } else { off });
            let lots = (I80F48::from_u64(per_level)
                .checked_div(price)
                .unwrap()
                .ceil_int() as i64)
                .max(1)
                + 1;
            Level {
                price: w(price),
                lots,
                padding: 0,
            }
        })
        .collect()
}

/// The funding crank after the book walk (`update_funding`), with 1 to 4 levels a side.
fn funding_scenario(dir: &Path, rng: &mut Rng) {
    let mut s = Steps::new();
    for k in 0..2 * SAMPLES {
        let now = 1_750_000_000 + 1_000 * k as i64;
        let j = k % 8;
        let mut m = market(rng, j, now);
        let o = pyth(rng, ASSETS[PERP_ASSET[j]].price, now);
        let oracle = glue::perp_oracle_price(m.get(), o.bytes(), now, QUOTE_DECIMALS).unwrap();
        // the book's middle within 0.5% of the oracle: crossing it sometimes
        let center = scale(oracle, rand_ppm(rng, -5_000, 5_000));
        let notional = m.get::<PerpMarket>().params.funding_impact_notional;
        let nb = rng.range(1, 4) as usize;
        let na = rng.range(1, 4) as usize;
        let bids = levels(rng, true, center, nb, notional);
        let asks = levels(rng, false, center, na, notional);
        s.write(0, m.bytes(), MARKET_BYTES);
        s.write(1, o.bytes(), pyth_v2::HEAD_SIZE);
        let up = glue::update_funding(m.get_mut(), o.bytes(), now, QUOTE_DECIMALS, &bids, &asks)
            .expect("funding");
        let mut ix = vec![OP_FUNDING, QUOTE_DECIMALS, nb as u8, na as u8, 0, 0, 0, 0];
        ix.extend_from_slice(&now.to_le_bytes());
        for word in up.index.to_words() {
            ix.extend_from_slice(&word.to_le_bytes());
        }
        ix.extend_from_slice(bytemuck::cast_slice(&bids));
        ix.extend_from_slice(bytemuck::cast_slice(&asks));
        s.step("funding-update", &ix);
    }
    save(
        dir,
        "funding-update",
        &s.out,
        &format!("{MARKET_BYTES} {ORACLE_BYTES}"),
    );
}

/// A position's funding settlement (`settle_funding`, as on every fill and PnL settlement).
fn settle_scenario(dir: &Path, rng: &mut Rng) {
    let mut s = Steps::new();
    for k in 0..2 * SAMPLES {
        let now = 1_750_000_000 + 1_000 * k as i64;
        let j = k % 8;
        let markets: Vec<Acct> = (0..8).map(|j| market(rng, j, now)).collect();
        let mut acc = margin(rng, 1, 8, &markets);
        s.write(0, acc.bytes(), MARGIN_BYTES);
        s.write(1, markets[j].bytes(), MARKET_BYTES);
        let owed = glue::settle_funding(
            markets[j].get(),
            &mut acc.get_mut::<MarginAccount>().perps[j],
        )
        .expect("settle");
        let mut ix = vec![OP_SETTLE, j as u8, 0, 0, 0, 0, 0, 0];
        ix.extend_from_slice(&owed.to_le_bytes());
        s.step("funding-settle", &ix);
    }
    save(
        dir,
        "funding-settle",
        &s.out,
        &format!("{MARGIN_BYTES} {MARKET_BYTES}"),
    );
}

fn save(dir: &Path, name: &str, steps: &str, accounts: &str) {
    std::fs::write(dir.join(format!("{name}.steps")), steps).expect("write steps");
    std::fs::write(dir.join(format!("{name}.accounts")), accounts).expect("write accounts");
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: math_steps OUT_DIR");
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("out dir");
    let mut rng = Rng(0x5eed_c0de_2026);
    for nt in [1, 4, 8] {
        for np in [0, 4, 8] {
            health_scenario(dir, &mut rng, nt, np, false);
        }
    }
    health_scenario(dir, &mut rng, 8, 8, true);
    profile_scenarios(dir);
    accrue_scenario(dir, &mut rng);
    funding_scenario(dir, &mut rng);
    settle_scenario(dir, &mut rng);
    liquidation_scenario(dir, &mut rng, 1, 1);
    liquidation_scenario(dir, &mut rng, 4, 4);
}
