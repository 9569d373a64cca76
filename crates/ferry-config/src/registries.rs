//! `containers-registries.conf(5)` v2 (c/image `pkg/sysregistriesv2`, as in skopeo 1.9.3):
//! mirrors, remapping, insecure/blocked registries, credential helpers, short names.
//!
//! Files (see [`RegistriesConfPaths`]): the main file is `--registries-conf` (or, a
//! ferry extension that skopeo ignores, `$CONTAINERS_REGISTRIES_CONF`), else
//! `$HOME/.config/containers/registries.conf` if it exists, else
//! `/etc/containers/registries.conf`. Drop-ins (`*.conf`, v2 only, name order) come from
//! `/etc/containers/registries.conf.d` then `$HOME/.config/containers/registries.conf.d`;
//! with a per-user main file only the user directory is read. As in c/image, an explicit
//! main file does not disable the drop-in directories.
//!
//! Merging: later files override scalar settings and lists they set; `[[registry]]`
//! tables are replaced by prefix; aliases are merged by name (an empty value removes one).
//! The machine-written `short-name-aliases.conf` cache is not read.

mod parse;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use ferry_reference::{Named, ReferenceError};

/// The system-wide main file.
pub const SYSTEM_REGISTRIES_CONF: &str = "/etc/containers/registries.conf";
/// The system-wide drop-in directory.
pub const SYSTEM_REGISTRIES_CONF_DIR: &str = "/etc/containers/registries.conf.d";
/// The per-user main file, relative to `$HOME`.
pub const USER_REGISTRIES_CONF: &str = ".config/containers/registries.conf";
/// The per-user drop-in directory, relative to `$HOME`.
pub const USER_REGISTRIES_CONF_DIR: &str = ".config/containers/registries.conf.d";

/// A `[[registry]]` table (a namespace and where it really lives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `host[:port][/ns...]` or `*.domain`; matched against reference names.
    pub prefix: String,
    /// Where the prefix really lives (empty only for `*.domain` prefixes).
    pub location: String,
    /// Allow plain HTTP and unverified TLS.
    pub insecure: bool,
    /// Refuse pulls.
    pub blocked: bool,
    /// Use mirrors only for digest references.
    pub mirror_by_digest_only: bool,
    /// Tried in order before `location` when pulling.
    pub mirrors: Vec<Mirror>,
}

/// A `[[registry.mirror]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub location: String,
    pub insecure: bool,
    pub pull_from_mirror: PullFromMirror,
}

/// `pull-from-mirror`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullFromMirror {
    #[default]
    All,
    DigestOnly,
    TagOnly,
}

/// `short-name-mode` (default `permissive`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShortNameMode {
    Enforcing,
    #[default]
    Permissive,
    Disabled,
}

/// One place to try when pulling (c/image `PullSource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSource {
    /// The endpoint, `host[:port][/ns...]`.
    pub location: String,
    /// Allow plain HTTP and unverified TLS for this endpoint.
    pub insecure: bool,
    /// True for mirrors, false for the registry's own location.
    pub mirror: bool,
    /// The reference rewritten to this endpoint.
    pub reference: Named,
}

/// Where to look for registries.conf files. Absolute system paths are fields so that
/// tests can point them into temp directories.
#[derive(Debug, Clone)]
pub struct RegistriesConfPaths {
    /// `--registries-conf`, else `$CONTAINERS_REGISTRIES_CONF`. A missing override is an
    /// error; a missing default file is not.
    pub conf_override: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
    pub system_conf: PathBuf,
    pub system_conf_dir: PathBuf,
}

impl Default for RegistriesConfPaths {
    fn default() -> Self {
        RegistriesConfPaths {
            conf_override: None,
            home: None,
            system_conf: PathBuf::from(SYSTEM_REGISTRIES_CONF),
            system_conf_dir: PathBuf::from(SYSTEM_REGISTRIES_CONF_DIR),
        }
    }
}

impl RegistriesConfPaths {
    /// The real locations: `flag` (`--registries-conf`) wins over
    /// `$CONTAINERS_REGISTRIES_CONF`; `$HOME` from the environment.
    pub fn from_env(flag: Option<&Path>) -> RegistriesConfPaths {
        let env = |n: &str| {
            std::env::var_os(n)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        RegistriesConfPaths {
            conf_override: flag
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .or_else(|| env("CONTAINERS_REGISTRIES_CONF")),
            home: env("HOME"),
            ..RegistriesConfPaths::default()
        }
    }

    /// c/image `newConfigWrapper`: (main file, explicit?, system drop-in dir, user
    /// drop-in dir).
    fn resolve(&self) -> (PathBuf, bool, Option<PathBuf>, Option<PathBuf>) {
        let home = self.home.as_deref().filter(|h| !h.as_os_str().is_empty());
        let user_dir = home.map(|h| h.join(USER_REGISTRIES_CONF_DIR));
        if let Some(p) = &self.conf_override {
            return (
                p.clone(),
                true,
                Some(self.system_conf_dir.clone()),
                user_dir,
            );
        }
        if let Some(user_file) = home.map(|h| h.join(USER_REGISTRIES_CONF))
            && std::fs::metadata(&user_file).is_ok()
        {
            return (user_file, false, None, user_dir);
        }
        (
            self.system_conf.clone(),
            false,
            Some(self.system_conf_dir.clone()),
            user_dir,
        )
    }
}

/// Errors loading registries.conf or applying it to a reference.
#[derive(Debug, thiserror::Error)]
pub enum RegistriesConfError {
    #[error("loading registries configuration \"{}\": {error}", path.display())]
    Load { path: PathBuf, error: String },
    #[error("loading drop-in registries configuration \"{}\": {error}", path.display())]
    LoadDropIn { path: PathBuf, error: String },
    #[error("reading registries.conf.d: open {}: {}", dir.display(), io_text(error))]
    ReadDir { dir: PathBuf, error: io::Error },
    /// The reference matches a `blocked` registry (c/image's text).
    #[error("registry {prefix} is blocked in {sources}")]
    Blocked { prefix: String, sources: String },
    #[error("invalid prefix '{prefix}' for reference '{reference}'")]
    PrefixMismatch { prefix: String, reference: String },
    #[error("invalid prefix '{prefix}' for empty location, should be in the format: *.example.com")]
    EmptyLocation { prefix: String },
    #[error("rewriting reference: {error}")]
    Rewrite {
        reference: String,
        error: ReferenceError,
    },
}

/// An io error the way Go prints it (`no such file or directory`).
fn io_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => s,
    }
}

/// The merged configuration.
#[derive(Debug, Clone, Default)]
pub struct RegistriesConf {
    /// Sorted by prefix, one per prefix.
    registries: Vec<Registry>,
    unqualified_search_registries: Vec<String>,
    credential_helpers: Vec<String>,
    short_name_mode: ShortNameMode,
    aliases: BTreeMap<String, Option<String>>,
    /// Every file that was read, in order.
    files: Vec<PathBuf>,
    /// For messages: "MAIN or DIR" (c/image `ConfigPath` / `ConfigDirPath`).
    sources: String,
}

impl RegistriesConf {
    /// Loads and merges the main file and the drop-ins.
    pub fn load(paths: &RegistriesConfPaths) -> Result<RegistriesConf, RegistriesConfError> {
        let (main, explicit, system_dir, user_dir) = paths.resolve();
        let mut conf = RegistriesConf::default();
        match std::fs::read_to_string(&main) {
            Ok(text) => {
                let parsed =
                    parse::parse_file(&text, false).map_err(|error| RegistriesConfError::Load {
                        path: main.clone(),
                        error,
                    })?;
                conf.merge(parsed);
                conf.files.push(main.clone());
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !explicit => {}
            Err(e) => {
                return Err(RegistriesConfError::Load {
                    error: format!("open {}: {}", main.display(), io_text(&e)),
                    path: main,
                });
            }
        }
        let dirs: Vec<&PathBuf> = system_dir.iter().chain(user_dir.iter()).collect();
        for dir in dirs {
            for path in drop_ins(dir)? {
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    // Removed since the listing: ignore, as c/image does.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(RegistriesConfError::LoadDropIn {
                            error: format!("open {}: {}", path.display(), io_text(&e)),
                            path,
                        });
                    }
                };
                let parsed = parse::parse_file(&text, true).map_err(|error| {
                    RegistriesConfError::LoadDropIn {
                        path: path.clone(),
                        error,
                    }
                })?;
                conf.merge(parsed);
                conf.files.push(path);
            }
        }
        let dir_desc = user_dir.or(system_dir).unwrap_or_default();
        conf.sources = format!("{} or {}", main.display(), dir_desc.display());
        Ok(conf)
    }

    /// Parses one file's text as the whole configuration (no drop-ins); `origin` is used
    /// in messages.
    pub fn from_text(text: &str, origin: &Path) -> Result<RegistriesConf, RegistriesConfError> {
        let parsed = parse::parse_file(text, false).map_err(|error| RegistriesConfError::Load {
            path: origin.to_path_buf(),
            error,
        })?;
        let mut conf = RegistriesConf::default();
        conf.merge(parsed);
        conf.files.push(origin.to_path_buf());
        conf.sources = origin.display().to_string();
        Ok(conf)
    }

    /// c/image `updateWithConfigurationFrom`.
    fn merge(&mut self, upd: parse::ParsedFile) {
        let mut by_prefix: BTreeMap<String, Registry> = self
            .registries
            .drain(..)
            .map(|r| (r.prefix.clone(), r))
            .collect();
        for r in upd.registries {
            by_prefix.insert(r.prefix.clone(), r);
        }
        self.registries = by_prefix.into_values().collect();
        if let Some(u) = upd.unqualified_search_registries {
            self.unqualified_search_registries = u;
        }
        if let Some(h) = upd.credential_helpers {
            self.credential_helpers = h;
        }
        if let Some(m) = upd.short_name_mode {
            self.short_name_mode = m;
        }
        self.aliases.extend(upd.aliases);
    }

    /// All `[[registry]]` entries, sorted by prefix.
    pub fn registries(&self) -> &[Registry] {
        &self.registries
    }

    /// The files that were read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    pub fn unqualified_search_registries(&self) -> &[String] {
        &self.unqualified_search_registries
    }

    pub fn short_name_mode(&self) -> ShortNameMode {
        self.short_name_mode
    }

    /// The alias for a short name (`[aliases]`), if any.
    pub fn alias(&self, short_name: &str) -> Option<&str> {
        self.aliases.get(short_name)?.as_deref()
    }

    /// `credential-helpers`; `["containers-auth.json"]` when unset or empty.
    pub fn credential_helpers(&self) -> &[String] {
        static DEFAULT: LazyLock<Vec<String>> =
            LazyLock::new(|| vec![crate::auth::AUTH_FILE_HELPER.to_string()]);
        if self.credential_helpers.is_empty() {
            &DEFAULT
        } else {
            &self.credential_helpers
        }
    }

    /// c/image `FindRegistry`: the registry whose prefix is the longest match for `name`
    /// (a host, a repository name, or a full reference string).
    pub fn find_registry(&self, name: &str) -> Option<&Registry> {
        let mut best: Option<&Registry> = None;
        for r in &self.registries {
            if ref_matching_prefix(name, &r.prefix).is_some()
                && best.is_none_or(|b| r.prefix.len() > b.prefix.len())
            {
                best = Some(r);
            }
        }
        best
    }

    /// Whether TLS verification is off for `host` (a host or name; used for pushes,
    /// tag listing and other non-pull access).
    pub fn is_insecure(&self, host: &str) -> bool {
        self.find_registry(host).is_some_and(|r| r.insecure)
    }

    /// Whether `name` (host, repository or reference) matches a blocked registry.
    pub fn is_blocked(&self, name: &str) -> bool {
        self.find_registry(name).is_some_and(|r| r.blocked)
    }

    /// An error naming the configuration if `name` is blocked.
    pub fn check_not_blocked(&self, name: &str) -> Result<(), RegistriesConfError> {
        match self.find_registry(name) {
            Some(r) if r.blocked => Err(RegistriesConfError::Blocked {
                prefix: r.prefix.clone(),
                sources: self.sources.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// c/image `PullSourcesFromReference` for a fully qualified reference: the mirrors
    /// allowed for this kind of reference (tag or digest), in order, then the registry's
    /// own location, each with the reference rewritten to that endpoint. Without a
    /// matching `[[registry]]` the reference itself is the only source. Blocked
    /// registries are an error.
    pub fn pull_sources(&self, reference: &Named) -> Result<Vec<PullSource>, RegistriesConfError> {
        let Some(reg) = self.find_registry(&reference.name()) else {
            return Ok(vec![PullSource {
                location: reference.domain().to_string(),
                insecure: false,
                mirror: false,
                reference: reference.clone(),
            }]);
        };
        self.check_not_blocked(&reference.name())?;
        let is_digest = reference.digest().is_some();
        let mirrors = reg.mirrors.iter().filter(|m| {
            if reg.mirror_by_digest_only {
                return is_digest;
            }
            match m.pull_from_mirror {
                PullFromMirror::All => true,
                PullFromMirror::DigestOnly => is_digest,
                PullFromMirror::TagOnly => !is_digest,
            }
        });
        let mut res = Vec::new();
        for m in mirrors {
            res.push(PullSource {
                location: m.location.clone(),
                insecure: m.insecure,
                mirror: true,
                reference: rewrite(reference, &reg.prefix, &m.location)?,
            });
        }
        res.push(PullSource {
            location: if reg.location.is_empty() {
                reference.domain().to_string()
            } else {
                reg.location.clone()
            },
            insecure: reg.insecure,
            mirror: false,
            reference: rewrite(reference, &reg.prefix, &reg.location)?,
        });
        Ok(res)
    }
}

/// c/image `Endpoint.rewriteReference`: `location` + what follows the matched prefix.
fn rewrite(reference: &Named, prefix: &str, location: &str) -> Result<Named, RegistriesConfError> {
    let s = reference.to_string();
    let Some(len) = ref_matching_prefix(&s, prefix) else {
        return Err(RegistriesConfError::PrefixMismatch {
            prefix: prefix.to_string(),
            reference: s,
        });
    };
    if location.is_empty() {
        if !prefix.starts_with("*.") {
            return Err(RegistriesConfError::EmptyLocation {
                prefix: prefix.to_string(),
            });
        }
        return Ok(reference.clone());
    }
    let new = format!("{location}{}", &s[len..]);
    Named::parse(&new).map_err(|error| RegistriesConfError::Rewrite {
        reference: new,
        error,
    })
}

/// c/image `refMatchingPrefix`: the length of the matched part of `name` (a host,
/// repository or reference string) for `prefix`, or `None`. A prefix matches when
/// followed by the end, `:`, `/` or `@` (so `example.com` also matches
/// `example.com:5000`, a c/image quirk kept for compatibility).
pub fn ref_matching_prefix(name: &str, prefix: &str) -> Option<usize> {
    if prefix.starts_with("*.") {
        let domain = &prefix[1..];
        // `*.example.com`: any subdomain, within the host part.
        let index = name.find(domain)?;
        if name[..index].contains('/') {
            return None;
        }
        let end = index + domain.len();
        return match name.as_bytes().get(end) {
            None | Some(b':' | b'/' | b'@') => Some(end),
            _ => None,
        };
    }
    if !name.starts_with(prefix) {
        return None;
    }
    match name.as_bytes().get(prefix.len()) {
        None | Some(b':' | b'/' | b'@') => Some(prefix.len()),
        _ => None,
    }
}

/// Lists `*.conf` files (not directories) in `dir`, in name order; a missing directory
/// is empty.
fn drop_ins(dir: &Path) -> Result<Vec<PathBuf>, RegistriesConfError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => {
            return Err(RegistriesConfError::ReadDir {
                dir: dir.to_path_buf(),
                error,
            });
        }
    };
    let mut res = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| RegistriesConfError::ReadDir {
            dir: dir.to_path_buf(),
            error,
        })?;
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir && entry.file_name().as_encoded_bytes().ends_with(b".conf") {
            res.push(entry.path());
        }
    }
    res.sort();
    Ok(res)
}
