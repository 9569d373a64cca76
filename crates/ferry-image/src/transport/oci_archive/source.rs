//! Reading an image from an oci-archive in place.

use std::path::Path;

use ferry_manifest::mime;
use ferry_reference::Digest;

use super::{Index, IndexEntry, REF_NAME, declared_mime};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::ImageSource;
use crate::transport::reference::OciArchiveRef;
use crate::transport::tarfile::archive::{Archive, OpenOptions, ResolveError};
use crate::types::{BlobInfo, BlobReader, RawManifest};

/// Largest index.json / manifest accepted.
const MAX_MANIFEST: u64 = 16 << 20;

/// An opened oci-archive image.
pub struct OciArchiveSource {
    archive: Archive,
    descriptor: IndexEntry,
}

impl OciArchiveSource {
    /// Opens `oci-archive:PATH[:reference | :@N]`.
    pub fn open(r: &OciArchiveRef, ctx: &SystemContext) -> Result<OciArchiveSource> {
        Self::open_path(
            &r.path,
            r.name.as_deref().filter(|n| !n.is_empty()),
            r.index,
            ctx.tmp_dir.as_deref(),
        )
    }

    /// Opens the archive at `path`, selecting the entry named `name`, entry `index`, or
    /// the only entry; `tmp_dir` is where a pipe is spooled.
    pub fn open_path(
        path: &Path,
        name: Option<&str>,
        index: Option<usize>,
        tmp_dir: Option<&Path>,
    ) -> Result<OciArchiveSource> {
        let archive = Archive::open(
            path,
            &OpenOptions {
                tmp_dir: tmp_dir.map(Path::to_path_buf),
                measure_members: false,
            },
        )?;
        let m = archive.resolve_or_err("index.json").map_err(|e| match e {
            Error::BadArchive { path, .. } => Error::BadArchive {
                path,
                message: "index.json does not exist in the archive (not an OCI archive?)".into(),
            },
            other => other,
        })?;
        let bytes = archive.read_member(m, MAX_MANIFEST)?;
        let idx: Index = serde_json::from_slice(&bytes).map_err(|e| Error::BadArchive {
            path: path.to_path_buf(),
            message: format!("parsing index.json: {e}"),
        })?;
        let descriptor = select(&idx, name, index)?;
        Ok(OciArchiveSource {
            archive,
            descriptor,
        })
    }

    fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let m = self.blob_member(digest)?;
        self.archive.read_member(m, limit)
    }

    fn blob_member(&self, digest: &Digest) -> Result<&crate::transport::tarfile::index::Member> {
        let name = format!("blobs/{}/{}", digest.algorithm().name(), digest.hex());
        self.archive.resolve(&name).map_err(|e| match e {
            ResolveError::NotFound(_) => Error::BadArchive {
                path: self.archive.path().to_path_buf(),
                message: format!("blob {digest} does not exist in the archive"),
            },
            other => self.archive.resolve_error(other),
        })
    }
}

/// c/image's `getManifestDescriptor` (plus `@N`, as newer c/image accepts).
fn select(idx: &Index, name: Option<&str>, index: Option<usize>) -> Result<IndexEntry> {
    if let Some(i) = index {
        return idx.manifests.get(i).cloned().ok_or_else(|| {
            Error::Other(format!(
                "index {i} is too large, only {} entries available",
                idx.manifests.len()
            ))
        });
    }
    let Some(name) = name else {
        if idx.manifests.len() != 1 {
            return Err(Error::Other(
                "more than one image in oci, choose an image".into(),
            ));
        }
        return Ok(idx.manifests[0].clone());
    };
    let mut unsupported = Vec::new();
    for md in &idx.manifests {
        let matches = md
            .annotations
            .as_ref()
            .and_then(|a| a.get(REF_NAME))
            .is_some_and(|n| n == name);
        if matches {
            if md.media_type == mime::OCI_MANIFEST || md.media_type == mime::OCI_INDEX {
                return Ok(md.clone());
            }
            unsupported.push(format!("{:?}", md.media_type));
        }
    }
    if !unsupported.is_empty() {
        return Err(Error::Other(format!(
            "reference {name:?} matches unsupported manifest MIME types [{}]",
            unsupported.join(" ")
        )));
    }
    Err(Error::ImageNotFound(format!(
        "no descriptor found for reference {name:?}"
    )))
}

impl ImageSource for OciArchiveSource {
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest> {
        match instance {
            None => {
                let bytes = self.read_blob(&self.descriptor.digest, MAX_MANIFEST)?;
                let mime = if self.descriptor.media_type.is_empty() {
                    declared_mime(&bytes)
                } else {
                    self.descriptor.media_type.clone()
                };
                Ok(RawManifest::new(bytes, mime))
            }
            Some(d) => {
                let bytes = self.read_blob(d, MAX_MANIFEST)?;
                let mime = declared_mime(&bytes);
                Ok(RawManifest::new(bytes, mime))
            }
        }
    }

    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        let m = self.blob_member(&info.digest)?;
        Ok((self.archive.open_member(m), Some(m.size)))
    }
}
