//! Builds the roomcast IDL without the Anchor CLI.
//!
//! `anchor build` compiles the program's tests with the `idl-build` feature, runs the generated
//! `__anchor_private_print_idl*` tests, and joins the JSON sections they print into one IDL. This crate
//! does the same, step for step (see anchor-lang-idl 0.1.4, `build.rs`), but never through
//! `IdlBuilder`: that one calls `rustup toolchain install` when `RUSTUP_TOOLCHAIN` is set.
//!
//! [`generate`] runs the build and returns the IDL's JSON text; [`parse_printed_idl`] and [`render`]
//! are the pure parts, usable on captured output.
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anchor_lang_idl_spec::{Idl, IdlEvent, IdlTypeDef};
use anyhow::{anyhow, bail, Context, Result};
use regex::Regex;
use serde::Deserialize;

/// The program crate whose IDL is built.
pub const PROGRAM_PACKAGE: &str = "roomcast";
/// Where the program lives, relative to the workspace root.
pub const PROGRAM_DIR: &str = "programs/roomcast";
/// Where the IDL is committed, relative to the workspace root.
pub const IDL_PATH: &str = "idls/roomcast.json";
/// The command that regenerates the committed IDL.
pub const REGENERATE_COMMAND: &str = "cargo run -p roomcast-idl";

/// The workspace root (two levels above this crate).
///
/// Read from the environment cargo gives `cargo run`/`cargo test` first: a binary built in one
/// checkout is reused unchanged by another checkout sharing the target dir (CI clones), and its
/// compile-time path would point at the first one.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|dir| dir.join("Cargo.toml").is_file() && dir.ends_with("app/idl"))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .nth(2)
        .expect("app/idl sits two levels below the workspace root")
        .to_path_buf()
}

/// The target directory of the IDL build: `<target dir>/idl-build`, so that it never waits on (or
/// invalidates) the lock and artifacts of the cargo invocation that runs this tool.
pub fn idl_target_dir(workspace_root: &Path) -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => std::env::current_dir()
            .map(|cwd| cwd.join(&dir))
            .unwrap_or_else(|_| PathBuf::from(dir)),
        None => workspace_root.join("target"),
    };
    target.join("idl-build")
}

/// Environment variables a parent cargo sets for the process running this tool (`cargo run`,
/// `cargo test`) that must not leak into the child build.
fn is_inherited_cargo_var(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "RUSTUP_TOOLCHAIN",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "CARGO_TARGET_DIR",
        "OUT_DIR",
    ];
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_")
}

/// Compiles the program with `idl-build`, runs its IDL print tests, and returns the IDL as the
/// pretty JSON text that belongs in `idls/roomcast.json`.
pub fn generate(workspace_root: &Path) -> Result<String> {
    let stdout = run_print_tests(workspace_root)?;
    let idl = parse_printed_idl(&stdout)?;
    Ok(render(&idl))
}

/// Runs `cargo test -p roomcast --features idl-build __anchor_private_print_idl -- --show-output
/// --quiet` and returns its stdout.
pub fn run_print_tests(workspace_root: &Path) -> Result<String> {
    let program_path = workspace_root.join(PROGRAM_DIR);
    let cargo: OsString = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_inherited_cargo_var) {
            cmd.env_remove(&name);
        }
    }
    cmd.current_dir(workspace_root)
        .args(["test", "-p", PROGRAM_PACKAGE, "--features", "idl-build"])
        .arg("__anchor_private_print_idl")
        .args(["--", "--show-output", "--quiet"])
        .env("CARGO_TARGET_DIR", idl_target_dir(workspace_root))
        // The same switches `anchor build` sets (anchor-syn reads them at compile time).
        .env("ANCHOR_IDL_BUILD_NO_DOCS", "FALSE")
        .env("ANCHOR_IDL_BUILD_RESOLUTION", "TRUE")
        .env("ANCHOR_IDL_BUILD_SKIP_LINT", "FALSE")
        .env("ANCHOR_IDL_BUILD_PROGRAM_PATH", &program_path)
        .env("RUSTFLAGS", "-A warnings");
    let output = cmd
        .output()
        .context("running cargo test for the IDL build")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "building the IDL failed ({}):\n{stderr}\n{stdout}",
            output.status
        );
    }
    Ok(stdout)
}

/// Joins the `--- IDL begin … ---` sections printed by the print tests into one IDL, then converts
/// module paths to names and sorts, as anchor-lang-idl's builder does.
pub fn parse_printed_idl(stdout: &str) -> Result<Idl> {
    enum State {
        Pass,
        Address,
        Constants(Vec<String>),
        Events(Vec<String>),
        Errors(Vec<String>),
        Program(Vec<String>),
    }

    #[derive(Deserialize)]
    struct IdlBuildEventPrint {
        event: IdlEvent,
        types: Vec<IdlTypeDef>,
    }

    let mut address = None;
    let mut constants = vec![];
    let mut events = vec![];
    let mut errors = None;
    let mut event_types = BTreeMap::new();
    let mut program: Option<Idl> = None;

    let mut state = State::Pass;
    for line in stdout.lines() {
        match &mut state {
            State::Pass => match line {
                "--- IDL begin address ---" => state = State::Address,
                "--- IDL begin const ---" => state = State::Constants(vec![]),
                "--- IDL begin event ---" => state = State::Events(vec![]),
                "--- IDL begin errors ---" if errors.is_some() => {
                    bail!("multiple error definitions are not allowed")
                }
                "--- IDL begin errors ---" => state = State::Errors(vec![]),
                "--- IDL begin program ---" if program.is_some() => {
                    bail!("more than one program section printed")
                }
                "--- IDL begin program ---" => state = State::Program(vec![]),
                _ => {}
            },
            State::Address => {
                address = Some(line.replace(|c: char| !c.is_alphanumeric(), ""));
                state = State::Pass;
            }
            State::Constants(lines) => {
                if line == "--- IDL end const ---" {
                    constants
                        .push(serde_json::from_str(&lines.join("\n")).context("IDL constant")?);
                    state = State::Pass;
                } else {
                    lines.push(line.to_owned());
                }
            }
            State::Events(lines) => {
                if line == "--- IDL end event ---" {
                    let event: IdlBuildEventPrint =
                        serde_json::from_str(&lines.join("\n")).context("IDL event")?;
                    events.push(event.event);
                    event_types.extend(event.types.into_iter().map(|ty| (ty.name.clone(), ty)));
                    state = State::Pass;
                } else {
                    lines.push(line.to_owned());
                }
            }
            State::Errors(lines) => {
                if line == "--- IDL end errors ---" {
                    errors = Some(serde_json::from_str(&lines.join("\n")).context("IDL errors")?);
                    state = State::Pass;
                } else {
                    lines.push(line.to_owned());
                }
            }
            State::Program(lines) => {
                if line == "--- IDL end program ---" {
                    program = Some(serde_json::from_str(&lines.join("\n")).context("IDL program")?);
                    state = State::Pass;
                } else {
                    lines.push(line.to_owned());
                }
            }
        }
    }
    if !matches!(state, State::Pass) {
        bail!("unterminated IDL section in the test output");
    }

    let mut idl =
        program.ok_or_else(|| anyhow!("no `--- IDL begin program ---` section printed"))?;
    idl.address =
        address.ok_or_else(|| anyhow!("no `--- IDL begin address ---` section printed"))?;
    if idl.address.is_empty() {
        bail!("the printed program address is empty (is `declare_id!` missing?)");
    }
    idl.constants = constants;
    idl.events = events;
    idl.errors = errors.unwrap_or_default();
    // Program types win over the copies printed with events, as in anchor's builder.
    let program_types = std::mem::take(&mut idl.types);
    event_types.extend(program_types.into_iter().map(|ty| (ty.name.clone(), ty)));
    idl.types = event_types.into_values().collect();

    let mut idl = convert_module_paths(idl)?;
    sort(&mut idl);
    verify(&idl)?;
    Ok(idl)
}

/// The committed form: pretty JSON with a trailing newline.
pub fn render(idl: &Idl) -> String {
    let mut text = serde_json::to_string_pretty(idl).expect("an IDL always serializes");
    text.push('\n');
    text
}

/// Replaces `"crate::module::Type"` with `"Type"` wherever that causes no name conflict.
fn convert_module_paths(idl: Idl) -> Result<Idl> {
    let text = serde_json::to_string(&idl)?;
    let path_re = Regex::new(r#""(\w+::)+(\w+)""#)?;
    let mut converted = text.clone();
    for cap in path_re.captures_iter(&text) {
        let path = cap.get(0).expect("whole match").as_str();
        let name = cap.get(2).expect("last segment").as_str();
        let replaced = converted.replace(path, &format!(r#""{name}""#));
        let conflict = Regex::new(&format!(r#""(\w+::)+{name}""#))?.is_match(&replaced);
        if !conflict {
            converted = replaced;
        }
    }
    Ok(serde_json::from_str(&converted)?)
}

/// Sorts by name for a stable file, as anchor does.
fn sort(idl: &mut Idl) {
    idl.accounts.sort_by(|a, b| a.name.cmp(&b.name));
    idl.constants.sort_by(|a, b| a.name.cmp(&b.name));
    idl.events.sort_by(|a, b| a.name.cmp(&b.name));
    idl.instructions.sort_by(|a, b| a.name.cmp(&b.name));
    idl.types.sort_by(|a, b| a.name.cmp(&b.name));
}

/// The checks anchor's builder makes before accepting an IDL.
fn verify(idl: &Idl) -> Result<()> {
    fn check<'a>(
        kind: &str,
        items: impl Iterator<Item = (&'a str, &'a [u8])> + Clone,
    ) -> Result<()> {
        for (name, disc) in items.clone() {
            if disc.is_empty() {
                bail!("empty discriminator for {kind} `{name}`");
            }
            if let Some((other, _)) = items
                .clone()
                .find(|(other, d)| *other != name && disc.starts_with(d))
            {
                bail!("ambiguous discriminators for {kind} `{name}` and `{other}`");
            }
        }
        Ok(())
    }
    check(
        "accounts",
        idl.accounts
            .iter()
            .map(|a| (a.name.as_str(), a.discriminator.as_slice())),
    )?;
    check(
        "events",
        idl.events
            .iter()
            .map(|e| (e.name.as_str(), e.discriminator.as_slice())),
    )?;
    check(
        "instructions",
        idl.instructions
            .iter()
            .map(|i| (i.name.as_str(), i.discriminator.as_slice())),
    )?;
    if let Some(account) = idl
        .accounts
        .iter()
        .find(|a| a.discriminator.iter().all(|b| *b == 0))
    {
        bail!("all-zero account discriminator: `{}`", account.name);
    }
    for account in &idl.accounts {
        let zeros = account
            .discriminator
            .iter()
            .take_while(|b| **b == 0)
            .count();
        if let Some(other) = idl.accounts.iter().find(|a| a.discriminator.len() <= zeros) {
            bail!(
                "accounts `{}` and `{}` may be substituted under the `zero` constraint",
                account.name,
                other.name
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = r#"running 3 tests
...
successes:

---- __anchor_private_print_idl_address stdout ----
--- IDL begin address ---
"CMjK3BfCNh747XGhxcDrB8krgJRzP6isffmHnSqrfpUu"
--- IDL end address ---

---- __anchor_private_print_idl_program stdout ----
--- IDL begin program ---
{
  "address": "",
  "metadata": { "name": "p", "version": "0.1.0", "spec": "0.1.0" },
  "instructions": [
    { "name": "b_ix", "discriminator": [2], "accounts": [], "args": [] },
    { "name": "a_ix", "discriminator": [1], "accounts": [], "args": [] }
  ],
  "accounts": [ { "name": "p::state::Thing", "discriminator": [9, 9] } ],
  "types": [
    { "name": "p::state::Thing", "type": { "kind": "struct", "fields": [] } }
  ]
}
--- IDL end program ---

---- errors::print stdout ----
--- IDL begin errors ---
[ { "code": 6000, "name": "Bad", "msg": "bad" } ]
--- IDL end errors ---

test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out
"#;

    #[test]
    fn joins_sections_converts_paths_and_sorts() {
        let idl = parse_printed_idl(PRINTED).unwrap();
        assert_eq!(idl.address, "CMjK3BfCNh747XGhxcDrB8krgJRzP6isffmHnSqrfpUu");
        let names: Vec<_> = idl.instructions.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["a_ix", "b_ix"]);
        assert_eq!(idl.accounts[0].name, "Thing");
        assert_eq!(idl.types[0].name, "Thing");
        assert_eq!(idl.errors.len(), 1);
        assert_eq!(idl.errors[0].code, 6000);
        assert!(render(&idl).ends_with("}\n"));
    }

    #[test]
    fn rejects_output_without_program_section() {
        let err = parse_printed_idl("--- IDL begin address ---\n\"x\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no `--- IDL begin program ---` section printed"
        );
    }

    #[test]
    fn rejects_ambiguous_discriminators() {
        let printed = PRINTED.replace(r#""discriminator": [2]"#, r#""discriminator": [1, 2]"#);
        let err = parse_printed_idl(&printed).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ambiguous discriminators for instructions `b_ix` and `a_ix`"
        );
    }
}
