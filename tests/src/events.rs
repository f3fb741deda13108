//! Events of the programs, as the tests read them: every `sol_log_data` payload (what `emit!`
//! writes) kept in a process-wide list through the local chain's log router
//! (`carry_localnet::logs`, which also puts them in the transaction logs as `Program data:`
//! lines). Tests in one binary run in parallel: filter the events by keys unique to the test.

use std::sync::{Mutex, Once};

static DATA: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

fn keep(data: &[u8]) {
    DATA.lock().unwrap().push(data.to_vec());
}

/// Start recording (call after a `TestContext` exists). Idempotent.
pub fn install() {
    INSTALL.call_once(|| {
        carry_localnet::logs::install_stubs();
        carry_localnet::logs::set_data_tap(keep);
    });
}

/// Every recorded event of type `T` (decoded), oldest first.
pub fn events<T: anchor_lang::AnchorDeserialize + anchor_lang::Discriminator>() -> Vec<T> {
    DATA.lock()
        .unwrap()
        .iter()
        .filter(|d| d.len() >= 8 && &d[..8] == T::DISCRIMINATOR)
        .map(|d| T::deserialize(&mut &d[8..]).expect("event decodes"))
        .collect()
}
