//! A tiny Docker token server (the "docker token auth" flow of Docker Hub, GHCR, …):
//! `GET /token?service=&scope=` with optional Basic credentials, and the OAuth2
//! `POST /token` (`grant_type=password|refresh_token`). Tokens are RS256 JWTs signed with
//! `openssl dgst`, carrying the signing certificate in `x5c`, as Distribution's
//! `auth.token` verifies them. Policy: valid credentials get every action asked for,
//! anonymous clients get `pull` only if `anonymous_pull`, bad credentials get 401.
//! Every request is recorded ([`TokenServer::seen`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use crate::OrDie;

pub const SERVICE: &str = "ferry-test-registry";
pub const ISSUER: &str = "ferry-test-issuer";

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// `None` for GET; the form's `grant_type` for POST.
    pub grant_type: Option<String>,
    /// Authenticated user, if any.
    pub user: Option<String>,
    pub scopes: Vec<String>,
    pub status: u16,
}

struct State {
    users: Vec<(String, String)>,
    expires_in: u64,
    anonymous_pull: bool,
    key: PathBuf,
    x5c: String,
    seen: Mutex<Vec<Seen>>,
}

pub struct TokenServer {
    pub port: u16,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    pub cert: PathBuf,
    _dir: tempfile::TempDir,
}

impl TokenServer {
    pub fn start(users: &[(&str, &str)], expires_in: u64, anonymous_pull: bool) -> TokenServer {
        let dir = tempfile::Builder::new()
            .prefix("ferry-token-")
            .tempdir()
            .or_die("tempdir");
        let (key, cert) = crate::tls::token_signing_pair(dir.path());
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .output()
            .or_die("openssl x509");
        assert!(der.status.success());
        let state = Arc::new(State {
            users: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            expires_in,
            anonymous_pull,
            key,
            x5c: STANDARD.encode(&der.stdout),
            seen: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").or_die("bind");
        let port = listener.local_addr().or_die("addr").port();
        let stop = Arc::new(AtomicBool::new(false));
        let (st, stop2) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(c) = conn {
                    let st = st.clone();
                    std::thread::spawn(move || handle(c, &st));
                }
            }
        });
        TokenServer {
            port,
            state,
            stop,
            cert,
            _dir: dir,
        }
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The registry's `auth.token` settings pointing at this server.
    pub fn auth(&self) -> crate::registry::TokenAuth {
        crate::registry::TokenAuth {
            realm: self.realm(),
            service: SERVICE.to_string(),
            issuer: ISSUER.to_string(),
            root_cert_bundle: self.cert.clone(),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().or_die("lock").clone()
    }

    /// A token for `scopes` issued to `user`, as if requested (for `--registry-token`).
    pub fn issue_for(&self, user: &str, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        jwt(&self.state, Some(user), &scopes)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

fn sign(key: &PathBuf, data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .or_die("openssl dgst");
    child
        .stdin
        .take()
        .or_die("stdin")
        .write_all(data)
        .or_die("write");
    let out = child.wait_with_output().or_die("openssl dgst");
    assert!(out.status.success());
    out.stdout
}

fn jwt(st: &State, user: Option<&str>, scopes: &[String]) -> String {
    let mut access = Vec::new();
    for s in scopes {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() < 3 {
            continue;
        }
        let (typ, name, actions) = (
            parts[0],
            parts[1..parts.len() - 1].join(":"),
            parts[parts.len() - 1],
        );
        let asked: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
        let granted: Vec<&str> = if user.is_some() {
            asked
        } else if st.anonymous_pull {
            asked.into_iter().filter(|a| *a == "pull").collect()
        } else {
            Vec::new()
        };
        if !granted.is_empty() {
            access.push(json!({"type": typ, "name": name, "actions": granted}));
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .or_die("clock")
        .as_secs();
    let header = json!({"typ": "JWT", "alg": "RS256", "x5c": [st.x5c]});
    let claims = json!({
        "iss": ISSUER, "sub": user.unwrap_or(""), "aud": SERVICE,
        "exp": now + st.expires_in, "nbf": now - 5, "iat": now,
        "jti": format!("{now}-{}", access.len()), "access": access,
    });
    let input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = sign(&st.key, input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// Percent-decoding of a form/query component (`+` = space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(h, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}

fn respond(s: &mut TcpStream, status: u16, body: &serde_json::Value) {
    let body = body.to_string();
    let reason = if status == 200 { "OK" } else { "Error" };
    let _ = write!(
        s,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

fn handle(stream: TcpStream, st: &State) {
    let mut r = BufReader::new(stream.try_clone().or_die("clone"));
    let mut line = String::new();
    if r.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut auth = None;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            match k.trim().to_ascii_lowercase().as_str() {
                "authorization" => auth = Some(v.trim().to_string()),
                "content-length" => len = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0u8; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let mut s = stream;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if path != "/token" {
        respond(&mut s, 404, &json!({"errors": [{"code": "NOT_FOUND"}]}));
        return;
    }
    let check = |u: &str, p: &str| st.users.iter().any(|(uu, pp)| uu == u && pp == p);
    let mut seen = Seen {
        method: method.clone(),
        grant_type: None,
        user: None,
        scopes: Vec::new(),
        status: 200,
    };
    let result: Result<Option<String>, ()> = if method == "GET" {
        for (k, v) in pairs(query) {
            if k == "scope" {
                seen.scopes.extend(v.split(' ').map(str::to_string));
            }
        }
        match auth.as_deref().and_then(|a| a.strip_prefix("Basic ")) {
            None => Ok(None),
            Some(b) => {
                let dec = String::from_utf8(STANDARD.decode(b.trim()).unwrap_or_default())
                    .unwrap_or_default();
                let (u, p) = dec.split_once(':').unwrap_or((&dec, ""));
                if check(u, p) {
                    Ok(Some(u.to_string()))
                } else {
                    Err(())
                }
            }
        }
    } else {
        let form = pairs(&String::from_utf8_lossy(&body));
        let get = |k: &str| {
            form.iter()
                .find(|(kk, _)| kk == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        seen.grant_type = Some(get("grant_type"));
        seen.scopes = get("scope")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        for (k, v) in &form {
            if k == "scope" && !seen.scopes.contains(v) && !v.contains(' ') {
                seen.scopes.push(v.clone());
            }
        }
        match get("grant_type").as_str() {
            "password" if check(&get("username"), &get("password")) => Ok(Some(get("username"))),
            "refresh_token" => {
                let rt = get("refresh_token");
                match rt.strip_prefix("ferry-refresh.") {
                    Some(u) if st.users.iter().any(|(uu, _)| uu == u) => Ok(Some(u.to_string())),
                    _ => Err(()),
                }
            }
            _ => Err(()),
        }
    };
    // Recorded before answering, so a client that got its answer finds it recorded.
    let (status, body) = match result {
        Err(()) => (
            401,
            json!({"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}),
        ),
        Ok(user) => {
            seen.user = user.clone();
            let token = jwt(st, user.as_deref(), &seen.scopes);
            let mut resp =
                json!({"token": token, "access_token": token, "expires_in": st.expires_in});
            if method == "POST"
                && let Some(u) = &user
            {
                resp["refresh_token"] = json!(format!("ferry-refresh.{u}"));
            }
            (200, resp)
        }
    };
    seen.status = status;
    st.seen.lock().or_die("lock").push(seen);
    respond(&mut s, status, &body);
}
