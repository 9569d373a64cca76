//! `oci-archive:PATH[:reference | :@N]` — an OCI image layout in a tar file, read and
//! written in place. skopeo (c/image `oci/archive`) untars the whole archive into a temp
//! directory to read it and builds a temp layout to write it; here:
//!
//! - [`OciArchiveSource`] indexes the tar once (member → offset) and reads `index.json` and
//!   blobs where they are (compressed archives and pipes: see
//!   `transport::tarfile::archive`).
//! - [`OciArchiveDestination`] streams `blobs/<algo>/<hex>` entries as they arrive and
//!   writes `index.json` and `oci-layout` last, at commit. Member order and headers follow
//!   skopeo's archives (`blobs/`, `blobs/sha256/`, blobs, `index.json`, `oci-layout`;
//!   USTAR, uid/gid 0 `root`, modes 0100644 / 040755, mtime = time of the copy), except
//!   that blobs appear in the order they were written instead of sorted.

mod dest;
mod source;

pub use dest::OciArchiveDestination;
pub use source::OciArchiveSource;

use serde::Deserialize;

/// The annotation holding an index entry's name.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The parts of index.json we read.
#[derive(Debug, Clone, Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<IndexEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct IndexEntry {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: ferry_reference::Digest,
    #[serde(default)]
    annotations: Option<std::collections::HashMap<String, String>>,
}

/// The MIME type a manifest declares in its `mediaType` field; OCI manifest when absent
/// (what c/image assumes for OCI layouts).
fn declared_mime(bytes: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType", default)]
        media_type: Option<String>,
        #[serde(default)]
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(Probe {
            media_type: Some(m),
            ..
        }) if !m.is_empty() => m,
        Ok(Probe {
            manifests: Some(_), ..
        }) => ferry_manifest::mime::OCI_INDEX.to_string(),
        _ => ferry_manifest::mime::OCI_MANIFEST.to_string(),
    }
}
