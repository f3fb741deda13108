//! Perp markets, part A of issue 16: `create_perp_market` (book account allocated by the admin,
//! signing, initialised by the margin program), `edit_perp_market`, every refusal named with
//! the watched accounts byte-identical, and perp terms in health equal to what `carry_math`
//! computes (positions are written into margin accounts directly: fills come with order
//! placement).

use anchor_lang::error::ErrorCode as AnchorError;
use carry_margin::error::CarryError;
use carry_margin::state::{
    FixedBytes, MarginAccount, PerpBook, PerpMarket, PerpMarketParams, PerpMarketSetup,
    PerpPosition, PERP_MARKET_SIZE,
};
use carry_math::oracle::{to_native_price, update_stable_price, RawPrice};
use carry_math::perp::{perp_health, PerpHealthInputs, Position};
use carry_math::tiers::{LeverageTier, LeverageTiers};
use carry_math::I80F48;
use carry_sdk::margin as sdk;
use carry_tests::margin::*;
use carry_tests::{TxError, START_TIME};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

/// $150 per whole base (expo -8).
const SOL: i64 = 150 * E8;

fn c(e: CarryError) -> u32 {
    e.into()
}

/// Oracle price per base lot as the program computes it: native price (rounded down) times
/// the lot size.
fn per_lot(price_e8: i64, setup: &PerpMarketSetup) -> I80F48 {
    let raw = RawPrice {
        price: price_e8,
        conf: 0,
        expo: -8,
        publish_time: 0,
    };
    to_native_price(&raw, setup.base_decimals, USDC_DECIMALS)
        .unwrap()
        .checked_mul_int(setup.base_lot_size as i64)
        .unwrap()
}

fn f(v: i64) -> I80F48 {
    I80F48::from_i64(v)
}

fn add(a: I80F48, b: I80F48) -> I80F48 {
    a.checked_add(b).unwrap()
}

/// Expected (init, maint) term of a position, straight from `carry_math`: `perp_health` at the
/// oracle and at the stable price, the lower of each.
fn expected_term(
    m: &PerpMarket,
    pos: &PerpPosition,
    oracle: I80F48,
    stable: I80F48,
) -> (I80F48, I80F48) {
    let n = m.params.tier_count as usize;
    let tiers: Vec<LeverageTier> = m.params.tiers[..n]
        .iter()
        .map(|t| LeverageTier {
            max_notional_native: t.max_notional_native,
            init_margin_ppm: t.init_margin_ppm,
            maint_margin_ppm: t.maint_margin_ppm,
        })
        .collect();
    let tiers = LeverageTiers::new(&tiers).unwrap();
    let at = |price| {
        perp_health(&PerpHealthInputs {
            position: Position {
                base_lots: pos.base_lots,
                quote_native: pos.quote_native.get(),
                funding_snapshot: pos.funding_snapshot.get(),
            },
            bids_base_lots: pos.bids_base_lots,
            asks_base_lots: pos.asks_base_lots,
            funding_index: m.funding_index.get(),
            price,
            tiers: &tiers,
            pnl_pool_native: m.pnl_pool_native,
            unpaid_pnl_haircut_ppm: m.params.unpaid_pnl_haircut_ppm,
        })
        .unwrap()
    };
    let (a, b) = (at(oracle), at(stable));
    (a.init.min(b.init), a.maint.min(b.maint))
}

fn position(
    market_index: u16,
    base_lots: i64,
    quote_native: i64,
    bids: i64,
    asks: i64,
) -> PerpPosition {
    PerpPosition {
        market_index,
        in_use: 1,
        base_lots,
        quote_native: FixedBytes::from_fixed(f(quote_native)),
        bids_base_lots: bids,
        asks_base_lots: asks,
        ..Default::default()
    }
}

/// Send, expect the custom error `code`, and check that the watched accounts and every
/// writable account of the instructions (but the fee payer) are byte-identical (data and
/// lamports) afterwards.
async fn refused(
    env: &mut MarginEnv,
    ixs: &[Instruction],
    signers: &[&Keypair],
    watched: &[Pubkey],
    code: u32,
) {
    let mut w = watched.to_vec();
    for ix in ixs {
        w.extend(
            ix.accounts
                .iter()
                .filter(|m| m.is_writable)
                .map(|m| m.pubkey),
        );
    }
    w.retain(|k| *k != env.admin.pubkey());
    w.sort();
    w.dedup();
    let before = env.snapshot(&w).await;
    match env.send(ixs, signers).await {
        Ok(()) => panic!("expected error {code}, got Ok"),
        Err(e) => assert_eq!(e.custom_code(), Some(code), "expected {code}, got {e:?}"),
    }
    let after = env.snapshot(&w).await;
    for (i, k) in w.iter().enumerate() {
        assert!(
            before[i] == after[i],
            "account {k} changed by a refused instruction"
        );
    }
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: Result<T, TxError>, e: CarryError) {
    carry_tests::assert_error(r, e);
}

#[tokio::test]
async fn create_perp_market_and_read_back() {
    let mut env = MarginEnv::new().await;
    let setup = sdk::example_perp_market_setup(); // full-size book: 4096 orders, 512 events
    let params = sdk::example_perp_market_params();
    let idx = env.add_perp_market_with(SOL, setup, params, None).await;
    let now = env.now().await;
    let p = env.perps[idx].clone();
    assert_eq!(
        p.market,
        Pubkey::find_program_address(
            &[b"perp_market", env.exchange.as_ref(), &0u16.to_le_bytes()],
            &carry_margin::ID
        )
        .0
    );

    let m = env.perp_market(idx).await;
    assert_eq!(
        (m.exchange, m.book, m.oracle),
        (env.exchange, p.book, p.oracle)
    );
    assert_eq!((m.oracle_kind, m.oracle_feed_id), (0, [0; 32]));
    assert_eq!((m.market_index, m.base_decimals), (0, 9));
    assert_eq!((m.base_lot_size, m.tick_size), (10_000_000, 100));
    assert_eq!(m.params, params);
    // stable price seeded at the oracle, per lot: $150 per SOL = 1.5 USDC per 0.01 SOL
    let price = per_lot(SOL, &setup);
    assert_eq!(m.stable_price.get(), price);
    assert_eq!(price.floor_int(), 1_499_999); // 0.15 per native is not exact in binary
    assert_eq!(price.ceil_int(), 1_500_000);
    assert_eq!(m.stable_price_ts, now);
    let fs = m.funding_state();
    assert_eq!(fs, carry_math::funding::FundingState::new(now));
    assert_eq!(
        (
            m.open_interest_lots,
            m.pnl_pool_native,
            m.fees_accrued_native
        ),
        (0, 0, 0)
    );
    assert_eq!(m.settlement_averager().count, 0);
    assert!(m.reserved.iter().all(|b| *b == 0) && m.padding == [0; 7]);
    let (_, bump) = Pubkey::find_program_address(
        &[b"perp_market", env.exchange.as_ref(), &0u16.to_le_bytes()],
        &carry_margin::ID,
    );
    assert_eq!(m.bump, bump);
    assert_eq!(env.exchange_state().await.perp_market_count, 1);

    // the book: PerpBook header, then an empty carry_book::Book
    let b = env.perp_book(idx).await;
    assert_eq!(
        b,
        PerpBook {
            authority: p.market,
            creator: env.admin.pubkey(),
            tick_size: 100,
            base_lot_size: 10_000_000,
            order_capacity: 4096,
            event_capacity: 512,
            max_fills: 32,
            reserved: [0; 60],
        }
    );
    let acc = env.t.account(&p.book).await.unwrap();
    assert_eq!(acc.owner, carry_margin::ID);
    // laid out as an order book market: same size, same header bytes, book at offset 160
    assert_eq!(PerpBook::BOOK_OFFSET, carry_orderbook::Market::BOOK_OFFSET);
    assert_eq!(PerpBook::BOOK_OFFSET, 160);
    assert_eq!(acc.data.len(), carry_orderbook::Market::space(4096, 512));
    assert_eq!(acc.data.len(), 955_680);
    let view = carry_sdk::orderbook::MarketView::decode(&acc.data, now, None).unwrap();
    assert!(view.bids.is_empty() && view.asks.is_empty());
    assert_eq!(view.queued_events, 0);
    assert_eq!(&acc.data[8..160], bytemuck::bytes_of(&view.market));
    assert_eq!(view.market.authority, p.market);

    // sizes and rents (README)
    let rent = env.t.context.banks_client.get_rent().await.unwrap();
    let ma = env.t.account(&p.market).await.unwrap();
    assert_eq!(ma.owner, carry_margin::ID);
    assert_eq!(ma.data.len(), 8 + PERP_MARKET_SIZE);
    assert_eq!(ma.data.len(), 704);
    assert_eq!(ma.lamports, rent.minimum_balance(704));
    assert_eq!(ma.lamports, 5_790_720);
    assert_eq!(acc.lamports, rent.minimum_balance(955_680));
    println!(
        "perp market {} bytes, rent {}; book {} bytes, rent {}",
        ma.data.len(),
        ma.lamports,
        acc.data.len(),
        acc.lamports
    );

    // a second market, on a Pyth pull oracle, takes index 1
    let feed = [9u8; 32];
    let setup2 = small_perp_setup();
    let idx2 = env
        .add_perp_market_with(3_000 * E8, setup2, params, Some(feed))
        .await;
    let m2 = env.perp_market(idx2).await;
    assert_eq!(
        (m2.market_index, m2.oracle_kind, m2.oracle_feed_id),
        (1, 1, feed)
    );
    assert_eq!(m2.stable_price.get(), per_lot(3_000 * E8, &setup2));
    assert_eq!(env.exchange_state().await.perp_market_count, 2);
    let b2 = env.perp_book(idx2).await;
    assert_eq!((b2.order_capacity, b2.event_capacity), (64, 32));
    assert_eq!(
        env.t.data(&env.perps[idx2].book).await.len(),
        sdk::perp_book_space(64, 32)
    );
}

#[tokio::test]
async fn create_perp_market_refusals() {
    let mut env = MarginEnv::new().await;
    let params = sdk::example_perp_market_params();
    env.add_perp_market(SOL, params).await; // market 0
    let setup = small_perp_setup();
    let book = env.perp_book_account(&setup).await;
    let oracle = Pubkey::new_unique();
    let now = env.now().await;
    env.write_oracle(&oracle, SOL, 0, now);
    let admin = env.admin.pubkey();
    let market1 = sdk::perp_market_pda(&env.exchange, 1);
    let watched = vec![
        env.exchange,
        book.pubkey(),
        oracle,
        market1,
        env.perps[0].market,
        env.perps[0].book,
    ];
    let v2 = sdk::pyth_v2();
    let ix = |env: &MarginEnv, setup: PerpMarketSetup, params: PerpMarketParams| {
        env.create_perp_market_ix(&admin, 1, &book.pubkey(), &oracle, setup, params, v2)
    };

    // wrong admin
    let bob = env.t.funded_keypair(10_000_000_000).await;
    let i = env.create_perp_market_ix(&bob.pubkey(), 1, &book.pubkey(), &oracle, setup, params, v2);
    refused(
        &mut env,
        &[i],
        &[&bob, &book],
        &watched,
        c(CarryError::NotAdmin),
    )
    .await;
    // the book does not sign
    let mut i = ix(&env, setup, params);
    i.accounts[3].is_signer = false;
    refused(
        &mut env,
        &[i],
        &[],
        &watched,
        c(CarryError::PerpBookNotSigner),
    )
    .await;
    // the book is owned by another program (here: an order book market's allocation)
    let foreign = env.allocate(setup.book_space(), &carry_orderbook::ID).await;
    let i = env.create_perp_market_ix(&admin, 1, &foreign.pubkey(), &oracle, setup, params, v2);
    refused(
        &mut env,
        &[i],
        &[&foreign],
        &watched,
        c(CarryError::PerpBookWrongOwner),
    )
    .await;
    // wrong size: 8 bytes too many, or a setup asking for other capacities
    let big = env
        .allocate(setup.book_space() + 8, &carry_margin::ID)
        .await;
    let i = env.create_perp_market_ix(&admin, 1, &big.pubkey(), &oracle, setup, params, v2);
    refused(
        &mut env,
        &[i],
        &[&big],
        &watched,
        c(CarryError::PerpBookWrongSize),
    )
    .await;
    let other_caps = PerpMarketSetup {
        order_capacity: 128,
        ..setup
    };
    let i = ix(&env, other_caps, params);
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched,
        c(CarryError::PerpBookWrongSize),
    )
    .await;
    // not zeroed: a byte of the header set
    let dirty = env.allocate(setup.book_space(), &carry_margin::ID).await;
    let mut a = env.t.account(&dirty.pubkey()).await.unwrap();
    a.data[100] = 1;
    env.t.set_account(&dirty.pubkey(), &a);
    let i = env.create_perp_market_ix(&admin, 1, &dirty.pubkey(), &oracle, setup, params, v2);
    refused(
        &mut env,
        &[i],
        &[&dirty],
        &watched,
        c(CarryError::PerpBookNotZeroed),
    )
    .await;

    // invalid parameters, each with its name
    let far = START_TIME + 30 * 86_400;
    type Case = (fn(&mut PerpMarketParams, i64), CarryError);
    let cases: Vec<Case> = vec![
        (|p, _| p.taker_fee_ppm = -1, CarryError::InvalidFeeRates),
        (|p, _| p.maker_fee_ppm = -600, CarryError::InvalidFeeRates),
        (
            |p, _| p.taker_fee_ppm = 1_000_001,
            CarryError::InvalidFeeRates,
        ),
        (|p, _| p.tier_count = 0, CarryError::InvalidLeverageTiers),
        (|p, _| p.tier_count = 5, CarryError::InvalidLeverageTiers),
        // a tier beyond the count must be zero
        (|p, _| p.tier_count = 3, CarryError::InvalidLeverageTiers),
        (
            |p, _| p.tiers[0].maint_margin_ppm = p.tiers[0].init_margin_ppm,
            CarryError::InvalidLeverageTiers,
        ),
        (
            |p, _| p.tiers[1].max_notional_native = p.tiers[0].max_notional_native,
            CarryError::InvalidLeverageTiers,
        ),
        (
            |p, _| p.tiers[1].init_margin_ppm = 9_000,
            CarryError::InvalidLeverageTiers,
        ),
        (
            |p, _| p.oracle_max_age_secs = 0,
            CarryError::InvalidOracleLimits,
        ),
        (
            |p, _| p.oracle_max_conf_ppm = 0,
            CarryError::InvalidOracleLimits,
        ),
        (
            |p, _| p.stable_max_step_secs = 0,
            CarryError::InvalidStableLimits,
        ),
        (
            |p, _| p.stable_max_step_secs = 901,
            CarryError::InvalidStableLimits,
        ),
        (
            |p, _| p.unpaid_pnl_haircut_ppm = 1_000_001,
            CarryError::InvalidHaircut,
        ),
        (
            |p, _| p.funding_period_secs = 0,
            CarryError::InvalidFundingParams,
        ),
        (
            |p, _| p.funding_max_rate_ppm = 1_000_001,
            CarryError::InvalidFundingParams,
        ),
        (
            |p, _| p.funding_impact_notional = 0,
            CarryError::InvalidFundingParams,
        ),
        (|p, _| p.expiry_ts = -1, CarryError::InvalidExpiry),
        // a perpetual has no settlement window
        (
            |p, _| p.settlement_window_secs = 60,
            CarryError::InvalidSettlementWindow,
        ),
        (
            |p, _| p.settlement_min_interval_secs = 1,
            CarryError::InvalidSettlementWindow,
        ),
        // a dated future needs a sample interval >= 1 within its window
        (
            |p, t| {
                p.expiry_ts = t;
                p.settlement_window_secs = 600;
            },
            CarryError::InvalidSettlementWindow,
        ),
        (
            |p, t| {
                p.expiry_ts = t;
                p.settlement_window_secs = 10;
                p.settlement_min_interval_secs = 60;
            },
            CarryError::InvalidSettlementWindow,
        ),
        (
            |p, t| {
                p.expiry_ts = i64::MAX - t / 1_000_000;
                p.settlement_window_secs = u32::MAX;
                p.settlement_min_interval_secs = 60;
            },
            CarryError::InvalidSettlementWindow,
        ),
        // expiry already passed
        (
            |p, _| {
                p.expiry_ts = START_TIME - 1;
                p.settlement_window_secs = 600;
                p.settlement_min_interval_secs = 60;
            },
            CarryError::InvalidExpiry,
        ),
        (|p, _| p.mode = 2, CarryError::InvalidMarketMode),
        (
            |p, _| p.order_band_bps = 10_001,
            CarryError::InvalidParameter,
        ),
    ];
    for (k, (mutate, err)) in cases.into_iter().enumerate() {
        let mut p = params;
        mutate(&mut p, far);
        let i = ix(&env, setup, p);
        println!("params case {k}: {err:?}");
        refused(&mut env, &[i], &[&book], &watched, c(err)).await;
    }
    // invalid setup
    type SetupCase = (fn(&mut PerpMarketSetup), CarryError);
    let setups: Vec<SetupCase> = vec![
        (|s| s.base_lot_size = 0, CarryError::InvalidLotOrTickSize),
        (|s| s.tick_size = 0, CarryError::InvalidLotOrTickSize),
        (
            |s| s.base_lot_size = i64::MAX as u64 + 1,
            CarryError::InvalidLotOrTickSize,
        ),
        (|s| s.order_capacity = 0, CarryError::InvalidBookCapacity),
        (|s| s.order_capacity = 8193, CarryError::InvalidBookCapacity),
        (|s| s.event_capacity = 0, CarryError::InvalidBookCapacity),
        (|s| s.event_capacity = 4097, CarryError::InvalidBookCapacity),
        (|s| s.base_decimals = 19, CarryError::InvalidBaseDecimals),
    ];
    for (mutate, err) in setups {
        let mut s = setup;
        mutate(&mut s);
        let i = ix(&env, s, params);
        refused(&mut env, &[i], &[&book], &watched, c(err)).await;
    }
    // oracle configuration: a v2 account has no feed id, a pull oracle needs one
    let mut cfg = sdk::pyth_v2();
    cfg.feed_id = [1; 32];
    let i = env.create_perp_market_ix(&admin, 1, &book.pubkey(), &oracle, setup, params, cfg);
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched,
        c(CarryError::InvalidParameter),
    )
    .await;
    let i = env.create_perp_market_ix(
        &admin,
        1,
        &book.pubkey(),
        &oracle,
        setup,
        params,
        sdk::pyth_pull([0; 32]),
    );
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched,
        c(CarryError::InvalidParameter),
    )
    .await;

    // the oracle: stale, uncertain, non-positive, wrong owner, junk, another format, another
    // feed, partially verified
    let now = env.now().await;
    type OracleCase = (
        Box<dyn Fn(&mut MarginEnv)>,
        carry_margin::OracleConfig,
        CarryError,
    );
    let cases: Vec<OracleCase> = vec![
        (
            Box::new(move |e| e.write_oracle(&oracle, SOL, 0, now - 61)),
            v2,
            CarryError::OracleStale,
        ),
        (
            Box::new(move |e| e.write_oracle(&oracle, SOL, (SOL / 50) as u64, now)),
            v2,
            CarryError::OracleConfidence,
        ),
        (
            Box::new(move |e| e.write_oracle(&oracle, 0, 0, now)),
            v2,
            CarryError::OracleNonPositive,
        ),
        (
            Box::new(move |e| {
                let data = carry_tests::pyth::price_account_bytes(SOL, 0, -8, now);
                e.write_raw_oracle(&oracle, data, Pubkey::new_unique())
            }),
            v2,
            CarryError::OracleWrongOwner,
        ),
        (
            Box::new(move |e| {
                e.write_raw_oracle(
                    &oracle,
                    vec![7; 3312],
                    carry_margin::oracle::PYTH_V2_PROGRAM_IDS[0],
                )
            }),
            v2,
            CarryError::OracleInvalid,
        ),
        (
            Box::new(move |e| e.write_oracle(&oracle, SOL, 0, now)),
            sdk::pyth_pull([3; 32]),
            CarryError::OracleWrongOwner,
        ),
        (
            Box::new(move |e| e.write_pull_oracle(&oracle, [4; 32], SOL, 0, now, true)),
            sdk::pyth_pull([3; 32]),
            CarryError::OracleFeedMismatch,
        ),
        (
            Box::new(move |e| e.write_pull_oracle(&oracle, [3; 32], SOL, 0, now, false)),
            sdk::pyth_pull([3; 32]),
            CarryError::OracleNotFullyVerified,
        ),
    ];
    for (write, cfg, err) in cases {
        write(&mut env);
        let i = env.create_perp_market_ix(&admin, 1, &book.pubkey(), &oracle, setup, params, cfg);
        refused(&mut env, &[i], &[&book], &watched, c(err)).await;
    }
    env.write_oracle(&oracle, SOL, 0, now);

    // the index: taken (0 exists), not the next one (2 while the count is 1), another PDA
    let i = env.create_perp_market_ix(&admin, 0, &book.pubkey(), &oracle, setup, params, v2);
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched,
        c(CarryError::PerpMarketIndexTaken),
    )
    .await;
    let i = env.create_perp_market_ix(&admin, 2, &book.pubkey(), &oracle, setup, params, v2);
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched,
        c(CarryError::PerpMarketIndexNotNext),
    )
    .await;
    let mut i = ix(&env, setup, params);
    i.accounts[2].pubkey = sdk::perp_market_pda(&env.exchange, 2);
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched,
        AnchorError::ConstraintSeeds.into(),
    )
    .await;

    // someone sends lamports to the market's address first: creation still works
    let transfer = solana_sdk::system_instruction::transfer(&bob.pubkey(), &market1, 1_000_000);
    env.send(&[transfer], &[&bob]).await.unwrap();
    let i = ix(&env, setup, params);
    env.send(&[i], &[&book]).await.unwrap();
    let rent = env.t.context.banks_client.get_rent().await.unwrap();
    let a = env.t.account(&market1).await.unwrap();
    assert_eq!(a.lamports, rent.minimum_balance(8 + PERP_MARKET_SIZE));
    assert_eq!(a.owner, carry_margin::ID);
    let m = sdk::decode_perp_market(&a.data).unwrap();
    assert_eq!((m.market_index, m.book), (1, book.pubkey()));
    assert_eq!(env.exchange_state().await.perp_market_count, 2);

    // a book already in use cannot serve a second market, even signed by its key
    let oracle2 = Pubkey::new_unique();
    env.write_oracle(&oracle2, SOL, 0, now);
    let i = env.create_perp_market_ix(&admin, 2, &book.pubkey(), &oracle2, setup, params, v2);
    let watched2 = vec![env.exchange, book.pubkey(), market1];
    refused(
        &mut env,
        &[i],
        &[&book],
        &watched2,
        c(CarryError::PerpBookNotZeroed),
    )
    .await;
}

#[tokio::test]
async fn edit_perp_market() {
    use carry_margin::events::PerpMarketEvent;
    use carry_tests::events::{events, install};
    let mut env = MarginEnv::new().await;
    install();
    let params = sdk::example_perp_market_params();
    let idx = env.add_perp_market(SOL, params).await;
    let market = env.perps[idx].market;
    let of_market = || -> Vec<PerpMarketEvent> {
        events()
            .into_iter()
            .filter(|e: &PerpMarketEvent| e.perp_market == market)
            .collect()
    };
    let ev = of_market();
    assert_eq!(ev.len(), 1);
    assert!(ev[0].created);
    assert_eq!(
        (ev[0].market_index, ev[0].book, ev[0].oracle),
        (0, env.perps[idx].book, env.perps[idx].oracle)
    );
    assert_eq!(ev[0].params, params);
    assert_eq!(
        ev[0].stable_price_bits,
        per_lot(SOL, &small_perp_setup()).to_bits()
    );
    let before = env.perp_market(idx).await;
    let admin = env.admin.pubkey();

    // reduce-only, two tiers, other fees, an open-interest limit, a larger haircut
    let mut p = params;
    p.mode = 1;
    p.tier_count = 2;
    p.tiers[2] = Default::default();
    p.tiers[3] = Default::default();
    p.maker_fee_ppm = 0;
    p.taker_fee_ppm = 1_000;
    p.open_interest_limit_lots = 1_000_000;
    p.unpaid_pnl_haircut_ppm = 500_000;
    p.funding_period_secs = 8 * 3_600;
    let i = env.edit_perp_market_ix(&admin, idx, p);
    env.send(&[i], &[]).await.unwrap();
    let after = env.perp_market(idx).await;
    assert!(after.params.is_reduce_only());
    let ev = of_market();
    assert_eq!(ev.len(), 2);
    assert!(!ev[1].created);
    assert_eq!(ev[1].params, p);
    // only the parameters changed
    let mut expect = before;
    expect.params = p;
    assert_eq!(bytemuck::bytes_of(&after), bytemuck::bytes_of(&expect));
    // and back to active
    let i = env.edit_perp_market_ix(&admin, idx, params);
    env.send(&[i], &[]).await.unwrap();
    assert_eq!(
        bytemuck::bytes_of(&env.perp_market(idx).await),
        bytemuck::bytes_of(&before)
    );

    let watched = vec![env.exchange, market, env.perps[idx].book];
    // wrong admin
    let bob = env.t.funded_keypair(1_000_000_000).await;
    let i = env.edit_perp_market_ix(&bob.pubkey(), idx, p);
    refused(&mut env, &[i], &[&bob], &watched, c(CarryError::NotAdmin)).await;
    // invalid parameters
    let mut bad = params;
    bad.maker_fee_ppm = -501;
    let i = env.edit_perp_market_ix(&admin, idx, bad);
    refused(
        &mut env,
        &[i],
        &[],
        &watched,
        c(CarryError::InvalidFeeRates),
    )
    .await;
    let mut bad = params;
    bad.mode = 7;
    let i = env.edit_perp_market_ix(&admin, idx, bad);
    refused(
        &mut env,
        &[i],
        &[],
        &watched,
        c(CarryError::InvalidMarketMode),
    )
    .await;
    let mut bad = params;
    bad.tiers[0].init_margin_ppm = 1_000_001;
    let i = env.edit_perp_market_ix(&admin, idx, bad);
    refused(
        &mut env,
        &[i],
        &[],
        &watched,
        c(CarryError::InvalidLeverageTiers),
    )
    .await;
    // a perpetual cannot become dated
    let mut dated = params;
    dated.expiry_ts = START_TIME + 86_400;
    dated.settlement_window_secs = 600;
    dated.settlement_min_interval_secs = 60;
    let i = env.edit_perp_market_ix(&admin, idx, dated);
    refused(
        &mut env,
        &[i],
        &[],
        &watched,
        c(CarryError::ExpiryImmutable),
    )
    .await;

    // refusals emit nothing: creation and the two edits
    assert_eq!(of_market().len(), 3);

    // a dated future: created with an expiry, which an edit must repeat
    let dated_idx = env.add_perp_market(SOL, dated).await;
    let mut p = dated;
    p.settlement_window_secs = 1_200;
    let i = env.edit_perp_market_ix(&admin, dated_idx, p);
    env.send(&[i], &[]).await.unwrap();
    assert!(env.perp_market(dated_idx).await.is_dated());
    let mut perpetual = p;
    perpetual.expiry_ts = 0;
    perpetual.settlement_window_secs = 0;
    perpetual.settlement_min_interval_secs = 0;
    let i = env.edit_perp_market_ix(&admin, dated_idx, perpetual);
    let w = vec![env.perps[dated_idx].market];
    refused(&mut env, &[i], &[], &w, c(CarryError::ExpiryImmutable)).await;

    // a market of another exchange
    let usdc = env.banks[0].mint;
    let other_ex = exchange_pda(&admin, 1);
    let i = sdk::create_exchange(admin, usdc, 1);
    env.send(&[i], &[]).await.unwrap();
    let setup = small_perp_setup();
    let book = env.perp_book_account(&setup).await;
    let oracle = Pubkey::new_unique();
    let now = env.now().await;
    env.write_oracle(&oracle, SOL, 0, now);
    let i = sdk::create_perp_market(
        admin,
        other_ex,
        0,
        book.pubkey(),
        oracle,
        setup,
        params,
        sdk::pyth_v2(),
    );
    env.send(&[i], &[&book]).await.unwrap();
    let foreign = sdk::perp_market_pda(&other_ex, 0);
    let i = sdk::edit_perp_market(admin, env.exchange, foreign, p);
    let w = vec![env.exchange, foreign, other_ex];
    refused(&mut env, &[i], &[], &w, c(CarryError::PerpMarketMismatch)).await;
}

#[tokio::test]
async fn health_with_perp_positions() {
    let mut env = MarginEnv::new().await;
    let params = sdk::example_perp_market_params();
    let setup = small_perp_setup();
    let sol = env.add_perp_market(SOL, params).await;
    let eth = env.add_perp_market(3_000 * E8, params).await;
    let alice = env.user(10_000_000_000).await;
    env.deposit(&alice, 0, 1_000_000_000).await.unwrap(); // 1,000 USDC
    let (i0, m0) = env.health(&alice.account).await.unwrap();
    // 1,000 USDC at 0.8 / 0.9 (products rounded down on the 2^-48 grid)
    assert_eq!((i0.ceil_int(), m0.ceil_int()), (800_000_000, 900_000_000));
    // perp pairs of markets the account has no position in are ignored
    assert_eq!(
        env.health_with_perps(&alice.account).await.unwrap(),
        (i0, m0)
    );

    // a long of 1,000 lots (10 SOL) bought for 1,400 USDC, 50 lots bid
    let long = position(0, 1_000, 1_400_000_000, 50, 0);
    env.set_perp_slot(&alice.account, 0, long).await;
    // without its pair the health is refused
    assert_err(
        env.health(&alice.account).await,
        CarryError::HealthAccountsMismatch,
    );
    let (i1, m1) = env.health_with_perps(&alice.account).await.unwrap();
    let m = env.perp_market(sol).await;
    let price = per_lot(SOL, &setup);
    let (ti, tm) = expected_term(&m, &long, price, price);
    assert_eq!((i1, m1), (add(i0, ti), add(m0, tm)));
    // by hand: PnL = 1,000 x 1.5 - 1,400 = 100 USDC, 80% counted (empty pool); worst base
    // 1,050 lots = 1,575 USDC notional: 1% init (15.75), 0.5% maint (7.875)
    let approx = |x: I80F48, y: i64| assert!((x.floor_int() - y as i128).abs() <= 1, "{x} vs {y}");
    approx(ti, 80_000_000 - 15_750_000);
    approx(tm, 80_000_000 - 7_875_000);
    // the SDK's off-chain term is the chain's
    let now = env.now().await;
    let t = sdk::perp_health_term(&m, &long, price, now).unwrap();
    assert_eq!((t.init, t.maint, t.market_index), (ti, tm, 0));

    // funding owed and a PnL pool: index +1,000 native per lot (the long owes 1 USDC), pool of
    // 30 USDC (paid in full, the rest haircut)
    env.patch_perp_market(sol, |m| {
        m.funding_index.set(f(1_000));
        m.pnl_pool_native = 30_000_000;
    })
    .await;
    let m = env.perp_market(sol).await;
    let (i2, m2) = env.health_with_perps(&alice.account).await.unwrap();
    let (ti, tm) = expected_term(&m, &long, price, price);
    assert_eq!((i2, m2), (add(i0, ti), add(m0, tm)));
    approx(ti, 30_000_000 + 69_000_000 * 8 / 10 - 15_750_000);

    // a short on the second market: 100 lots (1 ETH-like unit) sold for 3,100 USDC
    let short = position(1, -100, -3_100_000_000, 0, 20);
    env.set_perp_slot(&alice.account, 3, short).await;
    let me = env.perp_market(eth).await;
    let eth_price = per_lot(3_000 * E8, &setup);
    let (si, sm) = expected_term(&me, &short, eth_price, eth_price);
    let (i3, m3) = env.health_with_perps(&alice.account).await.unwrap();
    assert_eq!((i3, m3), (add(add(i0, ti), si), add(add(m0, tm), sm)));

    // prices move up 20% and 10%: the stable prices lag; each term is the lower of the two
    env.warp(30).await;
    env.set_perp_price(sol, 180 * E8).await;
    env.set_perp_price(eth, 3_300 * E8).await;
    let now = env.now().await;
    let stable = |m: &PerpMarket, oracle: I80F48| {
        update_stable_price(
            m.stable_price.get(),
            oracle,
            (now - m.stable_price_ts) as u64,
            &m.params.stable_limits(),
        )
        .unwrap()
    };
    let (so, eo) = (per_lot(180 * E8, &setup), per_lot(3_300 * E8, &setup));
    let (ss, es) = (stable(&m, so), stable(&me, eo));
    assert!(ss < so && ss > price && es < eo);
    let (ti, tm) = expected_term(&m, &long, so, ss);
    let (si, sm) = expected_term(&me, &short, eo, es);
    let (i4, m4) = env.health_with_perps(&alice.account).await.unwrap();
    assert_eq!((i4, m4), (add(add(i0, ti), si), add(add(m0, tm), sm)));
    // the long counts at the lagging (lower) stable price, the short at the oracle
    let (long_at_oracle, _) = expected_term(&m, &long, so, so);
    assert!(ti < long_at_oracle);
    assert_eq!(expected_term(&me, &short, eo, eo), (si, sm));
    let t = sdk::perp_health_term(&m, &long, so, now).unwrap();
    assert_eq!((t.init, t.maint), (ti, tm));

    // malformed health accounts
    let banks = env.all_health_pairs();
    let perps = env.all_perp_health_pairs();
    let acc = alice.account;
    let health = |env: &MarginEnv, perps: &[(Pubkey, Pubkey)]| {
        sdk::compute_health_with_perps(env.exchange, acc, &env.all_health_pairs(), perps)
    };
    // a perp slot without its pair
    let i = health(&env, &perps[1..]);
    assert_err(
        env.send(&[i], &[]).await,
        CarryError::HealthAccountsMismatch,
    );
    // the same market twice
    let i = health(&env, &[perps[0], perps[1], perps[0]]);
    assert_err(
        env.send(&[i], &[]).await,
        CarryError::HealthAccountsMismatch,
    );
    // another market's oracle
    let i = health(&env, &[(perps[0].0, perps[1].1), perps[1]]);
    assert_err(env.send(&[i], &[]).await, CarryError::OracleMismatch);
    // too many perp pairs
    let many: Vec<_> = std::iter::repeat_n(perps[1], 11).collect();
    let i = health(&env, &many);
    assert_err(
        env.send(&[i], &[]).await,
        CarryError::HealthAccountsMismatch,
    );
    // perp pairs before bank pairs work as well (told apart by discriminator)
    let mut i = sdk::compute_health(env.exchange, acc, &[]);
    i.accounts.extend(sdk::perp_health_accounts(&perps, false));
    i.accounts.extend(sdk::health_accounts(&banks, false));
    let data = env.t.simulate_return_data(&[i], &[]).await.unwrap();
    let got = sdk::health_values(&sdk::decode_health_info(&data).unwrap());
    assert_eq!(got, (i4, m4));
    // a perp book, or a market of another exchange with the same index, in a market's place
    let book0 = env.perps[sol].book;
    let i = health(&env, &[(book0, perps[0].1), perps[1]]);
    assert_err(
        env.send(&[i], &[]).await,
        CarryError::HealthAccountsMismatch,
    );
    let admin = env.admin.pubkey();
    let other_ex = exchange_pda(&admin, 1);
    let i = sdk::create_exchange(admin, env.banks[0].mint, 1);
    env.send(&[i], &[]).await.unwrap();
    let book = env.perp_book_account(&setup).await;
    let i = sdk::create_perp_market(
        admin,
        other_ex,
        0,
        book.pubkey(),
        perps[0].1,
        setup,
        params,
        sdk::pyth_v2(),
    );
    env.send(&[i], &[&book]).await.unwrap();
    let foreign = sdk::perp_market_pda(&other_ex, 0);
    let i = health(&env, &[(foreign, perps[0].1), perps[1]]);
    assert_err(
        env.send(&[i], &[]).await,
        CarryError::HealthAccountsMismatch,
    );
    // a stale perp oracle
    let sol_oracle = env.perps[sol].oracle;
    env.write_oracle(&sol_oracle, 180 * E8, 0, now - 61);
    let i = health(&env, &perps);
    assert_err(env.send(&[i], &[]).await, CarryError::OracleStale);
    env.set_perp_price(sol, 180 * E8).await;

    // withdraw counts the perp terms: with a losing long, most of the USDC cannot leave
    let lose = position(0, 1_000, 2_900_000_000, 0, 0); // bought at 2.9 per lot, now 1.8
    env.set_perp_slot(&alice.account, 0, lose).await;
    env.set_perp_slot(&alice.account, 3, PerpPosition::default())
        .await;
    let (ih, _) = env.health_with_perps(&alice.account).await.unwrap();
    assert!(ih.is_negative(), "{ih}");
    let withdraw = |env: &MarginEnv, amount: u64, perps: &[(Pubkey, Pubkey)]| {
        let mut i = env.withdraw_ix(
            &alice.kp.pubkey(),
            &alice.account,
            0,
            &alice.wallet(&env.banks[0].mint),
            amount,
            false,
        );
        i.accounts.extend(sdk::perp_health_accounts(perps, true));
        i
    };
    let i = withdraw(&env, 1_000_000, &perps);
    let watched = vec![
        alice.account,
        env.banks[0].bank,
        env.banks[0].vault,
        perps[0].0,
    ];
    refused(
        &mut env,
        &[i],
        &[&alice.kp],
        &watched,
        c(CarryError::HealthBelowZero),
    )
    .await;
    let i = withdraw(&env, 1_000_000, &[]);
    refused(
        &mut env,
        &[i],
        &[&alice.kp],
        &watched,
        c(CarryError::HealthAccountsMismatch),
    )
    .await;
    // a small loss leaves room: withdraw 100 USDC, and the writable market stores its
    // advanced stable price
    let small = position(0, 1_000, 1_900_000_000, 0, 0);
    env.set_perp_slot(&alice.account, 0, small).await;
    let m = env.perp_market(sol).await;
    let now = env.now().await;
    let expect_stable = update_stable_price(
        m.stable_price.get(),
        so,
        (now - m.stable_price_ts) as u64,
        &m.params.stable_limits(),
    )
    .unwrap();
    let i = withdraw(&env, 100_000_000, &perps);
    env.send(&[i], &[&alice.kp]).await.unwrap();
    let m = env.perp_market(sol).await;
    assert_eq!(
        (m.stable_price.get(), m.stable_price_ts),
        (expect_stable, now)
    );
    let acc_after: MarginAccount = env.margin(&alice.account).await;
    assert_eq!(acc_after.perps[0], small);
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo) as u64) as i64
    }
}

/// Random positions over three markets (different tiers, haircuts, a pull oracle), random
/// funding indices and pools, prices moving while the stable prices lag: after every step the
/// chain's health is the token health plus, for each slot in use, `carry_math`'s term, and the
/// SDK's off-chain term equals it.
#[tokio::test]
async fn health_with_perps_randomized() {
    let mut env = MarginEnv::new().await;
    let setup = small_perp_setup();
    let mut p1 = sdk::example_perp_market_params();
    let mut p2 = p1;
    p2.tier_count = 1;
    p2.tiers[1..].fill(Default::default());
    p2.tiers[0].max_notional_native = u64::MAX;
    p2.tiers[0].init_margin_ppm = 100_000;
    p2.tiers[0].maint_margin_ppm = 50_000;
    p2.unpaid_pnl_haircut_ppm = 1_000_000;
    p1.tiers[0].max_notional_native = 2_000_000_000; // tier jumps within reach
    p1.tiers[1].max_notional_native = 5_000_000_000;
    let p3 = sdk::example_perp_market_params();
    let prices = [150 * E8, 3_000 * E8, E8 / 2];
    let m0 = env.add_perp_market_with(prices[0], setup, p1, None).await;
    let m1 = env.add_perp_market_with(prices[1], setup, p2, None).await;
    let m2 = env
        .add_perp_market_with(prices[2], setup, p3, Some([5; 32]))
        .await;
    let markets = [m0, m1, m2];
    let alice = env.user(100_000_000_000).await;
    env.deposit(&alice, 0, 5_000_000_000).await.unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut price = prices;
    let (mut withdrawn, mut refused_health, mut terms) = (0, 0, 0);
    for step in 0..40 {
        // positions: each market in a random slot or none
        let mut slots: Vec<usize> = (0..8).collect();
        for s in 0..8 {
            env.set_perp_slot(&alice.account, s, PerpPosition::default())
                .await;
        }
        // the token part (withdrawals below change it; time does not: no borrows, $1)
        let (i0, mt0) = env.health(&alice.account).await.unwrap();
        let mut used = vec![];
        for (k, &m) in markets.iter().enumerate() {
            if rng.below(4) == 0 {
                continue;
            }
            let s = slots.remove(rng.below(slots.len() as u64) as usize);
            let base = rng.range(-3_000, 3_000);
            let lot = per_lot(price[k], &setup).floor_int() as i64;
            // entry within +-30% of the current price
            let entry = lot + rng.range(-(lot * 3 / 10), lot * 3 / 10 + 1);
            let pos = position(
                m as u16,
                base,
                base * entry,
                rng.range(0, 2_000),
                rng.range(0, 2_000),
            );
            env.set_perp_slot(&alice.account, s, pos).await;
            used.push((k, pos));
        }
        // market state a crank would set: funding index, PnL pool
        for &m in &markets {
            let idx = rng.range(-50_000, 50_000);
            let pool = rng.below(5_000_000_000);
            env.patch_perp_market(m, |pm| {
                pm.funding_index.set(I80F48::from_i64(idx));
                pm.pnl_pool_native = pool;
            })
            .await;
        }
        // time passes and prices move up to +-15%; stable prices lag
        env.warp(rng.range(1, 120)).await;
        for (k, &m) in markets.iter().enumerate() {
            let p = price[k];
            price[k] = (p + rng.range(-(p * 15 / 100), p * 15 / 100 + 1)).max(1_000);
            env.set_perp_price(m, price[k]).await;
        }
        let now = env.now().await;
        let (mut ei, mut em) = (i0, mt0);
        for (k, pos) in &used {
            let m = env.perp_market(markets[*k]).await;
            let oracle = per_lot(price[*k], &setup);
            let stable = update_stable_price(
                m.stable_price.get(),
                oracle,
                (now - m.stable_price_ts) as u64,
                &m.params.stable_limits(),
            )
            .unwrap();
            let (ti, tm) = expected_term(&m, pos, oracle, stable);
            let t = sdk::perp_health_term(&m, pos, oracle, now).unwrap();
            assert_eq!((t.init, t.maint), (ti, tm), "step {step}: SDK term");
            ei = add(ei, ti);
            em = add(em, tm);
            terms += 1;
        }
        let got = env.health_with_perps(&alice.account).await.unwrap();
        assert_eq!(got, (ei, em), "step {step}: {} positions", used.len());
        // sometimes a crank stores the stable prices (a withdrawal passes markets writable)
        if step % 5 == 4 {
            let mut i = env.withdraw_ix(
                &alice.kp.pubkey(),
                &alice.account,
                0,
                &alice.wallet(&env.banks[0].mint),
                1,
                false,
            );
            i.accounts.extend(sdk::perp_health_accounts(
                &env.all_perp_health_pairs(),
                true,
            ));
            // health may be negative with random positions: either way, consistent
            let ok = env.send(&[i], &[&alice.kp]).await;
            match ok {
                Ok(()) => {
                    assert!(!ei.is_negative());
                    withdrawn += 1;
                }
                Err(e) => {
                    assert_eq!(e.custom_code(), Some(c(CarryError::HealthBelowZero)));
                    refused_health += 1;
                }
            }
        }
    }
    println!("{terms} perp terms, {withdrawn} withdrawals, {refused_health} refused by health");
    assert!(terms >= 60 && withdrawn > 0 && refused_health > 0);
}
