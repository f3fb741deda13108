//! `withdraw`: tokens out of the margin account to a token account of the owner's choice.
//! Beyond the deposit it is a borrow (only with `allow_borrow`). Owner only.
//!
//! Remaining accounts: `(bank, oracle)` pairs covering every token slot in use after the
//! withdrawal, any order, extra banks ignored (see `health.rs`); initial health must stay >= 0.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::{BorrowEvent, WithdrawEvent};
use crate::health::compute_health;
use crate::state::*;

/// Accounts of `withdraw`.
#[derive(Accounts)]
pub struct Withdraw<'info> {
    /// Owner of the account (a delegate is refused with `DelegateCannotWithdraw`).
    pub owner: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Margin account of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::ExchangeMismatch,
        constraint = account.load()?.owner == owner.key() @ if account.load()?.delegate == owner.key() { CarryError::DelegateCannotWithdraw } else { CarryError::NotOwner }
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Bank of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::BankMismatch,
        has_one = vault @ CarryError::VaultMismatch,
        has_one = mint @ CarryError::MintMismatch
    )]
    pub bank: AccountLoader<'info, Bank>,
    /// The bank's vault.
    #[account(mut)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// The bank's mint.
    pub mint: Box<Account<'info, Mint>>,
    /// Destination token account (mint = bank mint; not the vault itself, which would book a
    /// withdrawal while the tokens stay).
    #[account(
        mut,
        constraint = user_token.mint == mint.key() @ CarryError::MintMismatch,
        constraint = user_token.key() != vault.key() @ CarryError::VaultMismatch
    )]
    pub user_token: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Withdraw `amount` native units (> 0). Accrues the bank first (best effort for an opted-out
/// balance). Refused when the pool lacks cash (`InsufficientVaultCash`: only depositors'
/// tokens not lent out can leave the pool, never tokens sent to the vault directly), past the balance without `allow_borrow`
/// (`InsufficientBalance`), past the net-borrow limit, for opted-out tokens beyond their
/// balance (`LendingDisabled`), or when initial health ends < 0 (`HealthBelowZero`).
pub fn handle_withdraw(ctx: Context<Withdraw>, amount: u64, allow_borrow: bool) -> Result<()> {
    require!(amount > 0, CarryError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let account_key = ctx.accounts.account.key();
    let bank_key = ctx.accounts.bank.key();
    let exchange_key = ctx.accounts.exchange.key();
    let vault_amount = ctx.accounts.vault.amount;
    let (token_index, from_deposit, borrowed, non_lendable) = {
        let mut bank = ctx.accounts.bank.load_mut()?;
        let mut acc = ctx.accounts.account.load_mut()?;
        // Opted-out balances are outside the pool: their withdrawal never depends on accrual.
        let opted_out = acc
            .find_token(bank.token_index)
            .is_some_and(|s| acc.tokens[s].lending_disabled != 0);
        crate::instructions::accrue_interest::accrue_for_balance(
            &mut bank, bank_key, now, opted_out,
        )?;
        let slot = match acc.find_token(bank.token_index) {
            Some(s) => s,
            None if allow_borrow => acc.find_or_create_token(bank.token_index)?,
            None => return err!(CarryError::InsufficientBalance),
        };
        let pos = &mut acc.tokens[slot];
        let r = if pos.lending_disabled != 0 {
            if amount > pos.non_lendable {
                return if allow_borrow {
                    err!(CarryError::LendingDisabled)
                } else {
                    err!(CarryError::InsufficientBalance)
                };
            }
            require!(amount <= vault_amount, CarryError::InsufficientVaultCash);
            pos.non_lendable -= amount;
            bank.non_lendable_deposits = bank.non_lendable_deposits.checked_sub(amount).ovf()?;
            (bank.token_index, amount, 0, true)
        } else {
            let mut pool = bank.pool();
            let mut shares = pos.indexed_position.get();
            let out = pool.withdraw(&mut shares, amount, allow_borrow).named()?;
            require!(
                amount <= bank.lendable_cash(vault_amount)?,
                CarryError::InsufficientVaultCash
            );
            pos.indexed_position.set(shares);
            bank.set_pool(&pool);
            if out.borrowed > 0 {
                let total = bank.total_borrows_native()?;
                require!(
                    total <= I80F48::from_u64(bank.params.net_borrow_limit),
                    CarryError::NetBorrowLimitExceeded
                );
            }
            (bank.token_index, out.from_deposit, out.borrowed, false)
        };
        acc.release_if_empty(slot);
        r
    };

    let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
    let health = {
        let acc = ctx.accounts.account.load()?;
        compute_health(
            &acc,
            &exchange_key,
            quote_decimals,
            ctx.remaining_accounts,
            now,
            true,
        )?
    };
    require!(!health.init.is_negative(), CarryError::HealthBelowZero);

    if from_deposit > 0 {
        emit!(WithdrawEvent {
            account: account_key,
            bank: bank_key,
            token_index,
            amount: from_deposit,
            non_lendable,
        });
    }
    if borrowed > 0 {
        emit!(BorrowEvent {
            account: account_key,
            bank: bank_key,
            token_index,
            amount: borrowed,
            init_health_bits: health.init.to_bits(),
        });
    }

    crate::vault::transfer_out(
        ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.exchange,
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.mint,
        ctx.accounts.user_token.to_account_info(),
        amount,
    )
}
