//! Docker schema2 manifests and manifest lists: wire structs in Go's field order
//! (c/image `Schema2`, `Schema2Descriptor`, `Schema2List`, `Schema2ManifestDescriptor`).

use ferry_reference::Digest;
use serde::{Deserialize, Serialize};

use crate::{Descriptor, Platform};

/// c/image `Schema2Descriptor`: mediaType, size, digest, urls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema2Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(default)]
    pub size: i64,
    pub digest: Digest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

impl Schema2Descriptor {
    /// The Docker fields of a descriptor (others are dropped, as c/image does).
    pub fn from_descriptor(d: &Descriptor) -> Schema2Descriptor {
        Schema2Descriptor {
            media_type: d.media_type.clone(),
            size: d.size,
            digest: d.digest.clone(),
            urls: d.urls.clone(),
        }
    }
    pub fn to_descriptor(&self) -> Descriptor {
        let mut d = Descriptor::new(self.media_type.clone(), self.digest.clone(), self.size);
        d.urls = self.urls.clone();
        d
    }
}

/// c/image `Schema2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema2Wire {
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: i64,
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub config: Schema2Descriptor,
    /// `None` = JSON `null`/absent (written back as `null`, like Go's nil slice).
    #[serde(default)]
    pub layers: Option<Vec<Schema2Descriptor>>,
}

/// c/image `Schema2ManifestDescriptor` (a Docker manifest list entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema2ListEntry {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(default)]
    pub size: i64,
    pub digest: Digest,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Always written (Go's field is not a pointer).
    #[serde(default)]
    pub platform: Platform,
}

/// c/image `Schema2List`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema2ListWire {
    #[serde(rename = "schemaVersion", default)]
    pub schema_version: i64,
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(default)]
    pub manifests: Option<Vec<Schema2ListEntry>>,
}
