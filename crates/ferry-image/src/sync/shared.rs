//! Blobs shared across the images of one run. Every destination the copy engine opens
//! is wrapped:
//!
//! - registry destinations: a run-wide ledger remembers which repositories of each
//!   destination registry hold which blobs. A blob already pushed to this repository is
//!   reused without a request; one pushed to another repository of the same registry is
//!   mounted (`POST …/uploads/?mount=`) instead of uploaded; and while one image uploads a
//!   blob, other images that need it wait for that upload and then mount it, so each blob
//!   crosses the network once per run;
//! - OCI layouts (one per repository) and `dir:` images (one per tag): a blob committed
//!   to another layout or directory of the run is hard-linked instead of fetched and
//!   written again, so each stays self-contained without using more disk (skopeo fetches
//!   and writes the blob once per tag).

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ferry_reference::Digest;

use crate::error::{Error, Result};
use crate::transport::{DestinationProperties, ImageDestination};
use crate::types::{BlobInfo, BlobLocation, PutBlobInfo, RawManifest, Signature};

/// Longest wait for another image's upload of a blob before uploading it ourselves.
const MAX_WAIT: Duration = Duration::from_secs(120);

#[derive(Default)]
struct State {
    /// (registry, digest) → repositories known to hold the blob.
    docker: HashMap<(String, Digest), Vec<String>>,
    /// (registry, digest) → (destination id, thread) uploading it now.
    inflight: HashMap<(String, Digest), (u64, ThreadId)>,
    /// digest → a committed blob file of an OCI layout of this run.
    files: HashMap<Digest, PathBuf>,
}

/// What the run knows about blobs at the destination.
#[derive(Default)]
pub(crate) struct Ledger {
    state: Mutex<State>,
    cv: Condvar,
    next_id: AtomicU64,
}

impl Ledger {
    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| Error::Other("sync blob ledger poisoned".into()))
    }

    /// Wraps a destination opened for `at`.
    pub fn wrap(
        self: &Arc<Ledger>,
        inner: Box<dyn ImageDestination>,
        at: Place,
    ) -> Box<dyn ImageDestination> {
        if matches!(at, Place::Other) {
            return inner;
        }
        Box::new(SharedDest {
            inner: Some(inner),
            ledger: self.clone(),
            at,
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            seen: Mutex::new(Vec::new()),
        })
    }
}

/// Where a wrapped destination writes.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    Registry {
        host: String,
        repo: String,
    },
    /// The layout's `blobs` directory.
    Layout {
        blobs: PathBuf,
    },
    /// A `dir:` image's directory.
    Dir {
        path: PathBuf,
    },
    Other,
}

impl Place {
    /// Where blob `d` lives once a destination at this place is committed.
    fn committed_blob(&self, d: &Digest) -> Option<PathBuf> {
        match self {
            Place::Layout { blobs } => Some(blobs.join(d.algorithm().name()).join(d.hex())),
            Place::Dir { path } => Some(path.join(crate::transport::dir::blob_name(d))),
            Place::Registry { .. } | Place::Other => None,
        }
    }
}

struct SharedDest {
    inner: Option<Box<dyn ImageDestination>>,
    ledger: Arc<Ledger>,
    at: Place,
    id: u64,
    /// Digests stored or reused (for the OCI ledger at commit).
    seen: Mutex<Vec<Digest>>,
}

impl SharedDest {
    fn inner(&self) -> Result<&dyn ImageDestination> {
        self.inner
            .as_deref()
            .ok_or_else(|| Error::Other("destination already committed".into()))
    }

    fn note(&self, d: &Digest) {
        if let Ok(mut s) = self.seen.lock() {
            s.push(d.clone());
        }
    }

    /// Registry: records that `repo` holds `digest` and ends this thread's upload claim.
    fn record(&self, host: &str, repo: &str, digest: &Digest) -> Result<()> {
        let mut st = self.ledger.lock()?;
        let repos = st
            .docker
            .entry((host.to_string(), digest.clone()))
            .or_default();
        if !repos.iter().any(|r| r == repo) {
            repos.push(repo.to_string());
        }
        st.inflight
            .retain(|_, owner| *owner != (self.id, std::thread::current().id()));
        drop(st);
        self.ledger.cv.notify_all();
        Ok(())
    }

    /// Registry: ends this thread's upload claim, if any.
    fn release(&self) {
        if let Ok(mut st) = self.ledger.lock() {
            st.inflight
                .retain(|_, owner| *owner != (self.id, std::thread::current().id()));
        }
        self.ledger.cv.notify_all();
    }

    fn reuse_registry(&self, host: &str, repo: &str, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        let me = (self.id, std::thread::current().id());
        let key = (host.to_string(), info.digest.clone());
        let deadline = Instant::now() + MAX_WAIT;
        let mut mount_from = None;
        {
            let mut st = self.ledger.lock()?;
            // A thread asks for one blob at a time: any older claim of it is stale.
            st.inflight.retain(|_, owner| *owner != me);
            loop {
                if let Some(repos) = st.docker.get(&key) {
                    if repos.iter().any(|r| r == repo) {
                        return Ok(Some(info.clone()));
                    }
                    mount_from = repos.first().cloned();
                    break;
                }
                match st.inflight.get(&key) {
                    // Another image is uploading it: wait, then mount it.
                    Some((id, _)) if *id != self.id && Instant::now() < deadline => {
                        let (g, _) = self
                            .ledger
                            .cv
                            .wait_timeout(st, Duration::from_millis(200))
                            .map_err(|_| Error::Other("sync blob ledger poisoned".into()))?;
                        st = g;
                    }
                    _ => {
                        st.inflight.insert(key.clone(), me);
                        break;
                    }
                }
            }
        }
        if let Some(from) = mount_from {
            let loc = BlobLocation {
                registry: host.to_string(),
                repo: from,
            };
            if let Ok(Some(b)) = self.inner()?.try_mount_blob(info, &loc) {
                self.record(host, repo, &info.digest)?;
                return Ok(Some(b));
            }
        }
        let r = self.inner()?.try_reuse_blob(info)?;
        if r.is_some() {
            self.record(host, repo, &info.digest)?;
        }
        Ok(r)
    }

    /// OCI layouts and `dir:`: the blob from another layout or directory of the run,
    /// hard-linked into this one by the destination.
    fn reuse_file(&self, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        if let Some(b) = self.inner()?.try_reuse_blob(info)? {
            self.note(&info.digest);
            return Ok(Some(b));
        }
        let file = self.ledger.lock()?.files.get(&info.digest).cloned();
        let Some(file) = file else { return Ok(None) };
        let r = self.inner()?.try_link_blob(info, &file)?;
        if r.is_some() {
            self.note(&info.digest);
        }
        Ok(r)
    }
}

impl ImageDestination for SharedDest {
    fn properties(&self) -> &DestinationProperties {
        static NONE: std::sync::OnceLock<DestinationProperties> = std::sync::OnceLock::new();
        match self.inner.as_deref() {
            Some(i) => i.properties(),
            None => NONE.get_or_init(DestinationProperties::default),
        }
    }

    fn try_reuse_blob(&self, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        match &self.at {
            Place::Registry { host, repo } => self.reuse_registry(host, repo, info),
            Place::Layout { .. } | Place::Dir { .. } => self.reuse_file(info),
            Place::Other => self.inner()?.try_reuse_blob(info),
        }
    }

    fn try_mount_blob(&self, info: &BlobInfo, from: &BlobLocation) -> Result<Option<BlobInfo>> {
        let r = self.inner()?.try_mount_blob(info, from)?;
        if let (Some(_), Place::Registry { host, repo }) = (&r, &self.at) {
            self.record(host, repo, &info.digest)?;
        }
        Ok(r)
    }

    fn put_blob(&self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let r = self.inner()?.put_blob(data, info);
        match (&r, &self.at) {
            (Ok(b), Place::Registry { host, repo }) => {
                self.record(host, repo, &b.digest)?;
                if let Some(d) = &info.digest {
                    self.record(host, repo, d)?;
                }
            }
            (Ok(b), _) => self.note(&b.digest),
            (Err(_), _) => self.release(),
        }
        r
    }

    fn put_manifest(&self, manifest: &RawManifest, instance: Option<&Digest>) -> Result<()> {
        self.inner()?.put_manifest(manifest, instance)
    }

    fn put_signatures(&self, sigs: &[Signature], instance: Option<&Digest>) -> Result<()> {
        self.inner()?.put_signatures(sigs, instance)
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let inner = self
            .inner
            .take()
            .ok_or_else(|| Error::Other("destination already committed".into()))?;
        inner.commit()?;
        let seen = std::mem::take(
            &mut *self
                .seen
                .lock()
                .map_err(|_| Error::Other("sync blob ledger poisoned".into()))?,
        );
        let mut st = self.ledger.lock()?;
        for d in seen {
            if let Some(file) = self.at.committed_blob(&d)
                && file.is_file()
            {
                st.files.entry(d).or_insert(file);
            }
        }
        Ok(())
    }
}

impl Drop for SharedDest {
    fn drop(&mut self) {
        let id = self.id;
        if let Ok(mut st) = self.ledger.state.lock() {
            st.inflight.retain(|_, owner| owner.0 != id);
        }
        self.ledger.cv.notify_all();
    }
}
