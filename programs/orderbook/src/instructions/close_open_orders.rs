//! `close_open_orders`: the authority closes an owner's open-orders account that lists no
//! resting order, returning its rent.

use crate::error::OrderbookError;
use crate::state::*;
use anchor_lang::prelude::*;

/// Accounts of `close_open_orders`.
#[derive(Accounts)]
pub struct CloseOpenOrders<'info> {
    /// The market's authority.
    pub authority: Signer<'info>,
    /// The market (read: its book says which listed orders still rest).
    #[account(mut, has_one = authority @ OrderbookError::WrongAuthority)]
    pub market: AccountLoader<'info, Market>,
    /// The open-orders account to close (this market's).
    #[account(mut, has_one = market @ OrderbookError::WrongOpenOrders, close = destination)]
    pub open_orders: AccountLoader<'info, OpenOrdersAccount>,
    /// Receives the account's lamports.
    /// CHECK: any writable account the authority names.
    #[account(mut)]
    pub destination: UncheckedAccount<'info>,
}

pub fn handle_close_open_orders(ctx: Context<CloseOpenOrders>) -> Result<()> {
    let oo = ctx.accounts.open_orders.load()?;
    let info = ctx.accounts.market.to_account_info();
    let mut data = info.try_borrow_mut_data()?;
    let (_, book) = split_market(&mut data)?;
    let owner = oo.owner.to_bytes();
    let resting = book.open_orders(&owner, oo.orders()).count();
    require!(resting == 0, OrderbookError::OpenOrdersNotEmpty);
    msg!("closed the open-orders account of {}", oo.owner);
    Ok(())
}
