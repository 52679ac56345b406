//! Solana CLI keypair files: a JSON array of the 64 secret+public key bytes.
use std::fs;
use std::path::Path;

use anyhow::Context;
use solana_keypair::Keypair;

pub fn read(path: &Path) -> anyhow::Result<Keypair> {
    let body = fs::read_to_string(path)
        .with_context(|| format!("cannot read keypair {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&body).with_context(|| {
        format!(
            "{} is not a keypair file (JSON array of 64 bytes)",
            path.display()
        )
    })?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("{} is not a valid ed25519 keypair", path.display()))
}

pub fn write(path: &Path, keypair: &Keypair) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let body = serde_json::to_string(&keypair.to_bytes().to_vec())?;
    fs::write(path, body).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

pub fn read_or_create(path: &Path) -> anyhow::Result<Keypair> {
    if path.exists() {
        return read(path);
    }
    let keypair = Keypair::new();
    write(path, &keypair)?;
    Ok(keypair)
}
