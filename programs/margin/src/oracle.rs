//! Pyth price accounts -> `carry_math::oracle`.
//!
//! The bank stores its oracle's pubkey; an account passed as a bank's oracle must have that
//! key (`OracleMismatch`), then it is read with pyth-sdk-solana's loader, which checks the
//! magic, version and account type (`OracleInvalid`). The account owner is not checked: the
//! admin chose the key when registering the bank.

use anchor_lang::prelude::*;
use carry_math::oracle::{self as om, RawPrice};
use carry_math::I80F48;
use pyth_sdk_solana::state::SolanaPriceAccount;

use crate::error::{CarryError, MathResultExt};
use crate::state::Bank;

/// Read the latest aggregate price (or the previous trading one if the aggregate is not
/// trading, as pyth-sdk-solana does) without validating it.
pub fn read_raw_price(oracle: &AccountInfo) -> Result<RawPrice> {
    let feed = SolanaPriceAccount::account_info_to_feed(oracle)
        .map_err(|_| error!(CarryError::OracleInvalid))?;
    let p = feed.get_price_unchecked();
    Ok(RawPrice {
        price: p.price,
        conf: p.conf,
        expo: p.expo,
        publish_time: p.publish_time,
    })
}

/// Validated oracle price of `bank` in quote-native per token-native.
pub fn bank_oracle_price(
    bank: &Bank,
    oracle: &AccountInfo,
    now: i64,
    quote_decimals: u8,
) -> Result<I80F48> {
    require_keys_eq!(*oracle.key, bank.oracle, CarryError::OracleMismatch);
    let raw = read_raw_price(oracle)?;
    om::checked_native_price(
        &raw,
        now,
        &bank.params.oracle_limits(),
        bank.decimals,
        quote_decimals,
    )
    .named()
}

/// Stable price of `bank` advanced to `now` toward `oracle_price` (not stored).
pub fn advanced_stable_price(bank: &Bank, oracle_price: I80F48, now: i64) -> Result<I80F48> {
    let dt = now.saturating_sub(bank.stable_price_ts).max(0) as u64;
    om::update_stable_price(
        bank.stable_price.get(),
        oracle_price,
        dt,
        bank.params.stable_max_move_ppm_per_hour as u64,
    )
    .named()
}

/// Advance and store the stable price.
pub fn update_stable_price(bank: &mut Bank, oracle_price: I80F48, now: i64) -> Result<()> {
    let s = advanced_stable_price(bank, oracle_price, now)?;
    bank.stable_price.set(s);
    bank.stable_price_ts = now;
    Ok(())
}

/// Optional stable-price touch for instructions that do not need a price (deposit,
/// set_token_lending): when the first remaining account is given it must be the bank's oracle
/// (`OracleMismatch`); a valid price advances and stores the stable price, an invalid one is
/// skipped (it never blocks the instruction).
pub fn touch_stable_price(
    bank: &mut Bank,
    remaining: &[AccountInfo],
    now: i64,
    quote_decimals: u8,
) -> Result<()> {
    let Some(oracle) = remaining.first() else {
        return Ok(());
    };
    require_keys_eq!(*oracle.key, bank.oracle, CarryError::OracleMismatch);
    if let Ok(price) = bank_oracle_price(bank, oracle, now, quote_decimals) {
        update_stable_price(bank, price, now)?;
    }
    Ok(())
}
