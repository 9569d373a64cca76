//! Test helpers shared by the `dir:` and `oci:` unit tests: tiny images with random
//! blobs, and a minimal copy loop standing in for the engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Read};

use ferry_manifest::mime;
use ferry_reference::Digest;

use crate::transport::{ImageDestination, ImageSource};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest};

/// Deterministic pseudo-random bytes (xorshift).
pub(crate) fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A single image: its blobs (config first) and manifest bytes.
pub(crate) struct TestImage {
    pub blobs: Vec<(Digest, Vec<u8>)>,
    pub manifest: Vec<u8>,
}

impl TestImage {
    pub(crate) fn digest(&self) -> Digest {
        Digest::sha256_of(&self.manifest)
    }
}

fn descriptor(media_type: &str, digest: &Digest, size: usize) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
}

/// An OCI image with `layers` random layers.
pub(crate) fn image(seed: u64, layers: usize) -> TestImage {
    let mut blobs = Vec::new();
    let layer_blobs: Vec<Vec<u8>> = (0..layers)
        .map(|i| random_bytes(seed * 100 + i as u64, 1000 + 37 * i))
        .collect();
    let config = format!(r#"{{"architecture":"amd64","os":"linux","seed":{seed}}}"#).into_bytes();
    let config_digest = Digest::sha256_of(&config);
    let layer_descs: Vec<String> = layer_blobs
        .iter()
        .map(|b| descriptor(mime::OCI_LAYER_GZIP, &Digest::sha256_of(b), b.len()))
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{}]}}"#,
        mime::OCI_MANIFEST,
        descriptor(mime::OCI_CONFIG, &config_digest, config.len()),
        layer_descs.join(",")
    )
    .into_bytes();
    blobs.push((config_digest, config));
    for b in layer_blobs {
        blobs.push((Digest::sha256_of(&b), b));
    }
    TestImage { blobs, manifest }
}

/// An OCI index over `images` (their digests and sizes).
pub(crate) fn index_of(images: &[&TestImage]) -> Vec<u8> {
    let entries: Vec<String> = images
        .iter()
        .map(|i| descriptor(mime::OCI_MANIFEST, &i.digest(), i.manifest.len()))
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
        mime::OCI_INDEX,
        entries.join(",")
    )
    .into_bytes()
}

/// Writes the blobs of `img` (alternately with and without a known digest) and, when
/// `instance` is true, its manifest as a list instance, else as the top level.
pub(crate) fn put_image(dest: &dyn ImageDestination, img: &TestImage, instance: bool) {
    for (i, (digest, bytes)) in img.blobs.iter().enumerate() {
        let info = PutBlobInfo {
            digest: (i % 2 == 0).then(|| digest.clone()),
            size: Some(bytes.len() as u64),
            media_type: None,
            is_config: i == 0,
        };
        let stored = dest
            .put_blob(&mut Cursor::new(bytes.clone()), &info)
            .unwrap();
        assert_eq!(&stored.digest, digest);
        assert_eq!(stored.size, Some(bytes.len() as u64));
    }
    let m = RawManifest::new(img.manifest.clone(), mime::OCI_MANIFEST);
    let d = img.digest();
    dest.put_manifest(&m, instance.then_some(&d)).unwrap();
}

/// Reads a blob fully.
pub(crate) fn read_blob(src: &dyn ImageSource, digest: &Digest) -> Vec<u8> {
    let (mut r, size) = src.blob(&BlobInfo::new(digest.clone(), None)).unwrap();
    let mut out = Vec::new();
    r.read_to_end(&mut out).unwrap();
    assert_eq!(size, Some(out.len() as u64));
    out
}

/// Checks that `src` serves `img` (manifest at `instance`, every blob) byte for byte.
pub(crate) fn assert_serves(src: &dyn ImageSource, img: &TestImage, instance: Option<&Digest>) {
    assert_eq!(src.manifest(instance).unwrap().bytes, img.manifest);
    for (digest, bytes) in &img.blobs {
        assert_eq!(&read_blob(src, digest), bytes, "blob {digest}");
    }
}
