/// Every way an engine call can fail. The book is unchanged when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BookError {
    /// The buffer is too small, misaligned, or its capacities do not match its length.
    InvalidLayout = 1,
    /// The buffer does not hold an initialized book (wrong magic).
    NotInitialized,
    /// Capacity is zero, odd, or above [`crate::MAX_ORDER_CAPACITY`].
    InvalidCapacity,
    /// Quantity is zero.
    ZeroQuantity,
    /// Price is zero (prices are at least one tick).
    InvalidPrice,
    /// `max_fills` is zero or above [`crate::MAX_FILLS_PER_PLACE`].
    InvalidFillLimit,
    /// A price or quote amount does not fit in 64 bits.
    Overflow,
    /// A post-only order would have taken liquidity.
    PostOnlyWouldCross,
    /// A fill-or-kill order could not be filled entirely within the fill limit.
    FillOrKillNotFilled,
    /// The order would have matched its owner's resting order and asked to abort.
    SelfTrade,
    /// The side holds as many orders as its capacity and the order is not better than the
    /// side's worst, which it would otherwise evict.
    SideFull,
    /// The fill event queue is full: consume events before taking more liquidity.
    EventQueueFull,
    /// The order's expiry is not after the current time.
    AlreadyExpired,
    /// An oracle-pegged order was placed, or a pegged price needed, without an oracle price.
    MissingOraclePrice,
    /// The owner already has a resting order with this client order id.
    DuplicateClientOrderId,
    /// No resting order of this owner has that id.
    OrderNotFound,
    /// Fewer events are queued than asked to consume.
    NotEnoughEvents,
    /// Internal links point outside the buffer: the data was not written by this engine.
    Corrupt,
    /// The order filled less than its `min_base_fill` or `min_quote_fill`.
    SlippageExceeded,
    /// A quote budget was given to an order kind other than immediate-or-cancel, fill-or-kill
    /// or market.
    InvalidQuoteBudget,
    /// Both a unix-time and a slot expiry were given, or one is 2^63 or above.
    InvalidExpiry,
    /// The owner already rests [`crate::MAX_OPEN_ORDERS`] orders in this book (its
    /// [`crate::OpenOrders`] list is full).
    TooManyOpenOrders,
}
