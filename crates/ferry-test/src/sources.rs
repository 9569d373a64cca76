//! The four local transports under test and the [`Sources`] of a fixture: the same
//! image in each transport's form, written by the harness, as reference strings.

use std::io;
use std::path::{Path, PathBuf};

use crate::export::{to_dir, to_docker_archive, to_oci_archive};
use crate::fixtures::{self, Fixture, Kind, TAG};

/// The repo tag the harness's docker-archive sources carry.
pub const ARCHIVE_REPO_TAG: &str = "docker.io/library/ferry-test:latest";

/// A local transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Dir,
    Oci,
    OciArchive,
    DockerArchive,
}

impl Transport {
    pub const ALL: [Transport; 4] = [
        Transport::Dir,
        Transport::Oci,
        Transport::OciArchive,
        Transport::DockerArchive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Transport::Dir => "dir",
            Transport::Oci => "oci",
            Transport::OciArchive => "oci-archive",
            Transport::DockerArchive => "docker-archive",
        }
    }

    /// Whether the destination can hold a multi-platform list (`copy --all`).
    pub fn supports_lists(self) -> bool {
        self != Transport::DockerArchive
    }

    /// Whether the transport is a single file (an archive).
    pub fn is_archive(self) -> bool {
        matches!(self, Transport::OciArchive | Transport::DockerArchive)
    }

    /// `transport:path[:name]` (`name` is ignored for `dir:`).
    pub fn reference(self, path: &Path, name: Option<&str>) -> String {
        let mut s = format!("{}:{}", self.name(), path.display());
        if let (Some(n), false) = (name, self == Transport::Dir) {
            s.push(':');
            s.push_str(n);
        }
        s
    }

    /// A conventional location for this transport's form under `dir`.
    pub fn path_in(self, dir: &Path, stem: &str) -> PathBuf {
        if self.is_archive() {
            dir.join(format!("{stem}.tar"))
        } else {
            dir.join(stem)
        }
    }
}

/// Whether a fixture exists in a transport's form: Docker schema 2 images cannot be
/// stored in OCI layouts (skopeo reads only OCI manifests from `index.json`), so the
/// `schema2` fixture has `dir:` and `docker-archive:` sources only.
pub fn source_available(kind: Kind, t: Transport) -> bool {
    !(kind == Kind::Schema2 && matches!(t, Transport::Oci | Transport::OciArchive))
}

/// A fixture and its forms, under one directory.
#[derive(Debug)]
pub struct Sources {
    pub fixture: Fixture,
    root: PathBuf,
}

impl Sources {
    /// Builds the fixture (its OCI layout) under `root`.
    pub fn build(kind: Kind, root: &Path) -> io::Result<Sources> {
        let fixture = fixtures::build(kind, &root.join(format!("{}-layout", kind.name())))?;
        Ok(Sources {
            fixture,
            root: root.to_path_buf(),
        })
    }

    /// The reference of the fixture in transport `t`, writing that form on first use.
    /// docker-archive holds the host (amd64) instance of a list.
    pub fn source(&self, t: Transport) -> io::Result<String> {
        let f = &self.fixture;
        let path = t.path_in(&self.root, &format!("{}-src-{}", f.kind.name(), t.name()));
        if !path.exists() {
            if !source_available(f.kind, t) {
                return Err(io::Error::other(format!(
                    "the {} fixture has no {} form",
                    f.kind.name(),
                    t.name()
                )));
            }
            match t {
                Transport::Dir => to_dir(&f.layout, &f.top.digest, &path)?,
                Transport::Oci => return Ok(t.reference(f.layout.root(), Some(TAG))),
                Transport::OciArchive => to_oci_archive(&f.layout, &path)?,
                Transport::DockerArchive => to_docker_archive(
                    &f.layout,
                    &f.host_image().manifest.digest,
                    &[ARCHIVE_REPO_TAG],
                    &path,
                )?,
            }
        }
        Ok(t.reference(
            &path,
            if t == Transport::OciArchive {
                Some(TAG)
            } else {
                None
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let p = Path::new("/x/y");
        assert_eq!(Transport::Dir.reference(p, Some("t")), "dir:/x/y");
        assert_eq!(Transport::Oci.reference(p, Some("t")), "oci:/x/y:t");
        assert_eq!(
            Transport::DockerArchive.reference(p, None),
            "docker-archive:/x/y"
        );
    }

    #[test]
    fn every_available_source_is_written() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        for k in Kind::ALL {
            let s = Sources::build(k, t.path())?;
            for tr in Transport::ALL {
                assert_eq!(
                    s.source(tr).is_ok(),
                    source_available(k, tr),
                    "{k:?} {tr:?}"
                );
            }
        }
        Ok(())
    }
}
