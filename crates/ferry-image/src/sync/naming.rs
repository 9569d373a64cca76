//! Destination names, exactly as skopeo computes them (`cmd/skopeo/sync.go`), with Go's
//! `path` package semantics (`Join` cleans, `Base` of `""` is `.`):
//!
//! - the *suffix* of an image is its full Docker reference for registry sources
//!   (`registry/ns/repo:tag`), and for `dir` sources the walked path with the SOURCE
//!   argument trimmed off as a string prefix (`strings.TrimPrefix`, so `./src` and `src/`
//!   behave as in skopeo), or `Base(SOURCE)` when SOURCE is the image itself;
//! - without `--scoped` only `Base(suffix)` is kept (`repo:tag`);
//! - the destination is `Join(DEST, suffix) + append_suffix`: the suffix lands on the tag.
//!
//! ferry's YAML `destination:` replaces `Join(DEST, suffix)` with
//! `Join(DEST, destination):TAG` (or `@DIGEST`), whatever `--scoped` says.

/// Go's `path.Clean`.
pub fn go_clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Join` of two elements.
pub fn go_join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => String::new(),
        (true, false) => go_clean(b),
        (false, true) => go_clean(a),
        (false, false) => go_clean(&format!("{a}/{b}")),
    }
}

/// Go's `path.Base`.
pub fn go_base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// The suffix of an image found at `walked` (a path below `base`, as Go's `WalkDir`
/// builds it) when syncing from the directory `base` (the SOURCE argument as given).
pub fn dir_suffix(base: &str, walked: &str) -> String {
    match walked.strip_prefix(base) {
        Some("") => go_base(base),
        Some(rest) => rest.to_string(),
        None => walked.to_string(),
    }
}

/// `Join(DEST, suffix-or-its-base) + append_suffix`.
pub fn destination(dest: &str, suffix: &str, scoped: bool, append_suffix: &str) -> String {
    let suffix = if scoped {
        suffix.to_string()
    } else {
        go_base(suffix)
    };
    format!("{}{append_suffix}", go_join(dest, &suffix))
}

/// ferry's explicit YAML destination: `Join(DEST, path)` plus the image's tag or digest.
pub fn explicit_destination(
    dest: &str,
    path: &str,
    tag_or_digest: &str,
    append_suffix: &str,
) -> String {
    format!("{}{tag_or_digest}{append_suffix}", go_join(dest, path))
}

/// Splits `path/to/repo:tag` or `path/to/repo@digest` (the last path element only) into
/// the repository part and `(":" | "@", rest)`.
pub fn split_tag(s: &str) -> (&str, Option<(char, &str)>) {
    let start = s.rfind('/').map_or(0, |i| i + 1);
    let last = &s[start..];
    if let Some(i) = last.find('@') {
        return (&s[..start + i], Some(('@', &last[i + 1..])));
    }
    match last.rfind(':') {
        Some(i) => (&s[..start + i], Some((':', &last[i + 1..]))),
        None => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_semantics() {
        assert_eq!(go_clean("a//b/./c/.."), "a/b");
        assert_eq!(go_clean("/../a"), "/a");
        assert_eq!(go_clean("../../a"), "../../a");
        assert_eq!(go_clean(""), ".");
        assert_eq!(go_join("out", "/one"), "out/one");
        assert_eq!(
            go_join("out/", "127.0.0.1:5000/ns/app:1"),
            "out/127.0.0.1:5000/ns/app:1"
        );
        assert_eq!(go_join("", "x"), "x");
        assert_eq!(go_base("127.0.0.1:5000/ns/app:1"), "app:1");
        assert_eq!(go_base("a/b/"), "b");
        assert_eq!(go_base(""), ".");
        assert_eq!(go_base("/"), "/");
    }

    /// The cases observed with skopeo 1.9.3 (`sync --dry-run`).
    #[test]
    fn skopeo_naming() {
        let d = |s: &str, scoped| destination("127.0.0.1:5077/fromdir", s, scoped, "");
        assert_eq!(
            d(&dir_suffix("dsrc", "dsrc/one"), false),
            "127.0.0.1:5077/fromdir/one"
        );
        assert_eq!(
            d(&dir_suffix("dsrc", "dsrc/sub/two"), true),
            "127.0.0.1:5077/fromdir/sub/two"
        );
        assert_eq!(
            d(&dir_suffix("dsrc/", "dsrc/sub/two"), true),
            "127.0.0.1:5077/fromdir/sub/two"
        );
        assert_eq!(
            d(&dir_suffix("./dsrc", "dsrc/sub/two"), true),
            "127.0.0.1:5077/fromdir/dsrc/sub/two"
        );
        assert_eq!(
            d(&dir_suffix("/t/dsrc/sub/two", "/t/dsrc/sub/two"), true),
            "127.0.0.1:5077/fromdir/two"
        );
        assert_eq!(
            destination("o6", "127.0.0.1:5077/ns/app:1.0.0", false, ""),
            "o6/app:1.0.0"
        );
        assert_eq!(
            destination("out2", "127.0.0.1:5077/ns/app:1.0.0", true, "-mirror"),
            "out2/127.0.0.1:5077/ns/app:1.0.0-mirror"
        );
        assert_eq!(
            explicit_destination("reg/base", "mirror/etcd", ":v3", ""),
            "reg/base/mirror/etcd:v3"
        );
    }

    #[test]
    fn tags_split_off_the_last_element() {
        assert_eq!(
            split_tag("h:5000/a/b:1.0"),
            ("h:5000/a/b", Some((':', "1.0")))
        );
        assert_eq!(split_tag("h:5000/a/b"), ("h:5000/a/b", None));
        assert_eq!(
            split_tag("d/b@sha256:00"),
            ("d/b", Some(('@', "sha256:00")))
        );
        assert_eq!(split_tag("b:x"), ("b", Some((':', "x"))));
    }
}
