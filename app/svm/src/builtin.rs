//! The builtin adapter: the VM calls it like any builtin program, it calls the Anchor `entry`.
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;

use solana_instruction::error::InstructionError;
use solana_program_runtime::{
    declare_process_instruction, invoke_context::InvokeContext,
    serialization::serialize_parameters, solana_sbpf::program::BuiltinFunctionDefinition,
};
use solana_transaction_context::IndexOfAccount;

use crate::stubs;

declare_process_instruction!(RoomcastEntrypoint, 1, |invoke_context| {
    run_entry(invoke_context)
});

/// The registerer LiteSVM's `add_builtin` takes.
pub(crate) fn register(
    program: &mut solana_program_runtime::solana_sbpf::program::BuiltinProgram<
        InvokeContext<'static, 'static>,
    >,
    name: &str,
) -> Result<(), solana_program_runtime::solana_sbpf::elf::ElfError> {
    RoomcastEntrypoint::register(program, name)
}

/// Serializes the instruction's accounts as the SBF loader would, runs the program on them, and
/// writes the changes of writable accounts back into the transaction.
fn run_entry(invoke_context: &mut InvokeContext) -> Result<(), InstructionError> {
    let _guard = stubs::enter(invoke_context);

    let instruction_context = invoke_context
        .transaction_context
        .get_current_instruction_context()?;
    let account_indices: HashSet<IndexOfAccount> =
        (0..instruction_context.get_number_of_instruction_accounts()).collect();
    let (mut parameter_bytes, _regions, _lengths, _data_offset) =
        serialize_parameters(&instruction_context, false, false, false)?;

    // SAFETY: `parameter_bytes` is laid out exactly as the SBF entrypoint expects and outlives every
    // `AccountInfo` borrowed from it (they are dropped at the end of this function).
    let (program_id, account_infos, data) = unsafe {
        solana_program_entrypoint::deserialize(parameter_bytes.as_slice_mut().as_mut_ptr())
    };

    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        roomcast::entry(program_id, &account_infos, data)
    }));
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(program_error)) => {
            return Err(InstructionError::from(u64::from(program_error)));
        }
        Err(_panic) => return Err(InstructionError::ProgramFailedToComplete),
    }

    // A CPI may have replaced the current instruction context: fetch it again.
    let instruction_context = invoke_context
        .transaction_context
        .get_current_instruction_context()?;
    for index in account_indices {
        let mut account = instruction_context.try_borrow_instruction_account(index)?;
        if !account.is_writable() {
            continue;
        }
        let Some(info) = account_infos.iter().find(|a| a.key == account.get_key()) else {
            continue;
        };
        if account.get_lamports() != info.lamports() {
            account.set_lamports(info.lamports())?;
        }
        if account.can_data_be_resized(info.data_len()).is_ok() {
            account.set_data_from_slice(&info.data.borrow())?;
        }
        if account.get_owner() != info.owner {
            account.set_owner(info.owner.as_ref())?;
        }
    }
    Ok(())
}
