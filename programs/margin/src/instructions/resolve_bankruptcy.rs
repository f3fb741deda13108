//! `resolve_bankruptcy` (permissionless): an account with nothing left, no deposit in any
//! token (no positive or opted-out balance), no perp slot (positions closed or liquidated and
//! their PnL settled), but a borrow in `bank`, is bankrupt in that token. Its debt (the
//! deficit, rounded up) is resolved in this order, each step emitting its amount:
//!
//! 1. **Insurance fund** (settlement token only): the insurance vault pays what it can into the
//!    bank's vault, repaying the borrow.
//! 2. **Socialized across the market's positions** (settlement token only, when a perp market
//!    is passed): what is left, up to the market's PnL pool, is paid out of the pool into the
//!    bank (repaying the borrow) and charged to every open position of the market by size: the
//!    market's `socialized_loss_index` rises by `amount / (2 * open_interest_lots)` (rounded
//!    up; longs and shorts hold `open_interest_lots` each), and each position owes `|base| *`
//!    the rise, added to its cost basis when it next settles (health counts it at once). The
//!    pool is the cash those positions' profits are paid from, so what they owe in all (at
//!    least `amount`) flows back to it.
//!
//! Auto-deleveraging comes before step 2, while the bankrupt position is still open: it is
//! its own instruction (`auto_deleverage`), which closes the position against the most
//! profitable opposite positions at the bankruptcy price for the deficit beyond the fund.
//! 3. **Socialized across the bank's depositors**: what is left is removed from the borrows and spread over the bank's
//!    depositors by lowering its deposit index (rounded so that deposits fall by at least the
//!    loss; the difference is kept as dust, so conservation holds to the unit).
//!
//! `deficit = insurance + market_socialized + socialized` (the `BankruptcyEvent`). Runs while
//! the exchange is paused. Remaining accounts (optional, settlement bank only): `[perp market
//! (mut)]`, the market whose positions share the loss (where the deficit arose).

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use carry_math::{Round, I80F48};

use crate::error::{CarryError, OptionExt};
use crate::events::{BankruptcyEvent, PerpSocializedLossEvent};
use crate::health::load_perp_market_mut;
use crate::instructions::accrue_interest::emit_accrual;
use crate::state::*;

/// Accounts of `resolve_bankruptcy`.
#[derive(Accounts)]
pub struct ResolveBankruptcy<'info> {
    /// Exchange (may be paused).
    #[account(has_one = insurance_vault @ CarryError::InsuranceVaultMismatch)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// The bankrupt account.
    #[account(mut, has_one = exchange @ CarryError::ExchangeMismatch)]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Bank of the debt.
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
    /// The exchange's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
}

/// Whether `acc` holds nothing but debt.
fn is_bankrupt(acc: &MarginAccount) -> bool {
    acc.perps.iter().all(|p| p.in_use == 0)
        && acc.tokens.iter().all(|t| {
            t.in_use == 0 || (t.non_lendable == 0 && !t.indexed_position.get().is_positive())
        })
}

/// Resolve the account's debt in `bank` (`NotBankrupt` while it holds anything else).
pub fn handle_resolve_bankruptcy<'info>(
    ctx: Context<'_, '_, 'info, 'info, ResolveBankruptcy<'info>>,
) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let account_key = ctx.accounts.account.key();
    let bank_key = ctx.accounts.bank.key();
    let exchange_key = ctx.accounts.exchange.key();
    let settlement_mint = ctx.accounts.exchange.load()?.settlement_mint;
    let is_settlement = ctx.accounts.mint.key() == settlement_mint;

    let (slot, deficit, token_index) = {
        let mut bank = ctx.accounts.bank.load_mut()?;
        let (accrual, dt) = bank.accrue(now)?;
        if dt > 0 {
            emit_accrual(&bank, bank_key, &accrual, dt);
        }
        let acc = ctx.accounts.account.load()?;
        require!(is_bankrupt(&acc), CarryError::NotBankrupt);
        let slot = acc
            .find_token(bank.token_index)
            .ok_or(error!(CarryError::NoLiabilityToLiquidate))?;
        let shares = acc.tokens[slot].indexed_position.get();
        require!(shares.is_negative(), CarryError::NoLiabilityToLiquidate);
        let debt = shares
            .checked_neg()
            .ovf()?
            .mul_round(bank.borrow_index.get(), Round::Ceil)
            .ovf()?
            .to_u64(Round::Ceil)
            .ovf()?;
        (slot, debt, bank.token_index)
    };

    // 1. Insurance fund.
    let insurance = if is_settlement {
        deficit.min(ctx.accounts.insurance_vault.amount)
    } else {
        0
    };
    if insurance > 0 {
        crate::vault::transfer_out(
            ctx.accounts.token_program.to_account_info(),
            &ctx.accounts.exchange,
            ctx.accounts.insurance_vault.to_account_info(),
            &ctx.accounts.mint,
            ctx.accounts.vault.to_account_info(),
            insurance,
        )?;
        let mut bank = ctx.accounts.bank.load_mut()?;
        let mut acc = ctx.accounts.account.load_mut()?;
        bank.credit(&mut acc.tokens[slot], insurance)?;
    }

    // 2. Socialized across the market's positions, paid out of its PnL pool.
    let mut market_socialized = 0u64;
    let mut market_key = Pubkey::default();
    let mut loss_index_after = I80F48::ZERO;
    if let Some(market_ai) = ctx.remaining_accounts.first() {
        require!(is_settlement, CarryError::NotSettlementBank);
        let mut market = load_perp_market_mut(market_ai)?;
        require_keys_eq!(
            market.exchange,
            exchange_key,
            CarryError::PerpMarketMismatch
        );
        require!(market_ai.is_writable, CarryError::PerpMarketMismatch);
        market_key = *market_ai.key;
        let left = deficit - insurance;
        let lots = market.open_interest_lots.checked_mul(2).ovf()?;
        let amount = left.min(market.pnl_pool_native);
        if amount > 0 && lots > 0 {
            let per_lot = I80F48::from_u64(amount)
                .div_round(I80F48::from_u64(lots), Round::Ceil)
                .ovf()?;
            let index = market
                .socialized_loss_index
                .get()
                .checked_add(per_lot)
                .ovf()?;
            market.socialized_loss_index.set(index);
            market.pnl_pool_native -= amount;
            let mut bank = ctx.accounts.bank.load_mut()?;
            let mut acc = ctx.accounts.account.load_mut()?;
            bank.credit(&mut acc.tokens[slot], amount)?;
            market_socialized = amount;
            emit!(PerpSocializedLossEvent {
                bankrupt: account_key,
                perp_market: market_key,
                amount_native: amount,
                open_interest_lots: market.open_interest_lots,
                loss_per_lot_bits: per_lot.to_bits(),
                loss_index_after_bits: index.to_bits(),
            });
        }
        loss_index_after = market.socialized_loss_index.get();
    }

    // 3. Socialized loss: whatever debt is left.
    let (socialized, di_after) = {
        let mut bank = ctx.accounts.bank.load_mut()?;
        let mut acc = ctx.accounts.account.load_mut()?;
        let shares = acc.tokens[slot].indexed_position.get();
        let mut socialized = 0u64;
        if shares.is_negative() {
            let debt_shares = shares.checked_neg().ovf()?;
            let loss = debt_shares
                .mul_round(bank.borrow_index.get(), Round::Ceil)
                .ovf()?;
            let deposits = bank.indexed_deposits.get();
            require!(deposits.is_positive(), CarryError::MathOverflow);
            let di = bank.deposit_index.get();
            let cut = loss.div_round(deposits, Round::Ceil).ovf()?;
            let di_new = di.checked_sub(cut).ovf()?;
            require!(di_new.is_positive(), CarryError::MathOverflow);
            // deposits fall by deposits * cut >= loss; the excess is dust
            let fall = deposits.mul_round(cut, Round::Floor).ovf()?;
            let excess = fall.checked_sub(loss).ovf()?.max(I80F48::ZERO);
            let borrows = bank.indexed_borrows.get().checked_sub(debt_shares).ovf()?;
            bank.indexed_borrows.set(borrows.max(I80F48::ZERO));
            bank.deposit_index.set(di_new);
            let dust = bank.dust.get().checked_add(excess).ovf()?;
            bank.dust.set(dust);
            acc.tokens[slot].indexed_position.set(I80F48::ZERO);
            socialized = deficit
                .saturating_sub(insurance)
                .saturating_sub(market_socialized);
        }
        acc.release_if_empty(slot);
        (socialized, bank.deposit_index.get())
    };

    ctx.accounts.insurance_vault.reload()?;
    emit!(BankruptcyEvent {
        account: account_key,
        bank: bank_key,
        deficit_native: deficit,
        insurance_native: insurance,
        market_socialized_native: market_socialized,
        socialized_native: socialized,
        perp_market: market_key,
        loss_index_after_bits: loss_index_after.to_bits(),
        insurance_after_native: ctx.accounts.insurance_vault.amount,
        deposit_index_after_bits: di_after.to_bits(),
    });
    msg!(
        "bankruptcy token {}: deficit {} = insurance {} + market positions {} + depositors {}",
        token_index,
        deficit,
        insurance,
        market_socialized,
        socialized
    );
    Ok(())
}
