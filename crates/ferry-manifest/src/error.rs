//! Manifest errors. Messages follow containers/image's wording where skopeo users see them.

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A MIME type ferry cannot parse or produce.
    #[error("unsupported manifest type {0:?}")]
    UnsupportedType(String),
    /// A conversion that needs work this crate does not do (yet), e.g. schema1 targets.
    #[error("converting a manifest from {from} to {to} is not supported: {reason}")]
    UnsupportedConversion {
        from: String,
        to: String,
        reason: String,
    },
    /// A conversion that the manifest's content makes impossible (skopeo's wording).
    #[error("{0}")]
    Conversion(String),
    /// An image-only operation on an OCI artifact (its config media type).
    #[error("unsupported image-specific operation on artifact with type {0:?}")]
    NonImageArtifact(String),
    /// No instance of a list matches the wanted platform.
    #[error("{0}")]
    NoMatchingInstance(String),
    /// Structurally invalid content.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Digest(#[from] ferry_reference::DigestError),
}
