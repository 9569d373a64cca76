//! File helpers shared by the `dir:` and `oci:` transports: streaming a blob into a temp
//! file (digesting it when the engine could not), atomic replacement of small files,
//! moves that survive a cross-device boundary, and directory locks.
//!
//! Everything written here is created with mode 0644, as containers/image does with
//! `Chmod(0644)` on its blob temp files.

use std::fs::Permissions;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ferry_reference::{Algorithm, Digest};
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::types::PutBlobInfo;

/// Mode of every file the directory transports create.
const FILE_MODE: u32 = 0o644;
const COPY_BUFFER: usize = 256 * 1024;

/// Prefix of the private staging directories both transports create inside their target.
pub(crate) const STAGING_PREFIX: &str = ".ferry-tmp-";

/// Streams `data` into a new temp file inside `dir`.
///
/// When `info.digest` is `None` the sha256 is computed while writing; otherwise the
/// engine's verifying reader guarantees the bytes (it errors instead of reaching EOF), so
/// the digest is not recomputed. A known `info.size` is checked. The returned temp file is
/// synced and has mode 0644; it disappears if dropped without being persisted.
pub(crate) fn write_temp_blob(
    dir: &Path,
    data: &mut dyn Read,
    info: &PutBlobInfo,
) -> Result<(NamedTempFile, Digest, u64)> {
    let what = match &info.digest {
        Some(d) => format!("blob {d}"),
        None => "blob".to_string(),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".blob-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    let mut digester = info.digest.is_none().then(|| Algorithm::Sha256.digester());
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut size: u64 = 0;
    let mut out = crate::writeback::Writeback::new(tmp.as_file());
    loop {
        let n = match data.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(match Error::from_io_unwrapping(e) {
                    Error::Io(e) => Error::io(format!("reading {what}"), e),
                    other => other,
                });
            }
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if let Some(d) = digester.as_mut() {
            d.update(chunk);
        }
        out.write_all(chunk)
            .map_err(|e| Error::io(format!("writing {what} to {}", tmp.path().display()), e))?;
        size += n as u64;
    }
    let digest = match (digester, &info.digest) {
        (Some(d), _) => d.finish(),
        (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(Error::Other(format!(
                "internal error: {what} has no digest"
            )));
        }
    };
    if let Some(expected) = info.size
        && expected != size
    {
        return Err(Error::SizeMismatch {
            digest,
            expected,
            actual: size,
        });
    }
    finish_file(&tmp)?;
    Ok((tmp, digest, size))
}

/// Sets mode 0644 and syncs a temp file before it is renamed into place.
fn finish_file(tmp: &NamedTempFile) -> Result<()> {
    let file = tmp.as_file();
    let ctx = || format!("finishing {}", tmp.path().display());
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .map_err(|e| Error::io(ctx(), e))?;
    file.sync_all().map_err(|e| Error::io(ctx(), e))
}

/// Renames a finished temp file to `dest` (replacing it).
pub(crate) fn persist(tmp: NamedTempFile, dest: &Path) -> Result<()> {
    let from = tmp.path().to_path_buf();
    tmp.persist(dest).map_err(|e| {
        Error::io(
            format!("renaming {} to {}", from.display(), dest.display()),
            e.error,
        )
    })?;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temp file beside it, synced, then renamed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(parent)
        .map_err(|e| {
            Error::io(
                format!("creating a temporary file in {}", parent.display()),
                e,
            )
        })?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io(format!("writing {}", tmp.path().display()), e))?;
    finish_file(&tmp)?;
    persist(tmp, path)
}

/// Moves a file, replacing `dest`. Falls back to copy + rename when the two paths are on
/// different file systems (e.g. a `--shared-blob-dir` on another mount).
pub(crate) fn move_file(src: &Path, dest: &Path) -> Result<()> {
    match std::fs::rename(src, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
            let parent = dest.parent().unwrap_or(Path::new("."));
            let mut tmp = tempfile::Builder::new()
                .prefix(".tmp-")
                .tempfile_in(parent)
                .map_err(|e| {
                    Error::io(
                        format!("creating a temporary file in {}", parent.display()),
                        e,
                    )
                })?;
            let mut from = fs_err::File::open(src)?;
            io::copy(&mut from, &mut tmp).map_err(|e| {
                Error::io(
                    format!("copying {} to {}", src.display(), tmp.path().display()),
                    e,
                )
            })?;
            finish_file(&tmp)?;
            persist(tmp, dest)?;
            fs_err::remove_file(src)?;
            Ok(())
        }
        Err(e) => Err(Error::io(
            format!("renaming {} to {}", src.display(), dest.display()),
            e,
        )),
    }
}

/// Takes an exclusive `flock` on a directory; released when the returned handle drops.
///
/// Locking the directory itself (rather than a lock file inside it) leaves the layout
/// byte-identical to what skopeo writes. Blocks until the lock is available.
pub(crate) fn lock_dir(dir: &Path) -> Result<fs_err::File> {
    let f = fs_err::File::open(dir)?;
    f.lock()?;
    Ok(f)
}

/// Whether a staging directory left by another ferry process is abandoned: its owner holds
/// an exclusive lock on it for as long as it lives.
pub(crate) fn staging_is_abandoned(dir: &Path) -> bool {
    match std::fs::File::open(dir) {
        Ok(f) => f.try_lock().is_ok(),
        Err(_) => false,
    }
}

/// Creates a private staging directory inside `parent`, locked while the handle lives
/// (see [`staging_is_abandoned`]). The directory and its content go away on drop.
pub(crate) fn staging_dir(parent: &Path) -> Result<Staging> {
    let dir = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(parent)
        .map_err(|e| {
            Error::io(
                format!("creating a staging directory in {}", parent.display()),
                e,
            )
        })?;
    let lock = lock_dir(dir.path())?;
    Ok(Staging { _lock: lock, dir })
}

/// A staging directory and the lock that marks it as in use.
pub(crate) struct Staging {
    // Field order matters: the lock handle closes before the directory is removed.
    _lock: fs_err::File,
    dir: tempfile::TempDir,
}

impl Staging {
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes a directory entry of any type without following symlinks.
pub(crate) fn remove_entry(path: &Path) -> Result<()> {
    let meta = fs_err::symlink_metadata(path)?;
    if meta.is_dir() {
        fs_err::remove_dir_all(path)?;
    } else {
        fs_err::remove_file(path)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn temp_blob_computes_digest_and_checks_size() {
        let dir = tempfile::tempdir().unwrap();
        let info = PutBlobInfo::default();
        let (tmp, digest, size) =
            write_temp_blob(dir.path(), &mut Cursor::new(b"hello".to_vec()), &info).unwrap();
        assert_eq!(digest, Digest::sha256_of(b"hello"));
        assert_eq!(size, 5);
        let mode = tmp.as_file().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);

        let info = PutBlobInfo {
            digest: Some(Digest::sha256_of(b"hello")),
            size: Some(6),
            ..Default::default()
        };
        let err =
            write_temp_blob(dir.path(), &mut Cursor::new(b"hello".to_vec()), &info).unwrap_err();
        assert!(
            matches!(err, Error::SizeMismatch { actual: 5, .. }),
            "{err}"
        );
        // The failed temp file is gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn staging_lock_marks_live_directories() {
        let dir = tempfile::tempdir().unwrap();
        let staging = staging_dir(dir.path()).unwrap();
        assert!(!staging_is_abandoned(staging.path()));
        let path = staging.path().to_path_buf();
        let other = dir.path().join(".ferry-tmp-old");
        std::fs::create_dir(&other).unwrap();
        assert!(staging_is_abandoned(&other));
        drop(staging);
        assert!(!path.exists());
    }
}
