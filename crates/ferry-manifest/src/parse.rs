//! Sniffing, digesting and parsing raw manifest bytes (OWNER: manifest helper; skeleton).

use ferry_reference::Digest;

use crate::{ImageManifest, ManifestError, ManifestList};

/// A parsed manifest: a single image, or a list of instances.
#[derive(Debug, Clone)]
pub enum Manifest {
    Image(ImageManifest),
    List(ManifestList),
}

/// skopeo's `manifest.GuessMIMEType`: the MIME type from the manifest content.
pub fn guess_mime_type(_bytes: &[u8]) -> &'static str {
    ""
}

/// Maps legacy/equivalent MIME types to the canonical one (`NormalizedMIMEType`).
pub fn normalize_mime_type(mime: &str) -> &str {
    mime
}

/// The manifest digest; schema1 signatures are stripped first.
pub fn digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
    Ok(Digest::sha256_of(bytes))
}

/// Parses raw bytes of the given MIME type (empty = sniff).
pub fn parse(_bytes: &[u8], mime: &str) -> Result<Manifest, ManifestError> {
    Err(ManifestError::UnsupportedType(mime.to_string()))
}
