//! SBF harness for the carry-book matching engine: a `no_std` program without the Solana SDK.
//!
//! Accounts: the fee payer, then the market account whose data is the book
//! (`Book::size_of(order_capacity, event_capacity)` bytes, zeroed until `init`).
//! Instruction data: one op byte, then little-endian fields (see `bench/src/bin/sbf_steps.rs`,
//! which writes them):
//!
//! | op | fields |
//! |----|--------|
//! | 0 init | order_capacity u32, event_capacity u32 |
//! | 1 place | side u8, kind u8, self_trade u8, max_fills u8, owner u32, price u64, peg_offset i64, quantity u64, client_order_id u64, expires_at u64, now u64, oracle u64 (0 = none), expect_fills u8 (0xff = any), expect_posted u8 (0xff = any) |
//! | 2 cancel | owner u32, id_hi u64, id_lo u64 |
//! | 3 cancel by client id | owner u32, client_order_id u64 |
//! | 4 cancel all | owner u32, side u8 (2 = both), limit u32, expect u32 (0xffff_ffff = any) |
//! | 5 pop events | n u32 (0xffff_ffff = all) |
//! | 6 batch place (setup) | now u64, oracle u64, then 16-byte entries: flags u8 (bit 0 ask, bit 1 pegged), owner u8, quantity u16, price u32 (pegged: offset i32), client_order_id u32, expires_at u32 |
//!
//! An owner number `n` stands for the 32-byte key `n.to_le_bytes()` repeated eight times.
//! Return codes: 0 ok, 1 malformed instruction, 2 missing or short account, 3 an `expect`
//! field did not match, 100 + `BookError` discriminant when the engine refused.
#![no_std]

use carry_book::{
    Book, BookError, MatchContext, NewOrder, NoopListener, OrderId, OrderKind, SelfTradeBehavior,
    Side,
};

const OK: u64 = 0;
const BAD_INSTRUCTION: u64 = 1;
const BAD_ACCOUNT: u64 = 2;
const UNEXPECTED: u64 = 3;
const ENGINE: u64 = 100;

/// Little-endian reader over the instruction data; every read is bounds-checked.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let end = self.pos.checked_add(N)?;
        let bytes = self.data.get(self.pos..end)?;
        self.pos = end;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Some(out)
    }
    #[inline(always)]
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    #[inline(always)]
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    #[inline(always)]
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    #[inline(always)]
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    #[inline(always)]
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
}

#[inline(always)]
fn owner_key(n: u32) -> [u8; 32] {
    let b = n.to_le_bytes();
    let mut key = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        key[i] = b[i & 3];
        i += 1;
    }
    key
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

fn init(book: &mut [u8], r: &mut Reader) -> u64 {
    let (Some(cap), Some(events)) = (r.u32(), r.u32()) else {
        return BAD_INSTRUCTION;
    };
    match Book::init(book, cap, events) {
        Ok(_) => OK,
        Err(e) => engine(e),
    }
}

fn place(book: &mut [u8], r: &mut Reader) -> u64 {
    let decoded = (|| {
        let side = Side::from_u8(r.u8()?)?;
        let kind = OrderKind::from_u8(r.u8()?)?;
        let self_trade = SelfTradeBehavior::from_u8(r.u8()?)?;
        let max_fills = r.u8()? as u32;
        let owner = owner_key(r.u32()?);
        let order = NewOrder {
            owner,
            side,
            kind,
            price: r.u64()?,
            peg_offset: r.u64()? as i64,
            quantity: r.u64()?,
            client_order_id: r.u64()?,
            expires_at: r.u64()?,
            max_fills,
            self_trade,
        };
        let ctx = MatchContext {
            now: r.u64()?,
            oracle_price: oracle(r.u64()?),
        };
        Some((order, ctx, r.u8()?, r.u8()?))
    })();
    let Some((order, ctx, expect_fills, expect_posted)) = decoded else {
        return BAD_INSTRUCTION;
    };
    let mut book = match Book::load(book) {
        Ok(b) => b,
        Err(e) => return engine(e),
    };
    match book.place(&order, &ctx, &mut NoopListener) {
        Ok(out) => {
            if (expect_fills != 0xff && out.fills != expect_fills as u32)
                || (expect_posted != 0xff && (out.posted_quantity > 0) != (expect_posted != 0))
            {
                UNEXPECTED
            } else {
                OK
            }
        }
        Err(e) => engine(e),
    }
}

fn cancel(book: &mut [u8], r: &mut Reader) -> u64 {
    let (Some(owner), Some(hi), Some(lo)) = (r.u32(), r.u64(), r.u64()) else {
        return BAD_INSTRUCTION;
    };
    let mut book = match Book::load(book) {
        Ok(b) => b,
        Err(e) => return engine(e),
    };
    match book.cancel(&owner_key(owner), OrderId { hi, lo }, &mut NoopListener) {
        Ok(_) => OK,
        Err(e) => engine(e),
    }
}

fn cancel_by_client_id(book: &mut [u8], r: &mut Reader) -> u64 {
    let (Some(owner), Some(cid)) = (r.u32(), r.u64()) else {
        return BAD_INSTRUCTION;
    };
    let mut book = match Book::load(book) {
        Ok(b) => b,
        Err(e) => return engine(e),
    };
    match book.cancel_by_client_id(&owner_key(owner), cid, &mut NoopListener) {
        Ok(_) => OK,
        Err(e) => engine(e),
    }
}

fn cancel_all(book: &mut [u8], r: &mut Reader) -> u64 {
    let (Some(owner), Some(side), Some(limit), Some(expect)) = (r.u32(), r.u8(), r.u32(), r.u32())
    else {
        return BAD_INSTRUCTION;
    };
    let side = match side {
        2 => None,
        s => match Side::from_u8(s) {
            Some(s) => Some(s),
            None => return BAD_INSTRUCTION,
        },
    };
    let mut book = match Book::load(book) {
        Ok(b) => b,
        Err(e) => return engine(e),
    };
    match book.cancel_all(&owner_key(owner), side, limit, &mut NoopListener) {
        Ok(n) if expect == u32::MAX || n == expect => OK,
        Ok(_) => UNEXPECTED,
        Err(e) => engine(e),
    }
}

fn pop_events(book: &mut [u8], r: &mut Reader) -> u64 {
    let Some(n) = r.u32() else {
        return BAD_INSTRUCTION;
    };
    let mut book = match Book::load(book) {
        Ok(b) => b,
        Err(e) => return engine(e),
    };
    let n = if n == u32::MAX { book.event_count() } else { n };
    match book.pop_events(n) {
        Ok(()) => OK,
        Err(e) => engine(e),
    }
}

fn batch_place(book: &mut [u8], r: &mut Reader) -> u64 {
    let (Some(now), Some(oracle_price)) = (r.u64(), r.u64()) else {
        return BAD_INSTRUCTION;
    };
    let ctx = MatchContext {
        now,
        oracle_price: oracle(oracle_price),
    };
    let mut book = match Book::load(book) {
        Ok(b) => b,
        Err(e) => return engine(e),
    };
    while r.remaining() > 0 {
        let decoded = (|| {
            let flags = r.u8()?;
            let owner = owner_key(r.u8()? as u32);
            let quantity = r.u16()? as u64;
            let price = r.u32()?;
            let cid = r.u32()? as u64;
            let expires_at = r.u32()? as u64;
            let pegged = flags & 2 != 0;
            Some(NewOrder {
                owner,
                side: if flags & 1 != 0 { Side::Ask } else { Side::Bid },
                kind: if pegged {
                    OrderKind::OraclePegged
                } else {
                    OrderKind::PostOnly
                },
                price: if pegged { 0 } else { price as u64 },
                peg_offset: if pegged { price as i32 as i64 } else { 0 },
                quantity,
                client_order_id: cid,
                expires_at,
                max_fills: 1,
                self_trade: SelfTradeBehavior::Abort,
            })
        })();
        let Some(order) = decoded else {
            return BAD_INSTRUCTION;
        };
        match book.place(&order, &ctx, &mut NoopListener) {
            Ok(out) if out.fills == 0 && out.posted_quantity == order.quantity => {}
            Ok(_) => return UNEXPECTED,
            Err(e) => return engine(e),
        }
    }
    OK
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
    let mut r = Reader { data, pos: 1 };
    match data.first() {
        Some(0) => init(book, &mut r),
        Some(1) => place(book, &mut r),
        Some(2) => cancel(book, &mut r),
        Some(3) => cancel_by_client_id(book, &mut r),
        Some(4) => cancel_all(book, &mut r),
        Some(5) => pop_events(book, &mut r),
        Some(6) => batch_place(book, &mut r),
        _ => BAD_INSTRUCTION,
    }
}

// The memory builtins LLVM calls for struct copies and array fills, forwarded to the runtime's
// syscalls as platform-tools' compiler-builtins does for `target_os = "solana"` (each costs
// max(10, n / 250) CU, the same as in a program built with `cargo build-sbf`).
#[cfg(target_os = "none")]
mod mem {
    extern "C" {
        fn sol_memcpy_(dst: *mut u8, src: *const u8, n: u64);
        fn sol_memmove_(dst: *mut u8, src: *const u8, n: u64);
        fn sol_memset_(s: *mut u8, c: u8, n: u64);
        fn sol_memcmp_(a: *const u8, b: *const u8, n: u64, result: *mut i32);
    }

    /// # Safety
    /// C `memcpy`.
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        sol_memcpy_(dst, src, n as u64);
        dst
    }

    /// # Safety
    /// C `memmove`.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        sol_memmove_(dst, src, n as u64);
        dst
    }

    /// # Safety
    /// C `memset`.
    #[no_mangle]
    pub unsafe extern "C" fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
        sol_memset_(s, c as u8, n as u64);
        s
    }

    /// # Safety
    /// C `memcmp`.
    #[no_mangle]
    pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        let mut r = 0i32;
        sol_memcmp_(a, b, n as u64, &mut r);
        r
    }

    /// # Safety
    /// C `bcmp`.
    #[no_mangle]
    pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
        memcmp(a, b, n)
    }
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
