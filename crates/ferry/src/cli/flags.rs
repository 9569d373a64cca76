//! Flag builders with pflag semantics, and skopeo's shared flag families (`utils.go`):
//! per-image registry flags with an optional `src-`/`dest-` prefix, destination
//! compression flags, retry flags.
//!
//! pflag rules reproduced here: a boolean takes a value only with `=` (`--x`, `--x=false`;
//! `--x false` sets x and leaves `false` as an argument); a repeated flag overrides the
//! previous value (set on every command with `args_override_self`); list flags accumulate
//! and split on commas; a value flag takes the next argument even if it starts with `-`.
//!
//! The `value_name` of an argument is what pflag prints after the flag name in the help
//! (`string`, `int`, `PATH`…); boolean flags have none.

use clap::{Arg, ArgAction, ArgMatches};

use super::goparse::{self, GoDuration};

/// A boolean flag: `--name`, `--name=BOOL`.
pub fn bool_flag(name: &str, help: &'static str) -> Arg {
    Arg::new(name.to_string())
        .long(name.to_string())
        .help(help)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .value_parser(goparse::parse_bool)
        .action(ArgAction::Set)
}

/// A string flag (pflag `StringVar` / `OptionalString`); `var` is the help's value name.
pub fn string_flag(name: &str, var: &'static str, help: &'static str) -> Arg {
    Arg::new(name.to_string())
        .long(name.to_string())
        .help(help)
        .value_name(var)
        .num_args(1)
        .allow_hyphen_values(true)
        .action(ArgAction::Set)
}

/// An `int` flag.
pub fn int_flag(name: &str, var: &'static str, help: &'static str) -> Arg {
    string_flag(name, var, help).value_parser(goparse::parse_int)
}

/// A `uint` flag.
pub fn uint_flag(name: &str, var: &'static str, help: &'static str) -> Arg {
    string_flag(name, var, help).value_parser(goparse::parse_uint)
}

/// A `duration` flag (Go syntax: `1m30s`).
pub fn duration_flag(name: &str, help: &'static str) -> Arg {
    string_flag(name, "duration", help).value_parser(goparse::parse_duration)
}

/// A `strings` flag: repeatable, comma-separated values accumulate.
pub fn strings_flag(name: &str, help: &'static str) -> Arg {
    string_flag(name, "strings", help)
        .action(ArgAction::Append)
        .value_delimiter(',')
}

/// An `ints` flag: repeatable, comma-separated integers accumulate.
pub fn ints_flag(name: &str, help: &'static str) -> Arg {
    strings_flag(name, help)
        .value_name("ints")
        .value_parser(goparse::parse_int)
}

// ---------------------------------------------------------------------------------------
// Reading values back.

/// Whether the flag was given (clap sets no defaults here, so present = given).
pub fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(m.try_contains_id(id), Ok(true))
}

/// A boolean flag's value (absent = false).
pub fn get_bool(m: &ArgMatches, id: &str) -> bool {
    get_opt_bool(m, id).unwrap_or(false)
}

/// An optional boolean (`OptionalBool`): `None` when the flag was not given.
pub fn get_opt_bool(m: &ArgMatches, id: &str) -> Option<bool> {
    m.try_get_one::<bool>(id).ok().flatten().copied()
}

/// A string flag's value, `None` when not given (pflag `OptionalString.Present()`).
pub fn get_str(m: &ArgMatches, id: &str) -> Option<String> {
    m.try_get_one::<String>(id).ok().flatten().cloned()
}

/// A string flag whose empty value means "not set" (pflag `StringVar` with `""` default).
pub fn get_nonempty(m: &ArgMatches, id: &str) -> Option<String> {
    get_str(m, id).filter(|s| !s.is_empty())
}

pub fn get_strings(m: &ArgMatches, id: &str) -> Vec<String> {
    m.try_get_many::<String>(id)
        .ok()
        .flatten()
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

pub fn get_int(m: &ArgMatches, id: &str) -> Option<i64> {
    m.try_get_one::<i64>(id).ok().flatten().copied()
}

pub fn get_uint(m: &ArgMatches, id: &str) -> Option<u64> {
    m.try_get_one::<u64>(id).ok().flatten().copied()
}

pub fn get_duration(m: &ArgMatches, id: &str) -> Option<GoDuration> {
    m.try_get_one::<GoDuration>(id).ok().flatten().copied()
}

// ---------------------------------------------------------------------------------------
// Families (skopeo `cmd/skopeo/utils.go`).

const AUTHFILE_HELP: &str =
    "path of the authentication file. Default is ${XDG_RUNTIME_DIR}/containers/auth.json";

/// `sharedImageFlags`: `--authfile` (never prefixed).
pub fn shared_image_flags() -> Vec<Arg> {
    vec![string_flag("authfile", "string", AUTHFILE_HELP)]
}

/// `dockerImageFlags`: registry access flags with `prefix` (`""`, `src-`, `dest-`);
/// `creds_alias` is the hidden legacy name (`screds`/`dcreds`).
pub fn docker_image_flags(prefix: &str, creds_alias: Option<&'static str>) -> Vec<Arg> {
    let p = |n: &str| format!("{prefix}{n}");
    let mut v = Vec::new();
    if !prefix.is_empty() {
        v.push(string_flag(&p("authfile"), "string", AUTHFILE_HELP));
    }
    let mut creds = string_flag(
        &p("creds"),
        "USERNAME[:PASSWORD]",
        "Use USERNAME[:PASSWORD] for accessing the registry",
    );
    if let Some(alias) = creds_alias {
        creds = creds.alias(alias);
    }
    v.push(creds);
    v.push(string_flag(
        &p("username"),
        "string",
        "Username for accessing the registry",
    ));
    v.push(string_flag(
        &p("password"),
        "string",
        "Password for accessing the registry",
    ));
    v.push(string_flag(
        &p("cert-dir"),
        "PATH",
        "use certificates at PATH (*.crt, *.cert, *.key) to connect to the registry or daemon",
    ));
    v.push(bool_flag(
        &p("tls-verify"),
        "require HTTPS and verify certificates when talking to the container registry or daemon",
    ));
    v.push(bool_flag(&p("no-creds"), "Access the registry anonymously"));
    v.push(string_flag(
        &p("registry-token"),
        "string",
        "Provide a Bearer token for accessing the registry",
    ));
    v
}

/// `imageFlags`: `dockerImageFlags` plus `shared-blob-dir` and `daemon-host`.
pub fn image_flags(prefix: &str, creds_alias: Option<&'static str>) -> Vec<Arg> {
    let mut v = docker_image_flags(prefix, creds_alias);
    v.push(string_flag(
        &format!("{prefix}shared-blob-dir"),
        "DIRECTORY",
        "DIRECTORY to use to share blobs across OCI repositories",
    ));
    v.push(string_flag(
        &format!("{prefix}daemon-host"),
        "HOST",
        "use docker daemon host at HOST (docker-daemon: only)",
    ));
    v
}

/// `imageDestFlags`: `imageFlags` plus the destination compression flags.
pub fn image_dest_flags(prefix: &str, creds_alias: Option<&'static str>) -> Vec<Arg> {
    let p = |n: &str| format!("{prefix}{n}");
    let mut v = image_flags(prefix, creds_alias);
    v.push(bool_flag(
        &p("compress"),
        "Compress tarball image layers when saving to directory using the 'dir' transport. (default is same compression type as source)",
    ));
    v.push(bool_flag(
        &p("decompress"),
        "Decompress tarball image layers when saving to directory using the 'dir' transport. (default is same compression type as source)",
    ));
    v.push(bool_flag(
        &p("oci-accept-uncompressed-layers"),
        "Allow uncompressed image layers when saving to an OCI image using the 'oci' transport. (default is to compress things that aren't compressed)",
    ));
    v.push(string_flag(
        &p("compress-format"),
        "FORMAT",
        "FORMAT to use for the compression",
    ));
    v.push(int_flag(
        &p("compress-level"),
        "LEVEL",
        "LEVEL to use for the compression",
    ));
    v.push(bool_flag(
        &p("precompute-digests"),
        "Precompute digests to prevent uploading layers already on the registry using the 'docker' transport.",
    ));
    v.push(bool_flag(
        &p("force-compress-format"),
        "Enforce exact compression format",
    ));
    v
}

/// `retryFlags`.
pub fn retry_flags() -> Vec<Arg> {
    vec![
        int_flag(
            "retry-times",
            "int",
            "the number of times to possibly retry",
        ),
        duration_flag(
            "retry-delay",
            "Fixed delay between retries. If not set (or set to 0), retry wait time will be exponentially increased based on the number of failed attempts",
        ),
    ]
}

/// The hidden, deprecated `--tls-verify` of `copy`/`sync`.
pub fn deprecated_tls_verify_flag() -> Arg {
    bool_flag(
        "tls-verify",
        "require HTTPS and verify certificates when accessing the container registry",
    )
    .hide(true)
}

// ---------------------------------------------------------------------------------------
// Option structs read from matches.

/// `dockerImageOptions` (+ `imageOptions`' two extra fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageOptions {
    /// `--PREFIXauthfile` (prefixed commands only).
    pub auth_file: Option<String>,
    pub creds: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub cert_dir: Option<String>,
    pub tls_verify: Option<bool>,
    pub no_creds: bool,
    pub registry_token: Option<String>,
    pub shared_blob_dir: Option<String>,
    pub daemon_host: Option<String>,
}

impl ImageOptions {
    pub fn from_matches(m: &ArgMatches, prefix: &str) -> ImageOptions {
        let p = |n: &str| format!("{prefix}{n}");
        ImageOptions {
            auth_file: if prefix.is_empty() {
                None
            } else {
                get_str(m, &p("authfile"))
            },
            creds: get_str(m, &p("creds")),
            username: get_str(m, &p("username")),
            password: get_str(m, &p("password")),
            cert_dir: get_nonempty(m, &p("cert-dir")),
            tls_verify: get_opt_bool(m, &p("tls-verify")),
            no_creds: get_bool(m, &p("no-creds")),
            registry_token: get_str(m, &p("registry-token")),
            shared_blob_dir: get_nonempty(m, &p("shared-blob-dir")),
            daemon_host: get_nonempty(m, &p("daemon-host")),
        }
    }
}

/// `imageDestOptions`: compression settings of the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DestOptions {
    pub compress: bool,
    pub decompress: bool,
    pub oci_accept_uncompressed_layers: bool,
    pub compress_format: Option<String>,
    pub compress_level: Option<i64>,
    pub precompute_digests: bool,
    pub force_compress_format: bool,
}

impl DestOptions {
    pub fn from_matches(m: &ArgMatches, prefix: &str) -> DestOptions {
        let p = |n: &str| format!("{prefix}{n}");
        DestOptions {
            compress: get_bool(m, &p("compress")),
            decompress: get_bool(m, &p("decompress")),
            oci_accept_uncompressed_layers: get_bool(m, &p("oci-accept-uncompressed-layers")),
            compress_format: get_str(m, &p("compress-format")),
            compress_level: get_int(m, &p("compress-level")),
            precompute_digests: get_bool(m, &p("precompute-digests")),
            force_compress_format: get_bool(m, &p("force-compress-format")),
        }
    }
}

/// `retry.Options`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryOptions {
    pub times: i64,
    pub delay: GoDuration,
}

impl RetryOptions {
    pub fn from_matches(m: &ArgMatches) -> RetryOptions {
        RetryOptions {
            times: get_int(m, "retry-times").unwrap_or(0),
            delay: get_duration(m, "retry-delay").unwrap_or_default(),
        }
    }
}
