//! Parsing `transport:reference` strings for every transport skopeo knows, and the
//! policy identities derived from them.
//! OWNER: reference helper (skeleton: fields are the contract; parsing is minimal).

use std::fmt;
use std::path::PathBuf;

use ferry_reference::{Digest, Named};

use crate::error::{Error, Result};

/// `dir:PATH`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirRef {
    pub path: PathBuf,
}

/// `oci:PATH[:reference | :@index]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    pub dir: PathBuf,
    /// The `org.opencontainers.image.ref.name` to read or write.
    pub name: Option<String>,
    /// `@N`: the N-th entry of index.json (source only).
    pub index: Option<usize>,
}

/// `oci-archive:PATH[:reference | :@index]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciArchiveRef {
    pub path: PathBuf,
    pub name: Option<String>,
    pub index: Option<usize>,
}

/// `docker-archive:PATH[:docker-ref | :@index]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerArchiveRef {
    pub path: PathBuf,
    /// A tagged reference (`name:tag`), normalised.
    pub named: Option<Named>,
    /// `@N`: the N-th image of manifest.json (source only).
    pub index: Option<usize>,
}

/// `docker://[host/]repo[:tag|@digest]` (name-only references get `:latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerRef {
    pub named: Named,
}

/// `docker-daemon:name:tag` or `docker-daemon:sha256:<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerDaemonRef {
    pub named: Option<Named>,
    pub id: Option<Digest>,
}

/// `containers-storage:[[driver@]root[+runroot][:options]]{image-id|docker-ref[@image-id]}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRef {
    pub driver: Option<String>,
    pub root: Option<PathBuf>,
    pub run_root: Option<PathBuf>,
    pub options: Vec<String>,
    pub named: Option<Named>,
    pub id: Option<String>,
}

/// A parsed image reference of any transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    Dir(DirRef),
    Oci(OciRef),
    OciArchive(OciArchiveRef),
    DockerArchive(DockerArchiveRef),
    Docker(DockerRef),
    DockerDaemon(DockerDaemonRef),
    ContainersStorage(StorageRef),
    Sif(PathBuf),
    Tarball(Vec<PathBuf>),
}

/// Parses `transport:reference` (skopeo's `alltransports.ParseImageName`).
pub fn parse_image_name(s: &str) -> Result<ImageRef> {
    let Some((transport, within)) = s.split_once(':') else {
        return Err(Error::InvalidReference(format!(
            "Invalid image name {s:?}, expected colon-separated transport:reference"
        )));
    };
    match transport {
        "dir" => Ok(ImageRef::Dir(DirRef {
            path: PathBuf::from(within),
        })),
        "oci" => {
            let (dir, name) = split_path_ref(within);
            Ok(ImageRef::Oci(OciRef {
                dir,
                name,
                index: None,
            }))
        }
        "oci-archive" => {
            let (path, name) = split_path_ref(within);
            Ok(ImageRef::OciArchive(OciArchiveRef {
                path,
                name,
                index: None,
            }))
        }
        "docker-archive" => Ok(ImageRef::DockerArchive(DockerArchiveRef {
            path: PathBuf::from(within),
            named: None,
            index: None,
        })),
        _ => Err(Error::InvalidReference(format!(
            "Invalid image name {s:?}, unknown transport {transport:?}"
        ))),
    }
}

fn split_path_ref(within: &str) -> (PathBuf, Option<String>) {
    match within.split_once(':') {
        Some((p, r)) => (PathBuf::from(p), Some(r.to_string())),
        None => (PathBuf::from(within), None),
    }
}

impl ImageRef {
    pub fn transport_name(&self) -> &'static str {
        match self {
            ImageRef::Dir(_) => "dir",
            ImageRef::Oci(_) => "oci",
            ImageRef::OciArchive(_) => "oci-archive",
            ImageRef::DockerArchive(_) => "docker-archive",
            ImageRef::Docker(_) => "docker",
            ImageRef::DockerDaemon(_) => "docker-daemon",
            ImageRef::ContainersStorage(_) => "containers-storage",
            ImageRef::Sif(_) => "sif",
            ImageRef::Tarball(_) => "tarball",
        }
    }

    /// The reference without the transport prefix, as skopeo prints it.
    pub fn string_within_transport(&self) -> String {
        match self {
            ImageRef::Dir(r) => r.path.display().to_string(),
            ImageRef::Oci(r) => format!("{}:{}", r.dir.display(), r.name.as_deref().unwrap_or("")),
            _ => String::new(),
        }
    }

    /// The Docker reference the image claims, if the transport has one.
    pub fn docker_reference(&self) -> Option<&Named> {
        match self {
            ImageRef::Docker(r) => Some(&r.named),
            ImageRef::DockerArchive(r) => r.named.as_ref(),
            ImageRef::DockerDaemon(r) => r.named.as_ref(),
            ImageRef::ContainersStorage(r) => r.named.as_ref(),
            _ => None,
        }
    }

    /// The most specific policy.json scope for this image.
    pub fn policy_configuration_identity(&self) -> String {
        String::new()
    }

    /// Less specific policy scopes, most specific first.
    pub fn policy_configuration_namespaces(&self) -> Vec<String> {
        Vec::new()
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            self.transport_name(),
            self.string_within_transport()
        )
    }
}
