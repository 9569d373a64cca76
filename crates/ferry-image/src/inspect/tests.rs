//! `inspect` against skopeo 1.9.3's own output for the same images
//! (crates/ferry-manifest/tests/fixtures, made by its gen.sh): byte-identical text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ferry_reference::{Digest, Named};

use super::*;
use crate::transport::reference::{DirRef, DockerArchiveRef};
use crate::types::BlobReader;

/// A `dir:`-like source over a fixture directory (manifest.json, `<hex>.manifest.json`,
/// blobs by hex), independent of the real dir transport.
struct FixtureSource(PathBuf);

impl ImageSource for FixtureSource {
    fn manifest(&self, instance: Option<&Digest>) -> Result<RawManifest> {
        let name = match instance {
            None => "manifest.json".to_string(),
            Some(d) => format!("{}.manifest.json", d.hex()),
        };
        let bytes = std::fs::read(self.0.join(&name))
            .map_err(|_| Error::ImageNotFound(format!("no manifest {name}")))?;
        Ok(RawManifest::sniffed(bytes))
    }
    fn blob(&self, info: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        let bytes = std::fs::read(self.0.join(info.digest.hex()))?;
        let len = bytes.len() as u64;
        Ok((Box::new(std::io::Cursor::new(bytes)), Some(len)))
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-manifest/tests/fixtures")
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dir_ref(dir: &str) -> ImageRef {
    let path = fixtures().join(dir);
    ImageRef::Dir(DirRef {
        resolved: path.clone(),
        path,
    })
}

fn run_ctx(dir: &str, ctx: &SystemContext, opts: InspectOptions) -> Result<InspectOutput> {
    let src = FixtureSource(fixtures().join(dir));
    let top = src.manifest(None)?;
    inspect(&dir_ref(dir), &src, &top, ctx, &opts)
}

fn run(dir: &str, opts: InspectOptions) -> InspectOutput {
    run_ctx(dir, &SystemContext::default(), opts).unwrap_or_else(|e| panic!("{dir}: {e}"))
}

const PLAIN: InspectOptions = InspectOptions {
    raw: false,
    config: false,
    no_tags: false,
};
const CONFIG: InspectOptions = InspectOptions {
    raw: false,
    config: true,
    no_tags: false,
};
const CONFIG_RAW: InspectOptions = InspectOptions {
    raw: true,
    config: true,
    no_tags: false,
};
const RAW: InspectOptions = InspectOptions {
    raw: true,
    config: false,
    no_tags: false,
};

fn text(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap()
}

#[test]
fn output_matches_skopeo_byte_for_byte() {
    for dir in [
        "oci-image",
        "oci-min",
        "docker-image",
        "docker-weird",
        "schema1",
    ] {
        let out = run(dir, PLAIN);
        assert_eq!(
            text(out.stdout_bytes()),
            text(read(&format!("{dir}/inspect.json"))),
            "{dir}: inspect"
        );
        // The template value carries the same keys in the same order.
        let value = out.value().unwrap();
        let printed: serde_json::Value =
            serde_json::from_slice(&read(&format!("{dir}/inspect.json"))).unwrap();
        assert_eq!(value, printed, "{dir}: value");
        assert_eq!(
            text(run(dir, CONFIG).stdout_bytes()),
            text(read(&format!("{dir}/inspect-config.json"))),
            "{dir}: --config"
        );
        assert_eq!(
            run(dir, CONFIG_RAW),
            InspectOutput::Raw(read(&format!("{dir}/inspect-config-raw.json"))),
            "{dir}: --config --raw"
        );
        assert_eq!(
            run(dir, RAW),
            InspectOutput::Raw(read(&format!("{dir}/manifest.json"))),
            "{dir}: --raw"
        );
    }
}

#[test]
fn lists_pick_the_platform_like_skopeo() {
    for (file, arch, variant) in [
        ("inspect-arm.json", "arm", None),
        ("inspect-arm-v8.json", "arm", Some("v8")),
        ("inspect-arm64.json", "arm64", None),
        ("inspect-ppc64le.json", "ppc64le", None),
        ("inspect-amd64.json", "amd64", None),
    ] {
        let ctx = SystemContext {
            arch: Some(arch.into()),
            variant: variant.map(Into::into),
            ..SystemContext::default()
        };
        let out = run_ctx("oci-index", &ctx, PLAIN).unwrap();
        assert_eq!(
            text(out.stdout_bytes()),
            text(read(&format!("oci-index/{file}"))),
            "{file}"
        );
    }
    // --raw prints the list itself.
    assert_eq!(
        run("oci-index", RAW),
        InspectOutput::Raw(read("oci-index/manifest.json"))
    );
}

#[test]
fn missing_platform_fails_with_skopeos_message() {
    let ctx = SystemContext {
        arch: Some("s390x".into()),
        ..SystemContext::default()
    };
    let err = run_ctx("docker-list", &ctx, PLAIN).unwrap_err();
    let line = text(read("docker-list/inspect-s390x.err"));
    let want: String =
        serde_json::from_str(line.trim().trim_start_matches("level=fatal msg=")).unwrap();
    assert_eq!(err.to_string(), want);
}

#[test]
fn artifacts_are_described_instead_of_failing() {
    let out = run("artifact", PLAIN);
    let InspectOutput::Image(info) = &out else {
        panic!("expected image info")
    };
    assert_eq!(info.artifact_type, "application/vnd.example");
    assert_eq!(info.layers.len(), 1);
    assert!(info.created.is_none());
    let json = out.json().unwrap();
    assert!(
        json.contains("\"ArtifactType\": \"application/vnd.example\""),
        "{json}"
    );
    assert!(
        json.contains("\"Annotations\": {\n        \"k\": \"v\"\n    }"),
        "{json}"
    );
    // --config still fails like skopeo; --config --raw prints the blob.
    let err = run_ctx("artifact", &SystemContext::default(), CONFIG).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Error reading OCI-formatted configuration data: unsupported image-specific operation on artifact with type \"application/vnd.example.config+json\""
    );
    assert_eq!(
        run("artifact", CONFIG_RAW),
        InspectOutput::Raw(read("artifact/inspect-config-raw.json"))
    );
}

#[test]
fn name_comes_from_the_docker_reference() {
    let src = FixtureSource(fixtures().join("oci-image"));
    let top = src.manifest(None).unwrap();
    let image = ImageRef::DockerArchive(DockerArchiveRef {
        path: "x.tar".into(),
        named: Some(Named::parse_normalized("busybox:1.36").unwrap()),
        index: None,
    });
    let out = inspect(&image, &src, &top, &SystemContext::default(), &PLAIN).unwrap();
    let json = out.json().unwrap();
    assert!(
        json.starts_with("{\n    \"Name\": \"docker.io/library/busybox\",\n    \"Digest\""),
        "{json}"
    );
}

#[test]
fn corrupted_config_is_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixtures().join("oci-image")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
    }
    let m: serde_json::Value = serde_json::from_slice(&read("oci-image/manifest.json")).unwrap();
    let cfg = Digest::parse(m["config"]["digest"].as_str().unwrap()).unwrap();
    std::fs::write(tmp.path().join(cfg.hex()), b"{}").unwrap();
    let src = FixtureSource(tmp.path().to_path_buf());
    let top = src.manifest(None).unwrap();
    let err = inspect(
        &dir_ref("oci-image"),
        &src,
        &top,
        &SystemContext::default(),
        &PLAIN,
    )
    .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[test]
fn nested_indexes_are_followed() {
    // An outer index whose arm64 entry is the oci-index fixture itself (skopeo follows it
    // too and prints the same layers, with the outer digest).
    let tmp = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(fixtures().join("oci-index")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
    }
    let inner = read("oci-index/manifest.json");
    let d = Digest::sha256_of(&inner);
    std::fs::write(
        tmp.path().join(format!("{}.manifest.json", d.hex())),
        &inner,
    )
    .unwrap();
    let outer = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{d}","size":{},"platform":{{"architecture":"arm64","os":"linux"}}}}]}}"#,
        inner.len()
    );
    std::fs::write(tmp.path().join("manifest.json"), &outer).unwrap();
    let src = FixtureSource(tmp.path().to_path_buf());
    let ctx = SystemContext {
        arch: Some("arm64".into()),
        ..SystemContext::default()
    };
    let top = src.manifest(None).unwrap();
    let out = inspect(&dir_ref("oci-index"), &src, &top, &ctx, &PLAIN).unwrap();
    let mut want: serde_json::Value =
        serde_json::from_slice(&read("oci-index/inspect-arm64.json")).unwrap();
    want["Digest"] = Digest::sha256_of(outer.as_bytes()).to_string().into();
    assert_eq!(out.value().unwrap(), want);
    // A tampered instance is refused.
    std::fs::write(
        tmp.path().join(format!("{}.manifest.json", d.hex())),
        [&inner[..], b" "].concat(),
    )
    .unwrap();
    let err = inspect(&dir_ref("oci-index"), &src, &top, &ctx, &PLAIN).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Error parsing manifest for image: Image manifest does not match selected manifest digest {d}"
        )
    );
}

/// A source whose tag listing answers as given.
struct TagsSource(std::result::Result<Vec<String>, &'static str>);

impl ImageSource for TagsSource {
    fn manifest(&self, _: Option<&Digest>) -> Result<RawManifest> {
        Err(Error::Other("no manifest".into()))
    }
    fn blob(&self, _: &BlobInfo) -> Result<(BlobReader, Option<u64>)> {
        Err(Error::Other("no blob".into()))
    }
    fn repo_tags(&self) -> Result<Option<Vec<String>>> {
        match &self.0 {
            Ok(t) => Ok(Some(t.clone())),
            Err(code) => Err(Error::Registry(ferry_registry::RegistryError::Status {
                message: format!("fetching tags list: {code}"),
                operation: ferry_registry::Operation::Tags,
                status: 401,
                errors: vec![ferry_registry::ApiError {
                    code: code.to_string(),
                    message: "requested access to the resource is denied".into(),
                }],
                retry_after: None,
            })),
        }
    }
}

/// skopeo's inspect goes on (with a warning) when the registry denies the tag list
/// (skopeo#726, ECR without ecr:ListImages); other failures stop it, with its context.
#[test]
fn denied_tag_listing_is_skipped_with_a_warning() {
    let listed = repo_tags(&TagsSource(Ok(vec!["a".into()]))).unwrap();
    assert_eq!(listed, RepoTags::Listed(vec!["a".into()]));
    let denied = repo_tags(&TagsSource(Err("DENIED"))).unwrap();
    assert_eq!(denied, RepoTags::Disallowed);
    let mut info = InspectInfo {
        name: String::new(),
        tag: String::new(),
        digest: Digest::sha256_of(b""),
        repo_tags: Vec::new(),
        created: None,
        docker_version: String::new(),
        labels: None,
        architecture: String::new(),
        os: String::new(),
        layers: Vec::new(),
        env: None,
        artifact_type: String::new(),
        annotations: None,
    };
    assert_eq!(
        info.set_repo_tags(denied),
        Some("Registry disallows tag list retrieval; skipping")
    );
    assert!(info.repo_tags.is_empty());
    let e = repo_tags(&TagsSource(Err("UNAUTHORIZED"))).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Error determining repository tags: fetching tags list"),
        "{e}"
    );
}
