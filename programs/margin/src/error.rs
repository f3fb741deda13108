//! Named errors of the margin program.

use anchor_lang::prelude::*;
use carry_math::MathError;

/// Every refusal of the margin program has its own name.
#[error_code]
pub enum CarryError {
    /// The signer is not the exchange admin.
    #[msg("signer is not the exchange admin")]
    NotAdmin,
    /// The signer is not the margin account's owner.
    #[msg("signer is not the account owner")]
    NotOwner,
    /// The signer is neither owner nor delegate.
    #[msg("signer is neither the account owner nor its delegate")]
    NotOwnerOrDelegate,
    /// A delegate tried to withdraw.
    #[msg("a delegate may trade but never withdraw")]
    DelegateCannotWithdraw,
    /// The exchange is paused.
    #[msg("exchange is paused")]
    ExchangePaused,
    /// Amount is zero.
    #[msg("amount must be positive")]
    ZeroAmount,
    /// A computation overflowed.
    #[msg("math overflow")]
    MathOverflow,
    /// Division by zero.
    #[msg("division by zero")]
    DivisionByZero,
    /// A parameter is out of range.
    #[msg("invalid parameter")]
    InvalidParameter,
    /// The exchange already has the maximum number of banks.
    #[msg("too many banks")]
    TooManyBanks,
    /// Bank does not belong to this exchange or is not the expected bank.
    #[msg("wrong bank")]
    BankMismatch,
    /// Token account is not the bank's vault.
    #[msg("wrong vault")]
    VaultMismatch,
    /// Mint or token account mint does not match the bank's mint.
    #[msg("wrong mint")]
    MintMismatch,
    /// Margin account does not belong to this exchange.
    #[msg("wrong exchange")]
    ExchangeMismatch,
    /// Insurance vault is not the exchange's.
    #[msg("wrong insurance vault")]
    InsuranceVaultMismatch,
    /// Oracle account is not the bank's oracle.
    #[msg("wrong oracle account")]
    OracleMismatch,
    /// Oracle account cannot be read as a Pyth price account.
    #[msg("oracle account is not a valid Pyth price account")]
    OracleInvalid,
    /// Oracle price is older than the bank's maximum age.
    #[msg("oracle price is stale")]
    OracleStale,
    /// Oracle confidence is wider than the bank's maximum.
    #[msg("oracle confidence too wide")]
    OracleConfidence,
    /// Oracle price is zero or negative.
    #[msg("oracle price not positive")]
    OracleNonPositive,
    /// Oracle exponent cannot be represented.
    #[msg("oracle exponent out of range")]
    OracleExponent,
    /// Withdrawal exceeds the balance and borrowing was not asked for.
    #[msg("insufficient balance")]
    InsufficientBalance,
    /// The vault does not hold enough lendable cash.
    #[msg("insufficient cash in vault")]
    InsufficientVaultCash,
    /// Deposit would exceed the bank's deposit limit.
    #[msg("deposit limit exceeded")]
    DepositLimitExceeded,
    /// Borrow would exceed the bank's net-borrow limit.
    #[msg("net borrow limit exceeded")]
    NetBorrowLimitExceeded,
    /// Initial health would be negative.
    #[msg("initial health would be negative")]
    HealthBelowZero,
    /// All token slots of the account are in use.
    #[msg("no free token slot")]
    NoFreeTokenSlot,
    /// Health accounts (bank, oracle pairs) do not match the account's balances.
    #[msg("health accounts do not match the account's balances")]
    HealthAccountsMismatch,
    /// Account still holds balances.
    #[msg("account is not empty")]
    AccountNotEmpty,
    /// Token is opted out of lending: it cannot be borrowed through this account.
    #[msg("token lending is disabled for this account: cannot borrow it")]
    LendingDisabled,
    /// Cannot opt out of lending while borrowing the token.
    #[msg("cannot opt out of lending while borrowing the token")]
    BorrowOutstanding,
    /// A health term list is full.
    #[msg("too many health terms")]
    HealthCapacity,
    /// The bank is not in the settlement token.
    #[msg("bank is not the settlement token bank")]
    NotSettlementBank,
    /// The oracle account is not owned by the oracle program its format requires.
    #[msg("oracle account is not owned by the Pyth program of its format")]
    OracleWrongOwner,
    /// A `PriceUpdateV2` carries another feed than the bank's.
    #[msg("oracle price update is for another feed")]
    OracleFeedMismatch,
    /// A `PriceUpdateV2` was only partially verified.
    #[msg("oracle price update is not fully verified")]
    OracleNotFullyVerified,
    /// A delegate may deposit only into a token the account already holds.
    #[msg("a delegate cannot deposit a token the account does not hold yet")]
    DelegateCannotOpenSlot,
    /// The signer is not the proposed admin.
    #[msg("signer is not the proposed admin")]
    NotPendingAdmin,
    /// A price is zero or negative, or impact bid and ask are crossed.
    #[msg("invalid price")]
    InvalidPrice,
    /// An amount is out of range.
    #[msg("amount out of range")]
    InvalidAmount,
    /// No oracle samples were recorded for a dated future's settlement.
    #[msg("no settlement samples recorded")]
    NoSettlementSamples,
    /// The perp book account did not sign `create_perp_market` (an allocated account is taken
    /// over only by whoever holds its key).
    #[msg("perp book account must sign")]
    PerpBookNotSigner,
    /// The perp book account is not owned by the margin program.
    #[msg("perp book account is not owned by the margin program")]
    PerpBookWrongOwner,
    /// The perp book account's size is not header + book for the given capacities.
    #[msg("perp book account has the wrong size")]
    PerpBookWrongSize,
    /// The perp book account's header bytes are not zero (already used).
    #[msg("perp book account is not zeroed")]
    PerpBookNotZeroed,
    /// A perp market with this index exists already.
    #[msg("perp market index is taken")]
    PerpMarketIndexTaken,
    /// Perp market indices are given out in order: the index must be the exchange's count.
    #[msg("perp market index is not the next one")]
    PerpMarketIndexNotNext,
    /// The exchange holds the most perp markets it can count.
    #[msg("too many perp markets")]
    TooManyPerpMarkets,
    /// Perp market does not belong to this exchange or is not the expected market.
    #[msg("wrong perp market")]
    PerpMarketMismatch,
    /// Fee rates fail `carry_math::perp::validate_fee_rates`.
    #[msg("invalid maker/taker fee rates")]
    InvalidFeeRates,
    /// Leverage tiers fail validation (count, order, ratios, unused tiers not zero).
    #[msg("invalid leverage tiers")]
    InvalidLeverageTiers,
    /// Funding period, maximum rate or impact notional out of range.
    #[msg("invalid funding parameters")]
    InvalidFundingParams,
    /// Oracle maximum age or confidence out of range.
    #[msg("invalid oracle limits")]
    InvalidOracleLimits,
    /// Stable price speed limits out of range.
    #[msg("invalid stable price limits")]
    InvalidStableLimits,
    /// Unpaid profit haircut above 100%.
    #[msg("invalid unpaid pnl haircut")]
    InvalidHaircut,
    /// Expiry in the past, or negative.
    #[msg("invalid expiry")]
    InvalidExpiry,
    /// Settlement window inconsistent with the expiry.
    #[msg("invalid settlement window")]
    InvalidSettlementWindow,
    /// Market mode is not one of the known modes.
    #[msg("invalid market mode")]
    InvalidMarketMode,
    /// Base lot size or tick size out of range.
    #[msg("invalid base lot size or tick size")]
    InvalidLotOrTickSize,
    /// Order or event capacity of the book out of range.
    #[msg("invalid book capacity")]
    InvalidBookCapacity,
    /// Base decimals out of range.
    #[msg("invalid base decimals")]
    InvalidBaseDecimals,
    /// A market's expiry cannot be changed (a perp cannot become dated, nor the reverse).
    #[msg("expiry cannot be changed")]
    ExpiryImmutable,
    /// The book engine refused the book account's bytes (layout or magic).
    #[msg("perp book account is not a valid book")]
    PerpBookInvalid,
    /// The margin account has no free perp slot for a new market.
    #[msg("no free perp position slot")]
    NoFreePerpSlot,
    /// The market is in reduce-only mode and the order could add to the position.
    #[msg("perp market is reduce-only")]
    PerpMarketReduceOnly,
    /// A dated future at or past its expiry takes no orders.
    #[msg("perp market expired")]
    PerpMarketExpired,
    /// A reduce-only order larger than the position left after the orders resting on its side.
    #[msg("reduce-only order would increase the position")]
    ReduceOnlyWouldIncrease,
    /// The order could push the market's open interest past its limit.
    #[msg("open interest limit exceeded")]
    OpenInterestLimitExceeded,
    /// An order argument is out of range (side, kind, self-trade mode, zero size, price).
    #[msg("invalid order parameters")]
    InvalidOrderParams,
    /// A post-only order would have taken liquidity.
    #[msg("post-only order would cross the book")]
    PostOnlyWouldCross,
    /// A fill-or-kill order could not be filled entirely.
    #[msg("fill-or-kill order not filled")]
    FillOrKillNotFilled,
    /// The order would match the account's own resting order (self-trade mode abort).
    #[msg("order would trade with the account's own order")]
    SelfTrade,
    /// The order's side is full and the order is not better than the side's worst.
    #[msg("book side full")]
    BookSideFull,
    /// The book's fill queue is full: crank `consume_perp_events` first.
    #[msg("perp event queue full")]
    EventQueueFull,
    /// The order's expiry is already past (or both a time and a slot expiry were given).
    #[msg("order expiry invalid or already past")]
    OrderExpired,
    /// The account already has a resting order with this client order id.
    #[msg("duplicate client order id")]
    DuplicateClientOrderId,
    /// No resting order of this account has that id.
    #[msg("order not found")]
    OrderNotFound,
    /// The order filled less than its minimum.
    #[msg("slippage limit exceeded")]
    SlippageExceeded,
    /// A maker account passed to the event crank is not a margin account of this exchange.
    #[msg("wrong maker account")]
    MakerAccountMismatch,
    /// The account has no position in this perp market.
    #[msg("no perp position in this market")]
    NoPerpPosition,
    /// Dated futures pay no funding.
    #[msg("dated futures pay no funding")]
    DatedMarketNoFunding,
    /// The instruction is for dated futures only.
    #[msg("not a dated future")]
    NotDatedMarket,
    /// The settlement window has not ended yet.
    #[msg("settlement window still open")]
    SettlementWindowOpen,
    /// The book still holds fills to apply: run `consume_perp_events` first.
    #[msg("perp fill events pending")]
    PerpEventsPending,
    /// Liquidation parameters out of range (fee share of maintenance >= 100%, insurance share
    /// or buffer > 100%).
    #[msg("invalid liquidation parameters")]
    InvalidLiquidationParams,
    /// The account's maintenance health is not below zero: it cannot be liquidated.
    #[msg("account is not liquidatable (maintenance health >= 0)")]
    NotLiquidatable,
    /// The liquidator would end with initial health below zero.
    #[msg("liquidator would end with initial health below zero")]
    LiquidatorUnhealthy,
    /// The liquidatee still has resting orders (or queued maker fills) in this market: run
    /// `liquidate_perp_orders` (and `consume_perp_events`) first.
    #[msg("liquidatee has resting orders in this market: cancel them first")]
    LiquidateeHasOpenOrders,
    /// Liquidator and liquidatee are the same account.
    #[msg("an account cannot liquidate itself")]
    SelfLiquidation,
    /// The liquidatee has no position in this market to take over.
    #[msg("liquidatee has no position in this market")]
    NothingToLiquidate,
    /// The liquidatee has no borrow of the liability token.
    #[msg("liquidatee has no borrow of this token")]
    NoLiabilityToLiquidate,
    /// The liquidatee has no deposit of the asset token.
    #[msg("liquidatee has no deposit of this token")]
    NoAssetToLiquidate,
    /// Asset and liability bank are the same.
    #[msg("asset and liability bank must differ")]
    SameBank,
    /// The account still holds assets, perp positions or orders: liquidate them first.
    #[msg("account is not bankrupt (assets or positions left)")]
    NotBankrupt,
    /// An auto-deleveraging candidate is not a profitable position of the market on the side
    /// opposite the bankrupt position, its account's equity is not positive, or it is the
    /// bankrupt account itself.
    #[msg("invalid auto-deleveraging candidate")]
    AdlCandidateInvalid,
    /// Auto-deleveraging candidates are not in non-increasing rank order.
    #[msg("auto-deleveraging candidates out of rank order")]
    AdlRankOrder,
    /// A limit or pegged order (or a post-only order adding risk) would buy above or sell
    /// below the market's band around the oracle (`order_band_bps`).
    #[msg("order price beyond the market's band around the oracle")]
    OrderPriceOutOfBand,
    /// The market's oracle is further from its stable price than the market's
    /// `oracle_stable_guard_bps`: liquidation and auto-deleveraging wait for the stable price.
    #[msg("oracle too far from the stable price for this market's guard")]
    OracleStableDivergence,
    /// Auto-deleveraging needs an account whose equity is negative.
    #[msg("account equity is not negative")]
    EquityNotNegative,
    /// The insurance fund covers the account's deficit: liquidate it and resolve the
    /// bankruptcy instead of auto-deleveraging.
    #[msg("the insurance fund covers the deficit")]
    InsuranceCoversDeficit,
    /// No candidate could give up a lot (none passed, or each one's profit is below one
    /// lot's premium).
    #[msg("nothing to auto-deleverage")]
    NothingToDeleverage,
    /// The account already rests `carry_book::MAX_OPEN_ORDERS` orders on this market.
    #[msg("too many open orders on this market")]
    TooManyOpenOrders,
}

/// A `carry_book` engine error as a named program error.
pub fn book_err(e: carry_book::BookError) -> Error {
    use carry_book::BookError as B;
    match e {
        B::InvalidCapacity => error!(CarryError::InvalidBookCapacity),
        B::InvalidLayout => error!(CarryError::PerpBookWrongSize),
        B::ZeroQuantity
        | B::InvalidPrice
        | B::InvalidFillLimit
        | B::InvalidQuoteBudget
        | B::MissingOraclePrice => error!(CarryError::InvalidOrderParams),
        B::Overflow => error!(CarryError::MathOverflow),
        B::PostOnlyWouldCross => error!(CarryError::PostOnlyWouldCross),
        B::FillOrKillNotFilled => error!(CarryError::FillOrKillNotFilled),
        B::SelfTrade => error!(CarryError::SelfTrade),
        B::SideFull => error!(CarryError::BookSideFull),
        B::EventQueueFull => error!(CarryError::EventQueueFull),
        B::AlreadyExpired | B::InvalidExpiry => error!(CarryError::OrderExpired),
        B::DuplicateClientOrderId => error!(CarryError::DuplicateClientOrderId),
        B::OrderNotFound => error!(CarryError::OrderNotFound),
        B::SlippageExceeded => error!(CarryError::SlippageExceeded),
        B::TooManyOpenOrders => error!(CarryError::TooManyOpenOrders),
        B::NotInitialized | B::NotEnoughEvents | B::Corrupt => {
            error!(CarryError::PerpBookInvalid)
        }
    }
}

impl From<MathError> for CarryError {
    fn from(e: MathError) -> Self {
        match e {
            MathError::Overflow => CarryError::MathOverflow,
            MathError::DivisionByZero => CarryError::DivisionByZero,
            MathError::InsufficientBalance => CarryError::InsufficientBalance,
            MathError::OracleNonPositive => CarryError::OracleNonPositive,
            MathError::OracleStale => CarryError::OracleStale,
            MathError::OracleConfidence => CarryError::OracleConfidence,
            MathError::OracleExponent => CarryError::OracleExponent,
            MathError::CapacityExceeded => CarryError::HealthCapacity,
            MathError::InvalidPrice => CarryError::InvalidPrice,
            MathError::InvalidAmount => CarryError::InvalidAmount,
            MathError::InvalidParams => CarryError::InvalidParameter,
            MathError::NoSamples => CarryError::NoSettlementSamples,
        }
    }
}

/// `Result<T, MathError>` -> anchor `Result<T>` with the named error.
pub trait MathResultExt<T> {
    /// Map the math error to its named program error.
    fn named(self) -> Result<T>;
}
impl<T> MathResultExt<T> for core::result::Result<T, MathError> {
    fn named(self) -> Result<T> {
        self.map_err(|e| error!(CarryError::from(e)))
    }
}
/// `Option<T>` (checked math) -> `Result<T>` with `MathOverflow`.
pub trait OptionExt<T> {
    /// `None` becomes `MathOverflow`.
    fn ovf(self) -> Result<T>;
}
impl<T> OptionExt<T> for Option<T> {
    fn ovf(self) -> Result<T> {
        self.ok_or_else(|| error!(CarryError::MathOverflow))
    }
}
