//! A real registry for tests: Debian's `docker-registry` (Distribution 2.8) on
//! 127.0.0.1 with a free port, plain HTTP, storage and config in a temp dir, deletes
//! enabled; killed when the [`Registry`] is dropped.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd::require_tool;

/// Where the registry binary lives (`FERRY_TEST_REGISTRY_BIN` overrides).
pub fn registry_bin() -> PathBuf {
    std::env::var_os("FERRY_TEST_REGISTRY_BIN")
        .map_or_else(|| PathBuf::from("/usr/bin/docker-registry"), PathBuf::from)
}

/// A running registry.
#[derive(Debug)]
pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
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
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("GET {path}: no HTTP header in response")))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other(format!("GET {path}: bad status line in {head:?}")))?;
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

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn config(dir: &Path, port: u16) -> String {
    format!(
        "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    \
         rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      \
         enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: ferry-test-not-a-secret\n",
        dir.join("data").display()
    )
}

impl Registry {
    /// Starts a registry, or returns `None` (after a notice) if the binary is missing and
    /// `FERRY_TEST_ALLOW_MISSING=1`; fails the test if it is missing otherwise, or if it
    /// does not come up.
    pub fn start_or_skip() -> Option<Registry> {
        if !require_tool("docker-registry", &registry_bin()) {
            return None;
        }
        match Registry::start() {
            Ok(r) => Some(r),
            Err(e) => panic!("starting docker-registry: {e}"),
        }
    }

    /// Starts a registry and waits until `GET /v2/` answers.
    pub fn start() -> io::Result<Registry> {
        let bin = registry_bin();
        let mut last = String::new();
        // A free port can be taken by someone else before the registry binds it: retry.
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("ferry-registry-")
                .tempdir()?;
            let port = free_port()?;
            let cfg = dir.path().join("config.yml");
            fs_err::write(&cfg, config(dir.path(), port))?;
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
            let mut reg = Registry { child, port, dir };
            match reg.wait_ready(Duration::from_secs(15)) {
                Ok(()) => return Ok(reg),
                Err(e) => last = format!("{e}\n--- registry log ---\n{}", reg.log()),
            }
        }
        Err(io::Error::other(format!(
            "docker-registry did not come up: {last}"
        )))
    }

    fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait()? {
                return Err(io::Error::other(format!("registry exited early ({st})")));
            }
            match http_get(&self.host(), "/v2/") {
                Ok(r) if r.status == 200 => return Ok(()),
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Ok(r) => return Err(io::Error::other(format!("GET /v2/ answered {}", r.status))),
                Err(e) => return Err(io::Error::other(format!("GET /v2/: {e}"))),
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

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// The registry's storage directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `GET path` on the registry.
    pub fn get(&self, path: &str) -> io::Result<Response> {
        http_get(&self.host(), path)
    }

    /// The registry's log so far (for failure messages).
    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
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
}
