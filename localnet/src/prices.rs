//! Price feeds of the local chain: one Pyth pull `PriceUpdateV2` account per configured token,
//! at the Pyth push oracle's feed address (as on mainnet), owned by the Pyth receiver program,
//! fully verified, republished every slot with the slot's time and a price moving along a
//! random walk (each step at most `volatility_bps`, plus a pull toward the start price of 5% of
//! that per 10% of drift, so a long session stays in range; integer math, a fixed seed: runs are reproducible) or replaying
//! a price series file (`price_series_file`), one price per slot, looping.

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
    /// A replayed series of price mantissas (one per slot, looping) instead of the walk.
    pub series: Vec<i64>,
    /// Position in `series`.
    pub series_pos: usize,
}

/// Read a price series file: USD prices, one per line, `#` comments and blank lines ignored.
pub fn read_series(path: &std::path::Path) -> Result<Vec<i64>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.is_empty() {
            continue;
        }
        let p: f64 = l
            .parse()
            .map_err(|_| format!("{}:{}: not a price: {l}", path.display(), i + 1))?;
        if p.is_nan() || p <= 0.0 {
            return Err(format!("{}:{}: price must be > 0", path.display(), i + 1));
        }
        out.push((p * 1e8).round() as i64);
    }
    if out.is_empty() {
        return Err(format!("{}: no prices", path.display()));
    }
    Ok(out)
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
            let series = match &t.price_series_file {
                Some(f) => {
                    let path = match &cfg.base_dir {
                        Some(d) => d.join(f),
                        None => std::path::PathBuf::from(f),
                    };
                    read_series(&path)?
                }
                None => vec![],
            };
            feeds.push(Feed {
                symbol: t.symbol.clone(),
                account: t.oracle()?,
                feed_id: t.feed_id()?,
                price: series.first().copied().unwrap_or(price),
                anchor: price,
                volatility_bps: t.volatility_bps,
                series,
                series_pos: 0,
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
            if !f.series.is_empty() {
                f.series_pos = (f.series_pos + 1) % f.series.len();
                f.price = f.series[f.series_pos];
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str, series: Option<&str>) -> Config {
        let dir = std::env::temp_dir().join(format!("carry-prices-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        if let Some(text) = series {
            std::fs::write(dir.join("sol.txt"), text).unwrap();
        }
        let toml = format!(
            "[exchange]\nnumber = 0\n[[tokens]]\nsymbol = \"SOL\"\ndecimals = 9\nfeed_id = \"{}\"\nprice = 150.0\nvolatility_bps = 50\n{}",
            "ef".repeat(32),
            if series.is_some() { "price_series_file = \"sol.txt\"\n" } else { "" }
        );
        std::fs::write(dir.join("c.toml"), toml).unwrap();
        Config::load(&dir.join("c.toml")).unwrap()
    }

    #[test]
    fn random_walk_moves_within_its_step_and_stays_near_the_start() {
        let mut p = Prices::from_config(&config("walk", None)).unwrap();
        let mut last = p.feeds[0].price;
        for _ in 0..10_000 {
            p.step();
            let now = p.feeds[0].price;
            let step_bps = ((now - last).abs() as i128 * 10_000 / last as i128) as i64;
            // the random step (<= 50 bps) plus the pull toward the start (5% of it per 10%
            // of drift; drift stays under 60%)
            assert!(step_bps <= 50 * 13 / 10 + 1, "step {step_bps} bps");
            last = now;
        }
        let drift = (last - 150 * 100_000_000).abs() * 100 / (150 * 100_000_000);
        assert!(drift < 60, "drifted {drift}%");
    }

    #[test]
    fn series_replays_one_price_per_slot_and_loops() {
        let cfg = config("series", Some("# SOL\n150\n300.5\n\n75\n"));
        let mut p = Prices::from_config(&cfg).unwrap();
        let mut seen = vec![p.feeds[0].price];
        for _ in 0..4 {
            p.step();
            seen.push(p.feeds[0].price);
        }
        let e8 = 100_000_000i64;
        assert_eq!(
            seen,
            [150 * e8, 30_050_000_000, 75 * e8, 150 * e8, 30_050_000_000]
        );
        assert!(read_series(std::path::Path::new("/nonexistent")).is_err());
    }
}
