//! Command-line behaviour of the `ferry` binary: parsing like pflag, help, exit codes,
//! error texts, the not-yet-implemented guard, and `manifest-digest` against skopeo.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ferry");

fn ferry(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("running ferry")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Runs ferry and asserts the exit code, returning the output.
fn expect(args: &[&str], want: i32) -> Output {
    let o = ferry(args);
    assert_eq!(
        code(&o),
        want,
        "ferry {args:?}: exit {}\nstdout:\n{}\nstderr:\n{}",
        code(&o),
        stdout(&o),
        stderr(&o)
    );
    o
}

/// A flag error is reported before anything else happens.
fn assert_no_flag_error(o: &Output) {
    let e = stderr(o);
    for bad in [
        "unknown flag",
        "unknown shorthand",
        "invalid argument",
        "flag needs",
    ] {
        assert!(!e.contains(bad), "unexpected flag error: {e}");
    }
}

const COMMANDS: &[&str] = &[
    "copy",
    "delete",
    "inspect",
    "list-tags",
    "login",
    "logout",
    "manifest-digest",
    "standalone-sign",
    "standalone-verify",
    "untrusted-signature-dump-without-verification",
    "generate-sigstore-key",
    "sync",
    "layers",
    "experimental-image-proxy",
    "completion",
];

#[test]
fn help_of_every_command_exits_0() {
    let root = expect(&["--help"], 0);
    assert!(stdout(&root).contains("Available Commands:"));
    assert!(stdout(&root).contains("--insecure-policy"));
    for cmd in COMMANDS {
        for flag in ["--help", "-h"] {
            let o = expect(&[cmd, flag], 0);
            let out = stdout(&o);
            assert!(out.contains("Usage:"), "{cmd} {flag}: {out}");
            assert!(out.contains("help for"), "{cmd} {flag}: {out}");
            assert!(o.stderr.is_empty(), "{cmd} {flag}: {}", stderr(&o));
        }
        let o = expect(&["help", cmd], 0);
        assert!(stdout(&o).contains("Usage:"));
    }
}

#[test]
fn help_lists_skopeo_flags_with_pflag_layout() {
    let out = stdout(&expect(&["copy", "--help"], 0));
    for line in [
        "  -a, --all                                   Copy all images if SOURCE-IMAGE is a list",
        "      --dest-compress-format FORMAT           FORMAT to use for the compression",
        "      --src-tls-verify                        require HTTPS and verify certificates when talking to the container registry or daemon",
        "      --retry-times int                       the number of times to possibly retry",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
    // Hidden aliases and deprecated flags are accepted but not listed.
    for hidden in ["--screds", "--dcreds", "    --tls-verify"] {
        assert!(!out.contains(hidden), "{hidden} listed");
    }
}

#[test]
fn version() {
    for flag in ["-v", "--version"] {
        let o = expect(&[flag], 0);
        assert!(stdout(&o).starts_with("ferry version "), "{}", stdout(&o));
    }
}

#[test]
fn unknown_flags_and_commands_exit_1() {
    let o = expect(&["copy", "--bogus", "dir:/a", "dir:/b"], 1);
    assert_eq!(stderr(&o), "Error: unknown flag: --bogus\n");
    let o = expect(&["copy", "-z", "dir:/a", "dir:/b"], 1);
    assert_eq!(stderr(&o), "Error: unknown shorthand flag: 'z' in -z\n");
    let o = expect(&["--bogus", "copy"], 1);
    assert!(stderr(&o).contains("unknown flag: --bogus"));
    let o = expect(&["bogus"], 1);
    assert!(stderr(&o).contains("Unrecognized command `ferry bogus`"));
    let o = expect(&[], 1);
    assert!(stderr(&o).contains("Missing command 'ferry COMMAND'"));
    // pflag never abbreviates.
    let o = expect(&["copy", "--al", "dir:/a", "dir:/b"], 1);
    assert!(stderr(&o).contains("unknown flag: --al"));
    // Root-only flags are not accepted after the command.
    let o = expect(&["copy", "--version"], 1);
    assert!(stderr(&o).contains("unknown flag: --version"));
}

#[test]
fn bad_values_are_reported_like_pflag() {
    let o = expect(&["copy", "--src-tls-verify=maybe", "dir:/a", "dir:/b"], 1);
    assert_eq!(
        stderr(&o),
        "Error: invalid argument \"maybe\" for \"--src-tls-verify\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax\n"
    );
    let o = expect(&["copy", "--retry-times", "x", "dir:/a", "dir:/b"], 1);
    assert!(stderr(&o).contains(
        "invalid argument \"x\" for \"--retry-times\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"
    ));
    let o = expect(&["--command-timeout", "5", "copy"], 1);
    assert!(stderr(&o).contains("time: missing unit in duration \"5\""));
    let o = expect(&["copy", "dir:/a", "dir:/b", "--format"], 1);
    assert!(stderr(&o).contains("flag needs an argument: --format"));
}

#[test]
fn wrong_argument_counts() {
    // copy/sync/list-tags show the usage on stderr, then the error (exit 1; skopeo 1.9.3
    // exits 0 here, newer versions 1).
    let o = expect(&["copy"], 1);
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("Usage:\nferry copy [command options] SOURCE-IMAGE DESTINATION-IMAGE")
    );
    assert!(stderr(&o).ends_with("Error: Exactly two arguments expected\n"));
    let o = expect(&["list-tags"], 1);
    assert!(stderr(&o).ends_with("Error: Exactly one non-option argument expected\n"));
    let o = expect(&["inspect", "a", "b"], 1);
    assert_eq!(stderr(&o), "Error: Exactly one argument expected\n");
    let o = expect(&["delete"], 1);
    assert_eq!(stderr(&o), "Error: Usage: delete imageReference\n");
    let o = expect(&["manifest-digest"], 1);
    assert!(stderr(&o).contains("Usage: ferry manifest-digest manifest"));
    let o = expect(&["login"], 1);
    assert!(stderr(&o).contains("please provide a registry to login to"));
    let o = expect(&["logout", "a", "b"], 1);
    assert!(stderr(&o).contains("logout accepts only one registry to logout from"));
    let o = expect(&["experimental-image-proxy", "x"], 1);
    assert!(stderr(&o).contains("accepts 0 arg(s), received 1"));
}

#[test]
fn bool_flags_take_values_only_with_equals() {
    // `--all false`: like pflag, --all is set and "false" is a positional argument, so
    // copy sees three arguments.
    let o = expect(&["copy", "--all", "false", "dir:/a", "dir:/b"], 1);
    assert!(stderr(&o).ends_with("Error: Exactly two arguments expected\n"));
    // `--all=false`, `-a=true`, and bundled shorts are flags.
    for args in [
        vec!["copy", "--all=false", "nope:a", "dir:/b"],
        vec!["copy", "-a=true", "nope:a", "dir:/b"],
        vec!["copy", "-qa", "nope:a", "dir:/b"],
        vec!["copy", "nope:a", "dir:/b", "--all"],
    ] {
        let o = expect(&args, 1);
        assert_no_flag_error(&o);
        assert!(
            stderr(&o).contains("Invalid source name nope:a"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn registry_flags_parse() {
    let o = expect(
        &[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify",
            "--screds",
            "user:pass",
            "--dcreds=u2:p2",
            "--src-cert-dir",
            "/certs",
            "--dest-registry-token",
            "tok",
            "--authfile",
            "/auth.json",
            "--src-authfile=/src.json",
            "--dest-compress-format",
            "zstd",
            "--dest-compress-level",
            "3",
            "--retry-times",
            "0",
            "--retry-delay",
            "1s",
            "--image-parallel-copies",
            "2",
            "--multi-arch",
            "linux/amd64,linux/arm64",
            "nope:a",
            "dir:/b",
        ],
        1,
    );
    assert_no_flag_error(&o);
    assert!(
        stderr(&o).contains("Invalid source name nope:a"),
        "{}",
        stderr(&o)
    );
    // Global flags are accepted before and after the command (cobra persistent flags).
    for args in [
        vec![
            "--insecure-policy",
            "--override-arch",
            "arm64",
            "copy",
            "nope:a",
            "dir:/b",
        ],
        vec![
            "copy",
            "--insecure-policy",
            "--tmpdir",
            "/tmp",
            "nope:a",
            "dir:/b",
        ],
    ] {
        let o = expect(&args, 1);
        assert_no_flag_error(&o);
        assert!(stderr(&o).contains("Invalid source name nope:a"));
    }
}

#[test]
fn option_validation_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let src = format!("oci:{}/src:latest", tmp.path().display());
    let dst = format!("dir:{}/dst", tmp.path().display());
    let cases: &[(&[&str], &str)] = &[
        (
            &["--dest-compress-format", "lz4"],
            "cannot find compressor for \"lz4\"",
        ),
        (
            &["--src-creds", "a", "--src-no-creds"],
            "creds and no-creds cannot be specified at the same time",
        ),
        (
            &["--dest-username", "a"],
            "password must be specified when username is specified",
        ),
        (&["--src-creds", ""], "credentials can't be empty"),
        (
            &["--format", "v3"],
            "unknown format \"v3\". Choose one of the supported formats: 'oci', 'v2s1', or 'v2s2'",
        ),
        (
            &["--all", "--multi-arch", "all"],
            "Cannot use --all and --multi-arch flags together",
        ),
        (
            &["--multi-arch", "some"],
            "unknown multi-arch option \"some\"",
        ),
        (
            &["--additional-tag", "foo"],
            "additional-tag 'foo' must be a tagged reference",
        ),
    ];
    for (flags, msg) in cases {
        let mut args = vec!["--insecure-policy", "copy"];
        args.extend_from_slice(flags);
        args.push(&src);
        args.push(&dst);
        let o = expect(&args, 1);
        assert!(stderr(&o).contains(msg), "{flags:?}: {}", stderr(&o));
    }
    let o = expect(
        &["--policy", "/nonexistent/policy.json", "copy", &src, &dst],
        1,
    );
    assert!(
        stderr(&o).starts_with("Error: Error loading trust policy: "),
        "{}",
        stderr(&o)
    );
    let o = expect(
        &[
            "--insecure-policy",
            "--tls-verify=false",
            "copy",
            "nope:a",
            &dst,
        ],
        1,
    );
    assert!(stderr(&o).contains("'--tls-verify' is deprecated"));
}

#[test]
fn not_implemented_flags_fail_with_their_name() {
    let tmp = tempfile::tempdir().unwrap();
    let src = format!("oci:{}/src:latest", tmp.path().display());
    let dst = format!("dir:{}/dst", tmp.path().display());
    let o = expect(
        &["--insecure-policy", "copy", "--sign-by", "ABCD", &src, &dst],
        1,
    );
    assert_eq!(stderr(&o), "Error: --sign-by is not implemented yet\n");
    let o = expect(
        &[
            "--insecure-policy",
            "--command-timeout",
            "10s",
            "copy",
            &src,
            &dst,
        ],
        1,
    );
    assert_eq!(
        stderr(&o),
        "Error: --command-timeout is not implemented yet\n"
    );
    let o = expect(
        &[
            "--insecure-policy",
            "copy",
            "--encryption-key",
            "jwe:/k.pem",
            &src,
            &dst,
        ],
        1,
    );
    assert_eq!(
        stderr(&o),
        "Error: --encryption-key is not implemented yet\n"
    );
    // Nothing was created.
    assert!(!tmp.path().join("dst").exists());
}

#[test]
fn unimplemented_commands_parse_then_fail() {
    // sync is implemented (tests/sync_cli.rs); its argument checks still come first.
    let o = expect(
        &[
            "sync", "--src", "docker", "--dest", "ftp", "--scoped", "a", "b",
        ],
        1,
    );
    assert!(stderr(&o).contains("\"ftp\" is not a valid destination transport"));
    let o = expect(&["sync", "a", "b"], 1);
    assert!(stderr(&o).contains("A source transport must be specified"));
    // login/logout are implemented: tests/registry_auth.rs.
    let o = expect(&["generate-sigstore-key", "--output-prefix", "/tmp/k"], 1);
    assert_eq!(
        stderr(&o),
        "Error: generate-sigstore-key is not implemented yet\n"
    );
}

#[test]
fn manifest_digest_matches_skopeo() {
    let tmp = tempfile::tempdir().unwrap();
    let oci = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let (schema1, schema1_digest) = ferry_test::schema1::signed_manifest();
    let cases: Vec<(&str, Vec<u8>, Option<String>)> = vec![
        (
            "oci.json",
            oci.to_vec(),
            Some(ferry_test::sha256_bytes(oci)),
        ),
        ("schema1.json", schema1, Some(schema1_digest)),
        ("empty.json", b"{}\n".to_vec(), None),
    ];
    for (name, bytes, want) in cases {
        let path = tmp.path().join(name);
        fs_err::write(&path, &bytes).unwrap();
        let p = path.to_str().unwrap();
        let o = expect(&["manifest-digest", p], 0);
        let got = stdout(&o);
        if let Some(want) = want {
            let want = if want.starts_with("sha256:") {
                want
            } else {
                format!("sha256:{want}")
            };
            assert_eq!(got, format!("{want}\n"), "{name}");
        }
        if ferry_test::require_skopeo() {
            let s = Command::new(ferry_test::cmd::skopeo_path())
                .args(["manifest-digest", p])
                .output()
                .unwrap();
            assert_eq!(got, String::from_utf8_lossy(&s.stdout), "{name} vs skopeo");
        }
    }
    let o = expect(&["manifest-digest", "/nonexistent/m.json"], 1);
    assert!(stderr(&o).starts_with("Error: Error reading manifest from /nonexistent/m.json: "));
}

#[test]
fn completion_scripts() {
    for shell in ["bash", "zsh", "fish"] {
        let o = expect(&["completion", shell], 0);
        assert!(stdout(&o).contains("ferry"), "{shell}");
        assert!(stdout(&o).contains("list-tags"), "{shell}");
    }
    let o = expect(&["completion", "tcsh"], 1);
    assert!(stderr(&o).contains("unknown shell"));
}

#[test]
fn list_tags_errors_like_skopeo() {
    let o = expect(&["list-tags", "oci:/x"], 1);
    assert_eq!(
        stderr(&o),
        "Error: Unsupported transport 'oci' for tag listing. Only supported: docker, docker-archive\n"
    );
    let o = expect(&["list-tags", "foo"], 1);
    assert_eq!(
        stderr(&o),
        "Error: Invalid \"foo\": does not specify a transport\n"
    );
    let o = expect(&["list-tags", "docker://busybox:1"], 1);
    assert_eq!(stderr(&o), "Error: No tag or digest allowed in reference\n");
}

/// `inspect --format` and `list-tags` print what skopeo prints, on the standard fixtures.
#[test]
fn inspect_format_and_list_tags_match_skopeo() {
    use ferry_test::fixtures::Kind;
    use ferry_test::sources::{Sources, Transport, source_available};
    if !ferry_test::require_skopeo() {
        return;
    }
    // Templates skopeo 1.9.3 can evaluate (it has no `json`/`join` functions).
    let image_templates = [
        "{{.Digest}}",
        "{{.Name}}|{{.Tag}}|{{.DockerVersion}}|{{.RepoTags}}",
        "{{.Labels}} {{.Env}} {{.Created}}",
        "{{range $i, $l := .Layers}}{{$i}}={{$l}};{{end}}",
        "{{.Architecture}}/{{.Os}} {{len .Layers}} {{printf \"%q-%d\" .Os 7}}",
        "{{if .Labels}}labels{{else}}none{{end}} {{with .Env}}{{index . 0}}{{end}}",
        "{{.}}",
        "a\\tb\\n",
    ];
    let config_templates = [
        "{{.Architecture}} {{.OS}} {{.Created}}",
        "{{.Config.Env}} {{.Config.Cmd}} {{.Config.Labels}}",
        "{{.RootFS.Type}} {{.RootFS.DiffIDs}}",
        "{{range .History}}{{.CreatedBy}}|{{.EmptyLayer}};{{end}}",
        "{{.}}",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for kind in Kind::ALL {
        let sources = Sources::build(kind, &tmp.path().join(kind.name())).unwrap();
        for t in Transport::ALL {
            if !source_available(kind, t) {
                continue;
            }
            let image = sources.source(t).unwrap();
            let cases = image_templates.iter().map(|f| vec!["--format", f]).chain(
                config_templates
                    .iter()
                    .map(|f| vec!["--config", "--format", f]),
            );
            for args in cases {
                let mut full = vec!["inspect"];
                full.extend(&args);
                full.push(&image);
                let theirs = Command::new(ferry_test::cmd::skopeo_path())
                    .args(&full)
                    .output()
                    .unwrap();
                if !theirs.status.success() {
                    // skopeo 1.9.3 prints nothing for templates with tabs; skip those.
                    continue;
                }
                let ours = expect(&full, 0);
                if theirs.stdout.is_empty() {
                    continue;
                }
                assert_eq!(stdout(&ours), stdout(&theirs), "{full:?}");
                checked += 1;
            }
            if t == Transport::DockerArchive {
                let path = image.strip_prefix("docker-archive:").unwrap();
                let path = path.rsplit_once(':').map_or(path, |(p, _)| p);
                let arg = format!("docker-archive:{path}");
                let theirs = Command::new(ferry_test::cmd::skopeo_path())
                    .args(["list-tags", &arg])
                    .output()
                    .unwrap();
                let ours = expect(&["list-tags", &arg], 0);
                assert_eq!(stdout(&ours), stdout(&theirs), "list-tags {arg}");
                checked += 1;
            }
        }
    }
    assert!(checked > 20, "only {checked} comparisons ran");
}

#[test]
fn inspect_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let sources =
        ferry_test::sources::Sources::build(ferry_test::fixtures::Kind::Oci, tmp.path()).unwrap();
    let image = sources.source(ferry_test::sources::Transport::Oci).unwrap();
    let missing = format!("{}-nope", image);
    // A missing tag in an existing layout: skopeo's documented "image not found" status.
    let o = expect(&["inspect", &missing], 2);
    assert!(
        stderr(&o).starts_with("Error: Error parsing image name"),
        "{}",
        stderr(&o)
    );
    let o = expect(&["inspect", "--raw", "--format", "{{.Digest}}", &image], 1);
    assert_eq!(
        stderr(&o),
        "Error: raw output does not support format option\n"
    );
    let o = expect(&["inspect", "--format", "{{.Nope}}", &image], 1);
    assert!(
        stderr(&o).contains("can't evaluate field Nope in type inspect.Output"),
        "{}",
        stderr(&o)
    );
    let o = expect(
        &[
            "inspect",
            "--format",
            "{{json .Labels}}|{{join .Layers \",\"}}",
            &image,
        ],
        0,
    );
    assert!(stdout(&o).starts_with('{') && stdout(&o).ends_with("\n"));
}
