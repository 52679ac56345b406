//! `cargo run -p roomcast-idl [-- --check] [-- --out <path>]`
//!
//! Builds the roomcast IDL from the program's code (no Anchor CLI) and writes it to
//! `idls/roomcast.json`. With `--check`, writes nothing and exits with status 1 when the committed
//! file differs from what the code produces.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use roomcast_idl::{generate, workspace_root, IDL_PATH, REGENERATE_COMMAND};

struct Args {
    check: bool,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        check: false,
        out: None,
    };
    let mut iter = std::env::args().skip(1);
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--check" => args.check = true,
            "--out" => args.out = Some(iter.next().context("--out needs a path")?.into()),
            "-h" | "--help" => {
                println!("usage: {REGENERATE_COMMAND} [-- --check | --out <path>]");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}` (try --help)"),
        }
    }
    Ok(args)
}

fn run() -> Result<ExitCode> {
    let args = parse_args()?;
    let root = workspace_root();
    let committed_path = root.join(IDL_PATH);
    eprintln!(
        "building the IDL: cargo test -p roomcast --features idl-build __anchor_private_print_idl"
    );
    let idl = generate(&root)?;

    if args.check {
        let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
        if committed == idl {
            eprintln!("{} is up to date", committed_path.display());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!(
            "{} is stale: regenerate it with `{REGENERATE_COMMAND}`",
            committed_path.display()
        );
        return Ok(ExitCode::FAILURE);
    }

    let out = args.out.unwrap_or(committed_path);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&out, idl).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
