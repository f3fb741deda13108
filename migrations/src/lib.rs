//! Cluster bootstrap: reads a config file ([`config::Config`]) and creates the exchange and its
//! banks on the target cluster through RPC. Idempotent: every step first reads what exists and
//! acts only on what is missing or different, so a second run changes nothing (and says so) and
//! a run that died midway resumes where it stopped. Perp markets are created with their book
//! accounts in one transaction (allocation and `create_perp_market` together, so a failed run
//! leaves neither), in config order (the market index), and edited when their parameters
//! differ from the config.

pub mod config;

use carry_sdk::margin as sdk;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::commitment_config::CommitmentConfig;
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::Transaction;

pub use config::{localnet_mint, pyth_feed_account, Config};

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Created.
    Created,
    /// Existed with other parameters: updated.
    Updated,
    /// Existed as configured.
    Unchanged,
}

/// What a run did, one line per object.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// `(object, what happened)`, in order.
    pub steps: Vec<(String, Step)>,
}

impl Report {
    /// Number of steps that changed the cluster.
    pub fn changes(&self) -> usize {
        self.steps
            .iter()
            .filter(|(_, s)| *s != Step::Unchanged)
            .count()
    }
}

/// The exchange PDA the config describes for `admin`.
pub fn exchange_of(admin: &Pubkey, cfg: &Config) -> Pubkey {
    sdk::exchange_pda(admin, cfg.exchange.number)
}

async fn exists(rpc: &RpcClient, key: &Pubkey) -> Result<Option<Vec<u8>>, String> {
    let r = rpc
        .get_account_with_commitment(key, CommitmentConfig::confirmed())
        .await
        .map_err(|e| format!("RPC getAccountInfo {key}: {e}"))?;
    Ok(r.value.map(|a| a.data))
}

async fn send(rpc: &RpcClient, admin: &Keypair, ix: Instruction, what: &str) -> Result<(), String> {
    send_signed(rpc, admin, &[], &[ix], what).await
}

async fn send_signed(
    rpc: &RpcClient,
    admin: &Keypair,
    signers: &[&Keypair],
    ixs: &[Instruction],
    what: &str,
) -> Result<(), String> {
    let blockhash = rpc
        .get_latest_blockhash()
        .await
        .map_err(|e| format!("RPC getLatestBlockhash: {e}"))?;
    let mut keys = vec![admin];
    keys.extend_from_slice(signers);
    let tx = Transaction::new_signed_with_payer(ixs, Some(&admin.pubkey()), &keys, blockhash);
    rpc.send_and_confirm_transaction(&tx)
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    Ok(())
}

/// Create or update everything `cfg` describes, signed and paid by `admin` (who becomes the
/// exchange's admin). `progress` gets one line per step as it happens.
pub async fn bootstrap(
    rpc: &RpcClient,
    admin: &Keypair,
    cfg: &Config,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, String> {
    cfg.check()?;
    let mut report = Report::default();
    let admin_key = admin.pubkey();
    let exchange = exchange_of(&admin_key, cfg);
    let settlement = cfg.tokens[0].mint()?;
    match exists(rpc, &exchange).await? {
        None => {
            send(
                rpc,
                admin,
                sdk::create_exchange(admin_key, settlement, cfg.exchange.number),
                "create_exchange",
            )
            .await?;
            report
                .steps
                .push((format!("exchange {exchange}"), Step::Created));
        }
        Some(data) => {
            let ex =
                sdk::decode_exchange(&data).map_err(|e| format!("exchange {exchange}: {e}"))?;
            if ex.settlement_mint != settlement {
                return Err(format!(
                    "exchange {exchange} settles in {}, the config in {settlement}",
                    ex.settlement_mint
                ));
            }
            report
                .steps
                .push((format!("exchange {exchange}"), Step::Unchanged));
        }
    }
    progress(&step_line(report.steps.last().unwrap()));
    for t in &cfg.tokens {
        let mint = t.mint()?;
        let bank = sdk::bank_pda(&exchange, &mint);
        let params = t.bank.params();
        let name = format!("bank {} {bank}", t.symbol);
        let step = match exists(rpc, &bank).await? {
            None => {
                let ix = sdk::register_bank(
                    admin_key,
                    exchange,
                    mint,
                    t.oracle()?,
                    params,
                    sdk::pyth_pull(t.feed_id()?),
                );
                send(rpc, admin, ix, &format!("register_bank {}", t.symbol)).await?;
                Step::Created
            }
            Some(data) => {
                let b = sdk::decode_bank(&data).map_err(|e| format!("{name}: {e}"))?;
                if b.oracle != t.oracle()? {
                    return Err(format!(
                        "{name}: registered with oracle {}, the config names {}",
                        b.oracle,
                        t.oracle()?
                    ));
                }
                if b.params == params {
                    Step::Unchanged
                } else {
                    let ix = sdk::edit_bank(admin_key, exchange, bank, params);
                    send(rpc, admin, ix, &format!("edit_bank {}", t.symbol)).await?;
                    Step::Updated
                }
            }
        };
        report.steps.push((name, step));
        progress(&step_line(report.steps.last().unwrap()));
    }
    for (i, m) in cfg.perp_markets.iter().enumerate() {
        let step = perp_market(rpc, admin, cfg, &exchange, i as u16, m).await?;
        report.steps.push(step);
        progress(&step_line(report.steps.last().unwrap()));
    }
    Ok(report)
}

/// Create perp market `index` of the config (with its book account) or bring its parameters
/// to the config's.
async fn perp_market(
    rpc: &RpcClient,
    admin: &Keypair,
    cfg: &Config,
    exchange: &Pubkey,
    index: u16,
    m: &config::PerpMarketConfig,
) -> Result<(String, Step), String> {
    let admin_key = admin.pubkey();
    let base = cfg
        .tokens
        .iter()
        .find(|t| t.symbol == m.base)
        .ok_or_else(|| format!("perp market {}: unknown base {}", m.symbol, m.base))?;
    let oracle = base.oracle()?;
    let key = sdk::perp_market_pda(exchange, index);
    let name = format!("perp market {} {key}", m.symbol);
    let setup = m.setup(base.decimals);
    match exists(rpc, &key).await? {
        Some(data) => {
            let cur = sdk::decode_perp_market(&data).map_err(|e| format!("{name}: {e}"))?;
            if cur.oracle != oracle {
                return Err(format!(
                    "{name}: created with oracle {}, the config names {oracle} ({})",
                    cur.oracle, m.base
                ));
            }
            if (cur.base_lot_size, cur.tick_size) != (setup.base_lot_size, setup.tick_size) {
                return Err(format!(
                    "{name}: created with lots of {} and ticks of {}, the config says {} and {} (fixed at creation)",
                    cur.base_lot_size, cur.tick_size, setup.base_lot_size, setup.tick_size
                ));
            }
            let params = m.params(cur.params.expiry_ts);
            if cur.params == params {
                Ok((name, Step::Unchanged))
            } else {
                let ix = sdk::edit_perp_market(admin_key, *exchange, key, params);
                send(rpc, admin, ix, &format!("edit_perp_market {}", m.symbol)).await?;
                Ok((name, Step::Updated))
            }
        }
        None => {
            let ex = exists(rpc, exchange)
                .await?
                .ok_or_else(|| format!("exchange {exchange} vanished"))?;
            let ex = sdk::decode_exchange(&ex).map_err(|e| format!("exchange {exchange}: {e}"))?;
            if ex.perp_market_count != index {
                return Err(format!(
                    "{name}: the exchange has {} perp markets, this is number {index} of the config (markets are created in config order)",
                    ex.perp_market_count
                ));
            }
            let expiry = match m.expiry_after_secs {
                Some(secs) => {
                    // the cluster's clock (unix_timestamp: the last 8 bytes of the sysvar)
                    let clock = exists(rpc, &solana_sdk::sysvar::clock::ID)
                        .await?
                        .ok_or("no clock sysvar")?;
                    let now = clock
                        .get(32..40)
                        .and_then(|b| b.try_into().ok())
                        .map(i64::from_le_bytes)
                        .ok_or("clock sysvar too short")?;
                    now + secs as i64
                }
                None => 0,
            };
            let book = Keypair::new();
            let space = sdk::perp_book_space(setup.order_capacity, setup.event_capacity);
            let rent = rpc
                .get_minimum_balance_for_rent_exemption(space)
                .await
                .map_err(|e| format!("RPC getMinimumBalanceForRentExemption: {e}"))?;
            let ixs = [
                sdk::create_perp_book_account(admin_key, book.pubkey(), rent, &setup),
                sdk::create_perp_market(
                    admin_key,
                    *exchange,
                    index,
                    book.pubkey(),
                    oracle,
                    setup,
                    m.params(expiry),
                    sdk::pyth_pull(base.feed_id()?),
                ),
            ];
            send_signed(
                rpc,
                admin,
                &[&book],
                &ixs,
                &format!("create_perp_market {}", m.symbol),
            )
            .await?;
            Ok((name, Step::Created))
        }
    }
}

fn step_line((what, step): &(String, Step)) -> String {
    let s = match step {
        Step::Created => "created",
        Step::Updated => "updated",
        Step::Unchanged => "unchanged",
    };
    format!("{what}: {s}")
}
