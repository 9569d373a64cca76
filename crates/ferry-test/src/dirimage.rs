//! Reading an image back from a `dir:` tree (what `copy … dir:X` wrote) into a summary
//! that can be checked against the [`Fixture`] it came from: every blob is verified
//! against its name, layers are decompressed to recompute their diff IDs.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::export::{is_list, manifest_blobs};
use crate::fixtures::Fixture;
use crate::hash::{hex_of, sha256_bytes, sha256_file, sha256_reader};
use crate::image::BuiltImage;

/// One layer as found in a `dir:` tree.
#[derive(Debug, Clone)]
pub struct Layer {
    pub digest: String,
    pub media_type: String,
    /// Digest of the decompressed bytes (gzip and zstd are detected by magic).
    pub diff_id: String,
}

/// One single-platform image of a `dir:` tree.
#[derive(Debug, Clone)]
pub struct Instance {
    pub manifest_digest: String,
    pub manifest_bytes: Vec<u8>,
    pub media_type: String,
    pub config_digest: String,
    pub config_bytes: Vec<u8>,
    pub layers: Vec<Layer>,
}

/// An image read back from a `dir:` tree.
#[derive(Debug, Clone)]
pub struct DirImage {
    pub root: PathBuf,
    pub top_bytes: Vec<u8>,
    pub top: Value,
    /// The top manifest's instances if it is a list (those present), else the image.
    pub instances: Vec<Instance>,
}

impl DirImage {
    pub fn is_list(&self) -> bool {
        is_list(&self.top)
    }
}

fn err(root: &Path, what: impl std::fmt::Display) -> String {
    format!("{}: {what}", root.display())
}

/// The media type of a manifest: its `mediaType` field (schema 2 / OCI with the field).
pub fn media_type_of(v: &Value) -> String {
    v["mediaType"].as_str().unwrap_or("").to_string()
}

fn decompressed_digest(path: &Path) -> io::Result<String> {
    let mut f = fs_err::File::open(path)?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic)?;
    drop(f);
    let f = io::BufReader::new(fs_err::File::open(path)?);
    let (d, _) = match &magic[..n] {
        [0x1f, 0x8b, ..] => sha256_reader(&mut flate2::read::MultiGzDecoder::new(f))?,
        [0x28, 0xb5, 0x2f, 0xfd] => {
            return Err(io::Error::other(
                "zstd layers are not expected in these tests",
            ));
        }
        _ => sha256_reader(&mut { f })?,
    };
    Ok(d)
}

fn read_instance(root: &Path, digest: &str, bytes: Vec<u8>) -> Result<Instance, String> {
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| err(root, format!("manifest {digest}: {e}")))?;
    let mut problems = Vec::new();
    for b in manifest_blobs(&v) {
        let p = root.join(hex_of(&b));
        match sha256_file(&p) {
            Ok(d) if d == b => {}
            Ok(d) => problems.push(format!("blob {} has digest {d}", p.display())),
            Err(e) => problems.push(format!("blob {b} missing: {e}")),
        }
    }
    if !problems.is_empty() {
        return Err(err(root, problems.join("; ")));
    }
    let config_digest = v["config"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let config_bytes = fs_err::read(root.join(hex_of(&config_digest))).map_err(|e| err(root, e))?;
    let mut layers = Vec::new();
    for l in v["layers"].as_array().into_iter().flatten() {
        let d = l["digest"].as_str().unwrap_or_default().to_string();
        let diff_id = decompressed_digest(&root.join(hex_of(&d)))
            .map_err(|e| err(root, format!("layer {d}: {e}")))?;
        layers.push(Layer {
            digest: d,
            media_type: l["mediaType"].as_str().unwrap_or_default().to_string(),
            diff_id,
        });
    }
    Ok(Instance {
        manifest_digest: digest.to_string(),
        media_type: media_type_of(&v),
        manifest_bytes: bytes,
        config_digest,
        config_bytes,
        layers,
    })
}

/// Reads and verifies a `dir:` tree.
pub fn read_dir_image(root: &Path) -> Result<DirImage, String> {
    let version = fs_err::read_to_string(root.join("version")).map_err(|e| err(root, e))?;
    if version != "Directory Transport Version: 1.1\n" {
        return Err(err(root, format!("unexpected version file {version:?}")));
    }
    let top_bytes = fs_err::read(root.join("manifest.json")).map_err(|e| err(root, e))?;
    let top: Value =
        serde_json::from_slice(&top_bytes).map_err(|e| err(root, format!("manifest.json: {e}")))?;
    let mut instances = Vec::new();
    if is_list(&top) {
        for m in top["manifests"].as_array().into_iter().flatten() {
            let d = m["digest"].as_str().unwrap_or_default();
            let p = root.join(format!("{}.manifest.json", hex_of(d)));
            if let Ok(bytes) = fs_err::read(&p) {
                if sha256_bytes(&bytes) != d {
                    return Err(err(
                        root,
                        format!("{} does not match its digest", p.display()),
                    ));
                }
                instances.push(read_instance(root, d, bytes)?);
            }
        }
    } else {
        instances.push(read_instance(
            root,
            &sha256_bytes(&top_bytes),
            top_bytes.clone(),
        )?);
    }
    Ok(DirImage {
        root: root.to_path_buf(),
        top_bytes,
        top,
        instances,
    })
}

/// What a read-back image must look like compared with the fixture it was copied from.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The whole list was copied (`--all` to a list-capable destination); otherwise the
    /// host's (amd64) instance alone.
    pub whole_list: bool,
    /// The media type every single-image manifest must have (`None`: the fixture's).
    pub manifest_type: Option<&'static str>,
    /// Manifests are byte-identical to the fixture's (no conversion happened).
    pub exact_manifests: bool,
    /// Layer blobs are the fixture's (same compressed digests).
    pub exact_layers: bool,
    /// Layers are stored uncompressed (digest = diff ID), as docker-archive does.
    pub uncompressed_layers: bool,
    /// The config was converted (schema 2 → OCI re-encodes it): compare its meaning
    /// (platform, `config`, `rootfs`, `history`, `created`), not its bytes.
    pub converted_config: bool,
}

/// The parts of an image config that survive a schema 2 → OCI conversion.
pub fn config_meaning(config: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(config).unwrap_or(Value::Null);
    let keys = [
        "created",
        "author",
        "architecture",
        "variant",
        "os",
        "config",
        "rootfs",
        "history",
    ];
    Value::Object(
        keys.iter()
            .filter_map(|k| Some(((*k).to_string(), v.get(*k)?.clone())))
            .collect(),
    )
}

fn check_instance(got: &Instance, want: &BuiltImage, e: &Expect, out: &mut Vec<String>) {
    let tag = format!(
        "instance {} ({})",
        got.manifest_digest, want.platform.architecture
    );
    if e.converted_config {
        let (g, w) = (
            config_meaning(&got.config_bytes),
            config_meaning(&want.config_bytes),
        );
        if g != w {
            out.push(format!("{tag}: converted config means {g}\n    want {w}"));
        }
    } else if got.config_digest != want.config.digest || got.config_bytes != want.config_bytes {
        out.push(format!(
            "{tag}: config {} differs from the fixture's {}:\n    {}",
            got.config_digest,
            want.config.digest,
            String::from_utf8_lossy(&got.config_bytes)
        ));
    }
    let got_diff: Vec<&str> = got.layers.iter().map(|l| l.diff_id.as_str()).collect();
    let want_diff = want.diff_ids();
    if got_diff != want_diff.iter().map(String::as_str).collect::<Vec<_>>() {
        out.push(format!(
            "{tag}: layer contents (diff IDs) {got_diff:?}, want {want_diff:?}"
        ));
    }
    let mt = e.manifest_type.unwrap_or(&want.manifest.media_type);
    if got.media_type != mt {
        out.push(format!(
            "{tag}: manifest type {:?}, want {mt:?}",
            got.media_type
        ));
    }
    if e.exact_manifests && got.manifest_bytes != want.manifest_bytes {
        out.push(format!(
            "{tag}: manifest bytes differ from the fixture's ({}):\n{}",
            want.manifest.digest,
            String::from_utf8_lossy(&got.manifest_bytes)
        ));
    }
    if e.exact_layers {
        let got_d: Vec<&str> = got.layers.iter().map(|l| l.digest.as_str()).collect();
        let want_d: Vec<&str> = want
            .layers
            .iter()
            .map(|l| l.descriptor.digest.as_str())
            .collect();
        if got_d != want_d {
            out.push(format!(
                "{tag}: layer blobs {got_d:?}, want the fixture's {want_d:?}"
            ));
        }
    }
    if e.uncompressed_layers {
        for l in got.layers.iter().filter(|l| l.digest != l.diff_id) {
            out.push(format!(
                "{tag}: layer {} is not stored uncompressed",
                l.digest
            ));
        }
    }
}

/// Checks a read-back image against its fixture; `Err` lists every problem.
pub fn check_image(got: &DirImage, fixture: &Fixture, e: &Expect) -> Result<(), String> {
    let mut out = Vec::new();
    let want: Vec<&BuiltImage> = if e.whole_list && fixture.is_list() {
        fixture.images.iter().collect()
    } else {
        vec![fixture.host_image()]
    };
    if e.whole_list && fixture.is_list() {
        if !got.is_list() {
            out.push("expected a list, got a single image".to_string());
        } else if e.exact_manifests && got.top_bytes != fixture.top_bytes {
            out.push(format!(
                "list bytes differ from the fixture's:\n{}",
                String::from_utf8_lossy(&got.top_bytes)
            ));
        }
    } else if got.is_list() {
        out.push("expected a single image, got a list".to_string());
    }
    if got.instances.len() != want.len() {
        out.push(format!(
            "{} instance(s), want {}",
            got.instances.len(),
            want.len()
        ));
    }
    for w in &want {
        let same_config = |i: &&Instance| {
            if e.converted_config {
                config_meaning(&i.config_bytes) == config_meaning(&w.config_bytes)
            } else {
                i.config_digest == w.config.digest
            }
        };
        match got.instances.iter().find(same_config) {
            Some(g) => check_instance(g, w, e, &mut out),
            None => out.push(format!(
                "no instance with the fixture's {} config {}",
                w.platform.architecture, w.config.digest
            )),
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}:\n  - {}",
            got.root.display(),
            out.join("\n  - ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::to_dir;
    use crate::fixtures::{Kind, build};

    #[test]
    fn fixture_dir_forms_check_out() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        for k in Kind::ALL {
            let f = build(k, &t.path().join(k.name()))?;
            let d = t.path().join(format!("{}-dir", k.name()));
            to_dir(&f.layout, &f.top.digest, &d)?;
            let img = read_dir_image(&d).map_err(io::Error::other)?;
            let exact = Expect {
                whole_list: true,
                exact_manifests: true,
                exact_layers: true,
                ..Expect::default()
            };
            assert_eq!(check_image(&img, &f, &exact), Ok(()), "{k:?}");
            // A check that must fail: the layers are compressed.
            let e = Expect {
                whole_list: true,
                uncompressed_layers: true,
                ..Expect::default()
            };
            assert!(check_image(&img, &f, &e).is_err(), "{k:?}");
            // Corrupt a blob: reading must notice.
            let layer = &f.images[0].layers[0].descriptor.digest;
            fs_err::write(d.join(hex_of(layer)), b"corrupt")?;
            assert!(read_dir_image(&d).is_err(), "{k:?}");
        }
        Ok(())
    }
}
