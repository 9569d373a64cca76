//! Sniffing, digesting and parsing raw manifest bytes (c/image `manifest.GuessMIMEType`,
//! `NormalizedMIMEType`, `Digest`, `FromBlob` and `ValidateUnambiguousManifestFormat`).

use std::collections::BTreeMap;

use ferry_reference::{Algorithm, Digest};
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::gojson;
use crate::mime::{
    DOCKER_CONFIG, DOCKER_V2_LIST, DOCKER_V2S1, DOCKER_V2S1_SIGNED, DOCKER_V2S2, OCI_CONFIG,
    OCI_INDEX, OCI_MANIFEST,
};
use crate::{ImageManifest, ManifestError, ManifestList};

/// A parsed manifest: a single image, or a list of instances.
#[derive(Debug, Clone)]
pub enum Manifest {
    Image(ImageManifest),
    List(ManifestList),
}

impl Manifest {
    /// The (normalised) MIME type the manifest was parsed as.
    pub fn mime(&self) -> &str {
        match self {
            Manifest::Image(m) => &m.mime,
            Manifest::List(l) => &l.mime,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Meta {
    #[serde(rename = "mediaType")]
    media_type: String,
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
    signatures: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfigMediaType {
    #[serde(rename = "mediaType")]
    media_type: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OciMan {
    config: ConfigMediaType,
}

/// The shape of image-spec's `Descriptor`, only to reproduce Go's type checks.
#[derive(Deserialize, Default)]
#[serde(default)]
#[allow(dead_code)]
struct LooseDescriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: i64,
    urls: Vec<String>,
    annotations: BTreeMap<String, String>,
    data: String,
    platform: Option<LoosePlatform>,
    #[serde(rename = "artifactType")]
    artifact_type: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
#[allow(dead_code)]
struct LoosePlatform {
    architecture: String,
    os: String,
    #[serde(rename = "os.version")]
    os_version: String,
    #[serde(rename = "os.features")]
    os_features: Vec<String>,
    variant: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OciIndexShape {
    manifests: Vec<LooseDescriptor>,
}

/// c/image `manifest.GuessMIMEType`: the MIME type from the manifest content, `""` if
/// unknown.
///
/// One deliberate difference: for an index-like document whose `config.mediaType` is an
/// unknown type, Go returns that config media type (a known FIXME in c/image); this
/// returns `""`. Both normalise to schema1 and fail to parse the same way.
pub fn guess_mime_type(bytes: &[u8]) -> &'static str {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return "";
    };
    let Ok(meta) = gojson::from_value::<Meta>(&value) else {
        return "";
    };
    match meta.media_type.as_str() {
        DOCKER_V2S2 => return DOCKER_V2S2,
        DOCKER_V2_LIST => return DOCKER_V2_LIST,
        OCI_MANIFEST => return OCI_MANIFEST,
        OCI_INDEX => return OCI_INDEX,
        _ => {}
    }
    match meta.schema_version {
        1 if meta.signatures.is_some() => DOCKER_V2S1_SIGNED,
        1 => DOCKER_V2S1,
        2 => {
            let Ok(oci) = gojson::from_value::<OciMan>(&value) else {
                return "";
            };
            match oci.config.media_type.as_str() {
                OCI_CONFIG => return OCI_MANIFEST,
                DOCKER_CONFIG => return DOCKER_V2S2,
                _ => {}
            }
            let Ok(index) = gojson::from_value::<OciIndexShape>(&value) else {
                return "";
            };
            if !index.manifests.is_empty() {
                if oci.config.media_type.is_empty() {
                    return OCI_INDEX;
                }
                return "";
            }
            // Most likely an OCI artifact with a custom config media type.
            OCI_MANIFEST
        }
        _ => "",
    }
}

/// c/image `NormalizedMIMEType`: known manifest types map to themselves,
/// `application/json` and anything unknown to schema1 (signed), as registries serving
/// schema1 with odd content types require.
pub fn normalize_mime_type(mime: &str) -> &str {
    match mime {
        DOCKER_V2S1 | DOCKER_V2S1_SIGNED | OCI_MANIFEST | OCI_INDEX | DOCKER_V2S2
        | DOCKER_V2_LIST => mime,
        _ => DOCKER_V2S1_SIGNED,
    }
}

/// Whether `mime` is one of the six manifest types.
pub fn is_known_manifest_type(mime: &str) -> bool {
    crate::mime::ALL_MANIFEST_TYPES.contains(&mime)
}

/// The bytes a manifest digest is computed over: schema1 signed manifests without their
/// JWS signatures, everything else as is.
pub fn digest_payload(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, ManifestError> {
    if guess_mime_type(bytes) == DOCKER_V2S1_SIGNED {
        Ok(crate::schema1::signed_payload(bytes)?.into())
    } else {
        Ok(bytes.into())
    }
}

/// The manifest digest (c/image `manifest.Digest`: sha256; schema1 signatures stripped).
pub fn digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
    digest_with(bytes, Algorithm::Sha256)
}

/// The manifest digest with a chosen algorithm.
pub fn digest_with(bytes: &[u8], algorithm: Algorithm) -> Result<Digest, ManifestError> {
    Ok(algorithm.digest_bytes(&digest_payload(bytes)?))
}

/// Whether the manifest matches `expected` (computed with `expected`'s algorithm).
pub fn matches_digest(bytes: &[u8], expected: &Digest) -> Result<bool, ManifestError> {
    Ok(digest_with(bytes, expected.algorithm())? == *expected)
}

/// Parses raw bytes of the given MIME type. An empty or unknown MIME type (registries
/// serve schema1 as `application/json` or `text/plain`) is replaced by the type sniffed
/// from the content; content that sniffs as nothing is an `UnsupportedType` error (c/image
/// would try schema1 and fail with a less helpful message).
pub fn parse(bytes: &[u8], mime: &str) -> Result<Manifest, ManifestError> {
    let mime = if is_known_manifest_type(mime) {
        mime
    } else {
        match guess_mime_type(bytes) {
            "" if mime.is_empty() => {
                return Err(ManifestError::UnsupportedType(
                    "(content not recognised as a manifest)".into(),
                ));
            }
            "" => return Err(ManifestError::UnsupportedType(mime.to_string())),
            guessed => guessed,
        }
    };
    match mime {
        DOCKER_V2_LIST | OCI_INDEX => Ok(Manifest::List(ManifestList::parse(bytes, mime)?)),
        _ => Ok(Manifest::Image(ImageManifest::parse(bytes, mime)?)),
    }
}

/// Top-level fields a manifest type may contain (c/image `AllowedManifestFields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields(u8);

impl Fields {
    pub const CONFIG: Fields = Fields(1);
    pub const FS_LAYERS: Fields = Fields(2);
    pub const HISTORY: Fields = Fields(4);
    pub const LAYERS: Fields = Fields(8);
    pub const MANIFESTS: Fields = Fields(16);
    fn has(self, f: Fields) -> bool {
        self.0 & f.0 != 0
    }
}

impl std::ops::BitOr for Fields {
    type Output = Fields;
    fn bitor(self, rhs: Fields) -> Fields {
        Fields(self.0 | rhs.0)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Detected {
    config: Option<IgnoredAny>,
    #[serde(rename = "fsLayers")]
    fs_layers: Option<IgnoredAny>,
    history: Option<IgnoredAny>,
    layers: Option<IgnoredAny>,
    manifests: Option<IgnoredAny>,
}

/// c/image `ValidateUnambiguousManifestFormat`: rejects manifests carrying top-level
/// fields of another manifest type (also under case-insensitive matching).
pub fn validate_unambiguous(
    bytes: &[u8],
    expected_mime: &str,
    allowed: Fields,
) -> Result<(), ManifestError> {
    let d: Detected = gojson::from_slice(bytes)?;
    let mut unexpected = Vec::new();
    for (present, field, name) in [
        (d.config.is_some(), Fields::CONFIG, "config"),
        (d.fs_layers.is_some(), Fields::FS_LAYERS, "fsLayers"),
        (d.history.is_some(), Fields::HISTORY, "history"),
        (d.layers.is_some(), Fields::LAYERS, "layers"),
        (d.manifests.is_some(), Fields::MANIFESTS, "manifests"),
    ] {
        if present && !allowed.has(field) {
            unexpected.push(format!("{name:?}"));
        }
    }
    if unexpected.is_empty() {
        Ok(())
    } else {
        Err(ManifestError::Invalid(format!(
            "rejecting ambiguous manifest, unexpected fields []string{{{}}} in supposedly {expected_mime}",
            unexpected.join(", ")
        )))
    }
}
