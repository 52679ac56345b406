//! Redis as operators run it (issue 24), with real `redis-server` processes started here: TLS with
//! a client certificate and the README's least-privilege ACL user, Redis Cluster (3 primaries),
//! and Sentinel (1 primary, 1 replica, 3 sentinels with a password) with the primary killed in
//! the middle of a burst of keyed creates and replayed signatures. Two replicas share state in
//! each mode; a wrong CA, a wrong host name, a missing client certificate and a user without the
//! ACL each stop `serve` at start with one line.
use crate::support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use roomcast_api::core::config::RedisMode;
use roomcast_api::store::redis::preflight::acl_rules;
use roomcast_chain::Signer;
use serde_json::json;
use support::*;

use support::redis_tls::{Pki, ADMIN_PASSWORD, ROOMCAST_PASSWORD};
const SENTINEL_PASSWORD: &str = "sentinel-pw-for-tests";
const WEBHOOK_SECRET: &str = "redis-ops-webhook-secret";

// ---------------------------------------------------------------------------------------------
// Redis processes

/// A free loopback port (and, for cluster nodes, its bus port + 10000 too).
fn free_port(bus: bool) -> u16 {
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !bus
            || (port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok())
        {
            return port;
        }
    }
}

/// One `redis-server` (data node or sentinel) from a config file written here.
struct Node {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    sentinel: bool,
    /// `redis-cli` TLS flags when the node only speaks TLS.
    tls: Vec<String>,
}

impl Node {
    fn start(tag: &str, port: u16, config: &str, sentinel: bool, tls: Vec<String>) -> Node {
        let dir = scratch_dir(tag);
        std::fs::write(
            dir.join("node.conf"),
            format!("bind 127.0.0.1\ndir {}\n{config}", dir.display()),
        )
        .unwrap();
        let mut node = Node {
            child: None,
            port,
            dir,
            sentinel,
            tls,
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.join("redis.log")).unwrap();
        let mut cmd = Command::new("redis-server");
        cmd.arg(self.dir.join("node.conf"));
        if self.sentinel {
            cmd.arg("--sentinel");
        }
        cmd.stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null());
        die_with_parent(&mut cmd);
        self.child = Some(
            cmd.spawn()
                .expect("redis-server (scripts/test.sh installs it)"),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.cli(&["PING"]) != "PONG" {
            assert!(
                Instant::now() < deadline,
                "redis-server on {} did not start: {}",
                self.port,
                std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis-cli` as the admin (the `default` user) or, for a sentinel, with its password.
    fn cli(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(&self.tls)
            .arg("--no-auth-warning")
            .args([
                "-a",
                if self.sentinel {
                    SENTINEL_PASSWORD
                } else {
                    ADMIN_PASSWORD
                },
            ])
            .args(args);
        let out = cmd.output().expect("redis-cli");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The config lines of a data node: the admin (`default`, every right) and `roomcast` with the
/// README's least-privilege ACL for `mode`.
fn users(mode: RedisMode) -> String {
    format!(
        "user default on >{ADMIN_PASSWORD} ~* &* +@all\nuser roomcast on >{ROOMCAST_PASSWORD} {}\nmasteruser default\nmasterauth {ADMIN_PASSWORD}\nsave \"\"\nappendonly no\nrepl-diskless-sync-delay 0\n",
        acl_rules(mode)
    )
}

// ---------------------------------------------------------------------------------------------
// The deployment around Redis: one local node, one emulator, replicas

struct Upstreams {
    node: Localnet,
    emulator: EmulatorProc,
}

impl Upstreams {
    fn start() -> Upstreams {
        let node = Localnet::start();
        node.init_registry(&node.faucet.pubkey());
        Upstreams {
            node,
            emulator: EmulatorProc::start(),
        }
    }

    fn env(&self, redis: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = self.emulator.server_env();
        env.extend([
            ("SOLANA_RPC_URL", self.node.rpc_url.clone()),
            (
                "ROOMCAST_REGISTRAR_KEYPAIR",
                self.node.faucet_path.to_str().unwrap().to_string(),
            ),
            ("CLOUDFLARE_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
            ("ROOMCAST_PUBLIC_ORIGIN", "https://rooms.test".to_string()),
            // Long enough that only the shared events can explain a replica seeing a change.
            ("ROOMCAST_ROOM_CACHE_MS", "60000".to_string()),
            ("ROOMCAST_CREATE_RATE_PER_MINUTE", "1000".to_string()),
            ("ROOMCAST_CREATE_BUDGET_PER_MINUTE", "1000".to_string()),
            ("ROOMCAST_RECONCILE_INTERVAL_SECS", "1".to_string()),
        ]);
        env.extend(redis.iter().cloned());
        env
    }

    fn replica(&self, redis: &[(&'static str, String)]) -> Server {
        let env = self.env(redis);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Server::start(&env)
    }

    /// `serve` with these Redis settings, expected to refuse to start: its error line.
    fn refused(&self, redis: &[(&'static str, String)]) -> String {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_roomcast"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        for (key, _) in std::env::vars() {
            if key.starts_with("CLOUDFLARE_")
                || key.starts_with("ROOMCAST_")
                || key.starts_with("SOLANA_")
            {
                cmd.env_remove(key);
            }
        }
        cmd.env("ROOMCAST_OPERATOR_KEY", OPERATOR_KEY);
        for (k, v) in self.env(redis) {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "serve started: {stderr}");
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "one error line: {stderr}");
        errors[0].to_string()
    }
}

fn create_body(title: &str, host: &roomcast_chain::Pubkey) -> Vec<u8> {
    serde_json::to_vec(&json!({"title": title, "host": host.to_string()})).unwrap()
}

async fn keyed_create(api: &Api, host: &roomcast_chain::Pubkey, key: &str) -> Resp {
    api.raw(
        "POST",
        "/api/create",
        create_body("Keyed", host),
        Some("application/json"),
        Auth::Operator,
        &[("idempotency-key", key)],
    )
    .await
}

/// What two replicas must share in every mode: an idempotency key, a spent signature, a room
/// change (the other replica's 60 s room cache only drops it on the shared event), and every key
/// under the one hash tag of the registry. `keys` lists every key of the deployment's Redis.
async fn two_replicas_share(a: &Server, b: &Server, keys: impl Fn() -> Vec<String>) {
    let (api_a, api_b) = (a.api(), b.api());
    let host = wallet();
    let first = keyed_create(&api_a, &host.pubkey(), "shared-key").await;
    first.assert_status(201);
    let again = keyed_create(&api_b, &host.pubkey(), "shared-key").await;
    again.assert_status(201);
    assert_eq!(again.json, first.json, "B answers A's room");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(a.rooms(Some(host.pubkey())).await.len(), 1);

    let room = first.str("room");
    let session = first.str("SessionID");
    let path = format!("/api/rooms/{room}");
    let patch = serde_json::to_vec(&json!({"title": "Renamed on A"})).unwrap();
    // B caches the room before A renames it.
    let before = api_b
        .get(&format!("/api/livestream?sessionId={session}"))
        .await;
    before.assert_status(200);
    let signed = api_a
        .host_headers(&host, "PATCH", &path, now_secs(), &patch)
        .await;
    api_a
        .raw(
            "PATCH",
            &path,
            patch.clone(),
            Some("application/json"),
            Auth::Headers(signed.clone()),
            &[],
        )
        .await
        .assert_status(200);
    api_b
        .raw(
            "PATCH",
            &path,
            patch,
            Some("application/json"),
            Auth::Headers(signed),
            &[],
        )
        .await
        .assert_error(401, "replayed_signature");
    eventually("B sees A's rename through the shared events", || async {
        let r = api_b
            .get(&format!("/api/livestream?sessionId={session}"))
            .await;
        (r.text.contains("Renamed on A")).then_some(())
    })
    .await;

    let prefix = format!("roomcast:{{{}}}:", a.registry);
    let keys = keys();
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}idem:"))),
        "{keys:?}"
    );
    assert!(
        keys.iter()
            .any(|k| k.starts_with(&format!("{prefix}replay:"))),
        "{keys:?}"
    );
    for key in &keys {
        assert!(key.starts_with(&prefix), "every key under {prefix}: {key}");
    }
}

// ---------------------------------------------------------------------------------------------
// TLS + mutual TLS + the least-privilege ACL user

#[tokio::test]
async fn tls_with_a_client_certificate_and_the_readme_acl_user_and_what_fails_at_start() {
    // The README's ACL line is the one this test gives its user.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let line = format!(
        "ACL SETUSER roomcast on '>CHANGE-ME' {}",
        acl_rules(RedisMode::Single)
    );
    assert!(readme.contains(&line), "README gives the ACL line: {line}");
    assert!(readme.contains("`+role`") && readme.contains("`+cluster|slots +asking`"));

    let pki = Pki::new();
    let up = Upstreams::start();
    let port = free_port(false);
    let cli_tls: Vec<String> = [
        "--tls",
        "--cacert",
        &pki.path("ca.crt"),
        "--cert",
        &pki.path("client.crt"),
        "--key",
        &pki.path("client.key"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // `weak` lacks two commands and every channel.
    let weak_rules = acl_rules(RedisMode::Single)
        .replace(" +evalsha", "")
        .replace(" +wait", "")
        .replace("&roomcast:*", "");
    let config = format!(
        "port 0\ntls-port {port}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\ntls-auth-clients yes\n{}user weak on >{ROOMCAST_PASSWORD} {weak_rules}\n",
        pki.path("server.crt"),
        pki.path("server.key"),
        pki.path("ca.crt"),
        users(RedisMode::Single),
    );
    let redis = Node::start("redis-tls", port, &config, false, cli_tls);
    let url = format!("rediss://roomcast:{ROOMCAST_PASSWORD}@127.0.0.1:{port}/0");
    let tls = |url: String, ca: &str| -> Vec<(&'static str, String)> {
        vec![
            ("ROOMCAST_REDIS_URL", url),
            ("ROOMCAST_REDIS_CA_FILE", pki.path(ca)),
            ("ROOMCAST_REDIS_CLIENT_CERT", pki.path("client.crt")),
            ("ROOMCAST_REDIS_CLIENT_KEY", pki.path("client.key")),
        ]
    };

    let a = up.replica(&tls(url.clone(), "ca.crt"));
    let b = up.replica(&tls(url.clone(), "ca.crt"));
    assert!(a
        .proc
        .output()
        .contains(&format!("keys under roomcast:{{{}}}:", a.registry)));
    eventually(
        "both replicas connect as the ACL user (commands and events)",
        || async {
            let clients = redis.cli(&["CLIENT", "LIST"]);
            let ours = clients.lines().filter(|l| l.contains("user=roomcast"));
            (ours.filter(|l| l.contains("flags=P")).count() == 2).then_some(())
        },
    )
    .await;
    two_replicas_share(&a, &b, || {
        redis
            .cli(&["--scan", "--pattern", "*"])
            .lines()
            .map(str::to_string)
            .collect()
    })
    .await;
    let denied = redis.cli(&["ACL", "LOG"]);
    assert!(
        !denied.contains("roomcast"),
        "the ACL user was never refused anything: {denied}"
    );
    drop((a, b));

    // What fails at start, each with one line.
    let wrong_ca = up.refused(&tls(url.clone(), "other-ca.crt"));
    assert!(
        wrong_ca.starts_with("error: TLS to Redis failed: "),
        "{wrong_ca}"
    );
    assert!(wrong_ca.contains("UnknownIssuer"), "{wrong_ca}");
    // A server whose certificate (same CA) names another host.
    let other_port = free_port(false);
    let _elsewhere = Node::start(
        "redis-tls-elsewhere",
        other_port,
        &format!(
            "port 0\ntls-port {other_port}\ntls-cert-file {}\ntls-key-file {}\ntls-ca-cert-file {}\ntls-auth-clients no\n{}",
            pki.path("elsewhere.crt"),
            pki.path("elsewhere.key"),
            pki.path("ca.crt"),
            users(RedisMode::Single),
        ),
        false,
        vec!["--tls".into(), "--insecure".into()],
    );
    let wrong_name = up.refused(&tls(
        format!("rediss://roomcast:{ROOMCAST_PASSWORD}@127.0.0.1:{other_port}/0"),
        "ca.crt",
    ));
    assert!(
        wrong_name.starts_with("error: TLS to Redis failed: "),
        "{wrong_name}"
    );
    assert!(
        wrong_name.contains(r#"certificate not valid for name "127.0.0.1""#),
        "{wrong_name}"
    );
    let mut no_client_cert = tls(url.clone(), "ca.crt");
    no_client_cert.truncate(2);
    let no_cert = up.refused(&no_client_cert);
    assert_eq!(no_cert, "error: TLS to Redis failed: received fatal alert: CertificateRequired (the server wants a client certificate it trusts: ROOMCAST_REDIS_CLIENT_CERT and ROOMCAST_REDIS_CLIENT_KEY)");
    let weak = up.refused(&tls(
        format!("rediss://weak:{ROOMCAST_PASSWORD}@127.0.0.1:{port}/0"),
        "ca.crt",
    ));
    assert_eq!(
        weak,
        format!(
            "error: the Redis user of ROOMCAST_REDIS_URL lacks commands +evalsha, channels &roomcast:* (roomcast needs: {})",
            acl_rules(RedisMode::Single)
        )
    );
    let wrong_password = up.refused(&tls(
        format!("rediss://roomcast:not-the-password@127.0.0.1:{port}/0"),
        "ca.crt",
    ));
    assert!(
        wrong_password.starts_with("error: Redis refused the credentials of ROOMCAST_REDIS_URL"),
        "{wrong_password}"
    );
    assert!(
        !wrong_password.contains("not-the-password"),
        "no secret in the line: {wrong_password}"
    );
    let plain = up.refused(&[
        ("ROOMCAST_REDIS_URL", format!("redis://127.0.0.1:{port}/0")),
        ("ROOMCAST_REDIS_CA_FILE", pki.path("ca.crt")),
    ]);
    assert_eq!(
        plain,
        "error: ROOMCAST_REDIS_CA_FILE / ROOMCAST_REDIS_CLIENT_CERT need rediss:// URLs (TLS)"
    );
    // Settings that cannot work, refused before any connection.
    let half = up.refused(&[
        ("ROOMCAST_REDIS_URL", url.clone()),
        ("ROOMCAST_REDIS_CLIENT_CERT", pki.path("client.crt")),
    ]);
    assert_eq!(
        half,
        "error: ROOMCAST_REDIS_CLIENT_CERT and ROOMCAST_REDIS_CLIENT_KEY go together (mutual TLS)"
    );
    let several = up.refused(&[(
        "ROOMCAST_REDIS_URL",
        format!("redis://127.0.0.1:{port},redis://127.0.0.1:{other_port}"),
    )]);
    assert_eq!(
        several,
        "error: ROOMCAST_REDIS_URL lists several servers: set ROOMCAST_REDIS_MODE=sentinel or cluster"
    );
    let nameless = up.refused(&[
        ("ROOMCAST_REDIS_MODE", "sentinel".to_string()),
        ("ROOMCAST_REDIS_URL", format!("redis://127.0.0.1:{port}")),
    ]);
    assert_eq!(
        nameless,
        "error: ROOMCAST_REDIS_MODE=sentinel needs ROOMCAST_REDIS_MASTER (the primary's name at the sentinels)"
    );
    let missing_ca = up.refused(&[
        ("ROOMCAST_REDIS_URL", url.clone()),
        ("ROOMCAST_REDIS_CA_FILE", "/nonexistent/ca.crt".to_string()),
    ]);
    assert!(
        missing_ca.starts_with("error: ROOMCAST_REDIS_CA_FILE /nonexistent/ca.crt: "),
        "{missing_ca}"
    );
}

// ---------------------------------------------------------------------------------------------
// Redis Cluster

#[tokio::test]
async fn two_replicas_share_state_on_a_three_primary_cluster_with_wait() {
    let up = Upstreams::start();
    let mut nodes = Vec::new();
    // 3 primaries, each with a replica: writes are `WAIT`ed for on the slot's primary.
    for i in 0..6 {
        let port = free_port(true);
        let config = format!(
            "port {port}\ncluster-enabled yes\ncluster-config-file nodes-{port}.conf\ncluster-node-timeout 2000\n{}",
            users(RedisMode::Cluster)
        );
        nodes.push(Node::start(
            &format!("redis-cluster-{i}"),
            port,
            &config,
            false,
            vec![],
        ));
    }
    let addrs: Vec<String> = nodes
        .iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
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
        .args(["--cluster-replicas", "1", "--cluster-yes"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    eventually("the cluster is up", || async {
        nodes
            .iter()
            .all(|n| n.cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok"))
            .then_some(())
    })
    .await;
    let is_primary = |n: &Node| n.cli(&["ROLE"]).starts_with("master");
    eventually("every primary's replica is in sync", || async {
        let primaries: Vec<&Node> = nodes.iter().filter(|n| is_primary(n)).collect();
        (primaries.len() == 3
            && primaries
                .iter()
                .all(|n| n.cli(&["INFO", "replication"]).contains("state=online")))
        .then_some(())
    })
    .await;
    let primaries: Vec<&Node> = nodes.iter().filter(|n| is_primary(n)).collect();
    let url = addrs
        .iter()
        .map(|a| format!("redis://roomcast:{ROOMCAST_PASSWORD}@{a}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut env = vec![
        ("ROOMCAST_REDIS_MODE", "cluster".to_string()),
        ("ROOMCAST_REDIS_URL", url),
        ("ROOMCAST_REDIS_WAIT_REPLICAS", "1".to_string()),
    ];
    let a = up.replica(&env);
    let b = up.replica(&env);
    let all_keys = || {
        primaries
            .iter()
            .flat_map(|n| {
                n.cli(&["--scan", "--pattern", "*"])
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    two_replicas_share(&a, &b, all_keys).await;
    // One slot: the node that owns `{<registry>}` holds every key, the others none.
    let keys = all_keys();
    let slot = nodes[0].cli(&["CLUSTER", "KEYSLOT", &format!("{{{}}}", a.registry)]);
    let in_slot: usize = primaries
        .iter()
        .map(|n| {
            n.cli(&["CLUSTER", "COUNTKEYSINSLOT", &slot])
                .parse::<usize>()
                .unwrap()
        })
        .sum();
    assert_eq!(in_slot, keys.len(), "every key in slot {slot}: {keys:?}");
    // One reconciler for the deployment, its lease on the slot's node.
    let home = primaries
        .iter()
        .find(|n| n.cli(&["CLUSTER", "COUNTKEYSINSLOT", &slot]) != "0")
        .unwrap();
    let lease = eventually("a reconciler lease", || async {
        let v = home.cli(&["GET", &format!("roomcast:{{{}}}:reconciler", a.registry)]);
        (!v.is_empty()).then_some(v)
    })
    .await;
    let holder = lease.split_once(':').expect("replica:token").0;
    assert!(
        [&a, &b]
            .iter()
            .any(|s| s.proc.output().contains(&format!("replica {holder})"))),
        "held by one of the replicas: {lease}"
    );
    // Asking for more replicas than the slot's primary has: the claim is written but never acted
    // on — 503, and a retry is not held off (the claim's lease was given back).
    env[2].1 = "2".to_string();
    let greedy = up.replica(&env);
    let host = wallet();
    for _ in 0..2 {
        keyed_create(&greedy.api(), &host.pubkey(), "needs-two-replicas")
            .await
            .assert_error(503, "shared_state_unavailable");
    }
    assert_eq!(greedy.rooms(Some(host.pubkey())).await.len(), 0, "no room");
    assert!(
        greedy
            .proc
            .output()
            .contains("write reached 1 of 2 replicas"),
        "{}",
        greedy.proc.output()
    );
}

// ---------------------------------------------------------------------------------------------
// Sentinel, with a failover in the middle of a burst

/// The address the sentinels give for `m`.
fn primary_port(sentinel: &Node) -> Option<u16> {
    let out = sentinel.cli(&["SENTINEL", "get-master-addr-by-name", "m"]);
    out.lines().nth(1)?.trim().parse().ok()
}

#[tokio::test]
async fn sentinel_failover_in_a_burst_keeps_one_room_per_key_and_no_replay() {
    let up = Upstreams::start();
    let data = |port: u16, replica_of: Option<u16>| {
        let mut config = format!("port {port}\n{}", users(RedisMode::Sentinel));
        if let Some(primary) = replica_of {
            config.push_str(&format!("replicaof 127.0.0.1 {primary}\n"));
        }
        config
    };
    let (p0, p1) = (free_port(false), free_port(false));
    let mut primary = Node::start("redis-primary", p0, &data(p0, None), false, vec![]);
    let _replica = Node::start("redis-replica", p1, &data(p1, Some(p0)), false, vec![]);
    eventually("the replica is in sync", || async {
        primary
            .cli(&["INFO", "replication"])
            .contains("state=online")
            .then_some(())
    })
    .await;
    let mut sentinels = Vec::new();
    for i in 0..3 {
        let port = free_port(false);
        let config = format!(
            "port {port}\nrequirepass {SENTINEL_PASSWORD}\nsentinel sentinel-pass {SENTINEL_PASSWORD}\nsentinel monitor m 127.0.0.1 {p0} 2\nsentinel auth-user m default\nsentinel auth-pass m {ADMIN_PASSWORD}\nsentinel down-after-milliseconds m 1000\nsentinel failover-timeout m 4000\n"
        );
        sentinels.push(Node::start(
            &format!("redis-sentinel-{i}"),
            port,
            &config,
            true,
            vec![],
        ));
    }
    eventually(
        "every sentinel knows the others and the replica",
        || async {
            sentinels
                .iter()
                .all(|s| {
                    let info = s.cli(&["SENTINEL", "MASTER", "m"]);
                    info.contains("num-other-sentinels\n2") && info.contains("num-slaves\n1")
                })
                .then_some(())
        },
    )
    .await;
    let url = sentinels
        .iter()
        .map(|s| format!("redis://roomcast:{ROOMCAST_PASSWORD}@127.0.0.1:{}", s.port))
        .collect::<Vec<_>>()
        .join(",");
    let env = [
        ("ROOMCAST_REDIS_MODE", "sentinel".to_string()),
        ("ROOMCAST_REDIS_URL", url),
        ("ROOMCAST_REDIS_MASTER", "m".to_string()),
        (
            "ROOMCAST_REDIS_SENTINEL_PASSWORD",
            SENTINEL_PASSWORD.to_string(),
        ),
    ];
    // Without the sentinels' password: refused at start, one line.
    let no_pass = up.refused(&env[..3]);
    assert!(
        no_pass.starts_with("error: the sentinels refused the credentials of ROOMCAST_REDIS_SENTINEL_USERNAME/_PASSWORD"),
        "{no_pass}"
    );
    let a = up.replica(&env);
    let b = up.replica(&env);
    let (api_a, api_b) = (a.api(), b.api());
    two_replicas_share(&a, &b, || {
        primary
            .cli(&["--scan", "--pattern", "*"])
            .lines()
            .map(str::to_string)
            .collect()
    })
    .await;
    let lease_key = format!("roomcast:{{{}}}:reconciler", a.registry);
    let before: u64 = eventually("a reconciler lease", || async {
        primary
            .cli(&["GET", &lease_key])
            .split_once(':')
            .and_then(|(_, t)| t.parse().ok())
    })
    .await;

    // A room whose signed renames are replayed through the failover.
    let host = wallet();
    let room_resp = api_a
        .create_for(&host.pubkey(), "Renamed through a failover")
        .await;
    let room = room_resp.str("room");
    let path = format!("/api/rooms/{room}");
    let mut signed = Vec::new();
    for i in 0..6 {
        let patch = serde_json::to_vec(&json!({"title": format!("Rename {i}")})).unwrap();
        let headers = api_a
            .host_headers(&host, "PATCH", &path, now_secs(), &patch)
            .await;
        signed.push((patch, headers));
    }

    // The burst: keyed creates (one host each) and the signed renames, each retried on both
    // replicas until answered; the primary is killed 300 ms in.
    let apis = Arc::new([api_a.clone(), api_b.clone()]);
    let deadline = Instant::now() + Duration::from_secs(120);
    // Creates start every 150 ms until the failover is over, so some run while no primary
    // answers; each is retried (alternating replicas, same key) until it gets its 201.
    let failed_over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let generator = {
        let apis = apis.clone();
        let failed_over = failed_over.clone();
        tokio::spawn(async move {
            let mut creates = Vec::new();
            let mut i = 0;
            // Two more rounds after the failover, so creates also start on the new primary.
            let mut after = 0;
            while after < 2 {
                if failed_over.load(std::sync::atomic::Ordering::SeqCst) {
                    after += 1;
                }
                let apis = apis.clone();
                let host = wallet();
                let key = format!("burst-{i}");
                i += 1;
                creates.push(tokio::spawn(async move {
                    let mut answers: Vec<u16> = Vec::new();
                    let mut n = 0usize;
                    loop {
                        let r = keyed_create(&apis[n % 2], &host.pubkey(), &key).await;
                        n += 1;
                        answers.push(r.status);
                        match r.status {
                            201 => return (host, key, r, answers),
                            503 => r.assert_error(503, "shared_state_unavailable"),
                            409 => r.assert_error(409, "idempotency_key_in_progress"),
                            other => panic!("create {key}: unexpected {other}: {}", r.text),
                        };
                        assert!(
                            Instant::now() < deadline,
                            "create {key} never answered: {answers:?}"
                        );
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }));
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            creates
        })
    };
    let mut replays = Vec::new();
    for (i, (patch, headers)) in signed.into_iter().enumerate() {
        let apis = apis.clone();
        let path = path.clone();
        replays.push(tokio::spawn(async move {
            let mut accepted = 0;
            let mut refused = 0;
            let mut n = i;
            while refused < 2 {
                let r = apis[n % 2]
                    .raw(
                        "PATCH",
                        &path,
                        patch.clone(),
                        Some("application/json"),
                        Auth::Headers(headers.clone()),
                        &[],
                    )
                    .await;
                n += 1;
                match r.status {
                    200 => accepted += 1,
                    401 => {
                        r.assert_error(401, "replayed_signature");
                        refused += 1;
                    }
                    // 503 while no primary answers; anything else (the chain) is retried too.
                    _ => {}
                }
                assert!(Instant::now() < deadline, "rename {i} never settled");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            accepted
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    primary.kill();
    let promoted = eventually("the sentinels promote the replica", || async {
        sentinels
            .iter()
            .all(|s| primary_port(s) == Some(p1))
            .then_some(())
    })
    .await;
    let _ = promoted;
    failed_over.store(true, std::sync::atomic::Ordering::SeqCst);
    let creates = generator.await.unwrap();
    // The dead primary comes back (empty) and the sentinels make it the new primary's replica.
    primary.spawn();
    let new_primary = Node {
        child: None,
        port: p1,
        dir: scratch_dir("redis-promoted"),
        sentinel: false,
        tls: vec![],
    };
    eventually("the old primary replicates the new one", || async {
        new_primary
            .cli(&["INFO", "replication"])
            .contains("state=online")
            .then_some(())
    })
    .await;

    let mut unavailable = 0;
    for create in creates {
        let (host, key, first, answers) = create.await.unwrap();
        unavailable += answers.iter().filter(|s| **s == 503).count();
        assert_eq!(
            a.rooms(Some(host.pubkey())).await.len(),
            1,
            "one room for {key} (answers {answers:?})"
        );
        let again = keyed_create(&api_b, &host.pubkey(), &key).await;
        again.assert_status(201);
        assert_eq!(again.str("SessionID"), first.str("SessionID"), "{key}");
        println!("{key}: {answers:?}");
    }
    assert!(
        unavailable > 0,
        "creates sent while no primary answered got 503"
    );
    for (i, replay) in replays.into_iter().enumerate() {
        let accepted = replay.await.unwrap();
        assert!(accepted <= 1, "rename {i} accepted {accepted} times");
    }
    // The fencing counter went through the failover: a lease after it has a newer token.
    let after: u64 = eventually("a reconciler lease on the new primary", || async {
        new_primary
            .cli(&["GET", &lease_key])
            .split_once(':')
            .and_then(|(_, t)| t.parse().ok())
    })
    .await;
    assert!(
        after >= before,
        "fencing tokens never go back: {after} >= {before}"
    );
    // And shared state works again, events included.
    two_replicas_share_after_failover(&a, &b).await;
}

/// After the failover: a keyed create on B replays on A, and B sees A's rename.
async fn two_replicas_share_after_failover(a: &Server, b: &Server) {
    let (api_a, api_b) = (a.api(), b.api());
    let host = wallet();
    let first = keyed_create(&api_b, &host.pubkey(), "after-failover").await;
    first.assert_status(201);
    let again = keyed_create(&api_a, &host.pubkey(), "after-failover").await;
    assert_eq!(again.json, first.json);
    let session = first.str("SessionID");
    api_b
        .get(&format!("/api/livestream?sessionId={session}"))
        .await
        .assert_status(200);
    let path = format!("/api/rooms/{}", first.str("room"));
    let patch = serde_json::to_vec(&json!({"title": "After the failover"})).unwrap();
    let signed = api_a
        .host_headers(&host, "PATCH", &path, now_secs(), &patch)
        .await;
    api_a
        .raw(
            "PATCH",
            &path,
            patch,
            Some("application/json"),
            Auth::Headers(signed),
            &[],
        )
        .await
        .assert_status(200);
    eventually("B sees A's rename after the failover", || async {
        let r = api_b
            .get(&format!("/api/livestream?sessionId={session}"))
            .await;
        r.text.contains("After the failover").then_some(())
    })
    .await;
}
