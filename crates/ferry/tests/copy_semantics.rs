//! Copy semantics through the `ferry` binary, against the real skopeo 1.9.3:
//!
//! - the conversion table: every source manifest type (OCI, schema2, signed schema1,
//!   OCI with zstd layers, an OCI artifact) × every `--format` → the expected manifest
//!   type or error, and where both tools succeed the same `dir:` tree (schema1 results:
//!   the same manifest digest, since the signature key is ephemeral);
//! - schema1 written by ferry is read, verified and converted by skopeo exactly as
//!   skopeo's own;
//! - multi-arch: `--all`, `--multi-arch all|index-only|os/arch,…`, `--override-arch`
//!   misses (skopeo's message, exit 1);
//! - compression: zstd (level, zstd:chunked) that skopeo reads, automatic OCI for zstd,
//!   `--dest-decompress`, `--dest-compress`, `--dest-oci-accept-uncompressed-layers`, a
//!   layer whose bytes contradict its media type;
//! - `--preserve-digests` and signatures (`--remove-signatures`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "copy_semantics_common.rs"]
mod common;

use std::path::Path;

use common::*;
use ferry_test::{diff_trees, require_skopeo, run, run_fail, run_unchecked, skopeo};

/// What a copy must give.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Success, with this top-level manifest type.
    Type(&'static str),
    /// Failure whose message contains this.
    Fails(&'static str),
}

fn format_args(format: Option<&str>) -> Vec<String> {
    match format {
        Some(f) => vec!["--format".into(), f.into()],
        None => vec![],
    }
}

#[test]
fn conversion_table_matches_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let art = fx.artifacts();
    let sources: Vec<(&str, String)> = vec![
        ("oci", fx.oci()),
        ("schema2", fx.schema2_dir()),
        ("schema1", fx.schema1_dir()),
        ("zstd", fx.zstd_oci()),
        ("helm artifact", format!("oci:{}:helm", art.display())),
    ];
    use Want::*;
    const ARTIFACT: &str = "unsupported image-specific operation on artifact with type \"application/vnd.cncf.helm.config.v1+json\"";
    // Columns: no --format, oci, v2s2, v2s1.
    let table: [(&str, [Want; 4]); 5] = [
        (
            "oci",
            [
                Type(OCI_MANIFEST),
                Type(OCI_MANIFEST),
                Type(V2S2),
                Type(V2S1_SIGNED),
            ],
        ),
        (
            "schema2",
            [
                Type(V2S2),
                Type(OCI_MANIFEST),
                Type(V2S2),
                Type(V2S1_SIGNED),
            ],
        ),
        (
            "schema1",
            [
                Type(V2S1_SIGNED),
                Type(OCI_MANIFEST),
                Type(V2S2),
                Type(V2S1_SIGNED),
            ],
        ),
        // skopeo fails on zstd → Docker types; ferry recompresses those layers to gzip.
        (
            "zstd",
            [
                Type(OCI_MANIFEST),
                Type(OCI_MANIFEST),
                Type(V2S2),
                Type(V2S1_SIGNED),
            ],
        ),
        (
            "helm artifact",
            [
                Type(OCI_MANIFEST),
                Type(OCI_MANIFEST),
                Fails(ARTIFACT),
                Fails(ARTIFACT),
            ],
        ),
    ];
    let formats = [None, Some("oci"), Some("v2s2"), Some("v2s1")];
    let mut failures = Vec::new();
    for (name, wants) in table {
        let src = &sources.iter().find(|(n, _)| *n == name).unwrap().1;
        for (format, want) in formats.iter().zip(wants) {
            let case = format!("{name} --format {}", format.unwrap_or("(none)"));
            let tag = format!("{}-{}", name.replace(' ', "-"), format.unwrap_or("none"));
            let (a, b) = (fx.path(&format!("f-{tag}")), fx.path(&format!("s-{tag}")));
            let mut cmd = ferry();
            cmd.arg("copy")
                .arg("-q")
                .args(format_args(*format))
                .arg(src)
                .arg(dir_ref(&a));
            let out = run_unchecked(&mut cmd);
            let mut scmd = skopeo();
            scmd.arg("copy")
                .arg("-q")
                .args(format_args(*format))
                .arg(src)
                .arg(dir_ref(&b));
            let sout = run_unchecked(&mut scmd);
            match want {
                Fails(text) => {
                    if out.status.success() {
                        failures.push(format!("{case}: ferry succeeded, expected an error"));
                    } else if !error_message(&out).contains(text) {
                        failures.push(format!("{case}: ferry said {:?}", error_message(&out)));
                    }
                    if sout.status.success() || !error_message(&sout).contains(text) {
                        failures.push(format!(
                            "{case}: skopeo no longer fails with {text:?}: {}",
                            error_message(&sout)
                        ));
                    }
                }
                Type(t) => {
                    if !out.status.success() {
                        failures.push(format!("{case}: ferry failed: {}", error_message(&out)));
                        continue;
                    }
                    if manifest_type(&a) != t {
                        failures.push(format!("{case}: ferry wrote {}", manifest_type(&a)));
                    }
                    if !sout.status.success() {
                        // Only where ferry is deliberately better (zstd → Docker types):
                        // skopeo must read ferry's result, with the same layer contents.
                        assert_eq!(
                            name,
                            "zstd",
                            "{case}: skopeo failed: {}",
                            error_message(&sout)
                        );
                        let back = fx.path(&format!("back-{tag}"));
                        run(skopeo().args([
                            "copy",
                            "-q",
                            "--format",
                            "oci",
                            &dir_ref(&a),
                            &dir_ref(&back),
                        ]));
                        let want_ids = fx.oci_sources().fixture.host_image().diff_ids();
                        assert_eq!(layer_diff_ids(&back), want_ids, "{case}");
                        assert!(
                            layer_types(&a).iter().all(|t| !t.contains("zstd")),
                            "{case}"
                        );
                        continue;
                    }
                    if t == V2S1_SIGNED {
                        // Ephemeral signing keys: same payload digest, same other files.
                        if manifest_digest(&a) != manifest_digest(&b) {
                            failures.push(format!("{case}: schema1 digests differ"));
                        }
                        for dir in [&a, &b] {
                            let sig = read_json(&dir.join("manifest.json"));
                            assert_eq!(
                                sig["signatures"].as_array().map(Vec::len),
                                Some(1),
                                "{case}"
                            );
                        }
                        let without = |p: &Path| -> Vec<String> {
                            let mut v: Vec<String> = fs_err::read_dir(p)
                                .unwrap()
                                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                                .collect();
                            v.sort();
                            v
                        };
                        assert_eq!(without(&a), without(&b), "{case}: files");
                    } else if let Err(e) = diff_trees(&a, &b) {
                        failures.push(format!("{case}: ferry (A) vs skopeo (B):\n{e}"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A schema1 manifest written by ferry: skopeo inspects it (same digest), and converts
/// it to v2s2 exactly as it converts its own schema1 of the same image.
#[test]
fn ferry_schema1_is_read_and_converted_by_skopeo_like_its_own() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.oci();
    let ours = fx.path("ours-v2s1");
    run(ferry().args(["copy", "-q", "--format", "v2s1", &src, &dir_ref(&ours)]));
    let m = read_json(&ours.join("manifest.json"));
    assert_eq!(m["schemaVersion"], 1);
    let sig = &m["signatures"][0];
    assert_eq!(sig["header"]["alg"], "ES256");
    assert_eq!(sig["header"]["jwk"]["crv"], "P-256");
    assert_eq!(sig["header"]["jwk"]["kty"], "EC");
    let kid = sig["header"]["jwk"]["kid"].as_str().unwrap();
    assert_eq!(kid.split(':').count(), 12, "{kid}");
    // The empty layer schema1 refers to is at the destination.
    assert!(
        ours.join("a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4")
            .is_file()
    );

    let inspect = run(skopeo().args(["inspect", &dir_ref(&ours)]));
    let v: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(v["Digest"], manifest_digest(&ours).as_str());
    // Two signatures by two different keys, one conversion result.
    let theirs = fx.schema1_dir();
    let (a, b) = (fx.path("ours-to-v2s2"), fx.path("theirs-to-v2s2"));
    run(skopeo().args([
        "copy",
        "-q",
        "--format",
        "v2s2",
        &dir_ref(&ours),
        &dir_ref(&a),
    ]));
    run(skopeo().args(["copy", "-q", "--format", "v2s2", &theirs, &dir_ref(&b)]));
    if let Err(e) = diff_trees(&a, &b) {
        panic!("skopeo's v2s2 from ferry's schema1 (A) vs from its own (B):\n{e}");
    }
    // And ferry converts skopeo's schema1 to the same bytes skopeo does (DiffIDs
    // computed by decompressing each layer, throwaway layers dropped).
    for (format, what) in [("v2s2", "v2s2"), ("oci", "OCI")] {
        let (f, s) = (
            fx.path(&format!("f1-{format}")),
            fx.path(&format!("s1-{format}")),
        );
        run(ferry().args(["copy", "-q", "--format", format, &theirs, &dir_ref(&f)]));
        run(skopeo().args(["copy", "-q", "--format", format, &theirs, &dir_ref(&s)]));
        if let Err(e) = diff_trees(&f, &s) {
            panic!("schema1 → {what}: ferry (A) vs skopeo (B):\n{e}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Multi-arch.

#[test]
fn list_copies_match_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.multi();
    for args in [
        vec!["--all"],
        vec!["--multi-arch", "all"],
        vec!["--multi-arch", "index-only"],
        vec!["--multi-arch", "system"],
        vec!["--all", "--format", "v2s2"],
        vec!["--all", "--preserve-digests"],
    ] {
        let tag = args.join("_").replace("--", "");
        let (a, b) = (fx.path(&format!("f-{tag}")), fx.path(&format!("s-{tag}")));
        run(ferry()
            .arg("copy")
            .arg("-q")
            .args(&args)
            .arg(&src)
            .arg(dir_ref(&a)));
        run(skopeo()
            .arg("copy")
            .arg("-q")
            .args(&args)
            .arg(&src)
            .arg(dir_ref(&b)));
        if let Err(e) = diff_trees(&a, &b) {
            panic!("copy {}: ferry (A) vs skopeo (B):\n{e}", args.join(" "));
        }
    }
}

#[test]
fn platform_lists_copy_every_variant_of_the_named_platforms() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.multi();
    let all = fx.path("all-by-skopeo");
    run(skopeo().args(["copy", "-q", "--all", &src, &dir_ref(&all)]));
    let list = read_json(&all.join("manifest.json"));
    let arm64 = list["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["platform"]["architecture"] == "arm64")
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();

    // linux/arm64 (the instance is linux/arm64/v8): that instance, the list unchanged.
    let one = fx.path("arm64");
    let out = run(ferry().args(["copy", "--multi-arch", "linux/arm64", &src, &dir_ref(&one)]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Copying 1 of 2 images in list"), "{stderr}");
    assert_eq!(
        fs_err::read(one.join("manifest.json")).unwrap(),
        fs_err::read(all.join("manifest.json")).unwrap()
    );
    let mut names: Vec<String> = fs_err::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.contains(&format!("{}.manifest.json", &arm64[7..])),
        "{names:?}"
    );
    assert_eq!(
        names
            .iter()
            .filter(|n| n.ends_with(".manifest.json"))
            .count(),
        1
    );
    for n in &names {
        assert_eq!(
            fs_err::read(one.join(n)).unwrap(),
            fs_err::read(all.join(n)).unwrap(),
            "{n}"
        );
    }

    // Both platforms = --all.
    let both = fx.path("both");
    run(ferry().args([
        "copy",
        "-q",
        "--multi-arch",
        "linux/arm64,linux/amd64",
        &src,
        &dir_ref(&both),
    ]));
    if let Err(e) = diff_trees(&both, &all) {
        panic!("--multi-arch linux/arm64,linux/amd64 (A) vs skopeo --all (B):\n{e}");
    }

    // A platform the list does not have: exit 1, nothing written.
    let none = fx.path("s390x");
    let out = run_fail(ferry().args([
        "copy",
        "--multi-arch",
        "linux/amd64,linux/s390x",
        &src,
        &dir_ref(&none),
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_message(&out),
        "finding instance for platform linux/s390x: no image found in image index for architecture s390x, variant \"\", OS linux"
    );
    assert!(!none.join("manifest.json").exists());
}

#[test]
fn missing_system_platform_fails_like_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.multi();
    let args = [
        "copy",
        "--override-arch",
        "s390x",
        &src,
        "dir:/nonexistent/never",
    ];
    let f = run_fail(ferry().args(args));
    let s = run_fail(skopeo().args(args));
    assert_eq!(f.status.code(), s.status.code());
    assert_eq!(error_message(&f), error_message(&s));
}

// ---------------------------------------------------------------------------------------
// Compression.

#[test]
fn zstd_layers_are_read_by_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.oci();
    let want = fx.oci_sources().fixture.host_image().diff_ids();
    for (tag, extra) in [
        ("default", vec![]),
        ("level19", vec!["--dest-compress-level", "19"]),
        ("chunked", vec![]),
    ] {
        let format = if tag == "chunked" {
            "zstd:chunked"
        } else {
            "zstd"
        };
        let out_dir = fx.path(&format!("zstd-{tag}"));
        let out = run(ferry()
            .args(["copy", "--dest-compress-format", format])
            .args(&extra)
            .arg(&src)
            .arg(format!("oci:{}:z", out_dir.display())));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.contains("zstd:chunked is written as plain zstd"),
            tag == "chunked",
            "{stderr}"
        );
        // skopeo reads it: inspect, and a copy that decompresses every layer.
        run(skopeo().args(["inspect", &format!("oci:{}:z", out_dir.display())]));
        let back = fx.path(&format!("zstd-{tag}-back"));
        run(skopeo().args([
            "copy",
            "-q",
            "--dest-decompress",
            &format!("oci:{}:z", out_dir.display()),
            &dir_ref(&back),
        ]));
        assert_eq!(layer_diff_ids(&back), want, "{tag}");
        let dir_copy = fx.path(&format!("zstd-{tag}-dir"));
        run(ferry().args([
            "copy",
            "-q",
            &format!("oci:{}:z", out_dir.display()),
            &dir_ref(&dir_copy),
        ]));
        assert!(
            layer_types(&dir_copy)
                .iter()
                .all(|t| t == "application/vnd.oci.image.layer.v1.tar+zstd"),
            "{tag}: {:?}",
            layer_types(&dir_copy)
        );
    }
    // A higher level gives different (no larger) layers.
    let size = |tag: &str| -> u64 {
        let d = fx.path(&format!("zstd-{tag}-dir"));
        let m = read_json(&d.join("manifest.json"));
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["size"].as_u64().unwrap())
            .sum()
    };
    assert!(size("level19") <= size("default"));
    assert_ne!(
        manifest_digest(&fx.path("zstd-level19-dir")),
        manifest_digest(&fx.path("zstd-default-dir"))
    );
}

#[test]
fn zstd_needs_oci_manifests() {
    let mut fx = Fx::new();
    let src = fx.schema2_dir();
    // A schema2 image compressed with zstd becomes OCI (Docker types cannot say zstd).
    let out = fx.path("s2-zstd");
    run(ferry().args([
        "copy",
        "-q",
        "--dest-compress",
        "--dest-compress-format",
        "zstd",
        &src,
        &dir_ref(&out),
    ]));
    assert_eq!(manifest_type(&out), OCI_MANIFEST);
    assert!(layer_types(&out).iter().all(|t| t.ends_with("+zstd")));
    // ... unless v2s2 is forced: a clear error before any layer is written.
    let forced = fx.path("s2-zstd-forced");
    let e = run_fail(ferry().args([
        "copy",
        "--dest-compress",
        "--dest-compress-format",
        "zstd",
        "--format",
        "v2s2",
        &src,
        &dir_ref(&forced),
    ]));
    assert_eq!(
        error_message(&e),
        "zstd compression can only be described by OCI manifests, and the destination accepts only application/vnd.docker.distribution.manifest.v2+json"
    );
}

#[test]
fn decompress_compress_and_uncompressed_oci_layers_match_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let src = fx.oci();
    let plain = fx.plain_dir();
    // --dest-decompress: byte-identical to skopeo (decompression is deterministic).
    let (a, b) = (fx.path("f-decompress"), fx.path("s-decompress"));
    run(ferry().args(["copy", "-q", "--dest-decompress", &src, &dir_ref(&a)]));
    run(skopeo().args(["copy", "-q", "--dest-decompress", &src, &dir_ref(&b)]));
    if let Err(e) = diff_trees(&a, &b) {
        panic!("--dest-decompress: ferry (A) vs skopeo (B):\n{e}");
    }
    assert!(
        layer_types(&a)
            .iter()
            .all(|t| t == "application/vnd.oci.image.layer.v1.tar")
    );

    // --dest-oci-accept-uncompressed-layers: stored as they are, like skopeo.
    let (a, b) = (fx.path("f-accept"), fx.path("s-accept"));
    for (tool, p) in [(ferry(), &a), (skopeo(), &b)] {
        let mut tool = tool;
        run(tool.args([
            "copy",
            "-q",
            "--dest-oci-accept-uncompressed-layers",
            &plain,
            &format!("oci:{}:x", p.display()),
        ]));
    }
    if let Err(e) = diff_trees(&a, &b) {
        panic!("--dest-oci-accept-uncompressed-layers: ferry (A) vs skopeo (B):\n{e}");
    }
    // Without it, oci: compresses; with --dest-compress, dir: compresses: gzip layers
    // whose contents skopeo reads back unchanged.
    let want = fx.oci_sources().fixture.host_image().diff_ids();
    let oci = fx.path("f-oci-compressed");
    run(ferry().args(["copy", "-q", &plain, &format!("oci:{}:x", oci.display())]));
    let dir = fx.path("f-dir-compressed");
    run(ferry().args(["copy", "-q", "--dest-compress", &plain, &dir_ref(&dir)]));
    for (what, r) in [
        ("oci:", format!("oci:{}:x", oci.display())),
        ("dir: --dest-compress", dir_ref(&dir)),
    ] {
        let back = fx.path(&format!("back-{}", what.replace([':', ' '], "")));
        run(skopeo().args(["copy", "-q", &r, &dir_ref(&back)]));
        assert!(
            layer_types(&back).iter().all(|t| t.ends_with("tar+gzip")),
            "{what}: {:?}",
            layer_types(&back)
        );
        assert_eq!(layer_diff_ids(&back), want, "{what}");
    }
}

/// An OCI layout whose layers say uncompressed but hold gzip (the OCI fixture,
/// relabelled).
fn mislabelled(fx: &mut Fx) -> String {
    let src = fx.oci();
    let path = fx.path("mislabelled");
    run(ferry().args(["copy", "-q", &src, &format!("oci:{}:z", path.display())]));
    let index = read_json(&path.join("index.json"));
    let old = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = |d: &str| path.join("blobs/sha256").join(&d[7..]);
    let m = String::from_utf8(fs_err::read(blob(&old)).unwrap()).unwrap();
    let m = m.replace("tar+gzip", "tar");
    let d = ferry_test::sha256_bytes(m.as_bytes());
    fs_err::write(blob(&d), &m).unwrap();
    let index = serde_json::to_string(&index)
        .unwrap()
        .replace(&old, &d)
        .replace(
            &format!("\"size\":{}", fs_err::metadata(blob(&old)).unwrap().len()),
            &format!("\"size\":{}", m.len()),
        );
    fs_err::write(path.join("index.json"), index).unwrap();
    format!("oci:{}:z", path.display())
}

#[test]
fn layers_contradicting_their_media_type_are_an_error_when_converting() {
    let mut fx = Fx::new();
    let src = mislabelled(&mut fx);
    // Copied as they are: a faithful copy, no error.
    let same = fx.path("same");
    run(ferry().args(["copy", "-q", &src, &dir_ref(&same)]));
    // Converted: the new manifest would describe gzip bytes as uncompressed.
    let e = run_fail(ferry().args([
        "copy",
        "--format",
        "v2s2",
        &src,
        &dir_ref(&fx.path("converted")),
    ]));
    let msg = error_message(&e);
    assert!(
        msg.contains("layer media type application/vnd.oci.image.layer.v1.tar declares uncompressed content, but the blob is gzip"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------
// Digests and signatures.

#[test]
fn preserve_digests_fails_rather_than_changing_digests() {
    let mut fx = Fx::new();
    let src = fx.oci();
    let plain = fx.path("plain");
    run(ferry().args(["copy", "-q", "--preserve-digests", &src, &dir_ref(&plain)]));
    assert_eq!(manifest_digest(&plain), fx.oci_sources().fixture.top.digest);
    let conv = run_fail(ferry().args([
        "copy",
        "--preserve-digests",
        "--format",
        "v2s2",
        &src,
        &dir_ref(&fx.path("conv")),
    ]));
    assert!(
        error_message(&conv)
            .ends_with("the manifest cannot be converted: Instructed to preserve digests"),
        "{}",
        error_message(&conv)
    );
    let recompress = run_fail(ferry().args([
        "copy",
        "--preserve-digests",
        "--dest-compress-format",
        "zstd",
        &src,
        &format!("oci:{}:x", fx.path("recompress").display()),
    ]));
    let msg = error_message(&recompress);
    assert!(
        msg.contains("recompressing it to zstd would change its digest, which is not allowed: Instructed to preserve digests"),
        "{msg}"
    );
    let decompress = run_fail(ferry().args([
        "copy",
        "--preserve-digests",
        "--dest-decompress",
        &src,
        &dir_ref(&fx.path("decompress")),
    ]));
    assert!(
        error_message(&decompress).contains("decompressing it would change its digest"),
        "{}",
        error_message(&decompress)
    );
}

/// The OCI fixture as `dir:` with a (simple-signing-shaped) signature.
fn signed_dir(fx: &mut Fx) -> String {
    let p = fx.path("signed");
    let src = fx.oci();
    run(ferry().args(["copy", "-q", &src, &dir_ref(&p)]));
    fs_err::write(p.join("signature-1"), b"\xa3not-really-a-signature").unwrap();
    dir_ref(&p)
}

#[test]
fn signatures_are_carried_refused_or_removed_like_skopeo() {
    if !require_skopeo() {
        return;
    }
    let mut fx = Fx::new();
    let signed = signed_dir(&mut fx);
    // oci: cannot store signatures: skopeo's error, word for word.
    let dest = format!("oci:{}:x", fx.path("oci-dest").display());
    let f = run_fail(ferry().args(["copy", &signed, &dest]));
    let s = run_fail(skopeo().args(["copy", &signed, &dest]));
    assert_eq!(error_message(&f), error_message(&s));
    // dir: keeps them.
    let kept = fx.path("kept");
    run(ferry().args(["copy", "-q", &signed, &dir_ref(&kept)]));
    assert_eq!(
        fs_err::read(kept.join("signature-1")).unwrap(),
        b"\xa3not-really-a-signature"
    );
    // --remove-signatures: no signature, no "Getting image source signatures", and a
    // conversion is allowed again (same result as skopeo).
    let (a, b) = (fx.path("f-removed"), fx.path("s-removed"));
    let fo = run(ferry().args([
        "copy",
        "--remove-signatures",
        "--format",
        "v2s2",
        &signed,
        &dir_ref(&a),
    ]));
    let so = run(skopeo().args([
        "copy",
        "--remove-signatures",
        "--format",
        "v2s2",
        &signed,
        &dir_ref(&b),
    ]));
    if let Err(e) = diff_trees(&a, &b) {
        panic!("--remove-signatures --format v2s2: ferry (A) vs skopeo (B):\n{e}");
    }
    assert!(!a.join("signature-1").exists());
    let ferry_lines = String::from_utf8_lossy(&fo.stderr).into_owned();
    let skopeo_lines = String::from_utf8_lossy(&so.stdout).into_owned();
    assert!(
        !ferry_lines.contains("Getting image source signatures"),
        "{ferry_lines}"
    );
    assert!(
        !skopeo_lines.contains("Getting image source signatures"),
        "{skopeo_lines}"
    );
    // Signed and converted without removing them: an error (skopeo would silently
    // ignore --format and write the source type).
    let e = run_fail(ferry().args([
        "copy",
        "--format",
        "v2s2",
        &signed,
        &dir_ref(&fx.path("conv")),
    ]));
    assert!(
        error_message(&e)
            .ends_with("the manifest cannot be converted: Would invalidate signatures"),
        "{}",
        error_message(&e)
    );
}
