//! Differential tests against the real skopeo (Debian's 1.9.3, the oracle): from the
//! same source, `ferry copy … dir:A` and `skopeo copy … dir:B` give identical trees,
//! likewise `oci:`; each tool reads the other's docker-archive and oci-archive (and
//! writes the same members); `inspect` (plain, `--raw`, `--config`, `--config --raw`)
//! and `manifest-digest` print exactly what skopeo prints.
//!
//! Exception, by necessity: layers that a destination must *compress* (docker-archive
//! → oci:) are gzip streams of each tool's own compressor, so there the comparison is
//! semantic (same config, same layer contents) instead of byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::process::Command;

use ferry_test::archive::diff_archives;
use ferry_test::dirimage::read_dir_image;
use ferry_test::fixtures::Kind;
use ferry_test::sources::Transport;
use ferry_test::{diff_trees, run, run_unchecked, skopeo};
use support::*;

fn skip_without_skopeo() -> bool {
    !ferry_test::require_skopeo()
}

/// `ferry copy` and `skopeo copy` from the same source into `dest` (dir or oci).
fn same_output(kind: Kind, src: Transport, dest: Transport, all: bool) {
    if skip_without_skopeo() {
        return;
    }
    let tmp = scratch();
    let s = sources(kind, tmp.path());
    let src_ref = source(&s, src);
    let (a, b) = (tmp.path().join("ferry"), tmp.path().join("skopeo"));
    copy(ferry(), all, &src_ref, &dest.reference(&a, Some("copied")));
    copy(skopeo(), all, &src_ref, &dest.reference(&b, Some("copied")));
    let what = format!(
        "{} image from {} to {}{}: ferry (A) vs skopeo (B)",
        kind.name(),
        src.name(),
        dest.name(),
        if all { " --all" } else { "" }
    );
    if dest == Transport::Oci && src == Transport::DockerArchive {
        // Both compressed the layers with their own gzip: compare meaning, not bytes.
        let want = expectation(&s, src, dest);
        for (tool, path) in [("ferry", &a), ("skopeo", &b)] {
            let back = tmp.path().join(format!("back-{tool}"));
            let img = read_back(skopeo(), all, &dest.reference(path, Some("copied")), &back);
            ok_or_fail(
                &format!("{what}: {tool}'s output"),
                check_image(&img, &s.fixture, &want),
            );
        }
    } else {
        ok_or_fail(&what, diff_trees(&a, &b));
    }
}

macro_rules! same_output_tests {
    ($kind:expr; $($module:ident = $src:expr),+) => {
        $(
            mod $module {
                use super::*;
                #[test]
                fn to_dir() {
                    same_output($kind, $src, Transport::Dir, false);
                }
                #[test]
                fn to_oci() {
                    same_output($kind, $src, Transport::Oci, false);
                }
                #[test]
                fn to_dir_all() {
                    same_output($kind, $src, Transport::Dir, true);
                }
                #[test]
                fn to_oci_all() {
                    same_output($kind, $src, Transport::Oci, true);
                }
            }
        )+
    };
}

mod copy_oci {
    use super::*;
    same_output_tests!(Kind::Oci; from_dir = Transport::Dir, from_oci = Transport::Oci,
        from_oci_archive = Transport::OciArchive, from_docker_archive = Transport::DockerArchive);
}

mod copy_schema2 {
    use super::*;
    same_output_tests!(Kind::Schema2; from_dir = Transport::Dir,
        from_docker_archive = Transport::DockerArchive);
}

mod copy_multiarch {
    use super::*;
    same_output_tests!(Kind::Multiarch; from_dir = Transport::Dir, from_oci = Transport::Oci,
        from_oci_archive = Transport::OciArchive);
}

/// The archive reference used in these tests: named, as users usually write them.
fn archive_ref(t: Transport, path: &Path) -> String {
    match t {
        Transport::DockerArchive => t.reference(path, Some("example.com/ferry/test:v1")),
        _ => t.reference(path, Some("v1")),
    }
}

/// skopeo writes an archive; ferry and skopeo read it into identical dir: trees.
fn reads_skopeo_archive(kind: Kind, t: Transport) {
    if skip_without_skopeo() {
        return;
    }
    let tmp = scratch();
    let s = sources(kind, tmp.path());
    let all = copies_whole_list(&s, Transport::Dir, t);
    let x = archive_ref(t, &t.path_in(tmp.path(), "by-skopeo"));
    copy(skopeo(), all, &source(&s, Transport::Dir), &x);
    let (a, b) = (tmp.path().join("ferry"), tmp.path().join("skopeo"));
    copy(ferry(), all, &x, &format!("dir:{}", a.display()));
    copy(skopeo(), all, &x, &format!("dir:{}", b.display()));
    ok_or_fail(
        &format!(
            "{} image, skopeo's {} read by ferry (A) and skopeo (B)",
            kind.name(),
            t.name()
        ),
        diff_trees(&a, &b),
    );
}

/// ferry writes an archive; skopeo reads it into the same dir: tree as skopeo's own
/// archive, and the archives hold the same files (legacy docker files aside).
fn skopeo_reads_ferry_archive(kind: Kind, t: Transport) {
    if skip_without_skopeo() {
        return;
    }
    let tmp = scratch();
    let s = sources(kind, tmp.path());
    let all = copies_whole_list(&s, Transport::Dir, t);
    let src = source(&s, Transport::Dir);
    let (fa, sa) = (
        t.path_in(tmp.path(), "by-ferry"),
        t.path_in(tmp.path(), "by-skopeo"),
    );
    copy(ferry(), all, &src, &archive_ref(t, &fa));
    copy(skopeo(), all, &src, &archive_ref(t, &sa));
    let (a, b) = (
        tmp.path().join("from-ferry"),
        tmp.path().join("from-skopeo"),
    );
    copy(
        skopeo(),
        all,
        &archive_ref(t, &fa),
        &format!("dir:{}", a.display()),
    );
    copy(
        skopeo(),
        all,
        &archive_ref(t, &sa),
        &format!("dir:{}", b.display()),
    );
    let what = format!(
        "{} image, {} by ferry (A) vs by skopeo (B)",
        kind.name(),
        t.name()
    );
    ok_or_fail(&format!("{what}, read by skopeo"), diff_trees(&a, &b));
    let essential =
        |name: &str| t == Transport::OciArchive || !(name.contains('/') || name == "repositories");
    ok_or_fail(
        &format!("{what}, archive members"),
        diff_archives(&fa, &sa, essential),
    );
}

macro_rules! archive_tests {
    ($($module:ident = $kind:expr),+) => {
        $(
            mod $module {
                use super::*;
                #[test]
                fn ferry_reads_skopeo_docker_archive() {
                    reads_skopeo_archive($kind, Transport::DockerArchive);
                }
                #[test]
                fn ferry_reads_skopeo_oci_archive() {
                    reads_skopeo_archive($kind, Transport::OciArchive);
                }
                #[test]
                fn skopeo_reads_ferry_docker_archive() {
                    skopeo_reads_ferry_archive($kind, Transport::DockerArchive);
                }
                #[test]
                fn skopeo_reads_ferry_oci_archive() {
                    skopeo_reads_ferry_archive($kind, Transport::OciArchive);
                }
            }
        )+
    };
}

mod archives {
    use super::*;
    archive_tests!(
        oci = Kind::Oci,
        schema2 = Kind::Schema2,
        multiarch = Kind::Multiarch
    );
}

/// The legacy part of docker-archive (`repositories`, `<id>/{VERSION,json,layer.tar}`)
/// that old `docker load` needs: the same as skopeo's.
#[test]
fn docker_archive_legacy_files_match_skopeo() {
    if skip_without_skopeo() {
        return;
    }
    let tmp = scratch();
    let s = sources(Kind::Oci, tmp.path());
    let src = source(&s, Transport::Dir);
    let (fa, sa) = (tmp.path().join("ferry.tar"), tmp.path().join("skopeo.tar"));
    copy(
        ferry(),
        false,
        &src,
        &archive_ref(Transport::DockerArchive, &fa),
    );
    copy(
        skopeo(),
        false,
        &src,
        &archive_ref(Transport::DockerArchive, &sa),
    );
    ok_or_fail(
        "docker-archive by ferry (A) vs skopeo (B)",
        diff_archives(&fa, &sa, |_| true),
    );
    let (ma, mb) = (
        ferry_test::archive::members(&fa).unwrap(),
        ferry_test::archive::members(&sa).unwrap(),
    );
    let links = |m: &std::collections::BTreeMap<String, ferry_test::archive::Member>| {
        m.iter()
            .filter(|(_, v)| matches!(v, ferry_test::archive::Member::Symlink(_)))
            .map(|(k, v)| format!("{k} -> {v:?}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        links(&ma),
        links(&mb),
        "layer.tar symlinks differ (A = ferry, B = skopeo)"
    );
}

/// Runs `TOOL [global...] inspect [args...] image`; returns (status, stdout).
fn inspect(
    mut tool: Command,
    global: &[&str],
    args: &[&str],
    image: &str,
) -> (Option<i32>, String) {
    tool.args(global).arg("inspect").args(args).arg(image);
    let out = run_unchecked(&mut tool);
    let text = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        format!("<failed: {}>", String::from_utf8_lossy(&out.stderr).trim())
    };
    (out.status.code(), text)
}

fn same_inspect(kind: Kind, src: Transport) {
    if skip_without_skopeo() {
        return;
    }
    let tmp = scratch();
    let s = sources(kind, tmp.path());
    let image = source(&s, src);
    let mut globals: Vec<&[&str]> = vec![&[]];
    if kind == Kind::Multiarch {
        globals.push(&["--override-arch", "arm64", "--override-variant", "v8"]);
    }
    let mut problems = Vec::new();
    for global in globals {
        for args in [&[][..], &["--raw"], &["--config"], &["--config", "--raw"]] {
            let theirs = inspect(skopeo(), global, args, &image);
            assert_eq!(
                theirs.0,
                Some(0),
                "skopeo {global:?} inspect {args:?} {image} failed: {}",
                theirs.1
            );
            let ours = inspect(ferry(), global, args, &image);
            if ours != theirs {
                problems.push(format!(
                    "{global:?} inspect {args:?} {image}:\n--- ferry ({:?}) ---\n{}\n--- skopeo ---\n{}",
                    ours.0, ours.1, theirs.1
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "inspect output differs from skopeo's:\n{}",
        problems.join("\n")
    );
}

macro_rules! inspect_tests {
    ($kind:expr; $($name:ident = $src:expr),+) => {
        $(
            #[test]
            fn $name() {
                same_inspect($kind, $src);
            }
        )+
    };
}

mod inspect_oci {
    use super::*;
    inspect_tests!(Kind::Oci; dir = Transport::Dir, oci = Transport::Oci,
        oci_archive = Transport::OciArchive, docker_archive = Transport::DockerArchive);
}

mod inspect_schema2 {
    use super::*;
    inspect_tests!(Kind::Schema2; dir = Transport::Dir, docker_archive = Transport::DockerArchive);
}

mod inspect_multiarch {
    use super::*;
    inspect_tests!(Kind::Multiarch; dir = Transport::Dir, oci = Transport::Oci,
        oci_archive = Transport::OciArchive, docker_archive = Transport::DockerArchive);
}

/// `manifest-digest FILE` for every kind of manifest the harness has: OCI (indented),
/// schema 2, OCI index, a docker-archive-generated manifest, signed and unsigned
/// schema 1, and odd inputs.
#[test]
fn manifest_digest_matches_skopeo() {
    if skip_without_skopeo() {
        return;
    }
    let tmp = scratch();
    let mut files: Vec<(String, Vec<u8>, Option<String>)> = Vec::new();
    for kind in Kind::ALL {
        let s = sources(kind, &tmp.path().join(kind.name()));
        let f = &s.fixture;
        files.push((
            format!("{} top", kind.name()),
            f.top_bytes.clone(),
            Some(f.top.digest.clone()),
        ));
        for img in &f.images {
            files.push((
                format!("{} {}", kind.name(), img.platform.architecture),
                img.manifest_bytes.clone(),
                Some(img.manifest.digest.clone()),
            ));
        }
        if kind == Kind::Oci {
            let back = tmp.path().join("from-archive");
            copy(
                skopeo(),
                false,
                &source(&s, Transport::DockerArchive),
                &format!("dir:{}", back.display()),
            );
            let m = read_dir_image(&back).unwrap().top_bytes;
            let d = ferry_test::sha256_bytes(&m);
            files.push(("docker-archive generated".into(), m, Some(d)));
        }
    }
    let (signed, signed_digest) = ferry_test::schema1::signed_manifest();
    files.push(("schema1 signed".into(), signed, Some(signed_digest)));
    let unsigned = br#"{"schemaVersion":1,"name":"library/x","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}"#;
    files.push((
        "schema1 unsigned".into(),
        unsigned.to_vec(),
        Some(ferry_test::sha256_bytes(unsigned)),
    ));
    files.push(("not json".into(), b"not json".to_vec(), None));
    files.push(("empty file".into(), Vec::new(), None));

    let mut problems = Vec::new();
    for (i, (what, bytes, want)) in files.iter().enumerate() {
        let p = tmp.path().join(format!("manifest-{i}.json"));
        fs_err::write(&p, bytes).unwrap();
        let theirs = run(skopeo().arg("manifest-digest").arg(&p));
        let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
        if let Some(w) = want {
            assert_eq!(
                theirs.trim(),
                w,
                "the harness's expectation for {what} is wrong"
            );
        }
        let ours = run_unchecked(ferry().arg("manifest-digest").arg(&p));
        let ours_s = String::from_utf8_lossy(&ours.stdout).into_owned();
        if !ours.status.success() || ours_s != theirs {
            problems.push(format!(
                "{what}: ferry printed {ours_s:?} (status {}, stderr {:?}), skopeo {theirs:?}",
                ours.status,
                String::from_utf8_lossy(&ours.stderr)
            ));
        }
    }
    let missing = tmp.path().join("does-not-exist.json");
    let ours = run_unchecked(ferry().arg("manifest-digest").arg(&missing));
    if ours.status.code() != Some(1) {
        problems.push(format!(
            "missing file: ferry exited with {} (skopeo: 1)",
            ours.status
        ));
    }
    assert!(
        problems.is_empty(),
        "manifest-digest differs from skopeo's:\n{}",
        problems.join("\n")
    );
}
