//! Accounts of every instruction only the market's authority may send.

use crate::error::OrderbookError;
use crate::events::EmitListener;
use crate::state::{split_market, Market, OpenOrdersAccount};
use anchor_lang::prelude::*;
use carry_book::Book;

/// The market and its authority's signature.
#[derive(Accounts)]
pub struct MarketAuthority<'info> {
    /// The market's authority (for perp markets, the margin program's PDA signing by CPI).
    pub authority: Signer<'info>,
    /// The market (owned by this program, with a market discriminator).
    #[account(mut, has_one = authority @ OrderbookError::WrongAuthority)]
    pub market: AccountLoader<'info, Market>,
}

impl MarketAuthority<'_> {
    /// Runs `f` on the market's header, its book, and a listener that emits what the book
    /// reports as events in native units.
    pub fn with_book<R>(
        &self,
        f: impl FnOnce(&Market, &mut Book, &mut EmitListener) -> Result<R>,
    ) -> Result<R> {
        with_market_book(&self.market, f)
    }
}

/// Runs `f` on `market`'s header, its book, and a listener that emits what the book reports.
fn with_market_book<R>(
    market: &AccountLoader<Market>,
    f: impl FnOnce(&Market, &mut Book, &mut EmitListener) -> Result<R>,
) -> Result<R> {
    let info = market.to_account_info();
    let mut data = info.try_borrow_mut_data()?;
    let (market, mut book) = split_market(&mut data)?;
    let mut listener = EmitListener {
        market: info.key(),
        tick_size: market.tick_size,
        base_lot_size: market.base_lot_size,
        evicted_owner: None,
    };
    f(market, &mut book, &mut listener)
}

/// The market, its authority's signature, and the open-orders account of the owner an
/// instruction acts for (a resting place, cancels and reduces by client id, cancel-all).
#[derive(Accounts)]
pub struct MarketAuthorityOwner<'info> {
    /// The market's authority.
    pub authority: Signer<'info>,
    /// The market (owned by this program, with a market discriminator).
    #[account(mut, has_one = authority @ OrderbookError::WrongAuthority)]
    pub market: AccountLoader<'info, Market>,
    /// The owner's open-orders account on this market (`create_open_orders`); the handler
    /// checks it is the owner's (`WrongOpenOrders`).
    #[account(mut, has_one = market @ OrderbookError::WrongOpenOrders)]
    pub open_orders: AccountLoader<'info, OpenOrdersAccount>,
}

impl MarketAuthorityOwner<'_> {
    /// [`MarketAuthority::with_book`] with `owner`'s order list (`WrongOpenOrders` when the
    /// open-orders account is another owner's).
    pub fn with_book<R>(
        &self,
        owner: &Pubkey,
        f: impl FnOnce(&Market, &mut Book, &mut carry_book::OpenOrders, &mut EmitListener) -> Result<R>,
    ) -> Result<R> {
        let mut oo = self.open_orders.load_mut()?;
        require_keys_eq!(oo.owner, *owner, OrderbookError::WrongOpenOrders);
        with_market_book(&self.market, |market, book, listener| {
            f(market, book, oo.orders_mut(), listener)
        })
    }
}
