//! Issue 17 item 9: the emulator's saved live inputs (stream keys) are born owner-only. They were
//! written with the process umask and chmod-ed afterwards, so under a permissive umask the
//! temporary file was readable by everyone until the chmod — and for good when the write failed
//! half-way. Now the temporary file is created with mode 0600, then renamed over the file.
#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::*;
use roomcast_stream::client::CreateLiveInput;

/// Every file in `dir` with its permission bits.
fn modes(dir: &Path) -> Vec<(PathBuf, u32)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let mode = e.metadata().ok()?.permissions().mode() & 0o777;
            Some((e.path(), mode))
        })
        .collect()
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "roomcast-secret-files-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const CHILD: &str = "ROOMCAST_SECRET_FILES_CHILD";

/// A save that fails half-way (a child process whose file-size limit is 0) leaves no file others
/// can read, under umask 000. The old write-then-chmod left the temporary file 0666.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_save_leaves_nothing_readable_by_others() {
    if let Some(dir) = std::env::var_os(CHILD) {
        // SAFETY: plain libc calls on this (single-test) child process's own umask and limits.
        unsafe {
            libc::umask(0);
        }
        let emu = emulator().await;
        client(&emu)
            .create_live_input(&CreateLiveInput::default())
            .await
            .unwrap();
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let mut limit = std::mem::zeroed::<libc::rlimit>();
            assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
            limit.rlim_cur = 0;
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        }
        let err = emu
            .save_inputs(&Path::new(&dir).join("stream-inputs.json"))
            .unwrap_err();
        assert!(format!("{err:#}").contains("File too large"), "{err:#}");
        return;
    }
    let dir = scratch("failed");
    // Piped output: with its file-size limit, the child could not write to a log file either.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_failed_save_leaves_nothing_readable_by_others",
            "--test-threads=1",
        ])
        .env(CHILD, &dir)
        .output()
        .unwrap();
    assert!(
        child.status.success(),
        "the child's save did not fail as arranged: {}{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    for (path, mode) in modes(&dir) {
        assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Under umask 000, while inputs are saved over and over, no file in the directory (the file or
/// its temporary) is ever seen with permissions beyond the owner's, and the saved file is 0600.
/// (Only this test in this binary changes the umask.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_inputs_are_never_seen_with_wider_permissions() {
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let dir = scratch("saves");
    let path = dir.join("stream-inputs.json");
    // A file left by an older version with a wide mode is replaced by an owner-only one.
    std::fs::write(&path, "[]").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    // SAFETY: plain umask(2).
    let old = unsafe { libc::umask(0) };
    let emu = emulator().await;
    for _ in 0..20 {
        client(&emu)
            .create_live_input(&CreateLiveInput::default())
            .await
            .unwrap();
    }
    assert_eq!(emu.save_inputs(&path).unwrap(), 20);
    assert_eq!(
        modes(&dir),
        vec![(path.clone(), 0o600)],
        "replaced by an owner-only file"
    );
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (dir, stop) = (dir.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seen = std::collections::BTreeSet::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                seen.extend(modes(&dir).into_iter().filter(|(_, m)| m & 0o077 != 0));
            }
            seen
        })
    };
    for _ in 0..200 {
        assert_eq!(emu.save_inputs(&path).unwrap(), 20);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let wide = watcher.join().unwrap();
    unsafe { libc::umask(old) };
    assert!(wide.is_empty(), "files seen readable by others: {wide:?}");
    assert_eq!(
        modes(&dir),
        vec![(path.clone(), 0o600)],
        "only the file, 0600"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
