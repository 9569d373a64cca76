//! `ferry sync --src T --dest T SOURCE DESTINATION` (skopeo `cmd/skopeo/sync.go`).
//! Every flag is parsed and the arguments are checked; syncing is not implemented yet.

use anyhow::{Result, bail};
use clap::Command;

use super::flags::{self, bool_flag, string_flag};
use super::{Invocation, expect_args};

pub fn command() -> Command {
    Command::new("sync")
        .about("Synchronize one or more images from one location to another")
        .long_about(
            "Copy all the images from a SOURCE to a DESTINATION.\n\nAllowed SOURCE transports (specified with --src): docker, dir, yaml.\nAllowed DESTINATION transports (specified with --dest): docker, dir.\n\nSee skopeo-sync(1) for details.",
        )
        .before_help(
            "ferry sync [command options] --src TRANSPORT --dest TRANSPORT SOURCE DESTINATION",
        )
        .after_help("ferry sync --src docker --dest dir --scoped registry.example.com/busybox /media/usb")
        .args(flags::shared_image_flags())
        .args(flags::docker_image_flags("src-", Some("screds")))
        .args(flags::docker_image_flags("dest-", Some("dcreds")))
        .args(flags::retry_flags())
        .arg(flags::deprecated_tls_verify_flag())
        .args([
            bool_flag("remove-signatures", "Do not copy signatures from SOURCE images"),
            bool_flag(
                "remove-list-signatures",
                "Do not copy signatures of manifest lists from SOURCE images, keep per-instance signatures",
            ),
            string_flag(
                "sign-by",
                "FINGERPRINT",
                "Sign the image using a GPG key with the specified FINGERPRINT",
            ),
            string_flag(
                "sign-by-sq-fingerprint",
                "FINGERPRINT",
                "Sign the image using a Sequoia-PGP key with the specified FINGERPRINT",
            ),
            string_flag(
                "sign-by-sigstore",
                "PATH",
                "Sign the image using a sigstore parameter file at PATH",
            ),
            string_flag(
                "sign-by-sigstore-private-key",
                "PATH",
                "Sign the image using a sigstore private key at PATH",
            ),
            string_flag(
                "sign-passphrase-file",
                "string",
                "File that contains a passphrase for the --sign-by key",
            ),
            string_flag(
                "format",
                "string",
                "MANIFEST TYPE (oci, v2s1, or v2s2) to use when syncing image(s) to a destination (default is manifest type of source, with fallbacks)",
            )
            .short('f'),
            string_flag("src", "string", "SOURCE transport type").short('s'),
            string_flag("dest", "string", "DESTINATION transport type").short('d'),
            bool_flag(
                "scoped",
                "Images at DESTINATION are prefix using the full source image path as scope",
            ),
            string_flag(
                "append-suffix",
                "string",
                "String to append to destination tags",
            ),
            bool_flag("all", "Copy all images if SOURCE-IMAGE is a list").short('a'),
            bool_flag("dry-run", "Run without actually copying data"),
            bool_flag("preserve-digests", "Preserve digests of images and lists"),
            bool_flag("keep-going", "Do not abort the sync if any image copy fails"),
            string_flag(
                "digestfile",
                "string",
                "Write the digests and Image References of the resulting images to the specified file, separated by newlines",
            ),
        ])
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    expect_args(&inv.args, 2, "Exactly two arguments expected")?;
    let m = inv.matches;
    let src = flags::get_nonempty(m, "src");
    let dest = flags::get_nonempty(m, "dest");
    let Some(src) = src else {
        bail!("A source transport must be specified");
    };
    if !["docker", "dir", "yaml"].contains(&src.as_str()) {
        bail!("{src:?} is not a valid source transport");
    }
    let Some(dest) = dest else {
        bail!("A destination transport must be specified");
    };
    if !["docker", "dir"].contains(&dest.as_str()) {
        bail!("{dest:?} is not a valid destination transport");
    }
    if src == dest && src == "dir" {
        bail!("sync from 'dir' to 'dir' not implemented, consider using rsync instead");
    }
    inv.check_unimplemented()?;
    bail!("sync is not implemented yet")
}
