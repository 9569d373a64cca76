//! Compression sniffing and decoders for archives and archive members (c/image's
//! `compression.DetectCompression` set: gzip and zstd are decoded; bzip2 and xz are
//! recognised and refused with a clear message).

use std::io::{self, Read};

/// A recognised compression format (the crate-wide one).
pub(crate) use crate::compression::Algorithm as Compression;

/// Bytes needed by [`sniff`].
pub(crate) const SNIFF_LEN: usize = 6;

/// The compression format of a stream starting with `head`, if any.
pub(crate) fn sniff(head: &[u8]) -> Option<Compression> {
    crate::compression::detect(head)
}

/// A decoder for `format` over `inner` ([`crate::compression::decompress`], with I/O
/// errors as archive readers want them).
pub(crate) fn decoder<'a>(
    format: Compression,
    inner: impl Read + Send + 'a,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    crate::compression::decompress(format, Box::new(inner)).map_err(|e| match e {
        crate::Error::Io(e) | crate::Error::IoAt { source: e, .. } => e,
        other => io::Error::new(io::ErrorKind::Unsupported, other.to_string()),
    })
}

/// Reads up to [`SNIFF_LEN`] bytes (fewer only at EOF).
pub(crate) fn read_head(r: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut head = vec![0u8; SNIFF_LEN];
    let mut n = 0;
    while n < SNIFF_LEN {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(n);
    Ok(head)
}

/// Wraps `r` so that its content is decompressed if it is compressed.
pub(crate) fn auto_decompress<'a>(
    mut r: impl Read + Send + 'a,
) -> io::Result<(Box<dyn Read + Send + 'a>, Option<Compression>)> {
    let head = read_head(&mut r)?;
    let format = sniff(&head);
    let chained = io::Cursor::new(head).chain(r);
    match format {
        Some(f) => Ok((decoder(f, chained)?, Some(f))),
        None => Ok((Box::new(chained), None)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sniff_and_decode() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(sniff(&gz), Some(Compression::Gzip));
        let zs = zstd::encode_all(&b"hello"[..], 1).unwrap();
        assert_eq!(sniff(&zs), Some(Compression::Zstd));
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(b"BZh91AY"), Some(Compression::Bzip2));
        for data in [gz, zs, b"hello".to_vec()] {
            let (mut r, _) = auto_decompress(&data[..]).unwrap();
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            assert_eq!(s, "hello");
        }
        assert!(auto_decompress(&b"BZh9xxxx"[..]).is_err());
        let (mut r, f) = auto_decompress(&b"ab"[..]).unwrap();
        assert_eq!(f, None);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "ab");
    }
}
