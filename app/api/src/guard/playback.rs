//! Signed playback for gated rooms: the deployment's Stream signing key ([`PlaybackSigner`]:
//! configured id + PEM; or, in the embedded default, made once through the keys API and kept in the
//! data dir — reused after a restart while Stream still lists it, replaced when it no longer does —
//! or for the process with `--ephemeral`) and the grant limit per wallet and per client address
//! ([`GrantLimits`], a fixed window per key, in this replica's memory, or in Redis shared by every
//! replica when `ROOMCAST_REDIS_URL` is set).
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use roomcast_stream::client::StreamClient;
use roomcast_stream::signed_urls::{Claims, SigningKey};
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use crate::core::error::AppError;
use crate::store::GrantCounters;

/// Signs playback tokens (RS256, Cloudflare's self-signed JWT) with one key per deployment.
pub struct PlaybackSigner {
    key: OnceCell<SigningKey>,
    /// Where a key made here is kept (the data dir), if anywhere.
    file: Option<PathBuf>,
}

impl std::fmt::Debug for PlaybackSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlaybackSigner")
            .field("key", &self.key.get())
            .field("file", &self.file)
            .finish()
    }
}

impl PlaybackSigner {
    /// With a configured key; or empty (the first grant reads the key kept in `file`, or makes one
    /// through the keys API and keeps it there; with no file, for the process).
    pub fn new(configured: Option<SigningKey>, file: Option<PathBuf>) -> Self {
        let key = match configured {
            Some(key) => OnceCell::new_with(Some(key)),
            None => OnceCell::new(),
        };
        PlaybackSigner { key, file }
    }

    /// The key: the configured one, or the first time the kept one (while Stream lists it) or a new
    /// one (concurrent first grants make one key).
    pub async fn key(&self, stream: &StreamClient) -> Result<&SigningKey, AppError> {
        self.key
            .get_or_try_init(|| self.kept_or_created(stream))
            .await
    }

    async fn kept_or_created(&self, stream: &StreamClient) -> Result<SigningKey, AppError> {
        let Some(path) = &self.file else {
            return stream
                .create_signing_key()
                .await
                .map_err(AppError::from_stream);
        };
        let kept = match read_key_file(path) {
            Ok(kept) => kept,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e,
                    "the kept Stream signing key cannot be read: a new key replaces it");
                None
            }
        };
        if let Some(kept) = kept {
            let listed = stream
                .list_signing_keys()
                .await
                .map_err(AppError::from_stream)?;
            if listed.iter().any(|k| k.id == kept.id()) {
                tracing::info!(key_id = kept.id(), path = %path.display(),
                    "Stream signing key: the one kept in the data dir");
                return Ok(kept);
            }
            let key = stream
                .create_signing_key()
                .await
                .map_err(AppError::from_stream)?;
            keep(path, &key);
            tracing::warn!(old_key_id = kept.id(), key_id = key.id(), path = %path.display(),
                "the kept Stream signing key is no longer listed by Stream (deleted): a new key \
                 replaced it; tokens signed with the old one no longer play");
            return Ok(key);
        }
        let key = stream
            .create_signing_key()
            .await
            .map_err(AppError::from_stream)?;
        keep(path, &key);
        tracing::info!(key_id = key.id(), path = %path.display(),
            "Stream signing key created and kept in the data dir");
        Ok(key)
    }

    /// A token for `uid` valid from a minute ago (clock skew) until `expires_at`.
    pub fn sign(key: &SigningKey, uid: &str, now: i64, expires_at: i64) -> String {
        key.sign(&Claims::new(uid, now - 60, expires_at))
    }
}

/// The key file: the id and Cloudflare's `pem` (base64 of the PEM). No `Debug`: never printed.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    id: String,
    pem: String,
}

/// The key kept at `path`; `None` when there is no file.
fn read_key_file(path: &Path) -> anyhow::Result<Option<SigningKey>> {
    let body = match std::fs::read(path) {
        Ok(body) => body,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // serde's error names no value, only where the JSON is wrong.
    let file: KeyFile = serde_json::from_slice(&body)
        .map_err(|e| anyhow::anyhow!("not a signing key file ({e})"))?;
    let key = SigningKey::from_pem(&file.id, &file.pem)?;
    Ok(Some(key))
}

/// Keeps `key` at `path`; a failure is logged (the key still signs for this process, and the next
/// start makes another).
fn keep(path: &Path, key: &SigningKey) {
    if let Err(e) = write_key_file(path, key) {
        tracing::warn!(path = %path.display(), error = %e,
            "could not keep the Stream signing key in the data dir: a restart will make a new one");
    }
}

/// Writes the key file atomically (a temp file created owner-only, synced, renamed over `path`),
/// so the file is never readable by others nor ever half-written.
fn write_key_file(path: &Path, key: &SigningKey) -> std::io::Result<()> {
    use std::io::Write;
    let body = serde_json::to_vec(&KeyFile {
        id: key.id().to_string(),
        pem: key.pem_base64(),
    })?;
    let tmp = path.with_extension("tmp");
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(&body)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Grants allowed per key (wallet, client address) per window, counted in `counters` (this
/// replica's memory, or Redis for every replica).
pub struct GrantLimits {
    per_window: u32,
    window: Duration,
    counters: Arc<dyn GrantCounters>,
}

impl GrantLimits {
    pub fn new(per_window: u32, window: Duration, counters: Arc<dyn GrantCounters>) -> Self {
        GrantLimits {
            per_window,
            window,
            counters,
        }
    }

    /// Counts a grant for `wallet` from `ip`; 429 when either has used its window.
    pub async fn check(&self, wallet: &str, ip: IpAddr) -> Result<(), AppError> {
        let keys = [
            format!("w:{wallet}"),
            format!("ip:{}", crate::guard::client_ip::limit_key(ip)),
        ];
        match self
            .counters
            .count(&keys, self.per_window, self.window)
            .await?
        {
            None => Ok(()),
            Some(left) => Err(AppError::RateLimited {
                message: "too many playback grants; try again shortly".into(),
                retry_after_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            }),
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The key file round-trips, is owner-only even over a world-readable leftover temp file, and
    /// neither the signer's `Debug` nor a read error shows the private key.
    #[test]
    fn the_key_file_is_owner_only_and_never_printed() {
        let dir = std::env::temp_dir().join(format!("roomcast-signing-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("stream-signing-key.json");
        assert!(read_key_file(&path).unwrap().is_none());
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, "leftover").unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        let key = SigningKey::generate().unwrap();
        write_key_file(&path, &key).unwrap();
        assert!(!tmp.exists());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let read = read_key_file(&path).unwrap().unwrap();
        assert_eq!(read.id(), key.id());
        assert_eq!(read.pem_base64(), key.pem_base64());

        let signer = PlaybackSigner::new(Some(read), Some(path.clone()));
        let shown = format!("{signer:?} {signer:#?}");
        assert!(
            shown.contains(key.id()) && shown.contains("[REDACTED]"),
            "{shown}"
        );
        assert!(!shown.contains(&key.pem_base64()[..40]), "{shown}");

        // A damaged file: an error naming no part of it.
        let body = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &body[..body.len() / 2]).unwrap();
        let err = read_key_file(&path).err().unwrap().to_string();
        assert!(err.starts_with("not a signing key file"), "{err}");
        assert!(!err.contains(&key.pem_base64()[..40]), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
