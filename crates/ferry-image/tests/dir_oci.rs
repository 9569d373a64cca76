//! Differential tests of the `dir:` and `oci:` transports against skopeo 1.9.3: the same
//! image written by ferry and by `skopeo copy` must give identical trees (`diff -r`), and
//! each tool must read what the other wrote. Skipped (with a note) when skopeo is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{Cursor, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use ferry_image::context::SystemContext;
use ferry_image::transport::dir::{DirDestination, DirSource};
use ferry_image::transport::oci::{OciDestination, OciSource};
use ferry_image::transport::reference::{DirRef, OciRef};
use ferry_image::transport::{ImageDestination, ImageSource};
use ferry_image::types::{BlobInfo, PutBlobInfo, RawManifest};
use ferry_reference::Digest;
use serde_json::{Value, json};

const SKOPEO: &str = "/usr/bin/skopeo";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn have_skopeo() -> bool {
    let ok = Path::new(SKOPEO).exists();
    if !ok {
        eprintln!("skipping: {SKOPEO} not installed");
    }
    ok
}

fn skopeo(args: &[&str]) -> std::process::Output {
    Command::new(SKOPEO)
        .arg("--insecure-policy")
        .args(args)
        .output()
        .unwrap()
}

fn skopeo_ok(args: &[&str]) {
    let out = skopeo(args);
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ctx() -> SystemContext {
    SystemContext::default()
}

fn oci(dir: &Path, name: Option<&str>) -> OciRef {
    OciRef {
        dir: dir.to_path_buf(),
        name: name.map(str::to_string),
        index: None,
        resolved_dir: dir.to_path_buf(),
    }
}

fn dir(p: &Path) -> DirRef {
    DirRef {
        path: p.to_path_buf(),
        resolved: p.to_path_buf(),
    }
}

fn random(seed: u64, len: usize) -> Vec<u8> {
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

/// A real image: gzip'd tar layers, a config with matching diff_ids, an OCI manifest.
struct Image {
    blobs: Vec<(Digest, Vec<u8>)>,
    manifest: Vec<u8>,
}

impl Image {
    fn new(seed: u64, layers: usize, arch: &str) -> Image {
        let mut blobs = Vec::new();
        let mut layer_descs = Vec::new();
        let mut diff_ids = Vec::new();
        for i in 0..layers {
            let data = random(seed * 10 + i as u64, 3000 + 100 * i);
            let mut tar = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_cksum();
            tar.append_data(&mut h, format!("file{i}"), data.as_slice())
                .unwrap();
            let raw = tar.into_inner().unwrap();
            diff_ids.push(Digest::sha256_of(&raw).to_string());
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&raw).unwrap();
            let gz = gz.finish().unwrap();
            let d = Digest::sha256_of(&gz);
            layer_descs.push(json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": d.to_string(), "size": gz.len()}));
            blobs.push((d, gz));
        }
        let config = serde_json::to_vec(&json!({
            "architecture": arch, "os": "linux", "config": {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids}}))
        .unwrap();
        let cd = Digest::sha256_of(&config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": cd.to_string(), "size": config.len()},
            "layers": layer_descs}))
        .unwrap();
        blobs.insert(0, (cd, config));
        Image { blobs, manifest }
    }

    fn digest(&self) -> Digest {
        Digest::sha256_of(&self.manifest)
    }

    fn put(&self, dest: &dyn ImageDestination, instance: bool) {
        for (d, bytes) in &self.blobs {
            let info = PutBlobInfo {
                digest: Some(d.clone()),
                size: Some(bytes.len() as u64),
                ..Default::default()
            };
            dest.put_blob(&mut Cursor::new(bytes.clone()), &info)
                .unwrap();
        }
        let m = RawManifest::new(self.manifest.clone(), OCI_MANIFEST);
        dest.put_manifest(&m, instance.then(|| self.digest()).as_ref())
            .unwrap();
    }
}

/// An OCI index over two images, with platforms.
fn list_of(a: &Image, b: &Image) -> Vec<u8> {
    let entry = |i: &Image, arch: &str| {
        json!({"mediaType": OCI_MANIFEST, "digest": i.digest().to_string(),
               "size": i.manifest.len(), "platform": {"architecture": arch, "os": "linux"}})
    };
    serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [entry(a, "amd64"), entry(b, "arm64")]}))
    .unwrap()
}

/// A minimal stand-in for the copy engine (no conversion, no verification).
fn copy(src: &dyn ImageSource, dest: Box<dyn ImageDestination>) {
    let copy_blobs = |m: &RawManifest| {
        let v: Value = serde_json::from_slice(&m.bytes).unwrap();
        let mut descs = vec![v["config"].clone()];
        descs.extend(v["layers"].as_array().unwrap().iter().cloned());
        for d in descs {
            let digest = Digest::parse(d["digest"].as_str().unwrap()).unwrap();
            let info = BlobInfo::new(digest.clone(), d["size"].as_u64());
            if dest.try_reuse_blob(&info).unwrap().is_some() {
                continue;
            }
            let (mut r, size) = src.blob(&info).unwrap();
            let put = PutBlobInfo {
                digest: Some(digest),
                size,
                ..Default::default()
            };
            dest.put_blob(&mut r, &put).unwrap();
        }
    };
    let top = src.manifest(None).unwrap();
    let v: Value = serde_json::from_slice(&top.bytes).unwrap();
    if let Some(instances) = v["manifests"].as_array() {
        for i in instances {
            let d = Digest::parse(i["digest"].as_str().unwrap()).unwrap();
            let m = src.manifest(Some(&d)).unwrap();
            copy_blobs(&m);
            dest.put_manifest(&m, Some(&d)).unwrap();
        }
    } else {
        copy_blobs(&top);
    }
    let mut top = top;
    if top.mime.is_empty() {
        top.mime = v["mediaType"].as_str().unwrap_or_default().to_string();
    }
    dest.put_manifest(&top, None).unwrap();
    let sigs = src.signatures(None).unwrap();
    if dest.properties().supports_signatures {
        dest.put_signatures(&sigs, None).unwrap();
    }
    dest.commit().unwrap();
}

/// Relative path → (mode, contents or None for directories).
fn tree(root: &Path) -> BTreeMap<PathBuf, (u32, Option<Vec<u8>>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.is_dir() {
                stack.push(p);
                out.insert(rel, (mode, None));
            } else {
                out.insert(rel, (mode, Some(std::fs::read(&p).unwrap())));
            }
        }
    }
    out
}

fn assert_same_tree(ours: &Path, theirs: &Path) {
    let status = Command::new("diff")
        .arg("-r")
        .arg(ours)
        .arg(theirs)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "diff -r {} {}",
        ours.display(),
        theirs.display()
    );
    // diff -r ignores modes and empty directories; compare those too.
    assert_eq!(tree(ours), tree(theirs));
}

fn read_all(src: &dyn ImageSource, d: &Digest) -> Vec<u8> {
    let (mut r, _) = src.blob(&BlobInfo::new(d.clone(), None)).unwrap();
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn single_image_matches_skopeo() {
    if !have_skopeo() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let img = Image::new(1, 3, "amd64");
    let w = t.join("written");
    let dest = OciDestination::open(&oci(&w, Some("v1")), &ctx()).unwrap();
    img.put(&dest, false);
    Box::new(dest).commit().unwrap();

    let ws = format!("oci:{}:v1", w.display());
    skopeo_ok(&[
        "copy",
        "-q",
        &ws,
        &format!("dir:{}", t.join("s-dir").display()),
    ]);
    skopeo_ok(&[
        "copy",
        "-q",
        &ws,
        &format!("oci:{}:v1", t.join("s-oci").display()),
    ]);

    let src = OciSource::open(&oci(&w, Some("v1")), &ctx()).unwrap();
    copy(
        &src,
        Box::new(DirDestination::open(&dir(&t.join("f-dir")), &ctx()).unwrap()),
    );
    let dest = OciDestination::open(&oci(&t.join("f-oci"), Some("v1")), &ctx()).unwrap();
    copy(&src, Box::new(dest));

    assert_same_tree(&t.join("f-dir"), &t.join("s-dir"));
    assert_same_tree(&t.join("f-oci"), &t.join("s-oci"));
    // What ferry wrote first is also what skopeo writes.
    assert_same_tree(&w, &t.join("s-oci"));

    // ferry reads skopeo's dir: byte for byte.
    let s = DirSource::open(&dir(&t.join("s-dir"))).unwrap();
    assert_eq!(s.manifest(None).unwrap().bytes, img.manifest);
    for (d, bytes) in &img.blobs {
        assert_eq!(&read_all(&s, d), bytes);
    }
    // skopeo reads ferry's dir.
    let out = skopeo(&[
        "inspect",
        "--raw",
        &format!("dir:{}", t.join("f-dir").display()),
    ]);
    assert_eq!(out.stdout, img.manifest);
}

#[test]
fn multi_arch_matches_skopeo() {
    if !have_skopeo() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (a, b) = (Image::new(2, 1, "amd64"), Image::new(3, 2, "arm64"));
    let list = list_of(&a, &b);
    let w = t.join("written");
    let dest = OciDestination::open(&oci(&w, Some("multi")), &ctx()).unwrap();
    a.put(&dest, true);
    b.put(&dest, true);
    dest.put_manifest(&RawManifest::new(list.clone(), OCI_INDEX), None)
        .unwrap();
    Box::new(dest).commit().unwrap();

    let ws = format!("oci:{}:multi", w.display());
    let s_dir = format!("dir:{}", t.join("s-dir").display());
    skopeo_ok(&["copy", "-q", "--all", &ws, &s_dir]);
    skopeo_ok(&[
        "copy",
        "-q",
        "--all",
        &ws,
        &format!("oci:{}:multi", t.join("s-oci").display()),
    ]);

    let src = OciSource::open(&oci(&w, Some("multi")), &ctx()).unwrap();
    copy(
        &src,
        Box::new(DirDestination::open(&dir(&t.join("f-dir")), &ctx()).unwrap()),
    );
    let dest = OciDestination::open(&oci(&t.join("f-oci"), Some("multi")), &ctx()).unwrap();
    copy(&src, Box::new(dest));

    assert_same_tree(&t.join("f-dir"), &t.join("s-dir"));
    assert_same_tree(&t.join("f-oci"), &t.join("s-oci"));
    assert_same_tree(&w, &t.join("s-oci"));

    let s = DirSource::open(&dir(&t.join("s-dir"))).unwrap();
    assert_eq!(s.manifest(None).unwrap().bytes, list);
    assert_eq!(s.manifest(Some(&b.digest())).unwrap().bytes, b.manifest);
}

/// The index.json bytes after the same sequence of copies (tag moves, untagged dedup,
/// re-tagging) are identical.
#[test]
fn index_updates_match_skopeo() {
    if !have_skopeo() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let images = [Image::new(4, 1, "amd64"), Image::new(5, 1, "amd64")];
    let sources: Vec<PathBuf> = images
        .iter()
        .enumerate()
        .map(|(i, img)| {
            let p = t.join(format!("src{i}"));
            let dest = OciDestination::open(&oci(&p, None), &ctx()).unwrap();
            img.put(&dest, false);
            Box::new(dest).commit().unwrap();
            p
        })
        .collect();
    let (f, s) = (t.join("f"), t.join("s"));
    let steps = [
        (0, Some("t1")),
        (1, Some("t1")),
        (0, None),
        (0, None),
        (1, None),
        (1, Some("t1")),
        (0, Some("t2")),
    ];
    for (i, tag) in steps {
        let suffix = tag.map(|t| format!(":{t}")).unwrap_or_default();
        skopeo_ok(&[
            "copy",
            "-q",
            &format!("oci:{}", sources[i].display()),
            &format!("oci:{}{suffix}", s.display()),
        ]);
        let src = OciSource::open(&oci(&sources[i], None), &ctx()).unwrap();
        copy(
            &src,
            Box::new(OciDestination::open(&oci(&f, tag), &ctx()).unwrap()),
        );
        assert_eq!(
            String::from_utf8(std::fs::read(f.join("index.json")).unwrap()).unwrap(),
            String::from_utf8(std::fs::read(s.join("index.json")).unwrap()).unwrap(),
            "after copying image {i} with tag {tag:?}"
        );
    }
    assert_same_tree(&f, &s);
}

/// The refusal to overwrite a foreign directory uses skopeo's words.
#[test]
fn foreign_dir_error_matches_skopeo() {
    if !have_skopeo() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let img = Image::new(6, 1, "amd64");
    let w = t.join("w");
    let dest = OciDestination::open(&oci(&w, None), &ctx()).unwrap();
    img.put(&dest, false);
    Box::new(dest).commit().unwrap();
    let target = t.join("target");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("important"), "x").unwrap();
    let out = skopeo(&[
        "copy",
        "-q",
        &format!("oci:{}", w.display()),
        &format!("dir:{}", target.display()),
    ]);
    assert!(!out.status.success());
    let ours = DirDestination::open(&dir(&target), &ctx()).err().unwrap();
    let theirs = String::from_utf8_lossy(&out.stderr);
    assert!(theirs.contains(&ours.to_string()), "{theirs} / {ours}");

    // And both refuse to read an image by a name the layout does not have.
    let out = skopeo(&["inspect", &format!("oci:{}:nope", w.display())]);
    let ours = OciSource::open(&oci(&w, Some("nope")), &ctx())
        .err()
        .unwrap();
    let theirs = String::from_utf8_lossy(&out.stderr);
    assert!(
        theirs.contains(&ours.to_string().replace('"', "\\\"")),
        "{theirs} / {ours}"
    );
}

/// `--dest-shared-blob-dir`: blobs in the shared directory, an empty `blobs/` in the layout.
#[test]
fn shared_blob_dir_matches_skopeo() {
    if !have_skopeo() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let img = Image::new(7, 2, "amd64");
    let w = t.join("w");
    let dest = OciDestination::open(&oci(&w, None), &ctx()).unwrap();
    img.put(&dest, false);
    Box::new(dest).commit().unwrap();

    let (s_shared, s_layout) = (t.join("s-shared"), t.join("s-layout"));
    skopeo_ok(&[
        "copy",
        "-q",
        "--dest-shared-blob-dir",
        s_shared.to_str().unwrap(),
        &format!("oci:{}", w.display()),
        &format!("oci:{}:x", s_layout.display()),
    ]);
    let (f_shared, f_layout) = (t.join("f-shared"), t.join("f-layout"));
    let shared_ctx = SystemContext {
        oci_shared_blob_dir: Some(f_shared.clone()),
        ..SystemContext::default()
    };
    let src = OciSource::open(&oci(&w, None), &ctx()).unwrap();
    copy(
        &src,
        Box::new(OciDestination::open(&oci(&f_layout, Some("x")), &shared_ctx).unwrap()),
    );
    assert_same_tree(&f_shared, &s_shared);
    assert_same_tree(&f_layout, &s_layout);

    // Each tool reads the other's shared layout.
    let src_ctx = SystemContext {
        oci_shared_blob_dir: Some(s_shared.clone()),
        ..SystemContext::default()
    };
    let src = OciSource::open(&oci(&s_layout, Some("x")), &src_ctx).unwrap();
    assert_eq!(src.manifest(None).unwrap().bytes, img.manifest);
    let out = skopeo(&[
        "inspect",
        "--raw",
        "--shared-blob-dir",
        f_shared.to_str().unwrap(),
        &format!("oci:{}:x", f_layout.display()),
    ]);
    assert_eq!(
        out.stdout,
        img.manifest,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
