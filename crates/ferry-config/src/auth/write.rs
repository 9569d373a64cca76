//! `login`/`logout` support: c/image `SetCredentials`, `RemoveAuthentication` and
//! `RemoveAllAuthentication`. Files are edited as JSON values so that keys ferry does not
//! know survive, then replaced atomically (temp file + rename, mode 0600, tab-indented
//! like Go's `json.MarshalIndent`).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    AUTH_FILE_HELPER, AuthError, AuthPaths, Credential, DOCKER_IO_LEGACY_KEY, StoredIn, file,
    helper, validate_key,
};

/// Stores `cred` under `key` (`host[:port]` or `host[:port]/ns/repo`).
///
/// Normally the registries.conf `credential-helpers` are tried in order, the auth-file
/// entry writing to the primary file (`authfile`, else the default primary path). With
/// `compat_docker_format` (`--compat-auth-file`), the file is a Docker `config.json`
/// (`authfile`, else `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): namespaced
/// keys are refused, docker.io is written as `https://index.docker.io/v1/`, and its
/// `credHelpers`/`credsStore` are honoured as Docker does.
pub fn store(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    compat_docker_format: bool,
    key: &str,
    cred: &Credential,
) -> Result<StoredIn, AuthError> {
    let namespaced = validate_key(key)?;
    let search = paths.search_path();
    if compat_docker_format {
        if namespaced {
            return Err(AuthError::NamespacedCompatKey {
                key: key.to_string(),
            });
        }
        let path = compat_path(paths, authfile)?;
        let key = compat_key(key);
        return modify_json(&path, |doc| {
            if let Some(h) = doc.cred_helper(key) {
                helper::store(&h, key, cred, search)?;
                return Ok((false, StoredIn::Helper(h)));
            }
            if let Some(h) = doc.creds_store() {
                helper::store(&h, key, cred, search)?;
                // Docker keeps an empty marker entry for secrets held by its store.
                doc.auths_mut()
                    .insert(key.to_string(), Value::Object(Map::new()));
                return Ok((true, StoredIn::Helper(h)));
            }
            set_entry(doc.auths_mut(), key, cred);
            Ok((true, StoredIn::File(path.clone())))
        });
    }
    let mut errors = Vec::new();
    for name in paths.helpers() {
        let res = if name == AUTH_FILE_HELPER {
            store_in_primary(paths, authfile, namespaced, key, cred)
        } else if namespaced {
            Err(AuthError::NamespacedHelperKey {
                helper: name.to_string(),
            })
        } else {
            helper::store(name, key, cred, search).map(|()| StoredIn::Helper(name.to_string()))
        };
        match res {
            Ok(s) => return Ok(s),
            Err(e) => errors.push(e),
        }
    }
    Err(AuthError::from_list(errors))
}

fn store_in_primary(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    namespaced: bool,
    key: &str,
    cred: &Credential,
) -> Result<StoredIn, AuthError> {
    let path = paths.primary_path(authfile)?;
    modify_json(&path, |doc| {
        if let Some(h) = doc.cred_helper(key) {
            if namespaced {
                return Err(AuthError::NamespacedHelperKey { helper: h });
            }
            helper::store(&h, key, cred, paths.search_path())?;
            return Ok((false, StoredIn::Helper(h)));
        }
        set_entry(doc.auths_mut(), key, cred);
        Ok((true, StoredIn::File(path.clone())))
    })
}

/// Removes the credentials for `key` from every configured source (`logout REGISTRY`).
/// Returns whether any existed (c/image's `ErrNotLoggedIn` is `Ok(false)`).
pub fn remove(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    compat_docker_format: bool,
    key: &str,
) -> Result<bool, AuthError> {
    let namespaced = validate_key(key)?;
    let search = paths.search_path();
    let mut existed = false;
    let mut errors = Vec::new();
    if compat_docker_format {
        let path = compat_path(paths, authfile)?;
        let key = compat_key(key);
        existed = modify_json(&path, |doc| {
            let mut existed = false;
            let holder = doc.cred_helper(key).or_else(|| doc.creds_store());
            if let Some(h) = holder.filter(|_| !namespaced) {
                existed |= helper::erase(&h, key, search)?;
            }
            let removed = doc.auths_mut().remove(key).is_some();
            Ok((removed, existed || removed))
        })?;
        return Ok(existed);
    }
    for name in paths.helpers() {
        let res = if name == AUTH_FILE_HELPER {
            paths.primary_path(authfile).and_then(|path| {
                modify_json(&path, |doc| {
                    let mut existed = false;
                    if let Some(h) = doc.cred_helper(key).filter(|_| !namespaced) {
                        existed |= helper::erase(&h, key, search)?;
                    }
                    let removed = doc.auths_mut().remove(key).is_some();
                    Ok((removed, existed || removed))
                })
            })
        } else if namespaced {
            // c/image skips helpers for namespaced keys.
            Ok(false)
        } else {
            helper::erase(name, key, search)
        };
        match res {
            Ok(found) => existed |= found,
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(existed)
    } else {
        Err(AuthError::from_list(errors))
    }
}

/// Removes every credential (`logout --all`). For containers auth files this also drops
/// `credHelpers` (after erasing what those helpers hold), as c/image does; a Docker
/// `config.json` (compat mode) keeps its helper configuration.
pub fn remove_all(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    compat_docker_format: bool,
) -> Result<(), AuthError> {
    let search = paths.search_path();
    if compat_docker_format {
        let path = compat_path(paths, authfile)?;
        return modify_json(&path, |doc| {
            for (registry, h) in doc.cred_helpers() {
                helper::erase(&h, &registry, search)?;
            }
            if let Some(store) = doc.creds_store() {
                let keys: Vec<String> = doc.auths_mut().keys().cloned().collect();
                for k in keys {
                    helper::erase(&store, &k, search)?;
                }
            }
            doc.auths_mut().clear();
            Ok((true, ()))
        });
    }
    let mut errors = Vec::new();
    for name in paths.helpers() {
        let res = if name == AUTH_FILE_HELPER {
            paths.primary_path(authfile).and_then(|path| {
                modify_json(&path, |doc| {
                    for (registry, h) in doc.cred_helpers() {
                        helper::erase(&h, &registry, search)?;
                    }
                    doc.top.remove("credHelpers");
                    doc.auths_mut().clear();
                    Ok((true, ()))
                })
            })
        } else {
            erase_everything(name, search)
        };
        if let Err(e) = res {
            errors.push(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AuthError::from_list(errors))
    }
}

fn erase_everything(name: &str, search: Option<&std::ffi::OsStr>) -> Result<(), AuthError> {
    // A helper that is not installed holds nothing.
    for server in helper::list(name, search)?.unwrap_or_default() {
        helper::erase(name, &server, search)?;
    }
    Ok(())
}

fn compat_path(paths: &AuthPaths, authfile: Option<&Path>) -> Result<PathBuf, AuthError> {
    match authfile.filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => Ok(p.to_path_buf()),
        None => paths.docker_config_path().ok_or(AuthError::NoHome {
            what: "Docker config.json path",
        }),
    }
}

fn compat_key(key: &str) -> &str {
    if key == "docker.io" {
        DOCKER_IO_LEGACY_KEY
    } else {
        key
    }
}

/// Writes `cred` into the `auths` entry for `key`, keeping the entry's other fields.
fn set_entry(auths: &mut Map<String, Value>, key: &str, cred: &Credential) {
    let (username, password, token) = match cred {
        Credential::Basic { username, password } => (username, password.as_str(), None),
        Credential::IdentityToken { username, token } => (username, "", Some(token)),
    };
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let entry = auths
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(obj) = entry {
        obj.insert("auth".to_string(), Value::String(auth));
        match token {
            Some(t) => obj.insert("identitytoken".to_string(), Value::String(t.clone())),
            None => obj.remove("identitytoken"),
        };
    }
}

/// A whole auth file: its `auths` object apart, every other key as read.
struct Doc {
    top: Map<String, Value>,
    auths: Map<String, Value>,
}

impl Doc {
    /// Splits `auths` out (its slot stays in `top`, so its position is kept on write).
    fn new(mut top: Map<String, Value>) -> Doc {
        let auths = match top.get_mut("auths").map(Value::take) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Doc { top, auths }
    }

    fn into_value(mut self) -> Value {
        self.top
            .insert("auths".to_string(), Value::Object(self.auths));
        Value::Object(self.top)
    }

    fn auths_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.auths
    }

    fn cred_helpers(&self) -> Vec<(String, String)> {
        self.top
            .get("credHelpers")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn cred_helper(&self, key: &str) -> Option<String> {
        self.cred_helpers()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, h)| h)
    }

    fn creds_store(&self) -> Option<String> {
        self.top
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
}

/// Reads `path` (missing = empty), lets `edit` change it, and writes it back when `edit`
/// reports a change. The directory is created with mode 0700.
fn modify_json<R>(
    path: &Path,
    edit: impl FnOnce(&mut Doc) -> Result<(bool, R), AuthError>,
) -> Result<R, AuthError> {
    let write_err = |error: std::io::Error| AuthError::Write {
        path: path.to_path_buf(),
        error,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(write_err)?;
    let mut top = Map::new();
    match std::fs::read(path) {
        Ok(bytes) => {
            // Validate the shape first, for the same errors as the read path.
            file::parse(path, &bytes, false)?;
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| AuthError::ReadJson {
                path: path.to_path_buf(),
                message: format!("unmarshaling JSON: {e}"),
            })?;
            if let Value::Object(m) = v {
                top = m;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(AuthError::ReadJson {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    }
    let mut doc = Doc::new(top);
    let (changed, result) = edit(&mut doc)?;
    if changed {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        doc.into_value()
            .serialize(&mut ser)
            .map_err(|e| write_err(std::io::Error::other(e)))?;
        atomic_write(&dir, path, &out).map_err(write_err)?;
    }
    Ok(result)
}

/// Writes `data` to a 0600 temp file in `dir`, syncs it and renames it over `path`.
fn atomic_write(dir: &Path, path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".ferry-auth")
        .tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
