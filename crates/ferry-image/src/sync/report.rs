//! What a sync tells its caller. The library never prints: each step is a [`SyncEvent`]
//! with skopeo's log message and fields, so the CLI can print the lines skopeo prints
//! (`level=info msg="Copying image ref 1/6" from="docker://…" to="dir:…"`) on stderr.

use std::time::Duration;

use crate::copy::{NoReport, Reporter};

/// logrus levels skopeo uses for these lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// One step of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// `--src docker`: whether SOURCE names one image or a repository.
    TagPresenceCheck { image: String, tagged: bool },
    /// Listing the tags of a repository.
    GettingTags { image: String },
    /// YAML: starting on a repository.
    ProcessingRepo { registry: String, repo: String },
    /// YAML: the repository's tags will be listed.
    QueryingTags { registry: String, repo: String },
    /// YAML `images-by-tag-regex`.
    FilteringRegex {
        registry: String,
        repo: String,
        regex: String,
    },
    /// YAML `images-by-semver`.
    FilteringSemver {
        registry: String,
        repo: String,
        constraint: String,
    },
    /// YAML: a registry without any image key.
    NoImagesForRegistry { registry: String },
    /// YAML: a repository where nothing was selected.
    NoRefsFound { registry: String, repo: String },
    /// `--dry-run` is on.
    DryRun,
    /// Image `i` of `n` of its source starts (or would, with `dry_run`).
    Copying {
        i: usize,
        n: usize,
        from: String,
        to: String,
        dry_run: bool,
    },
    /// The destination already has the image (skopeo prints this from the copy).
    Skipped { from: String, to: String },
    /// An image was copied; `digest` is the manifest written.
    Copied {
        from: String,
        to: String,
        digest: String,
    },
    /// An image failed (with keep-going, the sync goes on).
    Failed {
        from: String,
        to: String,
        error: String,
    },
    /// A retryable failure; another attempt follows after `delay`.
    Retrying {
        what: String,
        attempt: u32,
        of: u32,
        delay: Duration,
        error: String,
    },
    /// Prune: a destination image the source no longer has is removed (or would be).
    Deleting { to: String, dry_run: bool },
    /// Prune: a destination tag that cannot be removed alone.
    NotDeleting { to: String, reason: String },
    /// The end: `images` synced from `sources` sources.
    Synced {
        images: usize,
        sources: usize,
        dry_run: bool,
    },
    /// Anything else worth a warning.
    Warning(String),
}

impl SyncEvent {
    pub fn level(&self) -> Level {
        match self {
            SyncEvent::NoImagesForRegistry { .. }
            | SyncEvent::NoRefsFound { .. }
            | SyncEvent::DryRun
            | SyncEvent::Retrying { .. }
            | SyncEvent::NotDeleting { .. }
            | SyncEvent::Warning(_) => Level::Warn,
            SyncEvent::Failed { .. } => Level::Error,
            SyncEvent::Copied { .. } => Level::Debug,
            _ => Level::Info,
        }
    }

    /// The log message, as skopeo words it where skopeo has the line.
    pub fn message(&self) -> String {
        match self {
            SyncEvent::TagPresenceCheck { .. } => "Tag presence check".into(),
            SyncEvent::GettingTags { .. } => "Getting tags".into(),
            SyncEvent::ProcessingRepo { .. } => "Processing repo".into(),
            SyncEvent::QueryingTags { .. } => "Querying registry for image tags".into(),
            SyncEvent::FilteringRegex { regex, .. } => {
                format!("Start filtering using the regular expression: {regex}")
            }
            SyncEvent::FilteringSemver { constraint, .. } => {
                format!("Start filtering using the semantic version constraint: {constraint}")
            }
            SyncEvent::NoImagesForRegistry { .. } => "No images specified for registry".into(),
            SyncEvent::NoRefsFound { .. } => "No refs to sync found".into(),
            SyncEvent::DryRun => "Running in dry-run mode".into(),
            SyncEvent::Copying { i, n, dry_run, .. } => {
                if *dry_run {
                    format!("Would have copied image ref {i}/{n}")
                } else {
                    format!("Copying image ref {i}/{n}")
                }
            }
            SyncEvent::Skipped { .. } => "Skipping: image already present at destination".into(),
            SyncEvent::Copied { .. } => "Copied image".into(),
            SyncEvent::Failed { from, .. } => format!("Error copying ref {from:?}"),
            SyncEvent::Retrying {
                attempt,
                of,
                delay,
                error,
                ..
            } => format!("Failed, retrying in {delay:?} ... ({attempt}/{of}). Error: {error}"),
            SyncEvent::Deleting { dry_run, .. } => {
                if *dry_run {
                    "Would have deleted image absent from the source".into()
                } else {
                    "Deleting image absent from the source".into()
                }
            }
            SyncEvent::NotDeleting { reason, .. } => format!("Not deleting image: {reason}"),
            SyncEvent::Synced {
                images,
                sources,
                dry_run,
            } => {
                let verb = if *dry_run {
                    "Would have synced"
                } else {
                    "Synced"
                };
                format!("{verb} {images} images from {sources} sources")
            }
            SyncEvent::Warning(m) => m.clone(),
        }
    }

    /// logrus fields, in skopeo's order (logrus sorts them by key when printing).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            SyncEvent::TagPresenceCheck { image, tagged } => {
                vec![("imagename", image.clone()), ("tagged", tagged.to_string())]
            }
            SyncEvent::GettingTags { image } => vec![("image", image.clone())],
            SyncEvent::ProcessingRepo { registry, repo }
            | SyncEvent::QueryingTags { registry, repo }
            | SyncEvent::FilteringRegex { registry, repo, .. }
            | SyncEvent::FilteringSemver { registry, repo, .. }
            | SyncEvent::NoRefsFound { registry, repo } => {
                vec![("registry", registry.clone()), ("repo", repo.clone())]
            }
            SyncEvent::NoImagesForRegistry { registry } => vec![("registry", registry.clone())],
            SyncEvent::Copying { from, to, .. }
            | SyncEvent::Skipped { from, to }
            | SyncEvent::Copied { from, to, .. } => {
                vec![("from", from.clone()), ("to", to.clone())]
            }
            SyncEvent::Failed { from, to, error } => vec![
                ("error", error.clone()),
                ("from", from.clone()),
                ("to", to.clone()),
            ],
            SyncEvent::Retrying { what, .. } => vec![("image", what.clone())],
            SyncEvent::Deleting { to, .. } | SyncEvent::NotDeleting { to, .. } => {
                vec![("ref", to.clone())]
            }
            SyncEvent::DryRun | SyncEvent::Synced { .. } | SyncEvent::Warning(_) => Vec::new(),
        }
    }
}

/// Receives sync events; implemented by the CLI.
pub trait SyncReport: Send + Sync {
    fn event(&self, event: &SyncEvent);
    /// Progress of each image copy (skopeo prints its copy lines for every image).
    fn copy_reporter(&self) -> &dyn Reporter {
        &NoReport
    }
}

/// Reports nothing.
pub struct NoSyncReport;
impl SyncReport for NoSyncReport {
    fn event(&self, _event: &SyncEvent) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skopeo_wording() {
        let e = SyncEvent::Copying {
            i: 2,
            n: 6,
            from: "docker://h/a:1".into(),
            to: "dir:d/a:1".into(),
            dry_run: true,
        };
        assert_eq!(e.message(), "Would have copied image ref 2/6");
        assert_eq!(
            e.fields(),
            [
                ("from", "docker://h/a:1".to_string()),
                ("to", "dir:d/a:1".to_string())
            ]
        );
        let s = SyncEvent::Synced {
            images: 5,
            sources: 3,
            dry_run: false,
        };
        assert_eq!(s.message(), "Synced 5 images from 3 sources");
        assert_eq!(s.level(), Level::Info);
        assert_eq!(SyncEvent::DryRun.level(), Level::Warn);
    }
}
