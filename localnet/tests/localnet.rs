//! The local chain end to end, over its JSON-RPC endpoint only: start it in-process (free port,
//! 50 ms slots), bootstrap `migrations/localnet.toml`, then use it as a cluster with
//! `solana-rpc-client` and the SDK's builders: airdrop and token faucet, a margin account with
//! a deposit and a borrow, events and `msg!` lines in `getTransaction` logs, program accounts by
//! filter; the bootstrap again (nothing changes) and resumed after dying midway; malformed and
//! hostile requests answered with errors while the chain keeps serving; and `@solana/web3.js`
//! 1.x signing, sending and confirming from Node.
//!
//! A test binary without libtest (`harness = false`): programs print their `msg!` lines to
//! standard output, which the chain routes into transaction logs and libtest would capture.

use std::path::Path;
use std::time::Duration;

use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine;
use carry_localnet::{start, LocalNet, Options};
use carry_migrations::{bootstrap, localnet_mint, Config};
use carry_sdk::margin as sdk;
use serde_json::{json, Value};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::commitment_config::CommitmentConfig;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::Transaction;

fn config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/localnet.toml");
    Config::load(&path).expect("localnet.toml")
}

async fn chain() -> LocalNet {
    start(
        Options {
            rpc_port: 0,
            slot_ms: 50,
            keeper_secs: 1,
            ledger: None,
            maker_secs: 0,
            config: Some(config()),
        },
        &mut |_| {},
    )
    .await
    .expect("local chain starts")
}

async fn send(
    rpc: &RpcClient,
    payer: &Keypair,
    ixs: &[Instruction],
    extra: &[&Keypair],
) -> Signature {
    let bh = rpc.get_latest_blockhash().await.unwrap();
    let mut signers = vec![payer];
    signers.extend_from_slice(extra);
    let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &signers, bh);
    rpc.send_and_confirm_transaction(&tx)
        .await
        .expect("transaction lands")
}

/// Raw JSON-RPC call (for what `RpcClient` does not expose or would refuse to send).
async fn raw(url: &str, body: String) -> Value {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || post(&url, &body))
        .await
        .unwrap()
}

/// A minimal blocking HTTP/1.1 POST (keeps the test free of an HTTP client dependency).
fn post(url: &str, body: &str) -> Value {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|_| json!({"raw": body}))
}

async fn local_chain_end_to_end() {
    let net = chain().await;
    let url = net.rpc_url();
    let rpc = RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed());
    let cfg = config();
    let report = net.bootstrap.clone().unwrap();
    assert_eq!(
        report.changes(),
        1 + cfg.tokens.len() + cfg.perp_markets.len(),
        "exchange + banks + perp markets created"
    );

    // the slot clock runs
    let s0 = rpc.get_slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rpc.get_slot().await.unwrap() > s0, "slots advance");

    // a trader: SOL from the airdrop, USDC and SOL tokens from the faucet
    let trader = Keypair::new();
    let sig = rpc
        .request_airdrop(&trader.pubkey(), 10_000_000_000)
        .await
        .unwrap();
    assert!(rpc.confirm_transaction(&sig).await.unwrap());
    assert_eq!(
        rpc.get_balance(&trader.pubkey()).await.unwrap(),
        10_000_000_000
    );
    let usdc = localnet_mint("USDC");
    let sol = localnet_mint("SOL");
    for (mint, amount) in [(usdc, 1_000_000_000u64), (sol, 10_000_000_000)] {
        let r = raw(
            &url,
            json!({"jsonrpc":"2.0","id":1,"method":"carry_requestTokens",
                   "params":[trader.pubkey().to_string(), mint.to_string(), amount]})
            .to_string(),
        )
        .await;
        assert!(r["result"].is_string(), "{r}");
    }
    let wallet_usdc =
        anchor_spl::associated_token::get_associated_token_address(&trader.pubkey(), &usdc);
    let wallet_sol =
        anchor_spl::associated_token::get_associated_token_address(&trader.pubkey(), &sol);
    let bal = rpc.get_token_account_balance(&wallet_usdc).await.unwrap();
    assert_eq!((bal.amount.as_str(), bal.decimals), ("1000000000", 6));
    let owned = rpc
        .get_token_accounts_by_owner(
            &trader.pubkey(),
            solana_rpc_client_api::request::TokenAccountsFilter::ProgramId(spl_token::ID),
        )
        .await
        .unwrap();
    assert_eq!(owned.len(), 2);

    // a margin account, a SOL deposit and a USDC borrow, through the SDK's builders
    let admin = net.chain.faucet.pubkey();
    let exchange = sdk::exchange_pda(&admin, cfg.exchange.number);
    let account = sdk::margin_account_pda(&exchange, &trader.pubkey(), 0);
    send(
        &rpc,
        &trader,
        &[sdk::create_margin_account(trader.pubkey(), exchange, 0)],
        &[],
    )
    .await;
    // liquidity for the borrow: the faucet deposits USDC from its own wallet
    let lender = Keypair::new();
    rpc.confirm_transaction(
        &rpc.request_airdrop(&lender.pubkey(), 1_000_000_000)
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    raw(
        &url,
        json!({"jsonrpc":"2.0","id":1,"method":"carry_requestTokens",
        "params":[lender.pubkey().to_string(), usdc.to_string(), 100_000_000_000u64]})
        .to_string(),
    )
    .await;
    let lender_account = sdk::margin_account_pda(&exchange, &lender.pubkey(), 0);
    let lender_wallet =
        anchor_spl::associated_token::get_associated_token_address(&lender.pubkey(), &usdc);
    let usdc_bank = sdk::bank_pda(&exchange, &usdc);
    let sol_bank = sdk::bank_pda(&exchange, &sol);
    send(
        &rpc,
        &lender,
        &[
            sdk::create_margin_account(lender.pubkey(), exchange, 0),
            sdk::deposit(
                lender.pubkey(),
                exchange,
                lender_account,
                usdc_bank,
                sdk::vault_pda(&usdc_bank),
                usdc,
                lender_wallet,
                50_000_000_000,
                None,
            ),
        ],
        &[],
    )
    .await;
    let dep = send(
        &rpc,
        &trader,
        &[sdk::deposit(
            trader.pubkey(),
            exchange,
            account,
            sol_bank,
            sdk::vault_pda(&sol_bank),
            sol,
            wallet_sol,
            5_000_000_000,
            None,
        )],
        &[],
    )
    .await;
    let pairs = [
        (usdc_bank, cfg.tokens[0].oracle().unwrap()),
        (sol_bank, cfg.tokens[1].oracle().unwrap()),
    ];
    let borrow = send(
        &rpc,
        &trader,
        &[sdk::withdraw(
            trader.pubkey(),
            exchange,
            account,
            usdc_bank,
            sdk::vault_pda(&usdc_bank),
            usdc,
            wallet_usdc,
            100_000_000,
            true,
            &pairs,
        )],
        &[],
    )
    .await;
    let bal = rpc.get_token_account_balance(&wallet_usdc).await.unwrap();
    assert_eq!(bal.amount, "1100000000", "borrowed 100 USDC");
    let acc = sdk::decode_margin_account(&rpc.get_account_data(&account).await.unwrap()).unwrap();
    assert_eq!(acc.active_token_count(), 2);

    // logs: Anchor's msg! lines and the events as `Program data:` lines, decodable
    let got = raw(
        &url,
        json!({"jsonrpc":"2.0","id":1,"method":"getTransaction","params":[dep.to_string(), {"encoding":"json"}]}).to_string(),
    )
    .await;
    let logs: Vec<String> =
        serde_json::from_value(got["result"]["meta"]["logMessages"].clone()).unwrap();
    assert!(
        logs.iter()
            .any(|l| l == "Program log: Instruction: Deposit"),
        "{logs:?}"
    );
    let events: Vec<carry_margin::events::DepositEvent> = logs
        .iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
        .filter(|d| d.len() > 8 && &d[..8] == carry_margin::events::DepositEvent::DISCRIMINATOR)
        .map(|d| carry_margin::events::DepositEvent::deserialize(&mut &d[8..]).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{logs:?}");
    assert_eq!(
        (events[0].account, events[0].amount),
        (account, 5_000_000_000)
    );
    assert_eq!(got["result"]["meta"]["err"], Value::Null);
    let got = raw(
        &url,
        json!({"jsonrpc":"2.0","id":1,"method":"getTransaction","params":[borrow.to_string(), {"encoding":"base64"}]}).to_string(),
    )
    .await;
    let logs = got["result"]["meta"]["logMessages"].as_array().unwrap();
    assert!(logs
        .iter()
        .any(|l| l.as_str().unwrap().starts_with("Program data: ")));
    let sigs = rpc.get_signatures_for_address(&account).await.unwrap();
    assert_eq!(sigs.len(), 3, "create, deposit, borrow");
    assert_eq!(sigs[0].signature, borrow.to_string(), "newest first");

    // program accounts by filter: margin accounts of this exchange owned by the trader
    let found = raw(
        &url,
        json!({"jsonrpc":"2.0","id":1,"method":"getProgramAccounts","params":[carry_margin::ID.to_string(), {
            "encoding":"base64",
            "filters":[{"dataSize": 8 + carry_margin::state::MARGIN_ACCOUNT_SIZE},
                       {"memcmp":{"offset":40,"bytes":trader.pubkey().to_string()}}]}]}).to_string(),
    )
    .await;
    let found = found["result"].as_array().unwrap().clone();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["pubkey"], account.to_string());

    // a failing transaction: preflight answers the named error with its logs
    let bh = rpc.get_latest_blockhash().await.unwrap();
    let too_much = sdk::withdraw(
        trader.pubkey(),
        exchange,
        account,
        usdc_bank,
        sdk::vault_pda(&usdc_bank),
        usdc,
        wallet_usdc,
        10_000_000_000,
        true,
        &pairs,
    );
    let tx =
        Transaction::new_signed_with_payer(&[too_much], Some(&trader.pubkey()), &[&trader], bh);
    let e = rpc.send_transaction(&tx).await.unwrap_err().to_string();
    assert!(
        e.contains("custom program error") || e.contains("0x"),
        "{e}"
    );

    // the bootstrap again: nothing changes
    let again = bootstrap(&rpc, &net.chain.faucet, &cfg, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.changes(), 0, "{again:?}");

    // malformed and hostile requests: errors, and the chain keeps serving
    let r = raw(&url, "{not json".into()).await;
    assert_eq!(r["error"]["code"], -32700);
    let r = raw(
        &url,
        json!({"jsonrpc":"2.0","id":5,"method":"getBlockProduction"}).to_string(),
    )
    .await;
    assert_eq!(
        (r["error"]["code"].clone(), r["id"].clone()),
        (json!(-32601), json!(5))
    );
    let r = raw(
        &url,
        json!({"jsonrpc":"2.0","id":6,"method":"getBalance","params":["nope"]}).to_string(),
    )
    .await;
    assert_eq!(r["error"]["code"], -32602);
    let r = raw(
        &url,
        json!([{"jsonrpc":"2.0","id":7,"method":"getSlot"},{"jsonrpc":"2.0","id":8}]).to_string(),
    )
    .await;
    assert!(
        r[0]["result"].is_u64() && r[1]["error"]["code"] == -32600,
        "{r}"
    );
    // a transaction with a forged signature
    let mut forged = Transaction::new_signed_with_payer(
        &[solana_sdk::system_instruction::transfer(
            &trader.pubkey(),
            &lender.pubkey(),
            1,
        )],
        Some(&trader.pubkey()),
        &[&trader],
        rpc.get_latest_blockhash().await.unwrap(),
    );
    forged.signatures[0] = Signature::from([7u8; 64]);
    let b64 =
        base64::engine::general_purpose::STANDARD.encode(bincode::serialize(&forged).unwrap());
    let r = raw(&url, json!({"jsonrpc":"2.0","id":9,"method":"sendTransaction","params":[b64, {"encoding":"base64"}]}).to_string()).await;
    assert_eq!(r["error"]["code"], -32003, "{r}");
    // an oversized transaction
    let big = base64::engine::general_purpose::STANDARD.encode(vec![1u8; 2_000]);
    let r = raw(&url, json!({"jsonrpc":"2.0","id":10,"method":"sendTransaction","params":[big, {"encoding":"base64"}]}).to_string()).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("too large"));
    assert!(rpc.get_slot().await.unwrap() > s0, "still serving");

    // the in-process keeper accrues every bank (and touches its stable price) every second
    let sol_bank_state = sdk::decode_bank(&rpc.get_account_data(&sol_bank).await.unwrap()).unwrap();
    use carry_sdk::client::Chain;
    let now = carry_sdk::client::RpcChain::new(url.clone())
        .clock()
        .await
        .unwrap()
        .unix_timestamp;
    // (every second when idle; the keeper's cranks run in turn over RPC, and on a 2-core
    // machine in the middle of a cold test run one round of them took up to 9 s: the check is
    // that accrual keeps coming, the count of crank transactions below that it repeats)
    assert!(
        now - sol_bank_state.last_accrual_ts <= 30,
        "accrued {} s ago",
        now - sol_bank_state.last_accrual_ts
    );
    let cranks = rpc.get_signatures_for_address(&sol_bank).await.unwrap();
    assert!(
        cranks.len() >= 3,
        "keeper transactions on the SOL bank: {}",
        cranks.len()
    );
}

/// A bootstrap that died midway (only the exchange and the first two banks exist) resumes: the
/// next run creates exactly what is missing.
async fn bootstrap_resumes_after_dying_midway() {
    let mut partial = config();
    let full = partial.clone();
    partial.tokens.truncate(2);
    partial.perp_markets.clear();
    // the run that died: only the partial config was bootstrapped
    let net = start(
        Options {
            rpc_port: 0,
            slot_ms: 50,
            keeper_secs: 0,
            ledger: None,
            maker_secs: 0,
            config: Some(partial.clone()),
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    assert_eq!(net.bootstrap.as_ref().unwrap().changes(), 3);
    // the remaining tokens' mints and feeds, as the full config's chain would have them
    let mut feeds = carry_localnet::Prices::from_config(&full).unwrap();
    feeds.step();
    feeds.publish(&net.chain, net.chain.bank().clock().unix_timestamp);
    for t in &full.tokens[2..] {
        carry_localnet::write_faucet_mint(&net.chain, &localnet_mint(&t.symbol), t.decimals);
    }
    let rpc = RpcClient::new_with_commitment(net.rpc_url(), CommitmentConfig::confirmed());
    let mut lines = vec![];
    let r = bootstrap(&rpc, &net.chain.faucet, &full, &mut |l| {
        lines.push(l.to_string())
    })
    .await
    .unwrap();
    assert_eq!(
        r.changes(),
        full.tokens.len() - 2 + full.perp_markets.len(),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with("unchanged") && lines[1].ends_with("unchanged"),
        "{lines:?}"
    );
    assert!(lines.last().unwrap().ends_with("created"));
    // a perp market's parameters changed in the config: edited, the rest unchanged
    let mut edited = full.clone();
    edited.perp_markets[0].taker_fee_ppm = Some(700);
    let mut lines = vec![];
    let r = bootstrap(&rpc, &net.chain.faucet, &edited, &mut |l| {
        lines.push(l.to_string())
    })
    .await
    .unwrap();
    assert_eq!(r.changes(), 1, "{lines:?}");
    let updated: Vec<&String> = lines.iter().filter(|l| l.ends_with("updated")).collect();
    assert!(
        updated.len() == 1 && updated[0].contains("SOL-PERP"),
        "{lines:?}"
    );
    let m = sdk::decode_perp_market(
        &rpc.get_account_data(&sdk::perp_market_pda(
            &sdk::exchange_pda(&net.chain.faucet.pubkey(), 0),
            0,
        ))
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(m.params.taker_fee_ppm, 700);
}

/// `@solana/web3.js` 1.x (npm, pinned by `tests/web3/package-lock.json`, installed by this
/// test with `npm ci` when missing) airdrops, signs, sends and confirms a transfer (websocket
/// `signatureSubscribe` and status polling) and reads it back with `getTransaction`.
async fn web3_js_sends_and_confirms() {
    let net = start(
        Options {
            rpc_port: 0,
            slot_ms: 100,
            keeper_secs: 0,
            ledger: None,
            maker_secs: 0,
            config: None,
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web3");
    let url = net.rpc_url();
    let out = tokio::task::spawn_blocking(move || {
        use std::process::Command;
        if !dir.join("node_modules/@solana/web3.js").exists() {
            let st = Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&dir)
                .status()
                .expect("npm (Node.js) is needed for the web3.js check");
            assert!(st.success(), "npm ci failed in {}", dir.display());
        }
        Command::new("node")
            .arg("check.mjs")
            .arg(&url)
            .current_dir(&dir)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "web3.js check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(line["bobBalance"], 100_000_000, "{line}");
    assert_eq!(line["err"], Value::Null);
    assert_eq!(line["fee"], 5000);
    let sig: Signature = line["signature"].as_str().unwrap().parse().unwrap();
    let r = net.chain.transaction(&sig).expect("recorded");
    assert!(r.status.is_ok());
}

/// `--ledger DIR`: a chain's accounts and faucet saved, a new chain started on the same
/// directory resumes them: the trader's margin account byte for byte, the same faucet (so the
/// same exchange), and the bootstrap finds nothing to do.
async fn ledger_persists_and_resumes() {
    let dir = std::env::temp_dir().join(format!("carry-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = || Options {
        rpc_port: 0,
        slot_ms: 50,
        config: Some(config()),
        keeper_secs: 0,
        ledger: Some(dir.clone()),
        maker_secs: 0,
    };
    let net = start(opts(), &mut |_| {}).await.unwrap();
    let trader = Keypair::new();
    carry_localnet::rpc::airdrop(&net.chain, &trader.pubkey(), 1_000_000_000).unwrap();
    let sol = localnet_mint("SOL");
    carry_localnet::faucet::mint_tokens(&net.chain, &trader.pubkey(), &sol, 3_000_000_000).unwrap();
    let rpc = RpcClient::new_with_commitment(net.rpc_url(), CommitmentConfig::confirmed());
    let exchange = sdk::exchange_pda(&net.chain.faucet.pubkey(), 0);
    let account = sdk::margin_account_pda(&exchange, &trader.pubkey(), 0);
    let bank = sdk::bank_pda(&exchange, &sol);
    let wallet = anchor_spl::associated_token::get_associated_token_address(&trader.pubkey(), &sol);
    send(
        &rpc,
        &trader,
        &[
            sdk::create_margin_account(trader.pubkey(), exchange, 0),
            sdk::deposit(
                trader.pubkey(),
                exchange,
                account,
                bank,
                sdk::vault_pda(&bank),
                sol,
                wallet,
                2_000_000_000,
                None,
            ),
        ],
        &[],
    )
    .await;
    assert!(net.save().unwrap() > 10);
    let before = rpc.get_account_data(&account).await.unwrap();
    let faucet = net.chain.faucet.pubkey();

    let net2 = start(opts(), &mut |_| {}).await.unwrap();
    assert_eq!(
        net2.chain.faucet.pubkey(),
        faucet,
        "the faucet (exchange admin) resumes"
    );
    assert_eq!(
        net2.bootstrap.as_ref().unwrap().changes(),
        0,
        "nothing to bootstrap again"
    );
    let rpc2 = RpcClient::new_with_commitment(net2.rpc_url(), CommitmentConfig::confirmed());
    assert_eq!(rpc2.get_account_data(&account).await.unwrap(), before);
    let bal = rpc2.get_token_account_balance(&wallet).await.unwrap();
    assert_eq!(bal.amount, "1000000000");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The market maker quotes every tradable perp market soon after start; a trader's IOC buy on
/// SOL-PERP, sent over JSON-RPC, fills against it, and the in-process keeper applies the
/// maker's side (the fill queue drains). Prints the time to the first quotes.
async fn perp_order_fills_against_the_market_maker() {
    let net = start(
        Options {
            rpc_port: 0,
            slot_ms: 50,
            keeper_secs: 1,
            ledger: None,
            config: Some(config()),
            maker_secs: 1,
        },
        &mut |_| {},
    )
    .await
    .expect("local chain starts");
    let mut waited = 0;
    let first = loop {
        if let Some(d) = *net.first_quote.lock().unwrap() {
            break d;
        }
        waited += 1;
        assert!(waited < 600, "no quotes after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "market maker: first quotes {} ms after start",
        first.as_millis()
    );
    let rpc = RpcClient::new_with_commitment(net.rpc_url(), CommitmentConfig::confirmed());
    let chain = carry_sdk::client::RpcChain::new(net.rpc_url());
    let exchange = sdk::exchange_pda(&net.chain.faucet.pubkey(), 0);
    let (ex, markets) = carry_sdk::keeper::perp_markets_by_pda(&chain, &exchange)
        .await
        .unwrap();
    assert_eq!(markets.len(), 4);
    let (sol_perp, m) = markets[0];
    // both sides quoted on every market that trades
    for (_, m) in &markets {
        let book = rpc.get_account_data(&m.book).await.unwrap();
        let view = carry_sdk::orderbook::MarketView::decode(
            &book,
            carry_localnet::chain::unix_now(),
            None,
        )
        .unwrap();
        assert!(!view.bids.is_empty() && !view.asks.is_empty(), "quoted");
    }

    let trader = Keypair::new();
    carry_localnet::rpc::airdrop(&net.chain, &trader.pubkey(), 1_000_000_000).unwrap();
    let usdc = localnet_mint("USDC");
    carry_localnet::faucet::mint_tokens(&net.chain, &trader.pubkey(), &usdc, 1_000_000_000)
        .unwrap();
    let account = sdk::margin_account_pda(&exchange, &trader.pubkey(), 0);
    let bank = sdk::bank_pda(&exchange, &usdc);
    let wallet =
        anchor_spl::associated_token::get_associated_token_address(&trader.pubkey(), &usdc);
    let bank_state = sdk::decode_bank(&rpc.get_account_data(&bank).await.unwrap()).unwrap();
    send(
        &rpc,
        &trader,
        &[
            sdk::create_margin_account(trader.pubkey(), exchange, 0),
            sdk::deposit(
                trader.pubkey(),
                exchange,
                account,
                bank,
                bank_state.vault,
                usdc,
                wallet,
                1_000_000_000,
                None,
            ),
        ],
        &[],
    )
    .await;
    // buy 2 lots (0.02 SOL) IOC up to 2% over the oracle: the maker's best ask is 0.1% over
    let snaps = carry_sdk::health::snapshot_perp_markets(&chain, &[(sol_perp, m)])
        .await
        .unwrap();
    let now = carry_sdk::client::Chain::clock(&chain)
        .await
        .unwrap()
        .unix_timestamp;
    let per_lot =
        carry_sdk::health::perp_oracle_price(&snaps[0], now, ex.settlement_decimals).unwrap();
    let limit = (per_lot.to_bits() / (1i128 << 48)) as u64 * 102 / 100 / m.tick_size;
    let args = carry_margin::PlacePerpOrderArgs {
        order_kind: 3,
        ..sdk::limit_order_args(0, limit, 2)
    };
    let ix = sdk::place_perp_order(
        trader.pubkey(),
        exchange,
        account,
        sol_perp,
        m.book,
        m.oracle,
        args,
        &[(bank, bank_state.oracle)],
        &[(sol_perp, m.oracle)],
    );
    send(&rpc, &trader, &[ix], &[]).await;
    let acc = sdk::decode_margin_account(&rpc.get_account_data(&account).await.unwrap()).unwrap();
    let slot = acc.find_perp(m.market_index).expect("position");
    assert_eq!(
        acc.perps[slot].base_lots, 2,
        "filled against the market maker"
    );
    // the keeper applies the maker's side
    let mut drained = false;
    for _ in 0..100 {
        let book = rpc.get_account_data(&m.book).await.unwrap();
        if carry_sdk::orderbook::queued_events(&book)
            .unwrap()
            .is_empty()
        {
            drained = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(drained, "the keeper consumed the fill");
    let mm = carry_localnet::maker::maker_keypair(&net.chain.faucet);
    let mm_account = sdk::margin_account_pda(&exchange, &mm.pubkey(), 0);
    let mm_acc =
        sdk::decode_margin_account(&rpc.get_account_data(&mm_account).await.unwrap()).unwrap();
    let s = mm_acc.find_perp(m.market_index).unwrap();
    assert!(mm_acc.perps[s].base_lots <= -2, "the maker sold");
}

/// One scenario of this binary.
type TestFn = fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;

fn main() {
    carry_localnet::logs::capture_stdout().expect("capture stdout");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tests: [(&str, TestFn); 5] = [
        ("perp_order_fills_against_the_market_maker", || {
            Box::pin(perp_order_fills_against_the_market_maker())
        }),
        ("ledger_persists_and_resumes", || {
            Box::pin(ledger_persists_and_resumes())
        }),
        ("web3_js_sends_and_confirms", || {
            Box::pin(web3_js_sends_and_confirms())
        }),
        ("local_chain_end_to_end", || {
            Box::pin(local_chain_end_to_end())
        }),
        ("bootstrap_resumes_after_dying_midway", || {
            Box::pin(bootstrap_resumes_after_dying_midway())
        }),
    ];
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut ran = 0;
    for (name, test) in tests {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        eprintln!("test {name} ...");
        rt.block_on(test());
        eprintln!("test {name} ... ok");
        ran += 1;
    }
    eprintln!("test result: ok. {ran} passed");
}
