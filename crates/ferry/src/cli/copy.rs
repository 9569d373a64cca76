//! `ferry copy SOURCE-IMAGE DESTINATION-IMAGE` (skopeo `cmd/skopeo/copy.go`).

use anyhow::{Context, Result, bail};
use clap::Command;
use ferry_image::copy::{CopyOptions, ListSelection};
use ferry_image::transport::{ImageRef, parse_image_name};

use super::flags::{
    self, DestOptions, ImageOptions, RetryOptions, bool_flag, ints_flag, string_flag, strings_flag,
    uint_flag,
};
use super::{Invocation, TRANSPORTS, expect_args};
use crate::{logging, progress, retry, settings};

pub fn command() -> Command {
    Command::new("copy")
        .about("Copy an IMAGE-NAME from one location to another")
        .long_about(format!(
            "Container \"IMAGE-NAME\" uses a \"transport\":\"details\" format.\n\nSupported transports:\n{TRANSPORTS}\n\nSee skopeo(1) section \"IMAGE NAMES\" for the expected format"
        ))
        .before_help("ferry copy [command options] SOURCE-IMAGE DESTINATION-IMAGE")
        .after_help(
            "ferry copy docker://quay.io/skopeo/stable:latest docker://registry.example.com/skopeo:latest",
        )
        .args(flags::shared_image_flags())
        .args(flags::image_flags("src-", Some("screds")))
        .args(flags::image_dest_flags("dest-", Some("dcreds")))
        .args(flags::retry_flags())
        .arg(flags::deprecated_tls_verify_flag())
        .args(copy_flags())
}

fn copy_flags() -> Vec<clap::Arg> {
    vec![
        strings_flag("additional-tag", "additional tags (supports docker-archive)"),
        bool_flag("quiet", "Suppress output information when copying images").short('q'),
        bool_flag("all", "Copy all images if SOURCE-IMAGE is a list").short('a'),
        string_flag(
            "multi-arch",
            "string",
            "How to handle multi-architecture images (system, all, index-only, or a comma-separated list of OS/ARCH platforms)",
        ),
        bool_flag(
            "strip-removed-platforms",
            "When copying a subset of platforms, remove the other platforms from the destination index (requires --remove-signatures or --remove-list-signatures)",
        ),
        bool_flag("preserve-digests", "Preserve digests of images and lists"),
        bool_flag("remove-signatures", "Do not copy signatures from SOURCE-IMAGE"),
        bool_flag(
            "remove-list-signatures",
            "Do not copy signatures of the manifest list from SOURCE-IMAGE, keep per-instance signatures",
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
            "PATH",
            "Read a passphrase for signing an image from PATH",
        ),
        string_flag(
            "sign-identity",
            "string",
            "Identity of signed image, must be a fully specified docker reference. Defaults to the target docker reference.",
        ),
        string_flag(
            "digestfile",
            "string",
            "Write the digest of the pushed image to the specified file",
        ),
        string_flag(
            "format",
            "string",
            "MANIFEST TYPE (oci, v2s1, or v2s2) to use in the destination (default is manifest type of source, with fallbacks)",
        )
        .short('f'),
        strings_flag(
            "encryption-key",
            "*Experimental* key with the encryption protocol to use needed to encrypt the image (e.g. jwe:/path/to/key.pem)",
        ),
        ints_flag(
            "encrypt-layer",
            "*Experimental* the 0-indexed layer indices, with support for negative indexing (e.g. 0 is the first layer, -1 is the last layer)",
        ),
        strings_flag(
            "decryption-key",
            "*Experimental* key needed to decrypt the image",
        ),
        uint_flag(
            "image-parallel-copies",
            "uint",
            "Maximum number of image layers to be copied (pulled/pushed) simultaneously. Not setting this field will fall back to containers/image defaults.",
        ),
    ]
}

pub fn run(inv: &Invocation<'_>) -> Result<()> {
    let m = inv.matches;
    expect_args(&inv.args, 2, "Exactly two arguments expected")?;
    let deprecated_tls = flags::get_opt_bool(m, "tls-verify");
    if deprecated_tls.is_some() {
        logging::warn(
            "'--tls-verify' is deprecated, instead use: --src-tls-verify, --dest-tls-verify",
        );
    }
    inv.check_unimplemented()?;

    let policy = settings::load_policy(inv.global).context("Error loading trust policy")?;
    let src = parse_image_name(&inv.args[0])
        .with_context(|| format!("Invalid source name {}", inv.args[0]))?;
    let dest = parse_image_name(&inv.args[1])
        .with_context(|| format!("Invalid destination name {}", inv.args[1]))?;

    let shared_authfile = flags::get_str(m, "authfile");
    let src_ctx = settings::image_context(
        inv.global,
        shared_authfile.as_deref(),
        &ImageOptions::from_matches(m, "src-"),
        deprecated_tls,
    )?;
    let dest_opts = DestOptions::from_matches(m, "dest-");
    let mut dest_ctx = settings::image_context(
        inv.global,
        shared_authfile.as_deref(),
        &ImageOptions::from_matches(m, "dest-"),
        deprecated_tls,
    )?;
    settings::apply_dest_options(&mut dest_ctx, &dest_opts)?;

    let format = flags::get_str(m, "format")
        .map(|f| settings::parse_manifest_format(&f))
        .transpose()?;
    for tag in flags::get_strings(m, "additional-tag") {
        dest_ctx
            .additional_tags
            .push(settings::parse_additional_tag(&tag)?);
    }

    let all = flags::get_bool(m, "all");
    let multi_arch = flags::get_str(m, "multi-arch");
    if multi_arch.is_some() && all {
        bail!("Cannot use --all and --multi-arch flags together");
    }
    let mut list_selection = match &multi_arch {
        Some(s) => settings::parse_multi_arch(s)?,
        None => ListSelection::System,
    };
    if all {
        list_selection = ListSelection::All;
    }
    warn_ineffective_dest_options(&dest, &dest_opts);

    let parallel = flags::get_uint(m, "image-parallel-copies").unwrap_or(0);
    let opts = CopyOptions {
        src_ctx,
        dest_ctx,
        policy,
        remove_signatures: flags::get_bool(m, "remove-signatures"),
        list_selection,
        format,
        preserve_digests: flags::get_bool(m, "preserve-digests"),
        parallel: usize::try_from(parallel).unwrap_or(usize::MAX),
    };
    logging::debug(format!(
        "Copying {src} to {dest} ({:?}, format {:?}, parallel {})",
        opts.list_selection, opts.format, opts.parallel
    ));
    let extra = ferry_image::copy::ExtraCopyOptions {
        strip_removed_platforms: flags::get_bool(m, "strip-removed-platforms"),
        remove_list_signatures: flags::get_bool(m, "remove-list-signatures"),
        force_compress_format: flags::get_bool(m, "dest-force-compress-format"),
        precompute_digests: flags::get_bool(m, "dest-precompute-digests"),
    };
    let reporter = progress::reporter(flags::get_bool(m, "quiet"));
    let digestfile = flags::get_nonempty(m, "digestfile");
    retry::if_necessary(RetryOptions::from_matches(m), || {
        let result = ferry_image::copy::copy_image_ext(
            &src,
            &dest,
            &opts,
            &extra,
            reporter.as_ref(),
            &|r, ctx| r.open_destination(ctx),
        )?;
        if let Some(path) = &digestfile {
            fs_err::write(path, result.digest.to_string())
                .with_context(|| format!("Failed to write digest to file {path:?}"))?;
        }
        Ok(())
    })
}

/// skopeo's `warnAboutIneffectiveOptions`. `--dest-compress` also works for
/// `docker-archive:` in ferry: it writes the compact archive (layers kept compressed).
fn warn_ineffective_dest_options(dest: &ImageRef, d: &DestOptions) {
    if matches!(dest, ImageRef::Dir(_)) {
        return;
    }
    if d.compress && !matches!(dest, ImageRef::DockerArchive(_)) {
        logging::warn("--dest-compress can only be used if the destination transport is 'dir'");
    }
    if d.decompress {
        logging::warn("--dest-decompress can only be used if the destination transport is 'dir'");
    }
}
