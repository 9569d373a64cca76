//! `dir:PATH` — skopeo's directory layout (containers/image `directory`).
//!
//! Files: `version` (`Directory Transport Version: 1.1\n`), blobs (layers and config)
//! named by hex digest (`<algo>-<hex>` for non-sha256, with version 1.2), `manifest.json`,
//! signatures `signature-1..N`; for list instances `<hex>.manifest.json` and
//! `<hex>.signature-N`. The source reads these files lazily (opening never fails, as in
//! skopeo); the destination is in [`dest`].

mod dest;

use std::io;
use std::path::{Path, PathBuf};

use ferry_reference::{Algorithm, Digest};

pub use dest::DirDestination;

use super::ImageSource;
use super::reference::DirRef;
use crate::error::{Error, Result};
use crate::types::{BlobInfo, BlobReader, RawManifest, Signature};

/// The version file written when all digests are sha256.
const VERSION_1_1: &str = "Directory Transport Version: 1.1\n";
/// The version file written when some digest is not sha256 (names `<algo>-<hex>`).
const VERSION_1_2: &str = "Directory Transport Version: 1.2\n";
const VERSION_FILE: &str = "version";
const MANIFEST_FILE: &str = "manifest.json";

/// The file name of a blob (also the prefix of instance manifests and signatures).
pub(crate) fn blob_name(digest: &Digest) -> String {
    match digest.algorithm() {
        Algorithm::Sha256 => digest.hex().to_string(),
        other => format!("{}-{}", other.name(), digest.hex()),
    }
}

fn manifest_name(instance: Option<&Digest>) -> String {
    match instance {
        None => MANIFEST_FILE.to_string(),
        Some(d) => format!("{}.manifest.json", blob_name(d)),
    }
}

/// `index` is 0-based; files are numbered from 1.
fn signature_name(index: usize, instance: Option<&Digest>) -> String {
    match instance {
        None => format!("signature-{}", index + 1),
        Some(d) => format!("{}.signature-{}", blob_name(d), index + 1),
    }
}

/// An opened `dir:` image.
pub struct DirSource {
    path: PathBuf,
}

impl DirSource {
    pub fn open(r: &DirRef) -> Result<DirSource> {
        Ok(DirSource {
            path: r.path.clone(),
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl ImageSource for DirSource {
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest> {
        let bytes = fs_err::read(self.file(&manifest_name(instance)))?;
        Ok(RawManifest::sniffed(bytes))
    }

    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        let digest = &info.digest;
        let path = self.file(&blob_name(digest));
        let file = fs_err::File::open(&path).map_err(|e| Error::io(format!("blob {digest}"), e))?;
        let size = file
            .metadata()
            .map_err(|e| Error::io(format!("blob {digest}"), e))?
            .len();
        Ok((Box::new(file), Some(size)))
    }

    fn signatures(&self, instance: Option<&Digest>) -> Result<Vec<Signature>> {
        let mut sigs = Vec::new();
        loop {
            let path = self.file(&signature_name(sigs.len(), instance));
            match std::fs::read(&path) {
                Ok(sig) => sigs.push(sig),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(sigs),
                Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
            }
        }
    }
}

/// Checks the `version` file of an existing, non-empty destination directory.
///
/// skopeo 1.9.3 accepts exactly version 1.1; newer containers/image also writes 1.2, which
/// ferry understands too. A well-formed newer version is refused as unsupported; anything
/// else means the directory is not ours to wipe.
fn check_version(dir: &Path) -> Result<()> {
    let path = dir.join(VERSION_FILE);
    let contents = match std::fs::read(&path) {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_image_dir()),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    let contents = String::from_utf8_lossy(&contents);
    if contents == VERSION_1_1 || contents == VERSION_1_2 {
        return Ok(());
    }
    let newer = contents
        .strip_prefix("Directory Transport Version: ")
        .and_then(|v| v.strip_suffix('\n'))
        .filter(|v| parse_version(v).is_some_and(|v| v > (1, 2)));
    match newer {
        Some(v) => Err(Error::Unsupported(format!(
            "unsupported directory transport version {v:?} at {}",
            path.display()
        ))),
        None => Err(not_image_dir()),
    }
}

fn parse_version(v: &str) -> Option<(u64, u64)> {
    let (major, minor) = v.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// containers/image `ErrNotContainerImageDir`.
fn not_image_dir() -> Error {
    Error::Other("not a containers image directory, don't want to overwrite important data".into())
}

#[cfg(test)]
mod tests;
