//! Pure reference types shared by every ferry crate: content digests and the Docker
//! reference grammar (with docker.io / library normalisation as skopeo does it).

mod digest;
mod named;

pub use digest::{Algorithm, Digest, DigestError, Digester};
pub use named::{
    DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, NAME_TOTAL_LENGTH_MAX, Named, OFFICIAL_REPO_NAME,
    ReferenceError, validate_go_digest,
};
