//! Docker schema1 manifests (signed and unsigned): parsing with c/image's validation,
//! layer order, the JWS payload used for the digest, and the schema2 config that
//! c/image builds from `history[].v1Compatibility`.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use ferry_reference::Digest;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::config::{DockerV1Image, History, version_less_than};
use crate::gojson::{self, GoTime};
use crate::{Descriptor, LayerInfo, ManifestError};

#[derive(Deserialize)]
struct FsLayer {
    #[serde(rename = "blobSum")]
    blob_sum: Digest,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HistoryEntry {
    #[serde(rename = "v1Compatibility")]
    v1_compatibility: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Wire {
    name: String,
    tag: String,
    architecture: String,
    #[serde(rename = "fsLayers")]
    fs_layers: Vec<FsLayer>,
    history: Vec<HistoryEntry>,
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1CompatCmd {
    #[serde(rename = "Cmd")]
    cmd: Option<Vec<String>>,
}

/// c/image `Schema1V1Compatibility`: the fields of a v1Compatibility entry it uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1Compatibility {
    pub id: String,
    pub parent: String,
    pub comment: String,
    pub created: GoTime,
    pub created_by: Vec<String>,
    pub author: String,
    pub throwaway: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1CompatWire {
    id: String,
    parent: String,
    comment: String,
    created: GoTime,
    container_config: V1CompatCmd,
    author: String,
    throwaway: bool,
}

/// A parsed schema1 manifest. `fs_layers`, `history` and `compat` are index-aligned, top
/// layer first (as in the JSON), after c/image's `fixManifestLayers` dropped consecutive
/// duplicate IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema1 {
    pub name: String,
    pub tag: String,
    pub architecture: String,
    pub fs_layers: Vec<Digest>,
    /// Raw `v1Compatibility` strings.
    pub history: Vec<String>,
    pub compat: Vec<V1Compatibility>,
}

fn invalid(msg: impl Into<String>) -> ManifestError {
    ManifestError::Invalid(msg.into())
}

fn is_v1_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Schema1 {
    /// c/image `Schema1FromManifest`.
    pub fn parse(bytes: &[u8]) -> Result<Schema1, ManifestError> {
        let w: Wire = gojson::from_slice(bytes)?;
        if w.schema_version != 1 {
            return Err(invalid(format!(
                "unsupported schema version {}",
                w.schema_version
            )));
        }
        crate::parse::validate_unambiguous(
            bytes,
            crate::mime::DOCKER_V2S1_SIGNED,
            crate::parse::Fields::FS_LAYERS | crate::parse::Fields::HISTORY,
        )?;
        if w.fs_layers.len() != w.history.len() {
            return Err(invalid("length of history not equal to number of layers"));
        }
        if w.fs_layers.is_empty() {
            return Err(invalid("no FSLayers in manifest"));
        }
        let mut compat = Vec::with_capacity(w.history.len());
        for (i, h) in w.history.iter().enumerate() {
            let c: V1CompatWire = gojson::from_slice(h.v1_compatibility.as_bytes())
                .map_err(|e| invalid(format!("parsing v2s2 manifest history entry {i}: {e}")))?;
            compat.push(V1Compatibility {
                id: c.id,
                parent: c.parent,
                comment: c.comment,
                created: c.created,
                created_by: c.container_config.cmd.unwrap_or_default(),
                author: c.author,
                throwaway: c.throwaway,
            });
        }
        let mut s = Schema1 {
            name: w.name,
            tag: w.tag,
            architecture: w.architecture,
            fs_layers: w.fs_layers.into_iter().map(|l| l.blob_sum).collect(),
            history: w.history.into_iter().map(|h| h.v1_compatibility).collect(),
            compat,
        };
        s.fix_manifest_layers()?;
        Ok(s)
    }

    /// c/image `fixManifestLayers`: validates IDs and parent links, drops consecutive
    /// duplicates.
    fn fix_manifest_layers(&mut self) -> Result<(), ManifestError> {
        for c in &self.compat {
            if !is_v1_id(&c.id) {
                return Err(invalid(format!("image ID {:?} is invalid", c.id)));
            }
        }
        if self.compat.last().is_some_and(|c| !c.parent.is_empty()) {
            return Err(invalid("Invalid parent ID in the base layer of the image"));
        }
        let mut seen = HashSet::new();
        let mut last = "";
        for c in &self.compat {
            if c.id != last && seen.contains(c.id.as_str()) {
                return Err(invalid(format!(
                    "ID {} appears multiple times in manifest",
                    c.id
                )));
            }
            last = &c.id;
            seen.insert(c.id.as_str());
        }
        for i in (0..self.compat.len().saturating_sub(1)).rev() {
            if self.compat[i].id == self.compat[i + 1].id {
                self.fs_layers.remove(i);
                self.history.remove(i);
                self.compat.remove(i);
            } else if self.compat[i].parent != self.compat[i + 1].id {
                return Err(invalid(format!(
                    "Invalid parent ID. Expected {}, got {}",
                    self.compat[i + 1].id,
                    self.compat[i].parent
                )));
            }
        }
        Ok(())
    }

    /// Layers base first; size unknown (-1), no media type; throwaway layers flagged.
    pub fn layer_infos(&self) -> Vec<LayerInfo> {
        self.fs_layers
            .iter()
            .zip(&self.compat)
            .rev()
            .map(|(digest, c)| LayerInfo {
                descriptor: Descriptor::new("", digest.clone(), -1),
                empty_layer: c.throwaway,
            })
            .collect()
    }

    /// The image JSON of the top layer (`history[0]`), which schema1 readers treat as
    /// the image config.
    pub fn v1_image(&self) -> Result<DockerV1Image, ManifestError> {
        let top = self.history.first().ok_or_else(|| invalid("no history"))?;
        Ok(gojson::from_slice(top.as_bytes())?)
    }

    /// Number of non-throwaway layers (the layers a converted image keeps).
    pub fn non_empty_layer_count(&self) -> usize {
        self.compat.iter().filter(|c| !c.throwaway).count()
    }

    /// c/image `Schema1.ToSchema2Config`: a schema2 config built from the top
    /// v1Compatibility with history and rootfs added. `diff_ids` are the DiffIDs of the
    /// non-throwaway layers, base first (`""` when unknown, as skopeo's inspect uses).
    pub fn to_schema2_config(&self, diff_ids: &[String]) -> Result<Vec<u8>, ManifestError> {
        let top = self.history.first().ok_or_else(|| invalid("no history"))?;
        let s1: DockerV1Image = gojson::from_slice(top.as_bytes())
            .map_err(|e| invalid(format!("decoding configuration: {e}")))?;
        let mut config = top.clone();
        if !s1.docker_version.is_empty() && version_less_than(&s1.docker_version, "1.8.3") {
            config = String::from_utf8_lossy(&gojson::to_vec(&s1)?).into_owned();
        }
        #[derive(serde::Serialize)]
        struct Schema2History<'a> {
            created: &'a GoTime,
            #[serde(skip_serializing_if = "str::is_empty")]
            author: &'a str,
            #[serde(skip_serializing_if = "String::is_empty")]
            created_by: String,
            #[serde(skip_serializing_if = "str::is_empty")]
            comment: &'a str,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            empty_layer: bool,
        }
        let history: Vec<Schema2History<'_>> = self
            .compat
            .iter()
            .rev()
            .map(|c| Schema2History {
                created: &c.created,
                author: &c.author,
                created_by: c.created_by.join(" "),
                comment: &c.comment,
                empty_layer: c.throwaway,
            })
            .collect();
        #[derive(serde::Serialize)]
        struct RootFs<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            diff_ids: &'a [String],
        }
        let mut raw: BTreeMap<String, String> = BTreeMap::new();
        let parsed: BTreeMap<String, Box<RawValue>> = serde_json::from_str(&config)
            .map_err(|e| invalid(format!("re-decoding compat image config: {e}")))?;
        for (k, v) in parsed {
            if !matches!(
                k.as_str(),
                "id" | "parent" | "parent_id" | "layer_id" | "throwaway" | "Size"
            ) {
                raw.insert(k, gojson::compact(v.get()));
            }
        }
        let rootfs = RootFs {
            kind: "layers",
            diff_ids,
        };
        raw.insert("rootfs".into(), bytes_to_string(gojson::to_vec(&rootfs)?));
        raw.insert("history".into(), bytes_to_string(gojson::to_vec(&history)?));
        let mut out = String::from("{");
        for (i, (k, v)) in raw.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&bytes_to_string(gojson::to_vec(k)?));
            out.push(':');
            out.push_str(v);
        }
        out.push('}');
        Ok(out.into_bytes())
    }

    /// The config history in schema2 form (what [`Self::to_schema2_config`] embeds).
    pub fn schema2_history(&self) -> Vec<History> {
        self.compat
            .iter()
            .rev()
            .map(|c| History {
                created: Some(c.created),
                created_by: c.created_by.join(" "),
                author: c.author.clone(),
                comment: c.comment.clone(),
                empty_layer: c.throwaway,
            })
            .collect()
    }
}

fn bytes_to_string(b: Vec<u8>) -> String {
    String::from_utf8_lossy(&b).into_owned()
}

fn jose_b64_decode(s: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct ParsedSignature {
    #[serde(default)]
    protected: String,
}

/// docker/libtrust `ParsePrettySignature(content, "signatures")` + `Payload()`: the bytes
/// that were signed, `content[..formatLength] + formatTail` from the protected headers.
pub fn signed_payload(content: &[u8]) -> Result<Vec<u8>, ManifestError> {
    let map: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(content)
        .map_err(|e| invalid(format!("error unmarshalling content: {e}")))?;
    let sigs = map
        .get("signatures")
        .ok_or_else(|| invalid("missing signature key"))?;
    let blocks: Option<Vec<ParsedSignature>> = gojson::from_slice(sigs.get().as_bytes())
        .map_err(|e| invalid(format!("error unmarshalling signatures: {e}")))?;
    let mut format: Option<(usize, Vec<u8>)> = None;
    for block in blocks.unwrap_or_default() {
        let protected = jose_b64_decode(&block.protected)
            .map_err(|e| invalid(format!("base64 decode error: {e}")))?;
        let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&protected)
            .map_err(|e| invalid(format!("error unmarshalling protected header: {e}")))?;
        let length = header
            .get("formatLength")
            .and_then(serde_json::Value::as_f64)
            .filter(|l| *l >= 0.0)
            .ok_or_else(|| invalid("invalid format length"))? as usize;
        let tail = header
            .get("formatTail")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("invalid format tail"))?;
        let tail = jose_b64_decode(tail)
            .map_err(|e| invalid(format!("base64 decode error on tail: {e}")))?;
        if length > content.len() {
            return Err(invalid("invalid format length"));
        }
        match &format {
            None => format = Some((length, tail)),
            Some((l, t)) => {
                if *l != length {
                    return Err(invalid("conflicting format length"));
                }
                if *t != tail {
                    return Err(invalid("conflicting format tail"));
                }
            }
        }
    }
    let (length, tail) = format.unwrap_or_default();
    let mut payload = content[..length].to_vec();
    payload.extend_from_slice(&tail);
    Ok(payload)
}
