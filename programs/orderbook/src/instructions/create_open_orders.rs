//! `create_open_orders`: the account that lists an owner's resting orders on a market.

use crate::state::*;
use anchor_lang::prelude::*;

/// Accounts of `create_open_orders`.
#[derive(Accounts)]
#[instruction(owner: Pubkey)]
pub struct CreateOpenOrders<'info> {
    /// Pays the account's rent (anyone: the account only ever lists `owner`'s orders).
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The new account, PDA `[OPEN_ORDERS_SEED, market, owner]`.
    #[account(
        init,
        payer = payer,
        space = OpenOrdersAccount::SPACE,
        seeds = [OPEN_ORDERS_SEED, market.key().as_ref(), owner.as_ref()],
        bump
    )]
    pub open_orders: AccountLoader<'info, OpenOrdersAccount>,
    pub system_program: Program<'info, System>,
}

pub fn handle_create_open_orders(ctx: Context<CreateOpenOrders>, owner: Pubkey) -> Result<()> {
    let mut oo = ctx.accounts.open_orders.load_init()?;
    oo.market = ctx.accounts.market.key();
    oo.owner = owner;
    oo.bump = ctx.bumps.open_orders;
    Ok(())
}
