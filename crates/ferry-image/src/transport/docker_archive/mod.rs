//! `docker-archive:PATH[:name:tag | :@N]` — the `docker save` tar format, read and written
//! without temporary copies (c/image `docker/archive` + `docker/internal/tarfile`).
//!
//! - [`DockerArchiveSource`] indexes the archive once and reads layers in place (see
//!   `transport::tarfile::archive` for compressed archives and pipes). Its
//!   manifest is the v2s2 manifest c/image synthesises, byte for byte.
//! - [`DockerArchiveDestination`] streams entries into the final file in skopeo's exact
//!   layout and header format; layers of unknown size get their header patched afterwards.
//! - [`list_tags`] backs `skopeo list-tags docker-archive:PATH`.

mod dest;
mod legacy;
mod source;

use std::path::Path;

use serde::Deserialize;

pub use dest::{DockerArchiveDestination, RepoTag};
pub use source::{DockerArchiveSource, ImageSelector};

use super::tarfile::archive::{Archive, OpenOptions, ResolveError};
use crate::error::{Error, Result};

/// Largest manifest.json accepted.
const MAX_MANIFEST_JSON: u64 = 8 << 20;
/// Largest image config accepted (c/image's `MaxConfigBodySize`).
const MAX_CONFIG: u64 = 4 << 20;

/// One image of manifest.json.
#[derive(Debug, Clone, Deserialize)]
struct ManifestItem {
    #[serde(rename = "Config", default)]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Option<Vec<String>>,
}

/// Reads and parses manifest.json.
fn read_manifest_json(archive: &Archive) -> Result<Vec<ManifestItem>> {
    let m = archive.resolve("manifest.json").map_err(|e| match e {
        ResolveError::NotFound(_) => bad(
            archive.path(),
            "loading tar component manifest.json: file does not exist",
        ),
        other => archive.resolve_error(other),
    })?;
    let bytes = archive.read_member(m, MAX_MANIFEST_JSON)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| bad(archive.path(), format!("decoding tar manifest.json: {e}")))
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::BadArchive {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// `skopeo list-tags docker-archive:PATH`: each image's tags as fully-qualified
/// `name:tag`, or `@N` for an image without tags.
pub fn list_tags(path: &Path) -> Result<Vec<String>> {
    let archive = Archive::open(path, &OpenOptions::default())?;
    let items = read_manifest_json(&archive)?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let tags = item.repo_tags.as_deref().unwrap_or_default();
        for tag in tags {
            let n = normalize_reference(tag).map_err(|e| {
                Error::Other(format!("Invalid tag {tag:?} in manifest item @{i}: {e}"))
            })?;
            if !n.tagged {
                return Err(Error::Other(format!(
                    "Invalid tag {tag} ({}): does not contain a tag",
                    n.full
                )));
            }
            out.push(n.full);
        }
        if tags.is_empty() {
            out.push(format!("@{i}"));
        }
    }
    Ok(out)
}

/// A reference normalised as `reference.ParseNormalizedNamed(s).String()`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Normalized {
    /// `docker.io/library/busybox:latest`
    full: String,
    tagged: bool,
}

/// Docker's reference normalisation for the RepoTags strings of manifest.json
/// (`busybox:1` → `docker.io/library/busybox:1`), as c/image's `ParseNormalizedNamed`.
fn normalize_reference(s: &str) -> std::result::Result<Normalized, String> {
    let n = ferry_reference::Named::parse_normalized(s).map_err(|e| e.to_string())?;
    Ok(Normalized {
        full: n.to_string(),
        tagged: n.tag().is_some(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let n = |s: &str| normalize_reference(s).map(|n| n.full);
        assert_eq!(
            n("busybox:latest").unwrap(),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(n("foo/bar:v1").unwrap(), "docker.io/foo/bar:v1");
        assert_eq!(n("docker.io/foo/bar:v1").unwrap(), "docker.io/foo/bar:v1");
        assert_eq!(n("index.docker.io/x:1").unwrap(), "docker.io/library/x:1");
        assert_eq!(n("localhost:5000/a/b:t").unwrap(), "localhost:5000/a/b:t");
        assert_eq!(n("localhost/a").unwrap(), "localhost/a");
        assert_eq!(n("quay.io/a/b").unwrap(), "quay.io/a/b");
        assert!(!normalize_reference("busybox").unwrap().tagged);
        assert!(n("Busybox:1").is_err());
        assert!(n("bad:ta g").is_err());
        assert!(n(":x").is_err());
        assert!(n("a//b:1").is_err());
    }
}
