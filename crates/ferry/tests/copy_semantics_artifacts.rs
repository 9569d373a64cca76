//! OCI artifacts (a Helm chart with its own config type, a wasm module with
//! `artifactType` and the empty config) and an index nested in an index copy unchanged
//! between `oci:`, `dir:` and a real registry: same manifest digests, same blobs.
//! Artifacts to `dir:` are byte-identical to skopeo's copy; a nested index, which
//! skopeo cannot copy, is copied whole with `--all`, and `--multi-arch system` descends
//! into it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "copy_semantics_common.rs"]
mod common;

use std::path::Path;

use common::*;
use ferry_test::{diff_trees, require_skopeo, run, run_fail, skopeo};

/// Every file of an OCI layout's blob store.
fn blobs(layout: &Path) -> Vec<(String, Vec<u8>)> {
    let dir = layout.join("blobs/sha256");
    let mut v: Vec<(String, Vec<u8>)> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs_err::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The descriptor `index.json` holds for `tag`.
fn tagged(layout: &Path, tag: &str) -> serde_json::Value {
    let index = read_json(&layout.join("index.json"));
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .cloned()
        .unwrap_or_else(|| panic!("{tag} not in {}", layout.display()))
}

#[test]
fn artifacts_copy_unchanged_through_dir_and_oci_like_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let art = fx.artifacts();
    for tag in ["helm", "wasm"] {
        let src = format!("oci:{}:{tag}", art.display());
        let want = tagged(&art, tag);
        // dir:, byte for byte what skopeo writes.
        let (a, b) = (fx.path(&format!("f-{tag}")), fx.path(&format!("s-{tag}")));
        run(ferry().args(["copy", "-q", &src, &dir_ref(&a)]));
        run(skopeo().args(["copy", "-q", &src, &dir_ref(&b)]));
        if let Err(e) = diff_trees(&a, &b) {
            panic!("{tag} to dir: ferry (A) vs skopeo (B):\n{e}");
        }
        assert_eq!(manifest_digest(&a), want["digest"].as_str().unwrap());
        // dir: → oci: → oci-archive: → oci:, still the same manifest and blobs.
        let o = fx.path(&format!("oci-{tag}"));
        let arch = fx.path(&format!("{tag}.tar"));
        let o2 = fx.path(&format!("oci2-{tag}"));
        run(ferry().args([
            "copy",
            "-q",
            &dir_ref(&a),
            &format!("oci:{}:{tag}", o.display()),
        ]));
        run(ferry().args([
            "copy",
            "-q",
            &format!("oci:{}:{tag}", o.display()),
            &format!("oci-archive:{}:{tag}", arch.display()),
        ]));
        run(ferry().args([
            "copy",
            "-q",
            &format!("oci-archive:{}:{tag}", arch.display()),
            &format!("oci:{}:{tag}", o2.display()),
        ]));
        for layout in [&o, &o2] {
            assert_eq!(tagged(layout, tag)["digest"], want["digest"], "{tag}");
        }
        let src_blobs: Vec<(String, Vec<u8>)> = blobs(&art)
            .into_iter()
            .filter(|(n, _)| blobs(&o2).iter().any(|(m, _)| m == n))
            .collect();
        assert_eq!(blobs(&o2), src_blobs, "{tag}");
    }
    // Image-only conversions are refused with skopeo's words.
    let src = format!("oci:{}:helm", art.display());
    let e = run_fail(ferry().args(["copy", "--format", "v2s2", &src, &dir_ref(&fx.path("x"))]));
    assert!(
        error_message(&e).ends_with(
            "unsupported image-specific operation on artifact with type \"application/vnd.cncf.helm.config.v1+json\""
        ),
        "{}",
        error_message(&e)
    );
}

#[test]
fn nested_indexes_copy_whole_with_all() {
    let mut fx = Fx::new();
    let art = fx.artifacts();
    let src = format!("oci:{}:nested", art.display());
    let want = tagged(&art, "nested");
    let d = fx.path("nested-dir");
    let o = fx.path("nested-oci");
    run(ferry().args(["copy", "-q", "--all", &src, &dir_ref(&d)]));
    assert_eq!(manifest_digest(&d), want["digest"].as_str().unwrap());
    run(ferry().args([
        "copy",
        "-q",
        "--all",
        &dir_ref(&d),
        &format!("oci:{}:n", o.display()),
    ]));
    assert_eq!(tagged(&o, "n")["digest"], want["digest"]);
    // Every blob that made the round trip (the index, the inner index, the images, the
    // chart) is the source's, unchanged.
    let got = blobs(&o);
    for (name, bytes) in &got {
        let original = fs_err::read(art.join("blobs/sha256").join(name)).unwrap();
        assert_eq!(*bytes, original, "{name}");
    }
    let outer = read_json(&d.join("manifest.json"));
    for m in outer["manifests"].as_array().unwrap() {
        let hex = &m["digest"].as_str().unwrap()[7..];
        assert!(got.iter().any(|(n, _)| n == hex), "{hex} missing");
    }
    // --multi-arch system descends into the inner index: the host's image.
    let host = fx
        .multi_sources()
        .fixture
        .host_image()
        .manifest
        .digest
        .clone();
    let one = fx.path("nested-system");
    run(ferry().args(["copy", "-q", &src, &dir_ref(&one)]));
    assert_eq!(manifest_digest(&one), host);
}

#[test]
fn artifacts_and_nested_indexes_round_trip_through_a_registry() {
    let Some(reg) = ferry_test::Registry::start_or_skip() else {
        return;
    };
    let mut fx = Fx::new();
    let art = fx.artifacts();
    for (tag, all) in [("helm", false), ("wasm", false), ("nested", true)] {
        let want = tagged(&art, tag);
        let remote = format!("docker://{}/artifacts/{tag}:v1", reg.host());
        let back = fx.path(&format!("back-{tag}"));
        let mut push = ferry();
        push.args(["copy", "-q", "--dest-tls-verify=false"]);
        if all {
            push.arg("--all");
        }
        run(push.args([&format!("oci:{}:{tag}", art.display()), &remote]));
        let mut pull = ferry();
        pull.args(["copy", "-q", "--src-tls-verify=false"]);
        if all {
            pull.arg("--all");
        }
        run(pull.args([&remote, &format!("oci:{}:{tag}", back.display())]));
        assert_eq!(tagged(&back, tag)["digest"], want["digest"], "{tag}");
        for (name, bytes) in blobs(&back) {
            let original = fs_err::read(art.join("blobs/sha256").join(&name)).unwrap();
            assert_eq!(bytes, original, "{tag}: blob {name}");
        }
    }
}
