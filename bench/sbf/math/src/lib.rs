//! SBF harness for the margin math (`carry-math`): a `no_std` program without the Solana SDK
//! that reads real account bytes from its instruction's accounts (margin account, banks and
//! perp markets as their zero-copy structs, oracles as Pyth v2 price accounts) and runs the
//! margin program's math on them ([`glue`]), so `../shared/tools/sbf/cu` reads the compute
//! units of health, interest accrual and funding on real SBF.
//!
//! Accounts (after the fee payer) depend on the op; instruction data is one of the `#[repr(C)]`
//! structs below, read in place (8-byte aligned), first byte the op. `bench/src/bin/
//! math_steps.rs` writes them, with the expected result computed on the host.
//!
//! | op | accounts | data |
//! |----|----------|------|
//! | 0 write (setup) | any | [`WriteIx`] then the bytes: copied into account `account` at `offset` |
//! | 1 health | margin, then (bank, oracle) pairs, then (market, oracle) pairs | [`HealthIx`] |
//! | 2 accrue interest | bank | [`AccrueIx`] |
//! | 3 funding update | market, oracle | [`FundingIx`], then bid and ask [`glue::Level`]s |
//! | 4 funding settlement | margin, market | [`SettleIx`] |
//! | 5 perp liquidation "just enough" | as health | [`LiquidateIx`]: the lots `liquidate_perp` takes of the position in the first market |
//! | 0x20 profile: entry | any | (returns after reading the accounts and the op) |
//! | 0x21 profile: oracle | bank, oracle | [`HealthIx`]: the bank's Pyth v2 price, validated |
//! | 0x22 profile: + stable | bank, oracle | [`HealthIx`]: oracle price and stable price |
//! | 0x23 profile: indices | bank | [`HealthIx`]: `indices_at(now)` |
//! | 0x24 profile: token term | margin, bank, oracle | [`HealthIx`]: one token term |
//! | 0x25 profile: perp term | margin, market, oracle | [`HealthIx`]: one perp term |
//! | 0x26 profile: arithmetic | any | [`ArithIx`]: one fixed-point operation |
//! | 0x27 profile: tiers | margin, market, oracle | [`HealthIx`]: the market's tiers, validated |
//! | 0x28 profile: perp health | margin, market, oracle | [`HealthIx`]: tiers + one `perp_health` |
//! | 0x29 profile: perp oracle | margin, market, oracle | [`HealthIx`]: the price per lot |
//!
//! Return codes: 0 ok, 1 malformed instruction, 2 missing or short account, 3 result differs
//! from the expected one, 10 oracle invalid, 11 accounts mismatch, 100 + `MathError` variant.
#![no_std]

pub mod glue;
pub mod layout;

use bytemuck::{Pod, Zeroable};
use glue::{code, load, load_mut, Level};
use layout::{Bank, MarginAccount, PerpMarket};

const OK: u64 = 0;
const BAD_INSTRUCTION: u64 = 1;
const BAD_ACCOUNT: u64 = 2;
const UNEXPECTED: u64 = 3;

/// Most accounts the harness reads (margin + 8 bank pairs + 8 perp pairs).
pub const MAX_ACCOUNTS: usize = 33;

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
pub struct HealthIx {
    pub op: u8,
    /// (bank, oracle) pairs after the margin account.
    pub n_tokens: u8,
    /// (market, oracle) pairs after the bank pairs.
    pub n_perps: u8,
    pub quote_decimals: u8,
    pub _pad: u32,
    pub now: i64,
    pub expect_init: [u64; 2],
    pub expect_maint: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct AccrueIx {
    pub op: u8,
    pub _pad: [u8; 7],
    pub now: i64,
    pub expect_deposit_index: [u64; 2],
    pub expect_borrow_index: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct FundingIx {
    pub op: u8,
    pub quote_decimals: u8,
    pub n_bids: u8,
    pub n_asks: u8,
    pub _pad: u32,
    pub now: i64,
    pub expect_index: [u64; 2],
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct SettleIx {
    pub op: u8,
    /// Perp slot of the margin account.
    pub slot: u8,
    pub _pad: [u8; 6],
    pub expect_owed: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct LiquidateIx {
    pub op: u8,
    /// (bank, oracle) pairs after the margin account.
    pub n_tokens: u8,
    /// (market, oracle) pairs after the bank pairs; the position taken over is in the first.
    pub n_perps: u8,
    pub quote_decimals: u8,
    /// The exchange's liquidation buffer, ppm.
    pub buffer_ppm: u32,
    pub now: i64,
    pub expect_lots: u64,
}

/// The instruction as `T`, or `None` when too short or misaligned.
#[inline(always)]
fn ix<T: Pod>(data: &[u8]) -> Option<&T> {
    bytemuck::try_from_bytes(data.get(..core::mem::size_of::<T>())?).ok()
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(f) => return code(f),
        }
    };
}

/// Account data slices of the instruction (after the fee payer).
struct Accounts<'a> {
    data: [&'a mut [u8]; MAX_ACCOUNTS],
    n: usize,
}

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

/// Placeholders for the pair arrays (never read: only the first `n` entries are passed on).
static NO_BANK: Bank = unsafe { core::mem::zeroed() };
static NO_MARKET: PerpMarket = unsafe { core::mem::zeroed() };

fn health(acc: &Accounts, data: &[u8]) -> u64 {
    let Some(h) = ix::<HealthIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let (nt, np) = (h.n_tokens as usize, h.n_perps as usize);
    if nt > 8 || np > 8 || acc.n < 1 + 2 * (nt + np) {
        return BAD_ACCOUNT;
    }
    let margin: &MarginAccount = tri!(load(&*acc.data[0]));
    let mut banks: [(&Bank, &[u8]); 8] = [(&NO_BANK, &[]); 8];
    let mut markets: [(&PerpMarket, &[u8]); 8] = [(&NO_MARKET, &[]); 8];
    for (k, pair) in banks.iter_mut().enumerate().take(nt) {
        *pair = (tri!(load(&*acc.data[1 + 2 * k])), &*acc.data[2 + 2 * k]);
    }
    for (k, pair) in markets.iter_mut().enumerate().take(np) {
        let i = 1 + 2 * (nt + k);
        *pair = (tri!(load(&*acc.data[i])), &*acc.data[i + 1]);
    }
    let (init, maint) = tri!(glue::health(
        margin,
        &banks[..nt],
        &markets[..np],
        h.now,
        h.quote_decimals
    ));
    if init.to_words() != h.expect_init || maint.to_words() != h.expect_maint {
        return UNEXPECTED;
    }
    OK
}

fn liquidate(acc: &Accounts, data: &[u8]) -> u64 {
    let Some(h) = ix::<LiquidateIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let (nt, np) = (h.n_tokens as usize, h.n_perps as usize);
    if nt > 8 || np == 0 || np > 8 || acc.n < 1 + 2 * (nt + np) {
        return BAD_ACCOUNT;
    }
    let margin: &MarginAccount = tri!(load(&*acc.data[0]));
    let mut banks: [(&Bank, &[u8]); 8] = [(&NO_BANK, &[]); 8];
    let mut markets: [(&PerpMarket, &[u8]); 8] = [(&NO_MARKET, &[]); 8];
    for (k, pair) in banks.iter_mut().enumerate().take(nt) {
        *pair = (tri!(load(&*acc.data[1 + 2 * k])), &*acc.data[2 + 2 * k]);
    }
    for (k, pair) in markets.iter_mut().enumerate().take(np) {
        let i = 1 + 2 * (nt + k);
        *pair = (tri!(load(&*acc.data[i])), &*acc.data[i + 1]);
    }
    let lots = tri!(glue::perp_liquidation_lots(
        margin,
        &banks[..nt],
        &markets[..np],
        0,
        h.now,
        h.quote_decimals,
        h.buffer_ppm
    ));
    if lots != h.expect_lots {
        return UNEXPECTED;
    }
    OK
}

fn accrue(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(a) = ix::<AccrueIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 1 {
        return BAD_ACCOUNT;
    }
    let bank: &mut Bank = tri!(load_mut(&mut *acc.data[0]));
    tri!(glue::accrue(bank, a.now));
    if bank.deposit_index != a.expect_deposit_index || bank.borrow_index != a.expect_borrow_index {
        return UNEXPECTED;
    }
    OK
}

fn funding(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(f) = ix::<FundingIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let head = core::mem::size_of::<FundingIx>();
    let (nb, na) = (f.n_bids as usize, f.n_asks as usize);
    let Some(Ok(levels)) = data
        .get(head..head + (nb + na) * core::mem::size_of::<Level>())
        .map(bytemuck::try_cast_slice::<u8, Level>)
    else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 2 {
        return BAD_ACCOUNT;
    }
    let (first, rest) = acc.data.split_at_mut(1);
    let market: &mut PerpMarket = tri!(load_mut(&mut *first[0]));
    let up = tri!(glue::update_funding(
        market,
        &*rest[0],
        f.now,
        f.quote_decimals,
        &levels[..nb],
        &levels[nb..]
    ));
    if up.index.to_words() != f.expect_index {
        return UNEXPECTED;
    }
    OK
}

fn settle(acc: &mut Accounts, data: &[u8]) -> u64 {
    let Some(s) = ix::<SettleIx>(data) else {
        return BAD_INSTRUCTION;
    };
    if acc.n < 2 || s.slot as usize >= layout::MAX_PERP_POSITIONS {
        return BAD_ACCOUNT;
    }
    let (first, rest) = acc.data.split_at_mut(1);
    let margin: &mut MarginAccount = tri!(load_mut(&mut *first[0]));
    let market: &PerpMarket = tri!(load(&*rest[0]));
    let owed = tri!(glue::settle_funding(
        market,
        &mut margin.perps[s.slot as usize]
    ));
    if owed != s.expect_owed {
        return UNEXPECTED;
    }
    OK
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct ArithIx {
    pub op: u8,
    /// 0 mul_round, 1 div_round, 2 from_ppm(a.lo), 3 checked_mul_int(a, b.lo), 0xff nothing.
    pub kind: u8,
    pub _pad: [u8; 6],
    pub a: [u64; 2],
    pub b: [u64; 2],
}

/// Profile op 0x26: one fixed-point primitive on the instruction's operands.
fn arith(data: &[u8]) -> u64 {
    let Some(x) = ix::<ArithIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let a = core::hint::black_box(glue::fx(x.a));
    let b = core::hint::black_box(glue::fx(x.b));
    let r = match x.kind {
        0 => a.mul_round(b, carry_math::Round::Floor),
        1 => a.div_round(b, carry_math::Round::Floor),
        2 => Some(carry_math::I80F48::from_ppm(x.a[0])),
        3 => a.checked_mul_int(x.b[0] as i64),
        5 => Some(carry_math::I80F48::from_bits(
            (a.to_bits().unsigned_abs() ^ b.to_bits().unsigned_abs()) as i128,
        )),
        6 => a.checked_add(b),
        _ => Some(a),
    };
    core::hint::black_box(r);
    OK
}

/// Profiling ops: parts of a health computation, alone (see the table in the module docs).
fn profile(op: u8, acc: &Accounts, data: &[u8]) -> u64 {
    if op == 0x20 {
        return OK;
    }
    let Some(h) = ix::<HealthIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let need = match op {
        0x23 => 1,
        0x21 | 0x22 => 2,
        _ => 3,
    };
    if acc.n < need {
        return BAD_ACCOUNT;
    }
    let mut matched = [false; 8];
    let ok = match op {
        0x21 | 0x22 => {
            let b: &Bank = tri!(load(&*acc.data[0]));
            let o = tri!(glue::bank_oracle_price(
                b,
                &*acc.data[1],
                h.now,
                h.quote_decimals
            ));
            if op == 0x22 {
                let p = &b.params;
                let s = tri!(glue::advance_stable(
                    glue::fx(b.stable_price),
                    b.stable_price_ts,
                    o,
                    h.now,
                    p.stable_max_move_ppm_per_hour,
                    p.stable_max_step_secs
                ));
                s.is_positive()
            } else {
                o.is_positive()
            }
        }
        0x23 => {
            let b: &Bank = tri!(load(&*acc.data[0]));
            let (di, _) = tri!(glue::indices_at(b, h.now));
            di.is_positive()
        }
        0x24 => {
            let m: &MarginAccount = tri!(load(&*acc.data[0]));
            let b: &Bank = tri!(load(&*acc.data[1]));
            let t = tri!(glue::token_term(
                m,
                b,
                &*acc.data[2],
                h.now,
                h.quote_decimals,
                &mut matched
            ));
            t.is_some()
        }
        0x25 => {
            let m: &MarginAccount = tri!(load(&*acc.data[0]));
            let p: &PerpMarket = tri!(load(&*acc.data[1]));
            let t = tri!(glue::perp_pair_term(
                m,
                p,
                &*acc.data[2],
                h.now,
                h.quote_decimals,
                &mut matched
            ));
            t.is_some()
        }
        0x27..=0x29 => {
            let m: &MarginAccount = tri!(load(&*acc.data[0]));
            let p: &PerpMarket = tri!(load(&*acc.data[1]));
            let stable = glue::fx(p.stable_price);
            match op {
                0x27 => tri!(glue::leverage_tiers(p)).tiers().len() == 4,
                0x28 => {
                    let tiers = tri!(glue::leverage_tiers(p));
                    let slot = &m.perps[0];
                    let inputs = carry_math::perp::PerpHealthInputs {
                        position: glue::position(slot),
                        bids_base_lots: slot.bids_base_lots,
                        asks_base_lots: slot.asks_base_lots,
                        funding_index: glue::fx(p.funding_index),
                        price: stable,
                        tiers: &tiers,
                        pnl_pool_native: p.pnl_pool_native,
                        unpaid_pnl_haircut_ppm: p.params.unpaid_pnl_haircut_ppm,
                    };
                    tri!(carry_math::perp::perp_health(&inputs).map_err(glue::Fail::Math))
                        .notional
                        .is_positive()
                }
                _ => tri!(glue::perp_oracle_price(
                    p,
                    &*acc.data[2],
                    h.now,
                    h.quote_decimals
                ))
                .is_positive(),
            }
        }
        _ => return BAD_INSTRUCTION,
    };
    if ok {
        OK
    } else {
        UNEXPECTED
    }
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
            p = p.add(7); // a duplicate: one index byte plus padding
            continue;
        }
        p = p.add(3 + 4 + 32 + 32 + 8); // signer, writable, executable, padding, key, owner, lamports
        let len = *(p as *const u64) as usize;
        p = p.add(8);
        if i >= 1 && out.n < MAX_ACCOUNTS {
            out.data[out.n] = core::slice::from_raw_parts_mut(p, len);
            out.n += 1;
        }
        p = p.add(len + 10 * 1024); // data and its realloc room
        p = p.add((8 - (p as usize) % 8) % 8);
        p = p.add(8); // rent epoch
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
        Some(1) => health(&acc, data),
        Some(2) => accrue(&mut acc, data),
        Some(3) => funding(&mut acc, data),
        Some(4) => settle(&mut acc, data),
        Some(5) => liquidate(&acc, data),
        Some(&op) if (0x20..=0x25).contains(&op) || (0x27..=0x29).contains(&op) => {
            profile(op, &acc, data)
        }
        Some(0x26) => arith(data),
        _ => BAD_INSTRUCTION,
    }
}

// The C memory functions as the SBF syscalls, and the panic handler (shared by the three
// harnesses).
#[cfg(target_os = "none")]
#[path = "../../sbf_rt.rs"]
mod rt;
