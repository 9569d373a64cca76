//! Executes a copy of one image: signatures, the conversion plan, layers (see
//! [`super::layers`]), then for each candidate manifest type (preferred first, the next
//! one when a registry refuses it) the config, the manifest and the signatures.
//! Manifest lists are in [`super::list`].

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::sync::{Mutex, OnceLock};

use ferry_manifest::{Descriptor, ImageManifest, Manifest, mime};
use ferry_reference::Digest;

use super::layers::{CopiedLayer, Dedup, LayerJob, LayerPolicy};
use super::pipeline::{Semaphore, VerifyingReader};
use super::plan;
use super::report::{BlobOutcome, Reporter};
use super::sign::EphemeralKey;
use super::{CopyOptions, ExtraCopyOptions, ManifestFormat};
use crate::compression::Algorithm;
use crate::context::CompressionFormat;
use crate::error::{Error, Result};
use crate::transport::{
    DestinationProperties, ImageDestination, ImageRef, ImageSource, LayerCompression,
};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest, Signature};

/// Default number of blobs in flight (skopeo's `maxParallelDownloads`).
pub const DEFAULT_PARALLEL: usize = 6;

/// State shared by every instance of one copy.
pub(super) struct Shared {
    /// Bounds the blobs in flight across concurrently copied instances.
    pub blobs: Semaphore,
    /// Each source blob is copied once per copy, whatever instance needs it.
    pub dedup: Dedup,
    /// Small blobs (configs, the empty schema1 layer) already written.
    put_once: Mutex<HashSet<Digest>>,
    key: OnceLock<std::result::Result<EphemeralKey, String>>,
}

impl Shared {
    pub fn new(parallel: usize) -> Shared {
        Shared {
            blobs: Semaphore::new(parallel),
            dedup: Dedup::default(),
            put_once: Mutex::new(HashSet::new()),
            key: OnceLock::new(),
        }
    }

    fn key(&self) -> Result<&EphemeralKey> {
        self.key
            .get_or_init(|| EphemeralKey::generate().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Other(e.clone()))
    }
}

pub(super) struct Engine<'a> {
    pub src: &'a dyn ImageSource,
    pub src_ref: &'a ImageRef,
    pub dest: &'a dyn ImageDestination,
    pub dest_ref: &'a ImageRef,
    pub props: &'a DestinationProperties,
    pub opts: &'a CopyOptions,
    pub extra: &'a ExtraCopyOptions,
    pub shared: &'a Shared,
}

/// A manifest ready to be written for one candidate type.
struct Built {
    manifest: RawManifest,
    /// The config blob the manifest refers to (`None`: schema1, or no config).
    config: Option<(Descriptor, Vec<u8>)>,
    /// Whether the gzipped empty layer must be at the destination (schema1 targets).
    empty_layer: bool,
}

impl Engine<'_> {
    /// Blobs in flight at most (`--image-parallel-copies`, default 6).
    pub fn parallel_limit(&self) -> usize {
        match self.opts.parallel {
            0 => DEFAULT_PARALLEL,
            n => n,
        }
    }

    /// The compression format layers are written with, when the destination compresses
    /// and `--dest-compress-format` asked for one.
    pub fn requested_compression(&self) -> Option<CompressionFormat> {
        self.opts.dest_ctx.compress_format
    }

    /// Copies one image whose manifest is `m`; `as_instance` when it is part of a list
    /// (then written by digest). Returns the manifest as written.
    pub fn copy_single(
        &self,
        m: RawManifest,
        as_instance: bool,
        rep: &dyn Reporter,
    ) -> Result<RawManifest> {
        let parsed = match ferry_manifest::parse(&m.bytes, &m.mime)
            .map_err(|e| Error::manifest(format!("of {}", self.src_ref), e))?
        {
            Manifest::Image(i) => i,
            // A list inside a list: copied whole (c/image cannot; ferry can).
            Manifest::List(_) if as_instance => return self.copy_nested_list(m, rep),
            Manifest::List(_) => return self.copy_list(m, rep),
        };
        let src_mime = parsed.mime.clone();
        let instance = if as_instance {
            Some(m.digest().map_err(|e| Error::manifest("instance", e))?)
        } else {
            None
        };
        let sigs = self.source_signatures(instance.as_ref(), false, rep)?;
        let cannot_modify = self.cannot_modify(!sigs.is_empty());
        let can_modify = cannot_modify.is_none();
        let forced = self.opts.format.map(|f| match f {
            ManifestFormat::Oci => mime::OCI_MANIFEST,
            ManifestFormat::V2s2 => mime::DOCKER_V2S2,
            ManifestFormat::V2s1 => mime::DOCKER_V2S1_SIGNED,
        });
        let oci_only = self.zstd_layers_expected(&parsed, can_modify);
        let supported = self.props.supported_manifest_types.as_deref();
        let manifest_plan =
            plan::manifest_conversion(&src_mime, supported, forced, cannot_modify, oci_only)
                .map_err(Error::Unsupported)?;
        let mut candidates = vec![manifest_plan.preferred.clone()];
        if can_modify {
            candidates.extend(manifest_plan.fallbacks.iter().cloned());
        }
        self.check_embedded_reference(&parsed, &candidates[0], cannot_modify)?;

        // The config: small, read whole (conversions and docker-archive need it).
        let config_desc = parsed.config().cloned();
        let config_bytes = match &config_desc {
            Some(cd) => Some(self.read_blob(cd)?),
            None => None,
        };
        let config_diff_ids = config_bytes.as_deref().map(diff_ids_of).unwrap_or_default();
        let layer_infos = parsed.layers();
        let need_diff_ids = parsed.needs_diff_ids(&candidates[0]);
        let jobs: Vec<LayerJob> = layer_infos
            .iter()
            .enumerate()
            .map(|(i, l)| LayerJob {
                desc: l.descriptor.clone(),
                diff_id: if config_diff_ids.len() == layer_infos.len() {
                    config_diff_ids.get(i).cloned()
                } else {
                    None
                },
                need_diff_id: need_diff_ids,
            })
            .collect();
        let policy = LayerPolicy {
            cannot_modify,
            zstd_ok: plan::supports_zstd(&candidates[0]),
        };
        let mut copied = self.run_layers(&jobs, policy, rep)?;

        // c/image: when the preferred type fails for a reason other than the destination
        // refusing it, that error ends the copy; later candidates are all tried.
        let mut errors: Vec<String> = Vec::new();
        for (i, target) in candidates.iter().enumerate() {
            let attempt = self.write_manifest_as(
                &m,
                &parsed,
                target,
                (config_desc.as_ref(), config_bytes.as_deref()),
                (&jobs, &mut copied),
                as_instance,
                rep,
            );
            match attempt {
                Ok((written, inst)) => {
                    // skopeo prints this line even when there is nothing to store.
                    rep.storing_signatures();
                    self.dest.put_signatures(&sigs, inst.as_ref())?;
                    return Ok(written);
                }
                Err(e) => {
                    let refused = matches!(&e, Error::Registry(r) if r.is_manifest_invalid());
                    if i == 0 && (candidates.len() == 1 || !refused) {
                        return Err(e);
                    }
                    errors.push(format!("{target}({e})"));
                }
            }
        }
        Err(Error::Other(format!(
            "Uploading manifest failed, attempted the following formats: {}",
            errors.join(", ")
        )))
    }

    /// One attempt: the manifest as `target`, its config (and schema1's empty layer),
    /// then the manifest itself. Returns it with its instance digest (list instances).
    #[allow(clippy::too_many_arguments)]
    fn write_manifest_as(
        &self,
        m: &RawManifest,
        parsed: &ImageManifest,
        target: &str,
        config: (Option<&Descriptor>, Option<&[u8]>),
        layers: (&[LayerJob], &mut Vec<CopiedLayer>),
        as_instance: bool,
        rep: &dyn Reporter,
    ) -> Result<(RawManifest, Option<Digest>)> {
        let (jobs, copied) = layers;
        if parsed.needs_diff_ids(target) {
            self.fill_diff_ids(jobs, copied)?;
        }
        let config = config.0.zip(config.1);
        let built = self.build(m, parsed, target, config, copied)?;
        if built.empty_layer {
            self.put_empty_layer()?;
        }
        if let Some((cd, bytes)) = &built.config {
            self.put_config(cd, bytes, rep)?;
        }
        rep.writing_manifest();
        let inst = if as_instance {
            Some(
                built
                    .manifest
                    .digest()
                    .map_err(|e| Error::manifest("instance", e))?,
            )
        } else {
            None
        };
        self.dest.put_manifest(&built.manifest, inst.as_ref())?;
        Ok((built.manifest, inst))
    }

    /// The manifest to write as `target`, from the source manifest and the copied layers.
    fn build(
        &self,
        src: &RawManifest,
        parsed: &ImageManifest,
        target: &str,
        config: Option<(&Descriptor, &[u8])>,
        copied: &[CopiedLayer],
    ) -> Result<Built> {
        let infos = parsed.layers();
        let converting = target != src.mime;
        let as_err = |e| Error::Unsupported(format!("creating an updated image manifest: {e}"));
        if mime::is_schema1(target) {
            let layers_changed = copied
                .iter()
                .zip(&infos)
                .any(|(c, l)| c.digest != l.descriptor.digest);
            let rename = self.embedded_reference(parsed, target);
            if !converting && !layers_changed && rename.is_none() && target == src.mime {
                return Ok(Built {
                    manifest: src.clone(),
                    config: None,
                    empty_layer: false,
                });
            }
            let mut descriptors = Vec::with_capacity(copied.len());
            for (c, l) in copied.iter().zip(&infos) {
                let mut d = l.descriptor.clone();
                d.digest = c.digest.clone();
                if parsed.schema1().is_none() {
                    // The Docker type of the layer as copied (zstd is an error here).
                    d.media_type = plan::copied_layer_media_type(
                        mime::DOCKER_V2S2,
                        &l.descriptor.media_type,
                        c.changed,
                        c.detected,
                        true,
                    )
                    .map_err(|e| {
                        Error::Unsupported(format!("layer {}: {e}", l.descriptor.digest))
                    })?;
                }
                descriptors.push(d);
            }
            let time = super::sign::now_rfc3339();
            let reference = rename.as_ref().map(|(n, t)| (n.as_str(), t.as_str()));
            let reference = if parsed.schema1().is_some() {
                reference
            } else {
                Some(reference.unwrap_or(("", "")))
            };
            let out = parsed
                .to_schema1(
                    config.map(|(_, b)| b),
                    &descriptors,
                    &ferry_manifest::Schema1Options {
                        reference,
                        signer: self.shared.key()?,
                        time: &time,
                    },
                )
                .map_err(as_err)?;
            return Ok(Built {
                manifest: RawManifest::new(out.bytes, mime::DOCKER_V2S1_SIGNED),
                config: None,
                empty_layer: out.uses_empty_layer,
            });
        }

        let mut layers = Vec::with_capacity(copied.len());
        for (c, l) in copied.iter().zip(&infos) {
            let mut d = l.descriptor.clone();
            d.digest = c.digest.clone();
            d.size = c.size.map_or(d.size, |s| s as i64);
            d.media_type = plan::copied_layer_media_type(
                target,
                &l.descriptor.media_type,
                c.changed,
                c.detected,
                converting,
            )
            .map_err(|e| Error::Unsupported(format!("layer {}: {e}", l.descriptor.digest)))?;
            layers.push(d);
        }
        let diff_ids: Option<Vec<Digest>> = if parsed.needs_diff_ids(target) {
            copied.iter().map(|c| c.diff_id.clone()).collect()
        } else {
            None
        };
        let new_config = parsed
            .target_config(target, config.map(|(_, b)| b), diff_ids.as_deref())
            .map_err(as_err)?;
        let config = match (new_config, config) {
            (Some(bytes), _) => {
                let media_type = if target == mime::OCI_MANIFEST {
                    mime::OCI_CONFIG
                } else {
                    mime::DOCKER_CONFIG
                };
                let d = Descriptor::new(media_type, Digest::sha256_of(&bytes), bytes.len() as i64);
                Some((d, bytes))
            }
            (None, Some((cd, bytes))) => {
                let mut d = cd.clone();
                if converting {
                    d.media_type = config_media_type(target, &cd.media_type);
                }
                Some((d, bytes.to_vec()))
            }
            (None, None) => None,
        };
        let originals: Vec<&Descriptor> = infos.iter().map(|l| &l.descriptor).collect();
        let layers_changed = layers.iter().zip(&originals).any(|(n, o)| n != *o);
        let bytes = if !converting && !layers_changed {
            src.bytes.clone()
        } else {
            parsed
                .to_format(target, config.as_ref().map(|(d, _)| d), &layers)
                .map_err(as_err)?
        };
        Ok(Built {
            manifest: RawManifest::new(bytes, target),
            config,
            empty_layer: false,
        })
    }

    /// Whether every image layer will be written with zstd (the destination compresses,
    /// `--dest-compress-format zstd`): only OCI manifests can say so.
    fn zstd_layers_expected(
        &self,
        parsed: &ImageManifest,
        can_modify: bool,
    ) -> Option<&'static str> {
        let zstd = matches!(
            self.requested_compression(),
            Some(CompressionFormat::Zstd | CompressionFormat::ZstdChunked)
        );
        let compresses = self.props.desired_layer_compression == LayerCompression::Compress;
        let has_layers = parsed
            .layers()
            .iter()
            .any(|l| plan::is_image_layer_type(&l.descriptor.media_type));
        (zstd && compresses && can_modify && has_layers).then_some("zstd compression")
    }

    /// The name and tag to embed in a schema1 manifest written as `target`, when they
    /// must be set: the destination's Docker reference, for conversions and for schema1
    /// sources that name another repository or tag (c/image `updateEmbeddedDockerReference`).
    fn embedded_reference(&self, parsed: &ImageManifest, target: &str) -> Option<(String, String)> {
        if !mime::is_schema1(target) {
            return None;
        }
        let named = self.dest_ref.docker_reference()?;
        let path = named.path().to_string();
        let tag = named.tag().unwrap_or_default().to_string();
        match parsed.schema1() {
            Some(s) if s.name == path && s.tag == tag => None,
            _ => Some((path, tag)),
        }
    }

    fn check_embedded_reference(
        &self,
        parsed: &ImageManifest,
        target: &str,
        cannot_modify: Option<&str>,
    ) -> Result<()> {
        if parsed.schema1().is_none() || cannot_modify.is_none() {
            return Ok(());
        }
        if self.embedded_reference(parsed, target).is_some()
            && let Some(named) = self.dest_ref.docker_reference()
        {
            return Err(Error::Unsupported(format!(
                "Copying a schema1 image with an embedded Docker reference to {} (Docker reference {named}) would invalidate existing signatures. Explicitly enable signature removal to proceed anyway",
                self.dest_ref
            )));
        }
        Ok(())
    }

    /// The signatures to carry over (none with `--remove-signatures`, or for a list with
    /// `--remove-list-signatures`); an error when the destination cannot store the ones
    /// there are.
    pub fn source_signatures(
        &self,
        instance: Option<&Digest>,
        list: bool,
        rep: &dyn Reporter,
    ) -> Result<Vec<Signature>> {
        if self.opts.remove_signatures || (list && self.extra.remove_list_signatures) {
            return Ok(Vec::new());
        }
        if list {
            rep.getting_list_signatures();
        } else {
            rep.getting_signatures();
        }
        let sigs = self.src.signatures(instance)?;
        if !sigs.is_empty() && !self.props.supports_signatures {
            // c/image's per-transport texts.
            let why = match self.dest_ref {
                ImageRef::Oci(_) | ImageRef::OciArchive(_) => {
                    "Pushing signatures for OCI images is not supported"
                }
                ImageRef::DockerArchive(_) | ImageRef::DockerDaemon(_) => {
                    "Storing signatures for docker tar files is not supported"
                }
                _ => "Pushing signatures to this destination is not supported",
            };
            return Err(Error::Unsupported(format!(
                "Can not copy signatures to {}: {why}",
                self.dest_ref
            )));
        }
        Ok(sigs)
    }

    /// Why the manifest may not change, if it may not.
    pub fn cannot_modify(&self, has_sigs: bool) -> Option<&'static str> {
        if has_sigs {
            Some("Would invalidate signatures")
        } else if self
            .dest_ref
            .docker_reference()
            .is_some_and(|n| n.digest().is_some())
        {
            Some("Destination specifies a digest")
        } else if self.opts.preserve_digests {
            Some("Instructed to preserve digests")
        } else {
            None
        }
    }

    /// Reads a (small) blob whole, verified.
    pub fn read_blob(&self, d: &Descriptor) -> Result<Vec<u8>> {
        let info = blob_info(d);
        let (r, _) = self.src.blob(&info)?;
        let mut v = VerifyingReader::new(r, d.digest.clone(), info.size);
        let mut out = Vec::new();
        v.read_to_end(&mut out).map_err(Error::from_io_unwrapping)?;
        Ok(out)
    }

    fn put_config(&self, d: &Descriptor, bytes: &[u8], rep: &dyn Reporter) -> Result<()> {
        let info = blob_info(d);
        let id = rep.blob_started(&d.digest, info.size, true);
        let done_before = self
            .shared
            .put_once
            .lock()
            .is_ok_and(|s| s.contains(&d.digest));
        let reused = if done_before {
            Some(BlobInfo::new(d.digest.clone(), info.size))
        } else {
            match self.dest.try_reuse_blob(&info)? {
                Some(b) => Some(b),
                None => match self.src.blob_location() {
                    Some(loc) => self.dest.try_mount_blob(&info, &loc)?,
                    None => None,
                },
            }
        };
        if reused.is_some() {
            rep.blob_done(id, BlobOutcome::Reused);
            return Ok(());
        }
        let put = PutBlobInfo {
            digest: Some(d.digest.clone()),
            size: Some(bytes.len() as u64),
            media_type: Some(d.media_type.clone()),
            is_config: true,
        };
        self.dest
            .put_blob(&mut Cursor::new(bytes), &put)
            .map_err(surface)?;
        if let Ok(mut s) = self.shared.put_once.lock() {
            s.insert(d.digest.clone());
        }
        rep.blob_done(id, BlobOutcome::Copied);
        Ok(())
    }

    /// The gzipped empty layer schema1 manifests refer to (not reported, as in skopeo).
    fn put_empty_layer(&self) -> Result<()> {
        let digest = ferry_manifest::schema1_write::gzipped_empty_layer_digest();
        if self
            .shared
            .put_once
            .lock()
            .is_ok_and(|s| s.contains(&digest))
        {
            return Ok(());
        }
        let bytes = &ferry_manifest::schema1_write::GZIPPED_EMPTY_LAYER;
        let info = BlobInfo::new(digest.clone(), Some(bytes.len() as u64));
        if self.dest.try_reuse_blob(&info)?.is_none() {
            let put = PutBlobInfo {
                digest: Some(digest.clone()),
                size: Some(bytes.len() as u64),
                media_type: Some(mime::DOCKER_LAYER_GZIP.to_string()),
                is_config: false,
            };
            self.dest
                .put_blob(&mut Cursor::new(&bytes[..]), &put)
                .map_err(surface)?;
        }
        if let Ok(mut s) = self.shared.put_once.lock() {
            s.insert(digest);
        }
        Ok(())
    }

    /// The platform used to pick an instance: overrides, else the host's.
    pub fn wanted_platform(&self) -> (Option<String>, Option<String>, Option<String>) {
        let ctx = &self.opts.src_ctx;
        (ctx.os.clone(), ctx.arch.clone(), ctx.variant.clone())
    }
}

fn config_media_type(target: &str, original: &str) -> String {
    match (target, original) {
        (mime::OCI_MANIFEST, mime::DOCKER_CONFIG) => mime::OCI_CONFIG.to_string(),
        (mime::DOCKER_V2S2, mime::OCI_CONFIG) => mime::DOCKER_CONFIG.to_string(),
        _ => original.to_string(),
    }
}

pub(super) fn blob_info(d: &Descriptor) -> BlobInfo {
    BlobInfo {
        digest: d.digest.clone(),
        size: u64::try_from(d.size).ok(),
        media_type: Some(d.media_type.clone()),
    }
}

/// `rootfs.diff_ids` of an image config (empty if absent or unparsable).
fn diff_ids_of(config: &[u8]) -> Vec<Digest> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(config) else {
        return Vec::new();
    };
    v.get("rootfs")
        .and_then(|r| r.get("diff_ids"))
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().and_then(|s| Digest::parse(s).ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// The compression algorithm a requested format produces.
pub(super) fn algorithm_of(f: CompressionFormat) -> Algorithm {
    match f {
        CompressionFormat::Gzip => Algorithm::Gzip,
        CompressionFormat::Zstd | CompressionFormat::ZstdChunked => Algorithm::Zstd,
    }
}

/// Brings a typed error carried inside an I/O error (from a verifying reader deep in a
/// destination's write loop) back to the surface, so users see "digest mismatch".
pub(super) fn surface(e: Error) -> Error {
    match e {
        Error::Io(io) => Error::from_io_unwrapping(io),
        Error::IoAt { context, source } => {
            if source.get_ref().is_some_and(|i| i.is::<Error>()) {
                Error::from_io_unwrapping(source)
            } else {
                Error::IoAt { context, source }
            }
        }
        other => other,
    }
}
