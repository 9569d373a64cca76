//! Test images: an [`ImageSpec`] (platform, layers, config fields, manifest format) is
//! written into an [`OciLayout`] as layer blobs, a config and a manifest; several
//! built images can be tied together by an OCI index or a Docker manifest list.

use std::io;

use serde_json::{Map, Value, json};

use crate::layer::{LayerCompression, LayerDigests, LayerSpec, write_layer};
use crate::layout::{Descriptor, OciLayout};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// Manifest flavour of a single image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// OCI image manifest with OCI media types.
    Oci,
    /// Docker image manifest v2 schema 2 with Docker media types.
    Schema2,
}

/// Flavour of a multi-platform list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    OciIndex,
    DockerList,
}

/// `os`/`architecture`/`variant`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        }
    }
    pub fn linux_amd64() -> Platform {
        Platform::new("linux", "amd64", None)
    }
    pub fn linux_arm64_v8() -> Platform {
        Platform::new("linux", "arm64", Some("v8"))
    }
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("architecture".into(), json!(self.architecture));
        m.insert("os".into(), json!(self.os));
        if let Some(v) = &self.variant {
            m.insert("variant".into(), json!(v));
        }
        Value::Object(m)
    }
}

/// Everything that defines a test image; written by [`write_image`].
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub platform: Platform,
    pub format: ManifestFormat,
    pub layers: Vec<LayerSpec>,
    /// How layer blobs are stored.
    pub compression: LayerCompression,
    pub created: String,
    pub author: Option<String>,
    pub docker_version: Option<String>,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub labels: Vec<(String, String)>,
    /// Extra history entries without a layer (`empty_layer: true`), added after the layers.
    pub empty_layer_steps: Vec<String>,
    /// OCI manifest annotations (ignored for schema2).
    pub annotations: Vec<(String, String)>,
    /// Write the manifest indented (so that re-serializing it would change its digest).
    pub pretty_manifest: bool,
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec {
            platform: Platform::linux_amd64(),
            format: ManifestFormat::Oci,
            layers: Vec::new(),
            compression: LayerCompression::Gzip(6),
            created: "2024-01-01T00:00:00Z".to_string(),
            author: None,
            docker_version: None,
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            cmd: vec!["/bin/sh".into()],
            labels: Vec::new(),
            empty_layer_steps: Vec::new(),
            annotations: Vec::new(),
            pretty_manifest: false,
        }
    }
}

/// A written layer: its descriptor in the manifest and its digests.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    pub descriptor: Descriptor,
    pub digests: LayerDigests,
}

/// A written image.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub manifest: Descriptor,
    pub manifest_bytes: Vec<u8>,
    pub config: Descriptor,
    pub config_bytes: Vec<u8>,
    pub layers: Vec<BuiltLayer>,
    pub platform: Platform,
}

impl BuiltImage {
    /// The uncompressed layer digests, in order.
    pub fn diff_ids(&self) -> Vec<String> {
        self.layers
            .iter()
            .map(|l| l.digests.diff_id.clone())
            .collect()
    }
}

/// A written index / manifest list.
#[derive(Debug, Clone)]
pub struct BuiltIndex {
    pub manifest: Descriptor,
    pub manifest_bytes: Vec<u8>,
    pub images: Vec<BuiltImage>,
}

fn config_json(spec: &ImageSpec, diff_ids: &[String]) -> Value {
    let mut c = Map::new();
    c.insert("created".into(), json!(spec.created));
    if let Some(a) = &spec.author {
        c.insert("author".into(), json!(a));
    }
    c.insert("architecture".into(), json!(spec.platform.architecture));
    if let Some(v) = &spec.platform.variant {
        c.insert("variant".into(), json!(v));
    }
    c.insert("os".into(), json!(spec.platform.os));
    if let Some(d) = &spec.docker_version {
        c.insert("docker_version".into(), json!(d));
    }
    let labels: Map<String, Value> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    c.insert(
        "config".into(),
        json!({"Env": spec.env, "Cmd": spec.cmd, "WorkingDir": "/", "Labels": labels}),
    );
    c.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    let mut history: Vec<Value> = spec
        .layers
        .iter()
        .map(|l| json!({"created": spec.created, "created_by": l.created_by}))
        .collect();
    for step in &spec.empty_layer_steps {
        history.push(json!({"created": spec.created, "created_by": step, "empty_layer": true}));
    }
    c.insert("history".into(), Value::Array(history));
    Value::Object(c)
}

fn to_bytes(v: &Value, pretty: bool) -> io::Result<Vec<u8>> {
    Ok(if pretty {
        serde_json::to_vec_pretty(v)?
    } else {
        serde_json::to_vec(v)?
    })
}

/// Writes the layers, config and manifest of `spec` as blobs of `layout` (the index
/// is not touched: see [`OciLayout::add_to_index`]).
pub fn write_image(layout: &OciLayout, spec: &ImageSpec) -> io::Result<BuiltImage> {
    let (manifest_type, config_type, gz_type, tar_type) = match spec.format {
        ManifestFormat::Oci => (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR),
        ManifestFormat::Schema2 => (
            DOCKER_MANIFEST,
            DOCKER_CONFIG,
            DOCKER_LAYER_GZIP,
            DOCKER_LAYER_TAR,
        ),
    };
    let layer_type = match spec.compression {
        LayerCompression::Gzip(_) => gz_type,
        LayerCompression::None => tar_type,
    };
    let mut layers = Vec::new();
    for l in &spec.layers {
        let (digests, digest, size) =
            layout.put_blob_with(|w| write_layer(l, spec.compression, w))?;
        debug_assert_eq!(
            (digest.as_str(), size),
            (digests.digest.as_str(), digests.size)
        );
        layers.push(BuiltLayer {
            descriptor: Descriptor {
                media_type: layer_type.to_string(),
                digest,
                size,
            },
            digests,
        });
    }
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digests.diff_id.clone()).collect();
    let config_bytes = serde_json::to_vec(&config_json(spec, &diff_ids))?;
    let (cd, cs) = layout.put_blob(&config_bytes)?;
    let config = Descriptor {
        media_type: config_type.to_string(),
        digest: cd,
        size: cs,
    };

    let mut m = Map::new();
    m.insert("schemaVersion".into(), json!(2));
    m.insert("mediaType".into(), json!(manifest_type));
    m.insert("config".into(), config.to_json());
    m.insert(
        "layers".into(),
        Value::Array(layers.iter().map(|l| l.descriptor.to_json()).collect()),
    );
    if spec.format == ManifestFormat::Oci && !spec.annotations.is_empty() {
        let a: Map<String, Value> = spec
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        m.insert("annotations".into(), Value::Object(a));
    }
    let manifest_bytes = to_bytes(&Value::Object(m), spec.pretty_manifest)?;
    let (md, ms) = layout.put_blob(&manifest_bytes)?;
    Ok(BuiltImage {
        manifest: Descriptor {
            media_type: manifest_type.to_string(),
            digest: md,
            size: ms,
        },
        manifest_bytes,
        config,
        config_bytes,
        layers,
        platform: spec.platform.clone(),
    })
}

/// Writes an index (or Docker manifest list) over already written images.
pub fn write_index(
    layout: &OciLayout,
    format: ListFormat,
    images: Vec<BuiltImage>,
    annotations: &[(String, String)],
) -> io::Result<BuiltIndex> {
    let media_type = match format {
        ListFormat::OciIndex => OCI_INDEX,
        ListFormat::DockerList => DOCKER_LIST,
    };
    let manifests: Vec<Value> = images
        .iter()
        .map(|i| {
            let mut d = i.manifest.to_json();
            d["platform"] = i.platform.to_json();
            d
        })
        .collect();
    let mut m = Map::new();
    m.insert("schemaVersion".into(), json!(2));
    m.insert("mediaType".into(), json!(media_type));
    m.insert("manifests".into(), Value::Array(manifests));
    if format == ListFormat::OciIndex && !annotations.is_empty() {
        let a: Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        m.insert("annotations".into(), Value::Object(a));
    }
    let manifest_bytes = serde_json::to_vec(&Value::Object(m))?;
    let (d, s) = layout.put_blob(&manifest_bytes)?;
    Ok(BuiltIndex {
        manifest: Descriptor {
            media_type: media_type.to_string(),
            digest: d,
            size: s,
        },
        manifest_bytes,
        images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::sha256_bytes;
    use crate::layer::{Content, Entry};

    #[test]
    fn manifest_and_config_are_consistent() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let l = OciLayout::create(t.path())?;
        let spec = ImageSpec {
            layers: vec![
                LayerSpec::new("a", vec![Entry::file("a", Content::text("a"))]),
                LayerSpec::new("b", vec![Entry::file("b", Content::text("b"))]),
            ],
            pretty_manifest: true,
            ..ImageSpec::default()
        };
        let img = write_image(&l, &spec)?;
        assert_eq!(img.manifest.digest, sha256_bytes(&img.manifest_bytes));
        assert_eq!(l.read_blob(&img.manifest.digest)?, img.manifest_bytes);
        let m: Value = serde_json::from_slice(&img.manifest_bytes)?;
        assert_eq!(m["layers"].as_array().map(Vec::len), Some(2));
        assert_eq!(m["config"]["digest"], json!(img.config.digest));
        let c: Value = serde_json::from_slice(&l.read_blob(&img.config.digest)?)?;
        assert_eq!(c["rootfs"]["diff_ids"], json!(img.diff_ids()));
        for layer in &img.layers {
            let blob = l.read_blob(&layer.descriptor.digest)?;
            assert_eq!(sha256_bytes(&blob), layer.descriptor.digest);
        }
        let idx = write_index(&l, ListFormat::OciIndex, vec![img], &[])?;
        let v: Value = serde_json::from_slice(&idx.manifest_bytes)?;
        assert_eq!(
            v["manifests"][0]["platform"]["architecture"],
            json!("amd64")
        );
        Ok(())
    }
}
