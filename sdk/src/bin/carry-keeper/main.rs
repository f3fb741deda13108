//! `carry-keeper`: runs Carry's permissionless cranks, each on its own schedule, forever:
//! interest accrual (which also advances each bank's stable price: at least once per
//! `stable_max_step_secs` so stable prices follow at full speed) and the reserve sweep into
//! the insurance fund. Fill events, funding, PnL settlement, expiry and liquidation join with
//! the perp and liquidation issues. It finds its work by scanning the exchange's accounts,
//! logs with `tracing`, never stops on one bad account or failed transaction (it logs, backs
//! off that crank and goes on), and prints a status line per crank every `status_secs`.
//!
//! Two keepers at once are safe: every crank is idempotent on chain (an accrual over zero
//! seconds and a sweep of nothing change nothing).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use carry_sdk::client::RpcChain;
use carry_sdk::keeper::{accrue_all, exchanges, sweep_all, Crank};
use clap::Parser;
use serde::Deserialize;
use solana_sdk::signature::read_keypair_file;
use tracing::{info, warn};

/// Carry's keeper: runs every permissionless crank on its own schedule.
///
/// Settings come from a TOML file (--config) and flags; flags win. Keys: url, keypair,
/// exchange, accrue_secs, sweep_secs, status_secs.
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
    let mut accrue = Crank::new(
        "accrue_interest",
        cli.accrue_secs.or(file.accrue_secs).unwrap_or(30),
    );
    let mut sweep = Crank::new(
        "sweep_reserve",
        cli.sweep_secs.or(file.sweep_secs).unwrap_or(3600),
    );
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
        let now = Instant::now();
        if now >= accrue.next {
            let ok = accrue_all(&chain, &payer, &exs, &mut accrue.tally).await;
            accrue.done(ok);
        }
        if now >= sweep.next {
            let ok = sweep_all(&chain, &payer, &exs, &mut sweep.tally).await;
            sweep.done(ok);
        }
        if cli.once || Instant::now() >= next_status {
            println!("status: {} | {}", accrue.status(), sweep.status());
            next_status = Instant::now() + status_every;
        }
        if cli.once {
            return Ok(());
        }
        let wake = accrue.next.min(sweep.next).min(next_status);
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
