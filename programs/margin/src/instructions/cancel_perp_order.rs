//! `cancel_perp_order` (by order id), `cancel_perp_order_by_client_id`, and
//! `cancel_all_perp_orders` (bounded per call): owner or delegate; the cancelled lots are
//! released from the position's `bids_base_lots`/`asks_base_lots`. Cancels run while the
//! exchange is paused and in reduce-only markets (they only take risk off).

use anchor_lang::prelude::*;
use carry_book::{OrderId, OrderSide as BookSide};

use crate::error::{book_err, CarryError};
use crate::perp::{release_resting, with_book, PerpListener};
use crate::state::*;

/// Accounts of the perp cancels.
#[derive(Accounts)]
pub struct CancelPerpOrder<'info> {
    /// Owner or delegate of the account.
    pub signer: Signer<'info>,
    /// Margin account.
    #[account(
        mut,
        constraint = account.load()?.is_owner_or_delegate(&signer.key()) @ CarryError::NotOwnerOrDelegate
    )]
    pub account: AccountLoader<'info, MarginAccount>,
    /// Perp market of the account's exchange.
    #[account(
        constraint = perp_market.load()?.exchange == account.load()?.exchange @ CarryError::PerpMarketMismatch,
        has_one = book @ CarryError::PerpMarketMismatch
    )]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's book account.
    /// CHECK: the market's stored book key (`has_one`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
}

/// What to cancel.
pub(crate) enum Target {
    Id(u128),
    ClientId(u64),
    All { side: Option<BookSide>, limit: u32 },
}

fn cancel(ctx: Context<CancelPerpOrder>, target: Target) -> Result<()> {
    cancel_orders(
        &ctx.accounts.account,
        &ctx.accounts.perp_market,
        &ctx.accounts.book,
        target,
    )
}

/// Cancel `target` orders of `account` on `perp_market`'s `book` (checked by the caller to be
/// the market's) and release their lots; shared with `liquidate_perp_orders`.
pub(crate) fn cancel_orders(
    account: &AccountLoader<MarginAccount>,
    perp_market: &AccountLoader<PerpMarket>,
    book: &AccountInfo,
    target: Target,
) -> Result<()> {
    let account_key = account.key();
    let market_key = perp_market.key();
    let market_index = perp_market.load()?.market_index;
    let mut acc = account.load_mut()?;
    let mut listener = PerpListener::new(account_key, market_key);
    let owner = account_key.to_bytes();
    // The account's orders on this book are listed in its slot for the market; no slot, no
    // order (a place opens the slot before anything rests).
    let Some(slot_idx) = acc.find_perp(market_index) else {
        return match target {
            Target::Id(_) | Target::ClientId(_) => err!(CarryError::OrderNotFound),
            Target::All { .. } => Ok(()),
        };
    };
    let MarginAccount {
        perps,
        perp_open_orders,
        ..
    } = &mut *acc;
    let slot = &mut perps[slot_idx];
    let complete_all = with_book(book, |book, _| {
        let list = perp_open_orders[slot_idx].book();
        let complete = match target {
            Target::Id(id) => {
                book.cancel(&owner, OrderId::from_u128(id), &mut listener)
                    .map_err(book_err)?;
                false
            }
            Target::ClientId(cid) => {
                book.cancel_by_client_id(&owner, list, cid, &mut listener)
                    .map_err(book_err)?;
                false
            }
            Target::All { side, limit } => {
                let out = book
                    .cancel_all(&owner, list, side, limit, &mut listener)
                    .map_err(book_err)?;
                out.complete && side.is_none()
            }
        };
        if !complete {
            return Ok(None);
        }
        // The account has no order left on the book: what its counts may still hold is the
        // lots of its maker fills and out events queued for the crank (the crank releases
        // those). Keep exactly those.
        let mut pending = [0u64; 2];
        for i in 0..book.event_count() {
            let e = book.event(i).ok_or(error!(CarryError::PerpBookInvalid))?;
            if e.maker == owner {
                // a maker fill or an out event of this account: the crank releases those lots
                let s = e.maker_side() as usize;
                pending[s] = pending[s].saturating_add(e.quantity);
            }
        }
        Ok(Some(pending))
    })?;
    release_resting(slot, BookSide::Bid, listener.released[0]);
    release_resting(slot, BookSide::Ask, listener.released[1]);
    if let Some([bids, asks]) = complete_all {
        slot.bids_base_lots = i64::try_from(bids).unwrap_or(i64::MAX);
        slot.asks_base_lots = i64::try_from(asks).unwrap_or(i64::MAX);
    }
    Ok(())
}

/// Cancel the account's resting order `order_id` (`OrderNotFound` if it is not the account's
/// or not resting).
pub fn handle_cancel_perp_order(ctx: Context<CancelPerpOrder>, order_id: u128) -> Result<()> {
    cancel(ctx, Target::Id(order_id))
}

/// Cancel the account's resting order with `client_order_id` (not 0; else `OrderNotFound`).
pub fn handle_cancel_perp_order_by_client_id(
    ctx: Context<CancelPerpOrder>,
    client_order_id: u64,
) -> Result<()> {
    cancel(ctx, Target::ClientId(client_order_id))
}

/// Cancel up to `limit` (1..=255) of the account's resting orders, on `side` (0 bids, 1 asks)
/// or both (`side` = 2). Call again while orders remain (the engine visits at most
/// `carry_book::MAX_OPEN_ORDERS` orders, all it can rest on one market). A call that leaves the account with
/// no order on this book (both sides) resets its resting lots to the lots of its maker fills
/// still queued (a walk over the event queue, at most its capacity: 4,096), dropping what the
/// book removed while matching other accounts' orders. Keeping the queued fills counted means
/// the slot cannot be freed (and the account closed) while the crank still has to apply them.
pub fn handle_cancel_all_perp_orders(
    ctx: Context<CancelPerpOrder>,
    side: u8,
    limit: u8,
) -> Result<()> {
    let side = match side {
        2 => None,
        s => Some(BookSide::from_u8(s).ok_or(error!(CarryError::InvalidOrderParams))?),
    };
    require!(limit > 0, CarryError::InvalidOrderParams);
    cancel(
        ctx,
        Target::All {
            side,
            limit: limit as u32,
        },
    )
}
