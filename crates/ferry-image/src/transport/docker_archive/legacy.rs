//! The legacy (pre-1.10 `docker load`) metadata c/image's tarfile writer adds: one
//! `<v1id>/` directory per layer with `VERSION`, `json` and a `layer.tar` symlink, and the
//! `repositories` file. The v1 IDs are computed exactly as c/image 5.23 does:
//! `chain = diffID₀, then sha256("<chain> <diffIDᵢ>")`; `id = sha256(json{layer_id: chain,
//! parent, [top layer: 7 config attributes]})`; the stored `json` has `id` instead of
//! `layer_id`. Maps are marshalled with sorted keys, raw config values compacted with
//! HTML escaping, as Go's `json.Marshal` does.

use std::collections::BTreeMap;

use ferry_reference::{Algorithm, Digest};

use crate::transport::tarfile::gojson;

/// Config attributes copied into the top layer's `json`.
const TOP_LAYER_ATTRS: [&str; 7] = [
    "architecture",
    "config",
    "container",
    "container_config",
    "created",
    "docker_version",
    "os",
];

/// One legacy layer directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LegacyLayer {
    /// The v1 ID (64 hex characters): the directory name.
    pub id: String,
    /// The layer's DiffID (its `<hex>.tar` is the symlink target).
    pub diff_id: Digest,
    /// Content of `<id>/json`.
    pub json: Vec<u8>,
}

/// Computes the legacy layer entries for an image, in layer order (duplicates included;
/// the writer skips IDs it has already written).
pub(crate) fn legacy_layers(layers: &[Digest], config: &[u8]) -> Result<Vec<LegacyLayer>, String> {
    let top_attrs: Vec<(&str, Vec<u8>)> = if layers.is_empty() {
        Vec::new()
    } else {
        let _: serde_json::Value =
            serde_json::from_slice(config).map_err(|e| format!("unmarshaling config: {e}"))?;
        let members =
            gojson::object_members(config).map_err(|e| format!("unmarshaling config: {e}"))?;
        TOP_LAYER_ATTRS
            .iter()
            .map(|attr| {
                // Go's map decoding keeps the last duplicate.
                let raw = members
                    .iter()
                    .rev()
                    .find(|(k, _)| k == attr)
                    .map(|(_, v)| gojson::compact(v))
                    .unwrap_or_else(|| b"null".to_vec());
                (*attr, raw)
            })
            .collect()
    };
    let mut out = Vec::with_capacity(layers.len());
    let mut chain: Option<String> = None;
    let mut last_id: Option<String> = None;
    for (i, diff_id) in layers.iter().enumerate() {
        let mut fields: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
        if let Some(parent) = &last_id {
            fields.insert("parent", gojson::string(parent).into_bytes());
        }
        if i == layers.len() - 1 {
            for (k, v) in &top_attrs {
                fields.insert(k, v.clone());
            }
        }
        let next_chain = match &chain {
            None => diff_id.to_string(),
            Some(c) => Algorithm::Sha256
                .digest_bytes(format!("{c} {diff_id}").as_bytes())
                .to_string(),
        };
        fields.insert("layer_id", gojson::string(&next_chain).into_bytes());
        let id = Algorithm::Sha256
            .digest_bytes(&marshal(&fields))
            .hex()
            .to_string();
        fields.remove("layer_id");
        fields.insert("id", gojson::string(&id).into_bytes());
        out.push(LegacyLayer {
            id: id.clone(),
            diff_id: diff_id.clone(),
            json: marshal(&fields),
        });
        chain = Some(next_chain);
        last_id = Some(id);
    }
    Ok(out)
}

/// A Go `map[string]any` marshalled: keys sorted, values already encoded.
fn marshal(fields: &BTreeMap<&str, Vec<u8>>) -> Vec<u8> {
    let mut out = b"{".to_vec();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(gojson::string(k).as_bytes());
        out.push(b':');
        out.extend_from_slice(v);
    }
    out.push(b'}');
    out
}

/// The `repositories` file: `{"name":{"tag":"<top v1 id>"}}`, keys sorted; `{}` when the
/// image has no layers or no tags.
pub(crate) fn repositories(tags: &[(String, String)], top_id: Option<&str>) -> Vec<u8> {
    let mut map: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    if let Some(id) = top_id {
        for (name, tag) in tags {
            map.entry(name).or_default().insert(tag, id);
        }
    }
    let mut out = String::from("{");
    for (i, (name, tags)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&gojson::string(name));
        out.push_str(":{");
        for (j, (tag, id)) in tags.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(&gojson::string(tag));
            out.push(':');
            out.push_str(&gojson::string(id));
        }
        out.push('}');
    }
    out.push('}');
    out.into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn d(s: &str) -> Digest {
        Digest::parse(s).unwrap()
    }

    /// Values from `skopeo copy oci:… docker-archive:…` (skopeo 1.9.3) on a two-layer image.
    #[test]
    fn v1_ids_match_skopeo() {
        let config = br#"{
  "created": "2024-01-01T00:00:00Z",
  "architecture": "amd64",
  "os": "linux",
  "config": {
    "Env": [
      "PATH=/usr/bin",
      "X=<a&b>"
    ],
    "Cmd": [
      "/bin/sh"
    ]
  },
  "rootfs": {"type": "layers"}
}"#;
        let layers = [
            d("sha256:0eb59a71d7ebc83d1eb856d517b31862050163d95089dd4e4b31b8f314d576a1"),
            d("sha256:d9f24435546cb4b0581c76dd86e3a051901a6c364b1652c2e962a5c889d5c60b"),
        ];
        let l = legacy_layers(&layers, config).unwrap();
        assert_eq!(
            l[0].id,
            "f7d0434544bf2c28fc8ccf73e70cb9a230975a6b9ed20b68a84554d6e0410d37"
        );
        assert_eq!(
            String::from_utf8(l[0].json.clone()).unwrap(),
            r#"{"id":"f7d0434544bf2c28fc8ccf73e70cb9a230975a6b9ed20b68a84554d6e0410d37"}"#
        );
        assert_eq!(
            l[1].id,
            "9e7c009c8855ea12eaf3ec1c6fab936e35ac89dba5038a0be53108104ce7eab2"
        );
        assert_eq!(
            String::from_utf8(l[1].json.clone()).unwrap(),
            r#"{"architecture":"amd64","config":{"Env":["PATH=/usr/bin","X=\u003ca\u0026b\u003e"],"Cmd":["/bin/sh"]},"container":null,"container_config":null,"created":"2024-01-01T00:00:00Z","docker_version":null,"id":"9e7c009c8855ea12eaf3ec1c6fab936e35ac89dba5038a0be53108104ce7eab2","os":"linux","parent":"f7d0434544bf2c28fc8ccf73e70cb9a230975a6b9ed20b68a84554d6e0410d37"}"#
        );
        assert!(legacy_layers(&layers, b"not json").is_err());
        assert!(legacy_layers(&[], b"not json").unwrap().is_empty());
    }

    #[test]
    fn repositories_sorted() {
        let tags = vec![
            (
                "docker.io/library/busybox".to_string(),
                "latest".to_string(),
            ),
            ("docker.io/foo/bar".to_string(), "v1".to_string()),
        ];
        assert_eq!(
            String::from_utf8(repositories(&tags, Some("ab"))).unwrap(),
            r#"{"docker.io/foo/bar":{"v1":"ab"},"docker.io/library/busybox":{"latest":"ab"}}"#
        );
        assert_eq!(repositories(&tags, None), b"{}");
        assert_eq!(repositories(&[], Some("ab")), b"{}");
    }
}
