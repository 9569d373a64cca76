//! containers/image's `explicitfilepath.ResolvePathToFullyExplicit` (absolute, cleaned,
//! symlink-free paths, the last component may be missing) and Go-style error texts, so
//! that parse errors read like skopeo's (`lstat /nonexistent: no such file or directory`).

use std::io;
use std::path::{Path, PathBuf};

/// Resolves `path` to an absolute path without symlinks, `.` or `..`. The path itself
/// may be missing, its parent must exist. The error text is Go's.
pub(crate) fn resolve_path_to_fully_explicit(path: &str) -> Result<PathBuf, String> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => resolve_existing(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let (parent, file) = match path.rfind('/') {
                Some(i) => (&path[..=i], &path[i + 1..]),
                None => ("", path),
            };
            let resolved_parent = resolve_existing(parent)?;
            if file == "." || file == ".." {
                return Err(format!(
                    "Unexpectedly missing special filename component in {path}"
                ));
            }
            Ok(PathBuf::from(go_clean(&format!(
                "{}/{file}",
                resolved_parent.display()
            ))))
        }
        Err(e) => Err(format!("lstat {path}: {}", go_error_text(&e))),
    }
}

/// `filepath.Abs` + `filepath.EvalSymlinks` + `filepath.Clean` of an existing path.
fn resolve_existing(path: &str) -> Result<PathBuf, String> {
    let abs = go_abs(path)?;
    match std::fs::canonicalize(&abs) {
        Ok(p) => Ok(p),
        Err(e) => Err(eval_symlinks_error(&abs, &e)),
    }
}

/// `filepath.Abs`: joins relative paths to the working directory, then cleans.
pub(crate) fn go_abs(path: &str) -> Result<String, String> {
    if path.starts_with('/') {
        return Ok(go_clean(path));
    }
    let cwd = std::env::current_dir().map_err(|e| format!("getwd: {}", go_error_text(&e)))?;
    Ok(go_clean(&format!("{}/{path}", cwd.display())))
}

/// Names the first path prefix that cannot be `lstat`ed, as Go's `EvalSymlinks` does.
fn eval_symlinks_error(abs: &str, err: &io::Error) -> String {
    let mut prefix = String::new();
    for comp in abs.split('/').filter(|c| !c.is_empty()) {
        prefix.push('/');
        prefix.push_str(comp);
        if let Err(e) = std::fs::symlink_metadata(&prefix) {
            return format!("lstat {prefix}: {}", go_error_text(&e));
        }
    }
    format!("{abs}: {}", go_error_text(err))
}

/// Go's `filepath.Clean` for Unix paths.
pub(crate) fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|c| *c != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// The text Go prints for an OS error (`no such file or directory`), without Rust's
/// `(os error N)` suffix and with a lower-case first letter.
pub(crate) fn go_error_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match (e.raw_os_error(), s.rfind(" (os error ")) {
        (Some(_), Some(i)) => &s[..i],
        _ => s.as_str(),
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The policy namespaces of a resolved path: its parents, without `/`
/// (`dirReference.PolicyConfigurationNamespaces`).
pub(crate) fn parent_namespaces(resolved: &Path) -> Vec<String> {
    let mut res = Vec::new();
    let mut path = resolved.display().to_string();
    while let Some(i) = path.rfind('/').filter(|&i| i > 0) {
        path.truncate(i);
        res.push(path.clone());
    }
    res
}

/// The path itself, then its parents, without `/` (`ociReference.PolicyConfigurationNamespaces`).
pub(crate) fn self_and_parent_namespaces(resolved: &Path) -> Vec<String> {
    let mut res = Vec::new();
    let mut path = resolved.display().to_string();
    while let Some(i) = path.rfind('/') {
        if path == "/" {
            break;
        }
        res.push(path.clone());
        path.truncate(i);
    }
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        for (i, o) in [
            ("", "."),
            ("/", "/"),
            ("a/../b", "b"),
            ("/a/../../b", "/b"),
            ("../a", "../a"),
            ("a//b/./c/", "a/b/c"),
            ("a/..", "."),
            ("/tmp/x/", "/tmp/x"),
        ] {
            assert_eq!(go_clean(i), o, "{i:?}");
        }
    }

    #[test]
    fn resolves_missing_last_component() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        // The parent is cleaned lexically first, so a missing "sub" does not matter (as in Go).
        let p = format!("{}/sub/../new", base.display());
        assert_eq!(
            resolve_path_to_fully_explicit(&p).unwrap(),
            base.join("new")
        );
        // A trailing slash makes the missing directory the parent, which must exist.
        assert_eq!(
            resolve_path_to_fully_explicit(&format!("{}/./new/", base.display())).unwrap_err(),
            format!("lstat {}/new: no such file or directory", base.display())
        );
        std::fs::create_dir(base.join("sub")).unwrap();
        let link = base.join("link");
        std::os::unix::fs::symlink(base.join("sub"), &link).unwrap();
        assert_eq!(
            resolve_path_to_fully_explicit(&format!("{}/x", link.display())).unwrap(),
            base.join("sub/x")
        );
        assert_eq!(
            resolve_path_to_fully_explicit(link.to_str().unwrap()).unwrap(),
            base.join("sub")
        );
    }

    #[test]
    fn error_texts_like_go() {
        assert_eq!(
            resolve_path_to_fully_explicit("/nonexistent-ferry/a/b").unwrap_err(),
            "lstat /nonexistent-ferry: no such file or directory"
        );
        let tmp = tempfile::tempdir().unwrap();
        let f = tmp.path().join("file");
        std::fs::write(&f, b"x").unwrap();
        let p = format!("{}/x", f.display());
        assert_eq!(
            resolve_path_to_fully_explicit(&p).unwrap_err(),
            format!("lstat {p}: not a directory")
        );
    }

    #[test]
    fn namespaces() {
        assert_eq!(
            parent_namespaces(Path::new("/a/b/c")),
            vec!["/a/b".to_string(), "/a".to_string()]
        );
        assert!(parent_namespaces(Path::new("/a")).is_empty());
        assert_eq!(
            self_and_parent_namespaces(Path::new("/a/b")),
            vec!["/a/b".to_string(), "/a".to_string()]
        );
    }
}
