//! The builtin adapter: the VM calls it like any builtin program, it calls the Anchor `entry`.
use std::panic::AssertUnwindSafe;

use crate::stubs;
use solana_instruction::error::InstructionError;
use solana_program_runtime::{
    declare_process_instruction,
    invoke_context::InvokeContext,
    serialization::{deserialize_parameters, serialize_parameters},
    solana_sbpf::program::BuiltinFunctionDefinition,
};

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
/// writes the results back with the loader's own `deserialize_parameters`: the same checks as on a
/// cluster (lamports and data only on writable, program-owned accounts; resizes within the
/// 10 KiB-per-instruction growth limit, else `InvalidRealloc`), never a silently dropped change.
fn run_entry(invoke_context: &mut InvokeContext) -> Result<(), InstructionError> {
    let _guard = stubs::enter(invoke_context);

    let instruction_context = invoke_context
        .transaction_context
        .get_current_instruction_context()?;
    let (mut parameter_bytes, _regions, accounts_metadata, _data_offset) =
        serialize_parameters(&instruction_context, false, false, false)?;

    let outcome = {
        // SAFETY: `parameter_bytes` is laid out exactly as the SBF entrypoint expects and outlives
        // every `AccountInfo` borrowed from it: they are dropped at the end of this block, before
        // the buffer is read back.
        let (program_id, account_infos, data) = unsafe {
            solana_program_entrypoint::deserialize(parameter_bytes.as_slice_mut().as_mut_ptr())
        };
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            roomcast::entry(program_id, &account_infos, data)
        }))
    };
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(program_error)) => {
            return Err(InstructionError::from(u64::from(program_error)));
        }
        Err(_panic) => return Err(InstructionError::ProgramFailedToComplete),
    }

    // A CPI may have replaced the current instruction context: fetch it again. The CPI stubs keep
    // the buffer current (they write the callee's results through the `AccountInfo`s).
    let instruction_context = invoke_context
        .transaction_context
        .get_current_instruction_context()?;
    deserialize_parameters(
        &instruction_context,
        false,
        false,
        parameter_bytes.as_slice(),
        &accounts_metadata,
    )
}
