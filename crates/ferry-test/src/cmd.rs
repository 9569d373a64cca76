//! Running the tools under test: command builders for `ferry` and `skopeo`, and
//! [`run`], which fails the calling test with the command line, exit status, stdout and
//! stderr when a command does not succeed (or hangs past a timeout).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Where skopeo lives (`FERRY_TEST_SKOPEO` overrides).
pub fn skopeo_path() -> PathBuf {
    std::env::var_os("FERRY_TEST_SKOPEO")
        .map_or_else(|| PathBuf::from("/usr/bin/skopeo"), PathBuf::from)
}

/// `skopeo --insecure-policy` (no policy.json is needed for local transports).
pub fn skopeo() -> Command {
    let mut c = Command::new(skopeo_path());
    c.arg("--insecure-policy");
    c
}

/// `ferry --insecure-policy`; `bin` is `env!("CARGO_BIN_EXE_ferry")` in the caller.
pub fn ferry(bin: impl AsRef<Path>) -> Command {
    let mut c = Command::new(bin.as_ref());
    c.arg("--insecure-policy");
    c
}

/// Whether missing external tools (skopeo, docker-registry) may skip tests instead of
/// failing them: only when `FERRY_TEST_ALLOW_MISSING=1`. CI installs everything.
pub fn allow_missing() -> bool {
    std::env::var("FERRY_TEST_ALLOW_MISSING").is_ok_and(|v| v == "1")
}

/// Checks that an external tool exists. Returns `false` (after printing a notice) if
/// it is missing and `FERRY_TEST_ALLOW_MISSING=1`; fails the test if it is missing otherwise.
pub fn require_tool(what: &str, path: &Path) -> bool {
    if path.is_file() {
        return true;
    }
    if allow_missing() {
        eprintln!(
            "NOTICE: {what} not found at {}: test skipped (FERRY_TEST_ALLOW_MISSING=1)",
            path.display()
        );
        return false;
    }
    panic!(
        "{what} not found at {}: install the test dependencies (scripts/install-test-deps.sh) \
         or set FERRY_TEST_ALLOW_MISSING=1 to skip such tests",
        path.display()
    );
}

/// [`require_tool`] for skopeo.
pub fn require_skopeo() -> bool {
    require_tool("skopeo", &skopeo_path())
}

/// A shell-like rendering of a command line, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
            parts.push(format!("'{}'", a.replace('\'', r"'\''")));
        } else {
            parts.push(a.into_owned());
        }
    }
    parts.join(" ")
}

/// The per-command timeout: `FERRY_TEST_TIMEOUT` seconds, default 300.
fn timeout() -> Duration {
    let secs = std::env::var("FERRY_TEST_TIMEOUT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// Runs a command (stdin closed, stdout and stderr captured) and returns its output
/// whatever its exit status; fails the test only if it cannot start or times out.
pub fn run_unchecked(cmd: &mut Command) -> Output {
    let line = describe(cmd);
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start `{line}`: {e}"),
    };
    let out = child.stdout.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            v
        })
    });
    let err = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            v
        })
    });
    let deadline = Instant::now() + timeout();
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = err.and_then(|h| h.join().ok()).unwrap_or_default();
                panic!(
                    "`{line}` timed out after {:?}\n--- stderr ---\n{}",
                    timeout(),
                    String::from_utf8_lossy(&stderr)
                );
            }
            Err(e) => panic!("waiting for `{line}`: {e}"),
        }
    };
    Output {
        status,
        stdout: out.and_then(|h| h.join().ok()).unwrap_or_default(),
        stderr: err.and_then(|h| h.join().ok()).unwrap_or_default(),
    }
}

/// Formats a finished command for a failure message.
pub fn report(line: &str, out: &Output) -> String {
    const MAX: usize = 8000;
    let clip = |b: &[u8]| {
        let s = String::from_utf8_lossy(b);
        if s.len() > MAX {
            let mut cut = MAX;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}… ({} bytes)", &s[..cut], s.len())
        } else {
            s.into_owned()
        }
    };
    format!(
        "`{line}`\n  exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        clip(&out.stdout),
        clip(&out.stderr)
    )
}

/// Runs a command that must succeed; fails the test with its output otherwise.
pub fn run(cmd: &mut Command) -> Output {
    let line = describe(cmd);
    let out = run_unchecked(cmd);
    if !out.status.success() {
        panic!("command failed: {}", report(&line, &out));
    }
    out
}

/// Runs a command that must fail; returns its output (fails the test if it succeeds).
pub fn run_fail(cmd: &mut Command) -> Output {
    let line = describe(cmd);
    let out = run_unchecked(cmd);
    if out.status.success() {
        panic!("command unexpectedly succeeded: {}", report(&line, &out));
    }
    out
}

/// stdout as a (lossy) string.
pub fn stdout_str(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_captures_and_reports() {
        let out = run(Command::new("sh").args(["-c", "echo out; echo err >&2"]));
        assert_eq!(stdout_str(&out), "out\n");
        assert_eq!(out.stderr, b"err\n");
        let out = run_fail(Command::new("sh").args(["-c", "echo boom >&2; exit 3"]));
        assert_eq!(out.status.code(), Some(3));
        let r = report("x", &out);
        assert!(r.contains("boom") && r.contains("exit status: 3"), "{r}");
    }

    #[test]
    fn describe_quotes() {
        let mut c = Command::new("skopeo");
        c.args(["copy", "a b", "it's"]);
        assert_eq!(describe(&c), r"skopeo copy 'a b' 'it'\''s'");
    }

    #[test]
    fn failing_command_panics_with_stderr() {
        let r = std::panic::catch_unwind(|| {
            run(Command::new("sh").args(["-c", "echo SENTINEL >&2; exit 1"]))
        });
        let msg = r
            .err()
            .and_then(|e| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(
            msg.contains("SENTINEL") && msg.contains("command failed"),
            "{msg}"
        );
    }
}
