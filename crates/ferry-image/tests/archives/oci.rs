//! oci-archive: write → read back, interoperability with skopeo, selection, inputs.

use std::io::Read;
use std::path::Path;

use ferry_image::transport::oci_archive::{OciArchiveDestination, OciArchiveSource};
use ferry_image::transport::reference::OciArchiveRef;
use ferry_image::{ImageDestination, ImageSource, SystemContext};

use crate::support::*;

fn write_oci(path: &Path, img: &TestImage, name: Option<&str>, known: bool) {
    let dest = OciArchiveDestination::create(path, name, false).unwrap();
    assert!(!dest.properties().needs_known_size);
    write_image(
        Box::new(dest),
        img,
        Feed::AsIs {
            known_size: known,
            known_digest: known,
        },
    );
}

fn check(src: &OciArchiveSource, img: &TestImage) {
    let m = src.manifest(None).unwrap();
    assert_eq!(m.mime, OCI_MANIFEST);
    assert_eq!(m.bytes, img.oci_manifest());
    assert_eq!(read_blob(src, &sha(&img.config)), img.config);
    for l in img.layers.iter().rev() {
        assert_eq!(read_blob(src, &sha(&l.gz)), l.gz);
    }
}

fn members(path: &Path) -> Vec<(String, u32, String, u64)> {
    let mut ar = tar::Archive::new(std::fs::File::open(path).unwrap());
    ar.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().display().to_string(),
                h.mode().unwrap(),
                h.username().unwrap().unwrap_or("").to_string(),
                h.uid().unwrap(),
            )
        })
        .collect()
}

#[test]
fn write_then_read_back() {
    let dir = scratch("oa-rt");
    let img = TestImage::new(21, 3);
    for known in [true, false] {
        let path = dir.path().join(format!("x-{known}.tar"));
        write_oci(&path, &img, Some("v1"), known);
        check(
            &OciArchiveSource::open_path(&path, Some("v1"), None, None).unwrap(),
            &img,
        );
        check(
            &OciArchiveSource::open_path(&path, None, Some(0), None).unwrap(),
            &img,
        );
        check(
            &OciArchiveSource::open_path(&path, None, None, None).unwrap(),
            &img,
        );
        let names: Vec<String> = members(&path).into_iter().map(|m| m.0).collect();
        assert_eq!(names[..2], ["blobs/", "blobs/sha256/"]);
        assert_eq!(names[names.len() - 2..], ["index.json", "oci-layout"]);
        assert_eq!(names.len(), 2 + 5 + 2);
    }
    let path = dir.path().join("x-true.tar");
    let err = OciArchiveSource::open_path(&path, Some("nope"), None, None)
        .err()
        .unwrap();
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        "no descriptor found for reference \"nope\""
    );
    let err = OciArchiveSource::open_path(&path, None, Some(1), None)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "index 1 is too large, only 1 entries available"
    );

    // Overwrites an existing archive (skopeo's os.Create semantics), atomically.
    write_oci(&path, &TestImage::new(22, 1), None, true);
    let src = OciArchiveSource::open_path(&path, None, None, None).unwrap();
    assert_eq!(
        src.manifest(None).unwrap().bytes,
        TestImage::new(22, 1).oci_manifest()
    );
    assert!(OciArchiveSource::open_path(&path, Some("v1"), None, None).is_err());
}

#[test]
fn matches_skopeo_layout_and_interoperates() {
    if !skopeo_available() {
        return;
    }
    let dir = scratch("oa-skopeo");
    let img = TestImage::new(23, 2);
    let layout = dir.path().join("layout");
    img.write_oci_layout(&layout, "latest");
    let theirs = dir.path().join("s.tar");
    skopeo(&[
        "copy",
        "-q",
        &format!("oci:{}:latest", layout.display()),
        &format!("oci-archive:{}:mytag", theirs.display()),
    ]);
    let ours = dir.path().join("o.tar");
    write_oci(&ours, &img, Some("mytag"), true);

    // Same members (blob order aside) with the same modes and owners; same index.json.
    let mut a = members(&theirs);
    let mut b = members(&ours);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let read = |p: &Path, name: &str| {
        let mut ar = tar::Archive::new(std::fs::File::open(p).unwrap());
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some(name) {
                let mut v = Vec::new();
                e.read_to_end(&mut v).unwrap();
                return v;
            }
        }
        panic!("{name} missing");
    };
    assert_eq!(read(&ours, "index.json"), read(&theirs, "index.json"));
    assert_eq!(read(&ours, "oci-layout"), read(&theirs, "oci-layout"));

    // We read theirs, they read ours.
    check(
        &OciArchiveSource::open_path(&theirs, Some("mytag"), None, None).unwrap(),
        &img,
    );
    let raw = skopeo(&[
        "inspect",
        "--raw",
        &format!("oci-archive:{}:mytag", ours.display()),
    ]);
    assert_eq!(raw, img.oci_manifest());
    let back = dir.path().join("back");
    skopeo(&[
        "copy",
        "-q",
        &format!("oci-archive:{}:mytag", ours.display()),
        &format!("oci:{}:x", back.display()),
    ]);
}

#[test]
fn compressed_and_multi_entry_archives() {
    let dir = scratch("oa-gz");
    let img = TestImage::new(24, 2);
    let path = dir.path().join("x.tar");
    write_oci(&path, &img, Some("a"), true);
    let gz = dir.path().join("x.tar.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&path).unwrap())).unwrap();
    check(
        &OciArchiveSource::open_path(&gz, Some("a"), None, None).unwrap(),
        &img,
    );

    // Two index entries: no name → skopeo's error; a name selects.
    let mut files = Vec::new();
    let mut ar = tar::Archive::new(std::fs::File::open(&path).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().display().to_string();
        let mut v = Vec::new();
        e.read_to_end(&mut v).unwrap();
        files.push((name, e.header().entry_type().as_byte(), v));
    }
    for f in &mut files {
        if f.0 == "index.json" {
            let mut v: serde_json::Value = serde_json::from_slice(&f.2).unwrap();
            let mut second = v["manifests"][0].clone();
            second["annotations"]["org.opencontainers.image.ref.name"] = "b".into();
            v["manifests"].as_array_mut().unwrap().push(second);
            f.2 = serde_json::to_vec(&v).unwrap();
        }
    }
    let entries: Vec<(&str, u8, &[u8], &str)> = files
        .iter()
        .map(|f| (f.0.as_str(), f.1, &f.2[..], ""))
        .collect();
    let two = dir.path().join("two.tar");
    std::fs::write(&two, raw_tar(&entries)).unwrap();
    let err = OciArchiveSource::open_path(&two, None, None, None)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "more than one image in oci, choose an image"
    );
    check(
        &OciArchiveSource::open_path(&two, Some("b"), None, None).unwrap(),
        &img,
    );
}

#[test]
fn reference_options() {
    let dir = scratch("oa-ref");
    let r = OciArchiveRef {
        path: dir.path().join("x.tar"),
        name: None,
        index: Some(0),
        resolved: dir.path().join("x.tar"),
    };
    let err = OciArchiveDestination::open(&r, &SystemContext::default())
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("must not contain a manifest index")
    );
    let r = OciArchiveRef { index: None, ..r };
    let ctx = SystemContext {
        oci_accept_uncompressed_layers: true,
        ..Default::default()
    };
    let dest = OciArchiveDestination::open(&r, &ctx).unwrap();
    assert_eq!(
        dest.properties().desired_layer_compression,
        ferry_image::transport::LayerCompression::Preserve
    );
    assert!(dest.properties().supports_lists);
    drop(dest);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "dropped: nothing left"
    );
}

#[test]
fn pipe_input_is_spooled() {
    use std::os::fd::AsRawFd;
    let dir = scratch("oa-pipe");
    let img = TestImage::new(25, 2);
    let path = dir.path().join("x.tar");
    write_oci(&path, &img, Some("t"), true);
    let spool = dir.path().join("spool");
    std::fs::create_dir(&spool).unwrap();
    let mut child = std::process::Command::new("cat")
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let fd_path = std::path::PathBuf::from(format!("/dev/fd/{}", out.as_raw_fd()));
    let src = OciArchiveSource::open_path(&fd_path, Some("t"), None, Some(&spool)).unwrap();
    drop(out);
    child.wait().unwrap();
    check(&src, &img);
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
}
