//! `oci:PATH[:NAME | :@N]` — an OCI image layout directory (containers/image `oci/layout`).
//!
//! Layout: `oci-layout`, `index.json`, `blobs/<algo>/<hex>` (or the `--shared-blob-dir`
//! for blobs). The source picks one index entry (by `ref.name` annotation, by position
//! `@N`, or the only one). The destination stages blobs privately and publishes them at
//! commit, then updates index.json under an exclusive lock (see [`dest`]), so concurrent
//! copies into one layout do not lose entries (skopeo#1018). [`delete`] removes an entry
//! and the blobs nothing else references.

mod delete;
mod dest;
pub(crate) mod fsutil;
mod index;

use std::path::{Path, PathBuf};

use ferry_manifest::mime;
use ferry_reference::Digest;

pub use delete::delete;
pub use dest::OciDestination;
use index::{Descriptor, OciIndex};

use super::ImageSource;
use super::reference::OciRef;
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobReader, RawManifest};

const INDEX_FILE: &str = "index.json";
const LAYOUT_FILE: &str = "oci-layout";
/// What skopeo writes to `oci-layout` (with the space).
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion": "1.0.0"}"#;

/// Where blobs of a layout live: the shared blob directory if set, else `DIR/blobs`.
fn blob_root(dir: &Path, ctx: &SystemContext) -> PathBuf {
    match &ctx.oci_shared_blob_dir {
        Some(shared) if !shared.as_os_str().is_empty() => shared.clone(),
        _ => dir.join("blobs"),
    }
}

fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join(digest.algorithm().name()).join(digest.hex())
}

/// Parses a descriptor's digest as containers/image does before using it as a path.
fn parse_digest(s: &str) -> Result<Digest> {
    Digest::parse(s).map_err(|e| Error::Other(format!("unexpected digest reference {s}: {e}")))
}

/// The name part of the reference, if any ("" counts as none, as in Go).
fn ref_name(r: &OciRef) -> Option<&str> {
    r.name.as_deref().filter(|n| !n.is_empty())
}

/// Picks the index entry `r` designates (containers/image `getManifestDescriptor`).
fn select_entry(index: &OciIndex, r: &OciRef) -> Result<usize> {
    match (ref_name(r), r.index) {
        (Some(name), Some(i)) => Err(Error::InvalidReference(format!(
            "Internal error: Cannot have both ref {name} and source index @{i}"
        ))),
        (None, Some(i)) => {
            if i >= index.manifests.len() {
                return Err(Error::Other(format!(
                    "index {i} is too large, only {} entries available",
                    index.manifests.len()
                )));
            }
            Ok(i)
        }
        (Some(name), None) => {
            let mut unsupported = Vec::new();
            for (i, m) in index.manifests.iter().enumerate() {
                if m.annotations.get(index::REF_NAME).map(String::as_str) != Some(name) {
                    continue;
                }
                if m.media_type == mime::OCI_MANIFEST || m.media_type == mime::OCI_INDEX {
                    return Ok(i);
                }
                unsupported.push(format!("{:?}", m.media_type));
            }
            if unsupported.is_empty() {
                Err(Error::ImageNotFound(format!(
                    "no descriptor found for reference {name:?}"
                )))
            } else {
                Err(Error::Unsupported(format!(
                    "reference {name:?} matches unsupported manifest MIME types [{}]",
                    unsupported.join(" ")
                )))
            }
        }
        (None, None) => {
            if index.manifests.len() != 1 {
                return Err(Error::Other(
                    "more than one image in oci, choose an image".into(),
                ));
            }
            Ok(0)
        }
    }
}

/// An opened `oci:` image.
pub struct OciSource {
    blob_root: PathBuf,
    descriptor: Descriptor,
    digest: Digest,
}

impl OciSource {
    /// Reads index.json and selects the entry (errors now, as skopeo does).
    pub fn open(r: &OciRef, ctx: &SystemContext) -> Result<OciSource> {
        let index = OciIndex::read(&r.dir.join(INDEX_FILE))?;
        let pos = select_entry(&index, r)?;
        let descriptor = index
            .manifests
            .get(pos)
            .cloned()
            .ok_or_else(|| Error::Other(format!("index entry @{pos} vanished")))?;
        let digest = parse_digest(&descriptor.digest)?;
        Ok(OciSource {
            blob_root: blob_root(&r.dir, ctx),
            descriptor,
            digest,
        })
    }

    fn open_blob(&self, digest: &Digest) -> Result<(fs_err::File, u64)> {
        let path = blob_path(&self.blob_root, digest);
        let file = fs_err::File::open(&path).map_err(|e| Error::io(format!("blob {digest}"), e))?;
        let size = file
            .metadata()
            .map_err(|e| Error::io(format!("blob {digest}"), e))?
            .len();
        Ok((file, size))
    }
}

impl ImageSource for OciSource {
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest> {
        let digest = instance.unwrap_or(&self.digest);
        let path = blob_path(&self.blob_root, digest);
        let bytes = fs_err::read(&path).map_err(|e| Error::io(format!("manifest {digest}"), e))?;
        if instance.is_none() && !self.descriptor.media_type.is_empty() {
            let mime = self.descriptor.media_type.clone();
            return Ok(RawManifest::new(bytes, mime));
        }
        Ok(RawManifest::sniffed(bytes))
    }

    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        let (file, size) = self.open_blob(&info.digest)?;
        Ok((Box::new(file), Some(size)))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
