//! `set_token_lending`: opt one token of an account out of (or back into) the lending pool.
//! Opted out, the balance is held as native units outside the pool: it earns nothing and is
//! never lent (lendable cash excludes it). Owner only. Optional remaining account: the bank's
//! oracle, to advance the stable price.

use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::TokenLendingEvent;
use crate::state::*;

/// Accounts of `set_token_lending`.
#[derive(Accounts)]
pub struct SetTokenLending<'info> {
    /// Owner.
    pub owner: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Margin account.
    #[account(
        mut,
        has_one = owner @ CarryError::NotOwner,
        has_one = exchange @ CarryError::ExchangeMismatch
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Bank of this exchange.
    #[account(mut, has_one = exchange @ CarryError::BankMismatch, has_one = vault @ CarryError::VaultMismatch)]
    pub bank: AccountLoader<'info, Bank>,
    /// The bank's vault (its cash must cover a balance moved out of the pool).
    pub vault: Box<Account<'info, TokenAccount>>,
}

/// `lend = false`: move the deposit (rounded down) out of the pool; refused while borrowing the
/// token (`BorrowOutstanding`) or when the vault's lendable cash cannot cover it.
/// `lend = true`: move the non-lendable balance back into the pool as a deposit (within the
/// deposit limit, which counts both already).
pub fn handle_set_token_lending(ctx: Context<SetTokenLending>, lend: bool) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let vault_amount = ctx.accounts.vault.amount;
    let account_key = ctx.accounts.account.key();
    let bank_key = ctx.accounts.bank.key();
    let mut bank = ctx.accounts.bank.load_mut()?;
    let mut acc = ctx.accounts.account.load_mut()?;
    let (accrual, dt) = bank.accrue(now)?;
    if dt > 0 {
        crate::instructions::accrue_interest::emit_accrual(&bank, bank_key, &accrual, dt);
    }
    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    crate::oracle::touch_stable_price(&mut bank, ctx.remaining_accounts, now, quote_decimals)?;
    let slot = acc.find_or_create_token(bank.token_index)?;
    let pos = &mut acc.tokens[slot];
    let mut moved = 0u64;
    if !lend && pos.lending_disabled == 0 {
        let shares = pos.indexed_position.get();
        require!(!shares.is_negative(), CarryError::BorrowOutstanding);
        let mut pool = bank.pool();
        let mut s = shares;
        if shares.is_positive() {
            let value = shares
                .mul_round(pool.deposit_index, carry_math::Round::Floor)
                .ovf()?;
            let native = value.to_u64(carry_math::Round::Floor).ovf()?;
            let out = pool.withdraw(&mut s, native, false).named()?;
            moved = out.from_deposit;
            require!(
                moved <= bank.lendable_cash(vault_amount)?,
                CarryError::InsufficientVaultCash
            );
        }
        debug_assert!(s == I80F48::ZERO);
        pos.indexed_position.set(I80F48::ZERO);
        pos.non_lendable = pos.non_lendable.checked_add(moved).ovf()?;
        pos.lending_disabled = 1;
        bank.set_pool(&pool);
        bank.non_lendable_deposits = bank.non_lendable_deposits.checked_add(moved).ovf()?;
    } else if lend && pos.lending_disabled != 0 {
        moved = pos.non_lendable;
        let mut pool = bank.pool();
        let mut s = I80F48::ZERO;
        if moved > 0 {
            pool.deposit(&mut s, moved).named()?;
        }
        pos.indexed_position.set(s);
        pos.non_lendable = 0;
        pos.lending_disabled = 0;
        bank.set_pool(&pool);
        bank.non_lendable_deposits = bank.non_lendable_deposits.checked_sub(moved).ovf()?;
    }
    acc.release_if_empty(slot);
    emit!(TokenLendingEvent {
        account: account_key,
        bank: bank_key,
        token_index: bank.token_index,
        lend,
        amount: moved,
    });
    Ok(())
}
