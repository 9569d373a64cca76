//! ferry's docker-archives loaded by REAL container engines: Debian's dockerd 20.10
//! (Docker Engine API over a private unix socket, `POST /images/load`) and podman 4.3
//! (`podman load`, vfs storage in a private root). Both the regular archive
//! (uncompressed layers) and the compact one (`--dest-compress`: layers kept gzip,
//! zstd sources recompressed to gzip) must load, and the engines must see the image's
//! DiffIDs.
//!
//! dockerd runs with the flags from the testbed notes (vfs, no iptables/bridge/ip
//! forwarding changes, its own data and exec roots under a short path) and is stopped
//! with SIGTERM (then its mounts and exec root are cleaned), never `kill -9` first: a
//! killed dockerd leaves a containerd pid file that breaks the next start.
//!
//! Missing binaries fail the tests, unless `FERRY_TEST_ALLOW_MISSING=1` (then they are
//! skipped with a notice).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(unused_imports)]
mod support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ferry_test::fixtures::Kind;
use ferry_test::sources::Transport;
use ferry_test::{require_tool, run};
use support::{ferry, source, sources};

const DOCKERD: &str = "/usr/sbin/dockerd";
const PODMAN: &str = "/usr/bin/podman";

/// One HTTP/1.0 request over a unix socket; returns (status, body).
fn http(
    sock: &Path,
    method: &str,
    path: &str,
    body: Option<&[u8]>,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: docker\r\n");
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/x-tar\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    if let Some(b) = body {
        s.write_all(b)?;
    }
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, resp[split + 4..].to_vec()))
}

/// A private dockerd, stopped (cleanly) when dropped.
struct Dockerd {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Dockerd {
    fn start() -> Option<Dockerd> {
        if !require_tool("dockerd (Debian package docker.io)", Path::new(DOCKERD)) {
            return None;
        }
        // Short: containerd's sockets live under the exec root and must stay < 104 bytes.
        let dir = tempfile::Builder::new()
            .prefix("fd")
            .tempdir_in("/tmp")
            .expect("dockerd dir");
        let d = dir.path();
        for sub in ["root", "exec"] {
            fs_err::create_dir_all(d.join(sub)).unwrap();
        }
        fs_err::write(d.join("daemon.json"), "{}").unwrap();
        let log = fs_err::File::create(d.join("dockerd.log")).unwrap();
        let child = Command::new(DOCKERD)
            .arg("--host")
            .arg(format!("unix://{}", d.join("d.sock").display()))
            .arg("--config-file")
            .arg(d.join("daemon.json"))
            .arg("--data-root")
            .arg(d.join("root"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .args([
                "--storage-driver",
                "vfs",
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--ip-forward=false",
                "--ip-masq=false",
                "--userland-proxy=false",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap().into_file()))
            .stderr(Stdio::from(log.into_file()))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {DOCKERD}: {e}"));
        let mut me = Dockerd {
            dir,
            child: Some(child),
        };
        let t0 = Instant::now();
        loop {
            if let Ok((200, _)) = http(&me.sock(), "GET", "/_ping", None) {
                return Some(me);
            }
            if let Some(c) = me.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                panic!("dockerd exited during startup ({status}):\n{}", me.log());
            }
            if t0.elapsed() > Duration::from_secs(60) {
                panic!("dockerd did not answer within 60 s:\n{}", me.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn sock(&self) -> PathBuf {
        self.dir.path().join("d.sock")
    }

    fn log(&self) -> String {
        fs_err::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// `POST /images/load`: returns the JSON stream (errors come back as HTTP 200 too).
    fn load(&self, archive: &Path) -> String {
        let body = fs_err::read(archive).unwrap();
        let (status, out) = http(&self.sock(), "POST", "/images/load?quiet=1", Some(&body))
            .unwrap_or_else(|e| panic!("POST /images/load: {e}"));
        let out = String::from_utf8_lossy(&out).into_owned();
        assert_eq!(status, 200, "docker load of {}: {out}", archive.display());
        assert!(
            !out.contains("errorDetail"),
            "docker load of {} failed: {out}",
            archive.display()
        );
        out
    }

    fn inspect(&self, name: &str) -> serde_json::Value {
        let (status, body) =
            http(&self.sock(), "GET", &format!("/images/{name}/json"), None).unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SIGTERM by pid (dockerd then stops its containerd and unmounts its data root).
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Ok(None) = child.try_wait() {
            eprintln!("dockerd ignored SIGTERM for 20 s: killing it");
            let _ = child.kill();
            let _ = child.wait();
        }
        // Leftovers of an unclean stop: mounts under our dir, a stale containerd pid file.
        let base = self.dir.path().to_string_lossy().into_owned();
        let mounts = fs_err::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut points: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .filter(|p| p.starts_with(&base))
            .collect();
        points.sort_unstable_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = Command::new("umount").arg(p).status();
        }
        let _ = fs_err::remove_dir_all(self.dir.path().join("exec"));
    }
}

/// `podman` with a private vfs store.
struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    fn new() -> Option<Podman> {
        if !require_tool("podman", Path::new(PODMAN)) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("fp")
            .tempdir_in("/tmp")
            .expect("podman dir");
        Some(Podman { dir })
    }

    fn cmd(&self) -> Command {
        let d = self.dir.path();
        let mut c = Command::new(PODMAN);
        c.arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("run"))
            .arg("--tmpdir")
            .arg(d.join("tmp"))
            .args([
                "--storage-driver",
                "vfs",
                "--cgroup-manager",
                "cgroupfs",
                "--events-backend",
                "file",
            ])
            .env("TMPDIR", d);
        c
    }

    fn load(&self, archive: &Path) -> String {
        let out = run(self.cmd().arg("load").arg("-i").arg(archive));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn diff_ids(&self, name: &str) -> Vec<String> {
        let out = run(self.cmd().args([
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            name,
        ]));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

struct Archives {
    _tmp: tempfile::TempDir,
    want_diff_ids: Vec<String>,
    config: String,
    plain: PathBuf,
    compact: PathBuf,
    compact_from_zstd: PathBuf,
}

/// The `oci` fixture as a regular docker-archive, a compact one, and a compact one made
/// from a zstd copy of it.
fn archives() -> Archives {
    let tmp = support::scratch();
    let s = sources(Kind::Oci, tmp.path());
    let img = s.fixture.host_image();
    let src = source(&s, Transport::Oci);
    let plain = tmp.path().join("plain.tar");
    let compact = tmp.path().join("compact.tar");
    let zstd = tmp.path().join("zstd");
    let compact_from_zstd = tmp.path().join("compact-zstd.tar");
    run(ferry().args([
        "copy",
        "-q",
        &src,
        &format!("docker-archive:{}:ferry-test/plain:1", plain.display()),
    ]));
    run(ferry().args([
        "copy",
        "-q",
        "--dest-compress",
        &src,
        &format!("docker-archive:{}:ferry-test/compact:1", compact.display()),
    ]));
    run(ferry().args([
        "copy",
        "-q",
        "--dest-compress-format",
        "zstd",
        &src,
        &format!("oci:{}:z", zstd.display()),
    ]));
    run(ferry().args([
        "copy",
        "-q",
        "--dest-compress",
        &format!("oci:{}:z", zstd.display()),
        &format!(
            "docker-archive:{}:ferry-test/compact-zstd:1",
            compact_from_zstd.display()
        ),
    ]));
    // The compact archives really hold compressed layers (gzip magic), the plain one not.
    for (path, gzip) in [
        (&plain, false),
        (&compact, true),
        (&compact_from_zstd, true),
    ] {
        let members = ferry_test::archive::members(path).unwrap();
        let layers: Vec<&String> = members
            .keys()
            .filter(|n| n.ends_with(".tar") && !n.contains('/'))
            .collect();
        assert_eq!(layers.len(), img.layers.len(), "{}", path.display());
        for l in layers {
            let head = ferry_test::archive::read_member(path, l).unwrap();
            assert_eq!(
                head.starts_with(&[0x1f, 0x8b]),
                gzip,
                "{}: member {l}",
                path.display()
            );
        }
    }
    Archives {
        want_diff_ids: img.diff_ids(),
        config: img.config.digest.clone(),
        plain,
        compact,
        compact_from_zstd,
        _tmp: tmp,
    }
}

#[test]
fn dockerd_loads_regular_and_compact_archives() {
    let Some(docker) = Dockerd::start() else {
        return;
    };
    let a = archives();
    for (archive, name) in [
        (&a.plain, "ferry-test/plain:1"),
        (&a.compact, "ferry-test/compact:1"),
        (&a.compact_from_zstd, "ferry-test/compact-zstd:1"),
    ] {
        let out = docker.load(archive);
        assert!(out.contains(&format!("Loaded image: {name}")), "{out}");
        let info = docker.inspect(name);
        assert_eq!(info["Id"], a.config.as_str(), "{name}");
        let layers: Vec<String> = serde_json::from_value(info["RootFS"]["Layers"].clone()).unwrap();
        assert_eq!(layers, a.want_diff_ids, "{name}: DiffIDs seen by dockerd");
    }
}

#[test]
fn podman_loads_regular_and_compact_archives() {
    let Some(podman) = Podman::new() else {
        return;
    };
    let a = archives();
    for (archive, name) in [
        (&a.plain, "ferry-test/plain:1"),
        (&a.compact, "ferry-test/compact:1"),
        (&a.compact_from_zstd, "ferry-test/compact-zstd:1"),
    ] {
        let out = podman.load(archive);
        assert!(out.contains(&format!("docker.io/{name}")), "{out}");
        assert_eq!(
            podman.diff_ids(name),
            a.want_diff_ids,
            "{name}: DiffIDs seen by podman"
        );
    }
}
