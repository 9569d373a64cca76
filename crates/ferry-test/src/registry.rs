//! A real registry for tests: Debian's `docker-registry` (Distribution 2.8) on
//! 127.0.0.1 with a free port, storage and config in a temp dir, deletes enabled; killed
//! when the [`Registry`] is dropped. Modes ([`Options`]): plain HTTP (the default), TLS
//! with a certificate from a test [`Pki`] (optionally requiring client certificates),
//! htpasswd Basic auth (`htpasswd -Bbn`, apache2-utils) and Bearer token auth against a
//! token server ([`crate::token::TokenServer`]). The registry's log (access log
//! included) is kept for assertions ([`Registry::access_lines`]).

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::require_tool;
use crate::tls::Pki;

/// Where the registry binary lives (`FERRY_TEST_REGISTRY_BIN` overrides).
pub fn registry_bin() -> PathBuf {
    std::env::var_os("FERRY_TEST_REGISTRY_BIN")
        .map_or_else(|| PathBuf::from("/usr/bin/docker-registry"), PathBuf::from)
}

/// Where htpasswd lives (apache2-utils).
pub fn htpasswd_bin() -> PathBuf {
    PathBuf::from("/usr/bin/htpasswd")
}

/// The registry's `auth.token` settings (see [`crate::token::TokenServer::auth`]).
#[derive(Debug, Clone)]
pub struct TokenAuth {
    pub realm: String,
    pub service: String,
    pub issuer: String,
    /// The certificate tokens are signed with.
    pub root_cert_bundle: PathBuf,
}

/// How the registry is set up; the default is plain HTTP without auth.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve HTTPS with the PKI's server certificate.
    pub tls: Option<Pki>,
    /// With `tls`: require a client certificate signed by the PKI's CA.
    pub client_certs: bool,
    /// htpasswd Basic auth with these users (user, password).
    pub htpasswd: Vec<(String, String)>,
    /// Bearer token auth.
    pub token: Option<TokenAuth>,
}

impl Options {
    /// TLS with a fresh test CA.
    pub fn tls() -> Options {
        Options {
            tls: Some(Pki::new()),
            ..Options::default()
        }
    }

    /// htpasswd Basic auth for one user.
    pub fn htpasswd(user: &str, password: &str) -> Options {
        Options {
            htpasswd: vec![(user.to_string(), password.to_string())],
            ..Options::default()
        }
    }

    /// Bearer token auth.
    pub fn token(auth: TokenAuth) -> Options {
        Options {
            token: Some(auth),
            ..Options::default()
        }
    }

    fn is_plain(&self) -> bool {
        self.tls.is_none() && self.htpasswd.is_empty() && self.token.is_none()
    }
}

/// A running registry.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    pki: Option<Pki>,
}

/// A minimal HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET http://addr/path` with `Connection: close` (no client library needed).
pub fn http_get(addr: &str, path: &str) -> io::Result<Response> {
    http_request(addr, "GET", path, &[], &[])
}

/// `METHOD http://addr/path` with extra `headers` and `body`, `Connection: close`.
pub fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Response> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || matches!(method, "PUT" | "POST" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("{method} {path}: no HTTP header in response")))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other(format!("{method} {path}: bad status line in {head:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(p) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..p]).trim(), 16).unwrap_or(0);
        if size == 0 || p + 2 + size > b.len() {
            break;
        }
        out.extend_from_slice(&b[p + 2..p + 2 + size]);
        b = &b[(p + 4 + size).min(b.len())..];
    }
    out
}

/// A TCP port that was free a moment ago (nothing listens on it afterwards).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn config(dir: &Path, port: u16, o: &Options) -> String {
    let mut c = format!(
        "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    \
         rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      \
         enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: ferry-test-not-a-secret\n",
        dir.join("data").display()
    );
    if let Some(pki) = &o.tls {
        c.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            pki.server_cert.display(),
            pki.server_key.display()
        ));
        if o.client_certs {
            c.push_str(&format!(
                "    clientcas:\n      - {}\n",
                pki.ca_cert.display()
            ));
        }
    }
    if !o.htpasswd.is_empty() {
        c.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: ferry-test\n    path: {}\n",
            dir.join("htpasswd").display()
        ));
    } else if let Some(t) = &o.token {
        c.push_str(&format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    \
             rootcertbundle: {}\n",
            t.realm,
            t.service,
            t.issuer,
            t.root_cert_bundle.display()
        ));
    }
    c
}

/// Writes a bcrypt htpasswd file with `htpasswd -Bbn`.
fn write_htpasswd(path: &Path, users: &[(String, String)]) -> io::Result<()> {
    let mut out = String::new();
    for (u, p) in users {
        let o = Command::new(htpasswd_bin())
            .args(["-Bbn", u, p])
            .output()
            .map_err(|e| io::Error::other(format!("running htpasswd (apache2-utils): {e}")))?;
        if !o.status.success() {
            return Err(io::Error::other(format!(
                "htpasswd failed: {}",
                String::from_utf8_lossy(&o.stderr)
            )));
        }
        out.push_str(String::from_utf8_lossy(&o.stdout).trim());
        out.push('\n');
    }
    fs_err::write(path, out)
}

impl Registry {
    /// Starts a plain-HTTP registry, or returns `None` (after a notice) if the binary is
    /// missing and `FERRY_TEST_ALLOW_MISSING=1`; fails the test if it is missing
    /// otherwise, or if it does not come up.
    pub fn start_or_skip() -> Option<Registry> {
        Registry::start_with_or_skip(Options::default())
    }

    /// [`Registry::start_or_skip`] in the mode `o` (htpasswd mode also needs
    /// `htpasswd`, TLS and token modes `openssl`).
    pub fn start_with_or_skip(o: Options) -> Option<Registry> {
        if !require_tool("docker-registry", &registry_bin()) {
            return None;
        }
        if !o.htpasswd.is_empty() && !require_tool("htpasswd", &htpasswd_bin()) {
            return None;
        }
        match Registry::start_with(o) {
            Ok(r) => Some(r),
            Err(e) => panic!("starting docker-registry: {e}"),
        }
    }

    /// Starts a plain-HTTP registry and waits until `GET /v2/` answers.
    pub fn start() -> io::Result<Registry> {
        Registry::start_with(Options::default())
    }

    /// Starts a registry in mode `o` and waits until it serves.
    pub fn start_with(o: Options) -> io::Result<Registry> {
        let bin = registry_bin();
        let mut last = String::new();
        // A free port can be taken by someone else before the registry binds it: retry.
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("ferry-registry-")
                .tempdir()?;
            let port = free_port()?;
            if !o.htpasswd.is_empty() {
                write_htpasswd(&dir.path().join("htpasswd"), &o.htpasswd)?;
            }
            if let Some(pki) = &o.tls {
                let certs = dir.path().join("certs");
                fs_err::create_dir_all(&certs)?;
                fs_err::copy(&pki.ca_cert, certs.join("ca.crt"))?;
            }
            let cfg = dir.path().join("config.yml");
            fs_err::write(&cfg, config(dir.path(), port, &o))?;
            let log = fs_err::File::create(dir.path().join("registry.log"))?;
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&cfg)
                .env("REGISTRY_STORAGE_DELETE_ENABLED", "true")
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone()?.into_file()))
                .stderr(Stdio::from(log.into_file()))
                .spawn()
                .map_err(|e| io::Error::other(format!("starting {}: {e}", bin.display())))?;
            let mut reg = Registry {
                child,
                port,
                dir,
                pki: o.tls.clone(),
            };
            match reg.wait_ready(Duration::from_secs(15), o.is_plain()) {
                Ok(()) => return Ok(reg),
                Err(e) => last = format!("{e}\n--- registry log ---\n{}", reg.log()),
            }
        }
        Err(io::Error::other(format!(
            "docker-registry did not come up: {last}"
        )))
    }

    /// Waits for `GET /v2/` to answer 200 (`plain`), else for the port to accept
    /// connections and the log to say the registry is listening.
    fn wait_ready(&mut self, timeout: Duration, plain: bool) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait()? {
                return Err(io::Error::other(format!("registry exited early ({st})")));
            }
            let state = if plain {
                match http_get(&self.host(), "/v2/") {
                    Ok(r) if r.status == 200 => Ok(()),
                    Ok(r) => Err(io::Error::other(format!("GET /v2/ answered {}", r.status))),
                    Err(e) => Err(io::Error::other(format!("GET /v2/: {e}"))),
                }
            } else if TcpStream::connect(self.host()).is_ok() && self.log().contains("listening on")
            {
                Ok(())
            } else {
                Err(io::Error::other("not listening"))
            };
            match state {
                Ok(()) => return Ok(()),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(30));
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`, for references such as `docker://127.0.0.1:PORT/repo:tag`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT` (`https://` in TLS mode).
    pub fn url(&self) -> String {
        let scheme = if self.pki.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// The test PKI of a TLS registry.
    pub fn pki(&self) -> Option<&Pki> {
        self.pki.as_ref()
    }

    /// In TLS mode, a directory holding only the CA as `ca.crt`: what `--cert-dir`
    /// and a certs.d entry contain.
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.pki.as_ref().map(|_| self.dir.path().join("certs"))
    }

    /// The registry's storage directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `GET path` on the registry (plain HTTP, no auth).
    pub fn get(&self, path: &str) -> io::Result<Response> {
        http_get(&self.host(), path)
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Length of the log so far: a mark for [`Registry::access_lines_since`].
    pub fn log_mark(&self) -> usize {
        self.log().len()
    }

    /// Access-log lines (`127.0.0.1 - - [date] "METHOD /path HTTP/x" status …`)
    /// containing `needle`.
    pub fn access_lines(&self, needle: &str) -> Vec<String> {
        self.access_lines_since(0, needle)
    }

    /// Access-log lines written after `mark` (see [`Registry::log_mark`]) containing
    /// `needle`.
    pub fn access_lines_since(&self, mark: usize, needle: &str) -> Vec<String> {
        let log = self.log();
        log.get(mark..)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("127.0.0.1 - ") && l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    /// Access-log lines after `mark` containing every needle, waiting (up to 5 s) until
    /// there are at least `min`: the registry writes a line after the client has its
    /// answer.
    pub fn wait_access(&self, mark: usize, needles: &[&str], min: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v: Vec<String> = self
                .access_lines_since(mark, "")
                .into_iter()
                .filter(|l| needles.iter().all(|n| l.contains(n)))
                .collect();
            if v.len() >= min || Instant::now() > deadline {
                return v;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dechunks() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }

    /// Starts the real registry and GETs `/v2/` (pushes nothing).
    #[test]
    fn registry_answers_v2() -> io::Result<()> {
        let Some(reg) = Registry::start_or_skip() else {
            return Ok(());
        };
        let r = reg.get("/v2/")?;
        assert_eq!(r.status, 200, "{}", reg.log());
        assert_eq!(
            r.header("Docker-Distribution-API-Version"),
            Some("registry/2.0")
        );
        let r = reg.get("/v2/_catalog")?;
        assert_eq!(r.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&r.body)?;
        assert_eq!(v, serde_json::json!({"repositories": []}));
        let r = reg.get("/v2/nothing/here/manifests/latest")?;
        assert_eq!(r.status, 404);
        let host = reg.host();
        drop(reg);
        assert!(
            TcpStream::connect(&host).is_err(),
            "registry still listening after drop"
        );
        Ok(())
    }

    /// htpasswd mode: anonymous requests get 401 with a Basic challenge, the user gets in.
    #[test]
    fn htpasswd_mode_challenges() -> io::Result<()> {
        let Some(reg) = Registry::start_with_or_skip(Options::htpasswd("u", "p")) else {
            return Ok(());
        };
        let r = reg.get("/v2/")?;
        assert_eq!(r.status, 401);
        assert!(
            r.header("www-authenticate")
                .is_some_and(|h| h.starts_with("Basic"))
        );
        // base64("u:p")
        let r = http_request(
            &reg.host(),
            "GET",
            "/v2/",
            &[("Authorization", "Basic dTpw")],
            &[],
        )?;
        assert_eq!(r.status, 200, "{}", reg.log());
        assert_eq!(reg.access_lines("GET /v2/ ").len(), 2, "{}", reg.log());
        Ok(())
    }
}
