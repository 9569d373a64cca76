//! Looking inside tar archives (docker-archive / oci-archive files) without unpacking.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::Path;

/// One member of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    File(Vec<u8>),
    Dir,
    Symlink(String),
    Other,
}

/// Every member of the tar at `path`, by name (a leading `./` and trailing `/` removed).
pub fn members(path: &Path) -> io::Result<BTreeMap<String, Member>> {
    let mut ar = tar::Archive::new(io::BufReader::new(fs_err::File::open(path)?));
    let mut out = BTreeMap::new();
    for e in ar.entries()? {
        let mut e = e?;
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let name = name
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        let m = match e.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut v = Vec::new();
                e.read_to_end(&mut v)?;
                Member::File(v)
            }
            tar::EntryType::Directory => Member::Dir,
            tar::EntryType::Symlink => Member::Symlink(
                e.link_name()?
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            _ => Member::Other,
        };
        out.insert(name, m);
    }
    Ok(out)
}

/// The contents of the regular file `name` in the tar at `path`.
pub fn read_member(path: &Path, name: &str) -> io::Result<Vec<u8>> {
    match members(path)?.remove(name) {
        Some(Member::File(v)) => Ok(v),
        _ => Err(io::Error::other(format!(
            "{}: no file {name:?}",
            path.display()
        ))),
    }
}

/// Compares the regular files of two archives whose names satisfy `keep`: the same
/// names with the same bytes. `Err` lists the differences.
pub fn diff_archives(a: &Path, b: &Path, keep: impl Fn(&str) -> bool) -> Result<(), String> {
    let read = |p: &Path| -> Result<BTreeMap<String, Vec<u8>>, String> {
        Ok(members(p)
            .map_err(|e| format!("reading {}: {e}", p.display()))?
            .into_iter()
            .filter(|(k, _)| keep(k))
            .filter_map(|(k, m)| {
                if let Member::File(v) = m {
                    Some((k, v))
                } else {
                    None
                }
            })
            .collect())
    };
    let (ma, mb) = (read(a)?, read(b)?);
    let mut diffs = Vec::new();
    for (k, va) in &ma {
        match mb.get(k) {
            None => diffs.push(format!("only in A: {k}")),
            Some(vb) if vb != va => {
                let show = |v: &[u8]| {
                    if v.len() <= 2048 {
                        String::from_utf8(v.to_vec())
                            .unwrap_or_else(|_| format!("{} binary bytes", v.len()))
                    } else {
                        format!("{} bytes, {}", v.len(), crate::hash::sha256_bytes(v))
                    }
                };
                diffs.push(format!(
                    "{k} differs:\n    A: {}\n    B: {}",
                    show(va),
                    show(vb)
                ));
            }
            Some(_) => {}
        }
    }
    diffs.extend(
        mb.keys()
            .filter(|k| !ma.contains_key(*k))
            .map(|k| format!("only in B: {k}")),
    );
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "archives differ:\n  A = {}\n  B = {}\n  - {}",
            a.display(),
            b.display(),
            diffs.join("\n  - ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{Kind, build};

    #[test]
    fn members_of_an_oci_archive() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let f = build(Kind::Oci, &t.path().join("l"))?;
        let a = t.path().join("a.tar");
        crate::export::to_oci_archive(&f.layout, &a)?;
        let m = members(&a)?;
        assert_eq!(m.get("blobs"), Some(&Member::Dir));
        assert_eq!(
            read_member(&a, "oci-layout")?,
            br#"{"imageLayoutVersion":"1.0.0"}"#
        );
        assert_eq!(diff_archives(&a, &a, |_| true), Ok(()));
        let f2 = build(Kind::Multiarch, &t.path().join("l2"))?;
        let b = t.path().join("b.tar");
        crate::export::to_oci_archive(&f2.layout, &b)?;
        let e = diff_archives(&a, &b, |_| true).err().unwrap_or_default();
        assert!(e.contains("index.json differs"), "{e}");
        assert_eq!(diff_archives(&a, &b, |k| k == "oci-layout"), Ok(()));
        Ok(())
    }
}
