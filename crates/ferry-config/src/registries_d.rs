//! `containers-registries.d(5)`: where simple-signing signatures live for docker
//! references (c/image `docker/registries_d.go`, skopeo 1.9.3).
//!
//! - Directory: `--registries.d`, else `$HOME/.config/containers/registries.d` if it
//!   exists, else `/etc/containers/registries.d`. Every `*.yaml` file is merged; a scope
//!   may be defined once across files and `default-docker` only once.
//! - Lookup for a reference: its identity (`name:tag` / `name@digest`), then the
//!   repository, its parent namespaces, the host, `*.domain` wildcards, then
//!   `default-docker`. The first scope that sets a URL wins; a scope without one falls
//!   through to the next. Writes prefer `lookaside-staging`. `sigstore` and
//!   `sigstore-staging` are the deprecated names of `lookaside` and `lookaside-staging`.
//! - Without any configured URL the default is `file:///var/lib/containers/sigstore` for
//!   root and `file://$HOME/.local/share/containers/sigstore` otherwise.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use ferry_reference::{Digest, Named};
use serde::Deserialize;

/// The system directory.
pub const SYSTEM_REGISTRIES_D: &str = "/etc/containers/registries.d";
/// The per-user directory, relative to `$HOME`.
pub const USER_REGISTRIES_D: &str = ".config/containers/registries.d";
/// The default lookaside for root.
pub const ROOT_LOOKASIDE: &str = "file:///var/lib/containers/sigstore";
/// The default lookaside for other users, relative to `$HOME`.
pub const USER_LOOKASIDE: &str = ".local/share/containers/sigstore";

/// One scope's settings (c/image `registryNamespace`). Empty strings count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LookasideConfig {
    #[serde(default)]
    pub lookaside: Option<String>,
    #[serde(rename = "lookaside-staging", default)]
    pub lookaside_staging: Option<String>,
    /// Deprecated name of `lookaside`.
    #[serde(default)]
    pub sigstore: Option<String>,
    /// Deprecated name of `lookaside-staging`.
    #[serde(rename = "sigstore-staging", default)]
    pub sigstore_staging: Option<String>,
    #[serde(rename = "use-sigstore-attachments", default)]
    pub use_sigstore_attachments: Option<bool>,
}

impl LookasideConfig {
    /// c/image `registryNamespace.signatureTopLevel`.
    fn top_level(&self, write: bool) -> Option<&str> {
        fn set(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.is_empty())
        }
        let staging = if write {
            set(&self.lookaside_staging).or(set(&self.sigstore_staging))
        } else {
            None
        };
        staging.or(set(&self.lookaside)).or(set(&self.sigstore))
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawFile {
    #[serde(rename = "default-docker", default)]
    default_docker: Option<LookasideConfig>,
    #[serde(default)]
    docker: Option<BTreeMap<String, Option<LookasideConfig>>>,
}

/// Errors loading registries.d.
#[derive(Debug, thiserror::Error)]
pub enum RegistriesDError {
    #[error("reading {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("parsing {}: {error}", path.display())]
    Parse { path: PathBuf, error: String },
    /// c/image's text.
    #[error("Error parsing signature storage configuration: \"default-docker\" defined both in {:?} and {:?}", first.display().to_string(), second.display().to_string())]
    DuplicateDefault { first: PathBuf, second: PathBuf },
    /// c/image's text.
    #[error("Error parsing signature storage configuration: \"docker\" namespace {scope:?} defined both in {:?} and {:?}", first.display().to_string(), second.display().to_string())]
    DuplicateScope {
        scope: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// c/image `registriesDirPath`: `flag`, else the per-user directory if it exists, else
/// `system_dir` (normally [`SYSTEM_REGISTRIES_D`]).
pub fn registries_d_dir(flag: Option<&Path>, home: Option<&Path>, system_dir: &Path) -> PathBuf {
    if let Some(f) = flag.filter(|f| !f.as_os_str().is_empty()) {
        return f.to_path_buf();
    }
    if let Some(user) = home
        .filter(|h| !h.as_os_str().is_empty())
        .map(|h| h.join(USER_REGISTRIES_D))
        && std::fs::metadata(&user).is_ok()
    {
        return user;
    }
    system_dir.to_path_buf()
}

/// The built-in lookaside used when nothing is configured.
pub fn default_lookaside(euid: u32, home: Option<&Path>) -> String {
    if euid == 0 {
        return ROOT_LOOKASIDE.to_string();
    }
    let home = home.map(|h| h.display().to_string()).unwrap_or_default();
    format!("file://{}", Path::new(&home).join(USER_LOOKASIDE).display())
}

/// The merged registries.d configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesD {
    pub default_docker: Option<LookasideConfig>,
    pub docker: BTreeMap<String, LookasideConfig>,
}

impl RegistriesD {
    /// Loads every `*.yaml` in `dir` (name order); a missing directory is empty.
    pub fn load(dir: &Path) -> Result<RegistriesD, RegistriesDError> {
        let io_err = |path: &Path, error| RegistriesDError::Io {
            path: path.to_path_buf(),
            error,
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(RegistriesD::default()),
            Err(e) => return Err(io_err(dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_err(dir, e))?;
            if entry.file_name().as_encoded_bytes().ends_with(b".yaml") {
                names.push(entry.path());
            }
        }
        names.sort();
        let mut merged = RegistriesD::default();
        let mut default_from: Option<PathBuf> = None;
        let mut scope_from: BTreeMap<String, PathBuf> = BTreeMap::new();
        for path in names {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&path, e)),
            };
            let raw = parse(&text).map_err(|error| RegistriesDError::Parse {
                path: path.clone(),
                error,
            })?;
            if let Some(d) = raw.default_docker {
                if let Some(first) = &default_from {
                    return Err(RegistriesDError::DuplicateDefault {
                        first: first.clone(),
                        second: path,
                    });
                }
                merged.default_docker = Some(d);
                default_from = Some(path.clone());
            }
            for (scope, cfg) in raw.docker.unwrap_or_default() {
                if let Some(first) = scope_from.get(&scope) {
                    return Err(RegistriesDError::DuplicateScope {
                        scope,
                        first: first.clone(),
                        second: path,
                    });
                }
                scope_from.insert(scope.clone(), path.clone());
                merged.docker.insert(scope, cfg.unwrap_or_default());
            }
        }
        Ok(merged)
    }

    /// Parses one file's text (for tests and callers with in-memory configuration).
    pub fn from_text(text: &str) -> Result<RegistriesD, String> {
        let raw = parse(text)?;
        Ok(RegistriesD {
            default_docker: raw.default_docker,
            docker: raw
                .docker
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.unwrap_or_default()))
                .collect(),
        })
    }

    /// The scopes that apply to `reference`, most specific first, then `default-docker`.
    fn scopes<'a>(&'a self, reference: &Named) -> impl Iterator<Item = &'a LookasideConfig> {
        let mut keys = vec![reference.policy_identity()];
        keys.extend(reference.policy_namespaces());
        let scoped: Vec<&LookasideConfig> =
            keys.iter().filter_map(|k| self.docker.get(k)).collect();
        scoped.into_iter().chain(self.default_docker.iter())
    }

    /// The configured top-level URL for `reference` (for writing if `write`), or `None`.
    pub fn configured_lookaside(&self, reference: &Named, write: bool) -> Option<&str> {
        self.scopes(reference).find_map(|c| c.top_level(write))
    }

    /// c/image `lookasideStorageBaseURL`: the configured URL (else `default`, see
    /// [`default_lookaside`]) with `/<repository path>` appended.
    pub fn lookaside_base_url(&self, reference: &Named, write: bool, default: &str) -> String {
        let top = self
            .configured_lookaside(reference, write)
            .unwrap_or(default);
        append_to_path(top, &format!("/{}", reference.path()))
    }

    /// Whether sigstore signatures are read and written as registry attachments.
    pub fn use_sigstore_attachments(&self, reference: &Named) -> bool {
        self.scopes(reference)
            .find_map(|c| c.use_sigstore_attachments)
            .unwrap_or(false)
    }
}

/// The URL of signature `index` (0-based) of a manifest under a lookaside base URL:
/// `BASE@sha256=HEX/signature-N` (c/image `lookasideStorageURL`).
pub fn signature_url(base: &str, manifest_digest: &Digest, index: usize) -> String {
    append_to_path(
        base,
        &format!(
            "@{}={}/signature-{}",
            manifest_digest.algorithm().name(),
            manifest_digest.hex(),
            index + 1
        ),
    )
}

/// Appends `suffix` to the path of `url`, before any `?query` or `#fragment`.
fn append_to_path(url: &str, suffix: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    format!("{}{suffix}{}", &url[..end], &url[end..])
}

fn parse(text: &str) -> Result<RawFile, String> {
    if text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---"
    }) {
        return Ok(RawFile::default());
    }
    let raw: Option<RawFile> = serde_saphyr::from_str(text).map_err(|e| {
        // The first line has the position and the reason; the rest is a source snippet.
        let msg = e.to_string();
        let first = msg.lines().map(str::trim).find(|l| !l.is_empty());
        let first = first.unwrap_or("invalid YAML");
        first.strip_prefix("error: ").unwrap_or(first).to_string()
    })?;
    Ok(raw.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(s: &str) -> Named {
        Named::parse_normalized(s).unwrap().tag_name_only()
    }

    #[test]
    fn directory_choice() {
        let t = tempfile::TempDir::new().unwrap();
        let sys = t.path().join("sys");
        let home = t.path().join("home");
        assert_eq!(registries_d_dir(None, Some(&home), &sys), sys);
        std::fs::create_dir_all(home.join(USER_REGISTRIES_D)).unwrap();
        assert_eq!(
            registries_d_dir(None, Some(&home), &sys),
            home.join(USER_REGISTRIES_D)
        );
        let flag = t.path().join("flag");
        assert_eq!(registries_d_dir(Some(&flag), Some(&home), &sys), flag);
    }

    #[test]
    fn defaults() {
        assert_eq!(
            default_lookaside(0, Some(Path::new("/root"))),
            ROOT_LOOKASIDE
        );
        assert_eq!(
            default_lookaside(1000, Some(Path::new("/home/u"))),
            "file:///home/u/.local/share/containers/sigstore"
        );
        let empty = RegistriesD::default();
        assert_eq!(
            empty.lookaside_base_url(&named("busybox"), false, ROOT_LOOKASIDE),
            "file:///var/lib/containers/sigstore/library/busybox"
        );
        assert!(!empty.use_sigstore_attachments(&named("busybox")));
    }

    #[test]
    fn most_specific_scope_wins_and_falls_through() {
        let c = RegistriesD::from_text(
            r#"
default-docker:
  lookaside: https://default.example/sigs
  use-sigstore-attachments: true
docker:
  example.com:
    lookaside: https://host.example/s
    lookaside-staging: file:///staging
  example.com/ns:
    use-sigstore-attachments: false
  example.com/ns/repo:latest:
    sigstore: https://tag.example/s?x=1
  "*.wild.io":
    lookaside: https://wild/s
"#,
        )
        .unwrap();
        let base = |r: &str, w: bool| c.lookaside_base_url(&named(r), w, ROOT_LOOKASIDE);
        assert_eq!(
            base("example.com/ns/repo", false),
            "https://tag.example/s/ns/repo?x=1"
        );
        assert_eq!(
            base("example.com/ns/repo:v1", false),
            "https://host.example/s/ns/repo"
        );
        assert_eq!(
            base("example.com/ns/repo:v1", true),
            "file:///staging/ns/repo"
        );
        assert_eq!(base("a.b.wild.io:5000/x", false), "https://wild/s/x");
        assert_eq!(
            base("quay.io/x/y", true),
            "https://default.example/sigs/x/y"
        );
        // example.com/ns sets no URL: falls through; it does set attachments.
        assert!(!c.use_sigstore_attachments(&named("example.com/ns/repo")));
        assert!(c.use_sigstore_attachments(&named("example.com/other")));
        let d = Digest::parse(
            "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        )
        .unwrap();
        assert_eq!(
            signature_url("https://h/s/ns/repo?x=1", &d, 0),
            "https://h/s/ns/repo@sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/signature-1?x=1"
        );
    }

    #[test]
    fn load_and_merge() {
        let t = tempfile::TempDir::new().unwrap();
        let d = t.path();
        std::fs::write(
            d.join("a.yaml"),
            "docker:\n  q.io:\n    lookaside: https://a\n",
        )
        .unwrap();
        std::fs::write(d.join("b.yaml"), "# only a comment\n").unwrap();
        std::fs::write(
            d.join("c.yaml"),
            "default-docker:\n  lookaside: https://c\n",
        )
        .unwrap();
        std::fs::write(d.join("d.yml"), "not: [read").unwrap();
        let c = RegistriesD::load(d).unwrap();
        assert_eq!(c.docker.len(), 1);
        assert_eq!(
            c.configured_lookaside(&named("q.io/x"), false),
            Some("https://a")
        );
        assert_eq!(
            c.configured_lookaside(&named("r.io/x"), false),
            Some("https://c")
        );
        std::fs::write(
            d.join("e.yaml"),
            "docker:\n  q.io:\n    lookaside: https://e\n",
        )
        .unwrap();
        assert_eq!(
            RegistriesD::load(d).unwrap_err().to_string(),
            format!(
                "Error parsing signature storage configuration: \"docker\" namespace \"q.io\" defined both in \"{}\" and \"{}\"",
                d.join("a.yaml").display(),
                d.join("e.yaml").display()
            )
        );
        std::fs::write(
            d.join("e.yaml"),
            "default-docker:\n  lookaside: https://e\n",
        )
        .unwrap();
        assert!(
            RegistriesD::load(d)
                .unwrap_err()
                .to_string()
                .contains("\"default-docker\" defined both in")
        );
        std::fs::write(d.join("e.yaml"), "docker: [unclosed").unwrap();
        let e = RegistriesD::load(d).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("parsing {}: ", d.join("e.yaml").display())),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
        assert_eq!(
            RegistriesD::load(&d.join("none")).unwrap(),
            RegistriesD::default()
        );
    }
}
