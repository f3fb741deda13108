//! Perp position math: fills and fees, unrealized PnL, funding settlement, PnL settlement
//! split, reduce-only room, and the health contribution of a position with its open orders.
//!
//! Units: base in **lots** (`i64`, signed: > 0 long, < 0 short); prices in **quote native per
//! base lot** ([`I80F48`], > 0); quote amounts in **quote native** units (the settlement token's
//! smallest unit; [`I80F48`] while inside a position, whole units as `i64`/`u64` when they move
//! into a balance or pool).
//!
//! A position is `base_lots`, the quote cost basis `quote_native` and a funding snapshot.
//! The cost basis is the quote paid for the position, net: a buy adds its notional, a sell
//! subtracts it, fees and funding paid add, rebates and funding received subtract. So for
//! longs and shorts alike
//!
//! `unrealized_pnl(price) = base_lots * price - quote_native`
//!
//! (a short sold for 1000 has `quote_native = -1000` and gains when `base_lots * price` rises
//! toward zero). Closing a position leaves its realized PnL as `-quote_native` with zero base,
//! until PnL settlement moves it into the settlement balance.
//!
//! Fees are part of the cost basis (as the design's money model says), so a fee reaches the
//! settlement balance through PnL settlement and lands in the PnL pool with the losses; a rebate
//! is paid out of the pool with the profits. Fee rates with `taker_ppm >= 0` and
//! `taker_ppm + maker_ppm >= 0` ([`validate_fee_rates`]) make every trade's net fee
//! non-negative, so once all PnL is settled the pool holds at least the net fees (plus funding
//! dust); the program keeps a count of fees accrued and moves them from the pool to the
//! insurance fund when the pool can pay them. (The alternative, charging the fee straight to
//! the settlement balance, must then leave it out of the cost basis: `quote_native_after -
//! fee_native`.)
//!
//! Rounding favours the protocol: notional is exact (`lots * price` on the fixed-point grid);
//! a fee is rounded **up** to whole native units and a rebate **down**; funding paid is rounded
//! up and funding received down ([`crate::funding::funding_owed`]); a settled loss is rounded up
//! and a settled profit down (whole units); margin requirements round up and haircut profit
//! rounds down.
//!
//! ```
//! use carry_math::perp::{perp_health, Fill, PerpHealthInputs, Position, Side};
//! use carry_math::tiers::{LeverageTier, LeverageTiers};
//! use carry_math::I80F48;
//!
//! // buy 10 lots at 1_000 quote native per lot, taker fee 5 bps
//! let mut long = Position::default();
//! let out = long.apply_fill(&Fill { side: Side::Bid, base_lots: 10, price: I80F48::from_i64(1_000), fee_ppm: 500 })?;
//! assert_eq!((out.fee_native, long.quote_native), (5, I80F48::from_i64(10_005)));
//! // funding index rose by 0.25 per lot: the long pays ceil(2.5) = 3
//! assert_eq!(long.settle_funding(I80F48::from_ratio(1, 4, carry_math::Round::Floor).unwrap())?, 3);
//! // health at 1_100 with a 100x first tier and an empty PnL pool (20% haircut)
//! let tiers = LeverageTiers::new(&[LeverageTier { max_notional_native: u64::MAX, init_margin_ppm: 10_000, maint_margin_ppm: 5_000 }])?;
//! let h = perp_health(&PerpHealthInputs {
//!     position: long, bids_base_lots: 0, asks_base_lots: 0,
//!     funding_index: long.funding_snapshot, price: I80F48::from_i64(1_100),
//!     tiers: &tiers, pnl_pool_native: 0, unpaid_pnl_haircut_ppm: 200_000,
//! })?;
//! assert_eq!(h.pnl, I80F48::from_i64(992)); // 11_000 - 10_008
//! assert_eq!(h.init.floor_int(), 992 * 8 / 10 - 110); // haircut profit - 1% of 11_000
//! # Ok::<(), carry_math::MathError>(())
//! ```

use crate::error::{MathError, OrOverflow};
use crate::fixed::{Round, I80F48};
use crate::funding::funding_owed;
use crate::health::{HealthType, PerpTerm};
use crate::tiers::{margin_at, LeverageTiers, PPM};

/// Side of an order or a fill, from the trader's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Buy: base increases.
    Bid,
    /// Sell: base decreases.
    Ask,
}

/// One perp position, as the math sees it (the program's stored form converts to this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Position {
    /// Base position, lots (> 0 long, < 0 short).
    pub base_lots: i64,
    /// Quote cost basis, quote native: quote paid for the position net of quote received,
    /// including fees (rebates negative) and funding (received negative).
    pub quote_native: I80F48,
    /// Market funding index at the last funding settlement, quote native per lot.
    pub funding_snapshot: I80F48,
}

/// A fill to apply to one side of a trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// The trader's side.
    pub side: Side,
    /// Quantity, base lots (> 0).
    pub base_lots: i64,
    /// Price, quote native per base lot (> 0).
    pub price: I80F48,
    /// Fee rate for this trader, parts per million of the notional: the taker rate, or the
    /// maker rate, which may be negative (a rebate). `|fee_ppm| <= 1_000_000`.
    pub fee_ppm: i32,
}

/// What applying a fill did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillOutcome {
    /// `base_lots * price`, quote native, exact.
    pub notional: I80F48,
    /// Fee, whole quote native units: > 0 charged to the trader (rounded up), < 0 a rebate
    /// paid to the trader (magnitude rounded down). Included in the cost basis.
    pub fee_native: i64,
    /// Base position after the fill, lots.
    pub base_lots_after: i64,
    /// Cost basis after the fill, quote native.
    pub quote_native_after: I80F48,
}

/// Fee on a notional (quote native, >= 0) at `fee_ppm`, in whole quote native units:
/// `ceil(notional * fee_ppm / 1e6)` for a fee (`fee_ppm >= 0`),
/// `-floor(notional * |fee_ppm| / 1e6)` for a rebate. `InvalidParams` when
/// `|fee_ppm| > 1_000_000`, `InvalidAmount` for a negative notional.
pub fn fee_native(notional: I80F48, fee_ppm: i32) -> Result<i64, MathError> {
    if fee_ppm.unsigned_abs() > PPM {
        return Err(MathError::InvalidParams);
    }
    if notional.is_negative() {
        return Err(MathError::InvalidAmount);
    }
    let scaled = notional
        .checked_mul_int(fee_ppm.unsigned_abs() as i64)
        .ovf()?;
    let million = I80F48::from_u64(PPM as u64);
    let v = if fee_ppm >= 0 {
        scaled.div_round(million, Round::Ceil).ovf()?.ceil_int()
    } else {
        -scaled.div_round(million, Round::Floor).ovf()?.floor_int()
    };
    i64::try_from(v).map_err(|_| MathError::Overflow)
}

/// Check a market's fee rates (parts per million of the notional): `|ppm| <= 1_000_000`,
/// `taker_ppm >= 0`, and a maker rebate no larger than the taker fee
/// (`taker_ppm + maker_ppm >= 0`), so that every trade's net fee is `>= 0` after rounding.
/// Else `InvalidParams`.
pub fn validate_fee_rates(maker_ppm: i32, taker_ppm: i32) -> Result<(), MathError> {
    if maker_ppm.unsigned_abs() > PPM
        || taker_ppm.unsigned_abs() > PPM
        || taker_ppm < 0
        || (taker_ppm as i64) + (maker_ppm as i64) < 0
    {
        return Err(MathError::InvalidParams);
    }
    Ok(())
}

impl Position {
    /// Apply a fill: base moves by `±base_lots`, the cost basis by `±notional + fee_native`
    /// (`+` for a bid). On error nothing is changed.
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<FillOutcome, MathError> {
        if fill.base_lots <= 0 {
            return Err(MathError::InvalidAmount);
        }
        if !fill.price.is_positive() {
            return Err(MathError::InvalidPrice);
        }
        let notional = fill.price.checked_mul_int(fill.base_lots).ovf()?;
        let fee = fee_native(notional, fill.fee_ppm)?;
        let (base, quote) = match fill.side {
            Side::Bid => (
                self.base_lots.checked_add(fill.base_lots).ovf()?,
                self.quote_native.checked_add(notional).ovf()?,
            ),
            Side::Ask => (
                self.base_lots.checked_sub(fill.base_lots).ovf()?,
                self.quote_native.checked_sub(notional).ovf()?,
            ),
        };
        let quote = quote.checked_add(I80F48::from_i64(fee)).ovf()?;
        self.base_lots = base;
        self.quote_native = quote;
        Ok(FillOutcome {
            notional,
            fee_native: fee,
            base_lots_after: base,
            quote_native_after: quote,
        })
    }

    /// `base_lots * price - quote_native`, quote native, exact (no funding: settle it first, or
    /// see [`perp_health`], which counts pending funding).
    pub fn unrealized_pnl(&self, price: I80F48) -> Result<I80F48, MathError> {
        price
            .checked_mul_int(self.base_lots)
            .ovf()?
            .checked_sub(self.quote_native)
            .ovf()
    }

    /// `|base_lots| * price`, quote native, exact.
    pub fn notional(&self, price: I80F48) -> Result<I80F48, MathError> {
        price
            .checked_mul_int(self.base_lots)
            .ovf()?
            .checked_abs()
            .ovf()
    }

    /// Break-even price for display, quote native per lot: `quote_native / base_lots`, rounded
    /// down; `None` when flat. It is the average entry price with fees, funding and any
    /// not-yet-settled PnL of earlier reductions folded in (after a PnL settlement at price `p`
    /// it is `p`); track [`next_average_entry`] off-chain for the entry price of trades alone.
    pub fn break_even_price(&self) -> Result<Option<I80F48>, MathError> {
        if self.base_lots == 0 {
            return Ok(None);
        }
        self.quote_native
            .div_round(I80F48::from_i64(self.base_lots), Round::Floor)
            .ovf()
            .map(Some)
    }

    /// Settle funding up to `index_now`: the cost basis grows by
    /// [`funding_owed`]`(base_lots, funding_snapshot, index_now)` (whole native units; > 0 paid,
    /// < 0 received, rounded up either way) and the snapshot becomes `index_now`.
    /// Returns the amount. On error nothing is changed.
    pub fn settle_funding(&mut self, index_now: I80F48) -> Result<i64, MathError> {
        let owed = funding_owed(self.base_lots, self.funding_snapshot, index_now)?;
        self.quote_native = self
            .quote_native
            .checked_add(I80F48::from_i64(owed))
            .ovf()?;
        self.funding_snapshot = index_now;
        Ok(owed)
    }

    /// Close the position at `price` without a fill (a dated future's expiry at the settlement
    /// average): `quote_native -= base_lots * price` (exact) and `base_lots = 0`, so its
    /// unrealized PnL at `price` becomes realized (`-quote_native`), unchanged in amount.
    /// Across a market whose base sums to zero the cost bases move by a total of zero.
    /// Returns the base lots closed. On error nothing is changed.
    pub fn close_at(&mut self, price: I80F48) -> Result<i64, MathError> {
        if !price.is_positive() {
            return Err(MathError::InvalidPrice);
        }
        let value = price.checked_mul_int(self.base_lots).ovf()?;
        self.quote_native = self.quote_native.checked_sub(value).ovf()?;
        let closed = self.base_lots;
        self.base_lots = 0;
        Ok(closed)
    }

    /// Settle PnL at `price` against a PnL pool of `pool_native` (see [`split_pnl`]): the cost
    /// basis grows by the settled amount (so the unrealized PnL left is
    /// [`PnlSettlement::remaining_pnl`]); the caller moves `settled_native` into the settlement
    /// balance and sets the pool to `pool_after_native`. Settle funding first. On error nothing
    /// is changed.
    pub fn settle_pnl(
        &mut self,
        price: I80F48,
        pool_native: u64,
    ) -> Result<PnlSettlement, MathError> {
        let s = split_pnl(self.unrealized_pnl(price)?, pool_native)?;
        self.quote_native = self
            .quote_native
            .checked_add(I80F48::from_i64(s.settled_native))
            .ovf()?;
        Ok(s)
    }
}

/// Average entry price after a fill, for display (SDK, indexer): `None` when the fill leaves the
/// position flat; the fill price when it opens or flips the position; the size-weighted
/// average `(entry * |base| + price * lots) / |base_after|` (rounded down) when it adds to the
/// position; unchanged when it reduces it. `entry_before` is ignored when `base_before == 0`.
/// `InvalidAmount` unless `lots > 0`.
pub fn next_average_entry(
    base_before: i64,
    entry_before: I80F48,
    side: Side,
    lots: i64,
    price: I80F48,
) -> Result<Option<I80F48>, MathError> {
    if lots <= 0 {
        return Err(MathError::InvalidAmount);
    }
    let after = match side {
        Side::Bid => base_before.checked_add(lots),
        Side::Ask => base_before.checked_sub(lots),
    }
    .ovf()?;
    if after == 0 {
        return Ok(None);
    }
    if base_before == 0 || (base_before < 0) != (after < 0) {
        return Ok(Some(price));
    }
    if after.unsigned_abs() <= base_before.unsigned_abs() {
        return Ok(Some(entry_before));
    }
    let old = entry_before
        .checked_mul_int(base_before.checked_abs().ovf()?)
        .ovf()?;
    let added = price.checked_mul_int(lots.checked_abs().ovf()?).ovf()?;
    old.checked_add(added)
        .ovf()?
        .div_round(I80F48::from_i64(after.checked_abs().ovf()?), Round::Floor)
        .ovf()
        .map(Some)
}

/// Largest size (base lots, >= 0) a reduce-only order on `side` may have: what is left of the
/// position after the orders already resting on that side, `max(0, base - asks)` for an ask
/// against a long and `max(0, -base - bids)` for a bid against a short; 0 when the order would
/// only add. `InvalidAmount` for negative resting lots.
pub fn reduce_only_max_lots(
    base_lots: i64,
    bids_base_lots: i64,
    asks_base_lots: i64,
    side: Side,
) -> Result<i64, MathError> {
    if bids_base_lots < 0 || asks_base_lots < 0 {
        return Err(MathError::InvalidAmount);
    }
    let room = match side {
        Side::Ask => base_lots.checked_sub(asks_base_lots),
        Side::Bid => base_lots.checked_neg().ovf()?.checked_sub(bids_base_lots),
    }
    .ovf()?;
    Ok(room.max(0))
}

/// How much `|base_lots|` changes when a fill of `lots` (> 0) on `side` is applied:
/// `|base + lots| - |base|` for a bid, `|base - lots| - |base|` for an ask (in `[-lots, lots]`).
/// A market's open interest (the sum of long lots, half the sum of `|base_lots|`) changes by
/// `(taker_change + maker_change) / 2` on a fill.
pub fn abs_base_change(base_lots: i64, side: Side, lots: i64) -> Result<i64, MathError> {
    if lots <= 0 {
        return Err(MathError::InvalidAmount);
    }
    let after = match side {
        Side::Bid => base_lots.checked_add(lots),
        Side::Ask => base_lots.checked_sub(lots),
    }
    .ovf()?;
    let change = after.unsigned_abs() as i128 - base_lots.unsigned_abs() as i128;
    // |change| <= lots
    Ok(change as i64)
}

/// Most a taker order of `lots` on `side` can add to the market's open interest when it fills
/// (entirely or in part, against any number of makers, whatever their positions):
/// `(abs_base_change + lots) / 2` (exact: the two terms have the same parity), which is `lots`
/// for an order that opens and 0 for one that closes at least `lots`. For the open-interest
/// limit check at placement.
pub fn max_open_interest_increase(base_lots: i64, side: Side, lots: i64) -> Result<i64, MathError> {
    let change = abs_base_change(base_lots, side, lots)?;
    // change in [-lots, lots], so the sum is in [0, 2 * lots]: halving by a shift is the
    // division by 2 (and needs no 128-bit division on SBF)
    Ok(((change as i128 + lots as i128) >> 1) as i64)
}

/// How a PnL settlement splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PnlSettlement {
    /// Whole quote native units moved into the settlement balance: < 0 a loss (the balance
    /// falls, perhaps into a borrow), > 0 a profit paid from the pool.
    pub settled_native: i64,
    /// PnL left unrealized, quote native: `pnl - settled_native` exactly.
    pub remaining_pnl: I80F48,
    /// PnL pool after the settlement, quote native: `pool - settled_native` (never negative).
    pub pool_after_native: u64,
}

/// Split unrealized PnL (quote native) against the market's PnL pool (quote native):
/// a loss moves entirely, its magnitude rounded up to whole units (`settled = floor(pnl)`; the
/// sub-unit overshoot stays as a tiny positive remaining PnL), and the pool grows by it;
/// a profit moves up to what the pool holds, rounded down (`settled = min(floor(pnl), pool)`),
/// the pool shrinks by it, and the rest stays unrealized. `settled + remaining = pnl` exactly.
pub fn split_pnl(pnl: I80F48, pool_native: u64) -> Result<PnlSettlement, MathError> {
    let whole = i64::try_from(pnl.floor_int()).map_err(|_| MathError::Overflow)?;
    let (settled, pool_after) = if whole < 0 {
        (whole, pool_native.checked_add(whole.unsigned_abs()).ovf()?)
    } else {
        let paid = whole.min(i64::try_from(pool_native).unwrap_or(i64::MAX));
        // 0 <= paid <= pool_native
        (paid, pool_native - paid as u64)
    };
    Ok(PnlSettlement {
        settled_native: settled,
        remaining_pnl: pnl.checked_sub(I80F48::from_i64(settled)).ovf()?,
        pool_after_native: pool_after,
    })
}

/// Everything the health of one perp position needs.
#[derive(Clone, Copy, Debug)]
pub struct PerpHealthInputs<'a> {
    /// The position.
    pub position: Position,
    /// Base lots on the account's resting bids (>= 0).
    pub bids_base_lots: i64,
    /// Base lots on the account's resting asks (>= 0).
    pub asks_base_lots: i64,
    /// The market's funding index now (pending funding is counted as if settled).
    pub funding_index: I80F48,
    /// Price per lot for PnL and notional (> 0), quote native per lot: the oracle price; the
    /// program decides whether a stable price bounds it.
    pub price: I80F48,
    /// The market's leverage tiers.
    pub tiers: &'a LeverageTiers,
    /// The market's PnL pool, quote native: what settlement could pay out now.
    pub pnl_pool_native: u64,
    /// Haircut on unrealized profit the pool cannot pay, parts per million (<= 1_000_000).
    pub unpaid_pnl_haircut_ppm: u32,
}

/// The health contribution of one perp position, with its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerpHealth {
    /// Unrealized PnL with pending funding settled, quote native.
    pub pnl: I80F48,
    /// PnL as health counts it: a loss in full; a profit up to the pool in full and the part
    /// beyond it times `1 - haircut` (rounded down).
    pub pnl_for_health: I80F48,
    /// Base the position would have if the orders of its worse side filled, lots.
    pub worst_base_lots: i64,
    /// `|worst_base_lots| * price`, quote native.
    pub notional: I80F48,
    /// Leverage tier chosen by `notional`.
    pub tier_index: usize,
    /// Contribution to initial health: `pnl_for_health - margin_required(notional, Init)`.
    pub init: I80F48,
    /// Contribution to maintenance health: `pnl_for_health - margin_required(notional, Maint)`.
    pub maint: I80F48,
}

impl PerpHealth {
    /// As a [`PerpTerm`] for [`crate::health::HealthTerms`].
    pub fn term(&self, market_index: u16) -> PerpTerm {
        PerpTerm {
            market_index,
            init: self.init,
            maint: self.maint,
            pnl: self.pnl,
        }
    }
}

/// Base after the worse side of the open orders fills: of `base + bids` and `base - asks`, the
/// one of larger magnitude (the bid side on a tie). Its magnitude is never below `|base|`.
pub fn worst_base_lots(
    base_lots: i64,
    bids_base_lots: i64,
    asks_base_lots: i64,
) -> Result<i64, MathError> {
    if bids_base_lots < 0 || asks_base_lots < 0 {
        return Err(MathError::InvalidAmount);
    }
    let if_bids = base_lots.checked_add(bids_base_lots).ovf()?;
    let if_asks = base_lots.checked_sub(asks_base_lots).ovf()?;
    Ok(if if_bids.unsigned_abs() >= if_asks.unsigned_abs() {
        if_bids
    } else {
        if_asks
    })
}

/// Health contribution of a perp position (see [`PerpHealth`]):
///
/// 1. `funding = funding_owed(base, snapshot, index)` (rounded against the trader) and
///    `pnl = base * price - (quote_native + funding)`.
/// 2. `pnl_for_health = pnl` if `pnl <= 0`; else with `paid = min(pnl, pool)`:
///    `paid + floor((pnl - paid) * (1e6 - haircut_ppm) / 1e6)`.
/// 3. `worst = worst_base_lots(base, bids, asks)`; open orders are assumed to fill at `price`,
///    so they change the notional, not the PnL. (A resting bid above `price` or ask below it
///    would fill at a loss not counted here: the position keeps only lots, not the orders'
///    quote, so the program should bound order prices to a band around the oracle.)
/// 4. `notional = |worst| * price`; tier by notional; `required_t = ceil(notional * ratio_t)`.
/// 5. `init = pnl_for_health - required_init`, `maint = pnl_for_health - required_maint`.
///
/// The pool is the market's whole pool for every account (each account's health counts what
/// settlement could pay it now, first come first served).
pub fn perp_health(i: &PerpHealthInputs<'_>) -> Result<PerpHealth, MathError> {
    if !i.price.is_positive() {
        return Err(MathError::InvalidPrice);
    }
    if i.unpaid_pnl_haircut_ppm > PPM {
        return Err(MathError::InvalidParams);
    }
    let p = &i.position;
    let funding = funding_owed(p.base_lots, p.funding_snapshot, i.funding_index)?;
    let pnl = i
        .price
        .checked_mul_int(p.base_lots)
        .ovf()?
        .checked_sub(p.quote_native)
        .ovf()?
        .checked_sub(I80F48::from_i64(funding))
        .ovf()?;
    let pnl_for_health = if pnl.is_positive() {
        let paid = pnl.min(I80F48::from_u64(i.pnl_pool_native));
        let unpaid = pnl.checked_sub(paid).ovf()?;
        let kept = unpaid
            .checked_mul_int((PPM - i.unpaid_pnl_haircut_ppm) as i64)
            .ovf()?
            .div_round(I80F48::from_u64(PPM as u64), Round::Floor)
            .ovf()?;
        paid.checked_add(kept).ovf()?
    } else {
        pnl
    };
    let worst = worst_base_lots(p.base_lots, i.bids_base_lots, i.asks_base_lots)?;
    let notional = i.price.checked_mul_int(worst).ovf()?.checked_abs().ovf()?;
    // The tier is looked up once for both requirements (`margin_required` would look it up
    // for each; same tier, same numbers).
    let tier_index = i.tiers.tier_index(notional);
    // (tier_index < the table's length, so `get` always finds it)
    let tier = i.tiers.tiers().get(tier_index).copied().unwrap_or_default();
    let init = pnl_for_health
        .checked_sub(margin_at(notional, tier.margin_ppm(HealthType::Init))?)
        .ovf()?;
    let maint = pnl_for_health
        .checked_sub(margin_at(notional, tier.margin_ppm(HealthType::Maint))?)
        .ovf()?;
    Ok(PerpHealth {
        pnl,
        pnl_for_health,
        worst_base_lots: worst,
        notional,
        tier_index,
        init,
        maint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tiers::tests::example as tiers;
    use proptest::prelude::*;

    fn f(v: i64) -> I80F48 {
        I80F48::from_i64(v)
    }

    fn fill(side: Side, lots: i64, price: i64, fee_ppm: i32) -> Fill {
        Fill {
            side,
            base_lots: lots,
            price: f(price),
            fee_ppm,
        }
    }

    #[test]
    fn fills_fees_and_pnl() {
        // taker buys 10 lots at 1_000 (notional 10_000) paying 5 bps: fee 5
        let mut t = Position::default();
        let o = t.apply_fill(&fill(Side::Bid, 10, 1_000, 500)).unwrap();
        assert_eq!(o.notional, f(10_000));
        assert_eq!(o.fee_native, 5);
        assert_eq!((o.base_lots_after, o.quote_native_after), (10, f(10_005)));
        // maker sells them with a 1 bp rebate: rebate 1
        let mut m = Position::default();
        let o = m.apply_fill(&fill(Side::Ask, 10, 1_000, -100)).unwrap();
        assert_eq!(o.fee_native, -1);
        assert_eq!((m.base_lots, m.quote_native), (-10, f(-10_001)));
        // at 1_100: long +995, short -999
        assert_eq!(t.unrealized_pnl(f(1_100)), Ok(f(995)));
        assert_eq!(m.unrealized_pnl(f(1_100)), Ok(f(-999)));
        assert_eq!(t.notional(f(1_100)), Ok(f(11_000)));
        assert_eq!(m.notional(f(1_100)), Ok(f(11_000)));
        // fee rounding: 1 lot at 3 with 1 ppm = 0.000003 -> fee 1, rebate 0
        assert_eq!(fee_native(f(3), 1), Ok(1));
        assert_eq!(fee_native(f(3), -1), Ok(0));
        assert_eq!(fee_native(f(3), 0), Ok(0));
        assert_eq!(fee_native(f(3), 1_000_001), Err(MathError::InvalidParams));
        // close the long at 1_100 with the same fee: realized 1_100*10 - 10_005 - 6 = 989
        let o = t.apply_fill(&fill(Side::Ask, 10, 1_100, 500)).unwrap();
        assert_eq!(o.fee_native, 6); // 5.5 rounded up
        assert_eq!(t.base_lots, 0);
        assert_eq!(t.unrealized_pnl(f(1)), Ok(f(989)));
        assert_eq!(t.break_even_price(), Ok(None));
        // errors leave the position as it was
        let before = m;
        assert_eq!(
            m.apply_fill(&fill(Side::Bid, 0, 1, 0)),
            Err(MathError::InvalidAmount)
        );
        assert_eq!(
            m.apply_fill(&fill(Side::Bid, 1, 0, 0)),
            Err(MathError::InvalidPrice)
        );
        assert_eq!(m, before);
        // break-even of the short: -10_001 / -10 = 1_000.1
        let be = m.break_even_price().unwrap().unwrap();
        assert_eq!(be.floor_int(), 1_000);
        assert!(be > f(1_000));
    }

    #[test]
    fn funding_into_cost_basis() {
        let mut long = Position {
            base_lots: 3,
            ..Default::default()
        };
        let mut short = Position {
            base_lots: -3,
            ..Default::default()
        };
        let idx = I80F48::from_ratio(1, 2, Round::Floor).unwrap();
        // long owes 1.5 -> pays 2; short is owed 1.5 -> receives 1
        assert_eq!(long.settle_funding(idx), Ok(2));
        assert_eq!(short.settle_funding(idx), Ok(-1));
        assert_eq!(long.quote_native, f(2));
        assert_eq!(short.quote_native, f(-1));
        assert_eq!((long.funding_snapshot, short.funding_snapshot), (idx, idx));
        assert_eq!(long.settle_funding(idx), Ok(0));
    }

    #[test]
    fn pnl_split() {
        // loss of 10.25: 11 moves (rounded up), pool grows by 11, +0.75 remains
        let pnl = I80F48::from_ratio(-41, 4, Round::Floor).unwrap();
        let s = split_pnl(pnl, 5).unwrap();
        assert_eq!(s.settled_native, -11);
        assert_eq!(s.pool_after_native, 16);
        assert_eq!(
            s.remaining_pnl,
            I80F48::from_ratio(3, 4, Round::Floor).unwrap()
        );
        // profit 10.5 against a pool of 4: 4 paid, 6.5 remains
        let pnl = I80F48::from_ratio(21, 2, Round::Floor).unwrap();
        let s = split_pnl(pnl, 4).unwrap();
        assert_eq!((s.settled_native, s.pool_after_native), (4, 0));
        // against a deep pool: 10 paid, 0.5 remains
        let s = split_pnl(pnl, 100).unwrap();
        assert_eq!((s.settled_native, s.pool_after_native), (10, 90));
        // through a position: cost basis absorbs the settled amount
        let mut p = Position {
            base_lots: 2,
            quote_native: f(100),
            ..Default::default()
        };
        let s = p.settle_pnl(f(40), 0).unwrap();
        assert_eq!(s.settled_native, -20);
        assert_eq!(p.quote_native, f(80));
        assert_eq!(p.unrealized_pnl(f(40)), Ok(I80F48::ZERO));
        assert_eq!(p.break_even_price(), Ok(Some(f(40))));
    }

    #[test]
    fn expiry_close_and_settle() {
        // long 4 at 100 (cost 400 + fee 1), short 4 (received 400, rebate 0); settle at 110.5
        let mut l = Position::default();
        let mut sh = Position::default();
        l.apply_fill(&fill(Side::Bid, 4, 100, 2_500)).unwrap();
        sh.apply_fill(&fill(Side::Ask, 4, 100, 0)).unwrap();
        let px = I80F48::from_ratio(221, 2, Round::Floor).unwrap();
        let pl = l.unrealized_pnl(px).unwrap();
        assert_eq!(l.close_at(px), Ok(4));
        assert_eq!(sh.close_at(px), Ok(-4));
        assert_eq!((l.base_lots, sh.base_lots), (0, 0));
        assert_eq!(l.unrealized_pnl(px), Ok(pl));
        assert_eq!(l.unrealized_pnl(f(1)), Ok(f(41)));
        assert_eq!(sh.unrealized_pnl(f(1)), Ok(f(-42)));
        // winner first: the pool is empty, nothing paid; loser then funds it; winner again
        let s = l.settle_pnl(px, 0).unwrap();
        assert_eq!((s.settled_native, s.pool_after_native), (0, 0));
        let s = sh.settle_pnl(px, 0).unwrap();
        assert_eq!((s.settled_native, s.pool_after_native), (-42, 42));
        let s = l.settle_pnl(px, 42).unwrap();
        // the pool keeps the fee
        assert_eq!((s.settled_native, s.pool_after_native), (41, 1));
        assert_eq!(l.close_at(I80F48::ZERO), Err(MathError::InvalidPrice));
    }

    #[test]
    fn reduce_only_and_entry() {
        assert_eq!(reduce_only_max_lots(10, 0, 3, Side::Ask), Ok(7));
        assert_eq!(reduce_only_max_lots(10, 0, 13, Side::Ask), Ok(0));
        assert_eq!(reduce_only_max_lots(10, 0, 0, Side::Bid), Ok(0));
        assert_eq!(reduce_only_max_lots(-10, 4, 0, Side::Bid), Ok(6));
        assert_eq!(reduce_only_max_lots(0, 0, 0, Side::Bid), Ok(0));
        // buy 10 at 100, buy 10 at 200 -> 150; sell 5 -> 150; sell 20 -> flips at 120
        let e = next_average_entry(0, I80F48::ZERO, Side::Bid, 10, f(100)).unwrap();
        assert_eq!(e, Some(f(100)));
        let e = next_average_entry(10, f(100), Side::Bid, 10, f(200)).unwrap();
        assert_eq!(e, Some(f(150)));
        let e = next_average_entry(20, f(150), Side::Ask, 5, f(300)).unwrap();
        assert_eq!(e, Some(f(150)));
        let e = next_average_entry(15, f(150), Side::Ask, 20, f(120)).unwrap();
        assert_eq!(e, Some(f(120)));
        assert_eq!(
            next_average_entry(15, f(150), Side::Ask, 15, f(1)).unwrap(),
            None
        );
    }

    fn inputs(t: &LeverageTiers) -> PerpHealthInputs<'_> {
        PerpHealthInputs {
            position: Position::default(),
            bids_base_lots: 0,
            asks_base_lots: 0,
            funding_index: I80F48::ZERO,
            price: f(100),
            tiers: t,
            pnl_pool_native: 0,
            unpaid_pnl_haircut_ppm: 200_000,
        }
    }

    #[test]
    fn health_examples() {
        let t = tiers();
        let mut i = inputs(&t);
        // long 1_000 lots bought at 90, price 100: pnl +10_000, notional 100_000
        i.position = Position {
            base_lots: 1_000,
            quote_native: f(90_000),
            funding_snapshot: I80F48::ZERO,
        };
        let h = perp_health(&i).unwrap();
        assert_eq!(h.pnl, f(10_000));
        // empty pool: 80% of the profit
        assert_eq!(h.pnl_for_health, f(8_000));
        // 1% init of 100_000 = 1_000; 0.5% maint = 500
        assert_eq!((h.init, h.maint), (f(7_000), f(7_500)));
        // pool of 6_000: 6_000 + 0.8 * 4_000 = 9_200
        i.pnl_pool_native = 6_000;
        assert_eq!(perp_health(&i).unwrap().pnl_for_health, f(9_200));
        // open asks of 3_000: worst base -2_000 (notional 200_000); bids of 500 -> 1_500 is less
        i.asks_base_lots = 3_000;
        i.bids_base_lots = 500;
        let h = perp_health(&i).unwrap();
        assert_eq!(h.worst_base_lots, -2_000);
        assert_eq!(h.init, f(9_200 - 2_000));
        // pending funding: index +1 per lot -> long owes 1_000
        i.funding_index = f(1);
        assert_eq!(perp_health(&i).unwrap().pnl, f(9_000));
        // a loss counts in full
        i.position.quote_native = f(150_000);
        let h = perp_health(&i).unwrap();
        assert_eq!(h.pnl_for_health, f(-51_000));
        assert_eq!(h.term(3).market_index, 3);
        assert_eq!(h.term(3).init, h.init);
        i.price = I80F48::ZERO;
        assert_eq!(perp_health(&i), Err(MathError::InvalidPrice));
    }

    #[test]
    fn fee_rates_and_open_interest() {
        assert!(validate_fee_rates(-100, 500).is_ok());
        assert!(validate_fee_rates(0, 0).is_ok());
        assert!(validate_fee_rates(-600, 500).is_err());
        assert!(validate_fee_rates(100, -1).is_err());
        assert!(validate_fee_rates(0, 1_000_001).is_err());
        assert_eq!(abs_base_change(10, Side::Bid, 5), Ok(5));
        assert_eq!(abs_base_change(10, Side::Ask, 5), Ok(-5));
        assert_eq!(abs_base_change(10, Side::Ask, 25), Ok(5));
        assert_eq!(abs_base_change(-3, Side::Bid, 3), Ok(-3));
        assert_eq!(
            abs_base_change(0, Side::Bid, 0),
            Err(MathError::InvalidAmount)
        );
        assert_eq!(max_open_interest_increase(0, Side::Bid, 7), Ok(7));
        assert_eq!(max_open_interest_increase(10, Side::Ask, 7), Ok(0));
        assert_eq!(max_open_interest_increase(10, Side::Ask, 25), Ok(15));
    }

    fn exact_fee_bits(notional_int: i128, ppm: i32) -> i128 {
        // notional * ppm / 1e6, exact rational; returned as numerator over 1e6
        notional_int * ppm as i128
    }

    proptest! {
        /// Fees round up, rebates down, by less than one unit; a maker and a taker applying the
        /// same trade keep base zero-sum and quote zero-sum up to the fees.
        #[test]
        fn fills_never_favour_trader(lots in 1i64..1_000_000, price in 1i64..10_000_000, taker_ppm in 0i32..10_000, maker_ppm in -5_000i32..5_000, buy in any::<bool>()) {
            let (ts, ms) = if buy { (Side::Bid, Side::Ask) } else { (Side::Ask, Side::Bid) };
            let mut t = Position::default();
            let mut m = Position::default();
            let ot = t.apply_fill(&fill(ts, lots, price, taker_ppm)).unwrap();
            let om = m.apply_fill(&fill(ms, lots, price, maker_ppm)).unwrap();
            let n = lots as i128 * price as i128;
            for (o, ppm) in [(ot, taker_ppm), (om, maker_ppm)] {
                let exact_e6 = exact_fee_bits(n, ppm);
                let fee_e6 = o.fee_native as i128 * 1_000_000;
                prop_assert!(fee_e6 >= exact_e6, "fee {} below exact {}/1e6", o.fee_native, exact_e6);
                prop_assert!(fee_e6 - exact_e6 < 1_000_000);
            }
            prop_assert_eq!(t.base_lots + m.base_lots, 0);
            let fees = I80F48::from_i64(ot.fee_native + om.fee_native);
            prop_assert_eq!(t.quote_native.checked_add(m.quote_native).unwrap(), fees);
            // PnL sums to minus the fees at any price
            let p = f(price / 2 + 1);
            let sum = t.unrealized_pnl(p).unwrap().checked_add(m.unrealized_pnl(p).unwrap()).unwrap();
            prop_assert_eq!(sum, I80F48::from_bits(-fees.to_bits()));
        }

        /// Net fee of a trade is never negative under valid fee rates.
        #[test]
        fn net_fee_non_negative(lots in 1i64..1_000_000, price in 1i64..10_000_000, taker in 0i32..10_000, rebate_share in 0i32..=100, maker_fee in 0i32..10_000, rebate in any::<bool>()) {
            let maker = if rebate { -(taker * rebate_share / 100) } else { maker_fee };
            prop_assert!(validate_fee_rates(maker, taker).is_ok());
            let n = f(price).checked_mul_int(lots).unwrap();
            prop_assert!(fee_native(n, taker).unwrap() + fee_native(n, maker).unwrap() >= 0);
        }

        /// Open interest (sum of longs) moves by half the two sides' |base| changes, and a
        /// fill never adds more than `max_open_interest_increase` of the taker.
        #[test]
        fn open_interest_bound(t in -1_000i64..1_000, m in -1_000i64..1_000, lots in 1i64..2_000, buy in any::<bool>()) {
            let (ts, ms) = if buy { (Side::Bid, Side::Ask) } else { (Side::Ask, Side::Bid) };
            let ct = abs_base_change(t, ts, lots).unwrap();
            let cm = abs_base_change(m, ms, lots).unwrap();
            prop_assert_eq!((ct + cm) % 2, 0);
            let oi = |a: i64, b: i64| a.max(0) + b.max(0) + (-(a + b)).max(0);
            let dt = if buy { lots } else { -lots };
            // a third party holds -(t + m) so that the market sums to zero
            let change = oi(t + dt, m - dt) - oi(t, m);
            prop_assert_eq!(change, (ct + cm) / 2);
            prop_assert!(change <= max_open_interest_increase(t, ts, lots).unwrap());
        }

        /// A market as a whole: accounts trade with fees, funding moves and is settled on every
        /// touch, PnL is settled against the pool at moving prices. After every step the base
        /// sums to zero, the pool is never negative, settlement balances plus the pool sum to
        /// zero, and unrealized PnL plus settled PnL of all accounts sums to minus (net fees +
        /// net funding settled so far): once everything is settled, the pool holds exactly the
        /// fees and the funding dust, and that dust is non-negative.
        #[test]
        fn market_zero_sum(steps in proptest::collection::vec((0u8..3, 0usize..6, 0usize..6, 1i64..1_000, 1i64..100_000, -(1i128 << 50)..(1i128 << 50)), 1..80)) {
            const N: usize = 6;
            let mut pos = [Position::default(); N];
            let mut balance = [0i128; N];
            let mut pool: u64 = 0;
            let mut index = I80F48::ZERO;
            let mut net_fees: i128 = 0;
            let mut funding_net: i128 = 0;
            let mut settlements: i128 = 0;
            let mut price = f(50_000);
            for (kind, a, b, lots, px, d) in steps {
                match kind {
                    0 if a != b => {
                        for k in [a, b] {
                            funding_net += pos[k].settle_funding(index).unwrap() as i128;
                            settlements += 1;
                        }
                        let p = f(px);
                        let ot = pos[a].apply_fill(&fill(Side::Bid, lots, px, 500)).unwrap();
                        let om = pos[b].apply_fill(&fill(Side::Ask, lots, px, -100)).unwrap();
                        prop_assert_eq!(ot.notional, om.notional);
                        net_fees += (ot.fee_native + om.fee_native) as i128;
                        price = p;
                    }
                    1 => index = I80F48::from_bits(index.to_bits() + d),
                    _ => {
                        funding_net += pos[a].settle_funding(index).unwrap() as i128;
                        settlements += 1;
                        let s = pos[a].settle_pnl(price, pool).unwrap();
                        balance[a] += s.settled_native as i128;
                        pool = s.pool_after_native;
                    }
                }
                prop_assert_eq!(pos.iter().map(|p| p.base_lots).sum::<i64>(), 0);
                prop_assert_eq!(balance.iter().sum::<i128>() + pool as i128, 0);
                let pnl = pos.iter().fold(I80F48::ZERO, |s, p| s.checked_add(p.unrealized_pnl(price).unwrap()).unwrap());
                // what left the positions as settlement is exactly what their PnL lost
                let settled = balance.iter().sum::<i128>() as i64;
                prop_assert_eq!(pnl.checked_add(I80F48::from_i64(settled)).unwrap(), I80F48::from_i64(-((net_fees + funding_net) as i64)));
                prop_assert!(net_fees >= 0);
            }
            // once every position has settled funding to the same index, what was paid net is
            // the protocol's dust: non-negative, under one unit per settlement
            for p in pos.iter_mut() {
                funding_net += p.settle_funding(index).unwrap() as i128;
                settlements += 1;
            }
            prop_assert!(funding_net >= 0, "funding dust {}", funding_net);
            prop_assert!(funding_net <= settlements, "dust {} over {} settlements", funding_net, settlements);
        }

        /// Settlement conserves PnL and never drives the pool negative.
        #[test]
        fn settlement_conservation(pnl_bits in -(1i128 << 100)..(1i128 << 100), pool in 0u64..(1u64 << 52)) {
            let pnl = I80F48::from_bits(pnl_bits);
            let s = split_pnl(pnl, pool).unwrap();
            prop_assert_eq!(I80F48::from_i64(s.settled_native).checked_add(s.remaining_pnl).unwrap(), pnl);
            prop_assert_eq!(s.pool_after_native as i128, pool as i128 - s.settled_native as i128);
            if pnl.is_negative() {
                // whole loss moved, rounded against the trader
                prop_assert!(I80F48::from_i64(s.settled_native) <= pnl);
                prop_assert!(!s.remaining_pnl.is_negative() && s.remaining_pnl < I80F48::ONE);
            } else {
                prop_assert!(s.settled_native >= 0);
                prop_assert!(I80F48::from_i64(s.settled_native) <= pnl);
                prop_assert!(s.settled_native as u64 <= pool);
                // either the pool is drained or less than a unit stays
                prop_assert!(s.pool_after_native == 0 || s.remaining_pnl < I80F48::ONE);
            }
        }

        /// Open orders never lower the requirement; init <= maint; the haircut never adds.
        #[test]
        fn open_orders_margin(base in -1_000_000i64..1_000_000, quote in -1_000_000_000i64..1_000_000_000, bids in 0i64..1_000_000, asks in 0i64..1_000_000, price in 1i64..1_000_000, pool in 0u64..1_000_000_000, haircut in 0u32..=1_000_000) {
            let t = tiers();
            let mut i = inputs(&t);
            i.position = Position { base_lots: base, quote_native: f(quote), funding_snapshot: I80F48::ZERO };
            i.price = f(price);
            i.pnl_pool_native = pool;
            i.unpaid_pnl_haircut_ppm = haircut;
            let without = perp_health(&i).unwrap();
            i.bids_base_lots = bids;
            i.asks_base_lots = asks;
            let with = perp_health(&i).unwrap();
            prop_assert!(with.worst_base_lots.unsigned_abs() >= base.unsigned_abs());
            prop_assert!(with.init <= without.init);
            prop_assert!(with.maint <= without.maint);
            prop_assert!(with.init <= with.maint);
            prop_assert!(with.pnl_for_health <= with.pnl);
            if with.pnl.is_positive() {
                // what the pool can pay counts in full; a deeper pool never counts less
                prop_assert!(with.pnl_for_health >= with.pnl.min(I80F48::from_u64(pool)));
                i.pnl_pool_native = pool.saturating_mul(2).saturating_add(1);
                prop_assert!(perp_health(&i).unwrap().pnl_for_health >= with.pnl_for_health);
            } else {
                prop_assert_eq!(with.pnl_for_health, with.pnl);
            }
            prop_assert_eq!(with.pnl, without.pnl);
            // requirement at least the exact notional * first-tier init ratio
            let req = with.pnl_for_health.checked_sub(with.init).unwrap();
            prop_assert!(req.checked_mul_int(100).unwrap() >= with.notional);
        }
    }
}
