//! docker-archive destination: layout, byte identity with skopeo, pipes, atomicity.

use std::path::Path;
use std::process::Command;

use ferry_image::transport::docker_archive::{
    DockerArchiveDestination, DockerArchiveSource, ImageSelector, RepoTag,
};
use ferry_image::transport::reference::DockerArchiveRef;
use ferry_image::types::PutBlobInfo;
use ferry_image::{ImageDestination, ImageSource, SystemContext};

use crate::support::*;

fn tag(name: &str, tag: &str) -> RepoTag {
    RepoTag {
        name: name.into(),
        tag: tag.into(),
    }
}

fn write_docker(path: &Path, img: &TestImage, tags: Vec<RepoTag>, known_size: bool) {
    let dest = DockerArchiveDestination::create(path, tags).unwrap();
    assert!(!dest.properties().needs_known_size, "a file is seekable");
    write_image(Box::new(dest), img, Feed::Decompressed { known_size });
}

#[test]
fn write_then_read_back() {
    let dir = scratch("da-rt");
    let img = TestImage::new(1, 3);
    let a = dir.path().join("a.tar");
    let b = dir.path().join("b.tar");
    write_docker(
        &a,
        &img,
        vec![tag("docker.io/library/busybox", "latest")],
        true,
    );
    // Unknown sizes: headers patched after streaming; the result must be identical.
    write_docker(
        &b,
        &img,
        vec![tag("docker.io/library/busybox", "latest")],
        false,
    );
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let src = DockerArchiveSource::open_path(&a, &ImageSelector::Only, None).unwrap();
    let m = src.manifest(None).unwrap();
    assert_eq!(m.mime, V2S2);
    assert_eq!(
        String::from_utf8(m.bytes).unwrap(),
        String::from_utf8(img.docker_archive_manifest()).unwrap()
    );
    assert_eq!(read_blob(&src, &sha(&img.config)), img.config);
    for l in img.layers.iter().rev() {
        assert_eq!(read_blob(&src, &l.diff_id()), l.tar);
    }
    let by_tag = DockerArchiveSource::open_path(
        &a,
        &ImageSelector::Tag("docker.io/library/busybox:latest".into()),
        None,
    )
    .unwrap();
    assert!(by_tag.manifest(None).is_ok());
}

#[test]
fn byte_identical_to_skopeo() {
    if !skopeo_available() {
        return;
    }
    let dir = scratch("da-skopeo");
    let img = TestImage::new(2, 2);
    let layout = dir.path().join("layout");
    img.write_oci_layout(&layout, "latest");
    let oci = format!("oci:{}:latest", layout.display());

    let theirs = dir.path().join("skopeo.tar");
    skopeo(&[
        "copy",
        "-q",
        "--additional-tag",
        "foo/bar:v1",
        &oci,
        &format!("docker-archive:{}:busybox:latest", theirs.display()),
    ]);
    let ours = dir.path().join("ours.tar");
    write_docker(
        &ours,
        &img,
        vec![
            tag("docker.io/library/busybox", "latest"),
            tag("docker.io/foo/bar", "v1"),
        ],
        false,
    );
    assert_eq!(
        file_sha(&ours),
        file_sha(&theirs),
        "same archive bytes as skopeo"
    );

    // Untagged.
    let theirs = dir.path().join("skopeo-untagged.tar");
    skopeo(&[
        "copy",
        "-q",
        &oci,
        &format!("docker-archive:{}", theirs.display()),
    ]);
    let ours = dir.path().join("ours-untagged.tar");
    write_docker(&ours, &img, Vec::new(), true);
    assert_eq!(file_sha(&ours), file_sha(&theirs));

    // skopeo reads ours and synthesises the same manifest as our source.
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("docker-archive:{}", ours.display()),
    ]);
    assert_eq!(raw, img.docker_archive_manifest());
    let out = dir.path().join("back");
    skopeo(&[
        "copy",
        "-q",
        &format!("docker-archive:{}", ours.display()),
        &format!("oci:{}:x", out.display()),
    ]);
}

#[test]
fn reads_skopeo_archive() {
    if !skopeo_available() {
        return;
    }
    let dir = scratch("da-read-skopeo");
    let img = TestImage::new(3, 2);
    let layout = dir.path().join("layout");
    img.write_oci_layout(&layout, "latest");
    let theirs = dir.path().join("s.tar");
    skopeo(&[
        "copy",
        "-q",
        &format!("oci:{}:latest", layout.display()),
        &format!("docker-archive:{}:example.com/a/b:1", theirs.display()),
    ]);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("docker-archive:{}", theirs.display()),
    ]);
    let src = DockerArchiveSource::open_path(&theirs, &ImageSelector::Only, None).unwrap();
    assert_eq!(src.manifest(None).unwrap().bytes, raw);
    for l in &img.layers {
        assert_eq!(read_blob(&src, &l.diff_id()), l.tar);
    }
    let tags = ferry_image::transport::docker_archive::list_tags(&theirs).unwrap();
    assert_eq!(tags, ["example.com/a/b:1"]);
}

#[test]
fn non_seekable_destination_with_known_sizes() {
    let dir = scratch("da-fifo");
    let img = TestImage::new(4, 2);
    let file = dir.path().join("file.tar");
    write_docker(&file, &img, vec![tag("docker.io/library/x", "1")], true);

    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let dest =
        DockerArchiveDestination::create(&fifo, vec![tag("docker.io/library/x", "1")]).unwrap();
    assert!(dest.properties().needs_known_size);
    write_image(
        Box::new(dest),
        &img,
        Feed::Decompressed { known_size: true },
    );
    let piped = reader.join().unwrap();
    assert_eq!(
        piped,
        std::fs::read(&file).unwrap(),
        "pipe output = file output"
    );

    // Unknown size on a pipe is refused (the engine must count first).
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let dest = DockerArchiveDestination::create(&fifo, Vec::new()).unwrap();
    let l = &img.layers[0];
    let err = dest
        .put_blob(
            &mut &l.tar[..],
            &PutBlobInfo {
                digest: Some(l.diff_id()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(err.to_string().contains("non-seekable"), "{err}");
    drop(dest);
    reader.join().unwrap();
}

#[test]
fn dropped_destination_leaves_nothing() {
    let dir = scratch("da-drop");
    let img = TestImage::new(5, 2);
    let path = dir.path().join("x.tar");
    let dest = DockerArchiveDestination::create(&path, Vec::new()).unwrap();
    let l = &img.layers[0];
    dest.put_blob(
        &mut &l.tar[..],
        &PutBlobInfo {
            digest: Some(l.diff_id()),
            ..Default::default()
        },
    )
    .unwrap();
    drop(dest);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // A failing stream rolls the member back; a later retry produces a normal archive.
    let dest = DockerArchiveDestination::create(&path, Vec::new()).unwrap();
    let mut failing = std::io::Read::chain(&l.tar[..100], FailingReader);
    let info = PutBlobInfo {
        digest: Some(l.diff_id()),
        ..Default::default()
    };
    assert!(dest.put_blob(&mut failing, &info).is_err());
    assert!(
        dest.try_reuse_blob(&ferry_image::BlobInfo::new(l.diff_id(), None))
            .unwrap()
            .is_none()
    );
    drop(dest);
    assert!(!path.exists());
}

struct FailingReader;

impl std::io::Read for FailingReader {
    fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("network down"))
    }
}

#[test]
fn existing_archive_is_refused_like_skopeo() {
    let dir = scratch("da-existing");
    let path = dir.path().join("x.tar");
    std::fs::write(&path, b"data").unwrap();
    let err = DockerArchiveDestination::create(&path, Vec::new())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "docker-archive doesn't support modifying existing images"
    );
    // An empty file is fine (and replaced).
    std::fs::write(&path, b"").unwrap();
    write_docker(&path, &TestImage::new(6, 1), Vec::new(), true);
    assert!(std::fs::metadata(&path).unwrap().len() > 0);

    let r = DockerArchiveRef {
        path: dir.path().join("y.tar"),
        named: None,
        index: Some(1),
    };
    let err = DockerArchiveDestination::open(&r, &SystemContext::default())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "Destination reference must not contain a manifest index @1"
    );
}

#[test]
fn duplicate_layers_written_once() {
    let dir = scratch("da-dup");
    let mut img = TestImage::new(7, 1);
    let again = crate::support::Layer {
        tar: img.layers[0].tar.clone(),
        gz: img.layers[0].gz.clone(),
    };
    img.layers.push(again);
    let d = img.layers[0].diff_id();
    img.config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{d}\",\"{d}\"]}}}}"
    )
    .into_bytes();
    let path = dir.path().join("dup.tar");
    write_docker(&path, &img, Vec::new(), false);
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(std::fs::File::open(&path).unwrap());
    for e in ar.entries().unwrap() {
        names.push(e.unwrap().path().unwrap().display().to_string());
    }
    let layer_name = format!("{}.tar", d.hex());
    assert_eq!(names.iter().filter(|n| **n == layer_name).count(), 1);
    // Two legacy directories (different chain IDs), two manifest layers.
    assert_eq!(names.iter().filter(|n| n.ends_with("/VERSION")).count(), 2);
    let src = DockerArchiveSource::open_path(&path, &ImageSelector::Only, None).unwrap();
    assert_eq!(
        src.manifest(None).unwrap().bytes,
        img.docker_archive_manifest()
    );
}

/// A 96 MiB layer of unknown size goes through with flat memory and no temp files, in
/// both directions (also from a zstd-compressed archive).
#[test]
fn large_layer_streams_in_constant_memory() {
    const LEN: u64 = 96 << 20;
    let dir = scratch("da-large");
    let (diff_id, _) = hash_stream(&mut RandomReader::new(77, LEN));
    let config = format!(
        "{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{diff_id}\"]}}}}"
    )
    .into_bytes();
    let path = dir.path().join("big.tar");
    let before = peak_rss_kib();
    let dest = DockerArchiveDestination::create(&path, Vec::new()).unwrap();
    dest.put_blob(
        &mut &config[..],
        &PutBlobInfo {
            digest: Some(sha(&config)),
            size: Some(config.len() as u64),
            is_config: true,
            ..Default::default()
        },
    )
    .unwrap();
    let stored = dest
        .put_blob(
            &mut RandomReader::new(77, LEN),
            &PutBlobInfo {
                digest: None,
                size: None,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(stored.digest, diff_id);
    assert_eq!(stored.size, Some(LEN));
    let manifest = format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{V2S2}\",\"config\":{{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":{},\"digest\":\"{}\"}},\"layers\":[{{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar\",\"size\":{LEN},\"digest\":\"{diff_id}\"}}]}}",
        config.len(),
        sha(&config)
    );
    dest.put_manifest(
        &ferry_image::RawManifest::new(manifest.into_bytes(), V2S2),
        None,
    )
    .unwrap();
    Box::new(dest).commit().unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "only the archive, no temporary files");
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size > LEN && size < LEN + 16384, "{size}");

    let zst = dir.path().join("big.tar.zst");
    zstd::stream::copy_encode(
        std::fs::File::open(&path).unwrap(),
        std::fs::File::create(&zst).unwrap(),
        1,
    )
    .unwrap();
    for p in [&path, &zst] {
        let src = DockerArchiveSource::open_path(p, &ImageSelector::Only, None).unwrap();
        let (mut r, size) = src
            .blob(&ferry_image::BlobInfo::new(diff_id.clone(), None))
            .unwrap();
        assert_eq!(size, Some(LEN));
        assert_eq!(hash_stream(&mut r), (diff_id.clone(), LEN));
    }
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(grown < 48 * 1024, "peak RSS grew by {grown} KiB");
}

/// `/dev/fd/N` naming an open regular file (a shell's `> file` seen as /dev/stdout) is
/// written in place, seekably, and ends up identical to a normal file.
#[test]
fn dev_fd_regular_file_is_written_in_place() {
    use std::os::fd::AsRawFd;
    let dir = scratch("da-devfd");
    let img = TestImage::new(8, 2);
    let normal = dir.path().join("normal.tar");
    write_docker(&normal, &img, Vec::new(), true);
    let target = dir.path().join("redirected.tar");
    let f = std::fs::File::create(&target).unwrap();
    let fd_path = std::path::PathBuf::from(format!("/dev/fd/{}", f.as_raw_fd()));
    let dest = DockerArchiveDestination::create(&fd_path, Vec::new()).unwrap();
    assert!(!dest.properties().needs_known_size);
    write_image(
        Box::new(dest),
        &img,
        Feed::Decompressed { known_size: false },
    );
    drop(f);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        std::fs::read(&normal).unwrap()
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}
