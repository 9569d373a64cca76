//! OCI image manifests and indexes: wire structs in image-spec's field order (v1.1:
//! `artifactType` and `subject` are written only when present, so documents without them
//! serialise exactly as skopeo 1.9.3's image-spec 1.1.0-rc2 does).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Descriptor;

fn none_or_empty<K, V>(m: &Option<BTreeMap<K, V>>) -> bool {
    m.as_ref().is_none_or(BTreeMap::is_empty)
}

/// image-spec `v1.Manifest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciManifestWire {
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub artifact_type: String,
    pub config: Descriptor,
    /// `None` = JSON `null`/absent (written back as `null`, like Go's nil slice).
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "none_or_empty")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// image-spec `v1.Index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciIndexWire {
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub artifact_type: String,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "none_or_empty")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// Drops the Docker-only `features` of a platform: OCI has no such field.
pub(crate) fn oci_descriptor(d: &Descriptor) -> Descriptor {
    let mut d = d.clone();
    if let Some(p) = d.platform.as_mut() {
        p.features.clear();
    }
    d
}
