//! The keeper's cranks as a library (the `carry-keeper` binary and the local chain run them),
//! each on its own schedule ([`KeeperConfig`]) with backoff on failure, never stopping on one
//! bad account or transaction:
//!
//! - `accrue_interest` of every bank (which also advances its stable price);
//! - `sweep_reserve` into the insurance fund;
//! - `consume_perp_events`: every perp market's queued maker fills, with the makers read from
//!   the queue itself, in batches until the queue is empty;
//! - `update_funding` of every perpetual, and `update_stable_price` of every dated future
//!   (which pays no funding), so each market's stable price follows its oracle and an
//!   oracle/stable guard releases after a real move;
//! - `settle_pnl` of every account whose position (funding included) has PnL the market's
//!   pool can move now (a loss, or a profit the pool can pay);
//! - dated futures: `sample_settlement_price` inside the settlement window, then
//!   `close_expired_position` of every open position once the window is over;
//! - liquidation ([`liquidate_all`]): orders cancelled, an account underwater beyond the
//!   insurance fund auto-deleveraged against ranked opposite positions, positions and borrows
//!   taken over just enough by the keeper's own margin account, bankruptcies resolved.
//!
//! Every crank is safe to run twice or from two keepers at once: the event crank applies and
//! pops each event in the same instruction, and reads the queue afresh before every batch
//! (a batch built from a stale read applies only the events at the head whose makers it
//! carries); funding and sampling are time-based; a settlement moves what is unsettled now;
//! closing an expired position twice is refused. A failed or lost transaction is retried on the
//! crank's next run from what the chain then holds, so nothing is lost or applied twice.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use carry_margin::state::{Exchange, MarginAccount, PerpMarket};
use serde::Deserialize;
use solana_sdk::signature::Keypair;
use tracing::{info, warn};

use crate::client::{self, Chain, ClientError};
use crate::health::perp_oracle_price;
use crate::margin as sdk;

/// What one crank did since the last status line.
#[derive(Default, Debug)]
pub struct Tally {
    /// Transactions that landed.
    pub sent: u64,
    /// Failures (logged).
    pub failed: u64,
    /// The last failure.
    pub last_error: Option<String>,
    /// Work done, in the crank's unit (events applied, positions settled, ...).
    pub items: u64,
}

impl Tally {
    fn fail(&mut self, e: impl std::fmt::Display) {
        self.failed += 1;
        self.last_error = Some(e.to_string());
    }
}

/// One crank's schedule and tally.
pub struct Crank {
    /// Its name in status lines.
    pub name: &'static str,
    /// What [`Tally::items`] counts, in status lines ("" = not shown).
    pub unit: &'static str,
    /// Period when it succeeds.
    pub every: Duration,
    /// When it runs next.
    pub next: Instant,
    backoff: Duration,
    /// What it did since the last status line.
    pub tally: Tally,
}

impl Crank {
    /// Runs now, then every `secs` seconds.
    pub fn new(name: &'static str, secs: u64) -> Crank {
        Crank {
            name,
            unit: "",
            every: Duration::from_secs(secs.max(1)),
            next: Instant::now(),
            backoff: Duration::ZERO,
            tally: Tally::default(),
        }
    }
    /// Like [`Crank::new`], its status line counting [`Tally::items`] as `unit`.
    pub fn counting(name: &'static str, secs: u64, unit: &'static str) -> Crank {
        Crank {
            unit,
            ..Crank::new(name, secs)
        }
    }
    /// Schedule the next run: after the period, or after a growing backoff (1 s to 60 s) when
    /// the run failed.
    pub fn done(&mut self, ok: bool) {
        if ok {
            self.backoff = Duration::ZERO;
            self.next = Instant::now() + self.every;
        } else {
            self.backoff =
                (self.backoff * 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
            self.next = Instant::now() + self.backoff.min(self.every);
        }
    }
    /// The status line since the last one (the tally restarts).
    pub fn status(&mut self) -> String {
        let t = std::mem::take(&mut self.tally);
        let items = if self.unit.is_empty() {
            String::new()
        } else {
            format!(", {} {}", t.items, self.unit)
        };
        format!(
            "{}: {} sent, {} failed{items}{}",
            self.name,
            t.sent,
            t.failed,
            t.last_error
                .map(|e| format!(" (last: {e})"))
                .unwrap_or_default()
        )
    }
}

/// Send one crank instruction. The compute-unit limit is lowered by a counter (0..1000 units)
/// so that a crank repeated within one blockhash's life (a fast schedule, a test clock) is a
/// new transaction rather than a duplicate the runtime refuses.
async fn send_crank(
    chain: &dyn Chain,
    payer: &Keypair,
    ix: solana_sdk::instruction::Instruction,
    cu_limit: u32,
) -> Result<client::Sent, ClientError> {
    static NONCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NONCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000;
    client::send_instructions(chain, payer, &[], &[ix], cu_limit - n).await
}

/// `only`, or every exchange on the cluster.
pub async fn exchanges(chain: &dyn Chain, only: Option<Pubkey>) -> Result<Vec<Pubkey>, String> {
    match only {
        Some(e) => Ok(vec![e]),
        None => Ok(client::exchanges(chain)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(k, _)| k)
            .collect()),
    }
}

/// Accrue every bank of every exchange; false when anything failed (all is tried).
pub async fn accrue_all(chain: &dyn Chain, payer: &Keypair, exs: &[Pubkey], t: &mut Tally) -> bool {
    let mut ok = true;
    for ex in exs {
        let banks = match client::banks(chain, ex).await {
            Ok(b) => b,
            Err(e) => {
                warn!(exchange = %ex, error = %e, "cannot list banks");
                t.failed += 1;
                t.last_error = Some(e.to_string());
                ok = false;
                continue;
            }
        };
        for (key, bank) in banks {
            let ix = sdk::accrue_interest(*ex, key, bank.oracle);
            match send_crank(chain, payer, ix, 100_000).await {
                Ok(s) => {
                    t.sent += 1;
                    info!(bank = %key, signature = %s.signature, "interest accrued");
                }
                Err(e) => {
                    // one bad bank never stops the others
                    t.failed += 1;
                    t.last_error = Some(e.to_string());
                    warn!(bank = %key, error = %e, "accrual failed");
                    ok = false;
                }
            }
        }
    }
    ok
}

/// Sweep the settlement bank's reserve of every exchange; false when anything failed.
pub async fn sweep_all(chain: &dyn Chain, payer: &Keypair, exs: &[Pubkey], t: &mut Tally) -> bool {
    let mut ok = true;
    for ex in exs {
        let r: Result<(), String> = async {
            let acc = chain
                .account(ex)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("exchange vanished")?;
            let e = sdk::decode_exchange(&acc.data).map_err(|e| e.to_string())?;
            let bank = sdk::bank_pda(ex, &e.settlement_mint);
            let ix = sdk::sweep_reserve(
                *ex,
                bank,
                sdk::vault_pda(&bank),
                e.settlement_mint,
                e.insurance_vault,
            );
            let s = send_crank(chain, payer, ix, 100_000)
                .await
                .map_err(|e| e.to_string())?;
            info!(exchange = %ex, signature = %s.signature, "reserve swept");
            Ok(())
        }
        .await;
        match r {
            Ok(()) => t.sent += 1,
            Err(e) => {
                t.failed += 1;
                warn!(exchange = %ex, error = %e, "sweep failed");
                t.last_error = Some(e);
                ok = false;
            }
        }
    }
    ok
}

// ---------------------------------------------------------------------------------------------
// Perp cranks
// ---------------------------------------------------------------------------------------------

/// Most distinct makers (writable accounts) one `consume_perp_events` transaction carries: a
/// legacy transaction's 1,232 bytes hold about 30 keys, the market, book, payer and programs
/// included.
pub const MAX_MAKERS_PER_CONSUME: usize = 20;

/// Most events one `consume_perp_events` transaction applies (bounded compute: each applied
/// fill settles funding and updates one maker's position).
pub const MAX_EVENTS_PER_CONSUME: usize = 24;

/// Most consume transactions per market in one run of the crank (a full 512-event queue takes
/// 22 of [`MAX_EVENTS_PER_CONSUME`]); what is left waits for the next run.
pub const MAX_CONSUME_BATCHES: usize = 32;

/// The exchange and its perp markets, found by PDA (`perp_market_count` of the exchange), so
/// this works on every backend, `BanksChain` included.
pub async fn perp_markets_by_pda(
    chain: &dyn Chain,
    exchange: &Pubkey,
) -> Result<(Exchange, Vec<(Pubkey, PerpMarket)>), ClientError> {
    let a = chain
        .account(exchange)
        .await?
        .ok_or_else(|| ClientError::Account(format!("exchange {exchange} not found")))?;
    let ex = sdk::decode_exchange(&a.data)
        .map_err(|e| ClientError::Account(format!("exchange {exchange}: {e}")))?;
    let mut out = vec![];
    for i in 0..ex.perp_market_count {
        let key = sdk::perp_market_pda(exchange, i);
        let Some(a) = chain.account(&key).await? else {
            continue;
        };
        let m = sdk::decode_perp_market(&a.data)
            .map_err(|e| ClientError::Account(format!("perp market {key}: {e}")))?;
        out.push((key, m));
    }
    Ok((ex, out))
}

/// Events applied, as the program logs it (`consumed N perp events`).
fn applied_in(logs: &[String]) -> Option<u64> {
    logs.iter().find_map(|l| {
        l.split("consumed ")
            .nth(1)?
            .strip_suffix(" perp events")?
            .trim()
            .parse()
            .ok()
    })
}

/// Events a landed `consume_perp_events` applied: the program's `consumed N perp events` line
/// (fills and out events), else its maker `PerpFillEvent`s (where `msg!` lines are not kept,
/// e.g. solana-program-test: out events, which emit nothing, are then not counted); `None`
/// when the logs say nothing.
fn applied_count(logs: &[String]) -> Option<u64> {
    if let Some(n) = applied_in(logs) {
        return Some(n);
    }
    let fills = client::decode_event::<carry_margin::events::PerpFillEvent>(logs)
        .iter()
        .filter(|e| e.maker)
        .count() as u64;
    (!logs.is_empty()).then_some(fills)
}

/// One batch of the queue's head: the makers of the first events (at most
/// [`MAX_MAKERS_PER_CONSUME`] distinct, [`MAX_EVENTS_PER_CONSUME`] events), and how many
/// events they cover.
pub fn consume_batch(events: &[carry_book::FillEvent]) -> (Vec<Pubkey>, usize) {
    let mut makers: Vec<Pubkey> = vec![];
    let mut n = 0;
    for e in events.iter().take(MAX_EVENTS_PER_CONSUME) {
        let m = Pubkey::new_from_array(e.maker);
        if !makers.contains(&m) {
            if makers.len() == MAX_MAKERS_PER_CONSUME {
                break;
            }
            makers.push(m);
        }
        n += 1;
    }
    (makers, n)
}

/// Apply every queued maker fill of every perp market of `exs` (in batches, re-reading the
/// queue before each); `t.items` counts the events applied. False when anything failed (each
/// market is tried; a failed market stops for this run and is retried on the next).
pub async fn consume_all(
    chain: &dyn Chain,
    payer: &Keypair,
    exs: &[Pubkey],
    t: &mut Tally,
) -> bool {
    let mut ok = true;
    for ex in exs {
        let markets = match perp_markets_by_pda(chain, ex).await {
            Ok((_, m)) => m,
            Err(e) => {
                warn!(exchange = %ex, error = %e, "cannot list perp markets");
                t.fail(e);
                ok = false;
                continue;
            }
        };
        for (key, m) in markets {
            if let Err(e) = consume_market(chain, payer, &key, &m.book, t).await {
                warn!(perp_market = %key, error = %e, "event crank failed");
                t.fail(e);
                ok = false;
            }
        }
    }
    ok
}

/// Apply the queued fills of one market, batch after batch, until its queue is empty (or
/// [`MAX_CONSUME_BATCHES`]).
pub async fn consume_market(
    chain: &dyn Chain,
    payer: &Keypair,
    market: &Pubkey,
    book: &Pubkey,
    t: &mut Tally,
) -> Result<(), String> {
    for _ in 0..MAX_CONSUME_BATCHES {
        let data = chain
            .account(book)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("book {book} not found"))?
            .data;
        let events = crate::orderbook::queued_events(&data).map_err(|e| e.0)?;
        if events.is_empty() {
            return Ok(());
        }
        let (makers, n) = consume_batch(&events);
        let ix = sdk::consume_perp_events(*market, *book, &makers, n as u8);
        let s = send_crank(chain, payer, ix, 1_000_000)
            .await
            .map_err(|e| e.to_string())?;
        let applied = applied_count(&s.logs).unwrap_or(n as u64);
        t.sent += 1;
        t.items += applied;
        info!(perp_market = %market, applied, queued = events.len(), signature = %s.signature, "fill events consumed");
    }
    Ok(())
}

/// One funding crank of every perpetual of `exs`, and one stable-price step of every dated
/// future (they pay no funding); false when anything failed.
pub async fn funding_all(
    chain: &dyn Chain,
    payer: &Keypair,
    exs: &[Pubkey],
    t: &mut Tally,
) -> bool {
    let mut ok = true;
    for ex in exs {
        let markets = match perp_markets_by_pda(chain, ex).await {
            Ok((_, m)) => m,
            Err(e) => {
                warn!(exchange = %ex, error = %e, "cannot list perp markets");
                t.fail(e);
                ok = false;
                continue;
            }
        };
        for (key, m) in markets.iter() {
            let (ix, done, what) = if m.is_dated() {
                let ix = sdk::update_stable_price(*ex, *key, m.oracle);
                (ix, "stable price updated", "stable price crank failed")
            } else {
                let ix = sdk::update_funding(*ex, *key, m.book, m.oracle);
                (ix, "funding updated", "funding crank failed")
            };
            match send_crank(chain, payer, ix, 400_000).await {
                Ok(s) => {
                    t.sent += 1;
                    t.items += 1;
                    info!(perp_market = %key, signature = %s.signature, "{done}");
                }
                Err(e) => {
                    warn!(perp_market = %key, error = %e, "{what}");
                    t.fail(e);
                    ok = false;
                }
            }
        }
    }
    ok
}

/// What `settle_pnl` would move for `slot` at `now`, quote native (> 0 paid to the account,
/// < 0 taken), as the program computes it: the PnL at the oracle `price` after pending
/// funding; a profit only as far as it holds at the market's stable price advanced to `now`
/// too (the less favourable of the two); split against the market's pool.
pub fn settleable_native(
    slot: &carry_margin::state::PerpPosition,
    market: &PerpMarket,
    price: carry_math::I80F48,
    now: i64,
) -> Result<i64, String> {
    let mut pos = slot.position();
    pos.settle_funding(market.funding_index.get())
        .map_err(|e| format!("{e:?}"))?;
    let pnl = pos.unrealized_pnl(price).map_err(|e| format!("{e:?}"))?;
    let payable = if pnl.is_positive() {
        let stable = carry_margin::oracle::perp_advanced_stable_price(market, price, now)
            .map_err(|e| e.to_string())?;
        let at_stable = pos.unrealized_pnl(stable).map_err(|e| format!("{e:?}"))?;
        pnl.min(at_stable).max(carry_math::I80F48::ZERO)
    } else {
        pnl
    };
    carry_math::perp::split_pnl(payable, market.pnl_pool_native)
        .map(|s| s.settled_native)
        .map_err(|e| format!("{e:?}"))
}

/// Settle the PnL of every position of every account of `exs` that has at least
/// `min_native` (quote native, >= 1) to move now; losses first in each market, so the pool
/// holds what the profits are then paid from. `t.items` counts the positions settled. False
/// when anything failed (every position is tried).
pub async fn settle_all(
    chain: &dyn Chain,
    payer: &Keypair,
    exs: &[Pubkey],
    min_native: u64,
    t: &mut Tally,
) -> bool {
    let mut ok = true;
    for ex in exs {
        let r: Result<(), ClientError> = async {
            let (exchange, markets) = perp_markets_by_pda(chain, ex).await?;
            let accounts = client::all_margin_accounts(chain, ex).await?;
            let now = chain.clock().await?.unix_timestamp;
            let bank = sdk::bank_pda(ex, &exchange.settlement_mint);
            let snaps = crate::health::snapshot_perp_markets(chain, &markets).await?;
            for s in &snaps {
                let price = match perp_oracle_price(s, now, exchange.settlement_decimals) {
                    Ok(p) => p,
                    Err(e) => {
                        warn!(perp_market = %s.key, error = %e, "no price: not settling");
                        t.fail(e);
                        ok = false;
                        continue;
                    }
                };
                // what each position would move with the pool unbounded; losses go first and
                // fill the pool the profits are then paid from
                let unbounded = PerpMarket {
                    pnl_pool_native: i64::MAX as u64,
                    ..s.market
                };
                let mut due: Vec<(i64, Pubkey)> = vec![];
                for (key, acc) in &accounts {
                    let Some(i) = acc.find_perp(s.market.market_index) else {
                        continue;
                    };
                    match settleable_native(&acc.perps[i], &unbounded, price, now) {
                        Ok(v) if v.unsigned_abs() >= min_native.max(1) => due.push((v, *key)),
                        Ok(_) => {}
                        Err(e) => warn!(account = %key, error = %e, "cannot value position"),
                    }
                }
                due.sort(); // losses first
                let mut pool = s.market.pnl_pool_native;
                for (v, key) in due {
                    if v > 0 && pool < min_native.max(1) {
                        continue; // a profit the pool cannot pay yet
                    }
                    let ix = sdk::settle_pnl(*ex, key, s.key, s.market.oracle, bank);
                    match send_crank(chain, payer, ix, 200_000).await {
                        Ok(sent) => {
                            t.sent += 1;
                            t.items += 1;
                            pool = if v < 0 {
                                pool.saturating_add(v.unsigned_abs())
                            } else {
                                pool.saturating_sub(v as u64)
                            };
                            info!(account = %key, perp_market = %s.key, expected_native = v, signature = %sent.signature, "PnL settled");
                        }
                        Err(e) => {
                            warn!(account = %key, perp_market = %s.key, error = %e, "settle_pnl failed");
                            t.fail(e);
                            ok = false;
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            warn!(exchange = %ex, error = %e, "settlement crank failed");
            t.fail(e);
            ok = false;
        }
    }
    ok
}

/// Dated futures: inside the settlement window, one `sample_settlement_price` per market when
/// the least interval has passed; after it (samples taken, fill queue empty), one
/// `close_expired_position` per open position. `t.items` counts samples and closes. False when
/// anything failed.
pub async fn expiry_all(chain: &dyn Chain, payer: &Keypair, exs: &[Pubkey], t: &mut Tally) -> bool {
    let mut ok = true;
    for ex in exs {
        let r: Result<(), ClientError> = async {
            let (_, markets) = perp_markets_by_pda(chain, ex).await?;
            let dated: Vec<&(Pubkey, PerpMarket)> =
                markets.iter().filter(|(_, m)| m.is_dated()).collect();
            if dated.is_empty() {
                return Ok(());
            }
            let now = chain.clock().await?.unix_timestamp;
            let mut accounts: Option<Vec<(Pubkey, MarginAccount)>> = None;
            for (key, m) in dated {
                let Some(w) = m.params.settlement_window() else {
                    continue;
                };
                if now >= w.start_ts && now <= w.end_ts {
                    let due = m.settlement_sample_count == 0
                        || now - m.settlement_last_sample_ts >= w.min_interval_secs as i64;
                    if !due {
                        continue;
                    }
                    let ix = sdk::sample_settlement_price(*ex, *key, m.oracle);
                    match send_crank(chain, payer, ix, 200_000).await {
                        Ok(s) => {
                            t.sent += 1;
                            t.items += 1;
                            info!(perp_market = %key, signature = %s.signature, "settlement price sampled");
                        }
                        Err(e) => {
                            warn!(perp_market = %key, error = %e, "settlement sample failed");
                            t.fail(e);
                            ok = false;
                        }
                    }
                } else if now > w.end_ts && m.settlement_sample_count > 0 {
                    let book = chain
                        .account(&m.book)
                        .await?
                        .ok_or_else(|| ClientError::Account(format!("book {} not found", m.book)))?;
                    let queued = crate::orderbook::queued_events(&book.data)
                        .map_err(|e| ClientError::Account(e.0))?;
                    if !queued.is_empty() {
                        // the event crank applies them first (PerpEventsPending)
                        continue;
                    }
                    if accounts.is_none() {
                        accounts = Some(client::all_margin_accounts(chain, ex).await?);
                    }
                    for (acc_key, acc) in accounts.as_deref().unwrap_or_default() {
                        let open = acc
                            .find_perp(m.market_index)
                            .is_some_and(|i| acc.perps[i].base_lots != 0);
                        if !open {
                            continue;
                        }
                        let ix = sdk::close_expired_position(*key, m.book, *acc_key);
                        match send_crank(chain, payer, ix, 200_000).await
                        {
                            Ok(s) => {
                                t.sent += 1;
                                t.items += 1;
                                info!(account = %acc_key, perp_market = %key, signature = %s.signature, "expired position closed");
                            }
                            Err(e) => {
                                warn!(account = %acc_key, perp_market = %key, error = %e, "close_expired_position failed");
                                t.fail(e);
                                ok = false;
                            }
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            warn!(exchange = %ex, error = %e, "expiry crank failed");
            t.fail(e);
            ok = false;
        }
    }
    ok
}

/// Liquidation, for every account of `exs` below maintenance health (the program's health over
/// fetched accounts, `crate::health::health`): its resting orders are cancelled
/// (`liquidate_perp_orders`, permissionless); its perp positions are taken over just enough by
/// the keeper's margin account number `liquidator_num` (owned by `payer`; skipped when it does
/// not exist), then one of its borrows is repaid for collateral (`liquidate_token`); an account
/// left with nothing but debt has its bankruptcy resolved (`resolve_bankruptcy`: insurance
/// fund, then socialized across the positions of the market with the largest PnL pool, then
/// across the bank's depositors). Before its positions are liquidated, an account whose
/// deficit exceeds the insurance fund is auto-deleveraged (`auto_deleverage`, up to
/// [`ADL_CANDIDATES`] of the market's ranked opposite profitable positions per instruction,
/// `crate::liquidation::adl_candidates`). `t.items` counts
/// the liquidation instructions that landed. False when anything failed (every account is
/// tried; the program refuses what is no longer due, e.g. an account another keeper already
/// brought back).
pub async fn liquidate_all(
    chain: &dyn Chain,
    payer: &Keypair,
    liquidator_num: u32,
    exs: &[Pubkey],
    t: &mut Tally,
) -> bool {
    let mut ok = true;
    for ex in exs {
        if let Err(e) = liquidate_exchange(chain, payer, liquidator_num, ex, t, &mut ok).await {
            warn!(exchange = %ex, error = %e, "liquidation crank failed");
            t.fail(e);
            ok = false;
        }
    }
    ok
}

/// Most auto-deleveraging candidates the keeper passes in one instruction (with their health
/// pairs, the transaction stays within its size).
pub const ADL_CANDIDATES: usize = 4;

/// Union of health metas (banks then perp markets) for `accounts`, plus `extra_banks`.
fn union_metas(
    accounts: &[&MarginAccount],
    banks: &[(Pubkey, carry_margin::state::Bank)],
    markets: &[(Pubkey, PerpMarket)],
    extra_banks: &[u16],
) -> Vec<solana_sdk::instruction::AccountMeta> {
    let bank_pairs: Vec<(Pubkey, Pubkey)> = banks
        .iter()
        .filter(|(_, b)| {
            extra_banks.contains(&b.token_index)
                || accounts
                    .iter()
                    .any(|a| a.find_token(b.token_index).is_some())
        })
        .map(|(k, b)| (*k, b.oracle))
        .collect();
    let perp_pairs: Vec<(Pubkey, Pubkey)> = markets
        .iter()
        .filter(|(_, m)| {
            accounts
                .iter()
                .any(|a| a.find_perp(m.market_index).is_some())
        })
        .map(|(k, m)| (*k, m.oracle))
        .collect();
    let mut metas = sdk::health_accounts(&bank_pairs, false);
    metas.extend(sdk::perp_health_accounts(&perp_pairs, false));
    metas
}

/// Count a liquidation step's outcome.
fn record(t: &mut Tally, ok: &mut bool, r: Result<(), ClientError>) {
    match r {
        Ok(()) => {
            t.sent += 1;
            t.items += 1;
        }
        Err(e) => {
            t.fail(e);
            *ok = false;
        }
    }
}

async fn liquidate_exchange(
    chain: &dyn Chain,
    payer: &Keypair,
    liquidator_num: u32,
    ex: &Pubkey,
    t: &mut Tally,
    ok: &mut bool,
) -> Result<(), ClientError> {
    use solana_sdk::signer::Signer;
    let (exchange, markets) = perp_markets_by_pda(chain, ex).await?;
    let banks = client::banks(chain, ex).await?;
    let accounts = client::all_margin_accounts(chain, ex).await?;
    let now = chain.clock().await?.unix_timestamp;
    let qd = exchange.settlement_decimals;
    let bank_snaps = crate::health::snapshot_banks(chain, &banks).await?;
    let perp_snaps = crate::health::snapshot_perp_markets(chain, &markets).await?;
    let liqor_key = sdk::margin_account_pda(ex, &payer.pubkey(), liquidator_num);
    let liqor = accounts
        .iter()
        .find(|(k, _)| *k == liqor_key)
        .map(|(_, a)| *a);
    let settlement_bank = sdk::bank_pda(ex, &exchange.settlement_mint);
    let send = |ix: solana_sdk::instruction::Instruction, what: &'static str, key: Pubkey| {
        let fut = send_crank(chain, payer, ix, 1_400_000);
        async move {
            match fut.await {
                Ok(sent) => {
                    info!(account = %key, step = what, signature = %sent.signature, "liquidation step");
                    Ok(())
                }
                Err(e) => {
                    warn!(account = %key, step = what, error = %e, "liquidation step refused");
                    Err(e)
                }
            }
        }
    };
    for (key, acc) in &accounts {
        if *key == liqor_key {
            continue;
        }
        let h = match crate::health::health(acc, qd, &bank_snaps, &perp_snaps, now) {
            Ok(h) => h,
            Err(e) => {
                warn!(account = %key, error = %e, "cannot compute health");
                continue;
            }
        };
        if !h.maint.is_negative() {
            continue;
        }
        info!(account = %key, maint = %h.maint, "below maintenance health");
        let own = union_metas(&[acc], &banks, &markets, &[]);
        // 1. orders
        for (mk, m) in &markets {
            let Some(s) = acc.find_perp(m.market_index) else {
                continue;
            };
            if acc.perps[s].bids_base_lots > 0 || acc.perps[s].asks_base_lots > 0 {
                let ix = sdk::liquidate_perp_orders(*ex, *key, *mk, m.book, 50, own.clone());
                record(t, ok, send(ix, "liquidate_perp_orders", *key).await);
            }
        }
        let Some(liqor_acc) = liqor else {
            continue;
        };
        // 2. perp positions, the largest notional first
        let mut positions: Vec<(u128, Pubkey, PerpMarket)> = vec![];
        for (mk, m) in &markets {
            if let Some(s) = acc.find_perp(m.market_index) {
                let p = &acc.perps[s];
                if p.base_lots != 0 && p.bids_base_lots == 0 && p.asks_base_lots == 0 {
                    positions.push((
                        p.base_lots.unsigned_abs() as u128 * m.base_lot_size as u128,
                        *mk,
                        *m,
                    ));
                }
            }
        }
        positions.sort_by_key(|p| std::cmp::Reverse(p.0));
        // 2a. underwater beyond the insurance fund: auto-deleverage first (the ranked opposite
        // profitable positions close it at the bankruptcy price), then liquidate what is left
        let mut acc_now = *acc;
        let fund = crate::liquidation::insurance_balance(chain, ex).await?;
        for (_, mk, m) in &positions {
            let deficit = crate::health::health_terms(&acc_now, qd, &bank_snaps, &perp_snaps, now)
                .ok()
                .and_then(|terms| {
                    crate::liquidation::deficit_beyond_fund(&terms, fund)
                        .ok()
                        .flatten()
                });
            let (Some(_), Some(snap)) = (deficit, perp_snaps.iter().find(|p| p.key == *mk)) else {
                continue;
            };
            let Some(s) = acc_now.find_perp(m.market_index) else {
                continue;
            };
            let ranked = crate::liquidation::adl_candidates(
                &accounts,
                key,
                acc_now.perps[s].base_lots,
                snap,
                qd,
                &bank_snaps,
                &perp_snaps,
                now,
            );
            if ranked.is_empty() {
                continue;
            }
            let cands: Vec<Pubkey> = ranked.iter().take(ADL_CANDIDATES).map(|c| c.key).collect();
            let mut with: Vec<&MarginAccount> = vec![&acc_now];
            with.extend(
                accounts
                    .iter()
                    .filter(|(k, _)| cands.contains(k))
                    .map(|(_, a)| a),
            );
            let metas = union_metas(&with, &banks, &markets, &[]);
            let ix = sdk::auto_deleverage(
                *ex,
                *key,
                *mk,
                m.oracle,
                settlement_bank,
                u64::MAX,
                metas,
                &cands,
            );
            record(t, ok, send(ix, "auto_deleverage", *key).await);
            if let Some(a) = chain.account(key).await? {
                if let Ok(fresh) = sdk::decode_margin_account(&a.data) {
                    acc_now = fresh;
                }
            }
        }
        let acc = &acc_now;
        let positions: Vec<_> = positions
            .into_iter()
            .filter(|(_, _, m)| {
                acc.find_perp(m.market_index)
                    .is_some_and(|s| acc.perps[s].base_lots != 0)
            })
            .collect();
        let both = union_metas(&[acc, &liqor_acc], &banks, &markets, &[]);
        for (_, mk, m) in &positions {
            let ix = sdk::liquidate_perp(
                payer.pubkey(),
                *ex,
                liqor_key,
                *key,
                *mk,
                m.oracle,
                settlement_bank,
                u64::MAX,
                both.clone(),
            );
            record(t, ok, send(ix, "liquidate_perp", *key).await);
        }
        // 3. a borrow against collateral (one per run: health changes)
        let mut liab = None;
        let mut asset = None;
        for ((bk, b), snap) in banks.iter().zip(bank_snaps.iter()) {
            let bal = crate::health::balance(acc, &snap.bank, now).unwrap_or_default();
            if bal.is_negative() && liab.is_none() {
                liab = Some((*bk, b.oracle, b.token_index));
            } else if bal.is_positive() && asset.is_none_or(|(_, _, _, v)| bal > v) {
                asset = Some((*bk, b.oracle, b.token_index, bal));
            }
        }
        if let (Some(l), Some(a)) = (liab, asset) {
            if l.2 != a.2 && positions.is_empty() {
                let metas = union_metas(&[acc, &liqor_acc], &banks, &markets, &[l.2, a.2]);
                let ix = sdk::liquidate_token(
                    payer.pubkey(),
                    *ex,
                    liqor_key,
                    *key,
                    (l.0, l.1),
                    (a.0, a.1),
                    u64::MAX,
                    metas,
                );
                record(t, ok, send(ix, "liquidate_token", *key).await);
            }
        }
    }
    // 4. bankruptcies, from fresh account state
    let accounts = client::all_margin_accounts(chain, ex).await?;
    for (key, acc) in &accounts {
        let nothing_left = acc.perps.iter().all(|p| p.in_use == 0)
            && acc.tokens.iter().all(|t| {
                t.in_use == 0 || (t.non_lendable == 0 && !t.indexed_position.get().is_positive())
            });
        if !nothing_left {
            continue;
        }
        for (bk, b) in &banks {
            let owes = acc
                .find_token(b.token_index)
                .is_some_and(|s| acc.tokens[s].indexed_position.get().is_negative());
            if !owes {
                continue;
            }
            // the market whose positions share what the fund cannot pay: the one with the
            // largest PnL pool (the cash the program pays it from)
            let market = (*bk == settlement_bank)
                .then(|| {
                    perp_snaps
                        .iter()
                        .filter(|p| p.market.pnl_pool_native > 0 && p.market.open_interest_lots > 0)
                        .max_by_key(|p| p.market.pnl_pool_native)
                        .map(|p| p.key)
                })
                .flatten();
            let ix = sdk::resolve_bankruptcy(*ex, *key, *bk, b.vault, b.mint, market);
            record(t, ok, send(ix, "resolve_bankruptcy", *key).await);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Schedules
// ---------------------------------------------------------------------------------------------

/// Each crank's period in seconds (0 turns a crank off), as the keeper's TOML file and flags
/// set them.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct KeeperConfig {
    /// `accrue_interest` of every bank [default 30].
    pub accrue_secs: u64,
    /// `sweep_reserve` [default 3600].
    pub sweep_secs: u64,
    /// `consume_perp_events` [default 2].
    pub consume_secs: u64,
    /// `update_funding` of perpetuals, `update_stable_price` of dated futures [default 60].
    pub funding_secs: u64,
    /// `settle_pnl` scan [default 300].
    pub settle_secs: u64,
    /// Dated futures: settlement samples and closes [default 10].
    pub expiry_secs: u64,
    /// Least PnL a settlement moves, quote native [default 1].
    pub min_settle_native: u64,
    /// Liquidation scan [default 5].
    pub liquidate_secs: u64,
    /// Number of the keeper's own margin account (owned by its keypair, with collateral) that
    /// takes over liquidated positions and borrows [default 0]; without it only the
    /// permissionless steps run (order cancels, bankruptcies).
    pub liquidator_account: u32,
}

impl Default for KeeperConfig {
    fn default() -> Self {
        KeeperConfig {
            accrue_secs: 30,
            sweep_secs: 3600,
            consume_secs: 2,
            funding_secs: 60,
            settle_secs: 300,
            expiry_secs: 10,
            min_settle_native: 1,
            liquidate_secs: 5,
            liquidator_account: 0,
        }
    }
}

/// Every crank on its own schedule: what the binary and the local chain run.
pub struct Keeper {
    /// The periods.
    pub config: KeeperConfig,
    /// The cranks, in the order they run: accrue, sweep, consume, funding, settle, expiry,
    /// liquidate.
    pub cranks: Vec<Crank>,
}

impl Keeper {
    /// Every crank due now (cranks with period 0 never run).
    pub fn new(config: KeeperConfig) -> Keeper {
        let c = &config;
        let cranks = vec![
            Crank::new("accrue_interest", c.accrue_secs),
            Crank::new("sweep_reserve", c.sweep_secs),
            Crank::counting("consume_perp_events", c.consume_secs, "events"),
            Crank::counting("update_funding", c.funding_secs, "markets"),
            Crank::counting("settle_pnl", c.settle_secs, "positions"),
            Crank::counting("dated_expiry", c.expiry_secs, "samples/closes"),
            Crank::counting("liquidate", c.liquidate_secs, "steps"),
        ];
        Keeper { config, cranks }
    }

    fn enabled(&self, i: usize) -> bool {
        let c = &self.config;
        [
            c.accrue_secs,
            c.sweep_secs,
            c.consume_secs,
            c.funding_secs,
            c.settle_secs,
            c.expiry_secs,
            c.liquidate_secs,
        ][i] > 0
    }

    /// Run every enabled crank that is due (all of them with `force`) over `exs`; returns
    /// whether all that ran succeeded.
    pub async fn run_due(
        &mut self,
        chain: &dyn Chain,
        payer: &Keypair,
        exs: &[Pubkey],
        force: bool,
    ) -> bool {
        let mut all_ok = true;
        let min_settle = self.config.min_settle_native;
        let liquidator = self.config.liquidator_account;
        for i in 0..self.cranks.len() {
            if !self.enabled(i) || !(force || Instant::now() >= self.cranks[i].next) {
                continue;
            }
            let t = &mut self.cranks[i].tally;
            let ok = match i {
                0 => accrue_all(chain, payer, exs, t).await,
                1 => sweep_all(chain, payer, exs, t).await,
                2 => consume_all(chain, payer, exs, t).await,
                3 => funding_all(chain, payer, exs, t).await,
                4 => settle_all(chain, payer, exs, min_settle, t).await,
                5 => expiry_all(chain, payer, exs, t).await,
                _ => liquidate_all(chain, payer, liquidator, exs, t).await,
            };
            self.cranks[i].done(ok);
            all_ok &= ok;
        }
        all_ok
    }

    /// When the next enabled crank is due.
    pub fn next_due(&self) -> Instant {
        (0..self.cranks.len())
            .filter(|i| self.enabled(*i))
            .map(|i| self.cranks[i].next)
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(60))
    }

    /// One status line: every enabled crank's tally since the last line (tallies restart).
    pub fn status(&mut self) -> String {
        let mut parts = vec![];
        for i in 0..self.cranks.len() {
            if self.enabled(i) {
                parts.push(self.cranks[i].status());
            }
        }
        parts.join(" | ")
    }
}

/// Run every crank of `config` until the task is dropped, logging a status line every
/// `status_secs` (the local chain runs this with its faucet as payer).
pub async fn run_forever(
    chain: &dyn Chain,
    payer: &Keypair,
    config: KeeperConfig,
    status_secs: u64,
) {
    let mut keeper = Keeper::new(config);
    let status_every = Duration::from_secs(status_secs.max(1));
    let mut next_status = Instant::now() + status_every;
    loop {
        match exchanges(chain, None).await {
            Ok(exs) => {
                keeper.run_due(chain, payer, &exs, false).await;
            }
            Err(e) => warn!(error = %e, "keeper: cannot list exchanges"),
        }
        if Instant::now() >= next_status {
            info!("keeper status: {}", keeper.status());
            next_status = Instant::now() + status_every;
        }
        let wake = keeper
            .next_due()
            .min(next_status)
            .max(Instant::now() + Duration::from_millis(200));
        tokio::time::sleep_until(wake.into()).await;
    }
}
