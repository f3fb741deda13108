//! The SBF math harness (`bench/sbf/math`) cannot link Anchor, so it reads the margin accounts
//! through mirror structs (`bench/sbf/math/src/layout.rs`) and Pyth v2 price accounts at fixed
//! offsets. This test pins both to the real layouts: every mirrored field at the same offset as
//! in `carry_margin::state`, every struct the same size, and the Pyth offsets and constants as
//! `pyth-sdk-solana` defines them. A change to a zero-copy account that moves a field the
//! harness reads fails here instead of silently measuring the wrong bytes. It also runs the
//! harness's glue (`bench/sbf/math/src/glue.rs`) beside this program's own functions on the
//! same bytes (accrual, indices, perp term, funding state, Pyth v2 reading): same results.
//!
//!     cargo test -p carry-margin --test sbf_layout

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
    same_layout!(
        layout::BankParams,
        real::BankParams,
        [
            init_asset_weight_ppm,
            maint_asset_weight_ppm,
            init_liab_weight_ppm,
            maint_liab_weight_ppm,
            base_rate_ppm,
            optimal_util_ppm,
            slope1_ppm,
            slope2_ppm,
            max_rate_ppm,
            reserve_factor_ppm,
            deposit_limit,
            net_borrow_limit,
            oracle_max_age_secs,
            oracle_max_conf_ppm,
            stable_max_move_ppm_per_hour,
            stable_max_step_secs,
            liquidation_fee_ppm,
            padding,
        ]
    );
    same_layout!(
        layout::Bank,
        real::Bank,
        [
            exchange,
            mint,
            vault,
            oracle,
            deposit_index,
            borrow_index,
            indexed_deposits,
            indexed_borrows,
            collected_reserve,
            dust,
            stable_price,
            non_lendable_deposits,
            last_accrual_ts,
            stable_price_ts,
            reserve_swept,
            params,
            token_index,
            decimals,
            bump,
            vault_bump,
            oracle_kind,
            padding,
            oracle_feed_id,
            reserved,
        ]
    );
    same_layout!(
        layout::TokenPosition,
        real::TokenPosition,
        [
            indexed_position,
            non_lendable,
            token_index,
            in_use,
            lending_disabled,
            padding,
            reserved,
        ]
    );
    same_layout!(
        layout::PerpPosition,
        real::PerpPosition,
        [
            market_index,
            in_use,
            padding,
            base_lots,
            quote_native,
            funding_snapshot,
            bids_base_lots,
            asks_base_lots,
            loss_snapshot,
            reserved,
        ]
    );
    same_layout!(
        layout::PerpOpenOrders,
        real::PerpOpenOrders,
        [len, padding, entries]
    );
    same_layout!(
        layout::PerpOpenOrderEntry,
        real::PerpOpenOrderEntry,
        [order_id_lo, slot, client_order_id_lo]
    );
    same_layout!(
        layout::MarginAccount,
        real::MarginAccount,
        [
            exchange,
            owner,
            delegate,
            account_num,
            bump,
            padding,
            reserved,
            tokens,
            perps,
            perp_open_orders,
        ]
    );
    same_layout!(
        layout::PerpLeverageTier,
        real::PerpLeverageTier,
        [max_notional_native, init_margin_ppm, maint_margin_ppm,]
    );
    same_layout!(
        layout::PerpMarketParams,
        real::PerpMarketParams,
        [
            tiers,
            open_interest_limit_lots,
            funding_impact_notional,
            expiry_ts,
            maker_fee_ppm,
            taker_fee_ppm,
            oracle_max_age_secs,
            oracle_max_conf_ppm,
            stable_max_move_ppm_per_hour,
            stable_max_step_secs,
            unpaid_pnl_haircut_ppm,
            funding_period_secs,
            funding_max_rate_ppm,
            settlement_window_secs,
            settlement_min_interval_secs,
            liquidation_fee_of_maint_ppm,
            liquidation_insurance_share_ppm,
            tier_count,
            mode,
            order_band_bps,
            oracle_stable_guard_bps,
            padding,
        ]
    );
    same_layout!(
        layout::PerpMarket,
        real::PerpMarket,
        [
            exchange,
            book,
            oracle,
            oracle_feed_id,
            stable_price,
            funding_index,
            funding_rate,
            funding_premium_secs,
            settlement_price_sum,
            stable_price_ts,
            funding_window_start_ts,
            funding_last_update_ts,
            funding_premium_weight_secs,
            open_interest_lots,
            pnl_pool_native,
            fees_accrued_native,
            settlement_last_sample_ts,
            base_lot_size,
            tick_size,
            params,
            settlement_sample_count,
            market_index,
            base_decimals,
            oracle_kind,
            bump,
            padding,
            settlement_closed_lots,
            socialized_loss_index,
            reserved,
        ]
    );
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
    assert_eq!(
        real::MarginAccount::DISCRIMINATOR.len(),
        layout::DISCRIMINATOR_LEN
    );
    assert_eq!(
        real::PerpMarket::DISCRIMINATOR.len(),
        layout::DISCRIMINATOR_LEN
    );
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
        magic,
        ver,
        atype,
        size,
        ptype,
        expo,
        num,
        num_qt,
        last_slot,
        valid_slot,
        ema_price,
        ema_conf,
        timestamp,
        min_pub,
        drv2,
        drv3,
        drv4,
        prod,
        next,
        prev_slot,
        prev_price,
        prev_conf,
        prev_timestamp
    );
    let agg = offset_of!(S, agg);
    assert_eq!(offset_of!(H, agg_price), agg + offset_of!(PriceInfo, price));
    assert_eq!(offset_of!(H, agg_conf), agg + offset_of!(PriceInfo, conf));
    assert_eq!(
        offset_of!(H, agg_status),
        agg + offset_of!(PriceInfo, status)
    );
    assert_eq!(
        offset_of!(H, agg_corp_act),
        agg + offset_of!(PriceInfo, corp_act)
    );
    assert_eq!(
        offset_of!(H, agg_pub_slot),
        agg + offset_of!(PriceInfo, pub_slot)
    );
    assert_eq!(size_of::<PriceStatus>(), 1);
    assert_eq!(PriceStatus::Trading as u8, p::STATUS_TRADING);
    assert_eq!(AccountType::Price as u32, p::ATYPE_PRICE);
    assert_eq!(pyth_sdk_solana::state::MAGIC, p::MAGIC);
    assert_eq!(pyth_sdk_solana::state::VERSION_2, p::VERSION_2);
}

/// The harness's glue (`bench/sbf/math/src/glue.rs`) computes what this program computes, on the
/// same bytes: a bank's accrual and indices, a perp term, the funding state, and the Pyth v2
/// reading. Random banks, markets and positions from a seeded generator.
#[allow(dead_code)]
#[path = "../../../bench/sbf/math/src/glue.rs"]
mod glue;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn fx(bits: i128) -> carry_math::I80F48 {
    carry_math::I80F48::from_bits(bits)
}

#[test]
fn glue_matches_the_program() {
    use bytemuck::Zeroable;
    use carry_math::I80F48;
    let mut rng = Rng(20);
    let (mut accrued, mut terms) = (0, 0);
    for _ in 0..2_000 {
        // a bank
        let mut bank = real::Bank::zeroed();
        let one = 1i128 << 48;
        bank.deposit_index.set(fx(one + rng.below(1 << 46) as i128));
        bank.borrow_index.set(fx(one + rng.below(1 << 47) as i128));
        bank.indexed_deposits
            .set(fx((rng.below(1 << 46) as i128) << 48));
        bank.indexed_borrows
            .set(fx((rng.below(1 << 45) as i128) << 47));
        bank.collected_reserve.set(fx(rng.below(1 << 60) as i128));
        bank.last_accrual_ts = 1_000_000 - rng.below(100_000) as i64;
        bank.params.base_rate_ppm = rng.below(50_000) as u32;
        bank.params.optimal_util_ppm = 1 + rng.below(1_000_000) as u32;
        bank.params.slope1_ppm = rng.below(200_000) as u32;
        bank.params.slope2_ppm = rng.below(3_000_000) as u32;
        bank.params.max_rate_ppm = rng.below(10_000_000) as u32;
        bank.params.reserve_factor_ppm = rng.below(1_000_001) as u32;
        let now = 1_000_000;
        let mirror: layout::Bank = bytemuck::cast(bank);
        assert_eq!(
            bank.indices_at(now).ok(),
            glue::indices_at(&mirror, now).ok(),
            "indices_at"
        );
        let (mut b1, mut m1) = (bank, mirror);
        let a = b1.accrue(now).ok();
        let g = glue::accrue(&mut m1, now).ok();
        assert_eq!(a, g, "accrue");
        accrued += g.is_some() as u32;
        assert_eq!(
            bytemuck::bytes_of(&b1),
            bytemuck::bytes_of(&m1),
            "stored accrual"
        );

        // a perp market and a position
        let mut market = real::PerpMarket::zeroed();
        let tiers = [
            (1_000_000_000_000u64, 10_000u32, 5_000u32),
            (10_000_000_000_000, 20_000, 10_000),
            (50_000_000_000_000, 50_000, 25_000),
            (u64::MAX, 100_000, 50_000),
        ];
        let n = 1 + rng.below(4) as usize;
        for (t, (max, init, maint)) in market.params.tiers.iter_mut().zip(tiers).take(n) {
            *t = real::PerpLeverageTier {
                max_notional_native: max,
                init_margin_ppm: init,
                maint_margin_ppm: maint,
            };
        }
        market.params.tier_count = n as u8;
        market.params.unpaid_pnl_haircut_ppm = rng.below(1_000_001) as u32;
        market.pnl_pool_native = rng.next() >> rng.below(64);
        market.funding_index.set(fx(rng.next() as i64 as i128 >> 8));
        market.funding_rate.set(fx(rng.next() as i64 as i128 >> 20));
        market
            .funding_premium_secs
            .set(fx(rng.next() as i64 as i128));
        market.funding_premium_weight_secs = rng.below(3_600);
        market.market_index = rng.below(8) as u16;
        let mut slot = real::PerpPosition::zeroed();
        slot.in_use = 1;
        slot.base_lots = (rng.next() as i64) >> (20 + rng.below(40));
        slot.quote_native
            .set(fx((rng.next() as i64 as i128) << rng.below(40)));
        slot.funding_snapshot
            .set(fx(rng.next() as i64 as i128 >> 8));
        slot.bids_base_lots = (rng.next() >> (24 + rng.below(40))) as i64;
        slot.asks_base_lots = (rng.next() >> (24 + rng.below(40))) as i64;
        let oracle = fx(1 + (rng.next() >> rng.below(64)) as i128);
        let stable = if rng.below(4) == 0 {
            oracle
        } else {
            fx(1 + (rng.next() >> rng.below(64)) as i128)
        };
        let mm: layout::PerpMarket = bytemuck::cast(market);
        let ms: layout::PerpPosition = bytemuck::cast(slot);
        let term = carry_margin::health::perp_term(&market, &slot, oracle, stable);
        terms += term.is_ok() as u32;
        assert_eq!(
            term,
            glue::perp_term(&mm, &ms, oracle, stable).map_err(|f| match f {
                glue::Fail::Math(e) => e,
                other => panic!("{other:?}"),
            }),
            "perp_term"
        );
        assert_eq!(
            market.funding_state(),
            glue::funding_state(&mm),
            "funding state"
        );
        let _ = I80F48::ZERO;
    }
    // most samples are computed, not refused
    assert!(
        accrued > 1_500 && terms > 1_000,
        "accrued {accrued}, terms {terms} of 2,000"
    );
}

#[test]
fn pyth_v2_reading_matches_the_program() {
    use anchor_lang::prelude::{AccountInfo, Pubkey};
    use layout::pyth_v2 as p;
    let mut rng = Rng(21);
    let mut read = 0;
    for k in 0..1_000 {
        let mut words = vec![0u64; p::SIZE / 8];
        {
            let data: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
            let h: &mut p::PriceAccountHead = bytemuck::from_bytes_mut(&mut data[..p::HEAD_SIZE]);
            h.magic = if k % 50 == 0 { 1 } else { p::MAGIC };
            h.ver = p::VERSION_2;
            h.atype = if k % 70 == 0 { 2 } else { p::ATYPE_PRICE };
            h.expo = -(rng.below(13) as i32);
            h.timestamp = rng.next() as i64 >> 8;
            h.agg_price = rng.next() as i64;
            h.agg_conf = rng.next();
            h.agg_status = rng.below(5) as u8;
            h.prev_price = rng.next() as i64;
            h.prev_conf = rng.next();
            h.prev_timestamp = rng.next() as i64 >> 8;
        }
        let glue_raw = glue::read_pyth_v2(bytemuck::cast_slice(&words)).ok();
        let data: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        let (key, owner) = (
            Pubkey::new_unique(),
            carry_margin::oracle::PYTH_V2_PROGRAM_IDS[0],
        );
        let mut lamports = 1u64;
        let ai = AccountInfo::new(&key, false, false, &mut lamports, data, &owner, false, 0);
        let program_raw = carry_margin::oracle::read_pyth_v2(&ai).ok();
        assert_eq!(program_raw, glue_raw, "sample {k}");
        read += program_raw.is_some() as u32;
    }
    assert!(read > 900, "{read}");
}
