//! skopeo's whole-operation retry (`--retry-times`, `--retry-delay`,
//! `common/pkg/retry`): retries only errors that look transient (network resets,
//! timeouts); everything else fails at once.

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

/// Whether an error is worth retrying: an I/O error of a transient kind anywhere in
/// the chain.
pub fn is_retryable(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind as K;
    err.chain().any(|cause| {
        let io = cause.downcast_ref::<std::io::Error>().or_else(|| {
            match cause.downcast_ref::<ferry_image::Error>() {
                Some(ferry_image::Error::Io(e))
                | Some(ferry_image::Error::IoAt { source: e, .. }) => Some(e),
                _ => None,
            }
        });
        io.is_some_and(|e| {
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
        })
    })
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
}
