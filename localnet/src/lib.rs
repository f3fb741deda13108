//! Carry's development chain: the real Solana runtime of our line (solana-runtime 2.3) hosting
//! Carry's programs natively, with SPL Token and the Associated Token Account program for real,
//! a JSON-RPC front on 127.0.0.1, a SOL and token faucet, Pyth price feeds moving along a random
//! walk, and the bootstrap of `migrations/` run against it.
//!
//! It is a development chain, not a validator: one bank per slot, rooted at once; no consensus,
//! no SBF for our programs (they run as host code, so their compute units are not on-chain
//! figures; `bench/sbf` measures those). The keeper's cranks run in-process (accrual and
//! stable prices, reserve sweep, fill events, funding, PnL settlement, dated expiry), and a
//! market maker ([`maker`]) quotes both sides of every perp market around the oracle.

pub mod chain;
pub mod faucet;
pub mod logs;
pub mod maker;
pub mod prices;
pub mod rpc;
pub mod ws;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carry_migrations::{bootstrap, localnet_mint, Config, Report};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::account::AccountSharedData;
use solana_sdk::program_option::COption;
use solana_sdk::program_pack::Pack;
use solana_sdk::signature::Signer;

pub use chain::Chain;
pub use prices::Prices;

/// How to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// JSON-RPC port on 127.0.0.1 (0: any free port).
    pub rpc_port: u16,
    /// Slot length, milliseconds.
    pub slot_ms: u64,
    /// Bootstrap config: its faucet mints and price feeds are created, then it is bootstrapped
    /// over RPC with the faucet as admin. `None`: an empty chain.
    pub config: Option<Config>,
    /// Run the keeper's cranks (interest accrual and stable prices every this many seconds,
    /// the reserve sweep hourly), paid by the faucet; 0: no keeper.
    pub keeper_secs: u64,
    /// Ledger directory: accounts (and the faucet) are resumed from it at start and saved to
    /// it every 10 s and by [`LocalNet::save`]; `None`: nothing persists.
    pub ledger: Option<std::path::PathBuf>,
    /// Run the market maker ([`maker`]), requoting every this many seconds, when the config
    /// has perp markets; 0: none.
    pub maker_secs: u64,
}

/// A running local chain.
pub struct LocalNet {
    /// The chain.
    pub chain: Arc<Chain>,
    /// Where JSON-RPC answers.
    pub rpc_addr: SocketAddr,
    /// Where the websocket subscriptions answer (RPC port + 1).
    pub ws_addr: SocketAddr,
    /// The price feeds.
    pub prices: Arc<Mutex<Prices>>,
    /// What the bootstrap did.
    pub bootstrap: Option<Report>,
    /// The ledger directory, if any.
    pub ledger: Option<std::path::PathBuf>,
    /// Time from the call of [`start`] to the market maker's first quotes (every tradable perp
    /// market quoted), once they landed.
    pub first_quote: Arc<Mutex<Option<Duration>>>,
}

impl LocalNet {
    /// The JSON-RPC URL.
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc_addr)
    }
    /// Save the ledger now (no-op without one); returns the accounts written.
    pub fn save(&self) -> Result<usize, String> {
        match &self.ledger {
            Some(dir) => self
                .chain
                .save(dir)
                .map_err(|e| format!("ledger {}: {e}", dir.display())),
            None => Ok(0),
        }
    }
}

/// Start the chain, its slot clock, the price feeds and the RPC front, then bootstrap
/// `opts.config`. `progress` gets a line per step.
pub async fn start(opts: Options, progress: &mut dyn FnMut(&str)) -> Result<LocalNet, String> {
    let started = std::time::Instant::now();
    let chain = match opts.ledger.as_deref().and_then(chain::saved_faucet) {
        Some(faucet) => Chain::with_faucet(faucet),
        None => Chain::new(),
    };
    let prices = match &opts.config {
        Some(cfg) => Prices::from_config(cfg)?,
        None => Prices::default(),
    };
    if let Some(cfg) = &opts.config {
        for t in &cfg.tokens {
            if t.mint.is_none() {
                write_faucet_mint(&chain, &localnet_mint(&t.symbol), t.decimals);
            }
        }
    }
    if let Some(dir) = &opts.ledger {
        let n = chain
            .load(dir)
            .map_err(|e| format!("ledger {}: {e}", dir.display()))?;
        if n > 0 {
            progress(&format!("ledger {}: {n} accounts resumed", dir.display()));
        }
    }
    prices.publish(&chain, chain.bank().clock().unix_timestamp);
    let prices = Arc::new(Mutex::new(prices));
    let (rpc_listener, ws_listener) = listen_pair(opts.rpc_port).await?;
    let rpc_addr = rpc::serve(chain.clone(), rpc_listener).map_err(|e| e.to_string())?;
    let ws_addr = ws::serve(chain.clone(), ws_listener).map_err(|e| e.to_string())?;
    progress(&format!(
        "JSON-RPC on http://{rpc_addr}, websocket on ws://{ws_addr}"
    ));
    {
        let (chain, prices) = (chain.clone(), prices.clone());
        let slot = Duration::from_millis(opts.slot_ms.max(1));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(slot);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (chain, prices) = (chain.clone(), prices.clone());
                let _ = tokio::task::spawn_blocking(move || {
                    chain.advance_slot();
                    let mut p = prices.lock().unwrap();
                    p.step();
                    p.publish(&chain, chain.bank().clock().unix_timestamp);
                })
                .await;
            }
        });
    }
    if let Some(dir) = opts.ledger.clone() {
        let chain = chain.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                let (chain, dir) = (chain.clone(), dir.clone());
                let _ = tokio::task::spawn_blocking(move || chain.save(&dir)).await;
            }
        });
    }
    let mut report = None;
    if let Some(cfg) = &opts.config {
        let rpc = RpcClient::new(format!("http://{rpc_addr}"));
        let r = bootstrap(&rpc, &chain.faucet, cfg, &mut |l| progress(l)).await?;
        report = Some(r);
    }
    if opts.keeper_secs > 0 {
        // the keeper's cranks over this chain's own RPC, paid by the faucet
        let url = format!("http://{rpc_addr}");
        let payer = chain.faucet.insecure_clone();
        let every = opts.keeper_secs;
        tokio::spawn(async move {
            let rpc = carry_sdk::client::RpcChain::new(url);
            let config = carry_sdk::keeper::KeeperConfig {
                accrue_secs: every,
                sweep_secs: 3600,
                consume_secs: 1,
                funding_secs: 60,
                settle_secs: 60,
                expiry_secs: 5,
                min_settle_native: 1,
                liquidate_secs: 10,
                liquidator_account: 0,
            };
            carry_sdk::keeper::run_forever(&rpc, &payer, config, 60).await;
        });
        progress(&format!(
            "keeper: accrual every {every} s, fill events every 1 s, funding and PnL settlement every 60 s, dated expiry every 5 s, liquidation scan every 10 s (takeovers need a margin account of the faucet with collateral), reserve sweep hourly"
        ));
    }
    let first_quote = Arc::new(Mutex::new(None));
    if let Some(cfg) = opts.config.as_ref().filter(|c| !c.perp_markets.is_empty()) {
        if opts.maker_secs > 0 {
            let exchange = carry_migrations::exchange_of(&chain.faucet.pubkey(), cfg);
            let mcfg = maker::MakerConfig {
                every_secs: opts.maker_secs,
                ..Default::default()
            };
            tokio::spawn(maker::run(
                chain.clone(),
                format!("http://{rpc_addr}"),
                exchange,
                mcfg.clone(),
                started,
                first_quote.clone(),
            ));
            progress(&format!(
                "market maker: {} levels a side, {} bps from the oracle, ${} each, every {} s",
                mcfg.levels, mcfg.spread_bps, mcfg.level_usd, mcfg.every_secs
            ));
        }
    }
    Ok(LocalNet {
        first_quote,
        chain,
        rpc_addr,
        ws_addr,
        prices,
        bootstrap: report,
        ledger: opts.ledger,
    })
}

/// Listeners on 127.0.0.1 for JSON-RPC (`port`, 0 = any free port) and the websocket (the
/// next port, as web3.js derives it); with port 0, ports are tried until both are free.
async fn listen_pair(
    port: u16,
) -> Result<(tokio::net::TcpListener, tokio::net::TcpListener), String> {
    use tokio::net::TcpListener;
    let mut tries = 0;
    loop {
        let rpc = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
        let p = rpc.local_addr().map_err(|e| e.to_string())?.port();
        match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], p.wrapping_add(1)))).await {
            Ok(ws) => return Ok((rpc, ws)),
            Err(e) if port == 0 && tries < 20 => {
                tries += 1;
                let _ = e;
            }
            Err(e) => return Err(format!("cannot listen on 127.0.0.1:{}: {e}", p + 1)),
        }
    }
}

/// Write an SPL mint whose authority is the chain's faucet (the local chain's test tokens).
pub fn write_faucet_mint(chain: &Chain, key: &solana_sdk::pubkey::Pubkey, decimals: u8) {
    let mint = spl_token::state::Mint {
        mint_authority: COption::Some(chain.faucet.pubkey()),
        supply: 0,
        decimals,
        is_initialized: true,
        freeze_authority: COption::None,
    };
    let mut data = vec![0u8; spl_token::state::Mint::LEN];
    spl_token::state::Mint::pack(mint, &mut data).expect("pack mint");
    let lamports = chain
        .bank()
        .get_minimum_balance_for_rent_exemption(data.len());
    let mut a = AccountSharedData::new(lamports, data.len(), &spl_token::ID);
    a.set_data_from_slice(&data);
    chain.set_account(key, &a);
}
