//! Test PKI made with the `openssl` CLI: a CA, a server certificate for 127.0.0.1 /
//! localhost, a client certificate (EC P-256, quick to generate), and an RSA key pair
//! for signing tokens.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

#[derive(Clone)]
pub struct Pki {
    _dir: Arc<tempfile::TempDir>,
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn openssl(args: &[&str], cwd: &Path) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running openssl");
    assert!(
        o.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    fs_err::write(dir.join(format!("{name}.ext")), ext).expect("ext");
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

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("ferry-registry-pki-")
            .tempdir()
            .expect("tempdir");
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
        fs_err::read(&self.ca_cert).expect("ca.crt")
    }

    pub fn client_pair(&self) -> (Vec<u8>, Vec<u8>) {
        (
            fs_err::read(&self.client_cert).expect("client.crt"),
            fs_err::read(&self.client_key).expect("client.key"),
        )
    }
}

/// An RSA key and self-signed certificate for RS256 token signing: (key, cert).
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
