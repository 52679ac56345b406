//! Keeps the emulator's live inputs (with their stream keys) in a JSON file across restarts, as
//! Cloudflare keeps them: what `roomcast serve --data-dir` needs so a room's stream key still works
//! after a restart — and each input's recordings (videos), whose media stays in the emulator's
//! media directory (`<data dir>/media`). Connections, views and faults are runtime state and are
//! not kept; a broadcast a killed process left unfinished is kept as the recording it had.
//!
//! The account's Stream signing keys are kept too, in their own file ([`InputStore::save_signing_keys`]):
//! only their public halves (all the emulator ever has), so tokens a backend signed before a
//! restart still play after it, and a key deleted before it stays deleted.
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::broadcast::served_from;
use super::handle::EmulatorHandle;
use super::service::Service;
use super::state::{SigningKeyRecord, StoredInput};
use crate::client::{LiveInput, Video};

#[derive(Serialize, Deserialize)]
struct Saved {
    input: LiveInput,
    default_creator: Option<String>,
    /// Its recordings (absent in files written before recordings were kept).
    #[serde(default)]
    videos: Vec<Video>,
}

/// A signing key as kept: its id, when it was made and its public half (PKCS#1 PEM).
#[derive(Serialize, Deserialize)]
struct SavedKey {
    id: String,
    created: String,
    public: String,
}

/// The emulator's live inputs, for saving from another task while the emulator runs.
#[derive(Clone)]
pub struct InputStore {
    service: Arc<Service>,
}

impl EmulatorHandle {
    pub fn input_store(&self) -> InputStore {
        InputStore {
            service: self.service.clone(),
        }
    }

    /// See [`InputStore::save`].
    pub fn save_inputs(&self, path: &Path) -> anyhow::Result<usize> {
        self.input_store().save(path)
    }

    /// See [`InputStore::load`].
    pub fn load_inputs(&self, path: &Path) -> anyhow::Result<usize> {
        self.input_store().load(path)
    }
}

impl InputStore {
    /// Writes every live input, in creation order (atomically: temp file, then rename).
    pub fn save(&self, path: &Path) -> anyhow::Result<usize> {
        let saved: Vec<Saved> = {
            let st = self.service.lock();
            st.order
                .iter()
                .filter_map(|uid| st.inputs.get(uid))
                .map(|s| Saved {
                    input: s.input.clone(),
                    default_creator: s.default_creator.clone(),
                    videos: st
                        .videos
                        .iter()
                        .filter(|v| v.live_input.as_deref() == Some(s.input.uid.as_str()))
                        .cloned()
                        .collect(),
                })
                .collect()
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension("tmp");
        write_owner_only(&tmp, &serde_json::to_vec(&saved)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(saved.len())
    }

    /// Loads inputs saved by [`save`](Self::save); a missing file loads nothing.
    pub fn load(&self, path: &Path) -> anyhow::Result<usize> {
        let body = match std::fs::read(path) {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let saved: Vec<Saved> = serde_json::from_slice(&body)
            .with_context(|| format!("{} is not an emulator inputs file", path.display()))?;
        // The RTMP and SRT listeners may be on other addresses this time: inputs say where they
        // are now.
        let urls = self.service.urls();
        let mut st = self.service.lock();
        let n = saved.len();
        let mut videos = vec![];
        for mut s in saved {
            if let Some(rtmps) = &mut s.input.rtmps {
                rtmps.url = urls.rtmps.clone();
            }
            if let (Some(srt), Some(url)) = (&mut s.input.srt, &urls.srt) {
                srt.url = url.clone();
            }
            super::webrtc::repoint(&mut s.input, &urls);
            let uid = s.input.uid.clone();
            if st.inputs.contains_key(&uid) {
                continue;
            }
            videos.extend(s.videos);
            st.order.push(uid.clone());
            st.inputs.insert(
                uid,
                StoredInput {
                    input: s.input,
                    default_creator: s.default_creator,
                    live_video: None,
                    views: 0,
                    publisher: None,
                    resume: None,
                },
            );
        }
        // Recordings whose media is still here come back (one a killed process left live is
        // sealed and ready); the rest, and media no video names, are gone.
        let media = self.service.media.as_ref();
        let wanted = videos.iter().map(|v| v.uid.clone()).collect();
        let adopted = media.map(|m| m.adopt(&wanted)).unwrap_or_default();
        for mut v in videos {
            if !adopted.contains(&v.uid) || st.video(&v.uid).is_some() {
                continue;
            }
            // Delivery may listen elsewhere this time.
            served_from(&mut v, &urls.delivery);
            if v.status.state != "ready" {
                let Some(m) = media else { continue };
                m.seal(&v.uid);
                let duration = m.duration(&v.uid).unwrap_or(0.0);
                if duration <= 0.0 {
                    m.remove(&v.uid);
                    continue;
                }
                st.videos.push(v.clone());
                st.finish_video(&v.uid, duration);
                continue;
            }
            v.ready_to_stream = true;
            st.videos.push(v);
        }
        Ok(n)
    }
}

impl InputStore {
    /// Writes the account's signing keys (public halves only), atomically.
    pub fn save_signing_keys(&self, path: &Path) -> anyhow::Result<usize> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let saved: Vec<SavedKey> = {
            let st = self.service.lock();
            st.signing_keys
                .iter()
                .filter_map(|(id, k)| {
                    Some(SavedKey {
                        id: id.clone(),
                        created: k.created.clone(),
                        public: k
                            .public
                            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
                            .ok()?
                            .to_string(),
                    })
                })
                .collect()
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension("tmp");
        write_owner_only(&tmp, &serde_json::to_vec(&saved)?)
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(saved.len())
    }

    /// Loads signing keys saved by [`save_signing_keys`](Self::save_signing_keys); a missing file
    /// loads nothing.
    pub fn load_signing_keys(&self, path: &Path) -> anyhow::Result<usize> {
        use rsa::pkcs1::DecodeRsaPublicKey;
        let body = match std::fs::read(path) {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let saved: Vec<SavedKey> = serde_json::from_slice(&body)
            .with_context(|| format!("{} is not an emulator signing keys file", path.display()))?;
        let mut st = self.service.lock();
        let n = saved.len();
        for k in saved {
            let public = rsa::RsaPublicKey::from_pkcs1_pem(&k.public).with_context(|| {
                format!("{}: key {} is not an RSA public key", path.display(), k.id)
            })?;
            st.signing_keys.entry(k.id).or_insert(SigningKeyRecord {
                created: k.created,
                public,
            });
        }
        Ok(n)
    }
}

/// Writes `body` to a new file at `path` that is owner-only (0600) from its creation: stream keys
/// must never be readable by others, not even between a write and a chmod, nor when the write fails
/// half-way (then the file is removed). A file left at `path` by an earlier crash is replaced, not
/// reused (it may have another mode, or be a link).
fn write_owner_only(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    match std::fs::remove_file(path) {
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
    let mut file = options.open(path)?;
    let written = file.write_all(body).and_then(|()| file.sync_all());
    if written.is_err() {
        drop(file);
        let _ = std::fs::remove_file(path);
    }
    written
}
