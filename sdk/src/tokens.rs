//! Tokens by name: symbols and mints from a bootstrap config (`migrations/*.toml`: its
//! `[[tokens]]` entries' `symbol` and optional `mint`), the local chain's faucet mints, and
//! amounts in whole-token decimal notation converted to native units exactly (no floats).

use anchor_lang::prelude::Pubkey;

/// The local chain's faucet mint of `symbol` (a fixed address, so configs, the CLI and the app
/// agree across restarts).
pub fn localnet_mint(symbol: &str) -> Pubkey {
    Pubkey::find_program_address(
        &[b"carry-localnet-mint", symbol.as_bytes()],
        &carry_margin::ID,
    )
    .0
}

/// The Pyth push oracle's price feed account of `feed_id` on `shard` (a `PriceUpdateV2` owned
/// by the Pyth receiver program): where mainnet publishes, and where the local chain writes.
pub fn pyth_feed_account(shard: u16, feed_id: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[&shard.to_le_bytes(), feed_id],
        &pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID,
    )
    .0
}

/// `(symbol, mint)` of every `[[tokens]]` entry of a bootstrap config's text (only those two
/// keys are read; a token without `mint` is the local chain's faucet mint).
pub fn from_config_text(text: &str) -> Vec<(String, Pubkey)> {
    let mut out: Vec<(String, Option<Pubkey>)> = vec![];
    let mut in_token = false;
    for line in text.lines() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.starts_with('[') {
            in_token = l == "[[tokens]]";
            if in_token {
                out.push((String::new(), None));
            }
            continue;
        }
        if !in_token {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        if let Some(t) = out.last_mut() {
            match k.trim() {
                "symbol" => t.0 = v.to_string(),
                "mint" => t.1 = v.parse().ok(),
                _ => {}
            }
        }
    }
    out.into_iter()
        .filter(|(s, _)| !s.is_empty())
        .map(|(s, m)| {
            let mint = m.unwrap_or_else(|| localnet_mint(&s));
            (s, mint)
        })
        .collect()
}

/// `"1.5"` with 6 decimals -> 1_500_000. Refuses more fractional digits than `decimals`,
/// signs, exponents and overflow.
pub fn parse_amount(s: &str, decimals: u8) -> Result<u64, String> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return Err(format!("not an amount: {s:?}"));
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("not an amount: {s:?} (digits and one '.' only)"));
    }
    if frac.len() > decimals as usize {
        return Err(format!(
            "{s}: at most {decimals} decimal places for this token"
        ));
    }
    let scale = 10u128.pow(decimals as u32);
    let i: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| format!("amount too large: {s}"))?
    };
    let f: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>()
            .map_err(|_| format!("not an amount: {s}"))?
            * 10u128.pow((decimals as usize - frac.len()) as u32)
    };
    let v = i
        .checked_mul(scale)
        .and_then(|x| x.checked_add(f))
        .filter(|v| *v <= u64::MAX as u128)
        .ok_or_else(|| format!("amount too large: {s}"))?;
    Ok(v as u64)
}

/// Native units as whole-token decimal text (exact, trailing zeros trimmed).
pub fn format_amount(native: i128, decimals: u8) -> String {
    let neg = native < 0;
    let n = native.unsigned_abs();
    let scale = 10u128.pow(decimals as u32);
    let frac = format!("{:0w$}", n % scale, w = decimals as usize);
    let frac = frac.trim_end_matches('0');
    let sign = if neg { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{}", n / scale)
    } else {
        format!("{sign}{}.{frac}", n / scale)
    }
}

/// Symbols of the `[[perp_markets]]` entries of a bootstrap config's text, in order: the
/// index of a symbol is its market index (the bootstrap creates them in that order).
pub fn perp_markets_from_config_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut in_market = false;
    for line in text.lines() {
        let l = line.split('#').next().unwrap_or("").trim();
        if l.starts_with('[') {
            in_market = l == "[[perp_markets]]";
            if in_market {
                out.push(String::new());
            }
            continue;
        }
        if !in_market {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            if k.trim() == "symbol" {
                if let Some(m) = out.last_mut() {
                    *m = v.trim().trim_matches('"').to_string();
                }
            }
        }
    }
    out
}

/// A perp market's units: how sizes and prices in whole tokens convert to lots and ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerpUnits {
    /// Base token decimals.
    pub base_decimals: u8,
    /// Settlement (quote) token decimals.
    pub quote_decimals: u8,
    /// Base native units per lot.
    pub base_lot_size: u64,
    /// Quote native units per lot per tick.
    pub tick_size: u64,
}

impl PerpUnits {
    /// Units of a perp market of an exchange settling in `quote_decimals`.
    pub fn of(m: &carry_margin::state::PerpMarket, quote_decimals: u8) -> PerpUnits {
        PerpUnits {
            base_decimals: m.base_decimals,
            quote_decimals,
            base_lot_size: m.base_lot_size,
            tick_size: m.tick_size,
        }
    }

    /// `"0.5"` (whole base) -> lots; refuses a size that is not a whole number of lots.
    pub fn size_to_lots(&self, size: &str) -> Result<u64, String> {
        let native = parse_amount(size, self.base_decimals)?;
        if native % self.base_lot_size != 0 {
            return Err(format!(
                "size {size}: must be a multiple of the lot size {}",
                self.lots_to_size(1)
            ));
        }
        Ok(native / self.base_lot_size)
    }

    /// Lots as whole base text.
    pub fn lots_to_size(&self, lots: i128) -> String {
        format_amount(lots * self.base_lot_size as i128, self.base_decimals)
    }

    /// `"150.25"` (USD, i.e. settlement tokens, per whole base) -> ticks; refuses a price that
    /// is not a whole number of ticks.
    pub fn price_to_ticks(&self, price: &str) -> Result<u64, String> {
        let (num, den) = self.price_ratio(price)?;
        if num % den != 0 {
            return Err(format!(
                "price {price}: must be a multiple of the tick {}",
                self.ticks_to_price(1)
            ));
        }
        u64::try_from(num / den).map_err(|_| format!("price {price}: too large"))
    }

    /// A signed price offset (`"-0.5"`) -> ticks (oracle-pegged orders).
    pub fn offset_to_ticks(&self, offset: &str) -> Result<i64, String> {
        let (neg, abs) = match offset.strip_prefix('-') {
            Some(a) => (true, a),
            None => (false, offset.strip_prefix('+').unwrap_or(offset)),
        };
        let t = i64::try_from(self.price_to_ticks(abs)?).map_err(|_| "offset too large")?;
        Ok(if neg { -t } else { t })
    }

    /// `price` in quote native per lot as `(numerator, denominator)`, scaled by ticks.
    fn price_ratio(&self, price: &str) -> Result<(u128, u128), String> {
        const PD: u32 = 9;
        let p = parse_amount(price, PD as u8)? as u128;
        let num = p
            .checked_mul(10u128.pow(self.quote_decimals as u32))
            .and_then(|x| x.checked_mul(self.base_lot_size as u128))
            .ok_or_else(|| format!("price {price}: too large"))?;
        let den = 10u128
            .pow(self.base_decimals as u32 + PD)
            .checked_mul(self.tick_size as u128)
            .ok_or("tick size too large")?;
        Ok((num, den))
    }

    /// Ticks as USD per whole base, with the decimals the tick needs.
    pub fn ticks_to_price(&self, ticks: u64) -> String {
        let v = self.ticks_to_f64(ticks);
        let tick = self.ticks_to_f64(1);
        let decimals = if tick >= 1.0 {
            0
        } else {
            (-tick.log10()).ceil() as usize
        };
        format!("{v:.decimals$}")
    }

    /// Ticks as USD per whole base.
    pub fn ticks_to_f64(&self, ticks: u64) -> f64 {
        ticks as f64 * self.tick_size as f64 * 10f64.powi(self.base_decimals as i32)
            / (self.base_lot_size as f64 * 10f64.powi(self.quote_decimals as i32))
    }

    /// Quote native per lot (I80F48 bits as f64) as USD per whole base.
    pub fn per_lot_to_f64(&self, per_lot: f64) -> f64 {
        per_lot * 10f64.powi(self.base_decimals as i32)
            / (self.base_lot_size as f64 * 10f64.powi(self.quote_decimals as i32))
    }

    /// USD per whole base (f64) -> whole ticks, rounded toward `up` or down.
    pub fn usd_to_ticks(&self, usd: f64, up: bool) -> u64 {
        let t = usd / self.ticks_to_f64(1);
        (if up { t.ceil() } else { t.floor() }).max(1.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1.5", 6), Ok(1_500_000));
        assert_eq!(parse_amount("0.000001", 6), Ok(1));
        assert_eq!(parse_amount(".5", 2), Ok(50));
        assert_eq!(parse_amount("18446744073709551615", 0), Ok(u64::MAX));
        assert!(parse_amount("18446744073709551616", 0).is_err());
        assert!(parse_amount("1.0000001", 6).is_err());
        assert!(parse_amount("-1", 6).is_err());
        assert!(parse_amount("1e3", 6).is_err());
        assert!(parse_amount("", 6).is_err());
        assert_eq!(format_amount(1_500_000, 6), "1.5");
        assert_eq!(format_amount(-2_000_000, 6), "-2");
        assert_eq!(format_amount(7, 9), "0.000000007");
    }

    #[test]
    fn perp_units() {
        // SOL-PERP of the local chain: lots of 0.01 SOL, ticks of $0.01
        let u = PerpUnits {
            base_decimals: 9,
            quote_decimals: 6,
            base_lot_size: 10_000_000,
            tick_size: 100,
        };
        assert_eq!(u.size_to_lots("0.5"), Ok(50));
        assert!(u
            .size_to_lots("0.005")
            .unwrap_err()
            .contains("lot size 0.01"));
        assert_eq!(u.price_to_ticks("150.25"), Ok(15_025));
        assert!(u
            .price_to_ticks("150.255")
            .unwrap_err()
            .contains("tick 0.01"));
        assert_eq!(u.offset_to_ticks("-0.5"), Ok(-50));
        assert_eq!(u.ticks_to_price(15_025), "150.25");
        assert_eq!(u.lots_to_size(-150), "-1.5");
        // BTC-PERP: lots of 0.0001 BTC, ticks of $1
        let b = PerpUnits {
            base_decimals: 8,
            quote_decimals: 6,
            base_lot_size: 10_000,
            tick_size: 100,
        };
        assert_eq!(b.price_to_ticks("60001"), Ok(60_001));
        assert_eq!(b.ticks_to_price(60_001), "60001");
        assert_eq!(b.size_to_lots("0.0123"), Ok(123));
        let t = perp_markets_from_config_text(
            "[[tokens]]\nsymbol = \"USDC\"\n[[perp_markets]]\nsymbol = \"SOL-PERP\"\nbase = \"SOL\"\n[[perp_markets]]\nsymbol = \"BTC-PERP\" # x\n",
        );
        assert_eq!(t, ["SOL-PERP", "BTC-PERP"]);
    }

    #[test]
    fn config_tokens() {
        let t = from_config_text(
            "[exchange]\nnumber = 0\n[[tokens]]\nsymbol = \"USDC\" # settle\ndecimals = 6\n[tokens.bank]\nbase_rate_ppm = 1\n[[tokens]]\nsymbol = \"SOL\"\nmint = \"So11111111111111111111111111111111111111112\"\n",
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t[0], ("USDC".to_string(), localnet_mint("USDC")));
        assert_eq!(
            t[1].1.to_string(),
            "So11111111111111111111111111111111111111112"
        );
    }
}
