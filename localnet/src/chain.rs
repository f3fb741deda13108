//! The chain: a real solana-runtime bank (the 2.3 line our programs are built on) with Carry's
//! programs as native builtins, SPL Token, Token-2022 and the Associated Token Account program
//! as the real SBF programs solana-program-test ships, slots advancing on a clock, and a record
//! of every transaction for the RPC front (statuses, `getTransaction`, signatures by address).
//!
//! It is a development chain, not a validator: one bank per slot, every slot rooted at once (so
//! every commitment level answers the same), no consensus, no SBF for our programs (they run as
//! host code; compute units of our programs are not on-chain figures).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use anchor_lang::solana_program::account_info::AccountInfo;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use solana_accounts_db::accounts_index::ScanConfig;
use solana_program_runtime::invoke_context::{BuiltinFunctionWithContext, InvokeContext};
use solana_program_runtime::loaded_programs::ProgramCacheEntry;
use solana_program_test::{get_runtime_environment_key, EbpfError, EbpfVm};
use solana_runtime::bank::Bank;
use solana_runtime::bank_forks::BankForks;
use solana_runtime::genesis_utils::create_genesis_config_with_leader_ex;
use solana_runtime::runtime_config::RuntimeConfig;
use solana_sdk::account::{Account, AccountSharedData, ReadableAccount};
use solana_sdk::clock::{Clock, Slot};
use solana_sdk::fee_calculator::FeeRateGovernor;
use solana_sdk::genesis_config::ClusterType;
use solana_sdk::hash::Hash;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;
use solana_sdk::signature::{Keypair, Signature, Signer};
use solana_sdk::transaction::{
    TransactionError, TransactionVerificationMode, VersionedTransaction,
};

use crate::logs;

/// Lamports the faucet starts with (1 billion SOL).
const FAUCET_SOL: u64 = 1_000_000_000;

fn margin_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // SAFETY: Anchor's `entry` ties the slice and accounts to one lifetime; the runtime keeps
    // both alive for the whole call.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    let r = carry_margin::entry(program_id, accounts, data);
    logs::flush_program_output();
    r
}

fn orderbook_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    // SAFETY: as above.
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    let r = carry_orderbook::entry(program_id, accounts, data);
    logs::flush_program_output();
    r
}

/// The builtin adapter (what solana-program-test's `processor!` expands to), plus the running
/// `InvokeContext` kept for the log router.
macro_rules! builtin {
    ($entry:expr) => {{
        let f: BuiltinFunctionWithContext = |vm, _a0, _a1, _a2, _a3, _a4| {
            // SAFETY: the runtime passes the VM's context pointer offset by its environment
            // key, as solana-program-test's `processor!` relies on.
            let vm = unsafe {
                &mut *((vm as *mut u64).offset(-(get_runtime_environment_key() as isize))
                    as *mut EbpfVm<InvokeContext>)
            };
            logs::enter(vm.context_object_pointer);
            vm.program_result =
                solana_program_test::invoke_builtin_function($entry, vm.context_object_pointer)
                    .map_err(EbpfError::SyscallError)
                    .into();
            logs::leave();
        };
        f
    }};
}

/// The margin program as a builtin whose `msg!` and event lines reach the transaction logs
/// (with [`logs::install_stubs`]); what `solana_program_test::processor!` gives, plus that.
pub fn margin_builtin() -> BuiltinFunctionWithContext {
    builtin!(margin_entry)
}

/// The order book program as such a builtin.
pub fn orderbook_builtin() -> BuiltinFunctionWithContext {
    builtin!(orderbook_entry)
}

/// What the chain remembers of a processed transaction.
#[derive(Clone, Debug)]
pub struct TxRecord {
    /// Slot it was processed in.
    pub slot: Slot,
    /// Unix time of that slot.
    pub block_time: i64,
    /// The transaction as sent.
    pub tx: VersionedTransaction,
    /// Outcome.
    pub status: Result<(), TransactionError>,
    /// Log lines.
    pub logs: Vec<String>,
    /// Fee charged, lamports.
    pub fee: u64,
    /// Compute units consumed.
    pub units: u64,
    /// Return data (program, bytes).
    pub return_data: Option<(Pubkey, Vec<u8>)>,
    /// Lamport balances of the account keys before and after.
    pub pre_balances: Vec<u64>,
    /// After.
    pub post_balances: Vec<u64>,
}

/// Result of a simulation.
#[derive(Clone, Debug)]
pub struct Simulation {
    /// Outcome.
    pub status: Result<(), TransactionError>,
    /// Log lines.
    pub logs: Vec<String>,
    /// Compute units consumed.
    pub units: u64,
    /// Return data.
    pub return_data: Option<(Pubkey, Vec<u8>)>,
}

struct State {
    forks: Arc<RwLock<BankForks>>,
    bank: Arc<Bank>,
    txs: HashMap<Signature, TxRecord>,
    by_address: HashMap<Pubkey, Vec<Signature>>,
}

/// The development chain.
pub struct Chain {
    state: Mutex<State>,
    /// Holds the faucet's SOL (and is the mint authority of the test tokens).
    pub faucet: Keypair,
    /// Genesis hash.
    pub genesis_hash: Hash,
}

/// Wall-clock unix time, seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Chain {
    /// A fresh chain at slot 1 with the clock at wall-clock time and a new faucet.
    pub fn new() -> Arc<Chain> {
        Self::with_faucet(Keypair::new())
    }

    /// A fresh chain whose faucet (SOL holder, test mints' authority, local exchange admin) is
    /// `faucet`: a resumed ledger keeps its faucet.
    pub fn with_faucet(faucet: Keypair) -> Arc<Chain> {
        logs::install_stubs();
        let rent = Rent::default();
        let fee_rate_governor = FeeRateGovernor {
            lamports_per_signature: 5_000,
            ..FeeRateGovernor::default()
        };
        let validator = Pubkey::new_unique();
        let mut genesis = create_genesis_config_with_leader_ex(
            FAUCET_SOL * LAMPORTS_PER_SOL,
            &faucet.pubkey(),
            &validator,
            &Pubkey::new_unique(),
            &Pubkey::new_unique(),
            rent.minimum_balance(3762) + 1_000_000 * LAMPORTS_PER_SOL,
            42,
            fee_rate_governor,
            rent.clone(),
            ClusterType::Development,
            vec![],
        );
        genesis.creation_time = unix_now();
        let genesis_hash = genesis.hash();
        let bank = Bank::new_with_paths(
            &genesis,
            Arc::new(RuntimeConfig::default()),
            Vec::default(),
            None,
            None,
            false,
            None,
            None,
            None,
            Arc::default(),
            None,
            None,
        );
        for (id, account) in solana_program_test::programs::spl_programs(&rent).iter() {
            bank.store_account(id, account);
        }
        for (id, account) in solana_program_test::programs::core_bpf_programs(&rent, |f| {
            genesis.accounts.contains_key(f)
        })
        .iter()
        {
            bank.store_account(id, account);
        }
        bank.add_builtin(
            carry_margin::ID,
            "carry_margin",
            ProgramCacheEntry::new_builtin(0, "carry_margin".len(), margin_builtin()),
        );
        bank.add_builtin(
            carry_orderbook::ID,
            "carry_orderbook",
            ProgramCacheEntry::new_builtin(0, "carry_orderbook".len(), orderbook_builtin()),
        );
        bank.set_capitalization();
        let bank = Arc::new(bank);
        bank.fill_bank_with_ticks_for_tests();
        let next = Bank::new_from_parent(bank.clone(), bank.collector_id(), bank.slot() + 1);
        let forks = BankForks::new_rw_arc(next);
        let bank = forks.read().unwrap().working_bank();
        set_clock(&bank);
        Arc::new(Chain {
            state: Mutex::new(State {
                forks,
                bank,
                txs: HashMap::new(),
                by_address: HashMap::new(),
            }),
            faucet,
            genesis_hash,
        })
    }

    /// The working bank.
    pub fn bank(&self) -> Arc<Bank> {
        self.state.lock().unwrap().bank.clone()
    }

    /// Close the current slot and open the next (its blockhash becomes valid, the clock moves
    /// to wall-clock time). Transactions are serialized against this.
    pub fn advance_slot(&self) {
        let mut s = self.state.lock().unwrap();
        let bank = s.bank.clone();
        bank.fill_bank_with_ticks_for_tests();
        bank.freeze();
        let next = Bank::new_from_parent(bank.clone(), bank.collector_id(), bank.slot() + 1);
        let slot = next.slot();
        let mut forks = s.forks.write().unwrap();
        forks.insert(next);
        let _ = forks.set_root(bank.slot(), None, None);
        let working = forks.get(slot).expect("new bank");
        drop(forks);
        set_clock(&working);
        s.bank = working;
    }

    /// Verify (signatures, size) and execute `tx` in the working bank, and record it.
    pub fn process(&self, tx: VersionedTransaction) -> Result<TxRecord, TransactionError> {
        let mut s = self.state.lock().unwrap();
        let bank = s.bank.clone();
        bank.verify_transaction(tx.clone(), TransactionVerificationMode::FullVerification)?;
        let keys: Vec<Pubkey> = tx.message.static_account_keys().to_vec();
        let pre_balances: Vec<u64> = keys.iter().map(|k| bank.get_balance(k)).collect();
        let committed = bank.process_transaction_with_metadata(tx.clone())?;
        let post_balances: Vec<u64> = keys.iter().map(|k| bank.get_balance(k)).collect();
        let sig = tx.signatures[0];
        let record = TxRecord {
            slot: bank.slot(),
            block_time: bank.clock().unix_timestamp,
            tx,
            status: committed.status.clone(),
            logs: clean_logs(committed.log_messages.clone().unwrap_or_default()),
            fee: committed.fee_details.total_fee(),
            units: committed.executed_units,
            return_data: committed
                .return_data
                .as_ref()
                .map(|r| (r.program_id, r.data.clone())),
            pre_balances,
            post_balances,
        };
        for k in &keys {
            s.by_address.entry(*k).or_default().push(sig);
        }
        s.txs.insert(sig, record.clone());
        Ok(record)
    }

    /// Run `tx` without committing it. With `verify`, signatures are checked first.
    pub fn simulate(
        &self,
        tx: VersionedTransaction,
        verify: bool,
    ) -> Result<Simulation, TransactionError> {
        let s = self.state.lock().unwrap();
        let bank = s.bank.clone();
        let mode = if verify {
            TransactionVerificationMode::FullVerification
        } else {
            TransactionVerificationMode::HashOnly
        };
        let sanitized = bank.verify_transaction(tx, mode)?;
        let r = bank.simulate_transaction_unchecked(&sanitized, false);
        Ok(Simulation {
            status: r.result,
            logs: clean_logs(r.logs),
            units: r.units_consumed,
            return_data: r.return_data.map(|d| (d.program_id, d.data)),
        })
    }

    /// Record of a processed transaction.
    pub fn transaction(&self, sig: &Signature) -> Option<TxRecord> {
        self.state.lock().unwrap().txs.get(sig).cloned()
    }

    /// Signatures of transactions that named `address`, newest first.
    pub fn signatures_for(&self, address: &Pubkey) -> Vec<(Signature, TxRecord)> {
        let s = self.state.lock().unwrap();
        let mut v: Vec<(Signature, TxRecord)> = s
            .by_address
            .get(address)
            .map(|sigs| {
                sigs.iter()
                    .filter_map(|sig| s.txs.get(sig).map(|r| (*sig, r.clone())))
                    .collect()
            })
            .unwrap_or_default();
        v.reverse();
        v
    }

    /// An account of the working bank.
    pub fn account(&self, key: &Pubkey) -> Option<AccountSharedData> {
        self.bank().get_account(key)
    }

    /// Accounts owned by `program` that pass `filter`.
    pub fn program_accounts(
        &self,
        program: &Pubkey,
        filter: impl Fn(&AccountSharedData) -> bool,
    ) -> Vec<(Pubkey, AccountSharedData)> {
        self.bank()
            .get_filtered_program_accounts(program, |a| filter(a), &ScanConfig::default())
            .unwrap_or_default()
    }

    /// Write an account directly (price feeds, test setup).
    pub fn set_account(&self, key: &Pubkey, account: &AccountSharedData) {
        let s = self.state.lock().unwrap();
        s.bank.store_account(key, account);
    }

    /// Write the accounts a development ledger keeps (wallets, token accounts and mints, Carry's
    /// accounts, oracle accounts: everything owned by the system, token, Carry or Pyth
    /// programs) and the faucet keypair into `dir`. Transaction history is not kept.
    pub fn save(&self, dir: &Path) -> std::io::Result<usize> {
        std::fs::create_dir_all(dir)?;
        let bank = self.bank();
        let kept: Vec<(Pubkey, Account)> = bank
            .get_all_accounts(true)
            .map_err(|e| std::io::Error::other(e.to_string()))?
            .into_iter()
            .filter(|(_, a, _)| persisted_owner(a.owner()) && !a.executable() && a.lamports() > 0)
            .map(|(k, a, _)| (k, Account::from(a)))
            .collect();
        let bytes = bincode::serialize(&kept).map_err(std::io::Error::other)?;
        let tmp = dir.join("accounts.bin.tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, dir.join("accounts.bin"))?;
        std::fs::write(
            dir.join("faucet.json"),
            format!("{:?}", self.faucet.to_bytes().to_vec()),
        )?;
        Ok(kept.len())
    }

    /// Restore the accounts [`Chain::save`] wrote (none when `dir` holds no ledger).
    pub fn load(&self, dir: &Path) -> std::io::Result<usize> {
        let path = dir.join("accounts.bin");
        if !path.exists() {
            return Ok(0);
        }
        let kept: Vec<(Pubkey, Account)> =
            bincode::deserialize(&std::fs::read(path)?).map_err(std::io::Error::other)?;
        for (k, a) in &kept {
            self.set_account(k, &AccountSharedData::from(a.clone()));
        }
        Ok(kept.len())
    }

    /// Lamports of `key`.
    pub fn balance(&self, key: &Pubkey) -> u64 {
        self.account(key).map(|a| a.lamports()).unwrap_or(0)
    }
}

/// Set the bank's clock sysvar to wall-clock time (a development chain's slots follow real
/// time, so oracle ages and interest behave as on a cluster).
fn set_clock(bank: &Bank) {
    let mut clock: Clock = bank.clock();
    let now = unix_now();
    if now > clock.unix_timestamp {
        clock.unix_timestamp = now;
        bank.set_sysvar_for_tests(&clock);
    }
}

/// Make natively run programs' logs read as a cluster's. solana-program-test's builtin adapter
/// logs its own `invoke` and `success`/`failed` lines beside the runtime's, and its CPI stub
/// logs an `invoke` at the caller's depth before the runtime logs the real one: drop a line
/// repeating the previous one, and an `invoke` immediately followed by the same program's
/// `invoke` one level deeper.
pub fn clean_logs(lines: Vec<String>) -> Vec<String> {
    let structural = |l: &str| {
        l.starts_with("Program ")
            && (l.contains(" invoke [") || l.ends_with(" success") || l.contains(" failed: "))
    };
    let invoke_of = |l: &str| -> Option<(String, u32)> {
        let rest = l.strip_prefix("Program ")?;
        let (prog, depth) = rest.split_once(" invoke [")?;
        Some((prog.to_string(), depth.trim_end_matches(']').parse().ok()?))
    };
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        if structural(l) && out.last() == Some(l) {
            continue;
        }
        if let (Some((p, d)), Some((q, e))) =
            (invoke_of(l), lines.get(i + 1).and_then(|n| invoke_of(n)))
        {
            if p == q && e == d + 1 {
                continue;
            }
        }
        out.push(l.clone());
    }
    out
}

/// Owners whose accounts a development ledger keeps.
fn persisted_owner(owner: &Pubkey) -> bool {
    *owner == solana_sdk::system_program::ID
        || *owner == spl_token::ID
        || *owner == carry_margin::ID
        || *owner == carry_orderbook::ID
        || *owner == carry_margin::oracle::PYTH_RECEIVER_PROGRAM_ID
        || carry_margin::oracle::PYTH_V2_PROGRAM_IDS.contains(owner)
}

/// The faucet keypair a ledger directory holds, if any.
pub fn saved_faucet(dir: &Path) -> Option<Keypair> {
    let text = std::fs::read_to_string(dir.join("faucet.json")).ok()?;
    let bytes: Vec<u8> = serde_json::from_str(&text).ok()?;
    Keypair::try_from(bytes.as_slice()).ok()
}
