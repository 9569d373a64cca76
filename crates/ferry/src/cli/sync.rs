//! `ferry sync --src T --dest T SOURCE DESTINATION` (skopeo `cmd/skopeo/sync.go`), on
//! `ferry_image::sync`. skopeo's flags, plus ferry's `--parallel`, `--include`,
//! `--exclude`, `--prune` and the `oci` kind on both sides. Log lines go to stderr in
//! logrus's text format, as skopeo prints them.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Command;
use ferry_image::copy::{CopyOptions, ListSelection, Reporter};
use ferry_image::sync::{DestKind, Level, SourceKind, SyncEvent, SyncOptions, SyncReport};

use super::flags::{
    self, ImageOptions, RetryOptions, bool_flag, string_flag, strings_flag, uint_flag,
};
use super::{Invocation, expect_args};
use crate::{progress, settings};

pub fn command() -> Command {
    Command::new("sync")
        .about("Synchronize one or more images from one location to another")
        .long_about(
            "Copy all the images from a SOURCE to a DESTINATION.\n\nAllowed SOURCE transports (specified with --src): docker, dir, yaml, oci.\nAllowed DESTINATION transports (specified with --dest): docker, dir, oci.\n\nSee skopeo-sync(1) for details.",
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
            uint_flag(
                "parallel",
                "uint",
                "(ferry) Number of images copied at the same time (default 1); blobs shared between images are copied once",
            ),
            strings_flag(
                "include",
                "(ferry) Only sync tags matching this regular expression (repeatable)",
            ),
            strings_flag(
                "exclude",
                "(ferry) Skip tags matching this regular expression (repeatable)",
            ),
            bool_flag(
                "prune",
                "(ferry) Remove destination tags that the source no longer has (with --dry-run: only report them)",
            ),
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
    let src_kind = SourceKind::parse(&flags::get_str(m, "src").unwrap_or_default())?;
    let dest_kind = DestKind::parse(&flags::get_str(m, "dest").unwrap_or_default())?;
    if src_kind == SourceKind::Dir && dest_kind == DestKind::Dir {
        bail!("sync from 'dir' to 'dir' not implemented, consider using rsync instead");
    }
    let deprecated_tls = flags::get_opt_bool(m, "tls-verify");
    inv.check_unimplemented()?;

    let policy = settings::load_policy(inv.global).context("Error loading trust policy")?;
    let shared_authfile = flags::get_str(m, "authfile");
    let src_ctx = settings::image_context(
        inv.global,
        shared_authfile.as_deref(),
        &ImageOptions::from_matches(m, "src-"),
        deprecated_tls,
    )?;
    let dest_ctx = settings::image_context(
        inv.global,
        shared_authfile.as_deref(),
        &ImageOptions::from_matches(m, "dest-"),
        deprecated_tls,
    )?;
    let format = flags::get_str(m, "format")
        .map(|f| settings::parse_manifest_format(&f))
        .transpose()?;
    let copy = CopyOptions {
        src_ctx,
        dest_ctx,
        policy,
        remove_signatures: flags::get_bool(m, "remove-signatures"),
        list_selection: if flags::get_bool(m, "all") {
            ListSelection::All
        } else {
            ListSelection::System
        },
        format,
        preserve_digests: flags::get_bool(m, "preserve-digests"),
        parallel: 0,
    };
    let mut opts = SyncOptions::new(copy);
    opts.copy_extra.remove_list_signatures = flags::get_bool(m, "remove-list-signatures");
    opts.scoped = flags::get_bool(m, "scoped");
    opts.append_suffix = flags::get_str(m, "append-suffix").unwrap_or_default();
    opts.keep_going = flags::get_bool(m, "keep-going");
    opts.dry_run = flags::get_bool(m, "dry-run");
    opts.digest_file = flags::get_nonempty(m, "digestfile").map(Into::into);
    let retry = RetryOptions::from_matches(m);
    opts.retry.times = u32::try_from(retry.times.max(0)).unwrap_or(u32::MAX);
    opts.retry.delay = retry.delay.positive();
    opts.parallel = flags::get_uint(m, "parallel")
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .unwrap_or(1)
        .max(1);
    opts.include = flags::get_strings(m, "include");
    opts.exclude = flags::get_strings(m, "exclude");
    opts.prune = flags::get_bool(m, "prune");

    let report = LogReport {
        copy: progress::reporter(false),
    };
    ferry_image::sync::sync(
        &opts,
        src_kind,
        &inv.args[0],
        dest_kind,
        &inv.args[1],
        &report,
    )?;
    Ok(())
}

/// Prints sync events like logrus's text formatter (what skopeo's lines look like when
/// stderr is not a terminal): `time="…" level=info msg="…" key="value"`.
struct LogReport {
    copy: Box<dyn Reporter>,
}

impl SyncReport for LogReport {
    fn event(&self, event: &SyncEvent) {
        let level = match event.level() {
            Level::Info => "info",
            Level::Warn => "warning",
            Level::Error => "error",
            Level::Debug => "debug",
        };
        if level == "debug" && !crate::logging::debug_on() {
            return;
        }
        let mut line = format!(
            "time={} level={level} msg={}",
            logrus_value(&rfc3339_now()),
            logrus_value(&event.message())
        );
        for (k, v) in event.fields() {
            line.push_str(&format!(" {k}={}", logrus_value(&v)));
        }
        eprintln!("{line}");
    }

    fn copy_reporter(&self) -> &dyn Reporter {
        self.copy.as_ref()
    }
}

/// A value as logrus's text formatter writes it: bare when it only holds
/// `[A-Za-z0-9-._/@^+]`, else Go-quoted.
fn logrus_value(v: &str) -> String {
    let bare = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._/@^+".contains(c));
    if bare {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

/// The current UTC time as `2006-01-02T15:04:05Z`.
fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn logrus_quoting() {
        assert_eq!(super::logrus_value("false"), "false");
        assert_eq!(
            super::logrus_value("127.0.0.1:5055/t"),
            "\"127.0.0.1:5055/t\""
        );
        assert_eq!(super::logrus_value("a b"), "\"a b\"");
    }

    #[test]
    fn time_format() {
        let t = super::rfc3339_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
