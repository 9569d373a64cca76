//! Writing an oci-archive as a stream of tar entries: blobs as they come, `index.json`
//! and `oci-layout` at commit. Nothing is staged on disk: blob sizes are normally known
//! from the manifest; when one is not (the engine is compressing), its header is patched
//! after the data.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use ferry_manifest::mime;
use ferry_reference::{Algorithm, Digest};

use super::{REF_NAME, declared_mime};
use crate::context::SystemContext;
use crate::error::{Error, Result};
use crate::transport::reference::OciArchiveRef;
use crate::transport::tarfile::gojson;
use crate::transport::tarfile::header::{HeaderSpec, TYPE_DIR, TYPE_REG};
use crate::transport::tarfile::writer::{Existing, TarWriter};
use crate::transport::{DestinationProperties, ImageDestination, LayerCompression};
use crate::types::{BlobInfo, PutBlobInfo, RawManifest};

/// `oci-layout`, as c/image writes it (with the space).
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion": "1.0.0"}"#;

/// An oci-archive being written.
pub struct OciArchiveDestination {
    props: DestinationProperties,
    state: Mutex<State>,
}

struct State {
    writer: TarWriter,
    name: Option<String>,
    mtime: i64,
    blobs: HashMap<Digest, u64>,
    dirs: HashSet<Algorithm>,
    /// The top-level manifest: (media type, digest, size).
    top: Option<(String, Digest, u64)>,
}

impl OciArchiveDestination {
    /// Opens `oci-archive:PATH[:reference]` for writing (the file is replaced at commit).
    pub fn open(r: &OciArchiveRef, ctx: &SystemContext) -> Result<OciArchiveDestination> {
        if let Some(i) = r.index {
            return Err(Error::InvalidReference(format!(
                "Destination reference must not contain a manifest index @{i}"
            )));
        }
        Self::create(
            &r.path,
            r.name.as_deref().filter(|n| !n.is_empty()),
            ctx.oci_accept_uncompressed_layers,
        )
    }

    /// Creates an archive at `path` whose index names the image `name`.
    pub fn create(
        path: &Path,
        name: Option<&str>,
        accept_uncompressed_layers: bool,
    ) -> Result<OciArchiveDestination> {
        let writer = TarWriter::create(path, Existing::Overwrite)?;
        let props = DestinationProperties {
            supported_manifest_types: Some(vec![mime::OCI_MANIFEST, mime::OCI_INDEX]),
            desired_layer_compression: if accept_uncompressed_layers {
                LayerCompression::Preserve
            } else {
                LayerCompression::Compress
            },
            supports_signatures: false,
            parallel_put_blob: false,
            needs_known_size: !writer.seekable(),
            supports_lists: true,
        };
        let mtime = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let mut state = State {
            writer,
            name: name.map(str::to_string),
            mtime,
            blobs: HashMap::new(),
            dirs: HashSet::new(),
            top: None,
        };
        state.dir("blobs/")?;
        state.algo_dir(Algorithm::Sha256)?;
        Ok(OciArchiveDestination {
            props,
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| Error::Other("oci-archive destination: lock poisoned".into()))
    }
}

fn blob_name(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().name(), d.hex())
}

impl State {
    fn file_spec<'a>(&self, name: &'a str) -> HeaderSpec<'a> {
        HeaderSpec {
            name,
            typeflag: TYPE_REG,
            mode: 0o100644,
            size: 0,
            mtime: self.mtime,
            uname: "root",
            gname: "root",
            linkname: "",
        }
    }

    fn dir(&mut self, name: &str) -> Result<()> {
        let spec = HeaderSpec {
            typeflag: TYPE_DIR,
            mode: 0o40755,
            ..self.file_spec(name)
        };
        self.writer.append_bytes(&spec, b"")
    }

    fn algo_dir(&mut self, a: Algorithm) -> Result<()> {
        if self.dirs.insert(a) {
            self.dir(&format!("blobs/{}/", a.name()))?;
        }
        Ok(())
    }

    fn put_bytes_blob(&mut self, digest: &Digest, data: &[u8]) -> Result<()> {
        if self.blobs.contains_key(digest) {
            return Ok(());
        }
        self.algo_dir(digest.algorithm())?;
        let name = blob_name(digest);
        let spec = self.file_spec(&name);
        self.writer.append_bytes(&spec, data)?;
        self.blobs.insert(digest.clone(), data.len() as u64);
        Ok(())
    }

    /// index.json as c/image's oci: layout writes it for a fresh layout.
    fn index_json(&self, media_type: &str, digest: &Digest, size: u64) -> Vec<u8> {
        let annotations = match &self.name {
            Some(n) => format!(
                ",\"annotations\":{{{}:{}}}",
                gojson::string(REF_NAME),
                gojson::string(n)
            ),
            None => String::new(),
        };
        format!(
            "{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":{},\"digest\":\"{digest}\",\"size\":{size}{annotations}}}]}}",
            gojson::string(media_type)
        )
        .into_bytes()
    }
}

impl ImageDestination for OciArchiveDestination {
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
        if let Some(d) = &info.digest {
            if let Some(&size) = state.blobs.get(d) {
                return Ok(BlobInfo::new(d.clone(), Some(size)));
            }
            state.algo_dir(d.algorithm())?;
        }
        let name = info.digest.as_ref().map(blob_name).unwrap_or_default();
        let start = state.writer.position();
        let spec = state.file_spec(&name);
        let streamed = state
            .writer
            .append_stream(&spec, info.size, data, &blob_name)?;
        let digest = match (&info.digest, streamed.digest) {
            (Some(d), _) => d.clone(),
            (None, Some(d)) => {
                if let Some(&size) = state.blobs.get(&d) {
                    state.writer.truncate_to(start)?;
                    return Ok(BlobInfo::new(d, Some(size)));
                }
                d
            }
            (None, None) => return Err(Error::Other("internal error: blob digest unknown".into())),
        };
        state.blobs.insert(digest.clone(), streamed.size);
        Ok(BlobInfo {
            digest,
            size: Some(streamed.size),
            media_type: info.media_type.clone(),
        })
    }

    fn put_manifest(&self, manifest: &RawManifest, instance: Option<&Digest>) -> Result<()> {
        let digest = match instance {
            Some(d) => d.clone(),
            None => Digest::sha256_of(&manifest.bytes),
        };
        let mut state = self.lock()?;
        state.put_bytes_blob(&digest, &manifest.bytes)?;
        if instance.is_none() {
            let media_type = if manifest.mime.is_empty() {
                declared_mime(&manifest.bytes)
            } else {
                manifest.mime.clone()
            };
            state.top = Some((media_type, digest, manifest.bytes.len() as u64));
        }
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let mut state = self
            .state
            .into_inner()
            .map_err(|_| Error::Other("oci-archive destination: lock poisoned".into()))?;
        let Some((media_type, digest, size)) = state.top.clone() else {
            return Err(Error::Other(
                "oci-archive: commit without a manifest".into(),
            ));
        };
        let index = state.index_json(&media_type, &digest, size);
        let spec = state.file_spec("index.json");
        state.writer.append_bytes(&spec, &index)?;
        let spec = state.file_spec("oci-layout");
        state.writer.append_bytes(&spec, OCI_LAYOUT)?;
        state.writer.finish()
    }
}
