//! Deterministic layer tarballs: a [`LayerSpec`] (files, dirs, links, whiteouts) is
//! written as a tar stream with fixed owners and mtimes, optionally gzip-compressed,
//! while its digest (compressed) and diff ID (uncompressed) are computed on the fly.

use std::io::{self, Read, Write};

use flate2::{Compression, GzBuilder};
use tar::{EntryType, Header};

use crate::hash::HashingWriter;
use crate::prng::{Prng, RandomReader};

/// The mtime of every tar entry (2024-01-01T00:00:00Z).
pub const FIXED_MTIME: u64 = 1_704_067_200;

/// What a regular file contains.
#[derive(Debug, Clone)]
pub enum Content {
    Bytes(Vec<u8>),
    /// `len` incompressible bytes from a seeded PRNG.
    Random {
        len: u64,
        seed: u64,
    },
    /// About `len` bytes of compressible pseudo-text (words from a small vocabulary).
    Text {
        len: u64,
        seed: u64,
    },
}

impl Content {
    pub fn text(s: &str) -> Content {
        Content::Bytes(s.as_bytes().to_vec())
    }

    fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Random { len, .. } | Content::Text { len, .. } => *len,
        }
    }

    fn reader(&self) -> Box<dyn Read + '_> {
        match self {
            Content::Bytes(b) => Box::new(b.as_slice()),
            Content::Random { len, seed } => Box::new(RandomReader::new(*seed, *len)),
            Content::Text { len, seed } => Box::new(io::Cursor::new(pseudo_text(*len, *seed))),
        }
    }
}

/// `len` bytes of lines made of words, deterministic for a seed.
pub fn pseudo_text(len: u64, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "ferry",
        "skopeo",
        "layer",
        "blob",
        "digest",
        "manifest",
        "index",
        "registry",
        "config",
        "copy",
        "the",
        "a",
        "of",
        "and",
        "image",
        "container",
        "tar",
        "gzip",
        "stream",
        "archive",
        "oci",
        "docker",
        "platform",
        "amd64",
        "arm64",
        "linux",
    ];
    let mut rng = Prng::new(seed);
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(len);
    let mut col = 0;
    while out.len() < len {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        out.extend_from_slice(w.as_bytes());
        col += w.len() + 1;
        if col > 70 {
            out.push(b'\n');
            col = 0;
        } else {
            out.push(b' ');
        }
    }
    out.truncate(len);
    out
}

/// One entry of a layer.
#[derive(Debug, Clone)]
pub enum Entry {
    Dir {
        path: String,
        mode: u32,
    },
    File {
        path: String,
        mode: u32,
        content: Content,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    /// Deletes `path` from lower layers: an empty `dir/.wh.name` file.
    Whiteout {
        path: String,
    },
    /// Hides the lower layers' contents of `dir`: an empty `dir/.wh..wh..opq` file.
    Opaque {
        dir: String,
    },
}

impl Entry {
    pub fn dir(path: &str) -> Entry {
        Entry::Dir {
            path: path.to_string(),
            mode: 0o755,
        }
    }
    pub fn file(path: &str, content: Content) -> Entry {
        Entry::File {
            path: path.to_string(),
            mode: 0o644,
            content,
        }
    }
    pub fn exe(path: &str, content: Content) -> Entry {
        Entry::File {
            path: path.to_string(),
            mode: 0o755,
            content,
        }
    }
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry::Symlink {
            path: path.to_string(),
            target: target.to_string(),
        }
    }
    pub fn hardlink(path: &str, target: &str) -> Entry {
        Entry::Hardlink {
            path: path.to_string(),
            target: target.to_string(),
        }
    }
    pub fn whiteout(path: &str) -> Entry {
        Entry::Whiteout {
            path: path.to_string(),
        }
    }
    pub fn opaque(dir: &str) -> Entry {
        Entry::Opaque {
            dir: dir.to_string(),
        }
    }
}

/// A layer: its entries in tar order, and the history comment of the step that made it.
#[derive(Debug, Clone, Default)]
pub struct LayerSpec {
    pub entries: Vec<Entry>,
    pub created_by: String,
}

impl LayerSpec {
    pub fn new(created_by: &str, entries: Vec<Entry>) -> LayerSpec {
        LayerSpec {
            entries,
            created_by: created_by.to_string(),
        }
    }
}

/// How a layer blob is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerCompression {
    /// gzip at this level (0-9), deterministic header (mtime 0, no name).
    Gzip(u32),
    /// A plain tar.
    None,
}

/// Digests of a written layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDigests {
    /// Digest of the blob as stored (compressed if compressed).
    pub digest: String,
    /// Size of the blob as stored.
    pub size: u64,
    /// Digest of the uncompressed tar.
    pub diff_id: String,
    /// Size of the uncompressed tar.
    pub uncompressed_size: u64,
}

/// Writes `spec` as a layer blob to `out`, returning its digests.
pub fn write_layer<W: Write>(
    spec: &LayerSpec,
    compression: LayerCompression,
    out: W,
) -> io::Result<LayerDigests> {
    let stored = HashingWriter::new(out);
    match compression {
        LayerCompression::Gzip(level) => {
            let gz = GzBuilder::new().write(stored, Compression::new(level));
            let raw = write_tar(spec, HashingWriter::new(gz))?;
            let (gz, diff_id, uncompressed_size) = raw.finish_with_len();
            let stored = gz.finish()?;
            let (mut out, digest, size) = stored.finish_with_len();
            out.flush()?;
            Ok(LayerDigests {
                digest,
                size,
                diff_id,
                uncompressed_size,
            })
        }
        LayerCompression::None => {
            let raw = write_tar(spec, stored)?;
            let (mut out, digest, size) = raw.finish_with_len();
            out.flush()?;
            Ok(LayerDigests {
                diff_id: digest.clone(),
                digest,
                size,
                uncompressed_size: size,
            })
        }
    }
}

fn header(kind: EntryType, mode: u32, size: u64) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(FIXED_MTIME);
    h.set_size(size);
    h
}

fn write_tar<W: Write>(spec: &LayerSpec, w: W) -> io::Result<W> {
    let mut b = tar::Builder::new(w);
    for e in &spec.entries {
        match e {
            Entry::Dir { path, mode } => {
                let mut h = header(EntryType::Directory, *mode, 0);
                b.append_data(
                    &mut h,
                    format!("{}/", path.trim_end_matches('/')),
                    io::empty(),
                )?;
            }
            Entry::File {
                path,
                mode,
                content,
            } => {
                let mut h = header(EntryType::Regular, *mode, content.len());
                b.append_data(&mut h, path, content.reader())?;
            }
            Entry::Symlink { path, target } => {
                let mut h = header(EntryType::Symlink, 0o777, 0);
                b.append_link(&mut h, path, target)?;
            }
            Entry::Hardlink { path, target } => {
                let mut h = header(EntryType::Link, 0o644, 0);
                b.append_link(&mut h, path, target)?;
            }
            Entry::Whiteout { path } => {
                let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
                let p = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                let mut h = header(EntryType::Regular, 0o644, 0);
                b.append_data(&mut h, p, io::empty())?;
            }
            Entry::Opaque { dir } => {
                let mut h = header(EntryType::Regular, 0o644, 0);
                let p = format!("{}/.wh..wh..opq", dir.trim_end_matches('/'));
                b.append_data(&mut h, p, io::empty())?;
            }
        }
    }
    b.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> LayerSpec {
        LayerSpec::new(
            "test",
            vec![
                Entry::dir("etc"),
                Entry::file("etc/hostname", Content::text("ferry\n")),
                Entry::file(
                    "data/random.bin",
                    Content::Random {
                        len: 10_000,
                        seed: 1,
                    },
                ),
                Entry::file(
                    "data/words.txt",
                    Content::Text {
                        len: 5_000,
                        seed: 2,
                    },
                ),
                Entry::symlink("bin/sh", "busybox"),
                Entry::hardlink("etc/hostname2", "etc/hostname"),
                Entry::whiteout("etc/motd"),
                Entry::opaque("var/cache"),
            ],
        )
    }

    #[test]
    fn deterministic_and_digests_match_content() -> io::Result<()> {
        let mut a = Vec::new();
        let da = write_layer(&spec(), LayerCompression::Gzip(6), &mut a)?;
        let mut b = Vec::new();
        let db = write_layer(&spec(), LayerCompression::Gzip(6), &mut b)?;
        assert_eq!(da, db);
        assert_eq!(a, b);
        assert_eq!(da.digest, crate::hash::sha256_bytes(&a));
        assert_eq!(da.size, a.len() as u64);

        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(a.as_slice()).read_to_end(&mut raw)?;
        assert_eq!(da.diff_id, crate::hash::sha256_bytes(&raw));
        assert_eq!(da.uncompressed_size, raw.len() as u64);

        let mut plain = Vec::new();
        let dp = write_layer(&spec(), LayerCompression::None, &mut plain)?;
        assert_eq!(plain, raw);
        assert_eq!(dp.digest, da.diff_id);
        Ok(())
    }

    #[test]
    fn tar_lists_whiteouts() -> io::Result<()> {
        let mut raw = Vec::new();
        write_layer(&spec(), LayerCompression::None, &mut raw)?;
        let mut names = Vec::new();
        let mut ar = tar::Archive::new(raw.as_slice());
        for e in ar.entries()? {
            names.push(String::from_utf8_lossy(&e?.path_bytes()).into_owned());
        }
        assert!(names.contains(&"etc/.wh.motd".to_string()), "{names:?}");
        assert!(
            names.contains(&"var/cache/.wh..wh..opq".to_string()),
            "{names:?}"
        );
        assert_eq!(names.len(), 8);
        Ok(())
    }
}
