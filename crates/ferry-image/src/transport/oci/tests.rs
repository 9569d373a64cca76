//! Unit tests of the `oci:` transport on small layouts built in temp directories.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use ferry_manifest::mime;

use super::testutil::{assert_serves, image, index_of, put_image};
use super::*;
use crate::transport::{ImageDestination, LayerCompression};
use crate::types::PutBlobInfo;

fn oci_ref(dir: &Path, name: Option<&str>, index: Option<usize>) -> OciRef {
    OciRef {
        dir: dir.to_path_buf(),
        name: name.map(str::to_string),
        index,
        resolved_dir: dir.to_path_buf(),
    }
}

fn ctx() -> SystemContext {
    SystemContext::default()
}

/// Every file and directory under `root`, with file contents.
pub(crate) fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if p.is_dir() {
                stack.push(p);
                out.insert(rel, None);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

fn write(dir: &Path, name: Option<&str>, img: &super::testutil::TestImage, c: &SystemContext) {
    let dest = OciDestination::open(&oci_ref(dir, name, None), c).unwrap();
    put_image(&dest, img, false);
    Box::new(dest).commit().unwrap();
}

fn index_json(dir: &Path) -> String {
    String::from_utf8(std::fs::read(dir.join("index.json")).unwrap()).unwrap()
}

#[test]
fn write_then_read_named_image() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("layout");
    let img = image(1, 3);
    write(&dir, Some("v1"), &img, &ctx());

    assert_eq!(
        std::fs::read(dir.join("oci-layout")).unwrap(),
        br#"{"imageLayoutVersion": "1.0.0"}"#
    );
    assert_eq!(
        index_json(&dir),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#,
            mime::OCI_MANIFEST,
            img.digest(),
            img.manifest.len()
        )
    );
    // Nothing but the layout: no staging directory, no temp file, no lock file.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["blobs", "index.json", "oci-layout"]);
    assert_eq!(
        std::fs::read_dir(dir.join("blobs/sha256")).unwrap().count(),
        img.blobs.len() + 1
    );

    for r in [
        oci_ref(&dir, Some("v1"), None),
        oci_ref(&dir, None, None),
        oci_ref(&dir, None, Some(0)),
    ] {
        let src = OciSource::open(&r, &ctx()).unwrap();
        assert_serves(&src, &img, None);
        assert_eq!(src.manifest(None).unwrap().mime, mime::OCI_MANIFEST);
    }
}

#[test]
fn source_selection_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write(dir, Some("a"), &image(1, 1), &ctx());
    write(dir, Some("b"), &image(2, 1), &ctx());

    let err = OciSource::open(&oci_ref(dir, None, None), &ctx())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "more than one image in oci, choose an image"
    );
    assert!(!err.is_not_found());

    let err = OciSource::open(&oci_ref(dir, Some("nope"), None), &ctx())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        r#"no descriptor found for reference "nope""#
    );
    assert!(err.is_not_found());

    let err = OciSource::open(&oci_ref(dir, None, Some(2)), &ctx())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "index 2 is too large, only 2 entries available"
    );

    let src = OciSource::open(&oci_ref(dir, None, Some(1)), &ctx()).unwrap();
    assert_eq!(src.manifest(None).unwrap().bytes, image(2, 1).manifest);

    let err = OciSource::open(&oci_ref(&dir.join("missing"), None, None), &ctx())
        .err()
        .unwrap();
    assert!(err.to_string().contains("missing/index.json"), "{err}");

    // A matching name on a non-OCI entry is reported, not silently skipped.
    let text = index_json(dir).replace(mime::OCI_MANIFEST, mime::DOCKER_V2S2);
    std::fs::write(dir.join("index.json"), text).unwrap();
    let err = OciSource::open(&oci_ref(dir, Some("a"), None), &ctx())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("unsupported manifest MIME types"),
        "{err}"
    );
}

#[test]
fn missing_blob_names_the_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let img = image(3, 2);
    write(tmp.path(), None, &img, &ctx());
    let (digest, _) = &img.blobs[1];
    std::fs::remove_file(tmp.path().join("blobs/sha256").join(digest.hex())).unwrap();
    let src = OciSource::open(&oci_ref(tmp.path(), None, None), &ctx()).unwrap();
    let err = src
        .blob(&BlobInfo::new(digest.clone(), None))
        .err()
        .unwrap();
    assert!(err.to_string().contains(&digest.to_string()), "{err}");
}

#[test]
fn drop_without_commit_leaves_layout_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("layout");
    write(&dir, Some("v1"), &image(1, 2), &ctx());
    let before = snapshot(&dir);
    {
        let dest = OciDestination::open(&oci_ref(&dir, Some("v1"), None), &ctx()).unwrap();
        put_image(&dest, &image(2, 2), false);
    }
    assert_eq!(snapshot(&dir), before);

    // A layout the destination created is removed again.
    let fresh = tmp.path().join("fresh");
    {
        let dest = OciDestination::open(&oci_ref(&fresh, None, None), &ctx()).unwrap();
        put_image(&dest, &image(2, 2), false);
    }
    assert!(!fresh.exists());
}

#[test]
fn failed_blob_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let dest = OciDestination::open(&oci_ref(dir, None, None), &ctx()).unwrap();
    let info = PutBlobInfo {
        size: Some(10),
        ..Default::default()
    };
    assert!(
        dest.put_blob(&mut Cursor::new(vec![1u8; 3]), &info)
            .is_err()
    );
    let staging = dest.staging_path().unwrap().to_path_buf();
    assert_eq!(std::fs::read_dir(&staging).unwrap().count(), 0);
}

#[test]
fn reuse_finds_layout_and_staged_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = image(1, 1);
    write(dir, None, &first, &ctx());
    let dest = OciDestination::open(&oci_ref(dir, None, None), &ctx()).unwrap();
    let (d, bytes) = &first.blobs[1];
    let found = dest
        .try_reuse_blob(&BlobInfo::new(d.clone(), None))
        .unwrap();
    assert_eq!(found.and_then(|b| b.size), Some(bytes.len() as u64));
    let second = image(2, 1);
    let (d2, _) = &second.blobs[0];
    assert!(
        dest.try_reuse_blob(&BlobInfo::new(d2.clone(), None))
            .unwrap()
            .is_none()
    );
    put_image(&dest, &second, false);
    assert!(
        dest.try_reuse_blob(&BlobInfo::new(d2.clone(), None))
            .unwrap()
            .is_some()
    );
}

#[test]
fn list_with_instances() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a, b) = (image(1, 1), image(2, 2));
    let list = index_of(&[&a, &b]);
    let dest = OciDestination::open(&oci_ref(dir, Some("multi"), None), &ctx()).unwrap();
    put_image(&dest, &a, true);
    put_image(&dest, &b, true);
    dest.put_manifest(&RawManifest::new(list.clone(), mime::OCI_INDEX), None)
        .unwrap();
    Box::new(dest).commit().unwrap();

    let idx = OciIndex::read(&dir.join("index.json")).unwrap();
    assert_eq!(idx.manifests.len(), 1);
    assert_eq!(idx.manifests[0].media_type, mime::OCI_INDEX);
    let src = OciSource::open(&oci_ref(dir, Some("multi"), None), &ctx()).unwrap();
    assert_eq!(src.manifest(None).unwrap().bytes, list);
    assert_serves(&src, &a, Some(&a.digest()));
    assert_serves(&src, &b, Some(&b.digest()));
}

#[test]
fn shared_blob_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, shared) = (tmp.path().join("layout"), tmp.path().join("shared"));
    let c = SystemContext {
        oci_shared_blob_dir: Some(shared.clone()),
        ..SystemContext::default()
    };
    let img = image(4, 2);
    write(&dir, Some("x"), &img, &c);
    assert_eq!(std::fs::read_dir(dir.join("blobs")).unwrap().count(), 0);
    assert_eq!(
        std::fs::read_dir(shared.join("sha256")).unwrap().count(),
        img.blobs.len() + 1
    );
    let src = OciSource::open(&oci_ref(&dir, Some("x"), None), &c).unwrap();
    assert_serves(&src, &img, None);
    let src = OciSource::open(&oci_ref(&dir, Some("x"), None), &ctx()).unwrap();
    assert!(src.manifest(None).is_err());
}

#[test]
fn destination_rejects_index_and_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let err = OciDestination::open(&oci_ref(tmp.path(), None, Some(0)), &ctx())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "Destination reference must not contain a manifest index @0"
    );
    let dest = OciDestination::open(&oci_ref(tmp.path(), None, None), &ctx()).unwrap();
    assert!(dest.put_signatures(&[], None).is_ok());
    let err = dest.put_signatures(&[b"sig".to_vec()], None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pushing signatures for OCI images is not supported"
    );
    assert_eq!(
        dest.properties().desired_layer_compression,
        LayerCompression::Compress
    );
    std::fs::write(tmp.path().join("index.json"), "{").unwrap();
    assert!(OciDestination::open(&oci_ref(tmp.path(), None, None), &ctx()).is_err());
}

/// skopeo#1018: concurrent copies into one layout must not lose index entries.
#[test]
fn concurrent_commits_keep_every_tag() {
    const N: usize = 12;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    write(&dir, Some("base"), &image(100, 1), &ctx());
    let barrier = Arc::new(Barrier::new(N));
    let handles: Vec<_> = (0..N)
        .map(|i| {
            let (dir, barrier) = (dir.clone(), barrier.clone());
            std::thread::spawn(move || {
                let img = image(i as u64 + 1, 2);
                let tag = format!("t{i}");
                let dest = OciDestination::open(&oci_ref(&dir, Some(&tag), None), &ctx()).unwrap();
                put_image(&dest, &img, false);
                barrier.wait();
                Box::new(dest).commit().unwrap();
                img
            })
        })
        .collect();
    let images: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let idx = OciIndex::read(&dir.join("index.json")).unwrap();
    assert_eq!(idx.manifests.len(), N + 1);
    for (i, img) in images.iter().enumerate() {
        let src = OciSource::open(&oci_ref(&dir, Some(&format!("t{i}")), None), &ctx()).unwrap();
        assert_serves(&src, img, None);
    }
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name().into_string().unwrap();
            name.starts_with('.')
        })
        .count();
    assert_eq!(leftovers, 0);
}

fn blob_exists(dir: &Path, d: &Digest) -> bool {
    dir.join("blobs/sha256").join(d.hex()).exists()
}

#[test]
fn delete_removes_entry_and_unshared_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (a, b, c) = (image(1, 2), image(2, 2), image(3, 1));
    write(dir, Some("a1"), &a, &ctx());
    write(dir, Some("a2"), &a, &ctx());
    write(dir, Some("b"), &b, &ctx());
    // A list holding `a` and `c`.
    let list = index_of(&[&a, &c]);
    let dest = OciDestination::open(&oci_ref(dir, Some("list"), None), &ctx()).unwrap();
    put_image(&dest, &a, true);
    put_image(&dest, &c, true);
    dest.put_manifest(&RawManifest::new(list.clone(), mime::OCI_INDEX), None)
        .unwrap();
    Box::new(dest).commit().unwrap();

    let err = delete(&oci_ref(dir, Some("nope"), None), &ctx()).unwrap_err();
    assert!(err.is_not_found(), "{err}");

    // `b` is used only by its entry: all its blobs go.
    delete(&oci_ref(dir, Some("b"), None), &ctx()).unwrap();
    assert!(b.blobs.iter().all(|(d, _)| !blob_exists(dir, d)));
    assert!(!blob_exists(dir, &b.digest()));

    // The list goes with `c`, but `a` is still used by a1/a2.
    delete(&oci_ref(dir, Some("list"), None), &ctx()).unwrap();
    assert!(!blob_exists(dir, &Digest::sha256_of(&list)));
    assert!(c.blobs.iter().all(|(d, _)| !blob_exists(dir, d)));
    assert!(a.blobs.iter().all(|(d, _)| blob_exists(dir, d)));

    // `a` is tagged twice: the first delete keeps its blobs, the second removes them.
    delete(&oci_ref(dir, Some("a1"), None), &ctx()).unwrap();
    assert!(blob_exists(dir, &a.digest()));
    let src = OciSource::open(&oci_ref(dir, Some("a2"), None), &ctx()).unwrap();
    assert_serves(&src, &a, None);
    delete(&oci_ref(dir, None, Some(0)), &ctx()).unwrap();
    assert_eq!(
        std::fs::read_dir(dir.join("blobs/sha256")).unwrap().count(),
        0
    );
    assert_eq!(index_json(dir), r#"{"schemaVersion":2,"manifests":[]}"#);
}

#[test]
fn delete_keeps_shared_dir_blobs() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, shared) = (tmp.path().join("layout"), tmp.path().join("shared"));
    let c = SystemContext {
        oci_shared_blob_dir: Some(shared.clone()),
        ..SystemContext::default()
    };
    let img = image(5, 1);
    write(&dir, Some("x"), &img, &c);
    delete(&oci_ref(&dir, Some("x"), None), &c).unwrap();
    assert_eq!(
        std::fs::read_dir(shared.join("sha256")).unwrap().count(),
        img.blobs.len() + 1
    );
    let idx = OciIndex::read(&dir.join("index.json")).unwrap();
    assert!(idx.manifests.is_empty());
}
