//! Which cluster, signer, program and registry a chain command talks to.
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use roomcast_chain::{Keypair, Pubkey, RoomcastChain, Signer};

#[derive(Args, Debug, Clone)]
pub struct ChainTarget {
    /// Cluster: localnet, devnet, testnet, mainnet-beta, or an http(s) RPC URL.
    #[arg(short = 'u', long = "url", global = true, default_value = "localnet", env = "SOLANA_RPC_URL",
          value_parser = parse_url)]
    pub url: String,
    /// Keypair file that signs and pays (Solana CLI format).
    #[arg(short = 'k', long = "keypair", global = true, env = "ROOMCAST_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// The roomcast program id.
    #[arg(long, global = true, env = "ROOMCAST_PROGRAM_ID", default_value_t = roomcast::ID)]
    pub program_id: Pubkey,
    /// Registry address (default: the registry whose admin is --admin, or the keypair's).
    #[arg(long, global = true, env = "ROOMCAST_REGISTRY")]
    pub registry: Option<Pubkey>,
    /// Admin whose registry to use, when --registry is not given.
    #[arg(long, global = true)]
    pub admin: Option<Pubkey>,
}

fn parse_url(s: &str) -> Result<String, String> {
    roomcast_chain::parse_cluster_url(s)
}

impl ChainTarget {
    pub fn keypair_path(&self) -> PathBuf {
        self.keypair.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".config/solana/id.json")
        })
    }

    pub fn load_keypair(&self) -> anyhow::Result<Keypair> {
        let path = self.keypair_path();
        roomcast_localnet::keypair_file::read(&path).with_context(|| {
            format!(
                "no usable keypair at {} (pass --keypair FILE)",
                path.display()
            )
        })
    }

    /// A client signing with the keypair (required for writes).
    pub fn signing_client(&self) -> anyhow::Result<RoomcastChain> {
        let keypair = self.load_keypair()?;
        Ok(RoomcastChain::new(&self.url, keypair, self.program_id)?)
    }

    /// A client for reads: signs with the keypair if there is one, else with a throwaway key.
    pub fn reading_client(&self) -> anyhow::Result<RoomcastChain> {
        let keypair = self.load_keypair().unwrap_or_else(|_| Keypair::new());
        Ok(RoomcastChain::new(&self.url, keypair, self.program_id)?)
    }

    /// The registry: --registry, else the registry of --admin, else of the keypair's pubkey.
    pub fn registry(&self, client: &RoomcastChain) -> anyhow::Result<Pubkey> {
        if let Some(registry) = self.registry {
            return Ok(registry);
        }
        let admin = match self.admin {
            Some(admin) => admin,
            None => self
                .load_keypair()
                .context("no registry given: pass --registry ADDRESS or --admin PUBKEY")?
                .pubkey(),
        };
        Ok(client.registry_address(&admin))
    }

    /// The registry only if one was named (for listings across every registry otherwise).
    pub fn explicit_registry(&self, client: &RoomcastChain) -> Option<Pubkey> {
        self.registry
            .or_else(|| self.admin.map(|admin| client.registry_address(&admin)))
    }
}
