//! ferry's additions: skip-unchanged with one request per tag, OCI layouts, re-syncable
//! `dir:`, prune, parallel images with blobs copied once, digest file.

use std::os::unix::fs::MetadataExt;

use ferry_image::context::SystemContext;
use ferry_image::copy::ListSelection;
use ferry_image::sync::{DestKind, SourceKind, SyncEvent, sync};
use ferry_test::fixtures::{self, Kind};
use ferry_test::registry::Options;
use ferry_test::{OrDie, Registry};

use super::support::*;

const TAGS: &[(&str, &str)] = &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")];

/// A re-run with nothing new: on the source one tag listing plus one HEAD per tag, on
/// the destination one HEAD per tag — no GET of a manifest, nothing written.
#[test]
fn second_run_costs_one_request_per_tag() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let Some(dst) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "lay", 1, TAGS, &src.host(), "ns/app");
    let from = format!("{}/ns/app", src.host());
    let to = format!("{}/mirror", dst.host());
    let o = opts();
    let first = sync(
        &o,
        SourceKind::Docker,
        &from,
        DestKind::Docker,
        &to,
        &Events::default(),
    )
    .ok_or_die("first sync");
    assert_eq!((first.copied, first.skipped), (4, 0));
    assert_eq!(tag_digests(&dst, "mirror/app"), tag_digests(&src, "ns/app"));

    let (ms, md) = (settle(&src), settle(&dst));
    let ev = Events::default();
    let second =
        sync(&o, SourceKind::Docker, &from, DestKind::Docker, &to, &ev).ok_or_die("second");
    assert_eq!((second.copied, second.skipped, second.images), (0, 4, 4));
    assert_eq!(ev.count(|e| matches!(e, SyncEvent::Skipped { .. })), 4);
    settle(&src);
    settle(&dst);
    let mut on_src = requests(&src, ms);
    on_src.sort();
    let mut want: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|t| format!("HEAD /v2/ns/app/manifests/{t}"))
        .collect();
    want.push("GET /v2/ns/app/tags/list".into());
    want.sort();
    assert_eq!(on_src, want);
    let mut on_dst = requests(&dst, md);
    on_dst.sort();
    let want: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|t| format!("HEAD /v2/mirror/app/manifests/{t}"))
        .collect();
    assert_eq!(on_dst, want);
    // The pings: at most one per registry and side.
    assert!(src.access_lines_since(ms, "\"GET /v2/ HTTP").len() <= 1);
    assert!(dst.access_lines_since(md, "\"GET /v2/ HTTP").len() <= 1);

    // A changed tag at the source is copied again, the others are not.
    seed(
        t.path(),
        "lay2",
        1,
        &[("b", "changed")],
        &src.host(),
        "ns/app",
    );
    let third = sync(
        &o,
        SourceKind::Docker,
        &from,
        DestKind::Docker,
        &to,
        &Events::default(),
    )
    .ok_or_die("third");
    assert_eq!((third.copied, third.skipped), (1, 3));
    assert_eq!(digest(&dst, "mirror/app", "b"), digest(&src, "ns/app", "b"));
}

/// A multi-arch list synced without `--all` is compared through the instance the copy
/// picks; with `--all` the list itself is copied, with skopeo's digests.
#[test]
fn lists_are_skipped_when_unchanged() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let Some(dst) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    let f = fixtures::build(Kind::Multiarch, &t.path().join("multi")).or_die("fixture");
    push(f.layout.root(), fixtures::TAG, &src.host(), "multi");
    let from = format!("{}/multi", src.host());
    for (all, repo) in [(false, "one"), (true, "all")] {
        let mut o = opts();
        if all {
            o.copy.list_selection = ListSelection::All;
        }
        let to = format!("{}/{repo}", dst.host());
        let r1 = sync(
            &o,
            SourceKind::Docker,
            &from,
            DestKind::Docker,
            &to,
            &Events::default(),
        )
        .ok_or_die("first");
        assert_eq!(r1.copied, 1);
        let written = digest(&dst, &format!("{repo}/multi"), "latest").or_die("written");
        if all {
            assert_eq!(Some(written.clone()), digest(&src, "multi", "latest"));
        } else {
            assert_eq!(written, f.host_image().manifest.digest);
        }
        let r2 = sync(
            &o,
            SourceKind::Docker,
            &from,
            DestKind::Docker,
            &to,
            &Events::default(),
        )
        .ok_or_die("second");
        assert_eq!((r2.copied, r2.skipped), (0, 1), "all={all}");
    }
}

/// `--dest oci`: one layout per repository, tags as ref names, blobs hard-linked between
/// layouts; a re-run copies nothing; the layouts sync back out with the same digests.
#[test]
fn oci_destination_and_source() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "l1", 7, &TAGS[..3], &src.host(), "ns/app");
    seed(t.path(), "l2", 7, &[("x", "other")], &src.host(), "ns/tool");
    let yaml = t.path().join("s.yaml");
    fs_err::write(
        &yaml,
        format!(
            "{}:\n  tls-verify: false\n  images:\n    ns/app: []\n    ns/tool: []\n",
            src.host()
        ),
    )
    .or_die("yaml");
    let out = t.path().join("oci");
    let o = opts();
    let r = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Oci,
        &s(&out),
        &Events::default(),
    )
    .ok_or_die("sync to oci");
    assert_eq!(r.copied, 4);
    assert_eq!(names(&out), ["app", "tool"]);
    let index: serde_json::Value =
        serde_json::from_slice(&fs_err::read(out.join("app/index.json")).or_die("index"))
            .or_die("json");
    let mut refs: Vec<(String, String)> = index["manifests"]
        .as_array()
        .or_die("manifests")
        .iter()
        .map(|m| {
            (
                m["annotations"]["org.opencontainers.image.ref.name"]
                    .as_str()
                    .or_die("name")
                    .to_string(),
                m["digest"].as_str().or_die("digest").to_string(),
            )
        })
        .collect();
    refs.sort();
    assert_eq!(refs, tag_digests(&src, "ns/app")[..3].to_vec());
    // The shared base layer is one file in two layouts.
    let base = refs_blob_inode(&out.join("app"), &out.join("tool"));
    assert!(base, "no blob hard-linked between the layouts");

    let again = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Oci,
        &s(&out),
        &Events::default(),
    )
    .ok_or_die("re-sync");
    assert_eq!((again.copied, again.skipped), (0, 4));

    // Back out of the layouts into a registry: same names and digests.
    let r = sync(
        &o,
        SourceKind::Oci,
        &s(&out),
        DestKind::Docker,
        &format!("{}/back", src.host()),
        &Events::default(),
    )
    .ok_or_die("oci source");
    assert_eq!((r.copied, r.sources), (4, 2));
    assert_eq!(
        tag_digests(&src, "back/app"),
        tag_digests(&src, "ns/app")[..3].to_vec()
    );
    assert_eq!(tag_digests(&src, "back/tool"), tag_digests(&src, "ns/tool"));
}

/// Whether the two layouts share a blob file (same inode).
fn refs_blob_inode(a: &std::path::Path, b: &std::path::Path) -> bool {
    let inodes = |p: &std::path::Path| -> Vec<(String, u64)> {
        fs_err::read_dir(p.join("blobs/sha256"))
            .or_die("blobs")
            .filter_map(|e| e.ok())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().map(|m| m.ino()).unwrap_or(0),
                )
            })
            .collect()
    };
    let ib = inodes(b);
    inodes(a)
        .iter()
        .any(|(n, i)| ib.iter().any(|(m, j)| m == n && i == j))
}

/// `--dest dir` re-runs: unchanged images are skipped, a changed tag is replaced in
/// place (skopeo refuses: "Refusing to overwrite destination directory").
#[test]
fn dir_destination_is_resyncable() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "l", 1, TAGS, &src.host(), "ns/app");
    let from = format!("{}/ns/app", src.host());
    let out = t.path().join("out");
    let o = opts();
    let r1 = sync(
        &o,
        SourceKind::Docker,
        &from,
        DestKind::Dir,
        &s(&out),
        &Events::default(),
    )
    .ok_or_die("1");
    assert_eq!(r1.copied, 4);
    assert_eq!(names(&out), ["app:a", "app:b", "app:c", "app:d"]);
    seed(t.path(), "l2", 1, &[("c", "new c")], &src.host(), "ns/app");
    let r2 = sync(
        &o,
        SourceKind::Docker,
        &from,
        DestKind::Dir,
        &s(&out),
        &Events::default(),
    )
    .ok_or_die("2");
    assert_eq!((r2.copied, r2.skipped), (1, 3));
    assert_eq!(
        Some(dir_digest(&out.join("app:c"))),
        digest(&src, "ns/app", "c")
    );
    if let Some(o) = skopeo_sync(&[
        "--src",
        "docker",
        "--dest",
        "dir",
        "--src-tls-verify=false",
        &from,
        &s(&out),
    ]) {
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr)
                .contains("Refusing to overwrite destination directory")
        );
    }
}

/// Prune: tags the source no longer has go (a dry run first only reports); tags the
/// YAML selection does not cover stay; a tag sharing its manifest with a surviving tag
/// is not deleted.
#[test]
fn prune_removes_what_the_source_lost() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let Some(dst) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(
        t.path(),
        "l",
        1,
        &[("1.0", "a"), ("1.1", "b"), ("1.2", "c"), ("2.0", "d")],
        &src.host(),
        "app",
    );
    let yaml = t.path().join("s.yaml");
    fs_err::write(
        &yaml,
        format!(
            "{}:\n  tls-verify: false\n  images-by-tag-regex:\n    app: '^1\\.'\n",
            src.host()
        ),
    )
    .or_die("yaml");
    let to = format!("{}/m", dst.host());
    let mut o = opts();
    o.prune = true;
    sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Docker,
        &to,
        &Events::default(),
    )
    .ok_or_die("sync");
    assert_eq!(tags(&dst, "m/app"), ["1.0", "1.1", "1.2"]);
    // Outside the selection: never pruned. Same manifest as 1.2: not deletable alone.
    seed(t.path(), "l2", 1, &[("keep", "x")], &dst.host(), "m/app");
    seed(
        t.path(),
        "l3",
        1,
        &[("1.2-alias", "c-alias")],
        &dst.host(),
        "m/app",
    );
    delete_tag(&src, "app", "1.1");
    delete_tag(&src, "app", "1.2");
    seed(t.path(), "l4", 1, &[("1.2", "c2")], &src.host(), "app");
    let mut dry = o.clone();
    dry.dry_run = true;
    let ev = Events::default();
    let r = sync(
        &dry,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Docker,
        &to,
        &ev,
    )
    .ok_or_die("dry run");
    let mut pruned = r.pruned.clone();
    pruned.sort();
    assert_eq!(
        pruned,
        [
            format!("docker://{to}/app:1.1"),
            format!("docker://{to}/app:1.2-alias")
        ]
    );
    assert_eq!(
        tags(&dst, "m/app"),
        ["1.0", "1.1", "1.2", "1.2-alias", "keep"]
    );

    let ev = Events::default();
    let r = sync(&o, SourceKind::Yaml, &s(&yaml), DestKind::Docker, &to, &ev).ok_or_die("prune");
    assert_eq!(r.copied, 1);
    assert_eq!(tags(&dst, "m/app"), ["1.0", "1.2", "keep"]);

    // A tag to prune whose manifest another (uncovered) tag still uses: kept, with a warning.
    seed(
        t.path(),
        "l5",
        1,
        &[("1.9", "shared")],
        &dst.host(),
        "m/app",
    );
    seed(
        t.path(),
        "l6",
        1,
        &[("pinned", "shared")],
        &dst.host(),
        "m/app",
    );
    let ev = Events::default();
    sync(&o, SourceKind::Yaml, &s(&yaml), DestKind::Docker, &to, &ev).ok_or_die("prune 2");
    assert!(tags(&dst, "m/app").contains(&"1.9".to_string()));
    assert_eq!(ev.count(|e| matches!(e, SyncEvent::NotDeleting { .. })), 1);
}

/// Prune in OCI layouts and `dir` trees.
#[test]
fn prune_oci_and_dir() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "l", 1, TAGS, &src.host(), "app");
    let from = format!("{}/app", src.host());
    for kind in [DestKind::Oci, DestKind::Dir] {
        let out = t.path().join(format!("{kind:?}"));
        let mut o = opts();
        o.prune = true;
        sync(
            &o,
            SourceKind::Docker,
            &from,
            kind,
            &s(&out),
            &Events::default(),
        )
        .ok_or_die("sync");
        o.exclude = vec!["^d$".into()];
        delete_tag(&src, "app", "a");
        let r = sync(
            &o,
            SourceKind::Docker,
            &from,
            kind,
            &s(&out),
            &Events::default(),
        )
        .ok_or_die("prune");
        assert_eq!(r.pruned.len(), 1, "{kind:?}: {:?}", r.pruned);
        match kind {
            DestKind::Dir => assert_eq!(names(&out), ["app:b", "app:c", "app:d"]),
            _ => {
                let idx = fs_err::read_to_string(out.join("app/index.json")).or_die("index");
                assert!(!idx.contains("\"a\""), "{idx}");
                assert!(idx.contains("\"d\""), "{idx}");
            }
        }
        seed(
            t.path(),
            &format!("back-{kind:?}"),
            1,
            &TAGS[..1],
            &src.host(),
            "app",
        );
    }
}

/// Parallel images: the shared base layer is uploaded once to the destination registry
/// and mounted into the other repositories; every blob crosses the network once.
#[test]
fn parallel_images_upload_each_blob_once() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let Some(dst) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    let repos = ["r1", "r2", "r3"];
    for (i, r) in repos.iter().enumerate() {
        let own: Vec<(String, String)> = (0..3)
            .map(|k| (format!("t{k}"), format!("{r}-{k}")))
            .collect();
        let own: Vec<(&str, &str)> = own.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        seed(t.path(), &format!("l{i}"), 9, &own, &src.host(), r);
    }
    let yaml = t.path().join("s.yaml");
    fs_err::write(
        &yaml,
        format!(
            "{}:\n  tls-verify: false\n  images:\n    r1: []\n    r2: []\n    r3: []\n",
            src.host()
        ),
    )
    .or_die("yaml");
    let mut o = opts();
    o.parallel = 4;
    let mark = settle(&dst);
    let r = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Docker,
        &dst.host(),
        &Events::default(),
    )
    .ok_or_die("parallel sync");
    assert_eq!((r.copied, r.sources), (9, 3));
    for repo in repos {
        assert_eq!(tag_digests(&dst, repo), tag_digests(&src, repo));
    }
    settle(&dst);
    let uploads = requests(&dst, mark)
        .into_iter()
        .filter(|l| l.starts_with("PUT ") && l.contains("/blobs/uploads/"))
        .count();
    // 1 shared base layer + 9 own layers + 9 configs.
    assert_eq!(uploads, 19);
}

/// `digest_file`: one `<digest> <destination>` line per synced image, also for images
/// already present; truncated at the start.
#[test]
fn digest_file_lines() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "l", 1, &TAGS[..2], &src.host(), "app");
    let file = t.path().join("digests");
    fs_err::write(&file, "stale\n").or_die("stale");
    let mut o = opts();
    o.digest_file = Some(file.clone());
    let out = t.path().join("out");
    let from = format!("{}/app", src.host());
    for _ in 0..2 {
        sync(
            &o,
            SourceKind::Docker,
            &from,
            DestKind::Dir,
            &s(&out),
            &Events::default(),
        )
        .ok_or_die("sync");
        let mut lines: Vec<String> = fs_err::read_to_string(&file)
            .or_die("read")
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        let want: Vec<String> = ["a", "b"]
            .iter()
            .map(|tag| {
                format!(
                    "{} dir:{}/app:{tag}",
                    digest(&src, "app", tag).or_die("d"),
                    out.display()
                )
            })
            .collect();
        assert_eq!(lines, want);
    }
}

/// Tag filters and semver (skopeo 1.9.3 has no images-by-semver: checked on its own).
#[test]
fn filters_and_semver_select_tags() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    let tags = [
        ("1.0.0", "a"),
        ("1.2.3", "b"),
        ("1.2.4-rc1", "c"),
        ("v1.3", "d"),
        ("2.0.0", "e"),
        ("latest", "f"),
    ];
    seed(t.path(), "l", 1, &tags, &src.host(), "app");
    let yaml = t.path().join("s.yaml");
    fs_err::write(
        &yaml,
        format!(
            "{}:\n  tls-verify: false\n  images-by-semver:\n    app: '^1.2 || >= 2'\n  repositories:\n    app:\n      exclude: '^v|latest'\n      destination: filtered/app\n",
            src.host()
        ),
    )
    .or_die("yaml");
    let mut o = opts();
    o.dry_run = true;
    o.exclude = vec!["^2".into()];
    let ev = Events::default();
    let r = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Docker,
        "reg.example/base",
        &ev,
    )
    .ok_or_die("dry run");
    let mut to: Vec<String> = ev.copying().into_iter().map(|(_, t)| t).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "docker://reg.example/base/app:1.2.3",
            "docker://reg.example/base/app:v1.3",
            "docker://reg.example/base/filtered/app:1.0.0",
            "docker://reg.example/base/filtered/app:1.2.3",
            "docker://reg.example/base/filtered/app:1.2.4-rc1",
        ]
    );
    assert_eq!((r.images, r.copied), (5, 0));
}

/// `--append-suffix` lands on the destination tag; prune only considers tags with the
/// suffix.
#[test]
fn append_suffix_and_prune() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let Some(dst) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(t.path(), "l", 1, &TAGS[..3], &src.host(), "app");
    seed(t.path(), "own", 1, &[("a", "theirs")], &dst.host(), "m/app");
    let mut o = opts();
    o.append_suffix = "-mirror".into();
    o.prune = true;
    let from = format!("{}/app", src.host());
    let to = format!("{}/m", dst.host());
    sync(
        &o,
        SourceKind::Docker,
        &from,
        DestKind::Docker,
        &to,
        &Events::default(),
    )
    .ok_or_die("sync");
    assert_eq!(
        tags(&dst, "m/app"),
        ["a", "a-mirror", "b-mirror", "c-mirror"]
    );
    assert_eq!(digest(&dst, "m/app", "b-mirror"), digest(&src, "app", "b"));
    delete_tag(&src, "app", "b");
    let r = sync(
        &o,
        SourceKind::Docker,
        &from,
        DestKind::Docker,
        &to,
        &Events::default(),
    )
    .ok_or_die("prune");
    assert_eq!((r.skipped, r.pruned.len()), (2, 1));
    assert_eq!(tags(&dst, "m/app"), ["a", "a-mirror", "c-mirror"]);
}

/// Per-registry YAML settings override the source flags: credentials for an htpasswd
/// registry, `tls-verify` + `cert-dir` for a TLS registry with a private CA.
#[test]
fn yaml_registry_settings() {
    let Some(auth) = Registry::start_with_or_skip(Options::htpasswd("john", "s3cret")) else {
        return;
    };
    if !ferry_test::tls::require_openssl() {
        return;
    }
    let Some(tls) = Registry::start_with_or_skip(Options::tls()) else {
        return;
    };
    let t = tmp();
    let l = layout(&t.path().join("l"), 1, &TAGS[..1]);
    let mut creds = insecure();
    creds.docker.creds = Some(("john".into(), "s3cret".into()));
    push_with(l.root(), "a", &auth.host(), "app", creds);
    let certs = tls.cert_dir().or_die("cert dir");
    let mut ca = SystemContext::default();
    ca.docker.cert_dir = Some(certs.clone());
    push_with(l.root(), "a", &tls.host(), "app", ca);

    let yaml = t.path().join("s.yaml");
    let write = |with: bool| {
        let (c, d) = if with {
            (
                "  credentials:\n    username: john\n    password: s3cret\n".to_string(),
                format!("  cert-dir: {}\n", certs.display()),
            )
        } else {
            (String::new(), String::new())
        };
        fs_err::write(
            &yaml,
            format!(
                "{}:\n  tls-verify: false\n{c}  images:\n    app: []\n{}:\n  tls-verify: true\n{d}  images:\n    app: [a]\n",
                auth.host(),
                tls.host()
            ),
        )
        .or_die("yaml");
    };
    let out = t.path().join("out");
    write(true);
    let r = sync(
        &opts(),
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Oci,
        &s(&out),
        &Events::default(),
    )
    .ok_or_die("sync with per-registry settings");
    // Both are `app:a` with the same image: the second finds it there.
    assert_eq!((r.images, r.copied, r.skipped), (2, 1, 1));
    write(false);
    let mut o = opts();
    o.keep_going = true;
    let e = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Oci,
        &s(&t.path().join("o2")),
        &Events::default(),
    )
    .expect_err("no credentials, no CA");
    let ferry_image::sync::SyncError::Failed { summary } = e else {
        panic!("{e:?}")
    };
    let why: Vec<String> = summary.failures.iter().map(|e| chain(e)).collect();
    assert_eq!(summary.failures.len(), 2, "{why:?}");
}
