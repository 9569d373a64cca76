//! Parsing `transport:reference` strings for every transport skopeo knows, and the
//! policy identities derived from them.
//!
//! Syntax, error texts, `StringWithinTransport` and policy scopes follow skopeo 1.9.3
//! (containers/image 5.23), checked against `/usr/bin/skopeo`. Extensions over 1.9.3:
//! `oci:`/`oci-archive:` accept `PATH:@N` (source index, as newer skopeo does).
//! Path-based references (`dir:`, `oci:`, `oci-archive:`, `sif:`) are resolved to an
//! absolute, symlink-free path at parse time; the parent directory must exist.

mod paths;
mod storage;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use ferry_reference::{Digest, Named, validate_go_digest};

use crate::error::{Error, Result};

/// `dir:PATH`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirRef {
    /// The path as given.
    pub path: PathBuf,
    /// Absolute, symlink-free form of `path` (the policy identity).
    pub resolved: PathBuf,
}

/// `oci:PATH[:reference | :@index]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// The layout directory as given.
    pub dir: PathBuf,
    /// The `org.opencontainers.image.ref.name` to read or write.
    pub name: Option<String>,
    /// `@N`: the N-th entry of index.json (source only).
    pub index: Option<usize>,
    /// Absolute, symlink-free form of `dir` (the policy identity).
    pub resolved_dir: PathBuf,
}

/// `oci-archive:PATH[:reference | :@index]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciArchiveRef {
    /// The archive path as given.
    pub path: PathBuf,
    pub name: Option<String>,
    pub index: Option<usize>,
    /// Absolute, symlink-free form of `path` (the policy identity).
    pub resolved: PathBuf,
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
    /// Normalised, with `:latest` added when it had neither tag nor digest.
    pub named: Option<Named>,
    /// A full image ID (64 hex characters, no algorithm).
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
    /// The path as given (resolved again for policy scopes).
    Sif(PathBuf),
    /// The files as given; `-` is stdin.
    Tarball(Vec<PathBuf>),
}

/// The transport names `parse_image_name` accepts, as skopeo 1.9.3 lists them.
pub const TRANSPORT_NAMES: &[&str] = &[
    "containers-storage",
    "dir",
    "docker",
    "docker-archive",
    "docker-daemon",
    "oci",
    "oci-archive",
    "ostree",
    "sif",
    "tarball",
];

/// Parses `transport:reference` (skopeo's `alltransports.ParseImageName`).
pub fn parse_image_name(s: &str) -> Result<ImageRef> {
    let Some((transport, within)) = s.split_once(':') else {
        return Err(invalid(format!(
            "Invalid image name \"{s}\", expected colon-separated transport:reference"
        )));
    };
    let r = match transport {
        "dir" => parse_dir(within),
        "oci" => parse_oci(within).map(ImageRef::Oci),
        "oci-archive" => parse_oci(within).map(|o| {
            ImageRef::OciArchive(OciArchiveRef {
                path: o.dir,
                name: o.name,
                index: o.index,
                resolved: o.resolved_dir,
            })
        }),
        "docker-archive" => parse_docker_archive(within),
        "docker" => parse_docker(within),
        "docker-daemon" => parse_docker_daemon(within),
        "containers-storage" => storage::parse(within).map(ImageRef::ContainersStorage),
        "sif" => paths::resolve_path_to_fully_explicit(within)
            .map(|_| ImageRef::Sif(PathBuf::from(within))),
        "tarball" => parse_tarball(within),
        "ostree" => Err("The transport \"ostree:\" is not supported in this build".to_string()),
        _ => Err(format!(
            "Invalid image name \"{s}\", unknown transport \"{transport}\""
        )),
    };
    r.map_err(invalid)
}

fn invalid(msg: String) -> Error {
    Error::InvalidReference(msg)
}

fn parse_dir(within: &str) -> Result<ImageRef, String> {
    let resolved = paths::resolve_path_to_fully_explicit(within)?;
    Ok(ImageRef::Dir(DirRef {
        path: PathBuf::from(within),
        resolved,
    }))
}

/// `oci:` and `oci-archive:`: the path ends at the first ':'.
fn parse_oci(within: &str) -> Result<OciRef, String> {
    let (dir, image) = within.split_once(':').unwrap_or((within, ""));
    let mut index = None;
    if let Some(n) = image.strip_prefix('@') {
        let i =
            go_atoi(n).map_err(|e| format!("Invalid source index @{n}: not an integer: {e}"))?;
        index = Some(non_negative_index(i)?);
    }
    let resolved_dir = paths::resolve_path_to_fully_explicit(dir)?;
    let name = if index.is_some() || image.is_empty() {
        None
    } else {
        if !is_oci_ref_name(image) {
            return Err(format!("Invalid image {image}"));
        }
        Some(image.to_string())
    };
    Ok(OciRef {
        dir: PathBuf::from(dir),
        name,
        index,
        resolved_dir,
    })
}

fn non_negative_index(i: i64) -> Result<usize, String> {
    usize::try_from(i).map_err(|_| format!("Invalid source index @{i}: must not be negative"))
}

/// The OCI `ref.name` grammar containers/image accepts:
/// `component(/component)*`, component = `[A-Za-z0-9]+` joined by one of `-._:@+` or `--`.
fn is_oci_ref_name(s: &str) -> bool {
    s.split('/').all(|c| {
        let b = c.as_bytes();
        if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric()
        {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let sep = &c[start..i];
            if !(sep == "--" || sep.len() == 1 && "-._:@+".contains(sep)) {
                return false;
            }
        }
        true
    })
}

fn parse_docker_archive(within: &str) -> Result<ImageRef, String> {
    if within.is_empty() {
        return Err(format!(
            "docker-archive reference {within} isn't of the form <path>[:<reference>]"
        ));
    }
    let (path, rest) = match within.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (within, None),
    };
    let mut r = DockerArchiveRef {
        path: PathBuf::from(path),
        named: None,
        index: None,
    };
    match rest {
        None => {}
        Some(rest) if rest.starts_with('@') => {
            let n = &rest[1..];
            let i = go_atoi(n).map_err(|e| format!("Invalid source index @{n}: {e}"))?;
            r.index = Some(non_negative_index(i)?);
        }
        Some(rest) => {
            let named = Named::parse_normalized(rest)
                .map_err(|e| format!("docker-archive parsing reference: {e}"))?
                .tag_name_only();
            if named.tag().is_none() {
                return Err(format!("reference does not include a tag: {named}"));
            }
            if named.digest().is_some() {
                return Err(format!(
                    "docker-archive doesn't support digest references: {named}"
                ));
            }
            r.named = Some(named);
        }
    }
    Ok(ImageRef::DockerArchive(r))
}

fn parse_docker(within: &str) -> Result<ImageRef, String> {
    let Some(name) = within.strip_prefix("//") else {
        return Err(format!(
            "docker: image reference {within} does not start with //"
        ));
    };
    let named = Named::parse_normalized(name)
        .map_err(|e| e.to_string())?
        .tag_name_only();
    if named.tag().is_some() && named.digest().is_some() {
        return Err(
            "Docker references with both a tag and digest are currently not supported".into(),
        );
    }
    Ok(ImageRef::Docker(DockerRef { named }))
}

fn parse_docker_daemon(within: &str) -> Result<ImageRef, String> {
    // `algo:hex` is structurally a `name:tag`; a valid digest wins.
    if validate_go_digest(within).is_ok() {
        return match Digest::parse(within) {
            Ok(id) if within.starts_with("sha256:") => {
                Ok(ImageRef::DockerDaemon(DockerDaemonRef {
                    named: None,
                    id: Some(id),
                }))
            }
            _ => Err(format!(
                "Invalid docker-daemon: reference {within}: only digest algorithm sha256 accepted"
            )),
        };
    }
    let named = Named::parse_normalized(within).map_err(|e| e.to_string())?;
    if named.familiar_name() == "sha256" {
        return Err(format!(
            "Invalid docker-daemon: reference {within}: The sha256 repository name is reserved for (non-shortened) digest references"
        ));
    }
    if named.is_name_only() {
        return Err(format!(
            "docker-daemon: reference {} has neither a tag nor a digest",
            named.familiar_string()
        ));
    }
    if named.tag().is_some() && named.digest().is_some() {
        return Err(
            "docker-daemon: references with both a tag and digest are currently not supported"
                .into(),
        );
    }
    Ok(ImageRef::DockerDaemon(DockerDaemonRef {
        named: Some(named),
        id: None,
    }))
}

/// `tarball:` opens every file at parse time (except `-`, stdin), like skopeo.
fn parse_tarball(within: &str) -> Result<ImageRef, String> {
    let files: Vec<&str> = within.split(':').collect();
    for f in &files {
        if *f == "-" {
            continue;
        }
        if let Err(e) = std::fs::File::open(f) {
            return Err(format!(
                "error opening \"{f}\": open {f}: {}",
                paths::go_error_text(&e)
            ));
        }
    }
    Ok(ImageRef::Tarball(
        files.into_iter().map(PathBuf::from).collect(),
    ))
}

/// Go's `strconv.Atoi`, with its error texts.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {s:?}: invalid syntax"));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: value out of range"))
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

    /// The reference without the transport prefix, as skopeo prints it
    /// (`oci:` always has the `:`, even without a name: `oci:/x:`).
    pub fn string_within_transport(&self) -> String {
        match self {
            ImageRef::Dir(r) => r.path.display().to_string(),
            ImageRef::Oci(r) => path_and_name(&r.dir, r.name.as_deref(), r.index),
            ImageRef::OciArchive(r) => path_and_name(&r.path, r.name.as_deref(), r.index),
            ImageRef::DockerArchive(r) => match (&r.named, r.index) {
                (Some(n), _) => format!("{}:{n}", r.path.display()),
                (None, Some(i)) => format!("{}:@{i}", r.path.display()),
                (None, None) => r.path.display().to_string(),
            },
            ImageRef::Docker(r) => format!("//{}", r.named.familiar_string()),
            ImageRef::DockerDaemon(r) => match (&r.id, &r.named) {
                (Some(id), _) => id.to_string(),
                (None, Some(n)) => n.familiar_string(),
                (None, None) => String::new(),
            },
            ImageRef::ContainersStorage(r) => r.string_within_transport(),
            ImageRef::Sif(p) => p.display().to_string(),
            ImageRef::Tarball(files) => files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(":"),
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

    /// The most specific policy.json scope for this image (`""` = only the transport's
    /// default scope applies).
    pub fn policy_configuration_identity(&self) -> String {
        match self {
            ImageRef::Docker(r) => r.named.policy_identity(),
            ImageRef::DockerDaemon(r) => r
                .named
                .as_ref()
                .map(Named::policy_identity)
                .unwrap_or_default(),
            ImageRef::Dir(r) => r.resolved.display().to_string(),
            ImageRef::Oci(r) => r.resolved_dir.display().to_string(),
            ImageRef::OciArchive(r) => r.resolved.display().to_string(),
            ImageRef::Sif(p) => resolve_lossy(p).display().to_string(),
            ImageRef::ContainersStorage(r) => r.policy_configuration_identity(),
            ImageRef::DockerArchive(_) | ImageRef::Tarball(_) => String::new(),
        }
    }

    /// Less specific policy scopes, most specific first.
    pub fn policy_configuration_namespaces(&self) -> Vec<String> {
        match self {
            ImageRef::Docker(r) => r.named.policy_namespaces(),
            ImageRef::DockerDaemon(r) => r
                .named
                .as_ref()
                .map(Named::policy_namespaces)
                .unwrap_or_default(),
            ImageRef::Dir(r) => paths::parent_namespaces(&r.resolved),
            ImageRef::Sif(p) => paths::parent_namespaces(&resolve_lossy(p)),
            ImageRef::Oci(r) => paths::self_and_parent_namespaces(&r.resolved_dir),
            ImageRef::OciArchive(r) => paths::self_and_parent_namespaces(&r.resolved),
            ImageRef::ContainersStorage(r) => r.policy_configuration_namespaces(),
            ImageRef::DockerArchive(_) | ImageRef::Tarball(_) => Vec::new(),
        }
    }
}

fn path_and_name(path: &std::path::Path, name: Option<&str>, index: Option<usize>) -> String {
    match index {
        Some(i) => format!("{}:@{i}", path.display()),
        None => format!("{}:{}", path.display(), name.unwrap_or("")),
    }
}

/// The resolved path, or the path as given if it can no longer be resolved.
fn resolve_lossy(p: &std::path::Path) -> PathBuf {
    let s = p.display().to_string();
    paths::resolve_path_to_fully_explicit(&s).unwrap_or_else(|_| p.to_path_buf())
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
