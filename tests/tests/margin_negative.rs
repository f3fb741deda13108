//! Every margin instruction refused for each way it can be wrong: the named error comes back
//! and the watched accounts (exchange, banks, vaults, margin accounts, wallets) are
//! byte-identical afterwards (data and lamports).

use anchor_lang::error::ErrorCode as AnchorError;
use carry_margin::error::CarryError;
use carry_margin::state::BankParams;
use carry_tests::margin::*;
use carry_tests::TxError;
use solana_sdk::instruction::Instruction;
use solana_sdk::instruction::InstructionError;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

struct Fx {
    env: MarginEnv,
    sol: usize,
    /// owns a margin account with 1000 USDC and 10 SOL deposited, borrows 100 USDC
    alice: User,
    /// stranger with its own account (empty) and wallets
    bob: User,
    /// alice's delegate
    carol: User,
    /// USDC liquidity
    lender: User,
    /// every account a refusal must leave untouched
    watched: Vec<Pubkey>,
}

async fn fixture() -> Fx {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let alice = env.user(100_000_000_000).await;
    let bob = env.user(100_000_000_000).await;
    let carol = env.user(100_000_000_000).await;
    let lender = env.user(100_000_000_000).await;
    env.deposit(&lender, 0, 50_000_000_000).await.unwrap();
    env.deposit(&alice, 0, 1_000_000_000).await.unwrap();
    env.deposit(&alice, sol, 10_000_000_000).await.unwrap();
    env.withdraw(&alice, 0, 1_100_000_000, true).await.unwrap(); // 100 USDC borrowed
    let i = env.set_delegate_ix(&alice.kp.pubkey(), &alice.account, &carol.kp.pubkey());
    env.send(&[i], &[&alice.kp]).await.unwrap();
    let mut watched = vec![
        env.exchange,
        env.insurance_vault,
        alice.account,
        bob.account,
        lender.account,
    ];
    for b in &env.banks {
        watched.extend([
            b.bank,
            b.vault,
            alice.wallet(&b.mint),
            bob.wallet(&b.mint),
            carol.wallet(&b.mint),
        ]);
    }
    Fx {
        env,
        sol,
        alice,
        bob,
        carol,
        lender,
        watched,
    }
}

/// Send, expect `code`, and check nothing watched changed.
async fn refused(fx: &mut Fx, ixs: &[Instruction], signers: &[&Keypair], code: u32) {
    refused_if(
        fx,
        ixs,
        signers,
        |e| e.custom_code() == Some(code),
        &format!("error {code}"),
    )
    .await
}

/// Send, expect an error `ok` accepts, and check nothing watched changed.
async fn refused_if(
    fx: &mut Fx,
    ixs: &[Instruction],
    signers: &[&Keypair],
    ok: impl Fn(&TxError) -> bool,
    what: &str,
) {
    let mut watched = fx.watched.clone();
    for ix in ixs {
        watched.extend(
            ix.accounts
                .iter()
                .filter(|m| m.is_writable)
                .map(|m| m.pubkey),
        );
    }
    watched.retain(|k| *k != fx.env.admin.pubkey()); // the fee payer pays for failures too
    watched.sort();
    watched.dedup();
    let before = fx.env.snapshot(&watched).await;
    match fx.env.send(ixs, signers).await {
        Ok(()) => panic!("expected {what}, got Ok"),
        Err(e) => assert!(ok(&e), "expected {what}, got {e:?}"),
    }
    let after = fx.env.snapshot(&watched).await;
    for (i, k) in watched.iter().enumerate() {
        assert!(
            before[i] == after[i],
            "account {k} changed by a refused instruction"
        );
    }
}

fn c(e: CarryError) -> u32 {
    code(e)
}
fn a(e: AnchorError) -> u32 {
    e.into()
}
/// Mark `key` as not signing in `ix` (to test signer checks without its signature).
fn unsigned(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        m.is_signer = false;
    }
    ix
}

/// A second exchange (number 1, same creator) with its own bank: for cross-exchange mix-ups.
async fn other_exchange(fx: &mut Fx) -> (Pubkey, BankInfo) {
    let env = &mut fx.env;
    let creator = env.admin.pubkey();
    let exchange = exchange_pda(&creator, 1);
    let usdc = env.banks[0].mint;
    let i = carry_sdk::margin::create_exchange(creator, usdc, 1);
    env.send(&[i], &[]).await.unwrap();
    let oracle = Pubkey::new_unique();
    let now = env.now().await;
    env.write_oracle(&oracle, 100_000_000, 0, now);
    let bank = bank_pda(&exchange, &usdc);
    let i = carry_sdk::margin::register_bank(
        creator,
        exchange,
        usdc,
        oracle,
        default_params(),
        carry_sdk::margin::pyth_v2(),
    );
    env.send(&[i], &[]).await.unwrap();
    let info = BankInfo {
        mint: usdc,
        bank,
        vault: vault_pda(&bank),
        oracle,
        decimals: 6,
        token_index: 0,
        price: 100_000_000,
        conf: 0,
        donated: 0,
        pull_feed: None,
    };
    fx.watched.extend([exchange, bank, info.vault]);
    (exchange, info)
}

#[tokio::test]
async fn admin_instructions() {
    let mut fx = fixture().await;
    let bob = fx.bob.kp.insecure_clone();
    let i = fx.env.set_paused_ix(&bob.pubkey(), true);
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotAdmin)).await;
    let i = fx.env.propose_admin_ix(&bob.pubkey(), &bob.pubkey());
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotAdmin)).await;
    // nobody proposed: accepting is refused
    let i = fx.env.accept_admin_ix(&bob.pubkey());
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotPendingAdmin)).await;
    let i = fx.env.edit_bank_ix(&bob.pubkey(), 0, default_params());
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotAdmin)).await;
    // two-step hand-over: proposing changes nothing yet, a stranger cannot accept, the
    // proposed key must sign
    let admin2 = Keypair::new();
    let i = fx
        .env
        .propose_admin_ix(&fx.env.admin.pubkey(), &admin2.pubkey());
    fx.env.send(&[i], &[]).await.unwrap();
    let ex = fx.env.exchange_state().await;
    assert_eq!(
        (ex.admin, ex.pending_admin),
        (fx.env.admin.pubkey(), admin2.pubkey())
    );
    let i = fx.env.set_paused_ix(&admin2.pubkey(), true);
    refused(&mut fx, &[i], &[&admin2], c(CarryError::NotAdmin)).await;
    let i = fx.env.accept_admin_ix(&bob.pubkey());
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotPendingAdmin)).await;
    let i = unsigned(fx.env.accept_admin_ix(&admin2.pubkey()), &admin2.pubkey());
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    let i = fx.env.accept_admin_ix(&admin2.pubkey());
    fx.env.send(&[i], &[&admin2]).await.unwrap();
    let ex = fx.env.exchange_state().await;
    assert_eq!(
        (ex.admin, ex.pending_admin),
        (admin2.pubkey(), Pubkey::default())
    );
    // a new admin that does not sign
    let i = unsigned(
        fx.env.set_paused_ix(&admin2.pubkey(), true),
        &admin2.pubkey(),
    );
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    // the old admin is no admin any more
    let i = fx.env.set_paused_ix(&fx.env.admin.pubkey(), true);
    refused(&mut fx, &[i], &[], c(CarryError::NotAdmin)).await;
    // edit_bank: invalid parameters, bank of another exchange
    let mut bad = default_params();
    bad.init_asset_weight_ppm = 950_000; // > maint asset weight
    let i = fx.env.edit_bank_ix(&admin2.pubkey(), 0, bad);
    refused(&mut fx, &[i], &[&admin2], c(CarryError::InvalidParameter)).await;
    let (_, other) = other_exchange(&mut fx).await;
    let mut i = fx.env.edit_bank_ix(&admin2.pubkey(), 0, default_params());
    i.accounts[2].pubkey = other.bank;
    refused(&mut fx, &[i], &[&admin2], c(CarryError::BankMismatch)).await;
    // the real admin can pause and unpause
    let i = fx.env.set_paused_ix(&admin2.pubkey(), true);
    fx.env.send(&[i], &[&admin2]).await.unwrap();
    assert_eq!(fx.env.exchange_state().await.paused, 1);
}

#[tokio::test]
async fn register_bank_refusals() {
    let mut fx = fixture().await;
    let mint = fx.env.t.create_mint(6).await;
    let bank = bank_pda(&fx.env.exchange, &mint);
    fx.watched.extend([bank, vault_pda(&bank)]);
    let oracle = Pubkey::new_unique();
    let now = fx.env.now().await;
    let admin = fx.env.admin.pubkey();
    let bob = fx.bob.kp.insecure_clone();
    fx.env.write_oracle(&oracle, 100_000_000, 0, now);
    let i = fx
        .env
        .register_bank_ix(&bob.pubkey(), &mint, &oracle, default_params());
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotAdmin)).await;
    let mut bad: BankParams = default_params();
    bad.oracle_max_conf_ppm = 0;
    let i = fx.env.register_bank_ix(&admin, &mint, &oracle, bad);
    refused(&mut fx, &[i], &[], c(CarryError::InvalidParameter)).await;
    let mut bad: BankParams = default_params();
    bad.reserve_factor_ppm = 1_000_001;
    let i = fx.env.register_bank_ix(&admin, &mint, &oracle, bad);
    refused(&mut fx, &[i], &[], c(CarryError::InvalidParameter)).await;
    for step in [0, 901] {
        // the stable price's step cap must be 1..=900 s
        let mut bad: BankParams = default_params();
        bad.stable_max_step_secs = step;
        let i = fx.env.register_bank_ix(&admin, &mint, &oracle, bad);
        refused(&mut fx, &[i], &[], c(CarryError::InvalidParameter)).await;
    }
    let mut bad: BankParams = default_params();
    bad.max_rate_ppm = 10_000_001; // above the 1000%/year cap
    let i = fx.env.register_bank_ix(&admin, &mint, &oracle, bad);
    refused(&mut fx, &[i], &[], c(CarryError::InvalidParameter)).await;
    // oracle config: a v2 account with a feed id, a pull oracle without one
    let i = carry_sdk::margin::register_bank(
        admin,
        fx.env.exchange,
        mint,
        oracle,
        default_params(),
        carry_sdk::margin::pyth_pull([0; 32]),
    );
    refused(&mut fx, &[i], &[], c(CarryError::InvalidParameter)).await;
    let mut v2_with_feed = carry_sdk::margin::pyth_v2();
    v2_with_feed.feed_id = [1; 32];
    let i = carry_sdk::margin::register_bank(
        admin,
        fx.env.exchange,
        mint,
        oracle,
        default_params(),
        v2_with_feed,
    );
    refused(&mut fx, &[i], &[], c(CarryError::InvalidParameter)).await;
    // a valid Pyth v2 price account owned by another program
    let data = carry_tests::pyth::price_account_bytes(100_000_000, 0, -8, now);
    fx.env.write_raw_oracle(&oracle, data, Pubkey::new_unique());
    let i = fx
        .env
        .register_bank_ix(&admin, &mint, &oracle, default_params());
    refused(&mut fx, &[i], &[], c(CarryError::OracleWrongOwner)).await;
    // stale oracle (61 s old, limit 60)
    fx.env.write_oracle(&oracle, 100_000_000, 0, now - 61);
    let i = fx
        .env
        .register_bank_ix(&admin, &mint, &oracle, default_params());
    refused(&mut fx, &[i], &[], c(CarryError::OracleStale)).await;
    // confidence 1.5% (limit 1%)
    fx.env.write_oracle(&oracle, 100_000_000, 1_500_000, now);
    let i = fx
        .env
        .register_bank_ix(&admin, &mint, &oracle, default_params());
    refused(&mut fx, &[i], &[], c(CarryError::OracleConfidence)).await;
    // negative price
    fx.env.write_oracle(&oracle, -5, 0, now);
    let i = fx
        .env
        .register_bank_ix(&admin, &mint, &oracle, default_params());
    refused(&mut fx, &[i], &[], c(CarryError::OracleNonPositive)).await;
    // not a Pyth account, though owned by the Pyth program
    let junk = solana_sdk::account::Account {
        lamports: 1_000_000,
        data: vec![7u8; 3312],
        owner: carry_margin::oracle::PYTH_V2_PROGRAM_IDS[0],
        executable: false,
        rent_epoch: 0,
    };
    fx.env.t.set_account(&oracle, &junk);
    let i = fx
        .env
        .register_bank_ix(&admin, &mint, &oracle, default_params());
    refused(&mut fx, &[i], &[], c(CarryError::OracleInvalid)).await;
    // a mint that already has a bank: the PDA exists (system program refuses to create it)
    let usdc = fx.env.banks[0].mint;
    let good = fx.env.banks[0].oracle;
    let i = fx
        .env
        .register_bank_ix(&admin, &usdc, &good, default_params());
    let before = fx.env.exchange_state().await.bank_count;
    assert!(fx.env.send(&[i], &[]).await.is_err());
    assert_eq!(fx.env.exchange_state().await.bank_count, before);
}

#[tokio::test]
async fn account_lifecycle_refusals() {
    let mut fx = fixture().await;
    let bob = fx.bob.kp.insecure_clone();
    let alice = fx.alice.kp.insecure_clone();
    let alice_acc = fx.alice.account;
    // close: not the owner, not empty, owner not signing
    let mut i = fx.env.close_ix(&bob.pubkey(), &alice_acc);
    refused(&mut fx, &[i.clone()], &[&bob], c(CarryError::NotOwner)).await;
    i = fx.env.close_ix(&alice.pubkey(), &alice_acc);
    refused(
        &mut fx,
        &[i.clone()],
        &[&alice],
        c(CarryError::AccountNotEmpty),
    )
    .await;
    // set_delegate: not the owner
    let i = fx
        .env
        .set_delegate_ix(&bob.pubkey(), &alice_acc, &bob.pubkey());
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotOwner)).await;
    let i = unsigned(
        fx.env
            .set_delegate_ix(&alice.pubkey(), &alice_acc, &bob.pubkey()),
        &alice.pubkey(),
    );
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    // set_token_lending: not the owner, wrong vault, borrowing the token
    let sol = fx.sol;
    let i = fx.env.lending_ix(&bob.pubkey(), &alice_acc, sol, false);
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotOwner)).await;
    let mut i = fx.env.lending_ix(&alice.pubkey(), &alice_acc, sol, false);
    i.accounts[4].pubkey = fx.env.banks[0].vault;
    refused(&mut fx, &[i], &[&alice], c(CarryError::VaultMismatch)).await;
    let i = fx.env.lending_ix(&alice.pubkey(), &alice_acc, 0, false);
    refused(&mut fx, &[i], &[&alice], c(CarryError::BorrowOutstanding)).await;
    // an account of another exchange's PDA cannot be created twice
    let i = fx.env.create_account_ix(&bob.pubkey(), 0);
    assert!(
        fx.env.send(&[i], &[&bob]).await.is_err(),
        "PDA already exists"
    );
    // paused exchange refuses create, close, set_delegate, set_token_lending
    let i = fx.env.set_paused_ix(&fx.env.admin.pubkey(), true);
    fx.env.send(&[i], &[]).await.unwrap();
    let i = fx.env.create_account_ix(&bob.pubkey(), 7);
    fx.watched
        .push(account_pda(&fx.env.exchange, &bob.pubkey(), 7));
    refused(&mut fx, &[i], &[&bob], c(CarryError::ExchangePaused)).await;
    let i = fx.env.close_ix(&bob.pubkey(), &fx.bob.account.clone());
    refused(&mut fx, &[i], &[&bob], c(CarryError::ExchangePaused)).await;
    let i = fx
        .env
        .set_delegate_ix(&alice.pubkey(), &alice_acc, &bob.pubkey());
    refused(&mut fx, &[i], &[&alice], c(CarryError::ExchangePaused)).await;
    let i = fx.env.lending_ix(&alice.pubkey(), &alice_acc, sol, false);
    refused(&mut fx, &[i], &[&alice], c(CarryError::ExchangePaused)).await;
    // the crank and the health view still work while paused
    fx.env.accrue(0).await.unwrap();
    fx.env.health(&alice_acc).await.unwrap();
}

#[tokio::test]
async fn deposit_refusals() {
    let mut fx = fixture().await;
    let sol = fx.sol;
    let alice = fx.alice.kp.insecure_clone();
    let bob = fx.bob.kp.insecure_clone();
    let acc = fx.alice.account;
    let usdc_mint = fx.env.banks[0].mint;
    let sol_mint = fx.env.banks[sol].mint;
    let w_usdc = fx.alice.wallet(&usdc_mint);
    let w_sol = fx.alice.wallet(&sol_mint);
    let dep = |env: &MarginEnv, signer: &Pubkey, from: &Pubkey, idx: usize, amount: u64| {
        env.deposit_ix(signer, &acc, idx, from, amount)
    };
    let i = dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 0);
    refused(&mut fx, &[i], &[&alice], c(CarryError::ZeroAmount)).await;
    // a stranger cannot deposit into alice's account (only owner or delegate)
    let i = dep(&fx.env, &bob.pubkey(), &fx.bob.wallet(&usdc_mint), 0, 10);
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotOwnerOrDelegate)).await;
    let i = unsigned(
        dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 10),
        &alice.pubkey(),
    );
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    // wrong vault, wrong mint, source wallet of another mint
    let mut i = dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 10);
    i.accounts[4].pubkey = fx.env.banks[sol].vault;
    refused(&mut fx, &[i], &[&alice], c(CarryError::VaultMismatch)).await;
    let mut i = dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 10);
    i.accounts[5].pubkey = sol_mint;
    refused(&mut fx, &[i], &[&alice], c(CarryError::MintMismatch)).await;
    let i = dep(&fx.env, &alice.pubkey(), &w_sol, 0, 10);
    refused(&mut fx, &[i], &[&alice], c(CarryError::MintMismatch)).await;
    let vault = fx.env.banks[0].vault;
    let i = dep(&fx.env, &alice.pubkey(), &vault, 0, 10);
    refused(&mut fx, &[i], &[&alice], c(CarryError::VaultMismatch)).await;
    // bank of another exchange
    let (_, other) = other_exchange(&mut fx).await;
    let mut i = dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 10);
    i.accounts[3].pubkey = other.bank;
    i.accounts[4].pubkey = other.vault;
    refused(&mut fx, &[i], &[&alice], c(CarryError::BankMismatch)).await;
    // deposit limit: SOL bank capped at 10.5 SOL, alice holds 10
    let mut p = default_params();
    p.deposit_limit = 10_500_000_000;
    let i = fx.env.edit_bank_ix(&fx.env.admin.pubkey(), sol, p);
    fx.env.send(&[i], &[]).await.unwrap();
    let i = dep(&fx.env, &alice.pubkey(), &w_sol, sol, 500_000_001);
    refused(
        &mut fx,
        &[i],
        &[&alice],
        c(CarryError::DepositLimitExceeded),
    )
    .await;
    let i = dep(&fx.env, &alice.pubkey(), &w_sol, sol, 500_000_000);
    fx.env.send(&[i], &[&alice]).await.unwrap();
    // overflowing amount: u64::MAX on top of a non-lendable balance overflows it
    let i = fx.env.lending_ix(&alice.pubkey(), &acc, sol, false);
    fx.env.send(&[i], &[&alice]).await.unwrap();
    let mut p = default_params();
    p.deposit_limit = u64::MAX;
    let i = fx.env.edit_bank_ix(&fx.env.admin.pubkey(), sol, p);
    fx.env.send(&[i], &[]).await.unwrap();
    let i = dep(&fx.env, &alice.pubkey(), &w_sol, sol, u64::MAX);
    refused(&mut fx, &[i], &[&alice], c(CarryError::MathOverflow)).await;
    // more than the wallet holds: SPL Token refuses (its error 1, insufficient funds)
    let i = dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 1_000_000_000_000);
    refused(&mut fx, &[i], &[&alice], 1).await;
    // paused
    let i = fx.env.set_paused_ix(&fx.env.admin.pubkey(), true);
    fx.env.send(&[i], &[]).await.unwrap();
    let i = dep(&fx.env, &alice.pubkey(), &w_usdc, 0, 10);
    refused(&mut fx, &[i], &[&alice], c(CarryError::ExchangePaused)).await;
    let _ = &fx.carol;
    let _ = &fx.lender;
}

#[tokio::test]
async fn withdraw_refusals() {
    let mut fx = fixture().await;
    let sol = fx.sol;
    let alice = fx.alice.kp.insecure_clone();
    let bob = fx.bob.kp.insecure_clone();
    let carol = fx.carol.kp.insecure_clone();
    let acc = fx.alice.account;
    let usdc_mint = fx.env.banks[0].mint;
    let sol_mint = fx.env.banks[sol].mint;
    let w_usdc = fx.alice.wallet(&usdc_mint);
    let w_sol = fx.alice.wallet(&sol_mint);
    let wd =
        |env: &MarginEnv, signer: &Pubkey, to: &Pubkey, idx: usize, amount: u64, borrow: bool| {
            env.withdraw_ix(signer, &acc, idx, to, amount, borrow)
        };
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 0, true);
    refused(&mut fx, &[i], &[&alice], c(CarryError::ZeroAmount)).await;
    // the delegate may never withdraw, not even to the owner's wallet
    let i = wd(&fx.env, &carol.pubkey(), &w_usdc, 0, 10, false);
    refused(
        &mut fx,
        &[i],
        &[&carol],
        c(CarryError::DelegateCannotWithdraw),
    )
    .await;
    let i = wd(
        &fx.env,
        &bob.pubkey(),
        &fx.bob.wallet(&usdc_mint),
        sol,
        10,
        false,
    );
    refused(&mut fx, &[i], &[&bob], c(CarryError::NotOwner)).await;
    let i = unsigned(
        wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false),
        &alice.pubkey(),
    );
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    // wrong vault / mint / destination mint
    let mut i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    i.accounts[4].pubkey = fx.env.banks[0].vault;
    refused(&mut fx, &[i], &[&alice], c(CarryError::VaultMismatch)).await;
    let mut i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    i.accounts[5].pubkey = usdc_mint;
    refused(&mut fx, &[i], &[&alice], c(CarryError::MintMismatch)).await;
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, sol, 10, false);
    refused(&mut fx, &[i], &[&alice], c(CarryError::MintMismatch)).await;
    // the vault itself as destination would book a withdrawal while the tokens stay
    let vault = fx.env.banks[sol].vault;
    let i = wd(&fx.env, &alice.pubkey(), &vault, sol, 10, false);
    refused(&mut fx, &[i], &[&alice], c(CarryError::VaultMismatch)).await;
    // health accounts: missing one, wrong oracle for a bank, odd count
    let mut i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    i.accounts.truncate(i.accounts.len() - 2);
    refused(
        &mut fx,
        &[i],
        &[&alice],
        c(CarryError::HealthAccountsMismatch),
    )
    .await;
    let mut i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    let n = i.accounts.len();
    i.accounts[n - 1].pubkey = fx.env.banks[0].oracle;
    refused(&mut fx, &[i], &[&alice], c(CarryError::OracleMismatch)).await;
    let mut i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    i.accounts.pop();
    refused(
        &mut fx,
        &[i],
        &[&alice],
        c(CarryError::HealthAccountsMismatch),
    )
    .await;
    let mut i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    let n = i.accounts.len();
    i.accounts[n - 2].pubkey = alice.pubkey(); // not a bank
    refused(
        &mut fx,
        &[i],
        &[&alice],
        c(CarryError::HealthAccountsMismatch),
    )
    .await;
    // stale and uncertain oracle of a balance the account holds
    let now = fx.env.now().await;
    let sol_oracle = fx.env.banks[sol].oracle;
    fx.env.write_oracle(&sol_oracle, 150 * E8, 0, now - 61);
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 10, true);
    refused(&mut fx, &[i], &[&alice], c(CarryError::OracleStale)).await;
    fx.env
        .write_oracle(&sol_oracle, 150 * E8, 2 * E8 as u64, now);
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 10, true);
    refused(&mut fx, &[i], &[&alice], c(CarryError::OracleConfidence)).await;
    fx.env.refresh_oracles().await;
    // amounts: past the balance without borrowing, past health, u64::MAX, net-borrow limit
    let i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10_000_000_001, false);
    refused(&mut fx, &[i], &[&alice], c(CarryError::InsufficientBalance)).await;
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 1_000_000_000, true);
    refused(&mut fx, &[i], &[&alice], c(CarryError::HealthBelowZero)).await;
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, u64::MAX, true);
    refused(
        &mut fx,
        &[i],
        &[&alice],
        c(CarryError::InsufficientVaultCash),
    )
    .await;
    let mut p = default_params();
    p.net_borrow_limit = 150_000_000; // 100 already out
    let i = fx.env.edit_bank_ix(&fx.env.admin.pubkey(), 0, p);
    fx.env.send(&[i], &[]).await.unwrap();
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 50_000_001, true);
    refused(
        &mut fx,
        &[i],
        &[&alice],
        c(CarryError::NetBorrowLimitExceeded),
    )
    .await;
    let i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 49_000_000, true);
    fx.env.send(&[i], &[&alice]).await.unwrap();
    // bank of another exchange
    let (_, other) = other_exchange(&mut fx).await;
    let mut i = wd(&fx.env, &alice.pubkey(), &w_usdc, 0, 10, true);
    i.accounts[3].pubkey = other.bank;
    i.accounts[4].pubkey = other.vault;
    refused(&mut fx, &[i], &[&alice], c(CarryError::BankMismatch)).await;
    // paused
    let i = fx.env.set_paused_ix(&fx.env.admin.pubkey(), true);
    fx.env.send(&[i], &[]).await.unwrap();
    let i = wd(&fx.env, &alice.pubkey(), &w_sol, sol, 10, false);
    refused(&mut fx, &[i], &[&alice], c(CarryError::ExchangePaused)).await;
}

#[tokio::test]
async fn crank_health_and_sweep_refusals() {
    let mut fx = fixture().await;
    let sol = fx.sol;
    let acc = fx.alice.account;
    // accrue_interest: wrong oracle, bank of another exchange
    let mut i = fx.env.accrue_ix(0);
    i.accounts[2].pubkey = fx.env.banks[sol].oracle;
    refused(&mut fx, &[i], &[], c(CarryError::OracleMismatch)).await;
    let (other_ex, other) = other_exchange(&mut fx).await;
    let mut i = fx.env.accrue_ix(0);
    i.accounts[1].pubkey = other.bank;
    i.accounts[2].pubkey = other.oracle;
    refused(&mut fx, &[i], &[], c(CarryError::BankMismatch)).await;
    // compute_health: missing pairs, stale oracle, account of another exchange
    let i = fx.env.health_ix(&acc, vec![]);
    refused(&mut fx, &[i], &[], c(CarryError::HealthAccountsMismatch)).await;
    let now = fx.env.now().await;
    let o = fx.env.banks[0].oracle;
    fx.env.write_oracle(&o, 100_000_000, 0, now - 600);
    let i = fx.env.health_ix(&acc, fx.env.all_health_metas());
    refused(&mut fx, &[i], &[], c(CarryError::OracleStale)).await;
    fx.env.refresh_oracles().await;
    let mut i = fx.env.health_ix(&acc, fx.env.all_health_metas());
    i.accounts[0].pubkey = other_ex;
    refused(&mut fx, &[i], &[], c(CarryError::ExchangeMismatch)).await;
    // sweep: wrong insurance vault, non-settlement bank
    let mut i = fx.env.sweep_ix();
    i.accounts[4].pubkey = fx.env.banks[sol].vault;
    refused(&mut fx, &[i], &[], c(CarryError::InsuranceVaultMismatch)).await;
    let i = fx.env.sweep_ix_for(sol);
    refused(&mut fx, &[i], &[], c(CarryError::NotSettlementBank)).await;
}

#[tokio::test]
async fn create_exchange_and_account_refusals() {
    let mut fx = fixture().await;
    let bob = fx.bob.kp.insecure_clone();
    let usdc = fx.env.banks[0].mint;
    let create = |creator: Pubkey, num: u32, mint: Pubkey| {
        carry_sdk::margin::create_exchange(creator, mint, num)
    };
    let bob_ex = exchange_pda(&bob.pubkey(), 3);
    fx.watched.push(bob_ex);
    // creator not signing
    let i = unsigned(create(bob.pubkey(), 3, usdc), &bob.pubkey());
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    // exchange account that is not the PDA of (creator, number)
    let mut i = create(bob.pubkey(), 3, usdc);
    i.accounts[1].pubkey = exchange_pda(&bob.pubkey(), 4);
    refused(&mut fx, &[i], &[&bob], a(AnchorError::ConstraintSeeds)).await;
    // insurance vault that is not the exchange's PDA
    let mut i = create(bob.pubkey(), 3, usdc);
    i.accounts[3].pubkey = insurance_vault_pda(&bob.pubkey());
    refused(&mut fx, &[i], &[&bob], a(AnchorError::ConstraintSeeds)).await;
    // settlement "mint" that is a token account
    let not_mint = fx.bob.wallet(&usdc);
    let i = create(bob.pubkey(), 3, not_mint);
    let bad_data =
        |e: &TxError| e.instruction_error() == Some(InstructionError::InvalidAccountData);
    refused_if(&mut fx, &[i], &[&bob], bad_data, "InvalidAccountData").await;
    // the same exchange twice: the system program refuses to create the PDA again
    let i = create(fx.env.admin.pubkey(), 0, usdc);
    let before = fx.env.snapshot(&[fx.env.exchange]).await;
    assert!(fx.env.send(&[i], &[]).await.is_err());
    assert_eq!(fx.env.snapshot(&[fx.env.exchange]).await, before);
    // margin account: owner not signing, address not the PDA of (exchange, owner, number)
    let acc = account_pda(&fx.env.exchange, &bob.pubkey(), 5);
    fx.watched.push(acc);
    let i = unsigned(fx.env.create_account_ix(&bob.pubkey(), 5), &bob.pubkey());
    refused(&mut fx, &[i], &[], a(AnchorError::AccountNotSigner)).await;
    let mut i = fx.env.create_account_ix(&bob.pubkey(), 5);
    i.accounts[2].pubkey = account_pda(&fx.env.exchange, &bob.pubkey(), 6);
    refused(&mut fx, &[i], &[&bob], a(AnchorError::ConstraintSeeds)).await;
    // the real thing works
    let i = create(bob.pubkey(), 3, usdc);
    fx.env.send(&[i], &[&bob]).await.unwrap();
}
