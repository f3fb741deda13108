//! `resolve_bankruptcy` (permissionless): an account with nothing left, no deposit in any
//! token (no positive or opted-out balance), no perp slot (positions closed or liquidated and
//! their PnL settled), but a borrow in `bank`, is bankrupt in that token. Its debt (the
//! deficit, rounded up) is resolved in this order, each step emitting its amount:
//!
//! 1. **Insurance fund** (settlement token only): the insurance vault pays what it can into the
//!    bank's vault, repaying the borrow.
//! 2. **Auto-deleveraging** (settlement token only, when a perp market and candidates are
//!    passed): the most profitable positions of the market give up unrealized profit, highest
//!    first. Each candidate's cost basis rises by what it gives, and as much is released from
//!    the market's PnL pool (the cash the candidate's profit would have been paid from) to repay
//!    the borrow. A candidate must hold a position in the market with unrealized profit at the
//!    oracle (funding settled) and come in non-increasing order of that profit (the rank);
//!    the program cannot see every account, so the keeper ranks them (the SDK does) and the
//!    program enforces that the ones passed are profitable and in order. Limited by the pool.
//! 3. **Socialized loss**: what is left is removed from the borrows and spread over the bank's
//!    depositors by lowering its deposit index (rounded so that deposits fall by at least the
//!    loss; the difference is kept as dust, so conservation holds to the unit).
//!
//! `deficit = insurance + adl + socialized` (the `BankruptcyEvent`). Runs while the exchange is
//! paused. Remaining accounts (optional, settlement bank only): `[perp market (mut), its oracle,
//! candidate margin accounts (mut)...]`.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use carry_math::{Round, I80F48};

use crate::error::{CarryError, MathResultExt, OptionExt};
use crate::events::{AutoDeleverageEvent, BankruptcyEvent};
use crate::health::load_perp_market_mut;
use crate::instructions::accrue_interest::emit_accrual;
use crate::oracle::perp_oracle_price;
use crate::perp::settle_funding;
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
    let (settlement_mint, quote_decimals) = {
        let ex = ctx.accounts.exchange.load()?;
        (ex.settlement_mint, ex.settlement_decimals)
    };
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

    // 2. Auto-deleveraging.
    let mut adl = 0u64;
    let rest = ctx.remaining_accounts;
    if is_settlement && rest.len() >= 2 && insurance < deficit {
        let mut left = deficit - insurance;
        let market_ai = &rest[0];
        let mut market = load_perp_market_mut(market_ai)?;
        require_keys_eq!(
            market.exchange,
            exchange_key,
            CarryError::PerpMarketMismatch
        );
        require!(market_ai.is_writable, CarryError::PerpMarketMismatch);
        let market_key = *market_ai.key;
        let oracle = perp_oracle_price(&market, &rest[1], now, quote_decimals)?;
        let mut last_score: Option<I80F48> = None;
        for cand_ai in &rest[2..] {
            if left == 0 || market.pnl_pool_native == 0 {
                break;
            }
            require!(
                *cand_ai.key != account_key && cand_ai.is_writable,
                CarryError::AdlCandidateInvalid
            );
            let loader = AccountLoader::<MarginAccount>::try_from(cand_ai)
                .map_err(|_| error!(CarryError::AdlCandidateInvalid))?;
            let mut cand = loader.load_mut()?;
            require_keys_eq!(cand.exchange, exchange_key, CarryError::AdlCandidateInvalid);
            let c_idx = cand
                .find_perp(market.market_index)
                .ok_or(error!(CarryError::AdlCandidateInvalid))?;
            settle_funding(&market, &mut cand.perps[c_idx], *cand_ai.key, market_key)?;
            let pnl = cand.perps[c_idx]
                .position()
                .unrealized_pnl(oracle)
                .named()?;
            require!(pnl.is_positive(), CarryError::AdlCandidateInvalid);
            if let Some(prev) = last_score {
                require!(pnl <= prev, CarryError::AdlRankOrder);
            }
            last_score = Some(pnl);
            let profit = pnl.to_u64(Round::Floor).ovf()?;
            let take = profit.min(left).min(market.pnl_pool_native);
            if take == 0 {
                continue;
            }
            let q = cand.perps[c_idx]
                .quote_native
                .get()
                .checked_add(I80F48::from_u64(take))
                .ovf()?;
            cand.perps[c_idx].quote_native.set(q);
            market.pnl_pool_native -= take;
            {
                let mut bank = ctx.accounts.bank.load_mut()?;
                let mut acc = ctx.accounts.account.load_mut()?;
                bank.credit(&mut acc.tokens[slot], take)?;
            }
            left -= take;
            adl += take;
            emit!(AutoDeleverageEvent {
                bankrupt: account_key,
                account: *cand_ai.key,
                perp_market: market_key,
                amount_native: take,
                pnl_before_bits: pnl.to_bits(),
                score_bits: pnl.to_bits(),
            });
        }
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
            socialized = deficit.saturating_sub(insurance).saturating_sub(adl);
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
        adl_native: adl,
        socialized_native: socialized,
        insurance_after_native: ctx.accounts.insurance_vault.amount,
        deposit_index_after_bits: di_after.to_bits(),
    });
    msg!(
        "bankruptcy token {}: deficit {} = insurance {} + adl {} + socialized {}",
        token_index,
        deficit,
        insurance,
        adl,
        socialized
    );
    Ok(())
}
