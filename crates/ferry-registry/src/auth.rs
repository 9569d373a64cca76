//! Authorization: picks what to send from the registry's challenges (Basic credentials,
//! a `--registry-token`, or a bearer token from the token server), and caches bearer
//! tokens per scope set until they expire. Follows c/image's `setupRequestAuth`,
//! `getBearerToken` (GET with Basic credentials) and `getBearerTokenOAuth2` (POST with
//! an identity/refresh token).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::blocking::RequestBuilder;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Url};
use serde::Deserialize;

use crate::challenge::Challenge;
use crate::client::{Inner, Req, error_answer, lock, read_limited};
use crate::config::Credential;
use crate::error::{Operation, RegistryError, http_error};
use crate::retry::parse_rfc3339;

/// Tokens shorter-lived than this are assumed to live this long (c/image does the same).
const MIN_TOKEN_LIFETIME: u64 = 60;
/// A cached token is renewed this long before it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);
const MAX_TOKEN_BODY: u64 = 1 << 20;

/// An `Authorization` header to send. `Debug` shows no secret.
#[derive(Clone)]
pub(crate) enum AuthHeader {
    Basic { username: String, password: String },
    Bearer(String),
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthHeader::Basic { username, .. } => write!(f, "Basic({username}:<redacted>)"),
            AuthHeader::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

impl AuthHeader {
    /// Adds the header (marked sensitive, so it is never logged by the HTTP stack).
    pub fn apply(&self, rb: RequestBuilder) -> RequestBuilder {
        match self {
            AuthHeader::Basic { username, password } => rb.basic_auth(username, Some(password)),
            AuthHeader::Bearer(t) => rb.bearer_auth(t),
        }
    }

    /// [`AuthHeader::apply`] for the async client of streamed uploads.
    pub fn apply_async(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            AuthHeader::Basic { username, password } => rb.basic_auth(username, Some(password)),
            AuthHeader::Bearer(t) => rb.bearer_auth(t),
        }
    }
}

struct CachedToken {
    token: String,
    expires: Instant,
}

pub(crate) struct AuthState {
    credential: Option<Credential>,
    challenges: Mutex<Vec<Challenge>>,
    tokens: Mutex<HashMap<String, CachedToken>>,
    /// Serializes token requests, so that threads starting together share one token.
    fetching: Mutex<()>,
}

impl AuthState {
    pub fn new(credential: Option<Credential>) -> AuthState {
        AuthState {
            credential,
            challenges: Mutex::new(Vec::new()),
            tokens: Mutex::new(HashMap::new()),
            fetching: Mutex::new(()),
        }
    }

    pub fn set_challenges(&self, ch: Vec<Challenge>) {
        *lock(&self.challenges) = ch;
    }

    /// Drops the cached token of a scope set (after the registry refused it).
    pub fn forget(&self, scopes: &[String]) {
        lock(&self.tokens).remove(&cache_key(scopes));
    }

    fn cached(&self, key: &str) -> Option<String> {
        let tokens = lock(&self.tokens);
        tokens
            .get(key)
            .filter(|t| Instant::now() < t.expires)
            .map(|t| t.token.clone())
    }
}

fn cache_key(scopes: &[String]) -> String {
    let mut s = scopes.to_vec();
    s.sort();
    s.dedup();
    s.join(" ")
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: u64,
    #[serde(default)]
    issued_at: Option<String>,
}

/// When a token received `now` stops being usable: `issued_at + expires_in` (at least
/// 60 s), with `issued_at` honoured only if it is plausible (not in the future, not
/// older than the lifetime: clocks differ), minus a safety margin.
fn token_expiry(
    expires_in: u64,
    issued_at: Option<&str>,
    now: Instant,
    wall: SystemTime,
) -> Instant {
    let life = Duration::from_secs(expires_in.max(MIN_TOKEN_LIFETIME));
    let age = issued_at
        .and_then(parse_rfc3339)
        .and_then(|at| wall.duration_since(at).ok())
        .filter(|age| *age < life)
        .unwrap_or(Duration::ZERO);
    now + (life - age).saturating_sub(EXPIRY_MARGIN)
}

impl Inner {
    /// The authorization for a request needing `scopes`, and whether it is a cached
    /// bearer token (which may be stale and is worth renewing on a 401).
    pub fn authorization(
        &self,
        scopes: &[String],
    ) -> Result<(Option<AuthHeader>, bool), RegistryError> {
        let challenges = lock(&self.auth.challenges).clone();
        for c in &challenges {
            match c.scheme.as_str() {
                "basic" => {
                    let h = match &self.auth.credential {
                        Some(Credential::Basic { username, password }) => Some(AuthHeader::Basic {
                            username: username.clone(),
                            password: password.clone(),
                        }),
                        _ => None,
                    };
                    return Ok((h, false));
                }
                "bearer" => {
                    if let Some(Credential::Bearer(t)) = &self.auth.credential {
                        return Ok((Some(AuthHeader::Bearer(t.clone())), false));
                    }
                    let key = cache_key(scopes);
                    if let Some(t) = self.auth.cached(&key) {
                        return Ok((Some(AuthHeader::Bearer(t)), true));
                    }
                    let _one_at_a_time = lock(&self.auth.fetching);
                    if let Some(t) = self.auth.cached(&key) {
                        return Ok((Some(AuthHeader::Bearer(t)), true));
                    }
                    let (token, expires) = self.fetch_token(c, scopes)?;
                    lock(&self.auth.tokens).insert(
                        key,
                        CachedToken {
                            token: token.clone(),
                            expires,
                        },
                    );
                    return Ok((Some(AuthHeader::Bearer(token)), false));
                }
                _ => {}
            }
        }
        Ok((None, false))
    }

    fn fetch_token(
        &self,
        c: &Challenge,
        scopes: &[String],
    ) -> Result<(String, Instant), RegistryError> {
        let realm = c.param("realm").ok_or_else(|| {
            RegistryError::Protocol("missing realm in bearer auth challenge".into())
        })?;
        let mut url = Url::parse(realm)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                RegistryError::Protocol(format!("invalid realm {realm:?} in bearer auth challenge"))
            })?;
        let service = c.param("service").filter(|s| !s.is_empty());
        let (req, context) = match &self.auth.credential {
            Some(Credential::IdentityToken { token, .. }) => {
                let mut form =
                    Url::parse("form:").map_err(|e| RegistryError::Invalid(e.to_string()))?;
                {
                    let mut q = form.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                    q.append_pair("grant_type", "refresh_token");
                    q.append_pair("refresh_token", token);
                    q.append_pair("client_id", "ferry");
                }
                let mut req = Req::new(Method::POST, url, Vec::new())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
                req.body = Some(form.query().unwrap_or_default().as_bytes().to_vec());
                req.scopes = None;
                (req, "Trying to obtain access token")
            }
            cred => {
                let mut basic = None;
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(Credential::Basic { username, password }) = cred {
                        q.append_pair("account", username);
                        basic = Some(AuthHeader::Basic {
                            username: username.clone(),
                            password: password.clone(),
                        });
                    }
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                }
                let mut req = Req::new(Method::GET, url, Vec::new());
                req.scopes = None;
                req.fixed_auth = basic;
                (req, "Requesting bearer token")
            }
        };
        let resp = self.send(&req)?;
        if resp.status().as_u16() != 200 {
            return Err(http_error(Operation::Token, context, &error_answer(resp)));
        }
        let body = read_limited(resp, MAX_TOKEN_BODY, "bearer token response")?;
        let t: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Protocol(format!("decoding bearer token: {e}")))?;
        let token = if t.token.is_empty() {
            t.access_token
        } else {
            t.token
        };
        if token.is_empty() {
            return Err(RegistryError::Protocol(
                "decoding bearer token: the token server returned no token".into(),
            ));
        }
        let expires = token_expiry(
            t.expires_in,
            t.issued_at.as_deref(),
            Instant::now(),
            SystemTime::now(),
        );
        Ok((token, expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn expiry_honours_lifetime_and_plausible_issued_at() {
        let now = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14T22:13:20Z
        let left = |e: Instant| e.duration_since(now).as_secs();
        assert_eq!(left(token_expiry(300, None, now, wall)), 295);
        // Too short → 60 s minimum; absent → 60 s.
        assert_eq!(left(token_expiry(10, None, now, wall)), 55);
        assert_eq!(left(token_expiry(0, None, now, wall)), 55);
        // Issued 100 s ago.
        assert_eq!(
            left(token_expiry(300, Some("2023-11-14T22:11:40Z"), now, wall)),
            195
        );
        // Issued "in the future" (clock skew) or long ago: ignored.
        assert_eq!(
            left(token_expiry(300, Some("2023-11-14T23:00:00Z"), now, wall)),
            295
        );
        assert_eq!(
            left(token_expiry(300, Some("2020-01-01T00:00:00Z"), now, wall)),
            295
        );
        assert_eq!(left(token_expiry(300, Some("garbage"), now, wall)), 295);
    }

    #[test]
    fn cache_key_is_order_insensitive() {
        let a = cache_key(&["repository:b:pull".into(), "repository:a:pull,push".into()]);
        let b = cache_key(&["repository:a:pull,push".into(), "repository:b:pull".into()]);
        assert_eq!(a, b);
        assert_ne!(a, cache_key(&["repository:a:pull,push".into()]));
    }

    #[test]
    fn auth_header_debug_redacts() {
        let h = AuthHeader::Basic {
            username: "u".into(),
            password: "pw-secret".into(),
        };
        assert!(!format!("{h:?}").contains("pw-secret"));
        assert!(!format!("{:?}", AuthHeader::Bearer("tok-secret".into())).contains("tok-secret"));
    }
}
