//! Enumerating what to sync: one [`Repo`] per source "descriptor" (skopeo's
//! `repoDescriptor`: a repository, a directory tree, a YAML repository entry, an OCI
//! layout), each with its images in order.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_reference::{Digest, Named};
use ferry_registry::Access;

use super::conn::Side;
use super::filter::TagFilter;
use super::naming::{dir_suffix, go_clean, go_join};
use super::report::SyncEvent;
use super::yaml::{RepoEntry, Selection, SyncFile};
use super::{Run, SyncError};
use crate::context::SystemContext;
use crate::error::Error;
use crate::transport::ImageRef;
use crate::transport::reference::{DirRef, DockerRef, OciRef};

/// One source descriptor.
pub(crate) struct Repo {
    pub side: Side,
    pub ctx: Arc<SystemContext>,
    pub items: Vec<Item>,
    /// Set when the images come from a listing, so that prune knows what the source has.
    pub prune: Option<PruneScope>,
}

/// One image to sync.
pub(crate) struct Item {
    pub src: ImageRef,
    /// skopeo's destination suffix, before `--scoped` is applied.
    pub suffix: String,
    /// ferry's YAML `destination:` and the `:tag` / `@digest` to append to it.
    pub explicit: Option<(String, String)>,
    /// Digest and MIME type of the source manifest when known without a request.
    pub known: Option<(Digest, String)>,
}

/// What prune may remove for a listed repository: destination tags that the source's
/// selection covers but the source no longer has.
pub(crate) struct PruneScope {
    pub selection: Option<Selection>,
    pub filter: TagFilter,
    pub source_tags: HashSet<String>,
    /// The suffix (or explicit destination) of a hypothetical image of this repository,
    /// to name the destination repository even when no image is left.
    pub probe: Item,
}

impl PruneScope {
    pub fn covers(&self, tag: &str) -> bool {
        self.selection.as_ref().is_none_or(|s| s.selects(tag)) && self.filter.passes(tag)
    }
}

fn no_images(source: &str) -> SyncError {
    SyncError::from(Error::Other(format!(
        "No images to sync found in {source:?}"
    )))
}

fn docker_item(named: Named, explicit_dest: Option<&str>) -> Item {
    let explicit = explicit_dest.map(|d| {
        let t = match (named.digest(), named.tag()) {
            (Some(dg), _) => format!("@{dg}"),
            (None, Some(t)) => format!(":{t}"),
            (None, None) => ":latest".to_string(),
        };
        (d.to_string(), t)
    });
    Item {
        suffix: named.to_string(),
        src: ImageRef::Docker(DockerRef { named }),
        explicit,
        known: None,
    }
}

impl Run<'_> {
    /// Lists a repository's tags (retried like an image copy).
    fn list_tags(
        &self,
        side: Side,
        ctx: &SystemContext,
        repo: &Named,
    ) -> Result<Vec<String>, SyncError> {
        self.report
            .event(&SyncEvent::GettingTags { image: repo.name() });
        self.retry(&repo.name(), || {
            let reg = self.conns.get(side, ctx, repo, Access::Pull)?;
            Ok(reg.list_tags(repo.path())?)
        })
        .map_err(|source| SyncError::ListTags {
            repo: repo.name(),
            source: Box::new(source),
        })
    }

    /// `--src docker`: `registry/repo` (every tag) or `registry/repo:tag` (one image).
    pub(crate) fn docker_source(&self, source: &str) -> Result<Vec<Repo>, SyncError> {
        let invalid = |e: String| {
            SyncError::from(Error::InvalidReference(format!(
                "Cannot obtain a valid image reference for transport \"docker\" and reference {source:?}: {e}"
            )))
        };
        let named = Named::parse_normalized(source).map_err(|e| invalid(e.to_string()))?;
        let tagged = !named.is_name_only();
        self.report.event(&SyncEvent::TagPresenceCheck {
            image: source.to_string(),
            tagged,
        });
        let ctx = Arc::new(self.opts.copy.src_ctx.clone());
        let side = Side::Source(0);
        if tagged {
            if named.tag().is_some() && named.digest().is_some() {
                return Err(invalid(
                    "Docker references with both a tag and digest are currently not supported"
                        .into(),
                ));
            }
            return Ok(vec![Repo {
                side,
                ctx,
                items: vec![docker_item(named, None)],
                prune: None,
            }]);
        }
        let tags = self.list_tags(side, &ctx, &named)?;
        let items = self.tagged_items(&named, &tags, |t| self.filter.passes(t), None);
        if items.is_empty() {
            return Err(no_images(source));
        }
        let prune = self.opts.prune.then(|| PruneScope {
            selection: None,
            filter: self.filter.clone(),
            source_tags: tags.iter().cloned().collect(),
            probe: docker_item(named.tag_name_only(), None),
        });
        Ok(vec![Repo {
            side,
            ctx,
            items,
            prune,
        }])
    }

    fn tagged_items(
        &self,
        repo: &Named,
        tags: &[String],
        keep: impl Fn(&str) -> bool,
        explicit: Option<&str>,
    ) -> Vec<Item> {
        let mut items = Vec::new();
        for t in tags.iter().filter(|t| keep(t)) {
            match repo.with_tag(t) {
                Ok(n) => items.push(docker_item(n, explicit)),
                Err(e) => self.report.event(&SyncEvent::Warning(format!(
                    "Error creating a tagged reference from registry tag list: {e} (repo {}, tag {t:?})",
                    repo.name()
                ))),
            }
        }
        items
    }

    /// `--src dir`: every directory below SOURCE that contains `manifest.json`.
    pub(crate) fn dir_source(&self, source: &str) -> Result<Vec<Repo>, SyncError> {
        std::fs::metadata(source)
            .map_err(|e| SyncError::from(Error::io("Invalid source directory specified", e)))?;
        let mut found = Vec::new();
        walk(source, true, &mut |dir, names| {
            if names.iter().any(|n| n == "manifest.json") {
                found.push(dir.to_string());
                return false;
            }
            true
        })
        .map_err(|e| SyncError::from(Error::io(format!("Error walking the path {source:?}"), e)))?;
        if found.is_empty() {
            return Err(no_images(source));
        }
        let items = found
            .into_iter()
            .map(|p| Item {
                suffix: dir_suffix(source, &p),
                src: ImageRef::Dir(DirRef {
                    resolved: resolve(Path::new(&p)),
                    path: PathBuf::from(&p),
                }),
                explicit: None,
                known: None,
            })
            .collect();
        Ok(vec![Repo {
            side: Side::Source(0),
            ctx: Arc::new(self.opts.copy.src_ctx.clone()),
            items,
            prune: None,
        }])
    }

    /// `--src oci`: SOURCE is a layout, or a tree of layouts; every entry with a
    /// `org.opencontainers.image.ref.name` is an image. A layout is one repository: its
    /// suffix is computed like a `dir` source's, and a ref name that is a tag is appended
    /// as `:tag` (a ref name that is a whole reference, `name:tag`, is the suffix itself).
    pub(crate) fn oci_source(&self, source: &str) -> Result<Vec<Repo>, SyncError> {
        std::fs::metadata(source)
            .map_err(|e| SyncError::from(Error::io("Invalid source directory specified", e)))?;
        let mut layouts = Vec::new();
        walk(source, false, &mut |dir, names| {
            if names.iter().any(|n| n == "oci-layout") {
                layouts.push(dir.to_string());
                return false;
            }
            true
        })
        .map_err(|e| SyncError::from(Error::io(format!("Error walking the path {source:?}"), e)))?;
        let ctx = Arc::new(self.opts.copy.src_ctx.clone());
        let mut repos = Vec::new();
        for layout in layouts {
            let base = dir_suffix(source, &layout);
            let entries = read_ref_names(Path::new(&layout)).map_err(SyncError::from)?;
            let resolved = resolve(Path::new(&layout));
            let mut items = Vec::new();
            let mut names = HashSet::new();
            for (name, digest, mime) in entries {
                let is_tag = ferry_reference::Named::parse_normalized(&format!("x:{name}"))
                    .is_ok_and(|n| n.tag() == Some(name.as_str()));
                if !names.insert(name.clone()) || (is_tag && !self.filter.passes(&name)) {
                    continue;
                }
                items.push(Item {
                    suffix: if is_tag {
                        format!("{base}:{name}")
                    } else {
                        name.clone()
                    },
                    src: ImageRef::Oci(OciRef {
                        dir: PathBuf::from(&layout),
                        name: Some(name),
                        index: None,
                        resolved_dir: resolved.clone(),
                    }),
                    explicit: None,
                    known: Some((digest, mime)),
                });
            }
            let prune = self.opts.prune.then(|| PruneScope {
                selection: None,
                filter: self.filter.clone(),
                source_tags: names.clone(),
                probe: Item {
                    suffix: format!("{base}:latest"),
                    src: ImageRef::Oci(OciRef {
                        dir: PathBuf::from(&layout),
                        name: None,
                        index: None,
                        resolved_dir: resolved.clone(),
                    }),
                    explicit: None,
                    known: None,
                },
            });
            repos.push(Repo {
                side: Side::Source(0),
                ctx: ctx.clone(),
                items,
                prune,
            });
        }
        if repos.iter().all(|r| r.items.is_empty()) {
            return Err(no_images(source));
        }
        Ok(repos)
    }

    /// `--src yaml`. A repository whose tags cannot be listed is a failure (skopeo logs
    /// it and carries on, exiting 0): fatal, or recorded with keep-going.
    pub(crate) fn yaml_source(
        &self,
        source: &str,
        failures: &mut Vec<SyncError>,
    ) -> Result<Vec<Repo>, SyncError> {
        let file = SyncFile::load(Path::new(source))?;
        let mut repos = Vec::new();
        for (k, reg) in file.registries.iter().enumerate() {
            if reg.repos.is_empty() {
                self.report.event(&SyncEvent::NoImagesForRegistry {
                    registry: reg.name.clone(),
                });
                continue;
            }
            let mut ctx = self.opts.copy.src_ctx.clone();
            if let Some(v) = reg.tls_verify {
                ctx.docker.tls_verify = Some(v);
            }
            if let Some(d) = &reg.cert_dir {
                ctx.docker.cert_dir = Some(d.clone());
            }
            if let Some(c) = &reg.credentials {
                ctx.docker.creds = Some(c.clone());
                ctx.docker.registry_token = None;
                ctx.docker.no_creds = false;
            }
            let ctx = Arc::new(ctx);
            let side = Side::Source(k + 1);
            for entry in &reg.repos {
                match self.yaml_repo(&reg.name, entry, side, &ctx) {
                    Ok(Some(r)) => repos.push(r),
                    Ok(None) => {}
                    Err(e) if self.opts.keep_going => {
                        self.report.event(&SyncEvent::Failed {
                            from: entry.repo.name(),
                            to: String::new(),
                            error: error_chain(&e),
                        });
                        failures.push(e);
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(repos)
    }

    fn yaml_repo(
        &self,
        registry: &str,
        entry: &RepoEntry,
        side: Side,
        ctx: &Arc<SystemContext>,
    ) -> Result<Option<Repo>, SyncError> {
        self.report.event(&SyncEvent::ProcessingRepo {
            registry: registry.to_string(),
            repo: entry.key.clone(),
        });
        let explicit = entry.destination.as_deref();
        let (items, prune) = match &entry.selection {
            Selection::Refs(refs) => (
                refs.iter()
                    .map(|n| docker_item(n.clone(), explicit))
                    .collect::<Vec<_>>(),
                None,
            ),
            Selection::Listed { regex, semver } => {
                self.report.event(&SyncEvent::QueryingTags {
                    registry: registry.to_string(),
                    repo: entry.key.clone(),
                });
                let tags = self.list_tags(side, ctx, &entry.repo)?;
                if let Some(r) = regex {
                    self.report.event(&SyncEvent::FilteringRegex {
                        registry: registry.to_string(),
                        repo: entry.key.clone(),
                        regex: r.as_str().to_string(),
                    });
                }
                if let Some(c) = semver {
                    self.report.event(&SyncEvent::FilteringSemver {
                        registry: registry.to_string(),
                        repo: entry.key.clone(),
                        constraint: c.to_string(),
                    });
                }
                let filter = entry.filter.clone().and(self.filter.clone());
                let items = self.tagged_items(
                    &entry.repo,
                    &tags,
                    |t| entry.selection.selects(t) && filter.passes(t),
                    explicit,
                );
                let prune = self.opts.prune.then(|| PruneScope {
                    selection: Some(entry.selection.clone()),
                    filter,
                    source_tags: tags.iter().cloned().collect(),
                    probe: docker_item(entry.repo.tag_name_only(), explicit),
                });
                (items, prune)
            }
        };
        if items.is_empty() {
            self.report.event(&SyncEvent::NoRefsFound {
                registry: registry.to_string(),
                repo: entry.key.clone(),
            });
            if prune.is_none() {
                return Ok(None);
            }
        }
        Ok(Some(Repo {
            side,
            ctx: ctx.clone(),
            items,
            prune,
        }))
    }
}

/// The error and its causes on one line (`a: b: c`).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.ends_with(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// An absolute form of `p` (symlinks resolved when it exists).
pub(crate) fn resolve(p: &Path) -> PathBuf {
    if let Ok(c) = fs_err::canonicalize(p) {
        return c;
    }
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Walks `root` like Go's `filepath.WalkDir` (entries sorted by name, symlinks not
/// followed, paths built with `Join`), calling `visit(dir, entry_names)` for each
/// directory; `visit` returns whether to descend. With `go_order`, subdirectories sorted
/// before `manifest.json` are entered before the visit decides (skopeo's `SkipDir`
/// only skips what follows the file).
fn walk(
    root: &str,
    go_order: bool,
    visit: &mut dyn FnMut(&str, &[String]) -> bool,
) -> std::io::Result<()> {
    fn inner(
        dir: &str,
        go_order: bool,
        visit: &mut dyn FnMut(&str, &[String]) -> bool,
    ) -> std::io::Result<()> {
        let mut entries: Vec<(String, bool)> = Vec::new();
        for e in fs_err::read_dir(dir)? {
            let e = e?;
            let is_dir = e.file_type()?.is_dir();
            entries.push((e.file_name().to_string_lossy().into_owned(), is_dir));
        }
        entries.sort();
        let names: Vec<String> = entries
            .iter()
            .filter(|(_, d)| !d)
            .map(|(n, _)| n.clone())
            .collect();
        let here = go_clean(dir);
        if go_order {
            for (name, is_dir) in &entries {
                if !is_dir && name == "manifest.json" {
                    visit(&here, &names);
                    return Ok(());
                }
                if *is_dir {
                    inner(&go_join(dir, name), go_order, visit)?;
                }
            }
            return Ok(());
        }
        if !visit(&here, &names) {
            return Ok(());
        }
        for (name, is_dir) in &entries {
            if *is_dir {
                inner(&go_join(dir, name), go_order, visit)?;
            }
        }
        Ok(())
    }
    inner(root, go_order, visit)
}

/// `(ref.name, digest, mediaType)` of every named entry of a layout's index.json.
fn read_ref_names(layout: &Path) -> Result<Vec<(String, Digest, String)>, Error> {
    let path = layout.join("index.json");
    let bytes = fs_err::read(&path)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for m in v
        .get("manifests")
        .and_then(|m| m.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = m
            .get("annotations")
            .and_then(|a| a.get("org.opencontainers.image.ref.name"))
            .and_then(|n| n.as_str());
        let digest = m
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(|d| Digest::parse(d).ok());
        let mime = m
            .get("mediaType")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        if let (Some(name), Some(digest)) = (name, digest)
            && !name.is_empty()
        {
            out.push((name.to_string(), digest, mime.to_string()));
        }
    }
    Ok(out)
}
