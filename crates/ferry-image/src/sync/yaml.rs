//! The `--src yaml` file: skopeo's format, read in file order, validated up front, plus
//! ferry's extensions.
//!
//! skopeo's keys, per registry (`registry.example.com:`):
//!
//! ```yaml
//! registry.example.com:
//!   images:                     # repository -> [] / null (every tag) or tags and digests
//!     busybox: []
//!     redis: ["1.0", "sha256:0123…"]
//!   images-by-tag-regex:        # repository -> regular expression over its tags
//!     nginx: ^1\.13\.[12]-alpine-perl$
//!   images-by-semver:           # repository -> Masterminds semver constraint over its tags
//!     alpine: ">= 3.12.0"
//!   credentials: {username: john, password: secret}
//!   tls-verify: true
//!   cert-dir: /home/john/certs
//! ```
//!
//! ferry's extensions (skopeo ignores unknown keys, so a file using them fails loudly
//! there instead of syncing something else):
//!
//! ```yaml
//! quay.io:
//!   include: '^v?[0-9]'         # regex or list: with any, a listed tag must match one
//!   exclude: ['-rc', '-beta']   # regex or list: a listed tag matching any is skipped
//!   images: …                   # as above; include/exclude apply to every repository here
//!   repositories:               # per-repository entries, every key optional:
//!     coreos/etcd:
//!       tags: [v3.5.9]          #   like `images` (omitted or [] = every tag)
//!       tag-regex: '^v3\.'      #   like `images-by-tag-regex`
//!       semver: '>= 3.5'        #   like `images-by-semver` (with tag-regex: both must match)
//!       include: …              #   on top of the registry's include/exclude
//!       exclude: …
//!       destination: mirror/etcd  # the image goes to DEST/mirror/etcd:TAG, whatever --scoped says
//! ```
//!
//! Differences from skopeo 1.9.3, all on the strict side: unknown keys, invalid repository
//! names, tags, digests, regular expressions and semver constraints are errors naming the
//! file, line and column (skopeo ignores unknown keys and logs-and-skips bad entries);
//! `tls-verify` and `cert-dir` override the `--src-*` flags only when present (skopeo
//! resets them to their defaults when absent). Include/exclude filters apply to tags
//! listed from the registry, never to tags named explicitly.

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use ferry_reference::{Digest, Named, validate_go_digest};
use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use super::filter::{TagFilter, regex_error};
use super::semver::Constraints;
use crate::error::{Error, Result};

/// A parsed and validated sync file.
#[derive(Debug, Clone)]
pub struct SyncFile {
    pub path: PathBuf,
    /// Registries in file order.
    pub registries: Vec<RegistryEntry>,
}

/// One registry of the file.
#[derive(Debug, Clone)]
pub struct RegistryEntry {
    /// The key as written (`registry.example.com`, `localhost:5000`).
    pub name: String,
    /// Line of the key in the file.
    pub line: u32,
    /// Repositories in file order: `images`, then `images-by-tag-regex`, then
    /// `images-by-semver`, then `repositories`.
    pub repos: Vec<RepoEntry>,
    pub credentials: Option<(String, String)>,
    pub tls_verify: Option<bool>,
    pub cert_dir: Option<PathBuf>,
}

/// What to sync from one repository.
#[derive(Debug, Clone)]
pub struct RepoEntry {
    /// `registry/repo`, normalised, without tag or digest.
    pub repo: Named,
    /// The repository key as written.
    pub key: String,
    pub line: u32,
    pub selection: Selection,
    /// Include/exclude filters (registry's and repository's) for listed tags.
    pub filter: TagFilter,
    /// Explicit destination path (relative to DEST), ferry's extension.
    pub destination: Option<String>,
}

/// Which images of a repository.
#[derive(Debug, Clone)]
pub enum Selection {
    /// These tags and digests (never empty).
    Refs(Vec<Named>),
    /// Every tag the registry lists that passes the regex and/or semver constraint.
    Listed {
        regex: Option<Regex>,
        semver: Option<Constraints>,
    },
}

impl Selection {
    /// Whether a listed tag is selected (the include/exclude filter aside).
    pub fn selects(&self, tag: &str) -> bool {
        match self {
            Selection::Refs(refs) => refs.iter().any(|r| r.tag() == Some(tag)),
            Selection::Listed { regex, semver } => {
                regex.as_ref().is_none_or(|r| r.is_match(tag))
                    && semver.as_ref().is_none_or(|c| {
                        super::semver::Version::parse(tag).is_ok_and(|v| c.check(&v))
                    })
            }
        }
    }
}

// ---- raw serde model ------------------------------------------------------------------

/// A mapping kept in file order (skopeo iterates Go maps: random order).
#[derive(Debug)]
struct Ordered<K, V>(Vec<(K, V)>);

impl<K, V> Default for Ordered<K, V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Ordered<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V2<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for V2<K, V> {
            type Value = Ordered<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(Ordered(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry()? {
                    v.push((k, val));
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_any(V2(PhantomData))
    }
}

/// A regex or a list of them; positions are known for list items only (a single
/// pattern takes the position of its key's value).
#[derive(Debug, Default)]
struct Patterns(Vec<(String, Option<(u32, u32)>)>);

impl<'de> Deserialize<'de> for Patterns {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct PV;
        impl<'de> Visitor<'de> for PV {
            type Value = Patterns;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regular expression or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Patterns, E> {
                Ok(Patterns(vec![(v.to_string(), None)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> std::result::Result<Patterns, A::Error> {
                let mut v = Vec::new();
                while let Some(p) = s.next_element::<Spanned<String>>()? {
                    let at = (p.referenced.line() as u32, p.referenced.column() as u32);
                    v.push((p.value, Some(at)));
                }
                Ok(Patterns(v))
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<Patterns, E> {
                Ok(Patterns(Vec::new()))
            }
        }
        d.deserialize_any(PV)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepo {
    #[serde(default)]
    tags: Option<Vec<Spanned<String>>>,
    #[serde(default, rename = "tag-regex")]
    tag_regex: Option<Spanned<String>>,
    #[serde(default)]
    semver: Option<Spanned<String>>,
    #[serde(default)]
    include: Option<Spanned<Patterns>>,
    #[serde(default)]
    exclude: Option<Spanned<Patterns>>,
    #[serde(default)]
    destination: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    #[serde(default)]
    images: Ordered<Spanned<String>, Option<Vec<Spanned<String>>>>,
    #[serde(default, rename = "images-by-tag-regex")]
    images_by_tag_regex: Ordered<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "images-by-semver")]
    images_by_semver: Ordered<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    credentials: Option<RawCredentials>,
    #[serde(default, rename = "tls-verify")]
    tls_verify: Option<bool>,
    #[serde(default, rename = "cert-dir")]
    cert_dir: Option<String>,
    #[serde(default)]
    include: Option<Spanned<Patterns>>,
    #[serde(default)]
    exclude: Option<Spanned<Patterns>>,
    #[serde(default)]
    repositories: Ordered<Spanned<String>, Option<RawRepo>>,
}

type RawFile = Ordered<Spanned<String>, Option<RawRegistry>>;

// ---- loading --------------------------------------------------------------------------

/// A position in the file, for messages.
#[derive(Clone, Copy)]
struct Pos<'a> {
    path: &'a Path,
    line: u32,
    column: u32,
}

impl Pos<'_> {
    fn error(self, msg: impl fmt::Display) -> Error {
        Error::Config(format!(
            "{}:{}:{}: {msg}",
            self.path.display(),
            self.line,
            self.column
        ))
    }
}

fn pos<'a, T>(path: &'a Path, s: &Spanned<T>) -> Pos<'a> {
    Pos {
        path,
        line: s.referenced.line() as u32,
        column: s.referenced.column() as u32,
    }
}

impl SyncFile {
    /// Reads and validates a sync file.
    pub fn load(path: &Path) -> Result<SyncFile> {
        let text = fs_err::read_to_string(path)?;
        SyncFile::parse(path, &text)
    }

    /// Parses and validates `text` (read from `path`, used in messages).
    pub fn parse(path: &Path, text: &str) -> Result<SyncFile> {
        let blank = text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---"
        });
        let raw: RawFile = if blank {
            Ordered::default()
        } else {
            serde_saphyr::from_str::<Option<RawFile>>(text)
                .map_err(|e| saphyr_error(path, &e))?
                .unwrap_or_default()
        };
        let mut registries = Vec::new();
        for (key, reg) in raw.0 {
            let reg = reg.unwrap_or_else(empty_registry);
            registries.push(registry(path, &key, reg)?);
        }
        Ok(SyncFile {
            path: path.to_path_buf(),
            registries,
        })
    }
}

fn empty_registry() -> RawRegistry {
    RawRegistry {
        images: Ordered::default(),
        images_by_tag_regex: Ordered::default(),
        images_by_semver: Ordered::default(),
        credentials: None,
        tls_verify: None,
        cert_dir: None,
        include: None,
        exclude: None,
        repositories: Ordered::default(),
    }
}

/// `path:line:column: reason` from a serde-saphyr error (its first line, without the
/// source snippet it appends).
fn saphyr_error(path: &Path, e: &serde_saphyr::Error) -> Error {
    let msg = e.to_string();
    let first = msg
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("invalid YAML");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    match e.location() {
        Some(l) => Error::Config(format!(
            "{}:{}:{}: {}",
            path.display(),
            l.line(),
            l.column(),
            strip_location(first)
        )),
        None => Error::Config(format!("{}: {first}", path.display())),
    }
}

/// Drops a trailing " at line L, column C" that would repeat the position.
fn strip_location(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].trim_end_matches(','),
        None => msg,
    }
}

fn compile(path: &Path, what: &str, p: &Spanned<String>) -> Result<Regex> {
    Regex::new(&p.value).map_err(|e| {
        pos(path, p).error(format!("invalid {what} {:?}: {}", p.value, regex_error(&e)))
    })
}

fn patterns(path: &Path, what: &str, p: &Option<Spanned<Patterns>>) -> Result<Vec<Regex>> {
    let Some(p) = p else { return Ok(Vec::new()) };
    let outer = pos(path, p);
    p.value
        .0
        .iter()
        .map(|(s, at)| {
            let at = match at {
                Some((line, column)) => Pos {
                    path,
                    line: *line,
                    column: *column,
                },
                None => outer,
            };
            Regex::new(s)
                .map_err(|e| at.error(format!("invalid {what} {s:?}: {}", regex_error(&e))))
        })
        .collect()
}

fn registry(path: &Path, key: &Spanned<String>, reg: RawRegistry) -> Result<RegistryEntry> {
    let name = key.value.clone();
    let include = patterns(path, "include pattern", &reg.include)?;
    let exclude = patterns(path, "exclude pattern", &reg.exclude)?;
    let base = TagFilter::from_regexes(include, exclude);
    let mut repos = Vec::new();
    for (k, refs) in &reg.images.0 {
        let repo = repository(path, &name, k)?;
        let refs = refs.as_deref().unwrap_or_default();
        let selection = if refs.is_empty() {
            Selection::Listed {
                regex: None,
                semver: None,
            }
        } else {
            Selection::Refs(
                refs.iter()
                    .map(|r| image_ref(path, &repo, r))
                    .collect::<Result<_>>()?,
            )
        };
        repos.push(entry(k, repo, selection, base.clone(), None));
    }
    for (k, re) in &reg.images_by_tag_regex.0 {
        let repo = repository(path, &name, k)?;
        let regex = Some(compile(path, "tag regular expression", re)?);
        let sel = Selection::Listed {
            regex,
            semver: None,
        };
        repos.push(entry(k, repo, sel, base.clone(), None));
    }
    for (k, c) in &reg.images_by_semver.0 {
        let repo = repository(path, &name, k)?;
        let semver = Some(constraint(path, c)?);
        let sel = Selection::Listed {
            regex: None,
            semver,
        };
        repos.push(entry(k, repo, sel, base.clone(), None));
    }
    for (k, r) in &reg.repositories.0 {
        let repo = repository(path, &name, k)?;
        let r = r.as_ref();
        let tags = r.and_then(|r| r.tags.as_deref()).unwrap_or_default();
        let regex = match r.and_then(|r| r.tag_regex.as_ref()) {
            Some(re) => Some(compile(path, "tag regular expression", re)?),
            None => None,
        };
        let semver = match r.and_then(|r| r.semver.as_ref()) {
            Some(c) => Some(constraint(path, c)?),
            None => None,
        };
        let selection = if tags.is_empty() {
            Selection::Listed { regex, semver }
        } else {
            if regex.is_some() || semver.is_some() {
                return Err(pos(path, k).error(format!(
                    "repository {}: `tags` cannot be combined with `tag-regex` or `semver`",
                    k.value
                )));
            }
            Selection::Refs(
                tags.iter()
                    .map(|t| image_ref(path, &repo, t))
                    .collect::<Result<_>>()?,
            )
        };
        let mut filter = base.clone();
        if let Some(r) = r {
            filter = filter.and(TagFilter::from_regexes(
                patterns(path, "include pattern", &r.include)?,
                patterns(path, "exclude pattern", &r.exclude)?,
            ));
        }
        let destination = match r.and_then(|r| r.destination.as_ref()) {
            Some(d) => Some(destination(path, d)?),
            None => None,
        };
        repos.push(entry(k, repo, selection, filter, destination));
    }
    let credentials = reg
        .credentials
        .filter(|c| !(c.username.is_empty() && c.password.is_empty()))
        .map(|c| (c.username, c.password));
    Ok(RegistryEntry {
        name,
        line: key.referenced.line() as u32,
        repos,
        credentials,
        tls_verify: reg.tls_verify,
        cert_dir: reg.cert_dir.filter(|d| !d.is_empty()).map(PathBuf::from),
    })
}

fn entry(
    k: &Spanned<String>,
    repo: Named,
    selection: Selection,
    filter: TagFilter,
    destination: Option<String>,
) -> RepoEntry {
    RepoEntry {
        repo,
        key: k.value.clone(),
        line: k.referenced.line() as u32,
        selection,
        filter,
        destination,
    }
}

/// skopeo's `parseRepositoryReference("registry/repo")`.
fn repository(path: &Path, registry: &str, k: &Spanned<String>) -> Result<Named> {
    let full = format!("{registry}/{}", k.value);
    let named = Named::parse_normalized(&full)
        .map_err(|e| pos(path, k).error(format!("invalid repository {full:?}: {e}")))?;
    if !named.is_name_only() {
        return Err(pos(path, k).error(format!(
            "invalid repository {full:?}: input names a reference, not a repository"
        )));
    }
    Ok(named)
}

/// A tag or a digest of `repo` (skopeo tries the digest first).
fn image_ref(path: &Path, repo: &Named, r: &Spanned<String>) -> Result<Named> {
    if validate_go_digest(&r.value).is_ok() {
        let d = Digest::parse(&r.value)
            .map_err(|e| pos(path, r).error(format!("invalid digest {:?}: {e}", r.value)))?;
        return Ok(repo.with_digest(d));
    }
    repo.with_tag(&r.value)
        .map_err(|e| pos(path, r).error(format!("invalid tag {:?}: {e}", r.value)))
}

fn constraint(path: &Path, c: &Spanned<String>) -> Result<Constraints> {
    Constraints::parse(&c.value)
        .map_err(|e| pos(path, c).error(format!("invalid semver constraint {:?}: {e}", c.value)))
}

/// A destination path: relative, clean components that a repository name accepts.
fn destination(path: &Path, d: &Spanned<String>) -> Result<String> {
    let v = d.value.trim_matches('/');
    let ok = !v.is_empty()
        && v.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && !v.contains([':', '@']);
    if !ok {
        return Err(pos(path, d).error(format!(
            "invalid destination {:?}: expected a repository path such as mirror/app",
            d.value
        )));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests;
