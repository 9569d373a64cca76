//! Byte-for-byte comparisons with what skopeo 1.9.3 produced (tests/fixtures, see its
//! README): conversions, converted configs, `inspect --config` JSON, digests, errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ferry_manifest::config::{OciImage, docker_config_to_oci};
use ferry_manifest::mime::{
    DOCKER_V2_LIST, DOCKER_V2S1_SIGNED, DOCKER_V2S2, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};
use ferry_manifest::{Descriptor, ImageManifest, Manifest, ManifestList, gojson};
use ferry_reference::Digest;

type R = Result<(), Box<dyn std::error::Error>>;

fn fixture(path: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(path: &str) -> String {
    String::from_utf8(fixture(path)).expect("utf-8 fixture")
}

fn image(path: &str) -> ImageManifest {
    match ferry_manifest::parse(&fixture(path), "") {
        Ok(Manifest::Image(m)) => m,
        other => panic!("{path}: not an image manifest: {other:?}"),
    }
}

fn list(path: &str) -> ManifestList {
    match ferry_manifest::parse(&fixture(path), "") {
        Ok(Manifest::List(l)) => l,
        other => panic!("{path}: not a list: {other:?}"),
    }
}

fn blob(dir: &str, d: &Digest) -> Vec<u8> {
    fixture(&format!("{dir}/{}", d.hex()))
}

fn layers(m: &ImageManifest) -> Vec<Descriptor> {
    m.layers().into_iter().map(|l| l.descriptor).collect()
}

/// The fixture's skopeo error message (`level=fatal msg="..."`), unquoted.
fn skopeo_error(path: &str) -> String {
    let line = text(path);
    let msg = line.trim().trim_start_matches("level=fatal msg=");
    serde_json::from_str(msg).expect("quoted message")
}

#[test]
fn oci_to_v2s2_matches_skopeo() -> R {
    let m = image("oci-image/manifest.json");
    assert_eq!(m.mime, OCI_MANIFEST);
    let out = m.to_format(DOCKER_V2S2, None, &layers(&m))?;
    assert_eq!(String::from_utf8(out)?, text("oci-image/to-v2s2.json"));
    Ok(())
}

#[test]
fn v2s2_to_oci_matches_skopeo_including_config() -> R {
    let m = image("docker-image/manifest.json");
    assert_eq!(m.mime, DOCKER_V2S2);
    let cfg = m.config().ok_or("no config")?;
    let converted = m
        .converted_config(OCI_MANIFEST, &blob("docker-image", &cfg.digest))?
        .ok_or("schema2→OCI must convert the config")?;
    assert_eq!(
        String::from_utf8(converted.clone())?,
        text("docker-image/to-oci-config.json")
    );
    let desc = Descriptor::new(
        OCI_CONFIG,
        Digest::sha256_of(&converted),
        converted.len() as i64,
    );
    let out = m.to_format(OCI_MANIFEST, Some(&desc), &layers(&m))?;
    assert_eq!(String::from_utf8(out)?, text("docker-image/to-oci.json"));
    // Without the converted config the conversion refuses to guess.
    assert!(m.to_format(OCI_MANIFEST, None, &layers(&m)).is_err());
    Ok(())
}

#[test]
fn inspect_config_json_matches_skopeo() -> R {
    for dir in ["oci-image", "oci-min", "docker-image", "docker-weird"] {
        let m = image(&format!("{dir}/manifest.json"));
        let cfg = blob(dir, &m.config().ok_or("no config")?.digest);
        assert_eq!(
            cfg,
            fixture(&format!("{dir}/inspect-config-raw.json")),
            "{dir}"
        );
        let oci = OciImage::from_config_blob(&cfg)?;
        let mut out = gojson::to_vec_indent(&oci, "    ")?;
        out.push(b'\n');
        assert_eq!(
            String::from_utf8(out)?,
            text(&format!("{dir}/inspect-config.json")),
            "{dir}"
        );
    }
    Ok(())
}

#[test]
fn schema1_digest_layers_and_config_match_skopeo() -> R {
    let raw = fixture("schema1/manifest.json");
    assert_eq!(ferry_manifest::guess_mime_type(&raw), DOCKER_V2S1_SIGNED);
    assert_eq!(
        ferry_manifest::digest(&raw)?.to_string(),
        text("schema1/digest.txt").trim()
    );
    // The signature is not part of the digest.
    assert_ne!(ferry_manifest::digest(&raw)?, Digest::sha256_of(&raw));
    let m = image("schema1/manifest.json");
    assert!(m.config().is_none());
    let ls = m.layers();
    let inspect: serde_json::Value = serde_json::from_slice(&fixture("schema1/inspect.json"))?;
    let want: Vec<&str> = inspect["Layers"]
        .as_array()
        .ok_or("Layers")?
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let got: Vec<String> = ls.iter().map(|l| l.descriptor.digest.to_string()).collect();
    assert_eq!(got, want, "base layer first, throwaway layers included");
    assert_eq!(
        ls.iter().map(|l| l.empty_layer).collect::<Vec<_>>(),
        [false, true, false]
    );
    assert!(ls.iter().all(|l| l.descriptor.size == -1));
    let s1 = m.schema1().ok_or("schema1 view")?;
    let cfg = s1.to_schema2_config(&vec![String::new(); s1.non_empty_layer_count()])?;
    let mut out = gojson::to_vec_indent(&OciImage::from_config_blob(&cfg)?, "    ")?;
    out.push(b'\n');
    assert_eq!(String::from_utf8(out)?, text("schema1/inspect-config.json"));
    assert_eq!(fixture("schema1/inspect-config-raw.json"), b"");
    Ok(())
}

#[test]
fn oci_index_to_v2_list_matches_skopeo() -> R {
    let l = list("oci-index/manifest.json");
    assert_eq!(l.mime, OCI_INDEX);
    let mut instances = Vec::new();
    for d in l.instances() {
        let m = image(&format!("oci-index/{}.manifest.json", d.digest.hex()));
        let converted = m.to_format(DOCKER_V2S2, None, &layers(&m))?;
        let digest = Digest::sha256_of(&converted);
        // The converted instance is exactly what skopeo stored.
        assert_eq!(
            converted,
            fixture(&format!("docker-list/{}.manifest.json", digest.hex()))
        );
        let mut n = d.clone();
        n.media_type = DOCKER_V2S2.into();
        n.digest = digest;
        n.size = converted.len() as i64;
        instances.push(n);
    }
    let out = l.to_format(DOCKER_V2_LIST, &instances)?;
    assert_eq!(String::from_utf8(out)?, text("oci-index/to-v2-list.json"));
    Ok(())
}

#[test]
fn v2_list_to_oci_index_matches_skopeo() -> R {
    let l = list("docker-list/manifest.json");
    assert_eq!(l.mime, DOCKER_V2_LIST);
    let mut instances = Vec::new();
    for d in l.instances() {
        let m = image(&format!("docker-list/{}.manifest.json", d.digest.hex()));
        let cfg = m.config().ok_or("config")?;
        let new_cfg = m
            .converted_config(OCI_MANIFEST, &blob("docker-list", &cfg.digest))?
            .ok_or("converted config")?;
        let cfg_digest = Digest::sha256_of(&new_cfg);
        assert_eq!(
            new_cfg,
            fixture(&format!("docker-list/oci-{}", cfg_digest.hex()))
        );
        let desc = Descriptor::new(OCI_CONFIG, cfg_digest, new_cfg.len() as i64);
        let converted = m.to_format(OCI_MANIFEST, Some(&desc), &layers(&m))?;
        let digest = Digest::sha256_of(&converted);
        assert_eq!(
            converted,
            fixture(&format!("docker-list/oci-{}.manifest.json", digest.hex()))
        );
        let mut n = d.clone();
        n.media_type = OCI_MANIFEST.into();
        n.digest = digest;
        n.size = converted.len() as i64;
        instances.push(n);
    }
    let out = l.to_format(OCI_INDEX, &instances)?;
    assert_eq!(
        String::from_utf8(out)?,
        text("docker-list/to-oci-index.json")
    );
    Ok(())
}

#[test]
fn instance_choice_matches_skopeo() -> R {
    let l = list("oci-index/manifest.json");
    for (file, arch, variant) in [
        ("inspect-arm.json", "arm", None),
        ("inspect-arm-v8.json", "arm", Some("v8")),
        ("inspect-arm64.json", "arm64", None),
        ("inspect-ppc64le.json", "ppc64le", None),
        // amd64/v2 does not match plain amd64: the entry without platform is the fallback.
        ("inspect-amd64.json", "amd64", None),
    ] {
        let chosen = l.choose_instance(Some("linux"), Some(arch), variant)?;
        let m = image(&format!("oci-index/{}.manifest.json", chosen.digest.hex()));
        let inspect: serde_json::Value =
            serde_json::from_slice(&fixture(&format!("oci-index/{file}")))?;
        assert_eq!(
            m.layers()[0].descriptor.digest.to_string(),
            inspect["Layers"][0].as_str().ok_or("Layers")?,
            "{file}"
        );
    }
    let dl = list("docker-list/manifest.json");
    let err = dl
        .choose_instance(None, Some("s390x"), None)
        .err()
        .ok_or("must fail")?;
    assert_eq!(
        format!("Error parsing manifest for image: choosing image instance: {err}"),
        skopeo_error("docker-list/inspect-s390x.err")
    );
    Ok(())
}

#[test]
fn artifact_conversion_error_matches_skopeo() -> R {
    let m = image("artifact/manifest.json");
    assert!(!m.is_image());
    assert_eq!(m.artifact_type(), Some("application/vnd.example"));
    let err = m
        .to_format(DOCKER_V2S2, None, &layers(&m))
        .err()
        .ok_or("must fail")?;
    assert_eq!(
        format!("creating an updated image manifest: {err}"),
        skopeo_error("artifact/to-v2s2.err")
    );
    // Same-format rewrite keeps artifactType, annotations and the layer types.
    let out = m.to_format(OCI_MANIFEST, None, &layers(&m))?;
    let again = match ferry_manifest::parse(&out, OCI_MANIFEST)? {
        Manifest::Image(i) => i,
        Manifest::List(_) => return Err("list".into()),
    };
    assert_eq!(again.artifact_type(), Some("application/vnd.example"));
    assert_eq!(again.annotations(), m.annotations());
    assert_eq!(layers(&again), layers(&m));
    Ok(())
}

#[test]
fn docker_config_to_oci_is_what_inspect_prints() -> R {
    // The compact conversion and the indented inspect output describe the same struct.
    let m = image("docker-weird/manifest.json");
    let cfg = blob("docker-weird", &m.config().ok_or("config")?.digest);
    let compact: serde_json::Value = serde_json::from_slice(&docker_config_to_oci(&cfg)?)?;
    let printed: serde_json::Value =
        serde_json::from_slice(&fixture("docker-weird/inspect-config.json"))?;
    assert_eq!(compact, printed);
    Ok(())
}

#[test]
fn same_format_rewrites_match_skopeo() -> R {
    // The copy engine passes the layers as they now are (skopeo drops the annotations of
    // a layer it recompressed); everything else comes from the source manifest.
    for (source, result, mime) in [
        (
            "same-format/oci-source.json",
            "same-format/oci-compressed.json",
            OCI_MANIFEST,
        ),
        (
            "same-format/v2s2-source.json",
            "same-format/v2s2-compressed.json",
            DOCKER_V2S2,
        ),
    ] {
        let m = image(source);
        let updated = image(result);
        assert_ne!(layers(&m), layers(&updated), "{source}: layers must change");
        let out = m.to_format(mime, None, &layers(&updated))?;
        assert_eq!(String::from_utf8(out)?, text(result), "{source}");
    }
    Ok(())
}

#[test]
fn schema1_to_schema2_config_matches_skopeo() -> R {
    // The DiffIDs of the non-throwaway layers are those of the image schema1 was made from.
    let source = image("docker-image/manifest.json");
    let source_cfg = ferry_manifest::config::ImageConfig::parse(&blob(
        "docker-image",
        &source.config().ok_or("config")?.digest,
    ))?;
    let m = image("schema1/manifest.json");
    let s1 = m.schema1().ok_or("schema1")?;
    assert_eq!(s1.non_empty_layer_count(), source_cfg.diff_ids().len());
    let cfg = s1.to_schema2_config(source_cfg.diff_ids())?;
    assert_eq!(String::from_utf8(cfg)?, text("schema1/to-v2s2-config.json"));
    Ok(())
}

/// A stand-in key: schema1 payloads (and so digests) do not depend on the signature.
struct DummyKey;
impl ferry_manifest::jws::JwsSigner for DummyKey {
    fn public_key_xy(&self) -> ([u8; 32], [u8; 32]) {
        ([7; 32], [9; 32])
    }
    fn sign_es256(&self, _data: &[u8]) -> Result<Vec<u8>, String> {
        Ok(vec![1; 64])
    }
}

fn schema1_opts<'a>(reference: Option<(&'a str, &'a str)>) -> ferry_manifest::Schema1Options<'a> {
    ferry_manifest::Schema1Options {
        reference,
        signer: &DummyKey,
        time: "2024-01-01T00:00:00Z",
    }
}

#[test]
fn schema2_to_schema1_payload_matches_skopeo() -> R {
    // skopeo's schema1 fixture was written from docker-image by `copy --format v2s1` to
    // dir: (no reference): same payload, hence the same digest, whatever the key.
    let source = image("docker-image/manifest.json");
    let cfg = blob("docker-image", &source.config().ok_or("config")?.digest);
    let out = source.to_schema1(Some(&cfg), &layers(&source), &schema1_opts(None))?;
    assert!(out.uses_empty_layer);
    let expected = fixture("schema1/manifest.json");
    assert_eq!(
        String::from_utf8(ferry_manifest::schema1::signed_payload(&out.bytes)?)?,
        String::from_utf8(ferry_manifest::schema1::signed_payload(&expected)?)?
    );
    assert_eq!(
        ferry_manifest::digest(&out.bytes)?.to_string(),
        text("schema1/digest.txt").trim()
    );
    assert_eq!(
        ferry_manifest::guess_mime_type(&out.bytes),
        DOCKER_V2S1_SIGNED
    );
    // A reference is embedded as name and tag.
    let named = source.to_schema1(
        Some(&cfg),
        &layers(&source),
        &schema1_opts(Some(("library/busybox", "v1"))),
    )?;
    let v: serde_json::Value = serde_json::from_slice(&named.bytes)?;
    assert_eq!(v["name"], "library/busybox");
    assert_eq!(v["tag"], "v1");
    Ok(())
}

#[test]
fn schema1_to_schema1_resigns_and_renames() -> R {
    let m = image("schema1/manifest.json");
    let same = m.to_schema1(None, &layers(&m), &schema1_opts(None))?;
    // Same payload (c/image re-marshals compactly, as skopeo wrote it), new signature.
    assert_eq!(
        ferry_manifest::digest(&same.bytes)?.to_string(),
        text("schema1/digest.txt").trim()
    );
    assert_ne!(same.bytes, fixture("schema1/manifest.json"));
    let renamed = m.to_schema1(None, &layers(&m), &schema1_opts(Some(("a/b", ""))))?;
    let v: serde_json::Value = serde_json::from_slice(&renamed.bytes)?;
    assert_eq!(
        (v["name"].as_str(), v["tag"].as_str()),
        (Some("a/b"), Some(""))
    );
    assert!(
        m.to_schema1(None, &layers(&m)[1..], &schema1_opts(None))
            .is_err()
    );
    Ok(())
}

#[test]
fn schema1_to_v2s2_manifest_matches_skopeo() -> R {
    let source = image("docker-image/manifest.json");
    let source_cfg = ferry_manifest::config::ImageConfig::parse(&blob(
        "docker-image",
        &source.config().ok_or("config")?.digest,
    ))?;
    let m = image("schema1/manifest.json");
    assert!(m.needs_diff_ids(DOCKER_V2S2) && m.needs_diff_ids(OCI_MANIFEST));
    assert!(!m.needs_diff_ids(DOCKER_V2S1_SIGNED) && !source.needs_diff_ids(OCI_MANIFEST));
    // One DiffID per schema1 layer (base first); the throwaway one is ignored.
    let real: Vec<Digest> = source_cfg
        .diff_ids()
        .iter()
        .map(|d| Digest::parse(d))
        .collect::<Result<_, _>>()?;
    let throwaway = Digest::sha256_of(b"ignored");
    let diff_ids = vec![real[0].clone(), throwaway, real[1].clone()];
    let cfg = m
        .target_config(DOCKER_V2S2, None, Some(&diff_ids))?
        .ok_or("config")?;
    assert_eq!(
        String::from_utf8(cfg.clone())?,
        text("schema1/to-v2s2-config.json")
    );
    let desc = Descriptor::new("", Digest::sha256_of(&cfg), cfg.len() as i64);
    // Layers as copied: sizes known after the copy.
    let sizes: Vec<i64> = layers(&source).iter().map(|l| l.size).collect();
    let mut copied = layers(&m);
    copied[0].size = sizes[0];
    copied[2].size = sizes[1];
    let out = m.to_format(DOCKER_V2S2, Some(&desc), &copied)?;
    assert_eq!(String::from_utf8(out)?, text("schema1/to-v2s2.json"));
    // To OCI: the config is converted, media types mapped.
    let oci_cfg = m
        .target_config(OCI_MANIFEST, None, Some(&diff_ids))?
        .ok_or("oci config")?;
    assert_eq!(
        oci_cfg,
        docker_config_to_oci(&text("schema1/to-v2s2-config.json").into_bytes())?
    );
    let desc = Descriptor::new(
        OCI_CONFIG,
        Digest::sha256_of(&oci_cfg),
        oci_cfg.len() as i64,
    );
    let out: serde_json::Value =
        serde_json::from_slice(&m.to_format(OCI_MANIFEST, Some(&desc), &copied)?)?;
    assert_eq!(out["layers"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        out["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    // Wrong DiffID count: an error, not a wrong config.
    assert!(m.target_config(DOCKER_V2S2, None, Some(&real)).is_err());
    Ok(())
}
