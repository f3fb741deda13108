//! `liquidate_token` (liquidator's owner or delegate): the liquidator repays part of the
//! liquidatee's borrow of one token (the liability bank) and receives the liquidatee's deposit
//! of another (the asset bank) at a discount: `asset = liab * liab_price * (1 + fee) /
//! asset_price` at the oracle prices, `fee` the two banks' `liquidation_fee_ppm` added
//! (`carry_math::liquidation::asset_for_liab`, rounded down).
//!
//! - The liquidatee's maintenance health must be below zero (`NotLiquidatable`); it must owe the
//!   liability token (`NoLiabilityToLiquidate`) and hold the asset token
//!   (`NoAssetToLiquidate`, lendable or opted-out balance alike).
//! - Just enough: the smallest repayment that brings the liquidatee's target health
//!   (`maint * (1 - b) + init * b`) to zero or above, searched over the health the program
//!   computes, bounded by the debt and by what the asset balance can pay; a larger
//!   `max_liab_native` is clamped, a smaller one repays only what was asked.
//! - No token moves: both banks' balances move through their share math (the liquidator's
//!   liability balance falls, below zero as a borrow; its asset balance rises), so every bank's
//!   conservation holds to the unit and utilization never rises above 100%.
//! - The liquidator must end with initial health >= 0 (`LiquidatorUnhealthy`).
//!
//! Runs while the exchange is paused. Remaining accounts: the health pairs of both accounts
//! (the union).

use anchor_lang::prelude::*;
use carry_math::health::HealthType;
use carry_math::liquidation::{
    asset_for_liab, liab_for_asset, smallest_sufficient, target_health_scaled,
};
use carry_math::{Round, I80F48};

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::TokenLiquidationEvent;
use crate::health::{compute_health, health_terms};
use crate::instructions::accrue_interest::emit_accrual;
use crate::oracle::bank_oracle_price;
use crate::state::*;

/// Accounts of `liquidate_token`.
#[derive(Accounts)]
pub struct LiquidateToken<'info> {
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
    /// Bank of the borrow to repay.
    #[account(mut, has_one = exchange @ CarryError::BankMismatch)]
    pub liab_bank: AccountLoader<'info, Bank>,
    /// The liability bank's oracle (key, age and confidence checked).
    /// CHECK: read by `oracle.rs`, which checks it is the bank's oracle.
    pub liab_oracle: UncheckedAccount<'info>,
    /// Bank of the collateral to take.
    #[account(
        mut,
        has_one = exchange @ CarryError::BankMismatch,
        constraint = asset_bank.key() != liab_bank.key() @ CarryError::SameBank
    )]
    pub asset_bank: AccountLoader<'info, Bank>,
    /// The asset bank's oracle (key, age and confidence checked).
    /// CHECK: read by `oracle.rs`, which checks it is the bank's oracle.
    pub asset_oracle: UncheckedAccount<'info>,
}

/// Native balance of a token slot (deposits rounded down, debts rounded up), with the bank's
/// indices already accrued.
fn balance_native(bank: &Bank, tok: &TokenPosition) -> Result<I80F48> {
    if tok.lending_disabled != 0 {
        return Ok(I80F48::from_u64(tok.non_lendable));
    }
    let shares = tok.indexed_position.get();
    let idx = if shares.is_negative() {
        bank.borrow_index.get()
    } else {
        bank.deposit_index.get()
    };
    shares.mul_round(idx, Round::Floor).ovf()
}

/// Repay just enough of the liquidatee's borrow (at most `max_liab_native`, > 0) for its
/// collateral.
pub fn handle_liquidate_token(ctx: Context<LiquidateToken>, max_liab_native: u64) -> Result<()> {
    require!(max_liab_native > 0, CarryError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let exchange_key = ctx.accounts.exchange.key();
    let (quote_decimals, buffer_ppm) = {
        let ex = ctx.accounts.exchange.load()?;
        (ex.settlement_decimals, ex.liquidation_buffer_ppm)
    };
    let pairs = ctx.remaining_accounts;

    let mut terms = {
        let acc = ctx.accounts.liquidatee.load()?;
        health_terms(&acc, &exchange_key, quote_decimals, pairs, now, false)?
    };
    let init0 = terms.health(HealthType::Init).named()?;
    let maint0 = terms.health(HealthType::Maint).named()?;
    require!(maint0.is_negative(), CarryError::NotLiquidatable);
    let target0 = target_health_scaled(init0, maint0, buffer_ppm).named()?;

    let (liab_native, asset_native, fee_ppm, target_after) = {
        let mut liab = ctx.accounts.liab_bank.load_mut()?;
        let mut asset = ctx.accounts.asset_bank.load_mut()?;
        for (bank, key) in [
            (&mut liab, ctx.accounts.liab_bank.key()),
            (&mut asset, ctx.accounts.asset_bank.key()),
        ] {
            if let Some((accrual, dt)) = bank.accrue_best_effort(now) {
                if dt > 0 {
                    emit_accrual(bank, key, &accrual, dt);
                }
            }
        }
        let liab_price = bank_oracle_price(&liab, &ctx.accounts.liab_oracle, now, quote_decimals)?;
        let asset_price =
            bank_oracle_price(&asset, &ctx.accounts.asset_oracle, now, quote_decimals)?;
        let fee_ppm = liab
            .params
            .liquidation_fee_ppm
            .checked_add(asset.params.liquidation_fee_ppm)
            .ovf()?;

        let mut liqee = ctx.accounts.liquidatee.load_mut()?;
        let l_slot = liqee
            .find_token(liab.token_index)
            .ok_or(error!(CarryError::NoLiabilityToLiquidate))?;
        let a_slot = liqee
            .find_token(asset.token_index)
            .ok_or(error!(CarryError::NoAssetToLiquidate))?;
        let l_bal = balance_native(&liab, &liqee.tokens[l_slot])?;
        let a_bal = balance_native(&asset, &liqee.tokens[a_slot])?;
        require!(l_bal.is_negative(), CarryError::NoLiabilityToLiquidate);
        require!(a_bal.is_positive(), CarryError::NoAssetToLiquidate);
        let debt = l_bal.checked_neg().ovf()?.to_u64(Round::Ceil).ovf()?;
        let asset_whole = a_bal.to_u64(Round::Floor).ovf()?;
        let max = debt.min(liab_for_asset(asset_whole, liab_price, asset_price, fee_ppm).named()?);
        require!(max > 0, CarryError::NoAssetToLiquidate);

        // The health terms' balances are at the same accrued indices.
        let (l_term, a_term) = (
            terms.token(liab.token_index).ovf()?.balance,
            terms.token(asset.token_index).ovf()?.balance,
        );
        let mut target_at = |x: u64| -> core::result::Result<I80F48, carry_math::MathError> {
            use carry_math::MathError as E;
            let y = asset_for_liab(x, liab_price, asset_price, fee_ppm)?;
            let l = l_term.checked_add(I80F48::from_u64(x)).ok_or(E::Overflow)?;
            let a = a_term.checked_sub(I80F48::from_u64(y)).ok_or(E::Overflow)?;
            terms.set_token_balance(liab.token_index, l.min(I80F48::ZERO))?;
            terms.set_token_balance(asset.token_index, a.max(I80F48::ZERO))?;
            target_health_scaled(
                terms.health(HealthType::Init)?,
                terms.health(HealthType::Maint)?,
                buffer_ppm,
            )
        };
        let needed = smallest_sufficient(max, target0, &mut target_at).named()?;
        let x = needed.min(max_liab_native);
        let target_after = target_at(x).named()?;
        let y = asset_for_liab(x, liab_price, asset_price, fee_ppm).named()?;

        let mut liqor = ctx.accounts.liquidator.load_mut()?;
        // liability: the liquidator pays, the liquidatee's borrow shrinks
        liab.credit(&mut liqee.tokens[l_slot], x)?;
        let r_l = liqor.find_or_create_token(liab.token_index)?;
        liab.debit(&mut liqor.tokens[r_l], x, true)?;
        // asset: from the liquidatee to the liquidator
        asset.debit(&mut liqee.tokens[a_slot], y, false)?;
        let r_a = liqor.find_or_create_token(asset.token_index)?;
        asset.credit(&mut liqor.tokens[r_a], y)?;
        liqee.release_if_empty(l_slot);
        liqee.release_if_empty(a_slot);
        liqor.release_if_empty(r_l);
        liqor.release_if_empty(r_a);
        (x, y, fee_ppm, target_after)
    };

    emit!(TokenLiquidationEvent {
        liquidatee: ctx.accounts.liquidatee.key(),
        liquidator: ctx.accounts.liquidator.key(),
        liab_bank: ctx.accounts.liab_bank.key(),
        asset_bank: ctx.accounts.asset_bank.key(),
        liab_native,
        asset_native,
        fee_ppm,
        maint_before_bits: maint0.to_bits(),
        target_after_bits: target_after.to_bits(),
    });

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
