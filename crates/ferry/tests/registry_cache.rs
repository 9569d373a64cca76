//! The persistent blob-info cache: a push remembers which repositories hold each blob, so
//! a later push of the same blobs from a *local* source into another repository of the
//! same registry mounts them instead of uploading (skopeo's warm-cache behaviour), and
//! the cache file survives between processes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry_env.rs"]
mod registry_env;
#[allow(unused_imports)]
mod support;

use ferry_test::fixtures::Kind;
use ferry_test::registry::Options;
use ferry_test::sources::Transport;
use registry_env::*;
use support::{source, sources};

#[test]
fn second_push_mounts_from_a_repository_remembered_by_the_cache() {
    let Some(reg) = start(Options::default()) else {
        return;
    };
    let env = Env::new();
    let data_home = env.path("data");
    let s = sources(Kind::Oci, env.dir.path());
    let src = source(&s, Transport::Oci);
    let ferry = || {
        let mut c = env.ferry();
        c.env("XDG_DATA_HOME", &data_home);
        c
    };
    let first = format!("docker://{}/cache/first:1", reg.host());
    ok(ferry(), &["copy", "--dest-tls-verify=false", &src, &first]);
    let cache = data_home.join("ferry/blob-info-cache.json");
    let text = fs_err::read_to_string(&cache).unwrap();
    assert!(text.contains("cache/first"), "{text}");

    let mark = access_log(&reg).lines().count();
    let second = format!("docker://{}/cache/second:1", reg.host());
    ok(ferry(), &["copy", "--dest-tls-verify=false", &src, &second]);
    let log = access_log(&reg);
    let new: Vec<&str> = log.lines().skip(mark).collect();
    let mounts = new
        .iter()
        .filter(|l| {
            l.contains("mount=")
                && (l.contains("from=cache%2Ffirst") || l.contains("from=cache/first"))
        })
        .count();
    assert!(
        mounts >= 4,
        "expected the 4 layers to be mounted:\n{}",
        new.join("\n")
    );
    assert!(
        !new.iter()
            .any(|l| l.contains("PATCH") && l.contains("cache/second")),
        "no layer upload expected:\n{}",
        new.join("\n")
    );
    // And the image is complete.
    let out = env.path("back");
    ok(
        ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            &second,
            &format!("dir:{}", out.display()),
        ],
    );
}
