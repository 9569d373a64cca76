//! Where auth files live: an explicit snapshot of the environment (so tests need no
//! global state) and the read/write path rules of c/image `getPathToAuth` /
//! `getAuthFilePaths`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use super::{AUTH_FILE_HELPER, AuthError};

/// The environment the credential lookup depends on. Empty values count as unset, as
/// in Go (`os.Getenv(...) != ""`).
#[derive(Debug, Clone, Default)]
pub struct AuthPaths {
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME`.
    pub xdg_config_home: Option<PathBuf>,
    /// `$DOCKER_CONFIG` (a directory holding `config.json`).
    pub docker_config: Option<PathBuf>,
    /// `$REGISTRY_AUTH_FILE` (the default of `--authfile`).
    pub registry_auth_file: Option<PathBuf>,
    /// The user id, for `/run/containers/$UID/auth.json`.
    pub uid: u32,
    /// The `PATH` searched for `docker-credential-*` programs (`None`: the process's
    /// `PATH`).
    pub helper_search_path: Option<OsString>,
    /// registries.conf `credential-helpers`; empty means `["containers-auth.json"]`.
    pub credential_helpers: Vec<String>,
}

/// One file to read, and whether it is in the legacy `~/.dockercfg` format (a bare map
/// of keys to entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFilePath {
    pub path: PathBuf,
    pub legacy: bool,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn non_empty(p: &Option<PathBuf>) -> Option<&Path> {
    p.as_deref().filter(|p| !p.as_os_str().is_empty())
}

impl AuthPaths {
    /// Reads `HOME`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`, `DOCKER_CONFIG`,
    /// `REGISTRY_AUTH_FILE` and the effective uid from the process.
    pub fn from_env() -> AuthPaths {
        AuthPaths {
            home: env_path("HOME"),
            xdg_runtime_dir: env_path("XDG_RUNTIME_DIR"),
            xdg_config_home: env_path("XDG_CONFIG_HOME"),
            docker_config: env_path("DOCKER_CONFIG"),
            registry_auth_file: env_path("REGISTRY_AUTH_FILE"),
            uid: effective_uid(),
            helper_search_path: None,
            credential_helpers: Vec::new(),
        }
    }

    /// Sets registries.conf `credential-helpers`.
    pub fn with_credential_helpers(mut self, helpers: &[String]) -> AuthPaths {
        self.credential_helpers = helpers.to_vec();
        self
    }

    /// The credential sources to consult, in order.
    pub(crate) fn helpers(&self) -> Vec<&str> {
        if self.credential_helpers.is_empty() {
            vec![AUTH_FILE_HELPER]
        } else {
            self.credential_helpers.iter().map(String::as_str).collect()
        }
    }

    pub(crate) fn search_path(&self) -> Option<&OsStr> {
        self.helper_search_path.as_deref()
    }

    /// The primary (read-write) file: `authfile`, else `$REGISTRY_AUTH_FILE`, else
    /// `${XDG_RUNTIME_DIR}/containers/auth.json` (an error if that directory does not
    /// exist), else `/run/containers/$UID/auth.json`.
    pub fn primary_path(&self, authfile: Option<&Path>) -> Result<PathBuf, AuthError> {
        if let Some(p) = authfile
            .filter(|p| !p.as_os_str().is_empty())
            .or(non_empty(&self.registry_auth_file))
        {
            return Ok(p.to_path_buf());
        }
        if let Some(dir) = non_empty(&self.xdg_runtime_dir) {
            if matches!(std::fs::metadata(dir), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
            {
                return Err(AuthError::RuntimeDirMissing {
                    path: dir.to_path_buf(),
                });
            }
            return Ok(dir.join("containers/auth.json"));
        }
        Ok(PathBuf::from(format!(
            "/run/containers/{}/auth.json",
            self.uid
        )))
    }

    /// Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn docker_config_path(&self) -> Option<PathBuf> {
        if let Some(d) = non_empty(&self.docker_config) {
            return Some(d.join("config.json"));
        }
        non_empty(&self.home).map(|h| h.join(".docker/config.json"))
    }

    /// Files to read, in order. The primary file is skipped when `$XDG_RUNTIME_DIR`
    /// names a missing directory (c/image only warns then); files under `$HOME` are
    /// skipped when `$HOME` is unknown.
    pub fn read_paths(&self, authfile: Option<&Path>) -> Vec<AuthFilePath> {
        let mut res = Vec::new();
        let mut push = |path: PathBuf, legacy: bool| res.push(AuthFilePath { path, legacy });
        if let Ok(p) = self.primary_path(authfile) {
            push(p, false);
        }
        let home = non_empty(&self.home);
        if let Some(x) = non_empty(&self.xdg_config_home) {
            push(x.join("containers/auth.json"), false);
        } else if let Some(h) = home {
            push(h.join(".config/containers/auth.json"), false);
        }
        if let Some(p) = self.docker_config_path() {
            push(p, false);
        }
        if let Some(h) = home {
            push(h.join(".dockercfg"), true);
        }
        res
    }
}

/// The effective uid, from the owner of `/proc/self` (no `unsafe` libc call needed).
fn effective_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
}
