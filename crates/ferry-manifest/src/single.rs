//! Single-image manifests: schema1, schema2, OCI (OWNER: manifest helper; skeleton).

use crate::Descriptor;

/// One layer as the copy engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    pub descriptor: Descriptor,
    /// schema1 "throwaway" (empty) layers.
    pub empty_layer: bool,
}

/// A parsed single-image manifest of any type.
#[derive(Debug, Clone)]
pub struct ImageManifest {
    pub mime: String,
}
