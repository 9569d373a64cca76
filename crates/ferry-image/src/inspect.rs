//! `inspect`: skopeo's `inspect` (cmd/skopeo/inspect.go, inspect/output.go, 1.9.3) as a
//! library call.
//!
//! Shape: the CLI fetches the top-level manifest itself (with its retries and its
//! "Error retrieving manifest for image" context), then calls [`inspect`], which returns an
//! [`InspectOutput`]:
//! - [`InspectOutput::Raw`]: `--raw` (the top-level manifest, the list if it is one) or
//!   `--config --raw` (the config blob; empty for schema1). Printed as is, no newline.
//! - [`InspectOutput::Config`]: `--config`, the config converted to image-spec's
//!   `v1.Image` (c/image `OCIConfig()`).
//! - [`InspectOutput::Image`]: skopeo's `inspect.Output` ([`InspectInfo`]).
//!
//! [`InspectOutput::json`] is exactly what skopeo prints without `--format`
//! (`json.MarshalIndent(v, "", "    ")` with Go's escaping, plus `\n`);
//! [`InspectOutput::value`] is the same data as JSON for `--format` templates (`Created`
//! stays an RFC 3339 string: parse it with `GoTime::parse` to print it like Go).
//!
//! `RepoTags` lists the repository's tags for transports that have them (`docker://`,
//! skipped with `--no-tags`), `[]` otherwise. Difference from skopeo, deliberate: OCI
//! artifacts are described (digest, layers, `ArtifactType`, `Annotations`) instead of
//! failing with "unsupported image-specific operation" (skopeo#1933).

use std::collections::BTreeMap;
use std::io::Read;

use ferry_manifest::config::{ImageConfig, OciImage};
use ferry_manifest::gojson::{self, GoTime};
use ferry_manifest::{Descriptor, ImageManifest, Manifest, ManifestError};
use ferry_reference::Digest;
use serde::Serialize;

use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::{ImageRef, ImageSource};
use crate::types::{BlobInfo, RawManifest};

/// c/image `iolimits.MaxConfigBodySize`.
const MAX_CONFIG_SIZE: u64 = 4 << 20;
/// Lists nested deeper than this are rejected (c/image has no limit; a cycle would loop).
const MAX_NESTING: usize = 8;

/// `skopeo inspect` flags that change what is produced (`--format` is the CLI's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InspectOptions {
    pub raw: bool,
    pub config: bool,
    /// `--no-tags`: accepted for the CLI; tags are never listed here (see module docs).
    pub no_tags: bool,
}

/// skopeo 1.9.3's `inspect.Output`, field order and omissions included.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectInfo {
    /// The Docker reference name without tag, for transports that have one.
    #[serde(rename = "Name", skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Only schema1 manifests carry a tag.
    #[serde(rename = "Tag", skip_serializing_if = "String::is_empty")]
    pub tag: String,
    /// Digest of the top-level manifest (the list's, for a list).
    #[serde(rename = "Digest")]
    pub digest: Digest,
    #[serde(rename = "RepoTags")]
    pub repo_tags: Vec<String>,
    #[serde(rename = "Created")]
    pub created: Option<GoTime>,
    #[serde(rename = "DockerVersion")]
    pub docker_version: String,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "Architecture")]
    pub architecture: String,
    #[serde(rename = "Os")]
    pub os: String,
    #[serde(rename = "Layers")]
    pub layers: Vec<String>,
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    /// ferry only, OCI artifacts only: `artifactType` (or the config media type).
    #[serde(rename = "ArtifactType", skip_serializing_if = "String::is_empty")]
    pub artifact_type: String,
    /// ferry only, OCI artifacts only: the manifest annotations.
    #[serde(rename = "Annotations", skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// What `inspect` produced; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub enum InspectOutput {
    Raw(Vec<u8>),
    Config(Box<OciImage>),
    Image(Box<InspectInfo>),
}

impl InspectOutput {
    /// skopeo's JSON output (`json.MarshalIndent` with 4 spaces, Go escaping, trailing
    /// newline); `None` for raw output.
    pub fn json(&self) -> Option<String> {
        let bytes = match self {
            InspectOutput::Raw(_) => return None,
            InspectOutput::Config(c) => gojson::to_vec_indent(c, "    "),
            InspectOutput::Image(i) => gojson::to_vec_indent(i, "    "),
        };
        // Serialising these structs cannot fail (string keys only, no custom errors).
        let mut text = String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned();
        text.push('\n');
        Some(text)
    }

    /// The data for `--format` templates (same keys, in order); `None` for raw output.
    pub fn value(&self) -> Option<serde_json::Value> {
        match self {
            InspectOutput::Raw(_) => None,
            InspectOutput::Config(c) => serde_json::to_value(c).ok(),
            InspectOutput::Image(i) => serde_json::to_value(i).ok(),
        }
    }

    /// Exactly the bytes skopeo writes to stdout without `--format`.
    pub fn stdout_bytes(&self) -> Vec<u8> {
        match self {
            InspectOutput::Raw(b) => b.clone(),
            other => other.json().unwrap_or_default().into_bytes(),
        }
    }
}

/// Wraps an error with skopeo's context text, keeping "not found" (exit code 2).
fn wrap(context: &str, e: impl std::fmt::Display + IsNotFound) -> Error {
    let msg = format!("{context}: {e}");
    if e.is_not_found() {
        Error::ImageNotFound(msg)
    } else {
        Error::Other(msg)
    }
}

trait IsNotFound {
    fn is_not_found(&self) -> bool;
}
impl IsNotFound for Error {
    fn is_not_found(&self) -> bool {
        Error::is_not_found(self)
    }
}
impl IsNotFound for ManifestError {
    fn is_not_found(&self) -> bool {
        false
    }
}

/// Runs `skopeo inspect` on an opened source whose top-level manifest is `top`.
/// `ctx.os/arch/variant` (or the host) choose the instance of a list.
pub fn inspect(
    image: &ImageRef,
    src: &dyn ImageSource,
    top: &RawManifest,
    ctx: &SystemContext,
    opts: &InspectOptions,
) -> Result<InspectOutput> {
    if opts.raw && !opts.config {
        return Ok(InspectOutput::Raw(top.bytes.clone()));
    }
    let (manifest, _) =
        resolve_instance(src, top, ctx).map_err(|e| wrap("Error parsing manifest for image", e))?;
    if opts.config && opts.raw {
        let blob = match manifest.config() {
            Some(c) => {
                read_config(src, c).map_err(|e| wrap("Error reading configuration blob", e))?
            }
            None => Vec::new(),
        };
        return Ok(InspectOutput::Raw(blob));
    }
    if opts.config {
        let oci = oci_config(src, &manifest)
            .map_err(|e| wrap("Error reading OCI-formatted configuration data", e))?;
        return Ok(InspectOutput::Config(Box::new(oci)));
    }
    // The tag list and the config are independent requests: fetch them at once (one
    // round trip instead of two). skopeo reads the config first, so its errors win.
    let (info, tags) = std::thread::scope(|s| {
        let tags = (!opts.no_tags).then(|| s.spawn(|| repo_tags(src)));
        let info = image_info(src, &manifest);
        let tags = tags.map(|h| {
            h.join().unwrap_or_else(|_| {
                Err(Error::Other(
                    "listing the repository's tags panicked".into(),
                ))
            })
        });
        (info, tags)
    });
    let mut info = info?;
    info.digest = ferry_manifest::digest(&top.bytes)
        .map_err(|e| wrap("Error computing manifest digest", e))?;
    if let Some(named) = image.docker_reference() {
        info.name = named.name();
    }
    if let Some(tags) = tags {
        // The library does not print: a caller wanting skopeo's warning lists the tags
        // itself (see `repo_tags`).
        let _ = info.set_repo_tags(tags?);
    }
    Ok(InspectOutput::Image(Box::new(info)))
}

/// The repository's tags for `RepoTags`, as skopeo's `inspect` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoTags {
    Listed(Vec<String>),
    /// The transport has no tags (`RepoTags` stays `[]`).
    NotApplicable,
    /// The registry refuses to list them (`DENIED`, e.g. ECR without
    /// `ecr:ListImages`, skopeo#726): skopeo warns "Registry disallows tag list
    /// retrieval; skipping" and goes on with `[]`.
    Disallowed,
}

/// Lists the tags of `src`'s repository (skopeo `docker.GetRepositoryTags` plus its
/// tolerance of a denied listing); other failures carry skopeo's context. Callers that
/// start it early (the CLI, at the same time as the manifest) pass the result to
/// [`InspectInfo::set_repo_tags`] and run [`inspect`] with `no_tags`.
pub fn repo_tags(src: &dyn ImageSource) -> Result<RepoTags> {
    match src.repo_tags() {
        Ok(Some(t)) => Ok(RepoTags::Listed(t)),
        Ok(None) => Ok(RepoTags::NotApplicable),
        Err(Error::Registry(r)) if r.has_code("DENIED") => Ok(RepoTags::Disallowed),
        Err(e) => Err(wrap("Error determining repository tags", e)),
    }
}

impl InspectInfo {
    /// Fills `RepoTags` from [`repo_tags`]; returns skopeo's warning when the registry
    /// disallowed the listing.
    pub fn set_repo_tags(&mut self, tags: RepoTags) -> Option<&'static str> {
        match tags {
            RepoTags::Listed(t) => {
                self.repo_tags = t;
                None
            }
            RepoTags::NotApplicable => None,
            RepoTags::Disallowed => Some("Registry disallows tag list retrieval; skipping"),
        }
    }
}

/// Errors of [`resolve_instance`]: source errors keep their type, the rest are messages
/// already worded like c/image's.
enum ResolveError {
    Source(Error),
    Message(String),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Source(e) => e.fmt(f),
            ResolveError::Message(m) => f.write_str(m),
        }
    }
}

impl IsNotFound for ResolveError {
    fn is_not_found(&self) -> bool {
        matches!(self, ResolveError::Source(e) if e.is_not_found())
    }
}

/// c/image `FromUnparsedImage`: parses the manifest and, for lists, follows the instance
/// for the wanted platform (nested lists included), verifying each instance's digest.
/// Returns the image manifest and its raw bytes.
fn resolve_instance(
    src: &dyn ImageSource,
    top: &RawManifest,
    ctx: &SystemContext,
) -> std::result::Result<(ImageManifest, Vec<u8>), ResolveError> {
    let msg = |s: String| ResolveError::Message(s);
    let mut current = top.clone();
    for _ in 0..MAX_NESTING {
        match ferry_manifest::parse(&current.bytes, &current.mime) {
            Ok(Manifest::Image(m)) => return Ok((m, current.bytes)),
            Ok(Manifest::List(list)) => {
                let chosen = list
                    .choose_instance(
                        ctx.os.as_deref(),
                        ctx.arch.as_deref(),
                        ctx.variant.as_deref(),
                    )
                    .map_err(|e| msg(format!("choosing image instance: {e}")))?
                    .digest
                    .clone();
                let next = src.manifest(Some(&chosen)).map_err(|e| {
                    ResolveError::Source(wrap(
                        "fetching target platform image selected from manifest list",
                        e,
                    ))
                })?;
                let matches = ferry_manifest::matches_digest(&next.bytes, &chosen)
                    .map_err(|e| msg(format!("computing manifest digest: {e}")))?;
                if !matches {
                    return Err(msg(format!(
                        "Image manifest does not match selected manifest digest {chosen}"
                    )));
                }
                current = next;
            }
            Err(e) => return Err(msg(e.to_string())),
        }
    }
    Err(msg(format!(
        "manifest lists nested more than {MAX_NESTING} levels deep"
    )))
}

/// Reads and verifies the config blob (c/image `ConfigBlob`).
fn read_config(src: &dyn ImageSource, config: &Descriptor) -> Result<Vec<u8>> {
    let size = u64::try_from(config.size).ok();
    let info = BlobInfo {
        digest: config.digest.clone(),
        size,
        media_type: Some(config.media_type.clone()),
    };
    let (reader, _) = src.blob(&info)?;
    let mut blob = Vec::new();
    reader
        .take(MAX_CONFIG_SIZE + 1)
        .read_to_end(&mut blob)
        .map_err(|e| Error::io(format!("reading config blob {}", config.digest), e))?;
    if blob.len() as u64 > MAX_CONFIG_SIZE {
        return Err(Error::Other(format!(
            "config blob {} is larger than {MAX_CONFIG_SIZE} bytes",
            config.digest
        )));
    }
    let computed = config.digest.algorithm().digest_bytes(&blob);
    if computed != config.digest {
        return Err(Error::DigestMismatch {
            digest: config.digest.clone(),
            computed,
        });
    }
    Ok(blob)
}

fn manifest_error(e: ManifestError) -> Error {
    Error::Other(e.to_string())
}

/// c/image `OCIConfig()` for each manifest type.
fn oci_config(src: &dyn ImageSource, m: &ImageManifest) -> Result<OciImage> {
    if let Some(s1) = m.schema1() {
        let diff_ids = vec![String::new(); s1.non_empty_layer_count()];
        let config = s1.to_schema2_config(&diff_ids).map_err(manifest_error)?;
        return OciImage::from_config_blob(&config).map_err(manifest_error);
    }
    let config = m
        .config()
        .ok_or_else(|| Error::Other("manifest has no config".into()))?;
    if !m.is_image() {
        return Err(manifest_error(ManifestError::NonImageArtifact(
            config.media_type.clone(),
        )));
    }
    OciImage::from_config_blob(&read_config(src, config)?).map_err(manifest_error)
}

/// c/image `Inspect()` for each manifest type (everything but Name, Digest, RepoTags).
fn image_info(src: &dyn ImageSource, m: &ImageManifest) -> Result<InspectInfo> {
    let mut info = InspectInfo {
        name: String::new(),
        tag: String::new(),
        digest: Digest::sha256_of(b""),
        repo_tags: Vec::new(),
        created: None,
        docker_version: String::new(),
        labels: None,
        architecture: String::new(),
        os: String::new(),
        layers: m
            .layers()
            .iter()
            .map(|l| l.descriptor.digest.to_string())
            .collect(),
        env: None,
        artifact_type: String::new(),
        annotations: None,
    };
    if let Some(s1) = m.schema1() {
        let v1 = s1.v1_image().map_err(manifest_error)?;
        info.tag = s1.tag.clone();
        info.created = Some(v1.created);
        info.docker_version = v1.docker_version;
        info.architecture = v1.architecture;
        info.os = v1.os;
        if let Some(c) = v1.config {
            info.labels = c.labels;
            info.env = c.env;
        }
        return Ok(info);
    }
    let config = m
        .config()
        .ok_or_else(|| Error::Other("manifest has no config".into()))?;
    if !m.is_image() {
        // skopeo fails here (skopeo#1933); describe the artifact instead.
        info.artifact_type = m.artifact_type().unwrap_or_default().to_string();
        info.annotations = m.annotations().cloned();
        return Ok(info);
    }
    let c = ImageConfig::parse(&read_config(src, config)?).map_err(manifest_error)?;
    // OCI configs may omit `created` (printed as null); Docker readers use the zero time.
    info.created = if m.mime == ferry_manifest::mime::OCI_MANIFEST {
        c.created
    } else {
        Some(c.created.unwrap_or_default())
    };
    info.labels = c.labels().cloned();
    info.env = c.env().map(<[String]>::to_vec);
    info.docker_version = c.docker_version;
    info.architecture = c.architecture;
    info.os = c.os;
    Ok(info)
}

#[cfg(test)]
mod tests;
