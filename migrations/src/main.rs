//! `carry-bootstrap`: create or update an exchange and its banks on a cluster from a config file.
//!
//!     carry-bootstrap --url http://127.0.0.1:8899 --keypair ~/.config/solana/id.json \
//!         --config migrations/localnet.toml

use std::path::PathBuf;
use std::process::ExitCode;

use carry_migrations::{bootstrap, Config};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::read_keypair_file;

const USAGE: &str = "\
carry-bootstrap: create or update a Carry exchange and its banks from a config file.
Idempotent: a second run changes nothing; a run that died midway resumes.

USAGE:
    carry-bootstrap --config FILE --keypair FILE [--url URL]

OPTIONS:
    --config FILE    bootstrap config (TOML), e.g. migrations/localnet.toml
    --keypair FILE   admin keypair (Solana CLI JSON format); pays and becomes the admin
    --url URL        JSON-RPC endpoint [default: http://127.0.0.1:8899]
    -h, --help       this help";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut config, mut keypair, mut url) = (None, None, "http://127.0.0.1:8899".to_string());
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--config" => config = args.next().map(PathBuf::from),
            "--keypair" => keypair = args.next().map(PathBuf::from),
            "--url" => url = args.next().unwrap_or(url),
            other => {
                eprintln!("error: unknown argument {other}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(config), Some(keypair)) = (config, keypair) else {
        eprintln!("error: --config and --keypair are required\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let cfg = match Config::load(&config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let admin = match read_keypair_file(&keypair) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: keypair {}: {e}", keypair.display());
            return ExitCode::FAILURE;
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let rpc = RpcClient::new(url.clone());
    let r = rt.block_on(bootstrap(&rpc, &admin, &cfg, &mut |l| println!("{l}")));
    match r {
        Ok(report) if report.changes() == 0 => {
            println!("nothing to do: {url} already matches {}", config.display());
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!("{} change(s) applied to {url}", report.changes());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}\n(run it again to resume: finished steps are skipped)");
            ExitCode::FAILURE
        }
    }
}
