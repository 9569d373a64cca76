//! Per-transport validation of policy.json scope keys (each transport's
//! `ValidatePolicyConfigurationScope` in containers/image 5.23). An invalid scope makes
//! the whole file fail with `Unknown key "<scope>"`, as in skopeo. The empty scope is
//! always valid and is not passed here.

use ferry_reference::validate_go_digest;

/// Whether `scope` is acceptable for `transport`. Transports ferry does not know accept
/// any scope (skopeo does not validate them either).
pub(crate) fn is_valid_scope(transport: &str, scope: &str) -> bool {
    match transport {
        // The ID form (`algo:digest`) cannot be namespaced.
        "docker-daemon" => validate_go_digest(scope).is_err(),
        // Only the default "" scope.
        "docker-archive" | "tarball" => false,
        "dir" | "oci" | "oci-archive" | "sif" => is_absolute_clean_path(scope),
        "containers-storage" => is_storage_scope(scope),
        _ => true,
    }
}

/// Absolute, not `/`, and already in `filepath.Clean` form.
fn is_absolute_clean_path(scope: &str) -> bool {
    scope.starts_with('/') && scope != "/" && is_clean(scope)
}

/// True when `filepath.Clean` would leave the absolute path unchanged.
fn is_clean(p: &str) -> bool {
    !p.ends_with('/')
        && !p[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
}

/// `[driver@root]`, `[root]`, optionally followed by `name[:tag]`, `…@digest-or-id` or
/// `…@digest@id`.
fn is_storage_scope(scope: &str) -> bool {
    let Some(rest) = scope.strip_prefix('[') else {
        return false;
    };
    let Some(close) = rest.find(']') else {
        return false;
    };
    let (spec, name) = (&rest[..close], &rest[close + 1..]);
    let root = match spec.split_once('@') {
        None if !spec.is_empty() => spec,
        Some((driver, root)) if !driver.is_empty() && !root.is_empty() => root,
        _ => return false,
    };
    if !root.starts_with('/') {
        return false;
    }
    if name.is_empty() {
        return true;
    }
    let fields: Vec<&str> = name.splitn(3, '@').collect();
    match fields.as_slice() {
        [_] => true,
        [_, x] => is_image_id(x) || validate_go_digest(x).is_ok(),
        [_, d, id] => validate_go_digest(d).is_ok() && is_image_id(id),
        _ => false,
    }
}

fn is_image_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn path_transports() {
        for t in ["dir", "oci", "oci-archive", "sif"] {
            assert!(is_valid_scope(t, "/a/b"), "{t}");
            assert!(is_valid_scope(t, "/a:tag"), "{t}");
            for bad in ["rel", "/", "/a/../b", "/a/", "/a//b", "/./a"] {
                assert!(!is_valid_scope(t, bad), "{t} {bad}");
            }
        }
    }

    #[test]
    fn other_transports() {
        assert!(!is_valid_scope("docker-archive", "foo"));
        assert!(!is_valid_scope("tarball", "foo"));
        assert!(is_valid_scope("docker", "anything at all"));
        assert!(is_valid_scope("docker-daemon", "foo"));
        assert!(!is_valid_scope("docker-daemon", &format!("sha256:{HEX}")));
        assert!(is_valid_scope("nosuch", "rel"));
        assert!(is_valid_scope("ostree", "rel"));
    }

    #[test]
    fn storage_scopes() {
        for ok in [
            "[vfs@/x]".to_string(),
            "[/x]foo".to_string(),
            "[vfs@/x]docker.io/library/busybox:latest".to_string(),
            format!("[vfs@/x]busybox@{HEX}"),
            format!("[vfs@/x]busybox@sha256:{HEX}"),
            format!("[vfs@/x]busybox@sha256:{HEX}@{HEX}"),
        ] {
            assert!(is_valid_scope("containers-storage", &ok), "{ok}");
        }
        for bad in [
            "Foo",
            "/a:tag",
            "[]",
            "[vfs@]",
            "[@/x]",
            "[rel]",
            "[vfs@rel]x",
            "[vfs@/x]a@b",
        ] {
            assert!(!is_valid_scope("containers-storage", bad), "{bad}");
        }
    }
}
