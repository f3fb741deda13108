//! Named errors of the order book program. Engine errors map one to one.

use anchor_lang::prelude::*;
use carry_book::BookError;

#[error_code]
pub enum OrderbookError {
    #[msg("signer is not the market's authority")]
    WrongAuthority,
    #[msg("price is not a positive multiple of the market's tick size")]
    InvalidTick,
    #[msg("quantity is not a positive multiple of the market's base lot size")]
    InvalidLot,
    #[msg("tick size and base lot size must be positive")]
    InvalidMarketParams,
    #[msg("order or event capacity out of range")]
    InvalidCapacity,
    #[msg("market account size does not match its capacities")]
    InvalidAccountSize,
    #[msg("limit must be positive (cancel-all: at most MAX_CANCEL_ALL_PER_CALL)")]
    InvalidLimit,
    #[msg("order quantity is zero")]
    ZeroQuantity,
    #[msg("price must be at least one tick")]
    InvalidPrice,
    #[msg("max fills must be between 1 and the engine's limit")]
    InvalidFillLimit,
    #[msg("the market account must sign its creation")]
    MarketNotSigner,
    #[msg("a price or amount overflows 64 bits")]
    Overflow,
    #[msg("post-only order would cross the book")]
    PostOnlyWouldCross,
    #[msg("fill-or-kill order could not be filled entirely")]
    FillOrKillNotFilled,
    #[msg("order would trade with its owner's resting order")]
    SelfTrade,
    #[msg("the order's side of the book is full")]
    SideFull,
    #[msg("the fill event queue is full: consume events first")]
    EventQueueFull,
    #[msg("the order's expiry is not in the future")]
    AlreadyExpired,
    #[msg("an oracle-pegged order needs an oracle price")]
    MissingOraclePrice,
    #[msg("the owner already has a resting order with this client order id")]
    DuplicateClientOrderId,
    #[msg("no resting order of this owner has that id")]
    OrderNotFound,
    #[msg("fewer events are queued than asked to consume")]
    NotEnoughEvents,
    #[msg("book data is not initialized")]
    BookNotInitialized,
    #[msg("book data does not match its layout")]
    InvalidBookLayout,
    #[msg("book data is corrupt")]
    BookCorrupt,
    #[msg("the order filled less than its minimum base or quote fill")]
    SlippageExceeded,
    #[msg("a quote budget is only for immediate-or-cancel, fill-or-kill and market orders")]
    InvalidQuoteBudget,
    #[msg("an order may expire by unix time or by slot, not both, and before 2^63")]
    InvalidExpiry,
    #[msg("the owner already rests as many orders as its open-orders account holds")]
    TooManyOpenOrders,
    #[msg("the open-orders account is not this owner's on this market")]
    WrongOpenOrders,
    #[msg("the open-orders account still lists resting orders: cancel them first")]
    OpenOrdersNotEmpty,
}

impl From<BookError> for OrderbookError {
    fn from(e: BookError) -> Self {
        match e {
            BookError::InvalidLayout => OrderbookError::InvalidBookLayout,
            BookError::NotInitialized => OrderbookError::BookNotInitialized,
            BookError::InvalidCapacity => OrderbookError::InvalidCapacity,
            BookError::ZeroQuantity => OrderbookError::ZeroQuantity,
            BookError::InvalidPrice => OrderbookError::InvalidPrice,
            BookError::InvalidFillLimit => OrderbookError::InvalidFillLimit,
            BookError::Overflow => OrderbookError::Overflow,
            BookError::PostOnlyWouldCross => OrderbookError::PostOnlyWouldCross,
            BookError::FillOrKillNotFilled => OrderbookError::FillOrKillNotFilled,
            BookError::SelfTrade => OrderbookError::SelfTrade,
            BookError::SideFull => OrderbookError::SideFull,
            BookError::EventQueueFull => OrderbookError::EventQueueFull,
            BookError::AlreadyExpired => OrderbookError::AlreadyExpired,
            BookError::MissingOraclePrice => OrderbookError::MissingOraclePrice,
            BookError::DuplicateClientOrderId => OrderbookError::DuplicateClientOrderId,
            BookError::OrderNotFound => OrderbookError::OrderNotFound,
            BookError::NotEnoughEvents => OrderbookError::NotEnoughEvents,
            BookError::Corrupt => OrderbookError::BookCorrupt,
            BookError::SlippageExceeded => OrderbookError::SlippageExceeded,
            BookError::InvalidQuoteBudget => OrderbookError::InvalidQuoteBudget,
            BookError::InvalidExpiry => OrderbookError::InvalidExpiry,
            BookError::TooManyOpenOrders => OrderbookError::TooManyOpenOrders,
        }
    }
}

/// Converts an engine error into the program's named error.
pub fn book_err(e: BookError) -> Error {
    error!(OrderbookError::from(e))
}
