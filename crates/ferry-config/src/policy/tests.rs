//! Unit tests for policy.json; error texts were checked against skopeo 1.9.3.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use super::*;

const ACCEPT: &str = r#"{"type":"insecureAcceptAnything"}"#;
const REJECT: &str = r#"{"type":"reject"}"#;

fn parse_err(json: &str) -> String {
    match PolicyContext::from_bytes(json.as_bytes()) {
        Ok(p) => panic!("{json} parsed: {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn parse_ok(json: &str) -> PolicyContext {
    match PolicyContext::from_bytes(json.as_bytes()) {
        Ok(p) => p,
        Err(e) => panic!("{json}: {e}"),
    }
}

/// `{"default":[REQ]}`
fn req_err(req: &str) -> String {
    parse_err(&format!(r#"{{"default":[{req}]}}"#))
}

fn req_ok(req: &str) -> Requirement {
    parse_ok(&format!(r#"{{"default":[{req}]}}"#))
        .policy()
        .default[0]
        .clone()
}

fn with_scope(transport: &str, scope: &str) -> String {
    format!(r#"{{"default":[{ACCEPT}],"transports":{{"{transport}":{{"{scope}":[{ACCEPT}]}}}}}}"#)
}

#[test]
fn top_level_strictness() {
    assert_eq!(parse_err("{}"), "Default policy is missing");
    assert_eq!(parse_err(""), "unexpected end of JSON input");
    assert_eq!(parse_err("[]"), "JSON object expected, got \"[\"");
    assert_eq!(
        parse_err(r#"{"default":[]}"#),
        "List of verification policy requirements must not be empty"
    );
    assert_eq!(
        parse_err(r#"{"default":null}"#),
        "List of verification policy requirements must not be empty"
    );
    assert_eq!(
        parse_err(&format!(r#"{{"default":[{ACCEPT}],"default":[{ACCEPT}]}}"#)),
        "Duplicate key \"default\""
    );
    assert_eq!(
        parse_err(&format!(r#"{{"default":[{ACCEPT}],"foo":1}}"#)),
        "Unknown key \"foo\""
    );
    assert_eq!(
        parse_err(r#"{"default":{}}"#),
        "json: cannot unmarshal object into Go value of type []json.RawMessage"
    );
    assert_eq!(
        parse_err(&format!(r#"{{"default":[{ACCEPT}],"transports":null}}"#)),
        "JSON object expected, got \"%!s(<nil>)\""
    );
    assert_eq!(
        parse_err(&format!(
            r#"{{"default":[{ACCEPT}],"transports":{{"dir":null}}}}"#
        )),
        "JSON object expected, got \"%!s(<nil>)\""
    );
    assert!(
        PolicyContext::from_bytes(format!(r#"{{"default":[{ACCEPT}]}} x"#).as_bytes()).is_err()
    );
}

#[test]
fn requirement_strictness() {
    assert_eq!(
        req_err(r#"{"type":"foo"}"#),
        "Unknown policy requirement type \"foo\""
    );
    assert_eq!(req_err("{}"), "Unknown policy requirement type \"\"");
    assert_eq!(req_err("null"), "Unknown policy requirement type \"\"");
    assert_eq!(req_err(r#"{"type":"reject","x":1}"#), "Unknown key \"x\"");
    assert_eq!(
        req_err(r#"{"type":"reject","type":"reject"}"#),
        "Duplicate key \"type\""
    );
    assert_eq!(req_err(r#"{"TYPE":"reject"}"#), "Unknown key \"TYPE\"");
    assert_eq!(
        req_err(r#"{"type":"reject","Type":"x"}"#),
        "Unknown policy requirement type \"x\""
    );
    assert_eq!(
        req_err("1"),
        "json: cannot unmarshal number into Go value of type signature.prCommon"
    );
    assert_eq!(
        req_err(r#""reject""#),
        "json: cannot unmarshal string into Go value of type signature.prCommon"
    );
    assert_eq!(
        req_err(r#"{"type":1}"#),
        "json: cannot unmarshal number into Go struct field prCommon.type of type signature.prTypeIdentifier"
    );
    assert_eq!(req_ok(ACCEPT), Requirement::InsecureAcceptAnything);
    assert_eq!(req_ok(REJECT), Requirement::Reject);
}

#[test]
fn signed_by() {
    let sb = |rest: &str| format!(r#"{{"type":"signedBy"{rest}}}"#);
    assert_eq!(
        req_err(&sb("")),
        "Exactly one of keyPath, keyPaths and keyData must be specified, none of them present"
    );
    assert_eq!(
        req_err(&sb(
            r#","keyType":"GPGKeys","keyPath":"/x","keyData":"YQ==""#
        )),
        "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present"
    );
    assert_eq!(
        req_err(&sb(r#","keyType":"bad","keyPath":"/x""#)),
        "Unrecognized keyType value \"bad\""
    );
    assert_eq!(req_err(&sb(r#","keyPath":"/x""#)), "invalid keyType \"\"");
    for empty in [r#""keyPath":"""#, r#""keyPath":null"#, r#""keyPaths":null"#] {
        assert_eq!(
            req_err(&sb(&format!(r#","keyType":"GPGKeys",{empty}"#))),
            "exactly one of keyPath, keyPaths and keyData must be specified",
            "{empty}"
        );
    }
    assert_eq!(
        req_err(&sb(r#","keyType":"GPGKeys","keyData":"!!""#)),
        "illegal base64 data at input byte 0"
    );
    assert_eq!(
        req_err(&sb(r#","keyType":"GPGKeys","keyPath":1"#)),
        "json: cannot unmarshal number into Go value of type string"
    );
    // signedIdentity is checked before the key sources.
    assert_eq!(
        req_err(&sb(r#","signedIdentity":{"type":"x"}"#)),
        "Unknown policy reference match type \"x\""
    );
    let Requirement::SignedBy(s) = req_ok(&sb(r#","keyType":"GPGKeys","keyPath":"/k.gpg""#)) else {
        panic!()
    };
    assert_eq!(s.key_type, KeyType::GpgKeys);
    assert_eq!(s.keys, KeySource::Path("/k.gpg".into()));
    assert_eq!(s.signed_identity, IdentityMatch::MatchRepoDigestOrExact);
    let Requirement::SignedBy(s) = req_ok(&sb(r#","keyType":"X509Certificates","keyData":"YWJj""#))
    else {
        panic!()
    };
    assert_eq!(s.keys, KeySource::Data(b"abc".to_vec()));
    let Requirement::SignedBy(s) = req_ok(&sb(r#","keyType":"GPGKeys","keyPaths":[]"#)) else {
        panic!()
    };
    assert_eq!(s.keys, KeySource::Paths(vec![]));
}

#[test]
fn identity_matchers() {
    let si = |m: &str| {
        format!(r#"{{"type":"signedBy","keyType":"GPGKeys","keyPath":"/x","signedIdentity":{m}}}"#)
    };
    let get = |m: &str| match req_ok(&si(m)) {
        Requirement::SignedBy(s) => s.signed_identity,
        other => panic!("{other:?}"),
    };
    assert_eq!(get(r#"{"type":"matchExact"}"#), IdentityMatch::MatchExact);
    assert_eq!(
        get(r#"{"type":"matchRepository"}"#),
        IdentityMatch::MatchRepository
    );
    let IdentityMatch::ExactReference { docker_reference } =
        get(r#"{"type":"exactReference","dockerReference":"busybox:t"}"#)
    else {
        panic!()
    };
    assert_eq!(docker_reference.to_string(), "docker.io/library/busybox:t");
    assert!(matches!(
        get(r#"{"type":"exactRepository","dockerRepository":"busybox:t"}"#),
        IdentityMatch::ExactRepository { .. }
    ));
    assert!(matches!(
        get(r#"{"type":"remapIdentity","prefix":"Foo.io","signedPrefix":"x.io:5000"}"#),
        IdentityMatch::RemapIdentity { .. }
    ));
    get(r#"{"type":"remapIdentity","prefix":"a/b","signedPrefix":"a"}"#);

    let e = |m: &str| req_err(&si(m));
    assert_eq!(e("null"), "Unknown policy reference match type \"\"");
    assert_eq!(e(r#"{"type":"matchExact","x":1}"#), "Unknown key \"x\"");
    assert_eq!(
        e(r#"{"type":"exactReference"}"#),
        "Key \"dockerReference\" missing in a JSON object"
    );
    assert_eq!(
        e(r#"{"type":"exactReference","dockerReference":"busybox"}"#),
        "dockerReference busybox contains neither a tag nor digest"
    );
    assert_eq!(
        e(r#"{"type":"exactReference","dockerReference":"Busybox"}"#),
        "Invalid format of dockerReference Busybox: invalid reference format: repository name must be lowercase"
    );
    assert_eq!(
        e(r#"{"type":"exactRepository","dockerRepository":"Bad"}"#),
        "Invalid format of dockerRepository Bad: invalid reference format: repository name must be lowercase"
    );
    assert_eq!(
        e(r#"{"type":"exactRepository","dockerRepository":1}"#),
        "json: cannot unmarshal number into Go value of type string"
    );
    assert_eq!(
        e(r#"{"type":"remapIdentity","prefix":"a"}"#),
        "Key \"signedPrefix\" missing in a JSON object"
    );
    assert_eq!(
        e(r#"{"type":"remapIdentity","signedPrefix":"Bad Prefix","prefix":"Bad"}"#),
        "prefix \"Bad Prefix\" is not valid"
    );
    assert_eq!(
        e(r#"{"type":"remapIdentity","prefix":"a:b","signedPrefix":"x"}"#),
        "prefix \"a:b\" is not valid"
    );
    assert_eq!(
        e(
            r#"{"type":"remapIdentity","prefix":"docker.io/library/busybox:latest","signedPrefix":"x"}"#
        ),
        "prefix \"docker.io/library/busybox:latest\" is not valid"
    );
    assert_eq!(
        e(r#"{"type":"matchRepoDigestOrExact","type":"matchExact"}"#),
        "Duplicate key \"type\""
    );
}

#[test]
fn sigstore_and_base_layer() {
    assert_eq!(
        req_err(r#"{"type":"sigstoreSigned"}"#),
        "At least one of keyPath and keyData must be specified"
    );
    assert_eq!(
        req_err(r#"{"type":"sigstoreSigned","keyPath":"/x","keyData":"YQ=="}"#),
        "keyPath and keyData cannot be used simultaneously"
    );
    let Requirement::SigstoreSigned(s) = req_ok(r#"{"type":"sigstoreSigned","keyPath":""}"#) else {
        panic!()
    };
    assert_eq!(s.key_path, Some(PathBuf::new()));
    // Newer fields are accepted (skopeo 1.9.3 predates them).
    let Requirement::SigstoreSigned(s) = req_ok(
        r#"{"type":"sigstoreSigned","fulcio":{"caPath":"/ca","oidcIssuer":"https://o","subjectEmail":"a@b"},"rekorPublicKeyPath":"/r","signedIdentity":{"type":"matchRepository"}}"#,
    ) else {
        panic!()
    };
    assert_eq!(
        s.fulcio.as_ref().map(|f| f.oidc_issuer.as_str()),
        Some("https://o")
    );
    assert_eq!(s.signed_identity, IdentityMatch::MatchRepository);
    assert!(
        req_err(r#"{"type":"sigstoreSigned","fulcio":{"caPath":"/ca","oidcIssuer":"https://o","subjectEmail":"a@b"}}"#)
            .contains("must be specified if fulcio is used")
    );
    assert_eq!(
        req_err(r#"{"type":"sigstoreSigned","keyPath":"/x","fulcio":{"caPath":"/ca","z":1}}"#),
        "Unknown key \"z\""
    );
    assert_eq!(
        req_err(r#"{"type":"sigstoreSigned","keyPaths":["/a"],"keyPath":"/b"}"#),
        "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be specified"
    );
    req_ok(r#"{"type":"sigstoreSigned","pki":{"caRootsPath":"/r","subjectHostname":"h"}}"#);

    assert_eq!(
        req_err(r#"{"type":"signedBaseLayer"}"#),
        "Key \"baseLayerIdentity\" missing in a JSON object"
    );
    assert_eq!(
        req_err(r#"{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchExact"},"x":1}"#),
        "Unknown key \"x\""
    );
    assert_eq!(
        req_ok(r#"{"type":"signedBaseLayer","baseLayerIdentity":{"type":"matchExact"}}"#),
        Requirement::SignedBaseLayer {
            base_layer_identity: IdentityMatch::MatchExact
        }
    );
}

#[test]
fn scope_keys_are_validated_per_transport() {
    for (t, scope) in [
        ("dir", "rel"),
        ("dir", "/"),
        ("dir", "/a/../b"),
        ("oci", "Foo"),
        ("docker-archive", "foo"),
        ("tarball", "foo"),
        ("containers-storage", "/a:tag"),
    ] {
        assert_eq!(
            parse_err(&with_scope(t, scope)),
            format!("Unknown key \"{scope}\""),
            "{t} {scope}"
        );
    }
    for (t, scope) in [
        ("docker-daemon", "foo"),
        ("nosuch", "foo"),
        ("oci", "/a:tag"),
        ("docker", "*.example.com"),
        ("docker-archive", ""),
        ("containers-storage", "[vfs@/x]"),
    ] {
        parse_ok(&with_scope(t, scope));
    }
    assert_eq!(
        parse_err(&format!(
            r#"{{"default":[{ACCEPT}],"transports":{{"dir":{{"/a":[{ACCEPT}],"/a":[{ACCEPT}]}}}}}}"#
        )),
        "Duplicate key \"/a\""
    );
    assert_eq!(
        parse_err(&format!(
            r#"{{"default":[{ACCEPT}],"transports":{{"dir":{{"/a":[]}}}}}}"#
        )),
        "List of verification policy requirements must not be empty"
    );
}

fn input<'a>(transport: &'a str, identity: &'a str, ns: &'a [String]) -> PolicyInput<'a> {
    PolicyInput {
        transport,
        identity,
        namespaces: ns,
        description: "docker://127.0.0.1:5087/foo/bar:t",
    }
}

#[test]
fn most_specific_scope_wins() {
    let p = parse_ok(&format!(
        r#"{{"default":[{REJECT}],"transports":{{"docker":{{
            "127.0.0.1:5087/foo":[{REJECT}],
            "127.0.0.1:5087/foo/bar":[{ACCEPT}],
            "*.0.1":[{ACCEPT}],
            "":[{REJECT}]
        }},"dir":{{"":[{ACCEPT}]}}}}}}"#
    ));
    let ns: Vec<String> = [
        "127.0.0.1:5087/foo/bar",
        "127.0.0.1:5087/foo",
        "127.0.0.1:5087",
        "*.0.0.1",
        "*.0.1",
        "*.1",
    ]
    .map(String::from)
    .to_vec();
    // The repository scope beats its namespace.
    assert!(
        p.check(&input("docker", "127.0.0.1:5087/foo/bar:t", &ns))
            .is_ok()
    );
    // Another repository in the namespace falls to the namespace scope.
    let ns2: Vec<String> = [
        "127.0.0.1:5087/foo/baz",
        "127.0.0.1:5087/foo",
        "127.0.0.1:5087",
    ]
    .map(String::from)
    .to_vec();
    assert!(
        p.check(&input("docker", "127.0.0.1:5087/foo/baz:t", &ns2))
            .is_err()
    );
    // A wildcard scope.
    let ns3: Vec<String> = ["127.0.0.1:5087/x", "127.0.0.1:5087", "*.0.0.1", "*.0.1"]
        .map(String::from)
        .to_vec();
    assert!(
        p.check(&input("docker", "127.0.0.1:5087/x:t", &ns3))
            .is_ok()
    );
    // The transport's "" scope, then the global default.
    assert!(p.check(&input("docker", "quay.io/x:t", &[])).is_err());
    assert!(p.check(&input("dir", "/tmp/x", &[])).is_ok());
    assert!(p.check(&input("oci", "/tmp/x", &[])).is_err());
    assert_eq!(
        p.requirements_for(&input("oci", "/tmp/x", &[])),
        &[Requirement::Reject]
    );
}

#[test]
fn check_messages() {
    let ctx = parse_ok(&format!(r#"{{"default":[{ACCEPT},{REJECT}]}}"#));
    assert_eq!(
        ctx.check(&input("docker", "x", &[]))
            .unwrap_err()
            .to_string(),
        "Running image docker://127.0.0.1:5087/foo/bar:t is rejected by policy."
    );
    assert!(
        PolicyContext::default()
            .check(&input("docker", "x", &[]))
            .is_ok()
    );
    assert!(
        PolicyContext::insecure_accept_anything()
            .check(&input("dir", "/x", &[]))
            .is_ok()
    );
    let ctx = parse_ok(r#"{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k"}]}"#);
    let msg = ctx
        .check(&input("docker", "x", &[]))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("\"signedBy\""), "{msg}");
    assert!(msg.contains("not implemented"), "{msg}");
    let ctx = parse_ok(r#"{"default":[{"type":"sigstoreSigned","keyPath":"/k"}]}"#);
    assert!(ctx.check(&input("docker", "x", &[])).is_err());
}

fn write(path: &Path, data: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

#[test]
fn lookup_order() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let user = home.join(USER_POLICY_FILE);
    let system = t.path().join("etc/policy.json");
    let accept = format!(r#"{{"default":[{ACCEPT}]}}"#);
    let reject = format!(r#"{{"default":[{REJECT}]}}"#);

    // Nothing anywhere: built-in default plus a warning naming both paths.
    let (ctx, warning) = load_with(None, Some(&home), &system).unwrap();
    assert!(ctx.check(&input("dir", "/x", &[])).is_ok());
    let warning = warning.unwrap();
    assert!(warning.contains(&user.display().to_string()), "{warning}");
    assert!(warning.contains(&system.display().to_string()), "{warning}");

    // The system file.
    write(&system, &reject);
    let (ctx, warning) = load_with(None, Some(&home), &system).unwrap();
    assert!(warning.is_none());
    assert_eq!(ctx.source(), Some(system.as_path()));
    assert!(ctx.check(&input("dir", "/x", &[])).is_err());

    // The user file wins over the system file.
    write(&user, &accept);
    let (ctx, _) = load_with(None, Some(&home), &system).unwrap();
    assert_eq!(ctx.source(), Some(user.as_path()));
    assert!(ctx.check(&input("dir", "/x", &[])).is_ok());
    // No HOME: only the system file.
    let (ctx, _) = load_with(None, None, &system).unwrap();
    assert_eq!(ctx.source(), Some(system.as_path()));

    // An explicit path wins over both.
    let explicit = t.path().join("explicit.json");
    write(&explicit, &reject);
    let (ctx, _) = load_with(Some(&explicit), Some(&home), &system).unwrap();
    assert_eq!(ctx.source(), Some(explicit.as_path()));

    // A broken user file is an error naming it (no fallback to the system file).
    write(&user, "{}");
    let e = load_with(None, Some(&home), &system)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "invalid policy in \"{}\": Default policy is missing",
            user.display()
        )
    );
}

#[test]
fn file_errors_name_the_file() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("missing.json");
    assert_eq!(
        PolicyContext::from_file(&missing).unwrap_err().to_string(),
        format!("open {}: no such file or directory", missing.display())
    );
    assert_eq!(
        PolicyContext::from_file(t.path()).unwrap_err().to_string(),
        format!("read {}: is a directory", t.path().display())
    );
    // An explicit file that does not exist is an error, not the built-in default.
    assert!(load_with(Some(&missing), None, Path::new("/nonexistent-ferry")).is_err());
}
