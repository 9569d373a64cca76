//! Blob pipeline stages, each a small `Read` adapter that knows nothing of transports:
//! digest + size verification, progress counting, and a tee that computes a layer's
//! DiffID (the digest of its uncompressed bytes) while the layer streams by. Plus the
//! counting semaphore that bounds the blobs in flight across concurrent instances.

use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex};

use ferry_reference::{Digest, Digester};

use crate::compression::Algorithm;

use super::report::Reporter;
use crate::error::Error;

/// Passes bytes through while hashing and counting them; at EOF it checks the expected
/// digest and size and returns an error *instead of* EOF on mismatch, so a destination
/// never commits unverified data.
pub struct VerifyingReader<R> {
    inner: R,
    digester: Option<Digester>,
    expected: Digest,
    expected_size: Option<u64>,
    read: u64,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, expected_size: Option<u64>) -> Self {
        VerifyingReader {
            inner,
            digester: Some(expected.algorithm().digester()),
            expected,
            expected_size,
            read: 0,
        }
    }

    fn fail(&self, e: Error) -> io::Error {
        io::Error::other(e)
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.read += n as u64;
            if let Some(exp) = self.expected_size
                && self.read > exp
            {
                {
                    return Err(self.fail(Error::SizeMismatch {
                        digest: self.expected.clone(),
                        expected: exp,
                        actual: self.read,
                    }));
                }
            }
            if let Some(d) = self.digester.as_mut() {
                d.update(&buf[..n]);
            }
            return Ok(n);
        }
        // EOF from the source: verify before letting the consumer see EOF.
        if let Some(d) = self.digester.take() {
            if let Some(exp) = self.expected_size
                && self.read != exp
            {
                {
                    return Err(self.fail(Error::SizeMismatch {
                        digest: self.expected.clone(),
                        expected: exp,
                        actual: self.read,
                    }));
                }
            }
            let computed = d.finish();
            if computed != self.expected {
                return Err(self.fail(Error::DigestMismatch {
                    digest: self.expected.clone(),
                    computed,
                }));
            }
        }
        Ok(0)
    }
}

/// Counts bytes for the progress reporter.
pub struct ProgressReader<'a, R> {
    inner: R,
    reporter: &'a dyn Reporter,
    id: usize,
    total: u64,
}

impl<'a, R: Read> ProgressReader<'a, R> {
    pub fn new(inner: R, reporter: &'a dyn Reporter, id: usize) -> Self {
        ProgressReader {
            inner,
            reporter,
            id,
            total: 0,
        }
    }
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.total += n as u64;
            self.reporter.blob_progress(self.id, self.total);
        }
        Ok(n)
    }
}

/// Reads a stream to its end, returning its size and sha256 (the counting pass that
/// learns an uncompressed/compressed blob's size and name before a tar header must be
/// written to a pipe).
pub fn count_and_digest(r: &mut dyn Read) -> io::Result<(u64, Digest)> {
    let mut buf = vec![0u8; crate::compression::BUF_SIZE];
    let mut total = 0u64;
    let mut digester = ferry_reference::Algorithm::Sha256.digester();
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok((total, digester.finish())),
            Ok(n) => {
                total += n as u64;
                digester.update(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A `Write` sink that only hashes.
struct HashSink(Digester);

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The decompressing side of a [`DiffIdTee`].
enum TeeSink {
    Plain(Box<HashSink>),
    Gzip(Box<flate2::write::MultiGzDecoder<HashSink>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, HashSink>>),
}

/// Where a [`DiffIdTee`] leaves its result: the DiffID, or why it could not be computed.
pub type DiffIdSlot = Arc<Mutex<Option<Result<Digest, String>>>>;

/// Passes a (compressed) layer stream through unchanged while decompressing a copy of
/// it into SHA-256: at EOF the layer's DiffID is in the slot. Decoding errors do not
/// disturb the stream; they are recorded instead of the DiffID.
pub struct DiffIdTee<R> {
    inner: R,
    sink: Option<TeeSink>,
    error: Option<String>,
    slot: DiffIdSlot,
}

impl<R: Read> DiffIdTee<R> {
    /// `compression` is what the stream's first bytes showed (`None`: uncompressed).
    pub fn new(inner: R, compression: Option<Algorithm>, slot: DiffIdSlot) -> Self {
        let hash = || HashSink(ferry_reference::Algorithm::Sha256.digester());
        let (sink, error) = match compression {
            None => (Some(TeeSink::Plain(Box::new(hash()))), None),
            Some(Algorithm::Gzip) => (
                Some(TeeSink::Gzip(Box::new(flate2::write::MultiGzDecoder::new(
                    hash(),
                )))),
                None,
            ),
            Some(Algorithm::Zstd) => match zstd::stream::write::Decoder::new(hash()) {
                Ok(d) => (Some(TeeSink::Zstd(Box::new(d))), None),
                Err(e) => (None, Some(format!("starting zstd decompression: {e}"))),
            },
            Some(other) => (
                None,
                Some(format!(
                    "{} decompression is not supported by this build",
                    other.name()
                )),
            ),
        };
        DiffIdTee {
            inner,
            sink,
            error,
            slot,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        let result = match self.sink.as_mut() {
            Some(TeeSink::Plain(h)) => h.write_all(data),
            Some(TeeSink::Gzip(d)) => d.write_all(data),
            Some(TeeSink::Zstd(d)) => d.write_all(data),
            None => Ok(()),
        };
        if let Err(e) = result {
            self.error = Some(format!("decompressing the layer: {e}"));
            self.sink = None;
        }
    }

    fn finish(&mut self) {
        let digest = match self.sink.take() {
            Some(TeeSink::Plain(h)) => Ok(h.0.finish()),
            Some(TeeSink::Gzip(d)) => d
                .finish()
                .map(|h| h.0.finish())
                .map_err(|e| format!("decompressing the layer: {e}")),
            Some(TeeSink::Zstd(mut d)) => d
                .flush()
                .map(|()| d.into_inner().0.finish())
                .map_err(|e| format!("decompressing the layer: {e}")),
            None => Err(self
                .error
                .take()
                .unwrap_or_else(|| "the layer stream ended early".to_string())),
        };
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(digest);
        }
    }
}

impl<R: Read> Read for DiffIdTee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if self.sink.is_some() || self.error.is_some() {
                self.finish();
            }
        } else if self.sink.is_some() {
            self.feed(&buf[..n]);
        }
        Ok(n)
    }
}

/// A counting semaphore: bounds the blobs in flight across all instances of a copy.
pub struct Semaphore {
    free: Mutex<usize>,
    cv: Condvar,
}

/// Holds one unit of a [`Semaphore`] until dropped.
pub struct Permit<'a>(&'a Semaphore);

impl Semaphore {
    pub fn new(n: usize) -> Semaphore {
        Semaphore {
            free: Mutex::new(n.max(1)),
            cv: Condvar::new(),
        }
    }

    pub fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|p| p.into_inner());
        *free += 1;
        self.0.cv.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn read_all(r: &mut dyn Read) -> Result<Vec<u8>, Error> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).map_err(Error::from_io_unwrapping)?;
        Ok(v)
    }

    #[test]
    fn accepts_matching_bytes() {
        let data = b"hello world".to_vec();
        let d = Digest::sha256_of(&data);
        let mut r = VerifyingReader::new(Cursor::new(data.clone()), d, Some(11));
        assert_eq!(read_all(&mut r).unwrap(), data);
    }

    #[test]
    fn rejects_wrong_digest_and_size() {
        let d = Digest::sha256_of(b"hello world");
        let mut r = VerifyingReader::new(Cursor::new(b"hello worle".to_vec()), d.clone(), None);
        assert!(matches!(
            read_all(&mut r),
            Err(Error::DigestMismatch { .. })
        ));
        let mut r = VerifyingReader::new(Cursor::new(b"hello world".to_vec()), d.clone(), Some(5));
        assert!(matches!(read_all(&mut r), Err(Error::SizeMismatch { .. })));
        let mut r = VerifyingReader::new(Cursor::new(b"hello".to_vec()), d, Some(11));
        assert!(matches!(read_all(&mut r), Err(Error::SizeMismatch { .. })));
    }

    fn tee_diff_id(
        data: &[u8],
        alg: Option<Algorithm>,
    ) -> (Vec<u8>, Option<Result<Digest, String>>) {
        let slot: DiffIdSlot = Arc::default();
        let mut tee = DiffIdTee::new(Cursor::new(data.to_vec()), alg, slot.clone());
        let mut out = Vec::new();
        tee.read_to_end(&mut out).unwrap();
        let got = slot.lock().unwrap().take();
        (out, got)
    }

    #[test]
    fn tee_computes_diff_ids_and_passes_bytes() {
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let want = Digest::sha256_of(&plain);
        for fmt in [
            crate::context::CompressionFormat::Gzip,
            crate::context::CompressionFormat::Zstd,
        ] {
            let mut c =
                crate::compression::compress(fmt, None, Box::new(Cursor::new(plain.clone())))
                    .unwrap();
            let mut packed = Vec::new();
            c.read_to_end(&mut packed).unwrap();
            let alg = crate::compression::detect(&packed);
            let (out, got) = tee_diff_id(&packed, alg);
            assert_eq!(out, packed);
            assert_eq!(got, Some(Ok(want.clone())), "{fmt:?}");
        }
        assert_eq!(tee_diff_id(&plain, None).1, Some(Ok(want)));
        // Corrupt gzip: the bytes still pass, the DiffID is an error.
        let (out, got) = tee_diff_id(b"\x1f\x8b\x08garbage", Some(Algorithm::Gzip));
        assert_eq!(out.len(), 10);
        assert!(matches!(got, Some(Err(_))));
    }

    #[test]
    fn semaphore_bounds_concurrency() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let sem = Semaphore::new(2);
        let now = AtomicUsize::new(0);
        let max = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    let _p = sem.acquire();
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(max.load(Ordering::SeqCst), 2);
    }
}
