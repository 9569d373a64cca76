//! Blob pipeline stages, each a small `Read` adapter that knows nothing of transports:
//! digest + size verification, and progress counting.

use std::io::{self, Read};

use ferry_reference::{Digest, Digester};

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
}
