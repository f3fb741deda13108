//! The exchange config account.

use anchor_lang::prelude::*;

/// PDA seed prefix: `[EXCHANGE_SEED, creator, exchange_num (u32 LE)]`.
pub const EXCHANGE_SEED: &[u8] = b"exchange";
/// PDA seed prefix of the insurance vault: `[INSURANCE_SEED, exchange]`.
pub const INSURANCE_SEED: &[u8] = b"insurance";
/// Liquidation buffer of a new exchange: a quarter of the way from maintenance to initial
/// health.
pub const DEFAULT_LIQUIDATION_BUFFER_PPM: u32 = 250_000;
/// Maximum banks per exchange (token indices 0..MAX_BANKS).
pub const MAX_BANKS: u16 = 32;

/// Exchange configuration. Also the authority of every bank vault and of the insurance vault
/// (it signs token transfers with its PDA seeds).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Exchange {
    /// Key that may run admin-only instructions (register banks, pause, propose an admin).
    pub admin: Pubkey,
    /// Key that created the exchange (part of the PDA seeds).
    pub creator: Pubkey,
    /// Settlement token mint (USDC-like); health is in its native units.
    pub settlement_mint: Pubkey,
    /// Insurance fund token account (PDA, settlement mint, authority = this exchange).
    pub insurance_vault: Pubkey,
    /// Number in the PDA seeds so one creator can run several exchanges.
    pub exchange_num: u32,
    /// Banks registered so far; the next bank gets token index `bank_count`.
    pub bank_count: u16,
    /// 1 = paused: deposits, withdrawals, account creation/closing and settings are refused.
    pub paused: u8,
    /// PDA bump of this account.
    pub bump: u8,
    /// PDA bump of the insurance vault.
    pub insurance_vault_bump: u8,
    /// Decimals of the settlement mint (quote decimals of all prices).
    pub settlement_decimals: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 6],
    /// Admin proposed by `propose_admin`, who becomes admin by signing `accept_admin`;
    /// default key = none.
    pub pending_admin: Pubkey,
    /// Perp markets created so far; the next one must take market index `perp_market_count`
    /// (was reserved bytes: zero in exchanges created before perps, which is right).
    pub perp_market_count: u16,
    /// Explicit padding, zero.
    pub padding2: [u8; 6],
    /// Liquidation buffer `b`, ppm (<= 1_000_000): a liquidation stops once
    /// `maint * (1 - b) + init * b >= 0` (`carry_math::liquidation`); set at creation to
    /// [`DEFAULT_LIQUIDATION_BUFFER_PPM`], changed by `set_liquidation_buffer`.
    pub liquidation_buffer_ppm: u32,
    /// Explicit padding, zero.
    pub padding3: [u8; 4],
    /// Reserved for future fields, zero.
    pub reserved: [u8; 80],
}

/// Size of `Exchange` without the 8-byte discriminator.
pub const EXCHANGE_SIZE: usize = 272;
const _: () = assert!(core::mem::size_of::<Exchange>() == EXCHANGE_SIZE);
const _: () = assert!(core::mem::align_of::<Exchange>() <= 8);

impl Exchange {
    /// Whether the pause switch is on.
    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }
    /// Signer seeds of the exchange PDA (without the bump).
    pub fn seeds_num(&self) -> [u8; 4] {
        self.exchange_num.to_le_bytes()
    }
}
