//! Docker manifest lists and OCI indexes (OWNER: manifest helper; skeleton).

/// A parsed manifest list / OCI index.
#[derive(Debug, Clone)]
pub struct ManifestList {
    pub mime: String,
}
