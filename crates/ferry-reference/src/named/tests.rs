//! Unit tests for [`Named`]; expected texts were checked against skopeo 1.9.3.
#![allow(clippy::unwrap_used)]

use super::*;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn norm(s: &str) -> String {
    Named::parse_normalized(s).unwrap().to_string()
}

fn err(s: &str) -> String {
    Named::parse_normalized(s).unwrap_err().to_string()
}

#[test]
fn normalisation() {
    assert_eq!(norm("busybox"), "docker.io/library/busybox");
    assert_eq!(norm("busybox:1.36"), "docker.io/library/busybox:1.36");
    assert_eq!(norm("foo/bar"), "docker.io/foo/bar");
    assert_eq!(norm("docker.io/busybox"), "docker.io/library/busybox");
    assert_eq!(norm("index.docker.io/busybox"), "docker.io/library/busybox");
    assert_eq!(norm("index.docker.io/a/b"), "docker.io/a/b");
    assert_eq!(norm("localhost/foo"), "localhost/foo");
    assert_eq!(norm("localhost:5000/foo:t"), "localhost:5000/foo:t");
    assert_eq!(norm("localhost:5000"), "docker.io/library/localhost:5000");
    assert_eq!(norm("quay.io/a/b/c"), "quay.io/a/b/c");
    assert_eq!(norm("A.io/b"), "A.io/b");
    assert_eq!(norm("Foo:5000/b"), "Foo:5000/b");
    assert_eq!(
        norm(&format!("busybox@{D}")),
        format!("docker.io/library/busybox@{D}")
    );
    assert_eq!(
        norm(&format!("busybox:t@{D}")),
        format!("docker.io/library/busybox:t@{D}")
    );
    assert_eq!(norm("busybox:TAG"), "docker.io/library/busybox:TAG");
    assert_eq!(norm("a__b"), "docker.io/library/a__b");
    assert_eq!(norm("a--b"), "docker.io/library/a--b");
}

#[test]
fn components() {
    let n = Named::parse_normalized("localhost:5000/ns/repo:t").unwrap();
    assert_eq!(n.domain(), "localhost:5000");
    assert_eq!(n.path(), "ns/repo");
    assert_eq!(n.name(), "localhost:5000/ns/repo");
    assert_eq!(n.tag(), Some("t"));
    assert_eq!(n.digest(), None);
    let n = Named::parse_normalized(&format!("busybox@{D}")).unwrap();
    assert_eq!(n.digest().map(|d| d.to_string()).as_deref(), Some(D));
    assert_eq!(n.tag(), None);
}

#[test]
fn invalid_first_component_is_not_a_domain() {
    // Go accepts this with an empty domain (skopeo then pings registry "").
    let n = Named::parse_normalized("a_b.io/foo").unwrap();
    assert_eq!(n.domain(), "");
    assert_eq!(n.path(), "a_b.io/foo");
    assert_eq!(n.to_string(), "a_b.io/foo");
    assert_eq!(n.familiar_string(), "a_b.io/foo");
}

#[test]
fn familiar_forms() {
    let f = |s: &str| Named::parse_normalized(s).unwrap().familiar_string();
    assert_eq!(f("busybox"), "busybox");
    assert_eq!(f("docker.io/library/busybox:latest"), "busybox:latest");
    assert_eq!(f("docker.io/library/a/b"), "library/a/b");
    assert_eq!(f("foo/bar:t"), "foo/bar:t");
    assert_eq!(f("quay.io/library/x"), "quay.io/library/x");
    assert_eq!(f(&format!("busybox@{D}")), format!("busybox@{D}"));
    let n = Named::parse_normalized("docker.io/library/busybox:1").unwrap();
    assert_eq!(n.familiar_name(), "busybox");
}

#[test]
fn error_texts_match_skopeo() {
    let lower = "invalid reference format: repository name must be lowercase";
    assert_eq!(err("Busybox"), lower);
    assert_eq!(err("Foo/bar"), lower);
    assert_eq!(err("foo/Bar"), lower);
    assert_eq!(err("localhost/Ab"), lower);
    assert_eq!(err(&format!("busybox@SHA256:{}", &D[7..])), lower);
    for bad in [
        "",
        "a@sha256:abc",
        "[::1]:5000/foo:t",
        "a//b",
        "-a",
        "a-",
        "a___b",
        "a._b",
        "a@",
        "a:",
        "a:b:c",
        "a/b:c/d",
        "a:-t",
        "a:b/foo",
        "localhost:5000:t",
        "foo.io:5000/:t",
    ] {
        assert_eq!(err(bad), "invalid reference format", "{bad:?}");
    }
    assert_eq!(
        err(&format!("busybox:{}", "a".repeat(129))),
        "invalid reference format"
    );
    assert_eq!(
        err("a@md5:0123456789abcdef0123456789abcdef"),
        "unsupported digest algorithm"
    );
    assert_eq!(
        err("a@sha256+x:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        "unsupported digest algorithm"
    );
    assert_eq!(
        err("a@sha256:0123456789abcdef0123456789abcdef01"),
        "invalid checksum digest length"
    );
    assert_eq!(
        err(&format!("a@sha256:{}", D[7..].to_uppercase())),
        "invalid checksum digest format"
    );
    let hex = &D[7..];
    assert_eq!(
        err(hex),
        format!("invalid repository name ({hex}), cannot specify 64-byte hexadecimal strings")
    );
}

#[test]
fn name_length_limit_counts_the_domain() {
    // "docker.io/library/" is 18 bytes.
    assert!(Named::parse_normalized(&"a".repeat(237)).is_ok());
    assert_eq!(
        err(&"a".repeat(238)),
        "repository name must not be more than 255 characters"
    );
    assert_eq!(
        err(&format!("x.io/{}", "a".repeat(251))),
        "repository name must not be more than 255 characters"
    );
}

#[test]
fn unnormalized_parser() {
    let n = Named::parse_unnormalized("foo/bar:t").unwrap();
    assert_eq!((n.domain(), n.path()), ("foo", "bar"));
    let n = Named::parse_unnormalized("busybox").unwrap();
    assert_eq!((n.domain(), n.path()), ("", "busybox"));
    assert_eq!(
        Named::parse_unnormalized(""),
        Err(ReferenceError::NameEmpty)
    );
    assert_eq!(
        Named::parse_unnormalized("foo/Bar"),
        Err(ReferenceError::NameContainsUppercase)
    );
    assert_eq!(
        ReferenceError::NameEmpty.to_string(),
        "repository name must have at least one component"
    );
}

#[test]
fn strict_parse_requires_canonical_input() {
    assert!(Named::parse("docker.io/library/busybox:latest").is_ok());
    assert!(Named::parse("docker.io/library/busybox").is_ok());
    assert!(Named::parse("quay.io/a/b").is_ok());
    for s in [
        "busybox",
        "busybox:latest",
        "foo/bar",
        "index.docker.io/library/x",
    ] {
        assert_eq!(
            Named::parse(s),
            Err(ReferenceError::NameNotCanonical),
            "{s}"
        );
    }
    assert_eq!(
        Named::parse("Busybox"),
        Err(ReferenceError::NormalizedNameContainsUppercase)
    );
    assert_eq!(
        ReferenceError::NameNotCanonical.to_string(),
        "repository name must be canonical"
    );
}

#[test]
fn tag_and_digest_builders() {
    let n = Named::parse_normalized("busybox").unwrap();
    assert!(n.is_name_only());
    let latest = n.tag_name_only();
    assert_eq!(latest.to_string(), "docker.io/library/busybox:latest");
    assert!(!latest.is_name_only());
    // tag_name_only leaves tagged and digested references alone.
    let t = n.with_tag("1.0").unwrap();
    assert_eq!(t.tag_name_only(), t);
    let d = n.with_digest(Digest::parse(D).unwrap());
    assert_eq!(d.tag_name_only(), d);
    assert_eq!(d.to_string(), format!("docker.io/library/busybox@{D}"));
    // WithTag keeps a digest, WithDigest keeps a tag.
    let both = d.with_tag("x").unwrap();
    assert_eq!(both.to_string(), format!("docker.io/library/busybox:x@{D}"));
    let both2 = t.with_digest(Digest::parse(D).unwrap());
    assert_eq!(
        both2.to_string(),
        format!("docker.io/library/busybox:1.0@{D}")
    );
    assert_eq!(both.without_tag_or_digest(), n);
    assert_eq!(n.with_tag("-bad"), Err(ReferenceError::TagInvalidFormat));
    assert_eq!(
        ReferenceError::TagInvalidFormat.to_string(),
        "invalid tag format"
    );
}

#[test]
fn from_str_normalises() {
    let n: Named = "busybox:1".parse().unwrap();
    assert_eq!(n.to_string(), "docker.io/library/busybox:1");
}
