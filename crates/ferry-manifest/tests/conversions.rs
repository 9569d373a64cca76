//! The conversion table: every source manifest type × every target format → the MIME
//! type of the result (sniffed from the produced bytes) or the expected error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ferry_manifest::mime::*;
use ferry_manifest::{Descriptor, Manifest, ManifestError, guess_mime_type, parse};
use ferry_reference::Digest;

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn schema1_unsigned() -> Vec<u8> {
    let id = "c".repeat(64);
    format!(
        r#"{{"schemaVersion":1,"name":"x","tag":"t","architecture":"amd64","fsLayers":[{{"blobSum":"sha256:{}"}}],"history":[{{"v1Compatibility":"{{\"id\":\"{id}\"}}"}}]}}"#,
        "d".repeat(64)
    )
    .into_bytes()
}

fn oci_with_layer_type(t: &str) -> Vec<u8> {
    String::from_utf8_lossy(&fixture("oci-image/manifest.json"))
        .replace(OCI_LAYER_GZIP, t)
        .into_bytes()
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Mime(&'static str),
    Unsupported,
    UnknownTarget,
    NonImage,
    Conversion(&'static str),
}
use Outcome::*;

fn convert(bytes: &[u8], target: &str) -> Outcome {
    let result = match parse(bytes, "") {
        Ok(Manifest::Image(m)) => {
            let layers: Vec<Descriptor> = m.layers().into_iter().map(|l| l.descriptor).collect();
            // schema2→OCI and schema1→anything need the converted config's descriptor.
            let diff_ids = vec![Digest::sha256_of(b"layer"); layers.len()];
            let config = m
                .target_config(
                    target,
                    Some(b"{\"architecture\":\"amd64\",\"os\":\"linux\"}"),
                    Some(&diff_ids),
                )
                .ok()
                .flatten()
                .map(|c| Descriptor::new(OCI_CONFIG, Digest::sha256_of(&c), c.len() as i64));
            m.to_format(target, config.as_ref(), &layers)
        }
        Ok(Manifest::List(l)) => l.to_format(target, l.instances()),
        Err(e) => panic!("source does not parse: {e}"),
    };
    match result {
        Ok(out) => {
            let mime = guess_mime_type(&out);
            // The output parses back as what it claims to be.
            assert!(
                parse(&out, mime).is_ok(),
                "{}",
                String::from_utf8_lossy(&out)
            );
            Mime(mime)
        }
        Err(ManifestError::UnsupportedConversion { .. }) => Unsupported,
        Err(ManifestError::UnsupportedType(_)) => UnknownTarget,
        Err(ManifestError::NonImageArtifact(_)) => NonImage,
        Err(ManifestError::Conversion(msg)) if msg.contains("zstd") => Conversion("zstd"),
        Err(ManifestError::Conversion(msg)) if msg.starts_with("Unknown media type") => {
            Conversion("unknown")
        }
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

#[test]
fn every_source_to_every_target() {
    const TARGETS: [&str; 7] = [
        DOCKER_V2S1,
        DOCKER_V2S1_SIGNED,
        DOCKER_V2S2,
        OCI_MANIFEST,
        DOCKER_V2_LIST,
        OCI_INDEX,
        "application/x-bogus",
    ];
    let sources: Vec<(&str, Vec<u8>, [Outcome; 7])> = vec![
        (
            "schema1",
            schema1_unsigned(),
            [
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2S2),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "schema1 signed",
            fixture("schema1/manifest.json"),
            [
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2S2),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "schema2",
            fixture("docker-image/manifest.json"),
            [
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2S2),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "oci",
            fixture("oci-image/manifest.json"),
            [
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2S2),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "oci artifact",
            fixture("artifact/manifest.json"),
            [
                Unsupported,
                Unsupported,
                NonImage,
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "oci zstd",
            oci_with_layer_type(OCI_LAYER_ZSTD),
            [
                Unsupported,
                Unsupported,
                Conversion("zstd"),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "oci nondist zstd",
            oci_with_layer_type(OCI_LAYER_NONDIST_ZSTD),
            [
                Unsupported,
                Unsupported,
                Conversion("zstd"),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "oci encrypted",
            oci_with_layer_type(OCI_LAYER_GZIP_ENC),
            [
                Unsupported,
                Unsupported,
                Conversion("unknown"),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "oci nondist gzip",
            oci_with_layer_type(OCI_LAYER_NONDIST_GZIP),
            [
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2S2),
                Mime(OCI_MANIFEST),
                Unsupported,
                Unsupported,
                UnknownTarget,
            ],
        ),
        (
            "docker list",
            fixture("docker-list/manifest.json"),
            [
                Unsupported,
                Unsupported,
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2_LIST),
                Mime(OCI_INDEX),
                UnknownTarget,
            ],
        ),
        (
            "oci index",
            fixture("oci-index/manifest.json"),
            [
                Unsupported,
                Unsupported,
                Unsupported,
                Unsupported,
                Mime(DOCKER_V2_LIST),
                Mime(OCI_INDEX),
                UnknownTarget,
            ],
        ),
    ];
    for (name, bytes, expected) in sources {
        for (target, want) in TARGETS.iter().zip(expected) {
            assert_eq!(convert(&bytes, target), want, "{name} → {target}");
        }
    }
}

#[test]
fn same_format_rewrite_keeps_oci_fields_and_updates_layers() -> Result<(), ManifestError> {
    let Manifest::Image(m) = parse(&fixture("artifact/manifest.json"), "")? else {
        panic!("not an image");
    };
    let mut layers: Vec<Descriptor> = m.layers().into_iter().map(|l| l.descriptor).collect();
    layers[0].digest = Digest::sha256_of(b"new");
    layers[0].size = 3;
    let out = String::from_utf8_lossy(&m.to_format(OCI_MANIFEST, None, &layers)?).into_owned();
    assert!(out.starts_with(
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example","config":"#
    ), "{out}");
    assert!(
        out.contains(&format!(
            r#""digest":"{}","size":3}}"#,
            Digest::sha256_of(b"new")
        )),
        "{out}"
    );
    assert!(out.ends_with(r#""annotations":{"k":"v"}}"#), "{out}");
    // A Docker layer type given for an OCI manifest is mapped.
    layers[0].media_type = DOCKER_LAYER_GZIP.into();
    let out = String::from_utf8_lossy(&m.to_format(OCI_MANIFEST, None, &layers)?).into_owned();
    assert!(
        out.contains(OCI_LAYER_GZIP) && !out.contains(DOCKER_LAYER_GZIP),
        "{out}"
    );
    Ok(())
}

#[test]
fn oci_to_v2s2_drops_oci_only_fields() -> Result<(), ManifestError> {
    let Manifest::Image(m) = parse(&fixture("oci-image/manifest.json"), "")? else {
        panic!("not an image");
    };
    let mut layers: Vec<Descriptor> = m.layers().into_iter().map(|l| l.descriptor).collect();
    layers[0].annotations = Some([("a".to_string(), "b".to_string())].into());
    layers[0].urls = vec!["https://example.com/<x>".into()];
    let out = String::from_utf8_lossy(&m.to_format(DOCKER_V2S2, None, &layers)?).into_owned();
    assert!(!out.contains("annotations"), "{out}");
    // Docker descriptor order: mediaType, size, digest, urls; HTML-escaped like Go.
    assert!(
        out.contains(r#","urls":["https://example.com/\u003cx\u003e"]}"#),
        "{out}"
    );
    Ok(())
}

#[test]
fn index_to_list_gives_platformless_entries_the_host_platform() -> Result<(), ManifestError> {
    let Manifest::List(l) = parse(&fixture("oci-index/manifest.json"), "")? else {
        panic!("not a list");
    };
    let out = l.to_format(DOCKER_V2_LIST, l.instances())?;
    let Manifest::List(dl) = parse(&out, "")? else {
        panic!("not a list");
    };
    let last = dl
        .instances()
        .last()
        .and_then(|d| d.platform.clone())
        .unwrap_or_default();
    assert_eq!(last.os, ferry_manifest::platform::host_os());
    assert_eq!(last.architecture, ferry_manifest::platform::host_arch());
    // Same-format rewrite keeps the index annotations; the Docker list has none.
    let same = String::from_utf8_lossy(&l.to_format(OCI_INDEX, l.instances())?).into_owned();
    assert!(
        same.ends_with(r#""annotations":{"org.example":"\u003cindex\u003e"}}"#),
        "{same}"
    );
    assert!(!String::from_utf8_lossy(&out).contains("annotations"));
    Ok(())
}
