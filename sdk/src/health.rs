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

/// How a projected order is margined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderFill {
    /// It rests on the book (a post-only order, or a limit that does not cross): counted in the
    /// position's resting lots, margined as if filled on the worse side, as the chain does.
    Resting,
    /// It takes: applied to the position as filled entirely at its limit price with the
    /// market's taker fee (conservative: real fills are at that price or better).
    Taker,
}

/// A perp order to project: `side` 0 bid, 1 ask; `lots` base lots; `price_ticks` its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectedOrder {
    /// Perp market key (its snapshot must be among those passed).
    pub market: Pubkey,
    /// 0 bid (buy), 1 ask (sell).
    pub side: u8,
    /// Size, base lots.
    pub lots: u64,
    /// Limit price, ticks.
    pub price_ticks: u64,
    /// Resting or taking.
    pub fill: OrderFill,
}

/// `account` as it would be with `order` placed: its perp slot in the market (taken from a
/// free slot, with the market's funding index, when it has none) with the order's lots
/// resting, or with the order filled at its price and the taker fee.
pub fn account_with_order(
    account: &MarginAccount,
    market: &PerpMarket,
    order: &ProjectedOrder,
) -> Result<MarginAccount, String> {
    let mut acc = *account;
    let i = match acc.find_perp(market.market_index) {
        Some(i) => i,
        None => {
            let i = acc
                .perps
                .iter()
                .position(|p| p.in_use == 0)
                .ok_or("no free perp slot in the account (NoFreePerpSlot)")?;
            let p = &mut acc.perps[i];
            *p = carry_margin::state::PerpPosition::default();
            p.in_use = 1;
            p.market_index = market.market_index;
            p.funding_snapshot.set(market.funding_index.get());
            i
        }
    };
    let lots = i64::try_from(order.lots).map_err(|_| "size too large")?;
    let slot = &mut acc.perps[i];
    match order.fill {
        OrderFill::Resting => {
            let field = if order.side == 0 {
                &mut slot.bids_base_lots
            } else {
                &mut slot.asks_base_lots
            };
            *field = field.checked_add(lots).ok_or("size too large")?;
        }
        OrderFill::Taker => {
            if lots == 0 {
                return Ok(acc);
            }
            let price = I80F48::from_u64(order.price_ticks)
                .checked_mul_int(i64::try_from(market.tick_size).map_err(|_| "tick size")?)
                .ok_or("price too large")?;
            let mut pos = slot.position();
            pos.apply_fill(&carry_math::perp::Fill {
                side: if order.side == 0 {
                    carry_math::perp::Side::Bid
                } else {
                    carry_math::perp::Side::Ask
                },
                base_lots: lots,
                price,
                fee_ppm: market.params.taker_fee_ppm,
            })
            .map_err(|e| format!("{e:?}"))?;
            slot.base_lots = pos.base_lots;
            slot.quote_native.set(pos.quote_native);
        }
    }
    Ok(acc)
}

/// Init and maint health of `account` at `now` with `order` placed (see
/// [`account_with_order`]); `perps` must hold the order's market.
pub fn health_with_order(
    account: &MarginAccount,
    quote_decimals: u8,
    (banks, perps): (&[BankSnapshot], &[PerpSnapshot]),
    order: &ProjectedOrder,
    now: i64,
) -> Result<Health, String> {
    let m = perps
        .iter()
        .find(|p| p.key == order.market)
        .ok_or_else(|| format!("perp market {} not in the snapshots", order.market))?;
    let acc = account_with_order(account, &m.market, order)?;
    health(&acc, quote_decimals, banks, perps, now)
}

/// Whether the chain checks health for `order`: only an order that can add risk, i.e. one
/// larger than what is left of the position after the account's orders resting on that side
/// (`carry_math::perp::reduce_only_max_lots`).
pub fn order_adds_risk(
    account: &MarginAccount,
    market: &PerpMarket,
    side: u8,
    lots: u64,
) -> Result<bool, String> {
    let room = match account.find_perp(market.market_index) {
        Some(i) => {
            let p = &account.perps[i];
            carry_math::perp::reduce_only_max_lots(
                p.base_lots,
                p.bids_base_lots,
                p.asks_base_lots,
                if side == 0 {
                    carry_math::perp::Side::Bid
                } else {
                    carry_math::perp::Side::Ask
                },
            )
            .map_err(|e| format!("{e:?}"))?
        }
        None => 0,
    };
    Ok(lots as i128 > room as i128)
}

/// The largest size (base lots) of an order on `order.side` at `order.price_ticks` (its
/// `lots` ignored) that the chain accepts by health now: an order that only reduces the
/// position is not checked; a larger one must leave initial health >= 0 with the order
/// margined as `order.fill` says. 0 when even one lot is refused. Searched by bisection over
/// [`health_with_order`] (health falls as the size grows).
pub fn max_order_lots(
    account: &MarginAccount,
    quote_decimals: u8,
    snaps: (&[BankSnapshot], &[PerpSnapshot]),
    order: &ProjectedOrder,
    now: i64,
) -> Result<u64, String> {
    let m = snaps
        .1
        .iter()
        .find(|p| p.key == order.market)
        .ok_or_else(|| format!("perp market {} not in the snapshots", order.market))?;
    let ok = |lots: u64| -> Result<bool, String> {
        if !order_adds_risk(account, &m.market, order.side, lots)? {
            return Ok(true);
        }
        let o = ProjectedOrder { lots, ..*order };
        Ok(!health_with_order(account, quote_decimals, snaps, &o, now)?
            .init
            .is_negative())
    };
    if !ok(1)? {
        return Ok(0);
    }
    // grow to a refused size, then bisect: lo passes, hi is refused
    let (mut lo, mut hi) = (1u64, 2u64);
    while ok(hi)? {
        lo = hi;
        if hi >= 1 << 52 {
            return Ok(hi);
        }
        hi *= 2;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}
