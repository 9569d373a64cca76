//! Global flags (skopeo `cmd/skopeo/main.go`). Like cobra's persistent flags they are
//! accepted before the subcommand and after it; `--version` and the deprecated
//! `--tls-verify` are root-only, as in skopeo.

use clap::{Arg, ArgMatches};

use super::flags::{self, bool_flag, duration_flag, string_flag};
use super::goparse::GoDuration;

/// Root-level flags, in the order skopeo defines them.
pub fn global_flags() -> Vec<Arg> {
    let g = |a: Arg| a.global(true);
    vec![
        bool_flag("version", "Version for ferry").short('v'),
        g(bool_flag("debug", "enable debug output")),
        g(string_flag(
            "policy",
            "string",
            "Path to a trust policy file",
        )),
        g(bool_flag(
            "insecure-policy",
            "run the tool without any policy check",
        )),
        g(bool_flag(
            "require-signed",
            "require signature verification for every pulled image, regardless of the policy",
        )),
        g(string_flag(
            "registries.d",
            "DIR",
            "use registry configuration files in DIR (e.g. for container signature storage)",
        )),
        g(string_flag(
            "override-arch",
            "ARCH",
            "use ARCH instead of the architecture of the machine for choosing images",
        )),
        g(string_flag(
            "override-os",
            "OS",
            "use OS instead of the running OS for choosing images",
        )),
        g(string_flag(
            "override-variant",
            "VARIANT",
            "use VARIANT instead of the running architecture variant for choosing images",
        )),
        g(duration_flag(
            "command-timeout",
            "timeout for the command execution",
        )),
        g(string_flag(
            "registries-conf",
            "string",
            "path to the registries.conf file",
        )
        .hide(true)),
        g(string_flag(
            "tmpdir",
            "string",
            "directory used to store temporary files",
        )),
        g(string_flag(
            "tls-details",
            "PATH",
            "path to a containers-tls-details.yaml file",
        )),
        g(string_flag(
            "user-agent-prefix",
            "string",
            "prefix to add to the user agent string",
        )),
        bool_flag(
            "tls-verify",
            "Require HTTPS and verify certificates when accessing the registry",
        )
        .hide(true),
    ]
}

/// Global option values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobalOptions {
    pub debug: bool,
    pub policy: Option<String>,
    pub insecure_policy: bool,
    pub require_signed: bool,
    pub registries_d: Option<String>,
    pub override_arch: Option<String>,
    pub override_os: Option<String>,
    pub override_variant: Option<String>,
    pub command_timeout: Option<GoDuration>,
    pub registries_conf: Option<String>,
    pub tmpdir: Option<String>,
    pub tls_details: Option<String>,
    pub user_agent_prefix: Option<String>,
    /// Root-level deprecated `--tls-verify`.
    pub tls_verify: Option<bool>,
}

impl GlobalOptions {
    pub fn from_matches(root: &ArgMatches) -> GlobalOptions {
        GlobalOptions {
            debug: flags::get_bool(root, "debug"),
            policy: flags::get_nonempty(root, "policy"),
            insecure_policy: flags::get_bool(root, "insecure-policy"),
            require_signed: flags::get_bool(root, "require-signed"),
            registries_d: flags::get_nonempty(root, "registries.d"),
            override_arch: flags::get_nonempty(root, "override-arch"),
            override_os: flags::get_nonempty(root, "override-os"),
            override_variant: flags::get_nonempty(root, "override-variant"),
            command_timeout: flags::get_duration(root, "command-timeout"),
            registries_conf: flags::get_nonempty(root, "registries-conf"),
            tmpdir: flags::get_nonempty(root, "tmpdir"),
            tls_details: flags::get_nonempty(root, "tls-details"),
            user_agent_prefix: flags::get_nonempty(root, "user-agent-prefix"),
            tls_verify: flags::get_opt_bool(root, "tls-verify"),
        }
    }
}
