//! `ferry manifest-digest MANIFEST-FILE` (skopeo `cmd/skopeo/manifest.go`).

use anyhow::{Result, anyhow, bail};
use clap::Command;

use super::Invocation;

pub fn command() -> Command {
    Command::new("manifest-digest")
        .about("Compute a manifest digest of a file")
        .before_help("ferry manifest-digest MANIFEST-FILE")
        .after_help("ferry manifest-digest manifest.json")
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    if inv.args.len() != 1 {
        bail!("Usage: ferry manifest-digest manifest");
    }
    inv.check_unimplemented()?;
    let path = &inv.args[0];
    // std::fs (not fs_err) so the message is skopeo's: "… from PATH: <OS error>".
    let bytes =
        std::fs::read(path).map_err(|e| anyhow!("Error reading manifest from {path}: {e}"))?;
    let digest =
        ferry_manifest::digest(&bytes).map_err(|e| anyhow!("Error computing digest: {e}"))?;
    println!("{digest}");
    Ok(())
}
