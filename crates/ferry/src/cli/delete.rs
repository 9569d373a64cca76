//! `ferry delete IMAGE-NAME` (skopeo `cmd/skopeo/delete.go`).

use anyhow::{Context, Result, bail};
use clap::Command;
use ferry_image::transport::parse_image_name;

use super::flags::{self, ImageOptions, RetryOptions};
use super::{Invocation, TRANSPORTS};
use crate::{retry, settings};

pub fn command() -> Command {
    Command::new("delete")
        .about("Delete image IMAGE-NAME")
        .long_about(format!(
            "Delete an \"IMAGE_NAME\" from a transport\nSupported transports:\n{TRANSPORTS}\nSee skopeo(1) section \"IMAGE NAMES\" for the expected format"
        ))
        .before_help("ferry delete [command options] IMAGE-NAME")
        .after_help("ferry delete docker://registry.example.com/example/pause:latest")
        .args(flags::shared_image_flags())
        .args(flags::image_flags("", None))
        .args(flags::retry_flags())
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    if inv.args.len() != 1 {
        bail!("Usage: delete imageReference");
    }
    inv.check_unimplemented()?;
    let name = &inv.args[0];
    let image = parse_image_name(name).with_context(|| format!("Invalid source name {name}"))?;
    let m = inv.matches;
    let ctx = settings::image_context(
        inv.global,
        flags::get_str(m, "authfile").as_deref(),
        &ImageOptions::from_matches(m, ""),
        None,
    )?;
    retry::if_necessary(RetryOptions::from_matches(m), || {
        image.delete(&ctx)?;
        Ok(())
    })
}
