//! Executing a sync: enumerate the sources, then copy the images — one after the other
//! as skopeo, or `parallel` at once — skipping those already present, then prune.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ferry_reference::Digest;

use super::dest::{Dest, Target};
use super::naming::{destination, explicit_destination};
use super::report::SyncEvent;
use super::shared::Place;
use super::source::{Item, Repo, error_chain};
use super::{DestKind, Run, SourceKind, SyncError, SyncSummary};
use crate::context::SystemContext;
use crate::copy::copy_image_ext;
use crate::error::{Error, Result};
use crate::transport::{ImageDestination, ImageRef};

/// How one image ended.
pub(crate) enum Outcome {
    Copied(Digest),
    Skipped(Digest),
    DryRun,
    Failed(SyncError),
}

/// One image to sync, with its place in its source (`i` of `n`).
pub(crate) struct Job<'r> {
    pub repo: &'r Repo,
    pub item: &'r Item,
    pub i: usize,
    pub n: usize,
}

/// A finished job: where it went and how.
pub(crate) struct Done {
    pub dest: Option<Dest>,
    pub outcome: Option<Outcome>,
}

type DigestFile = Mutex<Option<std::io::BufWriter<fs_err::File>>>;

impl Run<'_> {
    pub(crate) fn run(
        &self,
        src_kind: SourceKind,
        src: &str,
        dest: &str,
    ) -> std::result::Result<SyncSummary, SyncError> {
        let digest_file: DigestFile = Mutex::new(match &self.opts.digest_file {
            Some(p) if !self.opts.dry_run => Some(std::io::BufWriter::new(
                fs_err::File::create(p).map_err(Error::from)?,
            )),
            _ => None,
        });
        let mut failures = Vec::new();
        let repos = match src_kind {
            SourceKind::Docker => self.docker_source(src)?,
            SourceKind::Dir => self.dir_source(src)?,
            SourceKind::Oci => self.oci_source(src)?,
            SourceKind::Yaml => self.yaml_source(src, &mut failures)?,
        };
        if self.opts.dry_run {
            self.report.event(&SyncEvent::DryRun);
        }
        let jobs: Vec<Job<'_>> = repos
            .iter()
            .flat_map(|repo| {
                let n = repo.items.len();
                repo.items.iter().enumerate().map(move |(i, item)| Job {
                    repo,
                    item,
                    i: i + 1,
                    n,
                })
            })
            .collect();
        let done = self.run_jobs(&jobs, dest, &digest_file);

        let mut summary = SyncSummary {
            sources: repos.iter().filter(|r| !r.items.is_empty()).count(),
            ..SyncSummary::default()
        };
        let mut first_failure = None;
        let mut results = Vec::with_capacity(done.len());
        for d in done {
            let outcome = match d.outcome {
                Some(Outcome::Failed(e)) => {
                    if self.opts.keep_going {
                        failures.push(e);
                    } else if first_failure.is_none() {
                        first_failure = Some(e);
                    }
                    None
                }
                Some(Outcome::Copied(dg)) => {
                    summary.copied += 1;
                    Some(dg)
                }
                Some(Outcome::Skipped(dg)) => {
                    summary.skipped += 1;
                    Some(dg)
                }
                Some(Outcome::DryRun) => {
                    summary.images += 1;
                    None
                }
                None => None,
            };
            results.push((d.dest, outcome));
        }
        if let Some(e) = first_failure {
            return Err(e);
        }
        summary.images += summary.copied + summary.skipped;
        if let Ok(mut f) = digest_file.lock()
            && let Some(w) = f.as_mut()
        {
            w.flush()
                .map_err(|e| Error::io("writing the digest file", e))?;
        }
        if self.opts.prune {
            self.prune(&repos, dest, &results, &mut summary, &mut failures);
        }
        self.report.event(&SyncEvent::Synced {
            images: summary.images,
            sources: summary.sources,
            dry_run: self.opts.dry_run,
        });
        if failures.is_empty() {
            Ok(summary)
        } else {
            summary.failures = failures;
            Err(SyncError::Failed {
                summary: Box::new(summary),
            })
        }
    }

    /// The destination string of an item: skopeo's naming, or the YAML `destination`.
    pub(crate) fn dest_string(&self, item: &Item, dest: &str) -> String {
        match &item.explicit {
            Some((path, tag)) => explicit_destination(dest, path, tag, &self.opts.append_suffix),
            None => destination(
                dest,
                &item.suffix,
                self.opts.scoped,
                &self.opts.append_suffix,
            ),
        }
    }

    /// Runs the jobs on `parallel` workers; without keep-going no job starts after a
    /// failure. Results are in job order.
    fn run_jobs(&self, jobs: &[Job<'_>], dest: &str, digest_file: &DigestFile) -> Vec<Done> {
        let results: Vec<Mutex<Option<Done>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let work = || {
            loop {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let k = next.fetch_add(1, Ordering::SeqCst);
                let Some(job) = jobs.get(k) else { return };
                let done = self.run_job(job, dest, digest_file);
                if matches!(done.outcome, Some(Outcome::Failed(_))) && !self.opts.keep_going {
                    stop.store(true, Ordering::SeqCst);
                }
                if let Ok(mut slot) = results[k].lock() {
                    *slot = Some(done);
                }
            }
        };
        let workers = self.opts.parallel.max(1).min(jobs.len().max(1));
        if workers == 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..workers {
                    s.spawn(work);
                }
            });
        }
        results
            .into_iter()
            .map(|m| {
                m.into_inner().ok().flatten().unwrap_or(Done {
                    dest: None,
                    outcome: None,
                })
            })
            .collect()
    }

    fn run_job(&self, job: &Job<'_>, dest: &str, digest_file: &DigestFile) -> Done {
        let item = job.item;
        let from = item.src.to_string();
        let to_string = self.dest_string(item, dest);
        let failed = |to: String, e: Error| {
            self.report.event(&SyncEvent::Failed {
                from: from.clone(),
                to,
                error: error_chain(&e),
            });
            Some(Outcome::Failed(SyncError::Copy {
                from: from.clone(),
                source: Box::new(e),
            }))
        };
        let d = match Dest::new(self.dest_kind, &to_string, self.opts.dry_run) {
            Ok(d) => d,
            Err(e) => {
                self.report.event(&SyncEvent::Copying {
                    i: job.i,
                    n: job.n,
                    from: from.clone(),
                    to: to_string.clone(),
                    dry_run: self.opts.dry_run,
                });
                return Done {
                    dest: None,
                    outcome: failed(to_string, e),
                };
            }
        };
        let to = d.image.to_string();
        self.report.event(&SyncEvent::Copying {
            i: job.i,
            n: job.n,
            from: from.clone(),
            to: to.clone(),
            dry_run: self.opts.dry_run,
        });
        if self.opts.dry_run {
            return Done {
                dest: Some(d),
                outcome: Some(Outcome::DryRun),
            };
        }
        if let Some(have) = self.unchanged(job.repo, item, &d) {
            self.report.event(&SyncEvent::Skipped {
                from: from.clone(),
                to: to.clone(),
            });
            let outcome = match self.write_digest(digest_file, &have, &to) {
                Ok(()) => Outcome::Skipped(have),
                Err(e) => {
                    return Done {
                        outcome: failed(to, e),
                        dest: Some(d),
                    };
                }
            };
            return Done {
                dest: Some(d),
                outcome: Some(outcome),
            };
        }
        let mut copts = self.opts.copy.clone();
        copts.src_ctx = (*job.repo.ctx).clone();
        let open = |r: &ImageRef, ctx: &SystemContext| -> Result<Box<dyn ImageDestination>> {
            let inner = r.open_destination(ctx)?;
            Ok(self.ledger.wrap(inner, self.place(&d)))
        };
        let r = self.retry(&from, || {
            copy_image_ext(
                &item.src,
                &d.image,
                &copts,
                &self.opts.copy_extra,
                self.report.copy_reporter(),
                &open,
            )
        });
        let outcome = match r.and_then(|res| {
            self.write_digest(digest_file, &res.digest, &to)?;
            Ok(res.digest)
        }) {
            Ok(digest) => {
                self.report.event(&SyncEvent::Copied {
                    from: from.clone(),
                    to,
                    digest: digest.to_string(),
                });
                Some(Outcome::Copied(digest))
            }
            Err(e) => failed(to, e),
        };
        Done {
            dest: Some(d),
            outcome,
        }
    }

    fn place(&self, d: &Dest) -> Place {
        match &d.target {
            Target::Docker(n) => Place::Registry {
                host: n.domain().to_string(),
                repo: n.path().to_string(),
            },
            Target::Oci { layout, .. }
                if self.dest_kind == DestKind::Oci
                    && self
                        .opts
                        .copy
                        .dest_ctx
                        .oci_shared_blob_dir
                        .as_ref()
                        .is_none_or(|p| p.as_os_str().is_empty()) =>
            {
                Place::Layout {
                    blobs: layout.join("blobs"),
                }
            }
            Target::Dir(path) => Place::Dir { path: path.clone() },
            _ => Place::Other,
        }
    }

    fn write_digest(&self, f: &DigestFile, digest: &Digest, to: &str) -> Result<()> {
        let mut g = f
            .lock()
            .map_err(|_| Error::Other("digest file lock poisoned".into()))?;
        if let Some(w) = g.as_mut() {
            writeln!(w, "{digest} {to}").map_err(|e| Error::io("writing the digest file", e))?;
        }
        Ok(())
    }

    /// Runs `f`, retrying transient failures `retry.times` times.
    pub(crate) fn retry<T>(&self, what: &str, mut f: impl FnMut() -> Result<T>) -> Result<T> {
        let mut attempt = 0u32;
        loop {
            let e = match f() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if attempt >= self.opts.retry.times || !is_retryable(&e) {
                return Err(e);
            }
            let delay = self
                .opts
                .retry
                .delay
                .unwrap_or_else(|| std::time::Duration::from_secs(1u64 << attempt.min(16)));
            self.report.event(&SyncEvent::Retrying {
                what: what.to_string(),
                attempt: attempt + 1,
                of: self.opts.retry.times,
                delay,
                error: error_chain(&e),
            });
            std::thread::sleep(delay);
            attempt += 1;
        }
    }
}

/// Transient failures: retryable registry answers and network-level I/O errors.
pub(crate) fn is_retryable(e: &Error) -> bool {
    use std::io::ErrorKind as K;
    let io = |e: &std::io::Error| {
        if let Some(r) = e
            .get_ref()
            .and_then(|i| i.downcast_ref::<ferry_registry::RegistryError>())
        {
            return r.is_retryable();
        }
        matches!(
            e.kind(),
            K::ConnectionRefused
                | K::ConnectionReset
                | K::ConnectionAborted
                | K::TimedOut
                | K::UnexpectedEof
                | K::BrokenPipe
        )
    };
    match e {
        Error::Registry(r) => r.is_retryable(),
        Error::Io(x) | Error::IoAt { source: x, .. } => io(x),
        _ => false,
    }
}
