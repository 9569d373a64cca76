//! The Docker reference grammar (distribution/reference): `[domain/]path[:tag][@digest]`,
//! normalised as skopeo does (`busybox` → `docker.io/library/busybox`).
//!
//! Behaviour and error texts follow the containers/image 5.23 copy of
//! `docker/reference` used by skopeo 1.9.3 (checked against `/usr/bin/skopeo`).
//! Known difference: `sha384` digests are valid in Go but not representable by
//! [`Digest`]; they are refused with "unsupported digest algorithm".

mod grammar;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use crate::Digest;
use grammar::GoDigestError;

/// The registry assumed for names without a domain.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// Accepted on input and rewritten to [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of official images on [`DEFAULT_DOMAIN`].
pub const OFFICIAL_REPO_NAME: &str = "library";
/// The longest accepted name (domain + path), in bytes.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Errors parsing or building a Docker reference; texts are Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference format")]
    InvalidFormat,
    /// From the unnormalised parser.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// From [`Named::parse_normalized`], which checks case before the grammar.
    #[error("invalid reference format: repository name must be lowercase")]
    NormalizedNameContainsUppercase,
    #[error("repository name must have at least one component")]
    NameEmpty,
    #[error("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")]
    NameTooLong,
    #[error("repository name must be canonical")]
    NameNotCanonical,
    #[error("invalid tag format")]
    TagInvalidFormat,
    #[error("invalid checksum digest format")]
    DigestInvalidFormat,
    #[error("invalid checksum digest length")]
    DigestInvalidLength,
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexIdentifier(String),
}

impl From<GoDigestError> for ReferenceError {
    fn from(e: GoDigestError) -> Self {
        match e {
            GoDigestError::Format => ReferenceError::DigestInvalidFormat,
            GoDigestError::Length => ReferenceError::DigestInvalidLength,
            GoDigestError::Unsupported => ReferenceError::DigestUnsupported,
        }
    }
}

/// A parsed Docker reference: a repository name with an optional tag and digest.
///
/// `domain` is empty only for the odd names Go also accepts without one (a first
/// component with `.` that is not a valid host, e.g. `a_b.io/foo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Named {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Named {
    /// `reference.ParseNormalizedNamed`: `busybox` → `docker.io/library/busybox`,
    /// `index.docker.io/x` → `docker.io/library/x`. The first component is a domain if it
    /// contains `.` or `:` or is `localhost`. No tag is added (see [`Named::tag_name_only`]).
    pub fn parse_normalized(s: &str) -> Result<Named, ReferenceError> {
        if grammar::is_hex_identifier(s) {
            return Err(ReferenceError::HexIdentifier(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::NormalizedNameContainsUppercase);
        }
        Named::parse_unnormalized(&format!("{domain}/{remainder}"))
    }

    /// `reference.ParseNamed`: like [`Named::parse_normalized`] but the input must already
    /// be canonical (`docker.io/library/busybox:latest`, not `busybox:latest`).
    pub fn parse(s: &str) -> Result<Named, ReferenceError> {
        let named = Named::parse_normalized(s)?;
        if named.to_string() != s {
            return Err(ReferenceError::NameNotCanonical);
        }
        Ok(named)
    }

    /// `reference.Parse` restricted to named references: the grammar only, no
    /// normalisation (the first component is a domain whenever it can be one).
    pub fn parse_unnormalized(s: &str) -> Result<Named, ReferenceError> {
        let Some(m) = grammar::match_reference(s) else {
            if s.is_empty() {
                return Err(ReferenceError::NameEmpty);
            }
            if grammar::match_reference(&s.to_lowercase()).is_some() {
                return Err(ReferenceError::NameContainsUppercase);
            }
            return Err(ReferenceError::InvalidFormat);
        };
        if m.name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let (domain, path) = grammar::split_name(m.name).ok_or(ReferenceError::InvalidFormat)?;
        let digest = match m.digest {
            Some(d) => Some(parse_digest(d)?),
            None => None,
        };
        Ok(Named {
            domain: domain.to_string(),
            path: path.to_string(),
            tag: m.tag.map(str::to_string),
            digest,
        })
    }

    /// The registry host (and port), e.g. `docker.io`, `localhost:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }
    /// The repository path within the domain, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The full repository name, `domain/path` (Go's `Name()`).
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The short name a user would type: `busybox`, `foo/bar`, `quay.io/x/y`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.split_once('/') {
                Some((OFFICIAL_REPO_NAME, rest)) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// The short form with tag and digest: `busybox:latest`, `foo/bar@sha256:…`.
    pub fn familiar_string(&self) -> String {
        let mut s = self.familiar_name();
        self.push_tag_and_digest(&mut s);
        s
    }

    /// The same repository with `tag` (any digest is kept, as Go's `WithTag` does).
    pub fn with_tag(&self, tag: &str) -> Result<Named, ReferenceError> {
        if !grammar::is_tag(tag) {
            return Err(ReferenceError::TagInvalidFormat);
        }
        Ok(Named {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// The same repository with `digest` (any tag is kept, as Go's `WithDigest` does).
    pub fn with_digest(&self, digest: Digest) -> Named {
        Named {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The repository alone (Go's `TrimNamed`).
    pub fn without_tag_or_digest(&self) -> Named {
        Named {
            tag: None,
            digest: None,
            ..self.clone()
        }
    }

    /// Adds `:latest` when there is neither a tag nor a digest (Go's `TagNameOnly`).
    pub fn tag_name_only(&self) -> Named {
        if self.is_name_only() {
            Named {
                tag: Some("latest".to_string()),
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// True when there is neither a tag nor a digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// c/image `policyconfiguration.DockerReferenceIdentity`: `name:tag`, else
    /// `name@digest` (the scope key policy.json and registries.d match first).
    pub fn policy_identity(&self) -> String {
        let mut s = self.name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        } else if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
        s
    }

    /// c/image `policyconfiguration.DockerReferenceNamespaces`: the repository, its
    /// parent namespaces, the host, then `*.domain` wildcards of the host without port.
    pub fn policy_namespaces(&self) -> Vec<String> {
        let mut res = Vec::new();
        let mut name = self.name();
        loop {
            res.push(name.clone());
            match name.rfind('/') {
                Some(i) => name.truncate(i),
                None => break,
            }
        }
        if let Some(i) = name.find(':') {
            name.truncate(i);
        }
        let mut host = name.as_str();
        while let Some(i) = host.find('.') {
            host = &host[i + 1..];
            res.push(format!("*.{host}"));
        }
        res
    }

    fn push_tag_and_digest(&self, s: &mut String) {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
    }
}

/// Go's `splitDockerDomain`.
fn split_docker_domain(name: &str) -> (&str, String) {
    let (mut domain, remainder) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
            (first, rest.to_string())
        }
        _ => (DEFAULT_DOMAIN, name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN;
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_NAME}/{remainder}"));
    }
    (domain, remainder)
}

/// go-digest's `Parse` validation of a `algo:hex` string (sha256, sha384 and sha512 are
/// known algorithms), with Go's error texts. Transports use it to tell digests from names.
pub fn validate_go_digest(s: &str) -> Result<(), ReferenceError> {
    Ok(grammar::validate_go_digest(s)?)
}

/// go-digest's `Parse`, then conversion to ferry's [`Digest`].
fn parse_digest(s: &str) -> Result<Digest, ReferenceError> {
    grammar::validate_go_digest(s)?;
    Digest::parse(s).map_err(|_| ReferenceError::DigestUnsupported)
}

impl fmt::Display for Named {
    /// The full normalised form, `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.name();
        self.push_tag_and_digest(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Named {
    type Err = ReferenceError;
    /// Same as [`Named::parse_normalized`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Named::parse_normalized(s)
    }
}
