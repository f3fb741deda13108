//! The bootstrap config file (TOML): the exchange, its tokens (mint, Pyth feed, bank
//! parameters) and, for the local chain, each feed's starting price and volatility.
//! `migrations/localnet.toml` is the local chain's.

use std::path::Path;

use carry_margin::BankParams;
use serde::Deserialize;
use solana_sdk::pubkey::Pubkey;

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The exchange.
    pub exchange: ExchangeConfig,
    /// Tokens in registration order (their token index); the first is the settlement token.
    pub tokens: Vec<TokenConfig>,
    /// Directory of the config file (relative paths in it are relative to this).
    #[serde(skip)]
    pub base_dir: Option<std::path::PathBuf>,
}

/// `[exchange]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeConfig {
    /// Number in the exchange PDA seeds (one admin may run several exchanges).
    pub number: u32,
}

/// One `[[tokens]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Symbol (display, and the local chain's mint seed).
    pub symbol: String,
    /// Mint decimals (checked against the mint).
    pub decimals: u8,
    /// Mint address. Omitted on the local chain: the chain's faucet mint of this symbol.
    pub mint: Option<String>,
    /// Pyth feed id, 32 bytes hex (with or without 0x).
    pub feed_id: String,
    /// Oracle account. Omitted: the Pyth push oracle's price feed account of `feed_id`
    /// (shard 0), which is what Solana mainnet publishes and the local chain writes.
    pub oracle: Option<String>,
    /// Local chain only: the feed's starting price in USD.
    #[serde(default)]
    pub price: f64,
    /// Local chain only: largest random-walk step per slot, basis points.
    #[serde(default)]
    pub volatility_bps: u32,
    /// Local chain only: replay this price series (a text file of USD prices, one per line,
    /// `#` comments; relative to the config file) one line per slot, looping, instead of the
    /// random walk.
    pub price_series_file: Option<String>,
    /// Bank parameters (each field as in `BankParams`; omitted fields take the SDK's example
    /// values).
    #[serde(default)]
    pub bank: BankConfig,
}

/// `[tokens.bank]`: `BankParams` with defaults from `carry_sdk::margin::example_bank_params`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankConfig {
    init_asset_weight_ppm: Option<u32>,
    maint_asset_weight_ppm: Option<u32>,
    init_liab_weight_ppm: Option<u32>,
    maint_liab_weight_ppm: Option<u32>,
    base_rate_ppm: Option<u32>,
    optimal_util_ppm: Option<u32>,
    slope1_ppm: Option<u32>,
    slope2_ppm: Option<u32>,
    max_rate_ppm: Option<u32>,
    reserve_factor_ppm: Option<u32>,
    deposit_limit: Option<u64>,
    net_borrow_limit: Option<u64>,
    oracle_max_age_secs: Option<u32>,
    oracle_max_conf_ppm: Option<u32>,
    stable_max_move_ppm_per_hour: Option<u32>,
    stable_max_step_secs: Option<u32>,
    liquidation_fee_ppm: Option<u32>,
}

impl BankConfig {
    /// The parameters, defaults filled in.
    pub fn params(&self) -> BankParams {
        let d = carry_sdk::margin::example_bank_params();
        BankParams {
            init_asset_weight_ppm: self
                .init_asset_weight_ppm
                .unwrap_or(d.init_asset_weight_ppm),
            maint_asset_weight_ppm: self
                .maint_asset_weight_ppm
                .unwrap_or(d.maint_asset_weight_ppm),
            init_liab_weight_ppm: self.init_liab_weight_ppm.unwrap_or(d.init_liab_weight_ppm),
            maint_liab_weight_ppm: self
                .maint_liab_weight_ppm
                .unwrap_or(d.maint_liab_weight_ppm),
            base_rate_ppm: self.base_rate_ppm.unwrap_or(d.base_rate_ppm),
            optimal_util_ppm: self.optimal_util_ppm.unwrap_or(d.optimal_util_ppm),
            slope1_ppm: self.slope1_ppm.unwrap_or(d.slope1_ppm),
            slope2_ppm: self.slope2_ppm.unwrap_or(d.slope2_ppm),
            max_rate_ppm: self.max_rate_ppm.unwrap_or(d.max_rate_ppm),
            reserve_factor_ppm: self.reserve_factor_ppm.unwrap_or(d.reserve_factor_ppm),
            deposit_limit: self.deposit_limit.unwrap_or(d.deposit_limit),
            net_borrow_limit: self.net_borrow_limit.unwrap_or(d.net_borrow_limit),
            oracle_max_age_secs: self.oracle_max_age_secs.unwrap_or(d.oracle_max_age_secs),
            oracle_max_conf_ppm: self.oracle_max_conf_ppm.unwrap_or(d.oracle_max_conf_ppm),
            stable_max_move_ppm_per_hour: self
                .stable_max_move_ppm_per_hour
                .unwrap_or(d.stable_max_move_ppm_per_hour),
            stable_max_step_secs: self.stable_max_step_secs.unwrap_or(d.stable_max_step_secs),
            liquidation_fee_ppm: self.liquidation_fee_ppm.unwrap_or(d.liquidation_fee_ppm),
            padding: [0; 4],
        }
    }
}

pub use carry_sdk::tokens::{localnet_mint, pyth_feed_account};

impl TokenConfig {
    /// The mint: the configured one, or the local chain's.
    pub fn mint(&self) -> Result<Pubkey, String> {
        match &self.mint {
            Some(m) => m
                .parse()
                .map_err(|_| format!("token {}: invalid mint {m}", self.symbol)),
            None => Ok(localnet_mint(&self.symbol)),
        }
    }
    /// The feed id bytes.
    pub fn feed_id(&self) -> Result<[u8; 32], String> {
        let s = self.feed_id.trim_start_matches("0x");
        let v = hex::decode(s).map_err(|_| format!("token {}: feed_id is not hex", self.symbol))?;
        v.try_into()
            .map_err(|_| format!("token {}: feed_id must be 32 bytes", self.symbol))
    }
    /// The oracle account: the configured one, or the push oracle's feed account.
    pub fn oracle(&self) -> Result<Pubkey, String> {
        match &self.oracle {
            Some(o) => o
                .parse()
                .map_err(|_| format!("token {}: invalid oracle {o}", self.symbol)),
            None => Ok(pyth_feed_account(0, &self.feed_id()?)),
        }
    }
}

impl Config {
    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut c: Config =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        c.base_dir = path.parent().map(|p| p.to_path_buf());
        c.check()?;
        Ok(c)
    }
    /// Every token resolvable, parameters valid, symbols unique, at least one token.
    pub fn check(&self) -> Result<(), String> {
        if self.tokens.is_empty() {
            return Err("config: no tokens (the first is the settlement token)".into());
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.tokens {
            if !seen.insert(t.symbol.clone()) {
                return Err(format!("config: token {} listed twice", t.symbol));
            }
            t.mint()?;
            t.oracle()?;
            if !t.bank.params().is_valid() {
                return Err(format!("token {}: invalid bank parameters", t.symbol));
            }
        }
        Ok(())
    }
}
