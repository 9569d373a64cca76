//! `ferry login` / `ferry logout` (skopeo `login.go`/`logout.go`, the logic of
//! `common/pkg/auth/auth.go`, flags from `common/pkg/auth/cli.go`).
//!
//! Login validates the credentials against the registry (an authenticated `GET /v2/`)
//! before storing them in the primary auth file (or a Docker `config.json` with
//! `--compat-auth-file`, or a credential helper named in registries.conf). Keys may be
//! `host[:port]` or a repository path. Messages are skopeo's, printed on stdout.
//!
//! One deliberate difference: a missing password is read from stdin without a prompt
//! dance when stdin is not a terminal (skopeo fails with "inappropriate ioctl for
//! device"); on a terminal it is read without echo, as skopeo does.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Arg, Command};
use ferry_config::auth::{self, AuthPaths, Credential};
use ferry_config::registries::{RegistriesConf, RegistriesConfPaths};
use ferry_image::SystemContext;
use ferry_reference::Named;

use super::Invocation;
use super::flags::{self, bool_flag, string_flag};
use crate::settings;

fn auth_file_flags() -> Vec<Arg> {
    vec![
        string_flag(
            "authfile",
            "string",
            "path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override",
        ),
        string_flag(
            "compat-auth-file",
            "string",
            "path of a Docker-compatible config file to update instead",
        ),
    ]
}

fn tls_verify_flag() -> Arg {
    bool_flag(
        "tls-verify",
        "require HTTPS and verify certificates when accessing the registry",
    )
}

pub fn login_command() -> Command {
    Command::new("login")
        .about("Login to a container registry")
        .long_about("Login to a container registry on a specified server.")
        .before_help("ferry login [command options] REGISTRY")
        .after_help("ferry login quay.io")
        .args(auth_file_flags())
        .args([
            string_flag(
                "cert-dir",
                "string",
                "use certificates at the specified path to access the registry",
            ),
            bool_flag(
                "get-login",
                "Return the current login user for the registry",
            ),
            string_flag("password", "string", "Password for registry").short('p'),
            bool_flag("password-stdin", "Take the password from stdin"),
            string_flag("username", "string", "Username for registry").short('u'),
            bool_flag("verbose", "Write more detailed information to stdout").short('v'),
            tls_verify_flag(),
        ])
}

pub fn logout_command() -> Command {
    Command::new("logout")
        .about("Logout of a container registry")
        .long_about("Logout of a container registry on a specified server.")
        .before_help("ferry logout [command options] REGISTRY")
        .after_help("ferry logout quay.io")
        .args(auth_file_flags())
        .args([
            bool_flag(
                "all",
                "Remove the cached credentials for all registries in the auth file",
            )
            .short('a'),
            tls_verify_flag(),
        ])
}

/// Where credentials are read and written, and how the registry is reached.
struct Setup {
    paths: AuthPaths,
    /// `--authfile` (or `--compat-auth-file`); `None` = the default primary file.
    authfile: Option<PathBuf>,
    compat: bool,
    ctx: SystemContext,
}

impl Setup {
    fn new(inv: &Invocation<'_>, cert_dir: Option<String>) -> Result<Setup> {
        let m = inv.matches;
        let authfile = flags::get_nonempty(m, "authfile");
        let compat_file = flags::get_nonempty(m, "compat-auth-file");
        if authfile.is_some() && compat_file.is_some() {
            bail!(
                "options for paths to the credential file and to the Docker-compatible credential file can not be set simultaneously"
            );
        }
        let mut ctx = settings::global_context(inv.global);
        if let Some(v) = flags::get_opt_bool(m, "tls-verify") {
            ctx.docker.tls_verify = Some(v);
        }
        ctx.docker.cert_dir = cert_dir.map(PathBuf::from);
        let conf = RegistriesConf::load(&RegistriesConfPaths::from_env(
            ctx.docker.registries_conf.as_deref(),
        ))?;
        let paths = AuthPaths::from_env().with_credential_helpers(conf.credential_helpers());
        let compat = compat_file.is_some();
        let authfile = authfile.or(compat_file).map(PathBuf::from);
        ctx.docker.auth_file = authfile.clone();
        Ok(Setup {
            paths,
            authfile,
            compat,
            ctx,
        })
    }

    /// The stored credentials for `key` (c/image `GetCredentials`).
    fn lookup(&self, key: &str) -> Result<Option<Credential>> {
        auth::lookup(&self.paths, self.authfile.as_deref(), key).context("get credentials")
    }

    /// c/image `CheckAuth`: whether `registry` accepts these credentials.
    fn check_auth(&self, registry: &str, username: &str, password: &str) -> Result<()> {
        let mut ctx = self.ctx.clone();
        ctx.docker.creds = Some((username.to_string(), password.to_string()));
        ctx.docker.no_creds = false;
        ctx.docker.registry_token = None;
        ferry_image::transport::docker::check_auth(&registry_ref(registry)?, &ctx)?;
        Ok(())
    }
}

/// A reference on `registry` for the library calls that take one (only its domain is
/// used: no repository is contacted).
fn registry_ref(registry: &str) -> Result<Named> {
    Named::parse_normalized(&format!("{registry}/ferry-login"))
        .with_context(|| format!("invalid registry {registry:?}"))
}

pub fn run_login(inv: &Invocation<'_>) -> Result<()> {
    inv.check_unimplemented()?;
    let m = inv.matches;
    let (key, registry) = match inv.args.as_slice() {
        [] => bail!("please provide a registry to login to"),
        [one] => auth::parse_credentials_key(one, true)?,
        _ => bail!("login accepts only one registry to login to"),
    };
    let setup = Setup::new(inv, flags::get_nonempty(m, "cert-dir"))?;
    let existing = setup.lookup(&key)?;
    let (old_user, old_password) = match &existing {
        Some(Credential::Basic { username, password }) => (username.clone(), password.clone()),
        Some(Credential::IdentityToken { username, .. }) => (username.clone(), String::new()),
        None => (String::new(), String::new()),
    };
    let mut out = std::io::stdout();
    if flags::get_bool(m, "get-login") {
        if old_user.is_empty() {
            bail!("not logged into {key}");
        }
        writeln!(out, "{old_user}")?;
        return Ok(());
    }
    if matches!(existing, Some(Credential::IdentityToken { .. })) {
        bail!("currently logged in, auth file contains an Identity token");
    }
    let username = flags::get_str(m, "username").unwrap_or_default();
    let mut password = flags::get_str(m, "password").unwrap_or_default();
    if flags::get_bool(m, "password-stdin") {
        if !password.is_empty() {
            bail!("Can't specify both --password-stdin and --password");
        }
        if username.is_empty() {
            bail!("Must provide --username with --password-stdin");
        }
        password = read_password_stdin()?;
    }
    if username.is_empty()
        && password.is_empty()
        && !old_user.is_empty()
        && !old_password.is_empty()
    {
        writeln!(out, "Authenticating with existing credentials for {key}")?;
        if setup
            .check_auth(&registry, &old_user, &old_password)
            .is_ok()
        {
            writeln!(
                out,
                "Existing credentials are valid. Already logged in to {registry}"
            )?;
            return Ok(());
        }
        writeln!(
            out,
            "Existing credentials are invalid, please enter valid username and password"
        )?;
    }
    let (username, password) = user_and_password(username, password, &old_user)
        .context("getting username and password")?;
    if let Err(e) = setup.check_auth(&registry, &username, &password) {
        if is_unauthorized(&e) {
            crate::logging::debug(format!("error logging into {key:?}: {e:#}"));
            bail!("logging into {key:?}: invalid username/password");
        }
        return Err(e.context(format!("authenticating creds for {key:?}")));
    }
    let cred = Credential::Basic { username, password };
    let stored = auth::store(
        &setup.paths,
        setup.authfile.as_deref(),
        setup.compat,
        &key,
        &cred,
    )?;
    if flags::get_bool(m, "verbose") {
        writeln!(out, "Used:  {stored}")?;
    }
    writeln!(out, "Login Succeeded!")?;
    Ok(())
}

/// The registry rejected the credentials (c/image `ErrUnauthorizedForCredentials`).
fn is_unauthorized(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<ferry_registry::RegistryError>()
            .is_some_and(ferry_registry::RegistryError::is_unauthorized)
            || matches!(
                c.downcast_ref::<ferry_image::Error>(),
                Some(ferry_image::Error::Registry(r)) if r.is_unauthorized()
            )
    })
}

/// `--password-stdin`: every line of stdin, joined without line breaks (Go's
/// `bufio.Scanner` loop).
fn read_password_stdin() -> Result<String> {
    let mut all = String::new();
    std::io::stdin()
        .read_to_string(&mut all)
        .context("reading password from stdin")?;
    Ok(all.lines().collect())
}

/// c/common `getUserAndPass`: prompts for what is missing. An empty answer to the
/// username prompt keeps the user of the stored credentials.
fn user_and_password(
    username: String,
    password: String,
    user_from_file: &str,
) -> Result<(String, String)> {
    let mut out = std::io::stdout();
    let mut username = username;
    if username.is_empty() {
        if user_from_file.is_empty() {
            write!(out, "Username: ")?;
        } else {
            write!(out, "Username ({user_from_file}): ")?;
        }
        out.flush()?;
        let line = read_stdin_line().context("reading username")?;
        username = if line.trim().is_empty() {
            user_from_file.to_string()
        } else {
            line
        };
    }
    let mut password = password;
    if password.is_empty() {
        write!(out, "Password: ")?;
        out.flush()?;
        password = read_secret().context("reading password")?;
    }
    Ok((username.trim().to_string(), password))
}

/// One line of stdin without its line break; EOF before any byte is an error.
fn read_stdin_line() -> Result<String> {
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line)? == 0 {
        bail!("EOF");
    }
    let len = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(len);
    Ok(line)
}

/// A password: without echo from the terminal, else a line of stdin.
fn read_secret() -> Result<String> {
    if std::io::stdin().is_terminal() {
        let term = console::Term::stdout();
        let term = if term.is_term() {
            term
        } else {
            console::Term::stderr()
        };
        if term.is_term() {
            return Ok(term.read_secure_line()?);
        }
    }
    let line = read_stdin_line()?;
    println!();
    Ok(line)
}

/// c/common `CheckAuthFile`: an auth file given explicitly (or by
/// `$REGISTRY_AUTH_FILE`) must exist.
fn check_auth_file(path: Option<&str>) -> Result<()> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    std::fs::metadata(path)
        .map_err(|e| anyhow!("checking authfile: stat {path}: {}", go_io_error_text(&e)))?;
    Ok(())
}

/// Go's wording of common I/O errors (`no such file or directory`).
fn go_io_error_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_lowercase(),
        None => s,
    }
}

pub fn run_logout(inv: &Invocation<'_>) -> Result<()> {
    inv.check_unimplemented()?;
    let m = inv.matches;
    let env_authfile = std::env::var("REGISTRY_AUTH_FILE").ok();
    check_auth_file(
        flags::get_nonempty(m, "authfile")
            .as_deref()
            .or(env_authfile.as_deref()),
    )?;
    check_auth_file(flags::get_nonempty(m, "compat-auth-file").as_deref())?;
    let setup = Setup::new(inv, None)?;
    let mut out = std::io::stdout();
    if flags::get_bool(m, "all") {
        if !inv.args.is_empty() {
            bail!("--all takes no arguments");
        }
        auth::remove_all(&setup.paths, setup.authfile.as_deref(), setup.compat)?;
        writeln!(out, "Removed login credentials for all registries")?;
        return Ok(());
    }
    let (key, registry) = match inv.args.as_slice() {
        [] => bail!("please provide a registry to logout from"),
        [one] => auth::parse_credentials_key(one, true)?,
        _ => bail!("logout accepts only one registry to logout from"),
    };
    let removed = auth::remove(&setup.paths, setup.authfile.as_deref(), setup.compat, &key)
        .with_context(|| format!("logging out of {key:?}"))?;
    if removed {
        writeln!(out, "Removed login credentials for {key}")?;
        return Ok(());
    }
    // Not in the managed file: maybe in Docker's config, which we must not edit.
    if let Some(Credential::Basic { username, password }) = setup.lookup(&key)?
        && !username.is_empty()
        && !password.is_empty()
        && setup.check_auth(&registry, &username, &password).is_ok()
    {
        writeln!(
            out,
            "Not logged into {key} with current tool. Existing credentials were established via docker login. Please use docker logout instead."
        )?;
        return Ok(());
    }
    bail!("not logged into {key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_ref_keeps_the_host() {
        assert_eq!(
            registry_ref("127.0.0.1:5000").unwrap().domain(),
            "127.0.0.1:5000"
        );
        assert_eq!(registry_ref("quay.io").unwrap().domain(), "quay.io");
        assert!(registry_ref("UPPER CASE").is_err());
    }

    #[test]
    fn missing_auth_file_reads_like_go() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope.json");
        let err = check_auth_file(p.to_str()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "checking authfile: stat {}: no such file or directory",
                p.display()
            )
        );
        assert!(check_auth_file(dir.path().to_str()).is_ok());
        assert!(check_auth_file(None).is_ok());
    }
}
