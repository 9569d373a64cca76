//! The `ferry` binary: skopeo's command line on top of ferry-image.
//!
//! Output contract:
//! - stdout carries only command results (inspect JSON, digests, tag lists, help).
//! - stderr carries progress, warnings (`Warning: …`) and debug lines (`Debug: …`).
//! - A failure prints one `Error: <message>` line on stderr, where `<message>` is the
//!   error chain joined by `": "` — the same text skopeo puts in its
//!   `level=fatal msg="…"` line, without logrus' decoration.
//! - Exit status: 0 success, 1 failure (including usage errors), 2 when the image was not
//!   found (`ferry_image::Error::is_not_found`), as skopeo documents.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod cli;
mod gotemplate;
mod logging;
mod output;
mod progress;
mod retry;
mod settings;

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    match cli::run(argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {}", error_chain(&err));
            if is_not_found(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The error chain on one line, `outer: inner: root`. A cause whose text the previous
/// message already ends with (a `Display` that embeds its source, possibly in Go's
/// lowercase wording without Rust's `(os error N)`) is not repeated.
fn error_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || normalized(&out).ends_with(&normalized(&text)) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Lowercase, without a trailing ` (os error N)`, for comparing error texts.
fn normalized(s: &str) -> String {
    let s = match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => &s[..i],
        _ => s,
    };
    s.to_lowercase()
}

/// skopeo's exit status 2: the image (or tag, or index entry) does not exist.
fn is_not_found(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<ferry_image::Error>()
            .is_some_and(ferry_image::Error::is_not_found)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn chain_is_joined_without_repeats() {
        let inner = std::io::Error::other("no such file");
        let err = anyhow::Error::new(ferry_image::Error::io("reading index.json", inner))
            .context("Error parsing image name \"oci:x\"");
        assert_eq!(
            error_chain(&err),
            "Error parsing image name \"oci:x\": reading index.json: no such file"
        );
    }

    #[test]
    fn go_worded_source_is_not_repeated() {
        #[derive(Debug)]
        struct Open(std::io::Error);
        impl std::fmt::Display for Open {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("open /x: no such file or directory")
            }
        }
        impl std::error::Error for Open {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let io = std::io::Error::from_raw_os_error(2); // ENOENT
        let err = anyhow::Error::new(Open(io)).context("Error loading trust policy");
        assert_eq!(
            error_chain(&err),
            "Error loading trust policy: open /x: no such file or directory"
        );
    }

    #[test]
    fn not_found_maps_to_exit_2() {
        let err: anyhow::Result<()> =
            Err(ferry_image::Error::ImageNotFound("no image found".into()))
                .context("Error parsing image name");
        let err = err.unwrap_err();
        assert!(is_not_found(&err));
        assert!(!is_not_found(&anyhow::anyhow!("other")));
    }
}
