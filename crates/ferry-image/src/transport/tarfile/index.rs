//! One pass over a tar stream recording, for each member, its (cleaned) name, type, the
//! offset of its data in the uncompressed tar stream and its size. Optionally keeps small
//! members in memory and measures the uncompressed size of compressed members, for inputs
//! that cannot be re-read cheaply.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use super::compress::{self, Compression};
use super::header::{self, BLOCK};
use crate::error::{Error, Result};

/// The type of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Regular,
    Symlink,
    Hardlink,
    Dir,
    Other,
}

/// Uncompressed facts about a member's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inner {
    pub compression: Option<Compression>,
    /// Size after decompression (the member size when not compressed).
    pub size: u64,
}

/// One archive member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// The name as stored (after PAX / GNU long-name records).
    pub raw_name: String,
    pub kind: Kind,
    /// Offset of the member's data in the uncompressed tar stream.
    pub offset: u64,
    pub size: u64,
    pub linkname: String,
    /// The content, when the scan kept it in memory.
    pub cached: Option<Arc<[u8]>>,
    /// Measured by the scan when asked to.
    pub inner: Option<Inner>,
}

/// All members of an archive, by cleaned name (the first of duplicates wins, as in
/// c/image's linear search).
#[derive(Debug, Default)]
pub(crate) struct TarIndex {
    members: Vec<Member>,
    by_name: HashMap<String, usize>,
}

impl TarIndex {
    /// The member whose cleaned name is `clean_name`.
    pub(crate) fn get(&self, clean_name: &str) -> Option<&Member> {
        self.by_name.get(clean_name).map(|&i| &self.members[i])
    }

    fn push(&mut self, m: Member) {
        let name = header::clean_path(&m.raw_name);
        let i = self.members.len();
        self.members.push(m);
        self.by_name.entry(name).or_insert(i);
    }
}

/// A tar stream the scanner reads; `skip` may seek instead of reading.
pub(crate) trait ScanInput: Read + Send {
    fn skip(&mut self, n: u64) -> io::Result<()>;
}

/// What the scan keeps besides offsets.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScanOptions {
    /// Keep regular members up to this size in memory...
    pub cache_member_limit: u64,
    /// ... as long as the total stays under this.
    pub cache_total_limit: u64,
    /// Sniff every regular member and measure the decompressed size of compressed ones.
    pub measure: bool,
}

/// Sizes beyond this are corrupt (Go's reader rejects sizes that overflow an int64).
const MAX_MEMBER_SIZE: u64 = 1 << 62;

/// Largest PAX / GNU long-name record accepted.
const MAX_EXTENSION: u64 = 1 << 20;

/// Reads the whole archive once.
pub(crate) fn scan(input: &mut dyn ScanInput, opts: &ScanOptions, path: &Path) -> Result<TarIndex> {
    let bad = |message: String| Error::BadArchive {
        path: path.to_path_buf(),
        message,
    };
    let io_err = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            bad("archive is truncated (unexpected end of file)".to_string())
        } else {
            bad(format!("reading archive: {e}"))
        }
    };
    let mut index = TarIndex::default();
    let mut pos: u64 = 0;
    let mut cached_total: u64 = 0;
    let mut long_name: Option<String> = None;
    let mut long_link: Option<String> = None;
    let mut pax: Vec<(String, String)> = Vec::new();
    loop {
        let mut block = [0u8; BLOCK];
        match read_block(input, &mut block).map_err(io_err)? {
            0 => break, // EOF without end-of-archive blocks: accepted, as Go does
            BLOCK => {}
            _ => return Err(bad("archive is truncated (partial header block)".into())),
        }
        pos += BLOCK as u64;
        if header::is_zero_block(&block) {
            break;
        }
        let h = header::decode(&block).map_err(|e| bad(format!("at offset {}: {e}", pos - 512)))?;
        let mut size = h.size;
        match h.typeflag {
            b'L' | b'K' | b'x' | b'g' => {
                if size > MAX_EXTENSION {
                    return Err(bad(format!(
                        "at offset {}: extended header of {size} bytes is too large",
                        pos - 512
                    )));
                }
                let mut data = vec![0u8; size as usize];
                input.read_exact(&mut data).map_err(io_err)?;
                let pad = header::padding(size);
                input.skip(pad).map_err(io_err)?;
                pos += size + pad;
                match h.typeflag {
                    b'L' => long_name = Some(c_str(&data)),
                    b'K' => long_link = Some(c_str(&data)),
                    b'x' => pax = header::parse_pax(&data).map_err(bad)?,
                    _ => {} // global PAX headers carry nothing we use
                }
                continue;
            }
            _ => {}
        }
        let mut name = long_name.take().unwrap_or(h.name);
        let mut linkname = long_link.take().unwrap_or(h.linkname);
        for (k, v) in std::mem::take(&mut pax) {
            match k.as_str() {
                "path" => name = v,
                "linkpath" => linkname = v,
                "size" => {
                    size = v
                        .parse()
                        .map_err(|_| bad(format!("invalid PAX size {v:?} for {name}")))?;
                }
                _ => {}
            }
        }
        if size > MAX_MEMBER_SIZE {
            return Err(bad(format!(
                "at offset {}: member {name} has an invalid size {size}",
                pos - 512
            )));
        }
        let kind = match h.typeflag {
            b'0' | 0 | b'7' if name.ends_with('/') => Kind::Dir,
            b'0' | 0 | b'7' => Kind::Regular,
            header::TYPE_HARDLINK => Kind::Hardlink,
            header::TYPE_SYMLINK => Kind::Symlink,
            header::TYPE_DIR => Kind::Dir,
            _ => Kind::Other,
        };
        // Links and directories carry no data, whatever their size field says.
        let data_size = match kind {
            Kind::Hardlink | Kind::Symlink | Kind::Dir => 0,
            _ => size,
        };
        let mut member = Member {
            raw_name: name,
            kind,
            offset: pos,
            size: data_size,
            linkname,
            cached: None,
            inner: None,
        };
        let mut consumed = 0u64;
        if kind == Kind::Regular {
            let cache = data_size <= opts.cache_member_limit
                && cached_total + data_size <= opts.cache_total_limit;
            let mut data = (&mut *input).take(data_size);
            if cache {
                let mut buf = Vec::with_capacity(data_size as usize);
                data.read_to_end(&mut buf).map_err(io_err)?;
                consumed = buf.len() as u64;
                if opts.measure {
                    member.inner = measure(&mut &buf[..]).ok();
                }
                cached_total += consumed;
                member.cached = Some(buf.into());
            } else if opts.measure {
                let mut counted = Counting::new(&mut data);
                member.inner = measure(&mut counted).ok();
                consumed = counted.count;
            }
            if consumed < data_size && cache {
                return Err(io_err(io::ErrorKind::UnexpectedEof.into()));
            }
        }
        let rest = data_size - consumed + header::padding(data_size);
        input.skip(rest).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                bad(format!(
                    "archive is truncated: member {} claims {data_size} bytes at offset {pos}",
                    member.raw_name
                ))
            } else {
                io_err(e)
            }
        })?;
        pos += data_size + header::padding(data_size);
        index.push(member);
    }
    Ok(index)
}

/// Sniffs `r` and counts its (decompressed) bytes, reading it to the end.
pub(crate) fn measure(r: &mut (dyn Read + Send)) -> io::Result<Inner> {
    let head = compress::read_head(r)?;
    let compression = compress::sniff(&head);
    let chained = io::Cursor::new(head).chain(r);
    let size = match compression {
        Some(f) => io::copy(&mut compress::decoder(f, chained)?, &mut io::sink())?,
        None => io::copy(&mut { chained }, &mut io::sink())?,
    };
    Ok(Inner { compression, size })
}

fn c_str(data: &[u8]) -> String {
    let end = data.iter().position(|&x| x == 0).unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end]).into_owned()
}

/// Reads a full block; returns the number of bytes read (less than a block only at EOF).
fn read_block(r: &mut dyn ScanInput, block: &mut [u8; BLOCK]) -> io::Result<usize> {
    let mut n = 0;
    while n < BLOCK {
        match r.read(&mut block[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Counts bytes read through it.
pub(crate) struct Counting<R> {
    inner: R,
    pub count: u64,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R) -> Counting<R> {
        Counting { inner, count: 0 }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A plain stream: skipping reads and discards (and fails at a premature EOF).
pub(crate) struct StreamInput<R>(pub R);

impl<R: Read> Read for StreamInput<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Send> ScanInput for StreamInput<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut (&mut self.0).take(n), &mut io::sink())?;
        if copied < n {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::transport::tarfile::header::{HeaderSpec, TYPE_REG, encode, encode_patchable};

    fn spec(name: &str, size: u64) -> HeaderSpec<'_> {
        HeaderSpec {
            name,
            typeflag: TYPE_REG,
            mode: 0o644,
            size,
            mtime: 0,
            uname: "",
            gname: "",
            linkname: "",
        }
    }

    fn scan_bytes(data: Vec<u8>) -> Result<TarIndex> {
        scan(
            &mut StreamInput(&data[..]),
            &ScanOptions::default(),
            Path::new("t.tar"),
        )
    }

    #[test]
    fn offsets_long_names_and_links() {
        let long = format!("{}/{}", "d".repeat(150), "f".repeat(120));
        let mut t = encode(&spec("a", 3));
        t.extend_from_slice(b"abc");
        t.resize(1024, 0);
        let b_at = t.len() as u64;
        t.extend_from_slice(&encode(&spec(&long, 600)));
        let long_at = t.len() as u64;
        t.extend_from_slice(&[1u8; 600]);
        t.resize(t.len() + 424, 0);
        t.extend_from_slice(&[0u8; 1024]);
        let idx = scan_bytes(t).unwrap();
        let a = idx.get("a").unwrap();
        assert_eq!((a.offset, a.size, a.kind), (512, 3, Kind::Regular));
        let l = idx.get(&long).unwrap();
        assert_eq!((l.offset, l.size), (long_at, 600));
        assert!(long_at > b_at + 512, "a PAX header precedes the long name");
    }

    #[test]
    fn absurd_sizes_are_rejected() {
        let mut t = encode_patchable(&spec("x", u64::MAX >> 1)).to_vec();
        t.extend_from_slice(&[0u8; 1024]);
        let e = scan_bytes(t).unwrap_err().to_string();
        assert!(e.contains("invalid size"), "{e}");
    }
}
