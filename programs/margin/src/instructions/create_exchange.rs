//! `create_exchange`: create the exchange config and its insurance vault.

use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::state::*;

/// Accounts of `create_exchange`.
#[derive(Accounts)]
#[instruction(exchange_num: u32)]
pub struct CreateExchange<'info> {
    /// Creator; becomes the admin and pays rent.
    #[account(mut)]
    pub creator: Signer<'info>,
    /// Exchange PDA `[b"exchange", creator, exchange_num LE]`.
    #[account(
        init,
        payer = creator,
        space = 8 + EXCHANGE_SIZE,
        seeds = [EXCHANGE_SEED, creator.key().as_ref(), &exchange_num.to_le_bytes()],
        bump
    )]
    pub exchange: AccountLoader<'info, Exchange>,
    /// Settlement token mint (USDC-like).
    pub settlement_mint: Box<Account<'info, Mint>>,
    /// Insurance fund vault PDA `[b"insurance", exchange]`, authority = exchange.
    #[account(
        init,
        payer = creator,
        seeds = [INSURANCE_SEED, exchange.key().as_ref()],
        bump,
        token::mint = settlement_mint,
        token::authority = exchange,
    )]
    pub insurance_vault: Box<Account<'info, TokenAccount>>,
    /// SPL Token.
    pub token_program: Program<'info, Token>,
    /// System program.
    pub system_program: Program<'info, System>,
}

/// Create the exchange; the creator is its admin; not paused.
pub fn handle_create_exchange(ctx: Context<CreateExchange>, exchange_num: u32) -> Result<()> {
    let mut ex = ctx.accounts.exchange.load_init()?;
    ex.admin = ctx.accounts.creator.key();
    ex.creator = ctx.accounts.creator.key();
    ex.settlement_mint = ctx.accounts.settlement_mint.key();
    ex.insurance_vault = ctx.accounts.insurance_vault.key();
    ex.exchange_num = exchange_num;
    ex.bank_count = 0;
    ex.paused = 0;
    ex.bump = ctx.bumps.exchange;
    ex.insurance_vault_bump = ctx.bumps.insurance_vault;
    ex.settlement_decimals = ctx.accounts.settlement_mint.decimals;
    ex.liquidation_buffer_ppm = DEFAULT_LIQUIDATION_BUFFER_PPM;
    Ok(())
}
