//! What the margin-math and perp-order SBF step generators (`bin/math_steps.rs`,
//! `bin/perp_steps.rs`) share: the assets, account byte buffers, the steps file writer, Pyth v2
//! price accounts and bank parameters. Included by path in both (`mod fixture`), next to their
//! `glue` and `layout` modules (the harnesses' own, also by path).

use super::{glue, layout};
use carry_bench::Rng;
use carry_math::I80F48;
use layout::{pyth_v2, BankParams};
use std::fmt::Write as _;

/// Measured instructions per scenario.
pub(crate) const SAMPLES: usize = 100;
/// Settlement token decimals (USDC).
pub(crate) const QUOTE_DECIMALS: u8 = 6;
/// Largest setup write (bytes of account data per instruction).
pub(crate) const CHUNK: usize = 1024;

/// The setup-write op (the same in both harnesses).
pub(crate) const OP_WRITE: u8 = 0;

pub(crate) const BANK_BYTES: usize = 8 + layout::BANK_SIZE;
pub(crate) const MARGIN_BYTES: usize = 8 + layout::MARGIN_ACCOUNT_SIZE;
pub(crate) const MARKET_BYTES: usize = 8 + layout::PERP_MARKET_SIZE;
pub(crate) const ORACLE_BYTES: usize = pyth_v2::SIZE;

/// An asset: decimals and a Pyth price (mantissa, expo -8), and the perp lot size in base
/// native units.
pub(crate) struct Asset {
    pub(crate) decimals: u8,
    pub(crate) price: i64,
    pub(crate) lot: u64,
}

/// Eight banks' tokens (USDC first, the settlement token) and the perp markets' bases.
pub(crate) const ASSETS: [Asset; 8] = [
    Asset {
        decimals: 6,
        price: 100_000_000,
        lot: 1_000_000,
    },
    Asset {
        decimals: 9,
        price: 15_012_345_678,
        lot: 10_000_000,
    },
    Asset {
        decimals: 8,
        price: 6_000_012_345_678,
        lot: 100,
    },
    Asset {
        decimals: 8,
        price: 300_012_345_678,
        lot: 10_000,
    },
    Asset {
        decimals: 9,
        price: 17_001_234_567,
        lot: 10_000_000,
    },
    Asset {
        decimals: 6,
        price: 85_123_456,
        lot: 1_000_000,
    },
    Asset {
        decimals: 6,
        price: 99_980_000,
        lot: 1_000_000,
    },
    Asset {
        decimals: 6,
        price: 250_123_456,
        lot: 100_000,
    },
];
/// Perp market j trades asset PERP_ASSET[j] (never USDC).
pub(crate) const PERP_ASSET: [usize; 8] = [1, 2, 3, 4, 5, 7, 1, 2];

/// Account bytes, 8-byte aligned (as the runtime serializes account data).
#[derive(Clone)]
pub(crate) struct Acct(pub(crate) Vec<u64>);

impl Acct {
    pub(crate) fn new(len: usize) -> Self {
        Acct(vec![0; len.div_ceil(8)])
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.0)
    }
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.0)
    }
    pub(crate) fn get<T: bytemuck::Pod>(&self) -> &T {
        glue::load(self.bytes()).expect("layout")
    }
    pub(crate) fn get_mut<T: bytemuck::Pod>(&mut self) -> &mut T {
        glue::load_mut(self.bytes_mut()).expect("layout")
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Words of `v` (fixed point as stored).
pub(crate) fn w(v: I80F48) -> [u64; 2] {
    v.to_words()
}

/// `x * (1 + f)` for a fraction `f` in parts per million (may be negative).
pub(crate) fn scale(x: I80F48, ppm: i64) -> I80F48 {
    let f = I80F48::from_ratio(ppm as i128, 1_000_000, carry_math::Round::Floor).unwrap();
    x.checked_add(x.checked_mul(f).unwrap()).unwrap()
}

pub(crate) fn rand_ppm(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    lo + rng.range(0, (hi - lo) as u64) as i64
}

pub(crate) struct Steps {
    pub(crate) out: String,
}

impl Steps {
    pub(crate) fn new() -> Self {
        Steps { out: String::new() }
    }
    /// Setup: write `data` (whole or its first `len` bytes) into account `i`.
    pub(crate) fn write(&mut self, i: usize, data: &[u8], len: usize) {
        for off in (0..len).step_by(CHUNK) {
            let n = CHUNK.min(len - off);
            let mut ix = vec![OP_WRITE, i as u8, 0, 0];
            ix.extend_from_slice(&(off as u32).to_le_bytes());
            ix.extend_from_slice(&(n as u32).to_le_bytes());
            ix.extend_from_slice(&[0; 4]);
            ix.extend_from_slice(&data[off..off + n]);
            let _ = writeln!(self.out, "setup {}", hex(&ix));
        }
    }
    pub(crate) fn step(&mut self, label: &str, ix: &[u8]) {
        let _ = writeln!(self.out, "{label} {}", hex(ix));
    }
}

/// A Pyth v2 price account: the 240-byte head (the rest stays zero).
pub(crate) fn pyth(rng: &mut Rng, price: i64, now: i64) -> Acct {
    let mut a = Acct::new(ORACLE_BYTES);
    let h: &mut pyth_v2::PriceAccountHead =
        bytemuck::from_bytes_mut(&mut a.bytes_mut()[..pyth_v2::HEAD_SIZE]);
    h.magic = pyth_v2::MAGIC;
    h.ver = pyth_v2::VERSION_2;
    h.atype = pyth_v2::ATYPE_PRICE;
    h.size = pyth_v2::SIZE as u32;
    h.ptype = 1;
    h.expo = -8;
    h.num = 32;
    let jitter = rand_ppm(rng, -2_000, 2_000);
    let p = price + (price as i128 * jitter as i128 / 1_000_000) as i64;
    let trading = rng.range(0, 9) != 0;
    h.timestamp = now - rng.range(0, 20) as i64;
    h.agg_price = p;
    h.agg_conf = (p / 2_000) as u64;
    h.agg_status = if trading { pyth_v2::STATUS_TRADING } else { 2 };
    h.prev_price = p - p / 5_000;
    h.prev_conf = (p / 1_500) as u64;
    h.prev_timestamp = now - rng.range(0, 40) as i64;
    a
}

pub(crate) fn bank_params(i: usize) -> BankParams {
    let (ia, ma, il, ml) = if i == 0 {
        (1_000_000, 1_000_000, 1_000_000, 1_000_000)
    } else {
        (800_000, 900_000, 1_250_000, 1_100_000)
    };
    BankParams {
        init_asset_weight_ppm: ia,
        maint_asset_weight_ppm: ma,
        init_liab_weight_ppm: il,
        maint_liab_weight_ppm: ml,
        base_rate_ppm: 10_000,
        optimal_util_ppm: 800_000,
        slope1_ppm: 90_000,
        slope2_ppm: 900_000,
        max_rate_ppm: 1_500_000,
        reserve_factor_ppm: 100_000,
        deposit_limit: u64::MAX,
        net_borrow_limit: u64::MAX,
        oracle_max_age_secs: 60,
        oracle_max_conf_ppm: 20_000,
        stable_max_move_ppm_per_hour: 100_000,
        stable_max_step_secs: 60,
        liquidation_fee_ppm: 25_000,
        padding: [0; 4],
    }
}

/// Native price of asset `a` (quote native per token native) near the Pyth price.
pub(crate) fn native_price(a: &Asset) -> I80F48 {
    let raw = carry_math::oracle::RawPrice {
        price: a.price,
        conf: 0,
        expo: -8,
        publish_time: 0,
    };
    carry_math::oracle::to_native_price(&raw, a.decimals, QUOTE_DECIMALS).unwrap()
}
