//! `ferry experimental-image-proxy [--sockfd N]` (hidden): the JSON-over-socketpair
//! server used by containers-image-proxy-rs. Flags are parsed; serving is not
//! implemented yet.

use anyhow::{Result, bail};
use clap::Command;

use super::Invocation;
use super::flags::{self, int_flag};

pub fn command() -> Command {
    Command::new("experimental-image-proxy")
        .about("Interactive proxy for fetching container images (EXPERIMENTAL)")
        .long_about("Run skopeo as a proxy, supporting HTTP requests to fetch manifests and blobs.")
        .before_help("ferry experimental-image-proxy [command options] IMAGE")
        .after_help("ferry experimental-image-proxy --sockfd 3")
        .hide(true)
        .args(flags::shared_image_flags())
        .args(flags::image_flags("", None))
        .arg(int_flag(
            "sockfd",
            "int",
            "Serve on opened socket pair (default 0/stdin)",
        ))
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    if !inv.args.is_empty() {
        bail!("accepts 0 arg(s), received {}", inv.args.len());
    }
    inv.check_unimplemented()?;
    bail!("experimental-image-proxy is not implemented yet")
}
