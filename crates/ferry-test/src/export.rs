//! The other transports' forms of an image held in an [`OciLayout`], written by the
//! harness itself (not by ferry or skopeo): a `dir:` directory, an `oci-archive:` tar
//! of the layout, and a `docker-archive:` tar (uncompressed layers, `manifest.json`).

use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::hash::{HashingWriter, hex_of};
use crate::image::{DOCKER_LIST, OCI_INDEX};
use crate::layer::FIXED_MTIME;
use crate::layout::{OciLayout, descriptor_of};

fn parse(bytes: &[u8], what: &str) -> io::Result<Value> {
    serde_json::from_slice(bytes).map_err(|e| io::Error::other(format!("parsing {what}: {e}")))
}

/// Digests of the blobs (config + layers) a single-image manifest references.
pub fn manifest_blobs(manifest: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(d) = manifest["config"]["digest"].as_str() {
        out.push(d.to_string());
    }
    for l in manifest["layers"].as_array().into_iter().flatten() {
        if let Some(d) = l["digest"].as_str() {
            out.push(d.to_string());
        }
    }
    out
}

/// Whether a manifest is a list (OCI index or Docker manifest list).
pub fn is_list(manifest: &Value) -> bool {
    let mt = manifest["mediaType"].as_str().unwrap_or("");
    mt == OCI_INDEX || mt == DOCKER_LIST || (mt.is_empty() && manifest["manifests"].is_array())
}

/// Writes the image `digest` of `layout` as a `dir:` directory, like skopeo's
/// `dir:` destination: `version`, `manifest.json`, blobs named by hex, and for a list
/// every instance as `<hex>.manifest.json` with its blobs.
pub fn to_dir(layout: &OciLayout, digest: &str, out: &Path) -> io::Result<()> {
    fs_err::create_dir_all(out)?;
    fs_err::write(out.join("version"), "Directory Transport Version: 1.1\n")?;
    let top = layout.read_blob(digest)?;
    fs_err::write(out.join("manifest.json"), &top)?;
    let top_v = parse(&top, digest)?;
    let mut blobs = Vec::new();
    if is_list(&top_v) {
        for m in top_v["manifests"].as_array().into_iter().flatten() {
            let Some(d) = descriptor_of(m) else { continue };
            let bytes = layout.read_blob(&d.digest)?;
            fs_err::write(
                out.join(format!("{}.manifest.json", hex_of(&d.digest))),
                &bytes,
            )?;
            blobs.extend(manifest_blobs(&parse(&bytes, &d.digest)?));
        }
    } else {
        blobs = manifest_blobs(&top_v);
    }
    for b in blobs {
        let dest = out.join(hex_of(&b));
        if !dest.exists() {
            fs_err::copy(layout.blob_path(&b), dest)?;
        }
    }
    Ok(())
}

fn tar_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_mtime(FIXED_MTIME);
    h.set_size(size);
    h
}

fn append_file(b: &mut tar::Builder<impl Write>, name: &str, path: &Path) -> io::Result<()> {
    let f = fs_err::File::open(path)?;
    let mut h = tar_header(tar::EntryType::Regular, 0o644, f.metadata()?.len());
    b.append_data(&mut h, name, f)
}

fn append_bytes(b: &mut tar::Builder<impl Write>, name: &str, data: &[u8]) -> io::Result<()> {
    let mut h = tar_header(tar::EntryType::Regular, 0o644, data.len() as u64);
    b.append_data(&mut h, name, data)
}

/// Tars a whole OCI layout into an `oci-archive:` file (entries sorted, fixed mtimes).
pub fn to_oci_archive(layout: &OciLayout, out: &Path) -> io::Result<()> {
    let mut b = tar::Builder::new(io::BufWriter::new(fs_err::File::create(out)?));
    let root = layout.root();
    let tree = crate::tree::list_tree(root)?;
    for (rel, node) in &tree {
        match node {
            crate::tree::Node::Dir => {
                let mut h = tar_header(tar::EntryType::Directory, 0o755, 0);
                b.append_data(&mut h, format!("{rel}/"), io::empty())?;
            }
            crate::tree::Node::File { .. } => append_file(&mut b, rel, &root.join(rel))?,
            _ => {}
        }
    }
    b.into_inner()?.flush()
}

/// Writes the single image `digest` of `layout` as a `docker-archive:` file: the config
/// as `<hex>.json`, each layer decompressed as `<diffid-hex>.tar`, and `manifest.json`
/// with `repo_tags` (e.g. `docker.io/library/foo:latest`).
pub fn to_docker_archive(
    layout: &OciLayout,
    digest: &str,
    repo_tags: &[&str],
    out: &Path,
) -> io::Result<()> {
    let manifest = parse(&layout.read_blob(digest)?, digest)?;
    if is_list(&manifest) {
        return Err(io::Error::other(format!(
            "{digest} is a list: pick one instance"
        )));
    }
    let config_digest = manifest["config"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let tmp = tempfile::tempdir_in(out.parent().unwrap_or(Path::new(".")))?;
    let mut b = tar::Builder::new(io::BufWriter::new(fs_err::File::create(out)?));
    let mut layer_names = Vec::new();
    for l in manifest["layers"].as_array().into_iter().flatten() {
        let d = l["digest"].as_str().unwrap_or_default();
        let mt = l["mediaType"].as_str().unwrap_or_default();
        let blob = fs_err::File::open(layout.blob_path(d))?;
        let mut reader: Box<dyn Read> = if mt.ends_with("gzip") {
            Box::new(flate2::read::GzDecoder::new(io::BufReader::new(blob)))
        } else {
            Box::new(io::BufReader::new(blob))
        };
        let spool = tmp.path().join("layer");
        let mut w = HashingWriter::new(io::BufWriter::new(fs_err::File::create(&spool)?));
        io::copy(&mut reader, &mut w)?;
        let (mut f, diff_id) = w.finish();
        f.flush()?;
        drop(f);
        let name = format!("{}.tar", hex_of(&diff_id));
        if !layer_names.contains(&name) {
            append_file(&mut b, &name, &spool)?;
        }
        layer_names.push(name);
    }
    let config_name = format!("{}.json", hex_of(&config_digest));
    append_bytes(&mut b, &config_name, &layout.read_blob(&config_digest)?)?;
    let m = json!([{"Config": config_name, "RepoTags": repo_tags, "Layers": layer_names}]);
    append_bytes(&mut b, "manifest.json", &serde_json::to_vec(&m)?)?;
    b.into_inner()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{Kind, build};
    use crate::hash::sha256_file;

    #[test]
    fn dir_form_of_a_list_has_every_instance() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let f = build(Kind::Multiarch, &t.path().join("l"))?;
        to_dir(&f.layout, &f.top.digest, &t.path().join("d"))?;
        let top = fs_err::read(t.path().join("d/manifest.json"))?;
        assert_eq!(top, f.top_bytes);
        for img in &f.images {
            let p = t
                .path()
                .join(format!("d/{}.manifest.json", hex_of(&img.manifest.digest)));
            assert_eq!(fs_err::read(p)?, img.manifest_bytes);
            for l in &img.layers {
                let p = t.path().join(format!("d/{}", hex_of(&l.descriptor.digest)));
                assert_eq!(sha256_file(p)?, l.descriptor.digest);
            }
        }
        Ok(())
    }

    #[test]
    fn docker_archive_has_uncompressed_layers() -> io::Result<()> {
        let t = tempfile::tempdir()?;
        let f = build(Kind::Oci, &t.path().join("l"))?;
        let out = t.path().join("a.tar");
        to_docker_archive(&f.layout, &f.top.digest, &["docker.io/library/x:1"], &out)?;
        let mut ar = tar::Archive::new(fs_err::File::open(&out)?);
        let mut names = Vec::new();
        for e in ar.entries()? {
            let mut e = e?;
            let name = e.path()?.to_string_lossy().into_owned();
            if let Some(hex) = name.strip_suffix(".tar") {
                let (d, _) = crate::hash::sha256_reader(&mut e)?;
                assert_eq!(hex_of(&d), hex);
            }
            names.push(name);
        }
        let img = &f.images[0];
        for d in img.diff_ids() {
            assert!(names.contains(&format!("{}.tar", hex_of(&d))), "{names:?}");
        }
        assert_eq!(names.last().map(String::as_str), Some("manifest.json"));
        Ok(())
    }
}
