//! Runs the roomcast Anchor program natively (x86_64) inside LiteSVM.
//!
//! There is no SBF toolchain on our machines, so the program cannot be loaded as a `.so`. Instead it is
//! registered as a LiteSVM *builtin*: [`builtin`] adapts the VM's builtin interface to the program's
//! `entry`, and [`stubs`] routes the program's syscalls (CPI, sysvars, logs, return data) to the
//! runtime's invoke context. Transactions are real: signed, sanitized, fee-charged and atomic.
//!
//! Limits (documented for users): compute units are not metered for builtins, and the syscall stubs
//! are process-global, so a process executes one transaction at a time (LiteSVM needs `&mut` anyway).

mod builtin;
mod stubs;

use std::time::{SystemTime, UNIX_EPOCH};

pub use litesvm;
use litesvm::LiteSVM;

/// The roomcast program id, as LiteSVM's address type.
pub fn program_id() -> solana_pubkey::Pubkey {
    solana_pubkey::Pubkey::new_from_array(roomcast::ID.to_bytes())
}

/// A LiteSVM instance with the roomcast program loaded natively and the clock at wall time.
pub fn new_svm() -> LiteSVM {
    let mut svm = LiteSVM::new();
    install(&mut svm);
    set_clock_to_wall_time(&mut svm);
    svm
}

/// Registers the roomcast program as a native builtin in `svm` and installs the syscall stubs.
pub fn install(svm: &mut LiteSVM) {
    stubs::install();
    svm.add_builtin(program_id(), builtin::register);
}

/// Sets the Clock sysvar's `unix_timestamp` to now (LiteSVM starts at 0), keeping the slot.
pub fn set_clock_to_wall_time(svm: &mut LiteSVM) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    set_unix_timestamp(svm, now);
}

/// Sets the Clock sysvar's `unix_timestamp`, keeping the slot and epoch.
pub fn set_unix_timestamp(svm: &mut LiteSVM, unix_timestamp: i64) {
    let mut clock: solana_clock::Clock = svm.get_sysvar();
    clock.unix_timestamp = unix_timestamp;
    svm.set_sysvar(&clock);
}
