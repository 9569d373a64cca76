//! A test PKI made with the `openssl` CLI: a CA, a server certificate for 127.0.0.1 /
//! localhost, a client certificate (EC P-256, quick to generate), and an RSA key pair
//! for signing registry tokens. Files live in a temp dir kept alive by every clone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use crate::cmd::require_tool;

/// Where openssl lives.
fn openssl_bin() -> PathBuf {
    PathBuf::from("/usr/bin/openssl")
}

/// Whether the openssl CLI is available (see [`require_tool`]).
pub fn require_openssl() -> bool {
    require_tool("openssl", &openssl_bin())
}

/// A CA with a server and a client certificate signed by it.
#[derive(Debug, Clone)]
pub struct Pki {
    _dir: Arc<tempfile::TempDir>,
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

/// Runs `openssl ARGS` in `cwd`; fails the test if it fails.
pub fn openssl(args: &[&str], cwd: &Path) {
    let o = match Command::new(openssl_bin())
        .args(args)
        .current_dir(cwd)
        .output()
    {
        Ok(o) => o,
        Err(e) => panic!("running openssl {args:?}: {e}"),
    };
    if !o.status.success() {
        panic!(
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

fn ec_key(dir: &Path, name: &str) {
    openssl(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            name,
        ],
        dir,
    );
}

/// Signs `name.csr` with the CA into `name.crt` using extension file `name.ext`.
fn sign(dir: &Path, name: &str, ext: &str) {
    let ext_file = dir.join(format!("{name}.ext"));
    if let Err(e) = fs_err::write(&ext_file, ext) {
        panic!("{e}");
    }
    openssl(
        &[
            "x509",
            "-req",
            "-sha256",
            "-days",
            "2",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.crt"),
        ],
        dir,
    );
}

fn tempdir(prefix: &str) -> tempfile::TempDir {
    match tempfile::Builder::new().prefix(prefix).tempdir() {
        Ok(d) => d,
        Err(e) => panic!("creating a temp dir: {e}"),
    }
}

impl Pki {
    /// Generates a fresh CA, server and client certificates (valid two days).
    pub fn new() -> Pki {
        let dir = tempdir("ferry-test-pki-");
        let d = dir.path();
        ec_key(d, "ca.key");
        openssl(
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-sha256",
                "-days",
                "2",
                "-subj",
                "/CN=ferry test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                "ca.crt",
            ],
            d,
        );
        for (name, cn, ext) in [
            (
                "server",
                "/CN=127.0.0.1",
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
                 keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
            ),
            (
                "client",
                "/CN=ferry test client",
                "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n\
                 extendedKeyUsage=clientAuth\n",
            ),
        ] {
            ec_key(d, &format!("{name}.key"));
            openssl(
                &[
                    "req",
                    "-new",
                    "-key",
                    &format!("{name}.key"),
                    "-subj",
                    cn,
                    "-out",
                    &format!("{name}.csr"),
                ],
                d,
            );
            sign(d, name, ext);
        }
        Pki {
            ca_cert: d.join("ca.crt"),
            server_cert: d.join("server.crt"),
            server_key: d.join("server.key"),
            client_cert: d.join("client.crt"),
            client_key: d.join("client.key"),
            _dir: Arc::new(dir),
        }
    }

    pub fn ca_pem(&self) -> Vec<u8> {
        read(&self.ca_cert)
    }

    /// The client certificate and key (PEM).
    pub fn client_pair(&self) -> (Vec<u8>, Vec<u8>) {
        (read(&self.client_cert), read(&self.client_key))
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

fn read(p: &Path) -> Vec<u8> {
    match fs_err::read(p) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

/// An RSA key and self-signed certificate for RS256 token signing, written into `dir`:
/// `(key, cert)`.
pub fn token_signing_pair(dir: &Path) -> (PathBuf, PathBuf) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-sha256",
            "-days",
            "2",
            "-subj",
            "/CN=ferry test token signer",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
        ],
        dir,
    );
    (dir.join("token.key"), dir.join("token.crt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_cert_verifies_against_ca() {
        if !require_openssl() {
            return;
        }
        let pki = Pki::new();
        let o = Command::new(openssl_bin())
            .arg("verify")
            .arg("-CAfile")
            .arg(&pki.ca_cert)
            .arg(&pki.server_cert)
            .output();
        assert!(o.is_ok_and(|o| o.status.success()));
        assert!(String::from_utf8_lossy(&pki.ca_pem()).contains("BEGIN CERTIFICATE"));
    }
}
