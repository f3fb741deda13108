//! Smoke: an exchange with two banks, a deposit, a borrow against it, health; account sizes
//! and rents as documented in programs/margin/README.md.

use carry_margin::state::{BANK_SIZE, EXCHANGE_SIZE, MARGIN_ACCOUNT_SIZE};
use carry_math::I80F48;
use carry_tests::margin::*;
use solana_sdk::signature::Signer;

#[tokio::test]
async fn deposit_borrow_health() {
    let mut env = MarginEnv::new().await;
    let sol = env.add_bank(9, 150 * E8, default_params()).await;
    let lender = env.user(1_000_000_000_000).await;
    let trader = env.user(1_000_000_000_000).await;
    env.deposit(&lender, 0, 1_000_000_000).await.unwrap();
    env.deposit(&trader, sol, 1_000_000_000).await.unwrap(); // 1 SOL = $150
                                                             // init health allows $100 (150 * 0.8 / 1.2); exactly 100 is refused by the fixed-point
                                                             // rounding (weights in ppm round down); $99 leaves 1.2 USDC of init health
    env.withdraw(&trader, 0, 99_000_000, true).await.unwrap();
    let (init, maint) = env.health(&trader.account).await.unwrap();
    let want = I80F48::from_i64(1_200_000);
    assert!(
        (init.to_bits() - want.to_bits()).abs() < 1 << 40,
        "init {init}"
    );
    assert!(maint > init);
    let usdc = env.banks[0].mint;
    let wallet = env.t.token_balance(&trader.wallet(&usdc)).await;
    assert_eq!(wallet, 1_000_000_000_000 + 99_000_000);
    // the harness's logs carry the program's events as `Program data:` lines, as a cluster's
    let usdc_wallet = trader.wallet(&usdc);
    let i = env.deposit_ix(&trader.kp.pubkey(), &trader.account, 0, &usdc_wallet, 1_000);
    let out = env.t.execute(&[i], &[&trader.kp]).await.unwrap();
    let data: Vec<&String> = out
        .logs
        .iter()
        .filter(|l| l.starts_with("Program data: "))
        .collect();
    assert_eq!(data.len(), 1, "one RepayEvent: {:?}", out.logs);
    let accounts = [lender.account, trader.account];
    env.check_conservation(0, &accounts).await;
    env.check_conservation(sol, &accounts).await;

    let (ex, bank) = (env.exchange, env.banks[0].bank);
    assert_eq!(env.t.data(&ex).await.len(), 8 + EXCHANGE_SIZE);
    assert_eq!(env.t.data(&bank).await.len(), 8 + BANK_SIZE);
    assert_eq!(
        env.t.data(&trader.account).await.len(),
        8 + MARGIN_ACCOUNT_SIZE
    );
    assert_eq!(
        (EXCHANGE_SIZE, BANK_SIZE, MARGIN_ACCOUNT_SIZE),
        (272, 608, 5480)
    );
    let rent = env.t.context.banks_client.get_rent().await.unwrap();
    assert_eq!(rent.minimum_balance(8 + EXCHANGE_SIZE), 2_839_680);
    assert_eq!(rent.minimum_balance(8 + BANK_SIZE), 5_178_240);
    assert_eq!(rent.minimum_balance(8 + MARGIN_ACCOUNT_SIZE), 39_087_360);
}
