//! SHA-256 helpers: digests of bytes, files and streams (`sha256:<hex>` strings).

use std::io::{self, Read, Write};
use std::path::Path;

use sha2::{Digest as _, Sha256};

/// `sha256:<hex>` of a byte slice.
pub fn sha256_bytes(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// `sha256:<hex>` of a file's contents, streamed.
pub fn sha256_file(path: impl AsRef<Path>) -> io::Result<String> {
    let mut f = fs_err::File::open(path.as_ref())?;
    let mut h = HashingWriter::new(io::sink());
    io::copy(&mut f, &mut h)?;
    Ok(h.finish().1)
}

/// `sha256:<hex>` of everything a reader yields, streamed, with the byte count.
pub fn sha256_reader(r: &mut impl Read) -> io::Result<(String, u64)> {
    let mut h = HashingWriter::new(io::sink());
    io::copy(r, &mut h)?;
    let (_, d, n) = h.finish_with_len();
    Ok((d, n))
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            len: 0,
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The inner writer and the `sha256:<hex>` of everything written.
    pub fn finish(self) -> (W, String) {
        let (w, d, _) = self.finish_with_len();
        (w, d)
    }

    pub fn finish_with_len(self) -> (W, String, u64) {
        let d = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        (self.inner, d, self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The hex part of a `sha256:<hex>` digest (or the input unchanged if it has no prefix).
pub fn hex_of(digest: &str) -> &str {
    digest.split_once(':').map_or(digest, |(_, h)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").and_then(|()| w.write_all(b"c")).ok();
        let (buf, d, n) = w.finish_with_len();
        assert_eq!((buf.as_slice(), n), (&b"abc"[..], 3));
        assert_eq!(d, sha256_bytes(b"abc"));
        assert_eq!(hex_of(&d).len(), 64);
    }
}
