//! `containers-certs.d(5)`: per-registry TLS files (c/image `dockerCertDir` and
//! `tlsclientconfig.SetupCertificates`).
//!
//! - Directory: `--cert-dir` as given; else the **first existing** of
//!   `$HOME/.config/containers/certs.d/HOST[:PORT]`, `/etc/containers/certs.d/HOST[:PORT]`,
//!   `/etc/docker/certs.d/HOST[:PORT]` (the port must match exactly). A missing or
//!   unreadable (permission) directory yields no files.
//! - Files: `*.crt` are CA certificates (added to the system roots); `*.cert` + `*.key`
//!   with the same base name are a client certificate and key. A `.cert` without its
//!   `.key` (or the reverse) is an error. Only the first client pair in name order is
//!   returned (c/image loads all of them, Go then presents the first).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The per-user root, relative to `$HOME`.
pub const USER_CERTS_D: &str = ".config/containers/certs.d";
/// The system roots, in search order after the per-user one.
pub const SYSTEM_CERTS_D: [&str; 2] = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

/// A client certificate and its key (PEM).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCert {
    pub cert_path: PathBuf,
    pub cert_pem: Vec<u8>,
    pub key_path: PathBuf,
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCert")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The TLS material found for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The directory that was read, if any exists.
    pub dir: Option<PathBuf>,
    /// Extra CA certificates (`*.crt`), in name order.
    pub ca_pems: Vec<(PathBuf, Vec<u8>)>,
    /// The client certificate, if any.
    pub client: Option<ClientCert>,
}

/// Errors reading a certs.d directory.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error("reading {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    /// c/image's text.
    #[error(
        "missing key {key} for client certificate {cert}. Note that CA certificates should use the extension .crt"
    )]
    MissingKey { key: String, cert: String },
    /// c/image's text.
    #[error("missing client certificate {cert} for key {key}")]
    MissingCert { cert: String, key: String },
}

/// The certs.d roots searched for a host, in order (without `--cert-dir`).
pub fn cert_roots(home: Option<&Path>) -> Vec<PathBuf> {
    home.filter(|h| !h.as_os_str().is_empty())
        .map(|h| h.join(USER_CERTS_D))
        .into_iter()
        .chain(SYSTEM_CERTS_D.iter().map(PathBuf::from))
        .collect()
}

/// The directory to read for `host_port`: `cert_dir` if given, else the first existing
/// `ROOT/host_port` (a root that cannot be accessed for lack of permission is skipped).
pub fn cert_dir_for(
    host_port: &str,
    cert_dir: Option<&Path>,
    roots: &[PathBuf],
) -> Result<Option<PathBuf>, CertsError> {
    if let Some(d) = cert_dir.filter(|d| !d.as_os_str().is_empty()) {
        return Ok(Some(d.to_path_buf()));
    }
    for root in roots {
        let dir = root.join(host_port);
        match std::fs::metadata(&dir) {
            Ok(_) => return Ok(Some(dir)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
                ) => {}
            Err(error) => return Err(CertsError::Io { path: dir, error }),
        }
    }
    Ok(None)
}

/// The TLS files for `host_port` (`--cert-dir` in `cert_dir`, `$HOME` in `home`).
pub fn tls_files(
    host_port: &str,
    cert_dir: Option<&Path>,
    home: Option<&Path>,
) -> Result<TlsFiles, CertsError> {
    tls_files_in(host_port, cert_dir, &cert_roots(home))
}

/// [`tls_files`] with explicit roots (for tests).
pub fn tls_files_in(
    host_port: &str,
    cert_dir: Option<&Path>,
    roots: &[PathBuf],
) -> Result<TlsFiles, CertsError> {
    match cert_dir_for(host_port, cert_dir, roots)? {
        Some(dir) => read_cert_dir(&dir),
        None => Ok(TlsFiles::default()),
    }
}

/// Reads one directory's `*.crt`, `*.cert` and `*.key` files.
pub fn read_cert_dir(dir: &Path) -> Result<TlsFiles, CertsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
            ) =>
        {
            return Ok(TlsFiles::default());
        }
        Err(error) => {
            return Err(CertsError::Io {
                path: dir.to_path_buf(),
                error,
            });
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| CertsError::Io {
            path: dir.to_path_buf(),
            error,
        })?;
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    names.sort();
    let read = |name: &str| -> Result<Option<Vec<u8>>, CertsError> {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            // Removed since the listing: ignore, as c/image does.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(CertsError::Io { path, error }),
        }
    };
    let mut files = TlsFiles {
        dir: Some(dir.to_path_buf()),
        ..TlsFiles::default()
    };
    for name in &names {
        if name.ends_with(".crt")
            && let Some(pem) = read(name)?
        {
            files.ca_pems.push((dir.join(name), pem));
        }
        if let Some(base) = name.strip_suffix(".cert") {
            let key = format!("{base}.key");
            if !names.contains(&key) {
                return Err(CertsError::MissingKey {
                    key,
                    cert: name.clone(),
                });
            }
            if files.client.is_none()
                && let (Some(cert_pem), Some(key_pem)) = (read(name)?, read(&key)?)
            {
                files.client = Some(ClientCert {
                    cert_path: dir.join(name),
                    cert_pem,
                    key_path: dir.join(&key),
                    key_pem,
                });
            }
        }
        if let Some(base) = name.strip_suffix(".key") {
            let cert = format!("{base}.cert");
            if !names.contains(&cert) {
                return Err(CertsError::MissingCert {
                    cert,
                    key: name.clone(),
                });
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(dir: &Path, name: &str, body: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), body).unwrap();
    }

    #[test]
    fn roots_order() {
        assert_eq!(
            cert_roots(Some(Path::new("/h"))),
            vec![
                PathBuf::from("/h/.config/containers/certs.d"),
                PathBuf::from("/etc/containers/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ]
        );
        assert_eq!(cert_roots(None).len(), 2);
    }

    #[test]
    fn first_existing_directory_wins() {
        let t = tempfile::TempDir::new().unwrap();
        let roots: Vec<PathBuf> = ["user", "containers", "docker"]
            .iter()
            .map(|r| t.path().join(r))
            .collect();
        put(&roots[1].join("r.io:5000"), "ca.crt", "CONTAINERS");
        put(&roots[2].join("r.io:5000"), "ca.crt", "DOCKER");
        put(&roots[2].join("r.io"), "ca.crt", "NOPORT");
        let f = tls_files_in("r.io:5000", None, &roots).unwrap();
        assert_eq!(f.dir, Some(roots[1].join("r.io:5000")));
        assert_eq!(f.ca_pems.len(), 1);
        assert_eq!(f.ca_pems[0].1, b"CONTAINERS");
        // Only the first existing directory is read, even if it is empty.
        std::fs::create_dir_all(roots[0].join("r.io:5000")).unwrap();
        let f = tls_files_in("r.io:5000", None, &roots).unwrap();
        assert!(f.ca_pems.is_empty());
        // The port must match exactly.
        let f = tls_files_in("r.io", None, &roots).unwrap();
        assert_eq!(f.ca_pems[0].1, b"NOPORT");
        assert_eq!(
            tls_files_in("x.io", None, &roots).unwrap(),
            TlsFiles::default()
        );
        // --cert-dir replaces the search and is read directly.
        let explicit = t.path().join("explicit");
        put(&explicit, "b.crt", "B");
        put(&explicit, "a.crt", "A");
        put(&explicit, "ignored.pem", "X");
        let f = tls_files_in("r.io:5000", Some(&explicit), &roots).unwrap();
        let got: Vec<&[u8]> = f.ca_pems.iter().map(|(_, b)| b.as_slice()).collect();
        assert_eq!(got, [b"A".as_slice(), b"B".as_slice()]);
        // A missing --cert-dir has no files.
        let f = tls_files_in("r.io", Some(&t.path().join("none")), &roots).unwrap();
        assert!(f.ca_pems.is_empty() && f.client.is_none());
    }

    #[test]
    fn client_pairs() {
        let t = tempfile::TempDir::new().unwrap();
        let d = t.path().join("d");
        put(&d, "client.cert", "CERT");
        put(&d, "client.key", "KEY");
        put(&d, "z.cert", "CERT2");
        put(&d, "z.key", "KEY2");
        let f = read_cert_dir(&d).unwrap();
        let c = f.client.unwrap();
        assert_eq!(c.cert_path, d.join("client.cert"));
        assert_eq!(c.key_path, d.join("client.key"));
        assert_eq!(
            (c.cert_pem.as_slice(), c.key_pem.as_slice()),
            (b"CERT".as_slice(), b"KEY".as_slice())
        );
        let dbg = format!("{c:?}");
        assert!(
            dbg.contains("<redacted>") && !dbg.contains("75, 69, 89"),
            "{dbg}"
        );
        put(&d, "lonely.cert", "C");
        assert_eq!(
            read_cert_dir(&d).unwrap_err().to_string(),
            "missing key lonely.key for client certificate lonely.cert. Note that CA certificates should use the extension .crt"
        );
        std::fs::remove_file(d.join("lonely.cert")).unwrap();
        put(&d, "orphan.key", "K");
        assert_eq!(
            read_cert_dir(&d).unwrap_err().to_string(),
            "missing client certificate orphan.cert for key orphan.key"
        );
    }
}
