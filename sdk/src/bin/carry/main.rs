//! `carry`: Carry from a terminal. Accounts, deposits, withdrawals and borrows, lending
//! opt-out, banks with their rates, perp markets and their books, perp orders of every kind
//! with cancels, an account's balances, positions and health; tables by default, `--json` for
//! scripts.

mod output;
mod perps;

use std::path::PathBuf;
use std::process::ExitCode;

use anchor_lang::prelude::Pubkey;
use carry_margin::state::{Bank, Exchange};
use carry_sdk::client::{self, Chain, ClientError, RpcChain};
use carry_sdk::health::{self, BankSnapshot, PerpSnapshot};
use carry_sdk::margin as sdk;
use carry_sdk::tokens::{format_amount, from_config_text, parse_amount};
use clap::{Parser, Subcommand};
use serde_json::json;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};

use output::Table;

/// Carry's command-line client.
///
/// Keypair and RPC URL come from the flags, else from the Solana CLI config
/// (~/.config/solana/cli/config.yml), else the defaults (~/.config/solana/id.json and
/// http://127.0.0.1:8899, the local chain). Tokens are named by symbol (from --tokens, a
/// bootstrap config) or by mint address; perp markets by symbol (the config's
/// [[perp_markets]]), index or address. Amounts, sizes and prices are in whole tokens ("1.5";
/// prices in settlement tokens per whole base).
#[derive(Parser, Debug)]
#[command(name = "carry", version, about, long_about = None)]
struct Cli {
    /// JSON-RPC endpoint.
    #[arg(long, short = 'u', global = true)]
    url: Option<String>,
    /// Keypair file of the signer (Solana CLI JSON format).
    #[arg(long, short = 'k', global = true)]
    keypair: Option<PathBuf>,
    /// Exchange account; default: the only exchange on the cluster.
    #[arg(long, global = true)]
    exchange: Option<Pubkey>,
    /// Bootstrap config naming the tokens [default: migrations/localnet.toml when present].
    #[arg(long, global = true)]
    tokens: Option<PathBuf>,
    /// Margin account number of the signer.
    #[arg(long, global = true, default_value_t = 0)]
    num: u32,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Banks: price, deposits, borrows, utilization, deposit and borrow APR.
    Banks,
    /// Margin accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Deposit AMOUNT of TOKEN from the signer's associated token account (repays a borrow
    /// first).
    Deposit {
        /// Symbol or mint.
        token: String,
        /// Whole tokens, e.g. 1.5.
        amount: String,
    },
    /// Withdraw AMOUNT of TOKEN to the signer's associated token account; beyond the deposit
    /// only with --borrow. Checked against initial health before sending.
    Withdraw {
        /// Symbol or mint.
        token: String,
        /// Whole tokens, e.g. 1.5.
        amount: String,
        /// Borrow what the deposit does not cover.
        #[arg(long)]
        borrow: bool,
    },
    /// Perp markets: oracle and mark price, funding rate, open interest, expiry, the stable
    /// price now, the order band and the oracle/stable guard ("HELD": the oracle is beyond it,
    /// so liquidations wait and orders are bound to the stable price).
    Markets,
    /// The insurance fund: its balance (settlement token) and the perp fees waiting to be
    /// swept into it.
    Insurance,
    /// Depth ladder of a perp market (asks on top).
    Book {
        /// Symbol, index or address.
        market: String,
        /// Levels per side.
        #[arg(long, default_value_t = 10)]
        depth: usize,
    },
    /// Perp orders: place, cancel, cancel-all.
    #[command(subcommand)]
    Order(perps::OrderCommand),
    /// Opt TOKEN out of lending (`off`: held apart, earns nothing) or back in (`on`).
    Lending {
        /// Symbol or mint.
        token: String,
        /// on | off
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

#[derive(Subcommand, Debug)]
enum AccountCommand {
    /// Create the signer's margin account number --num.
    Create,
    /// Balances (with APR and a year's interest at today's rates), perp positions (size,
    /// entry, mark, unrealized and settled PnL, funding) and health of an account.
    Show {
        /// Owner [default: the signer].
        #[arg(long)]
        owner: Option<Pubkey>,
    },
    /// Close the signer's empty margin account (rent back to the owner).
    Close,
}

/// What went wrong, printed as `error: ...` with exit status 1.
type CliResult<T> = Result<T, String>;

struct Ctx {
    chain: RpcChain,
    keypair_path: PathBuf,
    exchange: Pubkey,
    ex: Exchange,
    banks: Vec<(Pubkey, Bank)>,
    tokens: Vec<(String, Pubkey)>,
    perp_names: Vec<String>,
    json: bool,
    num: u32,
}

fn solana_cli_config() -> (Option<String>, Option<PathBuf>) {
    let Some(home) = std::env::var_os("HOME") else {
        return (None, None);
    };
    let path = PathBuf::from(home).join(".config/solana/cli/config.yml");
    let Ok(text) = std::fs::read_to_string(path) else {
        return (None, None);
    };
    let get = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
            .filter(|v| !v.is_empty())
    };
    (
        get("json_rpc_url:"),
        get("keypair_path:").map(PathBuf::from),
    )
}

impl Ctx {
    async fn new(cli: &Cli) -> CliResult<Ctx> {
        let (cfg_url, cfg_key) = solana_cli_config();
        let url = cli
            .url
            .clone()
            .or(cfg_url)
            .unwrap_or_else(|| "http://127.0.0.1:8899".into());
        let keypair_path = cli.keypair.clone().or(cfg_key).unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".config/solana/id.json")
        });
        let chain = RpcChain::new(url.clone());
        let exchange = match cli.exchange {
            Some(e) => e,
            None => {
                let found = client::exchanges(&chain)
                    .await
                    .map_err(|e| unreachable_or(e, &url))?;
                match found.as_slice() {
                    [(k, _)] => *k,
                    [] => return Err(format!("no Carry exchange on {url}")),
                    _ => {
                        return Err(format!(
                            "{} exchanges on {url}: choose one with --exchange ({})",
                            found.len(),
                            found
                                .iter()
                                .map(|(k, _)| k.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
            }
        };
        let ex_acc = chain
            .account(&exchange)
            .await
            .map_err(|e| unreachable_or(e, &url))?
            .ok_or_else(|| format!("exchange {exchange} not found on {url}"))?;
        let ex =
            sdk::decode_exchange(&ex_acc.data).map_err(|e| format!("exchange {exchange}: {e}"))?;
        let banks = client::banks(&chain, &exchange)
            .await
            .map_err(|e| unreachable_or(e, &url))?;
        let tokens_path = cli.tokens.clone().or_else(|| {
            let p = PathBuf::from("migrations/localnet.toml");
            p.exists().then_some(p)
        });
        let (tokens, perp_names) = match tokens_path {
            Some(p) => {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("--tokens {}: {e}", p.display()))?;
                (
                    from_config_text(&text),
                    carry_sdk::tokens::perp_markets_from_config_text(&text),
                )
            }
            None => (vec![], vec![]),
        };
        Ok(Ctx {
            chain,
            keypair_path,
            exchange,
            ex,
            banks,
            tokens,
            perp_names,
            json: cli.json,
            num: cli.num,
        })
    }

    fn signer(&self) -> CliResult<Keypair> {
        read_keypair_file(&self.keypair_path).map_err(|e| {
            format!(
                "cannot read keypair {}: {e} (pass --keypair or set keypair_path in the Solana CLI config)",
                self.keypair_path.display()
            )
        })
    }

    fn symbol(&self, mint: &Pubkey) -> String {
        self.tokens
            .iter()
            .find(|(_, m)| m == mint)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| short(mint))
    }

    fn bank(&self, token: &str) -> CliResult<(Pubkey, Bank)> {
        let mint = match self
            .tokens
            .iter()
            .find(|(s, _)| s.eq_ignore_ascii_case(token))
        {
            Some((_, m)) => *m,
            None => token.parse::<Pubkey>().map_err(|_| {
                let known: Vec<&str> = self.tokens.iter().map(|(s, _)| s.as_str()).collect();
                format!(
                    "unknown token {token:?}: give a mint address or one of [{}]",
                    known.join(", ")
                )
            })?,
        };
        self.banks
            .iter()
            .find(|(_, b)| b.mint == mint)
            .copied()
            .ok_or_else(|| format!("no bank for {token} ({mint}) in exchange {}", self.exchange))
    }

    /// Every bank and perp market with its oracle, as fetched now.
    async fn snapshots(&self) -> CliResult<(Vec<BankSnapshot>, Vec<PerpSnapshot>)> {
        let banks = health::snapshot_banks(&self.chain, &self.banks)
            .await
            .map_err(|e| e.to_string())?;
        let markets = client::perp_markets(&self.chain, &self.exchange)
            .await
            .map_err(|e| e.to_string())?;
        let perps = health::snapshot_perp_markets(&self.chain, &markets)
            .await
            .map_err(|e| e.to_string())?;
        Ok((banks, perps))
    }

    async fn now(&self) -> CliResult<i64> {
        Ok(self
            .chain
            .clock()
            .await
            .map_err(|e| e.to_string())?
            .unix_timestamp)
    }

    /// Balance of an SPL token account, 0 when it does not exist.
    async fn token_amount(&self, key: &Pubkey) -> CliResult<u64> {
        Ok(self
            .chain
            .account(key)
            .await
            .map_err(|e| e.to_string())?
            .and_then(|a| {
                <TokenAccountState as solana_sdk::program_pack::Pack>::unpack(&a.data).ok()
            })
            .map(|t| t.amount)
            .unwrap_or(0))
    }

    fn account_key(&self, owner: &Pubkey) -> Pubkey {
        sdk::margin_account_pda(&self.exchange, owner, self.num)
    }

    async fn send(
        &self,
        signer: &Keypair,
        ixs: &[solana_sdk::instruction::Instruction],
    ) -> CliResult<String> {
        let sent = client::send_instructions(&self.chain, signer, &[], ixs, 400_000)
            .await
            .map_err(|e| e.to_string())?;
        Ok(sent.signature.to_string())
    }

    fn done(&self, what: &str, sig: &str) {
        if self.json {
            println!("{}", json!({"ok": true, "action": what, "signature": sig}));
        } else {
            println!("{what}\nsignature: {sig}");
        }
    }
}

fn short(k: &Pubkey) -> String {
    let s = k.to_string();
    format!("{}..{}", &s[..4], &s[s.len() - 4..])
}

fn unreachable_or(e: ClientError, url: &str) -> String {
    match e {
        ClientError::Unreachable(m) => format!("cannot reach {url}: {m}"),
        other => other.to_string(),
    }
}

fn pct(x: carry_math::I80F48) -> String {
    format!("{:.2}%", fixed_f64(x) * 100.0)
}
fn fixed_f64(x: carry_math::I80F48) -> f64 {
    x.to_bits() as f64 / (1u128 << 48) as f64
}
fn usd(native: carry_math::I80F48, quote_decimals: u8) -> String {
    format!(
        "{:.2}",
        fixed_f64(native) / 10f64.powi(quote_decimals as i32)
    )
}

async fn run(cli: Cli) -> CliResult<()> {
    let ctx = Ctx::new(&cli).await?;
    let qd = ctx.ex.settlement_decimals;
    match &cli.command {
        Command::Banks => {
            let now = ctx.now().await?;
            let (snaps, _) = ctx.snapshots().await?;
            let mut t = Table::new(&[
                "token",
                "price $",
                "deposits",
                "borrows",
                "util",
                "deposit APR",
                "borrow APR",
                "mint",
            ]);
            let mut rows = vec![];
            for s in &snaps {
                let b = &s.bank;
                let price = health::oracle_price(s, now, qd)
                    .map(|p| {
                        format!(
                            "{:.4}",
                            fixed_f64(p) * 10f64.powi(b.decimals as i32 - qd as i32)
                        )
                    })
                    .unwrap_or_else(|e| format!("({e})"));
                let pool = b.pool();
                let d = pool.deposits_native().map(|x| x.floor_int()).unwrap_or(0)
                    + b.non_lendable_deposits as i128;
                let br = pool.borrows_native().map(|x| x.ceil_int()).unwrap_or(0);
                let (borrow, deposit) = health::rates(b)?;
                let util = if d > 0 { br as f64 / d as f64 } else { 0.0 };
                let sym = ctx.symbol(&b.mint);
                rows.push(json!({"token": sym, "mint": b.mint.to_string(), "bank": s.key.to_string(),
                    "price": price, "deposits": format_amount(d, b.decimals), "borrows": format_amount(br, b.decimals),
                    "utilization": util, "deposit_apr": fixed_f64(deposit), "borrow_apr": fixed_f64(borrow)}));
                t.row(vec![
                    sym,
                    price,
                    format_amount(d, b.decimals),
                    format_amount(br, b.decimals),
                    format!("{:.1}%", util * 100.0),
                    pct(deposit),
                    pct(borrow),
                    b.mint.to_string(),
                ]);
            }
            if ctx.json {
                println!("{}", serde_json::Value::Array(rows));
            } else {
                print!("{}", t.render());
            }
        }
        Command::Account(AccountCommand::Create) => {
            let signer = ctx.signer()?;
            let key = ctx.account_key(&signer.pubkey());
            if ctx
                .chain
                .account(&key)
                .await
                .map_err(|e| e.to_string())?
                .is_some()
            {
                return Err(format!(
                    "margin account {key} (number {}) already exists",
                    ctx.num
                ));
            }
            let sig = ctx
                .send(
                    &signer,
                    &[sdk::create_margin_account(
                        signer.pubkey(),
                        ctx.exchange,
                        ctx.num,
                    )],
                )
                .await?;
            ctx.done(&format!("created margin account {key}"), &sig);
        }
        Command::Account(AccountCommand::Close) => {
            let signer = ctx.signer()?;
            let key = ctx.account_key(&signer.pubkey());
            let sig = ctx
                .send(
                    &signer,
                    &[sdk::close_margin_account(
                        signer.pubkey(),
                        ctx.exchange,
                        key,
                        &[],
                    )],
                )
                .await?;
            ctx.done(&format!("closed margin account {key}"), &sig);
        }
        Command::Account(AccountCommand::Show { owner }) => {
            let owner = match owner {
                Some(o) => *o,
                None => ctx.signer()?.pubkey(),
            };
            let key = ctx.account_key(&owner);
            let acc = ctx
                .chain
                .account(&key)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no margin account {key} (owner {owner}, number {}): create it with `carry account create`", ctx.num))?;
            let acc = sdk::decode_margin_account(&acc.data).map_err(|e| e.to_string())?;
            let now = ctx.now().await?;
            let (snaps, perps) = ctx.snapshots().await?;
            let h = health::health(&acc, qd, &snaps, &perps, now)?;
            let mut t = Table::new(&["token", "balance", "APR", "interest/yr", "lending"]);
            let mut rows = vec![];
            for s in &snaps {
                let b = &s.bank;
                let Some(slot) = acc.find_token(b.token_index) else {
                    continue;
                };
                let bal = health::balance(&acc, b, now)?;
                let rates = health::rates(b)?;
                let opted_out = acc.tokens[slot].lending_disabled != 0;
                let rate = if opted_out {
                    carry_math::I80F48::ZERO
                } else if bal.is_negative() {
                    rates.0
                } else {
                    rates.1
                };
                let year = if opted_out {
                    Some(carry_math::I80F48::ZERO)
                } else {
                    health::interest_over(bal, rates, carry_math::interest::SECONDS_PER_YEAR)
                };
                let sym = ctx.symbol(&b.mint);
                let bal_s = format_amount(bal.floor_int(), b.decimals);
                let year_s = year
                    .map(|y| format_amount(y.floor_int(), b.decimals))
                    .unwrap_or_default();
                rows.push(json!({"token": sym, "balance": bal_s, "apr": fixed_f64(rate), "interest_per_year": year_s, "lending": !opted_out}));
                t.row(vec![
                    sym,
                    bal_s,
                    pct(rate),
                    year_s,
                    if opted_out { "off".into() } else { "on".into() },
                ]);
            }
            let terms = health::health_terms(&acc, qd, &snaps, &perps, now)?;
            let (ptable, prows) = ctx.positions(&key, &acc, &perps, &terms, now).await?;
            // equity: every weight at 1, positions at their PnL at the oracle; below zero the
            // account is underwater (auto-deleveraged beyond what the insurance fund covers)
            let equity = terms.equity().map_err(|e| format!("{e:?}"))?;
            if ctx.json {
                println!(
                    "{}",
                    json!({"account": key.to_string(), "owner": owner.to_string(), "balances": rows, "positions": prows,
                    "init_health": usd(h.init, qd), "maint_health": usd(h.maint, qd), "equity": usd(equity, qd),
                    "liquidatable": h.maint.is_negative(), "underwater": equity.is_negative()})
                );
            } else {
                println!("account {key} (owner {owner}, number {})", ctx.num);
                print!("{}", t.render());
                if !prows.is_empty() {
                    print!("{}", ptable.render());
                }
                println!(
                    "health: init {} USD, maint {} USD{}",
                    usd(h.init, qd),
                    usd(h.maint, qd),
                    if h.maint.is_negative() {
                        "  (LIQUIDATABLE)"
                    } else {
                        ""
                    }
                );
                println!(
                    "equity: {} USD (weights at 1, positions at the oracle){}",
                    usd(equity, qd),
                    if equity.is_negative() {
                        "  (UNDERWATER: auto-deleveraging)"
                    } else {
                        ""
                    }
                );
            }
        }
        Command::Deposit { token, amount } => {
            let signer = ctx.signer()?;
            let (bank_key, bank) = ctx.bank(token)?;
            let native = parse_amount(amount, bank.decimals)?;
            if native == 0 {
                return Err("amount must be positive".into());
            }
            let key = ctx.account_key(&signer.pubkey());
            let wallet = anchor_spl::associated_token::get_associated_token_address(
                &signer.pubkey(),
                &bank.mint,
            );
            let have = ctx.token_amount(&wallet).await?;
            if have < native {
                return Err(format!(
                    "wallet {wallet} holds {} {}, less than {amount}",
                    format_amount(have as i128, bank.decimals),
                    ctx.symbol(&bank.mint)
                ));
            }
            let ix = sdk::deposit(
                signer.pubkey(),
                ctx.exchange,
                key,
                bank_key,
                bank.vault,
                bank.mint,
                wallet,
                native,
                Some(bank.oracle),
            );
            let sig = ctx.send(&signer, &[ix]).await?;
            ctx.done(
                &format!("deposited {amount} {}", ctx.symbol(&bank.mint)),
                &sig,
            );
        }
        Command::Withdraw {
            token,
            amount,
            borrow,
        } => {
            let signer = ctx.signer()?;
            let (bank_key, bank) = ctx.bank(token)?;
            let native = parse_amount(amount, bank.decimals)?;
            if native == 0 {
                return Err("amount must be positive".into());
            }
            let key = ctx.account_key(&signer.pubkey());
            let acc = ctx
                .chain
                .account(&key)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!("no margin account {key}: create it with `carry account create`")
                })?;
            let acc = sdk::decode_margin_account(&acc.data).map_err(|e| e.to_string())?;
            let now = ctx.now().await?;
            let (snaps, perps) = ctx.snapshots().await?;
            let snap = snaps
                .iter()
                .find(|s| s.key == bank_key)
                .ok_or("bank snapshot")?;
            let sym = ctx.symbol(&bank.mint);
            let bal = health::balance(&acc, &bank, now)?.floor_int().max(0) as u64;
            if !*borrow && native > bal {
                return Err(format!(
                    "the account holds {} {sym}; withdrawing {amount} needs --borrow",
                    format_amount(bal as i128, bank.decimals)
                ));
            }
            let vault = ctx.token_amount(&bank.vault).await?;
            let max = health::max_withdraw(&acc, qd, (&snaps, &perps), snap, vault, now)?;
            if native > max.by_health {
                return Err(format!(
                    "refused before sending: initial health allows at most {} {sym} out of this account now; asked {amount}",
                    format_amount(max.by_health as i128, bank.decimals)
                ));
            }
            if native > max.by_cash {
                return Err(format!(
                    "refused before sending: the {sym} bank has {} {sym} of lendable cash (deposits not lent out); asked {amount}",
                    format_amount(max.by_cash as i128, bank.decimals)
                ));
            }
            let wallet = anchor_spl::associated_token::get_associated_token_address(
                &signer.pubkey(),
                &bank.mint,
            );
            let mut ixs = vec![];
            if ctx
                .chain
                .account(&wallet)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                ixs.push(anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
                    &signer.pubkey(), &signer.pubkey(), &bank.mint, &anchor_spl::token::ID));
            }
            let mut pairs = sdk::health_pairs(&acc, ctx.banks.iter().map(|(k, b)| (*k, b)));
            if !pairs.iter().any(|(k, _)| *k == bank_key) {
                pairs.push((bank_key, bank.oracle));
            }
            ixs.push(sdk::withdraw(
                signer.pubkey(),
                ctx.exchange,
                key,
                bank_key,
                bank.vault,
                bank.mint,
                wallet,
                native,
                *borrow,
                &pairs,
            ));
            let sig = ctx.send(&signer, &ixs).await?;
            ctx.done(&format!("withdrew {amount} {sym}"), &sig);
        }
        Command::Markets => ctx.markets().await?,
        Command::Insurance => {
            let qd = ctx.ex.settlement_decimals;
            let balance = carry_sdk::liquidation::insurance_balance(&ctx.chain, &ctx.exchange)
                .await
                .map_err(|e| e.to_string())?;
            let pending: u64 = ctx
                .perp_market_list()
                .await?
                .iter()
                .map(|(_, m)| m.fees_accrued_native)
                .sum();
            let vault = sdk::insurance_vault_pda(&ctx.exchange);
            if ctx.json {
                println!(
                    "{}",
                    json!({"insurance_vault": vault.to_string(), "balance": format_amount(balance as i128, qd),
                        "perp_fees_to_sweep": format_amount(pending as i128, qd)})
                );
            } else {
                println!(
                    "insurance fund {vault}: {} (perp fees to sweep: {})",
                    format_amount(balance as i128, qd),
                    format_amount(pending as i128, qd)
                );
            }
        }
        Command::Book { market, depth } => ctx.book(market, *depth).await?,
        Command::Order(o) => ctx.order(o).await?,
        Command::Lending { token, state } => {
            let signer = ctx.signer()?;
            let (bank_key, bank) = ctx.bank(token)?;
            let key = ctx.account_key(&signer.pubkey());
            let ix = sdk::set_token_lending(
                signer.pubkey(),
                ctx.exchange,
                key,
                bank_key,
                bank.vault,
                state == "on",
                Some(bank.oracle),
            );
            let sig = ctx.send(&signer, &[ix]).await?;
            ctx.done(
                &format!("lending of {} is {state}", ctx.symbol(&bank.mint)),
                &sig,
            );
        }
    }
    Ok(())
}

/// An SPL token account's state.
type TokenAccountState = anchor_spl::token::spl_token::state::Account;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!("{}", json!({"ok": false, "error": e}));
            }
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
