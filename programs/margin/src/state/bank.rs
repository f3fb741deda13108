//! A bank: the lending vault of one collateral token.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};
use carry_math::bank_math::Pool;
use carry_math::health::Weights;
use carry_math::interest::{self, Accrual, InterestCurve};
use carry_math::oracle::OracleLimits;
use carry_math::{Round, I80F48};

use super::FixedBytes;
use crate::error::{MathResultExt, OptionExt};

/// PDA seed prefix: `[BANK_SEED, exchange, mint]` (one bank per mint and exchange).
pub const BANK_SEED: &[u8] = b"bank";
/// PDA seed prefix of the vault token account: `[VAULT_SEED, bank]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// One part per million.
pub const PPM: u32 = 1_000_000;

/// Risk and interest parameters of a bank. Fractions are parts per million
/// (1_000_000 = 1.0); rates are annual.
///
/// Both the argument of `register_bank` / `edit_bank` (borsh) and the `params` field of the
/// zero-copy [`Bank`] (Pod). The fields keep their logical order; ten `u32`s put the two `u64`
/// limits at offset 40, so the only gap `#[repr(C)]` would leave is 4 bytes at the end, made
/// explicit as `padding` (must be zero). Borsh writes fields in order without gaps, so the
/// instruction argument is byte for byte the in-account layout: 72 bytes, padding included.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BankParams {
    /// Initial asset weight, ppm (<= maint asset weight).
    pub init_asset_weight_ppm: u32,
    /// Maintenance asset weight, ppm (<= 1_000_000).
    pub maint_asset_weight_ppm: u32,
    /// Initial liability weight, ppm (>= maint liab weight).
    pub init_liab_weight_ppm: u32,
    /// Maintenance liability weight, ppm (>= 1_000_000).
    pub maint_liab_weight_ppm: u32,
    /// Borrow rate at zero utilization, ppm per year.
    pub base_rate_ppm: u32,
    /// Utilization at the kink, ppm, in (0, 1_000_000].
    pub optimal_util_ppm: u32,
    /// Rate added from zero to optimal utilization, ppm per year.
    pub slope1_ppm: u32,
    /// Rate added from optimal to full utilization, ppm per year.
    pub slope2_ppm: u32,
    /// Cap of the borrow rate, ppm per year.
    pub max_rate_ppm: u32,
    /// Share of borrow interest kept as reserve, ppm (<= 1_000_000).
    pub reserve_factor_ppm: u32,
    /// Cap on total deposits (lendable + non-lendable), native units; `u64::MAX` = none.
    pub deposit_limit: u64,
    /// Cap on total outstanding borrows, native units; `u64::MAX` = none.
    pub net_borrow_limit: u64,
    /// Oldest acceptable oracle price, seconds (> 0).
    pub oracle_max_age_secs: u32,
    /// Widest acceptable oracle confidence, ppm of the price (> 0).
    pub oracle_max_conf_ppm: u32,
    /// Speed limit of the stable price: max move per hour, ppm of its value.
    pub stable_max_move_ppm_per_hour: u32,
    /// Explicit padding to the 8-byte alignment, zero.
    pub padding: u32,
}

/// Size of `BankParams` (in the bank account and as borsh instruction argument).
pub const BANK_PARAMS_SIZE: usize = 72;
const _: () = assert!(core::mem::size_of::<BankParams>() == BANK_PARAMS_SIZE);
const _: () = assert!(core::mem::align_of::<BankParams>() == 8);

impl BankParams {
    /// Validate ranges; the math crate decides what a valid curve and weights are.
    pub fn is_valid(&self) -> bool {
        self.weights().is_valid()
            && self.curve().is_valid()
            && self.optimal_util_ppm <= PPM
            && self.reserve_factor_ppm <= PPM
            && self.oracle_max_age_secs > 0
            && self.oracle_max_conf_ppm > 0
            && self.padding == 0
    }
    /// Weights as fixed point.
    pub fn weights(&self) -> Weights {
        Weights::from_ppm(
            self.init_asset_weight_ppm,
            self.maint_asset_weight_ppm,
            self.init_liab_weight_ppm,
            self.maint_liab_weight_ppm,
        )
    }
    /// Interest curve as fixed point.
    pub fn curve(&self) -> InterestCurve {
        InterestCurve::from_ppm(
            self.base_rate_ppm,
            self.optimal_util_ppm,
            self.slope1_ppm,
            self.slope2_ppm,
            self.max_rate_ppm,
        )
    }
    /// Oracle limits.
    pub fn oracle_limits(&self) -> OracleLimits {
        OracleLimits {
            max_age_secs: self.oracle_max_age_secs as u64,
            max_conf_ppm: self.oracle_max_conf_ppm as u64,
        }
    }
}

/// The lending vault of one token. Invariant (checked by tests, to a few 2^-48 per operation):
/// `vault.amount = indexed_deposits * deposit_index - indexed_borrows * borrow_index
///                 + non_lendable_deposits + collected_reserve + dust`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Bank {
    /// Exchange this bank belongs to.
    pub exchange: Pubkey,
    /// Token mint.
    pub mint: Pubkey,
    /// Vault token account (PDA `[VAULT_SEED, bank]`, authority = exchange PDA).
    pub vault: Pubkey,
    /// Pyth price account. Identity is checked by key only: whoever passes this key gets it
    /// read with pyth-sdk-solana's loader (magic, version, account type).
    pub oracle: Pubkey,
    /// Native value of one deposit share, I80F48, starts at 1, never decreases.
    pub deposit_index: FixedBytes,
    /// Native debt of one borrow share, I80F48, starts at 1, never decreases.
    pub borrow_index: FixedBytes,
    /// Sum of all lendable deposit shares, I80F48.
    pub indexed_deposits: FixedBytes,
    /// Sum of all borrow shares (positive), I80F48.
    pub indexed_borrows: FixedBytes,
    /// Reserve collected from interest and not yet swept, native units, I80F48.
    pub collected_reserve: FixedBytes,
    /// Value kept by protocol-favoured rounding of share conversions, native units, I80F48.
    pub dust: FixedBytes,
    /// Stable price, quote-native per token-native, I80F48 (rate-limited oracle follower).
    pub stable_price: FixedBytes,
    /// Deposits of accounts that opted out of lending, native units: never lent, earn nothing.
    pub non_lendable_deposits: u64,
    /// Unix time (s) of the last interest accrual.
    pub last_accrual_ts: i64,
    /// Unix time (s) of the last stable price update.
    pub stable_price_ts: i64,
    /// Total reserve swept to the insurance fund so far, native units.
    pub reserve_swept: u64,
    /// Risk, interest, limit and oracle parameters (set by `register_bank` / `edit_bank`).
    pub params: BankParams,
    /// Index of this token in the exchange (what margin account slots refer to).
    pub token_index: u16,
    /// Mint decimals.
    pub decimals: u8,
    /// PDA bump of this account.
    pub bump: u8,
    /// PDA bump of the vault.
    pub vault_bump: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 3],
    /// Reserved for future fields, zero.
    pub reserved: [u8; 256],
}

/// Size of `Bank` without the 8-byte discriminator.
pub const BANK_SIZE: usize = 608;
const _: () = assert!(core::mem::size_of::<Bank>() == BANK_SIZE);
const _: () = assert!(core::mem::align_of::<Bank>() == 8);

impl Bank {
    /// The share-math view of this bank.
    pub fn pool(&self) -> Pool {
        Pool {
            deposit_index: self.deposit_index.get(),
            borrow_index: self.borrow_index.get(),
            indexed_deposits: self.indexed_deposits.get(),
            indexed_borrows: self.indexed_borrows.get(),
            dust: self.dust.get(),
        }
    }
    /// Store the share-math view back.
    pub fn set_pool(&mut self, p: &Pool) {
        self.deposit_index.set(p.deposit_index);
        self.borrow_index.set(p.borrow_index);
        self.indexed_deposits.set(p.indexed_deposits);
        self.indexed_borrows.set(p.indexed_borrows);
        self.dust.set(p.dust);
    }
    /// Native value of all deposits (lendable rounded down + non-lendable).
    pub fn total_deposits_native(&self) -> Result<I80F48> {
        let lendable = self.pool().deposits_native().named()?;
        lendable
            .checked_add(I80F48::from_u64(self.non_lendable_deposits))
            .ovf()
    }
    /// Native value of all borrows, rounded up.
    pub fn total_borrows_native(&self) -> Result<I80F48> {
        self.pool().borrows_native().named()
    }
    /// Cash that may be lent or withdrawn from the lending pool:
    /// vault balance minus the opted-out deposits (which are never lent).
    pub fn lendable_cash(&self, vault_amount: u64) -> u64 {
        vault_amount.saturating_sub(self.non_lendable_deposits)
    }
    /// What `dt` seconds of interest do to this bank's indices and reserve (nothing stored).
    fn accrual_over(&self, dt: u64) -> Result<Accrual> {
        let p = &self.params;
        interest::accrue(
            &p.curve(),
            I80F48::from_ppm(p.reserve_factor_ppm as u64),
            self.deposit_index.get(),
            self.borrow_index.get(),
            self.indexed_deposits.get(),
            self.indexed_borrows.get(),
            dt,
        )
        .named()
    }
    /// Accrue interest up to `now` (no-op when no time passed). Returns the accrual and the
    /// seconds covered.
    pub fn accrue(&mut self, now: i64) -> Result<(Accrual, u64)> {
        let dt = now.saturating_sub(self.last_accrual_ts).max(0) as u64;
        let a = self.accrual_over(dt)?;
        if dt > 0 {
            self.deposit_index.set(a.deposit_index);
            self.borrow_index.set(a.borrow_index);
            let r = self.collected_reserve.get().checked_add(a.reserve).ovf()?;
            self.collected_reserve.set(r);
            self.last_accrual_ts = now;
        }
        Ok((a, dt))
    }
    /// Deposit and borrow indices as they would be after accruing up to `now`, without
    /// storing anything (health uses these, so a bank nobody cranked still charges its
    /// borrowers the interest they owe).
    pub fn indices_at(&self, now: i64) -> Result<(I80F48, I80F48)> {
        let dt = now.saturating_sub(self.last_accrual_ts).max(0) as u64;
        if dt == 0 {
            return Ok((self.deposit_index.get(), self.borrow_index.get()));
        }
        let a = self.accrual_over(dt)?;
        Ok((a.deposit_index, a.borrow_index))
    }
    /// Whole native units of reserve that can be swept.
    pub fn sweepable_reserve(&self) -> u64 {
        self.collected_reserve
            .get()
            .to_u64(Round::Floor)
            .unwrap_or(0)
    }
}
