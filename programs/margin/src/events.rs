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
