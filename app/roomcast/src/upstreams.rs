//! Connects the two upstreams: real Cloudflare and a real cluster when configured, otherwise the
//! embedded Stream emulator and local Solana node (same HTTP/JSON-RPC code path either way). The
//! embedded ones persist in `--data-dir` (ledger, faucet and registrar keypairs, the emulator's
//! live inputs and signing keys, the backend's own Stream signing key), marked with the data
//! layout's `FORMAT`.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;
use roomcast_chain::{Keypair, RoomcastChain};
use roomcast_localnet::{LocalNode, NodeOptions};
use roomcast_stream::client::{StreamClient, StreamConfig};
use roomcast_stream::emulator::{Emulator, EmulatorHandle, EmulatorOptions, InputStore};
use secrecy::SecretString;

use roomcast_api::core::config::{ChainMode, CloudflareMode, ServeArgs};
use roomcast_api::Clients;

/// Lamports the embedded registrar starts with (pays rent and fees).
const EMBEDDED_REGISTRAR_LAMPORTS: u64 = 1_000 * 1_000_000_000;

pub struct Upstreams {
    pub clients: Clients,
    /// Present in embedded mode; kept alive for the server's lifetime.
    pub emulator: Option<EmulatorHandle>,
    pub node: Option<LocalNode>,
    /// Where embedded state persists (`None` with `--ephemeral` or nothing embedded).
    pub data_dir: Option<PathBuf>,
    /// Saves the emulator's inputs periodically; stopped on shutdown.
    saver: Option<(
        tokio::task::JoinHandle<()>,
        tokio_util::sync::CancellationToken,
    )>,
}

/// Files inside `--data-dir`.
const LEDGER_FILE: &str = "ledger.json";
const FAUCET_FILE: &str = "faucet-keypair.json";
const REGISTRAR_FILE: &str = "registrar-keypair.json";
const INPUTS_FILE: &str = "stream-inputs.json";
/// The embedded emulator's signing keys (public halves).
const EMULATOR_KEYS_FILE: &str = "stream-emulator-keys.json";
/// The backend's own Stream signing key (id + private PEM) in the embedded default.
const SIGNING_KEY_FILE: &str = "stream-signing-key.json";
const MEDIA_DIR: &str = "media";
/// What layout the data in a data dir has. A ledger written before rooms were sized to their content
/// (412-byte rooms, no marker) cannot be read by this program: refuse it with a clear message
/// rather than serve rooms that fail to decode.
const FORMAT_FILE: &str = "FORMAT";
const FORMAT: &str = "roomcast-data 2 (content-sized rooms)\n";

/// Checks that `dir` is empty or holds data in this version's layout, and marks it as such.
fn check_data_dir_format(dir: &std::path::Path) -> anyhow::Result<()> {
    let marker = dir.join(FORMAT_FILE);
    match std::fs::read_to_string(&marker) {
        Ok(found) if found == FORMAT => return Ok(()),
        Ok(found) => anyhow::bail!(
            "data dir {} holds data in another layout ({}); remove it (rm -rf {}) or choose another --data-dir",
            dir.display(),
            found.trim(),
            dir.display()
        ),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(e).with_context(|| format!("reading {}", marker.display()))
        }
        Err(_) => {}
    }
    if dir.join(LEDGER_FILE).exists() {
        anyhow::bail!(
            "data dir {} was written by an older roomcast (rooms in the 412-byte layout); remove it (rm -rf {}) or choose another --data-dir",
            dir.display(),
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&marker, FORMAT).with_context(|| format!("writing {}", marker.display()))
}

/// How often the emulator's inputs and the ledger are saved while running.
const SAVE_INTERVAL: Duration = Duration::from_secs(2);

impl Upstreams {
    pub async fn connect(
        args: &ServeArgs,
        cloudflare: CloudflareMode,
        chain: ChainMode,
    ) -> anyhow::Result<Upstreams> {
        let embedded =
            matches!(cloudflare, CloudflareMode::Embedded) || matches!(chain, ChainMode::Embedded);
        let data_dir = (embedded && !args.ephemeral).then(|| args.data_dir.clone());
        if let Some(dir) = &data_dir {
            check_data_dir_format(dir)?;
        }
        let (stream, customer_code, emulator) = match cloudflare {
            CloudflareMode::Remote {
                account_id,
                api_token,
                customer_code,
                api_url,
                delivery_url,
            } => {
                let mut config = StreamConfig::new(account_id, api_token, customer_code.clone());
                if let Some(url) = api_url {
                    config.api_base_url = url;
                }
                config.delivery_base_url = delivery_url;
                (
                    StreamClient::new(config).context("Cloudflare settings")?,
                    customer_code,
                    None,
                )
            }
            CloudflareMode::Embedded => {
                let token = SecretString::from(random_hex(16));
                let account = random_hex(16);
                let mut options = EmulatorOptions::new(account.clone(), token.clone());
                options.rtmp_listen = Some(args.rtmp_listen);
                options.srt_listen = Some(args.srt_listen);
                // Recordings live beside the inputs that own them (a temp dir with --ephemeral).
                options.media_dir = data_dir.as_ref().map(|d| d.join(MEDIA_DIR));
                let emulator = Emulator::start(options)
                    .await
                    .context("starting the embedded Stream emulator")?;
                let mut config = StreamConfig::new(account, token, emulator.customer_code());
                config.api_base_url = emulator.api_base_url();
                config.delivery_base_url = Some(emulator.delivery_base_url());
                if let Some(dir) = &data_dir {
                    let n = emulator
                        .load_inputs(&dir.join(INPUTS_FILE))
                        .context("loading the emulator's saved live inputs")?;
                    tracing::info!(inputs = n, "stream emulator inputs loaded");
                    let keys = emulator
                        .input_store()
                        .load_signing_keys(&dir.join(EMULATOR_KEYS_FILE))
                        .context("loading the emulator's saved signing keys")?;
                    tracing::info!(keys, "stream emulator signing keys loaded");
                }
                let code = emulator.customer_code().to_string();
                (StreamClient::new(config)?, code, Some(emulator))
            }
        };

        let (chain, registry, rpc_url, ws_url, node) = match chain {
            ChainMode::Remote {
                rpc_url,
                registrar_keypair,
            } => {
                let registrar = roomcast_localnet::keypair_file::read(&registrar_keypair)
                    .context("ROOMCAST_REGISTRAR_KEYPAIR")?;
                let client = RoomcastChain::new(&rpc_url, registrar, args.program_id)?;
                let registry = args
                    .registry
                    .unwrap_or_else(|| client.registry_address(&client.signer_pubkey()));
                let ws_url = args
                    .ws_url
                    .clone()
                    .unwrap_or_else(|| roomcast_chain::derive_ws_url(&rpc_url));
                (client, registry, rpc_url, ws_url, None)
            }
            ChainMode::Embedded => {
                let node = LocalNode::start(NodeOptions {
                    state: data_dir.as_ref().map(|d| d.join(LEDGER_FILE)),
                    faucet_keypair: data_dir.as_ref().map(|d| d.join(FAUCET_FILE)),
                    save_interval: SAVE_INTERVAL,
                    ..NodeOptions::default()
                })
                .await
                .context("starting the embedded Solana node")?;
                let rpc_url = node.rpc_url();
                let registrar = match &data_dir {
                    Some(dir) => {
                        roomcast_localnet::keypair_file::read_or_create(&dir.join(REGISTRAR_FILE))?
                    }
                    None => Keypair::new(),
                };
                let client = RoomcastChain::new(&rpc_url, registrar, node.program_id())?;
                let balance = client.balance(&client.signer_pubkey()).await?;
                if balance < EMBEDDED_REGISTRAR_LAMPORTS / 2 {
                    let sig = client
                        .rpc()
                        .request_airdrop(&client.signer_pubkey(), EMBEDDED_REGISTRAR_LAMPORTS)
                        .await
                        .context("funding the embedded registrar")?;
                    tracing::debug!(%sig, "registrar funded");
                }
                // The registrar administers its own registry in embedded mode (kept across
                // restarts with --data-dir).
                let existing = client.registry_address(&client.signer_pubkey());
                let registry = if client.registry(&existing).await?.is_some() {
                    existing
                } else {
                    client
                        .initialize_registry(client.signer_pubkey())
                        .await
                        .context("initializing the embedded registry")?
                        .0
                };
                let ws_url = node.ws_url();
                (client, registry, rpc_url, ws_url, Some(node))
            }
        };
        let saver = match (&emulator, &data_dir) {
            (Some(emulator), Some(dir)) => {
                let stop = tokio_util::sync::CancellationToken::new();
                let task = tokio::spawn(save_inputs_periodically(
                    emulator.input_store(),
                    dir.clone(),
                    stop.clone(),
                ));
                Some((task, stop))
            }
            _ => None,
        };
        Ok(Upstreams {
            data_dir,
            saver,
            clients: Clients {
                stream,
                customer_code,
                chain,
                registry,
                rpc_url,
                ws_url,
            },
            emulator,
            node,
        })
    }

    /// What the API server is given: clients, addresses and the emulator to wire.
    pub fn for_api(&self, registrar_secret: Option<[u8; 32]>) -> roomcast_api::Upstreams<'_> {
        roomcast_api::Upstreams {
            clients: self.clients.clone(),
            embedded_chain: self.node.is_some(),
            signing_key_file: self.data_dir.as_ref().map(|d| d.join(SIGNING_KEY_FILE)),
            emulator: self.emulator.as_ref(),
            registrar_secret,
        }
    }

    pub async fn shutdown(self) {
        if let Some((task, stop)) = self.saver {
            stop.cancel();
            let _ = task.await;
        }
        if let Some(node) = self.node {
            if let Err(e) = node.shutdown().await {
                tracing::warn!(error = %e, "embedded node shutdown");
            }
        }
        // The emulator stops first (publishers dropped, recordings finished), so the inputs file
        // has every recording as it ends.
        if let Some(emulator) = self.emulator {
            let store = emulator.input_store();
            emulator.shutdown().await;
            if let Some(dir) = &self.data_dir {
                save_emulator(&store, dir);
            }
        }
    }
}

async fn save_inputs_periodically(
    emulator: InputStore,
    dir: PathBuf,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(SAVE_INTERVAL) => {}
        }
        save_emulator(&emulator, &dir);
    }
}

/// Saves the emulator's live inputs and signing keys into the data dir `dir`.
fn save_emulator(emulator: &InputStore, dir: &std::path::Path) {
    if let Err(e) = emulator.save(&dir.join(INPUTS_FILE)) {
        tracing::warn!(error = %e, "saving the emulator's live inputs");
    }
    if let Err(e) = emulator.save_signing_keys(&dir.join(EMULATOR_KEYS_FILE)) {
        tracing::warn!(error = %e, "saving the emulator's signing keys");
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}
