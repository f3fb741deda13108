//! Load on the local chain over JSON-RPC: transactions per second for margin deposits and for
//! order placement on an order book market (limit orders resting and crossing, through
//! `programs/orderbook`), each sent with `sendTransaction` (preflight on) by one of several
//! concurrent clients and confirmed by polling `getSignatureStatuses`, as a trader's client
//! would.
//!
//!     cargo run -p carry-localnet --example rpc_load [-- TRANSACTIONS CLIENTS]
//!
//! Also prints the time from start to a bootstrapped chain. Numbers go into the README.

use std::sync::Arc;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;

use carry_localnet::{logs, start, Options};
use carry_migrations::{localnet_mint, Config};
use carry_sdk::margin as sdk;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::commitment_config::CommitmentConfig;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::Transaction;

fn main() {
    let mut args = std::env::args().skip(1);
    let deposits: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    logs::capture_stdout().expect("capture stdout");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run(deposits, clients));
}

async fn run(deposits: usize, clients: usize) {
    let cfg = Config::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/localnet.toml"
    )))
    .unwrap();
    let t0 = Instant::now();
    let net = start(
        Options {
            rpc_port: 0,
            slot_ms: 400,
            keeper_secs: 0,
            ledger: None,
            maker_secs: 0,
            config: Some(cfg.clone()),
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    let ready = t0.elapsed();
    let url = net.rpc_url();
    let exchange = sdk::exchange_pda(&net.chain.faucet.pubkey(), cfg.exchange.number);
    let usdc = localnet_mint("USDC");
    let bank = sdk::bank_pda(&exchange, &usdc);
    // one funded trader with a margin account per client
    let mut traders = vec![];
    for _ in 0..clients {
        let kp = Keypair::new();
        carry_localnet::rpc::airdrop(&net.chain, &kp.pubkey(), 10_000_000_000).unwrap();
        carry_localnet::faucet::mint_tokens(&net.chain, &kp.pubkey(), &usdc, 1_000_000_000_000_000)
            .unwrap();
        let account = sdk::margin_account_pda(&exchange, &kp.pubkey(), 0);
        let wallet =
            anchor_spl::associated_token::get_associated_token_address(&kp.pubkey(), &usdc);
        let tx = Transaction::new_signed_with_payer(
            &[sdk::create_margin_account(kp.pubkey(), exchange, 0)],
            Some(&kp.pubkey()),
            &[&kp],
            net.chain.bank().last_blockhash(),
        );
        net.chain.process(tx.into()).unwrap().status.unwrap();
        traders.push((Arc::new(kp), account, wallet));
    }
    let per = deposits / clients;
    let t1 = Instant::now();
    let mut tasks = vec![];
    for (c, (kp, account, wallet)) in traders.into_iter().enumerate() {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let rpc = RpcClient::new_with_commitment(url, CommitmentConfig::confirmed());
            let mut sigs = vec![];
            for i in 0..per {
                let bh = rpc.get_latest_blockhash().await.unwrap();
                // amounts differ so every transaction is unique
                let amount = 1 + (c * per + i) as u64;
                let ix = sdk::deposit(
                    kp.pubkey(),
                    exchange,
                    account,
                    bank,
                    sdk::vault_pda(&bank),
                    usdc,
                    wallet,
                    amount,
                    None,
                );
                let tx = Transaction::new_signed_with_payer(&[ix], Some(&kp.pubkey()), &[&*kp], bh);
                sigs.push(rpc.send_transaction(&tx).await.unwrap());
            }
            // confirm all
            for chunk in sigs.chunks(100) {
                loop {
                    let st = rpc.get_signature_statuses(chunk).await.unwrap().value;
                    if st.iter().all(|s| s.is_some()) {
                        assert!(st.iter().all(|s| s.as_ref().unwrap().err.is_none()));
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
            sigs.len()
        }));
    }
    let mut n = 0;
    for t in tasks {
        n += t.await.unwrap();
    }
    let secs = t1.elapsed().as_secs_f64();
    eprintln!(
        "local chain ready (bootstrapped) in {:.2} s; {n} deposits by {clients} clients over RPC in {secs:.2} s: {:.0} tx/s",
        ready.as_secs_f64(),
        n as f64 / secs
    );
    orders(&net, deposits, clients).await;
}

/// Order placement over RPC: one market (1,024 orders a side) whose authority each client is
/// given (the standalone order book's authority places for traders), limit orders around 100
/// ticks, a quarter of them crossing.
async fn orders(net: &carry_localnet::LocalNet, count: usize, clients: usize) {
    use carry_orderbook::{
        CreateMarketParams, Market, OrderSide, OrderType, PlaceOrderArgs, SelfTradeMode,
    };
    let authority = Arc::new(Keypair::new());
    carry_localnet::rpc::airdrop(&net.chain, &authority.pubkey(), 100_000_000_000).unwrap();
    let market = Keypair::new();
    let space = Market::space(1024, 256);
    let lamports = net
        .chain
        .bank()
        .get_minimum_balance_for_rent_exemption(space);
    let create = solana_sdk::system_instruction::create_account(
        &authority.pubkey(),
        &market.pubkey(),
        lamports,
        space as u64,
        &carry_orderbook::ID,
    );
    let init = carry_sdk::orderbook::create_market(
        authority.pubkey(),
        market.pubkey(),
        CreateMarketParams {
            authority: authority.pubkey(),
            tick_size: 100,
            base_lot_size: 1_000,
            order_capacity: 1024,
            event_capacity: 256,
            max_fills: 0,
        },
    );
    let tx = Transaction::new_signed_with_payer(
        &[create, init],
        Some(&authority.pubkey()),
        &[&*authority, &market],
        net.chain.bank().last_blockhash(),
    );
    net.chain.process(tx.into()).unwrap().status.unwrap();
    let per = count / clients;
    let t = Instant::now();
    let mut tasks = vec![];
    for c in 0..clients {
        let (url, authority, market) = (net.rpc_url(), authority.clone(), market.pubkey());
        tasks.push(tokio::spawn(async move {
            let rpc = RpcClient::new_with_commitment(url, CommitmentConfig::confirmed());
            let mut sigs = vec![];
            for i in 0..per {
                let k = (c * per + i) as u64;
                let side = if k.is_multiple_of(2) {
                    OrderSide::Bid
                } else {
                    OrderSide::Ask
                };
                // resting orders 1-40 ticks away from 100; every fourth order crosses by 5 ticks
                let away = 1 + k % 40;
                let ticks = match (side, k % 4 == 3) {
                    (OrderSide::Bid, false) => 100 - away,
                    (OrderSide::Ask, false) => 100 + away,
                    (OrderSide::Bid, true) => 105,
                    (OrderSide::Ask, true) => 95,
                };
                let args = PlaceOrderArgs {
                    owner: Pubkey::new_unique(),
                    side,
                    order_type: OrderType::Limit,
                    price: ticks * 100,
                    peg_offset: 0,
                    quantity: 1_000 * (1 + k % 5),
                    client_order_id: 0,
                    expires_at: 0,
                    expires_at_slot: 0,
                    max_fills: 8,
                    self_trade: SelfTradeMode::DecrementTake,
                    oracle_price: None,
                    min_base_fill: 0,
                    min_quote_fill: 0,
                    quote_budget: 0,
                };
                let ix = carry_sdk::orderbook::place_order(market, authority.pubkey(), args);
                let bh = rpc.get_latest_blockhash().await.unwrap();
                let tx = Transaction::new_signed_with_payer(
                    &[ix],
                    Some(&authority.pubkey()),
                    &[&*authority],
                    bh,
                );
                match rpc.send_transaction(&tx).await {
                    Ok(s) => sigs.push(s),
                    Err(e) => eprintln!("order refused: {e}"),
                }
            }
            for chunk in sigs.chunks(100) {
                loop {
                    let st = rpc.get_signature_statuses(chunk).await.unwrap().value;
                    if st.iter().all(|s| s.is_some()) {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
            sigs.len()
        }));
    }
    let mut n = 0;
    for task in tasks {
        n += task.await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{n} order placements by {clients} clients over RPC in {secs:.2} s: {:.0} tx/s",
        n as f64 / secs
    );
}
