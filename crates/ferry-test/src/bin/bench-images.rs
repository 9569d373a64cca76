//! `bench-images`: the extra images of `scripts/bench.sh` (issue 6), written as OCI
//! layouts with the harness (the fixtures come from `make-test-image`).
//!
//! Usage:
//!   bench-images rootfs DIR [--size BYTES[K|M|G]] [--from PATH]...
//!       a "debian-like" image: layer 1 is a tar of real files taken from the host
//!       (default /usr/bin, /usr/lib/x86_64-linux-gnu, /usr/share, an equal share of
//!       --size each, files in name order), layer 2 adds 4 MiB of text, layer 3 holds a
//!       whiteout, an opaque dir and a new file; gzip -6 (default 120M uncompressed)
//!   bench-images many DIR [--layers N]
//!       a small image of N layers (default 50): a 1 MiB base plus N-1 layers of
//!       1.2-26 KiB (text and random data alternately)
//!   bench-images big DIR [--size BYTES[K|M|G]] [--layers N] [--level L]
//!       `make-test-image big` compressed at gzip level L (default 6): level 1 of the
//!       harness gives fixed-Huffman blocks that expand random data and are slow to
//!       inflate; gzip/pigz -6 store incompressible data (stored blocks), as real layers do
//!
//! The rootfs image depends on the host's files: it is reproducible on one machine only,
//! which is all a benchmark cache needs.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ferry_test::big::{big_spec, parse_size};
use ferry_test::fixtures::TAG;
use ferry_test::image::{ImageSpec, write_image};
use ferry_test::layer::{Content, Entry, LayerCompression, LayerSpec};
use ferry_test::layout::OciLayout;

const USAGE: &str = "usage: bench-images rootfs DIR [--size BYTES[K|M|G]] [--from PATH]...\n       \
                     bench-images many DIR [--layers N]\n       \
                     bench-images big DIR [--size BYTES[K|M|G]] [--layers N] [--level L]";

const DEFAULT_ROOTS: [&str; 3] = ["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/share"];
/// Files bigger than this are skipped (a rootfs is mostly small files).
const MAX_FILE: u64 = 8 << 20;

/// Entries collected from one host directory, with their total file bytes.
#[derive(Debug, Default)]
struct Collected {
    entries: Vec<Entry>,
    bytes: u64,
    first_file: Option<String>,
}

/// The tar path of a host path (`/usr/bin/ls` → `usr/bin/ls`).
fn tar_path(p: &Path) -> String {
    p.to_string_lossy().trim_start_matches('/').to_string()
}

/// Walks `root` depth-first in name order, adding dirs, symlinks and regular files
/// until `budget` bytes of file content are taken. Unreadable entries are skipped.
fn collect(root: &Path, budget: u64, out: &mut Collected) -> io::Result<()> {
    // The parents of `root` first, so that the tree is complete.
    let mut parents: Vec<&Path> = root.ancestors().skip(1).collect();
    parents.reverse();
    for p in parents {
        let t = tar_path(p);
        if !t.is_empty()
            && !out
                .entries
                .iter()
                .any(|e| matches!(e, Entry::Dir { path, .. } if *path == t))
        {
            out.entries.push(Entry::dir(&t));
        }
    }
    let start = out.bytes;
    walk(root, start + budget, out)
}

fn walk(dir: &Path, limit: u64, out: &mut Collected) -> io::Result<()> {
    out.entries.push(Entry::dir(&tar_path(dir)));
    let mut names: Vec<PathBuf> = fs_err::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    names.sort();
    for p in names {
        if out.bytes >= limit {
            return Ok(());
        }
        let Ok(md) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        let ft = md.file_type();
        if ft.is_symlink() {
            if let Ok(target) = std::fs::read_link(&p) {
                out.entries
                    .push(Entry::symlink(&tar_path(&p), &target.to_string_lossy()));
            }
        } else if ft.is_dir() {
            // A subdirectory that cannot be read is left out.
            let _ = walk(&p, limit, out);
        } else if ft.is_file() && md.len() <= MAX_FILE && out.bytes + md.len() <= limit {
            let Ok(data) = std::fs::read(&p) else {
                continue;
            };
            out.bytes += data.len() as u64;
            let path = tar_path(&p);
            out.first_file.get_or_insert_with(|| path.clone());
            let exe = std::os::unix::fs::PermissionsExt::mode(&md.permissions()) & 0o111 != 0;
            out.entries.push(if exe {
                Entry::exe(&path, Content::Bytes(data))
            } else {
                Entry::file(&path, Content::Bytes(data))
            });
        }
    }
    Ok(())
}

/// The spec of the rootfs image.
fn rootfs_spec(roots: &[PathBuf], size: u64) -> io::Result<ImageSpec> {
    let share = size / (roots.len().max(1) as u64);
    let mut c = Collected::default();
    for r in roots {
        collect(r, share, &mut c)
            .map_err(|e| io::Error::other(format!("reading {}: {e}", r.display())))?;
    }
    let victim = c.first_file.clone().unwrap_or_else(|| "etc/motd".into());
    let data = LayerSpec::new(
        "ADD bench data /usr/local/share/bench",
        vec![
            Entry::dir("usr/local/share/bench"),
            Entry::file(
                "usr/local/share/bench/words.txt",
                Content::Text {
                    len: 4 << 20,
                    seed: 61,
                },
            ),
            Entry::file(
                "usr/local/share/bench/old.conf",
                Content::text("old = true\n"),
            ),
        ],
    );
    let changes = LayerSpec::new(
        "RUN rm and reconfigure",
        vec![
            Entry::whiteout(&victim),
            Entry::opaque("usr/local/share/bench"),
            Entry::file(
                "usr/local/share/bench/new.conf",
                Content::text("new = true\n"),
            ),
        ],
    );
    Ok(ImageSpec {
        layers: vec![
            LayerSpec::new("ADD rootfs.tar.gz /", c.entries),
            data,
            changes,
        ],
        compression: LayerCompression::Gzip(6),
        labels: vec![(
            "org.opencontainers.image.title".into(),
            "ferry bench rootfs".into(),
        )],
        ..ImageSpec::default()
    })
}

/// Size of layer `i` (1-based) of the many-layer image: 1.2-26 KiB.
fn many_layer_len(i: u64) -> u64 {
    1200 + (i * 7919) % (25 * 1024)
}

/// The spec of the many-layer image.
fn many_spec(layers: u32) -> ImageSpec {
    let mut specs = vec![LayerSpec::new(
        "ADD base /",
        vec![
            Entry::dir("base"),
            Entry::file(
                "base/random.bin",
                Content::Random {
                    len: 768 << 10,
                    seed: 70,
                },
            ),
            Entry::file(
                "base/words.txt",
                Content::Text {
                    len: 256 << 10,
                    seed: 71,
                },
            ),
        ],
    )];
    for i in 1..u64::from(layers.max(1)) {
        let len = many_layer_len(i);
        let content = if i % 2 == 0 {
            Content::Random { len, seed: 100 + i }
        } else {
            Content::Text { len, seed: 100 + i }
        };
        specs.push(LayerSpec::new(
            &format!("RUN step {i}"),
            vec![Entry::file(&format!("step/{i:03}.dat"), content)],
        ));
    }
    ImageSpec {
        layers: specs,
        ..ImageSpec::default()
    }
}

fn write(dir: &Path, spec: &ImageSpec) -> io::Result<String> {
    let layout = OciLayout::create(dir)?;
    let img = write_image(&layout, spec)?;
    layout.add_to_index(&img.manifest, Some(TAG))?;
    let stored: u64 = img.layers.iter().map(|l| l.digests.size).sum();
    let raw: u64 = img.layers.iter().map(|l| l.digests.uncompressed_size).sum();
    Ok(format!(
        "oci:{}:{TAG} {} layers, {stored} bytes stored, {raw} uncompressed, manifest {}",
        dir.display(),
        img.layers.len(),
        img.manifest.digest
    ))
}

fn cli(args: &[String]) -> Result<String, String> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["rootfs", dir, rest @ ..] => {
            let (mut size, mut roots) = (120u64 << 20, Vec::new());
            let mut it = rest.iter();
            while let Some(flag) = it.next() {
                let v = it
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
                match *flag {
                    "--size" => size = parse_size(v).ok_or_else(|| format!("bad size {v:?}"))?,
                    "--from" => roots.push(PathBuf::from(v)),
                    _ => return Err(format!("unknown option {flag}\n{USAGE}")),
                }
            }
            if roots.is_empty() {
                roots = DEFAULT_ROOTS
                    .iter()
                    .map(PathBuf::from)
                    .filter(|p| p.is_dir())
                    .collect();
            }
            let spec = rootfs_spec(&roots, size).map_err(|e| e.to_string())?;
            write(Path::new(dir), &spec).map_err(|e| format!("writing {dir}: {e}"))
        }
        ["many", dir, rest @ ..] => {
            let layers = match rest {
                [] => 50,
                ["--layers", n] => n.parse().map_err(|_| format!("bad layer count {n:?}"))?,
                _ => return Err(USAGE.to_string()),
            };
            write(Path::new(dir), &many_spec(layers)).map_err(|e| format!("writing {dir}: {e}"))
        }
        ["big", dir, rest @ ..] => {
            let (mut size, mut layers, mut level) = (1u64 << 30, 8u32, 6u32);
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
                    "--level" => {
                        level = v
                            .parse()
                            .ok()
                            .filter(|l| *l <= 9)
                            .ok_or_else(|| format!("bad gzip level {v:?}"))?
                    }
                    _ => return Err(format!("unknown option {flag}\n{USAGE}")),
                }
            }
            let mut spec = big_spec(size, layers);
            spec.compression = LayerCompression::Gzip(level);
            write(Path::new(dir), &spec).map_err(|e| format!("writing {dir}: {e}"))
        }
        _ => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match cli(&args) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-images: {e}");
            ExitCode::from(if e.starts_with("usage") { 2 } else { 1 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_layer_sizes_are_small() {
        let spec = many_spec(50);
        assert_eq!(spec.layers.len(), 50);
        for i in 1..50 {
            let n = many_layer_len(i);
            assert!((1200..=1200 + 25 * 1024).contains(&n), "{i}: {n}");
        }
    }

    #[test]
    fn big_at_level_6_does_not_expand_random_data() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let layout = OciLayout::create(t.path())?;
        let mut spec = big_spec(1 << 20, 1);
        spec.compression = LayerCompression::Gzip(6);
        let img = write_image(&layout, &spec)?;
        let l = &img.layers[0].digests;
        // Stored blocks: a few bytes of framing, and the text part compresses.
        assert!(
            l.size < l.uncompressed_size,
            "{} >= {}",
            l.size,
            l.uncompressed_size
        );
        Ok(())
    }

    #[test]
    fn rootfs_takes_files_up_to_the_budget() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let src = t.path().join("src");
        fs_err::create_dir_all(src.join("sub"))?;
        fs_err::write(src.join("a"), vec![1u8; 3000])?;
        fs_err::write(src.join("sub/b"), vec![2u8; 3000])?;
        fs_err::write(src.join("z"), vec![3u8; 3000])?;
        std::os::unix::fs::symlink("a", src.join("l"))?;
        let mut c = Collected::default();
        collect(&src, 6500, &mut c)?;
        // a and sub/b fit, z does not.
        assert_eq!(c.bytes, 6000);
        let files = c
            .entries
            .iter()
            .filter(|e| matches!(e, Entry::File { .. }))
            .count();
        assert_eq!(files, 2);
        assert!(
            c.entries
                .iter()
                .any(|e| matches!(e, Entry::Symlink { target, .. } if target == "a"))
        );
        let out = t.path().join("img");
        let msg = write(&out, &rootfs_spec(&[src], 6500)?)?;
        assert!(msg.contains("3 layers"), "{msg}");
        Ok(())
    }
}
