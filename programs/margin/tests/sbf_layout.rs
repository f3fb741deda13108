//! The SBF math harness (`bench/sbf/math`) cannot link Anchor, so it reads the margin accounts
//! through mirror structs (`bench/sbf/math/src/layout.rs`) and Pyth v2 price accounts at fixed
//! offsets. This test pins both to the real layouts: every mirrored field at the same offset as
//! in `carry_margin::state`, every struct the same size, and the Pyth offsets and constants as
//! `pyth-sdk-solana` defines them. A change to a zero-copy account that moves a field the
//! harness reads fails here instead of silently measuring the wrong bytes.

#[allow(dead_code)]
#[path = "../../../bench/sbf/math/src/layout.rs"]
mod layout;

use carry_margin::state as real;
use core::mem::{offset_of, size_of};

macro_rules! same_layout {
    ($mirror:ty, $real:ty, [$($f:ident),* $(,)?]) => {{
        assert_eq!(size_of::<$mirror>(), size_of::<$real>(), concat!("size of ", stringify!($real)));
        $(
            assert_eq!(
                offset_of!($mirror, $f),
                offset_of!($real, $f),
                concat!(stringify!($real), ".", stringify!($f))
            );
        )*
    }};
}

#[test]
fn mirrors_match_the_zero_copy_accounts() {
    same_layout!(layout::BankParams, real::BankParams, [
        init_asset_weight_ppm, maint_asset_weight_ppm, init_liab_weight_ppm,
        maint_liab_weight_ppm, base_rate_ppm, optimal_util_ppm, slope1_ppm, slope2_ppm,
        max_rate_ppm, reserve_factor_ppm, deposit_limit, net_borrow_limit, oracle_max_age_secs,
        oracle_max_conf_ppm, stable_max_move_ppm_per_hour, stable_max_step_secs,
    ]);
    same_layout!(layout::Bank, real::Bank, [
        exchange, mint, vault, oracle, deposit_index, borrow_index, indexed_deposits,
        indexed_borrows, collected_reserve, dust, stable_price, non_lendable_deposits,
        last_accrual_ts, stable_price_ts, reserve_swept, params, token_index, decimals, bump,
        vault_bump, oracle_kind, padding, oracle_feed_id, reserved,
    ]);
    same_layout!(layout::TokenPosition, real::TokenPosition, [
        indexed_position, non_lendable, token_index, in_use, lending_disabled, padding, reserved,
    ]);
    same_layout!(layout::PerpPosition, real::PerpPosition, [
        market_index, in_use, padding, base_lots, quote_native, funding_snapshot,
        bids_base_lots, asks_base_lots, reserved,
    ]);
    same_layout!(layout::MarginAccount, real::MarginAccount, [
        exchange, owner, delegate, account_num, bump, padding, reserved, tokens, perps,
    ]);
    same_layout!(layout::PerpLeverageTier, real::PerpLeverageTier, [
        max_notional_native, init_margin_ppm, maint_margin_ppm,
    ]);
    same_layout!(layout::PerpMarketParams, real::PerpMarketParams, [
        tiers, open_interest_limit_lots, funding_impact_notional, expiry_ts, maker_fee_ppm,
        taker_fee_ppm, oracle_max_age_secs, oracle_max_conf_ppm, stable_max_move_ppm_per_hour,
        stable_max_step_secs, unpaid_pnl_haircut_ppm, funding_period_secs, funding_max_rate_ppm,
        settlement_window_secs, settlement_min_interval_secs, tier_count, mode, padding,
    ]);
    same_layout!(layout::PerpMarket, real::PerpMarket, [
        exchange, book, oracle, oracle_feed_id, stable_price, funding_index, funding_rate,
        funding_premium_secs, settlement_price_sum, stable_price_ts, funding_window_start_ts,
        funding_last_update_ts, funding_premium_weight_secs, open_interest_lots,
        pnl_pool_native, fees_accrued_native, settlement_last_sample_ts, base_lot_size,
        tick_size, params, settlement_sample_count, market_index, base_decimals, oracle_kind,
        bump, padding, reserved,
    ]);
    assert_eq!(layout::BANK_SIZE, real::BANK_SIZE);
    assert_eq!(layout::MARGIN_ACCOUNT_SIZE, real::MARGIN_ACCOUNT_SIZE);
    assert_eq!(layout::PERP_MARKET_SIZE, real::PERP_MARKET_SIZE);
    assert_eq!(layout::MAX_TOKEN_POSITIONS, real::MAX_TOKEN_POSITIONS);
    assert_eq!(layout::MAX_PERP_POSITIONS, real::MAX_PERP_POSITIONS);
    assert_eq!(
        layout::MAX_LEVERAGE_TIERS,
        carry_math::tiers::MAX_LEVERAGE_TIERS
    );
    use anchor_lang::Discriminator;
    assert_eq!(real::Bank::DISCRIMINATOR.len(), layout::DISCRIMINATOR_LEN);
    assert_eq!(real::MarginAccount::DISCRIMINATOR.len(), layout::DISCRIMINATOR_LEN);
    assert_eq!(real::PerpMarket::DISCRIMINATOR.len(), layout::DISCRIMINATOR_LEN);
}

#[test]
fn pyth_v2_offsets_match_pyth_sdk_solana() {
    use layout::pyth_v2::{self as p, PriceAccountHead as H};
    use pyth_sdk_solana::state::{AccountType, PriceInfo, PriceStatus, SolanaPriceAccount as S};
    assert_eq!(size_of::<S>(), p::SIZE);
    assert_eq!(offset_of!(S, comp), p::HEAD_SIZE);
    macro_rules! same {
        ($($f:ident),*) => {$(
            assert_eq!(offset_of!(H, $f), offset_of!(S, $f), stringify!($f));
        )*};
    }
    same!(
        magic, ver, atype, size, ptype, expo, num, num_qt, last_slot, valid_slot, ema_price,
        ema_conf, timestamp, min_pub, drv2, drv3, drv4, prod, next, prev_slot, prev_price,
        prev_conf, prev_timestamp
    );
    let agg = offset_of!(S, agg);
    assert_eq!(offset_of!(H, agg_price), agg + offset_of!(PriceInfo, price));
    assert_eq!(offset_of!(H, agg_conf), agg + offset_of!(PriceInfo, conf));
    assert_eq!(offset_of!(H, agg_status), agg + offset_of!(PriceInfo, status));
    assert_eq!(offset_of!(H, agg_corp_act), agg + offset_of!(PriceInfo, corp_act));
    assert_eq!(offset_of!(H, agg_pub_slot), agg + offset_of!(PriceInfo, pub_slot));
    assert_eq!(size_of::<PriceStatus>(), 1);
    assert_eq!(PriceStatus::Trading as u8, p::STATUS_TRADING);
    assert_eq!(AccountType::Price as u32, p::ATYPE_PRICE);
    assert_eq!(pyth_sdk_solana::state::MAGIC, p::MAGIC);
    assert_eq!(pyth_sdk_solana::state::VERSION_2, p::VERSION_2);
}
