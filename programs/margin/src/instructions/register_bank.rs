//! `register_bank` (admin): add a collateral token with its oracle, weights and curve.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};
use carry_math::I80F48;

use crate::error::CarryError;
use crate::oracle::{bank_oracle_price, check_oracle_config};
use crate::state::*;

/// Accounts of `register_bank`.
#[derive(Accounts)]
pub struct RegisterBank<'info> {
    /// Exchange admin; pays rent.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// Exchange.
    #[account(mut, has_one = admin @ CarryError::NotAdmin)]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Token mint.
    pub mint: Box<Account<'info, Mint>>,
    /// Bank PDA `[b"bank", exchange, mint]`.
    #[account(
        init,
        payer = admin,
        space = 8 + BANK_SIZE,
        seeds = [BANK_SEED, exchange.key().as_ref(), mint.key().as_ref()],
        bump
    )]
    pub bank: AccountLoader<'info, Bank>,
    /// Vault PDA `[b"vault", bank]`, authority = exchange.
    #[account(
        init,
        payer = admin,
        seeds = [VAULT_SEED, bank.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = exchange,
    )]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Oracle account of the format `oracle` names; read now (owner, format, feed, age and
    /// confidence checked) to seed the stable price.
    /// CHECK: validated in `oracle.rs`; its key is stored in the bank.
    pub oracle: UncheckedAccount<'info>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Register a bank; it gets token index `exchange.bank_count`. Indices start at 1, the
/// stable price at the current oracle price. `oracle` names the oracle's format (and, for a
/// pull oracle, its feed id, which must be non-zero; zero for a v2 price account).
pub fn handle_register_bank(
    ctx: Context<RegisterBank>,
    params: BankParams,
    oracle: OracleConfig,
) -> Result<()> {
    require!(params.is_valid(), CarryError::InvalidParameter);
    check_oracle_config(&oracle)?;
    let now = Clock::get()?.unix_timestamp;
    let mut ex = ctx.accounts.exchange.load_mut()?;
    require!(ex.bank_count < MAX_BANKS, CarryError::TooManyBanks);
    let mut bank = ctx.accounts.bank.load_init()?;
    bank.exchange = ctx.accounts.exchange.key();
    bank.mint = ctx.accounts.mint.key();
    bank.vault = ctx.accounts.vault.key();
    bank.oracle = ctx.accounts.oracle.key();
    bank.oracle_kind = oracle.kind as u8;
    bank.oracle_feed_id = oracle.feed_id;
    bank.decimals = ctx.accounts.mint.decimals;
    bank.token_index = ex.bank_count;
    bank.bump = ctx.bumps.bank;
    bank.vault_bump = ctx.bumps.vault;
    bank.params = params;
    bank.deposit_index.set(I80F48::ONE);
    bank.borrow_index.set(I80F48::ONE);
    bank.last_accrual_ts = now;
    let price = bank_oracle_price(&bank, &ctx.accounts.oracle, now, ex.settlement_decimals)?;
    bank.stable_price.set(price);
    bank.stable_price_ts = now;
    ex.bank_count += 1;
    msg!("bank {} registered, price {}", bank.token_index, price);
    Ok(())
}
