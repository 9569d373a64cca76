//! Manifest parsing errors.

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported manifest type {0:?}")]
    UnsupportedType(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Digest(#[from] ferry_reference::DigestError),
}
