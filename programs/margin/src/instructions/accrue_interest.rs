//! `accrue_interest`: permissionless crank; accrues a bank's interest and, when its oracle is
//! valid, advances its stable price.

use anchor_lang::prelude::*;
use carry_math::interest::Accrual;

use crate::error::CarryError;
use crate::events::InterestAccrualEvent;
use crate::oracle::{bank_oracle_price, update_stable_price};
use crate::state::*;

/// Accounts of `accrue_interest`.
#[derive(Accounts)]
pub struct AccrueInterest<'info> {
    /// Exchange.
    pub exchange: AccountLoader<'info, Exchange>,
    /// Bank of this exchange.
    #[account(mut, has_one = exchange @ CarryError::BankMismatch, has_one = oracle @ CarryError::OracleMismatch)]
    pub bank: AccountLoader<'info, Bank>,
    /// The bank's oracle.
    /// CHECK: key checked against the bank; read with pyth-sdk-solana.
    pub oracle: UncheckedAccount<'info>,
}

/// Emit the accrual event.
pub fn emit_accrual(bank: &Bank, bank_key: Pubkey, a: &Accrual, dt: u64) {
    emit!(InterestAccrualEvent {
        bank: bank_key,
        token_index: bank.token_index,
        elapsed_secs: dt,
        deposit_index_bits: a.deposit_index.to_bits(),
        borrow_index_bits: a.borrow_index.to_bits(),
        borrow_rate_bits: a.borrow_rate.to_bits(),
        utilization_bits: a.utilization.to_bits(),
        borrow_interest_bits: a.borrow_interest.to_bits(),
        deposit_interest_bits: a.deposit_interest.to_bits(),
        reserve_bits: a.reserve.to_bits(),
    });
}

/// Accrue `bank` to `now` for an instruction about to touch a balance in it, and emit the
/// accrual. A balance opted out of lending (`opted_out`) is outside the pool: then a failing
/// accrual is logged and skipped (`Bank::accrue_best_effort`), so it never locks such a
/// balance; otherwise a failure refuses the instruction.
pub fn accrue_for_balance(
    bank: &mut Bank,
    bank_key: Pubkey,
    now: i64,
    opted_out: bool,
) -> Result<()> {
    let accrued = if opted_out {
        bank.accrue_best_effort(now)
    } else {
        Some(bank.accrue(now)?)
    };
    if let Some((accrual, dt)) = accrued {
        if dt > 0 {
            emit_accrual(bank, bank_key, &accrual, dt);
        }
    }
    Ok(())
}

/// Accrue up to now. Runs while paused too (it moves no tokens). A stale or uncertain oracle
/// does not stop the accrual; the stable price is then left as is (logged).
pub fn handle_accrue_interest(ctx: Context<AccrueInterest>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let bank_key = ctx.accounts.bank.key();
    let mut bank = ctx.accounts.bank.load_mut()?;
    let (a, dt) = bank.accrue(now)?;
    if dt > 0 {
        emit_accrual(&bank, bank_key, &a, dt);
    }
    match bank_oracle_price(&bank, &ctx.accounts.oracle, now, quote_decimals) {
        Ok(price) => update_stable_price(&mut bank, price, now)?,
        Err(e) => msg!("stable price not updated: {}", e),
    }
    Ok(())
}
