//! `roomcast localnet`: a local Solana JSON-RPC node with the roomcast program loaded natively.
//!
//! solana-test-validator can only load SBF `.so` programs and no SBF toolchain is available here,
//! so roomcast ships this node. Real clients (anchor-client, @solana/web3.js, solana-py) talk to it
//! over plain JSON-RPC 2.0 exactly as to a cluster.
//!
//! WebSocket PubSub (`signatureSubscribe`, `logsSubscribe`, …) is served on the RPC port + 1, as
//! solana-test-validator does (see [`pubsub`]).
//!
//! Documented limits: the program runs natively (not in the SBF VM), compute units are not metered,
//! every commitment level is answered as `finalized`, and blocks are not stored (only transactions,
//! by signature).

pub mod chain;
pub mod events;
mod executor;
pub mod keypair_file;
pub mod pubsub;
pub mod rpc;
pub mod state_file;
mod wire;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use chain::LocalChain;
pub use executor::{ChainExecutor, ChainStopped};

/// Flags of `roomcast localnet`.
#[derive(clap::Args, Debug, Clone)]
pub struct LocalnetArgs {
    /// Address to serve JSON-RPC on.
    #[arg(
        long,
        default_value = "127.0.0.1:8899",
        env = "ROOMCAST_LOCALNET_LISTEN"
    )]
    pub listen: SocketAddr,
    /// Address to serve WebSocket PubSub on (default: the RPC port + 1).
    #[arg(long, value_name = "ADDR", env = "ROOMCAST_LOCALNET_WS_LISTEN")]
    pub ws_listen: Option<SocketAddr>,
    /// Keep accounts in this file: loaded at start, saved periodically and on shutdown.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Where the funded faucet keypair is written (reused if it exists).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "test-ledger/faucet-keypair.json"
    )]
    pub faucet_keypair: PathBuf,
    /// Accept `roomcastInjectSendFault` (tests only): the next `sendTransaction` calls land, then
    /// their answers are lost or late — what a crash test needs from a separate node process;
    /// `roomcastDropPubsubConnections`: every open PubSub connection is cut at once;
    /// `roomcastHoldPubsubConnections`: new ones wait before their handshake until released; and
    /// `roomcastRefuseMethods`: the listed methods answer "Method not found".
    #[arg(long, hide = true)]
    pub fault_injection: bool,
}

/// How to start a node in-process.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    pub listen: SocketAddr,
    /// WebSocket PubSub address; `None` is the RPC port + 1 (with port 0, a free pair is found).
    pub ws_listen: Option<SocketAddr>,
    pub pubsub: pubsub::PubsubLimits,
    pub state: Option<PathBuf>,
    /// Faucet keypair file; `None` keeps the faucet in memory only.
    pub faucet_keypair: Option<PathBuf>,
    pub save_interval: Duration,
    /// Bounds on what one caller can make the node do.
    pub limits: rpc::RpcLimits,
    /// Serve `roomcastInjectSendFault` and the PubSub faults (see
    /// [`LocalnetArgs::fault_injection`]).
    pub fault_injection: bool,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            ws_listen: None,
            pubsub: pubsub::PubsubLimits::default(),
            state: None,
            faucet_keypair: None,
            save_interval: Duration::from_secs(5),
            limits: rpc::RpcLimits::default(),
            fault_injection: false,
        }
    }
}

/// A running node. Dropping it without [`LocalNode::shutdown`] stops serving but skips the final save.
pub struct LocalNode {
    addr: SocketAddr,
    ws_addr: SocketAddr,
    faucet: Keypair,
    faucet_path: Option<PathBuf>,
    chain: ChainExecutor,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    pubsub: JoinHandle<()>,
    saver: Option<JoinHandle<()>>,
    state: Option<PathBuf>,
    send_faults: rpc::SendFaults,
    calls: rpc::MethodCalls,
    pubsub_drops: events::PubsubDrops,
    refused: rpc::RefusedMethods,
}

impl LocalNode {
    pub async fn start(options: NodeOptions) -> anyhow::Result<LocalNode> {
        let faucet = match &options.faucet_keypair {
            Some(path) => keypair_file::read_or_create(path)?,
            None => Keypair::new(),
        };
        let chain_faucet = faucet.insecure_clone();
        let executor = ChainExecutor::spawn(options.limits.max_queued, move || {
            LocalChain::new(chain_faucet)
        });
        if let Some(path) = options.state.clone() {
            let loaded = executor
                .call(move |chain| state_file::load(chain, &path))
                .await??;
            tracing::info!(accounts = loaded, "localnet state loaded");
        }
        let (listener, ws_listener) = bind_listeners(options.listen, options.ws_listen).await?;
        let addr = listener.local_addr()?;
        let ws_addr = ws_listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let send_faults = rpc::SendFaults::default();
        let pubsub_drops = events::PubsubDrops::default();
        let refused = rpc::RefusedMethods::default();
        let pubsub = pubsub::spawn(
            ws_listener,
            executor.clone(),
            options.pubsub,
            pubsub_drops.clone(),
            stop.subscribe(),
        )
        .await?;
        let calls = rpc::MethodCalls::default();
        let app = rpc::router(rpc::RpcState {
            chain: executor.clone(),
            limits: options.limits,
            send_faults: send_faults.clone(),
            fault_injection: options.fault_injection,
            calls: calls.clone(),
            pubsub_drops: pubsub_drops.clone(),
            refused: refused.clone(),
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        });
        let saver = options.state.clone().map(|path| {
            let executor = executor.clone();
            let mut stopped = stop.subscribe();
            let interval = options.save_interval;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(interval) => {}
                        _ = stopped.wait_for(|s| *s) => return,
                    }
                    let path = path.clone();
                    let saved = executor
                        .call(move |chain| {
                            if !chain.dirty {
                                // Where slots go on from after a crash.
                                let _ = state_file::save_slot(chain, &path);
                                return Ok(None);
                            }
                            // Only what changed (the journal); a new snapshot now and then.
                            let saved = state_file::save_changes(chain, &path)?;
                            chain.dirty = false;
                            Ok::<_, anyhow::Error>(Some(saved))
                        })
                        .await;
                    if let Ok(Err(e)) = saved {
                        tracing::warn!(error = %e, "localnet periodic save failed");
                    }
                }
            })
        });
        Ok(LocalNode {
            addr,
            ws_addr,
            pubsub,
            faucet,
            faucet_path: options.faucet_keypair,
            chain: executor,
            stop,
            server,
            saver,
            state: options.state,
            send_faults,
            calls,
            pubsub_drops,
            refused,
        })
    }

    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The WebSocket PubSub URL (`ws://…`).
    pub fn ws_url(&self) -> String {
        pubsub::ws_url(self.ws_addr)
    }

    pub fn program_id(&self) -> Pubkey {
        roomcast_svm::program_id()
    }

    /// The funded keypair (500M SOL), for airdrops and local signing.
    pub fn faucet(&self) -> &Keypair {
        &self.faucet
    }

    pub fn faucet_path(&self) -> Option<&PathBuf> {
        self.faucet_path.as_ref()
    }

    /// Direct access to the ledger (tests, the embedded server's setup).
    /// The next `times` `sendTransaction` calls suffer `fault` (see [`rpc::SendFault`]).
    pub fn inject_send_fault(&self, fault: rpc::SendFault, times: usize) {
        self.send_faults.push(fault, times);
    }

    /// Cuts every open PubSub connection at once, as a network drop would (no close frame); returns
    /// how many there were. Over RPC: `roomcastDropPubsubConnections`, with `fault_injection`.
    pub fn drop_pubsub_connections(&self) -> usize {
        self.pubsub_drops.drop_all()
    }

    /// While `held`, new PubSub connections wait before their WebSocket handshake (a client
    /// cannot get its subscription back until released). Over RPC:
    /// `roomcastHoldPubsubConnections`, with `fault_injection`.
    pub fn hold_pubsub_connections(&self, held: bool) {
        self.pubsub_drops.hold(held);
    }

    /// Answers these JSON-RPC methods with "Method not found" from now on (a provider that does not
    /// serve them; empty: none). Over RPC: `roomcastRefuseMethods`, with `fault_injection`.
    pub fn refuse_methods(&self, methods: &[&str]) {
        self.refused
            .set(methods.iter().map(|m| m.to_string()).collect());
    }

    /// JSON-RPC calls of `method` (e.g. `getProgramAccounts`) this node has answered.
    pub fn rpc_calls(&self, method: &str) -> u64 {
        self.calls.get(method)
    }

    /// Injected `sendTransaction` faults not fired yet (a test's proof that they fired).
    pub fn pending_send_faults(&self) -> usize {
        self.send_faults.pending()
    }

    pub fn chain(&self) -> &ChainExecutor {
        &self.chain
    }

    /// Stops serving, waits for in-flight requests, and saves the state file.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.pubsub.await;
        if let Some(saver) = self.saver {
            let _ = saver.await;
        }
        if let Some(path) = self.state {
            let shown = path.display().to_string();
            let n = self
                .chain
                .call(move |chain| state_file::save(chain, &path))
                .await??;
            tracing::info!(accounts = n, file = %shown, "localnet state saved");
        }
        Ok(())
    }
}

/// Binds the RPC and PubSub listeners. Without an explicit PubSub address it is the RPC port + 1,
/// as clients derive it (`@solana/web3.js`, solana-py); with RPC port 0 a free pair is searched.
async fn bind_listeners(
    rpc: SocketAddr,
    ws: Option<SocketAddr>,
) -> anyhow::Result<(TcpListener, TcpListener)> {
    let bind = |addr: SocketAddr| async move {
        TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))
    };
    if let Some(ws) = ws {
        return Ok((bind(rpc).await?, bind(ws).await?));
    }
    let mut last_error = None;
    for _ in 0..64 {
        let listener = bind(rpc).await?;
        let port = listener.local_addr()?.port();
        let Some(ws_port) = port.checked_add(1) else {
            continue;
        };
        match bind(SocketAddr::new(rpc.ip(), ws_port)).await {
            Ok(ws) => return Ok((listener, ws)),
            Err(e) if rpc.port() == 0 => last_error = Some(e),
            Err(e) => {
                return Err(e.context("the PubSub port is the RPC port + 1 (see --ws-listen)"))
            }
        }
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no free port pair for RPC and PubSub")))
}

/// `roomcast localnet`: serve until Ctrl-C / SIGTERM.
pub async fn run(args: LocalnetArgs) -> anyhow::Result<()> {
    let node = LocalNode::start(NodeOptions {
        listen: args.listen,
        ws_listen: args.ws_listen,
        state: args.state.clone(),
        faucet_keypair: Some(args.faucet_keypair.clone()),
        fault_injection: args.fault_injection,
        ..NodeOptions::default()
    })
    .await?;
    println!("JSON RPC URL: {}", node.rpc_url());
    println!("WebSocket URL: {}", node.ws_url());
    println!("Program Id: {}", node.program_id());
    println!(
        "Faucet keypair: {} ({})",
        args.faucet_keypair.display(),
        node.faucet().pubkey()
    );
    if let Some(state) = &args.state {
        println!("State file: {}", state.display());
    }
    println!("Limits: native execution, compute units not metered, every commitment is final");
    shutdown_signal().await;
    node.shutdown().await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
