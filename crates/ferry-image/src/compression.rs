//! Compression detection by content and streaming codecs: gzip (flate2 on zlib-rs) and
//! zstd both ways; bzip2 and xz are detected (so errors are clear) but not decoded.

use std::io::{self, BufRead, BufReader, Read};

use crate::context::CompressionFormat;
use crate::error::{Error, Result};

/// A compression algorithm found in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Gzip => "gzip",
            Algorithm::Zstd => "zstd",
            Algorithm::Bzip2 => "bzip2",
            Algorithm::Xz => "xz",
        }
    }
}

/// Detects the compression of a stream from its first bytes (`None` = uncompressed).
pub fn detect(prefix: &[u8]) -> Option<Algorithm> {
    if prefix.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Algorithm::Gzip)
    } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Algorithm::Zstd)
    } else if prefix.starts_with(b"BZh") {
        Some(Algorithm::Bzip2)
    } else if prefix.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Algorithm::Xz)
    } else {
        None
    }
}

/// Buffered reader size for codec stages: large enough to keep syscalls rare, small
/// enough that memory never grows with the image.
pub const BUF_SIZE: usize = 256 * 1024;

/// Peeks at a stream and returns its compression plus a reader that still yields every
/// byte (nothing consumed).
pub fn sniff<R: Read>(r: R) -> io::Result<(Option<Algorithm>, BufReader<R>)> {
    let mut br = BufReader::with_capacity(BUF_SIZE, r);
    // Magic numbers are at most 6 bytes; real streams deliver far more in a first read.
    let alg = detect(br.fill_buf()?);
    Ok((alg, br))
}

/// Wraps `r` in a decompressor for `alg`.
pub fn decompress<'a>(
    alg: Algorithm,
    r: Box<dyn Read + Send + 'a>,
) -> Result<Box<dyn Read + Send + 'a>> {
    match alg {
        Algorithm::Gzip => Ok(Box::new(flate2::read::MultiGzDecoder::new(
            BufReader::with_capacity(BUF_SIZE, r),
        ))),
        Algorithm::Zstd => {
            let mut d = zstd::stream::read::Decoder::new(r)
                .map_err(|e| Error::io("starting zstd decompression", e))?;
            // Accept long-window frames (`zstd --long`), as containers/image does.
            d.window_log_max(31)
                .map_err(|e| Error::io("starting zstd decompression", e))?;
            Ok(Box::new(d))
        }
        Algorithm::Bzip2 | Algorithm::Xz => Err(Error::Unsupported(format!(
            "{} decompression is not supported by this build",
            alg.name()
        ))),
    }
}

/// Wraps `r` (uncompressed bytes) in a compressor producing `format` at `level`.
pub fn compress<'a>(
    format: CompressionFormat,
    level: Option<i32>,
    r: Box<dyn Read + Send + 'a>,
) -> Result<Box<dyn Read + Send + 'a>> {
    match format {
        CompressionFormat::Gzip => {
            // Level 6 is skopeo's (pgzip) default; clamp to gzip's range.
            let lvl = level.unwrap_or(6).clamp(1, 9) as u32;
            // Both cores: pigz-style block-parallel gzip.
            Ok(Box::new(crate::pargz::ParGzEncoder::new(r, lvl)))
        }
        CompressionFormat::Zstd | CompressionFormat::ZstdChunked => {
            let lvl = level.unwrap_or(3).clamp(1, 20);
            let mut enc = zstd::stream::read::Encoder::new(r, lvl)
                .map_err(|e| Error::io("starting zstd compression", e))?;
            // Use both cores: zstd's worker threads overlap compression with I/O.
            let _ = enc.multithread(2);
            Ok(Box::new(enc))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn detects_and_round_trips() {
        let data: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        for fmt in [CompressionFormat::Gzip, CompressionFormat::Zstd] {
            let mut c = compress(fmt, None, Box::new(Cursor::new(data.clone()))).unwrap();
            let mut out = Vec::new();
            c.read_to_end(&mut out).unwrap();
            let (alg, r) = sniff(Cursor::new(out)).unwrap();
            let alg = alg.unwrap();
            let mut d = decompress(alg, Box::new(r)).unwrap();
            let mut back = Vec::new();
            d.read_to_end(&mut back).unwrap();
            assert_eq!(back, data);
        }
        assert_eq!(detect(b"plain tar"), None);
        assert_eq!(detect(b"BZh91AY"), Some(Algorithm::Bzip2));
    }
}
