//! Off-chain health of a margin account, computed by the margin program's own code
//! (`carry_margin::health::health_terms`) over the fetched accounts, so the SDK's figure is the
//! chain's to the bit for the same accounts and time; plus the projections a trader checks
//! before sending: the most a token can be withdrawn or borrowed, and what balances earn or pay.

use anchor_lang::prelude::{AccountInfo, Pubkey};
use carry_margin::state::{Bank, MarginAccount, PerpMarket};
use carry_math::bank_math::position_native;
use carry_math::health::{HealthTerms, HealthType, TokenTerm};
use carry_math::interest::utilization;
use carry_math::oracle::{asset_price, liab_price};
use carry_math::I80F48;
use solana_sdk::account::Account;

use crate::client::{Chain, ClientError};

/// A bank with its oracle account, as fetched.
#[derive(Clone, Debug)]
pub struct BankSnapshot {
    /// Bank key.
    pub key: Pubkey,
    /// Bank account (raw, owner = margin program).
    pub account: Account,
    /// Decoded bank.
    pub bank: Bank,
    /// Oracle account (raw).
    pub oracle: Account,
}

/// A perp market with its oracle account, as fetched.
#[derive(Clone, Debug)]
pub struct PerpSnapshot {
    /// Market key.
    pub key: Pubkey,
    /// Market account (raw, owner = margin program).
    pub account: Account,
    /// Decoded market.
    pub market: PerpMarket,
    /// Oracle account (raw).
    pub oracle: Account,
}

/// Fetch every perp market of `markets` with its oracle account.
pub async fn snapshot_perp_markets(
    chain: &dyn Chain,
    markets: &[(Pubkey, PerpMarket)],
) -> Result<Vec<PerpSnapshot>, ClientError> {
    let mut out = vec![];
    for (key, market) in markets {
        let account = chain
            .account(key)
            .await?
            .ok_or_else(|| ClientError::Account(format!("perp market {key} not found")))?;
        let oracle = chain
            .account(&market.oracle)
            .await?
            .ok_or_else(|| ClientError::Account(format!("oracle {} not found", market.oracle)))?;
        out.push(PerpSnapshot {
            key: *key,
            account,
            market: *market,
            oracle,
        });
    }
    Ok(out)
}

/// Init and maint health, quote native.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Health {
    /// Initial health (>= 0 to add risk or withdraw).
    pub init: I80F48,
    /// Maintenance health (< 0: liquidatable).
    pub maint: I80F48,
}

/// Fetch every bank of `banks` with its oracle account.
pub async fn snapshot_banks(
    chain: &dyn Chain,
    banks: &[(Pubkey, Bank)],
) -> Result<Vec<BankSnapshot>, ClientError> {
    let mut out = vec![];
    for (key, bank) in banks {
        let account = chain
            .account(key)
            .await?
            .ok_or_else(|| ClientError::Account(format!("bank {key} not found")))?;
        let oracle = chain
            .account(&bank.oracle)
            .await?
            .ok_or_else(|| ClientError::Account(format!("oracle {} not found", bank.oracle)))?;
        out.push(BankSnapshot {
            key: *key,
            account,
            bank: *bank,
            oracle,
        });
    }
    Ok(out)
}

/// The health terms of `account` at unix time `now`, by the program's code, from bank and
/// perp market snapshots (pass every bank and market the account may hold; others are
/// ignored, as on chain).
pub fn health_terms(
    account: &MarginAccount,
    quote_decimals: u8,
    banks: &[BankSnapshot],
    perps: &[PerpSnapshot],
    now: i64,
) -> Result<Box<HealthTerms>, String> {
    // AccountInfos over copies of the fetched accounts, as the runtime would pass them; only
    // the pairs of what the account holds (the program caps the list)
    let mut store: Vec<(Pubkey, Account, Pubkey, Account)> = banks
        .iter()
        .filter(|b| account.find_token(b.bank.token_index).is_some())
        .map(|b| (b.key, b.account.clone(), b.bank.oracle, b.oracle.clone()))
        .collect();
    store.extend(
        perps
            .iter()
            .filter(|p| {
                account
                    .perps
                    .iter()
                    .any(|x| x.in_use != 0 && x.market_index == p.market.market_index)
            })
            .map(|p| (p.key, p.account.clone(), p.market.oracle, p.oracle.clone())),
    );
    let mut infos: Vec<AccountInfo> = vec![];
    for (bk, ba, ok, oa) in store.iter_mut() {
        infos.push(AccountInfo::new(
            bk,
            false,
            false,
            &mut ba.lamports,
            &mut ba.data,
            &ba.owner,
            ba.executable,
            ba.rent_epoch,
        ));
        infos.push(AccountInfo::new(
            ok,
            false,
            false,
            &mut oa.lamports,
            &mut oa.data,
            &oa.owner,
            oa.executable,
            oa.rent_epoch,
        ));
    }
    carry_margin::health::health_terms(
        account,
        &account.exchange,
        quote_decimals,
        &infos,
        now,
        false,
    )
    .map_err(|e| e.to_string())
}

/// Init and maint health of `account` at `now`.
pub fn health(
    account: &MarginAccount,
    quote_decimals: u8,
    banks: &[BankSnapshot],
    perps: &[PerpSnapshot],
    now: i64,
) -> Result<Health, String> {
    let t = health_terms(account, quote_decimals, banks, perps, now)?;
    Ok(Health {
        init: t.health(HealthType::Init).map_err(|e| format!("{e:?}"))?,
        maint: t.health(HealthType::Maint).map_err(|e| format!("{e:?}"))?,
    })
}

/// What limits a withdrawal: initial health and the bank's lendable cash, native units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxWithdraw {
    /// Most that keeps initial health >= 0 (deposit first, then a borrow).
    pub by_health: u64,
    /// The bank's lendable cash (only depositors' tokens not lent out can leave the pool).
    pub by_cash: u64,
}

impl MaxWithdraw {
    /// The binding limit.
    pub fn amount(&self) -> u64 {
        self.by_health.min(self.by_cash)
    }
}

/// Most native units of `bank`'s token that can leave `account` now (`vault_amount`: the
/// vault's token balance).
pub fn max_withdraw(
    account: &MarginAccount,
    quote_decimals: u8,
    (banks, perps): (&[BankSnapshot], &[PerpSnapshot]),
    bank: &BankSnapshot,
    vault_amount: u64,
    now: i64,
) -> Result<MaxWithdraw, String> {
    let terms = health_terms(account, quote_decimals, banks, perps, now)?;
    let b = &bank.bank;
    let price = crate::health::oracle_price(bank, now, quote_decimals)?;
    let absent = TokenTerm {
        token_index: b.token_index,
        balance: I80F48::ZERO,
        asset_price: asset_price(price, b.stable_price.get()),
        liab_price: liab_price(price, b.stable_price.get()),
        weights: b.params.weights(),
    };
    let by_health = terms
        .max_withdraw(b.token_index, Some(&absent))
        .map_err(|e| format!("{e:?}"))?
        .to_u64(carry_math::Round::Floor)
        .unwrap_or(0);
    let by_cash = b.lendable_cash(vault_amount).map_err(|e| e.to_string())?;
    Ok(MaxWithdraw { by_health, by_cash })
}

/// The perp market's validated oracle price, quote native per base lot, at `now` (what the
/// program marks positions, settles PnL and margins orders with).
pub fn perp_oracle_price(p: &PerpSnapshot, now: i64, quote_decimals: u8) -> Result<I80F48, String> {
    let mut oracle = p.oracle.clone();
    let key = p.market.oracle;
    let info = AccountInfo::new(
        &key,
        false,
        false,
        &mut oracle.lamports,
        &mut oracle.data,
        &oracle.owner,
        oracle.executable,
        oracle.rent_epoch,
    );
    carry_margin::oracle::perp_oracle_price(&p.market, &info, now, quote_decimals)
        .map_err(|e| e.to_string())
}

/// The bank's validated oracle price (quote native per token native) at `now`.
pub fn oracle_price(bank: &BankSnapshot, now: i64, quote_decimals: u8) -> Result<I80F48, String> {
    let mut oracle = bank.oracle.clone();
    let key = bank.bank.oracle;
    let info = AccountInfo::new(
        &key,
        false,
        false,
        &mut oracle.lamports,
        &mut oracle.data,
        &oracle.owner,
        oracle.executable,
        oracle.rent_epoch,
    );
    carry_margin::oracle::bank_oracle_price(&bank.bank, &info, now, quote_decimals)
        .map_err(|e| e.to_string())
}

/// Annual rates of a bank now: `(borrow, deposit)`, fractions (0.05 = 5%). Deposit rate =
/// borrow rate x utilization x (1 - reserve factor), as the accrual pays it.
pub fn rates(bank: &Bank) -> Result<(I80F48, I80F48), String> {
    let pool = bank.pool();
    let d = pool.deposits_native().map_err(|e| format!("{e:?}"))?;
    let b = pool.borrows_native().map_err(|e| format!("{e:?}"))?;
    let u = utilization(d, b).map_err(|e| format!("{e:?}"))?;
    let borrow = bank
        .params
        .curve()
        .borrow_rate(u)
        .map_err(|e| format!("{e:?}"))?;
    let keep = I80F48::ONE
        .checked_sub(I80F48::from_ppm(bank.params.reserve_factor_ppm as u64))
        .ok_or("reserve factor")?;
    let deposit = borrow
        .checked_mul(u)
        .and_then(|x| x.checked_mul(keep))
        .ok_or("overflow")?;
    Ok((borrow, deposit))
}

/// Native balance of `account` in `bank` (deposits rounded down, debts up; opted-out included),
/// with the bank's indices accrued to `now`.
pub fn balance(account: &MarginAccount, bank: &Bank, now: i64) -> Result<I80F48, String> {
    let Some(slot) = account.find_token(bank.token_index) else {
        return Ok(I80F48::ZERO);
    };
    let t = &account.tokens[slot];
    if t.lending_disabled != 0 {
        return Ok(I80F48::from_u64(t.non_lendable));
    }
    let (di, bi) = bank.indices_at(now).map_err(|e| e.to_string())?;
    position_native(t.indexed_position.get(), di, bi).map_err(|e| format!("{e:?}"))
}

/// Interest a balance earns (> 0) or pays (< 0) over `secs` at today's rates, native units:
/// `balance x rate x secs / year` (simple; accruals compound slightly more).
pub fn interest_over(balance: I80F48, rates: (I80F48, I80F48), secs: u64) -> Option<I80F48> {
    let rate = if balance.is_negative() {
        rates.0
    } else {
        rates.1
    };
    balance
        .checked_mul(rate)?
        .checked_mul_int(secs as i64)?
        .checked_div(I80F48::from_u64(carry_math::interest::SECONDS_PER_YEAR))
}
