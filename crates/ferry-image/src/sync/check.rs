//! Skip-unchanged: before copying, compare the manifest digest the destination has with
//! the one a copy would write. For registries that is one `HEAD` per side (skopeo `GET`s
//! both manifests and counts as a pull on registries that meter them); file destinations
//! and sources are read locally. A manifest list copied without `--all` is compared
//! through the instance the copy would pick (one more `GET` of the list). Anything
//! unexpected (an error, a missing `Docker-Content-Digest`) just means "copy".

use ferry_manifest::{ManifestList, mime};
use ferry_reference::Digest;
use ferry_registry::Access;

use super::conn::Side;
use super::dest::{Dest, Target};
use super::source::{Item, Repo};
use super::{DestKind, Run};
use crate::copy::{ListSelection, ManifestFormat};
use crate::error::{Error, Result};
use crate::transport::ImageRef;
use crate::types::RawManifest;

impl Run<'_> {
    /// `Some(digest)` when the destination already holds exactly what a copy would write.
    pub(crate) fn unchanged(&self, repo: &Repo, item: &Item, dest: &Dest) -> Option<Digest> {
        let have = self.dest_digest(dest).ok()??;
        if let ImageRef::Docker(r) = &item.src
            && let Some(d) = r.named.digest()
        {
            return (*d == have).then_some(have);
        }
        let (digest, mime) = self.source_digest(repo, item).ok()?;
        if digest == have && self.keeps(&mime) {
            return Some(have);
        }
        if mime::is_list(&mime) && self.opts.copy.list_selection == ListSelection::System {
            let list = self.source_manifest(repo, item, Some(&digest)).ok()?;
            let list = ManifestList::parse(&list.bytes, &list.mime).ok()?;
            let ctx = &repo.ctx;
            let os = ctx.os.clone().unwrap_or_else(|| "linux".into());
            let arch = ctx.arch.clone().unwrap_or_else(|| host_arch().into());
            let chosen = list
                .choose_instance(Some(&os), Some(&arch), ctx.variant.as_deref())
                .ok()?;
            if chosen.digest == have && self.format_ok(&chosen.media_type) {
                return Some(have);
            }
        }
        None
    }

    /// Whether a copy writes a manifest of type `m` unchanged.
    fn keeps(&self, m: &str) -> bool {
        if mime::is_list(m) && self.opts.copy.list_selection != ListSelection::All {
            return false;
        }
        self.format_ok(m)
    }

    fn format_ok(&self, m: &str) -> bool {
        let is_oci = m == mime::OCI_MANIFEST || m == mime::OCI_INDEX;
        match self.opts.copy.format {
            None => self.dest_kind != DestKind::Oci || is_oci,
            Some(ManifestFormat::Oci) => is_oci,
            Some(ManifestFormat::V2s2) => m == mime::DOCKER_V2S2 || m == mime::DOCKER_V2_LIST,
            Some(ManifestFormat::V2s1) => mime::is_schema1(m),
        }
    }

    /// The digest of the manifest the destination has under the reference, if any.
    fn dest_digest(&self, dest: &Dest) -> Result<Option<Digest>> {
        match &dest.target {
            Target::Docker(named) => {
                let reg =
                    self.conns
                        .get(Side::Dest, &self.opts.copy.dest_ctx, named, Access::Push)?;
                let reference = crate::transport::docker::manifest_reference(named);
                let Some(head) =
                    reg.head_manifest(named.path(), &reference, mime::ALL_MANIFEST_TYPES)?
                else {
                    return Ok(None);
                };
                match head.digest.as_deref().map(Digest::parse) {
                    Some(Ok(d)) => Ok(Some(d)),
                    _ => {
                        let m =
                            reg.get_manifest(named.path(), &reference, mime::ALL_MANIFEST_TYPES)?;
                        Ok(Some(digest_of(&m.bytes)?))
                    }
                }
            }
            Target::Dir(path) => match std::fs::read(path.join("manifest.json")) {
                Ok(b) => Ok(Some(digest_of(&b)?)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
            },
            Target::Oci {
                layout,
                name,
                digest,
            } => {
                let index = match std::fs::read(layout.join("index.json")) {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(Error::io(format!("reading {}", layout.display()), e)),
                };
                Ok(oci_entry_digest(&index, name.as_deref(), digest.as_ref()))
            }
        }
    }

    /// Digest and MIME type of the source's top-level manifest.
    fn source_digest(&self, repo: &Repo, item: &Item) -> Result<(Digest, String)> {
        if let Some(k) = &item.known {
            return Ok(k.clone());
        }
        match &item.src {
            ImageRef::Docker(r) => {
                let named = &r.named;
                let reg = self.conns.get(repo.side, &repo.ctx, named, Access::Pull)?;
                let reference = crate::transport::docker::manifest_reference(named);
                let head = reg
                    .head_manifest(named.path(), &reference, mime::ALL_MANIFEST_TYPES)?
                    .ok_or_else(|| Error::ImageNotFound(named.to_string()))?;
                let m = ferry_manifest::normalize_mime_type(&head.media_type).to_string();
                match head.digest.as_deref().map(Digest::parse) {
                    Some(Ok(d)) if ferry_manifest::is_known_manifest_type(&m) => Ok((d, m)),
                    _ => {
                        let m = self.source_manifest(repo, item, None)?;
                        Ok((digest_of(&m.bytes)?, m.mime))
                    }
                }
            }
            ImageRef::Dir(r) => {
                let b = fs_err::read(r.path.join("manifest.json"))?;
                let m = RawManifest::sniffed(b);
                Ok((digest_of(&m.bytes)?, m.mime))
            }
            other => Err(Error::Other(format!("no digest check for {other}"))),
        }
    }

    /// The source manifest `digest` (`None`: the one the reference names); dir/oci read
    /// it from disk.
    fn source_manifest(
        &self,
        repo: &Repo,
        item: &Item,
        digest: Option<&Digest>,
    ) -> Result<RawManifest> {
        match &item.src {
            ImageRef::Docker(r) => {
                let named = &r.named;
                let reg = self.conns.get(repo.side, &repo.ctx, named, Access::Pull)?;
                let reference = match digest {
                    Some(d) => d.to_string(),
                    None => crate::transport::docker::manifest_reference(named),
                };
                let m = reg.get_manifest(named.path(), &reference, mime::ALL_MANIFEST_TYPES)?;
                let t = ferry_manifest::normalize_mime_type(&m.media_type).to_string();
                Ok(if ferry_manifest::is_known_manifest_type(&t) {
                    RawManifest::new(m.bytes, t)
                } else {
                    RawManifest::sniffed(m.bytes)
                })
            }
            ImageRef::Dir(r) => Ok(RawManifest::sniffed(fs_err::read(
                r.path.join("manifest.json"),
            )?)),
            ImageRef::Oci(r) => {
                let d = digest
                    .or(item.known.as_ref().map(|k| &k.0))
                    .ok_or_else(|| Error::Other(format!("no digest for {}", item.src)))?;
                Ok(RawManifest::sniffed(fs_err::read(
                    r.dir.join("blobs").join(d.algorithm().name()).join(d.hex()),
                )?))
            }
            other => Err(Error::Other(format!("no manifest check for {other}"))),
        }
    }
}

fn digest_of(bytes: &[u8]) -> Result<Digest> {
    ferry_manifest::digest(bytes).map_err(|e| Error::manifest("at the destination", e))
}

/// The digest of the index.json entry named `name` (or equal to `digest`).
pub(crate) fn oci_entry_digest(
    index: &[u8],
    name: Option<&str>,
    digest: Option<&Digest>,
) -> Option<Digest> {
    let v: serde_json::Value = serde_json::from_slice(index).ok()?;
    v.get("manifests")?.as_array()?.iter().find_map(|m| {
        let d = Digest::parse(m.get("digest")?.as_str()?).ok()?;
        let n = m
            .get("annotations")
            .and_then(|a| a.get("org.opencontainers.image.ref.name"))
            .and_then(|n| n.as_str());
        let hit = match (name, digest) {
            (Some(want), _) => n == Some(want),
            (None, Some(want)) => d == *want,
            (None, None) => false,
        };
        hit.then_some(d)
    })
}

/// Go's GOARCH for the host (the platform a list copy picks without overrides).
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}
