use anyhow::anyhow;
use clap::Subcommand;
use roomcast_chain::view::RegistryView;
use roomcast_chain::Pubkey;

use super::output::{self, TxOutcome};
use super::ChainTarget;

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Create the keypair's registry (the keypair becomes its admin).
    Init {
        /// The backend key allowed to create rooms.
        #[arg(long)]
        registrar: Pubkey,
    },
    /// Show a registry.
    Show,
    /// Replace the registrar (admin only).
    SetRegistrar {
        /// The new registrar.
        registrar: Pubkey,
    },
}

pub async fn run(target: &ChainTarget, as_json: bool, cmd: RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::Init { registrar } => {
            let client = target.signing_client()?;
            let (registry, sig) = client.initialize_registry(registrar).await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Initialized registry",
                    address: registry.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
        RegistryCommand::Show => {
            let client = target.reading_client()?;
            let address = target.registry(&client)?;
            let registry = client
                .registry(&address)
                .await?
                .ok_or_else(|| anyhow!("registry {address} not found"))?;
            let view = RegistryView::new(&address, &registry);
            if as_json {
                output::json(&view);
            } else {
                output::registry(&view);
            }
        }
        RegistryCommand::SetRegistrar { registrar } => {
            let client = target.signing_client()?;
            let registry = target.registry(&client)?;
            let sig = client.set_registrar(registry, registrar).await?;
            output::outcome(
                as_json,
                TxOutcome {
                    action: "Set registrar of",
                    address: registry.to_string(),
                    signature: sig.to_string(),
                },
            );
        }
    }
    Ok(())
}
