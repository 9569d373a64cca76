//! Executes a copy: single images (layers in parallel, config, manifest, signatures) and
//! manifest lists (instances, then the list).

use std::io::{Cursor, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferry_manifest::{Descriptor, Manifest, mime};
use ferry_reference::Digest;

use super::pipeline::{ProgressReader, VerifyingReader, count_and_digest};
use super::plan::{self, LayerOp};
use super::report::{BlobOutcome, Reporter};
use super::{CopyOptions, ListSelection, ManifestFormat};
use crate::compression;
use crate::error::{Error, Result};
use crate::transport::{DestinationProperties, ImageDestination, ImageRef, ImageSource};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest, Signature};

/// Default number of blobs in flight (skopeo's `maxParallelDownloads`).
pub const DEFAULT_PARALLEL: usize = 6;

pub(super) struct Engine<'a> {
    pub src: &'a dyn ImageSource,
    pub dest: &'a dyn ImageDestination,
    pub dest_ref: &'a ImageRef,
    pub props: &'a DestinationProperties,
    pub opts: &'a CopyOptions,
    pub reporter: &'a dyn Reporter,
}

/// One layer to copy.
struct LayerJob {
    desc: Descriptor,
    diff_id: Option<Digest>,
}

impl Engine<'_> {
    /// Copies one image whose manifest is `m`; `as_instance` when it is part of a list.
    /// Returns the manifest as written.
    pub fn copy_single(&self, m: RawManifest, as_instance: bool) -> Result<RawManifest> {
        let parsed = match ferry_manifest::parse(&m.bytes, &m.mime)
            .map_err(|e| Error::manifest(format!("of {}", self.dest_ref), e))?
        {
            Manifest::Image(i) => i,
            Manifest::List(_) => {
                return Err(Error::Unsupported(
                    "nested manifest lists are not supported here".into(),
                ));
            }
        };
        let instance = if as_instance {
            Some(m.digest().map_err(|e| Error::manifest("instance", e))?)
        } else {
            None
        };
        self.reporter.getting_signatures();
        let sigs = self.source_signatures(instance.as_ref())?;
        let cannot_modify = self.cannot_modify(!sigs.is_empty());
        let forced = self.opts.format.map(|f| match f {
            ManifestFormat::Oci => mime::OCI_MANIFEST,
            ManifestFormat::V2s2 => mime::DOCKER_V2S2,
            ManifestFormat::V2s1 => mime::DOCKER_V2S1_SIGNED,
        });
        let supported = self.props.supported_manifest_types.as_deref();
        let plan = plan::manifest_conversion(&m.mime, supported, forced, cannot_modify)
            .map_err(Error::Unsupported)?;
        let target = plan.preferred.clone();
        let converting = plan.converts_from(&m.mime);

        // The config: small, read whole (docker-archive and conversions need it).
        let config_desc = parsed.config().cloned();
        let config_bytes = match &config_desc {
            Some(cd) => Some(self.read_blob(cd)?),
            None => None,
        };
        let diff_ids = config_bytes.as_deref().map(diff_ids_of).unwrap_or_default();

        let layers = parsed.layers();
        let jobs: Vec<LayerJob> = layers
            .iter()
            .enumerate()
            .map(|(i, l)| LayerJob {
                desc: l.descriptor.clone(),
                diff_id: if diff_ids.len() == layers.len() {
                    diff_ids.get(i).cloned()
                } else {
                    None
                },
            })
            .collect();
        let can_modify = cannot_modify.is_none();
        let new_layers = self.run_layers(&jobs, &target, converting, can_modify)?;

        let mut new_config = config_desc.clone();
        if let (Some(cd), Some(bytes)) = (&config_desc, &config_bytes) {
            // schema2 → OCI re-encodes the config (c/image convertToManifestOCI1).
            let converted = if converting {
                parsed
                    .converted_config(&target, bytes)
                    .map_err(|e| Error::manifest(format!("config {}", cd.digest), e))?
            } else {
                None
            };
            match converted {
                Some(cbytes) => {
                    let nd = Descriptor::new(
                        config_media_type(&target, &cd.media_type),
                        Digest::sha256_of(&cbytes),
                        cbytes.len() as i64,
                    );
                    self.put_config(&nd, &cbytes)?;
                    new_config = Some(nd);
                }
                None => {
                    self.put_config(cd, bytes)?;
                    if converting && let Some(c) = new_config.as_mut() {
                        c.media_type = config_media_type(&target, &cd.media_type);
                    }
                }
            }
        }

        let layers_changed = new_layers
            .iter()
            .zip(layers.iter())
            .any(|(n, o)| *n != o.descriptor);
        let bytes = if !converting && !layers_changed {
            m.bytes.clone()
        } else {
            parsed
                .to_format(&target, new_config.as_ref(), &new_layers)
                .map_err(|e| Error::manifest(format!("converted to {target}"), e))?
        };
        self.reporter.writing_manifest();
        let mut out = RawManifest::new(bytes, target);
        let mut fallbacks = plan.fallbacks.iter();
        let out_instance = loop {
            let inst = if as_instance {
                Some(out.digest().map_err(|e| Error::manifest("instance", e))?)
            } else {
                None
            };
            let err = match self.dest.put_manifest(&out, inst.as_ref()) {
                Ok(()) => break inst,
                Err(e) => e,
            };
            // A registry that refuses this manifest type: try the next one (c/image's
            // fallback), as long as the manifest may change.
            let refused = matches!(&err, Error::Registry(r) if r.is_manifest_invalid());
            let next = if refused && can_modify {
                fallbacks.find_map(|fb| {
                    parsed
                        .to_format(fb, new_config.as_ref(), &new_layers)
                        .ok()
                        .map(|b| RawManifest::new(b, fb.clone()))
                })
            } else {
                None
            };
            match next {
                Some(m2) => out = m2,
                None => return Err(err),
            }
        };
        // skopeo prints this line even when there is nothing to store.
        self.reporter.storing_signatures();
        self.dest.put_signatures(&sigs, out_instance.as_ref())?;
        Ok(out)
    }

    /// Copies a manifest list according to `--all` / `--multi-arch`.
    pub fn copy_list(&self, top: RawManifest) -> Result<RawManifest> {
        let list = match ferry_manifest::parse(&top.bytes, &top.mime)
            .map_err(|e| Error::manifest("list", e))?
        {
            Manifest::List(l) => l,
            Manifest::Image(_) => return self.copy_single(top, false),
        };
        let selection = &self.opts.list_selection;
        if *selection == ListSelection::System {
            let (os, arch, variant) = self.wanted_platform();
            let chosen = list
                .choose_instance(Some(&os), Some(&arch), variant.as_deref())
                .map_err(|e| Error::manifest("choosing an image from the manifest list", e))?
                .clone();
            let m = self.src.manifest(Some(&chosen.digest))?;
            return self.copy_single(m, false);
        }
        if !self.props.supports_lists {
            return Err(Error::Unsupported(format!(
                "destination transport {:?} does not support copying multiple images as a group",
                self.dest_ref.transport_name()
            )));
        }
        self.reporter.getting_list_signatures();
        let sigs = self.source_signatures(None)?;
        let cannot_modify = self.cannot_modify(!sigs.is_empty());
        let forced = self.opts.format.map(|f| match f {
            ManifestFormat::Oci => mime::OCI_INDEX,
            ManifestFormat::V2s2 | ManifestFormat::V2s1 => mime::DOCKER_V2_LIST,
        });
        let supported = self.props.supported_manifest_types.as_deref();
        let plan = plan::manifest_conversion(&top.mime, supported, forced, cannot_modify)
            .map_err(Error::Unsupported)?;

        let instances: Vec<Descriptor> = list.instances().to_vec();
        let selected: Vec<usize> = instances
            .iter()
            .enumerate()
            .filter(|(_, d)| match selection {
                ListSelection::All | ListSelection::System => true,
                ListSelection::IndexOnly => false,
                ListSelection::Platforms(ps) => d.platform.as_ref().is_some_and(|p| {
                    ps.iter()
                        .any(|(os, arch)| *os == p.os && *arch == p.architecture)
                }),
            })
            .map(|(i, _)| i)
            .collect();
        if selected.len() < instances.len() && cannot_modify.is_none() {
            // Instances not copied stay in the list (skopeo's sparse default).
        }
        self.reporter
            .copying_list_instances(selected.len(), instances.len());
        let mut updated = instances.clone();
        for (n, &i) in selected.iter().enumerate() {
            let inst = &instances[i];
            self.reporter
                .copying_instance(&inst.digest, n + 1, selected.len());
            let m = self.src.manifest(Some(&inst.digest))?;
            let written = self.copy_single(m, true)?;
            let d = &mut updated[i];
            d.digest = written
                .digest()
                .map_err(|e| Error::manifest("instance", e))?;
            d.size = written.bytes.len() as i64;
            d.media_type = written.mime.clone();
        }
        let converting = plan.converts_from(&top.mime);
        let bytes = if !converting && updated == instances {
            top.bytes.clone()
        } else {
            list.to_format(&plan.preferred, &updated)
                .map_err(|e| Error::manifest("list", e))?
        };
        let out = RawManifest::new(bytes, plan.preferred);
        self.reporter.writing_manifest_list();
        self.dest.put_manifest(&out, None)?;
        self.reporter.storing_list_signatures();
        self.dest.put_signatures(&sigs, None)?;
        Ok(out)
    }

    /// The signatures to carry over (none with `--remove-signatures`); an error when the
    /// destination cannot store the ones there are.
    fn source_signatures(&self, instance: Option<&Digest>) -> Result<Vec<Signature>> {
        if self.opts.remove_signatures {
            return Ok(Vec::new());
        }
        let sigs = self.src.signatures(instance)?;
        if !sigs.is_empty() && !self.props.supports_signatures {
            return Err(Error::Unsupported(format!(
                "Can not copy signatures to {}: Pushing signatures to this destination is not supported",
                self.dest_ref
            )));
        }
        Ok(sigs)
    }

    fn cannot_modify(&self, has_sigs: bool) -> Option<&'static str> {
        if has_sigs {
            Some("Would invalidate signatures")
        } else if self.opts.preserve_digests {
            Some("Instructed to preserve digests")
        } else {
            None
        }
    }

    /// The platform used to pick an instance: overrides, else the host's.
    fn wanted_platform(&self) -> (String, String, Option<String>) {
        let ctx = &self.opts.src_ctx;
        let os = ctx.os.clone().unwrap_or_else(|| "linux".to_string());
        let arch = ctx.arch.clone().unwrap_or_else(|| host_arch().to_string());
        (os, arch, ctx.variant.clone())
    }

    /// Reads a (small) blob whole, verified.
    fn read_blob(&self, d: &Descriptor) -> Result<Vec<u8>> {
        let info = blob_info(d);
        let (r, _) = self.src.blob(&info)?;
        let mut v = VerifyingReader::new(r, d.digest.clone(), info.size);
        let mut out = Vec::new();
        v.read_to_end(&mut out).map_err(Error::from_io_unwrapping)?;
        Ok(out)
    }

    fn put_config(&self, d: &Descriptor, bytes: &[u8]) -> Result<()> {
        let info = blob_info(d);
        let id = self.reporter.blob_started(&d.digest, info.size, true);
        let reused = match self.dest.try_reuse_blob(&info)? {
            Some(b) => Some(b),
            None => match self.src.blob_location() {
                Some(loc) => self.dest.try_mount_blob(&info, &loc)?,
                None => None,
            },
        };
        if reused.is_some() {
            self.reporter.blob_done(id, BlobOutcome::Reused);
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
        self.reporter.blob_done(id, BlobOutcome::Copied);
        Ok(())
    }

    /// Copies every layer (in parallel when the destination allows), returning the
    /// descriptors to write in a manifest of type `target`.
    fn run_layers(
        &self,
        jobs: &[LayerJob],
        target: &str,
        converting: bool,
        can_modify: bool,
    ) -> Result<Vec<Descriptor>> {
        let workers = if self.props.parallel_put_blob {
            match self.opts.parallel {
                0 => DEFAULT_PARALLEL,
                n => n,
            }
        } else {
            1
        };
        // Largest first when parallel (the long pole starts first); manifest order else.
        let mut order: Vec<usize> = (0..jobs.len()).collect();
        if workers > 1 {
            order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].desc.size));
        }
        let results: Mutex<Vec<Option<Result<Descriptor>>>> =
            Mutex::new((0..jobs.len()).map(|_| None).collect());
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let work = || {
            loop {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(k) else { return };
                let r = self.copy_layer(&jobs[i], target, converting, can_modify);
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut g) = results.lock() {
                    g[i] = Some(r);
                }
            }
        };
        let n = workers.min(jobs.len()).max(1);
        if n == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..n {
                    s.spawn(work);
                }
            });
        }
        let results = results
            .into_inner()
            .map_err(|_| Error::Other("a blob copy thread panicked".into()))?;
        let mut out = Vec::with_capacity(jobs.len());
        let mut first_err = None;
        for r in results {
            match r {
                Some(Ok(d)) => out.push(d),
                Some(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                None => {}
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        if out.len() != jobs.len() {
            return Err(Error::Other("a blob copy did not finish".into()));
        }
        Ok(out)
    }

    fn copy_layer(
        &self,
        job: &LayerJob,
        target: &str,
        converting: bool,
        can_modify: bool,
    ) -> Result<Descriptor> {
        let d = &job.desc;
        let info = blob_info(d);
        let id = self.reporter.blob_started(&d.digest, info.size, false);
        // Reuse: the blob as-is, or (for decompressing destinations) its DiffID.
        let mut reuse_keys = vec![info.clone()];
        if self.props.desired_layer_compression == crate::transport::LayerCompression::Decompress
            && let Some(diff) = &job.diff_id
        {
            reuse_keys.push(BlobInfo::new(diff.clone(), None));
        }
        for key in &reuse_keys {
            if let Some(stored) = self.dest.try_reuse_blob(key)? {
                self.reporter.blob_done(id, BlobOutcome::Reused);
                let mut nd = d.clone();
                if stored.digest != d.digest {
                    nd.digest = stored.digest;
                    nd.size = stored.size.map_or(-1, |s| s as i64);
                    nd.media_type = self.media_type_for(target, d, Some(None), converting)?;
                } else if converting {
                    nd.media_type = self.media_type_for(target, d, None, converting)?;
                }
                return Ok(nd);
            }
        }

        // Same registry: mount from the source repository instead of uploading.
        if let Some(loc) = self.src.blob_location()
            && let Some(stored) = self.dest.try_mount_blob(&info, &loc)?
        {
            self.reporter.blob_done(id, BlobOutcome::Reused);
            let mut nd = d.clone();
            nd.size = stored.size.map_or(nd.size, |s| s as i64);
            if converting {
                nd.media_type = self.media_type_for(target, d, None, converting)?;
            }
            return Ok(nd);
        }

        // One request per blob: sniff the compression on the stream that is then copied.
        let (r, _) = self.src.blob(&info)?;
        let verified = VerifyingReader::new(r, d.digest.clone(), info.size);
        let counted = ProgressReader::new(verified, self.reporter, id);
        let (detected, peeked) = compression::sniff(counted)
            .map_err(|e| surface(Error::io(format!("reading blob {}", d.digest), e)))?;
        let op = plan::layer_op(
            self.props.desired_layer_compression,
            detected,
            self.opts.dest_ctx.compress_format,
            &d.media_type,
            can_modify,
        );

        let mut known = match op {
            LayerOp::Preserve => (Some(d.digest.clone()), info.size),
            LayerOp::Decompress => (job.diff_id.clone(), None),
            _ => (None, None),
        };
        // A tar stream on a pipe needs the exact size (and name) before the bytes: learn
        // them with a counting pass over a second read of the blob — never a temp copy.
        if self.props.needs_known_size && (known.0.is_none() || known.1.is_none()) {
            let (r2, _) = self.src.blob(&info)?;
            let v2 = VerifyingReader::new(r2, d.digest.clone(), info.size);
            let (_, p2) = compression::sniff(v2)
                .map_err(|e| surface(Error::io(format!("reading blob {}", d.digest), e)))?;
            let mut s2 = self.apply_op(Box::new(p2), job, op, detected)?;
            let (size, digest) = count_and_digest(&mut s2).map_err(Error::from_io_unwrapping)?;
            known = (Some(known.0.unwrap_or(digest)), Some(size));
        }
        let mut stream = self.apply_op(Box::new(peeked), job, op, detected)?;
        let put = PutBlobInfo {
            digest: known.0,
            size: known.1,
            media_type: Some(d.media_type.clone()),
            is_config: false,
        };
        let stored = self.dest.put_blob(&mut stream, &put).map_err(surface)?;
        self.reporter.blob_done(id, BlobOutcome::Copied);

        let mut nd = d.clone();
        nd.digest = stored.digest;
        nd.size = stored.size.map_or(-1, |s| s as i64);
        if op != LayerOp::Preserve {
            let after = plan::resulting_compression(op, detected);
            nd.media_type = self.media_type_for(target, d, Some(after), converting)?;
        } else if converting {
            nd.media_type = self.media_type_for(target, d, None, converting)?;
        }
        Ok(nd)
    }

    /// Chains the layer operation (decompression with DiffID check, compression) on top
    /// of an already verified source stream.
    fn apply_op<'s>(
        &self,
        input: Box<dyn Read + Send + 's>,
        job: &LayerJob,
        op: LayerOp,
        detected: Option<compression::Algorithm>,
    ) -> Result<Box<dyn Read + Send + 's>> {
        let d = &job.desc;
        let level = self.opts.dest_ctx.compress_level;
        let decompressed = |r: Box<dyn Read + Send + 's>| -> Result<Box<dyn Read + Send + 's>> {
            let alg = detected
                .ok_or_else(|| Error::Other(format!("blob {} is not compressed", d.digest)))?;
            let plain = compression::decompress(alg, r)?;
            Ok(match &job.diff_id {
                Some(diff) => Box::new(VerifyingReader::new(plain, diff.clone(), None)),
                None => plain,
            })
        };
        Ok(match op {
            LayerOp::Preserve => input,
            LayerOp::Decompress => decompressed(input)?,
            LayerOp::Compress(f) => compression::compress(f, level, input)?,
            LayerOp::Recompress(f) => compression::compress(f, level, decompressed(input)?)?,
        })
    }

    /// The layer media type in the target manifest. `after` = Some(compression) when the
    /// bytes changed; None to keep the compression the media type already implies.
    fn media_type_for(
        &self,
        target: &str,
        d: &Descriptor,
        after: Option<Option<compression::Algorithm>>,
        _converting: bool,
    ) -> Result<String> {
        if !plan::is_image_layer_type(&d.media_type) {
            return Ok(d.media_type.clone());
        }
        let compression = match after {
            Some(c) => c,
            None => compression_of_media_type(&d.media_type),
        };
        plan::layer_media_type(target, &d.media_type, compression).map_err(Error::Unsupported)
    }
}

/// The compression a known layer media type implies.
fn compression_of_media_type(mt: &str) -> Option<compression::Algorithm> {
    if mt.ends_with("gzip") {
        Some(compression::Algorithm::Gzip)
    } else if mt.ends_with("zstd") {
        Some(compression::Algorithm::Zstd)
    } else {
        None
    }
}

fn config_media_type(target: &str, original: &str) -> String {
    match (target, original) {
        (mime::OCI_MANIFEST, mime::DOCKER_CONFIG) => mime::OCI_CONFIG.to_string(),
        (mime::DOCKER_V2S2, mime::OCI_CONFIG) => mime::DOCKER_CONFIG.to_string(),
        _ => original.to_string(),
    }
}

fn blob_info(d: &Descriptor) -> BlobInfo {
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

/// Go's GOARCH name for the host.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        "arm" => "arm",
        other => other,
    }
}

/// Brings a typed error carried inside an I/O error (from a verifying reader deep in a
/// destination's write loop) back to the surface, so users see "digest mismatch".
fn surface(e: Error) -> Error {
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
