//! The [`Registry`] handle and its request engine: one shared `reqwest` blocking client
//! per registry configuration, the `/v2/` ping that picks the scheme (https; http first
//! when insecure) and learns the auth challenges, and `send`, which adds authorization,
//! retries idempotent requests (backoff, `Retry-After`) and re-authenticates once on 401.

use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use reqwest::blocking::{Body, Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, HeaderValue, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Url};

use crate::auth::{AuthHeader, AuthState};
use crate::challenge::{self, Challenge};
use crate::config::{Access, RegistryConfig};
use crate::error::{ErrorAnswer, Operation, RegistryError, TransportKind, registry_error};
use crate::retry::{backoff, is_retryable_status, parse_retry_after};
use crate::stream::Streamer;

/// Largest error body read (c/image's `MaxErrorBodySize`).
pub(crate) const MAX_ERROR_BODY: u64 = 1 << 20;

/// Applies a [`RegistryConfig`] to a reqwest client builder, blocking or async (the same
/// methods on two types): user agent, timeouts, TLS trust and client certificate.
macro_rules! configure {
    ($builder:expr, $cfg:expr) => {{
        let cfg: &$crate::config::RegistryConfig = &$cfg;
        let host = cfg.host.trim();
        let mut b = $builder
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .http2_adaptive_window(true)
            .redirect(reqwest::redirect::Policy::limited(10));
        let mut failed = None;
        if cfg.insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        } else if !cfg.ca_pems.is_empty() {
            let mut certs = Vec::new();
            for pem in &cfg.ca_pems {
                match reqwest::Certificate::from_pem_bundle(pem) {
                    Ok(parsed) => certs.extend(parsed),
                    Err(e) => {
                        failed = Some($crate::error::RegistryError::Invalid(format!(
                            "invalid CA certificate for {host}: {e}"
                        )))
                    }
                }
            }
            b = b.tls_certs_merge(certs);
        }
        if let Some((cert, key)) = &cfg.client_cert {
            let mut pem = cert.clone();
            pem.push(b'\n');
            pem.extend_from_slice(key);
            match reqwest::Identity::from_pem(&pem) {
                Ok(id) => b = b.identity(id),
                Err(e) => {
                    failed = Some($crate::error::RegistryError::Invalid(format!(
                        "invalid client certificate or key for {host}: {e}"
                    )))
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(b),
        }
    }};
}
pub(crate) use configure;

/// A client for one registry host. Cheap to clone (an `Arc`), `Send + Sync`: share it
/// between threads; connections (HTTP/1.1 keep-alive or one HTTP/2 connection) and auth
/// tokens are shared too.
#[derive(Clone)]
pub struct Registry {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("host", &self.inner.cfg.host)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub cfg: RegistryConfig,
    pub client: Client,
    /// The host actually contacted (`docker.io` → `registry-1.docker.io`).
    endpoint_host: String,
    /// `https://host/` or `http://host/`, known after the first answer (or ping).
    base: Mutex<Option<Url>>,
    pub auth: AuthState,
    /// The async client of streamed uploads, started by the first one.
    streamer: Mutex<Option<Arc<Streamer>>>,
}

/// One request as `send` needs it: everything is re-sendable.
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// Token scopes; `None` = no registry authorization (only `fixed_auth`, if any).
    pub scopes: Option<Vec<String>>,
    /// Authorization sent as is when `scopes` is `None` (token server requests).
    pub fixed_auth: Option<AuthHeader>,
    /// May be sent again after a failure.
    pub idempotent: bool,
}

impl Req {
    pub fn new(method: Method, url: Url, scopes: Vec<String>) -> Req {
        Req {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            scopes: Some(scopes),
            fixed_auth: None,
            idempotent: true,
        }
    }

    /// Adds a header (skipped if `value` is empty or invalid).
    pub fn header(mut self, name: reqwest::header::HeaderName, value: &str) -> Req {
        if value.is_empty() {
            return self;
        }
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Registry {
    /// Builds the client (TLS material is checked here); no network traffic yet.
    pub fn new(cfg: RegistryConfig) -> Result<Registry, RegistryError> {
        let host = cfg.host.trim().to_string();
        if host.is_empty() || host.contains(['/', '@', '?', '#', ' ']) {
            return Err(RegistryError::Invalid(format!(
                "invalid registry host {:?}",
                cfg.host
            )));
        }
        // Blocking clients have a 30 s total timeout by default; async ones have none.
        let client = configure!(Client::builder().timeout(None::<Duration>), cfg)?
            .build()
            .map_err(|e| {
                RegistryError::Invalid(format!("creating the HTTP client for {host}: {e}"))
            })?;
        let endpoint_host = if host == "docker.io" {
            "registry-1.docker.io".to_string()
        } else {
            host.clone()
        };
        let auth = AuthState::new(cfg.credential.clone());
        Ok(Registry {
            inner: Arc::new(Inner {
                cfg: RegistryConfig { host, ..cfg },
                client,
                endpoint_host,
                base: Mutex::new(None),
                auth,
                streamer: Mutex::new(None),
            }),
        })
    }

    /// The host as configured (`docker.io`, `127.0.0.1:5000`).
    pub fn host(&self) -> &str {
        &self.inner.cfg.host
    }

    /// `GET /v2/`: picks the scheme and records the authentication challenges. Done
    /// implicitly before the first request; calling it again re-probes.
    pub fn ping(&self) -> Result<(), RegistryError> {
        let mut base = lock(&self.inner.base);
        *base = Some(self.inner.ping_now()?);
        Ok(())
    }

    /// The scheme in use (`https` or `http`), pinging first if needed.
    pub fn scheme(&self) -> Result<String, RegistryError> {
        Ok(self.inner.base()?.scheme().to_string())
    }

    /// `GET /v2/` *with* the configured credentials (c/image `CheckAuth`, for `login`;
    /// [`Registry::ping`] does not authenticate): `Ok` when the registry accepts them. A
    /// rejection is an error for which [`RegistryError::is_unauthorized`] holds.
    pub fn check_auth(&self) -> Result<(), RegistryError> {
        let url = self.inner.url("/v2/")?;
        let resp = self.inner.send(&Req::new(Method::GET, url, Vec::new()))?;
        if resp.status().as_u16() == 200 {
            drain(resp);
            return Ok(());
        }
        Err(registry_error(Operation::Ping, "", &error_answer(resp)))
    }
}

impl Inner {
    /// The base of request URLs: the pinged one, else the scheme tried first (https, or
    /// http when insecure) without a ping. `send` confirms or corrects it with the
    /// first answer (see there), so that most commands save the ping's round trip.
    fn request_base(&self) -> Result<Url, RegistryError> {
        if let Some(b) = &*lock(&self.base) {
            return Ok(b.clone());
        }
        let scheme = if self.cfg.insecure { "http" } else { "https" };
        Url::parse(&format!("{scheme}://{}/", self.endpoint_host)).map_err(|e| {
            RegistryError::Invalid(format!("invalid registry host {:?}: {e}", self.cfg.host))
        })
    }

    fn base_known(&self) -> bool {
        lock(&self.base).is_some()
    }

    /// Records `url`'s scheme as the registry's (an answer came back on it).
    fn confirm_base(&self, url: &Url) {
        let mut base = lock(&self.base);
        if base.is_none()
            && let Ok(b) = Url::parse(&format!("{}://{}/", url.scheme(), self.endpoint_host))
        {
            *base = Some(b);
        }
    }

    /// `https://host/` (or `http://host/`), pinging on first use.
    pub fn base(&self) -> Result<Url, RegistryError> {
        let mut base = lock(&self.base);
        if let Some(b) = &*base {
            return Ok(b.clone());
        }
        let b = self.ping_now()?;
        *base = Some(b.clone());
        Ok(b)
    }

    /// The async client of streamed uploads (see [`crate::stream`]).
    pub(crate) fn streamer(&self) -> Result<Arc<Streamer>, RegistryError> {
        let mut s = lock(&self.streamer);
        if let Some(st) = &*s {
            return Ok(st.clone());
        }
        let st = Arc::new(Streamer::start(&self.cfg)?);
        *s = Some(st.clone());
        Ok(st)
    }

    /// The absolute URL of `path_and_query` (starting with `/v2/`).
    pub fn url(&self, path_and_query: &str) -> Result<Url, RegistryError> {
        let base = self.request_base()?;
        base.join(path_and_query).map_err(|e| {
            RegistryError::Invalid(format!("invalid request path {path_and_query:?}: {e}"))
        })
    }

    /// Token scopes for `repo` at (at least) `need`, plus `pull` on `extra_pull_repo`.
    pub fn scopes(&self, repo: &str, need: Access, extra_pull_repo: Option<&str>) -> Vec<String> {
        let actions = self.cfg.access.max(need).actions();
        let mut v = vec![format!("repository:{repo}:{actions}")];
        if let Some(from) = extra_pull_repo.filter(|f| *f != repo) {
            v.push(format!("repository:{from}:pull"));
        }
        v
    }

    fn ping_now(&self) -> Result<Url, RegistryError> {
        let ctx = format!("pinging container registry {}", self.cfg.host);
        // Insecure registries: plain HTTP first. A TLS port answers an HTTP request at
        // once with 400 (then https is tried); a plain-HTTP port would otherwise cost a
        // failed TLS handshake first, whose first use in a process seeds aws-lc's
        // jitter entropy (25–40 ms of CPU). Credentials are only ever sent after a 401
        // challenge, which a TLS port never gives over plain HTTP.
        let schemes: &[&str] = if self.cfg.insecure {
            &["http", "https"]
        } else {
            &["https"]
        };
        let policy = &self.cfg.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // When every scheme fails, report the plain-HTTP attempt's error, as c/image
            // does (it tries https, then http, and keeps the last error).
            let mut last: Option<RegistryError> = None;
            for scheme in schemes {
                let url =
                    Url::parse(&format!("{scheme}://{}/v2/", self.endpoint_host)).map_err(|e| {
                        RegistryError::Invalid(format!(
                            "invalid registry host {:?}: {e}",
                            self.cfg.host
                        ))
                    })?;
                match self.execute(&Method::GET, &url, &HeaderMap::new(), None, None, true) {
                    Err(e) => {
                        if *scheme == "http" || last.is_none() {
                            last = Some(transport_error(&Method::GET, &url, &e));
                        }
                    }
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        if status == 200 || status == 401 {
                            self.auth.set_challenges(challenges_of(resp.headers()));
                            drain(resp);
                            let mut base = url;
                            base.set_path("/");
                            return Ok(base);
                        }
                        if *scheme == "http" || last.is_none() {
                            last = Some(registry_error(Operation::Ping, "", &error_answer(resp)));
                        } else {
                            drain(resp);
                        }
                    }
                }
            }
            let err = match last {
                Some(e) => e,
                None => return Err(RegistryError::Invalid("no scheme to try".into())),
            };
            if !err.is_retryable() || attempt >= policy.max_attempts {
                return Err(err.with_context(&ctx));
            }
            let delay = retry_delay(&err, policy, attempt);
            match delay {
                Some(d) => std::thread::sleep(d),
                None => return Err(err.with_context(&ctx)),
            }
        }
    }

    /// One HTTP exchange, no retry. `read_timeout`: limit waits for the answer and for
    /// each body read (not for sending a streamed upload body).
    pub fn execute(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<Body>,
        auth: Option<&AuthHeader>,
        read_timeout: bool,
    ) -> Result<Response, reqwest::Error> {
        let mut rb: RequestBuilder = self
            .client
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        if read_timeout {
            rb = rb.timeout(self.cfg.read_timeout);
        }
        if let Some(a) = auth {
            rb = a.apply(rb);
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        rb.send()
    }

    /// Sends `req` with authorization, retrying idempotent requests on transport errors
    /// and retryable statuses, and re-authenticating once on a 401 challenge. Returns
    /// whatever final answer the registry gave (callers check the status).
    ///
    /// No ping precedes the first request to a registry (containerd does the same): it
    /// goes to the scheme tried first, and a 401 brings the challenges a ping would
    /// have. While the scheme is unconfirmed, a transport error or an answer other than
    /// 2xx/401 (or a JSON 404) triggers the ping: its error is the one reported (skopeo's "pinging
    /// container registry" texts), and when it finds the other scheme (insecure
    /// registries) the request is sent again there.
    pub fn send(&self, req: &Req) -> Result<Response, RegistryError> {
        let policy = &self.cfg.retry;
        let mut scopes = req.scopes.clone();
        let mut url = req.url.clone();
        let mut reauthed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (auth, from_cache) = match &scopes {
                Some(s) => self.authorization(s)?,
                None => (req.fixed_auth.clone(), false),
            };
            let probing = scopes.is_some() && !self.base_known();
            let body = req.body.clone().map(Body::from);
            let result = self.execute(&req.method, &url, &req.headers, body, auth.as_ref(), true);
            if probing {
                let ok = match &result {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        // A 404 with a JSON error document (`NAME_UNKNOWN`, …) comes
                        // from a registry too: no ping needed to tell.
                        let json = header(r, "content-type")
                            .is_some_and(|c| c.starts_with("application/json"));
                        r.status().is_success() || status == 401 || (status == 404 && json)
                    }
                    Err(_) => false,
                };
                if ok {
                    self.confirm_base(&url);
                } else {
                    let base = self.base()?;
                    if base.scheme() != url.scheme() {
                        // The registry is on the other scheme: nothing was done there.
                        if let Ok(r) = result {
                            drain(r);
                        }
                        let _ = url.set_scheme(base.scheme());
                        attempt -= 1;
                        continue;
                    }
                    // Same scheme: the answer (or error) stands.
                }
            }
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    let err = transport_error(&req.method, &url, &e);
                    if req.idempotent && err.is_retryable() && attempt < policy.max_attempts {
                        std::thread::sleep(backoff(policy, attempt));
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = resp.status().as_u16();
            if status == 401
                && !reauthed
                && let Some(s) = scopes.as_mut()
            {
                let ch = challenges_of(resp.headers());
                let extra = insufficient_scope(&ch).filter(|x| !s.contains(x));
                if !ch.is_empty() && (auth.is_none() || from_cache || extra.is_some()) {
                    reauthed = true;
                    attempt -= 1;
                    if from_cache {
                        self.auth.forget(s);
                    }
                    self.auth.set_challenges(ch);
                    s.extend(extra);
                    drain(resp);
                    continue;
                }
            }
            if req.idempotent && is_retryable_status(status) && attempt < policy.max_attempts {
                let ra = retry_after(resp.headers());
                let delay = ra.unwrap_or_else(|| backoff(policy, attempt));
                if delay <= policy.max_retry_after {
                    drain(resp);
                    std::thread::sleep(delay);
                    continue;
                }
            }
            return Ok(resp);
        }
    }
}

/// How long to wait before retrying after `err`, or `None` if the wait would be too long.
pub(crate) fn retry_delay(
    err: &RegistryError,
    policy: &crate::config::RetryPolicy,
    attempt: u32,
) -> Option<Duration> {
    let d = match err {
        RegistryError::Status {
            retry_after: Some(ra),
            ..
        } => *ra,
        _ => backoff(policy, attempt),
    };
    (d <= policy.max_retry_after).then_some(d)
}

/// The scope a `401 … error="insufficient_scope", scope="…"` challenge asks for.
fn insufficient_scope(ch: &[Challenge]) -> Option<String> {
    ch.iter()
        .filter(|c| c.scheme == "bearer" && c.param("error") == Some("insufficient_scope"))
        .find_map(|c| c.param("scope").map(str::to_string))
        .filter(|s| s.split(':').count() >= 3)
}

pub(crate) fn challenges_of(h: &HeaderMap) -> Vec<Challenge> {
    challenge::parse_headers(
        h.get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

pub(crate) fn retry_after(h: &HeaderMap) -> Option<Duration> {
    h.get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// Reads (a bounded part of) an error answer.
pub(crate) fn error_answer(resp: Response) -> ErrorAnswer {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let mut body = Vec::new();
    let _ = resp.take(MAX_ERROR_BODY).read_to_end(&mut body);
    error_answer_of(status, &headers, body)
}

/// An error answer from its parts.
pub(crate) fn error_answer_of(status: u16, headers: &HeaderMap, body: Vec<u8>) -> ErrorAnswer {
    ErrorAnswer {
        status,
        challenges: challenges_of(headers),
        body,
        retry_after: retry_after(headers),
    }
}

/// Reads and drops a (small) body so the connection can be reused.
pub(crate) fn drain(resp: Response) {
    let _ = std::io::copy(&mut resp.take(64 * 1024), &mut std::io::sink());
}

/// Reads a whole body of at most `limit` bytes.
pub(crate) fn read_limited(
    resp: Response,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, RegistryError> {
    let url = resp.url().clone();
    let mut body = Vec::new();
    resp.take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| io_transport_error(&Method::GET, &url, &e))?;
    if body.len() as u64 > limit {
        return Err(RegistryError::Protocol(format!(
            "{what}: exceeded maximum allowed size of {limit} bytes"
        )));
    }
    Ok(body)
}

/// A header as a string, if present and valid.
pub(crate) fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The `Location` header resolved against the request URL.
pub(crate) fn location(resp: &Response) -> Result<Url, String> {
    location_of(resp.headers(), resp.url())
}

/// The `Location` of an answer to a request for `url`, resolved against it.
pub(crate) fn location_of(headers: &HeaderMap, url: &Url) -> Result<Url, String> {
    let l = headers
        .get(LOCATION)
        .ok_or("http: no Location header in response")?
        .to_str()
        .map_err(|e| format!("invalid Location header: {e}"))?;
    url.join(l)
        .map_err(|e| format!("invalid Location header {l:?}: {e}"))
}

/// Go's spelling of a method in `url.Error` (`Get`, `Head`, …).
pub(crate) fn go_method(m: &Method) -> String {
    let s = m.as_str();
    let mut out = s[..1].to_string();
    out.push_str(&s[1..].to_ascii_lowercase());
    out
}

/// A `Transport` error from a reqwest error: the meaningful part of its cause chain.
pub(crate) fn transport_error(method: &Method, url: &Url, e: &reqwest::Error) -> RegistryError {
    let mut texts: Vec<String> = Vec::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        texts.push(s.to_string());
        src = s.source();
    }
    let all = texts.join(": ").to_ascii_lowercase();
    let kind = if all.contains("certificate")
        || all.contains("tls")
        || all.contains("handshake")
        || all.contains("corrupt message")
        || all.contains("fatal alert")
    {
        TransportKind::Tls
    } else if e.is_timeout() || all.contains("timed out") {
        TransportKind::Timeout
    } else if e.is_connect() {
        TransportKind::Connect
    } else if e.is_request() || e.is_body() || e.is_decode() {
        TransportKind::Broken
    } else {
        TransportKind::Other
    };
    let message = if all.contains("invalidcontenttype") {
        // What Go says when TLS meets a plain HTTP server.
        "http: server gave HTTP response to HTTPS client".to_string()
    } else {
        summarize(&texts, e)
    };
    RegistryError::Transport {
        context: None,
        method: go_method(method),
        url: url.to_string(),
        message,
        kind,
    }
}

/// A `Transport` error from an `io::Error` raised while reading a body.
pub(crate) fn io_transport_error(method: &Method, url: &Url, e: &std::io::Error) -> RegistryError {
    if let Some(re) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
        return transport_error(method, url, re);
    }
    let kind = match e.kind() {
        std::io::ErrorKind::TimedOut => TransportKind::Timeout,
        _ => TransportKind::Broken,
    };
    RegistryError::Transport {
        context: None,
        method: go_method(method),
        url: url.to_string(),
        message: e.to_string(),
        kind,
    }
}

/// Drops wrapper texts that only repeat what the next cause says.
fn summarize(texts: &[String], e: &reqwest::Error) -> String {
    let generic = |t: &str| {
        t.starts_with("client error (")
            || t.starts_with("error sending request")
            || t == "error trying to connect"
            || t.starts_with("request or response body error")
    };
    let mut kept: Vec<&str> = texts
        .iter()
        .map(String::as_str)
        .filter(|t| !generic(t))
        .collect();
    kept.dedup();
    // Drop a wrapper whose text already ends with its cause's.
    let mut out: Vec<&str> = Vec::new();
    for (i, t) in kept.iter().enumerate() {
        if kept.get(i + 1).is_some_and(|next| t.ends_with(next)) {
            continue;
        }
        out.push(t);
    }
    if out.is_empty() {
        e.to_string()
    } else {
        out.join(": ")
    }
}
