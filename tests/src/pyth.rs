//! Pyth oracle account bytes for tests: the SDK's builders (`carry_sdk::pyth`), plus an
//! account wrapper. Tests write them with `ProgramTestContext::set_account`, owned by the Pyth
//! program of their format (`carry_margin::oracle::{PYTH_V2_PROGRAM_IDS,
//! PYTH_RECEIVER_PROGRAM_ID}`).

pub use carry_sdk::pyth::{price_account_bytes, price_update_v2_bytes};
use solana_sdk::account::AccountSharedData;
use solana_sdk::pubkey::Pubkey;

/// An account holding Pyth v2 price bytes, owned by `owner`, rent-exempt enough for tests.
pub fn price_account(
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
    owner: &Pubkey,
) -> AccountSharedData {
    let data = price_account_bytes(price, conf, expo, publish_time);
    let mut a = AccountSharedData::new(10_000_000_000, data.len(), owner);
    a.set_data_from_slice(&data);
    a
}
