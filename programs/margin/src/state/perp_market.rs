//! Perp markets: risk parameters, oracle and stable price, funding, open interest, PnL pool,
//! expiry; and the book account the margin program owns for each market.
//!
//! Units (as `carry_math::perp`): base in **lots** (`base_lot_size` base native units each),
//! prices in **quote native per base lot** (I80F48; the book's integer price is ticks, one tick
//! = `tick_size` quote native per lot), quote amounts in settlement-token native units.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};
use carry_book::Book;
use carry_math::dated::{PriceAverager, SettlementWindow};
use carry_math::funding::{FundingParams, FundingState, PremiumAccumulator};
use carry_math::oracle::{OracleLimits, StableLimits};
use carry_math::tiers::{LeverageTier, LeverageTiers, MAX_LEVERAGE_TIERS, PPM};
use carry_math::MathError;

use super::{FixedBytes, OracleKind, MAX_STABLE_STEP_SECS};
use crate::error::CarryError;
use crate::oracle::OracleSource;

/// PDA seed prefix: `[PERP_MARKET_SEED, exchange, market_index (u16 LE)]`.
pub const PERP_MARKET_SEED: &[u8] = b"perp_market";
/// Most orders per side of a perp book.
pub const MAX_PERP_ORDER_CAPACITY: u32 = 8192;
/// Most queued events of a perp book.
pub const MAX_PERP_EVENT_CAPACITY: u32 = 4096;
/// Largest base decimals a perp market may declare.
pub const MAX_BASE_DECIMALS: u8 = 18;

/// What a perp market accepts ([`PerpMarketParams::mode`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PerpMarketMode {
    /// Orders of every kind.
    Active = 0,
    /// The per-market pause: only orders that reduce a position (cancels, settlement,
    /// funding and liquidation still run).
    ReduceOnly = 1,
}

/// One leverage tier as stored and as the instruction argument (see
/// `carry_math::tiers::LeverageTier`).
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable,
)]
#[repr(C)]
pub struct PerpLeverageTier {
    /// Largest position notional this tier applies to, quote native.
    pub max_notional_native: u64,
    /// Initial margin ratio, ppm of the notional (10_000 = 1% = 100x).
    pub init_margin_ppm: u32,
    /// Maintenance margin ratio, ppm of the notional (< `init_margin_ppm`).
    pub maint_margin_ppm: u32,
}
const _: () = assert!(core::mem::size_of::<PerpLeverageTier>() == 16);

/// Risk, fee, funding, oracle and expiry parameters of a perp market: the argument of
/// `create_perp_market` / `edit_perp_market` (borsh) and the `params` field of [`PerpMarket`]
/// (Pod). As with `BankParams`, the fields are ordered so that `#[repr(C)]` leaves no gap:
/// the borsh encoding is byte for byte the in-account layout, 152 bytes.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct PerpMarketParams {
    /// Leverage tiers by position notional; the first `tier_count` are used, the rest must be
    /// zero.
    pub tiers: [PerpLeverageTier; MAX_LEVERAGE_TIERS],
    /// Most open interest (sum of long positions), base lots; an order that would push it
    /// higher is refused. `u64::MAX` = none.
    pub open_interest_limit_lots: u64,
    /// Notional the funding crank fills on each side of the book to find the impact prices,
    /// quote native (> 0).
    pub funding_impact_notional: u64,
    /// Unix time (s) trading stops and settlement begins (a dated future); 0 = perpetual.
    /// Fixed at creation.
    pub expiry_ts: i64,
    /// Maker fee, ppm of the notional; negative = rebate (`|maker| <= taker`).
    pub maker_fee_ppm: i32,
    /// Taker fee, ppm of the notional (>= 0).
    pub taker_fee_ppm: i32,
    /// Oldest acceptable oracle price, seconds (> 0).
    pub oracle_max_age_secs: u32,
    /// Widest acceptable oracle confidence, ppm of the price (> 0).
    pub oracle_max_conf_ppm: u32,
    /// Speed limit of the stable price: max move per hour, ppm of its value.
    pub stable_max_move_ppm_per_hour: u32,
    /// Most seconds one stable-price update counts (1..=`MAX_STABLE_STEP_SECS`).
    pub stable_max_step_secs: u32,
    /// Haircut on unrealized profit the PnL pool cannot pay yet, ppm (<= 1_000_000).
    pub unpaid_pnl_haircut_ppm: u32,
    /// Funding window and rate unit, seconds (> 0).
    pub funding_period_secs: u32,
    /// Largest funding rate per period, ppm (<= 1_000_000).
    pub funding_max_rate_ppm: u32,
    /// Dated future: oracle samples are taken over `[expiry_ts, expiry_ts + window]`,
    /// seconds (>= `settlement_min_interval_secs`); 0 for a perpetual.
    pub settlement_window_secs: u32,
    /// Dated future: least spacing of two settlement samples, seconds (>= 1); 0 for a
    /// perpetual.
    pub settlement_min_interval_secs: u32,
    /// Liquidation fee as a share of the position's tier maintenance ratio, ppm (< 1_000_000,
    /// so a liquidation always raises the liquidatee's health): the fee grows with the tier
    /// (`carry_math::liquidation::PerpLiquidationFees`).
    pub liquidation_fee_of_maint_ppm: u32,
    /// Share of the liquidation fee that goes to the insurance fund, ppm (<= 1_000_000); the
    /// rest is the liquidator's discount.
    pub liquidation_insurance_share_ppm: u32,
    /// Tiers in use (1..=4).
    pub tier_count: u8,
    /// [`PerpMarketMode`] as `u8`: 0 active, 1 reduce-only.
    pub mode: u8,
    /// Price band of every order, basis points of the oracle price (0 = none; at most the
    /// first tier's initial margin): no order buys above `oracle x (1 + band)` or sells below
    /// `oracle x (1 - band)`. An IOC, FOK or market order is clamped to it; a limit or pegged
    /// order (by its offset), or a post-only order adding risk, beyond it is refused
    /// (`OrderPriceOutOfBand`). Resting orders are margined at the oracle price and reducing
    /// orders are not health-checked, so the band bounds the loss any fill can realize against
    /// the oracle: within the initial margin an account posted.
    pub order_band_bps: u16,
    /// Oracle/stable guard, basis points of the stable price (0 = off; when on, at most the
    /// first tier's initial margin): while the oracle is further than this from the market's
    /// stable price, liquidations and auto-deleveraging are refused
    /// (`OracleStableDivergence`), and the order band is also bound to `stable x (1 +-
    /// guard)`, so no fill realizes a price the stable price has not followed. Without it a
    /// pumped oracle can be realized by a self-liquidation or a self-trade and paid out of the
    /// PnL pool; set it on every market whose oracle can be moved (thin markets), with margins
    /// at least the guard. While the guard holds, trading and liquidation in the market wait
    /// for the stable price (a circuit breaker).
    pub oracle_stable_guard_bps: u16,
    /// Explicit padding, zero.
    pub padding: [u8; 6],
}

/// Size of `PerpMarketParams` (in the account and as borsh argument).
pub const PERP_MARKET_PARAMS_SIZE: usize = 152;
const _: () = assert!(core::mem::size_of::<PerpMarketParams>() == PERP_MARKET_PARAMS_SIZE);
const _: () = assert!(core::mem::align_of::<PerpMarketParams>() == 8);

impl PerpMarketParams {
    /// Validate every field; each kind of mistake has its own error. Expiry against the clock
    /// is the instructions' part (`create_perp_market`: in the future; `edit_perp_market`:
    /// unchanged).
    pub fn validate(&self) -> Result<()> {
        self.leverage_tiers()
            .map_err(|_| error!(CarryError::InvalidLeverageTiers))?;
        carry_math::perp::validate_fee_rates(self.maker_fee_ppm, self.taker_fee_ppm)
            .map_err(|_| error!(CarryError::InvalidFeeRates))?;
        require!(
            self.oracle_max_age_secs > 0 && self.oracle_max_conf_ppm > 0,
            CarryError::InvalidOracleLimits
        );
        require!(
            (1..=MAX_STABLE_STEP_SECS).contains(&self.stable_max_step_secs),
            CarryError::InvalidStableLimits
        );
        require!(
            self.unpaid_pnl_haircut_ppm <= PPM,
            CarryError::InvalidHaircut
        );
        require!(
            self.funding_params().validate().is_ok() && self.funding_impact_notional > 0,
            CarryError::InvalidFundingParams
        );
        require!(self.expiry_ts >= 0, CarryError::InvalidExpiry);
        if self.expiry_ts == 0 {
            require!(
                self.settlement_window_secs == 0 && self.settlement_min_interval_secs == 0,
                CarryError::InvalidSettlementWindow
            );
        } else {
            let ok = self
                .settlement_window()
                .is_some_and(|w| w.validate().is_ok())
                && self.settlement_window_secs >= self.settlement_min_interval_secs;
            require!(ok, CarryError::InvalidSettlementWindow);
        }
        require!(
            self.mode <= PerpMarketMode::ReduceOnly as u8,
            CarryError::InvalidMarketMode
        );
        require!(
            self.liquidation_fee_of_maint_ppm < PPM && self.liquidation_insurance_share_ppm <= PPM,
            CarryError::InvalidLiquidationParams
        );
        // The band bounds what a trade can realize against the oracle; wider than the first
        // tier's initial margin, two accounts of one owner could close against each other at
        // the band's edge for a loss beyond the margin they posted.
        require!(
            self.order_band_bps <= 10_000
                && u32::from(self.order_band_bps) * 100 <= self.tiers[0].init_margin_ppm,
            CarryError::InvalidParameter
        );
        // a fill at the guard's edge loses at most the margin posted
        require!(
            self.oracle_stable_guard_bps <= 10_000
                && u32::from(self.oracle_stable_guard_bps) * 100 <= self.tiers[0].init_margin_ppm
                && self.padding == [0; 6],
            CarryError::InvalidParameter
        );
        Ok(())
    }

    /// The tier table (validated by `carry_math`): `tier_count` in 1..=4, unused tiers zero.
    pub fn leverage_tiers(&self) -> core::result::Result<LeverageTiers, MathError> {
        let n = self.tier_count as usize;
        if n == 0 || n > MAX_LEVERAGE_TIERS {
            return Err(MathError::InvalidParams);
        }
        if self.tiers[n..]
            .iter()
            .any(|t| *t != PerpLeverageTier::default())
        {
            return Err(MathError::InvalidParams);
        }
        let mut tiers = [LeverageTier::default(); MAX_LEVERAGE_TIERS];
        for (out, t) in tiers.iter_mut().zip(self.tiers.iter()) {
            *out = LeverageTier {
                max_notional_native: t.max_notional_native,
                init_margin_ppm: t.init_margin_ppm,
                maint_margin_ppm: t.maint_margin_ppm,
            };
        }
        LeverageTiers::new(&tiers[..n])
    }

    /// Funding parameters.
    pub fn funding_params(&self) -> FundingParams {
        FundingParams {
            period_secs: self.funding_period_secs as u64,
            max_rate_ppm: self.funding_max_rate_ppm,
        }
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

    /// Settlement window of a dated future (`None` for a perpetual or when the end overflows).
    pub fn settlement_window(&self) -> Option<SettlementWindow> {
        if self.expiry_ts == 0 {
            return None;
        }
        Some(SettlementWindow {
            start_ts: self.expiry_ts,
            end_ts: self
                .expiry_ts
                .checked_add(self.settlement_window_secs as i64)?,
            min_interval_secs: self.settlement_min_interval_secs as u64,
        })
    }

    /// Whether the market is in reduce-only mode.
    pub fn is_reduce_only(&self) -> bool {
        self.mode == PerpMarketMode::ReduceOnly as u8
    }
}

/// What is fixed when a perp market is created (argument of `create_perp_market`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerpMarketSetup {
    /// Decimals of the base asset (how the oracle's price per whole base converts to native).
    pub base_decimals: u8,
    /// Base native units per lot (1..=i64::MAX).
    pub base_lot_size: u64,
    /// Quote native units per base lot per tick (1..=i64::MAX).
    pub tick_size: u64,
    /// Orders per side of the book (1..=`MAX_PERP_ORDER_CAPACITY`).
    pub order_capacity: u32,
    /// Event queue slots of the book (1..=`MAX_PERP_EVENT_CAPACITY`).
    pub event_capacity: u32,
}

impl PerpMarketSetup {
    /// Validate ranges (named errors).
    pub fn validate(&self) -> Result<()> {
        require!(
            self.base_decimals <= MAX_BASE_DECIMALS,
            CarryError::InvalidBaseDecimals
        );
        let in_i64 = |v: u64| (1..=i64::MAX as u64).contains(&v);
        require!(
            in_i64(self.base_lot_size) && in_i64(self.tick_size),
            CarryError::InvalidLotOrTickSize
        );
        require!(
            (1..=MAX_PERP_ORDER_CAPACITY).contains(&self.order_capacity)
                && (1..=MAX_PERP_EVENT_CAPACITY).contains(&self.event_capacity),
            CarryError::InvalidBookCapacity
        );
        Ok(())
    }

    /// Size of the book account these capacities need.
    pub fn book_space(&self) -> usize {
        PerpBook::space(self.order_capacity, self.event_capacity)
    }
}

/// A perp market. The book it trades on is a separate account ([`PerpBook`]) owned by this
/// program; orders are matched by linking `carry-book` (no CPI).
#[account(zero_copy)]
#[derive(Debug)]
pub struct PerpMarket {
    /// Exchange this market belongs to.
    pub exchange: Pubkey,
    /// Its book account ([`PerpBook`]: header + `carry_book::Book`), fixed at creation.
    pub book: Pubkey,
    /// Oracle account (Pyth v2 price account or Pyth pull `PriceUpdateV2`, per `oracle_kind`).
    pub oracle: Pubkey,
    /// Pyth feed id a `PriceUpdateV2` oracle must carry (zero for Pyth v2).
    pub oracle_feed_id: [u8; 32],
    /// Stable price, quote native per base lot, I80F48 (rate-limited oracle follower).
    pub stable_price: FixedBytes,
    /// Cumulative funding index, quote native per base lot, I80F48 (signed; starts at 0;
    /// rises when longs pay).
    pub funding_index: FixedBytes,
    /// Funding rate per period applied now, I80F48 fraction.
    pub funding_rate: FixedBytes,
    /// Premium accumulator of the current funding window: sum of premium x seconds, I80F48.
    pub funding_premium_secs: FixedBytes,
    /// Dated future: sum of the settlement oracle samples, quote native per lot, I80F48.
    pub settlement_price_sum: FixedBytes,
    /// Unix time (s) of the last stable price update.
    pub stable_price_ts: i64,
    /// Unix time (s) the current funding window started.
    pub funding_window_start_ts: i64,
    /// Unix time (s) of the last funding crank.
    pub funding_last_update_ts: i64,
    /// Premium accumulator: sum of sample weights, seconds.
    pub funding_premium_weight_secs: u64,
    /// Open interest: sum of long positions, base lots.
    pub open_interest_lots: u64,
    /// PnL pool, quote native: settled losses not yet paid out as profits.
    pub pnl_pool_native: u64,
    /// Net fees accrued and not yet moved to the insurance fund, quote native.
    pub fees_accrued_native: u64,
    /// Dated future: unix time (s) of the last settlement sample.
    pub settlement_last_sample_ts: i64,
    /// Base native units per lot (fixed).
    pub base_lot_size: u64,
    /// Quote native per base lot per tick (fixed).
    pub tick_size: u64,
    /// Parameters (`create_perp_market` / `edit_perp_market`).
    pub params: PerpMarketParams,
    /// Dated future: settlement samples recorded.
    pub settlement_sample_count: u32,
    /// Index of this market in the exchange (what margin account perp slots refer to).
    pub market_index: u16,
    /// Base asset decimals (fixed).
    pub base_decimals: u8,
    /// Oracle format: [`OracleKind`] as `u8` (fixed).
    pub oracle_kind: u8,
    /// PDA bump.
    pub bump: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 7],
    /// Dated future: sum of the signed base lots closed at expiry so far; with open interest
    /// at zero, zero means every position is closed (the market is closed).
    pub settlement_closed_lots: i64,
    /// Socialized loss index, quote native per base lot, I80F48 (starts at 0, only rises): a
    /// bankruptcy deficit the insurance fund and auto-deleveraging could not cover, spread
    /// over every open position of the market by size (`resolve_bankruptcy`). A position owes
    /// `|base_lots| * (index - its loss_snapshot)`, added to its cost basis when it settles.
    pub socialized_loss_index: FixedBytes,
    /// Reserved for future fields, zero.
    pub reserved: [u8; 216],
}

/// Size of `PerpMarket` without the 8-byte discriminator.
pub const PERP_MARKET_SIZE: usize = 696;
const _: () = assert!(core::mem::size_of::<PerpMarket>() == PERP_MARKET_SIZE);
const _: () = assert!(core::mem::align_of::<PerpMarket>() == 8);

impl PerpMarket {
    /// The oracle this market reads.
    pub fn oracle_source(&self) -> Result<OracleSource> {
        Ok(OracleSource {
            key: self.oracle,
            kind: OracleKind::from_u8(self.oracle_kind)?,
            feed_id: self.oracle_feed_id,
        })
    }

    /// Funding state as `carry_math::funding` sees it.
    pub fn funding_state(&self) -> FundingState {
        FundingState {
            index: self.funding_index.get(),
            rate: self.funding_rate.get(),
            premiums: PremiumAccumulator {
                premium_secs: self.funding_premium_secs.get(),
                secs: self.funding_premium_weight_secs,
            },
            window_start_ts: self.funding_window_start_ts,
            last_update_ts: self.funding_last_update_ts,
        }
    }

    /// Store a funding state.
    pub fn set_funding_state(&mut self, s: &FundingState) {
        self.funding_index.set(s.index);
        self.funding_rate.set(s.rate);
        self.funding_premium_secs.set(s.premiums.premium_secs);
        self.funding_premium_weight_secs = s.premiums.secs;
        self.funding_window_start_ts = s.window_start_ts;
        self.funding_last_update_ts = s.last_update_ts;
    }

    /// Settlement sampler of a dated future.
    pub fn settlement_averager(&self) -> PriceAverager {
        PriceAverager {
            sum: self.settlement_price_sum.get(),
            count: self.settlement_sample_count,
            last_sample_ts: self.settlement_last_sample_ts,
        }
    }

    /// Whether this market is a dated future.
    pub fn is_dated(&self) -> bool {
        self.params.expiry_ts != 0
    }

    /// A dated future whose every position has been closed at expiry: no long left (open
    /// interest 0) and the closed lots sum to zero, so no short is left either (bases sum to
    /// zero). From then on only PnL settlement touches it.
    pub fn is_closed(&self) -> bool {
        self.is_dated()
            && self.settlement_sample_count > 0
            && self.open_interest_lots == 0
            && self.settlement_closed_lots == 0
    }
}

/// Header of a perp market's book account. The account is laid out exactly as an order book
/// market of `programs/orderbook` (`carry_orderbook::Market`, 152 bytes, same fields in the
/// same order): 8-byte discriminator, this header, then `carry_book::Book::size_of(
/// order_capacity, event_capacity)` bytes of book at [`PerpBook::BOOK_OFFSET`] = 160. So a
/// reader of order book markets (the SDK's `MarketView`) reads perp books too. Only the
/// discriminator and the owner differ; `authority` is the perp market PDA (the only thing
/// that places, cancels and consumes on this book is the margin program acting for that
/// market).
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct PerpBook {
    /// The perp market this book belongs to.
    pub authority: Pubkey,
    /// Who allocated the account and paid its rent (the exchange admin).
    pub creator: Pubkey,
    /// Quote native units per base lot per tick.
    pub tick_size: u64,
    /// Base native units per lot.
    pub base_lot_size: u64,
    /// Orders per side, fixed at creation.
    pub order_capacity: u32,
    /// Event queue slots, fixed at creation.
    pub event_capacity: u32,
    /// Most makers one order may fill (as an order book market's `max_fills`): the perp
    /// default [`PERP_MAX_FILLS`] until a market parameter sets it.
    pub max_fills: u32,
    /// Reserved, zero.
    pub reserved: [u8; 60],
}

/// Most makers one perp order fills (the order book program's default cap).
pub const PERP_MAX_FILLS: u32 = 32;

/// Size of `PerpBook` (the header) without the discriminator.
pub const PERP_BOOK_HEADER_SIZE: usize = 152;
const _: () = assert!(core::mem::size_of::<PerpBook>() == PERP_BOOK_HEADER_SIZE);
const _: () = assert!(core::mem::align_of::<PerpBook>() <= 8);

impl PerpBook {
    /// Byte offset of the book inside the account (8-aligned).
    pub const BOOK_OFFSET: usize = 8 + PERP_BOOK_HEADER_SIZE;

    /// Account size of a perp book with these capacities.
    pub const fn space(order_capacity: u32, event_capacity: u32) -> usize {
        Self::BOOK_OFFSET + Book::size_of(order_capacity, event_capacity)
    }
}
const _: () = assert!(PerpBook::BOOK_OFFSET.is_multiple_of(8));
