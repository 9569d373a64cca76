//! ferry's test harness (dev-only): builds deterministic test images as OCI layouts
//! (and `dir:`, `oci-archive:`, `docker-archive:` copies of them) without ferry or
//! skopeo, runs the tools under test with readable failures, compares trees, and spawns
//! a real registry (Debian's `docker-registry`: plain HTTP, TLS with a test CA, htpasswd
//! or Bearer token auth against [`token::TokenServer`]) with a fault-injecting
//! [`proxy::FaultProxy`] to put in front of it.
//!
//! Helpers fail the calling test by panicking with a message (like `assert!`): this
//! crate is test code, so `clippy::panic` is allowed here; `unwrap`/`expect` are not used.
#![allow(clippy::panic)]

pub mod archive;
pub mod big;
pub mod cmd;
pub mod dirimage;
pub mod export;
pub mod fixtures;
pub mod hash;
pub mod image;
pub mod layer;
pub mod layout;
pub mod prng;
pub mod proxy;
pub mod registry;
pub mod schema1;
pub mod sources;
pub mod tls;
pub mod token;
pub mod tree;

pub use cmd::{ferry, require_skopeo, require_tool, run, run_fail, run_unchecked, skopeo};
pub use hash::{sha256_bytes, sha256_file};
pub use registry::Registry;
pub use tree::diff_trees;

/// `expect` for test helpers (clippy's `expect_used` stays on): fails the calling test
/// with `what: error`.
pub trait OrDie<T> {
    fn or_die(self, what: &str) -> T;
}

impl<T, E: std::fmt::Display> OrDie<T> for Result<T, E> {
    fn or_die(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

impl<T> OrDie<T> for Option<T> {
    fn or_die(self, what: &str) -> T {
        match self {
            Some(v) => v,
            None => panic!("{what}: missing"),
        }
    }
}
