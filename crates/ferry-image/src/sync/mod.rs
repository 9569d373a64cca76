//! `sync`: copy every image of a SOURCE to a DESTINATION — skopeo's `sync`, then more.
//!
//! ```text
//! ferry_image::sync::sync(&opts, SourceKind::Yaml, "mirror.yaml", DestKind::Docker, "registry.local/mirror", &report)
//!     -> Result<SyncSummary, SyncError>
//! ```
//!
//! # Sources and destinations
//!
//! | kind | as SOURCE | as DESTINATION |
//! |---|---|---|
//! | `docker` | `registry/repo` (every tag) or `registry/repo:tag` / `@digest` (one image) | `DEST/<suffix>` in a registry |
//! | `dir` | every directory below SOURCE holding `manifest.json` | `DEST/<suffix>` as a `dir:` image, updated in place (skopeo refuses existing directories) |
//! | `yaml` | skopeo's YAML file plus ferry's keys (see [`yaml`]) | — |
//! | `oci` (ferry) | an OCI layout, or a tree of layouts: every `ref.name` of each | one layout per repository `DEST/<repo-suffix>`, tags as `ref.name` |
//!
//! `dir` → `dir` is refused ("consider using rsync"), as in skopeo. Destination names
//! follow skopeo exactly (see [`naming`]): the full source reference with `--scoped`,
//! else `repo:tag`; `--append-suffix` lands on the tag.
//!
//! # Beyond skopeo
//!
//! - **Skip unchanged** images with one `HEAD` per tag on each side (`check`); skopeo
//!   `GET`s both manifests each time. A re-run with nothing new costs one tag listing
//!   per repository plus one `HEAD` per tag on each registry (and one `/v2/` ping per
//!   registry): registry connections are shared by the whole run (`conn`).
//! - **Parallel images** (`parallel`): images are copied concurrently across the whole
//!   sync, and blobs shared between images cross the network once per run (mounted
//!   between repositories of the destination registry, hard-linked between OCI layouts;
//!   see `shared`).
//! - **Tag filters**: `include` / `exclude` regexes on the command line and in the YAML.
//! - **Explicit destinations** in the YAML (`repositories: {repo: {destination: …}}`).
//! - **Prune**: destination tags the source no longer has are removed (`prune`): only
//!   in repositories whose tags are listed, only tags that the selection (regex, semver,
//!   include/exclude) covers, never a manifest another surviving tag still uses.
//! - A registry of the YAML that cannot be listed is a failure (skopeo logs it, skips
//!   it and exits 0).
//!
//! # CLI mapping (`ferry sync`)
//!
//! | flag | field |
//! |---|---|
//! | `--src`, `--dest` | [`SourceKind::parse`], [`DestKind::parse`] (skopeo's error texts) |
//! | `SOURCE DESTINATION` | `src`, `dest` arguments of [`sync`] |
//! | `--scoped` | [`SyncOptions::scoped`] |
//! | `--append-suffix` | [`SyncOptions::append_suffix`] |
//! | `-a, --all` | `copy.list_selection = ListSelection::All` (else `System`) |
//! | `--dry-run` | [`SyncOptions::dry_run`] |
//! | `--keep-going` | [`SyncOptions::keep_going`] |
//! | `--digestfile` | [`SyncOptions::digest_file`] |
//! | `--preserve-digests`, `--remove-signatures`, `-f/--format` | `copy.preserve_digests`, `copy.remove_signatures`, `copy.format` |
//! | `--remove-list-signatures` | `copy_extra.remove_list_signatures` |
//! | `--src-*` / `--dest-*` (creds, cert-dir, tls-verify, authfile, …) | `copy.src_ctx`, `copy.dest_ctx` (YAML keys override the source side per registry) |
//! | global `--policy` / `--insecure-policy` | `copy.policy` |
//! | `--retry-times`, `--retry-delay` | [`SyncOptions::retry`] (per image and per tag listing) |
//! | `--parallel N` (ferry) | [`SyncOptions::parallel`] (images at once; `copy.parallel` stays blobs per image) |
//! | `--include RE`, `--exclude RE` (ferry, repeatable) | [`SyncOptions::include`], [`SyncOptions::exclude`] |
//! | `--prune` (ferry) | [`SyncOptions::prune`] |
//!
//! Output: every [`SyncEvent`] carries skopeo's message, level and fields: print them on
//! stderr (`Copying image ref 1/6 from=… to=…`, `Synced N images from M sources`); the
//! per-image copy lines come through [`SyncReport::copy_reporter`]. Errors: a failing
//! image stops the sync with [`SyncError::Copy`] ("Error copying ref …"), unless
//! `keep_going`, where the rest is synced and [`SyncError::Failed`] summarises.

mod check;
mod conn;
mod dest;
pub mod filter;
pub mod naming;
mod prune;
pub mod report;
mod run;
pub mod semver;
mod shared;
mod source;
pub mod yaml;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use filter::TagFilter;
pub use report::{Level, NoSyncReport, SyncEvent, SyncReport};

use crate::copy::{CopyOptions, ExtraCopyOptions};
use crate::error::{Error, Result};

/// `--src`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Docker,
    Dir,
    Yaml,
    Oci,
}

impl SourceKind {
    /// Parses `--src` (skopeo's messages for a missing or unknown value).
    pub fn parse(s: &str) -> Result<SourceKind> {
        match s {
            "" => Err(Error::Config("A source transport must be specified".into())),
            "docker" => Ok(SourceKind::Docker),
            "dir" => Ok(SourceKind::Dir),
            "yaml" => Ok(SourceKind::Yaml),
            "oci" => Ok(SourceKind::Oci),
            other => Err(Error::Config(format!(
                "{other:?} is not a valid source transport"
            ))),
        }
    }
}

/// `--dest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DestKind {
    Docker,
    Dir,
    Oci,
}

impl DestKind {
    /// Parses `--dest` (skopeo's messages for a missing or unknown value).
    pub fn parse(s: &str) -> Result<DestKind> {
        match s {
            "" => Err(Error::Config(
                "A destination transport must be specified".into(),
            )),
            "docker" => Ok(DestKind::Docker),
            "dir" => Ok(DestKind::Dir),
            "oci" => Ok(DestKind::Oci),
            other => Err(Error::Config(format!(
                "{other:?} is not a valid destination transport"
            ))),
        }
    }
}

/// `--retry-times` / `--retry-delay`: whole-image retries of transient failures, on
/// top of the registry client's per-request retries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retry {
    pub times: u32,
    /// `None`: 2^attempt seconds, as skopeo.
    pub delay: Option<Duration>,
}

/// Everything a sync needs besides SOURCE and DESTINATION.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Per-image copy settings: contexts, policy, `--all`, `--format`,
    /// `--preserve-digests`, `--remove-signatures`, blobs in flight per image.
    pub copy: CopyOptions,
    /// `--remove-list-signatures` and the other copy extras.
    pub copy_extra: ExtraCopyOptions,
    pub scoped: bool,
    pub append_suffix: String,
    pub keep_going: bool,
    pub dry_run: bool,
    /// Truncated at the start (not in dry-run); one `<digest> <transport:ref>` line per
    /// synced image (copied or already present), naming the destination.
    pub digest_file: Option<PathBuf>,
    pub retry: Retry,
    /// Images copied at once (0 and 1: one after the other, as skopeo).
    pub parallel: usize,
    /// Listed tags must match one of these (if any)…
    pub include: Vec<String>,
    /// …and none of these.
    pub exclude: Vec<String>,
    /// Remove destination tags the source no longer has (see the module docs).
    pub prune: bool,
}

impl SyncOptions {
    /// skopeo's defaults around `copy`.
    pub fn new(copy: CopyOptions) -> SyncOptions {
        SyncOptions {
            copy,
            copy_extra: ExtraCopyOptions::default(),
            scoped: false,
            append_suffix: String::new(),
            keep_going: false,
            dry_run: false,
            digest_file: None,
            retry: Retry::default(),
            parallel: 1,
            include: Vec::new(),
            exclude: Vec::new(),
            prune: false,
        }
    }
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncSummary {
    /// Source descriptors with images (skopeo's "from M sources").
    pub sources: usize,
    /// Images synced: copied, already present, or (dry run) that would be copied.
    pub images: usize,
    pub copied: usize,
    /// Already present at the destination.
    pub skipped: usize,
    /// Destination images removed by prune (or that would be, in a dry run).
    pub pruned: Vec<String>,
    /// With keep-going: what failed.
    pub failures: Vec<SyncError>,
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Bad arguments, an unreadable SOURCE, an invalid YAML file, nothing to sync.
    #[error(transparent)]
    Setup(Box<Error>),
    /// A repository's tags could not be listed.
    #[error("Error determining repository tags for repo {repo}")]
    ListTags {
        repo: String,
        #[source]
        source: Box<Error>,
    },
    /// One image failed.
    #[error("Error copying ref {from:?}")]
    Copy {
        from: String,
        #[source]
        source: Box<Error>,
    },
    /// Prune could not remove a destination image.
    #[error("Error deleting {to}")]
    Delete {
        to: String,
        #[source]
        source: Box<Error>,
    },
    /// Keep-going: the sync finished, but these steps failed.
    #[error(
        "Sync failed due to previous reported error(s) for one or more images: {}",
        failure_list(&summary.failures)
    )]
    Failed { summary: Box<SyncSummary> },
}

impl From<Error> for SyncError {
    fn from(e: Error) -> SyncError {
        SyncError::Setup(Box::new(e))
    }
}

impl SyncError {
    /// True when the (first) cause is an image that does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            SyncError::Setup(e)
            | SyncError::ListTags { source: e, .. }
            | SyncError::Copy { source: e, .. }
            | SyncError::Delete { source: e, .. } => e.is_not_found(),
            SyncError::Failed { .. } => false,
        }
    }
}

fn failure_list(f: &[SyncError]) -> String {
    let names: Vec<String> = f
        .iter()
        .map(|e| match e {
            SyncError::ListTags { repo, .. } => format!("tags of {repo}"),
            SyncError::Copy { from, .. } => from.clone(),
            SyncError::Delete { to, .. } => format!("deleting {to}"),
            other => other.to_string(),
        })
        .collect();
    format!("{} failed: {}", f.len(), names.join(", "))
}

/// One sync run's shared state.
pub(crate) struct Run<'a> {
    pub opts: &'a SyncOptions,
    pub dest_kind: DestKind,
    pub report: &'a dyn SyncReport,
    pub conns: conn::Connections,
    /// `--include` / `--exclude`.
    pub filter: TagFilter,
    pub ledger: Arc<shared::Ledger>,
}

/// Syncs SOURCE (`src`, of kind `src_kind`) to DESTINATION (`dest`). See the module docs.
pub fn sync(
    opts: &SyncOptions,
    src_kind: SourceKind,
    src: &str,
    dest_kind: DestKind,
    dest: &str,
    report: &dyn SyncReport,
) -> std::result::Result<SyncSummary, SyncError> {
    if src_kind == SourceKind::Dir && dest_kind == DestKind::Dir {
        return Err(Error::Unsupported(
            "sync from 'dir' to 'dir' not implemented, consider using rsync instead".into(),
        )
        .into());
    }
    if opts.prune && src_kind == SourceKind::Dir {
        return Err(Error::Unsupported(
            "pruning needs a source that lists tags (docker, yaml or oci), not dir".into(),
        )
        .into());
    }
    let run = Run {
        opts,
        dest_kind,
        report,
        conns: conn::Connections::default(),
        filter: TagFilter::new(&opts.include, &opts.exclude)?,
        ledger: Arc::default(),
    };
    run.run(src_kind, src, dest)
}
