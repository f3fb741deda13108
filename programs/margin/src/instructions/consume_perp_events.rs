//! `consume_perp_events` (permissionless crank): applies queued maker fills to the makers'
//! positions and pops exactly those events.
//!
//! Remaining accounts: the makers' margin accounts (writable), any order, each once or more.
//! Events are applied oldest first; the crank stops at the first event whose maker is not
//! among them (nothing skipped, nothing applied twice: an event leaves the queue in the same
//! instruction that applied it).
//!
//! What the queue holds: maker fills, and an out event for every order of another account
//! that a place removed without a fill (met expired or beyond its peg limit while matching, or
//! evicted from a full side). The crank applies a fill to the maker's position and releases an
//! out event's lots from the owner's resting counts (its open-order margin), so an account's
//! counts follow the book without its owner's instruction. The placer's own removals are
//! released by `place_perp_order` itself.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use carry_book::OrderSide as BookSide;

use crate::error::CarryError;
use crate::perp::{
    apply_fill, emit_fill, find_or_create_perp, math_side, release_resting, settle_funding,
    with_book,
};
use crate::state::*;

/// Accounts of `consume_perp_events`.
#[derive(Accounts)]
pub struct ConsumePerpEvents<'info> {
    /// Perp market.
    #[account(mut, has_one = book @ CarryError::PerpMarketMismatch)]
    pub perp_market: AccountLoader<'info, PerpMarket>,
    /// The market's book account.
    /// CHECK: the market's stored book key (`has_one`).
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
}

/// Apply and pop up to `limit` events (1..=255). A maker account that is not a margin account
/// of the market's exchange is refused (`MakerAccountMismatch`).
pub fn handle_consume_perp_events<'info>(
    ctx: Context<'_, '_, 'info, 'info, ConsumePerpEvents<'info>>,
    limit: u8,
) -> Result<()> {
    require!(limit > 0, CarryError::InvalidOrderParams);
    let market_key = ctx.accounts.perp_market.key();
    let mut market = ctx.accounts.perp_market.load_mut()?;
    let market = &mut *market;
    let makers = ctx.remaining_accounts;
    let maker_fee = market.params.maker_fee_ppm;
    let applied = with_book(&ctx.accounts.book, |book, _| {
        let mut n = 0u32;
        while n < limit as u32 {
            let Some(e) = book.event(n).copied() else {
                break;
            };
            let maker_key = Pubkey::new_from_array(e.maker);
            let Some(ai) = makers.iter().find(|a| *a.key == maker_key) else {
                break;
            };
            require_keys_eq!(*ai.owner, crate::ID, CarryError::MakerAccountMismatch);
            require!(ai.is_writable, CarryError::MakerAccountMismatch);
            let mut data = ai.try_borrow_mut_data()?;
            require!(
                data.len() >= 8 + MARGIN_ACCOUNT_SIZE && &data[..8] == MarginAccount::DISCRIMINATOR,
                CarryError::MakerAccountMismatch
            );
            let acc: &mut MarginAccount =
                bytemuck::from_bytes_mut(&mut data[8..8 + MARGIN_ACCOUNT_SIZE]);
            require_keys_eq!(
                acc.exchange,
                market.exchange,
                CarryError::MakerAccountMismatch
            );
            if !e.is_fill() {
                // Another owner's order the book removed while matching (expired, beyond its
                // peg limit, evicted): release its lots from the owner's resting counts.
                if let Some(slot_idx) = acc.find_perp(market.market_index) {
                    release_resting(&mut acc.perps[slot_idx], e.maker_side(), e.quantity);
                }
                n += 1;
                continue;
            }
            let slot_idx = find_or_create_perp(acc, market.market_index)?;
            let slot = &mut acc.perps[slot_idx];
            settle_funding(market, slot, maker_key, market_key)?;
            let taker_side =
                BookSide::from_u8(e.taker_side).ok_or(error!(CarryError::PerpBookInvalid))?;
            let maker_side = taker_side.opposite();
            let out = apply_fill(
                market,
                slot,
                math_side(maker_side),
                e.quantity,
                e.price,
                maker_fee,
            )?;
            release_resting(slot, maker_side, e.quantity);
            emit_fill(
                maker_key,
                Pubkey::new_from_array(e.taker),
                market_key,
                true,
                math_side(maker_side),
                e.price,
                e.quantity,
                &out,
                e.seq,
            );
            n += 1;
        }
        book.pop_events(n).map_err(crate::error::book_err)?;
        Ok(n)
    })?;
    msg!("consumed {} perp events", applied);
    Ok(())
}
