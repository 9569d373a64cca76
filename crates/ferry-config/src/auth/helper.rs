//! Running `docker-credential-<name>` programs (the docker-credential-helpers protocol):
//! `get`/`erase` read a server URL on stdin, `store` reads
//! `{"ServerURL","Username","Secret"}`, `list` prints `{url: username}`. A failing
//! program prints its message on stdout; `credentials not found in native keychain`
//! means "nothing stored".

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::{AuthError, Credential};

/// The helper protocol's "not found" message.
const NOT_FOUND_MESSAGE: &str = "credentials not found in native keychain";

/// What a helper's `get` prints.
#[derive(Deserialize)]
struct HelperCreds {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The outcome of running a helper.
enum Outcome {
    Ok(Vec<u8>),
    NotFound,
}

fn program_name(name: &str) -> String {
    format!("docker-credential-{name}")
}

/// Looks `program` up in `search_path` (else `$PATH`), like Go's `exec.LookPath` (empty
/// entries, meaning the current directory, are skipped).
fn find_program(program: &str, search_path: Option<&OsStr>) -> Option<PathBuf> {
    if program.contains('/') {
        return None;
    }
    let path: OsString = match search_path {
        Some(p) => p.to_os_string(),
        None => std::env::var_os("PATH")?,
    };
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Runs `docker-credential-<name> <action>` with `input` on stdin.
fn run(
    name: &str,
    action: &'static str,
    verb: &'static str,
    server: &str,
    input: &[u8],
    search_path: Option<&OsStr>,
) -> Result<Outcome, AuthError> {
    let program = program_name(name);
    let fail = |message: String| AuthError::Helper {
        program: program.clone(),
        action: verb,
        server: server.to_string(),
        message,
    };
    let exe = find_program(&program, search_path)
        .ok_or_else(|| fail(format!("{program}: executable file not found in $PATH")))?;
    let mut child = Command::new(&exe)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("running {}: {e}", exe.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper may exit without reading its input; its status tells what happened.
        let _ = stdin.write_all(input);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("running {}: {e}", exe.display())))?;
    if out.status.success() {
        return Ok(Outcome::Ok(out.stdout));
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if text == NOT_FOUND_MESSAGE {
        return Ok(Outcome::NotFound);
    }
    let status = match out.status.code() {
        Some(c) => format!("exit status {c}"),
        None => "killed by a signal".to_string(),
    };
    Err(fail(format!("{status}, out: `{text}`")))
}

/// `get`: the credentials stored for `server`, `None` if there are none.
pub(crate) fn get(
    name: &str,
    server: &str,
    search_path: Option<&OsStr>,
) -> Result<Option<Credential>, AuthError> {
    let out = match run(
        name,
        "get",
        "getting",
        server,
        server.as_bytes(),
        search_path,
    )? {
        Outcome::Ok(out) => out,
        Outcome::NotFound => return Ok(None),
    };
    let creds: HelperCreds = serde_json::from_slice(&out).map_err(|e| AuthError::Helper {
        program: program_name(name),
        action: "getting",
        server: server.to_string(),
        // The output may hold a secret: report only where parsing failed.
        message: format!(
            "invalid JSON output at line {} column {}",
            e.line(),
            e.column()
        ),
    })?;
    Ok(match creds.username.as_str() {
        "<token>" => Some(Credential::IdentityToken {
            username: String::new(),
            token: creds.secret,
        }),
        "" if creds.secret.is_empty() => None,
        _ => Some(Credential::Basic {
            username: creds.username,
            password: creds.secret,
        }),
    })
}

/// `store`: saves `cred` for `server`.
pub(crate) fn store(
    name: &str,
    server: &str,
    cred: &Credential,
    search_path: Option<&OsStr>,
) -> Result<(), AuthError> {
    let (username, secret) = match cred {
        Credential::Basic { username, password } => (username.as_str(), password.as_str()),
        Credential::IdentityToken { token, .. } => ("<token>", token.as_str()),
    };
    let input = serde_json::json!({"ServerURL": server, "Username": username, "Secret": secret});
    let input = input.to_string();
    match run(
        name,
        "store",
        "storing",
        server,
        input.as_bytes(),
        search_path,
    )? {
        Outcome::Ok(_) => Ok(()),
        Outcome::NotFound => Err(AuthError::Helper {
            program: program_name(name),
            action: "storing",
            server: server.to_string(),
            message: NOT_FOUND_MESSAGE.to_string(),
        }),
    }
}

/// `erase`: removes what is stored for `server`; `false` if nothing was.
pub(crate) fn erase(
    name: &str,
    server: &str,
    search_path: Option<&OsStr>,
) -> Result<bool, AuthError> {
    match run(
        name,
        "erase",
        "removing",
        server,
        server.as_bytes(),
        search_path,
    )? {
        Outcome::Ok(_) => Ok(true),
        Outcome::NotFound => Ok(false),
    }
}

/// `list`: every server URL the helper holds; `Ok(None)` when the program is missing.
pub(crate) fn list(
    name: &str,
    search_path: Option<&OsStr>,
) -> Result<Option<Vec<String>>, AuthError> {
    if find_program(&program_name(name), search_path).is_none() {
        return Ok(None);
    }
    let out = match run(name, "list", "listing", "all servers", b"", search_path)? {
        Outcome::Ok(out) => out,
        Outcome::NotFound => return Ok(Some(Vec::new())),
    };
    let map: BTreeMap<String, String> =
        serde_json::from_slice(&out).map_err(|e| AuthError::Helper {
            program: program_name(name),
            action: "listing",
            server: "all servers".to_string(),
            message: format!("invalid JSON output: {e}"),
        })?;
    Ok(Some(map.into_keys().collect()))
}
