//! `carry-keeper`: runs Carry's permissionless cranks, each on its own schedule, forever:
//! interest accrual (which also advances each bank's stable price: at least once per
//! `stable_max_step_secs` so stable prices follow at full speed), the reserve sweep into the
//! insurance fund, and the perp cranks: fill events, funding, PnL settlement, and the dated
//! futures' settlement samples and expiry closes (`carry_sdk::keeper`). Liquidation joins with
//! its issue. It finds its work by scanning the exchange's accounts, logs with `tracing`, never
//! stops on one bad account or failed transaction (it logs, backs off that crank and goes on),
//! and prints a status line per crank every `status_secs`.
//!
//! Two keepers at once are safe: every crank is idempotent on chain (an accrual over zero
//! seconds and a sweep of nothing change nothing; each fill event is applied and popped in one
//! instruction; see `carry_sdk::keeper`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use carry_sdk::client::RpcChain;
use carry_sdk::keeper::{exchanges, Keeper, KeeperConfig};
use clap::Parser;
use serde::Deserialize;
use solana_sdk::signature::read_keypair_file;
use tracing::{info, warn};

/// Carry's keeper: runs every permissionless crank on its own schedule.
///
/// Settings come from a TOML file (--config) and flags; flags win. Keys: url, keypair,
/// exchange, accrue_secs, sweep_secs, consume_secs, funding_secs, settle_secs, expiry_secs,
/// min_settle_native, liquidate_secs, liquidator_account, status_secs. A period of 0 turns that
/// crank off.
#[derive(Parser, Debug)]
#[command(name = "carry-keeper", version, about)]
struct Cli {
    /// TOML settings file.
    #[arg(long)]
    config: Option<PathBuf>,
    /// JSON-RPC endpoint [default: http://127.0.0.1:8899].
    #[arg(long, short = 'u')]
    url: Option<String>,
    /// Fee payer keypair (Solana CLI JSON format) [default: ~/.config/solana/id.json].
    #[arg(long, short = 'k')]
    keypair: Option<PathBuf>,
    /// Exchange [default: every exchange on the cluster].
    #[arg(long)]
    exchange: Option<Pubkey>,
    /// Seconds between interest accruals of each bank [default: 30].
    #[arg(long)]
    accrue_secs: Option<u64>,
    /// Seconds between reserve sweeps [default: 3600].
    #[arg(long)]
    sweep_secs: Option<u64>,
    /// Seconds between runs of the fill-event crank [default: 2].
    #[arg(long)]
    consume_secs: Option<u64>,
    /// Seconds between funding cranks of each perpetual (and stable-price steps of each dated
    /// future) [default: 60].
    #[arg(long)]
    funding_secs: Option<u64>,
    /// Seconds between PnL settlement scans [default: 300].
    #[arg(long)]
    settle_secs: Option<u64>,
    /// Seconds between dated-future expiry runs (samples, closes) [default: 10].
    #[arg(long)]
    expiry_secs: Option<u64>,
    /// Least PnL a settlement moves, quote native units [default: 1].
    #[arg(long)]
    min_settle_native: Option<u64>,
    /// Seconds between liquidation scans [default: 5].
    #[arg(long)]
    liquidate_secs: Option<u64>,
    /// Number of the keypair's own margin account (with collateral) that takes over
    /// liquidated positions and borrows; without it only order cancels and bankruptcies run
    /// [default: 0].
    #[arg(long)]
    liquidator_account: Option<u32>,
    /// Seconds between status lines [default: 60].
    #[arg(long)]
    status_secs: Option<u64>,
    /// Run every crank once, print the status and exit (for scripts and tests).
    #[arg(long)]
    once: bool,
}

#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    url: Option<String>,
    keypair: Option<PathBuf>,
    exchange: Option<String>,
    accrue_secs: Option<u64>,
    sweep_secs: Option<u64>,
    consume_secs: Option<u64>,
    funding_secs: Option<u64>,
    settle_secs: Option<u64>,
    expiry_secs: Option<u64>,
    min_settle_native: Option<u64>,
    liquidate_secs: Option<u64>,
    liquidator_account: Option<u32>,
    status_secs: Option<u64>,
}

async fn run(cli: Cli) -> Result<(), String> {
    let file: FileConfig = match &cli.config {
        Some(p) => toml::from_str(
            &std::fs::read_to_string(p).map_err(|e| format!("--config {}: {e}", p.display()))?,
        )
        .map_err(|e| format!("--config {}: {e}", p.display()))?,
        None => FileConfig::default(),
    };
    let url = cli
        .url
        .or(file.url)
        .unwrap_or_else(|| "http://127.0.0.1:8899".into());
    let keypair = cli.keypair.or(file.keypair).unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".config/solana/id.json")
    });
    let payer = read_keypair_file(&keypair)
        .map_err(|e| format!("cannot read keypair {}: {e}", keypair.display()))?;
    let exchange = match cli.exchange {
        Some(e) => Some(e),
        None => file
            .exchange
            .map(|s| {
                s.parse()
                    .map_err(|_| format!("exchange: not a pubkey: {s}"))
            })
            .transpose()?,
    };
    let chain = RpcChain::new(url.clone());
    let d = KeeperConfig::default();
    let config = KeeperConfig {
        accrue_secs: cli
            .accrue_secs
            .or(file.accrue_secs)
            .unwrap_or(d.accrue_secs),
        sweep_secs: cli.sweep_secs.or(file.sweep_secs).unwrap_or(d.sweep_secs),
        consume_secs: cli
            .consume_secs
            .or(file.consume_secs)
            .unwrap_or(d.consume_secs),
        funding_secs: cli
            .funding_secs
            .or(file.funding_secs)
            .unwrap_or(d.funding_secs),
        settle_secs: cli
            .settle_secs
            .or(file.settle_secs)
            .unwrap_or(d.settle_secs),
        expiry_secs: cli
            .expiry_secs
            .or(file.expiry_secs)
            .unwrap_or(d.expiry_secs),
        min_settle_native: cli
            .min_settle_native
            .or(file.min_settle_native)
            .unwrap_or(d.min_settle_native),
        liquidate_secs: cli
            .liquidate_secs
            .or(file.liquidate_secs)
            .unwrap_or(d.liquidate_secs),
        liquidator_account: cli
            .liquidator_account
            .or(file.liquidator_account)
            .unwrap_or(d.liquidator_account),
    };
    let mut keeper = Keeper::new(config);
    let status_every =
        Duration::from_secs(cli.status_secs.or(file.status_secs).unwrap_or(60).max(1));
    let mut next_status = Instant::now() + status_every;
    info!(%url, "keeper started");
    loop {
        let exs = match exchanges(&chain, exchange).await {
            Ok(e) => e,
            Err(e) => {
                warn!(error = %e, "cannot list exchanges; retrying");
                if cli.once {
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        keeper.run_due(&chain, &payer, &exs, cli.once).await;
        if cli.once || Instant::now() >= next_status {
            println!("status: {}", keeper.status());
            next_status = Instant::now() + status_every;
        }
        if cli.once {
            return Ok(());
        }
        let wake = keeper.next_due().min(next_status);
        tokio::select! {
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = tokio::signal::ctrl_c() => {
                info!("stopping");
                return Ok(());
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
