//! Test images built in memory, an engine stand-in that drives a destination the way the
//! copy engine does, raw tar writing for hostile archives, and skopeo helpers.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_image::transport::ImageDestination;
use ferry_image::types::PutBlobInfo;
use ferry_image::{ImageSource, RawManifest};
use ferry_reference::Digest;
use sha2::Digest as _;

pub const V2S2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn sha(data: &[u8]) -> Digest {
    Digest::sha256_of(data)
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// One layer: the uncompressed tar and its gzip form.
pub struct Layer {
    pub tar: Vec<u8>,
    pub gz: Vec<u8>,
}

impl Layer {
    pub fn diff_id(&self) -> Digest {
        sha(&self.tar)
    }
}

/// A small image: config + gzip layers, with OCI and v2s2 manifests.
pub struct TestImage {
    pub config: Vec<u8>,
    pub layers: Vec<Layer>,
}

pub fn layer_tar(seed: u64, files: usize, file_size: usize) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..files {
        let data = random_bytes(seed * 1000 + i as u64, file_size + i * 7);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, format!("dir{seed}/file{i}"), &data[..])
            .unwrap();
    }
    b.into_inner().unwrap()
}

impl TestImage {
    pub fn new(seed: u64, n_layers: usize) -> TestImage {
        let layers: Vec<Layer> = (0..n_layers)
            .map(|i| {
                let tar = layer_tar(seed * 10 + i as u64, 3, 1500 + 4000 * i);
                let gz = gzip(&tar);
                Layer { tar, gz }
            })
            .collect();
        let diff_ids: Vec<String> = layers
            .iter()
            .map(|l| format!("\"{}\"", l.diff_id()))
            .collect();
        let config = format!(
            "{{\n  \"created\": \"2024-01-01T00:00:00Z\",\n  \"architecture\": \"amd64\",\n  \"os\": \"linux\",\n  \"config\": {{\"Env\": [\"PATH=/bin\", \"S=<{seed}&>\"], \"Cmd\": [\"/bin/sh\"]}},\n  \"rootfs\": {{\"type\": \"layers\", \"diff_ids\": [{}]}},\n  \"history\": [{{\"created_by\": \"test\"}}]\n}}",
            diff_ids.join(", ")
        )
        .into_bytes();
        TestImage { config, layers }
    }

    fn descriptor(mt: &str, data: &[u8]) -> String {
        format!(
            "{{\"mediaType\":\"{mt}\",\"digest\":\"{}\",\"size\":{}}}",
            sha(data),
            data.len()
        )
    }

    pub fn oci_manifest(&self) -> Vec<u8> {
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|l| Self::descriptor("application/vnd.oci.image.layer.v1.tar+gzip", &l.gz))
            .collect();
        format!(
            "{{\"schemaVersion\":2,\"mediaType\":\"{OCI_MANIFEST}\",\"config\":{},\"layers\":[{}]}}",
            Self::descriptor("application/vnd.oci.image.config.v1+json", &self.config),
            layers.join(",")
        )
        .into_bytes()
    }

    /// The manifest as docker-archive sources synthesise it (c/image's choices).
    pub fn docker_archive_manifest(&self) -> Vec<u8> {
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|l| {
                Self::descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", &l.tar)
                    .replace(
                        &format!("\"digest\":\"{}\",\"size\":{}", l.diff_id(), l.tar.len()),
                        &format!("\"size\":{},\"digest\":\"{}\"", l.tar.len(), l.diff_id()),
                    )
            })
            .collect();
        format!(
            "{{\"schemaVersion\":2,\"mediaType\":\"{V2S2}\",\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":{},\"digest\":\"{}\"}},\"layers\":[{}]}}",
            self.config.len(),
            sha(&self.config),
            layers.join(",")
        )
        .into_bytes()
    }

    /// Writes an OCI layout (for skopeo to copy from) with the image tagged `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        let manifest = self.oci_manifest();
        let mut all = vec![self.config.clone(), manifest.clone()];
        all.extend(self.layers.iter().map(|l| l.gz.clone()));
        for b in all {
            std::fs::write(blobs.join(sha(&b).hex()), b).unwrap();
        }
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        std::fs::write(
            dir.join("index.json"),
            format!(
                "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{}\",\"size\":{},\"annotations\":{{\"org.opencontainers.image.ref.name\":\"{tag}\"}}}}]}}",
                sha(&manifest),
                manifest.len()
            ),
        )
        .unwrap();
    }
}

/// How the stand-in engine feeds layers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Feed {
    /// Uncompressed layers, digest = DiffID (docker-archive).
    Decompressed { known_size: bool },
    /// The gzip blobs as they are (oci-archive).
    AsIs {
        known_size: bool,
        known_digest: bool,
    },
}

/// Drives `dest` like the copy engine: config first, then layers in order, then the
/// manifest (the v2s2 one for decompressed feeds, OCI otherwise), then commit.
pub fn write_image(dest: Box<dyn ImageDestination>, img: &TestImage, feed: Feed) {
    let cfg = PutBlobInfo {
        digest: Some(sha(&img.config)),
        size: Some(img.config.len() as u64),
        media_type: None,
        is_config: true,
    };
    dest.put_blob(&mut &img.config[..], &cfg).unwrap();
    for l in &img.layers {
        let (data, info) = match feed {
            Feed::Decompressed { known_size } => (
                &l.tar,
                PutBlobInfo {
                    digest: Some(l.diff_id()),
                    size: known_size.then_some(l.tar.len() as u64),
                    ..Default::default()
                },
            ),
            Feed::AsIs {
                known_size,
                known_digest,
            } => (
                &l.gz,
                PutBlobInfo {
                    digest: known_digest.then(|| sha(&l.gz)),
                    size: known_size.then_some(l.gz.len() as u64),
                    ..Default::default()
                },
            ),
        };
        let stored = dest.put_blob(&mut &data[..], &info).unwrap();
        assert_eq!(stored.digest, sha(data));
        assert_eq!(stored.size, Some(data.len() as u64));
    }
    let manifest = match feed {
        Feed::Decompressed { .. } => RawManifest::new(img.docker_archive_manifest(), V2S2),
        Feed::AsIs { .. } => RawManifest::new(img.oci_manifest(), OCI_MANIFEST),
    };
    dest.put_manifest(&manifest, None).unwrap();
    dest.commit().unwrap();
}

/// Reads a blob whole and checks its digest.
pub fn read_blob(src: &dyn ImageSource, digest: &Digest) -> Vec<u8> {
    let (mut r, size) = src
        .blob(&ferry_image::BlobInfo::new(digest.clone(), None))
        .unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    assert_eq!(&sha(&v), digest, "blob content matches its digest");
    assert_eq!(size, Some(v.len() as u64));
    v
}

pub fn scratch(name: &str) -> tempfile::TempDir {
    let base = PathBuf::from("/tmp/archhelper-tests");
    std::fs::create_dir_all(&base).unwrap();
    tempfile::Builder::new()
        .prefix(name)
        .tempdir_in(base)
        .unwrap()
}

pub fn skopeo_available() -> bool {
    Path::new("/usr/bin/skopeo").exists()
}

/// Runs `skopeo --insecure-policy ARGS`, returning stdout.
pub fn skopeo(args: &[&str]) -> Vec<u8> {
    let out = Command::new("/usr/bin/skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skopeo {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn file_sha(path: &Path) -> String {
    let data = std::fs::read(path).unwrap();
    hex::encode(sha2::Sha256::digest(&data))
}

/// A raw ustar header block (no validation: hostile names allowed).
pub fn raw_header(name: &str, typeflag: u8, size: u64, linkname: &str) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[..name.len()].copy_from_slice(name.as_bytes());
    b[100..108].copy_from_slice(b"0000644\0");
    b[108..116].copy_from_slice(b"0000000\0");
    b[116..124].copy_from_slice(b"0000000\0");
    b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
    b[136..148].copy_from_slice(b"00000000000\0");
    b[156] = typeflag;
    b[157..157 + linkname.len()].copy_from_slice(linkname.as_bytes());
    b[257..265].copy_from_slice(b"ustar\x0000");
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    b
}

/// A tar from (name, typeflag, data, linkname) entries, written raw.
pub fn raw_tar(entries: &[(&str, u8, &[u8], &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, t, data, link) in entries {
        out.extend_from_slice(&raw_header(name, *t, data.len() as u64, link));
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A deterministic pseudo-random stream of `len` bytes (never held in memory).
pub struct RandomReader {
    seed: u64,
    left: u64,
    block: u64,
}

impl RandomReader {
    pub fn new(seed: u64, len: u64) -> RandomReader {
        RandomReader {
            seed,
            left: len,
            block: 0,
        }
    }
}

impl Read for RandomReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left).min(65536) as usize;
        if n == 0 {
            return Ok(0);
        }
        let chunk = random_bytes(self.seed ^ self.block, n);
        self.block += 1;
        buf[..n].copy_from_slice(&chunk);
        self.left -= n as u64;
        Ok(n)
    }
}

/// SHA-256 and length of a stream.
pub fn hash_stream(r: &mut dyn Read) -> (Digest, u64) {
    let mut d = ferry_reference::Algorithm::Sha256.digester();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            return (d.finish(), total);
        }
        d.update(&buf[..n]);
        total += n as u64;
    }
}

/// Peak resident memory of this process, in KiB.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
