//! The bootstrap config file (TOML): the exchange, its tokens (mint, Pyth feed, bank
//! parameters), its perp markets (base token, lot and tick sizes, book capacities, fees, an
//! optional expiry) and, for the local chain, each feed's starting price and volatility.
//! `migrations/localnet.toml` is the local chain's.

use std::path::Path;

use carry_margin::state::{PerpMarketParams, PerpMarketSetup};
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
    /// Perp markets in creation order (their market index).
    #[serde(default)]
    pub perp_markets: Vec<PerpMarketConfig>,
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

/// One `[[perp_markets]]` entry: a market on the price feed of one of the tokens. Omitted
/// sizes and parameters take the SDK's example values (`example_perp_market_setup`,
/// `example_perp_market_params`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerpMarketConfig {
    /// Market symbol (display, e.g. `SOL-PERP`).
    pub symbol: String,
    /// Symbol of the token whose oracle and decimals the market uses.
    pub base: String,
    /// Base native units per lot.
    pub base_lot_size: Option<u64>,
    /// Quote native units per lot per tick.
    pub tick_size: Option<u64>,
    /// Orders per side of the book [default 1024].
    pub order_capacity: Option<u32>,
    /// Fill events the book queues [default 256].
    pub event_capacity: Option<u32>,
    /// Maker fee, ppm (negative: rebate).
    pub maker_fee_ppm: Option<i32>,
    /// Taker fee, ppm.
    pub taker_fee_ppm: Option<i32>,
    /// Open-interest limit, base lots.
    pub open_interest_limit_lots: Option<u64>,
    /// Oracle/stable guard, basis points (`PerpMarketParams::oracle_stable_guard_bps`; off when
    /// absent): set it for a market whose oracle can be moved, with leverage tiers whose first
    /// initial margin is at least the guard (refused otherwise).
    pub oracle_stable_guard_bps: Option<u16>,
    /// Funding impact notional, quote native.
    pub funding_impact_notional: Option<u64>,
    /// A dated future: it expires this many seconds after the bootstrap creates it (fixed from
    /// then on; a later run leaves the expiry as created).
    pub expiry_after_secs: Option<u64>,
    /// Dated future: the settlement window, seconds [default 600].
    pub settlement_window_secs: Option<u32>,
    /// Dated future: least seconds between two settlement samples [default 30].
    pub settlement_min_interval_secs: Option<u32>,
}

impl PerpMarketConfig {
    /// The setup (`base_decimals` from the base token).
    pub fn setup(&self, base_decimals: u8) -> PerpMarketSetup {
        let d = carry_sdk::margin::example_perp_market_setup();
        PerpMarketSetup {
            base_decimals,
            base_lot_size: self.base_lot_size.unwrap_or(d.base_lot_size),
            tick_size: self.tick_size.unwrap_or(d.tick_size),
            order_capacity: self.order_capacity.unwrap_or(1024),
            event_capacity: self.event_capacity.unwrap_or(256),
        }
    }
    /// The parameters; `expiry_ts` is the market's expiry (0 for a perpetual; the bootstrap
    /// computes it from `expiry_after_secs` at creation and keeps the stored one after).
    pub fn params(&self, expiry_ts: i64) -> PerpMarketParams {
        let mut p = carry_sdk::margin::example_perp_market_params();
        if let Some(v) = self.maker_fee_ppm {
            p.maker_fee_ppm = v;
        }
        if let Some(v) = self.taker_fee_ppm {
            p.taker_fee_ppm = v;
        }
        if let Some(v) = self.open_interest_limit_lots {
            p.open_interest_limit_lots = v;
        }
        if let Some(v) = self.oracle_stable_guard_bps {
            p.oracle_stable_guard_bps = v;
        }
        if let Some(v) = self.funding_impact_notional {
            p.funding_impact_notional = v;
        }
        if self.expiry_after_secs.is_some() {
            p.expiry_ts = expiry_ts;
            p.settlement_window_secs = self.settlement_window_secs.unwrap_or(600);
            p.settlement_min_interval_secs = self.settlement_min_interval_secs.unwrap_or(30);
        }
        p
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
        let mut seen = std::collections::HashSet::new();
        for m in &self.perp_markets {
            if !seen.insert(m.symbol.clone()) {
                return Err(format!("config: perp market {} listed twice", m.symbol));
            }
            if !self.tokens.iter().any(|t| t.symbol == m.base) {
                return Err(format!(
                    "perp market {}: base {} is not one of the tokens",
                    m.symbol, m.base
                ));
            }
        }
        Ok(())
    }
}
