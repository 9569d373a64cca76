//! The library's error type. Every variant names its object (path, digest, reference);
//! `is_not_found` drives skopeo's exit code 2.

use std::path::PathBuf;

use ferry_reference::Digest;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Plain I/O error; fs-err already names the path in the message.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// I/O error with explicit context (what was being done, to which object).
    #[error("{context}: {source}")]
    IoAt {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The image (or the tag / index entry) does not exist: exit code 2.
    #[error("{0}")]
    ImageNotFound(String),
    /// The reference string is malformed.
    #[error("{0}")]
    InvalidReference(String),
    #[error("invalid manifest {what}: {source}")]
    Manifest {
        what: String,
        #[source]
        source: ferry_manifest::ManifestError,
    },
    #[error("blob {digest}: digest mismatch: computed {computed}")]
    DigestMismatch { digest: Digest, computed: Digest },
    #[error("blob {digest}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error("{path}: {message}")]
    BadArchive { path: PathBuf, message: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0} is not implemented yet")]
    NotImplemented(String),
    #[error("{0}")]
    Policy(String),
    #[error("{0}")]
    Other(String),
    #[error(transparent)]
    Registry(#[from] ferry_registry::RegistryError),
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// True when skopeo would exit with code 2 (image not found).
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::ImageNotFound(_) => true,
            Error::Registry(e) => e.is_not_found(),
            _ => false,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::IoAt {
            context: context.into(),
            source,
        }
    }

    pub fn manifest(what: impl Into<String>, source: ferry_manifest::ManifestError) -> Error {
        Error::Manifest {
            what: what.into(),
            source,
        }
    }

    /// Converts an I/O error produced by a verifying reader back into the typed error it
    /// carries (digest/size mismatch), if any.
    pub fn from_io_unwrapping(e: std::io::Error) -> Error {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = e.into_inner()
                && let Ok(err) = inner.downcast::<Error>()
            {
                return *err;
            }
            return Error::Other("unreadable error".into());
        }
        Error::Io(e)
    }
}
