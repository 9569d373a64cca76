//! Progress reporting: the library emits events, the binary renders them.

use ferry_reference::Digest;

/// How a blob ended up at the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    Copied,
    /// Already present at the destination ("skipped: already exists").
    Reused,
}

/// Receives progress events; every method has a no-op default.
pub trait Reporter: Send + Sync {
    /// "Getting image source signatures"
    fn getting_signatures(&self) {}
    /// "Getting image list signatures"
    fn getting_list_signatures(&self) {}
    /// "Copying N of M images in list"
    fn copying_list_instances(&self, _n: usize, _of: usize) {}
    /// "Copying image sha256:… (i/N)"
    fn copying_instance(&self, _digest: &Digest, _i: usize, _of: usize) {}
    /// A blob copy starts; returns an id for the following events.
    fn blob_started(&self, _digest: &Digest, _size: Option<u64>, _is_config: bool) -> usize {
        0
    }
    fn blob_progress(&self, _id: usize, _bytes: u64) {}
    fn blob_done(&self, _id: usize, _outcome: BlobOutcome) {}
    /// "Writing manifest to image destination"
    fn writing_manifest(&self) {}
    /// "Writing manifest list to image destination"
    fn writing_manifest_list(&self) {}
    /// "Storing signatures"
    fn storing_signatures(&self) {}
    /// "Storing list signatures"
    fn storing_list_signatures(&self) {}
    /// "Skipping: image already present at destination"
    fn skipping_existing(&self) {}
    /// A warning worth showing the user.
    fn warning(&self, _message: &str) {}
}

/// A reporter that reports nothing (`--quiet`, library callers).
pub struct NoReport;
impl Reporter for NoReport {}
