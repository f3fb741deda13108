//! An integrator's first program: connect to a cluster, find the exchange and its banks,
//! create a margin account, deposit, and read the account back with its health computed by
//! the margin program's own code. Run it against the local chain (`cargo run -p
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
    Ok(())
}
