//! Prune (ferry): remove destination images whose source tag is gone.
//!
//! Only repositories whose images come from a tag listing take part (`--src docker
//! registry/repo`, YAML repositories without explicit tags, OCI layouts). A destination
//! tag `T` of such a repository is removed when `T` = `S` + `--append-suffix`, the
//! repository's selection (tag regex, semver, include/exclude filters) covers `S`, and
//! the source no longer lists `S`. Tags the configuration does not cover are never
//! touched, nor is anything when the sync stopped on an error. With `dry_run` the
//! removals are only reported.
//!
//! Registries delete manifests, not tags: a tag is removed by deleting its manifest,
//! which is refused (with a warning) when another tag of the repository still points at
//! the same manifest. OCI layouts lose the index entry and the blobs nothing else uses;
//! `dir` destinations lose the image directory (`DEST/repo:TAG`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use ferry_manifest::mime;
use ferry_reference::{Digest, Named};
use ferry_registry::Access;

use super::conn::Side;
use super::dest::{Dest, Target};
use super::naming::split_tag;
use super::report::SyncEvent;
use super::source::{PruneScope, Repo, error_chain, resolve};
use super::{DestKind, Run, SyncError, SyncSummary};
use crate::error::{Error, Result};
use crate::transport::reference::OciRef;

/// One destination repository and what the run knows about it.
#[derive(Default)]
struct Group<'r> {
    /// A destination of the repository (to name it).
    sample: Option<Dest>,
    scopes: Vec<&'r PruneScope>,
    /// Tags this run writes (or tried to).
    keep: HashSet<String>,
    /// Digests known for tags written.
    digests: HashMap<String, Digest>,
}

impl Run<'_> {
    pub(crate) fn prune(
        &self,
        repos: &[Repo],
        dest: &str,
        results: &[(Option<Dest>, Option<Digest>)],
        summary: &mut SyncSummary,
        failures: &mut Vec<SyncError>,
    ) {
        let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
        let mut k = 0;
        for repo in repos {
            for item in &repo.items {
                let result = results.get(k);
                k += 1;
                let Ok(d) = Dest::new(self.dest_kind, &self.dest_string(item, dest), true) else {
                    continue;
                };
                let g = groups.entry(d.repo_key.clone()).or_default();
                if let Some(t) = &d.tag {
                    g.keep.insert(t.clone());
                    if let Some((_, Some(dg))) = result {
                        g.digests.insert(t.clone(), dg.clone());
                    }
                }
                g.sample.get_or_insert(d);
            }
            if let Some(scope) = &repo.prune
                && let Ok(d) =
                    Dest::new(self.dest_kind, &self.dest_string(&scope.probe, dest), true)
            {
                let g = groups.entry(d.repo_key.clone()).or_default();
                g.scopes.push(scope);
                g.sample.get_or_insert(d);
            }
        }
        for g in groups.values().filter(|g| !g.scopes.is_empty()) {
            let Some(sample) = &g.sample else { continue };
            if let Err(e) = self.prune_repo(g, sample, summary, failures) {
                let to = sample.repo_key.clone();
                self.report.event(&SyncEvent::Failed {
                    from: String::new(),
                    to: to.clone(),
                    error: error_chain(&e),
                });
                failures.push(SyncError::Delete {
                    to,
                    source: Box::new(e),
                });
            }
        }
    }

    fn prune_repo(
        &self,
        g: &Group<'_>,
        sample: &Dest,
        summary: &mut SyncSummary,
        failures: &mut Vec<SyncError>,
    ) -> Result<()> {
        let suffix = &self.opts.append_suffix;
        let present = self.dest_tags(sample)?;
        let doomed: Vec<&String> = present
            .iter()
            .filter(|t| !g.keep.contains(*t))
            .filter(|t| {
                t.strip_suffix(suffix.as_str()).is_some_and(|s| {
                    g.scopes
                        .iter()
                        .any(|sc| sc.covers(s) && !sc.source_tags.contains(s))
                })
            })
            .collect();
        if doomed.is_empty() {
            return Ok(());
        }
        match &sample.target {
            Target::Docker(named) => {
                self.prune_registry(g, named, &present, &doomed, summary, failures)
            }
            Target::Oci { layout, .. } => {
                for t in doomed {
                    let r = OciRef {
                        dir: layout.clone(),
                        name: Some(t.clone()),
                        index: None,
                        resolved_dir: resolve(layout),
                    };
                    let to = crate::transport::ImageRef::Oci(r.clone()).to_string();
                    self.delete(&to, summary, failures, || {
                        crate::transport::oci::delete(&r, &self.opts.copy.dest_ctx)
                    });
                }
                Ok(())
            }
            Target::Dir(_) => {
                for t in doomed {
                    let path = PathBuf::from(format!("{}:{t}", sample.repo_key));
                    let to = format!("dir:{}", path.display());
                    self.delete(&to, summary, failures, || {
                        Ok(fs_err::remove_dir_all(&path)?)
                    });
                }
                Ok(())
            }
        }
    }

    /// Reports (and, outside dry runs, performs) one deletion.
    fn delete(
        &self,
        to: &str,
        summary: &mut SyncSummary,
        failures: &mut Vec<SyncError>,
        f: impl FnOnce() -> Result<()>,
    ) {
        self.report.event(&SyncEvent::Deleting {
            to: to.to_string(),
            dry_run: self.opts.dry_run,
        });
        if self.opts.dry_run {
            summary.pruned.push(to.to_string());
            return;
        }
        match f() {
            Ok(()) => summary.pruned.push(to.to_string()),
            Err(e) => {
                self.report.event(&SyncEvent::Failed {
                    from: String::new(),
                    to: to.to_string(),
                    error: error_chain(&e),
                });
                failures.push(SyncError::Delete {
                    to: to.to_string(),
                    source: Box::new(e),
                });
            }
        }
    }

    fn prune_registry(
        &self,
        g: &Group<'_>,
        repo: &Named,
        present: &[String],
        doomed: &[&String],
        summary: &mut SyncSummary,
        failures: &mut Vec<SyncError>,
    ) -> Result<()> {
        let ctx = &self.opts.copy.dest_ctx;
        let reg = self.conns.get(Side::Dest, ctx, repo, Access::Push)?;
        let digest_of = |tag: &str| -> Result<Option<Digest>> {
            if let Some(d) = g.digests.get(tag) {
                return Ok(Some(d.clone()));
            }
            let head = reg.head_manifest(repo.path(), tag, mime::ALL_MANIFEST_TYPES)?;
            Ok(head
                .and_then(|h| h.digest)
                .and_then(|d| Digest::parse(&d).ok()))
        };
        let doomed_set: HashSet<&str> = doomed.iter().map(|t| t.as_str()).collect();
        // Every manifest a surviving tag points at.
        let mut kept: HashMap<Digest, String> = HashMap::new();
        for t in present.iter().filter(|t| !doomed_set.contains(t.as_str())) {
            if let Some(d) = digest_of(t)? {
                kept.entry(d).or_insert_with(|| t.clone());
            }
        }
        let mut deleted: HashSet<Digest> = HashSet::new();
        for t in doomed {
            let named = repo.with_tag(t).map_err(|e| Error::Other(e.to_string()))?;
            let to = crate::transport::ImageRef::Docker(crate::transport::reference::DockerRef {
                named,
            })
            .to_string();
            let Some(d) = digest_of(t)? else { continue };
            if let Some(other) = kept.get(&d) {
                self.report.event(&SyncEvent::NotDeleting {
                    to,
                    reason: format!(
                        "its manifest {d} is also tagged {other:?}, and registries delete manifests, not tags"
                    ),
                });
                continue;
            }
            let first = deleted.insert(d.clone());
            self.delete(&to, summary, failures, || {
                if first {
                    let del = self.conns.get(Side::Dest, ctx, repo, Access::Delete)?;
                    del.delete_manifest(repo.path(), &d.to_string())?;
                }
                Ok(())
            });
        }
        Ok(())
    }

    /// The tags the destination repository has now.
    fn dest_tags(&self, sample: &Dest) -> Result<Vec<String>> {
        match &sample.target {
            Target::Docker(named) => {
                let ctx = &self.opts.copy.dest_ctx;
                let reg = self.conns.get(Side::Dest, ctx, named, Access::Push)?;
                match reg.list_tags(named.path()) {
                    Ok(t) => Ok(t),
                    Err(e) if e.is_not_found() => Ok(Vec::new()),
                    Err(e) => Err(e.into()),
                }
            }
            Target::Oci { layout, .. } => {
                let index = match std::fs::read(layout.join("index.json")) {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(Error::io(format!("reading {}", layout.display()), e)),
                };
                Ok(oci_ref_names(&index))
            }
            Target::Dir(_) => {
                debug_assert_eq!(self.dest_kind, DestKind::Dir);
                dir_tags(&sample.repo_key)
            }
        }
    }
}

fn oci_ref_names(index: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(index) else {
        return Vec::new();
    };
    v.get("manifests")
        .and_then(|m| m.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    m.get("annotations")?
                        .get("org.opencontainers.image.ref.name")?
                        .as_str()
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Tags of `repo` in a `dir` destination: sibling directories `<base>:<tag>` that hold
/// a `dir:` image.
fn dir_tags(repo: &str) -> Result<Vec<String>> {
    let (parent, base) = match repo.rfind('/') {
        Some(i) => (&repo[..i], &repo[i + 1..]),
        None => (".", repo),
    };
    let parent = if parent.is_empty() { "/" } else { parent };
    let prefix = format!("{base}:");
    let mut tags = Vec::new();
    let rd = match fs_err::read_dir(parent) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(tags),
        Err(e) => return Err(e.into()),
    };
    for e in rd {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(tag) = name.strip_prefix(&prefix)
            && is_dir_image(&e.path())
            && split_tag(&name).0 == base
        {
            tags.push(tag.to_string());
        }
    }
    tags.sort();
    Ok(tags)
}

fn is_dir_image(p: &Path) -> bool {
    p.join("manifest.json").is_file() && p.join("version").is_file()
}
