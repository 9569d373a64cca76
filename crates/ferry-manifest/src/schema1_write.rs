//! Writing schema1 manifests, as c/image does when copying with `--format v2s1`:
//! schema2/OCI → schema1 (`manifestSchema2.convertToManifestSchema1`: one fsLayer per
//! config history entry, empty layers as the gzipped empty tar, fake v1 IDs derived from
//! the layer digests, the config patched into the top `v1Compatibility`), schema1 →
//! schema1 with new layers or a new embedded reference (`Schema1.UpdateLayerInfos`), and
//! the ephemeral-key signature every schema1 manifest gets (`AddDummyV2S1Signature`).

use std::collections::BTreeMap;

use ferry_reference::Digest;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::ManifestError;
use crate::config::ImageConfig;
use crate::gojson::{self, GoTime};
use crate::jws::{self, JwsSigner};
use crate::schema1::Schema1;

/// c/image `GzippedEmptyLayer`: a gzipped empty tar (1024 zero bytes), the blob of every
/// empty layer in a schema1 manifest.
pub const GZIPPED_EMPTY_LAYER: [u8; 32] = [
    31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 98, 24, 5, 163, 96, 20, 140, 88, 0, 8, 0, 0, 255, 255,
    46, 175, 181, 239, 0, 4, 0, 0,
];

/// The digest of [`GZIPPED_EMPTY_LAYER`].
pub fn gzipped_empty_layer_digest() -> Digest {
    Digest::sha256_of(&GZIPPED_EMPTY_LAYER)
}

/// How a schema1 manifest is written.
pub struct Schema1Options<'a> {
    /// The embedded `name` (repository path) and `tag`: for conversions, the destination's
    /// Docker reference (`("", "")` when it has none); for schema1 sources, `Some` replaces
    /// the current values and `None` keeps them.
    pub reference: Option<(&'a str, &'a str)>,
    pub signer: &'a dyn JwsSigner,
    /// The signature's timestamp (RFC 3339, UTC, seconds).
    pub time: &'a str,
}

/// A written schema1 manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema1Output {
    /// The signed manifest.
    pub bytes: Vec<u8>,
    /// Whether it refers to [`GZIPPED_EMPTY_LAYER`], which the destination must then have.
    pub uses_empty_layer: bool,
}

#[derive(Serialize)]
struct FsLayerOut<'a> {
    #[serde(rename = "blobSum")]
    blob_sum: &'a Digest,
}

#[derive(Serialize)]
struct HistoryOut<'a> {
    #[serde(rename = "v1Compatibility")]
    v1_compatibility: &'a str,
}

/// c/image `manifest.Schema1` in its JSON field order.
#[derive(Serialize)]
struct Schema1Out<'a> {
    name: &'a str,
    tag: &'a str,
    architecture: &'a str,
    #[serde(rename = "fsLayers")]
    fs_layers: Vec<FsLayerOut<'a>>,
    history: Vec<HistoryOut<'a>>,
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
}

#[derive(Serialize)]
struct CmdOnly {
    #[serde(rename = "Cmd")]
    cmd: Vec<String>,
}

/// c/image `Schema1V1Compatibility` as marshalled for the fake layer entries.
#[derive(Serialize)]
struct FakeImage<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    parent: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    comment: &'a str,
    created: GoTime,
    container_config: CmdOnly,
    #[serde(skip_serializing_if = "str::is_empty")]
    author: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    throwaway: bool,
}

fn serialize_signed(
    name: &str,
    tag: &str,
    architecture: &str,
    fs_layers: &[Digest],
    history: &[String],
    opts: &Schema1Options<'_>,
) -> Result<Vec<u8>, ManifestError> {
    let out = Schema1Out {
        name,
        tag,
        architecture,
        fs_layers: fs_layers
            .iter()
            .map(|d| FsLayerOut { blob_sum: d })
            .collect(),
        history: history
            .iter()
            .map(|h| HistoryOut {
                v1_compatibility: h,
            })
            .collect(),
        schema_version: 1,
    };
    let unsigned = gojson::to_vec(&out)?;
    jws::sign_pretty(&unsigned, opts.signer, opts.time)
}

/// c/image `v1IDFromBlobDigestAndComponents`.
fn v1_id(blob: &Digest, others: &[&str]) -> String {
    let mut parts = vec![blob.hex()];
    parts.extend_from_slice(others);
    Digest::sha256_of(parts.join(" ").as_bytes())
        .hex()
        .to_string()
}

/// c/image `v1ConfigFromConfigJSON`: the config without `rootfs`/`history`, with the
/// fake layer ID, parent and throwaway flag set; keys sorted, values compacted.
fn v1_config(
    config: &[u8],
    id: &str,
    parent: &str,
    throwaway: bool,
) -> Result<String, ManifestError> {
    let parsed: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(config)?;
    let mut raw: BTreeMap<String, String> = parsed
        .into_iter()
        .filter(|(k, _)| k != "rootfs" && k != "history")
        .map(|(k, v)| (k, gojson::compact(v.get())))
        .collect();
    raw.insert("id".into(), json_string(&id)?);
    if !parent.is_empty() {
        raw.insert("parent".into(), json_string(&parent)?);
    }
    if throwaway {
        raw.insert("throwaway".into(), json_string(&true)?);
    }
    let mut out = String::from("{");
    for (i, (k, v)) in raw.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&json_string(k)?);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    Ok(out)
}

/// `json.Marshal` of a single value, as a string.
fn json_string<T: Serialize + ?Sized>(v: &T) -> Result<String, ManifestError> {
    Ok(String::from_utf8_lossy(&gojson::to_vec(v)?).into_owned())
}

/// schema2/OCI → schema1 (c/image `convertToManifestSchema1`). `source_layers` are the
/// source manifest's layer digests (the fake v1 IDs derive from them), `new_layers` the
/// digests as copied (written as `blobSum`s), both base first; `config` is the source
/// config blob.
pub(crate) fn from_image(
    source_layers: &[Digest],
    new_layers: &[Digest],
    config: &[u8],
    opts: &Schema1Options<'_>,
) -> Result<Schema1Output, ManifestError> {
    if source_layers.len() != new_layers.len() {
        return Err(ManifestError::Invalid(format!(
            "Error converting image: layer edits for {} layers vs {} existing layers",
            new_layers.len(),
            source_layers.len()
        )));
    }
    let image = ImageConfig::parse(config)?;
    let n = image.history.len();
    if n == 0 {
        return Err(ManifestError::Conversion(format!(
            "Cannot convert an image with 0 history entries to {}",
            crate::mime::DOCKER_V2S1_SIGNED
        )));
    }
    let empty = gzipped_empty_layer_digest();
    let mut fs_layers: Vec<Digest> = vec![empty.clone(); n];
    let mut id_sources: Vec<Digest> = vec![empty.clone(); n];
    let mut history: Vec<String> = vec![String::new(); n];
    let mut uses_empty_layer = false;
    let mut non_empty = 0usize;
    let mut parent = String::new();
    let mut id = String::new();
    for (v2, h) in image.history.iter().enumerate() {
        parent = std::mem::take(&mut id);
        let v1 = n - 1 - v2;
        let (blob, id_source) = if h.empty_layer {
            uses_empty_layer = true;
            (empty.clone(), empty.clone())
        } else {
            let (Some(new), Some(src)) = (new_layers.get(non_empty), source_layers.get(non_empty))
            else {
                return Err(ManifestError::Conversion(format!(
                    "Invalid image configuration, needs more than the {} distributed layers",
                    source_layers.len()
                )));
            };
            non_empty += 1;
            (new.clone(), src.clone())
        };
        id = v1_id(&id_source, &[&parent]);
        let fake = FakeImage {
            id: &id,
            parent: &parent,
            comment: &h.comment,
            created: h.created.unwrap_or_default(),
            container_config: CmdOnly {
                cmd: vec![h.created_by.clone()],
            },
            author: &h.author,
            throwaway: h.empty_layer,
        };
        history[v1] = String::from_utf8_lossy(&gojson::to_vec(&fake)?).into_owned();
        fs_layers[v1] = blob;
        id_sources[v1] = id_source;
    }
    // The top entry carries the real configuration.
    let config_text = String::from_utf8_lossy(config);
    let top_id = v1_id(&id_sources[0], &[&parent, &config_text]);
    let top_throwaway = image.history.last().is_some_and(|h| h.empty_layer);
    history[0] = v1_config(config, &top_id, &parent, top_throwaway)?;
    let (name, tag) = opts.reference.unwrap_or(("", ""));
    let bytes = serialize_signed(name, tag, &image.architecture, &fs_layers, &history, opts)?;
    Ok(Schema1Output {
        bytes,
        uses_empty_layer,
    })
}

/// schema1 → schema1 with the layers as copied (`new_layers`, base first, throwaway
/// layers included) and possibly a new embedded reference; always re-signed.
pub(crate) fn from_schema1(
    s: &Schema1,
    new_layers: &[Digest],
    opts: &Schema1Options<'_>,
) -> Result<Schema1Output, ManifestError> {
    if new_layers.len() != s.fs_layers.len() {
        return Err(ManifestError::Invalid(format!(
            "Error preparing updated manifest: layer count changed from {} to {}",
            s.fs_layers.len(),
            new_layers.len()
        )));
    }
    let fs_layers: Vec<Digest> = new_layers.iter().rev().cloned().collect();
    let (name, tag) = opts.reference.unwrap_or((s.name.as_str(), s.tag.as_str()));
    let bytes = serialize_signed(name, tag, &s.architecture, &fs_layers, &s.history, opts)?;
    Ok(Schema1Output {
        bytes,
        uses_empty_layer: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_layer_digest_is_cimages() {
        assert_eq!(
            gzipped_empty_layer_digest().to_string(),
            "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
        );
    }

    #[test]
    fn v1_ids_join_with_spaces() -> Result<(), ManifestError> {
        // skopeo 1.9.3 wrote id 5bf49046… for a base layer d53c594d… (no parent).
        let base = Digest::parse(
            "sha256:d53c594dbf36a30ca127a02c4959b8f7323851dbe694fe847fa5b7934d1913ea",
        )?;
        assert_eq!(
            v1_id(&base, &[""]),
            "5bf49046022e14a86f1e7e9bf566aafed4efdddf31ffe66d9d3c479a4583f224"
        );
        Ok(())
    }

    #[test]
    fn v1_config_sorts_and_patches() -> Result<(), ManifestError> {
        let out = v1_config(
            br#"{"os":"linux","rootfs":{"type":"layers"},"history":[],"architecture":"amd64","config":{ "Cmd" : ["a&b"] }}"#,
            "ID",
            "P",
            true,
        )?;
        assert_eq!(
            out,
            r#"{"architecture":"amd64","config":{"Cmd":["a\u0026b"]},"id":"ID","os":"linux","parent":"P","throwaway":true}"#
        );
        Ok(())
    }
}
