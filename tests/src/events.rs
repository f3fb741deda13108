//! Events of natively run programs: `sol_log_data` (what `emit!` calls) is not recorded in the
//! transaction logs of solana-program-test's native mode, so this wraps the syscall stubs
//! solana-program-test installs, delegating every syscall to them and keeping a copy of each
//! `sol_log_data` payload in a process-wide list. Tests in one binary run in parallel: filter
//! the events by keys unique to the test.
use anchor_lang::solana_program::account_info::AccountInfo;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_stubs::{set_syscall_stubs, SyscallStubs};
use anchor_lang::solana_program::pubkey::Pubkey;
use std::sync::{Mutex, Once};

static DATA: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

struct Recorder(Box<dyn SyscallStubs>);

impl SyscallStubs for Recorder {
    fn sol_log(&self, message: &str) {
        self.0.sol_log(message)
    }
    fn sol_log_compute_units(&self) {
        self.0.sol_log_compute_units()
    }
    fn sol_remaining_compute_units(&self) -> u64 {
        self.0.sol_remaining_compute_units()
    }
    fn sol_invoke_signed(
        &self,
        ix: &Instruction,
        infos: &[AccountInfo],
        seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        self.0.sol_invoke_signed(ix, infos, seeds)
    }
    fn sol_get_sysvar(&self, id: *const u8, var: *mut u8, offset: u64, length: u64) -> u64 {
        self.0.sol_get_sysvar(id, var, offset, length)
    }
    fn sol_get_clock_sysvar(&self, var: *mut u8) -> u64 {
        self.0.sol_get_clock_sysvar(var)
    }
    fn sol_get_epoch_schedule_sysvar(&self, var: *mut u8) -> u64 {
        self.0.sol_get_epoch_schedule_sysvar(var)
    }
    fn sol_get_fees_sysvar(&self, var: *mut u8) -> u64 {
        self.0.sol_get_fees_sysvar(var)
    }
    fn sol_get_rent_sysvar(&self, var: *mut u8) -> u64 {
        self.0.sol_get_rent_sysvar(var)
    }
    fn sol_get_epoch_rewards_sysvar(&self, var: *mut u8) -> u64 {
        self.0.sol_get_epoch_rewards_sysvar(var)
    }
    fn sol_get_last_restart_slot(&self, var: *mut u8) -> u64 {
        self.0.sol_get_last_restart_slot(var)
    }
    fn sol_get_epoch_stake(&self, vote: *const u8) -> u64 {
        self.0.sol_get_epoch_stake(vote)
    }
    unsafe fn sol_memcpy(&self, dst: *mut u8, src: *const u8, n: usize) {
        self.0.sol_memcpy(dst, src, n)
    }
    unsafe fn sol_memmove(&self, dst: *mut u8, src: *const u8, n: usize) {
        self.0.sol_memmove(dst, src, n)
    }
    unsafe fn sol_memcmp(&self, s1: *const u8, s2: *const u8, n: usize, result: *mut i32) {
        self.0.sol_memcmp(s1, s2, n, result)
    }
    unsafe fn sol_memset(&self, s: *mut u8, c: u8, n: usize) {
        self.0.sol_memset(s, c, n)
    }
    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        self.0.sol_get_return_data()
    }
    fn sol_set_return_data(&self, data: &[u8]) {
        self.0.sol_set_return_data(data)
    }
    fn sol_log_data(&self, fields: &[&[u8]]) {
        DATA.lock().unwrap().push(fields.concat());
        self.0.sol_log_data(fields)
    }
    fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
        self.0.sol_get_processed_sibling_instruction(index)
    }
    fn sol_get_stack_height(&self) -> u64 {
        self.0.sol_get_stack_height()
    }
}

/// Wrap the current stubs (call after a `ProgramTest` has started). Idempotent.
pub fn install() {
    INSTALL.call_once(|| {
        let inner = set_syscall_stubs(Box::new(Recorder(Box::new(Noop))));
        set_syscall_stubs(Box::new(Recorder(inner)));
    });
}
struct Noop;
impl SyscallStubs for Noop {}

/// Every recorded event of type `T` (decoded), oldest first.
pub fn events<T: anchor_lang::AnchorDeserialize + anchor_lang::Discriminator>() -> Vec<T> {
    DATA.lock()
        .unwrap()
        .iter()
        .filter(|d| d.len() >= 8 && &d[..8] == T::DISCRIMINATOR)
        .map(|d| T::deserialize(&mut &d[8..]).expect("event decodes"))
        .collect()
}
