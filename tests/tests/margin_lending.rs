//! Lending vault behaviour: interest against the closed form, token conservation over a
//! randomized sequence, health and cash limits, opt-out balances, reserve sweep, delegate and
//! close.

use carry_margin::error::CarryError;
use carry_math::{Round, I80F48};
use carry_tests::margin::*;
use carry_tests::TxError;
use solana_sdk::signature::Signer;

const YEAR: f64 = 31_536_000.0;

fn f(x: I80F48) -> f64 {
    x.to_bits() as f64 / (1u128 << 48) as f64
}

#[track_caller]
fn assert_err(r: Result<(), TxError>, e: CarryError) {
    match r {
        Ok(()) => panic!("expected {e:?}, got Ok"),
        Err(err) => assert_eq!(
            err.custom_code(),
            Some(code(e)),
            "expected {e:?}, got {err:?}"
        ),
    }
}

/// Rate of the default curve at utilization `u` (closed form, floats are fine off-chain).
fn default_rate(u: f64) -> f64 {
    let p = default_params();
    let base = p.base_rate_ppm as f64 / 1e6;
    let opt = p.optimal_util_ppm as f64 / 1e6;
    let s1 = p.slope1_ppm as f64 / 1e6;
    let s2 = p.slope2_ppm as f64 / 1e6;
    let r = if u <= opt {
        base + s1 * u / opt
    } else {
        base + s1 + s2 * (u - opt) / (1.0 - opt)
    };
    r.min(p.max_rate_ppm as f64 / 1e6)
}

#[tokio::test]
async fn interest_matches_closed_form() {
    let mut env = MarginEnv::new().await;
    let usdc = 0;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let eth = env.add_bank(8, 3000 * E8, default_params()).await;
    let lender = env.user(10_000_000_000_000).await;
    let lender2 = env.user(10_000_000_000_000).await;
    let saver = env.user(10_000_000_000_000).await;
    let borrower = env.user(10_000_000_000_000).await;
    let borrower2 = env.user(10_000_000_000_000).await;
    let all = [
        lender.account,
        lender2.account,
        saver.account,
        borrower.account,
        borrower2.account,
    ];

    // deposit-only bank: ETH
    env.deposit(&lender, eth, 123_456_789).await.unwrap();
    // borrow bank: USDC, 1000 lent, 500 borrowed -> utilization 0.5
    env.deposit(&lender, usdc, 1_000_000_000).await.unwrap();
    env.deposit(&borrower, sol, 10_000_000_000).await.unwrap(); // 10 SOL = $1500
    env.withdraw(&borrower, usdc, 500_000_000, true)
        .await
        .unwrap();
    // mixed bank: SOL, two lenders (lender2 7 SOL, borrower's 10 SOL collateral is lent too),
    // one opted-out saver (5 SOL, never lent), borrower2 borrows 3 SOL against USDC
    env.deposit(&lender2, sol, 7_000_000_000).await.unwrap();
    env.send(
        &[env.lending_ix(&saver.kp.pubkey(), &saver.account, sol, false)],
        &[&saver.kp],
    )
    .await
    .unwrap();
    env.deposit(&saver, sol, 5_000_000_000).await.unwrap();
    env.deposit(&borrower2, usdc, 2_000_000_000).await.unwrap();
    env.withdraw(&borrower2, sol, 3_000_000_000, true)
        .await
        .unwrap();

    let t0 = [
        env.bank(usdc).await.last_accrual_ts,
        env.bank(sol).await.last_accrual_ts,
        env.bank(eth).await.last_accrual_ts,
    ];
    let bal0: Vec<Vec<I80F48>> = {
        let mut v = vec![];
        for a in all {
            let mut row = vec![];
            for b in [usdc, sol, eth] {
                row.push(env.balance(&a, b).await);
            }
            v.push(row);
        }
        v
    };
    env.warp(30 * 86_400 + 12_345).await;
    // health accrues in memory: the same before and after the crank
    let h_before = env.health(&borrower.account).await.unwrap();
    for b in [usdc, sol, eth] {
        env.accrue(b).await.unwrap();
    }
    let now = env.now().await;
    let h_after = env.health(&borrower.account).await.unwrap();
    assert!(
        (f(h_before.0) - f(h_after.0)).abs() < 1e-6,
        "{h_before:?} vs {h_after:?}"
    );
    assert!((f(h_before.1) - f(h_after.1)).abs() < 1e-6);

    // deposit-only: nothing moves, to the bit
    let e = env.bank(eth).await;
    assert_eq!(e.deposit_index.get(), I80F48::ONE);
    assert_eq!(e.borrow_index.get(), I80F48::ONE);
    assert_eq!(env.balance(&lender.account, eth).await, bal0[0][2]);
    assert_eq!(e.collected_reserve.get(), I80F48::ZERO);

    let rf = default_params().reserve_factor_ppm as f64 / 1e6;
    // borrow bank (USDC): util 0.5
    {
        let dt = (now - t0[0]) as f64;
        assert_eq!(dt as i64, 30 * 86_400 + 12_345);
        let lent = 1_000_000_000.0 + 2_000_000_000.0; // lender + borrower2's USDC collateral
        let borrowed = 500_000_000.0;
        let r = default_rate(borrowed / lent);
        let interest = borrowed * r * dt / YEAR;
        let debt = -f(env.balance(&borrower.account, usdc).await);
        let want_debt = borrowed + interest;
        assert!(
            (debt.ceil() - want_debt.ceil()).abs() <= 1.0,
            "debt {debt} vs closed form {want_debt}"
        );
        let dep_interest = interest * (1.0 - rf);
        for (i, amount) in [(0usize, 1_000_000_000.0), (4, 2_000_000_000.0)] {
            let got = f(env.balance(&all[i], usdc).await);
            let want = amount + dep_interest * amount / lent;
            assert!(
                (got.floor() - want.floor()).abs() <= 1.0,
                "deposit {got} vs closed form {want}"
            );
        }
        // depositor earnings + reserve = borrower payments, less protocol-favoured rounding
        let bank = env.bank(usdc).await;
        let paid = env
            .balance(&borrower.account, usdc)
            .await
            .checked_sub(bal0[3][0])
            .unwrap()
            .checked_neg()
            .unwrap();
        let earned = env
            .balance(&lender.account, usdc)
            .await
            .checked_sub(bal0[0][0])
            .unwrap()
            .checked_add(
                env.balance(&borrower2.account, usdc)
                    .await
                    .checked_sub(bal0[4][0])
                    .unwrap(),
            )
            .unwrap();
        let reserve = bank.collected_reserve.get();
        let gap = paid
            .checked_sub(earned)
            .unwrap()
            .checked_sub(reserve)
            .unwrap();
        assert!(
            !gap.is_negative() || gap.to_bits() > -(1 << 8),
            "payments < earnings + reserve: {gap}"
        );
        assert!(gap < I80F48::from_i64(2), "rounding gap {gap}");
        let r_want = interest * rf;
        assert!(
            (f(reserve) - r_want).abs() < 1.0,
            "reserve {} vs {r_want}",
            f(reserve)
        );
    }
    // mixed bank (SOL): lendable deposits 17 SOL, borrows 3 SOL, opt-out 5 SOL never lent
    {
        let dt = (now - t0[1]) as f64;
        let lent = 17_000_000_000.0;
        let borrowed = 3_000_000_000.0;
        let r = default_rate(borrowed / lent);
        let interest = borrowed * r * dt / YEAR;
        let debt = -f(env.balance(&borrower2.account, sol).await);
        assert!(
            (debt.ceil() - (borrowed + interest).ceil()).abs() <= 1.0,
            "debt {debt}"
        );
        for (i, amount) in [(1usize, 7_000_000_000.0), (3, 10_000_000_000.0)] {
            let got = f(env.balance(&all[i], sol).await);
            let want = amount + interest * (1.0 - rf) * amount / lent;
            assert!(
                (got.floor() - want.floor()).abs() <= 1.0,
                "deposit {got} vs {want}"
            );
        }
        // the opted-out saver earns nothing, to the unit
        assert_eq!(
            env.balance(&saver.account, sol).await,
            I80F48::from_u64(5_000_000_000)
        );
        assert_eq!(env.bank(sol).await.non_lendable_deposits, 5_000_000_000);
    }
    for b in [usdc, sol, eth] {
        env.check_conservation(b, &all).await;
    }
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
}

#[tokio::test]
async fn conservation_randomized() {
    for seed in [
        0x5eed_c0ff_ee12_3457u64,
        0x0123_4567_89ab_cdef,
        0x9e37_79b9_7f4a_7c15,
    ] {
        conservation_run(seed).await;
    }
}

/// 120 random steps by 4 accounts over 3 banks; prices move up to +-10% at every warp.
/// The attacker's moves of the bank-freeze and stable-price findings are in the mix: tokens
/// sent to a vault directly (surplus: never lent, never lost), tiny deposits of 1-3 native
/// units, and idle gaps of hours to weeks with nobody touching the banks.
/// Returns (successful steps, steps that borrowed).
async fn conservation_run(seed: u64) -> (u32, u32) {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let btc = env.add_bank(8, 60_000 * E8, default_params()).await;
    let banks = [0usize, sol, btc];
    let fund = 1_000_000_000_000_000u64;
    let mut users = vec![];
    for _ in 0..4 {
        users.push(env.user(fund).await);
    }
    let accounts: Vec<_> = users.iter().map(|u| u.account).collect();
    let mut rng = Rng(seed);
    let scale = [1_000_000u64, 10_000_000, 100_000]; // ~$1, $1.5, $60 per unit of randomness
    let (mut ok, mut failed, mut borrows) = (0, 0, 0);
    let mut donated = [0u64; 3];
    for step in 0..120 {
        let u = rng.below(users.len() as u64) as usize;
        let b = banks[rng.below(3) as usize];
        let op = rng.below(12);
        let amount = 1 + rng.below(1000) * scale[b] + rng.below(scale[b]);
        let res = match op {
            0..=2 => env.deposit(&users[u], b, amount).await,
            3 => env.deposit(&users[u], b, 1 + rng.below(3)).await, // tiny shares
            10 => {
                // a direct SPL transfer into the vault: surplus
                let amount = rng.below(100) * scale[b];
                env.donate(b, amount).await;
                donated[b] += amount;
                Ok(())
            }
            11 => {
                // idle: hours to weeks, no crank, no touch; then one touch at a moved price
                env.warp(3600 + rng.below(21 * 86_400) as i64).await;
                for b in [sol, btc] {
                    let p = env.banks[b].price;
                    env.set_price(b, p / 1000 * (700 + rng.below(601) as i64))
                        .await;
                }
                Ok(())
            }
            4..=6 => {
                let borrow = rng.below(3) != 0;
                let before = env.balance(&users[u].account, b).await;
                let want = if borrow { amount } else { amount / 2 + 1 };
                let r = env.withdraw(&users[u], b, want, borrow).await;
                if r.is_ok() && env.balance(&users[u].account, b).await < before.min(I80F48::ZERO) {
                    borrows += 1; // borrowed in this step (new or larger debt)
                }
                if r.is_ok() {
                    // invariant 3: no withdrawal leaves initial health below zero
                    let (init, _) = env.health(&users[u].account).await.unwrap();
                    assert!(
                        !init.is_negative(),
                        "seed {seed:#x} step {step}: init {init}"
                    );
                }
                r
            }
            7 => {
                env.warp(1 + rng.below(20 * 86_400) as i64).await;
                for b in [sol, btc] {
                    let p = env.banks[b].price;
                    let moved = p / 1000 * (900 + rng.below(201) as i64);
                    env.set_price(b, moved).await;
                }
                for b in banks {
                    env.accrue(b).await.unwrap();
                }
                Ok(())
            }
            8 => {
                let lend = rng.below(3) != 0;
                let i = env.lending_ix(&users[u].kp.pubkey(), &users[u].account, b, lend);
                env.send(&[i], &[&users[u].kp]).await
            }
            _ => {
                let i = env.sweep_ix();
                env.send(&[i], &[]).await
            }
        };
        match res {
            Ok(()) => ok += 1,
            Err(e) => {
                failed += 1;
                let c = e
                    .custom_code()
                    .unwrap_or_else(|| panic!("seed {seed:#x} step {step}: {e:?}"));
                let allowed = [
                    CarryError::HealthBelowZero,
                    CarryError::InsufficientVaultCash,
                    CarryError::InsufficientBalance,
                    CarryError::LendingDisabled,
                    CarryError::BorrowOutstanding,
                ];
                assert!(
                    allowed.iter().any(|a| code(*a) == c),
                    "seed {seed:#x} step {step}: unexpected error {c}"
                );
            }
        }
        // after every step: each bank's vault = deposits - borrows + reserve (+ tracked dust)
        for b in banks {
            env.check_conservation(b, &accounts).await;
        }
        // and no token appears or disappears anywhere
        for b in banks {
            let mint = env.banks[b].mint;
            let mut total = env.tokens(&env.banks[b].vault.clone()).await as u128;
            for u in &users {
                total += env.tokens(&u.wallet(&mint)).await as u128;
            }
            if b == 0 {
                total += env.tokens(&env.insurance_vault.clone()).await as u128;
            }
            assert_eq!(
                total,
                fund as u128 * users.len() as u128 + donated[b] as u128,
                "seed {seed:#x} step {step}: bank {b} tokens"
            );
        }
    }

    println!("randomized seed {seed:#x}: {ok} ok, {failed} refused, {borrows} borrows");
    (ok, borrows)
}

#[tokio::test]
async fn borrow_limited_by_health_and_cash() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let trader = env.user(1_000_000_000_000).await;
    let whale = env.user(1_000_000_000_000_000).await;
    env.deposit(&lender, 0, 1_000_000_000).await.unwrap(); // 1000 USDC lendable
    env.deposit(&trader, sol, 1_000_000_000).await.unwrap(); // 1 SOL: init value $120
                                                             // init health allows borrowing up to $100 (120 / 1.2)
    env.withdraw(&trader, 0, 99_000_000, true).await.unwrap();
    let watched = [
        trader.account,
        env.banks[0].bank,
        env.banks[0].vault,
        env.banks[sol].bank,
    ];
    let before = env.snapshot(&watched).await;
    assert_err(
        env.withdraw(&trader, 0, 2_000_000, true).await,
        CarryError::HealthBelowZero,
    );
    // withdrawing collateral that backs the borrow is refused too
    assert_err(
        env.withdraw(&trader, sol, 100_000_000, false).await,
        CarryError::HealthBelowZero,
    );
    assert_eq!(env.snapshot(&watched).await, before);
    let (init, maint) = env.health(&trader.account).await.unwrap();
    assert!(
        init.is_positive() && init < I80F48::from_i64(1_300_000),
        "init {init}"
    );
    // maint = 150e6 * 0.9 - 99e6 * 1.1 = 26.1e6
    assert!((f(maint) - 26_100_000.0).abs() < 1.0, "maint {maint}");

    // cash: 1000 lent, 99 out; a whale with ample collateral cannot take more than is there
    env.deposit(&whale, sol, 1_000_000_000_000).await.unwrap();
    let before = env.snapshot(&watched).await;
    assert_err(
        env.withdraw(&whale, 0, 902_000_000, true).await,
        CarryError::InsufficientVaultCash,
    );
    assert_eq!(env.snapshot(&watched).await, before);
    env.withdraw(&whale, 0, 901_000_000, true).await.unwrap();
    assert_eq!(env.tokens(&env.banks[0].vault.clone()).await, 0);
    // the lender cannot withdraw while the cash is lent out
    assert_err(
        env.withdraw(&lender, 0, 1, false).await,
        CarryError::InsufficientVaultCash,
    );
    // repay (deposit repays first) frees cash again
    env.deposit(&whale, 0, 950_000_000).await.unwrap();
    let b = env.balance(&whale.account, 0).await;
    assert!(
        b.is_positive() && b < I80F48::from_u64(49_000_001),
        "repaid first, rest deposited: {b}"
    );
    env.withdraw(&lender, 0, 500_000_000, false).await.unwrap();
    env.check_conservation(0, &[lender.account, trader.account, whale.account])
        .await;
    env.check_conservation(sol, &[lender.account, trader.account, whale.account])
        .await;
}

#[tokio::test]
async fn opt_out_earns_nothing_and_is_never_lent() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let saver = env.user(100_000_000_000).await;
    let lender = env.user(100_000_000_000).await;
    let borrower = env.user(100_000_000_000_000).await;
    let accounts = [saver.account, lender.account, borrower.account];
    env.deposit(&saver, sol, 10_000_000_000).await.unwrap();
    // opt out after depositing: the deposit moves out of the pool
    env.send(
        &[env.lending_ix(&saver.kp.pubkey(), &saver.account, sol, false)],
        &[&saver.kp],
    )
    .await
    .unwrap();
    let bank = env.bank(sol).await;
    assert_eq!(bank.non_lendable_deposits, 10_000_000_000);
    assert_eq!(bank.indexed_deposits.get(), I80F48::ZERO);
    env.deposit(&borrower, 0, 10_000_000_000_000).await.unwrap();
    // all 10 SOL in the vault are non-lendable: nothing to borrow
    assert_err(
        env.withdraw(&borrower, sol, 1, true).await,
        CarryError::InsufficientVaultCash,
    );
    env.deposit(&lender, sol, 5_000_000_000).await.unwrap();
    env.withdraw(&borrower, sol, 4_000_000_000, true)
        .await
        .unwrap();
    assert_err(
        env.withdraw(&borrower, sol, 1_000_000_001, true).await,
        CarryError::InsufficientVaultCash,
    );
    env.warp(365 * 86_400).await;
    env.accrue(sol).await.unwrap();
    assert_eq!(
        env.balance(&saver.account, sol).await,
        I80F48::from_u64(10_000_000_000)
    );
    assert!(env.balance(&lender.account, sol).await > I80F48::from_u64(5_100_000_000));
    env.check_conservation(sol, &accounts).await;
    // an opted-out token cannot be borrowed through that account
    assert_err(
        env.withdraw(&saver, sol, 10_000_000_001, true).await,
        CarryError::LendingDisabled,
    );
    // the saver's tokens are always there
    env.withdraw(&saver, sol, 10_000_000_000, false)
        .await
        .unwrap();
    assert_eq!(env.bank(sol).await.non_lendable_deposits, 0);
    // a borrower cannot opt out of the token it owes
    let i = env.lending_ix(&borrower.kp.pubkey(), &borrower.account, sol, false);
    assert_err(
        env.send(&[i], &[&borrower.kp]).await,
        CarryError::BorrowOutstanding,
    );
    // opting back in lends the balance again
    env.deposit(&saver, sol, 1_000_000_000).await.unwrap();
    env.send(
        &[env.lending_ix(&saver.kp.pubkey(), &saver.account, sol, true)],
        &[&saver.kp],
    )
    .await
    .unwrap();
    assert_eq!(env.bank(sol).await.non_lendable_deposits, 0);
    env.warp(86_400).await;
    env.accrue(sol).await.unwrap();
    assert!(env.balance(&saver.account, sol).await > I80F48::from_u64(1_000_000_000));
    env.check_conservation(sol, &accounts).await;
    env.check_conservation(0, &accounts).await;
}

#[tokio::test]
async fn reserve_swept_to_insurance_fund() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let borrower = env.user(1_000_000_000_000).await;
    env.deposit(&lender, 0, 100_000_000_000).await.unwrap();
    env.deposit(&borrower, sol, 1_000_000_000_000)
        .await
        .unwrap();
    env.withdraw(&borrower, 0, 80_000_000_000, true)
        .await
        .unwrap();
    env.warp(365 * 86_400).await;
    env.accrue(0).await.unwrap();
    let reserve = env.bank(0).await.collected_reserve.get();
    assert!(reserve > I80F48::from_i64(100_000_000), "reserve {reserve}");
    env.send(&[env.sweep_ix()], &[]).await.unwrap();
    let swept = env.tokens(&env.insurance_vault.clone()).await;
    assert_eq!(swept, reserve.to_u64(Round::Floor).unwrap());
    let bank = env.bank(0).await;
    assert_eq!(bank.reserve_swept, swept);
    assert!(bank.collected_reserve.get() < I80F48::ONE);
    env.check_conservation(0, &[lender.account, borrower.account])
        .await;
    // only the settlement bank sweeps
    let i = env.sweep_ix_for(sol);
    assert_err(env.send(&[i], &[]).await, CarryError::NotSettlementBank);
}

#[tokio::test]
async fn delegate_deposits_but_never_withdraws_and_close_returns_rent() {
    let mut env = MarginEnv::new().await;
    let owner = env.user(1_000_000_000).await;
    let delegate = env.user(1_000_000_000).await;
    let i = env.set_delegate_ix(&owner.kp.pubkey(), &owner.account, &delegate.kp.pubkey());
    env.send(&[i], &[&owner.kp]).await.unwrap();
    assert_eq!(
        env.margin(&owner.account).await.delegate,
        delegate.kp.pubkey()
    );
    // the delegate cannot open a token slot (it could fill them all with dust) ...
    let usdc = env.banks[0].mint;
    let i = env.deposit_ix(
        &delegate.kp.pubkey(),
        &owner.account,
        0,
        &delegate.wallet(&usdc),
        1_000,
    );
    assert_err(
        env.send(&[i], &[&delegate.kp]).await,
        CarryError::DelegateCannotOpenSlot,
    );
    assert_eq!(env.margin(&owner.account).await.active_token_count(), 0);
    // ... but deposits from its own wallet into a token the owner holds
    env.deposit(&owner, 0, 1).await.unwrap();
    let i = env.deposit_ix(
        &delegate.kp.pubkey(),
        &owner.account,
        0,
        &delegate.wallet(&usdc),
        999,
    );
    env.send(&[i], &[&delegate.kp]).await.unwrap();
    assert_eq!(
        env.balance(&owner.account, 0).await,
        I80F48::from_i64(1_000)
    );
    let i = env.withdraw_ix(
        &delegate.kp.pubkey(),
        &owner.account,
        0,
        &delegate.wallet(&usdc),
        1_000,
        false,
    );
    assert_err(
        env.send(&[i], &[&delegate.kp]).await,
        CarryError::DelegateCannotWithdraw,
    );
    // not empty: cannot close
    let i = env.close_ix(&owner.kp.pubkey(), &owner.account);
    assert_err(
        env.send(&[i], &[&owner.kp]).await,
        CarryError::AccountNotEmpty,
    );
    env.withdraw(&owner, 0, 1_000, false).await.unwrap();
    assert_eq!(
        env.margin(&owner.account).await.tokens[0].in_use,
        0,
        "slot freed"
    );
    let rent = env.t.account(&owner.account).await.unwrap().lamports;
    let lamports_before = env.t.account(&owner.kp.pubkey()).await.unwrap().lamports;
    let i = env.close_ix(&owner.kp.pubkey(), &owner.account);
    env.send(&[i], &[&owner.kp]).await.unwrap();
    assert!(env.t.account(&owner.account).await.is_none());
    let lamports_after = env.t.account(&owner.kp.pubkey()).await.unwrap().lamports;
    assert_eq!(
        lamports_after,
        lamports_before + rent,
        "rent returned to the owner (payer paid fees)"
    );
}

#[tokio::test]
async fn eight_banks_and_eight_slots() {
    let mut env = MarginEnv::new().await;
    for i in 1..9 {
        env.add_bank(6, 100_000_000 * i, default_params()).await;
    }
    assert_eq!(env.exchange_state().await.bank_count, 9);
    let u = env.user(1_000_000).await;
    for b in 0..8 {
        env.deposit(&u, b, 1_000).await.unwrap();
    }
    assert_err(env.deposit(&u, 8, 1_000).await, CarryError::NoFreeTokenSlot);
    let (init, _) = env.health(&u.account).await.unwrap();
    // sum over banks 0..8 of 1000 native * price(i) * 0.8, price(0)=1, price(i)=i
    let want = 800.0 * (1.0 + (1..8).sum::<i64>() as f64);
    assert!((f(init) - want).abs() < 1e-6, "init {init} want {want}");
    env.withdraw(&u, 3, 600, false).await.unwrap();
    for b in 0..8 {
        env.check_conservation(b, &[u.account]).await;
    }
}

#[tokio::test]
async fn stable_price_values_assets_low_and_liabilities_high() {
    let mut env = MarginEnv::new().await;
    // stable moves <= 10%/h, counting at most 15 minutes per update
    let mut params = default_params();
    params.stable_max_step_secs = 900;
    let sol = env.add_bank(9, 150 * E8, params).await;
    let lender = env.user(1_000_000_000_000).await;
    let long = env.user(1_000_000_000_000).await; // SOL collateral, USDC debt
    let short = env.user(1_000_000_000_000).await; // USDC collateral, SOL debt
    env.deposit(&lender, 0, 100_000_000_000).await.unwrap();
    env.deposit(&lender, sol, 100_000_000_000).await.unwrap();
    env.deposit(&long, sol, 1_000_000_000).await.unwrap();
    env.withdraw(&long, 0, 50_000_000, true).await.unwrap();
    env.deposit(&short, 0, 1_000_000_000).await.unwrap();
    env.withdraw(&short, sol, 1_000_000_000, true)
        .await
        .unwrap();
    let (long0, _) = env.health(&long.account).await.unwrap();
    let (short0, _) = env.health(&short.account).await.unwrap();
    // long: 150 * 0.8 - 50 * 1.2 = 60 USDC; short: 1000 * 0.8 - 150 * 1.2 = 620 USDC
    assert!((f(long0) - 60e6).abs() < 2.0, "long {long0}");
    assert!((f(short0) - 620e6).abs() < 2.0, "short {short0}");

    // SOL doubles: the asset is still valued at the stable price, the liability at the oracle
    env.set_price(sol, 300 * E8).await;
    let (long1, _) = env.health(&long.account).await.unwrap();
    let (short1, _) = env.health(&short.account).await.unwrap();
    assert_eq!(long1, long0, "asset valued at min(oracle, stable)");
    assert!(
        (f(short1) - (800e6 - 300e6 * 1.2)).abs() < 2.0,
        "liability at max: {short1}"
    );
    // an hour of cranks every 15 minutes: the stable price has moved 10% toward the oracle
    // (each step 2.5% of its value then, so 1.025^4 in all)
    for _ in 0..4 {
        env.warp(900).await;
        env.set_price(sol, 300 * E8).await;
        env.accrue(sol).await.unwrap();
    }
    env.accrue(0).await.unwrap(); // so the stored debt below is the accrued one
    let stable = env.bank(sol).await.stable_price.get();
    // 150 USD per SOL = 0.15 USDC-native per lamport; +2.5% four times
    let want = 0.15 * 1.025f64.powi(4);
    assert!((f(stable) - want).abs() < 1e-9, "stable {stable}");
    let stable = f(stable);
    let (long2, _) = env.health(&long.account).await.unwrap();
    let debt = -f(env.balance(&long.account, 0).await);
    assert!(
        (f(long2) - (stable * 1e9 * 0.8 - debt * 1.2)).abs() < 2.0,
        "long {long2}"
    );
    // a crash applies at once to assets
    env.set_price(sol, 100 * E8).await;
    let (long3, _) = env.health(&long.account).await.unwrap();
    assert!(
        (f(long3) - (100e6 * 0.8 - debt * 1.2)).abs() < 2.0,
        "long {long3}"
    );
    // a withdrawal (banks passed writable) stores the advanced stable price too; half an hour
    // later it counts only the 15-minute step: 2.5% toward 0.10
    env.warp(1800).await;
    env.set_price(sol, 100 * E8).await;
    env.withdraw(&long, sol, 1, false).await.unwrap();
    let b = env.bank(sol).await;
    assert_eq!(b.stable_price_ts, env.now().await);
    assert!(
        (f(b.stable_price.get()) - stable * 0.975).abs() < 1e-9,
        "stable {}",
        f(b.stable_price.get())
    );
}

#[tokio::test]
async fn events_for_deposit_withdraw_borrow_repay_accrual() {
    use carry_margin::events::*;
    use carry_tests::events::{events, install};
    let mut env = MarginEnv::new().await;
    install();
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let u = env.user(1_000_000_000_000).await;
    let (acc, usdc_bank, sol_bank) = (u.account, env.banks[0].bank, env.banks[sol].bank);
    env.deposit(&lender, 0, 1_000_000_000).await.unwrap();
    env.deposit(&u, sol, 2_000_000_000).await.unwrap();
    let d: Vec<DepositEvent> = events()
        .into_iter()
        .filter(|e: &DepositEvent| e.account == acc)
        .collect();
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].bank, d[0].amount, d[0].non_lendable, d[0].signer),
        (sol_bank, 2_000_000_000, false, u.kp.pubkey())
    );
    // withdraw 10 USDC with nothing deposited: a pure borrow
    env.withdraw(&u, 0, 10_000_000, true).await.unwrap();
    let b: Vec<BorrowEvent> = events()
        .into_iter()
        .filter(|e: &BorrowEvent| e.account == acc)
        .collect();
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].bank, b[0].amount), (usdc_bank, 10_000_000));
    assert!(b[0].init_health_bits > 0);
    assert!(events::<WithdrawEvent>().iter().all(|e| e.account != acc));
    env.warp(86_400).await;
    // a deposit of 20 USDC: accrues (event), repays the debt rounded up, deposits the rest
    env.deposit(&u, 0, 20_000_000).await.unwrap();
    let a: Vec<InterestAccrualEvent> = events()
        .into_iter()
        .filter(|e: &InterestAccrualEvent| e.bank == usdc_bank)
        .collect();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].elapsed_secs, 86_400);
    assert!(a[0].borrow_interest_bits > 0 && a[0].reserve_bits > 0);
    let bank = env.bank(0).await;
    assert_eq!(a[0].borrow_index_bits, bank.borrow_index.get().to_bits());
    let rp: Vec<RepayEvent> = events()
        .into_iter()
        .filter(|e: &RepayEvent| e.account == acc)
        .collect();
    assert_eq!(rp.len(), 1);
    assert!(
        rp[0].closed && rp[0].amount > 10_000_000 && rp[0].amount < 10_010_000,
        "repaid {}",
        rp[0].amount
    );
    let d: Vec<DepositEvent> = events()
        .into_iter()
        .filter(|e: &DepositEvent| e.account == acc)
        .collect();
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].amount, 20_000_000 - rp[0].amount);
    // a withdrawal from the deposit
    env.withdraw(&u, 0, 1_000, false).await.unwrap();
    let w: Vec<WithdrawEvent> = events()
        .into_iter()
        .filter(|e: &WithdrawEvent| e.account == acc)
        .collect();
    assert_eq!((w.len(), w[0].amount, w[0].bank), (1, 1_000, usdc_bank));
    assert_eq!(
        events::<BorrowEvent>()
            .iter()
            .filter(|e| e.account == acc)
            .count(),
        1
    );
    // the crank emits an accrual event when time passed
    env.warp(60).await;
    env.accrue(0).await.unwrap();
    let n = events::<InterestAccrualEvent>()
        .iter()
        .filter(|e| e.bank == usdc_bank)
        .count();
    assert_eq!(n, 2);
    env.check_conservation(0, &[lender.account, u.account])
        .await;
}

#[tokio::test]
async fn crank_accrues_even_with_a_stale_oracle() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let borrower = env.user(1_000_000_000_000).await;
    env.deposit(&lender, 0, 1_000_000_000).await.unwrap();
    env.deposit(&borrower, sol, 10_000_000_000).await.unwrap();
    env.withdraw(&borrower, 0, 100_000_000, true).await.unwrap();
    let before = env.bank(0).await;
    // an hour passes, the USDC oracle is not republished (stale), SOL's moves to $200
    env.t.warp_seconds(3600).await;
    env.set_price(sol, 200 * E8).await;
    env.accrue(0).await.unwrap();
    env.accrue(sol).await.unwrap();
    let after = env.bank(0).await;
    assert!(
        after.borrow_index.get() > before.borrow_index.get(),
        "interest accrued"
    );
    assert_eq!(after.last_accrual_ts, before.last_accrual_ts + 3600);
    assert_eq!(
        after.stable_price.get(),
        before.stable_price.get(),
        "stale oracle: stable kept"
    );
    assert_eq!(after.stable_price_ts, before.stable_price_ts);
    let s = env.bank(sol).await;
    assert!(
        f(s.stable_price.get()) > 0.15 && f(s.stable_price.get()) < 0.2,
        "valid oracle: stable moved"
    );
    // a stale oracle blocks what needs health: the borrower cannot withdraw
    assert_err(
        env.withdraw(&borrower, sol, 1, false).await,
        CarryError::OracleStale,
    );
    env.refresh_oracles().await;
    env.withdraw(&borrower, sol, 1, false).await.unwrap();
    env.check_conservation(0, &[lender.account, borrower.account])
        .await;
}

#[tokio::test]
async fn deposit_with_oracle_touches_the_stable_price() {
    use solana_sdk::instruction::AccountMeta;
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let u = env.user(100_000_000_000).await;
    let sol_mint = env.banks[sol].mint;
    let oracle = env.banks[sol].oracle;
    env.warp(3600).await;
    env.set_price(sol, 300 * E8).await;
    let mut i = env.deposit_ix(&u.kp.pubkey(), &u.account, sol, &u.wallet(&sol_mint), 1_000);
    i.accounts.push(AccountMeta::new_readonly(oracle, false));
    env.send(&[i], &[&u.kp]).await.unwrap();
    let b = env.bank(sol).await;
    assert_eq!(b.stable_price_ts, env.now().await);
    // an hour passed, but one update counts at most 60 s: 10%/h * 60 s = 1/600 of the price
    assert!(
        (f(b.stable_price.get()) - 0.15 * (1.0 + 1.0 / 600.0)).abs() < 1e-9,
        "stable moved 60 s worth toward $300"
    );
    // a stale oracle never blocks a deposit; the stable price is then left alone
    env.t.warp_seconds(600).await;
    let mut i = env.deposit_ix(&u.kp.pubkey(), &u.account, sol, &u.wallet(&sol_mint), 1_000);
    i.accounts.push(AccountMeta::new_readonly(oracle, false));
    env.send(&[i], &[&u.kp]).await.unwrap();
    assert_eq!(env.bank(sol).await.stable_price_ts, b.stable_price_ts);
    // another bank's oracle is refused
    let mut i = env.deposit_ix(&u.kp.pubkey(), &u.account, sol, &u.wallet(&sol_mint), 1_000);
    i.accounts
        .push(AccountMeta::new_readonly(env.banks[0].oracle, false));
    assert_err(env.send(&[i], &[&u.kp]).await, CarryError::OracleMismatch);
}

#[tokio::test]
async fn close_forfeits_sub_unit_deposits() {
    use solana_sdk::instruction::AccountMeta;
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let borrower = env.user(1_000_000_000_000).await;
    let tiny = env.user(1_000_000).await;
    env.deposit(&lender, 0, 1_000_000_000).await.unwrap();
    env.deposit(&borrower, sol, 10_000_000_000).await.unwrap();
    env.withdraw(&borrower, 0, 900_000_000, true).await.unwrap();
    env.warp(365 * 86_400).await;
    env.accrue(0).await.unwrap();
    assert!(env.bank(0).await.deposit_index.get() > I80F48::ONE);
    // 1 native unit at a deposit index above 1 is worth less than 1: it cannot be withdrawn
    env.deposit(&tiny, 0, 1).await.unwrap();
    let v = env.balance(&tiny.account, 0).await;
    assert!(v < I80F48::ONE && v.is_positive(), "{v}");
    assert_err(
        env.withdraw(&tiny, 0, 1, false).await,
        CarryError::InsufficientBalance,
    );
    // closing without the bank is refused, with it the dust is forfeited to the bank
    let i = env.close_ix(&tiny.kp.pubkey(), &tiny.account);
    assert_err(
        env.send(&[i], &[&tiny.kp]).await,
        CarryError::HealthAccountsMismatch,
    );
    let before = env.bank(0).await;
    let mut i = env.close_ix(&tiny.kp.pubkey(), &tiny.account);
    i.accounts.push(AccountMeta::new(env.banks[0].bank, false));
    env.send(&[i], &[&tiny.kp]).await.unwrap();
    assert!(env.t.account(&tiny.account).await.is_none());
    let after = env.bank(0).await;
    assert!(after.indexed_deposits.get() < before.indexed_deposits.get());
    assert!(after.dust.get() > before.dust.get());
    env.check_conservation(0, &[lender.account, borrower.account])
        .await;
    // a whole unit is not dust: the lender cannot close
    let mut i = env.close_ix(&lender.kp.pubkey(), &lender.account);
    i.accounts.push(AccountMeta::new(env.banks[0].bank, false));
    assert_err(
        env.send(&[i], &[&lender.kp]).await,
        CarryError::AccountNotEmpty,
    );
}
