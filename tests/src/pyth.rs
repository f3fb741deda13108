//! Pyth oracle accounts for tests, both formats the margin program reads: v2 price accounts
//! (the bytes pyth-sdk-solana's loader accepts) and pull-oracle `PriceUpdateV2` accounts (the
//! bytes the Pyth receiver program writes: Anchor discriminator + borsh). Tests write them with
//! `ProgramTestContext::set_account`, owned by the Pyth program of their format
//! (`carry_margin::oracle::{PYTH_V2_PROGRAM_IDS, PYTH_RECEIVER_PROGRAM_ID}`).

use anchor_lang::AccountSerialize;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};

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

/// Bytes of a Pyth receiver `PriceUpdateV2` account for `feed_id`: `price * 10^expo`, `conf`,
/// published at `publish_time`; fully verified when `full`, else partially (5 signatures).
pub fn price_update_v2_bytes(
    feed_id: [u8; 32],
    price: i64,
    conf: u64,
    expo: i32,
    publish_time: i64,
    full: bool,
) -> Vec<u8> {
    let update = PriceUpdateV2 {
        write_authority: Pubkey::new_from_array([7; 32]),
        verification_level: if full {
            VerificationLevel::Full
        } else {
            VerificationLevel::Partial { num_signatures: 5 }
        },
        price_message: PriceFeedMessage {
            feed_id,
            price,
            conf,
            exponent: expo,
            publish_time,
            prev_publish_time: publish_time - 1,
            ema_price: price,
            ema_conf: conf,
        },
        posted_slot: 1,
    };
    let mut out = Vec::with_capacity(PriceUpdateV2::LEN);
    update
        .try_serialize(&mut out)
        .expect("serialize PriceUpdateV2");
    out.resize(PriceUpdateV2::LEN, 0);
    out
}
