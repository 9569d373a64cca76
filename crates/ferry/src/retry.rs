//! skopeo's whole-operation retry (`--retry-times`, `--retry-delay`,
//! `common/pkg/retry`): retries only errors that look transient (network resets,
//! timeouts, registry answers such as 503 or 429); everything else (not found,
//! unauthorized, bad input) fails at once. This is on top of the per-request retries of
//! ferry-registry.

use std::time::Duration;

use anyhow::Result;

use crate::cli::flags::RetryOptions;
use crate::logging;

/// Runs `op`, retrying up to `opts.times` times on retryable errors. The delay is
/// `--retry-delay` if set, else 2^attempt seconds.
pub fn if_necessary<T>(opts: RetryOptions, mut op: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt: i64 = 0;
    loop {
        let err = match op() {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if attempt >= opts.times || !is_retryable(&err) {
            return Err(err);
        }
        let delay = opts.delay.positive().unwrap_or_else(|| {
            Duration::from_secs(1u64 << u32::try_from(attempt.min(16)).unwrap_or(16))
        });
        logging::warn(format!(
            "Failed, retrying in {:?} ... ({}/{}). Error: {:#}",
            delay,
            attempt + 1,
            opts.times,
            err
        ));
        std::thread::sleep(delay);
        attempt += 1;
    }
}

/// Whether an error is worth retrying: a registry error classified retryable
/// ([`ferry_registry::RegistryError::is_retryable`]: network failures, 429, 502–504,
/// `UNAVAILABLE`…), or an I/O error of a transient kind, anywhere in the chain (also
/// inside an I/O error, where blob streams carry registry errors).
pub fn is_retryable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<ferry_registry::RegistryError>() {
            return e.is_retryable();
        }
        match cause.downcast_ref::<ferry_image::Error>() {
            Some(ferry_image::Error::Registry(e)) => return e.is_retryable(),
            Some(ferry_image::Error::Io(e)) | Some(ferry_image::Error::IoAt { source: e, .. }) => {
                return io_retryable(e);
            }
            _ => {}
        }
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(io_retryable)
    })
}

fn io_retryable(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    if let Some(inner) = e.get_ref()
        && let Some(r) = inner.downcast_ref::<ferry_registry::RegistryError>()
    {
        return r.is_retryable();
    }
    matches!(
        e.kind(),
        K::ConnectionRefused
            | K::ConnectionReset
            | K::ConnectionAborted
            | K::TimedOut
            | K::UnexpectedEof
            | K::BrokenPipe
            | K::NetworkUnreachable
            | K::HostUnreachable
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::goparse::GoDuration;

    #[test]
    fn retries_transient_errors_only() {
        let opts = RetryOptions {
            times: 2,
            delay: GoDuration(1_000_000),
        };
        let mut calls = 0;
        let r: Result<()> = if_necessary(opts, || {
            calls += 1;
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset).into())
        });
        assert!(r.is_err());
        assert_eq!(calls, 3);

        let mut calls = 0;
        let r: Result<()> = if_necessary(opts, || {
            calls += 1;
            anyhow::bail!("manifest unknown")
        });
        assert!(r.is_err());
        assert_eq!(calls, 1);

        let mut calls = 0;
        let r: Result<()> = if_necessary(opts, || {
            calls += 1;
            if calls < 2 {
                Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into())
            } else {
                Ok(())
            }
        });
        assert!(r.is_ok());
        assert_eq!(calls, 2);
    }

    fn status_error(status: u16, code: &str) -> ferry_registry::RegistryError {
        ferry_registry::RegistryError::Status {
            message: format!("status {status}"),
            operation: ferry_registry::Operation::Manifest,
            status,
            errors: vec![ferry_registry::ApiError {
                code: code.into(),
                message: String::new(),
            }],
            retry_after: None,
        }
    }

    #[test]
    fn registry_errors_follow_their_classification() {
        let busy = anyhow::Error::new(ferry_image::Error::Registry(status_error(
            503,
            "UNAVAILABLE",
        )))
        .context("Error parsing image name");
        assert!(is_retryable(&busy));
        let missing = anyhow::Error::new(ferry_image::Error::Registry(status_error(
            404,
            "MANIFEST_UNKNOWN",
        )));
        assert!(!is_retryable(&missing));
        let denied = anyhow::Error::new(status_error(401, "UNAUTHORIZED"));
        assert!(!is_retryable(&denied));
        let in_io = anyhow::Error::new(ferry_image::Error::Io(std::io::Error::other(
            status_error(429, "TOOMANYREQUESTS"),
        )));
        assert!(is_retryable(&in_io));

        let opts = RetryOptions {
            times: 1,
            delay: GoDuration(1_000_000),
        };
        let mut calls = 0;
        let r: Result<()> = if_necessary(opts, || {
            calls += 1;
            if calls == 1 {
                Err(ferry_image::Error::Registry(status_error(502, "")).into())
            } else {
                Ok(())
            }
        });
        assert!(r.is_ok());
        assert_eq!(calls, 2);
    }
}
