//! Command-line definitions (one module per skopeo command) and dispatch.
//!
//! Parsing is clap's builder API configured to behave like cobra/pflag (see `flags`);
//! help is rendered in cobra's layout (see `help`); clap's parse errors are rewritten to
//! pflag's texts (`unknown flag: --x`, `invalid argument "v" for "--x" flag: …`).

pub mod completion;
pub mod copy;
pub mod delete;
pub mod flags;
pub mod global;
pub mod goparse;
pub mod help;
pub mod inspect;
mod inspect_data;
pub mod layers;
pub mod list_tags;
pub mod login;
pub mod manifest_digest;
pub mod proxy;
pub mod signing;
pub mod sync;
pub mod unimplemented;

use std::fmt;

use anyhow::Result;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, ArgMatches, Command};

use self::global::GlobalOptions;
use self::help::BIN;

/// What a command handler gets.
pub struct Invocation<'a> {
    pub global: &'a GlobalOptions,
    /// Root matches (global flags).
    pub root: &'a ArgMatches,
    /// The subcommand's matches.
    pub matches: &'a ArgMatches,
    /// Positional arguments.
    pub args: Vec<String>,
}

impl Invocation<'_> {
    /// Fails if a flag whose behaviour is not implemented yet was given.
    pub fn check_unimplemented(&self) -> Result<()> {
        unimplemented::check(self.root, self.matches)
    }
}

/// skopeo's `errorShouldDisplayUsage`: the command's help is printed (to stderr) before
/// the error.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns a usage error (help + message) unless `args` has exactly `n` entries.
pub fn expect_args(args: &[String], n: usize, message: &str) -> Result<()> {
    if args.len() != n {
        return Err(UsageError(message.to_string()).into());
    }
    Ok(())
}

/// The transports named in help texts.
pub const TRANSPORTS: &str = "containers-storage, dir, docker, docker-archive, docker-daemon, oci, oci-archive, sif, tarball";

/// Adds what every subcommand has: `-h/--help`, positional arguments, pflag's
/// "last occurrence wins".
fn finish(cmd: Command) -> Command {
    let name = cmd.get_name().to_string();
    cmd.disable_help_flag(true)
        .args_override_self(true)
        .arg(help_flag(&name))
        .arg(
            Arg::new("args")
                .num_args(0..)
                .action(ArgAction::Append)
                .value_name("ARGS")
                .hide(true),
        )
}

fn help_flag(name: &str) -> Arg {
    flags::bool_flag("help", "")
        .help(format!("help for {name}"))
        .short('h')
}

/// The whole command tree.
pub fn build() -> Command {
    let subcommands = [
        copy::command(),
        delete::command(),
        inspect::command(),
        list_tags::command(),
        login::login_command(),
        login::logout_command(),
        manifest_digest::command(),
        signing::standalone_sign_command(),
        signing::standalone_verify_command(),
        signing::untrusted_dump_command(),
        signing::generate_sigstore_key_command(),
        sync::command(),
        layers::command(),
        proxy::command(),
        completion::command(),
    ];
    Command::new(BIN)
        .about("Various operations with container images and container image registries")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .args_override_self(true)
        .args(global::global_flags())
        .arg(help_flag(BIN))
        .subcommands(subcommands.into_iter().map(finish))
        .subcommand(
            Command::new("help")
                .about("Help about any command")
                .hide(true)
                .arg(Arg::new("topic").num_args(0..).action(ArgAction::Append)),
        )
}

/// The version line (`-v`).
pub fn version_line() -> String {
    format!(
        "{BIN} version {} (skopeo-compatible 1.9.3)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Parses `argv` and runs the selected command. Help and version go to stdout.
pub fn run(argv: Vec<String>) -> Result<()> {
    let mut cmd = build();
    let root = match cmd.try_get_matches_from_mut(argv) {
        Ok(m) => m,
        Err(e) => return Err(anyhow::anyhow!(translate_clap_error(&e))),
    };
    let global = GlobalOptions::from_matches(&root);
    crate::logging::set_debug(global.debug);
    crate::logging::debug(version_line());
    if global.tls_verify.is_some() {
        crate::logging::warn(
            "'--tls-verify' is deprecated, please set this on the specific subcommand",
        );
    }
    let Some((name, sub)) = root.subcommand() else {
        if flags::get_bool(&root, "help") {
            print!("{}", help::render(&cmd, true));
            return Ok(());
        }
        if flags::get_bool(&root, "version") {
            println!("{}", version_line());
            return Ok(());
        }
        anyhow::bail!("Missing command '{BIN} COMMAND'\nTry '{BIN} --help' for more information");
    };
    if name == "help" {
        return help_command(&cmd, sub);
    }
    let Some(sub_cmd) = cmd.find_subcommand(name) else {
        anyhow::bail!("Unrecognized command `{BIN} {name}`");
    };
    if flags::get_bool(sub, "help") {
        print!("{}", help::render(sub_cmd, false));
        return Ok(());
    }
    let inv = Invocation {
        global: &global,
        root: &root,
        matches: sub,
        args: flags::get_strings(sub, "args"),
    };
    let result = dispatch(name, &inv, sub_cmd);
    if let Err(e) = &result
        && e.downcast_ref::<UsageError>().is_some()
    {
        eprint!("{}", help::render(sub_cmd, false));
    }
    result
}

fn dispatch(name: &str, inv: &Invocation<'_>, sub_cmd: &Command) -> Result<()> {
    match name {
        "copy" => copy::run(inv),
        "delete" => delete::run(inv),
        "inspect" => inspect::run(inv),
        "list-tags" => list_tags::run(inv),
        "login" => login::run_login(inv),
        "logout" => login::run_logout(inv),
        "manifest-digest" => manifest_digest::run(inv),
        "standalone-sign" => signing::run_standalone_sign(inv),
        "standalone-verify" => signing::run_standalone_verify(inv),
        "untrusted-signature-dump-without-verification" => signing::run_untrusted_dump(inv),
        "generate-sigstore-key" => signing::run_generate_sigstore_key(inv),
        "sync" => sync::run(inv),
        "layers" => layers::run(inv),
        "experimental-image-proxy" => proxy::run(inv),
        "completion" => completion::run(inv, sub_cmd),
        _ => anyhow::bail!("Unrecognized command `{BIN} {name}`"),
    }
}

/// `ferry help [COMMAND]`.
fn help_command(cmd: &Command, sub: &ArgMatches) -> Result<()> {
    let topic: Vec<String> = sub
        .get_many::<String>("topic")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    match topic.first() {
        None => print!("{}", help::render(cmd, true)),
        Some(t) => match cmd.find_subcommand(t) {
            Some(c) => print!("{}", help::render(c, false)),
            None => {
                println!("Unknown help topic [`{t}`]");
                print!("{}", help::render(cmd, true));
            }
        },
    }
    Ok(())
}

/// Rewrites clap's parse errors to pflag/cobra's wording.
pub fn translate_clap_error(e: &clap::Error) -> String {
    let ctx = |k: ContextKind| -> Option<String> {
        match e.get(k)? {
            ContextValue::String(s) => Some(s.clone()),
            ContextValue::StyledStr(s) => Some(s.to_string()),
            ContextValue::Strings(v) => v.first().cloned(),
            _ => None,
        }
    };
    // "--retry-times <int>" / "--all[=<all>]" / "-f <string>" → the flag itself.
    let flag_name = |s: String| -> String {
        s.split([' ', '['])
            .next()
            .unwrap_or_default()
            .split(',')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg).unwrap_or_default();
            if arg.starts_with("--") {
                format!("unknown flag: {}", flag_name(arg))
            } else if let Some(c) = arg.strip_prefix('-').and_then(|s| s.chars().next()) {
                format!("unknown shorthand flag: '{c}' in {arg}")
            } else {
                format!("unknown command {arg:?}")
            }
        }
        ErrorKind::InvalidSubcommand => {
            let name = ctx(ContextKind::InvalidSubcommand).unwrap_or_default();
            format!("Unrecognized command `{BIN} {name}`\nTry '{BIN} --help' for more information")
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = flag_name(ctx(ContextKind::InvalidArg).unwrap_or_default());
            let value = ctx(ContextKind::InvalidValue).unwrap_or_default();
            if value.is_empty() && e.kind() == ErrorKind::InvalidValue {
                return format!("flag needs an argument: {arg}");
            }
            let reason = std::error::Error::source(e)
                .map(ToString::to_string)
                .unwrap_or_else(|| "invalid value".to_string());
            format!("invalid argument {value:?} for {arg:?} flag: {reason}")
        }
        ErrorKind::NoEquals => {
            let arg = flag_name(ctx(ContextKind::InvalidArg).unwrap_or_default());
            format!("flag needs an argument: {arg}")
        }
        _ => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    }
}

#[cfg(test)]
mod tests;
