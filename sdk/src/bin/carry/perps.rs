//! Perp commands of `carry`: `markets`, `book`, `order place|cancel|cancel-all`, and the
//! positions of `account show`. Sizes and prices are in whole tokens, converted to lots and
//! ticks exactly (a size or price off the market's grid is refused). Before an order that can
//! add risk is sent, its initial health is projected by the SDK with the order margined as the
//! chain margins it (resting on its worse side, or, when it can take, filled at its limit with
//! the taker fee); a negative result is refused with the largest size that fits.

use anchor_lang::prelude::Pubkey;
use carry_margin::events::{PerpFundingPaidEvent, PerpOrderEvent, PerpSettlePnlEvent};
use carry_margin::state::{MarginAccount, PerpMarket};
use carry_margin::PlacePerpOrderArgs;
use carry_sdk::client::{self, Chain};
use carry_sdk::health::{self, OrderFill, PerpSnapshot, ProjectedOrder};
use carry_sdk::margin as sdk;
use carry_sdk::orderbook::MarketView;
use carry_sdk::tokens::PerpUnits;
use clap::Subcommand;
use serde_json::{json, Value};
use solana_sdk::signature::Signer;

use super::output::Table;
use super::{fixed_f64, usd, CliResult, Ctx};

/// `carry order ...`
#[derive(Subcommand, Debug)]
pub enum OrderCommand {
    /// Place an order: SIZE in base tokens, PRICE in settlement tokens per whole base (the
    /// limit; the worst price of a market order, default the oracle -/+ --slippage-bps; the peg
    /// limit of an oracle-pegged order, optional). Refused before sending when initial health
    /// would go below zero.
    Place {
        /// Symbol, index or address.
        market: String,
        /// buy | sell
        #[arg(long, value_parser = ["buy", "sell"])]
        side: String,
        /// Size in base tokens, e.g. 0.5.
        size: String,
        /// Price per whole base, e.g. 150.25.
        price: Option<String>,
        /// Order type.
        #[arg(long = "type", default_value = "limit", value_parser = ["limit", "post-only", "post-only-slide", "ioc", "fok", "market", "oracle-pegged"])]
        kind: String,
        /// Oracle-pegged: offset from the oracle price, e.g. -0.5.
        #[arg(long, allow_hyphen_values = true)]
        peg_offset: Option<String>,
        /// Only reduce the position (refused otherwise).
        #[arg(long)]
        reduce_only: bool,
        /// Your id for the order (unique among the account's resting orders).
        #[arg(long)]
        client_id: Option<u64>,
        /// The order stops trading this many seconds from now.
        #[arg(long)]
        expires_in: Option<u64>,
        /// Market orders without a price: worst price this far from the oracle, basis points.
        #[arg(long, default_value_t = 500)]
        slippage_bps: u32,
        /// On meeting one's own order: abort, cancel-resting, decrement-take.
        #[arg(long, default_value = "abort", value_parser = ["abort", "cancel-resting", "decrement-take"])]
        self_trade: String,
    },
    /// The largest size of an order at PRICE the account can place now by initial health (the
    /// SDK's projection, the chain's own boundary): as a resting order, or with --taker as
    /// filled at PRICE with the taker fee.
    Max {
        /// Symbol, index or address.
        market: String,
        /// buy | sell
        #[arg(long, value_parser = ["buy", "sell"])]
        side: String,
        /// Price per whole base.
        price: String,
        /// Margin it as taking (filled at PRICE) rather than resting.
        #[arg(long)]
        taker: bool,
    },
    /// Cancel one order by its id (--id) or client id (--client-id).
    Cancel {
        /// Symbol, index or address.
        market: String,
        /// Order id (as `order place` prints it).
        #[arg(long)]
        id: Option<u128>,
        /// Client order id.
        #[arg(long)]
        client_id: Option<u64>,
    },
    /// Cancel all of the account's orders on a market (at most 100 per call).
    CancelAll {
        /// Symbol, index or address.
        market: String,
        /// buy | sell | both
        #[arg(long, default_value = "both", value_parser = ["buy", "sell", "both"])]
        side: String,
    },
}

fn kind_code(kind: &str) -> u8 {
    match kind {
        "limit" => 0,
        "post-only" => 1,
        "post-only-slide" => 2,
        "ioc" => 3,
        "fok" => 4,
        "market" => 5,
        _ => 6,
    }
}

/// Best bid and ask of a view, in ticks.
fn best(view: &MarketView) -> (Option<u64>, Option<u64>) {
    let t = view.market.tick_size.max(1);
    (
        view.bids.first().map(|l| l.price / t),
        view.asks.first().map(|l| l.price / t),
    )
}

impl Ctx {
    /// The exchange's perp markets, by index (found by PDA).
    pub(crate) async fn perp_market_list(&self) -> CliResult<Vec<(Pubkey, PerpMarket)>> {
        carry_sdk::keeper::perp_markets_by_pda(&self.chain, &self.exchange)
            .await
            .map(|(_, m)| m)
            .map_err(|e| e.to_string())
    }

    /// A market's display name: its config symbol, else `PERP-<index>`.
    pub(crate) fn market_name(&self, m: &PerpMarket) -> String {
        self.perp_names
            .get(m.market_index as usize)
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| format!("PERP-{}", m.market_index))
    }

    /// A market by symbol, index or address.
    async fn market(&self, name: &str) -> CliResult<(Pubkey, PerpMarket)> {
        let list = self.perp_market_list().await?;
        let found = list.iter().find(|(k, m)| {
            self.market_name(m).eq_ignore_ascii_case(name)
                || name.parse::<u16>().ok() == Some(m.market_index)
                || name.parse::<Pubkey>().ok() == Some(*k)
        });
        found.copied().ok_or_else(|| {
            let known: Vec<String> = list.iter().map(|(_, m)| self.market_name(m)).collect();
            format!(
                "unknown market {name:?}: give one of [{}], an index or an address",
                known.join(", ")
            )
        })
    }

    async fn snapshot(&self, key: Pubkey, m: PerpMarket) -> CliResult<PerpSnapshot> {
        Ok(health::snapshot_perp_markets(&self.chain, &[(key, m)])
            .await
            .map_err(|e| e.to_string())?
            .remove(0))
    }

    async fn view(
        &self,
        m: &PerpMarket,
        now: i64,
        oracle_per_lot: Option<u64>,
    ) -> CliResult<MarketView> {
        let data = self
            .chain
            .account(&m.book)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("book {} not found", m.book))?
            .data;
        MarketView::decode(&data, now, oracle_per_lot).map_err(|e| e.0)
    }

    /// `carry markets`.
    pub(crate) async fn markets(&self) -> CliResult<()> {
        let now = self.now().await?;
        let qd = self.ex.settlement_decimals;
        let mut t = Table::new(&[
            "market",
            "oracle $",
            "mark $",
            "bid $",
            "ask $",
            "funding/period",
            "open interest",
            "expiry",
            "stable $",
            "band",
            "guard",
        ]);
        let mut rows = vec![];
        for (key, m) in self.perp_market_list().await? {
            let u = PerpUnits::of(&m, qd);
            let snap = self.snapshot(key, m).await?;
            let oracle = health::perp_oracle_price(&snap, now, qd).ok();
            let oracle_usd = oracle.map(|p| u.per_lot_to_f64(fixed_f64(p)));
            let view = self
                .view(&m, now, oracle.map(|p| p.floor_int().max(0) as u64))
                .await?;
            let (bid, ask) = best(&view);
            let mark = match (bid, ask) {
                (Some(b), Some(a)) => Some((u.ticks_to_f64(b) + u.ticks_to_f64(a)) / 2.0),
                _ => oracle_usd,
            };
            let rate = fixed_f64(m.funding_rate.get());
            let period = m.params.funding_period_secs;
            let expiry = if m.is_dated() {
                let left = m.params.expiry_ts - now;
                if left > 0 {
                    format!("{} (in {:.1} h)", m.params.expiry_ts, left as f64 / 3600.0)
                } else {
                    format!("{} (expired)", m.params.expiry_ts)
                }
            } else {
                "perpetual".into()
            };
            let oi = u.lots_to_size(m.open_interest_lots as i128);
            let f2 = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or("-".into());
            // The stable price as the program advances it now, and whether the oracle/stable
            // guard holds liquidation (and binds the order band) at this oracle.
            let stable = oracle.and_then(|o| {
                carry_margin::oracle::perp_advanced_stable_price(&m, o, now)
                    .ok()
                    .map(|st| (o, st))
            });
            let stable_usd = stable.map(|(_, st)| u.per_lot_to_f64(fixed_f64(st)));
            let guard_held = stable
                .map(|(o, st)| carry_margin::oracle::check_oracle_stable_guard(&m, o, st).is_err());
            let bps = |b: u16| format!("{:.2}%", f64::from(b) / 100.0);
            let guard = match (m.params.oracle_stable_guard_bps, guard_held) {
                (0, _) => "off".into(),
                (g, Some(true)) => format!("{} HELD", bps(g)),
                (g, _) => bps(g),
            };
            rows.push(json!({"market": self.market_name(&m), "index": m.market_index, "address": key.to_string(),
                "oracle": oracle_usd, "mark": mark, "best_bid": bid.map(|b| u.ticks_to_price(b)), "best_ask": ask.map(|a| u.ticks_to_price(a)),
                "funding_rate_per_period": rate, "funding_period_secs": period, "open_interest": oi,
                "dated": m.is_dated(), "expiry_ts": m.params.expiry_ts,
                "lot_size": u.lots_to_size(1), "tick": u.ticks_to_price(1),
                "stable": stable_usd, "order_band_bps": m.params.order_band_bps,
                "oracle_stable_guard_bps": m.params.oracle_stable_guard_bps, "guard_held": guard_held}));
            t.row(vec![
                self.market_name(&m),
                f2(oracle_usd),
                f2(mark),
                bid.map(|b| u.ticks_to_price(b)).unwrap_or("-".into()),
                ask.map(|a| u.ticks_to_price(a)).unwrap_or("-".into()),
                if m.is_dated() {
                    "-".into()
                } else {
                    format!("{:.4}%/{}s", rate * 100.0, period)
                },
                oi,
                expiry,
                f2(stable_usd),
                if m.params.order_band_bps == 0 {
                    "off".into()
                } else {
                    bps(m.params.order_band_bps)
                },
                guard,
            ]);
        }
        if self.json {
            println!("{}", Value::Array(rows));
        } else {
            print!("{}", t.render());
        }
        Ok(())
    }

    /// `carry book MARKET`.
    pub(crate) async fn book(&self, name: &str, depth: usize) -> CliResult<()> {
        let (key, m) = self.market(name).await?;
        let now = self.now().await?;
        let qd = self.ex.settlement_decimals;
        let u = PerpUnits::of(&m, qd);
        let snap = self.snapshot(key, m).await?;
        let oracle = health::perp_oracle_price(&snap, now, qd).ok();
        let view = self
            .view(&m, now, oracle.map(|p| p.floor_int().max(0) as u64))
            .await?;
        let tick = m.tick_size.max(1);
        let level = |l: &carry_sdk::orderbook::Level| {
            (
                u.ticks_to_price(l.price / tick),
                carry_sdk::tokens::format_amount(l.quantity as i128, m.base_decimals),
                l.orders,
            )
        };
        if self.json {
            let side = |v: &[carry_sdk::orderbook::Level]| -> Vec<Value> {
                v.iter()
                    .take(depth)
                    .map(|l| {
                        let (p, q, n) = level(l);
                        json!({"price": p, "size": q, "orders": n})
                    })
                    .collect()
            };
            println!(
                "{}",
                json!({"market": self.market_name(&m), "oracle": oracle.map(|p| u.per_lot_to_f64(fixed_f64(p))),
                "bids": side(&view.bids), "asks": side(&view.asks), "queued_fills": view.queued_events})
            );
            return Ok(());
        }
        let mut t = Table::new(&["side", "price $", "size", "orders"]);
        for l in view.asks.iter().take(depth).rev() {
            let (p, q, n) = level(l);
            t.row(vec!["ask".into(), p, q, n.to_string()]);
        }
        if let Some(o) = oracle {
            t.row(vec![
                "oracle".into(),
                format!("{:.4}", u.per_lot_to_f64(fixed_f64(o))),
                String::new(),
                String::new(),
            ]);
        }
        for l in view.bids.iter().take(depth) {
            let (p, q, n) = level(l);
            t.row(vec!["bid".into(), p, q, n.to_string()]);
        }
        println!("{} book", self.market_name(&m));
        print!("{}", t.render());
        Ok(())
    }

    /// `carry order ...`.
    pub(crate) async fn order(&self, cmd: &OrderCommand) -> CliResult<()> {
        match cmd {
            OrderCommand::Place {
                market,
                side,
                size,
                price,
                kind,
                peg_offset,
                reduce_only,
                client_id,
                expires_in,
                slippage_bps,
                self_trade,
            } => {
                let signer = self.signer()?;
                let (key, m) = self.market(market).await?;
                let qd = self.ex.settlement_decimals;
                let u = PerpUnits::of(&m, qd);
                let lots = u.size_to_lots(size)?;
                if lots == 0 {
                    return Err("size must be positive".into());
                }
                let side_code = if side == "buy" { 0u8 } else { 1 };
                let k = kind_code(kind);
                let account = self.account_key(&signer.pubkey());
                let acc = self.margin_account(&account).await?;
                let now = self.now().await?;
                let (banks, perps) = self.snapshots().await?;
                let snap = perps
                    .iter()
                    .find(|p| p.key == key)
                    .ok_or("market snapshot")?;
                let oracle = health::perp_oracle_price(snap, now, qd)?;
                let oracle_ticks = (oracle.floor_int() / m.tick_size as i128).max(1) as u64;
                let mut peg = 0i64;
                let price_ticks = match k {
                    5 => match price {
                        Some(p) => u.price_to_ticks(p)?,
                        None => {
                            let o = u.ticks_to_f64(oracle_ticks);
                            let f = *slippage_bps as f64 / 10_000.0;
                            if side_code == 0 {
                                u.usd_to_ticks(o * (1.0 + f), true)
                            } else {
                                u.usd_to_ticks(o * (1.0 - f), false)
                            }
                        }
                    },
                    6 => {
                        let off = peg_offset
                            .as_deref()
                            .ok_or("an oracle-pegged order needs --peg-offset")?;
                        peg = u.offset_to_ticks(off)?;
                        match price {
                            Some(p) => u.price_to_ticks(p)?,
                            None => 0,
                        }
                    }
                    _ => u.price_to_ticks(price.as_deref().ok_or_else(|| {
                        format!("a {kind} order needs a PRICE (settlement tokens per whole base)")
                    })?)?,
                };
                if k != 6 && peg_offset.is_some() {
                    return Err("--peg-offset is for --type oracle-pegged".into());
                }
                // how the chain margins it: resting, or taking when it can cross
                let view = self
                    .view(&m, now, Some(oracle.floor_int().max(0) as u64))
                    .await?;
                let (bid, ask) = best(&view);
                let eff = if k == 6 {
                    (oracle_ticks as i64 + peg).max(1) as u64
                } else {
                    price_ticks
                };
                let crosses = if side_code == 0 {
                    ask.is_some_and(|a| a <= eff)
                } else {
                    bid.is_some_and(|b| b >= eff)
                };
                let fill = match k {
                    1 | 2 => OrderFill::Resting,
                    3..=5 => OrderFill::Taker,
                    _ if crosses => OrderFill::Taker,
                    _ => OrderFill::Resting,
                };
                let order = ProjectedOrder {
                    market: key,
                    side: side_code,
                    lots,
                    price_ticks: eff,
                    fill,
                };
                if health::order_adds_risk(&acc, &m, side_code, lots)? {
                    let h = health::health_with_order(&acc, qd, (&banks, &perps), &order, now)?;
                    if h.init.is_negative() {
                        let max = health::max_order_lots(&acc, qd, (&banks, &perps), &order, now)?;
                        return Err(format!(
                            "refused before sending: initial health after this order would be {} USD (< 0); at most {} ({} lots) fits at this price now",
                            usd(h.init, qd),
                            u.lots_to_size(max as i128),
                            max
                        ));
                    }
                }
                let args = PlacePerpOrderArgs {
                    side: side_code,
                    order_kind: k,
                    price_ticks,
                    peg_offset_ticks: peg,
                    max_base_lots: lots,
                    client_order_id: client_id.unwrap_or(0),
                    expires_at: expires_in.map(|s| now as u64 + s).unwrap_or(0),
                    expires_at_slot: 0,
                    self_trade: match self_trade.as_str() {
                        "decrement-take" => 0,
                        "cancel-resting" => 1,
                        _ => 2,
                    },
                    reduce_only: *reduce_only,
                };
                let markets = self.perp_market_list().await?;
                let bank_pairs = sdk::health_pairs(&acc, self.banks.iter().map(|(k, b)| (*k, b)));
                let mut perp_pairs =
                    sdk::perp_health_pairs(&acc, markets.iter().map(|(k, m)| (*k, m)));
                if !perp_pairs.iter().any(|(k, _)| *k == key) {
                    perp_pairs.push((key, m.oracle));
                }
                let ix = sdk::place_perp_order(
                    signer.pubkey(),
                    self.exchange,
                    account,
                    key,
                    m.book,
                    m.oracle,
                    args,
                    &bank_pairs,
                    &perp_pairs,
                );
                let sent = client::send_instructions(&self.chain, &signer, &[], &[ix], 1_000_000)
                    .await
                    .map_err(|e| e.to_string())?;
                let ev = client::decode_event::<PerpOrderEvent>(&sent.logs)
                    .into_iter()
                    .next();
                let name = self.market_name(&m);
                match ev {
                    Some(e) => {
                        let filled = u.lots_to_size(e.filled_base_lots as i128);
                        let avg = (e.filled_base_lots > 0).then(|| {
                            u.per_lot_to_f64(
                                e.filled_quote_native as f64 / e.filled_base_lots as f64,
                            )
                        });
                        let resting = u.lots_to_size(e.posted_base_lots as i128);
                        let at = u.ticks_to_price(e.posted_price_ticks);
                        if self.json {
                            println!(
                                "{}",
                                json!({"ok": true, "market": name, "side": side, "type": kind, "order_id": e.order_id.to_string(),
                                "client_id": e.client_order_id, "filled": filled, "avg_price": avg, "resting": resting,
                                "resting_price": (e.posted_base_lots > 0).then_some(at.clone()),
                                "cancelled": u.lots_to_size(e.cancelled_base_lots as i128), "signature": sent.signature.to_string()})
                            );
                        } else {
                            let mut line =
                                format!("{side} {size} {name} ({kind}): filled {filled}");
                            if let Some(a) = avg {
                                line += &format!(" at {a:.4} avg");
                            }
                            if e.posted_base_lots > 0 {
                                line += &format!(
                                    ", resting {resting} at {at} (order id {})",
                                    e.order_id
                                );
                            }
                            if e.cancelled_base_lots > 0 {
                                line += &format!(
                                    ", {} not placed",
                                    u.lots_to_size(e.cancelled_base_lots as i128)
                                );
                            }
                            println!("{line}\nsignature: {}", sent.signature);
                        }
                    }
                    None => self.done(
                        &format!("placed {side} {size} {name}"),
                        &sent.signature.to_string(),
                    ),
                }
                Ok(())
            }
            OrderCommand::Max {
                market,
                side,
                price,
                taker,
            } => {
                let signer = self.signer()?;
                let (key, m) = self.market(market).await?;
                let qd = self.ex.settlement_decimals;
                let u = PerpUnits::of(&m, qd);
                let price_ticks = u.price_to_ticks(price)?;
                let account = self.account_key(&signer.pubkey());
                let acc = self.margin_account(&account).await?;
                let now = self.now().await?;
                let (banks, perps) = self.snapshots().await?;
                let order = ProjectedOrder {
                    market: key,
                    side: if side == "buy" { 0 } else { 1 },
                    lots: 0,
                    price_ticks,
                    fill: if *taker {
                        OrderFill::Taker
                    } else {
                        OrderFill::Resting
                    },
                };
                let max = health::max_order_lots(&acc, qd, (&banks, &perps), &order, now)?;
                let h = health::health(&acc, qd, &banks, &perps, now)?;
                let size = u.lots_to_size(max as i128);
                let name = self.market_name(&m);
                if self.json {
                    println!(
                        "{}",
                        json!({"market": name, "side": side, "price": price, "max_size": size, "max_lots": max,
                        "init_health": usd(h.init, qd)})
                    );
                } else {
                    println!(
                        "at most {size} {name} ({max} lots) to {side} at {price} now (initial health {} USD)",
                        usd(h.init, qd)
                    );
                }
                Ok(())
            }
            OrderCommand::Cancel {
                market,
                id,
                client_id,
            } => {
                let signer = self.signer()?;
                let (key, m) = self.market(market).await?;
                let account = self.account_key(&signer.pubkey());
                self.margin_account(&account).await?;
                let ix = match (id, client_id) {
                    (Some(id), None) => {
                        sdk::cancel_perp_order(signer.pubkey(), account, key, m.book, *id)
                    }
                    (None, Some(c)) => sdk::cancel_perp_order_by_client_id(
                        signer.pubkey(),
                        account,
                        key,
                        m.book,
                        *c,
                    ),
                    _ => return Err("give exactly one of --id and --client-id".into()),
                };
                let sig = self.send(&signer, &[ix]).await?;
                self.done(
                    &format!("cancelled the order on {}", self.market_name(&m)),
                    &sig,
                );
                Ok(())
            }
            OrderCommand::CancelAll { market, side } => {
                let signer = self.signer()?;
                let (key, m) = self.market(market).await?;
                let account = self.account_key(&signer.pubkey());
                self.margin_account(&account).await?;
                let s = match side.as_str() {
                    "buy" => 0,
                    "sell" => 1,
                    _ => 2,
                };
                let ix = sdk::cancel_all_perp_orders(signer.pubkey(), account, key, m.book, s, 100);
                let sig = self.send(&signer, &[ix]).await?;
                self.done(
                    &format!("cancelled {side} orders on {}", self.market_name(&m)),
                    &sig,
                );
                Ok(())
            }
        }
    }

    /// The decoded margin account, or the error telling how to create it.
    pub(crate) async fn margin_account(&self, key: &Pubkey) -> CliResult<MarginAccount> {
        let a = self
            .chain
            .account(key)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!("no margin account {key}: create it with `carry account create`")
            })?;
        sdk::decode_margin_account(&a.data).map_err(|e| e.to_string())
    }

    /// Settled PnL and funding paid per market, from the account's last 100 transactions
    /// (`PerpSettlePnlEvent`, `PerpFundingPaidEvent`): the chain keeps no running totals.
    async fn history(&self, key: &Pubkey) -> Vec<(Pubkey, i64, i64)> {
        let mut out: Vec<(Pubkey, i64, i64)> = vec![];
        let cfg = solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
            limit: Some(100),
            ..Default::default()
        };
        let Ok(sigs) = self
            .chain
            .rpc
            .get_signatures_for_address_with_config(key, cfg)
            .await
        else {
            return out;
        };
        let tcfg = solana_rpc_client_api::config::RpcTransactionConfig {
            encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Json),
            commitment: None,
            max_supported_transaction_version: Some(0),
        };
        for s in sigs.iter().filter(|s| s.err.is_none()) {
            let Ok(sig) = s.signature.parse() else {
                continue;
            };
            let Ok(tx) = self.chain.rpc.get_transaction_with_config(&sig, tcfg).await else {
                continue;
            };
            let logs: Vec<String> = tx
                .transaction
                .meta
                .and_then(|m| Option::<Vec<String>>::from(m.log_messages))
                .unwrap_or_default();
            let mut add = |market: Pubkey, settled: i64, funding: i64| match out
                .iter_mut()
                .find(|(m, _, _)| *m == market)
            {
                Some(e) => {
                    e.1 += settled;
                    e.2 += funding;
                }
                None => out.push((market, settled, funding)),
            };
            for e in client::decode_event::<PerpSettlePnlEvent>(&logs) {
                if e.account == *key {
                    add(e.perp_market, e.settled_native, 0);
                }
            }
            for e in client::decode_event::<PerpFundingPaidEvent>(&logs) {
                if e.account == *key {
                    add(e.perp_market, 0, e.amount_native);
                }
            }
        }
        out
    }

    /// The positions table and JSON rows of `account show`.
    pub(crate) async fn positions(
        &self,
        key: &Pubkey,
        acc: &MarginAccount,
        perps: &[PerpSnapshot],
        terms: &carry_math::health::HealthTerms,
        now: i64,
    ) -> CliResult<(Table, Vec<Value>)> {
        let qd = self.ex.settlement_decimals;
        let mut t = Table::new(&[
            "market",
            "size",
            "entry $",
            "mark $",
            "liq. $",
            "unrealized",
            "settled",
            "funding paid",
            "funding due",
            "bids",
            "asks",
        ]);
        let mut rows = vec![];
        if !acc.perps.iter().any(|p| p.in_use != 0) {
            return Ok((t, rows));
        }
        let hist = self.history(key).await;
        for s in perps {
            let m = &s.market;
            let Some(i) = acc.find_perp(m.market_index) else {
                continue;
            };
            let p = &acc.perps[i];
            let u = PerpUnits::of(m, qd);
            let pos = p.position();
            let entry = pos
                .break_even_price()
                .ok()
                .flatten()
                .map(|e| u.per_lot_to_f64(fixed_f64(e)));
            let oracle = health::perp_oracle_price(s, now, qd).ok();
            let due = carry_math::funding::funding_owed(
                p.base_lots,
                p.funding_snapshot.get(),
                m.funding_index.get(),
            )
            .unwrap_or(0);
            let unrealized = oracle.and_then(|price| {
                let mut q = pos;
                q.settle_funding(m.funding_index.get()).ok()?;
                q.unrealized_pnl(price).ok()
            });
            let (settled, paid) = hist
                .iter()
                .find(|(k, _, _)| *k == s.key)
                .map(|(_, a, b)| (*a, *b))
                .unwrap_or((0, 0));
            let amt = |n: i64| carry_sdk::tokens::format_amount(n as i128, qd);
            let name = self.market_name(m);
            let size = u.lots_to_size(p.base_lots as i128);
            let mark = oracle.map(|o| u.per_lot_to_f64(fixed_f64(o)));
            // the oracle price at which maintenance health reaches zero (other terms fixed)
            let liq = oracle
                .and_then(|o| carry_sdk::liquidation::liquidation_price(terms, acc, m, o).ok())
                .flatten()
                .map(|l| u.per_lot_to_f64(fixed_f64(l)));
            let f4 = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or("-".into());
            rows.push(json!({"market": name, "size": size, "base_lots": p.base_lots, "entry": entry, "mark": mark, "liquidation_price": liq,
                "unrealized_pnl": unrealized.map(|x| usd(x, qd)), "settled_pnl": amt(settled),
                "funding_paid": amt(paid), "funding_due": amt(due),
                "bids": u.lots_to_size(p.bids_base_lots as i128), "asks": u.lots_to_size(p.asks_base_lots as i128)}));
            t.row(vec![
                name,
                size,
                f4(entry),
                f4(mark),
                f4(liq),
                unrealized.map(|x| usd(x, qd)).unwrap_or("-".into()),
                amt(settled),
                amt(paid),
                amt(due),
                u.lots_to_size(p.bids_base_lots as i128),
                u.lots_to_size(p.asks_base_lots as i128),
            ]);
        }
        Ok((t, rows))
    }
}
