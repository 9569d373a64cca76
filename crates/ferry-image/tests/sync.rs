//! `ferry_image::sync` against real registries (Debian's docker-registry), and against
//! skopeo 1.9.3's `sync` for the same sources and flags: same destination names, same
//! digests. Skipped (with a note) when the registry or skopeo is missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Named `sync` so that `cargo nextest run -p ferry-image sync` selects these tests.
mod sync {
    // Paths are relative to `tests/sync/`.
    #[path = "support.rs"]
    mod support;

    #[path = "compat.rs"]
    mod compat;

    #[path = "incremental.rs"]
    mod incremental;

    #[path = "errors.rs"]
    mod errors;
}
