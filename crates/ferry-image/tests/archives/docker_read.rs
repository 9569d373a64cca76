//! docker-archive source: multi-image selection, list-tags, compressed and piped archives,
//! `docker save`-style layouts.

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ferry_image::ImageSource;
use ferry_image::transport::docker_archive::{
    DockerArchiveDestination, DockerArchiveSource, ImageSelector, RepoTag, list_tags,
};

use crate::support::*;

/// Two images merged into one archive with three manifest.json items: A (busybox:latest),
/// B (foo/two:v2), and A again without tags.
fn multi_image_archive(dir: &Path) -> (PathBuf, TestImage, TestImage) {
    let a_img = TestImage::new(11, 2);
    let b_img = TestImage::new(12, 1);
    let mut items = Vec::new();
    let mut builder = tar::Builder::new(Vec::new());
    let mut seen = std::collections::HashSet::new();
    for (img, t) in [
        (&a_img, ("docker.io/library/busybox", "latest")),
        (&b_img, ("docker.io/foo/two", "v2")),
    ] {
        let p = dir.join(format!("{}.tar", t.1));
        let dest = DockerArchiveDestination::create(
            &p,
            vec![RepoTag {
                name: t.0.into(),
                tag: t.1.into(),
            }],
        )
        .unwrap();
        write_image(Box::new(dest), img, Feed::Decompressed { known_size: true });
        let mut ar = tar::Archive::new(std::fs::File::open(&p).unwrap());
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            if name == "manifest.json" {
                let mut s = String::new();
                e.read_to_string(&mut s).unwrap();
                let v: serde_json::Value = serde_json::from_str(&s).unwrap();
                items.push(v[0].clone());
                continue;
            }
            if name == "repositories" || !seen.insert(name) {
                continue;
            }
            let h = e.header().clone();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            builder.append(&h, &data[..]).unwrap();
        }
    }
    let mut third = items[0].clone();
    third["RepoTags"] = serde_json::json!([]);
    items.push(third);
    let mj = serde_json::to_vec(&items).unwrap();
    let mut h = tar::Header::new_ustar();
    h.set_path("manifest.json").unwrap();
    h.set_size(mj.len() as u64);
    h.set_cksum();
    builder.append(&h, &mj[..]).unwrap();
    let path = dir.join("multi.tar");
    std::fs::write(&path, builder.into_inner().unwrap()).unwrap();
    (path, a_img, b_img)
}

fn open(path: &Path, sel: ImageSelector) -> DockerArchiveSource {
    DockerArchiveSource::open_path(path, &sel, None).unwrap()
}

fn manifest_err(path: &Path, sel: ImageSelector) -> String {
    open(path, sel).manifest(None).unwrap_err().to_string()
}

#[test]
fn multi_image_selection_and_list_tags() {
    let dir = scratch("da-multi");
    let (path, a, b) = multi_image_archive(dir.path());
    assert_eq!(
        manifest_err(&path, ImageSelector::Only),
        "Unexpected tar manifest.json: expected 1 item, got 3"
    );
    assert_eq!(
        manifest_err(&path, ImageSelector::Index(3)),
        "Invalid source index @3, only 3 manifest items available"
    );
    assert_eq!(
        manifest_err(&path, ImageSelector::Tag("docker.io/foo/two:nope".into())),
        "Tag \"docker.io/foo/two:nope\" not found"
    );
    let m = |sel| open(&path, sel).manifest(None).unwrap().bytes;
    assert_eq!(m(ImageSelector::Index(1)), b.docker_archive_manifest());
    assert_eq!(m(ImageSelector::Index(2)), a.docker_archive_manifest());
    assert_eq!(
        m(ImageSelector::Tag("docker.io/foo/two:v2".into())),
        b.docker_archive_manifest()
    );
    let tags = list_tags(&path).unwrap();
    assert_eq!(
        tags,
        [
            "docker.io/library/busybox:latest",
            "docker.io/foo/two:v2",
            "@2"
        ]
    );
    if skopeo_available() {
        let out = skopeo(&["list-tags", &format!("docker-archive:{}", path.display())]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["Tags"], serde_json::json!(tags));
        let raw = skopeo(&[
            "inspect",
            "--raw",
            &format!("docker-archive:{}:@1", path.display()),
        ]);
        assert_eq!(raw, b.docker_archive_manifest());
    }
}

fn check_reads(src: &DockerArchiveSource, img: &TestImage) {
    assert_eq!(
        src.manifest(None).unwrap().bytes,
        img.docker_archive_manifest()
    );
    // Out of order (re-decompression for compressed archives), then concurrently.
    for l in img.layers.iter().rev() {
        assert_eq!(read_blob(src, &l.diff_id()), l.tar);
    }
    std::thread::scope(|s| {
        for l in &img.layers {
            s.spawn(move || assert_eq!(read_blob(src, &l.diff_id()), l.tar));
        }
    });
    assert_eq!(read_blob(src, &sha(&img.config)), img.config);
    // A partial read (a sniff) followed by a full read.
    let (mut r, _) = src
        .blob(&ferry_image::BlobInfo::new(img.layers[0].diff_id(), None))
        .unwrap();
    let mut head = [0u8; 10];
    r.read_exact(&mut head).unwrap();
    drop(r);
    assert_eq!(read_blob(src, &img.layers[0].diff_id()), img.layers[0].tar);
}

#[test]
fn compressed_archives() {
    let dir = scratch("da-compressed");
    let img = TestImage::new(13, 3);
    let plain = dir.path().join("x.tar");
    let dest = DockerArchiveDestination::create(&plain, Vec::new()).unwrap();
    write_image(
        Box::new(dest),
        &img,
        Feed::Decompressed { known_size: true },
    );
    let data = std::fs::read(&plain).unwrap();
    let gz = dir.path().join("x.tar.gz");
    std::fs::write(&gz, gzip(&data)).unwrap();
    let zst = dir.path().join("x.tar.zst");
    std::fs::write(&zst, zstd::encode_all(&data[..], 3).unwrap()).unwrap();
    for p in [&plain, &gz, &zst] {
        check_reads(&open(p, ImageSelector::Only), &img);
    }
}

#[test]
fn pipe_input_is_spooled() {
    let dir = scratch("da-pipe");
    let img = TestImage::new(14, 2);
    let plain = dir.path().join("x.tar");
    let dest = DockerArchiveDestination::create(&plain, Vec::new()).unwrap();
    write_image(
        Box::new(dest),
        &img,
        Feed::Decompressed { known_size: true },
    );
    let gz = dir.path().join("x.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&plain).unwrap())).unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    for p in [&plain, &gz] {
        let mut child = Command::new("cat")
            .arg(p)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let fd_path = PathBuf::from(format!("/dev/fd/{}", out.as_raw_fd()));
        let src =
            DockerArchiveSource::open_path(&fd_path, &ImageSelector::Only, Some(&spool)).unwrap();
        drop(out);
        child.wait().unwrap();
        check_reads(&src, &img);
        // The spool file has no name: nothing is left in the temp dir.
        assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    }
}

/// `docker save` (pre-25) layout: `<id>/layer.tar` files, one of them gzip-compressed,
/// one reached through a symlink.
#[test]
fn docker_save_layout_with_compressed_and_symlinked_layers() {
    let dir = scratch("da-save");
    let img = TestImage::new(15, 3);
    let cfg_name = format!("{}.json", sha(&img.config).hex());
    let l0 = &img.layers[0].tar;
    let l1 = &img.layers[1].gz;
    let l2 = &img.layers[2].tar;
    let manifest = format!(
        "[{{\"Config\":\"{cfg_name}\",\"RepoTags\":[\"busybox:1\"],\"Layers\":[\"aaa/layer.tar\",\"./bbb/layer.tar\",\"ccc/layer.tar\"]}}]"
    );
    let tarball = raw_tar(&[
        ("aaa/", b'5', b"", ""),
        ("aaa/layer.tar", b'0', l0, ""),
        ("bbb/layer.tar", b'0', l1, ""),
        ("zzz.tar", b'0', l2, ""),
        ("ccc/layer.tar", b'2', b"", "../zzz.tar"),
        (&cfg_name, b'0', &img.config, ""),
        ("manifest.json", b'0', manifest.as_bytes(), ""),
    ]);
    let path = dir.path().join("save.tar");
    std::fs::write(&path, &tarball).unwrap();
    let src = open(
        &path,
        ImageSelector::Tag("docker.io/library/busybox:1".into()),
    );
    check_reads(&src, &img);
    let gz = dir.path().join("save.tar.gz");
    std::fs::write(&gz, gzip(&tarball)).unwrap();
    check_reads(&open(&gz, ImageSelector::Only), &img);
    if skopeo_available() {
        let raw = skopeo(&[
            "inspect",
            "--raw",
            &format!("docker-archive:{}", path.display()),
        ]);
        // skopeo agrees, except that c/image sizes a symlinked layer by its link header
        // (size 0); we follow the link.
        let l2 = &img.layers[2];
        let ours = String::from_utf8(img.docker_archive_manifest())
            .unwrap()
            .replace(
                &format!("\"size\":{},\"digest\":\"{}\"", l2.tar.len(), l2.diff_id()),
                &format!("\"size\":0,\"digest\":\"{}\"", l2.diff_id()),
            );
        assert_eq!(String::from_utf8(raw).unwrap(), ours);
    }
}
