//! An integrator's first program: connect to a cluster, find the exchange and its banks,
//! create a margin account, deposit, and read the account back with its health computed by
//! the margin program's own code; then find the first perp market, ask the SDK for the largest
//! bid the account can rest 1% under the oracle, place a post-only bid and cancel it. Run it against the local chain (`cargo run -p
//! carry-localnet` in another terminal):
//!
//!     cargo run -p carry-sdk --example integrator -- http://127.0.0.1:8899
//!
//! It funds a fresh keypair from the local chain's faucets (`requestAirdrop`,
//! `carry_requestTokens`); on another cluster, use a funded keypair instead.

use carry_sdk::client::{self, Chain, RpcChain};
use carry_sdk::health;
use carry_sdk::margin as sdk;
use carry_sdk::tokens::{format_amount, localnet_mint};
use solana_sdk::signature::{Keypair, Signer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or("http://127.0.0.1:8899".into());
    let chain = RpcChain::new(url.clone());

    // the exchange and its banks, found with getProgramAccounts
    let (exchange, ex) = client::exchanges(&chain).await?.remove(0);
    let banks = client::banks(&chain, &exchange).await?;
    let (sol_key, sol) = *banks
        .iter()
        .find(|(_, b)| b.mint == localnet_mint("SOL"))
        .ok_or("no SOL bank")?;

    // a trader funded by the local chain's faucets
    let trader = Keypair::new();
    let sig = chain
        .rpc
        .request_airdrop(&trader.pubkey(), 2_000_000_000)
        .await?;
    chain.rpc.poll_for_signature(&sig).await?;
    let faucet = serde_json::json!([
        trader.pubkey().to_string(),
        sol.mint.to_string(),
        10_000_000_000u64
    ]);
    let _: String = chain
        .rpc
        .send(
            solana_rpc_client_api::request::RpcRequest::Custom {
                method: "carry_requestTokens",
            },
            faucet,
        )
        .await?;
    let wallet =
        anchor_spl::associated_token::get_associated_token_address(&trader.pubkey(), &sol.mint);

    // create the margin account and deposit 5 SOL in one transaction
    let account = sdk::margin_account_pda(&exchange, &trader.pubkey(), 0);
    let ixs = [
        sdk::create_margin_account(trader.pubkey(), exchange, 0),
        sdk::deposit(
            trader.pubkey(),
            exchange,
            account,
            sol_key,
            sol.vault,
            sol.mint,
            wallet,
            5_000_000_000,
            None,
        ),
    ];
    let sent = client::send_instructions(&chain, &trader, &[], &ixs, 200_000).await?;
    let deposits: Vec<carry_margin::events::DepositEvent> = client::decode_event(&sent.logs);
    println!(
        "deposited {} lamports of SOL (event: {:?})",
        deposits[0].amount, deposits[0].account
    );

    // read it back: balances and health, as the chain computes them
    let acc = sdk::decode_margin_account(&chain.account(&account).await?.ok_or("account")?.data)?;
    let now = chain.clock().await?.unix_timestamp;
    let snaps = health::snapshot_banks(&chain, &banks).await?;
    let h = health::health(&acc, ex.settlement_decimals, &snaps, &[], now)?;
    let bal = health::balance(&acc, &sol, now)?;
    println!(
        "account {account}: {} SOL, initial health {} USDC",
        format_amount(bal.floor_int(), sol.decimals),
        format_amount(h.init.floor_int(), ex.settlement_decimals)
    );

    // perps: the first market, its oracle price, and the largest resting bid 1% under it
    let (_, markets) = carry_sdk::keeper::perp_markets_by_pda(&chain, &exchange).await?;
    let Some(&(market_key, market)) = markets.first() else {
        println!("no perp markets on this exchange");
        return Ok(());
    };
    let qd = ex.settlement_decimals;
    let units = carry_sdk::tokens::PerpUnits::of(&market, qd);
    let perps = health::snapshot_perp_markets(&chain, &markets).await?;
    let snap = perps.iter().find(|p| p.key == market_key).ok_or("market")?;
    let oracle = health::perp_oracle_price(snap, now, qd)?; // quote native per lot
    let oracle_ticks = (oracle.floor_int() / market.tick_size as i128) as u64;
    let bid_ticks = oracle_ticks * 99 / 100;
    let order = health::ProjectedOrder {
        market: market_key,
        side: 0,
        lots: 0,
        price_ticks: bid_ticks,
        fill: health::OrderFill::Resting,
    };
    let max = health::max_order_lots(&acc, qd, (&snaps, &perps), &order, now)?;
    println!(
        "at most {} base ({max} lots) can rest as a bid at {} now",
        units.lots_to_size(max as i128),
        units.ticks_to_price(bid_ticks)
    );
    let args = carry_margin::PlacePerpOrderArgs {
        order_kind: 1, // post-only
        ..sdk::limit_order_args(0, bid_ticks, max.min(10))
    };
    let place = sdk::place_perp_order(
        trader.pubkey(),
        exchange,
        account,
        market_key,
        market.book,
        market.oracle,
        args,
        &sdk::health_pairs(&acc, banks.iter().map(|(k, b)| (*k, b))),
        &[(market_key, market.oracle)],
    );
    let sent = client::send_instructions(&chain, &trader, &[], &[place], 400_000).await?;
    let placed: Vec<carry_margin::events::PerpOrderEvent> = client::decode_event(&sent.logs);
    println!(
        "bid resting: {} base at {} (order id {})",
        units.lots_to_size(placed[0].posted_base_lots as i128),
        units.ticks_to_price(placed[0].posted_price_ticks),
        placed[0].order_id
    );
    let cancel =
        sdk::cancel_all_perp_orders(trader.pubkey(), account, market_key, market.book, 2, 100);
    client::send_instructions(&chain, &trader, &[], &[cancel], 200_000).await?;
    println!("cancelled");
    Ok(())
}
