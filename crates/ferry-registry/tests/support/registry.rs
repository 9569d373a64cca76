//! A real Distribution registry (`docker-registry`) with the modes ferry-test's spawner
//! lacks: TLS (optionally requiring client certificates), htpasswd Basic auth, and
//! Bearer token auth against [`super::token::TokenServer`].

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::tls::Pki;

/// How the registry is set up.
#[derive(Default)]
pub struct Options {
    /// Serve HTTPS with a certificate from this PKI.
    pub tls: Option<Pki>,
    /// With `tls`: require a client certificate signed by the PKI's CA.
    pub client_certs: bool,
    /// htpasswd Basic auth with these users.
    pub htpasswd: Vec<(String, String)>,
    /// Bearer token auth: (realm URL, service, issuer, signing certificate path).
    pub token: Option<(String, String, String, PathBuf)>,
}

/// A running registry, killed on drop.
pub struct TestRegistry {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub pki: Option<Pki>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn yaml_config(dir: &Path, port: u16, o: &Options) -> String {
    let mut c = format!(
        "version: 0.1\nlog:\n  level: info\n  formatter: text\nstorage:\n  filesystem:\n    \
         rootdirectory: {}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      \
         enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: ferry-registry-test\n",
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
    } else if let Some((realm, service, issuer, cert)) = &o.token {
        c.push_str(&format!(
            "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    \
             rootcertbundle: {}\n",
            cert.display()
        ));
    }
    c
}

fn write_htpasswd(path: &Path, users: &[(String, String)]) {
    let mut out = String::new();
    for (u, p) in users {
        let o = Command::new("htpasswd")
            .args(["-Bbn", u, p])
            .output()
            .expect("running htpasswd (apache2-utils)");
        assert!(o.status.success(), "htpasswd failed: {o:?}");
        out.push_str(String::from_utf8_lossy(&o.stdout).trim());
        out.push('\n');
    }
    fs_err::write(path, out).expect("writing htpasswd");
}

impl TestRegistry {
    /// Starts a registry, or `None` when docker-registry is missing and
    /// `FERRY_TEST_ALLOW_MISSING=1`.
    pub fn start(o: Options) -> Option<TestRegistry> {
        let bin = ferry_test::registry::registry_bin();
        if !ferry_test::require_tool("docker-registry", &bin) {
            return None;
        }
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("ferry-registry-test-")
                .tempdir()
                .expect("tempdir");
            let port = free_port();
            if !o.htpasswd.is_empty() {
                write_htpasswd(&dir.path().join("htpasswd"), &o.htpasswd);
            }
            let cfg = dir.path().join("config.yml");
            fs_err::write(&cfg, yaml_config(dir.path(), port, &o)).expect("config");
            let log = fs_err::File::create(dir.path().join("registry.log")).expect("log");
            let child = Command::new(&bin)
                .arg("serve")
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(Stdio::from(log.try_clone().expect("log").into_file()))
                .stderr(Stdio::from(log.into_file()))
                .spawn()
                .expect("starting docker-registry");
            let mut reg = TestRegistry {
                child,
                port,
                dir,
                pki: o.tls.clone(),
            };
            if reg.wait_ready() {
                return Some(reg);
            }
            last = reg.log();
        }
        panic!("docker-registry did not come up:\n{last}");
    }

    /// Waits until the port accepts connections and the log says it is listening.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.log().contains("listening on")
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        false
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Access-log lines (`"METHOD /path HTTP/x" status …`) containing `needle`.
    pub fn access_lines(&self, needle: &str) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.starts_with("127.0.0.1 - ") && l.contains(needle))
            .map(str::to_string)
            .collect()
    }
}

impl TestRegistry {
    /// Access-log lines containing every needle, waiting (up to 5 s) until there are at
    /// least `min`: the registry writes a line after the client has its answer.
    pub fn wait_access(&self, needles: &[&str], min: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let v: Vec<String> = self
                .access_lines("")
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

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
