//! Random access to the members of a tar archive without extracting it.
//!
//! How each kind of input is served (the choice is made once, at open):
//! - **Uncompressed regular file**: one pass reads only the headers (seeking over data);
//!   members are then read in place with `pread`, concurrently. No copy, no temp file.
//! - **Compressed regular file** (gzip/zstd): a single decompression pass builds the index
//!   of *uncompressed* offsets and keeps small members (manifests, configs: up to 1 MiB
//!   each, 32 MiB in total) in memory. A larger member is read by decompressing the
//!   archive again from the start and discarding bytes up to the member. A decoder that
//!   reaches the end of a member is parked at that position, so members read in archive
//!   order cost one decompression overall; out-of-order or concurrent reads cost up to one
//!   extra decompression each. This trades CPU for zero temporary disk (skopeo instead
//!   decompresses the whole archive into `/var/tmp`). Random access into a gzip/zstd
//!   stream would need decoder checkpoints (a zran-style index), which our codecs do not
//!   expose.
//! - **Pipe or other non-seekable input** (`/dev/stdin`, FIFOs): a single pass cannot
//!   serve random access, and manifest.json / index.json usually come last. The
//!   (decompressed) stream is spooled to an unnamed temporary file in `--tmpdir` or
//!   `$TMPDIR` while it is indexed — the one documented exception to "no temp disk". The
//!   file has no name, so it disappears when the source is dropped, even on a crash.

use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::compress::{self, Compression};
use super::header::clean_path;
use super::index::{self, Inner, Kind, Member, ScanInput, ScanOptions, StreamInput, TarIndex};
use crate::error::{Error, Result};

/// How many positioned decoders a compressed archive keeps for reuse.
const MAX_PARKED: usize = 4;

/// An opened archive.
pub(crate) struct Archive {
    path: Arc<Path>,
    backing: Backing,
    index: TarIndex,
}

enum Backing {
    /// Uncompressed tar in a regular file, or the spooled copy of a pipe.
    Plain(Arc<std::fs::File>),
    /// Compressed tar in a regular file.
    Compressed(Arc<CompressedFile>),
}

struct CompressedFile {
    file: Arc<std::fs::File>,
    format: Compression,
    parked: Mutex<Vec<Parked>>,
    /// Decoders started from the beginning of the file (after the index pass).
    restarts: std::sync::atomic::AtomicUsize,
}

/// A tar-stream decoder positioned at `pos` (uncompressed offset). When it was abandoned
/// early in a member, `head` keeps the member's bytes read so far (member start, bytes),
/// so that reading that member again resumes instead of decompressing from the start.
struct Parked {
    pos: u64,
    dec: Box<dyn Read + Send>,
    head: Option<(u64, Vec<u8>)>,
}

/// How much of a member's beginning is remembered for a resumed read (a sniff reads 8 KiB).
const HEAD_KEEP: usize = 128 * 1024;

/// Options for [`Archive::open`].
#[derive(Debug, Clone, Default)]
pub(crate) struct OpenOptions {
    /// Where a pipe is spooled (`--tmpdir`); `$TMPDIR` or /tmp when unset.
    pub tmp_dir: Option<PathBuf>,
    /// Measure compressed members during the single pass over a compressed archive
    /// (docker-archive needs the uncompressed size of compressed layer files).
    pub measure_members: bool,
}

/// Why a member name did not resolve to a regular file.
#[derive(Debug)]
pub(crate) enum ResolveError {
    NotFound(String),
    Escapes(String),
    NotRegular(String),
}

impl Archive {
    /// Opens and indexes the archive at `path`.
    pub(crate) fn open(path: &Path, opts: &OpenOptions) -> Result<Archive> {
        let (file, _) = fs_err::File::open(path)?.into_parts();
        let meta = file
            .metadata()
            .map_err(|e| Error::io(format!("statting {}", path.display()), e))?;
        let apath: Arc<Path> = Arc::from(path);
        if meta.is_file() {
            let mut head = [0u8; compress::SNIFF_LEN];
            let n = pread_full(&file, &mut head, 0)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            let file = Arc::new(file);
            match compress::sniff(&head[..n]) {
                None => {
                    let mut input = FileInput {
                        file: &file,
                        pos: 0,
                        len: meta.len(),
                    };
                    let index = index::scan(&mut input, &ScanOptions::default(), path)?;
                    Ok(Archive {
                        path: apath,
                        backing: Backing::Plain(file),
                        index,
                    })
                }
                Some(format) => {
                    let dec = compress::decoder(format, PreadCursor::new(file.clone(), 0))
                        .map_err(|e| bad(path, e.to_string()))?;
                    let opts = ScanOptions {
                        cache_member_limit: 1 << 20,
                        cache_total_limit: 32 << 20,
                        measure: opts.measure_members,
                    };
                    let index = index::scan(&mut StreamInput(dec), &opts, path)?;
                    Ok(Archive {
                        path: apath,
                        backing: Backing::Compressed(Arc::new(CompressedFile {
                            file,
                            format,
                            parked: Mutex::new(Vec::new()),
                            restarts: std::sync::atomic::AtomicUsize::new(0),
                        })),
                        index,
                    })
                }
            }
        } else {
            let dir = opts.tmp_dir.clone().unwrap_or_else(std::env::temp_dir);
            let spool = tempfile::tempfile_in(&dir).map_err(|e| {
                Error::io(
                    format!(
                        "creating a temporary file in {} to spool {}",
                        dir.display(),
                        path.display()
                    ),
                    e,
                )
            })?;
            let (stream, _) =
                compress::auto_decompress(file).map_err(|e| bad(path, e.to_string()))?;
            let mut tee = Tee {
                inner: stream,
                out: BufWriter::with_capacity(1 << 20, &spool),
            };
            let index = index::scan(&mut StreamInput(&mut tee), &ScanOptions::default(), path)?;
            tee.out
                .flush()
                .map_err(|e| Error::io(format!("spooling {}", path.display()), e))?;
            drop(tee);
            Ok(Archive {
                path: apath,
                backing: Backing::Plain(Arc::new(spool)),
                index,
            })
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The regular-file member `name` designates, following one symbolic or hard link
    /// (as c/image does). Names and link targets that leave the archive root are refused.
    pub(crate) fn resolve(&self, name: &str) -> std::result::Result<&Member, ResolveError> {
        let clean = clean_path(name);
        if escapes(&clean) {
            return Err(ResolveError::Escapes(name.to_string()));
        }
        let m = self
            .index
            .get(&clean)
            .ok_or_else(|| ResolveError::NotFound(name.to_string()))?;
        let target = match m.kind {
            Kind::Regular => return Ok(m),
            Kind::Symlink => {
                if m.linkname.starts_with('/') {
                    return Err(ResolveError::Escapes(format!("{name} -> {}", m.linkname)));
                }
                match clean.rfind('/') {
                    Some(i) => clean_path(&format!("{}/{}", &clean[..i], m.linkname)),
                    None => clean_path(&m.linkname),
                }
            }
            Kind::Hardlink => {
                let t = clean_path(&m.linkname);
                if t.starts_with('/') {
                    return Err(ResolveError::Escapes(format!("{name} -> {}", m.linkname)));
                }
                t
            }
            Kind::Dir | Kind::Other => return Err(ResolveError::NotRegular(name.to_string())),
        };
        if escapes(&target) {
            return Err(ResolveError::Escapes(format!("{name} -> {}", m.linkname)));
        }
        let t = self
            .index
            .get(&target)
            .ok_or_else(|| ResolveError::NotFound(format!("{name} -> {}", m.linkname)))?;
        if t.kind == Kind::Regular {
            Ok(t)
        } else {
            Err(ResolveError::NotRegular(format!(
                "{name} -> {}",
                m.linkname
            )))
        }
    }

    /// Like [`Archive::resolve`], with the error turned into one naming the archive.
    pub(crate) fn resolve_or_err(&self, name: &str) -> Result<&Member> {
        self.resolve(name).map_err(|e| self.resolve_error(e))
    }

    pub(crate) fn resolve_error(&self, e: ResolveError) -> Error {
        let message = match e {
            ResolveError::NotFound(n) => format!("file {n} does not exist in the archive"),
            ResolveError::Escapes(n) => format!("path {n} points outside the archive"),
            ResolveError::NotRegular(n) => format!("{n} is not a regular file"),
        };
        bad(&self.path, message)
    }

    /// A reader of the member's stored bytes.
    pub(crate) fn open_member(&self, m: &Member) -> Box<dyn Read + Send> {
        if let Some(c) = &m.cached {
            return Box::new(io::Cursor::new(c.clone()));
        }
        match &self.backing {
            Backing::Plain(file) => Box::new(PreadMember {
                file: file.clone(),
                pos: m.offset,
                end: m.offset + m.size,
                path: self.path.clone(),
                name: m.raw_name.clone(),
            }),
            Backing::Compressed(c) => Box::new(CompressedMember {
                shared: c.clone(),
                dec: None,
                pos: 0,
                start: m.offset,
                end: m.offset + m.size,
                served: 0,
                head: Vec::new(),
                done: m.size == 0,
                path: self.path.clone(),
                name: m.raw_name.clone(),
            }),
        }
    }

    /// The whole member, refusing members larger than `limit` bytes.
    pub(crate) fn read_member(&self, m: &Member, limit: u64) -> Result<Vec<u8>> {
        if m.size > limit {
            return Err(bad(
                &self.path,
                format!(
                    "{} is too large ({} bytes, limit {limit})",
                    m.raw_name, m.size
                ),
            ));
        }
        let mut buf = Vec::with_capacity(m.size as usize);
        self.open_member(m).read_to_end(&mut buf).map_err(|e| {
            Error::io(
                format!("reading {} from {}", m.raw_name, self.path.display()),
                e,
            )
        })?;
        Ok(buf)
    }

    /// Compression and uncompressed size of the member's content (reads it once unless
    /// the index already measured it).
    pub(crate) fn inner(&self, m: &Member) -> Result<Inner> {
        if let Some(i) = m.inner {
            return Ok(i);
        }
        index::measure(&mut self.open_member(m)).map_err(|e| {
            Error::io(
                format!(
                    "reading {} from {} to find its size",
                    m.raw_name,
                    self.path.display()
                ),
                e,
            )
        })
    }
}

fn bad(path: &Path, message: String) -> Error {
    Error::BadArchive {
        path: path.to_path_buf(),
        message,
    }
}

fn escapes(clean: &str) -> bool {
    clean.starts_with('/') || clean == ".." || clean.starts_with("../")
}

fn pread_full(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], offset + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Header scan over a regular file: reads with `pread`, skips by moving the offset.
struct FileInput<'a> {
    file: &'a std::fs::File,
    pos: u64,
    len: u64,
}

impl Read for FileInput<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl ScanInput for FileInput<'_> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let new = self.pos.saturating_add(n);
        if new > self.len {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.pos = new;
        Ok(())
    }
}

/// A sequential reader over a shared file, by `pread` (independent of other readers).
struct PreadCursor {
    file: Arc<std::fs::File>,
    pos: u64,
}

impl PreadCursor {
    fn new(file: Arc<std::fs::File>, pos: u64) -> PreadCursor {
        PreadCursor { file, pos }
    }
}

impl Read for PreadCursor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

fn truncated(path: &Path, name: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!(
            "{}: archive is truncated while reading {name}",
            path.display()
        ),
    )
}

/// A member of an uncompressed file, read in place.
struct PreadMember {
    file: Arc<std::fs::File>,
    pos: u64,
    end: u64,
    path: Arc<Path>,
    name: String,
}

impl Read for PreadMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(truncated(&self.path, &self.name));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A member of a compressed file: a (parked or new) decoder skipped to the member.
struct CompressedMember {
    shared: Arc<CompressedFile>,
    dec: Option<Box<dyn Read + Send>>,
    /// Decoder position (uncompressed offset in the tar stream).
    pos: u64,
    start: u64,
    end: u64,
    /// Bytes of the member handed out so far.
    served: u64,
    /// The member's first bytes, recorded while `served <= HEAD_KEEP` (or replayed).
    head: Vec<u8>,
    done: bool,
    path: Arc<Path>,
    name: String,
}

impl CompressedMember {
    fn position(&mut self) -> io::Result<()> {
        let parked = {
            let mut list = self
                .shared
                .parked
                .lock()
                .map_err(|_| io::Error::other("decoder cache poisoned"))?;
            let resume = list
                .iter()
                .position(|p| p.head.as_ref().is_some_and(|(s, _)| *s == self.start));
            let best = resume.or_else(|| {
                list.iter()
                    .enumerate()
                    .filter(|(_, p)| p.pos <= self.start)
                    .max_by_key(|(_, p)| p.pos)
                    .map(|(i, _)| i)
            });
            best.map(|i| list.swap_remove(i))
        };
        let (mut dec, pos) = match parked {
            Some(Parked {
                dec,
                pos,
                head: Some((start, head)),
            }) if start == self.start => {
                // Resume: replay the remembered head, then continue with the decoder.
                self.head = head;
                self.pos = pos;
                self.dec = Some(dec);
                return Ok(());
            }
            Some(p) => (p.dec, p.pos),
            None => (
                {
                    self.shared
                        .restarts
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    compress::decoder(
                        self.shared.format,
                        PreadCursor::new(self.shared.file.clone(), 0),
                    )?
                },
                0,
            ),
        };
        let skip = self.start - pos;
        let skipped = io::copy(&mut (&mut dec).take(skip), &mut io::sink())?;
        if skipped < skip {
            return Err(truncated(&self.path, &self.name));
        }
        self.pos = self.start;
        self.dec = Some(dec);
        Ok(())
    }

    fn park(&mut self) {
        let Some(dec) = self.dec.take() else {
            return;
        };
        // Resumable only if the head holds exactly what the decoder has consumed.
        let head = (!self.done && self.start + self.head.len() as u64 == self.pos)
            .then(|| (self.start, std::mem::take(&mut self.head)));
        if let Ok(mut list) = self.shared.parked.lock() {
            if list.len() >= MAX_PARKED {
                list.remove(0);
            }
            list.push(Parked {
                pos: self.pos,
                dec,
                head,
            });
        }
    }
}

impl Drop for CompressedMember {
    /// A decoder abandoned mid-member (a sniff, a failed copy) is still positioned: it can
    /// resume this member or serve any later one.
    fn drop(&mut self) {
        self.park();
    }
}

impl Read for CompressedMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.dec.is_none() {
            self.position()?;
        }
        // Replaying a remembered head.
        if self.served < self.head.len() as u64 {
            let from = self.served as usize;
            let n = (self.head.len() - from).min(buf.len());
            buf[..n].copy_from_slice(&self.head[from..from + n]);
            self.served += n as u64;
            return Ok(n);
        }
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        let n = match self.dec.as_mut() {
            Some(dec) if want > 0 => match dec.read(&mut buf[..want]) {
                Ok(n) => n,
                Err(e) => {
                    self.dec = None; // never park a failed decoder
                    return Err(e);
                }
            },
            _ => 0,
        };
        if n == 0 && want > 0 {
            self.dec = None;
            return Err(truncated(&self.path, &self.name));
        }
        if self.head.len() as u64 == self.served && self.head.len() + n <= HEAD_KEEP {
            self.head.extend_from_slice(&buf[..n]);
        }
        self.pos += n as u64;
        self.served += n as u64;
        if self.pos == self.end {
            self.done = true;
            self.park();
        }
        Ok(n)
    }
}

/// Copies everything read from `inner` into `out`.
struct Tee<R, W> {
    inner: R,
    out: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out.write_all(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn tar_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in members {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_cksum();
            b.append_data(&mut h, name, &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn restarts(a: &Archive) -> usize {
        match &a.backing {
            Backing::Compressed(c) => c.restarts.load(std::sync::atomic::Ordering::Relaxed),
            Backing::Plain(_) => panic!("not compressed"),
        }
    }

    #[test]
    fn compressed_reads_resume_and_reuse_decoders() {
        let big = |seed: u8| {
            (0..3_000_000u32)
                .map(|i| (i % 251) as u8 ^ seed)
                .collect::<Vec<u8>>()
        };
        let members = [("a", big(1)), ("b", big(2)), ("c", big(3))];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar_of(&members)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tar.gz");
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let a = Archive::open(&path, &OpenOptions::default()).unwrap();
        let read = |name: &str, limit: u64| {
            let m = a.resolve(name).unwrap();
            let mut out = Vec::new();
            a.open_member(m).take(limit).read_to_end(&mut out).unwrap();
            out
        };
        // A sniff of "b", then all of "b", then "c": one decompression pass.
        assert_eq!(read("b", 8192), members[1].1[..8192]);
        assert_eq!(read("b", u64::MAX), members[1].1);
        assert_eq!(read("c", u64::MAX), members[2].1);
        assert_eq!(restarts(&a), 1);
        // Going back needs a new pass.
        assert_eq!(read("a", u64::MAX), members[0].1);
        assert_eq!(restarts(&a), 2);
    }
}
