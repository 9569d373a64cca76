use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use tempfile::TempDir;

use super::*;

struct Env {
    dir: TempDir,
    paths: AuthPaths,
}

impl Env {
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn home(&self) -> PathBuf {
        self.root().join("home")
    }
    fn primary(&self) -> PathBuf {
        self.root().join("run/containers/auth.json")
    }
    fn xdg_config(&self) -> PathBuf {
        self.home().join(".config/containers/auth.json")
    }
    fn docker(&self) -> PathBuf {
        self.home().join(".docker/config.json")
    }
    fn dockercfg(&self) -> PathBuf {
        self.home().join(".dockercfg")
    }
    fn log(&self) -> String {
        std::fs::read_to_string(self.root().join("helper.log")).unwrap_or_default()
    }
    fn lookup(&self, key: &str) -> Option<Credential> {
        lookup(&self.paths, None, key).unwrap()
    }
    fn user(&self, key: &str) -> Option<String> {
        get_login(&self.paths, None, key).unwrap()
    }
}

/// A temp tree with `$HOME`, an existing `$XDG_RUNTIME_DIR` and a `docker-credential-test`
/// helper on the helper search path.
fn env() -> Env {
    let dir = TempDir::new().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("home")).unwrap();
    std::fs::create_dir_all(root.join("run")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let script = format!(
        r#"#!/bin/sh
d='{}'
case "$1" in
get)
  read -r url
  echo "get $url" >> "$d/helper.log"
  case "$url" in
    helper.io) printf '{{"ServerURL":"helper.io","Username":"helperuser","Secret":"s3cret"}}' ;;
    tok.io) printf '{{"ServerURL":"tok.io","Username":"<token>","Secret":"tkn"}}' ;;
    https://index.docker.io/v1/) printf '{{"Username":"hubstore","Secret":"pw"}}' ;;
    store.io) printf '{{"Username":"storeuser","Secret":"pw"}}' ;;
    garbage.io) printf 'not json s3cret' ;;
    fail.io) echo 'something bad'; exit 1 ;;
    *) echo 'credentials not found in native keychain'; exit 1 ;;
  esac ;;
store) cat > "$d/stored.json"; echo "store" >> "$d/helper.log" ;;
erase) read -r url; echo "erase $url" >> "$d/helper.log" ;;
list) printf '{{"a.io":"u","b.io":"v"}}' ;;
esac
"#,
        root.display()
    );
    let helper = root.join("bin/docker-credential-test");
    std::fs::write(&helper, script).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let paths = AuthPaths {
        home: Some(root.join("home")),
        xdg_runtime_dir: Some(root.join("run")),
        uid: 4242,
        helper_search_path: Some(root.join("bin").into_os_string()),
        ..AuthPaths::default()
    };
    Env { dir, paths }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn write(path: &Path, json: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json).unwrap();
}

fn auths(entries: &[(&str, &str)]) -> String {
    let body: Vec<String> = entries
        .iter()
        .map(|(k, up)| format!(r#""{k}":{{"auth":"{}"}}"#, b64(up)))
        .collect();
    format!(r#"{{"auths":{{{}}}}}"#, body.join(","))
}

fn basic(u: &str, p: &str) -> Credential {
    Credential::Basic {
        username: u.into(),
        password: p.into(),
    }
}

#[test]
fn read_paths_order() {
    let e = env();
    let got: Vec<(PathBuf, bool)> = e
        .paths
        .read_paths(None)
        .into_iter()
        .map(|p| (p.path, p.legacy))
        .collect();
    assert_eq!(
        got,
        vec![
            (e.primary(), false),
            (e.xdg_config(), false),
            (e.docker(), false),
            (e.dockercfg(), true),
        ]
    );
    let mut p = e.paths.clone();
    p.xdg_config_home = Some("/x".into());
    p.docker_config = Some("/d".into());
    p.xdg_runtime_dir = None;
    let got: Vec<PathBuf> = p.read_paths(None).into_iter().map(|p| p.path).collect();
    assert_eq!(
        got,
        vec![
            PathBuf::from("/run/containers/4242/auth.json"),
            "/x/containers/auth.json".into(),
            "/d/config.json".into(),
            e.dockercfg(),
        ]
    );
}

#[test]
fn lookup_precedence_across_files() {
    let e = env();
    write(&e.primary(), &auths(&[("r.io", "primary:p")]));
    write(&e.xdg_config(), &auths(&[("r.io", "xdg:p")]));
    write(&e.docker(), &auths(&[("r.io", "docker:p")]));
    write(
        &e.dockercfg(),
        &format!(r#"{{"r.io":{{"auth":"{}"}}}}"#, b64("legacy:p")),
    );
    assert_eq!(e.user("r.io").as_deref(), Some("primary"));
    std::fs::remove_file(e.primary()).unwrap();
    assert_eq!(e.user("r.io").as_deref(), Some("xdg"));
    std::fs::remove_file(e.xdg_config()).unwrap();
    assert_eq!(e.user("r.io").as_deref(), Some("docker"));
    std::fs::remove_file(e.docker()).unwrap();
    assert_eq!(e.lookup("r.io/ns/x"), Some(basic("legacy", "p")));
    std::fs::remove_file(e.dockercfg()).unwrap();
    assert_eq!(e.lookup("r.io"), None);
}

#[test]
fn authfile_replaces_only_the_primary() {
    let e = env();
    write(&e.primary(), &auths(&[("r.io", "primary:p")]));
    write(
        &e.docker(),
        &auths(&[("r.io", "docker:p"), ("d.io", "d:p")]),
    );
    let explicit = e.root().join("explicit.json");
    write(&explicit, &auths(&[("x.io", "explicit:p")]));
    let get = |paths: &AuthPaths, f: Option<&Path>, k: &str| get_login(paths, f, k).unwrap();
    assert_eq!(
        get(&e.paths, Some(&explicit), "x.io").as_deref(),
        Some("explicit")
    );
    // The primary file is not read; the Docker file still is (skopeo 1.9.3).
    assert_eq!(
        get(&e.paths, Some(&explicit), "r.io").as_deref(),
        Some("docker")
    );
    // A missing explicit file is just empty.
    let missing = e.root().join("missing.json");
    assert_eq!(get(&e.paths, Some(&missing), "d.io").as_deref(), Some("d"));
    // $REGISTRY_AUTH_FILE acts like --authfile, which wins over it.
    let mut p = e.paths.clone();
    p.registry_auth_file = Some(explicit.clone());
    assert_eq!(get(&p, None, "x.io").as_deref(), Some("explicit"));
    assert_eq!(get(&p, None, "r.io").as_deref(), Some("docker"));
    assert_eq!(get(&p, Some(&missing), "x.io"), None);
}

#[test]
fn missing_runtime_dir_skips_primary_for_reads_and_fails_writes() {
    let mut e = env();
    write(&e.docker(), &auths(&[("r.io", "docker:p")]));
    e.paths.xdg_runtime_dir = Some(e.root().join("nope"));
    assert_eq!(e.user("r.io").as_deref(), Some("docker"));
    let err = store(&e.paths, None, false, "r.io", &basic("u", "p")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "\"{}\" directory set by $XDG_RUNTIME_DIR does not exist. Either create the directory or unset $XDG_RUNTIME_DIR.",
            e.root().join("nope").display()
        )
    );
}

#[test]
fn repository_keys_most_specific_first() {
    let e = env();
    write(
        &e.primary(),
        &auths(&[
            ("q.io", "host:p"),
            ("q.io/ns", "ns:p"),
            ("q.io/ns/repo", "repo:p"),
        ]),
    );
    assert_eq!(e.user("q.io/ns/repo").as_deref(), Some("repo"));
    assert_eq!(e.user("q.io/ns/repo/sub").as_deref(), Some("repo"));
    assert_eq!(e.user("q.io/ns/other").as_deref(), Some("ns"));
    assert_eq!(e.user("q.io/nsx").as_deref(), Some("host"));
    assert_eq!(e.user("q.io").as_deref(), Some("host"));
    assert_eq!(e.user("q.io:5000"), None);
}

#[test]
fn empty_marker_entry_stops_the_file() {
    let e = env();
    write(
        &e.primary(),
        &format!(
            r#"{{"auths":{{"q.io/ns":{{}},"q.io":{{"auth":"{}"}}}}}}"#,
            b64("host:p")
        ),
    );
    write(&e.docker(), &auths(&[("q.io/ns", "docker:p")]));
    // c/image: the exact match is empty → nothing in this file → next file.
    assert_eq!(e.user("q.io/ns/repo").as_deref(), Some("docker"));
}

#[test]
fn normalised_keys() {
    let e = env();
    write(
        &e.primary(),
        &auths(&[
            ("https://index.docker.io/v1/", "hub:p"),
            ("http://other.io/v1/", "other:p"),
            ("registry-1.docker.io:5000", "port:p"),
        ]),
    );
    assert_eq!(e.user("docker.io").as_deref(), Some("hub"));
    assert_eq!(e.user("docker.io/library/busybox").as_deref(), Some("hub"));
    assert_eq!(e.user("other.io/x/y").as_deref(), Some("other"));
    assert_eq!(e.user("registry-1.docker.io:5000").as_deref(), Some("port"));
    // A non-URL key with a path is not normalised to its host.
    write(&e.primary(), &auths(&[("index.docker.io/x", "x:p")]));
    assert_eq!(e.user("docker.io"), None);
    write(&e.primary(), &auths(&[("index.docker.io", "idx:p")]));
    assert_eq!(e.user("docker.io").as_deref(), Some("idx"));
    // Legacy files: URL keys, registry only.
    std::fs::remove_file(e.primary()).unwrap();
    write(
        &e.dockercfg(),
        &format!(
            r#"{{"https://legacy.io/v1/":{{"auth":"{}"}}}}"#,
            b64("leg:p")
        ),
    );
    assert_eq!(e.user("legacy.io/a/b").as_deref(), Some("leg"));
}

#[test]
fn identity_tokens_and_odd_entries() {
    let e = env();
    write(
        &e.primary(),
        &format!(
            r#"{{"auths":{{"t.io":{{"auth":"{}","identitytoken":"tok"}},"only.io":{{"identitytoken":"tok"}},"nocolon.io":{{"auth":"{}"}},"nul.io":{{"auth":"{}"}}}}}}"#,
            b64("tuser:"),
            b64("abc"),
            b64("u:pw\0\0")
        ),
    );
    assert_eq!(
        e.lookup("t.io"),
        Some(Credential::IdentityToken {
            username: "tuser".into(),
            token: "tok".into()
        })
    );
    // c/image ignores identity tokens without an `auth` field, and `auth` without ':'.
    assert_eq!(e.lookup("only.io"), None);
    assert_eq!(e.lookup("nocolon.io"), None);
    assert_eq!(e.lookup("nul.io"), Some(basic("u", "pw")));
}

#[test]
fn bad_json_names_the_file() {
    let e = env();
    write(&e.docker(), r#"{"auths":"#);
    let err = lookup(&e.paths, None, "r.io").unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("reading JSON file \"{}\": ", e.docker().display())),
        "{err}"
    );
    // Data errors do not quote values (they might be secrets).
    write(&e.docker(), r#"{"auths":{"r.io":"hunter2"}}"#);
    let err = lookup(&e.paths, None, "r.io").unwrap_err().to_string();
    assert!(err.contains(&e.docker().display().to_string()), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    write(&e.docker(), r#"{"auths":{"r.io":{"auth":"hunter2!"}}}"#);
    let err = lookup(&e.paths, None, "r.io").unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "decoding the \"auth\" field of entry \"r.io\" in \"{}\": invalid base64",
            e.docker().display()
        )
    );
    // An empty file is an error too (as in Go).
    write(&e.docker(), "");
    assert!(lookup(&e.paths, None, "r.io").is_err());
}

#[test]
fn cred_helpers_in_files() {
    let e = env();
    write(
        &e.primary(),
        &format!(
            r#"{{"auths":{{"helper.io":{{"auth":"{}"}}}},"credHelpers":{{"helper.io":"test","tok.io":"test","none.io":"test","fail.io":"test","garbage.io":"test","miss.io":"missing"}}}}"#,
            b64("fileuser:p")
        ),
    );
    write(&e.docker(), &auths(&[("none.io", "docker:p")]));
    assert_eq!(
        e.lookup("helper.io/ns/repo"),
        Some(basic("helperuser", "s3cret"))
    );
    assert_eq!(
        e.lookup("tok.io"),
        Some(Credential::IdentityToken {
            username: String::new(),
            token: "tkn".into()
        })
    );
    assert_eq!(e.user("tok.io"), None);
    // Not found by the helper: the next file is read.
    assert_eq!(e.user("none.io").as_deref(), Some("docker"));
    let err = lookup(&e.paths, None, "fail.io").unwrap_err().to_string();
    assert_eq!(
        err,
        "getting credentials for fail.io with docker-credential-test: exit status 1, out: `something bad`"
    );
    let err = lookup(&e.paths, None, "garbage.io")
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid JSON output"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let err = lookup(&e.paths, None, "miss.io").unwrap_err().to_string();
    assert!(
        err.contains("docker-credential-missing: executable file not found in $PATH"),
        "{err}"
    );
    // Helpers receive the registry, never the repository path.
    assert!(e.log().contains("get helper.io\n"), "{}", e.log());
    assert!(!e.log().contains("helper.io/ns"), "{}", e.log());
}

#[test]
fn creds_store_is_used_when_no_entry_matches() {
    let e = env();
    write(
        &e.docker(),
        &format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{}},"file.io":{{"auth":"{}"}}}},"credsStore":"test"}}"#,
            b64("fileuser:p")
        ),
    );
    assert_eq!(
        e.user("docker.io/library/busybox").as_deref(),
        Some("hubstore")
    );
    assert_eq!(e.user("store.io/a").as_deref(), Some("storeuser"));
    assert_eq!(e.user("file.io").as_deref(), Some("fileuser"));
    assert_eq!(e.user("nothing.io"), None);
    assert!(
        e.log().contains("get https://index.docker.io/v1/\n"),
        "{}",
        e.log()
    );
    assert!(!e.log().contains("get file.io"), "{}", e.log());
}

#[test]
fn registries_conf_credential_helpers() {
    let mut e = env();
    write(
        &e.primary(),
        &auths(&[("helper.io", "file:p"), ("f.io", "file:p")]),
    );
    e.paths.credential_helpers = vec!["test".into(), AUTH_FILE_HELPER.into()];
    assert_eq!(e.user("helper.io/x").as_deref(), Some("helperuser"));
    assert_eq!(e.user("f.io").as_deref(), Some("file"));
    e.paths.credential_helpers = vec!["test".into()];
    assert_eq!(e.user("f.io"), None);
    e.paths.credential_helpers = vec!["missing".into(), AUTH_FILE_HELPER.into()];
    // A found credential wins over an earlier helper's error.
    assert_eq!(e.user("f.io").as_deref(), Some("file"));
    assert!(lookup(&e.paths, None, "zzz.io").is_err());
}

#[test]
fn store_creates_a_private_file() {
    let e = env();
    let path = e.root().join("new/dir/auth.json");
    let got = store(&e.paths, Some(&path), false, "r.io", &basic("u", "p")).unwrap();
    assert_eq!(got, StoredIn::File(path.clone()));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "{{\n\t\"auths\": {{\n\t\t\"r.io\": {{\n\t\t\t\"auth\": \"{}\"\n\t\t}}\n\t}}\n}}",
            b64("u:p")
        )
    );
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    // The default primary file.
    store(&e.paths, None, false, "q.io/ns", &basic("nsuser", "p")).unwrap();
    assert_eq!(mode(&e.primary()), 0o600);
    assert_eq!(e.user("q.io/ns/repo").as_deref(), Some("nsuser"));
    // No leftover temp files.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("auth.json")]);
}

#[test]
fn store_keeps_unrelated_keys_and_fields() {
    let e = env();
    write(
        &e.primary(),
        &format!(
            r#"{{"auths":{{"keep.io":{{"auth":"{}"}},"r.io":{{"auth":"{}","email":"a@b","identitytoken":"old"}}}},"credHelpers":{{"h.io":"test"}},"other":{{"x":1}}}}"#,
            b64("keep:p"),
            b64("old:p")
        ),
    );
    store(&e.paths, None, false, "r.io", &basic("new", "pw")).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.primary()).unwrap()).unwrap();
    assert_eq!(v["other"]["x"], 1);
    assert_eq!(v["credHelpers"]["h.io"], "test");
    assert_eq!(v["auths"]["keep.io"]["auth"], b64("keep:p").as_str());
    assert_eq!(v["auths"]["r.io"]["auth"], b64("new:pw").as_str());
    assert_eq!(v["auths"]["r.io"]["email"], "a@b");
    assert!(v["auths"]["r.io"].get("identitytoken").is_none());
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["auths", "credHelpers", "other"]);
    let tok = Credential::IdentityToken {
        username: "tu".into(),
        token: "tt".into(),
    };
    store(&e.paths, None, false, "t.io", &tok).unwrap();
    assert_eq!(e.lookup("t.io"), Some(tok));
}

#[test]
fn store_uses_helpers() {
    let mut e = env();
    write(
        &e.primary(),
        r#"{"auths":{},"credHelpers":{"h.io":"test"}}"#,
    );
    let got = store(&e.paths, None, false, "h.io", &basic("u", "pw")).unwrap();
    assert_eq!(got, StoredIn::Helper("test".into()));
    assert_eq!(got.to_string(), "credential helper: test");
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.root().join("stored.json")).unwrap()).unwrap();
    assert_eq!(
        stored,
        serde_json::json!({"ServerURL":"h.io","Username":"u","Secret":"pw"})
    );
    // credHelpers keys are matched exactly (c/image): a repository key goes to the file.
    let got = store(&e.paths, None, false, "h.io/ns", &basic("u", "pw")).unwrap();
    assert_eq!(got, StoredIn::File(e.primary()));
    // registries.conf helpers: first success wins.
    e.paths.credential_helpers = vec!["missing".into(), "test".into()];
    let got = store(&e.paths, None, false, "x.io", &basic("u", "pw")).unwrap();
    assert_eq!(got, StoredIn::Helper("test".into()));
    e.paths.credential_helpers = vec!["test".into()];
    let err = store(&e.paths, None, false, "x.io/ns", &basic("u", "pw")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "namespaced key is not supported for credential helper test"
    );
}

#[test]
fn store_compat_docker_format() {
    let e = env();
    write(&e.docker(), r#"{"auths":{},"HttpHeaders":{"X":"y"}}"#);
    let got = store(&e.paths, None, true, "docker.io", &basic("u", "p")).unwrap();
    assert_eq!(got, StoredIn::File(e.docker()));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(e.docker()).unwrap()).unwrap();
    assert_eq!(
        v["auths"][DOCKER_IO_LEGACY_KEY]["auth"],
        b64("u:p").as_str()
    );
    assert_eq!(v["HttpHeaders"]["X"], "y");
    assert_eq!(e.user("docker.io/library/x").as_deref(), Some("u"));
    let err = store(&e.paths, None, true, "q.io/ns", &basic("u", "p")).unwrap_err();
    assert!(
        err.to_string().contains("namespaced key \"q.io/ns\""),
        "{err}"
    );
    // credsStore: the secret goes to the store, an empty marker to the file.
    write(&e.docker(), r#"{"credsStore":"test"}"#);
    let got = store(&e.paths, None, true, "s.io", &basic("u", "p")).unwrap();
    assert_eq!(got, StoredIn::Helper("test".into()));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(e.docker()).unwrap()).unwrap();
    assert_eq!(v["auths"]["s.io"], serde_json::json!({}));
}

#[test]
fn remove_and_remove_all() {
    let e = env();
    write(
        &e.primary(),
        &format!(
            r#"{{"auths":{{"a.io":{{"auth":"{}"}},"b.io":{{"auth":"{}"}}}},"credHelpers":{{"h.io":"test"}},"x":true}}"#,
            b64("a:p"),
            b64("b:p")
        ),
    );
    assert!(remove(&e.paths, None, false, "a.io").unwrap());
    assert!(!remove(&e.paths, None, false, "a.io").unwrap());
    assert_eq!(e.user("a.io"), None);
    assert_eq!(e.user("b.io").as_deref(), Some("b"));
    let mode = std::fs::metadata(e.primary()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Removing through a helper named in credHelpers.
    assert!(remove(&e.paths, None, false, "h.io").unwrap());
    assert!(e.log().contains("erase h.io\n"), "{}", e.log());
    remove_all(&e.paths, None, false).unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(e.primary()).unwrap()).unwrap();
    assert_eq!(v, serde_json::json!({"auths": {}, "x": true}));
    // Nothing to remove and no file: nothing is written.
    let other = e.root().join("none/auth.json");
    assert!(!remove(&e.paths, Some(&other), false, "a.io").unwrap());
    assert!(!other.exists());
}

#[test]
fn remove_all_with_external_helper() {
    let mut e = env();
    e.paths.credential_helpers = vec!["test".into(), "missing".into()];
    remove_all(&e.paths, None, false).unwrap();
    let log = e.log();
    assert!(
        log.contains("erase a.io\n") && log.contains("erase b.io\n"),
        "{log}"
    );
}

#[test]
fn keys_are_validated() {
    let e = env();
    for (key, msg) in [
        (
            "https://r.io",
            "key https://r.io contains http[s]:// prefix",
        ),
        (
            "r.io/x@sha256:abc",
            "key r.io/x@sha256:abc contains a '@' character",
        ),
        (
            "r.io/x:tag",
            "key r.io/x:tag contains a ':' character after host[:port]",
        ),
    ] {
        assert_eq!(lookup(&e.paths, None, key).unwrap_err().to_string(), msg);
    }
    assert!(validate_key("localhost:5000/foo").unwrap());
    assert!(!validate_key("localhost:5000").unwrap());
}

#[test]
fn credentials_keys_from_cli_arguments() {
    let p = |a: &str, repos: bool| parse_credentials_key(a, repos).map_err(|e| e.to_string());
    assert_eq!(
        p("https://user@q.io:5000/v2/x?y", true),
        Ok(("q.io:5000".into(), "q.io:5000".into()))
    );
    assert_eq!(
        p("q.io/ns/r", true),
        Ok(("q.io/ns/r".into(), "q.io".into()))
    );
    assert_eq!(p("q.io/ns/r", false), Ok(("q.io".into(), "q.io".into())));
    assert_eq!(
        p("q.io/ns:tag", true),
        Err("reference \"q.io/ns:tag\" contains tag or digest".into())
    );
    assert!(
        p("q.io/N", true)
            .unwrap_err()
            .starts_with("parse reference from \"q.io/N\"")
    );
}

#[test]
fn debug_never_shows_secrets() {
    let c = basic("user", "hunter2");
    let t = Credential::IdentityToken {
        username: "u".into(),
        token: "tok-secret".into(),
    };
    let s = format!("{c:?} {t:?}");
    assert!(
        s.contains("user") && !s.contains("hunter2") && !s.contains("tok-secret"),
        "{s}"
    );
}
