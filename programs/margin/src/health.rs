//! Accounts -> `carry_math::health` inputs.
//!
//! Health needs every balance's bank and oracle. They are passed as remaining accounts,
//! `(bank, oracle)` pairs, at least one per token slot in use (see [`health_terms`]). Each bank
//! must be owned by this program with the `Bank` discriminator and belong to the account's
//! exchange; each oracle must be that bank's oracle and pass its age and confidence limits.
//! Banks passed writable get their stable price advanced and stored. Balances are valued with
//! each bank's indices accrued to now in memory (`Bank::indices_at`), so health never lags
//! behind a crank.

use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use carry_math::bank_math::position_native;
use carry_math::health::{HealthTerms, HealthType, TokenTerm};
use carry_math::oracle::{asset_price, liab_price};
use carry_math::I80F48;
use core::cell::{Ref, RefMut};

use crate::error::{CarryError, MathResultExt};
use crate::oracle::{advanced_stable_price, bank_oracle_price};
use crate::state::{Bank, MarginAccount, BANK_SIZE, MAX_TOKEN_POSITIONS};

fn check_bank_account(ai: &AccountInfo) -> Result<()> {
    require_keys_eq!(*ai.owner, crate::ID, CarryError::HealthAccountsMismatch);
    let data = ai.try_borrow_data()?;
    require!(
        data.len() >= 8 + BANK_SIZE && &data[..8] == Bank::DISCRIMINATOR,
        CarryError::HealthAccountsMismatch
    );
    Ok(())
}

/// Borrow a `Bank` from a raw account (owner and discriminator checked).
pub fn load_bank<'a>(ai: &'a AccountInfo) -> Result<Ref<'a, Bank>> {
    check_bank_account(ai)?;
    let data = ai.try_borrow_data()?;
    Ok(Ref::map(data, |d| {
        bytemuck::from_bytes(&d[8..8 + BANK_SIZE])
    }))
}

/// Mutably borrow a `Bank` from a raw account (owner and discriminator checked).
pub fn load_bank_mut<'a>(ai: &'a AccountInfo) -> Result<RefMut<'a, Bank>> {
    check_bank_account(ai)?;
    let data = ai.try_borrow_mut_data()?;
    Ok(RefMut::map(data, |d| {
        bytemuck::from_bytes_mut(&mut d[8..8 + BANK_SIZE])
    }))
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

/// Build the health terms of `account` from `(bank, oracle)` pairs.
///
/// Pairs may come in any order; every token slot in use needs exactly one pair whose bank has
/// its token index (else `HealthAccountsMismatch`); pairs of banks the account does not hold are
/// ignored (so a client may pass the union of its banks before and after an instruction), but
/// they must still be banks of this exchange. With `persist_stable`, writable banks of used
/// pairs get their advanced stable price stored.
pub fn health_terms(
    account: &MarginAccount,
    exchange: &Pubkey,
    quote_decimals: u8,
    pairs: &[AccountInfo],
    now: i64,
    persist_stable: bool,
) -> Result<Box<HealthTerms>> {
    require!(
        pairs.len() & 1 == 0 && pairs.len() <= 2 * MAX_HEALTH_PAIRS,
        CarryError::HealthAccountsMismatch
    );
    let mut matched = [false; MAX_TOKEN_POSITIONS];
    let mut terms = Box::new(HealthTerms::new());
    for pair in pairs.chunks_exact(2) {
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
        .all(|(t, m)| t.in_use == 0 || *m);
    require!(all_matched, CarryError::HealthAccountsMismatch);
    Ok(terms)
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
