//! The local chain's market maker: one margin account, funded from the faucet, that quotes
//! both sides of every tradable perp market around the oracle price every few seconds, so a
//! developer's first order has something to trade against.
//!
//! Each round and market is one transaction: `cancel_all_perp_orders` of its own orders, then
//! [`MakerConfig::levels`] post-only-slide bids and asks (they never take), `spread_bps` then
//! `step_bps` apart from the oracle price, each of about `level_usd` notional. When its
//! position in a market is worth more than `max_position_usd` it quotes only the side that
//! reduces it. It trades over the chain's own JSON-RPC with the SDK, as any integrator does;
//! the in-process keeper applies its fills and settles its PnL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_spl::associated_token::get_associated_token_address;
use carry_margin::state::{MarginAccount, PerpMarket};
use carry_margin::PlacePerpOrderArgs;
use carry_sdk::client::{self, Chain as _, RpcChain};
use carry_sdk::health::{perp_oracle_price, snapshot_perp_markets};
use carry_sdk::keeper::perp_markets_by_pda;
use carry_sdk::margin as sdk;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{keypair_from_seed, Keypair, Signer};

use crate::chain::Chain;

/// How the market maker quotes.
#[derive(Clone, Debug)]
pub struct MakerConfig {
    /// Seconds between rounds.
    pub every_secs: u64,
    /// Orders per side.
    pub levels: u32,
    /// Distance of the best quotes from the oracle, basis points.
    pub spread_bps: u32,
    /// Distance between levels, basis points.
    pub step_bps: u32,
    /// Notional of each order, USD.
    pub level_usd: u64,
    /// Above this position notional (USD) in a market, only the reducing side is quoted.
    pub max_position_usd: u64,
    /// Settlement tokens (whole) deposited at setup.
    pub deposit_usd: u64,
}

impl Default for MakerConfig {
    fn default() -> Self {
        MakerConfig {
            every_secs: 2,
            levels: 2,
            spread_bps: 10,
            step_bps: 10,
            level_usd: 5_000,
            max_position_usd: 100_000,
            deposit_usd: 1_000_000,
        }
    }
}

/// The market maker's keys.
pub struct MarketMaker {
    /// Its wallet (derived from the faucet's key, so a resumed ledger finds the same account).
    pub kp: Keypair,
    /// Its margin account (number 0).
    pub account: Pubkey,
    /// The exchange it quotes on.
    pub exchange: Pubkey,
}

/// The market maker's wallet of a chain whose faucet is `faucet`.
pub fn maker_keypair(faucet: &Keypair) -> Keypair {
    let seed = solana_sdk::hash::hashv(&[&faucet.to_bytes(), b"carry-localnet-market-maker"]);
    keypair_from_seed(seed.as_ref()).expect("32-byte seed")
}

impl MarketMaker {
    /// Fund the wallet (SOL, settlement tokens) and open and fund its margin account, unless a
    /// resumed ledger already holds them.
    pub async fn setup(
        chain: &Chain,
        rpc: &RpcChain,
        exchange: Pubkey,
        cfg: &MakerConfig,
    ) -> Result<MarketMaker, String> {
        let kp = maker_keypair(&chain.faucet);
        let owner = kp.pubkey();
        let account = sdk::margin_account_pda(&exchange, &owner, 0);
        let ex = rpc
            .account(&exchange)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no exchange")?;
        let ex = sdk::decode_exchange(&ex.data).map_err(|e| e.to_string())?;
        let mint = ex.settlement_mint;
        let bank_key = sdk::bank_pda(&exchange, &mint);
        let bank = rpc
            .account(&bank_key)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no settlement bank")?;
        let bank = sdk::decode_bank(&bank.data).map_err(|e| e.to_string())?;
        if chain.balance(&owner) < 1_000_000_000 {
            crate::rpc::airdrop(chain, &owner, 100_000_000_000).map_err(|e| format!("{e:?}"))?;
        }
        let mut ixs = vec![];
        if rpc
            .account(&account)
            .await
            .map_err(|e| e.to_string())?
            .is_none()
        {
            ixs.push(sdk::create_margin_account(owner, exchange, 0));
            let amount = cfg.deposit_usd * 10u64.pow(ex.settlement_decimals as u32);
            crate::faucet::mint_tokens(chain, &owner, &mint, amount)?;
            ixs.push(sdk::deposit(
                owner,
                exchange,
                account,
                bank_key,
                bank.vault,
                mint,
                get_associated_token_address(&owner, &mint),
                amount,
                Some(bank.oracle),
            ));
            client::send_instructions(rpc, &kp, &[], &ixs, 0)
                .await
                .map_err(|e| format!("market maker account: {e}"))?;
        }
        Ok(MarketMaker {
            kp,
            account,
            exchange,
        })
    }

    /// One round: requote every tradable market. Returns `(quoted, tradable)` market counts; a
    /// market that fails is logged and skipped.
    pub async fn quote_all(
        &self,
        rpc: &RpcChain,
        cfg: &MakerConfig,
    ) -> Result<(usize, usize), String> {
        let (ex, markets) = perp_markets_by_pda(rpc, &self.exchange)
            .await
            .map_err(|e| e.to_string())?;
        let now = rpc.clock().await.map_err(|e| e.to_string())?.unix_timestamp;
        let banks = client::banks(rpc, &self.exchange)
            .await
            .map_err(|e| e.to_string())?;
        let snaps = snapshot_perp_markets(rpc, &markets)
            .await
            .map_err(|e| e.to_string())?;
        let (mut quoted, mut tradable) = (0, 0);
        for s in &snaps {
            let m = &s.market;
            // dated futures stop trading at expiry (leave a minute's margin)
            if m.is_dated() && now + 60 >= m.params.expiry_ts {
                continue;
            }
            tradable += 1;
            let price = match perp_oracle_price(s, now, ex.settlement_decimals) {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(perp_market = %s.key, error = %e, "market maker: no price");
                    continue;
                }
            };
            // read afresh: this round's earlier markets may have opened perp slots
            let acc = rpc
                .account(&self.account)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("market maker account missing")?;
            let acc = sdk::decode_margin_account(&acc.data).map_err(|e| e.to_string())?;
            let ixs = self.quotes(
                &acc,
                &banks,
                &markets,
                (s.key, m),
                price,
                ex.settlement_decimals,
                cfg,
            );
            match client::send_instructions(rpc, &self.kp, &[], &ixs, 1_400_000).await {
                Ok(_) => quoted += 1,
                Err(e) => {
                    tracing::warn!(perp_market = %s.key, error = %e, "market maker: quotes refused")
                }
            }
        }
        Ok((quoted, tradable))
    }

    /// Cancel-all and the new quotes of one market.
    #[allow(clippy::too_many_arguments)]
    fn quotes(
        &self,
        acc: &MarginAccount,
        banks: &[(Pubkey, carry_margin::state::Bank)],
        markets: &[(Pubkey, PerpMarket)],
        (key, m): (Pubkey, &PerpMarket),
        price_per_lot: carry_sdk::carry_math::I80F48,
        quote_decimals: u8,
        cfg: &MakerConfig,
    ) -> Vec<solana_sdk::instruction::Instruction> {
        let owner = self.kp.pubkey();
        let mut ixs = vec![sdk::cancel_all_perp_orders(
            owner,
            self.account,
            key,
            m.book,
            2,
            100,
        )];
        let per_lot = price_per_lot.to_bits() as f64 / (1u128 << 48) as f64;
        let oracle_ticks = per_lot / m.tick_size as f64;
        let unit = 10f64.powi(quote_decimals as i32);
        let lots = ((cfg.level_usd as f64 * unit / per_lot).floor() as u64).max(1);
        let base = acc
            .find_perp(m.market_index)
            .map(|i| acc.perps[i].base_lots)
            .unwrap_or(0);
        let exposure = base.unsigned_abs() as f64 * per_lot / unit;
        let too_long = base > 0 && exposure > cfg.max_position_usd as f64;
        let too_short = base < 0 && exposure > cfg.max_position_usd as f64;
        let bank_pairs = sdk::health_pairs(acc, banks.iter().map(|(k, b)| (*k, b)));
        let mut perp_pairs = sdk::perp_health_pairs(acc, markets.iter().map(|(k, m)| (*k, m)));
        if !perp_pairs.iter().any(|(k, _)| *k == key) {
            perp_pairs.push((key, m.oracle));
        }
        for i in 0..cfg.levels {
            let off = (cfg.spread_bps + i * cfg.step_bps) as f64 / 10_000.0;
            let bid = (oracle_ticks * (1.0 - off)).floor().max(1.0) as u64;
            let ask = ((oracle_ticks * (1.0 + off)).ceil() as u64).max(bid + 1);
            for (side, px, skip) in [(0u8, bid, too_long), (1u8, ask, too_short)] {
                if skip {
                    continue;
                }
                let args = PlacePerpOrderArgs {
                    order_kind: 2, // post-only-slide: never takes
                    ..sdk::limit_order_args(side, px, lots)
                };
                ixs.push(sdk::place_perp_order(
                    owner,
                    self.exchange,
                    self.account,
                    key,
                    m.book,
                    m.oracle,
                    args,
                    &bank_pairs,
                    &perp_pairs,
                ));
            }
        }
        ixs
    }
}

/// Set up the market maker and quote every `cfg.every_secs` until the task is dropped;
/// `first_quote` gets the time from `started` to the first round that quoted every tradable
/// market.
pub async fn run(
    chain: Arc<Chain>,
    url: String,
    exchange: Pubkey,
    cfg: MakerConfig,
    started: Instant,
    first_quote: Arc<Mutex<Option<Duration>>>,
) {
    let rpc = RpcChain::new(url);
    let mm = loop {
        match MarketMaker::setup(&chain, &rpc, exchange, &cfg).await {
            Ok(m) => break m,
            Err(e) => {
                tracing::warn!(error = %e, "market maker: setup failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(cfg.every_secs.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match mm.quote_all(&rpc, &cfg).await {
            Ok((n, all)) if n > 0 && n == all => {
                let mut f = first_quote.lock().expect("first quote");
                if f.is_none() {
                    *f = Some(started.elapsed());
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "market maker: round failed"),
        }
    }
}
