//! CLI tests through the built `roomcast` binary (placeholder; see tests/common).
#[test]
fn binary_prints_help() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roomcast")).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("localnet"));
}
