//! `liquidate_perp` (liquidator's owner or delegate): the liquidator's account takes over part
//! of the liquidatee's perp position in one market, at the oracle price discounted by a fee that
//! grows with the position's leverage tier (`carry_math::liquidation`).
//!
//! - The liquidatee's maintenance health must be below zero (`NotLiquidatable`) and it must have
//!   no resting orders or queued maker fills in this market (`LiquidateeHasOpenOrders`: run
//!   `liquidate_perp_orders` and `consume_perp_events` first).
//! - Just enough: the smallest number of lots that brings the liquidatee's target health
//!   (`maint * (1 - b) + init * b`, `b` the exchange's `liquidation_buffer_ppm`) to zero or
//!   above, found by `carry_math::liquidation::smallest_sufficient` over the health the
//!   program computes (the position's term recomputed for each candidate, everything else
//!   fixed); the whole position when even that is not enough. A larger `max_base_lots` is
//!   clamped to it, a smaller one takes only what was asked.
//! - Price: `perp_transfer_price` (the liquidator's discount). The insurance part of the fee is
//!   charged to the liquidatee's cost basis and counted in the market's `fees_accrued_native`,
//!   so it reaches the PnL pool with the liquidatee's settled loss and the insurance fund with
//!   `sweep_perp_fees`. Both positions move by exactly `lots * price`: the market stays
//!   zero-sum; open interest follows both positions.
//! - Then the liquidatee's PnL in the market is settled into its settlement-bank balance as
//!   `settle_pnl` does (a loss through the lending balance first, below zero as a borrow).
//! - The liquidator must end with initial health >= 0 (`LiquidatorUnhealthy`).
//! - Refused while the oracle is further from the stable price than the market's guard
//!   (`OracleStableDivergence`, `PerpMarketParams::oracle_stable_guard_bps`).
//!
//! Runs while the exchange is paused and in reduce-only markets. Remaining accounts: the health
//! pairs of both accounts (the union: each account's health uses the pairs it holds; at most 10
//! bank pairs and 10 perp pairs in all, see `health.rs`).

use anchor_lang::prelude::*;
use carry_math::health::HealthType;
use carry_math::liquidation::{
    liquidator_side, perp_transfer_price, smallest_sufficient, target_health_scaled,
    PerpLiquidationFees,
};
use carry_math::perp::{fee_native, Fill, Side};
use carry_math::{MathError, I80F48};

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::PerpLiquidationEvent;
use crate::health::{compute_health, health_terms, perp_term};
use crate::instructions::settle_pnl::settle_position;
use crate::oracle::{check_oracle_stable_guard, perp_advanced_stable_price, perp_oracle_price};
use crate::perp::{find_or_create_perp, open_interest_after_transfer, opposite, settle_funding};
use crate::state::*;

/// Accounts of `liquidate_perp`.
#[derive(Accounts)]
pub struct LiquidatePerp<'info> {
    /// Owner or delegate of the liquidator's account.
    pub signer: Signer<'info>,
    /// Exchange (may be paused).
    pub exchange: AccountLoader<'info, Exchange>,
    /// The liquidator's margin account.
    #[account(
        mut,
        has_one = exchange @ CarryError::ExchangeMismatch,
        constraint = liquidator.load()?.is_owner_or_delegate(&signer.key()) @ CarryError::NotOwnerOrDelegate
    )]
    pub liquidator: AccountLoader<'info, MarginAccount>,
    /// The account below maintenance health.
    #[account(
        mut,
        has_one = exchange @ CarryError::ExchangeMismatch,
        constraint = liquidatee.key() != liquidator.key() @ CarryError::SelfLiquidation
    )]
    pub liquidatee: AccountLoader<'info, MarginAccount>,
    /// Perp market of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::PerpMarketMismatch,
        has_one = oracle @ CarryError::OracleMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's oracle (age and confidence checked).
    /// CHECK: the market's stored oracle key (`has_one`); read by `oracle.rs`.
    pub oracle: UncheckedAccount<'info>,
    /// The exchange's settlement bank (the liquidatee's PnL is settled into it).
    #[account(
        mut,
        has_one = exchange @ CarryError::BankMismatch,
        constraint = settlement_bank.load()?.mint == exchange.load()?.settlement_mint @ CarryError::NotSettlementBank
    )]
    pub settlement_bank: AccountLoader<'info, Bank>,
}

/// The liquidatee's side in the transfer (the other side of the liquidator's).
fn liquidatee_side(base: i64) -> Side {
    opposite(liquidator_side(base))
}

/// Liquidatee's perp slot after giving up `lots` at `price` and paying `insurance_ppm` of the
/// notional at `oracle`; returns the slot and the insurance fee (quote native).
fn transferred(
    slot: &PerpPosition,
    lots: u64,
    price: I80F48,
    oracle: I80F48,
    insurance_ppm: u32,
) -> core::result::Result<(PerpPosition, u64), MathError> {
    let lots = i64::try_from(lots).map_err(|_| MathError::Overflow)?;
    let mut pos = slot.position();
    pos.apply_fill(&Fill {
        side: liquidatee_side(slot.base_lots),
        base_lots: lots,
        price,
        fee_ppm: 0,
    })?;
    let notional = oracle.checked_mul_int(lots).ok_or(MathError::Overflow)?;
    let fee = fee_native(notional, insurance_ppm as i32)?;
    pos.quote_native = pos
        .quote_native
        .checked_add(I80F48::from_i64(fee))
        .ok_or(MathError::Overflow)?;
    let mut out = *slot;
    out.base_lots = pos.base_lots;
    out.quote_native.set(pos.quote_native);
    Ok((out, fee.max(0) as u64))
}

/// Take over just enough of the liquidatee's position (at most `max_base_lots`, > 0).
pub fn handle_liquidate_perp(ctx: Context<LiquidatePerp>, max_base_lots: u64) -> Result<()> {
    require!(max_base_lots > 0, CarryError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let exchange_key = ctx.accounts.exchange.key();
    let (quote_decimals, buffer_ppm) = {
        let ex = ctx.accounts.exchange.load()?;
        (ex.settlement_decimals, ex.liquidation_buffer_ppm)
    };
    let pairs = ctx.remaining_accounts;
    let liquidatee_key = ctx.accounts.liquidatee.key();
    let liquidator_key = ctx.accounts.liquidator.key();
    let market_key = ctx.accounts.perp_market.key();
    let bank_key = ctx.accounts.settlement_bank.key();

    // Health before (pending funding counted, so settling it below changes nothing).
    let terms = {
        let acc = ctx.accounts.liquidatee.load()?;
        health_terms(&acc, &exchange_key, quote_decimals, pairs, now, false)?
    };
    let init0 = terms.health(HealthType::Init).named()?;
    let maint0 = terms.health(HealthType::Maint).named()?;
    require!(maint0.is_negative(), CarryError::NotLiquidatable);
    let target0 = target_health_scaled(init0, maint0, buffer_ppm).named()?;

    {
        let mut market = ctx.accounts.perp_market.load_mut()?;
        let oracle = perp_oracle_price(&market, &ctx.accounts.oracle, now, quote_decimals)?;
        let stable = perp_advanced_stable_price(&market, oracle, now)?;
        check_oracle_stable_guard(&market, oracle, stable)?;
        let mut liqee = ctx.accounts.liquidatee.load_mut()?;
        let slot_idx = liqee
            .find_perp(market.market_index)
            .ok_or(error!(CarryError::NothingToLiquidate))?;
        let base_before = liqee.perps[slot_idx].base_lots;
        require!(base_before != 0, CarryError::NothingToLiquidate);
        require!(
            liqee.perps[slot_idx].bids_base_lots == 0 && liqee.perps[slot_idx].asks_base_lots == 0,
            CarryError::LiquidateeHasOpenOrders
        );
        settle_funding(
            &market,
            &mut liqee.perps[slot_idx],
            liquidatee_key,
            market_key,
        )?;
        let slot = liqee.perps[slot_idx];

        // Fees by the position's tier at the oracle.
        let tiers = market.params.leverage_tiers().named()?;
        let tier = *tiers.tier(slot.position().notional(oracle).named()?);
        let fees = PerpLiquidationFees::for_tier(
            tier.maint_margin_ppm,
            market.params.liquidation_fee_of_maint_ppm,
            market.params.liquidation_insurance_share_ppm,
        )
        .named()?;
        let price = perp_transfer_price(oracle, base_before, fees.liquidator_ppm).named()?;

        // Everything but this position's term is fixed.
        let term0 = *terms
            .perps()
            .iter()
            .find(|t| t.market_index == market.market_index)
            .ovf()?;
        let others_init = init0.checked_sub(term0.init).ovf()?;
        let others_maint = maint0.checked_sub(term0.maint).ovf()?;
        let target_at = |lots: u64| -> core::result::Result<(I80F48, I80F48), MathError> {
            let (s, _) = transferred(&slot, lots, price, oracle, fees.insurance_ppm)?;
            let t = perp_term(&market, &s, oracle, stable)?;
            let init = others_init.checked_add(t.init).ok_or(MathError::Overflow)?;
            let maint = others_maint
                .checked_add(t.maint)
                .ok_or(MathError::Overflow)?;
            Ok((target_health_scaled(init, maint, buffer_ppm)?, maint))
        };
        let needed = smallest_sufficient(base_before.unsigned_abs(), target0, |q| {
            target_at(q).map(|(t, _)| t)
        })
        .named()?;
        let lots = needed.min(max_base_lots);
        let (target_after, maint_after) = target_at(lots).named()?;
        let (new_slot, insurance_fee) =
            transferred(&slot, lots, price, oracle, fees.insurance_ppm).named()?;

        // Liquidator's side of the transfer.
        let mut liqor = ctx.accounts.liquidator.load_mut()?;
        let r_idx = find_or_create_perp(&mut liqor, market.market_index)?;
        settle_funding(&market, &mut liqor.perps[r_idx], liquidator_key, market_key)?;
        let r_before = liqor.perps[r_idx].base_lots;
        let mut r_pos = liqor.perps[r_idx].position();
        r_pos
            .apply_fill(&Fill {
                side: liquidator_side(base_before),
                base_lots: i64::try_from(lots).map_err(|_| error!(CarryError::MathOverflow))?,
                price,
                fee_ppm: 0,
            })
            .named()?;
        liqor.perps[r_idx].base_lots = r_pos.base_lots;
        liqor.perps[r_idx].quote_native.set(r_pos.quote_native);
        liqee.perps[slot_idx] = new_slot;

        market.open_interest_lots = open_interest_after_transfer(
            market.open_interest_lots,
            [
                (base_before, new_slot.base_lots),
                (r_before, r_pos.base_lots),
            ],
        )?;
        market.fees_accrued_native = market
            .fees_accrued_native
            .checked_add(insurance_fee)
            .ovf()?;

        emit!(PerpLiquidationEvent {
            liquidatee: liquidatee_key,
            liquidator: liquidator_key,
            perp_market: market_key,
            base_lots: lots,
            max_base_lots,
            base_lots_before: base_before,
            price_bits: price.to_bits(),
            oracle_price_bits: oracle.to_bits(),
            liquidator_fee_ppm: fees.liquidator_ppm,
            insurance_fee_native: insurance_fee,
            maint_before_bits: maint0.to_bits(),
            maint_after_bits: maint_after.to_bits(),
            target_after_bits: target_after.to_bits(),
        });

        // The liquidatee's PnL into its settlement balance (as `settle_pnl`).
        let mut bank = ctx.accounts.settlement_bank.load_mut()?;
        settle_position(
            &mut bank,
            &mut market,
            &mut liqee,
            slot_idx,
            oracle,
            now,
            [liquidatee_key, market_key, bank_key],
        )?;
    }

    let liqor_health = {
        let acc = ctx.accounts.liquidator.load()?;
        compute_health(&acc, &exchange_key, quote_decimals, pairs, now, false)?
    };
    require!(
        !liqor_health.init.is_negative(),
        CarryError::LiquidatorUnhealthy
    );
    Ok(())
}
