//! Copying the layers of one image: in parallel (largest first, announced in manifest
//! order as skopeo prints them), each source blob once per copy, through verification,
//! the compression step the plan chose, and (when a schema1 conversion needs it) a tee
//! that computes the DiffID on the way.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use ferry_manifest::Descriptor;
use ferry_reference::Digest;

use super::engine::{Engine, algorithm_of, blob_info, surface};
use super::pipeline::{DiffIdSlot, DiffIdTee, ProgressReader, VerifyingReader, count_and_digest};
use super::plan::{self, LayerOp};
use super::report::{BlobOutcome, Reporter};
use crate::compression::{self, Algorithm};
use crate::error::{Error, Result};
use crate::transport::LayerCompression;
use crate::types::{BlobInfo, PutBlobInfo};

/// One layer to copy.
pub(super) struct LayerJob {
    pub desc: Descriptor,
    /// The DiffID the config records, if it does.
    pub diff_id: Option<Digest>,
    /// Whether the conversion needs the DiffID (schema1 sources).
    pub need_diff_id: bool,
}

/// What the layers of one image may undergo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct LayerPolicy {
    /// Why the manifest (hence any layer digest) may not change, if it may not.
    pub cannot_modify: Option<&'static str>,
    /// Whether the manifest type written can describe zstd layers.
    pub zstd_ok: bool,
}

/// A layer as it ended up at the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CopiedLayer {
    pub digest: Digest,
    pub size: Option<u64>,
    /// `Some(c)` when the bytes were (de)compressed: their compression now.
    pub changed: Option<Option<Algorithm>>,
    /// The compression the source bytes showed, when they were read.
    pub detected: Option<Option<Algorithm>>,
    /// The digest of the uncompressed layer, when known.
    pub diff_id: Option<Digest>,
}

type DedupKey = (Digest, String, LayerPolicy);

#[derive(Default)]
struct Cell {
    result: Mutex<Option<std::result::Result<CopiedLayer, String>>>,
    cv: Condvar,
}

/// Each source blob is copied once per copy: the first job to claim it copies, the
/// others (other layers or instances with the same blob) wait for its result.
#[derive(Default)]
pub(super) struct Dedup {
    cells: Mutex<HashMap<DedupKey, Arc<Cell>>>,
}

enum Claim {
    Mine(Arc<Cell>),
    Theirs(Arc<Cell>),
}

impl Dedup {
    fn claim(&self, key: DedupKey) -> Claim {
        let mut map = self
            .cells
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&key) {
            Some(c) => Claim::Theirs(c.clone()),
            None => {
                let c = Arc::new(Cell::default());
                map.insert(key, c.clone());
                Claim::Mine(c)
            }
        }
    }
}

impl Cell {
    fn set(&self, r: std::result::Result<CopiedLayer, String>) {
        let mut g = self
            .result
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g = Some(r);
        self.cv.notify_all();
    }

    fn wait(&self) -> std::result::Result<CopiedLayer, String> {
        let mut g = self
            .result
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loop {
            if let Some(r) = g.as_ref() {
                return r.clone();
            }
            g = self
                .cv
                .wait(g)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

/// Sets a claimed cell even if the copy panics, so that waiters never hang.
struct CellGuard(Option<Arc<Cell>>);

impl CellGuard {
    fn finish(mut self, r: &Result<CopiedLayer>) {
        if let Some(c) = self.0.take() {
            c.set(match r {
                Ok(l) => Ok(l.clone()),
                Err(e) => Err(e.to_string()),
            });
        }
    }
}

impl Drop for CellGuard {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.set(Err("the blob copy did not finish".into()));
        }
    }
}

impl Engine<'_> {
    /// Copies every layer (in parallel when the destination allows), in manifest order.
    pub(super) fn run_layers(
        &self,
        jobs: &[LayerJob],
        policy: LayerPolicy,
        rep: &dyn Reporter,
    ) -> Result<Vec<CopiedLayer>> {
        let workers = if self.props.parallel_put_blob {
            self.parallel_limit()
        } else {
            1
        };
        // Announced in manifest order (as skopeo prints them); started largest first
        // when parallel (the long pole starts first).
        let ids: Vec<usize> = jobs
            .iter()
            .map(|j| rep.blob_started(&j.desc.digest, blob_info(&j.desc).size, false))
            .collect();
        let mut order: Vec<usize> = (0..jobs.len()).collect();
        if workers > 1 {
            order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].desc.size));
        }
        let results: Mutex<Vec<Option<Result<CopiedLayer>>>> =
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
                let r = self.copy_layer(&jobs[i], policy, ids[i], rep);
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

    /// Computes the DiffIDs a conversion needs and the copy did not learn (layers that
    /// were already at the destination): a second read of each such blob.
    pub(super) fn fill_diff_ids(
        &self,
        jobs: &[LayerJob],
        copied: &mut [CopiedLayer],
    ) -> Result<()> {
        for (job, c) in jobs.iter().zip(copied.iter_mut()) {
            if c.diff_id.is_none() {
                c.diff_id = Some(match &job.diff_id {
                    Some(d) => d.clone(),
                    None => self.compute_diff_id(&job.desc)?,
                });
            }
        }
        Ok(())
    }

    /// Reads a layer, decompresses it and returns the digest of the uncompressed bytes.
    fn compute_diff_id(&self, d: &Descriptor) -> Result<Digest> {
        let info = blob_info(d);
        let (r, _) = self.src.blob(&info)?;
        let verified = VerifyingReader::new(r, d.digest.clone(), info.size);
        let (detected, peeked) = compression::sniff(verified)
            .map_err(|e| surface(Error::io(format!("reading blob {}", d.digest), e)))?;
        let mut plain: Box<dyn Read + Send> = match detected {
            Some(alg) => compression::decompress(alg, Box::new(peeked))?,
            None => Box::new(peeked),
        };
        let (_, digest) = count_and_digest(&mut plain).map_err(|e| {
            surface(Error::io(
                format!("computing the DiffID of layer {}", d.digest),
                e,
            ))
        })?;
        Ok(digest)
    }

    /// One layer, copied once per copy (see [`Dedup`]).
    fn copy_layer(
        &self,
        job: &LayerJob,
        policy: LayerPolicy,
        id: usize,
        rep: &dyn Reporter,
    ) -> Result<CopiedLayer> {
        let key = (job.desc.digest.clone(), job.desc.media_type.clone(), policy);
        match self.shared.dedup.claim(key) {
            Claim::Theirs(cell) => {
                let mut c = cell.wait().map_err(Error::Other)?;
                rep.blob_done(id, BlobOutcome::Reused);
                if job.need_diff_id && c.diff_id.is_none() {
                    c.diff_id = Some(match &job.diff_id {
                        Some(d) => d.clone(),
                        None => self.compute_diff_id(&job.desc)?,
                    });
                }
                Ok(c)
            }
            Claim::Mine(cell) => {
                let guard = CellGuard(Some(cell));
                let r = {
                    let _permit = self.shared.blobs.acquire();
                    self.copy_layer_once(job, policy, id, rep)
                };
                guard.finish(&r);
                r
            }
        }
    }

    fn copy_layer_once(
        &self,
        job: &LayerJob,
        policy: LayerPolicy,
        id: usize,
        rep: &dyn Reporter,
    ) -> Result<CopiedLayer> {
        let cannot_modify = policy.cannot_modify;
        let can_modify = cannot_modify.is_none();
        let d = &job.desc;
        let info = blob_info(d);
        let desired = self.props.desired_layer_compression;
        let requested = self.requested_compression();
        // --dest-force-compress-format: only blobs already in the requested compression
        // may be reused.
        let reuse_ok = !(self.extra.force_compress_format
            && can_modify
            && desired == LayerCompression::Compress
            && requested.is_some_and(|f| {
                plan::declared_compression(&d.media_type) != Some(Some(algorithm_of(f)))
            }));
        if reuse_ok && let Some(c) = self.try_reuse(job, &info)? {
            rep.blob_done(id, BlobOutcome::Reused);
            return self.with_diff_id(job, c);
        }

        // One request per blob: sniff the compression on the stream that is then copied.
        let (r, _) = self.src.blob(&info)?;
        let verified = VerifyingReader::new(r, d.digest.clone(), info.size);
        let counted = ProgressReader::new(verified, rep, id);
        let (detected, peeked) = compression::sniff(counted)
            .map_err(|e| surface(Error::io(format!("reading blob {}", d.digest), e)))?;
        let op = plan::layer_op_for(
            desired,
            detected,
            requested,
            &d.media_type,
            can_modify,
            policy.zstd_ok,
        );
        if let Some(reason) = cannot_modify {
            self.refuse_explicit_change(d, detected, reason)?;
        }
        let after = (op != LayerOp::Preserve).then(|| plan::resulting_compression(op, detected));

        let mut known = match op {
            LayerOp::Preserve => (Some(d.digest.clone()), info.size),
            LayerOp::Decompress => (job.diff_id.clone(), None),
            _ => (None, None),
        };
        let precompute = self.extra.precompute_digests && known.0.is_none();
        // A tar stream on a pipe needs the exact size (and name) before the bytes, and
        // --dest-precompute-digests wants the name to skip blobs the destination has:
        // learn them with a counting pass over a second read of the blob — never a temp
        // copy.
        if (self.props.needs_known_size && (known.0.is_none() || known.1.is_none())) || precompute {
            let (r2, _) = self.src.blob(&info)?;
            let v2 = VerifyingReader::new(r2, d.digest.clone(), info.size);
            let (_, p2) = compression::sniff(v2)
                .map_err(|e| surface(Error::io(format!("reading blob {}", d.digest), e)))?;
            let mut s2 = self.apply_op(Box::new(p2), job, op, detected)?;
            let (size, digest) = count_and_digest(&mut s2).map_err(Error::from_io_unwrapping)?;
            if precompute {
                let probe = BlobInfo::new(digest.clone(), Some(size));
                if let Some(stored) = self.dest.try_reuse_blob(&probe)? {
                    rep.blob_done(id, BlobOutcome::Reused);
                    let c = CopiedLayer {
                        digest: stored.digest,
                        size: stored.size.or(Some(size)),
                        changed: after,
                        detected: Some(detected),
                        diff_id: job.diff_id.clone(),
                    };
                    return self.with_diff_id(job, c);
                }
            }
            known = (Some(known.0.unwrap_or(digest)), Some(size));
        }

        let slot: DiffIdSlot = Arc::default();
        // The DiffID is the written blob's digest when the layer is (or ends)
        // uncompressed; otherwise a tee decompresses a copy of the stream to hash it.
        let tee_needed = job.need_diff_id
            && job.diff_id.is_none()
            && op != LayerOp::Decompress
            && !(op == LayerOp::Preserve && detected.is_none());
        let input: Box<dyn Read + Send + '_> = if tee_needed {
            Box::new(DiffIdTee::new(peeked, detected, slot.clone()))
        } else {
            Box::new(peeked)
        };
        let mut stream = self.apply_op(input, job, op, detected)?;
        if op != LayerOp::Preserve
            && let (Some(digest), Some(size)) = (&known.0, known.1)
        {
            // Learned by the counting pass: the bytes written must be those.
            stream = Box::new(VerifyingReader::new(stream, digest.clone(), Some(size)));
        }
        let put = PutBlobInfo {
            digest: known.0,
            size: known.1,
            media_type: Some(d.media_type.clone()),
            is_config: false,
        };
        let stored = self.dest.put_blob(&mut stream, &put).map_err(surface)?;
        drop(stream);
        rep.blob_done(id, BlobOutcome::Copied);

        let diff_id = match (&job.diff_id, op, detected) {
            (Some(d), _, _) => Some(d.clone()),
            (None, LayerOp::Decompress, _) => Some(stored.digest.clone()),
            (None, LayerOp::Preserve, None) => Some(d.digest.clone()),
            _ if tee_needed => match slot.lock().ok().and_then(|mut s| s.take()) {
                Some(Ok(digest)) => Some(digest),
                Some(Err(e)) => {
                    return Err(Error::Other(format!(
                        "computing the DiffID of layer {}: {e}",
                        d.digest
                    )));
                }
                None => None,
            },
            _ => None,
        };
        Ok(CopiedLayer {
            digest: stored.digest,
            size: stored.size,
            changed: after,
            detected: Some(detected),
            diff_id,
        })
    }

    /// With the manifest frozen (`--preserve-digests`, signatures), layers are copied
    /// as they are; but a change the user asked for explicitly (recompression with
    /// `--dest-compress-format`, `--dest-compress`/`--dest-decompress` into `dir:`) is
    /// an error rather than silently not done.
    fn refuse_explicit_change(
        &self,
        d: &Descriptor,
        detected: Option<Algorithm>,
        reason: &str,
    ) -> Result<()> {
        let desired = self.props.desired_layer_compression;
        let requested = self.requested_compression();
        let would = plan::layer_op(desired, detected, requested, &d.media_type, true);
        let into_dir = matches!(self.dest_ref, crate::transport::ImageRef::Dir(_))
            && desired != LayerCompression::Preserve;
        let what = match would {
            LayerOp::Preserve => return Ok(()),
            LayerOp::Recompress(f) => format!("recompressing it to {}", algorithm_of(f).name()),
            _ if !into_dir => return Ok(()),
            LayerOp::Compress(f) => format!("compressing it with {}", algorithm_of(f).name()),
            LayerOp::Decompress => "decompressing it".to_string(),
        };
        Err(Error::Unsupported(format!(
            "layer {}: {what} would change its digest, which is not allowed: {reason}",
            d.digest
        )))
    }

    /// A blob the destination already has (as is, by its DiffID for decompressing
    /// destinations, or mountable from the source repository).
    fn try_reuse(&self, job: &LayerJob, info: &BlobInfo) -> Result<Option<CopiedLayer>> {
        let d = &job.desc;
        if let Some(stored) = self.dest.try_reuse_blob(info)? {
            return Ok(Some(CopiedLayer {
                digest: stored.digest,
                size: stored.size.or(info.size),
                changed: None,
                detected: None,
                diff_id: job.diff_id.clone(),
            }));
        }
        if self.props.desired_layer_compression == LayerCompression::Decompress
            && let Some(diff) = &job.diff_id
            && let Some(stored) = self
                .dest
                .try_reuse_blob(&BlobInfo::new(diff.clone(), None))?
        {
            return Ok(Some(CopiedLayer {
                digest: stored.digest,
                size: stored.size,
                changed: Some(None),
                detected: None,
                diff_id: Some(diff.clone()),
            }));
        }
        // Same registry: mount from the source repository instead of uploading.
        if let Some(loc) = self.src.blob_location()
            && let Some(stored) = self.dest.try_mount_blob(info, &loc)?
        {
            return Ok(Some(CopiedLayer {
                digest: d.digest.clone(),
                size: stored.size.or(info.size),
                changed: None,
                detected: None,
                diff_id: job.diff_id.clone(),
            }));
        }
        Ok(None)
    }

    fn with_diff_id(&self, job: &LayerJob, mut c: CopiedLayer) -> Result<CopiedLayer> {
        if job.need_diff_id && c.diff_id.is_none() {
            c.diff_id = Some(self.compute_diff_id(&job.desc)?);
        }
        Ok(c)
    }

    /// Chains the layer operation (decompression with DiffID check, compression) on top
    /// of an already verified source stream.
    fn apply_op<'s>(
        &self,
        input: Box<dyn Read + Send + 's>,
        job: &LayerJob,
        op: LayerOp,
        detected: Option<Algorithm>,
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
}
