//! Syscall stubs: what the natively compiled program calls instead of SBF syscalls.
//!
//! anchor-lang 1.2 reaches CPIs, sysvars and logs through `solana-sysvar` **3.x**'s `program_stubs`
//! (LiteSVM and the runtime use 4.x), so the stubs are installed there. The default 3.x stub for
//! `sol_invoke_signed` only logs and returns Ok, which would make `init` "succeed" without creating
//! anything: these stubs execute the CPI for real through the invoke context.
use std::cell::Cell;
use std::sync::Once;

use anchor_lang::compat::solana_sysvar::program_stubs::{set_syscall_stubs, SyscallStubs};
use solana_account_info::AccountInfo;
use solana_instruction::{error::InstructionError, Instruction};
use solana_program_error::{ProgramError, ProgramResult};
use solana_program_runtime::{invoke_context::InvokeContext, stable_log};
use solana_pubkey::Pubkey;

const SUCCESS: u64 = 0;
const OFFSET_LENGTH_EXCEEDS_SYSVAR: u64 = 1;
const SYSVAR_NOT_FOUND: u64 = 2;

thread_local! {
    /// The invoke context of the instruction this thread is executing, type-erased.
    static CURRENT: Cell<usize> = const { Cell::new(0) };
}

/// Restores the previous invoke context when an instruction (or a CPI into it) returns.
pub(crate) struct ContextGuard(usize);

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// Makes `invoke_context` the one the stubs act on until the guard drops.
pub(crate) fn enter(invoke_context: &mut InvokeContext) -> ContextGuard {
    let ptr = invoke_context as *mut InvokeContext as usize;
    ContextGuard(CURRENT.with(|c| c.replace(ptr)))
}

fn with_context<R>(f: impl FnOnce(&mut InvokeContext) -> R) -> R {
    let ptr = CURRENT.with(|c| c.get());
    assert!(ptr != 0, "roomcast-svm: syscall outside of an instruction");
    // SAFETY: the pointer was set by `enter` from a live `&mut InvokeContext` on this thread, and the
    // guard clears it before that borrow ends. The program runs synchronously inside that borrow.
    let ctx = unsafe { &mut *(ptr as *mut InvokeContext) };
    f(ctx)
}

/// Installs the stubs once per process.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        set_syscall_stubs(Box::new(RuntimeStubs));
    });
}

struct RuntimeStubs;

impl SyscallStubs for RuntimeStubs {
    fn sol_log(&self, message: &str) {
        with_context(|ctx| stable_log::program_log(&ctx.get_log_collector(), message));
    }

    fn sol_log_data(&self, fields: &[&[u8]]) {
        with_context(|ctx| stable_log::program_data(&ctx.get_log_collector(), fields));
    }

    fn sol_log_compute_units(&self) {
        with_context(|ctx| {
            let remaining =
                solana_program_runtime::solana_sbpf::vm::ContextObject::get_remaining(ctx);
            stable_log::program_log(
                &ctx.get_log_collector(),
                &format!("Program consumption: {remaining} units remaining"),
            )
        });
    }

    fn sol_remaining_compute_units(&self) -> u64 {
        with_context(|ctx| {
            solana_program_runtime::solana_sbpf::vm::ContextObject::get_remaining(ctx)
        })
    }

    fn sol_invoke_signed(
        &self,
        instruction: &Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> ProgramResult {
        with_context(|ctx| invoke_signed(ctx, instruction, account_infos, signers_seeds))
    }

    fn sol_get_sysvar(
        &self,
        sysvar_id_addr: *const u8,
        var_addr: *mut u8,
        offset: u64,
        length: u64,
    ) -> u64 {
        // SAFETY: the caller passes a pointer to a 32-byte sysvar id.
        let id = Pubkey::new_from_array(unsafe { *(sysvar_id_addr as *const [u8; 32]) });
        with_context(|ctx| {
            let Some(buffer) = ctx
                .environment_config
                .sysvar_cache()
                .sysvar_id_to_buffer(&id)
            else {
                return SYSVAR_NOT_FOUND;
            };
            let (offset, length) = (offset as usize, length as usize);
            let Some(bytes) = offset
                .checked_add(length)
                .and_then(|end| buffer.get(offset..end))
            else {
                return OFFSET_LENGTH_EXCEEDS_SYSVAR;
            };
            // SAFETY: the caller provides `length` writable bytes at `var_addr`.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), var_addr, length) };
            SUCCESS
        })
    }

    fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ctx| {
            write_sysvar(ctx.environment_config.sysvar_cache().get_clock(), var_addr)
        })
    }

    fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ctx| write_sysvar(ctx.environment_config.sysvar_cache().get_rent(), var_addr))
    }

    fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ctx| {
            write_sysvar(
                ctx.environment_config.sysvar_cache().get_epoch_schedule(),
                var_addr,
            )
        })
    }

    fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
        with_context(|ctx| {
            write_sysvar(
                ctx.environment_config.sysvar_cache().get_epoch_rewards(),
                var_addr,
            )
        })
    }

    fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
        with_context(|ctx| {
            write_sysvar(
                ctx.environment_config
                    .sysvar_cache()
                    .get_last_restart_slot(),
                var_addr,
            )
        })
    }

    fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
        with_context(|ctx| {
            let (program_id, data) = ctx.transaction_context.get_return_data();
            (!data.is_empty()).then(|| (*program_id, data.to_vec()))
        })
    }

    fn sol_set_return_data(&self, data: &[u8]) {
        with_context(|ctx| {
            let caller = ctx
                .transaction_context
                .get_current_instruction_context()
                .and_then(|ic| ic.get_program_key().copied());
            if let Ok(caller) = caller {
                let _ = ctx
                    .transaction_context
                    .set_return_data(caller, data.to_vec());
            }
        })
    }

    fn sol_get_stack_height(&self) -> u64 {
        with_context(|ctx| ctx.get_stack_height() as u64)
    }
}

/// Copies a sysvar value into the program's memory, as the real `sol_get_*_sysvar` syscalls do.
fn write_sysvar<T: Clone>(
    sysvar: Result<std::sync::Arc<T>, InstructionError>,
    var_addr: *mut u8,
) -> u64 {
    match sysvar {
        Ok(value) => {
            // SAFETY: the program passes a pointer to its own `T` (same `repr(C)` layout across
            // the 3.x/4.x sysvar crates).
            unsafe { std::ptr::write(var_addr as *mut T, T::clone(&value)) };
            SUCCESS
        }
        Err(_) => SYSVAR_NOT_FOUND,
    }
}

/// Executes a cross-program invocation: syncs the caller's account views into the transaction,
/// runs the callee, then syncs the results back into the caller's `AccountInfo`s.
fn invoke_signed(
    ctx: &mut InvokeContext,
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> ProgramResult {
    let caller = *ctx
        .transaction_context
        .get_current_instruction_context()
        .and_then(|ic| ic.get_program_key().copied())
        .map_err(ix_err)?
        .as_array();
    let caller = Pubkey::new_from_array(caller);
    let signers = signers_seeds
        .iter()
        .map(|seeds| Pubkey::create_program_address(seeds, &caller))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ProgramError::InvalidSeeds)?;

    ctx.prepare_next_cpi_instruction(instruction.clone(), &signers)
        .map_err(ix_err)?;

    // Caller → transaction: the callee must see what the caller wrote so far.
    let mut writable: Vec<(u16, usize)> = Vec::new();
    {
        let tc = &ctx.transaction_context;
        let current = tc.get_current_instruction_context().map_err(ix_err)?;
        let next = tc.get_next_instruction_context().map_err(ix_err)?;
        for ia in next.instruction_accounts().iter() {
            let key = tc
                .get_key_of_account_at_index(ia.index_in_transaction)
                .map_err(ix_err)?;
            let info_index = account_infos
                .iter()
                .position(|info| info.key == key)
                .ok_or(ProgramError::NotEnoughAccountKeys)?;
            let info = &account_infos[info_index];
            let index_in_caller = current
                .get_index_of_account_in_instruction(ia.index_in_transaction)
                .map_err(ix_err)?;
            let mut account = current
                .try_borrow_instruction_account(index_in_caller)
                .map_err(ix_err)?;
            if account.get_lamports() != info.lamports() {
                account.set_lamports(info.lamports()).map_err(ix_err)?;
            }
            let data = info.try_borrow_data()?;
            if account.get_data() != &data[..] {
                account.set_data_from_slice(&data).map_err(ix_err)?;
            }
            if account.get_owner() != info.owner {
                account.set_owner(info.owner.as_ref()).map_err(ix_err)?;
            }
            if ia.is_writable() {
                writable.push((ia.index_in_transaction, info_index));
            }
        }
    }

    let mut units = 0;
    ctx.process_instruction(&mut units, &mut Default::default())
        .map_err(ix_err)?;

    // Transaction → caller: reflect what the callee changed.
    let tc = &ctx.transaction_context;
    let current = tc.get_current_instruction_context().map_err(ix_err)?;
    for (index_in_transaction, info_index) in writable {
        let index_in_caller = current
            .get_index_of_account_in_instruction(index_in_transaction)
            .map_err(ix_err)?;
        let account = current
            .try_borrow_instruction_account(index_in_caller)
            .map_err(ix_err)?;
        let info = &account_infos[info_index];
        **info.try_borrow_mut_lamports()? = account.get_lamports();
        if info.owner != account.get_owner() {
            info.assign(account.get_owner());
        }
        let new_data = account.get_data();
        if info.data_len() != new_data.len() {
            info.resize(new_data.len())?;
        }
        info.try_borrow_mut_data()?.copy_from_slice(new_data);
    }
    Ok(())
}

fn ix_err(err: InstructionError) -> ProgramError {
    ProgramError::try_from(err).unwrap_or(ProgramError::Custom(u32::MAX))
}
