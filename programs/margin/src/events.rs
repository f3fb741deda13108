//! Events. Amounts are native token units; fixed-point values are `I80F48` bits
//! (`value = bits / 2^48`).

use anchor_lang::prelude::*;

/// Tokens moved from a wallet into a deposit.
#[event]
pub struct DepositEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Bank.
    pub bank: Pubkey,
    /// Bank token index.
    pub token_index: u16,
    /// Signer (owner or delegate).
    pub signer: Pubkey,
    /// Native amount that became a deposit.
    pub amount: u64,
    /// True when the deposit is outside the lending pool (opted out).
    pub non_lendable: bool,
}

/// Tokens that repaid a borrow.
#[event]
pub struct RepayEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Bank.
    pub bank: Pubkey,
    /// Bank token index.
    pub token_index: u16,
    /// Native amount repaid.
    pub amount: u64,
    /// True when the borrow is fully repaid.
    pub closed: bool,
}

/// Tokens withdrawn out of a deposit.
#[event]
pub struct WithdrawEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Bank.
    pub bank: Pubkey,
    /// Bank token index.
    pub token_index: u16,
    /// Native amount taken out of the deposit.
    pub amount: u64,
    /// True when taken from the non-lendable (opted-out) balance.
    pub non_lendable: bool,
}

/// Tokens borrowed (withdrawn beyond the deposit).
#[event]
pub struct BorrowEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Bank.
    pub bank: Pubkey,
    /// Bank token index.
    pub token_index: u16,
    /// Native amount borrowed.
    pub amount: u64,
    /// Initial health after the borrow, I80F48 bits, quote native.
    pub init_health_bits: i128,
}

/// One interest accrual of a bank.
#[event]
pub struct InterestAccrualEvent {
    /// Bank.
    pub bank: Pubkey,
    /// Bank token index.
    pub token_index: u16,
    /// Seconds accrued.
    pub elapsed_secs: u64,
    /// New deposit index, I80F48 bits.
    pub deposit_index_bits: i128,
    /// New borrow index, I80F48 bits.
    pub borrow_index_bits: i128,
    /// Annual borrow rate used, I80F48 bits.
    pub borrow_rate_bits: i128,
    /// Utilization used, I80F48 bits.
    pub utilization_bits: i128,
    /// Interest added to borrows, native, I80F48 bits.
    pub borrow_interest_bits: i128,
    /// Interest credited to deposits, native, I80F48 bits.
    pub deposit_interest_bits: i128,
    /// Reserve collected, native, I80F48 bits.
    pub reserve_bits: i128,
}

/// A token moved into or out of the lending pool for one account.
#[event]
pub struct TokenLendingEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Bank.
    pub bank: Pubkey,
    /// Bank token index.
    pub token_index: u16,
    /// True: now lent; false: opted out.
    pub lend: bool,
    /// Native amount moved between the pools.
    pub amount: u64,
}

/// Reserve moved from a bank's vault to the insurance fund.
#[event]
pub struct ReserveSweepEvent {
    /// Bank.
    pub bank: Pubkey,
    /// Native amount moved.
    pub amount: u64,
}

/// A perp market created (`created`) or its parameters replaced by `edit_perp_market`.
#[event]
pub struct PerpMarketEvent {
    /// Perp market.
    pub perp_market: Pubkey,
    /// Market index.
    pub market_index: u16,
    /// Its book account.
    pub book: Pubkey,
    /// Its oracle account.
    pub oracle: Pubkey,
    /// True on creation, false on an edit.
    pub created: bool,
    /// Parameters now in force.
    pub params: crate::state::PerpMarketParams,
    /// Stable price, quote native per base lot, I80F48 bits.
    pub stable_price_bits: i128,
}

/// A perp order placed (after its taker fills, if any).
#[event]
pub struct PerpOrderEvent {
    /// Margin account (the book's order owner).
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Signer (owner or delegate).
    pub signer: Pubkey,
    /// Order id (`carry_book::OrderId::to_u128`; a resting id only when `posted_base_lots > 0`).
    pub order_id: u128,
    /// Client order id (0 = none).
    pub client_order_id: u64,
    /// 0 bid, 1 ask.
    pub side: u8,
    /// `carry_book::OrderType` as `u8`.
    pub order_kind: u8,
    /// Reduce-only order.
    pub reduce_only: bool,
    /// Price the remainder rests at, ticks (0 when nothing rests).
    pub posted_price_ticks: u64,
    /// Base lots resting.
    pub posted_base_lots: u64,
    /// Base lots the order took from the book.
    pub filled_base_lots: u64,
    /// Quote native of those fills (`sum(price_ticks * lots) * tick_size`).
    pub filled_quote_native: u64,
    /// Base lots neither filled nor resting (IOC/market remainder, self-trade decrement, ...).
    pub cancelled_base_lots: u64,
    /// Maker fills (events queued for `consume_perp_events`).
    pub fills: u32,
    /// Resting orders the book removed on the way (expired, out of peg, self-trade).
    pub makers_removed: u32,
}

/// One fill applied to one side's position (the taker's in `place_perp_order`, the maker's in
/// `consume_perp_events`).
#[event]
pub struct PerpFillEvent {
    /// Margin account the fill was applied to.
    pub account: Pubkey,
    /// The other side of the trade.
    pub counterparty: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// True for the maker's side.
    pub maker: bool,
    /// This account's side: 0 bought, 1 sold.
    pub side: u8,
    /// Fill price, ticks.
    pub price_ticks: u64,
    /// Base lots.
    pub base_lots: u64,
    /// Fee charged (> 0) or rebate paid (< 0), quote native, in the cost basis.
    pub fee_native: i64,
    /// Base position after the fill, lots.
    pub base_lots_after: i64,
    /// Cost basis after the fill, I80F48 bits.
    pub quote_native_after_bits: i128,
    /// The book's fill event sequence number.
    pub seq: u64,
}

/// Funding settled into a position's cost basis (only when non-zero).
#[event]
pub struct PerpFundingPaidEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Paid (> 0) or received (< 0), quote native.
    pub amount_native: i64,
    /// The market's funding index settled to, I80F48 bits.
    pub funding_index_bits: i128,
}

/// A position paid its share of a socialized loss (`PerpMarket::socialized_loss_index`),
/// added to its cost basis when it settled (only when non-zero).
#[event]
pub struct PerpSocializedLossPaidEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Paid, quote native (`|base_lots| * index growth`, rounded up).
    pub amount_native: i64,
    /// The market's socialized loss index settled to, I80F48 bits.
    pub loss_index_bits: i128,
}

/// A resting perp order left the book without being filled.
#[event]
pub struct PerpOrderOutEvent {
    /// Owner (margin account).
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Order id.
    pub order_id: u128,
    /// Client order id.
    pub client_order_id: u64,
    /// 0 bid, 1 ask.
    pub side: u8,
    /// Base lots that were resting (taken off).
    pub base_lots: u64,
    /// `carry_book::OutReason` as `u8` (0 cancelled, 1 expired, 2 self-trade, 3 peg limit,
    /// 4 evicted); 5 = reduced by self-trade decrement (the order stays with the rest).
    pub reason: u8,
    /// Whether the owner's resting lots were released by the same instruction (its own
    /// orders, cancels); `false` for another account's order removed while matching.
    pub released: bool,
}

/// PnL settled into the settlement-bank balance (`settle_pnl`).
#[event]
pub struct PerpSettlePnlEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Moved into the balance: > 0 profit paid from the pool, < 0 loss into the pool.
    pub settled_native: i64,
    /// Part of a loss that became a new borrow (interest-bearing from now on).
    pub borrowed_native: u64,
    /// PnL left unrealized, I80F48 bits (profit the pool could not pay, sub-unit remainder).
    pub remaining_pnl_bits: i128,
    /// The market's PnL pool after, quote native.
    pub pnl_pool_after_native: u64,
    /// Oracle price per lot used, I80F48 bits.
    pub price_bits: i128,
    /// The position was flat with nothing resting: its slot was freed.
    pub slot_freed: bool,
}

/// One funding crank (`update_funding`). Fixed-point fields are I80F48 bits.
#[event]
pub struct PerpFundingUpdateEvent {
    /// Perp market.
    pub perp_market: Pubkey,
    /// Oracle price per lot.
    pub oracle_price_bits: i128,
    /// Impact bid per lot (0 = none: the side could not fill the impact notional).
    pub impact_bid_bits: i128,
    /// Impact ask per lot (0 = none).
    pub impact_ask_bits: i128,
    /// Premium sampled (fraction).
    pub premium_bits: i128,
    /// Seconds charged by this crank.
    pub secs: u64,
    /// Rate per period used for those seconds.
    pub rate_applied_bits: i128,
    /// Index change, quote native per lot.
    pub index_delta_bits: i128,
    /// Funding index after, quote native per lot (rises when longs pay).
    pub index_bits: i128,
    /// True when this crank closed a window and set a new rate.
    pub new_rate: bool,
    /// Rate per period from now on.
    pub rate_bits: i128,
}

/// A perp market's stored stable price stepped toward its oracle (`update_stable_price`).
#[event]
pub struct PerpStablePriceEvent {
    /// Perp market.
    pub perp_market: Pubkey,
    /// Oracle price per lot.
    pub oracle_price_bits: i128,
    /// Stable price per lot before.
    pub stable_before_bits: i128,
    /// Stable price per lot after.
    pub stable_bits: i128,
    /// Seconds since the stable price was last stored (one step covers at most the market's
    /// `stable_max_step_secs` of them).
    pub secs: u64,
}

/// Accrued perp fees moved from the PnL pool to the insurance vault (`sweep_perp_fees`).
#[event]
pub struct PerpFeeSweepEvent {
    /// Perp market.
    pub perp_market: Pubkey,
    /// Native amount moved.
    pub amount: u64,
}

/// A dated future's settlement sample crank (`sample_settlement_price`).
#[event]
pub struct PerpSettlementSampleEvent {
    /// Perp market.
    pub perp_market: Pubkey,
    /// Oracle price per lot read, I80F48 bits.
    pub price_bits: i128,
    /// Whether it was recorded (inside the window, past the least interval).
    pub recorded: bool,
    /// Samples recorded so far.
    pub sample_count: u32,
}

/// A dated future's position closed at the settlement average (`close_expired_position`).
#[event]
pub struct PerpExpiryCloseEvent {
    /// Margin account.
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Base lots closed (signed: > 0 a long).
    pub base_lots_closed: i64,
    /// Settlement price per lot, I80F48 bits.
    pub price_bits: i128,
    /// Cost basis after (its negation is the PnL left to `settle_pnl`), I80F48 bits.
    pub quote_native_after_bits: i128,
    /// True when this close was the market's last open position: the dated future is closed
    /// (`PerpMarket::is_closed`; no order, funding or sample will ever apply, positions only
    /// settle their PnL).
    pub market_closed: bool,
}

/// A liquidator took over part of a liquidatee's perp position (`liquidate_perp`).
#[event]
pub struct PerpLiquidationEvent {
    /// Liquidated account.
    pub liquidatee: Pubkey,
    /// Liquidator's account.
    pub liquidator: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Lots taken over (the "just enough" amount, clamped by the request).
    pub base_lots: u64,
    /// Lots the liquidator asked for at most.
    pub max_base_lots: u64,
    /// Liquidatee's base before, lots.
    pub base_lots_before: i64,
    /// Transfer price, quote native per lot, I80F48 bits.
    pub price_bits: i128,
    /// Oracle price, quote native per lot, I80F48 bits.
    pub oracle_price_bits: i128,
    /// Liquidator's discount, ppm of the notional.
    pub liquidator_fee_ppm: u32,
    /// Fee charged to the liquidatee for the insurance fund (through the PnL pool and
    /// `sweep_perp_fees`), quote native.
    pub insurance_fee_native: u64,
    /// Liquidatee's maintenance health before, I80F48 bits.
    pub maint_before_bits: i128,
    /// Liquidatee's maintenance health after (before its PnL settlement), I80F48 bits.
    pub maint_after_bits: i128,
    /// Liquidatee's target health x 1e6 after (>= 0 unless the whole position went),
    /// I80F48 bits.
    pub target_after_bits: i128,
}

/// A liquidator repaid part of a liquidatee's borrow for its collateral (`liquidate_token`).
#[event]
pub struct TokenLiquidationEvent {
    /// Liquidated account.
    pub liquidatee: Pubkey,
    /// Liquidator's account.
    pub liquidator: Pubkey,
    /// Bank of the borrow repaid.
    pub liab_bank: Pubkey,
    /// Bank of the collateral taken.
    pub asset_bank: Pubkey,
    /// Borrow repaid, liability native units.
    pub liab_native: u64,
    /// Collateral transferred, asset native units.
    pub asset_native: u64,
    /// Combined liquidation fee, ppm.
    pub fee_ppm: u32,
    /// Liquidatee's maintenance health before, I80F48 bits.
    pub maint_before_bits: i128,
    /// Liquidatee's target health x 1e6 after, I80F48 bits.
    pub target_after_bits: i128,
}

/// A bankrupt account's debt in one bank was resolved (`resolve_bankruptcy`):
/// `deficit_native = insurance_native + market_socialized_native + socialized_native`.
#[event]
pub struct BankruptcyEvent {
    /// Bankrupt account.
    pub account: Pubkey,
    /// Bank of the debt.
    pub bank: Pubkey,
    /// Debt before, native units (rounded up).
    pub deficit_native: u64,
    /// Paid by the insurance fund (settlement token only).
    pub insurance_native: u64,
    /// Socialized across the open positions of `perp_market` through its loss index, paid
    /// out of the market's PnL pool (settlement token only).
    pub market_socialized_native: u64,
    /// Socialized across the bank's depositors through its deposit index.
    pub socialized_native: u64,
    /// The perp market whose positions shared the loss (default key when none was passed).
    pub perp_market: Pubkey,
    /// That market's socialized loss index after, I80F48 bits (0 when none).
    pub loss_index_after_bits: i128,
    /// Insurance vault balance after, native units.
    pub insurance_after_native: u64,
    /// Deposit index after, I80F48 bits.
    pub deposit_index_after_bits: i128,
}

/// A bankruptcy deficit was socialized across the open positions of a perp market
/// (`resolve_bankruptcy`): paid out of its PnL pool, charged to the positions by size through
/// its `socialized_loss_index`.
#[event]
pub struct PerpSocializedLossEvent {
    /// Bankrupt account covered.
    pub bankrupt: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Amount paid out of the PnL pool, quote native.
    pub amount_native: u64,
    /// Open interest it was spread over (each side holds this many lots).
    pub open_interest_lots: u64,
    /// Index rise per lot, quote native, I80F48 bits (rounded up).
    pub loss_per_lot_bits: i128,
    /// The index after, I80F48 bits.
    pub loss_index_after_bits: i128,
}

/// Auto-deleveraging closed part of a bankrupt account's position against one profitable
/// opposite position at the bankruptcy price (`auto_deleverage`).
#[event]
pub struct AutoDeleverageEvent {
    /// Bankrupt account.
    pub bankrupt: Pubkey,
    /// Deleveraged account.
    pub account: Pubkey,
    /// Perp market.
    pub perp_market: Pubkey,
    /// Lots closed on both sides.
    pub base_lots: u64,
    /// The bankruptcy price they closed at, quote native per lot, I80F48 bits.
    pub price_bits: i128,
    /// The oracle price, quote native per lot, I80F48 bits.
    pub oracle_price_bits: i128,
    /// What the deleveraged position gave up against the oracle (`base_lots * |price -
    /// oracle|`), quote native, I80F48 bits: the part of the deficit it absorbed.
    pub absorbed_bits: i128,
    /// The bankrupt account's deficit beyond the insurance fund when the instruction began,
    /// quote native, I80F48 bits.
    pub deficit_bits: i128,
    /// The deleveraged position's unrealized PnL at the oracle before, I80F48 bits.
    pub pnl_before_bits: i128,
    /// Its rank (`carry_math::liquidation::adl_score`: PnL ratio times its account's
    /// leverage; candidates come in non-increasing rank), I80F48 bits.
    pub score_bits: i128,
}

/// Tokens paid into the insurance fund by `deposit_insurance`.
#[event]
pub struct InsuranceDepositEvent {
    /// Who paid.
    pub depositor: Pubkey,
    /// Amount, settlement native units.
    pub amount: u64,
    /// Insurance vault balance after.
    pub balance_after: u64,
}
