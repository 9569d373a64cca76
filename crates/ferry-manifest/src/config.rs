//! Image configuration blobs: a lenient reading view ([`ImageConfig`]) and the exact Go
//! structs skopeo re-encodes ([`OciImage`] = image-spec `v1.Image`, [`DockerV1Image`] =
//! c/image `Schema2V1Image`), so converted configs are byte-identical to skopeo's.
//!
//! Callers keep the raw config bytes; everything here is for reading and for producing new
//! blobs during a conversion. All parsing goes through [`crate::gojson::from_slice`], i.e.
//! Go's rules (case-insensitive keys, `null` = zero value, unknown fields ignored).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::ManifestError;
use crate::gojson::{self, GoTime};

fn is_false(b: &bool) -> bool {
    !*b
}
fn is_zero(n: &i64) -> bool {
    *n == 0
}
fn none_or_empty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_none_or(Vec::is_empty)
}
fn none_or_empty_map<K, V>(v: &Option<BTreeMap<K, V>>) -> bool {
    v.as_ref().is_none_or(BTreeMap::is_empty)
}

/// Go's `struct{}` (values of port and volume sets): any JSON object, written as `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Docker's `strslice.StrSlice`: a JSON string or array of strings (`null` = none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StrSlice(pub Vec<String>);

impl<'de> Deserialize<'de> for StrSlice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StrSlice;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<StrSlice, E> {
                Ok(StrSlice(vec![s.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<StrSlice, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = a.next_element::<String>()? {
                    v.push(s);
                }
                Ok(StrSlice(v))
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------
// The reading view.

/// What ferry reads from a Docker or OCI image config. Unknown fields are ignored;
/// `Cmd`/`Entrypoint` accept Docker's string form too.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    /// `None` when absent (OCI allows that; Docker readers treat it as the zero time).
    pub created: Option<GoTime>,
    pub author: String,
    pub architecture: String,
    pub variant: String,
    pub os: String,
    #[serde(rename = "os.version")]
    pub os_version: String,
    #[serde(rename = "os.features")]
    pub os_features: Vec<String>,
    pub docker_version: String,
    pub config: Option<ContainerConfig>,
    pub rootfs: Option<RootFs>,
    pub history: Vec<History>,
}

/// The `config` object of an image config (the runtime defaults).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ContainerConfig {
    #[serde(rename = "User")]
    pub user: String,
    #[serde(rename = "ExposedPorts")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint")]
    pub entrypoint: Option<StrSlice>,
    #[serde(rename = "Cmd")]
    pub cmd: Option<StrSlice>,
    #[serde(rename = "Volumes")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(rename = "WorkingDir")]
    pub working_dir: String,
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "StopSignal")]
    pub stop_signal: String,
    #[serde(rename = "ArgsEscaped")]
    pub args_escaped: bool,
}

/// `rootfs`: the layer DiffIDs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    /// `None` for JSON `null` (Go prints it back as `null`).
    pub diff_ids: Option<Vec<String>>,
}

/// One `history` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<GoTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
    #[serde(skip_serializing_if = "is_false")]
    pub empty_layer: bool,
}

impl ImageConfig {
    /// Parses a config blob (Go's rules; type mismatches are errors).
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, ManifestError> {
        Ok(gojson::from_slice(bytes)?)
    }
    pub fn labels(&self) -> Option<&BTreeMap<String, String>> {
        self.config.as_ref().and_then(|c| c.labels.as_ref())
    }
    pub fn env(&self) -> Option<&[String]> {
        self.config.as_ref().and_then(|c| c.env.as_deref())
    }
    pub fn diff_ids(&self) -> &[String] {
        self.rootfs
            .as_ref()
            .and_then(|r| r.diff_ids.as_deref())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------
// image-spec v1.Image (1.1.0-rc2 field order, as vendored by skopeo 1.9.3).

/// image-spec `v1.Image`: what c/image's `OCIConfig()` returns and `inspect --config`
/// prints; its compact form is the config blob of a schema2→OCI conversion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OciImage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<GoTime>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub variant: String,
    pub os: String,
    #[serde(rename = "os.version", skip_serializing_if = "String::is_empty")]
    pub os_version: String,
    #[serde(rename = "os.features", skip_serializing_if = "none_or_empty")]
    pub os_features: Option<Vec<String>>,
    pub config: OciImageConfig,
    pub rootfs: RootFs,
    #[serde(skip_serializing_if = "none_or_empty")]
    pub history: Option<Vec<History>>,
}

/// image-spec `v1.ImageConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OciImageConfig {
    #[serde(rename = "User", skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(rename = "ExposedPorts", skip_serializing_if = "none_or_empty_map")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    #[serde(rename = "Env", skip_serializing_if = "none_or_empty")]
    pub env: Option<Vec<String>>,
    #[serde(rename = "Entrypoint", skip_serializing_if = "none_or_empty")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", skip_serializing_if = "none_or_empty")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Volumes", skip_serializing_if = "none_or_empty_map")]
    pub volumes: Option<BTreeMap<String, Empty>>,
    #[serde(rename = "WorkingDir", skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(rename = "Labels", skip_serializing_if = "none_or_empty_map")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "StopSignal", skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(rename = "ArgsEscaped", skip_serializing_if = "is_false")]
    pub args_escaped: bool,
}

impl OciImage {
    /// Decodes any Docker or OCI config blob into the OCI shape (Docker-only fields are
    /// dropped), as c/image's `OCIConfig()` does.
    pub fn from_config_blob(bytes: &[u8]) -> Result<OciImage, ManifestError> {
        Ok(gojson::from_slice(bytes)?)
    }
    /// The compact Go encoding (`json.Marshal`).
    pub fn to_json(&self) -> Result<Vec<u8>, ManifestError> {
        Ok(gojson::to_vec(self)?)
    }
}

/// The config blob of a schema2→OCI conversion: the Docker config re-encoded as an OCI
/// config (c/image `convertToManifestOCI1`). Its digest and size go into the new manifest.
pub fn docker_config_to_oci(bytes: &[u8]) -> Result<Vec<u8>, ManifestError> {
    OciImage::from_config_blob(bytes)?.to_json()
}

// ---------------------------------------------------------------------------------------
// c/image Schema2V1Image / Schema2Config (Docker's image JSON, also schema1's
// v1Compatibility).

/// c/image `Schema2HealthConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DockerHealthConfig {
    #[serde(rename = "Test", skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    #[serde(rename = "StartPeriod", skip_serializing_if = "is_zero")]
    pub start_period: i64,
    #[serde(rename = "Interval", skip_serializing_if = "is_zero")]
    pub interval: i64,
    #[serde(rename = "Timeout", skip_serializing_if = "is_zero")]
    pub timeout: i64,
    #[serde(rename = "Retries", skip_serializing_if = "is_zero")]
    pub retries: i64,
}

/// c/image `Schema2Config` (Docker's container config), Go field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DockerContainerConfig {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "none_or_empty_map")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<StrSlice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<DockerHealthConfig>,
    #[serde(skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    pub image: String,
    pub volumes: Option<BTreeMap<String, Empty>>,
    pub working_dir: String,
    pub entrypoint: Option<StrSlice>,
    #[serde(skip_serializing_if = "is_false")]
    pub network_disabled: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    pub on_build: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<StrSlice>,
}

/// c/image `Schema2V1Image`, Go field order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DockerV1Image {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub parent: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
    pub created: GoTime,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub container: String,
    pub container_config: DockerContainerConfig,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub docker_version: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<DockerContainerConfig>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub variant: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub os: String,
    #[serde(rename = "Size", skip_serializing_if = "is_zero")]
    pub size: i64,
}

/// Docker's `versions.LessThan` (dot-separated integers, missing or non-numeric parts = 0).
pub(crate) fn version_less_than(v: &str, other: &str) -> bool {
    if v == other {
        return false;
    }
    let a: Vec<&str> = v.split('.').collect();
    let b: Vec<&str> = other.split('.').collect();
    for i in 0..a.len().max(b.len()) {
        let x: i64 = a.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
        let y: i64 = b.get(i).and_then(|s| s.parse().ok()).unwrap_or(0);
        if x != y {
            return x < y;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_config_drops_docker_fields_and_keeps_go_order() -> Result<(), ManifestError> {
        // Keys in odd case and order, Docker-only fields, nulls: Go decodes them all.
        let docker = br#"{"OS":"linux","Architecture":"amd64","docker_version":"1","container_config":{"Hostname":"x"},
            "config":{"cmd":"/bin/sh","Env":null,"Labels":{"b":"1","a":"<&>"},"Hostname":"h"},
            "rootfs":{"type":"layers","diff_ids":null},"history":[{"created_by":"x","empty_layer":true}]}"#;
        // Cmd as a plain string is a type error for v1.Image, exactly as in Go.
        assert!(docker_config_to_oci(docker).is_err());
        let docker =
            String::from_utf8_lossy(docker).replace("\"cmd\":\"/bin/sh\"", "\"cmd\":[\"/bin/sh\"]");
        let oci = String::from_utf8_lossy(&docker_config_to_oci(docker.as_bytes())?).into_owned();
        assert_eq!(
            oci,
            r#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"],"Labels":{"a":"\u003c\u0026\u003e","b":"1"}},"rootfs":{"type":"layers","diff_ids":null},"history":[{"created_by":"x","empty_layer":true}]}"#
        );
        Ok(())
    }

    #[test]
    fn image_config_reads_docker_and_oci() -> Result<(), ManifestError> {
        let c = ImageConfig::parse(
            br#"{"created":"2020-01-01T00:00:00Z","docker_version":"20.10","config":{"Cmd":"sh","Env":["A=1"],"Labels":{"x":"y"}},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"unknown":{"deep":[1]}}"#,
        )?;
        assert_eq!(
            c.created.map(|t| t.to_string()).as_deref(),
            Some("2020-01-01T00:00:00Z")
        );
        assert_eq!(c.docker_version, "20.10");
        assert_eq!(c.env(), Some(&["A=1".to_string()][..]));
        assert_eq!(
            c.labels().and_then(|l| l.get("x")).map(String::as_str),
            Some("y")
        );
        assert_eq!(
            c.config.and_then(|c| c.cmd),
            Some(StrSlice(vec!["sh".into()]))
        );
        assert!(ImageConfig::parse(br#"{"created":"yesterday"}"#).is_err());
        assert!(ImageConfig::parse(br#"{"config":{"Labels":["x"]}}"#).is_err());
        Ok(())
    }

    #[test]
    fn docker_v1_image_reencodes_like_go() -> Result<(), ManifestError> {
        let v: DockerV1Image =
            gojson::from_slice(br#"{"id":"x","docker_version":"1.8.2","config":{"Cmd":"sh"}}"#)?;
        let out = String::from_utf8_lossy(&gojson::to_vec(&v)?).into_owned();
        assert_eq!(
            out,
            r#"{"id":"x","created":"0001-01-01T00:00:00Z","container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"docker_version":"1.8.2","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null}}"#
        );
        Ok(())
    }

    #[test]
    fn docker_versions_compare_numerically() {
        assert!(version_less_than("1.8.2", "1.8.3"));
        assert!(version_less_than("1.7", "1.8.3"));
        assert!(!version_less_than("1.10.0", "1.8.3"));
        assert!(!version_less_than("1.8.3", "1.8.3"));
        assert!(!version_less_than("20.10.7", "1.8.3"));
        assert!(version_less_than("1.8.2-dev", "1.8.3"));
    }
}
