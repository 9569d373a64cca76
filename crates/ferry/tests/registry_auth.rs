//! `docker://` authentication end to end, against a real registry (Debian's
//! `docker-registry`) started by the harness with htpasswd Basic auth, or with Bearer
//! tokens from the harness's token server: `login`/`logout` (texts identical to
//! skopeo's), the auth file lookup (`--authfile`, `$REGISTRY_AUTH_FILE`, the
//! `$XDG_RUNTIME_DIR` default, Docker's `config.json`, `--compat-auth-file`), every
//! credential flag (`--creds`, `--username/--password`, `--registry-token`, `--no-creds`,
//! the `src-`/`dest-` forms and the hidden `--screds/--dcreds`), and bad input (wrong
//! password: exit 1 and no password in any output; a broken auth.json is named).
//!
//! Every tool runs in a controlled environment (see `support/registry_env.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/registry_env.rs"]
mod registry_env;
#[allow(unused_imports)]
mod support;

use ferry_test::fixtures::Kind;
use ferry_test::registry::Options;
use ferry_test::sources::Transport;
use ferry_test::token::TokenServer;
use ferry_test::{diff_trees, require_skopeo};
use registry_env::*;
use support::{ok_or_fail, source, sources};

// ---------------------------------------------------------------------------------------
// htpasswd (Basic auth).

/// login/logout with skopeo's texts, the three places an auth file is found, every way
/// to pass credentials, and the failures (wrong password, no credentials, a broken
/// auth.json) with no password in any output.
#[test]
fn htpasswd_login_logout_and_auth_files() {
    let Some(reg) = start(Options::htpasswd(USER, PASSWORD)) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    let host = reg.host();
    let image = format!("docker://{host}/auth/img:latest");
    let creds = format!("{USER}:{PASSWORD}");

    // No credentials: refused.
    let (code, err) = fails(
        env.ferry(),
        &[
            "copy",
            "--dest-tls-verify=false",
            &source(&s, Transport::Dir),
            &image,
        ],
    );
    assert_eq!(code, 1);
    assert_contains(&err, "authentication required");
    // Every credential flag family: push with --dest-creds, read with --src-username/…
    ok(
        env.ferry(),
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &source(&s, Transport::Dir),
            &image,
        ],
    );
    let got = env.path("got");
    ok(
        env.ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            "--src-username",
            USER,
            "--src-password",
            PASSWORD,
            &image,
            &format!("dir:{}", got.display()),
        ],
    );
    ok(
        env.ferry(),
        &[
            "inspect",
            "--tls-verify=false",
            "--username",
            USER,
            "--password",
            PASSWORD,
            &image,
        ],
    );
    ok(
        env.ferry(),
        &[
            "list-tags",
            "--tls-verify=false",
            "--creds",
            &creds,
            &format!("docker://{host}/auth/img"),
        ],
    );
    // Hidden legacy aliases.
    let copy2 = format!("docker://{host}/auth/copy2:latest");
    ok(
        env.ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--screds",
            &creds,
            "--dcreds",
            &creds,
            &image,
            &copy2,
        ],
    );

    // Wrong password: a clear error, exit 1, the password nowhere.
    let (code, err) = fails(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "-p",
            WRONG,
            &host,
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        ferry_error(&err),
        format!("logging into \"{host}\": invalid username/password")
    );
    let (code, err) = fails(
        env.ferry(),
        &[
            "inspect",
            "--tls-verify=false",
            "--creds",
            &format!("{USER}:{WRONG}"),
            &image,
        ],
    );
    assert_eq!(code, 1);
    assert!(!err.contains(WRONG), "password in the error: {err}");
    assert!(!env.default_auth_file().exists());

    // --authfile, then $REGISTRY_AUTH_FILE.
    let authfile = env.path("auth/explicit.json");
    let authfile_s = authfile.display().to_string();
    let out = ok(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "--authfile",
            &authfile_s,
            "-u",
            USER,
            "-p",
            PASSWORD,
            &host,
        ],
    );
    assert_eq!(stdout(&out), "Login Succeeded!\n");
    let stored: serde_json::Value =
        serde_json::from_slice(&fs_err::read(&authfile).unwrap()).unwrap();
    assert!(stored["auths"][&host]["auth"].is_string(), "{stored}");
    ok(
        env.ferry(),
        &[
            "inspect",
            "--tls-verify=false",
            "--authfile",
            &authfile_s,
            &image,
        ],
    );
    let mut c = env.ferry();
    c.env("REGISTRY_AUTH_FILE", &authfile);
    ok(c, &["inspect", "--tls-verify=false", &image]);
    let (code, err) = fails(
        env.ferry(),
        &[
            "inspect",
            "--tls-verify=false",
            "--authfile",
            &authfile_s,
            "--no-creds",
            &image,
        ],
    );
    assert_eq!(code, 1, "{err}");

    // The default: ${XDG_RUNTIME_DIR}/containers/auth.json.
    let (code, _) = fails(env.ferry(), &["inspect", "--tls-verify=false", &image]);
    assert_eq!(code, 1);
    let out = ok(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "-p",
            PASSWORD,
            &host,
        ],
    );
    assert_eq!(stdout(&out), "Login Succeeded!\n");
    assert!(env.default_auth_file().is_file());
    ok(env.ferry(), &["inspect", "--tls-verify=false", &image]);
    assert_eq!(
        stdout(&ok(env.ferry(), &["login", "--get-login", &host])),
        format!("{USER}\n")
    );
    assert_eq!(
        stdout(&ok(env.ferry(), &["logout", &host])),
        format!("Removed login credentials for {host}\n")
    );
    let (code, _) = fails(env.ferry(), &["inspect", "--tls-verify=false", &image]);
    assert_eq!(code, 1);
    let (code, err) = fails(env.ferry(), &["logout", &host]);
    assert_eq!(
        (code, ferry_error(&err)),
        (1, format!("not logged into {host}"))
    );

    // A broken auth file is named in the error.
    let bad = env.path("bad.json");
    write(&bad, "{\"auths\": {");
    let (code, err) = fails(
        env.ferry(),
        &[
            "inspect",
            "--tls-verify=false",
            "--authfile",
            &bad.display().to_string(),
            &image,
        ],
    );
    assert_eq!(code, 1);
    assert_contains(&err, &format!("\"{}\"", bad.display()));

    // login writes to $REGISTRY_AUTH_FILE; copy reads a per-side --src-authfile.
    let env_file = env.path("auth/from-env.json");
    let mut c = env.ferry();
    c.env("REGISTRY_AUTH_FILE", &env_file);
    ok(
        c,
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "-p",
            PASSWORD,
            &host,
        ],
    );
    let got2 = env.path("got2");
    ok(
        env.ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            "--src-authfile",
            &env_file.display().to_string(),
            &image,
            &format!("dir:{}", got2.display()),
        ],
    );
    ok_or_fail("pulled with --src-authfile", diff_trees(&got, &got2));

    // --compat-auth-file: Docker's config.json format, registry keys only.
    let compat = env.path("docker/config.json");
    let compat_s = compat.display().to_string();
    ok(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "--compat-auth-file",
            &compat_s,
            "-u",
            USER,
            "-p",
            PASSWORD,
            &host,
        ],
    );
    let stored: serde_json::Value =
        serde_json::from_slice(&fs_err::read(&compat).unwrap()).unwrap();
    assert!(stored["auths"][&host]["auth"].is_string(), "{stored}");
    let (code, err) = fails(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "--compat-auth-file",
            &compat_s,
            "-u",
            USER,
            "-p",
            PASSWORD,
            &format!("{host}/ns/repo"),
        ],
    );
    assert_eq!(code, 1);
    assert_contains(&err, "namespaced key");
    let (_, err) = fails(
        env.ferry(),
        &[
            "login",
            "--authfile",
            &authfile_s,
            "--compat-auth-file",
            &compat_s,
            &host,
        ],
    );
    assert_contains(&err, "can not be set simultaneously");
    assert_eq!(
        stdout(&ok(
            env.ferry(),
            &["logout", "--compat-auth-file", &compat_s, &host]
        )),
        format!("Removed login credentials for {host}\n")
    );
}

/// The same login/logout session run by skopeo and by ferry prints the same stdout
/// and the same error messages.
#[test]
fn login_session_matches_skopeo() {
    if !require_skopeo() {
        return;
    }
    let Some(reg) = start(Options::htpasswd(USER, PASSWORD)) else {
        return;
    };
    let host = reg.host();
    let env = Env::new();
    let docker_config = env.home().join(".docker/config.json");
    let session = |tool: &dyn Fn() -> std::process::Command| -> Vec<String> {
        let _ = fs_err::remove_dir_all(env.runtime_dir().join("containers"));
        let _ = fs_err::remove_file(&docker_config);
        let steps: Vec<Vec<String>> = [
            vec![
                "login",
                "--tls-verify=false",
                "-u",
                USER,
                "-p",
                WRONG,
                &host,
            ],
            vec![
                "login",
                "--tls-verify=false",
                "-u",
                USER,
                "-p",
                PASSWORD,
                &host,
            ],
            vec!["login", "--tls-verify=false", "--get-login", &host],
            vec!["login", "--tls-verify=false", &host],
            vec![
                "login",
                "--tls-verify=false",
                "-v",
                "-u",
                USER,
                "-p",
                PASSWORD,
                &format!("{host}/ns/repo"),
            ],
            vec!["logout", &format!("{host}/ns/repo")],
            vec!["logout", &format!("{host}/ns/repo")],
            vec!["logout", "--tls-verify=false", &format!("{host}/ns/repo")],
            vec!["logout", "--all"],
            vec!["login", "--get-login", &host],
            vec!["login", "--password-stdin", "-p", "x", "-u", USER, &host],
            vec!["logout", "--authfile", "/nonexistent/auth.json", &host],
        ]
        .iter()
        .map(|v| v.iter().map(|s| s.to_string()).collect())
        .collect();
        let mut log = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            if i == steps.len() - 3 {
                // Credentials only in Docker's config.json.
                write(
                    &docker_config,
                    &format!(
                        "{{\"auths\":{{\"{host}\":{{\"auth\":\"{}\"}}}}}}",
                        base64(&format!("{USER}:{PASSWORD}"))
                    ),
                );
            }
            let mut c = tool();
            c.args(step);
            let out = ferry_test::run_unchecked(&mut c);
            let err = String::from_utf8_lossy(&out.stderr);
            let msg = if err.contains("level=fatal") {
                skopeo_fatal(&err)
            } else {
                ferry_error(&err)
            };
            log.push(format!(
                "{step:?} → {:?}\nstdout: {:?}\nerror: {msg}",
                out.status.code(),
                stdout(&out)
            ));
        }
        log
    };
    let k = session(&|| env.skopeo());
    let f = session(&|| env.ferry());
    for (a, b) in k.iter().zip(&f) {
        assert_eq!(b, a, "ferry (left) vs skopeo (right)");
    }
}

/// A password typed on stdin (no terminal) after the prompts.
#[test]
fn login_prompts_read_stdin() {
    let Some(reg) = start(Options::htpasswd(USER, PASSWORD)) else {
        return;
    };
    let env = Env::new();
    let mut c = env.ferry();
    c.args(["login", "--tls-verify=false", &reg.host()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{USER}\n{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "Username: Password: \nLogin Succeeded!\n");
    assert!(env.default_auth_file().is_file());
    // --password-stdin
    ok(env.ferry(), &["logout", "--all"]);
    let mut c = env.ferry();
    c.args([
        "login",
        "--tls-verify=false",
        "--password-stdin",
        "-u",
        USER,
        &reg.host(),
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "Login Succeeded!\n");
}

// ---------------------------------------------------------------------------------------
// Bearer tokens.

/// A registry delegating to a token server: credentials exchanged for scoped tokens,
/// `--registry-token` used as is, login through the token server.
#[test]
fn bearer_token_auth() {
    if !ferry_test::tls::require_openssl() {
        return;
    }
    let tokens = TokenServer::start(&[(USER, PASSWORD)], 300, false);
    let Some(reg) = start(Options::token(tokens.auth())) else {
        return;
    };
    let env = Env::new();
    let s = sources(Kind::Oci, env.dir.path());
    let host = reg.host();
    let image = format!("docker://{host}/tok/img:latest");
    let creds = format!("{USER}:{PASSWORD}");
    ok(
        env.ferry(),
        &[
            "copy",
            "--dest-tls-verify=false",
            "--dest-creds",
            &creds,
            &source(&s, Transport::Dir),
            &image,
        ],
    );
    assert!(
        tokens.seen().iter().any(|t| t.user.as_deref() == Some(USER)
            && t.scopes.iter().any(|s| s == "repository:tok/img:pull,push")),
        "{:#?}",
        tokens.seen()
    );
    let got = env.path("got");
    ok(
        env.ferry(),
        &[
            "copy",
            "--src-tls-verify=false",
            "--src-creds",
            &creds,
            &image,
            &format!("dir:{}", got.display()),
        ],
    );
    let want = env.path("want");
    ok(
        env.ferry(),
        &[
            "copy",
            &source(&s, Transport::Dir),
            &format!("dir:{}", want.display()),
        ],
    );
    ok_or_fail(
        "pulled with a token (B) vs the original (A)",
        diff_trees(&want, &got),
    );

    // Anonymous: no pull access.
    let (code, err) = fails(env.ferry(), &["inspect", "--tls-verify=false", &image]);
    assert_eq!(code, 1, "{err}");
    // --registry-token: sent as is, no exchange.
    let before = tokens.seen().len();
    let token = tokens.issue_for(USER, &["repository:tok/img:pull"]);
    ok(
        env.ferry(),
        &[
            "inspect",
            "--tls-verify=false",
            "--no-tags",
            "--registry-token",
            &token,
            &image,
        ],
    );
    assert_eq!(
        tokens.seen().len(),
        before,
        "--registry-token went to the token server"
    );

    let (code, err) = fails(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "-p",
            WRONG,
            &host,
        ],
    );
    assert_eq!(
        (code, ferry_error(&err)),
        (
            1,
            format!("logging into \"{host}\": invalid username/password")
        )
    );
    assert!(!err.contains(WRONG));
    ok(
        env.ferry(),
        &[
            "login",
            "--tls-verify=false",
            "-u",
            USER,
            "-p",
            PASSWORD,
            &host,
        ],
    );
    ok(env.ferry(), &["inspect", "--tls-verify=false", &image]);
}
