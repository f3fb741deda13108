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
