//! One registries.conf file: TOML decoding (v2, or the deprecated v1
//! `[registries.search|insecure|block]` tables), then c/image's `postProcessRegistries`,
//! short-name-mode and alias validation. Texts are c/image 5.23's.

use std::collections::{BTreeMap, HashMap};

use ferry_reference::Named;
use serde::Deserialize;

use super::{Mirror, PullFromMirror, Registry, ShortNameMode};

#[derive(Debug, Default, Deserialize)]
struct RawFile {
    registry: Option<Vec<RawRegistry>>,
    #[serde(rename = "unqualified-search-registries")]
    unqualified_search_registries: Option<Vec<String>>,
    #[serde(rename = "credential-helpers")]
    credential_helpers: Option<Vec<String>>,
    #[serde(rename = "short-name-mode", default)]
    short_name_mode: String,
    aliases: Option<BTreeMap<String, String>>,
    /// v1: `[registries.search]`, `[registries.insecure]`, `[registries.block]`.
    registries: Option<RawV1>,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1 {
    #[serde(default)]
    search: RawV1List,
    #[serde(default)]
    insecure: RawV1List,
    #[serde(default)]
    block: RawV1List,
}

#[derive(Debug, Default, Deserialize)]
struct RawV1List {
    registries: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawRegistry {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(rename = "mirror-by-digest-only", default)]
    mirror_by_digest_only: bool,
    #[serde(rename = "pull-from-mirror", default)]
    pull_from_mirror: String,
    #[serde(default)]
    mirror: Vec<RawEndpoint>,
}

#[derive(Debug, Default, Deserialize)]
struct RawEndpoint {
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(rename = "pull-from-mirror", default)]
    pull_from_mirror: String,
}

/// One parsed and validated file. `None` fields were absent (they do not override
/// earlier files when merging).
#[derive(Debug, Default)]
pub(super) struct ParsedFile {
    pub(super) registries: Vec<Registry>,
    pub(super) unqualified_search_registries: Option<Vec<String>>,
    pub(super) credential_helpers: Option<Vec<String>>,
    pub(super) short_name_mode: Option<ShortNameMode>,
    /// `None` values reset an alias set by an earlier file.
    pub(super) aliases: BTreeMap<String, Option<String>>,
}

fn nonempty<T>(v: &Option<Vec<T>>) -> bool {
    v.as_ref().is_some_and(|v| !v.is_empty())
}

/// Parses `text`; `force_v2` is set for drop-ins, which must not use the v1 format.
pub(super) fn parse_file(text: &str, force_v2: bool) -> Result<ParsedFile, String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    let v1 = raw.registries.as_ref();
    let v1_nonempty = v1.is_some_and(|v| {
        nonempty(&v.search.registries)
            || nonempty(&v.insecure.registries)
            || nonempty(&v.block.registries)
    });
    let v2_nonempty = nonempty(&raw.registry)
        || nonempty(&raw.unqualified_search_registries)
        || nonempty(&raw.credential_helpers)
        || !raw.short_name_mode.is_empty()
        || raw.aliases.as_ref().is_some_and(|a| !a.is_empty());

    let (raw_registries, unqualified) = match v1 {
        Some(v1) if v1_nonempty => {
            if force_v2 {
                return Err("registry must be in v2 format but is in v1".to_string());
            }
            if v2_nonempty {
                return Err("mixing sysregistry v1/v2 is not supported".to_string());
            }
            (convert_v1(v1)?, v1.search.registries.clone())
        }
        _ => (
            raw.registry.unwrap_or_default(),
            raw.unqualified_search_registries,
        ),
    };
    let registries = post_process(raw_registries)?;
    let unqualified = unqualified
        .map(|list| list.iter().map(|r| validate_search_registry(r)).collect())
        .transpose()?;
    let short_name_mode = match raw.short_name_mode.as_str() {
        "" => None,
        "enforcing" => Some(ShortNameMode::Enforcing),
        "permissive" => Some(ShortNameMode::Permissive),
        "disabled" => Some(ShortNameMode::Disabled),
        other => return Err(format!("invalid short-name mode: {other:?}")),
    };
    for r in &registries {
        if r.prefix.starts_with("*.") && r.prefix.contains(['/', '@', ':']) {
            return Err(format!(
                "Wildcarded prefix should be in the format: *.example.com. Current prefix {:?} is incorrectly formatted",
                r.prefix
            ));
        }
    }
    let aliases = parse_aliases(raw.aliases.unwrap_or_default())
        .map_err(|e| format!("validating short-name aliases: {e}"))?;
    Ok(ParsedFile {
        registries,
        unqualified_search_registries: unqualified,
        credential_helpers: raw.credential_helpers,
        short_name_mode,
        aliases,
    })
}

/// A TOML error on one line: `toml: line L, column C: message`.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', "; ");
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("toml: line {line}, column {column}: {message}")
        }
        None => format!("toml: {message}"),
    }
}

/// c/image `parseLocation`: trailing `/` trimmed, URL schemes refused.
fn parse_location(input: &str) -> Result<String, String> {
    let trimmed = input.trim_end_matches('/');
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Err(format!(
            "invalid location '{input}': URI schemes are not supported"
        ));
    }
    Ok(trimmed.to_string())
}

/// c/image `V1RegistriesConf.ConvertToV2`: blocked entries first, then insecure ones,
/// in first-seen order.
fn convert_v1(v1: &RawV1) -> Result<Vec<RawRegistry>, String> {
    let mut order: Vec<RawRegistry> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let lists = [
        (&v1.block.registries, true),
        (&v1.insecure.registries, false),
    ];
    for (list, blocked) in lists {
        for loc in list.iter().flatten() {
            let loc = parse_location(loc)?;
            let i = *index.entry(loc.clone()).or_insert_with(|| {
                order.push(RawRegistry {
                    prefix: loc.clone(),
                    location: loc.clone(),
                    ..RawRegistry::default()
                });
                order.len() - 1
            });
            if blocked {
                order[i].blocked = true;
            } else {
                order[i].insecure = true;
            }
        }
    }
    Ok(order)
}

fn pull_from_mirror(value: &str, location: &str) -> Result<PullFromMirror, String> {
    match value {
        "" | "all" => Ok(PullFromMirror::All),
        "digest-only" => Ok(PullFromMirror::DigestOnly),
        "tag-only" => Ok(PullFromMirror::TagOnly),
        _ => Err(format!(
            "unsupported pull-from-mirror value {value:?} for mirror {location:?}"
        )),
    }
}

/// c/image `postProcessRegistries`: normalise, validate, check conflicts, then keep
/// the first entry per prefix, sorted by prefix.
fn post_process(raw: Vec<RawRegistry>) -> Result<Vec<Registry>, String> {
    let mut regs = Vec::with_capacity(raw.len());
    for r in raw {
        let location = parse_location(&r.location)?;
        let prefix = if r.prefix.is_empty() {
            if location.is_empty() {
                return Err("invalid condition: both location and prefix are unset".to_string());
            }
            location.clone()
        } else {
            let prefix = parse_location(&r.prefix)?;
            if !prefix.starts_with("*.") && location.is_empty() {
                return Err("invalid condition: location is unset and prefix is not in the format: *.example.com".to_string());
            }
            prefix
        };
        if !r.pull_from_mirror.is_empty() {
            return Err(format!(
                "pull-from-mirror must not be set for a non-mirror registry {prefix:?}"
            ));
        }
        let mut mirrors = Vec::with_capacity(r.mirror.len());
        for m in r.mirror {
            let mloc = parse_location(&m.location)?;
            if mloc.is_empty() {
                return Err("invalid condition: mirror location is unset".to_string());
            }
            if r.mirror_by_digest_only && !m.pull_from_mirror.is_empty() {
                return Err(format!(
                    "cannot set mirror usage mirror-by-digest-only for the registry ({prefix:?}) and pull-from-mirror for per-mirror ({:?}) at the same time",
                    m.location
                ));
            }
            mirrors.push(Mirror {
                pull_from_mirror: pull_from_mirror(&m.pull_from_mirror, &m.location)?,
                location: mloc,
                insecure: m.insecure,
            });
        }
        regs.push(Registry {
            prefix,
            location,
            insecure: r.insecure,
            blocked: r.blocked,
            mirror_by_digest_only: r.mirror_by_digest_only,
            mirrors,
        });
    }
    let group = |r: &Registry| {
        if r.location.is_empty() {
            r.prefix.clone()
        } else {
            r.location.clone()
        }
    };
    for (i, a) in regs.iter().enumerate() {
        for b in regs.iter().skip(i + 1).filter(|b| group(b) == group(a)) {
            let setting = if a.insecure != b.insecure {
                "insecure"
            } else if a.blocked != b.blocked {
                "blocked"
            } else {
                continue;
            };
            return Err(format!(
                "registry '{}' is defined multiple times with conflicting '{setting}' setting",
                a.location
            ));
        }
    }
    let mut unique: BTreeMap<String, Registry> = BTreeMap::new();
    for r in regs {
        unique.entry(r.prefix.clone()).or_insert(r);
    }
    Ok(unique.into_values().collect())
}

/// An `unqualified-search-registries` entry must be a bare `host[:port]`.
fn validate_search_registry(entry: &str) -> Result<String, String> {
    let reg = parse_location(entry)?;
    let ok = !reg.is_empty()
        && Named::parse_unnormalized(&format!("{reg}/x")).is_ok_and(|n| n.domain() == reg);
    if ok {
        Ok(reg)
    } else {
        Err(format!(
            "Invalid unqualified-search-registries entry {reg:?}"
        ))
    }
}

/// Validates `[aliases]` (c/image `newShortNameAliasCache`); all errors are reported.
fn parse_aliases(
    raw: BTreeMap<String, String>,
) -> Result<BTreeMap<String, Option<String>>, String> {
    let mut res = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, value) in raw {
        if let Err(e) = validate_short_name(&name) {
            errors.push(e);
        }
        if value.is_empty() {
            res.insert(name, None);
            continue;
        }
        match parse_alias_value(&value) {
            Ok(v) => {
                res.insert(name, Some(v));
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(res),
        _ => Err(errors.join("\n: ")),
    }
}

fn has_registry(domain: &str) -> bool {
    domain.contains(['.', ':']) || domain == "localhost"
}

fn validate_short_name(name: &str) -> Result<(), String> {
    let named = Named::parse_unnormalized(name)
        .map_err(|e| format!("cannot parse short name: {name:?}: {e}"))?;
    if named.digest().is_some() {
        return Err(format!(
            "invalid short name {name:?}: must not contain digest"
        ));
    }
    if named.tag().is_some() {
        return Err(format!("invalid short name {name:?}: must not contain tag"));
    }
    if has_registry(named.domain()) {
        return Err(format!(
            "invalid short name {name:?}: must not contain registry"
        ));
    }
    Ok(())
}

fn parse_alias_value(alias: &str) -> Result<String, String> {
    let named =
        Named::parse_unnormalized(alias).map_err(|e| format!("parsing alias {alias:?}: {e}"))?;
    if named.digest().is_some() {
        return Err(format!("invalid alias {alias:?}: must not contain digest"));
    }
    if named.tag().is_some() {
        return Err(format!("invalid alias {alias:?}: must not contain tag"));
    }
    if !has_registry(named.domain()) {
        return Err(format!(
            "invalid alias {alias:?}: must contain registry and repository"
        ));
    }
    Ok(named.name())
}
