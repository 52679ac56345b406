//! Certificates for TLS to Redis (openssl CLI) and a `redis-server` that only speaks TLS, wants a
//! client certificate, and has the README's least-privilege ACL user (issue 24).
use std::path::Path;
use std::path::PathBuf;
use std::process::Command;

use roomcast_api::core::config::RedisMode;
use roomcast_api::store::redis::preflight::acl_rules;

use super::scratch_dir;

pub const ADMIN_PASSWORD: &str = "admin-pw-for-tests";
pub const ROOMCAST_PASSWORD: &str = "roomcast-pw-for-tests";

// ---------------------------------------------------------------------------------------------
// Certificates (openssl CLI): a CA, a server certificate for 127.0.0.1 only, a client
// certificate, and a second CA nothing is signed by.

pub struct Pki {
    dir: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    pub fn new() -> Pki {
        let dir = scratch_dir("redis-pki");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        for ca in ["ca", "other-ca"] {
            let mut args = vec!["req", "-x509"];
            args.extend(ec);
            let (key, crt, subj) = (
                format!("{ca}.key"),
                format!("{ca}.crt"),
                format!("/CN={ca}"),
            );
            args.extend([
                "-keyout",
                &key,
                "-out",
                &crt,
                "-days",
                "2",
                "-subj",
                &subj,
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            openssl(&dir, &args);
        }
        for (leaf, san) in [
            ("server", "IP:127.0.0.1"),
            ("elsewhere", "DNS:elsewhere.test"),
            ("client", "DNS:roomcast"),
        ] {
            let (key, csr, crt, ext, subj) = (
                format!("{leaf}.key"),
                format!("{leaf}.csr"),
                format!("{leaf}.crt"),
                format!("{leaf}.ext"),
                format!("/CN={leaf}"),
            );
            std::fs::write(
                dir.join(&ext),
                format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n"),
            )
            .unwrap();
            let mut args = vec!["req"];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
            openssl(&dir, &args);
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &crt,
                    "-days",
                    "2",
                    "-extfile",
                    &ext,
                ],
            );
        }
        Pki { dir }
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.join(file).to_str().unwrap().to_string()
    }
}

/// How a secure `RedisProc` runs and is reached.
#[derive(Clone)]
pub struct Secure {
    pub pki: std::sync::Arc<Pki>,
    pub server_args: Vec<String>,
    /// `redis-cli` as the admin over TLS.
    pub cli_args: Vec<String>,
}

impl Secure {
    pub fn new() -> Secure {
        let pki = Pki::new();
        let mut server_args: Vec<String> = vec![
            "--tls-cert-file".into(),
            pki.path("server.crt"),
            "--tls-key-file".into(),
            pki.path("server.key"),
            "--tls-ca-cert-file".into(),
            pki.path("ca.crt"),
            "--tls-auth-clients".into(),
            "yes".into(),
        ];
        server_args.extend(
            format!("--user default on >{ADMIN_PASSWORD} ~* &* +@all --user roomcast on >{ROOMCAST_PASSWORD} {}", acl_rules(RedisMode::Single))
                .split(' ')
                .map(str::to_string),
        );
        let cli_args = vec![
            "--tls".into(),
            "--cacert".into(),
            pki.path("ca.crt"),
            "--cert".into(),
            pki.path("client.crt"),
            "--key".into(),
            pki.path("client.key"),
            "--no-auth-warning".into(),
            "-a".into(),
            ADMIN_PASSWORD.into(),
        ];
        Secure {
            pki: std::sync::Arc::new(pki),
            server_args,
            cli_args,
        }
    }

    pub fn url(&self, port: u16) -> String {
        format!("rediss://roomcast:{ROOMCAST_PASSWORD}@127.0.0.1:{port}/0")
    }

    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ROOMCAST_REDIS_CA_FILE", self.pki.path("ca.crt")),
            ("ROOMCAST_REDIS_CLIENT_CERT", self.pki.path("client.crt")),
            ("ROOMCAST_REDIS_CLIENT_KEY", self.pki.path("client.key")),
        ]
    }
}

/// What the replica suite needs of its Redis, whichever shape it has.
pub trait SharedRedis: Send + Sync {
    /// `redis-cli` (as the admin) on the node holding the deployment's keys; its trimmed output.
    fn cli(&self, args: &[&str]) -> String;
    fn url(&self) -> String;
    /// The `ROOMCAST_REDIS_*` settings of `serve`.
    fn server_env(&self) -> Vec<(&'static str, String)>;
    /// Every node down (an outage).
    fn stop(&mut self);
    /// Back up, on the same ports.
    fn spawn(&mut self);
    /// Connections subscribed to `channel`, on every node (in a cluster a replica subscribes on
    /// the first seed that answers, which after an outage need not be the keys' node; a message
    /// published on any node reaches them all).
    fn subscribers(&self, channel: &str) -> usize {
        numsub(&self.cli(&["PUBSUB", "NUMSUB", channel]))
    }
}

/// The count in `PUBSUB NUMSUB channel`'s answer (channel, count on two lines).
fn numsub(answer: &str) -> usize {
    answer
        .lines()
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

impl SharedRedis for super::RedisProc {
    fn cli(&self, args: &[&str]) -> String {
        super::RedisProc::cli(self, args)
    }
    fn url(&self) -> String {
        super::RedisProc::url(self)
    }
    fn server_env(&self) -> Vec<(&'static str, String)> {
        super::RedisProc::server_env(self)
    }
    fn stop(&mut self) {
        super::RedisProc::stop(self)
    }
    fn spawn(&mut self) {
        super::RedisProc::spawn(self)
    }
}

/// A 3-primary Redis Cluster on loopback (`redis-cli --cluster create`), every node with the admin
/// and the README's ACL user (cluster rules). `cli` goes to the primary of `{tag}`'s slot, and that
/// node is the first seed of the URL (so the replicas subscribe there).
pub struct ClusterRedis {
    nodes: Vec<(u16, PathBuf, Option<std::process::Child>)>,
    home: usize,
}

fn cluster_port() -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn admin_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "--no-auth-warning",
            "-a",
            ADMIN_PASSWORD,
        ])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl ClusterRedis {
    pub fn start(tag: &str) -> ClusterRedis {
        let mut cluster = ClusterRedis {
            nodes: (0..3)
                .map(|_| (cluster_port(), scratch_dir("redis-cluster"), None))
                .collect(),
            home: 0,
        };
        cluster.spawn_nodes();
        let addrs: Vec<String> = cluster
            .nodes
            .iter()
            .map(|(port, _, _)| format!("127.0.0.1:{port}"))
            .collect();
        let out = Command::new("redis-cli")
            .args([
                "--no-auth-warning",
                "-a",
                ADMIN_PASSWORD,
                "--cluster",
                "create",
            ])
            .args(&addrs)
            .arg("--cluster-yes")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        cluster.wait_ok();
        let slot: u16 = admin_cli(
            cluster.nodes[0].0,
            &["CLUSTER", "KEYSLOT", &format!("{{{tag}}}")],
        )
        .parse()
        .unwrap();
        cluster.home = cluster
            .nodes
            .iter()
            .position(|(port, _, _)| {
                let nodes = admin_cli(*port, &["CLUSTER", "NODES"]);
                let mine = nodes.lines().find(|l| l.contains("myself")).unwrap();
                mine.split(' ').skip(8).any(|range| {
                    let (a, b) = range.split_once('-').unwrap_or((range, range));
                    matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if a <= slot && slot <= b)
                })
            })
            .expect("a node owns the slot");
        cluster
    }

    fn spawn_nodes(&mut self) {
        for (port, dir, child) in &mut self.nodes {
            let log = std::fs::File::create(dir.join("redis.log")).unwrap();
            let mut cmd = Command::new("redis-server");
            cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .arg("--cluster-config-file")
                .arg(dir.join("nodes.conf"))
                .arg("--dir")
                .arg(&*dir)
                .args(
                    format!("--user default on >{ADMIN_PASSWORD} ~* &* +@all --user roomcast on >{ROOMCAST_PASSWORD} {}", acl_rules(RedisMode::Cluster))
                        .split(' '),
                )
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .stdin(std::process::Stdio::null());
            super::die_with_parent(&mut cmd);
            *child = Some(cmd.spawn().expect("redis-server"));
        }
        for (port, dir, _) in &self.nodes {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while admin_cli(*port, &["PING"]) != "PONG" {
                assert!(
                    std::time::Instant::now() < deadline,
                    "cluster node {port}: {}",
                    std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default()
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }

    fn wait_ok(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self
            .nodes
            .iter()
            .all(|(port, _, _)| admin_cli(*port, &["CLUSTER", "INFO"]).contains("cluster_state:ok"))
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the cluster never got ok"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl SharedRedis for ClusterRedis {
    fn cli(&self, args: &[&str]) -> String {
        admin_cli(self.nodes[self.home].0, args)
    }

    fn url(&self) -> String {
        let mut ports: Vec<u16> = self.nodes.iter().map(|(p, _, _)| *p).collect();
        ports.swap(0, self.home);
        ports
            .iter()
            .map(|p| format!("redis://roomcast:{ROOMCAST_PASSWORD}@127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn server_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ROOMCAST_REDIS_MODE", "cluster".to_string()),
            ("ROOMCAST_REDIS_URL", self.url()),
        ]
    }

    fn stop(&mut self) {
        for (_, _, child) in &mut self.nodes {
            if let Some(mut child) = child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    fn spawn(&mut self) {
        self.spawn_nodes();
        self.wait_ok();
    }

    fn subscribers(&self, channel: &str) -> usize {
        self.nodes
            .iter()
            .map(|(port, _, _)| numsub(&admin_cli(*port, &["PUBSUB", "NUMSUB", channel])))
            .sum()
    }
}

impl Drop for ClusterRedis {
    fn drop(&mut self) {
        SharedRedis::stop(self);
    }
}
