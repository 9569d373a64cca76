//! Registry credentials: `containers-auth.json(5)`, Docker's `config.json` and
//! `docker-credential-*` helpers (containers/image `pkg/docker/config`, as in skopeo 1.9.3).
//!
//! - Read order (see [`AuthPaths::read_paths`]): the primary file (`--authfile`, else
//!   `$REGISTRY_AUTH_FILE`, else `${XDG_RUNTIME_DIR}/containers/auth.json`, else
//!   `/run/containers/$UID/auth.json`), `${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`,
//!   `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), then the legacy
//!   `~/.dockercfg`. As in skopeo 1.9.3, an explicit auth file replaces only the primary
//!   file; the others are still read.
//! - In each file: a `credHelpers` entry for the registry wins; then `auths` keys from the
//!   most specific (`host/ns/repo`) to the registry (`host`); then keys written as URLs
//!   (`https://host/v1/`) or with docker.io aliases (`index.docker.io`,
//!   `registry-1.docker.io`). ferry extension: when nothing usable is found and the file
//!   names a `credsStore` (Docker Desktop), that helper is asked (skopeo ignores it).
//! - registries.conf `credential-helpers` decides which sources are consulted, in order;
//!   `containers-auth.json` stands for the files above.
//! - Writes ([`store`], [`remove`], [`remove_all`]) go to the primary file (or to a Docker
//!   `config.json` in compat mode), atomically, mode 0600, keeping every other key.
//!
//! No secret ever appears in an error or in `Debug` output.

mod file;
mod helper;
mod paths;
#[cfg(test)]
mod tests;
mod write;

use std::fmt;
use std::path::{Path, PathBuf};

pub use paths::{AuthFilePath, AuthPaths};
pub use write::{remove, remove_all, store};

/// The reserved `credential-helpers` name that stands for the auth files.
pub const AUTH_FILE_HELPER: &str = "containers-auth.json";

/// The key Docker uses for docker.io in `config.json` and credential stores.
pub const DOCKER_IO_LEGACY_KEY: &str = "https://index.docker.io/v1/";

/// Credentials for one registry (or repository).
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (HTTP basic, or the password grant of a token server).
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (`identitytoken`); `username` may be empty.
    IdentityToken { username: String, token: String },
}

impl Credential {
    /// The user name (empty for identity tokens from a helper's `<token>` user).
    pub fn username(&self) -> &str {
        match self {
            Credential::Basic { username, .. } | Credential::IdentityToken { username, .. } => {
                username
            }
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken { username, .. } => f
                .debug_struct("IdentityToken")
                .field("username", username)
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

/// Where [`store`] put the credentials (c/image's "description of the location").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredIn {
    File(PathBuf),
    /// A credential helper, by its suffix (`docker-credential-<name>`).
    Helper(String),
}

impl fmt::Display for StoredIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredIn::File(p) => write!(f, "{}", p.display()),
            StoredIn::Helper(h) => write!(f, "credential helper: {h}"),
        }
    }
}

/// Errors reading or writing credentials. Files are named; secrets never appear.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The key is not `host[:port][/ns.../repo]`.
    #[error("{0}")]
    InvalidKey(String),
    /// An auth file exists but cannot be read or parsed.
    #[error("reading JSON file \"{}\": {message}", path.display())]
    ReadJson { path: PathBuf, message: String },
    /// An `auth` field is not valid base64.
    #[error("decoding the \"auth\" field of entry {key:?} in \"{}\": invalid base64", path.display())]
    BadAuthField { path: PathBuf, key: String },
    /// `$XDG_RUNTIME_DIR` names a directory that does not exist (c/image's text).
    #[error("{:?} directory set by $XDG_RUNTIME_DIR does not exist. Either create the directory or unset $XDG_RUNTIME_DIR.", path.display().to_string())]
    RuntimeDirMissing { path: PathBuf },
    /// No file can be chosen (e.g. `$HOME` unknown for a Docker `config.json`).
    #[error("cannot determine the {what}: $HOME is not set")]
    NoHome { what: &'static str },
    /// Creating the directory or writing the file failed.
    #[error("writing to file \"{}\": {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Namespaced keys cannot go to a credential helper.
    #[error("namespaced key is not supported for credential helper {helper}")]
    NamespacedHelperKey { helper: String },
    /// Namespaced keys cannot go to a Docker `config.json`.
    #[error(
        "credentials cannot be recorded in Docker-compatible format with namespaced key {key:?}"
    )]
    NamespacedCompatKey { key: String },
    /// A `docker-credential-*` helper failed.
    #[error("{action} credentials for {server} with {program}: {message}")]
    Helper {
        program: String,
        action: &'static str,
        server: String,
        message: String,
    },
    /// Several sources failed (each is listed).
    #[error("{}", join_errors(.0))]
    Multiple(Vec<AuthError>),
}

impl AuthError {
    /// One error as itself, several as [`AuthError::Multiple`].
    fn from_list(mut errors: Vec<AuthError>) -> AuthError {
        if errors.len() == 1
            && let Some(e) = errors.pop()
        {
            return e;
        }
        AuthError::Multiple(errors)
    }
}

fn join_errors(errors: &[AuthError]) -> String {
    let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
    format!("{} errors occurred: {}", parts.len(), parts.join("; "))
}

/// c/image `validateKey`: returns whether the key is namespaced (has a `/`).
pub fn validate_key(key: &str) -> Result<bool, AuthError> {
    if key.starts_with("http://") || key.starts_with("https://") {
        return Err(AuthError::InvalidKey(format!(
            "key {key} contains http[s]:// prefix"
        )));
    }
    if key.contains('@') {
        return Err(AuthError::InvalidKey(format!(
            "key {key} contains a '@' character"
        )));
    }
    match key.split_once('/') {
        Some((_, rest)) if rest.contains(':') => Err(AuthError::InvalidKey(format!(
            "key {key} contains a ':' character after host[:port]"
        ))),
        Some(_) => Ok(true),
        None => Ok(false),
    }
}

/// The registry part (`host[:port]`) of a key.
fn registry_of(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// c/common `parseCredentialsKey` for `login`/`logout` arguments: a URL becomes its
/// `host[:port]`; with `accept_repositories` a `host/ns/repo` key is kept (it must be a
/// valid name without tag or digest), otherwise only the registry is kept.
/// Returns `(key, registry)`.
pub fn parse_credentials_key(
    arg: &str,
    accept_repositories: bool,
) -> Result<(String, String), AuthError> {
    let key = match arg
        .strip_prefix("https://")
        .or_else(|| arg.strip_prefix("http://"))
    {
        Some(rest) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host)
                .to_string()
        }
        None => arg.to_string(),
    };
    let registry = registry_of(&key).to_string();
    if !accept_repositories {
        return Ok((registry.clone(), registry));
    }
    if registry == key {
        return Ok((key, registry));
    }
    let named = ferry_reference::Named::parse_normalized(&key)
        .map_err(|e| AuthError::InvalidKey(format!("parse reference from {key:?}: {e}")))?;
    if !named.is_name_only() {
        return Err(AuthError::InvalidKey(format!(
            "reference {:?} contains tag or digest",
            named.to_string()
        )));
    }
    if named.domain() != registry {
        return Err(AuthError::InvalidKey(format!(
            "internal error: key {key:?} registry mismatch, {:?} vs. {:?}",
            named.to_string(),
            named.domain()
        )));
    }
    Ok((key, registry))
}

/// Finds credentials for `key` (`host[:port]` or `host[:port]/ns/repo`, e.g. a
/// reference's name without tag or digest). `authfile` (`--authfile`) replaces the primary
/// file. `Ok(None)` means anonymous access.
pub fn lookup(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    key: &str,
) -> Result<Option<Credential>, AuthError> {
    validate_key(key)?;
    let registry = registry_of(key);
    let mut errors = Vec::new();
    for helper_name in paths.helpers() {
        let found = if helper_name == AUTH_FILE_HELPER {
            lookup_in_files(paths, authfile, key, registry)
        } else {
            // Helpers only know registries, never namespaces (as in c/image).
            helper::get(helper_name, registry, paths.helper_search_path.as_deref())
        };
        match found {
            Ok(Some(cred)) => return Ok(Some(cred)),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(None)
    } else {
        Err(AuthError::from_list(errors))
    }
}

/// The logged-in user for `key` (`skopeo login --get-login`); `None` when there are no
/// credentials or they carry no user name.
pub fn get_login(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    key: &str,
) -> Result<Option<String>, AuthError> {
    Ok(lookup(paths, authfile, key)?
        .map(|c| c.username().to_string())
        .filter(|u| !u.is_empty()))
}

fn lookup_in_files(
    paths: &AuthPaths,
    authfile: Option<&Path>,
    key: &str,
    registry: &str,
) -> Result<Option<Credential>, AuthError> {
    for p in paths.read_paths(authfile) {
        let Some(data) = file::read(&p.path, p.legacy)? else {
            continue;
        };
        if let Some(cred) =
            data.find(&p.path, key, registry, paths.helper_search_path.as_deref())?
        {
            return Ok(Some(cred));
        }
    }
    Ok(None)
}
