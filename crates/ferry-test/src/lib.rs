//! ferry's test harness (dev-only): builds deterministic test images as OCI layouts
//! (and `dir:`, `oci-archive:`, `docker-archive:` copies of them) without ferry or
//! skopeo, runs the tools under test with readable failures, compares trees, and spawns
//! a real registry (Debian's `docker-registry`).
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
pub mod registry;
pub mod schema1;
pub mod sources;
pub mod tree;

pub use cmd::{ferry, require_skopeo, require_tool, run, run_fail, run_unchecked, skopeo};
pub use hash::{sha256_bytes, sha256_file};
pub use registry::Registry;
pub use tree::diff_trees;
