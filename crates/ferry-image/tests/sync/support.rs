//! Helpers for the sync tests: small images that share a base layer, pushed to real
//! registries; sync option presets; an event recorder; registry inspection over HTTP.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ferry_config::policy::PolicyContext;
use ferry_image::context::SystemContext;
use ferry_image::copy::{CopyOptions, NoReport, copy_image};
use ferry_image::sync::{SyncEvent, SyncOptions, SyncReport};
use ferry_image::transport::parse_image_name;
use ferry_test::image::{ImageSpec, write_image};
use ferry_test::layer::{Content, Entry, LayerSpec};
use ferry_test::layout::OciLayout;
use ferry_test::registry::http_request;
use ferry_test::{OrDie, Registry};

/// Plain-HTTP registry settings.
pub fn insecure() -> SystemContext {
    let mut c = SystemContext::default();
    c.docker.tls_verify = Some(false);
    c
}

pub fn opts() -> SyncOptions {
    SyncOptions::new(CopyOptions {
        src_ctx: insecure(),
        dest_ctx: insecure(),
        policy: PolicyContext::insecure_accept_anything(),
        ..CopyOptions::default()
    })
}

/// A small image: a base layer shared by every image with the same `base`, and a
/// layer of its own.
pub fn spec(base: u64, own: &str) -> ImageSpec {
    ImageSpec {
        layers: vec![
            LayerSpec::new(
                "ADD base /",
                vec![Entry::file(
                    "etc/base.txt",
                    Content::Text {
                        len: 20 * 1024,
                        seed: base,
                    },
                )],
            ),
            LayerSpec::new(
                "ADD own /",
                vec![Entry::file("etc/own.txt", Content::text(own))],
            ),
        ],
        ..ImageSpec::default()
    }
}

/// An OCI layout at `dir` with one image per `(tag, content)`, all on base `base`.
pub fn layout(dir: &Path, base: u64, tags: &[(&str, &str)]) -> OciLayout {
    let l = OciLayout::create(dir).or_die("creating layout");
    for (tag, own) in tags {
        let img = write_image(&l, &spec(base, own)).or_die("writing image");
        l.add_to_index(&img.manifest, Some(tag)).or_die("tagging");
    }
    l
}

/// Copies `oci:layout:tag` to `docker://host/repo:tag`.
pub fn push(layout: &Path, tag: &str, host: &str, repo: &str) {
    push_with(layout, tag, host, repo, insecure());
}

/// [`push`] with the destination settings `ctx`.
pub fn push_with(layout: &Path, tag: &str, host: &str, repo: &str, ctx: SystemContext) {
    let src = parse_image_name(&format!("oci:{}:{tag}", layout.display())).or_die("src ref");
    let dest = parse_image_name(&format!("docker://{host}/{repo}:{tag}")).or_die("dest ref");
    let mut o = opts();
    o.copy.dest_ctx = ctx;
    copy_image(&src, &dest, &o.copy, &NoReport).or_die("pushing a test image");
}

/// Pushes every `(tag, content)` as `host/repo:tag` (through a layout under `work`).
pub fn seed(work: &Path, name: &str, base: u64, tags: &[(&str, &str)], host: &str, repo: &str) {
    let l = layout(&work.join(name), base, tags);
    for (t, _) in tags {
        push(l.root(), t, host, repo);
    }
}

/// Records events.
#[derive(Default)]
pub struct Events(pub Mutex<Vec<SyncEvent>>);

impl SyncReport for Events {
    fn event(&self, e: &SyncEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e.clone());
        }
    }
}

impl Events {
    pub fn all(&self) -> Vec<SyncEvent> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
    /// `(from, to)` of every "Copying image ref" event, in order.
    pub fn copying(&self) -> Vec<(String, String)> {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                SyncEvent::Copying { from, to, .. } => Some((from, to)),
                _ => None,
            })
            .collect()
    }
    pub fn count(&self, f: impl Fn(&SyncEvent) -> bool) -> usize {
        self.all().iter().filter(|e| f(e)).count()
    }
}

/// The registry's tags of `repo`, sorted (empty if the repository does not exist).
pub fn tags(reg: &Registry, repo: &str) -> Vec<String> {
    let r = reg
        .get(&format!("/v2/{repo}/tags/list"))
        .or_die("tags/list");
    if r.status != 200 {
        return Vec::new();
    }
    let v: serde_json::Value = serde_json::from_slice(&r.body).or_die("tags json");
    let mut t: Vec<String> = v["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    t.sort();
    t
}

const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

/// The manifest digest of `repo:tag` (None if absent).
pub fn digest(reg: &Registry, repo: &str, tag: &str) -> Option<String> {
    let r = http_request(
        &reg.host(),
        "HEAD",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Accept", ACCEPT)],
        &[],
    )
    .or_die("HEAD manifest");
    (r.status == 200).then(|| {
        r.header("docker-content-digest")
            .unwrap_or_default()
            .to_string()
    })
}

/// `tag → digest` of every tag of `repo`.
pub fn tag_digests(reg: &Registry, repo: &str) -> Vec<(String, String)> {
    tags(reg, repo)
        .into_iter()
        .map(|t| {
            let d = digest(reg, repo, &t).or_die("digest of a listed tag");
            (t, d)
        })
        .collect()
}

/// Deletes `repo:tag`'s manifest at the registry.
pub fn delete_tag(reg: &Registry, repo: &str, tag: &str) {
    let d = digest(reg, repo, tag).or_die("digest to delete");
    let r = http_request(
        &reg.host(),
        "DELETE",
        &format!("/v2/{repo}/manifests/{d}"),
        &[],
        &[],
    )
    .or_die("DELETE manifest");
    assert_eq!(r.status, 202, "{}", reg.log());
}

/// Access-log request lines after `mark`: `"METHOD /path"`, without the pings.
pub fn requests(reg: &Registry, mark: usize) -> Vec<String> {
    reg.access_lines_since(mark, "")
        .iter()
        .filter_map(|l| {
            let start = l.find('"')? + 1;
            let rest = &l[start..];
            let end = rest.find(" HTTP/")?;
            Some(rest[..end].to_string())
        })
        .filter(|r| r != "GET /v2/")
        .collect()
}

/// Waits until the access log has settled (the registry logs after answering).
pub fn settle(reg: &Registry) -> usize {
    let mut last = reg.log_mark();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(150));
        let now = reg.log_mark();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// `manifest.json` digest of a `dir:` image.
pub fn dir_digest(p: &Path) -> String {
    let b = fs_err::read(p.join("manifest.json")).or_die("dir manifest");
    ferry_test::sha256_bytes(&b)
}

/// Sorted entry names of a directory.
pub fn names(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs_err::read_dir(p)
        .or_die("read_dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    v.sort();
    v
}

/// Runs `skopeo --insecure-policy sync ARGS`; `None` (after a note) without skopeo.
pub fn skopeo_sync(args: &[&str]) -> Option<std::process::Output> {
    if !ferry_test::require_skopeo() {
        return None;
    }
    let out = ferry_test::run_unchecked(ferry_test::skopeo().arg("sync").args(args));
    Some(out)
}

/// `(from, to)` of skopeo's `Copying image ref` log lines.
pub fn skopeo_copying(stderr: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains("msg=\"Copying image ref") || l.contains("msg=\"Would have copied"))
        .filter_map(|l| {
            let field = |k: &str| {
                let i = l.find(&format!("{k}=\""))? + k.len() + 2;
                let j = l[i..].find('"')?;
                Some(l[i..i + j].to_string())
            };
            Some((field("from")?, field("to")?))
        })
        .collect()
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ferry-sync-")
        .tempdir()
        .or_die("tempdir")
}

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A temporary directory whose path is lowercase (usable in registry names).
pub struct LowerTmp(PathBuf);

impl LowerTmp {
    pub fn new() -> LowerTmp {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let p = std::env::temp_dir().join(format!("ferry-sync-{}-{n}-{nanos}", std::process::id()));
        fs_err::create_dir_all(&p).or_die("creating a temp dir");
        LowerTmp(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for LowerTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The error with its causes, for failure messages.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut c = e.source();
    while let Some(x) = c {
        s.push_str(": ");
        s.push_str(&x.to_string());
        c = x.source();
    }
    s
}

/// Unwraps a sync result, failing the test with the whole error chain.
pub trait Ok<T> {
    fn ok_or_die(self, what: &str) -> T;
}

impl<T> Ok<T> for Result<T, ferry_image::sync::SyncError> {
    fn ok_or_die(self, what: &str) -> T {
        match self {
            Ok(v) => v,
            Err(e) => panic!("{what}: {}", chain(&e)),
        }
    }
}
