//! What `programs/margin` does for a perp order and for one maker fill of the event crank,
//! after Anchor's dispatch and account validation, on the mirror structs of the margin-math
//! harness (`bench/sbf/math/src/layout.rs`, `glue.rs`): `place_perp_order.rs` (oracle price
//! per lot, funding settled, reduce-only and open-interest checks, `carry_book` place with the
//! perp listener, each taker fill applied with the taker fee, own removals released, resting
//! lots counted, the order event) and `consume_perp_events.rs` for one event (maker found by
//! key, discriminator and exchange compared, funding settled, fill applied with the maker fee,
//! resting lots released, event popped). Same calls into `carry_book` and `carry_math`, in the
//! same order. Health after the order is `glue::health` (the harness calls it).
//!
//! Events: the program's `emit!` (Anchor: discriminator + Borsh bytes to `sol_log_data`) is
//! mirrored by writing the same number of bytes field by field into a stack buffer and calling
//! `sol_log_data` once per event (on the host: nothing). Anchor's `emit!` serializes into a
//! heap `Vec` first, so the real cost is a little higher.
//!
//! Shared by the `no_std` harness and the host generator (`bench/src/bin/perp_steps.rs`).

use crate::glue::{self, Fail};
use crate::layout::{MarginAccount, PerpMarket, PerpPosition};
use carry_book::{
    Book, BookError, BookListener, MatchContext, NewOrder, Order, OrderId, OrderSide, OrderType,
    OutReason, PlaceOutcome, SelfTradeMode,
};
use carry_math::perp::{max_open_interest_increase, reduce_only_max_lots, Fill, FillOutcome, Side};
use carry_math::{MathError, I80F48};

/// Mirror of the perp book header `PerpBook` (152 bytes after the discriminator).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PerpBookHeader {
    pub authority: [u8; 32],
    pub creator: [u8; 32],
    pub tick_size: u64,
    pub base_lot_size: u64,
    pub order_capacity: u32,
    pub event_capacity: u32,
    pub max_fills: u32,
    pub reserved: [u8; 60],
}
pub const PERP_BOOK_HEADER_SIZE: usize = 152;
const _: () = assert!(core::mem::size_of::<PerpBookHeader>() == PERP_BOOK_HEADER_SIZE);
/// `PerpBook::BOOK_OFFSET`.
pub const BOOK_OFFSET: usize = 8 + PERP_BOOK_HEADER_SIZE;
/// `PERP_MAX_FILLS`.
pub const PERP_MAX_FILLS: u32 = 32;
/// Anchor discriminator of `MarginAccount` as the mirror writes it (the crank compares it).
pub const MARGIN_DISCRIMINATOR: [u8; 8] = *b"carrymar";

/// Why the order or the crank step was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerpFail {
    Glue(Fail),
    Book(BookError),
    /// A named refusal of the program (`CarryError`), by a local number.
    Refused(u8),
}
impl From<Fail> for PerpFail {
    fn from(f: Fail) -> Self {
        PerpFail::Glue(f)
    }
}
impl From<MathError> for PerpFail {
    fn from(e: MathError) -> Self {
        PerpFail::Glue(Fail::Math(e))
    }
}
impl From<BookError> for PerpFail {
    fn from(e: BookError) -> Self {
        PerpFail::Book(e)
    }
}

pub const INVALID_ORDER_PARAMS: u8 = 1;
pub const PERP_MARKET_EXPIRED: u8 = 2;
pub const REDUCE_ONLY_WOULD_INCREASE: u8 = 3;
pub const PERP_MARKET_REDUCE_ONLY: u8 = 4;
pub const OPEN_INTEREST_LIMIT: u8 = 5;
pub const NO_FREE_PERP_SLOT: u8 = 6;
pub const MATH_OVERFLOW: u8 = 7;
pub const BOOK_INVALID: u8 = 8;
pub const HEALTH_BELOW_ZERO: u8 = 9;
pub const MAKER_ACCOUNT_MISMATCH: u8 = 10;
pub const ORDER_PRICE_OUT_OF_BAND: u8 = 11;

type R<T> = Result<T, PerpFail>;

#[inline(always)]
fn refuse<T>(c: u8) -> R<T> {
    Err(PerpFail::Refused(c))
}

/// `u64 * u64` checked, from 32-bit halves (the upstream SBF backend has no `__multi3`);
/// the program's `u64::checked_mul`.
#[inline(always)]
pub fn mul_checked(a: u64, b: u64) -> Option<u64> {
    let (a_hi, a_lo, b_hi, b_lo) = (a >> 32, a & 0xffff_ffff, b >> 32, b & 0xffff_ffff);
    if a_hi != 0 && b_hi != 0 {
        return None;
    }
    let cross = a_hi * b_lo + a_lo * b_hi;
    if cross >> 32 != 0 {
        return None;
    }
    (a_lo * b_lo).checked_add(cross << 32)
}

// ---- events (emit!) ----

#[cfg(target_os = "none")]
extern "C" {
    fn sol_log_data(data: *const u8, len: u64);
    fn sol_log_(msg: *const u8, len: u64);
}

/// A Borsh-like writer into a stack buffer.
pub struct Ev<const N: usize> {
    buf: [u8; N],
    len: usize,
}
impl<const N: usize> Ev<N> {
    #[inline(always)]
    pub fn new(disc: u64) -> Self {
        let mut e = Ev {
            buf: [0; N],
            len: 0,
        };
        e.u64(disc);
        e
    }
    #[inline(always)]
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }
    #[inline(always)]
    pub fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    #[inline(always)]
    pub fn u128(&mut self, v: u128) {
        self.bytes(&v.to_le_bytes());
    }
    #[inline(always)]
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    #[inline(always)]
    pub fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }
    /// `sol_log_data(&[&bytes])`.
    #[inline(always)]
    pub fn emit(&self) {
        #[cfg(target_os = "none")]
        unsafe {
            // One field: a slice descriptor (pointer, length), as `sol_log_data(&[&data])`.
            let field: [u64; 2] = [self.buf.as_ptr() as u64, self.len as u64];
            sol_log_data(field.as_ptr() as *const u8, 1);
        }
    }
}

/// `msg!` of a short static text (`sol_log_`).
#[inline(always)]
pub fn log(on: bool, m: &[u8]) {
    if !on {
        return;
    }
    #[cfg(target_os = "none")]
    unsafe {
        sol_log_(m.as_ptr(), m.len() as u64)
    }
    #[cfg(not(target_os = "none"))]
    let _ = m;
}

/// `PerpFillEvent` (162 bytes).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn emit_fill(
    on: bool,
    account: &[u8; 32],
    counterparty: &[u8; 32],
    market_key: &[u8; 32],
    maker: bool,
    side: Side,
    price_ticks: u64,
    lots: u64,
    o: &FillOutcome,
    seq: u64,
) {
    if !on {
        return;
    }
    let mut e = Ev::<168>::new(0x5045_5250_4649_4c4c);
    e.bytes(account);
    e.bytes(counterparty);
    e.bytes(market_key);
    e.u8(maker as u8);
    e.u8(match side {
        Side::Bid => 0,
        Side::Ask => 1,
    });
    e.u64(price_ticks);
    e.u64(lots);
    e.u64(o.fee_native as u64);
    e.u64(o.base_lots_after as u64);
    e.u128(o.quote_native_after.to_bits() as u128);
    e.u64(seq);
    e.emit();
}

// ---- perp.rs ----

/// `math_side`.
#[inline(always)]
pub fn math_side(s: OrderSide) -> Side {
    match s {
        OrderSide::Bid => Side::Bid,
        OrderSide::Ask => Side::Ask,
    }
}

/// `find_or_create_perp`.
#[inline(always)]
pub fn find_or_create_perp(acc: &mut MarginAccount, market_index: u16) -> R<usize> {
    if let Some(i) = acc
        .perps
        .iter()
        .position(|p| p.in_use != 0 && p.market_index == market_index)
    {
        return Ok(i);
    }
    let Some(i) = acc.perps.iter().position(|p| p.in_use == 0) else {
        return refuse(NO_FREE_PERP_SLOT);
    };
    acc.perps[i] = PerpPosition {
        market_index,
        in_use: 1,
        ..PerpPosition::default()
    };
    acc.perp_open_orders[i] = Default::default();
    Ok(i)
}

/// `settle_funding` (with its event when non-zero).
#[inline(always)]
pub fn settle_funding(
    m: &PerpMarket,
    slot: &mut PerpPosition,
    account: &[u8; 32],
    market_key: &[u8; 32],
    events: bool,
) -> R<()> {
    let paid = glue::settle_funding(m, slot)?;
    if paid != 0 && events {
        let mut e = Ev::<96>::new(0x5045_5250_4655_4e44);
        e.bytes(account);
        e.bytes(market_key);
        e.u64(paid as u64);
        e.u128(glue::fx(m.funding_index).to_bits() as u128);
        e.emit();
    }
    Ok(())
}

fn long_lots(base: i64) -> u64 {
    base.max(0) as u64
}

/// `apply_fill`: cost basis and fee, open interest, fees accrued.
#[inline(always)]
pub fn apply_fill(
    market: &mut PerpMarket,
    slot: &mut PerpPosition,
    side: Side,
    lots: u64,
    price_ticks: u64,
    fee_ppm: i32,
) -> R<FillOutcome> {
    let Ok(tick) = i64::try_from(market.tick_size) else {
        return refuse(MATH_OVERFLOW);
    };
    let Some(price) = I80F48::from_u64(price_ticks).checked_mul_int(tick) else {
        return Err(MathError::Overflow.into());
    };
    let Ok(lots) = i64::try_from(lots) else {
        return refuse(MATH_OVERFLOW);
    };
    let mut pos = glue::position(slot);
    let before = pos.base_lots;
    let outcome = pos.apply_fill(&Fill {
        side,
        base_lots: lots,
        price,
        fee_ppm,
    })?;
    let oi = (market.open_interest_lots as i128) + long_lots(outcome.base_lots_after) as i128
        - long_lots(before) as i128;
    let Ok(oi) = u64::try_from(oi) else {
        return refuse(MATH_OVERFLOW);
    };
    market.open_interest_lots = oi;
    let fees = (market.fees_accrued_native as i128 + outcome.fee_native as i128).max(0);
    market.fees_accrued_native = u64::try_from(fees).unwrap_or(u64::MAX);
    slot.base_lots = pos.base_lots;
    slot.quote_native = pos.quote_native.to_words();
    Ok(outcome)
}

/// `release_resting`.
#[inline(always)]
pub fn release_resting(slot: &mut PerpPosition, side: OrderSide, lots: u64) {
    let lots = i64::try_from(lots).unwrap_or(i64::MAX);
    let field = match side {
        OrderSide::Bid => &mut slot.bids_base_lots,
        OrderSide::Ask => &mut slot.asks_base_lots,
    };
    *field = field.saturating_sub(lots).max(0);
}

/// `PerpListener`: reports removals without a fill (`PerpOrderOutEvent`) and counts the
/// owner's own lots taken off, per side.
pub struct PerpListener<'a> {
    pub owner: &'a [u8; 32],
    pub market: &'a [u8; 32],
    pub released: [u64; 2],
    pub events: bool,
}

impl PerpListener<'_> {
    fn report(&mut self, order: &Order, lots: u64, reason: u8) {
        let id = OrderId {
            hi: order.key_hi,
            lo: order.key_lo,
        };
        let own = order.owner == *self.owner;
        let side = id.side();
        if own {
            self.released[side as usize] = self.released[side as usize].saturating_add(lots);
        }
        if self.events {
            let mut e = Ev::<112>::new(0x5045_5250_4f55_5400);
            e.bytes(&order.owner);
            e.bytes(self.market);
            e.u128(id.to_u128());
            e.u64(order.client_order_id);
            e.u8(side as u8);
            e.u64(lots);
            e.u8(reason);
            e.u8(own as u8);
            e.emit();
        }
    }
}

impl BookListener for PerpListener<'_> {
    fn on_out(&mut self, order: &Order, reason: OutReason) {
        self.report(order, order.quantity, reason as u8);
    }
    fn on_decrement(&mut self, order: &Order, quantity: u64) {
        self.report(order, quantity, 5);
    }
}

// ---- place_perp_order.rs ----

/// `PlacePerpOrderArgs`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct PlaceArgs {
    pub side: u8,
    pub order_kind: u8,
    pub self_trade: u8,
    pub reduce_only: u8,
    pub _pad: u32,
    pub price_ticks: u64,
    pub peg_offset_ticks: i64,
    pub max_base_lots: u64,
    pub client_order_id: u64,
    pub expires_at: u64,
    pub expires_at_slot: u64,
}

/// The clock and the exchange's settlement decimals; the keys the program takes from the
/// accounts (the margin account, the market, the signer).
pub struct Env<'a> {
    pub now: i64,
    pub slot: u64,
    pub quote_decimals: u8,
    pub account_key: &'a [u8; 32],
    pub market_key: &'a [u8; 32],
    pub signer_key: &'a [u8; 32],
    pub events: bool,
}

/// What the order did; `adds_risk`: the program then requires initial health >= 0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Placed {
    pub out: PlaceOutcome,
    pub adds_risk: bool,
    pub slot: usize,
}

/// `handle_place_perp_order` up to the health check: everything between the account
/// validation and `compute_health`.
/// The accounts and arguments of [`place_perp_order`] (one register on SBF).
pub struct PlaceIn<'a, 'k> {
    pub book: &'a mut [u8],
    pub market: &'a mut PerpMarket,
    pub oracle: &'a [u8],
    pub acc: &'a mut MarginAccount,
    pub args: &'a PlaceArgs,
    pub env: &'a Env<'k>,
}

#[inline(never)]
pub fn place_perp_order(i: &mut PlaceIn) -> R<Placed> {
    let (book_data, market, oracle_data, acc, args, env) = (
        &mut *i.book,
        &mut *i.market,
        i.oracle,
        &mut *i.acc,
        i.args,
        i.env,
    );
    let now = env.now;
    let Some(side) = OrderSide::from_u8(args.side) else {
        return refuse(INVALID_ORDER_PARAMS);
    };
    let Some(kind) = OrderType::from_u8(args.order_kind) else {
        return refuse(INVALID_ORDER_PARAMS);
    };
    let Some(self_trade) = SelfTradeMode::from_u8(args.self_trade) else {
        return refuse(INVALID_ORDER_PARAMS);
    };
    if !(args.max_base_lots > 0 && args.max_base_lots <= i64::MAX as u64) {
        return refuse(INVALID_ORDER_PARAMS);
    }
    if !(kind == OrderType::OraclePegged || args.peg_offset_ticks == 0) {
        return refuse(INVALID_ORDER_PARAMS);
    }
    if market.params.expiry_ts != 0 && now >= market.params.expiry_ts {
        return refuse(PERP_MARKET_EXPIRED);
    }
    let oracle = glue::perp_oracle_price(market, oracle_data, now, env.quote_decimals)?;
    let tick = market.tick_size;
    // `u64::try_from(oracle.floor_int() / tick as i128).unwrap_or(u64::MAX)`: the per-lot
    // price is positive; its integer part is divided on 64-bit words when it fits (always for a
    // real price), as the upstream SBF backend has no 128-bit division.
    let oracle_ticks = match u64::try_from(oracle.floor_int()) {
        Ok(v) if tick != 0 => v / tick,
        _ => return refuse(MATH_OVERFLOW),
    };

    let slot_idx = find_or_create_perp(acc, market.market_index)?;
    let MarginAccount {
        perps,
        perp_open_orders,
        ..
    } = &mut *acc;
    let slot = &mut perps[slot_idx];
    let open_orders = &mut perp_open_orders[slot_idx];
    settle_funding(market, slot, env.account_key, env.market_key, env.events)?;

    let lots = args.max_base_lots as i64;
    let room = reduce_only_max_lots(
        slot.base_lots,
        slot.bids_base_lots,
        slot.asks_base_lots,
        math_side(side),
    )?;
    let reduces = lots <= room;
    if args.reduce_only != 0 && !reduces {
        return refuse(REDUCE_ONLY_WOULD_INCREASE);
    }
    if market.params.mode == 1 && !reduces {
        return refuse(PERP_MARKET_REDUCE_ONLY);
    }
    // the band (program: `place_perp_order`), on 64-bit words; the oracle/stable guard is off
    // in these markets, so its branch is not mirrored
    let mut price_ticks = args.price_ticks;
    let band = market.params.order_band_bps as u64;
    if band > 0 {
        let floor = match u64::try_from(oracle.floor_int()) {
            Ok(v) if tick != 0 => v,
            _ => return refuse(MATH_OVERFLOW),
        };
        let centre = (floor + tick / 2) / tick;
        let width = ((centre & ((1 << 48) - 1)) * band / 10_000).max(1) as i64;
        let centre = centre as i64;
        let hi = centre + width;
        let lo = (centre - width).max(1);
        let price = if kind == OrderType::OraclePegged {
            centre + args.peg_offset_ticks
        } else {
            args.price_ticks as i64
        };
        let beyond = match side {
            OrderSide::Bid => price > hi,
            OrderSide::Ask => price < lo,
        };
        if beyond {
            match kind {
                OrderType::ImmediateOrCancel | OrderType::FillOrKill | OrderType::Market => {
                    price_ticks = match side {
                        OrderSide::Bid => hi,
                        OrderSide::Ask => lo,
                    } as u64;
                }
                OrderType::PostOnly | OrderType::PostOnlySlide if reduces => {}
                _ => return refuse(ORDER_PRICE_OUT_OF_BAND),
            }
        }
    }
    let oi_add = max_open_interest_increase(slot.base_lots, math_side(side), lots)?;
    if oi_add > 0 {
        let limit = market.params.open_interest_limit_lots;
        let oi = market.open_interest_lots.checked_add(oi_add as u64);
        if oi.is_none_or(|oi| oi > limit) {
            return refuse(OPEN_INTEREST_LIMIT);
        }
    }

    let match_ctx = MatchContext {
        now: now.max(0) as u64,
        slot: env.slot,
        oracle_price: (oracle_ticks > 0).then_some(oracle_ticks),
    };
    let mut listener = PerpListener {
        owner: env.account_key,
        market: env.market_key,
        released: [0; 2],
        events: env.events,
    };
    let taker_fee = market.params.taker_fee_ppm;

    // with_book
    if book_data.len() < BOOK_OFFSET {
        return refuse(BOOK_INVALID);
    }
    let (head, book_bytes) = book_data.split_at_mut(BOOK_OFFSET);
    let Ok(header) = bytemuck::try_from_bytes::<PerpBookHeader>(&head[8..]) else {
        return refuse(BOOK_INVALID);
    };
    let max_fills = header.max_fills;
    let mut book = Book::load(book_bytes)?;
    let order = NewOrder {
        owner: *env.account_key,
        side,
        kind,
        price: price_ticks,
        peg_offset: args.peg_offset_ticks,
        quantity: args.max_base_lots,
        client_order_id: args.client_order_id,
        expires_at: args.expires_at,
        expires_at_slot: args.expires_at_slot,
        max_fills,
        self_trade,
        min_base_fill: 0,
        min_quote_fill: 0,
        quote_budget: 0,
    };
    let list: &mut carry_book::OpenOrders = bytemuck::cast_mut(open_orders);
    let out = book.place(&order, &match_ctx, list, &mut listener)?;
    let first = book.event_count() - out.fills;
    for i in 0..out.fills {
        let Some(e) = book.event(first + i).copied() else {
            return refuse(BOOK_INVALID);
        };
        let applied = apply_fill(
            market,
            slot,
            math_side(side),
            e.quantity,
            e.price,
            taker_fee,
        )?;
        emit_fill(
            env.events,
            env.account_key,
            &e.maker,
            env.market_key,
            false,
            math_side(side),
            e.price,
            e.quantity,
            &applied,
            e.seq,
        );
    }
    release_resting(slot, OrderSide::Bid, listener.released[0]);
    release_resting(slot, OrderSide::Ask, listener.released[1]);
    if out.posted_quantity > 0 {
        let posted = out.posted_quantity as i64;
        let field = match side {
            OrderSide::Bid => &mut slot.bids_base_lots,
            OrderSide::Ask => &mut slot.asks_base_lots,
        };
        let Some(v) = field.checked_add(posted) else {
            return refuse(MATH_OVERFLOW);
        };
        *field = v;
    }
    // PerpOrderEvent (179 bytes)
    let Some(filled_quote) = mul_checked(out.quote_filled, tick) else {
        return refuse(MATH_OVERFLOW);
    };
    if env.events {
        let mut e = Ev::<184>::new(0x5045_5250_4f52_4452);
        e.bytes(env.account_key);
        e.bytes(env.market_key);
        e.bytes(env.signer_key);
        e.u128(out.order_id.to_u128());
        e.u64(args.client_order_id);
        e.u8(args.side);
        e.u8(args.order_kind);
        e.u8(args.reduce_only);
        e.u64(if out.posted_quantity > 0 {
            out.posted_price
        } else {
            0
        });
        e.u64(out.posted_quantity);
        e.u64(out.base_filled);
        e.u64(filled_quote);
        e.u64(out.cancelled_quantity);
        e.u32(out.fills);
        e.u32(out.makers_removed);
        e.emit();
    }
    Ok(Placed {
        out,
        adds_risk: !reduces,
        slot: slot_idx,
    })
}

// ---- consume_perp_events.rs (one event) ----

/// `handle_consume_perp_events` with one maker account and `limit` 1: the oldest event, if
/// its maker is `maker_key`, applied to `maker` (the margin account's data, discriminator
/// first) and popped. Returns the events applied (0 or 1).
/// The accounts and arguments of [`consume_one`].
pub struct ConsumeIn<'a> {
    pub book: &'a mut [u8],
    pub market: &'a mut PerpMarket,
    pub market_key: &'a [u8; 32],
    pub maker_key: &'a [u8; 32],
    pub maker: &'a mut [u8],
    pub events: bool,
}

#[inline(never)]
pub fn consume_one(i: &mut ConsumeIn) -> R<u32> {
    let (book_data, market, market_key, maker_key, maker_data, events) = (
        &mut *i.book,
        &mut *i.market,
        i.market_key,
        i.maker_key,
        &mut *i.maker,
        i.events,
    );
    let maker_fee = market.params.maker_fee_ppm;
    if book_data.len() < BOOK_OFFSET {
        return refuse(BOOK_INVALID);
    }
    let (head, book_bytes) = book_data.split_at_mut(BOOK_OFFSET);
    if bytemuck::try_from_bytes::<PerpBookHeader>(&head[8..]).is_err() {
        return refuse(BOOK_INVALID);
    }
    let mut book = Book::load(book_bytes)?;
    let mut n = 0u32;
    if let Some(e) = book.event(0).copied() {
        if e.maker == *maker_key {
            let size = 8 + crate::layout::MARGIN_ACCOUNT_SIZE;
            if maker_data.len() < size || maker_data[..8] != MARGIN_DISCRIMINATOR {
                return refuse(MAKER_ACCOUNT_MISMATCH);
            }
            let Ok(acc) = bytemuck::try_from_bytes_mut::<MarginAccount>(&mut maker_data[8..size])
            else {
                return refuse(MAKER_ACCOUNT_MISMATCH);
            };
            if acc.exchange != market.exchange {
                return refuse(MAKER_ACCOUNT_MISMATCH);
            }
            let slot_idx = find_or_create_perp(acc, market.market_index)?;
            let slot = &mut acc.perps[slot_idx];
            settle_funding(market, slot, maker_key, market_key, events)?;
            let Some(taker_side) = OrderSide::from_u8(e.taker_side) else {
                return refuse(BOOK_INVALID);
            };
            let maker_side = taker_side.opposite();
            let out = apply_fill(
                market,
                slot,
                math_side(maker_side),
                e.quantity,
                e.price,
                maker_fee,
            )?;
            release_resting(slot, maker_side, e.quantity);
            emit_fill(
                events,
                maker_key,
                &e.taker,
                market_key,
                true,
                math_side(maker_side),
                e.price,
                e.quantity,
                &out,
                e.seq,
            );
            n = 1;
        }
    }
    book.pop_events(n)?;
    log(events, b"consumed 1 perp events");
    Ok(n)
}
