use std::path::{Path, PathBuf};

use ferry_reference::Named;
use tempfile::TempDir;

use super::*;

struct Tree {
    dir: TempDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            dir: TempDir::new().unwrap(),
        }
    }
    fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.p(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
    fn paths(&self) -> RegistriesConfPaths {
        RegistriesConfPaths {
            conf_override: None,
            home: Some(self.p("home")),
            system_conf: self.p("etc/registries.conf"),
            system_conf_dir: self.p("etc/registries.conf.d"),
        }
    }
    fn load(&self) -> Result<RegistriesConf, String> {
        RegistriesConf::load(&self.paths()).map_err(|e| e.to_string())
    }
}

fn conf(text: &str) -> Result<RegistriesConf, String> {
    RegistriesConf::from_text(text, Path::new("/t.conf")).map_err(|e| e.to_string())
}

fn err(text: &str) -> String {
    let e = conf(text).unwrap_err();
    e.strip_prefix("loading registries configuration \"/t.conf\": ")
        .unwrap_or(&e)
        .to_string()
}

fn named(s: &str) -> Named {
    Named::parse_normalized(s).unwrap().tag_name_only()
}

fn sources(c: &RegistriesConf, r: &str) -> Vec<(String, bool, bool, String)> {
    c.pull_sources(&named(r))
        .unwrap()
        .into_iter()
        .map(|s| (s.location, s.insecure, s.mirror, s.reference.to_string()))
        .collect()
}

fn src(loc: &str, insecure: bool, mirror: bool, r: &str) -> (String, bool, bool, String) {
    (loc.into(), insecure, mirror, r.into())
}

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn empty_and_missing_defaults() {
    let t = Tree::new();
    let c = t.load().unwrap();
    assert!(c.registries().is_empty());
    assert!(c.files().is_empty());
    assert_eq!(c.credential_helpers(), vec!["containers-auth.json"]);
    assert_eq!(c.short_name_mode(), ShortNameMode::Permissive);
    // An explicit file must exist.
    let mut p = t.paths();
    p.conf_override = Some(t.p("nope.conf"));
    let e = RegistriesConf::load(&p).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "loading registries configuration \"{0}\": open {0}: no such file or directory",
            t.p("nope.conf").display()
        )
    );
}

#[test]
fn file_locations_and_drop_in_order() {
    let t = Tree::new();
    t.write(
        "etc/registries.conf",
        "unqualified-search-registries = [\"sys.io\"]\nshort-name-mode = \"enforcing\"\n",
    );
    t.write(
        "etc/registries.conf.d/20-b.conf",
        "unqualified-search-registries = [\"b.io\"]\n",
    );
    t.write(
        "etc/registries.conf.d/10-a.conf",
        "unqualified-search-registries = [\"a.io\"]\ncredential-helpers = [\"pass\"]\n",
    );
    t.write("etc/registries.conf.d/30-c.txt", "this is not toml [");
    std::fs::create_dir_all(t.p("etc/registries.conf.d/40-dir.conf")).unwrap();
    let c = t.load().unwrap();
    assert_eq!(c.unqualified_search_registries(), ["b.io"]);
    assert_eq!(c.credential_helpers(), vec!["pass"]);
    assert_eq!(c.short_name_mode(), ShortNameMode::Enforcing);
    assert_eq!(
        c.files(),
        [
            t.p("etc/registries.conf"),
            t.p("etc/registries.conf.d/10-a.conf"),
            t.p("etc/registries.conf.d/20-b.conf"),
        ]
    );
    // User drop-ins come after the system ones.
    t.write(
        "home/.config/containers/registries.conf.d/00-user.conf",
        "unqualified-search-registries = [\"user.io\"]\n",
    );
    assert_eq!(
        t.load().unwrap().unqualified_search_registries(),
        ["user.io"]
    );
    // An explicit main file still reads both drop-in directories (as c/image does).
    let explicit = t.write("explicit.conf", "short-name-mode = \"disabled\"\n");
    let mut p = t.paths();
    p.conf_override = Some(explicit.clone());
    let c = RegistriesConf::load(&p).unwrap();
    assert_eq!(c.short_name_mode(), ShortNameMode::Disabled);
    assert_eq!(c.unqualified_search_registries(), ["user.io"]);
    assert_eq!(c.credential_helpers(), vec!["pass"]);
    // A per-user main file replaces the system file and its drop-ins.
    t.write(
        "home/.config/containers/registries.conf",
        "credential-helpers = [\"u\"]\n",
    );
    let c = t.load().unwrap();
    assert_eq!(c.credential_helpers(), vec!["u"]);
    assert_eq!(c.unqualified_search_registries(), ["user.io"]);
    assert_eq!(c.short_name_mode(), ShortNameMode::Permissive);
    assert_eq!(c.files().len(), 2);
}

#[test]
fn registries_merge_by_prefix() {
    let t = Tree::new();
    t.write(
        "etc/registries.conf",
        r#"
[[registry]]
location = "a.io"
insecure = true
[[registry]]
prefix = "b.io/ns"
location = "b-mirror.io/ns"
[aliases]
"foo" = "quay.io/foo"
"bar" = "quay.io/bar"
"#,
    );
    t.write(
        "etc/registries.conf.d/x.conf",
        r#"
[[registry]]
location = "a.io"
blocked = true
[[registry]]
location = "c.io"
[aliases]
"foo" = ""
"baz" = "docker.io/library/baz"
"#,
    );
    let c = t.load().unwrap();
    let prefixes: Vec<&str> = c.registries().iter().map(|r| r.prefix.as_str()).collect();
    assert_eq!(prefixes, ["a.io", "b.io/ns", "c.io"]);
    let a = c.find_registry("a.io").unwrap();
    assert!(a.blocked && !a.insecure, "{a:?}");
    assert_eq!(c.alias("foo"), None);
    assert_eq!(c.alias("bar"), Some("quay.io/bar"));
    assert_eq!(c.alias("baz"), Some("docker.io/library/baz"));
    // Drop-ins must be v2.
    t.write(
        "etc/registries.conf.d/y.conf",
        "[registries.search]\nregistries = [\"x.io\"]\n",
    );
    assert_eq!(
        t.load().unwrap_err(),
        format!(
            "loading drop-in registries configuration \"{}\": registry must be in v2 format but is in v1",
            t.p("etc/registries.conf.d/y.conf").display()
        )
    );
}

#[test]
fn system_configuration_loads() {
    // The host's own files (Debian ships a drop-in full of aliases) must be accepted.
    let p = RegistriesConfPaths {
        home: Some(PathBuf::from("/nonexistent-home")),
        ..RegistriesConfPaths::default()
    };
    RegistriesConf::load(&p).unwrap();
}

#[test]
fn longest_prefix_and_wildcards() {
    let c = conf(
        r#"
[[registry]]
location = "example.com"
[[registry]]
prefix = "example.com/foo"
location = "mirror.io/foo"
insecure = true
[[registry]]
prefix = "*.wild.io"
insecure = true
[[registry]]
prefix = "*.sub.wild.io"
blocked = true
"#,
    )
    .unwrap();
    let prefix = |n: &str| c.find_registry(n).map(|r| r.prefix.clone());
    assert_eq!(
        prefix("example.com/foo/bar").as_deref(),
        Some("example.com/foo")
    );
    assert_eq!(prefix("example.com/foobar").as_deref(), Some("example.com"));
    assert_eq!(prefix("example.com:5000/x").as_deref(), Some("example.com"));
    assert_eq!(prefix("example.community/x"), None);
    assert_eq!(prefix("a.wild.io/x").as_deref(), Some("*.wild.io"));
    assert_eq!(prefix("a.b.wild.io:5000").as_deref(), Some("*.wild.io"));
    assert_eq!(prefix("x.sub.wild.io/y").as_deref(), Some("*.sub.wild.io"));
    assert_eq!(prefix("wild.io/x"), None);
    assert_eq!(prefix("other.io/x.wild.io"), None);
    assert!(c.is_insecure("a.wild.io"));
    assert!(!c.is_insecure("example.com"));
    assert!(c.is_blocked("x.sub.wild.io"));
    // Wildcard primary: the reference is used as is.
    assert_eq!(
        sources(&c, "a.wild.io/x/y:1"),
        vec![src("a.wild.io", true, false, "a.wild.io/x/y:1")]
    );
    // Remapping.
    assert_eq!(
        sources(&c, "example.com/foo/bar:t"),
        vec![src("mirror.io/foo", true, false, "mirror.io/foo/bar:t")]
    );
    assert_eq!(
        sources(&c, "quay.io/x"),
        vec![src("quay.io", false, false, "quay.io/x:latest")]
    );
}

#[test]
fn mirror_order_and_rules() {
    let c = conf(
        r#"
[[registry]]
prefix = "docker.io/library"
location = "docker.io/library"
[[registry.mirror]]
location = "m1.io/lib"
insecure = true
[[registry.mirror]]
location = "m2.io/lib"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "m3.io/lib"
pull-from-mirror = "tag-only"

[[registry]]
location = "q.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "qm.io"
"#,
    )
    .unwrap();
    assert_eq!(
        sources(&c, "busybox"),
        vec![
            src("m1.io/lib", true, true, "m1.io/lib/busybox:latest"),
            src("m3.io/lib", false, true, "m3.io/lib/busybox:latest"),
            src(
                "docker.io/library",
                false,
                false,
                "docker.io/library/busybox:latest"
            ),
        ]
    );
    let by_digest = format!("busybox@{DIGEST}");
    let r = Named::parse_normalized(&by_digest).unwrap();
    let got: Vec<String> = c
        .pull_sources(&r)
        .unwrap()
        .into_iter()
        .map(|s| s.reference.to_string())
        .collect();
    assert_eq!(
        got,
        vec![
            format!("m1.io/lib/busybox@{DIGEST}"),
            format!("m2.io/lib/busybox@{DIGEST}"),
            format!("docker.io/library/busybox@{DIGEST}"),
        ]
    );
    assert_eq!(
        sources(&c, "q.io/a"),
        vec![src("q.io", false, false, "q.io/a:latest")]
    );
    let r = Named::parse_normalized(&format!("q.io/a@{DIGEST}")).unwrap();
    let locs: Vec<String> = c
        .pull_sources(&r)
        .unwrap()
        .into_iter()
        .map(|s| s.location)
        .collect();
    assert_eq!(locs, ["qm.io", "q.io"]);
}

#[test]
fn blocked_pulls_fail() {
    let t = Tree::new();
    t.write(
        "home/.config/containers/registries.conf.d/b.conf",
        "[[registry]]\nprefix = \"q.io/bad\"\nlocation = \"q.io/bad\"\nblocked = true\n",
    );
    let c = t.load().unwrap();
    let e = c
        .pull_sources(&named("q.io/bad/img"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "registry q.io/bad is blocked in {} or {}",
            t.p("etc/registries.conf").display(),
            t.p("home/.config/containers/registries.conf.d").display()
        )
    );
    assert!(c.pull_sources(&named("q.io/good/img")).is_ok());
    assert!(c.check_not_blocked("q.io/bad").is_err());
    assert!(c.check_not_blocked("q.io").is_ok());
}

#[test]
fn v1_format() {
    let c = conf(
        r#"
[registries.search]
registries = ["s.io", "t.io"]
[registries.insecure]
registries = ["i.io", "both.io"]
[registries.block]
registries = ["both.io", "b.io/"]
"#,
    )
    .unwrap();
    assert_eq!(c.unqualified_search_registries(), ["s.io", "t.io"]);
    let flags: Vec<(&str, bool, bool)> = c
        .registries()
        .iter()
        .map(|r| (r.prefix.as_str(), r.insecure, r.blocked))
        .collect();
    assert_eq!(
        flags,
        [
            ("b.io", false, true),
            ("both.io", true, true),
            ("i.io", true, false)
        ]
    );
    // Empty v1 lists do not count as v1.
    assert!(
        conf("unqualified-search-registries = [\"a.io\"]\n[registries.search]\nregistries = []\n")
            .is_ok()
    );
}

#[test]
fn validation_errors_match_c_image() {
    let cases = [
        (
            "[registries.search]\nregistries=[\"a.io\"]\n[[registry]]\nlocation=\"b.io\"",
            "mixing sysregistry v1/v2 is not supported",
        ),
        (
            "[[registry]]\nprefix=\"*.b.io/foo\"\nlocation=\"x.io\"",
            "Wildcarded prefix should be in the format: *.example.com. Current prefix \"*.b.io/foo\" is incorrectly formatted",
        ),
        (
            "[[registry]]\nlocation=\"https://b.io\"",
            "invalid location 'https://b.io': URI schemes are not supported",
        ),
        (
            "[[registry]]\nprefix=\"b.io\"",
            "invalid condition: location is unset and prefix is not in the format: *.example.com",
        ),
        (
            "[[registry]]\ninsecure=true",
            "invalid condition: both location and prefix are unset",
        ),
        (
            "short-name-mode=\"bogus\"",
            "invalid short-name mode: \"bogus\"",
        ),
        (
            "[[registry]]\nlocation=\"b.io\"\nmirror-by-digest-only=true\n[[registry.mirror]]\nlocation=\"m.io\"\npull-from-mirror=\"all\"",
            "cannot set mirror usage mirror-by-digest-only for the registry (\"b.io\") and pull-from-mirror for per-mirror (\"m.io\") at the same time",
        ),
        (
            "[[registry]]\nlocation=\"b.io\"\n[[registry.mirror]]\nlocation=\"m.io\"\npull-from-mirror=\"sometimes\"",
            "unsupported pull-from-mirror value \"sometimes\" for mirror \"m.io\"",
        ),
        (
            "[[registry]]\nlocation=\"b.io\"\npull-from-mirror=\"all\"",
            "pull-from-mirror must not be set for a non-mirror registry \"b.io\"",
        ),
        (
            "[[registry]]\nlocation=\"b.io\"\n[[registry.mirror]]\ninsecure=true",
            "invalid condition: mirror location is unset",
        ),
        (
            "[aliases]\n\"foo\"=\"bar\"",
            "validating short-name aliases: invalid alias \"bar\": must contain registry and repository",
        ),
        (
            "[aliases]\n\"quay.io/foo\"=\"quay.io/bar\"",
            "validating short-name aliases: invalid short name \"quay.io/foo\": must not contain registry",
        ),
        (
            "[aliases]\n\"foo:1\"=\"quay.io/bar:2\"",
            "validating short-name aliases: invalid short name \"foo:1\": must not contain tag\n: invalid alias \"quay.io/bar:2\": must not contain tag",
        ),
        (
            "unqualified-search-registries=[\"a b\"]",
            "Invalid unqualified-search-registries entry \"a b\"",
        ),
        (
            "unqualified-search-registries=[\"a.io/ns\"]",
            "Invalid unqualified-search-registries entry \"a.io/ns\"",
        ),
        (
            "[[registry]]\nlocation=\"b.io\"\ninsecure=true\n[[registry]]\nprefix=\"b.io/x\"\nlocation=\"b.io\"",
            "registry 'b.io' is defined multiple times with conflicting 'insecure' setting",
        ),
        (
            "[[registry]]\nlocation=\"b.io\"\nblocked=true\n[[registry]]\nprefix=\"b.io/x\"\nlocation=\"b.io\"",
            "registry 'b.io' is defined multiple times with conflicting 'blocked' setting",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(err(text), want, "for {text:?}");
    }
    // TOML errors are one line with a position.
    let e = err("x = [");
    assert!(e.starts_with("toml: line 1, column "), "{e}");
    assert!(!e.contains('\n'), "{e}");
    let e = err("credential-helpers = 5");
    assert!(e.starts_with("toml: line 1, column 22: "), "{e}");
}

#[test]
fn same_prefix_first_entry_wins_in_one_file() {
    let c = conf(
        "[[registry]]\nprefix=\"p.io\"\nlocation=\"one.io\"\n[[registry]]\nprefix=\"p.io\"\nlocation=\"two.io\"\n",
    )
    .unwrap();
    assert_eq!(c.registries().len(), 1);
    assert_eq!(c.registries()[0].location, "one.io");
    // Locations are normalised (trailing slashes).
    let c = conf("[[registry]]\nlocation=\"t.io/ns/\"\n[[registry.mirror]]\nlocation=\"m.io/\"\n")
        .unwrap();
    assert_eq!(c.registries()[0].prefix, "t.io/ns");
    assert_eq!(c.registries()[0].mirrors[0].location, "m.io");
}

#[test]
fn rewrite_failure_is_reported() {
    // Remapping docker.io/library to a non-canonical docker.io name fails like c/image.
    let c = conf(
        "[[registry]]\nprefix=\"docker.io/library/busybox\"\nlocation=\"docker.io/busybox\"\n",
    )
    .unwrap();
    let e = c.pull_sources(&named("busybox")).unwrap_err().to_string();
    assert_eq!(e, "rewriting reference: repository name must be canonical");
}

#[test]
fn prefix_matching() {
    assert_eq!(ref_matching_prefix("a.io/x", "a.io"), Some(4));
    assert_eq!(ref_matching_prefix("a.io@sha256:x", "a.io"), Some(4));
    assert_eq!(ref_matching_prefix("a.io", "a.io"), Some(4));
    assert_eq!(ref_matching_prefix("a.iox", "a.io"), None);
    assert_eq!(ref_matching_prefix("a.i", "a.io"), None);
    assert_eq!(ref_matching_prefix("x.a.io/y", "*.a.io"), Some(6));
    assert_eq!(ref_matching_prefix("x.a.iox/y", "*.a.io"), None);
}
