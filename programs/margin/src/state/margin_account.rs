//! Margin accounts: one per (owner, account number), cross-margined over all balances.

use anchor_lang::prelude::*;
use carry_math::I80F48;

use super::FixedBytes;
use crate::error::CarryError;

/// PDA seed prefix: `[ACCOUNT_SEED, exchange, owner, account_num (u32 LE)]`.
pub const ACCOUNT_SEED: &[u8] = b"account";
/// Token balance slots per account.
pub const MAX_TOKEN_POSITIONS: usize = 8;
/// Perp position slots per account (used by the perp issue).
pub const MAX_PERP_POSITIONS: usize = 8;

/// One token balance.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TokenPosition {
    /// Signed index-scaled shares, I80F48: > 0 deposit shares (value = shares *
    /// deposit_index), < 0 borrow shares (debt = -shares * borrow_index).
    /// Always zero while `lending_disabled` is set.
    pub indexed_position: FixedBytes,
    /// Opted-out (non-lendable) balance, native units; earns nothing, never lent.
    pub non_lendable: u64,
    /// Bank token index this slot refers to (meaningful when `in_use`).
    pub token_index: u16,
    /// 1 when the slot is taken.
    pub in_use: u8,
    /// 1 when this account opted this token out of lending.
    pub lending_disabled: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 4],
    /// Reserved, zero.
    pub reserved: [u8; 16],
}
const _: () = assert!(core::mem::size_of::<TokenPosition>() == 48);

/// One perp position (filled by trading, part B of the perp issue; health reads it already).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PerpPosition {
    /// Perp market index.
    pub market_index: u16,
    /// 1 when the slot is taken.
    pub in_use: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 5],
    /// Base position in lots (signed).
    pub base_lots: i64,
    /// Quote position (cost basis incl. fees and funding), quote native, I80F48.
    pub quote_native: FixedBytes,
    /// Cumulative funding index snapshot, I80F48.
    pub funding_snapshot: FixedBytes,
    /// Base lots on resting bids.
    pub bids_base_lots: i64,
    /// Base lots on resting asks.
    pub asks_base_lots: i64,
    /// The market's `socialized_loss_index` at the last settlement of this slot, I80F48
    /// (quote native per base lot).
    pub loss_snapshot: FixedBytes,
    /// Reserved, zero.
    pub reserved: [u8; 16],
}
const _: () = assert!(core::mem::size_of::<PerpPosition>() == 96);

/// Bytes of [`PerpOpenOrders`].
pub const PERP_OPEN_ORDERS_SIZE: usize = 8 + 16 * carry_book::MAX_OPEN_ORDERS;

/// `carry_book::OpenOrders` as this account stores it (same bytes; [`PerpOpenOrders::book`]
/// casts): which entries hold an order, and where each rests.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PerpOpenOrders {
    /// Entries written, `entries[..len]` (an entry's order may since have left the book; the
    /// engine checks each entry against the book).
    pub len: u32,
    /// Explicit padding, zero.
    pub padding: u32,
    /// Where each order rests.
    pub entries: [PerpOpenOrderEntry; carry_book::MAX_OPEN_ORDERS],
}

/// `carry_book::OpenOrderEntry`: one resting order of the account.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PerpOpenOrderEntry {
    /// The order id's low word (side and pegged tags, sequence number).
    pub order_id_lo: u64,
    /// The order's slot in its side's order slab.
    pub slot: u32,
    /// The low 32 bits of the order's client id.
    pub client_order_id_lo: u32,
}

const _: () = assert!(core::mem::size_of::<PerpOpenOrders>() == PERP_OPEN_ORDERS_SIZE);
const _: () = assert!(
    core::mem::size_of::<PerpOpenOrders>() == core::mem::size_of::<carry_book::OpenOrders>()
);
const _: () = assert!(core::mem::align_of::<PerpOpenOrders>() == 8);

impl PerpOpenOrders {
    /// The engine's view of these bytes.
    pub fn book(&mut self) -> &mut carry_book::OpenOrders {
        bytemuck::cast_mut(self)
    }
    /// Read-only [`PerpOpenOrders::book`].
    pub fn book_ref(&self) -> &carry_book::OpenOrders {
        bytemuck::cast_ref(self)
    }
}

impl PerpPosition {
    /// The position as `carry_math::perp` sees it.
    pub fn position(&self) -> carry_math::perp::Position {
        carry_math::perp::Position {
            base_lots: self.base_lots,
            quote_native: self.quote_native.get(),
            funding_snapshot: self.funding_snapshot.get(),
        }
    }

    /// Socialized loss this slot owes and has not settled: `|base_lots| * (index -
    /// loss_snapshot)` for the market's `socialized_loss_index`, quote native, rounded up to
    /// whole units (as funding paid is; the index only rises).
    pub fn pending_socialized_loss(
        &self,
        loss_index: I80F48,
    ) -> core::result::Result<i64, carry_math::MathError> {
        if self.loss_snapshot.get() == loss_index {
            return Ok(0); // the usual case: nothing socialized since the last settlement
        }
        let lots = i64::try_from(self.base_lots.unsigned_abs())
            .map_err(|_| carry_math::MathError::Overflow)?;
        carry_math::funding::funding_owed(lots, self.loss_snapshot.get(), loss_index)
    }

    /// The position with its pending socialized loss added to the cost basis: what health
    /// and liquidation value (the slot itself changes only when it is settled).
    pub fn position_with_loss(
        &self,
        loss_index: I80F48,
    ) -> core::result::Result<carry_math::perp::Position, carry_math::MathError> {
        let mut p = self.position();
        let loss = self.pending_socialized_loss(loss_index)?;
        if loss != 0 {
            p.quote_native = p
                .quote_native
                .checked_add(I80F48::from_i64(loss))
                .ok_or(carry_math::MathError::Overflow)?;
        }
        Ok(p)
    }
}

/// A trader's cross-margin account.
#[account(zero_copy)]
#[derive(Debug)]
pub struct MarginAccount {
    /// Exchange.
    pub exchange: Pubkey,
    /// Owner: the only key that may withdraw, close, set the delegate or lending.
    pub owner: Pubkey,
    /// Delegate: may deposit and (with perp orders) trade, never withdraw. Default key = none.
    pub delegate: Pubkey,
    /// Account number in the PDA seeds.
    pub account_num: u32,
    /// PDA bump.
    pub bump: u8,
    /// Explicit padding, zero.
    pub padding: [u8; 3],
    /// Reserved, zero.
    pub reserved: [u8; 64],
    /// Token balances. A slot is in use while it has a balance or lending is disabled.
    pub tokens: [TokenPosition; MAX_TOKEN_POSITIONS],
    /// Perp positions (health reads them; trading fills them, part B of the perp issue).
    pub perps: [PerpPosition; MAX_PERP_POSITIONS],
    /// `perp_open_orders[i]`: the resting orders of `perps[i]`'s market on its book (at most
    /// `carry_book::MAX_OPEN_ORDERS`), the engine's owner index, kept here rather than in the
    /// book (and apart from the positions, which health copies). Emptied when the slot is
    /// taken or freed.
    pub perp_open_orders: [PerpOpenOrders; MAX_PERP_POSITIONS],
}

/// Size of `MarginAccount` without the 8-byte discriminator.
pub const MARGIN_ACCOUNT_SIZE: usize = 1320 + MAX_PERP_POSITIONS * PERP_OPEN_ORDERS_SIZE;
const _: () = assert!(core::mem::size_of::<MarginAccount>() == MARGIN_ACCOUNT_SIZE);
const _: () = assert!(core::mem::align_of::<MarginAccount>() == 8);

impl MarginAccount {
    /// True when `key` is the owner or the delegate.
    pub fn is_owner_or_delegate(&self, key: &Pubkey) -> bool {
        *key == self.owner || (self.delegate != Pubkey::default() && *key == self.delegate)
    }
    /// Slot index holding `token_index`.
    pub fn find_token(&self, token_index: u16) -> Option<usize> {
        self.tokens
            .iter()
            .position(|t| t.in_use != 0 && t.token_index == token_index)
    }
    /// Slot holding `token_index`, taking a free slot if there is none.
    pub fn find_or_create_token(&mut self, token_index: u16) -> Result<usize> {
        if let Some(i) = self.find_token(token_index) {
            return Ok(i);
        }
        let i = self
            .tokens
            .iter()
            .position(|t| t.in_use == 0)
            .ok_or_else(|| error!(CarryError::NoFreeTokenSlot))?;
        let t = &mut self.tokens[i];
        *t = TokenPosition::default();
        t.token_index = token_index;
        t.in_use = 1;
        Ok(i)
    }
    /// Free the slot when it holds nothing and has no lending preference.
    pub fn release_if_empty(&mut self, slot: usize) {
        let t = &mut self.tokens[slot];
        if t.indexed_position.get() == I80F48::ZERO
            && t.non_lendable == 0
            && t.lending_disabled == 0
        {
            *t = TokenPosition::default();
        }
    }
    /// True when no token or perp slot holds anything (lending preferences do not count).
    pub fn is_empty(&self) -> bool {
        self.tokens
            .iter()
            .all(|t| t.indexed_position.get() == I80F48::ZERO && t.non_lendable == 0)
            && self.perps.iter().all(|p| p.in_use == 0)
    }
    /// Perp slot index holding `market_index`.
    pub fn find_perp(&self, market_index: u16) -> Option<usize> {
        self.perps
            .iter()
            .position(|p| p.in_use != 0 && p.market_index == market_index)
    }
    /// Number of perp slots in use (each needs a (perp market, oracle) pair for health).
    pub fn active_perp_count(&self) -> usize {
        self.perps.iter().filter(|p| p.in_use != 0).count()
    }
    /// Number of token slots in use (each needs a (bank, oracle) pair for health).
    pub fn active_token_count(&self) -> usize {
        self.tokens.iter().filter(|t| t.in_use != 0).count()
    }
}
