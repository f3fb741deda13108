//! The keeper's cranks as a library (the `carry-keeper` binary and the local chain run them):
//! interest accrual of every bank (which also advances its stable price) and the reserve sweep
//! into the insurance fund, each on its own schedule with backoff on failure, never stopping
//! on one bad account or transaction. Every crank is idempotent on chain, so two keepers at
//! once never double-apply anything.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use solana_sdk::signature::Keypair;
use tracing::{info, warn};

use crate::client::{self, Chain};
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
}

/// One crank's schedule and tally.
pub struct Crank {
    /// Its name in status lines.
    pub name: &'static str,
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
            every: Duration::from_secs(secs.max(1)),
            next: Instant::now(),
            backoff: Duration::ZERO,
            tally: Tally::default(),
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
        format!(
            "{}: {} sent, {} failed{}",
            self.name,
            t.sent,
            t.failed,
            t.last_error
                .map(|e| format!(" (last: {e})"))
                .unwrap_or_default()
        )
    }
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
            match client::send_instructions(chain, payer, &[], &[ix], 100_000).await {
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
            let s = client::send_instructions(chain, payer, &[], &[ix], 100_000)
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

/// Run the accrual and sweep cranks until the task is dropped, printing nothing (the local
/// chain runs this with its faucet as payer).
pub async fn run_forever(chain: &dyn Chain, payer: &Keypair, accrue_secs: u64, sweep_secs: u64) {
    let mut accrue = Crank::new("accrue_interest", accrue_secs);
    let mut sweep = Crank::new("sweep_reserve", sweep_secs);
    loop {
        match exchanges(chain, None).await {
            Ok(exs) => {
                let now = Instant::now();
                if now >= accrue.next {
                    let ok = accrue_all(chain, payer, &exs, &mut accrue.tally).await;
                    accrue.done(ok);
                }
                if now >= sweep.next {
                    let ok = sweep_all(chain, payer, &exs, &mut sweep.tally).await;
                    sweep.done(ok);
                }
            }
            Err(e) => warn!(error = %e, "keeper: cannot list exchanges"),
        }
        let wake = accrue
            .next
            .min(sweep.next)
            .max(Instant::now() + Duration::from_millis(200));
        tokio::time::sleep_until(wake.into()).await;
    }
}
