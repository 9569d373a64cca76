//! Conformance of every local transport (dir, oci, oci-archive, docker-archive): each
//! test image is written by ferry, read back by ferry, and must come back with the same
//! bytes (byte-identical `dir:` trees where the transport stores the image as is; same
//! config and layer contents where it must convert, as docker-archive does). Plus the
//! transports' own rules, as skopeo implements them (naming, overwriting).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use ferry_test::dirimage::read_dir_image;
use ferry_test::fixtures::Kind;
use ferry_test::sources::Transport;
use ferry_test::{diff_trees, run_fail};
use serde_json::Value;
use support::*;

/// Whether transport `t` stores the `kind` image unchanged (so that reading it back
/// gives the fixture's exact `dir:` tree).
fn stores_unchanged(kind: Kind, t: Transport) -> bool {
    match t {
        Transport::Dir => true,
        Transport::Oci | Transport::OciArchive => kind != Kind::Schema2,
        Transport::DockerArchive => false,
    }
}

fn round_trip(kind: Kind, t: Transport) {
    let tmp = scratch();
    let s = sources(kind, tmp.path());
    let src = source(&s, Transport::Dir);
    let src_dir = Path::new(src.trim_start_matches("dir:"));
    let all = copies_whole_list(&s, Transport::Dir, t);
    let x = t.path_in(tmp.path(), "written");
    let x_ref = t.reference(&x, Some("round-trip"));
    copy(ferry(), all, &src, &x_ref);

    let what = format!("{} image through {}", kind.name(), t.name());
    let back = tmp.path().join("back");
    let img = read_back(ferry(), all, &x_ref, &back);
    if stores_unchanged(kind, t) {
        ok_or_fail(
            &format!("{what}: read back differs from the source"),
            diff_trees(src_dir, &back),
        );
    } else {
        ok_or_fail(
            &what,
            check_image(&img, &s.fixture, &expectation(&s, Transport::Dir, t)),
        );
    }
    // Reading is deterministic.
    let again = tmp.path().join("again");
    read_back(ferry(), all, &x_ref, &again);
    ok_or_fail(
        &format!("{what}: second read differs"),
        diff_trees(&back, &again),
    );
}

macro_rules! round_trips {
    ($($name:ident = $kind:expr, $t:expr;)+) => {
        $(
            #[test]
            fn $name() {
                round_trip($kind, $t);
            }
        )+
    };
}

mod round_trip {
    use super::*;
    round_trips! {
        dir_oci = Kind::Oci, Transport::Dir;
        dir_schema2 = Kind::Schema2, Transport::Dir;
        dir_multiarch = Kind::Multiarch, Transport::Dir;
        oci_oci = Kind::Oci, Transport::Oci;
        oci_schema2 = Kind::Schema2, Transport::Oci;
        oci_multiarch = Kind::Multiarch, Transport::Oci;
        oci_archive_oci = Kind::Oci, Transport::OciArchive;
        oci_archive_schema2 = Kind::Schema2, Transport::OciArchive;
        oci_archive_multiarch = Kind::Multiarch, Transport::OciArchive;
        docker_archive_oci = Kind::Oci, Transport::DockerArchive;
        docker_archive_schema2 = Kind::Schema2, Transport::DockerArchive;
        docker_archive_multiarch = Kind::Multiarch, Transport::DockerArchive;
    }
}

fn index_json(layout: &Path) -> Value {
    let p = layout.join("index.json");
    serde_json::from_slice(&fs_err::read(&p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn ref_names(index: &Value) -> Vec<Option<String>> {
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// One oci: layout holds several named images; each reads back by its name.
#[test]
fn oci_layout_holds_several_named_images() {
    let tmp = scratch();
    let layout = tmp.path().join("layout");
    let mut all_sources = Vec::new();
    for (kind, name) in [
        (Kind::Oci, "one"),
        (Kind::Schema2, "two"),
        (Kind::Multiarch, "three"),
    ] {
        let s = sources(kind, &tmp.path().join(name));
        let all = copies_whole_list(&s, Transport::Dir, Transport::Oci);
        copy(
            ferry(),
            all,
            &source(&s, Transport::Dir),
            &format!("oci:{}:{name}", layout.display()),
        );
        all_sources.push((s, name, all));
    }
    assert_eq!(
        ref_names(&index_json(&layout)),
        vec![Some("one".into()), Some("two".into()), Some("three".into())]
    );
    for (s, name, all) in &all_sources {
        let back = tmp.path().join(format!("back-{name}"));
        let img = read_back(
            ferry(),
            *all,
            &format!("oci:{}:{name}", layout.display()),
            &back,
        );
        ok_or_fail(
            name,
            check_image(
                &img,
                &s.fixture,
                &expectation(s, Transport::Dir, Transport::Oci),
            ),
        );
    }
}

/// Writing a name that exists moves the name: the old entry stays, unnamed (skopeo's rule).
#[test]
fn oci_reused_name_leaves_old_entry_unnamed() {
    let tmp = scratch();
    let layout = tmp.path().join("layout");
    let a = sources(Kind::Oci, &tmp.path().join("a"));
    let b = sources(Kind::Schema2, &tmp.path().join("b"));
    let dest = format!("oci:{}:name", layout.display());
    copy(ferry(), false, &source(&a, Transport::Dir), &dest);
    copy(ferry(), false, &source(&b, Transport::Dir), &dest);
    let index = index_json(&layout);
    assert_eq!(
        ref_names(&index),
        vec![None, Some("name".into())],
        "{index}"
    );
    assert_eq!(
        index["manifests"][0]["digest"].as_str(),
        Some(a.fixture.top.digest.as_str())
    );
    let img = read_back(ferry(), false, &dest, &tmp.path().join("back"));
    ok_or_fail(
        "re-used name",
        check_image(
            &img,
            &b.fixture,
            &expectation(&b, Transport::Dir, Transport::Oci),
        ),
    );
}

/// oci-archive: the name goes into the archived index.json; the archive is replaced
/// by a later copy.
#[test]
fn oci_archive_names_and_replaces() {
    let tmp = scratch();
    let x = tmp.path().join("x.tar");
    let a = sources(Kind::Oci, &tmp.path().join("a"));
    copy(
        ferry(),
        false,
        &source(&a, Transport::Dir),
        &format!("oci-archive:{}:v1", x.display()),
    );
    let img = read_back(
        ferry(),
        false,
        &format!("oci-archive:{}:v1", x.display()),
        &tmp.path().join("b1"),
    );
    ok_or_fail(
        "named",
        check_image(
            &img,
            &a.fixture,
            &expectation(&a, Transport::Dir, Transport::OciArchive),
        ),
    );
    let m = sources(Kind::Multiarch, &tmp.path().join("m"));
    copy(
        ferry(),
        false,
        &source(&m, Transport::Dir),
        &format!("oci-archive:{}", x.display()),
    );
    let img = read_back(
        ferry(),
        false,
        &format!("oci-archive:{}", x.display()),
        &tmp.path().join("b2"),
    );
    let want = Expect {
        whole_list: false,
        ..expectation(&m, Transport::Dir, Transport::OciArchive)
    };
    ok_or_fail("replaced", check_image(&img, &m.fixture, &want));
}

/// docker-archive: a `:name:tag` destination becomes RepoTags (normalised); the image
/// reads back by that name and by `@0`; an existing archive is not modified.
#[test]
fn docker_archive_names_and_refuses_to_modify() {
    let tmp = scratch();
    let x = tmp.path().join("x.tar");
    let s = sources(Kind::Oci, &tmp.path().join("s"));
    copy(
        ferry(),
        false,
        &source(&s, Transport::Dir),
        &format!("docker-archive:{}:ferry/test:v1", x.display()),
    );
    let manifest: Value =
        serde_json::from_slice(&ferry_test::archive::read_member(&x, "manifest.json").unwrap())
            .unwrap();
    assert_eq!(
        manifest[0]["RepoTags"],
        serde_json::json!(["docker.io/ferry/test:v1"]),
        "{manifest}"
    );
    let want = expectation(&s, Transport::Dir, Transport::DockerArchive);
    for r in [
        format!("docker-archive:{}:ferry/test:v1", x.display()),
        format!("docker-archive:{}:@0", x.display()),
    ] {
        let back = tmp.path().join(format!("back-{}", r.len()));
        let img = read_back(ferry(), false, &r, &back);
        ok_or_fail(&r, check_image(&img, &s.fixture, &want));
    }
    let before = fs_err::read(&x).unwrap();
    let mut c = ferry();
    c.args([
        "copy",
        &source(&s, Transport::Dir),
        &format!("docker-archive:{}", x.display()),
    ]);
    run_fail(&mut c);
    assert!(
        fs_err::read(&x).unwrap() == before,
        "the existing archive was modified"
    );
}

/// dir: an image directory is replaced entirely (no stale blobs); a directory that is
/// not an image directory is refused and left alone.
#[test]
fn dir_replaces_images_but_not_other_data() {
    let tmp = scratch();
    let d = tmp.path().join("d");
    let a = sources(Kind::Oci, &tmp.path().join("a"));
    let b = sources(Kind::Schema2, &tmp.path().join("b"));
    copy(
        ferry(),
        false,
        &source(&a, Transport::Dir),
        &format!("dir:{}", d.display()),
    );
    copy(
        ferry(),
        false,
        &source(&b, Transport::Dir),
        &format!("dir:{}", d.display()),
    );
    let b_dir = source(&b, Transport::Dir);
    ok_or_fail(
        "dir: overwrite",
        diff_trees(Path::new(b_dir.trim_start_matches("dir:")), &d),
    );

    let other = tmp.path().join("other");
    fs_err::create_dir(&other).unwrap();
    fs_err::write(other.join("precious.txt"), "keep me").unwrap();
    let mut c = ferry();
    c.args([
        "copy",
        &source(&a, Transport::Dir),
        &format!("dir:{}", other.display()),
    ]);
    let out = run_fail(&mut c);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a containers image directory"),
        "{stderr}"
    );
    assert_eq!(
        fs_err::read_to_string(other.join("precious.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(fs_err::read_dir(&other).unwrap().count(), 1);
    assert!(read_dir_image(&other).is_err());
}
