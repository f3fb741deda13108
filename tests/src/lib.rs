//! The one test harness every integration test uses: a solana-program-test bank with Carry's
//! programs running natively (builtin mode) and the SPL Token programs it ships running for
//! real; helpers to create mints and token accounts, send instructions, read zero-copy
//! accounts, and move the clock.

pub mod events;
pub mod margin;
pub mod orderbook;
pub mod pyth;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
#[allow(deprecated)]
use solana_sdk::{
    account::Account,
    clock::Clock,
    compute_budget::ComputeBudgetInstruction,
    instruction::{Instruction, InstructionError},
    program_pack::Pack,
    signature::{Keypair, Signer},
    system_instruction,
    transaction::{Transaction, TransactionError},
};

/// Unix time the test clock starts at.
pub const START_TIME: i64 = 1_790_000_000;

/// A running test bank and its fee payer.
pub struct TestContext {
    pub context: ProgramTestContext,
    /// Makes every transaction unique, so identical instructions can be sent twice.
    nonce: u32,
}

/// What a successful transaction left behind.
#[derive(Debug, Default, Clone)]
pub struct TxOutcome {
    /// Return data of the last instruction that set it.
    pub return_data: Vec<u8>,
    /// Program log lines.
    pub logs: Vec<String>,
    /// Compute units the whole transaction used (natively run programs count only syscalls
    /// and CPIs, so this is not an on-chain figure).
    pub compute_units: u64,
}

impl TxOutcome {
    /// Decodes the return data as an Anchor (borsh) value.
    pub fn decode<T: anchor_lang::AnchorDeserialize>(&self) -> T {
        T::try_from_slice(&self.return_data).expect("return data decodes")
    }
}

/// Why a transaction failed: the custom error code when a program returned one.
#[derive(Debug)]
pub struct TxError(pub BanksClientError);

impl TxError {
    /// The program's custom error code (Anchor: 6000 + the variant's index).
    pub fn custom_code(&self) -> Option<u32> {
        match &self.0 {
            BanksClientError::TransactionError(TransactionError::InstructionError(
                _,
                InstructionError::Custom(c),
            ))
            | BanksClientError::SimulationError {
                err: TransactionError::InstructionError(_, InstructionError::Custom(c)),
                ..
            } => Some(*c),
            _ => None,
        }
    }
    /// The instruction error, whatever kind it is.
    pub fn instruction_error(&self) -> Option<InstructionError> {
        match &self.0 {
            BanksClientError::TransactionError(TransactionError::InstructionError(_, e))
            | BanksClientError::SimulationError {
                err: TransactionError::InstructionError(_, e),
                ..
            } => Some(e.clone()),
            _ => None,
        }
    }
}

/// Asserts that `result` failed with the Anchor error `code` (an `#[error_code]` variant,
/// or an `anchor_lang::error::ErrorCode`).
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(result: Result<T, TxError>, code: impl Into<u32>) {
    let code = code.into();
    match result {
        Ok(v) => panic!("expected error {code}, got Ok({v:?})"),
        Err(e) => assert_eq!(
            e.custom_code(),
            Some(code),
            "expected error {code}, got {e:?}"
        ),
    }
}

impl TestContext {
    /// Starts a bank with both Carry programs and the clock at [`START_TIME`].
    pub async fn new() -> TestContext {
        // The runtime logs every instruction at debug level; keep test output readable
        // unless the caller asks for it with RUST_LOG.
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        let mut pt = ProgramTest::default();
        pt.prefer_bpf(false);
        // The local chain's builtin adapters: like `processor!`, and their events reach the
        // transaction logs as `Program data:` lines once the log router is installed.
        pt.add_builtin_program(
            "carry_orderbook",
            carry_orderbook::ID,
            carry_localnet::chain::orderbook_builtin(),
        );
        pt.add_builtin_program(
            "carry_margin",
            carry_margin::ID,
            carry_localnet::chain::margin_builtin(),
        );
        pt.set_compute_max_units(1_400_000);
        let context = pt.start_with_context().await;
        carry_localnet::logs::install_stubs();
        let mut t = TestContext { context, nonce: 0 };
        t.set_time(START_TIME).await;
        t
    }

    /// The fee payer, funded with plenty of SOL.
    pub fn payer(&self) -> Keypair {
        self.context.payer.insecure_clone()
    }

    /// Sends `ixs` in one transaction paid by the payer and signed by `signers` too.
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<(), TxError> {
        self.execute(ixs, signers).await.map(|_| ())
    }

    /// Like [`TestContext::send`], and returns the return data, logs and compute units.
    pub async fn execute(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOutcome, TxError> {
        self.nonce += 1;
        let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            1_400_000 - self.nonce,
        )];
        all.extend_from_slice(ixs);
        let payer = self.payer();
        let mut keys: Vec<&Keypair> = vec![&payer];
        keys.extend_from_slice(signers);
        let blockhash = self.latest_blockhash().await;
        let tx = Transaction::new_signed_with_payer(&all, Some(&payer.pubkey()), &keys, blockhash);
        let r = self
            .context
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .map_err(TxError)?;
        let (logs, return_data, compute_units) = match r.metadata {
            Some(m) => (
                m.log_messages,
                m.return_data.map(|d| d.data).unwrap_or_default(),
                m.compute_units_consumed,
            ),
            None => (Vec::new(), Vec::new(), 0),
        };
        match r.result {
            Ok(()) => Ok(TxOutcome {
                return_data,
                logs,
                compute_units,
            }),
            Err(e) => {
                if std::env::var_os("CARRY_TEST_LOGS").is_some() {
                    eprintln!("transaction failed: {e:?}\n{}", logs.join("\n"));
                }
                Err(TxError(BanksClientError::TransactionError(e)))
            }
        }
    }

    /// Builds and sends one Anchor instruction.
    pub async fn send_anchor(
        &mut self,
        program_id: Pubkey,
        accounts: impl ToAccountMetas,
        data: impl InstructionData,
        remaining: Vec<solana_sdk::instruction::AccountMeta>,
        signers: &[&Keypair],
    ) -> Result<(), TxError> {
        let mut metas = accounts.to_account_metas(None);
        metas.extend(remaining);
        let ix = Instruction {
            program_id,
            accounts: metas,
            data: data.data(),
        };
        self.send(&[ix], signers).await
    }

    /// Simulates `ixs` and returns the return data the last instruction set.
    pub async fn simulate_return_data(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<u8>, TxError> {
        self.nonce += 1;
        let payer = self.payer();
        let mut keys: Vec<&Keypair> = vec![&payer];
        keys.extend_from_slice(signers);
        let blockhash = self.latest_blockhash().await;
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &keys, blockhash);
        let sim = self
            .context
            .banks_client
            .simulate_transaction(tx)
            .await
            .map_err(TxError)?;
        if let Some(Err(err)) = sim.result {
            return Err(TxError(BanksClientError::TransactionError(err)));
        }
        Ok(sim
            .simulation_details
            .and_then(|d| d.return_data)
            .map(|r| r.data)
            .unwrap_or_default())
    }

    /// The bank's latest blockhash. program-test keeps producing slots in the background, and
    /// a transaction with an expired blockhash is dropped silently (the client then times out
    /// with `DeadlineExceeded`), so every transaction takes a fresh one.
    async fn latest_blockhash(&mut self) -> solana_sdk::hash::Hash {
        let h = self
            .context
            .banks_client
            .get_latest_blockhash()
            .await
            .unwrap();
        self.context.last_blockhash = h;
        h
    }

    /// Creates a system account owned by `owner` with `size` zeroed bytes, rent exempt.
    pub async fn create_account(&mut self, size: usize, owner: &Pubkey) -> Keypair {
        let account = Keypair::new();
        let rent = self.context.banks_client.get_rent().await.unwrap();
        let ix = system_instruction::create_account(
            &self.payer().pubkey(),
            &account.pubkey(),
            rent.minimum_balance(size),
            size as u64,
            owner,
        );
        self.send(&[ix], &[&account]).await.unwrap();
        account
    }

    /// A new keypair holding `lamports`.
    pub async fn funded_keypair(&mut self, lamports: u64) -> Keypair {
        let k = Keypair::new();
        let ix = system_instruction::transfer(&self.payer().pubkey(), &k.pubkey(), lamports);
        self.send(&[ix], &[]).await.unwrap();
        k
    }

    /// Creates an SPL Token mint with `decimals` whose mint authority is the payer.
    pub async fn create_mint(&mut self, decimals: u8) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.context.banks_client.get_rent().await.unwrap();
        let payer = self.payer().pubkey();
        let ixs = [
            system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                rent.minimum_balance(spl_token::state::Mint::LEN),
                spl_token::state::Mint::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_mint2(
                &spl_token::ID,
                &mint.pubkey(),
                &payer,
                None,
                decimals,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&mint]).await.unwrap();
        mint.pubkey()
    }

    /// Creates a token account of `mint` owned by `owner`.
    pub async fn create_token_account(&mut self, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let rent = self.context.banks_client.get_rent().await.unwrap();
        let ixs = [
            system_instruction::create_account(
                &self.payer().pubkey(),
                &account.pubkey(),
                rent.minimum_balance(spl_token::state::Account::LEN),
                spl_token::state::Account::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_account3(
                &spl_token::ID,
                &account.pubkey(),
                mint,
                owner,
            )
            .unwrap(),
        ];
        self.send(&ixs, &[&account]).await.unwrap();
        account.pubkey()
    }

    /// Mints `amount` native units of `mint` (authority: the payer) into `to`.
    pub async fn mint_to(&mut self, mint: &Pubkey, to: &Pubkey, amount: u64) {
        let payer = self.payer().pubkey();
        let ix =
            spl_token::instruction::mint_to(&spl_token::ID, mint, to, &payer, &[], amount).unwrap();
        self.send(&[ix], &[]).await.unwrap();
    }

    /// A token account's balance in native units.
    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        let a = self.account(account).await.expect("token account exists");
        spl_token::state::Account::unpack(&a.data).unwrap().amount
    }

    /// The account at `key`, if it exists.
    pub async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.context.banks_client.get_account(*key).await.unwrap()
    }

    /// The account's data bytes (empty if it does not exist).
    pub async fn data(&mut self, key: &Pubkey) -> Vec<u8> {
        self.account(key).await.map(|a| a.data).unwrap_or_default()
    }

    /// Decodes an Anchor account (checks its discriminator).
    pub async fn anchor_account<T: AccountDeserialize>(&mut self, key: &Pubkey) -> T {
        let data = self.data(key).await;
        T::try_deserialize(&mut data.as_slice()).expect("anchor account")
    }

    /// Reads a zero-copy account's struct (after its 8-byte discriminator).
    pub async fn zero_copy<T: bytemuck::Pod>(&mut self, key: &Pubkey) -> T {
        let data = self.data(key).await;
        let size = std::mem::size_of::<T>();
        bytemuck::pod_read_unaligned(&data[8..8 + size])
    }

    /// Overwrites an account (for oracles and fixtures).
    pub fn set_account(&mut self, key: &Pubkey, account: &Account) {
        self.context.set_account(key, &account.clone().into());
    }

    /// The bank's clock.
    pub async fn clock(&mut self) -> Clock {
        self.context
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .unwrap()
    }

    /// Sets the clock's unix timestamp (and advances the slot so blockhashes stay fresh).
    pub async fn set_time(&mut self, unix_timestamp: i64) {
        let mut clock = self.clock().await;
        clock.unix_timestamp = unix_timestamp;
        self.context.set_sysvar(&clock);
    }

    /// Moves the clock forward by `seconds`.
    pub async fn warp_seconds(&mut self, seconds: i64) {
        let now = self.clock().await.unix_timestamp;
        self.set_time(now + seconds).await;
    }
}
