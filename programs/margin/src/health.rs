//! Accounts -> `carry_math::health` inputs.
//!
//! Health needs every balance's bank and oracle and every perp position's market and oracle.
//! They are passed as remaining accounts, in pairs: `(bank, oracle)` for token slots and
//! `(perp market, oracle)` for perp slots (see [`health_terms`]). A pair's first account says
//! what it is: it must be owned by this program and carry the `Bank` or the `PerpMarket`
//! discriminator (anything else: `HealthAccountsMismatch`). Pairs may come in any order; the
//! SDK puts the bank pairs first. Every pair's bank or market must belong to the account's
//! exchange; each oracle must be that bank's or market's oracle and pass its age and
//! confidence limits. Banks and markets passed writable get their stable price advanced and
//! stored. Balances are valued with each bank's indices accrued to now in memory
//! (`Bank::indices_at`), so health never lags behind a crank.
//!
//! A perp term ([`perp_term`]) is `carry_math::perp::perp_health` of the position (with its
//! resting bids and asks, pending funding to the market's stored index, the market's PnL pool
//! and unpaid-profit haircut) computed twice, at the oracle price and at the market's stable
//! price (both per base lot); the term's init is the lower of the two inits and its maint the
//! lower of the two maints. So a manipulated oracle moves a perp term only as far as the stable
//! price lets it (invariant 7), in whichever direction hurts the account: a long's PnL at the
//! lower price, a short's at the higher, and the margin requirement at whichever is worse.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use carry_math::bank_math::position_native;
use carry_math::health::{HealthTerms, HealthType, PerpTerm, TokenTerm};
use carry_math::oracle::{asset_price, liab_price};
use carry_math::perp::{perp_health, PerpHealthInputs};
use carry_math::{MathError, I80F48};
use core::cell::{Ref, RefMut};

use crate::error::{CarryError, MathResultExt};
use crate::oracle::{
    advanced_stable_price, bank_oracle_price, perp_advanced_stable_price, perp_oracle_price,
};
use crate::state::{
    Bank, MarginAccount, PerpMarket, PerpPosition, BANK_SIZE, MAX_PERP_POSITIONS,
    MAX_TOKEN_POSITIONS, PERP_MARKET_SIZE,
};

fn check_program_account<T: Discriminator>(ai: &AccountInfo, size: usize) -> Result<()> {
    require_keys_eq!(*ai.owner, crate::ID, CarryError::HealthAccountsMismatch);
    let data = ai.try_borrow_data()?;
    require!(
        data.len() >= 8 + size && &data[..8] == T::DISCRIMINATOR,
        CarryError::HealthAccountsMismatch
    );
    Ok(())
}

/// Borrow a `Bank` from a raw account (owner and discriminator checked).
pub fn load_bank<'a>(ai: &'a AccountInfo) -> Result<Ref<'a, Bank>> {
    check_program_account::<Bank>(ai, BANK_SIZE)?;
    let data = ai.try_borrow_data()?;
    Ok(Ref::map(data, |d| {
        bytemuck::from_bytes(&d[8..8 + BANK_SIZE])
    }))
}

/// Mutably borrow a `Bank` from a raw account (owner and discriminator checked).
pub fn load_bank_mut<'a>(ai: &'a AccountInfo) -> Result<RefMut<'a, Bank>> {
    check_program_account::<Bank>(ai, BANK_SIZE)?;
    let data = ai.try_borrow_mut_data()?;
    Ok(RefMut::map(data, |d| {
        bytemuck::from_bytes_mut(&mut d[8..8 + BANK_SIZE])
    }))
}

/// Borrow a `PerpMarket` from a raw account (owner and discriminator checked).
pub fn load_perp_market<'a>(ai: &'a AccountInfo) -> Result<Ref<'a, PerpMarket>> {
    check_program_account::<PerpMarket>(ai, PERP_MARKET_SIZE)?;
    let data = ai.try_borrow_data()?;
    Ok(Ref::map(data, |d| {
        bytemuck::from_bytes(&d[8..8 + PERP_MARKET_SIZE])
    }))
}

/// Mutably borrow a `PerpMarket` from a raw account (owner and discriminator checked).
pub fn load_perp_market_mut<'a>(ai: &'a AccountInfo) -> Result<RefMut<'a, PerpMarket>> {
    check_program_account::<PerpMarket>(ai, PERP_MARKET_SIZE)?;
    let data = ai.try_borrow_mut_data()?;
    Ok(RefMut::map(data, |d| {
        bytemuck::from_bytes_mut(&mut d[8..8 + PERP_MARKET_SIZE])
    }))
}

/// Whether a health pair's first account is a perp market (else it must be a bank, which the
/// bank loader checks). Only the owner and the discriminator are looked at; the loaders check
/// the length.
fn is_perp_market(ai: &AccountInfo) -> Result<bool> {
    if *ai.owner != crate::ID {
        return Ok(false);
    }
    let data = ai.try_borrow_data()?;
    Ok(data.len() >= 8 && &data[..8] == PerpMarket::DISCRIMINATOR)
}

/// The health term of one perp slot of `market`, at `oracle` and at `stable` (both quote
/// native per base lot, > 0): `perp_health` at each price, the lower init and the lower maint
/// (see the module docs). Pure: the SDK calls it with decoded accounts and gets the chain's
/// numbers.
pub fn perp_term(
    market: &PerpMarket,
    slot: &PerpPosition,
    oracle: I80F48,
    stable: I80F48,
) -> core::result::Result<PerpTerm, MathError> {
    let tiers = market.params.leverage_tiers()?;
    let mut inputs = PerpHealthInputs {
        position: slot.position_with_loss(market.socialized_loss_index.get())?,
        bids_base_lots: slot.bids_base_lots,
        asks_base_lots: slot.asks_base_lots,
        funding_index: market.funding_index.get(),
        price: oracle,
        tiers: &tiers,
        pnl_pool_native: market.pnl_pool_native,
        unpaid_pnl_haircut_ppm: market.params.unpaid_pnl_haircut_ppm,
    };
    let at_oracle = perp_health(&inputs)?;
    if stable == oracle {
        return Ok(at_oracle.term(market.market_index));
    }
    inputs.price = stable;
    let at_stable = perp_health(&inputs)?;
    Ok(PerpTerm {
        market_index: market.market_index,
        init: at_oracle.init.min(at_stable.init),
        maint: at_oracle.maint.min(at_stable.maint),
        pnl: at_oracle.pnl,
    })
}

/// Health (init and maint) of `account` in quote-native units.
#[derive(Clone, Copy, Debug)]
pub struct HealthResult {
    /// Initial health.
    pub init: I80F48,
    /// Maintenance health.
    pub maint: I80F48,
}

/// Most `(bank, oracle)` pairs a health computation accepts.
pub const MAX_HEALTH_PAIRS: usize = MAX_TOKEN_POSITIONS + 2;
/// Most `(perp market, oracle)` pairs a health computation accepts.
pub const MAX_PERP_HEALTH_PAIRS: usize = MAX_PERP_POSITIONS + 2;

/// Build the health terms of `account` from `(bank, oracle)` and `(perp market, oracle)`
/// pairs.
///
/// Pairs may come in any order; every token slot in use needs exactly one pair whose bank has
/// its token index, every perp slot in use exactly one pair whose market has its market index
/// (else `HealthAccountsMismatch`); pairs of banks or markets the account does not hold are
/// ignored (so a client may pass the union of what it holds before and after an instruction),
/// but they must still be of this exchange. At most [`MAX_HEALTH_PAIRS`] bank pairs and
/// [`MAX_PERP_HEALTH_PAIRS`] perp pairs. With `persist_stable`, writable banks and markets of
/// used pairs get their advanced stable price stored.
pub fn health_terms(
    account: &MarginAccount,
    exchange: &Pubkey,
    quote_decimals: u8,
    pairs: &[AccountInfo],
    now: i64,
    persist_stable: bool,
) -> Result<Box<HealthTerms>> {
    require!(
        pairs.len() & 1 == 0 && pairs.len() <= 2 * (MAX_HEALTH_PAIRS + MAX_PERP_HEALTH_PAIRS),
        CarryError::HealthAccountsMismatch
    );
    // Count the kinds first, so that a list too long is refused before any pair is read (as
    // before perps existed).
    let mut perp_pairs = 0usize;
    for pair in pairs.chunks_exact(2) {
        perp_pairs += is_perp_market(&pair[0])? as usize;
    }
    require!(
        perp_pairs <= MAX_PERP_HEALTH_PAIRS && pairs.len() / 2 - perp_pairs <= MAX_HEALTH_PAIRS,
        CarryError::HealthAccountsMismatch
    );
    let mut matched = [false; MAX_TOKEN_POSITIONS];
    let mut matched_perps = [false; MAX_PERP_POSITIONS];
    let mut terms = Box::new(HealthTerms::new());
    for pair in pairs.chunks_exact(2) {
        if is_perp_market(&pair[0])? {
            let term = perp_pair_term(
                account,
                exchange,
                quote_decimals,
                pair,
                now,
                persist_stable,
                &mut matched_perps,
            )?;
            if let Some(t) = term {
                terms.push_perp(t).named()?;
            }
            continue;
        }
        let (bank_ai, oracle_ai) = (&pair[0], &pair[1]);
        let (term, stable) = {
            let bank = load_bank(bank_ai)?;
            require_keys_eq!(bank.exchange, *exchange, CarryError::HealthAccountsMismatch);
            let Some(slot_idx) = account.find_token(bank.token_index) else {
                continue;
            };
            require!(!matched[slot_idx], CarryError::HealthAccountsMismatch);
            matched[slot_idx] = true;
            let slot = &account.tokens[slot_idx];
            let oracle = bank_oracle_price(&bank, oracle_ai, now, quote_decimals)?;
            let stable = advanced_stable_price(&bank, oracle, now)?;
            let balance = if slot.lending_disabled != 0 {
                I80F48::from_u64(slot.non_lendable)
            } else {
                let (di, bi) = bank.indices_at(now)?;
                position_native(slot.indexed_position.get(), di, bi).named()?
            };
            let term = TokenTerm {
                token_index: slot.token_index,
                balance,
                asset_price: asset_price(oracle, stable),
                liab_price: liab_price(oracle, stable),
                weights: bank.params.weights(),
            };
            (term, stable)
        };
        if persist_stable && bank_ai.is_writable {
            let mut bank = load_bank_mut(bank_ai)?;
            bank.stable_price.set(stable);
            bank.stable_price_ts = now;
        }
        terms.push_token(term).named()?;
    }
    let all_matched = account
        .tokens
        .iter()
        .zip(matched.iter())
        .all(|(t, m)| t.in_use == 0 || *m)
        && account
            .perps
            .iter()
            .zip(matched_perps.iter())
            .all(|(p, m)| p.in_use == 0 || *m);
    require!(all_matched, CarryError::HealthAccountsMismatch);
    Ok(terms)
}

/// The term of one `(perp market, oracle)` pair; `None` when the account has no slot in the
/// market (the pair is checked to be of this exchange, nothing else).
fn perp_pair_term(
    account: &MarginAccount,
    exchange: &Pubkey,
    quote_decimals: u8,
    pair: &[AccountInfo],
    now: i64,
    persist_stable: bool,
    matched: &mut [bool; MAX_PERP_POSITIONS],
) -> Result<Option<PerpTerm>> {
    let (market_ai, oracle_ai) = (&pair[0], &pair[1]);
    let (term, stable) = {
        let market = load_perp_market(market_ai)?;
        require_keys_eq!(
            market.exchange,
            *exchange,
            CarryError::HealthAccountsMismatch
        );
        let Some(slot_idx) = account.find_perp(market.market_index) else {
            return Ok(None);
        };
        require!(!matched[slot_idx], CarryError::HealthAccountsMismatch);
        matched[slot_idx] = true;
        let oracle = perp_oracle_price(&market, oracle_ai, now, quote_decimals)?;
        let stable = perp_advanced_stable_price(&market, oracle, now)?;
        let term = perp_term(&market, &account.perps[slot_idx], oracle, stable).named()?;
        (term, stable)
    };
    if persist_stable && market_ai.is_writable {
        let mut market = load_perp_market_mut(market_ai)?;
        market.stable_price.set(stable);
        market.stable_price_ts = now;
    }
    Ok(Some(term))
}

/// Init and maint health of `account`.
pub fn compute_health(
    account: &MarginAccount,
    exchange: &Pubkey,
    quote_decimals: u8,
    pairs: &[AccountInfo],
    now: i64,
    persist_stable: bool,
) -> Result<HealthResult> {
    let terms = health_terms(
        account,
        exchange,
        quote_decimals,
        pairs,
        now,
        persist_stable,
    )?;
    Ok(HealthResult {
        init: terms.health(HealthType::Init).named()?,
        maint: terms.health(HealthType::Maint).named()?,
    })
}
