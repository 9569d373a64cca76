//! The `dir:` destination.
//!
//! Checks are skopeo's, done at open: a missing directory is created, an empty one is
//! used, a non-empty one only if its `version` file is valid (it will be replaced), else
//! `not a containers image directory, don't want to overwrite important data`.
//!
//! Where ferry does better: skopeo wipes the old content when the destination is opened,
//! so a failed copy (or `dir:X` → `dir:X`) destroys the old image. ferry writes everything
//! into a private staging directory inside the target and touches the old content only at
//! commit: it moves the new files in (blobs first, then `version`, `manifest.json`, the
//! signatures), then removes the old entries the new image does not have. Until commit
//! the old image stays readable; dropping the destination removes the staging directory
//! (and the directory itself if `open` created it). Commits into one directory are
//! serialised by a lock on it; staging directories of live copies are left alone.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_reference::{Algorithm, Digest};

use super::{
    MANIFEST_FILE, VERSION_1_1, VERSION_1_2, VERSION_FILE, blob_name, check_version, manifest_name,
    signature_name,
};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::oci::fsutil::{self, STAGING_PREFIX, Staging};
use crate::transport::reference::DirRef;
use crate::transport::{DestinationProperties, ImageDestination, LayerCompression};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest, Signature};

/// A `dir:` destination; see the module docs for its commit protocol.
pub struct DirDestination {
    path: PathBuf,
    staging: Option<Staging>,
    /// Whether a digest other than sha256 was stored (→ version 1.2).
    non_sha256: AtomicBool,
    /// `open` created the directory: remove it if never committed.
    created_dir: bool,
    /// `open` wrote `version` into a new or empty directory: remove it if never committed.
    wrote_version: bool,
    props: DestinationProperties,
}

impl DirDestination {
    pub fn open(r: &DirRef, ctx: &SystemContext) -> Result<DirDestination> {
        let desired_layer_compression = match (ctx.compress, ctx.decompress) {
            (true, true) => {
                return Err(Error::Other(
                    "Cannot compress and decompress at the same time".into(),
                ));
            }
            (true, false) => LayerCompression::Compress,
            (false, true) => LayerCompression::Decompress,
            (false, false) => LayerCompression::Preserve,
        };
        let path = r.path.clone();
        let (created_dir, empty) = match std::fs::metadata(&path) {
            Ok(_) => {
                let empty = fs_err::read_dir(&path)?.next().is_none();
                if !empty {
                    check_version(&path)?;
                }
                (false, empty)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                fs_err::create_dir_all(&path)?;
                (true, true)
            }
            Err(e) => {
                return Err(Error::io(
                    format!("checking for path {}", path.display()),
                    e,
                ));
            }
        };
        let mut dest = DirDestination {
            path,
            staging: None,
            non_sha256: AtomicBool::new(false),
            created_dir,
            wrote_version: false,
            props: DestinationProperties {
                supported_manifest_types: None,
                desired_layer_compression,
                supports_signatures: true,
                parallel_put_blob: true,
                needs_known_size: false,
                supports_lists: true,
            },
        };
        if empty {
            // As skopeo does at open: marks the directory as ours, so that leftovers of an
            // interrupted copy never block the next one.
            fsutil::write_atomic(&dest.path.join(VERSION_FILE), VERSION_1_1.as_bytes())?;
            dest.wrote_version = true;
        }
        dest.staging = Some(fsutil::staging_dir(&dest.path)?);
        Ok(dest)
    }

    pub(super) fn staging_path(&self) -> Result<&Path> {
        self.staging
            .as_ref()
            .map(Staging::path)
            .ok_or_else(|| Error::Other("dir: destination already committed".into()))
    }

    fn staged(&self, name: &str) -> Result<PathBuf> {
        Ok(self.staging_path()?.join(name))
    }

    fn note_digest(&self, digest: &Digest) {
        if digest.algorithm() != Algorithm::Sha256 {
            self.non_sha256.store(true, Ordering::Relaxed);
        }
    }

    /// Moves the staged files in, then removes old entries the new image does not have.
    fn publish(&mut self, staging: &Path) -> Result<()> {
        let version = if self.non_sha256.load(Ordering::Relaxed) {
            VERSION_1_2
        } else {
            VERSION_1_1
        };
        fsutil::write_atomic(&staging.join(VERSION_FILE), version.as_bytes())?;
        let mut names = Vec::new();
        for entry in fs_err::read_dir(staging)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort_by_key(|n| publish_rank(n));
        // From here on, `version` is (about to be) the new one: never remove it on drop.
        self.wrote_version = false;
        self.created_dir = false;
        for name in &names {
            fsutil::move_file(&staging.join(name), &self.path.join(name))?;
        }
        for entry in fs_err::read_dir(&self.path)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if names.contains(&name) || path == staging {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir && name.starts_with(STAGING_PREFIX) && !fsutil::staging_is_abandoned(&path) {
                continue; // Another copy into this directory is in progress.
            }
            fsutil::remove_entry(&path)?;
        }
        Ok(())
    }
}

/// Order of the final renames: blobs and instance files, `version`, `manifest.json`,
/// then top-level signatures.
fn publish_rank(name: &str) -> u8 {
    if name == VERSION_FILE {
        1
    } else if name == MANIFEST_FILE {
        2
    } else if name.starts_with("signature-") {
        3
    } else {
        0
    }
}

impl ImageDestination for DirDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }

    fn try_reuse_blob(&self, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        match std::fs::metadata(self.staged(&blob_name(&info.digest))?) {
            Ok(m) if m.is_file() => Ok(Some(BlobInfo {
                digest: info.digest.clone(),
                size: Some(m.len()),
                media_type: info.media_type.clone(),
            })),
            _ => Ok(None),
        }
    }

    fn try_link_blob(&self, info: &BlobInfo, file: &Path) -> Result<Option<BlobInfo>> {
        let target = self.staged(&blob_name(&info.digest))?;
        if std::fs::hard_link(file, &target).is_err() {
            return Ok(None);
        }
        self.note_digest(&info.digest);
        self.try_reuse_blob(info)
    }

    fn put_blob(&self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let staging = self.staging_path()?;
        let (tmp, digest, size) = fsutil::write_temp_blob(staging, data, info)?;
        fsutil::persist(tmp, &staging.join(blob_name(&digest)))?;
        self.note_digest(&digest);
        Ok(BlobInfo {
            digest,
            size: Some(size),
            media_type: info.media_type.clone(),
        })
    }

    fn put_manifest(&self, m: &RawManifest, instance: Option<&Digest>) -> Result<()> {
        if let Some(d) = instance {
            self.note_digest(d);
        }
        fsutil::write_atomic(&self.staged(&manifest_name(instance))?, &m.bytes)
    }

    fn put_signatures(&self, sigs: &[Signature], instance: Option<&Digest>) -> Result<()> {
        for (i, sig) in sigs.iter().enumerate() {
            fsutil::write_atomic(&self.staged(&signature_name(i, instance))?, sig)?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let staging = self
            .staging
            .take()
            .ok_or_else(|| Error::Other("dir: destination already committed".into()))?;
        let _lock = fsutil::lock_dir(&self.path)?;
        self.publish(staging.path())
    }
}

impl Drop for DirDestination {
    fn drop(&mut self) {
        // Removes the staging directory with anything left in it.
        self.staging = None;
        if self.wrote_version {
            let _ = std::fs::remove_file(self.path.join(VERSION_FILE));
        }
        if self.created_dir {
            // Only succeeds if nothing else appeared there meanwhile.
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}
