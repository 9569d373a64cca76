//! Failures: one bad image among many (stop, or keep going and summarise), an
//! unreachable registry, YAML errors with file and line, refused combinations.

use ferry_image::sync::{DestKind, SourceKind, SyncError, SyncEvent, sync};
use ferry_test::{OrDie, Registry};

use super::support::*;

fn yaml_with_missing_tag(t: &std::path::Path, host: &str) -> std::path::PathBuf {
    let yaml = t.join("s.yaml");
    fs_err::write(
        &yaml,
        format!("{host}:\n  tls-verify: false\n  images:\n    app: [a, missing, b]\n"),
    )
    .or_die("yaml");
    yaml
}

/// Without keep-going the first failing image stops the sync, naming the image.
#[test]
fn first_failure_stops_the_sync() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(
        t.path(),
        "l",
        1,
        &[("a", "1"), ("b", "2")],
        &src.host(),
        "app",
    );
    let yaml = yaml_with_missing_tag(t.path(), &src.host());
    let out = t.path().join("out");
    let ev = Events::default();
    let e = sync(
        &opts(),
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Dir,
        &s(&out),
        &ev,
    )
    .unwrap_err();
    let from = format!("docker://{}/app:missing", src.host());
    match &e {
        SyncError::Copy { from: f, .. } => assert_eq!(*f, from),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.to_string(), format!("Error copying ref {from:?}"));
    let chain = std::error::Error::source(&e).or_die("cause").to_string();
    assert!(chain.contains("manifest unknown"), "{chain}");
    assert!(e.is_not_found());
    assert_eq!(names(&out), ["app:a"]);
    assert_eq!(ev.count(|e| matches!(e, SyncEvent::Synced { .. })), 0);
}

/// With keep-going the rest is synced and the error lists what failed.
#[test]
fn keep_going_summarises_failures() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(
        t.path(),
        "l",
        1,
        &[("a", "1"), ("b", "2")],
        &src.host(),
        "app",
    );
    let yaml = yaml_with_missing_tag(t.path(), &src.host());
    let out = t.path().join("out");
    let mut o = opts();
    o.keep_going = true;
    o.parallel = 2;
    let ev = Events::default();
    let e = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Dir,
        &s(&out),
        &ev,
    )
    .unwrap_err();
    let SyncError::Failed { summary } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (summary.copied, summary.images, summary.failures.len()),
        (2, 2, 1)
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with("Sync failed due to previous reported error(s) for one or more images"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("docker://{}/app:missing", src.host())),
        "{msg}"
    );
    assert_eq!(names(&out), ["app:a", "app:b"]);
    assert_eq!(ev.count(|e| matches!(e, SyncEvent::Failed { .. })), 1);
    assert_eq!(
        ev.count(|e| matches!(e, SyncEvent::Synced { images: 2, .. })),
        1
    );
}

/// A registry nobody listens on: the tag listing fails, naming the repository.
#[test]
fn unreachable_source_registry() {
    let port = ferry_test::registry::free_port().or_die("port");
    let t = tmp();
    let src = format!("127.0.0.1:{port}/app");
    let e = sync(
        &opts(),
        SourceKind::Docker,
        &src,
        DestKind::Dir,
        &s(&t.path().join("o")),
        &Events::default(),
    )
    .unwrap_err();
    assert!(matches!(e, SyncError::ListTags { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("Error determining repository tags for repo {src}")
    );
    // In a YAML file, with keep-going: recorded, the other registries still synced.
    let Some(reg) = Registry::start_or_skip() else {
        return;
    };
    seed(t.path(), "l", 1, &[("a", "1")], &reg.host(), "app");
    let yaml = t.path().join("s.yaml");
    fs_err::write(
        &yaml,
        format!(
            "127.0.0.1:{port}:\n  tls-verify: false\n  images:\n    app: []\n{}:\n  tls-verify: false\n  images:\n    app: []\n",
            reg.host()
        ),
    )
    .or_die("yaml");
    let mut o = opts();
    o.keep_going = true;
    let e = sync(
        &o,
        SourceKind::Yaml,
        &s(&yaml),
        DestKind::Dir,
        &s(&t.path().join("o2")),
        &Events::default(),
    )
    .unwrap_err();
    let SyncError::Failed { summary } = e else {
        panic!()
    };
    assert_eq!((summary.copied, summary.failures.len()), (1, 1));
    assert!(matches!(summary.failures[0], SyncError::ListTags { .. }));
}

/// YAML mistakes are reported with the file, line and column, before anything is synced.
#[test]
fn yaml_errors_name_file_and_line() {
    let t = tmp();
    let yaml = t.path().join("bad.yaml");
    for (text, at) in [
        ("example.com:\n  images:\n    a: []\n  bogus: true\n", ":4:"),
        (
            "example.com:\n  images-by-tag-regex:\n    a: '(('\n",
            ":3:8:",
        ),
        (
            "example.com:\n  images-by-semver:\n    a: '>> 1'\n",
            ":3:8:",
        ),
    ] {
        fs_err::write(&yaml, text).or_die("yaml");
        let e = sync(
            &opts(),
            SourceKind::Yaml,
            &s(&yaml),
            DestKind::Dir,
            &s(&t.path().join("o")),
            &Events::default(),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with(&format!("{}{at}", yaml.display())), "{msg}");
        assert!(!t.path().join("o").exists());
    }
    let e = sync(
        &opts(),
        SourceKind::Yaml,
        "/nonexistent/sync.yaml",
        DestKind::Dir,
        "o",
        &Events::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("/nonexistent/sync.yaml"), "{e}");
}

#[test]
fn refused_combinations_and_kinds() {
    let e = sync(
        &opts(),
        SourceKind::Dir,
        "a",
        DestKind::Dir,
        "b",
        &Events::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "sync from 'dir' to 'dir' not implemented, consider using rsync instead"
    );
    use ferry_image::sync::{DestKind as D, SourceKind as S};
    assert_eq!(S::parse("yaml").or_die("yaml"), S::Yaml);
    assert_eq!(S::parse("oci").or_die("oci"), S::Oci);
    assert_eq!(
        S::parse("tarball").unwrap_err().to_string(),
        "\"tarball\" is not a valid source transport"
    );
    assert_eq!(
        D::parse("").unwrap_err().to_string(),
        "A destination transport must be specified"
    );
    assert_eq!(
        D::parse("yaml").unwrap_err().to_string(),
        "\"yaml\" is not a valid destination transport"
    );
    let t = tmp();
    let e = sync(
        &opts(),
        SourceKind::Dir,
        &s(&t.path().join("none")),
        DestKind::Docker,
        "h/x",
        &Events::default(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Invalid source directory specified"),
        "{e}"
    );
    let empty = t.path().join("empty");
    fs_err::create_dir_all(&empty).or_die("mkdir");
    let e = sync(
        &opts(),
        SourceKind::Dir,
        &s(&empty),
        DestKind::Docker,
        "h/x",
        &Events::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("No images to sync found in {:?}", s(&empty))
    );
}

/// A dry run writes nothing (skopeo creates the destination directories).
#[test]
fn dry_run_writes_nothing() {
    let Some(src) = Registry::start_or_skip() else {
        return;
    };
    let t = tmp();
    seed(
        t.path(),
        "l",
        1,
        &[("a", "1"), ("b", "2")],
        &src.host(),
        "app",
    );
    let mut o = opts();
    o.dry_run = true;
    o.digest_file = Some(t.path().join("digests"));
    let ev = Events::default();
    let out = t.path().join("out");
    let r = sync(
        &o,
        SourceKind::Docker,
        &format!("{}/app", src.host()),
        DestKind::Dir,
        &s(&out),
        &ev,
    )
    .ok_or_die("dry run");
    assert_eq!((r.images, r.copied), (2, 0));
    assert!(!out.exists());
    assert!(!t.path().join("digests").exists());
    let msgs: Vec<String> = ev.all().iter().map(SyncEvent::message).collect();
    assert!(
        msgs.contains(&"Running in dry-run mode".to_string()),
        "{msgs:?}"
    );
    assert!(
        msgs.contains(&"Would have copied image ref 2/2".to_string()),
        "{msgs:?}"
    );
    assert_eq!(
        msgs.last().map(String::as_str),
        Some("Would have synced 2 images from 1 sources")
    );
}
