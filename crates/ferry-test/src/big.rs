//! Big images for footprint checks (one layout of N layers of mostly incompressible data,
//! streamed to disk), and the command line of the `make-test-image` binary.

use std::io;
use std::path::Path;

use crate::fixtures::{self, Kind, TAG};
use crate::image::{ImageSpec, write_image};
use crate::layer::{Content, Entry, LayerCompression, LayerSpec};
use crate::layout::OciLayout;
use crate::sources::{Sources, Transport};

/// The spec of a big image: `layers` layers totalling about `total` bytes; each layer is
/// one large incompressible file plus a compressible file of 1/32 of its size.
pub fn big_spec(total: u64, layers: u32) -> ImageSpec {
    let layers = layers.max(1);
    let per_layer = total / u64::from(layers);
    let text = per_layer / 32;
    let random = per_layer - text;
    ImageSpec {
        layers: (0..layers)
            .map(|i| {
                LayerSpec::new(
                    &format!("ADD big-{i}"),
                    vec![
                        Entry::dir(&format!("big/{i}")),
                        Entry::file(
                            &format!("big/{i}/random.bin"),
                            Content::Random {
                                len: random,
                                seed: 1000 + u64::from(i),
                            },
                        ),
                        Entry::file(
                            &format!("big/{i}/words.txt"),
                            Content::Text {
                                len: text,
                                seed: 2000 + u64::from(i),
                            },
                        ),
                    ],
                )
            })
            .collect(),
        // Level 1: the data is incompressible anyway, and building stays fast.
        compression: LayerCompression::Gzip(1),
        labels: vec![(
            "org.opencontainers.image.title".into(),
            "ferry-test big".into(),
        )],
        ..ImageSpec::default()
    }
}

/// Writes a big image into a new OCI layout at `dir`, tagged [`TAG`].
pub fn build_big(dir: &Path, total: u64, layers: u32) -> io::Result<crate::image::BuiltImage> {
    let layout = OciLayout::create(dir)?;
    let img = write_image(&layout, &big_spec(total, layers))?;
    layout.add_to_index(&img.manifest, Some(TAG))?;
    Ok(img)
}

/// Parses `123`, `64K`, `512M`, `1G` (binary units).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches(['B', 'b']).trim_end_matches('i');
    let (num, mult) = match s.chars().last()? {
        'k' | 'K' => (&s[..s.len() - 1], 1u64 << 10),
        'm' | 'M' => (&s[..s.len() - 1], 1 << 20),
        'g' | 'G' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs_err::create_dir_all(to)?;
    for e in fs_err::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        } else {
            fs_err::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

const USAGE: &str = "usage: make-test-image fixture oci|schema2|multiarch DIR\n       \
                     make-test-image source oci|schema2|multiarch dir|oci|oci-archive|docker-archive PATH\n       \
                     make-test-image schema1-manifest FILE\n       \
                     make-test-image big DIR [--size BYTES[K|M|G]] [--layers N]";

/// The `make-test-image` command line; returns a one-line summary to print.
pub fn cli(args: &[String]) -> Result<String, String> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["fixture", kind, dir] => {
            let k = Kind::from_name(kind)
                .ok_or_else(|| format!("unknown fixture {kind:?}\n{USAGE}"))?;
            let f =
                fixtures::build(k, Path::new(dir)).map_err(|e| format!("writing {dir}: {e}"))?;
            Ok(format!(
                "oci:{dir}:{TAG} {} {}",
                f.top.media_type, f.top.digest
            ))
        }
        ["source", kind, transport, path] => {
            let k = Kind::from_name(kind)
                .ok_or_else(|| format!("unknown fixture {kind:?}\n{USAGE}"))?;
            let t = Transport::ALL
                .into_iter()
                .find(|t| t.name() == *transport)
                .ok_or_else(|| format!("unknown transport {transport:?}\n{USAGE}"))?;
            let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
            let s = Sources::build(k, tmp.path()).map_err(|e| e.to_string())?;
            let built = s.source(t).map_err(|e| e.to_string())?;
            let from = built.split_once(':').map_or("", |(_, p)| p);
            let from = if t == Transport::OciArchive || t == Transport::Oci {
                from.rsplit_once(':').map_or(from, |(p, _)| p)
            } else {
                from
            };
            if t.is_archive() {
                fs_err::copy(from, path).map_err(|e| e.to_string())?;
            } else {
                copy_tree(Path::new(from), Path::new(path)).map_err(|e| e.to_string())?;
            }
            let name = if t == Transport::Dir || t == Transport::DockerArchive {
                None
            } else {
                Some(TAG)
            };
            Ok(t.reference(Path::new(path), name))
        }
        ["big", dir, rest @ ..] => {
            let (mut size, mut layers) = (1u64 << 30, 8u32);
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let v = it
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
                match *flag {
                    "--size" => size = parse_size(v).ok_or_else(|| format!("bad size {v:?}"))?,
                    "--layers" => {
                        layers = v.parse().map_err(|_| format!("bad layer count {v:?}"))?
                    }
                    _ => return Err(format!("unknown option {flag}\n{USAGE}")),
                }
            }
            let img = build_big(Path::new(dir), size, layers)
                .map_err(|e| format!("writing {dir}: {e}"))?;
            let stored: u64 = img.layers.iter().map(|l| l.digests.size).sum();
            Ok(format!(
                "oci:{dir}:{TAG} {} layers, {stored} bytes of layers, manifest {}",
                img.layers.len(),
                img.manifest.digest
            ))
        }
        ["schema1-manifest", file] => {
            let (bytes, digest) = crate::schema1::signed_manifest();
            fs_err::write(file, bytes).map_err(|e| e.to_string())?;
            Ok(digest)
        }
        _ => Err(USAGE.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("64MiB"), Some(64 << 20));
        assert_eq!(parse_size("10k"), Some(10240));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("x"), None);
    }

    #[test]
    fn small_big_image() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let img = build_big(t.path(), 4 << 20, 4)?;
        assert_eq!(img.layers.len(), 4);
        let stored: u64 = img.layers.iter().map(|l| l.digests.size).sum();
        // Mostly incompressible: the gzip layers are nearly as big as the data.
        assert!(stored > 3 << 20, "{stored}");
        Ok(())
    }
}
