//! Destination references. `docker`: `DEST/<suffix>` as `docker://`. `dir`: `DEST/<suffix>`
//! as a `dir:` image, updated in place when it exists (skopeo refuses existing
//! directories). `oci`: one OCI layout per repository, `DEST/<repo-suffix>`, with each tag
//! as an `org.opencontainers.image.ref.name` (digest references become unnamed entries):
//! blobs are stored once per repository, and hard-linked between repositories of a run.

use std::path::{Path, PathBuf};

use ferry_reference::{Digest, Named};

use super::DestKind;
use super::naming::split_tag;
use super::source::resolve;
use crate::error::{Error, Result};
use crate::transport::reference::{DirRef, OciRef};
use crate::transport::{ImageRef, parse_image_name};

/// Where one image goes.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Docker(Named),
    Dir(PathBuf),
    /// `name` is `None` for a digest reference.
    Oci {
        layout: PathBuf,
        name: Option<String>,
        digest: Option<Digest>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Dest {
    pub target: Target,
    pub image: ImageRef,
    /// The destination repository (grouping for prune).
    pub repo_key: String,
    /// The destination tag, if any.
    pub tag: Option<String>,
}

impl Dest {
    /// The destination for the string `s` (`Join(DEST, suffix) + append_suffix`). Outside
    /// `dry_run`, parent directories of file destinations are created.
    pub fn new(kind: DestKind, s: &str, dry_run: bool) -> Result<Dest> {
        match kind {
            DestKind::Docker => {
                let image = parse_image_name(&format!("docker://{s}")).map_err(|e| {
                    Error::InvalidReference(format!(
                        "Cannot obtain a valid image reference for transport \"docker\" and reference \"//{s}\": {e}"
                    ))
                })?;
                let ImageRef::Docker(r) = &image else {
                    return Err(Error::Other(format!("not a docker reference: {s}")));
                };
                let named = r.named.clone();
                Ok(Dest {
                    repo_key: named.name(),
                    tag: named.tag().map(str::to_string),
                    target: Target::Docker(named),
                    image,
                })
            }
            DestKind::Dir => {
                let path = PathBuf::from(s);
                if !dry_run {
                    create_parent(&path)?;
                }
                let (repo, tag) = split_tag(s);
                Ok(Dest {
                    image: ImageRef::Dir(DirRef {
                        resolved: resolve(&path),
                        path: path.clone(),
                    }),
                    target: Target::Dir(path),
                    repo_key: repo.to_string(),
                    tag: tag.filter(|(c, _)| *c == ':').map(|(_, t)| t.to_string()),
                })
            }
            DestKind::Oci => {
                let (layout, rest) = split_tag(s);
                let (name, digest) = match rest {
                    Some((':', t)) => (Some(t.to_string()), None),
                    Some((_, d)) => (
                        None,
                        Some(Digest::parse(d).map_err(|e| {
                            Error::InvalidReference(format!("invalid digest in {s}: {e}"))
                        })?),
                    ),
                    None => (Some("latest".to_string()), None),
                };
                let layout = PathBuf::from(layout);
                if !dry_run {
                    create_parent(&layout)?;
                }
                Ok(Dest {
                    image: ImageRef::Oci(OciRef {
                        dir: layout.clone(),
                        name: name.clone(),
                        index: None,
                        resolved_dir: resolve(&layout),
                    }),
                    repo_key: layout.display().to_string(),
                    tag: name.clone(),
                    target: Target::Oci {
                        layout,
                        name,
                        digest,
                    },
                })
            }
        }
    }
}

fn create_parent(p: &Path) -> Result<()> {
    if let Some(parent) = p.parent()
        && !parent.as_os_str().is_empty()
    {
        fs_err::create_dir_all(parent)?;
    }
    Ok(())
}
