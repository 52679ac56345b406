//! `roomcast serve` as a library: the API server (`roomcast-api`) started with its upstreams —
//! real Cloudflare and a real cluster when configured, otherwise the embedded Stream emulator and
//! local Solana node (`upstreams`). The binary's `serve` and the in-process end-to-end tests
//! (`tests/e2e/api`) start it through [`Server::start`].
pub mod upstreams;

use std::net::SocketAddr;

use anyhow::Context;
use roomcast_api::core::redact;
use roomcast_api::state::StateRef;
use roomcast_api::ServeArgs;

pub use upstreams::Upstreams;

/// `roomcast serve`: connects upstreams (or embeds them), serves until Ctrl-C/SIGTERM, then ends
/// event streams, drains requests and in-flight creates for a bounded time, saves (ledger,
/// emulator inputs) and finalises recordings. A second signal exits at once, saving nothing more.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = Server::start(args).await?;
    server.print_banner();
    roomcast_localnet::shutdown_signal().await;
    tokio::spawn(async {
        roomcast_localnet::shutdown_signal().await;
        eprintln!("second signal: exiting now without waiting for the shutdown to finish");
        std::process::exit(130);
    });
    server.shutdown().await
}

/// A running API server with its upstreams (in-process; `serve` wraps it, tests drive it).
pub struct Server {
    pub addr: SocketAddr,
    pub state: StateRef,
    pub upstreams: Upstreams,
    api: roomcast_api::Server,
    operator: bool,
}

impl Server {
    pub async fn start(args: ServeArgs) -> anyhow::Result<Server> {
        let listener = roomcast_api::Listener::bind(&args).await?;
        let (cloudflare_mode, chain_mode) = args.modes().map_err(anyhow::Error::msg)?;
        let upstreams = Upstreams::connect(&args, cloudflare_mode, chain_mode).await?;
        // Replicas seal stored create responses with a key derived from the registrar's secret.
        let registrar_secret = match (&args.redis_url, &args.registrar_keypair) {
            (Some(_), Some(path)) => {
                let registrar = roomcast_localnet::keypair_file::read(path)
                    .context("ROOMCAST_REGISTRAR_KEYPAIR")?;
                let mut secret = [0u8; 32];
                secret.copy_from_slice(&registrar.to_bytes()[..32]);
                Some(secret)
            }
            _ => None,
        };
        let api = roomcast_api::Server::start(&args, listener, upstreams.for_api(registrar_secret))
            .await?;
        Ok(Server {
            addr: api.addr,
            state: api.state.clone(),
            upstreams,
            api,
            operator: args.operator_key.is_some(),
        })
    }

    pub fn url(&self) -> String {
        self.api.url()
    }

    /// Stops accepting requests, lets in-flight ones and background creates finish, stops upstreams.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        self.api.shutdown().await?;
        self.upstreams.shutdown().await;
        Ok(())
    }

    pub fn print_banner(&self) {
        print_banner(self.addr, &self.state, &self.upstreams, self.operator);
    }
}

fn print_banner(
    addr: SocketAddr,
    state: &roomcast_api::state::AppState,
    upstreams: &Upstreams,
    operator: bool,
) {
    let info = &state.info;
    println!("roomcast API listening on http://{addr}");
    println!("{}", web_app_line(addr));
    let chain_kind = if info.embedded.chain {
        "embedded local node"
    } else {
        "cluster"
    };
    println!(
        "Solana RPC ({chain_kind}): {}",
        redact::redact_url(&upstreams.clients.rpc_url)
    );
    println!(
        "Solana WebSocket: {}",
        redact::redact_url(&upstreams.clients.ws_url)
    );
    println!("Program id: {}", info.program_id);
    println!("Registry: {}", info.registry);
    println!("Registrar: {}", info.registrar);
    match &upstreams.emulator {
        Some(emulator) => {
            println!(
                "Cloudflare Stream (embedded emulator): {}",
                emulator.api_base_url()
            );
            println!(
                "Stream emulator control: {}/__emulator",
                emulator.delivery_base_url()
            );
            println!("{}", emulator.video_ingest().banner());
            if let Some(srt) = emulator.srt_url() {
                println!("Video ingest (SRT): {srt}?streamid=<stream id>&passphrase=<passphrase>");
            }
        }
        None => println!(
            "Cloudflare Stream: account API ({})",
            info.cloudflare_customer_code
        ),
    }
    match &upstreams.data_dir {
        Some(dir) => println!(
            "Data dir: {} (local node ledger, registrar keypair, emulator live inputs and recordings)",
            dir.display()
        ),
        None if info.embedded.chain || info.embedded.cloudflare => {
            println!("Data dir: none (--ephemeral: nothing is kept)")
        }
        None => {}
    }
    match &state.replicas {
        Some(replicas) => println!(
            "Shared state: Redis (keys under {}; replica {})",
            replicas.redis.prefix(),
            replicas.redis.replica
        ),
        None => println!(
            "Shared state: single replica (in memory; set ROOMCAST_REDIS_URL to run several)"
        ),
    }
    println!(
        "Operator key: {}",
        if operator {
            "configured"
        } else {
            "not configured (host signatures only)"
        }
    );
}

/// The banner's web app line: where a person opens the app and the host console (a wildcard
/// listen address is reached on loopback).
fn web_app_line(addr: SocketAddr) -> String {
    let mut at = addr;
    if at.ip().is_unspecified() {
        at.set_ip(match at {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("Web app: http://{at}/ (host console: http://{at}/host)")
}

#[cfg(test)]
mod tests {
    use super::web_app_line;

    #[test]
    fn the_banner_names_the_web_app_and_the_host_console() {
        assert_eq!(
            web_app_line("127.0.0.1:8080".parse().unwrap()),
            "Web app: http://127.0.0.1:8080/ (host console: http://127.0.0.1:8080/host)"
        );
        assert_eq!(
            web_app_line("0.0.0.0:8080".parse().unwrap()),
            "Web app: http://127.0.0.1:8080/ (host console: http://127.0.0.1:8080/host)"
        );
        assert_eq!(
            web_app_line("[::]:8080".parse().unwrap()),
            "Web app: http://[::1]:8080/ (host console: http://[::1]:8080/host)"
        );
    }
}
