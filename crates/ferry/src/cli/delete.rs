//! `ferry delete IMAGE-NAME` (skopeo `cmd/skopeo/delete.go`).

use anyhow::{Context, Result, bail};
use clap::Command;
use ferry_image::transport::{ImageRef, parse_image_name};

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
    retry::if_necessary(RetryOptions::from_matches(m), || match image.delete(&ctx) {
        Err(e) if e.is_not_found() => Err(not_found(&image, e).into()),
        r => Ok(r?),
    })
}

/// A missing image: skopeo's text for registries (c/image `deleteImage`), still an
/// "image not found" error (exit status 2).
fn not_found(image: &ImageRef, e: ferry_image::Error) -> ferry_image::Error {
    match image {
        ImageRef::Docker(r) => ferry_image::Error::ImageNotFound(format!(
            "Unable to delete {}. Image may not exist or is not stored with a v2 Schema in a v2 registry",
            r.named
        )),
        _ => e,
    }
}
