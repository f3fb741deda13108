//! Pyth v2 price accounts for tests: the bytes pyth-sdk-solana's loader accepts.
//!
//! The margin program identifies a bank's oracle by key (the key stored at registration), so
//! the account's owner does not matter; tests write these bytes with
//! `ProgramTestContext::set_account`.

use pyth_sdk_solana::state::{AccountType, PriceStatus, SolanaPriceAccount, MAGIC, VERSION_2};
use solana_sdk::account::AccountSharedData;
use solana_sdk::pubkey::Pubkey;

/// Bytes of a trading Pyth price account: `price * 10^expo` with confidence `conf`,
/// published at unix time `publish_time`.
pub fn price_account_bytes(price: i64, conf: u64, expo: i32, publish_time: i64) -> Vec<u8> {
    let mut acc = SolanaPriceAccount {
        magic: MAGIC,
        ver: VERSION_2,
        atype: AccountType::Price as u32,
        expo,
        timestamp: publish_time,
        prev_price: price,
        prev_conf: conf,
        prev_timestamp: publish_time,
        ..Default::default()
    };
    acc.size = core::mem::size_of::<SolanaPriceAccount>() as u32;
    acc.agg.price = price;
    acc.agg.conf = conf;
    acc.agg.status = PriceStatus::Trading;
    bytemuck::bytes_of(&acc).to_vec()
}

/// An account holding those bytes, owned by `owner`, rent-exempt enough for tests.
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
