//! Reading one image of a docker-archive.
//!
//! `open` indexes the archive and parses manifest.json (errors there fail `open`, as in
//! c/image's `NewReaderFromFile`). Selecting the image, reading its config and sizing its
//! layers happen at open too, but — like c/image's lazy `ensureCachedDataIsPresent` —
//! their errors are reported by `manifest`/`blob`, so callers can word them as skopeo does
//! ("Error retrieving manifest for image: Unexpected tar manifest.json: expected 1 item,
//! got 3").

use std::collections::HashMap;
use std::path::Path;

use ferry_manifest::mime;
use ferry_reference::Digest;
use serde::Deserialize;

use super::{MAX_CONFIG, ManifestItem, bad, normalize_reference, read_manifest_json};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::ImageSource;
use crate::transport::reference::DockerArchiveRef;
use crate::transport::tarfile::archive::{Archive, OpenOptions, ResolveError};
use crate::transport::tarfile::compress;
use crate::transport::tarfile::index::Member;
use crate::types::{BlobInfo, BlobReader, RawManifest};

/// Which image of a multi-image archive to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSelector {
    /// The only image (an error if there are several).
    Only,
    /// The image with this RepoTag, fully qualified (`docker.io/library/busybox:latest`).
    Tag(String),
    /// `@N`: the N-th item of manifest.json.
    Index(usize),
}

/// An opened docker-archive image.
pub struct DockerArchiveSource {
    archive: Archive,
    image: std::result::Result<Image, Deferred>,
}

/// The selected image, ready to serve.
struct Image {
    config: Vec<u8>,
    config_digest: Digest,
    layers: HashMap<Digest, Layer>,
    manifest: Vec<u8>,
}

struct Layer {
    member: Member,
    compression: Option<compress::Compression>,
    size: u64,
}

/// An error kept until the image is used.
#[derive(Debug, Clone)]
struct Deferred(String);

impl Deferred {
    fn error(&self) -> Error {
        Error::Other(self.0.clone())
    }
}

#[derive(Deserialize)]
struct ConfigView {
    rootfs: Option<RootFs>,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

impl DockerArchiveSource {
    /// Opens `docker-archive:PATH[:name:tag | :@N]`.
    pub fn open(r: &DockerArchiveRef, ctx: &SystemContext) -> Result<DockerArchiveSource> {
        let selector = match (&r.named, r.index) {
            (Some(_), Some(i)) => {
                return Err(Error::InvalidReference(format!(
                    "Cannot have both a reference and a source index @{i}"
                )));
            }
            (Some(n), None) => ImageSelector::Tag(n.to_string()),
            (None, Some(i)) => ImageSelector::Index(i),
            (None, None) => ImageSelector::Only,
        };
        Self::open_path(&r.path, &selector, ctx.tmp_dir.as_deref())
    }

    /// Opens an archive by path; `tmp_dir` is where a pipe is spooled.
    pub fn open_path(
        path: &Path,
        selector: &ImageSelector,
        tmp_dir: Option<&Path>,
    ) -> Result<DockerArchiveSource> {
        let archive = Archive::open(
            path,
            &OpenOptions {
                tmp_dir: tmp_dir.map(Path::to_path_buf),
                measure_members: true,
            },
        )?;
        let items = read_manifest_json(&archive)?;
        let image = match choose(&items, selector) {
            Ok(item) => prepare(&archive, item).map_err(|e| Deferred(e.to_string())),
            Err(msg) => Err(Deferred(msg)),
        };
        Ok(DockerArchiveSource { archive, image })
    }

    fn image(&self) -> Result<&Image> {
        self.image.as_ref().map_err(Deferred::error)
    }
}

/// c/image's `ChooseManifestItem`.
fn choose<'a>(
    items: &'a [ManifestItem],
    selector: &ImageSelector,
) -> std::result::Result<&'a ManifestItem, String> {
    match selector {
        ImageSelector::Tag(wanted) => {
            for (i, item) in items.iter().enumerate() {
                for tag in item.repo_tags.as_deref().unwrap_or_default() {
                    let n = normalize_reference(tag).map_err(|e| {
                        format!("Invalid tag {tag:?} in manifest.json item @{i}: {e}")
                    })?;
                    if &n.full == wanted {
                        return Ok(item);
                    }
                }
            }
            Err(format!("Tag {wanted:?} not found"))
        }
        ImageSelector::Index(i) => items.get(*i).ok_or_else(|| {
            format!(
                "Invalid source index @{i}, only {} manifest items available",
                items.len()
            )
        }),
        ImageSelector::Only => {
            if items.len() != 1 {
                return Err(format!(
                    "Unexpected tar manifest.json: expected 1 item, got {}",
                    items.len()
                ));
            }
            Ok(&items[0])
        }
    }
}

/// Reads the config, matches layers to DiffIDs and sizes them (c/image's
/// `ensureCachedDataIsPresentPrivate` + `prepareLayerData`).
fn prepare(archive: &Archive, item: &ManifestItem) -> Result<Image> {
    let path = archive.path();
    let cfg_member = archive
        .resolve(&item.config)
        .map_err(|e| component_error(archive, &item.config, e))?;
    let config = archive.read_member(cfg_member, MAX_CONFIG)?;
    let view: ConfigView = serde_json::from_slice(&config)
        .map_err(|e| bad(path, format!("decoding tar config {}: {e}", item.config)))?;
    let rootfs = view.rootfs.ok_or_else(|| {
        bad(
            path,
            format!("Invalid image config (rootFS is not set): {}", item.config),
        )
    })?;
    let layer_paths = item.layers.as_deref().unwrap_or_default();
    if layer_paths.len() != rootfs.diff_ids.len() {
        return Err(bad(
            path,
            format!(
                "Inconsistent layer count: {} in manifest, {} in config",
                layer_paths.len(),
                rootfs.diff_ids.len()
            ),
        ));
    }
    let mut order = Vec::with_capacity(layer_paths.len());
    let mut layers: HashMap<Digest, Layer> = HashMap::new();
    let mut seen_paths: HashMap<String, Digest> = HashMap::new();
    for (diff_id, layer_path) in rootfs.diff_ids.iter().zip(layer_paths) {
        let diff_id = Digest::parse(diff_id)
            .map_err(|e| bad(path, format!("invalid DiffID in {}: {e}", item.config)))?;
        order.push(diff_id.clone());
        if layers.contains_key(&diff_id) {
            continue; // the same layer twice: one entry serves both
        }
        let clean = crate::transport::tarfile::header::clean_path(layer_path);
        if seen_paths.insert(clean.clone(), diff_id.clone()).is_some() {
            return Err(bad(
                path,
                format!("Layer tarfile {clean} used for two different DiffID values"),
            ));
        }
        let member = archive
            .resolve(layer_path)
            .map_err(|e| component_error(archive, layer_path, e))?
            .clone();
        let inner = archive.inner(&member)?;
        layers.insert(
            diff_id,
            Layer {
                member,
                compression: inner.compression,
                size: inner.size,
            },
        );
    }
    let config_digest = Digest::sha256_of(&config);
    let mut manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{}\",\"config\":{{\"mediaType\":\"{}\",\"size\":{},\"digest\":\"{}\"}},\"layers\":[",
        mime::DOCKER_V2S2,
        mime::DOCKER_CONFIG,
        config.len(),
        config_digest
    );
    for (i, d) in order.iter().enumerate() {
        let size = layers.get(d).map_or(0, |l| l.size);
        if i > 0 {
            manifest.push(',');
        }
        manifest.push_str(&format!(
            "{{\"mediaType\":\"{}\",\"size\":{size},\"digest\":\"{d}\"}}",
            mime::DOCKER_LAYER_GZIP
        ));
    }
    manifest.push_str("]}");
    Ok(Image {
        config,
        config_digest,
        layers,
        manifest: manifest.into_bytes(),
    })
}

fn component_error(archive: &Archive, name: &str, e: ResolveError) -> Error {
    match e {
        ResolveError::NotFound(_) => bad(
            archive.path(),
            format!("loading tar component {name}: file does not exist"),
        ),
        other => archive.resolve_error(other),
    }
}

impl ImageSource for DockerArchiveSource {
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest> {
        if instance.is_some() {
            return Err(Error::Unsupported(
                r#"Manifest lists are not supported by "docker-archive:""#.into(),
            ));
        }
        let image = self.image()?;
        Ok(RawManifest::new(image.manifest.clone(), mime::DOCKER_V2S2))
    }

    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        let image = self.image()?;
        if info.digest == image.config_digest {
            let config = image.config.clone();
            let len = config.len() as u64;
            return Ok((Box::new(std::io::Cursor::new(config)), Some(len)));
        }
        let Some(layer) = image.layers.get(&info.digest) else {
            return Err(Error::Other(format!("Unknown blob {}", info.digest)));
        };
        let raw = self.archive.open_member(&layer.member);
        let reader: BlobReader = match layer.compression {
            None => raw,
            Some(format) => compress::decoder(format, raw).map_err(|e| {
                Error::io(
                    format!(
                        "auto-decompressing blob {} in {}",
                        info.digest,
                        self.archive.path().display()
                    ),
                    e,
                )
            })?,
        };
        Ok((reader, Some(layer.size)))
    }
}
