//! Placing an order: plan the walk over the opposite side read-only (within its fill and
//! removal budgets), then commit fills, removals, an eviction and the resting remainder.

use crate::arith::same_key;
use crate::arith::{add_signed, mul_checked};
use crate::book::{tree_of, Book};
use crate::cursor::{better, fixed_price, is_expired, pegged_price, PegContext, SideCursor};
use crate::error::BookError;
use crate::events::{self, EventBody};
use crate::layout::{OpenOrders, Order, EVENT_FILL, EVENT_OUT, NIL, SLOT_EXPIRY};
use crate::listener::BookListener;
use crate::order::{
    bias_offset, unbias_offset, MatchContext, NewOrder, OrderId, OrderSide, OrderType, OutReason,
    PlaceOutcome, SelfTradeMode, SEQ_MASK,
};
use crate::tree;
use crate::{MAX_FILLS_PER_PLACE, MAX_REMOVALS_PER_PLACE};
use core::mem::MaybeUninit;

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
enum Action {
    Fill,
    Expire,
    PegOut,
    SelfCancel,
    SelfDecrement,
}

/// One planned change to a maker: its slot in the low bits, the [`Action`] above
/// [`STEP_ACTION_SHIFT`]. Quantities and prices are not stored: applying the steps in order
/// recomputes them exactly as planning did (the makers do not change in between), which keeps
/// `place`'s frame inside SBF's 4 KiB.
type Step = u32;
const STEP_ACTION_SHIFT: u32 = 28;
const _: () = assert!(crate::MAX_ORDER_CAPACITY <= 1 << STEP_ACTION_SHIFT);

#[inline(always)]
fn step_action(step: Step) -> Action {
    match step >> STEP_ACTION_SHIFT {
        0 => Action::Fill,
        1 => Action::Expire,
        2 => Action::PegOut,
        3 => Action::SelfCancel,
        _ => Action::SelfDecrement,
    }
}

const MAX_STEPS: usize = (MAX_FILLS_PER_PLACE + MAX_REMOVALS_PER_PLACE) as usize;

/// What a place will do, decided before anything is written.
///
/// `steps` is left uninitialized (zeroing it cost about 1 CU per entry per place on SBF);
/// only `steps[..len]` is read, and each is written before `len` grows past it.
struct Plan {
    steps: [MaybeUninit<Step>; MAX_STEPS],
    len: usize,
    fills: u32,
    removals: u32,
    /// Other owners' orders removed without a fill (each queues an [`EVENT_OUT`]).
    outs: u32,
}

/// The taker as the commit of a place applies its steps.
struct Taker<'o> {
    order: &'o NewOrder,
    now: u64,
    /// Base lots not yet filled or decremented.
    remaining: u64,
    /// Quote lots the budget still allows (quote-amount orders; unused when the budget is 0).
    quote_left: u64,
    /// Pricing of the makers' pegged orders (the taker's side, which holds the clamp, does
    /// not change while the steps apply).
    peg: PegContext,
}

/// What a place reads and reports beside the book: the owner's list and the listener.
struct Owner<'a, L> {
    list: &'a mut OpenOrders,
    listener: &'a mut L,
}

/// Where and what a place rests.
struct Resting {
    id: OrderId,
    quantity: u64,
    now: u64,
    /// The entry of the owner's list it takes.
    entry: usize,
}

/// Whether a taker on `taker_side` with limit `limit` trades with a maker at `maker_price`.
#[inline(always)]
fn crosses(taker_side: OrderSide, limit: u64, maker_price: u64) -> bool {
    match taker_side {
        OrderSide::Bid => maker_price <= limit,
        OrderSide::Ask => maker_price >= limit,
    }
}

impl<'a> Book<'a> {
    /// Places an order: matches what crosses it, then rests, cancels or refuses the rest as
    /// its kind says. Either returns the outcome with every change made, or an error with the
    /// book and `list` unchanged. `list` is the owner's [`OpenOrders`] in this book: a resting
    /// remainder is recorded there (`TooManyOpenOrders` when it holds
    /// [`crate::MAX_OPEN_ORDERS`] resting orders), and a client id (not 0) must be new among
    /// the orders it records (`DuplicateClientOrderId`). Orders that never rest leave it
    /// unread.
    ///
    /// Compute is bounded whatever the book holds: the walk over the opposite side meets at
    /// most `max_fills` makers it fills and [`MAX_REMOVALS_PER_PLACE`] it removes (expired,
    /// beyond their peg limit, or cancelled by self-trade prevention); when either budget
    /// stops it while the book still crosses, the remainder is cancelled, never rested.
    #[inline(always)]
    pub fn place<L: BookListener>(
        &mut self,
        o: &NewOrder,
        ctx: &MatchContext,
        list: &mut OpenOrders,
        listener: &mut L,
    ) -> Result<PlaceOutcome, BookError> {
        self.place_with(o, ctx, &mut Owner { list, listener })
    }

    /// [`Book::place`] with the owner's list and the listener in one argument: SBF passes at
    /// most five arguments in registers (the outcome's address and `self` are two).
    fn place_with<L: BookListener>(
        &mut self,
        o: &NewOrder,
        ctx: &MatchContext,
        owner: &mut Owner<'_, L>,
    ) -> Result<PlaceOutcome, BookError> {
        let (list, listener) = (&mut *owner.list, &mut *owner.listener);
        if o.quantity == 0 {
            return Err(BookError::ZeroQuantity);
        }
        if o.max_fills == 0 || o.max_fills > MAX_FILLS_PER_PLACE {
            return Err(BookError::InvalidFillLimit);
        }
        if o.expires_at | o.expires_at_slot != 0 {
            // Most orders carry no expiry: one test skips these.
            if (o.expires_at | o.expires_at_slot) & SLOT_EXPIRY != 0
                || (o.expires_at != 0 && o.expires_at_slot != 0)
            {
                return Err(BookError::InvalidExpiry);
            }
            if (o.expires_at != 0 && o.expires_at <= ctx.now)
                || (o.expires_at_slot != 0 && o.expires_at_slot <= ctx.slot)
            {
                return Err(BookError::AlreadyExpired);
            }
        }
        if o.quote_budget != 0
            && !matches!(
                o.kind,
                OrderType::ImmediateOrCancel | OrderType::FillOrKill | OrderType::Market
            )
        {
            return Err(BookError::InvalidQuoteBudget);
        }
        let pegged = o.kind == OrderType::OraclePegged;
        let mut limit = if pegged {
            let oracle = ctx.oracle_price.ok_or(BookError::MissingOraclePrice)?;
            let p = add_signed(oracle, o.peg_offset).ok_or(BookError::InvalidPrice)?;
            match (o.price, o.side) {
                (0, _) => p,
                (cap, OrderSide::Bid) => p.min(cap),
                (cap, OrderSide::Ask) => p.max(cap),
            }
        } else {
            if o.price == 0 {
                return Err(BookError::InvalidPrice);
            }
            o.price
        };
        let opposite = o.side.opposite();
        let post_only = matches!(o.kind, OrderType::PostOnly | OrderType::PostOnlySlide);
        let may_rest = o.kind.may_rest();

        let mut out = PlaceOutcome::default();
        let mut plan = Plan {
            // SAFETY: an array of `MaybeUninit` needs no initialization. (Written this way,
            // not as `[MaybeUninit::uninit(); N]`, which LLVM turned into a memset.)
            steps: unsafe { MaybeUninit::uninit().assume_init() },
            len: 0,
            fills: 0,
            removals: 0,
            outs: 0,
        };
        let mut remaining = o.quantity;
        let mut stopped_early = false;
        let free_events = self.header.event_capacity - self.header.event_count;
        let mut cursor = SideCursor::new(self, opposite, ctx.oracle_price);
        cursor.limit = limit;
        while remaining > 0 {
            let Some(m) = cursor.next(self)? else {
                break;
            };
            if !crosses(o.side, limit, m.price) {
                break;
            }
            let maker = self.orders[opposite as usize]
                .get(m.slot as usize)
                .ok_or(BookError::Corrupt)?;
            let action = if is_expired(maker, ctx) {
                Action::Expire
            } else if !m.in_peg {
                Action::PegOut
            } else if post_only {
                // The best maker that can trade crosses: refuse, or slide behind it.
                if o.kind == OrderType::PostOnly {
                    return Err(BookError::PostOnlyWouldCross);
                }
                limit = match o.side {
                    OrderSide::Bid => m.price.checked_sub(1).filter(|p| *p > 0),
                    OrderSide::Ask => m.price.checked_add(1),
                }
                .ok_or(BookError::InvalidPrice)?;
                break;
            } else if same_key(&maker.owner, &o.owner) {
                match o.self_trade {
                    SelfTradeMode::Abort => return Err(BookError::SelfTrade),
                    SelfTradeMode::CancelResting => Action::SelfCancel,
                    SelfTradeMode::DecrementTake => Action::SelfDecrement,
                }
            } else {
                Action::Fill
            };
            let mut quantity = remaining.min(maker.quantity);
            if action == Action::Fill {
                if o.quote_budget != 0 {
                    // What the budget left buys at this price; nothing: the order is done.
                    // (`quote_filled` never exceeds the budget.)
                    let afford = (o.quote_budget - out.quote_filled) / m.price;
                    if afford == 0 {
                        break;
                    }
                    quantity = quantity.min(afford);
                }
                if plan.fills == o.max_fills || plan.fills + plan.outs == free_events {
                    if free_events == 0 {
                        return Err(BookError::EventQueueFull);
                    }
                    stopped_early = true;
                    break;
                }
                let quote = mul_checked(quantity, m.price).ok_or(BookError::Overflow)?;
                out.quote_filled = out
                    .quote_filled
                    .checked_add(quote)
                    .ok_or(BookError::Overflow)?;
                // `quantity <= remaining`, and fills <= MAX_FILLS_PER_PLACE: these cannot
                // overflow, and wrapping ops spare SBF an overflow check and panic path each.
                out.base_filled = out.base_filled.wrapping_add(quantity);
                remaining = remaining.wrapping_sub(quantity);
                plan.fills = plan.fills.wrapping_add(1);
            } else {
                if plan.removals == MAX_REMOVALS_PER_PLACE {
                    stopped_early = true;
                    break;
                }
                let other = matches!(action, Action::Expire | Action::PegOut)
                    && !same_key(&maker.owner, &o.owner);
                if other {
                    // Another owner's order leaves without its owner's instruction: an out
                    // event tells the authority to release its resting lots.
                    if plan.fills + plan.outs == free_events {
                        if free_events == 0 {
                            return Err(BookError::EventQueueFull);
                        }
                        stopped_early = true;
                        break;
                    }
                    plan.outs += 1;
                }
                plan.removals += 1;
                if action == Action::SelfDecrement {
                    remaining -= quantity;
                    out.cancelled_quantity += quantity;
                }
            }
            *plan.steps.get_mut(plan.len).ok_or(BookError::Corrupt)? =
                MaybeUninit::new(m.slot | (action as u32) << STEP_ACTION_SHIFT);
            plan.len = plan.len.wrapping_add(1); // at most MAX_STEPS
        }
        if o.kind == OrderType::FillOrKill && remaining > 0 {
            return Err(BookError::FillOrKillNotFilled);
        }
        if o.min_base_fill | o.min_quote_fill != 0
            && (out.base_filled < o.min_base_fill || out.quote_filled < o.min_quote_fill)
        {
            return Err(BookError::SlippageExceeded);
        }
        let mut rest = may_rest && remaining > 0 && !stopped_early;
        // The owner's list entry the remainder takes; a client id must be new among the
        // owner's resting orders even when nothing rests (both checked on the book as it was).
        let mut entry = 0;
        if rest || (may_rest && o.client_order_id != 0) {
            match self.entry_for_rest(&o.owner, list, o.client_order_id) {
                Ok(i) => entry = i,
                Err(BookError::TooManyOpenOrders) if !rest => {}
                Err(e) => return Err(e),
            }
        }
        let mut evict = None;
        if rest && self.header.sides[o.side as usize].order_count >= self.header.order_capacity {
            // A full side: the order evicts the side's worst order if it is strictly better.
            let slot = self.evictable(o.side, limit, ctx.oracle_price)?;
            let owner = self.orders[o.side as usize]
                .get(slot as usize)
                .ok_or(BookError::Corrupt)?
                .owner;
            if !same_key(&owner, &o.owner) && plan.fills + plan.outs == free_events {
                // no room to queue the evicted owner's out event: the remainder does not rest
                rest = false;
            } else {
                evict = Some(slot);
            }
        }

        // Commit: nothing below can fail on a book this engine wrote.
        let seq = self.header.order_seq;
        self.header.order_seq = seq.checked_add(1).ok_or(BookError::Overflow)?;
        let key_price = if pegged {
            bias_offset(o.peg_offset)
        } else {
            limit
        };
        out.order_id = OrderId::new(o.side, pegged, key_price, seq);
        out.fills = plan.fills;
        out.makers_removed = plan.removals;
        let mut taker = Taker {
            order: o,
            now: ctx.now,
            remaining: o.quantity,
            quote_left: o.quote_budget,
            peg: cursor.peg,
        };
        for step in plan.steps.get(..plan.len).ok_or(BookError::Corrupt)? {
            // SAFETY: the planning loop wrote every step below `plan.len`.
            let step = unsafe { step.assume_init() };
            self.apply(opposite, step, &mut taker, &mut cursor, listener)?;
        }
        // The opposite pegged tree's first order, when the walk read it and no step removed a
        // pegged maker since (else it is read again).
        // (A step that removes a pegged maker removes that first one before any other: if it
        // still rests, it is still first.)
        let pegged_first = match cursor.pegged_first() {
            Some(Some(slot)) => {
                let resting = self.orders[opposite as usize]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?
                    .quantity
                    != 0;
                resting.then_some(Some(slot))
            }
            known => known,
        };
        if rest && pegged && self.pegged_offsets_cross(o.side, o.peg_offset, pegged_first)? {
            // Resting would let some oracle price cross it with an opposite pegged order.
            rest = false;
        }
        if rest {
            if let Some(slot) = evict {
                let s = o.side as usize;
                let worst = *self.orders[s]
                    .get(slot as usize)
                    .ok_or(BookError::Corrupt)?;
                listener.on_out(&worst, OutReason::Evicted);
                if !same_key(&worst.owner, &o.owner) {
                    self.push_out(&worst, o, ctx.now)?;
                }
                self.remove(s, slot, None)?;
                out.evicted = Some(OrderId {
                    hi: worst.key_hi,
                    lo: worst.key_lo,
                });
            }
            let at = Resting {
                id: out.order_id,
                quantity: remaining,
                now: ctx.now,
                entry,
            };
            self.rest(o, &at, list, listener)?;
            out.posted_quantity = remaining;
            out.posted_price = limit;
        } else {
            out.cancelled_quantity += remaining;
        }
        Ok(out)
    }

    /// The slot of `side`'s worst order (the worse of its fixed and pegged trees' last
    /// orders; pegged ones at their price now, or worst of all without an oracle), if an order
    /// resting at `price` is strictly better than it; `SideFull` otherwise.
    fn evictable(
        &self,
        side: OrderSide,
        price: u64,
        oracle: Option<u64>,
    ) -> Result<u32, BookError> {
        let s = side as usize;
        let sh = &self.header.sides[s];
        let order = |slot: u32| self.orders[s].get(slot as usize).ok_or(BookError::Corrupt);
        let fixed = match tree::last(sh.fixed_root, self.inners[s])? {
            Some(slot) => Some((slot, fixed_price(side, order(slot)?.key_hi))),
            None => None,
        };
        let pegged = match tree::last(sh.pegged_root, self.inners[s])? {
            Some(slot) => {
                let peg = self.peg_context(side, oracle)?;
                match pegged_price(side, order(slot)?, &peg) {
                    Some((p, true)) => Some((slot, p)),
                    // Untradable now: worse than any price.
                    _ => Some((slot, if side == OrderSide::Bid { 0 } else { u64::MAX })),
                }
            }
            None => None,
        };
        let worst = match (fixed, pegged) {
            (Some(f), Some(p)) => {
                if better(side, f.1, p.1) {
                    p
                } else if better(side, p.1, f.1)
                    || order(f.0)?.key_lo & SEQ_MASK > order(p.0)?.key_lo & SEQ_MASK
                {
                    f
                } else {
                    p
                }
            }
            (Some(w), None) | (None, Some(w)) => w,
            (None, None) => return Err(BookError::SideFull),
        };
        if better(side, price, worst.1) {
            Ok(worst.0)
        } else {
            Err(BookError::SideFull)
        }
    }

    /// Whether a pegged order on `side` with `offset` would cross the opposite side's best
    /// pegged offset (pegged orders on both sides move together, so such a pair would cross
    /// at some oracle price once their clamps or peg limits allow).
    /// `first`: the opposite pegged tree's first order (`Some(None)`: the tree is empty), when
    /// the caller knows it.
    fn pegged_offsets_cross(
        &self,
        side: OrderSide,
        offset: i64,
        first: Option<Option<u32>>,
    ) -> Result<bool, BookError> {
        let opp = side.opposite();
        let o = opp as usize;
        let first = match first {
            Some(known) => known,
            None => tree::first(self.header.sides[o].pegged_root, self.inners[o])?,
        };
        let Some(slot) = first else {
            return Ok(false);
        };
        let key_hi = self.orders[o]
            .get(slot as usize)
            .ok_or(BookError::Corrupt)?
            .key_hi;
        let theirs = unbias_offset(fixed_price(opp, key_hi));
        Ok(match side {
            OrderSide::Bid => theirs <= offset,
            OrderSide::Ask => theirs >= offset,
        })
    }

    #[inline(always)]
    fn apply<L: BookListener>(
        &mut self,
        maker_side: OrderSide,
        step: Step,
        taker: &mut Taker,
        cursor: &mut SideCursor,
        listener: &mut L,
    ) -> Result<(), BookError> {
        let s = maker_side as usize;
        let slot = step & ((1 << STEP_ACTION_SHIFT) - 1);
        let action = step_action(step);
        let maker = self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)?;
        // Makers leave through the walk that found them (no descent for the first).
        let walk = cursor.walk(maker.is_pegged());
        let out_reason = match action {
            Action::Fill => {
                // As planned: the maker's quantity or the taker's remainder, at the maker's
                // price now.
                let mut quantity = taker.remaining.min(maker.quantity);
                // (The tag is read again, not held from above: holding it cost SBF 7 CU a
                // fill in register pressure.)
                let price = if maker.is_pegged() {
                    pegged_price(maker_side, maker, &taker.peg)
                        .ok_or(BookError::Corrupt)?
                        .0
                } else {
                    fixed_price(maker_side, maker.key_hi)
                };
                if taker.order.quote_budget != 0 {
                    quantity = quantity.min(taker.quote_left / price);
                    // Planned within the budget: no overflow (and no 128-bit multiply on SBF).
                    taker.quote_left -= quantity.wrapping_mul(price);
                }
                taker.remaining -= quantity;
                maker.quantity = maker.quantity.wrapping_sub(quantity);
                let maker_out = maker.quantity == 0;
                let body = EventBody {
                    price,
                    quantity,
                    maker_out,
                    kind: EVENT_FILL,
                };
                let e = events::push(
                    self.header,
                    self.events,
                    maker,
                    taker.order,
                    taker.now,
                    body,
                )?;
                listener.on_fill(e);
                if maker_out {
                    return self.remove(s, slot, Some(walk));
                }
                return Ok(());
            }
            Action::Expire => OutReason::Expired,
            Action::PegOut => OutReason::PegLimit,
            Action::SelfCancel => OutReason::SelfTrade,
            Action::SelfDecrement => {
                let quantity = taker.remaining.min(maker.quantity);
                taker.remaining -= quantity;
                listener.on_decrement(maker, quantity);
                maker.quantity -= quantity;
                if maker.quantity > 0 {
                    return Ok(());
                }
                return self.remove(s, slot, Some(walk));
            }
        };
        listener.on_out(maker, out_reason);
        if !same_key(&maker.owner, &taker.order.owner) {
            let m = *maker;
            self.push_out(&m, taker.order, taker.now)?;
        }
        self.remove(s, slot, Some(walk))
    }

    /// Queue an [`EVENT_OUT`] for `order` (another owner's), removed by `taker`'s place.
    fn push_out(&mut self, order: &Order, taker: &NewOrder, now: u64) -> Result<(), BookError> {
        let id = OrderId {
            hi: order.key_hi,
            lo: order.key_lo,
        };
        let price = if order.is_pegged() {
            0
        } else {
            fixed_price(id.side(), order.key_hi)
        };
        let body = EventBody {
            price,
            quantity: order.quantity,
            maker_out: true,
            kind: EVENT_OUT,
        };
        events::push(self.header, self.events, order, taker, now, body)?;
        Ok(())
    }

    /// Rests the remainder: a free order slot, the price tree, the owner's list entry.
    fn rest<L: BookListener>(
        &mut self,
        o: &NewOrder,
        at: &Resting,
        list: &mut OpenOrders,
        listener: &mut L,
    ) -> Result<(), BookError> {
        let (id, quantity, now) = (at.id, at.quantity, at.now);
        let s = o.side as usize;
        let capacity = self.header.order_capacity;
        let sh = &mut self.header.sides[s];
        let slot = if sh.order_free != NIL {
            let slot = sh.order_free;
            sh.order_free = self.orders[s]
                .get(slot as usize)
                .ok_or(BookError::Corrupt)?
                .next_free;
            slot
        } else if sh.order_bump < capacity {
            sh.order_bump += 1;
            sh.order_bump - 1
        } else {
            return Err(BookError::SideFull);
        };
        sh.order_count += 1;
        let order = Order {
            owner: o.owner,
            key_hi: id.hi,
            key_lo: id.lo,
            quantity,
            client_order_id: o.client_order_id,
            expires_at: if o.expires_at_slot != 0 {
                o.expires_at_slot | SLOT_EXPIRY
            } else {
                o.expires_at
            },
            peg_limit: if id.is_pegged() { o.price } else { 0 },
            placed_at: now,
            _reserved: 0,
            next_free: NIL,
        };
        *self.orders[s]
            .get_mut(slot as usize)
            .ok_or(BookError::Corrupt)? = order;
        let pegged = id.is_pegged();
        let (root, mut alloc) = tree_of(&mut self.header.sides[s], pegged);
        let spine = (!pegged).then_some(&mut *self.spines[s]);
        tree::insert(
            root,
            &mut alloc,
            self.inners[s],
            self.orders[s],
            slot,
            spine,
        )?;
        list.record(at.entry, id, slot, o.client_order_id);
        listener.on_post(&order);
        Ok(())
    }
}
