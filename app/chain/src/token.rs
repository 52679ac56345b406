//! SPL Token and Token-2022 through the official RPC client: what a gate needs to know about a mint
//! ([`MintInfo`]) and a wallet's holdings of it ([`Holdings`], one `getTokenAccountsByOwner` with
//! `jsonParsed`), and the few token-program instructions the CLI and tests send (built by hand: the
//! wire format is stable and small, and no token crate is needed).
use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_instruction::{AccountMeta, Instruction};
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::request::TokenAccountsFilter;

use crate::error::ChainError;

/// Counts one RPC call like the client's own (`roomcast_upstream_requests_total`).
fn record<T>(operation: &'static str, result: Result<T, ChainError>) -> Result<T, ChainError> {
    metrics::counter!(
        "roomcast_upstream_requests_total",
        "upstream" => "solana_rpc",
        "operation" => operation,
        "outcome" => if result.is_ok() { "ok" } else { "error" },
    )
    .increment(1);
    result
}

pub use roomcast::{SPL_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID};

/// The associated token account program.
pub const ASSOCIATED_TOKEN_PROGRAM_ID: Pubkey =
    anchor_lang::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// Size of a base mint.
pub const MINT_LEN: usize = 82;

/// A mint as a gate needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintInfo {
    /// SPL Token or Token-2022.
    pub program: Pubkey,
    pub decimals: u8,
    pub supply: u64,
}

/// What a wallet holds of one mint: the sum over its token accounts, frozen ones apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Raw amount in accounts that are not frozen (what counts for a gate).
    pub usable: u64,
    /// Raw amount in frozen accounts (not counted).
    pub frozen: u64,
    pub accounts: usize,
}

/// Reads `mint`: `None` when no such account exists or it is not an initialized mint of a token
/// program.
pub async fn mint_info(rpc: &RpcClient, mint: &Pubkey) -> Result<Option<MintInfo>, ChainError> {
    let response = record(
        "get_account_info",
        rpc.get_account_with_commitment(mint, CommitmentConfig::confirmed())
            .await
            .map_err(ChainError::rpc),
    )?;
    let Some(account) = response.value else {
        return Ok(None);
    };
    let program = account.owner;
    if program != SPL_TOKEN_PROGRAM_ID && program != TOKEN_2022_PROGRAM_ID {
        return Ok(None);
    }
    let d = &account.data;
    let shaped =
        d.len() == MINT_LEN || (program == TOKEN_2022_PROGRAM_ID && d.len() > 165 && d[165] == 1);
    if !shaped || d[45] != 1 {
        return Ok(None);
    }
    let mut supply = [0u8; 8];
    supply.copy_from_slice(&d[36..44]);
    Ok(Some(MintInfo {
        program,
        decimals: d[44],
        supply: u64::from_le_bytes(supply),
    }))
}

/// `owner`'s holdings of `mint` (either token program: the node looks the mint's program up), from
/// one `getTokenAccountsByOwner(owner, {mint}, jsonParsed)`.
pub async fn holdings(
    rpc: &RpcClient,
    owner: &Pubkey,
    mint: &Pubkey,
) -> Result<Holdings, ChainError> {
    let accounts = record(
        "get_token_accounts_by_owner",
        rpc.get_token_accounts_by_owner_with_commitment(
            owner,
            TokenAccountsFilter::Mint(*mint),
            CommitmentConfig::confirmed(),
        )
        .await
        .map_err(ChainError::rpc),
    )?
    .value;
    let mut total = Holdings::default();
    for keyed in accounts {
        let solana_account_decoder_client_types::UiAccountData::Json(parsed) = &keyed.account.data
        else {
            return Err(ChainError::Rpc("token account was not jsonParsed".into()));
        };
        let info = &parsed.parsed["info"];
        let amount = info["tokenAmount"]["amount"]
            .as_str()
            .and_then(|a| a.parse::<u64>().ok())
            .ok_or_else(|| ChainError::Rpc("token account without tokenAmount.amount".into()))?;
        total.accounts += 1;
        if info["state"] == "frozen" {
            total.frozen = total.frozen.saturating_add(amount);
        } else {
            total.usable = total.usable.saturating_add(amount);
        }
    }
    Ok(total)
}

/// The associated token account of `owner` for `mint` under `token_program`.
pub fn associated_token_address(owner: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM_ID,
    )
    .0
}

/// `InitializeMint2` of an account already allocated ([`MINT_LEN`] bytes, owned by `token_program`);
/// `authority` mints and may freeze.
pub fn initialize_mint_ix(
    token_program: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
) -> Instruction {
    let mut data = vec![20, decimals];
    data.extend_from_slice(authority.as_ref());
    data.push(1);
    data.extend_from_slice(authority.as_ref());
    Instruction {
        program_id: *token_program,
        accounts: vec![AccountMeta::new(*mint, false)],
        data,
    }
}

/// The associated token program's `CreateIdempotent`.
pub fn create_associated_account_ix(
    payer: &Pubkey,
    owner: &Pubkey,
    mint: &Pubkey,
    token_program: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(associated_token_address(owner, mint, token_program), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(anchor_lang::system_program::ID, false),
            AccountMeta::new_readonly(*token_program, false),
        ],
        data: vec![1],
    }
}

/// `MintToChecked` into `destination` (a token account of `mint`).
pub fn mint_to_ix(
    token_program: &Pubkey,
    mint: &Pubkey,
    destination: &Pubkey,
    authority: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    let mut data = vec![14];
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    Instruction {
        program_id: *token_program,
        accounts: vec![
            AccountMeta::new(*mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*authority, true),
        ],
        data,
    }
}

/// `TransferChecked` from `source` (owned by `owner`) to `destination`.
pub fn transfer_ix(
    token_program: &Pubkey,
    source: &Pubkey,
    mint: &Pubkey,
    destination: &Pubkey,
    owner: &Pubkey,
    amount: u64,
    decimals: u8,
) -> Instruction {
    let mut data = vec![12];
    data.extend_from_slice(&amount.to_le_bytes());
    data.push(decimals);
    Instruction {
        program_id: *token_program,
        accounts: vec![
            AccountMeta::new(*source, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new(*destination, false),
            AccountMeta::new_readonly(*owner, true),
        ],
        data,
    }
}

/// `FreezeAccount` (by the mint's freeze authority).
pub fn freeze_ix(
    token_program: &Pubkey,
    account: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
) -> Instruction {
    Instruction {
        program_id: *token_program,
        accounts: vec![
            AccountMeta::new(*account, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(*authority, true),
        ],
        data: vec![10],
    }
}

/// The system program's `CreateAccount` for a new mint, then `InitializeMint2` (`mint` signs too).
pub fn create_mint_ixs(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
    token_program: &Pubkey,
    rent_lamports: u64,
) -> Vec<Instruction> {
    let mut data = 0u32.to_le_bytes().to_vec();
    data.extend_from_slice(&rent_lamports.to_le_bytes());
    data.extend_from_slice(&(MINT_LEN as u64).to_le_bytes());
    data.extend_from_slice(token_program.as_ref());
    let create = Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(*mint, true),
        ],
        data,
    };
    vec![
        create,
        initialize_mint_ix(token_program, mint, authority, decimals),
    ]
}
