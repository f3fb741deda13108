//! A bank: the lending vault of one collateral token.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};
use carry_math::bank_math::Pool;
use carry_math::health::Weights;
use carry_math::interest::{self, Accrual, InterestCurve};
use carry_math::oracle::{OracleLimits, StableLimits};
use carry_math::{Round, I80F48};

use super::{FixedBytes, TokenPosition};
use crate::error::{CarryError, MathResultExt, OptionExt};

/// PDA seed prefix: `[BANK_SEED, exchange, mint]` (one bank per mint and exchange).
pub const BANK_SEED: &[u8] = b"bank";
/// PDA seed prefix of the vault token account: `[VAULT_SEED, bank]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// One part per million.
pub const PPM: u32 = 1_000_000;

/// Format of an oracle account.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum OracleKind {
    /// Pyth's legacy v2 price account (push oracle), read with `pyth-sdk-solana`; owned by
    /// the Pyth oracle program.
    PythV2 = 0,
    /// Pyth's pull oracle: a `PriceUpdateV2` account owned by the Pyth receiver program,
    /// fully verified, for the configured feed id.
    PythPull = 1,
}

impl OracleKind {
    /// Decode the stored byte.
    pub fn from_u8(v: u8) -> Result<Self> {
        match v {
            0 => Ok(OracleKind::PythV2),
            1 => Ok(OracleKind::PythPull),
            _ => err!(crate::error::CarryError::OracleInvalid),
        }
    }
}

/// Which oracle a bank (or perp market) reads: the argument of `register_bank`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleConfig {
    /// Account format.
    pub kind: OracleKind,
    /// Pyth feed id (32 bytes) for `PythPull`; must be zero for `PythV2`.
    pub feed_id: [u8; 32],
}

/// Risk and interest parameters of a bank. Fractions are parts per million
/// (1_000_000 = 1.0); rates are annual.
///
/// Both the argument of `register_bank` / `edit_bank` (borsh) and the `params` field of the
/// zero-copy [`Bank`] (Pod). The fields keep their logical order; ten `u32`s put the two `u64`
/// limits at offset 40, and six `u32`-sized fields follow them, so `#[repr(C)]` leaves no gap.
/// Borsh writes fields in order without gaps, so the instruction argument is byte for byte the
/// in-account layout: 80 bytes.
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
    /// Most seconds one stable-price update counts, however long the bank was idle
    /// (1..=[`MAX_STABLE_STEP_SECS`]): one touch at a manipulated moment moves the stable price
    /// by at most `stable_max_move_ppm_per_hour * stable_max_step_secs / 3600`.
    pub stable_max_step_secs: u32,
    /// Liquidation fee of this token, ppm (< 1_000_000): when a liquidator repays a borrow of
    /// one token and takes collateral in another, it receives the collateral at a discount of
    /// the two banks' fees added (`carry_math::liquidation::asset_for_liab`).
    pub liquidation_fee_ppm: u32,
    /// Explicit padding, zero.
    pub padding: [u8; 4],
}

/// Largest `stable_max_step_secs` a bank or market may set: 15 minutes.
pub const MAX_STABLE_STEP_SECS: u32 = 900;

/// Size of `BankParams` (in the bank account and as borsh instruction argument).
pub const BANK_PARAMS_SIZE: usize = 80;
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
            && (1..=MAX_STABLE_STEP_SECS).contains(&self.stable_max_step_secs)
            && self.liquidation_fee_ppm < PPM
            && self.padding == [0; 4]
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
    /// Stable price speed limits.
    pub fn stable_limits(&self) -> StableLimits {
        StableLimits {
            max_move_ppm_per_hour: self.stable_max_move_ppm_per_hour as u64,
            max_step_secs: self.stable_max_step_secs as u64,
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
    /// Oracle account: a Pyth v2 price account or a Pyth receiver `PriceUpdateV2` account
    /// (see `oracle_kind`). Checked by key, owner program and content (`oracle.rs`).
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
    /// Oracle format: [`OracleKind`] as `u8` (0 = Pyth v2 price account, 1 = Pyth pull
    /// `PriceUpdateV2`).
    pub oracle_kind: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 2],
    /// Pyth feed id a `PriceUpdateV2` oracle must carry (zero for Pyth v2 accounts).
    pub oracle_feed_id: [u8; 32],
    /// Reserved for future fields, zero.
    pub reserved: [u8; 216],
}

/// Size of `Bank` without the 8-byte discriminator.
pub const BANK_SIZE: usize = 608;
const _: () = assert!(core::mem::size_of::<Bank>() == BANK_SIZE);
const _: () = assert!(core::mem::align_of::<Bank>() == 8);

impl Bank {
    /// Add `amount` to a slot: into the pool (repaying a borrow first) or, opted out, to the
    /// non-lendable balance.
    pub fn credit(&mut self, tok: &mut TokenPosition, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        if tok.lending_disabled != 0 {
            tok.non_lendable = tok.non_lendable.checked_add(amount).ovf()?;
            self.non_lendable_deposits = self.non_lendable_deposits.checked_add(amount).ovf()?;
            return Ok(());
        }
        let mut pool = self.pool();
        let mut shares = tok.indexed_position.get();
        pool.deposit(&mut shares, amount).named()?;
        tok.indexed_position.set(shares);
        self.set_pool(&pool);
        Ok(())
    }

    /// Take `amount` from a slot: out of the pool (beyond the deposit as a borrow when
    /// `allow_borrow`) or, opted out, from the non-lendable balance (`InsufficientBalance` past
    /// it).
    pub fn debit(
        &mut self,
        tok: &mut TokenPosition,
        amount: u64,
        allow_borrow: bool,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        if tok.lending_disabled != 0 {
            require!(
                amount <= tok.non_lendable,
                if allow_borrow {
                    CarryError::LendingDisabled
                } else {
                    CarryError::InsufficientBalance
                }
            );
            tok.non_lendable -= amount;
            self.non_lendable_deposits = self.non_lendable_deposits.checked_sub(amount).ovf()?;
            return Ok(());
        }
        let mut pool = self.pool();
        let mut shares = tok.indexed_position.get();
        pool.withdraw(&mut shares, amount, allow_borrow).named()?;
        tok.indexed_position.set(shares);
        self.set_pool(&pool);
        Ok(())
    }

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
    /// Cash that may be lent or withdrawn from the lending pool: the pool's own cash
    /// (`floor(deposits) - ceil(borrows)`, see `Pool::cash`), and never more than the vault
    /// holds beside the opted-out deposits. Tokens sent to the vault directly, the reserve and
    /// rounding dust are not in it: only depositors' tokens are lent.
    pub fn lendable_cash(&self, vault_amount: u64) -> Result<u64> {
        let pool_cash = self.pool().cash().named()?;
        Ok(pool_cash.min(vault_amount.saturating_sub(self.non_lendable_deposits)))
    }
    /// Vault tokens nobody's balance claims: `vault - non_lendable - pool cash`, i.e. the
    /// collected reserve, rounding dust and surplus (tokens sent to the vault directly).
    /// The reserve sweep may take from it; nothing can lend it.
    pub fn free_cash(&self, vault_amount: u64) -> Result<u64> {
        let pool_cash = self.pool().cash().named()?;
        Ok(vault_amount
            .saturating_sub(self.non_lendable_deposits)
            .saturating_sub(pool_cash))
    }
    /// Surplus: vault tokens beyond every claim (deposits - borrows + non-lendable + reserve +
    /// dust), in whole native units, rounded down. Donations land here; never lent.
    pub fn surplus(&self, vault_amount: u64) -> Result<u64> {
        let claims = self
            .pool()
            .deposits_native()
            .named()?
            .checked_sub(self.pool().borrows_native().named()?)
            .ovf()?
            .checked_add(I80F48::from_u64(self.non_lendable_deposits))
            .ovf()?
            .checked_add(self.collected_reserve.get())
            .ovf()?
            .checked_add(self.dust.get())
            .ovf()?;
        let s = I80F48::from_u64(vault_amount).checked_sub(claims).ovf()?;
        Ok(s.to_u64(Round::Floor).unwrap_or(0))
    }
    /// The oracle format of this bank.
    pub fn oracle_kind(&self) -> Result<OracleKind> {
        OracleKind::from_u8(self.oracle_kind)
    }
    /// The oracle this bank reads.
    pub fn oracle_source(&self) -> Result<crate::oracle::OracleSource> {
        Ok(crate::oracle::OracleSource {
            key: self.oracle,
            kind: self.oracle_kind()?,
            feed_id: self.oracle_feed_id,
        })
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
    /// Accrue for instructions that must run even when accrual cannot (non-lendable balances,
    /// which no index touches, and the admin's `edit_bank`): a failure is logged and nothing is
    /// accrued, so one failing accrual never locks balances outside the pool.
    pub fn accrue_best_effort(&mut self, now: i64) -> Option<(Accrual, u64)> {
        match self.accrue(now) {
            Ok(r) => Some(r),
            Err(e) => {
                msg!("interest not accrued: {}", e);
                None
            }
        }
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
