//! `index.json` of an OCI layout, read and written exactly as containers/image 5.23 does.
//!
//! skopeo unmarshals index.json into image-spec's Go structs and marshals them back with
//! `json.Marshal`, so the file it writes has Go's field order, `omitempty` rules, sorted
//! annotation keys, HTML-escaped strings, no trailing newline, and drops fields those
//! structs do not know (e.g. an index-level `subject`). The structs below mirror those Go
//! types field for field; [`to_go_json`] reproduces Go's string escaping.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// The annotation that names an index entry (`oci:PATH:NAME`).
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// image-spec `v1.Index`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OciIndex {
    #[serde(rename = "schemaVersion", default, deserialize_with = "nullable")]
    pub schema_version: i64,
    #[serde(
        rename = "mediaType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub manifests: Vec<Descriptor>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// image-spec `v1.Descriptor` (the version vendored by skopeo 1.9.3: with `data` and
/// `artifactType`). The digest stays a string, as Go's `digest.Digest` does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Descriptor {
    #[serde(
        rename = "mediaType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub media_type: String,
    #[serde(default, deserialize_with = "nullable")]
    pub digest: String,
    #[serde(default, deserialize_with = "nullable")]
    pub size: i64,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// Base64 (Go `[]byte`), kept verbatim.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub data: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(
        rename = "artifactType",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub artifact_type: String,
}

/// image-spec `v1.Platform`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Platform {
    #[serde(default, deserialize_with = "nullable")]
    pub architecture: String,
    #[serde(default, deserialize_with = "nullable")]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub os_version: String,
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub variant: String,
}

/// Go leaves a field at its zero value when the JSON says `null`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Descriptor {
    /// The entry's `ref.name` annotation, "" when absent (Go's map lookup).
    pub(crate) fn ref_name(&self) -> &str {
        self.annotations.get(REF_NAME).map_or("", String::as_str)
    }
}

impl OciIndex {
    /// The index skopeo starts from when the layout has none.
    pub(crate) fn new() -> OciIndex {
        OciIndex {
            schema_version: 2,
            ..OciIndex::default()
        }
    }

    /// Reads `path`; errors name the file.
    pub(crate) fn read(path: &Path) -> Result<OciIndex> {
        let bytes = fs_err::read(path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Other(format!("parsing {}: {e}", path.display())))
    }

    /// Reads `path`, or returns a fresh index when it does not exist.
    pub(crate) fn read_or_new(path: &Path) -> Result<OciIndex> {
        match std::fs::symlink_metadata(path) {
            Ok(_) => OciIndex::read(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(OciIndex::new()),
            Err(e) => Err(Error::io(format!("checking {}", path.display()), e)),
        }
    }

    /// The bytes skopeo writes for this index.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>> {
        to_go_json(self).map_err(|e| Error::Other(format!("encoding index.json: {e}")))
    }

    /// containers/image `ociImageDestination.addManifest`, reproduced exactly: a named new
    /// entry takes the name away from the *first* older entry holding it; then the new
    /// entry replaces the first unnamed entry with the same digest, or is appended.
    pub(crate) fn add_manifest(&mut self, desc: Descriptor) {
        let name = desc.ref_name().to_string();
        if !name.is_empty()
            && let Some(old) = self.manifests.iter_mut().find(|m| m.ref_name() == name)
        {
            old.annotations.remove(REF_NAME);
        }
        if let Some(slot) = self
            .manifests
            .iter_mut()
            .find(|m| m.digest == desc.digest && m.ref_name().is_empty())
        {
            *slot = desc;
            return;
        }
        self.manifests.push(desc);
    }
}

/// Serialises like Go's `json.Marshal`: compact, and strings escaped as Go does (`<`, `>`,
/// `&`, U+2028, U+2029 as `\uXXXX`; `\b` and `\f` as `\u0008`/`\u000c`).
pub(crate) fn to_go_json<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let esc = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
            writer.write_all(esc.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        use serde_json::ser::CharEscape;
        let byte = match char_escape {
            CharEscape::Quote => return writer.write_all(b"\\\""),
            CharEscape::ReverseSolidus => return writer.write_all(b"\\\\"),
            CharEscape::Solidus => return writer.write_all(b"/"),
            CharEscape::LineFeed => return writer.write_all(b"\\n"),
            CharEscape::CarriageReturn => return writer.write_all(b"\\r"),
            CharEscape::Tab => return writer.write_all(b"\\t"),
            CharEscape::Backspace => 0x08,
            CharEscape::FormFeed => 0x0c,
            CharEscape::AsciiControl(b) => b,
        };
        write!(writer, "\\u{byte:04x}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn desc(digest: &str, name: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: digest.into(),
            size: 1,
            annotations: name
                .map(|n| BTreeMap::from([(REF_NAME.to_string(), n.to_string())]))
                .unwrap_or_default(),
            ..Descriptor::default()
        }
    }

    fn summary(idx: &OciIndex) -> Vec<(String, String)> {
        idx.manifests
            .iter()
            .map(|m| (m.digest.clone(), m.ref_name().to_string()))
            .collect()
    }

    /// The sequence observed with skopeo 1.9.3 (copy A:t1, B:t1, A, A, B, B:t1).
    #[test]
    fn add_manifest_matches_skopeo_sequence() {
        let mut idx = OciIndex::new();
        idx.add_manifest(desc("A", Some("t1")));
        idx.add_manifest(desc("B", Some("t1")));
        assert_eq!(
            summary(&idx),
            [("A".into(), "".into()), ("B".into(), "t1".into())]
        );
        idx.add_manifest(desc("A", None));
        idx.add_manifest(desc("A", None));
        assert_eq!(idx.manifests.len(), 2);
        idx.add_manifest(desc("B", None));
        idx.add_manifest(desc("B", Some("t1")));
        assert_eq!(
            summary(&idx),
            [
                ("A".into(), "".into()),
                ("B".into(), "t1".into()),
                ("B".into(), "".into())
            ]
        );
        // The entry that lost its name also lost the now-empty annotations map.
        assert!(idx.manifests[0].annotations.is_empty());
    }

    #[test]
    fn go_json_bytes() {
        let input = r#"{"schemaVersion":2,"subject":{"x":1},"annotations":{"b":"2","a":"1"},
            "mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{"platform":{"os":"linux","architecture":"amd64","variant":"v8",
            "os.features":["a"],"features":["z"]},"foo":1,"data":"e30=","artifactType":"application/x",
            "urls":["http://x"],"annotations":{"z":"<&>\u2028é\b","a":"1"},
            "mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:d0","size":741}]}"#;
        let idx: OciIndex = serde_json::from_str(input).unwrap();
        let out = String::from_utf8(idx.to_bytes().unwrap()).unwrap();
        // Expected bytes: what skopeo 1.9.3 wrote for the same input (plus the \b case).
        assert_eq!(
            out,
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:d0","size":741,"urls":["http://x"],"annotations":{"a":"1","z":"\u003c\u0026\u003e\u2028é\u0008"},"data":"e30=","platform":{"architecture":"amd64","os":"linux","os.features":["a"],"variant":"v8"},"artifactType":"application/x"}],"annotations":{"a":"1","b":"2"}}"#
        );
    }

    #[test]
    fn nulls_read_as_zero_values() {
        let idx: OciIndex =
            serde_json::from_str(r#"{"schemaVersion":2,"manifests":null,"annotations":null}"#)
                .unwrap();
        assert_eq!(
            idx.to_bytes().unwrap(),
            br#"{"schemaVersion":2,"manifests":[]}"#
        );
    }
}
