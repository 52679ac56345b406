//! The committed IDL must be what the program's code produces today.
use std::process::Command;

use roomcast_idl::{workspace_root, IDL_PATH, REGENERATE_COMMAND};

#[test]
fn committed_idl_matches_the_program() {
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("roomcast.generated.json");
    let _ = std::fs::remove_file(&out);
    let status = Command::new(env!("CARGO_BIN_EXE_roomcast-idl"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run roomcast-idl");
    assert!(
        status.status.success(),
        "roomcast-idl failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let generated = std::fs::read_to_string(&out).expect("generated IDL");
    let committed_path = workspace_root().join(IDL_PATH);
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        generated == committed,
        "{} is stale (or missing): regenerate it with `{REGENERATE_COMMAND}` and commit it",
        committed_path.display()
    );
}
