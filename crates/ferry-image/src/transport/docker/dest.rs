//! Writing an image to a registry: HEAD before upload, cross-repository mount from the
//! source repository when both are on the same registry (no cache needed), streamed
//! uploads, manifests by digest (list instances) or by the reference's tag.

use std::io::Read;

use ferry_manifest::mime;
use ferry_reference::{Digest, Named};
use ferry_registry::{Access, Registry, UploadBody};

use super::{connect, manifest_reference, registries_conf};
use crate::blobcache;
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::reference::DockerRef;
use crate::transport::{DestinationProperties, ImageDestination, LayerCompression};
use crate::types::{BlobInfo, BlobLocation, PutBlobInfo, RawManifest};

pub struct DockerDestination {
    reg: Registry,
    named: Named,
    props: DestinationProperties,
    /// The registry says the repository does not exist (asked once, on first need).
    repo_unknown: std::sync::OnceLock<bool>,
}

/// Blobs up to this size are not looked for (`HEAD`) in a repository the registry does
/// not know: it cannot hold them, and uploading such a blob costs about what asking
/// does. Larger ones are still looked for, so that a re-run after an interrupted push
/// (blobs uploaded, no tag yet) skips what is already there.
const SMALL_BLOB: u64 = 1024 * 1024;

impl DockerDestination {
    pub fn open(r: &DockerRef, ctx: &SystemContext) -> Result<DockerDestination> {
        let conf = registries_conf(ctx)?;
        conf.check_not_blocked(&r.named.name())
            .map_err(|e| Error::Config(e.to_string()))?;
        let insecure = conf.is_insecure(r.named.domain());
        let reg = connect(&r.named, ctx, &conf, insecure, Access::Push)?;
        Ok(DockerDestination {
            reg,
            named: r.named.clone(),
            repo_unknown: std::sync::OnceLock::new(),
            props: DestinationProperties {
                supported_manifest_types: Some(vec![
                    mime::OCI_MANIFEST,
                    mime::DOCKER_V2S2,
                    mime::DOCKER_V2S1_SIGNED,
                    mime::DOCKER_V2S1,
                    mime::OCI_INDEX,
                    mime::DOCKER_V2_LIST,
                ]),
                desired_layer_compression: LayerCompression::Compress,
                supports_signatures: false,
                parallel_put_blob: true,
                needs_known_size: false,
                supports_lists: true,
            },
        })
    }

    fn repo(&self) -> &str {
        self.named.path()
    }
}

impl ImageDestination for DockerDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }

    fn try_reuse_blob(&self, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        let digest = info.digest.to_string();
        let small = info.size.is_some_and(|s| s <= SMALL_BLOB);
        let absent = small
            && *self
                .repo_unknown
                .get_or_init(|| self.reg.repo_is_unknown(self.repo()).unwrap_or(false));
        if !absent && let Some(h) = self.reg.head_blob(self.repo(), &digest)? {
            blobcache::record_location(&digest, self.named.domain(), self.repo());
            return Ok(Some(BlobInfo {
                digest: info.digest.clone(),
                size: h.size.or(info.size),
                media_type: info.media_type.clone(),
            }));
        }
        // Other repositories of this registry known (from earlier runs) to hold it.
        for from in blobcache::candidates(&digest, self.named.domain(), self.repo())
            .into_iter()
            .take(3)
        {
            if self.reg.mount_blob(self.repo(), &digest, &from)? {
                blobcache::record_location(&digest, self.named.domain(), self.repo());
                return Ok(Some(info.clone()));
            }
        }
        Ok(None)
    }

    fn try_mount_blob(&self, info: &BlobInfo, from: &BlobLocation) -> Result<Option<BlobInfo>> {
        if from.registry != self.named.domain() || from.repo == self.repo() {
            return Ok(None);
        }
        let mounted = self
            .reg
            .mount_blob(self.repo(), &info.digest.to_string(), &from.repo)?;
        if mounted {
            blobcache::record_location(&info.digest.to_string(), self.named.domain(), self.repo());
        }
        Ok(mounted.then(|| info.clone()))
    }

    fn put_blob(&self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let digest = info.digest.as_ref().map(|d| d.to_string());
        let up = self.reg.put_blob(
            self.repo(),
            digest.as_deref(),
            info.size,
            UploadBody::Stream(data),
        )?;
        let digest =
            Digest::parse(&up.digest).map_err(|e| Error::Other(format!("uploaded blob: {e}")))?;
        blobcache::record_location(&up.digest, self.named.domain(), self.repo());
        Ok(BlobInfo {
            digest,
            size: Some(up.size),
            media_type: info.media_type.clone(),
        })
    }

    fn put_manifest(&self, m: &RawManifest, instance: Option<&Digest>) -> Result<()> {
        let reference = match instance {
            Some(d) => d.to_string(),
            None => manifest_reference(&self.named),
        };
        self.reg
            .put_manifest(self.repo(), &reference, &m.bytes, &m.mime)?;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        blobcache::flush();
        Ok(())
    }
}
