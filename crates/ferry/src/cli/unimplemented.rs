//! The single list of flags that ferry parses (so skopeo command lines are accepted) but
//! whose effect is not implemented yet. Giving one fails with `--flag is not implemented
//! yet` (exit 1) instead of being silently ignored. Remove an entry when its behaviour
//! lands; the tests in `tests/cli.rs` pick one entry to check the mechanism.

use anyhow::{Result, bail};
use clap::ArgMatches;

use super::flags::given;

/// Flag ids (long names) whose behaviour is missing, for every command that has them.
pub const NOT_IMPLEMENTED: &[&str] = &[
    // Global.
    "require-signed",
    "command-timeout",
    "registries.d",
    "tls-details",
    // Signing (copy, sync).
    "sign-by",
    "sign-by-sq-fingerprint",
    "sign-by-sigstore",
    "sign-by-sigstore-private-key",
    "sign-passphrase-file",
    "sign-identity",
    // Encryption (copy).
    "encryption-key",
    "encrypt-layer",
    "decryption-key",
    // inspect
    "manifest-digest",
];

/// Fails if any not-implemented flag was given. `root` holds the global flags (they are
/// also propagated into `sub`, so they are checked once, from `root`).
pub fn check(root: &ArgMatches, sub: &ArgMatches) -> Result<()> {
    for id in NOT_IMPLEMENTED {
        if given(root, id) || given(sub, id) {
            bail!("--{id} is not implemented yet");
        }
    }
    Ok(())
}
