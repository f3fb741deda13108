//! Trading helpers shared by the perp instructions: the linked book over a book account, fills
//! applied to a position (funding settled first, fee, open interest, fees accrued), and the
//! listener that turns the engine's removals into events and releases the trader's own lots.
//!
//! Fees (design): a fee is part of the position's cost basis (`carry_math::perp::apply_fill`),
//! so it reaches the settlement balance through PnL settlement and lands in the market's PnL
//! pool with the losses; a maker rebate is paid out of the pool with the profits. The market's
//! `fees_accrued_native` counts the net fees (taker fees plus maker fees or minus rebates,
//! each rounded in the protocol's favour) as the protocol's claim on that pool. No token and
//! no bank balance moves when a fill is applied, so the settlement bank's conservation holds to
//! the unit; moving accrued fees from the pool into the insurance fund's settlement-bank
//! balance is `sweep_perp_fees`. A taker's fee is accrued before any maker rebate of the same
//! fill and `|maker| <= taker` (validated); the count is still floored at zero, because a sweep
//! between the place and the crank may have taken the taker's fee already.

use anchor_lang::prelude::*;
use carry_book::{Book, BookListener, OrderId, OrderSide as BookSide, OutReason};
use carry_math::perp::{Fill, FillOutcome, Side};
use carry_math::I80F48;

use crate::error::{book_err, CarryError, MathResultExt, OptionExt};
use crate::events::{
    PerpFillEvent, PerpFundingPaidEvent, PerpOrderOutEvent, PerpSocializedLossPaidEvent,
};
use crate::state::{MarginAccount, PerpBook, PerpMarket, PerpPosition};

/// Runs `f` on the book of a perp book account (its bytes after the header), with the
/// header's `max_fills`.
pub fn with_book<R>(
    book_ai: &AccountInfo,
    f: impl FnOnce(&mut Book, u32) -> Result<R>,
) -> Result<R> {
    let mut data = book_ai.try_borrow_mut_data()?;
    require!(
        data.len() >= PerpBook::BOOK_OFFSET,
        CarryError::PerpBookInvalid
    );
    let header: &PerpBook = bytemuck::try_from_bytes(&data[8..PerpBook::BOOK_OFFSET])
        .map_err(|_| error!(CarryError::PerpBookInvalid))?;
    let max_fills = header.max_fills;
    let mut book = Book::load(&mut data[PerpBook::BOOK_OFFSET..]).map_err(book_err)?;
    f(&mut book, max_fills)
}

/// The engine's side as the math's.
pub fn math_side(s: BookSide) -> Side {
    match s {
        BookSide::Bid => Side::Bid,
        BookSide::Ask => Side::Ask,
    }
}

/// Slot of `market_index` in `acc`, taking a free slot if there is none (`NoFreePerpSlot`).
pub fn find_or_create_perp(acc: &mut MarginAccount, market_index: u16) -> Result<usize> {
    if let Some(i) = acc.find_perp(market_index) {
        return Ok(i);
    }
    let i = acc
        .perps
        .iter()
        .position(|p| p.in_use == 0)
        .ok_or_else(|| error!(CarryError::NoFreePerpSlot))?;
    acc.perps[i] = PerpPosition {
        market_index,
        in_use: 1,
        ..PerpPosition::default()
    };
    acc.perp_open_orders[i] = Default::default();
    Ok(i)
}

/// Settle the market's funding and socialized loss into `slot` (emits `PerpFundingPaidEvent`
/// and `PerpSocializedLossPaidEvent` when non-zero). Every instruction that changes a
/// position's base calls it first, so both are always owed on the size actually held.
pub fn settle_funding(
    market: &PerpMarket,
    slot: &mut PerpPosition,
    account: Pubkey,
    market_key: Pubkey,
) -> Result<()> {
    let index = market.funding_index.get();
    let mut pos = slot.position();
    let paid = pos.settle_funding(index).named()?;
    slot.quote_native.set(pos.quote_native);
    slot.funding_snapshot.set(pos.funding_snapshot);
    if paid != 0 {
        emit!(PerpFundingPaidEvent {
            account,
            perp_market: market_key,
            amount_native: paid,
            funding_index_bits: index.to_bits(),
        });
    }
    let loss_index = market.socialized_loss_index.get();
    let loss = slot.pending_socialized_loss(loss_index).named()?;
    if slot.loss_snapshot.get() != loss_index {
        slot.loss_snapshot.set(loss_index);
    }
    if loss != 0 {
        let q = slot
            .quote_native
            .get()
            .checked_add(I80F48::from_i64(loss))
            .ovf()?;
        slot.quote_native.set(q);
        emit!(PerpSocializedLossPaidEvent {
            account,
            perp_market: market_key,
            amount_native: loss,
            loss_index_bits: loss_index.to_bits(),
        });
    }
    Ok(())
}

/// Long lots of a base position.
fn long_lots(base: i64) -> u64 {
    base.max(0) as u64
}

/// Open interest (long lots) after a transfer between two positions of a market, each given as
/// `(base_before, base_after)`: what liquidation and auto-deleveraging move.
pub fn open_interest_after_transfer(oi: u64, moves: [(i64, i64); 2]) -> Result<u64> {
    let mut v = oi as i128;
    for (before, after) in moves {
        v += long_lots(after) as i128 - long_lots(before) as i128;
    }
    u64::try_from(v).map_err(|_| error!(CarryError::MathOverflow))
}

/// The other side.
pub fn opposite(side: Side) -> Side {
    match side {
        Side::Bid => Side::Ask,
        Side::Ask => Side::Bid,
    }
}

/// What a fill applied.
pub struct FillApplied {
    pub outcome: FillOutcome,
}

/// Apply one fill of `lots` at `price_ticks` on `side` to `slot` at `fee_ppm`: cost basis and
/// fee (`apply_fill`), the market's open interest (sum of long positions, moved by this
/// position's long change) and its accrued fees. Funding must be settled first.
pub fn apply_fill(
    market: &mut PerpMarket,
    slot: &mut PerpPosition,
    side: Side,
    lots: u64,
    price_ticks: u64,
    fee_ppm: i32,
) -> Result<FillApplied> {
    let tick = i64::try_from(market.tick_size).map_err(|_| error!(CarryError::MathOverflow))?;
    let price = I80F48::from_u64(price_ticks).checked_mul_int(tick).ovf()?;
    let lots = i64::try_from(lots).map_err(|_| error!(CarryError::MathOverflow))?;
    let mut pos = slot.position();
    let before = pos.base_lots;
    let outcome = pos
        .apply_fill(&Fill {
            side,
            base_lots: lots,
            price,
            fee_ppm,
        })
        .named()?;
    let oi = (market.open_interest_lots as i128) + long_lots(outcome.base_lots_after) as i128
        - long_lots(before) as i128;
    market.open_interest_lots = u64::try_from(oi).map_err(|_| error!(CarryError::MathOverflow))?;
    // Floored at zero: `sweep_perp_fees` may have taken a taker's fee before the crank applies
    // the maker's rebate of the same fill; the count must never block the crank (the rebate is
    // paid from the pool with the profits either way).
    let fees = (market.fees_accrued_native as i128 + outcome.fee_native as i128).max(0);
    market.fees_accrued_native = u64::try_from(fees).unwrap_or(u64::MAX);
    slot.base_lots = pos.base_lots;
    slot.quote_native.set(pos.quote_native);
    Ok(FillApplied { outcome })
}

/// Resting lots of `side` in `slot` less `lots` (never below zero).
pub fn release_resting(slot: &mut PerpPosition, side: BookSide, lots: u64) {
    let lots = i64::try_from(lots).unwrap_or(i64::MAX);
    let field = match side {
        BookSide::Bid => &mut slot.bids_base_lots,
        BookSide::Ask => &mut slot.asks_base_lots,
    };
    *field = field.saturating_sub(lots).max(0);
}

/// Emit a `PerpFillEvent`.
#[allow(clippy::too_many_arguments)]
pub fn emit_fill(
    account: Pubkey,
    counterparty: Pubkey,
    market_key: Pubkey,
    maker: bool,
    side: Side,
    price_ticks: u64,
    lots: u64,
    applied: &FillApplied,
    seq: u64,
) {
    emit!(PerpFillEvent {
        account,
        counterparty,
        perp_market: market_key,
        maker,
        side: match side {
            Side::Bid => 0,
            Side::Ask => 1,
        },
        price_ticks,
        base_lots: lots,
        fee_native: applied.outcome.fee_native,
        base_lots_after: applied.outcome.base_lots_after,
        quote_native_after_bits: applied.outcome.quote_native_after.to_bits(),
        seq,
    });
}

/// Listener of a place or cancel on a perp book: emits `PerpOrderOutEvent` for every order
/// the engine takes off without a fill, and counts the lots of `owner`'s own orders taken off
/// (self-trade removals and decrements, its expired or evicted orders, its cancels), per side,
/// so the instruction releases them from the owner's position. Another account's order removed
/// while matching (expired, beyond its peg limit, evicted) is reported here and queued by the
/// engine as an out event: `consume_perp_events` releases its lots from that account.
pub struct PerpListener {
    pub owner: Pubkey,
    pub market: Pubkey,
    /// Own lots taken off, `[bids, asks]`.
    pub released: [u64; 2],
}

impl PerpListener {
    pub fn new(owner: Pubkey, market: Pubkey) -> Self {
        Self {
            owner,
            market,
            released: [0; 2],
        }
    }

    fn report(&mut self, order: &carry_book::Order, lots: u64, reason: u8) {
        let id = OrderId {
            hi: order.key_hi,
            lo: order.key_lo,
        };
        let own = order.owner == self.owner.to_bytes();
        let side = id.side();
        if own {
            self.released[side as usize] = self.released[side as usize].saturating_add(lots);
        }
        emit!(PerpOrderOutEvent {
            account: Pubkey::new_from_array(order.owner),
            perp_market: self.market,
            order_id: id.to_u128(),
            client_order_id: order.client_order_id,
            side: side as u8,
            base_lots: lots,
            reason,
            released: own,
        });
    }
}

impl BookListener for PerpListener {
    fn on_out(&mut self, order: &carry_book::Order, reason: OutReason) {
        self.report(order, order.quantity, reason as u8);
    }
    fn on_decrement(&mut self, order: &carry_book::Order, quantity: u64) {
        self.report(order, quantity, 5);
    }
}
