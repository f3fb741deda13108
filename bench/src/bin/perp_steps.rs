//! Writes the steps files that `bench/sbf/perp/run` feeds to the perp-order SBF harness
//! (`bench/sbf/perp`) through `../shared/tools/sbf/cu`: one file per scenario (`NAME.steps`,
//! one instruction a line, `LABEL HEXDATA`) and its account sizes (`NAME.accounts`).
//!
//!     cargo run -p carry-bench --release --bin perp_steps -- OUT_DIR
//!
//! Each scenario first builds a perp book (4,096 orders a side, 512 events) holding
//! `RESTING` orders a side from 64 makers, then per sample writes fresh real account bytes
//! (margin account, perp markets, banks, Pyth v2 oracles, as `math_steps`) and runs one
//! measured instruction: a perp order (`place_perp_order` + health) or one maker fill of the
//! event crank. Every step runs here first on the same bytes with the same code
//! (`bench/sbf/perp/src/perp.rs`, `bench/sbf/math/src/glue.rs`), and the outcome (fills,
//! posted lots, the position after, initial health bits) is written into the instruction:
//! the program checks it on SBF. Setup steps (label `setup`) restore the book after a taker.

#[allow(dead_code)]
#[path = "../margin_fixture.rs"]
mod fixture;
#[allow(dead_code)]
#[path = "../../sbf/math/src/glue.rs"]
mod glue;
#[allow(dead_code)]
#[path = "../../sbf/math/src/layout.rs"]
mod layout;
#[allow(dead_code)]
#[path = "../../sbf/perp/src/perp.rs"]
mod perp;

use bytemuck::{Pod, Zeroable};
use carry_bench::Rng;
use carry_book::{Book, MatchContext, NewOrder, OpenOrders, OrderSide, OrderType, SelfTradeMode};
use carry_math::I80F48;
use fixture::*;
use layout::{pyth_v2, Bank, MarginAccount, PerpLeverageTier, PerpMarket};
use perp::{PerpBookHeader, PerpFail, PlaceArgs, BOOK_OFFSET};
use std::collections::BTreeMap;
use std::path::Path;

const CAPACITY: u32 = 4096;
const EVENTS: u32 = 512;
/// Resting orders a side (other makers).
const RESTING: usize = 4000;
/// Entries per setup batch.
const BATCH: usize = 64;
/// Ticks between the best bid and the best ask of the makers' book.
const SPREAD: u64 = 2_000;
const MAKERS: u64 = 64;
const TAKER: u32 = 1_000;
const CRANK_MAKER: u32 = 200;
const T0: i64 = 1_750_000_000;

const OP_INIT: u8 = 1;
const OP_REST: u8 = 2;
const OP_TAKER: u8 = 3;
const OP_POP: u8 = 4;
const OP_PLACE: u8 = 5;
const OP_CONSUME: u8 = 6;
const OP_HEALTH: u8 = 7;
const _: () = assert!(OP_HEALTH == 7);

const BOOK_BYTES: usize = BOOK_OFFSET + Book::size_of(CAPACITY, EVENTS);

// Instruction layouts of bench/sbf/perp/src/lib.rs.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct InitIx {
    op: u8,
    _pad: [u8; 3],
    order_capacity: u32,
    event_capacity: u32,
    max_fills: u32,
    tick_size: u64,
    base_lot_size: u64,
}
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct BatchEntry {
    flags: u8,
    owner: u8,
    quantity: u16,
    price: u32,
}
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct TakerIx {
    op: u8,
    side: u8,
    _pad: [u8; 2],
    owner: u32,
    price: u64,
    quantity: u64,
    now: u64,
}
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PlaceIx {
    op: u8,
    n_tokens: u8,
    n_perps: u8,
    quote_decimals: u8,
    owner: u32,
    now: i64,
    slot: u64,
    args: PlaceArgs,
    events: u8,
    expect_fills: u8,
    expect_adds_risk: u8,
    _pad: [u8; 5],
    expect_posted: u64,
    expect_base_lots: i64,
    expect_quote: [u64; 2],
    expect_init: [u64; 2],
}
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct ConsumeIx {
    op: u8,
    events: u8,
    _pad: [u8; 2],
    maker: u32,
    expect_base_lots: i64,
    expect_quote: [u64; 2],
}

fn owner_key(n: u32) -> [u8; 32] {
    let w = n as u64 | (n as u64) << 32;
    bytemuck::cast([w; 4])
}
const MARKET_KEY: [u8; 32] = [7; 32];
const EXCHANGE: [u8; 32] = [3; 32];

/// Price of a lot of perp market `j` in ticks (tick = 1 quote native per lot).
fn lot_ticks(j: usize) -> u64 {
    let a = &ASSETS[PERP_ASSET[j]];
    native_price(a)
        .checked_mul_int(a.lot as i64)
        .unwrap()
        .floor_int() as u64
}

fn bank(rng: &mut Rng, i: usize, now: i64) -> Acct {
    let mut a = Acct::new(BANK_BYTES);
    let b: &mut Bank = a.get_mut();
    let di = scale(I80F48::ONE, rand_ppm(rng, 0, 300_000));
    let bi = scale(di, rand_ppm(rng, 0, 200_000));
    let deposits = I80F48::from_u64(rng.range(1_000_000_000, 100_000_000_000_000));
    let util = rand_ppm(rng, 0, 950_000);
    let borrows = scale(deposits, util - 1_000_000);
    b.exchange = EXCHANGE;
    b.deposit_index = w(di);
    b.borrow_index = w(bi);
    b.indexed_deposits = w(deposits.checked_div(di).unwrap());
    b.indexed_borrows = w(borrows.checked_div(bi).unwrap());
    b.collected_reserve = w(I80F48::from_u64(rng.range(0, 1_000_000_000)));
    b.last_accrual_ts = now - rng.range(1, 600) as i64;
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

fn market(rng: &mut Rng, j: usize, now: i64) -> Acct {
    let asset = &ASSETS[PERP_ASSET[j]];
    let mut a = Acct::new(MARKET_BYTES);
    let m: &mut PerpMarket = a.get_mut();
    let per_lot = native_price(asset)
        .checked_mul_int(asset.lot as i64)
        .unwrap();
    m.exchange = EXCHANGE;
    m.stable_price = w(scale(per_lot, rand_ppm(rng, -20_000, 20_000)));
    m.stable_price_ts = now - rng.range(1, 900) as i64;
    m.funding_index = w(I80F48::from_bits(rng.range(0, 1 << 50) as i128 - (1 << 49)));
    m.funding_rate = w(I80F48::from_bits(rng.range(0, 1 << 40) as i128 - (1 << 39)));
    m.funding_last_update_ts = now - rng.range(1, 120) as i64;
    m.open_interest_lots = rng.range(1_000_000, 100_000_000);
    m.pnl_pool_native = rng.range(0, 10_000_000_000);
    m.fees_accrued_native = rng.range(0, 1_000_000_000);
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
    m.params.open_interest_limit_lots = 1_000_000_000_000;
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
    m.market_index = j as u16;
    m.base_decimals = asset.decimals;
    a
}

#[allow(clippy::needless_range_loop)]
/// A margin account with token slots 0..nt and perp slots 0..np in use (perp slot j in
/// market j).
fn margin(rng: &mut Rng, nt: usize, np: usize, markets: &[Acct]) -> Acct {
    let mut a = Acct::new(MARGIN_BYTES);
    a.bytes_mut()[..8].copy_from_slice(&perp::MARGIN_DISCRIMINATOR);
    let acc: &mut MarginAccount = a.get_mut();
    acc.exchange = EXCHANGE;
    for i in 0..nt {
        let t = &mut acc.tokens[i];
        t.in_use = 1;
        t.token_index = i as u16;
        let value_usd = if i == 0 {
            rng.range(100_000, 1_000_000)
        } else {
            rng.range(10, 100_000)
        };
        let tokens = value_usd as i128 * 100_000_000 / ASSETS[i].price as i128;
        let native = (tokens * 10i128.pow(ASSETS[i].decimals as u32)).max(1) as i64;
        let borrow = i != 0 && rng.range(0, 3) == 0;
        t.indexed_position = w(I80F48::from_i64(if borrow { -native / 3 } else { native }));
    }
    for (j, m) in markets.iter().enumerate().take(np) {
        let m: &PerpMarket = m.get();
        let per_lot = glue::fx(m.stable_price);
        let p = &mut acc.perps[j];
        p.in_use = 1;
        p.market_index = j as u16;
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
            rng.range(0, 1_000) as i64
        } else {
            0
        };
        p.asks_base_lots = if rng.range(0, 2) == 0 {
            rng.range(0, 1_000) as i64
        } else {
            0
        };
    }
    a
}

fn setup_listener() -> perp::PerpListener<'static> {
    perp::PerpListener {
        owner: &[0; 32],
        market: &MARKET_KEY,
        released: [0; 2],
        events: false,
    }
}

/// The makers' book: price -> (owner, lots), one order a price, each side.
struct MakerBook {
    asks: BTreeMap<u64, (u8, u16)>,
    bids: BTreeMap<u64, (u8, u16)>,
}

/// The host copy of the book account and the steps that keep the SBF copy equal to it.
struct World {
    book: Acct,
    makers: MakerBook,
    center: u64,
}

impl World {
    fn new(s: &mut Steps, rng: &mut Rng, center: u64, lot: u64) -> Self {
        let mut book = Acct::new(BOOK_BYTES);
        let init = InitIx {
            op: OP_INIT,
            _pad: [0; 3],
            order_capacity: CAPACITY,
            event_capacity: EVENTS,
            max_fills: perp::PERP_MAX_FILLS,
            tick_size: 1,
            base_lot_size: lot,
        };
        s.step("setup", bytemuck::bytes_of(&init));
        {
            let (head, b) = book.bytes_mut().split_at_mut(BOOK_OFFSET);
            let h: &mut PerpBookHeader = bytemuck::from_bytes_mut(&mut head[8..]);
            h.tick_size = 1;
            h.base_lot_size = lot;
            h.order_capacity = CAPACITY;
            h.event_capacity = EVENTS;
            h.max_fills = perp::PERP_MAX_FILLS;
            Book::init(b, CAPACITY, EVENTS).unwrap();
        }
        let mut world = World {
            book,
            makers: MakerBook {
                asks: BTreeMap::new(),
                bids: BTreeMap::new(),
            },
            center,
        };
        let mut entries = Vec::new();
        for i in 0..RESTING as u64 {
            for ask in [false, true] {
                let price = if ask {
                    center + SPREAD / 2 + i
                } else {
                    center - SPREAD / 2 - i
                };
                entries.push(BatchEntry {
                    flags: ask as u8,
                    owner: rng.range(1, MAKERS) as u8,
                    quantity: rng.range(1, 200) as u16,
                    price: price as u32,
                });
            }
        }
        world.rest(s, &entries);
        world
    }

    fn book_mut(&mut self) -> Book<'_> {
        Book::load(&mut self.book.bytes_mut()[BOOK_OFFSET..]).unwrap()
    }

    /// Post-only maker orders that must rest (setup), on both copies.
    fn rest(&mut self, s: &mut Steps, entries: &[BatchEntry]) {
        for chunk in entries.chunks(BATCH) {
            let mut ix = vec![OP_REST, 0, 0, 0, 0, 0, 0, 0];
            ix.extend_from_slice(&0u64.to_le_bytes());
            ix.extend_from_slice(bytemuck::cast_slice(chunk));
            s.step("setup", &ix);
        }
        let ctx = MatchContext {
            now: 0,
            slot: 0,
            oracle_price: None,
        };
        for e in entries {
            let side = if e.flags & 1 != 0 {
                OrderSide::Ask
            } else {
                OrderSide::Bid
            };
            let order = NewOrder {
                owner: owner_key(e.owner as u32),
                side,
                kind: OrderType::PostOnly,
                price: e.price as u64,
                peg_offset: 0,
                quantity: e.quantity as u64,
                client_order_id: 0,
                expires_at: 0,
                expires_at_slot: 0,
                max_fills: 1,
                self_trade: SelfTradeMode::Abort,
                min_base_fill: 0,
                min_quote_fill: 0,
                quote_budget: 0,
            };
            let out = self
                .book_mut()
                .place(&order, &ctx, &mut OpenOrders::new(), &mut setup_listener())
                .unwrap();
            assert_eq!(out.posted_quantity, e.quantity as u64);
            let map = if e.flags & 1 != 0 {
                &mut self.makers.asks
            } else {
                &mut self.makers.bids
            };
            if e.owner as u32 != CRANK_MAKER && (e.owner as u64) <= MAKERS {
                map.insert(e.price as u64, (e.owner, e.quantity));
            }
        }
    }

    fn pop(&mut self, s: &mut Steps) {
        s.step("setup", &[OP_POP, 0, 0, 0, 0, 0, 0, 0]);
        let mut b = self.book_mut();
        let n = b.event_count();
        b.pop_events(n).unwrap();
    }

    /// The best `k` maker orders of the side a taker on `side` meets, taken out of the maker
    /// map (to be put back with `rest`).
    fn take_best(&mut self, side: OrderSide, k: usize) -> Vec<BatchEntry> {
        let mut out = Vec::new();
        for _ in 0..k {
            let (price, (owner, qty), ask) = match side {
                OrderSide::Bid => {
                    let (p, v) = self.makers.asks.pop_first().unwrap();
                    (p, v, true)
                }
                OrderSide::Ask => {
                    let (p, v) = self.makers.bids.pop_last().unwrap();
                    (p, v, false)
                }
            };
            out.push(BatchEntry {
                flags: ask as u8,
                owner,
                quantity: qty,
                price: price as u32,
            });
        }
        out
    }
}

fn save(dir: &Path, name: &str, steps: &str, accounts: &[usize]) {
    std::fs::write(dir.join(format!("{name}.steps")), steps).expect("write steps");
    let a = accounts
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    std::fs::write(dir.join(format!("{name}.accounts")), a).expect("write accounts");
}

/// Whether the order adds risk (then health runs), and what is measured.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Risk {
    /// Adds to the position: health and the init >= 0 check run.
    Adds,
    /// As `Adds`, every bank accrued this second (health's indices need no accrual).
    AddsAccrued,
    /// Only reduces the position: no health (as the program).
    Reduces,
    /// Profile: the order runs as setup (adding risk), then harness op `.0` alone is measured
    /// on the accounts after it (7 health, 8 funding settlement + one fill applied, 9 the
    /// market's oracle price per lot).
    Profile(u8),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A post-only order inside the spread: rests, no fill.
    Rest,
    /// An immediate-or-cancel order taking exactly the best `n` makers.
    Ioc(usize),
}

/// Perp orders on market 0 by an account with `nt` tokens and `np` perps.
#[allow(clippy::too_many_arguments)]
fn place_scenario(
    dir: &Path,
    rng: &mut Rng,
    name: &str,
    kind: Kind,
    nt: usize,
    np: usize,
    events: bool,
    risk: Risk,
) {
    let mut s = Steps { out: String::new() };
    let center = lot_ticks(0);
    let mut world = World::new(&mut s, rng, center, ASSETS[PERP_ASSET[0]].lot);
    let key = owner_key(TAKER);
    for k in 0..SAMPLES {
        let now = T0 + 10 * k as i64;
        let side = if rng.range(0, 1) == 0 {
            OrderSide::Bid
        } else {
            OrderSide::Ask
        };
        let taken = match kind {
            Kind::Ioc(n) => world.take_best(side, n),
            Kind::Rest => Vec::new(),
        };
        let (price, qty, order_kind) = match kind {
            Kind::Rest => {
                let off = rng.range(1, SPREAD / 2 - 1);
                let p = if side == OrderSide::Bid {
                    center - off
                } else {
                    center + off
                };
                (p, rng.range(1, 200), OrderType::PostOnly)
            }
            Kind::Ioc(_) => (
                taken.last().unwrap().price as u64,
                taken.iter().map(|e| e.quantity as u64).sum(),
                OrderType::ImmediateOrCancel,
            ),
        };
        let args = PlaceArgs {
            side: side as u8,
            order_kind: order_kind as u8,
            self_trade: SelfTradeMode::DecrementTake as u8,
            reduce_only: 0,
            _pad: 0,
            price_ticks: price,
            peg_offset_ticks: 0,
            max_base_lots: qty,
            client_order_id: k as u64 + 1,
            expires_at: 0,
            expires_at_slot: 0,
        };
        // Accounts of the sample; a new margin account until the order passes health.
        let mut banks: Vec<Acct> = (0..nt).map(|i| bank(rng, i, now)).collect();
        if risk == Risk::AddsAccrued {
            for b in &mut banks {
                b.get_mut::<Bank>().last_accrual_ts = now;
            }
        }
        let boracles: Vec<Acct> = (0..nt).map(|i| pyth(rng, ASSETS[i].price, now)).collect();
        let markets: Vec<Acct> = (0..np).map(|j| market(rng, j, now)).collect();
        let poracles: Vec<Acct> = (0..np)
            .map(|j| pyth(rng, ASSETS[PERP_ASSET[j]].price, now))
            .collect();
        let mut tries = 0;
        let (acc, result) = loop {
            tries += 1;
            assert!(tries < 100, "{name}: no margin account passes health");
            let mut acc = margin(rng, nt, np, &markets);
            {
                // The order adds to the position (health checked) or only reduces it.
                let p = &mut acc.get_mut::<MarginAccount>().perps[0];
                let lots = p.base_lots.unsigned_abs() as i64 + qty as i64;
                let long = (side == OrderSide::Bid) == (risk != Risk::Reduces);
                let quote = glue::fx(p.quote_native)
                    .checked_div(I80F48::from_i64(p.base_lots))
                    .unwrap();
                p.base_lots = if long { lots } else { -lots };
                p.quote_native = w(quote.checked_mul_int(p.base_lots).unwrap());
                if risk == Risk::Reduces {
                    p.bids_base_lots = 0;
                    p.asks_base_lots = 0;
                }
            }
            let mut book = world.book.clone();
            let mut m = markets[0].clone();
            let mut a = acc.clone();
            let env = perp::Env {
                now,
                slot: 1_000 + k as u64,
                quote_decimals: QUOTE_DECIMALS,
                account_key: &key,
                market_key: &MARKET_KEY,
                signer_key: &key,
                events: false,
            };
            let placed = perp::place_perp_order(&mut perp::PlaceIn {
                book: book.bytes_mut(),
                market: m.get_mut(),
                oracle: poracles[0].bytes(),
                acc: a.get_mut(),
                args: &args,
                env: &env,
            })
            .unwrap_or_else(|e| panic!("{name} sample {k}: {e:?}"));
            let init = if placed.adds_risk {
                let bp: Vec<(&Bank, &[u8])> = banks
                    .iter()
                    .zip(&boracles)
                    .map(|(b, o)| (b.get::<Bank>(), o.bytes()))
                    .collect();
                let mut mp: Vec<(&PerpMarket, &[u8])> =
                    vec![(m.get::<PerpMarket>(), poracles[0].bytes())];
                for j in 1..np {
                    mp.push((markets[j].get::<PerpMarket>(), poracles[j].bytes()));
                }
                let (init, _) = glue::health(a.get(), &bp, &mp, now, QUOTE_DECIMALS).unwrap();
                if init.is_negative() {
                    continue;
                }
                init
            } else {
                I80F48::ZERO
            };
            break (acc, (placed, init, book, a));
        };
        let (placed, init, book_after, acc_after) = result;
        assert_eq!(placed.adds_risk, risk != Risk::Reduces, "{name}: adds risk");
        // setup: the sample's accounts
        s.write(1, markets[0].bytes(), MARKET_BYTES);
        s.write(2, acc.bytes(), MARGIN_BYTES);
        s.write(3, poracles[0].bytes(), pyth_v2::HEAD_SIZE);
        for i in 0..nt {
            s.write(4 + 2 * i, banks[i].bytes(), BANK_BYTES);
            s.write(5 + 2 * i, boracles[i].bytes(), pyth_v2::HEAD_SIZE);
        }
        for j in 1..np {
            let i = 4 + 2 * (nt + j - 1);
            s.write(i, markets[j].bytes(), MARKET_BYTES);
            s.write(i + 1, poracles[j].bytes(), pyth_v2::HEAD_SIZE);
        }
        let slot = &acc_after.get::<MarginAccount>().perps[placed.slot];
        if let Kind::Ioc(n) = kind {
            assert_eq!(placed.out.fills as usize, n, "{name}: fills");
        } else {
            assert_eq!(placed.out.posted_quantity, qty, "{name}: rests");
        }
        let ix = PlaceIx {
            op: OP_PLACE,
            n_tokens: nt as u8,
            n_perps: np as u8,
            quote_decimals: QUOTE_DECIMALS,
            owner: TAKER,
            now,
            slot: 1_000 + k as u64,
            args,
            events: events as u8,
            expect_fills: placed.out.fills as u8,
            expect_adds_risk: placed.adds_risk as u8,
            _pad: [0; 5],
            expect_posted: placed.out.posted_quantity,
            expect_base_lots: slot.base_lots,
            expect_quote: slot.quote_native,
            expect_init: init.to_words(),
        };
        if let Risk::Profile(op) = risk {
            s.step("setup", bytemuck::bytes_of(&ix));
            let mut h = ix;
            h.op = op;
            s.step(name, bytemuck::bytes_of(&h));
        } else {
            s.step(name, bytemuck::bytes_of(&ix));
        }
        world.book = book_after;
        // restore the makers' book
        if !taken.is_empty() {
            world.pop(&mut s);
            world.rest(&mut s, &taken);
        }
    }
    let _ = world.center;
    let mut accounts = vec![BOOK_BYTES, MARKET_BYTES, MARGIN_BYTES, ORACLE_BYTES];
    accounts.extend((0..nt).flat_map(|_| [BANK_BYTES, ORACLE_BYTES]));
    accounts.extend((1..np).flat_map(|_| [MARKET_BYTES, ORACLE_BYTES]));
    save(dir, name, &s.out, &accounts);
}

/// The event crank applying one maker fill: per sample a maker order of `CRANK_MAKER` at the
/// top of the book, taken by a bare IOC (setup), then `consume` of that one event.
fn crank_scenario(dir: &Path, rng: &mut Rng, name: &str, events: bool) {
    let mut s = Steps { out: String::new() };
    let center = lot_ticks(0);
    let mut world = World::new(&mut s, rng, center, ASSETS[PERP_ASSET[0]].lot);
    let maker_key = owner_key(CRANK_MAKER);
    for k in 0..SAMPLES {
        let now = T0 + 10 * k as i64;
        let maker_ask = rng.range(0, 1) == 0;
        let price = if maker_ask {
            center + SPREAD / 2 - 1
        } else {
            center - SPREAD / 2 + 1
        };
        let qty = rng.range(1, 200);
        let mut m = market(rng, 0, now);
        let mut acc = margin(rng, 1, 1, std::slice::from_ref(&m));
        {
            let a: &mut MarginAccount = acc.get_mut();
            let p = &mut a.perps[0];
            if maker_ask {
                p.asks_base_lots += qty as i64;
            } else {
                p.bids_base_lots += qty as i64;
            }
        }
        s.write(1, m.bytes(), MARKET_BYTES);
        s.write(2, acc.bytes(), MARGIN_BYTES);
        let entry = BatchEntry {
            flags: maker_ask as u8,
            owner: 0,
            quantity: qty as u16,
            price: price as u32,
        };
        rest_owned(&mut s, &mut world, entry, CRANK_MAKER);
        let taker = TakerIx {
            op: OP_TAKER,
            side: if maker_ask {
                OrderSide::Bid as u8
            } else {
                OrderSide::Ask as u8
            },
            _pad: [0; 2],
            owner: TAKER,
            price,
            quantity: qty,
            now: now as u64,
        };
        s.step("setup", bytemuck::bytes_of(&taker));
        {
            let order = NewOrder {
                owner: owner_key(TAKER),
                side: if maker_ask {
                    OrderSide::Bid
                } else {
                    OrderSide::Ask
                },
                kind: OrderType::ImmediateOrCancel,
                price,
                peg_offset: 0,
                quantity: qty,
                client_order_id: 0,
                expires_at: 0,
                expires_at_slot: 0,
                max_fills: perp::PERP_MAX_FILLS,
                self_trade: SelfTradeMode::Abort,
                min_base_fill: 0,
                min_quote_fill: 0,
                quote_budget: 0,
            };
            let ctx = MatchContext {
                now: now as u64,
                slot: 0,
                oracle_price: None,
            };
            let out = world
                .book_mut()
                .place(&order, &ctx, &mut OpenOrders::new(), &mut setup_listener())
                .unwrap();
            assert_eq!(out.fills, 1);
        }
        let n = perp::consume_one(&mut perp::ConsumeIn {
            book: world.book.bytes_mut(),
            market: m.get_mut(),
            market_key: &MARKET_KEY,
            maker_key: &maker_key,
            maker: acc.bytes_mut(),
            events: false,
        })
        .unwrap_or_else(|e: PerpFail| panic!("{name} sample {k}: {e:?}"));
        assert_eq!(n, 1);
        let slot = &acc.get::<MarginAccount>().perps[0];
        let ix = ConsumeIx {
            op: OP_CONSUME,
            events: events as u8,
            _pad: [0; 2],
            maker: CRANK_MAKER,
            expect_base_lots: slot.base_lots,
            expect_quote: slot.quote_native,
        };
        s.step(name, bytemuck::bytes_of(&ix));
    }
    save(dir, name, &s.out, &[BOOK_BYTES, MARKET_BYTES, MARGIN_BYTES]);
}

/// A resting order of `owner` (a number above the makers', below 256: a batch entry's byte).
fn rest_owned(s: &mut Steps, world: &mut World, mut e: BatchEntry, owner: u32) {
    assert!(owner <= 255);
    e.owner = owner as u8;
    world.rest(s, &[e]);
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: perp_steps OUT_DIR");
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).expect("out dir");
    let mut rng = Rng(0x9e4f_c0de_2026);
    for (nt, np) in [(1, 1), (4, 4)] {
        for (kind, k) in [
            ("rest", Kind::Rest),
            ("ioc1", Kind::Ioc(1)),
            ("ioc4", Kind::Ioc(4)),
        ] {
            let name = format!("{kind}-t{nt}p{np}");
            place_scenario(dir, &mut rng, &name, k, nt, np, true, Risk::Adds);
        }
    }
    crank_scenario(dir, &mut rng, "crank-1", true);
    // Profile rows: the same order reducing the position (no health), without events, and
    // the health computation alone.
    for (nt, np) in [(1, 1), (4, 4)] {
        let name = format!("99-ioc1-t{nt}p{np}-reduce");
        place_scenario(
            dir,
            &mut rng,
            &name,
            Kind::Ioc(1),
            nt,
            np,
            true,
            Risk::Reduces,
        );
        let name = format!("99-health-t{nt}p{np}");
        place_scenario(
            dir,
            &mut rng,
            &name,
            Kind::Ioc(1),
            nt,
            np,
            true,
            Risk::Profile(OP_HEALTH),
        );
    }
    for (nt, np) in [(1, 1), (4, 4)] {
        let name = format!("99-ioc1-t{nt}p{np}-accrued");
        place_scenario(
            dir,
            &mut rng,
            &name,
            Kind::Ioc(1),
            nt,
            np,
            true,
            Risk::AddsAccrued,
        );
    }
    place_scenario(
        dir,
        &mut rng,
        "99-ioc1-t1p1-reduce-noev",
        Kind::Ioc(1),
        1,
        1,
        false,
        Risk::Reduces,
    );
    place_scenario(
        dir,
        &mut rng,
        "99-fill-math",
        Kind::Ioc(1),
        1,
        1,
        false,
        Risk::Profile(8),
    );
    place_scenario(
        dir,
        &mut rng,
        "99-oracle",
        Kind::Ioc(1),
        1,
        1,
        false,
        Risk::Profile(9),
    );
    place_scenario(
        dir,
        &mut rng,
        "99-ioc1-t1p1-noev",
        Kind::Ioc(1),
        1,
        1,
        false,
        Risk::Adds,
    );
    crank_scenario(dir, &mut rng, "99-crank-1-noev", false);
}
