//! Program logs of natively run programs, routed into the transaction's log collector so that
//! transaction logs carry what a cluster's carry.
//!
//! Run as host code, our programs lose both kinds of log line: `sol_log_data` (Anchor's `emit!`)
//! goes to the syscall stubs, which drop it, and `msg!` (Anchor's error logs too) is a plain
//! `println!` off-chain (solana-msg). This module fixes both:
//! - [`install_stubs`] wraps the syscall stubs solana-program-test installs process-wide with a
//!   router that writes `sol_log_data` into the running instruction's log collector as
//!   `Program data: ...` lines (`stable_log::program_data`), exactly as the SBF syscall does;
//! - [`capture_stdout`] points the process's standard output at a pipe read by a thread; before
//!   every data line, every CPI and at the end of every instruction of our programs,
//!   [`flush_program_output`] collects what the program printed and writes it as
//!   `Program log: ...` lines, in order.
//!
//! The running `InvokeContext` is kept on a per-thread stack by the builtin adapters
//! ([`enter`] / [`leave`], nested for CPI between our programs).

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, Once};
use std::time::Duration;

use anchor_lang::solana_program::account_info::AccountInfo;
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program_stubs::{set_syscall_stubs, SyscallStubs};
use anchor_lang::solana_program::pubkey::Pubkey;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::stable_log;

thread_local! {
    /// `InvokeContext` pointers of the builtin instructions running on this thread.
    static RUNNING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// A builtin of ours starts executing with `ic`.
pub fn enter(ic: &mut InvokeContext) {
    let p = ic as *mut InvokeContext as usize;
    RUNNING.with(|r| r.borrow_mut().push(p));
}

/// The innermost builtin of ours returned.
pub fn leave() {
    RUNNING.with(|r| {
        r.borrow_mut().pop();
    });
}

/// Log a line into the running instruction's collector (no-op outside one).
fn with_context(f: impl FnOnce(&mut InvokeContext)) {
    let top = RUNNING.with(|r| r.borrow().last().copied());
    if let Some(p) = top {
        // SAFETY: the pointer was pushed by `enter` for an InvokeContext that outlives the
        // builtin call, and is popped by `leave` before that call returns.
        let ic = unsafe { &mut *(p as *mut InvokeContext) };
        f(ic)
    }
}

/// Write `lines` as `Program log:` lines of the running instruction.
fn log_lines(lines: Vec<String>) {
    if lines.is_empty() {
        return;
    }
    with_context(|ic| {
        let collector = ic.get_log_collector();
        for l in &lines {
            stable_log::program_log(&collector, l);
        }
    });
}

struct Router(Box<dyn SyscallStubs>);

impl SyscallStubs for Router {
    fn sol_log(&self, message: &str) {
        flush_program_output();
        with_context(|ic| stable_log::program_log(&ic.get_log_collector(), message));
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
        flush_program_output();
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
        flush_program_output();
        if let Some(tap) = *DATA_TAP.lock().unwrap() {
            tap(&fields.concat());
        }
        with_context(|ic| stable_log::program_data(&ic.get_log_collector(), fields));
    }
    fn sol_get_processed_sibling_instruction(&self, index: usize) -> Option<Instruction> {
        self.0.sol_get_processed_sibling_instruction(index)
    }
    fn sol_get_stack_height(&self) -> u64 {
        self.0.sol_get_stack_height()
    }
}

struct Noop;
impl SyscallStubs for Noop {}

/// Optional observer of every `sol_log_data` payload (the fields concatenated), process-wide.
static DATA_TAP: Mutex<Option<DataTap>> = Mutex::new(None);

/// An observer of event payloads.
pub type DataTap = fn(&[u8]);

/// Also hand every `sol_log_data` payload to `tap` (tests keep a process-wide event list).
pub fn set_data_tap(tap: DataTap) {
    *DATA_TAP.lock().unwrap() = Some(tap);
}

/// Install program-test's syscall stubs (native CPI into real SPL Token needs them) and wrap
/// them with the log router. program-test installs its stubs process-wide, once, when the first
/// `ProgramTest` starts; that start panics inside a running tokio runtime, so it is done on a
/// thread of its own. Idempotent.
pub fn install_stubs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // program-test turns the runtime's per-instruction debug logs on unless told otherwise
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut pt = solana_program_test::ProgramTest::default();
                pt.prefer_bpf(false);
                let _ = pt.start().await;
            });
        })
        .join()
        .expect("program-test start");
        let inner = set_syscall_stubs(Box::new(Noop));
        set_syscall_stubs(Box::new(Router(inner)));
    });
}

// ---------------------------------------------------------------------------------------------
// Standard output capture (msg! lines)
// ---------------------------------------------------------------------------------------------

static CAPTURING: AtomicBool = AtomicBool::new(false);
static SYNC_ID: AtomicU64 = AtomicU64::new(0);
static CAPTURED: Mutex<Captured> = Mutex::new(Captured {
    lines: Vec::new(),
    seen: 0,
});
static SEEN: Condvar = Condvar::new();
const SYNC_MARK: &str = "\u{1}carry-sync ";

struct Captured {
    lines: Vec<String>,
    seen: u64,
}

/// Point fd 1 at a pipe read by a thread; returns a handle on the original standard output,
/// which the caller uses for its own console output. Call once, before any program runs.
pub fn capture_stdout() -> std::io::Result<File> {
    std::io::stdout().flush()?;
    let mut fds = [0i32; 2];
    // SAFETY: plain libc calls on fresh descriptors; errors are checked.
    let original = unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let original = libc::dup(1);
        if original < 0 || libc::dup2(fds[1], 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(fds[1]);
        File::from_raw_fd(original)
    };
    // SAFETY: fds[0] is the read end we own.
    let reader = unsafe { File::from_raw_fd(fds[0]) };
    std::thread::Builder::new()
        .name("program-stdout".into())
        .spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                let mut c = CAPTURED.lock().unwrap();
                if let Some(id) = line.strip_prefix(SYNC_MARK) {
                    c.seen = id.parse().unwrap_or(c.seen);
                    SEEN.notify_all();
                } else {
                    c.lines.push(line);
                }
            }
        })?;
    CAPTURING.store(true, Ordering::SeqCst);
    Ok(original)
}

/// Move what the running program printed so far into its instruction's logs.
pub fn flush_program_output() {
    if !CAPTURING.load(Ordering::SeqCst) {
        return;
    }
    let _ = std::io::stdout().flush();
    let id = SYNC_ID.fetch_add(1, Ordering::SeqCst) + 1;
    let mark = format!("{SYNC_MARK}{id}\n");
    // Written straight to fd 1 (not through `println!`, which a test harness may capture), so
    // the reader always sees it.
    // SAFETY: writing a valid buffer to fd 1.
    unsafe {
        libc::write(1, mark.as_ptr() as *const libc::c_void, mark.len());
    }
    let mut c = CAPTURED.lock().unwrap();
    while c.seen < id {
        let (g, timeout) = SEEN.wait_timeout(c, Duration::from_secs(2)).unwrap();
        c = g;
        if timeout.timed_out() {
            break;
        }
    }
    let lines = std::mem::take(&mut c.lines);
    drop(c);
    log_lines(lines);
}
