//! `close_margin_account`: return the rent to the owner; only when empty.
//!
//! A deposit worth less than one native unit (what rounding can leave, e.g. depositing 1 unit
//! when the deposit index is above 1) cannot be withdrawn; closing forfeits it to the bank
//! (its shares leave `indexed_deposits`, its value goes to `dust`). Remaining accounts: the
//! bank of every slot holding such a deposit, writable.

use anchor_lang::prelude::*;
use carry_math::bank_math::position_native;
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::health::load_bank_mut;
use crate::state::*;

/// Accounts of `close_margin_account`.
#[derive(Accounts)]
pub struct CloseMarginAccount<'info> {
    /// Owner; receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Account to close.
    #[account(
        mut,
        close = owner,
        has_one = owner @ CarryError::NotOwner,
        has_one = exchange @ CarryError::ExchangeMismatch
    )]
    pub account: AccountLoader<'info, MarginAccount>,
}

/// Refused with `AccountNotEmpty` while any slot holds a borrow, a non-lendable balance, a
/// deposit worth one native unit or more, or a perp position; sub-unit deposits are forfeited
/// (their bank must be passed, else `HealthAccountsMismatch`).
pub fn handle_close_margin_account(ctx: Context<CloseMarginAccount>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let exchange = ctx.accounts.exchange.key();
    let acc = ctx.accounts.account.load()?;
    require!(
        acc.perps.iter().all(|p| p.in_use == 0),
        CarryError::AccountNotEmpty
    );
    for slot in acc.tokens.iter() {
        let shares = slot.indexed_position.get();
        require!(
            slot.non_lendable == 0 && !shares.is_negative(),
            CarryError::AccountNotEmpty
        );
        if shares.is_zero() {
            continue;
        }
        // deposit index >= 1: a whole share is worth a whole unit, no bank needed to refuse
        require!(shares < I80F48::ONE, CarryError::AccountNotEmpty);
        let bank_ai = ctx
            .remaining_accounts
            .iter()
            .find(|ai| {
                crate::health::load_bank(ai)
                    .map(|b| b.exchange == exchange && b.token_index == slot.token_index)
                    .unwrap_or(false)
            })
            .ok_or_else(|| error!(CarryError::HealthAccountsMismatch))?;
        let bank_key = *bank_ai.key;
        let mut bank = load_bank_mut(bank_ai)?;
        let (accrual, dt) = bank.accrue(now)?;
        if dt > 0 {
            crate::instructions::accrue_interest::emit_accrual(&bank, bank_key, &accrual, dt);
        }
        let value =
            position_native(shares, bank.deposit_index.get(), bank.borrow_index.get()).named()?;
        require!(value < I80F48::ONE, CarryError::AccountNotEmpty);
        let deposits = bank.indexed_deposits.get().checked_sub(shares).ovf()?;
        bank.indexed_deposits.set(deposits);
        let dust = bank.dust.get().checked_add(value).ovf()?;
        bank.dust.set(dust);
    }
    Ok(())
}
