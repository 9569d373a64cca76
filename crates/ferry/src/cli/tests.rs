//! Parsing tests: flag values as the commands read them.

use clap::ArgMatches;

use super::flags::{self, DestOptions, ImageOptions, RetryOptions};
use super::global::GlobalOptions;
use super::goparse::GoDuration;

fn parse(args: &[&str]) -> (ArgMatches, ArgMatches) {
    let mut argv = vec!["ferry"];
    argv.extend_from_slice(args);
    let root = super::build()
        .try_get_matches_from(argv)
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let sub = root.subcommand().map(|(_, m)| m.clone()).unwrap();
    (root, sub)
}

fn positional(m: &ArgMatches) -> Vec<String> {
    flags::get_strings(m, "args")
}

#[test]
fn prefixed_registry_flags() {
    let (_, m) = parse(&[
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify",
        "--screds",
        "u:p",
        "--dcreds=a:b",
        "--src-registry-token",
        "-tok",
        "--dest-shared-blob-dir",
        "/blobs",
        "s:a",
        "d:b",
    ]);
    let src = ImageOptions::from_matches(&m, "src-");
    let dest = ImageOptions::from_matches(&m, "dest-");
    assert_eq!(src.tls_verify, Some(false));
    assert_eq!(dest.tls_verify, Some(true));
    assert_eq!(src.creds.as_deref(), Some("u:p"));
    assert_eq!(dest.creds.as_deref(), Some("a:b"));
    assert_eq!(src.registry_token.as_deref(), Some("-tok"));
    assert_eq!(dest.shared_blob_dir.as_deref(), Some("/blobs"));
    assert_eq!(positional(&m), vec!["s:a", "d:b"]);
}

#[test]
fn dest_compression_flags() {
    let (_, m) = parse(&[
        "copy",
        "--dest-compress-format",
        "zstd",
        "--dest-compress-level=19",
        "--dest-oci-accept-uncompressed-layers",
        "a:b",
        "c:d",
    ]);
    let d = DestOptions::from_matches(&m, "dest-");
    assert_eq!(d.compress_format.as_deref(), Some("zstd"));
    assert_eq!(d.compress_level, Some(19));
    assert!(d.oci_accept_uncompressed_layers);
    assert!(!d.compress);
}

#[test]
fn bools_follow_pflag() {
    let (_, m) = parse(&["copy", "--all", "false", "a:b"]);
    assert!(flags::get_bool(&m, "all"));
    assert_eq!(positional(&m), vec!["false", "a:b"]);
    let (_, m) = parse(&["copy", "--all=false", "-q", "a:b", "c:d"]);
    assert!(!flags::get_bool(&m, "all"));
    assert!(flags::get_bool(&m, "quiet"));
    // Last occurrence wins.
    let (_, m) = parse(&["copy", "--all", "--all=0", "--format", "oci", "-f", "v2s2"]);
    assert!(!flags::get_bool(&m, "all"));
    assert_eq!(flags::get_str(&m, "format").as_deref(), Some("v2s2"));
    // Unset optional bools stay unset (registries.conf decides).
    let (_, m) = parse(&["inspect", "x:y"]);
    assert_eq!(flags::get_opt_bool(&m, "tls-verify"), None);
}

#[test]
fn lists_accumulate_and_split() {
    let (_, m) = parse(&[
        "copy",
        "--additional-tag",
        "a:1,b:2",
        "--additional-tag=c:3",
        "--encrypt-layer",
        "0,-1",
        "x:y",
        "z:w",
    ]);
    assert_eq!(
        flags::get_strings(&m, "additional-tag"),
        vec!["a:1", "b:2", "c:3"]
    );
    let layers: Vec<i64> = m
        .get_many::<i64>("encrypt-layer")
        .unwrap()
        .copied()
        .collect();
    assert_eq!(layers, vec![0, -1]);
}

#[test]
fn globals_anywhere() {
    let (root, _) = parse(&[
        "copy",
        "--insecure-policy",
        "--override-arch=arm64",
        "a:b",
        "c:d",
    ]);
    let g = GlobalOptions::from_matches(&root);
    assert!(g.insecure_policy);
    assert_eq!(g.override_arch.as_deref(), Some("arm64"));
    let (root, _) = parse(&[
        "--debug",
        "--command-timeout",
        "1m30s",
        "--tmpdir",
        "/t",
        "inspect",
        "x:y",
    ]);
    let g = GlobalOptions::from_matches(&root);
    assert!(g.debug);
    assert_eq!(g.command_timeout, Some(GoDuration(90_000_000_000)));
    assert_eq!(g.tmpdir.as_deref(), Some("/t"));
    let (root, _) = parse(&["--tls-verify=false", "inspect", "x:y"]);
    assert_eq!(GlobalOptions::from_matches(&root).tls_verify, Some(false));
}

#[test]
fn retry_flags() {
    let (_, m) = parse(&["inspect", "--retry-times", "3", "--retry-delay=2s", "x:y"]);
    assert_eq!(
        RetryOptions::from_matches(&m),
        RetryOptions {
            times: 3,
            delay: GoDuration(2_000_000_000)
        }
    );
}

#[test]
fn sync_and_login_short_flags() {
    let (_, m) = parse(&["sync", "-s", "docker", "-d", "dir", "-a", "a", "b"]);
    assert_eq!(flags::get_str(&m, "src").as_deref(), Some("docker"));
    assert_eq!(flags::get_str(&m, "dest").as_deref(), Some("dir"));
    assert!(flags::get_bool(&m, "all"));
    let (_, m) = parse(&["login", "-u", "me", "-p", "pw", "-v", "quay.io"]);
    assert_eq!(flags::get_str(&m, "username").as_deref(), Some("me"));
    assert!(flags::get_bool(&m, "verbose"));
}

#[test]
fn every_not_implemented_flag_exists_somewhere() {
    let cmd = super::build();
    for id in super::unimplemented::NOT_IMPLEMENTED {
        let found = cmd.get_arguments().any(|a| a.get_id() == *id)
            || cmd
                .get_subcommands()
                .any(|s| s.get_arguments().any(|a| a.get_id() == *id));
        assert!(
            found,
            "--{id} is listed as not implemented but no command defines it"
        );
    }
}

#[test]
fn clap_errors_are_translated() {
    let err = |args: &[&str]| {
        let mut argv = vec!["ferry"];
        argv.extend_from_slice(args);
        let e = super::build().try_get_matches_from(argv).unwrap_err();
        super::translate_clap_error(&e)
    };
    assert_eq!(err(&["copy", "--nope"]), "unknown flag: --nope");
    assert_eq!(err(&["copy", "-Z"]), "unknown shorthand flag: 'Z' in -Z");
    assert_eq!(err(&["copy", "-f"]), "flag needs an argument: --format");
    assert_eq!(
        err(&["copy", "--image-parallel-copies", "-1"]),
        "invalid argument \"-1\" for \"--image-parallel-copies\" flag: strconv.ParseUint: parsing \"-1\": invalid syntax"
    );
    assert_eq!(
        err(&["nope"]),
        "Unrecognized command `ferry nope`\nTry 'ferry --help' for more information"
    );
}

#[test]
fn command_tree_is_valid() {
    super::build().debug_assert();
}
