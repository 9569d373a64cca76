//! policy.json (`containers-policy.json(5)`): lookup, strict parsing, evaluation.
//!
//! - Lookup: `--policy PATH`, else `$HOME/.config/containers/policy.json`, else
//!   `/etc/containers/policy.json`. When neither exists skopeo fails; ferry instead uses
//!   the built-in `insecureAcceptAnything` default and hands the caller a warning to print.
//! - Parsing is as strict as containers/image: unknown or duplicated keys, a missing
//!   `default`, empty requirement lists and invalid scopes reject the whole file, with
//!   skopeo 1.9.3's messages. `sigstoreSigned` also accepts the newer fields (`keyPaths`,
//!   `keyDatas`, `fulcio`, `pki`, `rekorPublicKey*`).
//! - Evaluation: the most specific scope of the image's transport wins (identity, then
//!   namespaces, then `""`, then `default`); all its requirements must accept.
//!   Signature requirements cannot be checked by this build yet and fail closed.

mod json;
mod parse;
mod scope;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ferry_reference::Named;

/// The per-user policy file, relative to `$HOME`.
pub const USER_POLICY_FILE: &str = ".config/containers/policy.json";
/// The system-wide policy file.
pub const SYSTEM_POLICY_PATH: &str = "/etc/containers/policy.json";

/// Errors loading or enforcing a policy. Load errors name the file.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be opened (Go's `open PATH: reason`).
    #[error("open {}: {}", path.display(), go_error_text(source))]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file could not be read (e.g. it is a directory).
    #[error("read {}: {}", path.display(), go_error_text(source))]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is not a valid policy.
    #[error("invalid policy in \"{}\": {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    /// Policy bytes from memory are not a valid policy.
    #[error("{0}")]
    InvalidBytes(String),
    /// A `reject` requirement (skopeo's text).
    #[error("Running image {description} is rejected by policy.")]
    Rejected { description: String },
    /// A signature requirement that this build cannot verify: fail closed.
    #[error(
        "Running image {description} requires a {requirement:?} signature check (policy {source_name}), but signature verification is not implemented in ferry yet"
    )]
    SignatureUnsupported {
        description: String,
        requirement: &'static str,
        source_name: String,
    },
}

/// A whole policy.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub default: Vec<Requirement>,
    /// transport name → scope → requirements.
    pub transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

/// One policy requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    InsecureAcceptAnything,
    Reject,
    SignedBy(SignedBy),
    SigstoreSigned(Box<SigstoreSigned>),
    SignedBaseLayer { base_layer_identity: IdentityMatch },
}

impl Requirement {
    /// The `type` value in policy.json.
    pub fn type_name(&self) -> &'static str {
        match self {
            Requirement::InsecureAcceptAnything => "insecureAcceptAnything",
            Requirement::Reject => "reject",
            Requirement::SignedBy(_) => "signedBy",
            Requirement::SigstoreSigned(_) => "sigstoreSigned",
            Requirement::SignedBaseLayer { .. } => "signedBaseLayer",
        }
    }
}

/// `signedBy`: simple-signing (GPG) signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub key_type: KeyType,
    pub keys: KeySource,
    pub signed_identity: IdentityMatch,
}

/// `keyType` of `signedBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    GpgKeys,
    SignedByGpgKeys,
    X509Certificates,
    SignedByX509Cas,
}

/// Exactly one of `keyPath`, `keyPaths`, `keyData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Path(PathBuf),
    Paths(Vec<PathBuf>),
    Data(Vec<u8>),
}

/// `sigstoreSigned`: cosign-compatible signatures. Fields are as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigstoreSigned {
    pub key_path: Option<PathBuf>,
    pub key_paths: Option<Vec<PathBuf>>,
    pub key_data: Option<Vec<u8>>,
    pub key_datas: Option<Vec<Vec<u8>>>,
    pub fulcio: Option<Fulcio>,
    pub pki: Option<Pki>,
    pub rekor_public_key_path: Option<PathBuf>,
    pub rekor_public_key_paths: Option<Vec<PathBuf>>,
    pub rekor_public_key_data: Option<Vec<u8>>,
    pub rekor_public_key_datas: Option<Vec<Vec<u8>>>,
    pub signed_identity: IdentityMatch,
}

/// `fulcio` of `sigstoreSigned`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fulcio {
    pub ca_path: Option<PathBuf>,
    pub ca_data: Option<Vec<u8>>,
    pub oidc_issuer: String,
    pub subject_email: String,
}

/// `pki` of `sigstoreSigned`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pki {
    pub ca_roots_path: Option<PathBuf>,
    pub ca_roots_data: Option<Vec<u8>>,
    pub ca_intermediates_path: Option<PathBuf>,
    pub ca_intermediates_data: Option<Vec<u8>>,
    pub subject_email: Option<String>,
    pub subject_hostname: Option<String>,
}

/// `signedIdentity` / `baseLayerIdentity` matchers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IdentityMatch {
    MatchExact,
    #[default]
    MatchRepoDigestOrExact,
    MatchRepository,
    ExactReference {
        docker_reference: Named,
    },
    ExactRepository {
        docker_repository: Named,
    },
    RemapIdentity {
        prefix: String,
        signed_prefix: String,
    },
}

/// What [`PolicyContext::check`] needs to know about an image.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    /// The transport name (`docker`, `oci`, …).
    pub transport: &'a str,
    /// The most specific scope (`ImageRef::policy_configuration_identity`).
    pub identity: &'a str,
    /// Less specific scopes, most specific first.
    pub namespaces: &'a [String],
    /// How to name the image in messages (`transport:reference`).
    pub description: &'a str,
}

/// The policy to enforce, already loaded (or the built-in default).
#[derive(Debug, Clone)]
pub struct PolicyContext {
    policy: Policy,
    /// Where the policy came from, for messages (`None` = built in).
    source: Option<PathBuf>,
}

impl Default for PolicyContext {
    /// Accepts anything (`{"default":[{"type":"insecureAcceptAnything"}]}`).
    fn default() -> Self {
        PolicyContext::insecure_accept_anything()
    }
}

impl PolicyContext {
    /// `{"default":[{"type":"insecureAcceptAnything"}]}` (`--insecure-policy`).
    pub fn insecure_accept_anything() -> PolicyContext {
        PolicyContext {
            policy: Policy {
                default: vec![Requirement::InsecureAcceptAnything],
                transports: BTreeMap::new(),
            },
            source: None,
        }
    }

    /// A policy from memory (tests, embedded defaults).
    pub fn from_bytes(data: &[u8]) -> Result<PolicyContext, PolicyError> {
        let policy = parse::parse_policy(data).map_err(PolicyError::InvalidBytes)?;
        Ok(PolicyContext {
            policy,
            source: None,
        })
    }

    /// Reads and parses a policy.json.
    pub fn from_file(path: &Path) -> Result<PolicyContext, PolicyError> {
        // std rather than fs_err: the messages mimic Go's `open PATH: reason`.
        let mut file = std::fs::File::open(path).map_err(|source| PolicyError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(|source| PolicyError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        let policy = parse::parse_policy(&data).map_err(|message| PolicyError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(PolicyContext {
            policy,
            source: Some(path.to_path_buf()),
        })
    }

    /// `--policy PATH`, else the default lookup. When no file exists anywhere, returns the
    /// built-in default (insecureAcceptAnything) plus a warning for the binary to print
    /// (skopeo fails hard there).
    pub fn load(explicit: Option<&Path>) -> Result<(PolicyContext, Option<String>), PolicyError> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        load_with(explicit, home.as_deref(), Path::new(SYSTEM_POLICY_PATH))
    }

    /// The parsed policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The file the policy came from (`None` = built in or from memory).
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The requirements that apply to an image: its transport's most specific scope
    /// (identity, then namespaces in order, then `""`), else `default`.
    pub fn requirements_for(&self, input: &PolicyInput) -> &[Requirement] {
        if let Some(scopes) = self.policy.transports.get(input.transport) {
            let found = std::iter::once(input.identity)
                .chain(input.namespaces.iter().map(String::as_str))
                .chain(std::iter::once(""))
                .find_map(|scope| scopes.get(scope));
            if let Some(reqs) = found {
                return reqs;
            }
        }
        &self.policy.default
    }

    /// Ok if the image may be used. Every applicable requirement must accept; signature
    /// requirements are rejected because this build cannot verify signatures yet.
    pub fn check(&self, input: &PolicyInput) -> Result<(), PolicyError> {
        for req in self.requirements_for(input) {
            match req {
                Requirement::InsecureAcceptAnything => {}
                Requirement::Reject => {
                    return Err(PolicyError::Rejected {
                        description: input.description.to_string(),
                    });
                }
                other => {
                    return Err(PolicyError::SignatureUnsupported {
                        description: input.description.to_string(),
                        requirement: other.type_name(),
                        source_name: self.source_name(),
                    });
                }
            }
        }
        Ok(())
    }

    fn source_name(&self) -> String {
        match &self.source {
            Some(p) => p.display().to_string(),
            None => "(built in)".to_string(),
        }
    }
}

/// [`PolicyContext::load`] with the home directory and the system path as parameters.
pub fn load_with(
    explicit: Option<&Path>,
    home: Option<&Path>,
    system: &Path,
) -> Result<(PolicyContext, Option<String>), PolicyError> {
    if let Some(p) = explicit {
        return Ok((PolicyContext::from_file(p)?, None));
    }
    let user = home.map(|h| h.join(USER_POLICY_FILE));
    if let Some(u) = &user
        && std::fs::metadata(u).is_ok()
    {
        return Ok((PolicyContext::from_file(u)?, None));
    }
    match std::fs::metadata(system) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut tried: Vec<String> = user.iter().map(|u| u.display().to_string()).collect();
            tried.push(system.display().to_string());
            let warning = format!(
                "no policy.json file found at any of the following: {}; using the built-in default policy, which accepts any image (insecureAcceptAnything)",
                tried
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok((PolicyContext::insecure_accept_anything(), Some(warning)))
        }
        _ => Ok((PolicyContext::from_file(system)?, None)),
    }
}

/// Go's text for an OS error (`no such file or directory`).
fn go_error_text(e: &io::Error) -> String {
    let s = e.to_string();
    let s = match (e.raw_os_error(), s.rfind(" (os error ")) {
        (Some(_), Some(i)) => &s[..i],
        _ => s.as_str(),
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
