//! Tar header blocks, encoded byte-for-byte like Go's `archive/tar` writer (what skopeo
//! uses) and decoded leniently (ustar, PAX, GNU and v7 headers from any producer).
//!
//! Encoding follows Go's format choice: USTAR when every field fits (the name may be split
//! into prefix + name), otherwise a PAX extended header (`path`, `linkpath`, `size`
//! records, sorted) before the main header. Numeric fields are zero-padded octal with a NUL
//! terminator, the checksum is six octal digits, NUL, space.

use std::fmt::Write as _;

/// Size of a tar block.
pub(crate) const BLOCK: usize = 512;

pub(crate) const TYPE_REG: u8 = b'0';
pub(crate) const TYPE_HARDLINK: u8 = b'1';
pub(crate) const TYPE_SYMLINK: u8 = b'2';
pub(crate) const TYPE_DIR: u8 = b'5';

const NAME_SIZE: usize = 100;
const PREFIX_SIZE: usize = 155;
/// Largest value an 11-digit octal size field holds (8 GiB - 1).
pub(crate) const MAX_OCTAL_SIZE: u64 = (1 << 33) - 1;

/// The fields of one entry to write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeaderSpec<'a> {
    pub name: &'a str,
    pub typeflag: u8,
    /// The raw mode field (c/image's tarfile writer uses `0o444`; containers/storage's
    /// archiver adds the type bits, `0o100644` / `0o40755`).
    pub mode: u32,
    pub size: u64,
    pub mtime: i64,
    pub uname: &'a str,
    pub gname: &'a str,
    pub linkname: &'a str,
}

/// Bytes to write for `spec`: a PAX extended header (with its data) when USTAR cannot
/// represent the entry, then the main header. Always a multiple of [`BLOCK`].
pub(crate) fn encode(spec: &HeaderSpec<'_>) -> Vec<u8> {
    let split = split_ustar_path(spec.name);
    let name_fits = spec.name.is_ascii() && (spec.name.len() <= NAME_SIZE || split.is_some());
    let link_fits = spec.linkname.is_ascii() && spec.linkname.len() <= NAME_SIZE;
    let size_fits = spec.size <= MAX_OCTAL_SIZE;
    if name_fits && link_fits && size_fits {
        let (prefix, name) = split.unwrap_or(("", spec.name));
        return main_block(spec, name, prefix).to_vec();
    }
    // PAX: records sorted by key, as Go does.
    let mut records = String::new();
    if !link_fits {
        records.push_str(&pax_record("linkpath", spec.linkname));
    }
    if !name_fits {
        records.push_str(&pax_record("path", spec.name));
    }
    if !size_fits {
        records.push_str(&pax_record("size", &spec.size.to_string()));
    }
    let (dir, file) = match spec.name.rfind('/') {
        Some(i) => (&spec.name[..=i], &spec.name[i + 1..]),
        None => ("", spec.name),
    };
    let pax_name = go_path_join(dir, file);
    let mut out = raw_file_block(&pax_name, records.len() as u64, b'x').to_vec();
    out.extend_from_slice(records.as_bytes());
    out.resize(out.len() + padding(records.len() as u64) as usize, 0);
    // Go's PAX main header: the name (ASCII-folded, truncated) in the v7 field only.
    let name = to_ascii(spec.name);
    let link = to_ascii(spec.linkname);
    let mut main_spec = *spec;
    main_spec.linkname = &link;
    if !size_fits {
        main_spec.size = 0;
    }
    out.extend_from_slice(&main_block(&main_spec, &name, ""));
    out
}

/// A one-block header with a fixed-length name that `patch_header` can later rewrite in
/// place (the name and size of a streamed blob are known only at its end).
pub(crate) fn encode_patchable(spec: &HeaderSpec<'_>) -> [u8; BLOCK] {
    let mut block = main_block(spec, spec.name, "");
    if spec.size > MAX_OCTAL_SIZE {
        // GNU base-256, understood by Go, GNU tar and bsdtar: no room for a PAX header.
        set_base256(&mut block[124..136], spec.size);
        set_checksum(&mut block);
    }
    block
}

fn main_block(spec: &HeaderSpec<'_>, name: &str, prefix: &str) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    put_str(&mut b[0..100], name);
    put_octal(&mut b[100..108], u64::from(spec.mode));
    put_octal(&mut b[108..116], 0);
    put_octal(&mut b[116..124], 0);
    put_octal(
        &mut b[124..136],
        if spec.size > MAX_OCTAL_SIZE {
            0
        } else {
            spec.size
        },
    );
    put_octal(&mut b[136..148], u64::try_from(spec.mtime).unwrap_or(0));
    b[156] = spec.typeflag;
    put_str(&mut b[157..257], spec.linkname);
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    put_str(&mut b[265..297], spec.uname);
    put_str(&mut b[297..329], spec.gname);
    put_octal(&mut b[329..337], 0);
    put_octal(&mut b[337..345], 0);
    put_str(&mut b[345..500], prefix);
    set_checksum(&mut b);
    b
}

/// Go's `writeRawFile`: the header of a PAX extended-header file.
fn raw_file_block(name: &str, size: u64, flag: u8) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    let mut name = to_ascii(name);
    name.truncate(NAME_SIZE);
    let name = name.trim_end_matches('/');
    put_str(&mut b[0..100], name);
    b[156] = flag;
    put_octal(&mut b[100..108], 0);
    put_octal(&mut b[108..116], 0);
    put_octal(&mut b[116..124], 0);
    put_octal(&mut b[124..136], size);
    put_octal(&mut b[136..148], 0);
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    set_checksum(&mut b);
    b
}

/// Go's `path.Join(dir, "PaxHeaders.0", file)`.
fn go_path_join(dir: &str, file: &str) -> String {
    let joined = format!("{dir}/PaxHeaders.0/{file}");
    let cleaned = clean_path(&joined);
    if dir.is_empty() {
        cleaned.trim_start_matches('/').to_string()
    } else {
        cleaned
    }
}

fn pax_record(key: &str, value: &str) -> String {
    // "%d %s=%s\n" where the length counts itself.
    let base = key.len() + value.len() + 3;
    let mut len = base + base.to_string().len();
    if len.to_string().len() + base != len {
        len = base + len.to_string().len();
    }
    let mut s = String::new();
    let _ = writeln!(s, "{len} {key}={value}");
    s
}

fn to_ascii(s: &str) -> String {
    s.chars().filter(char::is_ascii).collect()
}

fn put_str(field: &mut [u8], s: &str) {
    let bytes = s.as_bytes();
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
}

/// Zero-padded octal leaving room for a NUL terminator (Go's `formatOctal`).
fn put_octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    put_str(field, &s);
    field[digits] = 0;
}

fn set_base256(field: &mut [u8], value: u64) {
    field.fill(0);
    field[0] = 0x80;
    let bytes = value.to_be_bytes();
    let n = field.len();
    field[n - 8..].copy_from_slice(&bytes);
}

fn set_checksum(b: &mut [u8; BLOCK]) {
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|&x| u32::from(x)).sum();
    let s = format!("{sum:06o}");
    b[148..154].copy_from_slice(&s.as_bytes()[s.len() - 6..]);
    b[154] = 0;
    b[155] = b' ';
}

/// Go's `splitUSTARPath`: (prefix, name) when a long name can be split at a `/`.
fn split_ustar_path(name: &str) -> Option<(&str, &str)> {
    let len = name.len();
    if len <= NAME_SIZE || !name.is_ascii() {
        return None;
    }
    let mut cut = len;
    if cut > PREFIX_SIZE + 1 {
        cut = PREFIX_SIZE + 1;
    } else if name.as_bytes()[cut - 1] == b'/' {
        cut -= 1;
    }
    let i = name[..cut].rfind('/')?;
    let nlen = len - i - 1;
    if i == 0 || nlen > NAME_SIZE || nlen == 0 || i > PREFIX_SIZE {
        return None;
    }
    Some((&name[..i], &name[i + 1..]))
}

/// Number of zero bytes after `size` bytes of data to reach a block boundary.
pub(crate) fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// Go's `path.Clean` for `/`-separated archive paths.
pub(crate) fn clean_path(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A decoded header (before PAX / GNU long-name overrides are applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawHeader {
    pub name: String,
    pub linkname: String,
    pub typeflag: u8,
    pub size: u64,
}

/// Why a block is not a valid header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Checksum,
    BadNumber(&'static str),
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Checksum => write!(f, "invalid tar header (checksum mismatch)"),
            HeaderError::BadNumber(field) => write!(f, "invalid tar header ({field} field)"),
        }
    }
}

pub(crate) fn is_zero_block(b: &[u8; BLOCK]) -> bool {
    b.iter().all(|&x| x == 0)
}

/// Decodes one header block; accepts ustar/PAX (prefix field), GNU and v7 headers.
pub(crate) fn decode(b: &[u8; BLOCK]) -> Result<RawHeader, HeaderError> {
    let stored = parse_numeric(&b[148..156]).ok_or(HeaderError::Checksum)?;
    let unsigned: u64 = b
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if (148..156).contains(&i) {
                32
            } else {
                u64::from(x)
            }
        })
        .sum();
    let signed: i64 = b
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if (148..156).contains(&i) {
                32
            } else {
                i64::from(x as i8)
            }
        })
        .sum();
    if stored != unsigned && i64::try_from(stored).ok() != Some(signed) {
        return Err(HeaderError::Checksum);
    }
    let size = parse_numeric(&b[124..136]).ok_or(HeaderError::BadNumber("size"))?;
    let mut name = c_string(&b[0..100]);
    let is_ustar = &b[257..263] == b"ustar\0";
    if is_ustar {
        let prefix = c_string(&b[345..500]);
        if !prefix.is_empty() {
            name = format!("{prefix}/{name}");
        }
    }
    Ok(RawHeader {
        name,
        linkname: c_string(&b[157..257]),
        typeflag: b[156],
        size,
    })
}

fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&x| x == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Octal (space/NUL padded) or GNU base-256 numbers.
fn parse_numeric(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&x| x & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return None; // negative
        }
        let mut v: u64 = u64::from(field[0] & 0x3f);
        for &x in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(x))?;
        }
        return Some(v);
    }
    let s = std::str::from_utf8(field).ok()?;
    let s = s.trim_matches(|c| c == ' ' || c == '\0');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

/// Parses PAX extended-header records (`"%d %s=%s\n"`).
pub(crate) fn parse_pax(data: &[u8]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest
            .iter()
            .position(|&x| x == b' ')
            .ok_or("invalid PAX record")?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("invalid PAX record length")?;
        if len <= sp + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err("invalid PAX record".into());
        }
        let rec = &rest[sp + 1..len - 1];
        let eq = rec
            .iter()
            .position(|&x| x == b'=')
            .ok_or("invalid PAX record")?;
        out.push((
            String::from_utf8_lossy(&rec[..eq]).into_owned(),
            String::from_utf8_lossy(&rec[eq + 1..]).into_owned(),
        ));
        rest = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn file(name: &str, size: u64) -> HeaderSpec<'_> {
        HeaderSpec {
            name,
            typeflag: TYPE_REG,
            mode: 0o444,
            size,
            mtime: 0,
            uname: "",
            gname: "",
            linkname: "",
        }
    }

    #[test]
    fn ustar_header_matches_go_bytes() {
        // Header of "manifest.json" (285 bytes) from a skopeo 1.9.3 docker-archive.
        let b = encode(&file("manifest.json", 285));
        assert_eq!(b.len(), BLOCK);
        assert_eq!(&b[100..108], b"0000444\0");
        assert_eq!(&b[124..136], b"00000000435\0");
        assert_eq!(&b[136..148], b"00000000000\0");
        assert_eq!(&b[148..156], b"011706\0 ");
        assert_eq!(&b[257..265], b"ustar\x0000");
        assert_eq!(&b[329..345], b"0000000\x000000000\0");
    }

    #[test]
    fn symlink_header_matches_go_checksum() {
        let name = "f7d0434544bf2c28fc8ccf73e70cb9a230975a6b9ed20b68a84554d6e0410d37/layer.tar";
        let link = "../0eb59a71d7ebc83d1eb856d517b31862050163d95089dd4e4b31b8f314d576a1.tar";
        let b = encode(&HeaderSpec {
            typeflag: TYPE_SYMLINK,
            mode: 0,
            linkname: link,
            ..file(name, 0)
        });
        assert_eq!(&b[148..156], b"033171\0 ");
    }

    #[test]
    fn roundtrip_and_long_names() {
        let long = format!("blobs/sha512/{}", "a".repeat(128));
        let b = encode(&file(&long, 5));
        assert_eq!(b.len(), 3 * BLOCK, "PAX header + data + main header");
        assert_eq!(b[156], b'x');
        let recs = parse_pax(
            b[BLOCK..BLOCK + 200]
                .split(|&x| x == 0)
                .next()
                .unwrap_or(&[]),
        )
        .unwrap();
        assert_eq!(recs, vec![("path".to_string(), long.clone())]);
        let main: &[u8; BLOCK] = b[2 * BLOCK..].try_into().unwrap();
        assert_eq!(decode(main).unwrap().size, 5);

        let split = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let b = encode(&file(&split, 1));
        assert_eq!(b.len(), BLOCK);
        let h = decode(b[..].try_into().unwrap()).unwrap();
        assert_eq!(h.name, split);
    }

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record("path", "abc"), "12 path=abc\n");
        let r = pax_record("path", &"x".repeat(91));
        assert_eq!(r.len(), 101);
        assert!(r.starts_with("101 "));
    }

    #[test]
    fn big_sizes() {
        let b = encode(&file("big", 1 << 34));
        assert_eq!(b[156], b'x');
        assert!(
            std::str::from_utf8(&b[BLOCK..BLOCK + 30])
                .unwrap()
                .starts_with("20 size=17179869184\n")
        );
        let p = encode_patchable(&file("big", 1 << 34));
        assert_eq!(decode(&p).unwrap().size, 1 << 34);
    }

    #[test]
    fn decode_rejects_bad_checksum() {
        let mut b: [u8; BLOCK] = encode(&file("x", 1))[..].try_into().unwrap();
        b[0] = b'y';
        assert_eq!(decode(&b), Err(HeaderError::Checksum));
    }

    #[test]
    fn clean_path_like_go() {
        for (i, o) in [
            ("a/b/../c", "a/c"),
            ("./x", "x"),
            ("../x", "../x"),
            ("/../x", "/x"),
            ("a//b/", "a/b"),
            ("", "."),
            ("a/..", "."),
            ("a/../../b", "../b"),
        ] {
            assert_eq!(clean_path(i), o, "{i}");
        }
    }
}
