#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<SyncFile> {
    SyncFile::parse(Path::new("/cfg/sync.yaml"), text)
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(f) => panic!("accepted: {f:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn skopeo_example_in_file_order() {
    let f = parse(
        r#"
registry.example.com:
  images:
    busybox: []
    redis:
      - "1.0"
      - 2.0
      - "sha256:0000000000000000000000000000000000000000000000000000000000000000"
    empty:
  images-by-tag-regex:
    nginx: ^1\.13\.[12]-alpine-perl$
  images-by-semver:
    alpine: ">= 3.12.0"
  credentials:
    username: john
    password: this is a secret
  tls-verify: true
  cert-dir: /home/john/certs
quay.io:
  tls-verify: false
  images:
    coreos/etcd:
      - latest
"#,
    )
    .unwrap();
    assert_eq!(f.registries.len(), 2);
    let r = &f.registries[0];
    assert_eq!(r.name, "registry.example.com");
    assert_eq!(r.line, 2);
    let keys: Vec<&str> = r.repos.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["busybox", "redis", "empty", "nginx", "alpine"]);
    assert_eq!(r.repos[0].repo.to_string(), "registry.example.com/busybox");
    assert!(matches!(r.repos[0].selection, Selection::Listed { .. }));
    assert!(matches!(r.repos[2].selection, Selection::Listed { .. }));
    match &r.repos[1].selection {
        Selection::Refs(refs) => {
            let s: Vec<String> = refs.iter().map(ToString::to_string).collect();
            assert_eq!(
                s,
                [
                    "registry.example.com/redis:1.0",
                    "registry.example.com/redis:2.0",
                    "registry.example.com/redis@sha256:0000000000000000000000000000000000000000000000000000000000000000"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(r.repos[3].selection.selects("1.13.2-alpine-perl"));
    assert!(!r.repos[3].selection.selects("1.13.3-alpine-perl"));
    assert!(r.repos[4].selection.selects("3.14"));
    assert!(!r.repos[4].selection.selects("3.11.9"));
    assert!(!r.repos[4].selection.selects("edge"));
    assert_eq!(
        r.credentials,
        Some(("john".into(), "this is a secret".into()))
    );
    assert_eq!(r.tls_verify, Some(true));
    assert_eq!(r.cert_dir.as_deref(), Some(Path::new("/home/john/certs")));
    let q = &f.registries[1];
    assert_eq!(q.tls_verify, Some(false));
    assert_eq!(q.repos[0].repo.to_string(), "quay.io/coreos/etcd");
    assert_eq!(q.repos[0].line, 22);
}

#[test]
fn docker_hub_names_are_normalised() {
    let f = parse("docker.io:\n  images:\n    busybox: [latest]\n").unwrap();
    assert_eq!(
        f.registries[0].repos[0].repo.to_string(),
        "docker.io/library/busybox"
    );
}

#[test]
fn empty_file_and_registry_without_images() {
    assert!(parse("").unwrap().registries.is_empty());
    assert!(parse("# nothing\n").unwrap().registries.is_empty());
    let f = parse("example.com:\n  tls-verify: false\n").unwrap();
    assert!(f.registries[0].repos.is_empty());
}

#[test]
fn ferry_extensions() {
    let f = parse(
        r#"
quay.io:
  include: '^v'
  exclude: ['-rc', 'beta']
  images:
    a/b: []
  repositories:
    coreos/etcd:
      tag-regex: '^v3\.'
      semver: '>= 3.5'
      exclude: '\.0$'
      destination: /mirror/etcd/
    other:
      tags: [v1, v2]
    bare:
"#,
    )
    .unwrap();
    let r = &f.registries[0];
    let keys: Vec<&str> = r.repos.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["a/b", "coreos/etcd", "other", "bare"]);
    assert!(r.repos[0].filter.passes("v1.2"));
    assert!(!r.repos[0].filter.passes("1.2"));
    assert!(!r.repos[0].filter.passes("v1.2-rc1"));
    let etcd = &r.repos[1];
    assert_eq!(etcd.destination.as_deref(), Some("mirror/etcd"));
    assert!(etcd.selection.selects("v3.5.9"));
    assert!(!etcd.selection.selects("v3.4.9"));
    assert!(etcd.filter.passes("v3.5.9"));
    assert!(!etcd.filter.passes("v3.5.0"));
    assert!(!etcd.filter.passes("v3.5.9-beta"));
    assert!(matches!(&r.repos[2].selection, Selection::Refs(v) if v.len() == 2));
    assert!(matches!(
        r.repos[3].selection,
        Selection::Listed {
            regex: None,
            semver: None
        }
    ));
}

#[test]
fn unknown_keys_name_file_and_line() {
    let e = err("example.com:\n  images:\n    a: []\n  bogus: 1\n");
    assert!(e.starts_with("/cfg/sync.yaml:4:"), "{e}");
    assert!(e.contains("bogus"), "{e}");
    let e = err("example.com:\n  credentials:\n    username: u\n    pasword: p\n");
    assert!(e.starts_with("/cfg/sync.yaml:4:"), "{e}");
    let e = err("example.com:\n  repositories:\n    a:\n      tag: x\n");
    assert!(e.starts_with("/cfg/sync.yaml:4:"), "{e}");
}

#[test]
fn bad_values_name_file_and_line() {
    let e = err("example.com:\n  images-by-tag-regex:\n    nginx: '^(1'\n");
    assert!(
        e.starts_with("/cfg/sync.yaml:3:12: invalid tag regular expression"),
        "{e}"
    );
    let e = err("example.com:\n  images-by-semver:\n    alpine: 'three'\n");
    assert!(
        e.starts_with("/cfg/sync.yaml:3:13: invalid semver constraint"),
        "{e}"
    );
    let e = err("example.com:\n  images:\n    Alpine: []\n");
    assert!(
        e.starts_with("/cfg/sync.yaml:3:5: invalid repository"),
        "{e}"
    );
    let e = err("example.com:\n  images:\n    alpine: ['-bad-tag']\n");
    assert!(e.starts_with("/cfg/sync.yaml:3:14: invalid tag"), "{e}");
    let e = err("example.com:\n  include: ['ok', '(']\n");
    assert!(
        e.starts_with("/cfg/sync.yaml:2:19: invalid include pattern \"(\": unclosed group"),
        "{e}"
    );
    let e = err("example.com:\n  exclude: '('\n");
    assert!(
        e.starts_with("/cfg/sync.yaml:2:12: invalid exclude pattern"),
        "{e}"
    );
    let e = err("example.com:\n  repositories:\n    a:\n      destination: ../x\n");
    assert!(
        e.starts_with("/cfg/sync.yaml:4:20: invalid destination"),
        "{e}"
    );
    let e = err("example.com:\n  repositories:\n    a:\n      tags: [x]\n      semver: '1'\n");
    assert!(e.starts_with("/cfg/sync.yaml:3:5:"), "{e}");
    let e = err("example.com:\n  tls-verify: maybe\n");
    assert!(e.starts_with("/cfg/sync.yaml:2:"), "{e}");
    let e = err("example.com:\n  images:\n    a: []\n    a: [x]\n");
    assert!(e.starts_with("/cfg/sync.yaml:4:"), "{e}");
    let e = err("example.com: [\n");
    assert!(e.starts_with("/cfg/sync.yaml:"), "{e}");
}
