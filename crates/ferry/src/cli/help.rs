//! Help output in cobra/pflag's layout, so `ferry CMD --help` reads like
//! `skopeo CMD --help`: long description, `Usage:`, `Examples:`, and a `Flags:` table
//! sorted by name with pflag's column alignment.
//!
//! Command metadata lives in clap's fields: `about` = cobra `Short`, `long_about` =
//! `Long`, `before_help` = the use line, `after_help` = the examples.

use clap::{Arg, Command};

/// The binary name used in help texts.
pub const BIN: &str = "ferry";

/// Help for `cmd`; `root` selects the root layout (command list, global flags).
pub fn render(cmd: &Command, root: bool) -> String {
    if root {
        render_root(cmd)
    } else {
        render_sub(cmd)
    }
}

fn description(cmd: &Command) -> String {
    let long = cmd.get_long_about().map(ToString::to_string);
    let short = cmd.get_about().map(ToString::to_string);
    long.or(short).unwrap_or_default().trim_end().to_string()
}

fn render_sub(cmd: &Command) -> String {
    let mut out = String::new();
    let desc = description(cmd);
    if !desc.is_empty() {
        out.push_str(&desc);
        out.push_str("\n\n");
    }
    let usage = cmd
        .get_before_help()
        .map(ToString::to_string)
        .unwrap_or_else(|| format!("{BIN} {}", cmd.get_name()));
    out.push_str("Usage:\n");
    out.push_str(&usage);
    out.push('\n');
    let subs: Vec<&Command> = cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    if !subs.is_empty() {
        out.push_str("\nAvailable Commands:\n");
        out.push_str(&command_list(&subs));
    }
    if let Some(ex) = cmd.get_after_help() {
        out.push_str("\nExamples:\n");
        out.push_str(ex.to_string().trim_end());
        out.push('\n');
    }
    let local: Vec<&Arg> = cmd.get_arguments().filter(|a| !a.is_global_set()).collect();
    out.push_str("\nFlags:\n");
    out.push_str(&flag_usages(&local));
    out.push('\n');
    out
}

fn render_root(cmd: &Command) -> String {
    let mut out = String::new();
    out.push_str(&description(cmd));
    out.push_str("\n\nUsage:\n");
    out.push_str(&format!("  {BIN} [flags]\n  {BIN} [command]\n"));
    let subs: Vec<&Command> = cmd.get_subcommands().filter(|c| !c.is_hide_set()).collect();
    out.push_str("\nAvailable Commands:\n");
    out.push_str(&command_list(&subs));
    out.push_str("\nFlags:\n");
    let args: Vec<&Arg> = cmd.get_arguments().collect();
    out.push_str(&flag_usages(&args));
    out.push_str(&format!(
        "\nUse \"{BIN} [command] --help\" for more information about a command.\n"
    ));
    out
}

fn command_list(subs: &[&Command]) -> String {
    let width = subs
        .iter()
        .map(|c| c.get_name().len())
        .max()
        .unwrap_or(0)
        .max(11);
    let mut names: Vec<(&str, String)> = subs
        .iter()
        .map(|c| {
            (
                c.get_name(),
                c.get_about().map(ToString::to_string).unwrap_or_default(),
            )
        })
        .collect();
    names.push(("help", "Help about any command".to_string()));
    names.sort();
    names
        .into_iter()
        .map(|(n, about)| format!("  {n:<width$} {about}\n"))
        .collect()
}

/// pflag's `FlagUsages`: one line per visible flag, sorted by long name, help aligned
/// three spaces after the longest `-s, --name VALUE` column.
pub fn flag_usages(args: &[&Arg]) -> String {
    let mut rows: Vec<(String, String)> = args
        .iter()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .filter_map(|a| {
            let long = a.get_long()?;
            let mut left = match a.get_short() {
                Some(s) => format!("  -{s}, --{long}"),
                None => format!("      --{long}"),
            };
            if let Some(v) = a.get_value_names().and_then(|v| v.first())
                && !is_optional_bool(a)
            {
                left.push(' ');
                left.push_str(v.as_str());
            }
            let help = a.get_help().map(ToString::to_string).unwrap_or_default();
            Some((long.to_string(), format!("{left}\u{0}{help}")))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let maxlen = rows
        .iter()
        .map(|(_, l)| l.find('\u{0}').unwrap_or(0) + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (_, line) in rows {
        let (left, help) = line.split_once('\u{0}').unwrap_or((&line, ""));
        let spacing = " ".repeat(maxlen - left.len());
        out.push_str(&format!("{left} {spacing} {help}\n"));
    }
    out
}

/// Boolean flags (`--x[=BOOL]`) print no value name, like pflag's `NoOptDefVal="true"`.
fn is_optional_bool(a: &Arg) -> bool {
    a.get_num_args().is_some_and(|r| r.min_values() == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::flags::{bool_flag, string_flag};

    #[test]
    fn aligns_like_pflag() {
        let a = bool_flag("all", "Copy all").short('a');
        let b = string_flag("dest-shared-blob-dir", "DIRECTORY", "share");
        let c = string_flag("zz", "string", "hidden").hide(true);
        let out = flag_usages(&[&b, &a, &c]);
        // The help column starts 3 spaces after the longest left part (38 chars).
        let expected = format!(
            "  -a, --all{}Copy all\n      --dest-shared-blob-dir DIRECTORY   share\n",
            " ".repeat(41 - 11)
        );
        assert_eq!(out, expected);
    }
}
