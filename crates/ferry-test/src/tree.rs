//! Comparing directory trees byte for byte (like `diff -r`), with a readable list of
//! differences: missing files, differing files (sizes, digests, and the contents of
//! small text files such as manifests), and type or symlink-target mismatches.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::hash::sha256_file;

/// What a path in a tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    File { size: u64 },
    Symlink { target: PathBuf },
    Other,
}

/// Every path under `root` (relative, `/`-separated, sorted), with what it is.
pub fn list_tree(root: &Path) -> io::Result<BTreeMap<String, Node>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs_err::read_dir(root.join(&rel))? {
            let e = e?;
            let rel = rel.join(e.file_name());
            let key = rel.to_string_lossy().into_owned();
            let ft = e.file_type()?;
            let node = if ft.is_symlink() {
                Node::Symlink {
                    target: fs_err::read_link(e.path())?,
                }
            } else if ft.is_dir() {
                stack.push(rel);
                Node::Dir
            } else if ft.is_file() {
                Node::File {
                    size: e.metadata()?.len(),
                }
            } else {
                Node::Other
            };
            out.insert(key, node);
        }
    }
    Ok(out)
}

/// A short, human-readable description of a file's contents for a diff report.
fn show(path: &Path) -> String {
    const SMALL: u64 = 4096;
    let size = fs_err::metadata(path).map(|m| m.len()).unwrap_or(0);
    let digest = sha256_file(path).unwrap_or_else(|e| format!("<{e}>"));
    if size <= SMALL
        && let Ok(Ok(s)) = fs_err::read(path).map(String::from_utf8)
    {
        return format!("{size} bytes, {digest}:\n      {s}");
    }
    format!("{size} bytes, {digest}")
}

/// Compares two trees recursively: the same paths, the same kinds, files with the same
/// bytes, symlinks with the same targets. `Err` lists every difference.
pub fn diff_trees(a: impl AsRef<Path>, b: impl AsRef<Path>) -> Result<(), String> {
    let (a, b) = (a.as_ref(), b.as_ref());
    let ta = list_tree(a).map_err(|e| format!("listing {}: {e}", a.display()))?;
    let tb = list_tree(b).map_err(|e| format!("listing {}: {e}", b.display()))?;
    let mut diffs = Vec::new();
    for (k, na) in &ta {
        match tb.get(k) {
            None => diffs.push(format!("only in {}: {k}", a.display())),
            Some(nb) if std::mem::discriminant(na) != std::mem::discriminant(nb) => {
                diffs.push(format!(
                    "{k}: {na:?} in {} but {nb:?} in {}",
                    a.display(),
                    b.display()
                ));
            }
            Some(Node::Symlink { target }) => {
                if na
                    != &(Node::Symlink {
                        target: target.clone(),
                    })
                {
                    diffs.push(format!("{k}: symlink targets differ: {na:?} vs {target:?}"));
                }
            }
            Some(Node::File { .. }) => {
                let (pa, pb) = (a.join(k), b.join(k));
                match (fs_err::read(&pa), fs_err::read(&pb)) {
                    (Ok(x), Ok(y)) if x == y => {}
                    (Ok(_), Ok(_)) => diffs.push(format!(
                        "{k} differs:\n    A ({}): {}\n    B ({}): {}",
                        a.display(),
                        show(&pa),
                        b.display(),
                        show(&pb)
                    )),
                    (x, y) => diffs.push(format!(
                        "{k}: read error: {:?} / {:?}",
                        x.err().map(|e| e.to_string()),
                        y.err().map(|e| e.to_string())
                    )),
                }
            }
            Some(_) => {}
        }
    }
    for k in tb.keys().filter(|k| !ta.contains_key(*k)) {
        diffs.push(format!("only in {}: {k}", b.display()));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "trees differ ({} difference(s)) between\n  A = {}\n  B = {}\n  - {}",
            diffs.len(),
            a.display(),
            b.display(),
            diffs.join("\n  - ")
        ))
    }
}

/// Total apparent size of the regular files under `root` (0 if it does not exist);
/// `root` may be a file.
pub fn tree_size(root: &Path) -> u64 {
    match fs_err::symlink_metadata(root) {
        Ok(m) if m.is_file() => m.len(),
        Ok(m) if m.is_dir() => list_tree(root)
            .map(|t| {
                t.values()
                    .map(|n| {
                        if let Node::File { size } = n {
                            *size
                        } else {
                            0
                        }
                    })
                    .sum()
            })
            .unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_and_different_trees() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        for d in [&a, &b] {
            fs_err::create_dir_all(d.join("sub"))?;
            fs_err::write(d.join("sub/f"), "same")?;
            std::os::unix::fs::symlink("sub/f", d.join("l"))?;
        }
        assert_eq!(diff_trees(&a, &b), Ok(()));
        fs_err::write(b.join("sub/f"), "other")?;
        fs_err::write(a.join("only-a"), "x")?;
        fs_err::create_dir(b.join("only-b"))?;
        let e = diff_trees(&a, &b).err().unwrap_or_default();
        assert!(e.contains("3 difference(s)"), "{e}");
        assert!(
            e.contains("sub/f differs") && e.contains("same") && e.contains("other"),
            "{e}"
        );
        assert!(e.contains("only-a") && e.contains("only-b"), "{e}");
        assert_eq!(tree_size(&a), 5);
        Ok(())
    }
}
