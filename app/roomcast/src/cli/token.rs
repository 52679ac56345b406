//! `roomcast token …`: make test tokens for gated rooms on any cluster (the keypair signs and pays):
//! `create-mint`, `mint MINT AMOUNT --to WALLET`, `transfer MINT AMOUNT --to WALLET`, `balance`.
//! Amounts are raw units (base units of the mint).
use anyhow::{bail, Context};
use clap::Subcommand;
use roomcast_chain::token::{self, SPL_TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID};
use roomcast_chain::{Keypair, Pubkey, RoomcastChain, Signer};
use serde::Serialize;

use super::output;
use super::ChainTarget;

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a mint whose mint and freeze authority is the keypair.
    CreateMint {
        #[arg(long, default_value_t = 6)]
        decimals: u8,
        /// Create it under Token-2022 instead of SPL Token.
        #[arg(long)]
        token_2022: bool,
    },
    /// Mint AMOUNT raw units to WALLET's associated token account (made if needed).
    Mint {
        mint: Pubkey,
        amount: u64,
        #[arg(long)]
        to: Pubkey,
    },
    /// Transfer AMOUNT raw units from the keypair's associated account to WALLET's.
    Transfer {
        mint: Pubkey,
        amount: u64,
        #[arg(long)]
        to: Pubkey,
    },
    /// What WALLET (default: the keypair) holds of MINT, frozen accounts apart.
    Balance {
        mint: Pubkey,
        #[arg(long)]
        owner: Option<Pubkey>,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenOutcome {
    mint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frozen: Option<String>,
}

async fn mint_of(client: &RoomcastChain, mint: &Pubkey) -> anyhow::Result<token::MintInfo> {
    token::mint_info(client.rpc(), mint)
        .await?
        .with_context(|| format!("{mint} is not an SPL Token or Token-2022 mint on this cluster"))
}

pub async fn run(target: &ChainTarget, as_json: bool, cmd: TokenCommand) -> anyhow::Result<()> {
    let outcome = match cmd {
        TokenCommand::CreateMint {
            decimals,
            token_2022,
        } => {
            let client = target.signing_client()?;
            let program = if token_2022 {
                TOKEN_2022_PROGRAM_ID
            } else {
                SPL_TOKEN_PROGRAM_ID
            };
            let mint = Keypair::new();
            let rent = client
                .rpc()
                .get_minimum_balance_for_rent_exemption(token::MINT_LEN)
                .await?;
            let me = client.signer_pubkey();
            let ixs = token::create_mint_ixs(&me, &mint.pubkey(), &me, decimals, &program, rent);
            let signature = client.send_instructions(&ixs, &[&mint]).await?;
            TokenOutcome {
                mint: mint.pubkey().to_string(),
                signature: Some(signature.to_string()),
                account: None,
                amount: None,
                frozen: None,
            }
        }
        TokenCommand::Mint { mint, amount, to } => {
            let client = target.signing_client()?;
            let info = mint_of(&client, &mint).await?;
            let me = client.signer_pubkey();
            let account = token::associated_token_address(&to, &mint, &info.program);
            let ixs = [
                token::create_associated_account_ix(&me, &to, &mint, &info.program),
                token::mint_to_ix(&info.program, &mint, &account, &me, amount, info.decimals),
            ];
            let signature = client.send_instructions(&ixs, &[]).await?;
            TokenOutcome {
                mint: mint.to_string(),
                signature: Some(signature.to_string()),
                account: Some(account.to_string()),
                amount: Some(amount.to_string()),
                frozen: None,
            }
        }
        TokenCommand::Transfer { mint, amount, to } => {
            let client = target.signing_client()?;
            let info = mint_of(&client, &mint).await?;
            let me = client.signer_pubkey();
            let from = token::associated_token_address(&me, &mint, &info.program);
            let account = token::associated_token_address(&to, &mint, &info.program);
            let held = token::holdings(client.rpc(), &me, &mint).await?;
            if held.usable < amount {
                bail!(
                    "the keypair holds {} of {mint}; cannot transfer {amount}",
                    held.usable
                );
            }
            let ixs = [
                token::create_associated_account_ix(&me, &to, &mint, &info.program),
                token::transfer_ix(
                    &info.program,
                    &from,
                    &mint,
                    &account,
                    &me,
                    amount,
                    info.decimals,
                ),
            ];
            let signature = client.send_instructions(&ixs, &[]).await?;
            TokenOutcome {
                mint: mint.to_string(),
                signature: Some(signature.to_string()),
                account: Some(account.to_string()),
                amount: Some(amount.to_string()),
                frozen: None,
            }
        }
        TokenCommand::Balance { mint, owner } => {
            let client = target.reading_client()?;
            let owner = match owner {
                Some(owner) => owner,
                None => target.load_keypair()?.pubkey(),
            };
            let held = token::holdings(client.rpc(), &owner, &mint).await?;
            TokenOutcome {
                mint: mint.to_string(),
                signature: None,
                account: None,
                amount: Some(held.usable.to_string()),
                frozen: Some(held.frozen.to_string()),
            }
        }
    };
    if as_json {
        output::json(&outcome);
    } else {
        println!("Mint: {}", outcome.mint);
        if let Some(account) = &outcome.account {
            println!("Account: {account}");
        }
        if let Some(amount) = &outcome.amount {
            println!("Amount: {amount}");
        }
        if let Some(frozen) = &outcome.frozen {
            println!("Frozen: {frozen}");
        }
        if let Some(signature) = &outcome.signature {
            println!("Signature: {signature}");
        }
    }
    Ok(())
}
