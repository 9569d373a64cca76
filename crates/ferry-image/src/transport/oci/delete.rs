//! `skopeo delete oci:…`: removes one index entry and the blobs no remaining entry uses
//! (containers/image `oci_delete.go`, which skopeo 1.9.3 does not have yet: it answers
//! "Deleting images not implemented for oci: images").
//!
//! Use counts: every blob reachable from the root index is counted once per reference
//! (nested indexes walked); a blob is deleted when all its uses come from the deleted
//! entry. Blobs are only removed from the layout's own `blobs/`, never from a
//! `--shared-blob-dir` (other layouts may use them), exactly like containers/image.
//!
//! Unlike containers/image, the whole operation runs under the layout lock that copies
//! take for their index update, and index.json is rewritten *before* blobs are removed,
//! so an interruption leaves unreferenced blobs rather than a dangling entry. Docker
//! schema 2 manifests and lists inside the layout are walked like their OCI twins.

use std::collections::HashMap;

use ferry_manifest::mime;
use ferry_reference::Digest;
use serde::Deserialize;

use super::index::OciIndex;
use super::{INDEX_FILE, blob_path, blob_root, fsutil, parse_digest, select_entry};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::reference::OciRef;

type UseCounts = HashMap<Digest, u64>;

/// Deletes the image `r` names from its layout.
pub fn delete(r: &OciRef, ctx: &SystemContext) -> Result<()> {
    let index_path = r.dir.join(INDEX_FILE);
    // Errors naming index.json when the layout does not exist (before creating a lock).
    OciIndex::read(&index_path)?;
    let _lock = fsutil::lock_dir(&r.dir)?;
    let mut index = OciIndex::read(&index_path)?;
    let pos = select_entry(&index, r)?;
    let root = blob_root(&r.dir, ctx);

    let removed = index
        .manifests
        .get(pos)
        .cloned()
        .ok_or_else(|| Error::Other(format!("index entry @{pos} vanished")))?;
    let mut used_by_image = UseCounts::new();
    count_descriptor(
        &root,
        &removed.media_type,
        &removed.digest,
        &mut used_by_image,
    )?;

    let mut used_in_root = UseCounts::new();
    count_index(&root, &index, &mut used_in_root)?;

    let to_delete: Vec<Digest> = used_in_root
        .into_iter()
        .filter(|(d, n)| *n == used_by_image.get(d).copied().unwrap_or(0))
        .map(|(d, _)| d)
        .collect();

    index.manifests.remove(pos);
    fsutil::write_atomic(&index_path, &index.to_bytes()?)?;

    let local = r.dir.join("blobs");
    for digest in to_delete {
        match std::fs::remove_file(blob_path(&local, &digest)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("deleting blob {digest}"), e)),
        }
    }
    Ok(())
}

/// Counts the blob a descriptor names and everything reachable from it.
fn count_descriptor(
    root: &std::path::Path,
    media_type: &str,
    digest: &str,
    counts: &mut UseCounts,
) -> Result<()> {
    let digest = parse_digest(digest)?;
    match media_type {
        mime::OCI_MANIFEST | mime::DOCKER_V2S2 => {
            let m: ImageRefs = read_json(root, &digest)?;
            if let Some(config) = m.config {
                *counts.entry(parse_digest(&config.digest)?).or_default() += 1;
            }
            for layer in m.layers.unwrap_or_default() {
                *counts.entry(parse_digest(&layer.digest)?).or_default() += 1;
            }
        }
        mime::OCI_INDEX | mime::DOCKER_V2_LIST => {
            let nested: OciIndex = read_json(root, &digest)?;
            count_index(root, &nested, counts)?;
        }
        other => {
            return Err(Error::Unsupported(format!(
                "unsupported mediaType in index: {other:?}"
            )));
        }
    }
    *counts.entry(digest).or_default() += 1;
    Ok(())
}

fn count_index(root: &std::path::Path, index: &OciIndex, counts: &mut UseCounts) -> Result<()> {
    for m in &index.manifests {
        count_descriptor(root, &m.media_type, &m.digest, counts)?;
    }
    Ok(())
}

fn read_json<T: for<'de> Deserialize<'de>>(root: &std::path::Path, digest: &Digest) -> Result<T> {
    let path = blob_path(root, digest);
    let bytes = fs_err::read(&path).map_err(|e| Error::io(format!("manifest {digest}"), e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::Other(format!(
            "parsing manifest {digest} ({}): {e}",
            path.display()
        ))
    })
}

/// The blob references of an image manifest.
#[derive(Deserialize)]
struct ImageRefs {
    config: Option<DigestOnly>,
    layers: Option<Vec<DigestOnly>>,
}

#[derive(Deserialize)]
struct DigestOnly {
    digest: String,
}
