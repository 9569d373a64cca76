//! Writing a tar archive straight to its destination, with no temporary copy.
//!
//! A regular-file destination is written to `PATH.tmpXXXXXX` beside the target and renamed
//! over it by [`TarWriter::finish`]; dropping the writer deletes the temporary file, so an
//! abandoned copy leaves nothing behind. Anything else (`/dev/stdout`, a pipe, a character
//! device, or any path under `/dev` or `/proc`) is written directly.
//!
//! A member whose size (or digest-derived name) is unknown up front is written after a
//! placeholder header; once its data is streamed, the header is rewritten in place with
//! `pwrite` (size, name and checksum). That needs a seekable output: on a pipe the caller
//! must supply size and name first (the destination advertises `needs_known_size`).

use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ferry_reference::{Algorithm, Digest, Digester};

use super::header::{self, BLOCK, HeaderSpec};
use crate::error::{Error, Result};

/// What to do when the destination is an existing, non-empty regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Replace it (oci-archive, like skopeo's `os.Create`).
    Overwrite,
    /// Fail with this message (docker-archive: skopeo refuses to modify an archive).
    Refuse(&'static str),
}

/// A tar stream being written to its destination.
pub(crate) struct TarWriter {
    w: BufWriter<std::fs::File>,
    pos: u64,
    seekable: bool,
    temp: Option<tempfile::TempPath>,
    target: PathBuf,
    poisoned: bool,
}

/// What [`TarWriter::append_stream`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Streamed {
    pub name: String,
    pub size: u64,
    /// Computed only when no name was given.
    pub digest: Option<Digest>,
}

const COPY_BUF: usize = 256 * 1024;

impl TarWriter {
    /// Opens the destination at `path` (see the module docs for the two modes).
    pub(crate) fn create(path: &Path, existing: Existing) -> Result<TarWriter> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(format!("statting {}", path.display()), e)),
        };
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(Error::io(
                format!("opening file {}", path.display()),
                io::Error::new(io::ErrorKind::IsADirectory, "is a directory"),
            ));
        }
        let is_regular = meta.as_ref().is_some_and(|m| m.is_file());
        let refuse = |m: &std::fs::Metadata| match existing {
            Existing::Refuse(msg) if m.is_file() && m.len() != 0 => {
                Err(Error::Unsupported(msg.to_string()))
            }
            _ => Ok(()),
        };
        if let Some(m) = &meta {
            refuse(m)?;
        }
        if meta.is_some() && (!is_regular || is_special_path(path)) {
            // Direct: a pipe, a terminal, /dev/stdout redirected to a file, ...
            let (file, _) = fs_err::OpenOptions::new()
                .write(true)
                .open(path)?
                .into_parts();
            let fmeta = file
                .metadata()
                .map_err(|e| Error::io(format!("statting {}", path.display()), e))?;
            refuse(&fmeta)?;
            let seekable = fmeta.is_file();
            if seekable {
                file.set_len(0)
                    .map_err(|e| Error::io(format!("truncating {}", path.display()), e))?;
            }
            return Ok(TarWriter {
                w: BufWriter::with_capacity(COPY_BUF, file),
                pos: 0,
                seekable,
                temp: None,
                target: path.to_path_buf(),
                poisoned: false,
            });
        }
        // A regular file (existing or not): temp beside it, renamed at finish. An existing
        // symlink is followed so that the link itself survives.
        let target = if is_regular {
            std::fs::canonicalize(path)
                .map_err(|e| Error::io(format!("resolving {}", path.display()), e))?
        } else {
            path.to_path_buf()
        };
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{base}.tmp"))
            .permissions(std::fs::Permissions::from_mode(0o644))
            .tempfile_in(&dir)
            .map_err(|e| Error::io(format!("opening file {}", path.display()), e))?;
        let (file, temp) = tmp.into_parts();
        Ok(TarWriter {
            w: BufWriter::with_capacity(COPY_BUF, file),
            pos: 0,
            seekable: true,
            temp: Some(temp),
            target,
            poisoned: false,
        })
    }

    /// Whether headers can be patched after the data (false for pipes).
    pub(crate) fn seekable(&self) -> bool {
        self.seekable
    }

    fn err(&self, what: &str, e: io::Error) -> Error {
        Error::io(format!("writing {} to {}", what, self.target.display()), e)
    }

    fn check(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::Other(format!(
                "{}: an earlier write failed, the archive is incomplete",
                self.target.display()
            )));
        }
        Ok(())
    }

    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.w.write_all(data)?;
        self.pos += data.len() as u64;
        Ok(())
    }

    /// Writes a complete member (`spec.size` is set from `data`).
    pub(crate) fn append_bytes(&mut self, spec: &HeaderSpec<'_>, data: &[u8]) -> Result<()> {
        self.check()?;
        let spec = HeaderSpec {
            size: data.len() as u64,
            ..*spec
        };
        let start = self.pos;
        let res = (|| {
            self.write(&header::encode(&spec))?;
            self.write(data)?;
            self.write(&[0u8; BLOCK][..header::padding(data.len() as u64) as usize])
        })();
        res.map_err(|e| {
            self.rollback(start);
            self.err(spec.name, e)
        })
    }

    /// Streams a member from `data` until EOF.
    ///
    /// `spec.name` is the member name, or empty when it derives from the content's SHA-256
    /// digest via `name_of`; `size` is the exact size when known. Unknown values need a
    /// seekable output (the header is patched afterwards). On error the member is removed
    /// again on a seekable output; on a pipe the writer refuses further use.
    pub(crate) fn append_stream(
        &mut self,
        spec: &HeaderSpec<'_>,
        size: Option<u64>,
        data: &mut dyn Read,
        name_of: &dyn Fn(&Digest) -> String,
    ) -> Result<Streamed> {
        self.check()?;
        let named = !spec.name.is_empty();
        let start = self.pos;
        let patch = !named || size.is_none();
        if patch && !self.seekable {
            return Err(Error::Other(format!(
                "{}: cannot write a blob of unknown size or digest to a non-seekable output",
                self.target.display()
            )));
        }
        let placeholder_name;
        let first = if patch {
            placeholder_name = if named {
                spec.name.to_string()
            } else {
                name_of(&Algorithm::Sha256.digest_bytes(b""))
            };
            header::encode_patchable(&HeaderSpec {
                name: &placeholder_name,
                size: size.unwrap_or(0),
                ..*spec
            })
            .to_vec()
        } else {
            header::encode(&HeaderSpec {
                size: size.unwrap_or(0),
                ..*spec
            })
        };
        let mut hasher = (!named).then(|| Algorithm::Sha256.digester());
        let res = self.stream_body(&first, size, data, hasher.as_mut());
        let written = match res {
            Ok(n) => n,
            Err(e) => {
                self.rollback(start);
                return Err(e);
            }
        };
        let digest = hasher.map(Digester::finish);
        let name = match &digest {
            Some(d) => name_of(d),
            None => spec.name.to_string(),
        };
        if patch {
            let block = header::encode_patchable(&HeaderSpec {
                name: &name,
                size: written,
                ..*spec
            });
            let res = self
                .w
                .flush()
                .and_then(|()| self.w.get_ref().write_all_at(&block, start));
            if let Err(e) = res {
                self.rollback(start);
                return Err(self.err(&name, e));
            }
        }
        Ok(Streamed {
            name,
            size: written,
            digest,
        })
    }

    fn stream_body(
        &mut self,
        first: &[u8],
        size: Option<u64>,
        data: &mut dyn Read,
        mut hasher: Option<&mut Digester>,
    ) -> Result<u64> {
        let what = "blob";
        self.write(first).map_err(|e| self.err(what, e))?;
        let mut buf = vec![0u8; COPY_BUF];
        let mut total: u64 = 0;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::from_io_unwrapping(e)),
            };
            total += n as u64;
            if let Some(expected) = size
                && total > expected
            {
                return Err(Error::Other(format!(
                    "{}: size mismatch: expected {expected} bytes, got more",
                    self.target.display()
                )));
            }
            if let Some(h) = hasher.as_deref_mut() {
                h.update(&buf[..n]);
            }
            self.write(&buf[..n]).map_err(|e| self.err(what, e))?;
        }
        if let Some(expected) = size
            && total != expected
        {
            return Err(Error::Other(format!(
                "{}: size mismatch: expected {expected} bytes, got {total}",
                self.target.display()
            )));
        }
        self.write(&[0u8; BLOCK][..header::padding(total) as usize])
            .map_err(|e| self.err(what, e))?;
        Ok(total)
    }

    /// Undoes a partially written member (seekable outputs); otherwise poisons the writer.
    fn rollback(&mut self, start: u64) {
        let ok = self.seekable
            && self.w.flush().is_ok()
            && self.w.get_ref().set_len(start).is_ok()
            && self.w.seek(SeekFrom::Start(start)).is_ok();
        if ok {
            self.pos = start;
        } else {
            self.poisoned = true;
        }
    }

    /// Removes the last member again (it must start at `start`; seekable outputs only).
    pub(crate) fn truncate_to(&mut self, start: u64) -> Result<()> {
        self.rollback(start);
        self.check()
    }

    /// Current offset (where the next member header goes).
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Writes the end-of-archive blocks and makes the archive visible at its path.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.check()?;
        self.write(&[0u8; 2 * BLOCK])
            .and_then(|()| self.w.flush())
            .map_err(|e| self.err("the end of the archive", e))?;
        if let Some(temp) = self.temp.take() {
            temp.persist(&self.target).map_err(|e| {
                Error::io(
                    format!("renaming the archive to {}", self.target.display()),
                    e.error,
                )
            })?;
        }
        Ok(())
    }
}

/// Paths whose parent lives under /dev or /proc (`/dev/stdout`, `/dev/fd/3`, ...): they
/// name an already-open file, never a place for a temporary file.
fn is_special_path(path: &Path) -> bool {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::canonicalize(parent) {
        Ok(p) => p.starts_with("/dev") || p.starts_with("/proc"),
        Err(_) => false,
    }
}
