//! Transports: the reference enum, the source/destination traits, and dispatch.
//!
//! The set of transports is closed (skopeo's list), so a reference is an enum
//! ([`ImageRef`]) rather than a trait object; each transport module implements
//! [`ImageSource`] / [`ImageDestination`] for its own types.

pub mod dir;
pub mod docker;
pub mod docker_archive;
pub mod oci;
pub mod oci_archive;
pub mod reference;
pub mod tarfile;

use std::io::Read;
use std::path::Path;

use ferry_reference::Digest;

pub use reference::{ImageRef, parse_image_name};

use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobLocation, BlobReader, PutBlobInfo, RawManifest, Signature};

/// What a destination wants done to layers on the way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// Store layers as they come.
    Preserve,
    /// Compress uncompressed layers (oci:, docker://).
    Compress,
    /// Store layers uncompressed (docker-archive:).
    Decompress,
}

/// Static facts about a destination that the copy engine plans with.
#[derive(Debug, Clone)]
pub struct DestinationProperties {
    /// Manifest MIME types the destination accepts, in preference order; `None` = any.
    pub supported_manifest_types: Option<Vec<&'static str>>,
    pub desired_layer_compression: LayerCompression,
    /// Whether signatures can be stored.
    pub supports_signatures: bool,
    /// Whether `put_blob` may be called from several threads at once.
    pub parallel_put_blob: bool,
    /// Whether the destination needs each blob's exact size before its bytes (a tar
    /// stream on a pipe): the engine then learns the size with a counting pass first.
    pub needs_known_size: bool,
    /// Whether the destination can hold a manifest list (else one instance is chosen).
    pub supports_lists: bool,
}

impl Default for DestinationProperties {
    fn default() -> Self {
        DestinationProperties {
            supported_manifest_types: None,
            desired_layer_compression: LayerCompression::Preserve,
            supports_signatures: false,
            parallel_put_blob: true,
            needs_known_size: false,
            supports_lists: true,
        }
    }
}

/// An opened image source.
pub trait ImageSource: Send + Sync {
    /// The manifest of the image (`instance` = `None`) or of one instance of its list.
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest>;
    /// A blob stream (unverified) and its size if the transport knows it.
    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)>;
    /// Signatures of the image or of one list instance.
    fn signatures(&self, _instance: Option<&Digest>) -> Result<Vec<Signature>> {
        Ok(Vec::new())
    }
    /// The tags of the image's repository (inspect's `RepoTags`); `None` when the
    /// transport has no such notion.
    fn repo_tags(&self) -> Result<Option<Vec<String>>> {
        Ok(None)
    }
    /// Where the blobs live, when a destination could mount them from there.
    fn blob_location(&self) -> Option<BlobLocation> {
        None
    }
}

/// An opened image destination. Dropping it without `commit` must leave the target as
/// it was before the copy started.
pub trait ImageDestination: Send + Sync {
    fn properties(&self) -> &DestinationProperties;
    /// Returns the stored blob's info if the destination already has it (no copy needed).
    fn try_reuse_blob(&self, _info: &BlobInfo) -> Result<Option<BlobInfo>> {
        Ok(None)
    }
    /// Tries to make the blob available without copying it from `from` (a registry
    /// cross-repository mount). `None` when that is not possible.
    fn try_mount_blob(&self, _info: &BlobInfo, _from: &BlobLocation) -> Result<Option<BlobInfo>> {
        Ok(None)
    }
    /// Adopts `file`, a blob this process already wrote and verified in another
    /// destination, without reading it (a hard link), for destinations that store blobs
    /// as plain files. `None` when not supported or not possible: the caller copies it.
    fn try_link_blob(&self, _info: &BlobInfo, _file: &Path) -> Result<Option<BlobInfo>> {
        Ok(None)
    }
    /// Writes one blob. The engine guarantees that `data` returns an error instead of EOF
    /// if the bytes do not match `info.digest`/`info.size` (when given); when the digest is
    /// not given, the destination computes it. Returns what was stored.
    fn put_blob(&self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo>;
    /// Stores a manifest: an instance of a list (`instance` = its digest) or the top level.
    fn put_manifest(&self, manifest: &RawManifest, instance: Option<&Digest>) -> Result<()>;
    fn put_signatures(&self, sigs: &[Signature], _instance: Option<&Digest>) -> Result<()> {
        if sigs.is_empty() {
            Ok(())
        } else {
            Err(Error::Unsupported(
                "Pushing signatures to this destination is not supported".into(),
            ))
        }
    }
    /// Makes everything written visible, atomically where the transport allows.
    fn commit(self: Box<Self>) -> Result<()>;
}

impl ImageRef {
    /// Opens the image for reading.
    pub fn open_source(&self, ctx: &SystemContext) -> Result<Box<dyn ImageSource>> {
        match self {
            ImageRef::Dir(r) => Ok(Box::new(dir::DirSource::open(r)?)),
            ImageRef::Oci(r) => Ok(Box::new(oci::OciSource::open(r, ctx)?)),
            ImageRef::OciArchive(r) => Ok(Box::new(oci_archive::OciArchiveSource::open(r, ctx)?)),
            ImageRef::DockerArchive(r) => {
                Ok(Box::new(docker_archive::DockerArchiveSource::open(r, ctx)?))
            }
            ImageRef::Docker(r) => Ok(Box::new(docker::DockerSource::open(r, ctx)?)),
            other => Err(not_implemented(other, "reading from")),
        }
    }

    /// Opens the image for writing.
    pub fn open_destination(&self, ctx: &SystemContext) -> Result<Box<dyn ImageDestination>> {
        match self {
            ImageRef::Dir(r) => Ok(Box::new(dir::DirDestination::open(r, ctx)?)),
            ImageRef::Oci(r) => Ok(Box::new(oci::OciDestination::open(r, ctx)?)),
            ImageRef::OciArchive(r) => {
                Ok(Box::new(oci_archive::OciArchiveDestination::open(r, ctx)?))
            }
            ImageRef::DockerArchive(r) => Ok(Box::new(
                docker_archive::DockerArchiveDestination::open(r, ctx)?,
            )),
            ImageRef::Docker(r) => Ok(Box::new(docker::DockerDestination::open(r, ctx)?)),
            ImageRef::Sif(_) => Err(Error::Unsupported(
                "Writing images to sif is not supported: sif images can only be read from".into(),
            )),
            ImageRef::Tarball(_) => Err(Error::Unsupported(
                "Writing images to tarball is not supported: tarball images can only be read from"
                    .into(),
            )),
            other => Err(not_implemented(other, "writing to")),
        }
    }

    /// Deletes the image (`skopeo delete`).
    pub fn delete(&self, ctx: &SystemContext) -> Result<()> {
        match self {
            ImageRef::Oci(r) => oci::delete(r, ctx),
            ImageRef::Docker(r) => docker::delete(r, ctx),
            ImageRef::Dir(_)
            | ImageRef::DockerArchive(_)
            | ImageRef::OciArchive(_)
            | ImageRef::Sif(_) => Err(Error::Unsupported(format!(
                "Deleting images not implemented for {}: images",
                self.transport_name()
            ))),
            other => Err(not_implemented(other, "deleting from")),
        }
    }
}

fn not_implemented(r: &ImageRef, what: &str) -> Error {
    Error::NotImplemented(format!("{what} the {}: transport", r.transport_name()))
}
