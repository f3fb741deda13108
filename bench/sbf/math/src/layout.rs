//! Byte layouts of the accounts the margin math reads, for code that cannot depend on Anchor
//! or `programs/margin` (the `no_std` SBF harness and its host step generator).
//!
//! The structs mirror `programs/margin/src/state` (`Bank`, `MarginAccount`, `PerpMarket` and
//! their parts) field for field, `#[repr(C)]` and Pod, so the harness reads an account's data
//! exactly as the program does (`bytemuck::from_bytes` after the 8-byte discriminator).
//! `programs/margin/tests/sbf_layout.rs` asserts every offset and size here against the real
//! structs (`core::mem::offset_of!`), and the Pyth v2 offsets against `pyth-sdk-solana`, so
//! this file cannot drift silently. Pubkeys are `[u8; 32]`; I80F48 fields are `[u64; 2]`
//! (low word first, as `carry_math::I80F48Bytes`).

use bytemuck::{Pod, Zeroable};

/// Anchor's account discriminator length; the structs start after it.
pub const DISCRIMINATOR_LEN: usize = 8;

/// Mirror of `BankParams` (72 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct BankParams {
    pub init_asset_weight_ppm: u32,
    pub maint_asset_weight_ppm: u32,
    pub init_liab_weight_ppm: u32,
    pub maint_liab_weight_ppm: u32,
    pub base_rate_ppm: u32,
    pub optimal_util_ppm: u32,
    pub slope1_ppm: u32,
    pub slope2_ppm: u32,
    pub max_rate_ppm: u32,
    pub reserve_factor_ppm: u32,
    pub deposit_limit: u64,
    pub net_borrow_limit: u64,
    pub oracle_max_age_secs: u32,
    pub oracle_max_conf_ppm: u32,
    pub stable_max_move_ppm_per_hour: u32,
    pub stable_max_step_secs: u32,
    pub liquidation_fee_ppm: u32,
    pub padding: [u8; 4],
}

/// Mirror of `Bank` (608 bytes after the discriminator).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct Bank {
    pub exchange: [u8; 32],
    pub mint: [u8; 32],
    pub vault: [u8; 32],
    pub oracle: [u8; 32],
    pub deposit_index: [u64; 2],
    pub borrow_index: [u64; 2],
    pub indexed_deposits: [u64; 2],
    pub indexed_borrows: [u64; 2],
    pub collected_reserve: [u64; 2],
    pub dust: [u64; 2],
    pub stable_price: [u64; 2],
    pub non_lendable_deposits: u64,
    pub last_accrual_ts: i64,
    pub stable_price_ts: i64,
    pub reserve_swept: u64,
    pub params: BankParams,
    pub token_index: u16,
    pub decimals: u8,
    pub bump: u8,
    pub vault_bump: u8,
    pub oracle_kind: u8,
    pub padding: [u8; 2],
    pub oracle_feed_id: [u8; 32],
    pub reserved: [u8; 216],
}
pub const BANK_SIZE: usize = 608;
const _: () = assert!(core::mem::size_of::<Bank>() == BANK_SIZE);

/// Mirror of `TokenPosition` (48 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct TokenPosition {
    pub indexed_position: [u64; 2],
    pub non_lendable: u64,
    pub token_index: u16,
    pub in_use: u8,
    pub lending_disabled: u8,
    pub padding: [u8; 4],
    pub reserved: [u8; 16],
}

/// Mirror of `PerpOpenOrderEntry` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PerpOpenOrderEntry {
    pub order_id_lo: u64,
    pub slot: u32,
    pub client_order_id_lo: u32,
}

/// Mirror of `PerpOpenOrders` (520 bytes; the bytes of `carry_book::OpenOrders`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PerpOpenOrders {
    pub len: u32,
    pub padding: u32,
    pub entries: [PerpOpenOrderEntry; 32],
}

/// Mirror of `PerpPosition` (96 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PerpPosition {
    pub market_index: u16,
    pub in_use: u8,
    pub padding: [u8; 5],
    pub base_lots: i64,
    pub quote_native: [u64; 2],
    pub funding_snapshot: [u64; 2],
    pub bids_base_lots: i64,
    pub asks_base_lots: i64,
    pub loss_snapshot: [u64; 2],
    pub reserved: [u8; 16],
}

/// Token and perp slots of a margin account.
pub const MAX_TOKEN_POSITIONS: usize = 8;
pub const MAX_PERP_POSITIONS: usize = 8;

/// Mirror of `MarginAccount` (5,480 bytes after the discriminator).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct MarginAccount {
    pub exchange: [u8; 32],
    pub owner: [u8; 32],
    pub delegate: [u8; 32],
    pub account_num: u32,
    pub bump: u8,
    pub padding: [u8; 3],
    pub reserved: [u8; 64],
    pub tokens: [TokenPosition; MAX_TOKEN_POSITIONS],
    pub perps: [PerpPosition; MAX_PERP_POSITIONS],
    pub perp_open_orders: [PerpOpenOrders; MAX_PERP_POSITIONS],
}
pub const MARGIN_ACCOUNT_SIZE: usize = 5480;
const _: () = assert!(core::mem::size_of::<MarginAccount>() == MARGIN_ACCOUNT_SIZE);

/// Mirror of `PerpLeverageTier` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PerpLeverageTier {
    pub max_notional_native: u64,
    pub init_margin_ppm: u32,
    pub maint_margin_ppm: u32,
}

/// Leverage tiers a market stores.
pub const MAX_LEVERAGE_TIERS: usize = 4;

/// Mirror of `PerpMarketParams` (152 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct PerpMarketParams {
    pub tiers: [PerpLeverageTier; MAX_LEVERAGE_TIERS],
    pub open_interest_limit_lots: u64,
    pub funding_impact_notional: u64,
    pub expiry_ts: i64,
    pub maker_fee_ppm: i32,
    pub taker_fee_ppm: i32,
    pub oracle_max_age_secs: u32,
    pub oracle_max_conf_ppm: u32,
    pub stable_max_move_ppm_per_hour: u32,
    pub stable_max_step_secs: u32,
    pub unpaid_pnl_haircut_ppm: u32,
    pub funding_period_secs: u32,
    pub funding_max_rate_ppm: u32,
    pub settlement_window_secs: u32,
    pub settlement_min_interval_secs: u32,
    pub liquidation_fee_of_maint_ppm: u32,
    pub liquidation_insurance_share_ppm: u32,
    pub tier_count: u8,
    pub mode: u8,
    pub order_band_bps: u16,
    pub oracle_stable_guard_bps: u16,
    pub padding: [u8; 6],
}

/// Mirror of `PerpMarket` (696 bytes after the discriminator).
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub struct PerpMarket {
    pub exchange: [u8; 32],
    pub book: [u8; 32],
    pub oracle: [u8; 32],
    pub oracle_feed_id: [u8; 32],
    pub stable_price: [u64; 2],
    pub funding_index: [u64; 2],
    pub funding_rate: [u64; 2],
    pub funding_premium_secs: [u64; 2],
    pub settlement_price_sum: [u64; 2],
    pub stable_price_ts: i64,
    pub funding_window_start_ts: i64,
    pub funding_last_update_ts: i64,
    pub funding_premium_weight_secs: u64,
    pub open_interest_lots: u64,
    pub pnl_pool_native: u64,
    pub fees_accrued_native: u64,
    pub settlement_last_sample_ts: i64,
    pub base_lot_size: u64,
    pub tick_size: u64,
    pub params: PerpMarketParams,
    pub settlement_sample_count: u32,
    pub market_index: u16,
    pub base_decimals: u8,
    pub oracle_kind: u8,
    pub bump: u8,
    pub padding: [u8; 7],
    pub settlement_closed_lots: i64,
    pub socialized_loss_index: [u64; 2],
    pub reserved: [u8; 216],
}
pub const PERP_MARKET_SIZE: usize = 696;
const _: () = assert!(core::mem::size_of::<PerpMarket>() == PERP_MARKET_SIZE);

/// Pyth's legacy v2 price account (`pyth_sdk_solana::state::SolanaPriceAccount`, 3,312 bytes
/// with its 32 publisher components), read as `pyth-sdk-solana` reads it: magic, version and
/// account type checked; the aggregate price and confidence with `timestamp` when the aggregate
/// status is Trading, else the previous price, confidence and timestamp.
pub mod pyth_v2 {
    use bytemuck::{Pod, Zeroable};

    /// Size of a price account (32 publisher components).
    pub const SIZE: usize = 3312;
    /// Pyth's magic number (`magic`).
    pub const MAGIC: u32 = 0xa1b2_c3d4;
    /// Version 2 (`ver`).
    pub const VERSION_2: u32 = 2;
    /// `AccountType::Price` (`atype`).
    pub const ATYPE_PRICE: u32 = 3;
    /// `PriceStatus::Trading` (`agg_status`).
    pub const STATUS_TRADING: u8 = 1;

    /// The first 240 bytes of a price account, up to and including the aggregate price
    /// (`agg: PriceInfo` flattened into `agg_*`); the publisher components follow.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
    pub struct PriceAccountHead {
        pub magic: u32,
        pub ver: u32,
        pub atype: u32,
        pub size: u32,
        pub ptype: u8,
        pub ptype_padding: [u8; 3],
        pub expo: i32,
        pub num: u32,
        pub num_qt: u32,
        pub last_slot: u64,
        pub valid_slot: u64,
        /// `Rational { val, numer, denom }`.
        pub ema_price: [i64; 3],
        /// `Rational { val, numer, denom }`.
        pub ema_conf: [i64; 3],
        pub timestamp: i64,
        pub min_pub: u8,
        pub drv2: u8,
        pub drv3: u16,
        pub drv4: u32,
        pub prod: [u8; 32],
        pub next: [u8; 32],
        pub prev_slot: u64,
        pub prev_price: i64,
        pub prev_conf: u64,
        pub prev_timestamp: i64,
        pub agg_price: i64,
        pub agg_conf: u64,
        pub agg_status: u8,
        pub agg_corp_act: u8,
        pub agg_padding: [u8; 6],
        pub agg_pub_slot: u64,
    }
    pub const HEAD_SIZE: usize = 240;
    const _: () = assert!(core::mem::size_of::<PriceAccountHead>() == HEAD_SIZE);
}
