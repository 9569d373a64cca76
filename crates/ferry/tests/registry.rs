//! `docker://` end to end, against a real registry (Debian's `docker-registry`,
//! Distribution 2.8) started on 127.0.0.1 by the harness in four modes: plain HTTP, TLS
//! with a test CA (trusted by `--cert-dir` or certs.d), htpasswd Basic auth, and Bearer
//! tokens from the harness's token server.
//!
//! Shown here (authentication is in `registry_auth.rs`): push/pull round trips for every
//! local transport; pulls identical to skopeo's (`dir:` bytes, `inspect` JSON with
//! `RepoTags`); `list-tags`; `delete`; registries.conf mirrors; same-registry
//! cross-repository mounts; a blob download cut mid-stream that resumes with `Range`;
//! TLS trust via `--cert-dir` and certs.d; and bad input (unknown image or tag: exit 2,
//! untrusted certificate).
//!
//! Every tool runs in a controlled environment (see `support/registry_env.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry_env.rs"]
mod registry_env;
#[allow(unused_imports)]
mod support;

use ferry_test::fixtures::Kind;
use ferry_test::proxy::{Fault, FaultProxy};
use ferry_test::registry::{Options, free_port};
use ferry_test::sources::Transport;
use ferry_test::{diff_trees, require_skopeo};
use registry_env::*;
use support::{ok_or_fail, source, sources};

// ---------------------------------------------------------------------------------------
// Plain HTTP.

/// Each local transport → registry → the same transport: read back, the image is the
/// one that was pushed (same `dir:` bytes as reading the original).
#[test]
fn round_trip_through_the_registry_for_every_local_transport() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    fs_err::create_dir_all(env.path("pulled")).unwrap();
    for t in Transport::ALL {
        let dest = format!("docker://{}/round-trip/{}:latest", reg.host(), t.name());
        push(&env, &s, t, &dest, false);
        let back_path = t.path_in(&env.path("pulled"), t.name());
        let back_ref = t.reference(&back_path, Some("pulled"));
        ok(
            env.ferry(),
            &["copy", "--src-tls-verify=false", &dest, &back_ref],
        );
        let (want, got) = (
            env.path(&format!("want-{}", t.name())),
            env.path(&format!("got-{}", t.name())),
        );
        ok(
            env.ferry(),
            &["copy", &source(&s, t), &format!("dir:{}", want.display())],
        );
        ok(
            env.ferry(),
            &["copy", &back_ref, &format!("dir:{}", got.display())],
        );
        ok_or_fail(
            &format!(
                "{} → registry → {}: original (A) vs round trip (B)",
                t.name(),
                t.name()
            ),
            diff_trees(&want, &got),
        );
    }
}

/// The same registry images pulled by ferry and skopeo give identical `dir:` trees,
/// and `inspect` prints the same JSON (with `RepoTags`), raw manifest and config.
#[test]
fn pulls_and_inspect_match_skopeo() {
    if !require_skopeo() {
        return;
    }
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    for (kind, all) in [
        (Kind::Oci, false),
        (Kind::Schema2, false),
        (Kind::Multiarch, true),
    ] {
        let s = sources(kind, &env.path(kind.name()));
        let repo = format!("{}/diff/{}", reg.host(), kind.name());
        push(
            &env,
            &s,
            Transport::Dir,
            &format!("docker://{repo}:v1"),
            all,
        );
        add_tag(&reg, &format!("diff/{}", kind.name()), "v1", "v2");
        let image = format!("docker://{repo}:v1");
        let (a, b) = (
            env.path(&format!("{}-ferry", kind.name())),
            env.path(&format!("{}-skopeo", kind.name())),
        );
        pull_to_dir(env.ferry(), &image, &a, all);
        pull_to_dir(env.skopeo(), &image, &b, all);
        ok_or_fail(
            &format!("{} pulled by ferry (A) and skopeo (B)", kind.name()),
            diff_trees(&a, &b),
        );
        for flags in [
            &[][..],
            &["--raw"],
            &["--config"],
            &["--config", "--raw"],
            &["--no-tags"],
        ] {
            let mut args = vec!["inspect", "--tls-verify=false"];
            args.extend_from_slice(flags);
            args.push(&image);
            let f = stdout(&ok(env.ferry(), &args));
            let k = stdout(&ok(env.skopeo(), &args));
            assert_eq!(f, k, "inspect {flags:?} {image}: ferry vs skopeo");
            if flags.is_empty() {
                assert_contains(
                    &f,
                    "\"RepoTags\": [\n        \"v1\",\n        \"v2\"\n    ]",
                );
            }
        }
    }
}

/// `list-tags` lists every tag (Distribution ignores `?n=`, so this is one page) with
/// skopeo's exact output; a tag in the reference is refused; a global flag reaches the
/// registry (`--user-agent-prefix`).
#[test]
fn list_tags_like_skopeo() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    push(
        &env,
        &s,
        Transport::Dir,
        &format!("docker://{}/many/tags:t00", reg.host()),
        false,
    );
    let mut want: Vec<String> = (0..40).map(|i| format!("t{i:02}")).collect();
    for t in &want[1..] {
        add_tag(&reg, "many/tags", "t00", t);
    }
    want.push("latest".into());
    add_tag(&reg, "many/tags", "t00", "latest");
    want.sort();
    let repo = format!("docker://{}/many/tags", reg.host());
    let out = stdout(&ok(
        env.ferry(),
        &[
            "--user-agent-prefix",
            "probe/7.1",
            "list-tags",
            "--tls-verify=false",
            &repo,
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Repository"], format!("{}/many/tags", reg.host()));
    let mut got: Vec<String> = serde_json::from_value(v["Tags"].clone()).unwrap();
    got.sort();
    assert_eq!(got, want);
    assert!(
        !reg.wait_access(0, &["probe/7.1 ferry/"], 1).is_empty(),
        "User-Agent prefix not seen by the registry:\n{}",
        access_log(&reg)
    );
    if require_skopeo() {
        let k = stdout(&ok(
            env.skopeo(),
            &["list-tags", "--tls-verify=false", &repo],
        ));
        assert_eq!(out, k, "list-tags: ferry vs skopeo");
    }
    let (code, err) = fails(
        env.ferry(),
        &["list-tags", "--tls-verify=false", &format!("{repo}:t01")],
    );
    assert_eq!(
        (code, ferry_error(&err).as_str()),
        (1, "No tag or digest allowed in reference")
    );
    let (code, err) = fails(
        env.ferry(),
        &[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{}/no/such-repo", reg.host()),
        ],
    );
    assert_ne!(code, 0);
    assert_contains(
        &err,
        "Error listing repository tags: fetching tags list: invalid status code from registry 404",
    );
}

/// `delete` removes the manifest (every tag pointing at it): inspect then exits 2, as
/// does anything about an unknown repository or tag.
#[test]
fn delete_then_not_found_exits_2() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    let a = format!("docker://{}/del/img:a", reg.host());
    let b = format!("docker://{}/del/img:b", reg.host());
    push(&env, &s, Transport::Dir, &a, false);
    add_tag(&reg, "del/img", "a", "b");
    ok(env.ferry(), &["inspect", "--tls-verify=false", &b]);
    ok(env.ferry(), &["delete", "--tls-verify=false", &a]);
    assert!(
        !reg.wait_access(0, &["\"DELETE /v2/del/img/manifests/sha256:"], 1)
            .is_empty(),
        "{}",
        access_log(&reg)
    );
    for gone in [&a, &b] {
        let (code, err) = fails(env.ferry(), &["inspect", "--tls-verify=false", gone]);
        assert_eq!(code, 2, "{err}");
        assert_contains(&err, "manifest unknown");
    }
    let (code, err) = fails(env.ferry(), &["delete", "--tls-verify=false", &a]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        ferry_error(&err),
        format!(
            "Unable to delete {}/del/img:a. Image may not exist or is not stored with a v2 Schema in a v2 registry",
            reg.host()
        )
    );
    let unknown_repo = format!("docker://{}/no/such:latest", reg.host());
    let (code, _) = fails(
        env.ferry(),
        &["inspect", "--tls-verify=false", &unknown_repo],
    );
    assert_eq!(code, 2);
    let out = env.path("out");
    let (code, err) = fails(
        env.ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            &unknown_repo,
            &format!("dir:{}", out.display()),
        ],
    );
    assert_eq!(code, 2, "{err}");
}

/// A copy within one registry to a new repository mounts the blobs (`?mount=&from=`)
/// instead of uploading them: the registry log shows mounts and no `PATCH`.
#[test]
fn same_registry_copy_mounts_blobs() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    let from = format!("docker://{}/mount/source:latest", reg.host());
    let to = format!("docker://{}/mount/target:latest", reg.host());
    push(&env, &s, Transport::Dir, &from, false);
    let mark = reg.log_mark();
    ok(
        env.ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &from,
            &to,
        ],
    );
    // 4 layers and the config.
    let mounts = reg.wait_access(
        mark,
        &[
            "\"POST /v2/mount/target/blobs/uploads/?",
            "mount=sha256",
            "from=mount%2Fsource",
        ],
        5,
    );
    assert_eq!(mounts.len(), 5, "expected 5 mounts:\n{}", access_log(&reg));
    assert!(mounts.iter().all(|l| l.contains("\" 201 ")), "{mounts:#?}");
    assert_eq!(
        reg.access_lines_since(mark, "\"PATCH ").len(),
        0,
        "{}",
        access_log(&reg)
    );
    assert_eq!(
        get_manifest(&reg, "mount/source", "latest"),
        get_manifest(&reg, "mount/target", "latest")
    );
}

/// Pushing to a repository the registry does not know: one tag-list request instead of a
/// `HEAD` per small blob. Pushing again to it (it now exists): the blobs are looked for,
/// found, and not uploaded again.
#[test]
fn new_repository_skips_blob_lookups() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    let to = format!("docker://{}/fresh/repo:latest", reg.host());
    let mark = reg.log_mark();
    push(&env, &s, Transport::Dir, &to, false);
    reg.wait_access(mark, &["\"PUT /v2/fresh/repo/manifests/latest"], 1);
    assert_eq!(
        reg.access_lines_since(mark, "\"HEAD /v2/fresh/repo/blobs/")
            .len(),
        0,
        "{}",
        access_log(&reg)
    );
    let lists = reg.access_lines_since(mark, "\"GET /v2/fresh/repo/tags/list");
    assert_eq!(lists.len(), 1, "{}", access_log(&reg));
    assert!(lists[0].contains("\" 404 "), "{lists:?}");
    // Its JSON 404 shows a registry answered: no `/v2/` ping either.
    assert_eq!(
        reg.access_lines_since(mark, "\"GET /v2/ ").len(),
        0,
        "{}",
        access_log(&reg)
    );

    let mark = reg.log_mark();
    push(&env, &s, Transport::Dir, &to, false);
    // 4 layers and the config, all found.
    let heads = reg.wait_access(mark, &["\"HEAD /v2/fresh/repo/blobs/"], 5);
    assert_eq!(heads.len(), 5, "{}", access_log(&reg));
    assert!(heads.iter().all(|l| l.contains("\" 200 ")), "{heads:#?}");
    assert_eq!(
        reg.access_lines_since(mark, "\"POST /v2/fresh/repo/blobs/uploads/")
            .len(),
        0,
        "{}",
        access_log(&reg)
    );
}

/// A blob download cut in the middle resumes with a `Range` request; the pulled image
/// is exact.
#[test]
fn cut_download_resumes_with_range() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    push(
        &env,
        &s,
        Transport::Dir,
        &format!("docker://{}/cut/img:latest", reg.host()),
        false,
    );
    // The biggest layer (the random one: it does not compress).
    let img = s.fixture.host_image();
    let manifest: serde_json::Value = serde_json::from_slice(&img.manifest_bytes).unwrap();
    let layer = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|l| l["size"].as_u64().unwrap())
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .unwrap();
    let proxy = FaultProxy::start(reg.port());
    proxy.add(
        &format!("GET /v2/cut/img/blobs/{layer}"),
        Fault::CutResponse { after: 8 * 1024 },
        1,
    );
    let got = env.path("got");
    pull_to_dir(
        env.ferry(),
        &format!("docker://{}/cut/img:latest", proxy.host()),
        &got,
        false,
    );
    assert_eq!(
        proxy.fired().len(),
        1,
        "the cut did not happen: {:?}",
        proxy.heads()
    );
    let ranged: Vec<String> = proxy
        .heads()
        .into_iter()
        .filter(|h| h.contains(&layer) && h.to_ascii_lowercase().contains("\nrange: bytes="))
        .collect();
    assert_eq!(
        ranged.len(),
        1,
        "no Range request after the cut: {:#?}",
        proxy.heads()
    );
    let want = env.path("want");
    ok(
        env.ferry(),
        &[
            "copy",
            &source(&s, Transport::Dir),
            &format!("dir:{}", want.display()),
        ],
    );
    ok_or_fail(
        "pulled through the cutting proxy (B) vs the original (A)",
        diff_trees(&want, &got),
    );
}

/// A mirror in registries.conf (`--registries-conf`) serves the pull when the primary
/// location is down, and when it lacks the image.
#[test]
fn registries_conf_mirror_serves_the_pull() {
    let (Some(mirror), Some(empty)) = (start(Options::default()), start(Options::default())) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    push(
        &env,
        &s,
        Transport::Dir,
        &format!("docker://{}/mirrored/img:latest", mirror.host()),
        false,
    );
    let dead = format!("127.0.0.1:{}", free_port().unwrap());
    for (i, primary) in [dead, empty.host()].iter().enumerate() {
        let conf = env.path(&format!("registries-{i}.conf"));
        write(
            &conf,
            &format!(
                "[[registry]]\nprefix = \"{primary}/mirrored\"\nlocation = \"{primary}/mirrored\"\ninsecure = true\n\n\
                 [[registry.mirror]]\nlocation = \"{}/mirrored\"\ninsecure = true\n",
                mirror.host()
            ),
        );
        let mark = mirror.log_mark();
        let got = env.path(&format!("got-{i}"));
        let conf_s = conf.display().to_string();
        ok(
            env.ferry(),
            &[
                "--registries-conf",
                &conf_s,
                "copy",
                &format!("docker://{primary}/mirrored/img:latest"),
                &format!("dir:{}", got.display()),
            ],
        );
        assert!(
            !mirror
                .wait_access(mark, &["\"GET /v2/mirrored/img/manifests/latest"], 1)
                .is_empty(),
            "the mirror did not serve the manifest:\n{}",
            access_log(&mirror)
        );
        let want = env.path(&format!("want-{i}"));
        ok(
            env.ferry(),
            &[
                "copy",
                &source(&s, Transport::Dir),
                &format!("dir:{}", want.display()),
            ],
        );
        ok_or_fail(
            "pulled via the mirror (B) vs the original (A)",
            diff_trees(&want, &got),
        );
    }
}

// ---------------------------------------------------------------------------------------
// TLS.

/// A TLS registry with a private CA: trusted via `--cert-dir`, via certs.d under HOME,
/// or not at all (the error names the certificate problem).
#[test]
fn tls_with_cert_dir_and_certs_d() {
    if !ferry_test::tls::require_openssl() {
        return;
    }
    let Some(reg) = start(Options::tls()) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    let certs = reg.cert_dir().unwrap().display().to_string();
    let image = format!("docker://{}/tls/img:latest", reg.host());
    let src = source(&s, Transport::Dir);
    ok(
        env.ferry(),
        &["copy", "--dest-cert-dir", &certs, &src, &image],
    );
    ok(env.ferry(), &["inspect", "--cert-dir", &certs, &image]);

    let (code, err) = fails(env.ferry(), &["inspect", &image]);
    assert_eq!(code, 1);
    assert_contains(&err.to_lowercase(), "certificate");
    // Without verification (the certificate is not checked).
    ok(env.ferry(), &["inspect", "--tls-verify=false", &image]);

    // login verifies over TLS too (this registry has no auth: any user gets in).
    let out = ok(
        env.ferry(),
        &[
            "login",
            "--cert-dir",
            &certs,
            "-u",
            "u",
            "-p",
            "p",
            &reg.host(),
        ],
    );
    assert_eq!(stdout(&out), "Login Succeeded!\n");
    let (_, err) = fails(env.ferry(), &["login", "-u", "u", "-p", "p", &reg.host()]);
    assert_contains(&err.to_lowercase(), "certificate");

    env.trust_in_certs_d(&reg);
    let a = stdout(&ok(env.ferry(), &["inspect", &image]));
    let b = stdout(&ok(env.ferry(), &["inspect", "--cert-dir", &certs, &image]));
    assert_eq!(a, b);
    let got = env.path("got");
    pull_to_dir(env.ferry(), &image, &got, false);
    let want = env.path("want");
    ok(
        env.ferry(),
        &["copy", &src, &format!("dir:{}", want.display())],
    );
    ok_or_fail(
        "pulled over TLS (B) vs the original (A)",
        diff_trees(&want, &got),
    );
}
