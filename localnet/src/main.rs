//! `carry-localnet`: Carry's development chain, bootstrapped and ready (see the README's first
//! command). Ctrl-C stops it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use carry_localnet::{logs, start, Options};
use carry_migrations::Config;

const USAGE: &str = "\
carry-localnet: Carry's development chain on 127.0.0.1.

The real Solana runtime (solana-runtime 2.3) runs Carry's programs natively with SPL Token and
Associated Token Account for real; a JSON-RPC endpoint serves it to the CLI, the app, the SDK
and @solana/web3.js; a faucet hands out SOL (requestAirdrop) and test tokens
(carry_requestTokens); Pyth price feeds move every slot; the bootstrap config creates the
exchange, its banks and perp markets; the keeper cranks and a market maker quotes every perp
market. A development chain, not a validator: no consensus, no SBF.

USAGE:
    carry-localnet [OPTIONS]

OPTIONS:
    --rpc-port PORT    JSON-RPC port on 127.0.0.1 [default: 8899]
    --slot-ms MS       slot length in milliseconds [default: 400]
    --config FILE      bootstrap config [default: migrations/localnet.toml]
    --no-bootstrap     start an empty chain (no mints, feeds, exchange or banks)
    --keeper-secs S    run the keeper's cranks every S seconds, 0 for none [default: 10]
    --maker-secs S     market maker: requote every perp market every S seconds, 0 for none
                       [default: 2]
    --ledger DIR       resume accounts from DIR and save them there (every 10 s and at Ctrl-C)
    -h, --help         this help";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut port: u16 = 8899;
    let mut slot_ms: u64 = 400;
    // from the repository root, else the checked-in file next to this crate
    let mut config = PathBuf::from("migrations/localnet.toml");
    if !config.exists() {
        config = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../migrations/localnet.toml"
        ));
    }
    let mut bootstrap = true;
    let mut keeper_secs: u64 = 10;
    let mut maker_secs: u64 = 2;
    let mut ledger: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let r: Result<(), String> = match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--rpc-port" => value("--rpc-port").and_then(|v| {
                port = v
                    .parse()
                    .map_err(|_| format!("--rpc-port: not a port: {v}"))?;
                Ok(())
            }),
            "--slot-ms" => value("--slot-ms").and_then(|v| {
                slot_ms = v
                    .parse()
                    .ok()
                    .filter(|ms| *ms > 0)
                    .ok_or_else(|| format!("--slot-ms: not a positive number: {v}"))?;
                Ok(())
            }),
            "--config" => value("--config").map(|v| config = PathBuf::from(v)),
            "--ledger" => value("--ledger").map(|v| ledger = Some(PathBuf::from(v))),
            "--keeper-secs" => value("--keeper-secs").and_then(|v| {
                keeper_secs = v
                    .parse()
                    .map_err(|_| format!("--keeper-secs: not a number: {v}"))?;
                Ok(())
            }),
            "--maker-secs" => value("--maker-secs").and_then(|v| {
                maker_secs = v
                    .parse()
                    .map_err(|_| format!("--maker-secs: not a number: {v}"))?;
                Ok(())
            }),
            "--no-bootstrap" => {
                bootstrap = false;
                Ok(())
            }
            other => Err(format!("unknown argument {other}")),
        };
        if let Err(e) = r {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let cfg = if bootstrap {
        match Config::load(&config) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    // Programs print their msg! lines to stdout; route them into transaction logs and keep
    // the original stdout for this console.
    let mut console = match logs::capture_stdout() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot capture program output: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let started = std::time::Instant::now();
    let net = rt.block_on(start(
        Options {
            rpc_port: port,
            slot_ms,
            config: cfg.clone(),
            keeper_secs: if bootstrap { keeper_secs } else { 0 },
            ledger: ledger.clone(),
            maker_secs: if bootstrap { maker_secs } else { 0 },
        },
        &mut |l| {
            let _ = writeln!(console, "{l}");
        },
    ));
    let net = match net {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _ = writeln!(
        console,
        "\nCarry local chain ready in {:.1} s\n  RPC:      {}\n  faucet:   requestAirdrop (SOL), carry_requestTokens(owner, mint, amount)",
        started.elapsed().as_secs_f64(),
        net.rpc_url()
    );
    if let Some(cfg) = &cfg {
        let admin = solana_sdk::signature::Signer::pubkey(&net.chain.faucet);
        let _ = writeln!(
            console,
            "  exchange: {} (admin: the faucet {admin})",
            carry_migrations::exchange_of(&admin, cfg)
        );
        for t in &cfg.tokens {
            let _ = writeln!(
                console,
                "  {:<5}     mint {}  oracle {}",
                t.symbol,
                t.mint().unwrap_or_default(),
                t.oracle().unwrap_or_default()
            );
        }
    }
    let _ = writeln!(
        console,
        "Next: point any Solana client at {} (e.g. `solana -u {} slot`). Ctrl-C stops.",
        net.rpc_url(),
        net.rpc_url()
    );
    if let Some(cfg) = &cfg {
        for m in &cfg.perp_markets {
            let _ = writeln!(console, "  {:<9} on the {} feed", m.symbol, m.base);
        }
    }
    rt.block_on(async {
        let first = net.first_quote.clone();
        let mut said = maker_secs == 0;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = tick.tick(), if !said => {
                    if let Some(d) = *first.lock().unwrap() {
                        let _ = writeln!(
                            console,
                            "market maker: first quotes {:.1} s after start",
                            d.as_secs_f64()
                        );
                        said = true;
                    }
                }
            }
        }
    });
    match net.save() {
        Ok(0) => {}
        Ok(n) => {
            let _ = writeln!(console, "ledger saved: {n} accounts");
        }
        Err(e) => eprintln!("error: {e}"),
    }
    let _ = writeln!(console, "stopped at slot {}", net.chain.bank().slot());
    ExitCode::SUCCESS
}
