//! `ferry login` / `ferry logout` (skopeo `login.go`/`logout.go`, flags from
//! `common/pkg/auth/cli.go`). Parsing and argument checks are complete; storing
//! credentials is not implemented yet.

use anyhow::{Result, bail};
use clap::{Arg, Command};

use super::Invocation;
use super::flags::{self, bool_flag, string_flag};

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

pub fn run_login(inv: &Invocation<'_>) -> Result<()> {
    match inv.args.len() {
        0 => bail!("please provide a registry to login to"),
        1 => {}
        _ => bail!("login accepts only one registry to login to"),
    }
    let m = inv.matches;
    if flags::get_bool(m, "password-stdin") && flags::given(m, "password") {
        bail!("--password and --password-stdin are mutually exclusive");
    }
    inv.check_unimplemented()?;
    bail!("login is not implemented yet")
}

pub fn run_logout(inv: &Invocation<'_>) -> Result<()> {
    let all = flags::get_bool(inv.matches, "all");
    if inv.args.len() > 1 {
        bail!("logout accepts only one registry to logout from");
    }
    if inv.args.is_empty() && !all {
        bail!("please provide a registry to logout from");
    }
    if !inv.args.is_empty() && all {
        bail!("--all takes no arguments");
    }
    inv.check_unimplemented()?;
    bail!("logout is not implemented yet")
}
