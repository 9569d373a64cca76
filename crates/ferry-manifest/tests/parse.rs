//! MIME sniffing, normalisation, parsing and validation (c/image `manifest` package
//! behaviour; the odd cases were checked against skopeo 1.9.3's `dir:` transport).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ferry_manifest::mime::*;
use ferry_manifest::{Manifest, ManifestError, guess_mime_type, normalize_mime_type, parse};

const E: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn guess_mime_type_like_c_image() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#,
            DOCKER_V2S2,
        ),
        (
            r#"{"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json"}"#,
            DOCKER_V2_LIST,
        ),
        (
            r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
            OCI_MANIFEST,
        ),
        // Go matches keys case-insensitively.
        (
            r#"{"MediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#,
            OCI_INDEX,
        ),
        (r#"{"schemaVersion":1}"#, DOCKER_V2S1),
        (r#"{"schemaVersion":1,"signatures":null}"#, DOCKER_V2S1),
        (r#"{"schemaVersion":1,"signatures":[]}"#, DOCKER_V2S1_SIGNED),
        (r#"{"SCHEMAVERSION":1,"Signatures":{}}"#, DOCKER_V2S1_SIGNED),
        (
            r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"}}"#,
            OCI_MANIFEST,
        ),
        (
            r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json"}}"#,
            DOCKER_V2S2,
        ),
        (
            r#"{"schemaVersion":2,"manifests":[{"digest":"x","size":1}]}"#,
            OCI_INDEX,
        ),
        (r#"{"schemaVersion":2,"manifests":[]}"#, OCI_MANIFEST),
        (
            r#"{"schemaVersion":2,"config":{"mediaType":"application/x"}}"#,
            OCI_MANIFEST,
        ),
        (r#"{"schemaVersion":2}"#, OCI_MANIFEST),
        // A known mediaType of another kind is ignored; schemaVersion decides.
        (
            r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}"#,
            OCI_MANIFEST,
        ),
        (
            r#"{"schemaVersion":2,"mediaType":"text/plain"}"#,
            OCI_MANIFEST,
        ),
        // Go returns the config media type here; ferry returns "" (both end up as schema1).
        (
            r#"{"schemaVersion":2,"config":{"mediaType":"application/x"},"manifests":[{}]}"#,
            "",
        ),
        // Type errors make Go's Unmarshal fail: "".
        (r#"{"schemaVersion":2,"manifests":[{"size":"1"}]}"#, ""),
        (r#"{"schemaVersion":2,"config":"x"}"#, ""),
        (r#"{"schemaVersion":"2"}"#, ""),
        (r#"{"mediaType":5}"#, ""),
        (r#"{"schemaVersion":3}"#, ""),
        ("null", ""),
        ("[]", ""),
        ("", ""),
        ("{", ""),
    ];
    for (input, want) in cases {
        assert_eq!(guess_mime_type(input.as_bytes()), *want, "{input}");
    }
}

#[test]
fn normalize_mime_type_like_c_image() {
    for t in ALL_MANIFEST_TYPES {
        assert_eq!(normalize_mime_type(t), *t);
    }
    assert_eq!(normalize_mime_type("application/json"), DOCKER_V2S1_SIGNED);
    assert_eq!(normalize_mime_type("text/plain"), DOCKER_V2S1_SIGNED);
    assert_eq!(normalize_mime_type(""), DOCKER_V2S1_SIGNED);
}

fn err(bytes: &str, mime: &str) -> String {
    match parse(bytes.as_bytes(), mime) {
        Ok(m) => panic!("{bytes}: parsed as {}", m.mime()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn ambiguous_manifests_are_rejected_like_skopeo() {
    assert_eq!(
        err(r#"{"schemaVersion":2,"manifests":[]}"#, ""),
        r#"rejecting ambiguous manifest, unexpected fields []string{"manifests"} in supposedly application/vnd.oci.image.index.v1+json"#
    );
    let s2 = format!(
        r#"{{"schemaVersion":2,"mediaType":"{DOCKER_V2S2}","config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{E}","size":0}},"Layers":[],"FSLayers":[],"History":[]}}"#
    );
    assert_eq!(
        err(&s2, ""),
        r#"rejecting ambiguous manifest, unexpected fields []string{"fsLayers", "history"} in supposedly application/vnd.docker.distribution.manifest.v2+json"#
    );
    assert!(err(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"layers":[]}"#, "")
        .contains(r#"[]string{"layers"}"#));
}

#[test]
fn invalid_manifests_fail_with_c_image_messages() {
    let s2 = |layer_type: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_V2S2}","config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{E}","size":0}},"layers":[{{"mediaType":"{layer_type}","digest":"{E}","size":0}}]}}"#
        )
    };
    assert_eq!(
        err(&s2("application/x"), ""),
        r#"unsupported docker v2s2 media type: "application/x""#
    );
    assert!(parse(s2(DOCKER_LAYER_GZIP).as_bytes(), "").is_ok());
    assert_eq!(
        err(r#"{"schemaVersion":1,"fsLayers":[]}"#, ""),
        "no FSLayers in manifest"
    );
    assert_eq!(
        err(
            &format!(r#"{{"schemaVersion":1,"fsLayers":[{{"blobSum":"{E}"}}],"history":[]}}"#),
            ""
        ),
        "length of history not equal to number of layers"
    );
    assert_eq!(
        err(r#"{"schemaVersion":2}"#, DOCKER_V2S1),
        "unsupported schema version 2"
    );
    let id = "a".repeat(64);
    let bad_parent = format!(
        r#"{{"schemaVersion":1,"fsLayers":[{{"blobSum":"{E}"}}],"history":[{{"v1Compatibility":"{{\"id\":\"{id}\",\"parent\":\"x\"}}"}}]}}"#
    );
    assert_eq!(
        err(&bad_parent, ""),
        "Invalid parent ID in the base layer of the image"
    );
    let bad_id = format!(
        r#"{{"schemaVersion":1,"fsLayers":[{{"blobSum":"{E}"}}],"history":[{{"v1Compatibility":"{{\"id\":\"x\"}}"}}]}}"#
    );
    assert_eq!(err(&bad_id, ""), r#"image ID "x" is invalid"#);
    // Content that is no manifest at all, and unknown types, are clear errors.
    assert!(matches!(
        parse(b"{\"a\":1}", ""),
        Err(ManifestError::UnsupportedType(_))
    ));
    assert!(matches!(
        parse(b"{\"a\":1}", "application/x-foo"),
        Err(ManifestError::UnsupportedType(t)) if t == "application/x-foo"
    ));
}

#[test]
fn schema1_duplicate_ids_are_merged_and_layers_reversed() -> Result<(), ManifestError> {
    let (a, b) = ("a".repeat(64), "b".repeat(64));
    let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    // Top entry first: b (twice, consecutive: merged), then its parent a (throwaway).
    let m = format!(
        r#"{{"schemaVersion":1,"name":"x","tag":"t","fsLayers":[{{"blobSum":"{}"}},{{"blobSum":"{}"}},{{"blobSum":"{}"}}],
        "history":[{{"v1Compatibility":"{{\"id\":\"{b}\",\"parent\":\"{a}\"}}"}},{{"v1Compatibility":"{{\"id\":\"{b}\",\"parent\":\"{a}\"}}"}},
        {{"v1Compatibility":"{{\"id\":\"{a}\",\"throwaway\":true}}"}}]}}"#,
        d('1'),
        d('2'),
        d('3')
    );
    let Manifest::Image(img) = parse(m.as_bytes(), "")? else {
        panic!("not an image");
    };
    assert_eq!(img.mime, DOCKER_V2S1);
    let layers = img.layers();
    let got: Vec<(String, bool)> = layers
        .iter()
        .map(|l| (l.descriptor.digest.to_string(), l.empty_layer))
        .collect();
    assert_eq!(got, [(d('3'), true), (d('2'), false)]);
    assert_eq!(img.schema1().map(|s| s.tag.as_str()), Some("t"));
    Ok(())
}

#[test]
fn unknown_mime_falls_back_to_content() -> Result<(), ManifestError> {
    let m = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{E}","size":0}},"layers":[]}}"#
    );
    assert_eq!(parse(m.as_bytes(), "text/plain")?.mime(), OCI_MANIFEST);
    assert_eq!(parse(m.as_bytes(), "")?.mime(), OCI_MANIFEST);
    Ok(())
}

#[test]
fn digest_of_unsigned_content_is_plain_sha256() -> Result<(), ManifestError> {
    let b = br#"{"schemaVersion":2}"#;
    assert_eq!(
        ferry_manifest::digest(b)?,
        ferry_reference::Digest::sha256_of(b)
    );
    // A malformed signed schema1 cannot be digested.
    assert!(
        ferry_manifest::digest(br#"{"schemaVersion":1,"signatures":[{"protected":"!!"}]}"#)
            .is_err()
    );
    // No signature blocks: the payload is empty (libtrust's behaviour).
    assert_eq!(
        ferry_manifest::digest(br#"{"schemaVersion":1,"signatures":[]}"#)?.to_string(),
        E
    );
    Ok(())
}
