//! Shared by the CLI tests: a `roomcast localnet` child process, keypair files, a tiny blocking
//! JSON-RPC client (airdrops), and a runner for `roomcast` commands against that node.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use roomcast_chain::{Keypair, Pubkey, Signer};
use serde_json::{json, Value};

pub const SOL: u64 = 1_000_000_000;

pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_roomcast")
}

/// A scratch directory removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "roomcast-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `roomcast localnet` on a free port (`--listen 127.0.0.1:0`; the URL is read from its stdout).
pub struct Localnet {
    child: Option<Child>,
    _stdout: BufReader<ChildStdout>,
    pub url: String,
    pub dir: PathBuf,
}

impl Localnet {
    /// Starts a node keeping its files (faucet keypair, log, optional state) in `dir`.
    pub fn start(dir: &Path, state: Option<&Path>) -> Localnet {
        let mut cmd = Command::new(exe());
        cmd.args(["localnet", "--listen", "127.0.0.1:0", "--faucet-keypair"])
            .arg(dir.join("faucet.json"))
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("localnet.log")).unwrap());
        if let Some(state) = state {
            cmd.arg("--state").arg(state);
        }
        let mut child = cmd.spawn().expect("spawn roomcast localnet");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut url = None;
        let mut line = String::new();
        while stdout.read_line(&mut line).unwrap() > 0 {
            if let Some(u) = line.trim().strip_prefix("JSON RPC URL: ") {
                url = Some(u.to_string());
                break;
            }
            line.clear();
        }
        let Some(url) = url else {
            let log = std::fs::read_to_string(dir.join("localnet.log")).unwrap_or_default();
            panic!("roomcast localnet did not print its URL; log:\n{log}");
        };
        Localnet {
            child: Some(child),
            _stdout: stdout,
            url,
            dir: dir.to_path_buf(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `signal` and waits for the process; returns its exit status.
    pub fn stop_with(mut self, signal: i32) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        // SAFETY: plain kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(child.id() as i32, signal) };
        assert_eq!(rc, 0, "kill failed");
        child.wait().unwrap()
    }

    /// One JSON-RPC call over a plain HTTP/1.1 connection; returns the whole response envelope.
    pub fn rpc(&self, method: &str, params: Value) -> Value {
        let body =
            json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
        let host = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to localnet");
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, json_body) = response.split_once("\r\n\r\n").expect("http response");
        serde_json::from_str(json_body).expect("json-rpc body")
    }

    pub fn airdrop(&self, to: &Pubkey, lamports: u64) {
        let r = self.rpc("requestAirdrop", json!([to.to_string(), lamports]));
        assert!(r["result"].is_string(), "airdrop failed: {r}");
    }

    pub fn balance(&self, of: &Pubkey) -> u64 {
        let r = self.rpc("getBalance", json!([of.to_string()]));
        r["result"]["value"].as_u64().expect("balance")
    }

    /// A funded keypair written (Solana CLI JSON format) to `<dir>/<name>.json`.
    pub fn wallet(&self, name: &str) -> Wallet {
        let keypair = Keypair::new();
        let path = self.dir.join(format!("{name}.json"));
        roomcast_localnet::keypair_file::write(&path, &keypair).unwrap();
        self.airdrop(&keypair.pubkey(), 10 * SOL);
        Wallet { keypair, path }
    }

    /// `roomcast -u <url> <args>` run in the node's directory with a clean environment.
    pub fn roomcast(&self, args: &[&str]) -> Run {
        let mut full = vec!["-u", self.url.as_str()];
        full.extend_from_slice(args);
        run_in(&self.dir, &full)
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub struct Wallet {
    pub keypair: Keypair,
    pub path: PathBuf,
}

impl Wallet {
    pub fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    pub fn key(&self) -> String {
        self.keypair.pubkey().to_string()
    }

    pub fn file(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

/// The outcome of one `roomcast` invocation.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().expect("exited normally"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    /// Exit 0; returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Exit 0 and stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.ok()).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// Exit 1 with one `error: …` line on stderr and nothing on stdout; returns the message.
    pub fn failure(&self) -> &str {
        assert_eq!(
            self.code, 1,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "");
        assert!(self.stderr.ends_with('\n'));
        let message = self.stderr.trim_end_matches('\n');
        assert!(!message.contains('\n'), "one line: {message}");
        message
            .strip_prefix("error: ")
            .unwrap_or_else(|| panic!("no `error: ` prefix: {message}"))
    }
}

/// Runs `roomcast <args>` in `dir` with HOME pointed there and no roomcast/solana env settings.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(exe())
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("SOLANA_RPC_URL")
        .env_remove("ROOMCAST_KEYPAIR")
        .env_remove("ROOMCAST_PROGRAM_ID")
        .env_remove("ROOMCAST_REGISTRY")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run roomcast");
    Run::from(out)
}

pub fn sid(n: u32) -> String {
    format!("{:032x}", 0x5e55_0000_u128 + n as u128)
}

/// Unix seconds now (to bound on-chain timestamps, which come from the node's wall clock).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn registry_address(admin: &Pubkey) -> Pubkey {
    roomcast_chain::registry_address(&roomcast_chain::PROGRAM_ID, admin)
}

pub fn room_address(registry: &Pubkey, session_id: &str) -> Pubkey {
    roomcast_chain::room_address(&roomcast_chain::PROGRAM_ID, registry, session_id)
}
