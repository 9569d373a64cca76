//! `ferry layers IMAGE-NAME [LAYER...]` (hidden, deprecated in skopeo in favour of
//! `copy`). Flags and arguments are checked; the download is not implemented yet.

use anyhow::{Result, bail};
use clap::Command;

use super::Invocation;
use super::flags;

pub fn command() -> Command {
    Command::new("layers")
        .about("Get layers of IMAGE-NAME")
        .before_help("ferry layers [command options] IMAGE-NAME [LAYER...]")
        .hide(true)
        .args(flags::shared_image_flags())
        .args(flags::image_flags("", None))
        .args(flags::retry_flags())
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    eprintln!("DEPRECATED: ferry layers is deprecated in favor of ferry copy");
    if inv.args.is_empty() {
        bail!("Usage: layers imageReference [layer...]");
    }
    inv.check_unimplemented()?;
    bail!("layers is not implemented yet")
}
