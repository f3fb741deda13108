//! Price feeds of the local chain: one Pyth pull `PriceUpdateV2` account per configured token,
//! at the Pyth push oracle's feed address (as on mainnet), owned by the Pyth receiver program,
//! fully verified, republished every slot with the slot's time and a price moving along a
//! random walk (each step at most `volatility_bps`, mean-reverting toward the start price so a
//! long session stays in range). Integer math, a fixed seed: runs are reproducible.

use carry_migrations::Config;
use solana_sdk::account::AccountSharedData;
use solana_sdk::pubkey::Pubkey;

use crate::chain::Chain;

/// Exponent of the published prices.
pub const EXPO: i32 = -8;

/// One published feed.
#[derive(Clone, Debug)]
pub struct Feed {
    /// Token symbol.
    pub symbol: String,
    /// Oracle account.
    pub account: Pubkey,
    /// Pyth feed id.
    pub feed_id: [u8; 32],
    /// Current price mantissa (`price * 10^EXPO` USD).
    pub price: i64,
    /// Start price mantissa (the walk reverts toward it).
    pub anchor: i64,
    /// Largest step, basis points.
    pub volatility_bps: u32,
}

/// All feeds of the chain.
#[derive(Clone, Debug, Default)]
pub struct Prices {
    /// The feeds.
    pub feeds: Vec<Feed>,
    rng: u64,
}

impl Prices {
    /// Feeds of every token of `cfg`.
    pub fn from_config(cfg: &Config) -> Result<Prices, String> {
        let mut feeds = vec![];
        for t in &cfg.tokens {
            let price = (t.price * 1e8).round() as i64;
            if price <= 0 {
                return Err(format!("token {}: local chain needs a price > 0", t.symbol));
            }
            feeds.push(Feed {
                symbol: t.symbol.clone(),
                account: t.oracle()?,
                feed_id: t.feed_id()?,
                price,
                anchor: price,
                volatility_bps: t.volatility_bps,
            });
        }
        Ok(Prices {
            feeds,
            rng: 0x9e37_79b9_7f4a_7c15,
        })
    }

    fn next(&mut self) -> u64 {
        if self.rng == 0 {
            self.rng = 0x9e37_79b9_7f4a_7c15;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Move every price one random-walk step.
    pub fn step(&mut self) {
        for i in 0..self.feeds.len() {
            let r = self.next();
            let f = &mut self.feeds[i];
            let vol = f.volatility_bps as i64;
            if vol == 0 {
                continue;
            }
            // uniform step in [-vol, +vol] bps, nudged 1/20 of a step back toward the anchor
            // per 10% of drift
            let step_bps = (r % (2 * vol as u64 + 1)) as i64 - vol;
            let drift_pct = (f.price - f.anchor) * 100 / f.anchor;
            let pull = -(drift_pct / 10) * vol / 20;
            let moved = f.price as i128 * (10_000 + step_bps + pull) as i128 / 10_000;
            f.price = (moved as i64).max(1);
        }
    }

    /// Publish every feed at `now` into the chain.
    pub fn publish(&self, chain: &Chain, now: i64) {
        for f in &self.feeds {
            let conf = (f.price / 2_000).max(1) as u64; // 0.05%
            let data =
                carry_sdk::pyth::price_update_v2_bytes(f.feed_id, f.price, conf, EXPO, now, true);
            let mut a = AccountSharedData::new(
                10_000_000,
                data.len(),
                &carry_margin::oracle::PYTH_RECEIVER_PROGRAM_ID,
            );
            a.set_data_from_slice(&data);
            chain.set_account(&f.account, &a);
        }
    }
}
