//! Helpers of the registry tests: a controlled environment for the tools (HOME,
//! XDG_RUNTIME_DIR and friends in a temp dir, so auth files, certs.d and registries.conf
//! come only from what a test writes), command builders, and small registry chores
//! (tagging by HTTP PUT, reading the access log).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferry_test::registry::{Options, Registry, http_request};
use ferry_test::sources::Transport;

/// Variables that steer credential, certificate and configuration lookup.
const CLEARED: &[&str] = &[
    "REGISTRY_AUTH_FILE",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "DOCKER_CONFIG",
    "CONTAINERS_REGISTRIES_CONF",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A private HOME (with `.config/containers`) and XDG_RUNTIME_DIR under a temp dir.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        let dir = super::support::scratch();
        for d in ["home/.config/containers", "run"] {
            fs_err::create_dir_all(dir.path().join(d)).unwrap();
        }
        Env { dir }
    }

    /// A path under the env's temp dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn home(&self) -> PathBuf {
        self.path("home")
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.path("run")
    }

    /// `${XDG_RUNTIME_DIR}/containers/auth.json`: the default auth file.
    pub fn default_auth_file(&self) -> PathBuf {
        self.runtime_dir().join("containers/auth.json")
    }

    fn apply(&self, mut c: Command) -> Command {
        for v in CLEARED {
            c.env_remove(v);
        }
        c.env("HOME", self.home())
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("NO_PROXY", "*");
        c
    }

    /// `ferry --insecure-policy` in this environment.
    pub fn ferry(&self) -> Command {
        self.apply(super::support::ferry())
    }

    /// `skopeo --insecure-policy` in this environment.
    pub fn skopeo(&self) -> Command {
        self.apply(ferry_test::skopeo())
    }

    /// Trusts `reg`'s CA through certs.d: `~/.config/containers/certs.d/HOST:PORT/ca.crt`.
    pub fn trust_in_certs_d(&self, reg: &Registry) {
        let d = self
            .home()
            .join(".config/containers/certs.d")
            .join(reg.host());
        fs_err::create_dir_all(&d).unwrap();
        let ca = reg.pki().expect("a TLS registry").ca_cert.clone();
        fs_err::copy(ca, d.join("ca.crt")).unwrap();
    }
}

/// Runs `cmd` with `args`; it must succeed.
pub fn ok(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args);
    ferry_test::run(&mut cmd)
}

/// Runs `cmd` with `args`; it must fail. Returns (exit code, stderr).
pub fn fails(mut cmd: Command, args: &[&str]) -> (i32, String) {
    cmd.args(args);
    let out = ferry_test::run_fail(&mut cmd);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The manifest of `repo:reference` on a plain-HTTP registry without auth, as stored
/// (raw bytes, media type).
pub fn get_manifest(reg: &Registry, repo: &str, reference: &str) -> (Vec<u8>, String) {
    let accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, \
                  application/vnd.docker.distribution.manifest.v2+json, \
                  application/vnd.docker.distribution.manifest.list.v2+json";
    let r = http_request(
        &reg.host(),
        "GET",
        &format!("/v2/{repo}/manifests/{reference}"),
        &[("Accept", accept)],
        &[],
    )
    .unwrap();
    assert_eq!(
        r.status,
        200,
        "GET manifest {repo}:{reference}: {}",
        reg.log()
    );
    let mt = r.header("content-type").unwrap_or_default().to_string();
    (r.body, mt)
}

/// Tags `repo:from` as `repo:to` with a manifest PUT (plain-HTTP registry, no auth).
pub fn add_tag(reg: &Registry, repo: &str, from: &str, to: &str) {
    let (body, mt) = get_manifest(reg, repo, from);
    let r = http_request(
        &reg.host(),
        "PUT",
        &format!("/v2/{repo}/manifests/{to}"),
        &[("Content-Type", &mt)],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 201, "PUT manifest {repo}:{to}: {}", reg.log());
}

/// Writes `text` to `path` (creating parents).
pub fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        fs_err::create_dir_all(p).unwrap();
    }
    fs_err::write(path, text).unwrap();
}

/// Fails unless `haystack` contains `needle`, showing both.
pub fn assert_contains(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

/// skopeo's `level=fatal msg="…"` line → the message (unquoted), for comparing with
/// ferry's `Error: …` line.
pub fn skopeo_fatal(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains("level=fatal"))
        .unwrap_or_default();
    let Some(start) = line.find("msg=") else {
        return String::new();
    };
    let quoted = &line[start + 4..];
    serde_json::from_str::<String>(quoted).unwrap_or_else(|_| quoted.to_string())
}

/// ferry's `Error: …` line → the message.
pub fn ferry_error(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("Error: "))
        .unwrap_or_default()
        .to_string()
}

pub const USER: &str = "ferry-user";
pub const PASSWORD: &str = "pa55-Word-ferry";
pub const WRONG: &str = "not-the-Pa55word-xyz";

/// The registry's access log, for failure messages.
pub fn access_log(reg: &Registry) -> String {
    reg.access_lines("").join("\n")
}

/// A registry in mode `o` (`None`: skipped, see `ferry_test::require_tool`).
pub fn start(o: Options) -> Option<Registry> {
    Registry::start_with_or_skip(o)
}

/// Pushes the `kind` fixture's `t` form to `docker://HOST/repo:tag` (plain HTTP).
pub fn push(env: &Env, s: &ferry_test::sources::Sources, t: Transport, dest: &str, all: bool) {
    let src = super::support::source(s, t);
    let mut args = vec!["copy", "--dest-tls-verify=false"];
    if all {
        args.push("--all");
    }
    args.extend([src.as_str(), dest]);
    ok(env.ferry(), &args);
}

/// `TOOL copy [--all] SRC dir:DIR` from a plain-HTTP registry.
pub fn pull_to_dir(tool: std::process::Command, src: &str, dir: &Path, all: bool) {
    let d = format!("dir:{}", dir.display());
    let mut args = vec!["copy", "--src-tls-verify=false"];
    if all {
        args.push("--all");
    }
    args.extend([src, d.as_str()]);
    ok(tool, &args);
}

/// Standard base64 (for hand-written auth files).
pub fn base64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &c)| acc | (u32::from(c) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
