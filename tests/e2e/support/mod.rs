//! Shared helpers for the API end-to-end tests (`tests/e2e/api_*.rs`): spawn the built `roomcast`
//! binary (API server, local node, Stream emulator) on free ports, read their banners, sign host
//! requests exactly as `app/api/src/auth.rs` documents, and look at both upstreams (chain over
//! JSON-RPC, Cloudflare through the emulator's control API).
#![allow(dead_code)]

pub mod browser;
pub mod encoder;
pub mod sse;

use std::fs::File;
use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use ed25519_dalek::{Signer as _, SigningKey};
use roomcast_chain::{Keypair, Pubkey, RoomFilter, RoomRecord, RoomcastChain, Signer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The operator key every test server is started with.
pub const OPERATOR_KEY: &str = "test-operator-key-0123456789abcdef";
/// How long a process may take to print its banner.
const STARTUP_BOUND: Duration = Duration::from_secs(90);
/// Generous bound for "eventually" checks (caches, background work).
pub const EVENTUALLY: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Processes

pub mod redis_tls;

/// A fresh scratch directory under the system temp dir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let dir = std::env::temp_dir().join(format!(
        "roomcast-api-tests/{tag}-{}-{n}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes `cmd`'s process get SIGKILL when the thread that spawns it exits (a test that panics or
/// is killed leaves no server, browser or encoder behind).
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// Whether `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.split_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
        .unwrap_or(false)
}

/// Live children of `pid` whose command is `name`.
pub fn children_named(pid: u32, name: &str) -> Vec<u32> {
    let mut out = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let comm = comm.split_once(" (").map(|(_, c)| c).unwrap_or("");
        let mut f = rest.split(' ');
        let state = f.next().unwrap_or("");
        let ppid: u32 = f.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == pid && comm == name && state != "Z" {
            out.push(child);
        }
    }
    out
}

/// A child process of the `roomcast` binary whose stdout and stderr both go to one log file.
/// Killed on drop (and, via `PR_SET_PDEATHSIG`, when the thread that spawned it exits).
pub struct Proc {
    child: Child,
    pub log: PathBuf,
    pub dir: PathBuf,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, args: &[&str], envs: &[(&str, &str)]) -> Proc {
        Proc::spawn_in(scratch_dir(name), name, args, envs)
    }

    /// [`Proc::spawn`] with `dir` (which the caller may have prepared) as the working directory.
    pub fn spawn_in(dir: PathBuf, name: &str, args: &[&str], envs: &[(&str, &str)]) -> Proc {
        let log = dir.join("output.log");
        let out = File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_roomcast"));
        cmd.args(args)
            .current_dir(&dir)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(std::process::Stdio::null());
        // Settings must come from the test only, never from the developer's environment.
        for (key, _) in std::env::vars() {
            if key.starts_with("CLOUDFLARE_")
                || key.starts_with("ROOMCAST_")
                || key.starts_with("SOLANA_")
                || key == "RUST_LOG"
            {
                cmd.env_remove(key);
            }
        }
        cmd.env("RUST_LOG", "info");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn roomcast {args:?}: {e}"));
        Proc {
            child,
            log,
            dir,
            name: name.to_string(),
        }
    }

    /// Everything the process wrote so far (stdout and stderr).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until a line starting with `prefix` was printed; returns the rest of that line.
    /// The rest of the first output line starting with `prefix`, or `None` if the process exited
    /// first (e.g. its port was taken: the caller may try another).
    pub fn try_wait_for_line(&mut self, prefix: &str) -> Option<String> {
        let deadline = Instant::now() + STARTUP_BOUND;
        loop {
            let output = self.output();
            if let Some(line) = output.lines().find(|l| l.starts_with(prefix)) {
                return Some(line[prefix.len()..].trim().to_string());
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return None;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not print {prefix:?} within {STARTUP_BOUND:?}; output:\n{output}",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn wait_for_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + STARTUP_BOUND;
        loop {
            let output = self.output();
            if let Some(line) = output.lines().find(|l| l.starts_with(prefix)) {
                return line[prefix.len()..].trim().to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before printing {prefix:?}; output:\n{output}",
                    self.name
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not print {prefix:?} within {STARTUP_BOUND:?}; output:\n{output}",
                    self.name
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Asks the process to stop (SIGTERM) and waits for it to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill failed");
        self.child.wait().unwrap()
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    /// Stops the process as an operator would (SIGTERM), so it cleans up after itself (its
    /// temporary media directory, ffmpeg children); SIGKILL if it has not exited after a while.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + DROP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }
}

/// How long a dropped process may take to stop by itself before it is killed.
const DROP_GRACE: Duration = Duration::from_secs(5);

/// What the API server's banner says.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    /// `http://ADDR` of the API.
    pub base: String,
    pub rpc_url: String,
    /// The cluster's WebSocket PubSub URL.
    pub ws_url: String,
    /// `embedded local node` or `cluster`.
    pub chain_kind: String,
    pub program_id: Pubkey,
    pub registry: Pubkey,
    pub registrar: Pubkey,
    /// Embedded emulator API base (`http://ADDR/client/v4`), if embedded.
    pub cloudflare_api: Option<String>,
    /// Emulator control base (`http://ADDR/__emulator`): embedded, or the external one given.
    pub emulator_control: Option<String>,
    /// The server's log file (stdout + stderr).
    pub log: PathBuf,
    /// `rtmp://ADDR/live/` of the embedded emulator's RTMP ingest, when video ingest is on.
    pub rtmp_ingest: Option<String>,
    /// The host console's URL as the banner's `Web app:` line prints it.
    pub host_console: String,
}

/// What live inputs say as their ingest URL when no local RTMP ingest runs.
pub const CLOUDFLARE_INGEST: &str = "rtmps://live.cloudflare.com:443/live/";

impl ServerInfo {
    /// The ingest URL rooms of this server get: the local RTMP listener, or Cloudflare's.
    pub fn ingest_url(&self) -> String {
        self.rtmp_ingest
            .clone()
            .unwrap_or_else(|| CLOUDFLARE_INGEST.to_string())
    }

    pub fn api(&self) -> Api {
        Api::new(&self.base)
    }

    pub fn emulator(&self) -> Emulator {
        Emulator::new(
            self.emulator_control
                .as_deref()
                .expect("this server has no emulator control URL"),
        )
    }

    /// A chain client for reads (throwaway signer).
    pub fn chain_reader(&self) -> RoomcastChain {
        RoomcastChain::new(&self.rpc_url, Keypair::new(), self.program_id).unwrap()
    }

    /// A chain client signing with `signer` (e.g. a host ending their own room).
    pub fn chain_as(&self, signer: &Keypair) -> RoomcastChain {
        RoomcastChain::new(&self.rpc_url, signer.insecure_clone(), self.program_id).unwrap()
    }

    pub fn room_address(&self, session_id: &str) -> Pubkey {
        roomcast_chain::room_address(&self.program_id, &self.registry, session_id)
    }

    pub fn log_output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Rooms of this server's registry hosted by `host` (or all of them).
    pub async fn rooms(&self, host: Option<Pubkey>) -> Vec<RoomRecord> {
        self.chain_reader()
            .rooms(&RoomFilter {
                registry: Some(self.registry),
                host,
                status: None,
            })
            .await
            .expect("listing rooms over RPC")
    }
}

/// A running `roomcast serve`.
pub struct Server {
    pub proc: Proc,
    pub info: ServerInfo,
}

impl std::ops::Deref for Server {
    type Target = ServerInfo;
    fn deref(&self) -> &ServerInfo {
        &self.info
    }
}

/// Environment every test server starts with (callers may override any of it).
fn default_server_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ROOMCAST_OPERATOR_KEY", OPERATOR_KEY),
        // Viewers see chain changes made behind the server's back quickly.
        ("ROOMCAST_ROOM_CACHE_MS", "200"),
        ("ROOMCAST_CREATE_RATE_PER_MINUTE", "10000"),
        ("ROOMCAST_CREATE_BUDGET_PER_MINUTE", "10000"),
        // Tests poll from one address; the read limit has its own tests.
        ("ROOMCAST_READ_RATE_PER_MINUTE", "1000000"),
        // Error tests fail authentication on purpose, many times, from one address.
        ("ROOMCAST_AUTH_FAILURES_PER_MINUTE", "1000000"),
        // The API itself must do the cleanup the tests check, not the background reconciler.
        ("ROOMCAST_RECONCILE_INTERVAL_SECS", "0"),
        // Tests run side by side: the embedded emulator's RTMP and SRT ingest take any free port.
        ("ROOMCAST_RTMP_LISTEN", "127.0.0.1:0"),
        ("ROOMCAST_SRT_LISTEN", "127.0.0.1:0"),
        // A fresh embedded chain and emulator per server (tests/e2e/data_dir.rs covers persistence).
        ("ROOMCAST_EPHEMERAL", "true"),
    ]
}

impl Server {
    /// Starts `roomcast serve --listen 127.0.0.1:0` with `envs` on top of the defaults, waits for
    /// the banner and `/healthz`.
    pub fn start(envs: &[(&str, &str)]) -> Server {
        Server::start_in(scratch_dir("serve"), envs)
    }

    /// [`Server::start`] in the working directory `dir` (e.g. one holding a `.env`).
    pub fn start_in(dir: PathBuf, envs: &[(&str, &str)]) -> Server {
        let mut all = default_server_env();
        all.extend_from_slice(envs);
        let mut proc = Proc::spawn_in(dir, "serve", &["serve", "--listen", "127.0.0.1:0"], &all);
        let base = proc.wait_for_line("roomcast API listening on ");
        // The last banner line: everything before it is printed by now.
        proc.wait_for_line("Operator key: ");
        let output = proc.output();
        let line = |prefix: &str| -> Option<String> {
            output
                .lines()
                .find(|l| l.starts_with(prefix))
                .map(|l| l[prefix.len()..].trim().to_string())
        };
        let rpc_line = line("Solana RPC (").expect("banner has the Solana RPC line");
        let (chain_kind, rpc_url) = rpc_line.split_once("): ").expect("Solana RPC (KIND): URL");
        let emulator_control = line("Stream emulator control: ");
        let info = ServerInfo {
            base,
            rpc_url: rpc_url.to_string(),
            ws_url: line("Solana WebSocket: ").expect("banner has the WebSocket line"),
            chain_kind: chain_kind.to_string(),
            program_id: line("Program id: ").unwrap().parse().unwrap(),
            registry: line("Registry: ").unwrap().parse().unwrap(),
            registrar: line("Registrar: ").unwrap().parse().unwrap(),
            cloudflare_api: line("Cloudflare Stream (embedded emulator): "),
            emulator_control,
            log: proc.log.clone(),
            rtmp_ingest: line("Video ingest (RTMP): ")
                .map(|l| l.trim_end_matches("<stream key>").to_string()),
            host_console: line("Web app: ")
                .and_then(|l| {
                    let (_, console) = l.split_once("(host console: ")?;
                    Some(console.trim_end_matches(')').to_string())
                })
                .expect("banner has the `Web app: URL (host console: URL)` line"),
        };
        wait_healthy(&info.base, &proc);
        Server { proc, info }
    }

    /// Starts a server that lives as long as the test binary (for tests sharing one server).
    /// It is spawned from a thread that never exits, so `PR_SET_PDEATHSIG` kills it only when
    /// the test process ends.
    pub fn shared(
        slot: &'static OnceLock<ServerInfo>,
        envs: &'static [(&'static str, &'static str)],
    ) -> &'static ServerInfo {
        slot.get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let server = Server::start(envs);
                tx.send(server.info.clone()).unwrap();
                let _keep = server;
                loop {
                    std::thread::park();
                }
            });
            rx.recv()
                .expect("shared server failed to start (see the panic above)")
        })
    }
}

fn wait_healthy(base: &str, proc: &Proc) {
    let deadline = Instant::now() + STARTUP_BOUND;
    let addr = base.trim_start_matches("http://").to_string();
    loop {
        use std::io::{Read, Write};
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = write!(
                s,
                "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            );
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") && answer.contains(r#"{"status":"ok"}"#) {
                return;
            }
        }
        if Instant::now() > deadline {
            panic!(
                "{base}/healthz never answered 200; output:\n{}",
                proc.output()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A `redis-server` on a free loopback port, without persistence, in a scratch dir. Killed on drop.
pub struct RedisProc {
    child: Option<Child>,
    pub port: u16,
    dir: PathBuf,
    /// TLS with a client certificate and an ACL user (`redis_tls`), or plain TCP and no user.
    secure: Option<redis_tls::Secure>,
}

impl RedisProc {
    /// On a port the OS just handed out; if another process took it before `redis-server` bound
    /// it (it exits), again on another — never a PING answered by someone else's server.
    pub fn start() -> RedisProc {
        RedisProc::start_with(None)
    }

    /// TLS only (a client certificate required) and the README's least-privilege ACL user.
    pub fn start_secure() -> RedisProc {
        RedisProc::start_with(Some(redis_tls::Secure::new()))
    }

    fn start_with(secure: Option<redis_tls::Secure>) -> RedisProc {
        let dir = scratch_dir("redis");
        for _ in 0..10 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut redis = RedisProc {
                child: None,
                port,
                dir: dir.clone(),
                secure: secure.clone(),
            };
            if redis.try_spawn() {
                return redis;
            }
        }
        panic!("redis-server did not start: {}", dir.display());
    }

    /// Starts (again) on this server's port.
    pub fn spawn(&mut self) {
        assert!(
            self.try_spawn(),
            "redis-server did not start on port {}: {}",
            self.port,
            std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
        );
    }

    /// Whether our own `redis-server` (checked by its process id) answers on `self.port`.
    fn try_spawn(&mut self) -> bool {
        let log = File::create(self.dir.join("redis.log")).unwrap();
        let mut cmd = Command::new("redis-server");
        match &self.secure {
            Some(secure) => cmd
                .args(["--port", "0", "--tls-port", &self.port.to_string()])
                .args(&secure.server_args),
            None => cmd.args(["--port", &self.port.to_string()]),
        };
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null());
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .expect("redis-server (scripts/test.sh installs it)");
        let ours = format!("process_id:{}", child.id());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if child.try_wait().unwrap().is_some() {
                return false; // the port was taken meanwhile
            }
            if self.cli(&["INFO", "server"]).contains(&ours) {
                self.child = Some(child);
                return true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        match &self.secure {
            Some(secure) => secure.url(self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// The settings of `serve` for this server: the URL, and the TLS files when it is secure.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("ROOMCAST_REDIS_URL", self.url())];
        if let Some(secure) = &self.secure {
            env.extend(secure.env());
        }
        env
    }

    /// `redis-cli` against this server; its trimmed output.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(self.secure.iter().flat_map(|s| s.cli_args.iter()))
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `roomcast localnet` as its own process.
pub struct Localnet {
    pub proc: Proc,
    pub rpc_url: String,
    pub ws_url: String,
    pub faucet_path: PathBuf,
    pub faucet: Keypair,
}

impl Localnet {
    pub fn start() -> Localnet {
        Localnet::start_with(&[])
    }

    /// A node started with `extra` flags (e.g. `--fault-injection`).
    pub fn start_with(extra: &[&str]) -> Localnet {
        let dir = scratch_dir("localnet-keys");
        let faucet_path = dir.join("faucet.json");
        let mut args = vec![
            "localnet",
            "--listen",
            "127.0.0.1:0",
            "--faucet-keypair",
            faucet_path.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let mut proc = Proc::spawn("localnet", &args, &[]);
        let rpc_url = proc.wait_for_line("JSON RPC URL: ");
        let ws_url = proc.wait_for_line("WebSocket URL: ");
        proc.wait_for_line("Faucet keypair: ");
        let faucet = read_keypair(&faucet_path);
        Localnet {
            proc,
            rpc_url,
            ws_url,
            faucet_path,
            faucet,
        }
    }

    /// `roomcast -u URL -k FAUCET registry init --registrar REGISTRAR`: the faucet is the admin.
    /// Returns the registry address.
    pub fn init_registry(&self, registrar: &Pubkey) -> Pubkey {
        let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
            .args([
                "-u",
                &self.rpc_url,
                "-k",
                self.faucet_path.to_str().unwrap(),
                "registry",
                "init",
                "--registrar",
            ])
            .arg(registrar.to_string())
            .current_dir(&self.proc.dir)
            .env_remove("SOLANA_RPC_URL")
            .env_remove("ROOMCAST_REGISTRY")
            .env_remove("ROOMCAST_KEYPAIR")
            .env_remove("ROOMCAST_PROGRAM_ID")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "registry init failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        roomcast_chain::registry_address(&roomcast_chain::PROGRAM_ID, &self.faucet.pubkey())
    }

    /// The next `times` `sendTransaction` calls land, then their answers get `fault`
    /// (`{"kind":"lost"}` or `{"kind":"late","ms":N}`; the node runs with `--fault-injection`).
    pub async fn inject_send_fault(&self, fault: Value, times: u32) {
        let answer = rpc_call(
            &self.rpc_url,
            "roomcastInjectSendFault",
            json!([fault, times]),
        )
        .await;
        assert_eq!(answer, true);
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the node: calls to it hang meanwhile.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { libc::SIGSTOP } else { libc::SIGCONT };
        assert_eq!(unsafe { libc::kill(self.proc.pid() as i32, signal) }, 0);
    }
}

/// `roomcast stream-emulator` as its own process.
pub struct EmulatorProc {
    pub proc: Proc,
    pub account_id: String,
    pub api_token: String,
    /// `http://ADDR/client/v4`
    pub api_url: String,
    /// `http://ADDR`
    pub delivery_url: String,
}

impl EmulatorProc {
    pub fn start() -> EmulatorProc {
        let account_id = "0123456789abcdef0123456789abcdef".to_string();
        let api_token = "emulator-token-for-tests".to_string();
        let mut proc = Proc::spawn(
            "stream-emulator",
            &[
                "stream-emulator",
                "--listen",
                "127.0.0.1:0",
                "--account-id",
                &account_id,
                "--api-token",
                &api_token,
                "--rtmp-listen",
                "127.0.0.1:0",
            ],
            &[],
        );
        let api_url = format!("http://{}", proc.wait_for_line("http://"));
        let delivery_url = api_url
            .strip_suffix("/client/v4")
            .expect("emulator prints URL/client/v4")
            .to_string();
        EmulatorProc {
            proc,
            account_id,
            api_token,
            api_url,
            delivery_url,
        }
    }

    pub fn control(&self) -> Emulator {
        Emulator::new(&format!("{}/__emulator", self.delivery_url))
    }

    /// The `CLOUDFLARE_*` settings pointing `roomcast serve` at this emulator.
    pub fn server_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CLOUDFLARE_ACCOUNT_ID", self.account_id.clone()),
            ("CLOUDFLARE_API_TOKEN", self.api_token.clone()),
            ("CLOUDFLARE_CUSTOMER_CODE", "roomcastemulator".to_string()),
            ("CLOUDFLARE_API_URL", self.api_url.clone()),
            ("CLOUDFLARE_DELIVERY_URL", self.delivery_url.clone()),
        ]
    }
}

/// Writes a keypair file in the Solana CLI format (JSON array of the 64 bytes).
pub fn write_keypair(path: &Path, keypair: &Keypair) {
    let bytes: Vec<u8> = keypair.to_bytes().to_vec();
    std::fs::write(path, serde_json::to_string(&bytes).unwrap()).unwrap();
}

pub fn read_keypair(path: &Path) -> Keypair {
    let bytes: Vec<u8> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let secret: [u8; 32] = bytes[..32].try_into().unwrap();
    Keypair::new_from_array(secret)
}

// ---------------------------------------------------------------------------------------------
// Host signatures (from the format documented in app/api/src/auth.rs, not the server's code)

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The documented canonical message: six lines joined by `\n`, no trailing newline.
pub fn canonical_message(
    audience: &str,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let body_hash = hex::encode(Sha256::digest(body));
    [
        "roomcast-auth-v2".to_string(),
        audience.to_string(),
        method.to_ascii_uppercase(),
        path_and_query.to_string(),
        timestamp.to_string(),
        body_hash,
    ]
    .join("\n")
}

/// `X-Roomcast-Wallet`, `X-Roomcast-Timestamp`, `X-Roomcast-Signature` for a request.
pub fn host_headers(
    audience: &str,
    wallet: &Keypair,
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    let key = SigningKey::from_bytes(wallet.secret_bytes());
    let message = canonical_message(audience, method, path_and_query, timestamp, body);
    let signature = key.sign(message.as_bytes());
    // A browser wallet's signMessage (solana-keypair's sign_message) gives the same bytes.
    assert_eq!(
        &signature.to_bytes()[..],
        wallet.sign_message(message.as_bytes()).as_ref()
    );
    vec![
        ("x-roomcast-wallet".into(), wallet.pubkey().to_string()),
        ("x-roomcast-timestamp".into(), timestamp.to_string()),
        (
            "x-roomcast-signature".into(),
            bs58::encode(signature.to_bytes()).into_string(),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The API

/// How a request authenticates.
pub enum Auth<'a> {
    None,
    /// Signed by the wallet, timestamped now.
    Host(&'a Keypair),
    /// Signed by the wallet with this timestamp.
    HostAt(&'a Keypair, i64),
    /// `Authorization: Bearer OPERATOR_KEY`.
    Operator,
    /// Exactly these headers.
    Headers(Vec<(String, String)>),
}

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    /// The body as JSON (`Null` if it is not JSON).
    pub json: Value,
}

impl Resp {
    /// Asserts the status and the `{"error":{"code","message"}}` shape with `code`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.json["error"]["code"].as_str()),
            (status, Some(code)),
            "unexpected answer: {}",
            self.text
        );
        let error = self.json["error"].as_object().unwrap();
        assert_eq!(
            error.len(),
            2,
            "error has exactly code and message: {}",
            self.text
        );
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            self.text
        );
        assert_eq!(
            self.json.as_object().unwrap().len(),
            1,
            "only `error` at the top level: {}",
            self.text
        );
        self
    }

    /// Asserts status, code and the exact message.
    #[track_caller]
    pub fn assert_error_message(&self, status: u16, code: &str, message: &str) -> &Self {
        self.assert_error(status, code);
        assert_eq!(self.json["error"]["message"], message, "{}", self.text);
        self
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected answer: {}", self.text);
        self
    }

    pub fn str(&self, key: &str) -> String {
        self.json[key]
            .as_str()
            .unwrap_or_else(|| panic!("no string {key:?} in {}", self.text))
            .to_string()
    }
}

#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
    /// The server's `authAudience` (from `GET /api/info`), fetched on first use.
    audience: std::sync::Arc<tokio::sync::OnceCell<String>>,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            audience: Default::default(),
        }
    }

    /// Like [`Api::new`], with connections from the loopback address `source` (e.g. 127.0.0.7), so
    /// the server sees another client IP.
    pub fn from_source(base: &str, source: std::net::IpAddr) -> Api {
        Api {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .local_address(source)
                .build()
                .unwrap(),
            audience: Default::default(),
        }
    }

    /// The `AUDIENCE` line this server expects in signed requests.
    pub async fn audience(&self) -> String {
        self.audience
            .get_or_init(|| async {
                let info: Value = self
                    .http
                    .get(format!("{}/api/info", self.base))
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .expect("GET /api/info")
                    .json()
                    .await
                    .expect("/api/info is JSON");
                info["authAudience"]
                    .as_str()
                    .expect("authAudience in /api/info")
                    .to_string()
            })
            .await
            .clone()
    }

    /// Signature headers for a request to this server.
    pub async fn host_headers(
        &self,
        wallet: &Keypair,
        method: &str,
        path_and_query: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let audience = self.audience().await;
        host_headers(&audience, wallet, method, path_and_query, timestamp, body)
    }

    /// A JSON request (body serialized once; the signature covers those exact bytes).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        auth: Auth<'_>,
    ) -> Resp {
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap())
            .unwrap_or_default();
        let content_type = body.map(|_| "application/json");
        self.raw(method, path, bytes, content_type, auth, &[]).await
    }

    /// Any request: raw body bytes, optional content type, extra headers.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        auth: Auth<'_>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let method_ = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method_, format!("{}{path}", self.base));
        let headers = match auth {
            Auth::None => vec![],
            Auth::Host(wallet) => {
                self.host_headers(wallet, method, path, now_secs(), &body)
                    .await
            }
            Auth::HostAt(wallet, ts) => self.host_headers(wallet, method, path, ts, &body).await,
            Auth::Operator => vec![("authorization".into(), format!("Bearer {OPERATOR_KEY}"))],
            Auth::Headers(h) => h,
        };
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let response = req
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None, Auth::None).await
    }

    /// `POST /api/create` signed by `host`; asserts 201.
    pub async fn create_as_host(&self, host: &Keypair, title: &str) -> Resp {
        let r = self
            .call(
                "POST",
                "/api/create",
                Some(&json!({ "title": title })),
                Auth::Host(host),
            )
            .await;
        r.assert_status(201);
        r
    }

    /// `POST /api/create` by the operator for `host`; asserts 201.
    pub async fn create_for(&self, host: &Pubkey, title: &str) -> Resp {
        let r = self
            .call(
                "POST",
                "/api/create",
                Some(&json!({ "title": title, "host": host.to_string() })),
                Auth::Operator,
            )
            .await;
        r.assert_status(201);
        r
    }
}

// ---------------------------------------------------------------------------------------------
// The Stream emulator's control API

#[derive(Clone)]
pub struct Emulator {
    /// `http://ADDR/__emulator`
    pub control: String,
    http: reqwest::Client,
}

impl Emulator {
    pub fn new(control: &str) -> Emulator {
        Emulator {
            control: control.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// The delivery base (`http://ADDR`) playback URLs point at.
    pub fn delivery_base(&self) -> String {
        self.control
            .strip_suffix("/__emulator")
            .unwrap()
            .to_string()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.control));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// One live input (full object, with credentials), or `None` if the emulator has none.
    pub async fn input(&self, uid: &str) -> Option<Value> {
        match self
            .send(reqwest::Method::GET, &format!("/inputs/{uid}"), None)
            .await
        {
            (200, v) => Some(v),
            (404, _) => None,
            (s, v) => panic!("GET inputs/{uid}: {s} {v}"),
        }
    }

    pub async fn inputs(&self) -> Vec<Value> {
        let (s, v) = self.send(reqwest::Method::GET, "/inputs", None).await;
        assert_eq!(s, 200);
        v.as_array().unwrap().clone()
    }

    /// Inputs whose `meta.host` is `host`.
    pub async fn inputs_of(&self, host: &Pubkey) -> Vec<Value> {
        let host = host.to_string();
        self.inputs()
            .await
            .into_iter()
            .filter(|i| i["meta"]["host"] == host.as_str())
            .collect()
    }

    pub async fn connect(&self, uid: &str) -> Value {
        let (s, v) = self
            .send(
                reqwest::Method::POST,
                &format!("/inputs/{uid}/connect"),
                None,
            )
            .await;
        assert_eq!(s, 200, "connect: {v}");
        v
    }

    /// Videos (recordings) of a live input, newest first.
    pub async fn videos(&self, uid: &str) -> Vec<Value> {
        let (s, v) = self
            .send(reqwest::Method::GET, &format!("/inputs/{uid}/videos"), None)
            .await;
        assert_eq!(s, 200, "videos of {uid}: {v}");
        v.as_array().unwrap().clone()
    }

    /// Webhook notifications sent so far, oldest first.
    pub async fn deliveries(&self) -> Vec<Value> {
        let (s, v) = self
            .send(reqwest::Method::GET, "/webhook/deliveries", None)
            .await;
        assert_eq!(s, 200);
        v.as_array().unwrap().clone()
    }

    /// The status of an encoder-connect attempt (200 connected, 409 refused).
    /// `POST /__emulator{path}` with no body: (status, JSON answer).
    pub async fn control_post(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, None).await
    }

    pub async fn connect_status(&self, uid: &str) -> u16 {
        self.send(
            reqwest::Method::POST,
            &format!("/inputs/{uid}/connect"),
            None,
        )
        .await
        .0
    }

    /// Injects `fault` into the next `times` calls of `route`.
    pub async fn fault(&self, route: &str, fault: Value, times: u32) {
        let (s, v) = self
            .send(
                reqwest::Method::POST,
                "/faults",
                Some(json!({"route": route, "fault": fault, "times": times})),
            )
            .await;
        assert_eq!(s, 204, "fault: {v}");
    }

    /// Per-route call counters, e.g. `{"live_inputs.create": 1}`.
    pub async fn calls(&self) -> Value {
        let (s, v) = self.send(reqwest::Method::GET, "/calls", None).await;
        assert_eq!(s, 200);
        v
    }

    pub async fn reset_calls(&self) {
        let (s, _) = self.send(reqwest::Method::DELETE, "/calls", None).await;
        assert_eq!(s, 204);
    }
}

// ---------------------------------------------------------------------------------------------
// The chain

/// Funds `to` from the node's faucet and waits (bounded) until the balance shows it.
pub async fn airdrop(rpc_url: &str, to: &Pubkey, lamports: u64) {
    let reader = RoomcastChain::new(rpc_url, Keypair::new(), roomcast_chain::PROGRAM_ID).unwrap();
    reader
        .rpc()
        .request_airdrop(to, lamports)
        .await
        .expect("airdrop");
    eventually("the airdrop to land", || async {
        (reader.balance(to).await.ok()? >= lamports).then_some(())
    })
    .await;
}

/// A raw JSON-RPC call.
pub async fn rpc_call(rpc_url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let r: Value = reqwest::Client::new()
        .post(rpc_url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("error").is_none(), "{method}: {r}");
    r["result"].clone()
}

/// An account's data bytes via `getAccountInfo` (base64).
pub async fn account_data(rpc_url: &str, address: &Pubkey) -> Vec<u8> {
    let result = rpc_call(
        rpc_url,
        "getAccountInfo",
        json!([address.to_string(), {"encoding": "base64", "commitment": "confirmed"}]),
    )
    .await;
    let data = &result["value"]["data"];
    assert_eq!(data[1], "base64", "{result}");
    base64::engine::general_purpose::STANDARD
        .decode(data[0].as_str().unwrap())
        .unwrap()
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// Polling

/// Polls `f` until it gives `Some`, for at most [`EVENTUALLY`]; panics naming `what` otherwise.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + EVENTUALLY;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {EVENTUALLY:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new wallet that has never been seen by anyone.
pub fn wallet() -> Keypair {
    Keypair::new()
}
