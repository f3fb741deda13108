//! Oracle accounts -> `carry_math::oracle`.
//!
//! Two formats, chosen per bank ([`OracleKind`]):
//! - **Pyth v2 price accounts** (Pyth's legacy push oracle): owner must be the Pyth oracle
//!   program ([`PYTH_V2_PROGRAM_IDS`]), then pyth-sdk-solana's loader checks magic, version and
//!   account type.
//! - **Pyth pull `PriceUpdateV2`** accounts (what Solana mainnet protocols read today): owner must
//!   be the Pyth receiver program (`pyth_solana_receiver_sdk::ID`), the Anchor discriminator
//!   must match, the update must be fully verified (all Wormhole guardian signatures checked),
//!   and its feed id must be the bank's.
//!
//! In both cases the account's key must be the one stored in the bank or perp market
//! (`OracleMismatch`), and the price must pass its age and confidence limits. Banks and perp
//! markets share the reading through [`OracleSource`] (key, format, feed id) and
//! [`oracle_price`]; a perp market's price is then scaled to quote native per base lot
//! ([`perp_oracle_price`]).

use anchor_lang::prelude::*;
use carry_math::oracle::{self as om, RawPrice, StableLimits};
use carry_math::I80F48;
use pyth_sdk_solana::state::SolanaPriceAccount;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use crate::error::OptionExt;
use crate::error::{CarryError, MathResultExt};
use crate::state::{Bank, OracleConfig, OracleKind, PerpMarket};

/// Programs that own Pyth v2 price accounts: Solana mainnet-beta, then devnet.
pub const PYTH_V2_PROGRAM_IDS: [Pubkey; 2] = [
    pubkey!("FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi9epH"),
    pubkey!("gSbePebfvPy7tRqimPoVecS2UsBvYv46ynrzWocc92s"),
];

/// The program that owns `PriceUpdateV2` accounts (Pyth's Solana receiver).
pub const PYTH_RECEIVER_PROGRAM_ID: Pubkey = pyth_solana_receiver_sdk::ID;

/// Check an oracle configuration given to `register_bank`.
pub fn check_oracle_config(cfg: &OracleConfig) -> Result<()> {
    match cfg.kind {
        OracleKind::PythV2 => require!(cfg.feed_id == [0u8; 32], CarryError::InvalidParameter),
        OracleKind::PythPull => require!(cfg.feed_id != [0u8; 32], CarryError::InvalidParameter),
    }
    Ok(())
}

/// Read a Pyth v2 price account: the latest aggregate price (or the previous trading one if
/// the aggregate is not trading, as pyth-sdk-solana does), not validated.
pub fn read_pyth_v2(oracle: &AccountInfo) -> Result<RawPrice> {
    require!(
        PYTH_V2_PROGRAM_IDS.contains(oracle.owner),
        CarryError::OracleWrongOwner
    );
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

/// Read a Pyth pull `PriceUpdateV2` account for `feed_id`: owner, discriminator, full
/// verification and feed id checked; age and confidence are checked by the caller.
pub fn read_pyth_pull(oracle: &AccountInfo, feed_id: &[u8; 32]) -> Result<RawPrice> {
    require_keys_eq!(
        *oracle.owner,
        PYTH_RECEIVER_PROGRAM_ID,
        CarryError::OracleWrongOwner
    );
    let update = {
        let data = oracle.try_borrow_data()?;
        let mut bytes: &[u8] = &data;
        PriceUpdateV2::try_deserialize(&mut bytes).map_err(|_| error!(CarryError::OracleInvalid))?
    };
    require!(
        update.verification_level == VerificationLevel::Full,
        CarryError::OracleNotFullyVerified
    );
    let m = &update.price_message;
    require!(m.feed_id == *feed_id, CarryError::OracleFeedMismatch);
    Ok(RawPrice {
        price: m.price,
        conf: m.conf,
        expo: m.exponent,
        publish_time: m.publish_time,
    })
}

/// Which oracle a bank or perp market reads: the stored key, format and feed id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleSource {
    /// The oracle account's key.
    pub key: Pubkey,
    /// Its format.
    pub kind: OracleKind,
    /// Feed id a `PriceUpdateV2` must carry (zero for Pyth v2).
    pub feed_id: [u8; 32],
}

/// Read `oracle` as `src`'s oracle (key, owner, format and feed checked), not validated.
pub fn read_oracle(src: &OracleSource, oracle: &AccountInfo) -> Result<RawPrice> {
    require_keys_eq!(*oracle.key, src.key, CarryError::OracleMismatch);
    match src.kind {
        OracleKind::PythV2 => read_pyth_v2(oracle),
        OracleKind::PythPull => read_pyth_pull(oracle, &src.feed_id),
    }
}

/// Validated price of `src`'s oracle (age and confidence within `limits`) in quote native per
/// native unit of an asset with `token_decimals`.
pub fn oracle_price(
    src: &OracleSource,
    oracle: &AccountInfo,
    now: i64,
    limits: &om::OracleLimits,
    token_decimals: u8,
    quote_decimals: u8,
) -> Result<I80F48> {
    let raw = read_oracle(src, oracle)?;
    om::checked_native_price(&raw, now, limits, token_decimals, quote_decimals).named()
}

/// Read `oracle` as `bank`'s oracle (key, owner, format and feed checked), not validated.
pub fn read_bank_oracle(bank: &Bank, oracle: &AccountInfo) -> Result<RawPrice> {
    read_oracle(&bank.oracle_source()?, oracle)
}

/// Validated oracle price of `bank` in quote-native per token-native.
pub fn bank_oracle_price(
    bank: &Bank,
    oracle: &AccountInfo,
    now: i64,
    quote_decimals: u8,
) -> Result<I80F48> {
    oracle_price(
        &bank.oracle_source()?,
        oracle,
        now,
        &bank.params.oracle_limits(),
        bank.decimals,
        quote_decimals,
    )
}

/// Validated oracle price of a perp market in quote native per **base lot**: the native price
/// (`price * 10^(expo + quote_decimals - base_decimals)`, rounded down) times the lot size
/// (exact). `InvalidPrice` when it rounds to zero (a lot worth less than 2^-48 quote native).
pub fn perp_oracle_price(
    market: &PerpMarket,
    oracle: &AccountInfo,
    now: i64,
    quote_decimals: u8,
) -> Result<I80F48> {
    let native = oracle_price(
        &market.oracle_source()?,
        oracle,
        now,
        &market.params.oracle_limits(),
        market.base_decimals,
        quote_decimals,
    )?;
    let per_lot = native
        .checked_mul_int(
            i64::try_from(market.base_lot_size).map_err(|_| error!(CarryError::MathOverflow))?,
        )
        .ovf()?;
    require!(per_lot.is_positive(), CarryError::InvalidPrice);
    Ok(per_lot)
}

/// Stable price of a perp market (per lot) advanced to `now` toward `oracle_per_lot` (not
/// stored).
pub fn perp_advanced_stable_price(
    market: &PerpMarket,
    oracle_per_lot: I80F48,
    now: i64,
) -> Result<I80F48> {
    advance_stable(
        market.stable_price.get(),
        market.stable_price_ts,
        oracle_per_lot,
        now,
        &market.params.stable_limits(),
    )
}

/// A stable price advanced from `(stable, stable_ts)` to `now` toward `oracle_price`.
pub fn advance_stable(
    stable: I80F48,
    stable_ts: i64,
    oracle_price: I80F48,
    now: i64,
    limits: &StableLimits,
) -> Result<I80F48> {
    let dt = now.saturating_sub(stable_ts).max(0) as u64;
    om::update_stable_price(stable, oracle_price, dt, limits).named()
}

/// Stable price of `bank` advanced to `now` toward `oracle_price` (not stored).
pub fn advanced_stable_price(bank: &Bank, oracle_price: I80F48, now: i64) -> Result<I80F48> {
    advance_stable(
        bank.stable_price.get(),
        bank.stable_price_ts,
        oracle_price,
        now,
        &bank.params.stable_limits(),
    )
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

/// The market's oracle/stable guard (`PerpMarketParams::oracle_stable_guard_bps`, 0 = off):
/// `OracleStableDivergence` when `|oracle - stable| > stable x guard` (both quote native per
/// lot). Liquidation and auto-deleveraging call it, so a pumped oracle cannot be realized by
/// taking a position over at it.
pub fn check_oracle_stable_guard(
    market: &PerpMarket,
    oracle: I80F48,
    stable: I80F48,
) -> Result<()> {
    let guard = market.params.oracle_stable_guard_bps;
    if guard == 0 {
        return Ok(());
    }
    let diff = oracle
        .checked_sub(stable)
        .and_then(|d| d.checked_abs())
        .and_then(|d| d.checked_mul_int(10_000))
        .ok_or(error!(CarryError::MathOverflow))?;
    let limit = stable
        .checked_mul_int(guard as i64)
        .ok_or(error!(CarryError::MathOverflow))?;
    require!(diff <= limit, CarryError::OracleStableDivergence);
    Ok(())
}
