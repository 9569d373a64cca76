//! Small value types passed between sources, destinations and the copy engine.

use std::io::Read;

use ferry_reference::Digest;

/// A blob stream. Sources hand out *unverified* bytes; the copy engine wraps them in a
/// verifying reader that fails (instead of reaching EOF) when digest or size mismatch.
pub type BlobReader = Box<dyn Read + Send>;

/// What is known about a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub digest: Digest,
    /// Size in bytes, when known.
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

impl BlobInfo {
    pub fn new(digest: Digest, size: Option<u64>) -> BlobInfo {
        BlobInfo {
            digest,
            size,
            media_type: None,
        }
    }
}

/// What the copy engine knows about a blob it is about to write. `digest`/`size` are
/// `None` when the engine transforms the stream (compression) and cannot know them in
/// advance; the destination must then compute them while writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutBlobInfo {
    pub digest: Option<Digest>,
    pub size: Option<u64>,
    pub media_type: Option<String>,
    /// True for the image config blob (destinations such as docker-archive keep it).
    pub is_config: bool,
}

/// A manifest exactly as stored, plus its MIME type (from the transport, or sniffed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawManifest {
    pub bytes: Vec<u8>,
    pub mime: String,
}

impl RawManifest {
    pub fn new(bytes: Vec<u8>, mime: impl Into<String>) -> RawManifest {
        RawManifest {
            bytes,
            mime: mime.into(),
        }
    }
    /// Builds a raw manifest whose MIME type is sniffed from its content.
    pub fn sniffed(bytes: Vec<u8>) -> RawManifest {
        let mime = ferry_manifest::guess_mime_type(&bytes).to_string();
        RawManifest { bytes, mime }
    }
    /// The manifest digest (schema1: JWS signatures stripped first).
    pub fn digest(&self) -> Result<Digest, ferry_manifest::ManifestError> {
        ferry_manifest::digest(&self.bytes)
    }
}

/// One signature, stored opaquely (simple-signing bytes, or a sigstore payload).
pub type Signature = Vec<u8>;

/// Where a source's blobs live, so a destination on the same registry can mount them
/// instead of uploading (cross-repository mount).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobLocation {
    /// `host[:port]` as contacted.
    pub registry: String,
    /// Repository path within the registry.
    pub repo: String,
}
