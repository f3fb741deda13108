//! SBF harness for one perp order of the margin program, and one maker fill of its event
//! crank: a `no_std` program without the Solana SDK that runs, on real account bytes, what
//! `place_perp_order` and `consume_perp_events` do after Anchor's dispatch and account
//! validation ([`perp`]), then the account's full health (`glue::health` of the margin-math
//! harness: token terms and perp terms at the oracle and the stable price) and the
//! `init >= 0` check, so `../shared/tools/sbf/cu` reads the compute units on real SBF.
//!
//! The account layouts and the health glue are the margin-math harness's
//! (`bench/sbf/math/src/layout.rs`, `glue.rs`, included by path, unchanged).
//!
//! | op | accounts | data |
//! |----|----------|------|
//! | 0 write (setup) | any | [`WriteIx`] then the bytes: copied into account `account` at `offset` |
//! | 1 book init (setup) | book | [`InitIx`]: perp book header + `Book::init` |
//! | 2 rest makers (setup) | book | [`BatchIx`] then [`BatchEntry`]s: post-only orders that must rest |
//! | 3 book taker (setup) | book | [`TakerIx`]: a bare IOC on the book (queues maker fills) |
//! | 4 pop events (setup) | book | (all) |
//! | 5 place perp order | book, market, margin, market oracle, (bank, oracle) x nt, (market, oracle) x (np - 1) | [`PlaceIx`] |
//! | 6 consume one event | book, market, maker margin | [`ConsumeIx`] |
//! | 8 profile: fill math | as op 5 | [`PlaceIx`]: funding settled and one fill of `max_base_lots` at `price_ticks` applied to the slot |
//! | 9 profile: oracle | as op 5 | [`PlaceIx`]: the market's oracle price per lot |
//! | 7 profile: health alone | as op 5 | [`PlaceIx`] (only `n_tokens`, `n_perps`, `now`, decimals read) |
//!
//! In op 5 the perp pair of the order's market is the market and its oracle (accounts 1 and
//! 3), as the program reads the same account twice. Keys: owner number `n` stands for the
//! 32-byte key `n.to_le_bytes()` repeated eight times (the margin account's key for the
//! taker, the maker account's key for the crank, whose maker lookup compares it).
//!
//! Return codes: 0 ok, 1 malformed instruction, 2 missing or short account, 3 result differs
//! from the host's, 10 oracle invalid, 11 accounts mismatch, 100 + `MathError`,
//! 200 + `BookError`, 50 + a refusal of [`perp`] (59: health below zero).
#![no_std]

#[path = "../../math/src/glue.rs"]
pub mod glue;
#[path = "../../math/src/layout.rs"]
pub mod layout;
pub mod perp;

use bytemuck::{Pod, Zeroable};
use carry_book::{Book, MatchContext, NewOrder, OpenOrders, OrderSide, OrderType, SelfTradeMode};
use layout::{Bank, MarginAccount, PerpMarket};
use perp::{PerpBookHeader, PerpFail, PlaceArgs, BOOK_OFFSET};

const OK: u64 = 0;
const BAD_INSTRUCTION: u64 = 1;
const BAD_ACCOUNT: u64 = 2;
const UNEXPECTED: u64 = 3;

/// Most accounts the harness reads (4 + 8 bank pairs + 7 perp pairs).
pub const MAX_ACCOUNTS: usize = 34;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct WriteIx {
    pub op: u8,
    pub account: u8,
    pub _pad: [u8; 2],
    pub offset: u32,
    pub len: u32,
    pub _pad2: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct InitIx {
    pub op: u8,
    pub _pad: [u8; 3],
    pub order_capacity: u32,
    pub event_capacity: u32,
    pub max_fills: u32,
    pub tick_size: u64,
    pub base_lot_size: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BatchIx {
    pub op: u8,
    pub _pad: [u8; 7],
    pub now: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BatchEntry {
    /// Bit 0: ask.
    pub flags: u8,
    pub owner: u8,
    pub quantity: u16,
    pub price: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct TakerIx {
    pub op: u8,
    pub side: u8,
    pub _pad: [u8; 2],
    pub owner: u32,
    pub price: u64,
    pub quantity: u64,
    pub now: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct PlaceIx {
    pub op: u8,
    pub n_tokens: u8,
    pub n_perps: u8,
    pub quote_decimals: u8,
    /// Owner number of the taker's margin account.
    pub owner: u32,
    pub now: i64,
    pub slot: u64,
    pub args: PlaceArgs,
    /// 1: emit the program's events (`sol_log_data`), 0: not (profile).
    pub events: u8,
    pub expect_fills: u8,
    pub expect_adds_risk: u8,
    pub _pad: [u8; 5],
    pub expect_posted: u64,
    pub expect_base_lots: i64,
    pub expect_quote: [u64; 2],
    pub expect_init: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct ConsumeIx {
    pub op: u8,
    pub events: u8,
    pub _pad: [u8; 2],
    /// Owner number of the maker's margin account.
    pub maker: u32,
    pub expect_base_lots: i64,
    pub expect_quote: [u64; 2],
}

#[inline(always)]
fn ix<T: Pod>(data: &[u8]) -> Option<&T> {
    bytemuck::try_from_bytes(data.get(..core::mem::size_of::<T>())?).ok()
}

#[inline(always)]
pub fn owner_key(n: u32) -> [u8; 32] {
    let w = n as u64 | (n as u64) << 32;
    bytemuck::cast([w; 4])
}

/// Key of the market account in the events (any fixed key: the program copies its key).
pub const MARKET_KEY: [u8; 32] = [7; 32];

fn fail(f: PerpFail) -> u64 {
    match f {
        PerpFail::Glue(g) => glue::code(g),
        PerpFail::Book(e) => 200 + e as u64,
        PerpFail::Refused(c) => 50 + c as u64,
    }
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return fail(f.into()),
        }
    };
}

struct Accounts<'a> {
    data: [&'a mut [u8]; MAX_ACCOUNTS],
    n: usize,
}

#[inline(never)]
fn write(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(w) = ix::<WriteIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let head = core::mem::size_of::<WriteIx>();
    let (i, off, len) = (w.account as usize, w.offset as usize, w.len as usize);
    let Some(src) = data.get(head..head + len) else {
        return BAD_INSTRUCTION;
    };
    if i >= acc.n {
        return BAD_ACCOUNT;
    }
    match acc.data[i].get_mut(off..off + len) {
        Some(dst) => {
            dst.copy_from_slice(src);
            OK
        }
        None => BAD_ACCOUNT,
    }
}

fn book_of(data: &mut [u8]) -> Result<Book<'_>, u64> {
    let b = data.get_mut(BOOK_OFFSET..).ok_or(BAD_ACCOUNT)?;
    Book::load(b).map_err(|e| 200 + e as u64)
}

#[inline(never)]
fn init(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(i) = ix::<InitIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 1 || acc.data[0].len() < BOOK_OFFSET {
        return BAD_ACCOUNT;
    }
    let (head, book) = acc.data[0].split_at_mut(BOOK_OFFSET);
    let Ok(h) = bytemuck::try_from_bytes_mut::<PerpBookHeader>(&mut head[8..]) else {
        return BAD_ACCOUNT;
    };
    h.tick_size = i.tick_size;
    h.base_lot_size = i.base_lot_size;
    h.order_capacity = i.order_capacity;
    h.event_capacity = i.event_capacity;
    h.max_fills = i.max_fills;
    match Book::init(book, i.order_capacity, i.event_capacity) {
        Ok(_) => OK,
        Err(e) => 200 + e as u64,
    }
}

#[inline(never)]
fn rest(acc: &mut Accounts, data: &[u8]) -> u64 {
    let head = core::mem::size_of::<BatchIx>();
    let Some(i) = ix::<BatchIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let Some(Ok(entries)) = data
        .get(head..)
        .map(bytemuck::try_cast_slice::<u8, BatchEntry>)
    else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 1 {
        return BAD_ACCOUNT;
    }
    let mut book = match book_of(acc.data[0]) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let ctx = MatchContext {
        now: i.now,
        slot: 0,
        oracle_price: None,
    };
    for e in entries {
        let order = NewOrder {
            owner: owner_key(e.owner as u32),
            side: if e.flags & 1 != 0 {
                OrderSide::Ask
            } else {
                OrderSide::Bid
            },
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
        // Setup makers: each place with a list of its own (their accounts are not measured).
        let mut list = OpenOrders::new();
        match book.place(&order, &ctx, &mut list, &mut setup_listener()) {
            Ok(o) if o.posted_quantity == e.quantity as u64 => {}
            Ok(_) => return UNEXPECTED,
            Err(e) => return 200 + e as u64,
        }
    }
    OK
}

#[inline(never)]
fn taker(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(t) = ix::<TakerIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 1 {
        return BAD_ACCOUNT;
    }
    let mut book = match book_of(acc.data[0]) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let Some(side) = OrderSide::from_u8(t.side) else {
        return BAD_INSTRUCTION;
    };
    let order = NewOrder {
        owner: owner_key(t.owner),
        side,
        kind: OrderType::ImmediateOrCancel,
        price: t.price,
        peg_offset: 0,
        quantity: t.quantity,
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
        now: t.now,
        slot: 0,
        oracle_price: None,
    };
    // An IOC never rests: its list is not read.
    match book.place(&order, &ctx, &mut OpenOrders::new(), &mut setup_listener()) {
        Ok(_) => OK,
        Err(e) => 200 + e as u64,
    }
}

#[inline(never)]
fn pop(acc: &mut Accounts) -> u64 {
    if acc.n < 1 {
        return BAD_ACCOUNT;
    }
    let mut book = match book_of(acc.data[0]) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let n = book.event_count();
    match book.pop_events(n) {
        Ok(()) => OK,
        Err(e) => 200 + e as u64,
    }
}

/// Setup orders use the perp listener type too (events off), so the engine's `place` has one
/// instance in the program, as in `programs/margin` (the upstream backend cannot pass the
/// arguments of the engine's helpers that a second instance leaves out of line).
fn setup_listener() -> perp::PerpListener<'static> {
    perp::PerpListener {
        owner: &[0; 32],
        market: &MARKET_KEY,
        released: [0; 2],
        events: false,
    }
}

static NO_BANK: Bank = unsafe { core::mem::zeroed() };
static NO_MARKET: PerpMarket = unsafe { core::mem::zeroed() };

/// Initial health of the place accounts' margin account (`glue::health`: token terms, perp
/// terms at the oracle and the stable price); one call site, so it is not inlined twice.
#[inline(never)]
fn account_health(acc: &Accounts, p: &PlaceIx) -> Result<carry_math::I80F48, u64> {
    let (nt, np) = (p.n_tokens as usize, p.n_perps as usize);
    let d = &acc.data;
    let margin: &MarginAccount = glue::load(&*d[2]).map_err(glue::code)?;
    let mut banks: [(&Bank, &[u8]); 8] = [(&NO_BANK, &[]); 8];
    let mut markets: [(&PerpMarket, &[u8]); 8] = [(&NO_MARKET, &[]); 8];
    markets[0] = (glue::load(&*d[1]).map_err(glue::code)?, &*d[3]);
    for (k, pair) in banks.iter_mut().enumerate().take(nt) {
        *pair = (
            glue::load(&*d[4 + 2 * k]).map_err(glue::code)?,
            &*d[5 + 2 * k],
        );
    }
    for (k, pair) in markets.iter_mut().enumerate().take(np).skip(1) {
        let i = 4 + 2 * (nt + k - 1);
        *pair = (glue::load(&*d[i]).map_err(glue::code)?, &*d[i + 1]);
    }
    let (init, _maint) = glue::health(
        margin,
        &banks[..nt],
        &markets[..np],
        p.now,
        p.quote_decimals,
    )
    .map_err(glue::code)?;
    Ok(init)
}

#[inline(always)]
fn place_accounts_ok(acc: &Accounts, p: &PlaceIx) -> bool {
    let (nt, np) = (p.n_tokens as usize, p.n_perps as usize);
    nt <= 8 && (1..=8).contains(&np) && acc.n >= 4 + 2 * (nt + np - 1)
}

#[inline(never)]
fn place(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(p) = ix::<PlaceIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if !place_accounts_ok(acc, p) {
        return BAD_ACCOUNT;
    }
    let key = owner_key(p.owner);
    let env = perp::Env {
        now: p.now,
        slot: p.slot,
        quote_decimals: p.quote_decimals,
        account_key: &key,
        market_key: &MARKET_KEY,
        signer_key: &key,
        events: p.events != 0,
    };
    let placed = {
        let [book, market, margin, oracle, ..] = &mut acc.data;
        let market: &mut PerpMarket = tri!(glue::load_mut(market));
        let margin: &mut MarginAccount = tri!(glue::load_mut(margin));
        tri!(perp::place_perp_order(&mut perp::PlaceIn {
            book,
            market,
            oracle,
            acc: margin,
            args: &p.args,
            env: &env,
        }))
    };
    if placed.adds_risk {
        let init = match account_health(acc, p) {
            Ok(v) => v,
            Err(c) => return c,
        };
        if init.is_negative() {
            return fail(PerpFail::Refused(perp::HEALTH_BELOW_ZERO));
        }
        if init.to_words() != p.expect_init {
            return UNEXPECTED;
        }
    }
    let margin: &MarginAccount = tri!(glue::load(&*acc.data[2]));
    let slot = &margin.perps[placed.slot];
    if placed.out.fills != p.expect_fills as u32
        || placed.out.posted_quantity != p.expect_posted
        || placed.adds_risk != (p.expect_adds_risk != 0)
        || slot.base_lots != p.expect_base_lots
        || slot.quote_native != p.expect_quote
    {
        return UNEXPECTED;
    }
    OK
}

/// Profile op 8: the position math of one taker fill (funding settled, `apply_fill`).
#[inline(never)]
fn fill_math(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(p) = ix::<PlaceIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 3 {
        return BAD_ACCOUNT;
    }
    let [_, market, margin, ..] = &mut acc.data;
    let market: &mut PerpMarket = tri!(glue::load_mut(market));
    let margin: &mut MarginAccount = tri!(glue::load_mut(margin));
    let i = tri!(perp::find_or_create_perp(margin, market.market_index));
    let slot = &mut margin.perps[i];
    tri!(glue::settle_funding(market, slot));
    let Some(side) = OrderSide::from_u8(p.args.side) else {
        return BAD_INSTRUCTION;
    };
    let fee = market.params.taker_fee_ppm;
    let o = tri!(perp::apply_fill(
        market,
        slot,
        perp::math_side(side),
        p.args.max_base_lots,
        p.args.price_ticks,
        fee
    ));
    core::hint::black_box(o);
    OK
}

/// Profile op 9: the market's oracle price per lot (Pyth v2 read, age and confidence checks).
#[inline(never)]
fn oracle_only(acc: &Accounts, data: &[u8]) -> u64 {
    let Some(p) = ix::<PlaceIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 4 {
        return BAD_ACCOUNT;
    }
    let market: &PerpMarket = tri!(glue::load(&*acc.data[1]));
    let o = tri!(glue::perp_oracle_price(
        market,
        &*acc.data[3],
        p.now,
        p.quote_decimals
    ));
    core::hint::black_box(o);
    OK
}

/// Profile op 7: the account's health alone, on the accounts of a place.
#[inline(never)]
fn health_only(acc: &Accounts, data: &[u8]) -> u64 {
    let Some(p) = ix::<PlaceIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if !place_accounts_ok(acc, p) {
        return BAD_ACCOUNT;
    }
    match account_health(acc, p) {
        Ok(init) => {
            core::hint::black_box(init);
            OK
        }
        Err(c) => c,
    }
}

#[inline(never)]
fn consume(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(c) = ix::<ConsumeIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 3 {
        return BAD_ACCOUNT;
    }
    let maker = owner_key(c.maker);
    let [book, market, margin, ..] = &mut acc.data;
    let market: &mut PerpMarket = tri!(glue::load_mut(market));
    let n = tri!(perp::consume_one(&mut perp::ConsumeIn {
        book,
        market: &mut *market,
        market_key: &MARKET_KEY,
        maker_key: &maker,
        maker: margin,
        events: c.events != 0,
    }));
    let m: &MarginAccount = tri!(glue::load(margin));
    let Some(slot) = m
        .perps
        .iter()
        .find(|s| s.in_use != 0 && s.market_index == market.market_index)
    else {
        return UNEXPECTED;
    };
    if n != 1 || slot.base_lots != c.expect_base_lots || slot.quote_native != c.expect_quote {
        return UNEXPECTED;
    }
    OK
}

/// The data of every account after the fee payer and the instruction data, from the
/// serialized program input (loader v2/v3 layout).
unsafe fn parse<'a>(input: *mut u8, out: &mut Accounts<'a>) -> &'a [u8] {
    let count = *(input as *const u64) as usize;
    let mut p = input.add(8);
    for i in 0..count {
        let dup = *p;
        p = p.add(1);
        if dup != u8::MAX {
            p = p.add(7);
            continue;
        }
        p = p.add(3 + 4 + 32 + 32 + 8);
        let len = *(p as *const u64) as usize;
        p = p.add(8);
        if i >= 1 && out.n < MAX_ACCOUNTS {
            out.data[out.n] = core::slice::from_raw_parts_mut(p, len);
            out.n += 1;
        }
        p = p.add(len + 10 * 1024);
        p = p.add((8 - (p as usize) % 8) % 8);
        p = p.add(8);
    }
    let len = *(p as *const u64) as usize;
    core::slice::from_raw_parts(p.add(8), len)
}

/// # Safety
/// Called by the SBF loader with the serialized input.
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    let mut acc = Accounts {
        data: core::array::from_fn(|_| Default::default()),
        n: 0,
    };
    let data = parse(input, &mut acc);
    match data.first() {
        Some(0) => write(&mut acc, data),
        Some(1) => init(&mut acc, data),
        Some(2) => rest(&mut acc, data),
        Some(3) => taker(&mut acc, data),
        Some(4) => pop(&mut acc),
        Some(5) => place(&mut acc, data),
        Some(6) => consume(&mut acc, data),
        Some(7) => health_only(&acc, data),
        Some(8) => fill_math(&mut acc, data),
        Some(9) => oracle_only(&acc, data),
        _ => BAD_INSTRUCTION,
    }
}

// The C memory functions as the SBF syscalls, and the panic handler (shared by the three
// harnesses).
#[cfg(target_os = "none")]
#[path = "../../sbf_rt.rs"]
mod rt;
