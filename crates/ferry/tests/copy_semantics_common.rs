//! Helpers shared by the `copy_semantics*` tests (included with `#[path]`): the source
//! images every test starts from, and small readers for what a copy wrote.
//!
//! Sources are made by the harness (OCI, schema2, multi-arch) or by skopeo itself
//! (schema1 signed by skopeo, zstd layers written by skopeo), so ferry never grades its
//! own homework; artifacts and nested indexes are written by hand into OCI layouts.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;

use ferry_test::fixtures::Kind;
use ferry_test::layout::{Descriptor, OciLayout};
use ferry_test::sources::{Sources, Transport};
use ferry_test::{run, skopeo};
use serde_json::{Value, json};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const V2S2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const V2S1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const WASM_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";

/// `ferry --insecure-policy` (the binary under test).
pub fn ferry() -> std::process::Command {
    ferry_test::ferry(env!("CARGO_BIN_EXE_ferry"))
}

/// The source images of the copy-semantics tests, built on demand under one directory.
pub struct Fx {
    pub tmp: tempfile::TempDir,
    oci: Option<Sources>,
    schema2: Option<Sources>,
    multi: Option<Sources>,
}

impl Default for Fx {
    fn default() -> Self {
        Fx::new()
    }
}

impl Fx {
    pub fn new() -> Fx {
        let keep = std::env::var("FERRY_TEST_KEEP").is_ok_and(|v| v == "1");
        let tmp = tempfile::Builder::new()
            .prefix("ferry-sem-")
            .disable_cleanup(keep)
            .tempdir()
            .expect("scratch dir");
        Fx {
            tmp,
            oci: None,
            schema2: None,
            multi: None,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn sources<'a>(slot: &'a mut Option<Sources>, kind: Kind, root: &Path) -> &'a Sources {
        slot.get_or_insert_with(|| {
            Sources::build(kind, &root.join(kind.name()))
                .unwrap_or_else(|e| panic!("building the {kind:?} fixture: {e}"))
        })
    }

    pub fn oci_sources(&mut self) -> &Sources {
        let root = self.tmp.path().to_path_buf();
        Self::sources(&mut self.oci, Kind::Oci, &root)
    }

    /// The OCI fixture (4 gzip layers, one empty history entry) as `oci:…:latest`.
    pub fn oci(&mut self) -> String {
        let s = self.oci_sources();
        s.source(Transport::Oci).unwrap()
    }

    /// The OCI fixture as a `dir:`.
    pub fn oci_dir(&mut self) -> String {
        let s = self.oci_sources();
        s.source(Transport::Dir).unwrap()
    }

    /// The schema2 fixture as a `dir:` (skopeo 1.9.3 reads schema2 only from dir/archives).
    pub fn schema2_dir(&mut self) -> String {
        let root = self.tmp.path().to_path_buf();
        Self::sources(&mut self.schema2, Kind::Schema2, &root)
            .source(Transport::Dir)
            .unwrap()
    }

    pub fn multi_sources(&mut self) -> &Sources {
        let root = self.tmp.path().to_path_buf();
        Self::sources(&mut self.multi, Kind::Multiarch, &root)
    }

    /// The multi-arch fixture (linux/amd64 + linux/arm64/v8 OCI index) as `oci:…:latest`.
    pub fn multi(&mut self) -> String {
        self.multi_sources().source(Transport::Oci).unwrap()
    }

    /// A signed schema1 image written by skopeo (`--format v2s1` from the OCI fixture).
    pub fn schema1_dir(&mut self) -> String {
        let p = self.path("schema1-by-skopeo");
        if !p.exists() {
            let src = self.oci();
            run(skopeo().args(["copy", "-q", "--format", "v2s1", &src, &dir_ref(&p)]));
        }
        dir_ref(&p)
    }

    /// The OCI fixture with zstd layers, written by skopeo, as `oci:…:z`.
    pub fn zstd_oci(&mut self) -> String {
        let p = self.path("zstd-by-skopeo");
        if !p.exists() {
            let src = self.oci();
            run(skopeo().args([
                "copy",
                "-q",
                "--dest-compress-format",
                "zstd",
                &src,
                &format!("oci:{}:z", p.display()),
            ]));
        }
        format!("oci:{}:z", p.display())
    }

    /// The OCI fixture with uncompressed layers (skopeo `--dest-decompress`), as `dir:`.
    pub fn plain_dir(&mut self) -> String {
        let p = self.path("plain-by-skopeo");
        if !p.exists() {
            let src = self.oci();
            run(skopeo().args(["copy", "-q", "--dest-decompress", &src, &dir_ref(&p)]));
        }
        dir_ref(&p)
    }

    /// An OCI layout with artifacts: a Helm chart (`helm`), a wasm module with
    /// `artifactType` and the empty config (`wasm`), and an index nesting an index
    /// (`nested`: [index [amd64 image, arm64 image], helm chart]).
    pub fn artifacts(&mut self) -> PathBuf {
        let p = self.path("artifacts");
        if p.exists() {
            return p;
        }
        let layout = OciLayout::create(&p).unwrap();
        let put = |data: &[u8], media_type: &str| -> Descriptor {
            let (digest, size) = layout.put_blob(data).unwrap();
            Descriptor {
                media_type: media_type.to_string(),
                digest,
                size,
            }
        };
        let helm_config = put(
            br#"{"name":"ferry-chart","version":"0.1.0","apiVersion":"v2"}"#,
            HELM_CONFIG,
        );
        let chart = put(
            &gzip(b"ferry-chart/Chart.yaml: name ferry-chart\n"),
            HELM_CHART,
        );
        let helm = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": helm_config.to_json(),
            "layers": [chart.to_json()],
            "annotations": {"org.opencontainers.image.title": "ferry-chart"}
        });
        let helm_desc = put(&pretty(&helm), OCI_MANIFEST);
        layout.add_to_index(&helm_desc, Some("helm")).unwrap();

        let empty = put(b"{}", "application/vnd.oci.empty.v1+json");
        let module = put(b"\0asm\x01\0\0\0ferry", WASM_LAYER);
        let wasm = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.wasm.config.v0+json",
            "config": empty.to_json(),
            "layers": [module.to_json()]
        });
        let wasm_desc = put(&pretty(&wasm), OCI_MANIFEST);
        layout.add_to_index(&wasm_desc, Some("wasm")).unwrap();

        // The nested index reuses the multi-arch fixture's images.
        let multi = self.multi_sources();
        let src_layout = multi.fixture.layout.clone();
        let mut inner_entries = Vec::new();
        for img in &multi.fixture.images {
            for d in std::iter::once(&img.config).chain(img.layers.iter().map(|l| &l.descriptor)) {
                let bytes = src_layout.read_blob(&d.digest).unwrap();
                layout.put_blob(&bytes).unwrap();
            }
            layout.put_blob(&img.manifest_bytes).unwrap();
            let mut e = img.manifest.to_json();
            e["platform"] = json!({
                "os": img.platform.os,
                "architecture": img.platform.architecture
            });
            if let Some(v) = &img.platform.variant {
                e["platform"]["variant"] = json!(v);
            }
            inner_entries.push(e);
        }
        let inner = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": inner_entries});
        let inner_desc = put(&serde_json::to_vec(&inner).unwrap(), OCI_INDEX);
        let outer = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [inner_desc.to_json(), helm_desc.to_json()],
            "annotations": {"org.example.nested": "yes"}
        });
        let outer_desc = put(&serde_json::to_vec(&outer).unwrap(), OCI_INDEX);
        layout.add_to_index(&outer_desc, Some("nested")).unwrap();
        p
    }
}

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut r = ferry_image::compression::compress(
        ferry_image::context::CompressionFormat::Gzip,
        None,
        Box::new(std::io::Cursor::new(data.to_vec())),
    )
    .unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut out).unwrap();
    out
}

/// Decompresses gzip or zstd bytes (anything else is returned as is).
pub fn decompressed(bytes: Vec<u8>) -> Vec<u8> {
    match ferry_image::compression::detect(&bytes) {
        None => bytes,
        Some(alg) => {
            let mut r =
                ferry_image::compression::decompress(alg, Box::new(std::io::Cursor::new(bytes)))
                    .unwrap();
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut r, &mut out).unwrap();
            out
        }
    }
}

pub fn dir_ref(p: &Path) -> String {
    format!("dir:{}", p.display())
}

/// A JSON file.
pub fn read_json(p: &Path) -> Value {
    let bytes = fs_err::read(p).unwrap();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The digest of a `dir:`'s top manifest (schema1: of its payload).
pub fn manifest_digest(dir: &Path) -> String {
    let bytes = fs_err::read(dir.join("manifest.json")).unwrap();
    ferry_manifest::digest(&bytes).unwrap().to_string()
}

/// The MIME type of a `dir:`'s top manifest.
pub fn manifest_type(dir: &Path) -> String {
    let bytes = fs_err::read(dir.join("manifest.json")).unwrap();
    ferry_manifest::guess_mime_type(&bytes).to_string()
}

/// The layer media types of a `dir:`'s (single-image) manifest.
pub fn layer_types(dir: &Path) -> Vec<String> {
    let m = read_json(&dir.join("manifest.json"));
    m["layers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| l["mediaType"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The message of a failed command: ferry's `Error: …` line, or skopeo's logrus
/// `level=fatal msg="…"` (unquoted).
pub fn error_message(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines().rev() {
        if let Some(m) = line.strip_prefix("Error: ") {
            return m.to_string();
        }
        if let Some(i) = line.find("msg=") {
            let quoted = &line[i + 4..];
            return serde_json::from_str::<String>(quoted).unwrap_or_else(|_| quoted.to_string());
        }
    }
    stderr.trim().to_string()
}

/// The sha256 of every layer file of a `dir:` after decompressing it (gzip or zstd).
pub fn layer_diff_ids(dir: &Path) -> Vec<String> {
    let m = read_json(&dir.join("manifest.json"));
    let mut out = Vec::new();
    for l in m["layers"].as_array().into_iter().flatten() {
        let d = l["digest"].as_str().unwrap();
        let bytes = fs_err::read(dir.join(&d[7..])).unwrap();
        out.push(ferry_test::sha256_bytes(&decompressed(bytes)));
    }
    out
}
