//! Writing OCI image layouts directly (`oci-layout`, `index.json`, `blobs/sha256/…`),
//! independent of ferry and skopeo.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::hash::{HashingWriter, hex_of, sha256_bytes};

/// `org.opencontainers.image.ref.name`
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A content descriptor (`mediaType`, `digest`, `size`, optional platform/annotations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

impl Descriptor {
    pub fn to_json(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// An OCI image layout on disk.
#[derive(Debug, Clone)]
pub struct OciLayout {
    root: PathBuf,
}

impl OciLayout {
    /// Creates an empty layout at `root` (the directory may exist but must not hold a layout).
    pub fn create(root: impl AsRef<Path>) -> io::Result<OciLayout> {
        let root = root.as_ref().to_path_buf();
        fs_err::create_dir_all(root.join("blobs").join("sha256"))?;
        fs_err::write(
            root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        fs_err::write(
            root.join("index.json"),
            br#"{"schemaVersion":2,"manifests":[]}"#,
        )?;
        Ok(OciLayout { root })
    }

    /// An existing layout.
    pub fn open(root: impl AsRef<Path>) -> OciLayout {
        OciLayout {
            root: root.as_ref().to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of a blob (`sha256:<hex>` → `blobs/sha256/<hex>`).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let (algo, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        self.root.join("blobs").join(algo).join(hex)
    }

    pub fn read_blob(&self, digest: &str) -> io::Result<Vec<u8>> {
        fs_err::read(self.blob_path(digest))
    }

    /// Stores `data` as a blob; returns its digest and size.
    pub fn put_blob(&self, data: &[u8]) -> io::Result<(String, u64)> {
        let d = sha256_bytes(data);
        fs_err::write(self.blob_path(&d), data)?;
        Ok((d, data.len() as u64))
    }

    /// Streams a blob: `write` gets a writer; the bytes are hashed on the way to a temp
    /// file that is then renamed to its digest. Returns `write`'s result, digest and size.
    pub fn put_blob_with<T>(
        &self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> io::Result<(T, String, u64)> {
        let dir = self.root.join("blobs").join("sha256");
        let tmp = tempfile::NamedTempFile::new_in(&dir)?;
        let file = io::BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?);
        let mut hw = HashingWriter::new(file);
        let t = write(&mut hw)?;
        let (mut file, digest, size) = hw.finish_with_len();
        file.flush()?;
        drop(file);
        std::fs::set_permissions(
            tmp.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )?;
        tmp.persist(dir.join(hex_of(&digest)))
            .map_err(|e| e.error)?;
        Ok((t, digest, size))
    }

    /// The parsed `index.json`.
    pub fn index(&self) -> io::Result<Value> {
        let p = self.root.join("index.json");
        serde_json::from_slice(&fs_err::read(&p)?)
            .map_err(|e| io::Error::other(format!("parsing {}: {e}", p.display())))
    }

    /// Adds a descriptor to `index.json`, named `tag` if given (an older entry with
    /// the same name is replaced).
    pub fn add_to_index(&self, desc: &Descriptor, tag: Option<&str>) -> io::Result<()> {
        let mut index = self.index()?;
        let mut entry = desc.to_json();
        if let Some(t) = tag {
            entry["annotations"] = json!({ REF_NAME: t });
        }
        let list = index["manifests"]
            .as_array_mut()
            .ok_or_else(|| io::Error::other("index.json has no manifests array"))?;
        if let Some(t) = tag {
            list.retain(|m| m["annotations"][REF_NAME].as_str() != Some(t));
        }
        list.push(entry);
        fs_err::write(self.root.join("index.json"), serde_json::to_vec(&index)?)?;
        Ok(())
    }

    /// The descriptor named `tag` in index.json.
    pub fn find(&self, tag: &str) -> io::Result<Descriptor> {
        let index = self.index()?;
        index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["annotations"][REF_NAME].as_str() == Some(tag))
            .and_then(descriptor_of)
            .ok_or_else(|| io::Error::other(format!("no image {tag:?} in {}", self.root.display())))
    }
}

/// A [`Descriptor`] from a JSON descriptor object.
pub fn descriptor_of(v: &Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v["mediaType"].as_str()?.to_string(),
        digest: v["digest"].as_str()?.to_string(),
        size: v["size"].as_u64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_and_index() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let l = OciLayout::create(t.path().join("l"))?;
        let (d, n) = l.put_blob(b"hello")?;
        assert_eq!(n, 5);
        assert_eq!(l.read_blob(&d)?, b"hello");
        let ((), d2, n2) = l.put_blob_with(|w| w.write_all(b"hello"))?;
        assert_eq!((d2.as_str(), n2), (d.as_str(), 5));
        let desc = Descriptor {
            media_type: "x".into(),
            digest: d.clone(),
            size: n,
        };
        l.add_to_index(&desc, Some("a"))?;
        l.add_to_index(&desc, Some("a"))?;
        l.add_to_index(&desc, None)?;
        assert_eq!(l.index()?["manifests"].as_array().map(Vec::len), Some(2));
        assert_eq!(l.find("a")?, desc);
        assert!(l.find("b").is_err());
        Ok(())
    }
}
