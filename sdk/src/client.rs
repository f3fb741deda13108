//! Talking to a cluster: the [`Chain`] trait over a Solana JSON-RPC endpoint
//! (`solana-rpc-client`'s nonblocking `RpcClient`, with retries and backoff on transient
//! errors) and over solana-program-test's `BanksClient` (so tools are tested in-process against
//! the real programs), plus what every tool needs on top: finding Carry's accounts, sending
//! instructions with a compute budget and a fresh blockhash, and decoding the events of a
//! transaction's logs.

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use async_trait::async_trait;
use carry_margin::state::{
    Bank, Exchange, MarginAccount, PerpMarket, BANK_SIZE, EXCHANGE_SIZE, MARGIN_ACCOUNT_SIZE,
    PERP_MARKET_SIZE,
};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::{RpcError, RpcResponseErrorData};
use solana_sdk::account::Account;
use solana_sdk::clock::Clock;
use solana_sdk::commitment_config::CommitmentConfig;
use solana_sdk::compute_budget::ComputeBudgetInstruction;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::{Transaction, TransactionError};

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The endpoint could not be reached (after retries with backoff).
    Unreachable(String),
    /// The endpoint answered an error.
    Rpc(String),
    /// The transaction was refused or failed: the error and the program logs.
    Transaction {
        /// The runtime's error (a program's named error is `InstructionError(_, Custom(code))`).
        err: TransactionError,
        /// Program logs (Anchor's error line names the error).
        logs: Vec<String>,
    },
    /// An account is missing or not what it should be.
    Account(String),
    /// This backend cannot answer that (e.g. `BanksClient` cannot list program accounts).
    Unsupported(&'static str),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Unreachable(e) => write!(f, "endpoint unreachable: {e}"),
            ClientError::Rpc(e) => write!(f, "RPC: {e}"),
            ClientError::Transaction { err, logs } => {
                let named = logs
                    .iter()
                    .find_map(|l| l.split("Error Message: ").nth(1))
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default();
                write!(f, "transaction failed: {err}{named}")
            }
            ClientError::Account(e) => write!(f, "{e}"),
            ClientError::Unsupported(what) => write!(f, "unsupported by this backend: {what}"),
        }
    }
}
impl std::error::Error for ClientError {}

/// A landed transaction.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Its signature.
    pub signature: Signature,
    /// Its log lines (events are its `Program data:` lines, see [`events`]).
    pub logs: Vec<String>,
}

/// What Carry's tools need from a cluster.
#[async_trait]
pub trait Chain: Send + Sync {
    /// An account, `None` when it does not exist.
    async fn account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError>;
    /// Accounts owned by `program` of `size` bytes whose bytes at each offset equal the given
    /// bytes.
    async fn program_accounts(
        &self,
        program: &Pubkey,
        size: usize,
        memcmp: &[(usize, Vec<u8>)],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError>;
    /// A recent blockhash.
    async fn latest_blockhash(&self) -> Result<Hash, ClientError>;
    /// Send a signed transaction and wait until it is confirmed; its logs come back.
    async fn send(&self, tx: Transaction) -> Result<Sent, ClientError>;

    /// The cluster's clock.
    async fn clock(&self) -> Result<Clock, ClientError> {
        let a = self
            .account(&solana_sdk::sysvar::clock::ID)
            .await?
            .ok_or_else(|| ClientError::Account("no clock sysvar".into()))?;
        bincode::deserialize(&a.data).map_err(|e| ClientError::Account(format!("clock: {e}")))
    }
}

/// Retries a read on transient errors: 4 attempts, 200 ms doubling.
async fn retry<T, F, Fut>(what: &str, f: F) -> Result<T, ClientError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, solana_rpc_client_api::client_error::Error>>,
{
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let transient = matches!(
                    e.kind(),
                    ErrorKind::Io(_) | ErrorKind::Reqwest(_) | ErrorKind::Middleware(_)
                );
                attempt += 1;
                if !transient {
                    return Err(ClientError::Rpc(format!("{what}: {e}")));
                }
                if attempt == 4 {
                    return Err(ClientError::Unreachable(format!("{what}: {e}")));
                }
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}

/// A JSON-RPC endpoint.
pub struct RpcChain {
    /// The underlying client (commitment `confirmed`).
    pub rpc: RpcClient,
}

impl RpcChain {
    /// Client of `url` at `confirmed` commitment.
    pub fn new(url: impl Into<String>) -> RpcChain {
        RpcChain {
            rpc: RpcClient::new_with_commitment(url.into(), CommitmentConfig::confirmed()),
        }
    }
}

#[async_trait]
impl Chain for RpcChain {
    async fn account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        let r = retry("getAccountInfo", || {
            self.rpc
                .get_account_with_commitment(key, CommitmentConfig::confirmed())
        })
        .await?;
        Ok(r.value)
    }

    async fn program_accounts(
        &self,
        program: &Pubkey,
        size: usize,
        memcmp: &[(usize, Vec<u8>)],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        let mut filters = vec![RpcFilterType::DataSize(size as u64)];
        for (o, b) in memcmp {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(*o, b.clone())));
        }
        let cfg = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..Default::default()
            },
            ..Default::default()
        };
        retry("getProgramAccounts", || {
            self.rpc
                .get_program_accounts_with_config(program, cfg.clone())
        })
        .await
    }

    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        retry("getLatestBlockhash", || self.rpc.get_latest_blockhash()).await
    }

    async fn send(&self, tx: Transaction) -> Result<Sent, ClientError> {
        let signature = tx.signatures[0];
        let mut delay = Duration::from_millis(200);
        let mut attempt = 0;
        loop {
            match self.rpc.send_and_confirm_transaction(&tx).await {
                Ok(_) => break,
                Err(e) => {
                    if let ErrorKind::RpcError(RpcError::RpcResponseError {
                        data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
                        ..
                    }) = e.kind()
                    {
                        return Err(ClientError::Transaction {
                            err: sim
                                .err
                                .clone()
                                .unwrap_or(TransactionError::InstructionError(
                                    0,
                                    solana_sdk::instruction::InstructionError::GenericError,
                                )),
                            logs: sim.logs.clone().unwrap_or_default(),
                        });
                    }
                    if let ErrorKind::TransactionError(err) = e.kind() {
                        return Err(ClientError::Transaction {
                            err: err.clone(),
                            logs: vec![],
                        });
                    }
                    let transient = matches!(
                        e.kind(),
                        ErrorKind::Io(_) | ErrorKind::Reqwest(_) | ErrorKind::Middleware(_)
                    );
                    attempt += 1;
                    if !transient {
                        return Err(ClientError::Rpc(format!("sendTransaction: {e}")));
                    }
                    if attempt == 4 {
                        return Err(ClientError::Unreachable(format!("sendTransaction: {e}")));
                    }
                    // the same signed transaction: a retry can never apply it twice
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        let cfg = RpcTransactionConfig {
            encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Json),
            commitment: Some(CommitmentConfig::confirmed()),
            max_supported_transaction_version: Some(0),
        };
        let logs = retry("getTransaction", || {
            self.rpc.get_transaction_with_config(&signature, cfg)
        })
        .await
        .ok()
        .and_then(|t| t.transaction.meta)
        .and_then(|m| Option::<Vec<String>>::from(m.log_messages))
        .unwrap_or_default();
        Ok(Sent { signature, logs })
    }
}

/// solana-program-test's in-process bank.
///
/// A `BanksClient` cannot list accounts, so [`Chain::program_accounts`] answers from the keys
/// registered with [`BanksChain::track`] (each read now and filtered as an RPC node would):
/// register every margin account a tool under test should find.
pub struct BanksChain {
    /// The client (its calls take `&mut self`).
    pub banks: tokio::sync::Mutex<solana_banks_client::BanksClient>,
    tracked: std::sync::Mutex<Vec<Pubkey>>,
}

impl BanksChain {
    /// Wrap a `BanksClient`.
    pub fn new(banks: solana_banks_client::BanksClient) -> BanksChain {
        BanksChain {
            banks: tokio::sync::Mutex::new(banks),
            tracked: std::sync::Mutex::new(vec![]),
        }
    }

    /// Make `keys` listable by [`Chain::program_accounts`] (duplicates are ignored).
    pub fn track(&self, keys: &[Pubkey]) {
        let mut t = self.tracked.lock().expect("tracked keys");
        for k in keys {
            if !t.contains(k) {
                t.push(*k);
            }
        }
    }
}

#[async_trait]
impl Chain for BanksChain {
    async fn account(&self, key: &Pubkey) -> Result<Option<Account>, ClientError> {
        self.banks
            .lock()
            .await
            .get_account(*key)
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))
    }
    async fn program_accounts(
        &self,
        program: &Pubkey,
        size: usize,
        memcmp: &[(usize, Vec<u8>)],
    ) -> Result<Vec<(Pubkey, Account)>, ClientError> {
        let keys = self.tracked.lock().expect("tracked keys").clone();
        let mut out = vec![];
        for k in keys {
            let Some(a) = self.account(&k).await? else {
                continue;
            };
            let matches = a.owner == *program
                && a.data.len() == size
                && memcmp
                    .iter()
                    .all(|(o, b)| a.data.get(*o..*o + b.len()) == Some(b.as_slice()));
            if matches {
                out.push((k, a));
            }
        }
        Ok(out)
    }
    async fn latest_blockhash(&self) -> Result<Hash, ClientError> {
        self.banks
            .lock()
            .await
            .get_latest_blockhash()
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))
    }
    async fn send(&self, tx: Transaction) -> Result<Sent, ClientError> {
        let signature = tx.signatures[0];
        let r = self
            .banks
            .lock()
            .await
            .process_transaction_with_metadata(tx)
            .await
            .map_err(|e| ClientError::Rpc(e.to_string()))?;
        let logs = r.metadata.map(|m| m.log_messages).unwrap_or_default();
        match r.result {
            Ok(()) => Ok(Sent { signature, logs }),
            Err(err) => Err(ClientError::Transaction { err, logs }),
        }
    }
}

/// Send `ixs` paid by `payer` and signed by it and `signers`, with a compute-unit limit
/// (`cu_limit`, 0 for the default) and a fresh blockhash.
pub async fn send_instructions(
    chain: &dyn Chain,
    payer: &Keypair,
    signers: &[&Keypair],
    ixs: &[Instruction],
    cu_limit: u32,
) -> Result<Sent, ClientError> {
    let mut all = vec![];
    if cu_limit > 0 {
        all.push(ComputeBudgetInstruction::set_compute_unit_limit(cu_limit));
    }
    all.extend_from_slice(ixs);
    let mut keys: Vec<&Keypair> = vec![payer];
    keys.extend_from_slice(signers);
    let bh = chain.latest_blockhash().await?;
    let tx = Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, bh);
    chain.send(tx).await
}

// ---------------------------------------------------------------------------------------------
// Finding Carry's accounts
// ---------------------------------------------------------------------------------------------

/// Margin-program accounts of type `T` (`size` bytes with the discriminator) whose bytes
/// after the discriminator start with `prefix` (e.g. the exchange key), decoded.
async fn find<T: anchor_lang::ZeroCopy + Discriminator>(
    chain: &dyn Chain,
    size: usize,
    prefixes: &[(usize, &[u8])],
    what: &str,
) -> Result<Vec<(Pubkey, T)>, ClientError> {
    let mut memcmp = vec![(0, T::DISCRIMINATOR.to_vec())];
    memcmp.extend(prefixes.iter().map(|(o, b)| (*o, b.to_vec())));
    let found = chain
        .program_accounts(&carry_margin::ID, size, &memcmp)
        .await?;
    found
        .into_iter()
        .map(|(k, a)| {
            crate::margin::decode_account::<T>(&a.data)
                .map(|v| (k, v))
                .map_err(|e| ClientError::Account(format!("{what} {k}: {e}")))
        })
        .collect()
}

/// Every exchange of the margin program on this cluster.
pub async fn exchanges(chain: &dyn Chain) -> Result<Vec<(Pubkey, Exchange)>, ClientError> {
    find(chain, 8 + EXCHANGE_SIZE, &[], "exchange").await
}

/// The banks of `exchange`, by token index.
pub async fn banks(
    chain: &dyn Chain,
    exchange: &Pubkey,
) -> Result<Vec<(Pubkey, Bank)>, ClientError> {
    let mut v: Vec<(Pubkey, Bank)> =
        find(chain, 8 + BANK_SIZE, &[(8, exchange.as_ref())], "bank").await?;
    v.sort_by_key(|(_, b)| b.token_index);
    Ok(v)
}

/// The perp markets of `exchange`, by market index.
pub async fn perp_markets(
    chain: &dyn Chain,
    exchange: &Pubkey,
) -> Result<Vec<(Pubkey, PerpMarket)>, ClientError> {
    let mut v: Vec<(Pubkey, PerpMarket)> = find(
        chain,
        8 + PERP_MARKET_SIZE,
        &[(8, exchange.as_ref())],
        "perp market",
    )
    .await?;
    v.sort_by_key(|(_, m)| m.market_index);
    Ok(v)
}

/// The margin accounts of `owner` in `exchange`.
pub async fn margin_accounts_of(
    chain: &dyn Chain,
    exchange: &Pubkey,
    owner: &Pubkey,
) -> Result<Vec<(Pubkey, MarginAccount)>, ClientError> {
    let prefixes = [(8, exchange.as_ref()), (40, owner.as_ref())];
    find(chain, 8 + MARGIN_ACCOUNT_SIZE, &prefixes, "account").await
}

/// Every margin account of `exchange` (what keepers scan).
pub async fn all_margin_accounts(
    chain: &dyn Chain,
    exchange: &Pubkey,
) -> Result<Vec<(Pubkey, MarginAccount)>, ClientError> {
    find(
        chain,
        8 + MARGIN_ACCOUNT_SIZE,
        &[(8, exchange.as_ref())],
        "account",
    )
    .await
}

/// The events in a transaction's logs: the payload (discriminator + borsh) of every
/// `Program data:` line, in order. Decode one with [`decode_event`].
pub fn events(logs: &[String]) -> Vec<Vec<u8>> {
    use base64::Engine;
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|d| {
            base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .ok()
        })
        .collect()
}

/// Every event of type `T` (either program's) in `logs`, decoded.
pub fn decode_event<T: anchor_lang::AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<T> {
    events(logs)
        .into_iter()
        .filter(|d| d.len() >= 8 && &d[..8] == T::DISCRIMINATOR)
        .filter_map(|d| T::deserialize(&mut &d[8..]).ok())
        .collect()
}
