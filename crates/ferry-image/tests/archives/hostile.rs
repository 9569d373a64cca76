//! Hostile and broken archives: clear errors that name the archive, never a panic.

use std::path::Path;

use ferry_image::ImageSource;
use ferry_image::transport::docker_archive::{DockerArchiveSource, ImageSelector};
use ferry_image::transport::oci_archive::OciArchiveSource;

use crate::support::*;

/// Opens a docker archive and asks for its manifest; returns the error text.
fn docker_error(path: &Path) -> String {
    match DockerArchiveSource::open_path(path, &ImageSelector::Only, None) {
        Err(e) => e.to_string(),
        Ok(src) => src
            .manifest(None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default(),
    }
}

fn archive_with_layer_path(layer_path: &str, extra: &[(&str, u8, &[u8], &str)]) -> Vec<u8> {
    let img = TestImage::new(31, 1);
    let cfg = format!("{}.json", sha(&img.config).hex());
    let manifest =
        format!("[{{\"Config\":\"{cfg}\",\"RepoTags\":[],\"Layers\":[\"{layer_path}\"]}}]");
    let mut entries: Vec<(&str, u8, &[u8], &str)> = vec![
        (&cfg, b'0', &img.config, ""),
        ("manifest.json", b'0', manifest.as_bytes(), ""),
    ];
    entries.extend_from_slice(extra);
    raw_tar(&entries)
}

fn assert_error(path: &Path, err: &str, needle: &str) {
    assert!(
        err.contains(&path.display().to_string()),
        "error names the archive: {err}"
    );
    assert!(err.contains(needle), "{err:?} should contain {needle:?}");
}

#[test]
fn paths_escaping_the_archive() {
    let dir = scratch("hostile-paths");
    let data = b"layer bytes".to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "dotdot",
            archive_with_layer_path("../evil.tar", &[("../evil.tar", b'0', &data, "")]),
        ),
        ("absolute", archive_with_layer_path("/etc/passwd", &[])),
        (
            "symlink-up",
            archive_with_layer_path(
                "x/layer.tar",
                &[("x/layer.tar", b'2', b"", "../../etc/passwd")],
            ),
        ),
        (
            "symlink-abs",
            archive_with_layer_path("x/layer.tar", &[("x/layer.tar", b'2', b"", "/etc/passwd")]),
        ),
        (
            "hardlink-up",
            archive_with_layer_path(
                "x/layer.tar",
                &[("x/layer.tar", b'1', b"", "../etc/passwd")],
            ),
        ),
    ];
    for (name, bytes) in cases {
        let p = dir.path().join(format!("{name}.tar"));
        std::fs::write(&p, bytes).unwrap();
        assert_error(&p, &docker_error(&p), "outside the archive");
    }
    // A symlink chain is followed only once (as c/image does).
    let p = dir.path().join("chain.tar");
    std::fs::write(
        &p,
        archive_with_layer_path(
            "a/layer.tar",
            &[
                ("a/layer.tar", b'2', b"", "../b/layer.tar"),
                ("b/layer.tar", b'2', b"", "../a/layer.tar"),
            ],
        ),
    )
    .unwrap();
    assert_error(&p, &docker_error(&p), "not a regular file");
    // A missing layer.
    let p = dir.path().join("missing.tar");
    std::fs::write(&p, archive_with_layer_path("nope.tar", &[])).unwrap();
    assert_error(
        &p,
        &docker_error(&p),
        "loading tar component nope.tar: file does not exist",
    );
}

#[test]
fn truncated_and_corrupt_archives() {
    let dir = scratch("hostile-trunc");
    let good = archive_with_layer_path("l.tar", &[("l.tar", b'0', &[7u8; 3000], "")]);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // Cut inside the data of the last member.
    let p = write("cut.tar", &good[..good.len() - 1024 - 1200]);
    assert_error(&p, &docker_error(&p), "truncated");
    // Cut inside the second header (the config member takes two blocks).
    let p = write("cut-header.tar", &good[..1024 + 100]);
    assert_error(&p, &docker_error(&p), "truncated");
    // A member claiming far more bytes than the file has.
    let mut big = raw_tar(&[("manifest.json", b'0', b"[]", "")]);
    let h = raw_header("huge.tar", b'0', 1 << 30, "");
    big.splice(0..0, h);
    let p = write("huge.tar", &big);
    assert_error(&p, &docker_error(&p), "claims 1073741824 bytes");
    // Same through gzip (the streaming index).
    let p = write("huge.tar.gz", &gzip(&big));
    assert_error(&p, &docker_error(&p), "truncated");
    // A corrupted header checksum.
    let mut bad = good.clone();
    bad[3] ^= 0x55;
    let p = write("bad-cksum.tar", &bad);
    assert_error(&p, &docker_error(&p), "invalid tar header");
    // Not a tar at all, empty, and a corrupt gzip stream.
    let p = write("random.bin", &random_bytes(9, 4096));
    assert_error(&p, &docker_error(&p), "invalid tar header");
    let p = write("empty.tar", b"");
    assert_error(&p, &docker_error(&p), "manifest.json: file does not exist");
    let mut gz = gzip(&good);
    let n = gz.len();
    gz[n / 2] ^= 0xff;
    let p = write("corrupt.tar.gz", &gz);
    assert!(!docker_error(&p).is_empty());
    // Unsupported compression.
    let p = write("x.tar.bz2", b"BZh91AY&SY0000000000");
    assert_error(&p, &docker_error(&p), "bzip2");
}

#[test]
fn oci_archive_hostile_blob_links() {
    let dir = scratch("hostile-oci");
    let img = TestImage::new(32, 1);
    let manifest = img.oci_manifest();
    let m_name = format!("blobs/sha256/{}", sha(&manifest).hex());
    let index = format!(
        "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"{OCI_MANIFEST}\",\"digest\":\"{}\",\"size\":{}}}]}}",
        sha(&manifest),
        manifest.len()
    );
    let cfg_name = format!("blobs/sha256/{}", sha(&img.config).hex());
    let layer_name = format!("blobs/sha256/{}", sha(&img.layers[0].gz).hex());
    let tarball = raw_tar(&[
        ("index.json", b'0', index.as_bytes(), ""),
        (&m_name, b'0', &manifest, ""),
        (&cfg_name, b'0', &img.config, ""),
        (&layer_name, b'2', b"", "../../../../etc/passwd"),
    ]);
    let p = dir.path().join("o.tar");
    std::fs::write(&p, tarball).unwrap();
    let src = OciArchiveSource::open_path(&p, None, None, None).unwrap();
    assert_eq!(src.manifest(None).unwrap().bytes, manifest);
    let err = src
        .blob(&ferry_image::BlobInfo::new(sha(&img.layers[0].gz), None))
        .err()
        .unwrap()
        .to_string();
    assert_error(&p, &err, "outside the archive");
    let p = dir.path().join("no-index.tar");
    std::fs::write(&p, raw_tar(&[("x", b'0', b"x", "")])).unwrap();
    let err = OciArchiveSource::open_path(&p, None, None, None)
        .err()
        .unwrap()
        .to_string();
    assert_error(&p, &err, "index.json does not exist");
}
