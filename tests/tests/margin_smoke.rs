//! Smoke: an exchange with two banks, a deposit, a borrow against it, health.

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
                                                             // right at init health 0 fixed-point rounding refuses; $99 leaves 1.2 USDC of init health
    env.withdraw(&trader, 0, 99_000_000, true).await.unwrap();
    let (init, maint) = env.health(&trader.account).await.unwrap();
    // init = 150e6 * 0.8 - 100e6 * 1.2 = 0
    // init = 150e6 * 0.8 - 99e6 * 1.2 = 1.2e6
    assert!(
        (init.to_bits() - carry_math::I80F48::from_i64(1_200_000).to_bits()).abs() < 1 << 40,
        "init {init}"
    );
    assert!(maint > init);
    let before = env
        .t
        .token_balance(&trader.wallet(&env.banks[0].mint))
        .await;
    assert_eq!(before, 1_000_000_000_000 + 99_000_000);
    let _ = trader.kp.pubkey();
    env.check_conservation(0, &[lender.account, trader.account])
        .await;
    env.check_conservation(sol, &[lender.account, trader.account])
        .await;
}
