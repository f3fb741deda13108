//! Bytes of the two Pyth oracle account formats the margin program reads, for development
//! chains and tests that publish their own prices: Pyth v2 price accounts (what
//! pyth-sdk-solana's loader accepts; owner: one of `carry_margin::oracle::PYTH_V2_PROGRAM_IDS`)
//! and pull-oracle `PriceUpdateV2` accounts (what the Pyth receiver program writes: Anchor
//! discriminator + borsh; owner: `carry_margin::oracle::PYTH_RECEIVER_PROGRAM_ID`).
//! Prices are `price * 10^expo` USD per whole token, `conf` on the same scale.

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountSerialize;
use pyth_sdk_solana::state::{AccountType, PriceStatus, SolanaPriceAccount, MAGIC, VERSION_2};
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};

/// Bytes of a trading Pyth v2 price account published at unix time `publish_time`.
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

/// Bytes of a `PriceUpdateV2` account for `feed_id` published at `publish_time`; fully
/// verified when `full`, else partially (5 signatures).
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
        .expect("a PriceUpdateV2 serializes");
    out.resize(PriceUpdateV2::LEN, 0);
    out
}
