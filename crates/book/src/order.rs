//! The engine's public value types: sides, order kinds, ids, inputs and outcomes.

/// OrderSide of an order. `Bid` buys base, `Ask` sells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrderSide {
    Bid = 0,
    Ask = 1,
}

impl OrderSide {
    /// The side an order of this side matches against.
    #[inline(always)]
    pub fn opposite(self) -> OrderSide {
        match self {
            OrderSide::Bid => OrderSide::Ask,
            OrderSide::Ask => OrderSide::Bid,
        }
    }
    /// Decodes 0 = bid, 1 = ask.
    pub fn from_u8(v: u8) -> Option<OrderSide> {
        match v {
            0 => Some(OrderSide::Bid),
            1 => Some(OrderSide::Ask),
            _ => None,
        }
    }
}

/// How an order meets the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OrderType {
    /// Takes what crosses `price`, rests the rest at `price`.
    Limit = 0,
    /// Rests at `price`; refused with `PostOnlyWouldCross` if it would take.
    PostOnly = 1,
    /// Rests; if `price` would cross, it is moved to one tick behind the best opposite price.
    PostOnlySlide = 2,
    /// Takes what crosses `price`; the rest is cancelled.
    ImmediateOrCancel = 3,
    /// Takes its whole quantity at `price` or better, or is refused with `FillOrKillNotFilled`.
    FillOrKill = 4,
    /// Takes what it can down to the worst price `price`; the rest is cancelled.
    Market = 5,
    /// Priced at oracle price + `peg_offset`; takes what crosses, rests the rest in the pegged
    /// tree. `price` is the peg limit (0 = none): a bid never trades above it, an ask never
    /// below it; a resting pegged order that matching meets beyond its limit is removed
    /// (`OutReason::PegLimit`). A resting pegged order's price is clamped one tick behind the
    /// opposite side's best fixed-price order, so an oracle move never crosses the book.
    OraclePegged = 6,
}

impl OrderType {
    /// Decodes the `repr(u8)` value.
    pub fn from_u8(v: u8) -> Option<OrderType> {
        Some(match v {
            0 => OrderType::Limit,
            1 => OrderType::PostOnly,
            2 => OrderType::PostOnlySlide,
            3 => OrderType::ImmediateOrCancel,
            4 => OrderType::FillOrKill,
            5 => OrderType::Market,
            6 => OrderType::OraclePegged,
            _ => return None,
        })
    }
    /// Whether the unfilled remainder may rest on the book.
    #[inline(always)]
    pub fn may_rest(self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::PostOnly
                | OrderType::PostOnlySlide
                | OrderType::OraclePegged
        )
    }
}

/// What happens when an order would match a resting order of the same owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SelfTradeMode {
    /// Both orders are reduced by the overlapping quantity; nothing trades.
    DecrementTake = 0,
    /// The resting order is cancelled and matching continues.
    CancelResting = 1,
    /// The whole place is refused with `SelfTrade`.
    Abort = 2,
}

impl SelfTradeMode {
    /// Decodes the `repr(u8)` value.
    pub fn from_u8(v: u8) -> Option<SelfTradeMode> {
        Some(match v {
            0 => SelfTradeMode::DecrementTake,
            1 => SelfTradeMode::CancelResting,
            2 => SelfTradeMode::Abort,
            _ => return None,
        })
    }
}

/// Bit of `OrderId::lo` set for bids.
pub(crate) const BID_TAG: u64 = 1 << 63;
/// Bit of `OrderId::lo` set for oracle-pegged orders.
pub(crate) const PEGGED_TAG: u64 = 1 << 62;
/// Bits of `OrderId::lo` holding the sequence number.
pub(crate) const SEQ_MASK: u64 = PEGGED_TAG - 1;

/// An order's id: its 128-bit key in its side's tree, split in two words.
///
/// `hi` orders by price (asks: the price in ticks; bids: `!price`, so better bids sort first;
/// pegged orders: the offset biased by 2^63, negated for bids). `lo` holds the side tag (bit
/// 63), the pegged tag (bit 62) and the market's sequence number (time priority).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct OrderId {
    pub hi: u64,
    pub lo: u64,
}

impl OrderId {
    pub(crate) fn new(side: OrderSide, pegged: bool, price_or_offset: u64, seq: u64) -> OrderId {
        let mut lo = seq & SEQ_MASK;
        if pegged {
            lo |= PEGGED_TAG;
        }
        let hi = match side {
            OrderSide::Bid => {
                lo |= BID_TAG;
                !price_or_offset
            }
            OrderSide::Ask => price_or_offset,
        };
        OrderId { hi, lo }
    }
    /// The id as one `u128` (`hi << 64 | lo`), the form instructions and events carry.
    pub fn to_u128(self) -> u128 {
        ((self.hi as u128) << 64) | self.lo as u128
    }
    /// Inverse of [`OrderId::to_u128`].
    pub fn from_u128(v: u128) -> OrderId {
        OrderId {
            hi: (v >> 64) as u64,
            lo: v as u64,
        }
    }
    /// The side of the order.
    #[inline(always)]
    pub fn side(self) -> OrderSide {
        if self.lo & BID_TAG != 0 {
            OrderSide::Bid
        } else {
            OrderSide::Ask
        }
    }
    /// Whether the order is oracle-pegged.
    #[inline(always)]
    pub fn is_pegged(self) -> bool {
        self.lo & PEGGED_TAG != 0
    }
    /// The market sequence number the order got when placed.
    pub fn seq(self) -> u64 {
        self.lo & SEQ_MASK
    }
    /// Fixed orders: the price in ticks. Pegged orders: the offset to the oracle, in ticks.
    pub fn price_or_offset(self) -> i128 {
        let raw = match self.side() {
            OrderSide::Bid => !self.hi,
            OrderSide::Ask => self.hi,
        };
        if self.is_pegged() {
            (raw ^ (1 << 63)) as i64 as i128
        } else {
            raw as i128
        }
    }
}

/// Order-preserving map of a signed offset onto `u64`.
#[inline(always)]
pub(crate) fn bias_offset(offset: i64) -> u64 {
    (offset as u64) ^ (1 << 63)
}

/// Inverse of [`bias_offset`].
#[inline(always)]
pub(crate) fn unbias_offset(v: u64) -> i64 {
    (v ^ (1 << 63)) as i64
}

/// An order to place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// The trader (for perps: the margin account's address).
    pub owner: [u8; 32],
    pub side: OrderSide,
    pub kind: OrderType,
    /// Limit price in ticks; the worst price for `Market`; the peg limit for `OraclePegged`
    /// (0 = none). Must be at least 1 for every other kind.
    pub price: u64,
    /// Oracle-pegged orders only: ticks added to the oracle price.
    pub peg_offset: i64,
    /// Base lots, at least 1.
    pub quantity: u64,
    /// Caller's id for the order, unique among the owner's resting orders; 0 = none.
    pub client_order_id: u64,
    /// Unix seconds from which the order no longer trades: it is expired once
    /// `expires_at <= now`. 0 = never. Below 2^63.
    pub expires_at: u64,
    /// Expiry by slot instead: expired once `expires_at_slot <= slot`. 0 = never; at most one
    /// of the two expiries may be set. Below 2^63.
    pub expires_at_slot: u64,
    /// Most makers this order may fill, 1..=[`crate::MAX_FILLS_PER_PLACE`].
    pub max_fills: u32,
    pub self_trade: SelfTradeMode,
    /// Slippage guard: the place is refused (`SlippageExceeded`, nothing changed) unless it
    /// fills at least this many base lots. 0 = no guard.
    pub min_base_fill: u64,
    /// Slippage guard: refused unless the fills' `price * quantity` sum reaches this many quote
    /// lots. 0 = no guard.
    pub min_quote_fill: u64,
    /// Quote-amount orders (immediate-or-cancel, fill-or-kill and market only): the fills'
    /// `price * quantity` sum never exceeds this many quote lots; `quantity` still caps the
    /// base (a fill-or-kill must fill all of it within the budget). 0 = none.
    pub quote_budget: u64,
}

impl NewOrder {
    /// An order of `kind` with the defaults callers usually want: no peg offset, no client
    /// order id, no expiry, the most fills a place allows, self-trades refused (`Abort`), no
    /// slippage guard and no quote budget.
    pub fn new(
        owner: [u8; 32],
        side: OrderSide,
        kind: OrderType,
        price: u64,
        quantity: u64,
    ) -> NewOrder {
        NewOrder {
            owner,
            side,
            kind,
            price,
            peg_offset: 0,
            quantity,
            client_order_id: 0,
            expires_at: 0,
            expires_at_slot: 0,
            max_fills: crate::MAX_FILLS_PER_PLACE,
            self_trade: SelfTradeMode::Abort,
            min_base_fill: 0,
            min_quote_fill: 0,
            quote_budget: 0,
        }
    }
}

/// What the caller knows about the world when matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MatchContext {
    /// Unix seconds now; orders with `0 < expires_at <= now` are expired.
    pub now: u64,
    /// The slot now; orders with `0 < expires_at_slot <= slot` are expired.
    pub slot: u64,
    /// Oracle price in ticks, needed to place or match oracle-pegged orders.
    pub oracle_price: Option<u64>,
}

/// The result of a place: the taker's fills in one summary, and what rested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PlaceOutcome {
    /// The id the order got (valid as a resting id only when `posted_quantity > 0`).
    pub order_id: OrderId,
    /// Price the remainder rests at, in ticks (after a slide); for pegged orders the oracle
    /// price plus offset at placing.
    pub posted_price: u64,
    /// Base lots resting on the book.
    pub posted_quantity: u64,
    /// Base lots the taker bought or sold.
    pub base_filled: u64,
    /// Sum of `price * quantity` over the fills, in quote lots.
    pub quote_filled: u64,
    /// Number of maker fills (events appended to the queue).
    pub fills: u32,
    /// Base lots neither filled nor resting: IOC/market remainder, self-trade decrement, or a
    /// remainder dropped because the fill limit stopped matching while the book still crossed.
    pub cancelled_quantity: u64,
    /// Resting makers removed on the way: expired, beyond their peg limit, or cancelled by
    /// self-trade prevention.
    pub makers_removed: u32,
    /// The order's own side was full: the side's worst order, evicted to make room.
    pub evicted: Option<OrderId>,
}

/// Why a resting order left the book other than by being filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OutReason {
    /// Cancelled by its owner (through the authority).
    Cancelled = 0,
    /// Met by matching after its expiry.
    Expired = 1,
    /// Cancelled by self-trade prevention (`CancelResting`), or decremented to zero.
    SelfTrade = 2,
    /// An oracle-pegged order met by matching while beyond its peg limit.
    PegLimit = 3,
    /// The worst order of a full side, evicted by a better order that came to rest.
    Evicted = 4,
}

/// A resting order removed by a cancel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelledOrder {
    pub order_id: OrderId,
    pub client_order_id: u64,
    /// Base lots that were still resting.
    pub quantity: u64,
}

/// What one cancel-all call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelAllOutcome {
    /// Orders cancelled by this call.
    pub cancelled: u32,
    /// The owner has no resting order left that the call was asked to cancel. `false` when
    /// the limit or the visit bound stopped it first: call again.
    pub complete: bool,
}

/// What a reduce did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReduceOutcome {
    pub order_id: OrderId,
    pub client_order_id: u64,
    /// Base lots taken off.
    pub reduced: u64,
    /// Base lots still resting (0: the order was cancelled).
    pub remaining: u64,
}
