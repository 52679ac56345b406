//! The start-up check of the shared Redis: reachable over TLS with the right CA and host name,
//! credentials accepted, and the user allowed every command, key and channel roomcast uses — so a
//! least-privilege ACL user that lacks something fails at start with one line naming it, not
//! later with a 503. Each command is probed on a scratch key of this registry
//! (`roomcast:{<registry>}:preflight:<replica>`, deleted at the end): Redis checks ACLs before it
//! runs anything, so a missing permission answers `NOPERM` whatever the arguments.
//!
//! An unreachable Redis (refused, timed out) does not stop the start: the replica serves
//! fail-closed until Redis answers, as before.
use std::collections::BTreeSet;

use redis::RedisError;

use crate::core::config::RedisMode;
use crate::store::redis::connect::is_auth_error;
use crate::store::redis::Redis;

/// The commands roomcast sends (directly or inside its Lua scripts), in every mode. The README's
/// ACL line is this list plus the mode-specific ones ([`MODE_COMMANDS`]).
pub const COMMANDS: &[&str] = &[
    "get",
    "set",
    "del",
    "exists",
    "expire",
    "pexpire",
    "pttl",
    "incr",
    "mget",
    "hget",
    "hset",
    "zadd",
    "zrangebyscore",
    "zremrangebyscore",
    "time",
    "scan",
    "publish",
    "subscribe",
    "ping",
    "evalsha",
    "script|load",
    "wait",
];

/// Extra commands of a mode: the primary's `ROLE` (sentinel), the topology and redirects (cluster).
pub fn mode_commands(mode: RedisMode) -> &'static [&'static str] {
    match mode {
        RedisMode::Single => &[],
        RedisMode::Sentinel => &["role"],
        RedisMode::Cluster => &["cluster|slots", "asking"],
    }
}

/// The least-privilege ACL rules for roomcast (after `ACL SETUSER <user> on ><password>`).
pub fn acl_rules(mode: RedisMode) -> String {
    let mut rules = vec![
        "resetkeys".to_string(),
        "~roomcast:*".to_string(),
        "resetchannels".to_string(),
        "&roomcast:*".to_string(),
        "-@all".to_string(),
    ];
    rules.extend(
        COMMANDS
            .iter()
            .chain(mode_commands(mode))
            .map(|c| format!("+{c}")),
    );
    rules.join(" ")
}

/// What the user may not do.
#[derive(Default)]
struct Missing {
    commands: BTreeSet<String>,
    keys: bool,
    channels: bool,
}

impl Missing {
    /// Notes a `NOPERM` answer; any other error is returned.
    fn note<T>(&mut self, result: redis::RedisResult<T>) -> Result<(), RedisError> {
        match result {
            Err(e) if e.code() == Some("NOPERM") => {
                let detail = e.detail().unwrap_or_default().to_string();
                if let Some(command) = detail.split('\'').nth(1) {
                    self.commands.insert(command.to_string());
                } else if detail.contains("channel") {
                    self.channels = true;
                } else {
                    self.keys = true;
                }
                Ok(())
            }
            Err(e) => Err(e),
            Ok(_) => Ok(()),
        }
    }

    fn is_empty(&self) -> bool {
        self.commands.is_empty() && !self.keys && !self.channels
    }
}

/// The start-up check. `Err` is one line for the operator.
pub async fn check(redis: &Redis, mode: RedisMode, wait: bool) -> anyhow::Result<()> {
    match probe(redis, wait).await {
        Ok(missing) if missing.is_empty() => Ok(()),
        Ok(missing) => {
            let mut parts = Vec::new();
            if !missing.commands.is_empty() {
                let list: Vec<String> = missing.commands.iter().map(|c| format!("+{c}")).collect();
                parts.push(format!("commands {}", list.join(" ")));
            }
            if missing.keys {
                parts.push("keys ~roomcast:*".to_string());
            }
            if missing.channels {
                parts.push("channels &roomcast:*".to_string());
            }
            anyhow::bail!(
                "the Redis user of ROOMCAST_REDIS_URL lacks {} (roomcast needs: {})",
                parts.join(", "),
                acl_rules(mode)
            )
        }
        Err(e) if unreachable(&e) => {
            tracing::warn!(error = %e, "Redis is unreachable at start; serving fail-closed until it answers (the ACL check ran on no server)");
            Ok(())
        }
        Err(e) => anyhow::bail!("{}", explain(&e)),
    }
}

/// Refused or timed out (not a TLS, credential or protocol failure).
fn unreachable(e: &RedisError) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    if tls_failure(&text) {
        return false;
    }
    e.is_connection_refusal()
        || e.is_timeout()
        || text.contains("timed out")
        || text.contains("no sentinel answered")
        || text.contains("connection refused")
        || text.contains("not a primary")
}

fn tls_failure(text: &str) -> bool {
    text.contains("certificate")
        || text.contains("tls")
        || text.contains("handshake")
        || text.contains("alert")
}

/// One line naming what went wrong at start.
fn explain(e: &RedisError) -> String {
    let text = e.to_string();
    if text.contains("CertificateRequired") || text.contains("alert") {
        return format!("TLS to Redis failed: {text} (the server wants a client certificate it trusts: ROOMCAST_REDIS_CLIENT_CERT and ROOMCAST_REDIS_CLIENT_KEY)");
    }
    if tls_failure(&text.to_ascii_lowercase()) {
        return format!("TLS to Redis failed: {text} (the server's certificate must chain to ROOMCAST_REDIS_CA_FILE, or the system roots, and name the URL's host)");
    }
    if text.contains("the sentinels refused") {
        return text;
    }
    if is_auth_error(e) {
        return format!("Redis refused the credentials of ROOMCAST_REDIS_URL: {text}");
    }
    format!("Redis check at start failed: {text}")
}

/// Runs every command roomcast needs once; the ones answered `NOPERM`.
async fn probe(redis: &Redis, wait: bool) -> Result<Missing, RedisError> {
    let mut missing = Missing::default();
    let key = redis.key(&format!("preflight:{}", redis.replica));
    let hash = format!("{key}:h");
    let zset = format!("{key}:z");
    let counter = format!("{key}:n");
    let mut conn = redis.conn();
    // The first command connects: TLS, credentials, the sentinels' primary, the cluster's slots.
    missing.note(redis.keyless::<String>(redis::cmd("PING")).await)?;
    let commands = [
        redis::cmd("SET")
            .arg(&key)
            .arg(1)
            .arg("PX")
            .arg(60_000)
            .clone(),
        redis::cmd("GET").arg(&key).clone(),
        redis::cmd("EXISTS").arg(&key).clone(),
        redis::cmd("PEXPIRE").arg(&key).arg(60_000).clone(),
        redis::cmd("EXPIRE").arg(&key).arg(60).clone(),
        redis::cmd("PTTL").arg(&key).clone(),
        redis::cmd("MGET").arg(&key).clone(),
        redis::cmd("INCR").arg(&counter).clone(),
        redis::cmd("HSET").arg(&hash).arg("f").arg(1).clone(),
        redis::cmd("HGET").arg(&hash).arg("f").clone(),
        redis::cmd("ZADD").arg(&zset).arg(0).arg("m").clone(),
        redis::cmd("ZRANGEBYSCORE").arg(&zset).arg(0).arg(1).clone(),
        redis::cmd("ZREMRANGEBYSCORE")
            .arg(&zset)
            .arg(0)
            .arg(1)
            .clone(),
        redis::cmd("PUBLISH")
            .arg(redis.key("events"))
            .arg(r#"{"kind":"preflight"}"#)
            .clone(),
    ];
    for cmd in commands {
        missing.note(cmd.query_async::<redis::Value>(&mut conn).await)?;
    }
    for cmd in [
        redis::cmd("TIME"),
        redis::cmd("SCAN")
            .arg(0)
            .arg("MATCH")
            .arg(redis.key("*"))
            .arg("COUNT")
            .arg(1)
            .clone(),
    ] {
        missing.note(redis.keyless::<redis::Value>(cmd).await)?;
    }
    if wait {
        missing.note(
            redis
                .keyless::<redis::Value>(redis::cmd("WAIT").arg(0).arg(0).clone())
                .await,
        )?;
    }
    // A script never loaded on this server: `EVALSHA`, `NOSCRIPT`, `SCRIPT LOAD`, `EVALSHA`.
    let script = redis::Script::new(&format!(
        "-- roomcast preflight {}\nreturn redis.call('EXISTS', KEYS[1])",
        redis.replica
    ));
    missing.note(
        script
            .key(&key)
            .invoke_async::<redis::Value>(&mut conn)
            .await,
    )?;
    match redis.pubsub().await {
        Ok(mut pubsub) => missing.note(pubsub.subscribe(redis.key("events")).await)?,
        Err(e) => missing.note::<()>(Err(e))?,
    }
    missing.note(
        redis::cmd("DEL")
            .arg(&key)
            .arg(&hash)
            .arg(&zset)
            .arg(&counter)
            .query_async::<redis::Value>(&mut conn)
            .await,
    )?;
    Ok(missing)
}
