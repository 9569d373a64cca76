//! Unit tests of the `dir:` transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Cursor;

use ferry_manifest::mime;

use super::*;
use crate::context::SystemContext;
use crate::transport::oci::testutil::{TestImage, assert_serves, image, index_of, put_image};
use crate::transport::{ImageDestination, LayerCompression};
use crate::types::PutBlobInfo;

fn dir_ref(p: &Path) -> DirRef {
    DirRef {
        path: p.to_path_buf(),
        resolved: p.to_path_buf(),
    }
}

fn names(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The file names skopeo writes for `img` (blobs by hex, manifest, version).
fn expected_names(img: &TestImage, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = img.blobs.iter().map(|(d, _)| d.hex().to_string()).collect();
    v.extend(["manifest.json", "version"].map(String::from));
    v.extend(extra.iter().map(|s| s.to_string()));
    v.sort();
    v
}

fn write(p: &Path, img: &TestImage, sigs: &[Vec<u8>]) {
    let dest = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
    put_image(&dest, img, false);
    dest.put_signatures(sigs, None).unwrap();
    Box::new(dest).commit().unwrap();
}

#[test]
fn file_names() {
    let d = Digest::sha256_of(b"x");
    let d512 = Algorithm::Sha512.digest_bytes(b"x");
    assert_eq!(blob_name(&d), d.hex());
    assert_eq!(blob_name(&d512), format!("sha512-{}", d512.hex()));
    assert_eq!(manifest_name(None), "manifest.json");
    assert_eq!(
        manifest_name(Some(&d)),
        format!("{}.manifest.json", d.hex())
    );
    assert_eq!(signature_name(0, None), "signature-1");
    assert_eq!(
        signature_name(1, Some(&d)),
        format!("{}.signature-2", d.hex())
    );
}

#[test]
fn version_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let not_ours = "not a containers image directory, don't want to overwrite important data";
    assert_eq!(check_version(p).unwrap_err().to_string(), not_ours);
    for ok in [VERSION_1_1, VERSION_1_2] {
        std::fs::write(p.join("version"), ok).unwrap();
        assert!(check_version(p).is_ok());
    }
    for bad in [
        "Directory Transport Version: 1.1",
        "garbage\n",
        "Directory Transport Version: 1.0\n",
    ] {
        std::fs::write(p.join("version"), bad).unwrap();
        assert_eq!(
            check_version(p).unwrap_err().to_string(),
            not_ours,
            "{bad:?}"
        );
    }
    std::fs::write(p.join("version"), "Directory Transport Version: 2.0\n").unwrap();
    let err = check_version(p).unwrap_err().to_string();
    assert!(
        err.starts_with(r#"unsupported directory transport version "2.0" at "#),
        "{err}"
    );
}

#[test]
fn write_then_read() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("new/nested");
    let img = image(1, 3);
    let sigs = vec![b"sig one".to_vec(), b"sig two".to_vec()];
    write(&p, &img, &sigs);
    assert_eq!(
        names(&p),
        expected_names(&img, &["signature-1", "signature-2"])
    );
    assert_eq!(
        std::fs::read(p.join("version")).unwrap(),
        VERSION_1_1.as_bytes()
    );

    let src = DirSource::open(&dir_ref(&p)).unwrap();
    assert_serves(&src, &img, None);
    assert_eq!(src.signatures(None).unwrap(), sigs);
}

#[test]
fn list_instances_and_their_signatures() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let (a, b) = (image(1, 1), image(2, 1));
    let list = index_of(&[&a, &b]);
    let dest = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
    put_image(&dest, &a, true);
    put_image(&dest, &b, true);
    dest.put_signatures(&[b"sa".to_vec()], Some(&a.digest()))
        .unwrap();
    dest.put_manifest(&RawManifest::new(list.clone(), mime::OCI_INDEX), None)
        .unwrap();
    Box::new(dest).commit().unwrap();

    assert!(
        p.join(format!("{}.manifest.json", a.digest().hex()))
            .is_file()
    );
    assert!(
        p.join(format!("{}.signature-1", a.digest().hex()))
            .is_file()
    );
    let src = DirSource::open(&dir_ref(p)).unwrap();
    assert_eq!(src.manifest(None).unwrap().bytes, list);
    assert_serves(&src, &a, Some(&a.digest()));
    assert_serves(&src, &b, Some(&b.digest()));
    assert_eq!(src.signatures(Some(&a.digest())).unwrap(), [b"sa".to_vec()]);
    assert!(src.signatures(Some(&b.digest())).unwrap().is_empty());
}

#[test]
fn sha512_blob_uses_version_1_2() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let dest = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
    let d = Algorithm::Sha512.digest_bytes(b"data");
    let info = PutBlobInfo {
        digest: Some(d.clone()),
        size: Some(4),
        ..Default::default()
    };
    dest.put_blob(&mut Cursor::new(b"data".to_vec()), &info)
        .unwrap();
    dest.put_manifest(&RawManifest::new(b"{}".to_vec(), ""), None)
        .unwrap();
    Box::new(dest).commit().unwrap();
    assert_eq!(
        std::fs::read(p.join("version")).unwrap(),
        VERSION_1_2.as_bytes()
    );
    assert!(p.join(format!("sha512-{}", d.hex())).is_file());
}

#[test]
fn refuses_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    std::fs::write(p.join("precious"), "data").unwrap();
    let err = DirDestination::open(&dir_ref(p), &SystemContext::default())
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "not a containers image directory, don't want to overwrite important data"
    );
    assert_eq!(names(p), ["precious"]);

    let file = p.join("precious");
    assert!(DirDestination::open(&dir_ref(&file), &SystemContext::default()).is_err());

    let both = SystemContext {
        compress: true,
        decompress: true,
        ..SystemContext::default()
    };
    let err = DirDestination::open(&dir_ref(&p.join("x")), &both)
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "Cannot compress and decompress at the same time"
    );
}

#[test]
fn compression_properties() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = SystemContext::default();
    let open = |c: &SystemContext| {
        DirDestination::open(&dir_ref(tmp.path()), c)
            .unwrap()
            .properties()
            .desired_layer_compression
    };
    assert_eq!(open(&c), LayerCompression::Preserve);
    c.compress = true;
    assert_eq!(open(&c), LayerCompression::Compress);
    c.compress = false;
    c.decompress = true;
    assert_eq!(open(&c), LayerCompression::Decompress);
}

#[test]
fn old_image_survives_until_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let (old, new) = (image(1, 2), image(2, 1));
    write(p, &old, &[b"old1".to_vec(), b"old2".to_vec()]);
    std::fs::create_dir(p.join("junk-dir")).unwrap();
    std::fs::write(p.join("junk-dir/f"), "x").unwrap();

    // Abandoned copy: nothing changes.
    {
        let dest = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
        put_image(&dest, &new, false);
        let src = DirSource::open(&dir_ref(p)).unwrap();
        assert_serves(&src, &old, None);
    }
    let mut before = expected_names(&old, &["junk-dir", "signature-1", "signature-2"]);
    before.sort();
    assert_eq!(names(p), before);

    // A committed copy replaces everything, including stale staging dirs of dead copies,
    // but not the staging dir of a live one.
    std::fs::create_dir(p.join(".ferry-tmp-dead")).unwrap();
    let live = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
    let live_staging = live.staging_path().unwrap().to_path_buf();
    write(p, &new, &[b"new".to_vec()]);
    assert!(live_staging.is_dir());
    drop(live);
    assert_eq!(names(p), expected_names(&new, &["signature-1"]));
    let src = DirSource::open(&dir_ref(p)).unwrap();
    assert_serves(&src, &new, None);
    assert_eq!(src.signatures(None).unwrap(), [b"new".to_vec()]);
}

#[test]
fn abandoned_copy_to_new_or_empty_dir_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("fresh");
    {
        let dest = DirDestination::open(&dir_ref(&fresh), &SystemContext::default()).unwrap();
        assert!(fresh.join("version").is_file());
        put_image(&dest, &image(1, 1), false);
    }
    assert!(!fresh.exists());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    {
        let dest = DirDestination::open(&dir_ref(&empty), &SystemContext::default()).unwrap();
        put_image(&dest, &image(1, 1), false);
    }
    assert!(names(&empty).is_empty());
}

/// skopeo wipes the destination at open, so `dir:X` → `dir:X` destroys X; ferry does not.
#[test]
fn copy_onto_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let img = image(7, 2);
    write(p, &img, &[]);
    let src = DirSource::open(&dir_ref(p)).unwrap();
    let dest = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
    for (d, _) in &img.blobs {
        let (mut r, size) = src.blob(&BlobInfo::new(d.clone(), None)).unwrap();
        let info = PutBlobInfo {
            digest: Some(d.clone()),
            size,
            ..Default::default()
        };
        dest.put_blob(&mut r, &info).unwrap();
    }
    dest.put_manifest(&src.manifest(None).unwrap(), None)
        .unwrap();
    Box::new(dest).commit().unwrap();
    assert_serves(&DirSource::open(&dir_ref(p)).unwrap(), &img, None);
    assert_eq!(names(p), expected_names(&img, &[]));
}

#[test]
fn reuse_only_sees_this_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path();
    let img = image(1, 1);
    write(p, &img, &[]);
    let dest = DirDestination::open(&dir_ref(p), &SystemContext::default()).unwrap();
    let info = BlobInfo::new(img.blobs[1].0.clone(), None);
    // The old copy's blob will be wiped at commit: it cannot be reused.
    assert!(dest.try_reuse_blob(&info).unwrap().is_none());
    put_image(&dest, &img, false);
    let found = dest.try_reuse_blob(&info).unwrap().unwrap();
    assert_eq!(found.size, Some(img.blobs[1].1.len() as u64));
}

#[test]
fn source_errors_name_their_object() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let src = DirSource::open(&dir_ref(&missing)).unwrap();
    let err = src.manifest(None).unwrap_err();
    assert!(err.to_string().contains("missing/manifest.json"), "{err}");
    // skopeo 1.9.3 exits 1 here, not 2.
    assert!(!err.is_not_found());

    let img = image(2, 2);
    write(tmp.path(), &img, &[]);
    let (d, _) = &img.blobs[2];
    std::fs::remove_file(tmp.path().join(d.hex())).unwrap();
    let src = DirSource::open(&dir_ref(tmp.path())).unwrap();
    let err = src.blob(&BlobInfo::new(d.clone(), None)).err().unwrap();
    assert!(err.to_string().contains(&d.to_string()), "{err}");
}
