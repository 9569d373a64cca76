//! Shared tar plumbing for the archive transports (`docker-archive:`, `oci-archive:`, and
//! later `docker-daemon:`): Go-compatible header encoding, a one-pass member index with
//! in-place member reads, and a streaming writer that patches headers instead of spooling.
//!
//! Nothing here extracts an archive to disk: readers index member offsets and read members
//! where they are; writers stream entries into the final file. See `archive` and
//! `writer` for the few cases that need more than that (compressed input, pipes).

pub(crate) mod archive;
pub(crate) mod compress;
pub(crate) mod gojson;
pub(crate) mod header;
pub(crate) mod index;
pub(crate) mod writer;
