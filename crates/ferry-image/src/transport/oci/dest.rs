//! The `oci:` destination.
//!
//! Differences from skopeo, all on the safe side:
//! - Blobs and manifests are written to a private staging directory inside the layout and
//!   moved to `blobs/<algo>/<hex>` only at commit; dropping the destination without commit
//!   leaves the layout untouched (skopeo leaves orphan blobs behind).
//! - index.json is updated at commit under an exclusive `flock` on the layout directory:
//!   re-read, add the entry, write a temp file, rename. Concurrent copies into one layout
//!   keep every entry (skopeo#1018, where the last writer wins). The lock is on the
//!   directory itself, so no extra file appears in the layout.
//!
//! The files written (index.json bytes, `oci-layout`, blob names, modes) are skopeo's.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ferry_manifest::mime;
use ferry_reference::Digest;

use super::fsutil::{self, Staging};
use super::index::{Descriptor, OciIndex, REF_NAME};
use super::{INDEX_FILE, LAYOUT_CONTENT, LAYOUT_FILE, blob_path, blob_root, ref_name};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::reference::OciRef;
use crate::transport::{DestinationProperties, ImageDestination, LayerCompression};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest, Signature};

/// An `oci:` destination; see the module docs for its commit protocol.
pub struct OciDestination {
    dir: PathBuf,
    blob_root: PathBuf,
    name: Option<String>,
    staging: Option<Staging>,
    /// Blobs (and manifests) staged so far, by digest.
    staged: Mutex<BTreeMap<Digest, u64>>,
    /// The index entry to add at commit (set by the top-level `put_manifest`).
    entry: Mutex<Option<Descriptor>>,
    /// Whether `open` created the layout directory (removed again if never committed).
    created_dir: bool,
    props: DestinationProperties,
}

impl OciDestination {
    pub fn open(r: &OciRef, ctx: &SystemContext) -> Result<OciDestination> {
        if let Some(i) = r.index {
            return Err(Error::InvalidReference(format!(
                "Destination reference must not contain a manifest index @{i}"
            )));
        }
        // Fail early on a broken index.json, as skopeo does; commit reads it again.
        OciIndex::read_or_new(&r.dir.join(INDEX_FILE))?;
        let created_dir = !r.dir.exists();
        fs_err::create_dir_all(&r.dir)?;
        let staging = fsutil::staging_dir(&r.dir)?;
        let desired_layer_compression = if ctx.oci_accept_uncompressed_layers {
            LayerCompression::Preserve
        } else {
            LayerCompression::Compress
        };
        Ok(OciDestination {
            dir: r.dir.clone(),
            blob_root: blob_root(&r.dir, ctx),
            name: ref_name(r).map(str::to_string),
            staging: Some(staging),
            staged: Mutex::new(BTreeMap::new()),
            entry: Mutex::new(None),
            created_dir,
            props: DestinationProperties {
                supported_manifest_types: Some(vec![mime::OCI_MANIFEST, mime::OCI_INDEX]),
                desired_layer_compression,
                supports_signatures: false,
                parallel_put_blob: true,
                needs_known_size: false,
                supports_lists: true,
            },
        })
    }

    pub(super) fn staging_path(&self) -> Result<&Path> {
        self.staging
            .as_ref()
            .map(Staging::path)
            .ok_or_else(|| Error::Other("oci: destination already committed".into()))
    }

    fn staged_file(&self, digest: &Digest) -> Result<PathBuf> {
        Ok(self
            .staging_path()?
            .join(format!("{}-{}", digest.algorithm().name(), digest.hex())))
    }

    fn record_staged(&self, digest: Digest, size: u64) -> Result<()> {
        self.staged
            .lock()
            .map_err(|_| Error::Other("oci: destination state poisoned".into()))?
            .insert(digest, size);
        Ok(())
    }

    /// Moves staged blobs into the blob directory.
    fn publish_blobs(&self) -> Result<()> {
        let staged = std::mem::take(
            &mut *self
                .staged
                .lock()
                .map_err(|_| Error::Other("oci: destination state poisoned".into()))?,
        );
        for digest in staged.keys() {
            let dest = blob_path(&self.blob_root, digest);
            if let Some(parent) = dest.parent() {
                fs_err::create_dir_all(parent)?;
            }
            fsutil::move_file(&self.staged_file(digest)?, &dest)?;
        }
        Ok(())
    }

    /// Adds the entry to index.json under the layout lock; rewrites `oci-layout` if needed.
    fn update_index(&self, entry: Option<Descriptor>) -> Result<()> {
        let _lock = fsutil::lock_dir(&self.dir)?;
        let index_path = self.dir.join(INDEX_FILE);
        let mut index = OciIndex::read_or_new(&index_path)?;
        if let Some(entry) = entry {
            index.add_manifest(entry);
        }
        fsutil::write_atomic(&index_path, &index.to_bytes()?)?;
        let layout_path = self.dir.join(LAYOUT_FILE);
        if std::fs::read(&layout_path).ok().as_deref() != Some(LAYOUT_CONTENT) {
            fsutil::write_atomic(&layout_path, LAYOUT_CONTENT)?;
        }
        Ok(())
    }
}

impl ImageDestination for OciDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }

    fn try_reuse_blob(&self, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        let stored = |size| {
            Some(BlobInfo {
                digest: info.digest.clone(),
                size: Some(size),
                media_type: info.media_type.clone(),
            })
        };
        match std::fs::metadata(blob_path(&self.blob_root, &info.digest)) {
            Ok(m) if m.is_file() => return Ok(stored(m.len())),
            _ => {}
        }
        let staged = self
            .staged
            .lock()
            .map_err(|_| Error::Other("oci: destination state poisoned".into()))?
            .get(&info.digest)
            .copied();
        Ok(staged.and_then(stored))
    }

    fn try_link_blob(&self, info: &BlobInfo, file: &Path) -> Result<Option<BlobInfo>> {
        let target = blob_path(&self.blob_root, &info.digest);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent)?;
        }
        if std::fs::hard_link(file, &target).is_err() && !target.is_file() {
            return Ok(None);
        }
        self.try_reuse_blob(info)
    }

    fn put_blob(&self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let (tmp, digest, size) = fsutil::write_temp_blob(self.staging_path()?, data, info)?;
        fsutil::persist(tmp, &self.staged_file(&digest)?)?;
        self.record_staged(digest.clone(), size)?;
        Ok(BlobInfo {
            digest,
            size: Some(size),
            media_type: info.media_type.clone(),
        })
    }

    fn put_manifest(&self, m: &RawManifest, instance: Option<&Digest>) -> Result<()> {
        let digest = match instance {
            Some(d) => d.clone(),
            None => m
                .digest()
                .map_err(|e| Error::manifest("to write to oci:", e))?,
        };
        fsutil::write_atomic(&self.staged_file(&digest)?, &m.bytes)?;
        self.record_staged(digest.clone(), m.bytes.len() as u64)?;
        if instance.is_some() {
            return Ok(());
        }
        // skopeo sniffs the type from the bytes; the given type is the fallback.
        let media_type = match ferry_manifest::guess_mime_type(&m.bytes) {
            "" => m.mime.clone(),
            guessed => guessed.to_string(),
        };
        let entry = Descriptor {
            media_type,
            digest: digest.to_string(),
            size: i64::try_from(m.bytes.len()).unwrap_or(i64::MAX),
            annotations: self
                .name
                .iter()
                .map(|n| (REF_NAME.to_string(), n.clone()))
                .collect(),
            ..Descriptor::default()
        };
        *self
            .entry
            .lock()
            .map_err(|_| Error::Other("oci: destination state poisoned".into()))? = Some(entry);
        Ok(())
    }

    fn put_signatures(&self, sigs: &[Signature], _instance: Option<&Digest>) -> Result<()> {
        if sigs.is_empty() {
            return Ok(());
        }
        Err(Error::Unsupported(
            "Pushing signatures for OCI images is not supported".into(),
        ))
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        // Blobs first: index.json never names a blob that is not there.
        self.publish_blobs()?;
        // The image layout spec requires `blobs/` even when blobs are shared elsewhere.
        fs_err::create_dir_all(self.dir.join("blobs"))?;
        let entry = self
            .entry
            .lock()
            .map_err(|_| Error::Other("oci: destination state poisoned".into()))?
            .take();
        self.update_index(entry)?;
        self.created_dir = false;
        self.staging = None;
        Ok(())
    }
}

impl Drop for OciDestination {
    fn drop(&mut self) {
        // Removes the staging directory with anything left in it.
        self.staging = None;
        if self.created_dir {
            // Only succeeds if nothing else appeared there meanwhile.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}
