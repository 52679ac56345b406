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
    // Created owner-only, so the secret is never readable by others, not even for an instant.
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        // An existing file keeps its mode on open: tighten it before writing the secret.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    use std::io::Write;
    file.write_all(body.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn keypair_files_are_owner_only_even_when_they_existed() {
        let dir = std::env::temp_dir().join(format!("roomcast-keyfile-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id.json");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let keypair = Keypair::new();
        write(&path, &keypair).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(&path).unwrap().to_bytes(), keypair.to_bytes());
        let fresh = dir.join("new.json");
        write(&fresh, &keypair).unwrap();
        assert_eq!(
            fs::metadata(&fresh).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::remove_dir_all(dir).unwrap();
    }

    /// The file is owner-only from its creation, not chmod-ed after the secret is written: a
    /// write that fails half-way (here: a child process whose file-size limit is 0) must leave no
    /// file others can read. Writing first and tightening after left it 0644.
    #[test]
    fn a_keypair_file_is_owner_only_even_when_writing_its_secret_fails() {
        const CHILD: &str = "ROOMCAST_KEYFILE_WRITE_CHILD";
        if let Some(path) = std::env::var_os(CHILD) {
            // SAFETY: plain libc calls on this (single-test) child process's own limits.
            unsafe {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let mut limit = std::mem::zeroed::<libc::rlimit>();
                assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
                limit.rlim_cur = 0;
                assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
            }
            let err = write(Path::new(&path), &Keypair::new()).unwrap_err();
            assert!(format!("{err:#}").contains("File too large"), "{err:#}");
            return;
        }
        let dir = std::env::temp_dir().join(format!("roomcast-keyfail-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("id.json");
        // Piped output: with its file-size limit, the child could not write to a log file either.
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "keypair_file::tests::a_keypair_file_is_owner_only_even_when_writing_its_secret_fails",
                "--test-threads=1",
            ])
            .env(CHILD, &path)
            .output()
            .unwrap();
        assert!(
            child.status.success(),
            "the child's write did not fail as arranged: {}{}",
            String::from_utf8_lossy(&child.stdout),
            String::from_utf8_lossy(&child.stderr)
        );
        let meta = fs::metadata(&path).expect("the file was created");
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 0);
        fs::remove_dir_all(dir).unwrap();
    }
}
