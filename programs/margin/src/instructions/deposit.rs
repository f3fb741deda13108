//! `deposit`: tokens from the signer's token account into the margin account. Repays a borrow
//! first; the rest is a lendable deposit, or a non-lendable one if the account opted the token
//! out. Owner or delegate may deposit (a delegate only into a token the account holds).
//!
//! Optional remaining account: the bank's oracle, to advance the stable price (see
//! `oracle::touch_stable_price`).

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount, TransferChecked};
use carry_math::I80F48;

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::{DepositEvent, RepayEvent};
use crate::state::*;

/// Accounts of `deposit`.
#[derive(Accounts)]
pub struct Deposit<'info> {
    /// Owner or delegate of the account; authority of `user_token`.
    pub signer: Signer<'info>,
    /// Exchange (not paused).
    #[account(constraint = !exchange.load()?.is_paused() @ CarryError::ExchangePaused)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Margin account of this exchange.
    #[account(
        mut,
        has_one = exchange @ CarryError::ExchangeMismatch,
        constraint = account.load()?.is_owner_or_delegate(signer.key) @ CarryError::NotOwnerOrDelegate
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
    /// Source token account (mint = bank mint; not the vault itself).
    #[account(
        mut,
        constraint = user_token.mint == mint.key() @ CarryError::MintMismatch,
        constraint = user_token.key() != vault.key() @ CarryError::VaultMismatch
    )]
    pub user_token: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Deposit `amount` native units (> 0). Accrues the bank first (best effort for an opted-out
/// balance). A deposit that only repays is never limited; the part that becomes a deposit
/// must keep total deposits <= deposit limit. A delegate may only deposit a token the account
/// already holds (`DelegateCannotOpenSlot`).
pub fn handle_deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
    require!(amount > 0, CarryError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let account_key = ctx.accounts.account.key();
    let bank_key = ctx.accounts.bank.key();
    {
        let mut bank = ctx.accounts.bank.load_mut()?;
        let mut acc = ctx.accounts.account.load_mut()?;
        // A delegate deposits only into tokens the account already holds: it cannot fill the
        // owner's token slots with dust.
        let existing = acc.find_token(bank.token_index);
        require!(
            existing.is_some() || acc.owner == ctx.accounts.signer.key(),
            CarryError::DelegateCannotOpenSlot
        );
        // Opted-out balances are outside the pool: their deposit never depends on accrual.
        let opted_out = existing.is_some_and(|s| acc.tokens[s].lending_disabled != 0);
        crate::instructions::accrue_interest::accrue_for_balance(
            &mut bank, bank_key, now, opted_out,
        )?;
        let quote_decimals = ctx.accounts.exchange.load()?.settlement_decimals;
        crate::oracle::touch_stable_price(&mut bank, ctx.remaining_accounts, now, quote_decimals)?;
        let slot = acc.find_or_create_token(bank.token_index)?;
        let pos = &mut acc.tokens[slot];
        let (repaid, deposited, closed, non_lendable) = if pos.lending_disabled != 0 {
            pos.non_lendable = pos.non_lendable.checked_add(amount).ovf()?;
            bank.non_lendable_deposits = bank.non_lendable_deposits.checked_add(amount).ovf()?;
            (0, amount, false, true)
        } else {
            let mut pool = bank.pool();
            let mut shares = pos.indexed_position.get();
            let out = pool.deposit(&mut shares, amount).named()?;
            pos.indexed_position.set(shares);
            bank.set_pool(&pool);
            (out.repaid, out.deposited, out.borrow_closed, false)
        };
        if deposited > 0 {
            let total = bank.total_deposits_native()?;
            require!(
                total <= I80F48::from_u64(bank.params.deposit_limit),
                CarryError::DepositLimitExceeded
            );
        }
        acc.release_if_empty(slot);
        if repaid > 0 {
            emit!(RepayEvent {
                account: account_key,
                bank: bank_key,
                token_index: bank.token_index,
                amount: repaid,
                closed,
            });
        }
        if deposited > 0 {
            emit!(DepositEvent {
                account: account_key,
                bank: bank_key,
                token_index: bank.token_index,
                signer: ctx.accounts.signer.key(),
                amount: deposited,
                non_lendable,
            });
        }
    }
    token::transfer_checked(
        CpiContext::new(
            ctx.accounts.token_program.to_account_info(),
            TransferChecked {
                from: ctx.accounts.user_token.to_account_info(),
                mint: ctx.accounts.mint.to_account_info(),
                to: ctx.accounts.vault.to_account_info(),
                authority: ctx.accounts.signer.to_account_info(),
            },
        ),
        amount,
        ctx.accounts.mint.decimals,
    )
}
