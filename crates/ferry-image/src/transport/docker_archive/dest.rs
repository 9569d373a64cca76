//! Writing one image as a docker-archive, byte-identical to skopeo 1.9.3's output:
//! `<diffid>.tar` per layer (in put order), `<config>.json`, legacy `<v1id>/{layer.tar →
//! ../<diffid>.tar, VERSION, json}`, then `manifest.json` and `repositories`; USTAR
//! headers, mode 0444, uid/gid 0, mtime 0.
//!
//! The config is held in memory (it is small) and written when the manifest arrives —
//! exactly where skopeo writes it, since skopeo copies the config right before the
//! manifest — so the output does not depend on the engine putting the config first.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ferry_manifest::mime;
use ferry_reference::{Digest, Named};
use serde::Deserialize;

use super::MAX_CONFIG;
use super::legacy;
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::reference::DockerArchiveRef;
use crate::transport::tarfile::gojson;
use crate::transport::tarfile::header::{HeaderSpec, TYPE_REG, TYPE_SYMLINK};
use crate::transport::tarfile::writer::{Existing, TarWriter};
use crate::transport::{DestinationProperties, ImageDestination, LayerCompression};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest, Signature};

/// A `RepoTags` entry: fully-qualified repository name and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoTag {
    /// `docker.io/library/busybox`
    pub name: String,
    pub tag: String,
}

impl RepoTag {
    fn from_named(n: &Named) -> RepoTag {
        RepoTag {
            name: n.name(),
            tag: n.tag().unwrap_or("latest").to_string(),
        }
    }
}

/// skopeo's refusal to append to an existing archive.
const EXISTING: &str = "docker-archive doesn't support modifying existing images";

/// A docker-archive being written.
pub struct DockerArchiveDestination {
    props: DestinationProperties,
    state: Mutex<State>,
}

struct State {
    writer: TarWriter,
    repo_tags: Vec<RepoTag>,
    /// Blobs already in the archive (layers and the config), with their sizes.
    blobs: HashMap<Digest, u64>,
    config: Option<(Digest, Vec<u8>)>,
    written_ids: HashSet<String>,
    item: Option<Item>,
}

/// The manifest.json entry, complete once the manifest is put.
struct Item {
    config: String,
    layers: Vec<String>,
    top_id: Option<String>,
}

#[derive(Deserialize)]
struct Schema2 {
    #[serde(rename = "schemaVersion", default)]
    schema_version: i64,
    #[serde(rename = "mediaType", default)]
    media_type: String,
    config: Schema2Descriptor,
    #[serde(default)]
    layers: Vec<Schema2Descriptor>,
}

#[derive(Deserialize)]
struct Schema2Descriptor {
    digest: Digest,
}

fn file_spec(name: &str) -> HeaderSpec<'_> {
    HeaderSpec {
        name,
        typeflag: TYPE_REG,
        mode: 0o444,
        size: 0,
        mtime: 0,
        uname: "",
        gname: "",
        linkname: "",
    }
}

impl DockerArchiveDestination {
    /// Opens `docker-archive:PATH[:name:tag]` for writing; `ctx.additional_tags` are added
    /// to RepoTags.
    pub fn open(r: &DockerArchiveRef, ctx: &SystemContext) -> Result<DockerArchiveDestination> {
        if let Some(i) = r.index {
            return Err(Error::InvalidReference(format!(
                "Destination reference must not contain a manifest index @{i}"
            )));
        }
        let tags = r
            .named
            .iter()
            .chain(ctx.additional_tags.iter())
            .map(RepoTag::from_named)
            .collect();
        let mut dest = Self::create(&r.path, tags)?;
        if ctx.compress {
            // The compact archive (`--dest-compress`): layers stay compressed (and
            // uncompressed ones are gzipped), so the archive is the size of the compressed
            // image. `docker load` and `podman load` detect compressed layer files.
            dest.props.desired_layer_compression = LayerCompression::Compress;
        }
        Ok(dest)
    }

    /// Creates an archive at `path` whose image carries `repo_tags`.
    pub fn create(path: &Path, repo_tags: Vec<RepoTag>) -> Result<DockerArchiveDestination> {
        let writer = TarWriter::create(path, Existing::Refuse(EXISTING))?;
        let props = DestinationProperties {
            supported_manifest_types: Some(vec![mime::DOCKER_V2S2]),
            desired_layer_compression: LayerCompression::Decompress,
            supports_signatures: false,
            parallel_put_blob: false,
            needs_known_size: !writer.seekable(),
            supports_lists: false,
        };
        Ok(DockerArchiveDestination {
            props,
            state: Mutex::new(State {
                writer,
                repo_tags,
                blobs: HashMap::new(),
                config: None,
                written_ids: HashSet::new(),
                item: None,
            }),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| Error::Other("docker-archive destination: lock poisoned".into()))
    }
}

impl State {
    fn put_config(&mut self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let mut buf = Vec::new();
        data.take(MAX_CONFIG + 1).read_to_end(&mut buf).map_err(
            |e| match Error::from_io_unwrapping(e) {
                Error::Io(e) => Error::io("reading Config file stream", e),
                other => other,
            },
        )?;
        if buf.len() as u64 > MAX_CONFIG {
            return Err(Error::Other(format!(
                "reading Config file stream: exceeded maximum allowed size of {MAX_CONFIG} bytes"
            )));
        }
        let digest = info
            .digest
            .clone()
            .unwrap_or_else(|| Digest::sha256_of(&buf));
        let size = buf.len() as u64;
        self.blobs.insert(digest.clone(), size);
        self.config = Some((digest.clone(), buf));
        Ok(BlobInfo {
            digest,
            size: Some(size),
            media_type: info.media_type.clone(),
        })
    }

    fn put_layer(&mut self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let name = info
            .digest
            .as_ref()
            .map(|d| format!("{}.tar", d.hex()))
            .unwrap_or_default();
        let start = self.writer.position();
        let streamed =
            self.writer
                .append_stream(&file_spec(&name), info.size, data, &|d: &Digest| {
                    format!("{}.tar", d.hex())
                })?;
        let digest = match (&info.digest, streamed.digest) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => {
                if let Some(&size) = self.blobs.get(&d) {
                    // Learned only now that this layer is already in the archive.
                    self.writer.truncate_to(start)?;
                    return Ok(BlobInfo::new(d, Some(size)));
                }
                d
            }
            (None, None) => {
                return Err(Error::Other("internal error: layer digest unknown".into()));
            }
        };
        self.blobs.insert(digest.clone(), streamed.size);
        Ok(BlobInfo {
            digest,
            size: Some(streamed.size),
            media_type: info.media_type.clone(),
        })
    }

    fn write_metadata(&mut self, man: &Schema2) -> Result<()> {
        let Some((config_digest, config)) = self.config.take() else {
            return Err(Error::Other(
                "docker-archive: the image config must be written before the manifest".into(),
            ));
        };
        self.writer.append_bytes(
            &file_spec(&format!("{}.json", config_digest.hex())),
            &config,
        )?;
        let diff_ids: Vec<Digest> = man.layers.iter().map(|l| l.digest.clone()).collect();
        let legacy = legacy::legacy_layers(&diff_ids, &config).map_err(Error::Other)?;
        for l in &legacy {
            if !self.written_ids.insert(l.id.clone()) {
                continue;
            }
            let link_name = format!("{}/layer.tar", l.id);
            let target = format!("../{}.tar", l.diff_id.hex());
            self.writer.append_bytes(
                &HeaderSpec {
                    typeflag: TYPE_SYMLINK,
                    mode: 0,
                    linkname: &target,
                    ..file_spec(&link_name)
                },
                b"",
            )?;
            self.writer
                .append_bytes(&file_spec(&format!("{}/VERSION", l.id)), b"1.0")?;
            self.writer
                .append_bytes(&file_spec(&format!("{}/json", l.id)), &l.json)?;
        }
        self.item = Some(Item {
            config: format!("{}.json", man.config.digest.hex()),
            layers: diff_ids
                .iter()
                .map(|d| format!("{}.tar", d.hex()))
                .collect(),
            top_id: legacy.last().map(|l| l.id.clone()),
        });
        Ok(())
    }

    /// manifest.json: `[{"Config":…,"RepoTags":[…],"Layers":[…]}]`.
    fn manifest_json(&self, item: &Item) -> Vec<u8> {
        let mut tags: Vec<String> = Vec::new();
        for t in &self.repo_tags {
            let s = format!("{}:{}", t.name, t.tag);
            if !tags.contains(&s) {
                tags.push(s);
            }
        }
        let list = |v: &[String]| {
            v.iter()
                .map(|s| gojson::string(s))
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "[{{\"Config\":{},\"RepoTags\":[{}],\"Layers\":[{}]}}]",
            gojson::string(&item.config),
            list(&tags),
            list(&item.layers)
        )
        .into_bytes()
    }
}

impl ImageDestination for DockerArchiveDestination {
    fn properties(&self) -> &DestinationProperties {
        &self.props
    }

    fn try_reuse_blob(&self, info: &BlobInfo) -> Result<Option<BlobInfo>> {
        let state = self.lock()?;
        Ok(state
            .blobs
            .get(&info.digest)
            .map(|&size| BlobInfo::new(info.digest.clone(), Some(size))))
    }

    fn put_blob(&self, data: &mut dyn Read, info: &PutBlobInfo) -> Result<BlobInfo> {
        let mut state = self.lock()?;
        if let Some(d) = &info.digest
            && let Some(&size) = state.blobs.get(d)
        {
            return Ok(BlobInfo::new(d.clone(), Some(size)));
        }
        if info.is_config {
            state.put_config(data, info)
        } else {
            state.put_layer(data, info)
        }
    }

    fn put_manifest(&self, manifest: &RawManifest, instance: Option<&Digest>) -> Result<()> {
        if instance.is_some() {
            return Err(Error::Unsupported(
                "Manifest lists are not supported for docker tar files".into(),
            ));
        }
        let man: Schema2 = serde_json::from_slice(&manifest.bytes)
            .map_err(|e| Error::Other(format!("parsing manifest: {e}")))?;
        if man.schema_version != 2 || man.media_type != mime::DOCKER_V2S2 {
            return Err(Error::Unsupported(
                "Unsupported manifest type, need a Docker schema 2 manifest".into(),
            ));
        }
        let mut state = self.lock()?;
        if state.item.is_some() {
            return Err(Error::Other(
                "docker-archive: the manifest was already written".into(),
            ));
        }
        state.write_metadata(&man)
    }

    fn put_signatures(&self, sigs: &[Signature], _instance: Option<&Digest>) -> Result<()> {
        if sigs.is_empty() {
            return Ok(());
        }
        Err(Error::Unsupported(
            "Storing signatures for docker tar files is not supported".into(),
        ))
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let state = self
            .state
            .into_inner()
            .map_err(|_| Error::Other("docker-archive destination: lock poisoned".into()))?;
        let Some(item) = &state.item else {
            return Err(Error::Other(
                "docker-archive: commit without a manifest".into(),
            ));
        };
        let manifest_json = state.manifest_json(item);
        let pairs: Vec<(String, String)> = state
            .repo_tags
            .iter()
            .map(|t| (t.name.clone(), t.tag.clone()))
            .collect();
        let repositories = legacy::repositories(&pairs, item.top_id.as_deref());
        let mut writer = state.writer;
        writer.append_bytes(&file_spec("manifest.json"), &manifest_json)?;
        writer.append_bytes(&file_spec("repositories"), &repositories)?;
        writer.finish()
    }
}
