//! What a [`crate::Registry`] is built from: endpoint, TLS material, credentials, retry
//! policy. Values arrive already resolved (auth.json, certs.d and registries.conf are read
//! elsewhere); nothing here touches the file system.

use std::fmt;
use std::time::Duration;

/// The default `User-Agent`: `ferry/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("ferry/", env!("CARGO_PKG_VERSION"));

/// Everything needed to talk to one registry host.
#[derive(Clone)]
pub struct RegistryConfig {
    /// `host[:port]` as written in the image reference (`docker.io` is contacted at
    /// `registry-1.docker.io`). Used verbatim in error messages, like skopeo.
    pub host: String,
    /// `--tls-verify=false`: accept any certificate, and fall back to plain HTTP when
    /// HTTPS does not work.
    pub insecure: bool,
    /// Extra trusted CA certificates (PEM), added to the system roots (certs.d `*.crt`).
    pub ca_pems: Vec<Vec<u8>>,
    /// Client certificate and private key (PEM), for mutual TLS (certs.d `*.cert`/`*.key`).
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
    /// `None` = anonymous.
    pub credential: Option<Credential>,
    /// What tokens are requested for (`repository:<repo>:<actions>`); operations that need
    /// more (a push, a delete) ask for more on their own.
    pub access: Access,
    pub user_agent: String,
    pub retry: RetryPolicy,
    /// TCP + TLS connection establishment limit.
    pub connect_timeout: Duration,
    /// Longest wait for a response header or for the next bytes of a body (a stalled
    /// download counts as a failed read and is resumed). Uploads are not limited.
    pub read_timeout: Duration,
    /// `n=` page size for tag listing; `None` = let the registry decide (Distribution then
    /// returns every tag at once).
    pub tags_page_size: Option<u32>,
}

impl RegistryConfig {
    /// A configuration with defaults for everything but the host.
    pub fn new(host: impl Into<String>) -> RegistryConfig {
        RegistryConfig {
            host: host.into(),
            insecure: false,
            ca_pems: Vec::new(),
            client_cert: None,
            credential: None,
            access: Access::Pull,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            tags_page_size: None,
        }
    }
}

impl fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryConfig")
            .field("host", &self.host)
            .field("insecure", &self.insecure)
            .field("ca_pems", &self.ca_pems.len())
            .field(
                "client_cert",
                &self.client_cert.as_ref().map(|_| "<redacted>"),
            )
            .field("credential", &self.credential)
            .field("access", &self.access)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("tags_page_size", &self.tags_page_size)
            .finish()
    }
}

/// How to authenticate. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// User name and password: HTTP Basic on registries that ask for it, and on the
    /// token server of registries that ask for a bearer token.
    Basic { username: String, password: String },
    /// An OAuth2 refresh token (auth.json `identitytoken`), exchanged at the token
    /// server with `grant_type=refresh_token`.
    IdentityToken { username: String, token: String },
    /// `--registry-token`: a bearer token sent as is (no token exchange).
    Bearer(String),
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
            Credential::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// The actions a token is requested for, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Access {
    /// `pull`
    #[default]
    Pull,
    /// `pull,push`
    Push,
    /// `*` (what c/image asks for to delete an image)
    Delete,
}

impl Access {
    /// The scope's action list.
    pub fn actions(self) -> &'static str {
        match self {
            Access::Pull => "pull",
            Access::Push => "pull,push",
            Access::Delete => "*",
        }
    }
}

/// Per-request retries: exponential backoff with jitter, `Retry-After` honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (1 = no retry). Also the number of
    /// consecutive resumes a blob download may make without progress.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time, ±25 % jitter.
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is returned.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let mut cfg = RegistryConfig::new("example.com");
        cfg.credential = Some(Credential::Basic {
            username: "me".into(),
            password: "hunter2".into(),
        });
        cfg.client_cert = Some((b"CERT".to_vec(), b"PRIVATE KEY".to_vec()));
        let s = format!("{cfg:?}");
        assert!(
            s.contains("me") && !s.contains("hunter2") && !s.contains("PRIVATE"),
            "{s}"
        );
        let s = format!("{:?}", Credential::Bearer("tok-secret".into()));
        assert!(!s.contains("tok-secret"));
        let s = format!(
            "{:?}",
            Credential::IdentityToken {
                username: "u".into(),
                token: "refresh-secret".into()
            }
        );
        assert!(!s.contains("refresh-secret"));
    }

    #[test]
    fn access_order_and_actions() {
        assert!(Access::Pull < Access::Push && Access::Push < Access::Delete);
        assert_eq!(Access::Push.actions(), "pull,push");
        assert_eq!(Access::Pull.max(Access::Delete).actions(), "*");
    }
}
