//! Helpers for the margin program's integration tests (`tests/tests/margin_*.rs`): an exchange
//! with banks and Pyth oracles, users with wallets and margin accounts, and the conservation
//! check. PDAs, instructions and account decoding come from the SDK (`carry_sdk::margin`); the
//! `*_ix` methods only fill in the keys of this environment.

use std::collections::HashMap;

use carry_margin::state::{
    Bank, BankParams, Exchange, MarginAccount, PerpBook, PerpMarket, PerpMarketParams,
    PerpMarketSetup, PerpPosition,
};
use carry_math::bank_math::position_native;
use carry_math::I80F48;
use carry_sdk::margin as sdk;
use solana_sdk::account::Account;
use solana_sdk::instruction::{AccountMeta, Instruction};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use crate::pyth::{price_account_bytes, price_update_v2_bytes};
use crate::{TestContext, TxError};
use carry_margin::oracle::{PYTH_RECEIVER_PROGRAM_ID, PYTH_V2_PROGRAM_IDS};

/// PDAs of the SDK (seeds are the program's constants).
pub use carry_sdk::margin::{bank_pda, exchange_pda, insurance_vault_pda, vault_pda};

/// 10^8: oracle prices in the tests use exponent -8 (`150 * E8` = $150).
pub const E8: i64 = 100_000_000;

/// Decimals of the settlement token.
pub const USDC_DECIMALS: u8 = 6;

/// One registered bank and what tests need to drive it.
#[derive(Clone, Debug)]
pub struct BankInfo {
    /// Token mint.
    pub mint: Pubkey,
    /// Bank PDA.
    pub bank: Pubkey,
    /// Vault PDA.
    pub vault: Pubkey,
    /// Oracle account key.
    pub oracle: Pubkey,
    /// Mint decimals.
    pub decimals: u8,
    /// Token index.
    pub token_index: u16,
    /// Last oracle mantissa written (expo -8).
    pub price: i64,
    /// Last oracle confidence written.
    pub conf: u64,
    /// Tokens sent to the vault directly (not deposits): surplus the bank must never lend.
    pub donated: u64,
    /// Feed id when the oracle is a Pyth pull `PriceUpdateV2` account; `None` for Pyth v2.
    pub pull_feed: Option<[u8; 32]>,
}

/// One perp market created by [`MarginEnv::add_perp_market`].
#[derive(Clone, Debug)]
pub struct PerpInfo {
    /// Perp market PDA.
    pub market: Pubkey,
    /// Its book account (a keypair account owned by the margin program).
    pub book: Pubkey,
    /// Oracle account key.
    pub oracle: Pubkey,
    /// Market index.
    pub market_index: u16,
    /// Last oracle mantissa written (expo -8, USD per whole base).
    pub price: i64,
    /// Last oracle confidence written.
    pub conf: u64,
    /// Feed id when the oracle is a Pyth pull `PriceUpdateV2` account; `None` for Pyth v2.
    pub pull_feed: Option<[u8; 32]>,
    /// The setup it was created with.
    pub setup: PerpMarketSetup,
}

/// A trader: wallet keypair, margin account, one token account per mint.
pub struct User {
    /// Wallet.
    pub kp: Keypair,
    /// Margin account PDA (account number 0).
    pub account: Pubkey,
    /// Token accounts by mint.
    pub wallets: HashMap<Pubkey, Pubkey>,
}

impl User {
    /// The user's token account of `mint`.
    pub fn wallet(&self, mint: &Pubkey) -> Pubkey {
        self.wallets[mint]
    }
}

/// The SDK's example perp setup with a small book (64 orders per side, 32 events), so that
/// tests snapshot small accounts.
pub fn small_perp_setup() -> PerpMarketSetup {
    PerpMarketSetup {
        order_capacity: 64,
        event_capacity: 32,
        ..sdk::example_perp_market_setup()
    }
}

/// Default bank parameters of the tests: the SDK's example (see its doc for the values).
pub fn default_params() -> BankParams {
    carry_sdk::margin::example_bank_params()
}

/// An exchange under test.
pub struct MarginEnv {
    /// The shared harness.
    pub t: TestContext,
    /// Exchange admin (the payer).
    pub admin: Keypair,
    /// Exchange PDA.
    pub exchange: Pubkey,
    /// Insurance vault PDA.
    pub insurance_vault: Pubkey,
    /// Registered banks, by token index.
    pub banks: Vec<BankInfo>,
    /// Perp markets, by market index.
    pub perps: Vec<PerpInfo>,
}

/// Margin account PDA (`carry_sdk::margin::margin_account_pda`).
pub fn account_pda(exchange: &Pubkey, owner: &Pubkey, num: u32) -> Pubkey {
    sdk::margin_account_pda(exchange, owner, num)
}

/// Anchor error code of a margin error.
pub fn code(e: carry_margin::error::CarryError) -> u32 {
    e.into()
}

impl MarginEnv {
    /// Harness + exchange (number 0, admin = payer) with a USDC bank (token index 0, $1).
    pub async fn new() -> MarginEnv {
        let mut t = TestContext::new().await;
        let admin = t.payer();
        let usdc = t.create_mint(USDC_DECIMALS).await;
        let exchange = exchange_pda(&admin.pubkey(), 0);
        let insurance_vault = insurance_vault_pda(&exchange);
        let i = sdk::create_exchange(admin.pubkey(), usdc, 0);
        t.send(&[i], &[]).await.expect("create exchange");
        let mut env = MarginEnv {
            t,
            admin,
            exchange,
            insurance_vault,
            banks: vec![],
            perps: vec![],
        };
        env.add_bank_with_mint(usdc, USDC_DECIMALS, 100_000_000, default_params())
            .await;
        env
    }

    /// Current unix time of the test clock.
    pub async fn now(&mut self) -> i64 {
        self.t.clock().await.unix_timestamp
    }

    /// Write a bank's oracle: `price * 1e-8` USD per whole token, confidence `conf`,
    /// published at `publish_time`.
    pub fn write_oracle(&mut self, oracle: &Pubkey, price: i64, conf: u64, publish_time: i64) {
        let data = price_account_bytes(price, conf, -8, publish_time);
        self.write_raw_oracle(oracle, data, PYTH_V2_PROGRAM_IDS[0]);
    }

    /// Write any oracle account bytes with `owner`.
    pub fn write_raw_oracle(&mut self, oracle: &Pubkey, data: Vec<u8>, owner: Pubkey) {
        let acc = Account {
            lamports: 1_000_000_000,
            data,
            owner,
            executable: false,
            rent_epoch: 0,
        };
        self.t.set_account(oracle, &acc);
    }

    /// Send `amount` tokens straight into bank `idx`'s vault (an SPL transfer anyone can
    /// make, not a deposit): surplus that the bank must never lend.
    pub async fn donate(&mut self, idx: usize, amount: u64) {
        let (mint, vault) = (self.banks[idx].mint, self.banks[idx].vault);
        self.t.mint_to(&mint, &vault, amount).await;
        self.banks[idx].donated += amount;
    }

    /// Write a Pyth pull `PriceUpdateV2` account for `feed` (owned by the Pyth receiver):
    /// `price * 1e-8` USD, confidence `conf`, published at `publish_time`, fully verified when
    /// `full`.
    pub fn write_pull_oracle(
        &mut self,
        oracle: &Pubkey,
        feed: [u8; 32],
        price: i64,
        conf: u64,
        publish_time: i64,
        full: bool,
    ) {
        let data = price_update_v2_bytes(feed, price, conf, -8, publish_time, full);
        self.write_raw_oracle(oracle, data, PYTH_RECEIVER_PROGRAM_ID);
    }

    /// Write bank `b`'s oracle in its own format.
    fn write_bank_oracle(&mut self, b: &BankInfo, publish_time: i64) {
        match b.pull_feed {
            None => self.write_oracle(&b.oracle, b.price, b.conf, publish_time),
            Some(feed) => {
                self.write_pull_oracle(&b.oracle, feed, b.price, b.conf, publish_time, true)
            }
        }
    }

    /// Set the price of bank `idx` (published now).
    pub async fn set_price(&mut self, idx: usize, price: i64) {
        let now = self.now().await;
        self.banks[idx].price = price;
        let b = self.banks[idx].clone();
        self.write_bank_oracle(&b, now);
    }

    /// Re-publish every oracle (banks' and perp markets') at the current time (after a clock
    /// warp).
    pub async fn refresh_oracles(&mut self) {
        let now = self.now().await;
        for b in self.banks.clone() {
            self.write_bank_oracle(&b, now);
        }
        for p in self.perps.clone() {
            self.write_perp_oracle(&p, now);
        }
    }

    /// Warp the clock and refresh the oracles.
    pub async fn warp(&mut self, secs: i64) {
        self.t.warp_seconds(secs).await;
        self.refresh_oracles().await;
    }

    /// Send through the harness.
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), TxError> {
        self.t.send(ixs, signers).await
    }

    /// Instruction registering a bank for `mint` with `oracle`.
    pub fn register_bank_ix(
        &self,
        admin: &Pubkey,
        mint: &Pubkey,
        oracle: &Pubkey,
        params: BankParams,
    ) -> Instruction {
        sdk::register_bank(
            *admin,
            self.exchange,
            *mint,
            *oracle,
            params,
            sdk::pyth_v2(),
        )
    }

    /// Register a bank for an existing mint; Pyth v2 oracle at `price` (expo -8), conf 0.
    pub async fn add_bank_with_mint(
        &mut self,
        mint: Pubkey,
        decimals: u8,
        price: i64,
        params: BankParams,
    ) -> usize {
        self.add_bank_with_oracle(mint, decimals, price, params, None)
            .await
    }

    /// New mint + bank whose oracle is a Pyth pull `PriceUpdateV2` account of `feed`.
    pub async fn add_pull_bank(
        &mut self,
        decimals: u8,
        price: i64,
        params: BankParams,
        feed: [u8; 32],
    ) -> usize {
        let mint = self.t.create_mint(decimals).await;
        self.add_bank_with_oracle(mint, decimals, price, params, Some(feed))
            .await
    }

    /// Register a bank for `mint`: a Pyth v2 oracle (`pull_feed` `None`) or a pull oracle of
    /// that feed, at `price` (expo -8), conf 0, published now.
    pub async fn add_bank_with_oracle(
        &mut self,
        mint: Pubkey,
        decimals: u8,
        price: i64,
        params: BankParams,
        pull_feed: Option<[u8; 32]>,
    ) -> usize {
        let oracle = Pubkey::new_unique();
        let now = self.now().await;
        let config = match pull_feed {
            None => {
                self.write_oracle(&oracle, price, 0, now);
                sdk::pyth_v2()
            }
            Some(feed) => {
                self.write_pull_oracle(&oracle, feed, price, 0, now, true);
                sdk::pyth_pull(feed)
            }
        };
        let i = sdk::register_bank(
            self.admin.pubkey(),
            self.exchange,
            mint,
            oracle,
            params,
            config,
        );
        self.send(&[i], &[]).await.expect("register bank");
        let bank = bank_pda(&self.exchange, &mint);
        let token_index = self.banks.len() as u16;
        self.banks.push(BankInfo {
            mint,
            bank,
            vault: vault_pda(&bank),
            oracle,
            decimals,
            token_index,
            price,
            conf: 0,
            donated: 0,
            pull_feed,
        });
        self.banks.len() - 1
    }

    /// New mint + bank.
    pub async fn add_bank(&mut self, decimals: u8, price: i64, params: BankParams) -> usize {
        let mint = self.t.create_mint(decimals).await;
        self.add_bank_with_mint(mint, decimals, price, params).await
    }

    /// A user with SOL, a margin account (number 0) and a wallet per bank holding `fund`
    /// native units of every bank's token.
    pub async fn user(&mut self, fund: u64) -> User {
        let kp = self.t.funded_keypair(10_000_000_000).await;
        let mut wallets = HashMap::new();
        for b in self.banks.clone() {
            let w = self.t.create_token_account(&b.mint, &kp.pubkey()).await;
            if fund > 0 {
                self.t.mint_to(&b.mint, &w, fund).await;
            }
            wallets.insert(b.mint, w);
        }
        let account = account_pda(&self.exchange, &kp.pubkey(), 0);
        let i = self.create_account_ix(&kp.pubkey(), 0);
        self.send(&[i], &[&kp])
            .await
            .expect("create margin account");
        User {
            kp,
            account,
            wallets,
        }
    }

    /// Instruction creating margin account `num` for `owner`.
    pub fn create_account_ix(&self, owner: &Pubkey, num: u32) -> Instruction {
        sdk::create_margin_account(*owner, self.exchange, num)
    }

    /// Deposit instruction (signer may be owner or delegate; `from` is the source wallet).
    pub fn deposit_ix(
        &self,
        signer: &Pubkey,
        account: &Pubkey,
        idx: usize,
        from: &Pubkey,
        amount: u64,
    ) -> Instruction {
        let b = &self.banks[idx];
        sdk::deposit(
            *signer,
            self.exchange,
            *account,
            b.bank,
            b.vault,
            b.mint,
            *from,
            amount,
            None,
        )
    }

    /// `(bank, oracle)` pairs of every bank of the exchange (a superset of any account's
    /// slots; extra pairs are ignored by the program).
    pub fn all_health_pairs(&self) -> Vec<(Pubkey, Pubkey)> {
        self.banks.iter().map(|b| (b.bank, b.oracle)).collect()
    }

    /// Metas of [`Self::all_health_pairs`] (`carry_sdk::margin::health_accounts`), banks
    /// writable.
    pub fn all_health_metas(&self) -> Vec<AccountMeta> {
        sdk::health_accounts(&self.all_health_pairs(), true)
    }

    /// Withdraw instruction with every bank as health accounts.
    pub fn withdraw_ix(
        &self,
        owner: &Pubkey,
        account: &Pubkey,
        idx: usize,
        to: &Pubkey,
        amount: u64,
        allow_borrow: bool,
    ) -> Instruction {
        let b = &self.banks[idx];
        sdk::withdraw(
            *owner,
            self.exchange,
            *account,
            b.bank,
            b.vault,
            b.mint,
            *to,
            amount,
            allow_borrow,
            &self.all_health_pairs(),
        )
    }

    /// Accrue-interest crank instruction.
    pub fn accrue_ix(&self, idx: usize) -> Instruction {
        let b = &self.banks[idx];
        sdk::accrue_interest(self.exchange, b.bank, b.oracle)
    }

    /// Set-token-lending instruction.
    pub fn lending_ix(
        &self,
        owner: &Pubkey,
        account: &Pubkey,
        idx: usize,
        lend: bool,
    ) -> Instruction {
        let b = &self.banks[idx];
        sdk::set_token_lending(*owner, self.exchange, *account, b.bank, b.vault, lend, None)
    }

    /// Sweep-reserve instruction for the settlement bank.
    pub fn sweep_ix(&self) -> Instruction {
        self.sweep_ix_for(0)
    }

    /// Sweep-reserve instruction naming bank `idx`.
    pub fn sweep_ix_for(&self, idx: usize) -> Instruction {
        let b = &self.banks[idx];
        sdk::sweep_reserve(self.exchange, b.bank, b.vault, b.mint, self.insurance_vault)
    }

    /// Set-delegate instruction.
    pub fn set_delegate_ix(
        &self,
        owner: &Pubkey,
        account: &Pubkey,
        delegate: &Pubkey,
    ) -> Instruction {
        sdk::set_delegate(*owner, self.exchange, *account, *delegate)
    }

    /// Close-account instruction.
    pub fn close_ix(&self, owner: &Pubkey, account: &Pubkey) -> Instruction {
        sdk::close_margin_account(*owner, self.exchange, *account, &[])
    }

    /// Pause-switch instruction signed by `admin`.
    pub fn set_paused_ix(&self, admin: &Pubkey, paused: bool) -> Instruction {
        sdk::set_paused(*admin, self.exchange, paused)
    }

    /// Propose-admin instruction signed by `admin`.
    pub fn propose_admin_ix(&self, admin: &Pubkey, new_admin: &Pubkey) -> Instruction {
        sdk::propose_admin(*admin, self.exchange, *new_admin)
    }

    /// Accept-admin instruction signed by `new_admin`.
    pub fn accept_admin_ix(&self, new_admin: &Pubkey) -> Instruction {
        sdk::accept_admin(*new_admin, self.exchange)
    }

    /// Edit-bank instruction signed by `admin`.
    pub fn edit_bank_ix(&self, admin: &Pubkey, idx: usize, params: BankParams) -> Instruction {
        sdk::edit_bank(*admin, self.exchange, self.banks[idx].bank, params)
    }

    /// Compute-health instruction with the given remaining accounts (raw metas, so tests can
    /// pass malformed lists).
    pub fn health_ix(&self, account: &Pubkey, remaining: Vec<AccountMeta>) -> Instruction {
        let mut i = sdk::compute_health(self.exchange, *account, &[]);
        i.accounts.extend(remaining);
        i
    }

    /// Deposit from the user's own wallet.
    pub async fn deposit(&mut self, u: &User, idx: usize, amount: u64) -> Result<(), TxError> {
        let i = self.deposit_ix(
            &u.kp.pubkey(),
            &u.account,
            idx,
            &u.wallet(&self.banks[idx].mint),
            amount,
        );
        self.send(&[i], &[&u.kp]).await
    }

    /// Withdraw to the user's own wallet.
    pub async fn withdraw(
        &mut self,
        u: &User,
        idx: usize,
        amount: u64,
        allow_borrow: bool,
    ) -> Result<(), TxError> {
        let i = self.withdraw_ix(
            &u.kp.pubkey(),
            &u.account,
            idx,
            &u.wallet(&self.banks[idx].mint),
            amount,
            allow_borrow,
        );
        self.send(&[i], &[&u.kp]).await
    }

    /// Crank a bank.
    pub async fn accrue(&mut self, idx: usize) -> Result<(), TxError> {
        let i = self.accrue_ix(idx);
        self.send(&[i], &[]).await
    }

    /// Health (init, maint) through the read-only instruction's return data.
    pub async fn health(&mut self, account: &Pubkey) -> Result<(I80F48, I80F48), TxError> {
        let i = self.health_ix(account, self.all_health_metas());
        let data = self.t.simulate_return_data(&[i], &[]).await?;
        assert_eq!(data.len(), 32, "return data is two i128");
        let info = sdk::decode_health_info(&data).expect("HealthInfo");
        Ok(sdk::health_values(&info))
    }

    /// Decoded bank (`carry_sdk::margin::decode_bank`).
    pub async fn bank(&mut self, idx: usize) -> Bank {
        let k = self.banks[idx].bank;
        sdk::decode_bank(&self.t.data(&k).await).expect("bank account")
    }
    /// Decoded exchange (`carry_sdk::margin::decode_exchange`).
    pub async fn exchange_state(&mut self) -> Exchange {
        let k = self.exchange;
        sdk::decode_exchange(&self.t.data(&k).await).expect("exchange account")
    }
    /// Decoded margin account (`carry_sdk::margin::decode_margin_account`).
    pub async fn margin(&mut self, account: &Pubkey) -> MarginAccount {
        sdk::decode_margin_account(&self.t.data(account).await).expect("margin account")
    }

    /// Native balance of `account` in bank `idx` as the program values it (deposits rounded
    /// down, debts up, non-lendable included), fixed point.
    pub async fn balance(&mut self, account: &Pubkey, idx: usize) -> I80F48 {
        let bank = self.bank(idx).await;
        let acc = self.margin(account).await;
        let ti = self.banks[idx].token_index;
        match acc
            .tokens
            .iter()
            .find(|t| t.in_use != 0 && t.token_index == ti)
        {
            None => I80F48::ZERO,
            Some(t) => position_native(
                t.indexed_position.get(),
                bank.deposit_index.get(),
                bank.borrow_index.get(),
            )
            .unwrap()
            .checked_add(I80F48::from_u64(t.non_lendable))
            .unwrap(),
        }
    }

    /// Token balance of a token account.
    pub async fn tokens(&mut self, key: &Pubkey) -> u64 {
        self.t.token_balance(key).await
    }

    /// Raw bytes of several accounts (for "nothing changed" checks).
    pub async fn snapshot(&mut self, keys: &[Pubkey]) -> Vec<Vec<u8>> {
        let mut out = vec![];
        for k in keys {
            let a = self.t.account(k).await;
            out.push(
                a.map(|a| {
                    let mut v = a.data;
                    v.extend_from_slice(&a.lamports.to_le_bytes());
                    v
                })
                .unwrap_or_default(),
            );
        }
        out
    }

    /// Write perp market `p`'s oracle in its own format.
    fn write_perp_oracle(&mut self, p: &PerpInfo, publish_time: i64) {
        match p.pull_feed {
            None => self.write_oracle(&p.oracle, p.price, p.conf, publish_time),
            Some(feed) => {
                self.write_pull_oracle(&p.oracle, feed, p.price, p.conf, publish_time, true)
            }
        }
    }

    /// Set the oracle price of perp market `idx` (expo -8, published now).
    pub async fn set_perp_price(&mut self, idx: usize, price: i64) {
        let now = self.now().await;
        self.perps[idx].price = price;
        let p = self.perps[idx].clone();
        self.write_perp_oracle(&p, now);
    }

    /// A new, zeroed, rent-exempt account of `size` bytes owned by `owner`, created by the
    /// payer (the key is returned so that it can sign `create_perp_market`).
    pub async fn allocate(&mut self, size: usize, owner: &Pubkey) -> Keypair {
        self.t.create_account(size, owner).await
    }

    /// A perp book account for `setup`, allocated through the SDK's
    /// `create_perp_book_account` (owner = margin program, zeroed, rent exempt).
    pub async fn perp_book_account(&mut self, setup: &PerpMarketSetup) -> Keypair {
        let book = Keypair::new();
        let space = sdk::perp_book_space(setup.order_capacity, setup.event_capacity);
        let rent = self.t.context.banks_client.get_rent().await.unwrap();
        let i = sdk::create_perp_book_account(
            self.admin.pubkey(),
            book.pubkey(),
            rent.minimum_balance(space),
            setup,
        );
        self.send(&[i], &[&book]).await.expect("allocate perp book");
        book
    }

    /// `create_perp_market` instruction signed by `admin` (and the book) with this
    /// environment's exchange.
    #[allow(clippy::too_many_arguments)]
    pub fn create_perp_market_ix(
        &self,
        admin: &Pubkey,
        market_index: u16,
        book: &Pubkey,
        oracle: &Pubkey,
        setup: PerpMarketSetup,
        params: PerpMarketParams,
        oracle_config: carry_margin::OracleConfig,
    ) -> Instruction {
        sdk::create_perp_market(
            *admin,
            self.exchange,
            market_index,
            *book,
            *oracle,
            setup,
            params,
            oracle_config,
        )
    }

    /// Create the next perp market: a new oracle (Pyth v2, or pull of `pull_feed`) at `price`
    /// (expo -8, conf 0, published now), a book account for `setup`, and the market.
    pub async fn add_perp_market_with(
        &mut self,
        price: i64,
        setup: PerpMarketSetup,
        params: PerpMarketParams,
        pull_feed: Option<[u8; 32]>,
    ) -> usize {
        let market_index = self.perps.len() as u16;
        let oracle = Pubkey::new_unique();
        let info = PerpInfo {
            market: sdk::perp_market_pda(&self.exchange, market_index),
            book: Pubkey::default(),
            oracle,
            market_index,
            price,
            conf: 0,
            pull_feed,
            setup,
        };
        let now = self.now().await;
        self.write_perp_oracle(&info, now);
        let config = match pull_feed {
            None => sdk::pyth_v2(),
            Some(feed) => sdk::pyth_pull(feed),
        };
        let book = self.perp_book_account(&setup).await;
        let i = self.create_perp_market_ix(
            &self.admin.pubkey(),
            market_index,
            &book.pubkey(),
            &oracle,
            setup,
            params,
            config,
        );
        self.send(&[i], &[&book]).await.expect("create perp market");
        self.perps.push(PerpInfo {
            book: book.pubkey(),
            ..info
        });
        self.perps.len() - 1
    }

    /// Create the next perp market with the SDK's example setup but a small book (64 orders,
    /// 32 events), a Pyth v2 oracle at `price` and `params`.
    pub async fn add_perp_market(&mut self, price: i64, params: PerpMarketParams) -> usize {
        let setup = small_perp_setup();
        self.add_perp_market_with(price, setup, params, None).await
    }

    /// Decoded perp market `idx` (`carry_sdk::margin::decode_perp_market`).
    pub async fn perp_market(&mut self, idx: usize) -> PerpMarket {
        let k = self.perps[idx].market;
        sdk::decode_perp_market(&self.t.data(&k).await).expect("perp market account")
    }

    /// Decoded header of perp market `idx`'s book.
    pub async fn perp_book(&mut self, idx: usize) -> PerpBook {
        let k = self.perps[idx].book;
        sdk::decode_perp_book_header(&self.t.data(&k).await).expect("perp book account")
    }

    /// Edit-perp-market instruction signed by `admin`.
    pub fn edit_perp_market_ix(
        &self,
        admin: &Pubkey,
        idx: usize,
        params: PerpMarketParams,
    ) -> Instruction {
        sdk::edit_perp_market(*admin, self.exchange, self.perps[idx].market, params)
    }

    /// `(perp market, oracle)` pairs of every perp market (extra pairs are ignored).
    pub fn all_perp_health_pairs(&self) -> Vec<(Pubkey, Pubkey)> {
        self.perps.iter().map(|p| (p.market, p.oracle)).collect()
    }

    /// Health (init, maint) with every bank's and every perp market's pairs.
    pub async fn health_with_perps(
        &mut self,
        account: &Pubkey,
    ) -> Result<(I80F48, I80F48), TxError> {
        let i = sdk::compute_health_with_perps(
            self.exchange,
            *account,
            &self.all_health_pairs(),
            &self.all_perp_health_pairs(),
        );
        let data = self.t.simulate_return_data(&[i], &[]).await?;
        let info = sdk::decode_health_info(&data).expect("HealthInfo");
        Ok(sdk::health_values(&info))
    }

    /// Write perp slot `slot` of a margin account directly (test fixture: fills come with
    /// order placement).
    pub async fn set_perp_slot(&mut self, account: &Pubkey, slot: usize, pos: PerpPosition) {
        let mut a = self.t.account(account).await.expect("margin account");
        let mut acc = sdk::decode_margin_account(&a.data).unwrap();
        acc.perps[slot] = pos;
        a.data[8..8 + std::mem::size_of::<MarginAccount>()]
            .copy_from_slice(bytemuck::bytes_of(&acc));
        self.t.set_account(account, &a);
    }

    /// Rewrite perp market `idx`'s account with `f` applied (test fixture for state that
    /// cranks set later: funding index, PnL pool).
    pub async fn patch_perp_market(&mut self, idx: usize, f: impl FnOnce(&mut PerpMarket)) {
        let k = self.perps[idx].market;
        let mut a = self.t.account(&k).await.expect("perp market");
        let mut m = sdk::decode_perp_market(&a.data).unwrap();
        f(&mut m);
        a.data[8..8 + std::mem::size_of::<PerpMarket>()].copy_from_slice(bytemuck::bytes_of(&m));
        self.t.set_account(&k, &a);
    }

    /// `place_perp_order` on perp market `idx` by `signer` for `account`, with every bank's
    /// and every perp market's health pairs.
    pub fn place_perp_ix(
        &self,
        signer: &Pubkey,
        account: &Pubkey,
        idx: usize,
        args: carry_margin::PlacePerpOrderArgs,
    ) -> Instruction {
        let p = &self.perps[idx];
        sdk::place_perp_order(
            *signer,
            self.exchange,
            *account,
            p.market,
            p.book,
            p.oracle,
            args,
            &self.all_health_pairs(),
            &self.all_perp_health_pairs(),
        )
    }

    /// Place a perp order for user `u` (signed by its owner).
    pub async fn place_perp(
        &mut self,
        u: &User,
        idx: usize,
        args: carry_margin::PlacePerpOrderArgs,
    ) -> Result<(), TxError> {
        let i = self.place_perp_ix(&u.kp.pubkey(), &u.account, idx, args);
        self.send(&[i], &[&u.kp]).await
    }

    /// `consume_perp_events` on perp market `idx` with `makers`.
    pub fn consume_ix(&self, idx: usize, makers: &[Pubkey], limit: u8) -> Instruction {
        let p = &self.perps[idx];
        sdk::consume_perp_events(p.market, p.book, makers, limit)
    }

    /// Run the event crank (the payer signs; anyone may).
    pub async fn consume(
        &mut self,
        idx: usize,
        makers: &[Pubkey],
        limit: u8,
    ) -> Result<(), TxError> {
        let i = self.consume_ix(idx, makers, limit);
        self.send(&[i], &[]).await
    }

    /// `settle_pnl` of `account` in perp market `idx` (the payer sends it; anyone may).
    pub async fn settle_pnl(&mut self, account: &Pubkey, idx: usize) -> Result<(), TxError> {
        let p = &self.perps[idx];
        let i = sdk::settle_pnl(
            self.exchange,
            *account,
            p.market,
            p.oracle,
            self.banks[0].bank,
        );
        self.send(&[i], &[]).await
    }

    /// Health remaining accounts of every bank and every perp market (banks writable).
    pub fn all_metas_with_perps(&self) -> Vec<AccountMeta> {
        let mut m = self.all_health_metas();
        m.extend(sdk::perp_health_accounts(
            &self.all_perp_health_pairs(),
            false,
        ));
        m
    }

    /// `liquidate_perp` of `liqee` by `liqor` on perp market `idx`, every pair as health.
    pub fn liquidate_perp_ix(
        &self,
        liqor: &User,
        liqee: &Pubkey,
        idx: usize,
        max_base_lots: u64,
    ) -> Instruction {
        let p = &self.perps[idx];
        sdk::liquidate_perp(
            liqor.kp.pubkey(),
            self.exchange,
            liqor.account,
            *liqee,
            p.market,
            p.oracle,
            self.banks[0].bank,
            max_base_lots,
            self.all_metas_with_perps(),
        )
    }

    /// `liquidate_token`: `liqor` repays `liqee`'s borrow in bank `liab` for its deposit in
    /// bank `asset`.
    pub fn liquidate_token_ix(
        &self,
        liqor: &User,
        liqee: &Pubkey,
        liab: usize,
        asset: usize,
        max_liab_native: u64,
    ) -> Instruction {
        let (l, a) = (&self.banks[liab], &self.banks[asset]);
        sdk::liquidate_token(
            liqor.kp.pubkey(),
            self.exchange,
            liqor.account,
            *liqee,
            (l.bank, l.oracle),
            (a.bank, a.oracle),
            max_liab_native,
            self.all_metas_with_perps(),
        )
    }

    /// `liquidate_perp_orders` of `liqee` on perp market `idx`.
    pub fn liquidate_orders_ix(&self, liqee: &Pubkey, idx: usize, limit: u8) -> Instruction {
        let p = &self.perps[idx];
        sdk::liquidate_perp_orders(
            self.exchange,
            *liqee,
            p.market,
            p.book,
            limit,
            self.all_metas_with_perps(),
        )
    }

    /// `resolve_bankruptcy` of `account` in bank `idx`; the loss the fund cannot pay is shared
    /// by the positions of perp market `market` when given.
    pub fn resolve_ix(&self, account: &Pubkey, idx: usize, market: Option<usize>) -> Instruction {
        let b = &self.banks[idx];
        let market = market.map(|m| self.perps[m].market);
        sdk::resolve_bankruptcy(self.exchange, *account, b.bank, b.vault, b.mint, market)
    }

    /// `auto_deleverage` of `account`'s position in perp market `idx` against `candidates`
    /// (ranked), with every health pair.
    pub fn adl_ix(
        &self,
        account: &Pubkey,
        idx: usize,
        max_base_lots: u64,
        candidates: &[Pubkey],
    ) -> Instruction {
        let p = &self.perps[idx];
        sdk::auto_deleverage(
            self.exchange,
            *account,
            p.market,
            p.oracle,
            self.banks[0].bank,
            max_base_lots,
            self.all_metas_with_perps(),
            candidates,
        )
    }

    /// Bank and perp market snapshots as the SDK fetches them (every bank and market).
    pub async fn snapshots(
        &mut self,
    ) -> (
        Vec<carry_sdk::health::BankSnapshot>,
        Vec<carry_sdk::health::PerpSnapshot>,
    ) {
        let chain = carry_sdk::client::BanksChain::new(self.t.context.banks_client.clone());
        let mut banks = vec![];
        for i in 0..self.banks.len() {
            banks.push((self.banks[i].bank, self.bank(i).await));
        }
        let mut markets = vec![];
        for i in 0..self.perps.len() {
            markets.push((self.perps[i].market, self.perp_market(i).await));
        }
        let b = carry_sdk::health::snapshot_banks(&chain, &banks)
            .await
            .expect("bank snapshots");
        let m = carry_sdk::health::snapshot_perp_markets(&chain, &markets)
            .await
            .expect("perp snapshots");
        (b, m)
    }

    /// The program's health terms of `account` now (SDK, from snapshots).
    pub async fn terms(&mut self, account: &Pubkey) -> Box<carry_math::health::HealthTerms> {
        let (b, m) = self.snapshots().await;
        let acc = self.margin(account).await;
        let now = self.now().await;
        carry_sdk::health::health_terms(&acc, USDC_DECIMALS, &b, &m, now).expect("health terms")
    }

    /// Auto-deleveraging candidates of `keys` against `bankrupt`'s position in perp market
    /// `idx`, ranked by the SDK as the program checks them.
    pub async fn adl_ranked(
        &mut self,
        bankrupt: &Pubkey,
        idx: usize,
        keys: &[Pubkey],
    ) -> Vec<carry_sdk::liquidation::AdlCandidate> {
        let (b, m) = self.snapshots().await;
        let mut accounts = vec![];
        for k in keys {
            accounts.push((*k, self.margin(k).await));
        }
        let acc = self.margin(bankrupt).await;
        let mi = self.perps[idx].market_index;
        let base = acc
            .find_perp(mi)
            .map(|s| acc.perps[s].base_lots)
            .unwrap_or(0);
        let now = self.now().await;
        carry_sdk::liquidation::adl_candidates(
            &accounts,
            bankrupt,
            base,
            &m[idx],
            USDC_DECIMALS,
            &b,
            &m,
            now,
        )
    }

    /// `deposit_insurance` of `amount` settlement native units from `u`'s wallet.
    pub fn deposit_insurance_ix(&self, u: &User, amount: u64) -> Instruction {
        let mint = self.banks[0].mint;
        sdk::deposit_insurance(u.kp.pubkey(), self.exchange, mint, u.wallet(&mint), amount)
    }

    /// Send `ixs`, expect margin error `code`, and check that `watched` and every writable
    /// account of `ixs` (but the fee payer) are byte-identical afterwards.
    pub async fn refused(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        watched: &[Pubkey],
        code: carry_margin::error::CarryError,
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
        w.retain(|k| *k != self.admin.pubkey());
        w.sort();
        w.dedup();
        let before = self.snapshot(&w).await;
        let r = self.send(ixs, signers).await;
        crate::assert_error(r, u32::from(code));
        let after = self.snapshot(&w).await;
        for (i, k) in w.iter().enumerate() {
            assert!(
                before[i] == after[i],
                "account {k} changed by a refused instruction"
            );
        }
    }

    /// Unconsumed events of perp market `idx`'s book.
    pub async fn perp_event_count(&mut self, idx: usize) -> u32 {
        let k = self.perps[idx].book;
        let mut data = self.t.data(&k).await;
        let book = carry_book::Book::load(&mut data[PerpBook::BOOK_OFFSET..]).unwrap();
        book.event_count()
    }

    /// Perp slot of `account` in market `idx` (panics when there is none).
    pub async fn perp_slot(&mut self, account: &Pubkey, idx: usize) -> PerpPosition {
        let mi = self.perps[idx].market_index;
        let acc = self.margin(account).await;
        let s = acc.find_perp(mi).expect("perp slot");
        acc.perps[s]
    }

    /// Conservation check of bank `idx` over `accounts` (every margin account that may hold
    /// it). Returns the rounding-dust term. Asserts:
    /// 1. exact identity with the bank's tracked dust (fixed point, within 1e-6 native):
    ///    `vault = sum(account values) + non_lendable + collected_reserve + dust`, where
    ///    the account values are the program's valuations (deposits down, debts up), and
    ///    the bank's share totals equal the sum of the accounts' shares exactly;
    /// 2. to the unit: `vault - (sum floor(deposits) - sum ceil(debts) + non_lendable +
    ///    floor(reserve))` is the rounding-dust term, `0 <= dust_term <= accounts + 1 + dust`.
    ///
    /// Tokens sent to the vault directly ([`MarginEnv::donate`]) are surplus: they are taken
    /// out of `vault` before the identities, and the bank's own `surplus()` must show them.
    /// Also asserts invariant 6's lending bound: borrows never exceed lendable deposits by
    /// more than the collected reserve (interest accrued at full utilization; borrowing and
    /// withdrawing are bounded by deposits).
    pub async fn check_conservation(&mut self, idx: usize, accounts: &[Pubkey]) -> i128 {
        let bank = self.bank(idx).await;
        let vault_tokens = self.tokens(&self.banks[idx].vault.clone()).await;
        let donated = self.banks[idx].donated;
        let surplus = bank.surplus(vault_tokens).unwrap();
        assert!(
            surplus + 2 >= donated,
            "bank {idx}: surplus {surplus} lost donated {donated}"
        );
        // The settlement bank's vault also holds the perp markets' PnL pools (settled losses
        // not yet paid out as profits: `settle_pnl` moves no token).
        let mut pools = 0i128;
        if idx == 0 {
            for m in 0..self.perps.len() {
                pools += self.perp_market(m).await.pnl_pool_native as i128;
            }
        }
        let vault = vault_tokens as i128 - donated as i128 - pools;
        let pool = bank.pool();
        let (d, b) = (
            pool.deposits_native().unwrap(),
            pool.borrows_native().unwrap(),
        );
        assert!(
            b <= d
                .checked_add(bank.collected_reserve.get())
                .unwrap()
                .checked_add(I80F48::from_u64(bank.reserve_swept + 1))
                .unwrap(),
            "bank {idx}: borrows {b} above deposits {d} + reserve"
        );
        let ti = self.banks[idx].token_index;
        let (di, bi) = (bank.deposit_index.get(), bank.borrow_index.get());
        let mut dep_shares = I80F48::ZERO;
        let mut bor_shares = I80F48::ZERO;
        let mut value = I80F48::ZERO;
        let mut units: i128 = 0;
        let mut non_lendable = 0u64;
        for a in accounts {
            let acc = self.margin(a).await;
            for t in acc
                .tokens
                .iter()
                .filter(|t| t.in_use != 0 && t.token_index == ti)
            {
                let s = t.indexed_position.get();
                if s.is_negative() {
                    bor_shares = bor_shares.checked_sub(s).unwrap();
                } else {
                    dep_shares = dep_shares.checked_add(s).unwrap();
                }
                let v = position_native(s, di, bi).unwrap();
                value = value.checked_add(v).unwrap();
                units += v.floor_int(); // floor of a debt = debt rounded up
                non_lendable += t.non_lendable;
            }
        }
        assert_eq!(
            dep_shares,
            bank.indexed_deposits.get(),
            "deposit shares sum"
        );
        assert_eq!(bor_shares, bank.indexed_borrows.get(), "borrow shares sum");
        assert_eq!(non_lendable, bank.non_lendable_deposits, "non-lendable sum");
        let rhs = value
            .checked_add(I80F48::from_u64(non_lendable))
            .unwrap()
            .checked_add(bank.collected_reserve.get())
            .unwrap()
            .checked_add(bank.dust.get())
            .unwrap();
        let diff = rhs.checked_sub(I80F48::from_i64(vault as i64)).unwrap();
        assert!(
            diff.checked_abs().unwrap()
                < I80F48::from_ratio(1, 1_000_000, carry_math::Round::Floor).unwrap(),
            "bank {idx}: vault {vault} vs accounted {rhs} (diff {diff})"
        );
        let dust_term =
            vault - (units + non_lendable as i128 + bank.collected_reserve.get().floor_int());
        assert!(
            dust_term >= 0,
            "bank {idx}: protocol owes more than the vault holds ({dust_term})"
        );
        assert!(
            dust_term <= accounts.len() as i128 + 1 + bank.dust.get().ceil_int(),
            "bank {idx}: dust term {dust_term} too large"
        );
        dust_term
    }
}

/// A limit order of `lots` at `price_ticks` (`side` 0 bid, 1 ask): the SDK's
/// `limit_order_args`.
pub fn limit(side: u8, price_ticks: u64, lots: u64) -> carry_margin::PlacePerpOrderArgs {
    sdk::limit_order_args(side, price_ticks, lots)
}

/// An immediate-or-cancel order.
pub fn ioc(side: u8, price_ticks: u64, lots: u64) -> carry_margin::PlacePerpOrderArgs {
    carry_margin::PlacePerpOrderArgs {
        order_kind: 3,
        ..limit(side, price_ticks, lots)
    }
}

/// A post-only order.
pub fn post_only(side: u8, price_ticks: u64, lots: u64) -> carry_margin::PlacePerpOrderArgs {
    carry_margin::PlacePerpOrderArgs {
        order_kind: 1,
        ..limit(side, price_ticks, lots)
    }
}

/// A user (`MarginEnv::user`) with `usdc` native deposited in the settlement bank.
pub async fn trader(env: &mut MarginEnv, usdc: u64) -> User {
    let u = env.user(usdc).await;
    env.deposit(&u, 0, usdc).await.expect("deposit");
    u
}
