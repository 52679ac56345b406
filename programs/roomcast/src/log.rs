//! `emit!` that also works when the program runs natively (local node, tests).
//!
//! Compiled for Solana this is plain `emit!`. Compiled natively, anchor's `emit!` discards the event, so
//! the shim serializes it exactly as `emit!` does (discriminator + borsh) and hands it to the
//! `sol_log_data` syscall stub, which the native runtime routes to the transaction's log collector.

/// Emits an anchor event on-chain and in the native harness alike.
macro_rules! emit_event {
    ($event:expr) => {{
        #[cfg(target_os = "solana")]
        {
            anchor_lang::prelude::emit!($event);
        }
        #[cfg(not(target_os = "solana"))]
        {
            let data = anchor_lang::Event::data(&$event);
            anchor_lang::compat::solana_sysvar::program_stubs::sol_log_data(&[&data]);
        }
    }};
}

pub(crate) use emit_event;
