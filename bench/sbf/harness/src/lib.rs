//! SBF harness for the carry-book matching engine: a `no_std` program without the Solana SDK.
//!
//! Accounts: the fee payer, then the market account whose data is the book
//! (`Book::size_of(order_capacity, event_capacity)` bytes, zeroed until `init`) followed by
//! the owners' `OpenOrders` lists (as the owners' own accounts would hold them; an
//! instruction names its list by index, the generator gives each owner lists of its own).
//! Instruction data: one of the `#[repr(C)]` structs below, read in place (the runtime puts
//! instruction data at an 8-byte aligned address): its first byte is the op.
//! `bench/src/bin/sbf_steps.rs` writes them.
//!
//! | op | struct |
//! |----|--------|
//! | 0 init | [`InitIx`] |
//! | 1 place | [`PlaceIx`] (fills and whether it rested are checked against `expect_*`) |
//! | 2 cancel | [`CancelIx`] |
//! | 3 cancel by client id | [`CancelCidIx`] |
//! | 4 cancel all | [`CancelAllIx`] |
//! | 5 pop events | [`SmallIx`] (`value` = how many, 0xffff_ffff = all) |
//! | 6 batch place (setup) | [`BatchIx`], then [`BatchEntry`]s (post-only or pegged, must rest) |
//! | 0x20 profile: nothing | (returns after reading the accounts and the op) |
//! | 0x21 profile: load | (`Book::load` only) |
//! | 0x22 profile: best price | [`SmallIx`] (`side`; a tree cursor down to the best order) |
//! | 0x23 profile: find | [`CancelIx`] (one critbit descent) |
//! | 0x24 profile: find by client id | [`CancelCidIx`] (a scan of the owner's list) |
//! | 0x25 profile: decode place | [`PlaceIx`] (decode only, no engine call) |
//!
//! An owner number `n` stands for the 32-byte key `n.to_le_bytes()` repeated eight times.
//! Return codes: 0 ok, 1 malformed instruction, 2 missing or short account, 3 an `expect`
//! field did not match, 100 + `BookError` discriminant when the engine refused.
#![no_std]

use bytemuck::{Pod, Zeroable};
use carry_book::{
    Book, BookError, BookHeader, MatchContext, NewOrder, NoopListener, OpenOrders, OrderId,
    OrderSide, OrderType, SelfTradeMode,
};

const OK: u64 = 0;
const BAD_INSTRUCTION: u64 = 1;
const BAD_ACCOUNT: u64 = 2;
const UNEXPECTED: u64 = 3;
const ENGINE: u64 = 100;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct InitIx {
    pub op: u8,
    pub _pad: [u8; 3],
    pub order_capacity: u32,
    pub event_capacity: u32,
    pub _pad2: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct PlaceIx {
    pub op: u8,
    pub side: u8,
    pub kind: u8,
    pub self_trade: u8,
    pub owner: u32,
    pub price: u64,
    pub peg_offset: i64,
    pub quantity: u64,
    pub client_order_id: u64,
    pub expires_at: u64,
    pub now: u64,
    /// 0 = none.
    pub oracle: u64,
    pub max_fills: u8,
    /// 0xff = any.
    pub expect_fills: u8,
    /// 0 = must not rest, 1 = must rest, 0xff = any.
    pub expect_posted: u8,
    pub _pad: u8,
    /// The owner's list.
    pub list: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct CancelIx {
    pub op: u8,
    pub _pad: [u8; 3],
    pub owner: u32,
    pub id_hi: u64,
    pub id_lo: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct CancelCidIx {
    pub op: u8,
    pub _pad: u8,
    /// The owner's list.
    pub list: u16,
    pub owner: u32,
    pub client_order_id: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct CancelAllIx {
    pub op: u8,
    /// 0 bid, 1 ask, 2 both.
    pub side: u8,
    /// The owner's list.
    pub list: u16,
    pub owner: u32,
    pub limit: u32,
    /// 0xffff_ffff = any.
    pub expect: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct SmallIx {
    pub op: u8,
    pub side: u8,
    pub _pad: [u8; 2],
    pub value: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BatchIx {
    pub op: u8,
    pub _pad: [u8; 7],
    pub now: u64,
    /// 0 = none.
    pub oracle: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct BatchEntry {
    /// Bit 0: ask. Bit 1: oracle-pegged.
    pub flags: u8,
    pub owner: u8,
    pub quantity: u16,
    /// Fixed orders: price in ticks. Pegged orders: offset to the oracle (as i32).
    pub price: u32,
    pub client_order_id: u32,
    pub expires_at: u32,
    /// The owner's list.
    pub list: u32,
}

/// The instruction as `T`, or `None` when too short or misaligned.
#[inline(always)]
fn ix<T: Pod>(data: &[u8]) -> Option<&T> {
    bytemuck::try_from_bytes(data.get(..core::mem::size_of::<T>())?).ok()
}

#[inline(always)]
fn owner_key(n: u32) -> [u8; 32] {
    let w = n as u64 | (n as u64) << 32;
    bytemuck::cast([w; 4])
}

#[inline(always)]
fn engine(e: BookError) -> u64 {
    ENGINE + e as u64
}

#[inline(always)]
fn oracle(v: u64) -> Option<u64> {
    if v == 0 {
        None
    } else {
        Some(v)
    }
}

/// The book and list `list` of the account's lists (after the book).
#[inline(always)]
fn book_and_list(bytes: &mut [u8], list: u32) -> Result<(Book<'_>, &mut OpenOrders), u64> {
    let head = core::mem::size_of::<BookHeader>();
    let h: &BookHeader = bytes
        .get(..head)
        .and_then(|b| bytemuck::try_from_bytes(b).ok())
        .ok_or(BAD_ACCOUNT)?;
    let len = Book::size_of(h.order_capacity, h.event_capacity);
    if bytes.len() < len {
        return Err(BAD_ACCOUNT);
    }
    let (book, lists) = bytes.split_at_mut(len);
    let size = core::mem::size_of::<OpenOrders>();
    let at = list as usize * size;
    let list = lists
        .get_mut(at..at + size)
        .and_then(|b| bytemuck::try_from_bytes_mut(b).ok())
        .ok_or(BAD_ACCOUNT)?;
    Ok((Book::load(book).map_err(engine)?, list))
}

macro_rules! book_and_list {
    ($bytes:expr, $list:expr) => {
        match book_and_list($bytes, $list) {
            Ok(b) => b,
            Err(code) => return code,
        }
    };
}

macro_rules! load {
    ($bytes:expr) => {
        match Book::load($bytes) {
            Ok(b) => b,
            Err(e) => return engine(e),
        }
    };
}

fn init(book: &mut [u8], data: &[u8]) -> u64 {
    let Some(i) = ix::<InitIx>(data) else {
        return BAD_INSTRUCTION;
    };
    match Book::init(book, i.order_capacity, i.event_capacity) {
        Ok(_) => OK,
        Err(e) => engine(e),
    }
}

#[inline(always)]
fn decode_place(data: &[u8]) -> Option<(NewOrder, MatchContext, &PlaceIx)> {
    let i = ix::<PlaceIx>(data)?;
    let order = NewOrder {
        owner: owner_key(i.owner),
        side: OrderSide::from_u8(i.side)?,
        kind: OrderType::from_u8(i.kind)?,
        price: i.price,
        peg_offset: i.peg_offset,
        quantity: i.quantity,
        client_order_id: i.client_order_id,
        expires_at: i.expires_at,
        expires_at_slot: 0,
        max_fills: i.max_fills as u32,
        self_trade: SelfTradeMode::from_u8(i.self_trade)?,
        min_base_fill: 0,
        min_quote_fill: 0,
        quote_budget: 0,
    };
    let ctx = MatchContext {
        now: i.now,
        oracle_price: oracle(i.oracle),
        slot: 0,
    };
    Some((order, ctx, i))
}

fn place(book: &mut [u8], data: &[u8]) -> u64 {
    let Some((order, ctx, i)) = decode_place(data) else {
        return BAD_INSTRUCTION;
    };
    let (mut book, list) = book_and_list!(book, i.list);
    match book.place(&order, &ctx, list, &mut NoopListener) {
        Ok(out) => {
            if (i.expect_fills != 0xff && out.fills != i.expect_fills as u32)
                || (i.expect_posted != 0xff && (out.posted_quantity > 0) != (i.expect_posted != 0))
            {
                UNEXPECTED
            } else {
                OK
            }
        }
        Err(e) => engine(e),
    }
}

fn cancel(book: &mut [u8], data: &[u8]) -> u64 {
    let Some(i) = ix::<CancelIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let id = OrderId {
        hi: i.id_hi,
        lo: i.id_lo,
    };
    match load!(book).cancel(&owner_key(i.owner), id, &mut NoopListener) {
        Ok(_) => OK,
        Err(e) => engine(e),
    }
}

fn cancel_by_client_id(book: &mut [u8], data: &[u8]) -> u64 {
    let Some(i) = ix::<CancelCidIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let owner = owner_key(i.owner);
    let (mut book, list) = book_and_list!(book, i.list as u32);
    match book.cancel_by_client_id(&owner, list, i.client_order_id, &mut NoopListener) {
        Ok(_) => OK,
        Err(e) => engine(e),
    }
}

fn cancel_all(book: &mut [u8], data: &[u8]) -> u64 {
    let Some(i) = ix::<CancelAllIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let side = match i.side {
        2 => None,
        s => match OrderSide::from_u8(s) {
            Some(s) => Some(s),
            None => return BAD_INSTRUCTION,
        },
    };
    let owner = owner_key(i.owner);
    let (mut book, list) = book_and_list!(book, i.list as u32);
    match book.cancel_all(&owner, list, side, i.limit, &mut NoopListener) {
        Ok(n) if i.expect == u32::MAX || n.cancelled == i.expect => OK,
        Ok(_) => UNEXPECTED,
        Err(e) => engine(e),
    }
}

fn pop_events(book: &mut [u8], data: &[u8]) -> u64 {
    let Some(i) = ix::<SmallIx>(data) else {
        return BAD_INSTRUCTION;
    };
    let mut book = load!(book);
    let n = if i.value == u32::MAX {
        book.event_count()
    } else {
        i.value
    };
    match book.pop_events(n) {
        Ok(()) => OK,
        Err(e) => engine(e),
    }
}

fn batch_place(book: &mut [u8], data: &[u8]) -> u64 {
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
    let ctx = MatchContext {
        now: i.now,
        oracle_price: oracle(i.oracle),
        slot: 0,
    };
    for e in entries {
        let (mut book, list) = book_and_list!(&mut *book, e.list);
        let pegged = e.flags & 2 != 0;
        let order = NewOrder {
            owner: owner_key(e.owner as u32),
            side: if e.flags & 1 != 0 {
                OrderSide::Ask
            } else {
                OrderSide::Bid
            },
            kind: if pegged {
                OrderType::OraclePegged
            } else {
                OrderType::PostOnly
            },
            price: if pegged { 0 } else { e.price as u64 },
            peg_offset: if pegged { e.price as i32 as i64 } else { 0 },
            quantity: e.quantity as u64,
            client_order_id: e.client_order_id as u64,
            expires_at: e.expires_at as u64,
            expires_at_slot: 0,
            max_fills: 1,
            self_trade: SelfTradeMode::Abort,
            min_base_fill: 0,
            min_quote_fill: 0,
            quote_budget: 0,
        };
        match book.place(&order, &ctx, list, &mut NoopListener) {
            Ok(out) if out.fills == 0 && out.posted_quantity == order.quantity => {}
            Ok(_) => return UNEXPECTED,
            Err(e) => return engine(e),
        }
    }
    OK
}

/// Profiling ops: parts of an engine call, measured alone (see the table in the module docs).
fn profile(op: u8, book: &mut [u8], data: &[u8]) -> u64 {
    if op == 0x20 {
        return OK;
    }
    if op == 0x25 {
        return match decode_place(data) {
            Some((o, _, _)) if o.quantity != 0 => OK,
            _ => BAD_INSTRUCTION,
        };
    }
    if op == 0x24 {
        let Some(i) = ix::<CancelCidIx>(data) else {
            return BAD_INSTRUCTION;
        };
        let (book, list) = book_and_list!(book, i.list as u32);
        return match book.find_by_client_id(&owner_key(i.owner), list, i.client_order_id) {
            Some(_) => OK,
            None => UNEXPECTED,
        };
    }
    let book = load!(book);
    let found = match op {
        0x21 => return OK,
        0x22 => {
            let Some(side) = ix::<SmallIx>(data).and_then(|i| OrderSide::from_u8(i.side)) else {
                return BAD_INSTRUCTION;
            };
            let ctx = MatchContext {
                now: 0,
                oracle_price: Some(1),
                slot: 0,
            };
            book.best_price(side, &ctx).map(|p| p.is_some())
        }
        0x23 => {
            let Some(i) = ix::<CancelIx>(data) else {
                return BAD_INSTRUCTION;
            };
            book.find(OrderId {
                hi: i.id_hi,
                lo: i.id_lo,
            })
            .map(|o| o.is_some())
        }
        _ => return BAD_INSTRUCTION,
    };
    match found {
        Ok(true) => OK,
        Ok(false) => UNEXPECTED,
        Err(e) => engine(e),
    }
}

/// The data of the second account (after the fee payer) and the instruction data, from the
/// serialized program input (loader v2/v3 layout).
unsafe fn market_and_data<'a>(input: *mut u8) -> Option<(&'a mut [u8], &'a [u8])> {
    let count = *(input as *const u64) as usize;
    let mut p = input.add(8);
    let mut market: Option<&'a mut [u8]> = None;
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
        if i == 1 {
            market = Some(core::slice::from_raw_parts_mut(p, len));
        }
        p = p.add(len + 10 * 1024); // data and its realloc room
        p = p.add((8 - (p as usize) % 8) % 8);
        p = p.add(8); // rent epoch
    }
    let len = *(p as *const u64) as usize;
    Some((market?, core::slice::from_raw_parts(p.add(8), len)))
}

/// # Safety
/// Called by the SBF loader with the serialized input.
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    let Some((book, data)) = market_and_data(input) else {
        return BAD_ACCOUNT;
    };
    match data.first() {
        Some(0) => init(book, data),
        Some(1) => place(book, data),
        Some(2) => cancel(book, data),
        Some(3) => cancel_by_client_id(book, data),
        Some(4) => cancel_all(book, data),
        Some(5) => pop_events(book, data),
        Some(6) => batch_place(book, data),
        Some(&op) if (0x20..=0x25).contains(&op) => profile(op, book, data),
        _ => BAD_INSTRUCTION,
    }
}

// The C memory functions as the SBF syscalls, and the panic handler (shared by the three
// harnesses).
#[cfg(target_os = "none")]
#[path = "../../sbf_rt.rs"]
mod rt;
