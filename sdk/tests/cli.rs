//! The `carry` CLI and the `carry-keeper` binary run as a user runs them, against the local
//! chain started in-process: output, JSON and exit codes, every refusal the CLI makes before
//! sending (unknown token, health, cash, missing account, bad keypair path, unreachable RPC),
//! the SDK's health equal to the chain's to the bit, and keepers cranking (two at once).

use std::path::{Path, PathBuf};
use std::process::Command;

use carry_localnet::{start, LocalNet, Options};
use carry_migrations::{localnet_mint, Config};
use carry_sdk::client::{self, Chain, RpcChain};
use carry_sdk::margin as sdk;
use serde_json::Value;
use solana_sdk::signature::{Keypair, Signer};

fn tokens_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/localnet.toml")
}

async fn chain() -> LocalNet {
    let mut cfg = Config::load(&tokens_file()).unwrap();
    // prices hold still, so an SDK snapshot and a later simulation see the same price
    for t in &mut cfg.tokens {
        t.volatility_bps = 0;
    }
    start(
        Options {
            rpc_port: 0,
            slot_ms: 50,
            keeper_secs: 0,
            ledger: None,
            maker_secs: 0,
            config: Some(cfg),
        },
        &mut |_| {},
    )
    .await
    .unwrap()
}

fn keyfile(kp: &Keypair, name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("carry-cli-{}-{name}.json", std::process::id()));
    std::fs::write(&p, serde_json::to_string(&kp.to_bytes().to_vec()).unwrap()).unwrap();
    p
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(bin: &'static str, args: Vec<String>) -> Out {
    tokio::task::spawn_blocking(move || {
        let o = Command::new(bin)
            .args(&args)
            .env("HOME", std::env::temp_dir()) // no Solana CLI config of the machine
            .output()
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into(),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    })
    .await
    .unwrap()
}

async fn carry(url: &str, key: &Path, args: &[&str]) -> Out {
    let mut a = vec![
        "-u".to_string(),
        url.to_string(),
        "-k".into(),
        key.display().to_string(),
        "--tokens".into(),
        tokens_file().display().to_string(),
    ];
    a.extend(args.iter().map(|s| s.to_string()));
    run(env!("CARGO_BIN_EXE_carry"), a).await
}

fn fund(net: &LocalNet, kp: &Keypair, usdc: u64, sol: u64) {
    carry_localnet::rpc::airdrop(&net.chain, &kp.pubkey(), 10_000_000_000).unwrap();
    for (symbol, amount) in [("USDC", usdc), ("SOL", sol)] {
        if amount > 0 {
            carry_localnet::faucet::mint_tokens(
                &net.chain,
                &kp.pubkey(),
                &localnet_mint(symbol),
                amount,
            )
            .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_against_the_local_chain() {
    let net = chain().await;
    let url = net.rpc_url();
    let trader = Keypair::new();
    let lender = Keypair::new();
    fund(&net, &trader, 0, 10_000_000_000);
    fund(&net, &lender, 100_000_000_000, 0);
    let tk = keyfile(&trader, "trader");
    let lk = keyfile(&lender, "lender");

    let o = run(env!("CARGO_BIN_EXE_carry"), vec!["--help".into()]).await;
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("Usage: carry") && o.stdout.contains("withdraw"),
        "{}",
        o.stdout
    );

    let o = carry(&url, &tk, &["--json", "banks"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let banks: Value = serde_json::from_str(&o.stdout).unwrap();
    let symbols: Vec<&str> = banks
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["token"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["USDC", "SOL", "BTC", "ETH"]);

    let o = carry(&url, &tk, &["account", "show"]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("carry account create"), "{}", o.stderr);
    let o = carry(&url, &tk, &["account", "create"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.starts_with("created margin account"));
    let o = carry(&url, &tk, &["account", "create"]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("already exists"), "{}", o.stderr);
    for a in [&lk] {
        assert_eq!(carry(&url, a, &["account", "create"]).await.code, 0);
    }

    let o = carry(&url, &tk, &["deposit", "SOL", "5"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = carry(&url, &tk, &["deposit", "FOO", "1"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("unknown token \"FOO\"") && o.stderr.contains("USDC"),
        "{}",
        o.stderr
    );
    let o = carry(&url, &tk, &["deposit", "SOL", "1.0000000001"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("at most 9 decimal places"),
        "{}",
        o.stderr
    );
    let o = carry(&url, &tk, &["deposit", "SOL", "500"]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("less than 500"), "{}", o.stderr);

    // nothing lendable in the USDC bank yet: refused before sending, by cash
    let o = carry(&url, &tk, &["withdraw", "USDC", "100", "--borrow"]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("lendable cash"), "{}", o.stderr);
    assert_eq!(
        carry(&url, &lk, &["deposit", "USDC", "50000"]).await.code,
        0
    );
    // 5 SOL at ~$150 x 0.8 = ~$600 of initial health: $1,000 is refused before sending
    let o = carry(&url, &tk, &["withdraw", "USDC", "1000", "--borrow"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("initial health allows at most"),
        "{}",
        o.stderr
    );
    let o = carry(&url, &tk, &["withdraw", "USDC", "100"]).await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("needs --borrow"), "{}", o.stderr);
    let o = carry(&url, &tk, &["withdraw", "USDC", "100", "--borrow"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);

    let o = carry(&url, &tk, &["--json", "account", "show"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    let bal = |sym: &str| {
        v["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["token"] == sym)
            .map(|b| b["balance"].as_str().unwrap().to_string())
    };
    assert_eq!(bal("SOL").as_deref(), Some("5"));
    assert!(bal("USDC").unwrap().starts_with("-100"), "{v}");
    let init: f64 = v["init_health"].as_str().unwrap().parse().unwrap();
    assert!(init > 400.0 && init < 520.0, "{v}");
    let o = carry(&url, &tk, &["account", "show"]).await;
    assert!(
        o.stdout.contains("health: init") && o.stdout.contains("SOL"),
        "{}",
        o.stdout
    );

    // the SDK's health equals the chain's compute_health, to the bit, at the same second
    let rpc = RpcChain::new(url.clone());
    let ex = client::exchanges(&rpc).await.unwrap()[0].0;
    let banks = client::banks(&rpc, &ex).await.unwrap();
    let account = sdk::margin_account_pda(&ex, &trader.pubkey(), 0);
    let mut compared = false;
    for _ in 0..10 {
        let t0 = rpc.clock().await.unwrap().unix_timestamp;
        let acc = sdk::decode_margin_account(&rpc.account(&account).await.unwrap().unwrap().data)
            .unwrap();
        let snaps = carry_sdk::health::snapshot_banks(&rpc, &banks)
            .await
            .unwrap();
        let pairs = sdk::health_pairs(&acc, banks.iter().map(|(k, b)| (*k, b)));
        let ix = sdk::compute_health(ex, account, &pairs);
        let tx = solana_sdk::transaction::Transaction::new_signed_with_payer(
            &[ix],
            Some(&trader.pubkey()),
            &[&trader],
            net.chain.bank().last_blockhash(),
        );
        let sim = net.chain.simulate(tx.into(), true).unwrap();
        let t1 = rpc.clock().await.unwrap().unix_timestamp;
        if t0 != t1 {
            continue;
        }
        let info = sdk::decode_health_info(&sim.return_data.unwrap().1).unwrap();
        let (init, maint) = sdk::health_values(&info);
        let h = carry_sdk::health::health(&acc, 6, &snaps, &[], t0).unwrap();
        assert_eq!((h.init, h.maint), (init, maint));
        compared = true;
        break;
    }
    assert!(compared, "the clock never held still for a comparison");

    // a bad keypair path, an unreachable endpoint
    let o = carry(
        &url,
        Path::new("/nonexistent/id.json"),
        &["deposit", "SOL", "1"],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr
            .contains("cannot read keypair /nonexistent/id.json"),
        "{}",
        o.stderr
    );
    let o = carry("http://127.0.0.1:9", &tk, &["banks"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("cannot reach http://127.0.0.1:9"),
        "{}",
        o.stderr
    );
    let o = carry("http://127.0.0.1:9", &tk, &["--json", "banks"]).await;
    let v: Value = serde_json::from_str(o.stdout.trim()).unwrap();
    assert_eq!(v["ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_crank_every_bank_two_at_once() {
    let net = chain().await;
    let url = net.rpc_url();
    let k1 = Keypair::new();
    let k2 = Keypair::new();
    for k in [&k1, &k2] {
        carry_localnet::rpc::airdrop(&net.chain, &k.pubkey(), 10_000_000_000).unwrap();
    }
    let rpc = RpcChain::new(url.clone());
    let ex = client::exchanges(&rpc).await.unwrap()[0].0;
    let before = client::banks(&rpc, &ex).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // the clock moves a second
    let (f1, f2) = (keyfile(&k1, "keeper1"), keyfile(&k2, "keeper2"));
    let args = |f: &PathBuf| {
        vec![
            "--once".to_string(),
            "-u".into(),
            url.clone(),
            "-k".into(),
            f.display().to_string(),
        ]
    };
    let (a, b) = tokio::join!(
        run(env!("CARGO_BIN_EXE_carry-keeper"), args(&f1)),
        run(env!("CARGO_BIN_EXE_carry-keeper"), args(&f2))
    );
    for o in [&a, &b] {
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(
            o.stdout.contains("accrue_interest: 4 sent, 0 failed"),
            "{}",
            o.stdout
        );
        assert!(
            o.stdout.contains("sweep_reserve: 1 sent, 0 failed"),
            "{}",
            o.stdout
        );
    }
    let after = client::banks(&rpc, &ex).await.unwrap();
    for ((_, b0), (_, b1)) in before.iter().zip(&after) {
        assert!(b1.last_accrual_ts > b0.last_accrual_ts, "accrued");
        assert!(
            b1.stable_price_ts > b0.stable_price_ts,
            "stable price touched"
        );
    }
    // settings from a TOML file, flags winning; a period of 0 turns a crank off
    let cfg = std::env::temp_dir().join(format!("carry-keeper-{}.toml", std::process::id()));
    std::fs::write(
        &cfg,
        format!(
            "url = \"{url}\"\nkeypair = \"{}\"\nsweep_secs = 0\nfunding_secs = 0\nsettle_secs = 120\n",
            f1.display()
        ),
    )
    .unwrap();
    let o = run(
        env!("CARGO_BIN_EXE_carry-keeper"),
        vec![
            "--once".into(),
            "--config".into(),
            cfg.display().to_string(),
            "--funding-secs".into(),
            "30".into(),
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        !o.stdout.contains("sweep_reserve")
            // three perpetuals funded, the dated future's stable price stepped
            && o.stdout.contains("update_funding: 4 sent")
            && o.stdout
                .contains("consume_perp_events: 0 sent, 0 failed, 0 events")
            && o.stdout.contains("settle_pnl: 0 sent"),
        "{}",
        o.stdout
    );
    std::fs::write(&cfg, "consume_every = 3\n").unwrap();
    let o = run(
        env!("CARGO_BIN_EXE_carry-keeper"),
        vec![
            "--once".into(),
            "--config".into(),
            cfg.display().to_string(),
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("unknown field `consume_every`"),
        "{}",
        o.stderr
    );

    // an unreachable endpoint: a clear error and a non-zero exit
    let o = run(
        env!("CARGO_BIN_EXE_carry-keeper"),
        vec![
            "--once".into(),
            "-u".into(),
            "http://127.0.0.1:9".into(),
            "-k".into(),
            f1.display().to_string(),
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("error:"), "{}", o.stderr);
}

fn json_of(o: &Out) -> Value {
    serde_json::from_str(o.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", o.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_perps_against_the_local_chain() {
    let net = chain().await;
    let url = net.rpc_url();
    let trader = Keypair::new();
    let maker = Keypair::new();
    fund(&net, &trader, 1_000_000_000, 0);
    fund(&net, &maker, 10_000_000_000, 0);
    let tk = keyfile(&trader, "perp-trader");
    let mk = keyfile(&maker, "perp-maker");

    let o = carry(&url, &tk, &["--json", "markets"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = json_of(&o);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["market"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SOL-PERP", "BTC-PERP", "SOL-1D", "ETH-PERP"]);
    let oracle = v[0]["oracle"].as_f64().unwrap();
    assert!((oracle - 150.0).abs() < 1.0, "{v}");
    assert_eq!(v[0]["open_interest"], "0");
    assert_eq!(v[2]["dated"], true);
    // the stable price the program would use now (the market is new: at the oracle), the
    // band and the guard as the market's parameters set them
    let stable = v[0]["stable"].as_f64().unwrap();
    assert!((stable - oracle).abs() < 0.01, "{v}");
    assert!(v[0]["order_band_bps"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v[0]["guard_held"], false);
    let o = carry(&url, &tk, &["markets"]).await;
    assert!(
        o.stdout.contains("SOL-PERP")
            && o.stdout.contains("funding/period")
            && o.stdout.contains("stable $")
            && o.stdout.contains("guard"),
        "{}",
        o.stdout
    );

    for (k, amount) in [(&tk, "1000"), (&mk, "10000")] {
        assert_eq!(carry(&url, k, &["account", "create"]).await.code, 0);
        let o = carry(&url, k, &["deposit", "USDC", amount]).await;
        assert_eq!(o.code, 0, "{}", o.stderr);
    }

    // refusals before sending: unknown market, off-grid size and price, health
    let o = carry(
        &url,
        &tk,
        &["order", "place", "FOO-PERP", "--side", "buy", "1", "140"],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("unknown market \"FOO-PERP\"") && o.stderr.contains("SOL-PERP"),
        "{}",
        o.stderr
    );
    let o = carry(
        &url,
        &tk,
        &[
            "order", "place", "SOL-PERP", "--side", "buy", "0.001", "140",
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("lot size 0.01"), "{}", o.stderr);
    let o = carry(
        &url,
        &tk,
        &[
            "order", "place", "SOL-PERP", "--side", "buy", "1", "140.001",
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("tick 0.01"), "{}", o.stderr);
    // 1,000 SOL at $140 with 1,000 USDC: far beyond 100x
    let args = [
        "order",
        "place",
        "SOL-PERP",
        "--side",
        "buy",
        "1000",
        "140",
        "--type",
        "post-only",
    ];
    let o = carry(&url, &tk, &args).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("refused before sending: initial health") && o.stderr.contains("at most"),
        "{}",
        o.stderr
    );
    let mut j = vec!["--json"];
    j.extend(args);
    let o = carry(&url, &tk, &j).await;
    assert_eq!(o.code, 1);
    assert_eq!(json_of(&o)["ok"], false);
    // the projected largest bid at 100 (far below the book) is accepted by the chain, one lot
    // more is refused before sending; the order is cancelled again
    let o = carry(
        &url,
        &tk,
        &["--json", "order", "max", "SOL-PERP", "--side", "buy", "100"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mx = json_of(&o);
    let lots = mx["max_lots"].as_u64().unwrap();
    assert!(lots > 10_000, "{mx}");
    let max_size = mx["max_size"].as_str().unwrap().to_string();
    let more = carry_sdk::tokens::format_amount((lots as i128 + 1) * 10_000_000, 9);
    let o = carry(
        &url,
        &tk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "buy",
            &more,
            "100",
            "--type",
            "post-only",
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains(&format!("at most {max_size} ")),
        "{}",
        o.stderr
    );
    let o = carry(
        &url,
        &tk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "buy",
            &max_size,
            "100",
            "--type",
            "post-only",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        carry(&url, &tk, &["order", "cancel-all", "SOL-PERP"])
            .await
            .code,
        0
    );

    // the maker rests asks: post-only, post-only-slide, oracle-pegged
    let o = carry(
        &url,
        &mk,
        &[
            "--json",
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "sell",
            "2",
            "151",
            "--type",
            "post-only",
            "--client-id",
            "9",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(json_of(&o)["resting"], "2");
    let o = carry(
        &url,
        &mk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "sell",
            "1",
            "152",
            "--type",
            "post-only-slide",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("resting 1 at 152"), "{}", o.stdout);
    let o = carry(
        &url,
        &mk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "sell",
            "1",
            "--type",
            "oracle-pegged",
            "--peg-offset",
            "3",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = carry(&url, &tk, &["--json", "book", "SOL-PERP"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let b = json_of(&o);
    assert_eq!(b["asks"][0]["price"], "151.00");
    assert_eq!(b["asks"][0]["size"], "2");
    assert_eq!(b["asks"].as_array().unwrap().len(), 3, "{b}");
    let o = carry(&url, &tk, &["book", "SOL-PERP"]).await;
    assert!(
        o.stdout.contains("151.00") && o.stdout.contains("oracle"),
        "{}",
        o.stdout
    );

    // the trader takes: IOC, market (worst price from the oracle), FOK too large (refused by
    // the book), reduce-only that would add (refused by the program)
    let o = carry(
        &url,
        &tk,
        &[
            "--json", "order", "place", "SOL-PERP", "--side", "buy", "0.5", "151.5", "--type",
            "ioc",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let f = json_of(&o);
    assert_eq!(f["filled"], "0.5");
    assert!(
        (f["avg_price"].as_f64().unwrap() - 151.0).abs() < 1e-9,
        "{f}"
    );
    let o = carry(
        &url,
        &tk,
        &[
            "order", "place", "SOL-PERP", "--side", "buy", "0.2", "--type", "market",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("filled 0.2"), "{}", o.stdout);
    let o = carry(
        &url,
        &tk,
        &[
            "order", "place", "SOL-PERP", "--side", "buy", "100", "151", "--type", "fok",
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("transaction failed"), "{}", o.stderr);
    let o = carry(
        &url,
        &tk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "buy",
            "0.1",
            "140",
            "--reduce-only",
        ],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("transaction failed"), "{}", o.stderr);

    // resting orders cancelled by client id, by order id, and all at once
    let o = carry(
        &url,
        &tk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "buy",
            "0.1",
            "140",
            "--client-id",
            "7",
            "--expires-in",
            "3600",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = carry(
        &url,
        &tk,
        &["order", "cancel", "SOL-PERP", "--client-id", "7"],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = carry(
        &url,
        &tk,
        &["order", "cancel", "SOL-PERP", "--client-id", "7"],
    )
    .await;
    assert_eq!(o.code, 1, "cancelled twice");
    let o = carry(
        &url,
        &tk,
        &[
            "--json", "order", "place", "SOL-PERP", "--side", "buy", "0.1", "141",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let id = json_of(&o)["order_id"].as_str().unwrap().to_string();
    let o = carry(&url, &tk, &["order", "cancel", "SOL-PERP", "--id", &id]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = carry(
        &url,
        &tk,
        &[
            "order",
            "place",
            "SOL-PERP",
            "--side",
            "buy",
            "0.1",
            "139",
            "--type",
            "post-only",
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = carry(&url, &tk, &["order", "cancel-all", "SOL-PERP"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);

    // the position: 0.7 long, entry near 151, marked at the oracle
    let o = carry(&url, &tk, &["--json", "account", "show"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let a = json_of(&o);
    let p = &a["positions"][0];
    assert_eq!(p["market"], "SOL-PERP", "{a}");
    assert_eq!(p["size"], "0.7");
    assert_eq!(p["bids"], "0");
    let entry = p["entry"].as_f64().unwrap();
    assert!(entry > 151.0 && entry < 151.2, "{a}");
    assert!(
        p["unrealized_pnl"].as_str().unwrap().starts_with('-'),
        "{a}"
    );
    // a long's liquidation price (the SDK's, by the program's perp term) is below the mark, or
    // none when no price above zero would make the account liquidatable
    let mark = p["mark"].as_f64().unwrap();
    match p["liquidation_price"].as_f64() {
        Some(liq) => assert!(liq > 0.0 && liq < mark, "{a}"),
        None => assert!(p["liquidation_price"].is_null(), "{a}"),
    }
    let o = carry(&url, &tk, &["account", "show"]).await;
    assert!(
        o.stdout.contains("SOL-PERP")
            && o.stdout.contains("liq. $")
            && o.stdout.contains("entry $")
            && o.stdout.contains("health: init"),
        "{}",
        o.stdout
    );

    // the insurance fund: a balance and the fees waiting to be swept
    let o = carry(&url, &tk, &["--json", "insurance"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let f = json_of(&o);
    assert!(
        f["balance"].as_str().is_some() && f["perp_fees_to_sweep"].as_str().is_some(),
        "{f}"
    );

    // one keeper run: the maker's fills applied, both PnLs settled (the trader's loss first)
    let keeper = Keypair::new();
    carry_localnet::rpc::airdrop(&net.chain, &keeper.pubkey(), 10_000_000_000).unwrap();
    let kk = keyfile(&keeper, "perp-keeper");
    let o = run(
        env!("CARGO_BIN_EXE_carry-keeper"),
        vec![
            "--once".into(),
            "-u".into(),
            url.clone(),
            "-k".into(),
            kk.display().to_string(),
        ],
    )
    .await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .contains("consume_perp_events: 1 sent, 0 failed, 2 events")
            && o.stdout
                // three perpetuals funded, the dated future's stable price stepped
                .contains("update_funding: 4 sent, 0 failed, 4 markets")
            && o.stdout
                .contains("settle_pnl: 2 sent, 0 failed, 2 positions"),
        "{}",
        o.stdout
    );
    let o = carry(&url, &mk, &["--json", "account", "show"]).await;
    let a = json_of(&o);
    assert_eq!(a["positions"][0]["size"], "-0.7", "{a}");
    let o = carry(&url, &tk, &["--json", "account", "show"]).await;
    let a = json_of(&o);
    let settled = a["positions"][0]["settled_pnl"].as_str().unwrap();
    assert!(
        settled.starts_with("-0.7"),
        "the trader's loss settled: {a}"
    );

    // a bad keypair path, an unreachable endpoint
    let o = carry(
        &url,
        Path::new("/nonexistent/id.json"),
        &["order", "place", "SOL-PERP", "--side", "buy", "0.1", "140"],
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("cannot read keypair"), "{}", o.stderr);
    let o = carry("http://127.0.0.1:9", &tk, &["markets"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("cannot reach http://127.0.0.1:9"),
        "{}",
        o.stderr
    );
}
