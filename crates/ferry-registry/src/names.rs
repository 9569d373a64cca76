//! Light validation of the names that end up in request paths: repository names, tags
//! and digests. The reference grammar lives in ferry-reference; this only makes sure a
//! value cannot change the shape of a URL (`/`, `?`, `#`, `..`).

use crate::error::RegistryError;

/// A repository path: `/`-separated components of `[a-z0-9._-]`, none empty, `.` or `..`.
pub(crate) fn repo(repo: &str) -> Result<&str, RegistryError> {
    let ok = !repo.is_empty()
        && repo.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    if ok {
        Ok(repo)
    } else {
        Err(RegistryError::Invalid(format!(
            "invalid repository name {repo:?}"
        )))
    }
}

/// A tag or a digest.
pub(crate) fn reference(r: &str) -> Result<&str, RegistryError> {
    let ok = !r.is_empty()
        && r != "."
        && r != ".."
        && r.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:+=-".contains(&b));
    if ok {
        Ok(r)
    } else {
        Err(RegistryError::Invalid(format!(
            "invalid tag or digest {r:?}"
        )))
    }
}

/// `algorithm:encoded`.
pub(crate) fn digest(d: &str) -> Result<&str, RegistryError> {
    let ok = match d.split_once(':') {
        Some((alg, enc)) => {
            !alg.is_empty()
                && !enc.is_empty()
                && alg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
                && enc
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
        }
        None => false,
    };
    if ok {
        Ok(d)
    } else {
        Err(RegistryError::Invalid(format!("invalid digest {d:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_names() {
        assert!(repo("library/busybox").is_ok());
        assert!(repo("a.b/c_d/e-f/g__h").is_ok());
        assert!(reference("latest").is_ok());
        assert!(reference("v1.2.3-rc_1").is_ok());
        assert!(reference("sha256:0123abcd").is_ok());
        assert!(digest("sha256:0123456789abcdef").is_ok());
        assert!(digest("sha512+b64u:AbC-_=").is_ok());
    }

    #[test]
    fn rejects_url_changing_names() {
        for r in [
            "", "/a", "a/", "a//b", "a/../b", "A/b", "a?b", "a#b", "a b", "a/./b",
        ] {
            assert!(repo(r).is_err(), "{r:?}");
        }
        for r in ["", "..", "a/b", "a?b", "a#b", "a%2f"] {
            assert!(reference(r).is_err(), "{r:?}");
        }
        for d in ["", "sha256", "sha256:", ":abc", "sha256:ab/cd", "SHA256:ab"] {
            assert!(digest(d).is_err(), "{d:?}");
        }
    }
}
