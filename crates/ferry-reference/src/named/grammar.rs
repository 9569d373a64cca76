//! The distribution/reference regular grammar, hand-written instead of compiled regexes
//! (the grammar is tiny, and this keeps the crate free of a regex engine).
//!
//! Mirrors `ReferenceRegexp` of the containers/image 5.23 copy of `docker/reference`
//! (what skopeo 1.9.3 uses): no IPv6 domains, `[-]*` separators, RE2 leftmost-first
//! capture semantics (an optional domain is taken whenever the rest still matches).

/// The three captures of `ReferenceRegexp`: name, tag, digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefMatch<'a> {
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// `^(name)(?::(tag))?(?:@(digest))?$`
pub(crate) fn match_reference(s: &str) -> Option<RefMatch<'_>> {
    // Neither a name nor a tag can contain '@', so the first '@' starts the digest.
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest
        && !is_digest(d)
    {
        return None;
    }
    // A tag follows the last ':' unless that ':' is part of a domain's port (then a '/'
    // follows it). A name only contains ':' in its domain, before a '/'.
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag
        && !is_tag(t)
    {
        return None;
    }
    split_name(name)?;
    Some(RefMatch { name, tag, digest })
}

/// `^(?:(domain)/)?(path)$` with the domain taken when possible; `None` if `name` is
/// not a valid name. The domain is `""` when absent.
pub(crate) fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/')
        && is_domain(first)
        && is_path(rest)
    {
        return Some((first, rest));
    }
    if is_path(name) {
        return Some(("", name));
    }
    None
}

/// `nameComponent(?:/nameComponent)*`
pub(crate) fn is_path(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_name_component)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn is_name_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `domainComponent(?:\.domainComponent)*(?::[0-9]+)?`
pub(crate) fn is_domain(s: &str) -> bool {
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    !host.is_empty() && host.split('.').all(is_domain_component)
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
}

/// `^[\w][\w.-]{0,127}$`
pub(crate) fn is_tag(s: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`
pub(crate) fn is_digest(s: &str) -> bool {
    let Some((algo, hex)) = s.split_once(':') else {
        return false;
    };
    if hex.len() < 32 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return false;
    }
    // Components separated by one of "-_+.", each starting with a letter.
    let mut parts = algo.split(['-', '_', '+', '.']);
    parts.all(|p| {
        let b = p.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(|c| c.is_ascii_alphanumeric())
    })
}

/// `^[a-f0-9]{64}$` (an image ID, refused as a repository name).
pub(crate) fn is_hex_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// go-digest's `Digest.Validate` for the algorithms Go knows (sha256, sha384, sha512):
/// the error text on failure.
pub(crate) fn validate_go_digest(s: &str) -> Result<(), GoDigestError> {
    let Some(i) = s.find(':').filter(|&i| i > 0 && i + 1 < s.len()) else {
        return Err(GoDigestError::Format);
    };
    let (algo, hex) = (&s[..i], &s[i + 1..]);
    let size = match algo {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => {
            // DigestRegexpAnchored: [a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+
            let algo_ok = algo.split(['.', '+', '_', '-']).all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
            let hex_ok = hex
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'=' || c == b'_' || c == b'-');
            return Err(if algo_ok && hex_ok {
                GoDigestError::Unsupported
            } else {
                GoDigestError::Format
            });
        }
    };
    if hex.len() != size * 2 {
        return Err(GoDigestError::Length);
    }
    if !hex
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return Err(GoDigestError::Format);
    }
    Ok(())
}

/// The three go-digest validation failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoDigestError {
    Format,
    Length,
    Unsupported,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn name_components() {
        for ok in ["a", "a0", "a.b", "a_b", "a__b", "a-b", "a---b", "0"] {
            assert!(is_name_component(ok), "{ok}");
        }
        for bad in [
            "", "A", "a_", "-a", "a.", "a..b", "a___b", "a._b", "a-.b", "a b",
        ] {
            assert!(!is_name_component(bad), "{bad}");
        }
    }

    #[test]
    fn domains() {
        for ok in ["a", "localhost:5000", "A.io", "a-b.c", "1.2.3.4:1"] {
            assert!(is_domain(ok), "{ok}");
        }
        for bad in ["", "a:", "a:b", "-a", "a-", "a..b", "a_b.io", "[::1]:5000"] {
            assert!(!is_domain(bad), "{bad}");
        }
    }

    #[test]
    fn tags() {
        assert!(is_tag("_t"));
        assert!(is_tag("t.-"));
        assert!(is_tag(&"a".repeat(128)));
        assert!(!is_tag(&"a".repeat(129)));
        assert!(!is_tag("-t"));
        assert!(!is_tag(".t"));
        assert!(!is_tag(""));
    }

    #[test]
    fn digests() {
        let hex32 = "0123456789abcdef0123456789ABCDEF";
        assert!(is_digest(&format!("sha256:{hex32}")));
        assert!(is_digest(&format!("SHA256+x.y:{hex32}")));
        assert!(!is_digest(&format!("sha256:{}", &hex32[..31])));
        assert!(!is_digest(&format!("2sha:{hex32}")));
        assert!(!is_digest(&format!("sha256:{hex32}g")));
        assert!(!is_digest(hex32));
    }

    #[test]
    fn reference_captures() {
        let m = match_reference("a:5000/b:t").unwrap();
        assert_eq!((m.name, m.tag, m.digest), ("a:5000/b", Some("t"), None));
        let m = match_reference("localhost:5000").unwrap();
        assert_eq!((m.name, m.tag), ("localhost", Some("5000")));
        assert!(match_reference("a:b:c").is_none());
        assert!(match_reference("a:b/c").is_none());
        assert!(match_reference("a@sha256:abc").is_none());
        assert!(match_reference("a/b:c/d").is_none());
        assert!(match_reference("").is_none());
    }

    #[test]
    fn name_split_prefers_domain() {
        assert_eq!(split_name("foo/bar"), Some(("foo", "bar")));
        assert_eq!(split_name("a_b.io/foo"), Some(("", "a_b.io/foo")));
        assert_eq!(split_name("busybox"), Some(("", "busybox")));
        assert_eq!(split_name("a:1/b/c"), Some(("a:1", "b/c")));
        assert_eq!(split_name("a//b"), None);
    }

    #[test]
    fn go_digest_validation() {
        let h64 = "0123456789abcdef".repeat(4);
        assert_eq!(validate_go_digest(&format!("sha256:{h64}")), Ok(()));
        assert_eq!(
            validate_go_digest(&format!("sha384:{}", "ab".repeat(48))),
            Ok(())
        );
        assert_eq!(
            validate_go_digest(&format!("sha256:{}", h64.to_uppercase())),
            Err(GoDigestError::Format)
        );
        // Length is checked before the character set.
        assert_eq!(
            validate_go_digest("sha256:0123456789ABCDEF0123456789abcdef01"),
            Err(GoDigestError::Length)
        );
        assert_eq!(
            validate_go_digest("md5:0123456789abcdef0123456789abcdef"),
            Err(GoDigestError::Unsupported)
        );
        assert_eq!(
            validate_go_digest("SHA256:0123456789abcdef0123456789abcdef"),
            Err(GoDigestError::Format)
        );
        assert_eq!(validate_go_digest(":abc"), Err(GoDigestError::Format));
        assert_eq!(validate_go_digest("sha256:"), Err(GoDigestError::Format));
    }
}
