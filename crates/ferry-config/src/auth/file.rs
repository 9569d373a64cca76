//! Reading one auth file and finding a key in it (c/image `findCredentialsInFile`,
//! `authKeysForKey`, `normalizeAuthFileKey`, `decodeDockerAuth`).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;

use super::{AuthError, Credential, DOCKER_IO_LEGACY_KEY, helper};

/// One `auths` entry. Other fields (`email`, …) are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Entry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The parts of an auth file the lookup uses.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuthFile {
    #[serde(default)]
    pub(crate) auths: Option<BTreeMap<String, Entry>>,
    #[serde(default, rename = "credHelpers")]
    pub(crate) cred_helpers: Option<BTreeMap<String, String>>,
    #[serde(default, rename = "credsStore")]
    pub(crate) creds_store: Option<String>,
    /// The legacy `~/.dockercfg` format (a bare map of keys to entries).
    #[serde(skip)]
    pub(crate) legacy: bool,
}

/// Reads and parses `path`; `Ok(None)` if it does not exist.
pub(crate) fn read(path: &Path, legacy: bool) -> Result<Option<AuthFile>, AuthError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AuthError::ReadJson {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    parse(path, &bytes, legacy).map(Some)
}

/// Parses auth file bytes; errors name `path` and never quote file contents.
pub(crate) fn parse(path: &Path, bytes: &[u8], legacy: bool) -> Result<AuthFile, AuthError> {
    let err = |e: serde_json::Error| AuthError::ReadJson {
        path: path.to_path_buf(),
        message: format!("unmarshaling JSON: {}", redact_json_error(&e)),
    };
    if legacy {
        let auths: Option<BTreeMap<String, Entry>> = serde_json::from_slice(bytes).map_err(err)?;
        Ok(AuthFile {
            auths,
            legacy: true,
            ..AuthFile::default()
        })
    } else {
        let file: Option<AuthFile> = serde_json::from_slice(bytes).map_err(err)?;
        Ok(file.unwrap_or_default())
    }
}

/// serde_json's text without any quoted part: data errors quote the offending value,
/// which might be a secret.
fn redact_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match (msg.find('"'), msg.rfind('"')) {
        (Some(a), Some(b)) if b > a => {
            let head = msg[..a].trim_end();
            format!("{head}{}", &msg[b + 1..])
        }
        _ => msg,
    }
}

impl AuthFile {
    /// The credentials for `key` in this file, c/image's order (see the module docs of
    /// `auth`), plus the `credsStore` extension.
    pub(crate) fn find(
        &self,
        path: &Path,
        key: &str,
        registry: &str,
        search_path: Option<&OsStr>,
    ) -> Result<Option<Credential>, AuthError> {
        if let Some(h) = self.cred_helpers.as_ref().and_then(|m| m.get(registry)) {
            return helper::get(h, registry, search_path);
        }
        let found = self.find_entry(key, registry);
        if let Some((k, entry)) = found
            && let Some(cred) = decode(path, k, entry)?
        {
            return Ok(Some(cred));
        }
        match self.creds_store.as_deref().filter(|s| !s.is_empty()) {
            Some(store) => helper::get(store, &store_server_url(registry), search_path),
            None => Ok(None),
        }
    }

    /// An exact key (most specific first; only the registry for legacy files), else a
    /// key that normalises to the registry.
    fn find_entry<'a>(&'a self, key: &str, registry: &str) -> Option<(&'a str, &'a Entry)> {
        let auths = self.auths.as_ref()?;
        let exact: Vec<&str> = if self.legacy {
            vec![registry]
        } else {
            auth_keys_for_key(key)
        };
        for k in exact {
            if let Some((k, e)) = auths.get_key_value(k) {
                return Some((k, e));
            }
        }
        let wanted = normalize_registry(registry);
        auths
            .iter()
            .find(|(k, _)| normalize_auth_file_key(k, self.legacy) == wanted)
            .map(|(k, e)| (k.as_str(), e))
    }
}

/// `quay.io/ns/repo` → `[quay.io/ns/repo, quay.io/ns, quay.io]`.
pub(crate) fn auth_keys_for_key(key: &str) -> Vec<&str> {
    let mut res = vec![key];
    let mut k = key;
    while let Some(i) = k.rfind('/') {
        k = &k[..i];
        res.push(k);
    }
    res
}

/// The docker.io aliases all become `index.docker.io`.
pub(crate) fn normalize_registry(registry: &str) -> &str {
    match registry {
        "registry-1.docker.io" | "docker.io" => "index.docker.io",
        r => r,
    }
}

/// A key written as a URL (`https://host/v1/`) becomes its host; legacy keys always do.
pub(crate) fn normalize_auth_file_key(key: &str, legacy: bool) -> &str {
    let stripped = key
        .strip_prefix("http://")
        .or_else(|| key.strip_prefix("https://"))
        .unwrap_or(key);
    let host = if legacy || stripped.len() != key.len() {
        stripped.split('/').next().unwrap_or(stripped)
    } else {
        stripped
    };
    normalize_registry(host)
}

/// The server URL under which Docker keeps a registry's secrets in a `credsStore`.
fn store_server_url(registry: &str) -> String {
    if normalize_registry(registry) == "index.docker.io" {
        DOCKER_IO_LEGACY_KEY.to_string()
    } else {
        registry.to_string()
    }
}

/// `auth` is base64 of `user:password`. An entry without a usable `auth` (Docker writes
/// `{}` markers when a helper holds the secret) yields `None`, as in c/image.
fn decode(path: &Path, key: &str, entry: &Entry) -> Result<Option<Credential>, AuthError> {
    // Go's decoder skips line breaks.
    let raw: String = entry
        .auth
        .as_deref()
        .unwrap_or_default()
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n'))
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|_| AuthError::BadAuthField {
            path: path.to_path_buf(),
            key: key.to_string(),
        })?;
    let decoded = String::from_utf8_lossy(&decoded);
    let Some((user, password)) = decoded.split_once(':') else {
        return Ok(None);
    };
    let username = user.to_string();
    let password = password.trim_matches('\0').to_string();
    Ok(Some(match entry.identitytoken.as_deref() {
        Some(token) if !token.is_empty() => Credential::IdentityToken {
            username,
            token: token.to_string(),
        },
        _ => Credential::Basic { username, password },
    }))
}
