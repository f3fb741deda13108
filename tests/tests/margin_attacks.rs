//! The review's findings against the lending vault, replayed as an attacker would, each shown
//! to fail with a named error or a bounded effect: the bank freeze through donated vault cash,
//! the stable-price jump after idle hours; and the Pyth pull oracle (`PriceUpdateV2`) with each
//! way its account can be wrong.

use carry_margin::error::CarryError;
use carry_math::oracle::{update_stable_price, StableLimits};
use carry_math::{Round, I80F48};
use carry_tests::margin::*;
use carry_tests::TxError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

fn f(x: I80F48) -> f64 {
    x.to_bits() as f64 / (1u128 << 48) as f64
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(r: Result<T, TxError>, e: CarryError) {
    match r {
        Ok(v) => panic!("expected {e:?}, got Ok({v:?})"),
        Err(err) => assert_eq!(
            err.custom_code(),
            Some(code(e)),
            "expected {e:?}, got {err:?}"
        ),
    }
}

/// The bank-freeze finding. On a fresh bank the attacker deposits one native unit and sends a
/// large amount to the vault with a plain SPL transfer; an accomplice tries to borrow it back
/// against other collateral, so that all depositor interest lands on one unit of shares.
/// Now the pool lends only what depositors own: the borrow of the donation is refused with
/// `InsufficientVaultCash` and nothing changes; the one unit that can be lent earns at most the
/// borrow rate; after three days of hourly cranks at 100% utilization the indices are sane, a
/// later 10,000-unit deposit is worth 10,000, and non-lendable balances and `edit_bank` work.
#[tokio::test]
async fn bank_freeze_through_donated_cash_is_refused() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let tkn = env.add_bank(6, E8, default_params()).await; // a fresh $1 bank
    let attacker = env.user(1_000_000_000_000).await;
    let accomplice = env.user(1_000_000_000_000).await;
    env.deposit(&attacker, tkn, 1).await.unwrap();
    env.donate(tkn, 1_000_000_000).await; // 1,000 TKN sent straight to the vault
    env.deposit(&accomplice, sol, 100_000_000_000)
        .await
        .unwrap(); // $15,000 of SOL

    // borrowing the donation: refused, nothing changed
    let watched = [
        env.banks[tkn].bank,
        env.banks[tkn].vault,
        accomplice.account,
        accomplice.wallet(&env.banks[tkn].mint),
    ];
    let before = env.snapshot(&watched).await;
    assert_err(
        env.withdraw(&accomplice, tkn, 999_000_000, true).await,
        CarryError::InsufficientVaultCash,
    );
    assert_err(
        env.withdraw(&accomplice, tkn, 2, true).await,
        CarryError::InsufficientVaultCash,
    );
    assert_eq!(
        env.snapshot(&watched).await,
        before,
        "refusal changed state"
    );
    let b = env.bank(tkn).await;
    let vault = env.tokens(&env.banks[tkn].vault.clone()).await;
    assert_eq!(
        b.lendable_cash(vault).unwrap(),
        1,
        "only the deposit is lendable"
    );
    assert_eq!(
        b.surplus(vault).unwrap(),
        1_000_000_000,
        "the donation is surplus"
    );

    // the one deposited unit can be lent: utilization 100%
    env.withdraw(&accomplice, tkn, 1, true).await.unwrap();
    assert_err(
        env.withdraw(&attacker, tkn, 1, false).await,
        CarryError::InsufficientVaultCash,
    );

    // three days of hourly cranks at full utilization (rate 100%/year)
    for _ in 0..72 {
        env.warp(3600).await;
        env.accrue(tkn).await.unwrap();
    }
    let b = env.bank(tkn).await;
    let (di, bi) = (b.deposit_index.get(), b.borrow_index.get());
    // e^(72/8760) = 1.00825 for the borrow index; the deposit index grows no faster
    assert!(f(bi) < 1.0083 && f(bi) > 1.0082, "borrow index {bi}");
    assert!(di <= bi, "deposit index {di} above borrow index {bi}");
    assert!(f(di) < 1.0083, "deposit index {di}");

    // a later depositor is not diluted
    let victim = env.user(1_000_000_000).await;
    env.deposit(&victim, tkn, 10_000).await.unwrap();
    let v = env.balance(&victim.account, tkn).await;
    assert!(v >= I80F48::from_u64(9_999), "10,000 deposited, worth {v}");
    env.withdraw(&victim, tkn, 9_000, false).await.unwrap();

    // opted-out balances and the admin's edit keep working
    let saver = env.user(1_000_000_000).await;
    let i = env.lending_ix(&saver.kp.pubkey(), &saver.account, tkn, false);
    env.send(&[i], &[&saver.kp]).await.unwrap();
    env.deposit(&saver, tkn, 5_000).await.unwrap();
    env.warp(86_400).await;
    env.withdraw(&saver, tkn, 5_000, false).await.unwrap();
    let i = env.edit_bank_ix(&env.admin.pubkey(), tkn, default_params());
    env.send(&[i], &[]).await.unwrap();

    let accounts = [
        attacker.account,
        accomplice.account,
        victim.account,
        saver.account,
    ];
    env.check_conservation(tkn, &accounts).await;
    env.check_conservation(sol, &accounts).await;
}

/// The stable-price finding (the Mango pattern). A SOL bank at $150 sits idle for ten hours
/// (10%/h speed limit). Then, at a manipulated moment, its oracle shows $300 and the attacker,
/// holding 10 SOL ($1,500), asks to borrow $1,900 of USDC. Counting the whole idle time, the
/// stable price would jump to $300 and the borrow would pass (10 x 300 x 0.8 = $2,400 >=
/// 1,900 x 1.2 = $2,280). With the step cap one update counts at most 60 s, so SOL is valued
/// at <= $150.25 and the borrow is refused; the crank at the spike moves the stored stable
/// price by at most 10%/h x 60 s.
#[tokio::test]
async fn stable_price_does_not_jump_after_idle_hours() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let attacker = env.user(1_000_000_000_000).await;
    env.deposit(&lender, 0, 100_000_000_000).await.unwrap();
    env.deposit(&attacker, sol, 10_000_000_000).await.unwrap(); // 10 SOL
    let stable0 = env.bank(sol).await.stable_price.get();

    env.warp(10 * 3600).await; // idle: no crank, no touch
    env.set_price(sol, 300 * E8).await; // the manipulated moment

    // what the old rule (whole idle time counted) would have valued SOL at
    let params = default_params();
    let uncapped = update_stable_price(
        stable0,
        I80F48::from_ratio(3, 10, Round::Floor).unwrap(), // $300 per SOL per lamport
        10 * 3600,
        &StableLimits {
            max_move_ppm_per_hour: params.stable_max_move_ppm_per_hour as u64,
            max_step_secs: u64::MAX,
        },
    )
    .unwrap();
    assert!(
        f(uncapped) * 10e9 * 0.8 >= 1_900e6 * 1.2,
        "the old rule let it pass"
    );

    let watched = [
        env.banks[0].bank,
        env.banks[sol].bank,
        attacker.account,
        env.banks[0].vault,
    ];
    let before = env.snapshot(&watched).await;
    assert_err(
        env.withdraw(&attacker, 0, 1_900_000_000, true).await,
        CarryError::HealthBelowZero,
    );
    assert_eq!(
        env.snapshot(&watched).await,
        before,
        "refusal changed state"
    );

    // the crank at the spike: one 60 s step at most
    env.accrue(sol).await.unwrap();
    let s1 = env.bank(sol).await.stable_price.get();
    let max = f(stable0) * (1.0 + 0.1 / 60.0);
    assert!(f(s1) > f(stable0) && f(s1) <= max + 1e-12, "stable {s1}");
    // a borrow the real price supports still works: 10 x 150 x 0.8 = 1,200 >= 900 x 1.2
    env.withdraw(&attacker, 0, 900_000_000, true).await.unwrap();
    let (init, _) = env.health(&attacker.account).await.unwrap();
    assert!(!init.is_negative());
    assert!(f(init) < 130e6, "valued near $150.25, not $300: {init}");
}

/// A bank whose oracle is a Pyth pull `PriceUpdateV2` account: it values collateral like a v2
/// oracle does, and refuses an account of another owner, another feed, a partially verified
/// update, a stale or uncertain price, and bytes that are not a `PriceUpdateV2`, each with its
/// named error and nothing changed.
#[tokio::test]
async fn pyth_pull_oracle() {
    let mut env = MarginEnv::new().await;
    let feed = [0xAB; 32];
    let sol = env.add_pull_bank(9, 150 * E8, default_params(), feed).await;
    let b = env.bank(sol).await;
    assert_eq!(
        (b.oracle_kind, b.oracle_feed_id),
        (carry_margin::OracleKind::PythPull as u8, feed)
    );
    let lender = env.user(1_000_000_000_000).await;
    let u = env.user(1_000_000_000_000).await;
    env.deposit(&lender, 0, 100_000_000_000).await.unwrap();
    env.deposit(&u, sol, 10_000_000_000).await.unwrap(); // 10 SOL = $1,500
    let (init, maint) = env.health(&u.account).await.unwrap();
    assert!((f(init) - 1_200e6).abs() < 1.0, "init {init}");
    assert!((f(maint) - 1_350e6).abs() < 1.0, "maint {maint}");
    env.withdraw(&u, 0, 500_000_000, true).await.unwrap();

    let oracle = env.banks[sol].oracle;
    let now = env.now().await;
    let watched = [env.banks[0].bank, env.banks[sol].bank, u.account];
    type Case = (&'static str, Box<dyn Fn(&mut MarginEnv)>, CarryError);
    let cases: Vec<Case> = vec![
        (
            "another feed",
            Box::new(move |e| e.write_pull_oracle(&oracle, [0xAC; 32], 150 * E8, 0, now, true)),
            CarryError::OracleFeedMismatch,
        ),
        (
            "partially verified",
            Box::new(move |e| e.write_pull_oracle(&oracle, feed, 150 * E8, 0, now, false)),
            CarryError::OracleNotFullyVerified,
        ),
        (
            "stale",
            Box::new(move |e| e.write_pull_oracle(&oracle, feed, 150 * E8, 0, now - 61, true)),
            CarryError::OracleStale,
        ),
        (
            "uncertain",
            Box::new(move |e| {
                e.write_pull_oracle(&oracle, feed, 150 * E8, 2 * E8 as u64, now, true)
            }),
            CarryError::OracleConfidence,
        ),
        (
            "owned by another program",
            Box::new(move |e| {
                let data =
                    carry_tests::pyth::price_update_v2_bytes(feed, 150 * E8, 0, -8, now, true);
                e.write_raw_oracle(&oracle, data, Pubkey::new_unique())
            }),
            CarryError::OracleWrongOwner,
        ),
        (
            "a v2 price account in its place",
            Box::new(move |e| e.write_oracle(&oracle, 150 * E8, 0, now)),
            CarryError::OracleWrongOwner,
        ),
        (
            "not a PriceUpdateV2",
            Box::new(move |e| {
                e.write_raw_oracle(
                    &oracle,
                    vec![3u8; 134],
                    carry_margin::oracle::PYTH_RECEIVER_PROGRAM_ID,
                )
            }),
            CarryError::OracleInvalid,
        ),
    ];
    for (what, write, err) in cases {
        write(&mut env);
        let before = env.snapshot(&watched).await;
        match env.withdraw(&u, 0, 1, true).await {
            Ok(()) => panic!("{what}: expected {err:?}"),
            Err(e) => assert_eq!(e.custom_code(), Some(code(err)), "{what}: {e:?}"),
        }
        assert_eq!(
            env.snapshot(&watched).await,
            before,
            "{what}: state changed"
        );
        assert_err(env.health(&u.account).await, err);
    }
    env.refresh_oracles().await;
    env.withdraw(&u, 0, 1, true).await.unwrap();
}
