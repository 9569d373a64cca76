//! Shared helpers of ferry's integration tests (conformance, matrix, differential).
//!
//! The binary under test is `ferry`; set `FERRY_TEST_SUBJECT=/usr/bin/skopeo` to run the
//! same tests against skopeo itself, which checks that the tests encode skopeo's behaviour.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferry_test::dirimage::{DirImage, read_dir_image};
use ferry_test::fixtures::Kind;
use ferry_test::image::{DOCKER_MANIFEST, OCI_MANIFEST};
use ferry_test::sources::{Sources, Transport};

pub use ferry_test::dirimage::{Expect, check_image};

/// The binary under test.
pub fn subject_path() -> PathBuf {
    std::env::var_os("FERRY_TEST_SUBJECT")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ferry")), PathBuf::from)
}

/// `ferry --insecure-policy` (or the `FERRY_TEST_SUBJECT` binary).
pub fn ferry() -> Command {
    ferry_test::ferry(subject_path())
}

/// A fresh scratch directory, removed when dropped unless `FERRY_TEST_KEEP=1` (to look
/// at the files a failure message names).
pub fn scratch() -> tempfile::TempDir {
    let keep = std::env::var("FERRY_TEST_KEEP").is_ok_and(|v| v == "1");
    tempfile::Builder::new()
        .prefix("ferry-it-")
        .disable_cleanup(keep)
        .tempdir()
        .expect("creating a scratch dir")
}

/// The fixture `kind` with its sources under `dir`.
pub fn sources(kind: Kind, dir: &Path) -> Sources {
    Sources::build(kind, dir).unwrap_or_else(|e| panic!("building the {kind:?} fixture: {e}"))
}

/// The reference of the fixture in transport `t`.
pub fn source(s: &Sources, t: Transport) -> String {
    s.source(t)
        .unwrap_or_else(|e| panic!("writing the {} source: {e}", t.name()))
}

/// Whether copying from `src` to `dst` should carry the whole list (`--all`).
pub fn copies_whole_list(s: &Sources, src: Transport, dst: Transport) -> bool {
    s.fixture.is_list() && src.supports_lists() && dst.supports_lists()
}

/// `TOOL copy [--all] SRC DST`.
pub fn copy(mut tool: Command, all: bool, src: &str, dst: &str) -> Output {
    tool.arg("copy");
    if all {
        tool.arg("--all");
    }
    tool.args([src, dst]);
    ferry_test::run(&mut tool)
}

/// Copies `src` to a new `dir:` at `dir` with `tool` and reads it back.
pub fn read_back(tool: Command, all: bool, src: &str, dir: &Path) -> DirImage {
    copy(tool, all, src, &format!("dir:{}", dir.display()));
    read_dir_image(dir).unwrap_or_else(|e| panic!("reading back {src}: {e}"))
}

/// The manifest type an image has after a copy from `src` to `dst` (read back to dir:).
pub fn expected_type(kind: Kind, src: Transport, dst: Transport) -> &'static str {
    match dst {
        Transport::DockerArchive => DOCKER_MANIFEST,
        Transport::Oci | Transport::OciArchive => OCI_MANIFEST,
        Transport::Dir if src == Transport::DockerArchive || kind == Kind::Schema2 => {
            DOCKER_MANIFEST
        }
        Transport::Dir => OCI_MANIFEST,
    }
}

/// What an image copied from `src` to `dst` must look like when read back.
pub fn expectation(s: &Sources, src: Transport, dst: Transport) -> Expect {
    let kind = s.fixture.kind;
    let archive = src == Transport::DockerArchive || dst == Transport::DockerArchive;
    let manifest_type = expected_type(kind, src, dst);
    // Schema 2 → OCI conversion re-encodes the config (docker-archive sources are schema 2).
    let converted = (kind == Kind::Schema2 || src == Transport::DockerArchive)
        && matches!(dst, Transport::Oci | Transport::OciArchive);
    Expect {
        whole_list: copies_whole_list(s, src, dst),
        manifest_type: Some(manifest_type),
        exact_manifests: !archive && !converted,
        converted_config: converted,
        exact_layers: !archive,
        uncompressed_layers: dst == Transport::DockerArchive
            || (src == Transport::DockerArchive && dst == Transport::Dir),
    }
}

/// Fails with a readable message if `r` is an error.
pub fn ok_or_fail(what: &str, r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{what}:\n{e}");
    }
}
