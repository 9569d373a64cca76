//! `ferry sync` end to end against a real registry: the same destination tree and log
//! lines as skopeo 1.9.3, and ferry's extras through the CLI (`--dest oci`, `--include`,
//! a re-sync into an existing `dir:` tree). The sync engine's own tests (request counts,
//! prune, parallel, YAML) are in crates/ferry-image/tests/sync.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry_env.rs"]
mod registry_env;
#[allow(unused_imports)]
mod support;

use ferry_test::diff_trees;
use ferry_test::fixtures::Kind;
use ferry_test::registry::Options;
use ferry_test::sources::Transport;
use registry_env::*;
use support::sources;

/// Pushes the OCI fixture under two tags and returns the repository (`host/sync/app`).
fn seeded(env: &Env, reg: &ferry_test::registry::Registry) -> String {
    let s = sources(Kind::Oci, env.dir.path());
    let repo = format!("{}/sync/app", reg.host());
    for tag in ["1.0", "2.0"] {
        push(
            env,
            &s,
            Transport::Oci,
            &format!("docker://{repo}:{tag}"),
            false,
        );
    }
    repo
}

/// The log messages (`msg="…"`) of a sync run, without timestamps.
fn messages(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once(" msg=").map(|(_, rest)| rest.to_string()))
        .collect()
}

#[test]
fn docker_to_dir_matches_skopeo() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let repo = seeded(&env, &reg);
    let (a, b) = (env.path("ferry"), env.path("skopeo"));
    let args = |d: &std::path::Path| {
        vec![
            "sync".to_string(),
            "--src".into(),
            "docker".into(),
            "--dest".into(),
            "dir".into(),
            "--src-tls-verify=false".into(),
            repo.clone(),
            d.display().to_string(),
        ]
    };
    let fa: Vec<String> = args(&a);
    let sa: Vec<String> = args(&b);
    let mark = reg.log_mark();
    let fo = ok(
        env.ferry(),
        &fa.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    // Each blob crossed the network once: the second tag's copies are hard links of the
    // first's (skopeo fetches and writes them once per tag).
    let blobs = |d: std::path::PathBuf| -> Vec<(String, u64)> {
        use std::os::unix::fs::MetadataExt;
        let mut v: Vec<(String, u64)> = fs_err::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.file_name().len() == 64)
            .map(|e| {
                let ino = e.metadata().unwrap().ino();
                (e.file_name().to_string_lossy().into_owned(), ino)
            })
            .collect();
        v.sort();
        v
    };
    let (one, two) = (blobs(a.join("app:1.0")), blobs(a.join("app:2.0")));
    assert!(!one.is_empty());
    assert_eq!(one, two, "the tags' blobs are the same files");
    // The config is read whole up front by each image's copy (small); layers once.
    let gets = reg.wait_access(mark, &["\"GET /v2/sync/app/blobs/"], one.len() + 1);
    assert_eq!(gets.len(), one.len() + 1, "{gets:#?}");
    let so = ok(
        env.skopeo(),
        &sa.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    diff_trees(&a, &b).unwrap();
    // Same log lines, once the destination paths are made equal.
    let norm = |s: &[u8], d: &std::path::Path| {
        messages(&String::from_utf8_lossy(s).replace(&d.display().to_string(), "DEST"))
    };
    assert_eq!(norm(&fo.stderr, &a), norm(&so.stderr, &b));
    assert!(
        String::from_utf8_lossy(&fo.stderr).contains("msg=\"Synced 2 images from 1 sources\""),
        "{}",
        String::from_utf8_lossy(&fo.stderr)
    );
    // Unlike skopeo, the same tree can be synced again.
    ok(
        env.ferry(),
        &fa.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    diff_trees(&a, &b).unwrap();
}

#[test]
fn oci_destination_with_include_filter() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let repo = seeded(&env, &reg);
    let dest = env.path("layouts");
    let d = dest.display().to_string();
    ok(
        env.ferry(),
        &[
            "sync",
            "--src",
            "docker",
            "--dest",
            "oci",
            "--include",
            "^2\\.",
            "--src-tls-verify=false",
            &repo,
            &d,
        ],
    );
    let index = fs_err::read_to_string(dest.join("app").join("index.json")).unwrap();
    assert!(
        index.contains("\"org.opencontainers.image.ref.name\":\"2.0\""),
        "{index}"
    );
    assert!(!index.contains("\"1.0\""), "{index}");
}

#[test]
fn unknown_transport_kind_is_refused() {
    let env = Env::new();
    let (code, err) = fails(
        env.ferry(),
        &["sync", "--src", "nope", "--dest", "dir", "a", "b"],
    );
    assert_eq!(code, 1);
    assert_contains(&err, "\"nope\" is not a valid source transport");
}
