//! Reading an image from a registry: manifests (verified against digest references),
//! blobs as resumable streams, the tags of the repository for `inspect`.

use ferry_manifest::mime;
use ferry_reference::{Digest, Named};
use ferry_registry::{Access, Registry, RegistryError};

use super::{connect, manifest_reference, registries_conf};
use crate::blobcache;
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::ImageSource;
use crate::transport::reference::DockerRef;
use crate::types::{BlobInfo, BlobLocation, BlobReader, RawManifest};

pub struct DockerSource {
    reg: Registry,
    /// The reference actually used (a mirror's, when a mirror served the manifest).
    named: Named,
    top: RawManifest,
}

impl DockerSource {
    /// Opens the image: tries each pull source (mirrors, then the registry itself) until
    /// one serves the manifest.
    pub fn open(r: &DockerRef, ctx: &SystemContext) -> Result<DockerSource> {
        let conf = registries_conf(ctx)?;
        let sources = conf
            .pull_sources(&r.named)
            .map_err(|e| Error::Config(e.to_string()))?;
        let mut last_err: Option<Error> = None;
        for src in &sources {
            let attempt =
                connect(&src.reference, ctx, &conf, src.insecure, Access::Pull).and_then(|reg| {
                    let top = fetch_manifest(&reg, &src.reference, None)?;
                    Ok(DockerSource {
                        reg,
                        named: src.reference.clone(),
                        top,
                    })
                });
            match attempt {
                Ok(s) => return Ok(s),
                Err(e) => {
                    // A mirror failing is not final; the primary's error is what users see.
                    if last_err.is_none() || !src.mirror {
                        last_err = Some(e);
                    }
                }
            }
        }
        Err(last_err.unwrap_or_else(|| Error::Config(format!("no pull source for {}", r.named))))
    }
}

/// GETs a manifest by the reference's tag/digest (or `instance`), checks it against the
/// digest it was asked by, and settles its MIME type.
fn fetch_manifest(reg: &Registry, named: &Named, instance: Option<&Digest>) -> Result<RawManifest> {
    let reference = match instance {
        Some(d) => d.to_string(),
        None => manifest_reference(named),
    };
    let m = reg.get_manifest(named.path(), &reference, mime::ALL_MANIFEST_TYPES)?;
    let expected = instance.or(named.digest());
    if let Some(exp) = expected {
        let ok = ferry_manifest::matches_digest(&m.bytes, exp)
            .map_err(|e| Error::manifest(format!("{reference} in {}", named.name()), e))?;
        if !ok {
            return Err(Error::Other(format!(
                "manifest {reference} in {}: digest mismatch: the registry returned a manifest that does not match {exp}",
                named.name()
            )));
        }
    }
    let normalized = ferry_manifest::normalize_mime_type(&m.media_type).to_string();
    let mime = if ferry_manifest::is_known_manifest_type(&normalized) {
        normalized
    } else {
        ferry_manifest::guess_mime_type(&m.bytes).to_string()
    };
    Ok(RawManifest::new(m.bytes, mime))
}

impl ImageSource for DockerSource {
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest> {
        match instance {
            None => Ok(self.top.clone()),
            Some(d) => fetch_manifest(&self.reg, &self.named, Some(d)),
        }
    }

    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        let stream = self
            .reg
            .get_blob(self.named.path(), &info.digest.to_string(), info.size)
            .map_err(|e: RegistryError| Error::Registry(e))?;
        let size = stream.size();
        blobcache::record_location(
            &info.digest.to_string(),
            self.named.domain(),
            self.named.path(),
        );
        Ok((Box::new(stream), size))
    }

    fn repo_tags(&self) -> Result<Option<Vec<String>>> {
        Ok(Some(self.reg.list_tags(self.named.path())?))
    }

    fn blob_location(&self) -> Option<BlobLocation> {
        Some(BlobLocation {
            registry: self.named.domain().to_string(),
            repo: self.named.path().to_string(),
        })
    }
}

impl Drop for DockerSource {
    /// Saves what this pull learned about blob locations (a hint for later pushes).
    fn drop(&mut self) {
        blobcache::flush();
    }
}
